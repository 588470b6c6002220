/* ep-poison-node.c — a lying DHT node for tests and bench-poison
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "ep-poison-node.h"

struct _EpPoisonNode
{
  EpUdp   *udp;
  guint8   id[EP_KRPC_ID_LEN];
  guint8   addr[6];

  gboolean has_item;
  guint8   k[32];
  guint8   sig[64];
  gint64   seq;
  GBytes  *v;

  GBytes  *peers;
  gboolean drop_puts;
  guint16  next_tid;

  guint    n_items_sent;
  guint    n_queries;
  guint    n_puts_dropped;
};

static const guint8 token[] = "poison-token";

/* The EP_RT_K entries of @peers closest to @target, never ourselves. */
static GByteArray *
closest_peers (EpPoisonNode *self,
               const guint8 *target)
{
  GByteArray *out = g_byte_array_new ();
  gsize len = 0;
  const guint8 *p = self->peers != NULL ? g_bytes_get_data (self->peers, &len) : NULL;
  const guint8 *best[EP_RT_K];
  guint n = 0;

  for (gsize off = 0; p != NULL && off + 26 <= len; off += 26)
    {
      const guint8 *e = p + off;
      guint pos;

      if (memcmp (e, self->id, EP_KRPC_ID_LEN) == 0)
        continue;
      pos = n;
      while (pos > 0 && ep_rt_distance_cmp (target, e, best[pos - 1]) < 0)
        pos--;
      if (pos >= EP_RT_K)
        continue;
      if (n < EP_RT_K)
        n++;
      memmove (&best[pos + 1], &best[pos], (n - 1 - pos) * sizeof best[0]);
      best[pos] = e;
    }
  for (guint i = 0; i < n; i++)
    g_byte_array_append (out, best[i], 26);
  return out;
}

static void
send_msg (EpPoisonNode   *self,
          GSocketAddress *to,
          const EpKrpcMsg *msg)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  ep_krpc_encode (msg, out);
  ep_udp_send (self->udp, to, out->data, out->len, NULL);
}

static void
on_datagram (EpUdp          *udp,
             GSocketAddress *from,
             const guint8   *data,
             gsize           len,
             gpointer        user_data)
{
  static const EpBencLimits limits = {
    .max_depth = 16, .max_values = 1024, .max_input = EP_UDP_MAX_DATAGRAM,
    .allow_unsorted_keys = TRUE,
  };
  EpPoisonNode *self = user_data;
  g_autoptr(EpBencDoc) doc = ep_benc_doc_parse (data, len, &limits, NULL);
  g_autoptr(GByteArray) nodes = NULL;
  EpKrpcMsg q, r = { .kind = EP_KRPC_RESPONSE };

  if (doc == NULL || ep_krpc_decode (ep_benc_doc_root (doc), &q) != EP_KRPC_OK
      || q.kind != EP_KRPC_QUERY)
    return;

  self->n_queries++;
  memcpy (r.tid, q.tid, q.tid_len);
  r.tid_len = q.tid_len;
  memcpy (r.id, self->id, EP_KRPC_ID_LEN);

  switch (q.method)
    {
    case EP_KRPC_PING:
      break;
    case EP_KRPC_FIND_NODE:
    case EP_KRPC_GET_PEERS:
    case EP_KRPC_GET:
      nodes = closest_peers (self, q.target);
      r.nodes = nodes->data;
      r.nodes_len = nodes->len;
      if (q.method != EP_KRPC_FIND_NODE)
        {
          r.token = token;
          r.token_len = sizeof token - 1;
        }
      if (q.method == EP_KRPC_GET && self->has_item)
        {
          r.has_k = TRUE;
          memcpy (r.k, self->k, 32);
          memcpy (r.sig, self->sig, 64);
          r.has_seq = TRUE;
          r.seq = self->seq;
          r.v = g_bytes_get_data (self->v, &r.v_len);
          self->n_items_sent++;
        }
      break;
    case EP_KRPC_PUT:
    case EP_KRPC_ANNOUNCE_PEER:
      if (!self->drop_puts)
        {
          g_autoptr(GByteArray) out = g_byte_array_new ();

          ep_krpc_encode_error (q.tid, q.tid_len, EP_KRPC_ERROR_GENERIC, "refused", out);
          ep_udp_send (self->udp, from, out->data, out->len, NULL);
          return;
        }
      self->n_puts_dropped++;
      break;
    case EP_KRPC_UNKNOWN_METHOD:
    default:
      return;
    }
  send_msg (self, from, &r);
}

EpPoisonNode *
ep_poison_node_new (const char    *host,
                    const guint8   id[EP_KRPC_ID_LEN],
                    GError       **error)
{
  g_autoptr(EpPoisonNode) self = g_new0 (EpPoisonNode, 1);
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (host);

  self->udp = ep_udp_new (host, 0, error);
  if (self->udp == NULL)
    return NULL;
  memcpy (self->id, id, EP_KRPC_ID_LEN);
  memcpy (self->addr, g_inet_address_to_bytes (inet), 4);
  self->addr[4] = ep_udp_get_port (self->udp) >> 8;
  self->addr[5] = ep_udp_get_port (self->udp) & 0xff;
  ep_udp_set_handler (self->udp, 'd', on_datagram, self);
  return g_steal_pointer (&self);
}

void
ep_poison_node_free (EpPoisonNode *self)
{
  if (self->udp != NULL)
    ep_udp_set_handler (self->udp, 'd', NULL, NULL);
  g_clear_object (&self->udp);
  g_clear_pointer (&self->v, g_bytes_unref);
  g_clear_pointer (&self->peers, g_bytes_unref);
  g_free (self);
}

const guint8 *
ep_poison_node_get_id (EpPoisonNode *self)
{
  return self->id;
}

GSocketAddress *
ep_poison_node_get_address (EpPoisonNode *self)
{
  return ep_udp_get_local_address (self->udp, G_SOCKET_FAMILY_IPV4);
}

void
ep_poison_node_get_compact (EpPoisonNode *self,
                            guint8        out[26])
{
  memcpy (out, self->id, EP_KRPC_ID_LEN);
  memcpy (out + EP_KRPC_ID_LEN, self->addr, 6);
}

void
ep_poison_node_set_item (EpPoisonNode *self,
                         const guint8  k[32],
                         const guint8  sig[64],
                         gint64        seq,
                         GBytes       *v)
{
  self->has_item = v != NULL;
  g_clear_pointer (&self->v, g_bytes_unref);
  if (v == NULL)
    return;
  memcpy (self->k, k, 32);
  memcpy (self->sig, sig, 64);
  self->seq = seq;
  self->v = g_bytes_ref (v);
}

void
ep_poison_node_set_peers (EpPoisonNode *self,
                          GBytes       *compact_nodes)
{
  g_clear_pointer (&self->peers, g_bytes_unref);
  self->peers = compact_nodes != NULL ? g_bytes_ref (compact_nodes) : NULL;
}

void
ep_poison_node_set_drop_puts (EpPoisonNode *self,
                              gboolean      drop_puts)
{
  self->drop_puts = drop_puts;
}

void
ep_poison_node_introduce (EpPoisonNode   *self,
                          GSocketAddress *to)
{
  EpKrpcMsg q = { .kind = EP_KRPC_QUERY, .method = EP_KRPC_FIND_NODE, .tid_len = 2 };

  q.tid[0] = 0xee;
  q.tid[1] = self->next_tid++;
  memcpy (q.id, self->id, EP_KRPC_ID_LEN);
  memcpy (q.target, self->id, EP_KRPC_ID_LEN);
  send_msg (self, to, &q);
}

guint
ep_poison_node_get_n_items_sent (EpPoisonNode *self)
{
  return self->n_items_sent;
}

guint
ep_poison_node_get_n_puts_dropped (EpPoisonNode *self)
{
  return self->n_puts_dropped;
}

guint
ep_poison_node_get_n_queries (EpPoisonNode *self)
{
  return self->n_queries;
}
