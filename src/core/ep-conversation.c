/* ep-conversation.c — one contact's messages as a paged GListModel
 *
 * Holds a window of the conversation: the newest page when opened, growing
 * backwards one page per ep_conversation_load_older_async (). New messages
 * come from the store's signals and land at their place in (Lamport,
 * sender key, id) order, so a late message whose stamp is older appears
 * where it belongs, not at the end. A message older than the window while
 * older pages remain is left for paging to bring.
 *
 * Items live in a GSequence: position lookups and ordered inserts are
 * O(log n) even after paging through a long history.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ep-conversation.h"

enum {
  PROP_0,
  PROP_STORE,
  PROP_CONTACT_KEY,
  PROP_PAGE_SIZE,
  PROP_HAS_OLDER,
  PROP_LOADING,
  PROP_N_ITEMS,
  N_PROPS
};

struct _EpConversation
{
  GObject      parent_instance;

  EpStore     *store;
  guint8       contact_key[EP_MESSAGE_KEY_SIZE];
  char         contact_hex[EP_MESSAGE_KEY_SIZE * 2 + 1];
  GSequence   *items;     /* EpMessage, conversation order */
  GHashTable  *index;     /* EpMessage (by sender, id) → GSequenceIter */
  GPtrArray   *pending;   /* messages that arrived while a page was loading */
  guint        page_size;
  gboolean     has_older;
  gboolean     loading;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (EpConversation, ep_conversation, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static GParamSpec *properties[N_PROPS];

/* The index is keyed by the messages themselves, by (sender, id): no
 * allocation per message, which counts in a 100 000-message history. */
static guint
message_hash (gconstpointer key)
{
  const guint8 *id = ep_message_get_id_bytes ((EpMessage *) key);
  const guint8 *sender = ep_message_get_sender_key_bytes ((EpMessage *) key);
  guint32 h = 2166136261u;

  /* FNV-1a over every byte: a peer picks its ids and must not be able
   * to make them collide. */
  for (guint i = 0; i < EP_MESSAGE_ID_SIZE; i++)
    h = (h ^ id[i]) * 16777619u;
  for (guint i = 0; i < EP_MESSAGE_KEY_SIZE; i++)
    h = (h ^ sender[i]) * 16777619u;
  return h;
}

static gboolean
message_equal (gconstpointer a,
               gconstpointer b)
{
  EpMessage *ma = (EpMessage *) a;
  EpMessage *mb = (EpMessage *) b;

  return memcmp (ep_message_get_id_bytes (ma), ep_message_get_id_bytes (mb),
                 EP_MESSAGE_ID_SIZE) == 0 &&
         memcmp (ep_message_get_sender_key_bytes (ma), ep_message_get_sender_key_bytes (mb),
                 EP_MESSAGE_KEY_SIZE) == 0;
}

static gboolean
hex_to_bytes (const char *hex,
              guint8     *out,
              gsize       len)
{
  if (hex == NULL || strlen (hex) != 2 * len)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      out[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
}

static GSequenceIter *
find_iter (EpConversation *self,
           const guint8   *sender_key,
           const char     *id_hex)
{
  g_autoptr(EpMessage) probe = NULL;
  guint8 id[EP_MESSAGE_ID_SIZE];

  if (!hex_to_bytes (id_hex, id, sizeof id))
    return NULL;
  probe = ep_message_new (id, self->contact_key, sender_key, FALSE, "", 0, 0,
                          EP_MESSAGE_STATUS_QUEUED, 0);
  return g_hash_table_lookup (self->index, probe);
}

static int
compare_messages (gconstpointer a,
                  gconstpointer b,
                  gpointer      user_data)
{
  return ep_message_compare ((EpMessage *) a, (EpMessage *) b);
}

static void
set_loading (EpConversation *self,
             gboolean        loading)
{
  if (self->loading == loading)
    return;
  self->loading = loading;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

static void
set_has_older (EpConversation *self,
               gboolean        has_older)
{
  if (self->has_older == has_older)
    return;
  self->has_older = has_older;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_OLDER]);
}

static EpMessage *
first_message (EpConversation *self)
{
  GSequenceIter *begin = g_sequence_get_begin_iter (self->items);

  return g_sequence_iter_is_end (begin) ? NULL : g_sequence_get (begin);
}

/* Inserts @message at its place unless present or before the window while
 * older pages remain. Returns whether it went in; emits items-changed. */
static gboolean
insert_message (EpConversation *self,
                EpMessage      *message)
{
  EpMessage *first = first_message (self);
  GSequenceIter *iter;

  if (g_hash_table_contains (self->index, message))
    return FALSE;
  if (self->has_older && (first == NULL || ep_message_compare (message, first) < 0))
    return FALSE;

  iter = g_sequence_insert_sorted (self->items, g_object_ref (message), compare_messages, NULL);
  g_hash_table_insert (self->index, g_sequence_get (iter), iter);
  g_list_model_items_changed (G_LIST_MODEL (self), g_sequence_iter_get_position (iter), 0, 1);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
  return TRUE;
}

static void
flush_pending (EpConversation *self)
{
  g_autoptr(GPtrArray) pending = g_steal_pointer (&self->pending);

  self->pending = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < pending->len; i++)
    insert_message (self, g_ptr_array_index (pending, i));
}

/* @page is in conversation order and entirely before the window. */
static guint
prepend_page (EpConversation *self,
              GPtrArray      *page)
{
  GSequenceIter *begin = g_sequence_get_begin_iter (self->items);
  guint added = 0;

  for (guint i = 0; i < page->len; i++)
    {
      EpMessage *message = g_ptr_array_index (page, i);
      GSequenceIter *iter;

      if (g_hash_table_contains (self->index, message))
        continue;
      iter = g_sequence_insert_before (begin, g_object_ref (message));
      g_hash_table_insert (self->index, message, iter);
      added++;
    }

  set_has_older (self, page->len >= self->page_size);
  if (added > 0)
    {
      g_list_model_items_changed (G_LIST_MODEL (self), 0, 0, added);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
    }
  return added;
}

static void
on_message_added (EpStore        *store,
                  EpMessage      *message,
                  EpConversation *self)
{
  if (memcmp (ep_message_get_contact_key_bytes (message), self->contact_key,
              EP_MESSAGE_KEY_SIZE) != 0)
    return;

  /* The page in flight may or may not hold it; decide when it lands. */
  if (self->loading)
    g_ptr_array_add (self->pending, g_object_ref (message));
  else
    insert_message (self, message);
}

/* The store's jobs finish in order, but the node sets statuses on the same
 * objects as it goes: a "sent" recorded just before the ack may be
 * announced after the object became "delivered". Statuses only advance. */
static void
advance_status (EpMessage       *message,
                EpMessageStatus  status)
{
  EpMessageStatus current = ep_message_get_status (message);

  if (current == EP_MESSAGE_STATUS_DELIVERED
      || (current == EP_MESSAGE_STATUS_SENT && status == EP_MESSAGE_STATUS_QUEUED))
    return;
  ep_message_set_status (message, status);
}

static void
on_message_status_changed (EpStore         *store,
                           const char      *contact_key,
                           const char      *id,
                           EpMessageStatus  status,
                           EpConversation  *self)
{
  GSequenceIter *iter;

  if (g_strcmp0 (contact_key, self->contact_hex) != 0)
    return;

  iter = find_iter (self, ep_store_get_own_key (store), id);
  if (iter != NULL)
    advance_status (g_sequence_get (iter), status);
  for (guint i = 0; i < self->pending->len; i++)
    {
      EpMessage *message = g_ptr_array_index (self->pending, i);

      if (ep_message_get_outgoing (message) && strcmp (ep_message_get_id (message), id) == 0)
        advance_status (message, status);
    }
}

/* ---- GListModel ------------------------------------------------------ */

static GType
ep_conversation_get_item_type (GListModel *model)
{
  return EP_TYPE_MESSAGE;
}

static guint
ep_conversation_get_n_items (GListModel *model)
{
  return (guint) g_sequence_get_length (EP_CONVERSATION (model)->items);
}

static gpointer
ep_conversation_get_item (GListModel *model,
                          guint       position)
{
  EpConversation *self = EP_CONVERSATION (model);
  GSequenceIter *iter;

  if (position >= (guint) g_sequence_get_length (self->items))
    return NULL;
  iter = g_sequence_get_iter_at_pos (self->items, (int) position);
  return g_object_ref (g_sequence_get (iter));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = ep_conversation_get_item_type;
  iface->get_n_items = ep_conversation_get_n_items;
  iface->get_item = ep_conversation_get_item;
}

/* ---- GObject --------------------------------------------------------- */

static void
ep_conversation_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  EpConversation *self = EP_CONVERSATION (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;
    case PROP_CONTACT_KEY:
      g_value_set_string (value, self->contact_hex);
      break;
    case PROP_PAGE_SIZE:
      g_value_set_uint (value, self->page_size);
      break;
    case PROP_HAS_OLDER:
      g_value_set_boolean (value, self->has_older);
      break;
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, ep_conversation_get_n_items (G_LIST_MODEL (self)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ep_conversation_dispose (GObject *object)
{
  EpConversation *self = EP_CONVERSATION (object);

  if (self->store != NULL)
    g_signal_handlers_disconnect_by_data (self->store, self);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (ep_conversation_parent_class)->dispose (object);
}

static void
ep_conversation_finalize (GObject *object)
{
  EpConversation *self = EP_CONVERSATION (object);

  g_clear_pointer (&self->index, g_hash_table_unref);
  g_clear_pointer (&self->items, g_sequence_free);
  g_clear_pointer (&self->pending, g_ptr_array_unref);

  G_OBJECT_CLASS (ep_conversation_parent_class)->finalize (object);
}

static void
ep_conversation_class_init (EpConversationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = ep_conversation_get_property;
  object_class->dispose = ep_conversation_dispose;
  object_class->finalize = ep_conversation_finalize;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL, EP_TYPE_STORE, ro);
  properties[PROP_CONTACT_KEY] =
    g_param_spec_string ("contact-key", NULL, NULL, NULL, ro);
  properties[PROP_PAGE_SIZE] =
    g_param_spec_uint ("page-size", NULL, NULL, 1, G_MAXUINT,
                       EP_CONVERSATION_DEFAULT_PAGE_SIZE, ro);
  properties[PROP_HAS_OLDER] =
    g_param_spec_boolean ("has-older", NULL, NULL, TRUE, ro);
  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE, ro);
  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ep_conversation_init (EpConversation *self)
{
  self->items = g_sequence_new (g_object_unref);
  self->index = g_hash_table_new (message_hash, message_equal);
  self->pending = g_ptr_array_new_with_free_func (g_object_unref);
  self->page_size = EP_CONVERSATION_DEFAULT_PAGE_SIZE;
  self->has_older = TRUE;
}

/* ---- loading --------------------------------------------------------- */

static void
on_page_loaded (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EpConversation *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) page = NULL;
  guint added;

  page = ep_store_load_messages_finish (EP_STORE (source), result, &error);
  set_loading (self, FALSE);
  if (page == NULL)
    {
      flush_pending (self);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  added = prepend_page (self, page);
  flush_pending (self);
  g_task_return_int (task, added);
}

static void
load_page (EpConversation *self,
           GTask          *task)
{
  set_loading (self, TRUE);
  ep_store_load_messages_async (self->store, self->contact_key, first_message (self),
                                self->page_size, g_task_get_cancellable (task),
                                on_page_loaded, task);
}

/**
 * ep_conversation_load_older_async:
 *
 * Loads the page before the first message held. Finish returns how many
 * messages were added; #EpConversation:has-older turns %FALSE once the
 * first message of the conversation is held. Fails with
 * %G_IO_ERROR_PENDING while another page is loading.
 */
void
ep_conversation_load_older_async (EpConversation      *self,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (EP_IS_CONVERSATION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ep_conversation_load_older_async);

  if (self->loading)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               _("Older messages are already loading"));
      return;
    }
  if (!self->has_older)
    {
      g_task_return_int (task, 0);
      return;
    }

  load_page (self, g_steal_pointer (&task));
}

guint
ep_conversation_load_older_finish (EpConversation  *self,
                                   GAsyncResult    *result,
                                   GError         **error)
{
  gssize added;

  g_return_val_if_fail (EP_IS_CONVERSATION (self), 0);
  g_return_val_if_fail (g_task_is_valid (result, self), 0);

  added = g_task_propagate_int (G_TASK (result), error);
  return added < 0 ? 0 : (guint) added;
}

static void
on_opened (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  EpConversation *self = EP_CONVERSATION (source);

  ep_conversation_load_older_finish (self, result, &error);
  if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, g_object_ref (self), g_object_unref);
}

/**
 * ep_conversation_open_async:
 * @store: the profile's store
 * @contact_key: (array fixed-size=32): the contact whose conversation it is
 * @page_size: messages per page, 0 for the default
 *
 * Makes a conversation model and loads its newest page; it then follows
 * the store for new messages and status changes.
 */
void
ep_conversation_open_async (EpStore             *store,
                            const guint8        *contact_key,
                            guint                page_size,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(EpConversation) self = NULL;
  GTask *task;

  g_return_if_fail (EP_IS_STORE (store));
  g_return_if_fail (contact_key != NULL);

  self = g_object_new (EP_TYPE_CONVERSATION, NULL);
  self->store = g_object_ref (store);
  memcpy (self->contact_key, contact_key, EP_MESSAGE_KEY_SIZE);
  for (guint i = 0; i < EP_MESSAGE_KEY_SIZE; i++)
    g_snprintf (self->contact_hex + 2 * i, 3, "%02x", contact_key[i]);
  if (page_size > 0)
    self->page_size = page_size;
  g_signal_connect (store, "message-added", G_CALLBACK (on_message_added), self);
  g_signal_connect (store, "message-status-changed",
                    G_CALLBACK (on_message_status_changed), self);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ep_conversation_open_async);
  ep_conversation_load_older_async (self, cancellable, on_opened, task);
}

/** ep_conversation_open_finish: Returns: (transfer full): the conversation */
EpConversation *
ep_conversation_open_finish (GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/** ep_conversation_get_store: Returns: (transfer none) */
EpStore *
ep_conversation_get_store (EpConversation *self)
{
  g_return_val_if_fail (EP_IS_CONVERSATION (self), NULL);
  return self->store;
}

const char *
ep_conversation_get_contact_key (EpConversation *self)
{
  g_return_val_if_fail (EP_IS_CONVERSATION (self), NULL);
  return self->contact_hex;
}

guint
ep_conversation_get_page_size (EpConversation *self)
{
  g_return_val_if_fail (EP_IS_CONVERSATION (self), 0);
  return self->page_size;
}

/** ep_conversation_get_has_older: Returns: %FALSE once the first message is held */
gboolean
ep_conversation_get_has_older (EpConversation *self)
{
  g_return_val_if_fail (EP_IS_CONVERSATION (self), FALSE);
  return self->has_older;
}

gboolean
ep_conversation_get_loading (EpConversation *self)
{
  g_return_val_if_fail (EP_IS_CONVERSATION (self), FALSE);
  return self->loading;
}

/**
 * ep_conversation_lookup:
 * @sender_key: hex key of the author
 * @id: hex message id
 *
 * Returns: (transfer none) (nullable): the message if held
 */
EpMessage *
ep_conversation_lookup (EpConversation *self,
                        const char     *sender_key,
                        const char     *id)
{
  guint8 sender[EP_MESSAGE_KEY_SIZE];
  GSequenceIter *iter;

  g_return_val_if_fail (EP_IS_CONVERSATION (self), NULL);
  g_return_val_if_fail (sender_key != NULL && id != NULL, NULL);

  if (!hex_to_bytes (sender_key, sender, sizeof sender))
    return NULL;
  iter = find_iter (self, sender, id);
  return iter != NULL ? g_sequence_get (iter) : NULL;
}

/**
 * ep_conversation_add_message:
 * @message: a message of this conversation, already stored
 *
 * Inserts @message at its place, as the store's #EpStore::message-added
 * does on its own; for messages that came another way.
 *
 * Returns: %TRUE when it was added (not held yet and within the window)
 */
gboolean
ep_conversation_add_message (EpConversation *self,
                             EpMessage      *message)
{
  g_return_val_if_fail (EP_IS_CONVERSATION (self), FALSE);
  g_return_val_if_fail (EP_IS_MESSAGE (message), FALSE);

  if (memcmp (ep_message_get_contact_key_bytes (message), self->contact_key,
              EP_MESSAGE_KEY_SIZE) != 0)
    return FALSE;
  if (self->loading)
    {
      g_ptr_array_add (self->pending, g_object_ref (message));
      return TRUE;
    }
  return insert_message (self, message);
}
