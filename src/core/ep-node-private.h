/* ep-node-private.h — what the ep-node-*.c files share
 *
 * ep-node.c          the object, start and stop, signals
 * ep-node-profile.c  profile.json
 * ep-node-connections.c  peers, sessions, LAN, presence, the timer
 * ep-node-delivery.c outbox, retransmission, frames in and out
 * ep-node-requests.c contact requests
 * ep-node-presence.c our presence record, resolving contacts'
 * ep-node-relay.c    relays: our sessions with them, the fallback to them
 * ep-node-network.c  GNetworkMonitor: what a changed network starts over
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "ep-dht.h"
#include "ep-fragment.h"
#include "ep-frame.h"
#include "ep-lan-discovery.h"
#include "ep-node.h"
#include "ep-presence-record.h"
#include "ep-rate-limit.h"
#include "ep-relay-address.h"

G_BEGIN_DECLS

enum
{
  EP_NODE_SIGNAL_MESSAGE_RECEIVED,
  EP_NODE_SIGNAL_MESSAGE_STATUS_CHANGED,
  EP_NODE_SIGNAL_CONTACT_REQUEST,
  EP_NODE_SIGNAL_CONTACT_REQUEST_ANSWERED,
  EP_NODE_SIGNAL_CONTACT_PRESENCE_CHANGED,
  EP_NODE_N_SIGNALS
};

extern guint ep_node_signals[EP_NODE_N_SIGNALS];

typedef struct
{
  EpMessage *message;
  guint      attempts;
  gint64     next_attempt;     /* monotonic µs; 0: now */
} EpNodeOutItem;

typedef struct
{
  EpNode         *node;
  guint8          key[32];
  char           *hex;
  EpSession      *session;
  gboolean        stranger;         /* unknown key: may carry one request */
  gint64          stranger_deadline;
  GSocketAddress *address;          /* where to reach it */
  gint64          next_connect;
  guint           connect_backoff_ms;
  GQueue          outbox;           /* EpNodeOutItem, in Lamport order */
  GHashTable     *outbox_ids;       /* id hex → GList link in outbox */
  GArray         *acks;             /* ids to acknowledge, 16 bytes each */
  GArray         *acked;            /* the last receipt's ids, repeated once */
  EpFragmentAssembler *assembler;
  guint32         next_local_id;
  gint64          next_request;     /* outgoing request: when to send it again */
  char           *request_text;
  gboolean        answer_accept;    /* send REQUEST_ACCEPTED on the next session */
  gboolean        profile_sent;     /* our name went out on this session */
  gint64          next_resolve;
  guint           resolve_backoff_ms; /* while unreachable: 1 s, doubling to the interval */
  gboolean        resolving;
  gboolean        typing_out;       /* we told it we are typing */
  gint64          typing_sent;      /* monotonic µs of our last "typing" frame */
  gint64          typing_in_until;  /* its typing ends then unless refreshed; 0: not typing */
  GPtrArray      *endpoints;        /* GInetSocketAddress: its record's, of our families */
  EpPresenceReachability reachability; /* its record's */
  gint64          direct_started;   /* monotonic µs: first direct attempt of this run; 0: none */
  gint64          last_heard;       /* the session's last packet in, as the timer saw it */
} EpNodePeer;

typedef struct _EpNodeRelay EpNodeRelay;

struct _EpNode
{
  GObject           parent_instance;

  char             *profile_dir;
  EpIdentity       *identity;
  char             *key_hex;
  EpStore          *store;
  EpContactList    *contacts;
  JsonObject       *profile;          /* profile.json as read, settings applied on save */
  EpNodeSettings    settings;
  char             *name;
  char             *status_text;
  EpNodeTiming      timing;
  EpNodeCounters    counters;

  EpUdp            *udp;
  EpDht            *dht;
  GObject          *presence;         /* EpPresence when built with it */
  EpSessionManager *sessions;
  EpLanDiscovery   *lan;
  GHashTable       *peers;            /* hex → EpNodePeer */
  GHashTable       *hints;            /* hex → GSocketAddress: where keys were seen */
  EpRateLimit      *request_by_address;
  EpRateLimit      *request_by_key;
  GSource          *tick;
  GSource          *ack_flush;
  gboolean          started;
  gboolean          publishing;
  GCancellable     *cancellable;
  EpNodeRelay      *relay;            /* ep-node-relay.c */

  GNetworkMonitor  *monitor;
  GSource          *network_settle;   /* monitor events coalesce before we react */
  gint64            network_reacted;  /* monotonic µs of the last reaction */
  gboolean          network_available;
  GSource          *reachability_check;
  gboolean          learning;         /* a lookup to learn our external address is out */
  guint             learn_rounds;
  GSource          *learn_timer;
  gint64            fast_resolve_until; /* monotonic µs: resolve often until then */
};

/* ep-node.c */
void         ep_node_finish_start          (EpNode          *self);

/* ep-node-profile.c */
gboolean     ep_node_profile_load          (EpNode          *self,
                                            GError         **error);

/* ep-node-connections.c */
EpNodePeer  *ep_node_peer_lookup           (EpNode          *self,
                                            const guint8    *key);
EpNodePeer  *ep_node_peer_ensure           (EpNode          *self,
                                            const guint8    *key);
void         ep_node_peer_remove           (EpNode          *self,
                                            EpNodePeer      *peer);
void         ep_node_peer_free             (EpNodePeer      *peer);
gboolean     ep_node_peer_is_up            (EpNodePeer      *peer);
gboolean     ep_node_peer_wanted           (EpNodePeer      *peer);
void         ep_node_peer_update_presence  (EpNodePeer      *peer);
gboolean     ep_node_same_address          (GSocketAddress  *a,
                                            GSocketAddress  *b);
gboolean     ep_node_peer_send_frame       (EpNodePeer      *peer,
                                            const EpFrame   *frame);
gboolean     ep_node_peer_send_frame_as    (EpNodePeer      *peer,
                                            const EpFrame   *frame,
                                            guint32          local_id);
void         ep_node_connections_start     (EpNode          *self);
void         ep_node_connections_stop      (EpNode          *self);
void         ep_node_connections_watch_lan (EpNode          *self);
void         ep_node_connect_soon          (EpNode          *self,
                                            EpNodePeer      *peer);
void         ep_node_peer_connect_via      (EpNodePeer      *peer,
                                            GSocketAddress  *address);
gint64       ep_node_peer_get_direct_started (EpNodePeer    *peer);
void         ep_node_connections_network_changed (EpNode    *self);
void         ep_node_network_monitor_start (EpNode          *self);
void         ep_node_network_monitor_stop  (EpNode          *self);

/* ep-node-delivery.c */
void         ep_node_delivery_load_outbox  (EpNode          *self,
                                            GTask           *task);
void         ep_node_delivery_queue        (EpNodePeer      *peer,
                                            EpMessage       *message);
void         ep_node_delivery_pump         (EpNodePeer      *peer,
                                            gint64           now);
void         ep_node_delivery_session_up   (EpNodePeer      *peer);
void         ep_node_delivery_frame        (EpNodePeer      *peer,
                                            GBytes          *payload);
void         ep_node_delivery_flush_acks   (EpNode          *self);
void         ep_node_out_item_free         (EpNodeOutItem   *item);
void         ep_node_typing_expire         (EpNodePeer      *peer,
                                            gint64           now);
void         ep_node_typing_clear          (EpNodePeer      *peer);

/* ep-node-presence.c */
void         ep_node_presence_start        (EpNode          *self);
void         ep_node_presence_stop         (EpNode          *self);
void         ep_node_presence_pump         (EpNodePeer      *peer,
                                            gint64           now);
void         ep_node_presence_network_changed (EpNode       *self);

/* ep-node-relay.c */
void         ep_node_relay_start           (EpNode          *self);
void         ep_node_relay_stop            (EpNode          *self);
void         ep_node_relay_free            (EpNode          *self);

/* ep-node-requests.c */
gboolean     ep_node_requests_incoming     (EpNode          *self,
                                            EpSession       *session,
                                            const guint8    *key);
void         ep_node_requests_frame        (EpNodePeer      *peer,
                                            const EpFrame   *frame);
void         ep_node_requests_pump         (EpNodePeer      *peer,
                                            gint64           now);

G_END_DECLS
