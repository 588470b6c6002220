/* test-window.c — the window: start, onboarding, adding contacts, preferences
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "window-test-util.h"

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

static gboolean
leaflet_folded (gpointer data)
{
  return adw_leaflet_get_folded (data);
}

static gboolean
leaflet_unfolded (gpointer data)
{
  return !adw_leaflet_get_folded (data);
}

static GtkWidget *
find_button_by_icon (GtkWidget  *root,
                     const char *icon)
{
  if (GTK_IS_BUTTON (root) && g_strcmp0 (gtk_button_get_icon_name (GTK_BUTTON (root)), icon) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_button_by_icon (c, icon);

      if (found != NULL)
        return found;
    }
  return NULL;
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

  /* Change ID: asked first; Cancel keeps it, Change makes a new one. */
  {
    g_autofree char *old_id = g_strdup (ep_identity_get_contact_id (ep_node_get_identity (f->node)));
    GtkWindow *confirm;

    click (GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog), EP_TYPE_MY_ID_WINDOW,
                                                      "change_button")));
    confirm = find_toplevel (ADW_TYPE_MESSAGE_DIALOG);
    g_assert_nonnull (confirm);
    adw_message_dialog_response (ADW_MESSAGE_DIALOG (confirm), "cancel");
    gtk_window_destroy (confirm);
    g_assert_cmpstr (ep_identity_get_contact_id (ep_node_get_identity (f->node)), ==, old_id);

    click (GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog), EP_TYPE_MY_ID_WINDOW,
                                                      "change_button")));
    confirm = find_toplevel (ADW_TYPE_MESSAGE_DIALOG);
    g_assert_nonnull (confirm);
    adw_message_dialog_response (ADW_MESSAGE_DIALOG (confirm), "change");
    gtk_window_destroy (confirm);
    g_assert_cmpstr (ep_identity_get_contact_id (ep_node_get_identity (f->node)), !=, old_id);
    g_assert_cmpstr (ep_my_id_window_get_id (EP_MY_ID_WINDOW (dialog)), ==,
                     ep_identity_get_contact_id (ep_node_get_identity (f->node)));
    g_free (own_grouped);
    own_grouped = ep_contact_id_format_grouped (
      ep_identity_get_public_key (ep_node_get_identity (f->node)),
      ep_identity_get_nospam (ep_node_get_identity (f->node)));
    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (gtk_widget_get_template_child (
                       GTK_WIDGET (dialog), EP_TYPE_MY_ID_WINDOW, "id_label"))), ==, own_grouped);
    wait_label (GTK_WIDGET (dialog), "Your ID changed");
  }
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

  /* Narrow: the leaflet folds; the chat covers the list until Back. */
  {
    AdwLeaflet *leaflet = ADW_LEAFLET (child (f, "leaflet"));

    gtk_window_set_default_size (GTK_WINDOW (f->window), 360, 600);
    g_assert_true (spin_until (leaflet_folded, leaflet, 15));
    ep_window_open_chat (f->window, f->peer.hex);
    g_assert_true (adw_leaflet_get_visible_child (leaflet) == child (f, "content"));
    g_assert_true (ep_window_is_chat_visible (f->window, f->peer.hex));
    g_signal_emit_by_name (find_button_by_icon (child (f, "content"), "go-previous-symbolic"),
                           "clicked");
    g_assert_true (adw_leaflet_get_visible_child (leaflet) == child (f, "sidebar"));
    g_assert_false (ep_window_is_chat_visible (f->window, f->peer.hex));
    ep_window_open_chat (f->window, f->peer.hex);
    gtk_window_set_default_size (GTK_WINDOW (f->window), 900, 640);
    g_assert_true (spin_until (leaflet_unfolded, leaflet, 15));
    g_assert_true (ep_window_is_chat_visible (f->window, f->peer.hex));
  }

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

#define RELAY_KEY_A "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define RELAY_KEY_B "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

static void
body_preferences_set (Fixture *f)
{
  GtkWindow *prefs;
  g_autofree char *json = NULL;
  g_autoptr(GSettings) settings = g_settings_new (SCHEMA_ID);

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

  /* Bootstrap nodes: a wrong one is refused; added ones are listed and saved. */
  gtk_editable_set_text (GTK_EDITABLE (pref (prefs, "bootstrap_entry")), "not a node");
  g_signal_emit_by_name (pref (prefs, "bootstrap_entry"), "apply");
  g_assert_true (gtk_widget_has_css_class (pref (prefs, "bootstrap_entry"), "error"));
  g_assert_null (ep_application_get_profile_settings (f->app)->bootstrap);
  gtk_editable_set_text (GTK_EDITABLE (pref (prefs, "bootstrap_entry")), "127.0.0.2:6881");
  g_signal_emit_by_name (pref (prefs, "bootstrap_entry"), "apply");
  gtk_editable_set_text (GTK_EDITABLE (pref (prefs, "bootstrap_entry")), "[::1]:6881");
  g_signal_emit_by_name (pref (prefs, "bootstrap_entry"), "apply");
  g_assert_false (gtk_widget_has_css_class (pref (prefs, "bootstrap_entry"), "error"));
  wait_label (GTK_WIDGET (prefs), "127.0.0.2:6881");
  wait_label (GTK_WIDGET (prefs), "[::1]:6881");
  g_free (json);
  json = read_profile_json (f);
  g_assert_nonnull (strstr (json, "127.0.0.2:6881"));
  g_assert_nonnull (strstr (json, "[::1]:6881"));
  /* The first row's Remove. */
  click (find_button_by_icon (pref (prefs, "bootstrap_group"), "user-trash-symbolic"));
  g_free (json);
  json = read_profile_json (f);
  g_assert_null (strstr (json, "127.0.0.2:6881"));
  g_assert_nonnull (strstr (json, "[::1]:6881"));

  /* Relays: checked as typed, the error in words; added ones are listed and
   * saved, removed ones go. */
  {
    GtkWidget *entry = pref (prefs, "relay_entry");
    GtkLabel *error_label = GTK_LABEL (pref (prefs, "relay_error_label"));
    g_autofree char *own = g_strdup_printf ("%s@127.0.0.3:7000", ep_node_get_key (f->node));

    g_assert_false (gtk_widget_get_visible (GTK_WIDGET (error_label)));
    gtk_editable_set_text (GTK_EDITABLE (entry), "not a relay");
    g_assert_true (gtk_widget_has_css_class (entry, "error"));
    g_assert_true (gtk_widget_get_visible (GTK_WIDGET (error_label)));
    g_assert_nonnull (strstr (gtk_label_get_text (error_label), "KEY@HOST:PORT"));
    gtk_editable_set_text (GTK_EDITABLE (entry), "abcd@127.0.0.3:7000");
    g_assert_nonnull (strstr (gtk_label_get_text (error_label), "it has 4"));
    gtk_editable_set_text (GTK_EDITABLE (entry), RELAY_KEY_A "@127.0.0.3");
    g_assert_nonnull (strstr (gtk_label_get_text (error_label), "HOST:PORT"));
    gtk_editable_set_text (GTK_EDITABLE (entry), own);
    g_assert_nonnull (strstr (gtk_label_get_text (error_label), "your own key"));
    g_signal_emit_by_name (entry, "apply");
    g_assert_null (ep_application_get_profile_settings (f->app)->relays);
    g_assert_true (gtk_widget_has_css_class (entry, "error"));

    gtk_editable_set_text (GTK_EDITABLE (entry), RELAY_KEY_A "@127.0.0.3:7000");
    g_assert_false (gtk_widget_has_css_class (entry, "error"));
    g_assert_false (gtk_widget_get_visible (GTK_WIDGET (error_label)));
    g_signal_emit_by_name (entry, "apply");
    gtk_editable_set_text (GTK_EDITABLE (entry), RELAY_KEY_B "@127.0.0.4:7001");
    g_signal_emit_by_name (entry, "apply");
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "");
    wait_label (GTK_WIDGET (prefs), "127.0.0.3:7000");
    wait_label (GTK_WIDGET (prefs), "127.0.0.4:7001");
    g_free (json);
    json = read_profile_json (f);
    g_assert_nonnull (strstr (json, RELAY_KEY_A "@127.0.0.3:7000"));
    g_assert_nonnull (strstr (json, RELAY_KEY_B "@127.0.0.4:7001"));
    /* The first row's Remove. */
    click (find_button_by_icon (pref (prefs, "relay_group"), "user-trash-symbolic"));
    g_free (json);
    json = read_profile_json (f);
    g_assert_null (strstr (json, RELAY_KEY_A));
    g_assert_nonnull (strstr (json, RELAY_KEY_B "@127.0.0.4:7001"));
  }

  /* Back to any port, so that the next start cannot collide. */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (pref (prefs, "port_spin")), 0);
  gtk_window_destroy (prefs);
}

static void
body_preferences_check (Fixture *f)
{
  GtkWindow *prefs;
  g_autoptr(GSettings) settings = g_settings_new (SCHEMA_ID);

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
  wait_label (GTK_WIDGET (prefs), "[::1]:6881");
  g_assert_cmpstr (ep_application_get_profile_settings (f->app)->bootstrap[0], ==, "[::1]:6881");
  g_assert_null (ep_application_get_profile_settings (f->app)->bootstrap[1]);
  /* The relay kept across the restart. */
  wait_label (GTK_WIDGET (prefs), "127.0.0.4:7001");
  g_assert_cmpstr (ep_application_get_profile_settings (f->app)->relays[0], ==,
                   RELAY_KEY_B "@127.0.0.4:7001");
  g_assert_null (ep_application_get_profile_settings (f->app)->relays[1]);
  g_assert_cmpstr (ep_node_get_settings (f->node)->relays[0], ==, RELAY_KEY_B "@127.0.0.4:7001");
  /* Reset: back to the public routers (no list in the profile). */
  click (pref (prefs, "bootstrap_reset_button"));
  g_assert_null (ep_application_get_profile_settings (f->app)->bootstrap);
  {
    g_autofree char *json = read_profile_json (f);

    g_assert_null (strstr (json, "[::1]:6881"));
  }
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

static gboolean
widget_visible (gpointer data)
{
  return gtk_widget_get_visible (data);
}

static gboolean
has_node (gpointer data)
{
  return ep_application_get_node (((Fixture *) data)->app) != NULL;
}

/* The unlock page: Argon2id runs in a worker while a spinner turns. */
static void
unlock_with (Fixture    *f,
             const char *passphrase,
             gboolean    right)
{
  GtkWidget *entry = child (f, "unlock_entry");
  GtkWidget *error_label = child (f, "unlock_error");

  g_assert_cmpstr (page_of (f, "stack"), ==, "unlock");
  gtk_widget_set_visible (error_label, FALSE);
  gtk_editable_set_text (GTK_EDITABLE (entry), passphrase);
  click (child (f, "unlock_button"));
  /* Not done right away: the window stays responsive meanwhile. */
  g_assert_null (ep_application_get_node (f->app));
  g_assert_false (gtk_widget_get_sensitive (child (f, "unlock_button")));
  g_assert_true (gtk_widget_get_visible (child (f, "unlock_spinner")));
  g_assert_false (gtk_editable_get_editable (GTK_EDITABLE (entry)));

  if (!right)
    {
      /* Said in words, the entry emptied, still locked. */
      g_assert_true (spin_until (widget_visible, error_label, 30));
      g_assert_null (ep_application_get_node (f->app));
      g_assert_true (g_error_matches (ep_application_get_node_error (f->app), EP_IDENTITY_ERROR,
                                      EP_IDENTITY_ERROR_WRONG_PASSPHRASE));
      g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (error_label)), ==,
                       ep_application_get_node_error (f->app)->message);
      g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "");
      g_assert_cmpstr (page_of (f, "stack"), ==, "unlock");
      g_assert_true (gtk_widget_get_sensitive (child (f, "unlock_button")));
      g_assert_false (gtk_widget_get_visible (child (f, "unlock_spinner")));
      return;
    }

  /* The right one opens the profile, named already. */
  g_assert_true (spin_until (has_node, f, 30));
  f->node = ep_application_get_node (f->app);
  g_assert_true (spin_until (node_started, f->node, 15));
  wait_page (f, "stack", "main");
  g_assert_cmpstr (ep_node_get_name (f->node), ==, "Alice");
}

static void
body_passphrase_unlock (Fixture *f)
{
  g_assert_null (f->node);
  g_assert_true (ep_application_needs_passphrase (f->app));
  g_assert_cmpstr (page_of (f, "stack"), ==, "unlock");
  g_assert_false (gtk_widget_get_visible (child (f, "unlock_error")));

  unlock_with (f, "wrong horse", FALSE);
  unlock_with (f, "correct horse", TRUE);
}

/* ---- changing and removing the passphrase in Preferences ------------------ */

static GtkWidget *
pass_child (GtkWindow  *window,
            const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (window), EP_TYPE_PASSPHRASE_WINDOW,
                                                   name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

static GtkWindow *
open_passphrase_window (Fixture *f)
{
  GtkWindow *prefs = open_preferences (f);
  GtkWindow *window;

  g_signal_emit_by_name (pref (prefs, "passphrase_row"), "activated");
  window = find_toplevel (EP_TYPE_PASSPHRASE_WINDOW);
  g_assert_nonnull (window);
  g_assert_true (gtk_window_get_transient_for (window) == prefs);
  return window;
}

static gboolean
not_busy (gpointer data)
{
  return !ep_passphrase_window_is_busy (data);
}

static gboolean
no_passphrase_window (gpointer data)
{
  return find_toplevel (EP_TYPE_PASSPHRASE_WINDOW) == NULL;
}

/* Fills the rows and saves; returns the error shown, or NULL once it closed. */
static const char *
try_passphrase (GtkWindow  *window,
                const char *current,
                const char *new_passphrase,
                const char *confirm)
{
  GtkWidget *error_label = pass_child (window, "error_label");

  gtk_widget_set_visible (error_label, FALSE);
  if (current != NULL)
    gtk_editable_set_text (GTK_EDITABLE (pass_child (window, "current_row")), current);
  gtk_editable_set_text (GTK_EDITABLE (pass_child (window, "new_row")), new_passphrase);
  gtk_editable_set_text (GTK_EDITABLE (pass_child (window, "confirm_row")), confirm);
  g_object_ref (window);
  click (pass_child (window, "save_button"));
  if (ep_passphrase_window_is_busy (EP_PASSPHRASE_WINDOW (window)))
    {
      /* Argon2id in a worker: spinner on, no input, no closing. */
      g_assert_true (gtk_widget_get_visible (pass_child (window, "spinner")));
      g_assert_false (gtk_widget_get_sensitive (pass_child (window, "save_button")));
      gtk_window_close (window);
      g_assert_true (spin_until (not_busy, window, 30));
    }
  if (!gtk_widget_get_visible (error_label))
    {
      g_assert_true (spin_until (no_passphrase_window, NULL, 5));
      g_object_unref (window);
      return NULL;
    }
  g_object_unref (window);
  return gtk_label_get_text (GTK_LABEL (error_label));
}

static void
body_passphrase_change (Fixture *f)
{
  GtkWindow *window;
  g_autofree char *key_path = g_build_filename (f->profile, "identity.key", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  unlock_with (f, "correct horse", TRUE);
  window = open_passphrase_window (f);
  g_assert_true (gtk_widget_get_visible (pass_child (window, "current_row")));
  g_assert_true (gtk_widget_get_visible (pass_child (window, "remove_button")));
  g_assert_true (g_file_get_contents (key_path, &before, NULL, NULL));

  /* Mismatch and wrong current passphrase: said in words, nothing changed. */
  g_assert_cmpstr (try_passphrase (window, "correct horse", "battery staple", "battery stapel"),
                   ==, "The new passphrases do not match");
  g_assert_cmpstr (try_passphrase (window, "", "battery staple", "battery staple"),
                   ==, "Type your current passphrase first");
  g_assert_cmpstr (try_passphrase (window, "wrong horse", "battery staple", "battery staple"),
                   ==, "The current passphrase is wrong");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (pass_child (window, "current_row"))),
                   ==, "");
  g_assert_cmpstr (try_passphrase (window, "correct horse", "", ""),
                   ==, "Type a new passphrase, or remove the passphrase below");
  g_assert_true (g_file_get_contents (key_path, &after, NULL, NULL));
  g_assert_cmpstr (before, ==, after);

  /* The right one: the window closes, Preferences says so. */
  g_assert_null (try_passphrase (window, "correct horse", "battery staple", "battery staple"));
  wait_label (GTK_WIDGET (find_toplevel (EP_TYPE_PREFERENCES_WINDOW)), "Passphrase changed");
  g_clear_pointer (&after, g_free);
  g_assert_true (g_file_get_contents (key_path, &after, NULL, NULL));
  g_assert_cmpstr (before, !=, after);
  g_assert_nonnull (strstr (after, "[Passphrase]"));
  gtk_window_destroy (find_toplevel (EP_TYPE_PREFERENCES_WINDOW));
}

static void
body_passphrase_remove (Fixture *f)
{
  GtkWindow *window;
  g_autofree char *key_path = g_build_filename (f->profile, "identity.key", NULL);
  g_autofree char *key_file = NULL;

  /* Restarted: the old passphrase fails, the new one opens it. */
  unlock_with (f, "correct horse", FALSE);
  unlock_with (f, "battery staple", TRUE);

  window = open_passphrase_window (f);
  gtk_editable_set_text (GTK_EDITABLE (pass_child (window, "current_row")), "correct horse");
  click (pass_child (window, "remove_button"));
  g_assert_true (spin_until (not_busy, window, 30));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (pass_child (window, "error_label"))), ==,
                   "The current passphrase is wrong");
  gtk_editable_set_text (GTK_EDITABLE (pass_child (window, "current_row")), "battery staple");
  click (pass_child (window, "remove_button"));
  g_assert_true (spin_until (no_passphrase_window, NULL, 30));
  wait_label (GTK_WIDGET (find_toplevel (EP_TYPE_PREFERENCES_WINDOW)), "Passphrase removed");
  g_assert_true (g_file_get_contents (key_path, &key_file, NULL, NULL));
  g_assert_null (strstr (key_file, "[Passphrase]"));

  /* Without one now: the dialog offers to set one, without a current row. */
  window = open_passphrase_window (f);
  g_assert_false (gtk_widget_get_visible (pass_child (window, "current_row")));
  g_assert_false (gtk_widget_get_visible (pass_child (window, "remove_button")));
  gtk_window_destroy (window);
  gtk_window_destroy (find_toplevel (EP_TYPE_PREFERENCES_WINDOW));
}

static void
body_passphrase_none (Fixture *f)
{
  /* Opens without asking. */
  g_assert_nonnull (f->node);
  g_assert_false (ep_application_needs_passphrase (f->app));
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
  run_app_full (body_passphrase_change, NULL, tmp);
  run_app_full (body_passphrase_remove, NULL, tmp);
  run_app_full (body_passphrase_none, NULL, tmp);
  rm_rf (tmp);
}

int
main (int    argc,
      char **argv)
{
  gtk_disable_setlocale ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/window/broken-profile", test_window_broken_profile);
  g_test_add_func ("/ep/window/add-contact", test_window_add_contact);
  g_test_add_func ("/ep/window/preferences", test_window_preferences);
  g_test_add_func ("/ep/window/passphrase", test_window_passphrase);

  return run_window_tests ();
}
