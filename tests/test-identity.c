/* test-identity.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ep-core.h"

/* Argon2id at its cheapest: the tests check behaviour, not cost. */
static const EpIdentityKdfLimits fast = { crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN };

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("ep-identity-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, EP_IDENTITY_FILE_NAME, NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static guint
file_mode (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_mode & 0777;
}

static void
assert_message_has (const GError *error,
                    const char   *part)
{
  g_test_message ("message: %s", error->message);
  if (strstr (error->message, part) == NULL)
    g_error ("“%s” not in “%s”", part, error->message);
}

static void
assert_same_identity (EpIdentity *a,
                      EpIdentity *b)
{
  g_assert_cmpmem (ep_identity_get_public_key (a), 32, ep_identity_get_public_key (b), 32);
  g_assert_cmpmem (ep_identity_get_static_public_key (a), 32,
                   ep_identity_get_static_public_key (b), 32);
  g_assert_cmpuint (ep_identity_get_nospam (a), ==, ep_identity_get_nospam (b));
  g_assert_cmpstr (ep_identity_get_contact_id (a), ==, ep_identity_get_contact_id (b));
}

static void
assert_can_sign (EpIdentity *identity)
{
  static const guint8 message[] = "presence";
  guint8 sig[64];

  ep_identity_sign (identity, message, sizeof message, sig);
  g_assert_cmpint (crypto_sign_verify_detached (sig, message, sizeof message,
                                                ep_identity_get_public_key (identity)), ==, 0);
}

static void
replace_in_file (const char *path,
                 const char *from,
                 const char *to)
{
  g_autofree char *contents = NULL;
  g_autofree char *changed = NULL;
  g_autoptr(GError) error = NULL;
  GString *s;

  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (contents, from));
  s = g_string_new (contents);
  g_string_replace (s, from, to, 1);
  changed = g_string_free (s, FALSE);
  g_assert_true (g_file_set_contents_full (path, changed, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                           0600, &error));
  g_assert_no_error (error);
}

static char *
file_value (const char *path,
            const char *group,
            const char *key)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);
  return g_key_file_get_string (kf, group, key, NULL);
}

static void
test_identity_create_load (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(EpIdentity) created = NULL;
  g_autoptr(EpIdentity) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contact_id = NULL;
  guint8 converted[32];
  guint8 key[32];
  guint32 nospam = 0;
  gboolean was_created = FALSE;

  created = ep_identity_open (f->dir, NULL, NULL, &was_created, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (was_created);
  g_assert_cmpstr (ep_identity_get_path (created), ==, f->path);
  g_assert_cmpuint (file_mode (f->path), ==, 0600);
  g_assert_false (ep_identity_is_encrypted (created));

  loaded = ep_identity_open (f->dir, NULL, NULL, &was_created, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (was_created);
  assert_same_identity (created, loaded);
  assert_can_sign (loaded);

  /* The contact ID parses back to the identity key and nospam. */
  g_object_get (loaded, "contact-id", &contact_id, NULL);
  g_assert_true (ep_contact_id_parse (contact_id, key, &nospam, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (key, 32, ep_identity_get_public_key (loaded), 32);
  g_assert_cmpuint (nospam, ==, ep_identity_get_nospam (loaded));

  /* The X25519 key is its own key, not the Ed25519 one converted. */
  g_assert_cmpint (crypto_sign_ed25519_pk_to_curve25519 (converted,
                                                         ep_identity_get_public_key (loaded)),
                   ==, 0);
  g_assert_true (memcmp (converted, ep_identity_get_static_public_key (loaded), 32) != 0);

  /* Creating over it is refused and leaves it alone. */
  g_clear_object (&created);
  created = ep_identity_create (f->path, NULL, NULL, NULL, &error);
  g_assert_null (created);
  g_assert_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_EXISTS);
  g_clear_error (&error);
  g_clear_object (&loaded);
  loaded = ep_identity_load (f->path, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (key, 32, ep_identity_get_public_key (loaded), 32);
}

static void
test_identity_two_differ (void)
{
  g_autoptr(EpIdentity) a = ep_identity_new_random ();
  g_autoptr(EpIdentity) b = ep_identity_new_random ();
  guint8 ab[32], ba[32];
  guint8 low_order[32] = { 0 };

  g_assert_true (memcmp (ep_identity_get_public_key (a), ep_identity_get_public_key (b), 32) != 0);
  g_assert_cmpstr (ep_identity_get_contact_id (a), !=, ep_identity_get_contact_id (b));
  g_assert_null (ep_identity_get_path (a));

  /* Static DH agrees both ways, and refuses a low-order peer key. */
  g_assert_true (ep_identity_dh (a, ep_identity_get_static_public_key (b), ab));
  g_assert_true (ep_identity_dh (b, ep_identity_get_static_public_key (a), ba));
  g_assert_cmpmem (ab, 32, ba, 32);
  g_assert_false (ep_identity_dh (a, low_order, ab));
  for (guint i = 0; i < 32; i++)
    g_assert_cmpuint (ab[i], ==, 0);
}

static void
copy_secret (const guint8 secret[32],
             gpointer     user_data)
{
  memcpy (user_data, secret, 32);
}

static void
test_identity_static_secret (void)
{
  g_autoptr(EpIdentity) identity = ep_identity_new_random ();
  guint8 secret[32], pub[32];

  ep_identity_with_static_secret (identity, copy_secret, secret);
  crypto_scalarmult_base (pub, secret);
  sodium_memzero (secret, sizeof secret);
  g_assert_cmpmem (pub, 32, ep_identity_get_static_public_key (identity), 32);
}

static void
test_identity_permissions (Fixture       *f,
                           gconstpointer  data)
{
  static const guint modes[] = { 0644, 0640, 0604, 0660, 0620 };
  g_autoptr(EpIdentity) created = NULL;
  g_autoptr(GError) error = NULL;

  created = ep_identity_create (f->path, NULL, NULL, NULL, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autoptr(EpIdentity) loaded = NULL;
      g_autofree char *mode = g_strdup_printf ("mode is %03o", modes[i]);

      g_assert_cmpint (g_chmod (f->path, modes[i]), ==, 0);
      loaded = ep_identity_load (f->path, NULL, NULL, &error);
      g_assert_null (loaded);
      g_assert_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_PERMISSIONS);
      assert_message_has (error, f->path);
      assert_message_has (error, "chmod 600");
      assert_message_has (error, mode);
      g_clear_error (&error);

      /* Opening a profile does not replace it with a new identity either. */
      loaded = ep_identity_open (f->dir, NULL, NULL, NULL, NULL, &error);
      g_assert_null (loaded);
      g_assert_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_PERMISSIONS);
      g_clear_error (&error);
    }

  g_assert_cmpint (g_chmod (f->path, 0600), ==, 0);
  if (getuid () == 0)
    {
      g_autoptr(EpIdentity) loaded = NULL;

      /* Only root can give a file away; a file of someone else is refused. */
      g_assert_cmpint (chown (f->path, 65534, (gid_t) -1), ==, 0);
      loaded = ep_identity_load (f->path, NULL, NULL, &error);
      g_assert_null (loaded);
      g_assert_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_PERMISSIONS);
      assert_message_has (error, "belongs to another user");
      g_clear_error (&error);
      g_assert_cmpint (chown (f->path, 0, (gid_t) -1), ==, 0);
    }

  g_assert_cmpint (g_chmod (f->path, 0400), ==, 0);
  {
    g_autoptr(EpIdentity) loaded = ep_identity_load (f->path, NULL, NULL, &error);

    g_assert_no_error (error);
    assert_same_identity (created, loaded);
  }
}

static void
test_identity_passphrase (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(EpIdentity) created = NULL;
  g_autoptr(EpIdentity) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *plain_secrets = NULL;
  g_autofree char *sealed = NULL;
  g_autofree char *ops = NULL;

  created = ep_identity_create (f->path, "correct horse", &fast, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ep_identity_is_encrypted (created));
  g_assert_cmpuint (file_mode (f->path), ==, 0600);

  /* Secrets only in sealed form; the limits are stored. */
  plain_secrets = file_value (f->path, "Identity", "Secrets");
  g_assert_null (plain_secrets);
  sealed = file_value (f->path, "Passphrase", "Secrets");
  g_assert_cmpuint (strlen (sealed), ==, (64 + 16) * 2);
  ops = file_value (f->path, "Passphrase", "OpsLimit");
  g_assert_cmpstr (ops, ==, "1");

  loaded = ep_identity_load (f->path, NULL, NULL, &error);
  g_assert_null (loaded);
  g_assert_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_NEEDS_PASSPHRASE);
  assert_message_has (error, "passphrase");
  g_clear_error (&error);

  loaded = ep_identity_load (f->path, "correct horsE", NULL, &error);
  g_assert_null (loaded);
  g_assert_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_WRONG_PASSPHRASE);
  assert_message_has (error, "Wrong passphrase");
  assert_message_has (error, f->path);
  g_clear_error (&error);

  loaded = ep_identity_load (f->path, "correct horse", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ep_identity_is_encrypted (loaded));
  assert_same_identity (created, loaded);
  assert_can_sign (loaded);

  /* A cancelled load does no work. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(EpIdentity) none = NULL;

    g_cancellable_cancel (cancellable);
    none = ep_identity_load (f->path, "correct horse", cancellable, &error);
    g_assert_null (none);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
  }
}

static void
write_file (const char *path,
            const char *contents)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents_full (path, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                           0600, &error));
  g_assert_no_error (error);
}

static void
assert_load_fails (const char *path,
                   const char *passphrase,
                   int         code,
                   const char *part)
{
  g_autoptr(EpIdentity) loaded = NULL;
  g_autoptr(GError) error = NULL;

  loaded = ep_identity_load (path, passphrase, NULL, &error);
  g_assert_null (loaded);
  g_assert_error (error, EP_IDENTITY_ERROR, code);
  assert_message_has (error, part);
}

static void
test_identity_corrupt (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(EpIdentity) created = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *original = NULL;
  g_autofree char *signing = NULL;
  g_autofree char *flipped = NULL;
  g_autofree char *big = NULL;

  assert_load_fails (f->path, NULL, EP_IDENTITY_ERROR_NOT_FOUND, f->path);

  write_file (f->path, "this is not a key file\n\x01\x02");
  assert_load_fails (f->path, NULL, EP_IDENTITY_ERROR_CORRUPT, "is damaged");

  write_file (f->path, "[Identity]\nVersion=1\nSigningKey=00\n");
  assert_load_fails (f->path, NULL, EP_IDENTITY_ERROR_CORRUPT, "SigningKey");

  big = g_strnfill (20000, '#');
  write_file (f->path, big);
  assert_load_fails (f->path, NULL, EP_IDENTITY_ERROR_CORRUPT, "too large");

  g_unlink (f->path);
  g_assert_cmpint (g_mkdir (f->path, 0700), ==, 0);
  assert_load_fails (f->path, NULL, EP_IDENTITY_ERROR_CORRUPT, "not a regular file");
  g_rmdir (f->path);

  created = ep_identity_create (f->path, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (f->path, &original, NULL, NULL));

  replace_in_file (f->path, "Version=1", "Version=7");
  assert_load_fails (f->path, NULL, EP_IDENTITY_ERROR_UNSUPPORTED_VERSION, "newer version");
  write_file (f->path, original);

  /* A public key that does not belong to the secret one. */
  signing = file_value (f->path, "Identity", "SigningKey");
  flipped = g_strdup (signing);
  flipped[0] = flipped[0] == '0' ? '1' : '0';
  replace_in_file (f->path, signing, flipped);
  assert_load_fails (f->path, NULL, EP_IDENTITY_ERROR_CORRUPT, "signing key does not match");
  write_file (f->path, original);

  replace_in_file (f->path, "Secrets=", "Secrets=zz");
  assert_load_fails (f->path, NULL, EP_IDENTITY_ERROR_CORRUPT, "Secrets");
  write_file (f->path, original);

  {
    g_autoptr(EpIdentity) loaded = ep_identity_load (f->path, NULL, NULL, &error);

    g_assert_no_error (error);
    assert_same_identity (created, loaded);
  }
}

static void
test_identity_corrupt_encrypted (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(EpIdentity) created = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *original = NULL;
  g_autofree char *sealed = NULL;
  g_autofree char *tampered = NULL;

  created = ep_identity_create (f->path, "pw", &fast, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (f->path, &original, NULL, NULL));

  /* Costs that would hang or exhaust memory are refused before any work. */
  replace_in_file (f->path, "OpsLimit=1", "OpsLimit=100000");
  assert_load_fails (f->path, "pw", EP_IDENTITY_ERROR_CORRUPT, "passphrase settings");
  write_file (f->path, original);
  replace_in_file (f->path, "MemLimit=8192", "MemLimit=99999999999");
  assert_load_fails (f->path, "pw", EP_IDENTITY_ERROR_CORRUPT, "passphrase settings");
  write_file (f->path, original);
  replace_in_file (f->path, "Kdf=argon2id13", "Kdf=scrypt");
  assert_load_fails (f->path, "pw", EP_IDENTITY_ERROR_UNSUPPORTED_VERSION, "newer version");
  write_file (f->path, original);

  /* Changed ciphertext cannot be told from a wrong passphrase. */
  sealed = file_value (f->path, "Passphrase", "Secrets");
  tampered = g_strdup (sealed);
  tampered[10] = tampered[10] == 'a' ? 'b' : 'a';
  replace_in_file (f->path, sealed, tampered);
  assert_load_fails (f->path, "pw", EP_IDENTITY_ERROR_WRONG_PASSPHRASE, "Wrong passphrase");
  write_file (f->path, original);

  {
    g_autoptr(EpIdentity) loaded = ep_identity_load (f->path, "pw", NULL, &error);

    g_assert_no_error (error);
    assert_same_identity (created, loaded);
  }
}

typedef struct
{
  GAsyncResult *result;
  gboolean      timed_out;
} Wait;

static void
on_ready (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Wait *wait = user_data;

  wait->result = g_object_ref (result);
}

static gboolean
on_timeout (gpointer user_data)
{
  Wait *wait = user_data;

  wait->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

static void
wait_for_result (Wait *wait)
{
  guint id = g_timeout_add_seconds (30, on_timeout, wait);

  while (wait->result == NULL && !wait->timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (wait->timed_out);
  g_source_remove (id);
}

static void
test_identity_change_passphrase (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(EpIdentity) identity = NULL;
  g_autoptr(GError) error = NULL;
  Wait wait = { NULL, FALSE };

  identity = ep_identity_create (f->path, NULL, NULL, NULL, &error);
  g_assert_no_error (error);

  /* Add one (async, off the main thread). */
  ep_identity_change_passphrase_async (identity, "first", &fast, NULL, on_ready, &wait);
  wait_for_result (&wait);
  g_assert_true (ep_identity_change_passphrase_finish (identity, wait.result, &error));
  g_assert_no_error (error);
  g_clear_object (&wait.result);
  g_assert_true (ep_identity_is_encrypted (identity));
  g_assert_cmpuint (file_mode (f->path), ==, 0600);
  assert_load_fails (f->path, NULL, EP_IDENTITY_ERROR_NEEDS_PASSPHRASE, "passphrase");
  {
    g_autoptr(EpIdentity) loaded = ep_identity_load (f->path, "first", NULL, &error);

    g_assert_no_error (error);
    assert_same_identity (identity, loaded);
  }

  /* Change it. */
  g_assert_true (ep_identity_change_passphrase (identity, "second", &fast, NULL, &error));
  g_assert_no_error (error);
  assert_load_fails (f->path, "first", EP_IDENTITY_ERROR_WRONG_PASSPHRASE, "Wrong passphrase");
  {
    g_autoptr(EpIdentity) loaded = ep_identity_load (f->path, "second", NULL, &error);

    g_assert_no_error (error);
    assert_same_identity (identity, loaded);

    /* Remove it from the loaded copy: it works on loaded identities too. */
    g_assert_true (ep_identity_change_passphrase (loaded, NULL, NULL, NULL, &error));
    g_assert_no_error (error);
    g_assert_false (ep_identity_is_encrypted (loaded));
  }
  {
    g_autoptr(EpIdentity) loaded = ep_identity_load (f->path, NULL, NULL, &error);
    g_autofree char *secrets = file_value (f->path, "Identity", "Secrets");

    g_assert_no_error (error);
    assert_same_identity (identity, loaded);
    g_assert_cmpuint (strlen (secrets), ==, 128);
  }

  /* Out-of-range costs are an error, and change nothing. */
  {
    EpIdentityKdfLimits silly = { 1000, 1 };

    g_assert_false (ep_identity_change_passphrase (identity, "x", &silly, NULL, &error));
    g_assert_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_FAILED);
    g_clear_error (&error);
    g_assert_null (file_value (f->path, "Passphrase", "Secrets"));
  }
}

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  GPtrArray *names = user_data;

  g_ptr_array_add (names, g_strdup (pspec->name));
}

static void
test_identity_nospam (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(EpIdentity) identity = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) notified = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *old_id = NULL;
  guint8 old_key[32];
  guint32 new_nospam;

  identity = ep_identity_create (f->path, "pw", &fast, NULL, &error);
  g_assert_no_error (error);
  old_id = g_strdup (ep_identity_get_contact_id (identity));
  memcpy (old_key, ep_identity_get_public_key (identity), 32);
  new_nospam = ep_identity_get_nospam (identity) ^ 0x00010000;

  g_signal_connect (identity, "notify", G_CALLBACK (on_notify), notified);
  g_assert_true (ep_identity_set_nospam (identity, new_nospam, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (notified->len, ==, 2);
  g_assert_cmpuint (ep_identity_get_nospam (identity), ==, new_nospam);
  g_assert_cmpstr (ep_identity_get_contact_id (identity), !=, old_id);
  g_assert_cmpmem (ep_identity_get_public_key (identity), 32, old_key, 32);

  /* Same value again: nothing happens. */
  g_assert_true (ep_identity_set_nospam (identity, new_nospam, &error));
  g_assert_cmpuint (notified->len, ==, 2);

  /* Persisted, still under the passphrase, without asking for it again. */
  g_assert_true (ep_identity_is_encrypted (identity));
  assert_load_fails (f->path, NULL, EP_IDENTITY_ERROR_NEEDS_PASSPHRASE, "passphrase");
  {
    g_autoptr(EpIdentity) loaded = ep_identity_load (f->path, "pw", NULL, &error);

    g_assert_no_error (error);
    assert_same_identity (identity, loaded);
    g_assert_cmpuint (ep_identity_get_nospam (loaded), ==, new_nospam);
  }

  /* A random new one, persisted too. */
  g_free (old_id);
  old_id = g_strdup (ep_identity_get_contact_id (identity));
  g_assert_true (ep_identity_reset_nospam (identity, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ep_identity_get_nospam (identity), !=, new_nospam);
  g_assert_cmpstr (ep_identity_get_contact_id (identity), !=, old_id);
  g_assert_cmpmem (ep_identity_get_public_key (identity), 32, old_key, 32);
  g_assert_cmpuint (notified->len, ==, 4);
  {
    g_autoptr(EpIdentity) loaded = ep_identity_load (f->path, "pw", NULL, &error);

    g_assert_no_error (error);
    assert_same_identity (identity, loaded);
  }
  new_nospam = ep_identity_get_nospam (identity);

  /* A failed write (the profile folder went away) changes nothing. */
  {
    g_autofree char *moved = g_strconcat (f->dir, ".moved", NULL);

    g_assert_cmpint (g_rename (f->dir, moved), ==, 0);
    g_assert_false (ep_identity_set_nospam (identity, 1234, &error));
    g_assert_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_FAILED);
    assert_message_has (error, "Cannot save the key file");
    g_clear_error (&error);
    g_assert_cmpint (g_rename (moved, f->dir), ==, 0);
    g_assert_cmpuint (ep_identity_get_nospam (identity), ==, new_nospam);
    g_assert_cmpuint (notified->len, ==, 4);
  }
}

static void
test_identity_open_async (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(EpIdentity) first = NULL;
  g_autoptr(EpIdentity) second = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *profile = g_build_filename (f->dir, "profile", NULL);
  g_autofree char *path = g_build_filename (profile, EP_IDENTITY_FILE_NAME, NULL);
  Wait wait = { NULL, FALSE };
  gboolean created = FALSE;

  ep_identity_open_async (profile, "secret", &fast, NULL, on_ready, &wait);
  wait_for_result (&wait);
  first = ep_identity_open_finish (wait.result, &created, &error);
  g_assert_no_error (error);
  g_assert_true (created);
  g_clear_object (&wait.result);
  g_assert_cmpuint (file_mode (profile), ==, 0700);
  g_assert_cmpuint (file_mode (path), ==, 0600);

  ep_identity_open_async (profile, "wrong", &fast, NULL, on_ready, &wait);
  wait_for_result (&wait);
  second = ep_identity_open_finish (wait.result, &created, &error);
  g_assert_null (second);
  g_assert_error (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);
  g_clear_object (&wait.result);

  ep_identity_open_async (profile, "secret", NULL, NULL, on_ready, &wait);
  wait_for_result (&wait);
  second = ep_identity_open_finish (wait.result, &created, &error);
  g_assert_no_error (error);
  g_assert_false (created);
  g_clear_object (&wait.result);
  assert_same_identity (first, second);

  g_unlink (path);
  g_rmdir (profile);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/ep/identity/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("create-load", test_identity_create_load);
  g_test_add_func ("/ep/identity/two-differ", test_identity_two_differ);
  g_test_add_func ("/ep/identity/static-secret", test_identity_static_secret);
  ADD ("permissions", test_identity_permissions);
  ADD ("passphrase", test_identity_passphrase);
  ADD ("corrupt", test_identity_corrupt);
  ADD ("corrupt-encrypted", test_identity_corrupt_encrypted);
  ADD ("change-passphrase", test_identity_change_passphrase);
  ADD ("nospam", test_identity_nospam);
  ADD ("open-async", test_identity_open_async);

#undef ADD

  return g_test_run ();
}
