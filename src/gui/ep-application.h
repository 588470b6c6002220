/* ep-application.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "ep-core.h"

G_BEGIN_DECLS

#define EP_TYPE_APPLICATION (ep_application_get_type ())

G_DECLARE_FINAL_TYPE (EpApplication, ep_application, EP, APPLICATION, AdwApplication)

EpApplication *ep_application_new             (void);
const char    *ep_application_get_profile_dir (EpApplication *self);
EpNode        *ep_application_get_node        (EpApplication *self);
const GError  *ep_application_get_node_error  (EpApplication *self);
gboolean       ep_application_needs_passphrase (EpApplication *self);
void           ep_application_unlock_async    (EpApplication       *self,
                                               const char          *passphrase,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean       ep_application_unlock_finish   (EpApplication  *self,
                                               GAsyncResult   *result,
                                               GError        **error);
EpNodeSettings *ep_application_get_profile_settings  (EpApplication *self);
gboolean       ep_application_save_profile_settings (EpApplication  *self,
                                                     GError        **error);
gboolean       ep_application_close_to_background (EpApplication *self);
void           ep_application_withdraw_notification (EpApplication *self,
                                                     const char    *contact_key);

G_END_DECLS
