/* ep-window.c — the main window: contacts, requests, chat (the pages before: ep-window-start.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "ep-add-contact-window.h"
#include "ep-contact-row.h"
#include "ep-contact-window.h"
#include "ep-my-id-window.h"
#include "ep-preferences-window.h"
#include "ep-window-private.h"


G_DEFINE_FINAL_TYPE (EpWindow, ep_window, ADW_TYPE_APPLICATION_WINDOW)

#define display_name ep_contact_row_display_name

void
ep_window_add_toast (EpWindow   *self,
                     const char *title)
{
  g_return_if_fail (EP_IS_WINDOW (self));

  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (title));
}

void
ep_window_show_error (EpWindow     *self,
                      const char   *title,
                      const GError *error)
{
  /* Icons of pages that may never show are set when they do: realizing
   * the window would load them all, and the SVG loader with them. */
  adw_status_page_set_icon_name (self->error_page, "dialog-error-symbolic");
  adw_status_page_set_title (self->error_page, title);
  adw_status_page_set_description (self->error_page, error->message);
  gtk_spinner_stop (self->loading_spinner);
  gtk_stack_set_visible_child_name (self->stack, "error");
}

static gboolean
filter_contact (gpointer item,
                gpointer user_data)
{
  EpWindow *self = user_data;
  const char *query = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  g_autofree char *needle = NULL;
  g_autofree char *haystack = NULL;

  if (query == NULL || *query == '\0')
    return TRUE;
  needle = g_utf8_casefold (query, -1);
  haystack = g_utf8_casefold (display_name (item), -1);
  return strstr (haystack, needle) != NULL;
}

static void
update_sidebar (EpWindow *self)
{
  const char *page = "list";

  if (self->node == NULL)
    return;
  if (g_list_model_get_n_items (G_LIST_MODEL (ep_node_get_contacts (self->node))) == 0)
    page = "empty";
  else if (g_list_model_get_n_items (G_LIST_MODEL (self->filtered)) == 0)
    page = "no-results";
  gtk_stack_set_visible_child_name (self->sidebar_stack, page);
}

/* The window title carries the number of unread messages. */
static void
update_window_title (EpWindow *self)
{
  GListModel *contacts = G_LIST_MODEL (ep_node_get_contacts (self->node));
  guint total = 0;

  for (guint i = 0; i < g_list_model_get_n_items (contacts); i++)
    {
      g_autoptr(EpContact) contact = g_list_model_get_item (contacts, i);

      total += ep_contact_get_unread_count (contact);
    }

  if (total > 0)
    {
      /* Translators: the window title with the number of unread messages */
      g_autofree char *title = g_strdup_printf (_("EncryptedP2P (%u)"), total);
      gtk_window_set_title (GTK_WINDOW (self), title);
    }
  else
    gtk_window_set_title (GTK_WINDOW (self), _("EncryptedP2P"));
}

static void
on_unread_changed (EpContact  *contact,
                   GParamSpec *pspec,
                   EpWindow   *self)
{
  update_window_title (self);
}

static void
watch_unread (EpWindow *self,
              guint     position,
              guint     n)
{
  GListModel *contacts = G_LIST_MODEL (ep_node_get_contacts (self->node));

  for (guint i = position; i < position + n; i++)
    {
      g_autoptr(EpContact) contact = g_list_model_get_item (contacts, i);

      /* A contact that moves comes back as "added": connect it once. */
      if (g_signal_handler_find (contact, G_SIGNAL_MATCH_FUNC | G_SIGNAL_MATCH_DATA, 0, 0,
                                 NULL, on_unread_changed, self) == 0)
        g_signal_connect_object (contact, "notify::unread-count",
                                 G_CALLBACK (on_unread_changed), self, 0);
    }
}

static void
on_contacts_changed (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     EpWindow   *self)
{
  update_sidebar (self);
  watch_unread (self, position, added);
  update_window_title (self);

  /* The contact shown may have been declined away. */
  if (self->contact != NULL
      && ep_contact_list_lookup (ep_node_get_contacts (self->node),
                                 ep_contact_get_key (self->contact)) == NULL)
    ep_window_open_chat (self, NULL);
}

static void
on_search_changed (EpWindow *self)
{
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  update_sidebar (self);
}

/* The right side */

static void
update_title (EpWindow *self)
{
  const char *subtitle = "";

  if (self->contact == NULL)
    {
      adw_window_title_set_title (self->chat_title, "");
      adw_window_title_set_subtitle (self->chat_title, "");
      return;
    }

  if (ep_contact_get_request_state (self->contact) == EP_CONTACT_REQUEST_ACCEPTED)
    subtitle = ep_contact_get_presence (self->contact) == EP_CONTACT_PRESENCE_ONLINE
               ? _("Online") : _("Offline");
  adw_window_title_set_title (self->chat_title, display_name (self->contact));
  adw_window_title_set_subtitle (self->chat_title, subtitle);
}

static void
update_content (EpWindow *self)
{
  update_title (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.contact-details", self->contact != NULL);

  if (self->contact == NULL)
    {
      gtk_stack_set_visible_child_name (self->content_stack, "none");
      return;
    }

  if (ep_contact_get_request_state (self->contact) == EP_CONTACT_REQUEST_INCOMING_PENDING)
    {
      const char *text = g_hash_table_lookup (self->request_texts,
                                              ep_contact_get_key (self->contact));
      g_autofree char *title = g_strdup_printf (_("%s Wants to Be Your Contact"),
                                                display_name (self->contact));

      adw_status_page_set_icon_name (self->request_page, "contact-new-symbolic");
      adw_status_page_set_title (self->request_page, title);
      adw_status_page_set_description (self->request_page,
                                       text != NULL && *text != '\0'
                                       ? text
                                       : _("Accept to write to each other. "
                                           "Block to never hear from this ID again."));
      gtk_stack_set_visible_child_name (self->content_stack, "request");
      return;
    }

  gtk_stack_set_visible_child_name (self->content_stack, "chat");
}

static void
on_shown_contact_notify (EpContact  *contact,
                         GParamSpec *pspec,
                         EpWindow   *self)
{
  update_content (self);
}

static void
mark_read (EpWindow  *self,
           EpContact *contact)
{
  GApplication *app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));

  if (ep_contact_get_unread_count (contact) > 0)
    {
      ep_store_mark_read_async (ep_node_get_store (self->node), ep_contact_get_key_bytes (contact),
                                NULL, NULL, NULL);
      ep_contact_set_unread_count (contact, 0);
    }
  if (app != NULL)
    ep_application_withdraw_notification (EP_APPLICATION (app), ep_contact_get_key (contact));
}

static void
show_contact (EpWindow  *self,
              EpContact *contact)
{
  if (self->contact != NULL)
    g_signal_handlers_disconnect_by_func (self->contact, on_shown_contact_notify, self);
  g_set_object (&self->contact, contact);
  if (contact != NULL)
    {
      g_signal_connect (contact, "notify::request-state", G_CALLBACK (on_shown_contact_notify),
                        self);
      g_signal_connect (contact, "notify::presence", G_CALLBACK (on_shown_contact_notify), self);
      g_signal_connect (contact, "notify::name", G_CALLBACK (on_shown_contact_notify), self);
      mark_read (self, contact);
    }
  ep_chat_view_set_contact (self->chat_view, contact);
  update_content (self);
  adw_leaflet_set_visible_child (self->leaflet, contact != NULL ? self->content : self->sidebar);
}

static void
select_contact (EpWindow  *self,
                EpContact *contact)
{
  GListModel *model = G_LIST_MODEL (self->selection);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(EpContact) item = g_list_model_get_item (model, i);

      if (item == contact)
        {
          gtk_single_selection_set_selected (self->selection, i);
          return;
        }
    }
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
}

/**
 * ep_window_open_chat:
 * @self: an #EpWindow
 * @contact_key: (nullable): hex key of a contact, or %NULL for none
 */
void
ep_window_open_chat (EpWindow   *self,
                     const char *contact_key)
{
  EpContact *contact = NULL;

  g_return_if_fail (EP_IS_WINDOW (self));

  if (self->node == NULL || !ep_node_is_started (self->node))
    return;
  if (contact_key != NULL)
    contact = ep_contact_list_lookup (ep_node_get_contacts (self->node), contact_key);
  show_contact (self, contact);
  select_contact (self, contact);
}

/**
 * ep_window_is_chat_visible:
 * @self: an #EpWindow
 * @contact_key: hex key of a contact
 *
 * Returns: whether the conversation with @contact_key is on screen
 */
gboolean
ep_window_is_chat_visible (EpWindow   *self,
                           const char *contact_key)
{
  g_return_val_if_fail (EP_IS_WINDOW (self), FALSE);

  return gtk_widget_get_visible (GTK_WIDGET (self))
         && self->contact != NULL
         && g_strcmp0 (ep_contact_get_key (self->contact), contact_key) == 0
         && g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "main") == 0
         && g_strcmp0 (gtk_stack_get_visible_child_name (self->content_stack), "chat") == 0
         && (!adw_leaflet_get_folded (self->leaflet)
             || adw_leaflet_get_visible_child (self->leaflet) == self->content);
}

/**
 * ep_window_get_contact:
 * @self: an #EpWindow
 *
 * Returns: (nullable) (transfer none): the contact shown on the right
 */
EpContact *
ep_window_get_contact (EpWindow *self)
{
  g_return_val_if_fail (EP_IS_WINDOW (self), NULL);

  return self->contact;
}

static void
on_contact_activated (EpWindow *self,
                      guint     position)
{
  g_autoptr(EpContact) contact = g_list_model_get_item (G_LIST_MODEL (self->selection), position);

  show_contact (self, contact);
}

static void
on_back_clicked (EpWindow *self)
{
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static void
on_accept_clicked (EpWindow *self)
{
  g_autoptr(GError) error = NULL;
  EpContact *contact;

  if (self->contact == NULL)
    return;
  contact = ep_node_accept_request (self->node, ep_contact_get_key_bytes (self->contact), &error);
  if (contact == NULL)
    {
      ep_window_add_toast (self, error->message);
      return;
    }
  update_content (self);
}

static void
on_decline_clicked (EpWindow *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpContact) contact = NULL;

  if (self->contact == NULL)
    return;
  contact = g_object_ref (self->contact);
  if (!ep_node_decline_request (self->node, ep_contact_get_key_bytes (contact), &error))
    {
      ep_window_add_toast (self, error->message);
      return;
    }
  ep_window_open_chat (self, NULL);
}

static void
on_block_clicked (EpWindow *self)
{
  g_autoptr(GError) error = NULL;

  if (self->contact == NULL)
    return;
  if (!ep_node_block_contact (self->node, ep_contact_get_key_bytes (self->contact), &error))
    {
      ep_window_add_toast (self, error->message);
      return;
    }
  update_content (self);
}

/* Node events */

static void
on_message_received (EpNode    *node,
                     EpMessage *message,
                     EpWindow  *self)
{
  EpContact *contact = ep_contact_list_lookup (ep_node_get_contacts (node),
                                               ep_message_get_contact_key (message));

  /* The contact list counted it unread; it is read if the user sees it. */
  if (contact != NULL && gtk_window_is_active (GTK_WINDOW (self))
      && ep_window_is_chat_visible (self, ep_contact_get_key (contact)))
    mark_read (self, contact);
}

static void
on_contact_request (EpNode     *node,
                    EpContact  *contact,
                    const char *text,
                    EpWindow   *self)
{
  g_autofree char *toast = g_strdup_printf (_("%s wants to be your contact"),
                                            display_name (contact));

  g_hash_table_replace (self->request_texts, g_strdup (ep_contact_get_key (contact)),
                        g_strdup (text));
  ep_window_add_toast (self, toast);
  if (self->contact == contact)
    update_content (self);
}

static void
on_request_answered (EpNode    *node,
                     EpContact *contact,
                     gboolean   accepted,
                     EpWindow  *self)
{
  g_autofree char *toast = g_strdup_printf (accepted ? _("%s accepted your request")
                                                     : _("%s declined your request"),
                                            display_name (contact));

  ep_window_add_toast (self, toast);
}

/* Actions */

static void
on_add_contact_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  EpWindow *self = EP_WINDOW (widget);

  if (self->node == NULL || !ep_node_is_started (self->node))
    return;
  gtk_window_present (GTK_WINDOW (ep_add_contact_window_new (GTK_WINDOW (self), self->node)));
}

static void
on_my_id_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  EpWindow *self = EP_WINDOW (widget);

  if (self->node == NULL)
    return;
  gtk_window_present (GTK_WINDOW (ep_my_id_window_new (GTK_WINDOW (self), self->node)));
}

static void
on_contact_details_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  EpWindow *self = EP_WINDOW (widget);

  if (self->node == NULL || self->contact == NULL)
    return;
  gtk_window_present (GTK_WINDOW (ep_contact_window_new (GTK_WINDOW (self), self->node,
                                                         self->contact)));
}

static void
on_preferences_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  EpWindow *self = EP_WINDOW (widget);
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  if (self->node == NULL || app == NULL)
    return;
  gtk_window_present (GTK_WINDOW (ep_preferences_window_new (GTK_WINDOW (self),
                                                             EP_APPLICATION (app))));
}

/* Start (the pages before it: ep-window-start.c) */

/* The node's events, for the window's toasts and read marks. */
void
ep_window_connect_node (EpWindow *self)
{
  ep_chat_view_set_node (self->chat_view, self->node);
  g_signal_connect_object (self->node, "message-received", G_CALLBACK (on_message_received),
                           self, 0);
  g_signal_connect_object (self->node, "contact-request", G_CALLBACK (on_contact_request),
                           self, 0);
  g_signal_connect_object (self->node, "contact-request-answered",
                           G_CALLBACK (on_request_answered), self, 0);
}

/* The contacts and the chat, once the node is online. */
void
ep_window_show_main (EpWindow *self)
{
  EpContactList *contacts = ep_node_get_contacts (self->node);

  gtk_spinner_stop (self->loading_spinner);
  gtk_filter_list_model_set_model (self->filtered, G_LIST_MODEL (contacts));
  g_signal_connect_object (contacts, "items-changed", G_CALLBACK (on_contacts_changed), self, 0);
  watch_unread (self, 0, g_list_model_get_n_items (G_LIST_MODEL (contacts)));
  update_window_title (self);
  update_sidebar (self);
  update_content (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.add-contact", TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.my-id", TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.preferences", TRUE);
  gtk_stack_set_visible_child_name (self->stack, "main");
}

static gboolean
ep_window_close_request (GtkWindow *window)
{
  GtkApplication *app = gtk_window_get_application (window);

  if (app != NULL && EP_IS_APPLICATION (app)
      && ep_application_close_to_background (EP_APPLICATION (app)))
    {
      gtk_widget_set_visible (GTK_WIDGET (window), FALSE);
      return TRUE;
    }
  return GTK_WINDOW_CLASS (ep_window_parent_class)->close_request (window);
}

static void
ep_window_dispose (GObject *object)
{
  EpWindow *self = EP_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->contact != NULL)
    g_signal_handlers_disconnect_by_func (self->contact, on_shown_contact_notify, self);
  g_clear_object (&self->contact);
  g_clear_object (&self->settings);
  g_clear_object (&self->node);
  g_clear_pointer (&self->request_texts, g_hash_table_unref);

  gtk_widget_dispose_template (GTK_WIDGET (self), EP_TYPE_WINDOW);

  G_OBJECT_CLASS (ep_window_parent_class)->dispose (object);
}

static void
ep_window_class_init (EpWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ep_window_dispose;
  GTK_WINDOW_CLASS (klass)->close_request = ep_window_close_request;

  g_type_ensure (EP_TYPE_CHAT_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_BASE "/ep-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EpWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, error_page);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, unlock_page);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, name_entry);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, name_button);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, passphrase_entry);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, unlock_entry);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, unlock_error);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, unlock_button);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, unlock_spinner);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, onboarding_spinner);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, content);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, sidebar_stack);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, contact_view);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, chat_title);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, content_stack);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, request_page);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, accept_button);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, decline_button);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, block_button);
  gtk_widget_class_bind_template_child (widget_class, EpWindow, chat_view);
  gtk_widget_class_bind_template_callback_full (widget_class, "on_name_button_clicked",
                                                G_CALLBACK (ep_window_on_name_button_clicked));
  gtk_widget_class_bind_template_callback_full (widget_class, "on_unlock_clicked",
                                                G_CALLBACK (ep_window_on_unlock_clicked));
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_contact_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_back_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_accept_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_decline_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_block_clicked);

  gtk_widget_class_install_action (widget_class, "win.add-contact", NULL, on_add_contact_action);
  gtk_widget_class_install_action (widget_class, "win.my-id", NULL, on_my_id_action);
  gtk_widget_class_install_action (widget_class, "win.preferences", NULL, on_preferences_action);
  gtk_widget_class_install_action (widget_class, "win.contact-details", NULL,
                                   on_contact_details_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_comma, GDK_CONTROL_MASK,
                                       "win.preferences", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK,
                                       "win.add-contact", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK,
                                       "window.close", NULL);
}

static void
ep_window_init (EpWindow *self)
{
  GtkListItemFactory *factory;

  gtk_widget_init_template (GTK_WIDGET (self));

  if (g_str_has_suffix (APP_ID, ".Devel"))
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");

  self->cancellable = g_cancellable_new ();
  self->request_texts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  self->filter = gtk_custom_filter_new (filter_contact, self, NULL);
  self->filtered = gtk_filter_list_model_new (NULL, GTK_FILTER (self->filter));
  self->selection = gtk_single_selection_new (G_LIST_MODEL (self->filtered));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  factory = ep_contact_row_factory_new ();
  gtk_list_view_set_model (self->contact_view, GTK_SELECTION_MODEL (self->selection));
  gtk_list_view_set_factory (self->contact_view, factory);
  g_object_unref (self->selection);
  g_object_unref (factory);

  g_signal_connect (self->name_entry, "changed", G_CALLBACK (ep_window_on_name_changed), self);
  g_signal_connect_swapped (self->name_entry, "activate", G_CALLBACK (ep_window_on_name_button_clicked),
                            self);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.add-contact", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.my-id", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.preferences", FALSE);

  /* Size and maximized state survive restarts, as in every GNOME app. */
  self->settings = g_settings_new (SCHEMA_ID);
  g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
}

EpWindow *
ep_window_new (EpApplication *application)
{
  EpWindow *self;

  g_return_val_if_fail (EP_IS_APPLICATION (application), NULL);

  self = g_object_new (EP_TYPE_WINDOW,
                       "application", application,
                       NULL);
  ep_window_setup_node (self, application);
  return self;
}
