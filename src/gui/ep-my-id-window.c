/* ep-my-id-window.c — the ID to share, with a copy button and a QR code
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "ep-my-id-window.h"
#include "ep-qr-code.h"

struct _EpMyIdWindow
{
  AdwWindow        parent_instance;

  char            *id;        /* compact, as copied */
  EpNode          *node;

  /* Template widgets */
  AdwToastOverlay *toast_overlay;
  GtkLabel        *id_label;
  EpQrCode        *qr_code;
  GtkWidget       *copy_button;
  GtkWidget       *change_button;
};

G_DEFINE_FINAL_TYPE (EpMyIdWindow, ep_my_id_window, ADW_TYPE_WINDOW)

static void
on_copy_clicked (EpMyIdWindow *self)
{
  if (self->id == NULL)
    return;
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), self->id);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (_("Copied to clipboard")));
}

static void
show_id (EpMyIdWindow *self)
{
  EpIdentity *identity = ep_node_get_identity (self->node);
  g_autofree char *grouped = NULL;
  g_autofree char *upper = NULL;

  g_free (self->id);
  self->id = g_strdup (ep_identity_get_contact_id (identity));
  grouped = ep_contact_id_format_grouped (ep_identity_get_public_key (identity),
                                          ep_identity_get_nospam (identity));
  gtk_label_set_text (self->id_label, grouped);
  /* Upper case: the QR code's compact alphanumeric mode holds the 61
   * characters in a version 3 symbol; the ID parser takes either case. */
  upper = g_ascii_strup (self->id, -1);
  ep_qr_code_set_text (self->qr_code, upper);
}

static void
on_change_response (AdwMessageDialog *dialog,
                    const char       *response,
                    EpMyIdWindow     *self)
{
  g_autoptr(GError) error = NULL;
  AdwToast *toast;

  if (g_strcmp0 (response, "change") != 0)
    return;
  if (!ep_node_reset_nospam (self->node, &error))
    {
      adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (error->message));
      return;
    }
  show_id (self);
  /* Before any other toast: the ID on screen is a new one. */
  toast = adw_toast_new (_("Your ID changed"));
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
on_change_clicked (EpMyIdWindow *self)
{
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Change Your ID?"),
                                   _("People who have your current ID can then no longer ask to "
                                     "be your contact with it; give them the new one. Your "
                                     "contacts keep reaching you."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "change", _("C_hange ID"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "change",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_change_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
ep_my_id_window_finalize (GObject *object)
{
  EpMyIdWindow *self = EP_MY_ID_WINDOW (object);

  g_clear_pointer (&self->id, g_free);
  g_clear_object (&self->node);

  G_OBJECT_CLASS (ep_my_id_window_parent_class)->finalize (object);
}

static void
ep_my_id_window_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), EP_TYPE_MY_ID_WINDOW);

  G_OBJECT_CLASS (ep_my_id_window_parent_class)->dispose (object);
}

/* The window would give the focus to the first focusable widget, the
 * selectable ID label, which then shows all its text selected. */
static void
ep_my_id_window_map (GtkWidget *widget)
{
  EpMyIdWindow *self = EP_MY_ID_WINDOW (widget);

  GTK_WIDGET_CLASS (ep_my_id_window_parent_class)->map (widget);
  gtk_widget_grab_focus (self->copy_button);
}

static void
ep_my_id_window_class_init (EpMyIdWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ep_my_id_window_dispose;
  object_class->finalize = ep_my_id_window_finalize;
  widget_class->map = ep_my_id_window_map;

  g_type_ensure (EP_TYPE_QR_CODE);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_BASE "/ep-my-id-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EpMyIdWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, EpMyIdWindow, id_label);
  gtk_widget_class_bind_template_child (widget_class, EpMyIdWindow, qr_code);
  gtk_widget_class_bind_template_child (widget_class, EpMyIdWindow, copy_button);
  gtk_widget_class_bind_template_child (widget_class, EpMyIdWindow, change_button);
  gtk_widget_class_bind_template_callback (widget_class, on_copy_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_change_clicked);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ep_my_id_window_init (EpMyIdWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

EpMyIdWindow *
ep_my_id_window_new (GtkWindow *parent,
                     EpNode    *node)
{
  EpMyIdWindow *self;

  g_return_val_if_fail (EP_IS_NODE (node), NULL);

  self = g_object_new (EP_TYPE_MY_ID_WINDOW,
                       "transient-for", parent,
                       NULL);
  self->node = g_object_ref (node);
  show_id (self);
  return self;
}

/**
 * ep_my_id_window_get_id:
 * @self: an #EpMyIdWindow
 *
 * Returns: the contact ID the copy button copies (compact form)
 */
const char *
ep_my_id_window_get_id (EpMyIdWindow *self)
{
  g_return_val_if_fail (EP_IS_MY_ID_WINDOW (self), NULL);

  return self->id;
}
