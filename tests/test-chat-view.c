/* test-chat-view.c — typing, selectable text and links, removing a contact
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "ep-message-text.h"
#include "window-test-util.h"

/* Under AddressSanitizer everything is ~20 times slower: a shorter history. */
#if defined(__SANITIZE_ADDRESS__)
#define HISTORY 120
#else
#define HISTORY 400
#endif

/* ---- message text to markup ----------------------------------------------- */

typedef struct
{
  const char *text;
  guint       n_links;
  const char *markup;
} MarkupCase;

static const MarkupCase markup_cases[] = {
  { "plain", 0, "plain" },
  { "a <b>bold</b> & 'q' \"x\"", 0,
    "a &lt;b&gt;bold&lt;/b&gt; &amp; &apos;q&apos; &quot;x&quot;" },
  { "see https://example.org/a?b=1&c=2.", 1,
    "see <a href=\"https://example.org/a?b=1&amp;c=2\">https://example.org/a?b=1&amp;c=2</a>." },
  { "(http://en.wikipedia.org/wiki/A_(b))", 1,
    "(<a href=\"http://en.wikipedia.org/wiki/A_(b)\">http://en.wikipedia.org/wiki/A_(b)</a>)" },
  { "write to mailto:bob@example.org, please", 1,
    "write to <a href=\"mailto:bob@example.org\">mailto:bob@example.org</a>, please" },
  { "HTTPS://EXAMPLE.ORG\nnext", 1,
    "<a href=\"HTTPS://EXAMPLE.ORG\">HTTPS://EXAMPLE.ORG</a>\nnext" },
  { "https://a.org/\"><script>x", 1,
    "<a href=\"https://a.org/\">https://a.org/</a>&quot;&gt;&lt;script&gt;x" },
  { "http://[::1]:8080/x", 1, "<a href=\"http://[::1]:8080/x\">http://[::1]:8080/x</a>" },
  /* Not ours, not links, or not at a word's start. */
  { "javascript:alert(1) file:///etc/passwd ftp://x.org data:text/html,x", 0,
    "javascript:alert(1) file:///etc/passwd ftp://x.org data:text/html,x" },
  { "xhttps://evil.org", 0, "xhttps://evil.org" },
  { "https:// and mailto: and mailto:@x and http://-x", 0,
    "https:// and mailto: and mailto:@x and http://-x" },
  /* Control characters cannot break the markup. */
  { "bell\x01 tab\tend", 0, "bell\xef\xbf\xbd tab\tend" },
};

static void
test_markup (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (markup_cases); i++)
    {
      const MarkupCase *c = &markup_cases[i];
      guint n_links = G_MAXUINT;
      g_autofree char *markup = ep_message_text_to_markup (c->text, &n_links);
      GtkWidget *label = gtk_label_new (NULL);

      g_assert_cmpstr (markup, ==, c->markup);
      g_assert_cmpuint (n_links, ==, c->n_links);
      /* It parses, and what shows is the text itself (controls aside). */
      g_object_ref_sink (label);
      gtk_label_set_markup (GTK_LABEL (label), markup);
      if (strchr (c->text, '\x01') == NULL)
        g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (label)), ==, c->text);
      g_object_unref (label);
    }

  g_assert_true (ep_message_text_is_link ("https://example.org"));
  g_assert_true (ep_message_text_is_link ("HTTP://example.org"));
  g_assert_true (ep_message_text_is_link ("mailto:a@b"));
  g_assert_false (ep_message_text_is_link ("file:///etc/passwd"));
  g_assert_false (ep_message_text_is_link ("javascript:alert(1)"));
  g_assert_false (ep_message_text_is_link ("httpx://a"));
}

/* ---- helpers --------------------------------------------------------------- */

static GtkWidget *
chat_child (Fixture    *f,
            const char *name)
{
  GObject *object = gtk_widget_get_template_child (child (f, "chat_view"), EP_TYPE_CHAT_VIEW, name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

static gboolean
conversation_open (gpointer data)
{
  return ep_chat_view_get_conversation (data) != NULL;
}

/* The peer asks, the app accepts, the chat is on screen. */
static EpContact *
befriend_app (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  const char *app_id = ep_identity_get_contact_id (ep_node_get_identity (f->node));
  EpContact *contact;
  Pair pair;
  TestNode app = { 0 };

  onboard (f, "Alice");
  hint_both (f);
  g_assert_nonnull (ep_node_add_contact (f->peer.node, app_id, "hi", &error));
  g_assert_no_error (error);
  wait_page (f, "sidebar_stack", "list");
  contact = ep_node_accept_request (f->node, f->peer.key, &error);
  g_assert_no_error (error);
  g_assert_nonnull (contact);
  g_assert_true (spin_until (answered, &f->peer, 15));
  app.node = f->node;
  memcpy (app.key, ep_identity_get_public_key (ep_node_get_identity (f->node)), 32);
  pair.a = &app;
  pair.b = &f->peer;
  g_assert_true (spin_until (pair_connected, &pair, 15));

  ep_window_open_chat (f->window, f->peer.hex);
  wait_page (f, "content_stack", "chat");
  g_assert_true (spin_until (conversation_open, child (f, "chat_view"), 15));
  return contact;
}

static gboolean
widget_hidden (gpointer data)
{
  return !gtk_widget_get_visible (data);
}

/* ---- typing both ways ------------------------------------------------------ */

static void
body_typing (Fixture *f)
{
  GtkWidget *typing_label;
  GtkTextBuffer *buffer;
  EpContact *app_at_peer;
  guint8 app_key[32];

  befriend_app (f);
  typing_label = chat_child (f, "typing_label");
  buffer = gtk_text_view_get_buffer (ep_chat_view_get_composer (EP_CHAT_VIEW (child (f, "chat_view"))));
  memcpy (app_key, ep_identity_get_public_key (ep_node_get_identity (f->node)), 32);
  app_at_peer = ep_contact_list_lookup (ep_node_get_contacts (f->peer.node),
                                        ep_node_get_key (f->node));
  g_assert_nonnull (app_at_peer);
  g_assert_false (gtk_widget_get_visible (typing_label));

  /* Theirs shows above the composer, by name, and goes away. */
  ep_node_set_typing (f->peer.node, app_key, TRUE);
  wait_label (child (f, "chat_view"), "Bob is typing…");
  ep_node_set_typing (f->peer.node, app_key, FALSE);
  g_assert_true (spin_until (widget_hidden, typing_label, 15));

  /* And while another chat is shown, it is not shown here. */
  ep_node_set_typing (f->peer.node, app_key, TRUE);
  wait_label (child (f, "chat_view"), "Bob is typing…");
  ep_window_open_chat (f->window, NULL);
  g_assert_false (gtk_widget_get_visible (typing_label));
  ep_window_open_chat (f->window, f->peer.hex);
  g_assert_true (gtk_widget_get_visible (typing_label));
  ep_node_set_typing (f->peer.node, app_key, FALSE);
  g_assert_true (spin_until (widget_hidden, typing_label, 15));

  /* Ours: typing in the composer tells the peer, emptying it stops. */
  gtk_text_buffer_set_text (buffer, "hel", -1);
  g_assert_true (spin_until (contact_typing, app_at_peer, 15));
  gtk_text_buffer_set_text (buffer, "", -1);
  g_assert_true (spin_until (contact_not_typing, app_at_peer, 15));

  /* Sending stops it too. */
  gtk_text_buffer_set_text (buffer, "hello Bob", -1);
  g_assert_true (spin_until (contact_typing, app_at_peer, 15));
  ep_chat_view_send (EP_CHAT_VIEW (child (f, "chat_view")));
  g_assert_true (spin_until (contact_not_typing, app_at_peer, 15));
  g_assert_true (spin_until (received_at_least, &(Count) { &f->peer, 1 }, 15));
}

static void
test_typing (void)
{
  run_app (body_typing);
}

/* ---- text: escaped, links, selection, scrolling ----------------------------- */

static void
on_open_link (EpChatView *view,
              const char *uri,
              GPtrArray  *opened)
{
  g_ptr_array_add (opened, g_strdup (uri));
  /* The test opens nothing for real. */
  g_signal_stop_emission_by_name (view, "open-link");
}

static guint64 lamport_next = 1;

/* Messages from the peer straight into the app's store, as delivery puts them. */
static void
inject (Fixture    *f,
        guint       n,
        const char *prefix)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = NULL;
      guint8 id[EP_MESSAGE_ID_SIZE];

      randombytes_buf (id, sizeof id);
      /* Some long, some with links, so the rows differ in height. */
      if (i % 7 == 0)
        text = g_strdup_printf ("%s %u: a longer one that wraps over a few lines in the bubble, "
                                "with a link https://example.org/%u and more words after it to "
                                "fill the width of the view", prefix, i, i);
      else if (i % 3 == 0)
        text = g_strdup_printf ("%s %u <i>not italic</i> & mailto:x%u@example.org", prefix, i, i);
      else
        text = g_strdup_printf ("%s %u", prefix, i);
      ep_store_receive_message_async (ep_node_get_store (f->node), f->peer.key, id,
                                      g_get_real_time (), lamport_next++, text, NULL,
                                      NULL, NULL);
    }
  /* The store answers in order; one more round trip means all are in. */
  {
    g_autoptr(GAsyncResult) result = NULL;

    ep_store_mark_read_async (ep_node_get_store (f->node), f->peer.key, NULL, store_result, &result);
    g_assert_true (spin_until (result_set, &result, 30));
  }
}

static gboolean
on_tick (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       data)
{
  *(guint *) data += 1;
  return G_SOURCE_CONTINUE;
}

static gboolean
frames_at_least (gpointer data)
{
  guint *frames = data;

  return frames[0] >= frames[1];
}

static GtkLabel *
message_label (Fixture    *f,
               const char *text)
{
  GtkWidget *label = find_label (chat_child (f, "message_view"), text);

  g_assert_nonnull (label);
  return GTK_LABEL (label);
}

static void
body_text (Fixture *f)
{
  g_autoptr(GPtrArray) opened = g_ptr_array_new_with_free_func (g_free);
  GtkWidget *chat_view;
  GtkLabel *label;
  GtkAdjustment *adj;
  const char *text = "Look <b>here</b> & https://example.org/?a=1&b=2 now";
  const char *link = "https://example.org/?a=1&b=2";
  const char *shown;
  int start, end;
  guint frames[2] = { 0, 0 };
  guint tick;
  gint64 t0, worst = 0, total = 0;
  guint steps = 0;

  befriend_app (f);
  chat_view = child (f, "chat_view");
  g_signal_connect (chat_view, "open-link", G_CALLBACK (on_open_link), opened);

  peer_send (f, text);
  wait_label (chat_view, "Look <b>here</b>");
  label = message_label (f, "Look <b>here</b>");

  /* Shown as written: the markup characters are text. */
  g_assert_cmpstr (gtk_label_get_text (label), ==, text);
  g_assert_nonnull (strstr (gtk_label_get_label (label), "&lt;b&gt;here&lt;/b&gt;"));
  g_assert_true (gtk_label_get_selectable (label));

  /* GTK found the link where it is: a cursor inside it is on it. */
  shown = gtk_label_get_text (label);
  start = (int) g_utf8_pointer_to_offset (shown, strstr (shown, "https"));
  gtk_label_select_region (label, start + 3, start + 3);
  g_assert_cmpstr (gtk_label_get_current_uri (label), ==, link);
  g_signal_emit_by_name (label, "activate-current-link");
  g_assert_cmpuint (opened->len, ==, 1);
  g_assert_cmpstr (opened->pdata[0], ==, link);
  /* Anything but http, https and mailto is swallowed. */
  {
    gboolean handled = FALSE;

    g_signal_emit_by_name (label, "activate-link", "file:///etc/passwd", &handled);
    g_assert_true (handled);
    g_signal_emit_by_name (label, "activate-link", "javascript:alert(1)", &handled);
    g_assert_true (handled);
    g_assert_cmpuint (opened->len, ==, 1);
  }

  /* Copy Text is in the text's own menu, for the whole text. */
  {
    GMenuModel *extra = gtk_label_get_extra_menu (label);
    g_autofree char *action = NULL;
    g_autoptr(GVariant) target = NULL;

    g_assert_nonnull (extra);
    g_assert_cmpint (g_menu_model_get_n_items (extra), ==, 1);
    g_assert_true (g_menu_model_get_item_attribute (extra, 0, G_MENU_ATTRIBUTE_ACTION, "s", &action));
    g_assert_cmpstr (action, ==, "message.copy");
    target = g_menu_model_get_item_attribute_value (extra, 0, G_MENU_ATTRIBUTE_TARGET,
                                                    G_VARIANT_TYPE_STRING);
    g_assert_cmpstr (g_variant_get_string (target, NULL), ==, text);
  }

  /* Selecting works, and Copy Text still copies the whole text. */
  gtk_label_select_region (label, 0, 4);
  g_assert_true (gtk_label_get_selection_bounds (label, &start, &end));
  g_assert_cmpint (start, ==, 0);
  g_assert_cmpint (end, ==, 4);
  g_assert_true (gtk_widget_activate_action (chat_view, "message.copy", "s", text));
  {
    GdkContentProvider *content = gdk_clipboard_get_content (gtk_widget_get_clipboard (chat_view));
    g_auto(GValue) value = G_VALUE_INIT;

    g_value_init (&value, G_TYPE_STRING);
    g_assert_true (gdk_content_provider_get_value (content, &value, NULL));
    g_assert_cmpstr (g_value_get_string (&value), ==, text);
  }

  /* A long history: with a selection and the focus in a row, scroll it out
   * of view and through the whole list while more come in. Recycled rows
   * must end in no critical (they are fatal here), and each step must
   * stay quick. */
  gtk_widget_grab_focus (GTK_WIDGET (label));
  gtk_label_select_region (label, 0, 4);
  inject (f, HISTORY, "many");
  ep_window_open_chat (f->window, NULL);
  ep_window_open_chat (f->window, f->peer.hex);
  g_assert_true (spin_until (conversation_open, chat_view, 15));
  {
    g_autofree char *last = g_strdup_printf ("many %u", HISTORY - 1);

    wait_label (chat_view, last);
    label = message_label (f, last);
  }
  gtk_widget_grab_focus (GTK_WIDGET (label));
  gtk_label_select_region (label, 0, 4);

  adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (chat_child (f, "scrolled")));
  tick = gtk_widget_add_tick_callback (chat_child (f, "message_view"), on_tick, &frames[0], NULL);
  for (guint round = 0; round < 2; round++)
    {
      /* Up to the top (older pages load on the way), then down again. */
      while (steps < 400)
        {
          double page = gtk_adjustment_get_page_size (adj);
          double value = gtk_adjustment_get_value (adj);
          double target = round == 0 ? MAX (0, value - page / 2)
                                     : MIN (gtk_adjustment_get_upper (adj) - page, value + page / 2);
          gint64 step;

          if (round == 0 && value <= 0
              && !ep_conversation_get_has_older (ep_chat_view_get_conversation (EP_CHAT_VIEW (chat_view)))
              && !ep_conversation_get_loading (ep_chat_view_get_conversation (EP_CHAT_VIEW (chat_view))))
            break;
          if (round == 1 && value >= gtk_adjustment_get_upper (adj) - page - 1)
            break;
          t0 = g_get_monotonic_time ();
          gtk_adjustment_set_value (adj, target);
          frames[1] = frames[0] + 2;
          g_assert_true (spin_until (frames_at_least, frames, 10));
          step = g_get_monotonic_time () - t0;
          worst = MAX (worst, step);
          total += step;
          steps++;
          if (steps % 20 == 0 && round == 0)
            inject (f, 5, "while scrolling");
        }
      g_assert_cmpuint (steps, <, 400);
    }
  gtk_widget_remove_tick_callback (chat_child (f, "message_view"), tick);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (ep_chat_view_get_conversation (EP_CHAT_VIEW (chat_view)))), >=, HISTORY);
  g_test_message ("scrolled %u half pages through %u messages: %.1f ms a step on average "
                  "(two frames each), worst %.1f ms",
                  steps,
                  g_list_model_get_n_items (G_LIST_MODEL (ep_chat_view_get_conversation (EP_CHAT_VIEW (chat_view)))),
                  total / 1000.0 / steps, worst / 1000.0);
  /* Speed is bench/gui's business; this test asserts behaviour only. */

  /* Selecting in a row that came back from the pool works as before. */
  wait_label (chat_view, "while scrolling 4");
  label = message_label (f, "while scrolling 4");
  g_assert_true (gtk_label_get_selectable (label));
  gtk_label_select_region (label, 0, 4);
  g_assert_true (gtk_label_get_selection_bounds (label, &start, &end));
  g_assert_cmpint (end, ==, 4);
}

static void
test_text (void)
{
  run_app (body_text);
}

/* ---- removing a contact ------------------------------------------------------ */

static AdwMessageDialog *
find_message_dialog (void)
{
  GtkWindow *window = find_toplevel (ADW_TYPE_MESSAGE_DIALOG);

  return window != NULL ? ADW_MESSAGE_DIALOG (window) : NULL;
}

/* The dialog's own button for @label, clicked as a user does. */
static GtkWidget *
find_button (GtkWidget  *root,
             const char *label)
{
  if (GTK_IS_BUTTON (root) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (root)), label) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_button (c, label);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
no_message_dialog (gpointer data)
{
  return find_message_dialog () == NULL;
}

static gboolean
no_contact_window (gpointer data)
{
  return find_toplevel (EP_TYPE_CONTACT_WINDOW) == NULL;
}

static guint
stored_messages (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) messages = NULL;

  ep_store_load_messages_async (ep_node_get_store (f->node), f->peer.key, NULL, 100, NULL,
                                store_result, &result);
  g_assert_true (spin_until (result_set, &result, 10));
  messages = ep_store_load_messages_finish (ep_node_get_store (f->node), result, &error);
  g_assert_no_error (error);
  return messages->len;
}

static GtkWidget *
contact_window_child (GtkWindow  *window,
                      const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (window), EP_TYPE_CONTACT_WINDOW, name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

static gboolean
presence_says_direct (gpointer data)
{
  return g_strcmp0 (adw_action_row_get_subtitle (data), "Online, directly") == 0;
}

static void
body_remove (Fixture *f)
{
  GtkWindow *details;
  AdwMessageDialog *dialog;
  EpContactList *contacts;

  befriend_app (f);
  contacts = ep_node_get_contacts (f->node);
  peer_send (f, "something to forget");
  wait_label (child (f, "chat_view"), "something to forget");
  g_assert_cmpuint (stored_messages (f), ==, 1);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.contact-details", NULL));
  details = find_toplevel (EP_TYPE_CONTACT_WINDOW);
  g_assert_nonnull (details);
  /* It opens without the whole fingerprint selected (the selectable label
   * would take the first focus). */
  g_assert_true (spin_until ((GSourceFunc) gtk_widget_get_mapped,
                             contact_window_child (details, "fingerprint_label"), 10));
  g_assert_false (gtk_label_get_selection_bounds (
                    GTK_LABEL (contact_window_child (details, "fingerprint_label")), NULL, NULL));
  g_assert_true (gtk_widget_get_visible (contact_window_child (details, "remove_button")));
  g_assert_true (gtk_widget_get_visible (contact_window_child (details, "block_button")));
  /* Online, and how. */
  g_assert_true (spin_until (presence_says_direct, contact_window_child (details, "presence_row"),
                             10));

  /* Cancel: nothing happens. */
  click (contact_window_child (details, "remove_button"));
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Remove Bob?");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "whole conversation"));
  g_assert_cmpint (adw_message_dialog_get_response_appearance (dialog, "remove"), ==,
                   ADW_RESPONSE_DESTRUCTIVE);
  click (find_button (GTK_WIDGET (dialog), "_Cancel"));
  g_assert_true (spin_until (no_message_dialog, NULL, 5));
  g_assert_nonnull (ep_contact_list_lookup (contacts, f->peer.hex));
  g_assert_true (find_toplevel (EP_TYPE_CONTACT_WINDOW) == details);

  /* Remove: the contact and its history go, the chat view empties. */
  click (contact_window_child (details, "remove_button"));
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  click (find_button (GTK_WIDGET (dialog), "_Remove"));
  g_assert_true (spin_until (no_message_dialog, NULL, 5));
  g_assert_true (spin_until (no_contact_window, NULL, 5));
  g_assert_null (ep_contact_list_lookup (contacts, f->peer.hex));
  wait_page (f, "content_stack", "none");
  g_assert_null (ep_window_get_contact (f->window));
  wait_page (f, "sidebar_stack", "empty");
  g_assert_cmpuint (stored_messages (f), ==, 0);
}

static void
test_remove (void)
{
  run_app (body_remove);
}

int
main (int    argc,
      char **argv)
{
  gtk_disable_setlocale ();
  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();

  /* No notification server on this bus: notifications are tested elsewhere. */
  {
    g_autoptr(GSettings) settings = g_settings_new (SCHEMA_ID);

    g_settings_set_boolean (settings, "notifications", FALSE);
  }

  g_test_add_func ("/ep/chat-view/markup", test_markup);
  g_test_add_func ("/ep/chat-view/typing", test_typing);
  g_test_add_func ("/ep/chat-view/text", test_text);
  g_test_add_func ("/ep/chat-view/remove", test_remove);

  return run_window_tests ();
}
