/* fuzz-bep44-put.c — BEP 44 put arguments through the parser into the store
 *
 * The input is a bencoded dictionary shaped like the "a" of a put query
 * (cas, k, salt, seq, sig, v), or a list of them applied in order to one
 * fresh store. Without seq the put is immutable. With seq but without sig
 * the harness signs with a fixed key, so that the cas/seq rules are
 * reached, which a fuzzer could never do by forging signatures. An extra
 * integer "t" advances the clock by that many seconds (clamped), so expiry
 * is exercised too.
 *
 * Invariants, abort() on violation: only the BEP 44 codes come back; a
 * stored item reads back with the exact value, its target, and a valid
 * signature; a refused put leaves the item as it was; a live item's seq
 * never goes down; the store never holds more than its bound.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ep-core.h"

#define MAX_ITEMS 4

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static guint8 fixed_pk[32];
static guint8 fixed_sk[64];

static void
init_once (void)
{
  static gboolean done = FALSE;
  guint8 seed[32] = { 0 };

  if (done)
    return;
  if (sodium_init () < 0)
    abort ();
  crypto_sign_seed_keypair (fixed_pk, fixed_sk, seed);
  done = TRUE;
}

typedef struct
{
  gboolean present;
  gint64   seq;
  gsize    v_len;
  guint8   v[EP_BEP44_MAX_V];
  gint64   last_put;
} Snapshot;

static void
snapshot (EpDhtStorage *storage,
          const guint8  target[20],
          gint64        now,
          Snapshot     *snap)
{
  const EpDhtItem *item = ep_dht_storage_get (storage, target, now);

  memset (snap, 0, sizeof *snap);
  if (item == NULL)
    return;
  if (item->v_len > EP_BEP44_MAX_V)
    abort ();
  snap->present = TRUE;
  snap->seq = item->seq;
  snap->v_len = item->v_len;
  memcpy (snap->v, item->v, item->v_len);
  snap->last_put = item->last_put;
}

static void
check_stored (EpDhtStorage *storage,
              const guint8  target[20],
              gint64        now,
              const guint8 *v,
              gsize         v_len,
              gboolean      is_mutable,
              gint64        seq)
{
  const EpDhtItem *item = ep_dht_storage_get (storage, target, now);
  guint8 expected[20];

  if (item == NULL || item->is_mutable != is_mutable || item->last_put != now)
    abort ();
  if (item->v_len != v_len || memcmp (item->v, v, v_len) != 0)
    abort ();
  if (memcmp (item->target, target, 20) != 0)
    abort ();

  if (is_mutable)
    {
      if (item->seq != seq)
        abort ();
      ep_bep44_mutable_target (item->k, item->salt, item->salt_len, expected);
      if (memcmp (expected, target, 20) != 0)
        abort ();
      if (!ep_bep44_verify (item->k, item->sig, item->salt, item->salt_len, item->seq,
                            item->v, item->v_len))
        abort ();
    }
  else
    {
      ep_bep44_immutable_target (item->v, item->v_len, expected);
      if (memcmp (expected, target, 20) != 0)
        abort ();
    }
}

static void
apply_put (EpDhtStorage *storage,
           const EpBenc *args,
           gint64       *now)
{
  const guint8 *v, *k, *sig, *salt;
  gsize v_len, k_len = 0, sig_len = 0, salt_len = 0;
  gint64 seq, cas = 0, dt;
  gboolean has_cas;
  guint8 target[20], own_sig[64];
  const char *message = NULL;
  Snapshot before;
  int code;

  if (ep_benc_dict_get_int (args, "t", &dt))
    *now += CLAMP (dt, 0, 24 * 60 * 60);

  /* v is whatever value is there, by its raw bytes, as the DHT does. */
  v = ep_benc_raw (ep_benc_dict_lookup (args, "v"), &v_len);
  if (v == NULL)
    return;

  if (!ep_benc_dict_get_int (args, "seq", &seq))
    {
      ep_bep44_immutable_target (v, v_len, target);
      code = ep_dht_storage_put_immutable (storage, v, v_len, *now, &message);
      if (code == 0 && v_len > EP_BEP44_MAX_V)
        abort ();
      if (code == 0)
        check_stored (storage, target, *now, v, v_len, FALSE, 0);
      else if (code != 205 || v_len <= EP_BEP44_MAX_V || message == NULL)
        abort ();
      return;
    }

  has_cas = ep_benc_dict_get_int (args, "cas", &cas);
  salt = ep_benc_dict_get_bytes (args, "salt", &salt_len);
  sig = ep_benc_dict_get_bytes (args, "sig", &sig_len);
  if (sig != NULL)
    {
      k = ep_benc_dict_get_bytes (args, "k", &k_len);
      if (k == NULL || k_len != 32 || sig_len != 64)
        return;
    }
  else
    {
      k = fixed_pk;
      if (v_len <= EP_BEP44_MAX_V && salt_len <= EP_BEP44_MAX_SALT)
        ep_bep44_sign (fixed_sk, salt, salt_len, seq, v, v_len, own_sig);
      else
        memset (own_sig, 0, sizeof own_sig);
      sig = own_sig;
    }

  ep_bep44_mutable_target (k, salt, salt_len, target);
  snapshot (storage, target, *now, &before);

  code = ep_dht_storage_put_mutable (storage, k, salt, salt_len, seq, sig, v, v_len,
                                     has_cas, cas, *now, &message);
  switch (code)
    {
    case 0:
      if (v_len > EP_BEP44_MAX_V || salt_len > EP_BEP44_MAX_SALT)
        abort ();
      check_stored (storage, target, *now, v, v_len, TRUE, seq);
      if (before.present && seq < before.seq)
        abort ();
      if (before.present && has_cas && cas != before.seq)
        abort ();
      if (before.present && seq == before.seq
          && (v_len != before.v_len || memcmp (v, before.v, v_len) != 0))
        abort ();
      return;
    case 205:
      if (v_len <= EP_BEP44_MAX_V)
        abort ();
      break;
    case 207:
      if (salt_len <= EP_BEP44_MAX_SALT || v_len > EP_BEP44_MAX_V)
        abort ();
      break;
    case 206:
      if (sig == own_sig)
        abort ();
      break;
    case 301:
      if (!before.present || !has_cas || cas == before.seq)
        abort ();
      break;
    case 302:
      if (!before.present || seq > before.seq)
        abort ();
      break;
    default:
      abort ();
    }

  /* Refused: whatever was there is untouched. */
  {
    Snapshot after;

    if (message == NULL)
      abort ();
    snapshot (storage, target, *now, &after);
    if (after.present != before.present || after.seq != before.seq
        || after.v_len != before.v_len || memcmp (after.v, before.v, after.v_len) != 0
        || after.last_put != before.last_put)
      abort ();
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(EpBencDoc) doc = NULL;
  g_autoptr(EpDhtStorage) storage = NULL;
  const EpBenc *root;
  gint64 now = 1000;

  init_once ();

  doc = ep_benc_doc_parse (data, size, NULL, NULL);
  if (doc == NULL)
    return 0;

  storage = ep_dht_storage_new (MAX_ITEMS, 4, 4);
  root = ep_benc_doc_root (doc);

  if (ep_benc_type (root) == EP_BENC_DICT)
    apply_put (storage, root, &now);
  else if (ep_benc_type (root) == EP_BENC_LIST)
    for (guint i = 0; i < ep_benc_list_length (root) && i < 64; i++)
      {
        apply_put (storage, ep_benc_list_nth (root, i), &now);
        if (ep_dht_storage_n_items (storage) > MAX_ITEMS)
          abort ();
      }

  ep_dht_storage_expire (storage, now + EP_DHT_STORAGE_ITEM_LIFETIME);
  if (ep_dht_storage_n_items (storage) != 0)
    abort ();

  return 0;
}
