/* test-bencode.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "ep-core.h"

static void
reencode (GByteArray   *out,
          const EpBenc *value)
{
  switch (ep_benc_type (value))
    {
    case EP_BENC_INT:
      {
        gint64 i = 0;
        g_assert_true (ep_benc_get_int (value, &i));
        ep_benc_put_int (out, i);
      }
      break;
    case EP_BENC_BYTES:
      {
        gsize len = 0;
        const guint8 *bytes = ep_benc_get_bytes (value, &len);
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
          ep_benc_put_bytes (out, key, key_len);
          reencode (out, v);
        }
      ep_benc_put_end (out);
      break;
    default:
      g_assert_not_reached ();
    }
}

static EpBencDoc *
parse_str (const char          *s,
           const EpBencLimits  *limits,
           GError             **error)
{
  return ep_benc_doc_parse ((const guint8 *) s, strlen (s), limits, error);
}

static void
test_bencode_round_trip (void)
{
  static const char *valid[] = {
    "i0e",
    "i42e",
    "i-1e",
    "i9223372036854775807e",
    "i-9223372036854775808e",
    "0:",
    "4:spam",
    "le",
    "de",
    "l4:spami42ee",
    "d3:bar4:spam3:fooi42ee",
    "lllleeee",
    "d1:ad1:bd1:cleeee",
    "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
    "d1:rd2:id20:mnopqrstuvwxyz1234565:nodes0:5:token8:12345678e1:t2:aa1:y1:re",
    "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
    "d0:i1e1:ai2e2:aai3e1:bi4ee",
  };

  for (guint i = 0; i < G_N_ELEMENTS (valid); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EpBencDoc) doc = parse_str (valid[i], NULL, &error);
      g_autoptr(GByteArray) out = g_byte_array_new ();
      const guint8 *raw;
      gsize raw_len;

      g_assert_no_error (error);
      g_assert_nonnull (doc);
      reencode (out, ep_benc_doc_root (doc));
      g_assert_cmpmem (out->data, out->len, valid[i], strlen (valid[i]));

      raw = ep_benc_raw (ep_benc_doc_root (doc), &raw_len);
      g_assert_cmpmem (raw, raw_len, valid[i], strlen (valid[i]));
    }
}

static void
test_bencode_binary_bytes (void)
{
  static const guint8 input[] = { '5', ':', 0x00, 0xff, 'e', 'd', 0x01 };
  g_autoptr(GError) error = NULL;
  g_autoptr(EpBencDoc) doc = ep_benc_doc_parse (input, sizeof input, NULL, &error);
  const guint8 *bytes;
  gsize len;

  g_assert_no_error (error);
  bytes = ep_benc_get_bytes (ep_benc_doc_root (doc), &len);
  g_assert_cmpmem (bytes, len, input + 2, 5);
  /* Contains a NUL: not a string. */
  g_assert_null (ep_benc_get_string (ep_benc_doc_root (doc)));
}

static void
test_bencode_strings (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpBencDoc) doc = parse_str ("l3:abc0:2:dei7ee", NULL, &error);
  const EpBenc *root;

  g_assert_no_error (error);
  root = ep_benc_doc_root (doc);
  g_assert_cmpuint (ep_benc_list_length (root), ==, 4);
  /* Each string is terminated without eating into its neighbour. */
  g_assert_cmpstr (ep_benc_get_string (ep_benc_list_nth (root, 0)), ==, "abc");
  g_assert_cmpstr (ep_benc_get_string (ep_benc_list_nth (root, 1)), ==, "");
  g_assert_cmpstr (ep_benc_get_string (ep_benc_list_nth (root, 2)), ==, "de");
  g_assert_null (ep_benc_get_string (ep_benc_list_nth (root, 3)));
  /* The raw input is untouched by the terminators. */
  {
    gsize len;
    const guint8 *raw = ep_benc_raw (ep_benc_list_nth (root, 0), &len);
    g_assert_cmpmem (raw, len, "3:abc", 5);
  }
}

typedef struct
{
  const char    *input;
  EpBencodeError code;
} Malformed;

static void
test_bencode_malformed (void)
{
  static const Malformed cases[] = {
    { "", EP_BENCODE_ERROR_TRUNCATED },
    { "i", EP_BENCODE_ERROR_TRUNCATED },
    { "i12", EP_BENCODE_ERROR_TRUNCATED },
    { "i-", EP_BENCODE_ERROR_TRUNCATED },
    { "ie", EP_BENCODE_ERROR_SYNTAX },
    { "i-e", EP_BENCODE_ERROR_SYNTAX },
    { "i-0e", EP_BENCODE_ERROR_SYNTAX },
    { "i03e", EP_BENCODE_ERROR_SYNTAX },
    { "i00e", EP_BENCODE_ERROR_SYNTAX },
    { "i-03e", EP_BENCODE_ERROR_SYNTAX },
    { "i+3e", EP_BENCODE_ERROR_SYNTAX },
    { "i 3e", EP_BENCODE_ERROR_SYNTAX },
    { "i3 e", EP_BENCODE_ERROR_SYNTAX },
    { "i1.5e", EP_BENCODE_ERROR_SYNTAX },
    { "i9223372036854775808e", EP_BENCODE_ERROR_OVERFLOW },
    { "i-9223372036854775809e", EP_BENCODE_ERROR_OVERFLOW },
    { "i99999999999999999999999e", EP_BENCODE_ERROR_OVERFLOW },
    { "-", EP_BENCODE_ERROR_SYNTAX },
    { "-1:a", EP_BENCODE_ERROR_SYNTAX },
    { "03:abc", EP_BENCODE_ERROR_SYNTAX },
    { "00:", EP_BENCODE_ERROR_SYNTAX },
    { "3abc", EP_BENCODE_ERROR_SYNTAX },
    { "3", EP_BENCODE_ERROR_TRUNCATED },
    { "3:ab", EP_BENCODE_ERROR_TRUNCATED },
    { "4294967296:a", EP_BENCODE_ERROR_TRUNCATED },
    { "18446744073709551615:a", EP_BENCODE_ERROR_TRUNCATED },
    { "18446744073709551616:a", EP_BENCODE_ERROR_OVERFLOW },
    { "l", EP_BENCODE_ERROR_TRUNCATED },
    { "li1e", EP_BENCODE_ERROR_TRUNCATED },
    { "d", EP_BENCODE_ERROR_TRUNCATED },
    { "d1:a", EP_BENCODE_ERROR_TRUNCATED },
    { "d1:ai1e", EP_BENCODE_ERROR_TRUNCATED },
    { "d1:ae", EP_BENCODE_ERROR_SYNTAX },
    { "di1ei2ee", EP_BENCODE_ERROR_SYNTAX },
    { "dlei2ee", EP_BENCODE_ERROR_SYNTAX },
    { "ddei2ee", EP_BENCODE_ERROR_SYNTAX },
    { "d1:bi1e1:ai2ee", EP_BENCODE_ERROR_KEY_ORDER },
    { "d1:ai1e1:ai2ee", EP_BENCODE_ERROR_KEY_ORDER },
    { "d2:aai1e1:ai2ee", EP_BENCODE_ERROR_KEY_ORDER },
    { "e", EP_BENCODE_ERROR_SYNTAX },
    { "x", EP_BENCODE_ERROR_SYNTAX },
    { "i1ei2e", EP_BENCODE_ERROR_TRAILING },
    { "lee", EP_BENCODE_ERROR_TRAILING },
    { "0:0:", EP_BENCODE_ERROR_TRAILING },
    { "de ", EP_BENCODE_ERROR_TRAILING },
    { "lxe", EP_BENCODE_ERROR_SYNTAX },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EpBencDoc) doc = parse_str (cases[i].input, NULL, &error);

      if (!g_error_matches (error, EP_BENCODE_ERROR, cases[i].code))
        g_error ("\"%s\": expected code %d, got %s", cases[i].input, cases[i].code,
                 error != NULL ? error->message : "success");
      g_assert_null (doc);
    }
}

static void
test_bencode_embedded_nul_is_data (void)
{
  /* A NUL inside a byte string is fine; outside one it is a syntax error. */
  static const guint8 ok[] = { '1', ':', 0 };
  static const guint8 bad[] = { 'l', 0, 'e' };
  g_autoptr(GError) error = NULL;
  g_autoptr(EpBencDoc) doc = ep_benc_doc_parse (ok, sizeof ok, NULL, &error);
  g_autoptr(EpBencDoc) bad_doc = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (doc);
  bad_doc = ep_benc_doc_parse (bad, sizeof bad, NULL, &error);
  g_assert_error (error, EP_BENCODE_ERROR, EP_BENCODE_ERROR_SYNTAX);
  g_assert_null (bad_doc);
}

static void
assert_raw (const EpBenc *value,
            const char   *expected)
{
  gsize len = 0;
  const guint8 *raw = ep_benc_raw (value, &len);

  g_assert_nonnull (raw);
  g_assert_cmpmem (raw, len, expected, strlen (expected));
}

static void
test_bencode_raw_spans (void)
{
  const char *input = "d1:ad1:bi-12ee1:cl3:xyzle0:e1:v12:Hello World!e";
  g_autoptr(GError) error = NULL;
  g_autoptr(EpBencDoc) doc = parse_str (input, NULL, &error);
  const EpBenc *root, *a, *c;

  g_assert_no_error (error);
  root = ep_benc_doc_root (doc);
  assert_raw (root, input);

  a = ep_benc_dict_lookup (root, "a");
  assert_raw (a, "d1:bi-12ee");
  assert_raw (ep_benc_dict_lookup (a, "b"), "i-12e");

  c = ep_benc_dict_lookup (root, "c");
  assert_raw (c, "l3:xyzle0:e");
  assert_raw (ep_benc_list_nth (c, 0), "3:xyz");
  assert_raw (ep_benc_list_nth (c, 1), "le");
  assert_raw (ep_benc_list_nth (c, 2), "0:");

  assert_raw (ep_benc_dict_lookup (root, "v"), "12:Hello World!");
}

static void
test_bencode_accessors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpBencDoc) doc = parse_str ("d1:ai7e1:b2:xy1:cli1ei2ee1:dd1:xi0eee", NULL, &error);
  const EpBenc *root, *a, *b, *c, *d;
  const guint8 *key = (const guint8 *) "x";
  gsize len = 99;
  gint64 i = 99;

  g_assert_no_error (error);
  root = ep_benc_doc_root (doc);
  g_assert_cmpint (ep_benc_type (root), ==, EP_BENC_DICT);
  g_assert_cmpuint (ep_benc_dict_size (root), ==, 4);
  a = ep_benc_dict_lookup (root, "a");
  b = ep_benc_dict_lookup (root, "b");
  c = ep_benc_dict_lookup (root, "c");
  d = ep_benc_dict_lookup (root, "d");
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_nonnull (c);
  g_assert_nonnull (d);
  g_assert_null (ep_benc_dict_lookup (root, "e"));
  g_assert_null (ep_benc_dict_lookup (root, ""));
  g_assert_null (ep_benc_dict_lookup (root, "aa"));
  g_assert_true (ep_benc_dict_lookup_len (root, (const guint8 *) "bz", 1) == b);

  g_assert_true (ep_benc_dict_get_int (root, "a", &i));
  g_assert_cmpint (i, ==, 7);
  g_assert_cmpmem (ep_benc_dict_get_bytes (root, "b", &len), len, "xy", 2);

  /* Wrong types. */
  g_assert_false (ep_benc_get_int (b, &i));
  g_assert_cmpint (i, ==, 7);
  g_assert_null (ep_benc_get_bytes (a, &len));
  g_assert_cmpuint (len, ==, 0);
  g_assert_null (ep_benc_get_string (c));
  g_assert_cmpuint (ep_benc_list_length (d), ==, 0);
  g_assert_null (ep_benc_list_nth (d, 0));
  g_assert_null (ep_benc_list_nth (c, 2));
  g_assert_nonnull (ep_benc_list_nth (c, 1));
  g_assert_cmpuint (ep_benc_dict_size (c), ==, 0);
  g_assert_null (ep_benc_dict_lookup (c, "x"));
  g_assert_null (ep_benc_dict_nth (c, 0, &key, &len));
  g_assert_null (key);
  g_assert_null (ep_benc_dict_nth (root, 4, NULL, NULL));
  g_assert_null (ep_benc_dict_get_bytes (root, "a", NULL));
  g_assert_false (ep_benc_dict_get_int (root, "b", NULL));
  g_assert_false (ep_benc_dict_get_int (root, "zz", NULL));

  /* NULL everywhere. */
  g_assert_false (ep_benc_get_int (NULL, &i));
  g_assert_null (ep_benc_get_bytes (NULL, NULL));
  g_assert_null (ep_benc_get_string (NULL));
  g_assert_cmpuint (ep_benc_list_length (NULL), ==, 0);
  g_assert_null (ep_benc_list_nth (NULL, 0));
  g_assert_cmpuint (ep_benc_dict_size (NULL), ==, 0);
  g_assert_null (ep_benc_dict_lookup (NULL, "a"));
  g_assert_null (ep_benc_dict_lookup (root, NULL));
  g_assert_null (ep_benc_raw (NULL, &len));
  g_assert_cmpuint (len, ==, 0);

  g_assert_nonnull (ep_benc_dict_nth (root, 2, &key, &len));
  g_assert_cmpmem (key, len, "c", 1);
}

static void
test_bencode_many_keys (void)
{
  g_autoptr(GByteArray) enc = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(EpBencDoc) doc = NULL;
  const EpBenc *root;

  ep_benc_put_dict_begin (enc);
  for (guint i = 0; i < 500; i++)
    {
      char key[8];
      g_snprintf (key, sizeof key, "k%04u", i);
      ep_benc_put_string (enc, key);
      ep_benc_put_int (enc, i);
    }
  ep_benc_put_end (enc);

  doc = ep_benc_doc_parse (enc->data, enc->len, NULL, &error);
  g_assert_no_error (error);
  root = ep_benc_doc_root (doc);
  g_assert_cmpuint (ep_benc_dict_size (root), ==, 500);
  for (guint i = 0; i < 500; i++)
    {
      char key[8];
      gint64 v = -1;
      g_snprintf (key, sizeof key, "k%04u", i);
      g_assert_true (ep_benc_dict_get_int (root, key, &v));
      g_assert_cmpint (v, ==, i);
    }
  g_assert_null (ep_benc_dict_lookup (root, "k0500"));
  g_assert_null (ep_benc_dict_lookup (root, "k"));
}

static GByteArray *
nested_lists (guint depth)
{
  GByteArray *enc = g_byte_array_new ();

  for (guint i = 0; i < depth; i++)
    ep_benc_put_list_begin (enc);
  for (guint i = 0; i < depth; i++)
    ep_benc_put_end (enc);
  return enc;
}

static void
test_bencode_limits (void)
{
  g_autoptr(GByteArray) ok32 = nested_lists (32);
  g_autoptr(GByteArray) deep33 = nested_lists (33);
  g_autoptr(GByteArray) deep_huge = nested_lists (100000);
  g_autoptr(GByteArray) many = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  EpBencDoc *doc;
  EpBencLimits limits = { 0 };

  doc = ep_benc_doc_parse (ok32->data, ok32->len, NULL, &error);
  g_assert_no_error (error);
  ep_benc_doc_free (doc);

  doc = ep_benc_doc_parse (deep33->data, deep33->len, NULL, &error);
  g_assert_error (error, EP_BENCODE_ERROR, EP_BENCODE_ERROR_TOO_DEEP);
  g_assert_null (doc);
  g_clear_error (&error);

  limits.max_depth = 2;
  doc = parse_str ("llee", &limits, &error);
  g_assert_no_error (error);
  ep_benc_doc_free (doc);
  doc = parse_str ("ld1:alleee", &limits, &error);
  g_assert_error (error, EP_BENCODE_ERROR, EP_BENCODE_ERROR_TOO_DEEP);
  g_clear_error (&error);

  /* Input longer than the default 64 KiB limit is refused before parsing… */
  doc = ep_benc_doc_parse (deep_huge->data, deep_huge->len, NULL, &error);
  g_assert_error (error, EP_BENCODE_ERROR, EP_BENCODE_ERROR_TOO_LARGE);
  g_clear_error (&error);
  /* …and with a larger input limit, depth still stops it. */
  limits.max_depth = 0;
  limits.max_input = deep_huge->len;
  doc = ep_benc_doc_parse (deep_huge->data, deep_huge->len, &limits, &error);
  g_assert_error (error, EP_BENCODE_ERROR, EP_BENCODE_ERROR_TOO_DEEP);
  g_clear_error (&error);

  limits = (EpBencLimits) { .max_input = 5 };
  doc = parse_str ("4:abcd", &limits, &error);
  g_assert_error (error, EP_BENCODE_ERROR, EP_BENCODE_ERROR_TOO_LARGE);
  g_clear_error (&error);
  doc = parse_str ("3:abc", &limits, &error);
  g_assert_no_error (error);
  ep_benc_doc_free (doc);

  /* Values: the list counts as one, each item as one. */
  limits = (EpBencLimits) { .max_values = 4 };
  doc = parse_str ("li1ei2ei3ee", &limits, &error);
  g_assert_no_error (error);
  ep_benc_doc_free (doc);
  doc = parse_str ("li1ei2ei3ei4ee", &limits, &error);
  g_assert_error (error, EP_BENCODE_ERROR, EP_BENCODE_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* Default value limit (4096) under the default input limit. */
  ep_benc_put_list_begin (many);
  for (guint i = 0; i < 5000; i++)
    ep_benc_put_int (many, 0);
  ep_benc_put_end (many);
  g_assert_cmpuint (many->len, <, 65536);
  doc = ep_benc_doc_parse (many->data, many->len, NULL, &error);
  g_assert_error (error, EP_BENCODE_ERROR, EP_BENCODE_ERROR_TOO_LARGE);
  g_assert_null (doc);
}

static void
test_bencode_unsorted_keys (void)
{
  EpBencLimits limits = { .allow_unsorted_keys = TRUE };
  g_autoptr(GError) error = NULL;
  g_autoptr(EpBencDoc) doc = parse_str ("d1:ci3e1:ai1e1:bi2ee", &limits, &error);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  const EpBenc *root;
  EpBencDoc *bad;
  gint64 v;

  g_assert_no_error (error);
  root = ep_benc_doc_root (doc);
  for (gint64 i = 0; i < 3; i++)
    {
      char key[2] = { 'a' + i, 0 };
      g_assert_true (ep_benc_dict_get_int (root, key, &v));
      g_assert_cmpint (v, ==, i + 1);
    }
  g_assert_null (ep_benc_dict_lookup (root, "d"));
  /* Wire order is kept. */
  reencode (out, root);
  g_assert_cmpmem (out->data, out->len, "d1:ci3e1:ai1e1:bi2ee", 20);

  /* Repeated keys are refused even then, adjacent or not. */
  bad = parse_str ("d1:bi1e1:ai1e1:bi2ee", &limits, &error);
  g_assert_error (error, EP_BENCODE_ERROR, EP_BENCODE_ERROR_KEY_ORDER);
  g_assert_null (bad);
  g_clear_error (&error);
  bad = parse_str ("d1:ai1e1:ai2ee", &limits, &error);
  g_assert_error (error, EP_BENCODE_ERROR, EP_BENCODE_ERROR_KEY_ORDER);
  g_assert_null (bad);
  g_clear_error (&error);
  /* Non-bytes keys too. */
  bad = parse_str ("di1ei1ee", &limits, &error);
  g_assert_error (error, EP_BENCODE_ERROR, EP_BENCODE_ERROR_SYNTAX);
  g_assert_null (bad);
}

static void
test_bencode_encode (void)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  static const guint8 id[4] = { 0, 1, 0xfe, 0xff };

  ep_benc_put_dict_begin (out);
  ep_benc_put_string (out, "a");
  ep_benc_put_dict_begin (out);
  ep_benc_put_string (out, "id");
  ep_benc_put_bytes (out, id, sizeof id);
  ep_benc_put_end (out);
  ep_benc_put_string (out, "n");
  ep_benc_put_list_begin (out);
  ep_benc_put_int (out, G_MININT64);
  ep_benc_put_int (out, 0);
  ep_benc_put_int (out, G_MAXINT64);
  ep_benc_put_bytes (out, NULL, 0);
  ep_benc_put_end (out);
  ep_benc_put_string (out, "v");
  ep_benc_put_raw (out, "12:Hello World!", 15);
  ep_benc_put_end (out);

  g_assert_cmpmem (out->data, out->len,
                   "d1:ad2:id4:\x00\x01\xfe\xff" "e1:nli-9223372036854775808ei0e"
                   "i9223372036854775807e0:e1:v12:Hello World!e",
                   sizeof ("d1:ad2:id4:\x00\x01\xfe\xff" "e1:nli-9223372036854775808ei0e"
                           "i9223372036854775807e0:e1:v12:Hello World!e") - 1);
}

static void
test_bencode_empty_containers (void)
{
  static const char *inputs[] = { "de", "le", "d1:ade1:blee" };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr(EpBencDoc) doc = ep_benc_doc_parse ((const guint8 *) inputs[i],
                                                    strlen (inputs[i]), NULL, &error);
      const EpBenc *root;

      g_assert_no_error (error);
      root = ep_benc_doc_root (doc);
      /* Lookups in empty containers find nothing (and touch no memory). */
      g_assert_null (ep_benc_dict_lookup (root, "x"));
      g_assert_null (ep_benc_list_nth (root, 0));
      if (i == 2)
        {
          g_assert_cmpuint (ep_benc_dict_size (ep_benc_dict_lookup (root, "a")), ==, 0);
          g_assert_null (ep_benc_dict_lookup (ep_benc_dict_lookup (root, "a"), "a"));
          g_assert_cmpuint (ep_benc_list_length (ep_benc_dict_lookup (root, "b")), ==, 0);
        }
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/bencode/round-trip", test_bencode_round_trip);
  g_test_add_func ("/ep/bencode/binary-bytes", test_bencode_binary_bytes);
  g_test_add_func ("/ep/bencode/strings", test_bencode_strings);
  g_test_add_func ("/ep/bencode/malformed", test_bencode_malformed);
  g_test_add_func ("/ep/bencode/embedded-nul", test_bencode_embedded_nul_is_data);
  g_test_add_func ("/ep/bencode/raw-spans", test_bencode_raw_spans);
  g_test_add_func ("/ep/bencode/accessors", test_bencode_accessors);
  g_test_add_func ("/ep/bencode/many-keys", test_bencode_many_keys);
  g_test_add_func ("/ep/bencode/limits", test_bencode_limits);
  g_test_add_func ("/ep/bencode/unsorted-keys", test_bencode_unsorted_keys);
  g_test_add_func ("/ep/bencode/encode", test_bencode_encode);
  g_test_add_func ("/ep/bencode/empty-containers", test_bencode_empty_containers);

  return g_test_run ();
}
