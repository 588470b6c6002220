/* test-dht-node.c — one EpDht against a scripted peer on a raw socket
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gstdio.h>
#include <string.h>

#include "ep-core.h"

typedef struct
{
  GMainContext   *context;
  GSource        *ticker;
  EpUdp          *udp;
  EpDht          *dht;
  GSocket        *peer;          /* the scripted node */
  GSocketAddress *peer_address;
} Fixture;

static gboolean
on_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static GSocket *
raw_socket (GSocketAddress **address_out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                  G_SOCKET_PROTOCOL_UDP, &error);

  g_assert_no_error (error);
  g_socket_set_blocking (socket, FALSE);
  g_assert_true (g_socket_bind (socket, any, FALSE, &error));
  *address_out = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return socket;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->context = g_main_context_new ();
  g_main_context_push_thread_default (f->context);
  f->ticker = g_timeout_source_new (5);
  g_source_set_callback (f->ticker, on_tick, NULL, NULL);
  g_source_attach (f->ticker, f->context);

  f->udp = ep_udp_new ("127.0.0.1", 0, &error);
  g_assert_no_error (error);
  f->dht = ep_dht_new (f->udp);
  ep_dht_set_query_timeout (f->dht, 100);
  f->peer = raw_socket (&f->peer_address);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->dht);
  g_clear_object (&f->udp);
  g_clear_object (&f->peer);
  g_clear_object (&f->peer_address);
  g_source_destroy (f->ticker);
  g_source_unref (f->ticker);
  while (g_main_context_iteration (f->context, FALSE))
    ;
  g_main_context_pop_thread_default (f->context);
  g_main_context_unref (f->context);
}

/* The next datagram the scripted peer receives, waiting up to 2 s. */
static GBytes *
peer_receive (Fixture         *f,
              GSocketAddress **from)
{
  gint64 end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;

  g_clear_object (from);
  while (g_get_monotonic_time () < end)
    {
      char buf[2048];
      gssize n = g_socket_receive_from (f->peer, from, buf, sizeof buf, NULL, NULL);

      if (n > 0)
        return g_bytes_new (buf, n);
      g_main_context_iteration (f->context, TRUE);
    }
  return NULL;
}

static void
decode (GBytes     *datagram,
        EpBencDoc **doc,
        EpKrpcMsg  *msg)
{
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (datagram, &len);

  *doc = ep_benc_doc_parse (p, len, NULL, NULL);
  g_assert_nonnull (*doc);
  g_assert_cmpint (ep_krpc_decode (ep_benc_doc_root (*doc), msg), ==, EP_KRPC_OK);
}

static void
peer_reply (Fixture         *f,
            GSocketAddress  *to,
            const EpKrpcMsg *query,
            const guint8    *id,
            const guint8    *ip,
            gsize            ip_len)
{
  EpKrpcMsg r = { .kind = EP_KRPC_RESPONSE };
  g_autoptr(GByteArray) out = g_byte_array_new ();

  memcpy (r.tid, query->tid, query->tid_len);
  r.tid_len = query->tid_len;
  memcpy (r.id, id, 20);
  if (ip != NULL)
    {
      memcpy (r.ip, ip, ip_len);
      r.ip_len = ip_len;
    }
  ep_krpc_encode (&r, out);
  g_socket_send_to (f->peer, to, (const char *) out->data, out->len, NULL, NULL);
}

static void
on_result (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
wait_result (Fixture       *f,
             GAsyncResult **slot)
{
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (*slot == NULL && g_get_monotonic_time () < end)
    g_main_context_iteration (f->context, TRUE);
  g_assert_nonnull (*slot);
}

static void
on_external (EpDht          *dht,
             GSocketAddress *address,
             gpointer        user_data)
{
  g_set_object ((GSocketAddress **) user_data, address);
}

/* BEP 42: five replies see us at 1.2.3.4: our ID is derived from it. */
static void
test_external_address_vote (Fixture       *f,
                            gconstpointer  data)
{
  static const guint8 seen[6] = { 1, 2, 3, 4, 0x1a, 0xe1 };
  g_autoptr(GSocketAddress) external = NULL;
  g_autoptr(GInetAddress) ip = g_inet_address_new_from_string ("1.2.3.4");
  guint8 peer_id[20], old_id[20];

  memset (peer_id, 0x42, sizeof peer_id);
  memcpy (old_id, ep_dht_get_id (f->dht), 20);
  g_signal_connect (f->dht, "external-address-changed", G_CALLBACK (on_external), &external);
  ep_dht_start (f->dht, NULL);

  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(GAsyncResult) res = NULL;
      g_autoptr(GBytes) query = NULL;
      g_autoptr(GSocketAddress) from = NULL;
      g_autoptr(EpBencDoc) doc = NULL;
      g_autoptr(GError) error = NULL;
      EpKrpcMsg msg;

      g_assert_null (external);
      ep_dht_ping_async (f->dht, f->peer_address, NULL, on_result, &res);
      query = peer_receive (f, &from);
      g_assert_nonnull (query);
      decode (query, &doc, &msg);
      g_assert_cmpint (msg.method, ==, EP_KRPC_PING);
      peer_reply (f, from, &msg, peer_id, seen, sizeof seen);
      wait_result (f, &res);
      g_assert_true (ep_dht_ping_finish (f->dht, res, NULL, &error));
      g_assert_no_error (error);
    }

  g_assert_nonnull (external);
  g_assert_true (g_inet_address_equal (g_inet_socket_address_get_address (
                                         G_INET_SOCKET_ADDRESS (external)), ip));
  g_assert_true (memcmp (old_id, ep_dht_get_id (f->dht), 20) != 0);
  g_assert_true (ep_bep42_id_matches (ip, ep_dht_get_id (f->dht)));
  /* The peer answered, so it is in the table, now around the new ID. */
  g_assert_cmpuint (ep_dht_get_n_nodes (f->dht), ==, 1);
}

/* Five replies see us at @seen; then the next query goes out: returned.
 * @first: (out) (optional): the first query, sent before any vote */
static GBytes *
vote_then_query (Fixture      *f,
                 const guint8  seen[6],
                 GBytes      **first)
{
  guint8 peer_id[20];
  g_autoptr(GAsyncResult) last = NULL;
  GBytes *query;
  g_autoptr(GSocketAddress) from = NULL;

  memset (peer_id, 0x42, sizeof peer_id);
  ep_dht_start (f->dht, NULL);
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(GAsyncResult) res = NULL;
      g_autoptr(GBytes) q = NULL;
      g_autoptr(EpBencDoc) doc = NULL;
      EpKrpcMsg msg;

      ep_dht_ping_async (f->dht, f->peer_address, NULL, on_result, &res);
      q = peer_receive (f, &from);
      g_assert_nonnull (q);
      if (i == 0 && first != NULL)
        *first = g_bytes_ref (q);
      decode (q, &doc, &msg);
      peer_reply (f, from, &msg, peer_id, seen, 6);
      wait_result (f, &res);
      g_assert_true (ep_dht_ping_finish (f->dht, res, NULL, NULL));
    }
  ep_dht_ping_async (f->dht, f->peer_address, NULL, on_result, &last);
  query = peer_receive (f, &from);
  g_assert_nonnull (query);
  return query;
}

/* BEP 43: seen at an address that is not ours (behind a NAT), we ask
 * read-only, so that nobody waits on us in a lookup. */
static void
test_read_only_behind_nat (Fixture       *f,
                           gconstpointer  data)
{
  static const guint8 seen[6] = { 198, 51, 100, 7, 0x1a, 0xe1 };
  g_autoptr(GBytes) query = NULL;
  g_autoptr(EpBencDoc) doc = NULL;
  EpKrpcMsg msg;

  query = vote_then_query (f, seen, NULL);
  decode (query, &doc, &msg);
  g_assert_nonnull (ep_dht_get_external_address (f->dht));
  g_assert_true (msg.ro);
}

/* Seen at the address we listen on: no NAT, a full node. */
static void
test_not_read_only_when_seen_as_ourselves (Fixture       *f,
                                           gconstpointer  data)
{
  guint8 seen[6] = { 127, 0, 0, 1, 0, 0 };
  g_autoptr(GBytes) query = NULL;
  g_autoptr(EpBencDoc) doc = NULL;
  guint16 port = ep_udp_get_port (f->udp);
  EpKrpcMsg msg;

  seen[4] = port >> 8;
  seen[5] = port & 0xff;
  query = vote_then_query (f, seen, NULL);
  decode (query, &doc, &msg);
  g_assert_nonnull (ep_dht_get_external_address (f->dht));
  g_assert_false (msg.ro);
}

/* A client asks read-only from its very first query until the vote shows
 * its own address; then it answers like any node. */
static void
test_read_only_until_seen (Fixture       *f,
                           gconstpointer  data)
{
  guint8 seen[6] = { 127, 0, 0, 1, 0, 0 };
  g_autoptr(GBytes) first = NULL;
  g_autoptr(GBytes) after = NULL;
  g_autoptr(EpBencDoc) first_doc = NULL;
  g_autoptr(EpBencDoc) after_doc = NULL;
  guint16 port = ep_udp_get_port (f->udp);
  EpKrpcMsg msg;

  seen[4] = port >> 8;
  seen[5] = port & 0xff;
  ep_dht_set_read_only_until_seen (f->dht, TRUE);
  after = vote_then_query (f, seen, &first);
  decode (first, &first_doc, &msg);
  g_assert_true (msg.ro);
  decode (after, &after_doc, &msg);
  g_assert_nonnull (ep_dht_get_external_address (f->dht));
  g_assert_false (msg.ro);
}

/* Behind a NAT, a client that waited for the vote stays read-only. */
static void
test_read_only_until_seen_behind_nat (Fixture       *f,
                                      gconstpointer  data)
{
  static const guint8 seen[6] = { 198, 51, 100, 7, 0x1a, 0xe1 };
  g_autoptr(GBytes) query = NULL;
  g_autoptr(EpBencDoc) doc = NULL;
  EpKrpcMsg msg;

  ep_dht_set_read_only_until_seen (f->dht, TRUE);
  g_assert_false (ep_dht_seems_unreachable (f->dht));
  query = vote_then_query (f, seen, NULL);
  decode (query, &doc, &msg);
  g_assert_nonnull (ep_dht_get_external_address (f->dht));
  g_assert_true (msg.ro);
  g_assert_true (ep_dht_seems_unreachable (f->dht));
}

/* One retry, then a timeout; the ID of the transaction is the same. */
static void
test_retry_then_timeout (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GBytes) first = NULL;
  g_autoptr(GBytes) second = NULL;
  g_autoptr(GSocketAddress) from = NULL;
  g_autoptr(GError) error = NULL;
  const EpDhtCounters *c = ep_dht_get_counters (f->dht);

  ep_dht_start (f->dht, NULL);
  ep_dht_ping_async (f->dht, f->peer_address, NULL, on_result, &res);
  first = peer_receive (f, &from);
  second = peer_receive (f, &from);
  g_assert_nonnull (first);
  g_assert_nonnull (second);
  g_assert_true (g_bytes_equal (first, second));
  wait_result (f, &res);
  g_assert_false (ep_dht_ping_finish (f->dht, res, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpuint (c->retries, ==, 1);
  g_assert_cmpuint (c->timeouts, ==, 1);
  g_assert_cmpuint (ep_dht_get_n_nodes (f->dht), ==, 0);
}

/* A reply with the right transaction ID from another address is not the
 * reply; the real one still is. */
static void
test_tid_matched_with_address (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GBytes) query = NULL;
  g_autoptr(GSocketAddress) from = NULL;
  g_autoptr(GSocketAddress) other_address = NULL;
  g_autoptr(GSocket) other = raw_socket (&other_address);
  g_autoptr(EpBencDoc) doc = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  EpKrpcMsg msg, forged = { .kind = EP_KRPC_RESPONSE };
  guint8 peer_id[20], id[20];

  memset (peer_id, 0x17, sizeof peer_id);
  ep_dht_start (f->dht, NULL);
  ep_dht_ping_async (f->dht, f->peer_address, NULL, on_result, &res);
  query = peer_receive (f, &from);
  decode (query, &doc, &msg);

  memcpy (forged.tid, msg.tid, msg.tid_len);
  forged.tid_len = msg.tid_len;
  memset (forged.id, 0x66, 20);
  ep_krpc_encode (&forged, out);
  g_socket_send_to (other, from, (const char *) out->data, out->len, NULL, NULL);
  peer_reply (f, from, &msg, peer_id, NULL, 0);

  wait_result (f, &res);
  g_assert_true (ep_dht_ping_finish (f->dht, res, id, &error));
  g_assert_cmpmem (id, 20, peer_id, 20);
  g_assert_cmpuint (ep_dht_get_counters (f->dht)->dropped_unmatched, ==, 1);
}

/* BEP 43: a read-only node says so, and is never asked back. */
static void
test_read_only (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpUdp) udp2 = ep_udp_new ("127.0.0.1", 0, &error);
  g_autoptr(EpDht) reader = ep_dht_new (udp2);
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GAsyncResult) res2 = NULL;
  g_autoptr(GBytes) query = NULL;
  g_autoptr(GSocketAddress) from = NULL;
  g_autoptr(GSocketAddress) target = NULL;
  g_autoptr(EpBencDoc) doc = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  EpKrpcMsg msg;

  ep_dht_start (f->dht, NULL);
  ep_dht_set_read_only (reader, TRUE);
  ep_dht_set_query_timeout (reader, 100);
  ep_dht_ping_async (reader, f->peer_address, NULL, on_result, &res);
  query = peer_receive (f, &from);
  decode (query, &doc, &msg);
  g_assert_true (msg.ro);

  /* A normal node that is queried by a read-only one does not ping it. */
  target = g_inet_socket_address_new (lo, ep_udp_get_port (f->udp));
  ep_dht_ping_async (reader, target, NULL, on_result, &res2);
  wait_result (f, &res2);
  g_assert_true (ep_dht_ping_finish (reader, res2, NULL, &error));
  g_assert_cmpuint (ep_dht_get_counters (f->dht)->queries_sent, ==, 0);
  g_assert_cmpuint (ep_dht_get_n_nodes (reader), ==, 1);
  wait_result (f, &res);
}

static void
on_ready (EpDht    *dht,
          gpointer  user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* A restart from the state file rejoins by asking the saved nodes once. */
static void
test_state_rejoin (Fixture       *f,
                   gconstpointer  data)
{
  enum { N = 12 };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ep-dht-state-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "dht.state", NULL);
  g_autofree char *boot = g_strdup_printf ("127.0.0.1:%u", ep_udp_get_port (f->udp));
  const char *list[] = { boot, NULL };
  EpUdp *udp[N];
  EpDht *dht[N];
  g_autoptr(EpUdp) udp2 = NULL;
  g_autoptr(EpDht) again = NULL;
  guint8 id[20];
  gboolean ready = FALSE;
  guint n_saved;
  gint64 end;

  ep_dht_start (f->dht, NULL);
  for (guint i = 0; i < N; i++)
    {
      udp[i] = ep_udp_new ("127.0.0.1", 0, &error);
      g_assert_no_error (error);
      dht[i] = ep_dht_new (udp[i]);
      ep_dht_start (dht[i], list);
    }
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end && ep_dht_get_n_nodes (dht[0]) < N)
    g_main_context_iteration (f->context, TRUE);
  n_saved = ep_dht_get_n_nodes (dht[0]);
  g_assert_cmpuint (n_saved, >=, 8);

  memcpy (id, ep_dht_get_id (dht[0]), 20);
  g_assert_true (ep_dht_save_state (dht[0], path, &error));
  g_assert_no_error (error);
  g_clear_object (&dht[0]);
  g_clear_object (&udp[0]);

  udp2 = ep_udp_new ("127.0.0.1", 0, &error);
  again = ep_dht_new (udp2);
  g_assert_true (ep_dht_load_state (again, path, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (ep_dht_get_id (again), 20, id, 20);
  g_signal_connect (again, "ready", G_CALLBACK (on_ready), &ready);
  ep_dht_start (again, NULL);

  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!ready && g_get_monotonic_time () < end)
    g_main_context_iteration (f->context, TRUE);
  g_assert_true (ready);
  /* Ready on the saved nodes' answers: one query each, nothing more. */
  g_assert_cmpuint (ep_dht_get_counters (again)->queries_sent, <=, n_saved + 3);
  g_assert_cmpuint (ep_dht_get_n_nodes (again), >=, 8);

  for (guint i = 1; i < N; i++)
    {
      g_clear_object (&dht[i]);
      g_clear_object (&udp[i]);
    }
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/ep/dht-node/external-address-vote", Fixture, NULL,
              fixture_setup, test_external_address_vote, fixture_teardown);
  g_test_add ("/ep/dht-node/retry-then-timeout", Fixture, NULL,
              fixture_setup, test_retry_then_timeout, fixture_teardown);
  g_test_add ("/ep/dht-node/tid-matched-with-address", Fixture, NULL,
              fixture_setup, test_tid_matched_with_address, fixture_teardown);
  g_test_add ("/ep/dht-node/read-only", Fixture, NULL,
              fixture_setup, test_read_only, fixture_teardown);
  g_test_add ("/ep/dht-node/read-only-until-seen", Fixture, NULL,
              fixture_setup, test_read_only_until_seen, fixture_teardown);
  g_test_add ("/ep/dht-node/read-only-until-seen-behind-nat", Fixture, NULL,
              fixture_setup, test_read_only_until_seen_behind_nat, fixture_teardown);
  g_test_add ("/ep/dht-node/read-only-behind-nat", Fixture, NULL,
              fixture_setup, test_read_only_behind_nat, fixture_teardown);
  g_test_add ("/ep/dht-node/not-read-only-when-seen-as-ourselves", Fixture, NULL,
              fixture_setup, test_not_read_only_when_seen_as_ourselves, fixture_teardown);
  g_test_add ("/ep/dht-node/state-rejoin", Fixture, NULL,
              fixture_setup, test_state_rejoin, fixture_teardown);

  return g_test_run ();
}
