/* window-test-util.h — the app as users run it, with a peer on loopback
 *
 * The app runs through g_application_run() with options; the test body runs
 * inside it once the window is there, spinning the main context with
 * bounded waits. The peer is a second EpNode in this process; both listen
 * on 127.0.0.1 only, with LAN discovery and DHT bootstrap off, and learn
 * each other's address with ep_node_add_peer_address().
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>
#include <signal.h>
#include <sys/prctl.h>

#include "node-test-util.h"

#include "ep-add-contact-window.h"
#include "ep-application.h"
#include "ep-chat-view.h"
#include "ep-contact-window.h"
#include "ep-my-id-window.h"
#include "ep-passphrase-window.h"
#include "ep-preferences-window.h"
#include "ep-window.h"

typedef struct _Fixture Fixture;
typedef void (*Body) (Fixture *f);

struct _Fixture
{
  EpApplication *app;
  EpWindow      *window;
  EpNode        *node;        /* the app's */
  char          *tmp;
  char          *profile;
  Body           body;
  gboolean       done;
  TestNode       peer;
};

static GtkWidget *
child (Fixture    *f,
       const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (f->window), EP_TYPE_WINDOW, name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

static const char *
page_of (Fixture    *f,
         const char *stack)
{
  return gtk_stack_get_visible_child_name (GTK_STACK (child (f, stack)));
}

typedef struct
{
  Fixture    *f;
  const char *stack;
  const char *page;
} PageWait;

static gboolean
page_is (gpointer data)
{
  PageWait *w = data;

  return g_strcmp0 (page_of (w->f, w->stack), w->page) == 0;
}

static void
wait_page (Fixture    *f,
           const char *stack,
           const char *page)
{
  PageWait w = { f, stack, page };

  if (!spin_until (page_is, &w, 15))
    g_error ("%s shows %s, not %s", stack, page_of (f, stack), page);
}

/* The first widget of @type below @root whose label contains @text. */
static GtkWidget *
find_label (GtkWidget  *root,
            const char *text)
{
  if (GTK_IS_LABEL (root) && gtk_widget_get_mapped (root)
      && strstr (gtk_label_get_text (GTK_LABEL (root)), text) != NULL)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_label (c, text);

      if (found != NULL)
        return found;
    }
  return NULL;
}

typedef struct
{
  GtkWidget  *root;
  const char *text;
} LabelWait;

static gboolean
label_shown (gpointer data)
{
  LabelWait *w = data;

  return find_label (w->root, w->text) != NULL;
}

static void
wait_label (GtkWidget  *root,
            const char *text)
{
  LabelWait w = { root, text };

  if (!spin_until (label_shown, &w, 15))
    g_error ("no label shows “%s”", text);
}

static GtkWindow *
find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (item, type))
        return GTK_WINDOW (item);
    }
  return NULL;
}

/* A click as the user makes it: only on a sensitive button. */
static void
click (GtkWidget *button)
{
  g_assert_true (gtk_widget_is_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
}

static gboolean
node_started (gpointer data)
{
  return ep_node_is_started (data);
}

/* Onboarding: the profile has no name, so the window asks for one. */
static void
onboard (Fixture    *f,
         const char *name)
{
  GtkWidget *entry = child (f, "name_entry");
  GtkWidget *button = child (f, "name_button");
  g_autofree char *json_path = NULL;
  g_autofree char *json = NULL;

  g_assert_nonnull (f->node);
  g_assert_cmpstr (page_of (f, "stack"), ==, "onboarding");
  g_assert_false (ep_node_is_started (f->node));
  g_assert_false (gtk_widget_get_sensitive (button));
  gtk_editable_set_text (GTK_EDITABLE (entry), "   ");
  g_assert_false (gtk_widget_get_sensitive (button));
  gtk_editable_set_text (GTK_EDITABLE (entry), name);
  g_assert_true (gtk_widget_get_sensitive (button));

  ep_node_set_timing (f->node, &fast_node_timing);
  click (button);
  g_assert_true (spin_until (node_started, f->node, 15));
  ep_session_manager_set_timing (ep_node_get_session_manager (f->node), &fast_session_timing);
  wait_page (f, "stack", "main");

  g_assert_cmpstr (ep_node_get_name (f->node), ==, name);
  json_path = g_build_filename (f->profile, EP_NODE_PROFILE_FILE_NAME, NULL);
  g_assert_true (g_file_get_contents (json_path, &json, NULL, NULL));
  g_assert_nonnull (strstr (json, name));
}

/* Both nodes know where the other listens. */
static void
hint_both (Fixture *f)
{
  g_autoptr(GSocketAddress) to_app =
    g_inet_socket_address_new_from_string ("127.0.0.1", ep_node_get_port (f->node));
  g_autoptr(GSocketAddress) to_peer =
    g_inet_socket_address_new_from_string ("127.0.0.1", ep_node_get_port (f->peer.node));
  guint8 app_key[32];

  memcpy (app_key, ep_identity_get_public_key (ep_node_get_identity (f->node)), 32);
  ep_node_add_peer_address (f->peer.node, app_key, to_app);
  ep_node_add_peer_address (f->node, f->peer.key, to_peer);
}

/* The peer sends @text to the app, and it is sent. */
static void
peer_send (Fixture    *f,
           const char *text)
{
  Sends s = { 1, 0 };
  guint8 app_key[32];

  memcpy (app_key, ep_identity_get_public_key (ep_node_get_identity (f->node)), 32);
  ep_node_send_message_async (f->peer.node, app_key, text, NULL, on_sent, &s);
  g_assert_true (spin_until (sends_done, &s, 15));
  g_assert_cmpuint (s.failed, ==, 0);
}

static EpConversation *
shown_conversation (Fixture *f)
{
  return ep_chat_view_get_conversation (EP_CHAT_VIEW (child (f, "chat_view")));
}

typedef struct
{
  Fixture *f;
  guint    n;
} NWait;

static gboolean
conversation_has (gpointer data)
{
  NWait *w = data;
  EpConversation *conversation = shown_conversation (w->f);

  return conversation != NULL
         && g_list_model_get_n_items (G_LIST_MODEL (conversation)) >= w->n;
}

static EpMessage *
nth_message (Fixture *f,
             guint    i)
{
  g_autoptr(EpMessage) message = g_list_model_get_item (G_LIST_MODEL (shown_conversation (f)), i);

  return message;  /* the conversation holds it */
}

/* ---- a child process speaking JSON lines on stdout ----------------------- */

#define PROC_WAIT 40

typedef struct
{
  GSubprocess      *process;
  GDataInputStream *out;
  GOutputStream    *in;
  GPtrArray        *events;     /* JsonObject */
  GCancellable     *cancellable;
  gboolean          reading;
  gboolean          eof;
} Proc;

static void proc_read (Proc *proc);

static void
on_line (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Proc *proc = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
                                                                result, NULL, &error);
  g_autoptr(JsonParser) parser = NULL;

  proc->reading = FALSE;
  if (line == NULL)
    {
      proc->eof = TRUE;
      return;
    }
  /* Events are objects, one a line; GLib's debug messages may be in
   * between (G_MESSAGES_DEBUG). */
  parser = json_parser_new ();
  if (line[0] == '{')
    {
      g_assert_true (json_parser_load_from_data (parser, line, -1, NULL));
      g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
      g_ptr_array_add (proc->events,
                       json_object_ref (json_node_get_object (json_parser_get_root (parser))));
    }
  proc_read (proc);
}

static void
proc_read (Proc *proc)
{
  proc->reading = TRUE;
  g_data_input_stream_read_line_async (proc->out, G_PRIORITY_DEFAULT, proc->cancellable,
                                       on_line, proc);
}

/* A test that fails takes its children with it. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
proc_start (Proc               *proc,
            const char * const *argv,
            gboolean            quiet)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                               | (quiet ? G_SUBPROCESS_FLAGS_STDERR_SILENCE : 0));

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  proc->events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  proc->cancellable = g_cancellable_new ();
  proc->process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  proc->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc->process));
  proc->in = g_subprocess_get_stdin_pipe (proc->process);
  proc_read (proc);
}

typedef struct
{
  Proc       *proc;
  const char *member;   /* NULL: any event */
  const char *value;
  const char *member2;
  const char *value2;
} EventWait;

static gboolean
matches (JsonObject *event,
         const char *member,
         const char *value)
{
  return member == NULL
         || (json_object_has_member (event, member)
             && g_strcmp0 (json_object_get_string_member (event, member), value) == 0);
}

/* The first event whose @member is @value (and @member2 @value2), if any. */
static JsonObject *
find_event (Proc       *proc,
            const char *member,
            const char *value,
            const char *member2,
            const char *value2)
{
  for (guint i = 0; i < proc->events->len; i++)
    if (matches (proc->events->pdata[i], member, value)
        && matches (proc->events->pdata[i], member2, value2))
      return proc->events->pdata[i];
  return NULL;
}

static gboolean
has_event (gpointer data)
{
  EventWait *w = data;

  return find_event (w->proc, w->member, w->value, w->member2, w->value2) != NULL
         || w->proc->eof;
}

/* The same, waited for. */
static JsonObject *
wait_event (Proc       *proc,
            const char *member,
            const char *value,
            const char *member2,
            const char *value2)
{
  EventWait w = { proc, member, value, member2, value2 };
  JsonObject *event;

  spin_until (has_event, &w, PROC_WAIT);
  event = find_event (proc, member, value, member2, value2);
  if (event == NULL)
    g_error ("no event with %s %s %s %s", member, value, member2 ? member2 : "",
             value2 ? value2 : "");
  return event;
}

static void
proc_command (Proc       *proc,
              JsonObject *command)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), command);
  g_autofree char *json = json_to_string (node, FALSE);
  g_autofree char *line = g_strconcat (json, "\n", NULL);

  g_assert_true (g_output_stream_write_all (proc->in, line, strlen (line), NULL, NULL, NULL));
  g_assert_true (g_output_stream_flush (proc->in, NULL, NULL));
}

static gboolean
proc_exited (gpointer data)
{
  Proc *proc = data;

  return proc->eof && !proc->reading;
}

/* Closing stdin ends a chat process; a serve process gets SIGTERM. Both
 * bounded; a process still there after that is killed. */
static void
proc_stop (Proc     *proc,
           gboolean  terminate)
{
  g_output_stream_close (proc->in, NULL, NULL);
  if (terminate)
    g_subprocess_send_signal (proc->process, SIGTERM);
  if (!spin_until (proc_exited, proc, 15))
    {
      g_subprocess_force_exit (proc->process);
      g_cancellable_cancel (proc->cancellable);
      g_assert_true (spin_until (proc_exited, proc, 5) || !proc->reading);
    }
  g_assert_true (g_subprocess_wait (proc->process, NULL, NULL));
  g_clear_object (&proc->cancellable);
  g_clear_pointer (&proc->events, g_ptr_array_unref);
  g_clear_object (&proc->out);
  g_clear_object (&proc->process);
}

static gboolean
run_body (gpointer data)
{
  Fixture *f = data;

  f->node = ep_application_get_node (f->app);
  f->body (f);
  f->done = TRUE;
  g_action_group_activate_action (G_ACTION_GROUP (f->app), "quit", NULL);
  return G_SOURCE_REMOVE;
}

static void
on_window_added (GtkApplication *app,
                 GtkWindow      *window,
                 Fixture        *f)
{
  if (!EP_IS_WINDOW (window) || f->window != NULL)
    return;
  f->window = EP_WINDOW (window);
  g_idle_add (run_body, f);
}

/* The app on @f's profile, on loopback with no LAN discovery and no
 * default bootstrap, plus @extra options; it runs @f's body and quits. */
static void
run_app_on_profile (Fixture           *f,
                    const char * const *extra)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  int status;

  g_ptr_array_add (argv, (char *) "encryptedp2p");
  g_ptr_array_add (argv, (char *) "--profile");
  g_ptr_array_add (argv, f->profile);
  g_ptr_array_add (argv, (char *) "--bind");
  g_ptr_array_add (argv, (char *) "127.0.0.1");
  g_ptr_array_add (argv, (char *) "--port");
  g_ptr_array_add (argv, (char *) "0");
  g_ptr_array_add (argv, (char *) "--no-default-bootstrap");
  g_ptr_array_add (argv, (char *) "--no-lan");
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) extra[i]);
  g_ptr_array_add (argv, NULL);

  f->app = ep_application_new ();
  g_signal_connect (f->app, "window-added", G_CALLBACK (on_window_added), f);
  status = g_application_run (G_APPLICATION (f->app), argv->len - 1, (char **) argv->pdata);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (f->done);
  g_clear_object (&f->app);
}

static void
run_app_full (Body        body,
              const char *profile_json,
              const char *tmp_dir)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;

  f.body = body;
  f.tmp = tmp_dir != NULL ? g_strdup (tmp_dir) : g_dir_make_tmp ("ep-window-XXXXXX", &error);
  g_assert_no_error (error);
  f.profile = g_build_filename (f.tmp, "profile", NULL);
  if (profile_json != NULL)
    {
      g_autofree char *path = g_build_filename (f.profile, EP_NODE_PROFILE_FILE_NAME, NULL);

      g_assert_cmpint (g_mkdir_with_parents (f.profile, 0700), ==, 0);
      g_assert_true (g_file_set_contents (path, profile_json, -1, NULL));
    }

  /* The peer first: its own profile, loopback, no LAN, no bootstrap. */
  test_node_start (&f.peer);
  ep_node_set_name (f.peer.node, "Bob");

  run_app_on_profile (&f, NULL);

  test_node_clear (&f.peer);
  if (tmp_dir == NULL)
    rm_rf (f.tmp);
  g_free (f.tmp);
  g_free (f.profile);
}



static void
run_app (Body body)
{
  run_app_full (body, NULL, NULL);
}

static int
run_window_tests (void)
{
  g_autofree char *home = g_dir_make_tmp ("ep-test-home-XXXXXX", NULL);
  g_autofree char *data = g_build_filename (home, "data", NULL);
  g_autofree char *config = g_build_filename (home, "config", NULL);
  g_autofree char *cache = g_build_filename (home, "cache", NULL);
  int ret;

  g_setenv ("HOME", home, TRUE);
  g_setenv ("XDG_DATA_HOME", data, TRUE);
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);

  ret = g_test_run ();

  rm_rf (home);
  return ret;
}
