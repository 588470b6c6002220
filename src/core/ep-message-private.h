/* ep-message-private.h — for the store, which builds messages in bulk
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ep-message.h"

G_BEGIN_DECLS

/* Like ep_message_new (), taking ownership of @text (g_malloc'd UTF-8). */
EpMessage *ep_message_new_take (const guint8    id[EP_MESSAGE_ID_SIZE],
                                const guint8    contact_key[EP_MESSAGE_KEY_SIZE],
                                const guint8    sender_key[EP_MESSAGE_KEY_SIZE],
                                gboolean        outgoing,
                                char           *text,
                                gint64          sender_time,
                                guint64         lamport,
                                EpMessageStatus status,
                                gint64          received_time);

G_END_DECLS
