/* test-fragment.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "ep-core.h"

static GBytes *
fragment (guint32       id,
          guint         index,
          guint         count,
          const char   *chunk)
{
  gsize n = strlen (chunk);
  guint8 *out = g_malloc (EP_FRAGMENT_HEADER_SIZE + n);

  out[0] = EP_FRAGMENT_MARKER;
  out[1] = id >> 24;
  out[2] = id >> 16;
  out[3] = id >> 8;
  out[4] = id;
  out[5] = index >> 8;
  out[6] = index;
  out[7] = count >> 8;
  out[8] = count;
  memcpy (out + EP_FRAGMENT_HEADER_SIZE, chunk, n);
  return g_bytes_new_take (out, EP_FRAGMENT_HEADER_SIZE + n);
}

static EpFragmentResult
push (EpFragmentAssembler *assembler,
      GBytes              *payload,
      gint64               now,
      GBytes             **whole)
{
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (payload, &len);
  EpFragmentResult r = ep_fragment_assembler_push (assembler, data, len, now, whole, &error);

  if (r == EP_FRAGMENT_RESULT_REJECTED)
    g_assert_error (error, EP_FRAGMENT_ERROR, error->code);
  else
    g_assert_no_error (error);
  return r;
}

static EpFragmentResult
push_frag (EpFragmentAssembler *assembler,
           guint32              id,
           guint                index,
           guint                count,
           const char          *chunk,
           GBytes             **whole)
{
  g_autoptr(GBytes) payload = fragment (id, index, count, chunk);

  return push (assembler, payload, 0, whole);
}

static void
test_fragment_split_reassemble (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpFragmentAssembler) assembler = ep_fragment_assembler_new (0, 0, 0);
  g_autoptr(GBytes) frame = g_bytes_new_static ("{\"abcdefghijklmnopqrstuvwxyz\"}", 30);
  g_autoptr(GPtrArray) parts = ep_fragment_split (frame, 5, EP_FRAGMENT_HEADER_SIZE + 4, &error);
  g_autoptr(GBytes) whole = NULL;
  guint order[] = { 7, 0, 3, 3, 1, 6, 0, 2, 4, 5 };

  g_assert_no_error (error);
  g_assert_cmpuint (parts->len, ==, 8);   /* 30 bytes in chunks of 4 */

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      EpFragmentResult r = push (assembler, parts->pdata[order[i]], 0, &whole);

      if (i == 3 || i == 6)
        g_assert_cmpint (r, ==, EP_FRAGMENT_RESULT_DUPLICATE);
      else if (i + 1 < G_N_ELEMENTS (order))
        g_assert_cmpint (r, ==, EP_FRAGMENT_RESULT_PENDING);
      else
        g_assert_cmpint (r, ==, EP_FRAGMENT_RESULT_COMPLETE);
    }
  g_assert_true (g_bytes_equal (whole, frame));
  g_assert_cmpuint (ep_fragment_assembler_get_n_partials (assembler), ==, 0);
  g_assert_cmpuint (ep_fragment_assembler_get_counters (assembler)->completed, ==, 1);
  g_assert_cmpuint (ep_fragment_assembler_get_counters (assembler)->duplicates, ==, 2);

  /* A retransmitted fragment of a finished frame starts nothing. */
  g_clear_pointer (&whole, g_bytes_unref);
  g_assert_cmpint (push (assembler, parts->pdata[2], 0, &whole), ==, EP_FRAGMENT_RESULT_DUPLICATE);
  g_assert_null (whole);
  g_assert_cmpuint (ep_fragment_assembler_get_n_partials (assembler), ==, 0);

  /* Budgets that leave no room are refused. */
  g_clear_pointer (&parts, g_ptr_array_unref);
  parts = ep_fragment_split (frame, 6, EP_FRAGMENT_HEADER_SIZE, &error);
  g_assert_error (error, EP_FRAGMENT_ERROR, EP_FRAGMENT_ERROR_INVALID);
  g_assert_null (parts);
}

static void
test_fragment_inconsistent (void)
{
  g_autoptr(EpFragmentAssembler) assembler = ep_fragment_assembler_new (0, 0, 0);
  g_autoptr(GBytes) whole = NULL;
  const EpFragmentCounters *counters = ep_fragment_assembler_get_counters (assembler);

  /* Count changes midway: the partial is poisoned. */
  g_assert_cmpint (push_frag (assembler, 1, 0, 3, "aaaa", &whole), ==, EP_FRAGMENT_RESULT_PENDING);
  g_assert_cmpint (push_frag (assembler, 1, 1, 4, "bbbb", &whole), ==, EP_FRAGMENT_RESULT_REJECTED);
  g_assert_cmpuint (ep_fragment_assembler_get_n_partials (assembler), ==, 0);
  g_assert_cmpuint (ep_fragment_assembler_get_buffered (assembler), ==, 0);

  /* Other bytes at the same index */
  g_assert_cmpint (push_frag (assembler, 2, 0, 2, "aaaa", &whole), ==, EP_FRAGMENT_RESULT_PENDING);
  g_assert_cmpint (push_frag (assembler, 2, 0, 2, "aaab", &whole), ==, EP_FRAGMENT_RESULT_REJECTED);
  g_assert_cmpuint (ep_fragment_assembler_get_n_partials (assembler), ==, 0);

  /* Chunks of different sizes would overlap or leave holes. */
  g_assert_cmpint (push_frag (assembler, 3, 0, 3, "aaaa", &whole), ==, EP_FRAGMENT_RESULT_PENDING);
  g_assert_cmpint (push_frag (assembler, 3, 1, 3, "bbbbb", &whole), ==, EP_FRAGMENT_RESULT_REJECTED);
  g_assert_cmpint (push_frag (assembler, 4, 2, 3, "cccccc", &whole), ==, EP_FRAGMENT_RESULT_PENDING);
  g_assert_cmpint (push_frag (assembler, 4, 0, 3, "aaaa", &whole), ==, EP_FRAGMENT_RESULT_REJECTED);
  g_assert_cmpint (push_frag (assembler, 5, 0, 3, "aaaa", &whole), ==, EP_FRAGMENT_RESULT_PENDING);
  g_assert_cmpint (push_frag (assembler, 5, 2, 3, "ccccc", &whole), ==, EP_FRAGMENT_RESULT_REJECTED);

  /* Bad headers */
  g_assert_cmpint (push_frag (assembler, 6, 2, 2, "a", &whole), ==, EP_FRAGMENT_RESULT_REJECTED);
  g_assert_cmpint (push_frag (assembler, 6, 0, 1, "a", &whole), ==, EP_FRAGMENT_RESULT_REJECTED);
  g_assert_cmpint (push_frag (assembler, 6, 0, 0, "a", &whole), ==, EP_FRAGMENT_RESULT_REJECTED);
  g_assert_cmpint (push_frag (assembler, 6, 0, EP_FRAGMENT_MAX_COUNT + 1, "a", &whole), ==,
                   EP_FRAGMENT_RESULT_REJECTED);
  g_assert_cmpint (push_frag (assembler, 6, 0, 2, "", &whole), ==, EP_FRAGMENT_RESULT_REJECTED);
  {
    const guint8 shortish[] = { EP_FRAGMENT_MARKER, 0, 0, 0 };
    const guint8 wrong[] = { '{', 0, 0, 0, 1, 0, 0, 0, 2, 'x' };
    g_autoptr(GError) error = NULL;

    g_assert_cmpint (ep_fragment_assembler_push (assembler, shortish, sizeof shortish, 0, NULL,
                                                 &error), ==, EP_FRAGMENT_RESULT_REJECTED);
    g_assert_error (error, EP_FRAGMENT_ERROR, EP_FRAGMENT_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_cmpint (ep_fragment_assembler_push (assembler, wrong, sizeof wrong, 0, NULL,
                                                 &error), ==, EP_FRAGMENT_RESULT_REJECTED);
  }
  /* A frame claiming more than the largest frame */
  {
    g_autofree char *chunk = g_strnfill (1000, 'z');
    g_assert_cmpint (push_frag (assembler, 7, 0, EP_FRAGMENT_MAX_COUNT, chunk, &whole), ==,
                     EP_FRAGMENT_RESULT_REJECTED);
  }

  g_assert_null (whole);
  g_assert_cmpuint (counters->rejected, ==, 13);
  g_assert_cmpuint (counters->completed, ==, 0);
}

static void
test_fragment_bounds (void)
{
  g_autoptr(EpFragmentAssembler) assembler = ep_fragment_assembler_new (4, 10000, 1000);
  g_autoptr(GBytes) whole = NULL;
  g_autofree char *kb = g_strnfill (1000, 'k');
  const EpFragmentCounters *counters = ep_fragment_assembler_get_counters (assembler);

  /* More partial frames than allowed: the oldest go. */
  for (guint id = 0; id < 10; id++)
    g_assert_cmpint (push_frag (assembler, id, 0, 2, "x", &whole), ==, EP_FRAGMENT_RESULT_PENDING);
  g_assert_cmpuint (ep_fragment_assembler_get_n_partials (assembler), ==, 4);
  g_assert_cmpuint (counters->evicted, ==, 6);
  /* 9 is still there and completes; 0 was evicted and starts over. */
  g_assert_cmpint (push_frag (assembler, 9, 1, 2, "y", &whole), ==, EP_FRAGMENT_RESULT_COMPLETE);
  g_assert_cmpmem (g_bytes_get_data (whole, NULL), g_bytes_get_size (whole), "xy", 2);
  g_clear_pointer (&whole, g_bytes_unref);
  g_assert_cmpint (push_frag (assembler, 0, 1, 2, "y", &whole), ==, EP_FRAGMENT_RESULT_PENDING);

  /* Memory: never above max-bytes however fragments pour in. */
  for (guint id = 100; id < 200; id++)
    for (guint i = 0; i < 5; i++)
      {
        push_frag (assembler, id, i, 20, kb, &whole);
        g_assert_cmpuint (ep_fragment_assembler_get_buffered (assembler), <=, 10000);
        g_assert_cmpuint (ep_fragment_assembler_get_n_partials (assembler), <=, 4);
      }
  /* One frame larger than the limit cannot be held at all. */
  for (guint i = 0; i < 11; i++)
    push_frag (assembler, 300, i, 12, kb, &whole);
  g_assert_cmpuint (ep_fragment_assembler_get_buffered (assembler), <=, 10000);
  g_assert_null (whole);
}

static void
test_fragment_timeout (void)
{
  g_autoptr(EpFragmentAssembler) assembler = ep_fragment_assembler_new (0, 0, 1000);
  g_autoptr(GBytes) a = fragment (1, 0, 2, "a");
  g_autoptr(GBytes) b = fragment (1, 1, 2, "b");
  g_autoptr(GBytes) whole = NULL;

  g_assert_cmpint (push (assembler, a, 0, &whole), ==, EP_FRAGMENT_RESULT_PENDING);
  g_assert_cmpuint (ep_fragment_assembler_expire (assembler, 999), ==, 0);
  g_assert_cmpuint (ep_fragment_assembler_expire (assembler, 1000), ==, 1);
  g_assert_cmpuint (ep_fragment_assembler_get_buffered (assembler), ==, 0);
  /* The rest, too late, waits alone; with its partner again it completes. */
  g_assert_cmpint (push (assembler, b, 2000, &whole), ==, EP_FRAGMENT_RESULT_PENDING);
  g_assert_cmpint (push (assembler, a, 2500, &whole), ==, EP_FRAGMENT_RESULT_COMPLETE);
  g_assert_cmpmem (g_bytes_get_data (whole, NULL), g_bytes_get_size (whole), "ab", 2);
  g_assert_cmpuint (ep_fragment_assembler_get_counters (assembler)->expired, ==, 1);
}

/* Random bytes and random mutations of real fragments: nothing breaks the
 * bounds, and whatever completes came from the sender. */
static void
test_fragment_hostile_flood (void)
{
  g_autoptr(EpFragmentAssembler) assembler = ep_fragment_assembler_new (3, 4096, 500);
  GRand *rand = g_rand_new_with_seed (42);
  guint8 buf[256];

  for (guint n = 0; n < 20000; n++)
    {
      g_autoptr(GBytes) whole = NULL;
      gsize len = g_rand_int_range (rand, 0, sizeof buf);

      for (gsize i = 0; i < len; i++)
        buf[i] = (guint8) g_rand_int (rand);
      if (len > 0 && g_rand_boolean (rand))
        {
          buf[0] = EP_FRAGMENT_MARKER;
          if (len > 8)
            {
              buf[1] = buf[2] = buf[3] = 0;
              buf[4] &= 7;
              buf[5] = 0;
              buf[6] &= 3;
              buf[7] = 0;
              buf[8] = (buf[8] & 3) + 1;
            }
        }
      ep_fragment_assembler_push (assembler, buf, len, n, &whole, NULL);
      g_assert_cmpuint (ep_fragment_assembler_get_buffered (assembler), <=, 4096);
      g_assert_cmpuint (ep_fragment_assembler_get_n_partials (assembler), <=, 3);
      if (whole != NULL)
        g_assert_cmpuint (g_bytes_get_size (whole), <=, 4096);
    }
  g_rand_free (rand);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/fragment/split-reassemble", test_fragment_split_reassemble);
  g_test_add_func ("/ep/fragment/inconsistent", test_fragment_inconsistent);
  g_test_add_func ("/ep/fragment/bounds", test_fragment_bounds);
  g_test_add_func ("/ep/fragment/timeout", test_fragment_timeout);
  g_test_add_func ("/ep/fragment/hostile-flood", test_fragment_hostile_flood);

  return g_test_run ();
}
