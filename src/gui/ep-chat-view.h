/* ep-chat-view.h — one contact's conversation and the composer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "ep-core.h"

G_BEGIN_DECLS

#define EP_TYPE_CHAT_VIEW (ep_chat_view_get_type ())

G_DECLARE_FINAL_TYPE (EpChatView, ep_chat_view, EP, CHAT_VIEW, GtkWidget)

void            ep_chat_view_set_node         (EpChatView *self,
                                               EpNode     *node);
void            ep_chat_view_set_contact      (EpChatView *self,
                                               EpContact  *contact);
EpContact      *ep_chat_view_get_contact      (EpChatView *self);
EpConversation *ep_chat_view_get_conversation (EpChatView *self);
GtkTextView    *ep_chat_view_get_composer     (EpChatView *self);
void            ep_chat_view_send             (EpChatView *self);

G_END_DECLS
