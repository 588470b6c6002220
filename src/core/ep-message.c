/* ep-message.c — one chat message of a conversation
 *
 * Immutable but for its delivery status. Times are microseconds since the
 * Unix epoch (g_get_real_time ()). Conversation order is (Lamport, sender
 * key, id): the id only separates messages a faulty peer stamped alike.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "ep-message-private.h"

enum {
  PROP_0,
  PROP_ID,
  PROP_CONTACT_KEY,
  PROP_SENDER_KEY,
  PROP_OUTGOING,
  PROP_TEXT,
  PROP_SENDER_TIME,
  PROP_RECEIVED_TIME,
  PROP_LAMPORT,
  PROP_STATUS,
  N_PROPS
};

struct _EpMessage
{
  GObject          parent_instance;

  guint8           id[EP_MESSAGE_ID_SIZE];
  guint8           contact_key[EP_MESSAGE_KEY_SIZE];
  guint8           sender_key[EP_MESSAGE_KEY_SIZE];
  char             id_hex[EP_MESSAGE_ID_SIZE * 2 + 1];
  char             contact_hex[EP_MESSAGE_KEY_SIZE * 2 + 1];
  char             sender_hex[EP_MESSAGE_KEY_SIZE * 2 + 1];
  char            *text;
  gint64           sender_time;
  gint64           received_time;
  guint64          lamport;
  EpMessageStatus  status;
  gboolean         outgoing;
};

G_DEFINE_FINAL_TYPE (EpMessage, ep_message, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];

GType
ep_message_status_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      static const GEnumValue values[] = {
        { EP_MESSAGE_STATUS_QUEUED, "EP_MESSAGE_STATUS_QUEUED", "queued" },
        { EP_MESSAGE_STATUS_SENT, "EP_MESSAGE_STATUS_SENT", "sent" },
        { EP_MESSAGE_STATUS_DELIVERED, "EP_MESSAGE_STATUS_DELIVERED", "delivered" },
        { EP_MESSAGE_STATUS_FAILED, "EP_MESSAGE_STATUS_FAILED", "failed" },
        { 0, NULL, NULL }
      };
      GType type = g_enum_register_static (g_intern_static_string ("EpMessageStatus"), values);

      g_once_init_leave (&type_id, type);
    }

  return type_id;
}

/**
 * ep_message_status_to_string:
 *
 * Returns: the nick of @status ("queued", "sent", "delivered", "failed"),
 *   as the headless client prints it
 */
const char *
ep_message_status_to_string (EpMessageStatus status)
{
  switch (status)
    {
    case EP_MESSAGE_STATUS_QUEUED: return "queued";
    case EP_MESSAGE_STATUS_SENT: return "sent";
    case EP_MESSAGE_STATUS_DELIVERED: return "delivered";
    case EP_MESSAGE_STATUS_FAILED: return "failed";
    default: return "unknown";
    }
}

static void
to_hex (char         *out,
        const guint8 *bytes,
        gsize         len)
{
  static const char digits[] = "0123456789abcdef";

  for (gsize i = 0; i < len; i++)
    {
      out[2 * i] = digits[bytes[i] >> 4];
      out[2 * i + 1] = digits[bytes[i] & 0xf];
    }
  out[2 * len] = '\0';
}

static void
ep_message_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  EpMessage *self = EP_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id_hex);
      break;
    case PROP_CONTACT_KEY:
      g_value_set_string (value, self->contact_hex);
      break;
    case PROP_SENDER_KEY:
      g_value_set_string (value, self->sender_hex);
      break;
    case PROP_OUTGOING:
      g_value_set_boolean (value, self->outgoing);
      break;
    case PROP_TEXT:
      g_value_set_string (value, self->text);
      break;
    case PROP_SENDER_TIME:
      g_value_set_int64 (value, self->sender_time);
      break;
    case PROP_RECEIVED_TIME:
      g_value_set_int64 (value, self->received_time);
      break;
    case PROP_LAMPORT:
      g_value_set_uint64 (value, self->lamport);
      break;
    case PROP_STATUS:
      g_value_set_enum (value, self->status);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ep_message_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  EpMessage *self = EP_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_STATUS:
      ep_message_set_status (self, g_value_get_enum (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ep_message_finalize (GObject *object)
{
  EpMessage *self = EP_MESSAGE (object);

  if (self->text != NULL)
    {
      /* Plaintext does not linger in freed memory. */
      memset (self->text, 0, strlen (self->text));
      g_free (self->text);
    }

  G_OBJECT_CLASS (ep_message_parent_class)->finalize (object);
}

static void
ep_message_class_init (EpMessageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->get_property = ep_message_get_property;
  object_class->set_property = ep_message_set_property;
  object_class->finalize = ep_message_finalize;

  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL, ro);
  properties[PROP_CONTACT_KEY] =
    g_param_spec_string ("contact-key", NULL, NULL, NULL, ro);
  properties[PROP_SENDER_KEY] =
    g_param_spec_string ("sender-key", NULL, NULL, NULL, ro);
  properties[PROP_OUTGOING] =
    g_param_spec_boolean ("outgoing", NULL, NULL, FALSE, ro);
  properties[PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL, NULL, ro);
  properties[PROP_SENDER_TIME] =
    g_param_spec_int64 ("sender-time", NULL, NULL, G_MININT64, G_MAXINT64, 0, ro);
  properties[PROP_RECEIVED_TIME] =
    g_param_spec_int64 ("received-time", NULL, NULL, G_MININT64, G_MAXINT64, 0, ro);
  properties[PROP_LAMPORT] =
    g_param_spec_uint64 ("lamport", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_STATUS] =
    g_param_spec_enum ("status", NULL, NULL,
                       EP_TYPE_MESSAGE_STATUS, EP_MESSAGE_STATUS_QUEUED,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ep_message_init (EpMessage *self)
{
}

/**
 * ep_message_new:
 * @sender_time: when the sender wrote it, µs since the epoch
 * @received_time: when we stored it, µs since the epoch
 *
 * Returns: (transfer full): a new message
 */
EpMessage *
ep_message_new (const guint8    id[EP_MESSAGE_ID_SIZE],
                const guint8    contact_key[EP_MESSAGE_KEY_SIZE],
                const guint8    sender_key[EP_MESSAGE_KEY_SIZE],
                gboolean        outgoing,
                const char     *text,
                gint64          sender_time,
                guint64         lamport,
                EpMessageStatus status,
                gint64          received_time)
{
  g_return_val_if_fail (text != NULL, NULL);

  return ep_message_new_take (id, contact_key, sender_key, outgoing, g_strdup (text),
                              sender_time, lamport, status, received_time);
}

/* See ep-message-private.h. */
EpMessage *
ep_message_new_take (const guint8    id[EP_MESSAGE_ID_SIZE],
                     const guint8    contact_key[EP_MESSAGE_KEY_SIZE],
                     const guint8    sender_key[EP_MESSAGE_KEY_SIZE],
                     gboolean        outgoing,
                     char           *text,
                     gint64          sender_time,
                     guint64         lamport,
                     EpMessageStatus status,
                     gint64          received_time)
{
  EpMessage *self;

  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (contact_key != NULL, NULL);
  g_return_val_if_fail (sender_key != NULL, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  self = g_object_new (EP_TYPE_MESSAGE, NULL);
  memcpy (self->id, id, EP_MESSAGE_ID_SIZE);
  memcpy (self->contact_key, contact_key, EP_MESSAGE_KEY_SIZE);
  memcpy (self->sender_key, sender_key, EP_MESSAGE_KEY_SIZE);
  to_hex (self->id_hex, id, EP_MESSAGE_ID_SIZE);
  to_hex (self->contact_hex, contact_key, EP_MESSAGE_KEY_SIZE);
  to_hex (self->sender_hex, sender_key, EP_MESSAGE_KEY_SIZE);
  self->outgoing = !!outgoing;
  self->text = text;
  self->sender_time = sender_time;
  self->lamport = lamport;
  self->status = status;
  self->received_time = received_time;

  return self;
}

/** ep_message_get_id: Returns: the 16-byte message id as 32 lowercase hex digits */
const char *
ep_message_get_id (EpMessage *self)
{
  g_return_val_if_fail (EP_IS_MESSAGE (self), NULL);
  return self->id_hex;
}

/** ep_message_get_id_bytes: Returns: (array fixed-size=16): the raw id */
const guint8 *
ep_message_get_id_bytes (EpMessage *self)
{
  g_return_val_if_fail (EP_IS_MESSAGE (self), NULL);
  return self->id;
}

/** ep_message_get_contact_key: Returns: the contact's public key, 64 hex digits */
const char *
ep_message_get_contact_key (EpMessage *self)
{
  g_return_val_if_fail (EP_IS_MESSAGE (self), NULL);
  return self->contact_hex;
}

const guint8 *
ep_message_get_contact_key_bytes (EpMessage *self)
{
  g_return_val_if_fail (EP_IS_MESSAGE (self), NULL);
  return self->contact_key;
}

/** ep_message_get_sender_key: Returns: the author's public key (ours when outgoing) */
const char *
ep_message_get_sender_key (EpMessage *self)
{
  g_return_val_if_fail (EP_IS_MESSAGE (self), NULL);
  return self->sender_hex;
}

const guint8 *
ep_message_get_sender_key_bytes (EpMessage *self)
{
  g_return_val_if_fail (EP_IS_MESSAGE (self), NULL);
  return self->sender_key;
}

gboolean
ep_message_get_outgoing (EpMessage *self)
{
  g_return_val_if_fail (EP_IS_MESSAGE (self), FALSE);
  return self->outgoing;
}

const char *
ep_message_get_text (EpMessage *self)
{
  g_return_val_if_fail (EP_IS_MESSAGE (self), NULL);
  return self->text;
}

gint64
ep_message_get_sender_time (EpMessage *self)
{
  g_return_val_if_fail (EP_IS_MESSAGE (self), 0);
  return self->sender_time;
}

/** ep_message_dup_sender_datetime: Returns: (transfer full) (nullable): sender time, local zone */
GDateTime *
ep_message_dup_sender_datetime (EpMessage *self)
{
  g_return_val_if_fail (EP_IS_MESSAGE (self), NULL);
  return ep_message_datetime_from_usec (self->sender_time);
}

/**
 * ep_message_datetime_from_usec:
 * @usec: µs since the epoch
 *
 * Returns: (transfer full) (nullable): that time in the local zone
 */
GDateTime *
ep_message_datetime_from_usec (gint64 usec)
{
  g_autoptr(GDateTime) seconds = NULL;
  gint64 secs = usec / G_USEC_PER_SEC;
  gint64 rest = usec % G_USEC_PER_SEC;

  if (rest < 0)
    {
      secs--;
      rest += G_USEC_PER_SEC;
    }
  seconds = g_date_time_new_from_unix_local (secs);
  if (seconds == NULL)
    return NULL;
  return g_date_time_add (seconds, rest);
}

gint64
ep_message_get_received_time (EpMessage *self)
{
  g_return_val_if_fail (EP_IS_MESSAGE (self), 0);
  return self->received_time;
}

guint64
ep_message_get_lamport (EpMessage *self)
{
  g_return_val_if_fail (EP_IS_MESSAGE (self), 0);
  return self->lamport;
}

EpMessageStatus
ep_message_get_status (EpMessage *self)
{
  g_return_val_if_fail (EP_IS_MESSAGE (self), EP_MESSAGE_STATUS_QUEUED);
  return self->status;
}

/**
 * ep_message_set_status:
 *
 * Sets the delivery status; notifies only when it changes. The store keeps
 * statuses from going backwards; this only mirrors what it decided.
 */
void
ep_message_set_status (EpMessage       *self,
                       EpMessageStatus  status)
{
  g_return_if_fail (EP_IS_MESSAGE (self));
  g_return_if_fail (status <= EP_MESSAGE_STATUS_FAILED);

  if (self->status == status)
    return;

  self->status = status;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
}

/**
 * ep_message_compare_position:
 *
 * Compares @self with the position (@lamport, @sender_key, @id) in
 * conversation order.
 *
 * Returns: < 0, 0 or > 0 as @self sorts before, at or after it
 */
int
ep_message_compare_position (EpMessage    *self,
                             guint64       lamport,
                             const guint8 *sender_key,
                             const guint8 *id)
{
  int r;

  if (self->lamport != lamport)
    return self->lamport < lamport ? -1 : 1;
  r = memcmp (self->sender_key, sender_key, EP_MESSAGE_KEY_SIZE);
  if (r != 0)
    return r;
  return memcmp (self->id, id, EP_MESSAGE_ID_SIZE);
}

/**
 * ep_message_compare:
 *
 * Conversation order: (Lamport, sender key, id), keys and ids compared as
 * bytes, the same order SQLite gives BLOBs.
 */
int
ep_message_compare (EpMessage *a,
                    EpMessage *b)
{
  return ep_message_compare_position (a, b->lamport, b->sender_key, b->id);
}
