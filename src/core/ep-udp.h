/* ep-udp.h — the one UDP socket per address family that everything shares
 *
 * The DHT and the peer sessions speak over the same port. EpUdp owns the
 * sockets, reads datagrams on the main context and hands each to the
 * handler registered for its first byte: KRPC always starts with 'd', our
 * session packets use bytes KRPC never does. Anything else is dropped and
 * counted.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Larger datagrams are dropped unread: nothing we speak needs more. */
#define EP_UDP_MAX_DATAGRAM 2048

#define EP_TYPE_UDP (ep_udp_get_type ())

G_DECLARE_FINAL_TYPE (EpUdp, ep_udp, EP, UDP, GObject)

typedef void     (*EpUdpHandler)    (EpUdp          *udp,
                                     GSocketAddress *from,
                                     const guint8   *data,
                                     gsize           len,
                                     gpointer        user_data);

/* Sees every datagram in both directions before it is sent or handled;
 * returns FALSE to drop it. For tests (loss, duplication, capture). */
typedef gboolean (*EpUdpFilter)     (EpUdp          *udp,
                                     gboolean        outgoing,
                                     GSocketAddress *peer,
                                     const guint8   *data,
                                     gsize           len,
                                     gpointer        user_data);

typedef struct
{
  guint64 received;
  guint64 sent;
  guint64 dropped_unknown;   /* no handler for the first byte, or empty */
  guint64 dropped_oversize;
  guint64 dropped_filter;
  guint64 send_errors;
} EpUdpCounters;

EpUdp          *ep_udp_new                (const char     *bind_address,
                                           guint16         port,
                                           GError        **error);
guint16         ep_udp_get_port           (EpUdp          *self);
gboolean        ep_udp_has_family         (EpUdp          *self,
                                           GSocketFamily   family);
GSocketAddress *ep_udp_get_local_address  (EpUdp          *self,
                                           GSocketFamily   family);
void            ep_udp_set_handler        (EpUdp          *self,
                                           guint8          first_byte,
                                           EpUdpHandler    handler,
                                           gpointer        user_data);
void            ep_udp_set_filter         (EpUdp          *self,
                                           EpUdpFilter     filter,
                                           gpointer        user_data);
gboolean        ep_udp_send               (EpUdp          *self,
                                           GSocketAddress *to,
                                           const guint8   *data,
                                           gsize           len,
                                           GError        **error);
const EpUdpCounters *ep_udp_get_counters  (EpUdp          *self);

G_END_DECLS
