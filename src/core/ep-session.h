/* ep-session.h — one Noise XX session with one peer over the shared UDP socket
 *
 * Sessions come from EpSessionManager: ep_session_manager_connect() for
 * outgoing ones, its ::incoming signal for accepted incoming ones. A session
 * authenticates both sides (Noise XX, each static key bound to an Ed25519
 * identity), encrypts every frame, drops replays, rekeys on its own and
 * closes when the peer goes silent. Plaintext leaves it only through
 * ::frame-received.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The largest frame one datagram carries. */
#define EP_SESSION_MAX_FRAME (2048 - 13 - 16)

#define EP_SESSION_ERROR (ep_session_error_quark ())

typedef enum
{
  EP_SESSION_ERROR_CLOSED,          /* closed by us */
  EP_SESSION_ERROR_WRONG_IDENTITY,  /* the peer is not who we called */
  EP_SESSION_ERROR_REFUSED,         /* the peer refused us, or we refused it */
  EP_SESSION_ERROR_TIMED_OUT,       /* the handshake got no answer */
  EP_SESSION_ERROR_IDLE,            /* the peer went silent */
  EP_SESSION_ERROR_TOO_LARGE,
  EP_SESSION_ERROR_QUEUE_FULL,
  EP_SESSION_ERROR_SEND_FAILED,
} EpSessionError;

typedef enum
{
  EP_SESSION_STATE_CONNECTING,
  EP_SESSION_STATE_ESTABLISHED,
  EP_SESSION_STATE_CLOSED,
} EpSessionState;

typedef struct
{
  guint64 frames_sent;
  guint64 frames_received;
  guint64 keepalives_sent;
  guint64 keepalives_received;
  guint64 dropped_replayed;      /* a counter seen before */
  guint64 dropped_too_old;       /* behind the replay window */
  guint64 dropped_auth;          /* failed authentication */
  guint64 handshakes;            /* completed, the first one included */
} EpSessionCounters;

#define EP_TYPE_SESSION_STATE (ep_session_state_get_type ())
#define EP_TYPE_SESSION (ep_session_get_type ())

GType ep_session_state_get_type (void) G_GNUC_CONST;

G_DECLARE_FINAL_TYPE (EpSession, ep_session, EP, SESSION, GObject)

GQuark          ep_session_error_quark         (void);

EpSessionState  ep_session_get_state           (EpSession            *self);
const GError   *ep_session_get_error           (EpSession            *self);
GBytes         *ep_session_get_remote_identity (EpSession            *self);
GSocketAddress *ep_session_get_remote_address  (EpSession            *self);
const EpSessionCounters *ep_session_get_counters (EpSession          *self);
gint64          ep_session_get_last_received   (EpSession            *self);
void            ep_session_probe               (EpSession            *self);
gboolean        ep_session_send                (EpSession            *self,
                                                GBytes               *frame,
                                                GError              **error);
void            ep_session_send_async          (EpSession            *self,
                                                GBytes               *frame,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
gboolean        ep_session_send_finish         (EpSession            *self,
                                                GAsyncResult         *result,
                                                GError              **error);
void            ep_session_close               (EpSession            *self);

G_END_DECLS
