/* ep-store-messages.c — EpStore's operations on messages
 *
 * Sending stores the message and its outbox row in one transaction before
 * the call returns: whatever happens next, it will be retransmitted.
 * Receiving is idempotent on (sender key, message id): the history holds
 * each message exactly once however often the network delivers it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-lamport.h"
#include "ep-store-private.h"

/* The largest text a message may carry, as on the wire. */
#define MAX_TEXT_BYTES 65536

typedef struct
{
  guint8           key[EP_CONTACT_KEY_SIZE];
  guint8           id[EP_MESSAGE_ID_SIZE];
  guint8           sender[EP_MESSAGE_KEY_SIZE];
  char            *text;
  char            *setting;
  gint64           time;
  guint64          lamport;
  EpMessageStatus  status;
  gboolean         has_key;
  gboolean         has_position;
  guint            limit;
} Args;

typedef struct
{
  EpMessage       *message;
  char            *contact_key;
  char            *id;
  EpMessageStatus  status;
  gboolean         duplicate;
  gboolean         changed;
} Outcome;

static Args *
args_new (const guint8 *key)
{
  Args *args = g_new0 (Args, 1);

  if (key != NULL)
    {
      memcpy (args->key, key, EP_CONTACT_KEY_SIZE);
      args->has_key = TRUE;
    }
  return args;
}

static void
args_free (Args *args)
{
  if (args->text != NULL)
    sodium_memzero (args->text, strlen (args->text));
  g_free (args->text);
  g_free (args->setting);
  g_free (args);
}

static void
outcome_free (Outcome *outcome)
{
  g_clear_object (&outcome->message);
  g_free (outcome->contact_key);
  g_free (outcome->id);
  g_free (outcome);
}

static gboolean
check_text (const char  *text,
            GError     **error)
{
  gsize len = strlen (text);

  if (len > MAX_TEXT_BYTES || !g_utf8_validate (text, len, NULL))
    {
      g_set_error_literal (error, EP_STORE_ERROR, EP_STORE_ERROR_INVALID,
                           _("A message must be valid text of at most 64 KiB"));
      return FALSE;
    }
  return TRUE;
}

/* The conversation's Lamport clock, or FALSE with NOT_FOUND. */
static gboolean
read_clock (EpStore       *self,
            const guint8  *key,
            guint64       *clock,
            GError       **error)
{
  sqlite3_stmt *stmt = ep_store_statement (self, "SELECT lamport FROM contacts WHERE key = ?",
                                           error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, key, EP_CONTACT_KEY_SIZE, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    *clock = (guint64) MAX (sqlite3_column_int64 (stmt, 0), 0);
  sqlite3_reset (stmt);

  if (rc == SQLITE_DONE)
    ep_store_set_no_contact (error);
  else if (rc != SQLITE_ROW)
    ep_store_set_error (self, rc, error);
  return rc == SQLITE_ROW;
}

static gboolean
insert_message (EpStore       *self,
                Args          *args,
                const guint8  *sender,
                gboolean       outgoing,
                EpMessageStatus status,
                gint64         now,
                GError       **error)
{
  sqlite3_stmt *stmt;
  g_autofree guint8 *body = NULL;
  gsize body_len = 0;

  stmt = ep_store_statement (self,
    "INSERT INTO messages (id, contact, outgoing, sender, sender_time, lamport, body, status,"
    "                      received)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;

  body = ep_store_seal (self, args->text, &body_len);
  sqlite3_bind_blob (stmt, 1, args->id, EP_MESSAGE_ID_SIZE, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 2, args->key, EP_CONTACT_KEY_SIZE, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, outgoing);
  sqlite3_bind_blob (stmt, 4, sender, EP_MESSAGE_KEY_SIZE, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, args->time);
  sqlite3_bind_int64 (stmt, 6, (gint64) args->lamport);
  sqlite3_bind_blob (stmt, 7, body, (int) body_len, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 8, status);
  sqlite3_bind_int64 (stmt, 9, now);

  return ep_store_step_done (self, stmt, error);
}

static gboolean
update_clock (EpStore       *self,
              const guint8  *key,
              guint64        clock,
              gboolean       unread,
              gint64         now,
              GError       **error)
{
  sqlite3_stmt *stmt = ep_store_statement (self,
    "UPDATE contacts SET lamport = ?2, last_activity = MAX (last_activity, ?3),"
    " unread = unread + ?4 WHERE key = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, key, EP_CONTACT_KEY_SIZE, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, (gint64) clock);
  sqlite3_bind_int64 (stmt, 3, now);
  sqlite3_bind_int (stmt, 4, unread ? 1 : 0);
  return ep_store_step_done (self, stmt, error);
}

static void
message_added (EpStore  *self,
               gpointer  data,
               gpointer  result)
{
  Outcome *outcome = result;

  if (!outcome->duplicate)
    ep_store_emit_message_added (self, outcome->message);
}

static gpointer
send_work (EpStore  *self,
           gpointer  data,
           GError  **error)
{
  Args *args = data;
  sqlite3_stmt *stmt;
  Outcome *outcome;
  guint64 clock = 0;
  gint64 now = g_get_real_time ();

  if (!ep_store_begin (self, error))
    return NULL;
  if (!read_clock (self, args->key, &clock, error))
    goto fail;

  randombytes_buf (args->id, sizeof args->id);
  args->time = now;
  args->lamport = ep_lamport_on_send (clock);
  if (!insert_message (self, args, self->own_key, TRUE, EP_MESSAGE_STATUS_QUEUED, now, error))
    goto fail;

  stmt = ep_store_statement (self, "INSERT INTO outbox (message, contact, attempts, next_attempt)"
                             " VALUES (last_insert_rowid (), ?, 0, ?)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_blob (stmt, 1, args->key, EP_CONTACT_KEY_SIZE, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, now);
  if (!ep_store_step_done (self, stmt, error) ||
      !update_clock (self, args->key, args->lamport, FALSE, now, error) ||
      !ep_store_commit (self, error))
    goto fail;

  outcome = g_new0 (Outcome, 1);
  outcome->message = ep_message_new (args->id, args->key, self->own_key, TRUE, args->text,
                                     now, args->lamport, EP_MESSAGE_STATUS_QUEUED, now);
  return outcome;

fail:
  ep_store_rollback (self);
  return NULL;
}

/**
 * ep_store_send_message_async:
 * @contact_key: whom to send to; must be a stored contact
 * @text: UTF-8, at most 64 KiB
 *
 * Stores a new outgoing message, stamped by the conversation's Lamport
 * clock, and puts it in the outbox, in one transaction. When the callback
 * runs the message is on disk; #EpStore::message-added was emitted just
 * before.
 */
void
ep_store_send_message_async (EpStore             *self,
                             const guint8         contact_key[EP_CONTACT_KEY_SIZE],
                             const char          *text,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GError) error = NULL;
  Args *args;

  g_return_if_fail (EP_IS_STORE (self));
  g_return_if_fail (contact_key != NULL);
  g_return_if_fail (text != NULL);

  if (!check_text (text, &error))
    {
      g_task_report_error (self, callback, user_data, ep_store_send_message_async,
                           g_steal_pointer (&error));
      return;
    }

  args = args_new (contact_key);
  args->text = g_strdup (text);
  ep_store_submit (self, ep_store_send_message_async, send_work, message_added,
                   args, (GDestroyNotify) args_free, (GDestroyNotify) outcome_free,
                   cancellable, callback, user_data);
}

/** ep_store_send_message_finish: Returns: (transfer full): the queued message */
EpMessage *
ep_store_send_message_finish (EpStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  Outcome *outcome;
  EpMessage *message;

  outcome = ep_store_finish (self, result, ep_store_send_message_async, error);
  if (outcome == NULL)
    return NULL;
  message = g_steal_pointer (&outcome->message);
  outcome_free (outcome);
  return message;
}

/* The stored message (sender, id), or NULL (no error) when there is none. */
static EpMessage *
find_message (EpStore       *self,
              const guint8  *sender,
              const guint8  *id,
              GError       **error)
{
  sqlite3_stmt *stmt = ep_store_statement (self,
                                           "SELECT " EP_STORE_MESSAGE_COLUMNS " FROM messages m"
                                           " WHERE m.sender = ? AND m.id = ?", error);
  EpMessage *message = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_blob (stmt, 1, sender, EP_MESSAGE_KEY_SIZE, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 2, id, EP_MESSAGE_ID_SIZE, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    message = ep_store_message_from_row (self, stmt, error);
  else if (rc != SQLITE_DONE)
    ep_store_set_error (self, rc, error);
  sqlite3_reset (stmt);
  return message;
}

static gpointer
receive_work (EpStore  *self,
              gpointer  data,
              GError  **error)
{
  Args *args = data;
  GError *local_error = NULL;
  g_autoptr(EpMessage) existing = NULL;
  Outcome *outcome;
  guint64 clock = 0;
  gint64 now = g_get_real_time ();

  if (!ep_store_begin (self, error))
    return NULL;

  existing = find_message (self, args->key, args->id, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      goto fail;
    }
  if (existing != NULL)
    {
      ep_store_rollback (self);
      outcome = g_new0 (Outcome, 1);
      outcome->message = g_steal_pointer (&existing);
      outcome->duplicate = TRUE;
      return outcome;
    }

  if (!read_clock (self, args->key, &clock, error) ||
      !insert_message (self, args, args->key, FALSE, EP_MESSAGE_STATUS_DELIVERED, now, error) ||
      !update_clock (self, args->key, ep_lamport_on_receive (clock, args->lamport), TRUE, now,
                     error) ||
      !ep_store_commit (self, error))
    goto fail;

  outcome = g_new0 (Outcome, 1);
  outcome->message = ep_message_new (args->id, args->key, args->key, FALSE, args->text,
                                     args->time, args->lamport, EP_MESSAGE_STATUS_DELIVERED,
                                     now);
  return outcome;

fail:
  ep_store_rollback (self);
  return NULL;
}

/**
 * ep_store_receive_message_async:
 * @contact_key: the sender, a stored contact
 * @id: the sender's 16-byte message id
 * @sender_time: the sender's timestamp, µs since the epoch
 * @lamport: the sender's Lamport stamp, at most %EP_LAMPORT_MAX
 * @text: UTF-8, at most 64 KiB
 *
 * Stores an incoming message once: when (sender, id) is already stored,
 * nothing changes and finish reports a duplicate (acknowledge it again).
 * A new message counts as unread and moves the conversation's clock past
 * @lamport.
 */
void
ep_store_receive_message_async (EpStore             *self,
                                const guint8         contact_key[EP_CONTACT_KEY_SIZE],
                                const guint8         id[EP_MESSAGE_ID_SIZE],
                                gint64               sender_time,
                                guint64              lamport,
                                const char          *text,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GError) error = NULL;
  Args *args;

  g_return_if_fail (EP_IS_STORE (self));
  g_return_if_fail (contact_key != NULL);
  g_return_if_fail (id != NULL);
  g_return_if_fail (text != NULL);

  if (!check_text (text, &error))
    ;
  else if (lamport > EP_LAMPORT_MAX)
    g_set_error_literal (&error, EP_STORE_ERROR, EP_STORE_ERROR_INVALID,
                         _("A message’s logical clock is out of range"));
  if (error != NULL)
    {
      g_task_report_error (self, callback, user_data, ep_store_receive_message_async,
                           g_steal_pointer (&error));
      return;
    }

  args = args_new (contact_key);
  memcpy (args->id, id, EP_MESSAGE_ID_SIZE);
  args->time = sender_time;
  args->lamport = lamport;
  args->text = g_strdup (text);
  ep_store_submit (self, ep_store_receive_message_async, receive_work, message_added,
                   args, (GDestroyNotify) args_free, (GDestroyNotify) outcome_free,
                   cancellable, callback, user_data);
}

/**
 * ep_store_receive_message_finish:
 * @duplicate: (out) (optional): set to %TRUE when it was stored before
 *
 * Returns: (transfer full): the stored message (the earlier copy for a duplicate)
 */
EpMessage *
ep_store_receive_message_finish (EpStore       *self,
                                 GAsyncResult  *result,
                                 gboolean      *duplicate,
                                 GError       **error)
{
  Outcome *outcome = ep_store_finish (self, result, ep_store_receive_message_async, error);
  EpMessage *message;

  if (duplicate != NULL)
    *duplicate = outcome != NULL && outcome->duplicate;
  if (outcome == NULL)
    return NULL;
  message = g_steal_pointer (&outcome->message);
  outcome_free (outcome);
  return message;
}

static gpointer
load_messages_work (EpStore  *self,
                    gpointer  data,
                    GError  **error)
{
  Args *args = data;
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  sqlite3_stmt *stmt;
  int rc;

  /* Keyset paging over the index messages_order: a page costs the same at
   * the start and at the end of a long history. */
  if (args->has_position)
    stmt = ep_store_statement (self, "SELECT " EP_STORE_MESSAGE_COLUMNS " FROM messages m"
                               " WHERE m.contact = ?1"
                               " AND (m.lamport, m.sender, m.id) < (?2, ?3, ?4)"
                               " ORDER BY m.lamport DESC, m.sender DESC, m.id DESC LIMIT ?5",
                               error);
  else
    stmt = ep_store_statement (self, "SELECT " EP_STORE_MESSAGE_COLUMNS " FROM messages m"
                               " WHERE m.contact = ?1"
                               " ORDER BY m.lamport DESC, m.sender DESC, m.id DESC LIMIT ?5",
                               error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_blob (stmt, 1, args->key, EP_CONTACT_KEY_SIZE, SQLITE_STATIC);
  if (args->has_position)
    {
      sqlite3_bind_int64 (stmt, 2, (gint64) args->lamport);
      sqlite3_bind_blob (stmt, 3, args->sender, EP_MESSAGE_KEY_SIZE, SQLITE_STATIC);
      sqlite3_bind_blob (stmt, 4, args->id, EP_MESSAGE_ID_SIZE, SQLITE_STATIC);
    }
  sqlite3_bind_int64 (stmt, 5, args->limit);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      EpMessage *message = ep_store_message_from_row (self, stmt, error);

      if (message == NULL)
        {
          sqlite3_reset (stmt);
          return NULL;
        }
      g_ptr_array_add (messages, message);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ep_store_set_error (self, rc, error);
      return NULL;
    }

  /* Oldest first, as conversations show them. */
  for (guint i = 0, j = messages->len; i + 1 < j; i++, j--)
    {
      gpointer tmp = messages->pdata[i];
      messages->pdata[i] = messages->pdata[j - 1];
      messages->pdata[j - 1] = tmp;
    }

  return g_steal_pointer (&messages);
}

/**
 * ep_store_load_messages_async:
 * @contact_key: the conversation
 * @before: (nullable): load messages before this one; %NULL for the newest
 * @limit: at most this many
 *
 * Loads one page of a conversation, in conversation order.
 */
void
ep_store_load_messages_async (EpStore             *self,
                              const guint8         contact_key[EP_CONTACT_KEY_SIZE],
                              EpMessage           *before,
                              guint                limit,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  Args *args;

  g_return_if_fail (EP_IS_STORE (self));
  g_return_if_fail (contact_key != NULL);
  g_return_if_fail (before == NULL || EP_IS_MESSAGE (before));

  args = args_new (contact_key);
  args->limit = limit;
  if (before != NULL)
    {
      args->has_position = TRUE;
      args->lamport = ep_message_get_lamport (before);
      memcpy (args->sender, ep_message_get_sender_key_bytes (before), EP_MESSAGE_KEY_SIZE);
      memcpy (args->id, ep_message_get_id_bytes (before), EP_MESSAGE_ID_SIZE);
    }
  ep_store_submit (self, ep_store_load_messages_async, load_messages_work, NULL,
                   args, (GDestroyNotify) args_free, (GDestroyNotify) g_ptr_array_unref,
                   cancellable, callback, user_data);
}

/** ep_store_load_messages_finish: Returns: (transfer container) (element-type EpMessage) */
GPtrArray *
ep_store_load_messages_finish (EpStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return ep_store_finish (self, result, ep_store_load_messages_async, error);
}

/* Statuses only move forward: queued → sent → delivered; failed from queued
 * or sent; queued again from failed (a retry). A late ack wins over failed. */
static gboolean
status_may_change (EpMessageStatus from,
                   EpMessageStatus to)
{
  switch (to)
    {
    case EP_MESSAGE_STATUS_QUEUED:
      return from == EP_MESSAGE_STATUS_FAILED;
    case EP_MESSAGE_STATUS_SENT:
      return from == EP_MESSAGE_STATUS_QUEUED;
    case EP_MESSAGE_STATUS_DELIVERED:
      return from != EP_MESSAGE_STATUS_DELIVERED;
    case EP_MESSAGE_STATUS_FAILED:
      return from == EP_MESSAGE_STATUS_QUEUED || from == EP_MESSAGE_STATUS_SENT;
    default:
      return FALSE;
    }
}

static void
status_changed (EpStore  *self,
                gpointer  data,
                gpointer  result)
{
  Outcome *outcome = result;

  if (outcome->changed)
    ep_store_emit_message_status_changed (self, outcome->contact_key, outcome->id,
                                          outcome->status);
}

static gpointer
set_status_work (EpStore  *self,
                 gpointer  data,
                 GError  **error)
{
  Args *args = data;
  GError *local_error = NULL;
  g_autoptr(EpMessage) message = NULL;
  Outcome *outcome;
  sqlite3_stmt *stmt;
  const char *sql = NULL;
  EpMessageStatus from;

  if (!ep_store_begin (self, error))
    return NULL;

  message = find_message (self, self->own_key, args->id, &local_error);
  if (message == NULL)
    {
      if (local_error != NULL)
        g_propagate_error (error, local_error);
      else
        g_set_error_literal (error, EP_STORE_ERROR, EP_STORE_ERROR_NOT_FOUND,
                             _("There is no such message"));
      goto fail;
    }

  outcome = g_new0 (Outcome, 1);
  outcome->contact_key = g_strdup (ep_message_get_contact_key (message));
  outcome->id = g_strdup (ep_message_get_id (message));
  outcome->status = args->status;
  from = ep_message_get_status (message);

  if (!status_may_change (from, args->status))
    {
      ep_store_rollback (self);
      return outcome;
    }

  /* The status moves and the outbox follows, or neither. */
  if (args->status == EP_MESSAGE_STATUS_QUEUED)
    sql = "INSERT OR IGNORE INTO outbox (message, contact, attempts, next_attempt)"
          " SELECT seq, contact, 0, ?3 FROM messages WHERE sender = ?1 AND id = ?2";
  else if (args->status != EP_MESSAGE_STATUS_SENT)
    sql = "DELETE FROM outbox"
          " WHERE message = (SELECT seq FROM messages WHERE sender = ?1 AND id = ?2)";
  if (sql != NULL)
    {
      stmt = ep_store_statement (self, sql, error);
      if (stmt == NULL)
        goto fail_outcome;
      sqlite3_bind_blob (stmt, 1, self->own_key, EP_MESSAGE_KEY_SIZE, SQLITE_STATIC);
      sqlite3_bind_blob (stmt, 2, args->id, EP_MESSAGE_ID_SIZE, SQLITE_STATIC);
      if (sqlite3_bind_parameter_count (stmt) >= 3)
        sqlite3_bind_int64 (stmt, 3, g_get_real_time ());
      if (!ep_store_step_done (self, stmt, error))
        goto fail_outcome;
    }

  stmt = ep_store_statement (self, "UPDATE messages SET status = ?3"
                             " WHERE sender = ?1 AND id = ?2", error);
  if (stmt == NULL)
    goto fail_outcome;
  sqlite3_bind_blob (stmt, 1, self->own_key, EP_MESSAGE_KEY_SIZE, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 2, args->id, EP_MESSAGE_ID_SIZE, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, args->status);
  if (!ep_store_step_done (self, stmt, error))
    goto fail_outcome;
  outcome->changed = TRUE;

  if (!ep_store_commit (self, error))
    goto fail_outcome;
  return outcome;

fail_outcome:
  outcome_free (outcome);
fail:
  ep_store_rollback (self);
  return NULL;
}

/**
 * ep_store_set_message_status_async:
 * @id: the id of one of our messages
 * @status: the new status
 *
 * Moves an outgoing message's status forward (see the rules in the source:
 * never backwards, delivered is final, queued again only after failed).
 * Delivered and failed messages leave the outbox; a retried one re-enters
 * it. Finish returns %TRUE when the status changed, after
 * #EpStore::message-status-changed.
 */
void
ep_store_set_message_status_async (EpStore             *self,
                                   const guint8         id[EP_MESSAGE_ID_SIZE],
                                   EpMessageStatus      status,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  Args *args;

  g_return_if_fail (EP_IS_STORE (self));
  g_return_if_fail (id != NULL);
  g_return_if_fail (status <= EP_MESSAGE_STATUS_FAILED);

  args = args_new (NULL);
  memcpy (args->id, id, EP_MESSAGE_ID_SIZE);
  args->status = status;
  ep_store_submit (self, ep_store_set_message_status_async, set_status_work, status_changed,
                   args, (GDestroyNotify) args_free, (GDestroyNotify) outcome_free,
                   cancellable, callback, user_data);
}

gboolean
ep_store_set_message_status_finish (EpStore       *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  Outcome *outcome = ep_store_finish (self, result, ep_store_set_message_status_async, error);
  gboolean changed;

  if (outcome == NULL)
    return FALSE;
  changed = outcome->changed;
  outcome_free (outcome);
  return changed;
}
