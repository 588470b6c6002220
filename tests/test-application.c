/* test-application.c — the app starts, shows its window and quits cleanly
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>

#include "ep-application.h"
#include "ep-window.h"

typedef struct
{
  EpApplication *app;
  GtkWindow     *window;
  gboolean       window_mapped;
  gboolean       timed_out;
  guint          timeout_id;
} StartFixture;

static gboolean
quit_idle (gpointer user_data)
{
  StartFixture *fixture = user_data;

  /* Quit the way a user does: through the app.quit action (Ctrl+Q). */
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "quit", NULL);
  return G_SOURCE_REMOVE;
}

static void
on_window_mapped (GtkWidget    *widget,
                  StartFixture *fixture)
{
  fixture->window_mapped = gtk_widget_get_realized (widget);
  g_idle_add (quit_idle, fixture);
}

static void
on_window_added (GtkApplication *app,
                 GtkWindow      *window,
                 StartFixture   *fixture)
{
  if (!EP_IS_WINDOW (window))
    return;

  fixture->window = window;
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &fixture->window);
  g_signal_connect (window, "map", G_CALLBACK (on_window_mapped), fixture);
}

static gboolean
on_timeout (gpointer user_data)
{
  StartFixture *fixture = user_data;

  fixture->timed_out = TRUE;
  fixture->timeout_id = 0;
  g_application_quit (G_APPLICATION (fixture->app));
  return G_SOURCE_REMOVE;
}

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        rm_rf (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
test_application_starts_and_quits (void)
{
  StartFixture fixture = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ep-app-XXXXXX", &error);
  g_autofree char *profile = NULL;
  int status;

  g_assert_no_error (error);
  profile = g_build_filename (tmp, "profile", NULL);

  {
    char *argv[] = { (char *) "encryptedp2p", (char *) "--profile", profile,
                     (char *) "--no-default-bootstrap", (char *) "--no-lan", NULL };

    fixture.app = ep_application_new ();
    g_signal_connect (fixture.app, "window-added", G_CALLBACK (on_window_added), &fixture);
    fixture.timeout_id = g_timeout_add_seconds (20, on_timeout, &fixture);

    status = g_application_run (G_APPLICATION (fixture.app), G_N_ELEMENTS (argv) - 1, argv);
  }

  g_clear_handle_id (&fixture.timeout_id, g_source_remove);
  g_assert_false (fixture.timed_out);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (fixture.window_mapped);

  /* The profile given on the command line is the one in use, and private. */
  g_assert_cmpstr (ep_application_get_profile_dir (fixture.app), ==, profile);
  g_assert_true (g_file_test (profile, G_FILE_TEST_IS_DIR));

  /* Quitting destroyed the window. */
  g_clear_object (&fixture.app);
  g_assert_null (fixture.window);

  g_rmdir (profile);
  g_rmdir (tmp);
}

static void
test_application_window_realized (void)
{
  g_autoptr(EpApplication) app = ep_application_new ();
  g_autoptr(GError) error = NULL;
  EpWindow *window;
  GListModel *toplevels;
  gboolean found = FALSE;

  /* Register without a main loop so a window can be made directly. */
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  window = ep_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  while (!gtk_widget_get_mapped (GTK_WIDGET (window)))
    g_main_context_iteration (NULL, TRUE);

  g_assert_true (gtk_widget_get_realized (GTK_WIDGET (window)));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "EncryptedP2P");

  toplevels = gtk_window_get_toplevels ();
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (toplevels, i);
      if (item == G_OBJECT (window))
        found = TRUE;
    }
  g_assert_true (found);

  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *home = g_dir_make_tmp ("ep-test-home-XXXXXX", NULL);
  g_autofree char *data = g_build_filename (home, "data", NULL);
  g_autofree char *config = g_build_filename (home, "config", NULL);
  g_autofree char *cache = g_build_filename (home, "cache", NULL);
  int ret;

  /* Private user directories, but the system's XDG_DATA_DIRS: GTK needs the
   * MIME database there to load SVG icons (G_TEST_OPTION_ISOLATE_DIRS would
   * hide it). */
  g_setenv ("HOME", home, TRUE);
  g_setenv ("XDG_DATA_HOME", data, TRUE);
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);

  gtk_disable_setlocale ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/application/starts-and-quits", test_application_starts_and_quits);
  g_test_add_func ("/ep/application/window-realized", test_application_window_realized);

  ret = g_test_run ();

  rm_rf (home);

  return ret;
}
