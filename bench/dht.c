/* bench/dht.c — lookups on a network of N EpDht nodes on loopback
 *
 * Builds the network in one process (nodes join in batches, each through a
 * random node already in), waits until the routing tables stop growing,
 * then runs random lookups one after the other, each for the ID of a random
 * node from a random other node. A lookup succeeds when that node comes
 * back as the closest. Prints median/p95 time, rounds, queries per lookup,
 * success rate and RSS per node.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "ep-core.h"

#define JOIN_BATCH 25

typedef struct
{
  guint    n;
  EpUdp  **udp;
  EpDht  **dht;
} Network;

static gsize
rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "VmRSS:");
  return line != NULL ? g_ascii_strtoull (line + 6, NULL, 10) : 0;
}

static void
raise_fd_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

static gboolean
on_timer (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the default context for @msec. */
static void
spin_for (guint msec)
{
  gboolean done = FALSE;

  g_timeout_add (msec, on_timer, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static guint
total_entries (Network *net)
{
  guint total = 0;

  for (guint i = 0; i < net->n; i++)
    total += ep_dht_get_n_nodes (net->dht[i]);
  return total;
}

static gboolean
build (Network  *net,
       guint     n,
       guint     alpha,
       GError  **error)
{
  net->n = n;
  net->udp = g_new0 (EpUdp *, n);
  net->dht = g_new0 (EpDht *, n);

  for (guint i = 0; i < n; i++)
    {
      net->udp[i] = ep_udp_new ("127.0.0.1", 0, error);
      if (net->udp[i] == NULL)
        return FALSE;
      net->dht[i] = ep_dht_new (net->udp[i]);
      ep_dht_set_alpha (net->dht[i], alpha);
      ep_dht_set_query_timeout (net->dht[i], 1000);
    }

  ep_dht_start (net->dht[0], NULL);
  for (guint start = 1; start < n; start += JOIN_BATCH)
    {
      guint end = MIN (start + JOIN_BATCH, n);
      gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
      gboolean all;

      for (guint i = start; i < end; i++)
        {
          g_autofree char *boot = NULL;
          const char *list[2] = { NULL, NULL };

          boot = g_strdup_printf ("127.0.0.1:%u",
                                  ep_udp_get_port (net->udp[g_random_int_range (0, start)]));
          list[0] = boot;
          ep_dht_start (net->dht[i], list);
        }
      do
        {
          g_main_context_iteration (NULL, TRUE);
          all = TRUE;
          for (guint i = start; i < end && all; i++)
            all = ep_dht_is_ready (net->dht[i]);
        }
      while (!all && g_get_monotonic_time () < deadline);
    }

  /* Settled: the routing tables stopped growing. */
  for (guint last = 0, rounds = 0; rounds < 30; rounds++)
    {
      guint now;

      spin_for (500);
      now = total_entries (net);
      if (now == last)
        break;
      last = now;
    }
  return TRUE;
}

static void
destroy (Network *net)
{
  for (guint i = 0; i < net->n; i++)
    {
      g_clear_object (&net->dht[i]);
      g_clear_object (&net->udp[i]);
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_free (net->dht);
  g_free (net->udp);
}

static void
on_found (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static int
cmp_double (gconstpointer a,
            gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (GArray *sorted,
            double  p)
{
  guint i;

  if (sorted->len == 0)
    return 0;
  i = MIN ((guint) (p * (sorted->len - 1) + 0.5), sorted->len - 1);
  return g_array_index (sorted, double, i);
}

static void
run (guint    n,
     guint    lookups,
     guint    alpha,
     gboolean json)
{
  Network net = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) rounds = g_array_new (FALSE, FALSE, sizeof (double));
  gsize rss_before, rss_after;
  guint64 queries = 0;
  guint ok = 0;
  gint64 t0 = g_get_monotonic_time ();
  double rss_per_node;

  rss_before = rss_kib ();
  if (!build (&net, n, alpha, &error))
    {
      g_printerr ("bench-dht: %s\n", error->message);
      destroy (&net);
      return;
    }
  rss_after = rss_kib ();
  if (!json)
    g_printerr ("%u nodes joined and settled in %.1f s, %u routing-table entries\n",
                n, (g_get_monotonic_time () - t0) / 1e6, total_entries (&net));

  for (guint l = 0; l < lookups; l++)
    {
      guint from = g_random_int_range (0, n);
      guint to = g_random_int_range (0, n - 1);
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GPtrArray) found = NULL;
      gint64 start;
      double ms, r;
      guint q = 0, rr = 0;

      if (to >= from)
        to++;
      start = g_get_monotonic_time ();
      ep_dht_find_node_async (net.dht[from], ep_dht_get_id (net.dht[to]), NULL, on_found, &result);
      while (result == NULL)
        g_main_context_iteration (NULL, TRUE);
      ms = (g_get_monotonic_time () - start) / 1000.0;
      found = ep_dht_find_node_finish (net.dht[from], result, NULL);
      ep_dht_get_last_lookup_stats (net.dht[from], &q, &rr);

      if (found != NULL && found->len > 0
          && memcmp (((EpDhtNodeInfo *) found->pdata[0])->id, ep_dht_get_id (net.dht[to]), 20) == 0)
        ok++;
      g_array_append_val (times, ms);
      r = rr;
      g_array_append_val (rounds, r);
      queries += q;
    }

  g_array_sort (times, cmp_double);
  g_array_sort (rounds, cmp_double);
  rss_per_node = rss_after > rss_before ? (double) (rss_after - rss_before) / n : 0;

  if (json)
    g_print ("{\"impl\":\"encryptedp2p\",\"nodes\":%u,\"lookups\":%u,\"success_rate\":%.4f,"
             "\"median_ms\":%.3f,\"p95_ms\":%.3f,\"median_rounds\":%.1f,"
             "\"queries_per_lookup\":%.2f,\"rss_kib_per_node\":%.1f}\n",
             n, lookups, lookups > 0 ? (double) ok / lookups : 0,
             percentile (times, 0.5), percentile (times, 0.95), percentile (rounds, 0.5),
             lookups > 0 ? (double) queries / lookups : 0, rss_per_node);
  else
    g_print ("encryptedp2p  nodes %5u  lookups %4u  success %6.2f %%  median %7.2f ms  "
             "p95 %7.2f ms  rounds %4.1f  queries/lookup %6.2f  RSS/node %6.1f KiB\n",
             n, lookups, lookups > 0 ? 100.0 * ok / lookups : 0,
             percentile (times, 0.5), percentile (times, 0.95), percentile (rounds, 0.5),
             lookups > 0 ? (double) queries / lookups : 0, rss_per_node);
  fflush (stdout);
  destroy (&net);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  char **nodes = NULL;
  int lookups = 200;
  int alpha = EP_DHT_DEFAULT_ALPHA;
  gboolean json = FALSE;
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  const GOptionEntry entries[] = {
    { "nodes", 'n', 0, G_OPTION_ARG_STRING_ARRAY, &nodes,
      "Network size (repeatable, one process each; default: 100, 500 and 1000)", "N" },
    { "lookups", 'l', 0, G_OPTION_ARG_INT, &lookups, "Lookups per network (default 200)", "L" },
    { "alpha", 'a', 0, G_OPTION_ARG_INT, &alpha, "Queries in flight per lookup (default 3)", "A" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per network size", NULL },
    { NULL }
  };

  g_option_context_set_summary (context, "Lookups on a loopback network of EpDht nodes.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bench-dht: %s\n", error->message);
      return 2;
    }

  raise_fd_limit ();
  if (nodes == NULL)
    nodes = g_strdupv ((char *[]) { (char *) "100", (char *) "500", (char *) "1000", NULL });

  /* One size: measure here. Several: one fresh process each, so that the
   * RSS of one network is not hidden in the heap the previous one freed. */
  if (g_strv_length (nodes) == 1)
    {
      guint64 n = g_ascii_strtoull (nodes[0], NULL, 10);

      g_strfreev (nodes);
      if (n < 2 || n > 100000)
        {
          g_printerr ("bench-dht: --nodes must be between 2 and 100000\n");
          return 2;
        }
      run (n, MAX (lookups, 1), alpha, json);
      return 0;
    }

  for (guint i = 0; nodes[i] != NULL; i++)
    {
      g_autofree char *l = g_strdup_printf ("%d", lookups);
      g_autofree char *a = g_strdup_printf ("%d", alpha);
      const char *child[] = { self != NULL ? self : argv[0], "--nodes", nodes[i], "--lookups", l, "--alpha", a,
                              json ? "--json" : NULL, NULL };
      int status = 0;

      if (!g_spawn_sync (NULL, (char **) child, NULL, G_SPAWN_CHILD_INHERITS_STDIN,
                         NULL, NULL, NULL, NULL, &status, &error)
          || !g_spawn_check_wait_status (status, &error))
        {
          g_printerr ("bench-dht: %s\n", error->message);
          g_strfreev (nodes);
          return 1;
        }
    }
  g_strfreev (nodes);
  return 0;
}
