/* ep-dht-storage.c — the BEP 5 peer store and the BEP 44 item store
 *
 * Everything here is keyed by 20-byte ids that peers choose (infohashes
 * directly, targets through SHA-1), so the tables hash them with SipHash
 * under a random key. Both stores are bounded: items by count, evicting the
 * least recently put; swarms by count, evicting the one announced to least
 * recently; peers per swarm, replacing the oldest announce.
 *
 * An item or a peer is live while now < last + lifetime: an item put at t
 * is gone at exactly t + 2 h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <sodium.h>
#include <string.h>

#include "ep-bep44.h"
#include "ep-dht-storage.h"

typedef struct
{
  guint8 id[20];
  guint  hash;   /* keyed; GHashTable's hash function has no user data */
} Key;

typedef struct
{
  Key       key;      /* first, so that a bare Key looks an Item up */
  EpDhtItem item;
  GList     link;     /* in items_lru, most recently put first */
} Item;

typedef struct
{
  guint8 addr[18];
  guint8 len;         /* 6 or 18 */
  gint64 last_announce;
} Peer;

typedef struct
{
  Key     key;        /* first, as for Item */
  GList   link;       /* in swarms_lru, most recently announced first */
  GArray *peers;      /* of Peer */
} Swarm;

struct _EpDhtStorage
{
  guint       max_items;
  guint       max_infohashes;
  guint       max_peers;
  GHashTable *items;       /* Key* → Item* (the same pointer) */
  GQueue      items_lru;
  GHashTable *swarms;      /* Key* → Swarm* (the same pointer) */
  GQueue      swarms_lru;
  guint       n_peers;
  guint8      hash_key[crypto_shorthash_KEYBYTES];
};

static guint
key_hash (gconstpointer key)
{
  return ((const Key *) key)->hash;
}

static gboolean
key_equal (gconstpointer a,
           gconstpointer b)
{
  return memcmp (((const Key *) a)->id, ((const Key *) b)->id, 20) == 0;
}

static void
make_key (EpDhtStorage *storage,
          const guint8  id[20],
          Key          *key)
{
  guint8 out[crypto_shorthash_BYTES];

  memcpy (key->id, id, 20);
  crypto_shorthash (out, id, 20, storage->hash_key);
  memcpy (&key->hash, out, sizeof key->hash);
}

static void
item_free (gpointer data)
{
  Item *item = data;

  g_free (item->item.salt);
  g_free (item->item.v);
  g_free (item);
}

static void
swarm_free (gpointer data)
{
  Swarm *swarm = data;

  g_array_unref (swarm->peers);
  g_free (swarm);
}

/**
 * ep_dht_storage_new:
 * @max_items: BEP 44 items kept at most
 * @max_infohashes: infohashes with peers kept at most
 * @max_peers_per_infohash: peers kept at most for each infohash
 *
 * Returns: (transfer full): an empty store
 */
EpDhtStorage *
ep_dht_storage_new (guint max_items,
                    guint max_infohashes,
                    guint max_peers_per_infohash)
{
  EpDhtStorage *storage;

  g_return_val_if_fail (max_items > 0, NULL);
  g_return_val_if_fail (max_infohashes > 0, NULL);
  g_return_val_if_fail (max_peers_per_infohash > 0, NULL);

  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");

  storage = g_new0 (EpDhtStorage, 1);
  storage->max_items = max_items;
  storage->max_infohashes = max_infohashes;
  storage->max_peers = max_peers_per_infohash;
  storage->items = g_hash_table_new_full (key_hash, key_equal, NULL, item_free);
  storage->swarms = g_hash_table_new_full (key_hash, key_equal, NULL, swarm_free);
  g_queue_init (&storage->items_lru);
  g_queue_init (&storage->swarms_lru);
  randombytes_buf (storage->hash_key, sizeof storage->hash_key);
  return storage;
}

void
ep_dht_storage_free (EpDhtStorage *storage)
{
  if (storage == NULL)
    return;
  g_hash_table_destroy (storage->items);
  g_hash_table_destroy (storage->swarms);
  g_free (storage);
}

/* Items */

static gboolean
item_is_live (const Item *item,
              gint64      now)
{
  return now < item->item.last_put + EP_DHT_STORAGE_ITEM_LIFETIME;
}

static void
remove_item (EpDhtStorage *storage,
             Item         *item)
{
  g_queue_unlink (&storage->items_lru, &item->link);
  g_hash_table_remove (storage->items, &item->key);
}

static void
touch_item (EpDhtStorage *storage,
            Item         *item,
            gint64        now)
{
  item->item.last_put = now;
  g_queue_unlink (&storage->items_lru, &item->link);
  g_queue_push_head_link (&storage->items_lru, &item->link);
}

static Item *
lookup_item (EpDhtStorage *storage,
             const guint8  target[20])
{
  Key key;

  make_key (storage, target, &key);
  return g_hash_table_lookup (storage->items, &key);
}

/* A new, empty item at @target, making room first. */
static Item *
insert_item (EpDhtStorage *storage,
             const guint8  target[20],
             gint64        now)
{
  Item *item;

  while (g_hash_table_size (storage->items) >= storage->max_items)
    remove_item (storage, g_queue_peek_tail (&storage->items_lru));

  item = g_new0 (Item, 1);
  make_key (storage, target, &item->key);
  memcpy (item->item.target, target, 20);
  item->item.last_put = now;
  item->link.data = item;
  g_hash_table_add (storage->items, item);
  g_queue_push_head_link (&storage->items_lru, &item->link);
  return item;
}

static void
set_value (Item         *item,
           const guint8 *v_raw,
           gsize         v_len)
{
  g_free (item->item.v);
  item->item.v = g_memdup2 (v_raw, v_len);
  item->item.v_len = v_len;
}

static int
refuse (const char **message,
        int          code,
        const char  *text)
{
  if (message != NULL)
    *message = text;
  return code;
}

/**
 * ep_dht_storage_put_immutable:
 * @v_raw: (array length=v_len): the bencoded value, exactly as received
 * @message: (out) (optional): the error message when refused
 *
 * Stores the value under SHA-1 (@v_raw), or refreshes it when present.
 *
 * Returns: 0, or 205 when the value is too big
 */
int
ep_dht_storage_put_immutable (EpDhtStorage  *storage,
                              const guint8  *v_raw,
                              gsize          v_len,
                              gint64         now,
                              const char   **message)
{
  guint8 target[20];
  Item *item;

  g_return_val_if_fail (storage != NULL, 203);
  g_return_val_if_fail (v_raw != NULL && v_len > 0, 203);

  if (message != NULL)
    *message = NULL;
  if (v_len > EP_BEP44_MAX_V)
    return refuse (message, 205, "Message (v field) too big.");

  ep_bep44_immutable_target (v_raw, v_len, target);
  item = lookup_item (storage, target);

  /* A mutable item at this target would take a SHA-1 preimage: replace it. */
  if (item != NULL && item->item.is_mutable)
    {
      remove_item (storage, item);
      item = NULL;
    }

  if (item != NULL)
    {
      touch_item (storage, item, now);
      return 0;
    }

  item = insert_item (storage, target, now);
  set_value (item, v_raw, v_len);
  return 0;
}

/**
 * ep_dht_storage_put_mutable:
 * @k: the item's Ed25519 public key
 * @salt: (array length=salt_len) (nullable): the salt, if any
 * @seq: the item's sequence number
 * @sig: its signature over the BEP 44 signed string
 * @v_raw: (array length=v_len): the bencoded value, exactly as received
 * @has_cas: whether the put carries `cas`
 * @cas: the sequence number the writer expects to replace
 * @message: (out) (optional): the error message when refused
 *
 * Returns: 0, or the BEP 44 error code (205, 206, 207, 301, 302)
 */
int
ep_dht_storage_put_mutable (EpDhtStorage  *storage,
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
                            const char   **message)
{
  guint8 target[20];
  Item *item;

  g_return_val_if_fail (storage != NULL, 203);
  g_return_val_if_fail (k != NULL && sig != NULL, 203);
  g_return_val_if_fail (v_raw != NULL && v_len > 0, 203);
  g_return_val_if_fail (salt != NULL || salt_len == 0, 203);

  if (message != NULL)
    *message = NULL;
  if (v_len > EP_BEP44_MAX_V)
    return refuse (message, 205, "Message (v field) too big.");
  if (salt_len > EP_BEP44_MAX_SALT)
    return refuse (message, 207, "Salt (salt field) too big.");
  if (!ep_bep44_verify (k, sig, salt, salt_len, seq, v_raw, v_len))
    return refuse (message, 206, "Invalid signature.");

  ep_bep44_mutable_target (k, salt, salt_len, target);
  item = lookup_item (storage, target);

  /* An expired item no longer exists; an immutable one here would be a
   * SHA-1 preimage. */
  if (item != NULL && (!item_is_live (item, now) || !item->item.is_mutable))
    {
      remove_item (storage, item);
      item = NULL;
    }

  if (item != NULL)
    {
      if (has_cas && cas != item->item.seq)
        return refuse (message, 301, "CAS mismatch, re-read value and try again.");
      if (seq < item->item.seq)
        return refuse (message, 302, "Sequence number less than current.");
      if (seq == item->item.seq)
        {
          if (v_len != item->item.v_len || memcmp (v_raw, item->item.v, v_len) != 0)
            return refuse (message, 302, "Sequence number less than current.");
          touch_item (storage, item, now);
          return 0;
        }
      touch_item (storage, item, now);
    }
  else
    {
      item = insert_item (storage, target, now);
      item->item.is_mutable = TRUE;
      memcpy (item->item.k, k, 32);
      item->item.salt = salt_len > 0 ? g_memdup2 (salt, salt_len) : NULL;
      item->item.salt_len = salt_len;
    }

  item->item.seq = seq;
  memcpy (item->item.sig, sig, 64);
  set_value (item, v_raw, v_len);
  return 0;
}

/**
 * ep_dht_storage_get:
 * @target: the item's target id
 *
 * Returns: (transfer none) (nullable): the item, valid until the next call
 *   that changes the store
 */
const EpDhtItem *
ep_dht_storage_get (EpDhtStorage *storage,
                    const guint8  target[20],
                    gint64        now)
{
  Item *item;

  g_return_val_if_fail (storage != NULL, NULL);
  g_return_val_if_fail (target != NULL, NULL);

  item = lookup_item (storage, target);
  if (item == NULL || !item_is_live (item, now))
    return NULL;
  return &item->item;
}

guint
ep_dht_storage_n_items (EpDhtStorage *storage)
{
  g_return_val_if_fail (storage != NULL, 0);
  return g_hash_table_size (storage->items);
}

/* Peers */

static gboolean
peer_is_live (const Peer *peer,
              gint64      now)
{
  return now < peer->last_announce + EP_DHT_STORAGE_PEER_LIFETIME;
}

static void
remove_swarm (EpDhtStorage *storage,
              Swarm        *swarm)
{
  storage->n_peers -= swarm->peers->len;
  g_queue_unlink (&storage->swarms_lru, &swarm->link);
  g_hash_table_remove (storage->swarms, &swarm->key);
}

static Swarm *
lookup_swarm (EpDhtStorage *storage,
              const guint8  infohash[20])
{
  Key key;

  make_key (storage, infohash, &key);
  return g_hash_table_lookup (storage->swarms, &key);
}

/**
 * ep_dht_storage_announce:
 * @infohash: what the peer announced
 * @compact: (array length=compact_len): the peer's compact address: IPv4
 *   and port (6 bytes) or IPv6 and port (18 bytes)
 */
void
ep_dht_storage_announce (EpDhtStorage *storage,
                         const guint8  infohash[20],
                         const guint8 *compact,
                         gsize         compact_len,
                         gint64        now)
{
  Swarm *swarm;
  Peer *peer = NULL;

  g_return_if_fail (storage != NULL);
  g_return_if_fail (infohash != NULL && compact != NULL);
  g_return_if_fail (compact_len == 6 || compact_len == 18);

  swarm = lookup_swarm (storage, infohash);
  if (swarm == NULL)
    {
      while (g_hash_table_size (storage->swarms) >= storage->max_infohashes)
        remove_swarm (storage, g_queue_peek_tail (&storage->swarms_lru));

      swarm = g_new0 (Swarm, 1);
      make_key (storage, infohash, &swarm->key);
      swarm->link.data = swarm;
      swarm->peers = g_array_new (FALSE, TRUE, sizeof (Peer));
      g_hash_table_add (storage->swarms, swarm);
    }
  else
    g_queue_unlink (&storage->swarms_lru, &swarm->link);
  g_queue_push_head_link (&storage->swarms_lru, &swarm->link);

  for (guint i = 0; i < swarm->peers->len && peer == NULL; i++)
    {
      Peer *p = &g_array_index (swarm->peers, Peer, i);

      if (p->len == compact_len && memcmp (p->addr, compact, compact_len) == 0)
        peer = p;
    }

  if (peer == NULL && swarm->peers->len >= storage->max_peers)
    {
      /* Full: the new announce replaces the oldest one. */
      peer = &g_array_index (swarm->peers, Peer, 0);
      for (guint i = 1; i < swarm->peers->len; i++)
        {
          Peer *p = &g_array_index (swarm->peers, Peer, i);

          if (p->last_announce < peer->last_announce)
            peer = p;
        }
    }

  if (peer == NULL)
    {
      g_array_set_size (swarm->peers, swarm->peers->len + 1);
      peer = &g_array_index (swarm->peers, Peer, swarm->peers->len - 1);
      storage->n_peers++;
    }

  memset (peer->addr, 0, sizeof peer->addr);
  memcpy (peer->addr, compact, compact_len);
  peer->len = compact_len;
  peer->last_announce = now;
}

/**
 * ep_dht_storage_get_peers:
 * @infohash: the swarm asked for
 * @family: %G_SOCKET_FAMILY_IPV4 for 6-byte entries, %G_SOCKET_FAMILY_IPV6
 *   for 18-byte ones
 * @max: how many at most
 *
 * Returns: (transfer full) (element-type GBytes): the compact peers, empty
 *   when none are known, a random sample when more than @max are
 */
GPtrArray *
ep_dht_storage_get_peers (EpDhtStorage  *storage,
                          const guint8   infohash[20],
                          GSocketFamily  family,
                          guint          max,
                          gint64         now)
{
  GPtrArray *result = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autofree guint *candidates = NULL;
  guint n = 0;
  guint8 len;
  Swarm *swarm;

  g_return_val_if_fail (storage != NULL, result);
  g_return_val_if_fail (infohash != NULL, result);

  if (family == G_SOCKET_FAMILY_IPV4)
    len = 6;
  else if (family == G_SOCKET_FAMILY_IPV6)
    len = 18;
  else
    return result;

  swarm = lookup_swarm (storage, infohash);
  if (swarm == NULL || max == 0)
    return result;

  candidates = g_new (guint, MAX (swarm->peers->len, 1));
  for (guint i = 0; i < swarm->peers->len; i++)
    {
      const Peer *p = &g_array_index (swarm->peers, Peer, i);

      if (p->len == len && peer_is_live (p, now))
        candidates[n++] = i;
    }

  /* The first min(n, max) places of a Fisher–Yates shuffle. */
  for (guint i = 0; i < n && i < max; i++)
    {
      guint j = i + randombytes_uniform (n - i);
      guint chosen = candidates[j];
      const Peer *p = &g_array_index (swarm->peers, Peer, chosen);

      candidates[j] = candidates[i];
      candidates[i] = chosen;
      g_ptr_array_add (result, g_bytes_new (p->addr, p->len));
    }

  return result;
}

guint
ep_dht_storage_n_peers (EpDhtStorage *storage)
{
  g_return_val_if_fail (storage != NULL, 0);
  return storage->n_peers;
}

/**
 * ep_dht_storage_expire:
 *
 * Drops items 2 h after their last put and peers 30 min after their last
 * announce (and swarms left without peers).
 */
void
ep_dht_storage_expire (EpDhtStorage *storage,
                       gint64        now)
{
  GList *link, *prev;

  g_return_if_fail (storage != NULL);

  /* Whole lists are walked: nothing assumes the caller's clock never
   * goes back. */
  for (link = storage->items_lru.tail; link != NULL; link = prev)
    {
      Item *item = link->data;

      prev = link->prev;
      if (!item_is_live (item, now))
        remove_item (storage, item);
    }

  for (link = storage->swarms_lru.tail; link != NULL; link = prev)
    {
      Swarm *swarm = link->data;

      prev = link->prev;
      for (guint i = swarm->peers->len; i > 0; i--)
        if (!peer_is_live (&g_array_index (swarm->peers, Peer, i - 1), now))
          {
            g_array_remove_index_fast (swarm->peers, i - 1);
            storage->n_peers--;
          }
      if (swarm->peers->len == 0)
        remove_swarm (storage, swarm);
    }
}
