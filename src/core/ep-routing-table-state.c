/* ep-routing-table-state.c — the routing table saved across runs
 *
 * The state file is a bencoded dict of our node ID and the compact node
 * lists (best nodes first), so a restart rejoins in one round trip.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "ep-bencode.h"
#include "ep-routing-table.h"

gboolean
ep_routing_table_save_state (const char      *path,
                             const guint8     id[EP_RT_ID_LEN],
                             EpRoutingTable  *v4,
                             EpRoutingTable  *v6,
                             gint64           now,
                             GError         **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GByteArray) nodes = g_byte_array_new ();
  g_autoptr(GByteArray) nodes6 = g_byte_array_new ();

  if (v4 != NULL)
    ep_routing_table_append_compact (v4, nodes, now);
  if (v6 != NULL)
    ep_routing_table_append_compact (v6, nodes6, now);

  ep_benc_put_dict_begin (out);
  ep_benc_put_string (out, "id");
  ep_benc_put_bytes (out, id, EP_RT_ID_LEN);
  ep_benc_put_string (out, "nodes");
  ep_benc_put_bytes (out, nodes->data, nodes->len);
  ep_benc_put_string (out, "nodes6");
  ep_benc_put_bytes (out, nodes6->data, nodes6->len);
  ep_benc_put_end (out);

  return g_file_set_contents_full (path, (const char *) out->data, out->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

gboolean
ep_routing_table_load_state (const char  *path,
                             guint8       id_out[EP_RT_ID_LEN],
                             GBytes     **nodes4_out,
                             GBytes     **nodes6_out,
                             GError     **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr(EpBencDoc) doc = NULL;
  g_autoptr(GError) local_error = NULL;
  EpBencLimits limits = { .max_depth = 4, .max_values = 16, .max_input = 1 << 20 };
  const EpBenc *root;
  const guint8 *id, *nodes, *nodes6;
  gsize id_len = 0, nodes_len = 0, nodes6_len = 0;

  /* A state file holds at most a few thousand nodes: refuse anything far
   * larger before reading it into memory. */
  {
    GStatBuf st;

    if (g_stat (path, &st) == 0 && st.st_size > (goffset) limits.max_input)
      {
        g_set_error (error, EP_ROUTING_TABLE_ERROR, EP_ROUTING_TABLE_ERROR_CORRUPT,
                     _("The DHT state file “%s” is damaged"), path);
        return FALSE;
      }
  }

  if (!g_file_get_contents (path, &contents, &len, error))
    return FALSE;

  doc = ep_benc_doc_parse ((const guint8 *) contents, len, &limits, &local_error);
  root = doc != NULL ? ep_benc_doc_root (doc) : NULL;
  id = ep_benc_dict_get_bytes (root, "id", &id_len);
  nodes = ep_benc_dict_get_bytes (root, "nodes", &nodes_len);
  nodes6 = ep_benc_dict_get_bytes (root, "nodes6", &nodes6_len);
  if (id == NULL || id_len != EP_RT_ID_LEN
      || (nodes != NULL && nodes_len % 26 != 0)
      || (nodes6 != NULL && nodes6_len % 38 != 0))
    {
      g_set_error (error, EP_ROUTING_TABLE_ERROR, EP_ROUTING_TABLE_ERROR_CORRUPT,
                   _("The DHT state file “%s” is damaged"), path);
      return FALSE;
    }

  memcpy (id_out, id, EP_RT_ID_LEN);
  if (nodes4_out != NULL)
    *nodes4_out = g_bytes_new (nodes, nodes != NULL ? nodes_len : 0);
  if (nodes6_out != NULL)
    *nodes6_out = g_bytes_new (nodes6, nodes6 != NULL ? nodes6_len : 0);
  return TRUE;
}
