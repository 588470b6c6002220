/* ep-lan-discovery.c — finding peers on the local network by signed beacons
 *
 * One socket per family, bound with SO_REUSEADDR/SO_REUSEPORT to the beacon
 * port so that every instance on the host receives every beacon, joined to
 * the group on the chosen interface (or on every multicast interface that
 * is up, re-checked at each beacon), TTL 1, loopback on.
 *
 * A received datagram goes through cheap checks first (shape, our own,
 * source address, per-source rate limit, clock skew, replay cache) and only
 * then through signature verification. Every drop is counted by reason. All
 * state is bounded: peers (oldest evicted, with peer-lost), replay cache
 * (oldest evicted) and rate-limited sources (LRU in EpRateLimit).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

#include "ep-lan-discovery.h"
#include "ep-rate-limit.h"

#define READ_BUDGET        64
#define REPLAY_MAX         4096
#define SOURCES_MAX        256
#define SOURCE_PER_SECOND  5.0
#define SOURCE_BURST       20.0
#define REPLY_PER_SECOND   2.0
#define REPLY_BURST        4.0
/* The first periodic beacon comes soon, in case the one at start was lost. */
#define FIRST_INTERVAL_MS  1000

typedef struct
{
  guint          index;
  struct in_addr addr;   /* IPv4 source address on that interface, or any */
} Iface;

typedef struct
{
  EpLanDiscovery     *self;
  GSocketFamily       family;
  GSocket            *socket;
  GSource            *source;
  GInetAddress       *group;
  GArray             *ifaces;   /* Iface, joined */
} Channel;

typedef struct
{
  guint8              id[33];   /* public key ‖ family: one entry per family */
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

struct _EpLanDiscovery
{
  GObject         parent_instance;

  guint8          public_key[32];
  guint16         session_port;
  char           *group;
  char           *group6;
  guint           beacon_port;
  char           *interface;
  guint           interval_ms;
  guint           peer_timeout_ms;
  guint           max_peers;
  gboolean        enabled;
  gboolean        started;
  gboolean        active;

  EpLanSignFunc   sign;
  gpointer        sign_data;
  GDestroyNotify  sign_destroy;

  guint64         nonce;
  gint64          last_timestamp_us;
  GMainContext   *context;
  GSource        *timer;
  Channel         v4;
  Channel         v6;

  GHashTable     *peers;      /* id → Peer */
  GHashTable     *seen;       /* header → Seen */
  GQueue          seen_order; /* oldest first */
  EpRateLimit    *sources;
  EpRateLimit    *replies;

  EpLanCounters   counters;
  guint8          buffer[EP_LAN_BEACON_SIZE + 64];
};

enum
{
  PROP_0,
  PROP_PUBLIC_KEY,
  PROP_SESSION_PORT,
  PROP_GROUP,
  PROP_GROUP6,
  PROP_BEACON_PORT,
  PROP_INTERFACE,
  PROP_INTERVAL,
  PROP_PEER_TIMEOUT,
  PROP_MAX_PEERS,
  PROP_ENABLED,
  PROP_ACTIVE,
  N_PROPS
};

enum
{
  PEER_FOUND,
  PEER_LOST,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (EpLanDiscovery, ep_lan_discovery, G_TYPE_OBJECT)

G_DEFINE_QUARK (ep-lan-discovery-error-quark, ep_lan_discovery_error)

static gboolean open_all       (EpLanDiscovery *self,
                                GError        **error);
static void     close_all      (EpLanDiscovery *self,
                                gboolean        emit);
static void     send_beacons   (EpLanDiscovery *self);

/* Hashing: keyed, so that nobody can pick keys that collide in the tables. */

/* GHashFunc takes no user data: one random key per process. */
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

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
set_active (EpLanDiscovery *self,
            gboolean        active)
{
  if (self->active == active)
    return;
  self->active = active;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
}

/* Interfaces */

static gboolean
iface_list_has (GArray *ifaces,
                guint   index)
{
  for (guint i = 0; i < ifaces->len; i++)
    if (g_array_index (ifaces, Iface, i).index == index)
      return TRUE;
  return FALSE;
}

/* The interfaces to beacon on: the named one, or every one that is up, can
 * multicast and has an address of @family; failing that, loopback (IPv4),
 * which still lets instances on this host find each other. */
static GArray *
list_interfaces (EpLanDiscovery  *self,
                 GSocketFamily    family,
                 GError         **error)
{
  g_autoptr(GArray) ifaces = g_array_new (FALSE, TRUE, sizeof (Iface));
  struct ifaddrs *all = NULL;
  guint wanted = 0;

  if (self->interface != NULL)
    {
      wanted = if_nametoindex (self->interface);
      if (wanted == 0)
        {
          g_set_error (error, EP_LAN_DISCOVERY_ERROR, EP_LAN_DISCOVERY_ERROR_NO_INTERFACE,
                       _("There is no network interface “%s”"), self->interface);
          return NULL;
        }
    }

  if (getifaddrs (&all) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot list network interfaces: %s"), g_strerror (saved));
      return NULL;
    }

  for (int pass = 0; pass < 2 && ifaces->len == 0; pass++)
    for (struct ifaddrs *ifa = all; ifa != NULL; ifa = ifa->ifa_next)
      {
        Iface iface = { 0 };
        gboolean loopback = (ifa->ifa_flags & IFF_LOOPBACK) != 0;

        if (ifa->ifa_addr == NULL || ifa->ifa_name == NULL)
          continue;
        iface.index = if_nametoindex (ifa->ifa_name);
        if (iface.index == 0 || iface_list_has (ifaces, iface.index))
          continue;

        if (wanted != 0)
          {
            if (iface.index != wanted)
              continue;
          }
        else if (!(ifa->ifa_flags & IFF_UP)
                 || (pass == 0 && (loopback || !(ifa->ifa_flags & IFF_MULTICAST)))
                 || (pass == 1 && (!loopback || family != G_SOCKET_FAMILY_IPV4)))
          continue;

        if (family == G_SOCKET_FAMILY_IPV4 && ifa->ifa_addr->sa_family == AF_INET)
          {
            iface.addr = ((struct sockaddr_in *) (void *) ifa->ifa_addr)->sin_addr;
          }
        else if (family == G_SOCKET_FAMILY_IPV6 && ifa->ifa_addr->sa_family == AF_INET6)
          {
            const struct sockaddr_in6 *sin6 = (const void *) ifa->ifa_addr;

            /* ff02:: is reached through interfaces with a link-local address. */
            if (wanted == 0 && !IN6_IS_ADDR_LINKLOCAL (&sin6->sin6_addr))
              continue;
          }
        else
          {
            continue;
          }

        g_array_append_val (ifaces, iface);
      }

  freeifaddrs (all);

  /* A named interface without an address of the family: still join it. */
  if (wanted != 0 && ifaces->len == 0)
    {
      Iface iface = { .index = wanted };
      g_array_append_val (ifaces, iface);
    }

  return g_steal_pointer (&ifaces);
}

static gboolean
channel_join (Channel      *channel,
              const Iface  *iface)
{
  int fd = g_socket_get_fd (channel->socket);
  int r;

  if (channel->family == G_SOCKET_FAMILY_IPV4)
    {
      struct ip_mreqn mreq = { 0 };

      memcpy (&mreq.imr_multiaddr, g_inet_address_to_bytes (channel->group), 4);
      mreq.imr_address = iface->addr;
      mreq.imr_ifindex = (int) iface->index;
      r = setsockopt (fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq);
    }
  else
    {
      struct ipv6_mreq mreq = { 0 };

      memcpy (&mreq.ipv6mr_multiaddr, g_inet_address_to_bytes (channel->group), 16);
      mreq.ipv6mr_interface = iface->index;
      r = setsockopt (fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof mreq);
    }

  if (r != 0 && errno != EADDRINUSE)
    {
      g_debug ("cannot join the group on interface %u: %s", iface->index, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* Joins the group on interfaces that appeared; forgets those that went. */
static void
channel_refresh (Channel *channel)
{
  g_autoptr(GArray) current = NULL;
  g_autoptr(GError) error = NULL;
  GArray *joined;

  current = list_interfaces (channel->self, channel->family, &error);
  if (current == NULL)
    {
      g_debug ("%s", error->message);
      return;
    }

  joined = g_array_new (FALSE, TRUE, sizeof (Iface));
  for (guint i = 0; i < current->len; i++)
    {
      const Iface *iface = &g_array_index (current, Iface, i);

      if ((channel->ifaces != NULL && iface_list_has (channel->ifaces, iface->index))
          || channel_join (channel, iface))
        g_array_append_val (joined, *iface);
    }

  g_clear_pointer (&channel->ifaces, g_array_unref);
  channel->ifaces = joined;
}

static gboolean
on_readable (GSocket      *socket,
             GIOCondition  condition,
             gpointer      user_data)
{
  Channel *channel = user_data;
  g_autoptr(EpLanDiscovery) self = g_object_ref (channel->self);

  for (guint i = 0; i < READ_BUDGET && channel->socket != NULL; i++)
    {
      g_autoptr(GSocketAddress) from = NULL;
      g_autoptr(GError) error = NULL;
      gssize n;

      n = g_socket_receive_from (channel->socket, &from, (char *) self->buffer,
                                 sizeof self->buffer, NULL, &error);
      if (n < 0)
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            g_debug ("receive failed: %s", error->message);
          break;
        }

      ep_lan_discovery_receive (self, from, self->buffer, (gsize) n);
    }

  return G_SOURCE_CONTINUE;
}

static void
channel_close (Channel *channel)
{
  clear_source (&channel->source);
  if (channel->socket != NULL)
    g_socket_close (channel->socket, NULL);
  g_clear_object (&channel->socket);
  g_clear_object (&channel->group);
  g_clear_pointer (&channel->ifaces, g_array_unref);
}

static gboolean
channel_open (EpLanDiscovery  *self,
              Channel         *channel,
              GSocketFamily    family,
              const char      *group,
              GError         **error)
{
  g_autoptr(GInetAddress) group_address = g_inet_address_new_from_string (group);
  g_autoptr(GInetAddress) bind_address = NULL;
  g_autoptr(GSocketAddress) sockaddr = NULL;
  int fd;

  if (group_address == NULL
      || g_inet_address_get_family (group_address) != family
      || !g_inet_address_get_is_multicast (group_address))
    {
      g_set_error (error, EP_LAN_DISCOVERY_ERROR, EP_LAN_DISCOVERY_ERROR_INVALID_GROUP,
                   _("“%s” is not an %s multicast group"), group,
                   family == G_SOCKET_FAMILY_IPV4 ? "IPv4" : "IPv6");
      return FALSE;
    }

  channel->self = self;
  channel->family = family;
  channel->group = g_steal_pointer (&group_address);
  channel->socket = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (channel->socket == NULL)
    return FALSE;
  g_socket_set_blocking (channel->socket, FALSE);
  fd = g_socket_get_fd (channel->socket);

  /* IPv4 binds to the group, so unicast and other groups on the port stay
   * out; a link-local IPv6 group cannot be bound without a scope, so that
   * socket binds to :: and refuses other groups instead. */
  if (family == G_SOCKET_FAMILY_IPV6)
    {
      int one = 1, zero = 0;

      if (setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
        g_debug ("IPV6_V6ONLY: %s", g_strerror (errno));
      if (setsockopt (fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &zero, sizeof zero) != 0)
        g_debug ("IPV6_MULTICAST_ALL: %s", g_strerror (errno));
      bind_address = g_inet_address_new_any (family);
    }
  else
    {
      int zero = 0;

      if (setsockopt (fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof zero) != 0)
        g_debug ("IP_MULTICAST_ALL: %s", g_strerror (errno));
      bind_address = g_object_ref (channel->group);
    }

  /* allow_reuse sets SO_REUSEADDR and, for datagrams, SO_REUSEPORT. */
  sockaddr = g_inet_socket_address_new (bind_address, (guint16) self->beacon_port);
  if (!g_socket_bind (channel->socket, sockaddr, TRUE, error))
    return FALSE;

  g_socket_set_multicast_loopback (channel->socket, TRUE);
  g_socket_set_multicast_ttl (channel->socket, 1);

  channel_refresh (channel);
  if (channel->ifaces == NULL || channel->ifaces->len == 0)
    {
      g_set_error (error, EP_LAN_DISCOVERY_ERROR, EP_LAN_DISCOVERY_ERROR_UNAVAILABLE,
                   _("Cannot join the multicast group %s on any network interface"), group);
      return FALSE;
    }

  channel->source = g_socket_create_source (channel->socket, G_IO_IN, NULL);
  g_source_set_callback (channel->source, G_SOURCE_FUNC (on_readable), channel, NULL);
  g_source_set_static_name (channel->source, "[ep-lan-discovery]");
  g_source_attach (channel->source, self->context);
  return TRUE;
}

static void
channel_send (Channel      *channel,
              const guint8 *data,
              gsize         len)
{
  EpLanDiscovery *self = channel->self;
  int fd = g_socket_get_fd (channel->socket);

  for (guint i = 0; i < channel->ifaces->len; i++)
    {
      const Iface *iface = &g_array_index (channel->ifaces, Iface, i);
      g_autoptr(GSocketAddress) to = NULL;
      g_autoptr(GError) error = NULL;
      int r;

      if (channel->family == G_SOCKET_FAMILY_IPV4)
        {
          struct ip_mreqn mreq = { 0 };

          mreq.imr_address = iface->addr;
          mreq.imr_ifindex = (int) iface->index;
          r = setsockopt (fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq);
        }
      else
        {
          int index = (int) iface->index;

          r = setsockopt (fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index);
        }
      if (r != 0)
        {
          self->counters.send_errors++;
          continue;
        }

      to = g_object_new (G_TYPE_INET_SOCKET_ADDRESS,
                         "address", channel->group,
                         "port", self->beacon_port,
                         "scope-id", channel->family == G_SOCKET_FAMILY_IPV6 ? iface->index : 0,
                         NULL);
      if (g_socket_send_to (channel->socket, to, (const char *) data, len, NULL, &error) < 0)
        {
          g_debug ("beacon not sent on interface %u: %s", iface->index, error->message);
          self->counters.send_errors++;
          continue;
        }
      self->counters.sent++;
    }
}

/* Peers */

static void
emit_peer (EpLanDiscovery     *self,
           guint               signal,
           const guint8       *public_key,
           GInetSocketAddress *address)
{
  g_autoptr(GBytes) key = g_bytes_new (public_key, 32);

  g_signal_emit (self, signals[signal], 0, key, address);
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

static void
expire_peers (EpLanDiscovery *self)
{
  gint64 deadline = g_get_monotonic_time () - (gint64) self->peer_timeout_ms * 1000;
  g_autoptr(GPtrArray) lost = g_ptr_array_new_with_free_func ((GDestroyNotify) peer_free);
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

  for (guint i = 0; i < lost->len; i++)
    {
      peer = g_ptr_array_index (lost, i);
      emit_peer (self, PEER_LOST, peer->id, peer->address);
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
    send_beacons (self);

  /* Signals last: handlers may stop us, which empties the table. */
  if (evicted != NULL)
    {
      emit_peer (self, PEER_LOST, evicted->id, evicted->address);
      peer_free (evicted);
    }
  emit_peer (self, PEER_FOUND, beacon->public_key, address);
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
  update_peer (self, &beacon, G_INET_SOCKET_ADDRESS (address));
}

/* Sending */

static gboolean
build_beacon (EpLanDiscovery *self,
              guint8          out[EP_LAN_BEACON_SIZE])
{
  EpLanBeacon beacon = { 0 };

  /* Strictly increasing, so that no two of our beacons are alike. */
  self->last_timestamp_us = MAX (g_get_real_time (), self->last_timestamp_us + 1);

  beacon.version = EP_LAN_BEACON_VERSION;
  beacon.port = self->session_port;
  beacon.timestamp_us = self->last_timestamp_us;
  beacon.nonce = self->nonce;
  memcpy (beacon.public_key, self->public_key, 32);
  if (!ep_lan_beacon_sign (&beacon, self->sign, self->sign_data))
    return FALSE;
  ep_lan_beacon_encode (&beacon, out);
  return TRUE;
}

static void
send_beacons (EpLanDiscovery *self)
{
  Channel *channels[] = { &self->v4, &self->v6 };

  for (guint i = 0; i < G_N_ELEMENTS (channels); i++)
    {
      guint8 datagram[EP_LAN_BEACON_SIZE];

      if (channels[i]->socket == NULL)
        continue;
      if (self->session_port == 0 || !build_beacon (self, datagram))
        {
          self->counters.send_errors++;
          continue;
        }
      channel_send (channels[i], datagram, sizeof datagram);
    }
}

static gboolean on_timer (gpointer user_data);

static void
schedule_beacon (EpLanDiscovery *self,
                 guint           interval_ms)
{
  guint delay = (guint) (interval_ms * (0.8 + 0.4 * randombytes_uniform (1001) / 1000.0));

  clear_source (&self->timer);
  self->timer = g_timeout_source_new (MAX (delay, 1));
  g_source_set_callback (self->timer, on_timer, self, NULL);
  g_source_set_static_name (self->timer, "[ep-lan-discovery] beacon");
  g_source_attach (self->timer, self->context);
}

static gboolean
on_timer (gpointer user_data)
{
  EpLanDiscovery *self = user_data;
  g_autoptr(EpLanDiscovery) hold = g_object_ref (self);

  if (self->interface == NULL)
    {
      if (self->v4.socket != NULL)
        channel_refresh (&self->v4);
      if (self->v6.socket != NULL)
        channel_refresh (&self->v6);
    }

  expire_peers (self);

  /* A peer-lost handler may have stopped us. */
  if (!self->active)
    return G_SOURCE_REMOVE;

  send_beacons (self);
  schedule_beacon (self, self->interval_ms);
  return G_SOURCE_REMOVE;
}

static gboolean
open_all (EpLanDiscovery  *self,
          GError         **error)
{
  g_autoptr(GError) error4 = NULL;
  g_autoptr(GError) error6 = NULL;
  gboolean want4 = self->group != NULL && *self->group != '\0';
  gboolean want6 = self->group6 != NULL && *self->group6 != '\0';

  if (!want4 && !want6)
    {
      g_set_error_literal (error, EP_LAN_DISCOVERY_ERROR, EP_LAN_DISCOVERY_ERROR_INVALID_GROUP,
                           _("No multicast group is set for LAN discovery"));
      return FALSE;
    }

  if (self->interface != NULL && if_nametoindex (self->interface) == 0)
    {
      g_set_error (error, EP_LAN_DISCOVERY_ERROR, EP_LAN_DISCOVERY_ERROR_NO_INTERFACE,
                   _("There is no network interface “%s”"), self->interface);
      return FALSE;
    }

  if (self->context == NULL)
    self->context = g_main_context_ref_thread_default ();

  if (want4 && !channel_open (self, &self->v4, G_SOCKET_FAMILY_IPV4, self->group, &error4))
    {
      g_debug ("no IPv4 LAN discovery: %s", error4->message);
      channel_close (&self->v4);
    }
  if (want6 && !channel_open (self, &self->v6, G_SOCKET_FAMILY_IPV6, self->group6, &error6))
    {
      g_debug ("no IPv6 LAN discovery: %s", error6->message);
      channel_close (&self->v6);
    }

  if (self->v4.socket == NULL && self->v6.socket == NULL)
    {
      g_propagate_error (error, error4 != NULL ? g_steal_pointer (&error4)
                                               : g_steal_pointer (&error6));
      return FALSE;
    }

  set_active (self, TRUE);
  send_beacons (self);
  schedule_beacon (self, MIN (self->interval_ms, FIRST_INTERVAL_MS));
  return TRUE;
}

static void
close_all (EpLanDiscovery *self,
           gboolean        emit)
{
  g_autoptr(GPtrArray) lost = g_ptr_array_new_with_free_func ((GDestroyNotify) peer_free);
  GHashTableIter iter;
  Peer *peer;

  clear_source (&self->timer);
  channel_close (&self->v4);
  channel_close (&self->v6);

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &peer))
    {
      g_hash_table_iter_steal (&iter);
      g_ptr_array_add (lost, peer);
    }
  self->counters.peers = 0;

  if (!emit)
    return;

  set_active (self, FALSE);
  for (guint i = 0; i < lost->len; i++)
    {
      peer = g_ptr_array_index (lost, i);
      emit_peer (self, PEER_LOST, peer->id, peer->address);
    }
}

/* GObject */

static void
ep_lan_discovery_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  EpLanDiscovery *self = EP_LAN_DISCOVERY (object);

  switch (prop_id)
    {
    case PROP_PUBLIC_KEY:
      g_value_take_boxed (value, g_bytes_new (self->public_key, 32));
      break;
    case PROP_SESSION_PORT:
      g_value_set_uint (value, self->session_port);
      break;
    case PROP_GROUP:
      g_value_set_string (value, self->group);
      break;
    case PROP_GROUP6:
      g_value_set_string (value, self->group6);
      break;
    case PROP_BEACON_PORT:
      g_value_set_uint (value, self->beacon_port);
      break;
    case PROP_INTERFACE:
      g_value_set_string (value, self->interface);
      break;
    case PROP_INTERVAL:
      g_value_set_uint (value, self->interval_ms);
      break;
    case PROP_PEER_TIMEOUT:
      g_value_set_uint (value, self->peer_timeout_ms);
      break;
    case PROP_MAX_PEERS:
      g_value_set_uint (value, self->max_peers);
      break;
    case PROP_ENABLED:
      g_value_set_boolean (value, self->enabled);
      break;
    case PROP_ACTIVE:
      g_value_set_boolean (value, self->active);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ep_lan_discovery_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  EpLanDiscovery *self = EP_LAN_DISCOVERY (object);
  GBytes *bytes;

  switch (prop_id)
    {
    case PROP_PUBLIC_KEY:
      bytes = g_value_get_boxed (value);
      if (bytes != NULL && g_bytes_get_size (bytes) == 32)
        memcpy (self->public_key, g_bytes_get_data (bytes, NULL), 32);
      else if (bytes != NULL)
        g_critical ("EpLanDiscovery:public-key must be 32 bytes");
      break;
    case PROP_SESSION_PORT:
      ep_lan_discovery_set_session_port (self, (guint16) g_value_get_uint (value));
      break;
    case PROP_GROUP:
      g_free (self->group);
      self->group = g_value_dup_string (value);
      break;
    case PROP_GROUP6:
      g_free (self->group6);
      self->group6 = g_value_dup_string (value);
      break;
    case PROP_BEACON_PORT:
      self->beacon_port = g_value_get_uint (value);
      break;
    case PROP_INTERFACE:
      g_free (self->interface);
      self->interface = g_value_dup_string (value);
      if (self->interface != NULL && *self->interface == '\0')
        g_clear_pointer (&self->interface, g_free);
      break;
    case PROP_INTERVAL:
      self->interval_ms = g_value_get_uint (value);
      break;
    case PROP_PEER_TIMEOUT:
      self->peer_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_MAX_PEERS:
      self->max_peers = g_value_get_uint (value);
      break;
    case PROP_ENABLED:
      ep_lan_discovery_set_enabled (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ep_lan_discovery_dispose (GObject *object)
{
  EpLanDiscovery *self = EP_LAN_DISCOVERY (object);

  close_all (self, FALSE);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (ep_lan_discovery_parent_class)->dispose (object);
}

static void
ep_lan_discovery_finalize (GObject *object)
{
  EpLanDiscovery *self = EP_LAN_DISCOVERY (object);

  if (self->sign_destroy != NULL)
    self->sign_destroy (self->sign_data);
  g_hash_table_destroy (self->peers);
  g_hash_table_destroy (self->seen);
  ep_rate_limit_free (self->sources);
  ep_rate_limit_free (self->replies);
  g_free (self->group);
  g_free (self->group6);
  g_free (self->interface);

  G_OBJECT_CLASS (ep_lan_discovery_parent_class)->finalize (object);
}

static void
ep_lan_discovery_class_init (EpLanDiscoveryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = ep_lan_discovery_get_property;
  object_class->set_property = ep_lan_discovery_set_property;
  object_class->dispose = ep_lan_discovery_dispose;
  object_class->finalize = ep_lan_discovery_finalize;

  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");
  randombytes_buf (hash_key, sizeof hash_key);

  /**
   * EpLanDiscovery:public-key:
   *
   * Our Ed25519 identity public key (32 bytes), sent in every beacon.
   */
  properties[PROP_PUBLIC_KEY] =
    g_param_spec_boxed ("public-key", NULL, NULL, G_TYPE_BYTES, construct);
  /**
   * EpLanDiscovery:session-port:
   *
   * The UDP port peers should reach our sessions on (the EpUdp port).
   */
  properties[PROP_SESSION_PORT] =
    g_param_spec_uint ("session-port", NULL, NULL, 0, G_MAXUINT16, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * EpLanDiscovery:group:
   *
   * The IPv4 multicast group; %NULL or empty for no IPv4.
   */
  properties[PROP_GROUP] =
    g_param_spec_string ("group", NULL, NULL, EP_LAN_DISCOVERY_DEFAULT_GROUP, construct);
  /**
   * EpLanDiscovery:group6:
   *
   * The IPv6 multicast group; %NULL or empty for no IPv6.
   */
  properties[PROP_GROUP6] =
    g_param_spec_string ("group6", NULL, NULL, EP_LAN_DISCOVERY_DEFAULT_GROUP6, construct);
  properties[PROP_BEACON_PORT] =
    g_param_spec_uint ("beacon-port", NULL, NULL, 1, G_MAXUINT16,
                       EP_LAN_DISCOVERY_DEFAULT_PORT, construct);
  /**
   * EpLanDiscovery:interface:
   *
   * The network interface to beacon on, by name, or %NULL for every
   * interface that is up and can multicast.
   */
  properties[PROP_INTERFACE] =
    g_param_spec_string ("interface", NULL, NULL, NULL, construct);
  properties[PROP_INTERVAL] =
    g_param_spec_uint ("interval", NULL, NULL, 20, 3600 * 1000, 5000, construct);
  properties[PROP_PEER_TIMEOUT] =
    g_param_spec_uint ("peer-timeout", NULL, NULL, 50, G_MAXUINT, 20000, construct);
  properties[PROP_MAX_PEERS] =
    g_param_spec_uint ("max-peers", NULL, NULL, 1, 65536, 128, construct);
  /**
   * EpLanDiscovery:enabled:
   *
   * The user's setting. While started, turning it off closes the sockets
   * and loses every peer; turning it on opens them again.
   */
  properties[PROP_ENABLED] =
    g_param_spec_boolean ("enabled", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * EpLanDiscovery:active:
   *
   * Whether beacons are being sent and heard right now.
   */
  properties[PROP_ACTIVE] =
    g_param_spec_boolean ("active", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * EpLanDiscovery::peer-found:
   * @key: the peer's Ed25519 public key (32 bytes)
   * @address: its beacon's source address with the session port it named
   *
   * A peer was heard for the first time on this address family, or from
   * a new address.
   */
  signals[PEER_FOUND] =
    g_signal_new ("peer-found", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_BYTES, G_TYPE_INET_SOCKET_ADDRESS);
  /**
   * EpLanDiscovery::peer-lost:
   * @key: the peer's public key
   * @address: the address last reported for it
   *
   * Not heard for #EpLanDiscovery:peer-timeout, or discovery was stopped.
   */
  signals[PEER_LOST] =
    g_signal_new ("peer-lost", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_BYTES, G_TYPE_INET_SOCKET_ADDRESS);
}

static void
ep_lan_discovery_init (EpLanDiscovery *self)
{
  self->enabled = TRUE;
  self->nonce = ((guint64) randombytes_random () << 32) | randombytes_random ();
  self->peers = g_hash_table_new_full (peer_id_hash, peer_id_equal, NULL,
                                       (GDestroyNotify) peer_free);
  self->seen = g_hash_table_new_full (header_hash, header_equal, NULL, g_free);
  g_queue_init (&self->seen_order);
  self->sources = ep_rate_limit_new (SOURCE_PER_SECOND, SOURCE_BURST, SOURCES_MAX);
  self->replies = ep_rate_limit_new (REPLY_PER_SECOND, REPLY_BURST, 1);
}

/**
 * ep_lan_discovery_new:
 * @public_key: our Ed25519 identity public key
 * @session_port: the port of our EpUdp
 *
 * Creates LAN discovery with the default group, port and every interface.
 * Set a signer before starting it. Use g_object_new() to set other
 * construct properties.
 *
 * Returns: (transfer full): a new #EpLanDiscovery
 */
EpLanDiscovery *
ep_lan_discovery_new (const guint8 public_key[32],
                      guint16      session_port)
{
  g_autoptr(GBytes) key = NULL;

  g_return_val_if_fail (public_key != NULL, NULL);

  key = g_bytes_new (public_key, 32);
  return g_object_new (EP_TYPE_LAN_DISCOVERY,
                       "public-key", key,
                       "session-port", (guint) session_port,
                       NULL);
}

/**
 * ep_lan_discovery_set_signer:
 * @self: an #EpLanDiscovery
 * @sign: (scope notified): signs beacons with the identity key
 * @user_data: for @sign
 * @destroy: (nullable): frees @user_data
 */
void
ep_lan_discovery_set_signer (EpLanDiscovery *self,
                             EpLanSignFunc   sign,
                             gpointer        user_data,
                             GDestroyNotify  destroy)
{
  g_return_if_fail (EP_IS_LAN_DISCOVERY (self));
  g_return_if_fail (sign != NULL);

  if (self->sign_destroy != NULL)
    self->sign_destroy (self->sign_data);
  self->sign = sign;
  self->sign_data = user_data;
  self->sign_destroy = destroy;
}

static void
free_secret_key (gpointer key)
{
  sodium_free (key);
}

/**
 * ep_lan_discovery_set_secret_key:
 * @self: an #EpLanDiscovery
 * @secret_key: the libsodium Ed25519 secret key that goes with the public key
 *
 * Signs with a copy of @secret_key kept in guarded memory.
 */
void
ep_lan_discovery_set_secret_key (EpLanDiscovery *self,
                                 const guint8    secret_key[64])
{
  guint8 *copy;

  g_return_if_fail (EP_IS_LAN_DISCOVERY (self));
  g_return_if_fail (secret_key != NULL);
  g_return_if_fail (memcmp (secret_key + 32, self->public_key, 32) == 0);

  copy = sodium_malloc (64);
  if (copy == NULL)
    g_error ("out of guarded memory");
  memcpy (copy, secret_key, 64);
  sodium_mprotect_readonly (copy);
  ep_lan_discovery_set_signer (self, ep_lan_beacon_sign_with_secret_key, copy, free_secret_key);
}

/**
 * ep_lan_discovery_start:
 * @self: an #EpLanDiscovery
 * @error: return location for a #GError
 *
 * Starts beaconing and listening on the thread-default main context, if
 * #EpLanDiscovery:enabled. Succeeds when at least one family works.
 *
 * Returns: %TRUE when started
 */
gboolean
ep_lan_discovery_start (EpLanDiscovery  *self,
                        GError         **error)
{
  g_return_val_if_fail (EP_IS_LAN_DISCOVERY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->started)
    return TRUE;
  if (self->sign == NULL)
    {
      g_set_error_literal (error, EP_LAN_DISCOVERY_ERROR, EP_LAN_DISCOVERY_ERROR_NO_SIGNER,
                           _("LAN discovery has no key to sign its beacons with"));
      return FALSE;
    }

  g_clear_pointer (&self->context, g_main_context_unref);
  self->context = g_main_context_ref_thread_default ();
  if (self->enabled && !open_all (self, error))
    {
      close_all (self, FALSE);
      return FALSE;
    }
  self->started = TRUE;
  return TRUE;
}

/**
 * ep_lan_discovery_stop:
 * @self: an #EpLanDiscovery
 *
 * Closes the sockets; every known peer is lost.
 */
void
ep_lan_discovery_stop (EpLanDiscovery *self)
{
  g_return_if_fail (EP_IS_LAN_DISCOVERY (self));

  if (!self->started)
    return;
  self->started = FALSE;
  close_all (self, TRUE);
}

gboolean
ep_lan_discovery_get_enabled (EpLanDiscovery *self)
{
  g_return_val_if_fail (EP_IS_LAN_DISCOVERY (self), FALSE);

  return self->enabled;
}

void
ep_lan_discovery_set_enabled (EpLanDiscovery *self,
                              gboolean        enabled)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (EP_IS_LAN_DISCOVERY (self));

  enabled = !!enabled;
  if (self->enabled == enabled)
    return;
  self->enabled = enabled;

  if (self->started && !enabled)
    close_all (self, TRUE);
  else if (self->started && enabled && !open_all (self, &error))
    {
      close_all (self, FALSE);
      g_message ("LAN discovery is unavailable: %s", error->message);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENABLED]);
}

gboolean
ep_lan_discovery_get_active (EpLanDiscovery *self)
{
  g_return_val_if_fail (EP_IS_LAN_DISCOVERY (self), FALSE);

  return self->active;
}

guint16
ep_lan_discovery_get_session_port (EpLanDiscovery *self)
{
  g_return_val_if_fail (EP_IS_LAN_DISCOVERY (self), 0);

  return self->session_port;
}

/**
 * ep_lan_discovery_set_session_port:
 * @self: an #EpLanDiscovery
 * @port: the port of our EpUdp
 *
 * Beacons name the new port from now on; call ep_lan_discovery_announce()
 * to tell peers at once.
 */
void
ep_lan_discovery_set_session_port (EpLanDiscovery *self,
                                   guint16         port)
{
  g_return_if_fail (EP_IS_LAN_DISCOVERY (self));

  if (self->session_port == port)
    return;
  self->session_port = port;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION_PORT]);
}

/**
 * ep_lan_discovery_announce:
 * @self: an #EpLanDiscovery
 *
 * Sends a beacon now, if active.
 */
void
ep_lan_discovery_announce (EpLanDiscovery *self)
{
  g_return_if_fail (EP_IS_LAN_DISCOVERY (self));

  if (self->active)
    send_beacons (self);
}

const EpLanCounters *
ep_lan_discovery_get_counters (EpLanDiscovery *self)
{
  g_return_val_if_fail (EP_IS_LAN_DISCOVERY (self), NULL);

  return &self->counters;
}
