/* main.c — encryptedp2p-node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ep-cli.h"

int
main (int    argc,
      char **argv)
{
  return ep_cli_main (argc, argv);
}
