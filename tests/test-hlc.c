/* test-hlc.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ep-core.h"

typedef struct
{
  gint64 now;
  guint  calls;
} FakeClock;

static gint64
fake_clock (gpointer user_data)
{
  FakeClock *clock = user_data;

  clock->calls++;
  return clock->now;
}

static gint64
next_ok (EpHlc *hlc)
{
  g_autoptr(GError) error = NULL;
  gint64 seq = 0;

  g_assert_true (ep_hlc_next (hlc, &seq, &error));
  g_assert_no_error (error);
  return seq;
}

static void
test_hlc_follows_clock (void)
{
  FakeClock clock = { 1700000000000000, 0 };
  EpHlc hlc;

  ep_hlc_init (&hlc, 0, fake_clock, &clock);
  g_assert_cmpint (next_ok (&hlc), ==, 1700000000000000);
  clock.now += 5000000;
  g_assert_cmpint (next_ok (&hlc), ==, 1700000005000000);
  g_assert_cmpint (ep_hlc_get_last (&hlc), ==, 1700000005000000);
  g_assert_cmpuint (clock.calls, ==, 2);
}

static void
test_hlc_equal_timestamps (void)
{
  FakeClock clock = { 1700000000000000, 0 };
  EpHlc hlc;

  ep_hlc_init (&hlc, 0, fake_clock, &clock);
  /* A clock that does not move: still strictly increasing. */
  g_assert_cmpint (next_ok (&hlc), ==, 1700000000000000);
  g_assert_cmpint (next_ok (&hlc), ==, 1700000000000001);
  g_assert_cmpint (next_ok (&hlc), ==, 1700000000000002);
  /* The clock catches up and is followed again. */
  clock.now = 1700000000000010;
  g_assert_cmpint (next_ok (&hlc), ==, 1700000000000010);
}

static void
test_hlc_clock_goes_back (void)
{
  FakeClock clock = { 1700000000000000, 0 };
  EpHlc hlc;
  gint64 previous;

  ep_hlc_init (&hlc, 0, fake_clock, &clock);
  previous = next_ok (&hlc);
  /* One hour back (NTP step), then a day back, then to 1970. */
  clock.now -= G_GINT64_CONSTANT (3600000000);
  for (guint i = 0; i < 3; i++)
    {
      gint64 seq = next_ok (&hlc);

      g_assert_cmpint (seq, ==, previous + 1);
      previous = seq;
      clock.now -= G_GINT64_CONSTANT (86400000000);
    }
  clock.now = -1;
  g_assert_cmpint (next_ok (&hlc), ==, previous + 1);
}

static void
test_hlc_persistence (void)
{
  FakeClock clock = { 1700000000000000, 0 };
  g_autoptr(GKeyFile) saved = g_key_file_new ();
  g_autoptr(GKeyFile) loaded = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  EpHlc hlc, restarted;
  gint64 last_seq = 0;
  gint64 persisted;

  ep_hlc_init (&hlc, 0, fake_clock, &clock);
  for (guint i = 0; i < 5; i++)
    last_seq = next_ok (&hlc);
  g_assert_cmpint (ep_hlc_get_last (&hlc), ==, last_seq);

  g_key_file_set_int64 (saved, "presence", "seq", ep_hlc_get_last (&hlc));
  data = g_key_file_to_data (saved, NULL, NULL);
  g_assert_true (g_key_file_load_from_data (loaded, data, -1, G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);
  persisted = g_key_file_get_int64 (loaded, "presence", "seq", &error);
  g_assert_no_error (error);

  /* After the restart the wall clock is an hour behind: seq still grows. */
  clock.now -= G_GINT64_CONSTANT (3600000000);
  ep_hlc_init (&restarted, persisted, fake_clock, &clock);
  g_assert_cmpint (next_ok (&restarted), ==, last_seq + 1);

  /* A negative persisted value (damaged) counts as 0: seq stays positive. */
  clock.now = -100;
  ep_hlc_init (&restarted, -42, fake_clock, &clock);
  g_assert_cmpint (next_ok (&restarted), ==, 1);
}

static void
test_hlc_observe (void)
{
  FakeClock clock = { 1000, 0 };
  EpHlc hlc;

  ep_hlc_init (&hlc, 0, fake_clock, &clock);
  ep_hlc_observe (&hlc, 5000);
  g_assert_cmpint (next_ok (&hlc), ==, 5001);
  ep_hlc_observe (&hlc, 10);   /* never lowers */
  g_assert_cmpint (next_ok (&hlc), ==, 5002);
}

static void
test_hlc_int64_max (void)
{
  FakeClock clock = { 1700000000000000, 0 };
  g_autoptr(GError) error = NULL;
  EpHlc hlc;
  gint64 seq = 7;

  ep_hlc_init (&hlc, G_MAXINT64 - 1, fake_clock, &clock);
  g_assert_cmpint (next_ok (&hlc), ==, G_MAXINT64);
  g_assert_false (ep_hlc_next (&hlc, &seq, &error));
  g_assert_error (error, EP_HLC_ERROR, EP_HLC_ERROR_EXHAUSTED);
  g_assert_cmpint (seq, ==, 7);
  g_assert_cmpint (ep_hlc_get_last (&hlc), ==, G_MAXINT64);
  g_clear_error (&error);

  /* A clock that jumps to the end is followed once, then refused. */
  clock.now = G_MAXINT64;
  ep_hlc_init (&hlc, 5, fake_clock, &clock);
  g_assert_cmpint (next_ok (&hlc), ==, G_MAXINT64);
  g_assert_false (ep_hlc_next (&hlc, &seq, &error));
  g_assert_error (error, EP_HLC_ERROR, EP_HLC_ERROR_EXHAUSTED);
}

static void
test_hlc_real_clock (void)
{
  EpHlc hlc;
  gint64 before = g_get_real_time ();
  gint64 seq;

  ep_hlc_init (&hlc, 0, NULL, NULL);
  seq = next_ok (&hlc);
  g_assert_cmpint (seq, >=, before);
  g_assert_cmpint (seq, <=, g_get_real_time ());
  g_assert_cmpint (next_ok (&hlc), >, seq);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/hlc/follows-clock", test_hlc_follows_clock);
  g_test_add_func ("/ep/hlc/equal-timestamps", test_hlc_equal_timestamps);
  g_test_add_func ("/ep/hlc/clock-goes-back", test_hlc_clock_goes_back);
  g_test_add_func ("/ep/hlc/persistence", test_hlc_persistence);
  g_test_add_func ("/ep/hlc/observe", test_hlc_observe);
  g_test_add_func ("/ep/hlc/int64-max", test_hlc_int64_max);
  g_test_add_func ("/ep/hlc/real-clock", test_hlc_real_clock);

  return g_test_run ();
}
