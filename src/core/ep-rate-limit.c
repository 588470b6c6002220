/* ep-rate-limit.c — per-key token buckets in bounded memory
 *
 * Keys (usually source addresses) live in a hash table and in a list
 * ordered by when they were last seen. Once max_keys are tracked, a new
 * key evicts the least recently seen one, so a flood of spoofed sources
 * costs a bounded amount of memory; such a flood also evicts real sources,
 * which then start again with a full bucket: the limit is per key, not a
 * global budget. Keys are hashed with SipHash under a random key so that
 * nobody can choose sources that collide in the table.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <sodium.h>
#include <string.h>

#include "ep-rate-limit.h"

typedef struct
{
  /* First, so that a bare Key can be looked up in the table. */
  const guint8 *data;
  gsize         len;
  guint         hash;  /* keyed: GHashTable's hash function has no user data */
} Key;

typedef struct
{
  Key     key;
  GList   link;       /* in EpRateLimit.recent, most recent first */
  double  tokens;
  gint64  last_us;
  guint8  bytes[];
} Bucket;

struct _EpRateLimit
{
  double      per_second;
  double      burst;
  guint       max_keys;
  GHashTable *buckets;   /* Key* → Bucket* (the same pointer) */
  GQueue      recent;
  guint8      hash_key[crypto_shorthash_KEYBYTES];
};

static guint
keyed_hash (EpRateLimit  *limit,
            const guint8 *data,
            gsize         len)
{
  guint8 out[crypto_shorthash_BYTES];
  guint h;

  crypto_shorthash (out, data, len, limit->hash_key);
  memcpy (&h, out, sizeof h);
  return h;
}

static guint
key_hash (gconstpointer data)
{
  return ((const Key *) data)->hash;
}

static gboolean
key_equal (gconstpointer a,
           gconstpointer b)
{
  const Key *ka = a;
  const Key *kb = b;

  return ka->hash == kb->hash
         && ka->len == kb->len
         && memcmp (ka->data, kb->data, ka->len) == 0;
}

/**
 * ep_rate_limit_new:
 * @per_second: tokens added to each bucket per second
 * @burst: capacity of a bucket, and what a new key starts with
 * @max_keys: how many keys are tracked at most (at least 1)
 *
 * Returns: (transfer full): a rate limiter
 */
EpRateLimit *
ep_rate_limit_new (double per_second,
                   double burst,
                   guint  max_keys)
{
  EpRateLimit *limit;

  g_return_val_if_fail (per_second >= 0, NULL);
  g_return_val_if_fail (burst >= 1, NULL);
  g_return_val_if_fail (max_keys > 0, NULL);

  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");

  limit = g_new0 (EpRateLimit, 1);
  limit->per_second = per_second;
  limit->burst = burst;
  limit->max_keys = max_keys;
  limit->buckets = g_hash_table_new_full (key_hash, key_equal, NULL, g_free);
  g_queue_init (&limit->recent);
  randombytes_buf (limit->hash_key, sizeof limit->hash_key);
  return limit;
}

void
ep_rate_limit_free (EpRateLimit *limit)
{
  if (limit == NULL)
    return;
  g_hash_table_destroy (limit->buckets);
  g_free (limit);
}

static void
evict_oldest (EpRateLimit *limit)
{
  GList *link = g_queue_pop_tail_link (&limit->recent);
  Bucket *bucket = link->data;

  g_hash_table_remove (limit->buckets, &bucket->key);
}

/**
 * ep_rate_limit_allow:
 * @key: (array length=key_len): what is limited, e.g. a source address
 * @now_us: the caller's monotonic clock, in microseconds
 *
 * Returns: %TRUE when @key may go ahead (a token was taken)
 */
gboolean
ep_rate_limit_allow (EpRateLimit *limit,
                     const void  *key,
                     gsize        key_len,
                     gint64       now_us)
{
  Key lookup;
  Bucket *bucket;

  g_return_val_if_fail (limit != NULL, FALSE);
  g_return_val_if_fail (key != NULL || key_len == 0, FALSE);

  lookup.data = key_len > 0 ? key : (const guint8 *) "";
  lookup.len = key_len;
  lookup.hash = keyed_hash (limit, lookup.data, key_len);
  bucket = g_hash_table_lookup (limit->buckets, &lookup);

  if (bucket == NULL)
    {
      if (g_hash_table_size (limit->buckets) >= limit->max_keys)
        evict_oldest (limit);

      bucket = g_malloc (sizeof (Bucket) + key_len);
      if (key_len > 0)
        memcpy (bucket->bytes, key, key_len);
      bucket->key.data = bucket->bytes;
      bucket->key.len = key_len;
      bucket->key.hash = lookup.hash;
      bucket->link = (GList) { bucket, NULL, NULL };
      bucket->tokens = limit->burst;
      bucket->last_us = now_us;
      g_hash_table_add (limit->buckets, bucket);
      g_queue_push_head_link (&limit->recent, &bucket->link);
    }
  else
    {
      /* A clock that goes back refills nothing. */
      if (now_us > bucket->last_us)
        {
          double elapsed = (double) (now_us - bucket->last_us) / G_USEC_PER_SEC;

          bucket->tokens = MIN (limit->burst, bucket->tokens + elapsed * limit->per_second);
          bucket->last_us = now_us;
        }
      g_queue_unlink (&limit->recent, &bucket->link);
      g_queue_push_head_link (&limit->recent, &bucket->link);
    }

  if (bucket->tokens < 1.0)
    return FALSE;
  bucket->tokens -= 1.0;
  return TRUE;
}

guint
ep_rate_limit_size (EpRateLimit *limit)
{
  g_return_val_if_fail (limit != NULL, 0);
  return g_hash_table_size (limit->buckets);
}
