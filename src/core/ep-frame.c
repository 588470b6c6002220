/* ep-frame.c — what peers say to each other inside a session
 *
 * A frame is one JSON object with a "type" member:
 *
 *   message           id (32 hex), ts (µs, integer), lamport (integer ≥ 1), text
 *   ack               id: the message is stored; stop resending it
 *   receipt           ids (1–64 × 32 hex): the messages were shown to the user
 *   typing            active (boolean): typing started or stopped
 *   profile           name, status
 *   request           nospam (8 hex), name, text: a contact request
 *   request-accepted, request-declined, keepalive: no members
 *
 * Bytes from a peer are hostile even inside an authenticated session:
 * size, UTF-8 and nesting are checked before json-glib sees them, every
 * member has an exact JSON type, ids have an exact length, strings a byte
 * limit. A well-formed frame of a type we do not know is "ignored" (a newer
 * peer); anything else wrong is "malformed", for the caller to drop and
 * count. Members we do not know are skipped, for the same reason.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "ep-fragment.h"
#include "ep-frame.h"
#include "ep-lamport.h"

#define MAX_DEPTH 3
/* Sender times beyond this are nonsense (year 2255); JSON keeps them exact. */
#define MAX_TIMESTAMP G_GINT64_CONSTANT (9007199254740991)

G_DEFINE_QUARK (ep-frame-error-quark, ep_frame_error)
G_DEFINE_BOXED_TYPE (EpFrame, ep_frame, ep_frame_copy, ep_frame_free)

static const char * const type_names[] = {
  [EP_FRAME_MESSAGE] = "message",
  [EP_FRAME_ACK] = "ack",
  [EP_FRAME_RECEIPT] = "receipt",
  [EP_FRAME_TYPING] = "typing",
  [EP_FRAME_PROFILE] = "profile",
  [EP_FRAME_REQUEST] = "request",
  [EP_FRAME_REQUEST_ACCEPTED] = "request-accepted",
  [EP_FRAME_REQUEST_DECLINED] = "request-declined",
  [EP_FRAME_KEEPALIVE] = "keepalive",
};

const char *
ep_frame_type_to_string (EpFrameType type)
{
  if ((guint) type >= G_N_ELEMENTS (type_names))
    return "unknown";
  return type_names[type];
}

/** ep_frame_new: Returns: (transfer full): an empty frame of @type */
EpFrame *
ep_frame_new (EpFrameType type)
{
  EpFrame *frame;

  g_return_val_if_fail ((guint) type < G_N_ELEMENTS (type_names), NULL);

  frame = g_new0 (EpFrame, 1);
  frame->type = type;
  return frame;
}

EpFrame *
ep_frame_new_message (const guint8  id[EP_FRAME_ID_SIZE],
                      gint64        timestamp,
                      guint64       lamport,
                      const char   *text)
{
  EpFrame *frame = ep_frame_new (EP_FRAME_MESSAGE);

  memcpy (frame->id, id, EP_FRAME_ID_SIZE);
  frame->timestamp = timestamp;
  frame->lamport = lamport;
  frame->text = g_strdup (text);
  return frame;
}

EpFrame *
ep_frame_new_ack (const guint8 id[EP_FRAME_ID_SIZE])
{
  EpFrame *frame = ep_frame_new (EP_FRAME_ACK);

  memcpy (frame->id, id, EP_FRAME_ID_SIZE);
  return frame;
}

EpFrame *
ep_frame_copy (const EpFrame *frame)
{
  EpFrame *copy;

  g_return_val_if_fail (frame != NULL, NULL);

  copy = g_memdup2 (frame, sizeof *frame);
  copy->text = g_strdup (frame->text);
  copy->name = g_strdup (frame->name);
  copy->status_text = g_strdup (frame->status_text);
  copy->receipt_ids = g_memdup2 (frame->receipt_ids,
                                 (gsize) frame->n_receipt_ids * EP_FRAME_ID_SIZE);
  return copy;
}

void
ep_frame_free (EpFrame *frame)
{
  if (frame == NULL)
    return;
  g_free (frame->text);
  g_free (frame->name);
  g_free (frame->status_text);
  g_free (frame->receipt_ids);
  g_free (frame);
}

/* ---- encoding -------------------------------------------------------- */

static void
add_hex (JsonBuilder  *builder,
         const guint8 *bytes,
         gsize         len)
{
  static const char digits[] = "0123456789abcdef";
  char hex[2 * EP_FRAME_ID_SIZE + 1];

  g_assert (len <= EP_FRAME_ID_SIZE);
  for (gsize i = 0; i < len; i++)
    {
      hex[2 * i] = digits[bytes[i] >> 4];
      hex[2 * i + 1] = digits[bytes[i] & 0xf];
    }
  hex[2 * len] = '\0';
  json_builder_add_string_value (builder, hex);
}

static gboolean
check_string (const char  *value,
              gsize        max,
              const char  *what,
              GError     **error)
{
  if (value == NULL || strlen (value) > max || !g_utf8_validate (value, -1, NULL))
    {
      g_set_error (error, EP_FRAME_ERROR, EP_FRAME_ERROR_TOO_LARGE,
                   _("The %s must be valid text of at most %u bytes"), what, (guint) max);
      return FALSE;
    }
  return TRUE;
}

/**
 * ep_frame_encode:
 *
 * Returns: (transfer full) (nullable): the frame as compact JSON, or %NULL
 *   when a field is out of its limits
 */
GBytes *
ep_frame_encode (const EpFrame  *frame,
                 GError        **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  gsize len = 0;
  char *data;

  g_return_val_if_fail (frame != NULL, NULL);
  g_return_val_if_fail ((guint) frame->type < G_N_ELEMENTS (type_names), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type_names[frame->type]);

  switch (frame->type)
    {
    case EP_FRAME_MESSAGE:
      if (!check_string (frame->text, EP_FRAME_MAX_TEXT, _("message"), error))
        return NULL;
      if (frame->lamport < 1 || frame->lamport > EP_LAMPORT_MAX ||
          frame->timestamp < 0 || frame->timestamp > MAX_TIMESTAMP)
        {
          g_set_error_literal (error, EP_FRAME_ERROR, EP_FRAME_ERROR_MALFORMED,
                               _("A message’s clock or time is out of range"));
          return NULL;
        }
      json_builder_set_member_name (builder, "id");
      add_hex (builder, frame->id, EP_FRAME_ID_SIZE);
      json_builder_set_member_name (builder, "ts");
      json_builder_add_int_value (builder, frame->timestamp);
      json_builder_set_member_name (builder, "lamport");
      json_builder_add_int_value (builder, (gint64) frame->lamport);
      json_builder_set_member_name (builder, "text");
      json_builder_add_string_value (builder, frame->text);
      break;

    case EP_FRAME_ACK:
      json_builder_set_member_name (builder, "id");
      add_hex (builder, frame->id, EP_FRAME_ID_SIZE);
      break;

    case EP_FRAME_RECEIPT:
      if (frame->n_receipt_ids < 1 || frame->n_receipt_ids > EP_FRAME_MAX_RECEIPT_IDS)
        {
          g_set_error_literal (error, EP_FRAME_ERROR, EP_FRAME_ERROR_TOO_LARGE,
                               _("A receipt names between 1 and 64 messages"));
          return NULL;
        }
      json_builder_set_member_name (builder, "ids");
      json_builder_begin_array (builder);
      for (guint i = 0; i < frame->n_receipt_ids; i++)
        add_hex (builder, frame->receipt_ids + i * EP_FRAME_ID_SIZE, EP_FRAME_ID_SIZE);
      json_builder_end_array (builder);
      break;

    case EP_FRAME_TYPING:
      json_builder_set_member_name (builder, "active");
      json_builder_add_boolean_value (builder, frame->active);
      break;

    case EP_FRAME_PROFILE:
      if (!check_string (frame->name, EP_FRAME_MAX_NAME, _("name"), error) ||
          !check_string (frame->status_text, EP_FRAME_MAX_STATUS, _("status"), error))
        return NULL;
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, frame->name);
      json_builder_set_member_name (builder, "status");
      json_builder_add_string_value (builder, frame->status_text);
      break;

    case EP_FRAME_REQUEST:
      {
        guint8 nospam[4] = {
          frame->nospam >> 24, frame->nospam >> 16, frame->nospam >> 8, frame->nospam
        };

        if (!check_string (frame->name, EP_FRAME_MAX_NAME, _("name"), error) ||
            !check_string (frame->text, EP_FRAME_MAX_REQUEST_TEXT, _("request text"), error))
          return NULL;
        json_builder_set_member_name (builder, "nospam");
        add_hex (builder, nospam, sizeof nospam);
        json_builder_set_member_name (builder, "name");
        json_builder_add_string_value (builder, frame->name);
        json_builder_set_member_name (builder, "text");
        json_builder_add_string_value (builder, frame->text);
      }
      break;

    case EP_FRAME_REQUEST_ACCEPTED:
    case EP_FRAME_REQUEST_DECLINED:
    case EP_FRAME_KEEPALIVE:
    default:
      break;
    }

  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  data = json_generator_to_data (generator, &len);
  return g_bytes_new_take (data, len);
}

/* ---- parsing --------------------------------------------------------- */

/* Nesting outside strings (json-glib recurses and must not be made to
 * recurse deeply) and no \u0000 inside them. */
static gboolean
structure_ok (const guint8 *data,
          gsize         len)
{
  gboolean in_string = FALSE;
  gboolean escaped = FALSE;
  guint depth = 0;

  for (gsize i = 0; i < len; i++)
    {
      guint8 c = data[i];

      if (in_string)
        {
          if (escaped)
            {
              /* json-glib would cut the string at an escaped NUL. */
              if (c == 'u' && len - i > 4 && memcmp (data + i + 1, "0000", 4) == 0)
                return FALSE;
              escaped = FALSE;
            }
          else if (c == '\\')
            escaped = TRUE;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > MAX_DEPTH)
            return FALSE;
        }
      else if (c == '}' || c == ']')
        {
          if (depth == 0)
            return FALSE;
          depth--;
        }
    }
  return TRUE;
}

static EpFrameParseResult
malformed (GError     **error,
           const char  *why)
{
  g_set_error (error, EP_FRAME_ERROR, EP_FRAME_ERROR_MALFORMED, "Malformed frame: %s", why);
  return EP_FRAME_PARSE_MALFORMED;
}

static JsonNode *
member_of_type (JsonObject *object,
                const char *name,
                GType       type)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != type)
    return NULL;
  return node;
}

static gboolean
get_string (JsonObject  *object,
            const char  *name,
            gsize        max,
            char       **out)
{
  JsonNode *node = member_of_type (object, name, G_TYPE_STRING);
  const char *value;

  if (node == NULL)
    return FALSE;
  value = json_node_get_string (node);
  if (value == NULL || strlen (value) > max || !g_utf8_validate (value, -1, NULL))
    return FALSE;
  *out = g_strdup (value);
  return TRUE;
}

static gboolean
hex_to_bytes (const char *hex,
              guint8     *out,
              gsize       len)
{
  if (hex == NULL || strlen (hex) != 2 * len)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      out[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
}

static gboolean
get_hex (JsonObject *object,
         const char *name,
         guint8     *out,
         gsize       len)
{
  JsonNode *node = member_of_type (object, name, G_TYPE_STRING);

  return node != NULL && hex_to_bytes (json_node_get_string (node), out, len);
}

static gboolean
get_int (JsonObject *object,
         const char *name,
         gint64      min,
         gint64      max,
         gint64     *out)
{
  JsonNode *node = member_of_type (object, name, G_TYPE_INT64);
  gint64 value;

  if (node == NULL)
    return FALSE;
  value = json_node_get_int (node);
  if (value < min || value > max)
    return FALSE;
  *out = value;
  return TRUE;
}

static gboolean
parse_members (JsonObject *object,
               EpFrame    *frame)
{
  gint64 value = 0;

  switch (frame->type)
    {
    case EP_FRAME_MESSAGE:
      if (!get_hex (object, "id", frame->id, EP_FRAME_ID_SIZE) ||
          !get_int (object, "ts", 0, MAX_TIMESTAMP, &frame->timestamp) ||
          !get_int (object, "lamport", 1, (gint64) EP_LAMPORT_MAX, &value) ||
          !get_string (object, "text", EP_FRAME_MAX_TEXT, &frame->text))
        return FALSE;
      frame->lamport = (guint64) value;
      return TRUE;

    case EP_FRAME_ACK:
      return get_hex (object, "id", frame->id, EP_FRAME_ID_SIZE);

    case EP_FRAME_RECEIPT:
      {
        JsonNode *node = json_object_get_member (object, "ids");
        JsonArray *array;
        guint n;

        if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
          return FALSE;
        array = json_node_get_array (node);
        n = json_array_get_length (array);
        if (n < 1 || n > EP_FRAME_MAX_RECEIPT_IDS)
          return FALSE;
        frame->receipt_ids = g_malloc ((gsize) n * EP_FRAME_ID_SIZE);
        frame->n_receipt_ids = n;
        for (guint i = 0; i < n; i++)
          {
            JsonNode *element = json_array_get_element (array, i);

            if (!JSON_NODE_HOLDS_VALUE (element) ||
                json_node_get_value_type (element) != G_TYPE_STRING ||
                !hex_to_bytes (json_node_get_string (element),
                               frame->receipt_ids + i * EP_FRAME_ID_SIZE, EP_FRAME_ID_SIZE))
              return FALSE;
          }
        return TRUE;
      }

    case EP_FRAME_TYPING:
      {
        JsonNode *node = member_of_type (object, "active", G_TYPE_BOOLEAN);

        if (node == NULL)
          return FALSE;
        frame->active = json_node_get_boolean (node);
        return TRUE;
      }

    case EP_FRAME_PROFILE:
      return get_string (object, "name", EP_FRAME_MAX_NAME, &frame->name) &&
             get_string (object, "status", EP_FRAME_MAX_STATUS, &frame->status_text);

    case EP_FRAME_REQUEST:
      {
        guint8 nospam[4];

        if (!get_hex (object, "nospam", nospam, sizeof nospam) ||
            !get_string (object, "name", EP_FRAME_MAX_NAME, &frame->name) ||
            !get_string (object, "text", EP_FRAME_MAX_REQUEST_TEXT, &frame->text))
          return FALSE;
        frame->nospam = (guint32) nospam[0] << 24 | (guint32) nospam[1] << 16 |
                        (guint32) nospam[2] << 8 | nospam[3];
        return TRUE;
      }

    case EP_FRAME_REQUEST_ACCEPTED:
    case EP_FRAME_REQUEST_DECLINED:
    case EP_FRAME_KEEPALIVE:
    default:
      return TRUE;
    }
}

/**
 * ep_frame_parse:
 * @data: (array length=len): a whole frame as received (reassembled)
 * @frame: (out) (optional): the frame, when %EP_FRAME_PARSE_OK
 * @error: set when %EP_FRAME_PARSE_MALFORMED
 *
 * Returns: whether the frame is good, of an unknown type, or malformed
 */
EpFrameParseResult
ep_frame_parse (const guint8  *data,
                gsize          len,
                EpFrame      **frame,
                GError       **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(EpFrame) result = NULL;
  g_autoptr(GError) json_error = NULL;
  JsonNode *root;
  JsonObject *object;
  JsonNode *type_node;
  const char *type;

  if (frame != NULL)
    *frame = NULL;

  if (data == NULL || len == 0)
    return malformed (error, "empty");
  if (len > EP_FRAME_MAX_SIZE)
    return malformed (error, "too large");
  if (data[0] != '{')
    return malformed (error, "not an object");
  if (memchr (data, '\0', len) != NULL ||
      !g_utf8_validate ((const char *) data, (gssize) len, NULL))
    return malformed (error, "not UTF-8 text");
  if (!structure_ok (data, len))
    return malformed (error, "nested too deep or NUL escaped");

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, (const char *) data, (gssize) len, &json_error))
    return malformed (error, "not JSON");

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return malformed (error, "not an object");
  object = json_node_get_object (root);

  type_node = member_of_type (object, "type", G_TYPE_STRING);
  if (type_node == NULL)
    return malformed (error, "no type");
  type = json_node_get_string (type_node);

  for (guint i = 0; i < G_N_ELEMENTS (type_names); i++)
    if (g_strcmp0 (type, type_names[i]) == 0)
      {
        result = ep_frame_new (i);
        break;
      }
  if (result == NULL)
    return EP_FRAME_PARSE_IGNORED;

  if (!parse_members (object, result))
    return malformed (error, "bad members");

  if (frame != NULL)
    *frame = g_steal_pointer (&result);
  return EP_FRAME_PARSE_OK;
}

/**
 * ep_frame_to_payloads:
 * @message_local_id: distinguishes this frame's fragments from others' in flight
 * @payload_budget: the most plaintext one session packet may carry, e.g.
 *   %EP_FRAME_DEFAULT_PAYLOAD
 *
 * Encodes @frame into session payloads: itself when it fits, fragments
 * otherwise (see ep_fragment_split ()).
 *
 * Returns: (transfer container) (element-type GBytes) (nullable): the payloads
 */
GPtrArray *
ep_frame_to_payloads (const EpFrame  *frame,
                      guint32         message_local_id,
                      gsize           payload_budget,
                      GError        **error)
{
  g_autoptr(GBytes) encoded = ep_frame_encode (frame, error);

  if (encoded == NULL)
    return NULL;
  return ep_fragment_split (encoded, message_local_id, payload_budget, error);
}
