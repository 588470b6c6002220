/* fuzz-krpc.c — KRPC decoding, and a DHT node fed hostile datagrams
 *
 * Every input is decoded as a KRPC message; a message that decodes is
 * encoded again and must decode to the same kind, method and transaction.
 * The input is then handed to a live node (its sockets filtered so nothing
 * leaves) as if it came from a peer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ep-core.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static EpUdp *udp;
static EpDht *dht;
static GSocketAddress *peers[2];

static gboolean
drop_outgoing (EpUdp          *self,
               gboolean        outgoing,
               GSocketAddress *peer,
               const guint8   *data,
               gsize           len,
               gpointer        user_data)
{
  return !outgoing;
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
    ep_dht_receive (dht, peers[size % 2], data, size);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return 0;
}
