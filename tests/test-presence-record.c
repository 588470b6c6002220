/* test-presence-record.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <sodium.h>
#include <string.h>

#include "ep-core.h"

#define NOW       G_GINT64_CONSTANT (1700000000)
#define LIFETIME  EP_PRESENCE_DEFAULT_LIFETIME

/* BEP 44, "test vectors", mutable item with salt. */
#define VEC_VALUE     "12:Hello World!"
#define VEC_KEY       "77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548"
#define VEC_TARGET    "411eba73b6f087ca51a3795d9c8c938d365e32c1"
#define VEC_SIGNATURE "6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d" \
                      "df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08"

typedef struct
{
  gint64 now_us;
} FakeClock;

static gint64
fake_clock (gpointer user_data)
{
  return ((FakeClock *) user_data)->now_us;
}

static void
unhex (const char *hex,
       guint8     *out,
       gsize       len)
{
  gsize bin_len = 0;

  g_assert_cmpuint (strlen (hex), ==, 2 * len);
  g_assert_cmpint (sodium_hex2bin (out, len, hex, strlen (hex), NULL, &bin_len, NULL), ==, 0);
  g_assert_cmpuint (bin_len, ==, len);
}

static GPtrArray *
endpoints_new (const char *first,
               ...)
{
  GPtrArray *endpoints = g_ptr_array_new_with_free_func (g_object_unref);
  va_list args;

  va_start (args, first);
  for (const char *s = first; s != NULL; s = va_arg (args, const char *))
    {
      g_autoptr(GSocketConnectable) connectable = NULL;
      g_autoptr(GError) error = NULL;

      connectable = g_network_address_parse (s, 0, &error);
      g_assert_no_error (error);
      g_ptr_array_add (endpoints,
                       g_inet_socket_address_new_from_string (
                         g_network_address_get_hostname (G_NETWORK_ADDRESS (connectable)),
                         g_network_address_get_port (G_NETWORK_ADDRESS (connectable))));
      g_assert_nonnull (endpoints->pdata[endpoints->len - 1]);
    }
  va_end (args);
  return endpoints;
}

/* As many loopback endpoints as a record carries: IPv4 ports from 1000,
 * IPv6 ports from 2000. */
static void
add_most_endpoints (GPtrArray *endpoints)
{
  for (guint i = 0; i < EP_PRESENCE_MAX_V4; i++)
    {
      g_autoptr(GInetAddress) a = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_ptr_array_add (endpoints, g_inet_socket_address_new (a, (guint16) (1000 + i)));
    }
  for (guint i = 0; i < EP_PRESENCE_MAX_V6; i++)
    {
      g_autoptr(GInetAddress) a = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
      g_ptr_array_add (endpoints, g_inet_socket_address_new (a, (guint16) (2000 + i)));
    }
}

static EpPresenceRecord *
make_record (EpIdentity *identity,
             gint64      seq_us,
             gint64      now,
             GPtrArray  *endpoints)
{
  g_autoptr(GError) error = NULL;
  FakeClock clock = { seq_us };
  EpPresenceRecord *record;
  EpHlc hlc;

  ep_hlc_init (&hlc, 0, fake_clock, &clock);
  record = ep_presence_record_new_signed (identity, &hlc, endpoints, now, LIFETIME, &error);
  g_assert_no_error (error);
  g_assert_nonnull (record);
  g_assert_cmpint (record->seq, ==, seq_us);
  return record;
}

static EpPresenceItem
item_of (const EpPresenceRecord *record)
{
  EpPresenceItem item = { 0 };
  gsize len;

  item.k = record->key;
  item.k_len = 32;
  item.salt = (const guint8 *) EP_PRESENCE_SALT;
  item.salt_len = EP_PRESENCE_SALT_LEN;
  item.seq = record->seq;
  item.sig = record->signature;
  item.sig_len = 64;
  item.v = g_bytes_get_data (record->v, &len);
  item.v_len = len;
  return item;
}

static EpPresenceRejection
check (const EpPresenceItem *item,
       const guint8         *key,
       gint64                min_seq,
       gint64                now)
{
  g_autoptr(EpPresenceRecord) record = NULL;
  EpPresenceRejection rejection = EP_PRESENCE_N_REJECTIONS;
  guint8 target[20];

  ep_presence_target (key, target);
  record = ep_presence_record_validate (item, target, min_seq, now, &rejection);
  g_assert_true ((record != NULL) == (rejection == EP_PRESENCE_REJECT_NONE));
  return rejection;
}

/* A correctly signed item around any v, so that checks after the signature
 * can be reached with hostile content. */
typedef struct
{
  guint8         sig[64];
  GByteArray    *v;
  EpPresenceItem item;
} Custom;

static void
custom_sign (Custom       *c,
             EpIdentity   *identity,
             gint64        seq,
             const void   *v,
             gsize         v_len)
{
  g_autoptr(GByteArray) message = NULL;

  c->v = g_byte_array_new ();
  g_byte_array_append (c->v, v, v_len);
  message = ep_bep44_signed_string ((const guint8 *) EP_PRESENCE_SALT, EP_PRESENCE_SALT_LEN,
                                    seq, c->v->data, c->v->len);
  ep_identity_sign (identity, message->data, message->len, c->sig);
  memset (&c->item, 0, sizeof c->item);
  c->item.k = ep_identity_get_public_key (identity);
  c->item.k_len = 32;
  c->item.salt = (const guint8 *) EP_PRESENCE_SALT;
  c->item.salt_len = EP_PRESENCE_SALT_LEN;
  c->item.seq = seq;
  c->item.sig = c->sig;
  c->item.sig_len = 64;
  c->item.v = c->v->data;
  c->item.v_len = c->v->len;
}

static EpPresenceRejection
check_custom_v (EpIdentity *identity,
                const void *v,
                gsize       v_len)
{
  Custom c;
  EpPresenceRejection rejection;

  custom_sign (&c, identity, 5, v, v_len);
  rejection = check (&c.item, ep_identity_get_public_key (identity), 0, NOW);
  g_byte_array_unref (c.v);
  return rejection;
}

static void
test_presence_bep44_vector (void)
{
  static const char expected[] = "4:salt6:foobar3:seqi1e1:v12:Hello World!";
  g_autoptr(GByteArray) message = NULL;
  guint8 key[32], target[20], expected_target[20], sig[64];

  message = ep_bep44_signed_string ((const guint8 *) "foobar", 6, 1,
                                    (const guint8 *) VEC_VALUE, strlen (VEC_VALUE));
  g_assert_cmpmem (message->data, message->len, expected, strlen (expected));

  unhex (VEC_KEY, key, 32);
  unhex (VEC_TARGET, expected_target, 20);
  unhex (VEC_SIGNATURE, sig, 64);
  ep_bep44_mutable_target (key, (const guint8 *) "foobar", 6, target);
  g_assert_cmpmem (target, 20, expected_target, 20);
  g_assert_cmpint (crypto_sign_verify_detached (sig, message->data, message->len, key), ==, 0);
}

static void
test_presence_signed_string (void)
{
  g_autoptr(EpIdentity) identity = ep_identity_new_random ();
  g_autoptr(GPtrArray) endpoints = endpoints_new ("127.0.0.1:4000", NULL);
  g_autoptr(EpPresenceRecord) record = NULL;
  g_autoptr(GByteArray) message = NULL;
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  g_autofree char *prefix = NULL;
  guint8 target[20], sha1[20];
  const guint8 *v;
  gsize v_len;

  record = make_record (identity, G_GINT64_CONSTANT (1700000000123456), NOW, endpoints);
  v = g_bytes_get_data (record->v, &v_len);

  /* The exact bytes under the signature: the BEP 44 form with salt "ep1". */
  prefix = g_strdup_printf ("4:salt3:ep13:seqi%" G_GINT64_FORMAT "e1:v", record->seq);
  g_assert_cmpstr (prefix, ==, "4:salt3:ep13:seqi1700000000123456e1:v");
  g_byte_array_append (expected, (const guint8 *) prefix, strlen (prefix));
  g_byte_array_append (expected, v, v_len);
  message = ep_bep44_signed_string ((const guint8 *) "ep1", 3, record->seq, v, v_len);
  g_assert_cmpmem (message->data, message->len, expected->data, expected->len);
  g_assert_cmpint (crypto_sign_verify_detached (record->signature, expected->data, expected->len,
                                                ep_identity_get_public_key (identity)), ==, 0);
  g_assert_true (ep_bep44_verify (record->key, record->signature, (const guint8 *) "ep1", 3,
                                  record->seq, v, v_len));

  /* target = SHA-1 (k ‖ "ep1") */
  {
    g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA1);
    gsize len = 20;

    g_checksum_update (checksum, record->key, 32);
    g_checksum_update (checksum, (const guint8 *) "ep1", 3);
    g_checksum_get_digest (checksum, sha1, &len);
  }
  ep_presence_target (record->key, target);
  g_assert_cmpmem (target, 20, sha1, 20);
}

static void
test_presence_encode_exact (void)
{
  g_autoptr(GPtrArray) endpoints = endpoints_new ("127.0.0.1:4000", "[::1]:4001",
                                                  "10.0.0.2:5", NULL);
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  g_autoptr(GBytes) v = NULL;
  g_autoptr(GError) error = NULL;
  static const guint8 e4[] = { 127, 0, 0, 1, 0x0f, 0xa0, 10, 0, 0, 2, 0, 5 };
  guint8 e6[18] = { 0 };
  guint8 x[32];

  for (guint i = 0; i < 32; i++)
    x[i] = (guint8) (i + 1);
  e6[15] = 1;
  e6[16] = 0x0f;
  e6[17] = 0xa1;

#define APPEND(s) g_byte_array_append (expected, (const guint8 *) s, strlen (s))
  APPEND ("d2:e412:");
  g_byte_array_append (expected, e4, sizeof e4);
  APPEND ("2:e618:");
  g_byte_array_append (expected, e6, sizeof e6);
  APPEND ("3:expi1700007200e2:tsi1700000000e3:veri1e1:x32:");
  g_byte_array_append (expected, x, sizeof x);
  APPEND ("e");
#undef APPEND

  v = ep_presence_value_encode (x, endpoints, NOW, NOW + 7200, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (v, NULL), g_bytes_get_size (v), expected->data, expected->len);
}

static void
test_presence_round_trip (void)
{
  g_autoptr(EpIdentity) identity = ep_identity_new_random ();
  g_autoptr(GPtrArray) endpoints = endpoints_new ("127.0.0.1:4000", "[::1]:4001",
                                                  "127.0.0.2:4002", NULL);
  g_autoptr(EpPresenceRecord) record = NULL;
  g_autoptr(EpPresenceRecord) parsed = NULL;
  g_autoptr(JsonNode) json = NULL;
  g_autofree char *text = NULL;
  EpPresenceRejection rejection = EP_PRESENCE_N_REJECTIONS;
  EpPresenceItem item;
  guint8 target[20];
  static const char *expected[] = { "127.0.0.1:4000", "127.0.0.2:4002", "[::1]:4001" };

  record = make_record (identity, 77, NOW, endpoints);
  item = item_of (record);
  ep_presence_target (ep_identity_get_public_key (identity), target);
  parsed = ep_presence_record_validate (&item, target, 0, NOW, &rejection);
  g_assert_cmpint (rejection, ==, EP_PRESENCE_REJECT_NONE);
  g_assert_nonnull (parsed);

  g_assert_cmpmem (parsed->key, 32, ep_identity_get_public_key (identity), 32);
  g_assert_cmpmem (parsed->value.static_key, 32, ep_identity_get_static_public_key (identity), 32);
  g_assert_cmpint (parsed->seq, ==, 77);
  g_assert_cmpint (parsed->value.timestamp, ==, NOW);
  g_assert_cmpint (parsed->value.expires, ==, NOW + LIFETIME);
  g_assert_cmpint (parsed->value.version, ==, 1);
  g_assert_true (g_bytes_equal (parsed->v, record->v));
  g_assert_cmpuint (parsed->value.endpoints->len, ==, 3);
  /* IPv4 first, then IPv6, each in the order given. */
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *s = g_socket_connectable_to_string (parsed->value.endpoints->pdata[i]);

      g_assert_cmpstr (s, ==, expected[i]);
    }

  json = ep_presence_record_to_json (parsed);
  text = json_to_string (json, FALSE);
  g_test_message ("%s", text);
  g_assert_nonnull (strstr (text, "\"seq\":77"));
  g_assert_nonnull (strstr (text, "\"expires\":1700007200"));
  g_assert_nonnull (strstr (text, "\"endpoints\":[\"127.0.0.1:4000\",\"127.0.0.2:4002\",\"[::1]:4001\"]"));

  /* No endpoints is a valid record too (the X25519 key alone). */
  {
    g_autoptr(EpPresenceRecord) bare = make_record (identity, 78, NOW, NULL);
    EpPresenceItem bare_item = item_of (bare);

    g_assert_cmpint (check (&bare_item, ep_identity_get_public_key (identity), 0, NOW),
                     ==, EP_PRESENCE_REJECT_NONE);
  }
}

static void
test_presence_reject_bad_signature (void)
{
  g_autoptr(EpIdentity) identity = ep_identity_new_random ();
  g_autoptr(EpPresenceRecord) record = make_record (identity, 1000, NOW, NULL);
  const guint8 *key = ep_identity_get_public_key (identity);
  EpPresenceItem item = item_of (record);
  guint8 sig[64];
  g_autoptr(GByteArray) v = g_byte_array_new ();

  g_assert_cmpint (check (&item, key, 0, NOW), ==, EP_PRESENCE_REJECT_NONE);

  /* A flipped bit in the signature, the value or the seq. */
  memcpy (sig, record->signature, 64);
  sig[10] ^= 1;
  item.sig = sig;
  g_assert_cmpint (check (&item, key, 0, NOW), ==, EP_PRESENCE_REJECT_BAD_SIGNATURE);

  item = item_of (record);
  g_byte_array_append (v, item.v, item.v_len);
  v->data[v->len - 5] ^= 1;
  item.v = v->data;
  g_assert_cmpint (check (&item, key, 0, NOW), ==, EP_PRESENCE_REJECT_BAD_SIGNATURE);

  item = item_of (record);
  item.seq = G_MAXINT64;   /* a higher seq does not come with a signature */
  g_assert_cmpint (check (&item, key, 0, NOW), ==, EP_PRESENCE_REJECT_BAD_SIGNATURE);

  /* A signature from somebody else's key over the same bytes. */
  {
    g_autoptr(EpIdentity) other = ep_identity_new_random ();
    g_autoptr(GByteArray) message = NULL;

    item = item_of (record);
    message = ep_bep44_signed_string ((const guint8 *) "ep1", 3, item.seq, item.v, item.v_len);
    ep_identity_sign (other, message->data, message->len, sig);
    item.sig = sig;
    g_assert_cmpint (check (&item, key, 0, NOW), ==, EP_PRESENCE_REJECT_BAD_SIGNATURE);
  }
}

static void
test_presence_reject_wrong_target (void)
{
  g_autoptr(EpIdentity) alice = ep_identity_new_random ();
  g_autoptr(EpIdentity) mallory = ep_identity_new_random ();
  g_autoptr(EpPresenceRecord) forged = NULL;
  EpPresenceItem item;
  Custom c;

  /* Mallory's genuine record, offered for Alice's target (even with a huge seq). */
  forged = make_record (mallory, G_MAXINT64, NOW, NULL);
  item = item_of (forged);
  g_assert_cmpint (check (&item, ep_identity_get_public_key (mallory), 0, NOW),
                   ==, EP_PRESENCE_REJECT_NONE);
  g_assert_cmpint (check (&item, ep_identity_get_public_key (alice), 0, NOW),
                   ==, EP_PRESENCE_REJECT_WRONG_TARGET);

  /* Alice's own key under another salt is stored at another target. */
  {
    g_autoptr(EpPresenceRecord) record = make_record (alice, 10, NOW, NULL);

    item = item_of (record);
    item.salt = (const guint8 *) "ep2";
    g_assert_cmpint (check (&item, ep_identity_get_public_key (alice), 0, NOW),
                     ==, EP_PRESENCE_REJECT_WRONG_TARGET);
    item.salt = NULL;
    item.salt_len = 0;
    g_assert_cmpint (check (&item, ep_identity_get_public_key (alice), 0, NOW),
                     ==, EP_PRESENCE_REJECT_WRONG_TARGET);
  }

  /* The target check comes before the signature: no verify work for it. */
  custom_sign (&c, mallory, 3, "de", 2);
  c.sig[0] ^= 1;
  g_assert_cmpint (check (&c.item, ep_identity_get_public_key (alice), 0, NOW),
                   ==, EP_PRESENCE_REJECT_WRONG_TARGET);
  g_byte_array_unref (c.v);
}

static void
test_presence_reject_expired (void)
{
  g_autoptr(EpIdentity) identity = ep_identity_new_random ();
  g_autoptr(EpPresenceRecord) record = make_record (identity, 1000, NOW, NULL);
  const guint8 *key = ep_identity_get_public_key (identity);
  EpPresenceItem item = item_of (record);

  g_assert_cmpint (check (&item, key, 0, NOW + LIFETIME - 1), ==, EP_PRESENCE_REJECT_NONE);
  g_assert_cmpint (check (&item, key, 0, NOW + LIFETIME), ==, EP_PRESENCE_REJECT_EXPIRED);
  g_assert_cmpint (check (&item, key, 0, NOW + 30 * 86400), ==, EP_PRESENCE_REJECT_EXPIRED);
}

static void
test_presence_reject_from_the_future (void)
{
  g_autoptr(EpIdentity) identity = ep_identity_new_random ();
  const guint8 *key = ep_identity_get_public_key (identity);
  g_autoptr(EpPresenceRecord) ahead = make_record (identity, 1000, NOW + 300, NULL);
  g_autoptr(EpPresenceRecord) too_far = make_record (identity, 1001, NOW + 301, NULL);
  g_autoptr(EpPresenceRecord) far = make_record (identity, 1002, NOW + 86400 * 365, NULL);
  EpPresenceItem item;

  /* Five minutes of clock skew are tolerated, not one second more. */
  item = item_of (ahead);
  g_assert_cmpint (check (&item, key, 0, NOW), ==, EP_PRESENCE_REJECT_NONE);
  item = item_of (too_far);
  g_assert_cmpint (check (&item, key, 0, NOW), ==, EP_PRESENCE_REJECT_FROM_THE_FUTURE);
  item = item_of (far);
  g_assert_cmpint (check (&item, key, 0, NOW), ==, EP_PRESENCE_REJECT_FROM_THE_FUTURE);
  /* …and once that time has come, it is fine. */
  g_assert_cmpint (check (&item, key, 0, NOW + 86400 * 365), ==, EP_PRESENCE_REJECT_NONE);
}

static void
test_presence_reject_rollback (void)
{
  g_autoptr(EpIdentity) identity = ep_identity_new_random ();
  const guint8 *key = ep_identity_get_public_key (identity);
  g_autoptr(EpPresenceRecord) record = make_record (identity, 5000, NOW, NULL);
  EpPresenceItem item = item_of (record);

  g_assert_cmpint (check (&item, key, 0, NOW), ==, EP_PRESENCE_REJECT_NONE);
  g_assert_cmpint (check (&item, key, 5000, NOW), ==, EP_PRESENCE_REJECT_NONE);
  g_assert_cmpint (check (&item, key, 5001, NOW), ==, EP_PRESENCE_REJECT_ROLLBACK);
  g_assert_cmpint (check (&item, key, G_MAXINT64, NOW), ==, EP_PRESENCE_REJECT_ROLLBACK);
}

#define TAIL "3:expi1700007200e2:tsi1700000000e3:veri1e1:x32:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXe"
#define GOOD "d" TAIL

typedef struct
{
  const char *prefix;      /* may hold NUL bytes */
  gsize       prefix_len;
} BadEndpoints;

static EpPresenceRejection
check_prefixed (EpIdentity   *identity,
                const char   *prefix,
                gsize         prefix_len)
{
  g_autoptr(GByteArray) v = g_byte_array_new ();

  g_byte_array_append (v, (const guint8 *) prefix, prefix_len);
  g_byte_array_append (v, (const guint8 *) TAIL, strlen (TAIL));
  return check_custom_v (identity, v->data, v->len);
}

static void
test_presence_reject_malformed (void)
{
  g_autoptr(EpIdentity) identity = ep_identity_new_random ();
  const guint8 *key = ep_identity_get_public_key (identity);
  g_autoptr(EpPresenceRecord) record = make_record (identity, 1000, NOW, NULL);
  EpPresenceItem item;
  g_autoptr(GByteArray) x = g_byte_array_new ();
  guint8 x_key[32];
  /* Values signed correctly by the owner, wrong inside. */
  static const char *bad_values[] = {
    "",                                   /* empty */
    "i5e",                                /* not a dictionary */
    "le",
    "d3:expi1700007200e",                 /* truncated */
    "d3:expi1700007200e2:tsi1700000000e3:veri1ee",                       /* no x */
    "d3:expi1700007200e2:tsi1700000000e3:veri2e1:x32:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXe",  /* version 2 */
    "d3:expi1700007200e2:tsi1700000000e3:veri0e1:x32:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXe",  /* version 0 */
    "d3:expi1700007200e2:tsi1700000000e1:x32:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXe",        /* no ver */
    "d3:expi1700007200e2:tsi1700000000e3:veri1e1:x31:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXe",  /* short x */
    "d3:expi1700007200e2:tsi1700000000e3:veri1e1:x33:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXe", /* long x */
    "d3:expi1700007200e2:tsi1700000000e3:veri1e1:xi5ee",                  /* x not bytes */
    "d3:expi1700007200e2:ts3:abc3:veri1e1:x32:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXe",        /* ts not int */
    "d2:tsi1700000000e3:veri1e1:x32:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXe",  /* no exp */
    "d3:expi1700000000e2:tsi1700000000e3:veri1e1:x32:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXe",  /* exp = ts */
    "d3:expi1800000000e2:tsi1700000000e3:veri1e1:x32:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXe",  /* lives too long */
    "d3:expi1e2:tsi0e3:veri1e1:x32:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXe",                    /* ts 0 */
    "d2:tsi1700000000e3:expi1700007200e3:veri1e1:x32:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXe",  /* unsorted */
    "d3:expi1700007200e3:expi1700007200e2:tsi1700000000e3:veri1e1:x32:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXe", /* repeated */
    GOOD " ",                             /* trailing bytes */
    "d3:expi17000072000000000000000000000e2:tsi1700000000e3:veri1e1:x32:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXe", /* overflow */
  };
  static const BadEndpoints bad_endpoints[] = {
    { "d2:e4i1e", 8 },                                               /* not bytes */
    { "d2:e47:\x7f\x00\x00\x01\x0f\xa0\x01", 14 },                  /* 7 bytes */
    { "d2:e46:\x7f\x00\x00\x01\x00\x00", 13 },                       /* port 0 */
    { "d2:e46:\x00\x00\x00\x00\x0f\xa0", 13 },                       /* 0.0.0.0 */
    { "d2:e46:\x00\x01\x02\x03\x0f\xa0", 13 },                       /* 0.0.0.0/8 */
    { "d2:e46:\xe0\x00\x00\x01\x0f\xa0", 13 },                       /* multicast */
    { "d2:e46:\xff\xff\xff\xff\x0f\xa0", 13 },                       /* broadcast */
    { "d2:e412:\x7f\x00\x00\x01\x0f\xa0\x7f\x00\x00\x01\x0f\xa0", 20 }, /* repeated */
    { "d2:e612:\x7f\x00\x00\x01\x0f\xa0\x7f\x00\x00\x01\x0f\xa1", 20 }, /* IPv4 in e6 */
    { "d2:e454:" "\x7f\x00\x00\x01\x0f\xa0\x7f\x00\x00\x01\x0f\xa1\x7f\x00\x00\x01\x0f\xa2"
      "\x7f\x00\x00\x01\x0f\xa3\x7f\x00\x00\x01\x0f\xa4\x7f\x00\x00\x01\x0f\xa5"
      "\x7f\x00\x00\x01\x0f\xa6\x7f\x00\x00\x01\x0f\xa7\x7f\x00\x00\x01\x0f\xa8", 62 }, /* 9 of them */
    { "d2:e618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x7f\x00\x00\x01\x0f\xa0", 26 }, /* v4-mapped */
    { "d2:e618:\xff\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x0f\xa0", 26 }, /* v6 multicast */
    { "d2:e618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0f\xa0", 26 }, /* :: */
    { "d2:e617:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x0f", 25 }, /* 17 bytes */
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad_values); i++)
    {
      g_test_message ("bad value %u", i);
      g_assert_cmpint (check_custom_v (identity, bad_values[i], strlen (bad_values[i])), ==,
                       EP_PRESENCE_REJECT_MALFORMED);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_endpoints); i++)
    {
      g_test_message ("bad endpoints %u", i);
      g_assert_cmpint (check_prefixed (identity, bad_endpoints[i].prefix,
                                       bad_endpoints[i].prefix_len), ==,
                       EP_PRESENCE_REJECT_MALFORMED);
    }

  /* The same shapes with good fields are accepted, so the cases above are
   * refused for the reason each one names. */
  g_assert_cmpint (check_custom_v (identity, GOOD, strlen (GOOD)), ==, EP_PRESENCE_REJECT_NONE);
  g_assert_cmpint (check_prefixed (identity, "d2:e46:\x7f\x00\x00\x01\x0f\xa0", 13), ==,
                   EP_PRESENCE_REJECT_NONE);
  g_assert_cmpint (check_prefixed (identity, "d2:e618:\x20\x01\x0d\xb8\x00\x00\x00\x00"
                                   "\x00\x00\x00\x00\x00\x00\x00\x01\x0f\xa0", 26), ==,
                   EP_PRESENCE_REJECT_NONE);
  /* Unknown keys are ignored (room to grow within version 1). */
  {
    static const char extra[] = "d3:expi1700007200e2:tsi1700000000e3:veri1e1:x32:"
                                "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX1:zli1eee";

    g_assert_cmpint (check_custom_v (identity, extra, strlen (extra)), ==,
                     EP_PRESENCE_REJECT_NONE);
  }

  /* An all-zero X25519 key. */
  memset (x_key, 0, sizeof x_key);
  g_byte_array_append (x, (const guint8 *) "d3:expi1700007200e2:tsi1700000000e3:veri1e1:x32:", 48);
  g_byte_array_append (x, x_key, 32);
  g_byte_array_append (x, (const guint8 *) "e", 1);
  g_assert_cmpint (check_custom_v (identity, x->data, x->len), ==, EP_PRESENCE_REJECT_MALFORMED);

  /* Item shapes. */
  item = item_of (record);
  item.k_len = 31;
  g_assert_cmpint (check (&item, key, 0, NOW), ==, EP_PRESENCE_REJECT_MALFORMED);
  item = item_of (record);
  item.sig_len = 63;
  g_assert_cmpint (check (&item, key, 0, NOW), ==, EP_PRESENCE_REJECT_MALFORMED);
  item = item_of (record);
  item.sig_len = 65;
  g_assert_cmpint (check (&item, key, 0, NOW), ==, EP_PRESENCE_REJECT_MALFORMED);
  item = item_of (record);
  item.seq = -1;
  g_assert_cmpint (check (&item, key, 0, NOW), ==, EP_PRESENCE_REJECT_MALFORMED);
  item = item_of (record);
  item.v = NULL;
  g_assert_cmpint (check (&item, key, 0, NOW), ==, EP_PRESENCE_REJECT_MALFORMED);
  item = item_of (record);
  item.k = NULL;
  g_assert_cmpint (check (&item, key, 0, NOW), ==, EP_PRESENCE_REJECT_MALFORMED);
}

static void
test_presence_size_limit (void)
{
  g_autoptr(EpIdentity) identity = ep_identity_new_random ();
  g_autoptr(GByteArray) v = g_byte_array_new ();
  g_autoptr(GPtrArray) many = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) encoded = NULL;
  g_autofree char *pad = NULL;
  static const char head[] = "d3:expi1700007200e2:tsi1700000000e3:veri1e1:x32:"
                             "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";
  gsize pad_len;
  char prefix[32];

  /* An unknown key padded so that v is exactly 750 bytes: accepted. */
  pad_len = EP_PRESENCE_MAX_V - (strlen (head) + strlen ("1:z") + strlen ("e"));
  pad_len -= (gsize) g_snprintf (prefix, sizeof prefix, "%" G_GSIZE_FORMAT ":", pad_len);
  g_snprintf (prefix, sizeof prefix, "%" G_GSIZE_FORMAT ":", pad_len);
  pad = g_strnfill (pad_len, 'p');
  g_byte_array_append (v, (const guint8 *) head, strlen (head));
  g_byte_array_append (v, (const guint8 *) "1:z", 3);
  g_byte_array_append (v, (const guint8 *) prefix, strlen (prefix));
  g_byte_array_append (v, (const guint8 *) pad, pad_len);
  g_byte_array_append (v, (const guint8 *) "e", 1);
  g_assert_cmpuint (v->len, ==, EP_PRESENCE_MAX_V);
  g_assert_cmpint (check_custom_v (identity, v->data, v->len), ==, EP_PRESENCE_REJECT_NONE);

  /* One byte more: refused, though BEP 44 itself would allow 1000. */
  g_byte_array_set_size (v, 0);
  g_snprintf (prefix, sizeof prefix, "%" G_GSIZE_FORMAT ":", pad_len + 1);
  g_free (pad);
  pad = g_strnfill (pad_len + 1, 'p');
  g_byte_array_append (v, (const guint8 *) head, strlen (head));
  g_byte_array_append (v, (const guint8 *) "1:z", 3);
  g_byte_array_append (v, (const guint8 *) prefix, strlen (prefix));
  g_byte_array_append (v, (const guint8 *) pad, pad_len + 1);
  g_byte_array_append (v, (const guint8 *) "e", 1);
  g_assert_cmpuint (v->len, ==, EP_PRESENCE_MAX_V + 1);
  g_assert_cmpint (check_custom_v (identity, v->data, v->len), ==, EP_PRESENCE_REJECT_MALFORMED);

  /* The most endpoints we publish fit well within the limit… */
  add_most_endpoints (many);
  encoded = ep_presence_value_encode (ep_identity_get_static_public_key (identity), many,
                                      NOW, NOW + 60, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (encoded), <=, EP_PRESENCE_MAX_V);
  g_test_message ("largest v: %" G_GSIZE_FORMAT " bytes", g_bytes_get_size (encoded));

  /* …and one more is refused. */
  {
    g_autoptr(GInetAddress) a = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
    g_autoptr(GBytes) none = NULL;

    g_ptr_array_add (many, g_inet_socket_address_new (a, 3000));
    none = ep_presence_value_encode (ep_identity_get_static_public_key (identity), many,
                                     NOW, NOW + 60, &error);
    g_assert_null (none);
    g_assert_error (error, EP_PRESENCE_RECORD_ERROR, EP_PRESENCE_RECORD_ERROR_TOO_MANY);
  }
}

static void
assert_build_fails (EpIdentity *identity,
                    EpHlc      *hlc,
                    GPtrArray  *endpoints,
                    gint64      now,
                    gint64      lifetime,
                    GQuark      domain,
                    int         code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpPresenceRecord) record = NULL;

  record = ep_presence_record_new_signed (identity, hlc, endpoints, now, lifetime, &error);
  g_assert_null (record);
  g_assert_error (error, domain, code);
  g_test_message ("%s", error->message);
}

static void
test_presence_build_errors (void)
{
  g_autoptr(EpIdentity) identity = ep_identity_new_random ();
  g_autoptr(GPtrArray) port0 = endpoints_new ("127.0.0.1:0", NULL);
  g_autoptr(GPtrArray) any = endpoints_new ("0.0.0.0:4000", NULL);
  g_autoptr(GPtrArray) any6 = endpoints_new ("[::]:4000", NULL);
  g_autoptr(GPtrArray) multicast = endpoints_new ("224.0.0.1:4000", NULL);
  g_autoptr(GPtrArray) mapped = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) twice = endpoints_new ("127.0.0.1:4000", "127.0.0.1:4000", NULL);
  FakeClock clock = { 500 };
  EpHlc hlc;
  GQuark domain = EP_PRESENCE_RECORD_ERROR;

  /* GLib turns "::ffff:127.0.0.1" into 127.0.0.1; made from bytes it stays IPv6. */
  {
    static const guint8 bytes[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1 };
    g_autoptr(GInetAddress) inet = g_inet_address_new_from_bytes (bytes, G_SOCKET_FAMILY_IPV6);

    g_ptr_array_add (mapped, g_inet_socket_address_new (inet, 4000));
  }

  ep_hlc_init (&hlc, 0, fake_clock, &clock);
  assert_build_fails (identity, &hlc, port0, NOW, LIFETIME, domain, EP_PRESENCE_RECORD_ERROR_ENDPOINT);
  assert_build_fails (identity, &hlc, any, NOW, LIFETIME, domain, EP_PRESENCE_RECORD_ERROR_ENDPOINT);
  assert_build_fails (identity, &hlc, any6, NOW, LIFETIME, domain, EP_PRESENCE_RECORD_ERROR_ENDPOINT);
  assert_build_fails (identity, &hlc, multicast, NOW, LIFETIME, domain, EP_PRESENCE_RECORD_ERROR_ENDPOINT);
  assert_build_fails (identity, &hlc, mapped, NOW, LIFETIME, domain, EP_PRESENCE_RECORD_ERROR_ENDPOINT);
  assert_build_fails (identity, &hlc, twice, NOW, LIFETIME, domain, EP_PRESENCE_RECORD_ERROR_ENDPOINT);
  assert_build_fails (identity, &hlc, NULL, NOW, 0, domain, EP_PRESENCE_RECORD_ERROR_INVALID);
  assert_build_fails (identity, &hlc, NULL, NOW, EP_PRESENCE_MAX_LIFETIME + 1, domain,
                      EP_PRESENCE_RECORD_ERROR_INVALID);
  assert_build_fails (identity, &hlc, NULL, 0, LIFETIME, domain, EP_PRESENCE_RECORD_ERROR_INVALID);
  /* None of the failures used up a seq. */
  g_assert_cmpint (ep_hlc_get_last (&hlc), ==, 0);

  /* An exhausted clock: no record, never a wrapped seq. */
  ep_hlc_init (&hlc, G_MAXINT64, fake_clock, &clock);
  assert_build_fails (identity, &hlc, NULL, NOW, LIFETIME, EP_HLC_ERROR, EP_HLC_ERROR_EXHAUSTED);
}

static void
test_presence_seq_grows (void)
{
  g_autoptr(EpIdentity) identity = ep_identity_new_random ();
  g_autoptr(GError) error = NULL;
  FakeClock clock = { G_GINT64_CONSTANT (1700000000000000) };
  gint64 previous = 0;
  EpHlc hlc;

  ep_hlc_init (&hlc, 0, fake_clock, &clock);
  for (guint i = 0; i < 4; i++)
    {
      g_autoptr(EpPresenceRecord) record = NULL;

      record = ep_presence_record_new_signed (identity, &hlc, NULL, NOW, LIFETIME, &error);
      g_assert_no_error (error);
      g_assert_cmpint (record->seq, >, previous);
      previous = record->seq;
      clock.now_us -= G_GINT64_CONSTANT (3600000000);   /* the clock goes back an hour */
    }
}

static void
test_presence_chooser (void)
{
  g_autoptr(EpIdentity) alice = ep_identity_new_random ();
  g_autoptr(EpIdentity) mallory = ep_identity_new_random ();
  g_autoptr(EpPresenceChooser) chooser = NULL;
  g_autoptr(EpPresenceRecord) oldest = make_record (alice, 100, NOW, NULL);
  g_autoptr(EpPresenceRecord) middle = make_record (alice, 200, NOW, NULL);
  g_autoptr(EpPresenceRecord) newest = make_record (alice, 300, NOW, NULL);
  g_autoptr(EpPresenceRecord) expired = make_record (alice, 400, NOW - LIFETIME - 10, NULL);
  g_autoptr(EpPresenceRecord) future = make_record (alice, 500, NOW + 3600, NULL);
  g_autoptr(EpPresenceRecord) other = make_record (mallory, G_MAXINT64, NOW, NULL);
  g_autoptr(EpPresenceRecord) best = NULL;
  const EpPresenceCounters *counters;
  EpPresenceCounters total = { 0 };
  EpPresenceItem forged, malformed, item;
  guint8 target[20], bad_sig[64];

  ep_presence_target (ep_identity_get_public_key (alice), target);
  chooser = ep_presence_chooser_new (target, 150, NOW);

  forged = item_of (newest);
  forged.seq = 10000;     /* a higher seq, but not signed */
  memcpy (bad_sig, newest->signature, 64);
  forged.sig = bad_sig;
  malformed = item_of (newest);
  malformed.k_len = 0;

  item = item_of (middle);
  g_assert_cmpint (ep_presence_chooser_offer (chooser, &item), ==, EP_PRESENCE_REJECT_NONE);
  g_assert_cmpint (ep_presence_chooser_offer (chooser, &forged), ==, EP_PRESENCE_REJECT_BAD_SIGNATURE);
  item = item_of (oldest);
  g_assert_cmpint (ep_presence_chooser_offer (chooser, &item), ==, EP_PRESENCE_REJECT_ROLLBACK);
  item = item_of (newest);
  g_assert_cmpint (ep_presence_chooser_offer (chooser, &item), ==, EP_PRESENCE_REJECT_NONE);
  item = item_of (middle);      /* offered again by another node */
  g_assert_cmpint (ep_presence_chooser_offer (chooser, &item), ==, EP_PRESENCE_REJECT_NONE);
  item = item_of (expired);
  g_assert_cmpint (ep_presence_chooser_offer (chooser, &item), ==, EP_PRESENCE_REJECT_EXPIRED);
  item = item_of (future);
  g_assert_cmpint (ep_presence_chooser_offer (chooser, &item), ==, EP_PRESENCE_REJECT_FROM_THE_FUTURE);
  item = item_of (other);
  g_assert_cmpint (ep_presence_chooser_offer (chooser, &item), ==, EP_PRESENCE_REJECT_WRONG_TARGET);
  g_assert_cmpint (ep_presence_chooser_offer (chooser, &malformed), ==, EP_PRESENCE_REJECT_MALFORMED);
  g_assert_cmpint (ep_presence_chooser_offer (chooser, &forged), ==, EP_PRESENCE_REJECT_BAD_SIGNATURE);

  g_assert_cmpint (ep_presence_chooser_get_best (chooser)->seq, ==, 300);
  counters = ep_presence_chooser_get_counters (chooser);
  g_assert_cmpuint (counters->offered, ==, 10);
  g_assert_cmpuint (counters->valid, ==, 3);
  g_assert_cmpuint (counters->superseded, ==, 2);
  g_assert_cmpuint (counters->rejected[EP_PRESENCE_REJECT_NONE], ==, 0);
  g_assert_cmpuint (counters->rejected[EP_PRESENCE_REJECT_BAD_SIGNATURE], ==, 2);
  g_assert_cmpuint (counters->rejected[EP_PRESENCE_REJECT_WRONG_TARGET], ==, 1);
  g_assert_cmpuint (counters->rejected[EP_PRESENCE_REJECT_EXPIRED], ==, 1);
  g_assert_cmpuint (counters->rejected[EP_PRESENCE_REJECT_FROM_THE_FUTURE], ==, 1);
  g_assert_cmpuint (counters->rejected[EP_PRESENCE_REJECT_ROLLBACK], ==, 1);
  g_assert_cmpuint (counters->rejected[EP_PRESENCE_REJECT_MALFORMED], ==, 1);

  ep_presence_counters_add (&total, counters);
  ep_presence_counters_add (&total, counters);
  g_assert_cmpuint (total.offered, ==, 20);
  g_assert_cmpuint (total.rejected[EP_PRESENCE_REJECT_BAD_SIGNATURE], ==, 4);

  best = ep_presence_chooser_steal_best (chooser);
  g_assert_cmpint (best->seq, ==, 300);
  g_assert_true (g_bytes_equal (best->v, newest->v));
  g_assert_null (ep_presence_chooser_get_best (chooser));

  /* Nothing valid at all: no record. */
  {
    g_autoptr(EpPresenceChooser) empty = ep_presence_chooser_new (target, 0, NOW);

    g_assert_cmpint (ep_presence_chooser_offer (empty, &forged), ==, EP_PRESENCE_REJECT_BAD_SIGNATURE);
    g_assert_null (ep_presence_chooser_get_best (empty));
  }

  g_assert_cmpstr (ep_presence_rejection_to_string (EP_PRESENCE_REJECT_FROM_THE_FUTURE),
                   ==, "from-the-future");
  g_assert_cmpstr (ep_presence_rejection_to_string (EP_PRESENCE_REJECT_BAD_SIGNATURE),
                   ==, "bad-signature");
}

/* Relays ride in the record: read back, bounded, and the whole put of the
 * largest record still fits in a datagram of 1000 bytes. */
static void
test_presence_relays (void)
{
  g_autoptr(EpIdentity) identity = ep_identity_new_random ();
  g_autoptr(GPtrArray) many = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) relays =
    g_ptr_array_new_with_free_func ((GDestroyNotify) ep_presence_relay_free);
  g_autoptr(GPtrArray) two = endpoints_new ("192.0.2.1:8080", "[2001:db8::1]:8081", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpPresenceRecord) record = NULL;
  g_autoptr(EpPresenceRecord) valid = NULL;
  g_autoptr(GByteArray) put = g_byte_array_new ();
  g_autoptr(JsonNode) json = NULL;
  EpPresenceRejection rejection;
  EpPresenceItem item;
  EpKrpcMsg msg = { 0 };
  FakeClock clock = { 1000 };
  guint8 target[20], k1[32], k2[32];
  EpHlc hlc;

  memset (k1, 0x11, 32);
  memset (k2, 0x22, 32);
  g_ptr_array_add (relays, ep_presence_relay_new (k1, two->pdata[0]));
  g_ptr_array_add (relays, ep_presence_relay_new (k2, two->pdata[1]));
  add_most_endpoints (many);

  ep_hlc_init (&hlc, 0, fake_clock, &clock);
  record = ep_presence_record_new_signed_full (identity, &hlc, many, relays,
                                               EP_PRESENCE_REACHABILITY_NAT, NOW, LIFETIME,
                                               &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (record->v), <=, EP_PRESENCE_MAX_V);
  g_assert_cmpuint (record->value.relays->len, ==, 2);
  g_assert_cmpint (record->value.reachability, ==, EP_PRESENCE_REACHABILITY_NAT);

  /* The put a node sends for it, with the longest token and tid we use. */
  msg.kind = EP_KRPC_QUERY;
  msg.method = EP_KRPC_PUT;
  msg.tid_len = 4;
  msg.token = (const guint8 *) "0123456789abcdef0123456789abcdef";
  msg.token_len = 32;
  msg.has_seq = TRUE;
  msg.seq = G_MAXINT64;
  msg.has_cas = TRUE;
  msg.cas = G_MAXINT64;
  msg.v = g_bytes_get_data (record->v, &msg.v_len);
  msg.has_k = TRUE;
  memcpy (msg.k, record->key, 32);
  memcpy (msg.sig, record->signature, 64);
  msg.salt = (const guint8 *) EP_PRESENCE_SALT;
  msg.salt_len = EP_PRESENCE_SALT_LEN;
  ep_krpc_encode (&msg, put);
  g_test_message ("largest v with relays: %" G_GSIZE_FORMAT " bytes, its put %u bytes",
                  g_bytes_get_size (record->v), put->len);
  g_assert_cmpuint (put->len, <=, 1000);

  /* A reader gets them back, keys and endpoints. */
  item = item_of (record);
  ep_presence_target (record->key, target);
  valid = ep_presence_record_validate (&item, target, 0, NOW, &rejection);
  g_assert_cmpint (rejection, ==, EP_PRESENCE_REJECT_NONE);
  g_assert_cmpuint (valid->value.relays->len, ==, 2);
  g_assert_cmpmem (((EpPresenceRelay *) valid->value.relays->pdata[0])->key, 32, k1, 32);
  g_assert_cmpmem (((EpPresenceRelay *) valid->value.relays->pdata[1])->key, 32, k2, 32);
  {
    EpPresenceRelay *second = valid->value.relays->pdata[1];

    g_assert_cmpuint (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (second->address)),
                      ==, 8081);
  }
  json = ep_presence_record_to_json (valid);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                      json_node_get_object (json), "relays")), ==, 2);

  /* A record without relays reads as none. */
  {
    g_autoptr(EpPresenceRecord) bare = make_record (identity, 2000, NOW, two);

    g_assert_nonnull (bare->value.relays);
    g_assert_cmpuint (bare->value.relays->len, ==, 0);
  }

  /* Three are too many to write… */
  g_ptr_array_add (relays, ep_presence_relay_new (k1, two->pdata[1]));
  g_assert_null (ep_presence_value_encode_full (ep_identity_get_static_public_key (identity),
                                                two, relays, EP_PRESENCE_REACHABILITY_UNKNOWN,
                                                NOW, NOW + 60, &error));
  g_assert_error (error, EP_PRESENCE_RECORD_ERROR, EP_PRESENCE_RECORD_ERROR_TOO_MANY);
  g_clear_error (&error);

  /* …and a reader keeps the first two well-formed ones, skipping junk. */
  {
    g_autoptr(GByteArray) v = g_byte_array_new ();
    EpPresenceValue value;
    guint8 entry[38];

    g_byte_array_append (v, (const guint8 *) "d2:e46:", 7);
    g_byte_array_append (v, (const guint8 *) "\x7f\x00\x00\x01\x0f\xa0", 6);
    g_byte_array_append (v, (const guint8 *) "3:expi1700007200e1:rl", 21);
    g_byte_array_append (v, (const guint8 *) "i5e", 3);                 /* not bytes */
    g_byte_array_append (v, (const guint8 *) "37:", 3);                 /* short */
    g_byte_array_append (v, k1, 32);
    g_byte_array_append (v, (const guint8 *) "\xc0\x00\x02\x01\x1f", 5);
    memcpy (entry, k2, 32);
    memcpy (entry + 32, "\xc0\x00\x02\x01\x00\x00", 6);            /* port 0 */
    g_byte_array_append (v, (const guint8 *) "38:", 3);
    g_byte_array_append (v, entry, 38);
    for (guint i = 0; i < 3; i++)
      {
        memset (entry, 0x30 + i, 32);
        memcpy (entry + 32, "\xc0\x00\x02\x01\x1f\x90", 6);
        g_byte_array_append (v, (const guint8 *) "38:", 3);
        g_byte_array_append (v, entry, 38);
      }
    g_byte_array_append (v, (const guint8 *) "e2:tsi1700000000e3:veri1e1:x32:", 31);
    g_byte_array_append (v, k2, 32);
    g_byte_array_append (v, (const guint8 *) "e", 1);

    g_assert_true (ep_presence_value_parse (v->data, v->len, &value));
    g_assert_cmpuint (value.endpoints->len, ==, 1);
    g_assert_cmpuint (value.relays->len, ==, EP_PRESENCE_MAX_RELAYS);
    g_assert_cmpuint (((EpPresenceRelay *) value.relays->pdata[0])->key[0], ==, 0x30);
    g_assert_cmpuint (((EpPresenceRelay *) value.relays->pdata[1])->key[0], ==, 0x31);
    ep_presence_value_clear (&value);
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/ep/presence-record/bep44-vector", test_presence_bep44_vector);
  g_test_add_func ("/ep/presence-record/signed-string", test_presence_signed_string);
  g_test_add_func ("/ep/presence-record/encode-exact", test_presence_encode_exact);
  g_test_add_func ("/ep/presence-record/round-trip", test_presence_round_trip);
  g_test_add_func ("/ep/presence-record/reject-bad-signature", test_presence_reject_bad_signature);
  g_test_add_func ("/ep/presence-record/reject-wrong-target", test_presence_reject_wrong_target);
  g_test_add_func ("/ep/presence-record/reject-expired", test_presence_reject_expired);
  g_test_add_func ("/ep/presence-record/reject-from-the-future", test_presence_reject_from_the_future);
  g_test_add_func ("/ep/presence-record/reject-rollback", test_presence_reject_rollback);
  g_test_add_func ("/ep/presence-record/reject-malformed", test_presence_reject_malformed);
  g_test_add_func ("/ep/presence-record/size-limit", test_presence_size_limit);
  g_test_add_func ("/ep/presence-record/build-errors", test_presence_build_errors);
  g_test_add_func ("/ep/presence-record/seq-grows", test_presence_seq_grows);
  g_test_add_func ("/ep/presence-record/chooser", test_presence_chooser);
  g_test_add_func ("/ep/presence-record/relays", test_presence_relays);

  return g_test_run ();
}
