/* ep-cli-presence.c — `encryptedp2p-node presence publish|resolve`
 *
 * One-shot commands like `dht`: join through the given bootstrap nodes,
 * do one thing, print one JSON object, exit.
 *
 *   publish   signs our record (identity from --profile, created on first
 *             use; seq file EP_PRESENCE_SEQ_FILE_NAME there) with the
 *             --endpoint addresses, or else the address we listen on when it
 *             is a specific one, and stores it; prints the record.
 *   resolve   looks a contact's record up by contact ID or key and prints
 *             {"key", "seq", "endpoints", "expires"}. The last seq accepted
 *             per contact is kept in PRESENCE_SEEN_FILE in the profile
 *             (a key file, [Seq] HEX-KEY=SEQ, written atomically), so a
 *             later resolve refuses anything older.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#include "ep-cli.h"
#include "ep-cli-common.h"
#include "ep-cli-presence.h"

#define PRESENCE_SEEN_FILE "presence-seen"
#define SEEN_GROUP "Seq"

typedef struct
{
  EpCliNetOptions  net;
  char            *profile;
  char            *dir;
  EpDht           *dht;
  GCancellable    *deadline;
} Session;

static void
session_clear (Session *s)
{
  if (s->deadline != NULL)
    g_cancellable_cancel (s->deadline);
  g_clear_object (&s->deadline);
  g_clear_object (&s->dht);
  g_clear_pointer (&s->profile, g_free);
  g_clear_pointer (&s->dir, g_free);
  ep_cli_net_options_clear (&s->net);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Session, session_clear)

static void
add_profile_option (GOptionContext *context,
                    Session        *s)
{
  const GOptionEntry entries[] = {
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &s->profile,
      N_("Use the profile in DIR (default: the user’s data folder)"), N_("DIR") },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
}

static gboolean
session_open (Session  *s,
              GError  **error)
{

  s->dir = ep_profile_resolve_dir (s->profile, error);
  if (s->dir == NULL)
    return FALSE;
  s->dht = ep_cli_join_one_shot (&s->net, &s->deadline, error);
  return s->dht != NULL;
}

static GPtrArray *
parse_endpoints (char    **texts,
                 EpDht    *dht,
                 GError  **error)
{
  g_autoptr(GPtrArray) endpoints = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; texts != NULL && texts[i] != NULL; i++)
    {
      g_autoptr(GSocketConnectable) c = g_network_address_parse (texts[i], 0, NULL);
      const char *host = c != NULL ? g_network_address_get_hostname (G_NETWORK_ADDRESS (c)) : NULL;
      g_autoptr(GInetAddress) inet = host != NULL ? g_inet_address_new_from_string (host) : NULL;
      guint16 port = c != NULL ? g_network_address_get_port (G_NETWORK_ADDRESS (c)) : 0;

      if (inet == NULL || port == 0)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("“%s” is not an endpoint: use IP:PORT or [IPv6]:PORT"), texts[i]);
          return NULL;
        }
      g_ptr_array_add (endpoints, g_inet_socket_address_new (inet, port));
    }

  if (endpoints->len == 0)
    {
      /* The address we listen on, when it is one others can reach. */
      GSocketFamily families[] = { G_SOCKET_FAMILY_IPV4, G_SOCKET_FAMILY_IPV6 };

      for (guint i = 0; i < G_N_ELEMENTS (families); i++)
        {
          g_autoptr(GSocketAddress) local = ep_udp_get_local_address (ep_dht_get_udp (dht),
                                                                      families[i]);
          GInetAddress *inet;

          if (local == NULL)
            continue;
          inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local));
          if (!g_inet_address_get_is_any (inet))
            g_ptr_array_add (endpoints, g_object_ref (local));
        }
      if (endpoints->len == 0 && ep_dht_get_external_address (dht) != NULL)
        g_ptr_array_add (endpoints, g_object_ref (ep_dht_get_external_address (dht)));
    }
  if (endpoints->len == 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("No endpoint to publish: pass --endpoint IP:PORT or --bind ADDR"));
      return NULL;
    }
  return g_steal_pointer (&endpoints);
}

static int
cmd_publish (int    argc,
             char **argv)
{
  g_auto(Session) s = { 0 };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(EpIdentity) identity = NULL;
  g_autoptr(EpPresence) presence = NULL;
  g_autoptr(EpPresenceRecord) record = NULL;
  g_autoptr(GPtrArray) endpoints = NULL;
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *seq_path = NULL;
  g_autofree char *passphrase_env = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) endpoint_texts = NULL;
  const char *passphrase = NULL;
  guint n_stored = 0;
  const GOptionEntry entries[] = {
    { "endpoint", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &endpoint_texts,
      N_("Publish this endpoint (repeatable; default: the address we listen on)"),
      N_("IP:PORT") },
    { "passphrase-env", 0, 0, G_OPTION_ARG_STRING, &passphrase_env,
      N_("Read the passphrase of the key file from the environment variable NAME"), N_("NAME") },
    { NULL }
  };

  g_option_context_set_summary (context,
                                _("Publish this profile’s signed presence record once and "
                                  "print it as JSON."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  add_profile_option (context, &s);
  ep_cli_net_options_add (context, &s.net);
  if (!ep_cli_parse_args (context, &argc, &argv, 0, &error))
    return ep_cli_fail ("presence publish", error);
  if (passphrase_env != NULL && (passphrase = g_getenv (passphrase_env)) == NULL)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("The environment variable “%s” named by --passphrase-env is not set"),
                   passphrase_env);
      return ep_cli_fail ("presence publish", error);
    }

  if (!session_open (&s, &error))
    return ep_cli_fail ("presence publish", error);
  identity = ep_identity_open (s.dir, passphrase, NULL, NULL, NULL, &error);
  if (identity == NULL)
    return ep_cli_fail ("presence publish", error);
  endpoints = parse_endpoints (endpoint_texts, s.dht, &error);
  if (endpoints == NULL)
    return ep_cli_fail ("presence publish", error);

  seq_path = g_build_filename (s.dir, EP_PRESENCE_SEQ_FILE_NAME, NULL);
  presence = ep_presence_new (s.dht, identity, seq_path, &error);
  if (presence == NULL)
    return ep_cli_fail ("presence publish", error);
  ep_presence_set_endpoints (presence, endpoints);
  ep_presence_publish_async (presence, s.deadline, ep_cli_store_result, &result);
  ep_cli_wait_result (&result);
  record = ep_presence_publish_finish (presence, result, &n_stored, &error);
  if (record == NULL)
    return ep_cli_fail ("presence publish", error);

  root = ep_presence_record_to_json (record);
  json_object_set_int_member (json_node_get_object (root), "stored", n_stored);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
  return EP_CLI_EXIT_OK;
}

static char *
endpoint_string (GInetSocketAddress *sa)
{
  g_autofree char *ip = g_inet_address_to_string (g_inet_socket_address_get_address (sa));

  if (strchr (ip, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", ip, g_inet_socket_address_get_port (sa));
  return g_strdup_printf ("%s:%u", ip, g_inet_socket_address_get_port (sa));
}

static int
cmd_resolve (int    argc,
             char **argv)
{
  g_auto(Session) s = { 0 };
  g_autoptr(GOptionContext) context = g_option_context_new (_("CONTACT_ID_OR_KEY"));
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(EpPresence) presence = NULL;
  g_autoptr(EpPresenceRecord) record = NULL;
  g_autoptr(GKeyFile) seen = g_key_file_new ();
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *seen_path = NULL;
  g_autofree char *key_hex = NULL;
  guint8 key[32];
  gboolean has_nospam;
  guint32 nospam;
  gint64 last;

  g_option_context_set_summary (context,
                                _("Find a contact’s newest valid presence record and print "
                                  "where to reach them as JSON."));
  add_profile_option (context, &s);
  ep_cli_net_options_add (context, &s.net);
  if (!ep_cli_parse_args (context, &argc, &argv, 1, &error))
    return ep_cli_fail ("presence resolve", error);
  if (!ep_contact_id_parse_key_or_id (argv[1], key, &has_nospam, &nospam, &error))
    {
      /* A mistyped ID is the caller's to fix: a usage error. */
      g_autoptr(GError) usage = g_error_new_literal (G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                                     error->message);
      return ep_cli_fail ("presence resolve", usage);
    }
  key_hex = ep_cli_hex (key, sizeof key);

  if (!session_open (&s, &error))
    return ep_cli_fail ("presence resolve", error);

  /* The last seq accepted for this contact: nothing older is taken. */
  seen_path = g_build_filename (s.dir, PRESENCE_SEEN_FILE, NULL);
  if (!g_key_file_load_from_file (seen, seen_path, G_KEY_FILE_NONE, &error)
      && !g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    return ep_cli_fail ("presence resolve", error);
  g_clear_error (&error);
  last = g_key_file_get_int64 (seen, SEEN_GROUP, key_hex, NULL);

  presence = ep_presence_new (s.dht, NULL, NULL, &error);
  if (presence == NULL)
    return ep_cli_fail ("presence resolve", error);
  ep_presence_set_last_seq (presence, key, last);
  ep_presence_resolve_async (presence, key, s.deadline, ep_cli_store_result, &result);
  ep_cli_wait_result (&result);
  record = ep_presence_resolve_finish (presence, result, NULL, &error);
  if (record == NULL)
    return ep_cli_fail ("presence resolve", error);

  g_key_file_set_int64 (seen, SEEN_GROUP, key_hex, record->seq);
  {
    gsize len = 0;
    g_autofree char *data = g_key_file_to_data (seen, &len, NULL);

    if (!g_file_set_contents_full (seen_path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                   &error))
      return ep_cli_fail ("presence resolve", error);
  }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "key");
  json_builder_add_string_value (builder, key_hex);
  json_builder_set_member_name (builder, "seq");
  json_builder_add_int_value (builder, record->seq);
  json_builder_set_member_name (builder, "endpoints");
  json_builder_begin_array (builder);
  for (guint i = 0; i < record->value.endpoints->len; i++)
    {
      g_autofree char *e = endpoint_string (record->value.endpoints->pdata[i]);

      json_builder_add_string_value (builder, e);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "expires");
  json_builder_add_int_value (builder, record->value.expires);
  json_builder_end_object (builder);
  ep_cli_print_json (builder);
  return EP_CLI_EXIT_OK;
}

static const EpCliCommand presence_commands[] = {
  { "publish", N_("Publish this profile’s presence record once"), cmd_publish },
  { "resolve", N_("Find where a contact can be reached"), cmd_resolve },
  { NULL, NULL, NULL }
};

int
ep_cli_presence_main (int    argc,
                      char **argv)
{
  if (sodium_init () < 0)
    {
      g_printerr ("encryptedp2p-node presence: libsodium could not be initialised\n");
      return EP_CLI_EXIT_FAILURE;
    }

  return ep_cli_run_group (_("Usage: encryptedp2p-node presence COMMAND [OPTION…]\n\n"
                             "Commands:\n"),
                           presence_commands, argc, argv);
}
