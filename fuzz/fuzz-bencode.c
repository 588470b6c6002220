/* fuzz-bencode.c — the strict decoder accepts only canonical bencode
 *
 * Whatever parses must re-encode, through the put_* API, to exactly the
 * input bytes, and every value's raw span must equal its own re-encoding.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ep-core.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
reencode (GByteArray   *out,
          const EpBenc *value)
{
  guint start = out->len;
  const guint8 *raw;
  gsize raw_len;

  switch (ep_benc_type (value))
    {
    case EP_BENC_INT:
      {
        gint64 i;
        if (!ep_benc_get_int (value, &i))
          abort ();
        ep_benc_put_int (out, i);
      }
      break;
    case EP_BENC_BYTES:
      {
        gsize len;
        const guint8 *bytes = ep_benc_get_bytes (value, &len);
        const char *str = ep_benc_get_string (value);
        if (bytes == NULL)
          abort ();
        /* get_string is the same bytes, NUL-terminated, unless they hold a NUL. */
        if (str != NULL && (strlen (str) != len || memcmp (str, bytes, len) != 0))
          abort ();
        if (str == NULL && memchr (bytes, 0, len) == NULL)
          abort ();
        ep_benc_put_bytes (out, bytes, len);
      }
      break;
    case EP_BENC_LIST:
      ep_benc_put_list_begin (out);
      for (guint i = 0; i < ep_benc_list_length (value); i++)
        reencode (out, ep_benc_list_nth (value, i));
      ep_benc_put_end (out);
      break;
    case EP_BENC_DICT:
      ep_benc_put_dict_begin (out);
      for (guint i = 0; i < ep_benc_dict_size (value); i++)
        {
          const guint8 *key;
          gsize key_len;
          const EpBenc *v = ep_benc_dict_nth (value, i, &key, &key_len);
          if (v == NULL || ep_benc_dict_lookup_len (value, key, key_len) != v)
            abort ();
          ep_benc_put_bytes (out, key, key_len);
          reencode (out, v);
        }
      ep_benc_put_end (out);
      break;
    default:
      abort ();
    }

  raw = ep_benc_raw (value, &raw_len);
  if (raw_len != out->len - start || memcmp (raw, out->data + start, raw_len) != 0)
    abort ();
}

static void
check (const uint8_t      *data,
       size_t              size,
       const EpBencLimits *limits)
{
  g_autoptr(EpBencDoc) doc = NULL;
  g_autoptr(GByteArray) out = NULL;
  GError *error = NULL;

  doc = ep_benc_doc_parse (data, size, limits, &error);
  if (doc == NULL)
    {
      if (error == NULL || error->domain != EP_BENCODE_ERROR)
        abort ();
      g_error_free (error);
      return;
    }
  if (error != NULL)
    abort ();

  out = g_byte_array_new ();
  reencode (out, ep_benc_doc_root (doc));
  if (out->len != size || memcmp (out->data, data, size) != 0)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  EpBencLimits unsorted = { .allow_unsorted_keys = TRUE };

  check (data, size, NULL);
  check (data, size, &unsorted);
  return 0;
}
