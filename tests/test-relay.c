/* test-relay.c — relays: forwarding, the fallback to them, limits, the idle budget
 *
 * Everything on 127.0.0.1. Direct paths between two nodes are cut with
 * the EpUdp filter (so hole punching cannot work); the relay's filter
 * captures what it sees.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "node-test-util.h"
#include "ep-session-private.h"

#define SECRET_TEXT "the relay must never read this"

/* A relay on its own sockets. */
typedef struct
{
  EpUdp      *udp;
  EpIdentity *identity;
  EpRelay    *relay;
  GPtrArray  *wire;          /* GBytes: every datagram in or out */
  GPtrArray  *inner;         /* GBytes: every inner packet forwarded */
} TestRelay;

static gboolean
capture (EpUdp          *udp,
         gboolean        outgoing,
         GSocketAddress *peer,
         const guint8   *data,
         gsize           len,
         gpointer        user_data)
{
  TestRelay *r = user_data;

  g_ptr_array_add (r->wire, g_bytes_new (data, len));
  return TRUE;
}

static void
on_forwarded (EpRelay   *relay,
              GBytes    *source,
              GBytes    *destination,
              GBytes    *inner,
              TestRelay *r)
{
  g_ptr_array_add (r->inner, g_bytes_ref (inner));
}

static void
test_relay_start (TestRelay *r)
{
  g_autoptr(GError) error = NULL;

  r->udp = ep_udp_new ("127.0.0.1", 0, &error);
  g_assert_no_error (error);
  r->identity = ep_identity_new_random ();
  r->relay = ep_relay_new (r->udp, r->identity);
  r->wire = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  r->inner = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  ep_udp_set_filter (r->udp, capture, r);
  g_signal_connect (r->relay, "forwarded", G_CALLBACK (on_forwarded), r);
}

static GSocketAddress *
test_relay_address (TestRelay *r)
{
  return g_inet_socket_address_new_from_string ("127.0.0.1", ep_udp_get_port (r->udp));
}

static void
test_relay_clear (TestRelay *r)
{
  ep_udp_set_filter (r->udp, NULL, NULL);
  g_clear_object (&r->relay);
  g_clear_object (&r->identity);
  g_clear_object (&r->udp);
  g_clear_pointer (&r->wire, g_ptr_array_unref);
  g_clear_pointer (&r->inner, g_ptr_array_unref);
}

static gboolean
bytes_contain (GBytes     *bytes,
               const char *needle)
{
  gsize len, n = strlen (needle);
  const guint8 *data = g_bytes_get_data (bytes, &len);

  for (gsize i = 0; i + n <= len; i++)
    if (memcmp (data + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

/* Drops every datagram between two nodes' ports, both ways. */
typedef struct
{
  guint16 a;
  guint16 b;
  guint   dropped;
} Cut;

static gboolean
cut_direct (EpUdp          *udp,
            gboolean        outgoing,
            GSocketAddress *peer,
            const guint8   *data,
            gsize           len,
            gpointer        user_data)
{
  Cut *cut = user_data;
  guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (peer));

  if (port == cut->a || port == cut->b)
    {
      cut->dropped++;
      return FALSE;
    }
  return TRUE;
}

static void
node_use_relay (TestNode  *t,
                TestRelay *r,
                guint      grace_ms)
{
  g_autoptr(GSocketAddress) address = test_relay_address (r);
  EpNodeTiming timing;

  ep_node_get_timing (t->node, &timing);
  timing.relay_grace_ms = grace_ms;
  ep_node_set_timing (t->node, &timing);
  g_assert_true (ep_node_add_relay (t->node, ep_relay_get_key (r->relay), address));
  /* Our own key is no relay. */
  g_assert_false (ep_node_add_relay (t->node, t->key, address));
}

static void
send_one (TestNode   *from,
          TestNode   *to,
          const char *text)
{
  Sends s = { 1, 0 };

  ep_node_send_message_async (from->node, test_node_key (to), text, NULL, on_sent, &s);
  g_assert_true (spin_until (sends_done, &s, 10));
  g_assert_cmpuint (s.failed, ==, 0);
}

static gboolean
relay_has_clients (gpointer data)
{
  return ep_relay_get_n_clients (((TestRelay *) data)->relay) >= 2;
}

/* A and B cannot reach each other: they meet through the relay. */
static void
test_relayed_chat (void)
{
  TestRelay r = { 0 };
  TestNode a = { 0 }, b = { 0 };
  Cut cut = { 0 };
  Count got_b = { &b, 3 }, got_a = { &a, 3 }, delivered_a = { &a, 3 }, delivered_b = { &b, 3 };
  EpSessionManager *relay_sessions;
  const EpRelayCounters *c;

  test_relay_start (&r);
  test_node_start (&a);
  test_node_start (&b);
  cut.a = ep_node_get_port (a.node);
  cut.b = ep_node_get_port (b.node);
  ep_udp_set_filter (ep_node_get_udp (a.node), cut_direct, &cut);
  ep_udp_set_filter (ep_node_get_udp (b.node), cut_direct, &cut);
  node_use_relay (&a, &r, 1000);
  node_use_relay (&b, &r, 1000);
  g_assert_true (spin_until (relay_has_clients, &r, 10));

  /* Both know each other's endpoints and call them: nothing gets through. */
  test_node_hint (&b, &a);
  befriend (&a, &b, TRUE);
  g_assert_cmpuint (cut.dropped, >, 0);
  g_assert_cmpint (ep_node_get_path (a.node, b.key), ==, EP_NODE_PATH_RELAY);
  g_assert_cmpint (ep_node_get_path (b.node, a.key), ==, EP_NODE_PATH_RELAY);

  send_one (&a, &b, SECRET_TEXT " 0");
  send_one (&a, &b, SECRET_TEXT " 1");
  send_one (&a, &b, SECRET_TEXT " 2");
  send_one (&b, &a, SECRET_TEXT " back 0");
  send_one (&b, &a, SECRET_TEXT " back 1");
  send_one (&b, &a, SECRET_TEXT " back 2");
  g_assert_true (spin_until (received_at_least, &got_b, 15));
  g_assert_true (spin_until (received_at_least, &got_a, 15));
  g_assert_true (spin_until (delivered_at_least, &delivered_a, 15));
  g_assert_true (spin_until (delivered_at_least, &delivered_b, 15));
  check_history (&b, &a, SECRET_TEXT, 3);
  check_history (&a, &b, SECRET_TEXT " back", 3);
  g_assert_cmpint (ep_node_get_path (a.node, b.key), ==, EP_NODE_PATH_RELAY);

  /* What the relay saw: packets, never the text, neither on the wire nor
   * inside its sessions; it holds sessions with A and with B only. */
  c = ep_relay_get_counters (r.relay);
  g_test_message ("relay: %" G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT " bytes forwarded; "
                  "%u datagrams on its wire; %u direct datagrams cut",
                  c->forwarded_packets, c->forwarded_bytes, r.wire->len, cut.dropped);
  g_assert_cmpuint (c->forwarded_packets, >=, 12);
  g_assert_cmpuint (r.inner->len, ==, c->forwarded_packets);
  g_assert_cmpuint (r.wire->len, >, c->forwarded_packets);
  for (guint i = 0; i < r.wire->len; i++)
    {
      g_assert_false (bytes_contain (r.wire->pdata[i], SECRET_TEXT));
      g_assert_cmpuint (g_bytes_get_size (r.wire->pdata[i]), <=, EP_RELAY_MAX_WIRE);
    }
  for (guint i = 0; i < r.inner->len; i++)
    g_assert_false (bytes_contain (r.inner->pdata[i], SECRET_TEXT));
  relay_sessions = ep_relay_get_session_manager (r.relay);
  g_assert_cmpuint (ep_session_manager_get_n_sessions (relay_sessions), ==, 2);
  g_assert_nonnull (ep_session_manager_lookup (relay_sessions, a.key));
  g_assert_nonnull (ep_session_manager_lookup (relay_sessions, b.key));
  g_assert_cmpuint (ep_relay_get_n_dropped (r.relay), ==, 0);

  ep_udp_set_filter (ep_node_get_udp (a.node), NULL, NULL);
  ep_udp_set_filter (ep_node_get_udp (b.node), NULL, NULL);
  test_node_clear (&a);
  test_node_clear (&b);
  test_relay_clear (&r);
  spin_for (50);
}

/* With the direct path open, it is used, and the relay forwards nothing. */
static void
test_direct_preferred (void)
{
  TestRelay r = { 0 };
  TestNode a = { 0 }, b = { 0 };
  Count got_b = { &b, 1 }, delivered_a = { &a, 1 };

  test_relay_start (&r);
  test_node_start (&a);
  test_node_start (&b);
  node_use_relay (&a, &r, 4000);
  node_use_relay (&b, &r, 4000);
  g_assert_true (spin_until (relay_has_clients, &r, 10));

  befriend (&a, &b, TRUE);
  g_assert_cmpint (ep_node_get_path (a.node, b.key), ==, EP_NODE_PATH_DIRECT);
  g_assert_cmpint (ep_node_get_path (b.node, a.key), ==, EP_NODE_PATH_DIRECT);
  send_one (&a, &b, "straight");
  g_assert_true (spin_until (received_at_least, &got_b, 10));
  g_assert_true (spin_until (delivered_at_least, &delivered_a, 10));
  /* Past the grace period: still direct. */
  spin_for (4500);
  g_assert_cmpint (ep_node_get_path (a.node, b.key), ==, EP_NODE_PATH_DIRECT);
  g_assert_cmpuint (ep_relay_get_counters (r.relay)->forwarded_packets, ==, 0);
  g_assert_cmpint (ep_node_get_path (a.node, ep_relay_get_key (r.relay)), ==, EP_NODE_PATH_NONE);

  test_node_clear (&a);
  test_node_clear (&b);
  test_relay_clear (&r);
  spin_for (50);
}

/* A bare client: its own sockets and session manager, a session with the relay. */
typedef struct
{
  EpUdp            *udp;
  EpSessionManager *sessions;
  EpSession        *relay;
  guint8            key[32];
  GPtrArray        *frames;
} Client;

static void
on_client_frame (EpSession *session,
                 GBytes    *frame,
                 Client    *c)
{
  g_ptr_array_add (c->frames, g_bytes_ref (frame));
}

static gboolean
client_up (gpointer data)
{
  Client *c = data;

  return ep_session_get_state (c->relay) == EP_SESSION_STATE_ESTABLISHED;
}

static void
client_start (Client    *c,
              TestRelay *r)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) address = test_relay_address (r);
  guint8 sk[64], static_sk[32];

  crypto_sign_keypair (c->key, sk);
  randombytes_buf (static_sk, sizeof static_sk);
  c->udp = ep_udp_new ("127.0.0.1", 0, &error);
  g_assert_no_error (error);
  c->sessions = ep_session_manager_new (c->udp, sk, static_sk);
  ep_session_manager_set_timing (c->sessions, &fast_session_timing);
  c->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  c->relay = ep_session_manager_connect (c->sessions, address, ep_relay_get_key (r->relay));
  ep_session_set_relay_budget (c->relay, TRUE);
  g_signal_connect (c->relay, "frame-received", G_CALLBACK (on_client_frame), c);
}

static void
client_clear (Client *c)
{
  g_signal_handlers_disconnect_by_data (c->relay, c);
  g_clear_object (&c->relay);
  g_clear_object (&c->sessions);
  g_clear_object (&c->udp);
  g_clear_pointer (&c->frames, g_ptr_array_unref);
}

/* Sends @kind | @key | an inner packet of @inner_len bytes (first byte @type). */
static void
client_send (Client       *c,
             guint8        kind,
             const guint8 *key,
             guint8        type,
             gsize         inner_len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) frame = NULL;
  guint8 *data = g_malloc0 (EP_RELAY_HEADER_LEN + inner_len);

  data[0] = kind;
  memcpy (data + 1, key, 32);
  if (inner_len > 0)
    data[EP_RELAY_HEADER_LEN] = type;
  frame = g_bytes_new_take (data, EP_RELAY_HEADER_LEN + inner_len);
  g_assert_true (ep_session_send (c->relay, frame, &error));
  g_assert_no_error (error);
}

static void
client_send_raw (Client       *c,
                 const guint8 *data,
                 gsize         len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) frame = g_bytes_new (data, len);

  g_assert_true (ep_session_send (c->relay, frame, &error));
}

typedef struct
{
  EpRelay *relay;
  guint64  handled;
} Handled;

static gboolean
relay_handled (gpointer data)
{
  Handled *h = data;
  const EpRelayCounters *c = ep_relay_get_counters (h->relay);

  return c->forwarded_packets + ep_relay_get_n_dropped (h->relay) >= h->handled;
}

static void
wait_handled (TestRelay *r,
              guint64    handled)
{
  Handled h = { r->relay, handled };

  g_assert_true (spin_until (relay_handled, &h, 10));
}

/* Malformed frames, frames to nobody, to the relay, to ourselves. */
static void
test_malformed (void)
{
  TestRelay r = { 0 };
  Client c = { 0 }, d = { 0 };
  const EpRelayCounters *k;
  guint8 unknown[32];
  guint8 junk[40] = { 0x7b, '"', 't' };
  guint64 n = 0;

  test_relay_start (&r);
  client_start (&c, &r);
  client_start (&d, &r);
  g_assert_true (spin_until (client_up, &c, 10));
  g_assert_true (spin_until (client_up, &d, 10));
  g_assert_true (spin_until (relay_has_clients, &r, 10));
  k = ep_relay_get_counters (r.relay);
  randombytes_buf (unknown, sizeof unknown);

  client_send_raw (&c, junk, 10);                                       /* short */
  client_send_raw (&c, junk, sizeof junk);                              /* JSON-ish: unknown kind */
  client_send (&c, EP_RELAY_KIND_DELIVER, d.key, EP_PACKET_INIT, 100);  /* wrong direction */
  client_send (&c, EP_RELAY_KIND_SEND, d.key, 'd', 100);                /* not a session packet */
  client_send (&c, EP_RELAY_KIND_SEND, d.key, EP_PACKET_TRANSPORT,
               EP_RELAY_MAX_INNER + 1);                                 /* too long */
  n += 5;
  wait_handled (&r, n);
  g_assert_cmpuint (k->dropped_malformed, ==, 5);

  client_send (&c, EP_RELAY_KIND_SEND, ep_relay_get_key (r.relay), EP_PACKET_INIT, 100);
  client_send (&c, EP_RELAY_KIND_SEND, c.key, EP_PACKET_INIT, 100);
  n += 2;
  wait_handled (&r, n);
  g_assert_cmpuint (k->dropped_self, ==, 2);

  client_send (&c, EP_RELAY_KIND_SEND, unknown, EP_PACKET_INIT, 100);
  n += 1;
  wait_handled (&r, n);
  g_assert_cmpuint (k->dropped_unknown_destination, ==, 1);

  /* And a good one still goes through, as DELIVER naming the sender. */
  client_send (&c, EP_RELAY_KIND_SEND, d.key, EP_PACKET_TRANSPORT, EP_RELAY_MAX_INNER);
  n += 1;
  wait_handled (&r, n);
  g_assert_cmpuint (k->forwarded_packets, ==, 1);
  spin_for (100);
  g_assert_cmpuint (d.frames->len, ==, 1);
  {
    EpRelayPayload payload;
    gsize len;
    const guint8 *data = g_bytes_get_data (d.frames->pdata[0], &len);

    g_assert_cmpint (ep_relay_payload_parse (data, len, &payload), ==, EP_RELAY_PAYLOAD_OK);
    g_assert_cmpint (payload.kind, ==, EP_RELAY_KIND_DELIVER);
    g_assert_cmpmem (payload.key, 32, c.key, 32);
    g_assert_cmpuint (payload.inner_len, ==, EP_RELAY_MAX_INNER);
  }
  g_assert_cmpuint (ep_relay_get_n_dropped (r.relay), ==, 8);

  client_clear (&c);
  client_clear (&d);
  test_relay_clear (&r);
  spin_for (50);
}

/* Destinations and bandwidth per client, clients per relay. */
static void
test_limits (void)
{
  TestRelay r = { 0 };
  Client c = { 0 }, d[3] = { { 0 } }, extra = { 0 };
  EpRelayLimits limits = { 0 };
  const EpRelayCounters *k;
  guint64 n = 0;
  guint sent = 0;

  test_relay_start (&r);
  client_start (&c, &r);
  g_assert_true (spin_until (client_up, &c, 10));
  for (guint i = 0; i < 3; i++)
    {
      client_start (&d[i], &r);
      g_assert_true (spin_until (client_up, &d[i], 10));
    }
  k = ep_relay_get_counters (r.relay);

  limits.max_clients = 4;
  limits.max_destinations = 2;
  limits.rate_bytes = 4000;
  limits.burst_bytes = 6000;
  ep_relay_set_limits (r.relay, &limits);

  /* Two destinations are fine, a third one is over the limit. */
  client_send (&c, EP_RELAY_KIND_SEND, d[0].key, EP_PACKET_TRANSPORT, 100);
  client_send (&c, EP_RELAY_KIND_SEND, d[1].key, EP_PACKET_TRANSPORT, 100);
  client_send (&c, EP_RELAY_KIND_SEND, d[2].key, EP_PACKET_TRANSPORT, 100);
  n += 3;
  wait_handled (&r, n);
  g_assert_cmpuint (k->forwarded_packets, ==, 2);
  g_assert_cmpuint (k->dropped_destinations, ==, 1);

  /* A burst far over the bucket: some go, the rest are counted. */
  for (guint i = 0; i < 20; i++, sent++)
    client_send (&c, EP_RELAY_KIND_SEND, d[0].key, EP_PACKET_TRANSPORT, 1000);
  n += sent;
  wait_handled (&r, n);
  g_test_message ("burst of 20 × 1000 bytes: %" G_GUINT64_FORMAT " forwarded, %" G_GUINT64_FORMAT
                  " over the rate", k->forwarded_packets - 2, k->dropped_rate);
  g_assert_cmpuint (k->dropped_rate, >=, 13);
  g_assert_cmpuint (k->forwarded_packets - 2, >=, 5);
  g_assert_cmpuint (k->forwarded_packets - 2 + k->dropped_rate, ==, 20);

  /* The bucket refills. */
  spin_for (600);
  client_send (&c, EP_RELAY_KIND_SEND, d[1].key, EP_PACKET_TRANSPORT, 1000);
  n += 1;
  wait_handled (&r, n);
  g_assert_cmpuint (k->forwarded_packets, ==, 2 + 20 - k->dropped_rate + 1);

  /* A fifth client is refused: its handshake never finishes. */
  client_start (&extra, &r);
  spin_for (500);
  g_assert_cmpint (ep_session_get_state (extra.relay), !=, EP_SESSION_STATE_ESTABLISHED);
  g_assert_cmpuint (k->clients_refused, >=, 1);
  g_assert_cmpuint (ep_relay_get_n_clients (r.relay), ==, 4);

  client_clear (&extra);
  client_clear (&c);
  for (guint i = 0; i < 3; i++)
    client_clear (&d[i]);
  test_relay_clear (&r);
  spin_for (50);
}

/* Relay sessions keep the idle budget: one keepalive per relay_keepalive_ms. */
typedef struct
{
  guint16 relay_port;
  guint   to_relay;
} Counter;

static gboolean
count_to_relay (EpUdp          *udp,
                gboolean        outgoing,
                GSocketAddress *peer,
                const guint8   *data,
                gsize           len,
                gpointer        user_data)
{
  Counter *counter = user_data;

  if (outgoing && g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (peer))
                  == counter->relay_port)
    counter->to_relay++;
  return TRUE;
}

static gboolean
relay_client_up (gpointer data)
{
  gpointer *args = data;

  return ep_relay_client_is_up (args[0], args[1]);
}

static void
test_idle_budget (void)
{
  TestRelay r = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(EpUdp) udp = NULL;
  g_autoptr(EpSessionManager) sessions = NULL;
  g_autoptr(EpRelayClient) client = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  EpSessionTiming timing;
  Counter counter = { 0 };
  guint8 sk[64], pk[32], static_sk[32];
  gpointer args[2];
  g_autoptr(EpSession) session = NULL;
  guint64 keepalives;

  /* The defaults are the budget: at most one keepalive per 25 s. */
  test_relay_start (&r);
  ep_session_manager_get_timing (ep_relay_get_session_manager (r.relay), &timing);
  g_assert_cmpuint (timing.relay_keepalive_ms, >=, 25000);
  g_assert_cmpuint (timing.keepalive_ms, >=, 25000);
  g_assert_cmpuint (timing.relay_idle_timeout_ms, >, 2 * timing.relay_keepalive_ms);

  /* Scaled down 100 times: 250 ms. */
  crypto_sign_keypair (pk, sk);
  randombytes_buf (static_sk, sizeof static_sk);
  udp = ep_udp_new ("127.0.0.1", 0, &error);
  g_assert_no_error (error);
  sessions = ep_session_manager_new (udp, sk, static_sk);
  ep_session_manager_get_timing (sessions, &timing);
  g_assert_cmpuint (timing.relay_keepalive_ms, ==, 25000);
  timing = fast_session_timing;
  timing.relay_keepalive_ms = 250;
  ep_session_manager_set_timing (sessions, &timing);
  client = ep_relay_client_new (sessions);
  address = test_relay_address (&r);
  g_assert_true (ep_relay_client_add (client, ep_relay_get_key (r.relay),
                                      G_INET_SOCKET_ADDRESS (address), TRUE));
  g_assert_false (ep_relay_client_add (client, pk, G_INET_SOCKET_ADDRESS (address), TRUE));
  args[0] = client;
  args[1] = (gpointer) ep_relay_get_key (r.relay);
  g_assert_true (spin_until (relay_client_up, args, 10));
  spin_for (300);

  session = g_object_ref (ep_relay_client_get_session (client, ep_relay_get_key (r.relay)));
  keepalives = ep_session_get_counters (session)->keepalives_sent;
  counter.relay_port = ep_udp_get_port (r.udp);
  ep_udp_set_filter (udp, count_to_relay, &counter);
  spin_for (2600);
  ep_udp_set_filter (udp, NULL, NULL);
  g_test_message ("idle for 2.6 s with a 250 ms budget: %u packets to the relay, "
                  "%" G_GUINT64_FORMAT " keepalives", counter.to_relay,
                  ep_session_get_counters (session)->keepalives_sent - keepalives);
  /* Plain sessions here keep alive every 200 ms: the budget is slower. */
  g_assert_cmpuint (counter.to_relay, <=, 2600 / 250 + 1);
  g_assert_cmpuint (counter.to_relay, >=, 2600 / 250 - 2);
  /* And the session lives on keepalives alone. */
  g_assert_true (ep_relay_client_is_up (client, ep_relay_get_key (r.relay)));

  ep_relay_client_stop (client);
  test_relay_clear (&r);
  spin_for (50);
}

/* Only B has a relay; A learns it from B's presence record in the DHT and
 * calls B through it, as a client of a relay it was never given. */
static void
test_published_relay (void)
{
  TestRelay r = { 0 };
  TestNode a = { 0 }, b = { 0 };
  DhtNet net = { 0 };
  Cut cut = { 0 };
  Count got_b = { &b, 1 }, delivered_a = { &a, 1 };
  g_autoptr(GSocketAddress) address = NULL;
  EpNodeTiming timing;
  gint64 start;

  test_relay_start (&r);
  dht_net_start (&net, 16);
  a.bootstrap = b.bootstrap = net.bootstrap;
  test_node_start (&a);
  test_node_start (&b);
  cut.a = ep_node_get_port (a.node);
  cut.b = ep_node_get_port (b.node);
  ep_udp_set_filter (ep_node_get_udp (a.node), cut_direct, &cut);
  ep_udp_set_filter (ep_node_get_udp (b.node), cut_direct, &cut);
  ep_node_get_timing (a.node, &timing);
  timing.relay_grace_ms = 1000;
  ep_node_set_timing (a.node, &timing);
  address = test_relay_address (&r);
  g_assert_true (ep_node_add_relay (b.node, ep_relay_get_key (r.relay), address));

  start = g_get_monotonic_time ();
  befriend (&a, &b, FALSE);
  g_test_message ("found through the DHT, met through B's relay in %.0f ms; %u direct "
                  "datagrams cut", (g_get_monotonic_time () - start) / 1e3, cut.dropped);
  g_assert_cmpuint (cut.dropped, >, 0);
  g_assert_cmpint (ep_node_get_path (a.node, b.key), ==, EP_NODE_PATH_RELAY);
  g_assert_cmpint (ep_node_get_path (b.node, a.key), ==, EP_NODE_PATH_RELAY);
  send_one (&a, &b, SECRET_TEXT);
  g_assert_true (spin_until (received_at_least, &got_b, 10));
  g_assert_true (spin_until (delivered_at_least, &delivered_a, 10));
  g_assert_cmpuint (ep_relay_get_n_clients (r.relay), ==, 2);
  for (guint i = 0; i < r.inner->len; i++)
    g_assert_false (bytes_contain (r.inner->pdata[i], SECRET_TEXT));

  ep_udp_set_filter (ep_node_get_udp (a.node), NULL, NULL);
  ep_udp_set_filter (ep_node_get_udp (b.node), NULL, NULL);
  test_node_clear (&a);
  test_node_clear (&b);
  dht_net_stop (&net);
  test_relay_clear (&r);
  spin_for (50);
}

/* A client that goes silent is forgotten. */
static gboolean
relay_empty (gpointer data)
{
  return ep_relay_get_n_clients (((TestRelay *) data)->relay) == 0;
}

static void
test_idle_expiry (void)
{
  TestRelay r = { 0 };
  Client c = { 0 };
  EpSessionTiming timing;

  test_relay_start (&r);
  ep_session_manager_get_timing (ep_relay_get_session_manager (r.relay), &timing);
  timing.keepalive_ms = 200;
  timing.idle_timeout_ms = 800;
  ep_session_manager_set_timing (ep_relay_get_session_manager (r.relay), &timing);
  client_start (&c, &r);
  g_assert_true (spin_until (client_up, &c, 10));
  g_assert_cmpuint (ep_relay_get_n_clients (r.relay), ==, 1);
  /* Gone without a word: its sockets close. */
  client_clear (&c);
  g_assert_true (spin_until (relay_empty, &r, 5));
  g_assert_cmpuint (ep_session_manager_get_n_sessions (ep_relay_get_session_manager (r.relay)),
                    ==, 0);
  test_relay_clear (&r);
  spin_for (50);
}

static void
test_payload (void)
{
  guint8 key[32], inner[EP_RELAY_MAX_INNER + 1];
  EpRelayPayload p;
  g_autoptr(GBytes) frame = NULL;
  gsize len;
  const guint8 *data;

  randombytes_buf (key, sizeof key);
  memset (inner, 0, sizeof inner);
  inner[0] = EP_PACKET_TRANSPORT;

  frame = ep_relay_payload_build (EP_RELAY_KIND_SEND, key, inner, 100);
  data = g_bytes_get_data (frame, &len);
  g_assert_cmpuint (len, ==, 133);
  g_assert_cmpint (ep_relay_payload_parse (data, len, &p), ==, EP_RELAY_PAYLOAD_OK);
  g_assert_cmpint (p.kind, ==, EP_RELAY_KIND_SEND);
  g_assert_cmpmem (p.key, 32, key, 32);
  g_assert_cmpuint (p.inner_len, ==, 100);
  g_assert_true (p.inner == data + 33);

  g_assert_cmpint (ep_relay_payload_parse (data, 33, &p), ==, EP_RELAY_PAYLOAD_SHORT);
  g_assert_cmpint (ep_relay_payload_parse (NULL, 0, &p), ==, EP_RELAY_PAYLOAD_SHORT);
  g_assert_null (p.key);
  g_assert_null (ep_relay_payload_build (EP_RELAY_KIND_SEND, key, inner, EP_RELAY_MAX_INNER + 1));
  g_assert_null (ep_relay_payload_build (EP_RELAY_KIND_SEND, key, inner, 0));
  {
    g_autoptr(GBytes) big = ep_relay_payload_build (EP_RELAY_KIND_DELIVER, key, inner,
                                                    EP_RELAY_MAX_INNER);

    data = g_bytes_get_data (big, &len);
    /* On the wire: the relay session's transport header and tag on top. */
    g_assert_cmpuint (len + EP_TRANSPORT_MIN_LEN, ==, EP_RELAY_MAX_WIRE);
    g_assert_cmpint (ep_relay_payload_parse (data, len, &p), ==, EP_RELAY_PAYLOAD_OK);
    g_assert_cmpint (p.kind, ==, EP_RELAY_KIND_DELIVER);
  }
  /* A full frame of the node fits through. */
  g_assert_cmpuint (EP_FRAME_DEFAULT_PAYLOAD + EP_TRANSPORT_MIN_LEN, <=, EP_RELAY_MAX_INNER);
  {
    guint8 bad[40] = { 0x7b };

    g_assert_cmpint (ep_relay_payload_parse (bad, sizeof bad, &p), ==,
                     EP_RELAY_PAYLOAD_UNKNOWN_KIND);
    bad[0] = EP_RELAY_KIND_SEND;
    bad[33] = 'd';
    g_assert_cmpint (ep_relay_payload_parse (bad, sizeof bad, &p), ==, EP_RELAY_PAYLOAD_BAD_INNER);
  }
}

static void
test_address (void)
{
  guint8 r1[32], r2[32], p1[32], p2[32], bytes[65], other[65];
  g_autoptr(GSocketAddress) inet = g_inet_socket_address_new_from_string ("127.0.0.1", 4000);
  g_autoptr(GSocketAddress) moved = g_inet_socket_address_new_from_string ("127.0.0.2", 4001);
  g_autoptr(GSocketAddress) a = NULL, b = NULL, c = NULL, d = NULL;
  g_autofree char *text = NULL;

  randombytes_buf (r1, 32);
  randombytes_buf (r2, 32);
  randombytes_buf (p1, 32);
  randombytes_buf (p2, 32);
  a = ep_relay_address_new (r1, G_INET_SOCKET_ADDRESS (inet), p1);
  b = ep_relay_address_new (r1, G_INET_SOCKET_ADDRESS (moved), p1);
  c = ep_relay_address_new (r2, G_INET_SOCKET_ADDRESS (inet), p1);
  d = ep_relay_address_new (r1, G_INET_SOCKET_ADDRESS (inet), p2);

  g_assert_true (ep_socket_address_equal (a, b));
  g_assert_false (ep_socket_address_equal (a, c));
  g_assert_false (ep_socket_address_equal (a, d));
  g_assert_false (ep_socket_address_equal (a, inet));
  g_assert_false (ep_socket_address_equal (inet, a));
  g_assert_true (ep_socket_address_equal (inet, inet));
  g_assert_false (ep_socket_address_equal (inet, moved));
  g_assert_false (ep_socket_address_equal (NULL, inet));

  g_assert_true (ep_socket_address_get_transport (a) == G_INET_SOCKET_ADDRESS (inet));
  g_assert_true (ep_socket_address_get_transport (inet) == G_INET_SOCKET_ADDRESS (inet));
  g_assert_cmpint (g_socket_address_get_family (a), ==, G_SOCKET_FAMILY_IPV4);
  g_assert_cmpint (g_socket_address_get_native_size (a), <, 0);

  g_assert_cmpuint (ep_socket_address_get_identity_bytes (a, bytes), ==, 65);
  g_assert_cmpuint (ep_socket_address_get_identity_bytes (d, other), ==, 65);
  g_assert_true (memcmp (bytes, other, 65) != 0);
  g_assert_cmpuint (ep_socket_address_get_identity_bytes (inet, other), ==, 6);

  text = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (a));
  g_assert_true (g_str_has_prefix (text, "relay "));
  g_assert_nonnull (strstr (text, "127.0.0.1"));
  /* Keys shortened in logs. */
  g_assert_cmpuint (strlen (text), <, 64);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (sodium_init () < 0)
    return 1;

  g_test_add_func ("/ep/relay/payload", test_payload);
  g_test_add_func ("/ep/relay/address", test_address);
  g_test_add_func ("/ep/relay/malformed", test_malformed);
  g_test_add_func ("/ep/relay/limits", test_limits);
  g_test_add_func ("/ep/relay/idle-budget", test_idle_budget);
  g_test_add_func ("/ep/relay/idle-expiry", test_idle_expiry);
  g_test_add_func ("/ep/relay/relayed-chat", test_relayed_chat);
  g_test_add_func ("/ep/relay/direct-preferred", test_direct_preferred);
  g_test_add_func ("/ep/relay/published-relay", test_published_relay);

  return g_test_run ();
}
