/* ep-lamport.h — the Lamport clock of a conversation
 *
 * Each side keeps one clock per conversation. Sending a message ticks it and
 * stamps the message; receiving one moves it past the message's stamp. A
 * conversation is then ordered by (Lamport, sender key), which every
 * participant computes alike whatever order the network delivered in.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Stamps above this are refused on the wire: they stay exact in JSON
 * numbers and leave room to tick without ever wrapping. */
#define EP_LAMPORT_MAX ((guint64) G_GINT64_CONSTANT (9007199254740991))

/* The stamp of a message we send; the clock becomes that value. */
static inline guint64
ep_lamport_on_send (guint64 local)
{
  return local < EP_LAMPORT_MAX ? local + 1 : EP_LAMPORT_MAX;
}

/* The clock after receiving a message stamped @remote. */
static inline guint64
ep_lamport_on_receive (guint64 local,
                       guint64 remote)
{
  guint64 m = MAX (local, MIN (remote, EP_LAMPORT_MAX));

  return m < EP_LAMPORT_MAX ? m + 1 : EP_LAMPORT_MAX;
}

G_END_DECLS
