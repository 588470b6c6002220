/* ep-poison-net.c — an in-process DHT with lying nodes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <sodium.h>
#include <string.h>

#include "ep-poison-net.h"
#include "ep-poison-node.h"

#define QUERY_TIMEOUT_MS 400
#define SYBIL_PREFIX 8          /* bytes a Sybil's ID shares with the target */

typedef struct
{
  GMainContext  *context;
  GRand         *rand;
  guint          n_honest;
  guint          n_lying;
  EpUdp        **udp;
  EpDht        **dht;
  EpPoisonNode **lying;
  EpPoisonKind  *kinds;
  EpIdentity    *victim;
  guint8         target[20];
} Net;

const char *
ep_poison_kind_to_string (EpPoisonKind kind)
{
  switch (kind)
    {
    case EP_POISON_FORGE:     return "forge";
    case EP_POISON_REPLAY:    return "replay";
    case EP_POISON_OTHER_KEY: return "other-key";
    case EP_POISON_FUTURE:    return "future";
    case EP_POISON_SYBIL:     return "sybil";
    case EP_POISON_DROP:      return "drop";
    case EP_POISON_MIXED:     return "mixed";
    default:                  return "?";
    }
}

static gboolean
on_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Spins until *flag (if any) is set or @msec pass; FALSE on timeout. */
static gboolean
spin (Net      *net,
      gpointer *slot,
      guint     msec)
{
  gboolean timed_out = FALSE;
  GSource *timer = g_timeout_source_new (msec);

  g_source_set_callback (timer, on_timeout, &timed_out, NULL);
  g_source_attach (timer, net->context);
  while ((slot == NULL || *slot == NULL) && !timed_out)
    g_main_context_iteration (net->context, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
  return !timed_out;
}

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static gboolean
all_ready (Net *net)
{
  for (guint i = 0; i < net->n_honest; i++)
    if (!ep_dht_is_ready (net->dht[i]))
      return FALSE;
  return TRUE;
}

static void
random_bytes (Net    *net,
              guint8 *out,
              gsize   len)
{
  for (gsize i = 0; i < len; i++)
    out[i] = g_rand_int_range (net->rand, 0, 256);
}

static void
append_compact (GByteArray   *out,
                const guint8 *id,
                EpUdp        *udp)
{
  g_autoptr(GSocketAddress) address = ep_udp_get_local_address (udp, G_SOCKET_FAMILY_IPV4);
  GInetAddress *inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
  guint8 p[2] = { port >> 8, port & 0xff };

  g_byte_array_append (out, id, 20);
  g_byte_array_append (out, g_inet_address_to_bytes (inet), 4);
  g_byte_array_append (out, p, 2);
}

static GPtrArray *
endpoint (guint16 port)
{
  GPtrArray *endpoints = g_ptr_array_new_with_free_func (g_object_unref);

  g_ptr_array_add (endpoints, g_inet_socket_address_new_from_string ("127.0.0.1", port));
  return endpoints;
}

static gboolean
build (Net                  *net,
       const EpPoisonParams *params,
       GError              **error)
{
  g_autofree char *bootstrap = NULL;
  const char *list[2] = { NULL, NULL };

  net->n_lying = params->n_nodes * params->percent / 100;
  net->n_honest = params->n_nodes - net->n_lying;
  net->udp = g_new0 (EpUdp *, net->n_honest);
  net->dht = g_new0 (EpDht *, net->n_honest);
  net->lying = g_new0 (EpPoisonNode *, net->n_lying + 1);
  net->kinds = g_new0 (EpPoisonKind, net->n_lying + 1);
  net->victim = ep_identity_new_random ();
  ep_presence_target (ep_identity_get_public_key (net->victim), net->target);

  for (guint i = 0; i < net->n_honest; i++)
    {
      net->udp[i] = ep_udp_new ("127.0.0.1", 0, error);
      if (net->udp[i] == NULL)
        return FALSE;
      net->dht[i] = ep_dht_new (net->udp[i]);
      ep_dht_set_max_nodes_per_ip (net->dht[i], 0);
      ep_dht_set_query_timeout (net->dht[i], QUERY_TIMEOUT_MS);
    }
  bootstrap = g_strdup_printf ("127.0.0.1:%u", ep_udp_get_port (net->udp[0]));
  list[0] = bootstrap;
  ep_dht_start (net->dht[0], NULL);
  for (guint i = 1; i < net->n_honest; i++)
    ep_dht_start (net->dht[i], list);

  {
    gboolean timed_out = FALSE;
    GSource *timer = g_timeout_source_new_seconds (30);

    g_source_set_callback (timer, on_timeout, &timed_out, NULL);
    g_source_attach (timer, net->context);
    while (!all_ready (net) && !timed_out)
      g_main_context_iteration (net->context, TRUE);
    g_source_destroy (timer);
    g_source_unref (timer);
    if (timed_out)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the honest nodes never got ready");
        return FALSE;
      }
  }

  for (guint i = 0; i < net->n_lying; i++)
    {
      guint8 id[20];

      net->kinds[i] = params->kind == EP_POISON_MIXED ? (EpPoisonKind) (i % EP_POISON_N_KINDS)
                                                      : params->kind;
      random_bytes (net, id, sizeof id);
      if (net->kinds[i] == EP_POISON_SYBIL)
        memcpy (id, net->target, SYBIL_PREFIX);
      net->lying[i] = ep_poison_node_new ("127.0.0.1", id, error);
      if (net->lying[i] == NULL)
        return FALSE;
      ep_poison_node_set_drop_puts (net->lying[i],
                                    net->kinds[i] == EP_POISON_SYBIL
                                    || net->kinds[i] == EP_POISON_DROP);
    }

  /* Peer lists: Sybils name only each other, the others everybody. */
  {
    g_autoptr(GByteArray) everybody = g_byte_array_new ();
    g_autoptr(GByteArray) sybils = g_byte_array_new ();
    g_autoptr(GBytes) everybody_bytes = NULL;
    g_autoptr(GBytes) sybil_bytes = NULL;

    for (guint i = 0; i < net->n_honest; i++)
      append_compact (everybody, ep_dht_get_id (net->dht[i]), net->udp[i]);
    for (guint i = 0; i < net->n_lying; i++)
      {
        guint8 c[26];

        ep_poison_node_get_compact (net->lying[i], c);
        g_byte_array_append (everybody, c, 26);
        if (net->kinds[i] == EP_POISON_SYBIL)
          g_byte_array_append (sybils, c, 26);
      }
    everybody_bytes = g_bytes_new (everybody->data, everybody->len);
    sybil_bytes = g_bytes_new (sybils->data, sybils->len);
    for (guint i = 0; i < net->n_lying; i++)
      ep_poison_node_set_peers (net->lying[i], net->kinds[i] == EP_POISON_SYBIL ? sybil_bytes
                                                                               : everybody_bytes);
  }

  /* The lying nodes push into every table that has room for them. */
  for (guint i = 0; i < net->n_lying; i++)
    for (guint j = 0; j < net->n_honest; j++)
      {
        g_autoptr(GSocketAddress) to = ep_udp_get_local_address (net->udp[j],
                                                                 G_SOCKET_FAMILY_IPV4);

        ep_poison_node_introduce (net->lying[i], to);
      }
  spin (net, NULL, 1000);
  return TRUE;
}

static EpPresenceRecord *
publish (Net        *net,
         EpPresence *presence,
         guint16     port,
         GError    **error)
{
  g_autoptr(GPtrArray) endpoints = endpoint (port);
  g_autoptr(GAsyncResult) result = NULL;

  ep_presence_set_endpoints (presence, endpoints);
  ep_presence_publish_async (presence, NULL, store_result, &result);
  if (!spin (net, (gpointer *) &result, 60000))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "publishing never finished");
      return NULL;
    }
  return ep_presence_publish_finish (presence, result, NULL, error);
}

/* A record under another key, as a lying node hands it out. */
static void
set_other_key_item (EpPoisonNode *node,
                    gint64        timestamp,
                    gint64        seq)
{
  guint8 pk[32], sk[64], sig[64], x[32];
  g_autoptr(GPtrArray) endpoints = endpoint (6666);
  g_autoptr(GBytes) v = NULL;
  gsize len = 0;
  const guint8 *p;

  crypto_sign_keypair (pk, sk);
  randombytes_buf (x, sizeof x);
  v = ep_presence_value_encode (x, endpoints, timestamp, timestamp + 3600, NULL);
  p = g_bytes_get_data (v, &len);
  ep_bep44_sign (sk, (const guint8 *) EP_PRESENCE_SALT, EP_PRESENCE_SALT_LEN, seq, p, len, sig);
  ep_poison_node_set_item (node, pk, sig, seq, v);
  sodium_memzero (sk, sizeof sk);
}

static void
arm (Net                    *net,
     const EpPresenceRecord *old,
     const EpPresenceRecord *newest)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  for (guint i = 0; i < net->n_lying; i++)
    switch (net->kinds[i])
      {
      case EP_POISON_FORGE:
        {
          g_autoptr(GPtrArray) endpoints = endpoint (6666);
          g_autoptr(GBytes) v = ep_presence_value_encode (newest->value.static_key, endpoints,
                                                          now, now + 3600, NULL);
          guint8 sig[64];

          randombytes_buf (sig, sizeof sig);
          ep_poison_node_set_item (net->lying[i], newest->key, sig, newest->seq + 1000, v);
        }
        break;
      case EP_POISON_REPLAY:
        ep_poison_node_set_item (net->lying[i], old->key, old->signature, old->seq, old->v);
        break;
      case EP_POISON_OTHER_KEY:
        set_other_key_item (net->lying[i], now, newest->seq + 1000);
        break;
      case EP_POISON_FUTURE:
        set_other_key_item (net->lying[i], now + 10 * 365 * 86400, G_MAXINT64);
        break;
      case EP_POISON_SYBIL:
      case EP_POISON_DROP:
      case EP_POISON_N_KINDS:
      default:
        break;
      }
}

static void
resolve_mode (Net                    *net,
              const EpPresenceRecord *newest,
              guint                   paths,
              const guint            *resolvers,
              guint                   n,
              EpPoisonResult         *result)
{
  for (guint i = 0; i < n; i++)
    {
      EpDht *dht = net->dht[resolvers[i]];
      g_autoptr(EpIdentity) identity = ep_identity_new_random ();
      g_autoptr(EpPresence) presence = ep_presence_new (dht, identity, NULL, NULL);
      g_autoptr(GAsyncResult) async = NULL;
      g_autoptr(EpPresenceRecord) record = NULL;
      g_autoptr(GError) error = NULL;
      EpPresenceCounters counters = { 0 };

      ep_presence_set_paths (presence, paths);
      ep_presence_resolve_async (presence, newest->key, NULL, store_result, &async);
      result->lookups++;
      if (!spin (net, (gpointer *) &async, 60000))
        {
          result->failed++;
          continue;
        }
      record = ep_presence_resolve_finish (presence, async, &counters, &error);
      ep_presence_counters_add (&result->counters, &counters);
      result->penalised += ep_dht_get_n_penalised (dht);
      if (record == NULL)
        {
          g_debug ("resolution failed: %s", error->message);
          result->failed++;
        }
      else if (record->seq == newest->seq && g_bytes_equal (record->v, newest->v))
        result->newest++;
      else
        result->wrong++;
    }
}

static void
teardown (Net *net)
{
  for (guint i = 0; i < net->n_lying; i++)
    g_clear_pointer (&net->lying[i], ep_poison_node_free);
  for (guint i = 0; i < net->n_honest; i++)
    {
      g_clear_object (&net->dht[i]);
      g_clear_object (&net->udp[i]);
    }
  g_clear_object (&net->victim);
  while (g_main_context_iteration (net->context, FALSE))
    ;
  g_free (net->udp);
  g_free (net->dht);
  g_free (net->lying);
  g_free (net->kinds);
  g_rand_free (net->rand);
}

/**
 * ep_poison_net_run:
 * @results: one per mode (params->paths[i]), zeroed here
 */
gboolean
ep_poison_net_run (const EpPoisonParams *params,
                   EpPoisonResult        results[EP_POISON_MAX_MODES],
                   GError              **error)
{
  Net net = { 0 };
  g_autoptr(EpPresence) publisher = NULL;
  g_autoptr(EpPresenceRecord) old = NULL;
  g_autoptr(EpPresenceRecord) newest = NULL;
  g_autofree guint *order = NULL;
  gboolean ok = FALSE;
  guint per_mode, n_candidates;

  g_return_val_if_fail (params->n_modes >= 1 && params->n_modes <= EP_POISON_MAX_MODES, FALSE);
  g_return_val_if_fail (params->percent <= 90 && params->n_nodes >= 10, FALSE);

  memset (results, 0, EP_POISON_MAX_MODES * sizeof (EpPoisonResult));
  net.context = g_main_context_new ();
  net.rand = g_rand_new_with_seed (params->seed);
  g_main_context_push_thread_default (net.context);

  if (!build (&net, params, error))
    goto out;

  /* Node 1 publishes for the victim, twice: the first record is the one
   * replaying nodes hand out later. */
  publisher = ep_presence_new (net.dht[1], net.victim, NULL, error);
  if (publisher == NULL || (old = publish (&net, publisher, 50001, error)) == NULL
      || (newest = publish (&net, publisher, 50002, error)) == NULL)
    goto out;
  arm (&net, old, newest);

  /* Resolvers: honest nodes but the bootstrap node and the publisher,
   * shuffled by the seed, each used in one mode only. */
  n_candidates = net.n_honest - 2;
  order = g_new (guint, n_candidates);
  for (guint i = 0; i < n_candidates; i++)
    order[i] = i + 2;
  for (guint i = n_candidates; i > 1; i--)
    {
      guint j = g_rand_int_range (net.rand, 0, i);
      guint t = order[i - 1];

      order[i - 1] = order[j];
      order[j] = t;
    }
  per_mode = MIN (params->n_lookups, n_candidates / params->n_modes);
  for (guint m = 0; m < params->n_modes; m++)
    resolve_mode (&net, newest, params->paths[m], order + m * per_mode, per_mode, &results[m]);
  ok = TRUE;
  for (guint i = 0; i < net.n_lying; i++)
    {
      results[0].lying_queries += ep_poison_node_get_n_queries (net.lying[i]);
      results[0].puts_dropped += ep_poison_node_get_n_puts_dropped (net.lying[i]);
    }

out:
  g_clear_object (&publisher);
  teardown (&net);
  g_main_context_pop_thread_default (net.context);
  g_main_context_unref (net.context);
  return ok;
}
