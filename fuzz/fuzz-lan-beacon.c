/* fuzz-lan-beacon.c — LAN discovery beacons through the parser and the
 * receive path of a fresh EpLanDiscovery (no sockets)
 *
 * The first byte picks the mode. Even: the rest is one datagram, received
 * from a fixed address. Odd: the rest is a script of 12-byte steps, each
 * building a beacon signed by one of four fixed keys (a fuzzer could
 * never forge a signature, so this is how accepted beacons, replays, the
 * stale window, address changes and the peer bound get reached):
 *
 *   0  key index (mod 4)      1-2  port       3-4  timestamp offset, s (int16)
 *   5  nonce                  6    source address index (mod 8)
 *   7  flags                  8    byte to flip (0 = none, else 1-120)
 *   9  xor mask               10   length cut (0 = none, else 1-121)
 *   11 0x80: send the previous datagram again instead
 *
 * Invariants, abort() on violation: a parsed beacon encodes back to the
 * same bytes; every datagram is counted exactly once; peers, replay cache
 * and sources stay within their bounds; peer-found names only one of the
 * fixed keys, at the address the datagram came from, with the port the
 * signed beacon named.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ep-core.h"

#define N_KEYS    4
#define MAX_PEERS 3
#define STEP      12

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static guint8 keys_pk[N_KEYS][32];
static guint8 keys_sk[N_KEYS][64];

static const char *const sources[] = {
  "192.168.1.10", "192.168.1.11", "10.0.0.1", "fe80::1", "fd00::2",
  "0.0.0.0", "239.255.70.80", "255.255.255.255",
};

typedef struct
{
  GSocketAddress *from;     /* of the datagram being received */
  guint16         port;     /* its beacon's port, 0 if not a signed beacon */
} Expect;

static void
init_once (void)
{
  static gboolean done = FALSE;

  if (done)
    return;
  if (sodium_init () < 0)
    abort ();
  for (guint i = 0; i < N_KEYS; i++)
    {
      guint8 seed[32] = { 0 };

      seed[0] = (guint8) (i + 1);
      crypto_sign_seed_keypair (keys_pk[i], keys_sk[i], seed);
    }
  done = TRUE;
}

static void
on_peer_found (EpLanDiscovery     *lan,
               GBytes             *key,
               GInetSocketAddress *address,
               Expect             *expect)
{
  GInetSocketAddress *from = G_INET_SOCKET_ADDRESS (expect->from);
  gboolean known = FALSE;

  if (g_bytes_get_size (key) != 32)
    abort ();
  for (guint i = 0; i < N_KEYS; i++)
    known |= memcmp (g_bytes_get_data (key, NULL), keys_pk[i], 32) == 0;
  if (!known || expect->port == 0)
    abort ();
  if (!g_inet_address_equal (g_inet_socket_address_get_address (address),
                             g_inet_socket_address_get_address (from)))
    abort ();
  if (g_inet_socket_address_get_port (address) != expect->port)
    abort ();
}

static void
check_counters (EpLanDiscovery *lan)
{
  const EpLanCounters *c = ep_lan_discovery_get_counters (lan);

  if (c->received != c->accepted + c->dropped_garbage + c->dropped_truncated
                     + c->dropped_malformed + c->dropped_version + c->dropped_bad_source
                     + c->dropped_own + c->dropped_rate_limited + c->dropped_stale
                     + c->dropped_replayed + c->dropped_bad_signature)
    abort ();
  if (c->peers > MAX_PEERS || c->replay_entries > 4096 || c->rate_limited_sources > 256)
    abort ();
}

static void
receive (EpLanDiscovery *lan,
         Expect         *expect,
         const guint8   *datagram,
         gsize           len)
{
  EpLanBeacon beacon;

  expect->port = 0;
  if (ep_lan_beacon_parse (datagram, len, &beacon) == EP_LAN_BEACON_OK)
    {
      guint8 again[EP_LAN_BEACON_SIZE];

      ep_lan_beacon_encode (&beacon, again);
      if (len != EP_LAN_BEACON_SIZE || memcmp (again, datagram, len) != 0)
        abort ();
      if (ep_lan_beacon_verify (&beacon))
        expect->port = beacon.port;
    }
  ep_lan_discovery_receive (lan, expect->from, datagram, len);
  check_counters (lan);
}

static void
run_script (EpLanDiscovery *lan,
            Expect         *expect,
            const uint8_t  *data,
            size_t          size)
{
  guint8 datagram[EP_LAN_BEACON_SIZE + 1];
  gsize len = 0;
  gint64 now = g_get_real_time ();

  for (size_t at = 0; at + STEP <= size; at += STEP)
    {
      const uint8_t *s = data + at;
      g_autoptr(GSocketAddress) from = NULL;

      if (!(s[11] & 0x80) || len == 0)
        {
          EpLanBeacon beacon = { 0 };
          gint16 offset = (gint16) ((s[3] << 8) | s[4]);
          const guint8 *sk = keys_sk[s[0] % N_KEYS];

          beacon.version = EP_LAN_BEACON_VERSION;
          beacon.flags = s[7];
          beacon.port = (guint16) ((s[1] << 8) | s[2]);
          beacon.timestamp_us = now + (gint64) offset * G_USEC_PER_SEC;
          beacon.nonce = s[5];
          memcpy (beacon.public_key, sk + 32, 32);
          if (!ep_lan_beacon_sign (&beacon, ep_lan_beacon_sign_with_secret_key, (gpointer) sk))
            abort ();
          ep_lan_beacon_encode (&beacon, datagram);
          len = EP_LAN_BEACON_SIZE;

          if (s[8] != 0 && s[8] <= EP_LAN_BEACON_SIZE)
            datagram[s[8] - 1] ^= s[9];
          if (s[10] != 0 && s[10] <= EP_LAN_BEACON_SIZE + 1)
            len = s[10];
          if (len == EP_LAN_BEACON_SIZE + 1)
            datagram[EP_LAN_BEACON_SIZE] = s[9];
        }

      from = g_inet_socket_address_new_from_string (sources[s[6] % G_N_ELEMENTS (sources)], 28657);
      expect->from = from;
      receive (lan, expect, datagram, len);
      expect->from = NULL;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(EpLanDiscovery) lan = NULL;
  g_autoptr(GBytes) key = NULL;
  guint8 own_pk[32], own_sk[64], seed[32] = { 0xee };
  Expect expect = { 0 };

  init_once ();
  if (size == 0)
    return 0;

  crypto_sign_seed_keypair (own_pk, own_sk, seed);
  key = g_bytes_new (own_pk, 32);
  lan = g_object_new (EP_TYPE_LAN_DISCOVERY,
                      "public-key", key,
                      "session-port", 4000,
                      "max-peers", MAX_PEERS,
                      NULL);
  g_signal_connect (lan, "peer-found", G_CALLBACK (on_peer_found), &expect);

  if (data[0] & 1)
    {
      run_script (lan, &expect, data + 1, size - 1);
    }
  else
    {
      g_autoptr(GSocketAddress) from = g_inet_socket_address_new_from_string ("192.168.1.10",
                                                                             28657);

      expect.from = from;
      receive (lan, &expect, data + 1, size - 1);
      expect.from = NULL;
    }

  return 0;
}
