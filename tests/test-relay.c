/* test-relay.c — relays: the wire format, relayed paths, the fallback to them
 *
 * Everything on 127.0.0.1. Direct paths between two nodes are cut with
 * the EpUdp filter (so hole punching cannot work); the relay's filter
 * captures what it sees.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "relay-test-util.h"

#define SECRET_TEXT "the relay must never read this"

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

static gboolean
both_direct (gpointer data)
{
  Pair *p = data;

  return ep_node_get_path (p->a->node, p->b->key) == EP_NODE_PATH_DIRECT
         && ep_node_get_path (p->b->node, p->a->key) == EP_NODE_PATH_DIRECT;
}

/* A and B cannot reach each other: they meet through the relay; when the
 * direct path opens they move to it. */
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

  /* Probes of the direct path fail through the cut, harmlessly. */
  {
    guint dropped = cut.dropped;

    spin_for (1500);
    g_assert_cmpuint (cut.dropped, >, dropped);
    g_assert_cmpint (ep_node_get_path (a.node, b.key), ==, EP_NODE_PATH_RELAY);
    g_assert_true (ep_node_is_connected (a.node, b.key));
  }

  /* The direct path opens: a probe finds it, and the session moves there. */
  {
    Pair pair = { &a, &b };
    Count more = { &b, 4 }, acked = { &a, 4 };
    guint64 forwarded;
    gint64 start = g_get_monotonic_time ();

    cut.a = cut.b = 0;
    g_assert_true (spin_until (both_direct, &pair, 15));
    g_test_message ("moved to the direct path %.0f ms after it opened",
                    (g_get_monotonic_time () - start) / 1e3);
    spin_for (200);
    forwarded = c->forwarded_packets;
    send_one (&a, &b, "direct now");
    g_assert_true (spin_until (received_at_least, &more, 10));
    g_assert_true (spin_until (delivered_at_least, &acked, 10));
    g_assert_cmpuint (c->forwarded_packets, ==, forwarded);
  }

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
  timing.relay_probe_ms = 300;
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

/* KEYHEX@HOST:PORT, as chat --relay and the settings take it. */
static void
test_spec (void)
{
  static const char *bad[] = {
    "", "@127.0.0.1:4000", "00@127.0.0.1:4000",
    "0000000000000000000000000000000000000000000000000000000000000000127.0.0.1:4000",
    "000000000000000000000000000000000000000000000000000000000000000g@127.0.0.1:4000",
    "0000000000000000000000000000000000000000000000000000000000000000@127.0.0.1",
    "0000000000000000000000000000000000000000000000000000000000000000@127.0.0.1:0",
    "0000000000000000000000000000000000000000000000000000000000000000@:4000",
    "0000000000000000000000000000000000000000000000000000000000000000@[::1:4000",
    "00000000000000000000000000000000000000000000000000000000000000000@127.0.0.1:4000",
  };
  const char *hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
  g_autofree char *spec4 = g_strdup_printf ("%s@127.0.0.1:4000", hex);
  g_autofree char *spec6 = g_strdup_printf ("%s@[::1]:4001", hex);
  g_autofree char *named = g_strdup_printf ("%s@relay.example:4002", hex);
  g_autoptr(GSocketAddress) address = NULL;
  g_autofree char *host = NULL;
  g_autofree char *text = NULL;
  guint8 key[32], expected[32];
  guint16 port = 0;

  for (guint i = 0; i < 32; i++)
    expected[i] = (guint8) ((i % 16) * 0x11);

  g_assert_true (ep_relay_spec_parse (spec4, key, &address, NULL));
  g_assert_cmpmem (key, 32, expected, 32);
  text = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
  g_assert_cmpstr (text, ==, "127.0.0.1");
  g_assert_cmpuint (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)), ==, 4000);
  g_clear_object (&address);
  g_clear_pointer (&text, g_free);

  g_assert_true (ep_relay_spec_parse (spec6, key, &address, NULL));
  text = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
  g_assert_cmpstr (text, ==, "::1");
  g_assert_cmpuint (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)), ==, 4001);

  /* A name: only its form is checked without an address wanted. */
  g_assert_true (ep_relay_spec_parse (named, key, NULL, NULL));
  g_assert_true (ep_relay_spec_split (named, key, &host, &port, NULL));
  g_assert_cmpstr (host, ==, "relay.example");
  g_assert_cmpuint (port, ==, 4002);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (ep_relay_spec_parse (bad[i], key, NULL, &error));
      g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
      g_assert_nonnull (strstr (error->message, "KEYHEX@HOST:PORT"));
    }
}

/* Relays kept in the profile's settings are used from the next start on:
 * with the direct path cut, A and B meet through the relay only their
 * profile.json names. */
static void
node_relay_in_settings (TestNode  *t,
                        TestRelay *r)
{
  char hex[65];
  EpNodeSettings *settings;
  EpNodeTiming timing;

  test_node_start (t);
  sodium_bin2hex (hex, sizeof hex, ep_relay_get_key (r->relay), 32);
  settings = ep_node_get_settings (t->node);
  g_strfreev (settings->relays);
  settings->relays = g_new0 (char *, 3);
  settings->relays[0] = g_strdup ("not a relay");
  settings->relays[1] = g_strdup_printf ("%s@127.0.0.1:%u", hex, ep_udp_get_port (r->udp));
  test_node_stop (t);

  test_node_start (t);
  settings = ep_node_get_settings (t->node);
  g_assert_cmpuint (g_strv_length (settings->relays), ==, 1);
  ep_node_get_timing (t->node, &timing);
  timing.relay_grace_ms = 1000;
  timing.relay_probe_ms = 300;
  ep_node_set_timing (t->node, &timing);
}

static void
test_settings_relay (void)
{
  TestRelay r = { 0 };
  TestNode a = { 0 }, b = { 0 };
  Cut cut = { 0 };
  Count got_b = { &b, 1 }, delivered_a = { &a, 1 };

  test_relay_start (&r);
  node_relay_in_settings (&a, &r);
  node_relay_in_settings (&b, &r);
  g_assert_true (spin_until (relay_has_clients, &r, 10));
  cut.a = ep_node_get_port (a.node);
  cut.b = ep_node_get_port (b.node);
  ep_udp_set_filter (ep_node_get_udp (a.node), cut_direct, &cut);
  ep_udp_set_filter (ep_node_get_udp (b.node), cut_direct, &cut);

  test_node_hint (&b, &a);
  befriend (&a, &b, TRUE);
  g_assert_cmpuint (cut.dropped, >, 0);
  g_assert_cmpint (ep_node_get_path (a.node, b.key), ==, EP_NODE_PATH_RELAY);
  g_assert_cmpint (ep_node_get_path (b.node, a.key), ==, EP_NODE_PATH_RELAY);
  send_one (&a, &b, SECRET_TEXT);
  g_assert_true (spin_until (received_at_least, &got_b, 10));
  g_assert_true (spin_until (delivered_at_least, &delivered_a, 10));
  g_assert_cmpuint (ep_relay_get_counters (r.relay)->forwarded_packets, >, 0);

  ep_udp_set_filter (ep_node_get_udp (a.node), NULL, NULL);
  ep_udp_set_filter (ep_node_get_udp (b.node), NULL, NULL);
  test_node_clear (&a);
  test_node_clear (&b);
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

  g_test_add_func ("/ep/relay/payload", test_payload);
  g_test_add_func ("/ep/relay/address", test_address);
  g_test_add_func ("/ep/relay/relayed-chat", test_relayed_chat);
  g_test_add_func ("/ep/relay/direct-preferred", test_direct_preferred);
  g_test_add_func ("/ep/relay/published-relay", test_published_relay);
  g_test_add_func ("/ep/relay/spec", test_spec);
  g_test_add_func ("/ep/relay/settings-relay", test_settings_relay);

  return g_test_run ();
}
