/* ep-chat-view.c — one contact's conversation and the composer
 *
 * The view binds a GtkListView to the EpConversation the node opens for the
 * contact; the conversation follows the store (new messages, delivery
 * states), and the view follows the conversation: it sticks to the bottom
 * while the user is there and loads older pages at the top.
 *
 * The rows of messages are in ep-chat-view-rows.c; their links come here
 * as ::open-link.
 *
 * The composer tells the contact that we are typing (ep_node_set_typing());
 * the contact's typing shows above the composer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "ep-chat-view-private.h"
#include "ep-contact-row.h"
#include "ep-message-text.h"
#include "ep-window.h"

enum
{
  SIGNAL_OPEN_LINK,
  N_SIGNALS
};

static guint signals[N_SIGNALS];


G_DEFINE_FINAL_TYPE (EpChatView, ep_chat_view, GTK_TYPE_WIDGET)

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
ep_chat_view_real_open_link (EpChatView *self,
                             const char *uri)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (!ep_message_text_is_link (uri))
    return;
  gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, uri, GDK_CURRENT_TIME);
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
update_typing (EpChatView *self)
{
  gboolean typing = self->contact != NULL && ep_contact_get_typing (self->contact);

  if (typing)
    {
      /* Translators: shown above the composer while the contact writes */
      g_autofree char *text = g_strdup_printf (_("%s is typing…"),
                                               ep_contact_row_display_name (self->contact));

      gtk_label_set_text (self->typing_label, text);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->typing_label), typing);
}

static void
on_contact_notify (EpContact  *contact,
                   GParamSpec *pspec,
                   EpChatView *self)
{
  update_composer (self);
  update_typing (self);
}

/* Every change to what the user writes; ep_node_set_typing() keeps the
 * frames down to one every few seconds. */
static void
on_composer_changed (GtkTextBuffer *buffer,
                     EpChatView    *self)
{
  if (self->node == NULL || self->contact == NULL
      || ep_contact_get_request_state (self->contact) != EP_CONTACT_REQUEST_ACCEPTED)
    return;
  ep_node_set_typing (self->node, ep_contact_get_key_bytes (self->contact),
                      gtk_text_buffer_get_char_count (buffer) > 0);
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
  /* Emptied while the old contact is still ours: it hears that we stopped. */
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->composer), "", 0);
  if (self->contact != NULL)
    g_signal_handlers_disconnect_by_func (self->contact, on_contact_notify, self);
  set_conversation (self, NULL);
  g_set_object (&self->contact, contact);
  gtk_widget_set_visible (GTK_WIDGET (self->reason_label), FALSE);
  update_typing (self);

  if (contact == NULL)
    return;

  self->cancellable = g_cancellable_new ();
  g_signal_connect (contact, "notify::request-state", G_CALLBACK (on_contact_notify), self);
  g_signal_connect (contact, "notify::typing", G_CALLBACK (on_contact_notify), self);
  g_signal_connect (contact, "notify::name", G_CALLBACK (on_contact_notify), self);
  update_composer (self);
  update_typing (self);
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

  /**
   * EpChatView::open-link:
   * @uri: an http, https or mailto URI from a message the user activated
   *
   * Opens @uri with gtk_show_uri() (the default handler).
   */
  signals[SIGNAL_OPEN_LINK] =
    g_signal_new_class_handler ("open-link", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                G_CALLBACK (ep_chat_view_real_open_link), NULL, NULL, NULL,
                                G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_BASE "/ep-chat-view.ui");
  gtk_widget_class_bind_template_child (widget_class, EpChatView, stack);
  gtk_widget_class_bind_template_child (widget_class, EpChatView, scrolled);
  gtk_widget_class_bind_template_child (widget_class, EpChatView, message_view);
  gtk_widget_class_bind_template_child (widget_class, EpChatView, reason_label);
  gtk_widget_class_bind_template_child (widget_class, EpChatView, typing_label);
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

  factory = ep_chat_view_rows_factory_new (self);
  self->selection = gtk_no_selection_new (NULL);
  gtk_list_view_set_model (self->message_view, GTK_SELECTION_MODEL (self->selection));
  gtk_list_view_set_factory (self->message_view, factory);
  g_object_unref (self->selection);
  g_object_unref (factory);

  g_signal_connect (gtk_text_view_get_buffer (self->composer), "changed",
                    G_CALLBACK (on_composer_changed), self);

  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_composer_key), self);
  gtk_widget_add_controller (GTK_WIDGET (self->composer), keys);

  adj = gtk_scrolled_window_get_vadjustment (self->scrolled);
  g_signal_connect (adj, "value-changed", G_CALLBACK (on_value_changed), self);
  g_signal_connect (adj, "notify::upper", G_CALLBACK (on_upper_changed), self);
}
