/* ep-cli-id.h — `encryptedp2p-node id`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

int ep_cli_id_main (int    argc,
                    char **argv);
