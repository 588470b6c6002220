/* ep-lan-beacon.h — the signed datagram that LAN discovery multicasts
 *
 * Layout (big-endian, 120 bytes):
 *
 *    0  4  magic "EPLB"
 *    4  1  version (1)
 *    5  1  flags (none defined; ignored)
 *    6  2  the sender's session UDP port (not 0)
 *    8  8  timestamp, µs since the Unix epoch (> 0)
 *   16  8  instance nonce, random per running instance
 *   24 32  Ed25519 identity public key
 *   56 64  Ed25519 signature over EP_LAN_BEACON_CONTEXT ‖ bytes 0–55
 *
 * The context string keeps a beacon signature from being valid as any other
 * message signed with the identity key.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EP_LAN_BEACON_MAGIC        "EPLB"
#define EP_LAN_BEACON_VERSION      1
#define EP_LAN_BEACON_SIZE         120
#define EP_LAN_BEACON_SIGNED_SIZE  56
#define EP_LAN_BEACON_CONTEXT      "EncryptedP2P LAN beacon v1"
/* Context (without its NUL) followed by the signed header. */
#define EP_LAN_BEACON_MESSAGE_SIZE (sizeof EP_LAN_BEACON_CONTEXT - 1 + EP_LAN_BEACON_SIGNED_SIZE)

typedef struct
{
  guint8  version;
  guint8  flags;
  guint16 port;
  gint64  timestamp_us;
  guint64 nonce;
  guint8  public_key[32];
  guint8  signature[64];
} EpLanBeacon;

typedef enum
{
  EP_LAN_BEACON_OK,
  EP_LAN_BEACON_GARBAGE,      /* not a beacon at all: no magic */
  EP_LAN_BEACON_TRUNCATED,    /* magic, but shorter than its version needs */
  EP_LAN_BEACON_BAD_VERSION,  /* a version we do not speak */
  EP_LAN_BEACON_MALFORMED,    /* right version, wrong length or a bad field */
} EpLanBeaconStatus;

/* Signs @message (EP_LAN_BEACON_MESSAGE_SIZE bytes) with the identity key. */
typedef gboolean (*EpLanSignFunc) (const guint8 *message,
                                   gsize         message_len,
                                   guint8        signature[64],
                                   gpointer      user_data);

EpLanBeaconStatus ep_lan_beacon_parse   (const guint8      *data,
                                         gsize              len,
                                         EpLanBeacon       *beacon);
void              ep_lan_beacon_message (const EpLanBeacon *beacon,
                                         guint8             message[EP_LAN_BEACON_MESSAGE_SIZE]);
gboolean          ep_lan_beacon_sign    (EpLanBeacon       *beacon,
                                         EpLanSignFunc      sign,
                                         gpointer           user_data);
gboolean          ep_lan_beacon_verify  (const EpLanBeacon *beacon);
void              ep_lan_beacon_encode  (const EpLanBeacon *beacon,
                                         guint8             out[EP_LAN_BEACON_SIZE]);
gboolean          ep_lan_beacon_sign_with_secret_key (const guint8 *message,
                                                      gsize         message_len,
                                                      guint8        signature[64],
                                                      gpointer      secret_key);

G_END_DECLS
