/* ep-relay-client.h — our side of relays: sessions with them, packets through them
 *
 * The client keeps a session with each relay it knows (as any session,
 * from the shared EpSessionManager, proving the relay's key) and installs
 * itself as the manager's relay hook: a session whose address is an
 * EpRelayAddress sends through it, wrapped as a SEND frame
 * (ep-relay-payload.h) on the session with that relay; DELIVER frames
 * from a relay go back into the manager as datagrams from an
 * EpRelayAddress naming the sender.
 *
 * Configured relays are kept for good, reconnected with backoff when their
 * session ends. A relay reached only because a path needed it (a contact's
 * published relay) is dropped after EP_RELAY_CLIENT_IDLE_US unused.
 * Sessions with relays keep the idle budget: at most one keepalive per
 * EpSessionTiming.relay_keepalive_ms (25 s).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "ep-session-manager.h"

G_BEGIN_DECLS

#define EP_RELAY_CLIENT_IDLE_US (120 * G_USEC_PER_SEC)

typedef struct
{
  guint64 sent;                 /* inner packets handed to a relay */
  guint64 received;             /* inner packets a relay delivered */
  guint64 dropped_malformed;    /* frames from a relay that were not DELIVER */
  guint64 dropped_loop;         /* to or from ourselves or the relay itself */
  guint64 dropped_too_large;    /* an inner packet over EP_RELAY_MAX_INNER */
  guint64 dropped_send;         /* the relay session refused it */
  guint64 connects;
} EpRelayClientCounters;

#define EP_TYPE_RELAY_CLIENT (ep_relay_client_get_type ())

G_DECLARE_FINAL_TYPE (EpRelayClient, ep_relay_client, EP, RELAY_CLIENT, GObject)

EpRelayClient  *ep_relay_client_new          (EpSessionManager   *sessions);
gboolean        ep_relay_client_add          (EpRelayClient      *self,
                                              const guint8        key[32],
                                              GInetSocketAddress *address,
                                              gboolean            configured);
gboolean        ep_relay_client_is_up        (EpRelayClient      *self,
                                              const guint8        key[32]);
GSocketAddress *ep_relay_client_make_path    (EpRelayClient      *self,
                                              const guint8        relay_key[32],
                                              const guint8        peer_key[32]);
EpSession      *ep_relay_client_get_session  (EpRelayClient      *self,
                                              const guint8        key[32]);
void            ep_relay_client_stop         (EpRelayClient      *self);
const EpRelayClientCounters *ep_relay_client_get_counters (EpRelayClient *self);

G_END_DECLS
