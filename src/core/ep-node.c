/* ep-node.c — the facade: one profile on the network
 *
 * The object itself: opening a profile, starting and stopping, accessors and
 * the public calls that are only a step or two. Connections, delivery and
 * requests live in ep-node-*.c (see ep-node-private.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-contact-id.h"
#include "ep-node-private.h"

guint ep_node_signals[EP_NODE_N_SIGNALS];

static const EpNodeTiming default_timing = {
  .tick_ms = 50,
  .retransmit_ms = 500,
  .retransmit_max_ms = 30000,
  .connect_retry_ms = 1000,
  .connect_retry_max_ms = 60000,
  .request_retry_ms = 2000,
  .stranger_ms = 10000,
  .resolve_ms = 300000,
  .resolve_queued_ms = 30000,
};

G_DEFINE_FINAL_TYPE (EpNode, ep_node, G_TYPE_OBJECT)

G_DEFINE_QUARK (ep-node-error-quark, ep_node_error)

static void
on_store_status_changed (EpStore         *store,
                         const char      *contact_key,
                         const char      *id,
                         EpMessageStatus  status,
                         EpNode          *self)
{
  g_signal_emit (self, ep_node_signals[EP_NODE_SIGNAL_MESSAGE_STATUS_CHANGED], 0,
                 contact_key, id, status);
}

static void
ep_node_dispose (GObject *object)
{
  EpNode *self = EP_NODE (object);

  ep_node_stop (self);
  if (self->store != NULL)
    g_signal_handlers_disconnect_by_data (self->store, self);
  g_clear_object (&self->contacts);
  if (self->store != NULL)
    ep_store_close (self->store);
  g_clear_object (&self->store);
  g_clear_object (&self->identity);

  G_OBJECT_CLASS (ep_node_parent_class)->dispose (object);
}

static void
ep_node_finalize (GObject *object)
{
  EpNode *self = EP_NODE (object);

  g_clear_pointer (&self->peers, g_hash_table_unref);
  g_clear_pointer (&self->hints, g_hash_table_unref);
  ep_node_relay_free (self);
  g_clear_pointer (&self->profile, json_object_unref);
  ep_node_settings_clear (&self->settings);
  g_free (self->name);
  g_free (self->status_text);
  g_free (self->key_hex);
  g_free (self->profile_dir);

  G_OBJECT_CLASS (ep_node_parent_class)->finalize (object);
}

static void
ep_node_class_init (EpNodeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ep_node_dispose;
  object_class->finalize = ep_node_finalize;

  /**
   * EpNode::message-received:
   * @message: a new message from a contact, stored (never a duplicate)
   */
  ep_node_signals[EP_NODE_SIGNAL_MESSAGE_RECEIVED] =
    g_signal_new ("message-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, EP_TYPE_MESSAGE);

  /**
   * EpNode::message-status-changed:
   * @contact_key: hex key of the conversation
   * @id: hex id of one of our messages
   * @status: its new status (sent, delivered)
   */
  ep_node_signals[EP_NODE_SIGNAL_MESSAGE_STATUS_CHANGED] =
    g_signal_new ("message-status-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                  G_TYPE_STRING, G_TYPE_STRING, EP_TYPE_MESSAGE_STATUS);

  /**
   * EpNode::contact-request:
   * @contact: the contact asking, in state incoming-pending
   * @text: the text of the request
   */
  ep_node_signals[EP_NODE_SIGNAL_CONTACT_REQUEST] =
    g_signal_new ("contact-request", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, EP_TYPE_CONTACT, G_TYPE_STRING);

  /**
   * EpNode::contact-request-answered:
   * @contact: a contact we asked
   * @accepted: whether it accepted
   */
  ep_node_signals[EP_NODE_SIGNAL_CONTACT_REQUEST_ANSWERED] =
    g_signal_new ("contact-request-answered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, EP_TYPE_CONTACT, G_TYPE_BOOLEAN);

  /**
   * EpNode::contact-presence-changed:
   * @contact: a contact whose session came up or went down
   */
  ep_node_signals[EP_NODE_SIGNAL_CONTACT_PRESENCE_CHANGED] =
    g_signal_new ("contact-presence-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, EP_TYPE_CONTACT);
}

static void
ep_node_init (EpNode *self)
{
  self->timing = default_timing;
  self->settings.lan_discovery = TRUE;
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                       (GDestroyNotify) ep_node_peer_free);
}

/* The node around an open identity (taken), with its profile.json read:
 * all of opening but the store. */
static EpNode *
node_new_with_identity (const char  *profile_dir,
                        EpIdentity  *identity,
                        GError     **error)
{
  g_autoptr(EpNode) self = g_object_new (EP_TYPE_NODE, NULL);

  self->profile_dir = g_strdup (profile_dir);
  self->identity = identity;
  self->key_hex = g_malloc (65);
  sodium_bin2hex (self->key_hex, 65, ep_identity_get_public_key (self->identity), 32);

  if (!ep_node_profile_load (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

static char *
node_store_path (EpNode *self)
{
  return g_build_filename (self->profile_dir, EP_NODE_STORE_FILE_NAME, NULL);
}

static void
node_set_store (EpNode  *self,
                EpStore *store)
{
  self->store = store;
  g_signal_connect (self->store, "message-status-changed",
                    G_CALLBACK (on_store_status_changed), self);
  self->contacts = ep_contact_list_new (self->store);
}

/**
 * ep_node_open:
 * @profile_dir: the profile directory, created when missing
 * @passphrase: (nullable): for an encrypted identity (or a new one)
 *
 * Opens (or creates) the identity, reads profile.json and opens the store.
 * Nothing touches the network before ep_node_start_async().
 */
EpNode *
ep_node_open (const char  *profile_dir,
              const char  *passphrase,
              GError     **error)
{
  g_autoptr(EpNode) self = NULL;
  g_autofree char *store_path = NULL;
  EpIdentity *identity;
  EpStore *store;
  guint8 at_rest[EP_STORE_AT_REST_KEY_SIZE];

  g_return_val_if_fail (profile_dir != NULL, NULL);

  /* Creates the directory when missing. */
  identity = ep_identity_open (profile_dir, passphrase, NULL, NULL, NULL, error);
  if (identity == NULL)
    return NULL;
  self = node_new_with_identity (profile_dir, identity, error);
  if (self == NULL)
    return NULL;

  ep_identity_derive_key (self->identity, "store", at_rest);
  store_path = node_store_path (self);
  store = ep_store_open (store_path, ep_identity_get_public_key (self->identity),
                         at_rest, error);
  sodium_memzero (at_rest, sizeof at_rest);
  if (store == NULL)
    return NULL;
  node_set_store (self, store);

  return g_steal_pointer (&self);
}

static void
on_open_store_opened (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EpNode *self = g_task_get_task_data (task);
  GError *error = NULL;
  EpStore *store = ep_store_open_finish (result, &error);

  if (store == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  node_set_store (self, store);
  g_task_return_pointer (task, g_object_ref (self), g_object_unref);
}

static void
on_open_identity_opened (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autofree char *store_path = NULL;
  GError *error = NULL;
  EpIdentity *identity = ep_identity_open_finish (result, NULL, &error);
  GCancellable *cancellable;
  EpNode *self;
  guint8 at_rest[EP_STORE_AT_REST_KEY_SIZE];

  if (identity == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  self = node_new_with_identity (g_task_get_task_data (task), identity, &error);
  if (self == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_set_task_data (task, self, g_object_unref);

  ep_identity_derive_key (self->identity, "store", at_rest);
  store_path = node_store_path (self);
  cancellable = g_task_get_cancellable (task);
  ep_store_open_async (store_path, ep_identity_get_public_key (self->identity), at_rest,
                       cancellable, on_open_store_opened, g_steal_pointer (&task));
  sodium_memzero (at_rest, sizeof at_rest);
}

/**
 * ep_node_open_async:
 * @profile_dir: the profile directory, created when missing
 * @passphrase: (nullable): copied, and wiped once used
 * @callback: called in the thread-default main context of the caller
 *
 * ep_node_open() for the main thread of a program: the identity (unlocking
 * a passphrase runs Argon2id, which takes a while on purpose) and the store
 * open in worker threads. Opening attaches nothing to any main context, so
 * the node is then used from the caller's thread as usual.
 */
void
ep_node_open_async (const char          *profile_dir,
                    const char          *passphrase,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (profile_dir != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ep_node_open_async);
  /* The directory until the node holds it. */
  g_task_set_task_data (task, g_strdup (profile_dir), g_free);
  ep_identity_open_async (profile_dir, passphrase, NULL, cancellable, on_open_identity_opened,
                          g_steal_pointer (&task));
}

/** ep_node_open_finish: Returns: (transfer full) (nullable): the node */
EpNode *
ep_node_open_finish (GAsyncResult  *result,
                     GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ep_node_open_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

const char *
ep_node_get_profile_dir (EpNode *self)
{
  g_return_val_if_fail (EP_IS_NODE (self), NULL);
  return self->profile_dir;
}

EpIdentity *
ep_node_get_identity (EpNode *self)
{
  g_return_val_if_fail (EP_IS_NODE (self), NULL);
  return self->identity;
}

EpStore *
ep_node_get_store (EpNode *self)
{
  g_return_val_if_fail (EP_IS_NODE (self), NULL);
  return self->store;
}

/** ep_node_get_contacts: Returns: (transfer none): the contacts, a #GListModel of #EpContact */
EpContactList *
ep_node_get_contacts (EpNode *self)
{
  g_return_val_if_fail (EP_IS_NODE (self), NULL);
  return self->contacts;
}

/** ep_node_get_key: Returns: our identity key in hex */
const char *
ep_node_get_key (EpNode *self)
{
  g_return_val_if_fail (EP_IS_NODE (self), NULL);
  return self->key_hex;
}

/** ep_node_get_settings: Returns: (transfer none): the settings, to change before starting */
EpNodeSettings *
ep_node_get_settings (EpNode *self)
{
  g_return_val_if_fail (EP_IS_NODE (self), NULL);
  return &self->settings;
}

const char *
ep_node_get_name (EpNode *self)
{
  g_return_val_if_fail (EP_IS_NODE (self), NULL);
  return self->name != NULL ? self->name : "";
}

/* At most @max bytes of valid UTF-8, cut on a character boundary. */
static char *
bounded_utf8 (const char *text,
              gsize       max)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);
  const char *end = valid;

  while (*end != '\0')
    {
      const char *next = g_utf8_next_char (end);

      if ((gsize) (next - valid) > max)
        break;
      end = next;
    }
  return g_strndup (valid, end - valid);
}

/* The name contacts see; at most %EP_FRAME_MAX_NAME bytes are kept. */
void
ep_node_set_name (EpNode     *self,
                  const char *name)
{
  g_return_if_fail (EP_IS_NODE (self));
  g_free (self->name);
  self->name = bounded_utf8 (name, EP_FRAME_MAX_NAME);
}

const char *
ep_node_get_status_text (EpNode *self)
{
  g_return_val_if_fail (EP_IS_NODE (self), NULL);
  return self->status_text != NULL ? self->status_text : "";
}

void
ep_node_set_status_text (EpNode     *self,
                         const char *status_text)
{
  g_return_if_fail (EP_IS_NODE (self));
  g_free (self->status_text);
  self->status_text = bounded_utf8 (status_text, EP_FRAME_MAX_STATUS);
}

void
ep_node_get_timing (EpNode       *self,
                    EpNodeTiming *timing)
{
  g_return_if_fail (EP_IS_NODE (self));
  *timing = self->timing;
}

/* Takes effect for the timer at the next start. */
void
ep_node_set_timing (EpNode             *self,
                    const EpNodeTiming *timing)
{
  g_return_if_fail (EP_IS_NODE (self));
  g_return_if_fail (timing->tick_ms > 0 && timing->retransmit_ms > 0);
  self->timing = *timing;
}

gboolean
ep_node_is_started (EpNode *self)
{
  g_return_val_if_fail (EP_IS_NODE (self), FALSE);
  return self->started;
}

guint16
ep_node_get_port (EpNode *self)
{
  g_return_val_if_fail (EP_IS_NODE (self), 0);
  return self->udp != NULL ? ep_udp_get_port (self->udp) : 0;
}

EpUdp *
ep_node_get_udp (EpNode *self)
{
  g_return_val_if_fail (EP_IS_NODE (self), NULL);
  return self->udp;
}

EpSessionManager *
ep_node_get_session_manager (EpNode *self)
{
  g_return_val_if_fail (EP_IS_NODE (self), NULL);
  return self->sessions;
}

EpDht *
ep_node_get_dht (EpNode *self)
{
  g_return_val_if_fail (EP_IS_NODE (self), NULL);
  return self->dht;
}

const EpNodeCounters *
ep_node_get_counters (EpNode *self)
{
  g_return_val_if_fail (EP_IS_NODE (self), NULL);
  return &self->counters;
}

/* Start */

static void
make_session_manager (const guint8 sign_secret[64],
                      const guint8 static_secret[32],
                      gpointer     user_data)
{
  EpNode *self = user_data;

  self->sessions = ep_session_manager_new (self->udp, sign_secret, static_secret);
}

static gboolean
lan_sign (const guint8 *message,
          gsize         message_len,
          guint8        signature[64],
          gpointer      user_data)
{
  ep_identity_sign (EP_IDENTITY (user_data), message, message_len, signature);
  return TRUE;
}

static void
on_contacts_loaded (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EpNode *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  guint n;

  if (!ep_contact_list_load_finish (EP_CONTACT_LIST (source), result, &error))
    {
      ep_node_stop (self);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (self->udp == NULL)
    {
      g_task_return_new_error (task, EP_NODE_ERROR, EP_NODE_ERROR_NOT_STARTED,
                               _("The node was stopped while starting"));
      return;
    }

  n = g_list_model_get_n_items (G_LIST_MODEL (self->contacts));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(EpContact) contact = g_list_model_get_item (G_LIST_MODEL (self->contacts), i);

      if (ep_contact_get_request_state (contact) != EP_CONTACT_REQUEST_BLOCKED)
        ep_node_peer_ensure (self, ep_contact_get_key_bytes (contact));
      ep_contact_set_presence (contact, EP_CONTACT_PRESENCE_OFFLINE);
    }

  ep_node_delivery_load_outbox (self, g_steal_pointer (&task));
}

void
ep_node_start_async (EpNode              *self,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dht_state = NULL;

  g_return_if_fail (EP_IS_NODE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ep_node_start_async);

  if (self->udp != NULL)
    {
      g_task_return_new_error (task, EP_NODE_ERROR, EP_NODE_ERROR_FAILED,
                               _("The node is already running"));
      return;
    }

  self->udp = ep_udp_new (self->settings.bind_address, self->settings.port, &error);
  if (self->udp == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  self->cancellable = g_cancellable_new ();
  self->dht = ep_dht_new (self->udp);
  if (self->timing.dht_query_timeout_ms > 0)
    ep_dht_set_query_timeout (self->dht, self->timing.dht_query_timeout_ms);
  if (self->timing.dht_one_address)
    ep_dht_set_max_nodes_per_ip (self->dht, 0);
  /* Most users sit behind a NAT: no one takes us into a routing table (and
   * hands us out in lookups, where nobody can reach us) until the vote
   * shows our own address. */
  ep_dht_set_read_only_until_seen (self->dht, TRUE);
  dht_state = g_build_filename (self->profile_dir, EP_NODE_DHT_STATE_FILE_NAME, NULL);
  if (g_file_test (dht_state, G_FILE_TEST_EXISTS)
      && !ep_dht_load_state (self->dht, dht_state, &error))
    {
      g_debug ("DHT state not reused: %s", error->message);
      g_clear_error (&error);
    }
  ep_dht_start (self->dht, (const char * const *) self->settings.bootstrap);

  ep_identity_with_secrets (self->identity, make_session_manager, self);
  self->request_by_address = ep_rate_limit_new (0.2, 16, 4096);
  self->request_by_key = ep_rate_limit_new (0.1, 3, 4096);

  ep_contact_list_load_async (self->contacts, cancellable, on_contacts_loaded,
                              g_steal_pointer (&task));
}

gboolean
ep_node_start_finish (EpNode        *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (EP_IS_NODE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
ep_node_stop (EpNode *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (EP_IS_NODE (self));

  if (self->udp == NULL)
    return;

  self->started = FALSE;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  ep_node_network_monitor_stop (self);
  ep_node_connections_stop (self);
  ep_node_relay_stop (self);
  ep_node_presence_stop (self);

  if (self->dht != NULL && ep_dht_get_n_nodes (self->dht) > 0)
    {
      g_autofree char *path = g_build_filename (self->profile_dir,
                                                EP_NODE_DHT_STATE_FILE_NAME, NULL);

      if (!ep_dht_save_state (self->dht, path, &error))
        {
          g_warning ("Could not save the DHT table: %s", error->message);
          g_clear_error (&error);
        }
    }
  if (!ep_node_save_profile (self, &error))
    g_warning ("%s", error->message);

  if (self->lan != NULL)
    ep_lan_discovery_stop (self->lan);
  g_clear_object (&self->lan);
  g_clear_object (&self->sessions);
  g_clear_object (&self->dht);
  g_clear_object (&self->udp);
  g_clear_pointer (&self->request_by_address, ep_rate_limit_free);
  g_clear_pointer (&self->request_by_key, ep_rate_limit_free);
}

/* The last step of starting, once contacts and outbox are loaded: only
 * now may sessions come in and beacons go out, so that a contact is never
 * taken for a stranger. */
void
ep_node_finish_start (EpNode *self)
{
  g_autoptr(GError) error = NULL;

  ep_node_connections_start (self);
  ep_node_presence_start (self);
  ep_node_relay_start (self);
  ep_node_network_monitor_start (self);

  if (self->settings.lan_discovery)
    {
      self->lan = ep_lan_discovery_new (ep_identity_get_public_key (self->identity),
                                        ep_udp_get_port (self->udp));
      ep_lan_discovery_set_signer (self->lan, lan_sign, g_object_ref (self->identity),
                                   g_object_unref);
      ep_node_connections_watch_lan (self);
      if (!ep_lan_discovery_start (self->lan, &error))
        {
          /* Not fatal: the DHT still finds contacts. */
          g_debug ("LAN discovery unavailable: %s", error->message);
          g_clear_error (&error);
        }
    }
}

/* Messages */

static void
on_message_stored (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EpNode *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpMessage) message = NULL;
  EpNodePeer *peer;

  message = ep_store_send_message_finish (EP_STORE (source), result, &error);
  if (message == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  peer = ep_node_peer_lookup (self, ep_message_get_contact_key_bytes (message));
  if (peer != NULL)
    {
      ep_node_delivery_queue (peer, message);
      if (self->started)
        {
          ep_node_delivery_pump (peer, g_get_monotonic_time ());
          if (!ep_node_peer_is_up (peer))
            ep_node_connect_soon (self, peer);
        }
    }

  g_task_return_pointer (task, g_steal_pointer (&message), g_object_unref);
}

/**
 * ep_node_send_message_async:
 * @key: the contact's key
 * @text: UTF-8, at most %EP_FRAME_MAX_TEXT bytes
 *
 * Stores the message in the outbox and completes; delivery goes on from
 * there (::message-status-changed).
 */
void
ep_node_send_message_async (EpNode              *self,
                            const guint8         key[32],
                            const char          *text,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  EpContact *contact;
  char hex[65];

  g_return_if_fail (EP_IS_NODE (self));
  g_return_if_fail (key != NULL && text != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ep_node_send_message_async);

  sodium_bin2hex (hex, sizeof hex, key, 32);
  contact = ep_contact_list_lookup (self->contacts, hex);
  if (contact == NULL || ep_contact_get_request_state (contact) == EP_CONTACT_REQUEST_BLOCKED)
    {
      g_task_return_new_error (task, EP_NODE_ERROR, EP_NODE_ERROR_UNKNOWN_CONTACT,
                               _("That key is not one of your contacts"));
      return;
    }
  if (strlen (text) > EP_FRAME_MAX_TEXT || !g_utf8_validate (text, -1, NULL))
    {
      g_task_return_new_error (task, EP_NODE_ERROR, EP_NODE_ERROR_INVALID,
                               _("A message is at most 64 KiB of UTF-8 text"));
      return;
    }
  /* Whatever was being typed is written now. */
  ep_node_set_typing (self, key, FALSE);

  ep_store_send_message_async (self->store, key, text, cancellable, on_message_stored,
                               g_steal_pointer (&task));
}

EpMessage *
ep_node_send_message_finish (EpNode        *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (EP_IS_NODE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
on_conversation_opened (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  EpConversation *conversation = ep_conversation_open_finish (result, &error);

  if (conversation == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, conversation, g_object_unref);
}

/* Opens the last page of the conversation with @key; older pages load on demand. */
void
ep_node_open_conversation_async (EpNode              *self,
                                 const guint8         key[32],
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (EP_IS_NODE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ep_node_open_conversation_async);
  ep_conversation_open_async (self->store, key, EP_CONVERSATION_DEFAULT_PAGE_SIZE, cancellable,
                              on_conversation_opened, task);
}

EpConversation *
ep_node_open_conversation_finish (EpNode        *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (EP_IS_NODE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
