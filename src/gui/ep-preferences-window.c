/* ep-preferences-window.c — name, notifications, network
 *
 * The name and status text belong to the identity and are written into the
 * profile at once. Notification choices are per-user UI settings
 * (GSettings). The network settings are the profile's own, apart from the
 * options of this run, and apply at the next start.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "ep-preferences-window.h"

struct _EpPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  EpApplication        *application;
  GSettings            *settings;
  gboolean              loading;

  /* Template widgets */
  AdwEntryRow          *name_row;
  AdwEntryRow          *status_row;
  GtkSwitch            *notifications_switch;
  GtkSwitch            *previews_switch;
  GtkSwitch            *lan_switch;
  GtkSpinButton        *port_spin;
};

G_DEFINE_FINAL_TYPE (EpPreferencesWindow, ep_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static void
save (EpPreferencesWindow *self)
{
  g_autoptr(GError) error = NULL;

  if (self->loading || self->application == NULL)
    return;
  if (!ep_application_save_profile_settings (self->application, &error))
    adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (error->message));
}

static void
on_name_apply (EpPreferencesWindow *self)
{
  EpNode *node = ep_application_get_node (self->application);
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));

  if (*name == '\0')
    {
      /* Nobody may be nameless: put the current one back. */
      gtk_editable_set_text (GTK_EDITABLE (self->name_row), ep_node_get_name (node));
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                        adw_toast_new (_("Your name cannot be empty")));
      return;
    }
  ep_node_set_name (node, name);
  save (self);
}

static void
on_status_apply (EpPreferencesWindow *self)
{
  EpNode *node = ep_application_get_node (self->application);
  g_autofree char *status = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->status_row))));

  ep_node_set_status_text (node, *status != '\0' ? status : NULL);
  save (self);
}

static void
on_lan_changed (EpPreferencesWindow *self)
{
  EpNodeSettings *settings;

  if (self->loading || self->application == NULL)
    return;
  settings = ep_application_get_profile_settings (self->application);
  settings->lan_discovery = gtk_switch_get_active (self->lan_switch);
  save (self);
}

static void
on_port_changed (EpPreferencesWindow *self)
{
  EpNodeSettings *settings;

  if (self->loading || self->application == NULL)
    return;
  settings = ep_application_get_profile_settings (self->application);
  settings->port = (guint16) gtk_spin_button_get_value_as_int (self->port_spin);
  save (self);
}

static void
ep_preferences_window_dispose (GObject *object)
{
  EpPreferencesWindow *self = EP_PREFERENCES_WINDOW (object);

  g_clear_object (&self->settings);
  g_clear_object (&self->application);
  gtk_widget_dispose_template (GTK_WIDGET (self), EP_TYPE_PREFERENCES_WINDOW);

  G_OBJECT_CLASS (ep_preferences_window_parent_class)->dispose (object);
}

static void
ep_preferences_window_class_init (EpPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ep_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/ep-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, name_row);
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, status_row);
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, notifications_switch);
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, previews_switch);
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, lan_switch);
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, port_spin);
  gtk_widget_class_bind_template_callback (widget_class, on_name_apply);
  gtk_widget_class_bind_template_callback (widget_class, on_status_apply);
  gtk_widget_class_bind_template_callback (widget_class, on_lan_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_port_changed);
}

static void
ep_preferences_window_init (EpPreferencesWindow *self)
{
  self->loading = TRUE;
  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new (APP_ID);
  g_settings_bind (self->settings, "notifications", self->notifications_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "notification-previews", self->previews_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  self->loading = FALSE;
}

EpPreferencesWindow *
ep_preferences_window_new (GtkWindow     *parent,
                           EpApplication *application)
{
  EpPreferencesWindow *self;
  EpNodeSettings *settings;
  EpNode *node;
  const char *status;

  g_return_val_if_fail (EP_IS_APPLICATION (application), NULL);
  node = ep_application_get_node (application);
  g_return_val_if_fail (node != NULL, NULL);

  self = g_object_new (EP_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       NULL);
  self->application = g_object_ref (application);

  self->loading = TRUE;
  settings = ep_application_get_profile_settings (application);
  gtk_editable_set_text (GTK_EDITABLE (self->name_row), ep_node_get_name (node));
  status = ep_node_get_status_text (node);
  gtk_editable_set_text (GTK_EDITABLE (self->status_row), status != NULL ? status : "");
  gtk_switch_set_active (self->lan_switch, settings->lan_discovery);
  gtk_spin_button_set_value (self->port_spin, settings->port);
  self->loading = FALSE;
  return self;
}
