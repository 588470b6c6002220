/* test-rate-limit.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ep-core.h"

#define SEC ((gint64) G_USEC_PER_SEC)

static void
test_rate_limit_burst (void)
{
  g_autoptr(EpRateLimit) limit = ep_rate_limit_new (2.0, 5.0, 16);
  gint64 now = 1000 * SEC;

  for (guint i = 0; i < 5; i++)
    g_assert_true (ep_rate_limit_allow (limit, "a", 1, now));
  g_assert_false (ep_rate_limit_allow (limit, "a", 1, now));
  g_assert_false (ep_rate_limit_allow (limit, "a", 1, now));

  /* Another key has its own bucket. */
  g_assert_true (ep_rate_limit_allow (limit, "b", 1, now));
  /* Keys are compared by their bytes and length. */
  g_assert_true (ep_rate_limit_allow (limit, "ab", 2, now));
  g_assert_true (ep_rate_limit_allow (limit, "a\0", 2, now));
  g_assert_cmpuint (ep_rate_limit_size (limit), ==, 4);
}

static void
test_rate_limit_refill (void)
{
  g_autoptr(EpRateLimit) limit = ep_rate_limit_new (2.0, 4.0, 16);
  gint64 now = 0;

  for (guint i = 0; i < 4; i++)
    g_assert_true (ep_rate_limit_allow (limit, "k", 1, now));
  g_assert_false (ep_rate_limit_allow (limit, "k", 1, now));

  /* 2 per second: after 0.4 s still nothing, after 0.5 s one token. */
  now += 400 * 1000;
  g_assert_false (ep_rate_limit_allow (limit, "k", 1, now));
  now += 100 * 1000;
  g_assert_true (ep_rate_limit_allow (limit, "k", 1, now));
  g_assert_false (ep_rate_limit_allow (limit, "k", 1, now));

  /* A long pause refills up to the burst, not beyond. */
  now += 3600 * SEC;
  for (guint i = 0; i < 4; i++)
    g_assert_true (ep_rate_limit_allow (limit, "k", 1, now));
  g_assert_false (ep_rate_limit_allow (limit, "k", 1, now));

  /* A clock going back refills nothing. */
  g_assert_false (ep_rate_limit_allow (limit, "k", 1, now - 10 * SEC));
  g_assert_false (ep_rate_limit_allow (limit, "k", 1, now));

  /* Sustained rate: 2 per second over 10 s, queried 10 times a second. */
  {
    guint allowed = 0;
    for (guint i = 1; i <= 100; i++)
      allowed += ep_rate_limit_allow (limit, "k", 1, now + i * SEC / 10);
    g_assert_cmpuint (allowed, ==, 20);
  }
}

static void
test_rate_limit_lru (void)
{
  g_autoptr(EpRateLimit) limit = ep_rate_limit_new (0.0, 1.0, 3);

  g_assert_true (ep_rate_limit_allow (limit, "A", 1, 0));
  g_assert_true (ep_rate_limit_allow (limit, "B", 1, 1));
  g_assert_true (ep_rate_limit_allow (limit, "C", 1, 2));
  /* A is seen again (and refused): now B is the least recently seen. */
  g_assert_false (ep_rate_limit_allow (limit, "A", 1, 3));
  g_assert_true (ep_rate_limit_allow (limit, "D", 1, 4));
  g_assert_cmpuint (ep_rate_limit_size (limit), ==, 3);
  g_assert_false (ep_rate_limit_allow (limit, "A", 1, 5));
  g_assert_false (ep_rate_limit_allow (limit, "C", 1, 6));
  g_assert_false (ep_rate_limit_allow (limit, "D", 1, 7));
  /* B was forgotten and starts over with a full bucket (evicting A). */
  g_assert_true (ep_rate_limit_allow (limit, "B", 1, 8));
  g_assert_true (ep_rate_limit_allow (limit, "A", 1, 9));
  g_assert_cmpuint (ep_rate_limit_size (limit), ==, 3);
}

static void
test_rate_limit_bounded (void)
{
  g_autoptr(EpRateLimit) limit = ep_rate_limit_new (1.0, 3.0, 1000);
  guint8 victim[4] = { 192, 0, 2, 1 };

  for (guint i = 0; i < 3; i++)
    g_assert_true (ep_rate_limit_allow (limit, victim, sizeof victim, 0));
  g_assert_false (ep_rate_limit_allow (limit, victim, sizeof victim, 0));

  /* 100 000 spoofed sources, each let through once, memory bounded. */
  for (guint32 i = 0; i < 100000; i++)
    {
      guint8 key[4] = { 10, i >> 16, i >> 8, i };

      g_assert_true (ep_rate_limit_allow (limit, key, sizeof key, 1));
      g_assert_cmpuint (ep_rate_limit_size (limit), <=, 1000);
    }
  g_assert_cmpuint (ep_rate_limit_size (limit), ==, 1000);

  /* The newest are tracked (and now refused twice more), the oldest are not. */
  {
    guint8 recent[4] = { 10, 99999 >> 16, (99999 >> 8) & 0xff, 99999 & 0xff };

    g_assert_true (ep_rate_limit_allow (limit, recent, sizeof recent, 1));
    g_assert_true (ep_rate_limit_allow (limit, recent, sizeof recent, 1));
    g_assert_false (ep_rate_limit_allow (limit, recent, sizeof recent, 1));
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/rate-limit/burst", test_rate_limit_burst);
  g_test_add_func ("/ep/rate-limit/refill", test_rate_limit_refill);
  g_test_add_func ("/ep/rate-limit/lru", test_rate_limit_lru);
  g_test_add_func ("/ep/rate-limit/bounded", test_rate_limit_bounded);

  return g_test_run ();
}
