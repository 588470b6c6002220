/* store-helpers.h — blocking wrappers over EpStore's async calls, for tests
 *
 * Each spins the thread-default main context until its callback ran, with
 * a bounded wait.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib/gstdio.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

#include "ep-core.h"

#define TEST_WAIT_SECONDS 120

static inline void
test_on_result (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static inline gboolean
test_on_timeout (gpointer user_data)
{
  g_error ("timed out waiting for an async result");
  return G_SOURCE_REMOVE;
}

static inline GAsyncResult *
test_await (GAsyncResult **slot)
{
  guint id = g_timeout_add_seconds (TEST_WAIT_SECONDS, test_on_timeout, NULL);

  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
  return g_steal_pointer (slot);
}

/* Iterates until @flag is set. */
static inline void
test_spin_until (const gboolean *flag)
{
  guint id = g_timeout_add_seconds (TEST_WAIT_SECONDS, test_on_timeout, NULL);

  while (!*flag)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
}

#define TEST_AWAIT(finish_expr, call)                   \
  ({ GAsyncResult *_res = NULL, *res;                   \
     call;                                              \
     res = test_await (&_res);                          \
     __auto_type _r = (finish_expr);                    \
     g_object_unref (res);                              \
     _r; })

static inline void
test_key (guint8 key[32],
          guint8 seed)
{
  for (guint i = 0; i < 32; i++)
    key[i] = (guint8) (seed * 31 + i);
}

static inline gboolean
test_save_contact (EpStore      *store,
                   const guint8 *key,
                   const char   *name,
                   GError      **error)
{
  g_autoptr(EpContact) contact = ep_contact_new (key);

  ep_contact_set_name (contact, name);
  ep_contact_set_request_state (contact, EP_CONTACT_REQUEST_ACCEPTED);
  return TEST_AWAIT (ep_store_save_contact_finish (store, res, error),
                     ep_store_save_contact_async (store, contact, NULL, test_on_result, &_res));
}

static inline EpMessage *
test_send (EpStore      *store,
           const guint8 *key,
           const char   *text,
           GError      **error)
{
  return TEST_AWAIT (ep_store_send_message_finish (store, res, error),
                     ep_store_send_message_async (store, key, text, NULL, test_on_result, &_res));
}

static inline EpMessage *
test_receive (EpStore      *store,
              const guint8 *key,
              const guint8 *id,
              guint64       lamport,
              const char   *text,
              gboolean     *duplicate,
              GError      **error)
{
  return TEST_AWAIT (ep_store_receive_message_finish (store, res, duplicate, error),
                     ep_store_receive_message_async (store, key, id, 1700000000000000, lamport,
                                                     text, NULL, test_on_result, &_res));
}

static inline GPtrArray *
test_load_messages (EpStore      *store,
                    const guint8 *key,
                    EpMessage    *before,
                    guint         limit,
                    GError      **error)
{
  return TEST_AWAIT (ep_store_load_messages_finish (store, res, error),
                     ep_store_load_messages_async (store, key, before, limit, NULL,
                                                   test_on_result, &_res));
}

static inline char *
test_tmp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("ep-store-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

/* Removes @dir and the files in it. */
static inline void
test_rm_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

/* Opens (creating) the store of the profile in @dir. */
static inline EpStore *
test_open_store (const char   *dir,
                 const guint8 *own_key,
                 const guint8 *at_rest)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, "store.sqlite", NULL);
  EpStore *store = ep_store_open (path, own_key, at_rest, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

/* The first column of the first row of @sql on the store file in @dir,
 * read behind the store's back; -1 when there is no row. */
static inline gint64
test_sql_int (const char *dir,
              const char *sql)
{
  g_autofree char *path = g_build_filename (dir, "store.sqlite", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value = -1;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

/* How many messages wait in the outbox, for @key or (NULL) everyone. */
static inline guint
test_count_outbox (EpStore      *store,
                   const guint8 *key)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items =
    TEST_AWAIT (ep_store_load_outbox_finish (store, res, &error),
                ep_store_load_outbox_async (store, key, NULL, test_on_result, &_res));

  g_assert_no_error (error);
  return items->len;
}
