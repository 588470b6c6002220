/* relay-test-util.h — a relay on loopback and helpers, for the relay tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "node-test-util.h"
#include "ep-session-private.h"

/* A relay on its own sockets. */
typedef struct
{
  EpUdp      *udp;
  EpIdentity *identity;
  EpRelay    *relay;
  GPtrArray  *wire;          /* GBytes: every datagram in or out */
  GPtrArray  *inner;         /* GBytes: every inner packet forwarded */
} TestRelay;

static gboolean
capture (EpUdp          *udp,
         gboolean        outgoing,
         GSocketAddress *peer,
         const guint8   *data,
         gsize           len,
         gpointer        user_data)
{
  TestRelay *r = user_data;

  g_ptr_array_add (r->wire, g_bytes_new (data, len));
  return TRUE;
}

static void
on_forwarded (EpRelay   *relay,
              GBytes    *source,
              GBytes    *destination,
              GBytes    *inner,
              TestRelay *r)
{
  g_ptr_array_add (r->inner, g_bytes_ref (inner));
}

static void
test_relay_start (TestRelay *r)
{
  g_autoptr(GError) error = NULL;

  r->udp = ep_udp_new ("127.0.0.1", 0, &error);
  g_assert_no_error (error);
  r->identity = ep_identity_new_random ();
  r->relay = ep_relay_new (r->udp, r->identity);
  r->wire = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  r->inner = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  ep_udp_set_filter (r->udp, capture, r);
  g_signal_connect (r->relay, "forwarded", G_CALLBACK (on_forwarded), r);
}

static GSocketAddress *
test_relay_address (TestRelay *r)
{
  return g_inet_socket_address_new_from_string ("127.0.0.1", ep_udp_get_port (r->udp));
}

static void
test_relay_clear (TestRelay *r)
{
  ep_udp_set_filter (r->udp, NULL, NULL);
  g_clear_object (&r->relay);
  g_clear_object (&r->identity);
  g_clear_object (&r->udp);
  g_clear_pointer (&r->wire, g_ptr_array_unref);
  g_clear_pointer (&r->inner, g_ptr_array_unref);
}

static gboolean
bytes_contain (GBytes     *bytes,
               const char *needle)
{
  gsize len, n = strlen (needle);
  const guint8 *data = g_bytes_get_data (bytes, &len);

  for (gsize i = 0; i + n <= len; i++)
    if (memcmp (data + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

/* Drops every datagram between two nodes' ports, both ways. */
typedef struct
{
  guint16 a;
  guint16 b;
  guint   dropped;
} Cut;

static gboolean
cut_direct (EpUdp          *udp,
            gboolean        outgoing,
            GSocketAddress *peer,
            const guint8   *data,
            gsize           len,
            gpointer        user_data)
{
  Cut *cut = user_data;
  guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (peer));

  if (port == cut->a || port == cut->b)
    {
      cut->dropped++;
      return FALSE;
    }
  return TRUE;
}

static void
node_use_relay (TestNode  *t,
                TestRelay *r,
                guint      grace_ms)
{
  g_autoptr(GSocketAddress) address = test_relay_address (r);
  EpNodeTiming timing;

  ep_node_get_timing (t->node, &timing);
  timing.relay_grace_ms = grace_ms;
  /* Direct paths are tried again while relayed: through cuts, they fail. */
  timing.relay_probe_ms = 300;
  ep_node_set_timing (t->node, &timing);
  g_assert_true (ep_node_add_relay (t->node, ep_relay_get_key (r->relay), address));
  /* Our own key is no relay. */
  g_assert_false (ep_node_add_relay (t->node, t->key, address));
}

static void
send_one (TestNode   *from,
          TestNode   *to,
          const char *text)
{
  Sends s = { 1, 0 };

  ep_node_send_message_async (from->node, test_node_key (to), text, NULL, on_sent, &s);
  g_assert_true (spin_until (sends_done, &s, 10));
  g_assert_cmpuint (s.failed, ==, 0);
}

static gboolean
relay_has_clients (gpointer data)
{
  return ep_relay_get_n_clients (((TestRelay *) data)->relay) >= 2;
}

/* A bare client: its own sockets and session manager, a session with the relay. */
typedef struct
{
  EpUdp            *udp;
  EpSessionManager *sessions;
  EpSession        *relay;
  guint8            key[32];
  GPtrArray        *frames;
} Client;

static void
on_client_frame (EpSession *session,
                 GBytes    *frame,
                 Client    *c)
{
  g_ptr_array_add (c->frames, g_bytes_ref (frame));
}

static gboolean
client_up (gpointer data)
{
  Client *c = data;

  return ep_session_get_state (c->relay) == EP_SESSION_STATE_ESTABLISHED;
}

static void
client_start (Client    *c,
              TestRelay *r)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) address = test_relay_address (r);
  guint8 sk[64], static_sk[32];

  crypto_sign_keypair (c->key, sk);
  randombytes_buf (static_sk, sizeof static_sk);
  c->udp = ep_udp_new ("127.0.0.1", 0, &error);
  g_assert_no_error (error);
  c->sessions = ep_session_manager_new (c->udp, sk, static_sk);
  ep_session_manager_set_timing (c->sessions, &fast_session_timing);
  c->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  c->relay = ep_session_manager_connect (c->sessions, address, ep_relay_get_key (r->relay));
  ep_session_set_relay_budget (c->relay, TRUE);
  g_signal_connect (c->relay, "frame-received", G_CALLBACK (on_client_frame), c);
}

static void
client_clear (Client *c)
{
  g_signal_handlers_disconnect_by_data (c->relay, c);
  g_clear_object (&c->relay);
  g_clear_object (&c->sessions);
  g_clear_object (&c->udp);
  g_clear_pointer (&c->frames, g_ptr_array_unref);
}

/* Sends @kind | @key | an inner packet of @inner_len bytes (first byte @type). */
static void
client_send (Client       *c,
             guint8        kind,
             const guint8 *key,
             guint8        type,
             gsize         inner_len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) frame = NULL;
  guint8 *data = g_malloc0 (EP_RELAY_HEADER_LEN + inner_len);

  data[0] = kind;
  memcpy (data + 1, key, 32);
  if (inner_len > 0)
    data[EP_RELAY_HEADER_LEN] = type;
  frame = g_bytes_new_take (data, EP_RELAY_HEADER_LEN + inner_len);
  g_assert_true (ep_session_send (c->relay, frame, &error));
  g_assert_no_error (error);
}

static void
client_send_raw (Client       *c,
                 const guint8 *data,
                 gsize         len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) frame = g_bytes_new (data, len);

  g_assert_true (ep_session_send (c->relay, frame, &error));
}

typedef struct
{
  EpRelay *relay;
  guint64  handled;
} Handled;

static gboolean
relay_handled (gpointer data)
{
  Handled *h = data;
  const EpRelayCounters *c = ep_relay_get_counters (h->relay);

  return c->forwarded_packets + ep_relay_get_n_dropped (h->relay) >= h->handled;
}

static void
wait_handled (TestRelay *r,
              guint64    handled)
{
  Handled h = { r->relay, handled };

  g_assert_true (spin_until (relay_handled, &h, 10));
}

