/* ep-identity.h — our keys: who we are on the network
 *
 * An identity holds an Ed25519 key pair (signs presence records and binds
 * Noise sessions to the contact ID), a separate X25519 static key pair for
 * Noise (generated independently, not converted from the Ed25519 one), a
 * 4-byte nospam and the contact ID made from the public key and the nospam.
 *
 * On disk it is the key file EP_IDENTITY_FILE_NAME in the profile directory:
 * a GKeyFile, mode 0600, always replaced atomically. A key file that other
 * users could read or change is refused (%EP_IDENTITY_ERROR_PERMISSIONS).
 *
 *   [Identity]
 *   Version=1
 *   SigningKey=<hex, Ed25519 public key>
 *   StaticKey=<hex, X25519 public key>
 *   Nospam=<8 hex digits, big-endian>
 *   Secrets=<hex: Ed25519 seed (32) ‖ X25519 secret key (32)>   (without passphrase)
 *
 *   [Passphrase]                                                 (with passphrase)
 *   Kdf=argon2id13
 *   OpsLimit=<crypto_pwhash opslimit>
 *   MemLimit=<crypto_pwhash memlimit, bytes>
 *   Salt=<hex, 16 bytes>
 *   Nonce=<hex, 24 bytes>
 *   Secrets=<hex: crypto_secretbox of the same 64 bytes under Argon2id (passphrase, salt)>
 *
 * The public keys stay readable so a wrong passphrase and a damaged file can
 * be told apart: the decrypted secrets must give back both public keys.
 *
 * Secrets live in sodium_malloc()ed memory (guarded, locked, read-only once
 * set) and are wiped when the identity is finalized. Nobody outside reads the
 * Ed25519 secret key: ep_identity_sign() signs. The X25519 secret key is lent
 * for the length of one callback (ep_identity_with_static_secret()) to the
 * Noise layer; ep_identity_dh() covers the common case without lending it.
 *
 * Threads: keys, signing and DH may be used from any thread. Nospam, the
 * contact ID and the file-changing calls belong to the thread that owns the
 * object (the main thread); the _async variants run Argon2id in a worker
 * thread and report back in the caller's thread-default main context.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define EP_IDENTITY_FILE_NAME       "identity.key"
#define EP_IDENTITY_KEY_LEN         32
#define EP_IDENTITY_SIGNATURE_LEN   64

#define EP_IDENTITY_ERROR (ep_identity_error_quark ())

typedef enum
{
  EP_IDENTITY_ERROR_NOT_FOUND,           /* no key file */
  EP_IDENTITY_ERROR_EXISTS,              /* creating over an existing key file */
  EP_IDENTITY_ERROR_PERMISSIONS,         /* readable/writable by others, or not ours */
  EP_IDENTITY_ERROR_CORRUPT,             /* not a key file, or damaged */
  EP_IDENTITY_ERROR_UNSUPPORTED_VERSION, /* written by a newer version */
  EP_IDENTITY_ERROR_NEEDS_PASSPHRASE,    /* encrypted, and no passphrase was given */
  EP_IDENTITY_ERROR_WRONG_PASSPHRASE,    /* the passphrase does not open it */
  EP_IDENTITY_ERROR_FAILED,              /* I/O and everything else */
} EpIdentityError;

/* Argon2id cost for a new passphrase. %NULL wherever one is taken means
 * crypto_pwhash_OPSLIMIT_INTERACTIVE / crypto_pwhash_MEMLIMIT_INTERACTIVE;
 * tests pass crypto_pwhash_OPSLIMIT_MIN / crypto_pwhash_MEMLIMIT_MIN. Loading
 * uses the limits stored in the file. */
typedef struct
{
  guint64 opslimit;
  gsize   memlimit;
} EpIdentityKdfLimits;

/* @secret is valid only during the call; copy it into memory you wipe
 * (sodium_malloc/sodium_memzero) if it must outlive the call. */
typedef void (*EpIdentitySecretFunc) (const guint8 secret[EP_IDENTITY_KEY_LEN],
                                      gpointer     user_data);

/* Both secret keys, valid only during the call (ep_identity_with_secrets()). */
typedef void (*EpIdentitySecretsFunc) (const guint8 sign_secret[64],
                                       const guint8 static_secret[EP_IDENTITY_KEY_LEN],
                                       gpointer     user_data);

#define EP_TYPE_IDENTITY (ep_identity_get_type ())

G_DECLARE_FINAL_TYPE (EpIdentity, ep_identity, EP, IDENTITY, GObject)

GQuark         ep_identity_error_quark          (void);

EpIdentity    *ep_identity_new_random           (void);

EpIdentity    *ep_identity_create               (const char                 *path,
                                                 const char                 *passphrase,
                                                 const EpIdentityKdfLimits  *limits,
                                                 GCancellable               *cancellable,
                                                 GError                    **error);
EpIdentity    *ep_identity_load                 (const char                 *path,
                                                 const char                 *passphrase,
                                                 GCancellable               *cancellable,
                                                 GError                    **error);
EpIdentity    *ep_identity_open                 (const char                 *profile_dir,
                                                 const char                 *passphrase,
                                                 const EpIdentityKdfLimits  *limits,
                                                 gboolean                   *created,
                                                 GCancellable               *cancellable,
                                                 GError                    **error);
void           ep_identity_open_async           (const char                 *profile_dir,
                                                 const char                 *passphrase,
                                                 const EpIdentityKdfLimits  *limits,
                                                 GCancellable               *cancellable,
                                                 GAsyncReadyCallback         callback,
                                                 gpointer                    user_data);
EpIdentity    *ep_identity_open_finish          (GAsyncResult               *result,
                                                 gboolean                   *created,
                                                 GError                    **error);

const char    *ep_identity_get_path             (EpIdentity                 *self);
gboolean       ep_identity_is_encrypted         (EpIdentity                 *self);
const guint8  *ep_identity_get_public_key       (EpIdentity                 *self);
const guint8  *ep_identity_get_static_public_key (EpIdentity                *self);
guint32        ep_identity_get_nospam           (EpIdentity                 *self);
const char    *ep_identity_get_contact_id       (EpIdentity                 *self);

gboolean       ep_identity_set_nospam           (EpIdentity                 *self,
                                                 guint32                     nospam,
                                                 GError                    **error);
gboolean       ep_identity_reset_nospam         (EpIdentity                 *self,
                                                 GError                    **error);
gboolean       ep_identity_change_passphrase    (EpIdentity                 *self,
                                                 const char                 *new_passphrase,
                                                 const EpIdentityKdfLimits  *limits,
                                                 GCancellable               *cancellable,
                                                 GError                    **error);
void           ep_identity_change_passphrase_async (EpIdentity              *self,
                                                    const char              *new_passphrase,
                                                    const EpIdentityKdfLimits *limits,
                                                    GCancellable            *cancellable,
                                                    GAsyncReadyCallback      callback,
                                                    gpointer                 user_data);
gboolean       ep_identity_change_passphrase_finish (EpIdentity             *self,
                                                     GAsyncResult           *result,
                                                     GError                **error);

void           ep_identity_sign                 (EpIdentity                 *self,
                                                 const guint8               *message,
                                                 gsize                       message_len,
                                                 guint8                      signature[EP_IDENTITY_SIGNATURE_LEN]);
gboolean       ep_identity_dh                   (EpIdentity                 *self,
                                                 const guint8                peer_public[EP_IDENTITY_KEY_LEN],
                                                 guint8                      shared[EP_IDENTITY_KEY_LEN]);
void           ep_identity_with_static_secret   (EpIdentity                 *self,
                                                 EpIdentitySecretFunc        func,
                                                 gpointer                    user_data);
void           ep_identity_with_secrets         (EpIdentity                 *self,
                                                 EpIdentitySecretsFunc       func,
                                                 gpointer                    user_data);
void           ep_identity_derive_key           (EpIdentity                 *self,
                                                 const char                 *context,
                                                 guint8                      out[EP_IDENTITY_KEY_LEN]);

G_END_DECLS
