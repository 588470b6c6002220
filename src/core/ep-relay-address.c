/* ep-relay-address.c — a path to a peer through a relay
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-relay-address.h"

struct _EpRelayAddress
{
  GSocketAddress      parent_instance;

  guint8              relay_key[32];
  GInetSocketAddress *relay;
  guint8              peer_key[32];
};

static void ep_relay_address_connectable_iface_init (GSocketConnectableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (EpRelayAddress, ep_relay_address, G_TYPE_SOCKET_ADDRESS,
                               G_IMPLEMENT_INTERFACE (G_TYPE_SOCKET_CONNECTABLE,
                                                      ep_relay_address_connectable_iface_init))

static GSocketConnectableIface *parent_connectable_iface;

static char *
ep_relay_address_to_string (GSocketConnectable *connectable)
{
  EpRelayAddress *self = EP_RELAY_ADDRESS (connectable);
  g_autofree char *relay = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (self->relay));
  char relay_hex[65], peer_hex[65];

  /* Keys shortened, as everywhere in logs. */
  sodium_bin2hex (relay_hex, sizeof relay_hex, self->relay_key, 32);
  sodium_bin2hex (peer_hex, sizeof peer_hex, self->peer_key, 32);
  return g_strdup_printf ("relay %.8s@%s to %.8s", relay_hex, relay, peer_hex);
}

static void
ep_relay_address_connectable_iface_init (GSocketConnectableIface *iface)
{
  parent_connectable_iface = g_type_interface_peek_parent (iface);
  iface->enumerate = parent_connectable_iface->enumerate;
  iface->proxy_enumerate = parent_connectable_iface->proxy_enumerate;
  iface->to_string = ep_relay_address_to_string;
}

/* The family of the socket that reaches the relay. */
static GSocketFamily
ep_relay_address_get_family (GSocketAddress *address)
{
  return g_socket_address_get_family (G_SOCKET_ADDRESS (EP_RELAY_ADDRESS (address)->relay));
}

static gssize
ep_relay_address_get_native_size (GSocketAddress *address)
{
  return -1;
}

static gboolean
ep_relay_address_to_native (GSocketAddress  *address,
                            gpointer         dest,
                            gsize            destlen,
                            GError         **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       _("A relayed path has no socket address of its own"));
  return FALSE;
}

static void
ep_relay_address_finalize (GObject *object)
{
  EpRelayAddress *self = EP_RELAY_ADDRESS (object);

  g_clear_object (&self->relay);

  G_OBJECT_CLASS (ep_relay_address_parent_class)->finalize (object);
}

static void
ep_relay_address_class_init (EpRelayAddressClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GSocketAddressClass *address_class = G_SOCKET_ADDRESS_CLASS (klass);

  object_class->finalize = ep_relay_address_finalize;
  address_class->get_family = ep_relay_address_get_family;
  address_class->get_native_size = ep_relay_address_get_native_size;
  address_class->to_native = ep_relay_address_to_native;
}

static void
ep_relay_address_init (EpRelayAddress *self)
{
}

/**
 * ep_relay_address_new:
 * @relay_key: the relay's identity key
 * @relay: where the relay listens
 * @peer_key: the identity key of the peer behind it
 *
 * Returns: (transfer full): the relayed path
 */
GSocketAddress *
ep_relay_address_new (const guint8        relay_key[32],
                      GInetSocketAddress *relay,
                      const guint8        peer_key[32])
{
  EpRelayAddress *self;

  g_return_val_if_fail (relay_key != NULL, NULL);
  g_return_val_if_fail (G_IS_INET_SOCKET_ADDRESS (relay), NULL);
  g_return_val_if_fail (peer_key != NULL, NULL);

  self = g_object_new (EP_TYPE_RELAY_ADDRESS, NULL);
  memcpy (self->relay_key, relay_key, 32);
  self->relay = g_object_ref (relay);
  memcpy (self->peer_key, peer_key, 32);
  return G_SOCKET_ADDRESS (self);
}

const guint8 *
ep_relay_address_get_relay_key (EpRelayAddress *self)
{
  g_return_val_if_fail (EP_IS_RELAY_ADDRESS (self), NULL);

  return self->relay_key;
}

/**
 * ep_relay_address_get_relay:
 *
 * Returns: (transfer none): where the relay listens
 */
GInetSocketAddress *
ep_relay_address_get_relay (EpRelayAddress *self)
{
  g_return_val_if_fail (EP_IS_RELAY_ADDRESS (self), NULL);

  return self->relay;
}

const guint8 *
ep_relay_address_get_peer_key (EpRelayAddress *self)
{
  g_return_val_if_fail (EP_IS_RELAY_ADDRESS (self), NULL);

  return self->peer_key;
}

static gboolean
inet_equal (GInetSocketAddress *x,
            GInetSocketAddress *y)
{
  return g_inet_socket_address_get_port (x) == g_inet_socket_address_get_port (y)
         && g_inet_address_equal (g_inet_socket_address_get_address (x),
                                  g_inet_socket_address_get_address (y));
}

/**
 * ep_socket_address_equal:
 * @a: (nullable): an inet socket address or a relayed path
 * @b: (nullable): the same
 *
 * Two inet addresses are equal with the same IP and port; two relayed
 * paths with the same relay key and peer key (a relay that moved is the
 * same relay). Anything else differs.
 *
 * Returns: whether @a and @b name the same path
 */
gboolean
ep_socket_address_equal (GSocketAddress *a,
                         GSocketAddress *b)
{
  if (a == NULL || b == NULL)
    return FALSE;
  if (a == b)
    return TRUE;
  if (G_IS_INET_SOCKET_ADDRESS (a) && G_IS_INET_SOCKET_ADDRESS (b))
    return inet_equal (G_INET_SOCKET_ADDRESS (a), G_INET_SOCKET_ADDRESS (b));
  if (EP_IS_RELAY_ADDRESS (a) && EP_IS_RELAY_ADDRESS (b))
    return memcmp (EP_RELAY_ADDRESS (a)->relay_key, EP_RELAY_ADDRESS (b)->relay_key, 32) == 0
           && memcmp (EP_RELAY_ADDRESS (a)->peer_key, EP_RELAY_ADDRESS (b)->peer_key, 32) == 0;
  return FALSE;
}

/**
 * ep_socket_address_get_transport:
 * @address: (nullable): an inet socket address or a relayed path
 *
 * Returns: (transfer none) (nullable): where packets for @address go on
 *   the network: @address itself, or the relay
 */
GInetSocketAddress *
ep_socket_address_get_transport (GSocketAddress *address)
{
  if (G_IS_INET_SOCKET_ADDRESS (address))
    return G_INET_SOCKET_ADDRESS (address);
  if (EP_IS_RELAY_ADDRESS (address))
    return EP_RELAY_ADDRESS (address)->relay;
  return NULL;
}

/**
 * ep_socket_address_get_identity_bytes:
 * @address: an inet socket address or a relayed path
 * @out: (out caller-allocates): the bytes
 *
 * What identifies the sender of a packet, for MACs over it (cookies): the
 * IP address and port of an inet address; 'R', the relay key and the peer
 * key of a relayed path (the relay vouches for the peer key).
 *
 * Returns: how many bytes of @out were written, 0 for another kind
 */
gsize
ep_socket_address_get_identity_bytes (GSocketAddress *address,
                                      guint8          out[65])
{
  if (G_IS_INET_SOCKET_ADDRESS (address))
    {
      GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (address);
      GInetAddress *ip = g_inet_socket_address_get_address (inet);
      guint16 port = g_inet_socket_address_get_port (inet);
      gsize len = g_inet_address_get_native_size (ip);

      memcpy (out, g_inet_address_to_bytes (ip), len);
      out[len] = (guint8) (port >> 8);
      out[len + 1] = (guint8) port;
      return len + 2;
    }
  if (EP_IS_RELAY_ADDRESS (address))
    {
      out[0] = 'R';
      memcpy (out + 1, EP_RELAY_ADDRESS (address)->relay_key, 32);
      memcpy (out + 33, EP_RELAY_ADDRESS (address)->peer_key, 32);
      return 65;
    }
  return 0;
}
