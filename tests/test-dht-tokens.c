/* test-dht-tokens.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "ep-core.h"

static void
test_dht_tokens_valid (void)
{
  g_autoptr(EpDhtTokens) tokens = ep_dht_tokens_new ();
  g_autoptr(GInetAddress) ip = g_inet_address_new_from_string ("198.51.100.7");
  g_autoptr(GInetAddress) mapped = g_inet_address_new_from_string ("::ffff:198.51.100.7");
  g_autoptr(GInetAddress) other = g_inet_address_new_from_string ("198.51.100.8");
  g_autoptr(GInetAddress) v6 = g_inet_address_new_from_string ("2001:db8::7");
  guint8 token[EP_DHT_TOKEN_LEN], again[EP_DHT_TOKEN_LEN], t6[EP_DHT_TOKEN_LEN];

  ep_dht_tokens_make (tokens, ip, token);
  ep_dht_tokens_make (tokens, ip, again);
  g_assert_cmpmem (token, sizeof token, again, sizeof again);
  g_assert_true (ep_dht_tokens_check (tokens, ip, token, sizeof token));
  g_assert_true (ep_dht_tokens_check (tokens, mapped, token, sizeof token));
  g_assert_false (ep_dht_tokens_check (tokens, other, token, sizeof token));
  g_assert_false (ep_dht_tokens_check (tokens, v6, token, sizeof token));

  ep_dht_tokens_make (tokens, v6, t6);
  g_assert_true (ep_dht_tokens_check (tokens, v6, t6, sizeof t6));
  g_assert_false (ep_dht_tokens_check (tokens, ip, t6, sizeof t6));

  /* Any flipped bit is refused. */
  for (guint bit = 0; bit < 8 * EP_DHT_TOKEN_LEN; bit++)
    {
      memcpy (again, token, sizeof token);
      again[bit / 8] ^= 1 << (bit % 8);
      g_assert_false (ep_dht_tokens_check (tokens, ip, again, sizeof again));
    }
}

static void
test_dht_tokens_rotation (void)
{
  g_autoptr(EpDhtTokens) tokens = ep_dht_tokens_new ();
  g_autoptr(GInetAddress) ip = g_inet_address_new_from_string ("::1");
  guint8 token[EP_DHT_TOKEN_LEN], fresh[EP_DHT_TOKEN_LEN];

  ep_dht_tokens_make (tokens, ip, token);

  ep_dht_tokens_rotate (tokens);
  g_assert_true (ep_dht_tokens_check (tokens, ip, token, sizeof token));
  ep_dht_tokens_make (tokens, ip, fresh);
  g_assert_false (memcmp (fresh, token, sizeof token) == 0);
  g_assert_true (ep_dht_tokens_check (tokens, ip, fresh, sizeof fresh));

  ep_dht_tokens_rotate (tokens);
  g_assert_false (ep_dht_tokens_check (tokens, ip, token, sizeof token));
  g_assert_true (ep_dht_tokens_check (tokens, ip, fresh, sizeof fresh));
}

static void
test_dht_tokens_separate_secrets (void)
{
  g_autoptr(EpDhtTokens) a = ep_dht_tokens_new ();
  g_autoptr(EpDhtTokens) b = ep_dht_tokens_new ();
  g_autoptr(GInetAddress) ip = g_inet_address_new_from_string ("127.0.0.1");
  guint8 token[EP_DHT_TOKEN_LEN];

  ep_dht_tokens_make (a, ip, token);
  g_assert_false (ep_dht_tokens_check (b, ip, token, sizeof token));
}

static void
test_dht_tokens_wrong_length (void)
{
  g_autoptr(EpDhtTokens) tokens = ep_dht_tokens_new ();
  g_autoptr(GInetAddress) ip = g_inet_address_new_from_string ("127.0.0.1");
  guint8 token[EP_DHT_TOKEN_LEN + 1];

  ep_dht_tokens_make (tokens, ip, token);
  token[EP_DHT_TOKEN_LEN] = 0;
  g_assert_true (ep_dht_tokens_check (tokens, ip, token, EP_DHT_TOKEN_LEN));
  g_assert_false (ep_dht_tokens_check (tokens, ip, token, EP_DHT_TOKEN_LEN - 1));
  g_assert_false (ep_dht_tokens_check (tokens, ip, token, EP_DHT_TOKEN_LEN + 1));
  g_assert_false (ep_dht_tokens_check (tokens, ip, token, 0));
  g_assert_false (ep_dht_tokens_check (tokens, ip, NULL, EP_DHT_TOKEN_LEN));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/dht-tokens/valid", test_dht_tokens_valid);
  g_test_add_func ("/ep/dht-tokens/rotation", test_dht_tokens_rotation);
  g_test_add_func ("/ep/dht-tokens/separate-secrets", test_dht_tokens_separate_secrets);
  g_test_add_func ("/ep/dht-tokens/wrong-length", test_dht_tokens_wrong_length);

  return g_test_run ();
}
