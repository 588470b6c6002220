/* ep-identity.c — our keys: who we are on the network
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ep-contact-id.h"
#include "ep-identity.h"
#include "ep-profile.h"

#define FILE_VERSION        1
#define MAX_FILE_SIZE       (16 * 1024)
#define SECRETS_LEN         64   /* Ed25519 seed ‖ X25519 secret key */
#define GROUP_IDENTITY      "Identity"
#define GROUP_PASSPHRASE    "Passphrase"
#define KDF_NAME            "argon2id13"
/* A hostile or damaged file must not make us spend minutes or gigabytes. */
#define MAX_OPSLIMIT        32
#define MAX_MEMLIMIT        ((gsize) crypto_pwhash_MEMLIMIT_SENSITIVE)

typedef struct
{
  guint8 sign_sk[crypto_sign_SECRETKEYBYTES];   /* libsodium form: seed ‖ public key */
  guint8 static_sk[crypto_box_SECRETKEYBYTES];
} Secrets;

/* The key derived from the passphrase is kept so that a nospam change can
 * rewrite the file without asking for the passphrase again. */
typedef struct
{
  guint8  key[crypto_secretbox_KEYBYTES];
  guint8  salt[crypto_pwhash_SALTBYTES];
  guint64 opslimit;
  gsize   memlimit;
} Kdf;

struct _EpIdentity
{
  GObject  parent_instance;

  GMutex   mutex;            /* guards kdf, nospam and writing the file */
  Secrets *secrets;          /* sodium_malloc, read-only after construction */
  Kdf     *kdf;              /* sodium_malloc; NULL without passphrase */
  char    *path;
  char    *contact_id;
  guint32  nospam;
  guint8   public_key[EP_IDENTITY_KEY_LEN];
  guint8   static_public[EP_IDENTITY_KEY_LEN];
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

static void
ensure_sodium (void)
{
  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");
}

static gpointer
secure_alloc (gsize size)
{
  gpointer p = sodium_malloc (size);

  if (p == NULL)
    g_error ("Out of locked memory for %" G_GSIZE_FORMAT " bytes of key material", size);
  return p;
}

static void
kdf_free (Kdf *kdf)
{
  if (kdf != NULL)
    sodium_free (kdf);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Kdf, kdf_free)

static char *
secure_strdup (const char *s)
{
  gsize len;
  char *copy;

  if (s == NULL || s[0] == '\0')
    return NULL;
  len = strlen (s);
  copy = secure_alloc (len + 1);
  memcpy (copy, s, len + 1);
  return copy;
}

static void
secure_strfree (char *s)
{
  if (s != NULL)
    sodium_free (s);
}

static void
wiped_free (char *s)
{
  if (s != NULL)
    {
      sodium_memzero (s, strlen (s));
      g_free (s);
    }
}

static gboolean
check_limits (const EpIdentityKdfLimits *limits,
              GError                   **error)
{
  if (limits->opslimit < crypto_pwhash_OPSLIMIT_MIN || limits->opslimit > MAX_OPSLIMIT
      || limits->memlimit < crypto_pwhash_MEMLIMIT_MIN || limits->memlimit > MAX_MEMLIMIT)
    {
      g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_FAILED,
                   "Argon2id limits out of range (opslimit %" G_GUINT64_FORMAT
                   ", memlimit %" G_GSIZE_FORMAT ")", limits->opslimit, limits->memlimit);
      return FALSE;
    }
  return TRUE;
}

static gboolean
derive_key (Kdf         *kdf,
            const char  *passphrase,
            GError     **error)
{
  if (crypto_pwhash (kdf->key, sizeof kdf->key, passphrase, strlen (passphrase),
                     kdf->salt, kdf->opslimit, kdf->memlimit,
                     crypto_pwhash_ALG_ARGON2ID13) != 0)
    {
      g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_FAILED,
                   _("Not enough memory to check the passphrase (%" G_GSIZE_FORMAT " MiB "
                     "needed). Close other programs and try again."),
                   kdf->memlimit / (1024 * 1024));
      return FALSE;
    }
  return TRUE;
}

/* Only the thread that owns the object writes these. */
static void
update_contact_id (EpIdentity *self)
{
  g_free (self->contact_id);
  self->contact_id = ep_contact_id_format (self->public_key, self->nospam);
}

static EpIdentity *
identity_new_take_secrets (Secrets *secrets,
                           guint32  nospam)
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

/* ---- the key file ------------------------------------------------------ */

static void
append_hex (GString      *s,
            const char   *key,
            const guint8 *bin,
            gsize         len)
{
  char *hex = secure_alloc (len * 2 + 1);

  sodium_bin2hex (hex, len * 2 + 1, bin, len);
  g_string_append_printf (s, "%s=%s\n", key, hex);
  sodium_free (hex);
}

/* Called with the mutex held, or before anyone else sees the object. */
static gboolean
write_key_file (EpIdentity  *self,
                const Kdf   *kdf,
                guint32      nospam,
                GError     **error)
{
  /* Sized so that it never reallocates and leaves copies of secrets behind. */
  GString *s = g_string_sized_new (2048);
  guint8 *plain = secure_alloc (SECRETS_LEN);
  guint32 nospam_be = GUINT32_TO_BE (nospam);
  g_autoptr(GError) local_error = NULL;
  gboolean ok;

  crypto_sign_ed25519_sk_to_seed (plain, self->secrets->sign_sk);
  memcpy (plain + 32, self->secrets->static_sk, 32);

  g_string_append (s, "# EncryptedP2P identity. Keep this file private (chmod 600) and backed up:\n"
                      "# it is the only proof that you are you to your contacts.\n");
  g_string_append_printf (s, "[" GROUP_IDENTITY "]\nVersion=%d\n", FILE_VERSION);
  append_hex (s, "SigningKey", self->public_key, EP_IDENTITY_KEY_LEN);
  append_hex (s, "StaticKey", self->static_public, EP_IDENTITY_KEY_LEN);
  append_hex (s, "Nospam", (const guint8 *) &nospam_be, sizeof nospam_be);

  if (kdf == NULL)
    append_hex (s, "Secrets", plain, SECRETS_LEN);
  else
    {
      guint8 nonce[crypto_secretbox_NONCEBYTES];
      guint8 sealed[SECRETS_LEN + crypto_secretbox_MACBYTES];

      randombytes_buf (nonce, sizeof nonce);
      crypto_secretbox_easy (sealed, plain, SECRETS_LEN, nonce, kdf->key);
      g_string_append (s, "\n[" GROUP_PASSPHRASE "]\nKdf=" KDF_NAME "\n");
      g_string_append_printf (s, "OpsLimit=%" G_GUINT64_FORMAT "\nMemLimit=%" G_GSIZE_FORMAT "\n",
                              kdf->opslimit, kdf->memlimit);
      append_hex (s, "Salt", kdf->salt, sizeof kdf->salt);
      append_hex (s, "Nonce", nonce, sizeof nonce);
      append_hex (s, "Secrets", sealed, sizeof sealed);
    }
  sodium_free (plain);

  ok = g_file_set_contents_full (self->path, s->str, s->len,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local_error);
  sodium_memzero (s->str, s->allocated_len);
  g_string_free (s, TRUE);

  if (!ok)
    {
      g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_FAILED,
                   _("Cannot save the key file: %s"), local_error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_key_file (const char  *path,
               char       **contents,
               gsize       *length,
               GError     **error)
{
  struct stat st;
  char *buffer;
  gsize len = 0;
  int fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
  if (fd < 0)
    {
      int saved_errno = errno;

      if (saved_errno == ENOENT)
        g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_NOT_FOUND,
                     _("There is no key file “%s”."), path);
      else if (saved_errno == EACCES)
        g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_PERMISSIONS,
                     _("The key file “%s” cannot be read: %s. It must belong to you "
                       "with mode 600 (chmod 600 “%s”)."),
                     path, g_strerror (saved_errno), path);
      else
        g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_FAILED,
                     _("Cannot open the key file “%s”: %s"), path, g_strerror (saved_errno));
      return FALSE;
    }

  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_CORRUPT,
                   _("“%s” is not a key file: it is not a regular file."), path);
      close (fd);
      return FALSE;
    }
  if (st.st_uid != getuid ())
    {
      g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_PERMISSIONS,
                   _("The key file “%s” belongs to another user. Only its owner may use it."),
                   path);
      close (fd);
      return FALSE;
    }
  if ((st.st_mode & 077) != 0)
    {
      g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_PERMISSIONS,
                   _("The key file “%s” can be read or changed by other users (its mode "
                     "is %03o). Make it private with “chmod 600 %s” and try again."),
                   path, (unsigned) (st.st_mode & 0777), path);
      close (fd);
      return FALSE;
    }
  if (st.st_size > MAX_FILE_SIZE)
    {
      g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_CORRUPT,
                   _("“%s” is too large to be a key file. Restore your key file from a backup."),
                   path);
      close (fd);
      return FALSE;
    }

  buffer = g_malloc (MAX_FILE_SIZE + 1);
  while (len <= MAX_FILE_SIZE)
    {
      gssize n = read (fd, buffer + len, MAX_FILE_SIZE + 1 - len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_FAILED,
                       _("Cannot read the key file “%s”: %s"), path, g_strerror (saved_errno));
          sodium_memzero (buffer, MAX_FILE_SIZE + 1);
          g_free (buffer);
          close (fd);
          return FALSE;
        }
      if (n == 0)
        break;
      len += (gsize) n;
    }
  close (fd);

  if (len > MAX_FILE_SIZE)
    {
      g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_CORRUPT,
                   _("“%s” is too large to be a key file. Restore your key file from a backup."),
                   path);
      sodium_memzero (buffer, MAX_FILE_SIZE + 1);
      g_free (buffer);
      return FALSE;
    }

  buffer[len] = '\0';
  *contents = buffer;
  *length = len;
  return TRUE;
}

static void
set_corrupt (GError     **error,
             const char  *path,
             const char  *what)
{
  g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_CORRUPT,
               _("The key file “%s” is damaged (%s). Restore it from a backup; "
                 "without it this identity cannot be used."),
               path, what);
}

static gboolean
get_hex (GKeyFile    *kf,
         const char  *group,
         const char  *key,
         guint8      *out,
         gsize        len,
         const char  *path,
         GError     **error)
{
  char *hex = g_key_file_get_string (kf, group, key, NULL);
  gsize bin_len = 0;
  const char *end = NULL;
  gboolean ok;

  ok = hex != NULL
       && strlen (hex) == len * 2
       && sodium_hex2bin (out, len, hex, len * 2, NULL, &bin_len, &end) == 0
       && bin_len == len;
  wiped_free (hex);

  if (!ok)
    {
      g_autofree char *what = g_strdup_printf (_("%s in [%s] is missing or malformed"), key, group);

      set_corrupt (error, path, what);
    }
  return ok;
}

static Kdf *
read_kdf (GKeyFile    *kf,
          const char  *path,
          GError     **error)
{
  g_autoptr(Kdf) kdf = secure_alloc (sizeof (Kdf));
  g_autofree char *name = g_key_file_get_string (kf, GROUP_PASSPHRASE, "Kdf", NULL);
  g_autoptr(GError) local_error = NULL;
  EpIdentityKdfLimits limits;

  if (g_strcmp0 (name, KDF_NAME) != 0)
    {
      g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_UNSUPPORTED_VERSION,
                   _("The key file “%s” is protected with a method this version does not "
                     "know. Use a newer version of EncryptedP2P."), path);
      return NULL;
    }

  limits.opslimit = g_key_file_get_uint64 (kf, GROUP_PASSPHRASE, "OpsLimit", &local_error);
  if (local_error == NULL)
    limits.memlimit = (gsize) g_key_file_get_uint64 (kf, GROUP_PASSPHRASE, "MemLimit", &local_error);
  if (local_error != NULL || !check_limits (&limits, NULL))
    {
      set_corrupt (error, path, _("the passphrase settings are invalid"));
      return NULL;
    }
  kdf->opslimit = limits.opslimit;
  kdf->memlimit = limits.memlimit;

  if (!get_hex (kf, GROUP_PASSPHRASE, "Salt", kdf->salt, sizeof kdf->salt, path, error))
    return NULL;

  return g_steal_pointer (&kdf);
}

static EpIdentity *
load_key_file (const char    *path,
               const char    *passphrase,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(Kdf) kdf = NULL;
  char *contents = NULL;
  gsize length = 0;
  guint8 signing_key[EP_IDENTITY_KEY_LEN];
  guint8 static_key[EP_IDENTITY_KEY_LEN];
  guint8 check[EP_IDENTITY_KEY_LEN];
  guint8 nospam_be[4];
  guint8 *plain = NULL;
  Secrets *secrets = NULL;
  EpIdentity *self;
  gint version;
  gboolean parsed;

  if (!read_key_file (path, &contents, &length, error))
    return NULL;
  parsed = g_key_file_load_from_data (kf, contents, length, G_KEY_FILE_NONE, &local_error);
  sodium_memzero (contents, length);
  g_free (contents);
  if (!parsed)
    {
      set_corrupt (error, path, local_error->message);
      return NULL;
    }

  version = g_key_file_get_integer (kf, GROUP_IDENTITY, "Version", &local_error);
  if (local_error != NULL || version < 1)
    {
      set_corrupt (error, path, _("no version"));
      return NULL;
    }
  if (version > FILE_VERSION)
    {
      g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_UNSUPPORTED_VERSION,
                   _("The key file “%s” was written by a newer version of EncryptedP2P "
                     "(format %d). Use that version or a newer one."), path, version);
      return NULL;
    }

  if (!get_hex (kf, GROUP_IDENTITY, "SigningKey", signing_key, sizeof signing_key, path, error)
      || !get_hex (kf, GROUP_IDENTITY, "StaticKey", static_key, sizeof static_key, path, error)
      || !get_hex (kf, GROUP_IDENTITY, "Nospam", nospam_be, sizeof nospam_be, path, error))
    return NULL;

  plain = secure_alloc (SECRETS_LEN);

  if (g_key_file_has_group (kf, GROUP_PASSPHRASE))
    {
      guint8 nonce[crypto_secretbox_NONCEBYTES];
      guint8 sealed[SECRETS_LEN + crypto_secretbox_MACBYTES];

      if (passphrase == NULL || passphrase[0] == '\0')
        {
          g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_NEEDS_PASSPHRASE,
                       _("The key file “%s” is protected by a passphrase. Enter the "
                         "passphrase to unlock it."), path);
          goto fail;
        }
      kdf = read_kdf (kf, path, error);
      if (kdf == NULL
          || !get_hex (kf, GROUP_PASSPHRASE, "Nonce", nonce, sizeof nonce, path, error)
          || !get_hex (kf, GROUP_PASSPHRASE, "Secrets", sealed, sizeof sealed, path, error))
        goto fail;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto fail;
      if (!derive_key (kdf, passphrase, error))
        goto fail;
      if (crypto_secretbox_open_easy (plain, sealed, sizeof sealed, nonce, kdf->key) != 0)
        {
          g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_WRONG_PASSPHRASE,
                       _("Wrong passphrase for the key file “%s”. Check it and try again."),
                       path);
          goto fail;
        }
    }
  else if (!get_hex (kf, GROUP_IDENTITY, "Secrets", plain, SECRETS_LEN, path, error))
    goto fail;

  secrets = secure_alloc (sizeof (Secrets));
  crypto_sign_seed_keypair (check, secrets->sign_sk, plain);
  memcpy (secrets->static_sk, plain + 32, 32);
  sodium_free (g_steal_pointer (&plain));

  if (memcmp (check, signing_key, sizeof check) != 0)
    {
      set_corrupt (error, path, _("the signing key does not match its secret"));
      goto fail;
    }
  crypto_scalarmult_base (check, secrets->static_sk);
  if (memcmp (check, static_key, sizeof check) != 0)
    {
      set_corrupt (error, path, _("the static key does not match its secret"));
      goto fail;
    }

  self = identity_new_take_secrets (g_steal_pointer (&secrets),
                                    (guint32) nospam_be[0] << 24 | (guint32) nospam_be[1] << 16
                                    | (guint32) nospam_be[2] << 8 | nospam_be[3]);
  self->path = g_strdup (path);
  self->kdf = g_steal_pointer (&kdf);
  return self;

fail:
  if (plain != NULL)
    sodium_free (plain);
  if (secrets != NULL)
    sodium_free (secrets);
  return NULL;
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
  g_autoptr(Kdf) kdf = NULL;

  if (passphrase != NULL && passphrase[0] != '\0')
    {
      EpIdentityKdfLimits defaults = {
        crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE
      };

      if (limits == NULL)
        limits = &defaults;
      if (!check_limits (limits, error))
        return FALSE;
      kdf = secure_alloc (sizeof (Kdf));
      kdf->opslimit = limits->opslimit;
      kdf->memlimit = limits->memlimit;
      randombytes_buf (kdf->salt, sizeof kdf->salt);
      if (!derive_key (kdf, passphrase, error))
        return FALSE;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  g_mutex_lock (&self->mutex);
  if (self->path != NULL && !write_key_file (self, kdf, self->nospam, error))
    {
      g_mutex_unlock (&self->mutex);
      return FALSE;
    }
  kdf_free (self->kdf);
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
  kdf_free (self->kdf);
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
  Secrets *secrets;
  guint8 public_key[crypto_sign_PUBLICKEYBYTES];
  guint32 nospam;

  ensure_sodium ();
  secrets = secure_alloc (sizeof (Secrets));
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
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ensure_sodium ();
  return load_key_file (path, passphrase, cancellable, error);
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
  secure_strfree (data->passphrase);
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

  ensure_sodium ();
  data = g_new0 (OpenData, 1);
  data->profile_dir = g_strdup (profile_dir);
  data->passphrase = secure_strdup (passphrase);
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
  if (self->path != NULL && !write_key_file (self, self->kdf, nospam, error))
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
  secure_strfree (data->passphrase);
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
  data->passphrase = secure_strdup (new_passphrase);
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
