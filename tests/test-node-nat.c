/* test-node-nat.c — nodes across NATs and changing networks, on loopback
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "nat-test-util.h"

typedef struct
{
  FakeNode *fakes;
  guint     n;
  guint16   nat_port;
} NatCheck;

/* A put whose record names us by the NAT's port, behind a NAT. */
static gboolean
published_nat_port (gpointer data)
{
  NatCheck *c = data;

  for (guint i = 0; i < c->n; i++)
    for (guint j = 0; j < c->fakes[i].puts->len; j++)
      {
        gsize len;
        const guint8 *v = g_bytes_get_data (c->fakes[i].puts->pdata[j], &len);
        EpPresenceValue value;
        gboolean ok;

        if (!ep_presence_value_parse (v, len, &value))
          continue;
        ok = value.endpoints->len >= 1
             && g_inet_socket_address_get_port (value.endpoints->pdata[0]) == c->nat_port
             && value.reachability == EP_PRESENCE_REACHABILITY_NAT;
        ep_presence_value_clear (&value);
        if (ok)
          return TRUE;
      }
  return FALSE;
}

#define N_FAKES 6

static gboolean
node_published (gpointer data)
{
  return ep_node_get_counters (EP_NODE (data))->presence_published >= 1;
}

/* The DHT's nodes see us at another port than we listen on (a NAT maps
 * it): the record we publish carries their port, and says we are behind a
 * NAT. */
static void
test_external_port (void)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new ();
  FakeNode fakes[N_FAKES] = { 0 };
  g_auto(GStrv) bootstrap = g_new0 (char *, N_FAKES + 1);
  TestNode a = { 0 };
  NatCheck check = { fakes, N_FAKES, 0 };
  GSocketAddress *external;

  for (guint i = 0; i < N_FAKES; i++)
    g_ptr_array_add (all, &fakes[i]);
  /* An unlikely port, not the node's. */
  check.nat_port = 40000 + g_random_int_range (0, 20000);
  for (guint i = 0; i < N_FAKES; i++)
    {
      fake_node_start (&fakes[i], all, check.nat_port);
      bootstrap[i] = g_strdup_printf ("127.0.0.1:%u", fakes[i].port);
    }

  a.bootstrap = bootstrap;
  test_node_start (&a);
  g_assert_cmpuint (ep_node_get_port (a.node), !=, check.nat_port);

  g_assert_true (spin_until (published_nat_port, &check, 20));
  external = ep_dht_get_external_address (ep_node_get_dht (a.node));
  g_assert_nonnull (external);
  g_assert_cmpuint (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (external)), ==,
                    check.nat_port);
  g_assert_true (spin_until (node_published, a.node, 10));

  test_node_clear (&a);
  for (guint i = 0; i < N_FAKES; i++)
    fake_node_stop (&fakes[i]);
}

/* The two sessions of a pair, and what their managers dropped. */
static guint64
unknown_index_drops (TestNode *a,
                     TestNode *b)
{
  return ep_session_manager_get_counters (ep_node_get_session_manager (a->node))
           ->dropped_unknown_index
         + ep_session_manager_get_counters (ep_node_get_session_manager (b->node))
           ->dropped_unknown_index;
}

/* Contacts that restart and call each other at the very same moment end
 * up with one session, which stays: no reconnects, nothing dropped for
 * keys only one side kept, messages both ways. */
static void
test_simultaneous (void)
{
  TestNode a = { 0 }, b = { 0 };
  Pair pair = { &a, &b };

  test_node_start (&a);
  test_node_start (&b);
  befriend (&a, &b, TRUE);

  for (guint round = 0; round < 4; round++)
    {
      g_autofree char *prefix = g_strdup_printf ("round %u", round);
      Count got_a = { &a, 0 }, got_b = { &b, 0 };
      guint64 connects, drops;
      guint changes_a, changes_b;

      test_node_stop (&a);
      test_node_stop (&b);
      test_node_start (&a);
      test_node_start (&b);
      /* Both learn the other's address now: both call at once. */
      test_node_hint (&a, &b);
      test_node_hint (&b, &a);
      g_assert_true (spin_until (pair_connected, &pair, 10));
      connects = ep_node_get_counters (a.node)->connects + ep_node_get_counters (b.node)->connects;
      changes_a = a.presence_changes;
      changes_b = b.presence_changes;

      /* Past the time old keys are kept, and many keepalives. */
      spin_for (fast_session_timing.old_keys_ms + 500);
      drops = unknown_index_drops (&a, &b);
      got_a.n = a.received->len + 3;
      got_b.n = b.received->len + 3;
      send_many (&a, &b, prefix, 3);
      send_many (&b, &a, prefix, 3);
      g_assert_true (spin_until (received_at_least, &got_b, 10));
      g_assert_true (spin_until (received_at_least, &got_a, 10));
      spin_for (500);

      g_assert_true (pair_connected (&pair));
      g_assert_cmpuint (ep_node_get_counters (a.node)->connects
                        + ep_node_get_counters (b.node)->connects, ==, connects);
      g_assert_cmpuint (a.presence_changes, ==, changes_a);
      g_assert_cmpuint (b.presence_changes, ==, changes_b);
      g_assert_cmpuint (unknown_index_drops (&a, &b), ==, drops);
      g_assert_cmpuint (a.received->len, ==, got_a.n);
      g_assert_cmpuint (b.received->len, ==, got_b.n);
    }

  test_node_clear (&a);
  test_node_clear (&b);
}

typedef struct
{
  EpSession *a;
  EpSession *b;
  guint      a_got;
  guint      b_got;
} Crossing;

static gboolean
both_established (gpointer data)
{
  Crossing *c = data;

  return ep_session_get_state (c->a) == EP_SESSION_STATE_ESTABLISHED
         && ep_session_get_state (c->b) == EP_SESSION_STATE_ESTABLISHED
         && ep_session_get_counters (c->a)->handshakes >= 2
         && ep_session_get_counters (c->b)->handshakes >= 2;
}

static void
on_crossing_frame (EpSession *session,
                   GBytes    *frame,
                   guint     *got)
{
  (*got)++;
}

static gboolean
both_got (gpointer data)
{
  Crossing *c = data;

  return c->a_got >= 1 && c->b_got >= 1;
}

/* Holds back the first handshake message 3 a side sends until the other
 * side sent one too: the two cross on the wire, and each side takes the
 * other's before it hears anything on its own keys. */
typedef struct
{
  gboolean        holding;
  GBytes         *held;
  GSocketAddress *to;
  gint64          quiet_until;   /* transport packets dropped until then */
} HoldFinal;

static gboolean
hold_final (EpUdp          *udp,
            gboolean        outgoing,
            GSocketAddress *peer,
            const guint8   *data,
            gsize           len,
            gpointer        user_data)
{
  HoldFinal *h = user_data;

  /* The keepalives confirming either side's keys wait until both
   * messages 3 are in. */
  if (outgoing && len > 0 && data[0] == 0x04 && g_get_monotonic_time () < h->quiet_until)
    return FALSE;
  if (!outgoing || len == 0 || data[0] != 0x03 || !h->holding)
    return TRUE;
  if (h->held == NULL)
    {
      h->held = g_bytes_new (data, len);
      h->to = g_object_ref (peer);
    }
  return FALSE;
}

typedef struct
{
  HoldFinal *a;
  HoldFinal *b;
} Holds;

static gboolean
both_held (gpointer data)
{
  Holds *h = data;

  return h->a->held != NULL && h->b->held != NULL;
}

static void
release_final (EpUdp     *udp,
               HoldFinal *h)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (h->held, &len);

  h->holding = FALSE;
  g_assert_true (ep_udp_send (udp, h->to, data, len, NULL));
  g_clear_pointer (&h->held, g_bytes_unref);
  g_clear_object (&h->to);
}

/* A calls B through a forwarder while B calls A directly: the managers
 * cannot tell the INITs cross (other addresses), both handshakes finish,
 * their messages 3 cross, and both sides must keep sending on the same
 * keys, also once the other keys are dropped. */
static void
test_crossing_handshakes (void)
{
  for (guint round = 0; round < 6; round++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EpUdp) udp_a = ep_udp_new ("127.0.0.1", 0, &error);
      g_autoptr(EpUdp) udp_b = ep_udp_new ("127.0.0.1", 0, &error);
      g_autoptr(EpSessionManager) ma = NULL;
      g_autoptr(EpSessionManager) mb = NULL;
      g_autoptr(GSocketAddress) to_a = NULL;
      g_autoptr(GSocketAddress) via = NULL;
      g_autoptr(EpSession) sa = NULL;
      g_autoptr(EpSession) sb = NULL;
      g_autoptr(GBytes) frame = g_bytes_new_static ("hello", 5);
      EpSessionTiming timing = fast_session_timing;
      guint8 sk_a[64], pk_a[32], sk_b[64], pk_b[32], x_a[32], x_b[32];
      Forwarder f = { 0 };
      Crossing c = { 0 };
      HoldFinal hold_a = { TRUE, NULL, NULL }, hold_b = { TRUE, NULL, NULL };
      Holds holds = { &hold_a, &hold_b };

      g_assert_no_error (error);
      crypto_sign_keypair (pk_a, sk_a);
      crypto_sign_keypair (pk_b, sk_b);
      randombytes_buf (x_a, sizeof x_a);
      randombytes_buf (x_b, sizeof x_b);
      ma = ep_session_manager_new (udp_a, sk_a, x_a);
      mb = ep_session_manager_new (udp_b, sk_b, x_b);
      timing.old_keys_ms = 300;
      timing.keepalive_ms = 100;
      ep_session_manager_set_timing (ma, &timing);
      ep_session_manager_set_timing (mb, &timing);

      ep_udp_set_filter (udp_a, hold_final, &hold_a);
      ep_udp_set_filter (udp_b, hold_final, &hold_b);
      forwarder_start (&f, ep_udp_get_port (udp_b));
      via = forwarder_address (&f);
      to_a = g_inet_socket_address_new_from_string ("127.0.0.1", ep_udp_get_port (udp_a));
      sa = ep_session_manager_connect (ma, via, pk_b);
      sb = ep_session_manager_connect (mb, to_a, pk_a);
      c.a = sa;
      c.b = sb;
      g_signal_connect (sa, "frame-received", G_CALLBACK (on_crossing_frame), &c.a_got);
      g_signal_connect (sb, "frame-received", G_CALLBACK (on_crossing_frame), &c.b_got);
      g_assert_true (spin_until (both_held, &holds, 10));
      hold_a.quiet_until = hold_b.quiet_until = g_get_monotonic_time () + 100 * 1000;
      release_final (udp_a, &hold_a);
      release_final (udp_b, &hold_b);
      g_assert_true (spin_until (both_established, &c, 10));

      /* Well past the old keys' time. */
      spin_for (timing.old_keys_ms * 3);
      g_assert_true (ep_session_send (sa, frame, &error));
      g_assert_no_error (error);
      g_assert_true (ep_session_send (sb, frame, &error));
      g_assert_no_error (error);
      g_assert_true (spin_until (both_got, &c, 5));
      g_assert_cmpint (ep_session_get_state (sa), ==, EP_SESSION_STATE_ESTABLISHED);
      g_assert_cmpint (ep_session_get_state (sb), ==, EP_SESSION_STATE_ESTABLISHED);
      g_assert_cmpuint (ep_session_manager_get_counters (ma)->dropped_unknown_index, ==, 0);
      g_assert_cmpuint (ep_session_manager_get_counters (mb)->dropped_unknown_index, ==, 0);

      g_signal_handlers_disconnect_by_data (sa, &c.a_got);
      g_signal_handlers_disconnect_by_data (sb, &c.b_got);
      ep_udp_set_filter (udp_a, NULL, NULL);
      ep_udp_set_filter (udp_b, NULL, NULL);
      forwarder_stop (&f);
    }
}

/* Drops every datagram between a node and one peer port, both ways. */
typedef struct
{
  guint16  port;
  gboolean cut;
  guint    dropped;
} Cut;

static gboolean
cut_filter (EpUdp          *udp,
            gboolean        outgoing,
            GSocketAddress *peer,
            const guint8   *data,
            gsize           len,
            gpointer        user_data)
{
  Cut *c = user_data;

  if (!c->cut || g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (peer)) != c->port)
    return TRUE;
  c->dropped++;
  return FALSE;
}

static gboolean
pair_apart (gpointer data)
{
  Pair *p = data;

  return !ep_node_is_connected (p->a->node, test_node_key (p->b))
         && !ep_node_is_connected (p->b->node, test_node_key (p->a));
}

static gboolean
republished (gpointer data)
{
  guint64 *before = data;
  EpNode *node = *(EpNode **) (before + 1);

  return ep_node_get_counters (node)->presence_published > *before;
}

/* The network comes back after a while: a node told so connects at once
 * (not when its grown backoff says), its queued message goes out, and its
 * record is published again. */
static void
test_network_changed (void)
{
  TestNode a = { 0 }, b = { 0 };
  Pair pair = { &a, &b };
  DhtNet net = { 0 };
  EpNodeTiming timing = fast_node_timing;
  EpSessionTiming session_timing = fast_session_timing;
  Count got = { &b, 0 };
  Cut cut = { 0 };
  guint64 check[2];
  gint64 start;

  dht_net_start (&net, 4);
  a.bootstrap = net.bootstrap;   /* B publishes nothing: only A can call */
  test_node_start (&a);
  test_node_start (&b);
  /* After a failure, the next connect only comes after 5 s. */
  timing.connect_retry_ms = 5000;
  timing.connect_retry_max_ms = 60000;
  ep_node_set_timing (a.node, &timing);
  ep_node_set_timing (b.node, &timing);
  session_timing.idle_timeout_ms = 800;
  session_timing.handshake_timeout_ms = 1000;
  ep_session_manager_set_timing (ep_node_get_session_manager (a.node), &session_timing);
  ep_session_manager_set_timing (ep_node_get_session_manager (b.node), &session_timing);
  befriend (&a, &b, TRUE);
  g_assert_true (spin_until (node_published, a.node, 20));

  /* The path goes away: both sessions end; a message waits. */
  cut.port = ep_node_get_port (b.node);
  cut.cut = TRUE;
  ep_udp_set_filter (ep_node_get_udp (a.node), cut_filter, &cut);
  g_assert_true (spin_until (pair_apart, &pair, 10));
  got.n = b.received->len + 1;
  send_many (&a, &b, "while away", 1);
  /* The connect that message started fails too. */
  spin_for (session_timing.handshake_timeout_ms + 500);

  /* It comes back, and A hears of it. */
  cut.cut = FALSE;
  check[0] = ep_node_get_counters (a.node)->presence_published;
  *(EpNode **) (check + 1) = a.node;
  start = g_get_monotonic_time ();
  ep_node_network_changed (a.node, TRUE);
  g_assert_cmpuint (ep_node_get_counters (a.node)->network_changes, ==, 1);
  g_assert_true (spin_until (pair_connected, &pair, 10));
  g_assert_true (spin_until (received_at_least, &got, 10));
  g_test_message ("connected and delivered %.0f ms after the network came back",
                  (g_get_monotonic_time () - start) / 1e3);
  /* Well before the backoff would have let anyone call. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  check_history (&b, &a, "while away", 1);
  g_assert_true (spin_until (republished, check, 10));

  /* Gone: nothing happens until it is back. */
  ep_node_network_changed (a.node, FALSE);
  g_assert_cmpuint (ep_node_get_counters (a.node)->network_changes, ==, 1);

  ep_udp_set_filter (ep_node_get_udp (a.node), NULL, NULL);
  test_node_clear (&a);
  test_node_clear (&b);
  dht_net_stop (&net);
}

static gboolean
a_lost_b (gpointer data)
{
  Pair *p = data;

  return !ep_node_is_connected (p->a->node, test_node_key (p->b));
}

/* After a network change the path to a contact is gone: the probe gets no
 * answer and the session ends within moments, not after the idle timeout;
 * once the path is back they connect again. */
static void
test_network_changed_broken (void)
{
  TestNode a = { 0 }, b = { 0 };
  Pair pair = { &a, &b };
  EpSessionTiming timing = fast_session_timing;
  Cut cut = { 0 };
  gint64 start;

  test_node_start (&a);
  test_node_start (&b);
  timing.idle_timeout_ms = 30000;
  timing.handshake_timeout_ms = 1000;
  ep_session_manager_set_timing (ep_node_get_session_manager (a.node), &timing);
  ep_session_manager_set_timing (ep_node_get_session_manager (b.node), &timing);
  befriend (&a, &b, TRUE);

  cut.port = ep_node_get_port (b.node);
  cut.cut = TRUE;
  ep_udp_set_filter (ep_node_get_udp (a.node), cut_filter, &cut);
  start = g_get_monotonic_time ();
  ep_node_network_changed (a.node, TRUE);
  g_assert_true (spin_until (a_lost_b, &pair, 10));
  g_test_message ("a broken path noticed %.0f ms after the change",
                  (g_get_monotonic_time () - start) / 1e3);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);

  cut.cut = FALSE;
  g_assert_true (spin_until (pair_connected, &pair, 10));

  /* A working path answers the probe: the session stays. */
  {
    guint64 connects = ep_node_get_counters (a.node)->connects;

    ep_node_network_changed (a.node, TRUE);
    spin_for (timing.handshake_timeout_ms * 2);
    g_assert_true (pair_connected (&pair));
    g_assert_cmpuint (ep_node_get_counters (a.node)->connects, ==, connects);
  }

  ep_udp_set_filter (ep_node_get_udp (a.node), NULL, NULL);
  test_node_clear (&a);
  test_node_clear (&b);
}

/* Timing scaled down 20 times from the defaults. */
static const EpSessionTiming scaled_session_timing = {
  .tick_ms = 20,
  .handshake_retry_ms = 13,
  .handshake_retry_max_ms = 400,
  .handshake_timeout_ms = 1500,
  .rekey_after_ms = 6000,
  .rekey_after_messages = G_GUINT64_CONSTANT (1) << 20,
  .keepalive_ms = 1250,
  .idle_timeout_ms = 4000,
  .old_keys_ms = 750,
  .cookie_secret_ms = 120000,
};

static const EpNodeTiming scaled_node_timing = {
  .tick_ms = 20,
  .retransmit_ms = 25,
  .retransmit_max_ms = 1500,
  .connect_retry_ms = 50,
  .connect_retry_max_ms = 3000,
  .request_retry_ms = 100,
  .stranger_ms = 3000,
  .resolve_ms = 300000,
  .resolve_queued_ms = 1500,
  .dht_query_timeout_ms = 400,
  .dht_one_address = TRUE,
  .no_network_monitor = TRUE,
};

static gboolean
on_restore (gpointer user_data)
{
  ((Cut *) user_data)->cut = FALSE;
  return G_SOURCE_REMOVE;
}

static gboolean
cut_over (gpointer data)
{
  return !((Cut *) data)->cut;
}

/* Both ways cut for @ms (no monitor event, as when a router's uplink
 * fails) while both sides queue messages; once packets flow again every
 * message arrives, each exactly once. */
static void
cut_and_restore (TestNode   *a,
                 TestNode   *b,
                 Cut        *cut,
                 guint       ms,
                 const char *prefix)
{
  g_autofree char *from_a = g_strdup_printf ("%s from A", prefix);
  g_autofree char *from_b = g_strdup_printf ("%s from B", prefix);
  Count got_a = { a, a->received->len + 5 }, got_b = { b, b->received->len + 5 };
  Pair pair = { a, b };
  GSource *restore;
  gint64 restored;

  cut->cut = TRUE;
  restore = g_timeout_source_new (ms);
  g_source_set_callback (restore, on_restore, cut, NULL);
  g_source_attach (restore, g_main_context_get_thread_default ());
  g_source_unref (restore);
  send_many (a, b, from_a, 5);
  send_many (b, a, from_b, 5);
  g_assert_true (spin_until (cut_over, cut, ms / 1000 + 5));
  restored = g_get_monotonic_time ();

  g_assert_true (spin_until (received_at_least, &got_b, 10));
  g_assert_true (spin_until (received_at_least, &got_a, 10));
  g_assert_true (spin_until (pair_connected, &pair, 10));
  g_test_message ("cut for %u ms: all delivered %.0f ms after it ended", ms,
                  (g_get_monotonic_time () - restored) / 1e3);
  /* Within the longest backoff (3 s scaled: a minute) at most. */
  g_assert_cmpint (g_get_monotonic_time () - restored, <, 3500 * 1000);
  spin_for (300);
  check_history (b, a, from_a, 5);
  check_history (a, b, from_b, 5);
}

static void
test_silent_cut (void)
{
  TestNode a = { 0 }, b = { 0 };
  Cut cut = { 0 };
  guint64 connects;

  test_node_start (&a);
  test_node_start (&b);
  ep_node_set_timing (a.node, &scaled_node_timing);
  ep_node_set_timing (b.node, &scaled_node_timing);
  ep_session_manager_set_timing (ep_node_get_session_manager (a.node), &scaled_session_timing);
  ep_session_manager_set_timing (ep_node_get_session_manager (b.node), &scaled_session_timing);
  befriend (&a, &b, TRUE);
  cut.port = ep_node_get_port (b.node);
  ep_udp_set_filter (ep_node_get_udp (a.node), cut_filter, &cut);

  /* 30 s (scaled): shorter than the idle timeout, the session stays. */
  connects = ep_node_get_counters (a.node)->connects + ep_node_get_counters (b.node)->connects;
  cut_and_restore (&a, &b, &cut, 1500, "short cut");
  g_assert_cmpuint (cut.dropped, >, 0);
  g_assert_cmpuint (ep_node_get_counters (a.node)->connects
                    + ep_node_get_counters (b.node)->connects, ==, connects);

  /* 2 minutes (scaled): the sessions time out and come back. */
  cut.dropped = 0;
  cut_and_restore (&a, &b, &cut, 6000, "long cut");
  g_assert_cmpuint (ep_node_get_counters (a.node)->connects
                    + ep_node_get_counters (b.node)->connects, >, connects);

  ep_udp_set_filter (ep_node_get_udp (a.node), NULL, NULL);
  test_node_clear (&a);
  test_node_clear (&b);
}

static EpSession *
session_of (TestNode *t,
            TestNode *peer)
{
  return ep_session_manager_lookup (ep_node_get_session_manager (t->node), test_node_key (peer));
}

/* Keepalives: exactly one per interval on an idle session, none on one
 * that carries traffic; and nothing else leaves an idle node (no
 * per-tick traffic, no presence lookups for contacts we have a session
 * with). */
static void
test_keepalive (void)
{
  TestNode a = { 0 }, b = { 0 };
  DhtNet net = { 0 };
  EpSessionTiming timing = fast_session_timing;
  const EpDhtCounters *dht;
  guint64 keepalives, sent, dht_sent, lookups, keepalives_b = 0;

  dht_net_start (&net, 3);
  a.bootstrap = b.bootstrap = net.bootstrap;
  test_node_start (&a);
  test_node_start (&b);
  timing.keepalive_ms = 300;
  timing.idle_timeout_ms = 5000;
  ep_session_manager_set_timing (ep_node_get_session_manager (a.node), &timing);
  ep_session_manager_set_timing (ep_node_get_session_manager (b.node), &timing);
  befriend (&a, &b, TRUE);
  g_assert_true (spin_until (node_published, a.node, 20));
  spin_for (1000);

  /* Idle: 3 s are ten intervals. */
  dht = ep_dht_get_counters (ep_node_get_dht (a.node));
  keepalives = ep_session_get_counters (session_of (&a, &b))->keepalives_sent;
  sent = ep_udp_get_counters (ep_node_get_udp (a.node))->sent;
  dht_sent = dht->queries_sent + dht->responses_sent + dht->errors_sent;
  lookups = ep_node_get_counters (a.node)->presence_resolved
            + ep_node_get_counters (a.node)->presence_failed;
  spin_for (3000);
  keepalives = ep_session_get_counters (session_of (&a, &b))->keepalives_sent - keepalives;
  g_assert_cmpuint (keepalives, >=, 9);
  g_assert_cmpuint (keepalives, <=, 11);
  g_assert_cmpuint (ep_udp_get_counters (ep_node_get_udp (a.node))->sent - sent, ==,
                    keepalives + dht->queries_sent + dht->responses_sent + dht->errors_sent
                    - dht_sent);
  g_assert_cmpuint (ep_node_get_counters (a.node)->presence_resolved
                    + ep_node_get_counters (a.node)->presence_failed, ==, lookups);

  /* Busy: a message every 100 ms for 2 s; its acks go back as often. The
   * count starts once the first message and its ack have gone: until then
   * B's session was idle, and a keepalive due in that moment is right. */
  for (guint i = 0; i < 21; i++)
    {
      g_autofree char *prefix = g_strdup_printf ("busy %u", i);

      send_many (&a, &b, prefix, 1);
      spin_for (100);
      if (i == 0)
        {
          keepalives = ep_session_get_counters (session_of (&a, &b))->keepalives_sent;
          keepalives_b = ep_session_get_counters (session_of (&b, &a))->keepalives_sent;
        }
    }
  g_assert_cmpuint (ep_session_get_counters (session_of (&a, &b))->keepalives_sent, ==,
                    keepalives);
  g_assert_cmpuint (ep_session_get_counters (session_of (&b, &a))->keepalives_sent, ==,
                    keepalives_b);

  test_node_clear (&a);
  test_node_clear (&b);
  dht_net_stop (&net);
}

/* v with "a" = @reach (an integer, or a string when @as_string). */
static GBytes *
value_with_a (gint64   reach,
              gboolean as_string)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint8 x[32];
  guint8 e4[6] = { 192, 0, 2, 1, 0x1a, 0xe1 };

  memset (x, 7, sizeof x);
  ep_benc_put_dict_begin (out);
  ep_benc_put_string (out, "a");
  if (as_string)
    ep_benc_put_string (out, "nat");
  else
    ep_benc_put_int (out, reach);
  ep_benc_put_string (out, "e4");
  ep_benc_put_bytes (out, e4, sizeof e4);
  ep_benc_put_string (out, "exp");
  ep_benc_put_int (out, 2000);
  ep_benc_put_string (out, "ts");
  ep_benc_put_int (out, 1000);
  ep_benc_put_string (out, "ver");
  ep_benc_put_int (out, EP_PRESENCE_VERSION);
  ep_benc_put_string (out, "x");
  ep_benc_put_bytes (out, x, sizeof x);
  ep_benc_put_end (out);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static EpPresenceReachability
parsed_reachability (GBytes *v)
{
  EpPresenceValue value;
  EpPresenceReachability reach;
  gsize len;
  const guint8 *data = g_bytes_get_data (v, &len);

  g_assert_true (ep_presence_value_parse (data, len, &value));
  g_assert_cmpuint (value.endpoints->len, ==, 1);
  reach = value.reachability;
  ep_presence_value_clear (&value);
  return reach;
}

/* Reachability in the record: written when known, read back; a value a
 * reader does not know, or of another type, reads as unknown and the
 * record stays valid. */
static void
test_record_reachability (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) endpoints = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GBytes) nat = NULL;
  g_autoptr(GBytes) direct = NULL;
  g_autoptr(GBytes) unknown = NULL;
  g_autoptr(GBytes) plain = NULL;
  g_autoptr(GBytes) odd = NULL;
  g_autoptr(GBytes) text = NULL;
  guint8 x[32];

  memset (x, 7, sizeof x);
  g_ptr_array_add (endpoints, g_inet_socket_address_new_from_string ("192.0.2.1", 6881));
  nat = ep_presence_value_encode_full (x, endpoints, NULL, EP_PRESENCE_REACHABILITY_NAT, 1000, 2000,
                                       &error);
  g_assert_no_error (error);
  direct = ep_presence_value_encode_full (x, endpoints, NULL, EP_PRESENCE_REACHABILITY_DIRECT, 1000,
                                          2000, &error);
  g_assert_no_error (error);
  unknown = ep_presence_value_encode_full (x, endpoints, NULL, EP_PRESENCE_REACHABILITY_UNKNOWN, 1000,
                                           2000, &error);
  g_assert_no_error (error);
  plain = ep_presence_value_encode (x, endpoints, 1000, 2000, &error);
  g_assert_no_error (error);

  g_assert_cmpint (parsed_reachability (nat), ==, EP_PRESENCE_REACHABILITY_NAT);
  g_assert_cmpint (parsed_reachability (direct), ==, EP_PRESENCE_REACHABILITY_DIRECT);
  g_assert_cmpint (parsed_reachability (unknown), ==, EP_PRESENCE_REACHABILITY_UNKNOWN);
  /* Unknown is not written: the record is what it was before. */
  g_assert_true (g_bytes_equal (unknown, plain));
  g_assert_cmpuint (g_bytes_get_size (nat), ==, g_bytes_get_size (plain) + 6);

  odd = value_with_a (7, FALSE);
  g_assert_cmpint (parsed_reachability (odd), ==, EP_PRESENCE_REACHABILITY_UNKNOWN);
  text = value_with_a (0, TRUE);
  g_assert_cmpint (parsed_reachability (text), ==, EP_PRESENCE_REACHABILITY_UNKNOWN);
}

int
main (int   argc,
      char *argv[])
{
  GMainContext *context;
  int ret;

  g_test_init (&argc, &argv, NULL);
  if (sodium_init () < 0)
    return 1;
  context = g_main_context_new ();
  g_main_context_push_thread_default (context);

  g_test_add_func ("/ep/node-nat/record-reachability", test_record_reachability);
  g_test_add_func ("/ep/node-nat/external-port", test_external_port);
  g_test_add_func ("/ep/node-nat/crossing-handshakes", test_crossing_handshakes);
  g_test_add_func ("/ep/node-nat/simultaneous", test_simultaneous);
  g_test_add_func ("/ep/node-nat/network-changed", test_network_changed);
  g_test_add_func ("/ep/node-nat/network-changed-broken", test_network_changed_broken);
  g_test_add_func ("/ep/node-nat/silent-cut", test_silent_cut);
  g_test_add_func ("/ep/node-nat/keepalive", test_keepalive);

  ret = g_test_run ();
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return ret;
}
