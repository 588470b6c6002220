/* node-test-util.h — EpNodes on loopback, for the node tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#pragma GCC diagnostic ignored "-Wunused-function"

#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>

#include "ep-core.h"

typedef struct
{
  char       *dir;
  EpNode     *node;
  GPtrArray  *received;        /* EpMessage */
  GPtrArray  *requests;        /* EpContact */
  char       *last_request_text;
  guint       answered_yes;
  guint       answered_no;
  guint       presence_changes;
  GHashTable *status;          /* id hex → EpMessageStatus (the last one) */
  guint       n_sent;          /* status events "sent" */
  guint       n_delivered;     /* status events "delivered" */
  gboolean    lan;
  char      **bootstrap;     /* borrowed */
  gboolean    real_timing;   /* the defaults, not the shortened test timing */
  guint8      key[32];
  char        hex[65];
} TestNode;

static const EpNodeTiming fast_node_timing = {
  .tick_ms = 20,
  .retransmit_ms = 150,
  .retransmit_max_ms = 600,
  .connect_retry_ms = 200,
  .connect_retry_max_ms = 1000,
  .request_retry_ms = 300,
  .stranger_ms = 3000,
  .resolve_ms = 300000,
  .resolve_queued_ms = 1000,
  .dht_query_timeout_ms = 400,
  .dht_one_address = TRUE,
  .no_network_monitor = TRUE,
};

static const EpSessionTiming fast_session_timing = {
  .tick_ms = 20,
  .handshake_retry_ms = 100,
  .handshake_retry_max_ms = 400,
  .handshake_timeout_ms = 3000,
  .rekey_after_ms = 600000,
  .rekey_after_messages = G_GUINT64_CONSTANT (1) << 20,
  .keepalive_ms = 200,
  .idle_timeout_ms = 1500,
  .old_keys_ms = 2000,
  .cookie_secret_ms = 120000,
};

static gboolean
on_test_deadline (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Spins the thread-default context until @cond holds, at most @seconds. */
static gboolean
spin_until (gboolean (*cond) (gpointer),
            gpointer  data,
            guint     seconds)
{
  GMainContext *context = g_main_context_get_thread_default ();
  gboolean expired = FALSE;
  GSource *source = g_timeout_source_new_seconds (seconds);

  g_source_set_callback (source, on_test_deadline, &expired, NULL);
  g_source_attach (source, context);
  while (!cond (data) && !expired)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (source);
  g_source_unref (source);
  return cond (data);
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

/* Spins for @ms whatever happens. */
static void
spin_for (guint ms)
{
  GMainContext *context = g_main_context_get_thread_default ();
  gboolean expired = FALSE;
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, on_test_deadline, &expired, NULL);
  g_source_attach (source, context);
  while (!expired)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (source);
  g_source_unref (source);
}

static void
on_message_received (EpNode    *node,
                     EpMessage *message,
                     TestNode  *t)
{
  g_ptr_array_add (t->received, g_object_ref (message));
}

static void
on_contact_request (EpNode     *node,
                    EpContact  *contact,
                    const char *text,
                    TestNode   *t)
{
  g_ptr_array_add (t->requests, g_object_ref (contact));
  g_free (t->last_request_text);
  t->last_request_text = g_strdup (text);
}

static void
on_answered (EpNode    *node,
             EpContact *contact,
             gboolean   accepted,
             TestNode  *t)
{
  if (accepted)
    t->answered_yes++;
  else
    t->answered_no++;
}

static void
on_presence (EpNode    *node,
             EpContact *contact,
             TestNode  *t)
{
  t->presence_changes++;
}

static void
on_status (EpNode          *node,
           const char      *contact_key,
           const char      *id,
           EpMessageStatus  status,
           TestNode        *t)
{
  g_hash_table_insert (t->status, g_strdup (id), GINT_TO_POINTER (status));
  if (status == EP_MESSAGE_STATUS_SENT)
    t->n_sent++;
  else if (status == EP_MESSAGE_STATUS_DELIVERED)
    t->n_delivered++;
}

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static gboolean
result_set (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

/* Opens the node of @t->dir (made when NULL) and starts it. */
static void
test_node_start (TestNode *t)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  EpNodeSettings *settings;

  if (t->dir == NULL)
    {
      t->dir = g_dir_make_tmp ("ep-node-XXXXXX", &error);
      g_assert_no_error (error);
      t->received = g_ptr_array_new_with_free_func (g_object_unref);
      t->requests = g_ptr_array_new_with_free_func (g_object_unref);
      t->status = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    }

  t->node = ep_node_open (t->dir, NULL, &error);
  g_assert_no_error (error);
  settings = ep_node_get_settings (t->node);
  g_free (settings->bind_address);
  settings->bind_address = g_strdup ("127.0.0.1");
  settings->port = 0;
  settings->lan_discovery = t->lan;
  g_strfreev (settings->bootstrap);
  settings->bootstrap = g_strdupv (t->bootstrap);
  if (!t->real_timing)
    ep_node_set_timing (t->node, &fast_node_timing);
  else
    {
      EpNodeTiming timing;

      ep_node_get_timing (t->node, &timing);
      timing.dht_one_address = TRUE;
      ep_node_set_timing (t->node, &timing);
    }
  g_signal_connect (t->node, "message-received", G_CALLBACK (on_message_received), t);
  g_signal_connect (t->node, "contact-request", G_CALLBACK (on_contact_request), t);
  g_signal_connect (t->node, "contact-request-answered", G_CALLBACK (on_answered), t);
  g_signal_connect (t->node, "contact-presence-changed", G_CALLBACK (on_presence), t);
  g_signal_connect (t->node, "message-status-changed", G_CALLBACK (on_status), t);

  ep_node_start_async (t->node, NULL, store_result, &result);
  g_assert_true (spin_until (result_set, &result, 10));
  ep_node_start_finish (t->node, result, &error);
  g_assert_no_error (error);
  if (!t->real_timing)
    ep_session_manager_set_timing (ep_node_get_session_manager (t->node), &fast_session_timing);
  memcpy (t->key, ep_identity_get_public_key (ep_node_get_identity (t->node)), 32);
  g_strlcpy (t->hex, ep_node_get_key (t->node), sizeof t->hex);
}

static void
test_node_stop (TestNode *t)
{
  ep_node_stop (t->node);
  g_clear_object (&t->node);
  /* Let the store's last results land. */
  spin_for (50);
}

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          rm_rf (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static void
test_node_clear (TestNode *t)
{
  if (t->node != NULL)
    test_node_stop (t);
  g_clear_pointer (&t->received, g_ptr_array_unref);
  g_clear_pointer (&t->requests, g_ptr_array_unref);
  g_clear_pointer (&t->status, g_hash_table_unref);
  g_clear_pointer (&t->last_request_text, g_free);
  if (t->dir != NULL)
    rm_rf (t->dir);
  g_clear_pointer (&t->dir, g_free);
}

static const guint8 *
test_node_key (TestNode *t)
{
  return t->key;
}

/* Tells @from where @to listens. */
static void
test_node_hint (TestNode *from,
                TestNode *to)
{
  g_autoptr(GSocketAddress) address =
    g_inet_socket_address_new_from_string ("127.0.0.1", ep_node_get_port (to->node));

  ep_node_add_peer_address (from->node, test_node_key (to), address);
}

typedef struct
{
  TestNode *a;
  TestNode *b;
} Pair;

static gboolean
contact_typing (gpointer data)
{
  return ep_contact_get_typing (data);
}

static gboolean
contact_not_typing (gpointer data)
{
  return !ep_contact_get_typing (data);
}

static gboolean
pair_connected (gpointer data)
{
  Pair *p = data;

  return ep_node_is_connected (p->a->node, test_node_key (p->b))
         && ep_node_is_connected (p->b->node, test_node_key (p->a));
}

static gboolean
has_request (gpointer data)
{
  return ((TestNode *) data)->requests->len > 0;
}

static gboolean
answered (gpointer data)
{
  return ((TestNode *) data)->answered_yes > 0;
}

/* A adds B (by contact ID), B accepts; both connected. */
static void
befriend (TestNode *a,
          TestNode *b,
          gboolean  hint)
{
  g_autoptr(GError) error = NULL;
  const char *id = ep_identity_get_contact_id (ep_node_get_identity (b->node));
  EpContact *contact;
  Pair pair = { a, b };

  contact = ep_node_add_contact (a->node, id, "hello, it is me", &error);
  g_assert_no_error (error);
  g_assert_cmpint (ep_contact_get_request_state (contact), ==,
                   EP_CONTACT_REQUEST_OUTGOING_PENDING);
  if (hint)
    test_node_hint (a, b);

  g_assert_true (spin_until (has_request, b, 15));
  g_assert_cmpstr (b->last_request_text, ==, "hello, it is me");
  g_assert_cmpstr (ep_contact_get_key (g_ptr_array_index (b->requests, 0)), ==,
                   ep_node_get_key (a->node));
  contact = ep_node_accept_request (b->node, test_node_key (a), &error);
  g_assert_no_error (error);
  g_assert_cmpint (ep_contact_get_request_state (contact), ==, EP_CONTACT_REQUEST_ACCEPTED);

  g_assert_true (spin_until (answered, a, 15));
  g_assert_true (spin_until (pair_connected, &pair, 15));
}

typedef struct
{
  TestNode *t;
  guint     n;
} Count;

static gboolean
received_at_least (gpointer data)
{
  Count *c = data;

  return c->t->received->len >= c->n;
}

static gboolean
delivered_at_least (gpointer data)
{
  Count *c = data;

  return c->t->n_delivered >= c->n;
}

typedef struct
{
  guint  pending;
  guint  failed;
} Sends;

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Sends *s = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(EpMessage) message = ep_node_send_message_finish (EP_NODE (source), result, &error);

  if (message == NULL)
    s->failed++;
  s->pending--;
}

static gboolean
sends_done (gpointer data)
{
  return ((Sends *) data)->pending == 0;
}

/* Sends "prefix N" for N in [0, n) and waits until all are in the outbox. */
static void
send_many (TestNode   *from,
           TestNode   *to,
           const char *prefix,
           guint       n)
{
  Sends s = { 0, 0 };

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("%s %u", prefix, i);

      s.pending++;
      ep_node_send_message_async (from->node, test_node_key (to), text, NULL, on_sent, &s);
    }
  g_assert_true (spin_until (sends_done, &s, 60));
  g_assert_cmpuint (s.failed, ==, 0);
}

/* Checks that @t received exactly "prefix 0" … "prefix n-1", each once, in
 * history order. */
static void
check_history (TestNode   *t,
               TestNode   *peer,
               const char *prefix,
               guint       n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint matched = 0;

  ep_store_load_messages_async (ep_node_get_store (t->node), test_node_key (peer), NULL,
                                n + 10, NULL, store_result, &result);
  g_assert_true (spin_until (result_set, &result, 30));
  messages = ep_store_load_messages_finish (ep_node_get_store (t->node), result, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < messages->len; i++)
    {
      EpMessage *message = g_ptr_array_index (messages, i);

      if (ep_message_get_outgoing (message) || !g_str_has_prefix (ep_message_get_text (message), prefix))
        continue;
      g_assert_false (g_hash_table_contains (seen, ep_message_get_id (message)));
      g_hash_table_add (seen, (gpointer) ep_message_get_id (message));
      matched++;
    }
  g_assert_cmpuint (matched, ==, n);

  /* In order: the store gives a page oldest first. */
  {
    g_autoptr(GPtrArray) texts = g_ptr_array_new ();

    for (guint i = 0; i < messages->len; i++)
      {
        EpMessage *message = g_ptr_array_index (messages, i);

        if (!ep_message_get_outgoing (message) && g_str_has_prefix (ep_message_get_text (message), prefix))
          g_ptr_array_add (texts, (gpointer) ep_message_get_text (message));
      }
    for (guint i = 0; i < n; i++)
      {
        g_autofree char *expected = g_strdup_printf ("%s %u", prefix, i);

        g_assert_cmpstr (g_ptr_array_index (texts, i), ==, expected);
      }
  }
}

/* A DHT of @n nodes on 127.0.0.1, for nodes that find each other only by
 * their presence records. */
typedef struct
{
  guint    n;
  EpUdp  **udp;
  EpDht  **dht;
  char    *bootstrap[2];
} DhtNet;

static gboolean
dht_net_joined (gpointer data)
{
  DhtNet *net = data;

  for (guint i = 0; i < net->n; i++)
    if (ep_dht_get_n_nodes (net->dht[i]) < MIN (net->n - 1, 8))
      return FALSE;
  return TRUE;
}

static void
dht_net_start (DhtNet *net,
               guint   n)
{
  net->n = n;
  net->udp = g_new0 (EpUdp *, n);
  net->dht = g_new0 (EpDht *, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;

      net->udp[i] = ep_udp_new ("127.0.0.1", 0, &error);
      g_assert_no_error (error);
      net->dht[i] = ep_dht_new (net->udp[i]);
      ep_dht_set_max_nodes_per_ip (net->dht[i], 0);
      ep_dht_set_query_timeout (net->dht[i], 400);
    }
  net->bootstrap[0] = g_strdup_printf ("127.0.0.1:%u", ep_udp_get_port (net->udp[0]));
  net->bootstrap[1] = NULL;
  ep_dht_start (net->dht[0], NULL);
  for (guint i = 1; i < n; i++)
    ep_dht_start (net->dht[i], (const char * const *) net->bootstrap);
  g_assert_true (spin_until (dht_net_joined, net, 60));
}

static void
dht_net_stop (DhtNet *net)
{
  for (guint i = 0; i < net->n; i++)
    {
      g_object_unref (net->dht[i]);
      g_object_unref (net->udp[i]);
    }
  g_free (net->dht);
  g_free (net->udp);
  g_free (net->bootstrap[0]);
}
