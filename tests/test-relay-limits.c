/* test-relay-limits.c — a relay against bare clients: malformed frames,
 * limits, the idle budget and expiry
 *
 * Everything on 127.0.0.1.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "relay-test-util.h"

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

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (sodium_init () < 0)
    return 1;

  g_test_add_func ("/ep/relay-limits/malformed", test_malformed);
  g_test_add_func ("/ep/relay-limits/limits", test_limits);
  g_test_add_func ("/ep/relay-limits/idle-budget", test_idle_budget);
  g_test_add_func ("/ep/relay-limits/idle-expiry", test_idle_expiry);

  return g_test_run ();
}
