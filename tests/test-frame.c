/* test-frame.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "ep-core.h"

static EpFrame *
roundtrip (const EpFrame *frame)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = ep_frame_encode (frame, &error);
  EpFrame *parsed = NULL;
  gsize len = 0;
  const guint8 *data;

  g_assert_no_error (error);
  data = g_bytes_get_data (bytes, &len);
  g_assert_cmpint (ep_frame_parse (data, len, &parsed, &error), ==, EP_FRAME_PARSE_OK);
  g_assert_no_error (error);
  g_assert_cmpint (parsed->type, ==, frame->type);
  return parsed;
}

static EpFrameParseResult
parse_str (const char *json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpFrame) frame = NULL;
  EpFrameParseResult result = ep_frame_parse ((const guint8 *) json, strlen (json), &frame, &error);

  if (result == EP_FRAME_PARSE_MALFORMED)
    {
      g_assert_error (error, EP_FRAME_ERROR, EP_FRAME_ERROR_MALFORMED);
      g_assert_null (frame);
    }
  else if (result == EP_FRAME_PARSE_IGNORED)
    {
      g_assert_no_error (error);
      g_assert_null (frame);
    }
  else
    g_assert_nonnull (frame);
  return result;
}

static void
test_frame_roundtrip (void)
{
  guint8 id[16];
  g_autoptr(EpFrame) message = NULL;
  g_autoptr(EpFrame) parsed = NULL;

  for (guint i = 0; i < 16; i++)
    id[i] = (guint8) (0xf0 + i);

  message = ep_frame_new_message (id, 1700000000123456, 42, "héllo \"world\"\n\t\x01");
  parsed = roundtrip (message);
  g_assert_cmpmem (parsed->id, 16, id, 16);
  g_assert_cmpint (parsed->timestamp, ==, 1700000000123456);
  g_assert_cmpuint (parsed->lamport, ==, 42);
  g_assert_cmpstr (parsed->text, ==, message->text);
  g_clear_pointer (&parsed, ep_frame_free);

  {
    g_autoptr(EpFrame) ack = ep_frame_new_ack (id);
    parsed = roundtrip (ack);
    g_assert_cmpmem (parsed->id, 16, id, 16);
    g_clear_pointer (&parsed, ep_frame_free);
  }
  {
    g_autoptr(EpFrame) receipt = ep_frame_new (EP_FRAME_RECEIPT);
    receipt->n_receipt_ids = 3;
    receipt->receipt_ids = g_malloc0 (3 * 16);
    receipt->receipt_ids[47] = 0xab;
    parsed = roundtrip (receipt);
    g_assert_cmpuint (parsed->n_receipt_ids, ==, 3);
    g_assert_cmpmem (parsed->receipt_ids, 48, receipt->receipt_ids, 48);
    g_clear_pointer (&parsed, ep_frame_free);
  }
  {
    g_autoptr(EpFrame) typing = ep_frame_new (EP_FRAME_TYPING);
    typing->active = TRUE;
    parsed = roundtrip (typing);
    g_assert_true (parsed->active);
    g_clear_pointer (&parsed, ep_frame_free);
    typing->active = FALSE;
    parsed = roundtrip (typing);
    g_assert_false (parsed->active);
    g_clear_pointer (&parsed, ep_frame_free);
  }
  {
    g_autoptr(EpFrame) profile = ep_frame_new (EP_FRAME_PROFILE);
    profile->name = g_strdup ("Zoë");
    profile->status_text = g_strdup ("");
    parsed = roundtrip (profile);
    g_assert_cmpstr (parsed->name, ==, "Zoë");
    g_assert_cmpstr (parsed->status_text, ==, "");
    g_clear_pointer (&parsed, ep_frame_free);
  }
  {
    g_autoptr(EpFrame) request = ep_frame_new (EP_FRAME_REQUEST);
    g_autoptr(EpFrame) copy = NULL;
    request->nospam = 0x01c0ffee;
    request->name = g_strdup ("Bob");
    request->text = g_strdup ("Hi, it's Bob");
    parsed = roundtrip (request);
    g_assert_cmphex (parsed->nospam, ==, 0x01c0ffee);
    g_assert_cmpstr (parsed->name, ==, "Bob");
    g_assert_cmpstr (parsed->text, ==, "Hi, it's Bob");
    copy = ep_frame_copy (parsed);
    g_assert_cmpstr (copy->text, ==, parsed->text);
    g_assert_true (copy->text != parsed->text);
    g_clear_pointer (&parsed, ep_frame_free);
  }
  for (EpFrameType t = EP_FRAME_REQUEST_ACCEPTED; t <= EP_FRAME_KEEPALIVE; t++)
    {
      g_autoptr(EpFrame) bare = ep_frame_new (t);
      parsed = roundtrip (bare);
      g_clear_pointer (&parsed, ep_frame_free);
    }
}

static void
test_frame_hostile (void)
{
  g_autofree char *big = NULL;
  g_autofree char *deep = NULL;
  g_autofree char *ids = NULL;
  GString *s;
  static const char *malformed[] = {
    "",
    "[]",
    "\"message\"",
    "{}",
    "{\"type\":1}",
    "{\"type\":null}",
    "{\"type\":\"ack\"}",
    "{\"type\":\"ack\",\"id\":\"00112233445566778899aabbccddeef\"}",
    "{\"type\":\"ack\",\"id\":\"00112233445566778899aabbccddeeff0\"}",
    "{\"type\":\"ack\",\"id\":\"00112233445566778899aabbccddeefg\"}",
    "{\"type\":\"ack\",\"id\":16}",
    "{\"type\":\"ack\",\"id\":\"00112233445566778899aabbccddeeff\"} x",
    "{\"type\":\"ack\",\"id\":\"00112233445566778899aabbccddeeff\"",
    "{\"type\":\"message\",\"id\":\"00112233445566778899aabbccddeeff\",\"ts\":1,\"lamport\":1}",
    "{\"type\":\"message\",\"id\":\"00112233445566778899aabbccddeeff\",\"ts\":1,\"lamport\":0,\"text\":\"\"}",
    "{\"type\":\"message\",\"id\":\"00112233445566778899aabbccddeeff\",\"ts\":1,\"lamport\":1.5,\"text\":\"\"}",
    "{\"type\":\"message\",\"id\":\"00112233445566778899aabbccddeeff\",\"ts\":-1,\"lamport\":1,\"text\":\"\"}",
    "{\"type\":\"message\",\"id\":\"00112233445566778899aabbccddeeff\",\"ts\":\"1\",\"lamport\":1,\"text\":\"\"}",
    "{\"type\":\"message\",\"id\":\"00112233445566778899aabbccddeeff\",\"ts\":1,\"lamport\":9007199254740992,\"text\":\"\"}",
    "{\"type\":\"message\",\"id\":\"00112233445566778899aabbccddeeff\",\"ts\":1,\"lamport\":99999999999999999999999,\"text\":\"\"}",
    "{\"type\":\"message\",\"id\":\"00112233445566778899aabbccddeeff\",\"ts\":1,\"lamport\":1,\"text\":[]}",
    "{\"type\":\"typing\",\"active\":1}",
    "{\"type\":\"typing\"}",
    "{\"type\":\"receipt\",\"ids\":[]}",
    "{\"type\":\"receipt\",\"ids\":[1]}",
    "{\"type\":\"receipt\",\"ids\":\"00112233445566778899aabbccddeeff\"}",
    "{\"type\":\"request\",\"nospam\":\"0011223\",\"name\":\"a\",\"text\":\"b\"}",
    "{\"type\":\"request\",\"nospam\":\"00112233\",\"name\":\"a\"}",
    "{\"type\":\"profile\",\"name\":\"a\"}",
    "{\"type\":\"ack\",\"id\":\"00112233445566778899aabbccddeeff\",\"x\":[[[[[[1]]]]]]}",
    "{\"type\":\"ack\",\"id\":\"00112233\xc3\x28\"}",
    "{\"type\":\"ack\",\"id\":\"\xed\xa0\x80\"}",
    "{\"type\":\"profile\",\"name\":\"a\\u0000b\",\"status\":\"\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (malformed); i++)
    {
      g_test_message ("malformed #%u", i);
      g_assert_cmpint (parse_str (malformed[i]), ==, EP_FRAME_PARSE_MALFORMED);
    }

  /* Unknown types are ignored, unknown members skipped. */
  g_assert_cmpint (parse_str ("{\"type\":\"video-call\",\"sdp\":\"...\"}"), ==,
                   EP_FRAME_PARSE_IGNORED);
  g_assert_cmpint (parse_str ("{\"type\":\"keepalive\",\"later\":{\"a\":[1]}}"), ==,
                   EP_FRAME_PARSE_OK);
  g_assert_cmpint (parse_str ("{\"type\":\"ack\",\"id\":\"00112233445566778899AABBCCDDEEFF\"}"), ==,
                   EP_FRAME_PARSE_OK);
  /* An escaped backslash before u0000 is just text. */
  g_assert_cmpint (parse_str ("{\"type\":\"profile\",\"name\":\"a\\\\u0000\",\"status\":\"\"}"),
                   ==, EP_FRAME_PARSE_OK);

  /* Embedded NUL */
  {
    const char nul[] = "{\"type\":\"keepalive\"}\0";
    g_assert_cmpint (ep_frame_parse ((const guint8 *) nul, sizeof nul, NULL, NULL), ==,
                     EP_FRAME_PARSE_MALFORMED);
  }

  /* Text: 64 KiB is fine, one byte more is not. */
  big = g_strnfill (EP_FRAME_MAX_TEXT + 1, 'a');
  s = g_string_new ("{\"type\":\"message\",\"id\":\"00112233445566778899aabbccddeeff\","
                    "\"ts\":1,\"lamport\":1,\"text\":\"");
  g_string_append (s, big);
  g_string_append (s, "\"}");
  g_assert_cmpint (parse_str (s->str), ==, EP_FRAME_PARSE_MALFORMED);
  g_string_erase (s, s->len - 3, 1);
  g_assert_cmpint (parse_str (s->str), ==, EP_FRAME_PARSE_OK);
  g_string_free (s, TRUE);

  /* Deep nesting never reaches the recursive parser. */
  deep = g_strnfill (100000, '[');
  deep[0] = '{';
  g_assert_cmpint (parse_str (deep), ==, EP_FRAME_PARSE_MALFORMED);

  /* 65 receipt ids are too many. */
  s = g_string_new ("{\"type\":\"receipt\",\"ids\":[");
  for (guint i = 0; i < 65; i++)
    g_string_append_printf (s, "%s\"00112233445566778899aabbccddeeff\"", i ? "," : "");
  g_string_append (s, "]}");
  ids = g_string_free (s, FALSE);
  g_assert_cmpint (parse_str (ids), ==, EP_FRAME_PARSE_MALFORMED);
}

static void
test_frame_encode_limits (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpFrame) profile = ep_frame_new (EP_FRAME_PROFILE);
  g_autoptr(EpFrame) message = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *text = g_strnfill (EP_FRAME_MAX_TEXT + 1, 'x');
  guint8 id[16] = { 0 };

  profile->name = g_strnfill (EP_FRAME_MAX_NAME + 1, 'n');
  profile->status_text = g_strdup ("");
  bytes = ep_frame_encode (profile, &error);
  g_assert_error (error, EP_FRAME_ERROR, EP_FRAME_ERROR_TOO_LARGE);
  g_assert_null (bytes);
  g_clear_error (&error);

  message = ep_frame_new_message (id, 1, 1, text);
  bytes = ep_frame_encode (message, &error);
  g_assert_error (error, EP_FRAME_ERROR, EP_FRAME_ERROR_TOO_LARGE);
  g_clear_error (&error);

  message->text[EP_FRAME_MAX_TEXT] = '\0';
  message->lamport = 0;
  bytes = ep_frame_encode (message, &error);
  g_assert_error (error, EP_FRAME_ERROR, EP_FRAME_ERROR_MALFORMED);
}

/* A 64 KiB message of the worst text JSON can get travels in datagrams
 * under 1200 bytes and comes back whole, whatever the order. */
static void
test_frame_large_message (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpFragmentAssembler) assembler = ep_fragment_assembler_new (0, 0, 0);
  g_autoptr(GPtrArray) payloads = NULL;
  g_autoptr(GBytes) whole = NULL;
  g_autoptr(EpFrame) message = NULL;
  g_autoptr(EpFrame) parsed = NULL;
  g_autofree char *text = g_malloc (EP_FRAME_MAX_TEXT + 1);
  guint8 id[16] = { 1, 2, 3 };
  GRand *rand = g_rand_new_with_seed (7);

  for (guint i = 0; i < EP_FRAME_MAX_TEXT; i++)
    text[i] = (char) (1 + i % 127);   /* control characters become \u00XX */
  text[EP_FRAME_MAX_TEXT] = '\0';
  message = ep_frame_new_message (id, 5, 9, text);

  payloads = ep_frame_to_payloads (message, 77, EP_FRAME_DEFAULT_PAYLOAD, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (payloads->len, >, 56);
  for (guint i = 0; i < payloads->len; i++)
    {
      gsize len = g_bytes_get_size (payloads->pdata[i]);

      g_assert_cmpuint (len, <=, EP_FRAME_DEFAULT_PAYLOAD);
      g_assert_cmpuint (len + EP_FRAME_SESSION_OVERHEAD, <, 1200);
      g_assert_true (ep_fragment_is_fragment (g_bytes_get_data (payloads->pdata[i], NULL), len));
    }

  /* Shuffle */
  for (guint i = payloads->len - 1; i > 0; i--)
    {
      guint j = g_rand_int_range (rand, 0, i + 1);
      gpointer tmp = payloads->pdata[i];

      payloads->pdata[i] = payloads->pdata[j];
      payloads->pdata[j] = tmp;
    }
  g_rand_free (rand);

  for (guint i = 0; i < payloads->len; i++)
    {
      gsize len = 0;
      const guint8 *data = g_bytes_get_data (payloads->pdata[i], &len);
      EpFragmentResult r = ep_fragment_assembler_push (assembler, data, len, 0, &whole, &error);

      g_assert_no_error (error);
      g_assert_cmpint (r, ==, i + 1 < payloads->len ? EP_FRAGMENT_RESULT_PENDING
                                                    : EP_FRAGMENT_RESULT_COMPLETE);
    }
  g_assert_nonnull (whole);
  g_assert_cmpint (ep_frame_parse (g_bytes_get_data (whole, NULL), g_bytes_get_size (whole),
                                   &parsed, &error), ==, EP_FRAME_PARSE_OK);
  g_assert_cmpstr (parsed->text, ==, text);
  g_assert_cmpuint (ep_fragment_assembler_get_buffered (assembler), ==, 0);

  /* A small frame is its own single payload. */
  {
    g_autoptr(EpFrame) ack = ep_frame_new_ack (id);
    g_autoptr(GPtrArray) one = ep_frame_to_payloads (ack, 78, EP_FRAME_DEFAULT_PAYLOAD, &error);

    g_assert_cmpuint (one->len, ==, 1);
    g_assert_false (ep_fragment_is_fragment (g_bytes_get_data (one->pdata[0], NULL),
                                             g_bytes_get_size (one->pdata[0])));
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/frame/roundtrip", test_frame_roundtrip);
  g_test_add_func ("/ep/frame/hostile", test_frame_hostile);
  g_test_add_func ("/ep/frame/encode-limits", test_frame_encode_limits);
  g_test_add_func ("/ep/frame/large-message", test_frame_large_message);

  return g_test_run ();
}
