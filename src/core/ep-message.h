/* ep-message.h — one chat message of a conversation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define EP_MESSAGE_ID_SIZE  16
#define EP_MESSAGE_KEY_SIZE 32

typedef enum
{
  EP_MESSAGE_STATUS_QUEUED,
  EP_MESSAGE_STATUS_SENT,
  EP_MESSAGE_STATUS_DELIVERED,
  EP_MESSAGE_STATUS_FAILED,
} EpMessageStatus;

#define EP_TYPE_MESSAGE_STATUS (ep_message_status_get_type ())
GType ep_message_status_get_type (void);

const char *ep_message_status_to_string (EpMessageStatus status);

#define EP_TYPE_MESSAGE (ep_message_get_type ())

G_DECLARE_FINAL_TYPE (EpMessage, ep_message, EP, MESSAGE, GObject)

EpMessage      *ep_message_new                 (const guint8    id[EP_MESSAGE_ID_SIZE],
                                                const guint8    contact_key[EP_MESSAGE_KEY_SIZE],
                                                const guint8    sender_key[EP_MESSAGE_KEY_SIZE],
                                                gboolean        outgoing,
                                                const char     *text,
                                                gint64          sender_time,
                                                guint64         lamport,
                                                EpMessageStatus status,
                                                gint64          received_time);
const char     *ep_message_get_id              (EpMessage      *self);
const guint8   *ep_message_get_id_bytes        (EpMessage      *self);
const char     *ep_message_get_contact_key     (EpMessage      *self);
const guint8   *ep_message_get_contact_key_bytes (EpMessage    *self);
const char     *ep_message_get_sender_key      (EpMessage      *self);
const guint8   *ep_message_get_sender_key_bytes (EpMessage     *self);
gboolean        ep_message_get_outgoing        (EpMessage      *self);
const char     *ep_message_get_text            (EpMessage      *self);
gint64          ep_message_get_sender_time     (EpMessage      *self);
GDateTime      *ep_message_dup_sender_datetime (EpMessage      *self);
gint64          ep_message_get_received_time   (EpMessage      *self);
guint64         ep_message_get_lamport         (EpMessage      *self);
EpMessageStatus ep_message_get_status          (EpMessage      *self);
void            ep_message_set_status          (EpMessage      *self,
                                                EpMessageStatus status);
GDateTime      *ep_message_datetime_from_usec  (gint64          usec);
int             ep_message_compare             (EpMessage      *a,
                                                EpMessage      *b);
int             ep_message_compare_position    (EpMessage      *self,
                                                guint64         lamport,
                                                const guint8   *sender_key,
                                                const guint8   *id);

G_END_DECLS
