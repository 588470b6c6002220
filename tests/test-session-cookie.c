/* test-session-cookie.c — the stateless cookie exchange under load
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "session-test-util.h"

static void
label_key (const char   *label,
           const guint8 *identity,
           guint8       *out)
{
  crypto_generichash_blake2b_state state;

  crypto_generichash_blake2b_init (&state, NULL, 0, 32);
  crypto_generichash_blake2b_update (&state, (const guint8 *) label, strlen (label));
  crypto_generichash_blake2b_update (&state, identity, 32);
  crypto_generichash_blake2b_final (&state, out, 32);
}

/* An INIT as a flooder would make it: valid mac1 (the victim's identity is
 * public), a fresh random ephemeral key, and mac2 from @cookie if given. */
static void
make_init (const guint8 *identity,
           const guint8 *cookie,
           guint8       *packet)
{
  guint8 key[32];

  memset (packet, 0, EP_INIT_LEN);
  packet[0] = EP_PACKET_INIT;
  randombytes_buf (packet + 1, 4 + 32);
  label_key (EP_SESSION_LABEL_MAC1, identity, key);
  crypto_generichash_blake2b (packet + EP_INIT_LEN - 2 * EP_MAC_LEN, EP_MAC_LEN,
                              packet, EP_INIT_LEN - 2 * EP_MAC_LEN, key, sizeof key);
  if (cookie != NULL)
    crypto_generichash_blake2b (packet + EP_INIT_LEN - EP_MAC_LEN, EP_MAC_LEN,
                                packet, EP_INIT_LEN - EP_MAC_LEN, cookie, EP_MAC_LEN);
}

typedef struct
{
  guint  replies;
  guint8 last[EP_COOKIE_LEN];
} Replies;

static void
on_cookie_reply (EpUdp          *udp,
                 GSocketAddress *from,
                 const guint8   *data,
                 gsize           len,
                 gpointer        user_data)
{
  Replies *r = user_data;

  g_assert_cmpuint (len, ==, EP_COOKIE_LEN);
  memcpy (r->last, data, len);
  r->replies++;
}

static EpUdp *
flooder_new (Replies *replies)
{
  g_autoptr(GError) error = NULL;
  EpUdp *udp = ep_udp_new ("127.0.0.1", 0, &error);

  g_assert_no_error (error);
  ep_udp_set_handler (udp, EP_PACKET_COOKIE, on_cookie_reply, replies);
  return udp;
}

/* Sends @n INITs in bursts small enough for the socket buffers, waiting for
 * the victim to read each burst. */
static void
flood (EpUdp        *from,
       Peer         *victim,
       const guint8 *cookie,
       guint         n)
{
  const EpUdpCounters *counters = ep_udp_get_counters (victim->udp);

  for (guint sent = 0; sent < n; )
    {
      guint64 target = counters->received;

      for (guint i = 0; i < 50 && sent < n; i++, sent++)
        {
          guint8 packet[EP_INIT_LEN];

          make_init (victim->identity_pk, cookie, packet);
          g_assert_true (ep_udp_send (from, victim->address, packet, sizeof packet, NULL));
          target++;
        }
      WAIT_UNTIL (counters->received >= target, 5000);
    }
}

static void
test_cookie_connect_under_load (void)
{
  Peer a, b;
  g_autoptr(EpSession) session = NULL;

  context_setup ();
  peer_init (&a);
  peer_init (&b);
  ep_session_manager_set_load_threshold (b.manager, 0);

  session = connect_pair (&a, &b);
  send_text (session, "through the cookie");
  WAIT_UNTIL (has_frame (&b, "through the cookie"), 3000);

  g_assert_cmpuint (ep_session_manager_get_counters (b.manager)->cookie_replies_sent, ==, 1);
  g_assert_cmpuint (ep_session_manager_get_counters (a.manager)->cookies_received, ==, 1);
  g_assert_cmpuint (ep_session_manager_get_n_pending (b.manager), ==, 0);

  peer_clear (&a);
  peer_clear (&b);
  context_teardown ();
}

/* Under load, a flood from one source gets only cookie replies: no
 * handshake state, no session. */
static void
test_cookie_flood_allocates_nothing (void)
{
  Peer b;
  Replies replies = { 0 };
  g_autoptr(EpUdp) flooder = NULL;
  const EpSessionManagerCounters *counters;

  context_setup ();
  peer_init (&b);
  ep_session_manager_set_load_threshold (b.manager, 0);
  counters = ep_session_manager_get_counters (b.manager);
  flooder = flooder_new (&replies);

  flood (flooder, &b, NULL, 2000);
  WAIT_UNTIL (counters->cookie_replies_sent == 2000, 3000);
  g_assert_cmpuint (ep_session_manager_get_n_pending (b.manager), ==, 0);
  g_assert_cmpuint (ep_session_manager_get_n_sessions (b.manager), ==, 0);
  g_assert_cmpuint (counters->dropped_overload, ==, 0);
  WAIT_UNTIL (replies.replies == 2000, 3000);

  /* Forged mac1: not even a cookie reply (no reflection). */
  {
    guint8 packet[EP_INIT_LEN];

    make_init (b.identity_pk, NULL, packet);
    packet[10] ^= 1;
    ep_udp_send (flooder, b.address, packet, sizeof packet, NULL);
    WAIT_UNTIL (counters->dropped_mac == 1, 3000);
    g_assert_cmpuint (counters->cookie_replies_sent, ==, 2000);
  }

  ep_udp_set_handler (flooder, EP_PACKET_COOKIE, NULL, NULL);
  peer_clear (&b);
  context_teardown ();
}

/* Below the threshold initiations are answered; from there on only those
 * with a cookie are. A legitimate peer still gets through. */
static void
test_cookie_threshold (void)
{
  Peer a, b;
  Replies replies = { 0 };
  g_autoptr(EpUdp) flooder = NULL;
  g_autoptr(EpSession) session = NULL;
  const EpSessionManagerCounters *counters;

  context_setup ();
  peer_init (&a);
  peer_init (&b);
  ep_session_manager_set_load_threshold (b.manager, 4);
  counters = ep_session_manager_get_counters (b.manager);
  flooder = flooder_new (&replies);

  flood (flooder, &b, NULL, 500);
  g_assert_cmpuint (ep_session_manager_get_n_pending (b.manager), ==, 4);
  g_assert_cmpuint (counters->cookie_replies_sent, ==, 496);

  session = connect_pair (&a, &b);
  g_assert_cmpuint (ep_session_manager_get_counters (a.manager)->cookies_received, ==, 1);
  g_assert_cmpuint (ep_session_manager_get_n_sessions (b.manager), ==, 1);

  /* The flood's half-open handshakes expire. */
  WAIT_UNTIL (ep_session_manager_get_n_pending (b.manager) == 0, 6000);
  g_assert_cmpint (ep_session_get_state (session), ==, EP_SESSION_STATE_ESTABLISHED);

  ep_udp_set_handler (flooder, EP_PACKET_COOKIE, NULL, NULL);
  peer_clear (&a);
  peer_clear (&b);
  context_teardown ();
}

/* A cookie is bound to the address it was given to. */
static void
test_cookie_bound_to_address (void)
{
  Peer b;
  Replies r1 = { 0 }, r2 = { 0 };
  g_autoptr(EpUdp) first = NULL;
  g_autoptr(EpUdp) second = NULL;
  const EpSessionManagerCounters *counters;
  guint8 packet[EP_INIT_LEN];
  guint8 key[32];
  guint8 cookie[EP_MAC_LEN];

  context_setup ();
  peer_init (&b);
  ep_session_manager_set_load_threshold (b.manager, 0);
  ep_session_manager_set_max_pending (b.manager, 16);
  counters = ep_session_manager_get_counters (b.manager);
  first = flooder_new (&r1);
  second = flooder_new (&r2);

  /* The first source asks and opens its cookie, as a peer would. */
  make_init (b.identity_pk, NULL, packet);
  ep_udp_send (first, b.address, packet, sizeof packet, NULL);
  WAIT_UNTIL (r1.replies == 1, 3000);
  label_key (EP_SESSION_LABEL_COOKIE, b.identity_pk, key);
  g_assert_cmpint (crypto_aead_xchacha20poly1305_ietf_decrypt (
                     cookie, NULL, NULL, r1.last + 5 + EP_COOKIE_NONCE_LEN, EP_MAC_LEN + 16,
                     packet + EP_INIT_LEN - 2 * EP_MAC_LEN, EP_MAC_LEN, r1.last + 5, key), ==, 0);

  /* From the other source the cookie is worthless. */
  flood (second, &b, cookie, 20);
  WAIT_UNTIL (r2.replies == 20, 3000);
  g_assert_cmpuint (ep_session_manager_get_n_pending (b.manager), ==, 0);

  /* From its own source it opens the door, up to the hard bound. */
  flood (first, &b, cookie, 20);
  g_assert_cmpuint (ep_session_manager_get_n_pending (b.manager), ==, 16);
  g_assert_cmpuint (counters->dropped_overload, ==, 4);
  g_assert_cmpuint (ep_session_manager_get_n_sessions (b.manager), ==, 0);

  ep_udp_set_handler (first, EP_PACKET_COOKIE, NULL, NULL);
  ep_udp_set_handler (second, EP_PACKET_COOKIE, NULL, NULL);
  peer_clear (&b);
  context_teardown ();
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/ep/session-cookie/connect-under-load", test_cookie_connect_under_load);
  g_test_add_func ("/ep/session-cookie/flood-allocates-nothing", test_cookie_flood_allocates_nothing);
  g_test_add_func ("/ep/session-cookie/threshold", test_cookie_threshold);
  g_test_add_func ("/ep/session-cookie/bound-to-address", test_cookie_bound_to_address);

  return g_test_run ();
}
