/* ep-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "ep-application.h"

G_BEGIN_DECLS

#define EP_TYPE_WINDOW (ep_window_get_type ())

G_DECLARE_FINAL_TYPE (EpWindow, ep_window, EP, WINDOW, AdwApplicationWindow)

EpWindow  *ep_window_new             (EpApplication *application);
void       ep_window_open_chat       (EpWindow      *self,
                                      const char    *contact_key);
gboolean   ep_window_is_chat_visible (EpWindow      *self,
                                      const char    *contact_key);
EpContact *ep_window_get_contact     (EpWindow      *self);
void       ep_window_add_toast       (EpWindow      *self,
                                      const char    *title);

G_END_DECLS
