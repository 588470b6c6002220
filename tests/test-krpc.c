/* test-krpc.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "ep-core.h"

static EpKrpcReason
decode_str (const char  *text,
            gsize        len,
            EpBencDoc  **doc_out,
            EpKrpcMsg   *msg)
{
  g_autoptr(GError) error = NULL;
  EpBencDoc *doc = ep_benc_doc_parse ((const guint8 *) text, len, NULL, &error);

  g_assert_no_error (error);
  *doc_out = doc;
  return ep_krpc_decode (ep_benc_doc_root (doc), msg);
}

#define DECODE(lit, doc, msg) decode_str ((lit), sizeof (lit) - 1, (doc), (msg))

static void
test_krpc_ping_bep5 (void)
{
  static const char query[] = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
  static const char reply[] = "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re";
  g_autoptr(EpBencDoc) doc = NULL;
  g_autoptr(EpBencDoc) doc2 = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  EpKrpcMsg msg;

  g_assert_cmpint (DECODE (query, &doc, &msg), ==, EP_KRPC_OK);
  g_assert_cmpint (msg.kind, ==, EP_KRPC_QUERY);
  g_assert_cmpint (msg.method, ==, EP_KRPC_PING);
  g_assert_cmpmem (msg.id, 20, "abcdefghij0123456789", 20);
  g_assert_cmpmem (msg.tid, msg.tid_len, "aa", 2);

  ep_krpc_encode (&msg, out);
  g_assert_cmpmem (out->data, out->len, query, sizeof query - 1);

  g_assert_cmpint (DECODE (reply, &doc2, &msg), ==, EP_KRPC_OK);
  g_assert_cmpint (msg.kind, ==, EP_KRPC_RESPONSE);
  g_assert_cmpmem (msg.id, 20, "mnopqrstuvwxyz123456", 20);
  g_byte_array_set_size (out, 0);
  ep_krpc_encode (&msg, out);
  g_assert_cmpmem (out->data, out->len, reply, sizeof reply - 1);
}

static void
roundtrip (const EpKrpcMsg *in,
           EpKrpcMsg       *out,
           EpBencDoc      **doc)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  g_autoptr(GError) error = NULL;

  ep_krpc_encode (in, bytes);
  *doc = ep_benc_doc_parse (bytes->data, bytes->len, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ep_krpc_decode (ep_benc_doc_root (*doc), out), ==, EP_KRPC_OK);
}

static void
test_krpc_queries_roundtrip (void)
{
  EpKrpcMethod methods[] = { EP_KRPC_FIND_NODE, EP_KRPC_GET_PEERS, EP_KRPC_ANNOUNCE_PEER,
                             EP_KRPC_GET, EP_KRPC_PUT };
  static const guint8 v[] = "12:Hello World!";
  static const guint8 token[] = "tok12345";

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      EpKrpcMsg in = { .kind = EP_KRPC_QUERY, .method = methods[i], .tid_len = 2,
                       .want = EP_KRPC_WANT_N4 | EP_KRPC_WANT_N6, .ro = TRUE };
      EpKrpcMsg out;
      g_autoptr(EpBencDoc) doc = NULL;

      memcpy (in.tid, "\x01\x02", 2);
      memset (in.id, 0x11, 20);
      memset (in.target, 0x22, 20);
      in.token = token;
      in.token_len = 8;
      in.port = 6881;
      if (methods[i] == EP_KRPC_GET)
        {
          in.has_seq = TRUE;
          in.seq = 5;
        }
      if (methods[i] == EP_KRPC_PUT)
        {
          in.v = v;
          in.v_len = sizeof v - 1;
          in.has_k = TRUE;
          memset (in.k, 0x33, 32);
          memset (in.sig, 0x44, 64);
          in.salt = (const guint8 *) "foobar";
          in.salt_len = 6;
          in.has_seq = TRUE;
          in.seq = 4;
          in.has_cas = TRUE;
          in.cas = 3;
        }

      roundtrip (&in, &out, &doc);
      g_assert_cmpint (out.method, ==, methods[i]);
      g_assert_true (out.ro);
      g_assert_cmpmem (out.id, 20, in.id, 20);
      if (methods[i] != EP_KRPC_PUT)
        g_assert_cmpmem (out.target, 20, in.target, 20);
      if (methods[i] == EP_KRPC_FIND_NODE || methods[i] == EP_KRPC_GET_PEERS
          || methods[i] == EP_KRPC_GET)
        g_assert_cmpuint (out.want, ==, EP_KRPC_WANT_N4 | EP_KRPC_WANT_N6);
      if (methods[i] == EP_KRPC_ANNOUNCE_PEER)
        {
          g_assert_cmpuint (out.port, ==, 6881);
          g_assert_false (out.implied_port);
          g_assert_cmpmem (out.token, out.token_len, token, 8);
        }
      if (methods[i] == EP_KRPC_GET)
        {
          g_assert_true (out.has_seq);
          g_assert_cmpint (out.seq, ==, 5);
        }
      if (methods[i] == EP_KRPC_PUT)
        {
          g_assert_cmpmem (out.v, out.v_len, v, sizeof v - 1);
          g_assert_true (out.has_k);
          g_assert_cmpmem (out.k, 32, in.k, 32);
          g_assert_cmpmem (out.sig, 64, in.sig, 64);
          g_assert_cmpmem (out.salt, out.salt_len, "foobar", 6);
          g_assert_cmpint (out.seq, ==, 4);
          g_assert_true (out.has_cas);
          g_assert_cmpint (out.cas, ==, 3);
        }
    }
}

static void
test_krpc_response_roundtrip (void)
{
  EpKrpcMsg in = { .kind = EP_KRPC_RESPONSE, .tid_len = 1, .ip_len = 6 };
  EpKrpcMsg out;
  g_autoptr(EpBencDoc) doc = NULL;
  g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  guint8 nodes[52], nodes6[38];

  in.tid[0] = 'x';
  memcpy (in.ip, "\x7f\x00\x00\x01\x1a\xe1", 6);
  memset (in.id, 1, 20);
  memset (nodes, 2, sizeof nodes);
  memset (nodes6, 3, sizeof nodes6);
  in.nodes = nodes;
  in.nodes_len = sizeof nodes;
  in.nodes6 = nodes6;
  in.nodes6_len = sizeof nodes6;
  in.token = (const guint8 *) "abc";
  in.token_len = 3;
  g_ptr_array_add (values, g_bytes_new ("\x01\x02\x03\x04\x05\x06", 6));
  g_ptr_array_add (values, g_bytes_new ("0123456789abcdef\x00\x01", 18));
  in.values_out = values;

  roundtrip (&in, &out, &doc);
  g_assert_cmpint (out.kind, ==, EP_KRPC_RESPONSE);
  g_assert_cmpmem (out.ip, out.ip_len, in.ip, 6);
  g_assert_cmpmem (out.nodes, out.nodes_len, nodes, sizeof nodes);
  g_assert_cmpmem (out.nodes6, out.nodes6_len, nodes6, sizeof nodes6);
  g_assert_cmpmem (out.token, out.token_len, "abc", 3);
  g_assert_cmpuint (ep_benc_list_length (out.values), ==, 2);
  g_assert_cmpint (ep_krpc_check_response (&out, EP_KRPC_GET_PEERS), ==, EP_KRPC_OK);
}

static void
test_krpc_error (void)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(EpBencDoc) doc = NULL;
  g_autoptr(GError) error = NULL;
  EpKrpcMsg msg;

  ep_krpc_encode_error ((const guint8 *) "aa", 2, 201, "A Generic Error Ocurred", out);
  g_assert_cmpmem (out->data, out->len, "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
                   strlen ("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee"));
  doc = ep_benc_doc_parse (out->data, out->len, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ep_krpc_decode (ep_benc_doc_root (doc), &msg), ==, EP_KRPC_OK);
  g_assert_cmpint (msg.kind, ==, EP_KRPC_ERROR);
  g_assert_cmpint (msg.error_code, ==, 201);
  g_assert_cmpstr (msg.error_message, ==, "A Generic Error Ocurred");
}

static void
test_krpc_unknown_method (void)
{
  g_autoptr(EpBencDoc) doc = NULL;
  EpKrpcMsg msg;

  g_assert_cmpint (DECODE ("d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:aa1:y1:qe",
                           &doc, &msg), ==, EP_KRPC_OK);
  g_assert_cmpint (msg.method, ==, EP_KRPC_UNKNOWN_METHOD);
  g_assert_cmpuint (msg.tid_len, ==, 2);
}

static void
test_krpc_malformed (void)
{
  static const struct { const char *text; EpKrpcReason reason; gboolean has_tid; } cases[] = {
    { "li1ee", EP_KRPC_NOT_DICT, FALSE },
    { "de", EP_KRPC_BAD_TID, FALSE },
    { "d1:ade1:q4:ping1:t2:aa1:y1:qe", EP_KRPC_BAD_ID, TRUE },
    { "d1:rde1:t2:aa1:y1:re", EP_KRPC_BAD_ID, TRUE },
    { "d1:y1:qe", EP_KRPC_BAD_TID, FALSE },
    { "d1:ti5e1:y1:qe", EP_KRPC_BAD_TID, FALSE },
    { "d1:t0:1:y1:qe", EP_KRPC_BAD_TID, FALSE },
    { "d1:t17:aaaaaaaaaaaaaaaaa1:y1:qe", EP_KRPC_BAD_TID, FALSE },
    { "d1:t2:aa1:y1:xe", EP_KRPC_BAD_Y, TRUE },
    { "d1:t2:aa1:y2:qqe", EP_KRPC_BAD_Y, TRUE },
    { "d1:t2:aae", EP_KRPC_BAD_Y, TRUE },
    { "d1:ad2:id20:abcdefghij0123456789e1:t2:aa1:y1:qe", EP_KRPC_BAD_Q, TRUE },
    { "d1:q4:ping1:t2:aa1:y1:qe", EP_KRPC_BAD_ARGS, TRUE },
    { "d1:ali1ee1:q4:ping1:t2:aa1:y1:qe", EP_KRPC_BAD_ARGS, TRUE },
    { "d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe", EP_KRPC_BAD_ID, TRUE },
    { "d1:ad2:idi5ee1:q4:ping1:t2:aa1:y1:qe", EP_KRPC_BAD_ID, TRUE },
    { "d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe", EP_KRPC_BAD_TARGET, TRUE },
    { "d1:ad2:id20:abcdefghij01234567896:target3:abce1:q9:find_node1:t2:aa1:y1:qe",
      EP_KRPC_BAD_TARGET, TRUE },
    { "d1:ad2:id20:abcdefghij01234567896:target20:abcdefghij01234567894:wanti1ee"
      "1:q9:find_node1:t2:aa1:y1:qe", EP_KRPC_BAD_FIELD, TRUE },
    { "d1:ad2:id20:abcdefghij01234567899:info_hash20:abcdefghij01234567894:porti0e"
      "5:token2:xxe1:q13:announce_peer1:t2:aa1:y1:qe", EP_KRPC_BAD_PORT, TRUE },
    { "d1:ad2:id20:abcdefghij01234567899:info_hash20:abcdefghij01234567894:porti70000e"
      "5:token2:xxe1:q13:announce_peer1:t2:aa1:y1:qe", EP_KRPC_BAD_PORT, TRUE },
    { "d1:ad2:id20:abcdefghij01234567899:info_hash20:abcdefghij01234567894:porti80ee"
      "1:q13:announce_peer1:t2:aa1:y1:qe", EP_KRPC_BAD_TOKEN, TRUE },
    { "d1:ad2:id20:abcdefghij01234567891:k32:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "3:seqi1e5:token2:xx1:v1:xe1:q3:put1:t2:aa1:y1:qe", EP_KRPC_BAD_ITEM, TRUE },
    { "d1:ad2:id20:abcdefghij01234567895:token2:xxe1:q3:put1:t2:aa1:y1:qe",
      EP_KRPC_BAD_ITEM, TRUE },
    { "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:abcdefghij0123456789"
      "4:porti0e5:token2:xxe1:q13:announce_peer1:t2:aa1:y1:qe", EP_KRPC_OK, TRUE },
    { "d1:rd2:id20:abcdefghij01234567895:nodes3:abce1:t2:aa1:y1:re", EP_KRPC_BAD_NODES, TRUE },
    { "d1:rd2:id20:abcdefghij01234567896:valuesl3:abcee1:t2:aa1:y1:re",
      EP_KRPC_BAD_VALUES, TRUE },
    { "d1:rd2:id20:abcdefghij01234567896:valuesi3ee1:t2:aa1:y1:re", EP_KRPC_BAD_VALUES, TRUE },
    { "d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:re", EP_KRPC_OK, TRUE },
    { "d1:rle1:t2:aa1:y1:re", EP_KRPC_BAD_ARGS, TRUE },
    { "d2:ip3:abc1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:re", EP_KRPC_BAD_IP, TRUE },
    { "d1:rd2:id20:abcdefghij0123456789e2:ro2:no1:t2:aa1:y1:re", EP_KRPC_BAD_FIELD, TRUE },
    { "d1:eli201ee1:t2:aa1:y1:ee", EP_KRPC_BAD_ERROR, TRUE },
    { "d1:el3:abc3:abce1:t2:aa1:y1:ee", EP_KRPC_BAD_ERROR, TRUE },
    { "d1:ei201e1:t2:aa1:y1:ee", EP_KRPC_BAD_ERROR, TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(EpBencDoc) doc = NULL;
      EpKrpcMsg msg;

      g_test_message ("case %u: %s", i, cases[i].text);
      g_assert_cmpint (decode_str (cases[i].text, strlen (cases[i].text), &doc, &msg),
                       ==, cases[i].reason);
      g_assert_cmpint (msg.tid_len > 0, ==, cases[i].has_tid);
    }
}

static void
test_krpc_find_node_needs_nodes (void)
{
  g_autoptr(EpBencDoc) doc = NULL;
  EpKrpcMsg msg;

  g_assert_cmpint (DECODE ("d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:re", &doc, &msg),
                   ==, EP_KRPC_OK);
  g_assert_cmpint (ep_krpc_check_response (&msg, EP_KRPC_FIND_NODE), ==, EP_KRPC_BAD_NODES);
  g_assert_cmpint (ep_krpc_check_response (&msg, EP_KRPC_PING), ==, EP_KRPC_OK);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ep/krpc/ping-bep5", test_krpc_ping_bep5);
  g_test_add_func ("/ep/krpc/queries-roundtrip", test_krpc_queries_roundtrip);
  g_test_add_func ("/ep/krpc/response-roundtrip", test_krpc_response_roundtrip);
  g_test_add_func ("/ep/krpc/error", test_krpc_error);
  g_test_add_func ("/ep/krpc/unknown-method", test_krpc_unknown_method);
  g_test_add_func ("/ep/krpc/malformed", test_krpc_malformed);
  g_test_add_func ("/ep/krpc/find-node-needs-nodes", test_krpc_find_node_needs_nodes);

  return g_test_run ();
}
