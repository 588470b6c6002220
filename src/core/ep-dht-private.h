/* ep-dht-private.h — what the files of EpDht share
 *
 * ep-dht.c: the object, signals, maintenance and bootstrap;
 * ep-dht-net.c: addresses, transactions, datagram dispatch, BEP 42 vote;
 * ep-dht-server.c: answering queries;
 * ep-dht-lookup.c: iterative lookups;
 * ep-dht-ops.c: the async API built on lookups;
 * ep-dht-penalty.c: the penalty box of nodes caught lying;
 * ep-dht-collect.c: collect-all gets over disjoint paths, verified puts.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ep-dht.h"
#include "ep-dht-storage.h"
#include "ep-dht-tokens.h"
#include "ep-rate-limit.h"
#include "ep-routing-table.h"

G_BEGIN_DECLS

/* Queries of ours in flight at once; more are refused (memory bound). */
#define EP_DHT_MAX_TRANSACTIONS 2048

/* Called once per query: with the reply (a response or an error), or with
 * reply NULL when it timed out after its retry or the node shut down. */
typedef void (*EpDhtReplyFunc) (EpDht           *self,
                                const EpKrpcMsg *reply,
                                const guint8    *node_id,   /* nullable: unknown */
                                const guint8    *addr,
                                gsize            addr_len,
                                gpointer         user_data);

typedef struct _EpDhtLookup EpDhtLookup;

typedef struct
{
  guint8 id[EP_KRPC_ID_LEN];
  guint8 addr[18];
  guint8 addr_len;            /* 0: no address */
  guint8 has_id;
  gint64 until;               /* ep_dht_now () seconds; 0: free */
} EpDhtPenalty;

struct _EpDht
{
  GObject          parent_instance;

  EpUdp           *udp;
  guint8           id[EP_KRPC_ID_LEN];
  EpRoutingTable  *table4;
  EpRoutingTable  *table6;          /* NULL without IPv6 */

  GHashTable      *transactions;    /* tid (guint) → Txn */
  GQueue           txn_queue;       /* ordered by deadline */
  GSource         *txn_timer;
  guint16          next_tid;

  EpDhtTokens     *tokens;
  EpDhtStorage    *storage;
  EpRateLimit     *rate;
  GSource         *maintenance;
  GSource         *nodes_changed;
  gint64           started_at;
  gint64           last_token_rotation;
  gint64           last_expire;
  gint64           last_bootstrap;
  gint64           last_unsolicited;

  guint            alpha;
  guint            max_per_ip;
  guint            timeout_ms;
  double           query_rate;
  double           query_burst;
  gboolean         read_only;

  char           **bootstrap;
  GBytes          *saved4;
  GBytes          *saved6;
  guint            pending_seeds;
  gboolean         started;
  gboolean         ready;
  gboolean         refreshing;
  guint            last_n_nodes;

  /* BEP 42: the external address as the replies' `ip` fields say. */
  struct {
    guint8 addr[18];
    guint8 addr_len;
    guint  count;
  }                votes[8];
  guint            n_votes;
  guint            n_votes_total;
  GSocketAddress  *external;
  gboolean         behind_nat;    /* external is no address of ours: BEP 43 read-only */
  gboolean         ro_until_seen; /* read-only until the vote shows we are not behind a NAT */

  /* Hashes of the newcomers we pinged lately: one ping each, not one per
   * query they send. */
  guint32          recent_pings[16];
  guint            recent_pings_next;

  /* The penalty box: a ring, the oldest entry replaced first. */
  EpDhtPenalty     penalties[EP_DHT_PENALTY_BOX_SIZE];
  guint            penalties_next;
  guint            penalty_seconds;

  guint            last_lookup_queries;
  guint            last_lookup_rounds;

  EpDhtCounters    counters;
};

/* ep-dht.c */
gint64          ep_dht_now                  (void);
void            ep_dht_schedule_nodes_changed (EpDht         *self);
void            ep_dht_emit_external_address_changed (EpDht  *self);
gboolean        ep_dht_sends_ro             (EpDht           *self);

/* ep-dht-net.c */
GSource        *ep_dht_txn_timer_new        (EpDht           *self);
void            ep_dht_fail_transactions    (EpDht           *self);
void            ep_dht_on_datagram          (EpUdp           *udp,
                                             GSocketAddress  *from,
                                             const guint8    *data,
                                             gsize            len,
                                             gpointer         user_data);
gboolean        ep_dht_send_query           (EpDht           *self,
                                             const guint8    *addr,
                                             gsize            addr_len,
                                             const guint8    *node_id,
                                             EpKrpcMsg       *query,
                                             EpDhtReplyFunc   callback,
                                             gpointer         user_data);
void            ep_dht_send_message         (EpDht           *self,
                                             const guint8    *addr,
                                             gsize            addr_len,
                                             const EpKrpcMsg *msg);
EpRoutingTable *ep_dht_table_for            (EpDht           *self,
                                             gsize            addr_len);
gboolean        ep_dht_addr_usable          (EpDht           *self,
                                             const guint8    *addr,
                                             gsize            addr_len);
gboolean        ep_dht_node_compliant       (const guint8    *id,
                                             const guint8    *addr,
                                             gsize            addr_len);
guint           ep_dht_want                 (EpDht           *self);

/* Compact address helpers. */
gsize           ep_dht_addr_from_socket     (GSocketAddress  *address,
                                             guint8           out[18]);
GSocketAddress *ep_dht_addr_to_socket       (const guint8    *addr,
                                             gsize            addr_len);
GInetAddress   *ep_dht_addr_to_inet         (const guint8    *addr,
                                             gsize            addr_len);

/* ep-dht-penalty.c */
gboolean        ep_dht_penalised_compact    (EpDht           *self,
                                             const guint8    *id,
                                             const guint8    *addr,
                                             gsize            addr_len);
void            ep_dht_penalise_compact     (EpDht           *self,
                                             const guint8    *id,
                                             const guint8    *addr,
                                             gsize            addr_len);

/* ep-dht-server.c */
void            ep_dht_handle_query         (EpDht           *self,
                                             const EpKrpcMsg *query,
                                             const guint8    *addr,
                                             gsize            addr_len);

/* ep-dht-lookup.c */
typedef struct
{
  guint8  id[EP_KRPC_ID_LEN];
  guint8  addr[18];
  guint8  addr_len;
  guint8  state;
  guint8  round;
  guint8  token_len;
  guint8 *token;
} EpDhtCandidate;

/* Return FALSE to end the lookup now (an immutable item was found). */
typedef gboolean (*EpDhtLookupReplyFunc) (EpDhtLookup          *lookup,
                                          const EpDhtCandidate *from,
                                          const EpKrpcMsg      *reply,
                                          gpointer              user_data);
typedef void     (*EpDhtLookupDoneFunc)  (EpDhtLookup          *lookup,
                                          gpointer              user_data);

EpDhtLookup    *ep_dht_lookup_new           (EpDht                *dht,
                                             EpKrpcMethod          method,
                                             const guint8          target[EP_KRPC_ID_LEN],
                                             EpDhtLookupReplyFunc  on_reply,
                                             EpDhtLookupDoneFunc   on_done,
                                             gpointer              user_data);
void            ep_dht_lookup_set_seq       (EpDhtLookup          *lookup,
                                             gint64                seq);
GHashTable     *ep_dht_lookup_claims_new    (void);
void            ep_dht_lookup_set_path      (EpDhtLookup          *lookup,
                                             GHashTable           *claims,
                                             guint                 path,
                                             guint                 n_paths);
void            ep_dht_lookup_set_max_window (EpDhtLookup         *lookup,
                                             guint                 max_window);
void            ep_dht_lookup_set_found     (EpDhtLookup          *lookup);
void            ep_dht_lookup_reject        (EpDhtLookup          *lookup,
                                             const EpDhtCandidate *candidate);
void            ep_dht_lookup_add_seeds     (EpDhtLookup          *lookup,
                                             GBytes               *compact4,
                                             GBytes               *compact6);
void            ep_dht_lookup_start         (EpDhtLookup          *lookup);
void            ep_dht_lookup_cancel        (EpDhtLookup          *lookup);
EpDhtLookup    *ep_dht_lookup_ref           (EpDhtLookup          *lookup);
void            ep_dht_lookup_unref         (EpDhtLookup          *lookup);
/* The answered nodes closest to the target, at most k, closest first. */
guint           ep_dht_lookup_get_closest   (EpDhtLookup          *lookup,
                                             const EpDhtCandidate **out,
                                             guint                 max);
const guint8   *ep_dht_lookup_get_target    (EpDhtLookup          *lookup);
guint           ep_dht_lookup_get_queries   (EpDhtLookup          *lookup);
guint           ep_dht_lookup_get_rounds    (EpDhtLookup          *lookup);

G_END_DECLS
