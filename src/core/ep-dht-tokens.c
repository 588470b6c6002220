/* ep-dht-tokens.c — write tokens for announce_peer and put
 *
 * A token is BLAKE2b-64 of the requester's address, keyed with a secret
 * that rotates; a token from just before a rotation is still accepted, so
 * one is valid for between one and two rotation periods. An IPv4-mapped
 * IPv6 address gets the same token as the IPv4 address it carries.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <sodium.h>
#include <string.h>

#include "ep-dht-tokens.h"

#define SECRET_LEN crypto_generichash_KEYBYTES

struct _EpDhtTokens
{
  guint8   current[SECRET_LEN];
  guint8   previous[SECRET_LEN];
  gboolean has_previous;
};

/**
 * ep_dht_tokens_new:
 *
 * Returns: (transfer full): a token maker with a fresh random secret
 */
EpDhtTokens *
ep_dht_tokens_new (void)
{
  EpDhtTokens *tokens;

  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");

  tokens = g_new0 (EpDhtTokens, 1);
  randombytes_buf (tokens->current, SECRET_LEN);
  return tokens;
}

void
ep_dht_tokens_free (EpDhtTokens *tokens)
{
  if (tokens == NULL)
    return;
  sodium_memzero (tokens, sizeof *tokens);
  g_free (tokens);
}

void
ep_dht_tokens_rotate (EpDhtTokens *tokens)
{
  g_return_if_fail (tokens != NULL);

  memcpy (tokens->previous, tokens->current, SECRET_LEN);
  tokens->has_previous = TRUE;
  sodium_memzero (tokens->current, SECRET_LEN);
  randombytes_buf (tokens->current, SECRET_LEN);
}

static void
make_with (const guint8  secret[SECRET_LEN],
           GInetAddress *ip,
           guint8        token[EP_DHT_TOKEN_LEN])
{
  static const guint8 v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  const guint8 *bytes = g_inet_address_to_bytes (ip);
  gsize size = g_inet_address_get_native_size (ip);

  if (size == 16 && memcmp (bytes, v4_mapped, sizeof v4_mapped) == 0)
    {
      bytes += 12;
      size = 4;
    }

  crypto_generichash (token, EP_DHT_TOKEN_LEN, bytes, size, secret, SECRET_LEN);
}

/**
 * ep_dht_tokens_make:
 * @ip: the address the query came from
 * @token: (out caller-allocates): the token to send back
 */
void
ep_dht_tokens_make (EpDhtTokens  *tokens,
                    GInetAddress *ip,
                    guint8        token[EP_DHT_TOKEN_LEN])
{
  g_return_if_fail (tokens != NULL);
  g_return_if_fail (G_IS_INET_ADDRESS (ip));

  make_with (tokens->current, ip, token);
}

/**
 * ep_dht_tokens_check:
 * @ip: the address the write came from
 * @token: (array length=len): the token it carries, from the network
 *
 * Returns: %TRUE when @token is what we gave @ip under the current or
 *   the previous secret
 */
gboolean
ep_dht_tokens_check (EpDhtTokens  *tokens,
                     GInetAddress *ip,
                     const guint8 *token,
                     gsize         len)
{
  guint8 expected[EP_DHT_TOKEN_LEN];
  gboolean ok;

  g_return_val_if_fail (tokens != NULL, FALSE);
  g_return_val_if_fail (G_IS_INET_ADDRESS (ip), FALSE);

  if (token == NULL || len != EP_DHT_TOKEN_LEN)
    return FALSE;

  make_with (tokens->current, ip, expected);
  ok = sodium_memcmp (expected, token, EP_DHT_TOKEN_LEN) == 0;

  if (tokens->has_previous)
    {
      make_with (tokens->previous, ip, expected);
      ok |= sodium_memcmp (expected, token, EP_DHT_TOKEN_LEN) == 0;
    }

  sodium_memzero (expected, sizeof expected);
  return ok;
}
