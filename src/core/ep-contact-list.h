/* ep-contact-list.h — the contacts of a profile as a sorted GListModel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "ep-contact.h"
#include "ep-store.h"

G_BEGIN_DECLS

#define EP_TYPE_CONTACT_LIST (ep_contact_list_get_type ())

G_DECLARE_FINAL_TYPE (EpContactList, ep_contact_list, EP, CONTACT_LIST, GObject)

EpContactList *ep_contact_list_new         (EpStore             *store);
void           ep_contact_list_load_async  (EpContactList       *self,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean       ep_contact_list_load_finish (EpContactList       *self,
                                            GAsyncResult        *result,
                                            GError             **error);
EpContact     *ep_contact_list_lookup      (EpContactList       *self,
                                            const char          *key);
gboolean       ep_contact_list_add         (EpContactList       *self,
                                            EpContact           *contact);
gboolean       ep_contact_list_remove      (EpContactList       *self,
                                            const char          *key);

G_END_DECLS
