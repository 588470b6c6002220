/* ep-dht-storage.h — the BEP 5 peer store and the BEP 44 item store
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define EP_DHT_STORAGE_ITEM_LIFETIME (2 * 60 * 60)  /* seconds after the last put */
#define EP_DHT_STORAGE_PEER_LIFETIME (30 * 60)      /* seconds after the last announce */

typedef struct _EpDhtStorage EpDhtStorage;

typedef struct
{
  guint8   target[20];
  gboolean is_mutable;
  guint8   k[32];        /* mutable only */
  guint8   sig[64];      /* mutable only */
  gint64   seq;          /* mutable only */
  guint8  *salt;
  gsize    salt_len;
  guint8  *v;            /* bencoded v, exactly as put */
  gsize    v_len;
  gint64   last_put;     /* seconds, caller's clock */
} EpDhtItem;

EpDhtStorage    *ep_dht_storage_new           (guint          max_items,
                                               guint          max_infohashes,
                                               guint          max_peers_per_infohash);
void             ep_dht_storage_free          (EpDhtStorage  *storage);

/* Return 0 when stored, else the BEP 44 error code (205 v too big, 206 bad
 * signature, 207 salt too big, 301 cas mismatch, 302 seq less than current)
 * with *message a static English string. An equal seq with identical v just
 * refreshes; equal seq with different v is 302. 'now' is seconds on a
 * monotonic clock supplied by the caller. */
int              ep_dht_storage_put_immutable (EpDhtStorage  *storage,
                                               const guint8  *v_raw,
                                               gsize          v_len,
                                               gint64         now,
                                               const char   **message);
int              ep_dht_storage_put_mutable   (EpDhtStorage  *storage,
                                               const guint8   k[32],
                                               const guint8  *salt,
                                               gsize          salt_len,
                                               gint64         seq,
                                               const guint8   sig[64],
                                               const guint8  *v_raw,
                                               gsize          v_len,
                                               gboolean       has_cas,
                                               gint64         cas,
                                               gint64         now,
                                               const char   **message);
/* NULL when absent or expired. */
const EpDhtItem *ep_dht_storage_get           (EpDhtStorage  *storage,
                                               const guint8   target[20],
                                               gint64         now);

void             ep_dht_storage_announce      (EpDhtStorage  *storage,
                                               const guint8   infohash[20],
                                               const guint8  *compact,
                                               gsize          compact_len, /* 6 or 18 */
                                               gint64         now);
/* Up to max compact peers (6-byte entries for IPv4 or 18-byte for IPv6 per
 * family), as GBytes; random sample when more are stored. */
GPtrArray       *ep_dht_storage_get_peers     (EpDhtStorage  *storage,
                                               const guint8   infohash[20],
                                               GSocketFamily  family,
                                               guint          max,
                                               gint64         now);

/* Items 2 h after last put, peers 30 min after last announce. */
void             ep_dht_storage_expire        (EpDhtStorage  *storage,
                                               gint64         now);
guint            ep_dht_storage_n_items       (EpDhtStorage  *storage);
guint            ep_dht_storage_n_peers       (EpDhtStorage  *storage);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpDhtStorage, ep_dht_storage_free)

G_END_DECLS
