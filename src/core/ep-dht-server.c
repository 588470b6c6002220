/* ep-dht-server.c — answering the queries of other nodes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "ep-dht-private.h"

/* Peers in one get_peers answer, so it stays well under 1500 bytes. */
#define MAX_VALUES4 50
#define MAX_VALUES6 25

static void
reply_error (EpDht           *self,
             const EpKrpcMsg *query,
             const guint8    *addr,
             gsize            addr_len,
             gint64           code,
             const char      *message)
{
  EpKrpcMsg e = { .kind = EP_KRPC_ERROR, .error_code = code, .error_message = message };

  memcpy (e.tid, query->tid, query->tid_len);
  e.tid_len = query->tid_len;
  ep_dht_send_message (self, addr, addr_len, &e);
  if (code == EP_KRPC_ERROR_METHOD_UNKNOWN)
    self->counters.errors_sent_method++;
  else if (code == EP_KRPC_ERROR_PROTOCOL || code == EP_KRPC_ERROR_GENERIC)
    self->counters.errors_sent_protocol++;
  else
    self->counters.errors_sent_storage++;
}

/* BEP 32: the families the querier wants, by default its own. */
static void
add_nodes (EpDht           *self,
           const EpKrpcMsg *query,
           gsize            addr_len,
           EpKrpcMsg       *r,
           GByteArray      *nodes,
           GByteArray      *nodes6)
{
  guint want = query->want;
  EpRtNode closest[EP_RT_K];
  gint64 now = ep_dht_now ();

  if (want == 0)
    want = addr_len == 18 ? EP_KRPC_WANT_N6 : EP_KRPC_WANT_N4;

  if ((want & EP_KRPC_WANT_N4) != 0 && self->table4 != NULL)
    {
      guint n = ep_routing_table_closest (self->table4, query->target, EP_RT_K, now, closest);

      for (guint i = 0; i < n; i++)
        {
          g_byte_array_append (nodes, closest[i].id, EP_KRPC_ID_LEN);
          g_byte_array_append (nodes, closest[i].addr, closest[i].addr_len);
        }
      r->nodes = nodes->data != NULL ? nodes->data : (const guint8 *) "";
      r->nodes_len = nodes->len;
    }
  if ((want & EP_KRPC_WANT_N6) != 0 && self->table6 != NULL)
    {
      guint n = ep_routing_table_closest (self->table6, query->target, EP_RT_K, now, closest);

      for (guint i = 0; i < n; i++)
        {
          g_byte_array_append (nodes6, closest[i].id, EP_KRPC_ID_LEN);
          g_byte_array_append (nodes6, closest[i].addr, closest[i].addr_len);
        }
      r->nodes6 = nodes6->data != NULL ? nodes6->data : (const guint8 *) "";
      r->nodes6_len = nodes6->len;
    }
}

/* Remembers @addr; TRUE if it was among the last few remembered. */
static gboolean
recently_pinged (EpDht        *self,
                 const guint8 *addr,
                 gsize         addr_len)
{
  guint32 h = 2166136261u;

  for (gsize i = 0; i < addr_len; i++)
    h = (h ^ addr[i]) * 16777619u;
  h |= 1;   /* 0 marks an empty slot */
  for (guint i = 0; i < G_N_ELEMENTS (self->recent_pings); i++)
    if (self->recent_pings[i] == h)
      return TRUE;
  self->recent_pings[self->recent_pings_next] = h;
  self->recent_pings_next = (self->recent_pings_next + 1) % G_N_ELEMENTS (self->recent_pings);
  return FALSE;
}

static gboolean
token_ok (EpDht           *self,
          const EpKrpcMsg *query,
          GInetAddress    *inet)
{
  return query->token != NULL
         && ep_dht_tokens_check (self->tokens, inet, query->token, query->token_len);
}

/* BEP 44 put: returns 0 or the error code, with *message set. */
static int
store_item (EpDht           *self,
            const EpKrpcMsg *query,
            gint64           now,
            const char     **message)
{
  if (!query->has_k)
    return ep_dht_storage_put_immutable (self->storage, query->v, query->v_len, now, message);

  return ep_dht_storage_put_mutable (self->storage, query->k, query->salt, query->salt_len,
                                     query->seq, query->sig, query->v, query->v_len,
                                     query->has_cas, query->cas, now, message);
}

/**
 * ep_dht_handle_query:
 *
 * Answers a well-formed, rate-checked query.
 */
void
ep_dht_handle_query (EpDht           *self,
                     const EpKrpcMsg *query,
                     const guint8    *addr,
                     gsize            addr_len)
{
  g_autoptr(GByteArray) nodes = g_byte_array_new ();
  g_autoptr(GByteArray) nodes6 = g_byte_array_new ();
  g_autoptr(GPtrArray) values = NULL;
  g_autoptr(GInetAddress) inet = ep_dht_addr_to_inet (addr, addr_len);
  EpRoutingTable *table = ep_dht_table_for (self, addr_len);
  guint8 token[EP_DHT_TOKEN_LEN];
  gint64 now = ep_dht_now ();
  EpKrpcMsg r = { .kind = EP_KRPC_RESPONSE };
  const EpDhtItem *item;
  const char *message = NULL;
  int code;

  if (query->method == EP_KRPC_UNKNOWN_METHOD)
    {
      reply_error (self, query, addr, addr_len, EP_KRPC_ERROR_METHOD_UNKNOWN, "Method Unknown");
      return;
    }
  /* Our own query come back to us (a loop through a confused node). */
  if (memcmp (query->id, self->id, EP_KRPC_ID_LEN) == 0)
    return;

  /* BEP 43: a read-only node asks but must not be asked; we only learn
   * that a node that queries us is alive, never let it in for that. */
  if (!query->ro && table != NULL)
    {
      if (ep_routing_table_find (table, query->id) != NULL)
        ep_routing_table_seen (table, query->id, addr, addr_len, now);
      else
        {
          self->last_unsolicited = now;
          /* A newcomer we have room for: ask it something; its answer
           * lets it in. This is how joining nodes become known. */
          if (ep_routing_table_wants (table, query->id, addr, addr_len, now)
              && !recently_pinged (self, addr, addr_len))
            {
              EpKrpcMsg ping = { .method = EP_KRPC_PING };

              ep_dht_send_query (self, addr, addr_len, query->id, &ping, NULL, NULL);
            }
        }
    }

  memcpy (r.tid, query->tid, query->tid_len);
  r.tid_len = query->tid_len;
  memcpy (r.id, self->id, EP_KRPC_ID_LEN);
  /* BEP 42: tell the querier the address we see. */
  memcpy (r.ip, addr, addr_len);
  r.ip_len = addr_len;

  switch (query->method)
    {
    case EP_KRPC_PING:
      break;

    case EP_KRPC_FIND_NODE:
      add_nodes (self, query, addr_len, &r, nodes, nodes6);
      break;

    case EP_KRPC_GET_PEERS:
      ep_dht_tokens_make (self->tokens, inet, token);
      r.token = token;
      r.token_len = sizeof token;
      values = ep_dht_storage_get_peers (self->storage, query->target,
                                         addr_len == 18 ? G_SOCKET_FAMILY_IPV6
                                                        : G_SOCKET_FAMILY_IPV4,
                                         addr_len == 18 ? MAX_VALUES6 : MAX_VALUES4, now);
      r.values_out = values;
      add_nodes (self, query, addr_len, &r, nodes, nodes6);
      break;

    case EP_KRPC_ANNOUNCE_PEER:
      {
        guint8 peer[18];
        gsize ip_len = addr_len - 2;
        guint16 port = query->implied_port ? (addr[ip_len] << 8 | addr[ip_len + 1])
                                           : query->port;

        if (!token_ok (self, query, inet))
          {
            reply_error (self, query, addr, addr_len, EP_KRPC_ERROR_PROTOCOL, "Bad token");
            return;
          }
        memcpy (peer, addr, ip_len);
        peer[ip_len] = port >> 8;
        peer[ip_len + 1] = port & 0xff;
        ep_dht_storage_announce (self->storage, query->target, peer, addr_len, now);
      }
      break;

    case EP_KRPC_GET:
      ep_dht_tokens_make (self->tokens, inet, token);
      r.token = token;
      r.token_len = sizeof token;
      item = ep_dht_storage_get (self->storage, query->target, now);
      if (item != NULL && !item->is_mutable)
        {
          r.v = item->v;
          r.v_len = item->v_len;
        }
      else if (item != NULL)
        {
          r.has_seq = TRUE;
          r.seq = item->seq;
          /* BEP 44: nothing newer than what the querier has, only the seq. */
          if (!query->has_seq || item->seq > query->seq)
            {
              r.v = item->v;
              r.v_len = item->v_len;
              r.has_k = TRUE;
              memcpy (r.k, item->k, 32);
              memcpy (r.sig, item->sig, 64);
            }
        }
      add_nodes (self, query, addr_len, &r, nodes, nodes6);
      break;

    case EP_KRPC_PUT:
      if (!token_ok (self, query, inet))
        {
          reply_error (self, query, addr, addr_len, EP_KRPC_ERROR_PROTOCOL, "Bad token");
          return;
        }
      code = store_item (self, query, now, &message);
      if (code != 0)
        {
          reply_error (self, query, addr, addr_len, code,
                       message != NULL ? message : "Not stored");
          return;
        }
      break;

    case EP_KRPC_UNKNOWN_METHOD:
    default:
      g_assert_not_reached ();
    }

  ep_dht_send_message (self, addr, addr_len, &r);
}
