/* test-lan-beacon.c — the beacon codec and the receive path of LAN
 * discovery, fed directly with datagrams: no socket is opened
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "lan-test-util.h"

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

  g_test_add_func ("/ep/lan-beacon/codec", test_beacon_codec);
  g_test_add_func ("/ep/lan-beacon/errors", test_errors);
  g_test_add_func ("/ep/lan-beacon/receive-hostile", test_receive_hostile);
  g_test_add_func ("/ep/lan-beacon/receive-address-change", test_receive_address_change);
  g_test_add_func ("/ep/lan-beacon/receive-flood", test_receive_flood);

  return g_test_run ();
}
