/* store.c — bench-store: the message store under a long conversation
 *
 * Inserts messages through EpStore as the node would (each its own
 * transaction, synced, half sent and half received: first one at a time,
 * then 32 in flight, when waiting jobs share one commit),
 * then opens the conversation and pages back to its first message.
 * Prints inserts per second, time to open the last page, time per older
 * page and memory. Usage: bench-store [N_MESSAGES] [DIR]
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gstdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ep-core.h"

#define IN_FLIGHT 32
#define SERIAL 2000

typedef struct
{
  EpStore *store;
  guint8   contact[32];
  guint    total;
  guint    started;
  guint    done;
  gboolean failed;
} Filler;

static void start_one (Filler *filler);

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Filler *filler = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(EpMessage) message = NULL;

  if (filler->done % 2 == 0)
    message = ep_store_send_message_finish (filler->store, result, &error);
  else
    message = ep_store_receive_message_finish (filler->store, result, NULL, &error);
  filler->done++;
  if (message == NULL)
    {
      g_printerr ("insert failed: %s\n", error->message);
      filler->failed = TRUE;
      return;
    }
  start_one (filler);
}

static void
start_one (Filler *filler)
{
  char text[96];
  guint n;

  if (filler->started >= filler->total)
    return;
  n = filler->started++;
  g_snprintf (text, sizeof text, "Message number %u of the benchmark, about as long as a "
              "chat line", n);
  /* Jobs complete in order, so even/odd matches send/receive in on_sent. */
  if (n % 2 == 0)
    ep_store_send_message_async (filler->store, filler->contact, text, NULL, on_sent, filler);
  else
    {
      guint8 id[16];

      randombytes_buf (id, sizeof id);
      ep_store_receive_message_async (filler->store, filler->contact, id, g_get_real_time (),
                                      n + 1, text, NULL, on_sent, filler);
    }
}

static void
on_result (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return g_steal_pointer (slot);
}

static void
print_memory (const char *when)
{
  g_autofree char *status = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return;
  lines = g_strsplit (status, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "VmRSS:") || g_str_has_prefix (lines[i], "VmHWM:"))
      g_print ("  %-28s %s\n", when, lines[i]);
}

int
main (int   argc,
      char *argv[])
{
  guint total = argc > 1 ? (guint) strtoul (argv[1], NULL, 10) : 100000;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EpStore) store = NULL;
  g_autoptr(EpContact) contact = NULL;
  g_autoptr(EpConversation) conversation = NULL;
  GAsyncResult *result = NULL;
  GAsyncResult *res;
  guint8 own[32], key[32], contact_key[32];
  Filler filler = { 0 };
  gint64 start, elapsed, page_time = 0, worst_page = 0;
  guint pages = 0;
  GStatBuf st;

  if (sodium_init () < 0 || total == 0)
    return 1;
  dir = argc > 2 ? g_strdup (argv[2]) : g_dir_make_tmp ("bench-store-XXXXXX", &error);
  if (dir == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  path = g_build_filename (dir, "store.sqlite", NULL);
  randombytes_buf (own, sizeof own);
  randombytes_buf (key, sizeof key);
  randombytes_buf (contact_key, sizeof contact_key);

  store = ep_store_open (path, own, key, &error);
  if (store == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  contact = ep_contact_new (contact_key);
  ep_contact_set_name (contact, "Bench");
  ep_store_save_contact_async (store, contact, NULL, on_result, &result);
  res = wait_for (&result);
  if (!ep_store_save_contact_finish (store, res, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_object_unref (res);

  g_print ("bench-store: %u messages, %s\n", total, path);

  filler.store = store;
  memcpy (filler.contact, contact_key, sizeof contact_key);

  /* One at a time: each insert is a transaction and a sync of its own. */
  filler.total = MIN (total, SERIAL);
  start = g_get_monotonic_time ();
  start_one (&filler);
  while (filler.done < filler.total && !filler.failed)
    g_main_context_iteration (NULL, TRUE);
  elapsed = g_get_monotonic_time () - start;
  if (filler.failed)
    return 1;
  g_print ("  inserts, 1 in flight          %.0f messages/s (%u in %.2f s)\n",
           filler.total / (elapsed / 1e6), filler.total, elapsed / 1e6);

  /* Many in flight: queued jobs share a commit (group commit). */
  filler.total = total;
  start = g_get_monotonic_time ();
  for (guint i = 0; i < IN_FLIGHT; i++)
    start_one (&filler);
  while (filler.done < total && !filler.failed)
    g_main_context_iteration (NULL, TRUE);
  elapsed = g_get_monotonic_time () - start;
  if (filler.failed)
    return 1;
  if (total > SERIAL)
    g_print ("  inserts, %d in flight         %.0f messages/s (%u in %.2f s)\n", IN_FLIGHT,
             (total - SERIAL) / (elapsed / 1e6), total - SERIAL, elapsed / 1e6);
  print_memory ("after inserting:");

  /* Reopen so nothing is warm in our own objects. */
  ep_store_close (store);
  g_clear_object (&store);
  start = g_get_monotonic_time ();
  store = ep_store_open (path, own, key, &error);
  if (store == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  elapsed = g_get_monotonic_time () - start;
  g_print ("  open store                    %.2f ms\n", elapsed / 1e3);

  start = g_get_monotonic_time ();
  ep_conversation_open_async (store, contact_key, EP_CONVERSATION_DEFAULT_PAGE_SIZE, NULL,
                              on_result, &result);
  res = wait_for (&result);
  conversation = ep_conversation_open_finish (res, &error);
  g_object_unref (res);
  elapsed = g_get_monotonic_time () - start;
  if (conversation == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_print ("  open last page (%u of %u)      %.2f ms\n",
           g_list_model_get_n_items (G_LIST_MODEL (conversation)), total, elapsed / 1e3);

  while (ep_conversation_get_has_older (conversation))
    {
      gint64 t = g_get_monotonic_time ();

      ep_conversation_load_older_async (conversation, NULL, on_result, &result);
      res = wait_for (&result);
      if (ep_conversation_load_older_finish (conversation, res, &error) == 0 && error != NULL)
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      g_object_unref (res);
      t = g_get_monotonic_time () - t;
      page_time += t;
      worst_page = MAX (worst_page, t);
      pages++;
    }
  g_print ("  page back to the first        %u pages, %.2f ms mean, %.2f ms worst\n",
           pages, pages ? page_time / 1e3 / pages : 0.0, worst_page / 1e3);
  g_print ("  messages held after paging    %u\n",
           g_list_model_get_n_items (G_LIST_MODEL (conversation)));
  print_memory ("after paging everything:");
  if (g_stat (path, &st) == 0)
    g_print ("  database file                 %.1f MiB\n", st.st_size / 1048576.0);

  g_clear_object (&conversation);
  ep_store_close (store);
  if (argc <= 2)
    {
      g_autofree char *wal = g_strconcat (path, "-wal", NULL);
      g_autofree char *shm = g_strconcat (path, "-shm", NULL);

      g_unlink (path);
      g_unlink (wal);
      g_unlink (shm);
      g_rmdir (dir);
    }
  return 0;
}
