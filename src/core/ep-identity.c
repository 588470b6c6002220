/* ep-identity.c — our keys: who we are on the network
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ep-contact-id.h"
#include "ep-identity-private.h"
#include "ep-profile.h"

struct _EpIdentity
{
  GObject            parent_instance;

  GMutex             mutex;     /* guards kdf, nospam and writing the file */
  EpIdentitySecrets *secrets;   /* sodium_malloc, read-only after construction */
  EpIdentityKdf     *kdf;       /* sodium_malloc; NULL without passphrase */
  char              *path;
  char              *contact_id;
  guint32            nospam;
  guint8             public_key[EP_IDENTITY_KEY_LEN];
  guint8             static_public[EP_IDENTITY_KEY_LEN];
};

enum {
  PROP_0,
  PROP_CONTACT_ID,
  PROP_NOSPAM,
  PROP_PATH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_TYPE (EpIdentity, ep_identity, G_TYPE_OBJECT)

G_DEFINE_QUARK (ep-identity-error-quark, ep_identity_error)

/* Only the thread that owns the object writes these. */
static void
update_contact_id (EpIdentity *self)
{
  g_free (self->contact_id);
  self->contact_id = ep_contact_id_format (self->public_key, self->nospam);
}

static EpIdentity *
identity_new_take_secrets (EpIdentitySecrets *secrets,
                           guint32            nospam)
{
  EpIdentity *self = g_object_new (EP_TYPE_IDENTITY, NULL);

  self->secrets = secrets;
  memcpy (self->public_key, secrets->sign_sk + 32, EP_IDENTITY_KEY_LEN);
  crypto_scalarmult_base (self->static_public, secrets->static_sk);
  sodium_mprotect_readonly (secrets);
  self->nospam = nospam;
  update_contact_id (self);
  return self;
}

/* Argon2id (when @passphrase is set) outside the lock, then the file and
 * the swap under it. Safe from a worker thread. */
static gboolean
set_passphrase (EpIdentity                 *self,
                const char                 *passphrase,
                const EpIdentityKdfLimits  *limits,
                GCancellable               *cancellable,
                GError                    **error)
{
  g_autoptr(EpIdentityKdf) kdf = NULL;

  if (passphrase != NULL && passphrase[0] != '\0')
    {
      EpIdentityKdfLimits defaults = {
        crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE
      };

      if (limits == NULL)
        limits = &defaults;
      if (!ep_identity_kdf_check_limits (limits, error))
        return FALSE;
      kdf = ep_identity_secure_alloc (sizeof (EpIdentityKdf));
      kdf->opslimit = limits->opslimit;
      kdf->memlimit = limits->memlimit;
      randombytes_buf (kdf->salt, sizeof kdf->salt);
      if (!ep_identity_kdf_derive (kdf, passphrase, error))
        return FALSE;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  g_mutex_lock (&self->mutex);
  if (self->path != NULL
      && !ep_identity_file_write (self->path, self->secrets, self->public_key,
                                  self->static_public, self->nospam, kdf, error))
    {
      g_mutex_unlock (&self->mutex);
      return FALSE;
    }
  ep_identity_kdf_free (self->kdf);
  self->kdf = g_steal_pointer (&kdf);
  g_mutex_unlock (&self->mutex);
  return TRUE;
}

/* ---- GObject ------------------------------------------------------------ */

static void
ep_identity_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  EpIdentity *self = EP_IDENTITY (object);

  switch (prop_id)
    {
    case PROP_CONTACT_ID:
      g_value_set_string (value, self->contact_id);
      break;
    case PROP_NOSPAM:
      g_value_set_uint (value, self->nospam);
      break;
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ep_identity_finalize (GObject *object)
{
  EpIdentity *self = EP_IDENTITY (object);

  if (self->secrets != NULL)
    sodium_free (self->secrets);
  ep_identity_kdf_free (self->kdf);
  g_free (self->path);
  g_free (self->contact_id);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (ep_identity_parent_class)->finalize (object);
}

static void
ep_identity_class_init (EpIdentityClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = ep_identity_get_property;
  object_class->finalize = ep_identity_finalize;

  properties[PROP_CONTACT_ID] =
    g_param_spec_string ("contact-id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_NOSPAM] =
    g_param_spec_uint ("nospam", NULL, NULL, 0, G_MAXUINT32, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ep_identity_init (EpIdentity *self)
{
  g_mutex_init (&self->mutex);
}

/* ---- construction --------------------------------------------------------- */

/**
 * ep_identity_new_random:
 *
 * A fresh identity in memory only (no key file, no passphrase): two
 * independent key pairs and a random nospam.
 *
 * Returns: (transfer full): a new #EpIdentity
 */
EpIdentity *
ep_identity_new_random (void)
{
  EpIdentitySecrets *secrets;
  guint8 public_key[crypto_sign_PUBLICKEYBYTES];
  guint32 nospam;

  ep_identity_ensure_sodium ();
  secrets = ep_identity_secure_alloc (sizeof (EpIdentitySecrets));
  crypto_sign_keypair (public_key, secrets->sign_sk);
  randombytes_buf (secrets->static_sk, sizeof secrets->static_sk);
  randombytes_buf (&nospam, sizeof nospam);
  return identity_new_take_secrets (secrets, nospam);
}

/**
 * ep_identity_create:
 * @path: where to write the key file; must not exist
 * @passphrase: (nullable): encrypts the secrets when set and not empty
 * @limits: (nullable): Argon2id cost, %NULL for the interactive defaults
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Generates a new identity and writes its key file (mode 0600). Blocks for
 * the Argon2id work when @passphrase is set.
 *
 * Returns: (transfer full) (nullable): the new identity
 */
EpIdentity *
ep_identity_create (const char                 *path,
                    const char                 *passphrase,
                    const EpIdentityKdfLimits  *limits,
                    GCancellable               *cancellable,
                    GError                    **error)
{
  g_autoptr(EpIdentity) self = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_file_test (path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK))
    {
      g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_EXISTS,
                   _("There is already a key file “%s”; it was left untouched."), path);
      return NULL;
    }

  self = ep_identity_new_random ();
  self->path = g_strdup (path);
  if (!set_passphrase (self, passphrase, limits, cancellable, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * ep_identity_load:
 * @path: the key file
 * @passphrase: (nullable): needed when the key file is encrypted
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Reads a key file. Blocks for the Argon2id work when it is encrypted.
 *
 * Returns: (transfer full) (nullable): the identity
 */
EpIdentity *
ep_identity_load (const char    *path,
                  const char    *passphrase,
                  GCancellable  *cancellable,
                  GError       **error)
{
  EpIdentitySecrets *secrets;
  EpIdentityKdf *kdf = NULL;
  EpIdentity *self;
  guint32 nospam = 0;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ep_identity_ensure_sodium ();
  secrets = ep_identity_file_read (path, passphrase, cancellable, &nospam, &kdf, error);
  if (secrets == NULL)
    return NULL;

  self = identity_new_take_secrets (secrets, nospam);
  self->path = g_strdup (path);
  self->kdf = kdf;
  return self;
}

/**
 * ep_identity_open:
 * @profile_dir: the profile directory (created if missing)
 * @passphrase: (nullable): to unlock an existing identity, or to protect a new one
 * @limits: (nullable): Argon2id cost for a new identity
 * @created: (out) (optional): set to %TRUE when a new identity was made
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Loads the identity of a profile, creating it on first use. Blocking; see
 * ep_identity_open_async() for the main thread.
 *
 * Returns: (transfer full) (nullable): the identity
 */
EpIdentity *
ep_identity_open (const char                 *profile_dir,
                  const char                 *passphrase,
                  const EpIdentityKdfLimits  *limits,
                  gboolean                   *created,
                  GCancellable               *cancellable,
                  GError                    **error)
{
  g_autofree char *path = NULL;
  g_autoptr(GError) local_error = NULL;
  EpIdentity *self;

  g_return_val_if_fail (profile_dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (created != NULL)
    *created = FALSE;
  if (!ep_profile_ensure_dir (profile_dir, error))
    return NULL;

  path = g_build_filename (profile_dir, EP_IDENTITY_FILE_NAME, NULL);
  self = ep_identity_load (path, passphrase, cancellable, &local_error);
  if (self != NULL)
    return self;
  if (!g_error_matches (local_error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  self = ep_identity_create (path, passphrase, limits, cancellable, error);
  if (self != NULL && created != NULL)
    *created = TRUE;
  return self;
}

typedef struct
{
  char                *profile_dir;
  char                *passphrase;    /* sodium_malloc */
  EpIdentityKdfLimits  limits;
  gboolean             has_limits;
  gboolean             created;
} OpenData;

static void
open_data_free (OpenData *data)
{
  g_free (data->profile_dir);
  ep_identity_secure_strfree (data->passphrase);
  g_free (data);
}

static void
open_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  OpenData *data = task_data;
  GError *error = NULL;
  EpIdentity *self;

  self = ep_identity_open (data->profile_dir, data->passphrase,
                           data->has_limits ? &data->limits : NULL,
                           &data->created, cancellable, &error);
  if (self == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, self, g_object_unref);
}

/**
 * ep_identity_open_async:
 * @profile_dir: the profile directory (created if missing)
 * @passphrase: (nullable): copied into locked memory, wiped after use
 * @limits: (nullable): Argon2id cost for a new identity
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * ep_identity_open() in a worker thread.
 */
void
ep_identity_open_async (const char                 *profile_dir,
                        const char                 *passphrase,
                        const EpIdentityKdfLimits  *limits,
                        GCancellable               *cancellable,
                        GAsyncReadyCallback         callback,
                        gpointer                    user_data)
{
  g_autoptr(GTask) task = NULL;
  OpenData *data;

  g_return_if_fail (profile_dir != NULL);

  ep_identity_ensure_sodium ();
  data = g_new0 (OpenData, 1);
  data->profile_dir = g_strdup (profile_dir);
  data->passphrase = ep_identity_secure_strdup (passphrase);
  if (limits != NULL)
    {
      data->limits = *limits;
      data->has_limits = TRUE;
    }

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ep_identity_open_async);
  g_task_set_task_data (task, data, (GDestroyNotify) open_data_free);
  g_task_run_in_thread (task, open_thread);
}

/**
 * ep_identity_open_finish:
 * @result: the #GAsyncResult
 * @created: (out) (optional): set to %TRUE when a new identity was made
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the identity
 */
EpIdentity *
ep_identity_open_finish (GAsyncResult  *result,
                         gboolean      *created,
                         GError       **error)
{
  OpenData *data;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ep_identity_open_async, NULL);

  data = g_task_get_task_data (G_TASK (result));
  if (created != NULL)
    *created = data->created;
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- accessors ------------------------------------------------------------ */

/**
 * ep_identity_get_path:
 * @self: an #EpIdentity
 *
 * Returns: (nullable): the key file, %NULL for an identity only in memory
 */
const char *
ep_identity_get_path (EpIdentity *self)
{
  g_return_val_if_fail (EP_IS_IDENTITY (self), NULL);

  return self->path;
}

/**
 * ep_identity_is_encrypted:
 * @self: an #EpIdentity
 *
 * Returns: %TRUE when the key file is protected by a passphrase
 */
gboolean
ep_identity_is_encrypted (EpIdentity *self)
{
  gboolean encrypted;

  g_return_val_if_fail (EP_IS_IDENTITY (self), FALSE);

  g_mutex_lock (&self->mutex);
  encrypted = self->kdf != NULL;
  g_mutex_unlock (&self->mutex);
  return encrypted;
}

/**
 * ep_identity_get_public_key:
 * @self: an #EpIdentity
 *
 * Returns: (array fixed-size=32): the Ed25519 identity key
 */
const guint8 *
ep_identity_get_public_key (EpIdentity *self)
{
  g_return_val_if_fail (EP_IS_IDENTITY (self), NULL);

  return self->public_key;
}

/**
 * ep_identity_get_static_public_key:
 * @self: an #EpIdentity
 *
 * Returns: (array fixed-size=32): the X25519 static public key for Noise
 */
const guint8 *
ep_identity_get_static_public_key (EpIdentity *self)
{
  g_return_val_if_fail (EP_IS_IDENTITY (self), NULL);

  return self->static_public;
}

/**
 * ep_identity_get_nospam:
 * @self: an #EpIdentity
 *
 * Returns: the nospam in the contact ID
 */
guint32
ep_identity_get_nospam (EpIdentity *self)
{
  g_return_val_if_fail (EP_IS_IDENTITY (self), 0);

  return self->nospam;
}

/**
 * ep_identity_get_contact_id:
 * @self: an #EpIdentity
 *
 * Returns: the 61-character contact ID (see ep_contact_id_format_grouped()
 *   for display)
 */
const char *
ep_identity_get_contact_id (EpIdentity *self)
{
  g_return_val_if_fail (EP_IS_IDENTITY (self), NULL);

  return self->contact_id;
}

/* ---- changes -------------------------------------------------------------- */

/**
 * ep_identity_set_nospam:
 * @self: an #EpIdentity
 * @nospam: the new nospam
 * @error: return location for a #GError
 *
 * Changes the contact ID (not the keys): requests made with the old ID stop
 * being accepted. Rewrites the key file (no passphrase needed: the derived
 * key is kept). On error nothing changes.
 *
 * Returns: %TRUE on success
 */
gboolean
ep_identity_set_nospam (EpIdentity  *self,
                        guint32      nospam,
                        GError     **error)
{
  g_return_val_if_fail (EP_IS_IDENTITY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (nospam == self->nospam)
    return TRUE;

  g_mutex_lock (&self->mutex);
  if (self->path != NULL
      && !ep_identity_file_write (self->path, self->secrets, self->public_key,
                                  self->static_public, nospam, self->kdf, error))
    {
      g_mutex_unlock (&self->mutex);
      return FALSE;
    }
  self->nospam = nospam;
  update_contact_id (self);
  g_mutex_unlock (&self->mutex);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NOSPAM]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTACT_ID]);
  return TRUE;
}

/**
 * ep_identity_reset_nospam:
 * @self: an #EpIdentity
 * @error: return location for a #GError
 *
 * ep_identity_set_nospam() with a new random value: "change my ID" for a
 * user who gets unwanted contact requests.
 *
 * Returns: %TRUE on success
 */
gboolean
ep_identity_reset_nospam (EpIdentity  *self,
                          GError     **error)
{
  guint32 nospam;

  g_return_val_if_fail (EP_IS_IDENTITY (self), FALSE);

  do
    randombytes_buf (&nospam, sizeof nospam);
  while (nospam == self->nospam);

  return ep_identity_set_nospam (self, nospam, error);
}

/**
 * ep_identity_change_passphrase:
 * @self: an #EpIdentity
 * @new_passphrase: (nullable): the new passphrase; %NULL or "" removes it
 * @limits: (nullable): Argon2id cost, %NULL for the interactive defaults
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Re-encrypts (or decrypts) the key file with a fresh salt. Blocking.
 *
 * Returns: %TRUE on success; on error the key file is unchanged
 */
gboolean
ep_identity_change_passphrase (EpIdentity                 *self,
                               const char                 *new_passphrase,
                               const EpIdentityKdfLimits  *limits,
                               GCancellable               *cancellable,
                               GError                    **error)
{
  g_return_val_if_fail (EP_IS_IDENTITY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return set_passphrase (self, new_passphrase, limits, cancellable, error);
}

typedef struct
{
  char                *passphrase;    /* sodium_malloc */
  EpIdentityKdfLimits  limits;
  gboolean             has_limits;
} ChangeData;

static void
change_data_free (ChangeData *data)
{
  ep_identity_secure_strfree (data->passphrase);
  g_free (data);
}

static void
change_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  ChangeData *data = task_data;
  GError *error = NULL;

  if (set_passphrase (source_object, data->passphrase,
                      data->has_limits ? &data->limits : NULL, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * ep_identity_change_passphrase_async:
 * @self: an #EpIdentity
 * @new_passphrase: (nullable): copied into locked memory; %NULL or "" removes it
 * @limits: (nullable): Argon2id cost
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: data for @callback
 *
 * ep_identity_change_passphrase() in a worker thread.
 */
void
ep_identity_change_passphrase_async (EpIdentity                 *self,
                                     const char                 *new_passphrase,
                                     const EpIdentityKdfLimits  *limits,
                                     GCancellable               *cancellable,
                                     GAsyncReadyCallback         callback,
                                     gpointer                    user_data)
{
  g_autoptr(GTask) task = NULL;
  ChangeData *data;

  g_return_if_fail (EP_IS_IDENTITY (self));

  data = g_new0 (ChangeData, 1);
  data->passphrase = ep_identity_secure_strdup (new_passphrase);
  if (limits != NULL)
    {
      data->limits = *limits;
      data->has_limits = TRUE;
    }

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ep_identity_change_passphrase_async);
  g_task_set_task_data (task, data, (GDestroyNotify) change_data_free);
  g_task_run_in_thread (task, change_thread);
}

/**
 * ep_identity_change_passphrase_finish:
 * @self: an #EpIdentity
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 */
gboolean
ep_identity_change_passphrase_finish (EpIdentity    *self,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  g_return_val_if_fail (EP_IS_IDENTITY (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result))
                        == ep_identity_change_passphrase_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- using the secrets ------------------------------------------------------ */

/**
 * ep_identity_sign:
 * @self: an #EpIdentity
 * @message: (array length=message_len): the bytes to sign
 * @message_len: their length
 * @signature: (out caller-allocates): the Ed25519 detached signature
 */
void
ep_identity_sign (EpIdentity   *self,
                  const guint8 *message,
                  gsize         message_len,
                  guint8        signature[EP_IDENTITY_SIGNATURE_LEN])
{
  g_return_if_fail (EP_IS_IDENTITY (self));
  g_return_if_fail (message != NULL || message_len == 0);
  g_return_if_fail (signature != NULL);

  crypto_sign_detached (signature, NULL, message, message_len, self->secrets->sign_sk);
}

/**
 * ep_identity_dh:
 * @self: an #EpIdentity
 * @peer_public: an X25519 public key
 * @shared: (out caller-allocates): X25519 (our static secret, @peer_public)
 *
 * Returns: %FALSE (and @shared zeroed) when @peer_public is of low order,
 *   so the result would be all zero
 */
gboolean
ep_identity_dh (EpIdentity   *self,
                const guint8  peer_public[EP_IDENTITY_KEY_LEN],
                guint8        shared[EP_IDENTITY_KEY_LEN])
{
  g_return_val_if_fail (EP_IS_IDENTITY (self), FALSE);
  g_return_val_if_fail (peer_public != NULL && shared != NULL, FALSE);

  if (crypto_scalarmult (shared, self->secrets->static_sk, peer_public) != 0)
    {
      sodium_memzero (shared, EP_IDENTITY_KEY_LEN);
      return FALSE;
    }
  return TRUE;
}

/**
 * ep_identity_with_static_secret:
 * @self: an #EpIdentity
 * @func: (scope call): receives the X25519 static secret key
 * @user_data: data for @func
 *
 * Lends the X25519 static secret key to @func, for the Noise layer. The
 * pointer is valid only during the call and points to read-only memory; a
 * copy that must outlive the call belongs in sodium_malloc()ed memory and is
 * wiped by its holder.
 */
void
ep_identity_with_static_secret (EpIdentity           *self,
                                EpIdentitySecretFunc  func,
                                gpointer              user_data)
{
  g_return_if_fail (EP_IS_IDENTITY (self));
  g_return_if_fail (func != NULL);

  func (self->secrets->static_sk, user_data);
}

/**
 * ep_identity_with_secrets:
 * @self: an #EpIdentity
 * @func: (scope call): receives both secret keys
 * @user_data: data for @func
 *
 * Lends the Ed25519 secret key (libsodium's 64-byte form, seed ‖ public
 * key) and the X25519 static secret key to @func, for the session manager,
 * which keeps its own wiped copies. Same rules as
 * ep_identity_with_static_secret().
 */
void
ep_identity_with_secrets (EpIdentity            *self,
                          EpIdentitySecretsFunc  func,
                          gpointer               user_data)
{
  g_return_if_fail (EP_IS_IDENTITY (self));
  g_return_if_fail (func != NULL);

  func (self->secrets->sign_sk, self->secrets->static_sk, user_data);
}

/**
 * ep_identity_derive_key:
 * @self: an #EpIdentity
 * @context: what the key is for, e.g. "store"; different contexts give
 *   independent keys
 * @out: (out caller-allocates): 32 bytes
 *
 * Derives a 32-byte symmetric key from the identity secret:
 *
 *   out = BLAKE2b-256 keyed with the Ed25519 seed (32 bytes) over
 *         "EncryptedP2P derived key v1" ‖ 0x00 ‖ @context
 *
 * The profile's store uses context "store" for its at-rest key, so message
 * history is exactly as protected as the identity file (a passphrase on the
 * identity protects the history too), and a new identity cannot read it.
 */
void
ep_identity_derive_key (EpIdentity   *self,
                        const char   *context,
                        guint8        out[EP_IDENTITY_KEY_LEN])
{
  static const char domain[] = "EncryptedP2P derived key v1";
  crypto_generichash_state state;

  g_return_if_fail (EP_IS_IDENTITY (self));
  g_return_if_fail (context != NULL && out != NULL);

  crypto_generichash_init (&state, self->secrets->sign_sk, 32, EP_IDENTITY_KEY_LEN);
  crypto_generichash_update (&state, (const guint8 *) domain, sizeof domain);   /* with the NUL */
  crypto_generichash_update (&state, (const guint8 *) context, strlen (context));
  crypto_generichash_final (&state, out, EP_IDENTITY_KEY_LEN);
  sodium_memzero (&state, sizeof state);
}
