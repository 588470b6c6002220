/* ep-chat-view.c — one contact's conversation and the composer
 *
 * The view binds a GtkListView to the EpConversation the node opens for the
 * contact; the conversation follows the store (new messages, delivery
 * states), and the view follows the conversation: it sticks to the bottom
 * while the user is there and loads older pages at the top.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "ep-chat-view.h"
#include "ep-window.h"

struct _EpChatView
{
  GtkWidget        parent_instance;

  EpNode          *node;
  EpContact       *contact;
  EpConversation  *conversation;
  GCancellable    *cancellable;      /* the open conversation's operations */
  GtkNoSelection  *selection;
  GtkWidget       *message_menu;     /* a popover menu for one message */

  gboolean         stick_to_bottom;  /* go to the bottom on the next growth */
  double           last_upper;
  guint            scroll_idle_id;
  gboolean         older_loaded;     /* the rows above came in; restore once more */
  enum { SCROLL_NONE, SCROLL_BOTTOM, SCROLL_RESTORE } pending_scroll;
  double           restore_distance; /* from the bottom, while older ones load; < 0: none */

  /* Template widgets */
  GtkStack        *stack;
  GtkScrolledWindow *scrolled;
  GtkListView     *message_view;
  GtkLabel        *reason_label;
  AdwStatusPage   *empty_page;
  GtkWidget       *composer_box;
  GtkTextView     *composer;
  GtkWidget       *send_button;
};

G_DEFINE_FINAL_TYPE (EpChatView, ep_chat_view, GTK_TYPE_WIDGET)

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

/* The menu of one message: Copy Text, pointing at where it was asked for. */
static void
show_message_menu (GtkWidget *label,
                   double     x,
                   double     y)
{
  EpChatView *self = EP_CHAT_VIEW (gtk_widget_get_ancestor (label, EP_TYPE_CHAT_VIEW));
  g_autoptr(GMenu) menu = g_menu_new ();
  g_autoptr(GMenuItem) copy = g_menu_item_new (_("_Copy Text"), NULL);
  GtkWidget *bubble = gtk_widget_get_parent (label);
  double vx, vy;

  if (self == NULL)
    return;
  g_menu_item_set_action_and_target_value (copy, "message.copy",
                                           g_variant_new_string (gtk_label_get_text (GTK_LABEL (label))));
  g_menu_append_item (menu, copy);
  gtk_popover_menu_set_menu_model (GTK_POPOVER_MENU (self->message_menu), G_MENU_MODEL (menu));
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

static void
on_copy_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  GtkWidget *window = gtk_widget_get_ancestor (widget, EP_TYPE_WINDOW);

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), g_variant_get_string (parameter, NULL));
  if (window != NULL)
    ep_window_add_toast (EP_WINDOW (window), _("Message copied"));
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
  /* Not selectable: with GTK 4.8, selectable labels in the rows of a list
   * view that is recycling rows as messages arrive end in a critical in
   * gtk_widget_is_ancestor() (about one run in four of test-window). */
  gtk_label_set_xalign (GTK_LABEL (text), 0);
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

  gtk_label_set_text (text, ep_message_get_text (message));
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

  if (message != NULL)
    g_signal_handlers_disconnect_by_func (message, update_meta, meta);
}

static void
update_empty (EpChatView *self)
{
  gboolean empty = self->conversation != NULL
                   && g_list_model_get_n_items (G_LIST_MODEL (self->conversation)) == 0
                   && !ep_conversation_get_has_older (self->conversation);

  /* Set when first shown: loading it with the window would load the SVG
   * loader too. */
  if (empty)
    adw_status_page_set_icon_name (self->empty_page, "mail-unread-symbolic");
  gtk_stack_set_visible_child_name (self->stack, empty ? "empty" : "messages");
}

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  EpChatView *self)
{
  update_empty (self);
}

static void
update_composer (EpChatView *self)
{
  EpContactRequestState state;
  const char *name;
  g_autofree char *reason = NULL;

  if (self->contact == NULL)
    return;

  state = ep_contact_get_request_state (self->contact);
  name = ep_contact_get_name (self->contact);
  if (name == NULL || *name == '\0')
    name = _("this contact");

  switch (state)
    {
    case EP_CONTACT_REQUEST_ACCEPTED:
      break;
    case EP_CONTACT_REQUEST_OUTGOING_PENDING:
      reason = g_strdup_printf (_("You can write once %s accepts your request."), name);
      break;
    case EP_CONTACT_REQUEST_INCOMING_PENDING:
      reason = g_strdup_printf (_("Accept the request of %s to write."), name);
      break;
    case EP_CONTACT_REQUEST_DECLINED:
      reason = g_strdup (_("The request was declined: you cannot write to each other."));
      break;
    case EP_CONTACT_REQUEST_BLOCKED:
      reason = g_strdup (_("This contact is blocked."));
      break;
    case EP_CONTACT_REQUEST_NONE:
    default:
      reason = g_strdup (_("This person is not your contact."));
      break;
    }

  gtk_widget_set_sensitive (self->composer_box, reason == NULL);
  gtk_label_set_text (self->reason_label, reason != NULL ? reason : "");
  gtk_widget_set_visible (GTK_WIDGET (self->reason_label), reason != NULL);
}

static void
on_contact_notify (EpContact  *contact,
                   GParamSpec *pspec,
                   EpChatView *self)
{
  update_composer (self);
}

static void
on_older_loaded (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(EpChatView) self = user_data;
  g_autoptr(GError) error = NULL;
  guint n = ep_conversation_load_older_finish (EP_CONVERSATION (source), result, &error);

  if (error != NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Older messages: %s", error->message);
      return;
    }
  /* The view keeps its distance from the bottom until the new rows are in. */
  if (n == 0)
    self->restore_distance = -1;
  else
    self->older_loaded = TRUE;
  update_empty (self);
}

static void
maybe_load_older (EpChatView *self)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scrolled);

  if (self->conversation == NULL
      || !ep_conversation_get_has_older (self->conversation)
      || ep_conversation_get_loading (self->conversation)
      || self->restore_distance >= 0)
    return;
  if (gtk_adjustment_get_value (adj) > gtk_adjustment_get_page_size (adj) / 2)
    return;

  self->restore_distance = gtk_adjustment_get_upper (adj) - gtk_adjustment_get_value (adj);
  ep_conversation_load_older_async (self->conversation, self->cancellable,
                                    on_older_loaded, g_object_ref (self));
}

static void
on_value_changed (GtkAdjustment *adj,
                  EpChatView    *self)
{
  maybe_load_older (self);
}

/* The content grew or shrank: a view that was at the bottom (judged against
 * the old size) stays there; while older messages come in above, the
 * distance from the bottom is kept so that nothing jumps. */
static gboolean
apply_scroll (gpointer user_data)
{
  EpChatView *self = user_data;
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scrolled);
  double upper = gtk_adjustment_get_upper (adj);

  self->scroll_idle_id = 0;
  if (self->pending_scroll == SCROLL_RESTORE && self->restore_distance >= 0)
    {
      gtk_adjustment_set_value (adj, upper - self->restore_distance);
      if (self->older_loaded)
        {
          self->older_loaded = FALSE;
          self->restore_distance = -1;
          /* A page shorter than the view leaves it at the top still. */
          maybe_load_older (self);
        }
    }
  else if (self->pending_scroll == SCROLL_BOTTOM)
    gtk_adjustment_set_value (adj, upper - gtk_adjustment_get_page_size (adj));
  self->pending_scroll = SCROLL_NONE;
  return G_SOURCE_REMOVE;
}

/* The content grew or shrank: a view that was at the bottom (judged against
 * the old size) stays there; while older messages come in above, the
 * distance from the bottom is kept so that nothing jumps. The list view is
 * in the middle of its own layout here, so the scroll happens right after. */
static void
on_upper_changed (GtkAdjustment *adj,
                  GParamSpec    *pspec,
                  EpChatView    *self)
{
  double page = gtk_adjustment_get_page_size (adj);
  gboolean was_at_bottom = gtk_adjustment_get_value (adj) >= self->last_upper - page - 8;

  self->last_upper = gtk_adjustment_get_upper (adj);
  if (self->restore_distance >= 0)
    self->pending_scroll = SCROLL_RESTORE;
  else if (self->stick_to_bottom || was_at_bottom)
    {
      self->stick_to_bottom = FALSE;
      self->pending_scroll = SCROLL_BOTTOM;
    }
  else
    return;
  if (self->scroll_idle_id == 0)
    self->scroll_idle_id = g_idle_add (apply_scroll, self);
}

static void
set_conversation (EpChatView     *self,
                  EpConversation *conversation)
{
  if (self->conversation != NULL)
    g_signal_handlers_disconnect_by_func (self->conversation, on_items_changed, self);
  g_set_object (&self->conversation, conversation);
  gtk_no_selection_set_model (self->selection, G_LIST_MODEL (conversation));
  if (conversation != NULL)
    g_signal_connect (conversation, "items-changed", G_CALLBACK (on_items_changed), self);
  self->stick_to_bottom = TRUE;
  self->restore_distance = -1;
  self->older_loaded = FALSE;
  update_empty (self);
}

static void
on_conversation_opened (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(EpChatView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(EpConversation) conversation =
    ep_node_open_conversation_finish (EP_NODE (source), result, &error);

  if (conversation == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          gtk_label_set_text (self->reason_label, error->message);
          gtk_widget_set_visible (GTK_WIDGET (self->reason_label), TRUE);
        }
      return;
    }
  set_conversation (self, conversation);
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(EpChatView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(EpMessage) message = ep_node_send_message_finish (EP_NODE (source), result, &error);

  if (message == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          gtk_label_set_text (self->reason_label, error->message);
          gtk_widget_set_visible (GTK_WIDGET (self->reason_label), TRUE);
        }
      return;
    }
}

/**
 * ep_chat_view_send:
 * @self: an #EpChatView
 *
 * Sends what the composer holds to the contact and empties the composer.
 */
void
ep_chat_view_send (EpChatView *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer);
  GtkTextIter start, end;
  g_autofree char *text = NULL;

  g_return_if_fail (EP_IS_CHAT_VIEW (self));

  if (self->node == NULL || self->contact == NULL
      || !gtk_widget_is_sensitive (self->composer_box))
    return;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  g_strstrip (text);
  if (*text == '\0')
    return;

  gtk_text_buffer_set_text (buffer, "", 0);
  gtk_widget_set_visible (GTK_WIDGET (self->reason_label), FALSE);
  /* The conversation shows it through the store; the view follows it down. */
  self->stick_to_bottom = TRUE;
  ep_node_send_message_async (self->node, ep_contact_get_key_bytes (self->contact), text,
                              self->cancellable, on_sent, g_object_ref (self));
}

static gboolean
on_composer_key (GtkEventControllerKey *controller,
                 guint                  keyval,
                 guint                  keycode,
                 GdkModifierType        state,
                 EpChatView            *self)
{
  if ((keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter || keyval == GDK_KEY_ISO_Enter)
      && (state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK | GDK_ALT_MASK)) == 0)
    {
      ep_chat_view_send (self);
      return TRUE;
    }
  return FALSE;
}

/**
 * ep_chat_view_set_node:
 * @self: an #EpChatView
 * @node: the node whose conversations are shown
 */
void
ep_chat_view_set_node (EpChatView *self,
                       EpNode     *node)
{
  g_return_if_fail (EP_IS_CHAT_VIEW (self));
  g_return_if_fail (self->node == NULL);

  self->node = g_object_ref (node);
}

/**
 * ep_chat_view_set_contact:
 * @self: an #EpChatView
 * @contact: (nullable): whose conversation to show
 */
void
ep_chat_view_set_contact (EpChatView *self,
                          EpContact  *contact)
{
  g_return_if_fail (EP_IS_CHAT_VIEW (self));
  g_return_if_fail (self->node != NULL || contact == NULL);

  if (contact == self->contact)
    return;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->contact != NULL)
    g_signal_handlers_disconnect_by_func (self->contact, on_contact_notify, self);
  set_conversation (self, NULL);
  g_set_object (&self->contact, contact);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->composer), "", 0);
  gtk_widget_set_visible (GTK_WIDGET (self->reason_label), FALSE);

  if (contact == NULL)
    return;

  self->cancellable = g_cancellable_new ();
  g_signal_connect (contact, "notify::request-state", G_CALLBACK (on_contact_notify), self);
  update_composer (self);
  ep_node_open_conversation_async (self->node, ep_contact_get_key_bytes (contact),
                                   self->cancellable, on_conversation_opened,
                                   g_object_ref (self));
}

EpContact *
ep_chat_view_get_contact (EpChatView *self)
{
  g_return_val_if_fail (EP_IS_CHAT_VIEW (self), NULL);

  return self->contact;
}

/**
 * ep_chat_view_get_conversation:
 * @self: an #EpChatView
 *
 * Returns: (nullable) (transfer none): the conversation shown, once open
 */
EpConversation *
ep_chat_view_get_conversation (EpChatView *self)
{
  g_return_val_if_fail (EP_IS_CHAT_VIEW (self), NULL);

  return self->conversation;
}

GtkTextView *
ep_chat_view_get_composer (EpChatView *self)
{
  g_return_val_if_fail (EP_IS_CHAT_VIEW (self), NULL);

  return self->composer;
}

static void
ep_chat_view_dispose (GObject *object)
{
  EpChatView *self = EP_CHAT_VIEW (object);
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->scroll_idle_id, g_source_remove);
  if (self->contact != NULL)
    g_signal_handlers_disconnect_by_func (self->contact, on_contact_notify, self);
  g_clear_object (&self->contact);
  if (self->conversation != NULL)
    g_signal_handlers_disconnect_by_func (self->conversation, on_items_changed, self);
  g_clear_object (&self->conversation);
  g_clear_object (&self->node);

  g_clear_pointer (&self->message_menu, gtk_widget_unparent);
  gtk_widget_dispose_template (GTK_WIDGET (self), EP_TYPE_CHAT_VIEW);
  /* The children not bound to a field (the separator) are ours to unparent. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (ep_chat_view_parent_class)->dispose (object);
}

static void
ep_chat_view_class_init (EpChatViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ep_chat_view_dispose;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_BASE "/ep-chat-view.ui");
  gtk_widget_class_bind_template_child (widget_class, EpChatView, stack);
  gtk_widget_class_bind_template_child (widget_class, EpChatView, scrolled);
  gtk_widget_class_bind_template_child (widget_class, EpChatView, message_view);
  gtk_widget_class_bind_template_child (widget_class, EpChatView, reason_label);
  gtk_widget_class_bind_template_child (widget_class, EpChatView, empty_page);
  gtk_widget_class_bind_template_child (widget_class, EpChatView, composer_box);
  gtk_widget_class_bind_template_child (widget_class, EpChatView, composer);
  gtk_widget_class_bind_template_child (widget_class, EpChatView, send_button);
  gtk_widget_class_bind_template_callback (widget_class, ep_chat_view_send);

  gtk_widget_class_install_action (widget_class, "message.copy", "s", on_copy_action);
}

static void
ep_chat_view_init (EpChatView *self)
{
  GtkListItemFactory *factory;
  GtkEventController *keys;
  GtkAdjustment *adj;

  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (GTK_WIDGET (self))),
                                  GTK_ORIENTATION_VERTICAL);

  self->restore_distance = -1;
  self->stick_to_bottom = TRUE;

  self->message_menu = gtk_popover_menu_new_from_model (NULL);
  gtk_popover_set_has_arrow (GTK_POPOVER (self->message_menu), FALSE);
  gtk_widget_set_halign (self->message_menu, GTK_ALIGN_START);
  gtk_widget_set_parent (self->message_menu, GTK_WIDGET (self));

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_message), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_message), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_message), self);
  self->selection = gtk_no_selection_new (NULL);
  gtk_list_view_set_model (self->message_view, GTK_SELECTION_MODEL (self->selection));
  gtk_list_view_set_factory (self->message_view, factory);
  g_object_unref (self->selection);
  g_object_unref (factory);

  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_composer_key), self);
  gtk_widget_add_controller (GTK_WIDGET (self->composer), keys);

  adj = gtk_scrolled_window_get_vadjustment (self->scrolled);
  g_signal_connect (adj, "value-changed", G_CALLBACK (on_value_changed), self);
  g_signal_connect (adj, "notify::upper", G_CALLBACK (on_upper_changed), self);
}
