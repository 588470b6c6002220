/* test-routing-table.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gstdio.h>
#include <string.h>

#include "ep-core.h"

#define T0 100000

static const guint8 zero_id[20] = { 0 };

/* An ID sharing exactly @prefix leading bits with the zero ID. */
static void
make_id (guint8  id[20],
         guint   prefix,
         guint   serial)
{
  memset (id, 0, 20);
  id[prefix / 8] |= 0x80 >> (prefix % 8);
  id[19] = (guint8) serial;
  id[18] = (guint8) (serial >> 8);
}

static void
make_addr (guint8  addr[6],
           guint   host,
           guint16 port)
{
  addr[0] = 10;
  addr[1] = 0;
  addr[2] = (guint8) (host >> 8);
  addr[3] = (guint8) host;
  addr[4] = port >> 8;
  addr[5] = port & 0xff;
}

static EpRtResult
add (EpRoutingTable *rt,
     guint           prefix,
     guint           serial,
     gint64          now,
     EpRtNode       *ping)
{
  guint8 id[20], addr[6];

  make_id (id, prefix, serial);
  make_addr (addr, serial, 6881);
  return ep_routing_table_add (rt, id, addr, 6, now, ping);
}

static void
test_rt_split (void)
{
  EpRoutingTable *rt = ep_routing_table_new (zero_id, G_SOCKET_FAMILY_IPV4, 0);
  guint serial = 1;

  g_assert_cmpint (ep_routing_table_add (rt, zero_id, (const guint8 *) "\1\2\3\4\0\1", 6,
                                         T0, NULL), ==, EP_RT_REJECTED_SELF);

  /* 8 far nodes fill the only bucket; the 9th, close to us, splits it. */
  for (guint i = 0; i < 8; i++)
    g_assert_cmpint (add (rt, 0, serial++, T0, NULL), ==, EP_RT_ADDED);
  g_assert_cmpuint (ep_routing_table_n_buckets (rt), ==, 1);
  g_assert_cmpint (add (rt, 5, serial++, T0, NULL), ==, EP_RT_ADDED);
  g_assert_cmpuint (ep_routing_table_n_buckets (rt), ==, 2);
  g_assert_cmpuint (ep_routing_table_bucket_size (rt, 0), ==, 8);
  g_assert_cmpuint (ep_routing_table_bucket_size (rt, 1), ==, 1);

  /* Far bucket full, and not ours to split: a 9th far node waits. */
  g_assert_cmpint (add (rt, 0, serial++, T0, NULL), ==, EP_RT_CACHED);
  g_assert_cmpuint (ep_routing_table_size (rt), ==, 9);

  /* Nodes near us keep splitting the last bucket. */
  for (guint p = 10; p < 40; p++)
    g_assert_cmpint (add (rt, p, serial++, T0, NULL), ==, EP_RT_ADDED);
  g_assert_cmpuint (ep_routing_table_size (rt), ==, 39);
  g_assert_cmpuint (ep_routing_table_n_buckets (rt), >, 20);

  ep_routing_table_free (rt);
}

static void
test_rt_ping_before_evict (void)
{
  EpRoutingTable *rt = ep_routing_table_new (zero_id, G_SOCKET_FAMILY_IPV4, 0);
  EpRtNode ping;
  guint8 id[20], newcomer[20];

  /* Bucket 0 cannot split once a closer bucket exists. */
  g_assert_cmpint (add (rt, 100, 999, T0, NULL), ==, EP_RT_ADDED);
  for (guint i = 0; i < 8; i++)
    g_assert_cmpint (add (rt, 0, i, T0 + i, NULL), ==, EP_RT_ADDED);

  /* All good: a newcomer only goes to the replacement cache. */
  g_assert_cmpint (add (rt, 0, 50, T0 + 10, NULL), ==, EP_RT_CACHED);
  make_id (newcomer, 0, 50);
  g_assert_null (ep_routing_table_find (rt, newcomer));
  g_assert_true (ep_routing_table_in_cache (rt, newcomer));

  /* 16 min later the old ones are questionable: the oldest gets pinged. */
  g_assert_cmpint (add (rt, 0, 50, T0 + 16 * 60, &ping), ==, EP_RT_CACHED_PING);
  make_id (id, 0, 0);
  g_assert_cmpmem (ping.id, 20, id, 20);

  /* It answers: it stays, the newcomer keeps waiting. */
  g_assert_cmpint (ep_routing_table_add (rt, ping.id, ping.addr, 6, T0 + 16 * 60 + 1, NULL),
                   ==, EP_RT_UPDATED);
  g_assert_nonnull (ep_routing_table_find (rt, id));
  g_assert_null (ep_routing_table_find (rt, newcomer));

  /* The next questionable one is pinged and stays silent: it is replaced. */
  g_assert_cmpint (add (rt, 0, 50, T0 + 16 * 60 + 2, &ping), ==, EP_RT_CACHED_PING);
  make_id (id, 0, 1);
  g_assert_cmpmem (ping.id, 20, id, 20);
  g_assert_true (ep_routing_table_failed (rt, ping.id, ping.addr, 6, T0 + 16 * 60 + 10));
  g_assert_null (ep_routing_table_find (rt, id));
  g_assert_nonnull (ep_routing_table_find (rt, newcomer));
  g_assert_false (ep_routing_table_in_cache (rt, newcomer));

  ep_routing_table_free (rt);
}

static void
test_rt_good_node_survives_one_failure (void)
{
  EpRoutingTable *rt = ep_routing_table_new (zero_id, G_SOCKET_FAMILY_IPV4, 0);
  guint8 id[20], addr[6];

  make_id (id, 3, 1);
  make_addr (addr, 1, 1000);
  g_assert_cmpint (ep_routing_table_add (rt, id, addr, 6, T0, NULL), ==, EP_RT_ADDED);
  g_assert_false (ep_routing_table_failed (rt, id, addr, 6, T0 + 5));
  g_assert_cmpint (ep_rt_node_state (ep_routing_table_find (rt, id), T0 + 5), ==,
                   EP_RT_NODE_GOOD);
  g_assert_true (ep_routing_table_failed (rt, id, addr, 6, T0 + 6));
  g_assert_cmpint (ep_rt_node_state (ep_routing_table_find (rt, id), T0 + 6), ==,
                   EP_RT_NODE_BAD);
  g_assert_cmpuint (ep_routing_table_closest (rt, id, 8, T0 + 6, (EpRtNode[8]) { 0 }), ==, 0);

  /* Answering again makes it good. */
  g_assert_cmpint (ep_routing_table_add (rt, id, addr, 6, T0 + 7, NULL), ==, EP_RT_UPDATED);
  g_assert_cmpint (ep_rt_node_state (ep_routing_table_find (rt, id), T0 + 7), ==,
                   EP_RT_NODE_GOOD);
  ep_routing_table_free (rt);
}

static void
test_rt_bad_node_replaced (void)
{
  EpRoutingTable *rt = ep_routing_table_new (zero_id, G_SOCKET_FAMILY_IPV4, 0);
  guint8 id[20], addr[6], newcomer[20];

  g_assert_cmpint (add (rt, 100, 999, T0, NULL), ==, EP_RT_ADDED);
  for (guint i = 0; i < 8; i++)
    g_assert_cmpint (add (rt, 0, i, T0, NULL), ==, EP_RT_ADDED);

  make_id (id, 0, 3);
  make_addr (addr, 3, 6881);
  ep_routing_table_failed (rt, id, addr, 6, T0 + 1);
  ep_routing_table_failed (rt, id, addr, 6, T0 + 2);

  g_assert_cmpint (add (rt, 0, 77, T0 + 3, NULL), ==, EP_RT_REPLACED);
  make_id (newcomer, 0, 77);
  g_assert_nonnull (ep_routing_table_find (rt, newcomer));
  g_assert_null (ep_routing_table_find (rt, id));
  ep_routing_table_free (rt);
}

static void
test_rt_per_ip_limit (void)
{
  EpRoutingTable *rt = ep_routing_table_new (zero_id, G_SOCKET_FAMILY_IPV4, 1);
  guint8 id[20], addr[6];

  make_id (id, 1, 1);
  make_addr (addr, 7, 1000);
  g_assert_cmpint (ep_routing_table_add (rt, id, addr, 6, T0, NULL), ==, EP_RT_ADDED);
  make_id (id, 2, 2);
  make_addr (addr, 7, 1001);
  g_assert_cmpint (ep_routing_table_add (rt, id, addr, 6, T0, NULL), ==, EP_RT_REJECTED_IP);
  /* The same address under another ID is refused while the first is alive. */
  make_addr (addr, 7, 1000);
  g_assert_cmpint (ep_routing_table_add (rt, id, addr, 6, T0, NULL), ==,
                   EP_RT_REJECTED_CONFLICT);

  /* 0 = no limit: loopback test networks. */
  ep_routing_table_set_max_per_ip (rt, 0);
  make_addr (addr, 7, 1001);
  g_assert_cmpint (ep_routing_table_add (rt, id, addr, 6, T0, NULL), ==, EP_RT_ADDED);
  g_assert_cmpuint (ep_routing_table_size (rt), ==, 2);

  /* A known ID from a new address does not move while the old one lives. */
  make_addr (addr, 8, 1001);
  g_assert_cmpint (ep_routing_table_add (rt, id, addr, 6, T0, NULL), ==,
                   EP_RT_REJECTED_CONFLICT);
  ep_routing_table_free (rt);
}

static void
test_rt_closest (void)
{
  EpRoutingTable *rt = ep_routing_table_new (zero_id, G_SOCKET_FAMILY_IPV4, 0);
  EpRtNode out[8];
  guint8 target[20];
  guint n;

  for (guint p = 0; p < 30; p++)
    add (rt, p, p + 1, T0, NULL);

  make_id (target, 20, 0);
  n = ep_routing_table_closest (rt, target, 8, T0, out);
  g_assert_cmpuint (n, ==, 8);
  g_assert_cmpuint (ep_rt_common_prefix (out[0].id, target), >=, 20);
  for (guint i = 1; i < n; i++)
    g_assert_cmpint (ep_rt_distance_cmp (target, out[i - 1].id, out[i].id), <, 0);
  ep_routing_table_free (rt);
}

static void
test_rt_refresh (void)
{
  EpRoutingTable *rt = ep_routing_table_new (zero_id, G_SOCKET_FAMILY_IPV4, 0);
  guint8 target[20];

  for (guint i = 0; i < 9; i++)
    add (rt, i == 8 ? 10 : 0, i + 1, T0, NULL);
  g_assert_cmpuint (ep_routing_table_n_buckets (rt), ==, 2);

  g_assert_false (ep_routing_table_next_refresh (rt, T0 + 60, target));
  g_assert_true (ep_routing_table_next_refresh (rt, T0 + 15 * 60 + 1, target));
  /* Bucket 0: the first bit differs from ours. */
  g_assert_cmpuint (ep_rt_common_prefix (target, zero_id), ==, 0);
  g_assert_true (ep_routing_table_next_refresh (rt, T0 + 15 * 60 + 1, target));
  g_assert_cmpuint (ep_rt_common_prefix (target, zero_id), >=, 1);
  g_assert_false (ep_routing_table_next_refresh (rt, T0 + 15 * 60 + 1, target));
  ep_routing_table_free (rt);
}

static void
test_rt_save_load (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ep-rt-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "dht.state", NULL);
  EpRoutingTable *rt = ep_routing_table_new (zero_id, G_SOCKET_FAMILY_IPV4, 0);
  g_autoptr(GBytes) nodes = NULL;
  g_autoptr(GBytes) nodes6 = NULL;
  guint8 id[20];
  const guint8 *p;
  gsize len;

  for (guint i = 0; i < 5; i++)
    add (rt, i, i + 1, T0, NULL);
  g_assert_true (ep_routing_table_save_state (path, zero_id, rt, NULL, T0, &error));
  g_assert_no_error (error);

  memset (id, 0xff, 20);
  g_assert_true (ep_routing_table_load_state (path, id, &nodes, &nodes6, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (id, 20, zero_id, 20);
  g_assert_cmpuint (g_bytes_get_size (nodes6), ==, 0);
  p = g_bytes_get_data (nodes, &len);
  g_assert_cmpuint (len, ==, 5 * 26);
  for (guint i = 0; i < 5; i++)
    g_assert_nonnull (ep_routing_table_find (rt, p + i * 26));

  /* A damaged file is an error, not a crash. */
  g_assert_true (g_file_set_contents (path, "d2:id3:abce", -1, NULL));
  g_assert_false (ep_routing_table_load_state (path, id, NULL, NULL, &error));
  g_assert_error (error, EP_ROUTING_TABLE_ERROR, EP_ROUTING_TABLE_ERROR_CORRUPT);
  g_clear_error (&error);

  /* So is an empty dictionary, and a file far too large to be a state file
   * (refused before it is read). */
  g_assert_true (g_file_set_contents (path, "de", -1, NULL));
  g_assert_false (ep_routing_table_load_state (path, id, NULL, NULL, &error));
  g_assert_error (error, EP_ROUTING_TABLE_ERROR, EP_ROUTING_TABLE_ERROR_CORRUPT);
  g_clear_error (&error);
  {
    gsize big_len = 2 * 1024 * 1024;
    g_autofree char *big = g_malloc (big_len);

    memset (big, 'd', big_len);
    g_assert_true (g_file_set_contents (path, big, big_len, NULL));
  }
  g_assert_false (ep_routing_table_load_state (path, id, NULL, NULL, &error));
  g_assert_error (error, EP_ROUTING_TABLE_ERROR, EP_ROUTING_TABLE_ERROR_CORRUPT);

  g_unlink (path);
  g_rmdir (dir);
  ep_routing_table_free (rt);
}

static void
test_rt_set_id (void)
{
  EpRoutingTable *rt = ep_routing_table_new (zero_id, G_SOCKET_FAMILY_IPV4, 0);
  guint8 new_id[20], id[20];

  for (guint p = 0; p < 12; p++)
    add (rt, p, p + 1, T0, NULL);
  memset (new_id, 0xff, 20);
  ep_routing_table_set_id (rt, new_id);
  g_assert_cmpmem (ep_routing_table_get_id (rt), 20, new_id, 20);
  /* Seen from the new ID, 11 of them are in its far bucket, which holds 8. */
  g_assert_cmpuint (ep_routing_table_size (rt), ==, 9);
  make_id (id, 0, 1);
  g_assert_nonnull (ep_routing_table_find (rt, id));
  ep_routing_table_free (rt);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/routing-table/split", test_rt_split);
  g_test_add_func ("/ep/routing-table/ping-before-evict", test_rt_ping_before_evict);
  g_test_add_func ("/ep/routing-table/good-node-survives-one-failure",
                   test_rt_good_node_survives_one_failure);
  g_test_add_func ("/ep/routing-table/bad-node-replaced", test_rt_bad_node_replaced);
  g_test_add_func ("/ep/routing-table/per-ip-limit", test_rt_per_ip_limit);
  g_test_add_func ("/ep/routing-table/closest", test_rt_closest);
  g_test_add_func ("/ep/routing-table/refresh", test_rt_refresh);
  g_test_add_func ("/ep/routing-table/save-load", test_rt_save_load);
  g_test_add_func ("/ep/routing-table/set-id", test_rt_set_id);

  return g_test_run ();
}
