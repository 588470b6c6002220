/* ep-cli-serve.c — `encryptedp2p-node serve`: run a DHT node
 *
 * Prints one JSON object when listening ({"id", "port"}), logs joins and
 * counts on stderr, runs until SIGINT or SIGTERM, then saves its state.
 *
 * With --relay it also relays session packets for peers that cannot reach
 * each other (EpRelay, on the same port): the JSON object gains "relay":
 * "<KEYHEX>@<port>", what `chat --relay KEYHEX@HOST:PORT` takes, and the
 * counts line gains the relay's clients, forwarded packets and drops.
 * --relay-identity FILE keeps the relay's key across runs (mode 0600);
 * without it each run has a fresh key.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>

#include "ep-cli.h"
#include "ep-cli-common.h"

#define LOG_INTERVAL 60

static gboolean
on_quit_signal (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  EpDht   *dht;
  EpRelay *relay;     /* (nullable) */
} Serve;

static void
log_counts (Serve *serve)
{
  const EpDhtCounters *c = ep_dht_get_counters (serve->dht);
  g_autofree char *relay = NULL;

  if (serve->relay != NULL)
    {
      const EpRelayCounters *r = ep_relay_get_counters (serve->relay);

      relay = g_strdup_printf ("; relay: %u clients (%" G_GUINT64_FORMAT " refused), forwarded %"
                               G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT " bytes; "
                               "dropped: malformed %" G_GUINT64_FORMAT ", to self %"
                               G_GUINT64_FORMAT ", unknown destination %" G_GUINT64_FORMAT
                               ", over destinations %" G_GUINT64_FORMAT ", over rate %"
                               G_GUINT64_FORMAT,
                               ep_relay_get_n_clients (serve->relay), r->clients_refused,
                               r->forwarded_packets, r->forwarded_bytes, r->dropped_malformed,
                               r->dropped_self, r->dropped_unknown_destination,
                               r->dropped_destinations, r->dropped_rate);
    }
  g_printerr ("encryptedp2p-node serve: %u nodes; queries in %" G_GUINT64_FORMAT
              ", out %" G_GUINT64_FORMAT "; timeouts %" G_GUINT64_FORMAT
              "; dropped: malformed %" G_GUINT64_FORMAT ", rate-limited %" G_GUINT64_FORMAT
              ", unmatched %" G_GUINT64_FORMAT "%s\n",
              ep_dht_get_n_nodes (serve->dht), c->queries_received, c->queries_sent, c->timeouts,
              c->dropped_malformed, c->dropped_rate_limited, c->dropped_unmatched,
              relay != NULL ? relay : "");
}

static gboolean
on_log_tick (gpointer user_data)
{
  log_counts (user_data);
  return G_SOURCE_CONTINUE;
}

/* The relay's keys: kept in @path when given (made there on the first run). */
static EpIdentity *
relay_identity (const char  *path,
                GError     **error)
{
  if (path == NULL)
    return ep_identity_new_random ();
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return ep_identity_load (path, NULL, NULL, error);
  return ep_identity_create (path, NULL, NULL, NULL, error);
}

static void
on_ready (EpDht    *dht,
          gpointer  user_data)
{
  g_printerr ("encryptedp2p-node serve: joined the DHT with %u nodes\n",
              ep_dht_get_n_nodes (dht));
}

static void
on_external_address_changed (EpDht          *dht,
                             GSocketAddress *address,
                             gpointer        user_data)
{
  g_autofree char *text = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (address));

  g_printerr ("encryptedp2p-node serve: the network sees us as %s\n", text);
}

int
ep_cli_serve_main (int    argc,
                   char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpDht) dht = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_auto(GStrv) bootstrap = NULL;
  g_autofree char *state = NULL;
  g_autofree char *id_hex = NULL;
  g_autofree char *relay_file = NULL;
  g_autoptr(EpIdentity) identity = NULL;
  g_autoptr(EpRelay) relay = NULL;
  EpCliNetOptions net = { 0 };
  EpRelayLimits limits = { 0 };
  gboolean quit = FALSE;
  gboolean relaying = FALSE;
  int max_clients = EP_RELAY_DEFAULT_MAX_CLIENTS;
  int max_destinations = EP_RELAY_DEFAULT_MAX_DESTINATIONS;
  gint64 rate = EP_RELAY_DEFAULT_RATE;
  guint sigint, sigterm, log_id;
  Serve serve = { 0 };
  const GOptionEntry entries[] = {
    { "state", 0, 0, G_OPTION_ARG_FILENAME, &state,
      N_("Keep the node ID and routing table in FILE across runs"), N_("FILE") },
    { "relay", 0, 0, G_OPTION_ARG_NONE, &relaying,
      N_("Also relay session packets between peers that cannot reach each other"), NULL },
    { "relay-identity", 0, 0, G_OPTION_ARG_FILENAME, &relay_file,
      N_("Keep the relay’s key in FILE across runs (default: a new key each run)"), N_("FILE") },
    { "relay-max-clients", 0, 0, G_OPTION_ARG_INT, &max_clients,
      N_("Relay for at most N peers at once (default 256)"), N_("N") },
    { "relay-max-destinations", 0, 0, G_OPTION_ARG_INT, &max_destinations,
      N_("Let each peer reach at most N others through the relay (default 16)"), N_("N") },
    { "relay-rate", 0, 0, G_OPTION_ARG_INT64, &rate,
      N_("Relay at most BYTES per second for each peer (default 262144)"), N_("BYTES") },
    { NULL }
  };

  g_option_context_set_summary (context,
                                _("Run a Mainline DHT node until interrupted. Without "
                                  "--bootstrap it joins through the public routers."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  ep_cli_net_options_add (context, &net);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      ep_cli_print_error ("serve", error);
      ep_cli_net_options_clear (&net);
      return EP_CLI_EXIT_USAGE;
    }

  if (max_clients < 1 || max_destinations < 1 || rate < 1280)
    {
      g_printerr ("encryptedp2p-node serve: %s\n",
                  rate < 1280 ? _("The relay rate must be at least 1280 bytes per second")
                              : _("Relay limits must be at least 1"));
      ep_cli_net_options_clear (&net);
      return EP_CLI_EXIT_USAGE;
    }
  if (relay_file != NULL && !relaying)
    {
      g_printerr ("encryptedp2p-node serve: %s\n", _("--relay-identity needs --relay"));
      ep_cli_net_options_clear (&net);
      return EP_CLI_EXIT_USAGE;
    }
  if (relaying && (identity = relay_identity (relay_file, &error)) == NULL)
    {
      ep_cli_print_error ("serve", error);
      ep_cli_net_options_clear (&net);
      return EP_CLI_EXIT_FAILURE;
    }

  dht = ep_cli_net_open (&net, TRUE, &bootstrap, &error);
  ep_cli_net_options_clear (&net);
  if (dht == NULL)
    {
      ep_cli_print_error ("serve", error);
      return EP_CLI_EXIT_FAILURE;
    }

  if (state != NULL && g_file_test (state, G_FILE_TEST_EXISTS)
      && !ep_dht_load_state (dht, state, &error))
    {
      /* A damaged file costs a slower start, not the node. */
      g_printerr ("encryptedp2p-node serve: %s; starting afresh\n", error->message);
      g_clear_error (&error);
    }

  g_signal_connect (dht, "ready", G_CALLBACK (on_ready), NULL);
  g_signal_connect (dht, "external-address-changed",
                    G_CALLBACK (on_external_address_changed), NULL);

  if (relaying)
    {
      relay = ep_relay_new (ep_dht_get_udp (dht), identity);
      limits.max_clients = (guint) max_clients;
      limits.max_destinations = (guint) max_destinations;
      limits.rate_bytes = (guint64) rate;
      ep_relay_set_limits (relay, &limits);
    }
  serve.dht = dht;
  serve.relay = relay;

  id_hex = ep_cli_hex (ep_dht_get_id (dht), EP_KRPC_ID_LEN);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id_hex);
  json_builder_set_member_name (builder, "port");
  json_builder_add_int_value (builder, ep_udp_get_port (ep_dht_get_udp (dht)));
  if (relay != NULL)
    {
      g_autofree char *key = ep_cli_hex (ep_relay_get_key (relay), 32);
      g_autofree char *value = g_strdup_printf ("%s@%u", key,
                                                ep_udp_get_port (ep_dht_get_udp (dht)));

      json_builder_set_member_name (builder, "relay");
      json_builder_add_string_value (builder, value);
    }
  json_builder_end_object (builder);
  /* Before the line: a script may stop us as soon as it read it. */
  sigint = g_unix_signal_add (SIGINT, on_quit_signal, &quit);
  sigterm = g_unix_signal_add (SIGTERM, on_quit_signal, &quit);
  ep_cli_print_json (builder);

  log_id = g_timeout_add_seconds (LOG_INTERVAL, on_log_tick, &serve);

  ep_dht_start (dht, (const char * const *) bootstrap);
  while (!quit)
    g_main_context_iteration (NULL, TRUE);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_source_remove (log_id);
  log_counts (&serve);
  g_clear_object (&relay);

  if (state != NULL && !ep_dht_save_state (dht, state, &error))
    {
      ep_cli_print_error ("serve", error);
      return EP_CLI_EXIT_FAILURE;
    }
  return EP_CLI_EXIT_OK;
}
