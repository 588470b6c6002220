/* lan-test-util.h — what the LAN discovery tests share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <sodium.h>
#include <string.h>

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

static inline void
event_free (Event *event)
{
  g_bytes_unref (event->key);
  g_object_unref (event->address);
  g_free (event);
}

static inline void
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

static inline void
make_keys (guint   seed,
           guint8  pk[32],
           guint8  sk[64])
{
  guint8 bytes[32] = { 0 };

  memcpy (bytes, &seed, sizeof seed);
  bytes[31] = 0x5a;
  crypto_sign_seed_keypair (pk, sk, bytes);
}

static inline Node *
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
static inline Node *
node_new (guint       seed,
          const char *iface,
          guint       test_id,
          guint       interval_ms,
          guint       timeout_ms)
{
  g_autofree char *group = g_strdup_printf (GROUP_BASE "%u", test_id);

  return node_new_full (seed, iface, group, NULL, test_id, interval_ms, timeout_ms);
}

static inline void
node_start (Node *node)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ep_lan_discovery_start (node->lan, &error));
  g_assert_no_error (error);
  g_assert_true (ep_lan_discovery_get_active (node->lan));
}

static inline void
node_free (Node *node)
{
  g_clear_object (&node->lan);
  g_ptr_array_unref (node->found);
  g_ptr_array_unref (node->lost);
  g_free (node);
}

/* How many events name @pk; the last one's address in @address. */
static inline guint
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

static inline void
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


/* Beacons made by hand, signed with any key */

static inline void
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

static inline GSocketAddress *
address_new (const char *ip,
             guint16     port)
{
  return g_inet_socket_address_new_from_string (ip, port);
}
