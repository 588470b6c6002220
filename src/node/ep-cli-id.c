/* ep-cli-id.c — `encryptedp2p-node id`: show (and on first use create) our identity
 *
 * Prints {"id": CONTACT_ID, "key": HEX} on one line. The passphrase of an
 * encrypted key file never goes on the command line: it is read from
 * standard input (--passphrase-stdin, first line) or from an environment
 * variable whose name is given (--passphrase-env NAME).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "ep-cli.h"
#include "ep-cli-id.h"
#include "ep-core.h"

#define MAX_PASSPHRASE 1024

/* The first line of stdin into locked memory; NULL on error. */
static char *
read_passphrase_stdin (GError **error)
{
  char *buffer = sodium_malloc (MAX_PASSPHRASE + 1);
  gsize len = 0;

  if (buffer == NULL)
    g_error ("Out of locked memory");

  while (len < MAX_PASSPHRASE)
    {
      gssize n = read (STDIN_FILENO, buffer + len, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _("Cannot read the passphrase from standard input: %s"),
                       g_strerror (saved_errno));
          sodium_free (buffer);
          return NULL;
        }
      if (n == 0 || buffer[len] == '\n')
        break;
      len++;
    }
  if (len == MAX_PASSPHRASE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The passphrase is longer than %d bytes"), MAX_PASSPHRASE);
      sodium_free (buffer);
      return NULL;
    }
  if (len > 0 && buffer[len - 1] == '\r')
    len--;
  buffer[len] = '\0';
  return buffer;
}

static char *
copy_passphrase_env (const char  *name,
                     GError     **error)
{
  const char *value = g_getenv (name);
  gsize len;
  char *buffer;

  if (value == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The environment variable “%s” named by --passphrase-env is not set"), name);
      return NULL;
    }
  len = strlen (value);
  if (len > MAX_PASSPHRASE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The passphrase is longer than %d bytes"), MAX_PASSPHRASE);
      return NULL;
    }
  buffer = sodium_malloc (len + 1);
  if (buffer == NULL)
    g_error ("Out of locked memory");
  memcpy (buffer, value, len + 1);
  return buffer;
}

static void
print_identity (EpIdentity *identity)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  char key[EP_IDENTITY_KEY_LEN * 2 + 1];

  sodium_bin2hex (key, sizeof key, ep_identity_get_public_key (identity), EP_IDENTITY_KEY_LEN);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, ep_identity_get_contact_id (identity));
  json_builder_set_member_name (builder, "key");
  json_builder_add_string_value (builder, key);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

int
ep_cli_id_main (int    argc,
                char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EpIdentity) identity = NULL;
  g_autofree char *profile = NULL;
  g_autofree char *passphrase_env = NULL;
  g_autofree char *dir = NULL;
  gboolean passphrase_stdin = FALSE;
  char *passphrase = NULL;
  const GOptionEntry entries[] = {
    { "profile", 'p', 0, G_OPTION_ARG_FILENAME, &profile,
      N_("Use the profile in DIR (default: the user’s data folder)"), N_("DIR") },
    { "passphrase-stdin", 0, 0, G_OPTION_ARG_NONE, &passphrase_stdin,
      N_("Read the passphrase of the key file from the first line of standard input"), NULL },
    { "passphrase-env", 0, 0, G_OPTION_ARG_STRING, &passphrase_env,
      N_("Read the passphrase of the key file from the environment variable NAME"), N_("NAME") },
    { NULL }
  };

  if (sodium_init () < 0)
    {
      g_printerr ("encryptedp2p-node id: libsodium could not be initialised\n");
      return EP_CLI_EXIT_FAILURE;
    }

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                _("Print this profile’s contact ID and identity key as JSON, "
                                  "creating the identity on first use. With a passphrase, a "
                                  "new identity is encrypted with it."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      ep_cli_print_error ("id", error);
      return EP_CLI_EXIT_USAGE;
    }
  if (argc > 1)
    {
      g_printerr (_("encryptedp2p-node id: unexpected argument “%s”\n"), argv[1]);
      return EP_CLI_EXIT_USAGE;
    }
  if (passphrase_stdin && passphrase_env != NULL)
    {
      g_printerr (_("encryptedp2p-node id: use either --passphrase-stdin or --passphrase-env\n"));
      return EP_CLI_EXIT_USAGE;
    }

  if (passphrase_env != NULL)
    {
      passphrase = copy_passphrase_env (passphrase_env, &error);
      if (passphrase == NULL)
        {
          ep_cli_print_error ("id", error);
          return EP_CLI_EXIT_USAGE;
        }
    }
  else if (passphrase_stdin)
    {
      passphrase = read_passphrase_stdin (&error);
      if (passphrase == NULL)
        {
          ep_cli_print_error ("id", error);
          return EP_CLI_EXIT_FAILURE;
        }
    }

  dir = ep_profile_resolve_dir (profile, &error);
  if (dir != NULL)
    identity = ep_identity_open (dir, passphrase, NULL, NULL, NULL, &error);
  if (passphrase != NULL)
    sodium_free (passphrase);

  if (identity == NULL)
    {
      ep_cli_print_error ("id", error);
      return EP_CLI_EXIT_FAILURE;
    }

  print_identity (identity);
  return EP_CLI_EXIT_OK;
}
