/* ep-session-manager.h — the session table on the shared UDP socket
 *
 * Registers the session packet types on an EpUdp, demultiplexes by receiver
 * index, runs the handshakes (with a stateless cookie exchange when under
 * load), creates sessions for outgoing connects and, after asking
 * ::incoming, for incoming ones. Holds our Ed25519 identity key and X25519
 * static key as raw bytes.
 *
 * A session's address is an inet socket address or a relayed path
 * (EpRelayAddress): datagrams for a relayed path go to the relay hook
 * (ep_session_manager_set_relay_func()), datagrams a relay delivered come
 * in through ep_session_manager_receive_relayed(). Cookies, address
 * comparisons and the simultaneous-open rule treat both kinds alike, and a
 * handshake on a relayed path must prove the key the relay named.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "ep-session.h"
#include "ep-udp.h"

G_BEGIN_DECLS

/* Times in milliseconds. Defaults in the comments; tests shorten them. */
typedef struct
{
  guint   tick_ms;                 /* 100: timer granularity */
  guint   handshake_retry_ms;      /* 250: first retransmission, doubling (punches NATs fast) */
  guint   handshake_retry_max_ms;  /* 8000 */
  guint   handshake_timeout_ms;    /* 30000: give up */
  guint   rekey_after_ms;          /* 120000 */
  guint64 rekey_after_messages;    /* 2^20 */
  guint   keepalive_ms;            /* 25000: sent when we sent nothing for so long; NAT
                                    * mappings of UDP live at least 30 s */
  guint   idle_timeout_ms;         /* 80000: close when we heard nothing for so long (three
                                    * keepalives missed) */
  guint   old_keys_ms;             /* 15000: keep the previous keys for late packets */
  guint   cookie_secret_ms;        /* 120000: cookie secret rotation */
  /* Sessions on a relayed path (EpRelayAddress) and sessions with a relay
   * keep the idle budget: at most one keepalive per this long. */
  guint   relay_keepalive_ms;      /* 25000 */
  guint   relay_idle_timeout_ms;   /* 80000 */
} EpSessionTiming;

typedef struct
{
  guint64 handshakes_initiated;
  guint64 handshakes_completed;
  guint64 cookie_replies_sent;
  guint64 cookies_received;
  guint64 dropped_malformed;        /* wrong length or type */
  guint64 dropped_mac;              /* INIT with a bad mac1 */
  guint64 dropped_unknown_index;
  guint64 dropped_handshake;        /* failed Noise authentication or bad identity payload */
  guint64 dropped_replayed_handshake;
  guint64 dropped_overload;         /* too many pending handshakes even with cookies */
  guint64 duplicate_handshakes;     /* answered again from the cache */
  guint64 refused_incoming;
  guint64 wrong_identity;
} EpSessionManagerCounters;

#define EP_TYPE_SESSION_MANAGER (ep_session_manager_get_type ())

G_DECLARE_FINAL_TYPE (EpSessionManager, ep_session_manager, EP, SESSION_MANAGER, GObject)

/* Sends one session datagram on a relayed path (@to is an EpRelayAddress);
 * TRUE when it left or waits to leave. */
typedef gboolean (*EpSessionRelayFunc) (EpSessionManager *manager,
                                        GSocketAddress   *to,
                                        const guint8     *data,
                                        gsize             len,
                                        gpointer          user_data);

EpSessionManager *ep_session_manager_new            (EpUdp                 *udp,
                                                     const guint8          *identity_secret,
                                                     const guint8          *static_secret);
const guint8     *ep_session_manager_get_identity   (EpSessionManager      *self);
EpSession        *ep_session_manager_connect        (EpSessionManager      *self,
                                                     GSocketAddress        *address,
                                                     const guint8          *identity);
EpSession        *ep_session_manager_connect_any    (EpSessionManager      *self,
                                                     GPtrArray             *addresses,
                                                     const guint8          *identity);
EpSession        *ep_session_manager_lookup         (EpSessionManager      *self,
                                                     const guint8          *identity);
guint             ep_session_manager_get_n_sessions (EpSessionManager      *self);
guint             ep_session_manager_get_n_pending  (EpSessionManager      *self);
void              ep_session_manager_get_timing     (EpSessionManager      *self,
                                                     EpSessionTiming       *timing);
void              ep_session_manager_set_timing     (EpSessionManager      *self,
                                                     const EpSessionTiming *timing);
void              ep_session_manager_set_load_threshold (EpSessionManager  *self,
                                                         guint              pending);
void              ep_session_manager_set_max_pending (EpSessionManager     *self,
                                                      guint                 pending);
const EpSessionManagerCounters *ep_session_manager_get_counters (EpSessionManager *self);
void              ep_session_manager_set_relay_func (EpSessionManager      *self,
                                                     EpSessionRelayFunc     func,
                                                     gpointer               user_data);
void              ep_session_manager_receive_relayed (EpSessionManager     *self,
                                                      GSocketAddress       *from,
                                                      const guint8         *data,
                                                      gsize                 len);

G_END_DECLS
