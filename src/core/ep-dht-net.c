/* ep-dht-net.c — EpDht on the wire: addresses, transactions, dispatch
 *
 * Our queries are transactions keyed by a 16-bit ID and matched together
 * with the sender's address; they wait in a queue ordered by deadline under
 * one timer source, are sent again once, then fail. Incoming datagrams are
 * parsed, checked, counted and dispatched from here.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "ep-bep42.h"
#include "ep-dht-private.h"

#define VOTES_NEEDED 5
#define VOTE_WINDOW 64

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
  /* BEP 32: both families when we have both; else the default, ours. */
  if (self->table4 == NULL || self->table6 == NULL)
    return 0;
  return EP_KRPC_WANT_N4 | EP_KRPC_WANT_N6;
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
            ep_dht_schedule_nodes_changed (self);
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

/* One timer for all transactions: its ready time is the first deadline. */
GSource *
ep_dht_txn_timer_new (EpDht *self)
{
  GSource *source = g_source_new (&txn_timer_funcs, sizeof (GSource));

  g_source_set_callback (source, on_txn_timer, self, NULL);
  g_source_set_static_name (source, "[ep-dht] transactions");
  return source;
}

/* Whoever waits on a query learns it is over. */
void
ep_dht_fail_transactions (EpDht *self)
{
  while (self->txn_queue.head != NULL)
    txn_finish (self, self->txn_queue.head->data, NULL);
}

/* BEP 42 vote ------------------------------------------------------------ */

/* Whether @ip is ours: the address we listen on, or with a wildcard any
 * address of this host's interfaces. When that cannot be told, it is. */
static gboolean
address_is_ours (EpDht        *self,
                 GInetAddress *ip)
{
  g_autoptr(GSocketAddress) local =
    ep_udp_get_local_address (self->udp, g_inet_address_get_family (ip));
  struct ifaddrs *list = NULL;
  gboolean ours = FALSE;

  if (local != NULL)
    {
      GInetAddress *bound = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local));

      if (!g_inet_address_get_is_any (bound))
        return g_inet_address_equal (bound, ip);
    }
  if (getifaddrs (&list) != 0)
    return TRUE;
  for (struct ifaddrs *i = list; i != NULL && !ours; i = i->ifa_next)
    {
      g_autoptr(GSocketAddress) address = NULL;
      gsize len;

      if (i->ifa_addr == NULL)
        continue;
      if (i->ifa_addr->sa_family == AF_INET)
        len = sizeof (struct sockaddr_in);
      else if (i->ifa_addr->sa_family == AF_INET6)
        len = sizeof (struct sockaddr_in6);
      else
        continue;
      address = g_socket_address_new_from_native (i->ifa_addr, len);
      if (address != NULL && G_IS_INET_SOCKET_ADDRESS (address))
        ours = g_inet_address_equal (
          g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)), ip);
    }
  freeifaddrs (list);
  return ours;
}

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

    /* Behind a NAT nobody can reach us unasked: BEP 43 read-only, so that
     * no one adds us to a routing table and waits on us in lookups. */
    self->behind_nat = !address_is_ours (self, inet);
    if (!ep_bep42_is_exempt (inet) && !ep_bep42_id_matches (inet, self->id))
      {
        ep_bep42_generate_id (inet, self->id);
        if (self->table4 != NULL)
          ep_routing_table_set_id (self->table4, self->id);
        if (self->table6 != NULL)
          ep_routing_table_set_id (self->table6, self->id);
        g_debug ("node ID regenerated from the external address (BEP 42)");
      }
  }
  ep_dht_emit_external_address_changed (self);
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
  if (table != NULL && ep_dht_penalised_compact (self, msg->id, addr, addr_len))
    self->counters.dropped_penalised++;
  else if (table != NULL)
    {
      EpRtNode ping;

      switch (ep_routing_table_add (table, msg->id, addr, addr_len, ep_dht_now (), &ping))
        {
        case EP_RT_ADDED:
        case EP_RT_REPLACED:
          ep_dht_schedule_nodes_changed (self);
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

void
ep_dht_on_datagram (EpUdp          *udp,
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
  /* Some clients do not sort their keys; a repeated key is still refused. */
  static const EpBencLimits limits = {
    .max_depth = 16, .max_values = 1024, .max_input = EP_UDP_MAX_DATAGRAM,
    .allow_unsorted_keys = TRUE,
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
