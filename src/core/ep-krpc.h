/* ep-krpc.h — KRPC messages of the Mainline DHT (BEP 5, 32, 42, 43, 44)
 *
 * Decoding checks the type and length of every field it reads and points
 * into the EpBencDoc it was given, which must outlive the message. Encoding
 * writes one datagram from the same struct.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "ep-bencode.h"

G_BEGIN_DECLS

#define EP_KRPC_ID_LEN 20
/* Transaction IDs we accept; ours are 2 bytes, other clients use up to 8. */
#define EP_KRPC_MAX_TID 16
#define EP_KRPC_MAX_TOKEN 64
#define EP_KRPC_MAX_SALT 64
#define EP_KRPC_MAX_V 1000

/* Error codes (BEP 5, BEP 44). */
#define EP_KRPC_ERROR_GENERIC         201
#define EP_KRPC_ERROR_SERVER          202
#define EP_KRPC_ERROR_PROTOCOL        203
#define EP_KRPC_ERROR_METHOD_UNKNOWN  204
#define EP_KRPC_ERROR_V_TOO_BIG       205
#define EP_KRPC_ERROR_INVALID_SIG     206
#define EP_KRPC_ERROR_SALT_TOO_BIG    207
#define EP_KRPC_ERROR_CAS_MISMATCH    301
#define EP_KRPC_ERROR_SEQ_LESS        302

typedef enum
{
  EP_KRPC_QUERY,
  EP_KRPC_RESPONSE,
  EP_KRPC_ERROR,
} EpKrpcKind;

typedef enum
{
  EP_KRPC_PING,
  EP_KRPC_FIND_NODE,
  EP_KRPC_GET_PEERS,
  EP_KRPC_ANNOUNCE_PEER,
  EP_KRPC_GET,
  EP_KRPC_PUT,
  EP_KRPC_UNKNOWN_METHOD,
} EpKrpcMethod;

/* BEP 32 `want`. */
typedef enum
{
  EP_KRPC_WANT_N4 = 1 << 0,
  EP_KRPC_WANT_N6 = 1 << 1,
} EpKrpcWant;

/* Why a datagram was not accepted; counted by the node. */
typedef enum
{
  EP_KRPC_OK,
  EP_KRPC_BAD_BENCODE,
  EP_KRPC_NOT_DICT,
  EP_KRPC_BAD_TID,
  EP_KRPC_BAD_Y,
  EP_KRPC_BAD_Q,
  EP_KRPC_BAD_ARGS,        /* `a` or `r` missing or not a dict */
  EP_KRPC_BAD_ID,
  EP_KRPC_BAD_TARGET,      /* target / info_hash */
  EP_KRPC_BAD_TOKEN,
  EP_KRPC_BAD_PORT,
  EP_KRPC_BAD_NODES,
  EP_KRPC_BAD_VALUES,
  EP_KRPC_BAD_ITEM,        /* v, k, sig, salt, seq, cas of BEP 44 */
  EP_KRPC_BAD_IP,
  EP_KRPC_BAD_ERROR,       /* `e` not [int, string] */
  EP_KRPC_BAD_FIELD,       /* want, ro, implied_port … of the wrong type */
  EP_KRPC_N_REASONS,
} EpKrpcReason;

typedef struct
{
  EpKrpcKind     kind;
  guint8         tid[EP_KRPC_MAX_TID];
  guint8         tid_len;

  /* Top level. */
  guint8         ip[18];            /* BEP 42 `ip`: compact address of the receiver */
  guint8         ip_len;            /* 0, 6 or 18 */
  gboolean       ro;                /* BEP 43 */

  /* Queries. */
  EpKrpcMethod   method;
  guint8         id[EP_KRPC_ID_LEN];
  guint8         target[EP_KRPC_ID_LEN];  /* find_node/get target, get_peers/announce info_hash */
  guint          want;              /* EpKrpcWant; 0 when absent */
  guint16        port;
  gboolean       implied_port;
  const guint8  *token;
  gsize          token_len;
  gboolean       has_seq;           /* get: minimum seq; put/response: the item's seq */
  gint64         seq;
  gboolean       has_cas;
  gint64         cas;

  /* BEP 44 item, in put queries and get responses. */
  const guint8  *v;                 /* raw bencoded value */
  gsize          v_len;
  gboolean       has_k;
  guint8         k[32];
  guint8         sig[64];
  const guint8  *salt;
  gsize          salt_len;

  /* Responses. */
  const guint8  *nodes;             /* compact node infos, 26 bytes each */
  gsize          nodes_len;
  const guint8  *nodes6;            /* 38 bytes each */
  gsize          nodes6_len;
  const EpBenc  *values;            /* decoded: list of 6/18-byte strings */
  GPtrArray     *values_out;        /* encoded: GBytes of 6/18 bytes */

  /* Errors. */
  gint64         error_code;
  const char    *error_message;
} EpKrpcMsg;

EpKrpcReason  ep_krpc_decode          (const EpBenc  *root,
                                       EpKrpcMsg     *msg);
/* For a response: the fields a reply to @method must have are there. */
EpKrpcReason  ep_krpc_check_response  (const EpKrpcMsg *msg,
                                       EpKrpcMethod   method);
const char   *ep_krpc_reason_to_string (EpKrpcReason  reason);
const char   *ep_krpc_method_to_string (EpKrpcMethod  method);

void          ep_krpc_encode          (const EpKrpcMsg *msg,
                                       GByteArray    *out);
void          ep_krpc_encode_error    (const guint8  *tid,
                                       gsize          tid_len,
                                       gint64         code,
                                       const char    *message,
                                       GByteArray    *out);

G_END_DECLS
