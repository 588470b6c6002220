/* ep-store.h — the profile's SQLite store: contacts, messages, outbox, settings
 *
 * How the node uses it:
 *
 *  - ep_store_open (profile/store.sqlite, our public key, the at-rest key)
 *  - sending: ep_store_send_message_async () stores the message and its
 *    outbox row; when it returns, hand the message to the session. After
 *    each transmission, ep_store_outbox_attempted_async (id, next attempt)
 *    (queued → sent); on the peer's ack, ep_store_set_message_status_async
 *    (id, DELIVERED), which also empties its outbox row
 *  - receiving: ep_store_receive_message_async (); ack whether or not it
 *    was a duplicate, announce it only when it was not
 *  - after a start or a reconnection: ep_store_load_outbox_async () and
 *    resend what is due
 *  - presence records: ep_store_accept_presence_seq_async () before using one
 *  - models: EpConversation and EpContactList follow the store's signals
 *
 * Keys and ids are raw bytes (32-byte Ed25519 keys, 16-byte message ids);
 * the objects give them in hex as well. Times are µs since the epoch.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "ep-contact.h"
#include "ep-message.h"

G_BEGIN_DECLS

#define EP_STORE_ERROR (ep_store_error_quark ())

typedef enum
{
  EP_STORE_ERROR_FAILED,
  EP_STORE_ERROR_CORRUPT,     /* not an SQLite file, or a damaged one */
  EP_STORE_ERROR_FOREIGN,     /* an SQLite database of some other program */
  EP_STORE_ERROR_TOO_NEW,     /* written by a newer version of this program */
  EP_STORE_ERROR_WRONG_KEY,   /* message bodies do not decrypt with the given key */
  EP_STORE_ERROR_NOT_FOUND,
  EP_STORE_ERROR_INVALID,
  EP_STORE_ERROR_CLOSED,
} EpStoreError;

GQuark ep_store_error_quark (void);

/* The current schema; ep_store_open () migrates older files up to it. */
#define EP_STORE_SCHEMA_VERSION   2
#define EP_STORE_AT_REST_KEY_SIZE 32

typedef struct
{
  EpMessage *message;
  guint      attempts;
  gint64     next_attempt;   /* µs since the epoch */
} EpStoreOutboxItem;

void ep_store_outbox_item_free (EpStoreOutboxItem *item);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpStoreOutboxItem, ep_store_outbox_item_free)

#define EP_TYPE_STORE (ep_store_get_type ())

G_DECLARE_FINAL_TYPE (EpStore, ep_store, EP, STORE, GObject)

EpStore    *ep_store_open                    (const char          *path,
                                              const guint8        *own_key,
                                              const guint8        *at_rest_key,
                                              GError             **error);
void        ep_store_open_async              (const char          *path,
                                              const guint8        *own_key,
                                              const guint8        *at_rest_key,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
EpStore    *ep_store_open_finish             (GAsyncResult        *result,
                                              GError             **error);
void        ep_store_close                   (EpStore             *self);
const char *ep_store_get_path                (EpStore             *self);
const guint8 *ep_store_get_own_key           (EpStore             *self);

/* Contacts */
void        ep_store_save_contact_async      (EpStore             *self,
                                              EpContact           *contact,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    ep_store_save_contact_finish     (EpStore             *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void        ep_store_load_contacts_async     (EpStore             *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
GPtrArray  *ep_store_load_contacts_finish    (EpStore             *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void        ep_store_load_contact_async      (EpStore             *self,
                                              const guint8         key[EP_CONTACT_KEY_SIZE],
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
EpContact  *ep_store_load_contact_finish     (EpStore             *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void        ep_store_delete_contact_async    (EpStore             *self,
                                              const guint8         key[EP_CONTACT_KEY_SIZE],
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    ep_store_delete_contact_finish   (EpStore             *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void        ep_store_mark_read_async         (EpStore             *self,
                                              const guint8         key[EP_CONTACT_KEY_SIZE],
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    ep_store_mark_read_finish        (EpStore             *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void        ep_store_accept_presence_seq_async (EpStore           *self,
                                              const guint8         key[EP_CONTACT_KEY_SIZE],
                                              guint64              seq,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    ep_store_accept_presence_seq_finish (EpStore          *self,
                                              GAsyncResult        *result,
                                              GError             **error);

/* Messages */
void        ep_store_send_message_async      (EpStore             *self,
                                              const guint8         contact_key[EP_CONTACT_KEY_SIZE],
                                              const char          *text,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
EpMessage  *ep_store_send_message_finish     (EpStore             *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void        ep_store_receive_message_async   (EpStore             *self,
                                              const guint8         contact_key[EP_CONTACT_KEY_SIZE],
                                              const guint8         id[EP_MESSAGE_ID_SIZE],
                                              gint64               sender_time,
                                              guint64              lamport,
                                              const char          *text,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
EpMessage  *ep_store_receive_message_finish  (EpStore             *self,
                                              GAsyncResult        *result,
                                              gboolean            *duplicate,
                                              GError             **error);
void        ep_store_load_messages_async     (EpStore             *self,
                                              const guint8         contact_key[EP_CONTACT_KEY_SIZE],
                                              EpMessage           *before,
                                              guint                limit,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
GPtrArray  *ep_store_load_messages_finish    (EpStore             *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void        ep_store_set_message_status_async (EpStore            *self,
                                              const guint8         id[EP_MESSAGE_ID_SIZE],
                                              EpMessageStatus      status,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    ep_store_set_message_status_finish (EpStore           *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void        ep_store_outbox_attempted_async  (EpStore             *self,
                                              const guint8         id[EP_MESSAGE_ID_SIZE],
                                              gint64               next_attempt,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    ep_store_outbox_attempted_finish (EpStore             *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void        ep_store_load_outbox_async       (EpStore             *self,
                                              const guint8        *contact_key,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
GPtrArray  *ep_store_load_outbox_finish      (EpStore             *self,
                                              GAsyncResult        *result,
                                              GError             **error);

/* Settings: keys starting with "store." are reserved. */
void        ep_store_set_setting_async       (EpStore             *self,
                                              const char          *key,
                                              const char          *value,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    ep_store_set_setting_finish      (EpStore             *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void        ep_store_get_setting_async       (EpStore             *self,
                                              const char          *key,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
char       *ep_store_get_setting_finish      (EpStore             *self,
                                              GAsyncResult        *result,
                                              GError             **error);

G_END_DECLS
