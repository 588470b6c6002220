/* ep-profile.h — where a profile lives on disk
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EP_PROFILE_ERROR (ep_profile_error_quark ())

typedef enum
{
  EP_PROFILE_ERROR_NOT_A_DIRECTORY,
  EP_PROFILE_ERROR_NOT_OWNER,
  EP_PROFILE_ERROR_FAILED,
} EpProfileError;

GQuark  ep_profile_error_quark (void);

char   *ep_profile_default_dir (void);
char   *ep_profile_resolve_dir (const char  *requested,
                                GError     **error);
gboolean ep_profile_ensure_dir (const char  *dir,
                                GError     **error);

G_END_DECLS
