/* ep-window-start.c — the main window's first pages: unlock, onboarding, going online
 *
 * Unlocking and setting a passphrase at onboarding run Argon2id, slow on
 * purpose: both happen in a worker thread while the page shows a spinner
 * and takes no input.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "ep-window-private.h"

static void
on_started (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(EpWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!ep_node_start_finish (EP_NODE (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        ep_window_show_error (self, _("Cannot Go Online"), error);
      return;
    }
  ep_window_show_main (self);
}

static void
start_node (EpWindow *self)
{
  if (ep_node_is_started (self->node))
    {
      ep_window_show_main (self);
      return;
    }
  gtk_stack_set_visible_child_name (self->stack, "loading");
  gtk_spinner_start (self->loading_spinner);
  ep_node_start_async (self->node, self->cancellable, on_started, g_object_ref (self));
}

void
ep_window_on_name_changed (GtkEditable *entry,
                           EpWindow    *self)
{
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  gtk_widget_set_sensitive (self->name_button, *name != '\0');
}

/* While Argon2id runs in a worker, the page takes no input. The entries
 * keep their focus: a focused GtkText made insensitive warns in GTK 4.8. */
static void
set_working (EpWindow   *self,
             GtkSpinner *spinner,
             GtkWidget  *entry,
             GtkWidget  *button,
             gboolean    working)
{
  self->working = working;
  gtk_editable_set_editable (GTK_EDITABLE (entry), !working);
  gtk_widget_set_sensitive (button, !working);
  gtk_widget_set_visible (GTK_WIDGET (spinner), working);
  gtk_spinner_set_spinning (spinner, working);
}

static void
set_onboarding_working (EpWindow *self,
                        gboolean  working)
{
  set_working (self, self->onboarding_spinner, GTK_WIDGET (self->passphrase_entry),
               self->name_button, working);
  gtk_editable_set_editable (GTK_EDITABLE (self->name_entry), !working);
}

static void
finish_onboarding (EpWindow *self)
{
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_entry))));
  g_autoptr(GError) error = NULL;

  ep_node_set_name (self->node, name);
  /* The profile's settings, not this run's options. */
  if (!ep_application_save_profile_settings (EP_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))),
                                             &error))
    {
      ep_window_show_error (self, _("Your Name Cannot Be Saved"), error);
      return;
    }
  start_node (self);
}

static void
on_onboarding_passphrase_set (GObject      *source,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  g_autoptr(EpWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (self->node == NULL)
    return;
  set_onboarding_working (self, FALSE);
  if (!ep_node_change_passphrase_finish (EP_NODE (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        ep_window_show_error (self, _("Your Passphrase Cannot Be Set"), error);
      return;
    }
  finish_onboarding (self);
}

void
ep_window_on_name_button_clicked (EpWindow *self)
{
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_entry))));
  g_autofree char *passphrase = NULL;

  if (*name == '\0' || self->node == NULL || self->working)
    return;
  passphrase = g_strdup (gtk_editable_get_text (self->passphrase_entry));
  gtk_editable_set_text (self->passphrase_entry, "");
  if (*passphrase == '\0')
    {
      finish_onboarding (self);
      return;
    }

  /* A new identity has no passphrase yet: nothing to check first. */
  set_onboarding_working (self, TRUE);
  ep_node_change_passphrase_async (self->node, NULL, passphrase, self->cancellable,
                                   on_onboarding_passphrase_set, g_object_ref (self));
}

void
ep_window_setup_node (EpWindow      *self,
                      EpApplication *app)
{
  const GError *error = ep_application_get_node_error (app);
  const char *name;

  self->node = ep_application_get_node (app);
  if (self->node == NULL && ep_application_needs_passphrase (app))
    {
      adw_status_page_set_icon_name (self->unlock_page, "dialog-password-symbolic");
      gtk_stack_set_visible_child_name (self->stack, "unlock");
      gtk_widget_grab_focus (GTK_WIDGET (self->unlock_entry));
      return;
    }
  if (self->node == NULL)
    {
      if (error != NULL)
        ep_window_show_error (self, _("Your Profile Cannot Be Opened"), error);
      return;
    }
  g_object_ref (self->node);

  ep_window_connect_node (self);

  name = ep_node_get_name (self->node);
  if (name == NULL || *name == '\0')
    {
      gtk_stack_set_visible_child_name (self->stack, "onboarding");
      gtk_widget_grab_focus (GTK_WIDGET (self->name_entry));
      return;
    }
  start_node (self);
}

static void
on_unlocked (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(EpWindow) self = user_data;
  EpApplication *app = EP_APPLICATION (source);
  g_autoptr(GError) error = NULL;

  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  set_working (self, self->unlock_spinner, GTK_WIDGET (self->unlock_entry), self->unlock_button,
               FALSE);
  if (!ep_application_unlock_finish (app, result, &error))
    {
      gtk_label_set_text (self->unlock_error, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->unlock_error), TRUE);
      gtk_editable_set_text (self->unlock_entry, "");
      gtk_widget_grab_focus (GTK_WIDGET (self->unlock_entry));
      return;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->unlock_error), FALSE);
  if (self->node == NULL)
    ep_window_setup_node (self, app);
}

void
ep_window_on_unlock_clicked (EpWindow *self)
{
  EpApplication *app = EP_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  g_autofree char *passphrase = NULL;

  if (app == NULL || self->node != NULL || self->working)
    return;
  passphrase = g_strdup (gtk_editable_get_text (self->unlock_entry));
  gtk_editable_set_text (self->unlock_entry, "");
  set_working (self, self->unlock_spinner, GTK_WIDGET (self->unlock_entry), self->unlock_button,
               TRUE);
  ep_application_unlock_async (app, passphrase, self->cancellable, on_unlocked,
                               g_object_ref (self));
}
