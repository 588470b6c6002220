/* ep-contact-window.h — a contact's details: fingerprint, presence, block
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "ep-core.h"

G_BEGIN_DECLS

#define EP_TYPE_CONTACT_WINDOW (ep_contact_window_get_type ())

G_DECLARE_FINAL_TYPE (EpContactWindow, ep_contact_window, EP, CONTACT_WINDOW, AdwWindow)

EpContactWindow *ep_contact_window_new         (GtkWindow  *parent,
                                                EpNode     *node,
                                                EpContact  *contact);
char            *ep_contact_window_fingerprint (const char *key_hex);

G_END_DECLS
