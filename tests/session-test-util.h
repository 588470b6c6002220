/* session-test-util.h — two peers on loopback, for the session tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

/* Each test file uses some of these. */
#pragma GCC diagnostic ignored "-Wunused-function"

#include <sodium.h>
#include <string.h>

#include "ep-core.h"
#include "ep-session-private.h"

typedef struct
{
  EpUdp            *udp;
  EpSessionManager *manager;
  GSocketAddress   *address;
  guint8            identity_pk[32];
  guint8            identity_sk[64];
  guint8            static_sk[32];
  EpSession        *incoming;         /* the last session accepted */
  gboolean          accept;
  GPtrArray        *frames;           /* GBytes received on any session */
} Peer;

static GMainContext *test_context;

static const EpSessionTiming fast_timing = {
  .tick_ms = 10,
  .handshake_retry_ms = 60,
  .handshake_retry_max_ms = 240,
  .handshake_timeout_ms = 4000,
  .rekey_after_ms = 600000,
  .rekey_after_messages = G_GUINT64_CONSTANT (1) << 20,
  .keepalive_ms = 1000,
  .idle_timeout_ms = 8000,
  .old_keys_ms = 2000,
  .cookie_secret_ms = 120000,
};

static void
on_frame (EpSession *session,
          GBytes    *frame,
          gpointer   user_data)
{
  Peer *peer = user_data;

  g_ptr_array_add (peer->frames, g_bytes_ref (frame));
}

static gboolean
on_incoming (EpSessionManager *manager,
             EpSession        *session,
             gpointer          user_data)
{
  Peer *peer = user_data;

  if (!peer->accept)
    return FALSE;
  g_set_object (&peer->incoming, session);
  g_signal_connect (session, "frame-received", G_CALLBACK (on_frame), peer);
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
  g_assert_no_error (error);
  peer->address = g_inet_socket_address_new_from_string ("127.0.0.1", ep_udp_get_port (peer->udp));
  peer->manager = ep_session_manager_new (peer->udp, peer->identity_sk, peer->static_sk);
  ep_session_manager_set_timing (peer->manager, &fast_timing);
  peer->accept = TRUE;
  peer->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_signal_connect (peer->manager, "incoming", G_CALLBACK (on_incoming), peer);
}

static void
peer_clear (Peer *peer)
{
  g_clear_object (&peer->incoming);
  g_clear_object (&peer->manager);
  g_clear_object (&peer->udp);
  g_clear_object (&peer->address);
  g_clear_pointer (&peer->frames, g_ptr_array_unref);
}

static void
context_setup (void)
{
  test_context = g_main_context_new ();
  g_main_context_push_thread_default (test_context);
}

static void
context_teardown (void)
{
  /* Let pending idles (GTask callbacks) run before the context goes. */
  while (g_main_context_iteration (test_context, FALSE))
    ;
  g_main_context_pop_thread_default (test_context);
  g_clear_pointer (&test_context, g_main_context_unref);
}

static gboolean
on_wait_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Spins the test context until @cond holds or @ms pass; asserts @cond. */
#define WAIT_UNTIL(cond, ms) \
  G_STMT_START { \
    gboolean timed_out_ = FALSE; \
    GSource *timer_ = g_timeout_source_new (ms); \
    g_source_set_callback (timer_, on_wait_timeout, &timed_out_, NULL); \
    g_source_attach (timer_, test_context); \
    while (!(cond) && !timed_out_) \
      g_main_context_iteration (test_context, TRUE); \
    g_source_destroy (timer_); \
    g_source_unref (timer_); \
    g_assert_true (cond); \
  } G_STMT_END

/* Spins the test context for @ms. */
static void
spin (guint ms)
{
  gboolean done = FALSE;
  GSource *timer = g_timeout_source_new (ms);

  g_source_set_callback (timer, on_wait_timeout, &done, NULL);
  g_source_attach (timer, test_context);
  while (!done)
    g_main_context_iteration (test_context, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
}

static void
on_sent (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  guint *pending = user_data;

  g_assert_true (ep_session_send_finish (EP_SESSION (object), result, &error));
  g_assert_no_error (error);
  (*pending)--;
}

static guint sends_pending;

static void
send_text (EpSession  *session,
           const char *text)
{
  g_autoptr(GBytes) frame = g_bytes_new (text, strlen (text));

  sends_pending++;
  ep_session_send_async (session, frame, NULL, on_sent, &sends_pending);
}

static gboolean
has_frame (Peer       *peer,
           const char *text)
{
  for (guint i = 0; i < peer->frames->len; i++)
    {
      gsize len;
      const char *data = g_bytes_get_data (peer->frames->pdata[i], &len);

      if (len == strlen (text) && memcmp (data, text, len) == 0)
        return TRUE;
    }
  return FALSE;
}

/* A connects to B; both sessions established. */
static EpSession *
connect_pair (Peer *a,
              Peer *b)
{
  EpSession *session = ep_session_manager_connect (a->manager, b->address, b->identity_pk);

  g_signal_connect (session, "frame-received", G_CALLBACK (on_frame), a);
  WAIT_UNTIL (ep_session_get_state (session) == EP_SESSION_STATE_ESTABLISHED
              && b->incoming != NULL
              && ep_session_get_state (b->incoming) == EP_SESSION_STATE_ESTABLISHED, 5000);
  return session;
}
