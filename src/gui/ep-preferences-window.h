/* ep-preferences-window.h — name, notifications, network
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "ep-application.h"

G_BEGIN_DECLS

#define EP_TYPE_PREFERENCES_WINDOW (ep_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (EpPreferencesWindow, ep_preferences_window, EP, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

EpPreferencesWindow *ep_preferences_window_new (GtkWindow     *parent,
                                                EpApplication *application);

G_END_DECLS
