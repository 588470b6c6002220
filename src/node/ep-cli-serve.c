/* ep-cli-serve.c — `encryptedp2p-node serve`: run a DHT node
 *
 * Prints one JSON object when listening ({"id", "port"}), logs joins and
 * counts on stderr, runs until SIGINT or SIGTERM, then saves its state.
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

static void
log_counts (EpDht *dht)
{
  const EpDhtCounters *c = ep_dht_get_counters (dht);

  g_printerr ("encryptedp2p-node serve: %u nodes; queries in %" G_GUINT64_FORMAT
              ", out %" G_GUINT64_FORMAT "; timeouts %" G_GUINT64_FORMAT
              "; dropped: malformed %" G_GUINT64_FORMAT ", rate-limited %" G_GUINT64_FORMAT
              ", unmatched %" G_GUINT64_FORMAT "\n",
              ep_dht_get_n_nodes (dht), c->queries_received, c->queries_sent, c->timeouts,
              c->dropped_malformed, c->dropped_rate_limited, c->dropped_unmatched);
}

static gboolean
on_log_tick (gpointer user_data)
{
  log_counts (user_data);
  return G_SOURCE_CONTINUE;
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
  EpCliNetOptions net = { 0 };
  gboolean quit = FALSE;
  guint sigint, sigterm, log_id;
  const GOptionEntry entries[] = {
    { "state", 0, 0, G_OPTION_ARG_FILENAME, &state,
      N_("Keep the node ID and routing table in FILE across runs"), N_("FILE") },
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

  id_hex = ep_cli_hex (ep_dht_get_id (dht), EP_KRPC_ID_LEN);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id_hex);
  json_builder_set_member_name (builder, "port");
  json_builder_add_int_value (builder, ep_udp_get_port (ep_dht_get_udp (dht)));
  json_builder_end_object (builder);
  ep_cli_print_json (builder);

  sigint = g_unix_signal_add (SIGINT, on_quit_signal, &quit);
  sigterm = g_unix_signal_add (SIGTERM, on_quit_signal, &quit);
  log_id = g_timeout_add_seconds (LOG_INTERVAL, on_log_tick, dht);

  ep_dht_start (dht, (const char * const *) bootstrap);
  while (!quit)
    g_main_context_iteration (NULL, TRUE);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_source_remove (log_id);
  log_counts (dht);

  if (state != NULL && !ep_dht_save_state (dht, state, &error))
    {
      ep_cli_print_error ("serve", error);
      return EP_CLI_EXIT_FAILURE;
    }
  return EP_CLI_EXIT_OK;
}
