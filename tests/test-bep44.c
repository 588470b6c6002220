/* test-bep44.c
 *
 * The vectors are the "test vectors" section of BEP 44. Its private key is
 * given in the expanded form (clamped scalar ‖ nonce prefix, as the
 * ed25519 library of the reference implementation stores it), not as a
 * libsodium seed, so the spec signature is reproduced here with libsodium's
 * low-level primitives over the signed string this module builds, and
 * verified with the spec's public key.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <sodium.h>
#include <string.h>

#include "ep-core.h"

#define VALUE "12:Hello World!"
#define PUBLIC_KEY "77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548"
#define PRIVATE_KEY "e06d3183d14159228433ed599221b80bd0a5ce8352e4bdf0262f76786ef1c74d" \
                    "b7e7a9fea2c0eb269d61e3b38e450a22e754941ac78479d6c54e1faf6037881d"

static void
unhex (const char *hex,
       guint8     *out,
       gsize       len)
{
  gsize bin_len = 0;

  g_assert_cmpuint (strlen (hex), ==, 2 * len);
  g_assert_cmpint (sodium_hex2bin (out, len, hex, strlen (hex), NULL, &bin_len, NULL), ==, 0);
  g_assert_cmpuint (bin_len, ==, len);
}

static void
assert_hex (const guint8 *bytes,
            gsize         len,
            const char   *expected)
{
  g_autofree char *hex = g_malloc (2 * len + 1);

  sodium_bin2hex (hex, 2 * len + 1, bytes, len);
  g_assert_cmpstr (hex, ==, expected);
}

/* Ed25519 signing with an expanded secret key (RFC 8032 §5.1.6 from step 2). */
static void
sign_expanded (const guint8  expanded[64],
               const guint8  pk[32],
               const guint8 *message,
               gsize         len,
               guint8        sig[64])
{
  crypto_hash_sha512_state state;
  guint8 hash[64], r[32], h[32], ha[32];

  crypto_hash_sha512_init (&state);
  crypto_hash_sha512_update (&state, expanded + 32, 32);
  crypto_hash_sha512_update (&state, message, len);
  crypto_hash_sha512_final (&state, hash);
  crypto_core_ed25519_scalar_reduce (r, hash);
  g_assert_cmpint (crypto_scalarmult_ed25519_base_noclamp (sig, r), ==, 0);

  crypto_hash_sha512_init (&state);
  crypto_hash_sha512_update (&state, sig, 32);
  crypto_hash_sha512_update (&state, pk, 32);
  crypto_hash_sha512_update (&state, message, len);
  crypto_hash_sha512_final (&state, hash);
  crypto_core_ed25519_scalar_reduce (h, hash);

  crypto_core_ed25519_scalar_mul (ha, h, expanded);
  crypto_core_ed25519_scalar_add (sig + 32, r, ha);
}

static void
test_bep44_immutable_vector (void)
{
  guint8 target[20];

  ep_bep44_immutable_target ((const guint8 *) VALUE, strlen (VALUE), target);
  assert_hex (target, 20, "e5f96f6f38320f0f33959cb4d3d656452117aadb");
}

typedef struct
{
  const char *salt;
  const char *signed_string;
  const char *target;
  const char *signature;
} MutableVector;

static const MutableVector mutable_vectors[] = {
  {
    "",
    "3:seqi1e1:v12:Hello World!",
    "4a533d47ec9c7d95b1ad75f576cffc641853b750",
    "305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff"
    "1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01",
  },
  {
    "foobar",
    "4:salt6:foobar3:seqi1e1:v12:Hello World!",
    "411eba73b6f087ca51a3795d9c8c938d365e32c1",
    "6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d"
    "df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08",
  },
};

static void
test_bep44_mutable_vectors (void)
{
  guint8 pk[32], expanded[64], derived_pk[32];

  unhex (PUBLIC_KEY, pk, sizeof pk);
  unhex (PRIVATE_KEY, expanded, sizeof expanded);

  /* The spec's key pair is consistent. */
  g_assert_cmpint (crypto_scalarmult_ed25519_base_noclamp (derived_pk, expanded), ==, 0);
  g_assert_cmpmem (derived_pk, 32, pk, 32);

  for (guint i = 0; i < G_N_ELEMENTS (mutable_vectors); i++)
    {
      const MutableVector *vec = &mutable_vectors[i];
      const guint8 *salt = (const guint8 *) vec->salt;
      gsize salt_len = strlen (vec->salt);
      g_autoptr(GByteArray) message = NULL;
      guint8 target[20], expected_sig[64], sig[64];

      message = ep_bep44_signed_string (salt_len > 0 ? salt : NULL, salt_len, 1,
                                        (const guint8 *) VALUE, strlen (VALUE));
      g_assert_cmpmem (message->data, message->len, vec->signed_string, strlen (vec->signed_string));

      ep_bep44_mutable_target (pk, salt, salt_len, target);
      assert_hex (target, 20, vec->target);

      unhex (vec->signature, expected_sig, sizeof expected_sig);
      sign_expanded (expanded, pk, message->data, message->len, sig);
      g_assert_cmpmem (sig, 64, expected_sig, 64);

      g_assert_true (ep_bep44_verify (pk, expected_sig, salt, salt_len, 1,
                                      (const guint8 *) VALUE, strlen (VALUE)));
      /* Each signature is bound to its own salt. */
      g_assert_false (ep_bep44_verify (pk, expected_sig, (const guint8 *) "foobaz",
                                       i == 0 ? 6 : 0, 1, (const guint8 *) VALUE, strlen (VALUE)));
    }
}

static void
test_bep44_signed_string (void)
{
  g_autoptr(GByteArray) a = ep_bep44_signed_string (NULL, 0, -5, (const guint8 *) "i7e", 3);
  g_autoptr(GByteArray) b = ep_bep44_signed_string ((const guint8 *) "\0x", 2, G_MAXINT64,
                                                    (const guint8 *) "le", 2);
  g_autoptr(GByteArray) c = ep_bep44_signed_string (NULL, 0, G_MININT64, NULL, 0);

  g_assert_cmpmem (a->data, a->len, "3:seqi-5e1:vi7e", 15);
  g_assert_cmpmem (b->data, b->len, "4:salt2:\0x3:seqi9223372036854775807e1:vle", 41);
  g_assert_cmpmem (c->data, c->len, "3:seqi-9223372036854775808e1:v", 30);
}

static void
test_bep44_round_trip (void)
{
  guint8 seed[32], pk[32], sk[64], sig[64], bad_sig[64];
  const guint8 *salt = (const guint8 *) "ep1";
  const guint8 *v = (const guint8 *) "d1:ai1ee";
  gsize v_len = 8;
  guint8 bad_v[8];

  /* A seed-derived libsodium key. */
  memset (seed, 0x42, sizeof seed);
  crypto_sign_seed_keypair (pk, sk, seed);

  ep_bep44_sign (sk, salt, 3, 7, v, v_len, sig);
  g_assert_true (ep_bep44_verify (pk, sig, salt, 3, 7, v, v_len));

  /* Deterministic. */
  {
    guint8 again[64];
    ep_bep44_sign (sk, salt, 3, 7, v, v_len, again);
    g_assert_cmpmem (again, 64, sig, 64);
  }

  /* Every bit of the signature matters. */
  for (guint bit = 0; bit < 512; bit++)
    {
      memcpy (bad_sig, sig, 64);
      bad_sig[bit / 8] ^= 1 << (bit % 8);
      g_assert_false (ep_bep44_verify (pk, bad_sig, salt, 3, 7, v, v_len));
    }

  /* …and every bit of v. */
  for (guint bit = 0; bit < 8 * v_len; bit++)
    {
      memcpy (bad_v, v, v_len);
      bad_v[bit / 8] ^= 1 << (bit % 8);
      g_assert_false (ep_bep44_verify (pk, sig, salt, 3, 7, bad_v, v_len));
    }

  g_assert_false (ep_bep44_verify (pk, sig, salt, 3, 8, v, v_len));
  g_assert_false (ep_bep44_verify (pk, sig, salt, 3, 6, v, v_len));
  g_assert_false (ep_bep44_verify (pk, sig, salt, 2, 7, v, v_len));
  g_assert_false (ep_bep44_verify (pk, sig, (const guint8 *) "ep2", 3, 7, v, v_len));
  g_assert_false (ep_bep44_verify (pk, sig, NULL, 0, 7, v, v_len));
  g_assert_false (ep_bep44_verify (pk, sig, salt, 3, 7, v, v_len - 1));

  /* Someone else's key. */
  {
    guint8 other_pk[32], other_sk[64];
    crypto_sign_keypair (other_pk, other_sk);
    g_assert_false (ep_bep44_verify (other_pk, sig, salt, 3, 7, v, v_len));
  }

  /* Without salt. */
  ep_bep44_sign (sk, NULL, 0, 0, v, v_len, sig);
  g_assert_true (ep_bep44_verify (pk, sig, NULL, 0, 0, v, v_len));
  g_assert_false (ep_bep44_verify (pk, sig, salt, 3, 0, v, v_len));
}

static void
test_bep44_targets (void)
{
  guint8 pk[32], t1[20], t2[20], t3[20];

  memset (pk, 7, sizeof pk);
  ep_bep44_mutable_target (pk, NULL, 0, t1);
  ep_bep44_mutable_target (pk, (const guint8 *) "", 0, t2);
  g_assert_cmpmem (t1, 20, t2, 20);
  ep_bep44_mutable_target (pk, (const guint8 *) "a", 1, t3);
  g_assert_false (memcmp (t1, t3, 20) == 0);

  /* SHA-1 of the empty string. */
  ep_bep44_immutable_target (NULL, 0, t1);
  assert_hex (t1, 20, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

int
main (int    argc,
      char **argv)
{
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/bep44/immutable-vector", test_bep44_immutable_vector);
  g_test_add_func ("/ep/bep44/mutable-vectors", test_bep44_mutable_vectors);
  g_test_add_func ("/ep/bep44/signed-string", test_bep44_signed_string);
  g_test_add_func ("/ep/bep44/round-trip", test_bep44_round_trip);
  g_test_add_func ("/ep/bep44/targets", test_bep44_targets);

  return g_test_run ();
}
