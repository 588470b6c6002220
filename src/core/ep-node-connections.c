/* ep-node-connections.c — peers, their sessions, and the timer driving them
 *
 * A peer is a key we keep a session with: every contact that is not
 * blocked, and for a few seconds a stranger whose session may carry one
 * contact request. While a contact we want (accepted, or asked by us) has
 * no session and we know an address, we connect, backing off after
 * failures; the peer does the same towards us, which punches simple NATs.
 * The contact is online exactly while a session with it is established.
 *
 * Hole punching: a contact's record may list several endpoints; the
 * handshake goes to all of them at once and is retransmitted quickly at
 * first (250 ms, doubling), then the connect is retried with backoff (1 s,
 * doubling to a minute). When both sides call each other at once, the
 * session manager settles on one handshake, or EpSession on one set of
 * keys. A session that heard nothing for a while and then hears its peer
 * again sends what waits at once instead of after the retransmission
 * backoff.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <sodium.h>
#include <string.h>

#include "ep-node-private.h"

#define MAX_HINTS 1024

static void attach_session (EpNodePeer *peer,
                            EpSession  *session);

EpNodePeer *
ep_node_peer_lookup (EpNode       *self,
                     const guint8 *key)
{
  char hex[65];

  sodium_bin2hex (hex, sizeof hex, key, 32);
  return g_hash_table_lookup (self->peers, hex);
}

EpNodePeer *
ep_node_peer_ensure (EpNode       *self,
                     const guint8 *key)
{
  EpNodePeer *peer = ep_node_peer_lookup (self, key);
  GSocketAddress *hint;

  if (peer != NULL)
    return peer;

  peer = g_new0 (EpNodePeer, 1);
  peer->node = self;
  memcpy (peer->key, key, 32);
  peer->hex = g_malloc (65);
  sodium_bin2hex (peer->hex, 65, key, 32);
  g_queue_init (&peer->outbox);
  peer->outbox_ids = g_hash_table_new (g_str_hash, g_str_equal);
  peer->acks = g_array_new (FALSE, FALSE, EP_FRAME_ID_SIZE);
  peer->acked = g_array_new (FALSE, FALSE, EP_FRAME_ID_SIZE);
  peer->assembler = ep_fragment_assembler_new (EP_FRAGMENT_DEFAULT_MAX_PARTIALS,
                                               EP_FRAGMENT_DEFAULT_MAX_BYTES,
                                               EP_FRAGMENT_DEFAULT_TIMEOUT);
  peer->connect_backoff_ms = self->timing.connect_retry_ms;
  hint = self->hints != NULL ? g_hash_table_lookup (self->hints, peer->hex) : NULL;
  if (hint != NULL)
    peer->address = g_object_ref (hint);
  g_hash_table_insert (self->peers, peer->hex, peer);
  return peer;
}

static void
detach_session (EpNodePeer *peer)
{
  if (peer->session == NULL)
    return;
  g_signal_handlers_disconnect_by_data (peer->session, peer);
  g_clear_object (&peer->session);
}

void
ep_node_peer_free (EpNodePeer *peer)
{
  detach_session (peer);
  g_clear_object (&peer->address);
  g_clear_pointer (&peer->endpoints, g_ptr_array_unref);
  g_queue_clear_full (&peer->outbox, (GDestroyNotify) ep_node_out_item_free);
  g_hash_table_unref (peer->outbox_ids);
  g_array_unref (peer->acks);
  g_array_unref (peer->acked);
  g_object_unref (peer->assembler);
  g_free (peer->request_text);
  g_free (peer->hex);
  g_free (peer);
}

void
ep_node_peer_remove (EpNode     *self,
                     EpNodePeer *peer)
{
  if (peer->session != NULL && peer->stranger)
    ep_session_close (peer->session);
  g_hash_table_remove (self->peers, peer->hex);
}

gboolean
ep_node_peer_is_up (EpNodePeer *peer)
{
  return peer->session != NULL
         && ep_session_get_state (peer->session) == EP_SESSION_STATE_ESTABLISHED;
}

/* Sends @frame whole or in fragments under @local_id; FALSE when not every
 * part left. A message keeps one local id across retransmissions so that
 * the receiver's assembler fills its gaps from every copy. */
gboolean
ep_node_peer_send_frame_as (EpNodePeer    *peer,
                            const EpFrame *frame,
                            guint32        local_id)
{
  g_autoptr(GPtrArray) payloads = NULL;
  g_autoptr(GError) error = NULL;

  if (!ep_node_peer_is_up (peer))
    return FALSE;

  payloads = ep_frame_to_payloads (frame, local_id, EP_FRAME_DEFAULT_PAYLOAD, &error);
  if (payloads == NULL)
    {
      g_warning ("Could not encode a %s frame: %s", ep_frame_type_to_string (frame->type),
                 error->message);
      return FALSE;
    }
  for (guint i = 0; i < payloads->len; i++)
    if (!ep_session_send (peer->session, g_ptr_array_index (payloads, i), &error))
      {
        g_debug ("Frame to %.8s not sent: %s", peer->hex, error->message);
        return FALSE;
      }
  return TRUE;
}

/* Local ids of frames other than messages have the top bit clear. */
gboolean
ep_node_peer_send_frame (EpNodePeer    *peer,
                         const EpFrame *frame)
{
  return ep_node_peer_send_frame_as (peer, frame, peer->next_local_id++ & 0x7fffffffu);
}

gboolean
ep_node_same_address (GSocketAddress *a,
                      GSocketAddress *b)
{
  GInetSocketAddress *x, *y;

  if (!G_IS_INET_SOCKET_ADDRESS (a) || !G_IS_INET_SOCKET_ADDRESS (b))
    return FALSE;
  x = G_INET_SOCKET_ADDRESS (a);
  y = G_INET_SOCKET_ADDRESS (b);
  return g_inet_socket_address_get_port (x) == g_inet_socket_address_get_port (y)
         && g_inet_address_equal (g_inet_socket_address_get_address (x),
                                  g_inet_socket_address_get_address (y));
}

static EpContact *
peer_contact (EpNodePeer *peer)
{
  return ep_contact_list_lookup (peer->node->contacts, peer->hex);
}

/* Whether a session with @peer is worth keeping up: a contact, or one
 * whose request is being answered. */
gboolean
ep_node_peer_wanted (EpNodePeer *peer)
{
  EpContact *contact;

  if (peer->stranger)
    return FALSE;
  contact = peer_contact (peer);
  if (contact == NULL)
    return FALSE;
  switch (ep_contact_get_request_state (contact))
    {
    case EP_CONTACT_REQUEST_ACCEPTED:
    case EP_CONTACT_REQUEST_OUTGOING_PENDING:
      return TRUE;
    case EP_CONTACT_REQUEST_INCOMING_PENDING:
      return peer->answer_accept;
    case EP_CONTACT_REQUEST_NONE:
    case EP_CONTACT_REQUEST_DECLINED:
    case EP_CONTACT_REQUEST_BLOCKED:
    default:
      return FALSE;
    }
}

static void
set_presence (EpNodePeer        *peer,
              EpContactPresence  presence)
{
  EpContact *contact = peer_contact (peer);

  if (presence == EP_CONTACT_PRESENCE_OFFLINE)
    {
      /* Nobody types over a session that is gone. */
      peer->typing_out = FALSE;
      if (contact != NULL)
        ep_node_typing_clear (peer);
    }
  if (contact == NULL || peer->stranger || ep_contact_get_presence (contact) == presence)
    return;
  ep_contact_set_presence (contact, presence);
  if (presence == EP_CONTACT_PRESENCE_OFFLINE)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

      ep_contact_set_last_seen (contact, now);
    }
  g_signal_emit (peer->node, ep_node_signals[EP_NODE_SIGNAL_CONTACT_PRESENCE_CHANGED], 0,
                 contact);
}

/* After a stranger became a contact. */
void
ep_node_peer_update_presence (EpNodePeer *peer)
{
  set_presence (peer, ep_node_peer_is_up (peer) ? EP_CONTACT_PRESENCE_ONLINE
                                                : EP_CONTACT_PRESENCE_OFFLINE);
}

static void
session_up (EpNodePeer *peer)
{
  GSocketAddress *address = ep_session_get_remote_address (peer->session);

  peer->connect_backoff_ms = peer->node->timing.connect_retry_ms;
  peer->resolve_backoff_ms = 0;
  peer->direct_started = 0;
  peer->last_heard = 0;
  /* peer->address stays the direct one: a relayed path is ep-node-relay.c's. */
  if (address != NULL && !peer->stranger && !EP_IS_RELAY_ADDRESS (address))
    {
      g_clear_object (&peer->address);
      peer->address = g_object_ref (address);
    }
  set_presence (peer, EP_CONTACT_PRESENCE_ONLINE);
  if (!peer->stranger)
    {
      ep_node_delivery_session_up (peer);
      peer->next_request = 0;
      peer->profile_sent = FALSE;
      ep_node_requests_pump (peer, g_get_monotonic_time ());
      ep_node_delivery_pump (peer, g_get_monotonic_time ());
    }
}

static void
on_session_state_changed (EpSession  *session,
                          EpNodePeer *peer)
{
  EpSession *other;

  switch (ep_session_get_state (session))
    {
    case EP_SESSION_STATE_ESTABLISHED:
      session_up (peer);
      break;

    case EP_SESSION_STATE_CLOSED:
      detach_session (peer);
      /* A crossing handshake may have left another session up. */
      other = ep_session_manager_lookup (peer->node->sessions, peer->key);
      if (other != NULL && other != session
          && ep_session_get_state (other) != EP_SESSION_STATE_CLOSED)
        {
          attach_session (peer, other);
          break;
        }
      set_presence (peer, EP_CONTACT_PRESENCE_OFFLINE);
      /* Never got through: the address may be stale, look again soon. */
      if (ep_session_get_counters (session)->handshakes == 0)
        peer->next_resolve = MIN (peer->next_resolve,
                                  g_get_monotonic_time ()
                                  + (gint64) peer->node->timing.resolve_queued_ms * 1000);
      peer->next_connect = g_get_monotonic_time ()
                           + (gint64) peer->connect_backoff_ms * 1000;
      peer->connect_backoff_ms = MIN (peer->connect_backoff_ms * 2,
                                      peer->node->timing.connect_retry_max_ms);
      if (peer->stranger)
        peer->stranger_deadline = 0;   /* the timer removes it */
      break;

    case EP_SESSION_STATE_CONNECTING:
    default:
      break;
    }
}

static void
on_frame_received (EpSession  *session,
                   GBytes     *frame,
                   EpNodePeer *peer)
{
  ep_node_delivery_frame (peer, frame);
}

static void
attach_session (EpNodePeer *peer,
                EpSession  *session)
{
  if (peer->session == session)
    return;
  detach_session (peer);
  peer->session = g_object_ref (session);
  g_signal_connect (session, "state-changed", G_CALLBACK (on_session_state_changed), peer);
  g_signal_connect (session, "frame-received", G_CALLBACK (on_frame_received), peer);
  if (ep_session_get_state (session) == EP_SESSION_STATE_ESTABLISHED)
    session_up (peer);
}

static gboolean
on_incoming (EpSessionManager *manager,
             EpSession        *session,
             EpNode           *self)
{
  g_autoptr(GBytes) identity = ep_session_get_remote_identity (session);
  const guint8 *key;
  EpNodePeer *peer;

  if (identity == NULL || g_bytes_get_size (identity) != 32)
    return FALSE;
  key = g_bytes_get_data (identity, NULL);

  peer = ep_node_peer_lookup (self, key);
  if (peer != NULL && !peer->stranger)
    {
      attach_session (peer, session);
      return TRUE;
    }
  if (peer != NULL)
    {
      self->counters.incoming_refused++;
      return FALSE;
    }
  if (!ep_node_requests_incoming (self, session, key))
    {
      self->counters.incoming_refused++;
      return FALSE;
    }
  peer = ep_node_peer_ensure (self, key);
  peer->stranger = TRUE;
  peer->stranger_deadline = g_get_monotonic_time ()
                            + (gint64) self->timing.stranger_ms * 1000;
  attach_session (peer, session);
  return TRUE;
}

/* Calls every address we know for @peer: where it was last seen first,
 * then the endpoints of its record. */
static void
connect_peer (EpNode     *self,
              EpNodePeer *peer,
              gint64      now)
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new ();
  EpSession *session;

  g_ptr_array_add (candidates, peer->address);
  for (guint i = 0; peer->endpoints != NULL && i < peer->endpoints->len; i++)
    if (!ep_node_same_address (peer->endpoints->pdata[i], peer->address))
      g_ptr_array_add (candidates, peer->endpoints->pdata[i]);
  session = ep_session_manager_connect_any (self->sessions, candidates, peer->key);
  if (session == NULL)
    return;
  self->counters.connects++;
  if (peer->direct_started == 0)
    peer->direct_started = now;
  peer->next_connect = now + (gint64) peer->connect_backoff_ms * 1000;
  attach_session (peer, session);
  g_object_unref (session);
}

/* Calls @peer on @address now (ep-node-relay.c: through a relay). */
void
ep_node_peer_connect_via (EpNodePeer     *peer,
                          GSocketAddress *address)
{
  EpSession *session;

  session = ep_session_manager_connect (peer->node->sessions, address, peer->key);
  if (session == NULL)
    return;
  peer->node->counters.connects++;
  attach_session (peer, session);
  g_object_unref (session);
}

static gboolean
peer_connecting (EpNodePeer *peer)
{
  return peer->session != NULL
         && ep_session_get_state (peer->session) == EP_SESSION_STATE_CONNECTING;
}

/* Connects to @peer now if it is wanted and reachable. */
void
ep_node_connect_soon (EpNode     *self,
                      EpNodePeer *peer)
{
  if (!self->started || peer->address == NULL || peer_connecting (peer)
      || ep_node_peer_is_up (peer) || !ep_node_peer_wanted (peer))
    return;
  connect_peer (self, peer, g_get_monotonic_time ());
}

static gboolean
on_tick (gpointer user_data)
{
  EpNode *self = user_data;
  gint64 now = g_get_monotonic_time ();
  g_autoptr(GPtrArray) expired = g_ptr_array_new ();
  GHashTableIter iter;
  EpNodePeer *peer;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &peer))
    {
      ep_fragment_assembler_expire (peer->assembler, now);
      if (peer->stranger)
        {
          if (now >= peer->stranger_deadline)
            g_ptr_array_add (expired, peer);
          continue;
        }
      if (peer_contact (peer) == NULL)
        {
          /* Its contact went away (deleted elsewhere): so does the peer. */
          g_ptr_array_add (expired, peer);
          continue;
        }
      ep_node_typing_expire (peer, now);
      if (ep_node_peer_is_up (peer))
        {
          gint64 heard = ep_session_get_last_received (peer->session);

          /* Back from a silence (a path cut for a while): what waits goes
           * now, not after a retransmission backoff grown meanwhile. */
          if (peer->last_heard != 0
              && heard - peer->last_heard >= (gint64) self->timing.retransmit_ms * 4000)
            ep_node_delivery_session_up (peer);
          peer->last_heard = heard;
          ep_node_requests_pump (peer, now);
          ep_node_delivery_pump (peer, now);
        }
      else if (ep_node_peer_wanted (peer))
        {
          ep_node_presence_pump (peer, now);
          if (peer->address != NULL && !peer_connecting (peer) && now >= peer->next_connect)
            connect_peer (self, peer, now);
        }
    }

  for (guint i = 0; i < expired->len; i++)
    ep_node_peer_remove (self, g_ptr_array_index (expired, i));

  return G_SOURCE_CONTINUE;
}

/**
 * ep_node_peer_get_direct_started:
 *
 * For a relay: direct attempts to @peer (handshakes to its addresses) have
 * been going on since then, monotonic µs; 0 while it is connected or none
 * was made. A network change starts a new run.
 */
gint64
ep_node_peer_get_direct_started (EpNodePeer *peer)
{
  return peer->direct_started;
}

/* After a network change: sessions whose path may have broken are probed
 * at once (a keepalive from our new address; the peer follows authentic
 * packets), what waits is sent again now, and handshakes and connects
 * start over without backoff. */
void
ep_node_connections_network_changed (EpNode *self)
{
  g_autoptr(GPtrArray) calling = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  EpNodePeer *peer;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &peer))
    {
      if (peer->stranger)
        continue;
      if (ep_node_peer_is_up (peer))
        {
          ep_session_probe (peer->session);
          ep_node_delivery_session_up (peer);
          continue;
        }
      if (peer_connecting (peer))
        g_ptr_array_add (calling, g_object_ref (peer->session));
    }
  /* A handshake deep in its retransmission backoff starts again. */
  for (guint i = 0; i < calling->len; i++)
    ep_session_close (calling->pdata[i]);

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &peer))
    if (!peer->stranger && !ep_node_peer_is_up (peer))
      {
        peer->connect_backoff_ms = self->timing.connect_retry_ms;
        peer->next_connect = 0;
        peer->direct_started = 0;
        ep_node_connect_soon (self, peer);
      }
}

static void
on_lan_peer_found (EpLanDiscovery *lan,
                   GBytes         *key,
                   GSocketAddress *address,
                   EpNode         *self)
{
  if (g_bytes_get_size (key) != 32 || self->udp == NULL
      || !ep_udp_has_family (self->udp, g_socket_address_get_family (address)))
    return;   /* we could not reach it from our sockets */
  ep_node_add_peer_address (self, g_bytes_get_data (key, NULL), address);
}

void
ep_node_connections_start (EpNode *self)
{
  GSource *source;

  g_signal_connect (self->sessions, "incoming", G_CALLBACK (on_incoming), self);
  source = g_timeout_source_new (self->timing.tick_ms);
  g_source_set_callback (source, on_tick, self, NULL);
  g_source_set_static_name (source, "[ep-node] tick");
  g_source_attach (source, g_main_context_get_thread_default ());
  self->tick = source;
  self->started = TRUE;
}

void
ep_node_connections_stop (EpNode *self)
{
  GHashTableIter iter;
  EpNodePeer *peer;

  if (self->tick != NULL)
    g_source_destroy (self->tick);
  g_clear_pointer (&self->tick, g_source_unref);
  if (self->ack_flush != NULL)
    g_source_destroy (self->ack_flush);
  g_clear_pointer (&self->ack_flush, g_source_unref);
  if (self->lan != NULL)
    g_signal_handlers_disconnect_by_data (self->lan, self);
  if (self->sessions != NULL)
    g_signal_handlers_disconnect_by_data (self->sessions, self);

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &peer))
    {
      EpSession *session = peer->session != NULL ? g_object_ref (peer->session) : NULL;

      detach_session (peer);
      set_presence (peer, EP_CONTACT_PRESENCE_OFFLINE);
      if (session != NULL)
        {
          ep_session_close (session);
          g_object_unref (session);
        }
      if (peer->stranger)
        g_hash_table_iter_remove (&iter);
    }
}

void
ep_node_connections_watch_lan (EpNode *self)
{
  g_signal_connect (self->lan, "peer-found", G_CALLBACK (on_lan_peer_found), self);
}

/**
 * ep_node_add_peer_address:
 * @key: an identity key
 * @address: where it can be reached
 *
 * Remembers where @key was seen (LAN discovery calls this; so can a user
 * or a test) and connects at once when it is a contact we want to reach.
 */
void
ep_node_add_peer_address (EpNode         *self,
                          const guint8    key[32],
                          GSocketAddress *address)
{
  EpNodePeer *peer;
  char hex[65];

  g_return_if_fail (EP_IS_NODE (self));
  g_return_if_fail (G_IS_INET_SOCKET_ADDRESS (address));

  sodium_bin2hex (hex, sizeof hex, key, 32);
  if (self->hints == NULL)
    self->hints = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  if (g_hash_table_size (self->hints) >= MAX_HINTS && !g_hash_table_contains (self->hints, hex))
    g_hash_table_remove_all (self->hints);
  g_hash_table_insert (self->hints, g_strdup (hex), g_object_ref (address));

  peer = g_hash_table_lookup (self->peers, hex);
  if (peer == NULL || peer->stranger)
    return;
  if (ep_node_peer_is_up (peer))
    {
      GSocketAddress *current = ep_session_get_remote_address (peer->session);

      /* Same family, another address: the peer restarted (a new port), and
       * our session is with the process that went away. */
      if (current == NULL || EP_IS_RELAY_ADDRESS (current)
          || g_socket_address_get_family (current) != g_socket_address_get_family (address)
          || ep_node_same_address (current, address))
        return;
      g_debug ("%.8s moved: reconnecting", peer->hex);
      ep_session_close (peer->session);
    }
  g_clear_object (&peer->address);
  peer->address = g_object_ref (address);
  peer->connect_backoff_ms = self->timing.connect_retry_ms;
  peer->next_connect = 0;
  ep_node_connect_soon (self, peer);
}

gboolean
ep_node_is_connected (EpNode       *self,
                      const guint8  key[32])
{
  EpNodePeer *peer;

  g_return_val_if_fail (EP_IS_NODE (self), FALSE);
  peer = ep_node_peer_lookup (self, key);
  return peer != NULL && !peer->stranger && ep_node_peer_is_up (peer);
}
