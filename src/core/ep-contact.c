/* ep-contact.c — one person in the contact list
 *
 * A plain model object: the store fills it, the node keeps it current, the
 * GUI binds to it. Every setter notifies only when the value changes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "ep-contact.h"

/* A preview is one line of at most this many characters. */
#define PREVIEW_CHARS 80

enum {
  PROP_0,
  PROP_KEY,
  PROP_NAME,
  PROP_STATUS_TEXT,
  PROP_PRESENCE,
  PROP_LAST_SEEN,
  PROP_UNREAD_COUNT,
  PROP_REQUEST_STATE,
  PROP_LAST_MESSAGE_PREVIEW,
  PROP_LAST_MESSAGE_TIME,
  PROP_LAST_ACTIVITY,
  PROP_TYPING,
  N_PROPS
};

struct _EpContact
{
  GObject               parent_instance;

  guint8                key[EP_CONTACT_KEY_SIZE];
  char                  key_hex[EP_CONTACT_KEY_SIZE * 2 + 1];
  char                 *name;
  char                 *status_text;
  GDateTime            *last_seen;
  char                 *last_message_preview;
  GDateTime            *last_message_time;
  gint64                last_activity;
  guint                 unread_count;
  guint32               nospam;
  EpContactPresence     presence;
  EpContactRequestState request_state;
  gboolean              has_nospam;
  gboolean              typing;
};

G_DEFINE_FINAL_TYPE (EpContact, ep_contact, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];

GType
ep_contact_presence_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      static const GEnumValue values[] = {
        { EP_CONTACT_PRESENCE_OFFLINE, "EP_CONTACT_PRESENCE_OFFLINE", "offline" },
        { EP_CONTACT_PRESENCE_ONLINE, "EP_CONTACT_PRESENCE_ONLINE", "online" },
        { 0, NULL, NULL }
      };
      GType type = g_enum_register_static (g_intern_static_string ("EpContactPresence"), values);

      g_once_init_leave (&type_id, type);
    }

  return type_id;
}

GType
ep_contact_request_state_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      static const GEnumValue values[] = {
        { EP_CONTACT_REQUEST_NONE, "EP_CONTACT_REQUEST_NONE", "none" },
        { EP_CONTACT_REQUEST_OUTGOING_PENDING, "EP_CONTACT_REQUEST_OUTGOING_PENDING",
          "outgoing-pending" },
        { EP_CONTACT_REQUEST_INCOMING_PENDING, "EP_CONTACT_REQUEST_INCOMING_PENDING",
          "incoming-pending" },
        { EP_CONTACT_REQUEST_ACCEPTED, "EP_CONTACT_REQUEST_ACCEPTED", "accepted" },
        { EP_CONTACT_REQUEST_DECLINED, "EP_CONTACT_REQUEST_DECLINED", "declined" },
        { EP_CONTACT_REQUEST_BLOCKED, "EP_CONTACT_REQUEST_BLOCKED", "blocked" },
        { 0, NULL, NULL }
      };
      GType type = g_enum_register_static (g_intern_static_string ("EpContactRequestState"),
                                           values);

      g_once_init_leave (&type_id, type);
    }

  return type_id;
}

/* g_set_str () is newer than GLib 2.74. */
static gboolean
replace_str (char       **slot,
             const char  *value)
{
  if (g_strcmp0 (*slot, value) == 0)
    return FALSE;
  g_free (*slot);
  *slot = g_strdup (value);
  return TRUE;
}

static gboolean
same_datetime (GDateTime *a,
               GDateTime *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return g_date_time_equal (a, b);
}

static gboolean
replace_datetime (GDateTime **slot,
                  GDateTime  *value)
{
  if (same_datetime (*slot, value))
    return FALSE;
  g_clear_pointer (slot, g_date_time_unref);
  if (value != NULL)
    *slot = g_date_time_ref (value);
  return TRUE;
}

static void
ep_contact_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  EpContact *self = EP_CONTACT (object);

  switch (prop_id)
    {
    case PROP_KEY:
      g_value_set_string (value, self->key_hex);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_STATUS_TEXT:
      g_value_set_string (value, self->status_text);
      break;
    case PROP_PRESENCE:
      g_value_set_enum (value, self->presence);
      break;
    case PROP_LAST_SEEN:
      g_value_set_boxed (value, self->last_seen);
      break;
    case PROP_UNREAD_COUNT:
      g_value_set_uint (value, self->unread_count);
      break;
    case PROP_REQUEST_STATE:
      g_value_set_enum (value, self->request_state);
      break;
    case PROP_LAST_MESSAGE_PREVIEW:
      g_value_set_string (value, self->last_message_preview);
      break;
    case PROP_LAST_MESSAGE_TIME:
      g_value_set_boxed (value, self->last_message_time);
      break;
    case PROP_LAST_ACTIVITY:
      g_value_set_int64 (value, self->last_activity);
      break;
    case PROP_TYPING:
      g_value_set_boolean (value, self->typing);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ep_contact_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  EpContact *self = EP_CONTACT (object);

  switch (prop_id)
    {
    case PROP_NAME:
      ep_contact_set_name (self, g_value_get_string (value));
      break;
    case PROP_STATUS_TEXT:
      ep_contact_set_status_text (self, g_value_get_string (value));
      break;
    case PROP_PRESENCE:
      ep_contact_set_presence (self, g_value_get_enum (value));
      break;
    case PROP_LAST_SEEN:
      ep_contact_set_last_seen (self, g_value_get_boxed (value));
      break;
    case PROP_UNREAD_COUNT:
      ep_contact_set_unread_count (self, g_value_get_uint (value));
      break;
    case PROP_REQUEST_STATE:
      ep_contact_set_request_state (self, g_value_get_enum (value));
      break;
    case PROP_LAST_ACTIVITY:
      ep_contact_set_last_activity (self, g_value_get_int64 (value));
      break;
    case PROP_TYPING:
      ep_contact_set_typing (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ep_contact_finalize (GObject *object)
{
  EpContact *self = EP_CONTACT (object);

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->status_text, g_free);
  g_clear_pointer (&self->last_seen, g_date_time_unref);
  g_clear_pointer (&self->last_message_preview, g_free);
  g_clear_pointer (&self->last_message_time, g_date_time_unref);

  G_OBJECT_CLASS (ep_contact_parent_class)->finalize (object);
}

static void
ep_contact_class_init (EpContactClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->get_property = ep_contact_get_property;
  object_class->set_property = ep_contact_set_property;
  object_class->finalize = ep_contact_finalize;

  properties[PROP_KEY] =
    g_param_spec_string ("key", NULL, NULL, NULL, ro);
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, "", rw);
  properties[PROP_STATUS_TEXT] =
    g_param_spec_string ("status-text", NULL, NULL, "", rw);
  properties[PROP_PRESENCE] =
    g_param_spec_enum ("presence", NULL, NULL, EP_TYPE_CONTACT_PRESENCE,
                       EP_CONTACT_PRESENCE_OFFLINE, rw);
  properties[PROP_LAST_SEEN] =
    g_param_spec_boxed ("last-seen", NULL, NULL, G_TYPE_DATE_TIME, rw);
  properties[PROP_UNREAD_COUNT] =
    g_param_spec_uint ("unread-count", NULL, NULL, 0, G_MAXUINT, 0, rw);
  properties[PROP_REQUEST_STATE] =
    g_param_spec_enum ("request-state", NULL, NULL, EP_TYPE_CONTACT_REQUEST_STATE,
                       EP_CONTACT_REQUEST_NONE, rw);
  properties[PROP_LAST_MESSAGE_PREVIEW] =
    g_param_spec_string ("last-message-preview", NULL, NULL, NULL, ro);
  properties[PROP_LAST_MESSAGE_TIME] =
    g_param_spec_boxed ("last-message-time", NULL, NULL, G_TYPE_DATE_TIME, ro);
  properties[PROP_LAST_ACTIVITY] =
    g_param_spec_int64 ("last-activity", NULL, NULL, G_MININT64, G_MAXINT64, 0, rw);
  /* The contact is writing to us now; the node keeps it current (it is
   * never stored). */
  properties[PROP_TYPING] =
    g_param_spec_boolean ("typing", NULL, NULL, FALSE, rw);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ep_contact_init (EpContact *self)
{
  self->name = g_strdup ("");
  self->status_text = g_strdup ("");
}

/**
 * ep_contact_new:
 * @key: the contact's 32-byte Ed25519 public key
 *
 * Returns: (transfer full): a contact with no name, offline
 */
EpContact *
ep_contact_new (const guint8 key[EP_CONTACT_KEY_SIZE])
{
  static const char digits[] = "0123456789abcdef";
  EpContact *self;

  g_return_val_if_fail (key != NULL, NULL);

  self = g_object_new (EP_TYPE_CONTACT, NULL);
  memcpy (self->key, key, EP_CONTACT_KEY_SIZE);
  for (guint i = 0; i < EP_CONTACT_KEY_SIZE; i++)
    {
      self->key_hex[2 * i] = digits[key[i] >> 4];
      self->key_hex[2 * i + 1] = digits[key[i] & 0xf];
    }
  self->key_hex[EP_CONTACT_KEY_SIZE * 2] = '\0';

  return self;
}

/** ep_contact_get_key: Returns: the public key as 64 lowercase hex digits */
const char *
ep_contact_get_key (EpContact *self)
{
  g_return_val_if_fail (EP_IS_CONTACT (self), NULL);
  return self->key_hex;
}

const guint8 *
ep_contact_get_key_bytes (EpContact *self)
{
  g_return_val_if_fail (EP_IS_CONTACT (self), NULL);
  return self->key;
}

const char *
ep_contact_get_name (EpContact *self)
{
  g_return_val_if_fail (EP_IS_CONTACT (self), NULL);
  return self->name;
}

void
ep_contact_set_name (EpContact  *self,
                     const char *name)
{
  g_return_if_fail (EP_IS_CONTACT (self));

  if (replace_str (&self->name, name != NULL ? name : ""))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

const char *
ep_contact_get_status_text (EpContact *self)
{
  g_return_val_if_fail (EP_IS_CONTACT (self), NULL);
  return self->status_text;
}

void
ep_contact_set_status_text (EpContact  *self,
                            const char *status_text)
{
  g_return_if_fail (EP_IS_CONTACT (self));

  if (replace_str (&self->status_text, status_text != NULL ? status_text : ""))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS_TEXT]);
}

EpContactPresence
ep_contact_get_presence (EpContact *self)
{
  g_return_val_if_fail (EP_IS_CONTACT (self), EP_CONTACT_PRESENCE_OFFLINE);
  return self->presence;
}

void
ep_contact_set_presence (EpContact         *self,
                         EpContactPresence  presence)
{
  g_return_if_fail (EP_IS_CONTACT (self));
  g_return_if_fail (presence <= EP_CONTACT_PRESENCE_ONLINE);

  if (self->presence == presence)
    return;
  self->presence = presence;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRESENCE]);
}

/** ep_contact_get_last_seen: Returns: (transfer none) (nullable): when last online */
GDateTime *
ep_contact_get_last_seen (EpContact *self)
{
  g_return_val_if_fail (EP_IS_CONTACT (self), NULL);
  return self->last_seen;
}

void
ep_contact_set_last_seen (EpContact *self,
                          GDateTime *last_seen)
{
  g_return_if_fail (EP_IS_CONTACT (self));

  if (replace_datetime (&self->last_seen, last_seen))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_SEEN]);
}

guint
ep_contact_get_unread_count (EpContact *self)
{
  g_return_val_if_fail (EP_IS_CONTACT (self), 0);
  return self->unread_count;
}

void
ep_contact_set_unread_count (EpContact *self,
                             guint      unread_count)
{
  g_return_if_fail (EP_IS_CONTACT (self));

  if (self->unread_count == unread_count)
    return;
  self->unread_count = unread_count;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNREAD_COUNT]);
}

EpContactRequestState
ep_contact_get_request_state (EpContact *self)
{
  g_return_val_if_fail (EP_IS_CONTACT (self), EP_CONTACT_REQUEST_NONE);
  return self->request_state;
}

void
ep_contact_set_request_state (EpContact             *self,
                              EpContactRequestState  state)
{
  g_return_if_fail (EP_IS_CONTACT (self));
  g_return_if_fail (state <= EP_CONTACT_REQUEST_BLOCKED);

  if (self->request_state == state)
    return;
  self->request_state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REQUEST_STATE]);
}

/** ep_contact_get_last_message_preview: Returns: (nullable): one line of the last message */
const char *
ep_contact_get_last_message_preview (EpContact *self)
{
  g_return_val_if_fail (EP_IS_CONTACT (self), NULL);
  return self->last_message_preview;
}

/** ep_contact_get_last_message_time: Returns: (transfer none) (nullable) */
GDateTime *
ep_contact_get_last_message_time (EpContact *self)
{
  g_return_val_if_fail (EP_IS_CONTACT (self), NULL);
  return self->last_message_time;
}

/**
 * ep_contact_set_last_message:
 * @text: (nullable): the whole text of the last message; shortened here
 * @time: (nullable): when it was written
 */
void
ep_contact_set_last_message (EpContact  *self,
                             const char *text,
                             GDateTime  *time)
{
  g_autofree char *preview = NULL;

  g_return_if_fail (EP_IS_CONTACT (self));

  preview = text != NULL ? ep_contact_make_preview (text) : NULL;
  g_object_freeze_notify (G_OBJECT (self));
  if (replace_str (&self->last_message_preview, preview))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_MESSAGE_PREVIEW]);
  if (replace_datetime (&self->last_message_time, time))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_MESSAGE_TIME]);
  g_object_thaw_notify (G_OBJECT (self));
}

/** ep_contact_get_last_activity: Returns: µs since the epoch of the last message or change */
gint64
ep_contact_get_last_activity (EpContact *self)
{
  g_return_val_if_fail (EP_IS_CONTACT (self), 0);
  return self->last_activity;
}

void
ep_contact_set_last_activity (EpContact *self,
                              gint64     last_activity)
{
  g_return_if_fail (EP_IS_CONTACT (self));

  if (self->last_activity == last_activity)
    return;
  self->last_activity = last_activity;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ACTIVITY]);
}

/** ep_contact_get_typing: Returns: whether the contact is writing to us right now */
gboolean
ep_contact_get_typing (EpContact *self)
{
  g_return_val_if_fail (EP_IS_CONTACT (self), FALSE);
  return self->typing;
}

void
ep_contact_set_typing (EpContact *self,
                       gboolean   typing)
{
  g_return_if_fail (EP_IS_CONTACT (self));

  typing = !!typing;
  if (self->typing == typing)
    return;
  self->typing = typing;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TYPING]);
}

/**
 * ep_contact_get_nospam:
 * @nospam: (out) (optional): the nospam from the contact ID they gave us
 *
 * Returns: %TRUE when we know one (we added them by their ID)
 */
gboolean
ep_contact_get_nospam (EpContact *self,
                       guint32   *nospam)
{
  g_return_val_if_fail (EP_IS_CONTACT (self), FALSE);

  if (nospam != NULL)
    *nospam = self->nospam;
  return self->has_nospam;
}

void
ep_contact_set_nospam (EpContact *self,
                       gboolean   known,
                       guint32    nospam)
{
  g_return_if_fail (EP_IS_CONTACT (self));

  self->has_nospam = !!known;
  self->nospam = known ? nospam : 0;
}

/**
 * ep_contact_make_preview:
 * @text: valid UTF-8
 *
 * Returns: (transfer full): the first line of @text, whitespace collapsed,
 *   cut to 80 characters with an ellipsis
 */
char *
ep_contact_make_preview (const char *text)
{
  GString *out = g_string_new (NULL);
  gboolean space = FALSE;
  guint n = 0;

  g_return_val_if_fail (text != NULL, NULL);

  for (const char *p = text; *p != '\0' && n < PREVIEW_CHARS; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isspace (c) || g_unichar_iscntrl (c))
        {
          space = out->len > 0;
          continue;
        }
      if (space)
        {
          g_string_append_c (out, ' ');
          n++;
          space = FALSE;
        }
      g_string_append_unichar (out, c);
      n++;
      if (n == PREVIEW_CHARS && *g_utf8_next_char (p) != '\0')
        g_string_append (out, "…");
    }

  return g_string_free (out, FALSE);
}

/**
 * ep_contact_key_from_hex:
 * @hex: 64 hex digits, either case, as ep_contact_get_key () gives
 * @key: (out caller-allocates) (array fixed-size=32): the key
 *
 * Returns: %TRUE when @hex is exactly a key
 */
gboolean
ep_contact_key_from_hex (const char *hex,
                         guint8      key[EP_CONTACT_KEY_SIZE])
{
  guint8 out[EP_CONTACT_KEY_SIZE];

  g_return_val_if_fail (key != NULL, FALSE);

  if (hex == NULL || strlen (hex) != EP_CONTACT_KEY_SIZE * 2)
    return FALSE;
  for (guint i = 0; i < EP_CONTACT_KEY_SIZE; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      out[i] = (guint8) (hi << 4 | lo);
    }
  memcpy (key, out, EP_CONTACT_KEY_SIZE);
  return TRUE;
}
