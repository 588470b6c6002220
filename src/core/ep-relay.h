/* ep-relay.h — forwarding session packets between peers that cannot meet
 *
 * A relay runs on a reachable host (`encryptedp2p-node serve --relay`). Any
 * key may open a session with it (clients are strangers); over that session
 * a client sends SEND frames (ep-relay-payload.h) naming a destination key,
 * and the relay hands the inner packet to the destination's session as a
 * DELIVER frame naming the source. The inner packets belong to the two
 * peers' own Noise session: the relay sees who talks to whom and how much,
 * never what.
 *
 * Limits: at most max_clients sessions; per client at most
 * max_destinations destinations used within the last minute and a token
 * bucket of rate_bytes per second (burst_bytes deep) over the inner bytes
 * it sends. Every frame not forwarded is counted by reason. Sessions that
 * stay silent for relay_idle_timeout_ms (EpSessionTiming) are closed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "ep-identity.h"
#include "ep-session-manager.h"
#include "ep-udp.h"

G_BEGIN_DECLS

#define EP_RELAY_DEFAULT_MAX_CLIENTS      256
#define EP_RELAY_DEFAULT_MAX_DESTINATIONS 16
#define EP_RELAY_DEFAULT_RATE             (256 * 1024)

typedef struct
{
  guint   max_clients;
  guint   max_destinations;   /* per client */
  guint64 rate_bytes;         /* per client and second */
  guint64 burst_bytes;        /* 0: one second of rate_bytes, at least 4 datagrams */
} EpRelayLimits;

typedef struct
{
  guint64 clients_accepted;
  guint64 clients_refused;               /* over max_clients */
  guint64 forwarded_packets;
  guint64 forwarded_bytes;               /* inner bytes */
  guint64 dropped_malformed;             /* short, unknown kind, bad inner packet */
  guint64 dropped_self;                  /* to the relay itself or back to the sender */
  guint64 dropped_unknown_destination;   /* no session with that key */
  guint64 dropped_destinations;          /* over max_destinations */
  guint64 dropped_rate;                  /* over the token bucket */
} EpRelayCounters;

#define EP_TYPE_RELAY (ep_relay_get_type ())

G_DECLARE_FINAL_TYPE (EpRelay, ep_relay, EP, RELAY, GObject)

EpRelay          *ep_relay_new                 (EpUdp               *udp,
                                                EpIdentity          *identity);
const guint8     *ep_relay_get_key             (EpRelay             *self);
EpSessionManager *ep_relay_get_session_manager (EpRelay             *self);
void              ep_relay_get_limits          (EpRelay             *self,
                                                EpRelayLimits       *limits);
void              ep_relay_set_limits          (EpRelay             *self,
                                                const EpRelayLimits *limits);
guint             ep_relay_get_n_clients       (EpRelay             *self);
const EpRelayCounters *ep_relay_get_counters   (EpRelay             *self);
guint64           ep_relay_get_n_dropped       (EpRelay             *self);

G_END_DECLS
