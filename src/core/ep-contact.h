/* ep-contact.h — one person in the contact list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define EP_CONTACT_KEY_SIZE 32

typedef enum
{
  EP_CONTACT_PRESENCE_OFFLINE,
  EP_CONTACT_PRESENCE_ONLINE,
} EpContactPresence;

typedef enum
{
  EP_CONTACT_REQUEST_NONE,
  EP_CONTACT_REQUEST_OUTGOING_PENDING,
  EP_CONTACT_REQUEST_INCOMING_PENDING,
  EP_CONTACT_REQUEST_ACCEPTED,
  EP_CONTACT_REQUEST_DECLINED,
  EP_CONTACT_REQUEST_BLOCKED,
} EpContactRequestState;

#define EP_TYPE_CONTACT_PRESENCE (ep_contact_presence_get_type ())
GType ep_contact_presence_get_type (void);
#define EP_TYPE_CONTACT_REQUEST_STATE (ep_contact_request_state_get_type ())
GType ep_contact_request_state_get_type (void);

#define EP_TYPE_CONTACT (ep_contact_get_type ())

G_DECLARE_FINAL_TYPE (EpContact, ep_contact, EP, CONTACT, GObject)

EpContact            *ep_contact_new                      (const guint8 key[EP_CONTACT_KEY_SIZE]);
const char           *ep_contact_get_key                  (EpContact   *self);
const guint8         *ep_contact_get_key_bytes            (EpContact   *self);
const char           *ep_contact_get_name                 (EpContact   *self);
void                  ep_contact_set_name                 (EpContact   *self,
                                                           const char  *name);
const char           *ep_contact_get_status_text          (EpContact   *self);
void                  ep_contact_set_status_text          (EpContact   *self,
                                                           const char  *status_text);
EpContactPresence     ep_contact_get_presence             (EpContact   *self);
void                  ep_contact_set_presence             (EpContact   *self,
                                                           EpContactPresence presence);
GDateTime            *ep_contact_get_last_seen            (EpContact   *self);
void                  ep_contact_set_last_seen            (EpContact   *self,
                                                           GDateTime   *last_seen);
guint                 ep_contact_get_unread_count         (EpContact   *self);
void                  ep_contact_set_unread_count         (EpContact   *self,
                                                           guint        unread_count);
EpContactRequestState ep_contact_get_request_state        (EpContact   *self);
void                  ep_contact_set_request_state        (EpContact   *self,
                                                           EpContactRequestState state);
const char           *ep_contact_get_last_message_preview (EpContact   *self);
GDateTime            *ep_contact_get_last_message_time    (EpContact   *self);
void                  ep_contact_set_last_message         (EpContact   *self,
                                                           const char  *text,
                                                           GDateTime   *time);
gint64                ep_contact_get_last_activity        (EpContact   *self);
void                  ep_contact_set_last_activity        (EpContact   *self,
                                                           gint64       last_activity);
gboolean              ep_contact_get_typing               (EpContact   *self);
void                  ep_contact_set_typing               (EpContact   *self,
                                                           gboolean     typing);
gboolean              ep_contact_get_nospam               (EpContact   *self,
                                                           guint32     *nospam);
void                  ep_contact_set_nospam               (EpContact   *self,
                                                           gboolean     known,
                                                           guint32      nospam);
char                 *ep_contact_make_preview             (const char  *text);
gboolean              ep_contact_key_from_hex             (const char  *hex,
                                                           guint8       key[EP_CONTACT_KEY_SIZE]);

G_END_DECLS
