/* ep-relay-spec.h — "KEYHEX@HOST:PORT": how a relay is written down
 *
 * The form `encryptedp2p-node serve --relay` prints (with a host added),
 * `chat --relay` takes and profile.json keeps in settings.relays: the
 * relay's identity key in 64 hexadecimal digits, '@', then where it
 * listens. HOST is an IP literal (IPv6 in brackets) or a name.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean ep_relay_spec_split (const char       *spec,
                              guint8            key[32],
                              char            **host,
                              guint16          *port,
                              GError          **error);
gboolean ep_relay_spec_parse (const char       *spec,
                              guint8            key[32],
                              GSocketAddress  **address,
                              GError          **error);

G_END_DECLS
