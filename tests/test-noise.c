/* test-noise.c — the Noise XX state machine on its own
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define _GNU_SOURCE

#include <sodium.h>
#include <string.h>

#include "ep-core.h"

#define ROOM 512

typedef struct
{
  guint8            init_sk[32];
  guint8            resp_sk[32];
  EpNoiseHandshake *init;
  EpNoiseHandshake *resp;
} Pair;

static void
pair_init (Pair       *p,
           const char *init_prologue,
           const char *resp_prologue)
{
  randombytes_buf (p->init_sk, sizeof p->init_sk);
  randombytes_buf (p->resp_sk, sizeof p->resp_sk);
  p->init = ep_noise_handshake_new (EP_NOISE_ROLE_INITIATOR, (const guint8 *) init_prologue,
                                    strlen (init_prologue), p->init_sk);
  p->resp = ep_noise_handshake_new (EP_NOISE_ROLE_RESPONDER, (const guint8 *) resp_prologue,
                                    strlen (resp_prologue), p->resp_sk);
}

static void
pair_clear (Pair *p)
{
  g_clear_pointer (&p->init, ep_noise_handshake_free);
  g_clear_pointer (&p->resp, ep_noise_handshake_free);
}

/* Writes one message from @from and returns it in @msg. */
static gsize
write_msg (EpNoiseHandshake *from,
           const char       *payload,
           guint8           *msg)
{
  g_autoptr(GError) error = NULL;
  gsize len = 0;

  g_assert_true (ep_noise_handshake_is_my_turn (from));
  g_assert_true (ep_noise_handshake_write_message (from, (const guint8 *) payload,
                                                   strlen (payload), msg, ROOM, &len, &error));
  g_assert_no_error (error);
  return len;
}

static void
read_msg_ok (EpNoiseHandshake *to,
             const guint8     *msg,
             gsize             len,
             const char       *expected)
{
  g_autoptr(GError) error = NULL;
  guint8 payload[ROOM];
  gsize payload_len = 0;

  g_assert_true (ep_noise_handshake_read_message (to, msg, len, payload, sizeof payload,
                                                  &payload_len, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (payload, payload_len, expected, strlen (expected));
}

static void
test_noise_round_trip (void)
{
  Pair p;
  guint8 msg[ROOM];
  guint8 pk[32];
  gsize len;
  EpNoiseCipher is, ir, rs, rr;
  guint8 ct[64], pt[64];
  g_autoptr(GError) error = NULL;

  pair_init (&p, "prologue", "prologue");

  len = write_msg (p.init, "", msg);
  g_assert_cmpuint (len, ==, 32);
  read_msg_ok (p.resp, msg, len, "");
  /* Nobody knows anybody yet. */
  g_assert_null (ep_noise_handshake_get_remote_static (p.resp));

  len = write_msg (p.resp, "from the responder", msg);
  g_assert_cmpuint (len, ==, 32 + 48 + strlen ("from the responder") + 16);
  /* The payload of message 2 is encrypted. */
  g_assert_null (memmem (msg, len, "responder", 9));
  read_msg_ok (p.init, msg, len, "from the responder");

  crypto_scalarmult_base (pk, p.resp_sk);
  g_assert_cmpmem (ep_noise_handshake_get_remote_static (p.init), 32, pk, 32);

  len = write_msg (p.init, "from the initiator", msg);
  g_assert_null (memmem (msg, len, "initiator", 9));
  read_msg_ok (p.resp, msg, len, "from the initiator");

  crypto_scalarmult_base (pk, p.init_sk);
  g_assert_cmpmem (ep_noise_handshake_get_remote_static (p.resp), 32, pk, 32);

  g_assert_true (ep_noise_handshake_is_finished (p.init));
  g_assert_true (ep_noise_handshake_is_finished (p.resp));
  g_assert_false (ep_noise_handshake_is_my_turn (p.init));
  g_assert_cmpmem (ep_noise_handshake_get_hash (p.init), 64, ep_noise_handshake_get_hash (p.resp), 64);

  g_assert_true (ep_noise_handshake_split (p.init, &is, &ir));
  g_assert_true (ep_noise_handshake_split (p.resp, &rs, &rr));
  /* Split only once. */
  g_assert_false (ep_noise_handshake_split (p.init, &is, &ir));

  g_assert_cmpmem (is.k, 32, rr.k, 32);
  g_assert_cmpmem (ir.k, 32, rs.k, 32);
  g_assert_true (memcmp (is.k, ir.k, 32) != 0);

  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (ep_noise_cipher_encrypt (&is, NULL, 0, (const guint8 *) "hello", 5, ct, &error));
      g_assert_true (ep_noise_cipher_decrypt (&rr, NULL, 0, ct, 5 + 16, pt, &error));
      g_assert_cmpmem (pt, 5, "hello", 5);
      g_assert_true (ep_noise_cipher_encrypt (&rs, NULL, 0, (const guint8 *) "world", 5, ct, &error));
      g_assert_true (ep_noise_cipher_decrypt (&ir, NULL, 0, ct, 5 + 16, pt, &error));
      g_assert_cmpmem (pt, 5, "world", 5);
    }
  g_assert_no_error (error);
  g_assert_cmpuint (is.n, ==, 3);

  /* A replayed transport message does not decrypt under the next nonce. */
  g_assert_true (ep_noise_cipher_encrypt (&is, NULL, 0, (const guint8 *) "again", 5, ct, &error));
  g_assert_true (ep_noise_cipher_decrypt (&rr, NULL, 0, ct, 21, pt, &error));
  g_assert_false (ep_noise_cipher_decrypt (&rr, NULL, 0, ct, 21, pt, &error));
  g_assert_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_DECRYPT);

  ep_noise_cipher_clear (&is);
  ep_noise_cipher_clear (&ir);
  ep_noise_cipher_clear (&rs);
  ep_noise_cipher_clear (&rr);
  pair_clear (&p);
}

/* A damaged message fails and leaves the handshake as it was: the genuine
 * one still completes it. */
static void
test_noise_tamper_keeps_state (void)
{
  Pair p;
  guint8 msg[ROOM];
  guint8 bad[ROOM];
  guint8 payload[ROOM];
  gsize len, payload_len;

  pair_init (&p, "", "");

  len = write_msg (p.init, "", msg);
  read_msg_ok (p.resp, msg, len, "");
  len = write_msg (p.resp, "identity", msg);

  for (gsize bit = 0; bit < len * 8; bit += 7)
    {
      g_autoptr(GError) error = NULL;

      /* The first 32 bytes are the ephemeral key in clear; changing it
       * changes every DH, so authentication still fails. */
      memcpy (bad, msg, len);
      bad[bit / 8] ^= 1 << (bit % 8);
      g_assert_false (ep_noise_handshake_read_message (p.init, bad, len, payload, sizeof payload,
                                                       &payload_len, &error));
      g_assert_nonnull (error);
      g_assert_false (ep_noise_handshake_is_my_turn (p.init));
      g_assert_null (ep_noise_handshake_get_remote_static (p.init));
    }

  /* Truncated and over-long. */
  for (gsize cut = 0; cut < len; cut += 13)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (ep_noise_handshake_read_message (p.init, msg, cut, payload, sizeof payload,
                                                       &payload_len, &error));
      g_assert_nonnull (error);
    }

  read_msg_ok (p.init, msg, len, "identity");
  len = write_msg (p.init, "", msg);
  memcpy (bad, msg, len);
  bad[len - 1] ^= 0x80;
  {
    g_autoptr(GError) error = NULL;

    g_assert_false (ep_noise_handshake_read_message (p.resp, bad, len, payload, sizeof payload,
                                                     &payload_len, &error));
    g_assert_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_DECRYPT);
  }
  read_msg_ok (p.resp, msg, len, "");
  g_assert_true (ep_noise_handshake_is_finished (p.resp));

  pair_clear (&p);
}

static void
test_noise_prologue_mismatch (void)
{
  Pair p;
  guint8 msg[ROOM];
  guint8 payload[ROOM];
  gsize len, payload_len;
  g_autoptr(GError) error = NULL;

  pair_init (&p, "version 1", "version 2");

  len = write_msg (p.init, "", msg);
  read_msg_ok (p.resp, msg, len, "");
  len = write_msg (p.resp, "", msg);
  g_assert_false (ep_noise_handshake_read_message (p.init, msg, len, payload, sizeof payload,
                                                   &payload_len, &error));
  g_assert_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_DECRYPT);

  pair_clear (&p);
}

static void
test_noise_out_of_turn (void)
{
  Pair p;
  guint8 msg[ROOM];
  guint8 payload[ROOM];
  gsize len, payload_len;
  g_autoptr(GError) error = NULL;

  pair_init (&p, "", "");

  g_assert_false (ep_noise_handshake_write_message (p.resp, NULL, 0, msg, sizeof msg, &len, &error));
  g_assert_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_STATE);
  g_clear_error (&error);

  memset (msg, 0x42, sizeof msg);
  g_assert_false (ep_noise_handshake_read_message (p.init, msg, 32, payload, sizeof payload,
                                                   &payload_len, &error));
  g_assert_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_STATE);
  g_clear_error (&error);

  len = write_msg (p.init, "", msg);
  g_assert_false (ep_noise_handshake_write_message (p.init, NULL, 0, msg, sizeof msg, &len, &error));
  g_assert_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_STATE);
  g_clear_error (&error);

  /* Not enough room for the message. */
  read_msg_ok (p.resp, msg, len, "");
  g_assert_false (ep_noise_handshake_write_message (p.resp, NULL, 0, msg, 50, &len, &error));
  g_assert_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_FORMAT);

  pair_clear (&p);
}

/* An all-zero (low-order) ephemeral key makes the DH output zero: refused. */
static void
test_noise_low_order_key (void)
{
  Pair p;
  guint8 msg[ROOM] = { 0 };
  gsize len;
  g_autoptr(GError) error = NULL;

  pair_init (&p, "", "");

  read_msg_ok (p.resp, msg, 32, "");
  g_assert_false (ep_noise_handshake_write_message (p.resp, NULL, 0, msg, sizeof msg, &len, &error));
  g_assert_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_DH);

  pair_clear (&p);
}

static void
test_noise_nonce_exhausted (void)
{
  EpNoiseCipher c;
  guint8 key[32] = { 1 };
  guint8 out[32];
  g_autoptr(GError) error = NULL;

  ep_noise_cipher_init (&c, key);
  c.n = G_MAXUINT64 - 1;
  g_assert_true (ep_noise_cipher_encrypt (&c, NULL, 0, (const guint8 *) "x", 1, out, &error));
  g_assert_false (ep_noise_cipher_encrypt (&c, NULL, 0, (const guint8 *) "x", 1, out, &error));
  g_assert_error (error, EP_NOISE_ERROR, EP_NOISE_ERROR_NONCE);
  ep_noise_cipher_clear (&c);
  g_assert_false (c.has_key);
}

/* The injected-ephemeral path against cacophony's XX vector (first two
 * handshake messages and the hash). */
static void
test_noise_fixed_vector (void)
{
  g_autoptr(EpNoiseHandshake) init = NULL;
  g_autoptr(EpNoiseHandshake) resp = NULL;
  guint8 is[32], rs[32], ie[32], re[32];
  guint8 msg[ROOM];
  g_autofree char *hex = NULL;
  gsize len;

  sodium_hex2bin (is, 32, "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1", 64,
                  NULL, NULL, NULL);
  sodium_hex2bin (rs, 32, "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893", 64,
                  NULL, NULL, NULL);
  sodium_hex2bin (ie, 32, "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a", 64,
                  NULL, NULL, NULL);
  sodium_hex2bin (re, 32, "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b", 64,
                  NULL, NULL, NULL);

  init = ep_noise_handshake_new (EP_NOISE_ROLE_INITIATOR, (const guint8 *) "John Galt", 9, is);
  resp = ep_noise_handshake_new (EP_NOISE_ROLE_RESPONDER, (const guint8 *) "John Galt", 9, rs);
  ep_noise_handshake_set_ephemeral (init, ie);
  ep_noise_handshake_set_ephemeral (resp, re);

  len = write_msg (init, "Ludwig von Mises", msg);
  hex = g_malloc (2 * len + 1);
  sodium_bin2hex (hex, 2 * len + 1, msg, len);
  g_assert_cmpstr (hex, ==, "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944"
                            "4c756477696720766f6e204d69736573");
  read_msg_ok (resp, msg, len, "Ludwig von Mises");
  len = write_msg (resp, "Murray Rothbard", msg);
  read_msg_ok (init, msg, len, "Murray Rothbard");
  len = write_msg (init, "F. A. Hayek", msg);
  read_msg_ok (resp, msg, len, "F. A. Hayek");

  g_clear_pointer (&hex, g_free);
  hex = g_malloc (129);
  sodium_bin2hex (hex, 129, ep_noise_handshake_get_hash (resp), 64);
  g_assert_cmpstr (hex, ==, "8cf47d7b3cb5804c0109d48e8bcdbee2cbb65687d8ea2c92994ca361fb86151a"
                            "d93627b98936cbb32de56e8abb21def3925011ac3e35db9cbeea73ab9a4392c2");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/ep/noise/round-trip", test_noise_round_trip);
  g_test_add_func ("/ep/noise/tamper-keeps-state", test_noise_tamper_keeps_state);
  g_test_add_func ("/ep/noise/prologue-mismatch", test_noise_prologue_mismatch);
  g_test_add_func ("/ep/noise/out-of-turn", test_noise_out_of_turn);
  g_test_add_func ("/ep/noise/low-order-key", test_noise_low_order_key);
  g_test_add_func ("/ep/noise/nonce-exhausted", test_noise_nonce_exhausted);
  g_test_add_func ("/ep/noise/fixed-vector", test_noise_fixed_vector);

  return g_test_run ();
}
