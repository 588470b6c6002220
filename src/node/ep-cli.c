/* ep-cli.c — subcommand dispatch of encryptedp2p-node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "ep-cli.h"
#include "ep-cli-common.h"
#include "ep-cli-id.h"
#include "ep-cli-noise-vectors.h"
#include "ep-cli-presence.h"

/* Keep sorted by name; each subcommand lives in ep-cli-<name>.c. */
static const EpCliCommand commands[] = {
  { "chat", N_("A chat client speaking JSON lines on standard input and output"), ep_cli_chat_main },
  { "dht", N_("One-shot DHT operations: put, get, announce, peers"), ep_cli_dht_main },
  { "id", N_("Print the profile’s contact ID and key, creating them on first use"), ep_cli_id_main },
  { "noise-vectors", N_("Check the Noise implementation against test vectors"), ep_cli_noise_vectors_main },
  { "presence", N_("Publish our presence record or resolve a contact’s"), ep_cli_presence_main },
  { "serve", N_("Run a Mainline DHT node"), ep_cli_serve_main },
  { NULL, NULL, NULL }
};

static const EpCliCommand *
find_command (const char *name)
{
  for (guint i = 0; commands[i].name != NULL; i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];
  return NULL;
}

static char *
commands_description (void)
{
  GString *s = g_string_new (NULL);

  if (commands[0].name == NULL)
    {
      g_string_append (s, _("No subcommands are available in this build."));
      return g_string_free (s, FALSE);
    }

  g_string_append (s, _("Commands:"));
  g_string_append_c (s, '\n');
  for (guint i = 0; commands[i].name != NULL; i++)
    g_string_append_printf (s, "  %-18s %s\n", commands[i].name, _(commands[i].summary));
  g_string_append_c (s, '\n');
  g_string_append (s, _("Run “encryptedp2p-node COMMAND --help” for the options of a command."));
  return g_string_free (s, FALSE);
}

/**
 * ep_cli_run_group:
 * @usage: the translated usage line shown before the list of commands
 * @group: the group's commands, ending with an empty entry
 * @argc: argc of the group: argv[0] is "encryptedp2p-node GROUP"
 * @argv: its argv
 *
 * Runs the command of a group (`dht put`, `presence resolve`…) named by
 * argv[1], with "encryptedp2p-node GROUP NAME" as its argv[0].
 *
 * Returns: the command's exit code, or a usage error
 */
int
ep_cli_run_group (const char         *usage,
                  const EpCliCommand *group,
                  int                 argc,
                  char              **argv)
{
  if (argc >= 2)
    for (guint i = 0; group[i].name != NULL; i++)
      if (g_str_equal (argv[1], group[i].name))
        {
          g_autofree char *sub_argv0 = g_strdup_printf ("%s %s", argv[0], group[i].name);
          g_autofree char **sub_argv = g_new0 (char *, argc);

          g_set_prgname (sub_argv0);
          sub_argv[0] = sub_argv0;
          for (int j = 2; j < argc; j++)
            sub_argv[j - 1] = argv[j];
          return group[i].main (argc - 1, sub_argv);
        }

  g_printerr ("%s", usage);
  for (guint i = 0; group[i].name != NULL; i++)
    g_printerr ("  %-10s %s\n", group[i].name, _(group[i].summary));
  return argc >= 2 && (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
           ? EP_CLI_EXIT_OK : EP_CLI_EXIT_USAGE;
}

void
ep_cli_print_error (const char   *subcommand,
                    const GError *error)
{
  if (subcommand != NULL)
    g_printerr ("encryptedp2p-node %s: %s\n", subcommand, error->message);
  else
    g_printerr ("encryptedp2p-node: %s\n", error->message);
}

int
ep_cli_main (int    argc,
             char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *description = NULL;
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "version", 'v', 0, G_OPTION_ARG_NONE, &version, N_("Show the program version and exit"), NULL },
    { NULL }
  };
  const EpCliCommand *command;
  g_autofree char *prgname = NULL;
  g_autofree char *sub_argv0 = NULL;
  char **sub_argv;
  int first_arg;
  int ret;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_set_prgname ("encryptedp2p-node");

  /* Options before the subcommand belong to the program; everything from the
   * first non-option argument on belongs to the subcommand. */
  for (first_arg = 1; first_arg < argc; first_arg++)
    if (argv[first_arg][0] != '-')
      break;

  context = g_option_context_new (_("COMMAND [OPTION…]"));
  g_option_context_set_summary (context,
                                _("Headless EncryptedP2P: a Mainline DHT node and a scriptable "
                                  "end-to-end encrypted chat client."));
  description = commands_description ();
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);

  {
    int main_argc = first_arg;
    char **main_argv = argv;

    if (!g_option_context_parse (context, &main_argc, &main_argv, &error))
      {
        ep_cli_print_error (NULL, error);
        return EP_CLI_EXIT_USAGE;
      }
  }

  if (version)
    {
      g_print ("encryptedp2p-node %s\n", PACKAGE_VERSION);
      return EP_CLI_EXIT_OK;
    }

  if (first_arg >= argc)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);
      g_printerr ("%s", help);
      return EP_CLI_EXIT_USAGE;
    }

  if (g_str_equal (argv[first_arg], "help"))
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);
      g_print ("%s", help);
      return EP_CLI_EXIT_OK;
    }

  command = find_command (argv[first_arg]);
  if (command == NULL)
    {
      g_printerr (_("encryptedp2p-node: unknown command “%s”; see “encryptedp2p-node --help”\n"),
                  argv[first_arg]);
      return EP_CLI_EXIT_USAGE;
    }

  prgname = g_strdup_printf ("encryptedp2p-node %s", command->name);
  g_set_prgname (prgname);

  /* The subcommand sees "encryptedp2p-node NAME" as its argv[0]. */
  sub_argv0 = g_strdup (prgname);
  sub_argv = g_new0 (char *, argc - first_arg + 1);
  sub_argv[0] = sub_argv0;
  for (int i = first_arg + 1; i < argc; i++)
    sub_argv[i - first_arg] = argv[i];

  ret = command->main (argc - first_arg, sub_argv);
  g_free (sub_argv);

  return ret;
}
