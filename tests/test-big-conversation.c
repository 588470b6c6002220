/* test-big-conversation.c — a 100 000-message chat opens and scrolls in pages
 *
 * The profile is made before the app starts, its history written into the
 * store in one transaction (history-helpers.h). The app must open the chat
 * on its newest page at the bottom, and load older pages one at a time as
 * the view reaches the top, never the whole history.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "history-helpers.h"
#include "window-test-util.h"

#define N_MESSAGES 100000
#define PAGE       EP_CONVERSATION_DEFAULT_PAGE_SIZE
#define SCROLLS    8

static guint
n_loaded (Fixture *f)
{
  EpConversation *conversation = shown_conversation (f);

  return conversation != NULL ? g_list_model_get_n_items (G_LIST_MODEL (conversation)) : 0;
}

static gboolean
has_messages (gpointer data)
{
  return n_loaded (data) > 0;
}

static GtkAdjustment *vadjustment (Fixture *f);

/* As a user holding the view at the top: whenever the view has settled
 * below the rows that came in, up again, until more are loaded. */
static gboolean
more_than (gpointer data)
{
  NWait *w = data;
  GtkAdjustment *adj = vadjustment (w->f);
  EpChatView *view = EP_CHAT_VIEW (child (w->f, "chat_view"));
  EpConversation *conversation = ep_chat_view_get_conversation (view);

  if (n_loaded (w->f) > w->n)
    return TRUE;
  if (!ep_conversation_get_loading (conversation) && gtk_adjustment_get_value (adj) > 0)
    gtk_adjustment_set_value (adj, 0);
  return FALSE;
}

static GtkAdjustment *
vadjustment (Fixture *f)
{
  GObject *scrolled = gtk_widget_get_template_child (child (f, "chat_view"), EP_TYPE_CHAT_VIEW,
                                                     "scrolled");

  return gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
}

static gboolean
at_bottom (gpointer data)
{
  GtkAdjustment *adj = data;
  double page = gtk_adjustment_get_page_size (adj);

  return page > 0 && gtk_adjustment_get_upper (adj) > page
         && gtk_adjustment_get_value (adj) >= gtk_adjustment_get_upper (adj) - page - 1;
}

/* The older rows are in and the view is back where it was: below them. */
static gboolean
placed (gpointer data)
{
  GtkAdjustment *adj = data;

  return gtk_adjustment_get_value (adj) > gtk_adjustment_get_page_size (adj) / 2;
}

static void
on_after_paint (GdkFrameClock *clock,
                guint         *frames)
{
  (*frames)++;
}

static gboolean
two_frames (gpointer data)
{
  return *(guint *) data >= 2;
}

/* The view's own scroll corrections run between frames: two frames later
 * they are done. */
static void
wait_frames (GtkWidget *widget)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
  guint frames = 0;
  gulong id;

  g_assert_nonnull (clock);
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), &frames);
  gtk_widget_queue_draw (widget);
  g_assert_true (spin_until (two_frames, &frames, 15));
  g_signal_handler_disconnect (clock, id);
}

static gboolean
settled (gpointer data)
{
  EpConversation *conversation = shown_conversation (data);

  return conversation != NULL && !ep_conversation_get_loading (conversation);
}

/* The loaded window is the newest messages, in order, with no gap. */
static void
check_order (Fixture *f)
{
  GListModel *model = G_LIST_MODEL (shown_conversation (f));
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(EpMessage) message = g_list_model_get_item (model, i);
      g_autofree char *text = g_strdup_printf ("message %u", N_MESSAGES - n + 1 + i);

      g_assert_cmpuint (ep_message_get_lamport (message), ==, N_MESSAGES - n + 1 + i);
      g_assert_cmpstr (ep_message_get_text (message), ==, text);
    }
}

static void
body_big_conversation (Fixture *f)
{
  GtkWidget *chat_view = child (f, "chat_view");
  GtkAdjustment *adj = vadjustment (f);
  gint64 start;
  guint loaded;

  g_assert_true (spin_until (node_started, f->node, 15));
  wait_page (f, "stack", "main");
  wait_page (f, "sidebar_stack", "list");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (ep_node_get_contacts (f->node))),
                    ==, 1);
  wait_label (child (f, "contact_view"), "message 100000");

  /* Open it: the newest page only, at the bottom, the newest message shown. */
  start = g_get_monotonic_time ();
  g_signal_emit_by_name (child (f, "contact_view"), "activate", 0);
  g_assert_true (spin_until (has_messages, f, 15));
  wait_label (chat_view, "message 100000");
  g_test_message ("the chat showed its newest message %.1f ms after the click",
                  (g_get_monotonic_time () - start) / 1000.0);
  g_assert_true (spin_until (at_bottom, adj, 15));
  g_assert_true (spin_until (settled, f, 15));
  wait_frames (chat_view);
  loaded = n_loaded (f);
  g_assert_cmpuint (loaded, >=, PAGE);
  g_assert_cmpuint (loaded, <=, 2 * PAGE);
  g_assert_cmpuint (loaded % PAGE, ==, 0);
  g_assert_true (ep_conversation_get_has_older (shown_conversation (f)));
  check_order (f);
  wait_label (chat_view, "message 99999");

  /* Each time the view reaches the top, a page (or two, while the view is
   * still near the top) comes in above, in order, and the view keeps its
   * place instead of jumping to the new top. */
  for (guint i = 0; i < SCROLLS; i++)
    {
      NWait w = { f, loaded };
      guint now;

      g_assert_true (spin_until (more_than, &w, 15));
      g_assert_true (spin_until (placed, adj, 15));
      g_assert_true (spin_until (settled, f, 15));
      wait_frames (chat_view);
      now = n_loaded (f);
      g_test_message ("scroll %u: %u to %u messages, at %.0f of %.0f", i + 1, loaded, now,
                      gtk_adjustment_get_value (adj), gtk_adjustment_get_upper (adj));
      g_assert_cmpuint ((now - loaded) % PAGE, ==, 0);
      g_assert_cmpuint (now - loaded, <=, 2 * PAGE);
      check_order (f);
      loaded = now;
    }
  /* Let everything settle: no more pages come in on their own. */
  spin_for (500);
  g_assert_cmpuint (n_loaded (f), ==, loaded);
  g_assert_cmpuint (loaded, <=, (SCROLLS + 2) * PAGE);
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), >, 0);
  g_assert_true (ep_conversation_get_has_older (shown_conversation (f)));
}

static void
test_big_conversation (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("ep-big-XXXXXX", NULL);
  g_autofree char *profile = g_build_filename (tmp, "profile", NULL);
  guint8 contact[32];
  gint64 start = g_get_monotonic_time ();

  history_make_profile (profile, "Alice", 1, N_MESSAGES, contact);
  g_test_message ("made a profile with %u messages in %.2f s", N_MESSAGES,
                  (g_get_monotonic_time () - start) / 1e6);
  run_app_full (body_big_conversation, NULL, tmp);
  rm_rf (tmp);
}

int
main (int    argc,
      char **argv)
{
  gtk_disable_setlocale ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/big-conversation/opens-and-pages", test_big_conversation);

  return run_window_tests ();
}
