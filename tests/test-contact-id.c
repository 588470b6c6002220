/* test-contact-id.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <sodium.h>
#include <string.h>

#include "ep-core.h"

/* Computed independently (Python hashlib.blake2b + base64.b32encode) for the
 * BEP 44 test vector key and nospam 0x01020304. */
#define VECTOR_KEY "77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548"
#define VECTOR_ID  "o77yjec2sgjwgz6acnqiamie7esdf7gzassdkemhnx24347h4veacaqdat432"
/* All-zero key / identity point, nospam 0, with a correct checksum. */
#define ZERO_KEY_ID     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaadtmc"
#define IDENTITY_KEY_ID "aeaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac2ny"

static void
hex_to_bytes (const char *hex,
              guint8     *out,
              gsize       len)
{
  g_assert_cmpuint (strlen (hex), ==, len * 2);
  for (gsize i = 0; i < len; i++)
    out[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4 | g_ascii_xdigit_value (hex[2 * i + 1]));
}

static void
random_key (guint8 key[32])
{
  guint8 sk[crypto_sign_SECRETKEYBYTES];

  crypto_sign_keypair (key, sk);
  sodium_memzero (sk, sizeof sk);
}

static void
test_contact_id_vector (void)
{
  guint8 key[32], parsed[32];
  guint32 nospam = 0;
  g_autofree char *id = NULL;
  g_autoptr(GError) error = NULL;

  hex_to_bytes (VECTOR_KEY, key, sizeof key);
  id = ep_contact_id_format (key, 0x01020304);
  g_assert_cmpstr (id, ==, VECTOR_ID);

  g_assert_true (ep_contact_id_parse (VECTOR_ID, parsed, &nospam, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (parsed, 32, key, 32);
  g_assert_cmpuint (nospam, ==, 0x01020304);
}

static void
test_contact_id_round_trip (void)
{
  static const guint32 nospams[] = { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xdeadbeef };

  for (guint i = 0; i < 50; i++)
    {
      guint8 key[32], parsed[32];
      guint32 nospam = nospams[i % G_N_ELEMENTS (nospams)];
      guint32 got = 0;
      g_autofree char *id = NULL;
      g_autofree char *grouped = NULL;
      g_autoptr(GError) error = NULL;

      random_key (key);
      id = ep_contact_id_format (key, nospam);
      g_assert_cmpuint (strlen (id), ==, EP_CONTACT_ID_STRING_LEN);
      for (const char *p = id; *p; p++)
        g_assert_true ((*p >= 'a' && *p <= 'z') || (*p >= '2' && *p <= '7'));

      grouped = ep_contact_id_format_grouped (key, nospam);
      g_assert_cmpuint (strlen (grouped), ==, EP_CONTACT_ID_GROUPED_LEN);
      /* Eleven groups of five, then six. */
      for (guint j = 0; j < EP_CONTACT_ID_GROUPED_LEN; j++)
        {
          if (j % 6 == 5 && j < 66)
            g_assert_cmpint (grouped[j], ==, ' ');
          else
            g_assert_cmpint (grouped[j], !=, ' ');
        }

      g_assert_true (ep_contact_id_parse (id, parsed, &got, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (parsed, 32, key, 32);
      g_assert_cmpuint (got, ==, nospam);

      memset (parsed, 0, sizeof parsed);
      g_assert_true (ep_contact_id_parse (grouped, parsed, &got, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (parsed, 32, key, 32);
      g_assert_cmpuint (got, ==, nospam);
    }
}

static void
test_contact_id_separators_and_case (void)
{
  g_autofree char *upper = g_ascii_strup (VECTOR_ID, -1);
  const char *forms[] = {
    VECTOR_ID,
    upper,
    "o77yj ec2sg jwgz6 acnqi amie7 esdf7 gzass dkemh nx243 47h4v eacaq dat432",
    "o77yj-ec2sg-jwgz6-acnqi-amie7-esdf7-gzass-dkemh-nx243-47h4v-eacaq-dat432",
    "  O77YJec2sgJWGZ6acnqi\namie7esdf7\r\n\tgzassdkemhnx24347h4veacaqdat432 \n",
    "o77y-jec2-sgjw-gz6a-cnqi-amie-7esd-f7gz-assd-kemh-nx24-347h-4vea-caqd-at43-2",
    /* Non-breaking space and an en dash, as some chat apps paste them. */
    "o77yj\xc2\xa0" "ec2sg\xe2\x80\x93jwgz6acnqiamie7esdf7gzassdkemhnx24347h4veacaqdat432",
  };
  guint8 expected[32];

  hex_to_bytes (VECTOR_KEY, expected, sizeof expected);
  for (guint i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      guint8 key[32];
      guint32 nospam = 0;
      g_autoptr(GError) error = NULL;

      g_test_message ("form %u: %s", i, forms[i]);
      g_assert_true (ep_contact_id_parse (forms[i], key, &nospam, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (key, 32, expected, 32);
      g_assert_cmpuint (nospam, ==, 0x01020304);
    }
}

static void
assert_refused (const char *text,
                int         code,
                const char *message_part)
{
  g_autoptr(GError) error = NULL;
  guint8 key[32];
  guint32 nospam = 0x55555555;

  memset (key, 0xaa, sizeof key);
  g_test_message ("input: %s", text);
  g_assert_false (ep_contact_id_parse (text, key, &nospam, &error));
  g_assert_error (error, EP_CONTACT_ID_ERROR, code);
  g_test_message ("message: %s", error->message);
  if (strstr (error->message, message_part) == NULL)
    g_error ("“%s” not in “%s”", message_part, error->message);
  /* Nothing is written on failure. */
  g_assert_cmpuint (nospam, ==, 0x55555555);
  for (guint i = 0; i < sizeof key; i++)
    g_assert_cmpuint (key[i], ==, 0xaa);
}

static void
test_contact_id_length (void)
{
  g_autofree char *short_id = g_strndup (VECTOR_ID, 58);
  g_autofree char *long_id = g_strconcat (VECTOR_ID, "a", NULL);
  g_autofree char *twice = g_strconcat (VECTOR_ID, " ", VECTOR_ID, NULL);

  assert_refused ("", EP_CONTACT_ID_ERROR_LENGTH, "empty");
  assert_refused ("  -\n ", EP_CONTACT_ID_ERROR_LENGTH, "empty");
  assert_refused (short_id, EP_CONTACT_ID_ERROR_LENGTH, "too short: 58 of 61 characters");
  assert_refused ("abc", EP_CONTACT_ID_ERROR_LENGTH, "too short: 3 of 61 characters");
  assert_refused (long_id, EP_CONTACT_ID_ERROR_LENGTH, "too long: 62 characters instead of 61");
  assert_refused (twice, EP_CONTACT_ID_ERROR_LENGTH, "too long: 122 characters");
}

static void
test_contact_id_bad_character (void)
{
  g_autofree char *digit = g_strdup (VECTOR_ID);
  g_autofree char *at = g_strdup (VECTOR_ID);
  g_autofree char *accent = NULL;
  g_autofree char *bell = g_strdup (VECTOR_ID);
  g_autofree char *invalid = g_strdup (VECTOR_ID);
  g_autofree char *eight = NULL;

  digit[4] = '1';
  assert_refused (digit, EP_CONTACT_ID_ERROR_CHARACTER, "digit “1” at position 5");
  at[60] = '@';
  assert_refused (at, EP_CONTACT_ID_ERROR_CHARACTER, "character “@” at position 61");
  /* Positions count characters as typed, separators and all. */
  eight = g_strconcat ("o77yj ec2sg j8gz6", VECTOR_ID + 15, NULL);
  assert_refused (eight, EP_CONTACT_ID_ERROR_CHARACTER, "digit “8” at position 14");
  accent = g_strconcat ("o77yj é", VECTOR_ID + 5, NULL);
  assert_refused (accent, EP_CONTACT_ID_ERROR_CHARACTER, "character “é” at position 7");
  bell[10] = '\a';
  assert_refused (bell, EP_CONTACT_ID_ERROR_CHARACTER, "character U+0007 at position 11");
  invalid[20] = (char) 0xff;
  assert_refused (invalid, EP_CONTACT_ID_ERROR_CHARACTER, "not text at position 21");
  assert_refused ("=", EP_CONTACT_ID_ERROR_CHARACTER, "character “=” at position 1");
}

static void
test_contact_id_bad_checksum (void)
{
  g_autofree char *typo = g_strdup (VECTOR_ID);
  g_autofree char *swapped = g_strdup (VECTOR_ID);
  g_autofree char *last_bit = g_strdup (VECTOR_ID);
  char tmp;

  typo[30] = typo[30] == 'a' ? 'b' : 'a';
  assert_refused (typo, EP_CONTACT_ID_ERROR_CHECKSUM, "checksum does not match");

  tmp = swapped[0];
  swapped[0] = swapped[1];
  swapped[1] = tmp;
  assert_refused (swapped, EP_CONTACT_ID_ERROR_CHECKSUM, "checksum does not match");

  /* "2" is value 26, "3" is 27: same data bits, padding bit set. */
  g_assert_cmpint (last_bit[60], ==, '2');
  last_bit[60] = '3';
  assert_refused (last_bit, EP_CONTACT_ID_ERROR_CHECKSUM, "checksum does not match");
}

static void
test_contact_id_bad_key (void)
{
  guint8 zero[32] = { 0 };
  guint8 identity[32] = { 1 };
  guint8 key[32];
  g_autofree char *zero_id = ep_contact_id_format (zero, 0);
  g_autofree char *identity_id = ep_contact_id_format (identity, 0);
  g_autofree char *noncanonical = NULL;

  /* The Python reference agrees on both spellings. */
  g_assert_cmpstr (zero_id, ==, ZERO_KEY_ID);
  g_assert_cmpstr (identity_id, ==, IDENTITY_KEY_ID);
  assert_refused (ZERO_KEY_ID, EP_CONTACT_ID_ERROR_KEY, "does not contain a usable key");
  assert_refused (IDENTITY_KEY_ID, EP_CONTACT_ID_ERROR_KEY, "does not contain a usable key");

  /* y = p (non-canonical encoding of 0). */
  memset (key, 0xff, sizeof key);
  key[0] = 0xed;
  key[31] = 0x7f;
  noncanonical = ep_contact_id_format (key, 42);
  assert_refused (noncanonical, EP_CONTACT_ID_ERROR_KEY, "does not contain a usable key");

  g_assert_false (ep_contact_id_key_is_valid (zero));
  g_assert_false (ep_contact_id_key_is_valid (identity));
  random_key (key);
  g_assert_true (ep_contact_id_key_is_valid (key));
}

static void
test_contact_id_nospam_changes_id (void)
{
  guint8 key[32];
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  random_key (key);
  a = ep_contact_id_format (key, 1);
  b = ep_contact_id_format (key, 2);
  g_assert_cmpstr (a, !=, b);
  /* The key part (first 51 characters hold the first 255 bits) is the same. */
  g_assert_cmpint (strncmp (a, b, 51), ==, 0);
}

static void
test_contact_id_key_or_id (void)
{
  g_autofree char *upper = g_ascii_strup (VECTOR_KEY, -1);
  g_autofree char *padded = g_strconcat ("  ", VECTOR_KEY, "\n", NULL);
  const char *keys[] = { VECTOR_KEY, upper, padded };
  guint8 expected[32], key[32];
  gboolean has_nospam = TRUE;
  guint32 nospam = 7;
  g_autoptr(GError) error = NULL;

  hex_to_bytes (VECTOR_KEY, expected, sizeof expected);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      memset (key, 0, sizeof key);
      g_assert_true (ep_contact_id_parse_key_or_id (keys[i], key, &has_nospam, &nospam, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (key, 32, expected, 32);
      g_assert_false (has_nospam);
      g_assert_cmpuint (nospam, ==, 0);
    }

  g_assert_true (ep_contact_id_parse_key_or_id (VECTOR_ID, key, &has_nospam, &nospam, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (key, 32, expected, 32);
  g_assert_true (has_nospam);
  g_assert_cmpuint (nospam, ==, 0x01020304);

  /* An all-zero key in hex, and hex of the wrong length (read as an ID). */
  g_assert_false (ep_contact_id_parse_key_or_id ("0000000000000000000000000000000000000000000000000000000000000000",
                                                 key, NULL, NULL, &error));
  g_assert_error (error, EP_CONTACT_ID_ERROR, EP_CONTACT_ID_ERROR_KEY);
  g_clear_error (&error);
  g_assert_false (ep_contact_id_parse_key_or_id ("77ff84905a91936367c0", key, NULL, NULL, &error));
  g_assert_error (error, EP_CONTACT_ID_ERROR, EP_CONTACT_ID_ERROR_CHARACTER);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/ep/contact-id/vector", test_contact_id_vector);
  g_test_add_func ("/ep/contact-id/round-trip", test_contact_id_round_trip);
  g_test_add_func ("/ep/contact-id/separators-and-case", test_contact_id_separators_and_case);
  g_test_add_func ("/ep/contact-id/length", test_contact_id_length);
  g_test_add_func ("/ep/contact-id/bad-character", test_contact_id_bad_character);
  g_test_add_func ("/ep/contact-id/bad-checksum", test_contact_id_bad_checksum);
  g_test_add_func ("/ep/contact-id/bad-key", test_contact_id_bad_key);
  g_test_add_func ("/ep/contact-id/nospam-changes-id", test_contact_id_nospam_changes_id);
  g_test_add_func ("/ep/contact-id/key-or-id", test_contact_id_key_or_id);

  return g_test_run ();
}
