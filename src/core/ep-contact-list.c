/* ep-contact-list.c — the contacts of a profile as a sorted GListModel
 *
 * Sorted by last activity, newest first (then name, then key, so the order
 * is total). A contact whose activity changes moves, announced as a removal
 * at its old place and an insertion at its new one. The list follows the
 * store's #EpStore::message-added: the contact's last message, activity
 * and unread count change as the store changed them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "ep-contact-list.h"

struct _EpContactList
{
  GObject     parent_instance;

  EpStore    *store;
  GPtrArray  *items;   /* EpContact, sorted */
  GHashTable *by_key;  /* hex key → EpContact (borrowed from items) */
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (EpContactList, ep_contact_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static int
compare_contacts (EpContact *a,
                  EpContact *b)
{
  gint64 ta = ep_contact_get_last_activity (a);
  gint64 tb = ep_contact_get_last_activity (b);
  int r;

  if (ta != tb)
    return ta > tb ? -1 : 1;
  r = g_utf8_collate (ep_contact_get_name (a), ep_contact_get_name (b));
  if (r != 0)
    return r;
  return strcmp (ep_contact_get_key (a), ep_contact_get_key (b));
}

/* Where @contact goes among the items, skipping index @skip. */
static guint
find_position (EpContactList *self,
               EpContact     *contact)
{
  guint lo = 0, hi = self->items->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (compare_contacts (g_ptr_array_index (self->items, mid), contact) < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static gboolean
index_of (EpContactList *self,
          EpContact     *contact,
          guint         *position)
{
  return g_ptr_array_find (self->items, contact, position);
}

static void
on_contact_sort_key_changed (EpContact     *contact,
                             GParamSpec    *pspec,
                             EpContactList *self)
{
  guint old_position, new_position;

  if (!index_of (self, contact, &old_position))
    return;

  g_ptr_array_steal_index (self->items, old_position);
  new_position = find_position (self, contact);
  g_ptr_array_insert (self->items, new_position, contact);

  if (new_position != old_position)
    {
      g_list_model_items_changed (G_LIST_MODEL (self), old_position, 1, 0);
      g_list_model_items_changed (G_LIST_MODEL (self), new_position, 0, 1);
    }
}

static void
watch (EpContactList *self,
       EpContact     *contact)
{
  g_signal_connect_object (contact, "notify::last-activity",
                           G_CALLBACK (on_contact_sort_key_changed), self, 0);
  g_signal_connect_object (contact, "notify::name",
                           G_CALLBACK (on_contact_sort_key_changed), self, 0);
}

static void
unwatch (EpContactList *self,
         EpContact     *contact)
{
  g_signal_handlers_disconnect_by_data (contact, self);
}

static void
on_message_added (EpStore       *store,
                  EpMessage     *message,
                  EpContactList *self)
{
  EpContact *contact = g_hash_table_lookup (self->by_key, ep_message_get_contact_key (message));
  g_autoptr(GDateTime) time = NULL;

  if (contact == NULL)
    return;

  time = ep_message_dup_sender_datetime (message);
  g_object_freeze_notify (G_OBJECT (contact));
  ep_contact_set_last_message (contact, ep_message_get_text (message), time);
  if (!ep_message_get_outgoing (message))
    ep_contact_set_unread_count (contact, ep_contact_get_unread_count (contact) + 1);
  ep_contact_set_last_activity (contact, MAX (ep_contact_get_last_activity (contact),
                                              ep_message_get_received_time (message)));
  g_object_thaw_notify (G_OBJECT (contact));
}

/* ---- GListModel ------------------------------------------------------ */

static GType
ep_contact_list_get_item_type (GListModel *model)
{
  return EP_TYPE_CONTACT;
}

static guint
ep_contact_list_get_n_items (GListModel *model)
{
  return EP_CONTACT_LIST (model)->items->len;
}

static gpointer
ep_contact_list_get_item (GListModel *model,
                          guint       position)
{
  EpContactList *self = EP_CONTACT_LIST (model);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = ep_contact_list_get_item_type;
  iface->get_n_items = ep_contact_list_get_n_items;
  iface->get_item = ep_contact_list_get_item;
}

/* ---- GObject --------------------------------------------------------- */

static void
ep_contact_list_dispose (GObject *object)
{
  EpContactList *self = EP_CONTACT_LIST (object);

  if (self->store != NULL)
    g_signal_handlers_disconnect_by_data (self->store, self);
  g_clear_object (&self->store);
  if (self->items != NULL)
    for (guint i = 0; i < self->items->len; i++)
      unwatch (self, g_ptr_array_index (self->items, i));
  g_clear_pointer (&self->by_key, g_hash_table_unref);
  g_clear_pointer (&self->items, g_ptr_array_unref);

  G_OBJECT_CLASS (ep_contact_list_parent_class)->dispose (object);
}

static void
ep_contact_list_class_init (EpContactListClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = ep_contact_list_dispose;
}

static void
ep_contact_list_init (EpContactList *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->by_key = g_hash_table_new (g_str_hash, g_str_equal);
}

/**
 * ep_contact_list_new:
 * @store: the profile's store
 *
 * Returns: (transfer full): an empty list; fill it with ep_contact_list_load_async ()
 */
EpContactList *
ep_contact_list_new (EpStore *store)
{
  EpContactList *self;

  g_return_val_if_fail (EP_IS_STORE (store), NULL);

  self = g_object_new (EP_TYPE_CONTACT_LIST, NULL);
  self->store = g_object_ref (store);
  g_signal_connect (store, "message-added", G_CALLBACK (on_message_added), self);
  return self;
}

static void
on_loaded (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EpContactList *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) contacts = NULL;
  guint removed;

  contacts = ep_store_load_contacts_finish (EP_STORE (source), result, &error);
  if (contacts == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  removed = self->items->len;
  for (guint i = 0; i < self->items->len; i++)
    unwatch (self, g_ptr_array_index (self->items, i));
  g_hash_table_remove_all (self->by_key);
  g_ptr_array_set_size (self->items, 0);

  for (guint i = 0; i < contacts->len; i++)
    {
      EpContact *contact = g_ptr_array_index (contacts, i);

      if (g_hash_table_contains (self->by_key, ep_contact_get_key (contact)))
        continue;
      g_ptr_array_insert (self->items, find_position (self, contact), g_object_ref (contact));
      g_hash_table_insert (self->by_key, (gpointer) ep_contact_get_key (contact), contact);
      watch (self, contact);
    }

  g_list_model_items_changed (G_LIST_MODEL (self), 0, removed, self->items->len);
  g_task_return_boolean (task, TRUE);
}

/**
 * ep_contact_list_load_async:
 *
 * Replaces the list with the contacts in the store.
 */
void
ep_contact_list_load_async (EpContactList       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (EP_IS_CONTACT_LIST (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ep_contact_list_load_async);
  ep_store_load_contacts_async (self->store, cancellable, on_loaded, task);
}

gboolean
ep_contact_list_load_finish (EpContactList  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (EP_IS_CONTACT_LIST (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * ep_contact_list_lookup:
 * @key: the contact's public key in hex
 *
 * Returns: (transfer none) (nullable): the contact
 */
EpContact *
ep_contact_list_lookup (EpContactList *self,
                        const char    *key)
{
  g_autofree char *lower = NULL;

  g_return_val_if_fail (EP_IS_CONTACT_LIST (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  lower = g_ascii_strdown (key, -1);
  return g_hash_table_lookup (self->by_key, lower);
}

/**
 * ep_contact_list_add:
 * @contact: a contact not in the list yet (save it to the store too)
 *
 * Returns: %TRUE when added, %FALSE when a contact with that key is there
 */
gboolean
ep_contact_list_add (EpContactList *self,
                     EpContact     *contact)
{
  guint position;

  g_return_val_if_fail (EP_IS_CONTACT_LIST (self), FALSE);
  g_return_val_if_fail (EP_IS_CONTACT (contact), FALSE);

  if (g_hash_table_contains (self->by_key, ep_contact_get_key (contact)))
    return FALSE;

  position = find_position (self, contact);
  g_ptr_array_insert (self->items, position, g_object_ref (contact));
  g_hash_table_insert (self->by_key, (gpointer) ep_contact_get_key (contact), contact);
  watch (self, contact);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
  return TRUE;
}

/**
 * ep_contact_list_remove:
 * @key: the contact's public key in hex
 *
 * Returns: %TRUE when it was in the list
 */
gboolean
ep_contact_list_remove (EpContactList *self,
                        const char    *key)
{
  EpContact *contact;
  guint position;

  g_return_val_if_fail (EP_IS_CONTACT_LIST (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  contact = ep_contact_list_lookup (self, key);
  if (contact == NULL || !index_of (self, contact, &position))
    return FALSE;

  unwatch (self, contact);
  g_hash_table_remove (self->by_key, ep_contact_get_key (contact));
  g_ptr_array_remove_index (self->items, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
  return TRUE;
}
