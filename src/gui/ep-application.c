/* ep-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "ep-core.h"
#include "ep-application.h"
#include "ep-window.h"

struct _EpApplication
{
  AdwApplication  parent_instance;

  char           *profile_dir;

  /* Options of this run; they override the profile's settings until quit. */
  char          **bootstrap;
  gboolean        no_default_bootstrap;
  gboolean        no_lan;
  int             port;
  char           *bind;

  EpNode         *node;
  GError         *node_error;
  EpNodeSettings  saved_settings;  /* the profile's; the node has this run's */
  GSettings      *settings;
  gboolean        held;            /* in the background, window hidden */
};

G_DEFINE_FINAL_TYPE (EpApplication, ep_application, ADW_TYPE_APPLICATION)

/* Used when neither the profile nor the command line names any, as
 * `encryptedp2p-node chat` does. */
static const char * const default_bootstrap[] = {
  "router.bittorrent.com:6881",
  "dht.transmissionbt.com:6881",
  "router.utorrent.com:6881",
  "dht.libtorrent.org:25401",
  NULL
};

/* The main window; dialogs of ours can be windows of the app too. */
static EpWindow *
main_window (EpApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (EP_IS_WINDOW (l->data))
      return l->data;
  return NULL;
}

static void ep_application_on_message_received (EpNode        *node,
                                                EpMessage     *message,
                                                EpApplication *self);
static void ep_application_on_contact_request  (EpNode        *node,
                                                EpContact     *contact,
                                                const char    *text,
                                                EpApplication *self);

static const GOptionEntry option_entries[] = {
  { "profile", 'p', 0, G_OPTION_ARG_FILENAME, NULL,
    N_("Use the profile in DIR instead of the default one"), N_("DIR") },
  { "port", 0, 0, G_OPTION_ARG_INT, NULL,
    N_("UDP port to listen on (0: any free port)"), N_("N") },
  { "bind", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Listen on this address only"), N_("ADDR") },
  { "bootstrap", 'b', 0, G_OPTION_ARG_STRING_ARRAY, NULL,
    N_("Join the DHT through this node (repeatable)"), N_("HOST:PORT") },
  { "no-default-bootstrap", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Do not use the public Mainline bootstrap routers"), NULL },
  { "no-lan", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Do not look for contacts on the local network"), NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Show the program version and exit"), NULL },
  { NULL }
};

static void
on_about_action (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  EpApplication *self = user_data;
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));
  const char *developers[] = { "The EncryptedP2P developers", NULL };

  adw_show_about_window (window,
                         "application-name", _("EncryptedP2P"),
                         "application-icon", APP_ID,
                         "developer-name", _("The EncryptedP2P developers"),
                         "developers", developers,
                         "version", PACKAGE_VERSION,
                         "website", "https://github.com/encryptedp2p/encryptedp2p",
                         "issue-url", "https://github.com/encryptedp2p/encryptedp2p/issues",
                         "copyright", "© 2026 The EncryptedP2P developers",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         /* Translators: put your names here, one per line */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
on_quit_action (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  EpApplication *self = EP_APPLICATION (user_data);
  GList *windows;

  if (self->held)
    {
      self->held = FALSE;
      g_application_release (G_APPLICATION (app));
    }

  /* Destroying the windows lets each one save its state and release what it
   * holds; the application then ends when the last one is gone. */
  while ((windows = gtk_application_get_windows (app)) != NULL)
    gtk_window_destroy (windows->data);

  g_application_quit (G_APPLICATION (app));
}

static void
on_open_chat_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  EpApplication *self = user_data;
  EpWindow *window = main_window (self);

  if (window == NULL)
    {
      g_application_activate (G_APPLICATION (self));
      window = main_window (self);
    }
  if (window == NULL)
    return;
  ep_window_open_chat (window, g_variant_get_string (parameter, NULL));
  gtk_window_present (GTK_WINDOW (window));
}

static const GActionEntry app_actions[] = {
  { "open-chat", on_open_chat_action, "s" },
  { "about", on_about_action },
  { "quit", on_quit_action },
};

static int
ep_application_handle_local_options (GApplication *application,
                                     GVariantDict *options)
{
  EpApplication *self = EP_APPLICATION (application);
  g_autoptr(GError) error = NULL;
  g_autofree char *requested = NULL;

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("encryptedp2p %s\n", PACKAGE_VERSION);
      return 0;
    }

  g_variant_dict_lookup (options, "profile", "^ay", &requested);
  g_clear_pointer (&self->bootstrap, g_strfreev);
  g_variant_dict_lookup (options, "bootstrap", "^as", &self->bootstrap);
  g_clear_pointer (&self->bind, g_free);
  g_variant_dict_lookup (options, "bind", "s", &self->bind);
  self->port = 0;
  g_variant_dict_lookup (options, "port", "i", &self->port);
  self->no_default_bootstrap = g_variant_dict_contains (options, "no-default-bootstrap");
  self->no_lan = g_variant_dict_contains (options, "no-lan");
  if (self->port < 0 || self->port > G_MAXUINT16)
    {
      g_printerr ("encryptedp2p: %s\n", _("The port must be between 0 and 65535"));
      return 1;
    }

  g_clear_pointer (&self->profile_dir, g_free);
  self->profile_dir = ep_profile_resolve_dir (requested, &error);
  if (self->profile_dir == NULL)
    {
      g_printerr ("encryptedp2p: %s\n", error->message);
      return 1;
    }

  /* One process holds one profile. A second profile on the same desktop
   * runs as its own instance instead of raising the first one's window. */
  if (requested != NULL)
    {
      g_autofree char *default_dir = ep_profile_default_dir ();

      if (g_strcmp0 (default_dir, self->profile_dir) != 0)
        g_application_set_flags (application,
                                 g_application_get_flags (application)
                                 | G_APPLICATION_NON_UNIQUE);
    }

  return -1;
}

/* Takes the opened profile; the options of this run win over its settings. */
static void
adopt_node (EpApplication *self,
            EpNode        *node)
{
  EpNodeSettings *settings;

  self->node = node;
  settings = ep_node_get_settings (self->node);
  self->saved_settings.port = settings->port;
  self->saved_settings.bind_address = g_strdup (settings->bind_address);
  self->saved_settings.bootstrap = g_strdupv (settings->bootstrap);
  self->saved_settings.relays = g_strdupv (settings->relays);
  self->saved_settings.lan_discovery = settings->lan_discovery;

  if (self->port != 0)
    settings->port = (guint16) self->port;
  if (self->bind != NULL)
    {
      g_free (settings->bind_address);
      settings->bind_address = g_strdup (self->bind);
    }
  if (self->bootstrap != NULL && self->bootstrap[0] != NULL)
    {
      g_strfreev (settings->bootstrap);
      settings->bootstrap = g_strdupv (self->bootstrap);
    }
  else if (settings->bootstrap == NULL && !self->no_default_bootstrap)
    settings->bootstrap = g_strdupv ((char **) default_bootstrap);
  if (self->no_lan)
    settings->lan_discovery = FALSE;

  g_signal_connect_object (self->node, "message-received",
                           G_CALLBACK (ep_application_on_message_received), self, 0);
  g_signal_connect_object (self->node, "contact-request",
                           G_CALLBACK (ep_application_on_contact_request), self, 0);
}

static gboolean
check_profile_dir (EpApplication *self)
{
  g_clear_error (&self->node_error);
  if (self->profile_dir == NULL)
    {
      g_set_error_literal (&self->node_error, EP_NODE_ERROR, EP_NODE_ERROR_PROFILE,
                           _("No profile directory could be found"));
      return FALSE;
    }
  return TRUE;
}

static void
open_node_with (EpApplication *self,
                const char    *passphrase)
{
  EpNode *node;

  if (!check_profile_dir (self))
    return;
  node = ep_node_open (self->profile_dir, passphrase, &self->node_error);
  if (node != NULL)
    adopt_node (self, node);
}

static void
open_node (EpApplication *self)
{
  if (self->node != NULL || self->node_error != NULL)
    return;
  open_node_with (self, NULL);
}

/**
 * ep_application_needs_passphrase:
 * @self: an #EpApplication
 *
 * Returns: whether the profile's keys are protected by a passphrase that
 *   was not given yet (see ep_application_unlock())
 */
gboolean
ep_application_needs_passphrase (EpApplication *self)
{
  g_return_val_if_fail (EP_IS_APPLICATION (self), FALSE);

  return self->node == NULL
         && g_error_matches (self->node_error, EP_IDENTITY_ERROR,
                             EP_IDENTITY_ERROR_NEEDS_PASSPHRASE);
}

static void
on_unlocked (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EpApplication *self = g_task_get_source_object (task);
  GError *error = NULL;
  EpNode *node = ep_node_open_finish (result, &error);

  if (node == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_clear_error (&self->node_error);
          self->node_error = g_error_copy (error);
        }
      g_task_return_error (task, error);
      return;
    }
  if (self->node != NULL)
    {
      /* Unlocked twice at once: the first one stays. */
      g_object_unref (node);
      g_task_return_boolean (task, TRUE);
      return;
    }
  g_clear_error (&self->node_error);
  adopt_node (self, node);
  g_task_return_boolean (task, TRUE);
}

/**
 * ep_application_unlock_async:
 * @self: an #EpApplication
 * @passphrase: the profile's passphrase
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the profile is open, or not
 * @user_data: data for @callback
 *
 * Opens a profile whose keys are protected by a passphrase, with the key
 * derivation (Argon2id) in a worker thread.
 */
void
ep_application_unlock_async (EpApplication       *self,
                             const char          *passphrase,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (EP_IS_APPLICATION (self));
  g_return_if_fail (passphrase != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ep_application_unlock_async);
  if (self->node != NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (!check_profile_dir (self))
    {
      g_task_return_error (task, g_error_copy (self->node_error));
      return;
    }
  ep_node_open_async (self->profile_dir, passphrase, cancellable, on_unlocked,
                      g_steal_pointer (&task));
}

/**
 * ep_application_unlock_finish:
 * @self: an #EpApplication
 * @result: the #GAsyncResult
 * @error: return location for a #GError (a wrong passphrase says so)
 *
 * Returns: %TRUE when the profile is open (ep_application_get_node())
 */
gboolean
ep_application_unlock_finish (EpApplication  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  g_return_val_if_fail (EP_IS_APPLICATION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
ep_application_activate (GApplication *application)
{
  EpApplication *self = EP_APPLICATION (application);
  EpWindow *window = main_window (self);

  if (window == NULL)
    {
      open_node (self);
      window = ep_window_new (self);
    }

  gtk_window_present (GTK_WINDOW (window));
}

static void
ep_application_startup (GApplication *application)
{
  EpApplication *self = EP_APPLICATION (application);
  static const char *quit_accels[] = { "<Control>q", NULL };

  G_APPLICATION_CLASS (ep_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  self->settings = g_settings_new (SCHEMA_ID);

  /* A primary instance started without going through handle-local-options
   * (D-Bus activation) still needs a profile. */
  if (self->profile_dir == NULL)
    {
      g_autoptr(GError) error = NULL;

      self->profile_dir = ep_profile_resolve_dir (NULL, &error);
      if (self->profile_dir == NULL)
        g_warning ("%s", error->message);
    }
}

static void
ep_application_shutdown (GApplication *application)
{
  EpApplication *self = EP_APPLICATION (application);

  if (self->node != NULL)
    {
      EpNodeSettings *settings = ep_node_get_settings (self->node);

      /* The options of this run are not written into profile.json. */
      ep_node_settings_clear (settings);
      *settings = self->saved_settings;
      memset (&self->saved_settings, 0, sizeof self->saved_settings);
      if (ep_node_is_started (self->node))
        ep_node_stop (self->node);
      else
        {
          g_autoptr(GError) error = NULL;

          if (!ep_node_save_profile (self->node, &error))
            g_warning ("%s", error->message);
        }
    }

  G_APPLICATION_CLASS (ep_application_parent_class)->shutdown (application);
}

static void
ep_application_finalize (GObject *object)
{
  EpApplication *self = EP_APPLICATION (object);

  g_clear_pointer (&self->profile_dir, g_free);
  g_clear_pointer (&self->bootstrap, g_strfreev);
  g_clear_pointer (&self->bind, g_free);
  g_clear_object (&self->node);
  g_clear_object (&self->settings);
  g_clear_error (&self->node_error);
  ep_node_settings_clear (&self->saved_settings);

  G_OBJECT_CLASS (ep_application_parent_class)->finalize (object);
}

static void
ep_application_class_init (EpApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = ep_application_finalize;

  app_class->handle_local_options = ep_application_handle_local_options;
  app_class->startup = ep_application_startup;
  app_class->activate = ep_application_activate;
  app_class->shutdown = ep_application_shutdown;
}

static void
ep_application_init (EpApplication *self)
{
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), NULL);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("A peer-to-peer, end-to-end encrypted messenger"));
}

EpApplication *
ep_application_new (void)
{
  return g_object_new (EP_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", RESOURCE_BASE,
                       NULL);
}

/**
 * ep_application_get_profile_dir:
 * @self: an #EpApplication
 *
 * Returns: (nullable): the absolute profile directory this instance uses
 */
const char *
ep_application_get_profile_dir (EpApplication *self)
{
  g_return_val_if_fail (EP_IS_APPLICATION (self), NULL);

  return self->profile_dir;
}

/**
 * ep_application_get_node:
 * @self: an #EpApplication
 *
 * Returns: (nullable) (transfer none): the profile's node, opened on the
 *   first activation; %NULL before or when it could not be opened
 */
EpNode *
ep_application_get_node (EpApplication *self)
{
  g_return_val_if_fail (EP_IS_APPLICATION (self), NULL);

  return self->node;
}

/**
 * ep_application_get_node_error:
 * @self: an #EpApplication
 *
 * Returns: (nullable) (transfer none): why the profile could not be opened
 */
const GError *
ep_application_get_node_error (EpApplication *self)
{
  g_return_val_if_fail (EP_IS_APPLICATION (self), NULL);

  return self->node_error;
}

static char *
notification_id (const char *contact_key)
{
  return g_strconcat ("message-", contact_key, NULL);
}

/* A message from a contact whose chat is not in front of the user. */
static void
ep_application_on_message_received (EpNode        *node,
                                    EpMessage     *message,
                                    EpApplication *self)
{
  EpWindow *window = main_window (self);
  const char *key = ep_message_get_contact_key (message);
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *id = NULL;
  g_autofree char *body = NULL;
  EpContact *contact;
  const char *name;

  if (!g_settings_get_boolean (self->settings, "notifications"))
    return;
  if (window != NULL && gtk_window_is_active (GTK_WINDOW (window))
      && ep_window_is_chat_visible (window, key))
    return;

  contact = ep_contact_list_lookup (ep_node_get_contacts (node), key);
  name = contact != NULL ? ep_contact_get_name (contact) : NULL;
  if (g_settings_get_boolean (self->settings, "notification-previews"))
    body = ep_contact_make_preview (ep_message_get_text (message));
  else
    body = g_strdup (_("New message"));

  notification = g_notification_new (name != NULL && *name != '\0' ? name : _("New message"));
  g_notification_set_body (notification, body);
  g_notification_set_default_action_and_target (notification, "app.open-chat", "s", key);
  id = notification_id (key);
  g_application_send_notification (G_APPLICATION (self), id, notification);
}

/* A contact request, unless the user is looking at that contact already. */
static void
ep_application_on_contact_request (EpNode        *node,
                                   EpContact     *contact,
                                   const char    *text,
                                   EpApplication *self)
{
  EpWindow *window = main_window (self);
  const char *key = ep_contact_get_key (contact);
  const char *name = ep_contact_get_name (contact);
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *title = NULL;
  g_autofree char *id = NULL;

  if (!g_settings_get_boolean (self->settings, "notifications"))
    return;
  if (window != NULL && gtk_window_is_active (GTK_WINDOW (window))
      && ep_window_get_contact (window) == contact)
    return;

  title = g_strdup_printf (_("%s wants to be your contact"),
                           name != NULL && *name != '\0' ? name : _("Someone"));
  notification = g_notification_new (title);
  if (text != NULL && *text != '\0'
      && g_settings_get_boolean (self->settings, "notification-previews"))
    g_notification_set_body (notification, text);
  g_notification_set_default_action_and_target (notification, "app.open-chat", "s", key);
  id = notification_id (key);
  g_application_send_notification (G_APPLICATION (self), id, notification);
}

/**
 * ep_application_withdraw_notification:
 * @self: an #EpApplication
 * @contact_key: hex key of a contact whose chat was opened
 */
void
ep_application_withdraw_notification (EpApplication *self,
                                      const char    *contact_key)
{
  g_autofree char *id = notification_id (contact_key);

  g_return_if_fail (EP_IS_APPLICATION (self));

  g_application_withdraw_notification (G_APPLICATION (self), id);
}

/**
 * ep_application_get_profile_settings:
 * @self: an #EpApplication
 *
 * The settings as the profile keeps them; the node runs with these plus the
 * options of this run. Change them, then call
 * ep_application_save_profile_settings(); they apply at the next start.
 *
 * Returns: (nullable): the profile's settings, once the profile is open
 */
EpNodeSettings *
ep_application_get_profile_settings (EpApplication *self)
{
  g_return_val_if_fail (EP_IS_APPLICATION (self), NULL);

  return self->node != NULL ? &self->saved_settings : NULL;
}

/**
 * ep_application_save_profile_settings:
 * @self: an #EpApplication
 * @error: return location for a #GError
 *
 * Writes profile.json with the name and status text of the node and the
 * profile's settings (not this run's options).
 */
gboolean
ep_application_save_profile_settings (EpApplication  *self,
                                      GError        **error)
{
  EpNodeSettings *settings;
  EpNodeSettings run;
  gboolean ok;

  g_return_val_if_fail (EP_IS_APPLICATION (self), FALSE);
  g_return_val_if_fail (self->node != NULL, FALSE);

  settings = ep_node_get_settings (self->node);
  run = *settings;
  *settings = self->saved_settings;
  ok = ep_node_save_profile (self->node, error);
  *settings = run;
  return ok;
}

/**
 * ep_application_close_to_background:
 * @self: an #EpApplication
 *
 * Called when the main window is closed: with "run-in-background" set, the
 * app keeps running without a window shown (the window is hidden, not
 * destroyed) and activating it shows the window again.
 *
 * Returns: %TRUE if the app stays in the background
 */
gboolean
ep_application_close_to_background (EpApplication *self)
{
  g_return_val_if_fail (EP_IS_APPLICATION (self), FALSE);

  if (self->node == NULL || !g_settings_get_boolean (self->settings, "run-in-background"))
    return FALSE;
  if (!self->held)
    {
      self->held = TRUE;
      g_application_hold (G_APPLICATION (self));
    }
  return TRUE;
}
