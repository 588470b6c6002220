/* ep-node-profile.c — profile.json: name, status text, presence seq, settings;
 * changing the passphrase of the profile's keys
 *
 * Read once when the profile opens, written atomically (a temporary file,
 * fsync, rename; mode 0600) on every save. Members we do not know are kept,
 * so a newer version's additions survive an older one's save.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>

#include "ep-node-private.h"
#include "ep-relay-spec.h"

#define PROFILE_VERSION 1

void
ep_node_settings_clear (EpNodeSettings *settings)
{
  g_clear_pointer (&settings->bind_address, g_free);
  g_clear_pointer (&settings->bootstrap, g_strfreev);
  g_clear_pointer (&settings->relays, g_strfreev);
}

/* Entries that are not relays are left out (a hand-edited file must not
 * keep the profile from opening), and so is any past EP_NODE_MAX_RELAYS. */
static char **
load_relays (JsonArray *array)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  guint n = 0;

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *item = json_array_get_element (array, i);
      g_autoptr(GError) error = NULL;
      const char *spec;
      guint8 key[32];

      if (!JSON_NODE_HOLDS_VALUE (item) || json_node_get_value_type (item) != G_TYPE_STRING)
        {
          g_debug ("profile.json: relay entry %u is not a string; skipped", i);
          continue;
        }
      spec = json_node_get_string (item);
      if (!ep_relay_spec_split (spec, key, NULL, NULL, &error))
        {
          g_debug ("profile.json: relay entry %u skipped: %s", i, error->message);
          continue;
        }
      if (n >= EP_NODE_MAX_RELAYS)
        {
          g_debug ("profile.json: relay entry %u skipped: more than %d relays", i,
                   EP_NODE_MAX_RELAYS);
          continue;
        }
      g_strv_builder_add (builder, spec);
      n++;
    }
  return n > 0 ? g_strv_builder_end (builder) : NULL;
}

static const char *
get_string (JsonObject *object,
            const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gboolean
profile_error (GError     **error,
               const char  *path,
               const char  *why)
{
  g_set_error (error, EP_NODE_ERROR, EP_NODE_ERROR_PROFILE,
               _("The profile file “%s” cannot be used: %s"), path, why);
  return FALSE;
}

gboolean
ep_node_profile_load (EpNode  *self,
                      GError **error)
{
  g_autofree char *path = g_build_filename (self->profile_dir, EP_NODE_PROFILE_FILE_NAME, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;
  JsonObject *settings;
  JsonNode *member;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      self->profile = json_object_new ();
      return TRUE;
    }

  if (!json_parser_load_from_file (parser, path, &local_error))
    return profile_error (error, path, local_error->message);
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return profile_error (error, path, _("not a JSON object"));
  self->profile = json_object_ref (json_node_get_object (root));

  member = json_object_get_member (self->profile, "version");
  if (member != NULL && JSON_NODE_HOLDS_VALUE (member)
      && json_node_get_value_type (member) == G_TYPE_INT64
      && json_node_get_int (member) > PROFILE_VERSION)
    return profile_error (error, path, _("written by a newer version of EncryptedP2P"));

  ep_node_set_name (self, get_string (self->profile, "name"));
  ep_node_set_status_text (self, get_string (self->profile, "status_text"));

  member = json_object_get_member (self->profile, "settings");
  if (member == NULL || !JSON_NODE_HOLDS_OBJECT (member))
    return TRUE;
  settings = json_node_get_object (member);

  member = json_object_get_member (settings, "port");
  if (member != NULL && JSON_NODE_HOLDS_VALUE (member)
      && json_node_get_value_type (member) == G_TYPE_INT64)
    {
      gint64 port = json_node_get_int (member);

      if (port < 0 || port > 65535)
        return profile_error (error, path, _("the port is out of range"));
      self->settings.port = (guint16) port;
    }
  g_free (self->settings.bind_address);
  self->settings.bind_address = g_strdup (get_string (settings, "bind"));

  member = json_object_get_member (settings, "bootstrap");
  if (member != NULL && JSON_NODE_HOLDS_ARRAY (member))
    {
      JsonArray *array = json_node_get_array (member);
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *item = json_array_get_element (array, i);

          if (!JSON_NODE_HOLDS_VALUE (item) || json_node_get_value_type (item) != G_TYPE_STRING)
            return profile_error (error, path, _("a bootstrap entry is not a string"));
          g_strv_builder_add (builder, json_node_get_string (item));
        }
      g_strfreev (self->settings.bootstrap);
      self->settings.bootstrap = g_strv_builder_end (builder);
    }

  member = json_object_get_member (settings, "relays");
  if (member != NULL && JSON_NODE_HOLDS_ARRAY (member))
    {
      g_strfreev (self->settings.relays);
      self->settings.relays = load_relays (json_node_get_array (member));
    }
  else if (member != NULL && !JSON_NODE_HOLDS_NULL (member))
    g_debug ("profile.json: “relays” is not a list; ignored");

  member = json_object_get_member (settings, "lan_discovery");
  if (member != NULL && JSON_NODE_HOLDS_VALUE (member)
      && json_node_get_value_type (member) == G_TYPE_BOOLEAN)
    self->settings.lan_discovery = json_node_get_boolean (member);

  return TRUE;
}

/**
 * ep_node_save_profile:
 *
 * Writes profile.json atomically with the name, status text, settings and
 * last published presence seq as they are now.
 */
gboolean
ep_node_save_profile (EpNode  *self,
                      GError **error)
{
  g_autofree char *path = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) generator = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonObject *settings;
  JsonObject *presence;
  JsonNode *member;

  g_return_val_if_fail (EP_IS_NODE (self), FALSE);

  json_object_set_int_member (self->profile, "version", PROFILE_VERSION);
  json_object_set_string_member (self->profile, "name", ep_node_get_name (self));
  json_object_set_string_member (self->profile, "status_text", ep_node_get_status_text (self));

  member = json_object_get_member (self->profile, "presence");
  if (member == NULL || !JSON_NODE_HOLDS_OBJECT (member))
    {
      presence = json_object_new ();
      json_object_set_object_member (self->profile, "presence", presence);
    }
  else
    presence = json_node_get_object (member);
  if (!json_object_has_member (presence, "seq"))
    json_object_set_int_member (presence, "seq", 0);

  member = json_object_get_member (self->profile, "settings");
  if (member == NULL || !JSON_NODE_HOLDS_OBJECT (member))
    {
      json_object_set_object_member (self->profile, "settings", json_object_new ());
      member = json_object_get_member (self->profile, "settings");
    }
  settings = json_node_get_object (member);
  json_object_set_int_member (settings, "port", self->settings.port);
  if (self->settings.bind_address != NULL)
    json_object_set_string_member (settings, "bind", self->settings.bind_address);
  else
    json_object_set_null_member (settings, "bind");
  if (self->settings.bootstrap != NULL)
    {
      JsonArray *array = json_array_new ();

      for (guint i = 0; self->settings.bootstrap[i] != NULL; i++)
        json_array_add_string_element (array, self->settings.bootstrap[i]);
      json_object_set_array_member (settings, "bootstrap", array);
    }
  else
    json_object_set_null_member (settings, "bootstrap");
  if (self->settings.relays != NULL && self->settings.relays[0] != NULL)
    {
      JsonArray *array = json_array_new ();

      for (guint i = 0; self->settings.relays[i] != NULL; i++)
        json_array_add_string_element (array, self->settings.relays[i]);
      json_object_set_array_member (settings, "relays", array);
    }
  else
    json_object_set_null_member (settings, "relays");
  json_object_set_boolean_member (settings, "lan_discovery", self->settings.lan_discovery);

  root = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (root, self->profile);
  generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);

  path = g_build_filename (self->profile_dir, EP_NODE_PROFILE_FILE_NAME, NULL);
  if (!g_file_set_contents_full (path, text, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &local_error))
    return profile_error (error, path, local_error->message);
  return TRUE;
}

/* The passphrase */

typedef struct
{
  char     *current;
  char     *new_passphrase;
  gboolean  encrypted;
  char     *path;
} PassphraseData;

static void
wipe_free (char *text)
{
  if (text == NULL)
    return;
  sodium_memzero (text, strlen (text));
  g_free (text);
}

static void
passphrase_data_free (PassphraseData *data)
{
  wipe_free (data->current);
  wipe_free (data->new_passphrase);
  g_free (data->path);
  g_free (data);
}

static void
passphrase_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  EpNode *self = source_object;
  PassphraseData *data = task_data;
  GError *error = NULL;

  if (data->encrypted)
    {
      g_autoptr(EpIdentity) check = NULL;

      if (data->current == NULL || *data->current == '\0')
        {
          g_task_return_new_error (task, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_NEEDS_PASSPHRASE,
                                   _("Type your current passphrase first"));
          return;
        }
      check = ep_identity_load (data->path, data->current, cancellable, &error);
      if (check == NULL)
        {
          if (g_error_matches (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_WRONG_PASSPHRASE))
            {
              g_clear_error (&error);
              g_set_error_literal (&error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_WRONG_PASSPHRASE,
                                   _("The current passphrase is wrong"));
            }
          g_task_return_error (task, error);
          return;
        }
    }

  if (!ep_identity_change_passphrase (self->identity, data->new_passphrase, NULL, cancellable,
                                      &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * ep_node_change_passphrase_async:
 * @current: (nullable): the passphrase the keys have now; ignored when they have none
 * @new_passphrase: (nullable): the new one; %NULL or "" removes the passphrase
 * @callback: called in the thread-default main context of the caller
 *
 * Checks @current against the key file, then re-encrypts it under
 * @new_passphrase, both with Argon2id in a worker thread. A wrong @current
 * fails with %EP_IDENTITY_ERROR_WRONG_PASSPHRASE and changes nothing.
 */
void
ep_node_change_passphrase_async (EpNode              *self,
                                 const char          *current,
                                 const char          *new_passphrase,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  PassphraseData *data;

  g_return_if_fail (EP_IS_NODE (self));

  data = g_new0 (PassphraseData, 1);
  data->current = g_strdup (current);
  data->new_passphrase = g_strdup (new_passphrase);
  data->encrypted = ep_identity_is_encrypted (self->identity);
  data->path = g_strdup (ep_identity_get_path (self->identity));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ep_node_change_passphrase_async);
  g_task_set_task_data (task, data, (GDestroyNotify) passphrase_data_free);
  g_task_run_in_thread (task, passphrase_thread);
}

gboolean
ep_node_change_passphrase_finish (EpNode        *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (EP_IS_NODE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
