/* ep-relay-client.c — our side of relays: sessions with them, packets through them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <sodium.h>
#include <string.h>

#include "ep-relay-client.h"
#include "ep-relay-payload.h"
#include "ep-session-private.h"

#define TICK_MS           500
#define BACKOFF_MIN_MS    1000
#define BACKOFF_MAX_MS    60000

typedef struct
{
  EpRelayClient      *client;
  guint8              key[32];
  char                hex[65];
  GInetSocketAddress *address;
  EpSession          *session;
  gboolean            configured;
  gint64              last_used;
  gint64              next_connect;
  guint               backoff_ms;
} Relay;

struct _EpRelayClient
{
  GObject                parent_instance;

  EpSessionManager      *sessions;
  GHashTable            *relays;      /* hex → Relay */
  GSource               *tick;
  EpRelayClientCounters  counters;
};

G_DEFINE_FINAL_TYPE (EpRelayClient, ep_relay_client, G_TYPE_OBJECT)

static void
detach (Relay *relay)
{
  if (relay->session == NULL)
    return;
  g_signal_handlers_disconnect_by_data (relay->session, relay);
  g_clear_object (&relay->session);
}

static void
relay_free (Relay *relay)
{
  if (relay->session != NULL)
    {
      g_autoptr(EpSession) session = g_object_ref (relay->session);

      detach (relay);
      ep_session_close (session);
    }
  g_clear_object (&relay->address);
  g_free (relay);
}

static Relay *
lookup (EpRelayClient *self,
        const guint8  *key)
{
  char hex[65];

  sodium_bin2hex (hex, sizeof hex, key, 32);
  return g_hash_table_lookup (self->relays, hex);
}

static void
on_relay_frame (EpSession *session,
                GBytes    *frame,
                Relay     *relay)
{
  EpRelayClient *self = relay->client;
  g_autoptr(GSocketAddress) from = NULL;
  EpRelayPayload payload;
  gsize len;
  const guint8 *data = g_bytes_get_data (frame, &len);

  if (ep_relay_payload_parse (data, len, &payload) != EP_RELAY_PAYLOAD_OK
      || payload.kind != EP_RELAY_KIND_DELIVER)
    {
      self->counters.dropped_malformed++;
      return;
    }
  if (memcmp (payload.key, relay->key, 32) == 0
      || memcmp (payload.key, ep_session_manager_get_identity (self->sessions), 32) == 0)
    {
      self->counters.dropped_loop++;
      return;
    }

  relay->last_used = g_get_monotonic_time ();
  self->counters.received++;
  from = ep_relay_address_new (relay->key, relay->address, payload.key);
  /* The relay may go away while the manager handles it. */
  g_object_ref (self);
  ep_session_manager_receive_relayed (self->sessions, from, payload.inner, payload.inner_len);
  g_object_unref (self);
}

static void
on_relay_state_changed (EpSession *session,
                        Relay     *relay)
{
  switch (ep_session_get_state (session))
    {
    case EP_SESSION_STATE_ESTABLISHED:
      relay->backoff_ms = BACKOFF_MIN_MS;
      g_debug ("relay %.8s up", relay->hex);
      break;

    case EP_SESSION_STATE_CLOSED:
      detach (relay);
      relay->next_connect = g_get_monotonic_time () + (gint64) relay->backoff_ms * 1000;
      relay->backoff_ms = MIN (relay->backoff_ms * 2, BACKOFF_MAX_MS);
      break;

    case EP_SESSION_STATE_CONNECTING:
    default:
      break;
    }
}

static void
connect_relay (EpRelayClient *self,
               Relay         *relay)
{
  g_autoptr(EpSession) session = NULL;

  session = ep_session_manager_connect (self->sessions, G_SOCKET_ADDRESS (relay->address),
                                        relay->key);
  if (session == NULL || ep_session_get_state (session) == EP_SESSION_STATE_CLOSED)
    return;
  detach (relay);
  relay->session = g_object_ref (session);
  ep_session_set_relay_budget (session, TRUE);
  g_signal_connect (session, "frame-received", G_CALLBACK (on_relay_frame), relay);
  g_signal_connect (session, "state-changed", G_CALLBACK (on_relay_state_changed), relay);
  self->counters.connects++;
}

static gboolean
on_tick (gpointer user_data)
{
  EpRelayClient *self = user_data;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  Relay *relay;

  g_hash_table_iter_init (&iter, self->relays);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &relay))
    {
      if (!relay->configured && now - relay->last_used >= EP_RELAY_CLIENT_IDLE_US)
        {
          g_debug ("relay %.8s no longer used", relay->hex);
          g_hash_table_iter_remove (&iter);
          continue;
        }
      if (relay->session == NULL && now >= relay->next_connect)
        connect_relay (self, relay);
    }
  return G_SOURCE_CONTINUE;
}

static Relay *
ensure (EpRelayClient      *self,
        const guint8        key[32],
        GInetSocketAddress *address,
        gboolean            configured)
{
  Relay *relay = lookup (self, key);

  if (relay != NULL)
    {
      relay->configured |= configured;
      return relay;
    }

  relay = g_new0 (Relay, 1);
  relay->client = self;
  memcpy (relay->key, key, 32);
  sodium_bin2hex (relay->hex, sizeof relay->hex, key, 32);
  relay->address = g_object_ref (address);
  relay->configured = configured;
  relay->last_used = g_get_monotonic_time ();
  relay->backoff_ms = BACKOFF_MIN_MS;
  g_hash_table_insert (self->relays, relay->hex, relay);
  connect_relay (self, relay);
  return relay;
}

/* The manager's hook: a session datagram for a relayed path. */
static gboolean
relay_send (EpSessionManager *sessions,
            GSocketAddress   *to,
            const guint8     *data,
            gsize             len,
            gpointer          user_data)
{
  EpRelayClient *self = user_data;
  EpRelayAddress *path = EP_RELAY_ADDRESS (to);
  const guint8 *relay_key = ep_relay_address_get_relay_key (path);
  const guint8 *peer_key = ep_relay_address_get_peer_key (path);
  g_autoptr(GBytes) frame = NULL;
  g_autoptr(GError) error = NULL;
  Relay *relay;

  if (memcmp (relay_key, peer_key, 32) == 0
      || memcmp (relay_key, ep_session_manager_get_identity (sessions), 32) == 0
      || memcmp (peer_key, ep_session_manager_get_identity (sessions), 32) == 0)
    {
      self->counters.dropped_loop++;
      return FALSE;
    }

  frame = ep_relay_payload_build (EP_RELAY_KIND_SEND, peer_key, data, len);
  if (frame == NULL)
    {
      self->counters.dropped_too_large++;
      return FALSE;
    }

  relay = ensure (self, relay_key, ep_relay_address_get_relay (path), FALSE);
  relay->last_used = g_get_monotonic_time ();
  if (relay->session == NULL && relay->last_used >= relay->next_connect)
    connect_relay (self, relay);
  if (relay->session == NULL)
    {
      self->counters.dropped_send++;
      return FALSE;
    }

  if (ep_session_get_state (relay->session) == EP_SESSION_STATE_ESTABLISHED)
    {
      if (!ep_session_send (relay->session, frame, &error))
        {
          self->counters.dropped_send++;
          g_debug ("relay %.8s refused a packet: %s", relay->hex, error->message);
          return FALSE;
        }
    }
  else
    /* Waits for the relay's handshake; session packets are retried anyway. */
    ep_session_send_async (relay->session, frame, NULL, NULL, NULL);

  self->counters.sent++;
  return TRUE;
}

static void
ep_relay_client_dispose (GObject *object)
{
  EpRelayClient *self = EP_RELAY_CLIENT (object);

  ep_relay_client_stop (self);
  g_clear_object (&self->sessions);

  G_OBJECT_CLASS (ep_relay_client_parent_class)->dispose (object);
}

static void
ep_relay_client_finalize (GObject *object)
{
  EpRelayClient *self = EP_RELAY_CLIENT (object);

  g_clear_pointer (&self->relays, g_hash_table_unref);

  G_OBJECT_CLASS (ep_relay_client_parent_class)->finalize (object);
}

static void
ep_relay_client_class_init (EpRelayClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ep_relay_client_dispose;
  object_class->finalize = ep_relay_client_finalize;
}

static void
ep_relay_client_init (EpRelayClient *self)
{
  self->relays = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                        (GDestroyNotify) relay_free);
}

/**
 * ep_relay_client_new:
 * @sessions: the session manager; the client becomes its relay hook
 *
 * Returns: (transfer full): a relay client with no relay yet
 */
EpRelayClient *
ep_relay_client_new (EpSessionManager *sessions)
{
  EpRelayClient *self;

  g_return_val_if_fail (EP_IS_SESSION_MANAGER (sessions), NULL);

  self = g_object_new (EP_TYPE_RELAY_CLIENT, NULL);
  self->sessions = g_object_ref (sessions);
  ep_session_manager_set_relay_func (sessions, relay_send, self);
  self->tick = g_timeout_source_new (TICK_MS);
  g_source_set_callback (self->tick, on_tick, self, NULL);
  g_source_set_static_name (self->tick, "[ep-relay-client] tick");
  g_source_attach (self->tick, g_main_context_get_thread_default ());
  return self;
}

/**
 * ep_relay_client_add:
 * @key: the relay's identity key
 * @address: where it listens
 * @configured: keep it for good (else it goes when unused)
 *
 * Opens a session with the relay (if none yet).
 *
 * Returns: %FALSE when @key is our own
 */
gboolean
ep_relay_client_add (EpRelayClient      *self,
                     const guint8        key[32],
                     GInetSocketAddress *address,
                     gboolean            configured)
{
  g_return_val_if_fail (EP_IS_RELAY_CLIENT (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (G_IS_INET_SOCKET_ADDRESS (address), FALSE);

  if (self->tick == NULL
      || memcmp (key, ep_session_manager_get_identity (self->sessions), 32) == 0)
    return FALSE;
  ensure (self, key, address, configured);
  return TRUE;
}

gboolean
ep_relay_client_is_up (EpRelayClient *self,
                       const guint8   key[32])
{
  Relay *relay;

  g_return_val_if_fail (EP_IS_RELAY_CLIENT (self), FALSE);

  relay = lookup (self, key);
  return relay != NULL && relay->session != NULL
         && ep_session_get_state (relay->session) == EP_SESSION_STATE_ESTABLISHED;
}

/**
 * ep_relay_client_get_session:
 *
 * Returns: (transfer none) (nullable): our session with the relay @key
 */
EpSession *
ep_relay_client_get_session (EpRelayClient *self,
                             const guint8   key[32])
{
  Relay *relay;

  g_return_val_if_fail (EP_IS_RELAY_CLIENT (self), NULL);

  relay = lookup (self, key);
  return relay != NULL ? relay->session : NULL;
}

/**
 * ep_relay_client_make_path:
 * @relay_key: a relay added before
 * @peer_key: the peer to reach through it
 *
 * Returns: (transfer full) (nullable): the relayed path, %NULL for an
 *   unknown relay
 */
GSocketAddress *
ep_relay_client_make_path (EpRelayClient *self,
                           const guint8   relay_key[32],
                           const guint8   peer_key[32])
{
  Relay *relay;

  g_return_val_if_fail (EP_IS_RELAY_CLIENT (self), NULL);

  relay = lookup (self, relay_key);
  if (relay == NULL)
    return NULL;
  relay->last_used = g_get_monotonic_time ();
  return ep_relay_address_new (relay->key, relay->address, peer_key);
}

/**
 * ep_relay_client_stop:
 *
 * Closes every relay session and stops being the manager's hook.
 */
void
ep_relay_client_stop (EpRelayClient *self)
{
  g_return_if_fail (EP_IS_RELAY_CLIENT (self));

  if (self->tick != NULL)
    {
      g_source_destroy (self->tick);
      g_clear_pointer (&self->tick, g_source_unref);
    }
  if (self->sessions != NULL)
    ep_session_manager_set_relay_func (self->sessions, NULL, NULL);
  if (self->relays != NULL)
    g_hash_table_remove_all (self->relays);
}

const EpRelayClientCounters *
ep_relay_client_get_counters (EpRelayClient *self)
{
  g_return_val_if_fail (EP_IS_RELAY_CLIENT (self), NULL);

  return &self->counters;
}
