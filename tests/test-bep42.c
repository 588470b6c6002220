/* test-bep42.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <sodium.h>
#include <string.h>

#include "ep-core.h"

typedef struct
{
  const char *ip;
  guint8      r;
  const char *id;
} Vector;

/* BEP 42, "test vectors". */
static const Vector vectors[] = {
  { "124.31.75.21", 1, "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401" },
  { "21.75.31.124", 86, "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256" },
  { "65.23.51.170", 22, "a5d43220bc8f112a3d426c84764f8c2a1150e616" },
  { "84.124.73.14", 65, "1b0321dd1bb1fe518101ceef99462b947a01ff41" },
  { "43.213.53.83", 90, "e56f6cbf5b7c4be0237986d5243b87aa6d51305a" },
};

static void
unhex (const char *hex,
       guint8      out[20])
{
  gsize len = 0;

  g_assert_cmpint (sodium_hex2bin (out, 20, hex, strlen (hex), NULL, &len, NULL), ==, 0);
  g_assert_cmpuint (len, ==, 20);
}

static void
test_bep42_crc32c (void)
{
  g_assert_cmphex (ep_crc32c (0, "123456789", 9), ==, 0xe3069283);
  g_assert_cmphex (ep_crc32c (0, NULL, 0), ==, 0);
  /* Incremental. */
  g_assert_cmphex (ep_crc32c (ep_crc32c (0, "1234", 4), "56789", 5), ==, 0xe3069283);
}

static void
test_bep42_vectors (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autoptr(GInetAddress) ip = g_inet_address_new_from_string (vectors[i].ip);
      guint8 expected[20], id[20];

      unhex (vectors[i].id, expected);

      /* The random parts as in the example; the rest scrambled. */
      memcpy (id, expected, 20);
      id[0] ^= 0xff;
      id[1] ^= 0x5a;
      id[2] ^= 0xf8;
      id[19] = 0;
      ep_bep42_make_id (ip, vectors[i].r, id);
      g_assert_cmpmem (id, 20, expected, 20);

      g_assert_true (ep_bep42_id_matches (ip, expected));
      g_assert_false (ep_bep42_is_exempt (ip));

      /* Any bit of the 21-bit prefix breaks the match… */
      for (guint bit = 0; bit < 21; bit++)
        {
          memcpy (id, expected, 20);
          id[bit / 8] ^= 0x80 >> (bit % 8);
          g_assert_false (ep_bep42_id_matches (ip, id));
        }
      /* …the random bits do not, nor do the high bits of r… */
      memcpy (id, expected, 20);
      id[2] ^= 0x07;
      id[10] ^= 0xff;
      id[19] ^= 0xf8;
      g_assert_true (ep_bep42_id_matches (ip, id));
      /* …but the low 3 bits of r do. */
      id[19] ^= 0x01;
      g_assert_false (ep_bep42_id_matches (ip, id));
    }
}

static void
test_bep42_other_ip (void)
{
  g_autoptr(GInetAddress) ip = g_inet_address_new_from_string ("124.31.75.21");
  /* Differs in the last octet, which counts in full. */
  g_autoptr(GInetAddress) other = g_inet_address_new_from_string ("124.31.75.22");
  /* Differs only in bits the v4 mask drops (top 6 bits of the first octet). */
  g_autoptr(GInetAddress) masked = g_inet_address_new_from_string ("252.31.75.21");
  guint8 id[20];

  ep_bep42_generate_id (ip, id);
  g_assert_true (ep_bep42_id_matches (ip, id));
  g_assert_false (ep_bep42_id_matches (other, id));
  g_assert_true (ep_bep42_id_matches (masked, id));
}

static void
test_bep42_generate (void)
{
  g_autoptr(GInetAddress) v4 = g_inet_address_new_from_string ("203.0.113.7");
  g_autoptr(GInetAddress) mapped = g_inet_address_new_from_string ("::ffff:203.0.113.7");
  g_autoptr(GInetAddress) v6 = g_inet_address_new_from_string ("2001:db8:1234:5678:9abc::1");
  /* Only the first 8 bytes of an IPv6 address count. */
  g_autoptr(GInetAddress) v6_same64 = g_inet_address_new_from_string ("2001:db8:1234:5678::ffff");
  g_autoptr(GInetAddress) v6_other = g_inet_address_new_from_string ("2001:db8:1234:5679::1");
  guint8 a[20], b[20];

  ep_bep42_generate_id (v4, a);
  ep_bep42_generate_id (v4, b);
  g_assert_true (ep_bep42_id_matches (v4, a));
  g_assert_true (ep_bep42_id_matches (mapped, a));
  g_assert_false (memcmp (a, b, 20) == 0);

  ep_bep42_generate_id (mapped, a);
  g_assert_true (ep_bep42_id_matches (v4, a));

  ep_bep42_generate_id (v6, a);
  g_assert_true (ep_bep42_id_matches (v6, a));
  g_assert_true (ep_bep42_id_matches (v6_same64, a));
  g_assert_false (ep_bep42_id_matches (v6_other, a));
  g_assert_false (ep_bep42_id_matches (v4, a));
}

static void
test_bep42_exempt (void)
{
  static const char *exempt[] = {
    "127.0.0.1", "127.255.1.2", "10.0.0.1", "10.255.255.255", "172.16.0.1",
    "172.31.255.254", "192.168.1.1", "169.254.10.10", "100.64.0.1", "100.127.255.255",
    "::1", "fc00::1", "fdab:cdef::1", "fe80::1", "febf::1", "::ffff:192.168.0.1",
    "::ffff:127.0.0.1",
  };
  static const char *not_exempt[] = {
    "8.8.8.8", "11.0.0.1", "172.15.255.255", "172.32.0.1", "192.167.1.1", "192.169.0.1",
    "169.253.1.1", "100.63.255.255", "100.128.0.1", "126.255.255.255", "128.0.0.1",
    "2001:db8::1", "fe00::1", "fec0::1", "fb00::1", "::2", "::ffff:8.8.8.8", "2a00::1",
  };

  for (guint i = 0; i < G_N_ELEMENTS (exempt); i++)
    {
      g_autoptr(GInetAddress) ip = g_inet_address_new_from_string (exempt[i]);
      g_assert_nonnull (ip);
      if (!ep_bep42_is_exempt (ip))
        g_error ("%s should be exempt", exempt[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (not_exempt); i++)
    {
      g_autoptr(GInetAddress) ip = g_inet_address_new_from_string (not_exempt[i]);
      g_assert_nonnull (ip);
      if (ep_bep42_is_exempt (ip))
        g_error ("%s should not be exempt", not_exempt[i]);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/bep42/crc32c", test_bep42_crc32c);
  g_test_add_func ("/ep/bep42/vectors", test_bep42_vectors);
  g_test_add_func ("/ep/bep42/other-ip", test_bep42_other_ip);
  g_test_add_func ("/ep/bep42/generate", test_bep42_generate);
  g_test_add_func ("/ep/bep42/exempt", test_bep42_exempt);

  return g_test_run ();
}
