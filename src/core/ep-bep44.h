/* ep-bep44.h — BEP 44 items: targets, the signed byte string, signatures
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EP_BEP44_MAX_V 1000          /* bytes of bencoded v */
#define EP_BEP44_MAX_SALT 64

void        ep_bep44_immutable_target (const guint8  *v_raw,
                                       gsize          v_len,
                                       guint8         target[20]);
void        ep_bep44_mutable_target   (const guint8   k[32],
                                       const guint8  *salt,
                                       gsize          salt_len,
                                       guint8         target[20]);
GByteArray *ep_bep44_signed_string    (const guint8  *salt,
                                       gsize          salt_len,
                                       gint64         seq,
                                       const guint8  *v_raw,
                                       gsize          v_len);
void        ep_bep44_sign             (const guint8   sk[64],
                                       const guint8  *salt,
                                       gsize          salt_len,
                                       gint64         seq,
                                       const guint8  *v_raw,
                                       gsize          v_len,
                                       guint8         sig[64]);
gboolean    ep_bep44_verify           (const guint8   k[32],
                                       const guint8   sig[64],
                                       const guint8  *salt,
                                       gsize          salt_len,
                                       gint64         seq,
                                       const guint8  *v_raw,
                                       gsize          v_len);

G_END_DECLS
