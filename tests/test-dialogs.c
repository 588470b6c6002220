/* test-dialogs.c — the dialogs no other test opens
 *
 * test-window opens Add Contact, My ID (its copy and change buttons),
 * contact details, preferences, onboarding, unlock and the error page of
 * a profile that cannot be opened. Here: About, the keyboard shortcuts,
 * My ID's QR code (and that what it encodes pastes into Add Contact), and
 * the error page of a node that cannot go online.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "ep-qr-code.h"
#include "window-test-util.h"

/* ---- About -------------------------------------------------------------- */

static void
body_about (Fixture *f)
{
  AdwAboutWindow *about;

  g_assert_null (find_toplevel (ADW_TYPE_ABOUT_WINDOW));
  g_action_group_activate_action (G_ACTION_GROUP (f->app), "about", NULL);
  about = ADW_ABOUT_WINDOW (find_toplevel (ADW_TYPE_ABOUT_WINDOW));
  g_assert_nonnull (about);
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (about)) == GTK_WINDOW (f->window));
  g_assert_cmpstr (adw_about_window_get_application_name (about), ==, "EncryptedP2P");
  g_assert_cmpstr (adw_about_window_get_version (about), ==, PACKAGE_VERSION);
  g_assert_cmpint (adw_about_window_get_license_type (about), ==, GTK_LICENSE_GPL_3_0);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (about)));
  wait_label (GTK_WIDGET (about), PACKAGE_VERSION);
  gtk_window_destroy (GTK_WINDOW (about));

  /* The status pages' icon comes from the symbolic PNGs in the resource,
   * at both scales (no SVG loader needed for it). */
  {
    GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (f->window));
    GtkIconTheme *theme = gtk_icon_theme_get_for_display (display);

    g_assert_true (gtk_icon_theme_has_icon (theme, "encryptedp2p-status-symbolic"));
    for (int scale = 1; scale <= 2; scale++)
      {
        g_autoptr(GtkIconPaintable) icon =
          gtk_icon_theme_lookup_icon (theme, "encryptedp2p-status-symbolic", NULL, 128, scale,
                                      GTK_TEXT_DIR_NONE, 0);
        g_autoptr(GFile) file = gtk_icon_paintable_get_file (icon);
        g_autofree char *uri = g_file_get_uri (file);
        g_autofree char *want = g_strconcat (scale == 1 ? "/128x128/apps/" : "/128x128@2/apps/",
                                             "encryptedp2p-status-symbolic.symbolic.png", NULL);

        g_assert_true (gtk_icon_paintable_is_symbolic (icon));
        g_assert_true (g_str_has_suffix (uri, want));
      }
  }
}

static void
test_dialogs_about (void)
{
  run_app (body_about);
}

/* ---- keyboard shortcuts ------------------------------------------------- */

static void
body_shortcuts (Fixture *f)
{
  GtkWindow *shortcuts;

  onboard (f, "Alice");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-help-overlay",
                                             NULL));
  shortcuts = find_toplevel (GTK_TYPE_SHORTCUTS_WINDOW);
  g_assert_nonnull (shortcuts);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (shortcuts)));
  wait_label (GTK_WIDGET (shortcuts), "Show Shortcuts");
  wait_label (GTK_WIDGET (shortcuts), "Add Contact");
  gtk_window_close (shortcuts);
}

static void
test_dialogs_shortcuts (void)
{
  run_app (body_shortcuts);
}

/* ---- My ID's QR code, and Add Contact taking what a scanner reads --------- */

static gboolean
qr_drawn (gpointer data)
{
  return gtk_widget_get_mapped (data) && ep_qr_code_get_module_size (data) > 0;
}

static void
body_my_id_qr (Fixture *f)
{
  GtkWindow *dialog;
  EpQrCode *qr;
  g_autofree char *upper = NULL;
  g_autofree char *peer_upper = NULL;
  GtkWidget *id_entry, *id_error, *send_button;

  onboard (f, "Alice");
  upper = g_ascii_strup (ep_identity_get_contact_id (ep_node_get_identity (f->node)), -1);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.my-id", NULL));
  dialog = find_toplevel (EP_TYPE_MY_ID_WINDOW);
  g_assert_nonnull (dialog);
  qr = EP_QR_CODE (gtk_widget_get_template_child (GTK_WIDGET (dialog), EP_TYPE_MY_ID_WINDOW,
                                                  "qr_code"));
  g_assert_true (spin_until (qr_drawn, qr, 15));
  /* It opens on the Copy button, not with the whole ID selected. */
  g_assert_true ((GObject *) gtk_window_get_focus (dialog)
                 == gtk_widget_get_template_child (GTK_WIDGET (dialog), EP_TYPE_MY_ID_WINDOW,
                                                   "copy_button"));
  g_assert_false (gtk_label_get_selection_bounds (
                    GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                              EP_TYPE_MY_ID_WINDOW, "id_label")),
                    NULL, NULL));
  g_assert_cmpstr (ep_qr_code_get_text (qr), ==, upper);
  g_assert_cmpint (ep_qr_code_get_version (qr), ==, 3);
  /* Big enough for a phone across a desk: at least 4 pixels a module. */
  g_assert_cmpint (ep_qr_code_get_module_size (qr), >=, 4);
  g_assert_cmpint (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (qr)), ==,
                   GTK_ACCESSIBLE_ROLE_IMG);
  gtk_test_accessible_assert_property (qr, GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "QR code of your contact ID");

  /* A new ID: the code follows. */
  click (GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog), EP_TYPE_MY_ID_WINDOW,
                                                    "change_button")));
  {
    GtkWindow *confirm = find_toplevel (ADW_TYPE_MESSAGE_DIALOG);

    g_assert_nonnull (confirm);
    adw_message_dialog_response (ADW_MESSAGE_DIALOG (confirm), "change");
    gtk_window_destroy (confirm);
  }
  g_free (upper);
  upper = g_ascii_strup (ep_identity_get_contact_id (ep_node_get_identity (f->node)), -1);
  g_assert_cmpstr (ep_qr_code_get_text (qr), ==, upper);
  gtk_window_destroy (dialog);

  /* What a scanner reads from the peer's code is accepted as it is. */
  peer_upper = g_ascii_strup (ep_identity_get_contact_id (ep_node_get_identity (f->peer.node)), -1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.add-contact", NULL));
  dialog = find_toplevel (EP_TYPE_ADD_CONTACT_WINDOW);
  g_assert_nonnull (dialog);
  id_entry = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                        EP_TYPE_ADD_CONTACT_WINDOW, "id_entry"));
  id_error = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                        EP_TYPE_ADD_CONTACT_WINDOW, "id_error"));
  send_button = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                           EP_TYPE_ADD_CONTACT_WINDOW,
                                                           "send_button"));
  gtk_editable_set_text (GTK_EDITABLE (id_entry), peer_upper);
  g_assert_false (gtk_widget_get_visible (id_error));
  g_assert_true (gtk_widget_get_sensitive (send_button));
  click (send_button);
  g_assert_null (find_toplevel (EP_TYPE_ADD_CONTACT_WINDOW));
  g_assert_nonnull (ep_contact_list_lookup (ep_node_get_contacts (f->node), f->peer.hex));
}

static void
test_dialogs_my_id_qr (void)
{
  run_app (body_my_id_qr);
}

/* ---- the node cannot go online: its port is taken ------------------------ */

static void
body_cannot_go_online (Fixture *f)
{
  AdwStatusPage *page;

  g_assert_nonnull (f->node);
  wait_page (f, "stack", "error");
  g_assert_false (ep_node_is_started (f->node));
  page = ADW_STATUS_PAGE (child (f, "error_page"));
  g_assert_cmpstr (adw_status_page_get_title (page), ==, "Cannot Go Online");
  g_assert_cmpuint (strlen (adw_status_page_get_description (page)), >, 0);
  /* Nothing that needs the network is offered. */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.add-contact", NULL);
  g_assert_null (find_toplevel (EP_TYPE_ADD_CONTACT_WINDOW));
}

static void
test_dialogs_cannot_go_online (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                            G_SOCKET_PROTOCOL_UDP, &error);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *json = NULL;

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, any_port, FALSE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  json = g_strdup_printf ("{ \"name\": \"Alice\", \"settings\": { \"port\": %u } }",
                          g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  run_app_full (body_cannot_go_online, json, NULL);
  g_socket_close (socket, NULL);
}

int
main (int    argc,
      char **argv)
{
  gtk_disable_setlocale ();
  /* An accessibility context that records, without the a11y bus. */
  g_setenv ("GTK_A11Y", "test", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/dialogs/about", test_dialogs_about);
  g_test_add_func ("/ep/dialogs/shortcuts", test_dialogs_shortcuts);
  g_test_add_func ("/ep/dialogs/my-id-qr", test_dialogs_my_id_qr);
  g_test_add_func ("/ep/dialogs/cannot-go-online", test_dialogs_cannot_go_online);

  return run_window_tests ();
}
