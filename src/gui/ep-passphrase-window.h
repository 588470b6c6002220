/* ep-passphrase-window.h — set, change or remove the passphrase of the keys
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "ep-core.h"

G_BEGIN_DECLS

#define EP_TYPE_PASSPHRASE_WINDOW (ep_passphrase_window_get_type ())

G_DECLARE_FINAL_TYPE (EpPassphraseWindow, ep_passphrase_window, EP, PASSPHRASE_WINDOW, AdwWindow)

EpPassphraseWindow *ep_passphrase_window_new     (GtkWindow          *parent,
                                                  EpNode             *node);
gboolean            ep_passphrase_window_is_busy (EpPassphraseWindow *self);

G_END_DECLS
