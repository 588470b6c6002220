/* ep-bep44.c — BEP 44 items: targets, the signed byte string, signatures
 *
 * SHA-1 comes from GLib's GChecksum; Ed25519 from libsodium.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <sodium.h>
#include <string.h>

#include "ep-bep44.h"

static void
sha1_finish (GChecksum *checksum,
             guint8     target[20])
{
  gsize len = 20;

  g_checksum_get_digest (checksum, target, &len);
  g_assert (len == 20);
}

/**
 * ep_bep44_immutable_target:
 * @v_raw: the bencoded value, exactly as sent
 * @v_len: its length
 * @target: (out caller-allocates): SHA-1 of @v_raw
 */
void
ep_bep44_immutable_target (const guint8 *v_raw,
                           gsize         v_len,
                           guint8        target[20])
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA1);

  g_return_if_fail (v_raw != NULL || v_len == 0);

  if (v_len > 0)
    g_checksum_update (checksum, v_raw, v_len);
  sha1_finish (checksum, target);
}

/**
 * ep_bep44_mutable_target:
 * @k: the Ed25519 public key
 * @salt: (nullable): the salt, if any
 * @salt_len: its length, 0 for none
 * @target: (out caller-allocates): SHA-1 (@k ‖ @salt)
 */
void
ep_bep44_mutable_target (const guint8  k[32],
                         const guint8 *salt,
                         gsize         salt_len,
                         guint8        target[20])
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA1);

  g_return_if_fail (salt != NULL || salt_len == 0);

  g_checksum_update (checksum, k, 32);
  if (salt_len > 0)
    g_checksum_update (checksum, salt, salt_len);
  sha1_finish (checksum, target);
}

/**
 * ep_bep44_signed_string:
 *
 * The bytes a mutable item's signature covers:
 * `4:salt<len>:<salt>` (only with a non-empty salt), then
 * `3:seqi<seq>e1:v` and the bencoded value.
 *
 * Returns: (transfer full): the byte string
 */
GByteArray *
ep_bep44_signed_string (const guint8 *salt,
                        gsize         salt_len,
                        gint64        seq,
                        const guint8 *v_raw,
                        gsize         v_len)
{
  GByteArray *out;
  char buf[64];
  int n;

  g_return_val_if_fail (salt != NULL || salt_len == 0, NULL);
  g_return_val_if_fail (v_raw != NULL || v_len == 0, NULL);
  g_return_val_if_fail (salt_len <= G_MAXUINT / 2 && v_len <= G_MAXUINT / 2, NULL);

  out = g_byte_array_sized_new (salt_len + v_len + 48);
  if (salt_len > 0)
    {
      n = g_snprintf (buf, sizeof buf, "4:salt%" G_GSIZE_FORMAT ":", salt_len);
      g_byte_array_append (out, (const guint8 *) buf, n);
      g_byte_array_append (out, salt, salt_len);
    }
  n = g_snprintf (buf, sizeof buf, "3:seqi%" G_GINT64_FORMAT "e1:v", seq);
  g_byte_array_append (out, (const guint8 *) buf, n);
  if (v_len > 0)
    g_byte_array_append (out, v_raw, v_len);

  return out;
}

/**
 * ep_bep44_sign:
 * @sk: a libsodium Ed25519 secret key (seed ‖ public key)
 * @sig: (out caller-allocates): the detached signature
 */
void
ep_bep44_sign (const guint8  sk[64],
               const guint8 *salt,
               gsize         salt_len,
               gint64        seq,
               const guint8 *v_raw,
               gsize         v_len,
               guint8        sig[64])
{
  g_autoptr(GByteArray) message = ep_bep44_signed_string (salt, salt_len, seq, v_raw, v_len);

  g_return_if_fail (message != NULL);

  crypto_sign_detached (sig, NULL, message->data, message->len, sk);
}

/**
 * ep_bep44_verify:
 * @k: the Ed25519 public key from the item
 * @sig: the signature from the item
 *
 * Returns: %TRUE when @sig is @k's signature over the item's signed string
 */
gboolean
ep_bep44_verify (const guint8  k[32],
                 const guint8  sig[64],
                 const guint8 *salt,
                 gsize         salt_len,
                 gint64        seq,
                 const guint8 *v_raw,
                 gsize         v_len)
{
  g_autoptr(GByteArray) message = NULL;

  if ((salt == NULL && salt_len > 0) || (v_raw == NULL && v_len > 0))
    return FALSE;

  message = ep_bep44_signed_string (salt, salt_len, seq, v_raw, v_len);
  if (message == NULL)
    return FALSE;

  return crypto_sign_verify_detached (sig, message->data, message->len, k) == 0;
}
