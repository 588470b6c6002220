/* ep-contact-id.c — the contact ID a user shares to be found
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-contact-id.h"

G_DEFINE_QUARK (ep-contact-id-error-quark, ep_contact_id_error)

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

static void
ensure_sodium (void)
{
  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");
}

/**
 * ep_contact_id_checksum:
 * @key: the Ed25519 identity key
 * @nospam: the nospam value
 * @checksum: (out caller-allocates): the two checksum bytes
 *
 * First two bytes of BLAKE2b-256 over #EP_CONTACT_ID_CHECKSUM_DOMAIN ‖ key ‖
 * nospam (big-endian). The domain string keeps the checksum from matching
 * any other hash of the same key made elsewhere.
 */
void
ep_contact_id_checksum (const guint8 key[EP_CONTACT_ID_KEY_LEN],
                        guint32      nospam,
                        guint8       checksum[EP_CONTACT_ID_CHECKSUM_LEN])
{
  crypto_generichash_state state;
  guint8 digest[32];
  guint32 be = GUINT32_TO_BE (nospam);

  ensure_sodium ();
  crypto_generichash_init (&state, NULL, 0, sizeof digest);
  crypto_generichash_update (&state, (const guint8 *) EP_CONTACT_ID_CHECKSUM_DOMAIN,
                             strlen (EP_CONTACT_ID_CHECKSUM_DOMAIN));
  crypto_generichash_update (&state, key, EP_CONTACT_ID_KEY_LEN);
  crypto_generichash_update (&state, (const guint8 *) &be, sizeof be);
  crypto_generichash_final (&state, digest, sizeof digest);
  memcpy (checksum, digest, EP_CONTACT_ID_CHECKSUM_LEN);
}

static void
make_raw (const guint8 key[EP_CONTACT_ID_KEY_LEN],
          guint32      nospam,
          guint8       raw[EP_CONTACT_ID_RAW_LEN])
{
  guint32 be = GUINT32_TO_BE (nospam);

  memcpy (raw, key, EP_CONTACT_ID_KEY_LEN);
  memcpy (raw + EP_CONTACT_ID_KEY_LEN, &be, sizeof be);
  ep_contact_id_checksum (key, nospam, raw + EP_CONTACT_ID_KEY_LEN + EP_CONTACT_ID_NOSPAM_LEN);
}

/**
 * ep_contact_id_format:
 * @key: the Ed25519 identity key
 * @nospam: the nospam value
 *
 * Returns: (transfer full): the 61-character compact contact ID
 */
char *
ep_contact_id_format (const guint8 key[EP_CONTACT_ID_KEY_LEN],
                      guint32      nospam)
{
  guint8 raw[EP_CONTACT_ID_RAW_LEN];
  char *out;
  guint32 buffer = 0;
  guint bits = 0;
  gsize n = 0;

  g_return_val_if_fail (key != NULL, NULL);

  make_raw (key, nospam, raw);
  out = g_malloc (EP_CONTACT_ID_STRING_LEN + 1);

  for (gsize i = 0; i < sizeof raw; i++)
    {
      buffer = (buffer << 8) | raw[i];
      bits += 8;
      while (bits >= 5)
        {
          out[n++] = alphabet[(buffer >> (bits - 5)) & 0x1f];
          bits -= 5;
        }
    }
  if (bits > 0)
    out[n++] = alphabet[(buffer << (5 - bits)) & 0x1f];

  g_assert (n == EP_CONTACT_ID_STRING_LEN);
  out[n] = '\0';
  return out;
}

/**
 * ep_contact_id_format_grouped:
 * @key: the Ed25519 identity key
 * @nospam: the nospam value
 *
 * The contact ID for display: eleven groups of five characters and a last
 * group of six, separated by single spaces.
 *
 * Returns: (transfer full): the 72-character grouped contact ID
 */
char *
ep_contact_id_format_grouped (const guint8 key[EP_CONTACT_ID_KEY_LEN],
                              guint32      nospam)
{
  g_autofree char *compact = NULL;
  GString *s;

  g_return_val_if_fail (key != NULL, NULL);

  compact = ep_contact_id_format (key, nospam);
  s = g_string_sized_new (EP_CONTACT_ID_GROUPED_LEN + 1);
  for (guint i = 0; i < EP_CONTACT_ID_STRING_LEN; i++)
    {
      /* The last group takes the 61st character instead of starting a new one. */
      if (i > 0 && i % 5 == 0 && i < EP_CONTACT_ID_STRING_LEN - 1)
        g_string_append_c (s, ' ');
      g_string_append_c (s, compact[i]);
    }
  g_assert (s->len == EP_CONTACT_ID_GROUPED_LEN);
  return g_string_free (s, FALSE);
}

/**
 * ep_contact_id_key_is_valid:
 * @key: 32 bytes
 *
 * Returns: %TRUE when @key is a canonical Ed25519 point of the main subgroup
 *   and not of small order; %FALSE for the all-zero key among others
 */
gboolean
ep_contact_id_key_is_valid (const guint8 key[EP_CONTACT_ID_KEY_LEN])
{
  static const guint8 zero[EP_CONTACT_ID_KEY_LEN] = { 0 };

  g_return_val_if_fail (key != NULL, FALSE);

  ensure_sodium ();
  if (memcmp (key, zero, sizeof zero) == 0)
    return FALSE;
  return crypto_core_ed25519_is_valid_point (key) == 1;
}

static gboolean
is_separator (gunichar c)
{
  switch (c)
    {
    case '-':
    case 0x200B: /* zero width space */
    case 0x2010: /* hyphen */
    case 0x2011: /* non-breaking hyphen */
    case 0x2012: /* figure dash */
    case 0x2013: /* en dash */
    case 0x2014: /* em dash */
    case 0x2212: /* minus sign */
    case 0xFEFF: /* byte order mark */
      return TRUE;
    default:
      return g_unichar_isspace (c);
    }
}

static int
base32_value (gunichar c)
{
  if (c >= 'a' && c <= 'z')
    return (int) (c - 'a');
  if (c >= 'A' && c <= 'Z')
    return (int) (c - 'A');
  if (c >= '2' && c <= '7')
    return (int) (c - '2') + 26;
  return -1;
}

static char *
describe_character (gunichar c)
{
  char utf8[8] = { 0 };

  if (!g_unichar_isprint (c))
    return g_strdup_printf ("U+%04X", c);
  g_unichar_to_utf8 (c, utf8);
  /* TRANSLATORS: a character quoted inside an error message */
  return g_strdup_printf (_("“%s”"), utf8);
}

static void
set_bad_character (GError   **error,
                   gunichar   c,
                   gsize      position)
{
  g_autofree char *what = describe_character (c);

  if (c == '0' || c == '1' || c == '8' || c == '9')
    g_set_error (error, EP_CONTACT_ID_ERROR, EP_CONTACT_ID_ERROR_CHARACTER,
                 _("The digit %s at position %u cannot be part of a "
                   "contact ID, which uses only the letters a to z and the digits 2 to 7. "
                   "Check whether it should be a letter (o, l, i, b or g)."),
                 what, (guint) position);
  else
    g_set_error (error, EP_CONTACT_ID_ERROR, EP_CONTACT_ID_ERROR_CHARACTER,
                 _("The character %s at position %u cannot be part of a "
                   "contact ID, which uses only the letters a to z and the digits 2 to 7."),
                 what, (guint) position);
}

/**
 * ep_contact_id_parse:
 * @text: a contact ID as typed or pasted by a user
 * @key: (out caller-allocates): the identity key
 * @nospam: (out) (optional): the nospam value
 * @error: return location for a #GError in #EP_CONTACT_ID_ERROR
 *
 * Case, spaces, line breaks and dashes in @text do not matter. Positions in
 * error messages count characters of @text as given, from 1.
 *
 * Returns: %TRUE when @text is a valid contact ID
 */
gboolean
ep_contact_id_parse (const char  *text,
                     guint8       key[EP_CONTACT_ID_KEY_LEN],
                     guint32     *nospam,
                     GError     **error)
{
  guint8 values[EP_CONTACT_ID_STRING_LEN];
  guint8 raw[EP_CONTACT_ID_RAW_LEN];
  guint8 checksum[EP_CONTACT_ID_CHECKSUM_LEN];
  const char *end = NULL;
  const char *p;
  gsize count = 0;
  gsize position = 0;
  guint32 buffer = 0;
  guint bits = 0;
  gsize n = 0;
  guint32 be;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_utf8_validate (text, -1, &end))
    {
      g_set_error (error, EP_CONTACT_ID_ERROR, EP_CONTACT_ID_ERROR_CHARACTER,
                   _("The contact ID contains bytes that are not text at position %ld. "
                     "Copy the ID again from where your contact shared it."),
                   g_utf8_pointer_to_offset (text, end) + 1);
      return FALSE;
    }

  for (p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      int value;

      position++;
      if (is_separator (c))
        continue;
      value = base32_value (c);
      if (value < 0)
        {
          set_bad_character (error, c, position);
          return FALSE;
        }
      if (count < EP_CONTACT_ID_STRING_LEN)
        values[count] = (guint8) value;
      count++;
    }

  if (count == 0)
    {
      g_set_error_literal (error, EP_CONTACT_ID_ERROR, EP_CONTACT_ID_ERROR_LENGTH,
                           _("The contact ID is empty. Paste the ID your contact shared with you."));
      return FALSE;
    }
  if (count < EP_CONTACT_ID_STRING_LEN)
    {
      g_set_error (error, EP_CONTACT_ID_ERROR, EP_CONTACT_ID_ERROR_LENGTH,
                   _("This contact ID is too short: %u of %d characters. "
                     "Copy the whole ID again."),
                   (guint) count, EP_CONTACT_ID_STRING_LEN);
      return FALSE;
    }
  if (count > EP_CONTACT_ID_STRING_LEN)
    {
      g_set_error (error, EP_CONTACT_ID_ERROR, EP_CONTACT_ID_ERROR_LENGTH,
                   _("This contact ID is too long: %u characters instead of %d. "
                     "Copy only the ID, without the text around it."),
                   (guint) count, EP_CONTACT_ID_STRING_LEN);
      return FALSE;
    }

  /* 61 × 5 = 305 bits for 304: the last bit must be zero, or two spellings
   * would mean the same ID. It is a typo like any other. */
  if ((values[EP_CONTACT_ID_STRING_LEN - 1] & 1) != 0)
    goto bad_checksum;

  for (gsize i = 0; i < EP_CONTACT_ID_STRING_LEN; i++)
    {
      buffer = (buffer << 5) | values[i];
      bits += 5;
      if (bits >= 8)
        {
          raw[n++] = (guint8) (buffer >> (bits - 8));
          bits -= 8;
        }
    }
  g_assert (n == EP_CONTACT_ID_RAW_LEN);

  memcpy (&be, raw + EP_CONTACT_ID_KEY_LEN, sizeof be);
  ep_contact_id_checksum (raw, GUINT32_FROM_BE (be), checksum);
  if (memcmp (checksum, raw + EP_CONTACT_ID_KEY_LEN + EP_CONTACT_ID_NOSPAM_LEN,
              sizeof checksum) != 0)
    goto bad_checksum;

  if (!ep_contact_id_key_is_valid (raw))
    {
      g_set_error_literal (error, EP_CONTACT_ID_ERROR, EP_CONTACT_ID_ERROR_KEY,
                           _("This contact ID does not contain a usable key: nobody can "
                             "own it. Ask your contact for the ID shown in their app."));
      return FALSE;
    }

  memcpy (key, raw, EP_CONTACT_ID_KEY_LEN);
  if (nospam != NULL)
    *nospam = GUINT32_FROM_BE (be);
  return TRUE;

bad_checksum:
  g_set_error_literal (error, EP_CONTACT_ID_ERROR, EP_CONTACT_ID_ERROR_CHECKSUM,
                       _("This contact ID has a mistake in it: its checksum does not match. "
                         "Check it character by character, or copy it again."));
  return FALSE;
}

/**
 * ep_contact_id_parse_key_or_id:
 * @text: a contact ID, or an identity key in hex (64 digits, either case,
 *   surrounding white space ignored)
 * @key: (out caller-allocates): the identity key
 * @has_nospam: (out) (optional): %TRUE when @text was a contact ID
 * @nospam: (out) (optional): the nospam of a contact ID, else 0
 * @error: return location for a #GError in #EP_CONTACT_ID_ERROR
 *
 * For commands that look a contact up by key or by ID.
 *
 * Returns: %TRUE on success
 */
gboolean
ep_contact_id_parse_key_or_id (const char  *text,
                               guint8       key[EP_CONTACT_ID_KEY_LEN],
                               gboolean    *has_nospam,
                               guint32     *nospam,
                               GError     **error)
{
  g_autofree char *trimmed = NULL;
  gboolean all_hex = TRUE;
  guint8 parsed[EP_CONTACT_ID_KEY_LEN];

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  trimmed = g_strstrip (g_strdup (text));
  for (const char *p = trimmed; *p != '\0'; p++)
    all_hex &= g_ascii_isxdigit (*p);

  if (!all_hex || strlen (trimmed) != EP_CONTACT_ID_KEY_LEN * 2)
    {
      guint32 value = 0;

      if (!ep_contact_id_parse (text, key, &value, error))
        return FALSE;
      if (has_nospam != NULL)
        *has_nospam = TRUE;
      if (nospam != NULL)
        *nospam = value;
      return TRUE;
    }

  for (guint i = 0; i < EP_CONTACT_ID_KEY_LEN; i++)
    parsed[i] = (guint8) (g_ascii_xdigit_value (trimmed[2 * i]) << 4
                          | g_ascii_xdigit_value (trimmed[2 * i + 1]));
  if (!ep_contact_id_key_is_valid (parsed))
    {
      g_set_error_literal (error, EP_CONTACT_ID_ERROR, EP_CONTACT_ID_ERROR_KEY,
                           _("This is not a usable identity key: nobody can own it. "
                             "Check that it was copied completely."));
      return FALSE;
    }

  memcpy (key, parsed, EP_CONTACT_ID_KEY_LEN);
  if (has_nospam != NULL)
    *has_nospam = FALSE;
  if (nospam != NULL)
    *nospam = 0;
  return TRUE;
}
