/* ep-dht.h — a Mainline DHT node
 *
 * EpDht speaks KRPC (BEP 5, 32, 42, 43, 44) over the shared sockets of an
 * EpUdp, whose datagrams starting with 'd' it takes. It answers every query
 * from its routing table and its BEP 44 / peer storage, and runs iterative
 * lookups for the GIO-style async API below.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "ep-krpc.h"
#include "ep-udp.h"

G_BEGIN_DECLS

#define EP_DHT_ERROR (ep_dht_error_quark ())

typedef enum
{
  EP_DHT_ERROR_NOT_FOUND,      /* no node had the item or peers */
  EP_DHT_ERROR_NO_NODES,       /* the routing table is empty: not joined */
  EP_DHT_ERROR_REJECTED,       /* every node refused the put or announce */
  EP_DHT_ERROR_INVALID,        /* a bad argument: value too big, salt too long … */
  EP_DHT_ERROR_BOOTSTRAP,      /* a bootstrap address cannot be used */
  EP_DHT_ERROR_STATE,          /* the state file cannot be used */
} EpDhtError;

#define EP_DHT_DEFAULT_ALPHA 3
#define EP_DHT_DEFAULT_QUERY_TIMEOUT_MS 2000
/* Penalised nodes (forged records, inconsistent answers) are ignored this
 * long; the box holds this many, the oldest penalty giving way first. */
#define EP_DHT_DEFAULT_PENALTY_SECONDS (30 * 60)
#define EP_DHT_PENALTY_BOX_SIZE 256

typedef struct
{
  guint64 received;                 /* KRPC datagrams handed to us */
  guint64 queries_received;
  guint64 responses_received;
  guint64 errors_received;
  guint64 queries_sent;
  guint64 responses_sent;
  guint64 errors_sent;
  guint64 errors_sent_protocol;     /* 203 */
  guint64 errors_sent_method;       /* 204 */
  guint64 errors_sent_storage;      /* 205–207, 301, 302 and bad tokens */
  guint64 retries;
  guint64 timeouts;
  guint64 dropped_malformed;        /* sum of malformed[] */
  guint64 malformed[EP_KRPC_N_REASONS];
  guint64 dropped_rate_limited;
  guint64 dropped_unmatched;        /* response with no transaction of that ID and sender */
  guint64 dropped_txn_limit;        /* our own queries not sent: too many in flight */
  guint64 send_errors;
  guint64 penalised;                /* nodes put into the penalty box */
  guint64 dropped_penalised;        /* nodes left out of a lookup or the table: penalised */
} EpDhtCounters;

/* One node a lookup found. */
typedef struct
{
  guint8          id[EP_KRPC_ID_LEN];
  GSocketAddress *address;
} EpDhtNodeInfo;

void ep_dht_node_info_free (EpDhtNodeInfo *info);

/* A BEP 44 item a get found. */
typedef struct
{
  guint8   target[EP_KRPC_ID_LEN];
  gboolean is_mutable;
  GBytes  *v;                   /* the bencoded value, as stored */
  guint8   k[32];
  guint8   sig[64];
  gint64   seq;
  GBytes  *salt;                /* nullable */
} EpDhtValue;

void ep_dht_value_free (EpDhtValue *value);

/* What to put. With secret_key NULL the item is immutable and only v counts. */
typedef struct
{
  GBytes       *v;              /* the bencoded value, at most 1000 bytes */
  const guint8 *secret_key;     /* 64 bytes, libsodium's Ed25519 layout (seed ‖ public key) */
  GBytes       *salt;           /* nullable, at most 64 bytes */
  gint64        seq;
  gboolean      has_cas;
  gint64        cas;
} EpDhtPutParams;

/* What a collect-all get's caller thinks of one item a node offered. */
typedef enum
{
  EP_DHT_ITEM_VALID,        /* good (even if not the newest): the lookup found something */
  EP_DHT_ITEM_STALE,        /* well-formed but of no use (expired …): no penalty */
  EP_DHT_ITEM_FORGED,       /* forged, invalid or inconsistent: the node is penalised */
} EpDhtItemVerdict;

/* A mutable item signed elsewhere (e.g. by EpIdentity). */
typedef struct
{
  GBytes       *v;              /* the bencoded value, at most 1000 bytes */
  const guint8 *k;              /* 32 bytes */
  const guint8 *sig;            /* 64 bytes */
  GBytes       *salt;           /* nullable */
  gint64        seq;
  gboolean      has_cas;
  gint64        cas;
  guint         n_paths;        /* disjoint lookups; 0 counts as 1 */
} EpDhtSignedPut;

#define EP_DHT_DEFAULT_PATHS 2

#define EP_TYPE_DHT (ep_dht_get_type ())

G_DECLARE_FINAL_TYPE (EpDht, ep_dht, EP, DHT, GObject)

/* Called once per item offered, in the order they arrive. @item is not
 * checked at all: neither target nor signature. */
typedef EpDhtItemVerdict (*EpDhtItemFunc) (EpDht               *dht,
                                           const EpDhtValue    *item,
                                           const EpDhtNodeInfo *from,
                                           gpointer             user_data);


GQuark               ep_dht_error_quark          (void);

EpDht               *ep_dht_new                  (EpUdp                *udp);
EpUdp               *ep_dht_get_udp              (EpDht                *self);
const guint8        *ep_dht_get_id               (EpDht                *self);
gboolean             ep_dht_is_ready             (EpDht                *self);
guint                ep_dht_get_n_nodes          (EpDht                *self);
GSocketAddress      *ep_dht_get_external_address (EpDht                *self);
const EpDhtCounters *ep_dht_get_counters         (EpDht                *self);
void                 ep_dht_set_alpha            (EpDht                *self,
                                                  guint                 alpha);
void                 ep_dht_set_max_nodes_per_ip (EpDht                *self,
                                                  guint                 max);
void                 ep_dht_set_query_timeout    (EpDht                *self,
                                                  guint                 msec);
void                 ep_dht_set_query_rate       (EpDht                *self,
                                                  double                per_second,
                                                  double                burst);
void                 ep_dht_set_read_only        (EpDht                *self,
                                                  gboolean              read_only);
void                 ep_dht_set_read_only_until_seen (EpDht            *self,
                                                  gboolean              until_seen);
gboolean             ep_dht_seems_unreachable    (EpDht                *self);
/* The penalty box (ep-dht-penalty.c). @id and @address are each nullable,
 * not both: a penalised node is evicted from the routing table and then
 * ignored by its ID and by its address (lookups skip it, it does not get
 * back into the table) until the penalty runs out. */
void                 ep_dht_penalise             (EpDht                *self,
                                                  const guint8         *id,
                                                  GSocketAddress       *address);
gboolean             ep_dht_is_penalised         (EpDht                *self,
                                                  const guint8         *id,
                                                  GSocketAddress       *address);
guint                ep_dht_get_n_penalised      (EpDht                *self);
void                 ep_dht_set_penalty_duration (EpDht                *self,
                                                  guint                 seconds);
/* Lookup statistics of the last finished lookup (bench). */
void                 ep_dht_get_last_lookup_stats (EpDht               *self,
                                                  guint                *queries,
                                                  guint                *rounds);

gboolean             ep_dht_load_state           (EpDht                *self,
                                                  const char           *path,
                                                  GError              **error);
gboolean             ep_dht_save_state           (EpDht                *self,
                                                  const char           *path,
                                                  GError              **error);
void                 ep_dht_start                (EpDht                *self,
                                                  const char * const   *bootstrap);
void                 ep_dht_receive              (EpDht                *self,
                                                  GSocketAddress       *from,
                                                  const guint8         *data,
                                                  gsize                 len);

void                 ep_dht_ping_async           (EpDht                *self,
                                                  GSocketAddress       *address,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
gboolean             ep_dht_ping_finish          (EpDht                *self,
                                                  GAsyncResult         *result,
                                                  guint8                id_out[EP_KRPC_ID_LEN],
                                                  GError              **error);

void                 ep_dht_find_node_async      (EpDht                *self,
                                                  const guint8          target[EP_KRPC_ID_LEN],
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
GPtrArray           *ep_dht_find_node_finish     (EpDht                *self,
                                                  GAsyncResult         *result,
                                                  GError              **error);

void                 ep_dht_get_async            (EpDht                *self,
                                                  const guint8          target[EP_KRPC_ID_LEN],
                                                  GBytes               *salt,
                                                  gint64                min_seq,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
EpDhtValue          *ep_dht_get_finish           (EpDht                *self,
                                                  GAsyncResult         *result,
                                                  GError              **error);

void                 ep_dht_put_async            (EpDht                *self,
                                                  const EpDhtPutParams *params,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
gboolean             ep_dht_put_finish           (EpDht                *self,
                                                  GAsyncResult         *result,
                                                  guint8                target_out[EP_KRPC_ID_LEN],
                                                  guint                *n_stored,
                                                  GError              **error);

/* ep-dht-collect.c */
void                 ep_dht_get_mutable_async    (EpDht                *self,
                                                  const guint8          target[EP_KRPC_ID_LEN],
                                                  GBytes               *salt,
                                                  gint64                min_seq,
                                                  guint                 n_paths,
                                                  EpDhtItemFunc         item_func,
                                                  gpointer              item_data,
                                                  GDestroyNotify        item_data_free,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
gboolean             ep_dht_get_mutable_finish   (EpDht                *self,
                                                  GAsyncResult         *result,
                                                  guint                *n_answered,
                                                  GError              **error);

void                 ep_dht_put_signed_async     (EpDht                *self,
                                                  const EpDhtSignedPut *params,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
gboolean             ep_dht_put_signed_finish    (EpDht                *self,
                                                  GAsyncResult         *result,
                                                  guint                *n_stored,
                                                  GError              **error);

void                 ep_dht_get_peers_async      (EpDht                *self,
                                                  const guint8          info_hash[EP_KRPC_ID_LEN],
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
GPtrArray           *ep_dht_get_peers_finish     (EpDht                *self,
                                                  GAsyncResult         *result,
                                                  GError              **error);

void                 ep_dht_announce_async       (EpDht                *self,
                                                  const guint8          info_hash[EP_KRPC_ID_LEN],
                                                  guint16               port,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
gboolean             ep_dht_announce_finish      (EpDht                *self,
                                                  GAsyncResult         *result,
                                                  guint                *n_announced,
                                                  GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpDhtValue, ep_dht_value_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpDhtNodeInfo, ep_dht_node_info_free)

G_END_DECLS
