/* ep-chat-view-private.h — what ep-chat-view.c and ep-chat-view-rows.c share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ep-chat-view.h"

G_BEGIN_DECLS

struct _EpChatView
{
  GtkWidget        parent_instance;

  EpNode          *node;
  EpContact       *contact;
  EpConversation  *conversation;
  GCancellable    *cancellable;      /* the open conversation's operations */
  GtkNoSelection  *selection;
  GtkWidget       *message_menu;     /* a popover menu for one message */

  gboolean         stick_to_bottom;  /* go to the bottom on the next growth */
  double           last_upper;
  guint            scroll_idle_id;
  gboolean         older_loaded;     /* the rows above came in; restore once more */
  enum { SCROLL_NONE, SCROLL_BOTTOM, SCROLL_RESTORE } pending_scroll;
  double           restore_distance; /* from the bottom, while older ones load; < 0: none */

  /* Template widgets */
  GtkStack        *stack;
  GtkScrolledWindow *scrolled;
  GtkListView     *message_view;
  GtkLabel        *reason_label;
  AdwStatusPage   *empty_page;
  GtkLabel        *typing_label;
  GtkWidget       *composer_box;
  GtkTextView     *composer;
  GtkWidget       *send_button;
};

/* ep-chat-view-rows.c */
GtkListItemFactory *ep_chat_view_rows_factory_new (EpChatView *self);

G_END_DECLS
