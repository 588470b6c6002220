/* session.c — bench-session: encrypted sessions against a plain UDP floor
 *
 * Two peers on 127.0.0.1 in one process and one main context. Each figure
 * is measured for EpSession and for a plain, unencrypted exchange over the
 * same EpUdp sockets and event loop (the floor), and printed with their
 * ratio:
 *
 *   - handshakes per second (sequential; the floor is a three-datagram
 *     exchange, which is what Noise XX costs on the wire);
 *   - round-trip time p50/p99 of a 100-byte message echoed back;
 *   - one-way messages per second and MB/s for 1 KiB messages, with a
 *     window of messages in flight so that no socket buffer overflows.
 *
 * The encrypted rows send with ep_session_send(); the same figures with
 * ep_session_send_async() (one GTask and main-loop round per frame) follow.
 *
 * Usage: bench-session [SCALE]   (SCALE multiplies the counts, default 1)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ep-core.h"

#define PLAIN_PING  0x70   /* 'p': the floor's packet types, not ours nor KRPC's */
#define PLAIN_PONG  0x71
#define PLAIN_THIRD 0x72
#define WINDOW      64

typedef struct
{
  EpUdp            *udp;
  EpSessionManager *manager;
  GSocketAddress   *address;
  guint8            identity_pk[32];
  guint8            identity_sk[64];
  guint8            static_sk[32];
  EpSession        *incoming;
} Peer;

static GMainContext *context;

/* What the handlers count and time. */
static guint64 received;
static gint64  rtt_mark;
static gboolean echo_back;
static gboolean use_async;   /* ep_session_send_async instead of ep_session_send */
static gboolean pong_seen;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
send_frame (EpSession *session,
            GBytes    *frame)
{
  if (use_async)
    ep_session_send_async (session, frame, NULL, NULL, NULL);
  else if (!ep_session_send (session, frame, NULL))
    g_error ("send failed");
}

static void
on_frame (EpSession *session,
          GBytes    *frame,
          gpointer   user_data)
{
  received++;
  if (echo_back)
    send_frame (session, frame);
}

static void
on_reply (EpSession *session,
          GBytes    *frame,
          gpointer   user_data)
{
  pong_seen = TRUE;
}

static gboolean
on_incoming (EpSessionManager *manager,
             EpSession        *session,
             gpointer          user_data)
{
  Peer *peer = user_data;

  g_set_object (&peer->incoming, session);
  g_signal_connect (session, "frame-received", G_CALLBACK (on_frame), NULL);
  return TRUE;
}

static void
peer_init (Peer *peer)
{
  g_autoptr(GError) error = NULL;

  memset (peer, 0, sizeof *peer);
  crypto_sign_keypair (peer->identity_pk, peer->identity_sk);
  randombytes_buf (peer->static_sk, sizeof peer->static_sk);
  peer->udp = ep_udp_new ("127.0.0.1", 0, &error);
  if (peer->udp == NULL)
    g_error ("%s", error->message);
  peer->address = g_inet_socket_address_new_from_string ("127.0.0.1", ep_udp_get_port (peer->udp));
  peer->manager = ep_session_manager_new (peer->udp, peer->identity_sk, peer->static_sk);
  g_signal_connect (peer->manager, "incoming", G_CALLBACK (on_incoming), peer);
}

static void
peer_clear (Peer *peer)
{
  g_clear_object (&peer->incoming);
  g_clear_object (&peer->manager);
  g_clear_object (&peer->udp);
  g_clear_object (&peer->address);
}

/* The floor: a plain echo on the same sockets. */
static void
on_plain (EpUdp          *udp,
          GSocketAddress *from,
          const guint8   *data,
          gsize           len,
          gpointer        user_data)
{
  guint8 reply[EP_UDP_MAX_DATAGRAM];

  switch (data[0])
    {
    case PLAIN_PING:
      if (echo_back)
        {
          memcpy (reply, data, len);
          reply[0] = PLAIN_PONG;
          ep_udp_send (udp, from, reply, len, NULL);
        }
      else
        received++;
      break;
    case PLAIN_PONG:
      pong_seen = TRUE;
      if (user_data != NULL)   /* the third handshake datagram */
        {
          memcpy (reply, data, len);
          reply[0] = PLAIN_THIRD;
          ep_udp_send (udp, from, reply, len, NULL);
        }
      break;
    case PLAIN_THIRD:
      received++;
      break;
    default:
      break;
    }
}

#define SPIN_UNTIL(cond) \
  G_STMT_START { \
    gint64 deadline_ = g_get_monotonic_time () + 5 * G_USEC_PER_SEC; \
    while (!(cond)) \
      { \
        g_main_context_iteration (context, TRUE); \
        if (g_get_monotonic_time () > deadline_) \
          g_error ("timed out waiting for: %s", #cond); \
      } \
  } G_STMT_END

static double
handshakes_encrypted (Peer *a,
                      Peer *b,
                      guint n)
{
  gint64 start = now_ns ();

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(EpSession) session = ep_session_manager_connect (a->manager, b->address,
                                                                 b->identity_pk);

      SPIN_UNTIL (ep_session_get_state (session) == EP_SESSION_STATE_ESTABLISHED
                  && b->incoming != NULL
                  && ep_session_get_state (b->incoming) == EP_SESSION_STATE_ESTABLISHED);
      ep_session_close (session);
      ep_session_close (b->incoming);
      g_clear_object (&b->incoming);
    }

  return n / ((now_ns () - start) / 1e9);
}

static double
handshakes_plain (Peer *a,
                  Peer *b,
                  guint n)
{
  guint8 packet[202];
  gint64 start;

  /* The sizes of our INIT/RESPONSE and FINAL, so the bytes match too. */
  memset (packet, 0, sizeof packet);
  ep_udp_set_handler (a->udp, PLAIN_PONG, on_plain, GINT_TO_POINTER (1));
  echo_back = TRUE;
  received = 0;
  start = now_ns ();
  for (guint i = 0; i < n; i++)
    {
      packet[0] = PLAIN_PING;
      ep_udp_send (a->udp, b->address, packet, sizeof packet, NULL);
      SPIN_UNTIL (received == i + 1);
    }
  ep_udp_set_handler (a->udp, PLAIN_PONG, on_plain, NULL);
  received = 0;
  return n / ((now_ns () - start) / 1e9);
}

static int
compare_i64 (const void *a,
             const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static void
rtt (Peer      *a,
     Peer      *b,
     EpSession *session,
     guint      n,
     double    *p50,
     double    *p99)
{
  g_autofree gint64 *samples = g_new (gint64, n);
  guint8 payload[100];
  g_autoptr(GBytes) frame = NULL;

  memset (payload, 0x2a, sizeof payload);
  frame = g_bytes_new (payload, sizeof payload);
  echo_back = TRUE;

  for (guint i = 0; i < n + n / 10; i++)
    {
      pong_seen = FALSE;
      rtt_mark = now_ns ();
      if (session != NULL)
        send_frame (session, frame);
      else
        {
          guint8 packet[1 + sizeof payload];

          packet[0] = PLAIN_PING;
          memcpy (packet + 1, payload, sizeof payload);
          ep_udp_send (a->udp, b->address, packet, sizeof packet, NULL);
        }
      SPIN_UNTIL (pong_seen);
      /* The first tenth warms up. */
      if (i >= n / 10)
        samples[i - n / 10] = now_ns () - rtt_mark;
    }

  qsort (samples, n, sizeof *samples, compare_i64);
  *p50 = samples[n / 2] / 1000.0;
  *p99 = samples[(n * 99) / 100] / 1000.0;
  echo_back = FALSE;
}

/* Sends @n messages of @size bytes keeping at most WINDOW in flight;
 * returns messages per second actually delivered. */
static double
one_way (Peer      *a,
         Peer      *b,
         EpSession *session,
         guint      n,
         gsize      size,
         guint64   *lost)
{
  g_autofree guint8 *packet = g_malloc0 (size + 1);
  g_autoptr(GBytes) frame = NULL;
  guint64 sent = 0;
  gint64 start, last_progress;
  guint64 last_received = 0;

  memset (packet + 1, 0x5a, size);
  packet[0] = PLAIN_PING;
  frame = g_bytes_new (packet + 1, size);
  echo_back = FALSE;
  received = 0;
  start = last_progress = now_ns ();

  while (received < n)
    {
      while (sent < n && sent - received < WINDOW)
        {
          if (session != NULL)
            send_frame (session, frame);
          else
            ep_udp_send (a->udp, b->address, packet, size + 1, NULL);
          sent++;
        }
      g_main_context_iteration (context, FALSE);

      if (received != last_received)
        {
          last_received = received;
          last_progress = now_ns ();
        }
      else if (now_ns () - last_progress > 200 * 1000000)
        {
          /* Some were lost: count them and go on. */
          received = sent;
          last_progress = now_ns ();
        }
    }

  *lost = sent - last_received;
  return last_received / ((now_ns () - start) / 1e9);
}

/* The ratio is always encrypted / plain: for times lower is better, for
 * rates higher is. */
/* What sealing and opening one 1 KiB frame costs on its own: both ends
 * run in this one thread, so this is added to every message of the plain
 * floor and bounds the throughput ratio. */
static double
aead_us (guint n)
{
  EpNoiseCipher cipher;
  guint8 key[EP_NOISE_KEY_LEN];
  guint8 ad[13] = { 0 };
  g_autofree guint8 *plain = g_malloc0 (1024);
  g_autofree guint8 *sealed = g_malloc (1024 + EP_NOISE_TAG_LEN);
  gint64 start;

  randombytes_buf (key, sizeof key);
  ep_noise_cipher_init (&cipher, key);
  start = now_ns ();
  for (guint i = 0; i < n; i++)
    {
      ep_noise_cipher_encrypt_nonce (&cipher, i, ad, sizeof ad, plain, 1024, sealed);
      if (!ep_noise_cipher_decrypt_nonce (&cipher, i, ad, sizeof ad, sealed, 1024 + EP_NOISE_TAG_LEN,
                                          plain))
        g_error ("AEAD round trip failed");
    }
  ep_noise_cipher_clear (&cipher);
  return (now_ns () - start) / 1e3 / n;
}

static void
print_row (const char *what,
           double      encrypted,
           double      plain,
           const char *unit)
{
  g_print ("%-28s %12.1f %-6s %12.1f %-6s  ratio %.2f\n", what, encrypted, unit, plain, unit,
           encrypted / plain);
}

int
main (int    argc,
      char **argv)
{
  Peer a, b;
  g_autoptr(EpSession) session = NULL;
  double scale = argc > 1 ? g_ascii_strtod (argv[1], NULL) : 1.0;
  guint n_handshakes = (guint) (500 * scale);
  guint n_rtt = (guint) (5000 * scale);
  guint n_oneway = (guint) (100000 * scale);
  double hs_enc, hs_plain, p50_enc, p99_enc, p50_plain, p99_plain, tp_enc, tp_plain;
  double p50_async, p99_async, tp_async, aead;
  guint64 lost_enc, lost_plain, lost_async;

  if (sodium_init () < 0 || scale <= 0)
    return 1;
  n_handshakes = MAX (n_handshakes, 10);
  n_rtt = MAX (n_rtt, 100);
  n_oneway = MAX (n_oneway, 1000);

  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  peer_init (&a);
  peer_init (&b);
  ep_udp_set_handler (a.udp, PLAIN_PONG, on_plain, NULL);
  ep_udp_set_handler (b.udp, PLAIN_PING, on_plain, NULL);
  ep_udp_set_handler (b.udp, PLAIN_THIRD, on_plain, NULL);

  hs_plain = handshakes_plain (&a, &b, n_handshakes);
  hs_enc = handshakes_encrypted (&a, &b, n_handshakes);

  session = ep_session_manager_connect (a.manager, b.address, b.identity_pk);
  g_signal_connect (session, "frame-received", G_CALLBACK (on_reply), NULL);
  SPIN_UNTIL (ep_session_get_state (session) == EP_SESSION_STATE_ESTABLISHED
              && b.incoming != NULL);

  rtt (&a, &b, NULL, n_rtt, &p50_plain, &p99_plain);
  rtt (&a, &b, session, n_rtt, &p50_enc, &p99_enc);
  use_async = TRUE;
  rtt (&a, &b, session, n_rtt, &p50_async, &p99_async);
  use_async = FALSE;

  tp_plain = one_way (&a, &b, NULL, n_oneway, 1024, &lost_plain);
  tp_enc = one_way (&a, &b, session, n_oneway, 1024, &lost_enc);
  use_async = TRUE;
  tp_async = one_way (&a, &b, session, n_oneway, 1024, &lost_async);
  use_async = FALSE;
  aead = aead_us (n_oneway);

  g_print ("bench-session: EpSession (encrypted) vs plain UDP on 127.0.0.1, one process\n");
  g_print ("%-28s %19s %19s\n", "", "encrypted", "plain");
  print_row ("handshakes/s", hs_enc, hs_plain, "/s");
  print_row ("RTT 100 B p50", p50_enc, p50_plain, "us");
  print_row ("RTT 100 B p99", p99_enc, p99_plain, "us");
  print_row ("1 KiB one-way msgs/s", tp_enc, tp_plain, "/s");
  print_row ("1 KiB one-way MB/s", tp_enc * 1024 / 1e6, tp_plain * 1024 / 1e6, "MB/s");
  g_print ("With ep_session_send_async (a GTask per frame) instead of ep_session_send:\n");
  print_row ("  RTT 100 B p50", p50_async, p50_plain, "us");
  print_row ("  RTT 100 B p99", p99_async, p99_plain, "us");
  print_row ("  1 KiB one-way msgs/s", tp_async, tp_plain, "/s");
  g_print ("ChaCha20-Poly1305 seal + open of 1 KiB: %.2f us; with both ends in this thread the\n"
           "1 KiB throughput ratio cannot exceed %.2f\n", aead, (1e6 / tp_plain) / (1e6 / tp_plain + aead));
  g_print ("(lost in the one-way runs: encrypted %" G_GUINT64_FORMAT ", async %" G_GUINT64_FORMAT
           ", plain %" G_GUINT64_FORMAT " of %u)\n", lost_enc, lost_async, lost_plain, n_oneway);

  g_clear_object (&session);
  peer_clear (&a);
  peer_clear (&b);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return 0;
}
