/* ep-identity-file.c — the key file of an identity, and its secure memory
 *
 * The format is described in ep-identity.h. Everything here may run in a
 * worker thread.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ep-identity-private.h"

#define FILE_VERSION        1
#define MAX_FILE_SIZE       (16 * 1024)
#define SECRETS_LEN         64   /* Ed25519 seed ‖ X25519 secret key */
#define GROUP_IDENTITY      "Identity"
#define GROUP_PASSPHRASE    "Passphrase"
#define KDF_NAME            "argon2id13"
/* A hostile or damaged file must not make us spend minutes or gigabytes. */
#define MAX_OPSLIMIT        32
#define MAX_MEMLIMIT        ((gsize) crypto_pwhash_MEMLIMIT_SENSITIVE)

/* ---- secure memory and the passphrase key -------------------------------- */

void
ep_identity_ensure_sodium (void)
{
  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");
}

gpointer
ep_identity_secure_alloc (gsize size)
{
  gpointer p = sodium_malloc (size);

  if (p == NULL)
    g_error ("Out of locked memory for %" G_GSIZE_FORMAT " bytes of key material", size);
  return p;
}

void
ep_identity_kdf_free (EpIdentityKdf *kdf)
{
  if (kdf != NULL)
    sodium_free (kdf);
}

char *
ep_identity_secure_strdup (const char *s)
{
  gsize len;
  char *copy;

  if (s == NULL || s[0] == '\0')
    return NULL;
  len = strlen (s);
  copy = ep_identity_secure_alloc (len + 1);
  memcpy (copy, s, len + 1);
  return copy;
}

void
ep_identity_secure_strfree (char *s)
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

gboolean
ep_identity_kdf_check_limits (const EpIdentityKdfLimits  *limits,
                              GError                    **error)
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

gboolean
ep_identity_kdf_derive (EpIdentityKdf  *kdf,
                        const char     *passphrase,
                        GError        **error)
{
  if (crypto_pwhash (kdf->key, sizeof kdf->key, passphrase, strlen (passphrase),
                     kdf->salt, kdf->opslimit, kdf->memlimit,
                     crypto_pwhash_ALG_ARGON2ID13) != 0)
    {
      g_set_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_FAILED,
                   _("Not enough memory to check the passphrase (%u MiB "
                     "needed). Close other programs and try again."),
                   (guint) ((kdf->memlimit + 1024 * 1024 - 1) / (1024 * 1024)));
      return FALSE;
    }
  return TRUE;
}

/* ---- the key file ------------------------------------------------------ */

static void
append_hex (GString      *s,
            const char   *key,
            const guint8 *bin,
            gsize         len)
{
  char *hex = ep_identity_secure_alloc (len * 2 + 1);

  sodium_bin2hex (hex, len * 2 + 1, bin, len);
  g_string_append_printf (s, "%s=%s\n", key, hex);
  sodium_free (hex);
}

/**
 * ep_identity_file_write:
 *
 * Replaces the key file at @path atomically, mode 0600. The secrets are
 * sealed under @kdf's key with a fresh nonce when @kdf is set. Buffers that
 * held secrets are wiped.
 */
gboolean
ep_identity_file_write (const char               *path,
                        const EpIdentitySecrets  *secrets,
                        const guint8             *public_key,
                        const guint8             *static_public,
                        guint32                   nospam,
                        const EpIdentityKdf      *kdf,
                        GError                  **error)
{
  /* Sized so that it never reallocates and leaves copies of secrets behind. */
  GString *s = g_string_sized_new (2048);
  guint8 *plain = ep_identity_secure_alloc (SECRETS_LEN);
  guint32 nospam_be = GUINT32_TO_BE (nospam);
  g_autoptr(GError) local_error = NULL;
  gboolean ok;

  crypto_sign_ed25519_sk_to_seed (plain, secrets->sign_sk);
  memcpy (plain + 32, secrets->static_sk, 32);

  g_string_append (s, "# EncryptedP2P identity. Keep this file private (chmod 600) and backed up:\n"
                      "# it is the only proof that you are you to your contacts.\n");
  g_string_append_printf (s, "[" GROUP_IDENTITY "]\nVersion=%d\n", FILE_VERSION);
  append_hex (s, "SigningKey", public_key, EP_IDENTITY_KEY_LEN);
  append_hex (s, "StaticKey", static_public, EP_IDENTITY_KEY_LEN);
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

  ok = g_file_set_contents_full (path, s->str, s->len,
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

static EpIdentityKdf *
read_kdf (GKeyFile    *kf,
          const char  *path,
          GError     **error)
{
  g_autoptr(EpIdentityKdf) kdf = ep_identity_secure_alloc (sizeof (EpIdentityKdf));
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
  if (local_error != NULL || !ep_identity_kdf_check_limits (&limits, NULL))
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

/**
 * ep_identity_file_read:
 *
 * Reads and checks the key file at @path: owner and mode, format, version,
 * passphrase, and that the secrets give back the stored public keys.
 *
 * Returns: the secrets (sodium_malloc, writable) and in @nospam and @kdf
 *   (%NULL without passphrase) the rest, or %NULL with @error set
 */
EpIdentitySecrets *
ep_identity_file_read (const char      *path,
                       const char      *passphrase,
                       GCancellable    *cancellable,
                       guint32         *nospam,
                       EpIdentityKdf  **kdf_out,
                       GError         **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(EpIdentityKdf) kdf = NULL;
  char *contents = NULL;
  gsize length = 0;
  guint8 signing_key[EP_IDENTITY_KEY_LEN];
  guint8 static_key[EP_IDENTITY_KEY_LEN];
  guint8 check[EP_IDENTITY_KEY_LEN];
  guint8 nospam_be[4];
  guint8 *plain = NULL;
  EpIdentitySecrets *secrets = NULL;
  gint version;
  gboolean parsed;

  if (!read_key_file (path, &contents, &length, error))
    return NULL;
  /* GKeyFile keeps copies of the values that it frees without wiping. For
   * a key file without passphrase that is the secret already lying on disk;
   * with one, only sealed bytes pass through it. */
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

  plain = ep_identity_secure_alloc (SECRETS_LEN);

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
      if (!ep_identity_kdf_derive (kdf, passphrase, error))
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

  secrets = ep_identity_secure_alloc (sizeof (EpIdentitySecrets));
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

  *nospam = (guint32) nospam_be[0] << 24 | (guint32) nospam_be[1] << 16
            | (guint32) nospam_be[2] << 8 | nospam_be[3];
  *kdf_out = g_steal_pointer (&kdf);
  return secrets;

fail:
  if (plain != NULL)
    sodium_free (plain);
  if (secrets != NULL)
    sodium_free (secrets);
  return NULL;
}

