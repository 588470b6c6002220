/* test-dht-hostile.c — malformed and hostile datagrams against one node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdio.h>
#include <string.h>

#include "ep-core.h"

typedef struct
{
  GMainContext *context;
  EpUdp        *udp;
  EpDht        *dht;
  GSocket      *attacker;
  GSocketAddress *target;
  GSource      *ticker;
  guint         queries_from_node;
} Fixture;

static gboolean
on_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);

  f->context = g_main_context_new ();
  g_main_context_push_thread_default (f->context);
  /* Wakes blocking iterations so that polled conditions are seen. */
  f->ticker = g_timeout_source_new (5);
  g_source_set_callback (f->ticker, on_tick, NULL, NULL);
  g_source_attach (f->ticker, f->context);

  f->udp = ep_udp_new ("127.0.0.1", 0, &error);
  g_assert_no_error (error);
  f->dht = ep_dht_new (f->udp);
  ep_dht_start (f->dht, NULL);
  f->target = g_inet_socket_address_new (lo, ep_udp_get_port (f->udp));

  f->attacker = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                              G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (f->attacker, FALSE);
  g_assert_true (g_socket_bind (f->attacker, any, FALSE, &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->attacker);
  g_clear_object (&f->target);
  g_clear_object (&f->dht);
  g_clear_object (&f->udp);
  g_source_destroy (f->ticker);
  g_source_unref (f->ticker);
  while (g_main_context_iteration (f->context, FALSE))
    ;
  g_main_context_pop_thread_default (f->context);
  g_main_context_unref (f->context);
}

static void
send_raw (Fixture    *f,
          const void *data,
          gsize       len)
{
  g_autoptr(GError) error = NULL;

  g_socket_send_to (f->attacker, f->target, data, len, NULL, &error);
  g_assert_no_error (error);
}

#define SEND_LIT(f, lit) send_raw ((f), (lit), sizeof (lit) - 1)

/* Lets the node handle what was sent, then takes its replies. */
static GPtrArray *
settle (Fixture *f,
        guint    want_replies)
{
  GPtrArray *replies = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  gint64 end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  gint64 quiet_end = g_get_monotonic_time () + 50 * 1000;

  while (g_get_monotonic_time () < end
         && (replies->len < want_replies || g_get_monotonic_time () < quiet_end))
    {
      char buf[2048];
      gssize n;

      g_main_context_iteration (f->context, TRUE);
      while ((n = g_socket_receive (f->attacker, buf, sizeof buf, NULL, NULL)) > 0)
        {
          /* The node's own queries (it pings newcomers) are not replies. */
          if (n > 7 && memcmp (buf + n - 7, "1:y1:qe", 7) == 0)
            {
              f->queries_from_node++;
              continue;
            }
          g_ptr_array_add (replies, g_bytes_new (buf, n));
        }
    }
  return replies;
}

static gint64
reply_error_code (GBytes *reply)
{
  g_autoptr(EpBencDoc) doc = NULL;
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (reply, &len);
  EpKrpcMsg msg;

  doc = ep_benc_doc_parse (p, len, NULL, NULL);
  g_assert_nonnull (doc);
  g_assert_cmpint (ep_krpc_decode (ep_benc_doc_root (doc), &msg), ==, EP_KRPC_OK);
  g_assert_cmpmem (msg.tid, msg.tid_len, "aa", 2);
  return msg.kind == EP_KRPC_ERROR ? msg.error_code : 0;
}

static void
test_random_bytes (Fixture       *f,
                   gconstpointer  data)
{
  const EpDhtCounters *c = ep_dht_get_counters (f->dht);
  GRand *rand = g_rand_new_with_seed (42);
  g_autoptr(GPtrArray) replies = NULL;
  guint with_d = 0;

  for (guint i = 0; i < 200; i++)
    {
      guint8 buf[512];
      guint len = g_rand_int_range (rand, 1, sizeof buf);

      for (guint j = 0; j < len; j++)
        buf[j] = g_rand_int_range (rand, 0, 256);
      if (i % 2 == 0)
        {
          buf[0] = 'd';
          with_d++;
        }
      else if (buf[0] == 'd')
        buf[0] = 'x';
      send_raw (f, buf, len);
      if (i % 50 == 49)
        g_ptr_array_unref (settle (f, 0));
    }
  replies = settle (f, 0);
  g_rand_free (rand);

  g_assert_cmpuint (c->malformed[EP_KRPC_BAD_BENCODE], ==, with_d);
  g_assert_cmpuint (ep_udp_get_counters (f->udp)->dropped_unknown, ==, 200 - with_d);
  g_assert_cmpuint (replies->len, ==, 0);
}

static void
test_huge_and_deep (Fixture       *f,
                    gconstpointer  data)
{
  const EpDhtCounters *c = ep_dht_get_counters (f->dht);
  g_autoptr(GString) deep = g_string_new ("d1:a");
  g_autoptr(GPtrArray) replies = NULL;
  guint8 big[EP_UDP_MAX_DATAGRAM + 100];

  SEND_LIT (f, "d1:ad2:id4294967296:abcde1:q4:ping1:t2:aa1:y1:qe");
  SEND_LIT (f, "d1:ad2:id99999999999999999999999:abce1:q4:ping1:t2:aa1:y1:qe");
  SEND_LIT (f, "d1:ti99999999999999999999999999e1:y1:qe");
  for (guint i = 0; i < 400; i++)
    g_string_append_c (deep, 'l');
  for (guint i = 0; i < 400; i++)
    g_string_append_c (deep, 'e');
  g_string_append (deep, "1:q4:ping1:t2:aa1:y1:qe");
  send_raw (f, deep->str, deep->len);

  memset (big, 'e', sizeof big);
  memcpy (big, "d1:t2:aa", 8);
  send_raw (f, big, sizeof big);

  replies = settle (f, 0);
  g_assert_cmpuint (c->malformed[EP_KRPC_BAD_BENCODE], ==, 4);
  g_assert_cmpuint (ep_udp_get_counters (f->udp)->dropped_oversize, ==, 1);
  g_assert_cmpuint (replies->len, ==, 0);
}

static void
test_wrong_types (Fixture       *f,
                  gconstpointer  data)
{
  const EpDhtCounters *c = ep_dht_get_counters (f->dht);
  g_autoptr(GPtrArray) replies = NULL;

  SEND_LIT (f, "d1:ad2:idi5ee1:q4:ping1:t2:aa1:y1:qe");
  SEND_LIT (f, "d1:ad2:id20:abcdefghij01234567896:targetli1eee1:q9:find_node1:t2:aa1:y1:qe");
  SEND_LIT (f, "d1:ali1ee1:q3:get1:t2:aa1:y1:qe");
  SEND_LIT (f, "d1:ad2:id20:abcdefghij01234567899:info_hash20:abcdefghij01234567894:port"
               "3:abc5:token2:xxe1:q13:announce_peer1:t2:aa1:y1:qe");
  /* No usable transaction ID or kind: dropped without a word. */
  SEND_LIT (f, "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:ti1e1:y1:qe");
  SEND_LIT (f, "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:yi1ee");
  SEND_LIT (f, "li1ei2ee");

  replies = settle (f, 4);
  g_assert_cmpuint (replies->len, ==, 4);
  for (guint i = 0; i < replies->len; i++)
    g_assert_cmpint (reply_error_code (replies->pdata[i]), ==, EP_KRPC_ERROR_PROTOCOL);
  g_assert_cmpuint (c->errors_sent_protocol, ==, 4);
  g_assert_cmpuint (c->malformed[EP_KRPC_BAD_ID], ==, 1);
  g_assert_cmpuint (c->malformed[EP_KRPC_BAD_TARGET], ==, 1);
  g_assert_cmpuint (c->malformed[EP_KRPC_BAD_ARGS], ==, 1);
  g_assert_cmpuint (c->malformed[EP_KRPC_BAD_PORT], ==, 1);
  g_assert_cmpuint (c->malformed[EP_KRPC_BAD_TID], ==, 1);
  g_assert_cmpuint (c->malformed[EP_KRPC_BAD_Y], ==, 1);
  /* Not a dictionary: KRPC never starts so, EpUdp does not pass it on. */
  g_assert_cmpuint (ep_udp_get_counters (f->udp)->dropped_unknown, ==, 1);
  g_assert_cmpuint (c->dropped_malformed, ==, 6);
}

static void
test_unknown_query (Fixture       *f,
                    gconstpointer  data)
{
  const EpDhtCounters *c = ep_dht_get_counters (f->dht);
  g_autoptr(GPtrArray) replies = NULL;

  SEND_LIT (f, "d1:ad2:id20:abcdefghij0123456789e1:q6:vote_x1:t2:aa1:y1:qe");
  SEND_LIT (f, "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe");
  /* A response to nothing we asked. */
  SEND_LIT (f, "d1:rd2:id20:abcdefghij0123456789e1:t2:zz1:y1:re");

  replies = settle (f, 2);
  g_assert_cmpuint (replies->len, >=, 2);
  g_assert_cmpint (reply_error_code (replies->pdata[0]), ==, EP_KRPC_ERROR_METHOD_UNKNOWN);
  g_assert_cmpint (reply_error_code (replies->pdata[1]), ==, 0);
  g_assert_cmpuint (c->errors_sent_method, ==, 1);
  g_assert_cmpuint (c->dropped_unmatched, ==, 1);
}

/* Liberal in what we accept: some clients do not sort their keys. */
static void
test_unsorted_keys (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GPtrArray) replies = NULL;

  SEND_LIT (f, "d1:t2:aa1:y1:q1:q4:ping1:ad2:id20:abcdefghij0123456789ee");
  /* A repeated key is still malformed. */
  SEND_LIT (f, "d1:t2:aa1:t2:bb1:y1:q1:q4:ping1:ad2:id20:abcdefghij0123456789ee");

  replies = settle (f, 1);
  g_assert_cmpuint (replies->len, ==, 1);
  g_assert_cmpint (reply_error_code (replies->pdata[0]), ==, 0);
  g_assert_cmpuint (ep_dht_get_counters (f->dht)->malformed[EP_KRPC_BAD_BENCODE], ==, 1);
}

static gsize
rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "VmRSS:");
  return line != NULL ? g_ascii_strtoull (line + 6, NULL, 10) : 0;
}

static void
on_ping_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
test_flood (Fixture       *f,
            gconstpointer  data)
{
  const EpDhtCounters *c = ep_dht_get_counters (f->dht);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpUdp) udp2 = NULL;
  g_autoptr(EpDht) pinger = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  guint replies = 0;
  gsize rss_before, rss_after;
  gint64 start = g_get_monotonic_time ();
  double elapsed;
  guint8 id[20];

  /* Warm up allocator pools before measuring. */
  g_ptr_array_unref (settle (f, 0));
  rss_before = rss_kib ();

  for (guint i = 0; i < 5000; i++)
    {
      char buf[128];
      int len;

      /* A fresh node ID and transaction in each, as a Sybil flood would. */
      len = g_snprintf (buf, sizeof buf,
                        "d1:ad2:id20:%020u6:target20:abcdefghij0123456789e"
                        "1:q9:find_node1:t2:%c%c1:y1:qe",
                        i, 'a' + i % 26, 'a' + (i / 26) % 26);
      send_raw (f, buf, len);
      if (i % 100 == 99)
        {
          g_autoptr(GPtrArray) got = settle (f, 0);

          replies += got->len;
        }
    }
  {
    g_autoptr(GPtrArray) got = settle (f, 0);

    replies += got->len;
  }
  elapsed = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  rss_after = rss_kib ();

  g_test_message ("flood: %u replies in %.2f s, %" G_GUINT64_FORMAT " rate-limited, "
                  "RSS %zu → %zu KiB", replies, elapsed, c->dropped_rate_limited,
                  rss_before, rss_after);
  g_assert_cmpuint (c->queries_received, >=, 4000);
  g_assert_cmpuint (c->dropped_rate_limited, >, 0);
  /* The burst plus the rate over the time taken, and the node's pings. */
  g_assert_cmpuint (replies, <=, 100 + 50 * elapsed);
  /* One ping to see whether the newcomer would answer, not one per query. */
  g_assert_cmpuint (f->queries_from_node, <=, 2);
  g_assert_cmpuint (c->responses_sent, ==, c->queries_received - c->dropped_rate_limited);
#ifndef __SANITIZE_ADDRESS__
  /* (AddressSanitizer keeps freed memory in quarantine: RSS says nothing.) */
  g_assert_cmpuint (rss_after, <, rss_before + 2048);
#endif

  /* Someone else still gets an answer. */
  udp2 = ep_udp_new ("127.0.0.1", 0, &error);
  g_assert_no_error (error);
  pinger = ep_dht_new (udp2);
  ep_dht_ping_async (pinger, f->target, NULL, on_ping_done, &res);
  while (res == NULL)
    g_main_context_iteration (f->context, TRUE);
  g_assert_true (ep_dht_ping_finish (pinger, res, id, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (id, 20, ep_dht_get_id (f->dht), 20);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/ep/dht-hostile/random-bytes", Fixture, NULL,
              fixture_setup, test_random_bytes, fixture_teardown);
  g_test_add ("/ep/dht-hostile/huge-and-deep", Fixture, NULL,
              fixture_setup, test_huge_and_deep, fixture_teardown);
  g_test_add ("/ep/dht-hostile/wrong-types", Fixture, NULL,
              fixture_setup, test_wrong_types, fixture_teardown);
  g_test_add ("/ep/dht-hostile/unknown-query", Fixture, NULL,
              fixture_setup, test_unknown_query, fixture_teardown);
  g_test_add ("/ep/dht-hostile/unsorted-keys", Fixture, NULL,
              fixture_setup, test_unsorted_keys, fixture_teardown);
  g_test_add ("/ep/dht-hostile/flood", Fixture, NULL,
              fixture_setup, test_flood, fixture_teardown);

  return g_test_run ();
}
