/* ep-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "ep-window.h"

struct _EpWindow
{
  AdwApplicationWindow  parent_instance;

  GSettings            *settings;

  /* Template widgets */
  AdwStatusPage        *empty_page;
};

G_DEFINE_FINAL_TYPE (EpWindow, ep_window, ADW_TYPE_APPLICATION_WINDOW)

static void
ep_window_dispose (GObject *object)
{
  EpWindow *self = EP_WINDOW (object);

  g_clear_object (&self->settings);

  gtk_widget_dispose_template (GTK_WIDGET (self), EP_TYPE_WINDOW);

  G_OBJECT_CLASS (ep_window_parent_class)->dispose (object);
}

static void
ep_window_class_init (EpWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ep_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_BASE "/ep-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EpWindow, empty_page);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK,
                                       "window.close", NULL);
}

static void
ep_window_init (EpWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  if (g_str_has_suffix (APP_ID, ".Devel"))
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");

  /* Size and maximized state survive restarts, as in every GNOME app. */
  self->settings = g_settings_new ("io.github.encryptedp2p.EncryptedP2P");
  g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
}

EpWindow *
ep_window_new (EpApplication *application)
{
  g_return_val_if_fail (EP_IS_APPLICATION (application), NULL);

  return g_object_new (EP_TYPE_WINDOW,
                       "application", application,
                       NULL);
}
