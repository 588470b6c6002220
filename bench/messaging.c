/* messaging.c — bench-messaging: the whole stack, from start to delivery
 *
 * 1. Two nodes that are contacts already start; how long until their
 *    session is up: by LAN discovery alone (no DHT; needs multicast, so run
 *    it through tests/run-lan-discovery.sh, else that part is skipped) and
 *    by DHT presence alone (no LAN) on a loopback DHT of N_DHT nodes.
 * 2. End-to-end latency through EpNode, store and session: from
 *    ep_node_send_message_async() on one node to ::message-received on the
 *    other, one message at a time: p50 and p99.
 * 3. The store: inserts per second filling one conversation of N_STORE
 *    messages as the node does (half sent, half received), and the time to
 *    open its last page.
 *
 * Usage: bench-messaging [N_DHT=200] [N_STORE=100000] [ROUNDS=5]
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>

#include "node-test-util.h"

#define LATENCY_MESSAGES 1000

static int
compare_double (const void *a,
                const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (double *values,
            guint   n,
            double  p)
{
  qsort (values, n, sizeof *values, compare_double);
  return values[MIN (n - 1, (guint) (p * n))];
}

/* Restarts both (contacts already) @rounds times; ms until connected. */
static void
time_to_session (TestNode   *a,
                 TestNode   *b,
                 guint       rounds,
                 const char *how)
{
  g_autofree double *ms = g_new (double, rounds);
  Pair pair = { a, b };

  for (guint i = 0; i < rounds; i++)
    {
      gint64 start;

      test_node_stop (a);
      test_node_stop (b);
      start = g_get_monotonic_time ();
      test_node_start (a);
      test_node_start (b);
      if (!spin_until (pair_connected, &pair, 30))
        {
          g_print ("  %s: not connected within 30 s\n", how);
          return;
        }
      ms[i] = (g_get_monotonic_time () - start) / 1e3;
    }
  g_print ("  session up %s: median %.0f ms, worst %.0f ms (%u starts of both nodes)\n",
           how, percentile (ms, rounds, 0.5), percentile (ms, rounds, 0.999), rounds);
}

static void
bench_lan (guint rounds)
{
  TestNode a = { .lan = TRUE, .real_timing = TRUE }, b = { .lan = TRUE, .real_timing = TRUE };

  if (g_getenv ("EP_LAN_TEST_IFACE") == NULL)
    {
      g_print ("  LAN: skipped (run through tests/run-lan-discovery.sh for multicast)\n");
      return;
    }
  test_node_start (&a);
  test_node_start (&b);
  befriend (&a, &b, FALSE);
  time_to_session (&a, &b, rounds, "by LAN discovery");
  test_node_clear (&a);
  test_node_clear (&b);
}

static void
on_latency_received (EpNode    *node,
                     EpMessage *message,
                     gpointer   user_data)
{
  *(gint64 *) user_data = g_get_monotonic_time ();
}

static void
bench_latency (TestNode *a,
               TestNode *b)
{
  g_autofree double *ms = g_new (double, LATENCY_MESSAGES);
  gint64 received = 0;
  gulong handler = g_signal_connect (b->node, "message-received",
                                     G_CALLBACK (on_latency_received), &received);

  for (guint i = 0; i < LATENCY_MESSAGES; i++)
    {
      gint64 start = g_get_monotonic_time ();
      GMainContext *context = g_main_context_get_thread_default ();
      Sends s = { 1, 0 };

      received = 0;
      ep_node_send_message_async (a->node, test_node_key (b), "ping", NULL, on_sent, &s);
      while (received == 0)
        g_main_context_iteration (context, TRUE);
      ms[i] = (received - start) / 1e3;
      while (s.pending > 0)
        g_main_context_iteration (context, TRUE);
    }
  g_signal_handler_disconnect (b->node, handler);
  g_print ("  end to end (send call -> message-received), %u messages one at a time: "
           "p50 %.2f ms, p99 %.2f ms\n", LATENCY_MESSAGES,
           percentile (ms, LATENCY_MESSAGES, 0.5), percentile (ms, LATENCY_MESSAGES, 0.99));
}

static void
bench_dht (guint n_dht,
           guint rounds)
{
  TestNode a = { .real_timing = TRUE }, b = { .real_timing = TRUE };
  DhtNet net = { 0 };
  gint64 start = g_get_monotonic_time ();

  dht_net_start (&net, n_dht);
  g_print ("  a loopback DHT of %u nodes joined in %.1f s\n", n_dht,
           (g_get_monotonic_time () - start) / 1e6);
  a.bootstrap = b.bootstrap = net.bootstrap;
  test_node_start (&a);
  test_node_start (&b);
  befriend (&a, &b, FALSE);
  time_to_session (&a, &b, rounds, "by DHT presence only");
  bench_latency (&a, &b);
  test_node_clear (&a);
  test_node_clear (&b);
  dht_net_stop (&net);
}

typedef struct
{
  EpStore *store;
  guint8   contact[32];
  guint    total;
  guint    started;
  guint    done;
  gboolean failed;
} Filler;

static void fill_one (Filler *filler);

static void
filled_one (Filler    *filler,
            EpMessage *message,
            GError    *error)
{
  filler->done++;
  if (message == NULL)
    {
      g_printerr ("insert failed: %s\n", error->message);
      filler->failed = TRUE;
      return;
    }
  fill_one (filler);
}

static void
on_sent_filled (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpMessage) message = ep_store_send_message_finish (EP_STORE (source), result,
                                                               &error);

  filled_one (user_data, message, error);
}

static void
on_received_filled (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpMessage) message = ep_store_receive_message_finish (EP_STORE (source), result,
                                                                  NULL, &error);

  filled_one (user_data, message, error);
}

static void
fill_one (Filler *filler)
{
  g_autofree char *text = NULL;
  guint i;

  if (filler->started >= filler->total || filler->failed)
    return;
  i = filler->started++;
  text = g_strdup_printf ("message %u of a long conversation, with some words in it", i);
  if (i % 2 == 0)
    ep_store_send_message_async (filler->store, filler->contact, text, NULL, on_sent_filled,
                                 filler);
  else
    {
      guint8 id[EP_MESSAGE_ID_SIZE];

      randombytes_buf (id, sizeof id);
      ep_store_receive_message_async (filler->store, filler->contact, id, g_get_real_time (),
                                      i + 1, text, NULL, on_received_filled, filler);
    }
}

static gboolean
filled (gpointer data)
{
  Filler *filler = data;

  return filler->failed || filler->done == filler->total;
}

static void
bench_store (guint n)
{
  TestNode a = { 0 };
  g_autoptr(EpContact) contact = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(EpConversation) conversation = NULL;
  g_autoptr(GError) error = NULL;
  Filler filler = { 0 };
  gint64 start;

  test_node_start (&a);
  filler.store = ep_node_get_store (a.node);
  filler.total = n;
  randombytes_buf (filler.contact, sizeof filler.contact);
  contact = ep_contact_new (filler.contact);
  ep_contact_set_request_state (contact, EP_CONTACT_REQUEST_ACCEPTED);
  ep_store_save_contact_async (filler.store, contact, NULL, store_result, &result);
  spin_until (result_set, &result, 10);
  g_clear_object (&result);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < 64; i++)
    fill_one (&filler);
  spin_until (filled, &filler, 3600);
  g_print ("  store: %u messages inserted as the node does, 64 in flight: %.0f per second\n",
           n, n / ((g_get_monotonic_time () - start) / 1e6));

  start = g_get_monotonic_time ();
  ep_node_open_conversation_async (a.node, filler.contact, NULL, store_result, &result);
  spin_until (result_set, &result, 60);
  conversation = ep_node_open_conversation_finish (a.node, result, &error);
  g_assert_no_error (error);
  g_print ("  store: opened the last page of a %u-message conversation in %.2f ms "
           "(%u messages loaded)\n", n, (g_get_monotonic_time () - start) / 1e3,
           g_list_model_get_n_items (G_LIST_MODEL (conversation)));
  g_clear_object (&conversation);
  test_node_clear (&a);
}

int
main (int   argc,
      char *argv[])
{
  guint n_dht = argc > 1 ? (guint) atoi (argv[1]) : 200;
  guint n_store = argc > 2 ? (guint) atoi (argv[2]) : 100000;
  guint rounds = argc > 3 ? (guint) atoi (argv[3]) : 5;
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  if (n_dht < 2 || rounds < 1)
    {
      g_printerr ("usage: bench-messaging [N_DHT>=2] [N_STORE] [ROUNDS>=1]\n");
      return 2;
    }

  g_print ("bench-messaging: two EpNodes on loopback\n");
  bench_lan (rounds);
  bench_dht (n_dht, rounds);
  if (n_store > 0)
    bench_store (n_store);

  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return 0;
}
