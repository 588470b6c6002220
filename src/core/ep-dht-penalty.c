/* ep-dht-penalty.c — the penalty box: nodes caught lying are ignored a while
 *
 * A node that hands out a forged or invalid item, or answers in a way no
 * honest node would (an item below the seq we asked for, a put it
 * acknowledged and then did not store), is evicted from the routing table
 * and kept out of lookups and of the table, by node ID and by address, for
 * penalty_seconds. The box is a fixed ring of EP_DHT_PENALTY_BOX_SIZE
 * entries: memory stays bounded however many nodes misbehave, and a flood of
 * penalties only pushes out the oldest ones.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "ep-dht-private.h"

static guint
penalty_seconds (EpDht *self)
{
  return self->penalty_seconds > 0 ? self->penalty_seconds : EP_DHT_DEFAULT_PENALTY_SECONDS;
}

gboolean
ep_dht_penalised_compact (EpDht        *self,
                          const guint8 *id,
                          const guint8 *addr,
                          gsize         addr_len)
{
  gint64 now = ep_dht_now ();

  for (guint i = 0; i < EP_DHT_PENALTY_BOX_SIZE; i++)
    {
      const EpDhtPenalty *p = &self->penalties[i];

      if (p->until <= now)
        continue;
      if (id != NULL && p->has_id && memcmp (p->id, id, EP_KRPC_ID_LEN) == 0)
        return TRUE;
      if (addr != NULL && p->addr_len != 0 && p->addr_len == addr_len
          && memcmp (p->addr, addr, addr_len) == 0)
        return TRUE;
    }
  return FALSE;
}

void
ep_dht_penalise_compact (EpDht        *self,
                         const guint8 *id,
                         const guint8 *addr,
                         gsize         addr_len)
{
  gint64 now = ep_dht_now ();
  EpDhtPenalty *slot = NULL;
  guint removed = 0;

  if (id == NULL && addr == NULL)
    return;
  if (addr != NULL && addr_len != 6 && addr_len != 18)
    addr = NULL;

  /* Renew an entry of the same node rather than taking a second slot. */
  for (guint i = 0; i < EP_DHT_PENALTY_BOX_SIZE && slot == NULL; i++)
    {
      EpDhtPenalty *p = &self->penalties[i];

      if (p->until > now
          && ((id != NULL && p->has_id && memcmp (p->id, id, EP_KRPC_ID_LEN) == 0)
              || (addr != NULL && p->addr_len == addr_len
                  && memcmp (p->addr, addr, addr_len) == 0)))
        slot = p;
    }
  if (slot == NULL)
    {
      /* A free (or expired) slot, else the ring's next one: the oldest. */
      for (guint i = 0; i < EP_DHT_PENALTY_BOX_SIZE && slot == NULL; i++)
        if (self->penalties[i].until <= now)
          slot = &self->penalties[i];
      if (slot == NULL)
        {
          slot = &self->penalties[self->penalties_next];
          self->penalties_next = (self->penalties_next + 1) % EP_DHT_PENALTY_BOX_SIZE;
        }
      memset (slot, 0, sizeof *slot);
      self->counters.penalised++;
    }

  if (id != NULL)
    {
      memcpy (slot->id, id, EP_KRPC_ID_LEN);
      slot->has_id = TRUE;
    }
  if (addr != NULL)
    {
      memcpy (slot->addr, addr, addr_len);
      slot->addr_len = addr_len;
    }
  slot->until = now + penalty_seconds (self);

  if (self->table4 != NULL)
    removed += ep_routing_table_remove (self->table4, id, addr_len == 6 ? addr : NULL,
                                        addr_len, now);
  if (self->table6 != NULL)
    removed += ep_routing_table_remove (self->table6, id, addr_len == 18 ? addr : NULL,
                                        addr_len, now);
  if (removed > 0)
    ep_dht_schedule_nodes_changed (self);
  g_debug ("penalised a node: %u routing table entries removed", removed);
}

/**
 * ep_dht_penalise:
 * @id: (nullable): the node's ID
 * @address: (nullable): the node's address
 *
 * Evicts the node and ignores it for the penalty duration (default
 * %EP_DHT_DEFAULT_PENALTY_SECONDS).
 */
void
ep_dht_penalise (EpDht          *self,
                 const guint8   *id,
                 GSocketAddress *address)
{
  guint8 addr[18];
  gsize addr_len = 0;

  g_return_if_fail (EP_IS_DHT (self));
  g_return_if_fail (id != NULL || address != NULL);

  if (address != NULL)
    addr_len = ep_dht_addr_from_socket (address, addr);
  ep_dht_penalise_compact (self, id, addr_len != 0 ? addr : NULL, addr_len);
}

gboolean
ep_dht_is_penalised (EpDht          *self,
                     const guint8   *id,
                     GSocketAddress *address)
{
  guint8 addr[18];
  gsize addr_len = 0;

  g_return_val_if_fail (EP_IS_DHT (self), FALSE);

  if (address != NULL)
    addr_len = ep_dht_addr_from_socket (address, addr);
  return ep_dht_penalised_compact (self, id, addr_len != 0 ? addr : NULL, addr_len);
}

guint
ep_dht_get_n_penalised (EpDht *self)
{
  gint64 now = ep_dht_now ();
  guint n = 0;

  g_return_val_if_fail (EP_IS_DHT (self), 0);

  for (guint i = 0; i < EP_DHT_PENALTY_BOX_SIZE; i++)
    if (self->penalties[i].until > now)
      n++;
  return n;
}

/* Tests shorten it; 0 restores the default. Running penalties keep theirs. */
void
ep_dht_set_penalty_duration (EpDht *self,
                             guint  seconds)
{
  g_return_if_fail (EP_IS_DHT (self));

  self->penalty_seconds = seconds;
}
