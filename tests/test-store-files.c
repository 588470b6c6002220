/* test-store-files.c — EpStore and its file: migrations, foreign and
 * damaged files, a wrong key
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
sql_exec (const char *path,
          const char *sql)
{
  sqlite3 *db = NULL;
  char *msg = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s", msg);
  sqlite3_close (db);
}

/* A version 1 store as the first release wrote it. */
static const char v1_schema[] =
  "CREATE TABLE settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"
  "CREATE TABLE contacts (key BLOB PRIMARY KEY NOT NULL CHECK (length (key) = 32),"
  "  name TEXT NOT NULL DEFAULT '', status_text TEXT NOT NULL DEFAULT '',"
  "  request_state INTEGER NOT NULL DEFAULT 0, nospam INTEGER,"
  "  presence_seq INTEGER NOT NULL DEFAULT 0, last_seen INTEGER NOT NULL DEFAULT 0,"
  "  unread INTEGER NOT NULL DEFAULT 0, blocked INTEGER NOT NULL DEFAULT 0,"
  "  created INTEGER NOT NULL);"
  "CREATE TABLE messages (seq INTEGER PRIMARY KEY, id BLOB NOT NULL CHECK (length (id) = 16),"
  "  contact BLOB NOT NULL REFERENCES contacts (key) ON DELETE CASCADE,"
  "  outgoing INTEGER NOT NULL, sender BLOB NOT NULL CHECK (length (sender) = 32),"
  "  sender_time INTEGER NOT NULL, lamport INTEGER NOT NULL, body BLOB NOT NULL,"
  "  status INTEGER NOT NULL, received INTEGER NOT NULL, UNIQUE (sender, id));"
  "CREATE INDEX messages_order ON messages (contact, lamport, sender, id);"
  "CREATE TABLE outbox (message INTEGER PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,"
  "  contact BLOB NOT NULL REFERENCES contacts (key) ON DELETE CASCADE,"
  "  attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL);"
  "CREATE INDEX outbox_contact ON outbox (contact, next_attempt);"
  "PRAGMA user_version = 1;";

static void
insert_v1_message (sqlite3      *db,
                   const guint8 *contact,
                   const guint8 *sender,
                   guint8        id_byte,
                   gint64        lamport,
                   const char   *text,
                   gint64        received)
{
  sqlite3_stmt *stmt = NULL;
  gsize len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + strlen (text);
  g_autofree guint8 *body = g_malloc (len);
  guint8 id[16];

  memset (id, id_byte, sizeof id);
  randombytes_buf (body, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy (body + crypto_secretbox_NONCEBYTES, (const guint8 *) text, strlen (text),
                         body, at_rest);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "INSERT INTO messages (id, contact, outgoing, sender,"
                                       " sender_time, lamport, body, status, received)"
                                       " VALUES (?, ?, ?, ?, 1, ?, ?, 2, ?)", -1, &stmt, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_blob (stmt, 1, id, 16, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 2, contact, 32, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, sender == own_key);
  sqlite3_bind_blob (stmt, 4, sender, 32, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, lamport);
  sqlite3_bind_blob (stmt, 6, body, (int) len, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 7, received);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
}

static void
test_store_migrate_v1 (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "store.sqlite", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpStore) store = NULL;
  g_autoptr(GPtrArray) page = NULL;
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(EpMessage) next = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, v1_schema, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "INSERT INTO contacts (key, name, request_state,"
                                       " created) VALUES (?, ?, 3, ?)", -1, &stmt, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_blob (stmt, 1, alice, 32, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, "Alice", -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, 1000);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_reset (stmt);
  sqlite3_bind_blob (stmt, 1, bob, 32, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, "Bob", -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, 2000);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  insert_v1_message (db, alice, alice, 1, 41, "old one", 5000);
  insert_v1_message (db, alice, own_key, 2, 42, "old two", 6000);
  sqlite3_close (db);

  store = test_open_store (dir, own_key, at_rest);
  g_assert_cmpint (test_sql_int (dir, "PRAGMA user_version"), ==, EP_STORE_SCHEMA_VERSION);
  g_assert_cmpint (test_sql_int (dir, "SELECT lamport FROM contacts WHERE name = 'Alice'"), ==, 42);
  g_assert_cmpint (test_sql_int (dir, "SELECT last_activity FROM contacts WHERE name = 'Alice'"), ==, 6000);
  g_assert_cmpint (test_sql_int (dir, "SELECT last_activity FROM contacts WHERE name = 'Bob'"), ==, 2000);

  page = test_load_messages (store, alice, NULL, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 2);
  g_assert_cmpstr (ep_message_get_text (page->pdata[0]), ==, "old one");
  g_assert_cmpstr (ep_message_get_text (page->pdata[1]), ==, "old two");
  g_assert_true (ep_message_get_outgoing (page->pdata[1]));

  /* The migrated clock continues the conversation. */
  next = test_send (store, alice, "new", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ep_message_get_lamport (next), ==, 43);

  contacts = TEST_AWAIT (ep_store_load_contacts_finish (store, res, &error),
                         ep_store_load_contacts_async (store, NULL, test_on_result, &_res));
  g_assert_cmpuint (contacts->len, ==, 2);
  g_assert_cmpstr (ep_contact_get_name (contacts->pdata[0]), ==, "Alice");

  g_clear_object (&store);
  test_rm_dir (dir);
}

static void
expect_open_error (const char *path,
                   int         code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpStore) store = ep_store_open (path, own_key, at_rest, &error);

  g_assert_null (store);
  g_assert_error (error, EP_STORE_ERROR, code);
  g_assert_nonnull (strstr (error->message, path));
}

static void
test_store_bad_files (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "store.sqlite", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpStore) store = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  guint8 noise[8192];

  /* Not a database at all */
  randombytes_buf (noise, sizeof noise);
  g_assert_true (g_file_set_contents (path, (const char *) noise, sizeof noise, NULL));
  expect_open_error (path, EP_STORE_ERROR_CORRUPT);
  test_rm_dir (dir);
  g_mkdir (dir, 0700);

  /* Another program's database */
  sql_exec (path, "CREATE TABLE bookmarks (url TEXT)");
  expect_open_error (path, EP_STORE_ERROR_FOREIGN);
  test_rm_dir (dir);
  g_mkdir (dir, 0700);

  /* Claims our version but lacks our tables */
  sql_exec (path, "CREATE TABLE bookmarks (url TEXT); PRAGMA user_version = 2");
  expect_open_error (path, EP_STORE_ERROR_FOREIGN);
  test_rm_dir (dir);
  g_mkdir (dir, 0700);

  /* From the future */
  sql_exec (path, "PRAGMA user_version = 99");
  expect_open_error (path, EP_STORE_ERROR_TOO_NEW);
  test_rm_dir (dir);
  g_mkdir (dir, 0700);

  /* A real store whose pages were overwritten */
  store = test_open_store (dir, own_key, at_rest);
  g_assert_true (test_save_contact (store, alice, "Alice", &error));
  ep_store_close (store);
  g_clear_object (&store);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpuint (len, >, 4096);
  memset (contents + 100, 0xa5, len - 100);
  g_assert_true (g_file_set_contents (path, contents, len, NULL));
  expect_open_error (path, EP_STORE_ERROR_CORRUPT);

  /* A path that cannot be a file */
  expect_open_error (dir, EP_STORE_ERROR_FAILED);

  test_rm_dir (dir);
}

static void
test_store_wrong_key (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "store.sqlite", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpStore) store = test_open_store (dir, own_key, at_rest);
  g_autoptr(EpMessage) message = NULL;
  g_autoptr(GPtrArray) page = NULL;
  g_autoptr(GPtrArray) contacts = NULL;
  guint8 other[32];

  g_assert_true (test_save_contact (store, alice, "Alice", &error));
  message = test_send (store, alice, "secret", &error);
  g_assert_no_error (error);
  ep_store_close (store);
  g_clear_object (&store);

  memcpy (other, at_rest, 32);
  other[0] ^= 1;
  store = ep_store_open (path, own_key, other, &error);
  g_assert_error (error, EP_STORE_ERROR, EP_STORE_ERROR_WRONG_KEY);
  g_assert_null (store);
  g_clear_error (&error);

  /* Without the key check row, the first body that fails says so. */
  sql_exec (path, "DELETE FROM settings WHERE key = 'store.key-check'");
  store = ep_store_open (path, own_key, other, &error);
  g_assert_no_error (error);
  page = test_load_messages (store, alice, NULL, 10, &error);
  g_assert_error (error, EP_STORE_ERROR, EP_STORE_ERROR_WRONG_KEY);
  g_assert_null (page);
  g_clear_error (&error);
  contacts = TEST_AWAIT (ep_store_load_contacts_finish (store, res, &error),
                         ep_store_load_contacts_async (store, NULL, test_on_result, &_res));
  g_assert_error (error, EP_STORE_ERROR, EP_STORE_ERROR_WRONG_KEY);
  g_clear_error (&error);

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
  test_key (bob, 4);

  g_test_add_func ("/ep/store-files/migrate-v1", test_store_migrate_v1);
  g_test_add_func ("/ep/store-files/bad-files", test_store_bad_files);
  g_test_add_func ("/ep/store-files/wrong-key", test_store_wrong_key);

  return g_test_run ();
}
