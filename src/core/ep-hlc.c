/* ep-hlc.c — hybrid logical clock for presence record sequence numbers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "ep-hlc.h"

G_DEFINE_QUARK (ep-hlc-error-quark, ep_hlc_error)

static gint64
real_time_clock (gpointer user_data)
{
  return g_get_real_time ();
}

/**
 * ep_hlc_init:
 * @hlc: the clock to set up
 * @last: the value persisted from the previous run, or 0
 * @clock: (nullable) (scope forever): the time source, %NULL for the wall clock
 * @clock_data: data for @clock
 */
void
ep_hlc_init (EpHlc          *hlc,
             gint64          last,
             EpHlcClockFunc  clock,
             gpointer        clock_data)
{
  g_return_if_fail (hlc != NULL);

  hlc->last = MAX (last, 0);
  hlc->clock = clock != NULL ? clock : real_time_clock;
  hlc->clock_data = clock != NULL ? clock_data : NULL;
}

/**
 * ep_hlc_next:
 * @hlc: the clock
 * @out: (out): the next sequence number, strictly above every earlier one
 * @error: return location for a #GError
 *
 * Returns: %FALSE with %EP_HLC_ERROR_EXHAUSTED once INT64_MAX was reached
 */
gboolean
ep_hlc_next (EpHlc   *hlc,
             gint64  *out,
             GError **error)
{
  gint64 now;
  gint64 next;

  g_return_val_if_fail (hlc != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (hlc->last == G_MAXINT64)
    {
      g_set_error_literal (error, EP_HLC_ERROR, EP_HLC_ERROR_EXHAUSTED,
                           _("The presence sequence number has reached its largest possible "
                             "value; create a new identity to publish again."));
      return FALSE;
    }

  now = hlc->clock (hlc->clock_data);
  next = MAX (hlc->last + 1, now);
  hlc->last = next;
  *out = next;
  return TRUE;
}

/**
 * ep_hlc_get_last:
 * @hlc: the clock
 *
 * Returns: the value to persist
 */
gint64
ep_hlc_get_last (const EpHlc *hlc)
{
  g_return_val_if_fail (hlc != NULL, 0);

  return hlc->last;
}

/**
 * ep_hlc_observe:
 * @hlc: the clock
 * @seen: a sequence number already used for our key
 *
 * Makes sure the next value is above @seen. Never lowers the clock.
 */
void
ep_hlc_observe (EpHlc  *hlc,
                gint64  seen)
{
  g_return_if_fail (hlc != NULL);

  if (seen > hlc->last)
    hlc->last = seen;
}
