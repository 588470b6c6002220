/* test-node-lan.c — two EpNodes with no bootstrap find each other on the LAN
 *
 * Multicast needs the network namespace of tests/run-lan-discovery.sh,
 * which sets EP_LAN_TEST_IFACE; without it the test skips.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "node-test-util.h"

static void
test_lan_find (void)
{
  TestNode a = { .lan = TRUE }, b = { .lan = TRUE };
  Count got = { &b, 1 }, delivered = { &a, 1 };
  Pair pair = { &a, &b };
  gint64 start;

  if (g_getenv ("EP_LAN_TEST_IFACE") == NULL)
    {
      g_test_skip ("multicast needs the network namespace of tests/run-lan-discovery.sh");
      return;
    }

  test_node_start (&a);
  test_node_start (&b);
  g_assert_null (ep_node_get_settings (a.node)->bootstrap);

  /* No address given: only the beacons can tell A where B is. */
  start = g_get_monotonic_time ();
  befriend (&a, &b, FALSE);
  g_test_message ("added, asked, accepted and connected by LAN discovery in %.0f ms",
                  (g_get_monotonic_time () - start) / 1e3);

  send_many (&a, &b, "over the LAN", 1);
  g_assert_true (spin_until (received_at_least, &got, 10));
  g_assert_true (spin_until (delivered_at_least, &delivered, 10));

  /* B restarts on a new port; its beacon brings A back to it. */
  test_node_stop (&b);
  test_node_start (&b);
  start = g_get_monotonic_time ();
  g_assert_true (spin_until (pair_connected, &pair, 10));
  g_test_message ("reconnected by LAN discovery in %.0f ms",
                  (g_get_monotonic_time () - start) / 1e3);

  test_node_clear (&a);
  test_node_clear (&b);
}

int
main (int   argc,
      char *argv[])
{
  GMainContext *context;
  int ret;

  g_test_init (&argc, &argv, NULL);
  context = g_main_context_new ();
  g_main_context_push_thread_default (context);

  g_test_add_func ("/ep/node-lan/find", test_lan_find);

  ret = g_test_run ();
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return ret;
}
