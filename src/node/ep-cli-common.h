/* ep-cli-common.h — options and helpers shared by the network subcommands
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "ep-core.h"

G_BEGIN_DECLS

#define EP_CLI_DEFAULT_TIMEOUT 30

/* The subcommands built on these (ep-cli-dht.c, ep-cli-serve.c). */
int           ep_cli_dht_main            (int               argc,
                                          char            **argv);
int           ep_cli_serve_main          (int               argc,
                                          char            **argv);
int           ep_cli_chat_main           (int               argc,
                                          char            **argv);

typedef char EpCliPassphrase;

/* Every network subcommand takes these. */
typedef struct
{
  int       port;
  char     *bind;
  char    **bootstrap;
  gboolean  no_default_bootstrap;
  int       timeout;
} EpCliNetOptions;

void          ep_cli_net_options_add     (GOptionContext   *context,
                                          EpCliNetOptions  *options);
void          ep_cli_net_options_clear   (EpCliNetOptions  *options);

/* Opens the sockets and makes the node. @allow_default_bootstrap: only
 * `serve` falls back to the public Mainline routers. */
EpDht        *ep_cli_net_open            (EpCliNetOptions  *options,
                                          gboolean          allow_default_bootstrap,
                                          char           ***bootstrap_out,
                                          GError          **error);

const char * const *ep_cli_default_bootstrap (void);
EpDht        *ep_cli_join_one_shot       (EpCliNetOptions  *options,
                                          GCancellable    **deadline_out,
                                          GError          **error);
/* Prints @error (a cancelled operation as "Timed out"); the exit code for it. */
int           ep_cli_fail                (const char       *name,
                                          GError           *error);
/* Parses options and checks the count of positional arguments. */
gboolean      ep_cli_parse_args          (GOptionContext   *context,
                                          int              *argc,
                                          char           ***argv,
                                          int               n_positional,
                                          GError          **error);

/* Spins the main context until the node is ready, at most @seconds. */
gboolean      ep_cli_wait_ready          (EpDht            *dht,
                                          guint             seconds,
                                          GError          **error);
/* Spins until *result is set or @cancellable is cancelled. */
void          ep_cli_wait_result         (GAsyncResult    **result);
/* A cancellable that fires after @seconds on the thread-default context. */
GCancellable *ep_cli_deadline_new        (guint             seconds);

/* The passphrase in @path (one line, ≤ 1 KiB, not readable by others);
 * free it with ep_cli_passphrase_free (it is wiped). */
char         *ep_cli_read_passphrase_file (const char      *path,
                                          GError          **error);
void          ep_cli_passphrase_free     (char             *passphrase);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpCliPassphrase, ep_cli_passphrase_free)

gboolean      ep_cli_parse_hex           (const char       *hex,
                                          guint8           *out,
                                          gsize             len,
                                          GError          **error);
char         *ep_cli_hex                 (const guint8     *data,
                                          gsize             len);
void          ep_cli_print_json          (JsonBuilder      *builder);
void          ep_cli_store_result        (GObject          *source,
                                          GAsyncResult     *result,
                                          gpointer          user_data);

G_END_DECLS
