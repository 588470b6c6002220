/* ep-message-text.h — message text as label markup, with its web and mail links
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

char     *ep_message_text_to_markup (const char *text,
                                     guint      *n_links);
gboolean  ep_message_text_is_link   (const char *uri);

G_END_DECLS
