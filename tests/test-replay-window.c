/* test-replay-window.c — the sliding window over transport counters
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ep-core.h"

static void
test_replay_window_basics (void)
{
  EpReplayWindow w;

  ep_replay_window_init (&w);
  g_assert_cmpint (ep_replay_window_update (&w, 0), ==, EP_REPLAY_NEW);
  g_assert_cmpint (ep_replay_window_update (&w, 0), ==, EP_REPLAY_DUPLICATE);
  g_assert_cmpint (ep_replay_window_update (&w, 5), ==, EP_REPLAY_NEW);
  g_assert_cmpint (ep_replay_window_update (&w, 3), ==, EP_REPLAY_NEW);
  g_assert_cmpint (ep_replay_window_update (&w, 3), ==, EP_REPLAY_DUPLICATE);
  g_assert_cmpint (ep_replay_window_update (&w, 4), ==, EP_REPLAY_NEW);
  g_assert_cmpint (ep_replay_window_update (&w, 5000), ==, EP_REPLAY_NEW);
  g_assert_cmpint (ep_replay_window_check (&w, 5000 - EP_REPLAY_WINDOW_SIZE), ==, EP_REPLAY_TOO_OLD);
  g_assert_cmpint (ep_replay_window_check (&w, 5001 - EP_REPLAY_WINDOW_SIZE), ==, EP_REPLAY_NEW);
  g_assert_cmpint (ep_replay_window_check (&w, 5), ==, EP_REPLAY_TOO_OLD);
  g_assert_cmpint (ep_replay_window_update (&w, 4999), ==, EP_REPLAY_NEW);
  g_assert_cmpint (ep_replay_window_check (&w, 4999), ==, EP_REPLAY_DUPLICATE);
  /* A jump far ahead clears the whole window. */
  g_assert_cmpint (ep_replay_window_update (&w, 1000000), ==, EP_REPLAY_NEW);
  g_assert_cmpint (ep_replay_window_check (&w, 999999), ==, EP_REPLAY_NEW);
  g_assert_cmpint (ep_replay_window_check (&w, 1000000 - 64), ==, EP_REPLAY_NEW);
  g_assert_cmpint (ep_replay_window_check (&w, G_MAXUINT64), ==, EP_REPLAY_TOO_OLD);

  /* Every counter in a shuffled window is accepted once. */
  ep_replay_window_init (&w);
  for (guint64 i = 0; i < 20000; i++)
    {
      guint64 c = i ^ 0xff;
      g_assert_cmpint (ep_replay_window_update (&w, c), ==, EP_REPLAY_NEW);
      g_assert_cmpint (ep_replay_window_update (&w, c), ==, EP_REPLAY_DUPLICATE);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/replay-window/basics", test_replay_window_basics);

  return g_test_run ();
}
