/* ep-relay-payload.c — what relay clients and relays say inside their sessions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "ep-relay-payload.h"
#include "ep-session-private.h"

G_STATIC_ASSERT (EP_RELAY_OUTER_OVERHEAD == EP_TRANSPORT_MIN_LEN);
G_STATIC_ASSERT (EP_RELAY_MAX_INNER + EP_RELAY_HEADER_LEN <= EP_SESSION_MAX_FRAME);

/**
 * ep_relay_payload_parse:
 * @data: (array length=len): a decrypted frame of a relay session, untrusted
 * @len: its length
 * @out: (out caller-allocates): the parts, pointing into @data, when OK
 *
 * Returns: %EP_RELAY_PAYLOAD_OK, or why the frame is to be dropped
 */
EpRelayPayloadResult
ep_relay_payload_parse (const guint8   *data,
                        gsize           len,
                        EpRelayPayload *out)
{
  const guint8 *inner;

  g_return_val_if_fail (out != NULL, EP_RELAY_PAYLOAD_SHORT);

  memset (out, 0, sizeof *out);
  if (data == NULL || len <= EP_RELAY_HEADER_LEN)
    return EP_RELAY_PAYLOAD_SHORT;
  if (data[0] != EP_RELAY_KIND_SEND && data[0] != EP_RELAY_KIND_DELIVER)
    return EP_RELAY_PAYLOAD_UNKNOWN_KIND;
  if (len - EP_RELAY_HEADER_LEN > EP_RELAY_MAX_INNER)
    return EP_RELAY_PAYLOAD_TOO_LONG;

  inner = data + EP_RELAY_HEADER_LEN;
  if (inner[0] < EP_PACKET_INIT || inner[0] > EP_PACKET_COOKIE)
    return EP_RELAY_PAYLOAD_BAD_INNER;

  out->kind = data[0];
  out->key = data + 1;
  out->inner = inner;
  out->inner_len = len - EP_RELAY_HEADER_LEN;
  return EP_RELAY_PAYLOAD_OK;
}

/**
 * ep_relay_payload_build:
 * @kind: %EP_RELAY_KIND_SEND or %EP_RELAY_KIND_DELIVER
 * @key: the destination (SEND) or source (DELIVER) identity key
 * @inner: (array length=inner_len): a session packet
 * @inner_len: 1 to %EP_RELAY_MAX_INNER bytes
 *
 * Returns: (transfer full) (nullable): the frame, %NULL when @inner does
 *   not fit
 */
GBytes *
ep_relay_payload_build (guint8        kind,
                        const guint8  key[32],
                        const guint8 *inner,
                        gsize         inner_len)
{
  guint8 *frame;

  g_return_val_if_fail (kind == EP_RELAY_KIND_SEND || kind == EP_RELAY_KIND_DELIVER, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  if (inner == NULL || inner_len == 0 || inner_len > EP_RELAY_MAX_INNER)
    return NULL;

  frame = g_malloc (EP_RELAY_HEADER_LEN + inner_len);
  frame[0] = kind;
  memcpy (frame + 1, key, 32);
  memcpy (frame + EP_RELAY_HEADER_LEN, inner, inner_len);
  return g_bytes_new_take (frame, EP_RELAY_HEADER_LEN + inner_len);
}
