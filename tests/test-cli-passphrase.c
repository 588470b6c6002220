/* test-cli-passphrase.c — `encryptedp2p-node chat --passphrase-file` opens a
 * profile the app protected with a passphrase, and refuses bad files clearly
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>

#include "ep-core.h"

#define PASSPHRASE "correct horse battery staple"

typedef struct
{
  char *dir;
  char *profile;
  char *key_hex;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpNode) node = NULL;
  EpIdentityKdfLimits limits = { crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN };

  f->dir = g_dir_make_tmp ("ep-cli-pass-XXXXXX", &error);
  g_assert_no_error (error);
  f->profile = g_build_filename (f->dir, "profile", NULL);
  node = ep_node_open (f->profile, NULL, &error);
  g_assert_no_error (error);
  f->key_hex = g_strdup (ep_node_get_key (node));
  g_assert_true (ep_identity_change_passphrase (ep_node_get_identity (node), PASSPHRASE,
                                                &limits, NULL, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);

  g_assert_cmpint (system (cmd), ==, 0);
  g_free (f->key_hex);
  g_free (f->profile);
  g_free (f->dir);
}

static char *
write_file (Fixture    *f,
            const char *name,
            const char *contents,
            gssize      len,
            int         mode)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (f->dir, name, NULL);

  g_assert_true (g_file_set_contents_full (path, contents, len, G_FILE_SET_CONTENTS_NONE,
                                           mode, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
  return path;
}

/* Runs chat with standard input closed at once (it quits after starting);
 * returns its exit status. */
static int
run_chat (Fixture     *f,
          const char  *passphrase_file,
          char       **out,
          char       **err)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) g_getenv ("EP_NODE"));
  g_ptr_array_add (argv, (gpointer) "chat");
  g_ptr_array_add (argv, (gpointer) "--profile");
  g_ptr_array_add (argv, f->profile);
  g_ptr_array_add (argv, (gpointer) "--no-default-bootstrap");
  g_ptr_array_add (argv, (gpointer) "--no-lan");
  g_ptr_array_add (argv, (gpointer) "--bind");
  g_ptr_array_add (argv, (gpointer) "127.0.0.1");
  if (passphrase_file != NULL)
    {
      g_ptr_array_add (argv, (gpointer) "--passphrase-file");
      g_ptr_array_add (argv, (gpointer) passphrase_file);
    }
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                               | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (process, "", NULL, out, err, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  return g_subprocess_get_exit_status (process);
}

static void
test_opens (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *path = write_file (f, "pass", PASSPHRASE "\n", -1, 0600);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *key = NULL;

  g_assert_cmpint (run_chat (f, path, &out, &err), ==, 0);
  key = g_strdup_printf ("\"key\":\"%s\"", f->key_hex);
  g_assert_nonnull (strstr (out, "\"event\":\"ready\""));
  g_assert_nonnull (strstr (out, key));
}

static void
test_refuses (Fixture       *f,
              gconstpointer  data)
{
  static const char long_line[2048] = { [0 ... 2046] = 'x' };
  struct
  {
    const char *name;
    const char *contents;
    gssize      len;
    int         mode;
    const char *says;
  } cases[] = {
    { "wrong", "not the passphrase\n", -1, 0600, "passphrase" },
    { "shared", PASSPHRASE "\n", -1, 0644, "mode 0600" },
    { "empty", "", 0, 0600, "one line" },
    { "two-lines", PASSPHRASE "\nmore\n", -1, 0600, "one line" },
    { "nul", "abc\0def", 7, 0600, "one line" },
    { "long", long_line, -1, 0600, "longer than" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = write_file (f, cases[i].name, cases[i].contents, cases[i].len,
                                          cases[i].mode);
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;

      g_test_message ("case %s", cases[i].name);
      g_assert_cmpint (run_chat (f, path, &out, &err), !=, 0);
      g_assert_null (strstr (out, "\"event\":\"ready\""));
      g_assert_nonnull (strstr (err, cases[i].says));
    }
}

static void
test_missing (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *absent = g_build_filename (f->dir, "absent", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  /* No file given: the error says how to give one. */
  g_assert_cmpint (run_chat (f, NULL, &out, &err), !=, 0);
  g_assert_nonnull (strstr (err, "--passphrase-file"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_chat (f, absent, &out, &err), !=, 0);
  g_assert_nonnull (strstr (err, "Cannot open the passphrase file"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add ("/ep/cli-passphrase/opens", Fixture, NULL,
              fixture_set_up, test_opens, fixture_tear_down);
  g_test_add ("/ep/cli-passphrase/refuses", Fixture, NULL,
              fixture_set_up, test_refuses, fixture_tear_down);
  g_test_add ("/ep/cli-passphrase/missing", Fixture, NULL,
              fixture_set_up, test_missing, fixture_tear_down);
  return g_test_run ();
}
