/* ep-qr-code.h — a QR code drawn crisp, dark on light
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Light modules around the symbol, as ISO/IEC 18004 asks for. */
#define EP_QR_CODE_QUIET_ZONE 4

#define EP_TYPE_QR_CODE (ep_qr_code_get_type ())

G_DECLARE_FINAL_TYPE (EpQrCode, ep_qr_code, EP, QR_CODE, GtkWidget)

GtkWidget  *ep_qr_code_new             (void);
void        ep_qr_code_set_text        (EpQrCode   *self,
                                        const char *text);
const char *ep_qr_code_get_text        (EpQrCode   *self);
int         ep_qr_code_get_version     (EpQrCode   *self);
int         ep_qr_code_get_n_modules   (EpQrCode   *self);
gboolean    ep_qr_code_get_module      (EpQrCode   *self,
                                        int         x,
                                        int         y);
int         ep_qr_code_get_module_size (EpQrCode   *self);

G_END_DECLS
