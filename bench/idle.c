/* idle.c — bench-idle: what an idle node costs the network
 *
 * Eleven EpNodes on 127.0.0.1 with the default timing: one has the ten
 * others as accepted contacts, all connected, and a small DHT of two EpDht
 * nodes (plus the nodes' own) holds their records. Once everything has
 * settled, the datagrams the central node sends and receives (EpUdpCounters:
 * DHT and sessions together) are counted over a window of real time.
 * Tox is said to spend about 600 packets a minute on such an idle node.
 *
 * Usage: bench-idle [--seconds N (60)] [--settle N (10)]
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "node-test-util.h"

#define N_CONTACTS 10
#define N_DHT      2

typedef struct
{
  TestNode *center;
  TestNode *leaves;
} Star;

static gboolean
all_connected (gpointer data)
{
  Star *star = data;

  for (guint i = 0; i < N_CONTACTS; i++)
    if (!ep_node_is_connected (star->center->node, test_node_key (&star->leaves[i]))
        || !ep_node_is_connected (star->leaves[i].node, test_node_key (star->center)))
      return FALSE;
  return TRUE;
}

typedef struct
{
  guint64 sent;
  guint64 received;
  guint64 keepalives_sent;
  guint64 keepalives_received;
  guint64 handshakes;
  guint64 dht_queries_sent;
  guint64 dht_queries_received;
} Snapshot;

static void
snapshot (Star     *star,
          Snapshot *s)
{
  EpNode *node = star->center->node;
  const EpUdpCounters *udp = ep_udp_get_counters (ep_node_get_udp (node));
  const EpDhtCounters *dht = ep_dht_get_counters (ep_node_get_dht (node));

  memset (s, 0, sizeof *s);
  s->sent = udp->sent;
  s->received = udp->received;
  s->dht_queries_sent = dht->queries_sent;
  s->dht_queries_received = dht->queries_received;
  for (guint i = 0; i < N_CONTACTS; i++)
    {
      EpSession *session = ep_session_manager_lookup (ep_node_get_session_manager (node),
                                                      test_node_key (&star->leaves[i]));
      const EpSessionCounters *c;

      if (session == NULL)
        continue;
      c = ep_session_get_counters (session);
      s->keepalives_sent += c->keepalives_sent;
      s->keepalives_received += c->keepalives_received;
      s->handshakes += c->handshakes;
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) options = NULL;
  GMainContext *context;
  TestNode center = { 0 };
  TestNode leaves[N_CONTACTS] = { 0 };
  Star star = { &center, leaves };
  DhtNet net = { 0 };
  Snapshot before, after;
  int seconds = 60;
  int settle = 10;
  double minutes;
  gint64 start;
  const GOptionEntry entries[] = {
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Length of the measured window", "N" },
    { "settle", 0, 0, G_OPTION_ARG_INT, &settle, "Seconds to wait before it", "N" },
    { NULL }
  };

  options = g_option_context_new ("— idle packets of a node with ten contacts");
  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (seconds <= 0 || settle < 0)
    {
      g_printerr ("--seconds must be positive and --settle not negative\n");
      return 2;
    }

  context = g_main_context_new ();
  g_main_context_push_thread_default (context);

  dht_net_start (&net, N_DHT);
  center.real_timing = TRUE;
  center.bootstrap = net.bootstrap;
  test_node_start (&center);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < N_CONTACTS; i++)
    {
      leaves[i].real_timing = TRUE;
      leaves[i].bootstrap = net.bootstrap;
      test_node_start (&leaves[i]);
      befriend (&center, &leaves[i], TRUE);
    }
  g_assert_true (spin_until (all_connected, &star, 60));
  g_print ("%d contacts connected in %.1f s; settling for %d s\n", N_CONTACTS,
           (g_get_monotonic_time () - start) / 1e6, settle);
  spin_for ((guint) settle * 1000);

  snapshot (&star, &before);
  start = g_get_monotonic_time ();
  spin_for ((guint) seconds * 1000);
  minutes = (g_get_monotonic_time () - start) / 60e6;
  snapshot (&star, &after);
  if (!all_connected (&star))
    g_print ("warning: not every contact stayed connected\n");

  g_print ("window: %.1f s\n", minutes * 60);
  g_print ("  session keepalives: %.1f sent, %.1f received per minute; %" G_GUINT64_FORMAT
           " handshakes\n",
           (after.keepalives_sent - before.keepalives_sent) / minutes,
           (after.keepalives_received - before.keepalives_received) / minutes,
           after.handshakes - before.handshakes);
  g_print ("  DHT queries: %.1f sent, %.1f received per minute\n",
           (after.dht_queries_sent - before.dht_queries_sent) / minutes,
           (after.dht_queries_received - before.dht_queries_received) / minutes);
  g_print ("idle packets per minute (%d contacts): %.0f sent, %.0f received, %.0f total\n",
           N_CONTACTS, (after.sent - before.sent) / minutes,
           (after.received - before.received) / minutes,
           (after.sent - before.sent + after.received - before.received) / minutes);

  for (guint i = 0; i < N_CONTACTS; i++)
    test_node_clear (&leaves[i]);
  test_node_clear (&center);
  dht_net_stop (&net);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return 0;
}
