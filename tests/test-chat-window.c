/* test-chat-window.c — a request from a peer, messages both ways, notifications
 *
 * Notifications go to a fake org.freedesktop.Notifications on the test's
 * session bus (fake-notifications.py), which reports what it was asked.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "window-test-util.h"

/* ---- a request from the peer, messages both ways, a notification ---------- */

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

/* The first call of @event the notification server reported. */
static JsonObject *
server_event (Proc       *server,
              const char *event)
{
  return find_event (server, "event", event, NULL, NULL);
}

/* fake-notifications.py, once it owns the name. */
static void
fake_server_start (Proc *server)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "fake-notifications.py", NULL);
  const char *argv[] = { "/usr/bin/python3", script, NULL };

  proc_start (server, argv, FALSE);
  wait_event (server, "event", "ready", NULL, NULL);
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

static gboolean
window_visible (gpointer data)
{
  return gtk_widget_get_visible (data);
}

static gboolean
notification_closed (gpointer data)
{
  return server_event (data, "close") != NULL;
}

static void
body_request_and_chat (Fixture *f)
{
  Proc server = { 0 };
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
  notify = wait_event (&server, "event", "notify", NULL, NULL);
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
  g_assert_cmpint (json_object_get_int_member (server_event (&server, "close"), "id"), ==,
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
  g_assert_null (server_event (&server, "notify"));

  /* Away from the chat, a message brings a notification and an unread count. */
  ep_window_open_chat (f->window, NULL);
  g_assert_cmpstr (page_of (f, "content_stack"), ==, "none");
  peer_send (f, "four from Bob");
  notify = wait_event (&server, "event", "notify", NULL, NULL);
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
  g_assert_cmpint (json_object_get_int_member (server_event (&server, "close"), "id"), ==,
                   json_object_get_int_member (notify, "id"));
  n.n = 4;
  g_assert_true (spin_until (conversation_has, &n, 15));
  wait_label (chat_view, "four from Bob");

  /* Without message text in notifications, only that one came in; with
   * notifications off, none at all. */
  {
    g_autoptr(GSettings) settings = g_settings_new (SCHEMA_ID);

    g_settings_set_boolean (settings, "notification-previews", FALSE);
    ep_window_open_chat (f->window, NULL);
    g_ptr_array_set_size (server.events, 0);
    peer_send (f, "five, private");
    notify = wait_event (&server, "event", "notify", NULL, NULL);
    g_assert_cmpstr (json_object_get_string_member (notify, "summary"), ==, "Bob");
    g_assert_cmpstr (json_object_get_string_member (notify, "body"), ==, "New message");

    g_settings_set_boolean (settings, "notifications", FALSE);
    g_ptr_array_set_size (server.events, 0);
    peer_send (f, "six, quiet");
    wait_label (child (f, "contact_view"), "six, quiet");
    server_round_trip ();
    g_assert_null (server_event (&server, "notify"));

    g_settings_reset (settings, "notifications");
    g_settings_reset (settings, "notification-previews");
    ep_window_open_chat (f->window, f->peer.hex);
    n.n = 6;
    g_assert_true (spin_until (conversation_has, &n, 15));
  }

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
    n.n = 66;
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
    n.n = 66;
    g_assert_true (spin_until (conversation_has, &n, 15));
    g_assert_cmpstr (ep_message_get_text (nth_message (f, 0)), ==, "one from Bob");
    g_assert_cmpstr (ep_message_get_text (nth_message (f, 65)), ==, "many 59");
  }

  /* In the background: closing hides the window, messages still notify,
   * and the notification brings the window back on that chat. */
  {
    g_autoptr(GSettings) settings = g_settings_new (SCHEMA_ID);
    g_autofree char *invoke_again = NULL;

    g_settings_set_boolean (settings, "run-in-background", TRUE);
    gtk_window_close (GTK_WINDOW (f->window));
    g_assert_true (EP_IS_WINDOW (f->window));
    g_assert_false (gtk_widget_get_visible (GTK_WIDGET (f->window)));
    g_ptr_array_set_size (server.events, 0);
    peer_send (f, "seven, while away");
    notify = wait_event (&server, "event", "notify", NULL, NULL);
    g_assert_cmpstr (json_object_get_string_member (notify, "body"), ==, "seven, while away");
    server_round_trip ();
    invoke_again = g_strdup_printf ("invoke %" G_GINT64_FORMAT " default\n",
                                    json_object_get_int_member (notify, "id"));
    g_assert_true (g_output_stream_write_all (server.in, invoke_again, strlen (invoke_again),
                                              NULL, NULL, NULL));
    g_assert_true (g_output_stream_flush (server.in, NULL, NULL));
    g_assert_true (spin_until (window_visible, f->window, 15));
    g_assert_true (ep_window_get_contact (f->window) == contact);
    g_settings_reset (settings, "run-in-background");
  }

  proc_stop (&server, FALSE);
}

static void
test_window_request_and_chat (void)
{
  run_app (body_request_and_chat);
}

int
main (int    argc,
      char **argv)
{
  gtk_disable_setlocale ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/chat-window/request-and-chat", test_window_request_and_chat);

  return run_window_tests ();
}
