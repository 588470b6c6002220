/* ep-lan-channel.c — one multicast socket of LAN discovery (one family)
 *
 * Bound with SO_REUSEADDR/SO_REUSEPORT to the beacon port so that every
 * instance on the host receives every beacon; joined to the group on the
 * named interface, or on every interface that is up and can multicast
 * (re-checked by ep_lan_channel_refresh(), so that a network that comes
 * up later is used); TTL 1, multicast loopback on.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "ep-lan-beacon.h"
#include "ep-lan-channel.h"
#include "ep-lan-discovery.h"

/* Datagrams read per wake-up before yielding to other sources. */
#define READ_BUDGET 64

typedef struct
{
  guint          index;
  struct in_addr addr;   /* IPv4 source address on that interface, or any */
} Iface;

struct _EpLanChannel
{
  GSocketFamily            family;
  char                    *interface;
  guint16                  port;
  GSocket                 *socket;
  GSource                 *source;
  GInetAddress            *group;
  GArray                  *ifaces;   /* Iface, joined */
  EpLanChannelReceiveFunc  receive;
  gpointer                 user_data;
  gboolean                *alive;    /* while dispatching: cleared by free */
  guint8                   buffer[EP_LAN_BEACON_SIZE + 64];
};

static gboolean
iface_list_has (GArray *ifaces,
                guint   index)
{
  for (guint i = 0; i < ifaces->len; i++)
    if (g_array_index (ifaces, Iface, i).index == index)
      return TRUE;
  return FALSE;
}

/* The interfaces to beacon on: the named one, or every one that is up, can
 * multicast and has an address of @family; failing that, loopback (IPv4),
 * which still lets instances on this host find each other. */
static GArray *
list_interfaces (const char     *name,
                 GSocketFamily   family,
                 GError        **error)
{
  g_autoptr(GArray) ifaces = g_array_new (FALSE, TRUE, sizeof (Iface));
  struct ifaddrs *all = NULL;
  guint wanted = 0;

  if (name != NULL)
    {
      wanted = if_nametoindex (name);
      if (wanted == 0)
        {
          g_set_error (error, EP_LAN_DISCOVERY_ERROR, EP_LAN_DISCOVERY_ERROR_NO_INTERFACE,
                       _("There is no network interface “%s”"), name);
          return NULL;
        }
    }

  if (getifaddrs (&all) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot list network interfaces: %s"), g_strerror (saved));
      return NULL;
    }

  for (int pass = 0; pass < 2 && ifaces->len == 0; pass++)
    for (struct ifaddrs *ifa = all; ifa != NULL; ifa = ifa->ifa_next)
      {
        Iface iface = { 0 };
        gboolean loopback = (ifa->ifa_flags & IFF_LOOPBACK) != 0;

        if (ifa->ifa_addr == NULL || ifa->ifa_name == NULL)
          continue;
        iface.index = if_nametoindex (ifa->ifa_name);
        if (iface.index == 0 || iface_list_has (ifaces, iface.index))
          continue;

        if (wanted != 0)
          {
            if (iface.index != wanted)
              continue;
          }
        else if (!(ifa->ifa_flags & IFF_UP)
                 || (pass == 0 && (loopback || !(ifa->ifa_flags & IFF_MULTICAST)))
                 || (pass == 1 && (!loopback || family != G_SOCKET_FAMILY_IPV4)))
          continue;

        if (family == G_SOCKET_FAMILY_IPV4 && ifa->ifa_addr->sa_family == AF_INET)
          {
            iface.addr = ((struct sockaddr_in *) (void *) ifa->ifa_addr)->sin_addr;
          }
        else if (family == G_SOCKET_FAMILY_IPV6 && ifa->ifa_addr->sa_family == AF_INET6)
          {
            const struct sockaddr_in6 *sin6 = (const void *) ifa->ifa_addr;

            /* ff02:: is reached through interfaces with a link-local address. */
            if (wanted == 0 && !IN6_IS_ADDR_LINKLOCAL (&sin6->sin6_addr))
              continue;
          }
        else
          {
            continue;
          }

        g_array_append_val (ifaces, iface);
      }

  freeifaddrs (all);

  /* A named interface without an address of the family: still join it. */
  if (wanted != 0 && ifaces->len == 0)
    {
      Iface iface = { .index = wanted };
      g_array_append_val (ifaces, iface);
    }

  return g_steal_pointer (&ifaces);
}

static gboolean
join (EpLanChannel *channel,
      const Iface  *iface)
{
  int fd = g_socket_get_fd (channel->socket);
  int r;

  if (channel->family == G_SOCKET_FAMILY_IPV4)
    {
      struct ip_mreqn mreq = { 0 };

      memcpy (&mreq.imr_multiaddr, g_inet_address_to_bytes (channel->group), 4);
      mreq.imr_address = iface->addr;
      mreq.imr_ifindex = (int) iface->index;
      r = setsockopt (fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq);
    }
  else
    {
      struct ipv6_mreq mreq = { 0 };

      memcpy (&mreq.ipv6mr_multiaddr, g_inet_address_to_bytes (channel->group), 16);
      mreq.ipv6mr_interface = iface->index;
      r = setsockopt (fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof mreq);
    }

  if (r != 0 && errno != EADDRINUSE)
    {
      g_debug ("cannot join the group on interface %u: %s", iface->index, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/**
 * ep_lan_channel_refresh:
 * @channel: a channel
 *
 * Joins the group on interfaces that appeared; forgets those that went.
 */
void
ep_lan_channel_refresh (EpLanChannel *channel)
{
  g_autoptr(GArray) current = NULL;
  g_autoptr(GError) error = NULL;
  GArray *joined;

  g_return_if_fail (channel != NULL);

  current = list_interfaces (channel->interface, channel->family, &error);
  if (current == NULL)
    {
      g_debug ("%s", error->message);
      return;
    }

  joined = g_array_new (FALSE, TRUE, sizeof (Iface));
  for (guint i = 0; i < current->len; i++)
    {
      const Iface *iface = &g_array_index (current, Iface, i);

      if ((channel->ifaces != NULL && iface_list_has (channel->ifaces, iface->index))
          || join (channel, iface))
        g_array_append_val (joined, *iface);
    }

  g_clear_pointer (&channel->ifaces, g_array_unref);
  channel->ifaces = joined;
}

static gboolean
on_readable (GSocket      *socket,
             GIOCondition  condition,
             gpointer      user_data)
{
  EpLanChannel *channel = user_data;
  gboolean alive = TRUE;

  channel->alive = &alive;

  for (guint i = 0; i < READ_BUDGET; i++)
    {
      g_autoptr(GSocketAddress) from = NULL;
      g_autoptr(GError) error = NULL;
      gssize n;

      n = g_socket_receive_from (channel->socket, &from, (char *) channel->buffer,
                                 sizeof channel->buffer, NULL, &error);
      if (n < 0)
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            g_debug ("receive failed: %s", error->message);
          break;
        }

      channel->receive (from, channel->buffer, (gsize) n, channel->user_data);
      if (!alive)
        return G_SOURCE_REMOVE;
    }

  channel->alive = NULL;
  return G_SOURCE_CONTINUE;
}

/**
 * ep_lan_channel_open:
 * @family: IPv4 or IPv6
 * @group: a multicast group of @family
 * @port: the beacon port
 * @interface: (nullable): an interface name, or %NULL for every one that
 *   can multicast
 * @context: where the socket source is attached
 * @receive: called with every datagram
 * @user_data: for @receive
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the channel, or %NULL with @error set
 */
EpLanChannel *
ep_lan_channel_open (GSocketFamily             family,
                     const char               *group,
                     guint16                   port,
                     const char               *interface,
                     GMainContext             *context,
                     EpLanChannelReceiveFunc   receive,
                     gpointer                  user_data,
                     GError                  **error)
{
  g_autoptr(EpLanChannel) channel = NULL;
  g_autoptr(GInetAddress) group_address = NULL;
  g_autoptr(GInetAddress) bind_address = NULL;
  g_autoptr(GSocketAddress) sockaddr = NULL;
  int fd, zero = 0;

  g_return_val_if_fail (group != NULL, NULL);
  g_return_val_if_fail (receive != NULL, NULL);

  group_address = g_inet_address_new_from_string (group);
  if (group_address == NULL
      || g_inet_address_get_family (group_address) != family
      || !g_inet_address_get_is_multicast (group_address))
    {
      g_set_error (error, EP_LAN_DISCOVERY_ERROR, EP_LAN_DISCOVERY_ERROR_INVALID_GROUP,
                   family == G_SOCKET_FAMILY_IPV4 ? _("“%s” is not an IPv4 multicast group")
                                                  : _("“%s” is not an IPv6 multicast group"),
                   group);
      return NULL;
    }
  if (interface != NULL && if_nametoindex (interface) == 0)
    {
      g_set_error (error, EP_LAN_DISCOVERY_ERROR, EP_LAN_DISCOVERY_ERROR_NO_INTERFACE,
                   _("There is no network interface “%s”"), interface);
      return NULL;
    }

  channel = g_new0 (EpLanChannel, 1);
  channel->family = family;
  channel->interface = g_strdup (interface);
  channel->port = port;
  channel->group = g_steal_pointer (&group_address);
  channel->receive = receive;
  channel->user_data = user_data;
  channel->socket = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (channel->socket == NULL)
    return NULL;
  g_socket_set_blocking (channel->socket, FALSE);
  fd = g_socket_get_fd (channel->socket);

  /* IPv4 binds to the group, so unicast and other groups on the port stay
   * out; a link-local IPv6 group cannot be bound without a scope, so that
   * socket binds to :: and refuses other groups instead. */
  if (family == G_SOCKET_FAMILY_IPV6)
    {
      int one = 1;

      if (setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
        g_debug ("IPV6_V6ONLY: %s", g_strerror (errno));
      if (setsockopt (fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &zero, sizeof zero) != 0)
        g_debug ("IPV6_MULTICAST_ALL: %s", g_strerror (errno));
      bind_address = g_inet_address_new_any (family);
    }
  else
    {
      if (setsockopt (fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof zero) != 0)
        g_debug ("IP_MULTICAST_ALL: %s", g_strerror (errno));
      bind_address = g_object_ref (channel->group);
    }

  /* allow_reuse sets SO_REUSEADDR and, for datagrams, SO_REUSEPORT. */
  sockaddr = g_inet_socket_address_new (bind_address, port);
  if (!g_socket_bind (channel->socket, sockaddr, TRUE, error))
    return NULL;

  g_socket_set_multicast_loopback (channel->socket, TRUE);
  g_socket_set_multicast_ttl (channel->socket, 1);

  ep_lan_channel_refresh (channel);
  if (channel->ifaces == NULL || channel->ifaces->len == 0)
    {
      g_set_error (error, EP_LAN_DISCOVERY_ERROR, EP_LAN_DISCOVERY_ERROR_UNAVAILABLE,
                   _("Cannot join the multicast group %s on any network interface"), group);
      return NULL;
    }

  channel->source = g_socket_create_source (channel->socket, G_IO_IN, NULL);
  g_source_set_callback (channel->source, G_SOURCE_FUNC (on_readable), channel, NULL);
  g_source_set_static_name (channel->source, "[ep-lan-channel]");
  g_source_attach (channel->source, context);
  return g_steal_pointer (&channel);
}

/**
 * ep_lan_channel_send:
 * @channel: a channel
 * @data: (array length=len): a datagram
 * @len: its length
 * @n_errors: (out): how many interfaces it could not be sent on
 *
 * Sends @data to the group on every joined interface.
 *
 * Returns: how many interfaces it was sent on
 */
guint
ep_lan_channel_send (EpLanChannel *channel,
                     const guint8 *data,
                     gsize         len,
                     guint        *n_errors)
{
  int fd;
  guint sent = 0;

  g_return_val_if_fail (channel != NULL, 0);
  g_return_val_if_fail (n_errors != NULL, 0);

  *n_errors = 0;
  fd = g_socket_get_fd (channel->socket);

  for (guint i = 0; i < channel->ifaces->len; i++)
    {
      const Iface *iface = &g_array_index (channel->ifaces, Iface, i);
      g_autoptr(GSocketAddress) to = NULL;
      g_autoptr(GError) error = NULL;
      int r;

      if (channel->family == G_SOCKET_FAMILY_IPV4)
        {
          struct ip_mreqn mreq = { 0 };

          /* With the address, lo (whose 127.0.0.1 is host-scoped) still
           * gets a usable source address rather than 0.0.0.0. */
          mreq.imr_address = iface->addr;
          mreq.imr_ifindex = (int) iface->index;
          r = setsockopt (fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq);
        }
      else
        {
          int index = (int) iface->index;

          r = setsockopt (fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index);
        }
      if (r != 0)
        {
          (*n_errors)++;
          continue;
        }

      to = g_object_new (G_TYPE_INET_SOCKET_ADDRESS,
                         "address", channel->group,
                         "port", (guint) channel->port,
                         "scope-id", channel->family == G_SOCKET_FAMILY_IPV6 ? iface->index : 0,
                         NULL);
      if (g_socket_send_to (channel->socket, to, (const char *) data, len, NULL, &error) < 0)
        {
          g_debug ("beacon not sent on interface %u: %s", iface->index, error->message);
          (*n_errors)++;
          continue;
        }
      sent++;
    }

  return sent;
}

GSocketFamily
ep_lan_channel_get_family (EpLanChannel *channel)
{
  g_return_val_if_fail (channel != NULL, G_SOCKET_FAMILY_INVALID);

  return channel->family;
}

void
ep_lan_channel_free (EpLanChannel *channel)
{
  if (channel == NULL)
    return;

  if (channel->alive != NULL)
    *channel->alive = FALSE;
  if (channel->source != NULL)
    {
      g_source_destroy (channel->source);
      g_source_unref (channel->source);
    }
  if (channel->socket != NULL)
    g_socket_close (channel->socket, NULL);
  g_clear_object (&channel->socket);
  g_clear_object (&channel->group);
  g_clear_pointer (&channel->ifaces, g_array_unref);
  g_free (channel->interface);
  g_free (channel);
}
