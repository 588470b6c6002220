/* ep-store-contacts.c — EpStore's operations on contacts
 *
 * Each public call copies its arguments, runs one job on the store's worker
 * (ep-store.c) and every job that writes does so in one transaction. The
 * jobs never touch GObjects owned by the caller; the objects they create
 * are handed over with the result.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-store-private.h"

typedef struct
{
  guint8    key[EP_CONTACT_KEY_SIZE];
  char     *name;
  char     *status_text;
  gint64    last_seen;
  guint64   seq;
  int       request_state;
  gboolean  blocked;
  gboolean  has_nospam;
  gboolean  one;          /* load only the contact of @key */
  guint32   nospam;
} Args;

static Args *
args_new (const guint8 *key)
{
  Args *args = g_new0 (Args, 1);

  if (key != NULL)
    memcpy (args->key, key, EP_CONTACT_KEY_SIZE);
  return args;
}

static void
args_free (Args *args)
{
  g_free (args->name);
  g_free (args->status_text);
  g_free (args);
}

/* ---- contacts -------------------------------------------------------- */

#define CONTACT_COLUMNS \
  "key, name, status_text, request_state, nospam, last_seen, unread, blocked, last_activity"

static EpContact *
contact_from_row (EpStore       *self,
                  sqlite3_stmt  *stmt,
                  GError       **error)
{
  const guint8 *key = ep_store_column_blob (stmt, 0, EP_CONTACT_KEY_SIZE);
  g_autoptr(EpContact) contact = NULL;
  int state = sqlite3_column_int (stmt, 3);
  gint64 last_seen = sqlite3_column_int64 (stmt, 5);
  sqlite3_stmt *last;
  int rc;

  if (key == NULL)
    {
      ep_store_set_error (self, SQLITE_CORRUPT, error);
      return NULL;
    }

  contact = ep_contact_new (key);
  ep_contact_set_name (contact, (const char *) sqlite3_column_text (stmt, 1));
  ep_contact_set_status_text (contact, (const char *) sqlite3_column_text (stmt, 2));
  if (sqlite3_column_int (stmt, 7) != 0)
    state = EP_CONTACT_REQUEST_BLOCKED;
  if (state < EP_CONTACT_REQUEST_NONE || state > EP_CONTACT_REQUEST_BLOCKED)
    state = EP_CONTACT_REQUEST_NONE;
  ep_contact_set_request_state (contact, state);
  if (sqlite3_column_type (stmt, 4) != SQLITE_NULL)
    ep_contact_set_nospam (contact, TRUE, (guint32) sqlite3_column_int64 (stmt, 4));
  if (last_seen != 0)
    {
      g_autoptr(GDateTime) dt = ep_message_datetime_from_usec (last_seen);
      ep_contact_set_last_seen (contact, dt);
    }
  ep_contact_set_unread_count (contact, (guint) CLAMP (sqlite3_column_int64 (stmt, 6),
                                                       0, G_MAXUINT));
  ep_contact_set_last_activity (contact, sqlite3_column_int64 (stmt, 8));

  last = ep_store_statement (self,
                             "SELECT body, sender_time FROM messages WHERE contact = ?"
                             " ORDER BY lamport DESC, sender DESC, id DESC LIMIT 1", error);
  if (last == NULL)
    return NULL;
  sqlite3_bind_blob (last, 1, key, EP_CONTACT_KEY_SIZE, SQLITE_TRANSIENT);
  rc = sqlite3_step (last);
  if (rc == SQLITE_ROW)
    {
      g_autofree char *text = ep_store_unseal (self, sqlite3_column_blob (last, 0),
                                               sqlite3_column_bytes (last, 0), error);
      g_autoptr(GDateTime) time = NULL;

      if (text == NULL)
        {
          sqlite3_reset (last);
          return NULL;
        }
      time = ep_message_datetime_from_usec (sqlite3_column_int64 (last, 1));
      ep_contact_set_last_message (contact, text, time);
      sodium_memzero (text, strlen (text));
    }
  sqlite3_reset (last);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      ep_store_set_error (self, rc, error);
      return NULL;
    }

  return g_steal_pointer (&contact);
}

static gpointer
save_contact_work (EpStore  *self,
                   gpointer  data,
                   GError  **error)
{
  Args *args = data;
  sqlite3_stmt *stmt;

  if (!ep_store_begin (self, error))
    return NULL;

  stmt = ep_store_statement (self,
    "INSERT INTO contacts (key, name, status_text, request_state, nospam, last_seen, blocked,"
    "                      created, last_activity)"
    " VALUES (?1, ?2, ?3, MAX (?4, 0), ?5, ?6, ?7, ?8, ?8)"
    " ON CONFLICT (key) DO UPDATE SET name = excluded.name,"
    "  status_text = excluded.status_text,"
    "  request_state = CASE WHEN ?4 < 0 THEN request_state ELSE ?4 END,"
    "  nospam = excluded.nospam,"
    "  last_seen = MAX (last_seen, excluded.last_seen),"
    "  blocked = excluded.blocked", error);
  if (stmt == NULL)
    goto fail;

  sqlite3_bind_blob (stmt, 1, args->key, EP_CONTACT_KEY_SIZE, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, args->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, args->status_text, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 4, args->blocked ? -1 : args->request_state);
  if (args->has_nospam)
    sqlite3_bind_int64 (stmt, 5, args->nospam);
  sqlite3_bind_int64 (stmt, 6, args->last_seen);
  sqlite3_bind_int (stmt, 7, args->blocked);
  sqlite3_bind_int64 (stmt, 8, g_get_real_time ());

  if (!ep_store_step_done (self, stmt, error) || !ep_store_commit (self, error))
    goto fail;
  return GINT_TO_POINTER (TRUE);

fail:
  ep_store_rollback (self);
  return NULL;
}

/**
 * ep_store_save_contact_async:
 * @contact: the contact to create or update
 *
 * Stores @contact's name, status text, request state (%EP_CONTACT_REQUEST_BLOCKED
 * blocks it and keeps the state of the request under it), nospam and last
 * seen. Unread count, Lamport clock and presence seq are the store's own.
 */
void
ep_store_save_contact_async (EpStore             *self,
                             EpContact           *contact,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  Args *args;
  GDateTime *last_seen;

  g_return_if_fail (EP_IS_STORE (self));
  g_return_if_fail (EP_IS_CONTACT (contact));

  args = args_new (ep_contact_get_key_bytes (contact));
  args->name = g_strdup (ep_contact_get_name (contact));
  args->status_text = g_strdup (ep_contact_get_status_text (contact));
  args->request_state = ep_contact_get_request_state (contact);
  args->blocked = args->request_state == EP_CONTACT_REQUEST_BLOCKED;
  args->has_nospam = ep_contact_get_nospam (contact, &args->nospam);
  last_seen = ep_contact_get_last_seen (contact);
  args->last_seen = last_seen != NULL ? g_date_time_to_unix (last_seen) * G_USEC_PER_SEC +
                                        g_date_time_get_microsecond (last_seen) : 0;

  ep_store_submit (self, ep_store_save_contact_async, save_contact_work, NULL,
                   args, (GDestroyNotify) args_free, NULL,
                   cancellable, callback, user_data);
}

gboolean
ep_store_save_contact_finish (EpStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return ep_store_finish (self, result, ep_store_save_contact_async, error) != NULL;
}

static gpointer
load_contacts_work (EpStore  *self,
                    gpointer  data,
                    GError  **error)
{
  Args *args = data;
  g_autoptr(GPtrArray) contacts = g_ptr_array_new_with_free_func (g_object_unref);
  sqlite3_stmt *stmt;
  int rc;

  if (args->one)
    stmt = ep_store_statement (self, "SELECT " CONTACT_COLUMNS " FROM contacts WHERE key = ?",
                               error);
  else
    stmt = ep_store_statement (self, "SELECT " CONTACT_COLUMNS " FROM contacts"
                               " ORDER BY last_activity DESC, key", error);
  if (stmt == NULL)
    return NULL;
  if (args->one)
    sqlite3_bind_blob (stmt, 1, args->key, EP_CONTACT_KEY_SIZE, SQLITE_STATIC);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      EpContact *contact = contact_from_row (self, stmt, error);

      if (contact == NULL)
        {
          sqlite3_reset (stmt);
          return NULL;
        }
      g_ptr_array_add (contacts, contact);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ep_store_set_error (self, rc, error);
      return NULL;
    }

  if (args->one && contacts->len == 0)
    {
      ep_store_set_no_contact (error);
      return NULL;
    }

  return g_steal_pointer (&contacts);
}

/**
 * ep_store_load_contacts_async:
 *
 * Loads every contact, most recently active first, with the preview of
 * its last message.
 */
void
ep_store_load_contacts_async (EpStore             *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (EP_IS_STORE (self));

  ep_store_submit (self, ep_store_load_contacts_async, load_contacts_work, NULL,
                   args_new (NULL), (GDestroyNotify) args_free,
                   (GDestroyNotify) g_ptr_array_unref, cancellable, callback, user_data);
}

/** ep_store_load_contacts_finish: Returns: (transfer container) (element-type EpContact) */
GPtrArray *
ep_store_load_contacts_finish (EpStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return ep_store_finish (self, result, ep_store_load_contacts_async, error);
}

void
ep_store_load_contact_async (EpStore             *self,
                             const guint8         key[EP_CONTACT_KEY_SIZE],
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  Args *args;

  g_return_if_fail (EP_IS_STORE (self));
  g_return_if_fail (key != NULL);

  args = args_new (key);
  args->one = TRUE;
  ep_store_submit (self, ep_store_load_contact_async, load_contacts_work, NULL,
                   args, (GDestroyNotify) args_free,
                   (GDestroyNotify) g_ptr_array_unref, cancellable, callback, user_data);
}

/** ep_store_load_contact_finish: Returns: (transfer full): the contact, or %NULL
 *  with %EP_STORE_ERROR_NOT_FOUND */
EpContact *
ep_store_load_contact_finish (EpStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_autoptr(GPtrArray) contacts = ep_store_finish (self, result, ep_store_load_contact_async,
                                                   error);

  if (contacts == NULL)
    return NULL;
  return g_object_ref (g_ptr_array_index (contacts, 0));
}

/* One UPDATE or DELETE on a contact, in a transaction. */
static gpointer
update_contact (EpStore     *self,
                const char  *sql,
                Args        *args,
                GError     **error)
{
  sqlite3_stmt *stmt;
  gboolean changed;

  if (!ep_store_begin (self, error))
    return NULL;
  stmt = ep_store_statement (self, sql, error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_blob (stmt, 1, args->key, EP_CONTACT_KEY_SIZE, SQLITE_STATIC);
  if (sqlite3_bind_parameter_count (stmt) >= 2)
    sqlite3_bind_int64 (stmt, 2, (gint64) args->seq);
  if (!ep_store_step_done (self, stmt, error))
    goto fail;
  changed = sqlite3_changes (self->db) > 0;
  if (!ep_store_commit (self, error))
    goto fail;
  return GINT_TO_POINTER (changed);

fail:
  ep_store_rollback (self);
  return NULL;
}

static gpointer
delete_contact_work (EpStore *self, gpointer data, GError **error)
{
  return update_contact (self, "DELETE FROM contacts WHERE key = ?1", data, error);
}

/**
 * ep_store_delete_contact_async:
 *
 * Deletes the contact with its whole history and outbox.
 * Finish returns %TRUE when there was such a contact.
 */
void
ep_store_delete_contact_async (EpStore             *self,
                               const guint8         key[EP_CONTACT_KEY_SIZE],
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (EP_IS_STORE (self));
  g_return_if_fail (key != NULL);

  ep_store_submit (self, ep_store_delete_contact_async, delete_contact_work, NULL,
                   args_new (key), (GDestroyNotify) args_free, NULL,
                   cancellable, callback, user_data);
}

gboolean
ep_store_delete_contact_finish (EpStore       *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return ep_store_finish (self, result, ep_store_delete_contact_async, error) != NULL;
}

static gpointer
mark_read_work (EpStore *self, gpointer data, GError **error)
{
  return update_contact (self, "UPDATE contacts SET unread = 0 WHERE key = ?1 AND unread != 0",
                         data, error);
}

/** ep_store_mark_read_async: Sets the unread count to 0; finish says whether it changed. */
void
ep_store_mark_read_async (EpStore             *self,
                          const guint8         key[EP_CONTACT_KEY_SIZE],
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_return_if_fail (EP_IS_STORE (self));
  g_return_if_fail (key != NULL);

  ep_store_submit (self, ep_store_mark_read_async, mark_read_work, NULL,
                   args_new (key), (GDestroyNotify) args_free, NULL,
                   cancellable, callback, user_data);
}

gboolean
ep_store_mark_read_finish (EpStore       *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  return ep_store_finish (self, result, ep_store_mark_read_async, error) != NULL;
}

static gpointer
accept_seq_work (EpStore *self, gpointer data, GError **error)
{
  Args *args = data;

  if (args->seq > G_MAXINT64)
    return NULL;
  return update_contact (self,
                         "UPDATE contacts SET presence_seq = ?2"
                         " WHERE key = ?1 AND presence_seq <= ?2", args, error);
}

/**
 * ep_store_accept_presence_seq_async:
 * @seq: the `seq` of a presence record of this contact that verified
 *
 * Records @seq as the last accepted one when it is not below it. Finish
 * returns %TRUE when the record is to be used, %FALSE (no error) for a
 * replay or rollback, or for an unknown contact.
 */
void
ep_store_accept_presence_seq_async (EpStore             *self,
                                    const guint8         key[EP_CONTACT_KEY_SIZE],
                                    guint64              seq,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  Args *args;

  g_return_if_fail (EP_IS_STORE (self));
  g_return_if_fail (key != NULL);

  args = args_new (key);
  args->seq = seq;
  ep_store_submit (self, ep_store_accept_presence_seq_async, accept_seq_work, NULL,
                   args, (GDestroyNotify) args_free, NULL, cancellable, callback, user_data);
}

gboolean
ep_store_accept_presence_seq_finish (EpStore       *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return ep_store_finish (self, result, ep_store_accept_presence_seq_async, error) != NULL;
}
