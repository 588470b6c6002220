/* ep-noise.c — Noise_XX_25519_ChaChaPoly_BLAKE2b, a small handshake state machine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-noise.h"

#define BLOCK_LEN 128

/* The nonce 2^64-1 is reserved by the spec (§5.1). */
#define NONCE_MAX G_MAXUINT64

struct _EpNoiseHandshake
{
  EpNoiseRole    role;
  guint          index;       /* the next message of the pattern, 0..3 */
  gboolean       failed;

  EpNoiseCipher  cs;
  guint8         ck[EP_NOISE_HASH_LEN];
  guint8         h[EP_NOISE_HASH_LEN];

  guint8         s_sk[EP_NOISE_DH_LEN];
  guint8         s_pk[EP_NOISE_DH_LEN];
  guint8         e_sk[EP_NOISE_DH_LEN];
  guint8         e_pk[EP_NOISE_DH_LEN];
  gboolean       has_e;
  guint8         rs[EP_NOISE_DH_LEN];
  gboolean       has_rs;
  guint8         re[EP_NOISE_DH_LEN];
  gboolean       has_re;
};

G_DEFINE_QUARK (ep-noise-error-quark, ep_noise_error)

static void
make_nonce (guint64  n,
            guint8  *nonce)
{
  memset (nonce, 0, 4);
  for (guint i = 0; i < 8; i++)
    nonce[4 + i] = (guint8) (n >> (8 * i));
}

/* CipherState ----------------------------------------------------------- */

void
ep_noise_cipher_init (EpNoiseCipher *cipher,
                      const guint8  *key)
{
  memcpy (cipher->k, key, EP_NOISE_KEY_LEN);
  cipher->n = 0;
  cipher->has_key = TRUE;
}

void
ep_noise_cipher_clear (EpNoiseCipher *cipher)
{
  sodium_memzero (cipher, sizeof *cipher);
}

/**
 * ep_noise_cipher_encrypt_nonce:
 * @out: room for @len + %EP_NOISE_TAG_LEN bytes; may be @plaintext
 *
 * ENCRYPT(k, nonce, ad, plaintext) with an explicit nonce, for transport
 * packets that carry their counter.
 */
void
ep_noise_cipher_encrypt_nonce (const EpNoiseCipher *cipher,
                               guint64              nonce,
                               const guint8        *ad,
                               gsize                ad_len,
                               const guint8        *plaintext,
                               gsize                len,
                               guint8              *out)
{
  guint8 npub[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

  make_nonce (nonce, npub);
  crypto_aead_chacha20poly1305_ietf_encrypt (out, NULL, plaintext, len, ad, ad_len,
                                             NULL, npub, cipher->k);
}

/**
 * ep_noise_cipher_decrypt_nonce:
 * @len: the ciphertext length, tag included
 * @out: room for @len - %EP_NOISE_TAG_LEN bytes
 *
 * Returns: %TRUE if the ciphertext is authentic
 */
gboolean
ep_noise_cipher_decrypt_nonce (const EpNoiseCipher *cipher,
                               guint64              nonce,
                               const guint8        *ad,
                               gsize                ad_len,
                               const guint8        *ciphertext,
                               gsize                len,
                               guint8              *out)
{
  guint8 npub[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

  if (len < EP_NOISE_TAG_LEN)
    return FALSE;

  make_nonce (nonce, npub);
  return crypto_aead_chacha20poly1305_ietf_decrypt (out, NULL, NULL, ciphertext, len,
                                                    ad, ad_len, npub, cipher->k) == 0;
}

/**
 * ep_noise_cipher_encrypt:
 * @out: room for @len bytes, plus %EP_NOISE_TAG_LEN if the cipher has a key
 *
 * EncryptWithAd(): without a key the plaintext is copied unchanged.
 */
gboolean
ep_noise_cipher_encrypt (EpNoiseCipher  *cipher,
                         const guint8   *ad,
                         gsize           ad_len,
                         const guint8   *plaintext,
                         gsize           len,
                         guint8         *out,
                         GError        **error)
{
  if (!cipher->has_key)
    {
      if (len > 0)
        memmove (out, plaintext, len);
      return TRUE;
    }

  if (cipher->n == NONCE_MAX)
    {
      g_set_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_NONCE,
                   _("The session has used up its keys"));
      return FALSE;
    }

  ep_noise_cipher_encrypt_nonce (cipher, cipher->n, ad, ad_len, plaintext, len, out);
  cipher->n++;
  return TRUE;
}

/**
 * ep_noise_cipher_decrypt:
 * @len: the ciphertext length, tag included when the cipher has a key
 *
 * DecryptWithAd(): on failure the nonce does not advance.
 */
gboolean
ep_noise_cipher_decrypt (EpNoiseCipher  *cipher,
                         const guint8   *ad,
                         gsize           ad_len,
                         const guint8   *ciphertext,
                         gsize           len,
                         guint8         *out,
                         GError        **error)
{
  if (!cipher->has_key)
    {
      if (len > 0)
        memmove (out, ciphertext, len);
      return TRUE;
    }

  if (cipher->n == NONCE_MAX)
    {
      g_set_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_NONCE,
                   _("The session has used up its keys"));
      return FALSE;
    }

  if (!ep_noise_cipher_decrypt_nonce (cipher, cipher->n, ad, ad_len, ciphertext, len, out))
    {
      g_set_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_DECRYPT,
                   _("A message failed authentication"));
      return FALSE;
    }

  cipher->n++;
  return TRUE;
}

/* HMAC-BLAKE2b and HKDF -------------------------------------------------- */

/**
 * ep_noise_hmac:
 * @key: at most 128 bytes
 * @out: %EP_NOISE_HASH_LEN bytes
 *
 * HMAC per RFC 2104 over plain BLAKE2b-512 (not BLAKE2b's keyed mode, which
 * is what Noise requires).
 */
void
ep_noise_hmac (const guint8 *key,
               gsize         key_len,
               const guint8 *data,
               gsize         len,
               guint8       *out)
{
  crypto_generichash_blake2b_state state;
  guint8 block[BLOCK_LEN];
  guint8 inner[EP_NOISE_HASH_LEN];

  g_assert (key_len <= BLOCK_LEN);

  memset (block, 0, sizeof block);
  memcpy (block, key, key_len);
  for (guint i = 0; i < BLOCK_LEN; i++)
    block[i] ^= 0x36;
  crypto_generichash_blake2b_init (&state, NULL, 0, EP_NOISE_HASH_LEN);
  crypto_generichash_blake2b_update (&state, block, sizeof block);
  crypto_generichash_blake2b_update (&state, data, len);
  crypto_generichash_blake2b_final (&state, inner, sizeof inner);

  for (guint i = 0; i < BLOCK_LEN; i++)
    block[i] ^= 0x36 ^ 0x5c;
  crypto_generichash_blake2b_init (&state, NULL, 0, EP_NOISE_HASH_LEN);
  crypto_generichash_blake2b_update (&state, block, sizeof block);
  crypto_generichash_blake2b_update (&state, inner, sizeof inner);
  crypto_generichash_blake2b_final (&state, out, EP_NOISE_HASH_LEN);

  sodium_memzero (block, sizeof block);
  sodium_memzero (inner, sizeof inner);
  sodium_memzero (&state, sizeof state);
}

/**
 * ep_noise_hkdf:
 * @chaining_key: %EP_NOISE_HASH_LEN bytes
 * @out1: %EP_NOISE_HASH_LEN bytes
 * @out2: (nullable): %EP_NOISE_HASH_LEN bytes
 * @out3: (nullable): %EP_NOISE_HASH_LEN bytes
 *
 * HKDF() of Noise §4.3.
 */
void
ep_noise_hkdf (const guint8 *chaining_key,
               const guint8 *ikm,
               gsize         ikm_len,
               guint8       *out1,
               guint8       *out2,
               guint8       *out3)
{
  guint8 temp[EP_NOISE_HASH_LEN];
  guint8 buf[EP_NOISE_HASH_LEN + 1];
  guint8 o1[EP_NOISE_HASH_LEN];
  guint8 o2[EP_NOISE_HASH_LEN];

  ep_noise_hmac (chaining_key, EP_NOISE_HASH_LEN, ikm, ikm_len, temp);

  buf[0] = 0x01;
  ep_noise_hmac (temp, sizeof temp, buf, 1, o1);

  memcpy (buf, o1, EP_NOISE_HASH_LEN);
  buf[EP_NOISE_HASH_LEN] = 0x02;
  ep_noise_hmac (temp, sizeof temp, buf, sizeof buf, o2);

  if (out3 != NULL)
    {
      memcpy (buf, o2, EP_NOISE_HASH_LEN);
      buf[EP_NOISE_HASH_LEN] = 0x03;
      ep_noise_hmac (temp, sizeof temp, buf, sizeof buf, out3);
    }

  memcpy (out1, o1, EP_NOISE_HASH_LEN);
  if (out2 != NULL)
    memcpy (out2, o2, EP_NOISE_HASH_LEN);

  sodium_memzero (temp, sizeof temp);
  sodium_memzero (buf, sizeof buf);
  sodium_memzero (o1, sizeof o1);
  sodium_memzero (o2, sizeof o2);
}

/* SymmetricState --------------------------------------------------------- */

static void
mix_hash (EpNoiseHandshake *hs,
          const guint8     *data,
          gsize             len)
{
  crypto_generichash_blake2b_state state;

  crypto_generichash_blake2b_init (&state, NULL, 0, EP_NOISE_HASH_LEN);
  crypto_generichash_blake2b_update (&state, hs->h, sizeof hs->h);
  crypto_generichash_blake2b_update (&state, data, len);
  crypto_generichash_blake2b_final (&state, hs->h, sizeof hs->h);
}

static void
mix_key (EpNoiseHandshake *hs,
         const guint8     *ikm,
         gsize             len)
{
  guint8 temp_k[EP_NOISE_HASH_LEN];

  ep_noise_hkdf (hs->ck, ikm, len, hs->ck, temp_k, NULL);
  /* HASHLEN 64: the key is the first 32 bytes. */
  ep_noise_cipher_init (&hs->cs, temp_k);
  sodium_memzero (temp_k, sizeof temp_k);
}

static gboolean
encrypt_and_hash (EpNoiseHandshake  *hs,
                  const guint8      *plaintext,
                  gsize              len,
                  guint8            *out,
                  gsize             *out_len,
                  GError           **error)
{
  if (!ep_noise_cipher_encrypt (&hs->cs, hs->h, sizeof hs->h, plaintext, len, out, error))
    return FALSE;
  *out_len = len + (hs->cs.has_key ? EP_NOISE_TAG_LEN : 0);
  mix_hash (hs, out, *out_len);
  return TRUE;
}

static gboolean
decrypt_and_hash (EpNoiseHandshake  *hs,
                  const guint8      *ciphertext,
                  gsize              len,
                  guint8            *out,
                  GError           **error)
{
  guint8 h[EP_NOISE_HASH_LEN];

  /* The hash covers the ciphertext; keep h for the AD before mixing. */
  memcpy (h, hs->h, sizeof h);
  mix_hash (hs, ciphertext, len);
  return ep_noise_cipher_decrypt (&hs->cs, h, sizeof h, ciphertext, len, out, error);
}

static gboolean
dh (const guint8  *secret,
    const guint8  *public,
    guint8        *out,
    GError       **error)
{
  if (crypto_scalarmult (out, secret, public) != 0)
    {
      g_set_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_DH,
                   _("The peer sent an invalid public key"));
      return FALSE;
    }
  return TRUE;
}

static gboolean
mix_dh (EpNoiseHandshake  *hs,
        const guint8      *secret,
        const guint8      *public,
        GError           **error)
{
  guint8 shared[EP_NOISE_DH_LEN];
  gboolean ok;

  ok = dh (secret, public, shared, error);
  if (ok)
    mix_key (hs, shared, sizeof shared);
  sodium_memzero (shared, sizeof shared);
  return ok;
}

/* HandshakeState --------------------------------------------------------- */

/**
 * ep_noise_handshake_new:
 * @role: which side we are
 * @prologue: (nullable): bytes both sides must agree on
 * @static_secret: our X25519 static secret key, 32 bytes
 *
 * Returns: (transfer full): a handshake for the XX pattern
 */
EpNoiseHandshake *
ep_noise_handshake_new (EpNoiseRole   role,
                        const guint8 *prologue,
                        gsize         prologue_len,
                        const guint8 *static_secret)
{
  EpNoiseHandshake *hs = g_new0 (EpNoiseHandshake, 1);
  const char *name = EP_NOISE_PROTOCOL_NAME;

  G_STATIC_ASSERT (sizeof EP_NOISE_PROTOCOL_NAME - 1 <= EP_NOISE_HASH_LEN);

  if (sodium_init () < 0)
    g_error ("libsodium failed to initialise");

  hs->role = role;
  memcpy (hs->h, name, strlen (name));
  memcpy (hs->ck, hs->h, sizeof hs->ck);
  mix_hash (hs, prologue, prologue != NULL ? prologue_len : 0);

  memcpy (hs->s_sk, static_secret, sizeof hs->s_sk);
  crypto_scalarmult_base (hs->s_pk, hs->s_sk);

  return hs;
}

EpNoiseHandshake *
ep_noise_handshake_copy (const EpNoiseHandshake *hs)
{
  EpNoiseHandshake *copy = g_new (EpNoiseHandshake, 1);

  memcpy (copy, hs, sizeof *copy);
  return copy;
}

void
ep_noise_handshake_free (EpNoiseHandshake *hs)
{
  if (hs == NULL)
    return;
  sodium_memzero (hs, sizeof *hs);
  g_free (hs);
}

/**
 * ep_noise_handshake_set_ephemeral:
 * @ephemeral_secret: 32 bytes
 *
 * Fixes the ephemeral key instead of generating one. Only the test vectors
 * need this: a fixed ephemeral key destroys forward secrecy.
 */
void
ep_noise_handshake_set_ephemeral (EpNoiseHandshake *hs,
                                  const guint8     *ephemeral_secret)
{
  memcpy (hs->e_sk, ephemeral_secret, sizeof hs->e_sk);
  crypto_scalarmult_base (hs->e_pk, hs->e_sk);
  hs->has_e = TRUE;
}

EpNoiseRole
ep_noise_handshake_get_role (const EpNoiseHandshake *hs)
{
  return hs->role;
}

gboolean
ep_noise_handshake_is_finished (const EpNoiseHandshake *hs)
{
  return hs->index >= 3 && !hs->failed;
}

gboolean
ep_noise_handshake_is_my_turn (const EpNoiseHandshake *hs)
{
  if (hs->index >= 3 || hs->failed)
    return FALSE;
  return (hs->index % 2 == 0) == (hs->role == EP_NOISE_ROLE_INITIATOR);
}

guint
ep_noise_handshake_get_message_index (const EpNoiseHandshake *hs)
{
  return hs->index;
}

/**
 * ep_noise_handshake_get_overhead:
 *
 * Returns: how many bytes the next message adds to its payload
 */
gsize
ep_noise_handshake_get_overhead (const EpNoiseHandshake *hs)
{
  switch (hs->index)
    {
    case 0:
      return EP_NOISE_DH_LEN;
    case 1:
      return EP_NOISE_DH_LEN + EP_NOISE_DH_LEN + EP_NOISE_TAG_LEN + EP_NOISE_TAG_LEN;
    case 2:
      return EP_NOISE_DH_LEN + EP_NOISE_TAG_LEN + EP_NOISE_TAG_LEN;
    default:
      return 0;
    }
}

const guint8 *
ep_noise_handshake_get_local_static (const EpNoiseHandshake *hs)
{
  return hs->s_pk;
}

const guint8 *
ep_noise_handshake_get_remote_static (const EpNoiseHandshake *hs)
{
  return hs->has_rs ? hs->rs : NULL;
}

const guint8 *
ep_noise_handshake_get_local_ephemeral (const EpNoiseHandshake *hs)
{
  return hs->has_e ? hs->e_pk : NULL;
}

/**
 * ep_noise_handshake_get_hash:
 *
 * Returns: the handshake hash h, %EP_NOISE_HASH_LEN bytes; a channel
 *   binding once the handshake is finished
 */
const guint8 *
ep_noise_handshake_get_hash (const EpNoiseHandshake *hs)
{
  return hs->h;
}

static void
ensure_ephemeral (EpNoiseHandshake *hs)
{
  if (!hs->has_e)
    {
      randombytes_buf (hs->e_sk, sizeof hs->e_sk);
      crypto_scalarmult_base (hs->e_pk, hs->e_sk);
      hs->has_e = TRUE;
    }
}

/**
 * ep_noise_handshake_write_message:
 * @out: where the message goes
 * @out_size: room in @out; needs the payload plus
 *   ep_noise_handshake_get_overhead()
 * @out_len: (out): the message length
 *
 * WriteMessage() for the next message of XX: `e`, `e, ee, s, es` or
 * `s, se`, then the payload. A failure leaves the handshake unusable.
 */
gboolean
ep_noise_handshake_write_message (EpNoiseHandshake  *hs,
                                  const guint8      *payload,
                                  gsize              payload_len,
                                  guint8            *out,
                                  gsize              out_size,
                                  gsize             *out_len,
                                  GError           **error)
{
  gsize pos = 0;
  gsize n;

  if (!ep_noise_handshake_is_my_turn (hs))
    {
      g_set_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_STATE,
                   _("It is not our turn in the handshake"));
      return FALSE;
    }

  if (payload_len > EP_NOISE_MAX_MESSAGE - ep_noise_handshake_get_overhead (hs)
      || payload_len + ep_noise_handshake_get_overhead (hs) > out_size)
    {
      g_set_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_FORMAT,
                   _("A handshake message is too large"));
      return FALSE;
    }

  switch (hs->index)
    {
    case 0:   /* -> e */
      ensure_ephemeral (hs);
      memcpy (out, hs->e_pk, EP_NOISE_DH_LEN);
      mix_hash (hs, hs->e_pk, EP_NOISE_DH_LEN);
      pos = EP_NOISE_DH_LEN;
      break;

    case 1:   /* <- e, ee, s, es */
      ensure_ephemeral (hs);
      memcpy (out, hs->e_pk, EP_NOISE_DH_LEN);
      mix_hash (hs, hs->e_pk, EP_NOISE_DH_LEN);
      pos = EP_NOISE_DH_LEN;
      if (!mix_dh (hs, hs->e_sk, hs->re, error)
          || !encrypt_and_hash (hs, hs->s_pk, EP_NOISE_DH_LEN, out + pos, &n, error))
        goto fail;
      pos += n;
      if (!mix_dh (hs, hs->s_sk, hs->re, error))
        goto fail;
      break;

    case 2:   /* -> s, se */
      if (!encrypt_and_hash (hs, hs->s_pk, EP_NOISE_DH_LEN, out, &n, error))
        goto fail;
      pos = n;
      if (!mix_dh (hs, hs->s_sk, hs->re, error))
        goto fail;
      break;

    default:
      g_assert_not_reached ();
    }

  if (!encrypt_and_hash (hs, payload, payload_len, out + pos, &n, error))
    goto fail;

  *out_len = pos + n;
  hs->index++;
  return TRUE;

fail:
  hs->failed = TRUE;
  return FALSE;
}

static gboolean
read_message (EpNoiseHandshake  *hs,
              const guint8      *message,
              gsize              len,
              guint8            *payload,
              gsize             *payload_len,
              GError           **error)
{
  gsize pos = 0;
  gsize rest;

  if (len < ep_noise_handshake_get_overhead (hs))
    {
      g_set_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_FORMAT,
                   _("A handshake message is too short"));
      return FALSE;
    }

  switch (hs->index)
    {
    case 0:   /* -> e */
      memcpy (hs->re, message, EP_NOISE_DH_LEN);
      hs->has_re = TRUE;
      mix_hash (hs, hs->re, EP_NOISE_DH_LEN);
      pos = EP_NOISE_DH_LEN;
      break;

    case 1:   /* <- e, ee, s, es */
      memcpy (hs->re, message, EP_NOISE_DH_LEN);
      hs->has_re = TRUE;
      mix_hash (hs, hs->re, EP_NOISE_DH_LEN);
      pos = EP_NOISE_DH_LEN;
      if (!mix_dh (hs, hs->e_sk, hs->re, error)
          || !decrypt_and_hash (hs, message + pos, EP_NOISE_DH_LEN + EP_NOISE_TAG_LEN,
                                hs->rs, error))
        return FALSE;
      hs->has_rs = TRUE;
      pos += EP_NOISE_DH_LEN + EP_NOISE_TAG_LEN;
      if (!mix_dh (hs, hs->e_sk, hs->rs, error))
        return FALSE;
      break;

    case 2:   /* -> s, se */
      if (!decrypt_and_hash (hs, message, EP_NOISE_DH_LEN + EP_NOISE_TAG_LEN, hs->rs, error))
        return FALSE;
      hs->has_rs = TRUE;
      pos = EP_NOISE_DH_LEN + EP_NOISE_TAG_LEN;
      if (!mix_dh (hs, hs->e_sk, hs->rs, error))
        return FALSE;
      break;

    default:
      g_assert_not_reached ();
    }

  rest = len - pos;
  if (!decrypt_and_hash (hs, message + pos, rest, payload, error))
    return FALSE;

  *payload_len = rest - (hs->cs.has_key ? EP_NOISE_TAG_LEN : 0);
  hs->index++;
  return TRUE;
}

/**
 * ep_noise_handshake_read_message:
 * @payload: where the payload goes
 * @payload_size: room in @payload; @len is enough
 * @payload_len: (out): the payload length
 *
 * ReadMessage() for the next message of XX. On failure the handshake is
 * left exactly as it was, so a forged or damaged datagram cannot break a
 * handshake in progress: the genuine message may still come.
 */
gboolean
ep_noise_handshake_read_message (EpNoiseHandshake  *hs,
                                 const guint8      *message,
                                 gsize              len,
                                 guint8            *payload,
                                 gsize              payload_size,
                                 gsize             *payload_len,
                                 GError           **error)
{
  EpNoiseHandshake work;
  gboolean ok;

  if (hs->index >= 3 || hs->failed || ep_noise_handshake_is_my_turn (hs))
    {
      g_set_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_STATE,
                   _("It is not the peer’s turn in the handshake"));
      return FALSE;
    }

  if (len > EP_NOISE_MAX_MESSAGE || len > payload_size + ep_noise_handshake_get_overhead (hs))
    {
      g_set_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_FORMAT,
                   _("A handshake message is too large"));
      return FALSE;
    }

  memcpy (&work, hs, sizeof work);
  ok = read_message (&work, message, len, payload, payload_len, error);
  if (ok)
    memcpy (hs, &work, sizeof work);
  sodium_memzero (&work, sizeof work);
  return ok;
}

/**
 * ep_noise_handshake_split:
 * @send: (out caller-allocates): our sending cipher
 * @receive: (out caller-allocates): our receiving cipher
 *
 * Split() once the handshake is finished; wipes the handshake's secrets.
 *
 * Returns: %FALSE if the handshake is not finished
 */
gboolean
ep_noise_handshake_split (EpNoiseHandshake *hs,
                          EpNoiseCipher    *send,
                          EpNoiseCipher    *receive)
{
  guint8 k1[EP_NOISE_HASH_LEN];
  guint8 k2[EP_NOISE_HASH_LEN];
  gboolean initiator = hs->role == EP_NOISE_ROLE_INITIATOR;

  if (hs->index != 3 || hs->failed)
    return FALSE;

  ep_noise_hkdf (hs->ck, NULL, 0, k1, k2, NULL);
  ep_noise_cipher_init (send, initiator ? k1 : k2);
  ep_noise_cipher_init (receive, initiator ? k2 : k1);
  sodium_memzero (k1, sizeof k1);
  sodium_memzero (k2, sizeof k2);

  /* Only h (a channel binding) and the static keys are still needed. */
  sodium_memzero (hs->ck, sizeof hs->ck);
  sodium_memzero (&hs->cs, sizeof hs->cs);
  sodium_memzero (hs->e_sk, sizeof hs->e_sk);
  sodium_memzero (hs->s_sk, sizeof hs->s_sk);
  hs->index = 4;

  return TRUE;
}
