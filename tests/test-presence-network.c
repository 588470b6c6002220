/* test-presence-network.c — presence records over an in-process loopback DHT
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>

#include "ep-core.h"
#include "ep-poison-net.h"
#include "ep-poison-node.h"

#define N_HONEST 20
#define N_RESOLVERS 3

typedef struct
{
  GMainContext *context;
  EpUdp        *udp[N_HONEST];
  EpDht        *dht[N_HONEST];
  char         *bootstrap;
} Net;

static gboolean
on_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Spins until *slot is set (or, with slot NULL, @msec pass). */
static void
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
  if (slot != NULL)
    g_assert_false (timed_out);
}

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Spins until *flag is non-zero, at most 30 s. */
static void
spin_until_set (Net    *net,
                gint64 *flag)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (*flag == 0 && g_get_monotonic_time () < deadline)
    spin (net, NULL, 50);
  g_assert_cmpint (*flag, !=, 0);
}

static gboolean
all_ready (Net *net)
{
  for (guint i = 0; i < N_HONEST; i++)
    if (!ep_dht_is_ready (net->dht[i]))
      return FALSE;
  return TRUE;
}

static void
net_setup (Net *net)
{
  const char *list[2] = { NULL, NULL };
  gboolean timed_out = FALSE;
  GSource *timer;

  net->context = g_main_context_new ();
  g_main_context_push_thread_default (net->context);
  for (guint i = 0; i < N_HONEST; i++)
    {
      g_autoptr(GError) error = NULL;

      net->udp[i] = ep_udp_new ("127.0.0.1", 0, &error);
      g_assert_no_error (error);
      net->dht[i] = ep_dht_new (net->udp[i]);
      ep_dht_set_max_nodes_per_ip (net->dht[i], 0);
      ep_dht_set_query_timeout (net->dht[i], 400);
    }
  net->bootstrap = g_strdup_printf ("127.0.0.1:%u", ep_udp_get_port (net->udp[0]));
  list[0] = net->bootstrap;
  ep_dht_start (net->dht[0], NULL);
  for (guint i = 1; i < N_HONEST; i++)
    ep_dht_start (net->dht[i], list);

  timer = g_timeout_source_new_seconds (30);
  g_source_set_callback (timer, on_timeout, &timed_out, NULL);
  g_source_attach (timer, net->context);
  while (!all_ready (net) && !timed_out)
    g_main_context_iteration (net->context, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
  g_assert_false (timed_out);
}

static void
net_teardown (Net *net)
{
  for (guint i = 0; i < N_HONEST; i++)
    {
      g_clear_object (&net->dht[i]);
      g_clear_object (&net->udp[i]);
    }
  while (g_main_context_iteration (net->context, FALSE))
    ;
  g_main_context_pop_thread_default (net->context);
  g_clear_pointer (&net->context, g_main_context_unref);
  g_clear_pointer (&net->bootstrap, g_free);
}

static GPtrArray *
endpoints_for (guint16 port)
{
  GPtrArray *endpoints = g_ptr_array_new_with_free_func (g_object_unref);

  g_ptr_array_add (endpoints, g_inet_socket_address_new_from_string ("127.0.0.1", port));
  g_ptr_array_add (endpoints, g_inet_socket_address_new_from_string ("::1", port + 1));
  return endpoints;
}

static EpPresenceRecord *
resolve (Net                *net,
         EpPresence         *presence,
         const guint8       *key,
         EpPresenceCounters *counters,
         GError            **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  ep_presence_resolve_async (presence, key, NULL, store_result, &result);
  spin (net, (gpointer *) &result, 30000);
  return ep_presence_resolve_finish (presence, result, counters, error);
}

static void
assert_endpoints (const EpPresenceRecord *record,
                  guint16                 port)
{
  g_autoptr(GPtrArray) expected = endpoints_for (port);

  g_assert_cmpuint (record->value.endpoints->len, ==, expected->len);
  for (guint i = 0; i < expected->len; i++)
    {
      GInetSocketAddress *a = record->value.endpoints->pdata[i];
      GInetSocketAddress *b = expected->pdata[i];

      g_assert_cmpuint (g_inet_socket_address_get_port (a), ==,
                        g_inet_socket_address_get_port (b));
      g_assert_true (g_inet_address_equal (g_inet_socket_address_get_address (a),
                                           g_inet_socket_address_get_address (b)));
    }
}

static void
on_published (EpPresence *presence,
              gint64      seq,
              guint       n_stored,
              gpointer    user_data)
{
  *(gint64 *) user_data = seq;
}

static void
on_resolved (EpPresence *presence,
             GBytes     *key,
             gint64      seq,
             gpointer    record,
             gpointer    user_data)
{
  *(gint64 *) user_data = seq;
}

/* A user publishes, goes away, comes back with new endpoints and
 * republishes, three times; the resolvers see the newest endpoints every
 * time, and the user's seq file keeps the seq growing across restarts. */
static void
test_republish (void)
{
  Net net = { 0 };
  g_autoptr(EpIdentity) user = ep_identity_new_random ();
  g_autofree char *dir = g_dir_make_tmp ("ep-presence-XXXXXX", NULL);
  g_autofree char *seq_path = g_build_filename (dir, EP_PRESENCE_SEQ_FILE_NAME, NULL);
  EpPresence *resolvers[N_RESOLVERS];
  EpIdentity *resolver_ids[N_RESOLVERS];
  gint64 last_seq = 0;

  net_setup (&net);
  for (guint r = 0; r < N_RESOLVERS; r++)
    {
      resolver_ids[r] = ep_identity_new_random ();
      resolvers[r] = ep_presence_new (net.dht[5 + 4 * r], resolver_ids[r], NULL, NULL);
      g_assert_nonnull (resolvers[r]);
    }

  for (guint round = 0; round < 3; round++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EpUdp) udp = ep_udp_new ("127.0.0.1", 0, &error);
      g_autoptr(EpDht) dht = NULL;
      g_autoptr(EpPresence) presence = NULL;
      g_autoptr(GPtrArray) first = endpoints_for (41000 + 10 * round);
      g_autoptr(GPtrArray) second = endpoints_for (41005 + 10 * round);
      const char *list[2] = { net.bootstrap, NULL };
      g_autofree char *contents = NULL;
      gint64 published = 0;

      g_assert_no_error (error);
      dht = ep_dht_new (udp);
      ep_dht_set_max_nodes_per_ip (dht, 0);
      ep_dht_set_query_timeout (dht, 400);
      ep_dht_start (dht, list);
      {
        gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

        while (!ep_dht_is_ready (dht) && g_get_monotonic_time () < deadline)
          spin (&net, NULL, 50);
        g_assert_true (ep_dht_is_ready (dht));
      }

      presence = ep_presence_new (dht, user, seq_path, &error);
      g_assert_no_error (error);
      g_assert_cmpint (ep_presence_get_last_published_seq (presence), ==, last_seq);
      g_signal_connect (presence, "published", G_CALLBACK (on_published), &published);

      /* Started: publishes at once; a new endpoint list publishes again. */
      ep_presence_set_endpoints (presence, first);
      ep_presence_start (presence);
      spin_until_set (&net, &published);
      g_assert_cmpint (published, >, last_seq);
      last_seq = published;
      published = 0;
      ep_presence_set_endpoints (presence, second);
      spin_until_set (&net, &published);
      g_assert_cmpint (published, >, last_seq);
      last_seq = published;

      g_assert_true (g_file_get_contents (seq_path, &contents, NULL, NULL));
      g_assert_cmpint (g_ascii_strtoll (contents, NULL, 10), ==, last_seq);

      for (guint r = 0; r < N_RESOLVERS; r++)
        {
          g_autoptr(EpPresenceRecord) record = NULL;
          gint64 resolved = 0;
          gulong id = g_signal_connect (resolvers[r], "resolved", G_CALLBACK (on_resolved),
                                        &resolved);

          record = resolve (&net, resolvers[r], ep_identity_get_public_key (user), NULL, &error);
          g_assert_no_error (error);
          g_assert_cmpint (record->seq, ==, last_seq);
          assert_endpoints (record, 41005 + 10 * round);
          g_assert_cmpmem (record->value.static_key, 32,
                           ep_identity_get_static_public_key (user), 32);
          g_assert_cmpint (resolved, ==, last_seq);
          g_assert_cmpint (ep_presence_get_last_seq (resolvers[r],
                                                     ep_identity_get_public_key (user)),
                           ==, last_seq);
          g_signal_handler_disconnect (resolvers[r], id);
        }

      /* Unchanged endpoints are published again on the timer (shortened
       * from 30 minutes to 1 second here). */
      if (round == 2)
        {
          ep_presence_stop (presence);
          ep_presence_set_republish_interval (presence, 1);
          for (guint k = 0; k < 2; k++)
            {
              published = 0;
              /* k = 0: publishes at once; k = 1: already started, the timer does */
              ep_presence_start (presence);
              spin_until_set (&net, &published);
              g_assert_cmpint (published, >, last_seq);
              last_seq = published;
            }
        }

      /* Goes away. */
      ep_presence_stop (presence);
    }

  for (guint r = 0; r < N_RESOLVERS; r++)
    {
      g_object_unref (resolvers[r]);
      g_object_unref (resolver_ids[r]);
    }
  net_teardown (&net);
  g_unlink (seq_path);
  g_rmdir (dir);
}

/* Nobody has a record: a clear error, not a hang. */
static void
test_not_found (void)
{
  Net net = { 0 };
  g_autoptr(EpIdentity) nobody = ep_identity_new_random ();
  g_autoptr(EpIdentity) me = ep_identity_new_random ();
  g_autoptr(EpPresence) presence = NULL;
  g_autoptr(EpPresenceRecord) record = NULL;
  g_autoptr(GError) error = NULL;
  EpPresenceCounters counters;

  net_setup (&net);
  presence = ep_presence_new (net.dht[3], me, NULL, NULL);
  record = resolve (&net, presence, ep_identity_get_public_key (nobody), &counters, &error);
  g_assert_null (record);
  g_assert_error (error, EP_PRESENCE_ERROR, EP_PRESENCE_ERROR_NOT_FOUND);
  g_assert_cmpuint (counters.offered, ==, 0);

  /* Cancelled: says so at once; the lookups still in flight end quietly. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GError) cancelled = NULL;

    ep_presence_resolve_async (presence, ep_identity_get_public_key (nobody), cancellable,
                               store_result, &result);
    g_cancellable_cancel (cancellable);
    spin (&net, (gpointer *) &result, 5000);
    g_assert_null (ep_presence_resolve_finish (presence, result, NULL, &cancelled));
    g_assert_error (cancelled, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    spin (&net, NULL, 1000);
  }
  g_clear_object (&presence);
  net_teardown (&net);
}

/* Liars next to the target hand out one bad record each: a forgery, a
 * replay of the user's older record, a record signed by another key, one
 * under another key with seq INT64_MAX and a far-future time, and two the
 * user really signed but that expired or are dated too far ahead. None is
 * ever returned, each is counted by reason, and the forgers (not the
 * holders of stale genuine records) are penalised. */
static void
test_planted (void)
{
  enum { FORGED, REPLAY, OTHER_KEY, FAR_FUTURE, EXPIRED, FUTURE, N_LIARS };
  Net net = { 0 };
  g_autoptr(EpIdentity) user = ep_identity_new_random ();
  g_autoptr(EpIdentity) reader = ep_identity_new_random ();
  g_autoptr(EpPresence) publisher = NULL;
  g_autoptr(EpPresenceRecord) old = NULL;
  g_autoptr(EpPresenceRecord) newest = NULL;
  g_autoptr(GByteArray) everybody = g_byte_array_new ();
  g_autoptr(GBytes) peers = NULL;
  EpPoisonNode *liars[N_LIARS];
  guint8 target[20];
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  net_setup (&net);
  ep_presence_target (ep_identity_get_public_key (user), target);
  for (guint i = 0; i < N_LIARS; i++)
    {
      g_autoptr(GError) error = NULL;
      guint8 id[20];

      memcpy (id, target, 20);
      id[6] ^= 1 + i;
      liars[i] = ep_poison_node_new ("127.0.0.1", id, &error);
      g_assert_no_error (error);
    }
  for (guint i = 0; i < N_HONEST; i++)
    {
      g_autoptr(GSocketAddress) a = ep_udp_get_local_address (net.udp[i], G_SOCKET_FAMILY_IPV4);
      GInetSocketAddress *isa = G_INET_SOCKET_ADDRESS (a);
      guint16 port = g_inet_socket_address_get_port (isa);
      guint8 p[2] = { port >> 8, port & 0xff };

      g_byte_array_append (everybody, ep_dht_get_id (net.dht[i]), 20);
      g_byte_array_append (everybody,
                           g_inet_address_to_bytes (g_inet_socket_address_get_address (isa)), 4);
      g_byte_array_append (everybody, p, 2);
    }
  for (guint i = 0; i < N_LIARS; i++)
    {
      guint8 c[26];

      ep_poison_node_get_compact (liars[i], c);
      g_byte_array_append (everybody, c, 26);
    }
  peers = g_bytes_new (everybody->data, everybody->len);
  for (guint i = 0; i < N_LIARS; i++)
    {
      ep_poison_node_set_peers (liars[i], peers);
      for (guint j = 0; j < N_HONEST; j++)
        {
          g_autoptr(GSocketAddress) to = ep_udp_get_local_address (net.udp[j],
                                                                   G_SOCKET_FAMILY_IPV4);
          ep_poison_node_introduce (liars[i], to);
        }
    }
  spin (&net, NULL, 500);

  /* Two genuine records; the second is the newest. */
  publisher = ep_presence_new (net.dht[1], user, NULL, NULL);
  for (guint k = 0; k < 2; k++)
    {
      g_autoptr(GPtrArray) endpoints = endpoints_for (42000 + 10 * k);
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) error = NULL;
      EpPresenceRecord *record;

      ep_presence_set_endpoints (publisher, endpoints);
      ep_presence_publish_async (publisher, NULL, store_result, &result);
      spin (&net, (gpointer *) &result, 30000);
      record = ep_presence_publish_finish (publisher, result, NULL, &error);
      g_assert_no_error (error);
      if (k == 0)
        old = record;
      else
        newest = record;
    }

  /* Arm the liars. */
  {
    g_autoptr(GPtrArray) theirs = endpoints_for (6666);
    g_autoptr(GBytes) v = ep_presence_value_encode (newest->value.static_key, theirs, now,
                                                    now + 3600, NULL);
    guint8 sig[64];
    EpHlc hlc;

    randombytes_buf (sig, sizeof sig);
    ep_poison_node_set_item (liars[FORGED], newest->key, sig, newest->seq + 5, v);
    ep_poison_node_set_item (liars[REPLAY], old->key, old->signature, old->seq, old->v);

    for (guint i = OTHER_KEY; i <= FAR_FUTURE; i++)
      {
        guint8 pk[32], sk[64], s[64];
        gint64 ts = i == OTHER_KEY ? now : now + 10 * 365 * 86400;
        gint64 seq = i == OTHER_KEY ? newest->seq + 5 : G_MAXINT64;
        g_autoptr(GBytes) other = ep_presence_value_encode (newest->value.static_key, theirs, ts,
                                                            ts + 3600, NULL);
        gsize len;
        const guint8 *p = g_bytes_get_data (other, &len);

        crypto_sign_keypair (pk, sk);
        ep_bep44_sign (sk, (const guint8 *) EP_PRESENCE_SALT, EP_PRESENCE_SALT_LEN, seq, p, len,
                       s);
        ep_poison_node_set_item (liars[i], pk, s, seq, other);
      }

    /* Genuinely signed by the user, with seqs above the newest. */
    ep_hlc_init (&hlc, newest->seq, NULL, NULL);
    for (guint i = EXPIRED; i <= FUTURE; i++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(EpPresenceRecord) r =
          ep_presence_record_new_signed (user, &hlc, theirs,
                                         i == EXPIRED ? now - 3 * 3600 : now + 3600, 3600,
                                         &error);

        g_assert_no_error (error);
        g_assert_cmpint (r->seq, >, newest->seq);
        ep_poison_node_set_item (liars[i], r->key, r->signature, r->seq, r->v);
      }
  }

  /* A first reader: no seq known yet. */
  {
    g_autoptr(EpPresence) presence = ep_presence_new (net.dht[7], reader, NULL, NULL);
    g_autoptr(EpPresenceRecord) record = NULL;
    g_autoptr(GError) error = NULL;
    EpPresenceCounters counters;

    record = resolve (&net, presence, newest->key, &counters, &error);
    g_assert_no_error (error);
    g_assert_cmpint (record->seq, ==, newest->seq);
    g_assert_true (g_bytes_equal (record->v, newest->v));
    g_assert_cmpuint (counters.rejected[EP_PRESENCE_REJECT_BAD_SIGNATURE], >=, 1);
    g_assert_cmpuint (counters.rejected[EP_PRESENCE_REJECT_WRONG_TARGET], >=, 2);
    g_assert_cmpuint (counters.rejected[EP_PRESENCE_REJECT_EXPIRED], >=, 1);
    g_assert_cmpuint (counters.rejected[EP_PRESENCE_REJECT_FROM_THE_FUTURE], >=, 1);
    g_assert_cmpuint (counters.superseded, >=, 1);    /* the replay, not yet a rollback */
    g_assert_cmpuint (ep_poison_node_get_n_items_sent (liars[REPLAY]), >=, 1);

    g_assert_true (ep_dht_is_penalised (net.dht[7], ep_poison_node_get_id (liars[FORGED]), NULL));
    g_assert_true (ep_dht_is_penalised (net.dht[7], ep_poison_node_get_id (liars[OTHER_KEY]),
                                        NULL));
    g_assert_true (ep_dht_is_penalised (net.dht[7], ep_poison_node_get_id (liars[FAR_FUTURE]),
                                        NULL));
    g_assert_false (ep_dht_is_penalised (net.dht[7], ep_poison_node_get_id (liars[EXPIRED]),
                                         NULL));
    g_assert_false (ep_dht_is_penalised (net.dht[7], ep_poison_node_get_id (liars[FUTURE]),
                                         NULL));
    g_assert_cmpuint (ep_dht_get_counters (net.dht[7])->penalised, >=, 3);

    /* Asked again, the penalised liars are not even queried. */
    {
      guint sent = ep_poison_node_get_n_items_sent (liars[FORGED]);
      g_autoptr(EpPresenceRecord) again = resolve (&net, presence, newest->key, &counters,
                                                   &error);

      g_assert_no_error (error);
      g_assert_cmpint (again->seq, ==, newest->seq);
      g_assert_cmpuint (ep_poison_node_get_n_items_sent (liars[FORGED]), ==, sent);
      g_assert_cmpuint (counters.rejected[EP_PRESENCE_REJECT_BAD_SIGNATURE], ==, 0);
    }
  }

  /* A reader that accepted the newest before: the replay is a rollback. */
  {
    g_autoptr(EpIdentity) other = ep_identity_new_random ();
    g_autoptr(EpPresence) presence = ep_presence_new (net.dht[11], other, NULL, NULL);
    g_autoptr(EpPresenceRecord) record = NULL;
    g_autoptr(GError) error = NULL;
    EpPresenceCounters counters;

    ep_presence_set_last_seq (presence, newest->key, newest->seq);
    record = resolve (&net, presence, newest->key, &counters, &error);
    g_assert_no_error (error);
    g_assert_cmpint (record->seq, ==, newest->seq);
    g_assert_cmpuint (counters.rejected[EP_PRESENCE_REJECT_ROLLBACK], >=, 1);
    g_assert_true (ep_dht_is_penalised (net.dht[11], ep_poison_node_get_id (liars[REPLAY]), NULL));
  }

  /* Only liars left with a record: resolving fails, naming the reasons. */
  {
    g_autoptr(EpPresence) presence = ep_presence_new (net.dht[13], reader, NULL, NULL);
    g_autoptr(EpPresenceRecord) record = NULL;
    g_autoptr(GError) error = NULL;

    ep_presence_set_last_seq (presence, newest->key, G_MAXINT64 - 1);
    record = resolve (&net, presence, newest->key, NULL, &error);
    g_assert_null (record);
    g_assert_error (error, EP_PRESENCE_ERROR, EP_PRESENCE_ERROR_ALL_REJECTED);
    g_assert_nonnull (strstr (error->message, "wrong-target"));
  }

  g_clear_object (&publisher);
  for (guint i = 0; i < N_LIARS; i++)
    ep_poison_node_free (liars[i]);
  net_teardown (&net);
}

/* The poisoning test: a fixed seed, 20 % lying nodes of each behaviour
 * alone and of all of them mixed; every resolution over disjoint paths
 * returns the newest genuine record, and the liars really were at work. */
static void
test_poisoning (void)
{
  for (EpPoisonKind kind = 0; kind <= EP_POISON_MIXED; kind++)
    {
      g_autoptr(GError) error = NULL;
      EpPoisonParams params = {
        .n_nodes = 50, .percent = 20, .kind = kind, .seed = 4242,
        .n_lookups = 10, .n_modes = 1, .paths = { EP_DHT_DEFAULT_PATHS },
      };
      EpPoisonResult results[EP_POISON_MAX_MODES];
      guint rejected = 0;

      g_test_message ("20 %% %s", ep_poison_kind_to_string (kind));
      g_assert_true (ep_poison_net_run (&params, results, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (results[0].lookups, ==, 10);
      g_assert_cmpuint (results[0].newest, ==, results[0].lookups);
      g_assert_cmpuint (results[0].lying_queries, >, 0);
      for (guint r = 1; r < EP_PRESENCE_N_REJECTIONS; r++)
        rejected += results[0].counters.rejected[r];

      switch (kind)
        {
        case EP_POISON_FORGE:
        case EP_POISON_OTHER_KEY:
        case EP_POISON_FUTURE:
          /* Forgers are seen, counted and penalised. */
          g_assert_cmpuint (rejected, >, 0);
          g_assert_cmpuint (results[0].penalised, >, 0);
          break;
        case EP_POISON_REPLAY:
          g_assert_cmpuint (results[0].counters.superseded, >, 0);
          break;
        case EP_POISON_SYBIL:
        case EP_POISON_DROP:
          g_assert_cmpuint (results[0].puts_dropped, >, 0);
          break;
        case EP_POISON_MIXED:
        default:
          g_assert_cmpuint (rejected, >, 0);
          g_assert_cmpuint (results[0].penalised, >, 0);
          g_assert_cmpuint (results[0].puts_dropped, >, 0);
          break;
        }
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/ep/presence-network/republish", test_republish);
  g_test_add_func ("/ep/presence-network/not-found", test_not_found);
  g_test_add_func ("/ep/presence-network/planted", test_planted);
  g_test_add_func ("/ep/presence-network/poisoning", test_poisoning);
  return g_test_run ();
}
