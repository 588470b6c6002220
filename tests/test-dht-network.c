/* test-dht-network.c — 50 DHT nodes on loopback in one process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <sodium.h>
#include <string.h>

#include "ep-core.h"

#define N_NODES 50
#define PARALLEL_LOOKUPS 16

typedef struct
{
  GMainContext *context;
  guint         n;
  const char   *host;
  EpUdp        *udp[N_NODES];
  EpDht        *dht[N_NODES];
} Network;

static Network net;

static gboolean
on_timeout (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Spins the test's context until *flag is set, at most @seconds. */
static void
spin_until (gboolean *flag,
            guint     seconds)
{
  gboolean timed_out = FALSE;
  GSource *timer = g_timeout_source_new_seconds (seconds);

  g_source_set_callback (timer, on_timeout, &timed_out, NULL);
  g_source_attach (timer, net.context);
  while (!*flag && !timed_out)
    g_main_context_iteration (net.context, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
  g_assert_false (timed_out);
}

static void
on_async_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  gboolean timed_out = FALSE;
  GSource *timer = g_timeout_source_new_seconds (30);

  g_source_set_callback (timer, on_timeout, &timed_out, NULL);
  g_source_attach (timer, net.context);
  while (*slot == NULL && !timed_out)
    g_main_context_iteration (net.context, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
  g_assert_false (timed_out);
  return *slot;
}

static void
network_setup (guint       n,
               const char *host)
{
  g_autofree char *bootstrap = NULL;
  const char *list[2] = { NULL, NULL };

  net.context = g_main_context_new ();
  g_main_context_push_thread_default (net.context);
  net.n = n;
  net.host = host;

  for (guint i = 0; i < net.n; i++)
    {
      g_autoptr(GError) error = NULL;

      net.udp[i] = ep_udp_new (host, 0, &error);
      g_assert_no_error (error);
      net.dht[i] = ep_dht_new (net.udp[i]);
      ep_dht_set_max_nodes_per_ip (net.dht[i], 0);
      ep_dht_set_query_timeout (net.dht[i], 500);
    }

  bootstrap = strchr (host, ':') != NULL
                ? g_strdup_printf ("[%s]:%u", host, ep_udp_get_port (net.udp[0]))
                : g_strdup_printf ("%s:%u", host, ep_udp_get_port (net.udp[0]));
  list[0] = bootstrap;
  ep_dht_start (net.dht[0], NULL);
  g_assert_true (ep_dht_is_ready (net.dht[0]));
  for (guint i = 1; i < net.n; i++)
    ep_dht_start (net.dht[i], list);
}

static void
network_teardown (void)
{
  for (guint i = 0; i < net.n; i++)
    {
      g_clear_object (&net.dht[i]);
      g_clear_object (&net.udp[i]);
    }
  while (g_main_context_iteration (net.context, FALSE))
    ;
  g_main_context_pop_thread_default (net.context);
  g_clear_pointer (&net.context, g_main_context_unref);
}

static gboolean
all_ready (void)
{
  for (guint i = 0; i < net.n; i++)
    if (!ep_dht_is_ready (net.dht[i]))
      return FALSE;
  return TRUE;
}

static void
test_join (void)
{
  gboolean ready = FALSE;
  gboolean timed_out = FALSE;
  GSource *timer = g_timeout_source_new_seconds (20);

  g_source_set_callback (timer, on_timeout, &timed_out, NULL);
  g_source_attach (timer, net.context);
  while (!(ready = all_ready ()) && !timed_out)
    g_main_context_iteration (net.context, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
  g_assert_true (ready);

  for (guint i = 1; i < net.n; i++)
    g_assert_cmpuint (ep_dht_get_n_nodes (net.dht[i]), >, 0);
}

typedef struct
{
  guint next;          /* i * N_NODES + j */
  guint in_flight;
  guint found;
  guint missed;
  gboolean done;
} FindAll;

static void launch_find (FindAll *fa);

typedef struct
{
  FindAll *fa;
  guint    wanted;
} FindOne;

static void
on_find_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  FindOne *one = user_data;
  FindAll *fa = one->fa;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) nodes = ep_dht_find_node_finish (EP_DHT (source), result, &error);
  const guint8 *wanted = ep_dht_get_id (net.dht[one->wanted]);

  if (nodes != NULL && nodes->len > 0
      && memcmp (((EpDhtNodeInfo *) nodes->pdata[0])->id, wanted, 20) == 0)
    fa->found++;
  else
    {
      fa->missed++;
      g_test_message ("node %u not found: %s", one->wanted,
                      error != NULL ? error->message : "not the closest");
    }
  g_free (one);
  fa->in_flight--;
  launch_find (fa);
}

static void
launch_find (FindAll *fa)
{
  while (fa->in_flight < PARALLEL_LOOKUPS && fa->next < net.n * net.n)
    {
      guint i = fa->next / net.n, j = fa->next % net.n;
      FindOne *one;

      fa->next++;
      if (i == j)
        continue;
      one = g_new0 (FindOne, 1);
      one->fa = fa;
      one->wanted = j;
      fa->in_flight++;
      ep_dht_find_node_async (net.dht[i], ep_dht_get_id (net.dht[j]), NULL, on_find_done, one);
    }
  if (fa->in_flight == 0 && fa->next >= net.n * net.n)
    fa->done = TRUE;
}

static void
test_every_node_finds_every_other (void)
{
  FindAll fa = { 0 };

  launch_find (&fa);
  spin_until (&fa.done, 40);
  g_test_message ("%u lookups, %u found", fa.next, fa.found);
  g_assert_cmpuint (fa.missed, ==, 0);
  g_assert_cmpuint (fa.found, ==, net.n * (net.n - 1));
}

static GBytes *
bencoded_string (const char *s)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  ep_benc_put_string (out, s);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static void
test_immutable (void)
{
  g_autoptr(GBytes) v = bencoded_string ("Hello World!");
  g_autoptr(GAsyncResult) put_res = NULL;
  g_autoptr(GAsyncResult) get_res = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EpDhtValue) value = NULL;
  EpDhtPutParams params = { .v = v };
  guint8 target[20];
  guint n = 0;

  ep_dht_put_async (net.dht[3], &params, NULL, on_async_done, &put_res);
  g_assert_true (ep_dht_put_finish (net.dht[3], wait_result (&put_res), target, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, >=, 1);
  /* BEP 44 test vector: SHA-1 of "12:Hello World!". */
  g_assert_cmpmem (target, 20, "\xe5\xf9\x6f\x6f\x38\x32\x0f\x0f\x33\x95\x9c\xb4\xd3\xd6\x56\x45"
                               "\x21\x17\xaa\xdb", 20);

  ep_dht_get_async (net.dht[40 % net.n], target, NULL, 0, NULL, on_async_done, &get_res);
  value = ep_dht_get_finish (net.dht[40 % net.n], wait_result (&get_res), &error);
  g_assert_no_error (error);
  g_assert_false (value->is_mutable);
  g_assert_true (g_bytes_equal (value->v, v));
}

static EpDhtValue *
get_mutable (guint         from,
             const guint8  target[20],
             GBytes       *salt,
             GError      **error)
{
  g_autoptr(GAsyncResult) res = NULL;

  ep_dht_get_async (net.dht[from], target, salt, 0, NULL, on_async_done, &res);
  return ep_dht_get_finish (net.dht[from], wait_result (&res), error);
}

static gboolean
put_mutable (guint         from,
             const guint8  sk[64],
             GBytes       *salt,
             const char   *text,
             gint64        seq,
             guint8        target[20],
             GError      **error)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GBytes) v = bencoded_string (text);
  EpDhtPutParams params = { .v = v, .secret_key = sk, .salt = salt, .seq = seq };

  ep_dht_put_async (net.dht[from], &params, NULL, on_async_done, &res);
  return ep_dht_put_finish (net.dht[from], wait_result (&res), target, NULL, error);
}

static void
test_mutable (void)
{
  guint8 pk[32], sk[64], seed[32], target[20], expected[20];
  g_autoptr(GBytes) salt = g_bytes_new_static ("foobar", 6);
  g_autoptr(GBytes) v2 = bencoded_string ("second");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpDhtValue) value = NULL;

  memset (seed, 7, sizeof seed);
  crypto_sign_seed_keypair (pk, sk, seed);
  ep_bep44_mutable_target (pk, (const guint8 *) "foobar", 6, expected);

  g_assert_true (put_mutable (5, sk, salt, "first", 1, target, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (target, 20, expected, 20);

  value = get_mutable (30 % net.n, target, salt, &error);
  g_assert_no_error (error);
  g_assert_true (value->is_mutable);
  g_assert_cmpint (value->seq, ==, 1);
  g_assert_cmpmem (value->k, 32, pk, 32);
  g_clear_pointer (&value, ep_dht_value_free);

  g_assert_true (put_mutable (7, sk, salt, "second", 2, target, &error));
  g_assert_no_error (error);
  value = get_mutable (44 % net.n, target, salt, &error);
  g_assert_no_error (error);
  g_assert_cmpint (value->seq, ==, 2);
  g_assert_true (g_bytes_equal (value->v, v2));
  g_clear_pointer (&value, ep_dht_value_free);

  /* Going back in seq is refused (302) by the nodes that hold seq 2, and
   * whatever a lookup finds, the highest seq wins. */
  if (!put_mutable (9, sk, salt, "old", 1, target, &error))
    g_assert_error (error, EP_DHT_ERROR, EP_DHT_ERROR_REJECTED);
  g_clear_error (&error);
  value = get_mutable (21 % net.n, target, salt, &error);
  g_assert_no_error (error);
  g_assert_cmpint (value->seq, ==, 2);
  g_assert_true (g_bytes_equal (value->v, v2));
  g_clear_pointer (&value, ep_dht_value_free);

  /* Without the salt the target differs: nothing is found there. */
  ep_bep44_mutable_target (pk, NULL, 0, expected);
  value = get_mutable (12, expected, NULL, &error);
  g_assert_error (error, EP_DHT_ERROR, EP_DHT_ERROR_NOT_FOUND);
  g_assert_null (value);
}

static void
test_announce_peers (void)
{
  guint8 info_hash[20];
  g_autoptr(GAsyncResult) a1 = NULL;
  g_autoptr(GAsyncResult) a2 = NULL;
  g_autoptr(GAsyncResult) p = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) peers = NULL;
  gboolean saw_explicit = FALSE, saw_implied = FALSE;
  guint n = 0;

  memset (info_hash, 0x5a, sizeof info_hash);
  ep_dht_announce_async (net.dht[10], info_hash, 4242, NULL, on_async_done, &a1);
  g_assert_true (ep_dht_announce_finish (net.dht[10], wait_result (&a1), &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, >=, 1);
  ep_dht_announce_async (net.dht[19], info_hash, 0, NULL, on_async_done, &a2);
  g_assert_true (ep_dht_announce_finish (net.dht[19], wait_result (&a2), &n, &error));
  g_assert_no_error (error);

  ep_dht_get_peers_async (net.dht[33 % net.n], info_hash, NULL, on_async_done, &p);
  peers = ep_dht_get_peers_finish (net.dht[33 % net.n], wait_result (&p), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < peers->len; i++)
    {
      guint port = g_inet_socket_address_get_port (peers->pdata[i]);

      saw_explicit |= port == 4242;
      saw_implied |= port == ep_udp_get_port (net.udp[19]);
    }
  g_assert_true (saw_explicit);
  g_assert_true (saw_implied);
}

static void
test_counters_clean (void)
{
  guint64 sent = 0;

  for (guint i = 0; i < net.n; i++)
    sent += ep_dht_get_counters (net.dht[i])->queries_sent;
  g_test_message ("%" G_GUINT64_FORMAT " queries sent in all", sent);

  for (guint i = 0; i < net.n; i++)
    {
      const EpDhtCounters *c = ep_dht_get_counters (net.dht[i]);

      g_assert_cmpuint (c->dropped_malformed, ==, 0);
      g_assert_cmpuint (c->queries_received, >, 0);
    }
}

static void
test_network (void)
{
  network_setup (N_NODES, "127.0.0.1");
  test_join ();
  test_every_node_finds_every_other ();
  test_immutable ();
  test_mutable ();
  test_announce_peers ();
  test_counters_clean ();
  network_teardown ();
}

/* BEP 32: the same on ::1, where nodes travel in nodes6 and peers are
 * 18 bytes. */
static void
test_network_ipv6 (void)
{
  g_autoptr(GInetAddress) lo6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GSocket) probe = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_DATAGRAM,
                                           G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr(GSocketAddress) any6 = g_inet_socket_address_new (lo6, 0);

  if (probe == NULL || !g_socket_bind (probe, any6, FALSE, NULL))
    {
      g_test_skip ("no IPv6 loopback");
      return;
    }

  network_setup (20, "::1");
  test_join ();
  test_every_node_finds_every_other ();
  test_immutable ();
  test_mutable ();
  test_announce_peers ();
  test_counters_clean ();
  network_teardown ();
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/dht-network/fifty-nodes", test_network);
  g_test_add_func ("/ep/dht-network/ipv6", test_network_ipv6);

  return g_test_run ();
}
