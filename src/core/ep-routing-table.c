/* ep-routing-table.c — the Kademlia routing table of one address family
 *
 * Buckets are kept as libtorrent does: bucket i (all but the last) holds the
 * nodes whose ID shares exactly i leading bits with ours, the last one every
 * node that shares more. Only the last bucket splits, so the table is deep
 * around our own ID and shallow far from it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>

#include "ep-bencode.h"
#include "ep-routing-table.h"

#define MAX_BUCKETS 160
/* A questionable node is pinged at most this often. */
#define PING_INTERVAL 60

typedef struct
{
  EpRtNode nodes[EP_RT_K];
  EpRtNode cache[EP_RT_K];
  guint8   n_nodes;
  guint8   n_cache;
  guint32  last_changed;
} Bucket;

struct _EpRoutingTable
{
  guint8         id[EP_RT_ID_LEN];
  GSocketFamily  family;
  guint          max_per_ip;
  Bucket        *buckets;
  guint          n_buckets;
};

G_DEFINE_QUARK (ep-routing-table-error-quark, ep_routing_table_error)

guint
ep_rt_common_prefix (const guint8 *a,
                     const guint8 *b)
{
  for (guint i = 0; i < EP_RT_ID_LEN; i++)
    {
      guint8 x = a[i] ^ b[i];

      if (x != 0)
        {
          guint n = i * 8;

          while ((x & 0x80) == 0)
            {
              x <<= 1;
              n++;
            }
          return n;
        }
    }
  return EP_RT_ID_LEN * 8;
}

/* <0 when @a is closer to @target than @b. */
int
ep_rt_distance_cmp (const guint8 *target,
                    const guint8 *a,
                    const guint8 *b)
{
  for (guint i = 0; i < EP_RT_ID_LEN; i++)
    {
      guint8 da = a[i] ^ target[i];
      guint8 db = b[i] ^ target[i];

      if (da != db)
        return da < db ? -1 : 1;
    }
  return 0;
}

EpRtNodeState
ep_rt_node_state (const EpRtNode *node,
                  gint64          now)
{
  gint64 age = now - (gint64) node->last_seen;

  if (node->fails >= 2)
    return EP_RT_NODE_BAD;
  if (age <= EP_RT_QUESTIONABLE_AFTER)
    return EP_RT_NODE_GOOD;
  if (node->fails >= 1)
    return EP_RT_NODE_BAD;
  return EP_RT_NODE_QUESTIONABLE;
}

static gboolean
same_addr (const EpRtNode *node,
           const guint8   *addr,
           gsize           addr_len)
{
  return node->addr_len == addr_len && memcmp (node->addr, addr, addr_len) == 0;
}

/* Test networks run on loopback, every node on one IP: never limited. */
static gboolean
is_loopback (const guint8 *addr,
             gsize         addr_len)
{
  static const guint8 v6_loopback[16] = { [15] = 1 };

  if (addr_len == 6)
    return addr[0] == 127;
  return memcmp (addr, v6_loopback, 16) == 0;
}

static guint
bucket_index (EpRoutingTable *self,
              const guint8   *id)
{
  return MIN (ep_rt_common_prefix (self->id, id), self->n_buckets - 1);
}

static void
node_fill (EpRtNode     *node,
           const guint8 *id,
           const guint8 *addr,
           gsize         addr_len,
           gint64        now)
{
  memset (node, 0, sizeof *node);
  memcpy (node->id, id, EP_RT_ID_LEN);
  memcpy (node->addr, addr, addr_len);
  node->addr_len = addr_len;
  node->last_seen = (guint32) now;
}

static void
remove_at (EpRtNode *array,
           guint8   *n,
           guint     index)
{
  memmove (&array[index], &array[index + 1], (*n - index - 1) * sizeof (EpRtNode));
  (*n)--;
}

/* The most recently seen live entry of the cache moves into the bucket. */
static gboolean
promote_from_cache (Bucket *b,
                    guint   slot,
                    gint64  now)
{
  int best = -1;

  for (guint i = 0; i < b->n_cache; i++)
    if (ep_rt_node_state (&b->cache[i], now) != EP_RT_NODE_BAD
        && (best < 0 || b->cache[i].last_seen > b->cache[best].last_seen))
      best = i;
  if (best < 0)
    return FALSE;

  b->nodes[slot] = b->cache[best];
  remove_at (b->cache, &b->n_cache, best);
  b->last_changed = (guint32) now;
  return TRUE;
}

EpRoutingTable *
ep_routing_table_new (const guint8   id[EP_RT_ID_LEN],
                      GSocketFamily  family,
                      guint          max_per_ip)
{
  EpRoutingTable *self = g_new0 (EpRoutingTable, 1);

  memcpy (self->id, id, EP_RT_ID_LEN);
  self->family = family;
  self->max_per_ip = max_per_ip;
  self->buckets = g_new0 (Bucket, 1);
  self->n_buckets = 1;
  return self;
}

void
ep_routing_table_free (EpRoutingTable *self)
{
  if (self == NULL)
    return;
  g_free (self->buckets);
  g_free (self);
}

const guint8 *
ep_routing_table_get_id (EpRoutingTable *self)
{
  return self->id;
}

GSocketFamily
ep_routing_table_get_family (EpRoutingTable *self)
{
  return self->family;
}

void
ep_routing_table_set_max_per_ip (EpRoutingTable *self,
                                 guint           max_per_ip)
{
  self->max_per_ip = max_per_ip;
}

/**
 * ep_routing_table_set_id:
 *
 * Our ID changed (BEP 42, after our external address became known): the
 * buckets are rebuilt around the new one, keeping every node, which have all
 * answered us before.
 */
void
ep_routing_table_set_id (EpRoutingTable *self,
                         const guint8    id[EP_RT_ID_LEN])
{
  g_autofree Bucket *old = self->buckets;
  guint n_old = self->n_buckets;
  EpRtNode ignored;

  memcpy (self->id, id, EP_RT_ID_LEN);
  self->buckets = g_new0 (Bucket, 1);
  self->n_buckets = 1;

  for (guint i = 0; i < n_old; i++)
    for (guint j = 0; j < old[i].n_nodes; j++)
      {
        const EpRtNode *n = &old[i].nodes[j];
        EpRtNode *slot;

        if (ep_routing_table_add (self, n->id, n->addr, n->addr_len, n->last_seen, &ignored)
            > EP_RT_REPLACED)
          continue;
        slot = (EpRtNode *) ep_routing_table_find (self, n->id);
        if (slot != NULL)
          *slot = *n;
      }
}

static EpRtNode *
find_node (EpRoutingTable *self,
           const guint8   *id,
           gboolean        in_cache)
{
  Bucket *b = &self->buckets[bucket_index (self, id)];
  EpRtNode *array = in_cache ? b->cache : b->nodes;
  guint n = in_cache ? b->n_cache : b->n_nodes;

  for (guint i = 0; i < n; i++)
    if (memcmp (array[i].id, id, EP_RT_ID_LEN) == 0)
      return &array[i];
  return NULL;
}

const EpRtNode *
ep_routing_table_find (EpRoutingTable *self,
                       const guint8    id[EP_RT_ID_LEN])
{
  return find_node (self, id, FALSE);
}

gboolean
ep_routing_table_in_cache (EpRoutingTable *self,
                           const guint8    id[EP_RT_ID_LEN])
{
  return find_node (self, id, TRUE) != NULL;
}

static EpRtNode *
find_by_addr (EpRoutingTable *self,
              const guint8   *addr,
              gsize           addr_len,
              Bucket        **bucket_out,
              guint          *index_out)
{
  for (guint i = 0; i < self->n_buckets; i++)
    for (guint j = 0; j < self->buckets[i].n_nodes; j++)
      if (same_addr (&self->buckets[i].nodes[j], addr, addr_len))
        {
          *bucket_out = &self->buckets[i];
          *index_out = j;
          return &self->buckets[i].nodes[j];
        }
  return NULL;
}

static guint
count_ip (EpRoutingTable *self,
          const guint8   *addr,
          gsize           addr_len)
{
  guint count = 0;

  for (guint i = 0; i < self->n_buckets; i++)
    for (guint j = 0; j < self->buckets[i].n_nodes; j++)
      {
        const EpRtNode *n = &self->buckets[i].nodes[j];

        if (n->addr_len == addr_len && memcmp (n->addr, addr, addr_len - 2) == 0)
          count++;
      }
  return count;
}

static void
split_last (EpRoutingTable *self,
            gint64          now)
{
  guint last = self->n_buckets - 1;
  Bucket *b, *nb;

  self->buckets = g_renew (Bucket, self->buckets, self->n_buckets + 1);
  memset (&self->buckets[self->n_buckets], 0, sizeof (Bucket));
  self->n_buckets++;
  b = &self->buckets[last];
  nb = &self->buckets[last + 1];
  nb->last_changed = (guint32) now;

  for (guint i = 0; i < b->n_nodes;)
    if (ep_rt_common_prefix (self->id, b->nodes[i].id) > last)
      {
        nb->nodes[nb->n_nodes++] = b->nodes[i];
        remove_at (b->nodes, &b->n_nodes, i);
      }
    else
      i++;

  for (guint i = 0; i < b->n_cache;)
    if (ep_rt_common_prefix (self->id, b->cache[i].id) > last)
      {
        if (nb->n_cache < EP_RT_K)
          nb->cache[nb->n_cache++] = b->cache[i];
        remove_at (b->cache, &b->n_cache, i);
      }
    else
      i++;

  /* Slots freed by the split go to waiting nodes first. */
  while (b->n_nodes < EP_RT_K && promote_from_cache (b, b->n_nodes, now))
    b->n_nodes++;
  while (nb->n_nodes < EP_RT_K && promote_from_cache (nb, nb->n_nodes, now))
    nb->n_nodes++;
}

static void
cache_insert (Bucket       *b,
              const guint8 *id,
              const guint8 *addr,
              gsize         addr_len,
              gint64        now)
{
  guint oldest = 0;

  for (guint i = 0; i < b->n_cache; i++)
    if (memcmp (b->cache[i].id, id, EP_RT_ID_LEN) == 0)
      {
        node_fill (&b->cache[i], id, addr, addr_len, now);
        return;
      }

  if (b->n_cache < EP_RT_K)
    {
      node_fill (&b->cache[b->n_cache++], id, addr, addr_len, now);
      return;
    }

  for (guint i = 1; i < b->n_cache; i++)
    if (b->cache[i].last_seen < b->cache[oldest].last_seen)
      oldest = i;
  node_fill (&b->cache[oldest], id, addr, addr_len, now);
}

/**
 * ep_routing_table_add:
 * @id: the node's ID
 * @addr: its compact address, 6 or 18 bytes of the table's family
 * @now: the time, seconds
 * @ping_out: (out): on %EP_RT_CACHED_PING, the node to ping now; if it
 *   does not answer, call ep_routing_table_failed() for it
 *
 * The node answered one of our queries: let it in if the rules allow.
 */
EpRtResult
ep_routing_table_add (EpRoutingTable *self,
                      const guint8    id[EP_RT_ID_LEN],
                      const guint8   *addr,
                      gsize           addr_len,
                      gint64          now,
                      EpRtNode       *ping_out)
{
  Bucket *b;
  EpRtNode *existing;
  Bucket *eb;
  guint ei;
  int ping = -1;

  g_return_val_if_fail (addr_len == (self->family == G_SOCKET_FAMILY_IPV6 ? 18u : 6u),
                        EP_RT_REJECTED_CONFLICT);

  if (memcmp (id, self->id, EP_RT_ID_LEN) == 0)
    return EP_RT_REJECTED_SELF;

  existing = find_node (self, id, FALSE);
  if (existing != NULL)
    {
      if (same_addr (existing, addr, addr_len))
        {
          existing->last_seen = (guint32) now;
          existing->fails = 0;
          self->buckets[bucket_index (self, id)].last_changed = (guint32) now;
          return EP_RT_UPDATED;
        }
      /* The same ID from elsewhere: the old address wins while it answers. */
      if (ep_rt_node_state (existing, now) != EP_RT_NODE_BAD)
        return EP_RT_REJECTED_CONFLICT;
      node_fill (existing, id, addr, addr_len, now);
      return EP_RT_REPLACED;
    }

  existing = find_by_addr (self, addr, addr_len, &eb, &ei);
  if (existing != NULL)
    {
      if (ep_rt_node_state (existing, now) != EP_RT_NODE_BAD)
        return EP_RT_REJECTED_CONFLICT;
      remove_at (eb->nodes, &eb->n_nodes, ei);
    }

  if (self->max_per_ip > 0 && !is_loopback (addr, addr_len)
      && count_ip (self, addr, addr_len) >= self->max_per_ip)
    return EP_RT_REJECTED_IP;

  for (;;)
    {
      guint index = bucket_index (self, id);

      b = &self->buckets[index];
      if (b->n_nodes < EP_RT_K)
        {
          node_fill (&b->nodes[b->n_nodes++], id, addr, addr_len, now);
          b->last_changed = (guint32) now;
          for (guint i = 0; i < b->n_cache; i++)
            if (memcmp (b->cache[i].id, id, EP_RT_ID_LEN) == 0)
              {
                remove_at (b->cache, &b->n_cache, i);
                break;
              }
          return EP_RT_ADDED;
        }

      for (guint i = 0; i < b->n_nodes; i++)
        if (ep_rt_node_state (&b->nodes[i], now) == EP_RT_NODE_BAD)
          {
            node_fill (&b->nodes[i], id, addr, addr_len, now);
            b->last_changed = (guint32) now;
            return EP_RT_REPLACED;
          }

      if (index == self->n_buckets - 1 && self->n_buckets < MAX_BUCKETS)
        {
          split_last (self, now);
          continue;
        }
      break;
    }

  cache_insert (b, id, addr, addr_len, now);

  for (guint i = 0; i < b->n_nodes; i++)
    {
      const EpRtNode *n = &b->nodes[i];

      if (ep_rt_node_state (n, now) == EP_RT_NODE_QUESTIONABLE
          && now - (gint64) n->last_pinged >= PING_INTERVAL
          && (ping < 0 || n->last_seen < b->nodes[ping].last_seen))
        ping = i;
    }
  if (ping < 0)
    return EP_RT_CACHED;

  b->nodes[ping].last_pinged = (guint32) now;
  if (ping_out != NULL)
    *ping_out = b->nodes[ping];
  return EP_RT_CACHED_PING;
}

/**
 * ep_routing_table_wants:
 *
 * Would ep_routing_table_add() give this unknown node a slot now? Then it
 * is worth a ping when it queries us: answering lets it in.
 */
gboolean
ep_routing_table_wants (EpRoutingTable *self,
                        const guint8    id[EP_RT_ID_LEN],
                        const guint8   *addr,
                        gsize           addr_len,
                        gint64          now)
{
  guint index = bucket_index (self, id);
  Bucket *b = &self->buckets[index];
  Bucket *eb;
  guint ei;

  if (memcmp (id, self->id, EP_RT_ID_LEN) == 0 || find_node (self, id, FALSE) != NULL
      || find_by_addr (self, addr, addr_len, &eb, &ei) != NULL)
    return FALSE;
  if (self->max_per_ip > 0 && !is_loopback (addr, addr_len)
      && count_ip (self, addr, addr_len) >= self->max_per_ip)
    return FALSE;
  if (b->n_nodes < EP_RT_K || (index == self->n_buckets - 1 && self->n_buckets < MAX_BUCKETS))
    return TRUE;
  for (guint i = 0; i < b->n_nodes; i++)
    if (ep_rt_node_state (&b->nodes[i], now) == EP_RT_NODE_BAD)
      return TRUE;
  return FALSE;
}

/**
 * ep_routing_table_failed:
 *
 * A query to the node went unanswered (after its retry). A bad node makes
 * room for the best node of the replacement cache.
 *
 * Returns: %TRUE if the node is now bad
 */
gboolean
ep_routing_table_failed (EpRoutingTable *self,
                         const guint8    id[EP_RT_ID_LEN],
                         const guint8   *addr,
                         gsize           addr_len,
                         gint64          now)
{
  Bucket *b = &self->buckets[bucket_index (self, id)];

  for (guint i = 0; i < b->n_nodes; i++)
    {
      EpRtNode *n = &b->nodes[i];

      if (memcmp (n->id, id, EP_RT_ID_LEN) != 0 || !same_addr (n, addr, addr_len))
        continue;
      if (n->fails < G_MAXUINT8)
        n->fails++;
      if (ep_rt_node_state (n, now) != EP_RT_NODE_BAD)
        return FALSE;
      promote_from_cache (b, i, now);
      return TRUE;
    }

  for (guint i = 0; i < b->n_cache; i++)
    {
      EpRtNode *n = &b->cache[i];

      if (memcmp (n->id, id, EP_RT_ID_LEN) != 0 || !same_addr (n, addr, addr_len))
        continue;
      if (n->fails < G_MAXUINT8)
        n->fails++;
      if (ep_rt_node_state (n, now) != EP_RT_NODE_BAD)
        return FALSE;
      remove_at (b->cache, &b->n_cache, i);
      return TRUE;
    }

  return FALSE;
}

static gboolean
matches (const EpRtNode *n,
         const guint8   *id,
         const guint8   *addr,
         gsize           addr_len)
{
  return (id != NULL && memcmp (n->id, id, EP_RT_ID_LEN) == 0)
         || (addr != NULL && same_addr (n, addr, addr_len));
}

guint
ep_routing_table_remove (EpRoutingTable *self,
                         const guint8   *id,
                         const guint8   *addr,
                         gsize           addr_len,
                         gint64          now)
{
  guint removed = 0;

  /* An address may sit in any bucket, so look at all of them. */
  for (guint bi = 0; bi < self->n_buckets; bi++)
    {
      Bucket *b = &self->buckets[bi];

      for (guint i = 0; i < b->n_cache;)
        if (matches (&b->cache[i], id, addr, addr_len))
          {
            remove_at (b->cache, &b->n_cache, i);
            removed++;
          }
        else
          i++;
      for (guint i = 0; i < b->n_nodes;)
        if (matches (&b->nodes[i], id, addr, addr_len))
          {
            removed++;
            if (!promote_from_cache (b, i, now))
              remove_at (b->nodes, &b->n_nodes, i);
            else
              i++;
          }
        else
          i++;
    }
  return removed;
}

/* The node queried us: it is alive, but that alone never lets it in. */
void
ep_routing_table_seen (EpRoutingTable *self,
                       const guint8    id[EP_RT_ID_LEN],
                       const guint8   *addr,
                       gsize           addr_len,
                       gint64          now)
{
  EpRtNode *n = find_node (self, id, FALSE);

  if (n == NULL)
    n = find_node (self, id, TRUE);
  if (n != NULL && same_addr (n, addr, addr_len))
    n->last_seen = (guint32) now;
}

/**
 * ep_routing_table_closest:
 * @out: room for @max nodes
 *
 * Returns: how many nodes, none of them bad, were written to @out, closest
 *   to @target first
 */
guint
ep_routing_table_closest (EpRoutingTable *self,
                          const guint8    target[EP_RT_ID_LEN],
                          guint           max,
                          gint64          now,
                          EpRtNode       *out)
{
  guint n_out = 0;

  for (guint i = 0; i < self->n_buckets; i++)
    for (guint j = 0; j < self->buckets[i].n_nodes; j++)
      {
        const EpRtNode *n = &self->buckets[i].nodes[j];
        guint pos;

        if (ep_rt_node_state (n, now) == EP_RT_NODE_BAD)
          continue;

        /* Insertion into the sorted prefix of @out; tables are small. */
        pos = n_out;
        while (pos > 0 && ep_rt_distance_cmp (target, n->id, out[pos - 1].id) < 0)
          pos--;
        if (pos >= max)
          continue;
        if (n_out < max)
          n_out++;
        memmove (&out[pos + 1], &out[pos], (n_out - pos - 1) * sizeof (EpRtNode));
        out[pos] = *n;
      }
  return n_out;
}

guint
ep_routing_table_size (EpRoutingTable *self)
{
  guint n = 0;

  for (guint i = 0; i < self->n_buckets; i++)
    n += self->buckets[i].n_nodes;
  return n;
}

guint
ep_routing_table_n_good (EpRoutingTable *self,
                         gint64          now)
{
  guint n = 0;

  for (guint i = 0; i < self->n_buckets; i++)
    for (guint j = 0; j < self->buckets[i].n_nodes; j++)
      if (ep_rt_node_state (&self->buckets[i].nodes[j], now) == EP_RT_NODE_GOOD)
        n++;
  return n;
}

guint
ep_routing_table_n_buckets (EpRoutingTable *self)
{
  return self->n_buckets;
}

guint
ep_routing_table_bucket_size (EpRoutingTable *self,
                              guint           index)
{
  return index < self->n_buckets ? self->buckets[index].n_nodes : 0;
}

/**
 * ep_routing_table_next_refresh:
 * @target_out: (out): a random ID in the range of the bucket to refresh
 *
 * Finds a bucket that has not changed for %EP_RT_REFRESH_AFTER seconds;
 * the caller looks @target_out up, which refills it.
 */
gboolean
ep_routing_table_next_refresh (EpRoutingTable *self,
                               gint64          now,
                               guint8          target_out[EP_RT_ID_LEN])
{
  for (guint i = 0; i < self->n_buckets; i++)
    {
      Bucket *b = &self->buckets[i];
      guint8 random[EP_RT_ID_LEN];

      if (b->last_changed == 0)
        b->last_changed = (guint32) now;
      if (now - (gint64) b->last_changed < EP_RT_REFRESH_AFTER)
        continue;

      b->last_changed = (guint32) now;
      randombytes_buf (random, sizeof random);
      /* Our first i bits, then (unless in the last bucket) bit i flipped. */
      for (guint bit = 0; bit < EP_RT_ID_LEN * 8; bit++)
        {
          guint8 mask = 0x80 >> (bit % 8);
          guint8 value;

          if (bit < i)
            value = self->id[bit / 8] & mask;
          else if (bit == i && i < self->n_buckets - 1)
            value = (self->id[bit / 8] & mask) ^ mask;
          else
            value = random[bit / 8] & mask;
          target_out[bit / 8] = (target_out[bit / 8] & ~mask) | value;
        }
      return TRUE;
    }
  return FALSE;
}

/* The least recently seen questionable node not pinged lately. */
gboolean
ep_routing_table_next_ping (EpRoutingTable *self,
                            gint64          now,
                            EpRtNode       *out)
{
  EpRtNode *best = NULL;

  for (guint i = 0; i < self->n_buckets; i++)
    for (guint j = 0; j < self->buckets[i].n_nodes; j++)
      {
        EpRtNode *n = &self->buckets[i].nodes[j];

        if (ep_rt_node_state (n, now) != EP_RT_NODE_QUESTIONABLE
            || now - (gint64) n->last_pinged < PING_INTERVAL)
          continue;
        if (best == NULL || n->last_seen < best->last_seen)
          best = n;
      }
  if (best == NULL)
    return FALSE;
  best->last_pinged = (guint32) now;
  *out = *best;
  return TRUE;
}

void
ep_routing_table_append_compact (EpRoutingTable *self,
                                 GByteArray     *out,
                                 gint64          now)
{
  for (EpRtNodeState state = EP_RT_NODE_GOOD; state < EP_RT_NODE_BAD; state++)
    for (guint i = 0; i < self->n_buckets; i++)
      for (guint j = 0; j < self->buckets[i].n_nodes; j++)
        {
          const EpRtNode *n = &self->buckets[i].nodes[j];

          if (ep_rt_node_state (n, now) != state)
            continue;
          g_byte_array_append (out, n->id, EP_RT_ID_LEN);
          g_byte_array_append (out, n->addr, n->addr_len);
        }
}

gboolean
ep_routing_table_save_state (const char      *path,
                             const guint8     id[EP_RT_ID_LEN],
                             EpRoutingTable  *v4,
                             EpRoutingTable  *v6,
                             gint64           now,
                             GError         **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GByteArray) nodes = g_byte_array_new ();
  g_autoptr(GByteArray) nodes6 = g_byte_array_new ();

  if (v4 != NULL)
    ep_routing_table_append_compact (v4, nodes, now);
  if (v6 != NULL)
    ep_routing_table_append_compact (v6, nodes6, now);

  ep_benc_put_dict_begin (out);
  ep_benc_put_string (out, "id");
  ep_benc_put_bytes (out, id, EP_RT_ID_LEN);
  ep_benc_put_string (out, "nodes");
  ep_benc_put_bytes (out, nodes->data, nodes->len);
  ep_benc_put_string (out, "nodes6");
  ep_benc_put_bytes (out, nodes6->data, nodes6->len);
  ep_benc_put_end (out);

  return g_file_set_contents_full (path, (const char *) out->data, out->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

gboolean
ep_routing_table_load_state (const char  *path,
                             guint8       id_out[EP_RT_ID_LEN],
                             GBytes     **nodes4_out,
                             GBytes     **nodes6_out,
                             GError     **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr(EpBencDoc) doc = NULL;
  g_autoptr(GError) local_error = NULL;
  EpBencLimits limits = { .max_depth = 4, .max_values = 16, .max_input = 1 << 20 };
  const EpBenc *root;
  const guint8 *id, *nodes, *nodes6;
  gsize id_len = 0, nodes_len = 0, nodes6_len = 0;

  /* A state file holds at most a few thousand nodes: refuse anything far
   * larger before reading it into memory. */
  {
    GStatBuf st;

    if (g_stat (path, &st) == 0 && st.st_size > (goffset) limits.max_input)
      {
        g_set_error (error, EP_ROUTING_TABLE_ERROR, EP_ROUTING_TABLE_ERROR_CORRUPT,
                     _("The DHT state file “%s” is damaged"), path);
        return FALSE;
      }
  }

  if (!g_file_get_contents (path, &contents, &len, error))
    return FALSE;

  doc = ep_benc_doc_parse ((const guint8 *) contents, len, &limits, &local_error);
  root = doc != NULL ? ep_benc_doc_root (doc) : NULL;
  id = ep_benc_dict_get_bytes (root, "id", &id_len);
  nodes = ep_benc_dict_get_bytes (root, "nodes", &nodes_len);
  nodes6 = ep_benc_dict_get_bytes (root, "nodes6", &nodes6_len);
  if (id == NULL || id_len != EP_RT_ID_LEN
      || (nodes != NULL && nodes_len % 26 != 0)
      || (nodes6 != NULL && nodes6_len % 38 != 0))
    {
      g_set_error (error, EP_ROUTING_TABLE_ERROR, EP_ROUTING_TABLE_ERROR_CORRUPT,
                   _("The DHT state file “%s” is damaged"), path);
      return FALSE;
    }

  memcpy (id_out, id, EP_RT_ID_LEN);
  if (nodes4_out != NULL)
    *nodes4_out = g_bytes_new (nodes, nodes != NULL ? nodes_len : 0);
  if (nodes6_out != NULL)
    *nodes6_out = g_bytes_new (nodes6, nodes6 != NULL ? nodes6_len : 0);
  return TRUE;
}
