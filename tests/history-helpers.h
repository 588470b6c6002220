/* history-helpers.h — a profile with contacts and a long history, made fast
 *
 * For tests and benchmarks of the app on big profiles: the profile is made
 * through EpNode and EpStore (identity, name, contacts), then the history
 * is written straight into the store file in one statement and one
 * transaction, sealed with the profile's at-rest key as the store does.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "store-helpers.h"

typedef struct
{
  guint8 key[EP_IDENTITY_KEY_LEN];
} HistorySealKey;

/* seal(text): the store's body format, nonce ‖ MAC ‖ ciphertext. */
static inline void
history_sql_seal (sqlite3_context  *context,
                  int               argc,
                  sqlite3_value   **argv)
{
  HistorySealKey *key = sqlite3_user_data (context);
  const guint8 *text = sqlite3_value_text (argv[0]);
  gsize len = (gsize) sqlite3_value_bytes (argv[0]);
  guint8 *body = sqlite3_malloc64 (crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len);

  randombytes_buf (body, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy (body + crypto_secretbox_NONCEBYTES, text, len, body, key->key);
  sqlite3_result_blob64 (context, body,
                         crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len,
                         sqlite3_free);
}

/* Writes @n messages with @contact into the store of @profile: "message 1"
 * (oldest) to "message N" (newest, a minute ago), one a second, every
 * third one ours and delivered. */
static inline void
history_fill (const char   *profile,
              const guint8 *own_key,
              const guint8 *at_rest,
              const guint8 *contact,
              guint         n)
{
  g_autofree char *path = g_build_filename (profile, "store.sqlite", NULL);
  HistorySealKey seal;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 newest = g_get_real_time () - 60 * G_USEC_PER_SEC;

  memcpy (seal.key, at_rest, sizeof seal.key);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_create_function (db, "seal", 1, SQLITE_UTF8, &seal, history_sql_seal,
                                            NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "BEGIN", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db,
    "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?3)"
    " INSERT INTO messages (id, contact, outgoing, sender, sender_time, lamport, body, status,"
    "                       received)"
    " SELECT CAST (printf ('%016d', i) AS BLOB), ?1, i % 3 = 0,"
    "        CASE WHEN i % 3 = 0 THEN ?2 ELSE ?1 END,"
    "        ?4 - (?3 - i) * 1000000, i, seal ('message ' || i), 2, ?4 - (?3 - i) * 1000000"
    " FROM n",
    -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_blob (stmt, 1, contact, 32, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 2, own_key, 32, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, (int) n);
  sqlite3_bind_int64 (stmt, 4, newest);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  g_assert_cmpint (sqlite3_prepare_v2 (db,
    "UPDATE contacts SET lamport = ?2, last_activity = ?3 WHERE key = ?1", -1, &stmt, NULL),
    ==, SQLITE_OK);
  sqlite3_bind_blob (stmt, 1, contact, 32, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, n);
  sqlite3_bind_int64 (stmt, 3, newest);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  g_assert_cmpint (sqlite3_changes (db), ==, 1);
  g_assert_cmpint (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  sodium_memzero (&seal, sizeof seal);
}

/* Makes the profile in @profile: named @name, @n_contacts accepted contacts
 * ("Contact 1" …), @n_messages with the first one, whose key goes to
 * @first_contact. */
static inline void
history_make_profile (const char *profile,
                      const char *name,
                      guint       n_contacts,
                      guint       n_messages,
                      guint8      first_contact[32])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpNode) node = ep_node_open (profile, NULL, &error);
  guint8 own_key[32];
  guint8 at_rest[EP_IDENTITY_KEY_LEN];

  g_assert_no_error (error);
  g_assert_nonnull (node);
  ep_node_set_name (node, name);
  g_assert_true (ep_node_save_profile (node, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < n_contacts; i++)
    {
      g_autoptr(EpIdentity) contact = ep_identity_new_random ();
      g_autofree char *contact_name = g_strdup_printf ("Contact %u", i + 1);

      g_assert_true (test_save_contact (ep_node_get_store (node),
                                        ep_identity_get_public_key (contact), contact_name,
                                        &error));
      g_assert_no_error (error);
      if (i == 0)
        memcpy (first_contact, ep_identity_get_public_key (contact), 32);
    }

  memcpy (own_key, ep_identity_get_public_key (ep_node_get_identity (node)), 32);
  ep_identity_derive_key (ep_node_get_identity (node), "store", at_rest);
  ep_store_close (ep_node_get_store (node));
  g_clear_object (&node);

  if (n_contacts > 0 && n_messages > 0)
    history_fill (profile, own_key, at_rest, first_contact, n_messages);
  sodium_memzero (at_rest, sizeof at_rest);
}
