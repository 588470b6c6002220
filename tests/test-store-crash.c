/* test-store-crash.c — SIGKILL in the middle of writing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include "store-helpers.h"

static guint8 own_key[32];
static guint8 at_rest[32];
static guint8 alice[32];

/* The child sends as fast as it can and dies by SIGKILL with writes still
 * queued; every send it saw complete must be in the store, with its outbox
 * row, and the file must be whole. */
#define CRASH_ACKED 300

typedef struct
{
  EpStore *store;
  int      fd;
  guint    acked;
} CrashChild;

static void
on_crash_sent (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  CrashChild *child = user_data;
  g_autoptr(EpMessage) message = ep_store_send_message_finish (child->store, result, NULL);
  char line[40];

  g_assert_nonnull (message);
  g_snprintf (line, sizeof line, "%s\n", ep_message_get_id (message));
  g_assert_cmpint (write (child->fd, line, 33), ==, 33);
  if (++child->acked == CRASH_ACKED)
    kill (getpid (), SIGKILL);
  ep_store_send_message_async (child->store, alice, "crash test message", NULL,
                               on_crash_sent, child);
}

static void
test_store_crash (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *acked_path = NULL;
  if (g_test_subprocess ())
    {
      /* setenv () is unsafe once threads ran: the parent's pid names the dir. */
      g_autofree char *env_dir = g_strdup_printf ("%s/ep-store-crash-%d", g_get_tmp_dir (),
                                                  (int) getppid ());
      CrashChild child = { 0 };
      g_autoptr(GError) error = NULL;

      acked_path = g_build_filename (env_dir, "acked", NULL);
      child.store = test_open_store (env_dir, own_key, at_rest);
      g_assert_true (test_save_contact (child.store, alice, "Alice", &error));
      child.fd = open (acked_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      g_assert_cmpint (child.fd, >=, 0);
      for (guint i = 0; i < 8; i++)
        ep_store_send_message_async (child.store, alice, "crash test message", NULL,
                                     on_crash_sent, &child);
      for (;;)
        g_main_context_iteration (NULL, TRUE);
    }

  dir = g_strdup_printf ("%s/ep-store-crash-%d", g_get_tmp_dir (), (int) getpid ());
  test_rm_dir (dir);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  path = g_build_filename (dir, "store.sqlite", NULL);
  acked_path = g_build_filename (dir, "acked", NULL);
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_failed ();

  {
    g_autoptr(EpStore) store = test_open_store (dir, own_key, at_rest);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) page = NULL;
    g_autoptr(GHashTable) stored = g_hash_table_new (g_str_hash, g_str_equal);
    g_autofree char *acked = NULL;
    g_auto(GStrv) lines = NULL;
    guint n_acked = 0;

    g_assert_true (g_file_get_contents (acked_path, &acked, NULL, NULL));
    lines = g_strsplit (acked, "\n", -1);
    page = test_load_messages (store, alice, NULL, G_MAXUINT, &error);
    g_assert_no_error (error);
    for (guint i = 0; i < page->len; i++)
      g_hash_table_add (stored, (gpointer) ep_message_get_id (page->pdata[i]));
    for (guint i = 0; lines[i] != NULL; i++)
      if (lines[i][0] != '\0')
        {
          g_assert_true (g_hash_table_contains (stored, lines[i]));
          n_acked++;
        }
    g_assert_cmpuint (n_acked, ==, CRASH_ACKED);
    g_assert_cmpuint (page->len, >=, CRASH_ACKED);
    g_assert_cmpuint (test_count_outbox (store, alice), ==, page->len);
    for (guint i = 0; i < page->len; i++)
      g_assert_cmpuint (ep_message_get_lamport (page->pdata[i]), ==, i + 1);
    ep_store_close (store);
  }
  g_assert_cmpint (test_sql_int (dir, "SELECT count(*) FROM pragma_integrity_check"
                                 " WHERE integrity_check != 'ok'"), ==, 0);
  g_assert_cmpint (test_sql_int (dir, "SELECT count(*) FROM messages m LEFT JOIN outbox o"
                                 " ON o.message = m.seq WHERE o.message IS NULL"), ==, 0);
  test_rm_dir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  test_key (own_key, 1);
  test_key (at_rest, 2);
  test_key (alice, 3);

  g_test_add_func ("/ep/store-crash/sigkill-while-sending", test_store_crash);

  return g_test_run ();
}
