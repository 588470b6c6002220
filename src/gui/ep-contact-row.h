/* ep-contact-row.h — the rows of the contact list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "ep-core.h"

G_BEGIN_DECLS

GtkListItemFactory *ep_contact_row_factory_new  (void);
const char         *ep_contact_row_display_name (EpContact *contact);

G_END_DECLS
