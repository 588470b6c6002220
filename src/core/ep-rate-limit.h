/* ep-rate-limit.h — per-key token buckets in bounded memory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _EpRateLimit EpRateLimit;

EpRateLimit *ep_rate_limit_new   (double        per_second,
                                  double        burst,
                                  guint         max_keys);
void         ep_rate_limit_free  (EpRateLimit  *limit);
/* Takes one token from @key's bucket; FALSE when it is empty. */
gboolean     ep_rate_limit_allow (EpRateLimit  *limit,
                                  const void   *key,
                                  gsize         key_len,
                                  gint64        now_us);
guint        ep_rate_limit_size  (EpRateLimit  *limit);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpRateLimit, ep_rate_limit_free)

G_END_DECLS
