/* fuzz-relay.c — the relay payload parser (ep-relay-payload.h)
 *
 * Every frame a relay or a relay client reads is parsed here first. What
 * parses must name a known kind, a key and a bounded session packet inside
 * the input, and build back to the very same bytes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ep-core.h"
#include "ep-session-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) again = NULL;
  EpRelayPayload payload;
  EpRelayPayloadResult result;
  const guint8 *bytes;
  gsize len;

  result = ep_relay_payload_parse (data, size, &payload);
  if (result != EP_RELAY_PAYLOAD_OK)
    {
      if (payload.key != NULL || payload.inner != NULL || payload.inner_len != 0)
        abort ();
      return 0;
    }

  if ((payload.kind != EP_RELAY_KIND_SEND && payload.kind != EP_RELAY_KIND_DELIVER)
      || payload.key != data + 1 || payload.inner != data + EP_RELAY_HEADER_LEN
      || payload.inner_len == 0 || payload.inner_len > EP_RELAY_MAX_INNER
      || payload.inner_len + EP_RELAY_HEADER_LEN != size
      || payload.inner[0] < EP_PACKET_INIT || payload.inner[0] > EP_PACKET_COOKIE)
    abort ();

  again = ep_relay_payload_build (payload.kind, payload.key, payload.inner, payload.inner_len);
  if (again == NULL)
    abort ();
  bytes = g_bytes_get_data (again, &len);
  if (len != size || memcmp (bytes, data, size) != 0)
    abort ();
  return 0;
}
