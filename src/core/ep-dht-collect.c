/* ep-dht-collect.c — gets and puts for items that attackers want to hide
 *
 * ep_dht_get_mutable_async(): d disjoint lookups (S/Kademlia) that hand
 * every item any node offers to the caller, who says whether it is valid,
 * stale or forged. A node offering a forged item is penalised (evicted and
 * ignored, ep-dht-penalty.c) and counts as failed in its lookup, which then
 * goes on past it. While a path has found nothing valid its window widens
 * (up to MAX_WINDOW answered nodes), so nodes sitting next to the target and
 * answering empty-handed cannot end it early.
 *
 * ep_dht_put_signed_async(): an item signed elsewhere goes to the k closest
 * nodes of each of d disjoint lookups, with their tokens and `cas`. A node
 * answering 301 (it holds another seq than the one we last wrote: it missed
 * a put) gets it again without `cas`; seq ordering (302) still protects it.
 * Every node that acknowledged is then asked for the item back: a node that
 * acknowledged and does not return it dropped the put, is penalised, and
 * the whole put runs again (at most MAX_ATTEMPTS times) so that the item
 * lands on honest nodes beyond the droppers.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ep-bep44.h"
#include "ep-dht-private.h"

#define MAX_PATHS 8
#define MAX_WINDOW (4 * EP_RT_K)
#define MAX_ATTEMPTS 3

typedef struct
{
  guint8 id[EP_KRPC_ID_LEN];
  guint8 addr[18];
  guint8 addr_len;
} Node;

typedef struct
{
  gint            ref_count;
  EpDht          *dht;
  GTask          *task;
  GSource        *cancel_source;
  gboolean        returned;

  guint8          target[EP_KRPC_ID_LEN];
  GBytes         *salt;
  guint           n_paths;
  EpDhtLookup    *lookups[MAX_PATHS];
  guint           paths_pending;
  GHashTable     *claims;

  /* get */
  gint64          min_seq;
  EpDhtItemFunc   item_func;
  gpointer        item_data;
  GDestroyNotify  item_data_free;
  guint           n_answered;

  /* put */
  GBytes         *v;
  guint8          k[32];
  guint8          sig[64];
  gint64          seq;
  gboolean        has_cas;
  gint64          cas;
  guint           attempt;
  guint           pending;
  GArray         *acked;              /* Node */
  guint           n_verified;
  guint           n_dropped;
  gint64          error_code;
  char           *error_message;
} Collect;

static Collect *
collect_ref (Collect *c)
{
  c->ref_count++;
  return c;
}

static void
clear_lookups (Collect *c)
{
  for (guint i = 0; i < MAX_PATHS; i++)
    g_clear_pointer (&c->lookups[i], ep_dht_lookup_unref);
  g_clear_pointer (&c->claims, g_hash_table_unref);
}

static void
collect_unref (Collect *c)
{
  if (--c->ref_count > 0)
    return;
  if (c->cancel_source != NULL)
    {
      g_source_destroy (c->cancel_source);
      g_source_unref (c->cancel_source);
    }
  clear_lookups (c);
  if (c->item_data_free != NULL)
    c->item_data_free (c->item_data);
  g_clear_pointer (&c->salt, g_bytes_unref);
  g_clear_pointer (&c->v, g_bytes_unref);
  g_clear_pointer (&c->acked, g_array_unref);
  g_clear_pointer (&c->error_message, g_free);
  g_clear_object (&c->task);
  g_clear_object (&c->dht);
  g_free (c);
}

static gboolean
collect_claim (Collect *c)
{
  if (c->returned)
    return FALSE;
  c->returned = TRUE;
  if (c->cancel_source != NULL)
    {
      g_source_destroy (c->cancel_source);
      g_clear_pointer (&c->cancel_source, g_source_unref);
    }
  return TRUE;
}

static void
collect_return_error (Collect    *c,
                      int         code,
                      const char *message)
{
  if (collect_claim (c))
    g_task_return_new_error (c->task, EP_DHT_ERROR, code, "%s", message);
}

static gboolean
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  Collect *c = user_data;

  collect_ref (c);
  if (collect_claim (c))
    {
      g_autoptr(GError) error = NULL;

      g_cancellable_set_error_if_cancelled (cancellable, &error);
      g_task_return_error (c->task, g_steal_pointer (&error));
    }
  for (guint i = 0; i < MAX_PATHS; i++)
    if (c->lookups[i] != NULL)
      ep_dht_lookup_cancel (c->lookups[i]);
  collect_unref (c);
  return G_SOURCE_REMOVE;
}

static Collect *
collect_new (EpDht               *dht,
             gpointer             source_tag,
             const guint8         target[EP_KRPC_ID_LEN],
             guint                n_paths,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data)
{
  Collect *c = g_new0 (Collect, 1);

  c->ref_count = 1;
  c->dht = g_object_ref (dht);
  c->task = g_task_new (dht, cancellable, callback, user_data);
  g_task_set_source_tag (c->task, source_tag);
  g_task_set_check_cancellable (c->task, FALSE);
  if (target != NULL)
    memcpy (c->target, target, EP_KRPC_ID_LEN);
  c->n_paths = CLAMP (n_paths, 1, MAX_PATHS);
  if (cancellable != NULL)
    {
      c->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (c->cancel_source, G_SOURCE_FUNC (on_cancelled), c, NULL);
      g_source_attach (c->cancel_source, g_main_context_get_thread_default ());
    }
  return c;
}

/* Starts n_paths disjoint get lookups; each holds a reference until its
 * on_done has run. */
static gboolean
start_paths (Collect              *c,
             EpDhtLookupReplyFunc  on_reply,
             EpDhtLookupDoneFunc   on_done,
             guint                 max_window)
{
  if (ep_dht_get_n_nodes (c->dht) == 0)
    {
      collect_return_error (c, EP_DHT_ERROR_NO_NODES,
                            _("No DHT nodes are known yet; is the node connected?"));
      return FALSE;
    }

  clear_lookups (c);
  c->claims = ep_dht_lookup_claims_new ();
  c->paths_pending = c->n_paths;
  for (guint i = 0; i < c->n_paths; i++)
    {
      c->lookups[i] = ep_dht_lookup_new (c->dht, EP_KRPC_GET, c->target, on_reply, on_done,
                                         collect_ref (c));
      if (c->n_paths > 1)
        ep_dht_lookup_set_path (c->lookups[i], c->claims, i, c->n_paths);
      ep_dht_lookup_set_max_window (c->lookups[i], max_window);
      if (c->min_seq > 0)
        ep_dht_lookup_set_seq (c->lookups[i], c->min_seq - 1);
    }
  /* Started only once all exist: a path may finish at once. */
  for (guint i = 0; i < c->n_paths; i++)
    {
      EpDhtLookup *lookup = ep_dht_lookup_ref (c->lookups[i]);

      ep_dht_lookup_start (lookup);
      ep_dht_lookup_unref (lookup);
    }
  return TRUE;
}

/* get: collect every item ------------------------------------------------ */

static gboolean
on_item_reply (EpDhtLookup          *lookup,
               const EpDhtCandidate *from,
               const EpKrpcMsg      *reply,
               gpointer              user_data)
{
  Collect *c = user_data;
  g_autoptr(EpDhtValue) value = NULL;
  EpDhtNodeInfo info = { { 0 } };
  EpDhtItemVerdict verdict;

  c->n_answered++;
  if (reply->v == NULL || c->returned)
    return TRUE;

  value = g_new0 (EpDhtValue, 1);
  memcpy (value->target, c->target, EP_KRPC_ID_LEN);
  value->is_mutable = reply->has_k;
  value->v = g_bytes_new (reply->v, reply->v_len);
  if (reply->has_k)
    {
      memcpy (value->k, reply->k, 32);
      memcpy (value->sig, reply->sig, 64);
    }
  value->seq = reply->has_seq ? reply->seq : -1;
  value->salt = c->salt != NULL ? g_bytes_ref (c->salt) : NULL;

  memcpy (info.id, from->id, EP_KRPC_ID_LEN);
  info.address = ep_dht_addr_to_socket (from->addr, from->addr_len);

  /* The caller sees (and counts) every item. An immutable item where a
   * mutable one was asked for is a lie, and an honest node omits v when its
   * seq is not above the one we asked for. */
  verdict = c->item_func (c->dht, value, &info, c->item_data);
  if (!reply->has_k || (c->min_seq > 0 && reply->has_seq && reply->seq < c->min_seq))
    verdict = EP_DHT_ITEM_FORGED;

  switch (verdict)
    {
    case EP_DHT_ITEM_FORGED:
      ep_dht_penalise_compact (c->dht, from->id, from->addr, from->addr_len);
      ep_dht_lookup_reject (lookup, from);
      break;
    case EP_DHT_ITEM_VALID:
      ep_dht_lookup_set_found (lookup);
      break;
    case EP_DHT_ITEM_STALE:
    default:
      break;
    }
  g_clear_object (&info.address);
  return TRUE;
}

static void
on_get_path_done (EpDhtLookup *lookup,
                  gpointer     user_data)
{
  Collect *c = user_data;

  if (--c->paths_pending == 0)
    {
      if (c->n_answered == 0)
        collect_return_error (c, EP_DHT_ERROR_NOT_FOUND, _("No node answered"));
      else if (collect_claim (c))
        g_task_return_int (c->task, c->n_answered);
    }
  collect_unref (c);
}

/**
 * ep_dht_get_mutable_async:
 * @target: SHA-1 (k ‖ salt)
 * @salt: (nullable): the item's salt, handed back in each item
 * @min_seq: the lowest seq the caller accepts, or 0; nodes are asked for
 *   items from this seq on, and one offering less is penalised
 * @n_paths: disjoint lookups (S/Kademlia), 1 … 8; %EP_DHT_DEFAULT_PATHS
 * @item_func: judges each item offered; a %EP_DHT_ITEM_FORGED verdict
 *   penalises the node
 *
 * Collects every mutable item the nodes near @target offer. The operation
 * fails only when no node answered at all (or on cancellation): what was
 * found is what @item_func kept.
 */
void
ep_dht_get_mutable_async (EpDht               *self,
                          const guint8         target[EP_KRPC_ID_LEN],
                          GBytes              *salt,
                          gint64               min_seq,
                          guint                n_paths,
                          EpDhtItemFunc        item_func,
                          gpointer             item_data,
                          GDestroyNotify       item_data_free,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  Collect *c;

  g_return_if_fail (EP_IS_DHT (self));
  g_return_if_fail (target != NULL);
  g_return_if_fail (item_func != NULL);

  c = collect_new (self, ep_dht_get_mutable_async, target, n_paths, cancellable, callback,
                   user_data);
  c->salt = salt != NULL && g_bytes_get_size (salt) > 0 ? g_bytes_ref (salt) : NULL;
  c->min_seq = MAX (min_seq, 0);
  c->item_func = item_func;
  c->item_data = item_data;
  c->item_data_free = item_data_free;
  start_paths (c, on_item_reply, on_get_path_done, MAX_WINDOW);
  collect_unref (c);
}

/**
 * ep_dht_get_mutable_finish:
 * @n_answered: (out) (optional): how many nodes answered
 */
gboolean
ep_dht_get_mutable_finish (EpDht         *self,
                           GAsyncResult  *result,
                           guint         *n_answered,
                           GError       **error)
{
  gssize n;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ep_dht_get_mutable_async,
                        FALSE);

  n = g_task_propagate_int (G_TASK (result), error);
  if (n < 0)
    return FALSE;
  if (n_answered != NULL)
    *n_answered = n;
  return TRUE;
}

/* put: store, then check ------------------------------------------------- */

static void put_attempt (Collect *c);

static void
fill_put (Collect   *c,
          EpKrpcMsg *q,
          gboolean   with_cas)
{
  gsize salt_len = 0;

  q->method = EP_KRPC_PUT;
  memcpy (q->target, c->target, EP_KRPC_ID_LEN);
  q->v = g_bytes_get_data (c->v, &q->v_len);
  q->has_k = TRUE;
  memcpy (q->k, c->k, 32);
  memcpy (q->sig, c->sig, 64);
  q->seq = c->seq;
  q->has_seq = TRUE;
  q->salt = c->salt != NULL ? g_bytes_get_data (c->salt, &salt_len) : NULL;
  q->salt_len = salt_len;
  q->has_cas = with_cas && c->has_cas;
  q->cas = c->cas;
}

static void
put_round_done (Collect *c)
{
  if (c->returned)
    return;   /* cancelled meanwhile */
  if (c->n_dropped > 0 && c->attempt < MAX_ATTEMPTS)
    {
      put_attempt (c);
      return;
    }
  if (c->n_verified > 0)
    {
      if (collect_claim (c))
        g_task_return_int (c->task, c->n_verified);
    }
  else if (c->error_message != NULL)
    {
      g_autofree char *message =
        g_strdup_printf (_("The DHT nodes refused: %s (error %d)"),
                         c->error_message, (int) CLAMP (c->error_code, -1, 999));

      collect_return_error (c, EP_DHT_ERROR_REJECTED, message);
    }
  else
    collect_return_error (c, EP_DHT_ERROR_REJECTED, _("No DHT node confirmed the request"));
}

static void
on_verify_reply (EpDht           *dht,
                 const EpKrpcMsg *reply,
                 const guint8    *node_id,
                 const guint8    *addr,
                 gsize            addr_len,
                 gpointer         user_data)
{
  Collect *c = user_data;

  if (reply != NULL && reply->kind == EP_KRPC_RESPONSE)
    {
      if (reply->v != NULL && reply->has_k && reply->has_seq && reply->seq >= c->seq
          && memcmp (reply->k, c->k, 32) == 0)
        c->n_verified++;
      else
        {
          /* It said it stored the item and does not have it. */
          c->n_dropped++;
          ep_dht_penalise_compact (dht, node_id, addr, addr_len);
        }
    }

  if (--c->pending == 0)
    put_round_done (c);
  collect_unref (c);
}

static void
verify_round (Collect *c)
{
  c->pending = 1;   /* guard */
  for (guint i = 0; i < c->acked->len; i++)
    {
      const Node *n = &g_array_index (c->acked, Node, i);
      EpKrpcMsg q = { .method = EP_KRPC_GET };

      memcpy (q.target, c->target, EP_KRPC_ID_LEN);
      q.has_seq = TRUE;
      q.seq = c->seq - 1;
      c->pending++;
      if (!ep_dht_send_query (c->dht, n->addr, n->addr_len, n->id, &q, on_verify_reply,
                              collect_ref (c)))
        {
          c->pending--;
          collect_unref (c);
        }
    }
  on_verify_reply (c->dht, NULL, NULL, NULL, 0, collect_ref (c));
}

typedef struct
{
  Collect *collect;
  Node     node;
  GBytes  *token;           /* for a retry without cas */
} PutCtx;

static void on_store_reply (EpDht           *dht,
                            const EpKrpcMsg *reply,
                            const guint8    *node_id,
                            const guint8    *addr,
                            gsize            addr_len,
                            gpointer         user_data);

static void
send_put (Collect      *c,
          const guint8 *id,
          const guint8 *addr,
          gsize         addr_len,
          const guint8 *token,
          gsize         token_len,
          gboolean      with_cas)
{
  EpKrpcMsg q = { 0 };
  PutCtx *ctx = g_new0 (PutCtx, 1);

  fill_put (c, &q, with_cas);
  q.token = token;
  q.token_len = token_len;
  ctx->collect = collect_ref (c);
  memcpy (ctx->node.id, id, EP_KRPC_ID_LEN);
  memcpy (ctx->node.addr, addr, addr_len);
  ctx->node.addr_len = addr_len;
  ctx->token = g_bytes_new (token, token_len);
  c->pending++;
  if (!ep_dht_send_query (c->dht, addr, addr_len, id, &q, on_store_reply, ctx))
    {
      c->pending--;
      g_bytes_unref (ctx->token);
      g_free (ctx);
      collect_unref (c);
    }
}

static void
store_done_one (Collect *c)
{
  if (--c->pending > 0)
    return;
  if (c->acked->len == 0)
    put_round_done (c);
  else
    verify_round (c);
}

static void
on_store_reply (EpDht           *dht,
                const EpKrpcMsg *reply,
                const guint8    *node_id,
                const guint8    *addr,
                gsize            addr_len,
                gpointer         user_data)
{
  PutCtx *ctx = user_data;
  Collect *c = ctx->collect;

  if (reply != NULL && reply->kind == EP_KRPC_RESPONSE)
    g_array_append_val (c->acked, ctx->node);
  else if (reply != NULL && reply->error_code == EP_KRPC_ERROR_CAS_MISMATCH && c->has_cas)
    {
      gsize token_len = 0;
      const guint8 *t = g_bytes_get_data (ctx->token, &token_len);

      send_put (c, ctx->node.id, ctx->node.addr, ctx->node.addr_len, t, token_len, FALSE);
    }
  else if (reply != NULL && c->error_message == NULL)
    {
      GString *s = g_string_new (NULL);

      for (const char *p = reply->error_message; p != NULL && *p != '\0' && s->len < 80; p++)
        g_string_append_c (s, g_ascii_isprint (*p) ? *p : '?');
      c->error_code = reply->error_code;
      c->error_message = g_string_free (s, FALSE);
    }

  store_done_one (c);
  g_bytes_unref (ctx->token);
  g_free (ctx);
  collect_unref (c);
}

static gboolean
has_node (GArray       *nodes,
          const guint8 *id)
{
  for (guint i = 0; i < nodes->len; i++)
    if (memcmp (g_array_index (nodes, Node, i).id, id, EP_KRPC_ID_LEN) == 0)
      return TRUE;
  return FALSE;
}

static void
on_put_path_done (EpDhtLookup *lookup,
                  gpointer     user_data)
{
  Collect *c = user_data;
  g_autoptr(GArray) sent = NULL;

  if (--c->paths_pending > 0 || c->returned)
    {
      collect_unref (c);
      return;
    }

  /* Every path is done: store on the k closest of each. */
  sent = g_array_new (FALSE, FALSE, sizeof (Node));
  c->pending = 1;   /* guard */
  for (guint p = 0; p < c->n_paths; p++)
    {
      const EpDhtCandidate *closest[EP_RT_K];
      guint n = ep_dht_lookup_get_closest (c->lookups[p], closest, EP_RT_K);

      for (guint i = 0; i < n; i++)
        {
          const EpDhtCandidate *cand = closest[i];
          Node node = { { 0 } };

          if (cand->token == NULL || has_node (sent, cand->id)
              || !ep_dht_node_compliant (cand->id, cand->addr, cand->addr_len)
              || ep_dht_penalised_compact (c->dht, cand->id, cand->addr, cand->addr_len))
            continue;
          memcpy (node.id, cand->id, EP_KRPC_ID_LEN);
          g_array_append_val (sent, node);
          send_put (c, cand->id, cand->addr, cand->addr_len, cand->token, cand->token_len,
                    TRUE);
        }
    }
  store_done_one (c);
  collect_unref (c);
}

static void
put_attempt (Collect *c)
{
  c->attempt++;
  c->n_verified = 0;
  c->n_dropped = 0;
  g_array_set_size (c->acked, 0);
  start_paths (c, NULL, on_put_path_done, EP_RT_K);
}

/**
 * ep_dht_put_signed_async:
 * @params: the item and its signature; copied
 *
 * Stores a mutable item signed elsewhere on the k closest nodes of each of
 * @params->n_paths disjoint lookups, checks that the nodes kept it,
 * penalises those that did not and tries again past them.
 */
void
ep_dht_put_signed_async (EpDht                *self,
                         const EpDhtSignedPut *params,
                         GCancellable         *cancellable,
                         GAsyncReadyCallback   callback,
                         gpointer              user_data)
{
  Collect *c;
  gsize v_len = 0, salt_len = 0;
  const guint8 *salt;

  g_return_if_fail (EP_IS_DHT (self));
  g_return_if_fail (params != NULL && params->v != NULL && params->k != NULL
                    && params->sig != NULL);

  c = collect_new (self, ep_dht_put_signed_async, NULL, params->n_paths, cancellable,
                   callback, user_data);
  g_bytes_get_data (params->v, &v_len);
  salt = params->salt != NULL ? g_bytes_get_data (params->salt, &salt_len) : NULL;

  if (v_len == 0 || v_len > EP_BEP44_MAX_V)
    collect_return_error (c, EP_DHT_ERROR_INVALID,
                          _("A DHT value must be between 1 and 1000 bytes long"));
  else if (salt_len > EP_BEP44_MAX_SALT)
    collect_return_error (c, EP_DHT_ERROR_INVALID,
                          _("A DHT salt must be at most 64 bytes long"));
  else if (params->seq < 0)
    collect_return_error (c, EP_DHT_ERROR_INVALID, _("A sequence number cannot be negative"));
  else
    {
      c->v = g_bytes_ref (params->v);
      c->salt = salt_len > 0 ? g_bytes_ref (params->salt) : NULL;
      memcpy (c->k, params->k, 32);
      memcpy (c->sig, params->sig, 64);
      c->seq = params->seq;
      c->has_cas = params->has_cas;
      c->cas = params->cas;
      c->acked = g_array_new (FALSE, FALSE, sizeof (Node));
      ep_bep44_mutable_target (c->k, salt, salt_len, c->target);
      put_attempt (c);
    }
  collect_unref (c);
}

/**
 * ep_dht_put_signed_finish:
 * @n_stored: (out) (optional): how many nodes were seen to hold the item
 */
gboolean
ep_dht_put_signed_finish (EpDht         *self,
                          GAsyncResult  *result,
                          guint         *n_stored,
                          GError       **error)
{
  gssize n;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ep_dht_put_signed_async,
                        FALSE);

  n = g_task_propagate_int (G_TASK (result), error);
  if (n < 0)
    return FALSE;
  if (n_stored != NULL)
    *n_stored = n;
  return TRUE;
}
