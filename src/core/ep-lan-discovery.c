/* ep-lan-discovery.c — finding peers on the local network by signed beacons
 *
 * The object, its settings, its sockets (one EpLanChannel per family) and
 * the beacons it sends; what it receives is in ep-lan-discovery-peers.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-lan-discovery-private.h"

/* The first periodic beacon comes soon, in case the one at start was lost. */
#define FIRST_INTERVAL_MS  1000

enum
{
  PROP_0,
  PROP_PUBLIC_KEY,
  PROP_SESSION_PORT,
  PROP_GROUP,
  PROP_GROUP6,
  PROP_BEACON_PORT,
  PROP_INTERFACE,
  PROP_INTERVAL,
  PROP_PEER_TIMEOUT,
  PROP_MAX_PEERS,
  PROP_ENABLED,
  PROP_ACTIVE,
  N_PROPS
};

enum
{
  PEER_FOUND,
  PEER_LOST,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (EpLanDiscovery, ep_lan_discovery, G_TYPE_OBJECT)

G_DEFINE_QUARK (ep-lan-discovery-error-quark, ep_lan_discovery_error)

void
ep_lan_discovery_emit_peer (EpLanDiscovery     *self,
                            gboolean            found,
                            const guint8        public_key[32],
                            GInetSocketAddress *address)
{
  g_autoptr(GBytes) key = g_bytes_new (public_key, 32);

  g_signal_emit (self, signals[found ? PEER_FOUND : PEER_LOST], 0, key, address);
}

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
set_active (EpLanDiscovery *self,
            gboolean        active)
{
  if (self->active == active)
    return;
  self->active = active;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
}

/* Sending */

static gboolean
build_beacon (EpLanDiscovery *self,
              guint8          out[EP_LAN_BEACON_SIZE])
{
  EpLanBeacon beacon = { 0 };

  /* Strictly increasing, so that no two of our beacons are alike. */
  self->last_timestamp_us = MAX (g_get_real_time (), self->last_timestamp_us + 1);

  beacon.version = EP_LAN_BEACON_VERSION;
  beacon.port = self->session_port;
  beacon.timestamp_us = self->last_timestamp_us;
  beacon.nonce = self->nonce;
  memcpy (beacon.public_key, self->public_key, 32);
  if (!ep_lan_beacon_sign (&beacon, self->sign, self->sign_data))
    return FALSE;
  ep_lan_beacon_encode (&beacon, out);
  return TRUE;
}

/* One beacon per family (each with its own timestamp) on every interface. */
void
ep_lan_discovery_send_beacons (EpLanDiscovery *self)
{
  EpLanChannel *channels[] = { self->v4, self->v6 };

  for (guint i = 0; i < G_N_ELEMENTS (channels); i++)
    {
      guint8 datagram[EP_LAN_BEACON_SIZE];
      guint errors = 0;

      if (channels[i] == NULL)
        continue;
      if (self->session_port == 0 || !build_beacon (self, datagram))
        {
          self->counters.send_errors++;
          continue;
        }
      self->counters.sent += ep_lan_channel_send (channels[i], datagram, sizeof datagram, &errors);
      self->counters.send_errors += errors;
    }
}

static gboolean on_timer (gpointer user_data);

static void
on_datagram (GSocketAddress *from,
             const guint8   *data,
             gsize           len,
             gpointer        user_data)
{
  ep_lan_discovery_receive (user_data, from, data, len);
}

static void
schedule_beacon (EpLanDiscovery *self,
                 guint           interval_ms)
{
  guint delay = (guint) (interval_ms * (0.8 + 0.4 * randombytes_uniform (1001) / 1000.0));

  clear_source (&self->timer);
  self->timer = g_timeout_source_new (MAX (delay, 1));
  g_source_set_callback (self->timer, on_timer, self, NULL);
  g_source_set_static_name (self->timer, "[ep-lan-discovery] beacon");
  g_source_attach (self->timer, self->context);
}

static gboolean
on_timer (gpointer user_data)
{
  /* A peer-lost handler may drop the last other reference. */
  g_autoptr(EpLanDiscovery) self = g_object_ref (user_data);

  if (self->interface == NULL)
    {
      if (self->v4 != NULL)
        ep_lan_channel_refresh (self->v4);
      if (self->v6 != NULL)
        ep_lan_channel_refresh (self->v6);
    }

  ep_lan_discovery_expire_peers (self);

  /* A peer-lost handler may have stopped us. */
  if (!self->active)
    return G_SOURCE_REMOVE;

  ep_lan_discovery_send_beacons (self);
  schedule_beacon (self, self->interval_ms);
  return G_SOURCE_REMOVE;
}

static gboolean
open_all (EpLanDiscovery  *self,
          GError         **error)
{
  g_autoptr(GError) error4 = NULL;
  g_autoptr(GError) error6 = NULL;
  gboolean want4 = self->group != NULL && *self->group != '\0';
  gboolean want6 = self->group6 != NULL && *self->group6 != '\0';

  if (!want4 && !want6)
    {
      g_set_error_literal (error, EP_LAN_DISCOVERY_ERROR, EP_LAN_DISCOVERY_ERROR_INVALID_GROUP,
                           _("No multicast group is set for LAN discovery"));
      return FALSE;
    }

  if (self->context == NULL)
    self->context = g_main_context_ref_thread_default ();

  if (want4)
    self->v4 = ep_lan_channel_open (G_SOCKET_FAMILY_IPV4, self->group, self->beacon_port,
                                    self->interface, self->context, on_datagram, self, &error4);
  if (error4 != NULL)
    g_debug ("no IPv4 LAN discovery: %s", error4->message);
  if (want6)
    self->v6 = ep_lan_channel_open (G_SOCKET_FAMILY_IPV6, self->group6, self->beacon_port,
                                    self->interface, self->context, on_datagram, self, &error6);
  if (error6 != NULL)
    g_debug ("no IPv6 LAN discovery: %s", error6->message);

  if (self->v4 == NULL && self->v6 == NULL)
    {
      g_propagate_error (error, error4 != NULL ? g_steal_pointer (&error4)
                                               : g_steal_pointer (&error6));
      return FALSE;
    }

  set_active (self, TRUE);
  ep_lan_discovery_send_beacons (self);
  schedule_beacon (self, MIN (self->interval_ms, FIRST_INTERVAL_MS));
  return TRUE;
}

static void
close_all (EpLanDiscovery *self,
           gboolean        emit)
{
  clear_source (&self->timer);
  g_clear_pointer (&self->v4, ep_lan_channel_free);
  g_clear_pointer (&self->v6, ep_lan_channel_free);
  if (emit)
    set_active (self, FALSE);
  else
    self->active = FALSE;
  ep_lan_discovery_lose_peers (self, emit);
}

/* GObject */

static void
ep_lan_discovery_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  EpLanDiscovery *self = EP_LAN_DISCOVERY (object);

  switch (prop_id)
    {
    case PROP_PUBLIC_KEY:
      g_value_take_boxed (value, g_bytes_new (self->public_key, 32));
      break;
    case PROP_SESSION_PORT:
      g_value_set_uint (value, self->session_port);
      break;
    case PROP_GROUP:
      g_value_set_string (value, self->group);
      break;
    case PROP_GROUP6:
      g_value_set_string (value, self->group6);
      break;
    case PROP_BEACON_PORT:
      g_value_set_uint (value, self->beacon_port);
      break;
    case PROP_INTERFACE:
      g_value_set_string (value, self->interface);
      break;
    case PROP_INTERVAL:
      g_value_set_uint (value, self->interval_ms);
      break;
    case PROP_PEER_TIMEOUT:
      g_value_set_uint (value, self->peer_timeout_ms);
      break;
    case PROP_MAX_PEERS:
      g_value_set_uint (value, self->max_peers);
      break;
    case PROP_ENABLED:
      g_value_set_boolean (value, self->enabled);
      break;
    case PROP_ACTIVE:
      g_value_set_boolean (value, self->active);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ep_lan_discovery_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  EpLanDiscovery *self = EP_LAN_DISCOVERY (object);
  GBytes *bytes;

  switch (prop_id)
    {
    case PROP_PUBLIC_KEY:
      bytes = g_value_get_boxed (value);
      if (bytes != NULL && g_bytes_get_size (bytes) == 32)
        memcpy (self->public_key, g_bytes_get_data (bytes, NULL), 32);
      else if (bytes != NULL)
        g_critical ("EpLanDiscovery:public-key must be 32 bytes");
      break;
    case PROP_SESSION_PORT:
      ep_lan_discovery_set_session_port (self, (guint16) g_value_get_uint (value));
      break;
    case PROP_GROUP:
      g_free (self->group);
      self->group = g_value_dup_string (value);
      break;
    case PROP_GROUP6:
      g_free (self->group6);
      self->group6 = g_value_dup_string (value);
      break;
    case PROP_BEACON_PORT:
      self->beacon_port = g_value_get_uint (value);
      break;
    case PROP_INTERFACE:
      g_free (self->interface);
      self->interface = g_value_dup_string (value);
      if (self->interface != NULL && *self->interface == '\0')
        g_clear_pointer (&self->interface, g_free);
      break;
    case PROP_INTERVAL:
      self->interval_ms = g_value_get_uint (value);
      break;
    case PROP_PEER_TIMEOUT:
      self->peer_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_MAX_PEERS:
      self->max_peers = g_value_get_uint (value);
      break;
    case PROP_ENABLED:
      ep_lan_discovery_set_enabled (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ep_lan_discovery_dispose (GObject *object)
{
  EpLanDiscovery *self = EP_LAN_DISCOVERY (object);

  close_all (self, FALSE);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (ep_lan_discovery_parent_class)->dispose (object);
}

static void
ep_lan_discovery_finalize (GObject *object)
{
  EpLanDiscovery *self = EP_LAN_DISCOVERY (object);

  if (self->sign_destroy != NULL)
    self->sign_destroy (self->sign_data);
  ep_lan_discovery_peers_clear (self);
  g_free (self->group);
  g_free (self->group6);
  g_free (self->interface);

  G_OBJECT_CLASS (ep_lan_discovery_parent_class)->finalize (object);
}

static void
ep_lan_discovery_class_init (EpLanDiscoveryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = ep_lan_discovery_get_property;
  object_class->set_property = ep_lan_discovery_set_property;
  object_class->dispose = ep_lan_discovery_dispose;
  object_class->finalize = ep_lan_discovery_finalize;

  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");

  /**
   * EpLanDiscovery:public-key:
   *
   * Our Ed25519 identity public key (32 bytes), sent in every beacon.
   */
  properties[PROP_PUBLIC_KEY] =
    g_param_spec_boxed ("public-key", NULL, NULL, G_TYPE_BYTES, construct);
  /**
   * EpLanDiscovery:session-port:
   *
   * The UDP port peers should reach our sessions on (the EpUdp port).
   */
  properties[PROP_SESSION_PORT] =
    g_param_spec_uint ("session-port", NULL, NULL, 0, G_MAXUINT16, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * EpLanDiscovery:group:
   *
   * The IPv4 multicast group; %NULL or empty for no IPv4.
   */
  properties[PROP_GROUP] =
    g_param_spec_string ("group", NULL, NULL, EP_LAN_DISCOVERY_DEFAULT_GROUP, construct);
  /**
   * EpLanDiscovery:group6:
   *
   * The IPv6 multicast group; %NULL or empty for no IPv6.
   */
  properties[PROP_GROUP6] =
    g_param_spec_string ("group6", NULL, NULL, EP_LAN_DISCOVERY_DEFAULT_GROUP6, construct);
  properties[PROP_BEACON_PORT] =
    g_param_spec_uint ("beacon-port", NULL, NULL, 1, G_MAXUINT16,
                       EP_LAN_DISCOVERY_DEFAULT_PORT, construct);
  /**
   * EpLanDiscovery:interface:
   *
   * The network interface to beacon on, by name, or %NULL for every
   * interface that is up and can multicast.
   */
  properties[PROP_INTERFACE] =
    g_param_spec_string ("interface", NULL, NULL, NULL, construct);
  properties[PROP_INTERVAL] =
    g_param_spec_uint ("interval", NULL, NULL, 20, 3600 * 1000, 5000, construct);
  properties[PROP_PEER_TIMEOUT] =
    g_param_spec_uint ("peer-timeout", NULL, NULL, 50, G_MAXUINT, 20000, construct);
  properties[PROP_MAX_PEERS] =
    g_param_spec_uint ("max-peers", NULL, NULL, 1, 65536, 128, construct);
  /**
   * EpLanDiscovery:enabled:
   *
   * The user's setting. While started, turning it off closes the sockets
   * and loses every peer; turning it on opens them again.
   */
  properties[PROP_ENABLED] =
    g_param_spec_boolean ("enabled", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * EpLanDiscovery:active:
   *
   * Whether beacons are being sent and heard right now.
   */
  properties[PROP_ACTIVE] =
    g_param_spec_boolean ("active", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * EpLanDiscovery::peer-found:
   * @key: the peer's Ed25519 public key (32 bytes)
   * @address: its beacon's source address with the session port it named
   *
   * A peer was heard for the first time on this address family, or from
   * a new address.
   */
  signals[PEER_FOUND] =
    g_signal_new ("peer-found", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_BYTES, G_TYPE_INET_SOCKET_ADDRESS);
  /**
   * EpLanDiscovery::peer-lost:
   * @key: the peer's public key
   * @address: the address last reported for it
   *
   * Not heard for #EpLanDiscovery:peer-timeout, or discovery was stopped.
   */
  signals[PEER_LOST] =
    g_signal_new ("peer-lost", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_BYTES, G_TYPE_INET_SOCKET_ADDRESS);
}

static void
ep_lan_discovery_init (EpLanDiscovery *self)
{
  self->enabled = TRUE;
  self->nonce = ((guint64) randombytes_random () << 32) | randombytes_random ();
  ep_lan_discovery_peers_init (self);
}

/**
 * ep_lan_discovery_new:
 * @public_key: our Ed25519 identity public key
 * @session_port: the port of our EpUdp
 *
 * Creates LAN discovery with the default group, port and every interface.
 * Set a signer before starting it. Use g_object_new() to set other
 * construct properties.
 *
 * Returns: (transfer full): a new #EpLanDiscovery
 */
EpLanDiscovery *
ep_lan_discovery_new (const guint8 public_key[32],
                      guint16      session_port)
{
  g_autoptr(GBytes) key = NULL;

  g_return_val_if_fail (public_key != NULL, NULL);

  key = g_bytes_new (public_key, 32);
  return g_object_new (EP_TYPE_LAN_DISCOVERY,
                       "public-key", key,
                       "session-port", (guint) session_port,
                       NULL);
}

/**
 * ep_lan_discovery_set_signer:
 * @self: an #EpLanDiscovery
 * @sign: (scope notified): signs beacons with the identity key
 * @user_data: for @sign
 * @destroy: (nullable): frees @user_data
 */
void
ep_lan_discovery_set_signer (EpLanDiscovery *self,
                             EpLanSignFunc   sign,
                             gpointer        user_data,
                             GDestroyNotify  destroy)
{
  g_return_if_fail (EP_IS_LAN_DISCOVERY (self));
  g_return_if_fail (sign != NULL);

  if (self->sign_destroy != NULL)
    self->sign_destroy (self->sign_data);
  self->sign = sign;
  self->sign_data = user_data;
  self->sign_destroy = destroy;
}

static void
free_secret_key (gpointer key)
{
  sodium_free (key);
}

/**
 * ep_lan_discovery_set_secret_key:
 * @self: an #EpLanDiscovery
 * @secret_key: the libsodium Ed25519 secret key that goes with the public key
 *
 * Signs with a copy of @secret_key kept in guarded memory.
 */
void
ep_lan_discovery_set_secret_key (EpLanDiscovery *self,
                                 const guint8    secret_key[64])
{
  guint8 *copy;

  g_return_if_fail (EP_IS_LAN_DISCOVERY (self));
  g_return_if_fail (secret_key != NULL);
  g_return_if_fail (memcmp (secret_key + 32, self->public_key, 32) == 0);

  copy = sodium_malloc (64);
  if (copy == NULL)
    g_error ("out of guarded memory");
  memcpy (copy, secret_key, 64);
  sodium_mprotect_readonly (copy);
  ep_lan_discovery_set_signer (self, ep_lan_beacon_sign_with_secret_key, copy, free_secret_key);
}

/**
 * ep_lan_discovery_start:
 * @self: an #EpLanDiscovery
 * @error: return location for a #GError
 *
 * Starts beaconing and listening on the thread-default main context, if
 * #EpLanDiscovery:enabled. Succeeds when at least one family works.
 *
 * Returns: %TRUE when started
 */
gboolean
ep_lan_discovery_start (EpLanDiscovery  *self,
                        GError         **error)
{
  g_return_val_if_fail (EP_IS_LAN_DISCOVERY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->started)
    return TRUE;
  if (self->sign == NULL)
    {
      g_set_error_literal (error, EP_LAN_DISCOVERY_ERROR, EP_LAN_DISCOVERY_ERROR_NO_SIGNER,
                           _("LAN discovery has no key to sign its beacons with"));
      return FALSE;
    }

  g_clear_pointer (&self->context, g_main_context_unref);
  self->context = g_main_context_ref_thread_default ();
  if (self->enabled && !open_all (self, error))
    {
      close_all (self, FALSE);
      return FALSE;
    }
  self->started = TRUE;
  return TRUE;
}

/**
 * ep_lan_discovery_stop:
 * @self: an #EpLanDiscovery
 *
 * Closes the sockets; every known peer is lost.
 */
void
ep_lan_discovery_stop (EpLanDiscovery *self)
{
  g_return_if_fail (EP_IS_LAN_DISCOVERY (self));

  if (!self->started)
    return;
  self->started = FALSE;
  close_all (self, TRUE);
}

gboolean
ep_lan_discovery_get_enabled (EpLanDiscovery *self)
{
  g_return_val_if_fail (EP_IS_LAN_DISCOVERY (self), FALSE);

  return self->enabled;
}

void
ep_lan_discovery_set_enabled (EpLanDiscovery *self,
                              gboolean        enabled)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (EP_IS_LAN_DISCOVERY (self));

  enabled = !!enabled;
  if (self->enabled == enabled)
    return;
  self->enabled = enabled;

  if (self->started && !enabled)
    close_all (self, TRUE);
  else if (self->started && enabled && !open_all (self, &error))
    {
      close_all (self, FALSE);
      g_message ("LAN discovery is unavailable: %s", error->message);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENABLED]);
}

gboolean
ep_lan_discovery_get_active (EpLanDiscovery *self)
{
  g_return_val_if_fail (EP_IS_LAN_DISCOVERY (self), FALSE);

  return self->active;
}

guint16
ep_lan_discovery_get_session_port (EpLanDiscovery *self)
{
  g_return_val_if_fail (EP_IS_LAN_DISCOVERY (self), 0);

  return self->session_port;
}

/**
 * ep_lan_discovery_set_session_port:
 * @self: an #EpLanDiscovery
 * @port: the port of our EpUdp
 *
 * Beacons name the new port from now on; one goes out at once.
 */
void
ep_lan_discovery_set_session_port (EpLanDiscovery *self,
                                   guint16         port)
{
  g_return_if_fail (EP_IS_LAN_DISCOVERY (self));

  if (self->session_port == port)
    return;
  self->session_port = port;
  ep_lan_discovery_announce (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION_PORT]);
}

/**
 * ep_lan_discovery_announce:
 * @self: an #EpLanDiscovery
 *
 * Sends a beacon now, if active.
 */
void
ep_lan_discovery_announce (EpLanDiscovery *self)
{
  g_return_if_fail (EP_IS_LAN_DISCOVERY (self));

  if (self->active)
    ep_lan_discovery_send_beacons (self);
}

const EpLanCounters *
ep_lan_discovery_get_counters (EpLanDiscovery *self)
{
  g_return_val_if_fail (EP_IS_LAN_DISCOVERY (self), NULL);

  return &self->counters;
}
