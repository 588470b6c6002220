/* ep-dht.c — a Mainline DHT node: object, transactions, dispatch, upkeep
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-dht-private.h"

#define MAINTENANCE_INTERVAL 5          /* seconds */
#define TOKEN_ROTATION 300
#define EXPIRE_INTERVAL 60
#define REBOOTSTRAP_INTERVAL 30
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

/* Whether the network seems unable to reach us unasked: it sees us at an
 * address that is not ours (behind a NAT), or nobody has reached us
 * unasked for a long while although we know plenty of nodes. */
gboolean
ep_dht_seems_unreachable (EpDht *self)
{
  gint64 now;

  if (self->behind_nat)
    return TRUE;
  if (!self->ready)
    return FALSE;
  now = ep_dht_now ();
  return now - self->started_at > RO_AFTER
         && now - self->last_unsolicited > RO_AFTER
         && ep_dht_get_n_nodes (self) >= EP_RT_K;
}

/* BEP 43: read-only when asked to, until the vote on our external address
 * is in when asked to wait for it, and while we seem unreachable. */
gboolean
ep_dht_sends_ro (EpDht *self)
{
  if (self->read_only || (self->ro_until_seen && self->external == NULL))
    return TRUE;
  return ep_dht_seems_unreachable (self);
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

void
ep_dht_schedule_nodes_changed (EpDht *self)
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

void
ep_dht_emit_external_address_changed (EpDht *self)
{
  g_signal_emit (self, signals[SIGNAL_EXTERNAL_ADDRESS_CHANGED], 0, self->external);
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
  if (ep_udp_has_family (self->udp, G_SOCKET_FAMILY_IPV4))
    self->table4 = ep_routing_table_new (self->id, G_SOCKET_FAMILY_IPV4, self->max_per_ip);
  if (ep_udp_has_family (self->udp, G_SOCKET_FAMILY_IPV6))
    self->table6 = ep_routing_table_new (self->id, G_SOCKET_FAMILY_IPV6, self->max_per_ip);

  self->txn_timer = ep_dht_txn_timer_new (self);
  g_source_attach (self->txn_timer, g_main_context_get_thread_default ());

  ep_udp_set_handler (self->udp, 'd', ep_dht_on_datagram, self);
}

static void
ep_dht_dispose (GObject *object)
{
  EpDht *self = EP_DHT (object);

  if (self->udp != NULL)
    ep_udp_set_handler (self->udp, 'd', NULL, NULL);

  /* Whoever waits on a query learns it is over. */
  ep_dht_fail_transactions (self);

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
  return (self->table4 != NULL ? ep_routing_table_size (self->table4) : 0)
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
  if (self->table4 != NULL)
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

/**
 * ep_dht_set_read_only_until_seen:
 * @until_seen: whether to query read-only (BEP 43) until the vote on our
 *   external address is in
 *
 * For clients, most of which sit behind a NAT: nodes that take us into
 * their routing tables from our first queries would hand us out in
 * lookups, where nobody else can reach us, and everyone's lookups would
 * wait on us. Once the vote shows our own address we answer like any
 * node; behind a NAT we stay read-only.
 */
void
ep_dht_set_read_only_until_seen (EpDht    *self,
                                 gboolean  until_seen)
{
  g_return_if_fail (EP_IS_DHT (self));
  self->ro_until_seen = !!until_seen;
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
  if (self->table4 != NULL)
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
