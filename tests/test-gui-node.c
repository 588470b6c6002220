/* test-gui-node.c — the app and a real `encryptedp2p-node chat` process
 *
 * Everything on 127.0.0.1: one `encryptedp2p-node serve` DHT node is the
 * only bootstrap of both; the app and the chat process find each other
 * through their presence records in that DHT. No LAN discovery, no public
 * routers. The chat process asks the app to be its contact; the user
 * accepts with the Accept button; messages go both ways, and the app's
 * own message, sent while the node is stopped, shows Waiting to send →
 * Sent → Delivered in its row.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "window-test-util.h"

#define WAIT 40

/* ---- the test ------------------------------------------------------------- */

typedef struct
{
  Fixture *f;
  char    *bootstrap;     /* 127.0.0.1:PORT of the serve node */
  char    *tmp;
} Setup;

static Setup setup;

static gboolean
dht_has_nodes (gpointer data)
{
  return ep_dht_get_n_nodes (ep_node_get_dht (data)) > 0;
}

typedef struct
{
  EpContactList *contacts;
  const char    *key;
  int            state;
} ContactWait;

static gboolean
contact_in_state (gpointer data)
{
  ContactWait *w = data;
  EpContact *contact = ep_contact_list_lookup (w->contacts, w->key);

  return contact != NULL && (int) ep_contact_get_request_state (contact) == w->state;
}

typedef struct
{
  EpNode       *node;
  const guint8 *key;
} ConnWait;

static gboolean
disconnected (gpointer data)
{
  ConnWait *w = data;

  return !ep_node_is_connected (w->node, w->key);
}

typedef struct
{
  GtkWidget *chat_view;
  GArray    *statuses;  /* EpMessageStatus, each change */
  GPtrArray *metas;     /* the row's caption at each change */
} Seen;

static const char *row_meta (GtkWidget  *chat_view,
                             const char *text);

static void
on_status_notify (EpMessage  *message,
                  GParamSpec *pspec,
                  Seen       *seen)
{
  EpMessageStatus status = ep_message_get_status (message);
  const char *meta = row_meta (seen->chat_view, ep_message_get_text (message));

  g_array_append_val (seen->statuses, status);
  g_ptr_array_add (seen->metas, g_strdup (meta != NULL ? meta : ""));
}

static gboolean
delivered (gpointer data)
{
  return ep_message_get_status (data) == EP_MESSAGE_STATUS_DELIVERED;
}

/* The caption of the row showing @text. */
static const char *
row_meta (GtkWidget  *chat_view,
          const char *text)
{
  GtkWidget *label = find_label (chat_view, text);
  GtkWidget *meta;

  if (label == NULL)
    return NULL;
  meta = gtk_widget_get_next_sibling (label);
  return GTK_IS_LABEL (meta) ? gtk_label_get_text (GTK_LABEL (meta)) : NULL;
}

typedef struct
{
  GtkWidget  *chat_view;
  const char *text;
  const char *status;
} MetaWait;

static gboolean
meta_says (gpointer data)
{
  MetaWait *w = data;
  const char *meta = row_meta (w->chat_view, w->text);

  return meta != NULL && strstr (meta, w->status) != NULL;
}

static JsonObject *
command (const char *cmd)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "cmd", cmd);
  return object;
}

static void
body_node_chat (Fixture *f)
{
  g_autofree char *node_profile = g_build_filename (setup.tmp, "node", NULL);
  const char *argv[] = { g_getenv ("EP_NODE"), "chat", "--profile", node_profile,
                         "--bind", "127.0.0.1", "--port", "0",
                         "--bootstrap", setup.bootstrap, "--no-default-bootstrap", "--no-lan",
                         "--name", "Nodey", NULL };
  Proc chat = { 0 };
  JsonObject *ready, *cmd, *history;
  JsonArray *messages;
  const char *node_key;
  const char *app_id = NULL;
  const char *app_key;
  EpContactList *contacts;
  ContactWait cw;
  GtkWidget *chat_view;
  GtkTextBuffer *buffer;
  NWait n = { f, 0 };
  MetaWait mw;
  ConnWait cs;
  Seen seen = { 0 };
  EpMessage *ours;
  g_autoptr(GSettings) settings = g_settings_new (SCHEMA_ID);

  /* Notifications are test-chat-window's; here nobody would show them. */
  g_settings_set_boolean (settings, "notifications", FALSE);
  onboard (f, "Alice");
  contacts = ep_node_get_contacts (f->node);
  app_id = ep_identity_get_contact_id (ep_node_get_identity (f->node));
  app_key = ep_node_get_key (f->node);
  g_assert_true (spin_until (dht_has_nodes, f->node, WAIT));

  /* The chat process starts and asks the app to be its contact. */
  g_assert_nonnull (argv[0]);
  proc_start (&chat, argv, FALSE);
  ready = wait_event (&chat, "event", "ready", NULL, NULL);
  node_key = json_object_get_string_member (ready, "key");
  g_assert_cmpuint (strlen (node_key), ==, 64);
  cmd = command ("add");
  json_object_set_string_member (cmd, "id", app_id);
  json_object_set_string_member (cmd, "text", "hello from the node");
  proc_command (&chat, cmd);
  json_object_unref (cmd);
  g_assert_cmpstr (json_object_get_string_member (
                     wait_event (&chat, "event", "contact-added", NULL, NULL), "state"),
                   ==, "outgoing-pending");

  /* It shows up in the list; the user opens it and clicks Accept. */
  cw = (ContactWait) { contacts, node_key, EP_CONTACT_REQUEST_INCOMING_PENDING };
  g_assert_true (spin_until (contact_in_state, &cw, WAIT));
  wait_page (f, "sidebar_stack", "list");
  wait_label (child (f, "contact_view"), "Nodey");
  g_signal_emit_by_name (child (f, "contact_view"), "activate", 0);
  g_assert_cmpstr (page_of (f, "content_stack"), ==, "request");
  g_assert_cmpstr (adw_status_page_get_description (ADW_STATUS_PAGE (child (f, "request_page"))),
                   ==, "hello from the node");
  click (child (f, "accept_button"));
  g_assert_cmpstr (page_of (f, "content_stack"), ==, "chat");
  g_assert_cmpstr (json_object_get_string_member (
                     wait_event (&chat, "event", "contact-added", "state", "accepted"), "key"),
                   ==, app_key);

  /* Theirs, in order. */
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *text = g_strdup_printf ("node says %u", i + 1);

      cmd = command ("send");
      json_object_set_string_member (cmd, "to", app_key);
      json_object_set_string_member (cmd, "text", text);
      proc_command (&chat, cmd);
      json_object_unref (cmd);
    }
  chat_view = child (f, "chat_view");
  n.n = 2;
  g_assert_true (spin_until (conversation_has, &n, WAIT));
  g_assert_cmpstr (ep_message_get_text (nth_message (f, 0)), ==, "node says 1");
  g_assert_cmpstr (ep_message_get_text (nth_message (f, 1)), ==, "node says 2");
  g_assert_false (ep_message_get_outgoing (nth_message (f, 1)));
  wait_label (chat_view, "node says 2");

  /* Ours, while the node is stopped: no session, so it waits in the outbox
   * and its row says so; once the node runs again it goes out (Sent) and
   * is acknowledged (Delivered), each shown in the row as it happens. */
  g_subprocess_send_signal (chat.process, SIGSTOP);
  cs.node = f->node;
  cs.key = ep_contact_get_key_bytes (ep_contact_list_lookup (contacts, node_key));
  g_assert_true (spin_until (disconnected, &cs, WAIT));
  buffer = gtk_text_view_get_buffer (ep_chat_view_get_composer (EP_CHAT_VIEW (chat_view)));
  gtk_text_buffer_set_text (buffer, "app says 3", -1);
  click (GTK_WIDGET (gtk_widget_get_template_child (chat_view, EP_TYPE_CHAT_VIEW,
                                                    "send_button")));
  n.n = 3;
  g_assert_true (spin_until (conversation_has, &n, WAIT));
  ours = nth_message (f, 2);
  g_assert_cmpstr (ep_message_get_text (ours), ==, "app says 3");
  g_assert_true (ep_message_get_outgoing (ours));
  mw = (MetaWait) { chat_view, "app says 3", "Waiting to send" };
  g_assert_true (spin_until (meta_says, &mw, WAIT));
  g_assert_cmpint (ep_message_get_status (ours), ==, EP_MESSAGE_STATUS_QUEUED);
  /* After the row's own handler: the row shows what the status says. */
  seen.chat_view = chat_view;
  seen.statuses = g_array_new (FALSE, FALSE, sizeof (EpMessageStatus));
  seen.metas = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (ours, "notify::status", G_CALLBACK (on_status_notify), &seen);
  g_subprocess_send_signal (chat.process, SIGCONT);
  g_assert_true (spin_until (delivered, ours, WAIT));
  g_signal_handlers_disconnect_by_func (ours, on_status_notify, &seen);
  g_assert_cmpuint (seen.statuses->len, ==, 2);
  g_assert_cmpint (g_array_index (seen.statuses, EpMessageStatus, 0), ==, EP_MESSAGE_STATUS_SENT);
  g_assert_cmpint (g_array_index (seen.statuses, EpMessageStatus, 1), ==,
                   EP_MESSAGE_STATUS_DELIVERED);
  g_assert_nonnull (strstr (seen.metas->pdata[0], "Sent"));
  g_assert_nonnull (strstr (seen.metas->pdata[1], "Delivered"));
  g_array_unref (seen.statuses);
  g_ptr_array_unref (seen.metas);
  mw.status = "Delivered";
  g_assert_true (meta_says (&mw));

  /* The node has it, and its history has the same order. */
  g_assert_cmpstr (json_object_get_string_member (
                     wait_event (&chat, "event", "message", "text", "app says 3"), "from"),
                   ==, app_key);
  cmd = command ("history");
  json_object_set_string_member (cmd, "with", app_key);
  proc_command (&chat, cmd);
  json_object_unref (cmd);
  history = wait_event (&chat, "event", "history", NULL, NULL);
  messages = json_object_get_array_member (history, "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 0),
                                                  "text"), ==, "node says 1");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 1),
                                                  "text"), ==, "node says 2");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 2),
                                                  "text"), ==, "app says 3");
  g_assert_false (json_object_get_boolean_member (json_array_get_object_element (messages, 2),
                                                  "outgoing"));

  proc_stop (&chat, FALSE);
  g_settings_reset (settings, "notifications");
}

static void
test_gui_node_chat (void)
{
  g_autoptr(GError) error = NULL;
  const char *serve_argv[] = { g_getenv ("EP_NODE"), "serve", "--bind", "127.0.0.1",
                               "--port", "0", "--no-default-bootstrap", "--timeout", "300",
                               NULL };
  Proc serve = { 0 };
  JsonObject *first;
  Fixture f = { 0 };

  if (g_getenv ("EP_NODE") == NULL)
    {
      g_test_skip ("EP_NODE is not set: run through meson test");
      return;
    }
  setup.tmp = g_dir_make_tmp ("ep-gui-node-XXXXXX", &error);
  g_assert_no_error (error);

  /* The only DHT node anyone bootstraps from, on loopback. */
  /* Its statistics every few seconds would fill the log. */
  proc_start (&serve, serve_argv, TRUE);
  first = wait_event (&serve, NULL, NULL, NULL, NULL);
  setup.bootstrap = g_strdup_printf ("127.0.0.1:%" G_GINT64_FORMAT,
                                     json_object_get_int_member (first, "port"));

  f.body = body_node_chat;
  f.profile = g_build_filename (setup.tmp, "app", NULL);
  setup.f = &f;
  {
    const char *extra[] = { "--bootstrap", setup.bootstrap, NULL };

    run_app_on_profile (&f, extra);
  }

  proc_stop (&serve, TRUE);
  rm_rf (setup.tmp);
  g_clear_pointer (&setup.tmp, g_free);
  g_clear_pointer (&setup.bootstrap, g_free);
  g_free (f.profile);
}

int
main (int    argc,
      char **argv)
{
  gtk_disable_setlocale ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/gui-node/request-and-chat", test_gui_node_chat);

  return run_window_tests ();
}
