/* ep-application.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define EP_TYPE_APPLICATION (ep_application_get_type ())

G_DECLARE_FINAL_TYPE (EpApplication, ep_application, EP, APPLICATION, AdwApplication)

EpApplication *ep_application_new             (void);
const char    *ep_application_get_profile_dir (EpApplication *self);

G_END_DECLS
