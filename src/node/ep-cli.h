/* ep-cli.h — subcommands of encryptedp2p-node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Exit codes shared by every subcommand. */
#define EP_CLI_EXIT_OK      0
#define EP_CLI_EXIT_FAILURE 1
#define EP_CLI_EXIT_USAGE   2

/* A subcommand gets its own argv: argv[0] is "encryptedp2p-node NAME". */
typedef int (*EpCliMain) (int    argc,
                          char **argv);

typedef struct
{
  const char *name;
  const char *summary;
  EpCliMain   main;
} EpCliCommand;

int   ep_cli_main         (int    argc,
                           char **argv);
void  ep_cli_print_error  (const char *subcommand,
                           const GError *error);
int   ep_cli_run_group    (const char         *usage,
                           const EpCliCommand *group,
                           int                 argc,
                           char              **argv);

G_END_DECLS
