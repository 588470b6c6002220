/* ep-contact-id.h — the contact ID a user shares to be found
 *
 * A contact ID is 38 bytes:
 *
 *   Ed25519 identity key (32) ‖ nospam (4, big-endian) ‖ checksum (2)
 *
 * checksum = the first 2 bytes of BLAKE2b-256 (unkeyed) over
 *   "EncryptedP2P contact ID v1" (26 ASCII bytes, no NUL) ‖ key ‖ nospam
 *
 * Written as RFC 4648 base32 (alphabet "abcdefghijklmnopqrstuvwxyz234567")
 * in lower case, without padding: 38 bytes → 61 characters. The last
 * character carries 4 bits of data and one zero bit; a last character whose
 * zero bit is set is refused, so every ID has exactly one spelling.
 *
 * For reading it is shown in groups of five separated by single spaces, the
 * last group holding six characters (11 × 5 + 6 = 61; 72 characters in all).
 * Parsing accepts upper or lower case and ignores spaces, tabs, line breaks
 * and dashes anywhere, so an ID pasted from a chat, an e-mail or a QR code
 * reader works as it is.
 *
 * Parsing refuses, each with its own #EpContactIdError and a message a user
 * can act on: a character outside the alphabet (named, with its position in
 * the text as typed), a wrong number of characters, a checksum that does not
 * match (a typo), and a key that can never sign (all zero, low order, or not
 * a canonical point on the curve).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EP_CONTACT_ID_KEY_LEN          32
#define EP_CONTACT_ID_NOSPAM_LEN       4
#define EP_CONTACT_ID_CHECKSUM_LEN     2
#define EP_CONTACT_ID_RAW_LEN          38
/* Characters of the compact form, without separators. */
#define EP_CONTACT_ID_STRING_LEN       61
/* Characters of the grouped form. */
#define EP_CONTACT_ID_GROUPED_LEN      72
#define EP_CONTACT_ID_CHECKSUM_DOMAIN  "EncryptedP2P contact ID v1"

#define EP_CONTACT_ID_ERROR (ep_contact_id_error_quark ())

typedef enum
{
  EP_CONTACT_ID_ERROR_LENGTH,     /* empty, too short or too long */
  EP_CONTACT_ID_ERROR_CHARACTER,  /* a character outside the base32 alphabet */
  EP_CONTACT_ID_ERROR_CHECKSUM,   /* decodes, but the checksum does not match */
  EP_CONTACT_ID_ERROR_KEY,        /* checksum fine, but the key is not usable */
} EpContactIdError;

GQuark    ep_contact_id_error_quark   (void);

void      ep_contact_id_checksum      (const guint8  key[EP_CONTACT_ID_KEY_LEN],
                                       guint32       nospam,
                                       guint8        checksum[EP_CONTACT_ID_CHECKSUM_LEN]);

/* The 61-character compact form (lower case, no separators). */
char     *ep_contact_id_format        (const guint8  key[EP_CONTACT_ID_KEY_LEN],
                                       guint32       nospam);
/* The 72-character grouped form for display. */
char     *ep_contact_id_format_grouped (const guint8 key[EP_CONTACT_ID_KEY_LEN],
                                        guint32      nospam);

gboolean  ep_contact_id_parse         (const char   *text,
                                       guint8        key[EP_CONTACT_ID_KEY_LEN],
                                       guint32      *nospam,
                                       GError      **error);

/* A contact ID, or an identity key as 64 hex digits (as `encryptedp2p-node
 * id` prints it under "key"); @has_nospam tells which one it was. */
gboolean  ep_contact_id_parse_key_or_id (const char *text,
                                         guint8      key[EP_CONTACT_ID_KEY_LEN],
                                         gboolean   *has_nospam,
                                         guint32    *nospam,
                                         GError    **error);

/* %TRUE when @key is an Ed25519 public key that can verify signatures:
 * canonical, on the main subgroup, not of small order (so not all zero). */
gboolean  ep_contact_id_key_is_valid  (const guint8  key[EP_CONTACT_ID_KEY_LEN]);

G_END_DECLS
