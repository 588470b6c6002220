/* ep-replay-window.h — a sliding window over received message counters
 *
 * WireGuard's anti-replay window (RFC 6479's idea): a ring of 2048 bits
 * behind the highest counter seen. A counter is new if it is above the
 * highest one, or inside the window and not yet seen. Check before
 * decrypting, update only after the packet authenticated.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EP_REPLAY_WINDOW_BITS  2048
#define EP_REPLAY_WINDOW_WORDS (EP_REPLAY_WINDOW_BITS / 64)
/* How far behind the highest counter a packet may still arrive. */
#define EP_REPLAY_WINDOW_SIZE  (EP_REPLAY_WINDOW_BITS - 64)

typedef enum
{
  EP_REPLAY_NEW,
  EP_REPLAY_DUPLICATE,
  EP_REPLAY_TOO_OLD,
} EpReplayVerdict;

typedef struct
{
  guint64 top;                               /* highest counter seen, plus one */
  guint64 bits[EP_REPLAY_WINDOW_WORDS];
} EpReplayWindow;

void            ep_replay_window_init   (EpReplayWindow *window);
EpReplayVerdict ep_replay_window_check  (const EpReplayWindow *window,
                                         guint64         counter);
EpReplayVerdict ep_replay_window_update (EpReplayWindow *window,
                                         guint64         counter);

G_END_DECLS
