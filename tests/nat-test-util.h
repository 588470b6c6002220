/* nat-test-util.h — loopback stand-ins for what lies between peers
 *
 * FakeNode: a DHT node that tells everyone it sees them at a NAT's port.
 * Forwarder: a UDP forwarder, so that a peer answers from another address
 * than the one called.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "node-test-util.h"

/* A fake DHT node: answers every query as a node behind which the asker
 * sits behind a NAT would see it: `ip` names the asker by the NAT's port.
 * Keeps the v of every put it gets. */
typedef struct
{
  GSocket   *socket;
  GSource   *source;
  guint8     id[EP_KRPC_ID_LEN];
  guint16    port;
  guint16    nat_port;
  GPtrArray *all;            /* (unowned) every fake, for `nodes` */
  GPtrArray *puts;           /* GBytes: v of each put */
  guint8     k[32];          /* the last item put, given back to a get */
  guint8     sig[64];
  gint64     seq;
} FakeNode;

static void
compact_node (FakeNode   *node,
              GByteArray *out)
{
  guint8 entry[26];

  memcpy (entry, node->id, EP_KRPC_ID_LEN);
  entry[20] = 127;
  entry[21] = 0;
  entry[22] = 0;
  entry[23] = 1;
  entry[24] = (guint8) (node->port >> 8);
  entry[25] = (guint8) node->port;
  g_byte_array_append (out, entry, sizeof entry);
}

static gboolean
on_fake_datagram (GSocket      *socket,
                  GIOCondition  condition,
                  gpointer      user_data)
{
  FakeNode *self = user_data;
  g_autoptr(GSocketAddress) from = NULL;
  g_autoptr(EpBencDoc) doc = NULL;
  g_autoptr(GByteArray) nodes = g_byte_array_new ();
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint8 buf[2048];
  EpKrpcMsg query = { 0 };
  EpKrpcMsg reply = { 0 };
  gssize n;

  n = g_socket_receive_from (socket, &from, (char *) buf, sizeof buf, NULL, NULL);
  if (n <= 0)
    return G_SOURCE_CONTINUE;
  doc = ep_benc_doc_parse (buf, n, NULL, NULL);
  if (doc == NULL || ep_krpc_decode (ep_benc_doc_root (doc), &query) != EP_KRPC_OK
      || query.kind != EP_KRPC_QUERY)
    return G_SOURCE_CONTINUE;

  if (query.method == EP_KRPC_PUT && query.v != NULL && query.has_k)
    {
      g_ptr_array_add (self->puts, g_bytes_new (query.v, query.v_len));
      memcpy (self->k, query.k, 32);
      memcpy (self->sig, query.sig, 64);
      self->seq = query.seq;
    }

  for (guint i = 0; i < self->all->len; i++)
    compact_node (self->all->pdata[i], nodes);
  reply.kind = EP_KRPC_RESPONSE;
  memcpy (reply.tid, query.tid, query.tid_len);
  reply.tid_len = query.tid_len;
  memcpy (reply.id, self->id, EP_KRPC_ID_LEN);
  reply.ip[0] = 127;
  reply.ip[3] = 1;
  reply.ip[4] = (guint8) (self->nat_port >> 8);
  reply.ip[5] = (guint8) self->nat_port;
  reply.ip_len = 6;
  reply.nodes = nodes->data;
  reply.nodes_len = nodes->len;
  if (query.method == EP_KRPC_GET || query.method == EP_KRPC_GET_PEERS)
    {
      reply.token = (const guint8 *) "token";
      reply.token_len = 5;
    }
  if (query.method == EP_KRPC_GET && self->puts->len > 0)
    {
      GBytes *v = g_ptr_array_index (self->puts, self->puts->len - 1);

      reply.v = g_bytes_get_data (v, &reply.v_len);
      reply.has_k = TRUE;
      memcpy (reply.k, self->k, 32);
      memcpy (reply.sig, self->sig, 64);
      reply.has_seq = TRUE;
      reply.seq = self->seq;
    }
  ep_krpc_encode (&reply, out);
  g_socket_send_to (socket, from, (const char *) out->data, out->len, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

static void
fake_node_start (FakeNode  *self,
                 GPtrArray *all,
                 guint16    nat_port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr(GSocketAddress) local = NULL;

  self->socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                               G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_socket_bind (self->socket, any, FALSE, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (self->socket, FALSE);
  local = g_socket_get_local_address (self->socket, &error);
  g_assert_no_error (error);
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  self->nat_port = nat_port;
  randombytes_buf (self->id, sizeof self->id);
  self->all = all;
  self->puts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  self->source = g_socket_create_source (self->socket, G_IO_IN, NULL);
  g_source_set_callback (self->source, G_SOURCE_FUNC (on_fake_datagram), self, NULL);
  g_source_attach (self->source, g_main_context_get_thread_default ());
}

static void
fake_node_stop (FakeNode *self)
{
  g_source_destroy (self->source);
  g_source_unref (self->source);
  g_object_unref (self->socket);
  g_ptr_array_unref (self->puts);
}

/* A UDP forwarder: what reaches its front goes on to @to from its back,
 * what comes back to its back goes to whoever last used the front. A peer
 * reached through it answers from another address than the one called, as
 * behind some NATs. */
typedef struct
{
  GSocket        *front;
  GSocket        *back;
  GSource        *front_source;
  GSource        *back_source;
  GSocketAddress *to;
  GSocketAddress *client;
} Forwarder;

static GSocket *
loopback_socket (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                  G_SOCKET_PROTOCOL_UDP, &error);

  g_assert_no_error (error);
  g_socket_bind (socket, any, FALSE, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (socket, FALSE);
  return socket;
}

static gboolean
on_front (GSocket      *socket,
          GIOCondition  condition,
          gpointer      user_data)
{
  Forwarder *f = user_data;
  GSocketAddress *from = NULL;
  char buf[2048];
  gssize n = g_socket_receive_from (socket, &from, buf, sizeof buf, NULL, NULL);

  if (n > 0)
    {
      g_clear_object (&f->client);
      f->client = g_steal_pointer (&from);
      g_socket_send_to (f->back, f->to, buf, n, NULL, NULL);
    }
  g_clear_object (&from);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_back (GSocket      *socket,
         GIOCondition  condition,
         gpointer      user_data)
{
  Forwarder *f = user_data;
  g_autoptr(GSocketAddress) from = NULL;
  char buf[2048];
  gssize n = g_socket_receive_from (socket, &from, buf, sizeof buf, NULL, NULL);

  if (n > 0 && f->client != NULL)
    g_socket_send_to (f->front, f->client, buf, n, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

static void
forwarder_start (Forwarder *f,
                 guint16    to_port)
{
  f->front = loopback_socket ();
  f->back = loopback_socket ();
  f->to = g_inet_socket_address_new_from_string ("127.0.0.1", to_port);
  f->front_source = g_socket_create_source (f->front, G_IO_IN, NULL);
  g_source_set_callback (f->front_source, G_SOURCE_FUNC (on_front), f, NULL);
  g_source_attach (f->front_source, g_main_context_get_thread_default ());
  f->back_source = g_socket_create_source (f->back, G_IO_IN, NULL);
  g_source_set_callback (f->back_source, G_SOURCE_FUNC (on_back), f, NULL);
  g_source_attach (f->back_source, g_main_context_get_thread_default ());
}

static GSocketAddress *
forwarder_address (Forwarder *f)
{
  return g_socket_get_local_address (f->front, NULL);
}

static void
forwarder_stop (Forwarder *f)
{
  g_source_destroy (f->front_source);
  g_source_unref (f->front_source);
  g_source_destroy (f->back_source);
  g_source_unref (f->back_source);
  g_clear_object (&f->front);
  g_clear_object (&f->back);
  g_clear_object (&f->to);
  g_clear_object (&f->client);
}
