/* test-node-chat.c — typing, removing a contact, opening a profile off the main thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "node-test-util.h"

/* ---- typing ---------------------------------------------------------------- */

#define REFRESH_MS 300
#define TIMEOUT_MS 900

static void
short_typing (TestNode *t)
{
  EpNodeTiming timing;

  ep_node_get_timing (t->node, &timing);
  timing.typing_refresh_ms = REFRESH_MS;
  timing.typing_timeout_ms = TIMEOUT_MS;
  ep_node_set_timing (t->node, &timing);
}

typedef struct
{
  TestNode *t;
  guint64   n;
} TypingCount;

static gboolean
typing_frames_at_least (gpointer data)
{
  TypingCount *c = data;

  return ep_node_get_counters (c->t->node)->typing_received >= c->n;
}

static void
test_typing (void)
{
  TestNode a = { 0 }, b = { 0 };
  EpContact *a_at_b;
  guint8 stranger[32];
  guint64 before;
  gint64 start, elapsed;
  TypingCount count = { &b, 0 };
  Count got = { &b, 1 };

  test_node_start (&a);
  test_node_start (&b);
  short_typing (&a);
  short_typing (&b);
  befriend (&a, &b, TRUE);
  a_at_b = ep_contact_list_lookup (ep_node_get_contacts (b.node), a.hex);
  g_assert_nonnull (a_at_b);
  g_assert_false (ep_contact_get_typing (a_at_b));

  /* Keystrokes in a burst: one frame, and B shows A typing. */
  for (guint i = 0; i < 20; i++)
    ep_node_set_typing (a.node, test_node_key (&b), TRUE);
  g_assert_true (spin_until (contact_typing, a_at_b, 10));
  spin_for (REFRESH_MS / 2);
  g_assert_cmpuint (ep_node_get_counters (b.node)->typing_received, ==, 1);

  /* Typing on for a while: refreshed at most once per REFRESH_MS, and B's
   * state never lapses (TIMEOUT_MS > REFRESH_MS). */
  start = g_get_monotonic_time ();
  while (g_get_monotonic_time () - start < 4 * REFRESH_MS * 1000)
    {
      ep_node_set_typing (a.node, test_node_key (&b), TRUE);
      spin_for (30);
      g_assert_true (ep_contact_get_typing (a_at_b));
    }
  before = ep_node_get_counters (b.node)->typing_received;
  g_assert_cmpuint (before, >=, 3);
  g_assert_cmpuint (before, <=, 6);

  /* Cleared: one stop frame, B's state ends at once. */
  ep_node_set_typing (a.node, test_node_key (&b), FALSE);
  g_assert_true (spin_until (contact_not_typing, a_at_b, 10));
  count.n = before + 1;
  g_assert_true (spin_until (typing_frames_at_least, &count, 10));
  /* Only one: more stops say nothing. */
  ep_node_set_typing (a.node, test_node_key (&b), FALSE);
  ep_node_set_typing (a.node, test_node_key (&b), FALSE);
  spin_for (100);
  g_assert_cmpuint (ep_node_get_counters (b.node)->typing_received, ==, before + 1);

  /* Typing, then nothing: it lapses by itself after about TIMEOUT_MS. */
  ep_node_set_typing (a.node, test_node_key (&b), TRUE);
  g_assert_true (spin_until (contact_typing, a_at_b, 10));
  start = g_get_monotonic_time ();
  g_assert_true (spin_until (contact_not_typing, a_at_b, 10));
  elapsed = (g_get_monotonic_time () - start) / 1000;
  g_assert_cmpint (elapsed, >=, TIMEOUT_MS / 2);
  g_assert_cmpint (elapsed, <=, TIMEOUT_MS * 3);

  /* Typing, then the message: it arrives and the typing is over. */
  spin_for (REFRESH_MS);
  ep_node_set_typing (a.node, test_node_key (&b), TRUE);
  g_assert_true (spin_until (contact_typing, a_at_b, 10));
  send_many (&a, &b, "written", 1);
  g_assert_true (spin_until (received_at_least, &got, 10));
  g_assert_false (ep_contact_get_typing (a_at_b));

  /* B typing to A works the same way round. */
  {
    EpContact *b_at_a = ep_contact_list_lookup (ep_node_get_contacts (a.node), b.hex);

    ep_node_set_typing (b.node, test_node_key (&a), TRUE);
    g_assert_true (spin_until (contact_typing, b_at_a, 10));
    ep_node_set_typing (b.node, test_node_key (&a), FALSE);
    g_assert_true (spin_until (contact_not_typing, b_at_a, 10));
  }

  /* Nobody else hears of it. */
  randombytes_buf (stranger, sizeof stranger);
  before = ep_node_get_counters (b.node)->typing_received;
  ep_node_set_typing (a.node, stranger, TRUE);
  spin_for (100);
  g_assert_cmpuint (ep_node_get_counters (b.node)->typing_received, ==, before);

  test_node_clear (&a);
  test_node_clear (&b);
}

/* A typing contact whose session goes away stops typing. */
static void
test_typing_offline (void)
{
  TestNode a = { 0 }, b = { 0 };
  EpContact *a_at_b;
  EpNodeTiming timing;

  test_node_start (&a);
  test_node_start (&b);
  befriend (&a, &b, TRUE);
  /* A long lapse, so that only the session's end can clear it. */
  ep_node_get_timing (b.node, &timing);
  timing.typing_timeout_ms = 60000;
  ep_node_set_timing (b.node, &timing);
  a_at_b = ep_contact_list_lookup (ep_node_get_contacts (b.node), a.hex);
  ep_node_set_typing (a.node, test_node_key (&b), TRUE);
  g_assert_true (spin_until (contact_typing, a_at_b, 10));

  test_node_stop (&a);
  g_assert_true (spin_until (contact_not_typing, a_at_b, 15));
  g_assert_cmpint (ep_contact_get_presence (a_at_b), ==, EP_CONTACT_PRESENCE_OFFLINE);

  test_node_clear (&a);
  test_node_clear (&b);
}

/* ---- removing a contact ---------------------------------------------------- */

static GPtrArray *
load_outbox (TestNode *t)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  GPtrArray *items;

  ep_store_load_outbox_async (ep_node_get_store (t->node), NULL, NULL, store_result, &result);
  g_assert_true (spin_until (result_set, &result, 10));
  items = ep_store_load_outbox_finish (ep_node_get_store (t->node), result, &error);
  g_assert_no_error (error);
  return items;
}

static guint
n_messages (TestNode     *t,
            const guint8 *key)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) messages = NULL;

  ep_store_load_messages_async (ep_node_get_store (t->node), key, NULL, 1000, NULL,
                                store_result, &result);
  g_assert_true (spin_until (result_set, &result, 10));
  messages = ep_store_load_messages_finish (ep_node_get_store (t->node), result, &error);
  g_assert_no_error (error);
  return messages->len;
}

static gboolean
in_store (TestNode     *t,
          const guint8 *key)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(EpContact) contact = NULL;

  ep_store_load_contact_async (ep_node_get_store (t->node), key, NULL, store_result, &result);
  g_assert_true (spin_until (result_set, &result, 10));
  contact = ep_store_load_contact_finish (ep_node_get_store (t->node), result, &error);
  if (contact == NULL)
    g_assert_error (error, EP_STORE_ERROR, EP_STORE_ERROR_NOT_FOUND);
  return contact != NULL;
}

static void
test_remove_contact (void)
{
  TestNode a = { 0 }, b = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) outbox = NULL;
  EpContactList *contacts;
  EpContact *b_at_a;
  Count got = { &b, 3 };
  guint8 stranger[32];
  g_autoptr(EpContact) held = NULL;

  test_node_start (&a);
  test_node_start (&b);
  befriend (&a, &b, TRUE);
  contacts = ep_node_get_contacts (a.node);

  /* History both ways, then two messages that stay in A's outbox. */
  send_many (&a, &b, "before", 3);
  g_assert_true (spin_until (received_at_least, &got, 15));
  send_many (&b, &a, "reply", 2);
  g_assert_true (spin_until (received_at_least, &(Count) { &a, 2 }, 15));
  test_node_stop (&b);
  send_many (&a, &b, "stuck", 2);
  outbox = load_outbox (&a);
  g_assert_cmpuint (outbox->len, ==, 2);
  g_clear_pointer (&outbox, g_ptr_array_unref);
  g_assert_cmpuint (n_messages (&a, test_node_key (&b)), ==, 7);

  /* Unknown keys are an error in words. */
  randombytes_buf (stranger, sizeof stranger);
  g_assert_false (ep_node_remove_contact (a.node, stranger, &error));
  g_assert_error (error, EP_NODE_ERROR, EP_NODE_ERROR_UNKNOWN_CONTACT);
  g_clear_error (&error);

  b_at_a = ep_contact_list_lookup (contacts, b.hex);
  held = g_object_ref (b_at_a);
  g_assert_true (ep_node_remove_contact (a.node, test_node_key (&b), &error));
  g_assert_no_error (error);
  g_assert_null (ep_contact_list_lookup (contacts, b.hex));
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (contacts)); i++)
    {
      g_autoptr(EpContact) item = g_list_model_get_item (G_LIST_MODEL (contacts), i);

      g_assert_true (item != held);
    }
  g_assert_false (ep_node_is_connected (a.node, test_node_key (&b)));

  /* The store forgot it all: contact, messages, outbox; also after a restart. */
  g_assert_false (in_store (&a, test_node_key (&b)));
  g_assert_cmpuint (n_messages (&a, test_node_key (&b)), ==, 0);
  outbox = load_outbox (&a);
  g_assert_cmpuint (outbox->len, ==, 0);
  g_clear_pointer (&outbox, g_ptr_array_unref);
  test_node_stop (&a);
  test_node_start (&a);
  g_assert_null (ep_contact_list_lookup (ep_node_get_contacts (a.node), b.hex));
  g_assert_false (in_store (&a, test_node_key (&b)));
  outbox = load_outbox (&a);
  g_assert_cmpuint (outbox->len, ==, 0);
  g_clear_pointer (&outbox, g_ptr_array_unref);

  /* B comes back. Its messages to A are a stranger's now: dropped. */
  test_node_start (&b);
  test_node_hint (&b, &a);
  g_ptr_array_set_size (a.received, 0);
  send_many (&b, &a, "ignored", 1);
  spin_for (1000);
  g_assert_cmpuint (a.received->len, ==, 0);
  g_assert_null (ep_contact_list_lookup (ep_node_get_contacts (a.node), b.hex));

  /* B removes A too and asks again: for A that is a new request. */
  g_assert_true (ep_node_remove_contact (b.node, test_node_key (&a), &error));
  g_assert_no_error (error);
  g_ptr_array_set_size (a.requests, 0);
  g_assert_nonnull (ep_node_add_contact (b.node,
                                         ep_identity_get_contact_id (ep_node_get_identity (a.node)),
                                         "me again", &error));
  g_assert_no_error (error);
  test_node_hint (&b, &a);
  g_assert_true (spin_until (has_request, &a, 15));
  g_assert_cmpstr (a.last_request_text, ==, "me again");
  b_at_a = ep_contact_list_lookup (ep_node_get_contacts (a.node), b.hex);
  g_assert_nonnull (b_at_a);
  g_assert_true (b_at_a != held);
  g_assert_cmpint (ep_contact_get_request_state (b_at_a), ==, EP_CONTACT_REQUEST_INCOMING_PENDING);
  g_assert_cmpuint (n_messages (&a, test_node_key (&b)), ==, 0);

  test_node_clear (&a);
  test_node_clear (&b);
}

/* ---- opening a profile in a worker thread --------------------------------- */

static EpNode *
open_in_thread (const char  *dir,
                const char  *passphrase,
                GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  ep_node_open_async (dir, passphrase, NULL, store_result, &result);
  g_assert_true (spin_until (result_set, &result, 60));
  return ep_node_open_finish (result, error);
}

static void
test_open_async (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ep-node-XXXXXX", NULL);
  g_autofree char *key = NULL;
  EpNode *node;

  g_assert_nonnull (dir);
  node = open_in_thread (dir, "open sesame", &error);
  g_assert_no_error (error);
  g_assert_true (EP_IS_NODE (node));
  g_assert_true (ep_identity_is_encrypted (ep_node_get_identity (node)));
  key = g_strdup (ep_node_get_key (node));
  g_object_unref (node);
  spin_for (50);

  g_assert_null (open_in_thread (dir, NULL, &error));
  g_assert_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_NEEDS_PASSPHRASE);
  g_clear_error (&error);
  g_assert_null (open_in_thread (dir, "open sesam", &error));
  g_assert_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);

  node = open_in_thread (dir, "open sesame", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ep_node_get_key (node), ==, key);
  /* It runs here like one opened here. */
  {
    g_autoptr(GAsyncResult) result = NULL;
    EpNodeSettings *settings = ep_node_get_settings (node);

    g_free (settings->bind_address);
    settings->bind_address = g_strdup ("127.0.0.1");
    settings->lan_discovery = FALSE;
    ep_node_start_async (node, NULL, store_result, &result);
    g_assert_true (spin_until (result_set, &result, 10));
    g_assert_true (ep_node_start_finish (node, result, &error));
    g_assert_no_error (error);
    ep_node_stop (node);
  }
  g_object_unref (node);
  spin_for (50);
  rm_rf (dir);
}

/* ---- changing the passphrase ---------------------------------------------- */

static gboolean
change_passphrase (EpNode      *node,
                   const char  *current,
                   const char  *new_passphrase,
                   GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  ep_node_change_passphrase_async (node, current, new_passphrase, NULL, store_result, &result);
  g_assert_true (spin_until (result_set, &result, 60));
  return ep_node_change_passphrase_finish (node, result, error);
}

static void
test_change_passphrase (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ep-node-XXXXXX", NULL);
  g_autofree char *key = NULL;
  EpNode *node;

  g_assert_nonnull (dir);
  node = open_in_thread (dir, NULL, &error);
  g_assert_no_error (error);
  key = g_strdup (ep_node_get_key (node));
  g_assert_false (ep_identity_is_encrypted (ep_node_get_identity (node)));

  /* None yet: any "current" one is ignored. */
  g_assert_true (change_passphrase (node, "whatever", "first one", &error));
  g_assert_no_error (error);
  g_assert_true (ep_identity_is_encrypted (ep_node_get_identity (node)));

  /* A wrong or missing current one changes nothing. */
  g_assert_false (change_passphrase (node, "first on", "second one", &error));
  g_assert_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_WRONG_PASSPHRASE);
  g_assert_cmpstr (error->message, ==, "The current passphrase is wrong");
  g_clear_error (&error);
  g_assert_false (change_passphrase (node, "", "second one", &error));
  g_assert_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_NEEDS_PASSPHRASE);
  g_clear_error (&error);

  g_assert_true (change_passphrase (node, "first one", "second one", &error));
  g_assert_no_error (error);
  g_object_unref (node);
  spin_for (50);

  /* Reopened: the new one works, the old one does not. */
  g_assert_null (open_in_thread (dir, "first one", &error));
  g_assert_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);
  node = open_in_thread (dir, "second one", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ep_node_get_key (node), ==, key);

  /* Removed: it opens without one. */
  g_assert_true (change_passphrase (node, "second one", NULL, &error));
  g_assert_no_error (error);
  g_assert_false (ep_identity_is_encrypted (ep_node_get_identity (node)));
  g_object_unref (node);
  spin_for (50);
  node = open_in_thread (dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ep_node_get_key (node), ==, key);
  g_object_unref (node);
  spin_for (50);
  rm_rf (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/node-chat/typing", test_typing);
  g_test_add_func ("/ep/node-chat/typing-offline", test_typing_offline);
  g_test_add_func ("/ep/node-chat/remove-contact", test_remove_contact);
  g_test_add_func ("/ep/node-chat/open-async", test_open_async);
  g_test_add_func ("/ep/node-chat/change-passphrase", test_change_passphrase);

  return g_test_run ();
}
