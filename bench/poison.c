/* poison.c — bench-poison: presence lookups against lying DHT nodes
 *
 * For 0/10/20/30/40 % lying nodes of each behaviour (ep-poison-net.h) and
 * of all of them mixed, builds an in-process loopback network, lets a
 * victim publish twice, and prints the share of resolutions that returned
 * the newest genuine record, over one path and over two disjoint paths.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ep-poison-net.h"

static const guint percents[] = { 0, 10, 20, 30, 40 };

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  gboolean json = FALSE;
  int seed = 1, nodes = 50, lookups = 10, only_kind = -1;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Seed of the lying nodes' layout (default 1)", "N" },
    { "nodes", 0, 0, G_OPTION_ARG_INT, &nodes, "Nodes in the network (default 50)", "N" },
    { "lookups", 0, 0, G_OPTION_ARG_INT, &lookups, "Resolutions per mode (default 10)", "N" },
    { "kind", 0, 0, G_OPTION_ARG_INT, &only_kind, "Only this behaviour (0-6)", "K" },
    { NULL }
  };
  EpPoisonResult zero[EP_POISON_MAX_MODES];
  gboolean have_zero = FALSE;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bench-poison: %s\n", error->message);
      return 2;
    }
  if (sodium_init () < 0 || nodes < 20 || nodes > 400 || lookups < 1)
    {
      g_printerr ("bench-poison: bad arguments\n");
      return 2;
    }

  if (!json)
    {
      g_print ("bench-poison: %d nodes, %d resolutions per cell, seed %d\n", nodes, lookups, seed);
      g_print ("share of resolutions returning the newest genuine record (1 path / 2 disjoint paths)\n\n");
      g_print ("%-10s", "behaviour");
      for (guint p = 0; p < G_N_ELEMENTS (percents); p++)
        g_print ("  %3u %% (1p / 2p)", percents[p]);
      g_print ("\n");
    }
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "seed");
  json_builder_add_int_value (builder, seed);
  json_builder_set_member_name (builder, "nodes");
  json_builder_add_int_value (builder, nodes);
  json_builder_set_member_name (builder, "lookups");
  json_builder_add_int_value (builder, lookups);
  json_builder_set_member_name (builder, "rows");
  json_builder_begin_array (builder);

  for (guint kind = 0; kind <= EP_POISON_MIXED; kind++)
    {
      if (only_kind >= 0 && (guint) only_kind != kind)
        continue;
      if (!json)
        g_print ("%-10s", ep_poison_kind_to_string (kind));
      for (guint p = 0; p < G_N_ELEMENTS (percents); p++)
        {
          EpPoisonParams params = {
            .n_nodes = nodes, .percent = percents[p], .kind = kind, .seed = seed,
            .n_lookups = lookups, .n_modes = 2, .paths = { 1, 2 },
          };
          EpPoisonResult results[EP_POISON_MAX_MODES];

          if (percents[p] == 0 && have_zero)
            memcpy (results, zero, sizeof results);
          else if (!ep_poison_net_run (&params, results, &error))
            {
              g_printerr ("bench-poison: %s\n", error->message);
              return 1;
            }
          if (percents[p] == 0 && !have_zero)
            {
              memcpy (zero, results, sizeof zero);
              have_zero = TRUE;
            }

          if (!json)
            g_print ("  %6.1f / %5.1f  ",
                     100.0 * results[0].newest / MAX (results[0].lookups, 1),
                     100.0 * results[1].newest / MAX (results[1].lookups, 1));
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "behaviour");
          json_builder_add_string_value (builder, ep_poison_kind_to_string (kind));
          json_builder_set_member_name (builder, "percent");
          json_builder_add_int_value (builder, percents[p]);
          for (guint m = 0; m < 2; m++)
            {
              g_autofree char *name = g_strdup_printf ("paths%u", params.paths[m]);

              json_builder_set_member_name (builder, name);
              json_builder_begin_object (builder);
              json_builder_set_member_name (builder, "lookups");
              json_builder_add_int_value (builder, results[m].lookups);
              json_builder_set_member_name (builder, "newest");
              json_builder_add_int_value (builder, results[m].newest);
              json_builder_set_member_name (builder, "wrong");
              json_builder_add_int_value (builder, results[m].wrong);
              json_builder_set_member_name (builder, "failed");
              json_builder_add_int_value (builder, results[m].failed);
              json_builder_set_member_name (builder, "rejected");
              json_builder_begin_object (builder);
              for (guint r = 1; r < EP_PRESENCE_N_REJECTIONS; r++)
                {
                  json_builder_set_member_name (builder, ep_presence_rejection_to_string (r));
                  json_builder_add_int_value (builder, results[m].counters.rejected[r]);
                }
              json_builder_end_object (builder);
              json_builder_set_member_name (builder, "penalised");
              json_builder_add_int_value (builder, results[m].penalised);
              json_builder_end_object (builder);
            }
          json_builder_end_object (builder);
          fflush (stdout);
        }
      if (!json)
        g_print ("\n");
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  if (json)
    {
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autoptr(JsonNode) root = json_builder_get_root (builder);
      g_autofree char *text = NULL;

      json_generator_set_root (generator, root);
      json_generator_set_pretty (generator, TRUE);
      text = json_generator_to_data (generator, NULL);
      g_print ("%s\n", text);
    }
  return 0;
}
