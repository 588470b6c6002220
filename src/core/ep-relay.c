/* ep-relay.c — forwarding session packets between peers that cannot meet
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <sodium.h>
#include <string.h>

#include "ep-relay.h"
#include "ep-relay-payload.h"
#include "ep-session-private.h"

/* A destination not used for this long no longer counts against the limit. */
#define DESTINATION_IDLE_US (60 * G_USEC_PER_SEC)

enum
{
  FORWARDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct
{
  EpRelay    *relay;
  guint8      key[32];
  char        hex[65];
  EpSession  *session;
  GHashTable *destinations;      /* key GBytes → gint64 last use (µs) */
  double      tokens;
  gint64      refilled_us;
} Client;

struct _EpRelay
{
  GObject           parent_instance;

  EpSessionManager *sessions;
  guint8            key[32];
  GHashTable       *clients;     /* hex → Client */
  EpRelayLimits     limits;
  EpRelayCounters   counters;
};

G_DEFINE_FINAL_TYPE (EpRelay, ep_relay, G_TYPE_OBJECT)

static guint64
burst (EpRelay *self)
{
  if (self->limits.burst_bytes > 0)
    return self->limits.burst_bytes;
  return MAX (self->limits.rate_bytes, 4 * EP_RELAY_MAX_WIRE);
}

static void
client_free (Client *client)
{
  if (client->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (client->session, client);
      g_clear_object (&client->session);
    }
  g_hash_table_unref (client->destinations);
  g_free (client);
}

static Client *
lookup_client (EpRelay      *self,
               const guint8 *key)
{
  char hex[65];

  sodium_bin2hex (hex, sizeof hex, key, 32);
  return g_hash_table_lookup (self->clients, hex);
}

static gboolean
take_tokens (EpRelay *self,
             Client  *client,
             gsize    len,
             gint64   now)
{
  double cap = (double) burst (self);

  client->tokens = MIN (cap, client->tokens
                             + (double) (now - client->refilled_us) / G_USEC_PER_SEC
                               * (double) self->limits.rate_bytes);
  client->refilled_us = now;
  if (client->tokens < (double) len)
    return FALSE;
  client->tokens -= (double) len;
  return TRUE;
}

static gboolean
use_destination (EpRelay      *self,
                 Client       *client,
                 const guint8 *key,
                 gint64        now)
{
  g_autoptr(GBytes) dest = g_bytes_new (key, 32);
  gint64 *last = g_hash_table_lookup (client->destinations, dest);
  GHashTableIter iter;
  gpointer value;

  if (last == NULL && g_hash_table_size (client->destinations) >= self->limits.max_destinations)
    {
      g_hash_table_iter_init (&iter, client->destinations);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        if (now - *(gint64 *) value >= DESTINATION_IDLE_US)
          g_hash_table_iter_remove (&iter);
      if (g_hash_table_size (client->destinations) >= self->limits.max_destinations)
        return FALSE;
    }
  if (last == NULL)
    {
      last = g_new (gint64, 1);
      g_hash_table_insert (client->destinations, g_steal_pointer (&dest), last);
    }
  *last = now;
  return TRUE;
}

static void
on_client_frame (EpSession *session,
                 GBytes    *frame,
                 Client    *client)
{
  EpRelay *self = client->relay;
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GError) error = NULL;
  EpRelayPayload payload;
  Client *destination;
  gsize len;
  const guint8 *data = g_bytes_get_data (frame, &len);
  gint64 now = g_get_monotonic_time ();

  if (ep_relay_payload_parse (data, len, &payload) != EP_RELAY_PAYLOAD_OK
      || payload.kind != EP_RELAY_KIND_SEND)
    {
      self->counters.dropped_malformed++;
      return;
    }
  if (memcmp (payload.key, self->key, 32) == 0 || memcmp (payload.key, client->key, 32) == 0)
    {
      self->counters.dropped_self++;
      return;
    }
  destination = lookup_client (self, payload.key);
  if (destination == NULL || destination->session == NULL
      || ep_session_get_state (destination->session) != EP_SESSION_STATE_ESTABLISHED)
    {
      self->counters.dropped_unknown_destination++;
      return;
    }
  if (!use_destination (self, client, payload.key, now))
    {
      self->counters.dropped_destinations++;
      return;
    }
  if (!take_tokens (self, client, payload.inner_len, now))
    {
      self->counters.dropped_rate++;
      return;
    }

  out = ep_relay_payload_build (EP_RELAY_KIND_DELIVER, client->key, payload.inner,
                                payload.inner_len);
  if (!ep_session_send (destination->session, out, &error))
    {
      g_debug ("relay to %.8s failed: %s", destination->hex, error->message);
      return;
    }
  self->counters.forwarded_packets++;
  self->counters.forwarded_bytes += payload.inner_len;

  if (g_signal_has_handler_pending (self, signals[FORWARDED], 0, FALSE))
    {
      g_autoptr(GBytes) from = g_bytes_new (client->key, 32);
      g_autoptr(GBytes) to = g_bytes_new (payload.key, 32);
      g_autoptr(GBytes) inner = g_bytes_new (payload.inner, payload.inner_len);

      g_signal_emit (self, signals[FORWARDED], 0, from, to, inner);
    }
}

static void
on_client_state_changed (EpSession *session,
                         Client    *client)
{
  if (ep_session_get_state (session) == EP_SESSION_STATE_CLOSED)
    g_hash_table_remove (client->relay->clients, client->hex);
}

static gboolean
on_incoming (EpSessionManager *manager,
             EpSession        *session,
             EpRelay          *self)
{
  g_autoptr(GBytes) identity = ep_session_get_remote_identity (session);
  Client *client;

  if (g_hash_table_size (self->clients) >= self->limits.max_clients)
    {
      self->counters.clients_refused++;
      return FALSE;
    }

  client = g_new0 (Client, 1);
  client->relay = self;
  memcpy (client->key, g_bytes_get_data (identity, NULL), 32);
  sodium_bin2hex (client->hex, sizeof client->hex, client->key, 32);
  client->session = g_object_ref (session);
  client->destinations = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                                (GDestroyNotify) g_bytes_unref, g_free);
  client->tokens = (double) burst (self);
  client->refilled_us = g_get_monotonic_time ();
  /* A key that comes back replaces its old session. */
  g_hash_table_replace (self->clients, client->hex, client);
  g_signal_connect (session, "frame-received", G_CALLBACK (on_client_frame), client);
  g_signal_connect (session, "state-changed", G_CALLBACK (on_client_state_changed), client);
  self->counters.clients_accepted++;
  return TRUE;
}

static void
ep_relay_dispose (GObject *object)
{
  EpRelay *self = EP_RELAY (object);

  if (self->sessions != NULL)
    g_signal_handlers_disconnect_by_data (self->sessions, self);
  if (self->clients != NULL)
    g_hash_table_remove_all (self->clients);
  g_clear_object (&self->sessions);

  G_OBJECT_CLASS (ep_relay_parent_class)->dispose (object);
}

static void
ep_relay_finalize (GObject *object)
{
  EpRelay *self = EP_RELAY (object);

  g_clear_pointer (&self->clients, g_hash_table_unref);

  G_OBJECT_CLASS (ep_relay_parent_class)->finalize (object);
}

static void
ep_relay_class_init (EpRelayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ep_relay_dispose;
  object_class->finalize = ep_relay_finalize;

  /**
   * EpRelay::forwarded:
   * @source: the sender's identity key
   * @destination: the receiver's identity key
   * @inner: the inner packet as the relay handled it
   *
   * Emitted after each forwarded packet (tests check what a relay sees).
   */
  signals[FORWARDED] =
    g_signal_new ("forwarded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_BYTES, G_TYPE_BYTES, G_TYPE_BYTES);
}

static void
ep_relay_init (EpRelay *self)
{
  self->clients = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) client_free);
  self->limits.max_clients = EP_RELAY_DEFAULT_MAX_CLIENTS;
  self->limits.max_destinations = EP_RELAY_DEFAULT_MAX_DESTINATIONS;
  self->limits.rate_bytes = EP_RELAY_DEFAULT_RATE;
}

typedef struct
{
  EpRelay *self;
  EpUdp   *udp;
} MakeSessions;

static void
make_sessions (const guint8 sign_secret[64],
               const guint8 static_secret[32],
               gpointer     user_data)
{
  MakeSessions *make = user_data;

  make->self->sessions = ep_session_manager_new (make->udp, sign_secret, static_secret);
}

/**
 * ep_relay_new:
 * @udp: the sockets to serve on; the relay takes the session packet types
 * @identity: the relay's keys; clients name the relay by its public key
 *
 * Every session the manager accepts is a client. All sessions keep the
 * relay idle budget (EpSessionTiming.relay_keepalive_ms and
 * relay_idle_timeout_ms).
 *
 * Returns: (transfer full): a relay, serving at once
 */
EpRelay *
ep_relay_new (EpUdp      *udp,
              EpIdentity *identity)
{
  EpRelay *self;
  EpSessionTiming timing;
  MakeSessions make;

  g_return_val_if_fail (EP_IS_UDP (udp), NULL);
  g_return_val_if_fail (EP_IS_IDENTITY (identity), NULL);

  self = g_object_new (EP_TYPE_RELAY, NULL);
  make.self = self;
  make.udp = udp;
  ep_identity_with_secrets (identity, make_sessions, &make);
  memcpy (self->key, ep_identity_get_public_key (identity), 32);

  ep_session_manager_get_timing (self->sessions, &timing);
  timing.keepalive_ms = timing.relay_keepalive_ms;
  timing.idle_timeout_ms = timing.relay_idle_timeout_ms;
  ep_session_manager_set_timing (self->sessions, &timing);
  g_signal_connect (self->sessions, "incoming", G_CALLBACK (on_incoming), self);
  return self;
}

const guint8 *
ep_relay_get_key (EpRelay *self)
{
  g_return_val_if_fail (EP_IS_RELAY (self), NULL);

  return self->key;
}

/**
 * ep_relay_get_session_manager:
 *
 * Returns: (transfer none): the sessions with the clients
 */
EpSessionManager *
ep_relay_get_session_manager (EpRelay *self)
{
  g_return_val_if_fail (EP_IS_RELAY (self), NULL);

  return self->sessions;
}

void
ep_relay_get_limits (EpRelay       *self,
                     EpRelayLimits *limits)
{
  g_return_if_fail (EP_IS_RELAY (self));

  *limits = self->limits;
}

/**
 * ep_relay_set_limits:
 *
 * Zero fields take the defaults (burst_bytes: see #EpRelayLimits).
 * Clients above a smaller max_clients stay until they go.
 */
void
ep_relay_set_limits (EpRelay             *self,
                     const EpRelayLimits *limits)
{
  g_return_if_fail (EP_IS_RELAY (self));
  g_return_if_fail (limits != NULL);

  self->limits = *limits;
  if (self->limits.max_clients == 0)
    self->limits.max_clients = EP_RELAY_DEFAULT_MAX_CLIENTS;
  if (self->limits.max_destinations == 0)
    self->limits.max_destinations = EP_RELAY_DEFAULT_MAX_DESTINATIONS;
  if (self->limits.rate_bytes == 0)
    self->limits.rate_bytes = EP_RELAY_DEFAULT_RATE;
}

guint
ep_relay_get_n_clients (EpRelay *self)
{
  g_return_val_if_fail (EP_IS_RELAY (self), 0);

  return g_hash_table_size (self->clients);
}

const EpRelayCounters *
ep_relay_get_counters (EpRelay *self)
{
  g_return_val_if_fail (EP_IS_RELAY (self), NULL);

  return &self->counters;
}

/**
 * ep_relay_get_n_dropped:
 *
 * Returns: every frame not forwarded, whatever the reason
 */
guint64
ep_relay_get_n_dropped (EpRelay *self)
{
  const EpRelayCounters *c;

  g_return_val_if_fail (EP_IS_RELAY (self), 0);

  c = &self->counters;
  return c->dropped_malformed + c->dropped_self + c->dropped_unknown_destination
         + c->dropped_destinations + c->dropped_rate;
}
