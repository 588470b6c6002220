/* ep-relay-address.h — a path to a peer through a relay
 *
 * An EpRelayAddress names where session packets for a peer go when they
 * cannot go straight: through the relay with key K at an inet address, to
 * the peer with key P. The session code treats it as one more kind of
 * socket address: it sends to it through the hook the relay client
 * installs (ep_session_manager_set_relay_func()), and relayed packets come
 * in "from" one. It never reaches a GSocket: it has no native form.
 *
 * ep_socket_address_equal() and ep_socket_address_get_transport() treat
 * both kinds alike, for code that compares addresses or rate-limits by
 * them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define EP_TYPE_RELAY_ADDRESS (ep_relay_address_get_type ())

G_DECLARE_FINAL_TYPE (EpRelayAddress, ep_relay_address, EP, RELAY_ADDRESS, GSocketAddress)

GSocketAddress     *ep_relay_address_new               (const guint8        relay_key[32],
                                                        GInetSocketAddress *relay,
                                                        const guint8        peer_key[32]);
const guint8       *ep_relay_address_get_relay_key     (EpRelayAddress     *self);
GInetSocketAddress *ep_relay_address_get_relay         (EpRelayAddress     *self);
const guint8       *ep_relay_address_get_peer_key      (EpRelayAddress     *self);

gboolean            ep_socket_address_equal            (GSocketAddress     *a,
                                                        GSocketAddress     *b);
GInetSocketAddress *ep_socket_address_get_transport    (GSocketAddress     *address);
gsize               ep_socket_address_get_identity_bytes (GSocketAddress   *address,
                                                        guint8              out[65]);

G_END_DECLS
