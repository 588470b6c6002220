/* test-contact-list.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "store-helpers.h"

static guint8 own_key[32];
static guint8 at_rest[32];

typedef struct
{
  GPtrArray *items;
  guint      signals;
} Mirror;

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Mirror     *mirror)
{
  g_assert_cmpuint (position + removed, <=, mirror->items->len);
  g_ptr_array_remove_range (mirror->items, position, removed);
  for (guint i = 0; i < added; i++)
    g_ptr_array_insert (mirror->items, position + i, g_list_model_get_item (model, position + i));
  mirror->signals++;
}

static void
mirror_check (Mirror     *mirror,
              GListModel *model)
{
  g_assert_cmpuint (mirror->items->len, ==, g_list_model_get_n_items (model));
  for (guint i = 0; i < mirror->items->len; i++)
    {
      g_autoptr(EpContact) item = g_list_model_get_item (model, i);

      g_assert_true (item == mirror->items->pdata[i]);
      if (i > 0)
        g_assert_cmpint (ep_contact_get_last_activity (mirror->items->pdata[i - 1]), >=,
                         ep_contact_get_last_activity (item));
    }
}

static guint notifications;

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  notifications++;
}

static void
test_contact_notify_on_change (void)
{
  guint8 key[32];
  g_autoptr(EpContact) contact = NULL;
  g_autoptr(GDateTime) t1 = g_date_time_new_from_unix_utc (1000);
  g_autoptr(GDateTime) t1b = g_date_time_new_from_unix_utc (1000);
  g_autofree char *preview = NULL;

  test_key (key, 9);
  contact = ep_contact_new (key);
  g_signal_connect (contact, "notify", G_CALLBACK (on_notify), NULL);
  g_assert_cmpuint (strlen (ep_contact_get_key (contact)), ==, 64);

  notifications = 0;
  ep_contact_set_name (contact, "Ann");
  ep_contact_set_name (contact, "Ann");
  g_assert_cmpuint (notifications, ==, 1);
  ep_contact_set_presence (contact, EP_CONTACT_PRESENCE_ONLINE);
  ep_contact_set_presence (contact, EP_CONTACT_PRESENCE_ONLINE);
  g_assert_cmpuint (notifications, ==, 2);
  ep_contact_set_last_seen (contact, t1);
  ep_contact_set_last_seen (contact, t1b);
  g_assert_cmpuint (notifications, ==, 3);
  ep_contact_set_unread_count (contact, 2);
  ep_contact_set_unread_count (contact, 2);
  ep_contact_set_request_state (contact, EP_CONTACT_REQUEST_ACCEPTED);
  ep_contact_set_request_state (contact, EP_CONTACT_REQUEST_ACCEPTED);
  g_assert_cmpuint (notifications, ==, 5);
  g_object_set (contact, "status-text", "away", NULL);
  g_object_set (contact, "status-text", "away", NULL);
  g_assert_cmpuint (notifications, ==, 6);

  {
    guint8 parsed[32];
    g_autofree char *upper = g_ascii_strup (ep_contact_get_key (contact), -1);

    g_assert_true (ep_contact_key_from_hex (ep_contact_get_key (contact), parsed));
    g_assert_cmpmem (parsed, 32, key, 32);
    g_assert_true (ep_contact_key_from_hex (upper, parsed));
    g_assert_cmpmem (parsed, 32, key, 32);
    upper[63] = 'g';
    g_assert_false (ep_contact_key_from_hex (upper, parsed));
    upper[63] = '\0';
    g_assert_false (ep_contact_key_from_hex (upper, parsed));
    g_assert_false (ep_contact_key_from_hex (NULL, parsed));
  }

  preview = ep_contact_make_preview ("  first\n\nline\tof   text  ");
  g_assert_cmpstr (preview, ==, "first line of text");
  g_clear_pointer (&preview, g_free);
  {
    g_autofree char *longer = g_strnfill (200, 'x');
    preview = ep_contact_make_preview (longer);
    g_assert_cmpuint (g_utf8_strlen (preview, -1), ==, 81);
    g_assert_true (g_str_has_suffix (preview, "…"));
  }
}

static EpContact *
save (EpStore    *store,
      guint8      seed,
      const char *name)
{
  g_autoptr(GError) error = NULL;
  guint8 key[32];
  EpContact *contact;

  test_key (key, seed);
  contact = ep_contact_new (key);
  ep_contact_set_name (contact, name);
  g_assert_true (TEST_AWAIT (ep_store_save_contact_finish (store, res, &error),
                             ep_store_save_contact_async (store, contact, NULL,
                                                          test_on_result, &_res)));
  g_assert_no_error (error);
  return contact;
}

static void
test_contact_list_follows_store (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "store.sqlite", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpStore) store = ep_store_open (path, own_key, at_rest, &error);
  g_autoptr(EpContactList) list = NULL;
  g_autoptr(EpContact) a = NULL, b = NULL, c = NULL, extra = NULL;
  g_autoptr(EpMessage) message = NULL;
  Mirror mirror = { g_ptr_array_new_with_free_func (g_object_unref), 0 };
  EpContact *held;
  guint8 id[16] = { 5 };
  guint8 key[32];

  a = save (store, 10, "A");
  b = save (store, 11, "B");
  c = save (store, 12, "C");

  list = ep_contact_list_new (store);
  g_signal_connect (list, "items-changed", G_CALLBACK (on_items_changed), &mirror);
  g_assert_true (TEST_AWAIT (ep_contact_list_load_finish (list, res, &error),
                             ep_contact_list_load_async (list, NULL, test_on_result, &_res)));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);
  mirror_check (&mirror, G_LIST_MODEL (list));

  /* A message from A brings A to the top, with preview and unread. */
  held = ep_contact_list_lookup (list, ep_contact_get_key (a));
  g_assert_nonnull (held);
  test_key (key, 10);
  message = test_receive (store, key, id, 1, "hello from A", NULL, &error);
  g_assert_no_error (error);
  {
    g_autoptr(EpContact) top = g_list_model_get_item (G_LIST_MODEL (list), 0);
    g_assert_true (top == held);
  }
  g_assert_cmpuint (ep_contact_get_unread_count (held), ==, 1);
  g_assert_cmpstr (ep_contact_get_last_message_preview (held), ==, "hello from A");
  mirror_check (&mirror, G_LIST_MODEL (list));

  /* Our message to C: C to the top, no unread. */
  g_clear_object (&message);
  test_key (key, 12);
  message = test_send (store, key, "to C", &error);
  held = ep_contact_list_lookup (list, ep_contact_get_key (c));
  {
    g_autoptr(EpContact) top = g_list_model_get_item (G_LIST_MODEL (list), 0);
    g_assert_true (top == held);
  }
  g_assert_cmpuint (ep_contact_get_unread_count (held), ==, 0);
  mirror_check (&mirror, G_LIST_MODEL (list));

  /* Moves driven by hand, to the end and back. */
  ep_contact_set_last_activity (held, 1);
  mirror_check (&mirror, G_LIST_MODEL (list));
  {
    g_autoptr(EpContact) bottom = g_list_model_get_item (G_LIST_MODEL (list), 2);
    g_assert_true (bottom == held);
  }
  ep_contact_set_last_activity (held, G_MAXINT64);
  mirror_check (&mirror, G_LIST_MODEL (list));

  /* Add, refuse a second copy, remove. */
  test_key (key, 13);
  extra = ep_contact_new (key);
  ep_contact_set_last_activity (extra, 5);
  g_assert_true (ep_contact_list_add (list, extra));
  g_assert_false (ep_contact_list_add (list, extra));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 4);
  mirror_check (&mirror, G_LIST_MODEL (list));
  g_assert_true (ep_contact_list_remove (list, ep_contact_get_key (b)));
  g_assert_false (ep_contact_list_remove (list, ep_contact_get_key (b)));
  g_assert_null (ep_contact_list_lookup (list, ep_contact_get_key (b)));
  mirror_check (&mirror, G_LIST_MODEL (list));

  /* Reloading replaces the content in one change. */
  g_assert_true (TEST_AWAIT (ep_contact_list_load_finish (list, res, &error),
                             ep_contact_list_load_async (list, NULL, test_on_result, &_res)));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);
  mirror_check (&mirror, G_LIST_MODEL (list));

  g_ptr_array_unref (mirror.items);
  g_clear_object (&list);
  g_clear_object (&store);
  test_rm_dir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  test_key (own_key, 1);
  test_key (at_rest, 2);

  g_test_add_func ("/ep/contact-list/contact-notify", test_contact_notify_on_change);
  g_test_add_func ("/ep/contact-list/follows-store", test_contact_list_follows_store);

  return g_test_run ();
}
