/* ep-profile.c — where a profile lives on disk
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ep-profile.h"

G_DEFINE_QUARK (ep-profile-error-quark, ep_profile_error)

/**
 * ep_profile_default_dir:
 *
 * The profile used when none is given: `$XDG_DATA_HOME/encryptedp2p/default`.
 *
 * Returns: (transfer full): an absolute path
 */
char *
ep_profile_default_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "encryptedp2p", "default", NULL);
}

/**
 * ep_profile_resolve_dir:
 * @requested: (nullable): a directory given by the user, or %NULL for the default
 * @error: return location for a #GError
 *
 * Turns what the user asked for into an absolute path and makes sure the
 * directory exists and is private to us (mode 0700 when we create it).
 *
 * Returns: (transfer full) (nullable): the absolute profile directory
 */
char *
ep_profile_resolve_dir (const char  *requested,
                        GError     **error)
{
  g_autofree char *dir = NULL;

  if (requested == NULL || requested[0] == '\0')
    dir = ep_profile_default_dir ();
  else if (g_path_is_absolute (requested))
    dir = g_strdup (requested);
  else
    {
      g_autofree char *cwd = g_get_current_dir ();
      dir = g_build_filename (cwd, requested, NULL);
    }

  if (!ep_profile_ensure_dir (dir, error))
    return NULL;

  return g_steal_pointer (&dir);
}

/**
 * ep_profile_ensure_dir:
 * @dir: an absolute path
 * @error: return location for a #GError
 *
 * Creates @dir (and its parents) with mode 0700 when missing. An existing
 * path must be a directory owned by the current user: keys are kept there.
 *
 * Returns: %TRUE when @dir can be used as a profile directory
 */
gboolean
ep_profile_ensure_dir (const char  *dir,
                       GError     **error)
{
  GStatBuf st;

  g_return_val_if_fail (dir != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      if (saved_errno == ENOTDIR || saved_errno == EEXIST)
        g_set_error (error, EP_PROFILE_ERROR, EP_PROFILE_ERROR_NOT_A_DIRECTORY,
                     _("The profile path “%s” is not a folder"), dir);
      else
        g_set_error (error, EP_PROFILE_ERROR, EP_PROFILE_ERROR_FAILED,
                     _("Cannot create the profile folder “%s”: %s"),
                     dir, g_strerror (saved_errno));
      return FALSE;
    }

  if (g_stat (dir, &st) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, EP_PROFILE_ERROR, EP_PROFILE_ERROR_FAILED,
                   _("Cannot open the profile folder “%s”: %s"),
                   dir, g_strerror (saved_errno));
      return FALSE;
    }

  if (!S_ISDIR (st.st_mode))
    {
      g_set_error (error, EP_PROFILE_ERROR, EP_PROFILE_ERROR_NOT_A_DIRECTORY,
                   _("The profile path “%s” is not a folder"), dir);
      return FALSE;
    }

  if (st.st_uid != getuid ())
    {
      g_set_error (error, EP_PROFILE_ERROR, EP_PROFILE_ERROR_NOT_OWNER,
                   _("The profile folder “%s” belongs to another user"), dir);
      return FALSE;
    }

  return TRUE;
}
