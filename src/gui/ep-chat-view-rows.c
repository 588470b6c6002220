/* ep-chat-view-rows.c — the rows of a conversation: day headings, bubbles, links
 *
 * Message text is selectable and its web and mail links go to the view's
 * ::open-link. A label is selectable only while its row is bound, and a
 * focused one gives the focus up when its row leaves the view: GTK 4.8
 * otherwise keeps a dangling focus widget when a row with a selectable
 * label is recycled (a critical in gtk_widget_is_ancestor(), or a crash).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "ep-chat-view-private.h"
#include "ep-message-text.h"

static const char *
status_text (EpMessageStatus status)
{
  switch (status)
    {
    case EP_MESSAGE_STATUS_QUEUED:
      return _("Waiting to send");
    case EP_MESSAGE_STATUS_SENT:
      return _("Sent");
    case EP_MESSAGE_STATUS_DELIVERED:
      return _("Delivered");
    case EP_MESSAGE_STATUS_FAILED:
      return _("Not sent");
    default:
      return "";
    }
}

static char *
format_day (GDateTime *time)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  int days = g_date_time_get_day_of_year (now) - g_date_time_get_day_of_year (time);

  if (g_date_time_get_year (now) == g_date_time_get_year (time))
    {
      if (days == 0)
        return g_strdup (_("Today"));
      if (days == 1)
        return g_strdup (_("Yesterday"));
      /* Translators: a day heading in a chat, see g_date_time_format() */
      return g_date_time_format (time, _("%A, %e %B"));
    }
  /* Translators: a day heading in a chat, see g_date_time_format() */
  return g_date_time_format (time, _("%e %B %Y"));
}

static GDateTime *
message_local_time (EpMessage *message)
{
  g_autoptr(GDateTime) utc = ep_message_dup_sender_datetime (message);

  return utc != NULL ? g_date_time_to_local (utc) : g_date_time_new_now_local ();
}

static void
update_meta (EpMessage *message,
             GParamSpec *pspec,
             GtkLabel  *meta)
{
  g_autoptr(GDateTime) time = message_local_time (message);
  g_autofree char *clock = g_date_time_format (time, "%H:%M");

  if (ep_message_get_outgoing (message))
    {
      g_autofree char *text = g_strdup_printf ("%s · %s", clock,
                                               status_text (ep_message_get_status (message)));
      gtk_label_set_text (meta, text);
    }
  else
    gtk_label_set_text (meta, clock);
}

/* Copy Text: the whole text as it came, not as it is shown. */
static GMenuModel *
message_menu_new (EpMessage *message)
{
  GMenu *menu = g_menu_new ();
  g_autoptr(GMenuItem) copy = g_menu_item_new (_("_Copy Text"), NULL);

  g_menu_item_set_action_and_target_value (copy, "message.copy",
                                           g_variant_new_string (ep_message_get_text (message)));
  g_menu_append_item (menu, copy);
  return G_MENU_MODEL (menu);
}

/* The menu of one message, pointing at where it was asked for (on the
 * bubble; on the text itself, the label's own menu has it too). */
static void
show_message_menu (GtkWidget *label,
                   double     x,
                   double     y)
{
  EpChatView *self = EP_CHAT_VIEW (gtk_widget_get_ancestor (label, EP_TYPE_CHAT_VIEW));
  g_autoptr(GMenuModel) menu = NULL;
  GtkWidget *bubble = gtk_widget_get_parent (label);
  EpMessage *message = g_object_get_data (G_OBJECT (label), "message");
  double vx, vy;

  if (self == NULL || message == NULL)
    return;
  menu = message_menu_new (message);
  gtk_popover_menu_set_menu_model (GTK_POPOVER_MENU (self->message_menu), menu);
  if (!gtk_widget_translate_coordinates (bubble, GTK_WIDGET (self), x, y, &vx, &vy))
    return;
  gtk_popover_set_pointing_to (GTK_POPOVER (self->message_menu),
                               &(GdkRectangle) { (int) vx, (int) vy, 1, 1 });
  gtk_popover_popup (GTK_POPOVER (self->message_menu));
}

static void
on_message_pressed (GtkGestureClick *gesture,
                    int              n_press,
                    double           x,
                    double           y,
                    GtkWidget       *label)
{
  show_message_menu (label, x, y);
}

static void
on_message_long_pressed (GtkGestureLongPress *gesture,
                         double               x,
                         double               y,
                         GtkWidget           *label)
{
  show_message_menu (label, x, y);
}

/* A link in a message was clicked (or activated with the keyboard). Only
 * our schemes go on; every other one is swallowed here. */
static gboolean
on_activate_link (GtkLabel   *label,
                  const char *uri,
                  gpointer    user_data)
{
  EpChatView *self = EP_CHAT_VIEW (gtk_widget_get_ancestor (GTK_WIDGET (label), EP_TYPE_CHAT_VIEW));

  if (self != NULL && ep_message_text_is_link (uri))
    g_signal_emit_by_name (self, "open-link", uri);
  return TRUE;
}

/* A focused label whose row leaves the view gives the focus up first: GTK
 * 4.8 keeps pointing at a focus widget that was unparented, and the next
 * focus change reads it after it is gone (a critical in
 * gtk_widget_is_ancestor(), or worse). */
static void
on_text_unmap (GtkWidget *label,
               gpointer   user_data)
{
  GtkRoot *root = gtk_widget_get_root (label);
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

  if (focus != NULL && (focus == label || gtk_widget_is_ancestor (focus, label)))
    gtk_root_set_focus (root, NULL);
}

static void
setup_message (GtkSignalListItemFactory *factory,
               GtkListItem              *item,
               EpChatView               *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *day = gtk_label_new (NULL);
  GtkWidget *bubble = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *text = gtk_label_new (NULL);
  GtkWidget *meta = gtk_label_new (NULL);
  GtkGesture *gesture;
  GtkGesture *long_press;

  gtk_widget_add_css_class (day, "day-separator");
  gtk_widget_add_css_class (day, "dim-label");
  gtk_widget_add_css_class (day, "caption-heading");
  gtk_widget_set_margin_top (day, 6);

  gtk_widget_add_css_class (bubble, "message-bubble");
  gtk_label_set_wrap (GTK_LABEL (text), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (text), PANGO_WRAP_WORD_CHAR);
  /* Selectable only while bound: see the top of the file. */
  gtk_label_set_xalign (GTK_LABEL (text), 0);
  g_signal_connect (text, "activate-link", G_CALLBACK (on_activate_link), NULL);
  g_signal_connect (text, "unmap", G_CALLBACK (on_text_unmap), NULL);
  gtk_label_set_max_width_chars (GTK_LABEL (text), 60);
  gtk_widget_add_css_class (meta, "caption");
  gtk_widget_add_css_class (meta, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (meta), 1);

  gtk_box_append (GTK_BOX (bubble), text);
  gtk_box_append (GTK_BOX (bubble), meta);
  gtk_box_append (GTK_BOX (box), day);
  gtk_box_append (GTK_BOX (box), bubble);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 3);
  gtk_widget_set_margin_bottom (box, 3);

  gesture = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_SECONDARY);
  g_signal_connect (gesture, "pressed", G_CALLBACK (on_message_pressed), text);
  gtk_widget_add_controller (bubble, GTK_EVENT_CONTROLLER (gesture));
  long_press = gtk_gesture_long_press_new ();
  g_signal_connect (long_press, "pressed", G_CALLBACK (on_message_long_pressed), text);
  gtk_widget_add_controller (bubble, GTK_EVENT_CONTROLLER (long_press));

  g_object_set_data (G_OBJECT (item), "day", day);
  g_object_set_data (G_OBJECT (item), "bubble", bubble);
  g_object_set_data (G_OBJECT (item), "text", text);
  g_object_set_data (G_OBJECT (item), "meta", meta);
  gtk_list_item_set_child (item, box);
  gtk_list_item_set_activatable (item, FALSE);
  gtk_list_item_set_selectable (item, FALSE);
}

/* A day heading above the first message of each day. */
static gboolean
starts_day (EpChatView *self,
            guint       position,
            EpMessage  *message)
{
  g_autoptr(EpMessage) previous = NULL;
  g_autoptr(GDateTime) a = NULL;
  g_autoptr(GDateTime) b = NULL;

  if (position == 0)
    return TRUE;
  previous = g_list_model_get_item (G_LIST_MODEL (self->conversation), position - 1);
  if (previous == NULL)
    return TRUE;
  a = message_local_time (previous);
  b = message_local_time (message);
  return g_date_time_get_year (a) != g_date_time_get_year (b)
         || g_date_time_get_day_of_year (a) != g_date_time_get_day_of_year (b);
}

static void
bind_message (GtkSignalListItemFactory *factory,
              GtkListItem              *item,
              EpChatView               *self)
{
  EpMessage *message = gtk_list_item_get_item (item);
  GtkWidget *day = g_object_get_data (G_OBJECT (item), "day");
  GtkWidget *bubble = g_object_get_data (G_OBJECT (item), "bubble");
  GtkLabel *text = g_object_get_data (G_OBJECT (item), "text");
  GtkLabel *meta = g_object_get_data (G_OBJECT (item), "meta");
  gboolean outgoing = ep_message_get_outgoing (message);
  g_autofree char *markup = NULL;
  guint n_links = 0;

  markup = ep_message_text_to_markup (ep_message_get_text (message), &n_links);
  gtk_label_set_markup (text, markup);
  gtk_label_set_selectable (text, TRUE);
  /* A right click on selectable text opens the label's menu (Copy, Select
   * All), not the bubble's: Copy Text goes into it. */
  {
    g_autoptr(GMenuModel) extra = message_menu_new (message);

    gtk_label_set_extra_menu (text, extra);
  }
  g_object_set_data_full (G_OBJECT (text), "message", g_object_ref (message), g_object_unref);
  g_object_set_data (G_OBJECT (text), "n-links", GUINT_TO_POINTER (n_links));
  gtk_widget_set_halign (bubble, outgoing ? GTK_ALIGN_END : GTK_ALIGN_START);
  gtk_widget_set_halign (day, GTK_ALIGN_CENTER);
  if (outgoing)
    {
      gtk_widget_add_css_class (bubble, "own");
      gtk_widget_remove_css_class (bubble, "theirs");
    }
  else
    {
      gtk_widget_add_css_class (bubble, "theirs");
      gtk_widget_remove_css_class (bubble, "own");
    }

  if (starts_day (self, gtk_list_item_get_position (item), message))
    {
      g_autoptr(GDateTime) time = message_local_time (message);
      g_autofree char *heading = format_day (time);

      gtk_label_set_text (GTK_LABEL (day), heading);
      gtk_widget_set_visible (day, TRUE);
    }
  else
    gtk_widget_set_visible (day, FALSE);

  update_meta (message, NULL, meta);
  g_signal_connect (message, "notify::status", G_CALLBACK (update_meta), meta);
}

static void
unbind_message (GtkSignalListItemFactory *factory,
                GtkListItem              *item,
                EpChatView               *self)
{
  EpMessage *message = gtk_list_item_get_item (item);
  GtkLabel *meta = g_object_get_data (G_OBJECT (item), "meta");
  GtkLabel *text = g_object_get_data (G_OBJECT (item), "text");

  if (message != NULL)
    g_signal_handlers_disconnect_by_func (message, update_meta, meta);

  /* A row that goes back to the pool keeps no selection (nor the focus:
   * on_text_unmap()). */
  gtk_label_select_region (text, 0, 0);
  gtk_label_set_selectable (text, FALSE);
  gtk_label_set_extra_menu (text, NULL);
  g_object_set_data (G_OBJECT (text), "message", NULL);
}

/**
 * ep_chat_view_rows_factory_new:
 * @self: the chat view whose list the rows are for
 *
 * Returns: (transfer full): the factory of the message rows
 */
GtkListItemFactory *
ep_chat_view_rows_factory_new (EpChatView *self)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();

  g_signal_connect (factory, "setup", G_CALLBACK (setup_message), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_message), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_message), self);
  return factory;
}
