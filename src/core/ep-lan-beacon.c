/* ep-lan-beacon.c — the signed datagram that LAN discovery multicasts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <sodium.h>
#include <string.h>

#include "ep-lan-beacon.h"

#define CONTEXT_LEN (sizeof EP_LAN_BEACON_CONTEXT - 1)

static guint64
read_be64 (const guint8 *p)
{
  guint64 v = 0;

  for (guint i = 0; i < 8; i++)
    v = (v << 8) | p[i];
  return v;
}

static void
write_be64 (guint8  *p,
            guint64  v)
{
  for (guint i = 0; i < 8; i++)
    p[i] = (guint8) (v >> (56 - 8 * i));
}

static void
encode_header (const EpLanBeacon *beacon,
               guint8             out[EP_LAN_BEACON_SIGNED_SIZE])
{
  memcpy (out, EP_LAN_BEACON_MAGIC, 4);
  out[4] = beacon->version;
  out[5] = beacon->flags;
  out[6] = (guint8) (beacon->port >> 8);
  out[7] = (guint8) beacon->port;
  write_be64 (out + 8, (guint64) beacon->timestamp_us);
  write_be64 (out + 16, beacon->nonce);
  memcpy (out + 24, beacon->public_key, 32);
}

/**
 * ep_lan_beacon_parse:
 * @data: (array length=len): a received datagram
 * @len: its length
 * @beacon: (out caller-allocates): the fields, filled only on success
 *
 * Checks the shape of a beacon; the signature is left to
 * ep_lan_beacon_verify().
 *
 * Returns: %EP_LAN_BEACON_OK, or why @data is not a beacon we can read
 */
EpLanBeaconStatus
ep_lan_beacon_parse (const guint8 *data,
                     gsize         len,
                     EpLanBeacon  *beacon)
{
  guint64 timestamp;
  guint16 port;

  g_return_val_if_fail (data != NULL || len == 0, EP_LAN_BEACON_GARBAGE);
  g_return_val_if_fail (beacon != NULL, EP_LAN_BEACON_GARBAGE);

  if (len < 4 || memcmp (data, EP_LAN_BEACON_MAGIC, 4) != 0)
    return EP_LAN_BEACON_GARBAGE;
  if (len < 5)
    return EP_LAN_BEACON_TRUNCATED;
  if (data[4] != EP_LAN_BEACON_VERSION)
    return EP_LAN_BEACON_BAD_VERSION;
  if (len < EP_LAN_BEACON_SIZE)
    return EP_LAN_BEACON_TRUNCATED;
  if (len > EP_LAN_BEACON_SIZE)
    return EP_LAN_BEACON_MALFORMED;

  port = (guint16) ((data[6] << 8) | data[7]);
  timestamp = read_be64 (data + 8);
  if (port == 0 || timestamp == 0 || timestamp > G_MAXINT64)
    return EP_LAN_BEACON_MALFORMED;

  beacon->version = data[4];
  beacon->flags = data[5];
  beacon->port = port;
  beacon->timestamp_us = (gint64) timestamp;
  beacon->nonce = read_be64 (data + 16);
  memcpy (beacon->public_key, data + 24, 32);
  memcpy (beacon->signature, data + 56, 64);
  return EP_LAN_BEACON_OK;
}

/**
 * ep_lan_beacon_message:
 * @beacon: a beacon
 * @message: (out caller-allocates): what its signature covers
 */
void
ep_lan_beacon_message (const EpLanBeacon *beacon,
                       guint8             message[EP_LAN_BEACON_MESSAGE_SIZE])
{
  g_return_if_fail (beacon != NULL);

  memcpy (message, EP_LAN_BEACON_CONTEXT, CONTEXT_LEN);
  encode_header (beacon, message + CONTEXT_LEN);
}

/**
 * ep_lan_beacon_sign:
 * @beacon: a beacon with every field but the signature set
 * @sign: (scope call): signs with the key in @beacon's public_key
 * @user_data: for @sign
 *
 * Returns: %TRUE when @sign filled the signature
 */
gboolean
ep_lan_beacon_sign (EpLanBeacon   *beacon,
                    EpLanSignFunc  sign,
                    gpointer       user_data)
{
  guint8 message[EP_LAN_BEACON_MESSAGE_SIZE];

  g_return_val_if_fail (beacon != NULL, FALSE);
  g_return_val_if_fail (sign != NULL, FALSE);

  ep_lan_beacon_message (beacon, message);
  return sign (message, sizeof message, beacon->signature, user_data);
}

/**
 * ep_lan_beacon_verify:
 * @beacon: a parsed beacon
 *
 * Returns: %TRUE when the signature is valid for the beacon's key
 */
gboolean
ep_lan_beacon_verify (const EpLanBeacon *beacon)
{
  guint8 message[EP_LAN_BEACON_MESSAGE_SIZE];

  g_return_val_if_fail (beacon != NULL, FALSE);

  ep_lan_beacon_message (beacon, message);
  return crypto_sign_verify_detached (beacon->signature, message, sizeof message,
                                      beacon->public_key) == 0;
}

/**
 * ep_lan_beacon_encode:
 * @beacon: a signed beacon
 * @out: (out caller-allocates): the datagram
 */
void
ep_lan_beacon_encode (const EpLanBeacon *beacon,
                      guint8             out[EP_LAN_BEACON_SIZE])
{
  g_return_if_fail (beacon != NULL);

  encode_header (beacon, out);
  memcpy (out + EP_LAN_BEACON_SIGNED_SIZE, beacon->signature, 64);
}

/**
 * ep_lan_beacon_sign_with_secret_key: (skip)
 * @secret_key: a libsodium Ed25519 secret key of 64 bytes
 *
 * An #EpLanSignFunc over a raw secret key.
 */
gboolean
ep_lan_beacon_sign_with_secret_key (const guint8 *message,
                                    gsize         message_len,
                                    guint8        signature[64],
                                    gpointer      secret_key)
{
  return crypto_sign_detached (signature, NULL, message, message_len, secret_key) == 0;
}
