/* ep-cli-common.c — options and helpers shared by the network subcommands
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ep-cli.h"
#include "ep-cli-common.h"

/* The public Mainline routers: `serve` and `chat` use them, and only by default. */
static const char * const default_bootstrap[] = {
  "router.bittorrent.com:6881",
  "dht.transmissionbt.com:6881",
  "router.utorrent.com:6881",
  "dht.libtorrent.org:25401",
  NULL
};

void
ep_cli_net_options_add (GOptionContext  *context,
                        EpCliNetOptions *options)
{
  const GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &options->port,
      N_("UDP port to listen on (0: any free port)"), N_("N") },
    { "bind", 0, 0, G_OPTION_ARG_STRING, &options->bind,
      N_("Listen on this address only"), N_("ADDR") },
    { "bootstrap", 'b', 0, G_OPTION_ARG_STRING_ARRAY, &options->bootstrap,
      N_("Join the DHT through this node (repeatable)"), N_("HOST:PORT") },
    { "no-default-bootstrap", 0, 0, G_OPTION_ARG_NONE, &options->no_default_bootstrap,
      N_("Do not use the public Mainline bootstrap routers"), NULL },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &options->timeout,
      N_("Give up after this many seconds (default 30)"), N_("SECONDS") },
    { NULL }
  };

  options->timeout = EP_CLI_DEFAULT_TIMEOUT;
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
}

void
ep_cli_net_options_clear (EpCliNetOptions *options)
{
  g_clear_pointer (&options->bind, g_free);
  g_clear_pointer (&options->bootstrap, g_strfreev);
}

EpDht *
ep_cli_net_open (EpCliNetOptions   *options,
                 gboolean           allow_default_bootstrap,
                 char            ***bootstrap_out,
                 GError           **error)
{
  g_autoptr(EpUdp) udp = NULL;
  EpDht *dht;

  if (options->port < 0 || options->port > G_MAXUINT16)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("The port must be between 0 and 65535"));
      return NULL;
    }
  if (options->timeout <= 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("The timeout must be at least one second"));
      return NULL;
    }

  if (options->bootstrap != NULL && options->bootstrap[0] != NULL)
    *bootstrap_out = g_strdupv (options->bootstrap);
  else if (allow_default_bootstrap && !options->no_default_bootstrap)
    *bootstrap_out = g_strdupv ((char **) default_bootstrap);
  else
    *bootstrap_out = NULL;

  udp = ep_udp_new (options->bind, options->port, error);
  if (udp == NULL)
    return NULL;

  dht = ep_dht_new (udp);
  return dht;
}

/* The public Mainline routers, for a program that joins by default. */
const char * const *
ep_cli_default_bootstrap (void)
{
  return default_bootstrap;
}

static gboolean
on_deadline (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

GCancellable *
ep_cli_deadline_new (guint seconds)
{
  GCancellable *cancellable = g_cancellable_new ();
  GSource *source = g_timeout_source_new_seconds (seconds);

  g_source_set_callback (source, on_deadline, g_object_ref (cancellable), g_object_unref);
  g_source_attach (source, g_main_context_get_thread_default ());
  g_source_unref (source);
  return cancellable;
}

static void
on_ready (EpDht    *dht,
          gpointer  user_data)
{
  *(gboolean *) user_data = TRUE;
}

gboolean
ep_cli_wait_ready (EpDht   *dht,
                   guint    seconds,
                   GError **error)
{
  g_autoptr(GCancellable) deadline = ep_cli_deadline_new (seconds);
  gboolean ready = ep_dht_is_ready (dht);
  gulong id = g_signal_connect (dht, "ready", G_CALLBACK (on_ready), &ready);

  while (!ready && !g_cancellable_is_cancelled (deadline))
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (dht, id);

  if (!ready)
    {
      g_set_error (error, EP_DHT_ERROR, EP_DHT_ERROR_NO_NODES,
                   _("Could not join the DHT within %u seconds; check the bootstrap nodes"),
                   seconds);
      return FALSE;
    }
  return TRUE;
}

void
ep_cli_store_result (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

void
ep_cli_wait_result (GAsyncResult **result)
{
  /* Every operation ends on its own: its cancellable has a deadline. */
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

gboolean
ep_cli_parse_hex (const char  *hex,
                  guint8      *out,
                  gsize        len,
                  GError     **error)
{
  if (hex == NULL || strlen (hex) != len * 2)
    goto bad;
  for (gsize i = 0; i < len; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        goto bad;
      out[i] = hi << 4 | lo;
    }
  return TRUE;

bad:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _("“%s” is not %u hexadecimal characters"),
               hex != NULL ? hex : "", (guint) (len * 2));
  return FALSE;
}

char *
ep_cli_hex (const guint8 *data,
            gsize         len)
{
  GString *s = g_string_sized_new (len * 2);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", data[i]);
  return g_string_free (s, FALSE);
}

void
ep_cli_print_json (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = NULL;

  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
  fflush (stdout);
}

/* A cancelled operation ran out of time: say so in those words. */
int
ep_cli_fail (const char *name,
             GError     *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autoptr(GError) timeout = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                               _("Timed out"));
      ep_cli_print_error (name, timeout);
    }
  else
    ep_cli_print_error (name, error);
  return error->domain == G_OPTION_ERROR ? EP_CLI_EXIT_USAGE : EP_CLI_EXIT_FAILURE;
}

gboolean
ep_cli_parse_args (GOptionContext  *context,
                   int             *argc,
                   char          ***argv,
                   int              n_positional,
                   GError         **error)
{
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (*argc - 1 != n_positional)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   _("Expected %d argument(s); see --help"), n_positional);
      return FALSE;
    }
  return TRUE;
}

/* A one-shot command joins read-only (BEP 43: nobody adds it to their table)
 * through the nodes the user named, never the public routers, and gives up
 * at the deadline. */
EpDht *
ep_cli_join_one_shot (EpCliNetOptions  *options,
                      GCancellable    **deadline_out,
                      GError          **error)
{
  g_auto(GStrv) bootstrap = NULL;
  g_autoptr(EpDht) dht = NULL;

  dht = ep_cli_net_open (options, FALSE, &bootstrap, error);
  if (dht == NULL)
    return NULL;
  if (bootstrap == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("No DHT node to start from: pass --bootstrap HOST:PORT"));
      return NULL;
    }
  ep_dht_set_read_only (dht, TRUE);
  *deadline_out = ep_cli_deadline_new (options->timeout);
  ep_dht_start (dht, (const char * const *) bootstrap);
  if (!ep_cli_wait_ready (dht, options->timeout, error))
    return NULL;
  return g_steal_pointer (&dht);
}

#define MAX_PASSPHRASE_FILE 1024

/**
 * ep_cli_read_passphrase_file:
 * @path: a file holding the passphrase on its first line
 *
 * Reads a passphrase for a profile whose keys are protected, the way
 * scripts hand secrets over without a terminal. The file must not be
 * readable or writable by group or others (as an SSH key); one trailing
 * newline is not part of the passphrase.
 *
 * Returns: (transfer full): the passphrase, or %NULL with @error set
 */
char *
ep_cli_read_passphrase_file (const char  *path,
                             GError     **error)
{
  g_autofree char *display = g_filename_display_name (path);
  char buffer[MAX_PASSPHRASE_FILE + 1];
  struct stat st;
  char *passphrase;
  gssize n;
  int fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot open the passphrase file “%s”: %s"), display, g_strerror (saved));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The passphrase file “%s” is not a regular file"), display);
      close (fd);
      return NULL;
    }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0 || st.st_uid != geteuid ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("The passphrase file “%s” can be read or changed by others; "
                     "make it yours with mode 0600"), display);
      close (fd);
      return NULL;
    }

  n = 0;
  while (n <= MAX_PASSPHRASE_FILE)
    {
      gssize r = read (fd, buffer + n, sizeof buffer - (gsize) n);

      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      n += r;
    }
  close (fd);
  if (n > MAX_PASSPHRASE_FILE)
    {
      sodium_memzero (buffer, sizeof buffer);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The passphrase file “%s” is longer than %u bytes"),
                   display, (guint) MAX_PASSPHRASE_FILE);
      return NULL;
    }
  if (n > 0 && buffer[n - 1] == '\n')
    n--;
  if (n > 0 && buffer[n - 1] == '\r')
    n--;
  if (n == 0 || memchr (buffer, '\0', (gsize) n) != NULL || memchr (buffer, '\n', (gsize) n) != NULL
      || !g_utf8_validate (buffer, n, NULL))
    {
      sodium_memzero (buffer, sizeof buffer);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The passphrase file “%s” must hold one line of UTF-8 text"), display);
      return NULL;
    }
  passphrase = g_strndup (buffer, (gsize) n);
  sodium_memzero (buffer, sizeof buffer);
  return passphrase;
}

void
ep_cli_passphrase_free (char *passphrase)
{
  if (passphrase == NULL)
    return;
  sodium_memzero (passphrase, strlen (passphrase));
  g_free (passphrase);
}
