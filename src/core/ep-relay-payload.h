/* ep-relay-payload.h — what relay clients and relays say inside their sessions
 *
 * A relay client and a relay keep an ordinary Noise session (EpSession);
 * each frame on it is one relayed datagram:
 *
 *   SEND     0xe5 | destination identity key[32] | inner session packet   (client → relay)
 *   DELIVER  0xe6 | source identity key[32]      | inner session packet   (relay → client)
 *
 * The kinds differ from every other first byte of a session frame ('{' for
 * JSON frames, 0x01 for fragments). The inner packet is a session packet
 * of the two peers' own end-to-end session (its first byte one of the
 * session packet types), opaque to the relay, at most
 * EP_RELAY_MAX_INNER bytes so that the wrapped datagram stays within
 * EP_RELAY_MAX_WIRE bytes on the wire.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EP_RELAY_KIND_SEND     0xe5
#define EP_RELAY_KIND_DELIVER  0xe6
#define EP_RELAY_HEADER_LEN    (1 + 32)
/* Whole datagrams between relay and client stay within the IPv6 minimum MTU. */
#define EP_RELAY_MAX_WIRE      1280
/* Session transport overhead: type, index, counter (13) and tag (16). */
#define EP_RELAY_OUTER_OVERHEAD 29
#define EP_RELAY_MAX_INNER     (EP_RELAY_MAX_WIRE - EP_RELAY_OUTER_OVERHEAD - EP_RELAY_HEADER_LEN)

typedef enum
{
  EP_RELAY_PAYLOAD_OK,
  EP_RELAY_PAYLOAD_SHORT,          /* no room for kind, key and one byte */
  EP_RELAY_PAYLOAD_TOO_LONG,       /* inner packet over EP_RELAY_MAX_INNER */
  EP_RELAY_PAYLOAD_UNKNOWN_KIND,
  EP_RELAY_PAYLOAD_BAD_INNER,      /* not a session packet */
} EpRelayPayloadResult;

typedef struct
{
  guint8        kind;
  const guint8 *key;               /* 32 bytes, into the parsed buffer */
  const guint8 *inner;             /* into the parsed buffer */
  gsize         inner_len;
} EpRelayPayload;

EpRelayPayloadResult ep_relay_payload_parse (const guint8   *data,
                                             gsize           len,
                                             EpRelayPayload *out);
GBytes              *ep_relay_payload_build (guint8          kind,
                                             const guint8    key[32],
                                             const guint8   *inner,
                                             gsize           inner_len);

G_END_DECLS
