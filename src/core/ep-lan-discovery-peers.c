/* ep-lan-discovery-peers.c — received beacons, the replay cache, the peers
 *
 * A received datagram goes through cheap checks first (shape, our own,
 * source address, per-source rate limit, clock skew, replay cache) and only
 * then through signature verification. Every drop is counted by reason.
 * All state is bounded: peers (the one heard least recently is evicted,
 * with peer-lost), the replay cache (oldest evicted; only verified beacons
 * enter it) and rate-limited sources (LRU in EpRateLimit).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <sodium.h>
#include <string.h>

#include "ep-lan-discovery-private.h"

#define REPLAY_MAX         4096
#define SOURCES_MAX        256
#define SOURCE_PER_SECOND  5.0
#define SOURCE_BURST       20.0
#define REPLY_PER_SECOND   2.0
#define REPLY_BURST        4.0

typedef struct
{
  guint8              id[33];          /* public key ‖ family: one entry per family */
  GInetSocketAddress *address;
  gint64              last_heard_us;   /* monotonic */
  gint64              timestamp_us;    /* of the newest beacon applied */
} Peer;

typedef struct
{
  guint8  header[EP_LAN_BEACON_SIGNED_SIZE];
  gint64  expires_us;   /* real time after which the beacon is stale anyway */
  GList   link;
} Seen;

/* Keyed hashing, so that nobody can pick keys that collide in the tables.
 * GHashFunc takes no user data: one random key per process. */
static guint8 hash_key[crypto_shorthash_KEYBYTES];

static guint
keyed_hash (const guint8 *data,
            gsize         len)
{
  guint8 out[crypto_shorthash_BYTES];
  guint h;

  crypto_shorthash (out, data, len, hash_key);
  memcpy (&h, out, sizeof h);
  return h;
}

static guint
peer_id_hash (gconstpointer key)
{
  return keyed_hash (key, 33);
}

static gboolean
peer_id_equal (gconstpointer a,
               gconstpointer b)
{
  return memcmp (a, b, 33) == 0;
}

static guint
header_hash (gconstpointer key)
{
  return keyed_hash (key, EP_LAN_BEACON_SIGNED_SIZE);
}

static gboolean
header_equal (gconstpointer a,
              gconstpointer b)
{
  return memcmp (a, b, EP_LAN_BEACON_SIGNED_SIZE) == 0;
}

static void
peer_free (Peer *peer)
{
  g_clear_object (&peer->address);
  g_free (peer);
}

/* Takes the peer heard least recently out of the table, for peer-lost. */
static Peer *
steal_oldest_peer (EpLanDiscovery *self)
{
  GHashTableIter iter;
  Peer *peer, *oldest = NULL;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &peer))
    if (oldest == NULL || peer->last_heard_us < oldest->last_heard_us)
      oldest = peer;
  if (oldest != NULL)
    g_hash_table_steal (self->peers, oldest->id);
  return oldest;
}

/**
 * ep_lan_discovery_expire_peers: (skip)
 *
 * Loses the peers not heard for the peer timeout.
 */
void
ep_lan_discovery_expire_peers (EpLanDiscovery *self)
{
  gint64 deadline = g_get_monotonic_time () - (gint64) self->peer_timeout_ms * 1000;
  g_autoptr(GPtrArray) lost = g_ptr_array_new_with_free_func ((GDestroyNotify) peer_free);
  g_autoptr(EpLanDiscovery) hold = NULL;
  GHashTableIter iter;
  Peer *peer;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &peer))
    if (peer->last_heard_us < deadline)
      {
        g_hash_table_iter_steal (&iter);
        g_ptr_array_add (lost, peer);
      }
  self->counters.peers = g_hash_table_size (self->peers);

  if (lost->len > 0)
    hold = g_object_ref (self);
  for (guint i = 0; i < lost->len; i++)
    {
      peer = g_ptr_array_index (lost, i);
      ep_lan_discovery_emit_peer (self, FALSE, peer->id, peer->address);
    }
}

static guint32
scope_id (GInetSocketAddress *address)
{
  if (g_socket_address_get_family (G_SOCKET_ADDRESS (address)) != G_SOCKET_FAMILY_IPV6)
    return 0;
  return g_inet_socket_address_get_scope_id (address);
}

static gboolean
same_address (GInetSocketAddress *a,
              GInetSocketAddress *b)
{
  return g_inet_socket_address_get_port (a) == g_inet_socket_address_get_port (b)
         && scope_id (a) == scope_id (b)
         && g_inet_address_equal (g_inet_socket_address_get_address (a),
                                  g_inet_socket_address_get_address (b));
}

static void
update_peer (EpLanDiscovery     *self,
             const EpLanBeacon  *beacon,
             GInetSocketAddress *address)
{
  guint8 id[33];
  Peer *peer;
  Peer *evicted = NULL;
  gint64 now = g_get_monotonic_time ();
  gboolean is_new = FALSE;

  memcpy (id, beacon->public_key, 32);
  id[32] = g_socket_address_get_family (G_SOCKET_ADDRESS (address)) == G_SOCKET_FAMILY_IPV6;

  peer = g_hash_table_lookup (self->peers, id);
  if (peer == NULL)
    {
      if (g_hash_table_size (self->peers) >= self->max_peers)
        evicted = steal_oldest_peer (self);

      peer = g_new0 (Peer, 1);
      memcpy (peer->id, id, sizeof id);
      g_hash_table_insert (self->peers, peer->id, peer);
      self->counters.peers = g_hash_table_size (self->peers);
      is_new = TRUE;
    }

  peer->last_heard_us = now;

  /* A late beacon from elsewhere does not move a peer back. */
  if (!is_new && beacon->timestamp_us <= peer->timestamp_us)
    return;
  peer->timestamp_us = beacon->timestamp_us;
  if (peer->address != NULL && same_address (peer->address, address))
    return;
  g_set_object (&peer->address, address);

  /* A new peer hears our next beacon now rather than in a few seconds. */
  if (is_new && self->active && ep_rate_limit_allow (self->replies, "r", 1, now))
    ep_lan_discovery_send_beacons (self);

  /* Signals last: handlers may stop us, which empties the table. */
  if (evicted != NULL)
    {
      ep_lan_discovery_emit_peer (self, FALSE, evicted->id, evicted->address);
      peer_free (evicted);
    }
  ep_lan_discovery_emit_peer (self, TRUE, beacon->public_key, address);
}

/* Replay cache */

static gboolean
seen_contains (EpLanDiscovery *self,
               const guint8    header[EP_LAN_BEACON_SIGNED_SIZE])
{
  return g_hash_table_contains (self->seen, header);
}

static void
seen_remove_head (EpLanDiscovery *self)
{
  GList *link = g_queue_pop_head_link (&self->seen_order);

  g_hash_table_remove (self->seen, ((Seen *) link->data)->header);
}

static void
seen_add (EpLanDiscovery *self,
          const guint8    header[EP_LAN_BEACON_SIGNED_SIZE],
          gint64          timestamp_us,
          gint64          now_us)
{
  Seen *seen;

  while (self->seen_order.head != NULL
         && ((Seen *) self->seen_order.head->data)->expires_us < now_us)
    seen_remove_head (self);
  if (g_hash_table_size (self->seen) >= REPLAY_MAX)
    seen_remove_head (self);

  seen = g_new0 (Seen, 1);
  memcpy (seen->header, header, EP_LAN_BEACON_SIGNED_SIZE);
  seen->expires_us = timestamp_us + EP_LAN_DISCOVERY_MAX_SKEW_US;
  seen->link.data = seen;
  g_hash_table_insert (self->seen, seen->header, seen);
  g_queue_push_tail_link (&self->seen_order, &seen->link);
  self->counters.replay_entries = g_hash_table_size (self->seen);
}

static gboolean
usable_source (GInetAddress *address)
{
  GSocketFamily family = g_inet_address_get_family (address);
  static const guint8 broadcast[4] = { 255, 255, 255, 255 };

  if (g_inet_address_get_is_any (address) || g_inet_address_get_is_multicast (address))
    return FALSE;
  if (family == G_SOCKET_FAMILY_IPV4)
    return memcmp (g_inet_address_to_bytes (address), broadcast, 4) != 0;
  return family == G_SOCKET_FAMILY_IPV6;
}

/**
 * ep_lan_discovery_receive:
 * @self: an #EpLanDiscovery
 * @from: where the datagram came from
 * @data: (array length=len): the datagram
 * @len: its length
 *
 * Handles one datagram as if it had arrived on a beacon socket. The sockets
 * call this; tests and fuzzers may too. Works whether or not @self is
 * started.
 */
void
ep_lan_discovery_receive (EpLanDiscovery *self,
                          GSocketAddress *from,
                          const guint8   *data,
                          gsize           len)
{
  EpLanBeacon beacon;
  guint8 header[EP_LAN_BEACON_SIGNED_SIZE];
  GInetAddress *ip;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(EpLanDiscovery) hold = NULL;
  gint64 now;

  g_return_if_fail (EP_IS_LAN_DISCOVERY (self));
  g_return_if_fail (data != NULL || len == 0);

  self->counters.received++;

  switch (ep_lan_beacon_parse (data, len, &beacon))
    {
    case EP_LAN_BEACON_OK:
      break;
    case EP_LAN_BEACON_GARBAGE:
      self->counters.dropped_garbage++;
      return;
    case EP_LAN_BEACON_TRUNCATED:
      self->counters.dropped_truncated++;
      return;
    case EP_LAN_BEACON_BAD_VERSION:
      self->counters.dropped_version++;
      return;
    case EP_LAN_BEACON_MALFORMED:
    default:
      self->counters.dropped_malformed++;
      return;
    }

  /* Ours come back through multicast loopback. Another instance with the
   * same key (a second copy of the profile) has another nonce. */
  if (beacon.nonce == self->nonce && memcmp (beacon.public_key, self->public_key, 32) == 0)
    {
      self->counters.dropped_own++;
      return;
    }

  if (!G_IS_INET_SOCKET_ADDRESS (from)
      || !usable_source (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (from))))
    {
      self->counters.dropped_bad_source++;
      return;
    }
  ip = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (from));

  if (!ep_rate_limit_allow (self->sources, g_inet_address_to_bytes (ip),
                            g_inet_address_get_native_size (ip), g_get_monotonic_time ()))
    {
      self->counters.dropped_rate_limited++;
      self->counters.rate_limited_sources = ep_rate_limit_size (self->sources);
      return;
    }
  self->counters.rate_limited_sources = ep_rate_limit_size (self->sources);

  now = g_get_real_time ();
  if (beacon.timestamp_us > now + EP_LAN_DISCOVERY_MAX_SKEW_US
      || beacon.timestamp_us < now - EP_LAN_DISCOVERY_MAX_SKEW_US)
    {
      self->counters.dropped_stale++;
      return;
    }

  memcpy (header, data, sizeof header);
  if (seen_contains (self, header))
    {
      self->counters.dropped_replayed++;
      return;
    }

  if (!ep_lan_beacon_verify (&beacon))
    {
      self->counters.dropped_bad_signature++;
      return;
    }

  seen_add (self, header, beacon.timestamp_us, now);
  self->counters.accepted++;

  /* The source address, the signed port: never an address from the payload. */
  address = g_object_new (G_TYPE_INET_SOCKET_ADDRESS,
                          "address", ip,
                          "port", (guint) beacon.port,
                          "scope-id", scope_id (G_INET_SOCKET_ADDRESS (from)),
                          NULL);
  /* A handler may drop the last reference to us. */
  hold = g_object_ref (self);
  update_peer (self, &beacon, G_INET_SOCKET_ADDRESS (address));
}

void
ep_lan_discovery_peers_init (EpLanDiscovery *self)
{
  static gsize keyed = 0;

  if (g_once_init_enter (&keyed))
    {
      randombytes_buf (hash_key, sizeof hash_key);
      g_once_init_leave (&keyed, 1);
    }

  self->peers = g_hash_table_new_full (peer_id_hash, peer_id_equal, NULL,
                                       (GDestroyNotify) peer_free);
  self->seen = g_hash_table_new_full (header_hash, header_equal, NULL, g_free);
  g_queue_init (&self->seen_order);
  self->sources = ep_rate_limit_new (SOURCE_PER_SECOND, SOURCE_BURST, SOURCES_MAX);
  self->replies = ep_rate_limit_new (REPLY_PER_SECOND, REPLY_BURST, 1);
}

void
ep_lan_discovery_peers_clear (EpLanDiscovery *self)
{
  g_clear_pointer (&self->peers, g_hash_table_destroy);
  g_clear_pointer (&self->seen, g_hash_table_destroy);
  g_clear_pointer (&self->sources, ep_rate_limit_free);
  g_clear_pointer (&self->replies, ep_rate_limit_free);
}

/**
 * ep_lan_discovery_lose_peers: (skip)
 * @emit: whether to emit peer-lost for each
 *
 * Forgets every peer.
 */
void
ep_lan_discovery_lose_peers (EpLanDiscovery *self,
                             gboolean        emit)
{
  g_autoptr(GPtrArray) lost = g_ptr_array_new_with_free_func ((GDestroyNotify) peer_free);
  g_autoptr(EpLanDiscovery) hold = NULL;
  GHashTableIter iter;
  Peer *peer;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &peer))
    {
      g_hash_table_iter_steal (&iter);
      g_ptr_array_add (lost, peer);
    }
  self->counters.peers = 0;

  if (emit && lost->len > 0)
    hold = g_object_ref (self);
  for (guint i = 0; emit && i < lost->len; i++)
    {
      peer = g_ptr_array_index (lost, i);
      ep_lan_discovery_emit_peer (self, FALSE, peer->id, peer->address);
    }
}
