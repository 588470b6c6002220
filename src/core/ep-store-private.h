/* ep-store-private.h — what the files of EpStore share: ep-store.c (object,
 * worker), ep-store-schema.c and the operations in ep-store-contacts.c,
 * ep-store-messages.c and ep-store-outbox.c
 *
 * Everything here runs on the store's one worker thread unless its name
 * says otherwise.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <sqlite3.h>

#include "ep-store.h"

G_BEGIN_DECLS

#define EP_STORE_MESSAGE_COLUMNS \
  "m.id, m.contact, m.sender, m.outgoing, m.sender_time, m.lamport, m.body, m.status, m.received"

struct _EpStore
{
  GObject      parent_instance;

  char        *path;
  sqlite3     *db;
  GThread     *worker;
  GAsyncQueue *queue;
  GHashTable  *statements;   /* SQL text (static) → sqlite3_stmt */
  guint8       own_key[EP_MESSAGE_KEY_SIZE];
  guint8       key[EP_STORE_AT_REST_KEY_SIZE];
  gboolean     closed;
  gboolean     in_batch;       /* worker: a group transaction is open */
  gboolean     in_savepoint;   /* worker: a job's savepoint is open */
};

/* Runs on the worker; returns the task's result or sets @error. */
typedef gpointer (*EpStoreWork) (EpStore  *self,
                                 gpointer  data,
                                 GError  **error);
/* Runs on the caller's context after a successful @work, before the
 * callback: emits the store's signals. */
typedef void     (*EpStoreDone) (EpStore  *self,
                                 gpointer  data,
                                 gpointer  result);

/* Caller's thread. */
void          ep_store_submit       (EpStore             *self,
                                     gpointer             source_tag,
                                     EpStoreWork          work,
                                     EpStoreDone          done,
                                     gpointer             data,
                                     GDestroyNotify       data_free,
                                     GDestroyNotify       result_free,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data);
gpointer      ep_store_finish       (EpStore             *self,
                                     GAsyncResult        *result,
                                     gpointer             source_tag,
                                     GError             **error);
void          ep_store_emit_message_added          (EpStore   *self,
                                                    EpMessage *message);
void          ep_store_emit_message_status_changed (EpStore   *self,
                                                    const char *contact_key,
                                                    const char *id,
                                                    EpMessageStatus status);

/* Any thread, before the worker starts or on it. */
sqlite3      *ep_store_open_database    (const char    *path,
                                         const guint8  *key,
                                         GError       **error);
gboolean      ep_store_exec_on          (sqlite3       *db,
                                         const char    *path,
                                         const char    *sql,
                                         GError       **error);
void          ep_store_set_sqlite_error (sqlite3       *db,
                                         const char    *path,
                                         int            rc,
                                         GError       **error);
guint8       *ep_store_seal_with        (const guint8  *key,
                                         const char    *text,
                                         gsize         *out_len);
char         *ep_store_unseal_with      (const guint8  *key,
                                         const char    *path,
                                         const guint8  *blob,
                                         gsize          len,
                                         GError       **error);

/* Worker thread. */
sqlite3_stmt *ep_store_statement    (EpStore             *self,
                                     const char          *sql,
                                     GError             **error);
gboolean      ep_store_step_done    (EpStore             *self,
                                     sqlite3_stmt        *stmt,
                                     GError             **error);
gboolean      ep_store_exec         (EpStore             *self,
                                     const char          *sql,
                                     GError             **error);
gboolean      ep_store_begin        (EpStore             *self,
                                     GError             **error);
gboolean      ep_store_commit       (EpStore             *self,
                                     GError             **error);
void          ep_store_rollback     (EpStore             *self);
void          ep_store_set_error    (EpStore             *self,
                                     int                  rc,
                                     GError             **error);
const guint8 *ep_store_column_blob  (sqlite3_stmt        *stmt,
                                     int                  column,
                                     int                  expected_len);
void          ep_store_set_no_contact (GError            **error);
EpMessage    *ep_store_message_from_row (EpStore       *self,
                                         sqlite3_stmt  *stmt,
                                         GError       **error);
guint8       *ep_store_seal         (EpStore             *self,
                                     const char          *text,
                                     gsize               *out_len);
char         *ep_store_unseal       (EpStore             *self,
                                     const void          *blob,
                                     gsize                len,
                                     GError             **error);

G_END_DECLS
