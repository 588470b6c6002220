/* ep-krpc.c — KRPC messages of the Mainline DHT
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "ep-krpc.h"

/* Peers in one `values` list: a 1 KiB datagram holds far fewer. */
#define MAX_VALUES 200

static const char * const method_names[] = {
  [EP_KRPC_PING] = "ping",
  [EP_KRPC_FIND_NODE] = "find_node",
  [EP_KRPC_GET_PEERS] = "get_peers",
  [EP_KRPC_ANNOUNCE_PEER] = "announce_peer",
  [EP_KRPC_GET] = "get",
  [EP_KRPC_PUT] = "put",
  [EP_KRPC_UNKNOWN_METHOD] = "unknown",
};

const char *
ep_krpc_method_to_string (EpKrpcMethod method)
{
  return method <= EP_KRPC_UNKNOWN_METHOD ? method_names[method] : "unknown";
}

const char *
ep_krpc_reason_to_string (EpKrpcReason reason)
{
  static const char * const names[] = {
    "ok", "bad-bencode", "not-dict", "bad-tid", "bad-y", "bad-q", "bad-args", "bad-id",
    "bad-target", "bad-token", "bad-port", "bad-nodes", "bad-values", "bad-item", "bad-ip",
    "bad-error", "bad-field",
  };
  G_STATIC_ASSERT (G_N_ELEMENTS (names) == EP_KRPC_N_REASONS);

  return reason < EP_KRPC_N_REASONS ? names[reason] : "unknown";
}

static const guint8 *
get_bytes (const EpBenc *dict,
           const char   *key,
           gsize        *len)
{
  return ep_benc_get_bytes (ep_benc_dict_lookup (dict, key), len);
}

/* A byte string of exactly @len bytes, copied to @out; absent is FALSE. */
static gboolean
get_fixed (const EpBenc *dict,
           const char   *key,
           gsize         len,
           guint8       *out)
{
  gsize n = 0;
  const guint8 *p = get_bytes (dict, key, &n);

  if (p == NULL || n != len)
    return FALSE;
  memcpy (out, p, len);
  return TRUE;
}

/* Optional integer: absent is fine, another type is not. */
static gboolean
get_opt_int (const EpBenc *dict,
             const char   *key,
             gboolean     *has,
             gint64       *out)
{
  const EpBenc *v = ep_benc_dict_lookup (dict, key);

  *has = FALSE;
  if (v == NULL)
    return TRUE;
  if (!ep_benc_get_int (v, out))
    return FALSE;
  *has = TRUE;
  return TRUE;
}

static gboolean
get_opt_bytes (const EpBenc   *dict,
               const char     *key,
               gsize           max,
               const guint8  **out,
               gsize          *len)
{
  const EpBenc *v = ep_benc_dict_lookup (dict, key);

  *out = NULL;
  *len = 0;
  if (v == NULL)
    return TRUE;
  *out = ep_benc_get_bytes (v, len);
  return *out != NULL && *len <= max;
}

static EpKrpcReason
decode_want (const EpBenc *args,
             EpKrpcMsg    *msg)
{
  const EpBenc *want = ep_benc_dict_lookup (args, "want");
  guint n;

  if (want == NULL)
    return EP_KRPC_OK;
  if (ep_benc_type (want) != EP_BENC_LIST)
    return EP_KRPC_BAD_FIELD;

  n = ep_benc_list_length (want);
  for (guint i = 0; i < n; i++)
    {
      gsize len = 0;
      const guint8 *w = ep_benc_get_bytes (ep_benc_list_nth (want, i), &len);

      if (w == NULL)
        return EP_KRPC_BAD_FIELD;
      if (len == 2 && memcmp (w, "n4", 2) == 0)
        msg->want |= EP_KRPC_WANT_N4;
      else if (len == 2 && memcmp (w, "n6", 2) == 0)
        msg->want |= EP_KRPC_WANT_N6;
    }
  return EP_KRPC_OK;
}

/* The BEP 44 item fields shared by put queries and get responses. */
static EpKrpcReason
decode_item (const EpBenc *dict,
             EpKrpcMsg    *msg,
             gboolean      need_v)
{
  const EpBenc *v = ep_benc_dict_lookup (dict, "v");
  gboolean has_sig;

  if (v != NULL)
    msg->v = ep_benc_raw (v, &msg->v_len);
  else if (need_v)
    return EP_KRPC_BAD_ITEM;

  if (!get_opt_int (dict, "seq", &msg->has_seq, &msg->seq))
    return EP_KRPC_BAD_ITEM;
  if (!get_opt_bytes (dict, "salt", G_MAXSIZE, &msg->salt, &msg->salt_len))
    return EP_KRPC_BAD_ITEM;

  if (ep_benc_dict_lookup (dict, "k") == NULL)
    {
      if (ep_benc_dict_lookup (dict, "sig") != NULL)
        return EP_KRPC_BAD_ITEM;
      return EP_KRPC_OK;
    }

  msg->has_k = get_fixed (dict, "k", 32, msg->k);
  has_sig = get_fixed (dict, "sig", 64, msg->sig);
  if (!msg->has_k || !has_sig || !msg->has_seq || msg->seq < 0)
    return EP_KRPC_BAD_ITEM;
  return EP_KRPC_OK;
}

static EpKrpcReason
decode_query (const EpBenc *root,
              EpKrpcMsg    *msg)
{
  gsize q_len = 0;
  const guint8 *q = get_bytes (root, "q", &q_len);
  const EpBenc *a = ep_benc_dict_lookup (root, "a");
  EpKrpcReason r;
  gboolean has;
  gint64 value;

  if (q == NULL)
    return EP_KRPC_BAD_Q;

  msg->method = EP_KRPC_UNKNOWN_METHOD;
  for (guint i = 0; i < EP_KRPC_UNKNOWN_METHOD; i++)
    if (strlen (method_names[i]) == q_len && memcmp (method_names[i], q, q_len) == 0)
      msg->method = i;

  if (a == NULL || ep_benc_type (a) != EP_BENC_DICT)
    return EP_KRPC_BAD_ARGS;
  /* An unknown method gets a 204 whatever its arguments are. */
  if (msg->method == EP_KRPC_UNKNOWN_METHOD)
    return EP_KRPC_OK;

  if (!get_fixed (a, "id", EP_KRPC_ID_LEN, msg->id))
    return EP_KRPC_BAD_ID;
  if ((r = decode_want (a, msg)) != EP_KRPC_OK)
    return r;

  switch (msg->method)
    {
    case EP_KRPC_PING:
      return EP_KRPC_OK;

    case EP_KRPC_FIND_NODE:
    case EP_KRPC_GET:
      if (!get_fixed (a, "target", EP_KRPC_ID_LEN, msg->target))
        return EP_KRPC_BAD_TARGET;
      if (msg->method == EP_KRPC_GET
          && !get_opt_int (a, "seq", &msg->has_seq, &msg->seq))
        return EP_KRPC_BAD_ITEM;
      return EP_KRPC_OK;

    case EP_KRPC_GET_PEERS:
      if (!get_fixed (a, "info_hash", EP_KRPC_ID_LEN, msg->target))
        return EP_KRPC_BAD_TARGET;
      return EP_KRPC_OK;

    case EP_KRPC_ANNOUNCE_PEER:
      if (!get_fixed (a, "info_hash", EP_KRPC_ID_LEN, msg->target))
        return EP_KRPC_BAD_TARGET;
      if (!get_opt_bytes (a, "token", EP_KRPC_MAX_TOKEN, &msg->token, &msg->token_len)
          || msg->token == NULL)
        return EP_KRPC_BAD_TOKEN;
      if (!get_opt_int (a, "implied_port", &has, &value))
        return EP_KRPC_BAD_FIELD;
      msg->implied_port = has && value != 0;
      if (!get_opt_int (a, "port", &has, &value))
        return EP_KRPC_BAD_PORT;
      /* With implied_port the port is ignored, but still must be a port. */
      if (has && (value < (msg->implied_port ? 0 : 1) || value > G_MAXUINT16))
        return EP_KRPC_BAD_PORT;
      if (!has && !msg->implied_port)
        return EP_KRPC_BAD_PORT;
      msg->port = has ? (guint16) value : 0;
      return EP_KRPC_OK;

    case EP_KRPC_PUT:
      if (!get_opt_bytes (a, "token", EP_KRPC_MAX_TOKEN, &msg->token, &msg->token_len)
          || msg->token == NULL)
        return EP_KRPC_BAD_TOKEN;
      if (!get_opt_int (a, "cas", &msg->has_cas, &msg->cas))
        return EP_KRPC_BAD_ITEM;
      return decode_item (a, msg, TRUE);

    case EP_KRPC_UNKNOWN_METHOD:
    default:
      return EP_KRPC_OK;
    }
}

static EpKrpcReason
decode_response (const EpBenc *root,
                 EpKrpcMsg    *msg)
{
  const EpBenc *r = ep_benc_dict_lookup (root, "r");
  const EpBenc *values;

  if (r == NULL || ep_benc_type (r) != EP_BENC_DICT)
    return EP_KRPC_BAD_ARGS;
  if (!get_fixed (r, "id", EP_KRPC_ID_LEN, msg->id))
    return EP_KRPC_BAD_ID;

  if (!get_opt_bytes (r, "nodes", G_MAXSIZE, &msg->nodes, &msg->nodes_len)
      || msg->nodes_len % 26 != 0
      || !get_opt_bytes (r, "nodes6", G_MAXSIZE, &msg->nodes6, &msg->nodes6_len)
      || msg->nodes6_len % 38 != 0)
    return EP_KRPC_BAD_NODES;

  if (!get_opt_bytes (r, "token", EP_KRPC_MAX_TOKEN, &msg->token, &msg->token_len)
      || (msg->token != NULL && msg->token_len == 0))
    return EP_KRPC_BAD_TOKEN;

  values = ep_benc_dict_lookup (r, "values");
  if (values != NULL)
    {
      guint n;

      if (ep_benc_type (values) != EP_BENC_LIST)
        return EP_KRPC_BAD_VALUES;
      n = ep_benc_list_length (values);
      if (n > MAX_VALUES)
        return EP_KRPC_BAD_VALUES;
      for (guint i = 0; i < n; i++)
        {
          gsize len = 0;

          if (ep_benc_get_bytes (ep_benc_list_nth (values, i), &len) == NULL
              || (len != 6 && len != 18))
            return EP_KRPC_BAD_VALUES;
        }
      msg->values = values;
    }

  return decode_item (r, msg, FALSE);
}

static EpKrpcReason
decode_error (const EpBenc *root,
              EpKrpcMsg    *msg)
{
  const EpBenc *e = ep_benc_dict_lookup (root, "e");

  if (e == NULL || ep_benc_type (e) != EP_BENC_LIST || ep_benc_list_length (e) < 2
      || !ep_benc_get_int (ep_benc_list_nth (e, 0), &msg->error_code))
    return EP_KRPC_BAD_ERROR;
  msg->error_message = ep_benc_get_string (ep_benc_list_nth (e, 1));
  if (msg->error_message == NULL)
    return EP_KRPC_BAD_ERROR;
  return EP_KRPC_OK;
}

/**
 * ep_krpc_decode:
 * @root: the root of a datagram's bencode document
 * @msg: (out caller-allocates): filled in; valid while the document lives
 *
 * Returns: %EP_KRPC_OK, or why the message is malformed. The transaction ID
 *   is set whenever it was valid (msg->tid_len > 0), so a query can still be
 *   answered with an error.
 */
EpKrpcReason
ep_krpc_decode (const EpBenc *root,
                EpKrpcMsg    *msg)
{
  const guint8 *t, *y, *ip;
  gsize t_len = 0, y_len = 0, ip_len = 0;
  gboolean has_ro;
  gint64 ro = 0;

  memset (msg, 0, sizeof *msg);

  if (root == NULL || ep_benc_type (root) != EP_BENC_DICT)
    return EP_KRPC_NOT_DICT;

  t = get_bytes (root, "t", &t_len);
  if (t == NULL || t_len == 0 || t_len > EP_KRPC_MAX_TID)
    return EP_KRPC_BAD_TID;
  memcpy (msg->tid, t, t_len);
  msg->tid_len = t_len;

  y = get_bytes (root, "y", &y_len);
  if (y == NULL || y_len != 1 || (y[0] != 'q' && y[0] != 'r' && y[0] != 'e'))
    return EP_KRPC_BAD_Y;
  msg->kind = y[0] == 'q' ? EP_KRPC_QUERY : y[0] == 'r' ? EP_KRPC_RESPONSE : EP_KRPC_ERROR;

  if (!get_opt_bytes (root, "ip", 18, &ip, &ip_len)
      || (ip != NULL && ip_len != 6 && ip_len != 18))
    return EP_KRPC_BAD_IP;
  if (ip != NULL)
    {
      memcpy (msg->ip, ip, ip_len);
      msg->ip_len = ip_len;
    }

  if (!get_opt_int (root, "ro", &has_ro, &ro))
    return EP_KRPC_BAD_FIELD;
  msg->ro = has_ro && ro == 1;

  switch (msg->kind)
    {
    case EP_KRPC_QUERY:
      return decode_query (root, msg);
    case EP_KRPC_RESPONSE:
      return decode_response (root, msg);
    case EP_KRPC_ERROR:
    default:
      return decode_error (root, msg);
    }
}

EpKrpcReason
ep_krpc_check_response (const EpKrpcMsg *msg,
                        EpKrpcMethod     method)
{
  switch (method)
    {
    case EP_KRPC_FIND_NODE:
      if (msg->nodes == NULL && msg->nodes6 == NULL)
        return EP_KRPC_BAD_NODES;
      return EP_KRPC_OK;
    case EP_KRPC_GET_PEERS:
      if (msg->nodes == NULL && msg->nodes6 == NULL && msg->values == NULL)
        return EP_KRPC_BAD_NODES;
      return EP_KRPC_OK;
    case EP_KRPC_PING:
    case EP_KRPC_ANNOUNCE_PEER:
    case EP_KRPC_GET:
    case EP_KRPC_PUT:
    case EP_KRPC_UNKNOWN_METHOD:
    default:
      return EP_KRPC_OK;
    }
}

static void
put_key_bytes (GByteArray   *out,
               const char   *key,
               const guint8 *data,
               gsize         len)
{
  ep_benc_put_string (out, key);
  ep_benc_put_bytes (out, data, len);
}

static void
put_key_int (GByteArray *out,
             const char *key,
             gint64      value)
{
  ep_benc_put_string (out, key);
  ep_benc_put_int (out, value);
}

static void
encode_query_args (const EpKrpcMsg *msg,
                   GByteArray      *out)
{
  gboolean item = msg->method == EP_KRPC_PUT;
  gboolean want = msg->want != 0
                  && (msg->method == EP_KRPC_FIND_NODE || msg->method == EP_KRPC_GET_PEERS
                      || msg->method == EP_KRPC_GET);

  /* Keys in bencode's byte order. */
  ep_benc_put_dict_begin (out);
  if (item && msg->has_cas)
    put_key_int (out, "cas", msg->cas);
  put_key_bytes (out, "id", msg->id, EP_KRPC_ID_LEN);
  if (msg->method == EP_KRPC_ANNOUNCE_PEER && msg->implied_port)
    put_key_int (out, "implied_port", 1);
  if (msg->method == EP_KRPC_GET_PEERS || msg->method == EP_KRPC_ANNOUNCE_PEER)
    put_key_bytes (out, "info_hash", msg->target, EP_KRPC_ID_LEN);
  if (item && msg->has_k)
    put_key_bytes (out, "k", msg->k, 32);
  if (msg->method == EP_KRPC_ANNOUNCE_PEER)
    put_key_int (out, "port", msg->port);
  if (item && msg->has_k && msg->salt_len > 0)
    put_key_bytes (out, "salt", msg->salt, msg->salt_len);
  if ((item && msg->has_k) || (msg->method == EP_KRPC_GET && msg->has_seq))
    put_key_int (out, "seq", msg->seq);
  if (item && msg->has_k)
    put_key_bytes (out, "sig", msg->sig, 64);
  if (msg->method == EP_KRPC_FIND_NODE || msg->method == EP_KRPC_GET)
    put_key_bytes (out, "target", msg->target, EP_KRPC_ID_LEN);
  if (msg->method == EP_KRPC_ANNOUNCE_PEER || item)
    put_key_bytes (out, "token", msg->token, msg->token_len);
  if (item)
    {
      ep_benc_put_string (out, "v");
      ep_benc_put_raw (out, msg->v, msg->v_len);
    }
  if (want)
    {
      ep_benc_put_string (out, "want");
      ep_benc_put_list_begin (out);
      if (msg->want & EP_KRPC_WANT_N4)
        ep_benc_put_string (out, "n4");
      if (msg->want & EP_KRPC_WANT_N6)
        ep_benc_put_string (out, "n6");
      ep_benc_put_end (out);
    }
  ep_benc_put_end (out);
}

static void
encode_response (const EpKrpcMsg *msg,
                 GByteArray      *out)
{
  ep_benc_put_dict_begin (out);
  put_key_bytes (out, "id", msg->id, EP_KRPC_ID_LEN);
  if (msg->has_k)
    put_key_bytes (out, "k", msg->k, 32);
  if (msg->nodes != NULL)
    put_key_bytes (out, "nodes", msg->nodes, msg->nodes_len);
  if (msg->nodes6 != NULL)
    put_key_bytes (out, "nodes6", msg->nodes6, msg->nodes6_len);
  if (msg->has_seq)
    put_key_int (out, "seq", msg->seq);
  if (msg->has_k)
    put_key_bytes (out, "sig", msg->sig, 64);
  if (msg->token != NULL)
    put_key_bytes (out, "token", msg->token, msg->token_len);
  if (msg->v != NULL)
    {
      ep_benc_put_string (out, "v");
      ep_benc_put_raw (out, msg->v, msg->v_len);
    }
  if (msg->values_out != NULL && msg->values_out->len > 0)
    {
      ep_benc_put_string (out, "values");
      ep_benc_put_list_begin (out);
      for (guint i = 0; i < msg->values_out->len; i++)
        {
          gsize len = 0;
          const guint8 *p = g_bytes_get_data (msg->values_out->pdata[i], &len);

          ep_benc_put_bytes (out, p, len);
        }
      ep_benc_put_end (out);
    }
  ep_benc_put_end (out);
}

/**
 * ep_krpc_encode:
 * @msg: the message; for a query its method picks the arguments written
 * @out: the datagram is appended here
 */
void
ep_krpc_encode (const EpKrpcMsg *msg,
                GByteArray      *out)
{
  ep_benc_put_dict_begin (out);
  if (msg->kind == EP_KRPC_QUERY)
    {
      ep_benc_put_string (out, "a");
      encode_query_args (msg, out);
    }
  if (msg->kind == EP_KRPC_ERROR)
    {
      ep_benc_put_string (out, "e");
      ep_benc_put_list_begin (out);
      ep_benc_put_int (out, msg->error_code);
      ep_benc_put_string (out, msg->error_message != NULL ? msg->error_message : "");
      ep_benc_put_end (out);
    }
  if (msg->ip_len == 6 || msg->ip_len == 18)
    put_key_bytes (out, "ip", msg->ip, msg->ip_len);
  if (msg->kind == EP_KRPC_QUERY)
    put_key_bytes (out, "q", (const guint8 *) method_names[msg->method],
                   strlen (method_names[msg->method]));
  if (msg->kind == EP_KRPC_RESPONSE)
    {
      ep_benc_put_string (out, "r");
      encode_response (msg, out);
    }
  if (msg->kind == EP_KRPC_QUERY && msg->ro)
    put_key_int (out, "ro", 1);
  put_key_bytes (out, "t", msg->tid, msg->tid_len);
  ep_benc_put_string (out, "y");
  ep_benc_put_string (out, msg->kind == EP_KRPC_QUERY ? "q"
                           : msg->kind == EP_KRPC_RESPONSE ? "r" : "e");
  ep_benc_put_end (out);
}

void
ep_krpc_encode_error (const guint8 *tid,
                      gsize         tid_len,
                      gint64        code,
                      const char   *message,
                      GByteArray   *out)
{
  EpKrpcMsg msg = { .kind = EP_KRPC_ERROR, .error_code = code, .error_message = message };

  tid_len = MIN (tid_len, EP_KRPC_MAX_TID);
  memcpy (msg.tid, tid, tid_len);
  msg.tid_len = tid_len;
  ep_krpc_encode (&msg, out);
}
