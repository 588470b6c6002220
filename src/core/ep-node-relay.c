/* ep-node-relay.c — relays: our sessions with them, the fallback to them
 *
 * Relays given with ep_node_add_relay() are kept by an EpRelayClient (a
 * session with each, reconnected when it drops, keepalives within the
 * idle budget) and published in our presence record, so that contacts
 * can reach us through them. Contacts' records tell us theirs.
 *
 * Connection policy, per contact we want and have no session with: the
 * direct attempts of ep-node-connections.c come first (both sides call each
 * other's endpoints, which punches holes in simple NATs). When none
 * succeeded within relay_grace_ms of our starting to want the contact and
 * of our first knowing an endpoint of it (its record may take a while),
 * we call the contact through a relay: one it
 * published, else one of ours (it may be registered there too), taking
 * the next one on each later try. There is only ever one session per
 * contact (the session manager keys them by identity): calling through a
 * relay moves a pending direct handshake onto the relayed path.
 *
 * While a contact is reached through a relay and we know a direct
 * endpoint, we try that path now and then (after relay_probe_ms, then
 * doubling to 10 minutes) with a rekey handshake sent there: only if the
 * peer answers on it do both sides move the session to it; otherwise
 * nothing changes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <sodium.h>
#include <string.h>

#include "ep-node-private.h"
#include "ep-presence.h"
#include "ep-relay-client.h"
#include "ep-relay-spec.h"
#include "ep-session-private.h"

#define TICK_MS                 200
#define DEFAULT_GRACE_MS        4000
#define RELAY_RETRY_MS          3000
#define RELAY_RETRY_MAX_MS      30000
#define DEFAULT_PROBE_MS        15000
#define PROBE_MAX_MS            600000
#define MAX_PEER_STATES         4096

typedef struct
{
  guint8              key[32];
  GInetSocketAddress *address;
} RelayRef;

typedef struct
{
  gint64     trying_since;        /* 0: not trying */
  gint64     direct_since;        /* when we first knew an endpoint; 0: not yet */
  gint64     next_try;
  guint      retry_ms;
  guint      next_choice;
  GPtrArray *published;           /* RelayRef: from the contact's record */
  gint64     next_probe;          /* relayed: when to try the direct path; 0: not yet set */
  guint      probe_ms;
} PeerState;

struct _EpNodeRelay
{
  GPtrArray     *configured;      /* RelayRef */
  EpRelayClient *client;
  GHashTable    *peers;           /* hex → PeerState */
  GSource       *tick;
  GObject       *presence;        /* the EpPresence we listen to */
};

static void
relay_ref_free (RelayRef *ref)
{
  g_clear_object (&ref->address);
  g_free (ref);
}

static RelayRef *
relay_ref_new (const guint8        key[32],
               GInetSocketAddress *address)
{
  RelayRef *ref = g_new0 (RelayRef, 1);

  memcpy (ref->key, key, 32);
  ref->address = g_object_ref (address);
  return ref;
}

static void
peer_state_free (PeerState *state)
{
  g_clear_pointer (&state->published, g_ptr_array_unref);
  g_free (state);
}

static EpNodeRelay *
ensure_relay (EpNode *self)
{
  if (self->relay == NULL)
    {
      self->relay = g_new0 (EpNodeRelay, 1);
      self->relay->configured = g_ptr_array_new_with_free_func ((GDestroyNotify) relay_ref_free);
      self->relay->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify) peer_state_free);
    }
  return self->relay;
}

static PeerState *
peer_state (EpNodeRelay *relay,
            const char  *hex)
{
  PeerState *state = g_hash_table_lookup (relay->peers, hex);

  if (state != NULL)
    return state;
  if (g_hash_table_size (relay->peers) >= MAX_PEER_STATES)
    g_hash_table_remove_all (relay->peers);
  state = g_new0 (PeerState, 1);
  state->published = g_ptr_array_new_with_free_func ((GDestroyNotify) relay_ref_free);
  g_hash_table_insert (relay->peers, g_strdup (hex), state);
  return state;
}

/* Our relays, as the presence record lists them. */
static void
publish_relays (EpNode *self)
{
  g_autoptr(GPtrArray) relays = NULL;
  EpNodeRelay *relay = self->relay;

  if (relay == NULL || relay->presence == NULL)
    return;
  relays = g_ptr_array_new_with_free_func ((GDestroyNotify) ep_presence_relay_free);
  for (guint i = 0; i < relay->configured->len && i < EP_PRESENCE_MAX_RELAYS; i++)
    {
      RelayRef *ref = relay->configured->pdata[i];

      g_ptr_array_add (relays, ep_presence_relay_new (ref->key, G_SOCKET_ADDRESS (ref->address)));
    }
  ep_presence_set_relays (EP_PRESENCE (relay->presence), relays);
}

/* A contact's record was read: remember the relays it listed. */
static void
on_resolved (EpPresence             *presence,
             GBytes                 *key,
             gint64                  seq,
             const EpPresenceRecord *record,
             EpNode                 *self)
{
  char hex[65];
  PeerState *state;
  GPtrArray *relays = record->value.relays;

  if (g_bytes_get_size (key) != 32 || self->relay == NULL)
    return;
  sodium_bin2hex (hex, sizeof hex, g_bytes_get_data (key, NULL), 32);
  if (ep_node_peer_lookup (self, g_bytes_get_data (key, NULL)) == NULL)
    return;
  state = peer_state (self->relay, hex);
  g_ptr_array_set_size (state->published, 0);
  for (guint i = 0; relays != NULL && i < relays->len && i < EP_PRESENCE_MAX_RELAYS; i++)
    {
      EpPresenceRelay *r = relays->pdata[i];

      /* Never ourselves, never the contact itself. */
      if (memcmp (r->key, ep_identity_get_public_key (self->identity), 32) == 0
          || memcmp (r->key, g_bytes_get_data (key, NULL), 32) == 0)
        continue;
      g_ptr_array_add (state->published,
                       relay_ref_new (r->key, G_INET_SOCKET_ADDRESS (r->address)));
    }
}

/* The relay to try next for @peer: theirs first, then ours. */
static RelayRef *
choose_relay (EpNodeRelay *relay,
              EpNodePeer  *peer,
              PeerState   *state)
{
  guint n = state->published->len + relay->configured->len;
  guint i;

  for (guint tries = 0; tries < n; tries++)
    {
      RelayRef *ref;

      i = state->next_choice++ % n;
      ref = i < state->published->len ? state->published->pdata[i]
                                       : relay->configured->pdata[i - state->published->len];
      if (memcmp (ref->key, peer->key, 32) != 0)
        return ref;
    }
  return NULL;
}

/* Relayed, with a direct endpoint known: try it now and then. */
static void
probe_direct (EpNode     *self,
              EpNodePeer *peer,
              gint64      now)
{
  guint first = self->timing.relay_probe_ms > 0 ? self->timing.relay_probe_ms : DEFAULT_PROBE_MS;
  PeerState *state;

  if (!EP_IS_RELAY_ADDRESS (ep_session_get_remote_address (peer->session)))
    {
      if ((state = g_hash_table_lookup (self->relay->peers, peer->hex)) != NULL)
        state->next_probe = 0;
      return;
    }
  if (peer->address == NULL || EP_IS_RELAY_ADDRESS (peer->address))
    return;

  state = peer_state (self->relay, peer->hex);
  if (state->next_probe == 0)
    {
      state->probe_ms = first;
      state->next_probe = now + (gint64) first * 1000;
      return;
    }
  if (now < state->next_probe)
    return;
  if (ep_session_manager_probe (self->sessions, peer->session, peer->address))
    g_debug ("%.8s: trying the direct path again", peer->hex);
  state->probe_ms = MIN (state->probe_ms * 2, PROBE_MAX_MS);
  state->next_probe = now + (gint64) state->probe_ms * 1000;
}

static void
pump_peer (EpNode     *self,
           EpNodePeer *peer,
           gint64      now)
{
  EpNodeRelay *relay = self->relay;
  g_autoptr(GSocketAddress) path = NULL;
  PeerState *state;
  RelayRef *ref;
  guint grace = self->timing.relay_grace_ms > 0 ? self->timing.relay_grace_ms : DEFAULT_GRACE_MS;
  gboolean direct;

  state = g_hash_table_lookup (relay->peers, peer->hex);
  if (ep_node_peer_is_up (peer))
    {
      if (state != NULL)
        {
          state->trying_since = 0;
          state->direct_since = 0;
          state->retry_ms = 0;
          state->next_try = 0;
        }
      if (!peer->stranger)
        probe_direct (self, peer, now);
      return;
    }
  if (!ep_node_peer_wanted (peer))
    return;

  state = peer_state (relay, peer->hex);
  if (state->published->len + relay->configured->len == 0)
    return;
  if (state->trying_since == 0)
    state->trying_since = now;

  /* The grace runs from when we began to want the contact (its record may
   * still come) and again from when we first knew where to call it. */
  direct = peer->address != NULL && !EP_IS_RELAY_ADDRESS (peer->address);
  if (direct && state->direct_since == 0)
    state->direct_since = now;
  if (now - state->trying_since < (gint64) grace * 1000
      || (direct && now - state->direct_since < (gint64) grace * 1000)
      || now < state->next_try)
    return;

  ref = choose_relay (relay, peer, state);
  if (ref == NULL)
    return;
  ep_relay_client_add (relay->client, ref->key, ref->address, FALSE);
  path = ep_relay_client_make_path (relay->client, ref->key, peer->key);
  if (path == NULL)
    return;

  g_debug ("%.8s: no direct session, calling through a relay", peer->hex);
  state->retry_ms = state->retry_ms == 0 ? RELAY_RETRY_MS
                                         : MIN (state->retry_ms * 2, RELAY_RETRY_MAX_MS);
  state->next_try = now + (gint64) state->retry_ms * 1000;
  ep_node_peer_connect_via (peer, path);
}

static gboolean
on_tick (gpointer user_data)
{
  EpNode *self = user_data;
  gint64 now = g_get_monotonic_time ();
  g_autoptr(GPtrArray) peers = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer value;

  /* Connecting may run handlers that change the table, even remove peers. */
  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (peers, g_strdup (((EpNodePeer *) value)->hex));
  for (guint i = 0; i < peers->len; i++)
    {
      EpNodePeer *peer = g_hash_table_lookup (self->peers, peers->pdata[i]);

      if (peer != NULL && self->relay != NULL && self->relay->client != NULL)
        pump_peer (self, peer, now);
    }
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  EpNode  *node;
  guint8   key[32];
  guint16  port;
} ResolveData;

static void
resolve_data_free (ResolveData *data)
{
  g_object_unref (data->node);
  g_free (data);
}

static void
on_relay_resolved (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  ResolveData *data = user_data;
  g_autoptr(GError) error = NULL;
  g_autolist(GInetAddress) found = g_resolver_lookup_by_name_finish (G_RESOLVER (source),
                                                                     result, &error);

  if (found != NULL && data->node->started)
    {
      g_autoptr(GSocketAddress) address = g_inet_socket_address_new (found->data, data->port);

      if (!ep_node_add_relay (data->node, data->key, address))
        g_debug ("A relay of the settings is not used (our own key, or too many relays)");
    }
  else if (found == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("A relay of the settings is not used: %s", error->message);
  resolve_data_free (data);
}

/* The relays of the settings, besides those given with ep_node_add_relay():
 * an IP literal at once, a name once it is looked up (not blocking). */
static void
add_settings_relays (EpNode *self)
{
  for (guint i = 0; self->settings.relays != NULL && self->settings.relays[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GInetAddress) inet = NULL;
      g_autofree char *host = NULL;
      guint16 port;
      guint8 key[32];

      if (!ep_relay_spec_split (self->settings.relays[i], key, &host, &port, &error))
        {
          g_debug ("A relay of the settings is not used: %s", error->message);
          continue;
        }
      inet = g_inet_address_new_from_string (host);
      if (inet != NULL)
        {
          g_autoptr(GSocketAddress) address = g_inet_socket_address_new (inet, port);

          if (!ep_node_add_relay (self, key, address))
            g_debug ("A relay of the settings is not used (our own key, or too many relays)");
        }
      else
        {
          g_autoptr(GResolver) resolver = g_resolver_get_default ();
          ResolveData *data = g_new0 (ResolveData, 1);

          data->node = g_object_ref (self);
          memcpy (data->key, key, 32);
          data->port = port;
          g_resolver_lookup_by_name_async (resolver, host, self->cancellable,
                                           on_relay_resolved, data);
        }
    }
}

void
ep_node_relay_start (EpNode *self)
{
  EpNodeRelay *relay = ensure_relay (self);

  add_settings_relays (self);

  relay->client = ep_relay_client_new (self->sessions);
  for (guint i = 0; i < relay->configured->len; i++)
    {
      RelayRef *ref = relay->configured->pdata[i];

      ep_relay_client_add (relay->client, ref->key, ref->address, TRUE);
    }
  if (self->presence != NULL)
    {
      relay->presence = g_object_ref (self->presence);
      g_signal_connect (relay->presence, "resolved", G_CALLBACK (on_resolved), self);
      publish_relays (self);
    }
  relay->tick = g_timeout_source_new (TICK_MS);
  g_source_set_callback (relay->tick, on_tick, self, NULL);
  g_source_set_static_name (relay->tick, "[ep-node] relay");
  g_source_attach (relay->tick, g_main_context_get_thread_default ());
}

void
ep_node_relay_stop (EpNode *self)
{
  EpNodeRelay *relay = self->relay;

  if (relay == NULL)
    return;
  if (relay->tick != NULL)
    g_source_destroy (relay->tick);
  g_clear_pointer (&relay->tick, g_source_unref);
  if (relay->presence != NULL)
    g_signal_handlers_disconnect_by_data (relay->presence, self);
  g_clear_object (&relay->presence);
  if (relay->client != NULL)
    ep_relay_client_stop (relay->client);
  g_clear_object (&relay->client);
  g_hash_table_remove_all (relay->peers);
}

void
ep_node_relay_free (EpNode *self)
{
  if (self->relay == NULL)
    return;
  ep_node_relay_stop (self);
  g_ptr_array_unref (self->relay->configured);
  g_hash_table_unref (self->relay->peers);
  g_clear_pointer (&self->relay, g_free);
}

/**
 * ep_node_add_relay:
 * @key: the relay's identity key (from `serve --relay`)
 * @address: where it listens, a #GInetSocketAddress
 *
 * Keeps a session with the relay (from start on, or at once when
 * started), publishes it in our presence record (the first
 * %EP_PRESENCE_MAX_RELAYS) and uses it to reach contacts that cannot be
 * reached directly. Adding a relay again updates its address.
 *
 * Returns: %FALSE when @key is our own or %EP_NODE_MAX_RELAYS are set
 */
gboolean
ep_node_add_relay (EpNode         *self,
                   const guint8    key[32],
                   GSocketAddress *address)
{
  EpNodeRelay *relay;
  RelayRef *ref = NULL;

  g_return_val_if_fail (EP_IS_NODE (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (G_IS_INET_SOCKET_ADDRESS (address), FALSE);

  if (memcmp (key, ep_identity_get_public_key (self->identity), 32) == 0)
    return FALSE;
  relay = ensure_relay (self);
  for (guint i = 0; i < relay->configured->len && ref == NULL; i++)
    if (memcmp (((RelayRef *) relay->configured->pdata[i])->key, key, 32) == 0)
      ref = relay->configured->pdata[i];
  if (ref != NULL)
    g_set_object (&ref->address, G_INET_SOCKET_ADDRESS (address));
  else if (relay->configured->len >= EP_NODE_MAX_RELAYS)
    return FALSE;
  else
    {
      ref = relay_ref_new (key, G_INET_SOCKET_ADDRESS (address));
      g_ptr_array_add (relay->configured, ref);
    }

  if (relay->client != NULL)
    ep_relay_client_add (relay->client, key, G_INET_SOCKET_ADDRESS (address), TRUE);
  publish_relays (self);
  return TRUE;
}

/**
 * ep_node_get_path:
 * @key: a contact's identity key
 *
 * Returns: how the contact is reached now: %EP_NODE_PATH_NONE without an
 *   established session
 */
EpNodePath
ep_node_get_path (EpNode       *self,
                  const guint8  key[32])
{
  EpNodePeer *peer;

  g_return_val_if_fail (EP_IS_NODE (self), EP_NODE_PATH_NONE);
  g_return_val_if_fail (key != NULL, EP_NODE_PATH_NONE);

  peer = ep_node_peer_lookup (self, key);
  if (peer == NULL || peer->stranger || !ep_node_peer_is_up (peer))
    return EP_NODE_PATH_NONE;
  return EP_IS_RELAY_ADDRESS (ep_session_get_remote_address (peer->session))
         ? EP_NODE_PATH_RELAY : EP_NODE_PATH_DIRECT;
}
