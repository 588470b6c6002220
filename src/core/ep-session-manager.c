/* ep-session-manager.c — the session table on the shared UDP socket
 *
 * Owns the index table (our receiver indices → the handshake or session
 * they belong to), the sessions by peer identity and the timer that drives
 * retransmissions, keepalives, rekeys and timeouts. The handshake messages
 * and the cookie live in ep-session-handshake.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-session-private.h"

#define DEFAULT_LOAD_THRESHOLD 64
#define DEFAULT_MAX_PENDING    4096

enum
{
  INCOMING,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* KRPC owns 'd' on the shared socket. */
G_STATIC_ASSERT (EP_PACKET_INIT != 'd' && EP_PACKET_RESPONSE != 'd' && EP_PACKET_FINAL != 'd'
                 && EP_PACKET_TRANSPORT != 'd' && EP_PACKET_COOKIE != 'd');

static const guint8 packet_types[] = {
  EP_PACKET_INIT,
  EP_PACKET_RESPONSE,
  EP_PACKET_FINAL,
  EP_PACKET_TRANSPORT,
  EP_PACKET_COOKIE,
};

static const EpSessionTiming default_timing = {
  .tick_ms = 100,
  .handshake_retry_ms = 250,
  .handshake_retry_max_ms = 8000,
  .handshake_timeout_ms = 30000,
  .rekey_after_ms = 120000,
  .rekey_after_messages = G_GUINT64_CONSTANT (1) << 20,
  .keepalive_ms = 25000,
  .idle_timeout_ms = 80000,
  .old_keys_ms = 15000,
  .cookie_secret_ms = 120000,
  .relay_keepalive_ms = 25000,
  .relay_idle_timeout_ms = 80000,
};

G_DEFINE_FINAL_TYPE (EpSessionManager, ep_session_manager, G_TYPE_OBJECT)

static void
on_datagram (EpUdp          *udp,
             GSocketAddress *from,
             const guint8   *data,
             gsize           len,
             gpointer        user_data)
{
  ep_session_manager_handle_datagram (EP_SESSION_MANAGER (user_data), from, data, len);
}

static void
prune_seen_ephemerals (EpSessionManager *self,
                       gint64            now)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->seen_ephemerals);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (*(gint64 *) value <= now)
      g_hash_table_iter_remove (&iter);
}

static gboolean
on_tick (gpointer user_data)
{
  EpSessionManager *self = user_data;
  gint64 now = g_get_monotonic_time ();
  g_autoptr(GPtrArray) sessions = NULL;
  GHashTableIter iter;
  gpointer value;

  g_object_ref (self);

  if (now - self->cookie_secret_us >= (gint64) self->timing.cookie_secret_ms * 1000)
    {
      memcpy (self->cookie_secret_previous, self->cookie_secret, sizeof self->cookie_secret);
      self->has_previous_secret = TRUE;
      randombytes_buf (self->cookie_secret, sizeof self->cookie_secret);
      self->cookie_secret_us = now;
    }

  ep_session_manager_tick_handshakes (self, now);

  sessions = g_ptr_array_new_with_free_func (g_object_unref);
  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (sessions, g_object_ref (value));
  for (guint i = 0; i < sessions->len; i++)
    ep_session_tick (sessions->pdata[i], now);

  prune_seen_ephemerals (self, now);

  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

static void
start_tick (EpSessionManager *self)
{
  if (self->tick_source != NULL)
    {
      g_source_destroy (self->tick_source);
      g_clear_pointer (&self->tick_source, g_source_unref);
    }
  self->tick_source = g_timeout_source_new (self->timing.tick_ms);
  g_source_set_callback (self->tick_source, on_tick, self, NULL);
  g_source_set_static_name (self->tick_source, "[ep-session-manager] tick");
  g_source_attach (self->tick_source, self->context);
}

static void
ep_session_manager_dispose (GObject *object)
{
  EpSessionManager *self = EP_SESSION_MANAGER (object);

  if (self->tick_source != NULL)
    {
      g_source_destroy (self->tick_source);
      g_clear_pointer (&self->tick_source, g_source_unref);
    }

  if (self->udp != NULL)
    for (guint i = 0; i < G_N_ELEMENTS (packet_types); i++)
      ep_udp_set_handler (self->udp, packet_types[i], NULL, NULL);

  /* Sessions others still hold end here, closed. */
  if (self->sessions != NULL)
    {
      g_autoptr(GList) sessions = g_hash_table_get_values (self->sessions);

      for (GList *l = sessions; l != NULL; l = l->next)
        g_object_ref (l->data);
      for (GList *l = sessions; l != NULL; l = l->next)
        {
          ep_session_close (l->data);
          g_object_unref (l->data);
        }
    }

  if (self->handshakes != NULL)
    {
      g_autoptr(GList) handshakes = g_hash_table_get_keys (self->handshakes);

      for (GList *l = handshakes; l != NULL; l = l->next)
        ep_session_manager_remove_handshake (self, l->data);
    }

  g_clear_object (&self->udp);

  G_OBJECT_CLASS (ep_session_manager_parent_class)->dispose (object);
}

static void
ep_session_manager_finalize (GObject *object)
{
  EpSessionManager *self = EP_SESSION_MANAGER (object);

  g_clear_pointer (&self->sessions, g_hash_table_unref);
  g_clear_pointer (&self->handshakes, g_hash_table_unref);
  g_clear_pointer (&self->responders, g_hash_table_unref);
  g_clear_pointer (&self->indices, g_hash_table_unref);
  g_clear_pointer (&self->seen_ephemerals, g_hash_table_unref);
  g_clear_pointer (&self->context, g_main_context_unref);

  sodium_memzero (self->identity_sk, sizeof self->identity_sk);
  sodium_memzero (self->static_sk, sizeof self->static_sk);
  sodium_memzero (self->cookie_secret, sizeof self->cookie_secret);
  sodium_memzero (self->cookie_secret_previous, sizeof self->cookie_secret_previous);

  G_OBJECT_CLASS (ep_session_manager_parent_class)->finalize (object);
}

static void
ep_session_manager_class_init (EpSessionManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ep_session_manager_dispose;
  object_class->finalize = ep_session_manager_finalize;

  /**
   * EpSessionManager::incoming:
   * @session: a session from a peer we have no session with, still
   *   connecting; its remote identity is proven
   *
   * Decides whether to accept an incoming session. A handler that accepts
   * returns %TRUE and may connect to the session's signals before any
   * frame arrives; with no handler, or all returning %FALSE, the peer is
   * refused. Take a reference to keep the session beyond the manager's.
   *
   * Returns: %TRUE to accept
   */
  signals[INCOMING] =
    g_signal_new ("incoming", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, g_signal_accumulator_true_handled, NULL, NULL,
                  G_TYPE_BOOLEAN, 1, EP_TYPE_SESSION);
}

static void
ep_session_manager_init (EpSessionManager *self)
{
  self->timing = default_timing;
  self->load_threshold = DEFAULT_LOAD_THRESHOLD;
  self->max_pending = DEFAULT_MAX_PENDING;
  self->indices = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  self->sessions = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                          (GDestroyNotify) g_bytes_unref, g_object_unref);
  self->handshakes = g_hash_table_new_full (g_direct_hash, g_direct_equal,
                                            (GDestroyNotify) ep_handshake_free, NULL);
  self->responders = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                            (GDestroyNotify) g_bytes_unref, NULL);
  self->seen_ephemerals = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                                 (GDestroyNotify) g_bytes_unref, g_free);
}

/* For the session and the handshake code -------------------------------- */

const EpSessionTiming *
ep_session_manager_peek_timing (EpSessionManager *self)
{
  return &self->timing;
}

EpSessionManagerCounters *
ep_session_manager_peek_counters (EpSessionManager *self)
{
  return &self->counters;
}

gboolean
ep_session_manager_send_datagram (EpSessionManager *self,
                                  GSocketAddress   *to,
                                  const guint8     *data,
                                  gsize             len)
{
  g_autoptr(GError) error = NULL;

  if (EP_IS_RELAY_ADDRESS (to))
    return self->relay_func != NULL
           && self->relay_func (self, to, data, len, self->relay_data);
  if (self->udp == NULL)
    return FALSE;
  if (!ep_udp_send (self->udp, to, data, len, &error))
    {
      g_debug ("send failed: %s", error->message);
      return FALSE;
    }
  return TRUE;
}

/* A fresh random receiver index, pointing at @session or @handshake. */
guint32
ep_session_manager_new_index (EpSessionManager *self,
                              EpSession        *session,
                              EpHandshake      *handshake)
{
  EpIndexEntry *entry;
  guint32 index;

  do
    index = randombytes_random ();
  while (index == 0 || g_hash_table_contains (self->indices, GUINT_TO_POINTER (index)));

  entry = g_new0 (EpIndexEntry, 1);
  entry->session = session;
  entry->handshake = handshake;
  g_hash_table_insert (self->indices, GUINT_TO_POINTER (index), entry);
  return index;
}

void
ep_session_manager_set_index (EpSessionManager *self,
                              guint32           index,
                              EpSession        *session,
                              EpHandshake      *handshake)
{
  EpIndexEntry *entry = g_hash_table_lookup (self->indices, GUINT_TO_POINTER (index));

  g_return_if_fail (entry != NULL);
  entry->session = session;
  entry->handshake = handshake;
}

void
ep_session_manager_release_index (EpSessionManager *self,
                                  guint32           index)
{
  if (index != 0 && self->indices != NULL)
    g_hash_table_remove (self->indices, GUINT_TO_POINTER (index));
}

void
ep_session_manager_session_closed (EpSessionManager *self,
                                   EpSession        *session)
{
  g_autoptr(GBytes) identity = g_bytes_new (ep_session_peek_identity (session), 32);
  EpHandshake *handshake = ep_session_get_handshake (session);

  if (handshake != NULL)
    ep_session_manager_remove_handshake (self, handshake);

  if (g_hash_table_lookup (self->sessions, identity) == session)
    g_hash_table_remove (self->sessions, identity);
}

gboolean
ep_session_manager_emit_incoming (EpSessionManager *self,
                                  EpSession        *session)
{
  gboolean accepted = FALSE;

  g_signal_emit (self, signals[INCOMING], 0, session, &accepted);
  return accepted;
}

/*
 * ep_session_manager_handle_datagram:
 *
 * Everything with one of our first bytes comes through here; public to
 * the fuzz targets through the private header.
 */
void
ep_session_manager_handle_datagram (EpSessionManager *self,
                                    GSocketAddress   *from,
                                    const guint8     *data,
                                    gsize             len)
{
  EpIndexEntry *entry;
  EpKeypair *keypair;

  if (len == 0 || !(G_IS_INET_SOCKET_ADDRESS (from) || EP_IS_RELAY_ADDRESS (from)))
    {
      self->counters.dropped_malformed++;
      return;
    }

  switch (data[0])
    {
    case EP_PACKET_INIT:
      ep_session_manager_handle_init (self, from, data, len);
      break;

    case EP_PACKET_RESPONSE:
      ep_session_manager_handle_response (self, from, data, len);
      break;

    case EP_PACKET_FINAL:
      ep_session_manager_handle_final (self, from, data, len);
      break;

    case EP_PACKET_COOKIE:
      ep_session_manager_handle_cookie (self, from, data, len);
      break;

    case EP_PACKET_TRANSPORT:
      if (len < EP_TRANSPORT_MIN_LEN || len > EP_UDP_MAX_DATAGRAM)
        {
          self->counters.dropped_malformed++;
          return;
        }
      entry = g_hash_table_lookup (self->indices, GUINT_TO_POINTER (ep_read_u32 (data + 1)));
      keypair = entry != NULL && entry->session != NULL
                ? ep_session_find_keypair (entry->session, ep_read_u32 (data + 1)) : NULL;
      if (keypair == NULL)
        {
          self->counters.dropped_unknown_index++;
          return;
        }
      ep_session_handle_transport (entry->session, keypair, from, data, len);
      break;

    default:
      self->counters.dropped_malformed++;
    }
}

/* Public API -------------------------------------------------------------- */

/**
 * ep_session_manager_new:
 * @udp: the shared sockets; the manager takes the session packet types
 * @identity_secret: our Ed25519 secret key, 64 bytes (libsodium's layout)
 * @static_secret: our X25519 static secret key, 32 bytes
 *
 * The timer attaches to the thread-default main context.
 *
 * Returns: (transfer full): a session manager
 */
EpSessionManager *
ep_session_manager_new (EpUdp        *udp,
                        const guint8 *identity_secret,
                        const guint8 *static_secret)
{
  EpSessionManager *self;

  g_return_val_if_fail (EP_IS_UDP (udp), NULL);
  g_return_val_if_fail (identity_secret != NULL, NULL);
  g_return_val_if_fail (static_secret != NULL, NULL);

  if (sodium_init () < 0)
    g_error ("libsodium failed to initialise");

  self = g_object_new (EP_TYPE_SESSION_MANAGER, NULL);
  self->udp = g_object_ref (udp);
  self->context = g_main_context_ref_thread_default ();
  memcpy (self->identity_sk, identity_secret, sizeof self->identity_sk);
  memcpy (self->static_sk, static_secret, sizeof self->static_sk);
  ep_session_manager_init_keys (self);
  self->cookie_secret_us = g_get_monotonic_time ();

  for (guint i = 0; i < G_N_ELEMENTS (packet_types); i++)
    ep_udp_set_handler (udp, packet_types[i], on_datagram, self);

  start_tick (self);
  return self;
}

/**
 * ep_session_manager_get_identity:
 *
 * Returns: our Ed25519 identity public key, 32 bytes
 */
const guint8 *
ep_session_manager_get_identity (EpSessionManager *self)
{
  g_return_val_if_fail (EP_IS_SESSION_MANAGER (self), NULL);

  return self->identity_pk;
}

/**
 * ep_session_manager_connect:
 * @address: where the peer is, an inet socket address or a relayed path
 *   (#EpRelayAddress)
 * @identity: the peer's Ed25519 identity key, 32 bytes; the handshake
 *   fails unless the peer proves it holds it
 *
 * Returns the session with that peer, starting a handshake if there is
 * none. Watch #EpSession:state; frames sent meanwhile wait.
 *
 * Returns: (transfer full): the session
 */
EpSession *
ep_session_manager_connect (EpSessionManager *self,
                            GSocketAddress   *address,
                            const guint8     *identity)
{
  g_autoptr(GBytes) key = NULL;
  EpSession *session;

  g_return_val_if_fail (EP_IS_SESSION_MANAGER (self), NULL);
  g_return_val_if_fail (G_IS_INET_SOCKET_ADDRESS (address) || EP_IS_RELAY_ADDRESS (address),
                        NULL);
  g_return_val_if_fail (identity != NULL, NULL);

  key = g_bytes_new (identity, 32);
  session = g_hash_table_lookup (self->sessions, key);
  if (session != NULL)
    {
      EpHandshake *handshake = ep_session_get_handshake (session);

      /* Still calling: try the address we were given now (a newer
       * presence record, a hole punched elsewhere). */
      if (ep_session_get_state (session) == EP_SESSION_STATE_CONNECTING)
        {
          ep_session_set_address (session, address);
          if (handshake != NULL
              && ep_noise_handshake_get_role (handshake->noise) == EP_NOISE_ROLE_INITIATOR
              && !ep_socket_address_equal (handshake->address, address))
            {
              g_set_object (&handshake->address, address);
              /* A relay after direct attempts: call through it at once. */
              if (EP_IS_RELAY_ADDRESS (address))
                {
                  handshake->retry_ms = self->timing.handshake_retry_ms;
                  handshake->next_retry_us = g_get_monotonic_time ();
                }
            }
        }
      return g_object_ref (session);
    }

  session = ep_session_new_internal (self, identity, address);
  g_hash_table_insert (self->sessions, g_steal_pointer (&key), g_object_ref (session));
  ep_session_manager_begin_handshake (self, session);
  return session;
}

/**
 * ep_session_manager_connect_any:
 * @addresses: (element-type GInetSocketAddress): where the peer may be,
 *   at least one; the first is the one to keep using when none answers
 * @identity: the peer's Ed25519 identity key, 32 bytes
 *
 * As ep_session_manager_connect(), but the handshake goes to every address
 * at once (the endpoints a peer behind a NAT published: both sides calling
 * each other opens the way). The session carries on with the address that
 * answered first.
 *
 * Returns: (transfer full): the session
 */
EpSession *
ep_session_manager_connect_any (EpSessionManager *self,
                                GPtrArray        *addresses,
                                const guint8     *identity)
{
  EpSession *session;
  EpHandshake *handshake;

  g_return_val_if_fail (EP_IS_SESSION_MANAGER (self), NULL);
  g_return_val_if_fail (addresses != NULL && addresses->len > 0, NULL);
  g_return_val_if_fail (identity != NULL, NULL);

  session = ep_session_manager_connect (self, addresses->pdata[0], identity);
  handshake = session != NULL ? ep_session_get_handshake (session) : NULL;
  if (handshake != NULL && ep_session_get_state (session) == EP_SESSION_STATE_CONNECTING)
    ep_session_manager_set_candidates (self, handshake, addresses);
  return session;
}

/**
 * ep_session_manager_lookup:
 * @identity: a peer's Ed25519 identity key, 32 bytes
 *
 * Returns: (transfer none) (nullable): the open session with that peer
 */
EpSession *
ep_session_manager_lookup (EpSessionManager *self,
                           const guint8     *identity)
{
  g_autoptr(GBytes) key = NULL;

  g_return_val_if_fail (EP_IS_SESSION_MANAGER (self), NULL);
  g_return_val_if_fail (identity != NULL, NULL);

  key = g_bytes_new (identity, 32);
  return g_hash_table_lookup (self->sessions, key);
}

guint
ep_session_manager_get_n_sessions (EpSessionManager *self)
{
  g_return_val_if_fail (EP_IS_SESSION_MANAGER (self), 0);

  return g_hash_table_size (self->sessions);
}

/**
 * ep_session_manager_get_n_pending:
 *
 * Returns: how many incoming handshakes hold state, waiting for message 3
 */
guint
ep_session_manager_get_n_pending (EpSessionManager *self)
{
  g_return_val_if_fail (EP_IS_SESSION_MANAGER (self), 0);

  return self->n_pending;
}

void
ep_session_manager_get_timing (EpSessionManager *self,
                               EpSessionTiming  *timing)
{
  g_return_if_fail (EP_IS_SESSION_MANAGER (self));

  *timing = self->timing;
}

/**
 * ep_session_manager_set_timing:
 *
 * Changes retransmission, rekey, keepalive and timeout intervals (tests
 * shorten them). Zero fields are taken from the defaults.
 */
void
ep_session_manager_set_timing (EpSessionManager      *self,
                               const EpSessionTiming *timing)
{
  g_return_if_fail (EP_IS_SESSION_MANAGER (self));
  g_return_if_fail (timing != NULL);

  self->timing = *timing;
#define DEFAULT(field) if (self->timing.field == 0) self->timing.field = default_timing.field
  DEFAULT (tick_ms);
  DEFAULT (handshake_retry_ms);
  DEFAULT (handshake_retry_max_ms);
  DEFAULT (handshake_timeout_ms);
  DEFAULT (rekey_after_ms);
  DEFAULT (rekey_after_messages);
  DEFAULT (keepalive_ms);
  DEFAULT (idle_timeout_ms);
  DEFAULT (old_keys_ms);
  DEFAULT (cookie_secret_ms);
  DEFAULT (relay_keepalive_ms);
  DEFAULT (relay_idle_timeout_ms);
#undef DEFAULT
  start_tick (self);
}

/**
 * ep_session_manager_set_load_threshold:
 * @pending: from how many pending incoming handshakes on an initiation
 *   must carry a valid cookie (0: always)
 *
 * Below the threshold, initiations are answered directly; at or above it,
 * an initiation without a valid cookie only gets a cookie reply, and no
 * state is kept for it.
 */
void
ep_session_manager_set_load_threshold (EpSessionManager *self,
                                       guint             pending)
{
  g_return_if_fail (EP_IS_SESSION_MANAGER (self));

  self->load_threshold = pending;
}

/**
 * ep_session_manager_set_max_pending:
 *
 * A hard bound on pending incoming handshakes, cookies or not.
 */
void
ep_session_manager_set_max_pending (EpSessionManager *self,
                                    guint             pending)
{
  g_return_if_fail (EP_IS_SESSION_MANAGER (self));

  self->max_pending = pending;
}

const EpSessionManagerCounters *
ep_session_manager_get_counters (EpSessionManager *self)
{
  g_return_val_if_fail (EP_IS_SESSION_MANAGER (self), NULL);

  return &self->counters;
}

/**
 * ep_session_manager_set_relay_func:
 * @func: (nullable): sends datagrams on relayed paths; %NULL drops them
 * @user_data: for @func; not owned
 *
 * Sessions whose address is an #EpRelayAddress send through @func (the
 * relay client installs it).
 */
void
ep_session_manager_set_relay_func (EpSessionManager   *self,
                                   EpSessionRelayFunc  func,
                                   gpointer            user_data)
{
  g_return_if_fail (EP_IS_SESSION_MANAGER (self));

  self->relay_func = func;
  self->relay_data = user_data;
}

/**
 * ep_session_manager_receive_relayed:
 * @from: the relayed path it came on, an #EpRelayAddress
 * @data: (array length=len): a session datagram a relay delivered, untrusted
 * @len: its length
 *
 * Handles a datagram as if it had come from @from on the socket.
 */
void
ep_session_manager_receive_relayed (EpSessionManager *self,
                                    GSocketAddress   *from,
                                    const guint8     *data,
                                    gsize             len)
{
  g_return_if_fail (EP_IS_SESSION_MANAGER (self));
  g_return_if_fail (EP_IS_RELAY_ADDRESS (from));
  g_return_if_fail (data != NULL || len == 0);

  ep_session_manager_handle_datagram (self, from, data, len);
}
