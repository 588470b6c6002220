/* fuzz-krpc.c — KRPC decoding, and a DHT node fed hostile datagrams
 *
 * Every input is decoded as a KRPC message; a message that decodes is
 * encoded again and must decode to the same kind, method and transaction.
 * The input is then handed to a live node (its sockets filtered so nothing
 * leaves) as if it came from a peer. The node's replies are read from the
 * filter for the write token it hands out; an input holding the token
 * "TOKEN..." gets the real one instead, so puts and announces reach the
 * storage.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define _GNU_SOURCE   /* memmem */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ep-core.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define PLACEHOLDER "5:token8:TOKEN..."
#define PLACEHOLDER_LEN (sizeof PLACEHOLDER - 1)

static EpUdp *udp;
static EpDht *dht;
static GSocketAddress *peers[2];
static guint8 tokens[2][8];
static guint n_inputs;

static gboolean
drop_outgoing (EpUdp          *self,
               gboolean        outgoing,
               GSocketAddress *peer,
               const guint8   *data,
               gsize           len,
               gpointer        user_data)
{
  const guint8 *p;

  if (!outgoing)
    return TRUE;
  /* Remember the token each peer was given. */
  p = memmem (data, len, "5:token8:", 9);
  if (p != NULL && p + 9 + 8 <= data + len)
    for (guint i = 0; i < G_N_ELEMENTS (peers); i++)
      if (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (peer))
          == g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (peers[i])))
        memcpy (tokens[i], p + 9, 8);
  return FALSE;
}

static void
refresh_tokens (void)
{
  static const char query[] = "d1:ad2:id20:abcdefghij01234567899:info_hash20:"
                              "mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe";

  for (guint i = 0; i < G_N_ELEMENTS (peers); i++)
    ep_dht_receive (dht, peers[i], (const guint8 *) query, sizeof query - 1);
}

static void
setup (void)
{
  g_autoptr(GInetAddress) a = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr(GInetAddress) b = g_inet_address_new_from_string ("10.1.2.3");

  udp = ep_udp_new ("127.0.0.1", 0, NULL);
  if (udp == NULL)
    abort ();
  ep_udp_set_filter (udp, drop_outgoing, NULL);
  dht = ep_dht_new (udp);
  ep_dht_set_query_rate (dht, 0, 0);
  ep_dht_start (dht, NULL);
  peers[0] = g_inet_socket_address_new (a, 6881);
  peers[1] = g_inet_socket_address_new (b, 51413);
  refresh_tokens ();
}

static void
check_roundtrip (const EpKrpcMsg *msg)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(EpBencDoc) doc = NULL;
  EpKrpcMsg again;

  ep_krpc_encode (msg, out);
  doc = ep_benc_doc_parse (out->data, out->len, NULL, NULL);
  if (doc == NULL)
    abort ();
  /* Our encoding of a query always decodes (an unknown method has no
   * arguments to write, so it is left out). */
  if (msg->kind == EP_KRPC_QUERY && msg->method == EP_KRPC_UNKNOWN_METHOD)
    return;
  if (ep_krpc_decode (ep_benc_doc_root (doc), &again) != EP_KRPC_OK
      || again.kind != msg->kind
      || again.tid_len != msg->tid_len || memcmp (again.tid, msg->tid, msg->tid_len) != 0
      || (msg->kind == EP_KRPC_QUERY && again.method != msg->method))
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static const EpBencLimits limits = { .max_depth = 16, .max_values = 1024, .max_input = 2048 };
  g_autoptr(EpBencDoc) doc = NULL;
  EpKrpcMsg msg;

  if (dht == NULL)
    setup ();

  doc = ep_benc_doc_parse (data, size, &limits, NULL);
  if (doc != NULL && ep_krpc_decode (ep_benc_doc_root (doc), &msg) == EP_KRPC_OK)
    check_roundtrip (&msg);

  if (size > 0 && data[0] == 'd' && size <= EP_UDP_MAX_DATAGRAM)
    {
      guint which = size % 2;
      g_autofree guint8 *copy = g_memdup2 (data, size);
      guint8 *p = memmem (copy, size, PLACEHOLDER, PLACEHOLDER_LEN);

      /* Tokens rotate every 5 minutes: ask again now and then. */
      if (++n_inputs % 10000 == 0)
        refresh_tokens ();
      if (p != NULL)
        memcpy (p + PLACEHOLDER_LEN - 8, tokens[which], 8);
      ep_dht_receive (dht, peers[which], copy, size);
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return 0;
}
