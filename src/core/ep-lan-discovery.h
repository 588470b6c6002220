/* ep-lan-discovery.h — finding peers on the local network by signed beacons
 *
 * Every running instance multicasts a small signed beacon (see
 * ep-lan-beacon.h) with its identity key and the UDP port its sessions are
 * accepted on, to an administratively scoped IPv4 group and a link-local
 * IPv6 group, with loopback on so that instances on the same host hear it
 * too. Beacons go out at start, every few seconds, and at once when a new
 * peer is heard, so two instances find each other within a second.
 *
 * A peer is reported at the address its beacon came FROM, with the port
 * the beacon names, and only for the key that signed it. This object only
 * reports; connecting is up to the caller.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "ep-lan-beacon.h"

G_BEGIN_DECLS

#define EP_LAN_DISCOVERY_DEFAULT_GROUP   "239.255.70.80"
#define EP_LAN_DISCOVERY_DEFAULT_GROUP6  "ff02::114"
#define EP_LAN_DISCOVERY_DEFAULT_PORT    28657
/* Beacons further than this from our clock are stale. */
#define EP_LAN_DISCOVERY_MAX_SKEW_US     (120 * G_USEC_PER_SEC)

#define EP_LAN_DISCOVERY_ERROR (ep_lan_discovery_error_quark ())

typedef enum
{
  EP_LAN_DISCOVERY_ERROR_NO_SIGNER,
  EP_LAN_DISCOVERY_ERROR_INVALID_GROUP,
  EP_LAN_DISCOVERY_ERROR_NO_INTERFACE,
  EP_LAN_DISCOVERY_ERROR_UNAVAILABLE,
} EpLanDiscoveryError;

typedef struct
{
  guint64 received;
  guint64 accepted;
  guint64 dropped_garbage;        /* no magic */
  guint64 dropped_truncated;
  guint64 dropped_malformed;      /* too long, port or timestamp 0 */
  guint64 dropped_version;
  guint64 dropped_bad_source;     /* unspecified or multicast source address */
  guint64 dropped_own;            /* our key and our instance nonce */
  guint64 dropped_rate_limited;   /* too many from one source address */
  guint64 dropped_stale;          /* timestamp more than 2 min off */
  guint64 dropped_replayed;       /* exactly this beacon was seen already */
  guint64 dropped_bad_signature;
  guint64 sent;
  guint64 send_errors;
  /* What is held in memory now; each has a fixed bound. */
  guint   peers;
  guint   replay_entries;
  guint   rate_limited_sources;
} EpLanCounters;

#define EP_TYPE_LAN_DISCOVERY (ep_lan_discovery_get_type ())

G_DECLARE_FINAL_TYPE (EpLanDiscovery, ep_lan_discovery, EP, LAN_DISCOVERY, GObject)

GQuark          ep_lan_discovery_error_quark      (void);

EpLanDiscovery *ep_lan_discovery_new              (const guint8     public_key[32],
                                                   guint16          session_port);
void            ep_lan_discovery_set_signer       (EpLanDiscovery  *self,
                                                   EpLanSignFunc    sign,
                                                   gpointer         user_data,
                                                   GDestroyNotify   destroy);
void            ep_lan_discovery_set_secret_key   (EpLanDiscovery  *self,
                                                   const guint8     secret_key[64]);
gboolean        ep_lan_discovery_start            (EpLanDiscovery  *self,
                                                   GError         **error);
void            ep_lan_discovery_stop             (EpLanDiscovery  *self);
gboolean        ep_lan_discovery_get_enabled      (EpLanDiscovery  *self);
void            ep_lan_discovery_set_enabled      (EpLanDiscovery  *self,
                                                   gboolean         enabled);
gboolean        ep_lan_discovery_get_active       (EpLanDiscovery  *self);
guint16         ep_lan_discovery_get_session_port (EpLanDiscovery  *self);
void            ep_lan_discovery_set_session_port (EpLanDiscovery  *self,
                                                   guint16          port);
void            ep_lan_discovery_announce         (EpLanDiscovery  *self);
void            ep_lan_discovery_receive          (EpLanDiscovery  *self,
                                                   GSocketAddress  *from,
                                                   const guint8    *data,
                                                   gsize            len);
const EpLanCounters *ep_lan_discovery_get_counters (EpLanDiscovery *self);

G_END_DECLS
