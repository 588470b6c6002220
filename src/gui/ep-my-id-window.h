/* ep-my-id-window.h — the ID to share, with a copy button
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "ep-core.h"

G_BEGIN_DECLS

#define EP_TYPE_MY_ID_WINDOW (ep_my_id_window_get_type ())

G_DECLARE_FINAL_TYPE (EpMyIdWindow, ep_my_id_window, EP, MY_ID_WINDOW, AdwWindow)

EpMyIdWindow *ep_my_id_window_new    (GtkWindow    *parent,
                                      EpNode       *node);
const char   *ep_my_id_window_get_id (EpMyIdWindow *self);

G_END_DECLS
