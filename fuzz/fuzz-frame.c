/* fuzz-frame.c — frame parsing and fragment reassembly on hostile bytes
 *
 * The first byte picks the mode. Even: the rest is one frame for
 * ep_frame_parse (); what parses must encode and parse back the same.
 * Odd: the rest is a run of records, length (2 bytes, BE) ‖ payload, each
 * pushed into one small assembler; whatever completes is parsed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ep-core.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_roundtrip (const EpFrame *frame)
{
  g_autoptr(GBytes) encoded = ep_frame_encode (frame, NULL);
  g_autoptr(EpFrame) again = NULL;

  if (encoded == NULL)
    abort ();
  if (ep_frame_parse (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded),
                      &again, NULL) != EP_FRAME_PARSE_OK)
    abort ();
  if (again->type != frame->type || again->lamport != frame->lamport ||
      again->timestamp != frame->timestamp || again->nospam != frame->nospam ||
      again->active != frame->active || memcmp (again->id, frame->id, sizeof frame->id) != 0 ||
      g_strcmp0 (again->text, frame->text) != 0 || g_strcmp0 (again->name, frame->name) != 0 ||
      g_strcmp0 (again->status_text, frame->status_text) != 0 ||
      again->n_receipt_ids != frame->n_receipt_ids)
    abort ();
}

static void
parse_one (const guint8 *data,
           gsize         len)
{
  g_autoptr(EpFrame) frame = NULL;

  if (ep_frame_parse (data, len, &frame, NULL) == EP_FRAME_PARSE_OK)
    check_roundtrip (frame);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(EpFragmentAssembler) assembler = NULL;
  gint64 now = 0;

  if (size == 0)
    return 0;

  if ((data[0] & 1) == 0)
    {
      parse_one (data + 1, size - 1);
      return 0;
    }

  assembler = ep_fragment_assembler_new (4, 64 * 1024, 1000);
  data++;
  size--;
  while (size >= 2)
    {
      gsize len = (gsize) data[0] << 8 | data[1];
      g_autoptr(GBytes) whole = NULL;

      data += 2;
      size -= 2;
      len = MIN (len, size);
      if (ep_fragment_is_fragment (data, len))
        ep_fragment_assembler_push (assembler, data, len, now++, &whole, NULL);
      else
        parse_one (data, len);
      if (ep_fragment_assembler_get_buffered (assembler) > 64 * 1024 ||
          ep_fragment_assembler_get_n_partials (assembler) > 4)
        abort ();
      if (whole != NULL)
        parse_one (g_bytes_get_data (whole, NULL), g_bytes_get_size (whole));
      data += len;
      size -= len;
    }

  return 0;
}
