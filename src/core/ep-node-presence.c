/* ep-node-presence.c — our presence record out, our contacts' records in
 *
 * Once the DHT has nodes we publish our record (EpPresence republishes it
 * on endpoint changes and every 30 minutes). Our endpoints are the address
 * we listen on when it is a specific one, and the external address the DHT
 * learned. Every contact we want to reach and have no session with is
 * resolved at start, then every resolve_ms, or every resolve_queued_ms
 * while something waits for it (messages or our request); a record whose
 * seq the store accepts (never below the last one) gives the address to
 * connect to.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "ep-node-private.h"
#include "ep-presence.h"

typedef struct
{
  EpNode           *node;
  guint8            key[32];
  EpPresenceRecord *record;
} Resolution;

static void
resolution_free (Resolution *r)
{
  g_object_unref (r->node);
  g_clear_pointer (&r->record, ep_presence_record_free);
  g_free (r);
}

static EpPresence *
presence (EpNode *self)
{
  return self->presence != NULL ? EP_PRESENCE (self->presence) : NULL;
}

static void
update_endpoints (EpNode *self)
{
  g_autoptr(GPtrArray) endpoints = g_ptr_array_new_with_free_func (g_object_unref);
  GSocketFamily families[] = { G_SOCKET_FAMILY_IPV4, G_SOCKET_FAMILY_IPV6 };
  GSocketAddress *external;

  for (guint i = 0; i < G_N_ELEMENTS (families); i++)
    {
      g_autoptr(GSocketAddress) local = ep_udp_get_local_address (self->udp, families[i]);
      GInetAddress *inet;

      if (local == NULL)
        continue;
      inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local));
      if (!g_inet_address_get_is_any (inet))
        g_ptr_array_add (endpoints, g_object_ref (local));
    }
  external = ep_dht_get_external_address (self->dht);
  if (external != NULL && G_IS_INET_SOCKET_ADDRESS (external))
    {
      GInetAddress *inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (external));
      g_autoptr(GSocketAddress) ours =
        g_inet_socket_address_new (inet, ep_udp_get_port (self->udp));
      gboolean known = FALSE;

      for (guint i = 0; i < endpoints->len; i++)
        known |= g_inet_address_equal (inet, g_inet_socket_address_get_address (
                                                endpoints->pdata[i]));
      if (!known)
        g_ptr_array_add (endpoints, g_steal_pointer (&ours));
    }

  if (endpoints->len > 0)
    ep_presence_set_endpoints (presence (self), endpoints);
}

static void
maybe_publish (EpNode *self)
{
  if (presence (self) == NULL || self->publishing || ep_dht_get_n_nodes (self->dht) == 0)
    return;
  update_endpoints (self);
  self->publishing = TRUE;
  ep_presence_start (presence (self));
}

static void
on_nodes_changed (EpDht  *dht,
                  guint   n_nodes,
                  EpNode *self)
{
  maybe_publish (self);
}

static void
on_external_address_changed (EpDht          *dht,
                             GSocketAddress *address,
                             EpNode         *self)
{
  if (self->publishing)
    update_endpoints (self);
}

static void
on_published (EpPresence *p,
              gint64      seq,
              guint       n_stored,
              EpNode     *self)
{
  JsonNode *member = json_object_get_member (self->profile, "presence");

  if (member == NULL || !JSON_NODE_HOLDS_OBJECT (member))
    {
      json_object_set_object_member (self->profile, "presence", json_object_new ());
      member = json_object_get_member (self->profile, "presence");
    }
  json_object_set_int_member (json_node_get_object (member), "seq", seq);
}

void
ep_node_presence_start (EpNode *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *seq_path = g_build_filename (self->profile_dir, EP_PRESENCE_SEQ_FILE_NAME,
                                                NULL);
  EpPresence *p;

  p = ep_presence_new (self->dht, self->identity, seq_path, &error);
  if (p == NULL)
    {
      /* Contacts still reach us by LAN and by our own connects. */
      g_warning ("Our presence record cannot be published: %s", error->message);
      return;
    }
  self->presence = G_OBJECT (p);
  g_signal_connect (p, "published", G_CALLBACK (on_published), self);
  g_signal_connect (self->dht, "nodes-changed", G_CALLBACK (on_nodes_changed), self);
  g_signal_connect (self->dht, "external-address-changed",
                    G_CALLBACK (on_external_address_changed), self);
  maybe_publish (self);
}

void
ep_node_presence_stop (EpNode *self)
{
  if (self->dht != NULL)
    g_signal_handlers_disconnect_by_data (self->dht, self);
  if (presence (self) != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->presence, self);
      ep_presence_stop (presence (self));
    }
  g_clear_object (&self->presence);
  self->publishing = FALSE;
}

static void
use_record (EpNode           *self,
            EpNodePeer       *peer,
            EpPresenceRecord *record)
{
  GPtrArray *endpoints = record->value.endpoints;

  for (guint i = 0; i < endpoints->len; i++)
    {
      GSocketAddress *address = endpoints->pdata[i];

      if (!ep_udp_has_family (self->udp, g_socket_address_get_family (address)))
        continue;
      if (peer->session != NULL
          && ep_session_get_state (peer->session) == EP_SESSION_STATE_CONNECTING
          && !EP_IS_RELAY_ADDRESS (ep_session_get_remote_address (peer->session))
          && !ep_node_same_address (address, ep_session_get_remote_address (peer->session)))
        ep_session_close (peer->session);   /* calling a stale address */
      g_clear_object (&peer->address);
      peer->address = g_object_ref (address);
      peer->connect_backoff_ms = self->timing.connect_retry_ms;
      peer->next_connect = 0;
      ep_node_connect_soon (self, peer);
      return;
    }
}

static void
on_seq_accepted (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Resolution *r = user_data;
  EpNode *self = r->node;
  g_autoptr(GError) error = NULL;
  EpNodePeer *peer;

  if (!ep_store_accept_presence_seq_finish (EP_STORE (source), result, &error))
    {
      /* An older record than one seen before: a replay. */
      self->counters.presence_failed++;
      g_debug ("presence record refused: %s", error->message);
    }
  else if (self->started && (peer = ep_node_peer_lookup (self, r->key)) != NULL
           && !peer->stranger && !ep_node_peer_is_up (peer))
    {
      self->counters.presence_resolved++;
      use_record (self, peer, r->record);
    }
  resolution_free (r);
}

static void
on_resolved (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Resolution *r = user_data;
  EpNode *self = r->node;
  g_autoptr(GError) error = NULL;
  EpNodePeer *peer = ep_node_peer_lookup (self, r->key);

  if (peer != NULL)
    peer->resolving = FALSE;
  r->record = ep_presence_resolve_finish (EP_PRESENCE (source), result, NULL, &error);
  if (r->record == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        self->counters.presence_failed++;
      resolution_free (r);
      return;
    }
  ep_store_accept_presence_seq_async (self->store, r->key, (guint64) r->record->seq,
                                      self->cancellable, on_seq_accepted, r);
}

/* From the timer: resolves @peer when it is due. */
void
ep_node_presence_pump (EpNodePeer *peer,
                       gint64      now)
{
  EpNode *self = peer->node;
  Resolution *r;
  EpContact *contact;
  gboolean waiting;
  guint interval;

  if (presence (self) == NULL || peer->resolving || now < peer->next_resolve
      || ep_dht_get_n_nodes (self->dht) == 0)
    return;

  contact = ep_contact_list_lookup (self->contacts, peer->hex);
  waiting = !g_queue_is_empty (&peer->outbox)
            || (contact != NULL && ep_contact_get_request_state (contact)
                                   == EP_CONTACT_REQUEST_OUTGOING_PENDING);
  interval = waiting ? self->timing.resolve_queued_ms : self->timing.resolve_ms;
  /* Right after a start records change (new ports, republished); look
   * again soon, then less and less often. */
  if (peer->resolve_backoff_ms == 0)
    peer->resolve_backoff_ms = self->timing.connect_retry_ms;
  else
    peer->resolve_backoff_ms = MIN (peer->resolve_backoff_ms * 2, interval);
  peer->next_resolve = now + (gint64) MIN (peer->resolve_backoff_ms, interval) * 1000;
  peer->resolving = TRUE;

  r = g_new0 (Resolution, 1);
  r->node = g_object_ref (self);
  memcpy (r->key, peer->key, 32);
  ep_presence_resolve_async (presence (self), peer->key, self->cancellable, on_resolved, r);
}
