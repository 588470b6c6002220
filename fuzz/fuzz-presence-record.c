/* fuzz-presence-record.c — presence records from hostile DHT nodes
 *
 * The input is used three ways:
 *
 *  1. as a bare v: whatever ep_presence_value_parse() accepts must be
 *     within the documented bounds and re-encode to a v that parses to
 *     the same fields;
 *  2. as a v correctly signed by a fixed key, so that every check after the
 *     signature is reached: the verdict must agree with the value parser
 *     and with the seq and times drawn from the input;
 *  3. cut into untrusted item fields (k, salt, seq, sig, v of any lengths)
 *     and offered to a chooser, whose counters must add up.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ep-core.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static guint8 fixed_pk[32];
static guint8 fixed_sk[64];

static void
init_once (void)
{
  static gboolean done;
  guint8 seed[32];

  if (done)
    return;
  if (sodium_init () < 0)
    abort ();
  memset (seed, 0x42, sizeof seed);
  crypto_sign_seed_keypair (fixed_pk, fixed_sk, seed);
  done = TRUE;
}

static guint64
read_u64 (const uint8_t *data,
          size_t         size,
          size_t         offset)
{
  guint64 v = 0;

  for (size_t i = 0; i < 8; i++)
    v = (v << 8) | (offset + i < size ? data[offset + i] : 0);
  return v;
}

static void
check_value (const uint8_t *data,
             size_t         size)
{
  EpPresenceValue value, again;
  g_autoptr(GBytes) encoded = NULL;
  const guint8 *bytes;
  gsize len;
  guint n4 = 0, n6 = 0;

  if (!ep_presence_value_parse (data, size, &value))
    return;

  if (size > EP_PRESENCE_MAX_V || value.version != EP_PRESENCE_VERSION
      || value.timestamp <= 0 || value.expires <= value.timestamp
      || value.expires - value.timestamp > EP_PRESENCE_MAX_LIFETIME)
    abort ();
  for (guint i = 0; i < value.endpoints->len; i++)
    {
      GInetAddress *inet = g_inet_socket_address_get_address (value.endpoints->pdata[i]);

      if (g_inet_socket_address_get_port (value.endpoints->pdata[i]) == 0
          || g_inet_address_get_is_any (inet) || g_inet_address_get_is_multicast (inet))
        abort ();
      if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV4)
        {
          if (n6 > 0)          /* IPv4 endpoints come first */
            abort ();
          n4++;
        }
      else
        n6++;
    }
  if (n4 > EP_PRESENCE_MAX_V4 || n6 > EP_PRESENCE_MAX_V6)
    abort ();
  /* Relays: bounded, each with a usable endpoint. */
  if (value.relays == NULL || value.relays->len > EP_PRESENCE_MAX_RELAYS)
    abort ();
  for (guint i = 0; i < value.relays->len; i++)
    {
      EpPresenceRelay *relay = value.relays->pdata[i];

      if (!G_IS_INET_SOCKET_ADDRESS (relay->address)
          || g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (relay->address)) == 0)
        abort ();
    }

  /* Our own encoder accepts what the parser accepted, and it reads back. */
  encoded = ep_presence_value_encode_full (value.static_key, value.endpoints, value.relays,
                                           value.reachability, value.timestamp, value.expires,
                                           NULL);
  if (encoded == NULL)
    abort ();
  bytes = g_bytes_get_data (encoded, &len);
  if (!ep_presence_value_parse (bytes, len, &again))
    abort ();
  if (memcmp (again.static_key, value.static_key, 32) != 0
      || again.timestamp != value.timestamp || again.expires != value.expires
      || again.endpoints->len != value.endpoints->len
      || again.relays->len != value.relays->len
      || again.reachability != value.reachability)
    abort ();
  for (guint i = 0; i < value.relays->len; i++)
    if (memcmp (((EpPresenceRelay *) value.relays->pdata[i])->key,
                ((EpPresenceRelay *) again.relays->pdata[i])->key, 32) != 0)
      abort ();
  for (guint i = 0; i < value.endpoints->len; i++)
    if (!g_inet_address_equal (g_inet_socket_address_get_address (value.endpoints->pdata[i]),
                               g_inet_socket_address_get_address (again.endpoints->pdata[i])))
      abort ();

  ep_presence_value_clear (&again);
  ep_presence_value_clear (&value);
}

static void
check_signed (const uint8_t *data,
              size_t         size)
{
  g_autoptr(EpPresenceRecord) record = NULL;
  EpPresenceRejection rejection = EP_PRESENCE_N_REJECTIONS;
  EpPresenceValue value;
  EpPresenceItem item = { 0 };
  gboolean parses;
  guint8 target[20], sig[64];
  /* seq comes from the last bytes, the last accepted seq from the length
   * (none, equal, one above), so the corpus steers both. */
  gint64 seq = (gint64) (read_u64 (data, size, size >= 8 ? size - 8 : 0) >> 1);
  gint64 min_seq = size % 3 == 0 ? 0 : size % 3 == 1 || seq == G_MAXINT64 ? seq : seq + 1;
  gint64 now = 1700000000 + (gint64) (size > 1 ? data[1] : 0) * 60;

  if (size == 0 || size > EP_BEP44_MAX_V)
    return;

  ep_bep44_sign (fixed_sk, (const guint8 *) EP_PRESENCE_SALT, EP_PRESENCE_SALT_LEN, seq,
                 data, size, sig);
  ep_presence_target (fixed_pk, target);
  item.k = fixed_pk;
  item.k_len = 32;
  item.salt = (const guint8 *) EP_PRESENCE_SALT;
  item.salt_len = EP_PRESENCE_SALT_LEN;
  item.seq = seq;
  item.sig = sig;
  item.sig_len = 64;
  item.v = data;
  item.v_len = size;

  record = ep_presence_record_validate (&item, target, min_seq, now, &rejection);
  if ((record != NULL) != (rejection == EP_PRESENCE_REJECT_NONE))
    abort ();
  if (rejection == EP_PRESENCE_REJECT_BAD_SIGNATURE || rejection == EP_PRESENCE_REJECT_WRONG_TARGET)
    abort ();   /* it is signed, and for this target */

  parses = ep_presence_value_parse (data, size, &value);
  if (!parses)
    {
      if (rejection != EP_PRESENCE_REJECT_MALFORMED)
        abort ();
      return;
    }
  if (rejection == EP_PRESENCE_REJECT_MALFORMED)
    abort ();
  if ((seq < min_seq) != (rejection == EP_PRESENCE_REJECT_ROLLBACK))
    abort ();
  if (rejection == EP_PRESENCE_REJECT_NONE
      && (value.expires <= now || value.timestamp > now + EP_PRESENCE_MAX_FUTURE
          || record->seq != seq || memcmp (record->key, fixed_pk, 32) != 0
          || g_bytes_get_size (record->v) != size))
    abort ();
  ep_presence_value_clear (&value);
}

static void
check_items (const uint8_t *data,
             size_t         size)
{
  g_autoptr(EpPresenceChooser) chooser = NULL;
  const EpPresenceCounters *counters;
  guint8 target[20];
  size_t offset = 0;
  guint total = 0;

  memset (target, 0, sizeof target);
  if (size >= 20)
    memcpy (target, data, 20);
  chooser = ep_presence_chooser_new (target, 0, 1700000000);

  /* Items laid end to end: 4 length bytes (k, salt, sig, v), 8 of seq, fields. */
  while (offset + 12 <= size)
    {
      EpPresenceItem item = { 0 };
      size_t need;

      item.k_len = data[offset];
      item.salt_len = data[offset + 1] % 8;
      item.sig_len = data[offset + 2];
      item.v_len = (gsize) data[offset + 3] * 4;
      item.seq = (gint64) read_u64 (data, size, offset + 4);
      offset += 12;
      need = item.k_len + item.salt_len + item.sig_len + item.v_len;
      if (need > size - offset)
        break;
      item.k = item.k_len ? data + offset : NULL;
      offset += item.k_len;
      item.salt = item.salt_len ? data + offset : NULL;
      offset += item.salt_len;
      item.sig = item.sig_len ? data + offset : NULL;
      offset += item.sig_len;
      item.v = item.v_len ? data + offset : NULL;
      offset += item.v_len;
      ep_presence_chooser_offer (chooser, &item);
    }

  counters = ep_presence_chooser_get_counters (chooser);
  for (guint i = 0; i < EP_PRESENCE_N_REJECTIONS; i++)
    total += counters->rejected[i];
  if (counters->rejected[EP_PRESENCE_REJECT_NONE] != 0
      || total + counters->valid != counters->offered
      || (counters->valid > 0) != (ep_presence_chooser_get_best (chooser) != NULL))
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  init_once ();
  check_value (data, size);
  check_signed (data, size);
  check_items (data, size);
  return 0;
}
