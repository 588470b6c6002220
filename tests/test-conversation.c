/* test-conversation.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <sqlite3.h>

#include "history-helpers.h"

#define BIG_HISTORY 100000
#define PAGE 50

static guint8 own_key[32];
static guint8 at_rest[32];
static guint8 alice[32];

/* Mirrors a model through items-changed only: equal to the model at the
 * end means every signal was right. */
typedef struct
{
  GPtrArray *items;
  guint      signals;
  guint      last_position;
  guint      last_removed;
  guint      last_added;
} Mirror;

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Mirror     *mirror)
{
  guint old_len;

  g_assert_cmpuint (position + removed, <=, mirror->items->len);
  g_ptr_array_remove_range (mirror->items, position, removed);
  /* One move per signal: a page prepended to 100 000 items stays cheap. */
  old_len = mirror->items->len;
  g_ptr_array_set_size (mirror->items, old_len + added);
  memmove (mirror->items->pdata + position + added, mirror->items->pdata + position,
           (old_len - position) * sizeof (gpointer));
  for (guint i = 0; i < added; i++)
    mirror->items->pdata[position + i] = g_list_model_get_item (model, position + i);
  mirror->signals++;
  mirror->last_position = position;
  mirror->last_removed = removed;
  mirror->last_added = added;
}

static void
mirror_init (Mirror     *mirror,
             GListModel *model)
{
  mirror->items = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    g_ptr_array_add (mirror->items, g_list_model_get_item (model, i));
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), mirror);
}

static void
mirror_check (Mirror     *mirror,
              GListModel *model)
{
  g_assert_cmpuint (mirror->items->len, ==, g_list_model_get_n_items (model));
  for (guint i = 0; i < mirror->items->len; i++)
    {
      g_autoptr(EpMessage) item = g_list_model_get_item (model, i);

      g_assert_true (item == mirror->items->pdata[i]);
      if (i > 0)
        g_assert_cmpint (ep_message_compare (mirror->items->pdata[i - 1], item), <, 0);
    }
}

static void
mirror_clear (Mirror *mirror)
{
  g_clear_pointer (&mirror->items, g_ptr_array_unref);
}

static EpStore *
open_store (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, "store.sqlite", NULL);
  EpStore *store = ep_store_open (path, own_key, at_rest, &error);

  g_assert_no_error (error);
  return store;
}

static EpConversation *
open_conversation (EpStore *store,
                   guint    page_size)
{
  g_autoptr(GError) error = NULL;
  EpConversation *conversation =
    TEST_AWAIT (ep_conversation_open_finish (res, &error),
                ep_conversation_open_async (store, alice, page_size, NULL, test_on_result, &_res));

  g_assert_no_error (error);
  return conversation;
}

static guint
load_older (EpConversation *conversation)
{
  g_autoptr(GError) error = NULL;
  guint added = TEST_AWAIT (ep_conversation_load_older_finish (conversation, res, &error),
                            ep_conversation_load_older_async (conversation, NULL,
                                                              test_on_result, &_res));

  g_assert_no_error (error);
  return added;
}

/* Writes a long history straight into the file, the way years of use
 * would have left it, in one statement: every third message ours, the
 * rest Alice's, stamped 1 to @n. The ids share long prefixes, as a
 * hostile peer could choose them: the model must not slow down for it. */
static void
fill_history (const char *dir,
              guint       n)
{
  g_autofree char *path = g_build_filename (dir, "store.sqlite", NULL);
  HistorySealKey seal;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  G_STATIC_ASSERT (sizeof seal.key == sizeof at_rest);
  memcpy (seal.key, at_rest, sizeof seal.key);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_create_function (db, "seal", 1, SQLITE_UTF8, &seal, history_sql_seal,
                                            NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db,
    "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?3)"
    " INSERT INTO messages (id, contact, outgoing, sender, sender_time, lamport, body, status,"
    "                       received)"
    " SELECT CAST (printf ('%016d', i) AS BLOB), ?1, i % 3 = 0, CASE WHEN i % 3 = 0 THEN ?2 ELSE ?1 END,"
    "        1700000000000000 + i, i, seal ('message ' || i), 2, 1700000000000000 + i FROM n",
    -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_blob (stmt, 1, alice, 32, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 2, own_key, 32, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, (int) n);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  g_assert_cmpint (sqlite3_exec (db, "UPDATE contacts SET lamport = (SELECT MAX (lamport)"
                                 " FROM messages)", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_changes (db), ==, 1);
  sqlite3_close (db);
}

static void
test_conversation_big_history (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(EpStore) store = open_store (dir);
  g_autoptr(EpConversation) conversation = NULL;
  g_autoptr(EpMessage) first = NULL;
  g_autoptr(EpMessage) last = NULL;
  Mirror mirror = { 0 };
  gint64 start;
  guint pages = 1;

  g_assert_true (test_save_contact (store, alice, "Alice", &error));
  ep_store_close (store);
  g_clear_object (&store);
  fill_history (dir, BIG_HISTORY);

  store = open_store (dir);
  start = g_get_monotonic_time ();
  conversation = open_conversation (store, PAGE);
  g_test_message ("opened the last page of %u messages in %.2f ms", BIG_HISTORY,
                  (g_get_monotonic_time () - start) / 1000.0);

  /* Only the newest page is loaded. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, PAGE);
  g_assert_true (ep_conversation_get_has_older (conversation));
  last = g_list_model_get_item (G_LIST_MODEL (conversation), PAGE - 1);
  first = g_list_model_get_item (G_LIST_MODEL (conversation), 0);
  g_assert_cmpuint (ep_message_get_lamport (last), ==, BIG_HISTORY);
  g_assert_cmpstr (ep_message_get_text (last), ==, "message 100000");
  g_assert_cmpuint (ep_message_get_lamport (first), ==, BIG_HISTORY - PAGE + 1);

  mirror_init (&mirror, G_LIST_MODEL (conversation));
  while (ep_conversation_get_has_older (conversation))
    {
      guint before = g_list_model_get_n_items (G_LIST_MODEL (conversation));
      guint added = load_older (conversation);

      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==,
                        before + added);
      if (added > 0)
        {
          g_assert_cmpuint (mirror.last_position, ==, 0);
          g_assert_cmpuint (mirror.last_added, ==, added);
          g_assert_cmpuint (added, <=, PAGE);
          pages++;
        }
    }
  g_assert_cmpuint (pages, ==, BIG_HISTORY / PAGE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, BIG_HISTORY);
  g_assert_cmpuint (load_older (conversation), ==, 0);

  /* Walked back to the first message, everything in order. */
  for (guint i = 0; i < BIG_HISTORY; i++)
    {
      EpMessage *message = mirror.items->pdata[i];

      g_assert_cmpuint (ep_message_get_lamport (message), ==, i + 1);
    }
  g_assert_cmpstr (ep_message_get_text (mirror.items->pdata[0]), ==, "message 1");
  mirror_check (&mirror, G_LIST_MODEL (conversation));
  mirror_clear (&mirror);

  g_clear_object (&conversation);
  g_clear_object (&store);
  test_rm_dir (dir);
}

typedef struct
{
  guint notified;
} StatusWatch;

static void
on_status_notify (EpMessage   *message,
                  GParamSpec  *pspec,
                  StatusWatch *watch)
{
  watch->notified++;
}

static void
test_conversation_live (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(EpStore) store = open_store (dir);
  g_autoptr(EpConversation) conversation = NULL;
  g_autoptr(EpMessage) sent = NULL, early = NULL, late = NULL, dup = NULL;
  g_autoptr(EpMessage) held = NULL;
  Mirror mirror = { 0 };
  StatusWatch watch = { 0 };
  guint8 id[16];
  gboolean duplicate = FALSE;
  gboolean changed;

  g_assert_true (test_save_contact (store, alice, "Alice", &error));
  conversation = open_conversation (store, 10);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 0);
  g_assert_false (ep_conversation_get_has_older (conversation));
  mirror_init (&mirror, G_LIST_MODEL (conversation));

  memset (id, 1, sizeof id);
  early = test_receive (store, alice, id, 5, "five", NULL, &error);
  g_assert_cmpuint (mirror.last_position, ==, 0);
  sent = test_send (store, alice, "mine", &error);       /* lamport 7 */
  g_assert_cmpuint (ep_message_get_lamport (sent), ==, 7);
  g_assert_cmpuint (mirror.last_position, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 2);

  /* A message the peer stamped 6 but that arrives after ours: between. */
  memset (id, 2, sizeof id);
  late = test_receive (store, alice, id, 6, "six, late", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mirror.last_position, ==, 1);
  g_assert_cmpuint (mirror.last_added, ==, 1);
  held = g_list_model_get_item (G_LIST_MODEL (conversation), 1);
  g_assert_cmpstr (ep_message_get_text (held), ==, "six, late");

  /* Redelivery changes nothing. */
  dup = test_receive (store, alice, id, 6, "six, late", &duplicate, &error);
  g_assert_true (duplicate);
  g_assert_cmpuint (mirror.signals, ==, 3);
  g_assert_true (ep_conversation_add_message (conversation, late) == FALSE);

  /* Status changes reach the message in the model. */
  g_clear_object (&held);
  held = g_list_model_get_item (G_LIST_MODEL (conversation), 2);
  g_assert_true (held == sent);
  g_signal_connect (held, "notify::status", G_CALLBACK (on_status_notify), &watch);
  changed = TEST_AWAIT (ep_store_set_message_status_finish (store, res, &error),
                        ep_store_set_message_status_async (store, ep_message_get_id_bytes (sent),
                                                           EP_MESSAGE_STATUS_DELIVERED, NULL,
                                                           test_on_result, &_res));
  g_assert_true (changed);
  g_assert_cmpuint (watch.notified, ==, 1);
  g_assert_cmpint (ep_message_get_status (held), ==, EP_MESSAGE_STATUS_DELIVERED);
  /* A "sent" the store announces late (its job was queued before the ack)
   * does not take a delivered message back. */
  g_signal_emit_by_name (store, "message-status-changed", ep_message_get_contact_key (sent),
                         ep_message_get_id (sent), EP_MESSAGE_STATUS_SENT);
  g_assert_cmpuint (watch.notified, ==, 1);
  g_assert_cmpint (ep_message_get_status (held), ==, EP_MESSAGE_STATUS_DELIVERED);
  g_assert_true (ep_conversation_lookup (conversation, ep_message_get_sender_key (sent),
                                         ep_message_get_id (sent)) == held);

  mirror_check (&mirror, G_LIST_MODEL (conversation));
  mirror_clear (&mirror);
  g_clear_object (&conversation);
  g_clear_object (&store);
  test_rm_dir (dir);
}

static void
test_conversation_late_before_window (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(EpStore) store = open_store (dir);
  g_autoptr(EpConversation) conversation = NULL;
  g_autoptr(EpMessage) late = NULL;
  Mirror mirror = { 0 };
  guint8 id[16];

  g_assert_true (test_save_contact (store, alice, "Alice", &error));
  for (guint i = 0; i < 30; i++)
    {
      EpMessage *filler = test_send (store, alice, "filler", &error);

      g_assert_no_error (error);
      g_object_unref (filler);
    }

  conversation = open_conversation (store, 10);
  mirror_init (&mirror, G_LIST_MODEL (conversation));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 10);

  /* Stamped 3: older than the window; paging brings it, once. */
  memset (id, 3, sizeof id);
  late = test_receive (store, alice, id, 3, "very late", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 10);

  /* While a page loads, a new message arrives: it lands once, at the end. */
  ep_conversation_load_older_async (conversation, NULL, NULL, NULL);
  {
    g_autoptr(EpMessage) fresh = test_send (store, alice, "fresh", &error);
    g_autoptr(EpMessage) tail = NULL;

    tail = g_list_model_get_item (G_LIST_MODEL (conversation),
                                  g_list_model_get_n_items (G_LIST_MODEL (conversation)) - 1);
    g_assert_true (tail == fresh);
  }
  while (ep_conversation_get_loading (conversation))
    g_main_context_iteration (NULL, TRUE);
  while (ep_conversation_get_has_older (conversation))
    load_older (conversation);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 32);
  {
    guint seen = 0;

    for (guint i = 0; i < mirror.items->len; i++)
      if (g_strcmp0 (ep_message_get_id (mirror.items->pdata[i]), ep_message_get_id (late)) == 0)
        {
          /* Between our stamps 2 and 4, wherever the key order puts it among 3s. */
          g_assert_cmpuint (i, >=, 2);
          g_assert_cmpuint (i, <=, 3);
          seen++;
        }
    g_assert_cmpuint (seen, ==, 1);
    g_assert_nonnull (ep_conversation_lookup (conversation, ep_message_get_sender_key (late),
                                              ep_message_get_id (late)));
  }
  mirror_check (&mirror, G_LIST_MODEL (conversation));
  mirror_clear (&mirror);

  g_clear_object (&conversation);
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
  test_key (alice, 3);

  g_test_add_func ("/ep/conversation/big-history", test_conversation_big_history);
  g_test_add_func ("/ep/conversation/live", test_conversation_live);
  g_test_add_func ("/ep/conversation/late-before-window", test_conversation_late_before_window);

  return g_test_run ();
}
