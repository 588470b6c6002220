/* ep-passphrase-window.c — set, change or remove the passphrase of the keys
 *
 * The passphrase encrypts the key file; the app asks for it at each start.
 * Checking the current one and deriving the new key both run Argon2id, on
 * purpose slow: ep_node_change_passphrase_async() does it in a worker
 * thread while the window shows a spinner and takes no input. It cannot be
 * closed meanwhile, so the user always learns whether it worked.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "ep-passphrase-window.h"

struct _EpPassphraseWindow
{
  AdwWindow     parent_instance;

  EpNode       *node;
  GCancellable *cancellable;
  gboolean      encrypted;
  gboolean      removing;
  gboolean      busy;

  /* Template widgets */
  GtkWidget    *save_button;
  GtkSpinner   *spinner;
  GtkWidget    *form_box;
  GtkLabel     *explanation_label;
  GtkWidget    *current_row;
  GtkWidget    *new_row;
  GtkWidget    *confirm_row;
  GtkLabel     *error_label;
  GtkWidget    *remove_button;
};

G_DEFINE_FINAL_TYPE (EpPassphraseWindow, ep_passphrase_window, ADW_TYPE_WINDOW)

static void
show_error (EpPassphraseWindow *self,
            const char         *message,
            GtkWidget          *row)
{
  gtk_label_set_text (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
  if (row != NULL)
    gtk_widget_grab_focus (row);
}

static void
set_busy (EpPassphraseWindow *self,
          gboolean            busy)
{
  self->busy = busy;
  /* Focus out first: a focused GtkText made insensitive warns in GTK 4.8. */
  if (busy)
    gtk_window_set_focus (GTK_WINDOW (self), NULL);
  gtk_widget_set_sensitive (self->form_box, !busy);
  gtk_widget_set_sensitive (self->save_button, !busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_spinner_set_spinning (self->spinner, busy);
}

static void
on_changed (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(EpPassphraseWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  GtkWindow *parent;
  const char *done;

  set_busy (self, FALSE);
  if (!ep_node_change_passphrase_finish (EP_NODE (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      if (g_error_matches (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_WRONG_PASSPHRASE)
          || g_error_matches (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_NEEDS_PASSPHRASE))
        {
          gtk_editable_set_text (GTK_EDITABLE (self->current_row), "");
          show_error (self, error->message, self->current_row);
        }
      else
        show_error (self, error->message, NULL);
      return;
    }

  if (self->removing)
    done = _("Passphrase removed");
  else if (self->encrypted)
    done = _("Passphrase changed");
  else
    done = _("Passphrase set");
  parent = gtk_window_get_transient_for (GTK_WINDOW (self));
  if (ADW_IS_PREFERENCES_WINDOW (parent))
    adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (parent), adw_toast_new (done));
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
start (EpPassphraseWindow *self,
       const char         *new_passphrase)
{
  const char *current = gtk_editable_get_text (GTK_EDITABLE (self->current_row));

  if (self->encrypted && *current == '\0')
    {
      show_error (self, _("Type your current passphrase first"), self->current_row);
      return;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  set_busy (self, TRUE);
  ep_node_change_passphrase_async (self->node, self->encrypted ? current : NULL, new_passphrase,
                                   self->cancellable, on_changed, g_object_ref (self));
}

static void
on_save_clicked (EpPassphraseWindow *self)
{
  const char *new_passphrase = gtk_editable_get_text (GTK_EDITABLE (self->new_row));
  const char *confirm = gtk_editable_get_text (GTK_EDITABLE (self->confirm_row));

  if (self->busy)
    return;
  if (*new_passphrase == '\0')
    {
      show_error (self, self->encrypted
                        ? _("Type a new passphrase, or remove the passphrase below")
                        : _("Type a new passphrase"),
                  self->new_row);
      return;
    }
  if (g_strcmp0 (new_passphrase, confirm) != 0)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->confirm_row), "");
      show_error (self, _("The new passphrases do not match"), self->confirm_row);
      return;
    }
  self->removing = FALSE;
  start (self, new_passphrase);
}

static void
on_remove_clicked (EpPassphraseWindow *self)
{
  if (self->busy || !self->encrypted)
    return;
  self->removing = TRUE;
  start (self, NULL);
}

static gboolean
ep_passphrase_window_close_request (GtkWindow *window)
{
  /* Not while the key file is being rewritten. */
  if (EP_PASSPHRASE_WINDOW (window)->busy)
    return TRUE;
  return GTK_WINDOW_CLASS (ep_passphrase_window_parent_class)->close_request (window);
}

static void
ep_passphrase_window_dispose (GObject *object)
{
  EpPassphraseWindow *self = EP_PASSPHRASE_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->node);
  gtk_widget_dispose_template (GTK_WIDGET (self), EP_TYPE_PASSPHRASE_WINDOW);

  G_OBJECT_CLASS (ep_passphrase_window_parent_class)->dispose (object);
}

static void
ep_passphrase_window_class_init (EpPassphraseWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ep_passphrase_window_dispose;
  GTK_WINDOW_CLASS (klass)->close_request = ep_passphrase_window_close_request;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/ep-passphrase-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EpPassphraseWindow, save_button);
  gtk_widget_class_bind_template_child (widget_class, EpPassphraseWindow, spinner);
  gtk_widget_class_bind_template_child (widget_class, EpPassphraseWindow, form_box);
  gtk_widget_class_bind_template_child (widget_class, EpPassphraseWindow, explanation_label);
  gtk_widget_class_bind_template_child (widget_class, EpPassphraseWindow, current_row);
  gtk_widget_class_bind_template_child (widget_class, EpPassphraseWindow, new_row);
  gtk_widget_class_bind_template_child (widget_class, EpPassphraseWindow, confirm_row);
  gtk_widget_class_bind_template_child (widget_class, EpPassphraseWindow, error_label);
  gtk_widget_class_bind_template_child (widget_class, EpPassphraseWindow, remove_button);
  gtk_widget_class_bind_template_callback (widget_class, on_save_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_remove_clicked);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ep_passphrase_window_init (EpPassphraseWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
}

EpPassphraseWindow *
ep_passphrase_window_new (GtkWindow *parent,
                          EpNode    *node)
{
  EpPassphraseWindow *self;

  g_return_val_if_fail (EP_IS_NODE (node), NULL);

  self = g_object_new (EP_TYPE_PASSPHRASE_WINDOW,
                       "transient-for", parent,
                       NULL);
  self->node = g_object_ref (node);
  self->encrypted = ep_identity_is_encrypted (ep_node_get_identity (node));

  gtk_widget_set_visible (self->current_row, self->encrypted);
  gtk_widget_set_visible (self->remove_button, self->encrypted);
  if (self->encrypted)
    {
      gtk_window_set_title (GTK_WINDOW (self), _("Change Passphrase"));
      gtk_label_set_text (self->explanation_label,
                          _("Your keys are protected by a passphrase that the app asks for "
                            "at each start. Type it to change or remove it."));
      gtk_widget_grab_focus (self->current_row);
    }
  else
    {
      gtk_window_set_title (GTK_WINDOW (self), _("Set a Passphrase"));
      gtk_label_set_text (self->explanation_label,
                          _("A passphrase protects your keys on this device: the app asks "
                            "for it at each start. Nobody can recover a forgotten one."));
      gtk_widget_grab_focus (self->new_row);
    }
  return self;
}

/**
 * ep_passphrase_window_is_busy:
 * @self: an #EpPassphraseWindow
 *
 * Returns: whether a change is under way (the window then takes no input)
 */
gboolean
ep_passphrase_window_is_busy (EpPassphraseWindow *self)
{
  g_return_val_if_fail (EP_IS_PASSPHRASE_WINDOW (self), FALSE);

  return self->busy;
}
