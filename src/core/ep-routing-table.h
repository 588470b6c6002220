/* ep-routing-table.h — the Kademlia routing table of one address family
 *
 * Plain C, no I/O: the caller supplies the time (seconds of a monotonic
 * clock) and does the pinging. Buckets of k = 8 split around our own ID;
 * every node carries its last-seen time and a count of unanswered queries,
 * from which its state (good, questionable, bad) follows as BEP 5 says.
 *
 * A node enters the table only by answering one of our queries
 * (ep_routing_table_add). A newcomer never pushes out a responsive node: it
 * takes the place of a bad one, or waits in the bucket's replacement cache
 * while the caller pings the bucket's least recently seen questionable node
 * (ping-before-evict); only when that ping fails is the old node replaced.
 * The per-IP limit never applies to loopback addresses (test networks).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define EP_RT_K 8
#define EP_RT_ID_LEN 20
/* A node unheard of for this long is questionable (BEP 5). */
#define EP_RT_QUESTIONABLE_AFTER (15 * 60)
/* A bucket without any change for this long is refreshed. */
#define EP_RT_REFRESH_AFTER (15 * 60)

#define EP_ROUTING_TABLE_ERROR (ep_routing_table_error_quark ())

typedef enum
{
  EP_ROUTING_TABLE_ERROR_CORRUPT,
} EpRoutingTableError;

typedef enum
{
  EP_RT_NODE_GOOD,
  EP_RT_NODE_QUESTIONABLE,
  EP_RT_NODE_BAD,
} EpRtNodeState;

typedef enum
{
  EP_RT_ADDED,             /* took a free slot */
  EP_RT_UPDATED,           /* was already there: refreshed */
  EP_RT_REPLACED,          /* took the slot of a bad node */
  EP_RT_CACHED,            /* bucket full of live nodes: in the replacement cache */
  EP_RT_CACHED_PING,       /* same, and *ping_out is the node to ping before evicting */
  EP_RT_REJECTED_SELF,     /* our own ID */
  EP_RT_REJECTED_IP,       /* per-IP limit reached */
  EP_RT_REJECTED_CONFLICT, /* ID or address already taken by another live node */
} EpRtResult;

/* One node: 52 bytes, no pointers. */
typedef struct
{
  guint8  id[EP_RT_ID_LEN];
  guint8  addr[18];      /* compact address: IPv4 (4) or IPv6 (16) bytes, then the port */
  guint8  addr_len;      /* 6 or 18 */
  guint8  fails;         /* our queries it did not answer, in a row */
  guint32 last_seen;     /* when it last answered us or queried us */
  guint32 last_pinged;   /* when we last asked it to prove it is alive */
} EpRtNode;

typedef struct _EpRoutingTable EpRoutingTable;

GQuark          ep_routing_table_error_quark     (void);

EpRoutingTable *ep_routing_table_new             (const guint8     id[EP_RT_ID_LEN],
                                                  GSocketFamily    family,
                                                  guint            max_per_ip);
void            ep_routing_table_free            (EpRoutingTable  *self);

const guint8   *ep_routing_table_get_id          (EpRoutingTable  *self);
void            ep_routing_table_set_id          (EpRoutingTable  *self,
                                                  const guint8     id[EP_RT_ID_LEN]);
GSocketFamily   ep_routing_table_get_family      (EpRoutingTable  *self);
void            ep_routing_table_set_max_per_ip  (EpRoutingTable  *self,
                                                  guint            max_per_ip);

EpRtNodeState   ep_rt_node_state                 (const EpRtNode  *node,
                                                  gint64           now);

EpRtResult      ep_routing_table_add             (EpRoutingTable  *self,
                                                  const guint8     id[EP_RT_ID_LEN],
                                                  const guint8    *addr,
                                                  gsize            addr_len,
                                                  gint64           now,
                                                  EpRtNode        *ping_out);
gboolean        ep_routing_table_wants           (EpRoutingTable  *self,
                                                  const guint8     id[EP_RT_ID_LEN],
                                                  const guint8    *addr,
                                                  gsize            addr_len,
                                                  gint64           now);
gboolean        ep_routing_table_failed          (EpRoutingTable  *self,
                                                  const guint8     id[EP_RT_ID_LEN],
                                                  const guint8    *addr,
                                                  gsize            addr_len,
                                                  gint64           now);
void            ep_routing_table_seen            (EpRoutingTable  *self,
                                                  const guint8     id[EP_RT_ID_LEN],
                                                  const guint8    *addr,
                                                  gsize            addr_len,
                                                  gint64           now);
/* Drops every entry (bucket and replacement cache) with this ID or, when
 * @addr is given, this address; a waiting node takes a freed slot.
 * Returns how many entries went. */
guint           ep_routing_table_remove          (EpRoutingTable  *self,
                                                  const guint8    *id,
                                                  const guint8    *addr,
                                                  gsize            addr_len,
                                                  gint64           now);
const EpRtNode *ep_routing_table_find            (EpRoutingTable  *self,
                                                  const guint8     id[EP_RT_ID_LEN]);
gboolean        ep_routing_table_in_cache        (EpRoutingTable  *self,
                                                  const guint8     id[EP_RT_ID_LEN]);

guint           ep_routing_table_closest         (EpRoutingTable  *self,
                                                  const guint8     target[EP_RT_ID_LEN],
                                                  guint            max,
                                                  gint64           now,
                                                  EpRtNode        *out);
guint           ep_routing_table_size            (EpRoutingTable  *self);
guint           ep_routing_table_n_good          (EpRoutingTable  *self,
                                                  gint64           now);
guint           ep_routing_table_n_buckets       (EpRoutingTable  *self);
guint           ep_routing_table_bucket_size     (EpRoutingTable  *self,
                                                  guint            index);

gboolean        ep_routing_table_next_refresh    (EpRoutingTable  *self,
                                                  gint64           now,
                                                  guint8           target_out[EP_RT_ID_LEN]);
gboolean        ep_routing_table_next_ping       (EpRoutingTable  *self,
                                                  gint64           now,
                                                  EpRtNode        *out);

/* Compact node infos (ID then address, 26 or 38 bytes each) of every node
 * that is not bad, good ones first. */
void            ep_routing_table_append_compact  (EpRoutingTable  *self,
                                                  GByteArray      *out,
                                                  gint64           now);

/* The state file: a bencoded dict {"id": 20 bytes, "nodes": compact v4
 * node infos, "nodes6": compact v6 node infos}. Loaded nodes are
 * candidates to query, not table entries. */
gboolean        ep_routing_table_save_state      (const char      *path,
                                                  const guint8     id[EP_RT_ID_LEN],
                                                  EpRoutingTable  *v4,
                                                  EpRoutingTable  *v6,
                                                  gint64           now,
                                                  GError         **error);
gboolean        ep_routing_table_load_state      (const char      *path,
                                                  guint8           id_out[EP_RT_ID_LEN],
                                                  GBytes         **nodes4_out,
                                                  GBytes         **nodes6_out,
                                                  GError         **error);

/* XOR distance helpers shared by the lookups. */
int             ep_rt_distance_cmp               (const guint8    *target,
                                                  const guint8    *a,
                                                  const guint8    *b);
guint           ep_rt_common_prefix              (const guint8    *a,
                                                  const guint8    *b);

G_END_DECLS
