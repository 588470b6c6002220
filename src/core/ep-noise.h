/* ep-noise.h — Noise_XX_25519_ChaChaPoly_BLAKE2b, a small handshake state machine
 *
 * Noise rev 34 built on libsodium: X25519 (crypto_scalarmult), ChaCha20-
 * Poly1305 IETF with the nonce as 4 zero bytes + a 64-bit little-endian
 * counter, BLAKE2b (HASHLEN 64, BLOCKLEN 128) with HMAC per RFC 2104 and
 * HKDF as in Noise §4.3. Only the XX pattern, no PSK. Plain C, no I/O:
 * EpSessionManager drives it and the vector runner checks it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EP_NOISE_PROTOCOL_NAME "Noise_XX_25519_ChaChaPoly_BLAKE2b"

#define EP_NOISE_KEY_LEN     32
#define EP_NOISE_DH_LEN      32
#define EP_NOISE_HASH_LEN    64
#define EP_NOISE_TAG_LEN     16
#define EP_NOISE_MAX_MESSAGE 65535

#define EP_NOISE_ERROR (ep_noise_error_quark ())

typedef enum
{
  EP_NOISE_ERROR_STATE,      /* call out of turn, or after the end */
  EP_NOISE_ERROR_FORMAT,     /* message too short or too long */
  EP_NOISE_ERROR_DECRYPT,    /* authentication failed */
  EP_NOISE_ERROR_DH,         /* a low-order public key */
  EP_NOISE_ERROR_NONCE,      /* the nonce space is used up */
} EpNoiseError;

typedef enum
{
  EP_NOISE_ROLE_INITIATOR,
  EP_NOISE_ROLE_RESPONDER,
} EpNoiseRole;

/* A CipherState. Public so that sessions can embed it; touch it only
 * through the functions below. */
typedef struct
{
  guint8   k[EP_NOISE_KEY_LEN];
  guint64  n;
  gboolean has_key;
} EpNoiseCipher;

typedef struct _EpNoiseHandshake EpNoiseHandshake;

GQuark    ep_noise_error_quark                (void);

void      ep_noise_cipher_init                (EpNoiseCipher   *cipher,
                                               const guint8    *key);
void      ep_noise_cipher_clear               (EpNoiseCipher   *cipher);
gboolean  ep_noise_cipher_encrypt             (EpNoiseCipher   *cipher,
                                               const guint8    *ad,
                                               gsize            ad_len,
                                               const guint8    *plaintext,
                                               gsize            len,
                                               guint8          *out,
                                               GError         **error);
gboolean  ep_noise_cipher_decrypt             (EpNoiseCipher   *cipher,
                                               const guint8    *ad,
                                               gsize            ad_len,
                                               const guint8    *ciphertext,
                                               gsize            len,
                                               guint8          *out,
                                               GError         **error);
void      ep_noise_cipher_encrypt_nonce       (const EpNoiseCipher *cipher,
                                               guint64          nonce,
                                               const guint8    *ad,
                                               gsize            ad_len,
                                               const guint8    *plaintext,
                                               gsize            len,
                                               guint8          *out);
gboolean  ep_noise_cipher_decrypt_nonce       (const EpNoiseCipher *cipher,
                                               guint64          nonce,
                                               const guint8    *ad,
                                               gsize            ad_len,
                                               const guint8    *ciphertext,
                                               gsize            len,
                                               guint8          *out);

void      ep_noise_hmac                       (const guint8    *key,
                                               gsize            key_len,
                                               const guint8    *data,
                                               gsize            len,
                                               guint8          *out);
void      ep_noise_hkdf                       (const guint8    *chaining_key,
                                               const guint8    *ikm,
                                               gsize            ikm_len,
                                               guint8          *out1,
                                               guint8          *out2,
                                               guint8          *out3);

EpNoiseHandshake *ep_noise_handshake_new      (EpNoiseRole      role,
                                               const guint8    *prologue,
                                               gsize            prologue_len,
                                               const guint8    *static_secret);
EpNoiseHandshake *ep_noise_handshake_copy     (const EpNoiseHandshake *hs);
void      ep_noise_handshake_free             (EpNoiseHandshake *hs);
void      ep_noise_handshake_set_ephemeral    (EpNoiseHandshake *hs,
                                               const guint8    *ephemeral_secret);
EpNoiseRole ep_noise_handshake_get_role       (const EpNoiseHandshake *hs);
gboolean  ep_noise_handshake_is_my_turn       (const EpNoiseHandshake *hs);
gboolean  ep_noise_handshake_is_finished      (const EpNoiseHandshake *hs);
guint     ep_noise_handshake_get_message_index (const EpNoiseHandshake *hs);
gsize     ep_noise_handshake_get_overhead     (const EpNoiseHandshake *hs);
const guint8 *ep_noise_handshake_get_local_static  (const EpNoiseHandshake *hs);
const guint8 *ep_noise_handshake_get_remote_static (const EpNoiseHandshake *hs);
const guint8 *ep_noise_handshake_get_local_ephemeral (const EpNoiseHandshake *hs);
const guint8 *ep_noise_handshake_get_hash     (const EpNoiseHandshake *hs);
gboolean  ep_noise_handshake_write_message    (EpNoiseHandshake *hs,
                                               const guint8    *payload,
                                               gsize            payload_len,
                                               guint8          *out,
                                               gsize            out_size,
                                               gsize           *out_len,
                                               GError         **error);
gboolean  ep_noise_handshake_read_message     (EpNoiseHandshake *hs,
                                               const guint8    *message,
                                               gsize            len,
                                               guint8          *payload,
                                               gsize            payload_size,
                                               gsize           *payload_len,
                                               GError         **error);
gboolean  ep_noise_handshake_split            (EpNoiseHandshake *hs,
                                               EpNoiseCipher   *send,
                                               EpNoiseCipher   *receive);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpNoiseHandshake, ep_noise_handshake_free)

G_END_DECLS
