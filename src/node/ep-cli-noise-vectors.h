/* ep-cli-noise-vectors.h — `encryptedp2p-node noise-vectors FILE`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

G_BEGIN_DECLS

int ep_cli_noise_vectors_main (int    argc,
                               char **argv);

G_END_DECLS
