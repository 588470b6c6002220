/* ep-bep42.h — BEP 42 node IDs bound to the node's external IP
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Keeps id[2]&7 and id[3..18] as given (the caller fills them randomly);
 * sets the CRC32-C derived top 21 bits and id[19] = r. */
void     ep_bep42_make_id     (GInetAddress *ip,
                               guint8        r,
                               guint8        id[20]);
/* Random r and random tail, then make_id. */
void     ep_bep42_generate_id (GInetAddress *ip,
                               guint8        id[20]);
gboolean ep_bep42_id_matches  (GInetAddress *ip,
                               const guint8  id[20]);
/* Loopback, RFC 1918, link-local, 100.64/10, ULA fc00::/7, fe80::/10, ::1. */
gboolean ep_bep42_is_exempt   (GInetAddress *ip);

/* CRC32-C (Castagnoli, reflected, as in iSCSI/SCTP), continuing from @crc
 * (0 to start). ep_crc32c (0, "123456789", 9) == 0xe3069283. */
guint32  ep_crc32c            (guint32       crc,
                               const void   *data,
                               gsize         len);

G_END_DECLS
