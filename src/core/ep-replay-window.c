/* ep-replay-window.c — a sliding window over received message counters
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "ep-replay-window.h"

void
ep_replay_window_init (EpReplayWindow *window)
{
  memset (window, 0, sizeof *window);
}

/**
 * ep_replay_window_check:
 *
 * Whether @counter would be accepted, without recording it.
 */
EpReplayVerdict
ep_replay_window_check (const EpReplayWindow *window,
                        guint64               counter)
{
  guint64 c;

  /* Counters are stored one-based so that 0 means "nothing seen". */
  if (counter == G_MAXUINT64)
    return EP_REPLAY_TOO_OLD;
  c = counter + 1;

  if (c > window->top)
    return EP_REPLAY_NEW;
  if (window->top - c >= EP_REPLAY_WINDOW_SIZE)
    return EP_REPLAY_TOO_OLD;
  if (window->bits[(c / 64) % EP_REPLAY_WINDOW_WORDS] & (G_GUINT64_CONSTANT (1) << (c % 64)))
    return EP_REPLAY_DUPLICATE;
  return EP_REPLAY_NEW;
}

/**
 * ep_replay_window_update:
 *
 * Records @counter if it is new.
 *
 * Returns: the verdict before recording
 */
EpReplayVerdict
ep_replay_window_update (EpReplayWindow *window,
                         guint64         counter)
{
  EpReplayVerdict verdict = ep_replay_window_check (window, counter);
  guint64 c = counter + 1;

  if (verdict != EP_REPLAY_NEW)
    return verdict;

  if (c > window->top)
    {
      guint64 current = window->top / 64;
      guint64 target = c / 64;
      guint64 n = MIN (target - current, (guint64) EP_REPLAY_WINDOW_WORDS);

      /* Words the window slides over start empty. */
      for (guint64 i = 1; i <= n; i++)
        window->bits[(current + i) % EP_REPLAY_WINDOW_WORDS] = 0;
      window->top = c;
    }

  window->bits[(c / 64) % EP_REPLAY_WINDOW_WORDS] |= G_GUINT64_CONSTANT (1) << (c % 64);
  return EP_REPLAY_NEW;
}
