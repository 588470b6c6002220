/* fuzz-session-transport.c — transport packets into an established session
 *
 * A session is set up once with fixed keys (through the private API), so
 * the seed corpus can hold genuine packets. A datagram starting with the
 * TRANSPORT type gets the session's receiver index written over bytes 1..4
 * (a fuzzer would never guess it); the replay window starts empty for
 * every input. Anything else goes to the manager as it is.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "ep-core.h"
#include "ep-session-private.h"

static const guint8 identity_seed[32] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66 };
static const guint8 static_secret[32] = { 0x77, 0x77, 0x77, 0x77, 0x77, 0x77, 0x77, 0x77 };
static const guint8 peer_identity[32] = { 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88 };
/* The key the peer sends with, which we receive with. */
static const guint8 receive_key[32] = { 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99 };
static const guint8 send_key[32] = { 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa };

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

static EpSessionManager *manager;
static EpSession *session;
static GSocketAddress *address;
#define INDEX 0x01020304
static void
on_frame (EpSession *s,
          GBytes    *frame,
          gpointer   user_data)
{
  g_assert (g_bytes_get_size (frame) > 0);
  g_debug ("frame of %" G_GSIZE_FORMAT " bytes", g_bytes_get_size (frame));
}

static void
setup (void)
{
  guint8 pk[32], sk[64];
  EpUdp *udp = ep_udp_new ("127.0.0.1", 0, NULL);
  EpKeypair *keypair = g_new0 (EpKeypair, 1);
  EpIndexEntry *entry;

  g_assert (udp != NULL);
  ep_udp_set_filter (udp, drop_all, NULL);
  crypto_sign_seed_keypair (pk, sk, identity_seed);
  manager = ep_session_manager_new (udp, sk, static_secret);
  g_object_unref (udp);

  address = g_inet_socket_address_new_from_string ("127.0.0.1", 9);
  session = ep_session_new_internal (manager, peer_identity, address);
  g_signal_connect (session, "frame-received", G_CALLBACK (on_frame), NULL);

  ep_noise_cipher_init (&keypair->send, send_key);
  ep_noise_cipher_init (&keypair->receive, receive_key);
  ep_replay_window_init (&keypair->window);
  entry = g_new0 (EpIndexEntry, 1);
  entry->session = session;
  g_hash_table_insert (manager->indices, GUINT_TO_POINTER (INDEX), entry);
  keypair->local_index = INDEX;
  keypair->remote_index = 1;
  keypair->created_us = g_get_monotonic_time ();
  keypair->confirmed = TRUE;
  ep_session_add_keypair (session, keypair);
  g_assert (ep_session_get_state (session) == EP_SESSION_STATE_ESTABLISHED);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  EpKeypair *keypair;

  if (session == NULL)
    setup ();

  if (size == 0 || size > EP_UDP_MAX_DATAGRAM)
    return 0;

  keypair = ep_session_find_keypair (session, INDEX);
  g_assert (keypair != NULL);
  ep_replay_window_init (&keypair->window);

  ep_session_manager_handle_datagram (manager, address, data, size);

  /* The session never closes from what arrives. */
  g_assert (ep_session_get_state (session) == EP_SESSION_STATE_ESTABLISHED);
  return 0;
}
