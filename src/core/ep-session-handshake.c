/* ep-session-handshake.c — handshake messages, identity binding and cookies
 *
 * Part of EpSessionManager (see ep-session-private.h for the wire format).
 *
 * Message 1 carries only the initiator's ephemeral key, so nothing is
 * known about the initiator until message 3; the responder proves its
 * identity in message 2. Both identity payloads bind an Ed25519 identity
 * key to the Noise static key by a signature, checked here.
 *
 * Denial of service: an INIT must carry mac1, keyed by our identity key,
 * which anyone who may call us knows (it is in the contact ID). Under load
 * (too many pending responder handshakes) it must also carry mac2, keyed by
 * a cookie we hand out in a COOKIE reply: a MAC of the source address (on a
 * relayed path: of the relay and the peer key it vouches for) under a
 * rotating secret. Producing that reply allocates nothing, so a flood of
 * initiations from forged addresses costs no memory; a hard bound limits
 * the rest.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "ep-session-private.h"

/* Ephemeral keys of finished handshakes are remembered this long, so a
 * replayed message 1 gets no answer. */
#define SEEN_EPHEMERAL_US   (G_USEC_PER_SEC * 600)
#define MAX_SEEN_EPHEMERALS 16384

/* A cookie is used a little less long than the secret lives. */
#define COOKIE_MARGIN_US    (G_USEC_PER_SEC * 5)

static void
mac (const guint8 *key,
     gsize         key_len,
     const guint8 *data,
     gsize         len,
     guint8       *out)
{
  crypto_generichash_blake2b (out, EP_MAC_LEN, data, len, key, key_len);
}

static void
label_key (const char   *label,
           const guint8 *identity,
           guint8       *out)
{
  crypto_generichash_blake2b_state state;

  crypto_generichash_blake2b_init (&state, NULL, 0, 32);
  crypto_generichash_blake2b_update (&state, (const guint8 *) label, strlen (label));
  crypto_generichash_blake2b_update (&state, identity, 32);
  crypto_generichash_blake2b_final (&state, out, 32);
}

static gboolean
addresses_equal (GSocketAddress *a,
                 GSocketAddress *b)
{
  return ep_socket_address_equal (a, b);
}

/* A MAC of who sent it: IP and port, or on a relayed path the relay and
 * the peer key it vouches for. */
static void
make_cookie (const guint8   *secret,
             GSocketAddress *from,
             guint8         *cookie)
{
  guint8 buf[65];
  gsize len = ep_socket_address_get_identity_bytes (from, buf);

  mac (secret, 32, buf, len, cookie);
}

/* On a relayed path the peer must be who the relay says sent it. */
static gboolean
relay_peer_matches (GSocketAddress *from,
                    const guint8   *identity)
{
  return !EP_IS_RELAY_ADDRESS (from)
         || sodium_memcmp (ep_relay_address_get_peer_key (EP_RELAY_ADDRESS (from)), identity,
                           32) == 0;
}

void
ep_keypair_free (EpKeypair *keypair)
{
  if (keypair == NULL)
    return;
  sodium_memzero (keypair, sizeof *keypair);
  g_free (keypair);
}

void
ep_handshake_free (EpHandshake *handshake)
{
  if (handshake == NULL)
    return;
  g_clear_pointer (&handshake->noise, ep_noise_handshake_free);
  g_clear_object (&handshake->session);
  g_clear_object (&handshake->address);
  g_clear_pointer (&handshake->candidates, g_ptr_array_unref);
  sodium_memzero (handshake, sizeof *handshake);
  g_free (handshake);
}

static gboolean
is_responder (EpHandshake *handshake)
{
  return ep_noise_handshake_get_role (handshake->noise) == EP_NOISE_ROLE_RESPONDER;
}

void
ep_session_manager_remove_handshake (EpSessionManager *self,
                                     EpHandshake      *handshake)
{
  if (!g_hash_table_contains (self->handshakes, handshake))
    return;

  if (handshake->session != NULL && ep_session_get_handshake (handshake->session) == handshake)
    ep_session_set_handshake (handshake->session, NULL);
  if (handshake->local_index != 0)
    ep_session_manager_release_index (self, handshake->local_index);
  if (is_responder (handshake))
    {
      g_autoptr(GBytes) e = g_bytes_new (handshake->peer_ephemeral, 32);

      if (g_hash_table_lookup (self->responders, e) == handshake)
        g_hash_table_remove (self->responders, e);
      self->n_pending--;
    }
  g_hash_table_remove (self->handshakes, handshake);
}

/* Identity binding ------------------------------------------------------ */

void
ep_session_manager_init_keys (EpSessionManager *self)
{
  guint8 message[sizeof EP_SESSION_SIGN_CONTEXT - 1 + 32];

  crypto_sign_ed25519_sk_to_pk (self->identity_pk, self->identity_sk);
  crypto_scalarmult_base (self->static_pk, self->static_sk);

  memcpy (message, EP_SESSION_SIGN_CONTEXT, sizeof EP_SESSION_SIGN_CONTEXT - 1);
  memcpy (message + sizeof EP_SESSION_SIGN_CONTEXT - 1, self->static_pk, 32);
  self->identity_payload[0] = 1;
  memcpy (self->identity_payload + 1, self->identity_pk, 32);
  crypto_sign_detached (self->identity_payload + 33, NULL, message, sizeof message,
                        self->identity_sk);

  label_key (EP_SESSION_LABEL_MAC1, self->identity_pk, self->mac1_key);
  label_key (EP_SESSION_LABEL_COOKIE, self->identity_pk, self->cookie_key);
  randombytes_buf (self->cookie_secret, sizeof self->cookie_secret);
}

/* Whether @payload binds an identity to @remote_static; the identity goes
 * to @identity. */
static gboolean
check_identity_payload (const guint8 *payload,
                        gsize         len,
                        const guint8 *remote_static,
                        guint8       *identity)
{
  guint8 message[sizeof EP_SESSION_SIGN_CONTEXT - 1 + 32];

  if (len != EP_IDENTITY_PAYLOAD_LEN || payload[0] != 1)
    return FALSE;

  memcpy (message, EP_SESSION_SIGN_CONTEXT, sizeof EP_SESSION_SIGN_CONTEXT - 1);
  memcpy (message + sizeof EP_SESSION_SIGN_CONTEXT - 1, remote_static, 32);
  if (crypto_sign_verify_detached (payload + 33, message, sizeof message, payload + 1) != 0)
    return FALSE;

  memcpy (identity, payload + 1, 32);
  return TRUE;
}

/* Initiator --------------------------------------------------------------- */

static void
send_init (EpSessionManager *self,
           EpHandshake      *handshake,
           gint64            now)
{
  guint8 key[32];
  guint8 *p = handshake->packet;
  const gsize mac1_at = EP_INIT_LEN - 2 * EP_MAC_LEN;
  const gsize mac2_at = EP_INIT_LEN - EP_MAC_LEN;

  label_key (EP_SESSION_LABEL_MAC1, handshake->peer_identity, key);
  mac (key, sizeof key, p, mac1_at, p + mac1_at);
  memcpy (handshake->mac1, p + mac1_at, EP_MAC_LEN);

  if (handshake->cookie_us != 0
      && now - handshake->cookie_us
           < (gint64) self->timing.cookie_secret_ms * 1000 - COOKIE_MARGIN_US)
    mac (handshake->cookie, EP_MAC_LEN, p, mac2_at, p + mac2_at);
  else
    memset (p + mac2_at, 0, EP_MAC_LEN);

  ep_session_manager_send_datagram (self, handshake->address, p, EP_INIT_LEN);
  for (guint i = 0; handshake->candidates != NULL && i < handshake->candidates->len; i++)
    ep_session_manager_send_datagram (self, handshake->candidates->pdata[i], p, EP_INIT_LEN);
}

/* Whether @address is one our INIT goes to. */
static gboolean
calls_address (EpHandshake    *handshake,
               GSocketAddress *address)
{
  if (addresses_equal (handshake->address, address))
    return TRUE;
  for (guint i = 0; handshake->candidates != NULL && i < handshake->candidates->len; i++)
    if (addresses_equal (handshake->candidates->pdata[i], address))
      return TRUE;
  return FALSE;
}

/*
 * ep_session_manager_set_candidates:
 * @addresses: (element-type GInetSocketAddress): every address the peer may
 *   be reached at (its published endpoints)
 *
 * Hole punching: the INIT of @handshake (an initiator's, still waiting for
 * message 2) goes to each of them, at once to those it did not go to yet
 * and then with every retransmission; whichever answers first carries the
 * session.
 */
void
ep_session_manager_set_candidates (EpSessionManager *self,
                                   EpHandshake      *handshake,
                                   GPtrArray        *addresses)
{
  g_autoptr(GPtrArray) fresh = g_ptr_array_new ();
  GPtrArray *candidates = g_ptr_array_new_with_free_func (g_object_unref);

  if (is_responder (handshake) || ep_noise_handshake_get_message_index (handshake->noise) != 1)
    {
      g_ptr_array_unref (candidates);
      return;
    }
  for (guint i = 0; i < addresses->len; i++)
    {
      GSocketAddress *address = addresses->pdata[i];
      gboolean repeated = addresses_equal (address, handshake->address);

      for (guint j = 0; j < candidates->len && !repeated; j++)
        repeated = addresses_equal (address, candidates->pdata[j]);
      if (repeated)
        continue;
      if (!calls_address (handshake, address))
        g_ptr_array_add (fresh, address);
      g_ptr_array_add (candidates, g_object_ref (address));
    }
  g_clear_pointer (&handshake->candidates, g_ptr_array_unref);
  handshake->candidates = candidates;
  for (guint i = 0; i < fresh->len; i++)
    ep_session_manager_send_datagram (self, fresh->pdata[i], handshake->packet, EP_INIT_LEN);
}

/*
 * ep_session_manager_begin_handshake:
 *
 * Starts a handshake as initiator towards @session's peer: the first one,
 * or a rekey.
 */
void
ep_session_manager_begin_handshake (EpSessionManager *self,
                                    EpSession        *session)
{
  ep_session_manager_begin_handshake_to (self, session, NULL);
}

/*
 * ep_session_manager_probe:
 * @address: another path to the peer of an established session
 *
 * Rekeys @session over @address: if the peer answers there, both sides
 * have seen the other's packets on that path and move the session to it
 * (a relayed session going direct); if not, the handshake times out and
 * the session stays where it is.
 *
 * Returns: whether a handshake started (not while another one runs)
 */
gboolean
ep_session_manager_probe (EpSessionManager *self,
                          EpSession        *session,
                          GSocketAddress   *address)
{
  if (!ep_session_can_rekey (session))
    return FALSE;
  ep_session_manager_begin_handshake_to (self, session, address);
  return ep_session_get_handshake (session) != NULL;
}

void
ep_session_manager_begin_handshake_to (EpSessionManager *self,
                                       EpSession        *session,
                                       GSocketAddress   *address)
{
  g_autoptr(GError) error = NULL;
  EpHandshake *handshake;
  guint8 padding[EP_INIT_PADDING] = { 0 };
  gint64 now = g_get_monotonic_time ();
  gsize len;

  if (ep_session_get_state (session) == EP_SESSION_STATE_CLOSED
      || ep_session_get_handshake (session) != NULL)
    return;

  handshake = g_new0 (EpHandshake, 1);
  handshake->noise = ep_noise_handshake_new (EP_NOISE_ROLE_INITIATOR,
                                             (const guint8 *) EP_SESSION_PROLOGUE,
                                             strlen (EP_SESSION_PROLOGUE), self->static_sk);
  handshake->session = g_object_ref (session);
  handshake->address = g_object_ref (address != NULL ? address
                                                     : ep_session_get_remote_address (session));
  memcpy (handshake->peer_identity, ep_session_peek_identity (session), 32);
  handshake->local_index = ep_session_manager_new_index (self, NULL, handshake);
  handshake->started_us = now;
  handshake->retry_ms = self->timing.handshake_retry_ms;
  handshake->next_retry_us = now + (gint64) handshake->retry_ms * 1000;

  handshake->packet[0] = EP_PACKET_INIT;
  ep_write_u32 (handshake->packet + 1, handshake->local_index);
  if (!ep_noise_handshake_write_message (handshake->noise, padding, sizeof padding,
                                         handshake->packet + 5, EP_INIT_NOISE_LEN, &len, &error))
    g_error ("cannot write handshake message 1: %s", error->message);
  handshake->packet_len = EP_INIT_LEN;

  g_hash_table_add (self->handshakes, handshake);
  ep_session_set_handshake (session, handshake);
  self->counters.handshakes_initiated++;

  send_init (self, handshake, now);
}

void
ep_session_manager_handle_response (EpSessionManager *self,
                                    GSocketAddress   *from,
                                    const guint8     *data,
                                    gsize             len)
{
  g_autoptr(EpNoiseHandshake) work = NULL;
  EpIndexEntry *entry;
  EpHandshake *handshake;
  EpSession *session;
  EpKeypair *keypair;
  guint8 payload[EP_IDENTITY_PAYLOAD_LEN];
  guint8 identity[32];
  gsize payload_len = 0;
  gsize n = 0;
  gint64 now = g_get_monotonic_time ();

  if (len != EP_RESPONSE_LEN)
    {
      self->counters.dropped_malformed++;
      return;
    }

  entry = g_hash_table_lookup (self->indices, GUINT_TO_POINTER (ep_read_u32 (data + 5)));
  if (entry == NULL)
    {
      self->counters.dropped_unknown_index++;
      return;
    }
  handshake = entry->handshake;
  if (handshake == NULL || is_responder (handshake)
      || ep_noise_handshake_get_message_index (handshake->noise) != 1)
    {
      /* A resent message 2 for a handshake we finished. */
      self->counters.duplicate_handshakes++;
      return;
    }

  /* Read into a copy: a forged or damaged message must not break the
   * handshake, and neither must a bad identity payload. */
  work = ep_noise_handshake_copy (handshake->noise);
  if (!ep_noise_handshake_read_message (work, data + 9, EP_RESPONSE_NOISE_LEN, payload,
                                        sizeof payload, &payload_len, NULL)
      || !check_identity_payload (payload, payload_len,
                                  ep_noise_handshake_get_remote_static (work), identity)
      || !relay_peer_matches (from, identity))
    {
      self->counters.dropped_handshake++;
      return;
    }

  session = g_object_ref (handshake->session);

  if (sodium_memcmp (identity, handshake->peer_identity, 32) != 0)
    {
      self->counters.wrong_identity++;
      ep_session_manager_remove_handshake (self, handshake);
      if (ep_session_get_state (session) == EP_SESSION_STATE_CONNECTING)
        ep_session_fail (session, g_error_new (EP_SESSION_ERROR, EP_SESSION_ERROR_WRONG_IDENTITY,
                                               _("The peer is not the contact we called")));
      g_object_unref (session);
      return;
    }

  keypair = g_new0 (EpKeypair, 1);
  keypair->final_packet[0] = EP_PACKET_FINAL;
  ep_write_u32 (keypair->final_packet + 1, ep_read_u32 (data + 1));
  if (!ep_noise_handshake_write_message (work, self->identity_payload, EP_IDENTITY_PAYLOAD_LEN,
                                         keypair->final_packet + 5, EP_FINAL_NOISE_LEN, &n, NULL)
      || !ep_noise_handshake_split (work, &keypair->send, &keypair->receive))
    {
      self->counters.dropped_handshake++;
      ep_keypair_free (keypair);
      g_object_unref (session);
      return;
    }

  ep_replay_window_init (&keypair->window);
  keypair->local_index = handshake->local_index;
  keypair->remote_index = ep_read_u32 (data + 1);
  keypair->created_us = now;
  keypair->initiator = TRUE;
  keypair->final_retry_ms = self->timing.handshake_retry_ms;
  keypair->final_next_us = now + (gint64) keypair->final_retry_ms * 1000;

  /* The index now names the keys. */
  ep_session_manager_set_index (self, handshake->local_index, session, NULL);
  handshake->local_index = 0;
  ep_session_manager_remove_handshake (self, handshake);

  ep_session_set_remote_static (session, ep_noise_handshake_get_remote_static (work));
  ep_session_set_address (session, from);
  self->counters.handshakes_completed++;

  ep_session_manager_send_datagram (self, from, keypair->final_packet, EP_FINAL_LEN);
  ep_session_add_keypair (session, keypair);
  g_object_unref (session);
}

void
ep_session_manager_handle_cookie (EpSessionManager *self,
                                  GSocketAddress   *from,
                                  const guint8     *data,
                                  gsize             len)
{
  EpIndexEntry *entry;
  EpHandshake *handshake;
  guint8 key[32];
  guint8 cookie[EP_MAC_LEN];

  if (len != EP_COOKIE_LEN)
    {
      self->counters.dropped_malformed++;
      return;
    }

  entry = g_hash_table_lookup (self->indices, GUINT_TO_POINTER (ep_read_u32 (data + 1)));
  handshake = entry != NULL ? entry->handshake : NULL;
  if (handshake == NULL || is_responder (handshake)
      || ep_noise_handshake_get_message_index (handshake->noise) != 1)
    {
      self->counters.dropped_unknown_index++;
      return;
    }

  label_key (EP_SESSION_LABEL_COOKIE, handshake->peer_identity, key);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt (cookie, NULL, NULL, data + 5 + EP_COOKIE_NONCE_LEN,
                                                  EP_MAC_LEN + 16, handshake->mac1, EP_MAC_LEN,
                                                  data + 5, key) != 0)
    {
      self->counters.dropped_handshake++;
      return;
    }

  memcpy (handshake->cookie, cookie, EP_MAC_LEN);
  handshake->cookie_us = g_get_monotonic_time ();
  self->counters.cookies_received++;

  /* Try again at once, now with mac2. Each resend answers one reply that
   * authenticated against our own last mac1, so this cannot loop. */
  send_init (self, handshake, handshake->cookie_us);
}

/* Responder ------------------------------------------------------------- */

static void
send_cookie_reply (EpSessionManager *self,
                   GSocketAddress   *from,
                   const guint8     *init)
{
  guint8 reply[EP_COOKIE_LEN];
  guint8 cookie[EP_MAC_LEN];

  reply[0] = EP_PACKET_COOKIE;
  memcpy (reply + 1, init + 1, 4);
  randombytes_buf (reply + 5, EP_COOKIE_NONCE_LEN);
  make_cookie (self->cookie_secret, from, cookie);
  crypto_aead_xchacha20poly1305_ietf_encrypt (reply + 5 + EP_COOKIE_NONCE_LEN, NULL,
                                              cookie, sizeof cookie,
                                              init + EP_INIT_LEN - 2 * EP_MAC_LEN, EP_MAC_LEN,
                                              NULL, reply + 5, self->cookie_key);
  self->counters.cookie_replies_sent++;
  ep_session_manager_send_datagram (self, from, reply, sizeof reply);
}

static gboolean
mac2_valid (EpSessionManager *self,
            GSocketAddress   *from,
            const guint8     *init)
{
  guint8 cookie[EP_MAC_LEN];
  guint8 expected[EP_MAC_LEN];
  const gsize mac2_at = EP_INIT_LEN - EP_MAC_LEN;

  make_cookie (self->cookie_secret, from, cookie);
  mac (cookie, sizeof cookie, init, mac2_at, expected);
  if (sodium_memcmp (expected, init + mac2_at, EP_MAC_LEN) == 0)
    return TRUE;

  if (!self->has_previous_secret)
    return FALSE;
  make_cookie (self->cookie_secret_previous, from, cookie);
  mac (cookie, sizeof cookie, init, mac2_at, expected);
  return sodium_memcmp (expected, init + mac2_at, EP_MAC_LEN) == 0;
}

/* Both sides called each other: the one with the lower ephemeral key stays
 * initiator. Returns TRUE if their INIT is to be ignored; otherwise our
 * own handshake is dropped and its session goes to @session. */
static gboolean
resolve_simultaneous_open (EpSessionManager  *self,
                           GSocketAddress    *from,
                           const guint8      *their_ephemeral,
                           EpSession        **session)
{
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->handshakes);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      EpHandshake *ours = key;

      if (is_responder (ours) || ours->session == NULL
          || ep_noise_handshake_get_message_index (ours->noise) != 1
          || !calls_address (ours, from))
        continue;

      if (memcmp (ep_noise_handshake_get_local_ephemeral (ours->noise), their_ephemeral, 32) < 0)
        {
          /* Their INIT shows the way to them is open now (their NAT let
           * ours out): ours goes again at once rather than after its
           * retransmission backoff. */
          send_init (self, ours, g_get_monotonic_time ());
          return TRUE;
        }

      *session = g_object_ref (ours->session);
      ep_session_manager_remove_handshake (self, ours);
      return FALSE;
    }

  return FALSE;
}

void
ep_session_manager_handle_init (EpSessionManager *self,
                                GSocketAddress   *from,
                                const guint8     *data,
                                gsize             len)
{
  g_autoptr(GBytes) e = NULL;
  g_autoptr(EpSession) session = NULL;
  EpHandshake *handshake;
  guint8 expected[EP_MAC_LEN];
  guint8 padding[EP_INIT_PADDING];
  gsize n = 0;
  gint64 now = g_get_monotonic_time ();

  if (len != EP_INIT_LEN)
    {
      self->counters.dropped_malformed++;
      return;
    }

  mac (self->mac1_key, sizeof self->mac1_key, data, EP_INIT_LEN - 2 * EP_MAC_LEN, expected);
  if (sodium_memcmp (expected, data + EP_INIT_LEN - 2 * EP_MAC_LEN, EP_MAC_LEN) != 0)
    {
      self->counters.dropped_mac++;
      return;
    }

  /* A resent message 1: send the same message 2 again. */
  e = g_bytes_new_static (data + 5, 32);
  handshake = g_hash_table_lookup (self->responders, e);
  if (handshake != NULL)
    {
      if (addresses_equal (handshake->address, from)
          && handshake->remote_index == ep_read_u32 (data + 1))
        {
          self->counters.duplicate_handshakes++;
          ep_session_manager_send_datagram (self, from, handshake->packet, handshake->packet_len);
        }
      else
        self->counters.dropped_replayed_handshake++;
      return;
    }

  if (g_hash_table_contains (self->seen_ephemerals, e))
    {
      self->counters.dropped_replayed_handshake++;
      return;
    }

  if (self->n_pending >= self->load_threshold && !mac2_valid (self, from, data))
    {
      send_cookie_reply (self, from, data);
      return;
    }

  if (self->n_pending >= self->max_pending)
    {
      self->counters.dropped_overload++;
      return;
    }

  if (resolve_simultaneous_open (self, from, data + 5, &session))
    {
      self->counters.duplicate_handshakes++;
      return;
    }

  handshake = g_new0 (EpHandshake, 1);
  handshake->noise = ep_noise_handshake_new (EP_NOISE_ROLE_RESPONDER,
                                             (const guint8 *) EP_SESSION_PROLOGUE,
                                             strlen (EP_SESSION_PROLOGUE), self->static_sk);
  if (!ep_noise_handshake_read_message (handshake->noise, data + 5, EP_INIT_NOISE_LEN,
                                        padding, sizeof padding, &n, NULL)
      || !ep_noise_handshake_write_message (handshake->noise, self->identity_payload,
                                            EP_IDENTITY_PAYLOAD_LEN, handshake->packet + 9,
                                            EP_RESPONSE_NOISE_LEN, &n, NULL))
    {
      self->counters.dropped_handshake++;
      ep_handshake_free (handshake);
      if (session != NULL)
        ep_session_manager_begin_handshake (self, session);
      return;
    }

  handshake->address = g_object_ref (from);
  handshake->remote_index = ep_read_u32 (data + 1);
  handshake->local_index = ep_session_manager_new_index (self, NULL, handshake);
  handshake->started_us = now;
  memcpy (handshake->peer_ephemeral, data + 5, 32);
  handshake->packet[0] = EP_PACKET_RESPONSE;
  ep_write_u32 (handshake->packet + 1, handshake->local_index);
  ep_write_u32 (handshake->packet + 5, handshake->remote_index);
  handshake->packet_len = EP_RESPONSE_LEN;

  g_hash_table_add (self->handshakes, handshake);
  g_hash_table_insert (self->responders, g_bytes_new (data + 5, 32), handshake);
  self->n_pending++;
  if (session != NULL)
    {
      handshake->session = g_object_ref (session);
      ep_session_set_handshake (session, handshake);
    }

  ep_session_manager_send_datagram (self, from, handshake->packet, handshake->packet_len);
}

static void
remember_ephemeral (EpSessionManager *self,
                    const guint8     *ephemeral,
                    gint64            now)
{
  gint64 *expiry;

  if (g_hash_table_size (self->seen_ephemerals) >= MAX_SEEN_EPHEMERALS)
    return;
  expiry = g_new (gint64, 1);
  *expiry = now + SEEN_EPHEMERAL_US;
  g_hash_table_insert (self->seen_ephemerals, g_bytes_new (ephemeral, 32), expiry);
}

void
ep_session_manager_handle_final (EpSessionManager *self,
                                 GSocketAddress   *from,
                                 const guint8     *data,
                                 gsize             len)
{
  g_autoptr(EpNoiseHandshake) work = NULL;
  g_autoptr(EpSession) session = NULL;
  EpIndexEntry *entry;
  EpHandshake *handshake;
  EpKeypair *keypair;
  guint8 payload[EP_IDENTITY_PAYLOAD_LEN];
  guint8 identity[32];
  guint8 digest[EP_MAC_LEN];
  gsize payload_len = 0;
  gint64 now = g_get_monotonic_time ();
  guint32 index;

  if (len != EP_FINAL_LEN)
    {
      self->counters.dropped_malformed++;
      return;
    }

  entry = g_hash_table_lookup (self->indices, GUINT_TO_POINTER (ep_read_u32 (data + 1)));
  if (entry == NULL)
    {
      self->counters.dropped_unknown_index++;
      return;
    }

  mac (self->mac1_key, sizeof self->mac1_key, data, len, digest);

  if (entry->session != NULL)
    {
      /* Message 3 again: our confirmation was lost. Only the very message
       * we accepted is answered; anything else is a replay or a forgery. */
      keypair = ep_session_find_keypair (entry->session, ep_read_u32 (data + 1));
      if (keypair != NULL && !keypair->initiator
          && sodium_memcmp (digest, keypair->final_digest, EP_MAC_LEN) == 0)
        {
          self->counters.duplicate_handshakes++;
          ep_session_send_keepalive (entry->session, keypair);
        }
      else
        self->counters.dropped_replayed_handshake++;
      return;
    }

  handshake = entry->handshake;
  if (handshake == NULL || !is_responder (handshake)
      || ep_noise_handshake_get_message_index (handshake->noise) != 2)
    {
      self->counters.dropped_unknown_index++;
      return;
    }

  work = ep_noise_handshake_copy (handshake->noise);
  if (!ep_noise_handshake_read_message (work, data + 5, EP_FINAL_NOISE_LEN, payload,
                                        sizeof payload, &payload_len, NULL)
      || !check_identity_payload (payload, payload_len,
                                  ep_noise_handshake_get_remote_static (work), identity)
      || !relay_peer_matches (from, identity))
    {
      self->counters.dropped_handshake++;
      return;
    }

  if (handshake->session != NULL)
    {
      session = g_object_ref (handshake->session);
      if (sodium_memcmp (identity, ep_session_peek_identity (session), 32) != 0)
        {
          self->counters.wrong_identity++;
          ep_session_manager_remove_handshake (self, handshake);
          if (ep_session_get_state (session) == EP_SESSION_STATE_CONNECTING)
            ep_session_fail (session,
                             g_error_new (EP_SESSION_ERROR, EP_SESSION_ERROR_WRONG_IDENTITY,
                                          _("The peer is not the contact we called")));
          return;
        }
    }
  else if ((session = ep_session_manager_lookup (self, identity)) != NULL)
    g_object_ref (session);
  else
    {
      session = ep_session_new_internal (self, identity, from);
      if (!ep_session_manager_emit_incoming (self, session))
        {
          self->counters.refused_incoming++;
          ep_session_manager_remove_handshake (self, handshake);
          ep_session_fail (session, g_error_new (EP_SESSION_ERROR, EP_SESSION_ERROR_REFUSED,
                                                 _("The incoming session was refused")));
          return;
        }
      /* The handler may have run anything, even closed the session. */
      if (!g_hash_table_contains (self->handshakes, handshake))
        return;
      if (ep_session_get_state (session) == EP_SESSION_STATE_CLOSED)
        {
          ep_session_manager_remove_handshake (self, handshake);
          return;
        }
      g_hash_table_insert (self->sessions, g_bytes_new (identity, 32), g_object_ref (session));
    }

  keypair = g_new0 (EpKeypair, 1);
  if (!ep_noise_handshake_split (work, &keypair->send, &keypair->receive))
    g_error ("a finished handshake did not split");
  ep_replay_window_init (&keypair->window);
  keypair->local_index = handshake->local_index;
  keypair->remote_index = handshake->remote_index;
  keypair->created_us = now;
  keypair->initiator = FALSE;
  keypair->confirmed = TRUE;
  memcpy (keypair->final_digest, digest, EP_MAC_LEN);

  ep_session_manager_set_index (self, handshake->local_index, session, NULL);
  handshake->local_index = 0;
  remember_ephemeral (self, handshake->peer_ephemeral, now);
  ep_session_manager_remove_handshake (self, handshake);

  ep_session_set_remote_static (session, ep_noise_handshake_get_remote_static (work));
  ep_session_set_address (session, from);
  self->counters.handshakes_completed++;

  index = keypair->local_index;
  ep_session_add_keypair (session, keypair);
  /* Sending on the new keys confirms them to the initiator. */
  keypair = ep_session_find_keypair (session, index);
  if (keypair != NULL)
    ep_session_send_keepalive (session, keypair);
}

/* Timers -------------------------------------------------------------- */

void
ep_session_manager_tick_handshakes (EpSessionManager *self,
                                    gint64            now)
{
  g_autoptr(GList) handshakes = g_hash_table_get_keys (self->handshakes);

  for (GList *l = handshakes; l != NULL; l = l->next)
    {
      EpHandshake *handshake = l->data;

      /* An earlier step may have removed it. */
      if (!g_hash_table_contains (self->handshakes, handshake))
        continue;

      if (now - handshake->started_us >= (gint64) self->timing.handshake_timeout_ms * 1000)
        {
          g_autoptr(EpSession) session = handshake->session ? g_object_ref (handshake->session)
                                                            : NULL;

          ep_session_manager_remove_handshake (self, handshake);
          if (session != NULL && ep_session_get_state (session) == EP_SESSION_STATE_CONNECTING)
            ep_session_fail (session, g_error_new (EP_SESSION_ERROR, EP_SESSION_ERROR_TIMED_OUT,
                                                   _("The peer did not answer")));
          continue;
        }

      if (!is_responder (handshake) && now >= handshake->next_retry_us)
        {
          send_init (self, handshake, now);
          handshake->retry_ms = MIN (handshake->retry_ms * 2, self->timing.handshake_retry_max_ms);
          handshake->next_retry_us = now + (gint64) handshake->retry_ms * 1000;
        }
    }
}
