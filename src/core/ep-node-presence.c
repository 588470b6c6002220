/* ep-node-presence.c — our presence record out, our contacts' records in
 *
 * Once the DHT has nodes we publish our record (EpPresence republishes it
 * on endpoint or reachability changes and every 30 minutes). Our endpoints
 * are the external address the DHT's vote learned, with the port the
 * voters saw (a NAT may have mapped ours to another), and the address we
 * listen on when it is a specific one. Our reachability (behind a NAT or
 * not) goes with them. Every contact we want to reach and have no session
 * with is resolved at start, then every resolve_ms, or every
 * resolve_queued_ms while something waits for it (messages or our
 * request); right after a start, our first publish or a network change,
 * at least every other second for a while, so that two nodes coming up
 * together find each other's fresh records at once. A record whose seq
 * the store accepts (never below the last one) gives the endpoints to
 * call, all at once.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "ep-dht-private.h"
#include "ep-node-private.h"
#include "ep-presence.h"

/* BEP 43 read-only mode can begin without any event: looked at this often. */
#define REACHABILITY_CHECK_SECONDS 60
/* Lookups that make DHT nodes vote on our external address, while it is
 * unknown (a small DHT may not answer enough at start). */
#define LEARN_ROUNDS      8
#define LEARN_INTERVAL_MS 1000

static void learn_external (EpNode           *self);
static void use_record     (EpNode           *self,
                            EpNodePeer       *peer,
                            EpPresenceRecord *record);

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

/* Whether @inet is the address of one of our interfaces. */
static gboolean
is_local_address (GInetAddress *inet)
{
  struct ifaddrs *list = NULL;
  gboolean found = FALSE;

  if (getifaddrs (&list) != 0)
    return FALSE;
  for (struct ifaddrs *i = list; i != NULL && !found; i = i->ifa_next)
    {
      g_autoptr(GSocketAddress) address = NULL;
      gsize size;

      if (i->ifa_addr == NULL)
        continue;
      if (i->ifa_addr->sa_family == AF_INET)
        size = sizeof (struct sockaddr_in);
      else if (i->ifa_addr->sa_family == AF_INET6)
        size = sizeof (struct sockaddr_in6);
      else
        continue;
      address = g_socket_address_new_from_native (i->ifa_addr, size);
      found = address != NULL && G_IS_INET_SOCKET_ADDRESS (address)
              && g_inet_address_equal (inet, g_inet_socket_address_get_address (
                                               G_INET_SOCKET_ADDRESS (address)));
    }
  freeifaddrs (list);
  return found;
}

/* What the network says about us: an external address (the DHT's vote)
 * that is not ours, or another port than we listen on, is a NAT; DHT nodes
 * that never reach us unasked (BEP 43 read-only) mean a NAT or a
 * firewall; our own address, seen from outside, means contacts can call us
 * directly. */
static EpPresenceReachability
find_reachability (EpNode *self)
{
  GSocketAddress *external = ep_dht_get_external_address (self->dht);
  GInetSocketAddress *inet;
  guint16 port;

  if (ep_dht_seems_unreachable (self->dht))
    return EP_PRESENCE_REACHABILITY_NAT;
  if (external == NULL || !G_IS_INET_SOCKET_ADDRESS (external))
    return EP_PRESENCE_REACHABILITY_UNKNOWN;
  inet = G_INET_SOCKET_ADDRESS (external);
  port = g_inet_socket_address_get_port (inet);
  if ((port != 0 && port != ep_udp_get_port (self->udp))
      || !is_local_address (g_inet_socket_address_get_address (inet)))
    return EP_PRESENCE_REACHABILITY_NAT;
  return EP_PRESENCE_REACHABILITY_DIRECT;
}

/* Our endpoints: the external address the DHT's vote found, with the port
 * it saw (a NAT may map ours to another one; without a port in the vote,
 * ours), then the address we listen on when it is a specific one. */
static GPtrArray *
find_endpoints (EpNode *self)
{
  GPtrArray *endpoints = g_ptr_array_new_with_free_func (g_object_unref);
  GSocketFamily families[] = { G_SOCKET_FAMILY_IPV4, G_SOCKET_FAMILY_IPV6 };
  GSocketAddress *external = ep_dht_get_external_address (self->dht);

  if (external != NULL && G_IS_INET_SOCKET_ADDRESS (external))
    {
      GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (external);
      guint16 port = g_inet_socket_address_get_port (inet);

      g_ptr_array_add (endpoints, g_inet_socket_address_new (
                                    g_inet_socket_address_get_address (inet),
                                    port != 0 ? port : ep_udp_get_port (self->udp)));
    }
  for (guint i = 0; i < G_N_ELEMENTS (families); i++)
    {
      g_autoptr(GSocketAddress) local = ep_udp_get_local_address (self->udp, families[i]);

      if (local == NULL
          || g_inet_address_get_is_any (g_inet_socket_address_get_address (
                                          G_INET_SOCKET_ADDRESS (local)))
          || (endpoints->len > 0 && ep_node_same_address (endpoints->pdata[0], local)))
        continue;
      g_ptr_array_add (endpoints, g_steal_pointer (&local));
    }
  return endpoints;
}

static void
update_endpoints (EpNode *self)
{
  g_autoptr(GPtrArray) endpoints = find_endpoints (self);
  EpPresenceReachability reachability = find_reachability (self);

  if (endpoints->len > 0)
    {
      g_autofree char *first = g_socket_connectable_to_string (endpoints->pdata[0]);

      g_debug ("our endpoints: %s and %u more; reachability %d", first, endpoints->len - 1,
               reachability);
    }
  ep_presence_set_reachability (presence (self), reachability);
  if (endpoints->len > 0)
    ep_presence_set_endpoints (presence (self), endpoints);
}

static gboolean
on_reachability_check (gpointer user_data)
{
  EpNode *self = user_data;

  if (self->publishing)
    ep_presence_set_reachability (presence (self), find_reachability (self));
  return G_SOURCE_CONTINUE;
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
  if (ep_dht_get_external_address (dht) == NULL && self->learn_rounds == 0)
    learn_external (self);
}

static void
on_external_address_changed (EpDht          *dht,
                             GSocketAddress *address,
                             EpNode         *self)
{
  if (self->publishing)
    update_endpoints (self);
}

/* Contacts that we could not reach may have tried our old endpoints, or
 * found no record of ours: now they find one, and we look for theirs. */
static void
resolve_all_soon (EpNode *self)
{
  GHashTableIter iter;
  EpNodePeer *peer;

  self->fast_resolve_until = g_get_monotonic_time ()
                             + (gint64) self->timing.resolve_queued_ms * 1000;
  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &peer))
    if (!peer->stranger && !ep_node_peer_is_up (peer))
      {
        peer->next_resolve = 0;
        peer->resolve_backoff_ms = 0;
      }
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
  self->counters.presence_published++;
  if (self->counters.presence_published == 1)
    resolve_all_soon (self);
}

/* A lookup still going on found a record: calling now rather than when
 * the lookup ends (it may wait seconds on nodes that are gone) is what
 * makes two nodes coming up together meet at once. The store still sees
 * the record's seq when the lookup ends. */
static void
on_found (EpPresence       *p,
          GBytes           *key,
          EpPresenceRecord *record,
          EpNode           *self)
{
  EpNodePeer *peer;

  if (!self->started || g_bytes_get_size (key) != 32)
    return;
  peer = ep_node_peer_lookup (self, g_bytes_get_data (key, NULL));
  if (peer == NULL || peer->stranger || ep_node_peer_is_up (peer))
    return;
  self->counters.presence_resolved++;
  use_record (self, peer, record);
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
  g_signal_connect (p, "found", G_CALLBACK (on_found), self);
  g_signal_connect (self->dht, "nodes-changed", G_CALLBACK (on_nodes_changed), self);
  g_signal_connect (self->dht, "external-address-changed",
                    G_CALLBACK (on_external_address_changed), self);
  self->reachability_check = g_timeout_source_new_seconds (REACHABILITY_CHECK_SECONDS);
  g_source_set_callback (self->reachability_check, on_reachability_check, self, NULL);
  g_source_set_static_name (self->reachability_check, "[ep-node] reachability");
  g_source_attach (self->reachability_check, g_main_context_get_thread_default ());
  self->fast_resolve_until = g_get_monotonic_time ()
                             + (gint64) self->timing.resolve_queued_ms * 1000;
  maybe_publish (self);
}

static gboolean
on_learn_timer (gpointer user_data)
{
  EpNode *self = user_data;

  g_clear_pointer (&self->learn_timer, g_source_unref);
  learn_external (self);
  return G_SOURCE_REMOVE;
}

static void
on_relearned (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(EpNode) self = user_data;
  g_autoptr(GPtrArray) nodes = ep_dht_find_node_finish (EP_DHT (source), result, NULL);

  self->learning = FALSE;
  if (!self->started || self->dht == NULL)
    return;
  /* The replies voted; whatever they found is in. */
  if (self->publishing)
    update_endpoints (self);
  if (ep_dht_get_external_address (self->dht) == NULL && self->learn_rounds < LEARN_ROUNDS
      && self->learn_timer == NULL)
    {
      self->learn_timer = g_timeout_source_new (LEARN_INTERVAL_MS);
      g_source_set_callback (self->learn_timer, on_learn_timer, self, NULL);
      g_source_set_static_name (self->learn_timer, "[ep-node] learn address");
      g_source_attach (self->learn_timer, g_main_context_get_thread_default ());
    }
}

/* A lookup of our own ID asks a good number of nodes, whose replies vote
 * on our external address. */
static void
learn_external (EpNode *self)
{
  if (self->learning || self->dht == NULL || ep_dht_get_n_nodes (self->dht) == 0)
    return;
  self->learning = TRUE;
  self->learn_rounds++;
  ep_dht_find_node_async (self->dht, ep_dht_get_id (self->dht), self->cancellable,
                          on_relearned, g_object_ref (self));
}

/* After a network change: our external address is learned again; the
 * record is published again (its endpoints may have changed, and so may
 * the nodes that can hold it); contacts are resolved again soon. */
void
ep_node_presence_network_changed (EpNode *self)
{
  if (self->dht == NULL)
    return;
  self->learn_rounds = 0;
  learn_external (self);
  resolve_all_soon (self);
  if (presence (self) == NULL)
    return;
  if (!self->publishing)
    {
      maybe_publish (self);
      return;
    }
  update_endpoints (self);
  ep_presence_republish (presence (self));
}

void
ep_node_presence_stop (EpNode *self)
{
  if (self->dht != NULL)
    g_signal_handlers_disconnect_by_data (self->dht, self);
  if (self->reachability_check != NULL)
    g_source_destroy (self->reachability_check);
  g_clear_pointer (&self->reachability_check, g_source_unref);
  if (self->learn_timer != NULL)
    g_source_destroy (self->learn_timer);
  g_clear_pointer (&self->learn_timer, g_source_unref);
  self->learn_rounds = 0;
  if (presence (self) != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->presence, self);
      ep_presence_stop (presence (self));
    }
  g_clear_object (&self->presence);
  self->publishing = FALSE;
}

/* The record's endpoints that our sockets can reach become the peer's
 * candidates: the connect goes to all of them at once. */
static void
use_record (EpNode           *self,
            EpNodePeer       *peer,
            EpPresenceRecord *record)
{
  GPtrArray *endpoints = record->value.endpoints;
  g_autoptr(GPtrArray) usable = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < endpoints->len; i++)
    if (ep_udp_has_family (self->udp, g_socket_address_get_family (endpoints->pdata[i])))
      g_ptr_array_add (usable, g_object_ref (endpoints->pdata[i]));
  if (usable->len == 0)
    return;

  if (peer->session != NULL
      && ep_session_get_state (peer->session) == EP_SESSION_STATE_CONNECTING
      && !EP_IS_RELAY_ADDRESS (ep_session_get_remote_address (peer->session)))
    {
      GSocketAddress *calling = ep_session_get_remote_address (peer->session);
      gboolean stale = TRUE;

      for (guint i = 0; i < usable->len && stale; i++)
        stale = !ep_node_same_address (usable->pdata[i], calling);
      if (stale)
        ep_session_close (peer->session);   /* calling a stale address */
    }
  {
    g_autofree char *text = g_socket_connectable_to_string (usable->pdata[0]);

    g_debug ("%.8s: record seq %" G_GINT64_FORMAT " says %s", peer->hex, record->seq, text);
  }
  g_clear_pointer (&peer->endpoints, g_ptr_array_unref);
  peer->endpoints = g_ptr_array_ref (usable);
  peer->reachability = record->value.reachability;
  g_clear_object (&peer->address);
  peer->address = g_object_ref (usable->pdata[0]);
  peer->connect_backoff_ms = self->timing.connect_retry_ms;
  peer->next_connect = 0;
  ep_node_connect_soon (self, peer);
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
  /* …but while both sides may just be coming up (after a start or a
   * network change), at most every other second: two fresh nodes find
   * each other's records within moments of publishing them. */
  if (now < self->fast_resolve_until)
    interval = MIN (interval, 2 * self->timing.connect_retry_ms);
  if (peer->resolve_backoff_ms == 0)
    peer->resolve_backoff_ms = self->timing.connect_retry_ms;
  else
    peer->resolve_backoff_ms = MIN (peer->resolve_backoff_ms * 2, interval);
  peer->next_resolve = now + (gint64) MIN (peer->resolve_backoff_ms, interval) * 1000;
  peer->resolving = TRUE;

  g_debug ("%.8s: resolving", peer->hex);
  r = g_new0 (Resolution, 1);
  r->node = g_object_ref (self);
  memcpy (r->key, peer->key, 32);
  ep_presence_resolve_async (presence (self), peer->key, self->cancellable, on_resolved, r);
}
