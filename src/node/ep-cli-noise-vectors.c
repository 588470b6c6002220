/* ep-cli-noise-vectors.c — `encryptedp2p-node noise-vectors FILE`
 *
 * Runs the published Noise test vectors (cacophony's and snow's JSON
 * format) through EpNoiseHandshake for every protocol name we implement:
 * every handshake and transport ciphertext, the payloads as the other side
 * reads them, and the handshake hash where the vector gives one.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "ep-cli.h"
#include "ep-cli-noise-vectors.h"
#include "ep-noise.h"

typedef enum
{
  VECTOR_SKIPPED,
  VECTOR_PASSED,
  VECTOR_FAILED,
} VectorResult;

static const char *
string_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static GBytes *
member_hex (JsonObject  *vector,
            const char  *name,
            gboolean     required,
            GString     *why)
{
  const char *hex;
  gsize len;
  g_autofree guint8 *bytes = NULL;

  hex = string_member (vector, name);
  if (hex == NULL)
    {
      if (required)
        g_string_append_printf (why, "missing or non-string “%s”", name);
      return NULL;
    }

  len = strlen (hex);
  if (len % 2 != 0)
    {
      g_string_append_printf (why, "“%s” is not hexadecimal", name);
      return NULL;
    }

  bytes = g_malloc (len / 2 + 1);
  for (gsize i = 0; i < len / 2; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        {
          g_string_append_printf (why, "“%s” is not hexadecimal", name);
          return NULL;
        }
      bytes[i] = (guint8) (hi << 4 | lo);
    }

  return g_bytes_new_take (g_steal_pointer (&bytes), len / 2);
}

static gboolean
has_psks (JsonObject *vector)
{
  const char *names[] = { "init_psks", "resp_psks", "init_psk", "resp_psk" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      JsonNode *node;

      if (!json_object_has_member (vector, names[i]))
        continue;
      node = json_object_get_member (vector, names[i]);
      if (JSON_NODE_HOLDS_ARRAY (node) && json_array_get_length (json_node_get_array (node)) == 0)
        continue;
      if (JSON_NODE_HOLDS_NULL (node))
        continue;
      return TRUE;
    }
  return FALSE;
}

static gboolean
key_ok (GBytes     *key,
        const char *name,
        GString    *why)
{
  if (key == NULL)
    return FALSE;
  if (g_bytes_get_size (key) != EP_NOISE_DH_LEN)
    {
      g_string_append_printf (why, "“%s” is not a 32-byte key", name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
same_bytes (const guint8 *a,
            gsize         a_len,
            GBytes       *b)
{
  return a_len == g_bytes_get_size (b) && memcmp (a, g_bytes_get_data (b, NULL), a_len) == 0;
}

/* One message of a vector: the sender writes it, the receiver reads it. */
static gboolean
run_message (EpNoiseHandshake *sender,
             EpNoiseHandshake *receiver,
             EpNoiseCipher    *send,
             EpNoiseCipher    *receive,
             GBytes           *payload,
             GBytes           *expected,
             GString          *why)
{
  g_autoptr(GError) error = NULL;
  gsize payload_len = g_bytes_get_size (payload);
  gsize room = payload_len + EP_NOISE_MAX_MESSAGE;
  g_autofree guint8 *out = g_malloc (room);
  g_autofree guint8 *back = g_malloc (room);
  gsize out_len = 0;
  gsize back_len = 0;

  if (sender != NULL)
    {
      if (!ep_noise_handshake_write_message (sender, g_bytes_get_data (payload, NULL), payload_len,
                                             out, room, &out_len, &error)
          || !ep_noise_handshake_read_message (receiver, out, out_len, back, room, &back_len,
                                               &error))
        {
          g_string_append (why, error->message);
          return FALSE;
        }
    }
  else
    {
      out_len = payload_len + EP_NOISE_TAG_LEN;
      back_len = payload_len;
      if (!ep_noise_cipher_encrypt (send, NULL, 0, g_bytes_get_data (payload, NULL), payload_len,
                                    out, &error)
          || !ep_noise_cipher_decrypt (receive, NULL, 0, out, out_len, back, &error))
        {
          g_string_append (why, error->message);
          return FALSE;
        }
    }

  if (!same_bytes (out, out_len, expected))
    {
      g_string_append (why, "ciphertext differs");
      return FALSE;
    }
  if (!same_bytes (back, back_len, payload))
    {
      g_string_append (why, "the receiver read a different payload");
      return FALSE;
    }
  return TRUE;
}

static VectorResult
run_vector (JsonObject *vector,
            GString    *why)
{
  g_autoptr(GBytes) init_prologue = NULL;
  g_autoptr(GBytes) resp_prologue = NULL;
  g_autoptr(GBytes) init_static = NULL;
  g_autoptr(GBytes) resp_static = NULL;
  g_autoptr(GBytes) init_ephemeral = NULL;
  g_autoptr(GBytes) resp_ephemeral = NULL;
  g_autoptr(GBytes) handshake_hash = NULL;
  g_autoptr(EpNoiseHandshake) init = NULL;
  g_autoptr(EpNoiseHandshake) resp = NULL;
  EpNoiseCipher init_send = { 0 }, init_receive = { 0 };
  EpNoiseCipher resp_send = { 0 }, resp_receive = { 0 };
  JsonArray *messages;
  const char *name;
  gboolean expect_fail = FALSE;
  gboolean ok = TRUE;

  name = string_member (vector, "protocol_name");
  if (g_strcmp0 (name, EP_NOISE_PROTOCOL_NAME) != 0 || has_psks (vector))
    return VECTOR_SKIPPED;

  if (json_object_has_member (vector, "fail")
      && JSON_NODE_TYPE (json_object_get_member (vector, "fail")) == JSON_NODE_VALUE
      && json_node_get_value_type (json_object_get_member (vector, "fail")) == G_TYPE_BOOLEAN)
    expect_fail = json_node_get_boolean (json_object_get_member (vector, "fail"));

  init_prologue = member_hex (vector, "init_prologue", FALSE, why);
  resp_prologue = member_hex (vector, "resp_prologue", FALSE, why);
  init_static = member_hex (vector, "init_static", TRUE, why);
  resp_static = member_hex (vector, "resp_static", TRUE, why);
  init_ephemeral = member_hex (vector, "init_ephemeral", TRUE, why);
  resp_ephemeral = member_hex (vector, "resp_ephemeral", TRUE, why);
  handshake_hash = member_hex (vector, "handshake_hash", FALSE, why);
  if (why->len > 0
      || !key_ok (init_static, "init_static", why) || !key_ok (resp_static, "resp_static", why)
      || !key_ok (init_ephemeral, "init_ephemeral", why)
      || !key_ok (resp_ephemeral, "resp_ephemeral", why))
    return VECTOR_FAILED;

  if (!json_object_has_member (vector, "messages")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (vector, "messages")))
    {
      g_string_append (why, "no “messages” array");
      return VECTOR_FAILED;
    }
  messages = json_object_get_array_member (vector, "messages");

  init = ep_noise_handshake_new (EP_NOISE_ROLE_INITIATOR,
                                 init_prologue ? g_bytes_get_data (init_prologue, NULL) : NULL,
                                 init_prologue ? g_bytes_get_size (init_prologue) : 0,
                                 g_bytes_get_data (init_static, NULL));
  ep_noise_handshake_set_ephemeral (init, g_bytes_get_data (init_ephemeral, NULL));
  resp = ep_noise_handshake_new (EP_NOISE_ROLE_RESPONDER,
                                 resp_prologue ? g_bytes_get_data (resp_prologue, NULL) : NULL,
                                 resp_prologue ? g_bytes_get_size (resp_prologue) : 0,
                                 g_bytes_get_data (resp_static, NULL));
  ep_noise_handshake_set_ephemeral (resp, g_bytes_get_data (resp_ephemeral, NULL));

  for (guint i = 0; ok && i < json_array_get_length (messages); i++)
    {
      JsonNode *node = json_array_get_element (messages, i);
      JsonObject *message;
      g_autoptr(GBytes) payload = NULL;
      g_autoptr(GBytes) ciphertext = NULL;
      gboolean from_initiator = i % 2 == 0;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_string_append_printf (why, "message %u is not an object", i);
          ok = FALSE;
          break;
        }
      message = json_node_get_object (node);
      payload = member_hex (message, "payload", TRUE, why);
      ciphertext = member_hex (message, "ciphertext", TRUE, why);
      if (payload == NULL || ciphertext == NULL)
        {
          g_string_append_printf (why, " in message %u", i);
          ok = FALSE;
          break;
        }

      if (i < 3)
        ok = run_message (from_initiator ? init : resp, from_initiator ? resp : init,
                          NULL, NULL, payload, ciphertext, why);
      else
        ok = run_message (NULL, NULL,
                          from_initiator ? &init_send : &resp_send,
                          from_initiator ? &resp_receive : &init_receive,
                          payload, ciphertext, why);
      if (!ok)
        {
          g_string_append_printf (why, " (message %u)", i);
          break;
        }

      if (i == 2)
        {
          if (!ep_noise_handshake_is_finished (init) || !ep_noise_handshake_is_finished (resp))
            {
              g_string_append (why, "the handshake did not finish after three messages");
              ok = FALSE;
              break;
            }
          if (memcmp (ep_noise_handshake_get_hash (init), ep_noise_handshake_get_hash (resp),
                      EP_NOISE_HASH_LEN) != 0)
            {
              g_string_append (why, "the two sides disagree on the handshake hash");
              ok = FALSE;
              break;
            }
          if (handshake_hash != NULL
              && !same_bytes (ep_noise_handshake_get_hash (init), EP_NOISE_HASH_LEN,
                              handshake_hash))
            {
              g_string_append (why, "handshake_hash differs");
              ok = FALSE;
              break;
            }
          ep_noise_handshake_split (init, &init_send, &init_receive);
          ep_noise_handshake_split (resp, &resp_send, &resp_receive);
        }
    }

  if (ok && json_array_get_length (messages) < 3)
    {
      g_string_append (why, "fewer than three messages");
      ok = FALSE;
    }

  ep_noise_cipher_clear (&init_send);
  ep_noise_cipher_clear (&init_receive);
  ep_noise_cipher_clear (&resp_send);
  ep_noise_cipher_clear (&resp_receive);

  if (expect_fail)
    return ok ? VECTOR_FAILED : VECTOR_PASSED;
  return ok ? VECTOR_PASSED : VECTOR_FAILED;
}

int
ep_cli_noise_vectors_main (int    argc,
                           char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = NULL;
  JsonNode *root;
  JsonArray *vectors;
  guint passed = 0, failed = 0, skipped = 0;

  context = g_option_context_new (_("FILE"));
  g_option_context_set_summary (context,
                                _("Runs the Noise test vectors in FILE (cacophony or snow JSON) "
                                  "for the protocols this program implements."));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      ep_cli_print_error ("noise-vectors", error);
      return EP_CLI_EXIT_USAGE;
    }
  if (argc != 2)
    {
      g_printerr (_("Usage: encryptedp2p-node noise-vectors FILE\n"));
      return EP_CLI_EXIT_USAGE;
    }

  parser = json_parser_new ();
  if (!json_parser_load_from_file (parser, argv[1], &error))
    {
      ep_cli_print_error ("noise-vectors", error);
      return EP_CLI_EXIT_FAILURE;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)
      || !json_object_has_member (json_node_get_object (root), "vectors")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object (root), "vectors")))
    {
      g_printerr (_("encryptedp2p-node noise-vectors: %s has no “vectors” array\n"), argv[1]);
      return EP_CLI_EXIT_FAILURE;
    }
  vectors = json_object_get_array_member (json_node_get_object (root), "vectors");

  for (guint i = 0; i < json_array_get_length (vectors); i++)
    {
      JsonNode *node = json_array_get_element (vectors, i);
      g_autoptr(GString) why = g_string_new (NULL);

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          skipped++;
          continue;
        }

      switch (run_vector (json_node_get_object (node), why))
        {
        case VECTOR_SKIPPED:
          skipped++;
          break;
        case VECTOR_PASSED:
          passed++;
          break;
        case VECTOR_FAILED:
          failed++;
          g_printerr ("vector %u (%s): %s\n", i, EP_NOISE_PROTOCOL_NAME,
                      why->len > 0 ? why->str : "failed");
          break;
        default:
          g_assert_not_reached ();
        }
    }

  g_print ("%u skipped (protocols other than %s)\n", skipped, EP_NOISE_PROTOCOL_NAME);
  g_print ("%u passed, %u failed\n", passed, failed);

  if (passed == 0 && failed == 0)
    g_printerr (_("encryptedp2p-node noise-vectors: no vector in %s is for a protocol we implement\n"),
                argv[1]);

  return failed == 0 && passed > 0 ? EP_CLI_EXIT_OK : EP_CLI_EXIT_FAILURE;
}
