/* ep-identity-private.h — what ep-identity.c and ep-identity-file.c share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <sodium.h>

#include "ep-identity.h"

G_BEGIN_DECLS

/* Always in sodium_malloc()ed memory. */
typedef struct
{
  guint8 sign_sk[crypto_sign_SECRETKEYBYTES];   /* libsodium form: seed ‖ public key */
  guint8 static_sk[crypto_box_SECRETKEYBYTES];
} EpIdentitySecrets;

/* The key derived from the passphrase is kept so that a nospam change can
 * rewrite the file without asking for the passphrase again. */
typedef struct
{
  guint8  key[crypto_secretbox_KEYBYTES];
  guint8  salt[crypto_pwhash_SALTBYTES];
  guint64 opslimit;
  gsize   memlimit;
} EpIdentityKdf;

void               ep_identity_ensure_sodium    (void);
gpointer           ep_identity_secure_alloc     (gsize                       size);
char              *ep_identity_secure_strdup    (const char                 *s);
void               ep_identity_secure_strfree   (char                       *s);
void               ep_identity_kdf_free         (EpIdentityKdf              *kdf);
gboolean           ep_identity_kdf_check_limits (const EpIdentityKdfLimits  *limits,
                                                 GError                    **error);
gboolean           ep_identity_kdf_derive       (EpIdentityKdf              *kdf,
                                                 const char                 *passphrase,
                                                 GError                    **error);

gboolean           ep_identity_file_write       (const char                 *path,
                                                 const EpIdentitySecrets    *secrets,
                                                 const guint8               *public_key,
                                                 const guint8               *static_public,
                                                 guint32                     nospam,
                                                 const EpIdentityKdf        *kdf,
                                                 GError                    **error);
EpIdentitySecrets *ep_identity_file_read        (const char                 *path,
                                                 const char                 *passphrase,
                                                 GCancellable               *cancellable,
                                                 guint32                    *nospam,
                                                 EpIdentityKdf             **kdf,
                                                 GError                    **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpIdentityKdf, ep_identity_kdf_free)

G_END_DECLS
