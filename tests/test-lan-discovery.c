/* test-lan-discovery.c
 *
 * The cases that send multicast need a network namespace where "lo" can
 * carry it: tests/run-lan-discovery.sh makes one and sets
 * EP_LAN_TEST_IFACE. Without it they skip. The codec and the receive
 * path fed directly are in test-lan-beacon.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "lan-test-util.h"

/* Main loop helpers */

typedef gboolean (*Condition) (gpointer data);

static gboolean
on_deadline (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Spins the thread-default context until @cond holds or @timeout_ms pass;
 * returns the milliseconds it took, or -1 on timeout. */
static gint64
wait_until (Condition cond,
            gpointer  data,
            guint     timeout_ms)
{
  GMainContext *context = g_main_context_get_thread_default ();
  gint64 start = g_get_monotonic_time ();
  gboolean expired = FALSE;
  GSource *deadline = g_timeout_source_new (timeout_ms);

  g_source_set_callback (deadline, on_deadline, &expired, NULL);
  g_source_attach (deadline, context);

  while (!cond (data) && !expired)
    g_main_context_iteration (context, TRUE);

  g_source_destroy (deadline);
  g_source_unref (deadline);
  return cond (data) ? (g_get_monotonic_time () - start) / 1000 : -1;
}

/* Spins for @ms and no longer. */
static void
spin_for (guint ms)
{
  GMainContext *context = g_main_context_get_thread_default ();
  gboolean expired = FALSE;
  GSource *deadline = g_timeout_source_new (ms);

  g_source_set_callback (deadline, on_deadline, &expired, NULL);
  g_source_attach (deadline, context);
  while (!expired)
    g_main_context_iteration (context, TRUE);
  g_source_unref (deadline);
}

typedef struct
{
  Node  **nodes;
  guint   n;
} Mesh;

static gboolean
all_found (gpointer data)
{
  Mesh *mesh = data;

  for (guint i = 0; i < mesh->n; i++)
    for (guint j = 0; j < mesh->n; j++)
      if (i != j && count_events (mesh->nodes[i]->found, mesh->nodes[j]->pk, NULL) == 0)
        return FALSE;
  return TRUE;
}

static const char *
test_iface (void)
{
  const char *iface = g_getenv ("EP_LAN_TEST_IFACE");

  if (iface == NULL)
    g_test_skip ("multicast needs the network namespace of tests/run-lan-discovery.sh");
  return iface;
}

static GMainContext *
push_context (void)
{
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  return context;
}

static void
pop_context (GMainContext *context)
{
  /* Let destroyed sources go before the context does. */
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
}

/* Over the wire */

static void
test_two (void)
{
  const char *iface = test_iface ();
  GMainContext *context;
  Node *a, *b;
  Node *nodes[2];
  Mesh mesh = { nodes, 2 };
  GInetSocketAddress *reported = NULL;
  gint64 took;

  if (iface == NULL)
    return;
  context = push_context ();

  /* A long interval: only the beacon at start and the reply to a new
   * peer can make this work within a second. */
  a = nodes[0] = node_new (100, iface, 1, 10000, 30000);
  b = nodes[1] = node_new (101, iface, 1, 10000, 30000);
  node_start (a);
  node_start (b);

  took = wait_until (all_found, &mesh, 1000);
  g_test_message ("two instances found each other in %" G_GINT64_FORMAT " ms", took);
  g_assert_cmpint (took, >=, 0);
  g_assert_cmpint (took, <, 1000);

  g_assert_cmpuint (count_events (a->found, b->pk, &reported), ==, 1);
  assert_address (reported, "127.0.0.1", b->session_port);
  g_assert_cmpuint (count_events (b->found, a->pk, &reported), ==, 1);
  assert_address (reported, "127.0.0.1", a->session_port);

  /* Neither reports itself, though each hears its own beacons. */
  spin_for (200);
  g_assert_cmpuint (count_events (a->found, a->pk, NULL), ==, 0);
  g_assert_cmpuint (count_events (b->found, b->pk, NULL), ==, 0);
  g_assert_cmpuint (ep_lan_discovery_get_counters (a->lan)->dropped_own, >=, 1);
  g_assert_cmpuint (ep_lan_discovery_get_counters (b->lan)->dropped_own, >=, 1);
  g_assert_cmpuint (a->found->len, ==, 1);
  g_assert_cmpuint (b->found->len, ==, 1);

  node_free (a);
  node_free (b);
  pop_context (context);
}

static void
test_three (void)
{
  const char *iface = test_iface ();
  GMainContext *context;
  Node *nodes[3];
  Mesh mesh = { nodes, 3 };
  gint64 took;

  if (iface == NULL)
    return;
  context = push_context ();

  for (guint i = 0; i < 3; i++)
    nodes[i] = node_new (200 + i, iface, 2, 300, 5000);
  for (guint i = 0; i < 3; i++)
    node_start (nodes[i]);

  took = wait_until (all_found, &mesh, 1000);
  g_test_message ("three instances found each other in %" G_GINT64_FORMAT " ms", took);
  g_assert_cmpint (took, >=, 0);
  g_assert_cmpint (took, <, 1000);

  /* Several periodic beacons later, each peer was still reported once. */
  spin_for (1000);
  for (guint i = 0; i < 3; i++)
    {
      const EpLanCounters *c = ep_lan_discovery_get_counters (nodes[i]->lan);

      g_assert_cmpuint (nodes[i]->found->len, ==, 2);
      g_assert_cmpuint (nodes[i]->lost->len, ==, 0);
      for (guint j = 0; j < 3; j++)
        {
          GInetSocketAddress *reported = NULL;

          if (i == j)
            continue;
          g_assert_cmpuint (count_events (nodes[i]->found, nodes[j]->pk, &reported), ==, 1);
          assert_address (reported, "127.0.0.1", nodes[j]->session_port);
        }
      g_assert_cmpuint (c->dropped_own, >=, 3);
      g_assert_cmpuint (c->accepted, >=, 6);
      g_assert_cmpuint (c->dropped_bad_signature + c->dropped_stale + c->dropped_rate_limited
                        + c->dropped_garbage + c->dropped_truncated, ==, 0);
    }

  for (guint i = 0; i < 3; i++)
    node_free (nodes[i]);
  pop_context (context);
}

static gboolean
has_lost (gpointer data)
{
  Node **pair = data;

  return count_events (pair[0]->lost, pair[1]->pk, NULL) > 0;
}

static void
test_lost_and_disabled (void)
{
  const char *iface = test_iface ();
  GMainContext *context;
  Node *nodes[2];
  Mesh mesh = { nodes, 2 };
  gboolean enabled;

  if (iface == NULL)
    return;
  context = push_context ();

  /* A timeout well above the interval, so that a busy machine does not
   * lose peers that are there. */
  nodes[0] = node_new (300, iface, 3, 100, 1200);
  nodes[1] = node_new (301, iface, 3, 100, 1200);
  node_start (nodes[0]);
  node_start (nodes[1]);
  g_assert_cmpint (wait_until (all_found, &mesh, 1000), >=, 0);

  /* Still there after several timeouts' worth of beacons. */
  spin_for (1500);
  g_assert_cmpuint (nodes[0]->lost->len, ==, 0);
  g_assert_cmpuint (nodes[0]->found->len, ==, 1);

  /* The setting off: B forgets A at once, A loses B after the timeout. */
  ep_lan_discovery_set_enabled (nodes[1]->lan, FALSE);
  g_object_get (nodes[1]->lan, "enabled", &enabled, NULL);
  g_assert_false (enabled);
  g_assert_false (ep_lan_discovery_get_active (nodes[1]->lan));
  g_assert_cmpuint (count_events (nodes[1]->lost, nodes[0]->pk, NULL), ==, 1);
  g_assert_cmpint (wait_until (has_lost, nodes, 3000), >=, 0);
  g_assert_cmpuint (ep_lan_discovery_get_counters (nodes[0]->lan)->peers, ==, 0);

  /* On again: found again, within a second. */
  g_ptr_array_set_size (nodes[0]->found, 0);
  g_ptr_array_set_size (nodes[1]->found, 0);
  ep_lan_discovery_set_enabled (nodes[1]->lan, TRUE);
  g_assert_true (ep_lan_discovery_get_active (nodes[1]->lan));
  g_assert_cmpint (wait_until (all_found, &mesh, 1000), >=, 0);

  /* Stopped: everything is lost, nothing more arrives. */
  ep_lan_discovery_stop (nodes[0]->lan);
  g_assert_false (ep_lan_discovery_get_active (nodes[0]->lan));
  g_assert_cmpuint (count_events (nodes[0]->lost, nodes[1]->pk, NULL), ==, 2);
  spin_for (300);
  g_assert_cmpuint (nodes[0]->found->len, ==, 1);

  node_free (nodes[0]);
  node_free (nodes[1]);
  pop_context (context);
}

static void
stop_on_found (EpLanDiscovery     *lan,
               GBytes             *key,
               GInetSocketAddress *address,
               gpointer            data)
{
  ep_lan_discovery_stop (lan);
}

static void
unref_on_found (EpLanDiscovery     *lan,
                GBytes             *key,
                GInetSocketAddress *address,
                EpLanDiscovery    **slot)
{
  g_clear_object (slot);
}

static gboolean
is_null (gpointer data)
{
  return *(gpointer *) data == NULL;
}

/* Handlers may stop discovery, or drop the last reference to it, while it
 * is reading datagrams. */
static void
test_handlers_reentrant (void)
{
  const char *iface = test_iface ();
  GMainContext *context;
  Node *nodes[3];
  EpLanDiscovery *doomed;

  if (iface == NULL)
    return;
  context = push_context ();

  for (guint i = 0; i < 3; i++)
    nodes[i] = node_new (700 + i, iface, 7, 100, 1000);

  g_signal_connect (nodes[0]->lan, "peer-found", G_CALLBACK (stop_on_found), NULL);
  doomed = g_steal_pointer (&nodes[1]->lan);
  g_signal_connect (doomed, "peer-found", G_CALLBACK (unref_on_found), &doomed);

  node_start (nodes[0]);
  g_assert_true (ep_lan_discovery_start (doomed, NULL));
  node_start (nodes[2]);

  g_assert_cmpint (wait_until (is_null, &doomed, 1000), >=, 0);
  g_assert_false (ep_lan_discovery_get_active (nodes[0]->lan));
  g_assert_cmpuint (nodes[0]->found->len, ==, 1);
  g_assert_cmpuint (nodes[0]->lost->len, ==, 1);

  /* The others go on; the stopped one hears nothing more. */
  spin_for (300);
  g_assert_cmpuint (nodes[0]->found->len, ==, 1);
  g_assert_true (ep_lan_discovery_get_active (nodes[2]->lan));

  for (guint i = 0; i < 3; i++)
    node_free (nodes[i]);
  pop_context (context);
}

/* A plain socket that multicasts on @iface from @source_ip. */
static GSocket *
raw_sender (const char *iface,
            const char *source_ip)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) local = address_new (source_ip, 0);
  g_autoptr(GError) error = NULL;
  struct ip_mreqn mreq = { 0 };

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, local, FALSE, &error));
  g_assert_no_error (error);
  mreq.imr_ifindex = (int) if_nametoindex (iface);
  g_assert_cmpint (inet_pton (AF_INET, source_ip, &mreq.imr_address), ==, 1);
  g_assert_cmpint (setsockopt (g_socket_get_fd (socket), IPPROTO_IP, IP_MULTICAST_IF,
                               &mreq, sizeof mreq), ==, 0);
  g_socket_set_multicast_ttl (socket, 1);
  g_socket_set_multicast_loopback (socket, TRUE);
  return g_steal_pointer (&socket);
}

static void
raw_send (GSocket      *socket,
          guint         test_id,
          const guint8 *data,
          gsize         len)
{
  g_autofree char *group = g_strdup_printf (GROUP_BASE "%u", test_id);
  g_autoptr(GSocketAddress) to = address_new (group, PORT_BASE + test_id);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_socket_send_to (socket, to, (const char *) data, len, NULL, &error), ==,
                   (gssize) len);
  g_assert_no_error (error);
}

typedef struct
{
  const EpLanCounters *counters;
  guint64              received;
} Received;

/* Our own beacons (at start, periodic, replies) come back too: not counted. */
static guint64
received_from_others (const EpLanCounters *c)
{
  return c->received - c->dropped_own;
}

static gboolean
has_received (gpointer data)
{
  Received *r = data;

  return received_from_others (r->counters) >= r->received;
}

static void
wait_received (Node    *node,
               guint64  n)
{
  Received r = { ep_lan_discovery_get_counters (node->lan), n };

  g_assert_cmpint (wait_until (has_received, &r, 2000), >=, 0);
}

static void
test_wire_hostile (void)
{
  const char *iface = test_iface ();
  GMainContext *context;
  Node *node;
  const EpLanCounters *c;
  g_autoptr(GSocket) sender = NULL;
  g_autoptr(GSocket) spoofer = NULL;
  guint8 pk[32], sk[64], other_pk[32], other_sk[64];
  guint8 datagram[EP_LAN_BEACON_SIZE], valid[EP_LAN_BEACON_SIZE];
  GInetSocketAddress *reported = NULL;
  gint64 now = g_get_real_time ();
  guint64 base;

  if (iface == NULL)
    return;
  context = push_context ();

  /* Long interval: the node's own beacon is sent once, at start. */
  node = node_new (400, iface, 4, 60000, 120000);
  node_start (node);
  c = ep_lan_discovery_get_counters (node->lan);
  base = received_from_others (c);
  g_assert_cmpuint (base, ==, 0);

  sender = raw_sender (iface, "127.0.0.2");
  spoofer = raw_sender (iface, "127.0.0.3");
  make_keys (401, pk, sk);
  make_keys (402, other_pk, other_sk);

  /* Valid, from 127.0.0.2: reported there, with the port it names. */
  make_beacon (sk, 6001, now, 9, valid);
  raw_send (sender, 4, valid, sizeof valid);
  wait_received (node, base + 1);
  g_assert_cmpuint (c->accepted, ==, 1);
  g_assert_cmpuint (count_events (node->found, pk, &reported), ==, 1);
  assert_address (reported, "127.0.0.2", 6001);

  /* Replayed by someone else, then by the same host. */
  raw_send (spoofer, 4, valid, sizeof valid);
  raw_send (sender, 4, valid, sizeof valid);
  /* Forged: other's signature over pk's fields. */
  make_beacon (other_sk, 6001, now + 1, 9, datagram);
  memcpy (datagram + 24, pk, 32);
  raw_send (spoofer, 4, datagram, sizeof datagram);
  /* Stale. */
  make_beacon (sk, 6001, now - 5 * 60 * G_USEC_PER_SEC, 9, datagram);
  raw_send (sender, 4, datagram, sizeof datagram);
  /* Garbage and truncated. */
  raw_send (sender, 4, (const guint8 *) "d1:y1:qe", 8);
  raw_send (sender, 4, valid, 60);

  wait_received (node, base + 7);
  g_assert_cmpuint (c->dropped_replayed, ==, 2);
  g_assert_cmpuint (c->dropped_bad_signature, ==, 1);
  g_assert_cmpuint (c->dropped_stale, ==, 1);
  g_assert_cmpuint (c->dropped_garbage, ==, 1);
  g_assert_cmpuint (c->dropped_truncated, ==, 1);
  g_assert_cmpuint (c->accepted, ==, 1);

  /* Nothing but the one valid beacon was reported, at its real source. */
  g_assert_cmpuint (node->found->len, ==, 1);
  g_assert_cmpuint (count_events (node->found, pk, &reported), ==, 1);
  assert_address (reported, "127.0.0.2", 6001);

  /* A flood of 1000 validly signed beacons from one address, sent in
   * batches so that the socket buffer never overflows. */
  base = received_from_others (c);
  for (guint batch = 0; batch < 10; batch++)
    {
      for (guint i = 0; i < 100; i++)
        {
          guint n = batch * 100 + i;

          make_keys (10000 + n, other_pk, other_sk);
          make_beacon (other_sk, 7000, now + n, n, datagram);
          raw_send (spoofer, 4, datagram, sizeof datagram);
        }
      wait_received (node, base + (batch + 1) * 100);
    }
  g_test_message ("flood of 1000: %" G_GUINT64_FORMAT " accepted, %" G_GUINT64_FORMAT
                  " rate-limited", c->accepted - 1, c->dropped_rate_limited);
  g_assert_cmpuint (received_from_others (c) - base, ==, 1000);
  g_assert_cmpuint (c->dropped_own, >=, 1);
  g_assert_cmpuint (c->accepted - 1, <=, 30);
  g_assert_cmpuint (c->accepted - 1 + c->dropped_rate_limited, ==, 1000);
  g_assert_cmpuint (c->peers, ==, c->accepted);
  g_assert_cmpuint (c->replay_entries, ==, c->accepted);
  g_assert_cmpuint (c->rate_limited_sources, ==, 2);

  node_free (node);
  pop_context (context);
}

static void
test_ipv6 (void)
{
  const char *iface = g_getenv ("EP_LAN_TEST_IFACE6");
  GMainContext *context;
  Node *nodes[2];
  Mesh mesh = { nodes, 2 };
  gint64 took;

  if (iface == NULL)
    {
      g_test_skip ("no interface for IPv6 multicast (set up by tests/run-lan-discovery.sh)");
      return;
    }
  context = push_context ();

  /* IPv6 only, on the veth pair the wrapper made. */
  for (guint i = 0; i < 2; i++)
    nodes[i] = node_new_full (500 + i, iface, NULL, "ff02::4550:5", 5, 10000, 30000);
  node_start (nodes[0]);
  node_start (nodes[1]);

  took = wait_until (all_found, &mesh, 1000);
  g_test_message ("IPv6: found in %" G_GINT64_FORMAT " ms", took);
  g_assert_cmpint (took, >=, 0);

  for (guint i = 0; i < 2; i++)
    {
      GInetSocketAddress *reported = NULL;
      GInetAddress *ip;

      g_assert_cmpuint (count_events (nodes[i]->found, nodes[1 - i]->pk, &reported), ==, 1);
      ip = g_inet_socket_address_get_address (reported);
      g_assert_cmpint (g_inet_address_get_family (ip), ==, G_SOCKET_FAMILY_IPV6);
      g_assert_true (g_inet_address_get_is_link_local (ip));
      g_assert_cmpuint (g_inet_socket_address_get_scope_id (reported), ==, if_nametoindex (iface));
      g_assert_cmpuint (g_inet_socket_address_get_port (reported), ==, nodes[1 - i]->session_port);
    }

  node_free (nodes[0]);
  node_free (nodes[1]);
  pop_context (context);
}

/* With no interface named, every one that can multicast is used, and lo
 * when no other has IPv4. Only inside the test's network namespace, where
 * that is lo and the wrapper's veth pair. */
static void
test_all_interfaces (void)
{
  const char *iface = test_iface ();
  GMainContext *context;
  Node *nodes[2];
  Mesh mesh = { nodes, 2 };

  if (iface == NULL)
    return;
  context = push_context ();

  for (guint i = 0; i < 2; i++)
    nodes[i] = node_new_full (800 + i, NULL, GROUP_BASE "8", "ff02::4550:8", 8, 10000, 30000);
  node_start (nodes[0]);
  node_start (nodes[1]);

  g_assert_cmpint (wait_until (all_found, &mesh, 1000), >=, 0);
  for (guint i = 0; i < 2; i++)
    {
      gboolean v4 = FALSE, v6 = FALSE;

      for (guint j = 0; j < nodes[i]->found->len; j++)
        {
          Event *event = g_ptr_array_index (nodes[i]->found, j);
          GInetAddress *ip = g_inet_socket_address_get_address (event->address);

          g_assert_cmpmem (g_bytes_get_data (event->key, NULL), 32, nodes[1 - i]->pk, 32);
          g_assert_cmpuint (g_inet_socket_address_get_port (event->address), ==,
                            nodes[1 - i]->session_port);
          if (g_inet_address_get_family (ip) == G_SOCKET_FAMILY_IPV4)
            v4 = TRUE;
          else
            v6 = TRUE;
        }
      g_assert_true (v4);
      if (g_getenv ("EP_LAN_TEST_IFACE6") != NULL)
        g_assert_true (v6);
    }

  node_free (nodes[0]);
  node_free (nodes[1]);
  pop_context (context);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");

  g_test_add_func ("/ep/lan-discovery/two", test_two);
  g_test_add_func ("/ep/lan-discovery/three", test_three);
  g_test_add_func ("/ep/lan-discovery/lost-and-disabled", test_lost_and_disabled);
  g_test_add_func ("/ep/lan-discovery/handlers-reentrant", test_handlers_reentrant);
  g_test_add_func ("/ep/lan-discovery/wire-hostile", test_wire_hostile);
  g_test_add_func ("/ep/lan-discovery/ipv6", test_ipv6);
  g_test_add_func ("/ep/lan-discovery/all-interfaces", test_all_interfaces);

  return g_test_run ();
}
