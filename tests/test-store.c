/* test-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <sqlite3.h>

#include "store-helpers.h"

static guint8 own_key[32];
static guint8 at_rest[32];
static guint8 alice[32];
static guint8 bob[32];

static void
test_store_create_reopen (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(EpStore) store = test_open_store (dir, own_key, at_rest);
  g_autoptr(EpMessage) message = NULL;
  g_autoptr(GPtrArray) page = NULL;

  g_assert_true (test_save_contact (store, alice, "Alice", &error));
  g_assert_no_error (error);
  message = test_send (store, alice, "hello", &error);
  g_assert_no_error (error);
  ep_store_close (store);
  g_clear_object (&store);

  g_assert_cmpint (test_sql_int (dir, "PRAGMA user_version"), ==, EP_STORE_SCHEMA_VERSION);
  g_assert_cmpint (test_sql_int (dir, "PRAGMA journal_mode = WAL; PRAGMA journal_mode"), >=, -1);

  store = test_open_store (dir, own_key, at_rest);
  page = test_load_messages (store, alice, NULL, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 1);
  g_assert_cmpstr (ep_message_get_text (page->pdata[0]), ==, "hello");
  g_assert_cmpstr (ep_message_get_id (page->pdata[0]), ==, ep_message_get_id (message));
  g_assert_cmpint (ep_message_get_status (page->pdata[0]), ==, EP_MESSAGE_STATUS_QUEUED);
  g_assert_cmpuint (test_count_outbox (store, alice), ==, 1);

  /* Bodies are not stored in the clear. */
  g_clear_object (&store);
  {
    g_autofree char *path = g_build_filename (dir, "store.sqlite", NULL);
    g_autofree char *contents = NULL;
    gsize len = 0;

    g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
    g_assert_null (g_strstr_len (contents, len, "hello"));
  }
  test_rm_dir (dir);
}

typedef struct
{
  guint added;
  guint status_changes;
  EpMessageStatus last_status;
} Signals;

static void
on_added (EpStore   *store,
          EpMessage *message,
          Signals   *signals)
{
  signals->added++;
}

static void
on_status (EpStore         *store,
           const char      *contact,
           const char      *id,
           EpMessageStatus  status,
           Signals         *signals)
{
  signals->status_changes++;
  signals->last_status = status;
}

static gboolean
set_status (EpStore         *store,
            EpMessage       *message,
            EpMessageStatus  status)
{
  g_autoptr(GError) error = NULL;
  gboolean changed =
    TEST_AWAIT (ep_store_set_message_status_finish (store, res, &error),
                ep_store_set_message_status_async (store, ep_message_get_id_bytes (message),
                                                   status, NULL, test_on_result, &_res));
  g_assert_no_error (error);
  return changed;
}

static void
test_store_send_receive (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(EpStore) store = test_open_store (dir, own_key, at_rest);
  g_autoptr(EpMessage) m1 = NULL, m2 = NULL, m3 = NULL, in = NULL, dup = NULL, after = NULL;
  g_autoptr(GPtrArray) page = NULL;
  guint8 id[16];
  gboolean duplicate = TRUE;
  gboolean attempted;
  Signals signals = { 0 };

  g_signal_connect (store, "message-added", G_CALLBACK (on_added), &signals);
  g_signal_connect (store, "message-status-changed", G_CALLBACK (on_status), &signals);

  /* Unknown contact */
  m1 = test_send (store, alice, "nobody", &error);
  g_assert_error (error, EP_STORE_ERROR, EP_STORE_ERROR_NOT_FOUND);
  g_assert_null (m1);
  g_clear_error (&error);

  g_assert_true (test_save_contact (store, alice, "Alice", &error));
  m1 = test_send (store, alice, "one", &error);
  m2 = test_send (store, alice, "two", &error);
  m3 = test_send (store, alice, "three", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ep_message_get_lamport (m1), ==, 1);
  g_assert_cmpuint (ep_message_get_lamport (m2), ==, 2);
  g_assert_cmpuint (ep_message_get_lamport (m3), ==, 3);
  g_assert_true (ep_message_get_outgoing (m1));
  g_assert_cmpmem (ep_message_get_sender_key_bytes (m1), 32, own_key, 32);
  g_assert_cmpstr (ep_message_get_id (m1), !=, ep_message_get_id (m2));
  g_assert_cmpuint (signals.added, ==, 3);
  g_assert_cmpuint (test_count_outbox (store, alice), ==, 3);
  g_assert_cmpuint (test_count_outbox (store, bob), ==, 0);

  memset (id, 7, sizeof id);
  in = test_receive (store, alice, id, 10, "from alice", &duplicate, &error);
  g_assert_no_error (error);
  g_assert_false (duplicate);
  g_assert_false (ep_message_get_outgoing (in));
  g_assert_cmpuint (ep_message_get_lamport (in), ==, 10);
  g_assert_cmpuint (signals.added, ==, 4);

  /* The same message again: nothing stored, reported as duplicate. */
  dup = test_receive (store, alice, id, 10, "from alice", &duplicate, &error);
  g_assert_no_error (error);
  g_assert_true (duplicate);
  g_assert_cmpstr (ep_message_get_id (dup), ==, ep_message_get_id (in));
  g_assert_cmpuint (signals.added, ==, 4);

  /* The clock moved past the received stamp. */
  after = test_send (store, alice, "after", &error);
  g_assert_cmpuint (ep_message_get_lamport (after), ==, ep_lamport_on_send (ep_lamport_on_receive (3, 10)));

  page = test_load_messages (store, alice, NULL, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 5);
  for (guint i = 1; i < page->len; i++)
    g_assert_cmpint (ep_message_compare (page->pdata[i - 1], page->pdata[i]), <, 0);
  g_assert_cmpstr (ep_message_get_text (page->pdata[3]), ==, "from alice");

  /* Statuses only move forward; delivered leaves the outbox. */
  attempted = TEST_AWAIT (ep_store_outbox_attempted_finish (store, res, &error),
                          ep_store_outbox_attempted_async (store, ep_message_get_id_bytes (m1),
                                                           g_get_real_time () + 1000000, NULL,
                                                           test_on_result, &_res));
  g_assert_no_error (error);
  g_assert_true (attempted);
  g_assert_cmpuint (signals.status_changes, ==, 1);
  g_assert_cmpint (signals.last_status, ==, EP_MESSAGE_STATUS_SENT);
  g_assert_true (set_status (store, m1, EP_MESSAGE_STATUS_DELIVERED));
  g_assert_cmpint (signals.last_status, ==, EP_MESSAGE_STATUS_DELIVERED);
  g_assert_false (set_status (store, m1, EP_MESSAGE_STATUS_SENT));
  g_assert_false (set_status (store, m1, EP_MESSAGE_STATUS_FAILED));
  g_assert_false (set_status (store, m1, EP_MESSAGE_STATUS_DELIVERED));
  g_assert_cmpuint (signals.status_changes, ==, 2);
  g_assert_cmpuint (test_count_outbox (store, alice), ==, 3);

  /* Attempting a delivered message says it left the outbox. */
  attempted = TEST_AWAIT (ep_store_outbox_attempted_finish (store, res, &error),
                          ep_store_outbox_attempted_async (store, ep_message_get_id_bytes (m1),
                                                           0, NULL, test_on_result, &_res));
  g_assert_false (attempted);

  g_assert_true (set_status (store, m2, EP_MESSAGE_STATUS_FAILED));
  g_assert_cmpuint (test_count_outbox (store, alice), ==, 2);
  g_assert_true (set_status (store, m2, EP_MESSAGE_STATUS_QUEUED));
  g_assert_cmpuint (test_count_outbox (store, alice), ==, 3);

  /* Only our own messages have a status to set. */
  {
    gboolean changed = TEST_AWAIT (ep_store_set_message_status_finish (store, res, &error),
                                   ep_store_set_message_status_async (store, id,
                                                                      EP_MESSAGE_STATUS_SENT, NULL,
                                                                      test_on_result, &_res));
    g_assert_error (error, EP_STORE_ERROR, EP_STORE_ERROR_NOT_FOUND);
    g_assert_false (changed);
    g_clear_error (&error);
  }

  g_clear_object (&store);
  test_rm_dir (dir);
}

static void
test_store_invalid_input (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(EpStore) store = test_open_store (dir, own_key, at_rest);
  g_autofree char *big = g_strnfill (65537, 'x');
  g_autoptr(EpMessage) message = NULL;
  guint8 id[16] = { 1 };

  g_assert_true (test_save_contact (store, alice, "Alice", &error));
  message = test_send (store, alice, big, &error);
  g_assert_error (error, EP_STORE_ERROR, EP_STORE_ERROR_INVALID);
  g_clear_error (&error);
  message = test_receive (store, alice, id, 1, "\xff\xfe", NULL, &error);
  g_assert_error (error, EP_STORE_ERROR, EP_STORE_ERROR_INVALID);
  g_clear_error (&error);
  message = test_receive (store, alice, id, EP_LAMPORT_MAX + 1, "ok", NULL, &error);
  g_assert_error (error, EP_STORE_ERROR, EP_STORE_ERROR_INVALID);
  g_clear_error (&error);
  big[65536] = '\0';
  message = test_send (store, alice, big, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (ep_message_get_text (message)), ==, 65536);

  g_clear_object (&store);
  test_rm_dir (dir);
}

static gboolean
accept_seq (EpStore      *store,
            const guint8 *key,
            guint64       seq)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = TEST_AWAIT (ep_store_accept_presence_seq_finish (store, res, &error),
                            ep_store_accept_presence_seq_async (store, key, seq, NULL,
                                                                test_on_result, &_res));
  g_assert_no_error (error);
  return ok;
}

static void
test_store_contacts (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(EpStore) store = test_open_store (dir, own_key, at_rest);
  g_autoptr(EpContact) contact = ep_contact_new (bob);
  g_autoptr(EpContact) loaded = NULL;
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(EpMessage) message = NULL;
  guint8 id[16] = { 9 };
  guint32 nospam = 0;
  gboolean ok;

  g_assert_true (test_save_contact (store, alice, "Alice", &error));
  ep_contact_set_name (contact, "Bob");
  ep_contact_set_status_text (contact, "busy");
  ep_contact_set_nospam (contact, TRUE, 0xdeadbeef);
  ep_contact_set_request_state (contact, EP_CONTACT_REQUEST_OUTGOING_PENDING);
  ok = TEST_AWAIT (ep_store_save_contact_finish (store, res, &error),
                   ep_store_save_contact_async (store, contact, NULL, test_on_result, &_res));
  g_assert_no_error (error);
  g_assert_true (ok);

  message = test_receive (store, alice, id, 1, "Hi Bob, this is a rather long first line that "
                          "goes on and on well past what fits in a preview\nsecond line",
                          NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&message);
  message = test_receive (store, alice, (guint8[16]) { 10 }, 2, "again", NULL, &error);

  contacts = TEST_AWAIT (ep_store_load_contacts_finish (store, res, &error),
                         ep_store_load_contacts_async (store, NULL, test_on_result, &_res));
  g_assert_no_error (error);
  g_assert_cmpuint (contacts->len, ==, 2);
  /* Alice had a message last: she comes first. */
  g_assert_cmpstr (ep_contact_get_name (contacts->pdata[0]), ==, "Alice");
  g_assert_cmpuint (ep_contact_get_unread_count (contacts->pdata[0]), ==, 2);
  g_assert_cmpstr (ep_contact_get_last_message_preview (contacts->pdata[0]), ==, "again");
  g_assert_nonnull (ep_contact_get_last_message_time (contacts->pdata[0]));
  g_assert_cmpstr (ep_contact_get_name (contacts->pdata[1]), ==, "Bob");
  g_assert_cmpstr (ep_contact_get_status_text (contacts->pdata[1]), ==, "busy");
  g_assert_true (ep_contact_get_nospam (contacts->pdata[1], &nospam));
  g_assert_cmphex (nospam, ==, 0xdeadbeef);
  g_assert_cmpint (ep_contact_get_request_state (contacts->pdata[1]), ==,
                   EP_CONTACT_REQUEST_OUTGOING_PENDING);
  g_assert_null (ep_contact_get_last_message_preview (contacts->pdata[1]));

  ok = TEST_AWAIT (ep_store_mark_read_finish (store, res, &error),
                   ep_store_mark_read_async (store, alice, NULL, test_on_result, &_res));
  g_assert_true (ok);

  /* Blocking keeps the request state underneath. */
  ep_contact_set_request_state (contact, EP_CONTACT_REQUEST_BLOCKED);
  ok = TEST_AWAIT (ep_store_save_contact_finish (store, res, &error),
                   ep_store_save_contact_async (store, contact, NULL, test_on_result, &_res));
  loaded = TEST_AWAIT (ep_store_load_contact_finish (store, res, &error),
                       ep_store_load_contact_async (store, bob, NULL, test_on_result, &_res));
  g_assert_no_error (error);
  g_assert_cmpint (ep_contact_get_request_state (loaded), ==, EP_CONTACT_REQUEST_BLOCKED);
  g_assert_cmpint (test_sql_int (dir, "SELECT request_state FROM contacts WHERE blocked = 1"), ==,
                   EP_CONTACT_REQUEST_OUTGOING_PENDING);
  g_clear_object (&loaded);
  loaded = TEST_AWAIT (ep_store_load_contact_finish (store, res, &error),
                       ep_store_load_contact_async (store, alice, NULL, test_on_result, &_res));
  g_assert_cmpuint (ep_contact_get_unread_count (loaded), ==, 0);

  /* Presence seq: never downgraded, equal accepted. */
  g_assert_true (accept_seq (store, alice, 5));
  g_assert_false (accept_seq (store, alice, 4));
  g_assert_true (accept_seq (store, alice, 5));
  g_assert_true (accept_seq (store, alice, 6));
  g_assert_false (accept_seq (store, own_key, 7));
  g_assert_false (accept_seq (store, alice, G_MAXUINT64));

  /* Deleting a contact takes its history and outbox. */
  g_clear_object (&message);
  message = test_send (store, alice, "bye", &error);
  ok = TEST_AWAIT (ep_store_delete_contact_finish (store, res, &error),
                   ep_store_delete_contact_async (store, alice, NULL, test_on_result, &_res));
  g_assert_true (ok);
  g_clear_object (&loaded);
  loaded = TEST_AWAIT (ep_store_load_contact_finish (store, res, &error),
                       ep_store_load_contact_async (store, alice, NULL, test_on_result, &_res));
  g_assert_error (error, EP_STORE_ERROR, EP_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (test_sql_int (dir, "SELECT count(*) FROM messages"), ==, 0);
  g_assert_cmpint (test_sql_int (dir, "SELECT count(*) FROM outbox"), ==, 0);

  g_clear_object (&store);
  test_rm_dir (dir);
}

static void
test_store_settings (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(EpStore) store = test_open_store (dir, own_key, at_rest);
  g_autofree char *value = NULL;
  gboolean ok;

  value = TEST_AWAIT (ep_store_get_setting_finish (store, res, &error),
                      ep_store_get_setting_async (store, "bootstrap", NULL, test_on_result, &_res));
  g_assert_no_error (error);
  g_assert_null (value);
  ok = TEST_AWAIT (ep_store_set_setting_finish (store, res, &error),
                   ep_store_set_setting_async (store, "bootstrap", "127.0.0.1:6881", NULL,
                                               test_on_result, &_res));
  g_assert_true (ok);
  ok = TEST_AWAIT (ep_store_set_setting_finish (store, res, &error),
                   ep_store_set_setting_async (store, "bootstrap", "127.0.0.1:6882", NULL,
                                               test_on_result, &_res));
  value = TEST_AWAIT (ep_store_get_setting_finish (store, res, &error),
                      ep_store_get_setting_async (store, "bootstrap", NULL, test_on_result, &_res));
  g_assert_cmpstr (value, ==, "127.0.0.1:6882");
  g_clear_pointer (&value, g_free);
  ok = TEST_AWAIT (ep_store_set_setting_finish (store, res, &error),
                   ep_store_set_setting_async (store, "bootstrap", NULL, NULL,
                                               test_on_result, &_res));
  value = TEST_AWAIT (ep_store_get_setting_finish (store, res, &error),
                      ep_store_get_setting_async (store, "bootstrap", NULL, test_on_result, &_res));
  g_assert_null (value);

  value = TEST_AWAIT (ep_store_get_setting_finish (store, res, &error),
                      ep_store_get_setting_async (store, "store.key-check", NULL,
                                                  test_on_result, &_res));
  g_assert_error (error, EP_STORE_ERROR, EP_STORE_ERROR_INVALID);
  g_assert_null (value);
  g_clear_error (&error);

  ep_store_close (store);
  ok = TEST_AWAIT (ep_store_set_setting_finish (store, res, &error),
                   ep_store_set_setting_async (store, "a", "b", NULL, test_on_result, &_res));
  g_assert_error (error, EP_STORE_ERROR, EP_STORE_ERROR_CLOSED);
  g_assert_false (ok);

  g_clear_object (&store);
  test_rm_dir (dir);
}

static void
test_store_async_open_cancel (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "store.sqlite", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpStore) store = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) page = NULL;

  store = TEST_AWAIT (ep_store_open_finish (res, &error),
                      ep_store_open_async (path, own_key, at_rest, NULL, test_on_result, &_res));
  g_assert_no_error (error);
  g_assert_nonnull (store);
  g_assert_cmpstr (ep_store_get_path (store), ==, path);
  g_assert_true (test_save_contact (store, alice, "Alice", &error));

  g_cancellable_cancel (cancellable);
  page = TEST_AWAIT (ep_store_load_messages_finish (store, res, &error),
                     ep_store_load_messages_async (store, alice, NULL, 10, cancellable,
                                                   test_on_result, &_res));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (page);
  g_clear_error (&error);
  g_clear_object (&store);

  /* Failures come back the same way. */
  store = TEST_AWAIT (ep_store_open_finish (res, &error),
                      ep_store_open_async (dir, own_key, at_rest, NULL, test_on_result, &_res));
  g_assert_error (error, EP_STORE_ERROR, EP_STORE_ERROR_FAILED);
  g_assert_null (store);

  test_rm_dir (dir);
}

typedef struct
{
  EpStore   *store;
  guint      pending;
  EpMessage *messages[4];
  GError    *errors[4];
  gboolean   duplicates[4];
} Batch;

typedef struct
{
  Batch *batch;
  guint  slot;
} Slot;

static Slot *
slot_new (Batch *batch,
          guint  slot)
{
  Slot *s = g_new (Slot, 1);

  s->batch = batch;
  s->slot = slot;
  batch->pending++;
  return s;
}

static void
on_batch_send (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autofree Slot *s = user_data;

  s->batch->messages[s->slot] = ep_store_send_message_finish (s->batch->store, result,
                                                              &s->batch->errors[s->slot]);
  s->batch->pending--;
}

static void
on_batch_receive (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autofree Slot *s = user_data;

  s->batch->messages[s->slot] =
    ep_store_receive_message_finish (s->batch->store, result, &s->batch->duplicates[s->slot],
                                     &s->batch->errors[s->slot]);
  s->batch->pending--;
}

static gboolean
batch_done (Batch *batch)
{
  return batch->pending == 0;
}

/* Jobs queued together share a transaction: one failing must not take the
 * others with it, and a duplicate within the batch is still a duplicate. */
static void
test_store_group_commit (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(EpStore) store = test_open_store (dir, own_key, at_rest);
  g_autoptr(GPtrArray) page = NULL;
  Batch batch = { store, 0 };
  guint8 id[16];
  guint id_ = g_timeout_add_seconds (TEST_WAIT_SECONDS, test_on_timeout, NULL);

  g_assert_true (test_save_contact (store, alice, "Alice", &error));
  memset (id, 0x42, sizeof id);

  ep_store_send_message_async (store, alice, "first", NULL, on_batch_send, slot_new (&batch, 0));
  ep_store_send_message_async (store, bob, "to nobody", NULL, on_batch_send,
                               slot_new (&batch, 1));
  ep_store_receive_message_async (store, alice, id, 1, 5, "twice", NULL, on_batch_receive,
                                  slot_new (&batch, 2));
  ep_store_receive_message_async (store, alice, id, 1, 5, "twice", NULL, on_batch_receive,
                                  slot_new (&batch, 3));
  while (!batch_done (&batch))
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id_);

  g_assert_no_error (batch.errors[0]);
  g_assert_error (batch.errors[1], EP_STORE_ERROR, EP_STORE_ERROR_NOT_FOUND);
  g_assert_no_error (batch.errors[2]);
  g_assert_no_error (batch.errors[3]);
  g_assert_false (batch.duplicates[2]);
  g_assert_true (batch.duplicates[3]);
  g_assert_cmpstr (ep_message_get_id (batch.messages[2]), ==,
                   ep_message_get_id (batch.messages[3]));

  /* Durable: after a reopen both messages are there, once. */
  ep_store_close (store);
  g_clear_object (&store);
  store = test_open_store (dir, own_key, at_rest);
  page = test_load_messages (store, alice, NULL, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 2);
  g_assert_cmpuint (test_count_outbox (store, alice), ==, 1);

  for (guint i = 0; i < 4; i++)
    {
      g_clear_object (&batch.messages[i]);
      g_clear_error (&batch.errors[i]);
    }
  g_clear_object (&store);
  test_rm_dir (dir);
}

static void
test_store_lamport_rule (void)
{
  /* On send: tick. On receive: past both. Never wraps. */
  g_assert_cmpuint (ep_lamport_on_send (0), ==, 1);
  g_assert_cmpuint (ep_lamport_on_send (41), ==, 42);
  g_assert_cmpuint (ep_lamport_on_receive (3, 10), ==, 11);
  g_assert_cmpuint (ep_lamport_on_receive (10, 3), ==, 11);
  g_assert_cmpuint (ep_lamport_on_receive (5, 5), ==, 6);
  g_assert_cmpuint (ep_lamport_on_send (EP_LAMPORT_MAX), ==, EP_LAMPORT_MAX);
  g_assert_cmpuint (ep_lamport_on_receive (1, G_MAXUINT64), ==, EP_LAMPORT_MAX);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  test_key (own_key, 1);
  test_key (at_rest, 2);
  test_key (alice, 3);
  test_key (bob, 4);

  g_test_add_func ("/ep/store/lamport-rule", test_store_lamport_rule);
  g_test_add_func ("/ep/store/async-open-cancel", test_store_async_open_cancel);
  g_test_add_func ("/ep/store/group-commit", test_store_group_commit);
  g_test_add_func ("/ep/store/create-reopen", test_store_create_reopen);
  g_test_add_func ("/ep/store/send-receive", test_store_send_receive);
  g_test_add_func ("/ep/store/invalid-input", test_store_invalid_input);
  g_test_add_func ("/ep/store/contacts", test_store_contacts);
  g_test_add_func ("/ep/store/settings", test_store_settings);

  return g_test_run ();
}
