/* ep-poison-net.h — an in-process DHT with lying nodes, for the poisoning
 * test and bench-poison
 *
 * One run builds a loopback network of honest EpDht nodes and lying
 * EpPoisonNodes (ep-poison-node.h), lets a victim publish two presence
 * records (the first one is what replaying nodes hand out later), then
 * resolves the victim from honest nodes, for each number of disjoint paths
 * asked for from resolvers of its own (a penalty box learned in one mode
 * never helps another), and counts how many resolutions returned the newest
 * genuine record.
 *
 * Behaviours of the lying nodes:
 *   FORGE      get → the victim's key and a fresh v with a bad signature
 *   REPLAY     get → the victim's first, older genuine record
 *   OTHER_KEY  get → a valid record signed by another key
 *   FUTURE     get → another key's record, timestamp far ahead, seq INT64_MAX
 *   SYBIL      ID next to the target; nodes: only fellow Sybils; puts
 *              acknowledged and dropped (an eclipse attempt)
 *   DROP       puts acknowledged and dropped
 * Only Sybils choose their IDs (an attacker cannot place many: BEP 42);
 * the others take theirs from the seeded generator like honest ones would.
 *
 * The seed fixes the lying nodes' IDs, the mix of behaviours and who
 * resolves; honest node IDs and timing come from the system.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ep-core.h"

G_BEGIN_DECLS

typedef enum
{
  EP_POISON_FORGE,
  EP_POISON_REPLAY,
  EP_POISON_OTHER_KEY,
  EP_POISON_FUTURE,
  EP_POISON_SYBIL,
  EP_POISON_DROP,
  EP_POISON_N_KINDS,
  EP_POISON_MIXED = EP_POISON_N_KINDS,   /* every behaviour, dealt out in turn */
} EpPoisonKind;

#define EP_POISON_MAX_MODES 4

typedef struct
{
  guint         n_nodes;         /* honest + lying */
  guint         percent;         /* lying share, 0 … 90 */
  EpPoisonKind  kind;
  guint32       seed;
  guint         n_lookups;       /* per mode */
  guint         n_modes;
  guint         paths[EP_POISON_MAX_MODES];
} EpPoisonParams;

typedef struct
{
  guint               lookups;
  guint               newest;          /* returned the newest genuine record */
  guint               wrong;           /* returned anything else */
  guint               failed;          /* returned an error */
  EpPresenceCounters  counters;
  guint               penalised;       /* nodes the resolvers penalised */
  guint               lying_queries;   /* [0] only: queries the lying nodes got, in all */
  guint               puts_dropped;    /* [0] only: puts they acknowledged and dropped */
} EpPoisonResult;

const char *ep_poison_kind_to_string (EpPoisonKind          kind);
gboolean    ep_poison_net_run        (const EpPoisonParams *params,
                                      EpPoisonResult        results[EP_POISON_MAX_MODES],
                                      GError              **error);

G_END_DECLS
