/* ep-node-requests.c — contact requests: asking, answering, refusing
 *
 * We ask by sending REQUEST (their nospam, our name, a text) over a
 * session with their key, again every request_retry_ms until they answer.
 * A stranger (a key that is no contact of ours) gets a session only within
 * the rate limit of its address, and only for stranger_ms; its one useful
 * frame is a REQUEST carrying our current nospam, within the rate limit of
 * its key, while fewer than EP_NODE_MAX_PENDING_REQUESTS wait. Everything
 * else a stranger says is dropped and counted.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-contact-id.h"
#include "ep-node-private.h"

#define MAX_STRANGERS 64

static void
on_contact_saved (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!ep_store_save_contact_finish (EP_STORE (source), result, &error)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("Could not save a contact: %s", error->message);
}

static void
on_contact_deleted (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!ep_store_delete_contact_finish (EP_STORE (source), result, &error)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("Could not delete a contact: %s", error->message);
}

static void
save_contact (EpNode    *self,
              EpContact *contact)
{
  ep_store_save_contact_async (self->store, contact, NULL, on_contact_saved, NULL);
}

/* Closes the peer's session and lets the timer drop it. */
static void
forget_peer (EpNodePeer *peer)
{
  peer->stranger = TRUE;
  peer->stranger_deadline = 0;
  g_queue_clear_full (&peer->outbox, (GDestroyNotify) ep_node_out_item_free);
  g_hash_table_remove_all (peer->outbox_ids);
}

guint
ep_node_get_n_pending_requests (EpNode *self)
{
  GListModel *model;
  guint n, pending = 0;

  g_return_val_if_fail (EP_IS_NODE (self), 0);

  model = G_LIST_MODEL (self->contacts);
  n = g_list_model_get_n_items (model);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(EpContact) contact = g_list_model_get_item (model, i);

      if (ep_contact_get_request_state (contact) == EP_CONTACT_REQUEST_INCOMING_PENDING)
        pending++;
    }
  return pending;
}

static gboolean
address_allowed (EpNode    *self,
                 EpSession *session)
{
  /* Through a relay, the relay's address: it stands for its clients as a NAT would. */
  GInetSocketAddress *address =
    ep_socket_address_get_transport (ep_session_get_remote_address (session));
  GInetAddress *inet;

  if (address == NULL)
    return FALSE;
  inet = g_inet_socket_address_get_address (address);
  return ep_rate_limit_allow (self->request_by_address, g_inet_address_to_bytes (inet),
                              g_inet_address_get_native_size (inet), g_get_monotonic_time ());
}

/* The session manager's question about an unknown key. */
gboolean
ep_node_requests_incoming (EpNode       *self,
                           EpSession    *session,
                           const guint8 *key)
{
  char hex[65];
  EpContact *contact;
  GHashTableIter iter;
  EpNodePeer *peer;
  guint strangers = 0;

  sodium_bin2hex (hex, sizeof hex, key, 32);
  contact = ep_contact_list_lookup (self->contacts, hex);
  if (contact != NULL
      && ep_contact_get_request_state (contact) == EP_CONTACT_REQUEST_BLOCKED)
    return FALSE;

  if (ep_node_get_n_pending_requests (self) >= EP_NODE_MAX_PENDING_REQUESTS)
    {
      self->counters.requests_dropped_full++;
      return FALSE;
    }

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &peer))
    strangers += peer->stranger;
  if (strangers >= MAX_STRANGERS)
    return FALSE;

  if (!address_allowed (self, session))
    {
      self->counters.requests_dropped_rate++;
      return FALSE;
    }
  return TRUE;
}

static void
answer (EpNodePeer  *peer,
        EpFrameType  type)
{
  g_autoptr(EpFrame) frame = ep_frame_new (type);

  ep_node_peer_send_frame (peer, frame);
}

static void
mark_accepted (EpNodePeer *peer,
               EpContact  *contact)
{
  EpNode *self = peer->node;

  ep_contact_set_request_state (contact, EP_CONTACT_REQUEST_ACCEPTED);
  save_contact (self, contact);
  g_signal_emit (self, ep_node_signals[EP_NODE_SIGNAL_CONTACT_REQUEST_ANSWERED], 0,
                 contact, TRUE);
  peer->profile_sent = FALSE;
  ep_node_requests_pump (peer, g_get_monotonic_time ());
  ep_node_delivery_session_up (peer);
  ep_node_delivery_pump (peer, g_get_monotonic_time ());
}

static void
stranger_request (EpNodePeer    *peer,
                  const EpFrame *frame)
{
  EpNode *self = peer->node;
  g_autoptr(EpContact) contact = NULL;
  GSocketAddress *address;
  char *name;

  if (frame->nospam != ep_identity_get_nospam (self->identity))
    {
      self->counters.requests_dropped_nospam++;
      peer->stranger_deadline = 0;
      return;
    }
  if (!ep_rate_limit_allow (self->request_by_key, peer->key, 32, g_get_monotonic_time ()))
    {
      self->counters.requests_dropped_rate++;
      peer->stranger_deadline = 0;
      return;
    }
  if (ep_node_get_n_pending_requests (self) >= EP_NODE_MAX_PENDING_REQUESTS)
    {
      self->counters.requests_dropped_full++;
      peer->stranger_deadline = 0;
      return;
    }

  contact = ep_contact_new (peer->key);
  name = g_utf8_make_valid (frame->name != NULL ? frame->name : "", -1);
  ep_contact_set_name (contact, name);
  g_free (name);
  ep_contact_set_request_state (contact, EP_CONTACT_REQUEST_INCOMING_PENDING);
  ep_contact_set_last_activity (contact, g_get_real_time ());
  ep_contact_list_add (self->contacts, contact);
  save_contact (self, contact);

  peer->stranger = FALSE;
  address = ep_session_get_remote_address (peer->session);
  if (address != NULL)
    {
      g_clear_object (&peer->address);
      peer->address = g_object_ref (address);
    }
  ep_node_peer_update_presence (peer);
  g_signal_emit (self, ep_node_signals[EP_NODE_SIGNAL_CONTACT_REQUEST], 0, contact,
                 frame->text != NULL ? frame->text : "");
}

void
ep_node_requests_frame (EpNodePeer    *peer,
                        const EpFrame *frame)
{
  EpNode *self = peer->node;
  EpContact *contact = ep_contact_list_lookup (self->contacts, peer->hex);
  EpContactRequestState state;

  if (frame->type == EP_FRAME_REQUEST)
    self->counters.requests_received++;

  if (peer->stranger)
    {
      if (frame->type == EP_FRAME_REQUEST && peer->stranger_deadline != 0)
        stranger_request (peer, frame);
      return;
    }
  if (contact == NULL)
    return;

  state = ep_contact_get_request_state (contact);
  switch (frame->type)
    {
    case EP_FRAME_REQUEST:
      if (state == EP_CONTACT_REQUEST_ACCEPTED)
        {
          /* Our answer was lost, and maybe the profile that went with it. */
          answer (peer, EP_FRAME_REQUEST_ACCEPTED);
          peer->profile_sent = FALSE;
          ep_node_requests_pump (peer, g_get_monotonic_time ());
        }
      else if (state == EP_CONTACT_REQUEST_OUTGOING_PENDING)
        {
          /* Both asked each other. */
          answer (peer, EP_FRAME_REQUEST_ACCEPTED);
          mark_accepted (peer, contact);
        }
      else
        self->counters.frames_ignored++;
      break;

    case EP_FRAME_REQUEST_ACCEPTED:
      if (state == EP_CONTACT_REQUEST_OUTGOING_PENDING)
        mark_accepted (peer, contact);
      break;

    case EP_FRAME_REQUEST_DECLINED:
      if (state == EP_CONTACT_REQUEST_OUTGOING_PENDING)
        {
          ep_contact_set_request_state (contact, EP_CONTACT_REQUEST_DECLINED);
          save_contact (self, contact);
          g_signal_emit (self, ep_node_signals[EP_NODE_SIGNAL_CONTACT_REQUEST_ANSWERED], 0,
                         contact, FALSE);
        }
      break;

    default:
      break;
    }
}

/* What a request's peer should hear on a session that is up. */
void
ep_node_requests_pump (EpNodePeer *peer,
                       gint64      now)
{
  EpNode *self = peer->node;
  EpContact *contact;

  if (peer->stranger || !ep_node_peer_is_up (peer))
    return;
  contact = ep_contact_list_lookup (self->contacts, peer->hex);
  if (contact == NULL)
    return;

  switch (ep_contact_get_request_state (contact))
    {
    case EP_CONTACT_REQUEST_OUTGOING_PENDING:
      if (now >= peer->next_request)
        {
          g_autoptr(EpFrame) frame = ep_frame_new (EP_FRAME_REQUEST);
          guint32 nospam = 0;

          ep_contact_get_nospam (contact, &nospam);
          frame->nospam = nospam;
          frame->name = g_strdup (ep_node_get_name (self));
          frame->text = g_strdup (peer->request_text != NULL ? peer->request_text : "");
          ep_node_peer_send_frame (peer, frame);
          peer->next_request = now + (gint64) self->timing.request_retry_ms * 1000;
        }
      break;

    case EP_CONTACT_REQUEST_ACCEPTED:
      if (peer->answer_accept)
        {
          answer (peer, EP_FRAME_REQUEST_ACCEPTED);
          peer->answer_accept = FALSE;
        }
      if (!peer->profile_sent)
        {
          g_autoptr(EpFrame) frame = ep_frame_new (EP_FRAME_PROFILE);

          frame->name = g_strdup (ep_node_get_name (self));
          frame->status_text = g_strdup (ep_node_get_status_text (self));
          peer->profile_sent = ep_node_peer_send_frame (peer, frame);
        }
      break;

    case EP_CONTACT_REQUEST_NONE:
    case EP_CONTACT_REQUEST_INCOMING_PENDING:
    case EP_CONTACT_REQUEST_DECLINED:
    case EP_CONTACT_REQUEST_BLOCKED:
    default:
      break;
    }
}

static EpContact *
pending_contact (EpNode        *self,
                 const guint8  *key,
                 GError       **error)
{
  char hex[65];
  EpContact *contact;

  sodium_bin2hex (hex, sizeof hex, key, 32);
  contact = ep_contact_list_lookup (self->contacts, hex);
  if (contact == NULL
      || ep_contact_get_request_state (contact) != EP_CONTACT_REQUEST_INCOMING_PENDING)
    {
      g_set_error (error, EP_NODE_ERROR, EP_NODE_ERROR_NOT_PENDING,
                   _("Nobody with that key is waiting for an answer"));
      return NULL;
    }
  return contact;
}

/**
 * ep_node_add_contact:
 * @contact_id: a contact ID as the other side shows it
 * @text: (nullable): a short text for the request
 *
 * Adds the contact, pending, and asks it; answering a request that one
 * asked us already accepts it.
 *
 * Returns: (transfer none): the contact
 */
EpContact *
ep_node_add_contact (EpNode      *self,
                     const char  *contact_id,
                     const char  *text,
                     GError     **error)
{
  g_autoptr(EpContact) contact = NULL;
  guint8 key[32];
  guint32 nospam;
  EpContact *existing;
  EpNodePeer *peer;
  char hex[65];

  g_return_val_if_fail (EP_IS_NODE (self), NULL);
  g_return_val_if_fail (contact_id != NULL, NULL);

  if (!ep_contact_id_parse (contact_id, key, &nospam, error))
    return NULL;
  if (memcmp (key, ep_identity_get_public_key (self->identity), 32) == 0)
    {
      g_set_error (error, EP_NODE_ERROR, EP_NODE_ERROR_SELF,
                   _("That is your own contact ID"));
      return NULL;
    }
  if (text != NULL && strlen (text) > EP_FRAME_MAX_REQUEST_TEXT)
    {
      g_set_error (error, EP_NODE_ERROR, EP_NODE_ERROR_INVALID,
                   _("The request text is at most %d bytes"), EP_FRAME_MAX_REQUEST_TEXT);
      return NULL;
    }

  sodium_bin2hex (hex, sizeof hex, key, 32);
  existing = ep_contact_list_lookup (self->contacts, hex);
  if (existing != NULL)
    switch (ep_contact_get_request_state (existing))
      {
      case EP_CONTACT_REQUEST_INCOMING_PENDING:
        return ep_node_accept_request (self, key, error);
      case EP_CONTACT_REQUEST_ACCEPTED:
      case EP_CONTACT_REQUEST_OUTGOING_PENDING:
        g_set_error (error, EP_NODE_ERROR, EP_NODE_ERROR_EXISTS,
                     _("That contact is in your list already"));
        return NULL;
      case EP_CONTACT_REQUEST_NONE:
      case EP_CONTACT_REQUEST_DECLINED:
      case EP_CONTACT_REQUEST_BLOCKED:
      default:
        contact = g_object_ref (existing);
        break;
      }
  else
    {
      contact = ep_contact_new (key);
      ep_contact_set_last_activity (contact, g_get_real_time ());
    }

  ep_contact_set_nospam (contact, TRUE, nospam);
  ep_contact_set_request_state (contact, EP_CONTACT_REQUEST_OUTGOING_PENDING);
  if (existing == NULL)
    ep_contact_list_add (self->contacts, contact);
  save_contact (self, contact);

  peer = ep_node_peer_lookup (self, key);
  if (peer != NULL && peer->stranger)
    {
      peer->stranger = FALSE;
      if (peer->session != NULL && ep_session_get_remote_address (peer->session) != NULL)
        {
          g_clear_object (&peer->address);
          peer->address = g_object_ref (ep_session_get_remote_address (peer->session));
        }
      ep_node_peer_update_presence (peer);
    }
  peer = ep_node_peer_ensure (self, key);
  g_free (peer->request_text);
  peer->request_text = g_strdup (text);
  peer->next_request = 0;
  if (ep_node_peer_is_up (peer))
    ep_node_requests_pump (peer, g_get_monotonic_time ());
  else
    ep_node_connect_soon (self, peer);

  return ep_contact_list_lookup (self->contacts, hex);
}

/** ep_node_accept_request: Returns: (transfer none): the contact, now accepted */
EpContact *
ep_node_accept_request (EpNode        *self,
                        const guint8   key[32],
                        GError       **error)
{
  EpContact *contact;
  EpNodePeer *peer;

  g_return_val_if_fail (EP_IS_NODE (self), NULL);

  contact = pending_contact (self, key, error);
  if (contact == NULL)
    return NULL;

  ep_contact_set_request_state (contact, EP_CONTACT_REQUEST_ACCEPTED);
  save_contact (self, contact);
  peer = ep_node_peer_ensure (self, key);
  peer->stranger = FALSE;
  peer->answer_accept = TRUE;
  peer->profile_sent = FALSE;
  if (ep_node_peer_is_up (peer))
    {
      ep_node_requests_pump (peer, g_get_monotonic_time ());
      ep_node_delivery_pump (peer, g_get_monotonic_time ());
    }
  else
    ep_node_connect_soon (self, peer);
  return contact;
}

gboolean
ep_node_decline_request (EpNode        *self,
                         const guint8   key[32],
                         GError       **error)
{
  EpContact *contact;
  EpNodePeer *peer;
  char hex[65];

  g_return_val_if_fail (EP_IS_NODE (self), FALSE);

  contact = pending_contact (self, key, error);
  if (contact == NULL)
    return FALSE;

  peer = ep_node_peer_lookup (self, key);
  if (peer != NULL)
    {
      answer (peer, EP_FRAME_REQUEST_DECLINED);
      forget_peer (peer);
    }
  sodium_bin2hex (hex, sizeof hex, key, 32);
  ep_contact_list_remove (self->contacts, hex);
  ep_store_delete_contact_async (self->store, key, NULL, on_contact_deleted, NULL);
  return TRUE;
}

/* Blocks @key, a contact or not: its sessions are refused from now on. */
gboolean
ep_node_block_contact (EpNode        *self,
                       const guint8   key[32],
                       GError       **error)
{
  g_autoptr(EpContact) contact = NULL;
  EpNodePeer *peer;
  char hex[65];

  g_return_val_if_fail (EP_IS_NODE (self), FALSE);

  sodium_bin2hex (hex, sizeof hex, key, 32);
  contact = ep_contact_list_lookup (self->contacts, hex);
  if (contact != NULL)
    g_object_ref (contact);
  else
    {
      contact = ep_contact_new (key);
      ep_contact_list_add (self->contacts, contact);
    }
  ep_contact_set_request_state (contact, EP_CONTACT_REQUEST_BLOCKED);
  ep_contact_set_presence (contact, EP_CONTACT_PRESENCE_OFFLINE);
  save_contact (self, contact);

  peer = ep_node_peer_lookup (self, key);
  if (peer != NULL)
    forget_peer (peer);
  return TRUE;
}

/**
 * ep_node_remove_contact:
 * @key: the key of a contact in any state
 *
 * Forgets the contact: its session is closed, and the contact, its
 * messages and its outbox go from the store in one transaction (done by the
 * store's worker; the contact leaves the list model at once). From then on
 * the key is a stranger again: a request from it is a new request.
 *
 * Returns: %FALSE with %EP_NODE_ERROR_UNKNOWN_CONTACT when it is not in the list
 */
gboolean
ep_node_remove_contact (EpNode        *self,
                        const guint8   key[32],
                        GError       **error)
{
  EpNodePeer *peer;
  char hex[65];

  g_return_val_if_fail (EP_IS_NODE (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  sodium_bin2hex (hex, sizeof hex, key, 32);
  if (ep_contact_list_lookup (self->contacts, hex) == NULL)
    {
      g_set_error (error, EP_NODE_ERROR, EP_NODE_ERROR_UNKNOWN_CONTACT,
                   _("That key is not one of your contacts"));
      return FALSE;
    }

  peer = ep_node_peer_lookup (self, key);
  if (peer != NULL)
    {
      peer->typing_in_until = 0;
      forget_peer (peer);
    }
  ep_contact_list_remove (self->contacts, hex);
  ep_store_delete_contact_async (self->store, key, NULL, on_contact_deleted, NULL);
  return TRUE;
}

/* A new nospam: requests made with our old contact ID are dropped from now on. */
gboolean
ep_node_reset_nospam (EpNode  *self,
                      GError **error)
{
  g_return_val_if_fail (EP_IS_NODE (self), FALSE);
  return ep_identity_reset_nospam (self->identity, error);
}
