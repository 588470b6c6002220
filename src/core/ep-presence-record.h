/* ep-presence-record.h — signed presence records (BEP 44 mutable items)
 *
 * A user's presence record says where to reach them. It is a BEP 44 mutable
 * item:
 *
 *   k    = the Ed25519 identity key
 *   salt = "ep1"
 *   target = SHA-1 (k ‖ salt)
 *   seq  = from the hybrid logical clock (EpHlc): µs, never going back
 *   sig  = Ed25519 over the BEP 44 signed string "4:salt3:ep13:seqi<seq>e1:v<v>"
 *   v    = a bencoded dictionary, keys in sorted order:
 *
 *     "a"   integer: how we are reached, an EpPresenceReachability (1 or 2);
 *           optional, and a reader takes any other value as unknown
 *     "e4"  n × 6 bytes: IPv4 address ‖ port (big-endian), 0 ≤ n ≤ 8; optional
 *     "e6"  n × 18 bytes: IPv6 address ‖ port (big-endian), 0 ≤ n ≤ 8; optional
 *     "exp" integer: expiry, Unix seconds; ts < exp ≤ ts + EP_PRESENCE_MAX_LIFETIME
 *     "r"   list of byte strings, each a relay we keep a session with: its
 *           identity key[32] ‖ compact endpoint (6 or 18 bytes); optional, at
 *           most EP_PRESENCE_MAX_RELAYS written. Readers keep the first
 *           EP_PRESENCE_MAX_RELAYS well-formed entries and skip the rest, and
 *           ignore an "r" that is not a list.
 *     "ts"  integer: when it was made, Unix seconds, > 0
 *     "ver" integer: EP_PRESENCE_VERSION
 *     "x"   32 bytes: the X25519 static key for Noise (not all zero)
 *
 *   Other keys are ignored, so version 1 can grow; the whole v is at most
 *   EP_PRESENCE_MAX_V (750) bytes so that a put fits in one 1024-byte packet.
 *   Endpoints must have a port, must not be unspecified, multicast or
 *   broadcast addresses, IPv4-mapped IPv6 addresses, or repeated.
 *
 * A reader validates what a lookup returns and keeps, per lookup, the valid
 * record with the highest seq (EpPresenceChooser). Checks, in this order;
 * the first failing one is the rejection reason counted:
 *
 *   MALFORMED        k not 32 bytes, sig not 64, seq < 0, v empty or over 750 bytes
 *   WRONG_TARGET     salt is not "ep1" or SHA-1 (k ‖ salt) is not the target asked for
 *   BAD_SIGNATURE    sig does not verify for k over (salt, seq, v)
 *   MALFORMED        v is not the dictionary above (types, lengths, version, endpoints)
 *   ROLLBACK         seq is below the last seq accepted for this contact (stored by the caller)
 *   EXPIRED          exp ≤ now
 *   FROM_THE_FUTURE  ts > now + EP_PRESENCE_MAX_FUTURE (5 minutes)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "ep-hlc.h"
#include "ep-identity.h"

G_BEGIN_DECLS

#define EP_PRESENCE_SALT              "ep1"
#define EP_PRESENCE_SALT_LEN          3
#define EP_PRESENCE_VERSION           1
#define EP_PRESENCE_MAX_V             750
#define EP_PRESENCE_MAX_V4            8
#define EP_PRESENCE_MAX_V6            8
#define EP_PRESENCE_MAX_RELAYS        2
#define EP_PRESENCE_MAX_FUTURE        300            /* seconds */
#define EP_PRESENCE_MAX_LIFETIME      (24 * 3600)    /* seconds */
#define EP_PRESENCE_DEFAULT_LIFETIME  (2 * 3600)     /* seconds; republished every 30 min */

#define EP_PRESENCE_RECORD_ERROR (ep_presence_record_error_quark ())

typedef enum
{
  EP_PRESENCE_RECORD_ERROR_ENDPOINT,      /* unusable or repeated endpoint */
  EP_PRESENCE_RECORD_ERROR_TOO_MANY,      /* more than 8 IPv4 or 8 IPv6 endpoints */
  EP_PRESENCE_RECORD_ERROR_TOO_LARGE,     /* encoded v over 750 bytes */
  EP_PRESENCE_RECORD_ERROR_INVALID,       /* bad lifetime, time or key */
} EpPresenceRecordError;

typedef enum
{
  EP_PRESENCE_REJECT_NONE = 0,            /* valid */
  EP_PRESENCE_REJECT_BAD_SIGNATURE,
  EP_PRESENCE_REJECT_WRONG_TARGET,
  EP_PRESENCE_REJECT_EXPIRED,
  EP_PRESENCE_REJECT_FROM_THE_FUTURE,
  EP_PRESENCE_REJECT_ROLLBACK,
  EP_PRESENCE_REJECT_MALFORMED,
  EP_PRESENCE_N_REJECTIONS
} EpPresenceRejection;

/* A relay a user can be reached through. */
typedef struct
{
  guint8          key[32];
  GSocketAddress *address;   /* a GInetSocketAddress */
} EpPresenceRelay;

/* What the publisher knows of its own reachability. */
typedef enum
{
  EP_PRESENCE_REACHABILITY_UNKNOWN = 0,
  EP_PRESENCE_REACHABILITY_DIRECT = 1,   /* its endpoints answer anyone (public address) */
  EP_PRESENCE_REACHABILITY_NAT = 2,      /* behind a NAT or firewall: only hole punching
                                          * (both sides calling) or a relay reach it */
} EpPresenceReachability;

/* The decoded v. */
typedef struct
{
  guint8      static_key[32];
  gint64      timestamp;
  gint64      expires;
  gint64      version;
  GPtrArray  *endpoints;     /* of GInetSocketAddress: IPv4 ones, then IPv6, in wire order */
  GPtrArray  *relays;        /* of EpPresenceRelay, at most EP_PRESENCE_MAX_RELAYS */
  EpPresenceReachability reachability;
} EpPresenceValue;

typedef struct
{
  guint8           key[32];          /* k */
  gint64           seq;
  guint8           signature[64];
  GBytes          *v;                /* the bencoded value exactly as signed */
  EpPresenceValue  value;            /* v decoded */
} EpPresenceRecord;

/* An item as a DHT `get` returned it: every field untrusted, explicit
 * lengths; pointers may be NULL only with a zero length. A BEP 44 `get`
 * response carries no salt: pass the salt the lookup asked for. */
typedef struct
{
  const guint8 *k;
  gsize         k_len;
  const guint8 *salt;
  gsize         salt_len;
  gint64        seq;
  const guint8 *sig;
  gsize         sig_len;
  const guint8 *v;
  gsize         v_len;
} EpPresenceItem;

typedef struct
{
  guint offered;                                 /* items seen */
  guint valid;                                   /* items that passed every check */
  guint superseded;                              /* valid, but not above the best so far */
  guint rejected[EP_PRESENCE_N_REJECTIONS];      /* by reason; [NONE] stays 0 */
} EpPresenceCounters;

typedef struct _EpPresenceChooser EpPresenceChooser;

GQuark               ep_presence_record_error_quark     (void);

const char          *ep_presence_rejection_to_string    (EpPresenceRejection        rejection);
void                 ep_presence_target                 (const guint8               key[32],
                                                         guint8                     target[20]);

EpPresenceRelay     *ep_presence_relay_new              (const guint8               key[32],
                                                         GSocketAddress            *address);
void                 ep_presence_relay_free             (EpPresenceRelay           *relay);

/* Encoding and decoding of v alone. */
GBytes              *ep_presence_value_encode           (const guint8               static_key[32],
                                                         GPtrArray                 *endpoints,
                                                         gint64                     timestamp,
                                                         gint64                     expires,
                                                         GError                   **error);
/* @relays: (nullable) (element-type EpPresenceRelay): at most EP_PRESENCE_MAX_RELAYS */
GBytes              *ep_presence_value_encode_full      (const guint8               static_key[32],
                                                         GPtrArray                 *endpoints,
                                                         GPtrArray                 *relays,
                                                         EpPresenceReachability     reachability,
                                                         gint64                     timestamp,
                                                         gint64                     expires,
                                                         GError                   **error);
gboolean             ep_presence_value_parse            (const guint8              *v,
                                                         gsize                      v_len,
                                                         EpPresenceValue           *out);
void                 ep_presence_value_clear            (EpPresenceValue           *value);

/* Our own record: next seq from @hlc, ts = @now, exp = @now + @lifetime. */
EpPresenceRecord    *ep_presence_record_new_signed      (EpIdentity                *identity,
                                                         EpHlc                     *hlc,
                                                         GPtrArray                 *endpoints,
                                                         gint64                     now,
                                                         gint64                     lifetime,
                                                         GError                   **error);
EpPresenceRecord    *ep_presence_record_new_signed_full (EpIdentity                *identity,
                                                         EpHlc                     *hlc,
                                                         GPtrArray                 *endpoints,
                                                         GPtrArray                 *relays,
                                                         EpPresenceReachability     reachability,
                                                         gint64                     now,
                                                         gint64                     lifetime,
                                                         GError                   **error);
/* A received item, checked as described above. @min_seq: the last seq
 * accepted for this contact, 0 for none; @now: Unix seconds. */
EpPresenceRecord    *ep_presence_record_validate        (const EpPresenceItem      *item,
                                                         const guint8               target[20],
                                                         gint64                     min_seq,
                                                         gint64                     now,
                                                         EpPresenceRejection       *rejection);
void                 ep_presence_record_free            (EpPresenceRecord          *record);
/* {"key": HEX, "seq": N, "timestamp": N, "expires": N, "version": N,
 *  "reachability": "direct"|"nat"|"unknown",
 *  "static_key": HEX, "endpoints": ["1.2.3.4:5", "[::1]:5", …],
 *  "relays": [{"key": HEX, "endpoint": "1.2.3.4:5"}, …]} */
JsonNode            *ep_presence_record_to_json         (const EpPresenceRecord    *record);

EpPresenceChooser   *ep_presence_chooser_new            (const guint8               target[20],
                                                         gint64                     min_seq,
                                                         gint64                     now);
void                 ep_presence_chooser_free           (EpPresenceChooser         *chooser);
EpPresenceRejection  ep_presence_chooser_offer          (EpPresenceChooser         *chooser,
                                                         const EpPresenceItem      *item);
const EpPresenceRecord *ep_presence_chooser_get_best    (EpPresenceChooser         *chooser);
EpPresenceRecord    *ep_presence_chooser_steal_best     (EpPresenceChooser         *chooser);
const EpPresenceCounters *ep_presence_chooser_get_counters (EpPresenceChooser      *chooser);
void                 ep_presence_counters_add           (EpPresenceCounters        *into,
                                                         const EpPresenceCounters  *from);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpPresenceRecord, ep_presence_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpPresenceChooser, ep_presence_chooser_free)

G_END_DECLS
