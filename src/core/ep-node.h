/* ep-node.h — the facade: one profile on the network
 *
 * An EpNode owns everything one profile needs: the identity, the shared UDP
 * sockets, the DHT node, the session manager, the store, LAN discovery, and
 * the contact list model. The GUI and `encryptedp2p-node chat` each hold one
 * and only bind to its models and signals.
 *
 * The profile directory (a stable format, shared by the app and the
 * headless client):
 *
 *   identity.key   the keys (see ep-identity.h), mode 0600
 *   store.sqlite   contacts, messages, outbox (see ep-store.h); message
 *                  bodies encrypted with ep_identity_derive_key ("store")
 *   profile.json   {"version": 1, "name": …, "status_text": …,
 *                   "presence": {"seq": last presence seq published},
 *                   "settings": {"port": N, "bind": ADDR|null,
 *                                "bootstrap": ["HOST:PORT", …]|null,
 *                                "relays": ["KEYHEX@HOST:PORT", …]|null,
 *                                "lan_discovery": BOOL}}
 *                  written atomically (write, fsync, rename), mode 0600;
 *                  unknown members are kept as they are
 *   dht.state      the DHT routing table, saved on stop and reused on start
 *
 * Delivery: ep_node_send_message_async() returns once the message is in
 * the store's outbox. While a session with the contact is up, the oldest
 * EP_NODE_WINDOW outbox messages (EP_NODE_WINDOW_BYTES of text) are in flight, each retransmitted with
 * backoff until the peer acknowledges it (queued → sent → delivered); the
 * outbox is reloaded at start, so this holds across restarts. The receiver
 * stores before acknowledging and drops duplicates by id; the conversation
 * is ordered by (Lamport, sender key).
 *
 * Typing: ep_node_set_typing() tells a connected contact that we are
 * writing (a "typing" frame at most every typing_refresh_ms while it goes
 * on) or stopped (one "stopped" frame, also sent with the next message).
 * A contact's EpContact:typing follows its frames and ends by itself after
 * typing_timeout_ms without a refresh, when its message arrives, and when
 * its session goes down.
 *
 * Contact requests: ep_node_add_contact() takes a contact ID (key, nospam);
 * the request is sent once a session with that key is up (reached by LAN
 * discovery, a DHT presence record, or an address given with
 * ep_node_add_peer_address()) and repeated until answered. Incoming
 * sessions from unknown keys live only long enough to carry one request,
 * which is dropped unless its nospam is ours and the sender's address and
 * key are within their rate limits; at most EP_NODE_MAX_PENDING_REQUESTS
 * wait for an answer.
 *
 * Relays (ep-node-relay.c): ep_node_add_relay() keeps a session with a
 * relay (`encryptedp2p-node serve --relay`) and lists it in our presence
 * record. A contact with no direct session after relay_grace_ms of trying
 * is called through a relay it published, else one of ours; the end-to-end
 * session runs inside the relayed path, the relay never reads it. A
 * relayed contact moves to the direct path when a rekey sent there is
 * answered (tried after relay_probe_ms, then less and less often).
 * ep_node_get_path() tells which path a contact is on.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "ep-contact-list.h"
#include "ep-conversation.h"
#include "ep-dht.h"
#include "ep-identity.h"
#include "ep-session-manager.h"
#include "ep-store.h"
#include "ep-udp.h"

G_BEGIN_DECLS

#define EP_NODE_PROFILE_FILE_NAME   "profile.json"
#define EP_NODE_STORE_FILE_NAME     "store.sqlite"
#define EP_NODE_DHT_STATE_FILE_NAME "dht.state"
#define EP_NODE_MAX_PENDING_REQUESTS 32
#define EP_NODE_WINDOW               128
/* …and at most this much text, so a receiver's reassembly keeps up. */
#define EP_NODE_WINDOW_BYTES         (256 * 1024)

#define EP_NODE_ERROR (ep_node_error_quark ())

typedef enum
{
  EP_NODE_ERROR_FAILED,
  EP_NODE_ERROR_PROFILE,         /* profile.json cannot be read or written */
  EP_NODE_ERROR_NOT_STARTED,
  EP_NODE_ERROR_UNKNOWN_CONTACT,
  EP_NODE_ERROR_SELF,            /* adding our own ID */
  EP_NODE_ERROR_EXISTS,          /* already a contact */
  EP_NODE_ERROR_NOT_PENDING,     /* accepting what nobody asked for */
  EP_NODE_ERROR_INVALID,
} EpNodeError;

/* Settings; profile.json holds them, the options of a run may override. */
typedef struct
{
  guint16   port;             /* 0: any */
  char     *bind_address;     /* NULL: all */
  char    **bootstrap;        /* NULL: none (the node never uses public routers by itself) */
  char    **relays;           /* "KEYHEX@HOST:PORT" (ep-relay-spec.h), at most
                               * EP_NODE_MAX_RELAYS; added at each start; NULL: none */
  gboolean  lan_discovery;
} EpNodeSettings;

void ep_node_settings_clear (EpNodeSettings *settings);

/* Times in ms (tests shorten them). */
typedef struct
{
  guint tick_ms;              /* 50 */
  guint retransmit_ms;        /* 500: first retransmission, doubling */
  guint retransmit_max_ms;    /* 30000 */
  guint connect_retry_ms;     /* 1000: after a failed connect, doubling */
  guint connect_retry_max_ms; /* 60000 */
  guint request_retry_ms;     /* 2000: an unanswered request is sent again */
  guint stranger_ms;          /* 10000: how long an unknown key's session may stay */
  guint resolve_ms;           /* 300000: presence lookups of every contact */
  guint resolve_queued_ms;    /* 30000: … of a contact with queued messages */
  guint dht_query_timeout_ms; /* 0: the DHT's default */
  gboolean dht_one_address;   /* tests: a whole DHT on one loopback address */
  guint typing_refresh_ms;    /* 0: 3000, at most one "typing" frame this often */
  guint typing_timeout_ms;    /* 0: 6000, a contact's typing ends without a refresh */
  guint relay_grace_ms;       /* 0: 4000: direct attempts before a relay is tried */
  guint relay_probe_ms;       /* 0: 15000: first try of the direct path while relayed, doubling */
  gboolean no_network_monitor; /* tests: ignore GNetworkMonitor (drive ep_node_network_changed) */
} EpNodeTiming;

typedef struct
{
  guint64 frames_received;
  guint64 frames_malformed;
  guint64 frames_ignored;         /* unknown types, or not allowed from this peer */
  guint64 fragments_rejected;
  guint64 messages_sent;          /* transmissions, retransmissions included */
  guint64 messages_retransmitted;
  guint64 messages_received;      /* new ones */
  guint64 messages_duplicate;
  guint64 requests_received;
  guint64 requests_dropped_nospam;
  guint64 requests_dropped_rate;  /* address or key over its limit */
  guint64 requests_dropped_full;  /* EP_NODE_MAX_PENDING_REQUESTS waiting */
  guint64 incoming_refused;
  guint64 connects;
  guint64 presence_resolved;      /* records used to call a contact */
  guint64 presence_failed;
  guint64 typing_received;        /* "typing" and "stopped" frames from contacts */
  guint64 presence_published;     /* our record stored */
  guint64 network_changes;        /* reactions to a changed network */
} EpNodeCounters;

/* How a contact is reached (ep_node_get_path()). */
typedef enum
{
  EP_NODE_PATH_NONE,      /* no session */
  EP_NODE_PATH_DIRECT,
  EP_NODE_PATH_RELAY,     /* through a relay (ep_node_add_relay(), or one the contact published) */
} EpNodePath;

#define EP_NODE_MAX_RELAYS 8

#define EP_TYPE_NODE (ep_node_get_type ())

G_DECLARE_FINAL_TYPE (EpNode, ep_node, EP, NODE, GObject)

GQuark          ep_node_error_quark            (void);

EpNode         *ep_node_open                   (const char          *profile_dir,
                                                const char          *passphrase,
                                                GError             **error);
void            ep_node_open_async             (const char          *profile_dir,
                                                const char          *passphrase,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
EpNode         *ep_node_open_finish            (GAsyncResult        *result,
                                                GError             **error);
const char     *ep_node_get_profile_dir        (EpNode              *self);
EpIdentity     *ep_node_get_identity           (EpNode              *self);
EpStore        *ep_node_get_store              (EpNode              *self);
EpContactList  *ep_node_get_contacts           (EpNode              *self);
const char     *ep_node_get_key                (EpNode              *self);
EpNodeSettings *ep_node_get_settings           (EpNode              *self);
const char     *ep_node_get_name               (EpNode              *self);
void            ep_node_set_name               (EpNode              *self,
                                                const char          *name);
const char     *ep_node_get_status_text        (EpNode              *self);
void            ep_node_set_status_text        (EpNode              *self,
                                                const char          *status_text);
gboolean        ep_node_save_profile           (EpNode              *self,
                                                GError             **error);
void            ep_node_change_passphrase_async (EpNode             *self,
                                                 const char         *current,
                                                 const char         *new_passphrase,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
gboolean        ep_node_change_passphrase_finish (EpNode            *self,
                                                  GAsyncResult      *result,
                                                  GError           **error);
void            ep_node_get_timing             (EpNode              *self,
                                                EpNodeTiming        *timing);
void            ep_node_set_timing             (EpNode              *self,
                                                const EpNodeTiming  *timing);

/* Opens the sockets (settings as they are now), starts DHT and LAN
 * discovery, loads contacts and outbox; completes when all is up. */
void            ep_node_start_async            (EpNode              *self,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
gboolean        ep_node_start_finish           (EpNode              *self,
                                                GAsyncResult        *result,
                                                GError             **error);
/* Saves the DHT table and profile.json, closes sessions and sockets. */
void            ep_node_stop                   (EpNode              *self);
gboolean        ep_node_is_started             (EpNode              *self);

guint16         ep_node_get_port               (EpNode              *self);
EpUdp          *ep_node_get_udp                (EpNode              *self);
EpSessionManager *ep_node_get_session_manager  (EpNode              *self);
EpDht          *ep_node_get_dht                (EpNode              *self);
const EpNodeCounters *ep_node_get_counters     (EpNode              *self);

/* Where @key can be reached (a LAN beacon, a record, a user's hint). */
void            ep_node_add_peer_address       (EpNode              *self,
                                                const guint8         key[32],
                                                GSocketAddress      *address);
gboolean        ep_node_is_connected           (EpNode              *self,
                                                const guint8         key[32]);
/* The network changed (GNetworkMonitor says so; a test may say so too). */
void            ep_node_network_changed        (EpNode              *self,
                                                gboolean             available);

/* Relays (ep-node-relay.c): a relay we keep a session with and publish in
 * our presence record; contacts we cannot reach directly within
 * relay_grace_ms are reached through one of theirs or ours. */
gboolean        ep_node_add_relay              (EpNode              *self,
                                                const guint8         key[32],
                                                GSocketAddress      *address);
EpNodePath      ep_node_get_path               (EpNode              *self,
                                                const guint8         key[32]);

/* Contacts and requests */
EpContact      *ep_node_add_contact            (EpNode              *self,
                                                const char          *contact_id,
                                                const char          *text,
                                                GError             **error);
EpContact      *ep_node_accept_request         (EpNode              *self,
                                                const guint8         key[32],
                                                GError             **error);
gboolean        ep_node_decline_request        (EpNode              *self,
                                                const guint8         key[32],
                                                GError             **error);
gboolean        ep_node_block_contact          (EpNode              *self,
                                                const guint8         key[32],
                                                GError             **error);
gboolean        ep_node_remove_contact         (EpNode              *self,
                                                const guint8         key[32],
                                                GError             **error);
guint           ep_node_get_n_pending_requests (EpNode              *self);
gboolean        ep_node_reset_nospam           (EpNode              *self,
                                                GError             **error);

/* Messages */
void            ep_node_set_typing             (EpNode              *self,
                                                const guint8         key[32],
                                                gboolean             typing);
void            ep_node_send_message_async     (EpNode              *self,
                                                const guint8         key[32],
                                                const char          *text,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
EpMessage      *ep_node_send_message_finish    (EpNode              *self,
                                                GAsyncResult        *result,
                                                GError             **error);
void            ep_node_open_conversation_async (EpNode             *self,
                                                 const guint8        key[32],
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
EpConversation *ep_node_open_conversation_finish (EpNode            *self,
                                                  GAsyncResult      *result,
                                                  GError           **error);

G_END_DECLS
