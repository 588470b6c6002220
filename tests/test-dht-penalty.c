/* test-dht-penalty.c — evicting lying nodes and keeping them out
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "ep-core.h"

#define T0 100000

static const guint8 zero_id[20] = { 0 };

static void
make_node (guint8  id[20],
           guint8  addr[6],
           guint   prefix,
           guint   serial)
{
  memset (id, 0, 20);
  id[prefix / 8] |= 0x80 >> (prefix % 8);
  id[19] = (guint8) serial;
  addr[0] = 10;
  addr[1] = 0;
  addr[2] = 0;
  addr[3] = (guint8) serial;
  addr[4] = 0x1a;
  addr[5] = 0xe1;
}

/* Removal by ID or by address, from the bucket and from the replacement
 * cache; a waiting node takes the freed slot. */
static void
test_rt_remove (void)
{
  EpRoutingTable *rt = ep_routing_table_new (zero_id, G_SOCKET_FAMILY_IPV4, 0);
  guint8 id[20], addr[6], other_addr[6];
  EpRtNode ping;

  /* Nine nodes in bucket 0 (first bit set): eight in, one cached. */
  for (guint i = 1; i <= 9; i++)
    {
      make_node (id, addr, 0, i);
      ep_routing_table_add (rt, id, addr, 6, T0, &ping);
    }
  g_assert_cmpuint (ep_routing_table_size (rt), ==, 8);
  make_node (id, addr, 0, 9);
  g_assert_true (ep_routing_table_in_cache (rt, id));

  /* By ID: the cached node moves in. */
  make_node (id, addr, 0, 3);
  g_assert_cmpuint (ep_routing_table_remove (rt, id, NULL, 0, T0), ==, 1);
  g_assert_null (ep_routing_table_find (rt, id));
  g_assert_cmpuint (ep_routing_table_size (rt), ==, 8);
  make_node (id, addr, 0, 9);
  g_assert_nonnull (ep_routing_table_find (rt, id));

  /* By address alone, whatever the ID. */
  make_node (id, other_addr, 0, 5);
  g_assert_cmpuint (ep_routing_table_remove (rt, NULL, other_addr, 6, T0), ==, 1);
  g_assert_null (ep_routing_table_find (rt, id));
  g_assert_cmpuint (ep_routing_table_size (rt), ==, 7);

  /* Nothing matches: nothing goes. */
  make_node (id, addr, 0, 200);
  g_assert_cmpuint (ep_routing_table_remove (rt, id, addr, 6, T0), ==, 0);
  g_assert_cmpuint (ep_routing_table_size (rt), ==, 7);
  ep_routing_table_free (rt);
}

/* The box is bounded: the oldest penalties give way; a node penalised
 * twice takes one slot; IDs and addresses both count. */
static void
test_box_bounded (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpUdp) udp = ep_udp_new ("127.0.0.1", 0, &error);
  g_autoptr(EpDht) dht = NULL;
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", 4000);
  g_autoptr(GSocketAddress) elsewhere = g_inet_socket_address_new_from_string ("127.0.0.1", 4001);
  guint8 id[20] = { 0 };

  g_assert_no_error (error);
  dht = ep_dht_new (udp);

  ep_dht_penalise (dht, NULL, address);
  g_assert_true (ep_dht_is_penalised (dht, NULL, address));
  g_assert_false (ep_dht_is_penalised (dht, NULL, elsewhere));
  g_assert_true (ep_dht_is_penalised (dht, (const guint8 *) "any node id at all!!", address));
  ep_dht_penalise (dht, NULL, address);
  g_assert_cmpuint (ep_dht_get_n_penalised (dht), ==, 1);

  for (guint i = 0; i < EP_DHT_PENALTY_BOX_SIZE + 10; i++)
    {
      id[0] = i & 0xff;
      id[1] = i >> 8;
      ep_dht_penalise (dht, id, NULL);
    }
  g_assert_cmpuint (ep_dht_get_n_penalised (dht), ==, EP_DHT_PENALTY_BOX_SIZE);
  g_assert_cmpuint (ep_dht_get_counters (dht)->penalised, ==, EP_DHT_PENALTY_BOX_SIZE + 11);
  /* The newest are in, the address penalty (the oldest) is gone. */
  g_assert_true (ep_dht_is_penalised (dht, id, NULL));
  g_assert_false (ep_dht_is_penalised (dht, NULL, address));
}

static gboolean
on_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
spin_ms (GMainContext *context,
         guint         msec)
{
  gboolean done = FALSE;
  GSource *timer = g_timeout_source_new (msec);

  g_source_set_callback (timer, on_timeout, &done, NULL);
  g_source_attach (timer, context);
  while (!done)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
}

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* A penalised node leaves the routing table, does not come back by
 * answering us, and a lookup does not ask it. */
static void
test_evicted_and_ignored (void)
{
  GMainContext *context = g_main_context_new ();
  g_autoptr(GError) error = NULL;
  EpUdp *udp[3];
  EpDht *dht[3];
  g_autofree char *bootstrap = NULL;
  const char *list[2] = { NULL, NULL };
  g_autoptr(GSocketAddress) b_address = NULL;
  guint8 target[20];
  gint64 deadline;

  g_main_context_push_thread_default (context);
  for (guint i = 0; i < 3; i++)
    {
      udp[i] = ep_udp_new ("127.0.0.1", 0, &error);
      g_assert_no_error (error);
      dht[i] = ep_dht_new (udp[i]);
      ep_dht_set_query_timeout (dht[i], 300);
    }
  bootstrap = g_strdup_printf ("127.0.0.1:%u", ep_udp_get_port (udp[0]));
  list[0] = bootstrap;
  ep_dht_start (dht[0], NULL);
  ep_dht_start (dht[1], list);
  ep_dht_start (dht[2], list);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while ((ep_dht_get_n_nodes (dht[1]) < 2 || ep_dht_get_n_nodes (dht[2]) < 2)
         && g_get_monotonic_time () < deadline)
    spin_ms (context, 20);
  g_assert_cmpuint (ep_dht_get_n_nodes (dht[2]), ==, 2);

  /* Node 2 penalises node 1. */
  b_address = ep_udp_get_local_address (udp[1], G_SOCKET_FAMILY_IPV4);
  ep_dht_penalise (dht[2], ep_dht_get_id (dht[1]), NULL);
  g_assert_cmpuint (ep_dht_get_n_nodes (dht[2]), ==, 1);
  g_assert_true (ep_dht_is_penalised (dht[2], ep_dht_get_id (dht[1]), NULL));

  /* A lookup: node 0 names node 1, node 2 leaves it out. */
  memcpy (target, ep_dht_get_id (dht[1]), 20);
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GPtrArray) nodes = NULL;
    guint64 received = ep_dht_get_counters (dht[1])->queries_received;

    ep_dht_find_node_async (dht[2], target, NULL, store_result, &result);
    deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
    while (result == NULL && g_get_monotonic_time () < deadline)
      g_main_context_iteration (context, TRUE);
    g_assert_nonnull (result);
    nodes = ep_dht_find_node_finish (dht[2], result, &error);
    g_assert_no_error (error);
    for (guint i = 0; i < nodes->len; i++)
      g_assert_cmpmem (((EpDhtNodeInfo *) nodes->pdata[i])->id, 20,
                       ep_dht_get_id (dht[0]), 20);
    g_assert_cmpuint (ep_dht_get_counters (dht[1])->queries_received, ==, received);
    g_assert_cmpuint (ep_dht_get_counters (dht[2])->dropped_penalised, >=, 1);
  }

  /* Node 1 answering a ping does not bring it back. */
  {
    g_autoptr(GAsyncResult) result = NULL;

    ep_dht_ping_async (dht[2], b_address, NULL, store_result, &result);
    deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
    while (result == NULL && g_get_monotonic_time () < deadline)
      g_main_context_iteration (context, TRUE);
    g_assert_true (ep_dht_ping_finish (dht[2], result, NULL, &error));
    g_assert_cmpuint (ep_dht_get_n_nodes (dht[2]), ==, 1);
  }

  for (guint i = 0; i < 3; i++)
    {
      g_object_unref (dht[i]);
      g_object_unref (udp[i]);
    }
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/dht-penalty/routing-table-remove", test_rt_remove);
  g_test_add_func ("/ep/dht-penalty/box-bounded", test_box_bounded);
  g_test_add_func ("/ep/dht-penalty/evicted-and-ignored", test_evicted_and_ignored);
  return g_test_run ();
}
