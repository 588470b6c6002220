/* ep-store-outbox.c — EpStore's operations on the outbox and settings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ep-store-private.h"

#define SETTINGS_RESERVED "store."

typedef struct
{
  guint8           key[EP_CONTACT_KEY_SIZE];
  guint8           id[EP_MESSAGE_ID_SIZE];
  char            *name;
  char            *value;
  gint64           next_attempt;
  gboolean         has_key;
  char            *contact_hex;
  char            *id_hex;
} Args;

static void
args_free (Args *args)
{
  g_free (args->name);
  g_free (args->value);
  g_free (args->contact_hex);
  g_free (args->id_hex);
  g_free (args);
}

static gpointer
attempted_work (EpStore  *self,
                gpointer  data,
                GError  **error)
{
  Args *args = data;
  sqlite3_stmt *stmt;
  gboolean in_outbox;
  int rc;

  if (!ep_store_begin (self, error))
    return NULL;

  stmt = ep_store_statement (self,
    "UPDATE outbox SET attempts = attempts + 1, next_attempt = ?3"
    " WHERE message = (SELECT seq FROM messages WHERE sender = ?1 AND id = ?2)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_blob (stmt, 1, self->own_key, EP_MESSAGE_KEY_SIZE, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 2, args->id, EP_MESSAGE_ID_SIZE, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, args->next_attempt);
  if (!ep_store_step_done (self, stmt, error))
    goto fail;
  in_outbox = sqlite3_changes (self->db) > 0;

  if (in_outbox)
    {
      stmt = ep_store_statement (self,
        "UPDATE messages SET status = ?3 WHERE sender = ?1 AND id = ?2 AND status = ?4"
        " RETURNING contact", error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_blob (stmt, 1, self->own_key, EP_MESSAGE_KEY_SIZE, SQLITE_STATIC);
      sqlite3_bind_blob (stmt, 2, args->id, EP_MESSAGE_ID_SIZE, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 3, EP_MESSAGE_STATUS_SENT);
      sqlite3_bind_int (stmt, 4, EP_MESSAGE_STATUS_QUEUED);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          const guint8 *contact = ep_store_column_blob (stmt, 0, EP_CONTACT_KEY_SIZE);

          if (contact != NULL)
            {
              args->contact_hex = g_malloc (EP_CONTACT_KEY_SIZE * 2 + 1);
              args->id_hex = g_malloc (EP_MESSAGE_ID_SIZE * 2 + 1);
              for (guint i = 0; i < EP_CONTACT_KEY_SIZE; i++)
                g_snprintf (args->contact_hex + 2 * i, 3, "%02x", contact[i]);
              for (guint i = 0; i < EP_MESSAGE_ID_SIZE; i++)
                g_snprintf (args->id_hex + 2 * i, 3, "%02x", args->id[i]);
            }
          rc = sqlite3_step (stmt);
        }
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        {
          ep_store_set_error (self, rc, error);
          goto fail;
        }
    }

  if (!ep_store_commit (self, error))
    goto fail;
  return GINT_TO_POINTER (in_outbox);

fail:
  ep_store_rollback (self);
  return NULL;
}

static void
attempted_done (EpStore  *self,
                gpointer  data,
                gpointer  result)
{
  Args *args = data;

  if (args->contact_hex != NULL)
    ep_store_emit_message_status_changed (self, args->contact_hex, args->id_hex,
                                          EP_MESSAGE_STATUS_SENT);
}

/**
 * ep_store_outbox_attempted_async:
 * @id: one of our messages
 * @next_attempt: when to try again unless acked, µs since the epoch
 *
 * Records a transmission: the attempt count grows, the next attempt is
 * scheduled and a queued message becomes sent. Finish returns %FALSE when
 * the message is no longer in the outbox (acked meanwhile).
 */
void
ep_store_outbox_attempted_async (EpStore             *self,
                                 const guint8         id[EP_MESSAGE_ID_SIZE],
                                 gint64               next_attempt,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  Args *args;

  g_return_if_fail (EP_IS_STORE (self));
  g_return_if_fail (id != NULL);

  args = g_new0 (Args, 1);
  memcpy (args->id, id, EP_MESSAGE_ID_SIZE);
  args->next_attempt = next_attempt;
  ep_store_submit (self, ep_store_outbox_attempted_async, attempted_work, attempted_done,
                   args, (GDestroyNotify) args_free, NULL, cancellable, callback, user_data);
}

gboolean
ep_store_outbox_attempted_finish (EpStore       *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return ep_store_finish (self, result, ep_store_outbox_attempted_async, error) != NULL;
}

static gpointer
load_outbox_work (EpStore  *self,
                  gpointer  data,
                  GError  **error)
{
  Args *args = data;
  g_autoptr(GPtrArray) items = NULL;
  sqlite3_stmt *stmt;
  int rc;

  stmt = ep_store_statement (self,
    "SELECT " EP_STORE_MESSAGE_COLUMNS ", o.attempts, o.next_attempt"
    " FROM outbox o JOIN messages m ON m.seq = o.message"
    " WHERE ?1 IS NULL OR o.contact = ?1 ORDER BY o.contact, m.lamport, m.id", error);
  if (stmt == NULL)
    return NULL;
  if (args->has_key)
    sqlite3_bind_blob (stmt, 1, args->key, EP_CONTACT_KEY_SIZE, SQLITE_STATIC);

  items = g_ptr_array_new_with_free_func ((GDestroyNotify) ep_store_outbox_item_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(EpStoreOutboxItem) item = g_new0 (EpStoreOutboxItem, 1);

      item->message = ep_store_message_from_row (self, stmt, error);
      if (item->message == NULL)
        {
          sqlite3_reset (stmt);
          return NULL;
        }
      item->attempts = (guint) CLAMP (sqlite3_column_int64 (stmt, 9), 0, G_MAXUINT);
      item->next_attempt = sqlite3_column_int64 (stmt, 10);
      g_ptr_array_add (items, g_steal_pointer (&item));
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ep_store_set_error (self, rc, error);
      return NULL;
    }

  return g_steal_pointer (&items);
}

/**
 * ep_store_load_outbox_async:
 * @contact_key: (nullable) (array fixed-size=32): only this contact's, or all
 *
 * Loads what waits for an ack, per contact in conversation order, with its
 * attempt count and next attempt time: what to (re)send after a start or a
 * reconnection.
 */
void
ep_store_load_outbox_async (EpStore             *self,
                            const guint8        *contact_key,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  Args *args;

  g_return_if_fail (EP_IS_STORE (self));

  args = g_new0 (Args, 1);
  if (contact_key != NULL)
    {
      memcpy (args->key, contact_key, EP_CONTACT_KEY_SIZE);
      args->has_key = TRUE;
    }
  ep_store_submit (self, ep_store_load_outbox_async, load_outbox_work, NULL,
                   args, (GDestroyNotify) args_free, (GDestroyNotify) g_ptr_array_unref,
                   cancellable, callback, user_data);
}

/** ep_store_load_outbox_finish: Returns: (transfer container) (element-type EpStoreOutboxItem) */
GPtrArray *
ep_store_load_outbox_finish (EpStore       *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return ep_store_finish (self, result, ep_store_load_outbox_async, error);
}

void
ep_store_outbox_item_free (EpStoreOutboxItem *item)
{
  if (item == NULL)
    return;
  g_clear_object (&item->message);
  g_free (item);
}

/* ---- settings -------------------------------------------------------- */

static gboolean
check_setting_name (const char  *name,
                    GError     **error)
{
  if (name[0] == '\0' || g_str_has_prefix (name, SETTINGS_RESERVED) ||
      !g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, EP_STORE_ERROR, EP_STORE_ERROR_INVALID,
                   _("“%s” cannot be used as the name of a setting"), name);
      return FALSE;
    }
  return TRUE;
}

static gpointer
set_setting_work (EpStore  *self,
                  gpointer  data,
                  GError  **error)
{
  Args *args = data;
  sqlite3_stmt *stmt;

  if (!ep_store_begin (self, error))
    return NULL;
  if (args->value != NULL)
    stmt = ep_store_statement (self, "INSERT INTO settings (key, value) VALUES (?1, ?2)"
                               " ON CONFLICT (key) DO UPDATE SET value = excluded.value", error);
  else
    stmt = ep_store_statement (self, "DELETE FROM settings WHERE key = ?1", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, args->name, -1, SQLITE_STATIC);
  if (args->value != NULL)
    sqlite3_bind_text (stmt, 2, args->value, -1, SQLITE_STATIC);
  if (!ep_store_step_done (self, stmt, error) || !ep_store_commit (self, error))
    goto fail;
  return GINT_TO_POINTER (TRUE);

fail:
  ep_store_rollback (self);
  return NULL;
}

/**
 * ep_store_set_setting_async:
 * @key: a name not starting with "store."
 * @value: (nullable): UTF-8 text, or %NULL to remove the setting
 */
void
ep_store_set_setting_async (EpStore             *self,
                            const char          *key,
                            const char          *value,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GError *error = NULL;
  Args *args;

  g_return_if_fail (EP_IS_STORE (self));
  g_return_if_fail (key != NULL);

  if (!check_setting_name (key, &error))
    ;
  else if (value != NULL && !g_utf8_validate (value, -1, NULL))
    g_set_error_literal (&error, EP_STORE_ERROR, EP_STORE_ERROR_INVALID,
                         _("A setting must be valid text"));
  if (error != NULL)
    {
      g_task_report_error (self, callback, user_data, ep_store_set_setting_async, error);
      return;
    }

  args = g_new0 (Args, 1);
  args->name = g_strdup (key);
  args->value = g_strdup (value);
  ep_store_submit (self, ep_store_set_setting_async, set_setting_work, NULL,
                   args, (GDestroyNotify) args_free, NULL, cancellable, callback, user_data);
}

gboolean
ep_store_set_setting_finish (EpStore       *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return ep_store_finish (self, result, ep_store_set_setting_async, error) != NULL;
}

static gpointer
get_setting_work (EpStore  *self,
                  gpointer  data,
                  GError  **error)
{
  Args *args = data;
  sqlite3_stmt *stmt;
  char *value = NULL;
  int rc;

  stmt = ep_store_statement (self, "SELECT value FROM settings WHERE key = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, args->name, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    ep_store_set_error (self, rc, error);
  return value;
}

void
ep_store_get_setting_async (EpStore             *self,
                            const char          *key,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GError *error = NULL;
  Args *args;

  g_return_if_fail (EP_IS_STORE (self));
  g_return_if_fail (key != NULL);

  if (!check_setting_name (key, &error))
    {
      g_task_report_error (self, callback, user_data, ep_store_get_setting_async, error);
      return;
    }

  args = g_new0 (Args, 1);
  args->name = g_strdup (key);
  ep_store_submit (self, ep_store_get_setting_async, get_setting_work, NULL,
                   args, (GDestroyNotify) args_free, g_free, cancellable, callback, user_data);
}

/** ep_store_get_setting_finish: Returns: (transfer full) (nullable): the value; %NULL
 *  without an error when the setting is not set */
char *
ep_store_get_setting_finish (EpStore       *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return ep_store_finish (self, result, ep_store_get_setting_async, error);
}
