/* ep-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "ep-core.h"
#include "ep-application.h"
#include "ep-window.h"

struct _EpApplication
{
  AdwApplication  parent_instance;

  char           *profile_dir;
};

G_DEFINE_FINAL_TYPE (EpApplication, ep_application, ADW_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "profile", 'p', 0, G_OPTION_ARG_FILENAME, NULL,
    N_("Use the profile in DIR instead of the default one"), N_("DIR") },
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
  GList *windows;

  /* Destroying the windows lets each one save its state and release what it
   * holds; the application then ends when the last one is gone. */
  while ((windows = gtk_application_get_windows (app)) != NULL)
    gtk_window_destroy (windows->data);

  g_application_quit (G_APPLICATION (app));
}

static const GActionEntry app_actions[] = {
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

static void
ep_application_activate (GApplication *application)
{
  EpApplication *self = EP_APPLICATION (application);
  GtkWindow *window;

  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (window == NULL)
    window = GTK_WINDOW (ep_window_new (self));

  gtk_window_present (window);
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
ep_application_finalize (GObject *object)
{
  EpApplication *self = EP_APPLICATION (object);

  g_clear_pointer (&self->profile_dir, g_free);

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
