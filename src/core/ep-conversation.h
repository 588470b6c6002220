/* ep-conversation.h — one contact's messages as a paged GListModel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "ep-message.h"
#include "ep-store.h"

G_BEGIN_DECLS

#define EP_CONVERSATION_DEFAULT_PAGE_SIZE 50

#define EP_TYPE_CONVERSATION (ep_conversation_get_type ())

G_DECLARE_FINAL_TYPE (EpConversation, ep_conversation, EP, CONVERSATION, GObject)

void            ep_conversation_open_async        (EpStore             *store,
                                                   const guint8        *contact_key,
                                                   guint                page_size,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
EpConversation *ep_conversation_open_finish       (GAsyncResult        *result,
                                                   GError             **error);
void            ep_conversation_load_older_async  (EpConversation      *self,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
guint           ep_conversation_load_older_finish (EpConversation      *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
EpStore        *ep_conversation_get_store         (EpConversation      *self);
const char     *ep_conversation_get_contact_key   (EpConversation      *self);
guint           ep_conversation_get_page_size     (EpConversation      *self);
gboolean        ep_conversation_get_has_older     (EpConversation      *self);
gboolean        ep_conversation_get_loading       (EpConversation      *self);
EpMessage      *ep_conversation_lookup            (EpConversation      *self,
                                                   const char          *sender_key,
                                                   const char          *id);
gboolean        ep_conversation_add_message       (EpConversation      *self,
                                                   EpMessage           *message);

G_END_DECLS
