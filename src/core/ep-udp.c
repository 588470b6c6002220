/* ep-udp.c — the one UDP socket per address family that everything shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <netinet/in.h>

#include "ep-udp.h"

/* Datagrams read per wake-up before yielding to other sources. */
#define READ_BUDGET 64

typedef struct
{
  EpUdpHandler handler;
  gpointer     user_data;
} Handler;

typedef struct
{
  EpUdp   *self;
  GSocket *socket;
  GSource *source;
} Endpoint;

struct _EpUdp
{
  GObject        parent_instance;

  Endpoint       v4;
  Endpoint       v6;
  guint16        port;

  Handler        handlers[256];
  EpUdpFilter    filter;
  gpointer       filter_data;

  EpUdpCounters  counters;
  guint8         buffer[EP_UDP_MAX_DATAGRAM + 1];
};

G_DEFINE_FINAL_TYPE (EpUdp, ep_udp, G_TYPE_OBJECT)

static gboolean
on_socket_readable (GSocket      *socket,
                    GIOCondition  condition,
                    gpointer      user_data)
{
  Endpoint *endpoint = user_data;
  EpUdp *self = endpoint->self;

  g_object_ref (self);

  for (guint i = 0; i < READ_BUDGET; i++)
    {
      g_autoptr(GSocketAddress) from = NULL;
      g_autoptr(GError) error = NULL;
      gssize n;
      const Handler *h;

      n = g_socket_receive_from (socket, &from, (char *) self->buffer, sizeof self->buffer,
                                 NULL, &error);
      if (n < 0)
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            g_debug ("receive failed: %s", error->message);
          break;
        }

      self->counters.received++;

      /* One more byte than the limit was offered: a longer datagram was cut. */
      if ((gsize) n > EP_UDP_MAX_DATAGRAM)
        {
          self->counters.dropped_oversize++;
          continue;
        }

      if (n == 0 || from == NULL)
        {
          self->counters.dropped_unknown++;
          continue;
        }

      if (self->filter != NULL
          && !self->filter (self, FALSE, from, self->buffer, n, self->filter_data))
        {
          self->counters.dropped_filter++;
          continue;
        }

      h = &self->handlers[self->buffer[0]];
      if (h->handler == NULL)
        {
          self->counters.dropped_unknown++;
          continue;
        }

      h->handler (self, from, self->buffer, n, h->user_data);

      /* A handler may have dropped the last reference to the sockets. */
      if (endpoint->socket == NULL)
        break;
    }

  g_object_unref (self);

  return G_SOURCE_CONTINUE;
}

static void
endpoint_clear (Endpoint *endpoint)
{
  if (endpoint->source != NULL)
    {
      g_source_destroy (endpoint->source);
      g_clear_pointer (&endpoint->source, g_source_unref);
    }
  if (endpoint->socket != NULL)
    g_socket_close (endpoint->socket, NULL);
  g_clear_object (&endpoint->socket);
}

static gboolean
endpoint_open (EpUdp         *self,
               Endpoint      *endpoint,
               GInetAddress  *address,
               guint16        port,
               GError       **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) sockaddr = NULL;
  GSocketFamily family = g_inet_address_get_family (address);

  socket = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (socket == NULL)
    return FALSE;

  g_socket_set_blocking (socket, FALSE);

  /* The v6 socket must not also take v4: that one has its own. */
  if (family == G_SOCKET_FAMILY_IPV6
      && !g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, 1, error))
    return FALSE;

  sockaddr = g_inet_socket_address_new (address, port);
  if (!g_socket_bind (socket, sockaddr, FALSE, error))
    return FALSE;

  endpoint->self = self;
  endpoint->socket = g_steal_pointer (&socket);
  endpoint->source = g_socket_create_source (endpoint->socket, G_IO_IN, NULL);
  g_source_set_callback (endpoint->source, G_SOURCE_FUNC (on_socket_readable), endpoint, NULL);
  g_source_set_static_name (endpoint->source, "[ep-udp]");
  g_source_attach (endpoint->source, g_main_context_get_thread_default ());

  return TRUE;
}

static guint16
endpoint_port (Endpoint *endpoint)
{
  g_autoptr(GSocketAddress) local = NULL;

  local = g_socket_get_local_address (endpoint->socket, NULL);
  if (local == NULL)
    return 0;
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
}

static void
ep_udp_dispose (GObject *object)
{
  EpUdp *self = EP_UDP (object);

  endpoint_clear (&self->v4);
  endpoint_clear (&self->v6);

  G_OBJECT_CLASS (ep_udp_parent_class)->dispose (object);
}

static void
ep_udp_class_init (EpUdpClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ep_udp_dispose;
}

static void
ep_udp_init (EpUdp *self)
{
}

/**
 * ep_udp_new:
 * @bind_address: (nullable): an IPv4 or IPv6 literal, or %NULL for every
 *   interface of both families
 * @port: the port, or 0 for any free one
 * @error: return location for a #GError
 *
 * Opens the shared UDP sockets. With @bind_address %NULL an IPv4 socket is
 * required and an IPv6 one is added on the same port when the host has
 * IPv6. Sources attach to the thread-default main context.
 *
 * Returns: (transfer full) (nullable): the sockets, or %NULL with @error set
 */
EpUdp *
ep_udp_new (const char  *bind_address,
            guint16      port,
            GError     **error)
{
  g_autoptr(EpUdp) self = g_object_new (EP_TYPE_UDP, NULL);

  if (bind_address != NULL)
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (bind_address);
      Endpoint *endpoint;

      if (address == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not an IP address"), bind_address);
          return NULL;
        }

      endpoint = g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 ? &self->v6 : &self->v4;
      if (!endpoint_open (self, endpoint, address, port, error))
        {
          g_prefix_error (error, _("Cannot listen on %s port %u: "), bind_address, port);
          return NULL;
        }
      self->port = endpoint_port (endpoint);
    }
  else
    {
      g_autoptr(GInetAddress) any4 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GInetAddress) any6 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
      g_autoptr(GError) v6_error = NULL;

      if (!endpoint_open (self, &self->v4, any4, port, error))
        {
          g_prefix_error (error, _("Cannot listen on UDP port %u: "), port);
          return NULL;
        }
      self->port = endpoint_port (&self->v4);

      if (!endpoint_open (self, &self->v6, any6, self->port, &v6_error))
        {
          g_debug ("no IPv6 on port %u: %s", self->port, v6_error->message);
          endpoint_clear (&self->v6);
        }
    }

  return g_steal_pointer (&self);
}

guint16
ep_udp_get_port (EpUdp *self)
{
  g_return_val_if_fail (EP_IS_UDP (self), 0);

  return self->port;
}

gboolean
ep_udp_has_family (EpUdp         *self,
                   GSocketFamily  family)
{
  g_return_val_if_fail (EP_IS_UDP (self), FALSE);

  return (family == G_SOCKET_FAMILY_IPV4 ? self->v4.socket : self->v6.socket) != NULL;
}

/**
 * ep_udp_get_local_address:
 * @self: an #EpUdp
 * @family: which socket
 *
 * Returns: (transfer full) (nullable): the address that socket is bound to
 */
GSocketAddress *
ep_udp_get_local_address (EpUdp         *self,
                          GSocketFamily  family)
{
  GSocket *socket;

  g_return_val_if_fail (EP_IS_UDP (self), NULL);

  socket = family == G_SOCKET_FAMILY_IPV4 ? self->v4.socket : self->v6.socket;
  if (socket == NULL)
    return NULL;
  return g_socket_get_local_address (socket, NULL);
}

/**
 * ep_udp_set_handler:
 * @self: an #EpUdp
 * @first_byte: the first byte of the datagrams @handler takes
 * @handler: (nullable): the handler, or %NULL to drop such datagrams
 * @user_data: passed to @handler
 *
 * The data passed to a handler is only valid during the call.
 */
void
ep_udp_set_handler (EpUdp        *self,
                    guint8        first_byte,
                    EpUdpHandler  handler,
                    gpointer      user_data)
{
  g_return_if_fail (EP_IS_UDP (self));

  self->handlers[first_byte].handler = handler;
  self->handlers[first_byte].user_data = user_data;
}

void
ep_udp_set_filter (EpUdp       *self,
                   EpUdpFilter  filter,
                   gpointer     user_data)
{
  g_return_if_fail (EP_IS_UDP (self));

  self->filter = filter;
  self->filter_data = user_data;
}

/**
 * ep_udp_send:
 * @self: an #EpUdp
 * @to: the destination; its family picks the socket
 * @data: the datagram
 * @len: its length, at most %EP_UDP_MAX_DATAGRAM
 * @error: return location for a #GError
 *
 * Sends one datagram without blocking. A full send buffer is an error
 * (%G_IO_ERROR_WOULD_BLOCK): UDP may drop, and every protocol on top
 * retransmits.
 *
 * Returns: %TRUE if the datagram was handed to the kernel, or dropped by the
 *   filter
 */
gboolean
ep_udp_send (EpUdp           *self,
             GSocketAddress  *to,
             const guint8    *data,
             gsize            len,
             GError         **error)
{
  GSocket *socket;
  gssize n;

  g_return_val_if_fail (EP_IS_UDP (self), FALSE);
  g_return_val_if_fail (G_IS_INET_SOCKET_ADDRESS (to), FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (len > EP_UDP_MAX_DATAGRAM)
    {
      self->counters.send_errors++;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   _("A datagram of %u bytes is too large to send"), (guint) len);
      return FALSE;
    }

  socket = g_socket_address_get_family (to) == G_SOCKET_FAMILY_IPV6
             ? self->v6.socket : self->v4.socket;
  if (socket == NULL)
    {
      self->counters.send_errors++;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   g_socket_address_get_family (to) == G_SOCKET_FAMILY_IPV6
                     ? _("No IPv6 socket is open") : _("No IPv4 socket is open"));
      return FALSE;
    }

  if (self->filter != NULL && !self->filter (self, TRUE, to, data, len, self->filter_data))
    {
      self->counters.dropped_filter++;
      return TRUE;
    }

  n = g_socket_send_to (socket, to, (const char *) data, len, NULL, error);
  if (n < 0)
    {
      self->counters.send_errors++;
      return FALSE;
    }

  self->counters.sent++;
  return TRUE;
}

const EpUdpCounters *
ep_udp_get_counters (EpUdp *self)
{
  g_return_val_if_fail (EP_IS_UDP (self), NULL);

  return &self->counters;
}
