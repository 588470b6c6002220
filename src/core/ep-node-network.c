/* ep-node-network.c — reacting to a changed network
 *
 * GNetworkMonitor says when routes or addresses change (a laptop moves to
 * another Wi-Fi, a VPN comes up, the cable comes back). Its events come in
 * bursts; we react once the burst is over: our external address is learned
 * again from the DHT, our record republished, established sessions probed
 * at once, and every backoff (connects, handshakes, resolutions,
 * retransmissions) starts over, so that nothing waits for minutes once
 * the network works again.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "ep-node-private.h"

/* Monitor events within this time of the first are one change… */
#define SETTLE_MS 500
/* …and a network that keeps changing costs a reaction this often at most. */
#define MIN_SPACING_MS 5000

static gboolean
on_network_settled (gpointer user_data)
{
  EpNode *self = user_data;

  g_clear_pointer (&self->network_settle, g_source_unref);
  ep_node_network_changed (self, self->network_available);
  return G_SOURCE_REMOVE;
}

static void
on_network_changed (GNetworkMonitor *monitor,
                    gboolean         available,
                    EpNode          *self)
{
  gint64 delay;

  /* The reaction already due takes this event in too. */
  self->network_available = available;
  if (self->network_settle != NULL)
    return;
  delay = SETTLE_MS;
  if (self->network_reacted != 0)
    delay = MAX (delay, (self->network_reacted + MIN_SPACING_MS * 1000
                         - g_get_monotonic_time ()) / 1000);
  self->network_settle = g_timeout_source_new ((guint) delay);
  g_source_set_callback (self->network_settle, on_network_settled, self, NULL);
  g_source_set_static_name (self->network_settle, "[ep-node] network settle");
  g_source_attach (self->network_settle, g_main_context_get_thread_default ());
}

void
ep_node_network_monitor_start (EpNode *self)
{
  if (self->timing.no_network_monitor)
    return;
  self->monitor = g_object_ref (g_network_monitor_get_default ());
  self->network_available = g_network_monitor_get_network_available (self->monitor);
  g_signal_connect (self->monitor, "network-changed", G_CALLBACK (on_network_changed), self);
}

void
ep_node_network_monitor_stop (EpNode *self)
{
  if (self->network_settle != NULL)
    g_source_destroy (self->network_settle);
  g_clear_pointer (&self->network_settle, g_source_unref);
  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_object (&self->monitor);
}

/**
 * ep_node_network_changed:
 * @available: whether the network (a default route) is there now
 *
 * What the node does when GNetworkMonitor reports a change; tests (and a
 * GUI resuming from suspend) may call it directly. While the network is
 * gone there is nothing to do; when it is there: re-learn our external
 * address, republish our record, probe every session, and retry every
 * contact now.
 */
void
ep_node_network_changed (EpNode   *self,
                         gboolean  available)
{
  g_return_if_fail (EP_IS_NODE (self));

  self->network_available = available;
  if (!self->started || !available)
    return;
  self->counters.network_changes++;
  self->network_reacted = g_get_monotonic_time ();
  g_debug ("the network changed: starting over");
  ep_node_presence_network_changed (self);
  ep_node_connections_network_changed (self);
}
