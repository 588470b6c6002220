/* ep-node-delivery.c — the outbox on the wire, and frames coming in
 *
 * Sending: each peer holds its outbox in Lamport order. While its session
 * is up, the oldest EP_NODE_WINDOW messages are in flight: each is sent,
 * then sent again after retransmit_ms, doubling up to retransmit_max_ms,
 * until an ack or receipt names it; then the store marks it delivered and
 * drops its outbox row. A new session sends everything in the window at
 * once. The first transmission moves a message from queued to sent.
 *
 * Receiving: a message is stored (the store drops duplicates by id) and
 * only then acknowledged, so an ack means it survives a crash. Acks are
 * gathered for one main-loop round and go out as one receipt.
 *
 * Typing: our "typing" frames are rate-limited here, and a contact's
 * typing state is kept with a deadline that the node's tick enforces.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-node-private.h"

#define TYPING_REFRESH_MS 3000
#define TYPING_TIMEOUT_MS 6000

typedef struct
{
  EpNode *node;
  guint8  key[32];
} PeerRef;

static PeerRef *
peer_ref_new (EpNodePeer *peer)
{
  PeerRef *ref = g_new (PeerRef, 1);

  ref->node = g_object_ref (peer->node);
  memcpy (ref->key, peer->key, 32);
  return ref;
}

static void
peer_ref_free (PeerRef *ref)
{
  g_object_unref (ref->node);
  g_free (ref);
}

void
ep_node_out_item_free (EpNodeOutItem *item)
{
  g_object_unref (item->message);
  g_free (item);
}

static void
outbox_add (EpNodePeer *peer,
            EpMessage  *message,
            guint       attempts)
{
  EpNodeOutItem *item;

  if (g_hash_table_contains (peer->outbox_ids, ep_message_get_id (message)))
    return;
  item = g_new0 (EpNodeOutItem, 1);
  item->message = g_object_ref (message);
  item->attempts = attempts;
  g_queue_push_tail (&peer->outbox, item);
  g_hash_table_insert (peer->outbox_ids, (gpointer) ep_message_get_id (message),
                       g_queue_peek_tail_link (&peer->outbox));
}

/* A message just stored in the outbox joins the peer's queue. */
void
ep_node_delivery_queue (EpNodePeer *peer,
                        EpMessage  *message)
{
  outbox_add (peer, message, 0);
}

static void
on_outbox_loaded (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EpNode *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = NULL;

  items = ep_store_load_outbox_finish (EP_STORE (source), result, &error);
  if (items == NULL)
    {
      ep_node_stop (self);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (self->udp == NULL)
    {
      g_task_return_new_error (task, EP_NODE_ERROR, EP_NODE_ERROR_NOT_STARTED,
                               _("The node was stopped while starting"));
      return;
    }

  for (guint i = 0; i < items->len; i++)
    {
      EpStoreOutboxItem *item = g_ptr_array_index (items, i);
      EpNodePeer *peer = ep_node_peer_lookup (self,
                                              ep_message_get_contact_key_bytes (item->message));

      if (peer != NULL)
        outbox_add (peer, item->message, item->attempts);
    }

  ep_node_finish_start (self);
  g_task_return_boolean (task, TRUE);
}

/* The last step of starting: what was still unsent when we stopped. */
void
ep_node_delivery_load_outbox (EpNode *self,
                              GTask  *task)
{
  ep_store_load_outbox_async (self->store, NULL, g_task_get_cancellable (task),
                              on_outbox_loaded, task);
}

void
ep_node_delivery_session_up (EpNodePeer *peer)
{
  for (GList *l = peer->outbox.head; l != NULL; l = l->next)
    ((EpNodeOutItem *) l->data)->next_attempt = 0;
}

static gboolean
contact_accepted (EpNodePeer *peer)
{
  EpContact *contact = ep_contact_list_lookup (peer->node->contacts, peer->hex);

  return contact != NULL
         && ep_contact_get_request_state (contact) == EP_CONTACT_REQUEST_ACCEPTED;
}

static void
on_attempt_recorded (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!ep_store_outbox_attempted_finish (EP_STORE (source), result, &error)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("Could not record a transmission: %s", error->message);
}

static void
send_item (EpNodePeer    *peer,
           EpNodeOutItem *item,
           gint64         now)
{
  EpNode *self = peer->node;
  EpMessage *message = item->message;
  g_autoptr(EpFrame) frame = NULL;
  guint64 rto;

  frame = ep_frame_new_message (ep_message_get_id_bytes (message),
                                ep_message_get_sender_time (message),
                                ep_message_get_lamport (message),
                                ep_message_get_text (message));
  {
    const guint8 *id = ep_message_get_id_bytes (message);
    guint32 local_id = 0x80000000u | ((guint32) id[0] << 24 | (guint32) id[1] << 16
                                      | (guint32) id[2] << 8 | id[3]);

    if (!ep_node_peer_send_frame_as (peer, frame, local_id))
      return;
  }

  self->counters.messages_sent++;
  if (item->attempts > 0)
    self->counters.messages_retransmitted++;
  item->attempts++;
  rto = (guint64) self->timing.retransmit_ms << MIN (item->attempts - 1, 16u);
  rto = MIN (rto, self->timing.retransmit_max_ms);
  item->next_attempt = now + (gint64) rto * 1000;

  if (ep_message_get_status (message) == EP_MESSAGE_STATUS_QUEUED)
    {
      ep_message_set_status (message, EP_MESSAGE_STATUS_SENT);
      ep_store_outbox_attempted_async (self->store, ep_message_get_id_bytes (message),
                                       g_get_real_time () + (gint64) rto * 1000,
                                       self->cancellable, on_attempt_recorded, NULL);
    }
}

/* Sends what is due in the window. */
void
ep_node_delivery_pump (EpNodePeer *peer,
                       gint64      now)
{
  guint n = 0;
  gsize bytes = 0;

  if (!ep_node_peer_is_up (peer) || !contact_accepted (peer))
    return;

  for (GList *l = peer->outbox.head;
       l != NULL && n < EP_NODE_WINDOW && bytes < EP_NODE_WINDOW_BYTES;
       l = l->next, n++)
    {
      EpNodeOutItem *item = l->data;

      bytes += strlen (ep_message_get_text (item->message));
      if (now >= item->next_attempt)
        send_item (peer, item, now);
    }
}

static void
on_delivered_recorded (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!ep_store_set_message_status_finish (EP_STORE (source), result, &error)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("Could not record a delivery: %s", error->message);
}

static void
delivered (EpNodePeer   *peer,
           const guint8 *id)
{
  EpNode *self = peer->node;
  char hex[EP_MESSAGE_ID_SIZE * 2 + 1];
  GList *link;
  EpNodeOutItem *item;

  sodium_bin2hex (hex, sizeof hex, id, EP_MESSAGE_ID_SIZE);
  link = g_hash_table_lookup (peer->outbox_ids, hex);
  if (link == NULL)
    return;   /* an ack repeated, or for a message delivered before */

  item = link->data;
  g_hash_table_remove (peer->outbox_ids, hex);
  g_queue_delete_link (&peer->outbox, link);
  ep_message_set_status (item->message, EP_MESSAGE_STATUS_DELIVERED);
  ep_store_set_message_status_async (self->store, id, EP_MESSAGE_STATUS_DELIVERED,
                                     self->cancellable, on_delivered_recorded, NULL);
  ep_node_out_item_free (item);
}

static gboolean
on_flush_acks (gpointer user_data)
{
  EpNode *self = user_data;

  g_clear_pointer (&self->ack_flush, g_source_unref);
  ep_node_delivery_flush_acks (self);
  return G_SOURCE_REMOVE;
}

void
ep_node_delivery_flush_acks (EpNode *self)
{
  GHashTableIter iter;
  EpNodePeer *peer;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &peer))
    {
      guint n_new = peer->acks->len;

      if (n_new == 0)
        continue;

      /* Each id goes out in two receipts, so that one lost datagram does not
       * cost a retransmission of everything it acknowledged. */
      g_array_append_vals (peer->acks, peer->acked->data, peer->acked->len);
      for (guint done = 0; done < peer->acks->len;)
        {
          guint n = MIN (peer->acks->len - done, EP_FRAME_MAX_RECEIPT_IDS);
          g_autoptr(EpFrame) frame = NULL;
          const guint8 *ids = (const guint8 *) peer->acks->data + done * EP_FRAME_ID_SIZE;

          if (n == 1)
            frame = ep_frame_new_ack (ids);
          else
            {
              frame = ep_frame_new (EP_FRAME_RECEIPT);
              frame->receipt_ids = g_memdup2 (ids, (gsize) n * EP_FRAME_ID_SIZE);
              frame->n_receipt_ids = n;
            }
          /* Lost acks are fine: the message comes again and is acked again. */
          ep_node_peer_send_frame (peer, frame);
          done += n;
        }
      g_array_set_size (peer->acked, 0);
      g_array_append_vals (peer->acked, peer->acks->data, n_new);
      g_array_set_size (peer->acks, 0);
    }
}

static void
on_message_stored (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  PeerRef *ref = user_data;
  EpNode *self = ref->node;
  g_autoptr(GError) error = NULL;
  g_autoptr(EpMessage) message = NULL;
  gboolean duplicate = FALSE;
  EpNodePeer *peer;

  message = ep_store_receive_message_finish (EP_STORE (source), result, &duplicate, &error);
  if (message == NULL)
    {
      /* Not acked: the sender tries again. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Could not store a received message: %s", error->message);
      peer_ref_free (ref);
      return;
    }

  peer = ep_node_peer_lookup (self, ref->key);
  if (peer != NULL)
    {
      g_array_append_vals (peer->acks, ep_message_get_id_bytes (message), 1);
      if (self->ack_flush == NULL && self->started)
        {
          self->ack_flush = g_idle_source_new ();
          g_source_set_priority (self->ack_flush, G_PRIORITY_DEFAULT);
          g_source_set_callback (self->ack_flush, on_flush_acks, self, NULL);
          g_source_set_static_name (self->ack_flush, "[ep-node] acks");
          g_source_attach (self->ack_flush, g_main_context_get_thread_default ());
        }
    }

  if (duplicate)
    self->counters.messages_duplicate++;
  else
    {
      /* What they were typing has arrived. */
      if (peer != NULL)
        ep_node_typing_clear (peer);
      self->counters.messages_received++;
      g_signal_emit (self, ep_node_signals[EP_NODE_SIGNAL_MESSAGE_RECEIVED], 0, message);
    }
  peer_ref_free (ref);
}

static void
receive_message (EpNodePeer    *peer,
                 const EpFrame *frame)
{
  EpNode *self = peer->node;

  if (!contact_accepted (peer))
    {
      self->counters.frames_ignored++;
      return;
    }
  ep_store_receive_message_async (self->store, peer->key, frame->id, frame->timestamp,
                                  frame->lamport, frame->text, self->cancellable,
                                  on_message_stored, peer_ref_new (peer));
}

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
receive_profile (EpNodePeer    *peer,
                 const EpFrame *frame)
{
  EpContact *contact = ep_contact_list_lookup (peer->node->contacts, peer->hex);

  /* From a contact we asked, too: its profile may overtake its answer. */
  if (contact == NULL
      || (!contact_accepted (peer)
          && ep_contact_get_request_state (contact) != EP_CONTACT_REQUEST_OUTGOING_PENDING))
    {
      peer->node->counters.frames_ignored++;
      return;
    }
  if (frame->name != NULL)
    ep_contact_set_name (contact, frame->name);
  if (frame->status_text != NULL)
    ep_contact_set_status_text (contact, frame->status_text);
  ep_store_save_contact_async (peer->node->store, contact, peer->node->cancellable,
                               on_contact_saved, NULL);
}

/* Typing */

static gint64
typing_refresh_us (EpNode *self)
{
  return (gint64) (self->timing.typing_refresh_ms > 0 ? self->timing.typing_refresh_ms
                                                      : TYPING_REFRESH_MS) * 1000;
}

static gint64
typing_timeout_us (EpNode *self)
{
  return (gint64) (self->timing.typing_timeout_ms > 0 ? self->timing.typing_timeout_ms
                                                      : TYPING_TIMEOUT_MS) * 1000;
}

static gboolean
send_typing (EpNodePeer *peer,
             gboolean    active)
{
  g_autoptr(EpFrame) frame = ep_frame_new (EP_FRAME_TYPING);

  frame->active = active;
  return ep_node_peer_send_frame (peer, frame);
}

/**
 * ep_node_set_typing:
 * @key: a contact's key
 * @typing: %TRUE on each change the user makes to what they write;
 *   %FALSE when it was emptied or sent
 *
 * Tells a connected contact whether we are writing to it: a "typing"
 * frame at most every 3 s while @typing keeps coming, one "stopped" frame
 * after it. Nothing goes to anyone else, nor while not connected.
 */
void
ep_node_set_typing (EpNode       *self,
                    const guint8  key[32],
                    gboolean      typing)
{
  EpNodePeer *peer;
  gint64 now;

  g_return_if_fail (EP_IS_NODE (self));
  g_return_if_fail (key != NULL);

  peer = ep_node_peer_lookup (self, key);
  if (peer == NULL)
    return;
  if (peer->stranger || !contact_accepted (peer) || !ep_node_peer_is_up (peer))
    {
      peer->typing_out = FALSE;
      return;
    }

  now = g_get_monotonic_time ();
  if (typing)
    {
      if ((!peer->typing_out || now - peer->typing_sent >= typing_refresh_us (self))
          && send_typing (peer, TRUE))
        {
          peer->typing_out = TRUE;
          peer->typing_sent = now;
        }
    }
  else if (peer->typing_out)
    {
      peer->typing_out = FALSE;
      send_typing (peer, FALSE);
    }
}

/* Its typing is over: stopped, sent, gone offline or timed out. */
void
ep_node_typing_clear (EpNodePeer *peer)
{
  EpContact *contact = ep_contact_list_lookup (peer->node->contacts, peer->hex);

  peer->typing_in_until = 0;
  if (contact != NULL)
    ep_contact_set_typing (contact, FALSE);
}

/* From the tick: a contact that stopped refreshing stopped typing. */
void
ep_node_typing_expire (EpNodePeer *peer,
                       gint64      now)
{
  if (peer->typing_in_until != 0 && now >= peer->typing_in_until)
    ep_node_typing_clear (peer);
}

static void
receive_typing (EpNodePeer    *peer,
                const EpFrame *frame)
{
  EpContact *contact = ep_contact_list_lookup (peer->node->contacts, peer->hex);

  if (contact == NULL || !contact_accepted (peer))
    {
      peer->node->counters.frames_ignored++;
      return;
    }
  peer->node->counters.typing_received++;
  if (!frame->active)
    {
      ep_node_typing_clear (peer);
      return;
    }
  peer->typing_in_until = g_get_monotonic_time () + typing_timeout_us (peer->node);
  ep_contact_set_typing (contact, TRUE);
}

/* A session payload from @peer: a whole frame or a fragment of one. */
void
ep_node_delivery_frame (EpNodePeer *peer,
                        GBytes     *payload)
{
  EpNode *self = peer->node;
  g_autoptr(GBytes) whole = NULL;
  g_autoptr(EpFrame) frame = NULL;
  const guint8 *data;
  gsize len;

  data = g_bytes_get_data (payload, &len);
  if (ep_fragment_is_fragment (data, len))
    {
      switch (ep_fragment_assembler_push (peer->assembler, data, len, g_get_monotonic_time (),
                                          &whole, NULL))
        {
        case EP_FRAGMENT_RESULT_COMPLETE:
          data = g_bytes_get_data (whole, &len);
          break;
        case EP_FRAGMENT_RESULT_REJECTED:
          self->counters.fragments_rejected++;
          return;
        case EP_FRAGMENT_RESULT_PENDING:
        case EP_FRAGMENT_RESULT_DUPLICATE:
        default:
          return;
        }
    }

  self->counters.frames_received++;
  switch (ep_frame_parse (data, len, &frame, NULL))
    {
    case EP_FRAME_PARSE_OK:
      break;
    case EP_FRAME_PARSE_IGNORED:
      self->counters.frames_ignored++;
      return;
    case EP_FRAME_PARSE_MALFORMED:
    default:
      self->counters.frames_malformed++;
      return;
    }

  if (peer->stranger && frame->type != EP_FRAME_REQUEST)
    {
      self->counters.frames_ignored++;
      return;
    }

  switch (frame->type)
    {
    case EP_FRAME_MESSAGE:
      receive_message (peer, frame);
      break;
    case EP_FRAME_ACK:
      delivered (peer, frame->id);
      ep_node_delivery_pump (peer, g_get_monotonic_time ());
      break;
    case EP_FRAME_RECEIPT:
      for (guint i = 0; i < frame->n_receipt_ids; i++)
        delivered (peer, frame->receipt_ids + (gsize) i * EP_FRAME_ID_SIZE);
      ep_node_delivery_pump (peer, g_get_monotonic_time ());
      break;
    case EP_FRAME_PROFILE:
      receive_profile (peer, frame);
      break;
    case EP_FRAME_REQUEST:
    case EP_FRAME_REQUEST_ACCEPTED:
    case EP_FRAME_REQUEST_DECLINED:
      ep_node_requests_frame (peer, frame);
      break;
    case EP_FRAME_TYPING:
      receive_typing (peer, frame);
      break;
    case EP_FRAME_KEEPALIVE:
    default:
      break;
    }
}
