/* ep-dht-ops.c — the async API of EpDht: lookups, gets, puts, announces
 *
 * Each call is a GTask driven by an Op: a lookup, then for put and
 * announce a store round to the k closest nodes that answered, with the
 * tokens they gave. Nodes whose IDs break BEP 42 (outside the exempt
 * ranges) are not used for storing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ep-bep44.h"
#include "ep-dht-private.h"

typedef struct
{
  gint          ref_count;
  EpDht        *dht;
  GTask        *task;
  GSource      *cancel_source;
  EpDhtLookup  *lookup;
  gboolean      returned;

  guint8        target[EP_KRPC_ID_LEN];

  /* get */
  GBytes       *salt;
  gint64        min_seq;
  EpDhtValue   *best;

  /* get_peers */
  GHashTable   *peers;            /* GBytes compact → GSocketAddress */

  /* put */
  GBytes       *v;
  gboolean      is_mutable;
  guint8        k[32];
  guint8        sig[64];
  gint64        seq;
  gboolean      has_cas;
  gint64        cas;

  /* announce */
  guint16       port;

  /* store round */
  guint         pending;
  guint         n_ok;
  gint64        error_code;
  char         *error_message;
} Op;


/* A remote node's error text ends up in messages users read: keep it short
 * and printable, whatever bytes the node sent. */
static char *
sanitize_remote_text (const char *text)
{
  GString *s = g_string_new (NULL);

  for (const char *p = text; p != NULL && *p != '\0' && s->len < 80; p++)
    g_string_append_c (s, g_ascii_isprint (*p) ? *p : '?');
  return g_string_free (s, FALSE);
}
static Op *
op_ref (Op *op)
{
  op->ref_count++;
  return op;
}

static void
op_unref (Op *op)
{
  if (--op->ref_count > 0)
    return;
  if (op->cancel_source != NULL)
    {
      g_source_destroy (op->cancel_source);
      g_source_unref (op->cancel_source);
    }
  g_clear_pointer (&op->lookup, ep_dht_lookup_unref);
  g_clear_pointer (&op->best, ep_dht_value_free);
  g_clear_pointer (&op->salt, g_bytes_unref);
  g_clear_pointer (&op->peers, g_hash_table_unref);
  g_clear_pointer (&op->v, g_bytes_unref);
  g_clear_pointer (&op->error_message, g_free);
  g_clear_object (&op->task);
  g_clear_object (&op->dht);
  g_free (op);
}

/* TRUE the first time: the caller then returns the task. */
static gboolean
op_claim (Op *op)
{
  if (op->returned)
    return FALSE;
  op->returned = TRUE;
  if (op->cancel_source != NULL)
    {
      g_source_destroy (op->cancel_source);
      g_clear_pointer (&op->cancel_source, g_source_unref);
    }
  return TRUE;
}

static void
op_return_error (Op         *op,
                 GQuark      domain,
                 int         code,
                 const char *message)
{
  if (op_claim (op))
    g_task_return_new_error (op->task, domain, code, "%s", message);
}

static gboolean
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  Op *op = user_data;

  op_ref (op);
  if (op_claim (op))
    {
      g_autoptr(GError) error = NULL;

      g_cancellable_set_error_if_cancelled (cancellable, &error);
      g_task_return_error (op->task, g_steal_pointer (&error));
    }
  if (op->lookup != NULL)
    ep_dht_lookup_cancel (op->lookup);
  op_unref (op);
  return G_SOURCE_REMOVE;
}

static Op *
op_new (EpDht               *dht,
        gpointer             source_tag,
        GCancellable        *cancellable,
        GAsyncReadyCallback  callback,
        gpointer             user_data)
{
  Op *op = g_new0 (Op, 1);

  op->ref_count = 1;
  op->dht = g_object_ref (dht);
  op->task = g_task_new (dht, cancellable, callback, user_data);
  g_task_set_source_tag (op->task, source_tag);
  g_task_set_check_cancellable (op->task, FALSE);
  if (cancellable != NULL)
    {
      op->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (op->cancel_source, G_SOURCE_FUNC (on_cancelled), op, NULL);
      g_source_attach (op->cancel_source, g_main_context_get_thread_default ());
    }
  return op;
}

/* The lookup holds a reference on the op until its on_done has run. */
static void
op_start_lookup (Op                   *op,
                 EpKrpcMethod          method,
                 EpDhtLookupReplyFunc  on_reply,
                 EpDhtLookupDoneFunc   on_done)
{
  if (op->returned)
    return;
  if (ep_dht_get_n_nodes (op->dht) == 0)
    {
      op_return_error (op, EP_DHT_ERROR, EP_DHT_ERROR_NO_NODES,
                       _("No DHT nodes are known yet; is the node connected?"));
      return;
    }
  op->lookup = ep_dht_lookup_new (op->dht, method, op->target, on_reply, on_done, op_ref (op));
  if (op->min_seq > 0 && method == EP_KRPC_GET)
    ep_dht_lookup_set_seq (op->lookup, op->min_seq - 1);
  ep_dht_lookup_start (op->lookup);
}

/* ping ------------------------------------------------------------------- */

static void
on_ping_reply (EpDht           *self,
               const EpKrpcMsg *reply,
               const guint8    *node_id,
               const guint8    *addr,
               gsize            addr_len,
               gpointer         user_data)
{
  Op *op = user_data;

  if (reply != NULL && reply->kind == EP_KRPC_RESPONSE)
    {
      if (op_claim (op))
        g_task_return_pointer (op->task, g_memdup2 (reply->id, EP_KRPC_ID_LEN), g_free);
    }
  else
    op_return_error (op, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, _("The node did not answer"));
  op_unref (op);
}

void
ep_dht_ping_async (EpDht               *self,
                   GSocketAddress      *address,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  Op *op;
  EpKrpcMsg q = { .method = EP_KRPC_PING };
  guint8 addr[18];
  gsize addr_len;

  g_return_if_fail (EP_IS_DHT (self));
  g_return_if_fail (G_IS_SOCKET_ADDRESS (address));

  op = op_new (self, ep_dht_ping_async, cancellable, callback, user_data);
  addr_len = ep_dht_addr_from_socket (address, addr);
  if (addr_len != 0 && ep_dht_send_query (self, addr, addr_len, NULL, &q, on_ping_reply, op))
    return;   /* on_ping_reply takes over the reference */
  op_return_error (op, EP_DHT_ERROR, EP_DHT_ERROR_INVALID, _("Cannot send to this address"));
  op_unref (op);
}

gboolean
ep_dht_ping_finish (EpDht         *self,
                    GAsyncResult  *result,
                    guint8         id_out[EP_KRPC_ID_LEN],
                    GError       **error)
{
  g_autofree guint8 *id = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ep_dht_ping_async, FALSE);

  id = g_task_propagate_pointer (G_TASK (result), error);
  if (id == NULL)
    return FALSE;
  if (id_out != NULL)
    memcpy (id_out, id, EP_KRPC_ID_LEN);
  return TRUE;
}

/* find_node -------------------------------------------------------------- */

static void
on_find_node_done (EpDhtLookup *lookup,
                   gpointer     user_data)
{
  Op *op = user_data;
  const EpDhtCandidate *closest[EP_RT_K];
  guint n = ep_dht_lookup_get_closest (lookup, closest, EP_RT_K);
  g_autoptr(GPtrArray) nodes = NULL;

  if (n == 0)
    {
      op_return_error (op, EP_DHT_ERROR, EP_DHT_ERROR_NOT_FOUND, _("No node answered"));
      op_unref (op);
      return;
    }

  nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) ep_dht_node_info_free);
  for (guint i = 0; i < n; i++)
    {
      EpDhtNodeInfo *info = g_new0 (EpDhtNodeInfo, 1);

      memcpy (info->id, closest[i]->id, EP_KRPC_ID_LEN);
      info->address = ep_dht_addr_to_socket (closest[i]->addr, closest[i]->addr_len);
      g_ptr_array_add (nodes, info);
    }
  if (op_claim (op))
    g_task_return_pointer (op->task, g_steal_pointer (&nodes), (GDestroyNotify) g_ptr_array_unref);
  op_unref (op);
}

/**
 * ep_dht_find_node_async:
 *
 * Finds the k nodes closest to @target that answer.
 */
void
ep_dht_find_node_async (EpDht               *self,
                        const guint8         target[EP_KRPC_ID_LEN],
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  Op *op;

  g_return_if_fail (EP_IS_DHT (self));

  op = op_new (self, ep_dht_find_node_async, cancellable, callback, user_data);
  memcpy (op->target, target, EP_KRPC_ID_LEN);
  op_start_lookup (op, EP_KRPC_FIND_NODE, NULL, on_find_node_done);
  op_unref (op);
}

/**
 * ep_dht_find_node_finish:
 *
 * Returns: (transfer container) (element-type EpDhtNodeInfo): closest first
 */
GPtrArray *
ep_dht_find_node_finish (EpDht         *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ep_dht_find_node_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* get -------------------------------------------------------------------- */

static gboolean
on_get_reply (EpDhtLookup          *lookup,
              const EpDhtCandidate *from,
              const EpKrpcMsg      *reply,
              gpointer              user_data)
{
  Op *op = user_data;
  guint8 target[EP_KRPC_ID_LEN];
  gsize salt_len = 0;
  const guint8 *salt = op->salt != NULL ? g_bytes_get_data (op->salt, &salt_len) : NULL;
  EpDhtValue *value;

  if (reply->v == NULL || reply->v_len > EP_BEP44_MAX_V)
    return TRUE;

  if (!reply->has_k)
    {
      ep_bep44_immutable_target (reply->v, reply->v_len, target);
      if (memcmp (target, op->target, EP_KRPC_ID_LEN) != 0)
        return TRUE;
      value = g_new0 (EpDhtValue, 1);
      memcpy (value->target, target, EP_KRPC_ID_LEN);
      value->v = g_bytes_new (reply->v, reply->v_len);
      g_clear_pointer (&op->best, ep_dht_value_free);
      op->best = value;
      /* An immutable item is the same wherever it is found. */
      return FALSE;
    }

  ep_bep44_mutable_target (reply->k, salt, salt_len, target);
  if (memcmp (target, op->target, EP_KRPC_ID_LEN) != 0
      || reply->seq < op->min_seq
      || (op->best != NULL && reply->seq <= op->best->seq)
      || !ep_bep44_verify (reply->k, reply->sig, salt, salt_len, reply->seq,
                           reply->v, reply->v_len))
    return TRUE;

  value = g_new0 (EpDhtValue, 1);
  memcpy (value->target, target, EP_KRPC_ID_LEN);
  value->is_mutable = TRUE;
  value->v = g_bytes_new (reply->v, reply->v_len);
  memcpy (value->k, reply->k, 32);
  memcpy (value->sig, reply->sig, 64);
  value->seq = reply->seq;
  value->salt = op->salt != NULL ? g_bytes_ref (op->salt) : NULL;
  g_clear_pointer (&op->best, ep_dht_value_free);
  op->best = value;
  /* Keep going: another node may have a higher seq. */
  return TRUE;
}

static void
on_get_done (EpDhtLookup *lookup,
             gpointer     user_data)
{
  Op *op = user_data;

  if (op->best == NULL)
    op_return_error (op, EP_DHT_ERROR, EP_DHT_ERROR_NOT_FOUND,
                     _("No node has an item for this target"));
  else if (op_claim (op))
    g_task_return_pointer (op->task, g_steal_pointer (&op->best),
                           (GDestroyNotify) ep_dht_value_free);
  op_unref (op);
}

/**
 * ep_dht_get_async:
 * @target: SHA-1 of the immutable value, or of k ‖ salt for a mutable one
 * @salt: (nullable): the salt of a mutable item
 * @min_seq: a mutable item's lowest acceptable seq, or 0
 *
 * Looks the item up and checks it: an immutable item must hash to @target,
 * a mutable one must carry a valid signature by a key that, with @salt,
 * hashes to @target. Of the mutable items found the highest seq wins.
 */
void
ep_dht_get_async (EpDht               *self,
                  const guint8         target[EP_KRPC_ID_LEN],
                  GBytes              *salt,
                  gint64               min_seq,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  Op *op;

  g_return_if_fail (EP_IS_DHT (self));

  op = op_new (self, ep_dht_get_async, cancellable, callback, user_data);
  memcpy (op->target, target, EP_KRPC_ID_LEN);
  op->salt = salt != NULL && g_bytes_get_size (salt) > 0 ? g_bytes_ref (salt) : NULL;
  op->min_seq = MAX (min_seq, 0);
  op_start_lookup (op, EP_KRPC_GET, on_get_reply, on_get_done);
  op_unref (op);
}

/**
 * ep_dht_get_finish:
 *
 * Returns: (transfer full): the item, or %NULL with @error set
 */
EpDhtValue *
ep_dht_get_finish (EpDht         *self,
                   GAsyncResult  *result,
                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ep_dht_get_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Store rounds (put, announce) ------------------------------------------- */

static void
on_store_reply (EpDht           *self,
                const EpKrpcMsg *reply,
                const guint8    *node_id,
                const guint8    *addr,
                gsize            addr_len,
                gpointer         user_data)
{
  Op *op = user_data;

  if (reply != NULL && reply->kind == EP_KRPC_RESPONSE)
    op->n_ok++;
  else if (reply != NULL && op->error_message == NULL)
    {
      op->error_code = reply->error_code;
      op->error_message = sanitize_remote_text (reply->error_message);
    }

  if (--op->pending == 0)
    {
      if (op->n_ok > 0)
        {
          if (op_claim (op))
            g_task_return_int (op->task, op->n_ok);
        }
      else if (op->error_message != NULL)
        {
          g_autofree char *message =
            g_strdup_printf (_("The DHT nodes refused: %s (error %d)"),
                             op->error_message, (int) CLAMP (op->error_code, -1, 999));

          op_return_error (op, EP_DHT_ERROR, EP_DHT_ERROR_REJECTED, message);
        }
      else
        op_return_error (op, EP_DHT_ERROR, EP_DHT_ERROR_REJECTED,
                         _("No DHT node confirmed the request"));
    }
  op_unref (op);
}

/* Sends @method to the k closest that answered and gave a token. */
static void
store_round (Op           *op,
             EpDhtLookup  *lookup,
             EpKrpcMethod  method)
{
  const EpDhtCandidate *closest[EP_RT_K];
  guint n = ep_dht_lookup_get_closest (lookup, closest, EP_RT_K);
  gsize salt_len = 0;

  if (op->returned)
    return;

  op->pending = 1;   /* guard */
  for (guint i = 0; i < n; i++)
    {
      const EpDhtCandidate *c = closest[i];
      EpKrpcMsg q = { .method = method };

      if (c->token == NULL || !ep_dht_node_compliant (c->id, c->addr, c->addr_len))
        continue;

      memcpy (q.target, op->target, EP_KRPC_ID_LEN);
      q.token = c->token;
      q.token_len = c->token_len;
      if (method == EP_KRPC_ANNOUNCE_PEER)
        {
          q.port = op->port;
          q.implied_port = op->port == 0;
        }
      else
        {
          q.v = g_bytes_get_data (op->v, &q.v_len);
          if (op->is_mutable)
            {
              q.has_k = TRUE;
              memcpy (q.k, op->k, 32);
              memcpy (q.sig, op->sig, 64);
              q.seq = op->seq;
              q.has_seq = TRUE;
              q.salt = op->salt != NULL ? g_bytes_get_data (op->salt, &salt_len) : NULL;
              q.salt_len = salt_len;
              q.has_cas = op->has_cas;
              q.cas = op->cas;
            }
        }

      op->pending++;
      if (!ep_dht_send_query (op->dht, c->addr, c->addr_len, c->id, &q, on_store_reply,
                              op_ref (op)))
        {
          op->pending--;
          op_unref (op);
        }
    }

  /* Drop the guard as if it were a silent node. */
  on_store_reply (op->dht, NULL, NULL, NULL, 0, op_ref (op));
}

/* put -------------------------------------------------------------------- */

static void
on_put_lookup_done (EpDhtLookup *lookup,
                    gpointer     user_data)
{
  Op *op = user_data;

  store_round (op, lookup, EP_KRPC_PUT);
  op_unref (op);
}

/**
 * ep_dht_put_async:
 * @params: the item; copied
 *
 * Stores the item (signed here when mutable) on the k nodes closest to its
 * target that answer a get.
 */
void
ep_dht_put_async (EpDht                *self,
                  const EpDhtPutParams *params,
                  GCancellable         *cancellable,
                  GAsyncReadyCallback   callback,
                  gpointer              user_data)
{
  Op *op;
  gsize v_len = 0, salt_len = 0;
  const guint8 *v, *salt;

  g_return_if_fail (EP_IS_DHT (self));
  g_return_if_fail (params != NULL && params->v != NULL);

  op = op_new (self, ep_dht_put_async, cancellable, callback, user_data);
  v = g_bytes_get_data (params->v, &v_len);
  salt = params->salt != NULL ? g_bytes_get_data (params->salt, &salt_len) : NULL;

  if (v_len == 0 || v_len > EP_BEP44_MAX_V)
    op_return_error (op, EP_DHT_ERROR, EP_DHT_ERROR_INVALID,
                     _("A DHT value must be between 1 and 1000 bytes long"));
  else if (salt_len > EP_BEP44_MAX_SALT)
    op_return_error (op, EP_DHT_ERROR, EP_DHT_ERROR_INVALID,
                     _("A DHT salt must be at most 64 bytes long"));
  else if (params->secret_key != NULL && params->seq < 0)
    op_return_error (op, EP_DHT_ERROR, EP_DHT_ERROR_INVALID,
                     _("A sequence number cannot be negative"));
  else
    {
      op->v = g_bytes_ref (params->v);
      op->salt = salt_len > 0 ? g_bytes_ref (params->salt) : NULL;
      if (params->secret_key != NULL)
        {
          op->is_mutable = TRUE;
          memcpy (op->k, params->secret_key + 32, 32);
          op->seq = params->seq;
          op->has_cas = params->has_cas;
          op->cas = params->cas;
          ep_bep44_sign (params->secret_key, salt, salt_len, op->seq, v, v_len, op->sig);
          ep_bep44_mutable_target (op->k, salt, salt_len, op->target);
        }
      else
        ep_bep44_immutable_target (v, v_len, op->target);

      g_task_set_task_data (op->task, g_memdup2 (op->target, EP_KRPC_ID_LEN), g_free);
      op_start_lookup (op, EP_KRPC_GET, NULL, on_put_lookup_done);
    }
  op_unref (op);
}

/**
 * ep_dht_put_finish:
 * @target_out: (out) (optional): the item's target
 * @n_stored: (out) (optional): how many nodes stored it
 */
gboolean
ep_dht_put_finish (EpDht         *self,
                   GAsyncResult  *result,
                   guint8         target_out[EP_KRPC_ID_LEN],
                   guint         *n_stored,
                   GError       **error)
{
  const guint8 *target;
  gssize n;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ep_dht_put_async, FALSE);

  target = g_task_get_task_data (G_TASK (result));
  n = g_task_propagate_int (G_TASK (result), error);
  if (n < 0)
    return FALSE;
  if (target_out != NULL && target != NULL)
    memcpy (target_out, target, EP_KRPC_ID_LEN);
  if (n_stored != NULL)
    *n_stored = n;
  return TRUE;
}

/* get_peers -------------------------------------------------------------- */

static gboolean
on_peers_reply (EpDhtLookup          *lookup,
                const EpDhtCandidate *from,
                const EpKrpcMsg      *reply,
                gpointer              user_data)
{
  Op *op = user_data;
  guint n = ep_benc_list_length (reply->values);

  for (guint i = 0; i < n && g_hash_table_size (op->peers) < 1000; i++)
    {
      gsize len = 0;
      const guint8 *p = ep_benc_get_bytes (ep_benc_list_nth (reply->values, i), &len);
      GBytes *key;

      if (p == NULL || !ep_dht_addr_usable (op->dht, p, len))
        continue;
      key = g_bytes_new (p, len);
      if (g_hash_table_contains (op->peers, key))
        g_bytes_unref (key);
      else
        g_hash_table_insert (op->peers, key, ep_dht_addr_to_socket (p, len));
    }
  return TRUE;
}

static void
on_peers_done (EpDhtLookup *lookup,
               gpointer     user_data)
{
  Op *op = user_data;
  const EpDhtCandidate *closest[1];
  g_autoptr(GPtrArray) peers = NULL;
  GHashTableIter iter;
  gpointer address;

  if (ep_dht_lookup_get_closest (lookup, closest, 1) == 0)
    {
      op_return_error (op, EP_DHT_ERROR, EP_DHT_ERROR_NOT_FOUND, _("No node answered"));
      op_unref (op);
      return;
    }

  peers = g_ptr_array_new_with_free_func (g_object_unref);
  g_hash_table_iter_init (&iter, op->peers);
  while (g_hash_table_iter_next (&iter, NULL, &address))
    g_ptr_array_add (peers, g_object_ref (address));
  if (op_claim (op))
    g_task_return_pointer (op->task, g_steal_pointer (&peers), (GDestroyNotify) g_ptr_array_unref);
  op_unref (op);
}

void
ep_dht_get_peers_async (EpDht               *self,
                        const guint8         info_hash[EP_KRPC_ID_LEN],
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  Op *op;

  g_return_if_fail (EP_IS_DHT (self));

  op = op_new (self, ep_dht_get_peers_async, cancellable, callback, user_data);
  memcpy (op->target, info_hash, EP_KRPC_ID_LEN);
  op->peers = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                     (GDestroyNotify) g_bytes_unref, g_object_unref);
  op_start_lookup (op, EP_KRPC_GET_PEERS, on_peers_reply, on_peers_done);
  op_unref (op);
}

/**
 * ep_dht_get_peers_finish:
 *
 * Returns: (transfer container) (element-type GInetSocketAddress): the
 *   peers found, possibly none
 */
GPtrArray *
ep_dht_get_peers_finish (EpDht         *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ep_dht_get_peers_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* announce --------------------------------------------------------------- */

static void
on_announce_lookup_done (EpDhtLookup *lookup,
                         gpointer     user_data)
{
  Op *op = user_data;

  store_round (op, lookup, EP_KRPC_ANNOUNCE_PEER);
  op_unref (op);
}

/**
 * ep_dht_announce_async:
 * @port: the port peers should connect to, or 0 for the one we send from
 *   (implied_port)
 */
void
ep_dht_announce_async (EpDht               *self,
                       const guint8         info_hash[EP_KRPC_ID_LEN],
                       guint16              port,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  Op *op;

  g_return_if_fail (EP_IS_DHT (self));

  op = op_new (self, ep_dht_announce_async, cancellable, callback, user_data);
  memcpy (op->target, info_hash, EP_KRPC_ID_LEN);
  op->port = port;
  op_start_lookup (op, EP_KRPC_GET_PEERS, NULL, on_announce_lookup_done);
  op_unref (op);
}

gboolean
ep_dht_announce_finish (EpDht         *self,
                        GAsyncResult  *result,
                        guint         *n_announced,
                        GError       **error)
{
  gssize n;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ep_dht_announce_async, FALSE);

  n = g_task_propagate_int (G_TASK (result), error);
  if (n < 0)
    return FALSE;
  if (n_announced != NULL)
    *n_announced = n;
  return TRUE;
}
