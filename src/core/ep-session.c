/* ep-session.c — one Noise XX session with one peer over the shared UDP socket
 *
 * A session holds up to three keypairs, as WireGuard does: `current` sends
 * and receives; `previous` still receives for a while after a rekey, so
 * packets in flight are not lost; `next` is one we initiated and whose
 * message 3 the peer has not yet confirmed by sending on it. The
 * handshakes themselves run in EpSessionManager.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-session-private.h"

G_STATIC_ASSERT (EP_SESSION_MAX_FRAME + EP_TRANSPORT_MIN_LEN == EP_UDP_MAX_DATAGRAM);

/* Frames asked for before the first handshake finishes wait here. */
#define MAX_QUEUED 256

/* Never use a key for more than this many messages, rekeyed or not. */
#define REJECT_AFTER_MESSAGES (G_GUINT64_CONSTANT (1) << 40)

enum
{
  PROP_0,
  PROP_STATE,
  N_PROPS
};

enum
{
  STATE_CHANGED,
  FRAME_RECEIVED,
  N_SIGNALS
};

struct _EpSession
{
  GObject            parent_instance;

  EpSessionManager  *manager;          /* unowned; NULL once closed */
  EpSessionState     state;
  GError            *error;

  guint8             identity[32];
  guint8             remote_static[32];
  gboolean           has_remote_static;
  GSocketAddress    *address;
  gboolean           relay_budget;     /* a session with a relay */

  EpKeypair         *current;
  EpKeypair         *previous;
  EpKeypair         *next;
  gint64             previous_until_us;
  EpHandshake       *handshake;        /* unowned; the manager's */

  GQueue             queue;            /* GTask, frame as task data */
  gint64             last_sent_us;
  gint64             last_received_us;
  gint64             probe_sent_us;    /* ep_session_probe(): an answer is due; 0: none */

  EpSessionCounters  counters;
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_QUARK (ep-session-error-quark, ep_session_error)
G_DEFINE_ENUM_TYPE (EpSessionState, ep_session_state,
                    G_DEFINE_ENUM_VALUE (EP_SESSION_STATE_CONNECTING, "connecting"),
                    G_DEFINE_ENUM_VALUE (EP_SESSION_STATE_ESTABLISHED, "established"),
                    G_DEFINE_ENUM_VALUE (EP_SESSION_STATE_CLOSED, "closed"))
G_DEFINE_FINAL_TYPE (EpSession, ep_session, G_TYPE_OBJECT)

static void
set_state (EpSession      *self,
           EpSessionState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_signal_emit (self, signals[STATE_CHANGED], 0);
}

static void
drop_keypair (EpSession  *self,
              EpKeypair **keypair)
{
  if (*keypair == NULL)
    return;
  if (self->manager != NULL)
    ep_session_manager_release_index (self->manager, (*keypair)->local_index);
  g_clear_pointer (keypair, ep_keypair_free);
}

static gboolean
seal_and_send (EpSession     *self,
               EpKeypair     *keypair,
               const guint8  *payload,
               gsize          len,
               GError       **error)
{
  guint8 packet[EP_TRANSPORT_MIN_LEN + EP_SESSION_MAX_FRAME];
  guint64 counter = keypair->next_counter;

  g_assert (len <= EP_SESSION_MAX_FRAME);

  if (counter >= REJECT_AFTER_MESSAGES)
    {
      g_set_error (error, EP_SESSION_ERROR, EP_SESSION_ERROR_SEND_FAILED,
                   _("The session keys are used up"));
      return FALSE;
    }

  packet[0] = EP_PACKET_TRANSPORT;
  ep_write_u32 (packet + 1, keypair->remote_index);
  ep_write_u64 (packet + 5, counter);
  ep_noise_cipher_encrypt_nonce (&keypair->send, counter, packet, EP_TRANSPORT_HEADER_LEN,
                                 payload, len, packet + EP_TRANSPORT_HEADER_LEN);
  keypair->next_counter++;
  self->last_sent_us = g_get_monotonic_time ();

  if (!ep_session_manager_send_datagram (self->manager, self->address, packet,
                                         EP_TRANSPORT_MIN_LEN + len))
    {
      g_set_error (error, EP_SESSION_ERROR, EP_SESSION_ERROR_SEND_FAILED,
                   _("The network refused the packet"));
      return FALSE;
    }

  if (keypair->next_counter >= ep_session_manager_peek_timing (self->manager)->rekey_after_messages
      && self->handshake == NULL && self->next == NULL)
    ep_session_manager_begin_handshake (self->manager, self);

  return TRUE;
}

static void
flush_queue (EpSession *self)
{
  GTask *task;

  while (self->current != NULL && (task = g_queue_pop_head (&self->queue)) != NULL)
    {
      GBytes *frame = g_task_get_task_data (task);
      GError *error = NULL;
      gsize len;
      const guint8 *data = g_bytes_get_data (frame, &len);

      if (g_task_return_error_if_cancelled (task))
        ;
      else if (seal_and_send (self, self->current, data, len, &error))
        {
          self->counters.frames_sent++;
          g_task_return_boolean (task, TRUE);
        }
      else
        g_task_return_error (task, error);
      g_object_unref (task);

      if (self->state == EP_SESSION_STATE_CLOSED)
        break;
    }
}

/* Both sides called each other and both handshakes finished (the manager
 * can only match crossing INITs by address, and a peer behind a NAT may
 * call from another one than it published). Left alone, each side would
 * send on the keys it got last, which need not be the same, and drop the
 * other side's keys once they count as old. So both keep the keys of the
 * handshake that the lower identity key initiated; the others only
 * receive, for a while. */
static gboolean
loses_crossing (EpSession *self,
                EpKeypair *keypair,
                gint64     now)
{
  const EpSessionTiming *timing = ep_session_manager_peek_timing (self->manager);
  gboolean we_are_lower;

  if (self->current == NULL || self->counters.handshakes != 1
      || keypair->initiator == self->current->initiator
      || now - self->current->created_us >= (gint64) timing->handshake_timeout_ms * 1000)
    return FALSE;
  we_are_lower = memcmp (ep_session_manager_get_identity (self->manager), self->identity,
                         sizeof self->identity) < 0;
  return keypair->initiator != we_are_lower;
}

/* The keys from a finished handshake become the ones we send with. */
static void
rotate_in (EpSession *self,
           EpKeypair *keypair)
{
  const EpSessionTiming *timing = ep_session_manager_peek_timing (self->manager);
  gint64 now = g_get_monotonic_time ();

  if (loses_crossing (self, keypair, now))
    {
      drop_keypair (self, &self->previous);
      self->previous = keypair;
      self->previous_until_us = now + (gint64) timing->old_keys_ms * 1000;
      self->counters.handshakes++;
      return;
    }

  drop_keypair (self, &self->previous);
  self->previous = self->current;
  self->current = keypair;
  self->previous_until_us = now + (gint64) timing->old_keys_ms * 1000;
  self->counters.handshakes++;

  if (self->state == EP_SESSION_STATE_CONNECTING)
    {
      self->last_received_us = now;
      set_state (self, EP_SESSION_STATE_ESTABLISHED);
    }
  flush_queue (self);
}

static void
ep_session_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  EpSession *self = EP_SESSION (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ep_session_finalize (GObject *object)
{
  EpSession *self = EP_SESSION (object);

  g_assert (g_queue_is_empty (&self->queue));

  self->manager = NULL;
  drop_keypair (self, &self->current);
  drop_keypair (self, &self->previous);
  drop_keypair (self, &self->next);
  g_clear_object (&self->address);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (ep_session_parent_class)->finalize (object);
}

static void
ep_session_class_init (EpSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = ep_session_get_property;
  object_class->finalize = ep_session_finalize;

  /**
   * EpSession:state:
   *
   * Connecting until the first handshake finishes, then established until
   * closed. A closed session never opens again.
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       EP_TYPE_SESSION_STATE, EP_SESSION_STATE_CONNECTING,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * EpSession::state-changed:
   *
   * Emitted after #EpSession:state changed.
   */
  signals[STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * EpSession::frame-received:
   * @frame: the decrypted frame
   *
   * Emitted for every authentic, new frame, in arrival order.
   */
  signals[FRAME_RECEIVED] =
    g_signal_new ("frame-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BYTES);
}

static void
ep_session_init (EpSession *self)
{
  g_queue_init (&self->queue);
}

/* For the manager ------------------------------------------------------- */

EpSession *
ep_session_new_internal (EpSessionManager *manager,
                         const guint8     *identity,
                         GSocketAddress   *address)
{
  EpSession *self = g_object_new (EP_TYPE_SESSION, NULL);

  self->manager = manager;
  memcpy (self->identity, identity, sizeof self->identity);
  self->address = g_object_ref (address);
  self->last_sent_us = self->last_received_us = g_get_monotonic_time ();

  return self;
}

const guint8 *
ep_session_peek_identity (EpSession *self)
{
  return self->identity;
}

void
ep_session_set_address (EpSession      *self,
                        GSocketAddress *address)
{
  if (ep_socket_address_equal (self->address, address))
    return;
  g_set_object (&self->address, address);
}

/* Sessions with a relay keep the idle budget of relayed paths. */
void
ep_session_set_relay_budget (EpSession *self,
                             gboolean   relay_budget)
{
  self->relay_budget = relay_budget;
}

/* Established, and no handshake running or waiting for confirmation. */
gboolean
ep_session_can_rekey (EpSession *self)
{
  return self->state == EP_SESSION_STATE_ESTABLISHED && self->manager != NULL
         && self->current != NULL && self->handshake == NULL && self->next == NULL;
}

static gboolean
slow_path (EpSession *self)
{
  return self->relay_budget || EP_IS_RELAY_ADDRESS (self->address);
}

void
ep_session_set_remote_static (EpSession    *self,
                              const guint8 *remote_static)
{
  memcpy (self->remote_static, remote_static, sizeof self->remote_static);
  self->has_remote_static = TRUE;
}

EpHandshake *
ep_session_get_handshake (EpSession *self)
{
  return self->handshake;
}

void
ep_session_set_handshake (EpSession   *self,
                          EpHandshake *handshake)
{
  self->handshake = handshake;
}

/*
 * ep_session_add_keypair:
 * @keypair: (transfer full)
 *
 * A keypair we initiated waits in `next` until the peer sends on it; one we
 * responded to is confirmed already (message 3 proved the peer holds it).
 */
void
ep_session_add_keypair (EpSession *self,
                        EpKeypair *keypair)
{
  if (self->state == EP_SESSION_STATE_CLOSED)
    {
      drop_keypair (self, &keypair);
      return;
    }

  /* A handshake message of the peer just authenticated: it is alive (on a
   * path that may keep other timings: a relayed session going direct). */
  self->last_received_us = g_get_monotonic_time ();

  if (!keypair->confirmed)
    {
      drop_keypair (self, &self->next);
      self->next = keypair;
      return;
    }

  rotate_in (self, keypair);
}

EpKeypair *
ep_session_find_keypair (EpSession *self,
                         guint32    local_index)
{
  if (self->current != NULL && self->current->local_index == local_index)
    return self->current;
  if (self->next != NULL && self->next->local_index == local_index)
    return self->next;
  if (self->previous != NULL && self->previous->local_index == local_index)
    return self->previous;
  return NULL;
}

void
ep_session_send_keepalive (EpSession *self,
                           EpKeypair *keypair)
{
  if (seal_and_send (self, keypair, NULL, 0, NULL))
    self->counters.keepalives_sent++;
}

/*
 * ep_session_handle_transport:
 * @packet: a whole TRANSPORT packet, at least %EP_TRANSPORT_MIN_LEN bytes,
 *   addressed to @keypair
 */
void
ep_session_handle_transport (EpSession      *self,
                             EpKeypair      *keypair,
                             GSocketAddress *from,
                             const guint8   *packet,
                             gsize           len)
{
  g_autofree guint8 *plaintext = NULL;
  guint64 counter = ep_read_u64 (packet + 5);
  gsize plaintext_len = len - EP_TRANSPORT_MIN_LEN;

  if (plaintext_len > EP_SESSION_MAX_FRAME)
    {
      self->counters.dropped_auth++;
      return;
    }

  switch (ep_replay_window_check (&keypair->window, counter))
    {
    case EP_REPLAY_DUPLICATE:
      self->counters.dropped_replayed++;
      return;
    case EP_REPLAY_TOO_OLD:
      self->counters.dropped_too_old++;
      return;
    case EP_REPLAY_NEW:
    default:
      break;
    }

  /* Straight into the buffer the frame will own: no copy on the hot path. */
  plaintext = g_malloc (MAX (plaintext_len, 1));
  if (!ep_noise_cipher_decrypt_nonce (&keypair->receive, counter, packet, EP_TRANSPORT_HEADER_LEN,
                                      packet + EP_TRANSPORT_HEADER_LEN,
                                      len - EP_TRANSPORT_HEADER_LEN, plaintext))
    {
      self->counters.dropped_auth++;
      return;
    }

  ep_replay_window_update (&keypair->window, counter);
  self->last_received_us = g_get_monotonic_time ();
  /* Authentic: the peer may have moved (NAT rebinding, roaming). Only a
   * handshake moves a direct session onto a relay, though: a packet the
   * relay still had in flight must not undo a move to the direct path. */
  if (!EP_IS_RELAY_ADDRESS (from) || EP_IS_RELAY_ADDRESS (self->address))
    ep_session_set_address (self, from);

  g_object_ref (self);

  if (keypair == self->next)
    {
      keypair->confirmed = TRUE;
      self->next = NULL;
      rotate_in (self, keypair);
    }

  if (plaintext_len == 0)
    self->counters.keepalives_received++;
  else if (self->state != EP_SESSION_STATE_CLOSED)
    {
      g_autoptr(GBytes) frame = g_bytes_new_take (g_steal_pointer (&plaintext), plaintext_len);

      self->counters.frames_received++;
      g_signal_emit (self, signals[FRAME_RECEIVED], 0, frame);
    }

  g_object_unref (self);
}

void
ep_session_tick (EpSession *self,
                 gint64     now)
{
  const EpSessionTiming *timing;

  if (self->state == EP_SESSION_STATE_CLOSED || self->manager == NULL)
    return;

  timing = ep_session_manager_peek_timing (self->manager);

  /* Message 3 goes again until the peer sends on its keys. */
  if (self->next != NULL)
    {
      EpKeypair *next = self->next;

      if (now - next->created_us >= (gint64) timing->handshake_timeout_ms * 1000)
        {
          drop_keypair (self, &self->next);
          if (self->current == NULL)
            {
              ep_session_fail (self, g_error_new (EP_SESSION_ERROR, EP_SESSION_ERROR_TIMED_OUT,
                                                  _("The peer did not finish the handshake")));
              return;
            }
        }
      else if (now >= next->final_next_us)
        {
          ep_session_manager_send_datagram (self->manager, self->address,
                                            next->final_packet, EP_FINAL_LEN);
          next->final_retry_ms = MIN (next->final_retry_ms * 2, timing->handshake_retry_max_ms);
          next->final_next_us = now + (gint64) next->final_retry_ms * 1000;
        }
    }

  if (self->previous != NULL && now >= self->previous_until_us)
    drop_keypair (self, &self->previous);

  if (self->current == NULL)
    return;

  /* A probe's handshake gets an answer within a few retransmissions when
   * the path works; without one the path is gone, and the session ends
   * now rather than after the idle timeout. */
  if (self->probe_sent_us != 0 && self->last_received_us > self->probe_sent_us)
    self->probe_sent_us = 0;
  if ((self->probe_sent_us != 0
       && now - self->probe_sent_us >= (gint64) timing->handshake_timeout_ms * 500)
      || now - self->last_received_us
         >= (gint64) (slow_path (self) ? timing->relay_idle_timeout_ms : timing->idle_timeout_ms)
            * 1000)
    {
      ep_session_fail (self, g_error_new (EP_SESSION_ERROR, EP_SESSION_ERROR_IDLE,
                                          _("The peer stopped answering")));
      return;
    }

  /* Keys are never used much past their time: if rekeying keeps failing,
   * the session ends rather than living on old keys. */
  if (now - self->current->created_us >= (gint64) timing->rekey_after_ms * 3000)
    {
      ep_session_fail (self, g_error_new (EP_SESSION_ERROR, EP_SESSION_ERROR_TIMED_OUT,
                                          _("The session could not renew its keys")));
      return;
    }

  if (self->handshake == NULL && self->next == NULL)
    {
      gint64 age = now - self->current->created_us;
      gint64 rekey = (gint64) timing->rekey_after_ms * 1000;

      /* The side that initiated the current keys renews them; the other
       * one only if that side seems to have forgotten. */
      if ((self->current->initiator && age >= rekey) || age >= rekey + rekey / 2)
        ep_session_manager_begin_handshake (self->manager, self);
    }

  if (now - self->last_sent_us
      >= (gint64) (slow_path (self) ? timing->relay_keepalive_ms : timing->keepalive_ms) * 1000)
    ep_session_send_keepalive (self, self->current);
}

/*
 * ep_session_fail:
 * @error: (transfer full): why
 *
 * Closes the session for good: queued sends fail, keys are wiped, the
 * manager forgets it.
 */
void
ep_session_fail (EpSession *self,
                 GError    *error)
{
  GTask *task;

  if (self->state == EP_SESSION_STATE_CLOSED)
    {
      g_error_free (error);
      return;
    }

  g_object_ref (self);

  g_debug ("session closed: %s", error->message);
  self->error = error;

  drop_keypair (self, &self->current);
  drop_keypair (self, &self->previous);
  drop_keypair (self, &self->next);

  if (self->manager != NULL)
    ep_session_manager_session_closed (self->manager, self);
  self->manager = NULL;
  self->handshake = NULL;

  while ((task = g_queue_pop_head (&self->queue)) != NULL)
    {
      g_task_return_error (task, g_error_copy (self->error));
      g_object_unref (task);
    }

  set_state (self, EP_SESSION_STATE_CLOSED);
  g_object_unref (self);
}

/* Public API -------------------------------------------------------------- */

EpSessionState
ep_session_get_state (EpSession *self)
{
  g_return_val_if_fail (EP_IS_SESSION (self), EP_SESSION_STATE_CLOSED);

  return self->state;
}

/**
 * ep_session_get_error:
 *
 * Returns: (nullable) (transfer none): why the session closed
 */
const GError *
ep_session_get_error (EpSession *self)
{
  g_return_val_if_fail (EP_IS_SESSION (self), NULL);

  return self->error;
}

/**
 * ep_session_get_remote_identity:
 *
 * Returns: (transfer full): the peer's Ed25519 identity key, 32 bytes: the
 *   one we called, or the one an incoming peer proved
 */
GBytes *
ep_session_get_remote_identity (EpSession *self)
{
  g_return_val_if_fail (EP_IS_SESSION (self), NULL);

  return g_bytes_new (self->identity, sizeof self->identity);
}

/**
 * ep_session_get_remote_address:
 *
 * Returns: (transfer none): where the peer's last authentic packet came from: an
 *   inet socket address, or an #EpRelayAddress when it came through a relay
 */
GSocketAddress *
ep_session_get_remote_address (EpSession *self)
{
  g_return_val_if_fail (EP_IS_SESSION (self), NULL);

  return self->address;
}

const EpSessionCounters *
ep_session_get_counters (EpSession *self)
{
  g_return_val_if_fail (EP_IS_SESSION (self), NULL);

  return &self->counters;
}

/**
 * ep_session_get_last_received:
 *
 * Returns: when the last authentic packet from the peer came in (or the
 *   session was set up), monotonic µs
 */
gint64
ep_session_get_last_received (EpSession *self)
{
  g_return_val_if_fail (EP_IS_SESSION (self), 0);

  return self->last_received_us;
}

/**
 * ep_session_probe:
 *
 * After a network change: sends a keepalive now, whatever the keepalive
 * timer says, so that the peer learns our new address (it follows
 * authentic packets), and starts a handshake (new keys), which the peer
 * answers at once. Without any answer within half the handshake timeout
 * the path is taken as broken and the session closes (idle), so that its
 * owner calls again, instead of waiting for the idle timeout.
 */
void
ep_session_probe (EpSession *self)
{
  g_return_if_fail (EP_IS_SESSION (self));

  if (self->state != EP_SESSION_STATE_ESTABLISHED || self->current == NULL
      || self->manager == NULL)
    return;
  ep_session_send_keepalive (self, self->current);
  self->probe_sent_us = g_get_monotonic_time ();
  if (self->handshake == NULL && self->next == NULL)
    ep_session_manager_begin_handshake (self->manager, self);
}

static gboolean
check_frame (gsize    len,
             GError **error)
{
  if (len == 0 || len > EP_SESSION_MAX_FRAME)
    {
      g_set_error (error, EP_SESSION_ERROR, EP_SESSION_ERROR_TOO_LARGE,
                   _("A frame must have 1 to %u bytes"), EP_SESSION_MAX_FRAME);
      return FALSE;
    }
  return TRUE;
}

/**
 * ep_session_send:
 * @frame: at most %EP_SESSION_MAX_FRAME bytes, not empty
 *
 * Encrypts and sends one frame now, without blocking (a datagram never
 * blocks). The session must be established; before that, use
 * ep_session_send_async(), which waits for the handshake. For senders of
 * many small frames this spares the main-loop round of a #GTask.
 *
 * Returns: %TRUE if the datagram left
 */
gboolean
ep_session_send (EpSession  *self,
                 GBytes     *frame,
                 GError    **error)
{
  gsize len;
  const guint8 *data;

  g_return_val_if_fail (EP_IS_SESSION (self), FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);

  data = g_bytes_get_data (frame, &len);
  if (!check_frame (len, error))
    return FALSE;

  if (self->state == EP_SESSION_STATE_CLOSED)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return FALSE;
    }

  if (self->current == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING,
                   _("The session is not established yet"));
      return FALSE;
    }

  if (!seal_and_send (self, self->current, data, len, error))
    return FALSE;

  self->counters.frames_sent++;
  return TRUE;
}

/**
 * ep_session_send_async:
 * @frame: at most %EP_SESSION_MAX_FRAME bytes, not empty
 *
 * Encrypts and sends one frame. Before the first handshake finishes the
 * frame waits; the task completes once the datagram left, which is not a
 * delivery receipt: frames may be lost like any datagram.
 */
void
ep_session_send_async (EpSession           *self,
                       GBytes              *frame,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  const guint8 *data;

  g_return_if_fail (EP_IS_SESSION (self));
  g_return_if_fail (frame != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ep_session_send_async);
  data = g_bytes_get_data (frame, &len);

  if (!check_frame (len, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (self->state == EP_SESSION_STATE_CLOSED)
    {
      g_task_return_error (task, g_error_copy (self->error));
      return;
    }

  if (self->current == NULL)
    {
      if (g_queue_get_length (&self->queue) >= MAX_QUEUED)
        {
          g_task_return_new_error (task, EP_SESSION_ERROR, EP_SESSION_ERROR_QUEUE_FULL,
                                   _("Too many frames are waiting for the connection"));
          return;
        }
      g_task_set_task_data (task, g_bytes_ref (frame), (GDestroyNotify) g_bytes_unref);
      g_queue_push_tail (&self->queue, g_steal_pointer (&task));
      return;
    }

  if (!seal_and_send (self, self->current, data, len, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  self->counters.frames_sent++;
  g_task_return_boolean (task, TRUE);
}

gboolean
ep_session_send_finish (EpSession     *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (EP_IS_SESSION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * ep_session_close:
 *
 * Closes the session and wipes its keys; waiting sends fail.
 */
void
ep_session_close (EpSession *self)
{
  g_return_if_fail (EP_IS_SESSION (self));

  ep_session_fail (self, g_error_new (EP_SESSION_ERROR, EP_SESSION_ERROR_CLOSED,
                                      _("The session was closed")));
}
