/* ep-dht.c — a Mainline DHT node: object, transactions, dispatch, upkeep
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-bep42.h"
#include "ep-dht-private.h"

#define MAINTENANCE_INTERVAL 5          /* seconds */
#define TOKEN_ROTATION 300
#define EXPIRE_INTERVAL 60
#define REBOOTSTRAP_INTERVAL 30
#define VOTES_NEEDED 5
#define VOTE_WINDOW 64
#define RO_AFTER (10 * 60)              /* BEP 43: unreachable after this long unasked */
#define DEFAULT_BOOTSTRAP_PORT 6881

enum {
  PROP_0,
  PROP_UDP,
  PROP_READY,
  PROP_READ_ONLY,
  N_PROPS
};

enum {
  SIGNAL_READY,
  SIGNAL_NODES_CHANGED,
  SIGNAL_EXTERNAL_ADDRESS_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

typedef struct
{
  GList           link;
  guint16         tid;
  guint8          method;
  guint8          addr_len;
  guint8          retries;
  gboolean        has_id;
  guint8          addr[18];
  guint8          node_id[EP_KRPC_ID_LEN];
  gint64          deadline;
  GBytes         *datagram;
  EpDhtReplyFunc  callback;
  gpointer        user_data;
} Txn;

G_DEFINE_FINAL_TYPE (EpDht, ep_dht, G_TYPE_OBJECT)

G_DEFINE_QUARK (ep-dht-error-quark, ep_dht_error)

static void do_bootstrap (EpDht *self);

gint64
ep_dht_now (void)
{
  return g_get_monotonic_time () / G_USEC_PER_SEC;
}

void
ep_dht_node_info_free (EpDhtNodeInfo *info)
{
  if (info == NULL)
    return;
  g_clear_object (&info->address);
  g_free (info);
}

void
ep_dht_value_free (EpDhtValue *value)
{
  if (value == NULL)
    return;
  g_clear_pointer (&value->v, g_bytes_unref);
  g_clear_pointer (&value->salt, g_bytes_unref);
  g_free (value);
}

/* Compact addresses ------------------------------------------------------ */

gsize
ep_dht_addr_from_socket (GSocketAddress *address,
                         guint8          out[18])
{
  GInetAddress *inet;
  gsize len;
  guint16 port;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return 0;
  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
  len = g_inet_address_get_native_size (inet);
  if (len != 4 && len != 16)
    return 0;
  memcpy (out, g_inet_address_to_bytes (inet), len);
  out[len] = port >> 8;
  out[len + 1] = port & 0xff;
  return len + 2;
}

GInetAddress *
ep_dht_addr_to_inet (const guint8 *addr,
                     gsize         addr_len)
{
  /* @addr_len is the compact length: 6 or 18. */
  return g_inet_address_new_from_bytes (addr, addr_len == 18 ? G_SOCKET_FAMILY_IPV6
                                                             : G_SOCKET_FAMILY_IPV4);
}

GSocketAddress *
ep_dht_addr_to_socket (const guint8 *addr,
                       gsize         addr_len)
{
  g_autoptr(GInetAddress) inet = ep_dht_addr_to_inet (addr, addr_len);
  guint16 port = (addr[addr_len - 2] << 8) | addr[addr_len - 1];

  return g_inet_socket_address_new (inet, port);
}

EpRoutingTable *
ep_dht_table_for (EpDht *self,
                  gsize  addr_len)
{
  return addr_len == 18 ? self->table6 : addr_len == 6 ? self->table4 : NULL;
}

/* Never send to port 0, an unspecified or multicast address, or a family we
 * have no socket for. */
gboolean
ep_dht_addr_usable (EpDht        *self,
                    const guint8 *addr,
                    gsize         addr_len)
{
  static const guint8 zeros[16] = { 0 };
  gsize ip_len = addr_len - 2;

  if (ep_dht_table_for (self, addr_len) == NULL)
    return FALSE;
  if (addr[ip_len] == 0 && addr[ip_len + 1] == 0)
    return FALSE;
  if (memcmp (addr, zeros, ip_len) == 0)
    return FALSE;
  if (ip_len == 4 && (addr[0] >= 224 || addr[0] == 0))
    return FALSE;
  if (ip_len == 16 && addr[0] == 0xff)
    return FALSE;
  return TRUE;
}

/* BEP 42: is the ID derived from the address (or the address exempt)? */
gboolean
ep_dht_node_compliant (const guint8 *id,
                       const guint8 *addr,
                       gsize         addr_len)
{
  g_autoptr(GInetAddress) inet = ep_dht_addr_to_inet (addr, addr_len);

  return ep_bep42_is_exempt (inet) || ep_bep42_id_matches (inet, id);
}

guint
ep_dht_want (EpDht *self)
{
  if (self->table6 == NULL)
    return 0;
  return EP_KRPC_WANT_N4 | EP_KRPC_WANT_N6;
}

/* BEP 43: read-only when asked to, or when nobody has reached us unasked
 * for a long while although we know plenty of nodes (behind a NAT). */
gboolean
ep_dht_sends_ro (EpDht *self)
{
  gint64 now;

  if (self->read_only)
    return TRUE;
  if (!self->ready)
    return FALSE;
  now = ep_dht_now ();
  return now - self->started_at > RO_AFTER
         && now - self->last_unsolicited > RO_AFTER
         && ep_routing_table_size (self->table4) >= EP_RT_K;
}

/* Signals ---------------------------------------------------------------- */

static gboolean
emit_nodes_changed (gpointer user_data)
{
  EpDht *self = user_data;
  guint n = ep_dht_get_n_nodes (self);

  g_clear_pointer (&self->nodes_changed, g_source_unref);
  if (n != self->last_n_nodes)
    {
      self->last_n_nodes = n;
      g_signal_emit (self, signals[SIGNAL_NODES_CHANGED], 0, n);
    }
  return G_SOURCE_REMOVE;
}

static void
schedule_nodes_changed (EpDht *self)
{
  GSource *source;

  if (self->nodes_changed != NULL)
    return;
  source = g_idle_source_new ();
  g_source_set_callback (source, emit_nodes_changed, self, NULL);
  g_source_set_static_name (source, "[ep-dht] nodes-changed");
  g_source_attach (source, g_main_context_get_thread_default ());
  self->nodes_changed = source;
}

static void
set_ready (EpDht *self)
{
  if (self->ready)
    return;
  self->ready = TRUE;
  g_debug ("DHT ready with %u nodes", ep_dht_get_n_nodes (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READY]);
  g_signal_emit (self, signals[SIGNAL_READY], 0);
}

/* Transactions ----------------------------------------------------------- */

static void
txn_free (Txn *txn)
{
  g_clear_pointer (&txn->datagram, g_bytes_unref);
  g_free (txn);
}

static void
arm_timer (EpDht *self)
{
  Txn *head = self->txn_queue.head != NULL ? self->txn_queue.head->data : NULL;

  if (self->txn_timer != NULL)
    g_source_set_ready_time (self->txn_timer, head != NULL ? head->deadline : -1);
}

static void
send_datagram (EpDht        *self,
               const guint8 *addr,
               gsize         addr_len,
               const guint8 *data,
               gsize         len)
{
  g_autoptr(GSocketAddress) to = ep_dht_addr_to_socket (addr, addr_len);
  g_autoptr(GError) error = NULL;

  if (!ep_udp_send (self->udp, to, data, len, &error))
    {
      self->counters.send_errors++;
      g_debug ("send failed: %s", error->message);
    }
}

void
ep_dht_send_message (EpDht           *self,
                     const guint8    *addr,
                     gsize            addr_len,
                     const EpKrpcMsg *msg)
{
  g_autoptr(GByteArray) out = g_byte_array_sized_new (512);

  ep_krpc_encode (msg, out);
  send_datagram (self, addr, addr_len, out->data, out->len);
  if (msg->kind == EP_KRPC_RESPONSE)
    self->counters.responses_sent++;
  else if (msg->kind == EP_KRPC_ERROR)
    self->counters.errors_sent++;
}

/**
 * ep_dht_send_query:
 * @node_id: (nullable): the node's ID when known; a timeout then counts
 *   against it in the routing table
 * @query: method and arguments; tid, id, ro and want are filled in here
 *
 * Returns: %TRUE if sent; @callback then runs exactly once. %FALSE (and no
 *   callback) when the address is unusable or too many queries are in flight.
 */
gboolean
ep_dht_send_query (EpDht          *self,
                   const guint8   *addr,
                   gsize           addr_len,
                   const guint8   *node_id,
                   EpKrpcMsg      *query,
                   EpDhtReplyFunc  callback,
                   gpointer        user_data)
{
  g_autoptr(GByteArray) out = g_byte_array_sized_new (256);
  Txn *txn;

  if (!ep_dht_addr_usable (self, addr, addr_len))
    return FALSE;
  if (g_hash_table_size (self->transactions) >= EP_DHT_MAX_TRANSACTIONS)
    {
      self->counters.dropped_txn_limit++;
      return FALSE;
    }

  txn = g_new0 (Txn, 1);
  txn->link.data = txn;
  do
    txn->tid = self->next_tid++;
  while (g_hash_table_contains (self->transactions, GUINT_TO_POINTER (txn->tid)));

  query->kind = EP_KRPC_QUERY;
  query->tid[0] = txn->tid >> 8;
  query->tid[1] = txn->tid & 0xff;
  query->tid_len = 2;
  memcpy (query->id, self->id, EP_KRPC_ID_LEN);
  query->ro = ep_dht_sends_ro (self);
  if (query->want == 0)
    query->want = ep_dht_want (self);
  ep_krpc_encode (query, out);

  txn->method = query->method;
  memcpy (txn->addr, addr, addr_len);
  txn->addr_len = addr_len;
  if (node_id != NULL)
    {
      txn->has_id = TRUE;
      memcpy (txn->node_id, node_id, EP_KRPC_ID_LEN);
    }
  txn->deadline = g_get_monotonic_time () + (gint64) self->timeout_ms * 1000;
  txn->callback = callback;
  txn->user_data = user_data;
  txn->datagram = g_byte_array_free_to_bytes (g_steal_pointer (&out));

  g_hash_table_insert (self->transactions, GUINT_TO_POINTER (txn->tid), txn);
  g_queue_push_tail_link (&self->txn_queue, &txn->link);
  if (self->txn_queue.length == 1)
    arm_timer (self);

  self->counters.queries_sent++;
  send_datagram (self, addr, addr_len,
                 g_bytes_get_data (txn->datagram, NULL), g_bytes_get_size (txn->datagram));
  return TRUE;
}

static void
txn_finish (EpDht           *self,
            Txn             *txn,
            const EpKrpcMsg *reply)
{
  g_queue_unlink (&self->txn_queue, &txn->link);
  g_hash_table_remove (self->transactions, GUINT_TO_POINTER (txn->tid));
  if (txn->callback != NULL)
    txn->callback (self, reply, txn->has_id ? txn->node_id : NULL, txn->addr, txn->addr_len,
                   txn->user_data);
  txn_free (txn);
}

static gboolean
on_txn_timer (gpointer user_data)
{
  EpDht *self = user_data;
  gint64 now = g_get_monotonic_time ();

  g_object_ref (self);
  while (self->txn_queue.head != NULL)
    {
      Txn *txn = self->txn_queue.head->data;

      if (txn->deadline > now)
        break;

      if (txn->retries == 0)
        {
          txn->retries++;
          txn->deadline = now + (gint64) self->timeout_ms * 1000;
          g_queue_unlink (&self->txn_queue, &txn->link);
          g_queue_push_tail_link (&self->txn_queue, &txn->link);
          self->counters.retries++;
          send_datagram (self, txn->addr, txn->addr_len,
                         g_bytes_get_data (txn->datagram, NULL),
                         g_bytes_get_size (txn->datagram));
          continue;
        }

      self->counters.timeouts++;
      if (txn->has_id)
        {
          EpRoutingTable *table = ep_dht_table_for (self, txn->addr_len);

          if (ep_routing_table_failed (table, txn->node_id, txn->addr, txn->addr_len,
                                       ep_dht_now ()))
            schedule_nodes_changed (self);
        }
      txn_finish (self, txn, NULL);
    }
  arm_timer (self);
  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
txn_timer_dispatch (GSource     *source,
                    GSourceFunc  callback,
                    gpointer     user_data)
{
  return callback (user_data);
}

static GSourceFuncs txn_timer_funcs = {
  .dispatch = txn_timer_dispatch,
};

/* BEP 42 vote ------------------------------------------------------------ */

static void
vote_external (EpDht        *self,
               const guint8 *ip,
               gsize         ip_len)
{
  guint slot = G_MAXUINT;
  guint8 current[18];
  gsize current_len = 0;

  if (ep_dht_table_for (self, ip_len) == NULL || !ep_dht_addr_usable (self, ip, ip_len))
    return;

  for (guint i = 0; i < self->n_votes; i++)
    if (self->votes[i].addr_len == ip_len && memcmp (self->votes[i].addr, ip, ip_len) == 0)
      slot = i;
  if (slot == G_MAXUINT)
    {
      if (self->n_votes < G_N_ELEMENTS (self->votes))
        slot = self->n_votes++;
      else
        {
          slot = 0;
          for (guint i = 1; i < self->n_votes; i++)
            if (self->votes[i].count < self->votes[slot].count)
              slot = i;
        }
      memcpy (self->votes[slot].addr, ip, ip_len);
      self->votes[slot].addr_len = ip_len;
      self->votes[slot].count = 0;
    }
  self->votes[slot].count++;

  if (++self->n_votes_total >= VOTE_WINDOW)
    {
      /* A sliding window: halve every count. */
      for (guint i = 0; i < self->n_votes; i++)
        self->votes[i].count /= 2;
      self->n_votes_total /= 2;
    }

  if (self->votes[slot].count < VOTES_NEEDED)
    return;
  if (self->external != NULL)
    current_len = ep_dht_addr_from_socket (self->external, current);
  if (current_len == ip_len && memcmp (current, ip, ip_len) == 0)
    return;

  g_clear_object (&self->external);
  self->external = ep_dht_addr_to_socket (ip, ip_len);
  memset (self->votes, 0, sizeof self->votes);
  self->n_votes = 0;
  self->n_votes_total = 0;

  {
    g_autoptr(GInetAddress) inet = ep_dht_addr_to_inet (ip, ip_len);

    if (!ep_bep42_is_exempt (inet) && !ep_bep42_id_matches (inet, self->id))
      {
        ep_bep42_generate_id (inet, self->id);
        ep_routing_table_set_id (self->table4, self->id);
        if (self->table6 != NULL)
          ep_routing_table_set_id (self->table6, self->id);
        g_debug ("node ID regenerated from the external address (BEP 42)");
      }
  }
  g_signal_emit (self, signals[SIGNAL_EXTERNAL_ADDRESS_CHANGED], 0, self->external);
}

/* Datagrams -------------------------------------------------------------- */

static void
handle_reply (EpDht           *self,
              const EpKrpcMsg *msg,
              const guint8    *addr,
              gsize            addr_len)
{
  Txn *txn = NULL;
  EpRoutingTable *table;
  EpKrpcReason reason;

  if (msg->tid_len == 2)
    txn = g_hash_table_lookup (self->transactions,
                               GUINT_TO_POINTER ((guint) (msg->tid[0] << 8 | msg->tid[1])));
  if (txn == NULL || txn->addr_len != addr_len || memcmp (txn->addr, addr, addr_len) != 0)
    {
      self->counters.dropped_unmatched++;
      return;
    }

  if (msg->kind == EP_KRPC_ERROR)
    {
      self->counters.errors_received++;
      txn_finish (self, txn, msg);
      return;
    }

  self->counters.responses_received++;
  reason = ep_krpc_check_response (msg, txn->method);
  if (reason != EP_KRPC_OK)
    {
      self->counters.malformed[reason]++;
      self->counters.dropped_malformed++;
      txn_finish (self, txn, NULL);
      return;
    }

  if (msg->ip_len != 0)
    vote_external (self, msg->ip, msg->ip_len);

  /* It answered our query: that is how a node gets into the table. */
  table = ep_dht_table_for (self, addr_len);
  if (table != NULL)
    {
      EpRtNode ping;

      switch (ep_routing_table_add (table, msg->id, addr, addr_len, ep_dht_now (), &ping))
        {
        case EP_RT_ADDED:
        case EP_RT_REPLACED:
          schedule_nodes_changed (self);
          break;
        case EP_RT_CACHED_PING:
          {
            EpKrpcMsg q = { .method = EP_KRPC_PING };

            /* Its timeout marks it failed, which lets the newcomer in. */
            ep_dht_send_query (self, ping.addr, ping.addr_len, ping.id, &q, NULL, NULL);
          }
          break;
        case EP_RT_UPDATED:
        case EP_RT_CACHED:
        case EP_RT_REJECTED_SELF:
        case EP_RT_REJECTED_IP:
        case EP_RT_REJECTED_CONFLICT:
        default:
          break;
        }
    }

  txn_finish (self, txn, msg);
}

/* The limiter's key: the IP, or on loopback (where every test node shares
 * one IP) the IP and port. */
static gboolean
rate_allow (EpDht        *self,
            const guint8 *addr,
            gsize         addr_len)
{
  gboolean loopback = (addr_len == 6 && addr[0] == 127)
                      || (addr_len == 18 && memcmp (addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0);

  if (self->query_rate <= 0)
    return TRUE;
  return ep_rate_limit_allow (self->rate, addr, loopback ? addr_len : addr_len - 2,
                              g_get_monotonic_time ());
}

static void
on_datagram (EpUdp          *udp,
             GSocketAddress *from,
             const guint8   *data,
             gsize           len,
             gpointer        user_data)
{
  ep_dht_receive (user_data, from, data, len);
}

/**
 * ep_dht_receive:
 * @from: the sender
 * @data: (array length=len): one datagram
 *
 * Handles a datagram as if it had arrived on the sockets: EpUdp calls this
 * for every datagram starting with 'd'; tests and the fuzzer call it
 * directly.
 */
void
ep_dht_receive (EpDht          *self,
                GSocketAddress *from,
                const guint8   *data,
                gsize           len)
{
  static const EpBencLimits limits = {
    .max_depth = 16, .max_values = 1024, .max_input = EP_UDP_MAX_DATAGRAM,
  };
  g_autoptr(EpBencDoc) doc = NULL;
  EpKrpcMsg msg;
  EpKrpcReason reason;
  guint8 addr[18];
  gsize addr_len;

  g_return_if_fail (EP_IS_DHT (self));

  self->counters.received++;
  addr_len = ep_dht_addr_from_socket (from, addr);
  if (addr_len == 0 || ep_dht_table_for (self, addr_len) == NULL)
    return;

  doc = ep_benc_doc_parse (data, len, &limits, NULL);
  reason = doc != NULL ? ep_krpc_decode (ep_benc_doc_root (doc), &msg) : EP_KRPC_BAD_BENCODE;
  if (reason != EP_KRPC_OK)
    {
      self->counters.malformed[reason]++;
      self->counters.dropped_malformed++;
      /* A query we cannot make sense of still gets a 203, as BEP 5 asks. */
      if (reason > EP_KRPC_BAD_Y && msg.kind == EP_KRPC_QUERY
          && rate_allow (self, addr, addr_len))
        {
          g_autoptr(GByteArray) out = g_byte_array_new ();

          ep_krpc_encode_error (msg.tid, msg.tid_len, EP_KRPC_ERROR_PROTOCOL,
                                ep_krpc_reason_to_string (reason), out);
          send_datagram (self, addr, addr_len, out->data, out->len);
          self->counters.errors_sent++;
          self->counters.errors_sent_protocol++;
        }
      return;
    }

  if (msg.kind == EP_KRPC_QUERY)
    {
      self->counters.queries_received++;
      if (!rate_allow (self, addr, addr_len))
        {
          self->counters.dropped_rate_limited++;
          return;
        }
      ep_dht_handle_query (self, &msg, addr, addr_len);
      return;
    }

  g_object_ref (self);
  handle_reply (self, &msg, addr, addr_len);
  g_object_unref (self);
}

/* Upkeep ----------------------------------------------------------------- */

static void
on_refresh_done (EpDhtLookup *lookup,
                 gpointer     user_data)
{
  EpDht *self = user_data;

  self->refreshing = FALSE;
  g_object_unref (self);
}

static void
maintain_table (EpDht          *self,
                EpRoutingTable *table,
                gint64          now)
{
  guint8 target[EP_KRPC_ID_LEN];
  EpRtNode node;

  if (table == NULL)
    return;

  if (!self->refreshing && ep_routing_table_next_refresh (table, now, target))
    {
      EpDhtLookup *lookup = ep_dht_lookup_new (self, EP_KRPC_FIND_NODE, target, NULL,
                                               on_refresh_done, g_object_ref (self));

      self->refreshing = TRUE;
      ep_dht_lookup_start (lookup);
      ep_dht_lookup_unref (lookup);
    }

  if (ep_routing_table_next_ping (table, now, &node))
    {
      EpKrpcMsg q = { .method = EP_KRPC_PING };

      ep_dht_send_query (self, node.addr, node.addr_len, node.id, &q, NULL, NULL);
    }
}

static gboolean
on_maintenance (gpointer user_data)
{
  EpDht *self = user_data;
  gint64 now = ep_dht_now ();

  if (now - self->last_token_rotation >= TOKEN_ROTATION)
    {
      ep_dht_tokens_rotate (self->tokens);
      self->last_token_rotation = now;
    }
  if (now - self->last_expire >= EXPIRE_INTERVAL)
    {
      ep_dht_storage_expire (self->storage, now);
      self->last_expire = now;
    }

  if (ep_dht_get_n_nodes (self) == 0 && self->pending_seeds == 0
      && now - self->last_bootstrap >= REBOOTSTRAP_INTERVAL)
    do_bootstrap (self);

  if (self->ready)
    {
      maintain_table (self, self->table4, now);
      maintain_table (self, self->table6, now);
    }
  return G_SOURCE_CONTINUE;
}

/* Bootstrap -------------------------------------------------------------- */

static void
on_self_lookup_done (EpDhtLookup *lookup,
                     gpointer     user_data)
{
  EpDht *self = user_data;

  if (ep_dht_get_n_nodes (self) > 0)
    set_ready (self);
  g_object_unref (self);
}

static void
seeds_done_one (EpDht *self)
{
  EpDhtLookup *lookup;

  g_return_if_fail (self->pending_seeds > 0);
  if (--self->pending_seeds > 0)
    return;

  /* Back from a saved table: one round trip was enough. */
  if (ep_dht_get_n_nodes (self) >= EP_RT_K)
    set_ready (self);

  lookup = ep_dht_lookup_new (self, EP_KRPC_FIND_NODE, self->id, NULL,
                              on_self_lookup_done, g_object_ref (self));
  ep_dht_lookup_start (lookup);
  ep_dht_lookup_unref (lookup);
}

static void
on_seed_reply (EpDht           *self,
               const EpKrpcMsg *reply,
               const guint8    *node_id,
               const guint8    *addr,
               gsize            addr_len,
               gpointer         user_data)
{
  seeds_done_one (self);
}

static void
send_seed (EpDht        *self,
           const guint8 *addr,
           gsize         addr_len,
           const guint8 *node_id)
{
  EpKrpcMsg q = { .method = EP_KRPC_FIND_NODE };

  memcpy (q.target, self->id, EP_KRPC_ID_LEN);
  self->pending_seeds++;
  if (!ep_dht_send_query (self, addr, addr_len, node_id, &q, on_seed_reply, NULL))
    self->pending_seeds--;
}

static void
send_seed_to (EpDht        *self,
              GInetAddress *inet,
              guint16       port)
{
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new (inet, port);
  guint8 addr[18];
  gsize addr_len = ep_dht_addr_from_socket (sa, addr);

  if (addr_len != 0)
    send_seed (self, addr, addr_len, NULL);
}

typedef struct
{
  EpDht   *self;
  guint16  port;
} Resolving;

static void
on_resolved (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Resolving *r = user_data;
  g_autoptr(GError) error = NULL;
  GList *addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &error);

  if (error != NULL)
    g_debug ("bootstrap host not resolved: %s", error->message);
  for (GList *l = addresses; l != NULL; l = l->next)
    send_seed_to (r->self, l->data, r->port);
  g_resolver_free_addresses (addresses);

  seeds_done_one (r->self);
  g_object_unref (r->self);
  g_free (r);
}

static void
seed_compact (EpDht  *self,
              GBytes *nodes,
              gsize   entry)
{
  gsize len = 0;
  const guint8 *p = nodes != NULL ? g_bytes_get_data (nodes, &len) : NULL;

  for (gsize off = 0; p != NULL && off + entry <= len; off += entry)
    send_seed (self, p + off + EP_KRPC_ID_LEN, entry - EP_KRPC_ID_LEN, p + off);
}

static void
do_bootstrap (EpDht *self)
{
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  gboolean any = FALSE;

  self->last_bootstrap = ep_dht_now ();
  /* Guard so that seeds answering synchronously cannot finish early. */
  self->pending_seeds++;

  seed_compact (self, self->saved4, 26);
  seed_compact (self, self->saved6, 38);
  any = self->pending_seeds > 1;

  for (guint i = 0; self->bootstrap != NULL && self->bootstrap[i] != NULL; i++)
    {
      g_autoptr(GSocketConnectable) na = NULL;
      g_autoptr(GInetAddress) literal = NULL;
      g_autoptr(GError) error = NULL;
      const char *host;
      guint16 port;

      na = g_network_address_parse (self->bootstrap[i], DEFAULT_BOOTSTRAP_PORT, &error);
      if (na == NULL)
        {
          g_warning ("Ignoring bootstrap address “%s”: %s", self->bootstrap[i], error->message);
          continue;
        }
      any = TRUE;
      host = g_network_address_get_hostname (G_NETWORK_ADDRESS (na));
      port = g_network_address_get_port (G_NETWORK_ADDRESS (na));
      literal = g_inet_address_new_from_string (host);
      if (literal != NULL)
        send_seed_to (self, literal, port);
      else
        {
          Resolving *r = g_new0 (Resolving, 1);

          r->self = g_object_ref (self);
          r->port = port;
          self->pending_seeds++;
          g_resolver_lookup_by_name_async (resolver, host, NULL, on_resolved, r);
        }
    }

  /* The first node of a network has nobody to ask. */
  if (!any)
    set_ready (self);
  seeds_done_one (self);
}

/* GObject ---------------------------------------------------------------- */

static void
ep_dht_get_property (GObject    *object,
                     guint       prop_id,
                     GValue     *value,
                     GParamSpec *pspec)
{
  EpDht *self = EP_DHT (object);

  switch (prop_id)
    {
    case PROP_UDP:
      g_value_set_object (value, self->udp);
      break;
    case PROP_READY:
      g_value_set_boolean (value, self->ready);
      break;
    case PROP_READ_ONLY:
      g_value_set_boolean (value, self->read_only);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ep_dht_set_property (GObject      *object,
                     guint         prop_id,
                     const GValue *value,
                     GParamSpec   *pspec)
{
  EpDht *self = EP_DHT (object);

  switch (prop_id)
    {
    case PROP_UDP:
      self->udp = g_value_dup_object (value);
      break;
    case PROP_READ_ONLY:
      ep_dht_set_read_only (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ep_dht_constructed (GObject *object)
{
  EpDht *self = EP_DHT (object);

  G_OBJECT_CLASS (ep_dht_parent_class)->constructed (object);

  g_assert (self->udp != NULL);
  self->table4 = ep_routing_table_new (self->id, G_SOCKET_FAMILY_IPV4, self->max_per_ip);
  if (ep_udp_has_family (self->udp, G_SOCKET_FAMILY_IPV6))
    self->table6 = ep_routing_table_new (self->id, G_SOCKET_FAMILY_IPV6, self->max_per_ip);

  self->txn_timer = g_source_new (&txn_timer_funcs, sizeof (GSource));
  g_source_set_callback (self->txn_timer, on_txn_timer, self, NULL);
  g_source_set_static_name (self->txn_timer, "[ep-dht] transactions");
  g_source_attach (self->txn_timer, g_main_context_get_thread_default ());

  ep_udp_set_handler (self->udp, 'd', on_datagram, self);
}

static void
ep_dht_dispose (GObject *object)
{
  EpDht *self = EP_DHT (object);

  if (self->udp != NULL)
    ep_udp_set_handler (self->udp, 'd', NULL, NULL);

  /* Whoever waits on a query learns it is over. */
  while (self->txn_queue.head != NULL)
    txn_finish (self, self->txn_queue.head->data, NULL);

  if (self->txn_timer != NULL)
    {
      g_source_destroy (self->txn_timer);
      g_clear_pointer (&self->txn_timer, g_source_unref);
    }
  if (self->maintenance != NULL)
    {
      g_source_destroy (self->maintenance);
      g_clear_pointer (&self->maintenance, g_source_unref);
    }
  if (self->nodes_changed != NULL)
    {
      g_source_destroy (self->nodes_changed);
      g_clear_pointer (&self->nodes_changed, g_source_unref);
    }
  g_clear_object (&self->udp);
  g_clear_object (&self->external);

  G_OBJECT_CLASS (ep_dht_parent_class)->dispose (object);
}

static void
ep_dht_finalize (GObject *object)
{
  EpDht *self = EP_DHT (object);

  g_clear_pointer (&self->transactions, g_hash_table_unref);
  g_clear_pointer (&self->table4, ep_routing_table_free);
  g_clear_pointer (&self->table6, ep_routing_table_free);
  g_clear_pointer (&self->tokens, ep_dht_tokens_free);
  g_clear_pointer (&self->storage, ep_dht_storage_free);
  g_clear_pointer (&self->rate, ep_rate_limit_free);
  g_clear_pointer (&self->bootstrap, g_strfreev);
  g_clear_pointer (&self->saved4, g_bytes_unref);
  g_clear_pointer (&self->saved6, g_bytes_unref);

  G_OBJECT_CLASS (ep_dht_parent_class)->finalize (object);
}

static void
ep_dht_class_init (EpDhtClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = ep_dht_get_property;
  object_class->set_property = ep_dht_set_property;
  object_class->constructed = ep_dht_constructed;
  object_class->dispose = ep_dht_dispose;
  object_class->finalize = ep_dht_finalize;

  properties[PROP_UDP] =
    g_param_spec_object ("udp", NULL, NULL, EP_TYPE_UDP,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_READY] =
    g_param_spec_boolean ("ready", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_READ_ONLY] =
    g_param_spec_boolean ("read-only", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * EpDht::ready:
   *
   * The node has joined: its bootstrap lookup found nodes (or it is the
   * first node of its network). Emitted once.
   */
  signals[SIGNAL_READY] =
    g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * EpDht::nodes-changed:
   * @n_nodes: nodes in the routing tables now
   */
  signals[SIGNAL_NODES_CHANGED] =
    g_signal_new ("nodes-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  /**
   * EpDht::external-address-changed:
   * @address: our address as the network sees it (BEP 42 vote)
   */
  signals[SIGNAL_EXTERNAL_ADDRESS_CHANGED] =
    g_signal_new ("external-address-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_SOCKET_ADDRESS);

  if (sodium_init () < 0)
    g_error ("libsodium cannot be initialised");
}

static void
ep_dht_init (EpDht *self)
{
  randombytes_buf (self->id, sizeof self->id);
  randombytes_buf (&self->next_tid, sizeof self->next_tid);
  self->transactions = g_hash_table_new (NULL, NULL);
  self->alpha = EP_DHT_DEFAULT_ALPHA;
  self->max_per_ip = 1;
  self->timeout_ms = EP_DHT_DEFAULT_QUERY_TIMEOUT_MS;
  self->query_rate = 50;
  self->query_burst = 100;
  self->tokens = ep_dht_tokens_new ();
  self->storage = ep_dht_storage_new (1000, 1000, 100);
  self->rate = ep_rate_limit_new (self->query_rate, self->query_burst, 512);
  self->last_token_rotation = ep_dht_now ();
  self->last_expire = self->last_token_rotation;
  self->started_at = self->last_token_rotation;
}

/* Public API ------------------------------------------------------------- */

/**
 * ep_dht_new:
 * @udp: the shared sockets; the node takes the datagrams starting with 'd'
 *
 * Returns: (transfer full): a node with a random ID, not yet started
 */
EpDht *
ep_dht_new (EpUdp *udp)
{
  g_return_val_if_fail (EP_IS_UDP (udp), NULL);

  return g_object_new (EP_TYPE_DHT, "udp", udp, NULL);
}

EpUdp *
ep_dht_get_udp (EpDht *self)
{
  g_return_val_if_fail (EP_IS_DHT (self), NULL);
  return self->udp;
}

const guint8 *
ep_dht_get_id (EpDht *self)
{
  g_return_val_if_fail (EP_IS_DHT (self), NULL);
  return self->id;
}

gboolean
ep_dht_is_ready (EpDht *self)
{
  g_return_val_if_fail (EP_IS_DHT (self), FALSE);
  return self->ready;
}

guint
ep_dht_get_n_nodes (EpDht *self)
{
  g_return_val_if_fail (EP_IS_DHT (self), 0);
  return ep_routing_table_size (self->table4)
         + (self->table6 != NULL ? ep_routing_table_size (self->table6) : 0);
}

/**
 * ep_dht_get_external_address:
 *
 * Returns: (transfer none) (nullable): our address as other nodes see it
 */
GSocketAddress *
ep_dht_get_external_address (EpDht *self)
{
  g_return_val_if_fail (EP_IS_DHT (self), NULL);
  return self->external;
}

const EpDhtCounters *
ep_dht_get_counters (EpDht *self)
{
  g_return_val_if_fail (EP_IS_DHT (self), NULL);
  return &self->counters;
}

void
ep_dht_set_alpha (EpDht *self,
                  guint  alpha)
{
  g_return_if_fail (EP_IS_DHT (self));
  self->alpha = CLAMP (alpha, 1, 16);
}

/**
 * ep_dht_set_max_nodes_per_ip:
 * @max: nodes of one IP in a routing table; 0 for no limit. Loopback
 *   addresses are never limited.
 */
void
ep_dht_set_max_nodes_per_ip (EpDht *self,
                             guint  max)
{
  g_return_if_fail (EP_IS_DHT (self));
  self->max_per_ip = max;
  ep_routing_table_set_max_per_ip (self->table4, max);
  if (self->table6 != NULL)
    ep_routing_table_set_max_per_ip (self->table6, max);
}

void
ep_dht_set_query_timeout (EpDht *self,
                          guint  msec)
{
  g_return_if_fail (EP_IS_DHT (self));
  self->timeout_ms = MAX (msec, 10);
}

/**
 * ep_dht_set_query_rate:
 * @per_second: queries answered per second and source; 0 for no limit
 * @burst: how many may come at once
 */
void
ep_dht_set_query_rate (EpDht  *self,
                       double  per_second,
                       double  burst)
{
  g_return_if_fail (EP_IS_DHT (self));
  self->query_rate = per_second;
  self->query_burst = burst;
  g_clear_pointer (&self->rate, ep_rate_limit_free);
  self->rate = ep_rate_limit_new (MAX (per_second, 1), MAX (burst, 1), 512);
}

void
ep_dht_set_read_only (EpDht    *self,
                      gboolean  read_only)
{
  g_return_if_fail (EP_IS_DHT (self));
  read_only = !!read_only;
  if (self->read_only == read_only)
    return;
  self->read_only = read_only;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READ_ONLY]);
}

void
ep_dht_get_last_lookup_stats (EpDht *self,
                              guint *queries,
                              guint *rounds)
{
  g_return_if_fail (EP_IS_DHT (self));
  if (queries != NULL)
    *queries = self->last_lookup_queries;
  if (rounds != NULL)
    *rounds = self->last_lookup_rounds;
}

/**
 * ep_dht_load_state:
 * @path: a file written by ep_dht_save_state()
 *
 * Takes the node ID from @path and queries the nodes saved there when
 * started, so a restart rejoins in one round trip. Call before
 * ep_dht_start().
 */
gboolean
ep_dht_load_state (EpDht       *self,
                   const char  *path,
                   GError     **error)
{
  guint8 id[EP_KRPC_ID_LEN];
  g_autoptr(GBytes) nodes4 = NULL;
  g_autoptr(GBytes) nodes6 = NULL;

  g_return_val_if_fail (EP_IS_DHT (self), FALSE);
  g_return_val_if_fail (!self->started, FALSE);

  if (!ep_routing_table_load_state (path, id, &nodes4, &nodes6, error))
    return FALSE;

  memcpy (self->id, id, sizeof id);
  ep_routing_table_set_id (self->table4, id);
  if (self->table6 != NULL)
    ep_routing_table_set_id (self->table6, id);
  g_clear_pointer (&self->saved4, g_bytes_unref);
  g_clear_pointer (&self->saved6, g_bytes_unref);
  self->saved4 = g_steal_pointer (&nodes4);
  self->saved6 = g_steal_pointer (&nodes6);
  return TRUE;
}

gboolean
ep_dht_save_state (EpDht       *self,
                   const char  *path,
                   GError     **error)
{
  g_return_val_if_fail (EP_IS_DHT (self), FALSE);

  return ep_routing_table_save_state (path, self->id, self->table4, self->table6,
                                      ep_dht_now (), error);
}

/**
 * ep_dht_start:
 * @bootstrap: (nullable) (array zero-terminated=1): HOST:PORT entries
 *
 * Joins the network: queries the saved nodes and the bootstrap hosts (names
 * resolved with GResolver), then looks up our own ID. #EpDht::ready follows.
 */
void
ep_dht_start (EpDht              *self,
              const char * const *bootstrap)
{
  GSource *source;

  g_return_if_fail (EP_IS_DHT (self));
  g_return_if_fail (!self->started);

  self->started = TRUE;
  self->bootstrap = g_strdupv ((char **) bootstrap);

  source = g_timeout_source_new_seconds (MAINTENANCE_INTERVAL);
  g_source_set_callback (source, on_maintenance, self, NULL);
  g_source_set_static_name (source, "[ep-dht] maintenance");
  g_source_attach (source, g_main_context_get_thread_default ());
  self->maintenance = source;

  do_bootstrap (self);
}
