/* ep-dht-tokens.h — write tokens for announce_peer and put
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define EP_DHT_TOKEN_LEN 8

typedef struct _EpDhtTokens EpDhtTokens;

EpDhtTokens *ep_dht_tokens_new    (void);
void         ep_dht_tokens_free   (EpDhtTokens  *tokens);
/* EpDht calls it every 5 min; the previous secret stays valid. */
void         ep_dht_tokens_rotate (EpDhtTokens  *tokens);
/* Keyed BLAKE2b of the IP bytes. */
void         ep_dht_tokens_make   (EpDhtTokens  *tokens,
                                   GInetAddress *ip,
                                   guint8        token[EP_DHT_TOKEN_LEN]);
/* Constant-time compare against the current or the previous secret. */
gboolean     ep_dht_tokens_check  (EpDhtTokens  *tokens,
                                   GInetAddress *ip,
                                   const guint8 *token,
                                   gsize         len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpDhtTokens, ep_dht_tokens_free)

G_END_DECLS
