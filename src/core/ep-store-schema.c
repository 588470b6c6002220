/* ep-store-schema.c — EpStore's file: opening, schema and migrations, key check
 *
 * PRAGMA user_version is the schema version. Migrations run in order, each
 * in its own transaction, from the file's version up to the current one; a
 * newer file is refused rather than damaged, and an SQLite file that holds
 * someone else's tables is refused rather than adopted.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-store-private.h"

#define BUSY_TIMEOUT_MS 5000
#define KEY_CHECK_SETTING "store.key-check"
#define KEY_CHECK_TEXT "encryptedp2p at-rest key check"

/* Ordered migrations: entry i takes a database from version i to i + 1. */
static const char * const migrations[EP_STORE_SCHEMA_VERSION] = {
  /* 1: the first schema */
  "CREATE TABLE settings ("
  "  key TEXT PRIMARY KEY NOT NULL,"
  "  value TEXT NOT NULL);"
  "CREATE TABLE contacts ("
  "  key BLOB PRIMARY KEY NOT NULL CHECK (length (key) = 32),"
  "  name TEXT NOT NULL DEFAULT '',"
  "  status_text TEXT NOT NULL DEFAULT '',"
  "  request_state INTEGER NOT NULL DEFAULT 0,"
  "  nospam INTEGER,"
  "  presence_seq INTEGER NOT NULL DEFAULT 0,"
  "  last_seen INTEGER NOT NULL DEFAULT 0,"
  "  unread INTEGER NOT NULL DEFAULT 0,"
  "  blocked INTEGER NOT NULL DEFAULT 0,"
  "  created INTEGER NOT NULL);"
  "CREATE TABLE messages ("
  "  seq INTEGER PRIMARY KEY,"
  "  id BLOB NOT NULL CHECK (length (id) = 16),"
  "  contact BLOB NOT NULL REFERENCES contacts (key) ON DELETE CASCADE,"
  "  outgoing INTEGER NOT NULL,"
  "  sender BLOB NOT NULL CHECK (length (sender) = 32),"
  "  sender_time INTEGER NOT NULL,"
  "  lamport INTEGER NOT NULL,"
  "  body BLOB NOT NULL,"
  "  status INTEGER NOT NULL,"
  "  received INTEGER NOT NULL,"
  "  UNIQUE (sender, id));"
  "CREATE INDEX messages_order ON messages (contact, lamport, sender, id);"
  "CREATE TABLE outbox ("
  "  message INTEGER PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,"
  "  contact BLOB NOT NULL REFERENCES contacts (key) ON DELETE CASCADE,"
  "  attempts INTEGER NOT NULL DEFAULT 0,"
  "  next_attempt INTEGER NOT NULL);"
  "CREATE INDEX outbox_contact ON outbox (contact, next_attempt);",

  /* 2: each conversation keeps its Lamport clock, and contacts sort by
   * their last activity; both derived from what version 1 stored. */
  "ALTER TABLE contacts ADD COLUMN lamport INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE contacts ADD COLUMN last_activity INTEGER NOT NULL DEFAULT 0;"
  "UPDATE contacts SET"
  "  lamport = (SELECT COALESCE (MAX (lamport), 0) FROM messages"
  "             WHERE messages.contact = contacts.key),"
  "  last_activity = MAX (created, (SELECT COALESCE (MAX (received), 0) FROM messages"
  "                                 WHERE messages.contact = contacts.key));"
  "CREATE INDEX contacts_activity ON contacts (last_activity);",
};

static gboolean
query_int (sqlite3     *db,
           const char  *path,
           const char  *sql,
           gint64      *out,
           GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);

  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          *out = sqlite3_column_int64 (stmt, 0);
          rc = SQLITE_OK;
        }
    }
  sqlite3_finalize (stmt);

  if (rc != SQLITE_OK)
    {
      ep_store_set_sqlite_error (db, path, rc, error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
migrate (sqlite3     *db,
         const char  *path,
         GError     **error)
{
  gint64 version = 0;
  gint64 tables = 0;

  if (!query_int (db, path, "PRAGMA user_version", &version, error))
    return FALSE;

  if (version > EP_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, EP_STORE_ERROR, EP_STORE_ERROR_TOO_NEW,
                   _("The message store “%s” was written by a newer version of this "
                     "program; update it to open this profile"), path);
      return FALSE;
    }

  if (version == 0)
    {
      if (!query_int (db, path, "SELECT count(*) FROM sqlite_master", &tables, error))
        return FALSE;
      if (tables != 0)
        {
          g_set_error (error, EP_STORE_ERROR, EP_STORE_ERROR_FOREIGN,
                       _("“%s” is a database of another program, not a message store"),
                       path);
          return FALSE;
        }
    }

  for (gint64 v = version; v < EP_STORE_SCHEMA_VERSION; v++)
    {
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %" G_GINT64_FORMAT, v + 1);

      g_debug ("Migrating %s from schema %" G_GINT64_FORMAT, path, v);
      if (!ep_store_exec_on (db, path, "BEGIN IMMEDIATE", error))
        return FALSE;
      if (!ep_store_exec_on (db, path, migrations[v], error) ||
          !ep_store_exec_on (db, path, bump, error) ||
          !ep_store_exec_on (db, path, "COMMIT", error))
        {
          sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
          return FALSE;
        }
    }

  if (!query_int (db, path,
                  "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
                  " ('settings', 'contacts', 'messages', 'outbox')", &tables, error))
    return FALSE;
  if (tables != 4)
    {
      g_set_error (error, EP_STORE_ERROR, EP_STORE_ERROR_FOREIGN,
                   _("“%s” is a database of another program, not a message store"), path);
      return FALSE;
    }

  return TRUE;
}

/* A known text sealed under the key: a wrong key is told at open, before
 * any body fails to decrypt. */
static gboolean
check_key (sqlite3      *db,
           const char   *path,
           const guint8 *key,
           GError      **error)
{
  sqlite3_stmt *stmt = NULL;
  g_autofree char *text = NULL;
  g_autofree guint8 *blob = NULL;
  g_autofree char *hex = NULL;
  gsize len = 0;
  int rc;

  rc = sqlite3_prepare_v2 (db, "SELECT value FROM settings WHERE key = ?", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_bind_text (stmt, 1, KEY_CHECK_SETTING, -1, SQLITE_STATIC);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          const char *value = (const char *) sqlite3_column_text (stmt, 0);
          gsize value_len = value != NULL ? strlen (value) : 0;

          blob = g_malloc (value_len / 2 + 1);
          if (value == NULL ||
              sodium_hex2bin (blob, value_len / 2 + 1, value, value_len,
                              NULL, &len, NULL) != 0)
            len = 0;
          rc = SQLITE_OK;
        }
      else if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_OK)
    {
      ep_store_set_sqlite_error (db, path, rc, error);
      return FALSE;
    }

  if (blob != NULL)
    {
      text = ep_store_unseal_with (key, path, blob, len, error);
      if (text == NULL)
        return FALSE;
      if (strcmp (text, KEY_CHECK_TEXT) != 0)
        {
          g_set_error (error, EP_STORE_ERROR, EP_STORE_ERROR_WRONG_KEY,
                       _("The messages in “%s” cannot be decrypted with this profile’s key"),
                       path);
          return FALSE;
        }
      return TRUE;
    }

  g_clear_pointer (&blob, g_free);
  blob = ep_store_seal_with (key, KEY_CHECK_TEXT, &len);
  hex = g_malloc (len * 2 + 1);
  sodium_bin2hex (hex, len * 2 + 1, blob, len);

  rc = sqlite3_prepare_v2 (db, "INSERT INTO settings (key, value) VALUES (?, ?)", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_bind_text (stmt, 1, KEY_CHECK_SETTING, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, hex, -1, SQLITE_STATIC);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_OK)
    {
      ep_store_set_sqlite_error (db, path, rc, error);
      return FALSE;
    }

  return TRUE;
}

/* Opens, configures, migrates and checks the key; NULL and @error on failure. */
sqlite3 *
ep_store_open_database (const char    *path,
                        const guint8  *key,
                        GError       **error)
{
  sqlite3 *db = NULL;
  int rc;

  rc = sqlite3_open_v2 (path, &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL);
  if (rc != SQLITE_OK)
    {
      if (db == NULL)
        g_set_error (error, EP_STORE_ERROR, EP_STORE_ERROR_FAILED,
                     _("Cannot open the message store “%s”: %s"), path, sqlite3_errstr (rc));
      else
        g_set_error (error, EP_STORE_ERROR, EP_STORE_ERROR_FAILED,
                     _("Cannot open the message store “%s”: %s"), path, sqlite3_errmsg (db));
      sqlite3_close (db);
      return NULL;
    }

  sqlite3_extended_result_codes (db, TRUE);
  sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);

  /* The first statement reads the header: a foreign file fails here.
   * synchronous=FULL: a commit is on disk before anyone is told. */
  if (!ep_store_exec_on (db, path,
                "PRAGMA journal_mode = WAL;"
                "PRAGMA synchronous = FULL;"
                "PRAGMA foreign_keys = ON;"
                "PRAGMA secure_delete = ON;", error) ||
      !migrate (db, path, error) ||
      !check_key (db, path, key, error))
    {
      sqlite3_close (db);
      return NULL;
    }

  return db;
}

