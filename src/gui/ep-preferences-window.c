/* ep-preferences-window.c — name, passphrase, notifications, network, relays
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
#include <string.h>

#include "ep-passphrase-window.h"
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
  AdwActionRow         *passphrase_row;
  GtkSwitch            *notifications_switch;
  GtkSwitch            *previews_switch;
  GtkSwitch            *background_switch;
  GtkSwitch            *lan_switch;
  GtkSpinButton        *port_spin;
  AdwPreferencesGroup  *bootstrap_group;
  AdwEntryRow          *bootstrap_entry;
  GtkWidget            *bootstrap_reset_button;
  GPtrArray            *bootstrap_rows;
  AdwPreferencesGroup  *relay_group;
  AdwEntryRow          *relay_entry;
  GtkLabel             *relay_error_label;
  GPtrArray            *relay_rows;
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
update_passphrase_row (EpPreferencesWindow *self)
{
  EpNode *node = ep_application_get_node (self->application);

  adw_action_row_set_subtitle (self->passphrase_row,
                               ep_identity_is_encrypted (ep_node_get_identity (node))
                               ? _("Asked for at each start")
                               : _("None: anyone using this account can read your keys"));
}

static void
on_passphrase_window_destroyed (EpPreferencesWindow *self)
{
  update_passphrase_row (self);
}

static void
on_passphrase_activated (EpPreferencesWindow *self)
{
  EpNode *node = ep_application_get_node (self->application);
  EpPassphraseWindow *window = ep_passphrase_window_new (GTK_WINDOW (self), node);

  g_signal_connect_object (window, "destroy", G_CALLBACK (on_passphrase_window_destroyed), self,
                           G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (window));
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

/* HOST:PORT, with the host in brackets for an IPv6 address. */
static gboolean
valid_host_port (const char *text)
{
  const char *colon = strrchr (text, ':');
  guint64 port;
  char *end = NULL;

  if (colon == NULL || colon == text || colon[1] == '\0')
    return FALSE;
  port = g_ascii_strtoull (colon + 1, &end, 10);
  if (*end != '\0' || port == 0 || port > G_MAXUINT16)
    return FALSE;
  if (text[0] == '[')
    return colon[-1] == ']' && colon - text > 2;
  return memchr (text, ':', colon - text) == NULL && strpbrk (text, " \t/") == NULL;
}

/* @list without @entry; NULL when nothing is left. */
static void
strv_remove (char       ***list,
             const char   *entry)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; *list != NULL && (*list)[i] != NULL; i++)
    if (g_strcmp0 ((*list)[i], entry) != 0)
      g_strv_builder_add (builder, (*list)[i]);
  g_strfreev (*list);
  *list = g_strv_builder_end (builder);
  if ((*list)[0] == NULL)
    g_clear_pointer (list, g_strfreev);
}

/* A row of a list setting (bootstrap nodes, relays) with a Remove button
 * that calls @on_remove with the entry in its "entry" data. */
static GtkWidget *
list_row_new (EpPreferencesWindow *self,
              const char          *entry,
              const char          *title,
              const char          *subtitle,
              GCallback            on_remove)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL)
    {
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);
    }
  gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (remove, "flat");
  gtk_widget_set_tooltip_text (remove, _("Remove"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Remove"), -1);
  g_object_set_data_full (G_OBJECT (remove), "entry", g_strdup (entry), g_free);
  g_signal_connect (remove, "clicked", on_remove, self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
  return row;
}

static void show_bootstrap (EpPreferencesWindow *self);

static void
on_bootstrap_remove (GtkButton           *button,
                     EpPreferencesWindow *self)
{
  EpNodeSettings *settings = ep_application_get_profile_settings (self->application);

  strv_remove (&settings->bootstrap, g_object_get_data (G_OBJECT (button), "entry"));
  save (self);
  show_bootstrap (self);
}

static void
show_bootstrap (EpPreferencesWindow *self)
{
  EpNodeSettings *settings = ep_application_get_profile_settings (self->application);

  for (guint i = 0; i < self->bootstrap_rows->len; i++)
    adw_preferences_group_remove (self->bootstrap_group, self->bootstrap_rows->pdata[i]);
  g_ptr_array_set_size (self->bootstrap_rows, 0);

  for (guint i = 0; settings->bootstrap != NULL && settings->bootstrap[i] != NULL; i++)
    {
      GtkWidget *row = list_row_new (self, settings->bootstrap[i], settings->bootstrap[i], NULL,
                                     G_CALLBACK (on_bootstrap_remove));

      adw_preferences_group_add (self->bootstrap_group, row);
      g_ptr_array_add (self->bootstrap_rows, row);
    }
  gtk_widget_set_sensitive (self->bootstrap_reset_button, settings->bootstrap != NULL);
}

static void
on_bootstrap_add (EpPreferencesWindow *self)
{
  EpNodeSettings *settings = ep_application_get_profile_settings (self->application);
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->bootstrap_entry))));
  g_autoptr(GStrvBuilder) builder = NULL;

  if (*text == '\0')
    return;
  if (!valid_host_port (text))
    {
      g_autofree char *message = g_strdup_printf (_("“%s” is not a node: write HOST:PORT, "
                                                    "like dht.example.org:6881"), text);

      gtk_widget_add_css_class (GTK_WIDGET (self->bootstrap_entry), "error");
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (message));
      return;
    }
  gtk_widget_remove_css_class (GTK_WIDGET (self->bootstrap_entry), "error");
  if (settings->bootstrap == NULL || !g_strv_contains ((const char * const *) settings->bootstrap, text))
    {
      builder = g_strv_builder_new ();
      if (settings->bootstrap != NULL)
        g_strv_builder_addv (builder, (const char **) settings->bootstrap);
      g_strv_builder_add (builder, text);
      g_strfreev (settings->bootstrap);
      settings->bootstrap = g_strv_builder_end (builder);
      save (self);
    }
  gtk_editable_set_text (GTK_EDITABLE (self->bootstrap_entry), "");
  show_bootstrap (self);
}

static void
on_bootstrap_reset (EpPreferencesWindow *self)
{
  EpNodeSettings *settings = ep_application_get_profile_settings (self->application);

  g_clear_pointer (&settings->bootstrap, g_strfreev);
  save (self);
  show_bootstrap (self);
}

/* Relays: KEYHEX@HOST:PORT (ep-relay-spec.h), at most EP_NODE_MAX_RELAYS. */

static void show_relays (EpPreferencesWindow *self);

static void
on_relay_remove (GtkButton           *button,
                 EpPreferencesWindow *self)
{
  EpNodeSettings *settings = ep_application_get_profile_settings (self->application);

  strv_remove (&settings->relays, g_object_get_data (G_OBJECT (button), "entry"));
  save (self);
  show_relays (self);
}

static void
show_relays (EpPreferencesWindow *self)
{
  EpNodeSettings *settings = ep_application_get_profile_settings (self->application);

  for (guint i = 0; i < self->relay_rows->len; i++)
    adw_preferences_group_remove (self->relay_group, self->relay_rows->pdata[i]);
  g_ptr_array_set_size (self->relay_rows, 0);

  for (guint i = 0; settings->relays != NULL && settings->relays[i] != NULL; i++)
    {
      const char *spec = settings->relays[i];
      const char *at = strchr (spec, '@');
      g_autofree char *key = at != NULL ? g_strndup (spec, at - spec) : NULL;
      /* Where it listens, then its key. */
      GtkWidget *row = list_row_new (self, spec, at != NULL ? at + 1 : spec, key,
                                     G_CALLBACK (on_relay_remove));

      adw_preferences_group_add (self->relay_group, row);
      g_ptr_array_add (self->relay_rows, row);
    }
}

/* What is wrong with @text as a relay, in words; NULL if nothing is. */
static char *
relay_problem (EpPreferencesWindow *self,
               const char          *text)
{
  EpNodeSettings *settings = ep_application_get_profile_settings (self->application);
  EpNode *node = ep_application_get_node (self->application);
  const char *at = strchr (text, '@');
  guint8 key[32];

  if (!ep_relay_spec_split (text, key, NULL, NULL, NULL))
    {
      gsize digits = 0;

      if (at == NULL)
        return g_strdup (_("Write the relay as KEY@HOST:PORT: its key, an “@”, then where it "
                           "listens"));
      while (digits < (gsize) (at - text) && g_ascii_isxdigit (text[digits]))
        digits++;
      if (digits != (gsize) (at - text))
        return g_strdup (_("The key before the “@” may only have the digits 0–9 and the "
                           "letters a–f"));
      if (digits != 64)
        /* Translators: %u is how many digits were typed */
        return g_strdup_printf (ngettext ("The key before the “@” must be 64 hexadecimal "
                                          "digits; it has %u",
                                          "The key before the “@” must be 64 hexadecimal "
                                          "digits; it has %u",
                                          (gulong) digits), (guint) digits);
      return g_strdup (_("After the “@”, write where the relay listens as HOST:PORT, like "
                         "relay.example.org:7000 or [2001:db8::1]:7000"));
    }
  if (memcmp (key, ep_identity_get_public_key (ep_node_get_identity (node)), 32) == 0)
    return g_strdup (_("This is your own key, not a relay’s"));
  if (settings->relays != NULL && !g_strv_contains ((const char * const *) settings->relays, text)
      && g_strv_length (settings->relays) >= EP_NODE_MAX_RELAYS)
    /* Translators: %d is the greatest number of relays */
    return g_strdup_printf (ngettext ("There can be at most %d relay",
                                      "There can be at most %d relays",
                                      EP_NODE_MAX_RELAYS), EP_NODE_MAX_RELAYS);
  return NULL;
}

static void
show_relay_problem (EpPreferencesWindow *self,
                    const char          *problem)
{
  if (problem != NULL)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->relay_entry), "error");
      gtk_label_set_text (self->relay_error_label, problem);
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->relay_entry), "error");
      gtk_label_set_text (self->relay_error_label, "");
    }
  gtk_widget_set_visible (GTK_WIDGET (self->relay_error_label), problem != NULL);
}

/* Checked as it is typed. */
static void
on_relay_changed (EpPreferencesWindow *self)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->relay_entry))));
  g_autofree char *problem = NULL;

  if (self->application == NULL)
    return;
  if (*text != '\0')
    problem = relay_problem (self, text);
  show_relay_problem (self, problem);
}

static void
on_relay_add (EpPreferencesWindow *self)
{
  EpNodeSettings *settings = ep_application_get_profile_settings (self->application);
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->relay_entry))));
  g_autofree char *problem = NULL;

  if (*text == '\0')
    return;
  problem = relay_problem (self, text);
  show_relay_problem (self, problem);
  if (problem != NULL)
    return;
  if (settings->relays == NULL || !g_strv_contains ((const char * const *) settings->relays, text))
    {
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

      if (settings->relays != NULL)
        g_strv_builder_addv (builder, (const char **) settings->relays);
      g_strv_builder_add (builder, text);
      g_strfreev (settings->relays);
      settings->relays = g_strv_builder_end (builder);
      save (self);
    }
  gtk_editable_set_text (GTK_EDITABLE (self->relay_entry), "");
  show_relays (self);
}

static void
ep_preferences_window_dispose (GObject *object)
{
  EpPreferencesWindow *self = EP_PREFERENCES_WINDOW (object);

  g_clear_pointer (&self->bootstrap_rows, g_ptr_array_unref);
  g_clear_pointer (&self->relay_rows, g_ptr_array_unref);
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
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, passphrase_row);
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, notifications_switch);
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, previews_switch);
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, background_switch);
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, lan_switch);
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, port_spin);
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, bootstrap_group);
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, bootstrap_entry);
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, bootstrap_reset_button);
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, relay_group);
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, relay_entry);
  gtk_widget_class_bind_template_child (widget_class, EpPreferencesWindow, relay_error_label);
  gtk_widget_class_bind_template_callback (widget_class, on_bootstrap_add);
  gtk_widget_class_bind_template_callback (widget_class, on_relay_add);
  gtk_widget_class_bind_template_callback (widget_class, on_relay_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_bootstrap_reset);
  gtk_widget_class_bind_template_callback (widget_class, on_name_apply);
  gtk_widget_class_bind_template_callback (widget_class, on_status_apply);
  gtk_widget_class_bind_template_callback (widget_class, on_passphrase_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_lan_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_port_changed);
}

static void
ep_preferences_window_init (EpPreferencesWindow *self)
{
  self->loading = TRUE;
  gtk_widget_init_template (GTK_WIDGET (self));
  self->bootstrap_rows = g_ptr_array_new ();
  self->relay_rows = g_ptr_array_new ();

  self->settings = g_settings_new (SCHEMA_ID);
  g_settings_bind (self->settings, "notifications", self->notifications_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "notification-previews", self->previews_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "run-in-background", self->background_switch, "active",
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
  show_bootstrap (self);
  show_relays (self);
  update_passphrase_row (self);
  self->loading = FALSE;
  return self;
}
