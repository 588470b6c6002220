/* ep-bep42.c — BEP 42 node IDs bound to the node's external IP
 *
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack socket
 * reports IPv4 peers) is treated as the IPv4 address it carries.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <sodium.h>
#include <string.h>

#include "ep-bep42.h"

#define CRC32C_POLY 0x82f63b78u  /* 0x1edc6f41 reflected */

static guint32 crc32c_table[256];

static void
crc32c_init_table (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      for (guint32 i = 0; i < 256; i++)
        {
          guint32 c = i;

          for (guint bit = 0; bit < 8; bit++)
            c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
          crc32c_table[i] = c;
        }
      g_once_init_leave (&initialized, 1);
    }
}

guint32
ep_crc32c (guint32     crc,
           const void *data,
           gsize       len)
{
  const guint8 *p = data;

  g_return_val_if_fail (data != NULL || len == 0, crc);

  crc32c_init_table ();
  crc = ~crc;
  for (gsize i = 0; i < len; i++)
    crc = crc32c_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

/* The address bytes, IPv4-mapped IPv6 unwrapped; returns 4 or 16. */
static gsize
address_bytes (GInetAddress *ip,
               guint8        out[16])
{
  static const guint8 v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  gsize size = g_inet_address_get_native_size (ip);
  const guint8 *bytes = g_inet_address_to_bytes (ip);

  if (size == 16 && memcmp (bytes, v4_mapped, sizeof v4_mapped) == 0)
    {
      memcpy (out, bytes + 12, 4);
      return 4;
    }

  g_assert (size == 4 || size == 16);
  memcpy (out, bytes, size);
  return size;
}

/* The top 21 bits of the ID, as a CRC32-C of the masked address. */
static guint32
id_prefix (GInetAddress *ip,
           guint8        r)
{
  static const guint8 v4_mask[4] = { 0x03, 0x0f, 0x3f, 0xff };
  static const guint8 v6_mask[8] = { 0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff };
  guint8 bytes[16];
  gsize n = address_bytes (ip, bytes) == 4 ? 4 : 8;
  const guint8 *mask = n == 4 ? v4_mask : v6_mask;

  for (gsize i = 0; i < n; i++)
    bytes[i] &= mask[i];
  bytes[0] |= (r & 7) << 5;

  return ep_crc32c (0, bytes, n);
}

/**
 * ep_bep42_make_id:
 * @ip: our external address
 * @r: the random byte that ends the ID (its low 3 bits enter the hash)
 * @id: (inout): a node ID whose bytes 2 (low 3 bits) to 18 are kept
 */
void
ep_bep42_make_id (GInetAddress *ip,
                  guint8        r,
                  guint8        id[20])
{
  guint32 crc;

  g_return_if_fail (G_IS_INET_ADDRESS (ip));

  crc = id_prefix (ip, r);
  id[0] = (crc >> 24) & 0xff;
  id[1] = (crc >> 16) & 0xff;
  id[2] = ((crc >> 8) & 0xf8) | (id[2] & 0x07);
  id[19] = r;
}

void
ep_bep42_generate_id (GInetAddress *ip,
                      guint8        id[20])
{
  g_return_if_fail (G_IS_INET_ADDRESS (ip));

  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");
  randombytes_buf (id, 20);
  ep_bep42_make_id (ip, id[19], id);
}

/**
 * ep_bep42_id_matches:
 *
 * Returns: %TRUE when @id's top 21 bits are those BEP 42 derives from @ip
 *   and its last byte. Exemption is a separate question: see
 *   ep_bep42_is_exempt().
 */
gboolean
ep_bep42_id_matches (GInetAddress *ip,
                     const guint8  id[20])
{
  guint32 crc;

  g_return_val_if_fail (G_IS_INET_ADDRESS (ip), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  crc = id_prefix (ip, id[19]);
  return id[0] == ((crc >> 24) & 0xff)
         && id[1] == ((crc >> 16) & 0xff)
         && (id[2] & 0xf8) == ((crc >> 8) & 0xf8);
}

gboolean
ep_bep42_is_exempt (GInetAddress *ip)
{
  static const guint8 v6_loopback[16] = { [15] = 1 };
  guint8 b[16];

  g_return_val_if_fail (G_IS_INET_ADDRESS (ip), FALSE);

  if (address_bytes (ip, b) == 4)
    return b[0] == 127                                  /* loopback */
           || b[0] == 10                                /* RFC 1918 */
           || (b[0] == 172 && (b[1] & 0xf0) == 16)
           || (b[0] == 192 && b[1] == 168)
           || (b[0] == 169 && b[1] == 254)              /* link-local */
           || (b[0] == 100 && (b[1] & 0xc0) == 64);     /* shared (CGNAT) */

  return memcmp (b, v6_loopback, 16) == 0
         || (b[0] & 0xfe) == 0xfc                       /* ULA */
         || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);    /* link-local */
}
