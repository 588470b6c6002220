/* gui.c — bench-gui: the app against a bare libadwaita window
 *
 * Prints, each beside the same figure for a bare AdwApplicationWindow
 * measured in the same run:
 *
 *  - start to first frame: from just before the process is spawned to the
 *    first "after-paint" of its window's frame clock (the child prints
 *    CLOCK_MONOTONIC then; both are the same binary, so linking and
 *    loading cost the same), median of several starts;
 *  - RSS idle: VmRSS of /proc/PID/status once the window shows the
 *    profile's 50 contacts and a second has passed;
 *  - opening a chat of 100 000 messages: from selecting the contact to the
 *    first frame that shows its newest message;
 *  - RSS after scrolling up through 10 000 of those messages.
 *
 * Run it under Xvfb with a private bus, with the environment of the GUI
 * tests (cairo renderer, memory GSettings):
 *
 *   bench/gui.sh build            # or by hand:
 *   GSETTINGS_SCHEMA_DIR=build/data GSETTINGS_BACKEND=memory GTK_A11Y=none \
 *   ADW_DISABLE_PORTAL=1 GSK_RENDERER=cairo xvfb-run -a -s '-screen 0 1280x800x24' \
 *   dbus-run-session --config-file=tests/session.conf build/bench/bench-gui [RUNS]
 *
 * bench-gui --make-profile DIR makes the profile alone, for running one
 * child by hand under a profiler (see main ()).
 *
 * BENCH_GUI_SMAPS=1 prints, at each RSS reading, the mappings holding
 * the most of it (from /proc/PID/smaps): how the librsvg in the idle app
 * was found.
 *
 * The children: bench-gui --app PROFILE KEY, bench-gui --bare. They talk
 * to the parent in lines: they print "first-frame T", "idle", "opened US",
 * "scrolled N" and wait for "open", "scroll" or "quit" on stdin.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <gio/gunixinputstream.h>
#include <stdlib.h>

#include "ep-application.h"
#include "ep-chat-view.h"
#include "ep-window.h"
#include "history-helpers.h"

#define N_CONTACTS   50
#define N_MESSAGES   100000
#define N_SCROLLED   10000
#define SETTLE_MS    1000
#define CHILD_LIMIT  120   /* seconds: a child that hangs ends itself */

/* ---- children ------------------------------------------------------------ */

typedef struct
{
  GApplication     *app;
  GtkWindow        *window;
  GDataInputStream *in;
  char             *open_key;
  gint64            open_start;
  guint             tick_id;
  gboolean          first_frame_seen;
  gboolean          opened;
} Child;

static Child child;

static void read_command (void);

static void
say (const char *format,
     ...) G_GNUC_PRINTF (1, 2);

static void
say (const char *format,
     ...)
{
  va_list args;

  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  fflush (stdout);
}

static GtkWidget *
find_label (GtkWidget  *root,
            const char *text)
{
  if (GTK_IS_LABEL (root) && gtk_widget_get_mapped (root)
      && g_strcmp0 (gtk_label_get_text (GTK_LABEL (root)), text) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_label (c, text);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static GtkWidget *
window_child (const char *name)
{
  return GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (child.window), EP_TYPE_WINDOW,
                                                    name));
}

static void
on_idle_ready (gpointer data)
{
  say ("idle");
  read_command ();
}

/* The app is idle once the contacts are listed; the bare window at once. */
static gboolean
check_idle (gpointer data)
{
  if (EP_IS_WINDOW (child.window))
    {
      GtkStack *stack = GTK_STACK (window_child ("sidebar_stack"));
      EpNode *node = ep_application_get_node (EP_APPLICATION (child.app));

      if (node == NULL || g_strcmp0 (gtk_stack_get_visible_child_name (stack), "list") != 0
          || g_list_model_get_n_items (G_LIST_MODEL (ep_node_get_contacts (node))) != N_CONTACTS)
        return G_SOURCE_CONTINUE;
    }
  g_timeout_add_once (SETTLE_MS, on_idle_ready, NULL);
  return G_SOURCE_REMOVE;
}

static void
on_after_paint (GdkFrameClock *clock,
                gpointer       data)
{
  if (!child.first_frame_seen)
    {
      child.first_frame_seen = TRUE;
      say ("first-frame %" G_GINT64_FORMAT, g_get_monotonic_time ());
      g_timeout_add (20, check_idle, NULL);
    }
  if (child.open_start > 0 && !child.opened
      && find_label (window_child ("chat_view"), "message 100000") != NULL)
    {
      child.opened = TRUE;
      say ("opened %" G_GINT64_FORMAT, g_get_monotonic_time () - child.open_start);
      read_command ();
    }
}

static void
on_window_realize (GtkWidget *window)
{
  g_signal_connect (gtk_widget_get_frame_clock (window), "after-paint",
                    G_CALLBACK (on_after_paint), NULL);
}

static void
watch_window (GtkWindow *window)
{
  child.window = window;
  if (gtk_widget_get_realized (GTK_WIDGET (window)))
    on_window_realize (GTK_WIDGET (window));
  else
    g_signal_connect (window, "realize", G_CALLBACK (on_window_realize), NULL);
}

static void
on_window_added (GtkApplication *app,
                 GtkWindow      *window)
{
  if (EP_IS_WINDOW (window) && child.window == NULL)
    watch_window (window);
}

static GtkAdjustment *
chat_adjustment (void)
{
  GObject *scrolled = gtk_widget_get_template_child (window_child ("chat_view"),
                                                     EP_TYPE_CHAT_VIEW, "scrolled");

  return gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
}

static gboolean
on_settled_after_scroll (gpointer data)
{
  EpChatView *view = EP_CHAT_VIEW (window_child ("chat_view"));
  EpConversation *conversation = ep_chat_view_get_conversation (view);

  say ("scrolled %u", g_list_model_get_n_items (G_LIST_MODEL (conversation)));
  read_command ();
  return G_SOURCE_REMOVE;
}

/* As a user dragging to the top again and again: once the last page is in
 * and the view is back below it, up again. */
static gboolean
scroll_tick (GtkWidget     *widget,
             GdkFrameClock *clock,
             gpointer       data)
{
  EpConversation *conversation = ep_chat_view_get_conversation (EP_CHAT_VIEW (widget));
  GtkAdjustment *adj = chat_adjustment ();

  if (g_list_model_get_n_items (G_LIST_MODEL (conversation)) >= N_SCROLLED)
    {
      child.tick_id = 0;
      g_timeout_add (SETTLE_MS, on_settled_after_scroll, NULL);
      return G_SOURCE_REMOVE;
    }
  if (!ep_conversation_get_loading (conversation)
      && gtk_adjustment_get_value (adj) > gtk_adjustment_get_page_size (adj) / 2)
    gtk_adjustment_set_value (adj, 0);
  return G_SOURCE_CONTINUE;
}

static void
on_command (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  g_autofree char *line = g_data_input_stream_read_line_finish (child.in, result, NULL, NULL);

  if (g_strcmp0 (line, "open") == 0 && EP_IS_WINDOW (child.window))
    {
      child.open_start = g_get_monotonic_time ();
      ep_window_open_chat (EP_WINDOW (child.window), child.open_key);
      gtk_widget_queue_draw (GTK_WIDGET (child.window));
    }
  else if (g_strcmp0 (line, "scroll") == 0 && child.opened)
    child.tick_id = gtk_widget_add_tick_callback (window_child ("chat_view"), scroll_tick,
                                                  NULL, NULL);
  else
    g_action_group_activate_action (G_ACTION_GROUP (child.app), "quit", NULL);
}

static void
read_command (void)
{
  g_data_input_stream_read_line_async (child.in, G_PRIORITY_DEFAULT, NULL, on_command, NULL);
}

static gboolean
on_child_limit (gpointer data)
{
  g_printerr ("bench-gui child: no end after %d s\n", CHILD_LIMIT);
  exit (1);
}

static void
on_bare_quit (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       data)
{
  g_application_quit (G_APPLICATION (data));
}

static void
on_bare_activate (GApplication *app)
{
  GtkWidget *window = adw_application_window_new (GTK_APPLICATION (app));
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);

  gtk_box_append (GTK_BOX (box), adw_header_bar_new ());
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (window), box);
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 640);
  watch_window (GTK_WINDOW (window));
  gtk_window_present (GTK_WINDOW (window));
}

static int
run_child (int    argc,
           char **argv)
{
  g_autoptr(GInputStream) in = g_unix_input_stream_new (0, FALSE);
  int status;

  child.in = g_data_input_stream_new (in);
  g_timeout_add_seconds (CHILD_LIMIT, on_child_limit, NULL);
  if (g_strcmp0 (argv[1], "--bare") == 0)
    {
      static const GActionEntry actions[] = { { "quit", on_bare_quit } };

      child.app = G_APPLICATION (adw_application_new ("io.github.encryptedp2p.BenchBare",
                                                      G_APPLICATION_NON_UNIQUE));
      g_action_map_add_action_entries (G_ACTION_MAP (child.app), actions, 1, child.app);
      g_signal_connect (child.app, "activate", G_CALLBACK (on_bare_activate), NULL);
      status = g_application_run (child.app, 1, argv);
    }
  else
    {
      char *app_argv[] = { (char *) "encryptedp2p", (char *) "--profile", argv[2],
                           (char *) "--bind", (char *) "127.0.0.1", (char *) "--port",
                           (char *) "0", (char *) "--no-default-bootstrap", (char *) "--no-lan",
                           NULL };

      g_assert (argc == 4);
      child.open_key = argv[3];
      child.app = G_APPLICATION (ep_application_new ());
      g_signal_connect (child.app, "window-added", G_CALLBACK (on_window_added), NULL);
      status = g_application_run (child.app, G_N_ELEMENTS (app_argv) - 1, app_argv);
    }
  g_clear_object (&child.app);
  g_clear_object (&child.in);
  return status;
}

/* ---- parent -------------------------------------------------------------- */

typedef struct
{
  GSubprocess      *process;
  GDataInputStream *out;
  GOutputStream    *in;
  gint64            spawned;
} Run;

static char *self_path;

static void
run_start (Run         *run,
           const char  *mode,
           const char  *profile,
           const char  *key)
{
  g_autoptr(GError) error = NULL;
  const char *argv[] = { self_path, mode, profile, key, NULL };

  run->spawned = g_get_monotonic_time ();
  run->process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE
                                          | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  if (run->process == NULL)
    g_error ("%s", error->message);
  run->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (run->process));
  run->in = g_subprocess_get_stdin_pipe (run->process);
}

/* The next line that starts with @word; the rest of it. */
static char *
run_expect (Run        *run,
            const char *word)
{
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line (run->out, NULL, NULL, NULL);

      if (line == NULL)
        g_error ("the child ended before “%s”", word);
      if (g_str_has_prefix (line, word))
        return g_strdup (line + strlen (word));
    }
}

static void
run_say (Run        *run,
         const char *command)
{
  g_autofree char *line = g_strconcat (command, "\n", NULL);

  if (!g_output_stream_write_all (run->in, line, strlen (line), NULL, NULL, NULL)
      || !g_output_stream_flush (run->in, NULL, NULL))
    g_error ("the child does not listen");
}

static double
run_rss_mb (Run *run)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status",
                                           g_subprocess_get_identifier (run->process));
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents (path, &status, NULL, NULL)
      || (line = strstr (status, "\nVmRSS:")) == NULL)
    g_error ("no VmRSS in %s", path);
  if (g_getenv ("BENCH_GUI_SMAPS") != NULL)
    {
      g_autofree char *smaps_path = g_strdup_printf ("/proc/%s/smaps",
                                                     g_subprocess_get_identifier (run->process));
      g_autofree char *cmd = g_strdup_printf (
        "awk '/^[0-9a-f]+-/ { name = $6 } /^Rss:/ { r[name] += $2 }"
        " END { for (n in r) if (r[n] > 500) print r[n], n }' %s | sort -rn | head -25",
        smaps_path);
      g_autofree char *out = NULL;

      const char *sh[] = { "sh", "-c", cmd, NULL };

      g_spawn_sync (NULL, (char **) sh, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL, NULL,
                    NULL);
      g_printerr ("---- %s\n%s", g_subprocess_get_identifier (run->process), out);
    }
  return g_ascii_strtod (line + strlen ("\nVmRSS:"), NULL) / 1024.0;
}

static void
run_finish (Run *run)
{
  g_autoptr(GError) error = NULL;

  run_say (run, "quit");
  if (!g_subprocess_wait_check (run->process, NULL, &error))
    g_error ("child: %s", error->message);
  g_clear_object (&run->out);
  g_clear_object (&run->process);
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
median (GArray *values)
{
  g_array_sort (values, compare_double);
  return g_array_index (values, double, values->len / 2);
}

static const char *
verdict (gboolean met)
{
  return met ? "met" : "MISSED";
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *tmp = NULL;
  g_autofree char *profile = NULL;
  g_autoptr(GArray) app_first = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) bare_first = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) app_rss = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) bare_rss = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) open_ms = g_array_new (FALSE, FALSE, sizeof (double));
  guint8 key[32];
  char hex[65];
  guint runs;
  double scrolled_rss = 0, idle_before_scroll = 0;
  guint scrolled_n = 0;
  double first_ratio, rss_ratio, scroll_ratio, open_median;

  if (argc > 1 && (g_str_equal (argv[1], "--bare") || g_str_equal (argv[1], "--app")))
    return run_child (argc, argv);

  /* For profiling a child by hand: bench-gui --make-profile DIR prints the
   * key of the long conversation; then `perf record bench-gui --app DIR KEY
   * </dev/null` runs the app until it is idle. */
  if (argc == 3 && g_str_equal (argv[1], "--make-profile"))
    {
      history_make_profile (argv[2], "Bench", N_CONTACTS, N_MESSAGES, key);
      sodium_bin2hex (hex, sizeof hex, key, sizeof key);
      g_print ("%s\n", hex);
      return 0;
    }

  runs = argc > 1 ? (guint) strtoul (argv[1], NULL, 10) : 5;
  if (runs < 1 || runs > 50)
    {
      g_printerr ("Usage: bench-gui [RUNS=5]\n");
      return 2;
    }
  self_path = g_file_read_link ("/proc/self/exe", NULL);
  tmp = g_dir_make_tmp ("ep-bench-gui-XXXXXX", NULL);
  profile = g_build_filename (tmp, "profile", NULL);
  history_make_profile (profile, "Bench", N_CONTACTS, N_MESSAGES, key);
  sodium_bin2hex (hex, sizeof hex, key, sizeof key);
  g_print ("bench-gui: %u starts each; %d contacts, %d messages with one; GSK_RENDERER=%s\n",
           runs, N_CONTACTS, N_MESSAGES,
           g_getenv ("GSK_RENDERER") != NULL ? g_getenv ("GSK_RENDERER") : "(default)");

  for (guint i = 0; i < runs; i++)
    {
      Run bare = { 0 }, app = { 0 };
      g_autofree char *t = NULL;
      g_autofree char *opened = NULL;
      double ms, rss;

      /* Alternate, so that whatever else the machine does hits both. */
      run_start (&bare, "--bare", NULL, NULL);
      t = run_expect (&bare, "first-frame ");
      ms = (g_ascii_strtoll (t, NULL, 10) - bare.spawned) / 1000.0;
      g_array_append_val (bare_first, ms);
      g_free (run_expect (&bare, "idle"));
      rss = run_rss_mb (&bare);
      g_array_append_val (bare_rss, rss);
      run_finish (&bare);

      g_clear_pointer (&t, g_free);
      run_start (&app, "--app", profile, hex);
      t = run_expect (&app, "first-frame ");
      ms = (g_ascii_strtoll (t, NULL, 10) - app.spawned) / 1000.0;
      g_array_append_val (app_first, ms);
      g_free (run_expect (&app, "idle"));
      rss = run_rss_mb (&app);
      g_array_append_val (app_rss, rss);
      run_say (&app, "open");
      opened = run_expect (&app, "opened ");
      ms = g_ascii_strtoll (opened, NULL, 10) / 1000.0;
      g_array_append_val (open_ms, ms);
      if (i == runs - 1)
        {
          g_autofree char *n = NULL;

          idle_before_scroll = rss;
          run_say (&app, "scroll");
          n = run_expect (&app, "scrolled ");
          scrolled_n = (guint) strtoul (n, NULL, 10);
          scrolled_rss = run_rss_mb (&app);
        }
      run_finish (&app);
    }

  first_ratio = median (app_first) / median (bare_first);
  rss_ratio = median (app_rss) / median (bare_rss);
  scroll_ratio = scrolled_rss / idle_before_scroll;
  open_median = median (open_ms);

  g_print ("\n%-38s %10s %10s %8s   %s\n", "", "app", "bare", "ratio", "aim");
  g_print ("%-38s %7.0f ms %7.0f ms %7.2fx   <= 1.5x: %s\n", "start to first frame (median)",
           median (app_first), median (bare_first), first_ratio, verdict (first_ratio <= 1.5));
  g_print ("%-38s %7.1f MB %7.1f MB %7.2fx   <= 1.25x: %s\n", "RSS idle, 50 contacts (median)",
           median (app_rss), median (bare_rss), rss_ratio, verdict (rss_ratio <= 1.25));
  g_print ("%-38s %7.1f ms %10s %8s   < 100 ms: %s\n", "open 100 000-message chat (median)",
           open_median, "", "", verdict (open_median < 100));
  g_print ("%-38s %7.1f MB %7.1f MB %7.2fx   <= 1.5x of idle: %s\n",
           "RSS after scrolling (vs app idle)", scrolled_rss, idle_before_scroll, scroll_ratio,
           verdict (scroll_ratio <= 1.5));
  g_print ("  (scrolled up through %u messages; first frame: app", scrolled_n);
  for (guint i = 0; i < app_first->len; i++)
    g_print (" %.0f", g_array_index (app_first, double, i));
  g_print (" ms, bare");
  for (guint i = 0; i < bare_first->len; i++)
    g_print (" %.0f", g_array_index (bare_first, double, i));
  g_print (" ms; open");
  for (guint i = 0; i < open_ms->len; i++)
    g_print (" %.1f", g_array_index (open_ms, double, i));
  g_print (" ms)\n");

  test_rm_dir (profile);
  g_rmdir (tmp);
  g_free (self_path);
  return 0;
}
