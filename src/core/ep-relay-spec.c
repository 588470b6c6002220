/* ep-relay-spec.c — "KEYHEX@HOST:PORT": how a relay is written down
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ep-relay-spec.h"

static gboolean
parse_key (const char *hex,
           gsize       len,
           guint8      key[32])
{
  if (len != 64)
    return FALSE;
  for (gsize i = 0; i < 32; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      key[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
}

/**
 * ep_relay_spec_split:
 * @spec: "KEYHEX@HOST:PORT"
 * @key: (out caller-allocates): the relay's key
 * @host: (out) (optional): the host, without brackets, as written
 * @port: (out) (optional): the port, never 0
 *
 * Checks the form only: nothing is looked up.
 *
 * Returns: %FALSE with @error (%G_OPTION_ERROR_BAD_VALUE) if @spec is not a relay
 */
gboolean
ep_relay_spec_split (const char  *spec,
                     guint8       key[32],
                     char       **host,
                     guint16     *port,
                     GError     **error)
{
  g_autoptr(GSocketConnectable) connectable = NULL;
  const char *at;
  const char *name;
  guint16 number;
  guint8 parsed[32];

  g_return_val_if_fail (spec != NULL, FALSE);

  at = strchr (spec, '@');
  if (at == NULL || !parse_key (spec, (gsize) (at - spec), parsed))
    goto bad;
  connectable = g_network_address_parse (at + 1, 0, NULL);
  if (connectable == NULL)
    goto bad;
  name = g_network_address_get_hostname (G_NETWORK_ADDRESS (connectable));
  number = g_network_address_get_port (G_NETWORK_ADDRESS (connectable));
  if (number == 0 || name == NULL || *name == '\0')
    goto bad;

  memcpy (key, parsed, 32);
  if (host != NULL)
    *host = g_strdup (name);
  if (port != NULL)
    *port = number;
  return TRUE;

bad:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _("“%s” is not a relay: give KEYHEX@HOST:PORT, the key in 64 hexadecimal "
                 "digits"), spec);
  return FALSE;
}

/**
 * ep_relay_spec_parse:
 * @spec: "KEYHEX@HOST:PORT"
 * @key: (out caller-allocates): the relay's key
 * @address: (out) (optional): where the relay listens
 *
 * Parses @spec; a HOST that is a name is looked up (blocking) when
 * @address is wanted. Without @address only the form is checked, as
 * ep_relay_spec_split() does.
 *
 * Returns: %FALSE with @error if @spec is not a relay or its name is not found
 */
gboolean
ep_relay_spec_parse (const char      *spec,
                     guint8           key[32],
                     GSocketAddress **address,
                     GError         **error)
{
  g_autofree char *host = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  guint16 port;

  if (!ep_relay_spec_split (spec, key, &host, &port, error))
    return FALSE;
  if (address == NULL)
    return TRUE;

  inet = g_inet_address_new_from_string (host);
  if (inet == NULL)
    {
      g_autoptr(GResolver) resolver = g_resolver_get_default ();
      g_autolist(GInetAddress) found = g_resolver_lookup_by_name (resolver, host, NULL, error);

      if (found == NULL)
        return FALSE;
      inet = g_object_ref (found->data);
    }
  *address = g_inet_socket_address_new (inet, port);
  return TRUE;
}
