/* ep-cli-dht.c — `encryptedp2p-node dht put|get|announce|peers`
 *
 * One-shot commands: join through the given bootstrap nodes as a read-only
 * node (BEP 43), do one thing, print one JSON object, exit.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#include "ep-cli.h"
#include "ep-cli-common.h"

typedef struct
{
  EpCliNetOptions  net;
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
  ep_cli_net_options_clear (&s->net);
  /* Let the sources of the node finish tearing down. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Session, session_clear)

static gboolean
session_open (Session  *s,
              GError  **error)
{
  s->dht = ep_cli_join_one_shot (&s->net, &s->deadline, error);
  return s->dht != NULL;
}

static gboolean
read_key_file (const char  *path,
               guint8       sk[64],
               GError     **error)
{
  g_autofree char *contents = NULL;
  guint8 seed[32], pk[32];

  if (!g_file_get_contents (path, &contents, NULL, error))
    return FALSE;
  g_strstrip (contents);
  if (!ep_cli_parse_hex (contents, seed, sizeof seed, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("The key file “%s” must hold a 32-byte Ed25519 seed as 64 hex characters"),
                   path);
      return FALSE;
    }
  crypto_sign_seed_keypair (pk, sk, seed);
  sodium_memzero (seed, sizeof seed);
  return TRUE;
}

static GBytes *
bencoded_value (const char  *value,
                GError     **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  if (!g_utf8_validate (value, -1, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("The value is not valid UTF-8"));
      return NULL;
    }
  ep_benc_put_string (out, value);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static int
cmd_put (int    argc,
         char **argv)
{
  g_auto(Session) s = { 0 };
  g_autoptr(GOptionContext) context = g_option_context_new (_("VALUE"));
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) v = NULL;
  g_autoptr(GBytes) salt_bytes = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *key_file = NULL;
  g_autofree char *salt = NULL;
  g_autofree char *target_hex = NULL;
  gboolean immutable = FALSE;
  gint64 seq = -1;
  guint8 sk[64], target[20];
  EpDhtPutParams params = { 0 };
  const GOptionEntry entries[] = {
    { "immutable", 0, 0, G_OPTION_ARG_NONE, &immutable, N_("Store an immutable item"), NULL },
    { "key-file", 'k', 0, G_OPTION_ARG_FILENAME, &key_file,
      N_("Store a mutable item signed with the Ed25519 seed in FILE (64 hex characters)"),
      N_("FILE") },
    { "salt", 's', 0, G_OPTION_ARG_STRING, &salt, N_("Salt of the mutable item"), N_("S") },
    { "seq", 0, 0, G_OPTION_ARG_INT64, &seq,
      N_("Sequence number (default: the current one plus one)"), N_("N") },
    { NULL }
  };

  g_option_context_set_summary (context, _("Store a value in the DHT (BEP 44)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  ep_cli_net_options_add (context, &s.net);
  if (!ep_cli_parse_args (context, &argc, &argv, 1, &error))
    return ep_cli_fail ("dht put", error);
  if (immutable == (key_file != NULL))
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   _("Pass either --immutable or --key-file"));
      return ep_cli_fail ("dht put", error);
    }
  if (immutable && (salt != NULL || seq >= 0))
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   _("--salt and --seq are for mutable items only"));
      return ep_cli_fail ("dht put", error);
    }

  v = bencoded_value (argv[1], &error);
  if (v == NULL || (key_file != NULL && !read_key_file (key_file, sk, &error)))
    return ep_cli_fail ("dht put", error);
  salt_bytes = salt != NULL ? g_bytes_new (salt, strlen (salt)) : NULL;

  if (!session_open (&s, &error))
    return ep_cli_fail ("dht put", error);

  params.v = v;
  if (key_file != NULL)
    {
      params.secret_key = sk;
      params.salt = salt_bytes;
      if (seq < 0)
        {
          g_autoptr(GAsyncResult) got = NULL;
          g_autoptr(EpDhtValue) current = NULL;
          gsize salt_len = salt != NULL ? strlen (salt) : 0;

          ep_bep44_mutable_target (sk + 32, (const guint8 *) salt, salt_len, target);
          ep_dht_get_async (s.dht, target, salt_bytes, 0, s.deadline, ep_cli_store_result, &got);
          ep_cli_wait_result (&got);
          current = ep_dht_get_finish (s.dht, got, &error);
          if (current != NULL)
            seq = current->seq + 1;
          else if (g_error_matches (error, EP_DHT_ERROR, EP_DHT_ERROR_NOT_FOUND))
            {
              g_clear_error (&error);
              seq = 1;
            }
          else
            return ep_cli_fail ("dht put", error);
        }
      params.seq = seq;
    }

  ep_dht_put_async (s.dht, &params, s.deadline, ep_cli_store_result, &result);
  ep_cli_wait_result (&result);
  sodium_memzero (sk, sizeof sk);
  if (!ep_dht_put_finish (s.dht, result, target, NULL, &error))
    return ep_cli_fail ("dht put", error);

  target_hex = ep_cli_hex (target, sizeof target);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "target");
  json_builder_add_string_value (builder, target_hex);
  if (key_file != NULL)
    {
      json_builder_set_member_name (builder, "seq");
      json_builder_add_int_value (builder, seq);
    }
  json_builder_end_object (builder);
  ep_cli_print_json (builder);
  return EP_CLI_EXIT_OK;
}

static int
cmd_get (int    argc,
         char **argv)
{
  g_auto(Session) s = { 0 };
  g_autoptr(GOptionContext) context = g_option_context_new (_("TARGET_HEX"));
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(EpDhtValue) value = NULL;
  g_autoptr(GBytes) salt_bytes = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(EpBencDoc) doc = NULL;
  g_autofree char *salt = NULL;
  const char *text = NULL;
  gsize v_len = 0;
  const guint8 *v;
  guint8 target[20];
  const GOptionEntry entries[] = {
    { "salt", 's', 0, G_OPTION_ARG_STRING, &salt, N_("Salt of the mutable item"), N_("S") },
    { NULL }
  };

  g_option_context_set_summary (context,
                                _("Get a value from the DHT (BEP 44). For a mutable item "
                                  "TARGET_HEX is SHA-1 of the public key and the salt."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  ep_cli_net_options_add (context, &s.net);
  if (!ep_cli_parse_args (context, &argc, &argv, 1, &error)
      || !ep_cli_parse_hex (argv[1], target, sizeof target, &error))
    return ep_cli_fail ("dht get", error);
  salt_bytes = salt != NULL ? g_bytes_new (salt, strlen (salt)) : NULL;

  if (!session_open (&s, &error))
    return ep_cli_fail ("dht get", error);

  ep_dht_get_async (s.dht, target, salt_bytes, 0, s.deadline, ep_cli_store_result, &result);
  ep_cli_wait_result (&result);
  value = ep_dht_get_finish (s.dht, result, &error);
  if (value == NULL)
    return ep_cli_fail ("dht get", error);

  v = g_bytes_get_data (value->v, &v_len);
  doc = ep_benc_doc_parse (v, v_len, NULL, NULL);
  if (doc != NULL)
    text = ep_benc_get_string (ep_benc_doc_root (doc));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "v");
  if (text != NULL && g_utf8_validate (text, -1, NULL))
    json_builder_add_string_value (builder, text);
  else
    {
      /* Not a string we stored: the raw bencoded value, in hex. */
      g_autofree char *hex = ep_cli_hex (v, v_len);

      json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "v_bencoded_hex");
      json_builder_add_string_value (builder, hex);
    }
  if (value->is_mutable)
    {
      g_autofree char *k = ep_cli_hex (value->k, sizeof value->k);

      json_builder_set_member_name (builder, "seq");
      json_builder_add_int_value (builder, value->seq);
      json_builder_set_member_name (builder, "k");
      json_builder_add_string_value (builder, k);
    }
  json_builder_end_object (builder);
  ep_cli_print_json (builder);
  return EP_CLI_EXIT_OK;
}

static int
cmd_announce (int    argc,
              char **argv)
{
  g_auto(Session) s = { 0 };
  g_autoptr(GOptionContext) context = g_option_context_new (_("INFOHASH_HEX"));
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  guint8 info_hash[20];
  int peer_port = 0;
  guint n = 0;
  const GOptionEntry entries[] = {
    { "peer-port", 0, 0, G_OPTION_ARG_INT, &peer_port,
      N_("Port peers should connect to (default: the port we send from)"), N_("P") },
    { NULL }
  };

  g_option_context_set_summary (context, _("Announce a peer for an infohash (BEP 5)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  ep_cli_net_options_add (context, &s.net);
  if (!ep_cli_parse_args (context, &argc, &argv, 1, &error)
      || !ep_cli_parse_hex (argv[1], info_hash, sizeof info_hash, &error))
    return ep_cli_fail ("dht announce", error);
  if (peer_port < 0 || peer_port > G_MAXUINT16)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("The peer port must be between 1 and 65535"));
      return ep_cli_fail ("dht announce", error);
    }

  if (!session_open (&s, &error))
    return ep_cli_fail ("dht announce", error);

  ep_dht_announce_async (s.dht, info_hash, peer_port, s.deadline, ep_cli_store_result, &result);
  ep_cli_wait_result (&result);
  if (!ep_dht_announce_finish (s.dht, result, &n, &error))
    return ep_cli_fail ("dht announce", error);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "announced");
  json_builder_add_int_value (builder, n);
  json_builder_end_object (builder);
  ep_cli_print_json (builder);
  return EP_CLI_EXIT_OK;
}

static int
cmd_peers (int    argc,
           char **argv)
{
  g_auto(Session) s = { 0 };
  g_autoptr(GOptionContext) context = g_option_context_new (_("INFOHASH_HEX"));
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) peers = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  guint8 info_hash[20];

  g_option_context_set_summary (context, _("Find the peers announced for an infohash (BEP 5)."));
  ep_cli_net_options_add (context, &s.net);
  if (!ep_cli_parse_args (context, &argc, &argv, 1, &error)
      || !ep_cli_parse_hex (argv[1], info_hash, sizeof info_hash, &error))
    return ep_cli_fail ("dht peers", error);

  if (!session_open (&s, &error))
    return ep_cli_fail ("dht peers", error);

  ep_dht_get_peers_async (s.dht, info_hash, s.deadline, ep_cli_store_result, &result);
  ep_cli_wait_result (&result);
  peers = ep_dht_get_peers_finish (s.dht, result, &error);
  if (peers == NULL)
    return ep_cli_fail ("dht peers", error);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "peers");
  json_builder_begin_array (builder);
  for (guint i = 0; i < peers->len; i++)
    {
      GInetSocketAddress *sa = peers->pdata[i];
      g_autofree char *ip = g_inet_address_to_string (g_inet_socket_address_get_address (sa));
      g_autofree char *entry = NULL;

      if (strchr (ip, ':') != NULL)
        entry = g_strdup_printf ("[%s]:%u", ip, g_inet_socket_address_get_port (sa));
      else
        entry = g_strdup_printf ("%s:%u", ip, g_inet_socket_address_get_port (sa));
      json_builder_add_string_value (builder, entry);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  ep_cli_print_json (builder);
  return EP_CLI_EXIT_OK;
}

static const EpCliCommand dht_commands[] = {
  { "announce", N_("Announce a peer for an infohash"), cmd_announce },
  { "get", N_("Get a BEP 44 item"), cmd_get },
  { "peers", N_("Find the peers of an infohash"), cmd_peers },
  { "put", N_("Store a BEP 44 item"), cmd_put },
  { NULL, NULL, NULL }
};

int
ep_cli_dht_main (int    argc,
                 char **argv)
{
  return ep_cli_run_group (_("Usage: encryptedp2p-node dht COMMAND [OPTION…]\n\nCommands:\n"),
                           dht_commands, argc, argv);
}
