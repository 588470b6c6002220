/* test-window.c — the main window against a real peer on loopback
 *
 * The app runs as users run it (g_application_run with options); the test
 * body runs inside it once the window is there, spinning the main context
 * with bounded waits. The peer is a second EpNode in this process; both
 * listen on 127.0.0.1 only, with LAN discovery and DHT bootstrap off, and
 * learn each other's address with ep_node_add_peer_address().
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <json-glib/json-glib.h>

#include "node-test-util.h"

#include "ep-add-contact-window.h"
#include "ep-application.h"
#include "ep-chat-view.h"
#include "ep-contact-window.h"
#include "ep-my-id-window.h"
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

static void
run_app_full (Body        body,
              const char *profile_json,
              const char *tmp_dir)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  int status;

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

  {
    char *argv[] = { (char *) "encryptedp2p", (char *) "--profile", f.profile,
                     (char *) "--bind", (char *) "127.0.0.1", (char *) "--port", (char *) "0",
                     (char *) "--no-default-bootstrap", (char *) "--no-lan", NULL };

    f.app = ep_application_new ();
    g_signal_connect (f.app, "window-added", G_CALLBACK (on_window_added), &f);
    status = g_application_run (G_APPLICATION (f.app), G_N_ELEMENTS (argv) - 1, argv);
  }

  g_assert_cmpint (status, ==, 0);
  g_assert_true (f.done);
  g_clear_object (&f.app);

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

/* ---- a profile that cannot be opened -------------------------------------- */

static void
body_broken_profile (Fixture *f)
{
  const char *description;

  g_assert_null (f->node);
  g_assert_nonnull (ep_application_get_node_error (f->app));
  g_assert_cmpstr (page_of (f, "stack"), ==, "error");
  description = adw_status_page_get_description (ADW_STATUS_PAGE (child (f, "error_page")));
  g_assert_cmpstr (description, ==, ep_application_get_node_error (f->app)->message);
  g_assert_cmpuint (strlen (description), >, 0);
  /* Nothing that needs a profile is offered. */
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.add-contact", NULL)
                  && find_toplevel (EP_TYPE_ADD_CONTACT_WINDOW) != NULL);
}

static void
test_window_broken_profile (void)
{
  run_app_full (body_broken_profile, "{ this is not JSON", NULL);
}

/* ---- onboarding, My ID, adding a contact ---------------------------------- */

static gboolean
contact_in_state (gpointer data)
{
  gpointer *args = data;

  return (int) ep_contact_get_request_state (args[0]) == GPOINTER_TO_INT (args[1]);
}

static void
body_add_contact (Fixture *f)
{
  EpContactList *contacts;
  GtkWindow *dialog;
  GtkWidget *id_entry, *id_error, *send_button, *text_entry;
  g_autoptr(GError) parse_error = NULL;
  g_autofree char *peer_grouped = NULL;
  g_autofree char *broken = NULL;
  const char *peer_id = ep_identity_get_contact_id (ep_node_get_identity (f->peer.node));
  g_autofree char *own_grouped = NULL;
  EpContact *contact;
  GtkWidget *chat_view;
  gpointer args[2];
  guint8 key[32];
  guint32 nospam;

  onboard (f, "Alice");
  contacts = ep_node_get_contacts (f->node);
  g_assert_cmpstr (page_of (f, "sidebar_stack"), ==, "empty");
  g_assert_cmpstr (page_of (f, "content_stack"), ==, "none");

  /* My ID: the grouped ID, and Copy puts the compact one on the clipboard. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.my-id", NULL));
  dialog = find_toplevel (EP_TYPE_MY_ID_WINDOW);
  g_assert_nonnull (dialog);
  own_grouped = ep_contact_id_format_grouped (
    ep_identity_get_public_key (ep_node_get_identity (f->node)),
    ep_identity_get_nospam (ep_node_get_identity (f->node)));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (gtk_widget_get_template_child (
                     GTK_WIDGET (dialog), EP_TYPE_MY_ID_WINDOW, "id_label"))), ==, own_grouped);
  click (GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog), EP_TYPE_MY_ID_WINDOW,
                                                    "copy_button")));
  {
    GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (dialog));
    GdkContentProvider *content = gdk_clipboard_get_content (clipboard);
    g_auto(GValue) value = G_VALUE_INIT;

    /* Our own content, so it is local: read it without a round trip. */
    g_assert_true (gdk_clipboard_is_local (clipboard));
    g_assert_nonnull (content);
    g_value_init (&value, G_TYPE_STRING);
    g_assert_true (gdk_content_provider_get_value (content, &value, NULL));
    g_assert_cmpstr (g_value_get_string (&value), ==,
                     ep_identity_get_contact_id (ep_node_get_identity (f->node)));
  }
  wait_label (GTK_WIDGET (dialog), "Copied to clipboard");
  gtk_window_destroy (dialog);

  /* Add contact with Ctrl+N's action. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.add-contact", NULL));
  dialog = find_toplevel (EP_TYPE_ADD_CONTACT_WINDOW);
  g_assert_nonnull (dialog);
  id_entry = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog), EP_TYPE_ADD_CONTACT_WINDOW, "id_entry"));
  id_error = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog), EP_TYPE_ADD_CONTACT_WINDOW, "id_error"));
  text_entry = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog), EP_TYPE_ADD_CONTACT_WINDOW, "text_entry"));
  send_button = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog), EP_TYPE_ADD_CONTACT_WINDOW, "send_button"));
  g_assert_false (gtk_widget_get_sensitive (send_button));
  g_assert_false (gtk_widget_get_visible (id_error));

  /* Too short: the parser's words, and nothing can be sent. */
  gtk_editable_set_text (GTK_EDITABLE (id_entry), "abc");
  g_assert_false (ep_contact_id_parse ("abc", key, &nospam, &parse_error));
  g_assert_true (gtk_widget_get_visible (id_error));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (id_error)), ==, parse_error->message);
  g_assert_false (gtk_widget_get_sensitive (send_button));
  /* Even a click that gets through (Enter in the field) sends nothing. */
  g_signal_emit_by_name (send_button, "clicked");
  g_assert_nonnull (find_toplevel (EP_TYPE_ADD_CONTACT_WINDOW));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (ep_node_get_contacts (f->node))), ==, 0);
  g_clear_error (&parse_error);

  /* One character changed: the checksum catches it. */
  broken = g_strdup (peer_id);
  broken[10] = broken[10] == 'a' ? 'b' : 'a';
  gtk_editable_set_text (GTK_EDITABLE (id_entry), broken);
  g_assert_false (ep_contact_id_parse (broken, key, &nospam, &parse_error));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (id_error)), ==, parse_error->message);
  g_assert_false (gtk_widget_get_sensitive (send_button));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (contacts)), ==, 0);
  g_assert_cmpuint (f->peer.requests->len, ==, 0);

  /* The grouped form, as people paste it. */
  peer_grouped = ep_contact_id_format_grouped (f->peer.key,
                                               ep_identity_get_nospam (ep_node_get_identity (f->peer.node)));
  gtk_editable_set_text (GTK_EDITABLE (id_entry), peer_grouped);
  g_assert_false (gtk_widget_get_visible (id_error));
  g_assert_true (gtk_widget_get_sensitive (send_button));
  gtk_editable_set_text (GTK_EDITABLE (text_entry), "hi, this is Alice");
  click (send_button);
  g_assert_null (find_toplevel (EP_TYPE_ADD_CONTACT_WINDOW));

  /* The contact is there, request sent, and its chat cannot be written yet. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (contacts)), ==, 1);
  contact = ep_contact_list_lookup (contacts, f->peer.hex);
  g_assert_nonnull (contact);
  g_assert_cmpint (ep_contact_get_request_state (contact), ==, EP_CONTACT_REQUEST_OUTGOING_PENDING);
  wait_page (f, "sidebar_stack", "list");
  g_assert_true (ep_window_get_contact (f->window) == contact);
  g_assert_cmpstr (page_of (f, "content_stack"), ==, "chat");
  chat_view = child (f, "chat_view");
  g_assert_false (gtk_widget_get_sensitive (GTK_WIDGET (gtk_widget_get_template_child (
                    chat_view, EP_TYPE_CHAT_VIEW, "composer_box"))));
  wait_label (chat_view, "accepts your request");
  wait_label (child (f, "contact_view"), "Request sent");

  /* The peer gets it and accepts; the composer opens. */
  hint_both (f);
  g_assert_true (spin_until (has_request, &f->peer, 15));
  g_assert_cmpstr (f->peer.last_request_text, ==, "hi, this is Alice");
  {
    g_autoptr(GError) error = NULL;
    EpContact *accepted = ep_node_accept_request (f->peer.node, ep_contact_get_key_bytes (f->peer.requests->pdata[0]), &error);

    g_assert_no_error (error);
    g_assert_nonnull (accepted);
  }
  args[0] = contact;
  args[1] = GINT_TO_POINTER (EP_CONTACT_REQUEST_ACCEPTED);
  g_assert_true (spin_until (contact_in_state, args, 15));
  g_assert_true (gtk_widget_get_sensitive (GTK_WIDGET (gtk_widget_get_template_child (
                   chat_view, EP_TYPE_CHAT_VIEW, "composer_box"))));

  /* Details: the key to compare in person; Block from there. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.contact-details", NULL));
  dialog = find_toplevel (EP_TYPE_CONTACT_WINDOW);
  g_assert_nonnull (dialog);
  {
    GtkLabel *fingerprint = GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                                      EP_TYPE_CONTACT_WINDOW,
                                                                      "fingerprint_label"));
    g_autofree char *first = g_strdup_printf ("%.4s %.4s %.4s %.4s\n", f->peer.hex,
                                              f->peer.hex + 4, f->peer.hex + 8, f->peer.hex + 12);
    g_auto(GStrv) groups = g_strsplit_set (gtk_label_get_text (fingerprint), " \n", -1);

    g_assert_true (g_str_has_prefix (gtk_label_get_text (fingerprint), first));
    g_assert_cmpuint (g_strv_length (groups), ==, 16);
  }
  wait_label (GTK_WIDGET (dialog), "Bob");
  click (GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog), EP_TYPE_CONTACT_WINDOW,
                                                    "block_button")));
  g_assert_null (find_toplevel (EP_TYPE_CONTACT_WINDOW));
  g_assert_cmpint (ep_contact_get_request_state (contact), ==, EP_CONTACT_REQUEST_BLOCKED);
  g_assert_false (gtk_widget_get_sensitive (GTK_WIDGET (gtk_widget_get_template_child (
                    chat_view, EP_TYPE_CHAT_VIEW, "composer_box"))));
  wait_label (chat_view, "This contact is blocked.");
  wait_label (child (f, "contact_view"), "Blocked");
}

static void
test_window_add_contact (void)
{
  run_app (body_add_contact);
}

/* ---- a request from the peer, messages both ways, a notification ---------- */

typedef struct
{
  GSubprocess      *process;
  GDataInputStream *out;
  GOutputStream    *in;
  GPtrArray        *events;     /* JsonObject */
} FakeServer;

static void read_event (FakeServer *server);

static void
on_event_line (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  FakeServer *server = user_data;
  g_autofree char *line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
                                                                result, NULL, NULL);
  g_autoptr(JsonParser) parser = NULL;

  if (line == NULL || server->events == NULL)
    return;
  parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, line, -1, NULL));
  g_ptr_array_add (server->events, json_object_ref (json_node_get_object (json_parser_get_root (parser))));
  read_event (server);
}

static void
read_event (FakeServer *server)
{
  g_data_input_stream_read_line_async (server->out, G_PRIORITY_DEFAULT, NULL, on_event_line,
                                       server);
}

typedef struct
{
  FakeServer *server;
  const char *event;
} EventWait;

static JsonObject *
find_event (FakeServer *server,
            const char *event)
{
  for (guint i = 0; i < server->events->len; i++)
    if (g_strcmp0 (json_object_get_string_member (server->events->pdata[i], "event"), event) == 0)
      return server->events->pdata[i];
  return NULL;
}

static gboolean
has_event (gpointer data)
{
  EventWait *w = data;

  return find_event (w->server, w->event) != NULL;
}

static JsonObject *
wait_event (FakeServer *server,
            const char *event)
{
  EventWait w = { server, event };

  if (!spin_until (has_event, &w, 15))
    g_error ("the notification server saw no “%s”", event);
  return find_event (server, event);
}

/* Notify is answered asynchronously; the app learns the server's id for the
 * notification only then, and can only withdraw it after that. A call on
 * the same connection returns after that answer, which is then dispatched. */
static void
server_round_trip (void)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr(GVariant) reply = NULL;

  g_assert_nonnull (bus);
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.Notifications",
                                       "/org/freedesktop/Notifications",
                                       "org.freedesktop.Notifications", "GetServerInformation",
                                       NULL, NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
  g_assert_nonnull (reply);
  for (guint i = 0; i < 100 && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
}

static void
fake_server_start (FakeServer *server)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "fake-notifications.py", NULL);

  server->events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  server->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                                      &error, "/usr/bin/python3", script, NULL);
  g_assert_no_error (error);
  server->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  server->in = g_subprocess_get_stdin_pipe (server->process);
  read_event (server);
  wait_event (server, "ready");
}

static void
fake_server_stop (FakeServer *server)
{
  g_autoptr(GError) error = NULL;

  /* Closing its stdin ends it; wait for that, bounded. */
  g_output_stream_close (server->in, NULL, NULL);
  g_clear_pointer (&server->events, g_ptr_array_unref);
  g_subprocess_wait (server->process, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&server->out);
  g_clear_object (&server->process);
}

/* What the composer's key controller says about a key press. */
static gboolean
press_key (GtkWidget      *widget,
           guint           keyval,
           GdkModifierType state)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);
  gboolean handled = FALSE;
  gboolean found = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_EVENT_CONTROLLER_KEY (controller)
          && gtk_event_controller_get_propagation_phase (GTK_EVENT_CONTROLLER (controller))
             == GTK_PHASE_CAPTURE)
        {
          g_signal_emit_by_name (controller, "key-pressed", keyval, 0, state, &handled);
          found = TRUE;
          break;
        }
    }
  g_assert_true (found);
  return handled;
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

static gboolean
message_delivered (gpointer data)
{
  return ep_message_get_status (data) == EP_MESSAGE_STATUS_DELIVERED;
}

static gboolean
scrolled_to_bottom (gpointer data)
{
  GtkAdjustment *adj = data;
  double page = gtk_adjustment_get_page_size (adj);

  return page > 0 && gtk_adjustment_get_upper (adj) > page
         && gtk_adjustment_get_value (adj) >= gtk_adjustment_get_upper (adj) - page - 8;
}

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

static gboolean
notification_closed (gpointer data)
{
  return find_event (data, "close") != NULL;
}

static void
body_request_and_chat (Fixture *f)
{
  FakeServer server = { 0 };
  g_autoptr(GError) error = NULL;
  const char *app_id;
  EpContactList *contacts;
  EpContact *contact;
  GtkWidget *chat_view, *composer_box;
  GtkTextBuffer *buffer;
  JsonObject *notify;
  JsonArray *actions;
  gboolean has_default = FALSE;
  g_autofree char *invoke = NULL;
  Count count = { &f->peer, 1 };
  NWait n = { f, 0 };

  fake_server_start (&server);
  onboard (f, "Alice");
  contacts = ep_node_get_contacts (f->node);
  hint_both (f);

  /* The headless peer asks; the request shows in the list. */
  app_id = ep_identity_get_contact_id (ep_node_get_identity (f->node));
  g_assert_nonnull (ep_node_add_contact (f->peer.node, app_id, "it is Bob, add me", &error));
  g_assert_no_error (error);
  wait_page (f, "sidebar_stack", "list");
  contact = ep_contact_list_lookup (contacts, f->peer.hex);
  g_assert_nonnull (contact);
  g_assert_cmpint (ep_contact_get_request_state (contact), ==, EP_CONTACT_REQUEST_INCOMING_PENDING);
  wait_label (child (f, "contact_view"), "Bob");
  wait_label (child (f, "contact_view"), "Wants to be your contact");
  /* The request was not in view: a notification says so. */
  notify = wait_event (&server, "notify");
  g_assert_cmpstr (json_object_get_string_member (notify, "summary"), ==,
                   "Bob wants to be your contact");
  g_assert_cmpstr (json_object_get_string_member (notify, "body"), ==, "it is Bob, add me");
  server_round_trip ();

  /* Opening it shows the request with its text; Accept makes a chat. */
  g_signal_emit_by_name (child (f, "contact_view"), "activate", 0);
  g_assert_cmpstr (page_of (f, "content_stack"), ==, "request");
  g_assert_cmpstr (adw_status_page_get_description (ADW_STATUS_PAGE (child (f, "request_page"))),
                   ==, "it is Bob, add me");
  /* Opening the request withdrew its notification. */
  g_assert_true (spin_until (notification_closed, &server, 15));
  g_assert_cmpint (json_object_get_int_member (find_event (&server, "close"), "id"), ==,
                   json_object_get_int_member (notify, "id"));
  g_ptr_array_set_size (server.events, 0);
  click (child (f, "accept_button"));
  g_assert_cmpint (ep_contact_get_request_state (contact), ==, EP_CONTACT_REQUEST_ACCEPTED);
  g_assert_cmpstr (page_of (f, "content_stack"), ==, "chat");
  g_assert_true (spin_until (answered, &f->peer, 15));

  chat_view = child (f, "chat_view");
  composer_box = GTK_WIDGET (gtk_widget_get_template_child (chat_view, EP_TYPE_CHAT_VIEW, "composer_box"));
  buffer = gtk_text_view_get_buffer (ep_chat_view_get_composer (EP_CHAT_VIEW (chat_view)));
  g_assert_true (spin_until (conversation_has, &n, 15));
  g_assert_true (gtk_widget_get_sensitive (composer_box));
  wait_label (chat_view, "No Messages Yet");

  /* Theirs, in order. */
  peer_send (f, "one from Bob");
  peer_send (f, "two from Bob");
  n.n = 2;
  g_assert_true (spin_until (conversation_has, &n, 15));
  g_assert_cmpstr (ep_message_get_text (nth_message (f, 0)), ==, "one from Bob");
  g_assert_cmpstr (ep_message_get_text (nth_message (f, 1)), ==, "two from Bob");
  g_assert_false (ep_message_get_outgoing (nth_message (f, 0)));
  wait_label (chat_view, "two from Bob");
  wait_label (chat_view, "Today");
  /* Copy Text from a message's menu. */
  g_assert_true (gtk_widget_activate_action (chat_view, "message.copy", "s", "two from Bob"));
  {
    GdkContentProvider *content = gdk_clipboard_get_content (gtk_widget_get_clipboard (chat_view));
    g_auto(GValue) value = G_VALUE_INIT;

    g_assert_nonnull (content);
    g_value_init (&value, G_TYPE_STRING);
    g_assert_true (gdk_content_provider_get_value (content, &value, NULL));
    g_assert_cmpstr (g_value_get_string (&value), ==, "two from Bob");
  }
  wait_label (GTK_WIDGET (f->window), "Message copied");
  /* Read while the chat is open. */
  g_assert_cmpuint (ep_contact_get_unread_count (contact), ==, 0);

  /* Ours: the composer empties, the message lands after theirs and is delivered. */
  /* Shift+Enter is left to the text view (a new line); Enter sends. */
  gtk_text_buffer_set_text (buffer, "three from Alice", -1);
  g_assert_false (press_key (GTK_WIDGET (ep_chat_view_get_composer (EP_CHAT_VIEW (chat_view))),
                             GDK_KEY_Return, GDK_SHIFT_MASK));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (shown_conversation (f))), ==, 2);
  g_assert_true (press_key (GTK_WIDGET (ep_chat_view_get_composer (EP_CHAT_VIEW (chat_view))),
                            GDK_KEY_Return, 0));
  n.n = 3;
  g_assert_true (spin_until (conversation_has, &n, 15));
  {
    GtkTextIter start, end;
    g_autofree char *left = NULL;

    gtk_text_buffer_get_bounds (buffer, &start, &end);
    left = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
    g_assert_cmpstr (left, ==, "");
  }
  g_assert_cmpstr (ep_message_get_text (nth_message (f, 2)), ==, "three from Alice");
  g_assert_true (ep_message_get_outgoing (nth_message (f, 2)));
  g_assert_true (spin_until (received_at_least, &count, 15));
  g_assert_cmpstr (ep_message_get_text (f->peer.received->pdata[0]), ==, "three from Alice");
  g_assert_true (spin_until (message_delivered, nth_message (f, 2), 15));
  wait_label (chat_view, "Delivered");
  wait_label (child (f, "contact_view"), "three from Alice");

  /* Nothing was worth a notification so far: the chat was in view. */
  g_assert_null (find_event (&server, "notify"));

  /* Away from the chat, a message brings a notification and an unread count. */
  ep_window_open_chat (f->window, NULL);
  g_assert_cmpstr (page_of (f, "content_stack"), ==, "none");
  peer_send (f, "four from Bob");
  notify = wait_event (&server, "notify");
  g_assert_cmpstr (json_object_get_string_member (notify, "summary"), ==, "Bob");
  g_assert_cmpstr (json_object_get_string_member (notify, "body"), ==, "four from Bob");
  server_round_trip ();
  actions = json_object_get_array_member (notify, "actions");
  for (guint i = 0; i + 1 < json_array_get_length (actions); i += 2)
    if (g_strcmp0 (json_array_get_string_element (actions, i), "default") == 0)
      has_default = TRUE;
  g_assert_true (has_default);
  g_assert_cmpuint (ep_contact_get_unread_count (contact), ==, 1);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (f->window)), ==, "EncryptedP2P (1)");
  wait_label (child (f, "contact_view"), "four from Bob");

  /* Its default action opens the chat, which marks it read and withdraws it. */
  invoke = g_strdup_printf ("invoke %" G_GINT64_FORMAT " default\n",
                            json_object_get_int_member (notify, "id"));
  g_assert_true (g_output_stream_write_all (server.in, invoke, strlen (invoke), NULL, NULL, NULL));
  g_assert_true (g_output_stream_flush (server.in, NULL, NULL));
  wait_page (f, "content_stack", "chat");
  g_assert_true (ep_window_get_contact (f->window) == contact);
  g_assert_cmpuint (ep_contact_get_unread_count (contact), ==, 0);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (f->window)), ==, "EncryptedP2P");
  g_assert_true (spin_until (notification_closed, &server, 15));
  g_assert_cmpint (json_object_get_int_member (find_event (&server, "close"), "id"), ==,
                   json_object_get_int_member (notify, "id"));
  n.n = 4;
  g_assert_true (spin_until (conversation_has, &n, 15));
  wait_label (chat_view, "four from Bob");

  /* A long history: the chat opens on its last page, at the bottom, and
   * scrolling to the top loads the rest. */
  {
    guint8 app_key[32];
    Sends s = { 0, 0 };
    GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (
      GTK_SCROLLED_WINDOW (gtk_widget_get_template_child (chat_view, EP_TYPE_CHAT_VIEW, "scrolled")));

    memcpy (app_key, ep_identity_get_public_key (ep_node_get_identity (f->node)), 32);
    for (guint i = 0; i < 60; i++)
      {
        g_autofree char *text = g_strdup_printf ("many %u", i);

        s.pending++;
        ep_node_send_message_async (f->peer.node, app_key, text, NULL, on_sent, &s);
      }
    g_assert_true (spin_until (sends_done, &s, 30));
    n.n = 64;
    g_assert_true (spin_until (conversation_has, &n, 30));

    ep_window_open_chat (f->window, NULL);
    ep_window_open_chat (f->window, f->peer.hex);
    n.n = EP_CONVERSATION_DEFAULT_PAGE_SIZE;
    g_assert_true (spin_until (conversation_has, &n, 15));
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (shown_conversation (f))), ==,
                      EP_CONVERSATION_DEFAULT_PAGE_SIZE);
    g_assert_true (ep_conversation_get_has_older (shown_conversation (f)));
    wait_label (chat_view, "many 59");
    /* Laid out, taller than the view, and scrolled to the bottom. */
    g_assert_true (spin_until (scrolled_to_bottom, adj, 15));

    gtk_adjustment_set_value (adj, 0);
    n.n = 64;
    g_assert_true (spin_until (conversation_has, &n, 15));
    g_assert_cmpstr (ep_message_get_text (nth_message (f, 0)), ==, "one from Bob");
    g_assert_cmpstr (ep_message_get_text (nth_message (f, 63)), ==, "many 59");
  }

  fake_server_stop (&server);
}

static void
test_window_request_and_chat (void)
{
  run_app (body_request_and_chat);
}

/* ---- preferences persist across a restart --------------------------------- */

static GtkWidget *
pref (GtkWindow  *prefs,
      const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (prefs), EP_TYPE_PREFERENCES_WINDOW,
                                                   name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

static GtkWindow *
open_preferences (Fixture *f)
{
  GtkWindow *prefs;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.preferences", NULL));
  prefs = find_toplevel (EP_TYPE_PREFERENCES_WINDOW);
  g_assert_nonnull (prefs);
  return prefs;
}

static char *
read_profile_json (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->profile, EP_NODE_PROFILE_FILE_NAME, NULL);
  char *json = NULL;

  g_assert_true (g_file_get_contents (path, &json, NULL, NULL));
  return json;
}

static void
body_preferences_set (Fixture *f)
{
  GtkWindow *prefs;
  g_autofree char *json = NULL;
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);

  onboard (f, "Alice");
  prefs = open_preferences (f);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (pref (prefs, "name_row"))), ==, "Alice");
  /* The profile's own settings, not this run's --no-lan. */
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (pref (prefs, "lan_switch"))));

  gtk_editable_set_text (GTK_EDITABLE (pref (prefs, "name_row")), "Alice Liddell");
  g_signal_emit_by_name (pref (prefs, "name_row"), "apply");
  gtk_editable_set_text (GTK_EDITABLE (pref (prefs, "status_row")), "Out climbing");
  g_signal_emit_by_name (pref (prefs, "status_row"), "apply");
  gtk_switch_set_active (GTK_SWITCH (pref (prefs, "lan_switch")), FALSE);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (pref (prefs, "port_spin")), 45678);
  gtk_switch_set_active (GTK_SWITCH (pref (prefs, "previews_switch")), FALSE);

  g_assert_cmpstr (ep_node_get_name (f->node), ==, "Alice Liddell");
  g_assert_false (g_settings_get_boolean (settings, "notification-previews"));
  json = read_profile_json (f);
  g_assert_nonnull (strstr (json, "Alice Liddell"));
  g_assert_nonnull (strstr (json, "Out climbing"));
  g_assert_nonnull (strstr (json, "45678"));
  /* This run's --bind is not written into the profile. */
  g_assert_null (strstr (json, "127.0.0.1"));

  /* An empty name is refused. */
  gtk_editable_set_text (GTK_EDITABLE (pref (prefs, "name_row")), "  ");
  g_signal_emit_by_name (pref (prefs, "name_row"), "apply");
  g_assert_cmpstr (ep_node_get_name (f->node), ==, "Alice Liddell");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (pref (prefs, "name_row"))), ==, "Alice Liddell");

  /* Back to any port, so that the next start cannot collide. */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (pref (prefs, "port_spin")), 0);
  gtk_window_destroy (prefs);
}

static void
body_preferences_check (Fixture *f)
{
  GtkWindow *prefs;
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);

  /* Named already: no onboarding this time. */
  g_assert_nonnull (f->node);
  g_assert_true (spin_until (node_started, f->node, 15));
  wait_page (f, "stack", "main");
  g_assert_cmpstr (ep_node_get_name (f->node), ==, "Alice Liddell");
  g_assert_cmpstr (ep_node_get_status_text (f->node), ==, "Out climbing");

  prefs = open_preferences (f);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (pref (prefs, "name_row"))), ==, "Alice Liddell");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (pref (prefs, "status_row"))), ==, "Out climbing");
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (pref (prefs, "lan_switch"))));
  g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (pref (prefs, "port_spin"))), ==, 0);
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (pref (prefs, "previews_switch"))));
  gtk_window_destroy (prefs);
  g_settings_reset (settings, "notification-previews");
}

static void
test_window_preferences (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("ep-window-XXXXXX", NULL);

  g_assert_nonnull (tmp);
  run_app_full (body_preferences_set, NULL, tmp);
  run_app_full (body_preferences_check, NULL, tmp);
  rm_rf (tmp);
}

/* ---- a passphrase set at onboarding is asked for at the next start -------- */

static void
body_passphrase_set (Fixture *f)
{
  g_autofree char *key_path = g_build_filename (f->profile, "identity.key", NULL);
  g_autofree char *key_file = NULL;

  gtk_editable_set_text (GTK_EDITABLE (child (f, "passphrase_entry")), "correct horse");
  onboard (f, "Alice");
  g_assert_true (g_file_get_contents (key_path, &key_file, NULL, NULL));
  g_assert_nonnull (strstr (key_file, "[Passphrase]"));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (f, "passphrase_entry"))), ==, "");
}

static void
body_passphrase_unlock (Fixture *f)
{
  GtkWidget *entry = child (f, "unlock_entry");
  GtkWidget *error_label = child (f, "unlock_error");

  g_assert_null (f->node);
  g_assert_true (ep_application_needs_passphrase (f->app));
  g_assert_cmpstr (page_of (f, "stack"), ==, "unlock");
  g_assert_false (gtk_widget_get_visible (error_label));

  /* A wrong one: said in words, the entry emptied, still locked. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "wrong horse");
  click (child (f, "unlock_button"));
  g_assert_null (ep_application_get_node (f->app));
  g_assert_true (gtk_widget_get_visible (error_label));
  g_assert_true (g_error_matches (ep_application_get_node_error (f->app), EP_IDENTITY_ERROR,
                                  EP_IDENTITY_ERROR_WRONG_PASSPHRASE));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (error_label)), ==,
                   ep_application_get_node_error (f->app)->message);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "");
  g_assert_cmpstr (page_of (f, "stack"), ==, "unlock");

  /* The right one opens the profile, named already. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "correct horse");
  click (child (f, "unlock_button"));
  f->node = ep_application_get_node (f->app);
  g_assert_nonnull (f->node);
  g_assert_true (spin_until (node_started, f->node, 15));
  wait_page (f, "stack", "main");
  g_assert_cmpstr (ep_node_get_name (f->node), ==, "Alice");
}

static void
test_window_passphrase (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("ep-window-XXXXXX", NULL);

  g_assert_nonnull (tmp);
  run_app_full (body_passphrase_set, NULL, tmp);
  run_app_full (body_passphrase_unlock, NULL, tmp);
  rm_rf (tmp);
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

  g_setenv ("HOME", home, TRUE);
  g_setenv ("XDG_DATA_HOME", data, TRUE);
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);

  gtk_disable_setlocale ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/window/broken-profile", test_window_broken_profile);
  g_test_add_func ("/ep/window/add-contact", test_window_add_contact);
  g_test_add_func ("/ep/window/request-and-chat", test_window_request_and_chat);
  g_test_add_func ("/ep/window/preferences", test_window_preferences);
  g_test_add_func ("/ep/window/passphrase", test_window_passphrase);

  ret = g_test_run ();

  rm_rf (home);

  return ret;
}
