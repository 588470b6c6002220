/* ep-add-contact-window.h — send a contact request to a pasted ID
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "ep-core.h"

G_BEGIN_DECLS

#define EP_TYPE_ADD_CONTACT_WINDOW (ep_add_contact_window_get_type ())

G_DECLARE_FINAL_TYPE (EpAddContactWindow, ep_add_contact_window, EP, ADD_CONTACT_WINDOW, AdwWindow)

EpAddContactWindow *ep_add_contact_window_new (GtkWindow *parent,
                                               EpNode    *node);

G_END_DECLS
