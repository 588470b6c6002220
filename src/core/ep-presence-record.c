/* ep-presence-record.c — signed presence records (BEP 44 mutable items)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-bencode.h"
#include "ep-bep44.h"
#include "ep-presence-record.h"

#define V4_LEN 6
#define V6_LEN 18

G_DEFINE_QUARK (ep-presence-record-error-quark, ep_presence_record_error)

struct _EpPresenceChooser
{
  guint8              target[20];
  gint64              min_seq;
  gint64              now;
  EpPresenceRecord   *best;
  EpPresenceCounters  counters;
};

/**
 * ep_presence_rejection_to_string:
 * @rejection: a rejection reason
 *
 * Returns: a stable lower-case name ("bad-signature", …) for logs and JSON
 */
const char *
ep_presence_rejection_to_string (EpPresenceRejection rejection)
{
  switch (rejection)
    {
    case EP_PRESENCE_REJECT_NONE:            return "none";
    case EP_PRESENCE_REJECT_BAD_SIGNATURE:   return "bad-signature";
    case EP_PRESENCE_REJECT_WRONG_TARGET:    return "wrong-target";
    case EP_PRESENCE_REJECT_EXPIRED:         return "expired";
    case EP_PRESENCE_REJECT_FROM_THE_FUTURE: return "from-the-future";
    case EP_PRESENCE_REJECT_ROLLBACK:        return "rollback";
    case EP_PRESENCE_REJECT_MALFORMED:       return "malformed";
    case EP_PRESENCE_N_REJECTIONS:
    default:                                 return "unknown";
    }
}

/**
 * ep_presence_target:
 * @key: an Ed25519 identity key
 * @target: (out caller-allocates): SHA-1 (@key ‖ "ep1"), where its record is stored
 */
void
ep_presence_target (const guint8 key[32],
                    guint8       target[20])
{
  ep_bep44_mutable_target (key, (const guint8 *) EP_PRESENCE_SALT, EP_PRESENCE_SALT_LEN, target);
}

/* ---- endpoints ------------------------------------------------------------ */

/* Would anyone ever be reachable there? Checked on what we publish and on
 * what we read, in compact form. */
static gboolean
compact_endpoint_ok (const guint8 *addr,
                     gsize         addr_len,
                     guint16       port)
{
  static const guint8 v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  gboolean all_zero = TRUE;

  if (port == 0)
    return FALSE;
  for (gsize i = 0; i < addr_len; i++)
    all_zero &= addr[i] == 0;
  if (all_zero)
    return FALSE;

  if (addr_len == 4)
    return addr[0] != 0                                     /* 0.0.0.0/8 */
           && (addr[0] & 0xf0) != 0xe0                      /* multicast */
           && !(addr[0] == 255 && addr[1] == 255 && addr[2] == 255 && addr[3] == 255);

  return addr[0] != 0xff                                    /* multicast */
         && memcmp (addr, v4_mapped_prefix, sizeof v4_mapped_prefix) != 0;
}

/* Appends the compact form of @address to @v4 or @v6. */
static gboolean
compact_endpoint (GSocketAddress  *address,
                  GByteArray      *v4,
                  GByteArray      *v6,
                  GError         **error)
{
  GInetAddress *inet;
  const guint8 *bytes;
  gsize len;
  guint16 port;
  guint16 port_be;
  GByteArray *out;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    {
      g_set_error_literal (error, EP_PRESENCE_RECORD_ERROR, EP_PRESENCE_RECORD_ERROR_ENDPOINT,
                           _("Presence endpoints must be IP socket addresses"));
      return FALSE;
    }

  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
  bytes = g_inet_address_to_bytes (inet);
  len = g_inet_address_get_native_size (inet);
  out = len == 4 ? v4 : v6;

  if (!compact_endpoint_ok (bytes, len, port))
    {
      g_autofree char *text = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (address));

      g_set_error (error, EP_PRESENCE_RECORD_ERROR, EP_PRESENCE_RECORD_ERROR_ENDPOINT,
                   _("Cannot publish the endpoint %s: nobody can reach it"), text);
      return FALSE;
    }

  port_be = GUINT16_TO_BE (port);
  for (guint i = 0; i < out->len; i += len + 2)
    if (memcmp (out->data + i, bytes, len) == 0 && memcmp (out->data + i + len, &port_be, 2) == 0)
      {
        g_autofree char *text = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (address));

        g_set_error (error, EP_PRESENCE_RECORD_ERROR, EP_PRESENCE_RECORD_ERROR_ENDPOINT,
                     _("The endpoint %s is listed twice"), text);
        return FALSE;
      }

  g_byte_array_append (out, bytes, len);
  g_byte_array_append (out, (const guint8 *) &port_be, 2);
  return TRUE;
}

/* Decodes a run of compact endpoints into @endpoints. */
static gboolean
parse_endpoints (const guint8 *data,
                 gsize         len,
                 gsize         item_len,
                 guint         max_count,
                 GPtrArray    *endpoints)
{
  gsize addr_len = item_len - 2;

  if (len % item_len != 0 || len / item_len > max_count)
    return FALSE;

  for (gsize i = 0; i < len; i += item_len)
    {
      g_autoptr(GInetAddress) inet = NULL;
      guint16 port = (guint16) (data[i + addr_len] << 8 | data[i + addr_len + 1]);

      if (!compact_endpoint_ok (data + i, addr_len, port))
        return FALSE;
      for (gsize j = 0; j < i; j += item_len)
        if (memcmp (data + j, data + i, item_len) == 0)
          return FALSE;

      inet = g_inet_address_new_from_bytes (data + i, addr_len == 4 ? G_SOCKET_FAMILY_IPV4
                                                                   : G_SOCKET_FAMILY_IPV6);
      g_ptr_array_add (endpoints, g_inet_socket_address_new (inet, port));
    }
  return TRUE;
}

/* ---- v -------------------------------------------------------------------- */

/**
 * ep_presence_value_encode:
 * @static_key: the X25519 static public key
 * @endpoints: (nullable) (element-type GInetSocketAddress): where we can be reached
 * @timestamp: Unix seconds
 * @expires: Unix seconds, after @timestamp
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the bencoded v
 */
GBytes *
ep_presence_value_encode (const guint8   static_key[32],
                          GPtrArray     *endpoints,
                          gint64         timestamp,
                          gint64         expires,
                          GError       **error)
{
  return ep_presence_value_encode_full (static_key, endpoints, NULL,
                                        EP_PRESENCE_REACHABILITY_UNKNOWN, timestamp, expires, error);
}

/* Appends the "r" entries: key ‖ compact endpoint each. */
static gboolean
encode_relays (GPtrArray   *relays,
               GByteArray  *out,
               GError     **error)
{
  if (relays->len > EP_PRESENCE_MAX_RELAYS)
    {
      g_set_error (error, EP_PRESENCE_RECORD_ERROR, EP_PRESENCE_RECORD_ERROR_TOO_MANY,
                   _("Too many relays to publish: %u, at most %d"), relays->len,
                   EP_PRESENCE_MAX_RELAYS);
      return FALSE;
    }
  ep_benc_put_list_begin (out);
  for (guint i = 0; i < relays->len; i++)
    {
      EpPresenceRelay *relay = relays->pdata[i];
      g_autoptr(GByteArray) v4 = g_byte_array_new ();
      g_autoptr(GByteArray) v6 = g_byte_array_new ();
      g_autoptr(GByteArray) entry = g_byte_array_new ();

      if (!compact_endpoint (relay->address, v4, v6, error))
        return FALSE;
      g_byte_array_append (entry, relay->key, 32);
      g_byte_array_append (entry, v4->data, v4->len);
      g_byte_array_append (entry, v6->data, v6->len);
      ep_benc_put_bytes (out, entry->data, entry->len);
    }
  ep_benc_put_end (out);
  return TRUE;
}

/**
 * ep_presence_value_encode_full:
 * @relays: (nullable) (element-type EpPresenceRelay): relays we can be
 *   reached through, at most %EP_PRESENCE_MAX_RELAYS
 * @reachability: written as "a" unless unknown
 *
 * Like ep_presence_value_encode(), with relays and what we know of our
 * reachability.
 *
 * Returns: (transfer full) (nullable): the bencoded v
 */
GBytes *
ep_presence_value_encode_full (const guint8            static_key[32],
                               GPtrArray              *endpoints,
                               GPtrArray              *relays,
                               EpPresenceReachability  reachability,
                               gint64                  timestamp,
                               gint64                  expires,
                               GError                **error)
{
  g_autoptr(GByteArray) v4 = g_byte_array_new ();
  g_autoptr(GByteArray) v6 = g_byte_array_new ();
  g_autoptr(GByteArray) out = g_byte_array_sized_new (512);
  static const guint8 zero[32] = { 0 };

  g_return_val_if_fail (static_key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (memcmp (static_key, zero, sizeof zero) == 0 || timestamp <= 0 || expires <= timestamp
      || expires - timestamp > EP_PRESENCE_MAX_LIFETIME)
    {
      g_set_error_literal (error, EP_PRESENCE_RECORD_ERROR, EP_PRESENCE_RECORD_ERROR_INVALID,
                           _("Invalid presence key, timestamp or expiry"));
      return NULL;
    }

  for (guint i = 0; endpoints != NULL && i < endpoints->len; i++)
    if (!compact_endpoint (endpoints->pdata[i], v4, v6, error))
      return NULL;

  if (v4->len / V4_LEN > EP_PRESENCE_MAX_V4 || v6->len / V6_LEN > EP_PRESENCE_MAX_V6)
    {
      g_set_error (error, EP_PRESENCE_RECORD_ERROR, EP_PRESENCE_RECORD_ERROR_TOO_MANY,
                   _("Too many endpoints to publish: %u IPv4 and %u IPv6, at most %d of each"),
                   v4->len / V4_LEN, v6->len / V6_LEN, EP_PRESENCE_MAX_V4);
      return NULL;
    }

  ep_benc_put_dict_begin (out);
  if (reachability == EP_PRESENCE_REACHABILITY_DIRECT
      || reachability == EP_PRESENCE_REACHABILITY_NAT)
    {
      ep_benc_put_string (out, "a");
      ep_benc_put_int (out, reachability);
    }
  if (v4->len > 0)
    {
      ep_benc_put_string (out, "e4");
      ep_benc_put_bytes (out, v4->data, v4->len);
    }
  if (v6->len > 0)
    {
      ep_benc_put_string (out, "e6");
      ep_benc_put_bytes (out, v6->data, v6->len);
    }
  ep_benc_put_string (out, "exp");
  ep_benc_put_int (out, expires);
  if (relays != NULL && relays->len > 0)
    {
      ep_benc_put_string (out, "r");
      if (!encode_relays (relays, out, error))
        return NULL;
    }
  ep_benc_put_string (out, "ts");
  ep_benc_put_int (out, timestamp);
  ep_benc_put_string (out, "ver");
  ep_benc_put_int (out, EP_PRESENCE_VERSION);
  ep_benc_put_string (out, "x");
  ep_benc_put_bytes (out, static_key, 32);
  ep_benc_put_end (out);

  if (out->len > EP_PRESENCE_MAX_V)
    {
      g_set_error (error, EP_PRESENCE_RECORD_ERROR, EP_PRESENCE_RECORD_ERROR_TOO_LARGE,
                   _("The presence record is %u bytes, more than %d"), out->len, EP_PRESENCE_MAX_V);
      return NULL;
    }

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static gboolean
optional_endpoints (const EpBenc *root,
                    const char   *key,
                    gsize         item_len,
                    guint         max_count,
                    GPtrArray    *endpoints)
{
  const EpBenc *value = ep_benc_dict_lookup (root, key);
  const guint8 *data;
  gsize len = 0;

  if (value == NULL)
    return TRUE;
  if (ep_benc_type (value) != EP_BENC_BYTES)
    return FALSE;
  data = ep_benc_get_bytes (value, &len);
  return parse_endpoints (data, len, item_len, max_count, endpoints);
}

/* Keeps the first well-formed relays of "r"; anything else there is
 * skipped, so that later versions may write more. */
static GPtrArray *
parse_relays (const EpBenc *root)
{
  GPtrArray *relays = g_ptr_array_new_with_free_func ((GDestroyNotify) ep_presence_relay_free);
  const EpBenc *list = ep_benc_dict_lookup (root, "r");
  guint n;

  if (list == NULL || ep_benc_type (list) != EP_BENC_LIST)
    return relays;
  n = ep_benc_list_length (list);
  for (guint i = 0; i < n && relays->len < EP_PRESENCE_MAX_RELAYS; i++)
    {
      const EpBenc *item = ep_benc_list_nth (list, i);
      g_autoptr(GPtrArray) endpoint = g_ptr_array_new_with_free_func (g_object_unref);
      const guint8 *data;
      gsize len = 0;

      if (ep_benc_type (item) != EP_BENC_BYTES)
        continue;
      data = ep_benc_get_bytes (item, &len);
      if ((len != 32 + V4_LEN && len != 32 + V6_LEN)
          || !parse_endpoints (data + 32, len - 32, len - 32, 1, endpoint)
          || endpoint->len != 1)
        continue;
      g_ptr_array_add (relays, ep_presence_relay_new (data, endpoint->pdata[0]));
    }
  return relays;
}

/**
 * ep_presence_value_parse:
 * @v: (array length=v_len): bencoded v, untrusted
 * @v_len: its length
 * @out: (out caller-allocates): the decoded value; clear it with
 *   ep_presence_value_clear() after success
 *
 * Checks everything in v but the times against a clock.
 *
 * Returns: %TRUE when @v is a well-formed version 1 presence value
 */
gboolean
ep_presence_value_parse (const guint8    *v,
                         gsize            v_len,
                         EpPresenceValue *out)
{
  const EpBencLimits limits = { 8, 128, EP_PRESENCE_MAX_V, FALSE };
  g_autoptr(EpBencDoc) doc = NULL;
  g_autoptr(GPtrArray) endpoints = NULL;
  static const guint8 zero[32] = { 0 };
  const EpBenc *root;
  const guint8 *x;
  gsize x_len = 0;
  gint64 ts, exp, ver, reach;

  g_return_val_if_fail (out != NULL, FALSE);

  memset (out, 0, sizeof *out);
  if (v == NULL || v_len == 0 || v_len > EP_PRESENCE_MAX_V)
    return FALSE;

  doc = ep_benc_doc_parse (v, v_len, &limits, NULL);
  if (doc == NULL)
    return FALSE;
  root = ep_benc_doc_root (doc);
  if (ep_benc_type (root) != EP_BENC_DICT)
    return FALSE;

  if (!ep_benc_dict_get_int (root, "ver", &ver) || ver != EP_PRESENCE_VERSION)
    return FALSE;
  x = ep_benc_dict_get_bytes (root, "x", &x_len);
  if (x == NULL || x_len != 32 || memcmp (x, zero, sizeof zero) == 0)
    return FALSE;
  if (!ep_benc_dict_get_int (root, "ts", &ts) || !ep_benc_dict_get_int (root, "exp", &exp))
    return FALSE;
  /* ts > 0 and exp > ts, so exp - ts cannot overflow. */
  if (ts <= 0 || exp <= ts || exp - ts > EP_PRESENCE_MAX_LIFETIME)
    return FALSE;

  endpoints = g_ptr_array_new_with_free_func (g_object_unref);
  if (!optional_endpoints (root, "e4", V4_LEN, EP_PRESENCE_MAX_V4, endpoints)
      || !optional_endpoints (root, "e6", V6_LEN, EP_PRESENCE_MAX_V6, endpoints))
    return FALSE;

  /* Optional and advisory: anything unexpected reads as unknown. */
  if (ep_benc_dict_get_int (root, "a", &reach)
      && (reach == EP_PRESENCE_REACHABILITY_DIRECT || reach == EP_PRESENCE_REACHABILITY_NAT))
    out->reachability = (EpPresenceReachability) reach;

  memcpy (out->static_key, x, 32);
  out->timestamp = ts;
  out->expires = exp;
  out->version = ver;
  out->endpoints = g_steal_pointer (&endpoints);
  out->relays = parse_relays (root);
  return TRUE;
}

/**
 * ep_presence_value_clear:
 * @value: a value filled by ep_presence_value_parse()
 */
void
ep_presence_value_clear (EpPresenceValue *value)
{
  g_return_if_fail (value != NULL);

  g_clear_pointer (&value->endpoints, g_ptr_array_unref);
  g_clear_pointer (&value->relays, g_ptr_array_unref);
}

/**
 * ep_presence_relay_new:
 * @key: the relay's identity key
 * @address: where it listens, a #GInetSocketAddress
 *
 * Returns: (transfer full): a relay entry
 */
EpPresenceRelay *
ep_presence_relay_new (const guint8    key[32],
                       GSocketAddress *address)
{
  EpPresenceRelay *relay;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (G_IS_INET_SOCKET_ADDRESS (address), NULL);

  relay = g_new0 (EpPresenceRelay, 1);
  memcpy (relay->key, key, 32);
  relay->address = g_object_ref (address);
  return relay;
}

void
ep_presence_relay_free (EpPresenceRelay *relay)
{
  if (relay == NULL)
    return;
  g_clear_object (&relay->address);
  g_free (relay);
}

/* ---- records -------------------------------------------------------------- */

/**
 * ep_presence_record_free:
 * @record: (nullable): a record
 */
void
ep_presence_record_free (EpPresenceRecord *record)
{
  if (record == NULL)
    return;
  g_clear_pointer (&record->v, g_bytes_unref);
  ep_presence_value_clear (&record->value);
  g_free (record);
}

/**
 * ep_presence_record_new_signed:
 * @identity: whose record it is; signs it
 * @hlc: gives the seq; persist ep_hlc_get_last() afterwards
 * @endpoints: (nullable) (element-type GInetSocketAddress): where we can be reached
 * @now: Unix seconds
 * @lifetime: seconds until it expires, at most #EP_PRESENCE_MAX_LIFETIME
 * @error: return location for a #GError
 *
 * Makes our record, ready for a BEP 44 put: k, seq, sig and v. The seq is
 * taken only when everything else succeeded.
 *
 * Returns: (transfer full) (nullable): the record
 */
EpPresenceRecord *
ep_presence_record_new_signed (EpIdentity  *identity,
                               EpHlc       *hlc,
                               GPtrArray   *endpoints,
                               gint64       now,
                               gint64       lifetime,
                               GError     **error)
{
  return ep_presence_record_new_signed_full (identity, hlc, endpoints, NULL,
                                             EP_PRESENCE_REACHABILITY_UNKNOWN, now, lifetime,
                                             error);
}

/**
 * ep_presence_record_new_signed_full:
 * @relays: (nullable) (element-type EpPresenceRelay): relays we can be
 *   reached through, at most %EP_PRESENCE_MAX_RELAYS
 * @reachability: what we know of our reachability, published as "a"
 *
 * Like ep_presence_record_new_signed(), with relays and reachability.
 *
 * Returns: (transfer full) (nullable): the record
 */
EpPresenceRecord *
ep_presence_record_new_signed_full (EpIdentity              *identity,
                                    EpHlc                   *hlc,
                                    GPtrArray               *endpoints,
                                    GPtrArray               *relays,
                                    EpPresenceReachability   reachability,
                                    gint64                   now,
                                    gint64                   lifetime,
                                    GError                 **error)
{
  g_autoptr(EpPresenceRecord) record = NULL;
  g_autoptr(GByteArray) message = NULL;
  g_autoptr(GBytes) v = NULL;
  const guint8 *data;
  gsize len;
  gint64 seq;

  g_return_val_if_fail (EP_IS_IDENTITY (identity), NULL);
  g_return_val_if_fail (hlc != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (lifetime <= 0 || lifetime > EP_PRESENCE_MAX_LIFETIME || now <= 0
      || now > G_MAXINT64 - lifetime)
    {
      g_set_error (error, EP_PRESENCE_RECORD_ERROR, EP_PRESENCE_RECORD_ERROR_INVALID,
                   "Invalid presence time %" G_GINT64_FORMAT " or lifetime %" G_GINT64_FORMAT,
                   now, lifetime);
      return NULL;
    }

  v = ep_presence_value_encode_full (ep_identity_get_static_public_key (identity), endpoints,
                                     relays, reachability, now, now + lifetime, error);
  if (v == NULL)
    return NULL;
  if (!ep_hlc_next (hlc, &seq, error))
    return NULL;

  record = g_new0 (EpPresenceRecord, 1);
  data = g_bytes_get_data (v, &len);
  if (!ep_presence_value_parse (data, len, &record->value))
    {
      g_set_error_literal (error, EP_PRESENCE_RECORD_ERROR, EP_PRESENCE_RECORD_ERROR_INVALID,
                           "The presence record does not decode");
      return NULL;
    }

  message = ep_bep44_signed_string ((const guint8 *) EP_PRESENCE_SALT, EP_PRESENCE_SALT_LEN,
                                    seq, data, len);
  ep_identity_sign (identity, message->data, message->len, record->signature);
  memcpy (record->key, ep_identity_get_public_key (identity), 32);
  record->seq = seq;
  record->v = g_steal_pointer (&v);
  return g_steal_pointer (&record);
}

static gboolean
span_ok (const guint8 *data,
         gsize         len)
{
  return data != NULL || len == 0;
}

/**
 * ep_presence_record_validate:
 * @item: what a DHT node returned
 * @target: the target the lookup asked for
 * @min_seq: the last seq accepted for this contact, 0 for none
 * @now: Unix seconds
 * @rejection: (out): why it was refused, %EP_PRESENCE_REJECT_NONE when valid
 *
 * Returns: (transfer full) (nullable): the record when valid
 */
EpPresenceRecord *
ep_presence_record_validate (const EpPresenceItem *item,
                             const guint8          target[20],
                             gint64                min_seq,
                             gint64                now,
                             EpPresenceRejection  *rejection)
{
  g_autoptr(EpPresenceRecord) record = NULL;
  guint8 expected[20];

  g_return_val_if_fail (item != NULL, NULL);
  g_return_val_if_fail (target != NULL, NULL);
  g_return_val_if_fail (rejection != NULL, NULL);

  *rejection = EP_PRESENCE_REJECT_MALFORMED;
  if (!span_ok (item->k, item->k_len) || !span_ok (item->salt, item->salt_len)
      || !span_ok (item->sig, item->sig_len) || !span_ok (item->v, item->v_len))
    return NULL;
  if (item->k_len != 32 || item->sig_len != 64 || item->seq < 0
      || item->v_len == 0 || item->v_len > EP_PRESENCE_MAX_V)
    return NULL;

  *rejection = EP_PRESENCE_REJECT_WRONG_TARGET;
  if (item->salt_len != EP_PRESENCE_SALT_LEN
      || memcmp (item->salt, EP_PRESENCE_SALT, EP_PRESENCE_SALT_LEN) != 0)
    return NULL;
  ep_presence_target (item->k, expected);
  if (memcmp (expected, target, sizeof expected) != 0)
    return NULL;

  *rejection = EP_PRESENCE_REJECT_BAD_SIGNATURE;
  if (!ep_bep44_verify (item->k, item->sig, item->salt, item->salt_len, item->seq,
                        item->v, item->v_len))
    return NULL;

  record = g_new0 (EpPresenceRecord, 1);
  *rejection = EP_PRESENCE_REJECT_MALFORMED;
  if (!ep_presence_value_parse (item->v, item->v_len, &record->value))
    return NULL;

  *rejection = EP_PRESENCE_REJECT_ROLLBACK;
  if (item->seq < min_seq)
    return NULL;

  *rejection = EP_PRESENCE_REJECT_EXPIRED;
  if (record->value.expires <= now)
    return NULL;

  *rejection = EP_PRESENCE_REJECT_FROM_THE_FUTURE;
  if (now <= G_MAXINT64 - EP_PRESENCE_MAX_FUTURE
      && record->value.timestamp > now + EP_PRESENCE_MAX_FUTURE)
    return NULL;

  *rejection = EP_PRESENCE_REJECT_NONE;
  memcpy (record->key, item->k, 32);
  memcpy (record->signature, item->sig, 64);
  record->seq = item->seq;
  record->v = g_bytes_new (item->v, item->v_len);
  return g_steal_pointer (&record);
}

static char *
to_hex (const guint8 *data,
        gsize         len)
{
  char *hex = g_malloc (len * 2 + 1);

  return sodium_bin2hex (hex, len * 2 + 1, data, len);
}

/**
 * ep_presence_record_to_json:
 * @record: a record
 *
 * Returns: (transfer full): a JSON object describing @record
 */
JsonNode *
ep_presence_record_to_json (const EpPresenceRecord *record)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *key = NULL;
  g_autofree char *static_key = NULL;

  g_return_val_if_fail (record != NULL, NULL);

  key = to_hex (record->key, 32);
  static_key = to_hex (record->value.static_key, 32);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "key");
  json_builder_add_string_value (builder, key);
  json_builder_set_member_name (builder, "seq");
  json_builder_add_int_value (builder, record->seq);
  json_builder_set_member_name (builder, "timestamp");
  json_builder_add_int_value (builder, record->value.timestamp);
  json_builder_set_member_name (builder, "expires");
  json_builder_add_int_value (builder, record->value.expires);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, record->value.version);
  json_builder_set_member_name (builder, "reachability");
  json_builder_add_string_value (builder,
                                 record->value.reachability == EP_PRESENCE_REACHABILITY_DIRECT
                                 ? "direct"
                                 : record->value.reachability == EP_PRESENCE_REACHABILITY_NAT
                                 ? "nat" : "unknown");
  json_builder_set_member_name (builder, "static_key");
  json_builder_add_string_value (builder, static_key);
  json_builder_set_member_name (builder, "endpoints");
  json_builder_begin_array (builder);
  for (guint i = 0; record->value.endpoints != NULL && i < record->value.endpoints->len; i++)
    {
      g_autofree char *text =
        g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (record->value.endpoints->pdata[i]));

      json_builder_add_string_value (builder, text);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "relays");
  json_builder_begin_array (builder);
  for (guint i = 0; record->value.relays != NULL && i < record->value.relays->len; i++)
    {
      EpPresenceRelay *relay = record->value.relays->pdata[i];
      g_autofree char *relay_key = to_hex (relay->key, 32);
      g_autofree char *text =
        g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (relay->address));

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "key");
      json_builder_add_string_value (builder, relay_key);
      json_builder_set_member_name (builder, "endpoint");
      json_builder_add_string_value (builder, text);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* ---- choosing among the records of a lookup --------------------------------- */

/**
 * ep_presence_chooser_new:
 * @target: the target of the lookup, from ep_presence_target()
 * @min_seq: the last seq accepted for this contact, 0 for none
 * @now: Unix seconds
 *
 * Collects what a lookup offers and keeps the valid record with the highest
 * seq (the first one seen among equals), counting every refusal by reason.
 *
 * Returns: (transfer full): a chooser
 */
EpPresenceChooser *
ep_presence_chooser_new (const guint8 target[20],
                         gint64       min_seq,
                         gint64       now)
{
  EpPresenceChooser *chooser;

  g_return_val_if_fail (target != NULL, NULL);

  chooser = g_new0 (EpPresenceChooser, 1);
  memcpy (chooser->target, target, 20);
  chooser->min_seq = min_seq;
  chooser->now = now;
  return chooser;
}

/**
 * ep_presence_chooser_free:
 * @chooser: (nullable): a chooser
 */
void
ep_presence_chooser_free (EpPresenceChooser *chooser)
{
  if (chooser == NULL)
    return;
  ep_presence_record_free (chooser->best);
  g_free (chooser);
}

/**
 * ep_presence_chooser_offer:
 * @chooser: a chooser
 * @item: one item a node returned
 *
 * Returns: why @item was refused (so the caller can penalise the node that
 *   sent it), or %EP_PRESENCE_REJECT_NONE when it was valid
 */
EpPresenceRejection
ep_presence_chooser_offer (EpPresenceChooser    *chooser,
                           const EpPresenceItem *item)
{
  EpPresenceRejection rejection = EP_PRESENCE_REJECT_MALFORMED;
  EpPresenceRecord *record;

  g_return_val_if_fail (chooser != NULL, EP_PRESENCE_REJECT_MALFORMED);
  g_return_val_if_fail (item != NULL, EP_PRESENCE_REJECT_MALFORMED);

  chooser->counters.offered++;
  record = ep_presence_record_validate (item, chooser->target, chooser->min_seq, chooser->now,
                                        &rejection);
  if (record == NULL)
    {
      chooser->counters.rejected[rejection]++;
      return rejection;
    }

  chooser->counters.valid++;
  if (chooser->best == NULL || record->seq > chooser->best->seq)
    {
      if (chooser->best != NULL)
        chooser->counters.superseded++;
      ep_presence_record_free (chooser->best);
      chooser->best = record;
    }
  else
    {
      chooser->counters.superseded++;
      ep_presence_record_free (record);
    }
  return EP_PRESENCE_REJECT_NONE;
}

/**
 * ep_presence_chooser_get_best:
 * @chooser: a chooser
 *
 * Returns: (nullable) (transfer none): the valid record with the highest seq
 */
const EpPresenceRecord *
ep_presence_chooser_get_best (EpPresenceChooser *chooser)
{
  g_return_val_if_fail (chooser != NULL, NULL);

  return chooser->best;
}

/**
 * ep_presence_chooser_steal_best:
 * @chooser: a chooser
 *
 * Returns: (nullable) (transfer full): the best record; the chooser forgets it
 */
EpPresenceRecord *
ep_presence_chooser_steal_best (EpPresenceChooser *chooser)
{
  g_return_val_if_fail (chooser != NULL, NULL);

  return g_steal_pointer (&chooser->best);
}

/**
 * ep_presence_chooser_get_counters:
 * @chooser: a chooser
 *
 * Returns: (transfer none): what was offered, kept and refused so far
 */
const EpPresenceCounters *
ep_presence_chooser_get_counters (EpPresenceChooser *chooser)
{
  g_return_val_if_fail (chooser != NULL, NULL);

  return &chooser->counters;
}

/**
 * ep_presence_counters_add:
 * @into: counters to add to
 * @from: counters to add
 */
void
ep_presence_counters_add (EpPresenceCounters       *into,
                          const EpPresenceCounters *from)
{
  g_return_if_fail (into != NULL && from != NULL);

  into->offered += from->offered;
  into->valid += from->valid;
  into->superseded += from->superseded;
  for (guint i = 0; i < EP_PRESENCE_N_REJECTIONS; i++)
    into->rejected[i] += from->rejected[i];
}
