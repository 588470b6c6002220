/* ep-cli-presence.h — `encryptedp2p-node presence publish|resolve`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

int ep_cli_presence_main (int    argc,
                          char **argv);
