/* fuzz-noise-handshake.c — the Noise XX handshake and the handshake packets
 *
 * The first byte picks what the rest is fed to: 0, message 1 to a
 * responder; 1, message 2 to an initiator that sent message 1; 2, message 3
 * to a responder that answered a genuine message 1; 3, a whole datagram to
 * a session manager (INIT, RESPONSE, FINAL, COOKIE framing). Keys and
 * ephemeral keys are fixed so that the seed corpus holds genuine messages.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "ep-core.h"
#include "ep-session-private.h"

#define ROOM 4096

static const guint8 init_static[32] = { 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11 };
static const guint8 resp_static[32] = { 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22 };
static const guint8 init_ephemeral[32] = { 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33 };
static const guint8 resp_ephemeral[32] = { 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44 };
static const guint8 identity_seed[32] = { 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 };

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static gboolean
drop_all (EpUdp          *udp,
          gboolean        outgoing,
          GSocketAddress *peer,
          const guint8   *bytes,
          gsize           len,
          gpointer        user_data)
{
  return FALSE;
}

static EpSessionManager *
get_manager (GSocketAddress **from)
{
  static EpSessionManager *manager;
  static GSocketAddress *address;

  if (manager == NULL)
    {
      guint8 pk[32], sk[64];
      EpUdp *udp = ep_udp_new ("127.0.0.1", 0, NULL);

      g_assert (udp != NULL);
      ep_udp_set_filter (udp, drop_all, NULL);
      crypto_sign_seed_keypair (pk, sk, identity_seed);
      manager = ep_session_manager_new (udp, sk, resp_static);
      address = g_inet_socket_address_new_from_string ("127.0.0.1", 9);
      g_object_unref (udp);
    }
  *from = address;
  return manager;
}

static EpNoiseHandshake *
new_handshake (EpNoiseRole role)
{
  EpNoiseHandshake *hs;

  hs = ep_noise_handshake_new (role, (const guint8 *) EP_SESSION_PROLOGUE,
                               strlen (EP_SESSION_PROLOGUE),
                               role == EP_NOISE_ROLE_INITIATOR ? init_static : resp_static);
  ep_noise_handshake_set_ephemeral (hs, role == EP_NOISE_ROLE_INITIATOR ? init_ephemeral
                                                                        : resp_ephemeral);
  return hs;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(EpNoiseHandshake) init = NULL;
  g_autoptr(EpNoiseHandshake) resp = NULL;
  static guint8 out[ROOM], payload[ROOM];
  guint8 identity[EP_IDENTITY_PAYLOAD_LEN] = { 1 };
  gsize out_len, payload_len;
  EpNoiseCipher send, receive;
  GSocketAddress *from;
  guint mode;

  if (size < 1)
    return 0;
  mode = data[0] % 4;
  data++;
  size--;

  switch (mode)
    {
    case 0:
      resp = new_handshake (EP_NOISE_ROLE_RESPONDER);
      if (ep_noise_handshake_read_message (resp, data, size, payload, sizeof payload,
                                           &payload_len, NULL))
        ep_noise_handshake_write_message (resp, identity, sizeof identity, out, sizeof out,
                                          &out_len, NULL);
      break;

    case 1:
      init = new_handshake (EP_NOISE_ROLE_INITIATOR);
      g_assert (ep_noise_handshake_write_message (init, NULL, 0, out, sizeof out, &out_len, NULL));
      if (ep_noise_handshake_read_message (init, data, size, payload, sizeof payload,
                                           &payload_len, NULL))
        {
          g_assert (ep_noise_handshake_get_remote_static (init) != NULL);
          ep_noise_handshake_write_message (init, identity, sizeof identity, out, sizeof out,
                                            &out_len, NULL);
        }
      break;

    case 2:
      init = new_handshake (EP_NOISE_ROLE_INITIATOR);
      resp = new_handshake (EP_NOISE_ROLE_RESPONDER);
      g_assert (ep_noise_handshake_write_message (init, NULL, 0, out, sizeof out, &out_len, NULL));
      g_assert (ep_noise_handshake_read_message (resp, out, out_len, payload, sizeof payload,
                                                 &payload_len, NULL));
      g_assert (ep_noise_handshake_write_message (resp, identity, sizeof identity, out,
                                                  sizeof out, &out_len, NULL));
      if (ep_noise_handshake_read_message (resp, data, size, payload, sizeof payload,
                                           &payload_len, NULL))
        {
          g_assert (ep_noise_handshake_is_finished (resp));
          g_assert (ep_noise_handshake_split (resp, &send, &receive));
          ep_noise_cipher_clear (&send);
          ep_noise_cipher_clear (&receive);
        }
      break;

    case 3:
    default:
      if (size > 0 && size <= EP_UDP_MAX_DATAGRAM)
        {
          EpSessionManager *manager = get_manager (&from);

          ep_session_manager_handle_datagram (manager, from, data, size);
        }
      break;
    }

  return 0;
}
