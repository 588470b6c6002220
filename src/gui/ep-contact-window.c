/* ep-contact-window.c — a contact's details: fingerprint, presence, block, remove
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ep-contact-window.h"

struct _EpContactWindow
{
  AdwWindow     parent_instance;

  EpNode       *node;
  EpContact    *contact;

  /* Template widgets */
  AdwAvatar    *avatar;
  GtkLabel     *name_label;
  AdwActionRow *status_row;
  AdwActionRow *presence_row;
  AdwActionRow *last_seen_row;
  GtkLabel     *fingerprint_label;
  GtkWidget    *block_button;
  GtkWidget    *remove_button;
};

G_DEFINE_FINAL_TYPE (EpContactWindow, ep_contact_window, ADW_TYPE_WINDOW)

/**
 * ep_contact_window_fingerprint:
 * @key_hex: 64 hex digits
 *
 * Returns: the key in groups of four hex digits, four groups a line, for
 *   reading aloud
 */
char *
ep_contact_window_fingerprint (const char *key_hex)
{
  GString *out = g_string_new (NULL);
  gsize len = strlen (key_hex);

  for (gsize i = 0; i < len; i += 4)
    {
      if (i > 0)
        g_string_append_c (out, i % 16 == 0 ? '\n' : ' ');
      g_string_append_len (out, key_hex + i, MIN (4, len - i));
    }
  return g_string_free (out, FALSE);
}

static void
update (EpContactWindow *self)
{
  const char *name = ep_contact_get_name (self->contact);
  const char *status = ep_contact_get_status_text (self->contact);
  GDateTime *last_seen = ep_contact_get_last_seen (self->contact);
  gboolean online = ep_contact_get_presence (self->contact) == EP_CONTACT_PRESENCE_ONLINE;
  gboolean blocked = ep_contact_get_request_state (self->contact) == EP_CONTACT_REQUEST_BLOCKED;

  if (name == NULL || *name == '\0')
    name = _("Unnamed contact");
  adw_avatar_set_text (self->avatar, name);
  gtk_label_set_text (self->name_label, name);
  adw_action_row_set_subtitle (self->status_row, status != NULL && *status != '\0'
                                                 ? status : _("None"));
  if (!online)
    adw_action_row_set_subtitle (self->presence_row, _("Offline"));
  else
    switch (ep_node_get_path (self->node, ep_contact_get_key_bytes (self->contact)))
      {
      case EP_NODE_PATH_DIRECT:
        adw_action_row_set_subtitle (self->presence_row, _("Online, directly"));
        break;
      case EP_NODE_PATH_RELAY:
        adw_action_row_set_subtitle (self->presence_row, _("Online, through a relay"));
        break;
      case EP_NODE_PATH_NONE:
      default:
        adw_action_row_set_subtitle (self->presence_row, _("Online"));
        break;
      }
  if (online)
    adw_action_row_set_subtitle (self->last_seen_row, _("Now"));
  else if (last_seen != NULL)
    {
      g_autoptr(GDateTime) local = g_date_time_to_local (last_seen);
      /* Translators: when a contact was last online, see g_date_time_format() */
      g_autofree char *text = g_date_time_format (local, _("%e %B %Y, %H:%M"));

      adw_action_row_set_subtitle (self->last_seen_row, text);
    }
  else
    adw_action_row_set_subtitle (self->last_seen_row, _("Never"));
  gtk_widget_set_visible (self->block_button, !blocked);
}

static void
on_contact_notify (EpContact       *contact,
                   GParamSpec      *pspec,
                   EpContactWindow *self)
{
  update (self);
}

static void
on_block_clicked (EpContactWindow *self)
{
  g_autoptr(GError) error = NULL;

  if (!ep_node_block_contact (self->node, ep_contact_get_key_bytes (self->contact), &error))
    {
      gtk_label_set_text (self->name_label, error->message);
      return;
    }
  gtk_window_destroy (GTK_WINDOW (self));
}

static gboolean
destroy_later (gpointer user_data)
{
  gtk_window_destroy (GTK_WINDOW (user_data));
  return G_SOURCE_REMOVE;
}

static void
on_remove_response (AdwMessageDialog *dialog,
                    const char       *response,
                    EpContactWindow  *self)
{
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (response, "remove") != 0)
    return;
  if (!ep_node_remove_contact (self->node, ep_contact_get_key_bytes (self->contact), &error))
    {
      gtk_label_set_text (self->name_label, error->message);
      return;
    }
  /* Not under the dialog that is still answering: it goes first. */
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, destroy_later, g_object_ref (self), g_object_unref);
}

/* Removing deletes the history too: the user confirms it first. */
static void
on_remove_clicked (EpContactWindow *self)
{
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (GTK_WINDOW (self), NULL, NULL);
  /* Translators: %s is the contact's name */
  adw_message_dialog_format_heading (ADW_MESSAGE_DIALOG (dialog), _("Remove %s?"),
                                     gtk_label_get_text (self->name_label));
  adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog),
                               _("The contact and your whole conversation with them are deleted "
                                 "from this device. They can ask to be your contact again."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "remove",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_remove_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
ep_contact_window_dispose (GObject *object)
{
  EpContactWindow *self = EP_CONTACT_WINDOW (object);

  if (self->contact != NULL)
    g_signal_handlers_disconnect_by_func (self->contact, on_contact_notify, self);
  g_clear_object (&self->contact);
  g_clear_object (&self->node);
  gtk_widget_dispose_template (GTK_WIDGET (self), EP_TYPE_CONTACT_WINDOW);

  G_OBJECT_CLASS (ep_contact_window_parent_class)->dispose (object);
}

static void
ep_contact_window_class_init (EpContactWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ep_contact_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_BASE "/ep-contact-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EpContactWindow, avatar);
  gtk_widget_class_bind_template_child (widget_class, EpContactWindow, name_label);
  gtk_widget_class_bind_template_child (widget_class, EpContactWindow, status_row);
  gtk_widget_class_bind_template_child (widget_class, EpContactWindow, presence_row);
  gtk_widget_class_bind_template_child (widget_class, EpContactWindow, last_seen_row);
  gtk_widget_class_bind_template_child (widget_class, EpContactWindow, fingerprint_label);
  gtk_widget_class_bind_template_child (widget_class, EpContactWindow, block_button);
  gtk_widget_class_bind_template_child (widget_class, EpContactWindow, remove_button);
  gtk_widget_class_bind_template_callback (widget_class, on_block_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_remove_clicked);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ep_contact_window_init (EpContactWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

EpContactWindow *
ep_contact_window_new (GtkWindow *parent,
                       EpNode    *node,
                       EpContact *contact)
{
  EpContactWindow *self;
  g_autofree char *fingerprint = NULL;

  g_return_val_if_fail (EP_IS_NODE (node), NULL);
  g_return_val_if_fail (EP_IS_CONTACT (contact), NULL);

  self = g_object_new (EP_TYPE_CONTACT_WINDOW,
                       "transient-for", parent,
                       NULL);
  self->node = g_object_ref (node);
  self->contact = g_object_ref (contact);
  fingerprint = ep_contact_window_fingerprint (ep_contact_get_key (contact));
  gtk_label_set_text (self->fingerprint_label, fingerprint);
  g_signal_connect (contact, "notify", G_CALLBACK (on_contact_notify), self);
  update (self);
  return self;
}
