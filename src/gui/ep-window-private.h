/* ep-window-private.h — what ep-window.c and ep-window-start.c share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ep-chat-view.h"
#include "ep-window.h"

G_BEGIN_DECLS

struct _EpWindow
{
  AdwApplicationWindow  parent_instance;

  GSettings            *settings;
  EpNode               *node;
  GCancellable         *cancellable;
  GtkCustomFilter      *filter;
  GtkFilterListModel   *filtered;
  GtkSingleSelection   *selection;
  EpContact            *contact;        /* shown on the right */
  GHashTable           *request_texts;  /* key hex → text of a request this run */
  gboolean              working;        /* Argon2id in a worker: unlock or onboarding */

  /* Template widgets */
  AdwToastOverlay      *toast_overlay;
  GtkStack             *stack;
  AdwStatusPage        *error_page;
  AdwStatusPage        *unlock_page;
  GtkSpinner           *loading_spinner;
  GtkEntry             *name_entry;
  GtkWidget            *name_button;
  GtkEditable          *passphrase_entry;
  GtkEditable          *unlock_entry;
  GtkWidget            *unlock_button;
  GtkLabel             *unlock_error;
  GtkSpinner           *unlock_spinner;
  GtkSpinner           *onboarding_spinner;
  AdwLeaflet           *leaflet;
  GtkWidget            *sidebar;
  GtkWidget            *content;
  GtkSearchEntry       *search_entry;
  GtkStack             *sidebar_stack;
  GtkListView          *contact_view;
  AdwWindowTitle       *chat_title;
  GtkStack             *content_stack;
  AdwStatusPage        *request_page;
  GtkWidget            *accept_button;
  GtkWidget            *decline_button;
  GtkWidget            *block_button;
  EpChatView           *chat_view;
};

/* ep-window.c */
void ep_window_show_error             (EpWindow      *self,
                                       const char    *title,
                                       const GError  *error);
void ep_window_show_main              (EpWindow      *self);
void ep_window_connect_node           (EpWindow      *self);

/* ep-window-start.c */
void ep_window_setup_node             (EpWindow      *self,
                                       EpApplication *app);
void ep_window_on_name_changed        (GtkEditable   *entry,
                                       EpWindow      *self);
void ep_window_on_name_button_clicked (EpWindow      *self);
void ep_window_on_unlock_clicked      (EpWindow      *self);

G_END_DECLS
