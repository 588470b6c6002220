/* test-profile.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gstdio.h>
#include <sys/stat.h>

#include "ep-core.h"

static void
test_profile_default (void)
{
  g_autofree char *dir = ep_profile_default_dir ();
  g_autofree char *expected = g_build_filename (g_get_user_data_dir (),
                                                "encryptedp2p", "default", NULL);

  g_assert_cmpstr (dir, ==, expected);
}

static void
test_profile_creates_private_dir (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ep-profile-XXXXXX", &error);
  g_autofree char *wanted = NULL;
  g_autofree char *dir = NULL;
  GStatBuf st;

  g_assert_no_error (error);
  wanted = g_build_filename (tmp, "a", "b", NULL);

  dir = ep_profile_resolve_dir (wanted, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (dir, ==, wanted);
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  /* Using it again is fine. */
  g_clear_pointer (&dir, g_free);
  dir = ep_profile_resolve_dir (wanted, &error);
  g_assert_no_error (error);

  g_rmdir (wanted);
  g_free (wanted);
  wanted = g_build_filename (tmp, "a", NULL);
  g_rmdir (wanted);
  g_rmdir (tmp);
}

static void
test_profile_relative_becomes_absolute (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ep-profile-XXXXXX", &error);
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *dir = NULL;
  g_autofree char *expected = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (g_chdir (tmp), ==, 0);

  dir = ep_profile_resolve_dir ("rel", &error);
  g_assert_no_error (error);
  g_assert_true (g_path_is_absolute (dir));
  expected = g_build_filename (tmp, "rel", NULL);
  g_assert_cmpstr (dir, ==, expected);

  g_assert_cmpint (g_chdir (cwd), ==, 0);
  g_rmdir (expected);
  g_rmdir (tmp);
}

static void
test_profile_file_is_refused (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ep-profile-XXXXXX", &error);
  g_autofree char *file = NULL;
  g_autofree char *below = NULL;
  char *dir;

  g_assert_no_error (error);
  file = g_build_filename (tmp, "file", NULL);
  g_assert_true (g_file_set_contents (file, "x", 1, NULL));

  dir = ep_profile_resolve_dir (file, &error);
  g_assert_null (dir);
  g_assert_error (error, EP_PROFILE_ERROR, EP_PROFILE_ERROR_NOT_A_DIRECTORY);
  g_assert_nonnull (strstr (error->message, file));
  g_clear_error (&error);

  below = g_build_filename (file, "sub", NULL);
  dir = ep_profile_resolve_dir (below, &error);
  g_assert_null (dir);
  g_assert_error (error, EP_PROFILE_ERROR, EP_PROFILE_ERROR_NOT_A_DIRECTORY);

  g_unlink (file);
  g_rmdir (tmp);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ep/profile/default", test_profile_default);
  g_test_add_func ("/ep/profile/creates-private-dir", test_profile_creates_private_dir);
  g_test_add_func ("/ep/profile/relative-becomes-absolute", test_profile_relative_becomes_absolute);
  g_test_add_func ("/ep/profile/file-is-refused", test_profile_file_is_refused);

  return g_test_run ();
}
