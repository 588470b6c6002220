/* test-node.c — EpNodes talking on loopback: requests, chat, delivery
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "node-test-util.h"

static void
test_request_accept_chat (void)
{
  TestNode a = { 0 }, b = { 0 };
  Count got = { &b, 1 }, back = { &a, 1 }, delivered = { &a, 1 };
  EpContact *contact;
  EpMessage *message;
  gboolean offline = FALSE;

  test_node_start (&a);
  test_node_start (&b);
  ep_node_set_name (a.node, "Alice");

  befriend (&a, &b, TRUE);

  /* Presence: both see each other online. */
  contact = ep_contact_list_lookup (ep_node_get_contacts (a.node), ep_node_get_key (b.node));
  g_assert_nonnull (contact);
  g_assert_cmpint (ep_contact_get_presence (contact), ==, EP_CONTACT_PRESENCE_ONLINE);
  g_assert_cmpint (ep_contact_get_request_state (contact), ==, EP_CONTACT_REQUEST_ACCEPTED);
  g_assert_cmpuint (a.presence_changes, >=, 1);
  contact = ep_contact_list_lookup (ep_node_get_contacts (b.node), ep_node_get_key (a.node));
  g_assert_cmpint (ep_contact_get_presence (contact), ==, EP_CONTACT_PRESENCE_ONLINE);
  g_assert_cmpstr (ep_contact_get_name (contact), ==, "Alice");

  /* A → B, with statuses. */
  send_many (&a, &b, "hi", 1);
  g_assert_true (spin_until (received_at_least, &got, 10));
  message = g_ptr_array_index (b.received, 0);
  g_assert_cmpstr (ep_message_get_text (message), ==, "hi 0");
  g_assert_cmpstr (ep_message_get_sender_key (message), ==, ep_node_get_key (a.node));
  g_assert_true (spin_until (delivered_at_least, &delivered, 10));
  g_assert_cmpuint (a.n_sent, ==, 1);
  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (a.status, ep_message_get_id (message))),
                   ==, EP_MESSAGE_STATUS_DELIVERED);

  /* B → A. */
  send_many (&b, &a, "hello back", 1);
  g_assert_true (spin_until (received_at_least, &back, 10));
  g_assert_cmpstr (ep_message_get_text (g_ptr_array_index (a.received, 0)), ==, "hello back 0");
  delivered.t = &b;
  g_assert_true (spin_until (delivered_at_least, &delivered, 10));

  /* B goes away: A sees it offline once the session times out. */
  test_node_stop (&b);
  contact = ep_contact_list_lookup (ep_node_get_contacts (a.node), b.hex);
  {
    gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

    while (g_get_monotonic_time () < deadline
           && ep_contact_get_presence (contact) != EP_CONTACT_PRESENCE_OFFLINE)
      g_main_context_iteration (g_main_context_get_thread_default (), TRUE);
    offline = ep_contact_get_presence (contact) == EP_CONTACT_PRESENCE_OFFLINE;
  }
  g_assert_true (offline);
  g_assert_nonnull (ep_contact_get_last_seen (contact));

  test_node_clear (&a);
  test_node_clear (&b);
}

static void
test_offline_queue (void)
{
  TestNode a = { 0 }, b = { 0 };
  Count all = { &b, 100 }, delivered = { &a, 100 };

  test_node_start (&a);
  test_node_start (&b);
  befriend (&a, &b, TRUE);
  test_node_stop (&b);

  send_many (&a, &b, "offline", 100);
  g_assert_cmpuint (a.n_delivered, ==, 0);

  /* B starts later, on another port. */
  test_node_start (&b);
  test_node_hint (&a, &b);
  g_assert_true (spin_until (received_at_least, &all, 30));
  g_assert_true (spin_until (delivered_at_least, &delivered, 30));
  spin_for (300);
  g_assert_cmpuint (b.received->len, ==, 100);
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *expected = g_strdup_printf ("offline %u", i);

      g_assert_cmpstr (ep_message_get_text (g_ptr_array_index (b.received, i)), ==, expected);
    }
  check_history (&b, &a, "offline", 100);

  test_node_clear (&a);
  test_node_clear (&b);
}

static void
test_restart_sender (void)
{
  TestNode a = { 0 }, b = { 0 };
  Count all = { &b, 50 };

  test_node_start (&a);
  test_node_start (&b);
  befriend (&a, &b, TRUE);
  test_node_stop (&b);

  /* A queues, stops, starts again: the outbox survives. */
  send_many (&a, &b, "kept", 50);
  test_node_stop (&a);
  test_node_start (&a);
  test_node_start (&b);
  test_node_hint (&a, &b);
  g_assert_true (spin_until (received_at_least, &all, 30));
  spin_for (300);
  g_assert_cmpuint (b.received->len, ==, 50);
  check_history (&b, &a, "kept", 50);

  test_node_clear (&a);
  test_node_clear (&b);
}

/* Loss, duplication and reordering on both sides' datagrams. */
typedef struct
{
  GRand    *rand;
  gboolean  bypass;
  guint     dropped;
  guint     duplicated;
  guint     delayed;
} Chaos;

typedef struct
{
  EpUdp          *udp;
  GSocketAddress *to;
  GBytes         *data;
  Chaos          *chaos;
} Delayed;

static gboolean
send_delayed (gpointer user_data)
{
  Delayed *d = user_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (d->data, &len);

  d->chaos->bypass = TRUE;
  ep_udp_send (d->udp, d->to, data, len, NULL);
  d->chaos->bypass = FALSE;
  g_object_unref (d->udp);
  g_object_unref (d->to);
  g_bytes_unref (d->data);
  g_free (d);
  return G_SOURCE_REMOVE;
}

static gboolean
chaos_filter (EpUdp          *udp,
              gboolean        outgoing,
              GSocketAddress *peer,
              const guint8   *data,
              gsize           len,
              gpointer        user_data)
{
  Chaos *chaos = user_data;
  double r;

  if (!outgoing || chaos->bypass)
    return TRUE;
  r = g_rand_double (chaos->rand);
  if (r < 0.30)
    {
      chaos->dropped++;
      return FALSE;
    }
  if (r < 0.40 || r < 0.50)
    {
      Delayed *d = g_new (Delayed, 1);

      d->udp = g_object_ref (udp);
      d->to = g_object_ref (peer);
      d->data = g_bytes_new (data, len);
      d->chaos = chaos;
      {
        GSource *source = g_timeout_source_new (1 + g_rand_int_range (chaos->rand, 0, 30));

        g_source_set_callback (source, send_delayed, d, NULL);
        g_source_attach (source, g_main_context_get_thread_default ());
        g_source_unref (source);
      }
      if (r < 0.40)
        {
          /* Duplicated: this copy now, the other later. */
          chaos->duplicated++;
          return TRUE;
        }
      /* Reordered: only the late copy. */
      chaos->delayed++;
      return FALSE;
    }
  return TRUE;
}

static void
test_lossy (void)
{
  TestNode a = { 0 }, b = { 0 };
  Chaos chaos = { 0 };
  guint n = 10000;
  Count all = { &b, n }, delivered = { &a, n };
  gint64 start;

  if (g_getenv ("EP_TEST_LOSSY_N") != NULL)
    n = all.n = delivered.n = (guint) g_ascii_strtoull (g_getenv ("EP_TEST_LOSSY_N"), NULL, 10);

  chaos.rand = g_rand_new_with_seed (6);
  test_node_start (&a);
  test_node_start (&b);
  ep_udp_set_filter (ep_node_get_udp (a.node), chaos_filter, &chaos);
  ep_udp_set_filter (ep_node_get_udp (b.node), chaos_filter, &chaos);
  befriend (&a, &b, TRUE);

  start = g_get_monotonic_time ();
  send_many (&a, &b, "lossy", n);
  g_assert_true (spin_until (received_at_least, &all, 90));
  g_assert_true (spin_until (delivered_at_least, &delivered, 60));
  g_test_message ("%u messages through 30%% loss in %.1f s: %u dropped, %u duplicated, "
                  "%u reordered datagrams, %" G_GUINT64_FORMAT " retransmissions",
                  n, (g_get_monotonic_time () - start) / 1e6, chaos.dropped, chaos.duplicated,
                  chaos.delayed, ep_node_get_counters (a.node)->messages_retransmitted);
  g_assert_cmpuint (chaos.dropped, >, 0);
  g_assert_cmpuint (chaos.duplicated, >, 0);
  g_assert_cmpuint (chaos.delayed, >, 0);
  spin_for (300);
  g_assert_cmpuint (b.received->len, ==, n);
  check_history (&b, &a, "lossy", n);

  ep_udp_set_filter (ep_node_get_udp (a.node), NULL, NULL);
  ep_udp_set_filter (ep_node_get_udp (b.node), NULL, NULL);
  test_node_clear (&a);
  test_node_clear (&b);
  spin_for (50);
  g_rand_free (chaos.rand);
}

/* Three 64 KiB messages through the same loss: the fragments of every copy
 * sent fill the receiver's gaps. */
static void
test_large_lossy (void)
{
  TestNode a = { 0 }, b = { 0 };
  Chaos chaos = { 0 };
  Count got = { &b, 3 };
  g_autofree char *text = g_malloc (EP_FRAME_MAX_TEXT + 1);

  for (guint i = 0; i < EP_FRAME_MAX_TEXT; i++)
    text[i] = "0123456789abcdef"[(i * 31 + i / 7) % 16];
  text[EP_FRAME_MAX_TEXT] = '\0';

  chaos.rand = g_rand_new_with_seed (64);
  test_node_start (&a);
  test_node_start (&b);
  ep_udp_set_filter (ep_node_get_udp (a.node), chaos_filter, &chaos);
  ep_udp_set_filter (ep_node_get_udp (b.node), chaos_filter, &chaos);
  befriend (&a, &b, TRUE);

  for (guint i = 0; i < 3; i++)
    {
      Sends s = { 1, 0 };

      text[0] = 'A' + i;
      ep_node_send_message_async (a.node, test_node_key (&b), text, NULL, on_sent, &s);
      g_assert_true (spin_until (sends_done, &s, 10));
    }
  g_assert_true (spin_until (received_at_least, &got, 60));
  spin_for (200);
  g_assert_cmpuint (b.received->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      EpMessage *message = g_ptr_array_index (b.received, i);

      text[0] = ep_message_get_text (message)[0];
      g_assert_cmpstr (ep_message_get_text (message), ==, text);
    }
  g_assert_cmpuint (chaos.dropped, >, 100);

  ep_udp_set_filter (ep_node_get_udp (a.node), NULL, NULL);
  ep_udp_set_filter (ep_node_get_udp (b.node), NULL, NULL);
  test_node_clear (&a);
  test_node_clear (&b);
  spin_for (50);
  g_rand_free (chaos.rand);
}

static void
test_large_message (void)
{
  TestNode a = { 0 }, b = { 0 };
  Count got = { &b, 1 };
  g_autofree char *text = g_malloc (EP_FRAME_MAX_TEXT + 1);
  Sends s = { 1, 0 };

  for (guint i = 0; i < EP_FRAME_MAX_TEXT; i++)
    text[i] = "abcdefghijklmnopqrstuvwxyz0123456789 \n\"\\"[(i * 7 + i / 13) % 40];
  text[EP_FRAME_MAX_TEXT] = '\0';

  test_node_start (&a);
  test_node_start (&b);
  befriend (&a, &b, TRUE);
  ep_node_send_message_async (a.node, test_node_key (&b), text, NULL, on_sent, &s);
  g_assert_true (spin_until (sends_done, &s, 10));
  g_assert_cmpuint (s.failed, ==, 0);
  g_assert_true (spin_until (received_at_least, &got, 20));
  g_assert_cmpuint (strlen (ep_message_get_text (g_ptr_array_index (b.received, 0))), ==,
                    EP_FRAME_MAX_TEXT);
  g_assert_cmpstr (ep_message_get_text (g_ptr_array_index (b.received, 0)), ==, text);

  test_node_clear (&a);
  test_node_clear (&b);
}

static gboolean
nospam_dropped (gpointer data)
{
  return ep_node_get_counters (((TestNode *) data)->node)->requests_dropped_nospam >= 2;
}

static void
test_wrong_nospam (void)
{
  TestNode a = { 0 }, b = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *wrong = NULL;
  guint32 nospam;

  test_node_start (&a);
  test_node_start (&b);
  nospam = ep_identity_get_nospam (ep_node_get_identity (b.node));
  wrong = ep_contact_id_format (test_node_key (&b), nospam ^ 0x5a5a5a5a);
  ep_node_add_contact (a.node, wrong, "let me in", &error);
  g_assert_no_error (error);
  test_node_hint (&a, &b);

  /* A tries again and again; every one is dropped. */
  g_assert_true (spin_until (nospam_dropped, &b, 15));
  g_assert_cmpuint (b.requests->len, ==, 0);
  g_assert_cmpuint (ep_node_get_n_pending_requests (b.node), ==, 0);

  /* The right ID gets through; a new nospam stops it again. */
  ep_node_block_contact (a.node, test_node_key (&b), NULL);
  ep_node_add_contact (a.node, ep_identity_get_contact_id (ep_node_get_identity (b.node)),
                       "me again", &error);
  g_assert_no_error (error);
  g_assert_true (spin_until (has_request, &b, 15));
  g_assert_cmpstr (b.last_request_text, ==, "me again");

  test_node_clear (&a);
  test_node_clear (&b);
}

static gboolean
refused_some (gpointer data)
{
  return ep_node_get_counters (((TestNode *) data)->node)->incoming_refused >= 2;
}

static gboolean
got_declined (gpointer data)
{
  return ((TestNode *) data)->answered_no > 0;
}

static void
test_nospam_and_block (void)
{
  TestNode a = { 0 }, b = { 0 }, c = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *old_id = NULL;

  test_node_start (&a);
  test_node_start (&b);
  test_node_start (&c);

  /* B changes its nospam: the old ID no longer gets through. */
  old_id = g_strdup (ep_identity_get_contact_id (ep_node_get_identity (b.node)));
  g_assert_true (ep_node_reset_nospam (b.node, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (old_id, !=, ep_identity_get_contact_id (ep_node_get_identity (b.node)));
  ep_node_add_contact (a.node, old_id, "old", &error);
  g_assert_no_error (error);
  test_node_hint (&a, &b);
  g_assert_true (spin_until (nospam_dropped, &b, 15));
  g_assert_cmpuint (b.requests->len, ==, 0);

  /* B blocks C before C asks: C's sessions are refused. */
  g_assert_true (ep_node_block_contact (b.node, test_node_key (&c), &error));
  ep_node_add_contact (c.node, ep_identity_get_contact_id (ep_node_get_identity (b.node)),
                       "me", &error);
  g_assert_no_error (error);
  test_node_hint (&c, &b);
  g_assert_true (spin_until (refused_some, &b, 15));
  g_assert_cmpuint (b.requests->len, ==, 0);
  g_assert_false (ep_node_is_connected (c.node, test_node_key (&b)));

  /* A declined request leaves no contact behind, and a later one comes. */
  ep_node_block_contact (a.node, test_node_key (&b), NULL);
  ep_node_add_contact (a.node, ep_identity_get_contact_id (ep_node_get_identity (b.node)),
                       "new", &error);
  g_assert_no_error (error);
  g_assert_true (spin_until (has_request, &b, 15));
  g_assert_true (ep_node_decline_request (b.node, test_node_key (&a), &error));
  g_assert_no_error (error);
  g_assert_null (ep_contact_list_lookup (ep_node_get_contacts (b.node), a.hex));
  g_assert_true (spin_until (got_declined, &a, 15));
  g_assert_cmpint (ep_contact_get_request_state (
                     ep_contact_list_lookup (ep_node_get_contacts (a.node), b.hex)),
                   ==, EP_CONTACT_REQUEST_DECLINED);

  test_node_clear (&a);
  test_node_clear (&b);
  test_node_clear (&c);
}

static const EpSessionTiming flood_timing = {
  .tick_ms = 20,
  .handshake_retry_ms = 200,
  .handshake_retry_max_ms = 400,
  .handshake_timeout_ms = 700,
  .rekey_after_ms = 600000,
  .rekey_after_messages = G_GUINT64_CONSTANT (1) << 20,
  .keepalive_ms = 200,
  .idle_timeout_ms = 1500,
  .old_keys_ms = 2000,
  .cookie_secret_ms = 120000,
};

/* Raw peers flooding requests from @address. */
typedef struct
{
  EpUdp            *udp;
  EpSessionManager *manager;
  EpSession        *session;
  gboolean          done;
} Flooder;

static void
make_manager (const guint8 sign[64],
              const guint8 stat[32],
              gpointer     user_data)
{
  Flooder *f = user_data;

  f->manager = ep_session_manager_new (f->udp, sign, stat);
}

static void
on_flooder_state (EpSession *session,
                  Flooder   *f)
{
  if (ep_session_get_state (session) == EP_SESSION_STATE_ESTABLISHED)
    {
      g_autoptr(EpFrame) frame = ep_frame_new (EP_FRAME_REQUEST);
      g_autoptr(GBytes) bytes = NULL;

      frame->nospam = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (session), "nospam"));
      frame->name = g_strdup ("flood");
      frame->text = g_strdup ("flood");
      bytes = ep_frame_encode (frame, NULL);
      ep_session_send (session, bytes, NULL);
      f->done = TRUE;
    }
  else if (ep_session_get_state (session) == EP_SESSION_STATE_CLOSED)
    f->done = TRUE;
}

typedef struct
{
  Flooder *flooders;
  guint    n;
} Flood;

static gboolean
flood_done (gpointer data)
{
  Flood *flood = data;

  for (guint i = 0; i < flood->n; i++)
    if (!flood->flooders[i].done)
      return FALSE;
  return TRUE;
}

/* @n requests, @batch at a time, from 127.0.0.x (x from @first_host,
 * advancing by @host_step per request). */
static void
flood (TestNode *target,
       guint     n,
       guint     batch,
       guint     first_host,
       guint     host_step)
{
  g_autoptr(GSocketAddress) to =
    g_inet_socket_address_new_from_string ("127.0.0.1", ep_node_get_port (target->node));
  guint32 nospam = ep_identity_get_nospam (ep_node_get_identity (target->node));

  for (guint done = 0; done < n; done += batch)
    {
      Flood fl = { g_new0 (Flooder, batch), MIN (batch, n - done) };

      for (guint i = 0; i < fl.n; i++)
        {
          Flooder *f = &fl.flooders[i];
          g_autoptr(EpIdentity) identity = ep_identity_new_random ();
          g_autoptr(GError) error = NULL;
          g_autofree char *host = g_strdup_printf ("127.0.0.%u",
                                                   first_host + (done + i) * host_step);

          f->udp = ep_udp_new (host, 0, &error);
          g_assert_no_error (error);
          ep_identity_with_secrets (identity, make_manager, f);
          ep_session_manager_set_timing (f->manager, &flood_timing);
          f->session = ep_session_manager_connect (f->manager, to, test_node_key (target));
          g_object_set_data (G_OBJECT (f->session), "nospam", GUINT_TO_POINTER (nospam));
          g_signal_connect (f->session, "state-changed", G_CALLBACK (on_flooder_state), f);
        }
      g_assert_true (spin_until (flood_done, &fl, 20));
      spin_for (30);
      for (guint i = 0; i < fl.n; i++)
        {
          Flooder *f = &fl.flooders[i];

          g_signal_handlers_disconnect_by_data (f->session, f);
          g_object_unref (f->session);
          g_object_unref (f->manager);
          g_object_unref (f->udp);
        }
      g_free (fl.flooders);
    }
}

static void
test_request_flood (void)
{
  TestNode b = { 0 };
  const EpNodeCounters *counters;

  test_node_start (&b);

  /* One address: its rate limit stops it long before the cap. */
  flood (&b, 1000, 250, 1, 0);
  spin_for (200);
  counters = ep_node_get_counters (b.node);
  g_test_message ("one address: %u pending, %" G_GUINT64_FORMAT " refused, %"
                  G_GUINT64_FORMAT " over the rate", ep_node_get_n_pending_requests (b.node),
                  counters->incoming_refused, counters->requests_dropped_rate);
  g_assert_cmpuint (ep_node_get_n_pending_requests (b.node), <=, EP_NODE_MAX_PENDING_REQUESTS);
  g_assert_cmpuint (ep_node_get_n_pending_requests (b.node), >, 0);
  g_assert_cmpuint (counters->requests_dropped_rate, >, 0);

  /* Many addresses: the cap holds. */
  flood (&b, 100, 50, 2, 1);
  spin_for (200);
  g_assert_cmpuint (ep_node_get_n_pending_requests (b.node), ==, EP_NODE_MAX_PENDING_REQUESTS);
  g_assert_cmpuint (b.requests->len, ==, EP_NODE_MAX_PENDING_REQUESTS);
  g_assert_cmpuint (counters->requests_dropped_full, >, 0);

  test_node_clear (&b);
}

static void
test_dht_presence (void)
{
  TestNode a = { 0 }, b = { 0 };
  Count got = { &b, 1 }, delivered = { &a, 1 };
  Pair pair = { &a, &b };
  DhtNet net = { 0 };
  gint64 start;

  dht_net_start (&net, 24);
  a.bootstrap = b.bootstrap = net.bootstrap;
  test_node_start (&a);
  test_node_start (&b);

  /* No LAN, no address: A finds B's presence record in the DHT; B's answer
   * goes back over the session A opened. */
  start = g_get_monotonic_time ();
  befriend (&a, &b, FALSE);
  g_test_message ("added, asked, accepted and connected through the DHT in %.0f ms",
                  (g_get_monotonic_time () - start) / 1e3);
  g_assert_cmpuint (ep_node_get_counters (a.node)->presence_resolved, >=, 1);
  send_many (&a, &b, "via the DHT", 1);
  g_assert_true (spin_until (received_at_least, &got, 10));
  g_assert_true (spin_until (delivered_at_least, &delivered, 10));

  /* Both restart on new ports: they find each other again by their records. */
  test_node_stop (&a);
  test_node_stop (&b);
  {
    g_autofree char *state = g_build_filename (a.dir, EP_NODE_DHT_STATE_FILE_NAME, NULL);
    g_autofree char *seq = g_build_filename (a.dir, EP_PRESENCE_SEQ_FILE_NAME, NULL);
    g_autofree char *profile = g_build_filename (a.dir, EP_NODE_PROFILE_FILE_NAME, NULL);
    g_autofree char *text = NULL;

    /* The routing table is kept for the next start, and the seq we published. */
    g_assert_true (g_file_test (state, G_FILE_TEST_IS_REGULAR));
    g_assert_true (g_file_test (seq, G_FILE_TEST_IS_REGULAR));
    g_assert_true (g_file_get_contents (profile, &text, NULL, NULL));
    g_assert_null (strstr (text, "\"seq\" : 0"));
  }
  test_node_start (&b);
  test_node_start (&a);
  start = g_get_monotonic_time ();
  g_assert_true (spin_until (pair_connected, &pair, 30));
  g_test_message ("reconnected through the DHT in %.0f ms",
                  (g_get_monotonic_time () - start) / 1e3);

  test_node_clear (&a);
  test_node_clear (&b);
  dht_net_stop (&net);
}

static void
test_profile_file (void)
{
  TestNode a = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(EpNode) again = NULL;
  EpNodeSettings *settings;
  GStatBuf st;

  test_node_start (&a);
  ep_node_set_name (a.node, "Zoë");
  ep_node_set_status_text (a.node, "here");
  settings = ep_node_get_settings (a.node);
  settings->bootstrap = g_strsplit ("127.0.0.1:6881,127.0.0.1:6882", ",", -1);
  settings->relays = g_strsplit ("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
                                 "@127.0.0.1:4000,"
                                 "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
                                 "@[::1]:4001", ",", -1);
  test_node_stop (&a);

  path = g_build_filename (a.dir, EP_NODE_PROFILE_FILE_NAME, NULL);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_nonnull (strstr (contents, "\"lan_discovery\""));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  again = ep_node_open (a.dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ep_node_get_name (again), ==, "Zoë");
  g_assert_cmpstr (ep_node_get_status_text (again), ==, "here");
  settings = ep_node_get_settings (again);
  g_assert_nonnull (settings->bootstrap);
  g_assert_cmpstr (settings->bootstrap[1], ==, "127.0.0.1:6882");
  g_assert_cmpstr (settings->bind_address, ==, "127.0.0.1");
  g_assert_cmpuint (g_strv_length (settings->relays), ==, 2);
  g_assert_cmpstr (settings->relays[1], ==,
                   "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100@[::1]:4001");
  g_clear_object (&again);

  /* Relays: what is not one is left out, past EP_NODE_MAX_RELAYS too; the
   * rest is kept in order. */
  {
    g_autoptr(EpNode) relays = NULL;
    g_autoptr(GString) json = g_string_new ("{\"settings\":{\"relays\":[7,null,{},\"x@y:1\","
                                            "\"@127.0.0.1:1\",");

    for (guint i = 0; i < EP_NODE_MAX_RELAYS + 2; i++)
      g_string_append_printf (json, "\"%064x@127.0.0.1:%u\",", i, 5000 + i);
    g_string_append (json, "\"00@h:1\"]}}");
    g_assert_true (g_file_set_contents (path, json->str, -1, NULL));
    relays = ep_node_open (a.dir, NULL, &error);
    g_assert_no_error (error);
    settings = ep_node_get_settings (relays);
    g_assert_cmpuint (g_strv_length (settings->relays), ==, EP_NODE_MAX_RELAYS);
    g_assert_cmpstr (settings->relays[0], ==,
                     "0000000000000000000000000000000000000000000000000000000000000000"
                     "@127.0.0.1:5000");
    g_clear_object (&relays);

    g_assert_true (g_file_set_contents (path, "{\"settings\":{\"relays\":\"x\"}}", -1, NULL));
    relays = ep_node_open (a.dir, NULL, &error);
    g_assert_no_error (error);
    g_assert_null (ep_node_get_settings (relays)->relays);
    g_assert_true (ep_node_save_profile (relays, &error));
    g_clear_object (&relays);
  }

  /* Members of a newer version survive a save; odd types are ignored. */
  {
    g_autoptr(EpNode) third = NULL;
    g_autofree char *saved = NULL;

    g_assert_true (g_file_set_contents (path, "{\"version\":\"1\",\"future\":[1,2],"
                                              "\"name\":7,\"settings\":{\"port\":\"x\","
                                              "\"extra\":true,\"lan_discovery\":false}}",
                                        -1, NULL));
    third = ep_node_open (a.dir, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (ep_node_get_name (third), ==, "");
    g_assert_false (ep_node_get_settings (third)->lan_discovery);
    g_assert_cmpuint (ep_node_get_settings (third)->port, ==, 0);
    g_assert_true (ep_node_save_profile (third, &error));
    g_assert_true (g_file_get_contents (path, &saved, NULL, NULL));
    g_assert_nonnull (strstr (saved, "\"future\""));
    g_assert_nonnull (strstr (saved, "\"extra\""));
    g_assert_true (g_file_set_contents (path, "[]", -1, NULL));
    g_clear_object (&third);
    third = ep_node_open (a.dir, NULL, &error);
    g_assert_error (error, EP_NODE_ERROR, EP_NODE_ERROR_PROFILE);
    g_assert_null (third);
    g_clear_error (&error);
  }

  /* The store is bound to the identity: its key comes from it. */
  {
    guint8 k1[32], k2[32];
    g_autoptr(EpIdentity) other = ep_identity_new_random ();
    g_autofree char *key_path = g_build_filename (a.dir, "identity.key", NULL);
    EpIdentity *mine = ep_identity_load (key_path, NULL, NULL, &error);

    g_assert_no_error (error);
    ep_identity_derive_key (mine, "store", k1);
    ep_identity_derive_key (other, "store", k2);
    g_assert_cmpmem (k1, 32, k1, 32);
    g_assert_false (memcmp (k1, k2, 32) == 0);
    ep_identity_derive_key (mine, "other", k2);
    g_assert_false (memcmp (k1, k2, 32) == 0);
    g_object_unref (mine);
  }

  test_node_clear (&a);
}

int
main (int   argc,
      char *argv[])
{
  GMainContext *context;
  int ret;

  g_test_init (&argc, &argv, NULL);
  context = g_main_context_new ();
  g_main_context_push_thread_default (context);

  g_test_add_func ("/ep/node/request-accept-chat", test_request_accept_chat);
  g_test_add_func ("/ep/node/offline-queue", test_offline_queue);
  g_test_add_func ("/ep/node/restart-sender", test_restart_sender);
  g_test_add_func ("/ep/node/large-message", test_large_message);
  g_test_add_func ("/ep/node/wrong-nospam", test_wrong_nospam);
  g_test_add_func ("/ep/node/nospam-and-block", test_nospam_and_block);
  g_test_add_func ("/ep/node/large-lossy", test_large_lossy);
  g_test_add_func ("/ep/node/request-flood", test_request_flood);
  g_test_add_func ("/ep/node/profile-file", test_profile_file);
  g_test_add_func ("/ep/node/dht-presence", test_dht_presence);
  g_test_add_func ("/ep/node/lossy", test_lossy);

  ret = g_test_run ();
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return ret;
}
