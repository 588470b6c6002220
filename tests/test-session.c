/* test-session.c — EpSession and EpSessionManager on loopback
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define _GNU_SOURCE

#include "session-test-util.h"

/* What a filter does to the datagrams it sees. */
typedef struct
{
  GPtrArray *captured;        /* GBytes of every datagram, both directions */
  guint      drop_first[256]; /* per first byte: how many to drop */
  gboolean   duplicate;       /* send handshake packets twice */
  gboolean   flip;            /* send a copy with one bit flipped first */
  guint      flipped[256];    /* per first byte: how many were flipped */
  gboolean   drop_all;
  gboolean   injecting;
} Filter;

static gboolean
filter_cb (EpUdp          *udp,
           gboolean        outgoing,
           GSocketAddress *peer,
           const guint8   *data,
           gsize           len,
           gpointer        user_data)
{
  Filter *f = user_data;

  if (f->injecting)
    return TRUE;

  if (f->captured != NULL)
    g_ptr_array_add (f->captured, g_bytes_new (data, len));

  if (f->drop_all)
    return FALSE;

  if (!outgoing)
    return TRUE;

  if (f->drop_first[data[0]] > 0)
    {
      f->drop_first[data[0]]--;
      return FALSE;
    }

  if (f->flip && f->flipped[data[0]] < 3)
    {
      g_autofree guint8 *copy = g_memdup2 (data, len);
      gsize bit = g_test_rand_int_range (8, (gint32) len * 8);

      copy[bit / 8] ^= 1 << (bit % 8);
      f->flipped[data[0]]++;
      f->injecting = TRUE;
      ep_udp_send (udp, peer, copy, len, NULL);
      f->injecting = FALSE;
    }

  if (f->duplicate && data[0] != EP_PACKET_TRANSPORT)
    {
      f->injecting = TRUE;
      ep_udp_send (udp, peer, data, len, NULL);
      f->injecting = FALSE;
    }

  return TRUE;
}

static GError *send_error;

static void
on_send_failed (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GError **error = user_data;

  g_assert_false (ep_session_send_finish (EP_SESSION (object), result, error));
  g_assert_nonnull (*error);
}

static void
assert_one_session_each (Peer      *a,
                         Peer      *b,
                         EpSession *session)
{
  g_assert_cmpuint (ep_session_manager_get_n_sessions (a->manager), ==, 1);
  g_assert_cmpuint (ep_session_manager_get_n_sessions (b->manager), ==, 1);
  g_assert_true (ep_session_manager_lookup (a->manager, b->identity_pk) == session);
  g_assert_true (ep_session_manager_lookup (b->manager, a->identity_pk) == b->incoming);
  g_assert_cmpuint (ep_session_manager_get_n_pending (b->manager), ==, 0);
}

static void
exchange (Peer       *a,
          Peer       *b,
          EpSession  *session,
          const char *tag)
{
  g_autofree char *to_b = g_strdup_printf ("%s: from A to B", tag);
  g_autofree char *to_a = g_strdup_printf ("%s: from B to A", tag);

  send_text (session, to_b);
  send_text (b->incoming, to_a);
  WAIT_UNTIL (has_frame (b, to_b) && has_frame (a, to_a) && sends_pending == 0, 5000);
}

static void
test_session_handshake_and_data (void)
{
  Peer a, b;
  g_autoptr(EpSession) session = NULL;
  g_autoptr(GBytes) identity = NULL;

  context_setup ();
  peer_init (&a);
  peer_init (&b);

  session = ep_session_manager_connect (a.manager, b.address, b.identity_pk);
  g_assert_cmpint (ep_session_get_state (session), ==, EP_SESSION_STATE_CONNECTING);
  g_signal_connect (session, "frame-received", G_CALLBACK (on_frame), &a);

  /* The synchronous send needs the handshake done. */
  {
    g_autoptr(GBytes) frame = g_bytes_new_static ("too early", 9);
    g_autoptr(GError) error = NULL;

    g_assert_false (ep_session_send (session, frame, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  }

  /* Sent before the handshake: waits, then goes. */
  send_text (session, "early frame");
  WAIT_UNTIL (has_frame (&b, "early frame"), 5000);
  g_assert_cmpint (ep_session_get_state (session), ==, EP_SESSION_STATE_ESTABLISHED);
  g_assert_cmpint (ep_session_get_state (b.incoming), ==, EP_SESSION_STATE_ESTABLISHED);

  identity = ep_session_get_remote_identity (b.incoming);
  g_assert_cmpmem (g_bytes_get_data (identity, NULL), 32, a.identity_pk, 32);
  g_clear_pointer (&identity, g_bytes_unref);
  identity = ep_session_get_remote_identity (session);
  g_assert_cmpmem (g_bytes_get_data (identity, NULL), 32, b.identity_pk, 32);

  exchange (&a, &b, session, "one");
  exchange (&a, &b, session, "two");
  assert_one_session_each (&a, &b, session);

  /* The synchronous send, once established. */
  {
    g_autoptr(GBytes) frame = g_bytes_new_static ("sent at once", 12);
    g_autoptr(GError) error = NULL;

    g_assert_true (ep_session_send (session, frame, &error));
    g_assert_no_error (error);
    WAIT_UNTIL (has_frame (&b, "sent at once"), 3000);
  }
  g_assert_cmpuint (ep_session_get_counters (session)->frames_sent, ==, 4);
  g_assert_cmpuint (ep_session_get_counters (b.incoming)->frames_received, ==, 4);

  /* Connecting again gives the same session. */
  {
    g_autoptr(EpSession) again = ep_session_manager_connect (a.manager, b.address, b.identity_pk);
    g_assert_true (again == session);
  }

  /* Too large a frame is refused, not cut. */
  {
    g_autofree guint8 *big = g_malloc0 (EP_SESSION_MAX_FRAME + 1);
    g_autoptr(GBytes) frame = g_bytes_new_take (g_steal_pointer (&big), EP_SESSION_MAX_FRAME + 1);
    g_autoptr(GError) error = NULL;

    ep_session_send_async (session, frame, NULL, on_send_failed, &error);
    WAIT_UNTIL (error != NULL, 1000);
    g_assert_error (error, EP_SESSION_ERROR, EP_SESSION_ERROR_TOO_LARGE);
  }

  ep_session_close (session);
  g_assert_cmpint (ep_session_get_state (session), ==, EP_SESSION_STATE_CLOSED);
  g_assert_error ((GError *) ep_session_get_error (session), EP_SESSION_ERROR,
                  EP_SESSION_ERROR_CLOSED);
  g_assert_cmpuint (ep_session_manager_get_n_sessions (a.manager), ==, 0);

  peer_clear (&a);
  peer_clear (&b);
  context_teardown ();
}

static void
test_session_wrong_identity (void)
{
  Peer a, b, c;
  g_autoptr(EpSession) session = NULL;

  context_setup ();
  peer_init (&a);
  peer_init (&b);
  peer_init (&c);

  /* A calls B's address expecting C: B cannot even read the INIT (its
   * mac1 is keyed by C's identity) and never answers. */
  session = ep_session_manager_connect (a.manager, b.address, c.identity_pk);
  WAIT_UNTIL (ep_session_get_state (session) == EP_SESSION_STATE_CLOSED, 8000);
  g_assert_error ((GError *) ep_session_get_error (session), EP_SESSION_ERROR,
                  EP_SESSION_ERROR_TIMED_OUT);
  g_assert_cmpuint (ep_session_manager_get_counters (b.manager)->dropped_mac, >=, 1);
  g_assert_cmpuint (ep_session_manager_get_n_sessions (b.manager), ==, 0);
  g_assert_null (b.incoming);

  peer_clear (&a);
  peer_clear (&b);
  peer_clear (&c);
  context_teardown ();
}

/* An impostor that answers any INIT with its own, validly signed
 * identity: the initiator refuses it after message 2. */
typedef struct
{
  Peer             *impostor;
  EpNoiseHandshake *noise;
  gboolean          answered;
} Impostor;

static void
on_impostor_init (EpUdp          *udp,
                  GSocketAddress *from,
                  const guint8   *data,
                  gsize           len,
                  gpointer        user_data)
{
  Impostor *imp = user_data;
  guint8 packet[EP_RESPONSE_LEN];
  guint8 payload[EP_INIT_PADDING];
  guint8 identity[EP_IDENTITY_PAYLOAD_LEN];
  guint8 message[sizeof EP_SESSION_SIGN_CONTEXT - 1 + 32];
  gsize n;

  if (imp->answered || len != EP_INIT_LEN)
    return;
  imp->answered = TRUE;

  imp->noise = ep_noise_handshake_new (EP_NOISE_ROLE_RESPONDER,
                                       (const guint8 *) EP_SESSION_PROLOGUE,
                                       strlen (EP_SESSION_PROLOGUE), imp->impostor->static_sk);
  g_assert_true (ep_noise_handshake_read_message (imp->noise, data + 5, EP_INIT_NOISE_LEN,
                                                  payload, sizeof payload, &n, NULL));

  memcpy (message, EP_SESSION_SIGN_CONTEXT, sizeof EP_SESSION_SIGN_CONTEXT - 1);
  memcpy (message + sizeof EP_SESSION_SIGN_CONTEXT - 1,
          ep_noise_handshake_get_local_static (imp->noise), 32);
  identity[0] = 1;
  memcpy (identity + 1, imp->impostor->identity_pk, 32);
  crypto_sign_detached (identity + 33, NULL, message, sizeof message, imp->impostor->identity_sk);

  packet[0] = EP_PACKET_RESPONSE;
  ep_write_u32 (packet + 1, 7);
  memcpy (packet + 5, data + 1, 4);
  g_assert_true (ep_noise_handshake_write_message (imp->noise, identity, sizeof identity,
                                                   packet + 9, EP_RESPONSE_NOISE_LEN, &n, NULL));
  ep_udp_send (udp, from, packet, sizeof packet, NULL);
}

static void
test_session_impostor_refused (void)
{
  Peer a, b, evil;
  Impostor imp = { &evil, NULL, FALSE };
  g_autoptr(EpSession) session = NULL;

  context_setup ();
  peer_init (&a);
  peer_init (&b);
  peer_init (&evil);
  ep_udp_set_handler (evil.udp, EP_PACKET_INIT, on_impostor_init, &imp);

  session = ep_session_manager_connect (a.manager, evil.address, b.identity_pk);
  WAIT_UNTIL (ep_session_get_state (session) == EP_SESSION_STATE_CLOSED, 5000);
  g_assert_true (imp.answered);
  g_assert_error ((GError *) ep_session_get_error (session), EP_SESSION_ERROR,
                  EP_SESSION_ERROR_WRONG_IDENTITY);
  g_assert_cmpuint (ep_session_manager_get_counters (a.manager)->wrong_identity, ==, 1);

  g_clear_pointer (&imp.noise, ep_noise_handshake_free);
  ep_udp_set_handler (evil.udp, EP_PACKET_INIT, NULL, NULL);
  peer_clear (&a);
  peer_clear (&b);
  peer_clear (&evil);
  context_teardown ();
}

static void
test_session_refused_incoming (void)
{
  Peer a, b;
  g_autoptr(EpSession) session = NULL;

  context_setup ();
  peer_init (&a);
  peer_init (&b);
  b.accept = FALSE;

  session = ep_session_manager_connect (a.manager, b.address, b.identity_pk);
  {
    g_autoptr(GBytes) frame = g_bytes_new_static ("unwanted", 8);
    ep_session_send_async (session, frame, NULL, on_send_failed, &send_error);
  }
  WAIT_UNTIL (ep_session_manager_get_counters (b.manager)->refused_incoming >= 1, 5000);
  spin (200);
  g_assert_cmpint (ep_session_get_state (session), !=, EP_SESSION_STATE_ESTABLISHED);
  g_assert_cmpuint (ep_session_manager_get_n_sessions (b.manager), ==, 0);
  g_assert_cmpuint (b.frames->len, ==, 0);

  /* The queued frame fails when the session gives up. */
  ep_session_close (session);
  WAIT_UNTIL (send_error != NULL, 1000);
  g_assert_error (send_error, EP_SESSION_ERROR, EP_SESSION_ERROR_CLOSED);
  g_clear_error (&send_error);

  peer_clear (&a);
  peer_clear (&b);
  context_teardown ();
}

/* Every datagram B received, sent to it again: nothing new comes of it. */
static void
test_session_replay (void)
{
  Peer a, b;
  Filter fb = { 0 };
  g_autoptr(EpSession) session = NULL;
  guint frames_before;
  guint64 completed_before;
  const EpSessionCounters *counters;
  guint n_transport = 0;

  context_setup ();
  peer_init (&a);
  peer_init (&b);
  fb.captured = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  ep_udp_set_filter (b.udp, filter_cb, &fb);

  session = connect_pair (&a, &b);
  exchange (&a, &b, session, "replay 1");
  exchange (&a, &b, session, "replay 2");
  ep_udp_set_filter (b.udp, NULL, NULL);

  frames_before = b.frames->len;
  completed_before = ep_session_manager_get_counters (b.manager)->handshakes_completed;
  counters = ep_session_get_counters (b.incoming);

  for (guint i = 0; i < fb.captured->len; i++)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (fb.captured->pdata[i], &len);
      g_autoptr(GSocketAddress) from = NULL;

      /* Only what A sent B (the filter saw both directions). */
      if (data[0] != EP_PACKET_INIT && data[0] != EP_PACKET_FINAL && data[0] != EP_PACKET_TRANSPORT)
        continue;
      if (data[0] == EP_PACKET_TRANSPORT
          && ep_session_find_keypair (b.incoming, ep_read_u32 (data + 1)) == NULL)
        continue;
      if (data[0] == EP_PACKET_TRANSPORT)
        n_transport++;
      g_assert_true (ep_udp_send (a.udp, b.address, data, len, NULL));
    }
  g_assert_cmpuint (n_transport, >=, 2);

  WAIT_UNTIL (counters->dropped_replayed >= n_transport
              && ep_session_manager_get_counters (b.manager)->dropped_replayed_handshake >= 1, 3000);
  spin (100);

  g_assert_cmpuint (b.frames->len, ==, frames_before);
  g_assert_cmpuint (ep_session_manager_get_counters (b.manager)->handshakes_completed, ==,
                    completed_before);
  assert_one_session_each (&a, &b, session);

  /* Still working. */
  exchange (&a, &b, session, "after replay");

  g_ptr_array_unref (fb.captured);
  peer_clear (&a);
  peer_clear (&b);
  context_teardown ();
}

/* Each kind of packet first arrives with one bit flipped, then intact: the
 * damaged copy is dropped and the conversation goes on as if it never came. */
static void
test_session_bit_flip (void)
{
  Peer a, b;
  Filter fa = { 0 }, fb = { 0 };
  g_autoptr(EpSession) session = NULL;

  context_setup ();
  peer_init (&a);
  peer_init (&b);
  fa.flip = fb.flip = TRUE;
  ep_udp_set_filter (a.udp, filter_cb, &fa);
  ep_udp_set_filter (b.udp, filter_cb, &fb);

  session = connect_pair (&a, &b);
  exchange (&a, &b, session, "flip 1");
  exchange (&a, &b, session, "flip 2");

  g_assert_cmpuint (fa.flipped[EP_PACKET_INIT], >=, 1);
  g_assert_cmpuint (fb.flipped[EP_PACKET_RESPONSE], >=, 1);
  g_assert_cmpuint (fa.flipped[EP_PACKET_FINAL], >=, 1);
  g_assert_cmpuint (fa.flipped[EP_PACKET_TRANSPORT], >=, 1);
  g_assert_cmpuint (fb.flipped[EP_PACKET_TRANSPORT], >=, 1);

  /* Exactly the frames sent, each once. */
  g_assert_cmpuint (b.frames->len, ==, 2);
  g_assert_cmpuint (a.frames->len, ==, 2);
  g_assert_cmpuint (ep_session_manager_get_counters (b.manager)->handshakes_completed, ==, 1);
  g_assert_cmpuint (ep_session_manager_get_counters (a.manager)->handshakes_completed, ==, 1);
  assert_one_session_each (&a, &b, session);

  ep_udp_set_filter (a.udp, NULL, NULL);
  ep_udp_set_filter (b.udp, NULL, NULL);
  peer_clear (&a);
  peer_clear (&b);
  context_teardown ();
}

/* Every bit of every packet of a conversation flipped, one at a time, and
 * fed to the receiver: nothing is accepted. */
static void
test_session_bit_flip_sweep (void)
{
  Peer a, b;
  Filter fb = { 0 };
  g_autoptr(EpSession) session = NULL;
  guint frames_before;
  guint64 completed_before;

  context_setup ();
  peer_init (&a);
  peer_init (&b);
  fb.captured = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  ep_udp_set_filter (b.udp, filter_cb, &fb);
  session = connect_pair (&a, &b);
  exchange (&a, &b, session, "sweep");
  ep_udp_set_filter (b.udp, NULL, NULL);

  frames_before = b.frames->len;
  completed_before = ep_session_manager_get_counters (b.manager)->handshakes_completed;

  for (guint i = 0; i < fb.captured->len; i++)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (fb.captured->pdata[i], &len);
      g_autofree guint8 *copy = g_memdup2 (data, len);

      for (gsize bit = 0; bit < len * 8; bit++)
        {
          copy[bit / 8] ^= 1 << (bit % 8);
          ep_session_manager_handle_datagram (b.manager, a.address, copy, len);
          copy[bit / 8] ^= 1 << (bit % 8);
        }
    }

  g_assert_cmpuint (b.frames->len, ==, frames_before);
  g_assert_cmpuint (ep_session_manager_get_counters (b.manager)->handshakes_completed, ==,
                    completed_before);
  g_assert_cmpuint (ep_session_manager_get_n_sessions (b.manager), ==, 1);
  exchange (&a, &b, session, "after sweep");

  g_ptr_array_unref (fb.captured);
  peer_clear (&a);
  peer_clear (&b);
  context_teardown ();
}

static void
run_lossy_handshake (guint8   type,
                     gboolean from_responder,
                     gboolean duplicate)
{
  Peer a, b;
  Filter f = { 0 };
  g_autoptr(EpSession) session = NULL;

  context_setup ();
  peer_init (&a);
  peer_init (&b);

  if (duplicate)
    f.duplicate = TRUE;
  else
    f.drop_first[type] = 1;
  ep_udp_set_filter (from_responder ? b.udp : a.udp, filter_cb, &f);

  session = connect_pair (&a, &b);
  exchange (&a, &b, session, "lossy");
  g_assert_cmpuint (f.drop_first[type], ==, 0);
  g_assert_cmpuint (ep_session_manager_get_counters (a.manager)->handshakes_completed, ==, 1);
  g_assert_cmpuint (ep_session_manager_get_counters (b.manager)->handshakes_completed, ==, 1);
  g_assert_cmpuint (b.frames->len, ==, 1);
  assert_one_session_each (&a, &b, session);

  ep_udp_set_filter (from_responder ? b.udp : a.udp, NULL, NULL);
  peer_clear (&a);
  peer_clear (&b);
  context_teardown ();
}

static void
test_session_lost_handshake (void)
{
  run_lossy_handshake (EP_PACKET_INIT, FALSE, FALSE);
  run_lossy_handshake (EP_PACKET_RESPONSE, TRUE, FALSE);
  run_lossy_handshake (EP_PACKET_FINAL, FALSE, FALSE);
  /* The responder's first keepalive confirms message 3. */
  run_lossy_handshake (EP_PACKET_TRANSPORT, TRUE, FALSE);
}

static void
test_session_duplicated_handshake (void)
{
  run_lossy_handshake (0, FALSE, TRUE);
  run_lossy_handshake (0, TRUE, TRUE);
}

static void
test_session_simultaneous_open (void)
{
  Peer a, b;
  g_autoptr(EpSession) ab = NULL;
  g_autoptr(EpSession) ba = NULL;

  context_setup ();
  peer_init (&a);
  peer_init (&b);
  a.accept = b.accept = FALSE;   /* no incoming session may appear */

  ab = ep_session_manager_connect (a.manager, b.address, b.identity_pk);
  ba = ep_session_manager_connect (b.manager, a.address, a.identity_pk);
  g_signal_connect (ab, "frame-received", G_CALLBACK (on_frame), &a);
  g_signal_connect (ba, "frame-received", G_CALLBACK (on_frame), &b);
  WAIT_UNTIL (ep_session_get_state (ab) == EP_SESSION_STATE_ESTABLISHED
              && ep_session_get_state (ba) == EP_SESSION_STATE_ESTABLISHED, 5000);

  send_text (ab, "crossed A");
  send_text (ba, "crossed B");
  WAIT_UNTIL (has_frame (&b, "crossed A") && has_frame (&a, "crossed B"), 5000);

  g_assert_cmpuint (ep_session_manager_get_n_sessions (a.manager), ==, 1);
  g_assert_cmpuint (ep_session_manager_get_n_sessions (b.manager), ==, 1);
  g_assert_true (ep_session_manager_lookup (a.manager, b.identity_pk) == ab);
  g_assert_true (ep_session_manager_lookup (b.manager, a.identity_pk) == ba);
  /* The tie-break left one handshake, not two. */
  g_assert_cmpuint (ep_session_manager_get_counters (a.manager)->handshakes_completed, ==, 1);
  g_assert_cmpuint (ep_session_manager_get_counters (b.manager)->handshakes_completed, ==, 1);
  g_assert_null (a.incoming);
  g_assert_null (b.incoming);
  g_assert_cmpuint (ep_session_manager_get_counters (a.manager)->refused_incoming, ==, 0);
  g_assert_cmpuint (ep_session_manager_get_counters (b.manager)->refused_incoming, ==, 0);

  peer_clear (&a);
  peer_clear (&b);
  context_teardown ();
}

typedef struct
{
  Peer      *from;
  EpSession *session;
  guint      sent;
  guint      total;
} Stream;

static gboolean
on_stream_tick (gpointer user_data)
{
  Stream *s = user_data;
  g_autofree char *text = g_strdup_printf ("frame %u", s->sent);

  send_text (s->session, text);
  s->sent++;
  return s->sent < s->total ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
frames_in_order (Peer  *peer,
                 guint  total)
{
  if (peer->frames->len != total)
    return FALSE;
  for (guint i = 0; i < total; i++)
    {
      g_autofree char *text = g_strdup_printf ("frame %u", i);
      gsize len;
      const char *data = g_bytes_get_data (peer->frames->pdata[i], &len);

      if (len != strlen (text) || memcmp (data, text, len) != 0)
        return FALSE;
    }
  return TRUE;
}

/* Keys renewed every 150 ms (and every 40 messages) under a steady stream
 * both ways: every frame arrives, in order. */
static void
test_session_rekey (void)
{
  Peer a, b;
  EpSessionTiming timing = fast_timing;
  g_autoptr(EpSession) session = NULL;
  Stream sa = { &a, NULL, 0, 150 }, sb = { &b, NULL, 0, 150 };
  GSource *ta, *tb;

  context_setup ();
  peer_init (&a);
  peer_init (&b);
  timing.rekey_after_ms = 150;
  timing.rekey_after_messages = 40;
  ep_session_manager_set_timing (a.manager, &timing);
  ep_session_manager_set_timing (b.manager, &timing);

  session = connect_pair (&a, &b);
  sa.session = session;
  sb.session = b.incoming;

  ta = g_timeout_source_new (8);
  g_source_set_callback (ta, on_stream_tick, &sa, NULL);
  g_source_attach (ta, test_context);
  tb = g_timeout_source_new (11);
  g_source_set_callback (tb, on_stream_tick, &sb, NULL);
  g_source_attach (tb, test_context);

  WAIT_UNTIL (sa.sent == sa.total && sb.sent == sb.total && sends_pending == 0, 10000);
  WAIT_UNTIL (b.frames->len >= sa.total && a.frames->len >= sb.total, 3000);
  g_assert_true (frames_in_order (&b, sa.total));
  g_assert_true (frames_in_order (&a, sb.total));

  g_assert_cmpuint (ep_session_get_counters (session)->handshakes, >=, 4);
  g_assert_cmpuint (ep_session_get_counters (b.incoming)->handshakes, >=, 4);
  g_assert_cmpuint (ep_session_get_counters (b.incoming)->dropped_auth, ==, 0);
  /* A rekey may be under way: only the sessions are counted. */
  g_assert_cmpuint (ep_session_manager_get_n_sessions (a.manager), ==, 1);
  g_assert_cmpuint (ep_session_manager_get_n_sessions (b.manager), ==, 1);

  g_source_destroy (ta);
  g_source_unref (ta);
  g_source_destroy (tb);
  g_source_unref (tb);
  peer_clear (&a);
  peer_clear (&b);
  context_teardown ();
}

static gboolean
captured_contains (GPtrArray    *captured,
                   const guint8 *needle,
                   gsize         len)
{
  for (guint i = 0; i < captured->len; i++)
    {
      gsize n;
      const guint8 *data = g_bytes_get_data (captured->pdata[i], &n);

      if (memmem (data, n, needle, len) != NULL)
        return TRUE;
    }
  return FALSE;
}

/* Every datagram on the wire of a conversation: no plaintext, and not even
 * the identity keys of either side. */
static void
test_session_capture (void)
{
  Peer a, b;
  Filter fa = { 0 };
  g_autoptr(EpSession) session = NULL;
  const char *secrets[] = {
    "Meet me at the old mill at midnight",
    "The password is swordfish",
    "attack at dawn attack at dawn attack at dawn",
  };

  context_setup ();
  peer_init (&a);
  peer_init (&b);
  fa.captured = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  ep_udp_set_filter (a.udp, filter_cb, &fa);

  session = connect_pair (&a, &b);
  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      send_text (session, secrets[i]);
      send_text (b.incoming, secrets[i]);
    }
  WAIT_UNTIL (a.frames->len == G_N_ELEMENTS (secrets) && b.frames->len == G_N_ELEMENTS (secrets),
              5000);
  g_assert_true (has_frame (&b, secrets[2]));

  /* Both directions went through A's socket. */
  g_assert_cmpuint (fa.captured->len, >=, 3 + 2 * G_N_ELEMENTS (secrets));
  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      g_assert_false (captured_contains (fa.captured, (const guint8 *) secrets[i],
                                         strlen (secrets[i])));
      /* Not even a 6-byte piece of it. */
      for (gsize j = 0; j + 6 <= strlen (secrets[i]); j++)
        g_assert_false (captured_contains (fa.captured, (const guint8 *) secrets[i] + j, 6));
    }
  g_assert_false (captured_contains (fa.captured, a.identity_pk, 32));
  g_assert_false (captured_contains (fa.captured, b.identity_pk, 32));

  ep_udp_set_filter (a.udp, NULL, NULL);
  g_ptr_array_unref (fa.captured);
  peer_clear (&a);
  peer_clear (&b);
  context_teardown ();
}

/* When the peer goes silent the session closes; keepalives keep a quiet
 * but live one open. */
static void
test_session_idle (void)
{
  Peer a, b;
  Filter fb = { 0 };
  EpSessionTiming timing = fast_timing;
  g_autoptr(EpSession) session = NULL;

  context_setup ();
  peer_init (&a);
  peer_init (&b);
  timing.keepalive_ms = 100;
  timing.idle_timeout_ms = 400;
  ep_session_manager_set_timing (a.manager, &timing);
  ep_session_manager_set_timing (b.manager, &timing);

  session = connect_pair (&a, &b);
  spin (1000);
  g_assert_cmpint (ep_session_get_state (session), ==, EP_SESSION_STATE_ESTABLISHED);
  g_assert_cmpuint (ep_session_get_counters (session)->keepalives_received, >=, 3);

  fb.drop_all = TRUE;
  ep_udp_set_filter (b.udp, filter_cb, &fb);
  WAIT_UNTIL (ep_session_get_state (session) == EP_SESSION_STATE_CLOSED, 3000);
  g_assert_error ((GError *) ep_session_get_error (session), EP_SESSION_ERROR,
                  EP_SESSION_ERROR_IDLE);
  WAIT_UNTIL (ep_session_get_state (b.incoming) == EP_SESSION_STATE_CLOSED, 3000);

  ep_udp_set_filter (b.udp, NULL, NULL);
  peer_clear (&a);
  peer_clear (&b);
  context_teardown ();
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/ep/session/handshake-and-data", test_session_handshake_and_data);
  g_test_add_func ("/ep/session/wrong-identity", test_session_wrong_identity);
  g_test_add_func ("/ep/session/impostor-refused", test_session_impostor_refused);
  g_test_add_func ("/ep/session/refused-incoming", test_session_refused_incoming);
  g_test_add_func ("/ep/session/replay", test_session_replay);
  g_test_add_func ("/ep/session/bit-flip", test_session_bit_flip);
  g_test_add_func ("/ep/session/bit-flip-sweep", test_session_bit_flip_sweep);
  g_test_add_func ("/ep/session/lost-handshake", test_session_lost_handshake);
  g_test_add_func ("/ep/session/duplicated-handshake", test_session_duplicated_handshake);
  g_test_add_func ("/ep/session/simultaneous-open", test_session_simultaneous_open);
  g_test_add_func ("/ep/session/rekey", test_session_rekey);
  g_test_add_func ("/ep/session/capture", test_session_capture);
  g_test_add_func ("/ep/session/idle", test_session_idle);

  return g_test_run ();
}
