/* ep-hlc.h — hybrid logical clock for presence record sequence numbers
 *
 * BEP 44 storing nodes refuse a mutable item whose seq is not above the one
 * they hold, and readers drop records whose seq went down. Our seq is
 *
 *   next = max (last + 1, now in µs since the Unix epoch)
 *
 * so it follows the wall clock while that moves forward and keeps growing by
 * one when the clock stands still or goes back (NTP step, a wrong clock
 * fixed by hand). `last` must be persisted by the caller across restarts:
 * EpHlc is a small plain struct with no I/O; store ep_hlc_get_last() after
 * each ep_hlc_next() and give it back to ep_hlc_init() on the next start.
 * A value seen on the network for our own key can be fed to
 * ep_hlc_observe() (e.g. after restoring an old profile backup).
 *
 * Sequence numbers are always ≥ 1. At INT64_MAX the clock is exhausted:
 * ep_hlc_next() fails with %EP_HLC_ERROR_EXHAUSTED and never wraps around
 * (a wrapped, negative seq would be refused by every node forever).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EP_HLC_ERROR (ep_hlc_error_quark ())

typedef enum
{
  EP_HLC_ERROR_EXHAUSTED,   /* last == INT64_MAX: no larger value exists */
} EpHlcError;

/* Returns the current time in microseconds since the Unix epoch. */
typedef gint64 (*EpHlcClockFunc) (gpointer user_data);

typedef struct
{
  gint64          last;        /* largest value handed out or observed; ≥ 0 */
  EpHlcClockFunc  clock;
  gpointer        clock_data;
} EpHlc;

GQuark   ep_hlc_error_quark  (void);

/* @clock: (nullable): %NULL for g_get_real_time(). A negative @last counts as 0. */
void     ep_hlc_init         (EpHlc           *hlc,
                              gint64           last,
                              EpHlcClockFunc   clock,
                              gpointer         clock_data);
gboolean ep_hlc_next         (EpHlc           *hlc,
                              gint64          *out,
                              GError         **error);
gint64   ep_hlc_get_last     (const EpHlc     *hlc);
void     ep_hlc_observe      (EpHlc           *hlc,
                              gint64           seen);

G_END_DECLS
