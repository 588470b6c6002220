/* ep-poison-node.h — a lying DHT node for tests and bench-poison
 *
 * A small KRPC responder on its own EpUdp (loopback), built on ep-krpc and
 * ep-bencode, not on EpDht: it does exactly what it is told and nothing an
 * honest node would do on top. It answers ping, find_node, get_peers and
 * get like a node; what it lies about is configured:
 *
 *   - an item (k, sig, seq, v) handed out in answer to every `get`,
 *     whatever the target or the seq asked for: forged, replayed, signed by
 *     another key, far in the future …;
 *   - the nodes it returns: the EP_RT_K of its peer list closest to the
 *     target (a list of honest and lying nodes, or only its fellow Sybils);
 *   - puts: acknowledged and dropped, or refused.
 *
 * ep_poison_node_introduce() sends a find_node to an honest node, which
 * then pings the newcomer back and takes it into its table.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ep-core.h"

G_BEGIN_DECLS

typedef struct _EpPoisonNode EpPoisonNode;

EpPoisonNode   *ep_poison_node_new          (const char     *host,
                                             const guint8    id[EP_KRPC_ID_LEN],
                                             GError        **error);
void            ep_poison_node_free         (EpPoisonNode   *self);
const guint8   *ep_poison_node_get_id       (EpPoisonNode   *self);
/* (transfer full) */
GSocketAddress *ep_poison_node_get_address  (EpPoisonNode   *self);
/* 26 bytes: ID ‖ compact IPv4 address */
void            ep_poison_node_get_compact  (EpPoisonNode   *self,
                                             guint8          out[26]);

void            ep_poison_node_set_item     (EpPoisonNode   *self,
                                             const guint8    k[32],
                                             const guint8    sig[64],
                                             gint64          seq,
                                             GBytes         *v);
void            ep_poison_node_set_peers    (EpPoisonNode   *self,
                                             GBytes         *compact_nodes);
void            ep_poison_node_set_drop_puts (EpPoisonNode  *self,
                                             gboolean        drop_puts);
void            ep_poison_node_introduce    (EpPoisonNode   *self,
                                             GSocketAddress *to);

guint           ep_poison_node_get_n_items_sent (EpPoisonNode *self);
guint           ep_poison_node_get_n_queries (EpPoisonNode *self);
guint           ep_poison_node_get_n_puts_dropped (EpPoisonNode *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpPoisonNode, ep_poison_node_free)

G_END_DECLS
