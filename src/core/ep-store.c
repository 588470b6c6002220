/* ep-store.c — the profile's SQLite store: the object and its worker
 *
 * One SQLite connection, used only by one worker thread that takes jobs
 * from a queue in order. Each public call is a GTask: the job runs on the
 * worker, and its result is returned (and the store's signals emitted) on
 * the caller's main context. Jobs hold a reference on the store, so the
 * store is only finalized on the caller's side once every job has come
 * back. The schema is in ep-store-schema.c, the operations in
 * ep-store-contacts.c, ep-store-messages.c and ep-store-outbox.c.
 *
 * Message bodies are sealed with crypto_secretbox_easy under the at-rest
 * key, a fresh random nonce per row: nonce ‖ MAC ‖ ciphertext.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-message-private.h"
#include "ep-store-private.h"

enum {
  MESSAGE_ADDED,
  MESSAGE_STATUS_CHANGED,
  N_SIGNALS
};

typedef struct
{
  GTask          *task;
  EpStoreWork     work;
  EpStoreDone     done;
  gpointer        data;
  GDestroyNotify  data_free;
  gpointer        result;
  GDestroyNotify  result_free;
  GError         *error;
} Job;

/* Jobs run in one transaction at most. */
#define MAX_BATCH 128

G_DEFINE_FINAL_TYPE (EpStore, ep_store, G_TYPE_OBJECT)
G_DEFINE_QUARK (ep-store-error-quark, ep_store_error)

static guint signals[N_SIGNALS];

/* ---- errors ---------------------------------------------------------- */

void
ep_store_set_sqlite_error (sqlite3     *db,
                           const char  *path,
                           int          rc,
                           GError     **error)
{
  int primary = rc & 0xff;

  if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
    g_set_error (error, EP_STORE_ERROR, EP_STORE_ERROR_CORRUPT,
                 _("The message store “%s” is damaged or is not a message store"), path);
  else
    g_set_error (error, EP_STORE_ERROR, EP_STORE_ERROR_FAILED,
                 _("The message store “%s” failed: %s"), path,
                 db != NULL && sqlite3_errcode (db) == rc ? sqlite3_errmsg (db)
                                                         : sqlite3_errstr (rc));
}

void
ep_store_set_error (EpStore  *self,
                    int       rc,
                    GError  **error)
{
  ep_store_set_sqlite_error (self->db, self->path, rc, error);
}

/* ---- the worker ------------------------------------------------------ */

static void
job_free (Job *job)
{
  if (job->data_free != NULL)
    g_clear_pointer (&job->data, job->data_free);
  if (job->result != NULL && job->result_free != NULL)
    job->result_free (job->result);
  g_clear_error (&job->error);
  g_clear_object (&job->task);
  g_free (job);
}

static gboolean
job_complete (gpointer user_data)
{
  Job *job = user_data;
  EpStore *self = g_task_get_source_object (job->task);

  if (job->error != NULL)
    g_task_return_error (job->task, g_steal_pointer (&job->error));
  else
    {
      if (job->done != NULL)
        job->done (self, job->data, job->result);
      g_task_return_pointer (job->task, g_steal_pointer (&job->result), job->result_free);
    }

  job_free (job);
  return G_SOURCE_REMOVE;
}

static void
post_completion (Job *job)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  /* Not g_main_context_invoke (): it would run the completion right here
   * when nobody owns the caller's context. */
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, job_complete, job, NULL);
  g_source_set_static_name (source, "[ep-store] job complete");
  g_source_attach (source, g_task_get_context (job->task));
}

/* Group commit: the jobs waiting in the queue run together in one
 * transaction, each in its own savepoint, and one sync makes them all
 * durable. Nobody hears of a job before that commit. */
static gpointer
worker_main (gpointer user_data)
{
  EpStore *self = user_data;
  g_autoptr(GPtrArray) batch = g_ptr_array_new ();
  gboolean quit = FALSE;

  while (!quit)
    {
      Job *job = g_async_queue_pop (self->queue);

      g_ptr_array_set_size (batch, 0);
      while (job != NULL)
        {
          if (job->task == NULL)
            {
              g_free (job);
              quit = TRUE;
              break;
            }
          g_ptr_array_add (batch, job);
          job = batch->len < MAX_BATCH ? g_async_queue_try_pop (self->queue) : NULL;
        }

      self->in_batch = batch->len > 1 && ep_store_exec (self, "BEGIN IMMEDIATE", NULL);

      for (guint i = 0; i < batch->len; i++)
        {
          job = g_ptr_array_index (batch, i);
          if (!g_cancellable_set_error_if_cancelled (g_task_get_cancellable (job->task),
                                                     &job->error))
            job->result = job->work (self, job->data, &job->error);
        }

      if (self->in_batch)
        {
          GError *error = NULL;

          self->in_batch = FALSE;
          if (!ep_store_commit (self, &error))
            {
              for (guint i = 0; i < batch->len; i++)
                {
                  job = g_ptr_array_index (batch, i);
                  if (job->error != NULL)
                    continue;
                  if (job->result != NULL && job->result_free != NULL)
                    job->result_free (job->result);
                  job->result = NULL;
                  job->error = g_error_copy (error);
                }
              g_error_free (error);
            }
        }

      for (guint i = 0; i < batch->len; i++)
        post_completion (g_ptr_array_index (batch, i));
    }

  return NULL;
}

void
ep_store_submit (EpStore             *self,
                 gpointer             source_tag,
                 EpStoreWork          work,
                 EpStoreDone          done,
                 gpointer             data,
                 GDestroyNotify       data_free,
                 GDestroyNotify       result_free,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  Job *job = g_new0 (Job, 1);

  job->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, source_tag);
  job->work = work;
  job->done = done;
  job->data = data;
  job->data_free = data_free;
  job->result_free = result_free;

  if (self->closed)
    {
      g_task_return_new_error (job->task, EP_STORE_ERROR, EP_STORE_ERROR_CLOSED,
                               _("The message store is closed"));
      job_free (job);
      return;
    }

  g_async_queue_push (self->queue, job);
}

gpointer
ep_store_finish (EpStore       *self,
                 GAsyncResult  *result,
                 gpointer       source_tag,
                 GError       **error)
{
  g_return_val_if_fail (EP_IS_STORE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- SQL helpers (worker) -------------------------------------------- */

sqlite3_stmt *
ep_store_statement (EpStore     *self,
                    const char  *sql,
                    GError     **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (self->statements, sql);
  int rc;

  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }

  rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      ep_store_set_error (self, rc, error);
      return NULL;
    }
  g_hash_table_insert (self->statements, (gpointer) sql, stmt);
  return stmt;
}

gboolean
ep_store_step_done (EpStore       *self,
                    sqlite3_stmt  *stmt,
                    GError       **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW)
    return TRUE;
  ep_store_set_error (self, rc, error);
  return FALSE;
}

gboolean
ep_store_exec_on (sqlite3     *db,
                  const char  *path,
                  const char  *sql,
                  GError     **error)
{
  int rc = sqlite3_exec (db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      ep_store_set_sqlite_error (db, path, rc, error);
      return FALSE;
    }
  return TRUE;
}

gboolean
ep_store_exec (EpStore     *self,
               const char  *sql,
               GError     **error)
{
  return ep_store_exec_on (self->db, self->path, sql, error);
}

/* Inside a batch a job's transaction is a savepoint of the batch's. */
gboolean
ep_store_begin (EpStore  *self,
                GError  **error)
{
  if (self->in_batch)
    {
      if (!ep_store_exec (self, "SAVEPOINT job", error))
        return FALSE;
      self->in_savepoint = TRUE;
      return TRUE;
    }
  return ep_store_exec (self, "BEGIN IMMEDIATE", error);
}

gboolean
ep_store_commit (EpStore  *self,
                 GError  **error)
{
  if (ep_store_exec (self, self->in_savepoint ? "RELEASE job" : "COMMIT", error))
    {
      self->in_savepoint = FALSE;
      return TRUE;
    }
  ep_store_rollback (self);
  return FALSE;
}

void
ep_store_rollback (EpStore *self)
{
  if (self->in_savepoint)
    {
      sqlite3_exec (self->db, "ROLLBACK TO job; RELEASE job", NULL, NULL, NULL);
      self->in_savepoint = FALSE;
    }
  else if (!self->in_batch && !sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

const guint8 *
ep_store_column_blob (sqlite3_stmt *stmt,
                      int           column,
                      int           expected_len)
{
  const guint8 *blob = sqlite3_column_blob (stmt, column);

  if (blob == NULL || sqlite3_column_bytes (stmt, column) != expected_len)
    return NULL;
  return blob;
}

void
ep_store_set_no_contact (GError **error)
{
  g_set_error_literal (error, EP_STORE_ERROR, EP_STORE_ERROR_NOT_FOUND,
                       _("There is no such contact"));
}

/* ---- at-rest encryption ---------------------------------------------- */

guint8 *
ep_store_seal_with (const guint8 *key,
                    const char   *text,
                    gsize        *out_len)
{
  gsize text_len = strlen (text);
  gsize len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + text_len;
  guint8 *blob = g_malloc (len);

  randombytes_buf (blob, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy (blob + crypto_secretbox_NONCEBYTES, (const guint8 *) text, text_len,
                         blob, key);
  *out_len = len;
  return blob;
}

char *
ep_store_unseal_with (const guint8  *key,
                      const char    *path,
                      const guint8  *blob,
                      gsize          len,
                      GError       **error)
{
  gsize text_len;
  char *text;

  if (blob == NULL || len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    {
      g_set_error (error, EP_STORE_ERROR, EP_STORE_ERROR_CORRUPT,
                   _("The message store “%s” is damaged: a message is truncated"), path);
      return NULL;
    }

  text_len = len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
  text = g_malloc (text_len + 1);
  if (crypto_secretbox_open_easy ((guint8 *) text, blob + crypto_secretbox_NONCEBYTES,
                                  len - crypto_secretbox_NONCEBYTES, blob, key) != 0)
    {
      g_free (text);
      g_set_error (error, EP_STORE_ERROR, EP_STORE_ERROR_WRONG_KEY,
                   _("The messages in “%s” cannot be decrypted with this profile’s key"),
                   path);
      return NULL;
    }
  text[text_len] = '\0';

  if (memchr (text, '\0', text_len) != NULL || !g_utf8_validate (text, text_len, NULL))
    {
      g_free (text);
      g_set_error (error, EP_STORE_ERROR, EP_STORE_ERROR_CORRUPT,
                   _("The message store “%s” is damaged: a message is not text"), path);
      return NULL;
    }

  return text;
}

guint8 *
ep_store_seal (EpStore    *self,
               const char *text,
               gsize      *out_len)
{
  return ep_store_seal_with (self->key, text, out_len);
}

char *
ep_store_unseal (EpStore     *self,
                 const void  *blob,
                 gsize        len,
                 GError     **error)
{
  return ep_store_unseal_with (self->key, self->path, blob, len, error);
}

/* Reads EP_STORE_MESSAGE_COLUMNS from the current row. */
EpMessage *
ep_store_message_from_row (EpStore       *self,
                           sqlite3_stmt  *stmt,
                           GError       **error)
{
  const guint8 *id = ep_store_column_blob (stmt, 0, EP_MESSAGE_ID_SIZE);
  const guint8 *contact = ep_store_column_blob (stmt, 1, EP_MESSAGE_KEY_SIZE);
  const guint8 *sender = ep_store_column_blob (stmt, 2, EP_MESSAGE_KEY_SIZE);
  int status = sqlite3_column_int (stmt, 7);
  char *text;

  if (id == NULL || contact == NULL || sender == NULL ||
      status < EP_MESSAGE_STATUS_QUEUED || status > EP_MESSAGE_STATUS_FAILED)
    {
      ep_store_set_error (self, SQLITE_CORRUPT, error);
      return NULL;
    }

  text = ep_store_unseal (self, sqlite3_column_blob (stmt, 6),
                          sqlite3_column_bytes (stmt, 6), error);
  if (text == NULL)
    return NULL;

  return ep_message_new_take (id, contact, sender, sqlite3_column_int (stmt, 3) != 0, text,
                              sqlite3_column_int64 (stmt, 4),
                              (guint64) sqlite3_column_int64 (stmt, 5),
                              status, sqlite3_column_int64 (stmt, 8));
}

/* ---- opening --------------------------------------------------------- */

static void
finalize_statement (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

/**
 * ep_store_open:
 * @path: the file, usually `store.sqlite` in the profile directory
 * @own_key: (array fixed-size=32): our Ed25519 public key, the sender of
 *   outgoing messages
 * @at_rest_key: (array fixed-size=32): the key message bodies are encrypted
 *   under (EP_STORE_AT_REST_KEY_SIZE bytes)
 * @error: return location for a #GError
 *
 * Opens or creates the store and migrates it to the current schema. Blocks;
 * see ep_store_open_async () for the main thread of a GUI.
 *
 * Returns: (transfer full) (nullable): the store, or %NULL with @error set:
 *   %EP_STORE_ERROR_CORRUPT, %EP_STORE_ERROR_FOREIGN, %EP_STORE_ERROR_TOO_NEW,
 *   %EP_STORE_ERROR_WRONG_KEY or %EP_STORE_ERROR_FAILED
 */
EpStore *
ep_store_open (const char    *path,
               const guint8  *own_key,
               const guint8  *at_rest_key,
               GError       **error)
{
  EpStore *self;
  sqlite3 *db;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (own_key != NULL, NULL);
  g_return_val_if_fail (at_rest_key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (sodium_init () < 0)
    {
      g_set_error_literal (error, EP_STORE_ERROR, EP_STORE_ERROR_FAILED,
                           _("The cryptography library failed to start"));
      return NULL;
    }

  db = ep_store_open_database (path, at_rest_key, error);
  if (db == NULL)
    return NULL;

  self = g_object_new (EP_TYPE_STORE, NULL);
  self->path = g_strdup (path);
  self->db = db;
  memcpy (self->own_key, own_key, EP_MESSAGE_KEY_SIZE);
  memcpy (self->key, at_rest_key, EP_STORE_AT_REST_KEY_SIZE);
  self->worker = g_thread_new ("ep-store", worker_main, self);

  return self;
}

typedef struct
{
  char   *path;
  guint8  own_key[EP_MESSAGE_KEY_SIZE];
  guint8  key[EP_STORE_AT_REST_KEY_SIZE];
} OpenData;

static void
open_data_free (OpenData *data)
{
  sodium_memzero (data->key, sizeof data->key);
  g_free (data->path);
  g_free (data);
}

static void
open_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  OpenData *data = task_data;
  GError *error = NULL;
  EpStore *store = ep_store_open (data->path, data->own_key, data->key, &error);

  if (store == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, store, g_object_unref);
}

/**
 * ep_store_open_async:
 *
 * Like ep_store_open (), in a thread.
 */
void
ep_store_open_async (const char          *path,
                     const guint8        *own_key,
                     const guint8        *at_rest_key,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  OpenData *data;

  g_return_if_fail (path != NULL);
  g_return_if_fail (own_key != NULL);
  g_return_if_fail (at_rest_key != NULL);

  data = g_new0 (OpenData, 1);
  data->path = g_strdup (path);
  memcpy (data->own_key, own_key, sizeof data->own_key);
  memcpy (data->key, at_rest_key, sizeof data->key);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ep_store_open_async);
  g_task_set_task_data (task, data, (GDestroyNotify) open_data_free);
  g_task_run_in_thread (task, open_in_thread);
}

EpStore *
ep_store_open_finish (GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * ep_store_close:
 *
 * Waits for the queued jobs to finish and closes the database. Later
 * calls fail with %EP_STORE_ERROR_CLOSED. Finalizing the store closes it too.
 */
void
ep_store_close (EpStore *self)
{
  g_return_if_fail (EP_IS_STORE (self));

  if (self->closed)
    return;
  self->closed = TRUE;

  if (self->worker != NULL)
    {
      g_async_queue_push (self->queue, g_new0 (Job, 1));
      g_thread_join (g_steal_pointer (&self->worker));
    }

  g_hash_table_remove_all (self->statements);
  if (self->db != NULL)
    {
      /* Fold the WAL back so the file stands alone. */
      sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
      sqlite3_close (g_steal_pointer (&self->db));
    }
}

const char *
ep_store_get_path (EpStore *self)
{
  g_return_val_if_fail (EP_IS_STORE (self), NULL);
  return self->path;
}

/** ep_store_get_own_key: Returns: (array fixed-size=32): our public key */
const guint8 *
ep_store_get_own_key (EpStore *self)
{
  g_return_val_if_fail (EP_IS_STORE (self), NULL);
  return self->own_key;
}

void
ep_store_emit_message_added (EpStore   *self,
                             EpMessage *message)
{
  g_signal_emit (self, signals[MESSAGE_ADDED], 0, message);
}

void
ep_store_emit_message_status_changed (EpStore         *self,
                                      const char      *contact_key,
                                      const char      *id,
                                      EpMessageStatus  status)
{
  g_signal_emit (self, signals[MESSAGE_STATUS_CHANGED], 0, contact_key, id, status);
}

static void
ep_store_finalize (GObject *object)
{
  EpStore *self = EP_STORE (object);

  ep_store_close (self);
  g_clear_pointer (&self->statements, g_hash_table_unref);
  g_clear_pointer (&self->queue, g_async_queue_unref);
  g_clear_pointer (&self->path, g_free);
  sodium_memzero (self->key, sizeof self->key);

  G_OBJECT_CLASS (ep_store_parent_class)->finalize (object);
}

static void
ep_store_class_init (EpStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ep_store_finalize;

  /**
   * EpStore::message-added:
   * @message: a message just stored, sent or received (never a duplicate)
   *
   * Emitted on the caller's context before the call that stored it returns.
   */
  signals[MESSAGE_ADDED] =
    g_signal_new ("message-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, EP_TYPE_MESSAGE);

  /**
   * EpStore::message-status-changed:
   * @contact_key: hex key of the conversation
   * @id: hex id of one of our messages
   * @status: its new status
   */
  signals[MESSAGE_STATUS_CHANGED] =
    g_signal_new ("message-status-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                  G_TYPE_STRING, G_TYPE_STRING, EP_TYPE_MESSAGE_STATUS);
}

static void
ep_store_init (EpStore *self)
{
  self->queue = g_async_queue_new ();
  self->statements = g_hash_table_new_full (g_direct_hash, g_direct_equal,
                                            NULL, finalize_statement);
}
