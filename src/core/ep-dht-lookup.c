/* ep-dht-lookup.c — iterative Kademlia lookups
 *
 * A lookup keeps the candidates it has heard of sorted by distance to the
 * target, queries the closest unqueried ones with at most α queries in
 * flight, and ends once the k closest candidates that did not fail have all
 * answered. Every candidate remembers the round it was learned in (nodes of
 * our own table are round 1), which gives the lookup's round count.
 *
 * Hardening for lookups of items that matter (presence records):
 *  - penalised nodes are never candidates, and a candidate the caller
 *    rejects (ep_dht_lookup_reject) counts as failed: its nodes are not
 *    followed and the window moves past it;
 *  - disjoint paths (S/Kademlia): lookups sharing a claim table never query
 *    the same node (by ID or by address); the first path to query a node
 *    owns it, the others skip it. Seeds are dealt out round-robin;
 *  - an extending window: until the caller marks the lookup found, a
 *    finished window of k grows by k (up to a maximum), so a cloud of
 *    empty-handed nodes next to the target cannot end the lookup early.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "ep-dht-private.h"

/* Candidates kept; the farthest are dropped beyond that. */
#define MAX_CANDIDATES 64
/* Seeds taken from each routing table. */
#define N_SEEDS (2 * EP_RT_K)

enum {
  CANDIDATE_NEW,
  CANDIDATE_PENDING,
  CANDIDATE_ANSWERED,
  CANDIDATE_FAILED,
};

struct _EpDhtLookup
{
  gint                  ref_count;
  EpDht                *dht;
  EpKrpcMethod          method;
  guint8                target[EP_KRPC_ID_LEN];
  gboolean              has_seq;
  gint64                seq;
  GArray               *candidates;      /* EpDhtCandidate, closest first */
  guint                 in_flight;
  guint                 queries;
  guint                 rounds;
  guint                 window;
  guint                 max_window;
  gboolean              found;
  GHashTable           *claims;          /* shared by disjoint paths: key → path + 1 */
  guint                 path;
  guint                 n_paths;
  gboolean              started;
  gboolean              done;
  EpDhtLookupReplyFunc  on_reply;
  EpDhtLookupDoneFunc   on_done;
  gpointer              user_data;
};

static void step (EpDhtLookup *self);

static void
candidate_clear (gpointer data)
{
  EpDhtCandidate *c = data;

  g_clear_pointer (&c->token, g_free);
}

EpDhtLookup *
ep_dht_lookup_new (EpDht                *dht,
                   EpKrpcMethod          method,
                   const guint8          target[EP_KRPC_ID_LEN],
                   EpDhtLookupReplyFunc  on_reply,
                   EpDhtLookupDoneFunc   on_done,
                   gpointer              user_data)
{
  EpDhtLookup *self = g_new0 (EpDhtLookup, 1);

  self->ref_count = 1;
  self->dht = g_object_ref (dht);
  self->method = method;
  memcpy (self->target, target, EP_KRPC_ID_LEN);
  self->candidates = g_array_sized_new (FALSE, TRUE, sizeof (EpDhtCandidate), 32);
  g_array_set_clear_func (self->candidates, candidate_clear);
  self->on_reply = on_reply;
  self->on_done = on_done;
  self->user_data = user_data;
  self->window = EP_RT_K;
  self->max_window = EP_RT_K;
  self->n_paths = 1;
  return self;
}

EpDhtLookup *
ep_dht_lookup_ref (EpDhtLookup *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
ep_dht_lookup_unref (EpDhtLookup *self)
{
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_array_unref (self->candidates);
  g_clear_pointer (&self->claims, g_hash_table_unref);
  g_object_unref (self->dht);
  g_free (self);
}

void
ep_dht_lookup_set_seq (EpDhtLookup *self,
                       gint64       seq)
{
  self->has_seq = TRUE;
  self->seq = seq;
}

/**
 * ep_dht_lookup_set_path:
 * @claims: a table made by ep_dht_lookup_claims_new(), shared by the paths
 * @path: this lookup's path, 0 … @n_paths - 1
 */
void
ep_dht_lookup_set_path (EpDhtLookup *self,
                        GHashTable  *claims,
                        guint        path,
                        guint        n_paths)
{
  g_clear_pointer (&self->claims, g_hash_table_unref);
  self->claims = g_hash_table_ref (claims);
  self->path = path;
  self->n_paths = MAX (n_paths, 1);
}

GHashTable *
ep_dht_lookup_claims_new (void)
{
  return g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref,
                                NULL);
}

/* Grow the window up to @max_window answered nodes while nothing was found. */
void
ep_dht_lookup_set_max_window (EpDhtLookup *self,
                              guint        max_window)
{
  self->max_window = MAX (max_window, EP_RT_K);
}

void
ep_dht_lookup_set_found (EpDhtLookup *self)
{
  self->found = TRUE;
}

/* The candidate lied: it counts as failed and its nodes are not followed. */
void
ep_dht_lookup_reject (EpDhtLookup          *self,
                      const EpDhtCandidate *candidate)
{
  for (guint i = 0; i < self->candidates->len; i++)
    {
      EpDhtCandidate *c = &g_array_index (self->candidates, EpDhtCandidate, i);

      if (c == candidate)
        c->state = CANDIDATE_FAILED;
    }
}

/* TRUE if another path already queried this node; else it becomes ours. */
static gboolean
claimed_elsewhere (EpDhtLookup          *self,
                   const EpDhtCandidate *c)
{
  g_autoptr(GBytes) id = NULL;
  g_autoptr(GBytes) addr = NULL;
  guint owner_id, owner_addr, mine = self->path + 1;

  if (self->claims == NULL)
    return FALSE;
  id = g_bytes_new (c->id, EP_KRPC_ID_LEN);
  addr = g_bytes_new (c->addr, c->addr_len);
  owner_id = GPOINTER_TO_UINT (g_hash_table_lookup (self->claims, id));
  owner_addr = GPOINTER_TO_UINT (g_hash_table_lookup (self->claims, addr));
  if ((owner_id != 0 && owner_id != mine) || (owner_addr != 0 && owner_addr != mine))
    return TRUE;
  g_hash_table_insert (self->claims, g_steal_pointer (&id), GUINT_TO_POINTER (mine));
  g_hash_table_insert (self->claims, g_steal_pointer (&addr), GUINT_TO_POINTER (mine));
  return FALSE;
}

const guint8 *
ep_dht_lookup_get_target (EpDhtLookup *self)
{
  return self->target;
}

guint
ep_dht_lookup_get_queries (EpDhtLookup *self)
{
  return self->queries;
}

guint
ep_dht_lookup_get_rounds (EpDhtLookup *self)
{
  return self->rounds;
}

static EpDhtCandidate *
find_candidate (EpDhtLookup  *self,
                const guint8 *id,
                const guint8 *addr,
                gsize         addr_len)
{
  for (guint i = 0; i < self->candidates->len; i++)
    {
      EpDhtCandidate *c = &g_array_index (self->candidates, EpDhtCandidate, i);

      if (memcmp (c->id, id, EP_KRPC_ID_LEN) == 0
          && c->addr_len == addr_len && memcmp (c->addr, addr, addr_len) == 0)
        return c;
    }
  return NULL;
}

static void
add_candidate (EpDhtLookup  *self,
               const guint8 *id,
               const guint8 *addr,
               gsize         addr_len,
               guint         round)
{
  EpDhtCandidate c = { 0 };
  guint pos;

  if (memcmp (id, self->dht->id, EP_KRPC_ID_LEN) == 0
      || !ep_dht_addr_usable (self->dht, addr, addr_len))
    return;
  if (ep_dht_penalised_compact (self->dht, id, addr, addr_len))
    {
      self->dht->counters.dropped_penalised++;
      return;
    }

  /* One entry per ID and per address: a node cannot fill the list with
   * aliases of itself. */
  for (guint i = 0; i < self->candidates->len; i++)
    {
      const EpDhtCandidate *o = &g_array_index (self->candidates, EpDhtCandidate, i);

      if (memcmp (o->id, id, EP_KRPC_ID_LEN) == 0
          || (o->addr_len == addr_len && memcmp (o->addr, addr, addr_len) == 0))
        return;
    }

  pos = self->candidates->len;
  while (pos > 0
         && ep_rt_distance_cmp (self->target, id,
                                g_array_index (self->candidates, EpDhtCandidate, pos - 1).id) < 0)
    pos--;
  if (pos >= MAX_CANDIDATES)
    return;

  memcpy (c.id, id, EP_KRPC_ID_LEN);
  memcpy (c.addr, addr, addr_len);
  c.addr_len = addr_len;
  c.state = CANDIDATE_NEW;
  c.round = MIN (round, G_MAXUINT8);
  g_array_insert_val (self->candidates, pos, c);
  if (self->candidates->len > MAX_CANDIDATES)
    g_array_set_size (self->candidates, MAX_CANDIDATES);
}

static void
add_compact (EpDhtLookup  *self,
             const guint8 *nodes,
             gsize         len,
             gsize         entry,
             guint         round)
{
  for (gsize off = 0; nodes != NULL && off + entry <= len; off += entry)
    add_candidate (self, nodes + off, nodes + off + EP_KRPC_ID_LEN, entry - EP_KRPC_ID_LEN,
                   round);
}

/**
 * ep_dht_lookup_add_seeds:
 *
 * Extra starting points besides the routing tables: compact node infos.
 */
void
ep_dht_lookup_add_seeds (EpDhtLookup *self,
                         GBytes      *compact4,
                         GBytes      *compact6)
{
  gsize len = 0;
  const guint8 *p;

  if (compact4 != NULL)
    {
      p = g_bytes_get_data (compact4, &len);
      add_compact (self, p, len, 26, 1);
    }
  if (compact6 != NULL)
    {
      p = g_bytes_get_data (compact6, &len);
      add_compact (self, p, len, 38, 1);
    }
}

static void
finish (EpDhtLookup *self)
{
  const EpDhtCandidate *closest[EP_RT_K];
  guint n;

  if (self->done)
    return;
  self->done = TRUE;

  n = ep_dht_lookup_get_closest (self, closest, EP_RT_K);
  self->rounds = 0;
  for (guint i = 0; i < n; i++)
    self->rounds = MAX (self->rounds, closest[i]->round);
  self->dht->last_lookup_queries = self->queries;
  self->dht->last_lookup_rounds = self->rounds;

  if (self->on_done != NULL)
    self->on_done (self, self->user_data);
}

static void
on_query_reply (EpDht           *dht,
                const EpKrpcMsg *reply,
                const guint8    *node_id,
                const guint8    *addr,
                gsize            addr_len,
                gpointer         user_data)
{
  EpDhtLookup *self = user_data;
  EpDhtCandidate *c;
  guint round;

  self->in_flight--;
  if (self->done)
    goto out;

  c = find_candidate (self, node_id, addr, addr_len);
  if (reply == NULL || reply->kind != EP_KRPC_RESPONSE
      || memcmp (reply->id, node_id, EP_KRPC_ID_LEN) != 0
      || ep_dht_penalised_compact (dht, node_id, addr, addr_len))
    {
      /* Silent, refusing, or not the node we were told of. */
      if (c != NULL)
        c->state = CANDIDATE_FAILED;
      step (self);
      goto out;
    }

  round = c != NULL ? c->round : 1;
  if (c != NULL)
    {
      c->state = CANDIDATE_ANSWERED;
      if (reply->token != NULL && reply->token_len <= G_MAXUINT8)
        {
          g_free (c->token);
          c->token = g_memdup2 (reply->token, reply->token_len);
          c->token_len = reply->token_len;
        }
      if (self->on_reply != NULL && !self->on_reply (self, c, reply, self->user_data))
        {
          finish (self);
          goto out;
        }
      if (self->done)
        goto out;
      /* on_reply may have grown the array: look the candidate up again. */
      c = find_candidate (self, node_id, addr, addr_len);
      if (c != NULL && c->state == CANDIDATE_FAILED)
        {
          step (self);
          goto out;
        }
    }

  add_compact (self, reply->nodes, reply->nodes_len, 26, round + 1);
  add_compact (self, reply->nodes6, reply->nodes6_len, 38, round + 1);
  step (self);

out:
  ep_dht_lookup_unref (self);
}

static gboolean
send_to (EpDhtLookup    *self,
         EpDhtCandidate *c)
{
  EpKrpcMsg q = { .method = self->method };

  memcpy (q.target, self->target, EP_KRPC_ID_LEN);
  if (self->method == EP_KRPC_GET && self->has_seq)
    {
      q.has_seq = TRUE;
      q.seq = self->seq;
    }
  if (!ep_dht_send_query (self->dht, c->addr, c->addr_len, c->id, &q, on_query_reply,
                          ep_dht_lookup_ref (self)))
    {
      ep_dht_lookup_unref (self);
      return FALSE;
    }
  c->state = CANDIDATE_PENDING;
  self->in_flight++;
  self->queries++;
  return TRUE;
}

static void
step (EpDhtLookup *self)
{
  gboolean all_answered = TRUE;
  guint window = 0;

  if (self->done)
    return;

  ep_dht_lookup_ref (self);
again:
  all_answered = TRUE;
  window = 0;
  for (guint i = 0; i < self->candidates->len && window < self->window; i++)
    {
      EpDhtCandidate *c = &g_array_index (self->candidates, EpDhtCandidate, i);

      /* Penalised since it was learned (by another path, say), or queried
       * by another path: not ours to ask. */
      if (c->state == CANDIDATE_NEW && self->in_flight < self->dht->alpha
          && (ep_dht_penalised_compact (self->dht, c->id, c->addr, c->addr_len)
              || claimed_elsewhere (self, c) || !send_to (self, c)))
        c->state = CANDIDATE_FAILED;
      if (c->state == CANDIDATE_FAILED)
        continue;
      window++;
      if (c->state != CANDIDATE_ANSWERED)
        all_answered = FALSE;
    }

  /* Nothing found among the k closest yet, and more nodes to ask: widen. */
  if (all_answered && !self->found && self->window < self->max_window
      && window == self->window)
    {
      self->window = MIN (self->window + EP_RT_K, self->max_window);
      goto again;
    }

  /* The k closest that did not fail have all answered, or nobody is left
   * to ask. */
  if (all_answered || self->in_flight == 0)
    finish (self);
  ep_dht_lookup_unref (self);
}

/**
 * ep_dht_lookup_start:
 *
 * Seeds the lookup from the routing tables and sends the first queries.
 * on_done may run before this returns (nobody to ask).
 */
void
ep_dht_lookup_start (EpDhtLookup *self)
{
  EpRtNode seeds[N_SEEDS];
  gint64 now = ep_dht_now ();
  EpRoutingTable *tables[2] = { self->dht->table4, self->dht->table6 };

  g_return_if_fail (!self->started);
  self->started = TRUE;

  for (guint t = 0; t < G_N_ELEMENTS (tables); t++)
    {
      guint n;

      if (tables[t] == NULL)
        continue;
      n = ep_routing_table_closest (tables[t], self->target, N_SEEDS, now, seeds);
      /* Disjoint paths deal the seeds out between them. */
      for (guint i = self->path; i < n; i += self->n_paths)
        add_candidate (self, seeds[i].id, seeds[i].addr, seeds[i].addr_len, 1);
    }
  step (self);
}

/* Ends the lookup now: on_done runs (if it has not yet), on_reply never
 * again; queries in flight are left to finish. */
void
ep_dht_lookup_cancel (EpDhtLookup *self)
{
  self->on_reply = NULL;
  finish (self);
}

guint
ep_dht_lookup_get_closest (EpDhtLookup           *self,
                           const EpDhtCandidate **out,
                           guint                  max)
{
  guint n = 0;

  for (guint i = 0; i < self->candidates->len && n < max; i++)
    {
      const EpDhtCandidate *c = &g_array_index (self->candidates, EpDhtCandidate, i);

      if (c->state == CANDIDATE_ANSWERED)
        out[n++] = c;
    }
  return n;
}
