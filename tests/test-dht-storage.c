/* test-dht-storage.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <sodium.h>
#include <string.h>

#include "ep-core.h"

#define HOUR (60 * 60)

typedef struct
{
  guint8 pk[32];
  guint8 sk[64];
} Keys;

static void
keys_init (Keys  *keys,
           guint8 seed_byte)
{
  guint8 seed[32];

  memset (seed, seed_byte, sizeof seed);
  crypto_sign_seed_keypair (keys->pk, keys->sk, seed);
}

/* A correctly signed mutable put. */
static int
put_signed (EpDhtStorage *storage,
            const Keys   *keys,
            const char   *salt,
            gint64        seq,
            const char   *v,
            gboolean      has_cas,
            gint64        cas,
            gint64        now,
            const char  **message)
{
  guint8 sig[64];
  gsize salt_len = salt != NULL ? strlen (salt) : 0;

  ep_bep44_sign (keys->sk, (const guint8 *) salt, salt_len, seq,
                 (const guint8 *) v, strlen (v), sig);
  return ep_dht_storage_put_mutable (storage, keys->pk, (const guint8 *) salt, salt_len, seq,
                                     sig, (const guint8 *) v, strlen (v), has_cas, cas, now,
                                     message);
}

static void
test_dht_storage_immutable (void)
{
  g_autoptr(EpDhtStorage) storage = ep_dht_storage_new (16, 16, 16);
  static const guint8 expected_target[20] = {
    0xe5, 0xf9, 0x6f, 0x6f, 0x38, 0x32, 0x0f, 0x0f, 0x33, 0x95,
    0x9c, 0xb4, 0xd3, 0xd6, 0x56, 0x45, 0x21, 0x17, 0xaa, 0xdb,
  };
  const char *v = "12:Hello World!";
  const char *message = "unset";
  const EpDhtItem *item;

  g_assert_cmpint (ep_dht_storage_put_immutable (storage, (const guint8 *) v, strlen (v), 10,
                                                 &message), ==, 0);
  g_assert_null (message);
  g_assert_cmpuint (ep_dht_storage_n_items (storage), ==, 1);

  item = ep_dht_storage_get (storage, expected_target, 11);
  g_assert_nonnull (item);
  g_assert_false (item->is_mutable);
  g_assert_cmpmem (item->target, 20, expected_target, 20);
  g_assert_cmpmem (item->v, item->v_len, v, strlen (v));
  g_assert_cmpint (item->last_put, ==, 10);

  /* Putting it again refreshes it. */
  g_assert_cmpint (ep_dht_storage_put_immutable (storage, (const guint8 *) v, strlen (v), 20,
                                                 NULL), ==, 0);
  item = ep_dht_storage_get (storage, expected_target, 21);
  g_assert_cmpint (item->last_put, ==, 20);
  g_assert_cmpuint (ep_dht_storage_n_items (storage), ==, 1);
}

static void
test_dht_storage_mutable_seq (void)
{
  g_autoptr(EpDhtStorage) storage = ep_dht_storage_new (16, 16, 16);
  const char *message = NULL;
  const EpDhtItem *item;
  guint8 target[20];
  Keys keys;

  keys_init (&keys, 1);
  ep_bep44_mutable_target (keys.pk, (const guint8 *) "ep1", 3, target);

  g_assert_cmpint (put_signed (storage, &keys, "ep1", 5, "i1e", FALSE, 0, 100, &message), ==, 0);
  item = ep_dht_storage_get (storage, target, 100);
  g_assert_nonnull (item);
  g_assert_true (item->is_mutable);
  g_assert_cmpint (item->seq, ==, 5);
  g_assert_cmpmem (item->k, 32, keys.pk, 32);
  g_assert_cmpmem (item->salt, item->salt_len, "ep1", 3);
  g_assert_cmpmem (item->v, item->v_len, "i1e", 3);
  g_assert_true (ep_bep44_verify (item->k, item->sig, item->salt, item->salt_len, item->seq,
                                  item->v, item->v_len));

  /* Never downgraded. */
  g_assert_cmpint (put_signed (storage, &keys, "ep1", 4, "i0e", FALSE, 0, 101, &message), ==, 302);
  g_assert_nonnull (message);
  g_assert_cmpint (put_signed (storage, &keys, "ep1", G_MININT64, "i0e", FALSE, 0, 101, NULL),
                   ==, 302);
  /* Same seq, other value: refused; same value: refreshed. */
  g_assert_cmpint (put_signed (storage, &keys, "ep1", 5, "i2e", FALSE, 0, 102, &message), ==, 302);
  item = ep_dht_storage_get (storage, target, 102);
  g_assert_cmpint (item->seq, ==, 5);
  g_assert_cmpmem (item->v, item->v_len, "i1e", 3);
  g_assert_cmpint (item->last_put, ==, 100);
  g_assert_cmpint (put_signed (storage, &keys, "ep1", 5, "i1e", FALSE, 0, 103, &message), ==, 0);
  item = ep_dht_storage_get (storage, target, 103);
  g_assert_cmpint (item->last_put, ==, 103);

  /* A higher seq replaces. */
  g_assert_cmpint (put_signed (storage, &keys, "ep1", 6, "4:spam", FALSE, 0, 104, NULL), ==, 0);
  item = ep_dht_storage_get (storage, target, 104);
  g_assert_cmpint (item->seq, ==, 6);
  g_assert_cmpmem (item->v, item->v_len, "4:spam", 6);
  g_assert_true (ep_bep44_verify (item->k, item->sig, item->salt, item->salt_len, item->seq,
                                  item->v, item->v_len));

  /* Same key, other salt: another item. */
  g_assert_cmpint (put_signed (storage, &keys, NULL, 1, "i9e", FALSE, 0, 105, NULL), ==, 0);
  g_assert_cmpuint (ep_dht_storage_n_items (storage), ==, 2);
  ep_bep44_mutable_target (keys.pk, NULL, 0, target);
  item = ep_dht_storage_get (storage, target, 105);
  g_assert_nonnull (item);
  g_assert_null (item->salt);
  g_assert_cmpuint (item->salt_len, ==, 0);
}

static void
test_dht_storage_cas (void)
{
  g_autoptr(EpDhtStorage) storage = ep_dht_storage_new (16, 16, 16);
  const char *message = NULL;
  guint8 target[20];
  Keys keys;

  keys_init (&keys, 2);
  ep_bep44_mutable_target (keys.pk, NULL, 0, target);

  /* No current item: cas has nothing to compare with. */
  g_assert_cmpint (put_signed (storage, &keys, NULL, 1, "i1e", TRUE, 7, 0, NULL), ==, 0);

  g_assert_cmpint (put_signed (storage, &keys, NULL, 2, "i2e", TRUE, 0, 1, &message), ==, 301);
  g_assert_nonnull (message);
  g_assert_cmpint (ep_dht_storage_get (storage, target, 1)->seq, ==, 1);
  /* cas is checked before seq. */
  g_assert_cmpint (put_signed (storage, &keys, NULL, 0, "i2e", TRUE, 0, 1, &message), ==, 301);

  g_assert_cmpint (put_signed (storage, &keys, NULL, 2, "i2e", TRUE, 1, 2, &message), ==, 0);
  g_assert_cmpint (ep_dht_storage_get (storage, target, 2)->seq, ==, 2);
  g_assert_cmpint (put_signed (storage, &keys, NULL, 3, "i3e", TRUE, 1, 3, &message), ==, 301);
}

static void
test_dht_storage_sizes (void)
{
  g_autoptr(EpDhtStorage) storage = ep_dht_storage_new (16, 16, 16);
  g_autoptr(GByteArray) big = g_byte_array_new ();
  g_autofree char *salt64 = g_strnfill (64, 's');
  g_autofree char *salt65 = g_strnfill (65, 's');
  g_autofree char *v1000 = NULL;
  g_autofree char *v1001 = NULL;
  g_autofree char *fill = g_strnfill (997, 'x');
  const char *message = NULL;
  Keys keys;

  keys_init (&keys, 3);
  v1000 = g_strdup_printf ("996:%.996s", fill);
  v1001 = g_strdup_printf ("997:%s", fill);
  g_assert_cmpuint (strlen (v1000), ==, 1000);
  g_assert_cmpuint (strlen (v1001), ==, 1001);

  g_assert_cmpint (ep_dht_storage_put_immutable (storage, (const guint8 *) v1001, 1001, 0,
                                                 &message), ==, 205);
  g_assert_nonnull (message);
  g_assert_cmpint (ep_dht_storage_put_immutable (storage, (const guint8 *) v1000, 1000, 0,
                                                 &message), ==, 0);

  g_assert_cmpint (put_signed (storage, &keys, NULL, 1, v1001, FALSE, 0, 0, &message), ==, 205);
  g_assert_nonnull (message);
  g_assert_cmpint (put_signed (storage, &keys, NULL, 1, v1000, FALSE, 0, 0, &message), ==, 0);

  g_assert_cmpint (put_signed (storage, &keys, salt65, 1, "i1e", FALSE, 0, 0, &message), ==, 207);
  g_assert_nonnull (message);
  g_assert_cmpint (put_signed (storage, &keys, salt64, 1, "i1e", FALSE, 0, 0, &message), ==, 0);

  g_assert_cmpuint (ep_dht_storage_n_items (storage), ==, 3);
}

static void
test_dht_storage_bad_signature (void)
{
  g_autoptr(EpDhtStorage) storage = ep_dht_storage_new (16, 16, 16);
  const char *message = NULL;
  guint8 sig[64], target[20];
  Keys keys, other;

  keys_init (&keys, 4);
  keys_init (&other, 5);

  /* Signed by someone else. */
  ep_bep44_sign (other.sk, NULL, 0, 1, (const guint8 *) "i1e", 3, sig);
  g_assert_cmpint (ep_dht_storage_put_mutable (storage, keys.pk, NULL, 0, 1, sig,
                                               (const guint8 *) "i1e", 3, FALSE, 0, 0, &message),
                   ==, 206);
  g_assert_nonnull (message);

  /* Signed for another seq, value, salt. */
  ep_bep44_sign (keys.sk, NULL, 0, 1, (const guint8 *) "i1e", 3, sig);
  g_assert_cmpint (ep_dht_storage_put_mutable (storage, keys.pk, NULL, 0, 2, sig,
                                               (const guint8 *) "i1e", 3, FALSE, 0, 0, NULL),
                   ==, 206);
  g_assert_cmpint (ep_dht_storage_put_mutable (storage, keys.pk, NULL, 0, 1, sig,
                                               (const guint8 *) "i2e", 3, FALSE, 0, 0, NULL),
                   ==, 206);
  g_assert_cmpint (ep_dht_storage_put_mutable (storage, keys.pk, (const guint8 *) "a", 1, 1, sig,
                                               (const guint8 *) "i1e", 3, FALSE, 0, 0, NULL),
                   ==, 206);
  g_assert_cmpuint (ep_dht_storage_n_items (storage), ==, 0);

  /* The genuine one goes in; a forged higher seq does not replace it. */
  g_assert_cmpint (ep_dht_storage_put_mutable (storage, keys.pk, NULL, 0, 1, sig,
                                               (const guint8 *) "i1e", 3, FALSE, 0, 0, NULL),
                   ==, 0);
  ep_bep44_sign (other.sk, NULL, 0, 9, (const guint8 *) "i6e", 3, sig);
  g_assert_cmpint (ep_dht_storage_put_mutable (storage, keys.pk, NULL, 0, 9, sig,
                                               (const guint8 *) "i6e", 3, FALSE, 0, 0, NULL),
                   ==, 206);
  ep_bep44_mutable_target (keys.pk, NULL, 0, target);
  g_assert_cmpint (ep_dht_storage_get (storage, target, 0)->seq, ==, 1);
}

static void
test_dht_storage_item_expiry (void)
{
  g_autoptr(EpDhtStorage) storage = ep_dht_storage_new (16, 16, 16);
  const gint64 t0 = 1000;
  guint8 target[20], mtarget[20];
  Keys keys;

  keys_init (&keys, 6);
  ep_bep44_immutable_target ((const guint8 *) "i1e", 3, target);
  ep_bep44_mutable_target (keys.pk, NULL, 0, mtarget);

  g_assert_cmpint (ep_dht_storage_put_immutable (storage, (const guint8 *) "i1e", 3, t0, NULL),
                   ==, 0);
  g_assert_cmpint (put_signed (storage, &keys, NULL, 10, "i1e", FALSE, 0, t0, NULL), ==, 0);

  /* Live for exactly two hours. */
  g_assert_nonnull (ep_dht_storage_get (storage, target, t0 + 2 * HOUR - 1));
  g_assert_null (ep_dht_storage_get (storage, target, t0 + 2 * HOUR));
  g_assert_nonnull (ep_dht_storage_get (storage, mtarget, t0 + 2 * HOUR - 1));
  g_assert_null (ep_dht_storage_get (storage, mtarget, t0 + 2 * HOUR));

  ep_dht_storage_expire (storage, t0 + 2 * HOUR - 1);
  g_assert_cmpuint (ep_dht_storage_n_items (storage), ==, 2);

  /* A republish resets the clock. */
  g_assert_cmpint (put_signed (storage, &keys, NULL, 10, "i1e", FALSE, 0, t0 + HOUR, NULL), ==, 0);
  ep_dht_storage_expire (storage, t0 + 2 * HOUR);
  g_assert_cmpuint (ep_dht_storage_n_items (storage), ==, 1);
  g_assert_null (ep_dht_storage_get (storage, target, t0 + 2 * HOUR));
  g_assert_nonnull (ep_dht_storage_get (storage, mtarget, t0 + 3 * HOUR - 1));
  g_assert_null (ep_dht_storage_get (storage, mtarget, t0 + 3 * HOUR));

  /* Once expired the item no longer exists, so any valid seq starts over. */
  g_assert_cmpint (put_signed (storage, &keys, NULL, 3, "i3e", FALSE, 0, t0 + 3 * HOUR, NULL),
                   ==, 0);
  g_assert_cmpint (ep_dht_storage_get (storage, mtarget, t0 + 3 * HOUR)->seq, ==, 3);

  ep_dht_storage_expire (storage, t0 + 5 * HOUR);
  g_assert_cmpuint (ep_dht_storage_n_items (storage), ==, 0);
}

static void
test_dht_storage_items_bounded (void)
{
  g_autoptr(EpDhtStorage) storage = ep_dht_storage_new (100, 16, 16);
  guint8 first[20], target[20];
  char v[32];

  for (guint i = 0; i < 10000; i++)
    {
      int len = g_snprintf (v, sizeof v, "i%ue", i);

      g_assert_cmpint (ep_dht_storage_put_immutable (storage, (const guint8 *) v, len, i, NULL),
                       ==, 0);
      g_assert_cmpuint (ep_dht_storage_n_items (storage), <=, 100);
      if (i == 0)
        ep_bep44_immutable_target ((const guint8 *) v, len, first);
    }
  g_assert_cmpuint (ep_dht_storage_n_items (storage), ==, 100);
  g_assert_null (ep_dht_storage_get (storage, first, 10000));

  /* The newest 100 are kept. */
  for (guint i = 9900; i < 10000; i++)
    {
      int len = g_snprintf (v, sizeof v, "i%ue", i);

      ep_bep44_immutable_target ((const guint8 *) v, len, target);
      g_assert_nonnull (ep_dht_storage_get (storage, target, 10000));
    }

  /* A refreshed item counts as recently put. */
  g_snprintf (v, sizeof v, "i9900e");
  g_assert_cmpint (ep_dht_storage_put_immutable (storage, (const guint8 *) v, 6, 10000, NULL), ==,
                   0);
  g_assert_cmpint (ep_dht_storage_put_immutable (storage, (const guint8 *) "i-1e", 4, 10001,
                                                 NULL), ==, 0);
  ep_bep44_immutable_target ((const guint8 *) v, 6, target);
  g_assert_nonnull (ep_dht_storage_get (storage, target, 10001));
  ep_bep44_immutable_target ((const guint8 *) "i9901e", 6, target);
  g_assert_null (ep_dht_storage_get (storage, target, 10001));
}

static gboolean
peers_contain (GPtrArray    *peers,
               const guint8 *compact,
               gsize         len)
{
  for (guint i = 0; i < peers->len; i++)
    {
      gsize n;
      const guint8 *p = g_bytes_get_data (peers->pdata[i], &n);

      if (n == len && memcmp (p, compact, len) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
test_dht_storage_peers (void)
{
  g_autoptr(EpDhtStorage) storage = ep_dht_storage_new (16, 16, 16);
  static const guint8 infohash[20] = { 1, 2, 3 };
  static const guint8 other[20] = { 9 };
  static const guint8 v4[6] = { 127, 0, 0, 1, 0x1a, 0xe1 };
  static const guint8 v4b[6] = { 127, 0, 0, 2, 0x1a, 0xe1 };
  static const guint8 v6[18] = { [15] = 1, [16] = 0x1a, [17] = 0xe1 };
  g_autoptr(GPtrArray) peers = NULL;

  ep_dht_storage_announce (storage, infohash, v4, 6, 0);
  ep_dht_storage_announce (storage, infohash, v6, 18, 0);
  ep_dht_storage_announce (storage, infohash, v4, 6, 0);
  g_assert_cmpuint (ep_dht_storage_n_peers (storage), ==, 2);

  peers = ep_dht_storage_get_peers (storage, infohash, G_SOCKET_FAMILY_IPV4, 50, 1);
  g_assert_cmpuint (peers->len, ==, 1);
  g_assert_true (peers_contain (peers, v4, 6));
  g_clear_pointer (&peers, g_ptr_array_unref);

  peers = ep_dht_storage_get_peers (storage, infohash, G_SOCKET_FAMILY_IPV6, 50, 1);
  g_assert_cmpuint (peers->len, ==, 1);
  g_assert_true (peers_contain (peers, v6, 18));
  g_clear_pointer (&peers, g_ptr_array_unref);

  peers = ep_dht_storage_get_peers (storage, other, G_SOCKET_FAMILY_IPV4, 50, 1);
  g_assert_nonnull (peers);
  g_assert_cmpuint (peers->len, ==, 0);
  g_clear_pointer (&peers, g_ptr_array_unref);

  /* Expiry: 30 minutes after the last announce, exactly. */
  ep_dht_storage_announce (storage, infohash, v4b, 6, 600);
  peers = ep_dht_storage_get_peers (storage, infohash, G_SOCKET_FAMILY_IPV4, 50, 1799);
  g_assert_cmpuint (peers->len, ==, 2);
  g_clear_pointer (&peers, g_ptr_array_unref);
  peers = ep_dht_storage_get_peers (storage, infohash, G_SOCKET_FAMILY_IPV4, 50, 1800);
  g_assert_cmpuint (peers->len, ==, 1);
  g_assert_true (peers_contain (peers, v4b, 6));
  g_clear_pointer (&peers, g_ptr_array_unref);

  ep_dht_storage_expire (storage, 1799);
  g_assert_cmpuint (ep_dht_storage_n_peers (storage), ==, 3);
  ep_dht_storage_expire (storage, 1800);
  g_assert_cmpuint (ep_dht_storage_n_peers (storage), ==, 1);
  ep_dht_storage_expire (storage, 2400);
  g_assert_cmpuint (ep_dht_storage_n_peers (storage), ==, 0);

  peers = ep_dht_storage_get_peers (storage, infohash, G_SOCKET_FAMILY_IPV4, 50, 2400);
  g_assert_cmpuint (peers->len, ==, 0);
}

static void
test_dht_storage_peers_sample (void)
{
  g_autoptr(EpDhtStorage) storage = ep_dht_storage_new (16, 16, 100);
  static const guint8 infohash[20] = { 7 };
  g_autoptr(GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);

  for (guint i = 0; i < 40; i++)
    {
      guint8 compact[6] = { 10, 0, 0, i, 0, 1 };
      ep_dht_storage_announce (storage, infohash, compact, 6, 0);
    }

  /* Samples hold distinct peers, and over a few draws reach beyond the first 8. */
  for (guint round = 0; round < 20; round++)
    {
      g_autoptr(GPtrArray) peers = ep_dht_storage_get_peers (storage, infohash,
                                                             G_SOCKET_FAMILY_IPV4, 8, 1);
      g_autoptr(GHashTable) in_sample = g_hash_table_new (g_direct_hash, g_direct_equal);

      g_assert_cmpuint (peers->len, ==, 8);
      for (guint i = 0; i < peers->len; i++)
        {
          const guint8 *p = g_bytes_get_data (peers->pdata[i], NULL);

          g_assert_true (g_hash_table_add (in_sample, GUINT_TO_POINTER (p[3] + 1)));
          g_hash_table_add (seen, GUINT_TO_POINTER (p[3] + 1));
        }
    }
  g_assert_cmpuint (g_hash_table_size (seen), >, 8);

  {
    g_autoptr(GPtrArray) none = ep_dht_storage_get_peers (storage, infohash,
                                                          G_SOCKET_FAMILY_IPV4, 0, 1);
    g_assert_cmpuint (none->len, ==, 0);
  }
}

static void
test_dht_storage_peers_bounded (void)
{
  g_autoptr(EpDhtStorage) storage = ep_dht_storage_new (16, 50, 20);
  static const guint8 hot[20] = { 0xaa };
  guint8 infohash[20] = { 0 };
  g_autoptr(GPtrArray) peers = NULL;

  /* One swarm flooded with 10 000 distinct peers keeps the newest 20. */
  for (guint32 i = 0; i < 10000; i++)
    {
      guint8 compact[6] = { 10, i >> 16, i >> 8, i, 0, 1 };

      ep_dht_storage_announce (storage, hot, compact, 6, i);
      g_assert_cmpuint (ep_dht_storage_n_peers (storage), <=, 20);
    }
  g_assert_cmpuint (ep_dht_storage_n_peers (storage), ==, 20);
  peers = ep_dht_storage_get_peers (storage, hot, G_SOCKET_FAMILY_IPV4, 100, 10000);
  g_assert_cmpuint (peers->len, ==, 20);
  for (guint i = 0; i < peers->len; i++)
    {
      const guint8 *p = g_bytes_get_data (peers->pdata[i], NULL);
      guint32 n = (p[1] << 16) | (p[2] << 8) | p[3];

      g_assert_cmpuint (n, >=, 9980);
    }

  /* 10 000 infohashes: at most 50 swarms, the least recently announced go. */
  for (guint32 i = 0; i < 10000; i++)
    {
      static const guint8 compact[6] = { 192, 0, 2, 1, 0, 1 };

      infohash[0] = i >> 8;
      infohash[1] = i;
      ep_dht_storage_announce (storage, infohash, compact, 6, 10000 + i);
      g_assert_cmpuint (ep_dht_storage_n_peers (storage), <=, 50 * 20);
    }
  g_assert_cmpuint (ep_dht_storage_n_peers (storage), ==, 50);
  g_clear_pointer (&peers, g_ptr_array_unref);
  peers = ep_dht_storage_get_peers (storage, hot, G_SOCKET_FAMILY_IPV4, 100, 20000);
  g_assert_cmpuint (peers->len, ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/dht-storage/immutable", test_dht_storage_immutable);
  g_test_add_func ("/ep/dht-storage/mutable-seq", test_dht_storage_mutable_seq);
  g_test_add_func ("/ep/dht-storage/cas", test_dht_storage_cas);
  g_test_add_func ("/ep/dht-storage/sizes", test_dht_storage_sizes);
  g_test_add_func ("/ep/dht-storage/bad-signature", test_dht_storage_bad_signature);
  g_test_add_func ("/ep/dht-storage/item-expiry", test_dht_storage_item_expiry);
  g_test_add_func ("/ep/dht-storage/items-bounded", test_dht_storage_items_bounded);
  g_test_add_func ("/ep/dht-storage/peers", test_dht_storage_peers);
  g_test_add_func ("/ep/dht-storage/peers-sample", test_dht_storage_peers_sample);
  g_test_add_func ("/ep/dht-storage/peers-bounded", test_dht_storage_peers_bounded);

  return g_test_run ();
}
