/* ep-contact-row.c — the rows of the contact list
 *
 * Avatar with initials, name, time of the last message, presence dot, last
 * message preview (or the state of a request), unread badge; each row
 * follows its contact's notifications while bound.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "ep-contact-row.h"

/**
 * ep_contact_row_display_name:
 * @contact: an #EpContact
 *
 * Returns: its name, or words for a contact without one
 */
const char *
ep_contact_row_display_name (EpContact *contact)
{
  const char *name = ep_contact_get_name (contact);

  return name != NULL && *name != '\0' ? name : _("Unnamed contact");
}


static char *
format_time (GDateTime *time)
{
  g_autoptr(GDateTime) local = g_date_time_to_local (time);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  if (g_date_time_get_year (local) == g_date_time_get_year (now)
      && g_date_time_get_day_of_year (local) == g_date_time_get_day_of_year (now))
    return g_date_time_format (local, "%H:%M");
  /* Translators: the date of a contact's last message, see g_date_time_format() */
  return g_date_time_format (local, _("%e %b"));
}

static void
update_row (EpContact   *contact,
            GParamSpec  *pspec,
            GtkListItem *item)
{
  AdwAvatar *avatar = g_object_get_data (G_OBJECT (item), "avatar");
  GtkLabel *name = g_object_get_data (G_OBJECT (item), "name");
  GtkLabel *time = g_object_get_data (G_OBJECT (item), "time");
  GtkLabel *preview = g_object_get_data (G_OBJECT (item), "preview");
  GtkLabel *badge = g_object_get_data (G_OBJECT (item), "badge");
  GtkWidget *dot = g_object_get_data (G_OBJECT (item), "presence");
  gboolean online = ep_contact_get_presence (contact) == EP_CONTACT_PRESENCE_ONLINE;
  GDateTime *last = ep_contact_get_last_message_time (contact);
  guint unread = ep_contact_get_unread_count (contact);
  const char *text;

  adw_avatar_set_text (avatar, ep_contact_row_display_name (contact));
  gtk_label_set_text (name, ep_contact_row_display_name (contact));

  if (last != NULL)
    {
      g_autofree char *when = format_time (last);
      gtk_label_set_text (time, when);
    }
  else
    gtk_label_set_text (time, "");

  switch (ep_contact_get_request_state (contact))
    {
    case EP_CONTACT_REQUEST_INCOMING_PENDING:
      text = _("Wants to be your contact");
      break;
    case EP_CONTACT_REQUEST_OUTGOING_PENDING:
      text = _("Request sent");
      break;
    case EP_CONTACT_REQUEST_BLOCKED:
      text = _("Blocked");
      break;
    case EP_CONTACT_REQUEST_DECLINED:
      text = _("Declined");
      break;
    case EP_CONTACT_REQUEST_ACCEPTED:
    case EP_CONTACT_REQUEST_NONE:
    default:
      text = ep_contact_get_last_message_preview (contact);
      break;
    }
  gtk_label_set_text (preview, text != NULL ? text : "");

  if (online)
    gtk_widget_add_css_class (dot, "online");
  else
    gtk_widget_remove_css_class (dot, "online");
  gtk_widget_set_tooltip_text (dot, online ? _("Online") : _("Offline"));

  if (unread > 0)
    {
      g_autofree char *count = g_strdup_printf ("%u", unread);
      gtk_label_set_text (badge, count);
    }
  gtk_widget_set_visible (GTK_WIDGET (badge), unread > 0);
}

static void
setup_contact (GtkSignalListItemFactory *factory,
               GtkListItem              *item,
               gpointer                  user_data)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *avatar = adw_avatar_new (40, NULL, TRUE);
  GtkWidget *texts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 3);
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *bottom = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *name = gtk_label_new (NULL);
  GtkWidget *time = gtk_label_new (NULL);
  GtkWidget *dot = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkWidget *preview = gtk_label_new (NULL);
  GtkWidget *badge = gtk_label_new (NULL);

  gtk_widget_set_margin_top (row, 6);
  gtk_widget_set_margin_bottom (row, 6);
  gtk_widget_set_hexpand (texts, TRUE);
  gtk_widget_set_valign (texts, GTK_ALIGN_CENTER);

  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (name, TRUE);
  gtk_widget_add_css_class (name, "heading");
  gtk_widget_add_css_class (time, "caption");
  gtk_widget_add_css_class (time, "dim-label");

  gtk_widget_add_css_class (dot, "presence-dot");
  gtk_widget_set_valign (dot, GTK_ALIGN_CENTER);
  gtk_label_set_xalign (GTK_LABEL (preview), 0);
  gtk_label_set_ellipsize (GTK_LABEL (preview), PANGO_ELLIPSIZE_END);
  gtk_label_set_single_line_mode (GTK_LABEL (preview), TRUE);
  gtk_widget_set_hexpand (preview, TRUE);
  gtk_widget_add_css_class (preview, "dim-label");
  gtk_widget_add_css_class (badge, "unread-badge");
  gtk_widget_set_valign (badge, GTK_ALIGN_CENTER);

  gtk_box_append (GTK_BOX (top), name);
  gtk_box_append (GTK_BOX (top), time);
  gtk_box_append (GTK_BOX (bottom), dot);
  gtk_box_append (GTK_BOX (bottom), preview);
  gtk_box_append (GTK_BOX (bottom), badge);
  gtk_box_append (GTK_BOX (texts), top);
  gtk_box_append (GTK_BOX (texts), bottom);
  gtk_box_append (GTK_BOX (row), avatar);
  gtk_box_append (GTK_BOX (row), texts);

  g_object_set_data (G_OBJECT (item), "avatar", avatar);
  g_object_set_data (G_OBJECT (item), "name", name);
  g_object_set_data (G_OBJECT (item), "time", time);
  g_object_set_data (G_OBJECT (item), "presence", dot);
  g_object_set_data (G_OBJECT (item), "preview", preview);
  g_object_set_data (G_OBJECT (item), "badge", badge);
  gtk_list_item_set_child (item, row);
}

static void
bind_contact (GtkSignalListItemFactory *factory,
              GtkListItem              *item,
              gpointer                  user_data)
{
  EpContact *contact = gtk_list_item_get_item (item);

  update_row (contact, NULL, item);
  g_signal_connect (contact, "notify", G_CALLBACK (update_row), item);
}

static void
unbind_contact (GtkSignalListItemFactory *factory,
                GtkListItem              *item,
                gpointer                  user_data)
{
  EpContact *contact = gtk_list_item_get_item (item);

  if (contact != NULL)
    g_signal_handlers_disconnect_by_func (contact, update_row, item);
}

/**
 * ep_contact_row_factory_new:
 *
 * Returns: (transfer full): a factory for a #GtkListView over #EpContact items
 */
GtkListItemFactory *
ep_contact_row_factory_new (void)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();

  g_signal_connect (factory, "setup", G_CALLBACK (setup_contact), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_contact), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_contact), NULL);
  return factory;
}
