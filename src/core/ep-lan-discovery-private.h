/* ep-lan-discovery-private.h — what the files of EpLanDiscovery share
 *
 * ep-lan-discovery.c: the object, its settings, sockets and beacons.
 * ep-lan-discovery-peers.c: received beacons, the replay cache, the peers.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ep-lan-channel.h"
#include "ep-lan-discovery.h"
#include "ep-rate-limit.h"

G_BEGIN_DECLS

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
  EpLanChannel   *v4;
  EpLanChannel   *v6;

  GHashTable     *peers;      /* public key ‖ family → Peer */
  GHashTable     *seen;       /* signed header → Seen */
  GQueue          seen_order; /* oldest first */
  EpRateLimit    *sources;
  EpRateLimit    *replies;

  EpLanCounters   counters;
};

/* ep-lan-discovery.c */
void       ep_lan_discovery_emit_peer    (EpLanDiscovery     *self,
                                          gboolean            found,
                                          const guint8        public_key[32],
                                          GInetSocketAddress *address);
void       ep_lan_discovery_send_beacons (EpLanDiscovery     *self);

/* ep-lan-discovery-peers.c */
void       ep_lan_discovery_peers_init   (EpLanDiscovery     *self);
void       ep_lan_discovery_peers_clear  (EpLanDiscovery     *self);
void       ep_lan_discovery_expire_peers (EpLanDiscovery     *self);
void       ep_lan_discovery_lose_peers   (EpLanDiscovery     *self,
                                          gboolean            emit);

G_END_DECLS
