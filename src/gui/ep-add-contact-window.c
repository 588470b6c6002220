/* ep-add-contact-window.c — send a contact request to a pasted ID
 *
 * The ID is checked as it is typed; its error is shown in words and nothing
 * is sent until it parses. Sending adds the contact in the state "request
 * sent", and the main window shows it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "ep-add-contact-window.h"
#include "ep-window.h"

struct _EpAddContactWindow
{
  AdwWindow  parent_instance;

  EpNode    *node;

  /* Template widgets */
  GtkWidget *send_button;
  GtkEntry  *id_entry;
  GtkLabel  *id_error;
  GtkEntry  *text_entry;
  GtkLabel  *send_error;
};

G_DEFINE_FINAL_TYPE (EpAddContactWindow, ep_add_contact_window, ADW_TYPE_WINDOW)

static void
set_error (GtkLabel   *label,
           const char *message)
{
  gtk_label_set_text (label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (label), message != NULL);
}

static void
on_id_changed (EpAddContactWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->id_entry));
  g_autoptr(GError) error = NULL;
  guint8 key[EP_CONTACT_ID_KEY_LEN];
  guint32 nospam;
  gboolean valid;

  set_error (self->send_error, NULL);

  /* Nothing typed yet is not an error worth showing. */
  if (text == NULL || *text == '\0')
    {
      set_error (self->id_error, NULL);
      gtk_widget_set_sensitive (self->send_button, FALSE);
      gtk_widget_remove_css_class (GTK_WIDGET (self->id_entry), "error");
      return;
    }

  valid = ep_contact_id_parse (text, key, &nospam, &error);
  set_error (self->id_error, valid ? NULL : error->message);
  gtk_widget_set_sensitive (self->send_button, valid);
  if (valid)
    gtk_widget_remove_css_class (GTK_WIDGET (self->id_entry), "error");
  else
    gtk_widget_add_css_class (GTK_WIDGET (self->id_entry), "error");
}

static void
on_send_clicked (EpAddContactWindow *self)
{
  const char *id = gtk_editable_get_text (GTK_EDITABLE (self->id_entry));
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->text_entry))));
  g_autoptr(GError) error = NULL;
  EpContact *contact;
  GtkWindow *parent;

  if (self->node == NULL || !gtk_widget_get_sensitive (self->send_button))
    return;

  contact = ep_node_add_contact (self->node, id, text, &error);
  if (contact == NULL)
    {
      set_error (self->send_error, error->message);
      return;
    }

  parent = gtk_window_get_transient_for (GTK_WINDOW (self));
  if (EP_IS_WINDOW (parent))
    {
      ep_window_open_chat (EP_WINDOW (parent), ep_contact_get_key (contact));
      ep_window_add_toast (EP_WINDOW (parent), _("Request sent"));
    }
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
ep_add_contact_window_dispose (GObject *object)
{
  EpAddContactWindow *self = EP_ADD_CONTACT_WINDOW (object);

  g_clear_object (&self->node);
  gtk_widget_dispose_template (GTK_WIDGET (self), EP_TYPE_ADD_CONTACT_WINDOW);

  G_OBJECT_CLASS (ep_add_contact_window_parent_class)->dispose (object);
}

static void
ep_add_contact_window_class_init (EpAddContactWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ep_add_contact_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/ep-add-contact-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EpAddContactWindow, send_button);
  gtk_widget_class_bind_template_child (widget_class, EpAddContactWindow, id_entry);
  gtk_widget_class_bind_template_child (widget_class, EpAddContactWindow, id_error);
  gtk_widget_class_bind_template_child (widget_class, EpAddContactWindow, text_entry);
  gtk_widget_class_bind_template_child (widget_class, EpAddContactWindow, send_error);
  gtk_widget_class_bind_template_callback (widget_class, on_id_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_send_clicked);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ep_add_contact_window_init (EpAddContactWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_window_set_default_widget (GTK_WINDOW (self), self->send_button);
}

EpAddContactWindow *
ep_add_contact_window_new (GtkWindow *parent,
                           EpNode    *node)
{
  EpAddContactWindow *self;

  g_return_val_if_fail (EP_IS_NODE (node), NULL);

  self = g_object_new (EP_TYPE_ADD_CONTACT_WINDOW,
                       "transient-for", parent,
                       NULL);
  self->node = g_object_ref (node);
  return self;
}
