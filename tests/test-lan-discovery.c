/* test-lan-discovery.c
 *
 * The cases that send multicast need a network namespace where "lo" can
 * carry it: tests/run-lan-discovery.sh makes one and sets
 * EP_LAN_TEST_IFACE. Without it they skip; the rest feed datagrams
 * straight into ep_lan_discovery_receive() and run anywhere.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

#include "ep-core.h"

#define GROUP_BASE "239.255.77."
#define PORT_BASE  31000

typedef struct
{
  GBytes             *key;
  GInetSocketAddress *address;
} Event;

typedef struct
{
  guint8          pk[32];
  guint8          sk[64];
  guint16         session_port;
  EpLanDiscovery *lan;
  GPtrArray      *found;
  GPtrArray      *lost;
} Node;

static void
event_free (Event *event)
{
  g_bytes_unref (event->key);
  g_object_unref (event->address);
  g_free (event);
}

static void
on_peer (EpLanDiscovery     *lan,
         GBytes             *key,
         GInetSocketAddress *address,
         GPtrArray          *events)
{
  Event *event = g_new0 (Event, 1);

  g_assert_cmpuint (g_bytes_get_size (key), ==, 32);
  event->key = g_bytes_ref (key);
  event->address = g_object_ref (address);
  g_ptr_array_add (events, event);
}

static void
make_keys (guint   seed,
           guint8  pk[32],
           guint8  sk[64])
{
  guint8 bytes[32] = { 0 };

  memcpy (bytes, &seed, sizeof seed);
  bytes[31] = 0x5a;
  crypto_sign_seed_keypair (pk, sk, bytes);
}

static Node *
node_new_full (guint       seed,
               const char *iface,
               const char *group,
               const char *group6,
               guint       test_id,
               guint       interval_ms,
               guint       timeout_ms)
{
  Node *node = g_new0 (Node, 1);
  g_autoptr(GBytes) key = NULL;

  make_keys (seed, node->pk, node->sk);
  node->session_port = (guint16) (40000 + seed);
  key = g_bytes_new (node->pk, 32);
  node->lan = g_object_new (EP_TYPE_LAN_DISCOVERY,
                            "public-key", key,
                            "session-port", (guint) node->session_port,
                            "group", group,
                            "group6", group6,
                            "beacon-port", PORT_BASE + test_id,
                            "interface", iface,
                            "interval", interval_ms,
                            "peer-timeout", timeout_ms,
                            NULL);
  ep_lan_discovery_set_secret_key (node->lan, node->sk);
  node->found = g_ptr_array_new_with_free_func ((GDestroyNotify) event_free);
  node->lost = g_ptr_array_new_with_free_func ((GDestroyNotify) event_free);
  g_signal_connect (node->lan, "peer-found", G_CALLBACK (on_peer), node->found);
  g_signal_connect (node->lan, "peer-lost", G_CALLBACK (on_peer), node->lost);
  return node;
}

/* IPv4 only. @iface NULL: never started, for ep_lan_discovery_receive(). */
static Node *
node_new (guint       seed,
          const char *iface,
          guint       test_id,
          guint       interval_ms,
          guint       timeout_ms)
{
  g_autofree char *group = g_strdup_printf (GROUP_BASE "%u", test_id);

  return node_new_full (seed, iface, group, NULL, test_id, interval_ms, timeout_ms);
}

static void
node_start (Node *node)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ep_lan_discovery_start (node->lan, &error));
  g_assert_no_error (error);
  g_assert_true (ep_lan_discovery_get_active (node->lan));
}

static void
node_free (Node *node)
{
  g_clear_object (&node->lan);
  g_ptr_array_unref (node->found);
  g_ptr_array_unref (node->lost);
  g_free (node);
}

/* How many events name @pk; the last one's address in @address. */
static guint
count_events (GPtrArray           *events,
              const guint8         pk[32],
              GInetSocketAddress **address)
{
  guint n = 0;

  for (guint i = 0; i < events->len; i++)
    {
      Event *event = g_ptr_array_index (events, i);

      if (memcmp (g_bytes_get_data (event->key, NULL), pk, 32) == 0)
        {
          n++;
          if (address != NULL)
            *address = event->address;
        }
    }
  return n;
}

static void
assert_address (GInetSocketAddress *address,
                const char         *ip,
                guint16             port)
{
  g_autofree char *text = NULL;

  g_assert_nonnull (address);
  text = g_inet_address_to_string (g_inet_socket_address_get_address (address));
  g_assert_cmpstr (text, ==, ip);
  g_assert_cmpuint (g_inet_socket_address_get_port (address), ==, port);
}

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

/* Beacons made by hand, signed with any key */

static void
make_beacon (const guint8  sk[64],
             guint16       port,
             gint64        timestamp_us,
             guint64       nonce,
             guint8        out[EP_LAN_BEACON_SIZE])
{
  EpLanBeacon beacon = { 0 };

  beacon.version = EP_LAN_BEACON_VERSION;
  beacon.port = port;
  beacon.timestamp_us = timestamp_us;
  beacon.nonce = nonce;
  memcpy (beacon.public_key, sk + 32, 32);
  g_assert_true (ep_lan_beacon_sign (&beacon, ep_lan_beacon_sign_with_secret_key, (gpointer) sk));
  ep_lan_beacon_encode (&beacon, out);
}

static GSocketAddress *
address_new (const char *ip,
             guint16     port)
{
  return g_inet_socket_address_new_from_string (ip, port);
}

/* The codec */

static void
test_beacon_codec (void)
{
  guint8 pk[32], sk[64], other_pk[32], other_sk[64];
  guint8 datagram[EP_LAN_BEACON_SIZE + 1];
  EpLanBeacon beacon;
  gint64 now = g_get_real_time ();

  make_keys (1, pk, sk);
  make_keys (2, other_pk, other_sk);
  make_beacon (sk, 4242, now, 0x0102030405060708, datagram);

  g_assert_cmpmem (datagram, 4, EP_LAN_BEACON_MAGIC, 4);
  g_assert_cmpint (ep_lan_beacon_parse (datagram, EP_LAN_BEACON_SIZE, &beacon), ==,
                   EP_LAN_BEACON_OK);
  g_assert_cmpuint (beacon.port, ==, 4242);
  g_assert_cmpint (beacon.timestamp_us, ==, now);
  g_assert_cmpuint (beacon.nonce, ==, 0x0102030405060708);
  g_assert_cmpmem (beacon.public_key, 32, pk, 32);
  g_assert_true (ep_lan_beacon_verify (&beacon));

  /* Every single flipped bit breaks the signature or the shape. */
  for (guint bit = 0; bit < EP_LAN_BEACON_SIZE * 8; bit++)
    {
      EpLanBeacon flipped;

      datagram[bit / 8] ^= (guint8) (1 << (bit % 8));
      if (ep_lan_beacon_parse (datagram, EP_LAN_BEACON_SIZE, &flipped) == EP_LAN_BEACON_OK)
        g_assert_false (ep_lan_beacon_verify (&flipped));
      datagram[bit / 8] ^= (guint8) (1 << (bit % 8));
    }

  /* A signature by another key over the same fields. */
  beacon.signature[0] ^= 1;
  g_assert_false (ep_lan_beacon_verify (&beacon));
  g_assert_true (ep_lan_beacon_sign (&beacon, ep_lan_beacon_sign_with_secret_key, other_sk));
  g_assert_false (ep_lan_beacon_verify (&beacon));

  /* Shapes. */
  for (gsize len = 0; len < 4; len++)
    g_assert_cmpint (ep_lan_beacon_parse (datagram, len, &beacon), ==, EP_LAN_BEACON_GARBAGE);
  for (gsize len = 4; len < EP_LAN_BEACON_SIZE; len++)
    g_assert_cmpint (ep_lan_beacon_parse (datagram, len, &beacon), ==, EP_LAN_BEACON_TRUNCATED);
  g_assert_cmpint (ep_lan_beacon_parse (datagram, EP_LAN_BEACON_SIZE + 1, &beacon), ==,
                   EP_LAN_BEACON_MALFORMED);
  g_assert_cmpint (ep_lan_beacon_parse ((const guint8 *) "d1:ad2:id20:", 12, &beacon), ==,
                   EP_LAN_BEACON_GARBAGE);

  datagram[4] = 2;
  g_assert_cmpint (ep_lan_beacon_parse (datagram, EP_LAN_BEACON_SIZE, &beacon), ==,
                   EP_LAN_BEACON_BAD_VERSION);
  g_assert_cmpint (ep_lan_beacon_parse (datagram, 5, &beacon), ==, EP_LAN_BEACON_BAD_VERSION);
  datagram[4] = 1;

  make_beacon (sk, 0, now, 1, datagram);
  g_assert_cmpint (ep_lan_beacon_parse (datagram, EP_LAN_BEACON_SIZE, &beacon), ==,
                   EP_LAN_BEACON_MALFORMED);
  make_beacon (sk, 1, 0, 1, datagram);
  g_assert_cmpint (ep_lan_beacon_parse (datagram, EP_LAN_BEACON_SIZE, &beacon), ==,
                   EP_LAN_BEACON_MALFORMED);
  make_beacon (sk, 1, -1, 1, datagram);
  g_assert_cmpint (ep_lan_beacon_parse (datagram, EP_LAN_BEACON_SIZE, &beacon), ==,
                   EP_LAN_BEACON_MALFORMED);
}

/* The receive path, fed directly */

static void
test_receive_hostile (void)
{
  Node *node = node_new (10, NULL, 0, 5000, 20000);
  const EpLanCounters *c = ep_lan_discovery_get_counters (node->lan);
  g_autoptr(GSocketAddress) from = address_new ("192.168.1.20", 28657);
  g_autoptr(GSocketAddress) spoofed = address_new ("192.168.1.66", 28657);
  guint8 pk[32], sk[64], other_pk[32], other_sk[64];
  guint8 datagram[EP_LAN_BEACON_SIZE];
  GInetSocketAddress *reported = NULL;
  gint64 now = g_get_real_time ();

  make_keys (11, pk, sk);
  make_keys (12, other_pk, other_sk);

  /* A good beacon: reported at its source address with its own port. */
  make_beacon (sk, 5555, now, 77, datagram);
  ep_lan_discovery_receive (node->lan, from, datagram, sizeof datagram);
  g_assert_cmpuint (c->accepted, ==, 1);
  g_assert_cmpuint (count_events (node->found, pk, &reported), ==, 1);
  assert_address (reported, "192.168.1.20", 5555);

  /* The same bytes again, and from another address: replayed. */
  ep_lan_discovery_receive (node->lan, from, datagram, sizeof datagram);
  ep_lan_discovery_receive (node->lan, spoofed, datagram, sizeof datagram);
  g_assert_cmpuint (c->dropped_replayed, ==, 2);
  g_assert_cmpuint (count_events (node->found, pk, NULL), ==, 1);

  /* Forged: fields of one key, signature of another. */
  make_beacon (other_sk, 5555, now + 1, 77, datagram);
  memcpy (datagram + 24, pk, 32);
  ep_lan_discovery_receive (node->lan, spoofed, datagram, sizeof datagram);
  g_assert_cmpuint (c->dropped_bad_signature, ==, 1);

  /* A port changed in a good beacon. */
  make_beacon (sk, 5555, now + 2, 77, datagram);
  datagram[7] ^= 1;
  ep_lan_discovery_receive (node->lan, spoofed, datagram, sizeof datagram);
  g_assert_cmpuint (c->dropped_bad_signature, ==, 2);

  /* Stale, either way, and just inside the window. */
  make_beacon (sk, 5555, now - 3 * 60 * G_USEC_PER_SEC, 77, datagram);
  ep_lan_discovery_receive (node->lan, from, datagram, sizeof datagram);
  make_beacon (sk, 5555, now + 3 * 60 * G_USEC_PER_SEC, 77, datagram);
  ep_lan_discovery_receive (node->lan, from, datagram, sizeof datagram);
  g_assert_cmpuint (c->dropped_stale, ==, 2);
  make_beacon (other_sk, 6666, now - 100 * G_USEC_PER_SEC, 1, datagram);
  ep_lan_discovery_receive (node->lan, from, datagram, sizeof datagram);
  g_assert_cmpuint (c->accepted, ==, 2);

  /* Garbage, truncated, too long, another version. */
  ep_lan_discovery_receive (node->lan, from, (const guint8 *) "hello world", 11);
  ep_lan_discovery_receive (node->lan, from, (const guint8 *) "", 0);
  make_beacon (sk, 5555, now + 3, 77, datagram);
  ep_lan_discovery_receive (node->lan, from, datagram, EP_LAN_BEACON_SIZE - 1);
  ep_lan_discovery_receive (node->lan, from, datagram, 6);
  datagram[4] = 9;
  ep_lan_discovery_receive (node->lan, from, datagram, sizeof datagram);
  g_assert_cmpuint (c->dropped_garbage, ==, 2);
  g_assert_cmpuint (c->dropped_truncated, ==, 2);
  g_assert_cmpuint (c->dropped_version, ==, 1);

  /* A source we could never answer. */
  {
    g_autoptr(GSocketAddress) any = address_new ("0.0.0.0", 28657);
    g_autoptr(GSocketAddress) mcast = address_new ("239.255.70.80", 28657);
    g_autoptr(GSocketAddress) bcast = address_new ("255.255.255.255", 28657);

    make_beacon (sk, 5555, now + 4, 77, datagram);
    ep_lan_discovery_receive (node->lan, any, datagram, sizeof datagram);
    ep_lan_discovery_receive (node->lan, mcast, datagram, sizeof datagram);
    ep_lan_discovery_receive (node->lan, bcast, datagram, sizeof datagram);
    g_assert_cmpuint (c->dropped_bad_source, ==, 3);
  }

  /* Our own key with our own nonce is us; we cannot read the nonce, but a
   * beacon with our key and another nonce is another copy of us. */
  make_beacon (node->sk, 7777, now, 1, datagram);
  ep_lan_discovery_receive (node->lan, from, datagram, sizeof datagram);
  g_assert_cmpuint (count_events (node->found, node->pk, NULL), ==, 1);

  /* Nothing else was reported, and every datagram was counted once. */
  g_assert_cmpuint (count_events (node->found, pk, NULL), ==, 1);
  g_assert_cmpuint (node->found->len, ==, 3);
  g_assert_cmpuint (c->received, ==,
                    c->accepted + c->dropped_garbage + c->dropped_truncated
                    + c->dropped_malformed + c->dropped_version + c->dropped_bad_source
                    + c->dropped_own + c->dropped_rate_limited + c->dropped_stale
                    + c->dropped_replayed + c->dropped_bad_signature);
  g_assert_cmpuint (c->accepted, ==, 3);

  node_free (node);
}

static void
test_receive_address_change (void)
{
  Node *node = node_new (20, NULL, 0, 5000, 20000);
  g_autoptr(GSocketAddress) first = address_new ("10.1.1.1", 1);
  g_autoptr(GSocketAddress) second = address_new ("10.1.1.2", 1);
  g_autoptr(GSocketAddress) third = address_new ("10.1.1.3", 1);
  g_autoptr(GSocketAddress) v6 = address_new ("fd00::5", 1);
  guint8 pk[32], sk[64], datagram[EP_LAN_BEACON_SIZE];
  GInetSocketAddress *reported = NULL;
  gint64 now = g_get_real_time ();

  make_keys (21, pk, sk);

  make_beacon (sk, 1000, now, 5, datagram);
  ep_lan_discovery_receive (node->lan, first, datagram, sizeof datagram);
  /* Heard again at the same place: nothing new. */
  make_beacon (sk, 1000, now + 10, 5, datagram);
  ep_lan_discovery_receive (node->lan, first, datagram, sizeof datagram);
  g_assert_cmpuint (count_events (node->found, pk, NULL), ==, 1);

  /* A newer beacon from elsewhere moves the peer. */
  make_beacon (sk, 1000, now + 20, 5, datagram);
  ep_lan_discovery_receive (node->lan, second, datagram, sizeof datagram);
  g_assert_cmpuint (count_events (node->found, pk, &reported), ==, 2);
  assert_address (reported, "10.1.1.2", 1000);

  /* So does a new port. */
  make_beacon (sk, 1001, now + 30, 5, datagram);
  ep_lan_discovery_receive (node->lan, second, datagram, sizeof datagram);
  g_assert_cmpuint (count_events (node->found, pk, &reported), ==, 3);
  assert_address (reported, "10.1.1.2", 1001);

  /* An older one from a third place does not. */
  make_beacon (sk, 1000, now + 15, 5, datagram);
  ep_lan_discovery_receive (node->lan, third, datagram, sizeof datagram);
  g_assert_cmpuint (count_events (node->found, pk, NULL), ==, 3);

  /* IPv6 is tracked on its own. */
  make_beacon (sk, 1001, now + 40, 5, datagram);
  ep_lan_discovery_receive (node->lan, v6, datagram, sizeof datagram);
  g_assert_cmpuint (count_events (node->found, pk, &reported), ==, 4);
  assert_address (reported, "fd00::5", 1001);
  g_assert_cmpuint (ep_lan_discovery_get_counters (node->lan)->peers, ==, 2);
  g_assert_cmpuint (node->lost->len, ==, 0);

  node_free (node);
}

static void
test_receive_flood (void)
{
  Node *node = node_new (30, NULL, 0, 5000, 20000);
  const EpLanCounters *c = ep_lan_discovery_get_counters (node->lan);
  g_autoptr(GSocketAddress) from = address_new ("192.168.7.7", 28657);
  guint8 pk[32], sk[64], datagram[EP_LAN_BEACON_SIZE];
  gint64 now = g_get_real_time ();
  guint max_peers, peers_after_first;

  g_object_get (node->lan, "max-peers", &max_peers, NULL);

  /* 1000 valid beacons of 1000 keys from one address. */
  for (guint i = 0; i < 1000; i++)
    {
      make_keys (1000 + i, pk, sk);
      make_beacon (sk, 2000, now + i, i, datagram);
      ep_lan_discovery_receive (node->lan, from, datagram, sizeof datagram);
    }
  g_assert_cmpuint (c->received, ==, 1000);
  g_assert_cmpuint (c->accepted, <=, 25);
  g_assert_cmpuint (c->dropped_rate_limited, >=, 975);
  g_assert_cmpuint (node->found->len, ==, c->accepted);
  g_assert_cmpuint (c->rate_limited_sources, ==, 1);
  peers_after_first = c->peers;

  /* 3000 from 3000 addresses: every table stays within its bound, the
   * oldest peers go (with peer-lost). */
  for (guint i = 0; i < 3000; i++)
    {
      g_autofree char *ip = g_strdup_printf ("10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
      g_autoptr(GSocketAddress) source = address_new (ip, 28657);

      make_keys (5000 + i, pk, sk);
      make_beacon (sk, 2000, now + i, i, datagram);
      ep_lan_discovery_receive (node->lan, source, datagram, sizeof datagram);
    }
  g_assert_cmpuint (c->peers, ==, max_peers);
  g_assert_cmpuint (c->rate_limited_sources, <=, 256);
  g_assert_cmpuint (c->replay_entries, <=, 4096);
  g_assert_cmpuint (node->lost->len, ==, peers_after_first + 3000 - max_peers);
  g_assert_cmpuint (node->found->len - node->lost->len, ==, max_peers);

  /* Once full, the bounds do not move whatever comes next. */
  for (guint i = 0; i < 2000; i++)
    {
      g_autofree char *ip = g_strdup_printf ("10.9.%u.%u", (i >> 8) & 255, i & 255);
      g_autoptr(GSocketAddress) source = address_new (ip, 28657);

      make_keys (9000 + i, pk, sk);
      make_beacon (sk, 2000, now + i, i, datagram);
      ep_lan_discovery_receive (node->lan, source, datagram, sizeof datagram);
    }
  g_assert_cmpuint (c->peers, ==, max_peers);
  g_assert_cmpuint (c->rate_limited_sources, <=, 256);
  g_assert_cmpuint (c->replay_entries, <=, 4096);

  node_free (node);
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

static void
test_errors (void)
{
  guint8 pk[32], sk[64];
  g_autoptr(GBytes) key = NULL;
  g_autoptr(EpLanDiscovery) lan = NULL;
  g_autoptr(EpLanDiscovery) bad_group = NULL;
  g_autoptr(EpLanDiscovery) bad_iface = NULL;
  g_autoptr(GError) error = NULL;

  make_keys (600, pk, sk);
  key = g_bytes_new (pk, 32);

  lan = ep_lan_discovery_new (pk, 1234);
  g_assert_cmpuint (ep_lan_discovery_get_session_port (lan), ==, 1234);
  g_assert_false (ep_lan_discovery_start (lan, &error));
  g_assert_error (error, EP_LAN_DISCOVERY_ERROR, EP_LAN_DISCOVERY_ERROR_NO_SIGNER);
  g_clear_error (&error);
  g_assert_false (ep_lan_discovery_get_active (lan));

  /* Neither of these opens a socket that could send anything. */
  bad_group = g_object_new (EP_TYPE_LAN_DISCOVERY, "public-key", key, "session-port", 1234,
                            "group", "10.0.0.1", "group6", NULL, NULL);
  ep_lan_discovery_set_secret_key (bad_group, sk);
  g_assert_false (ep_lan_discovery_start (bad_group, &error));
  g_assert_error (error, EP_LAN_DISCOVERY_ERROR, EP_LAN_DISCOVERY_ERROR_INVALID_GROUP);
  g_clear_error (&error);

  bad_iface = g_object_new (EP_TYPE_LAN_DISCOVERY, "public-key", key, "session-port", 1234,
                            "group", "239.255.77.9", "group6", NULL,
                            "interface", "ep-no-such-if0", NULL);
  ep_lan_discovery_set_secret_key (bad_iface, sk);
  g_assert_false (ep_lan_discovery_start (bad_iface, &error));
  g_assert_error (error, EP_LAN_DISCOVERY_ERROR, EP_LAN_DISCOVERY_ERROR_NO_INTERFACE);
  g_assert_false (ep_lan_discovery_get_active (bad_iface));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");

  g_test_add_func ("/ep/lan-discovery/beacon-codec", test_beacon_codec);
  g_test_add_func ("/ep/lan-discovery/errors", test_errors);
  g_test_add_func ("/ep/lan-discovery/receive-hostile", test_receive_hostile);
  g_test_add_func ("/ep/lan-discovery/receive-address-change", test_receive_address_change);
  g_test_add_func ("/ep/lan-discovery/receive-flood", test_receive_flood);
  g_test_add_func ("/ep/lan-discovery/two", test_two);
  g_test_add_func ("/ep/lan-discovery/three", test_three);
  g_test_add_func ("/ep/lan-discovery/lost-and-disabled", test_lost_and_disabled);
  g_test_add_func ("/ep/lan-discovery/handlers-reentrant", test_handlers_reentrant);
  g_test_add_func ("/ep/lan-discovery/wire-hostile", test_wire_hostile);
  g_test_add_func ("/ep/lan-discovery/ipv6", test_ipv6);
  g_test_add_func ("/ep/lan-discovery/all-interfaces", test_all_interfaces);

  return g_test_run ();
}
