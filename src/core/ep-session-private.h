/* ep-session-private.h — what EpSession and EpSessionManager share
 *
 * Wire format (all integers little-endian). First bytes are all distinct
 * from 'd' (0x64), with which every KRPC message starts.
 *
 *   INIT      0x01 | sender index u32 | Noise msg 1 (e, zero padding) | mac1[16] | mac2[16]
 *   RESPONSE  0x02 | sender index u32 | receiver index u32 | Noise msg 2 (e, ee, s, es, identity)
 *   FINAL     0x03 | receiver index u32 | Noise msg 3 (s, se, identity)
 *   TRANSPORT 0x04 | receiver index u32 | counter u64 | ChaCha20-Poly1305 (header as AD)
 *   COOKIE    0x05 | receiver index u32 | nonce[24] | XChaCha20-Poly1305 (cookie[16])
 *
 * INIT is padded to the size of RESPONSE so that a forged source address
 * gains no amplification. The identity payload of messages 2 and 3 is
 * version 1 | Ed25519 key[32] | signature[64] over EP_SESSION_SIGN_CONTEXT
 * followed by the sender's Noise static key.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ep-noise.h"
#include "ep-relay-address.h"
#include "ep-replay-window.h"
#include "ep-session.h"
#include "ep-session-manager.h"

G_BEGIN_DECLS

#define EP_PACKET_INIT       0x01
#define EP_PACKET_RESPONSE   0x02
#define EP_PACKET_FINAL      0x03
#define EP_PACKET_TRANSPORT  0x04
#define EP_PACKET_COOKIE     0x05

#define EP_SESSION_PROLOGUE      "EncryptedP2P session v1"
#define EP_SESSION_SIGN_CONTEXT  "EncryptedP2P noise static key v1"
#define EP_SESSION_LABEL_MAC1    "EncryptedP2P mac1 v1"
#define EP_SESSION_LABEL_COOKIE  "EncryptedP2P cookie v1"

#define EP_MAC_LEN               16
#define EP_COOKIE_NONCE_LEN      24
#define EP_IDENTITY_PAYLOAD_LEN  (1 + 32 + 64)

#define EP_RESPONSE_NOISE_LEN    (32 + 32 + 16 + EP_IDENTITY_PAYLOAD_LEN + 16)
#define EP_RESPONSE_LEN          (1 + 4 + 4 + EP_RESPONSE_NOISE_LEN)
#define EP_INIT_NOISE_LEN        (EP_RESPONSE_LEN - 1 - 4 - 2 * EP_MAC_LEN)
#define EP_INIT_PADDING          (EP_INIT_NOISE_LEN - 32)
#define EP_INIT_LEN              (1 + 4 + EP_INIT_NOISE_LEN + 2 * EP_MAC_LEN)
#define EP_FINAL_NOISE_LEN       (32 + 16 + EP_IDENTITY_PAYLOAD_LEN + 16)
#define EP_FINAL_LEN             (1 + 4 + EP_FINAL_NOISE_LEN)
#define EP_TRANSPORT_HEADER_LEN  (1 + 4 + 8)
#define EP_TRANSPORT_MIN_LEN     (EP_TRANSPORT_HEADER_LEN + EP_NOISE_TAG_LEN)
#define EP_COOKIE_LEN            (1 + 4 + EP_COOKIE_NONCE_LEN + EP_MAC_LEN + 16)

/* A pair of transport keys from one finished handshake. */
typedef struct
{
  EpNoiseCipher   send;
  EpNoiseCipher   receive;
  EpReplayWindow  window;
  guint32         local_index;     /* the peer sends to this */
  guint32         remote_index;    /* we send to this */
  guint64         next_counter;
  gint64          created_us;
  gboolean        initiator;
  gboolean        confirmed;       /* the peer has shown it holds the keys */

  /* Initiator: message 3, resent until the peer confirms. */
  guint8          final_packet[EP_FINAL_LEN];
  gint64          final_next_us;
  guint           final_retry_ms;
  /* Responder: the message 3 we accepted, to answer a resent one. */
  guint8          final_digest[EP_MAC_LEN];
} EpKeypair;

/* A handshake in flight, owned by the manager. */
typedef struct
{
  EpNoiseHandshake *noise;
  EpSession        *session;       /* (nullable) (owned) the session it is for */
  GSocketAddress   *address;
  GPtrArray        *candidates;    /* (nullable) initiator: other addresses the INIT goes to */
  guint32           local_index;
  guint32           remote_index;
  gint64            started_us;
  gint64            next_retry_us;
  guint             retry_ms;
  guint8            packet[EP_RESPONSE_LEN];   /* the INIT or RESPONSE we sent */
  gsize             packet_len;
  guint8            peer_identity[32];         /* initiator: whom we call */
  guint8            mac1[EP_MAC_LEN];
  guint8            cookie[EP_MAC_LEN];
  gint64            cookie_us;                 /* 0: no cookie */
  guint8            peer_ephemeral[32];        /* responder */
} EpHandshake;

/* EpSession, for the manager. */
EpSession *ep_session_new_internal          (EpSessionManager *manager,
                                             const guint8     *identity,
                                             GSocketAddress   *address);
const guint8 *ep_session_peek_identity      (EpSession        *self);
void       ep_session_set_address           (EpSession        *self,
                                             GSocketAddress   *address);
void       ep_session_set_remote_static     (EpSession        *self,
                                             const guint8     *remote_static);
EpHandshake *ep_session_get_handshake       (EpSession        *self);
void       ep_session_set_handshake         (EpSession        *self,
                                             EpHandshake      *handshake);
void       ep_session_add_keypair           (EpSession        *self,
                                             EpKeypair        *keypair);
EpKeypair *ep_session_find_keypair          (EpSession        *self,
                                             guint32           local_index);
void       ep_session_handle_transport      (EpSession        *self,
                                             EpKeypair        *keypair,
                                             GSocketAddress   *from,
                                             const guint8     *packet,
                                             gsize             len);
void       ep_session_send_keepalive        (EpSession        *self,
                                             EpKeypair        *keypair);
void       ep_session_tick                  (EpSession        *self,
                                             gint64            now);
void       ep_session_fail                  (EpSession        *self,
                                             GError           *error);
void       ep_session_set_relay_budget      (EpSession        *self,
                                             gboolean          relay_budget);
gboolean   ep_session_can_rekey             (EpSession        *self);

/* EpSessionManager, for the session and the handshake code. */
const EpSessionTiming *ep_session_manager_peek_timing (EpSessionManager *self);
EpSessionManagerCounters *ep_session_manager_peek_counters (EpSessionManager *self);
gboolean   ep_session_manager_send_datagram (EpSessionManager *self,
                                             GSocketAddress   *to,
                                             const guint8     *data,
                                             gsize             len);
guint32    ep_session_manager_new_index     (EpSessionManager *self,
                                             EpSession        *session,
                                             EpHandshake      *handshake);
void       ep_session_manager_set_index     (EpSessionManager *self,
                                             guint32           index,
                                             EpSession        *session,
                                             EpHandshake      *handshake);
void       ep_session_manager_release_index (EpSessionManager *self,
                                             guint32           index);
void       ep_session_manager_begin_handshake (EpSessionManager *self,
                                               EpSession        *session);
void       ep_session_manager_begin_handshake_to (EpSessionManager *self,
                                                  EpSession        *session,
                                                  GSocketAddress   *address);
gboolean   ep_session_manager_probe         (EpSessionManager *self,
                                             EpSession        *session,
                                             GSocketAddress   *address);
void       ep_session_manager_session_closed (EpSessionManager *self,
                                              EpSession        *session);
void       ep_session_manager_handle_datagram (EpSessionManager *self,
                                               GSocketAddress   *from,
                                               const guint8     *data,
                                               gsize             len);

struct _EpSessionManager
{
  GObject                  parent_instance;

  EpUdp                   *udp;
  GMainContext            *context;
  GSource                 *tick_source;

  guint8                   identity_sk[64];
  guint8                   identity_pk[32];
  guint8                   static_sk[32];
  guint8                   static_pk[32];
  guint8                   identity_payload[EP_IDENTITY_PAYLOAD_LEN];
  guint8                   mac1_key[32];       /* checks INITs sent to us */
  guint8                   cookie_key[32];     /* seals the cookies we hand out */
  guint8                   cookie_secret[32];
  guint8                   cookie_secret_previous[32];
  gboolean                 has_previous_secret;
  gint64                   cookie_secret_us;

  GHashTable              *indices;            /* index → IndexEntry */
  GHashTable              *sessions;           /* identity GBytes → EpSession (owned) */
  GHashTable              *handshakes;         /* EpHandshake set (owned) */
  GHashTable              *responders;         /* initiator's ephemeral GBytes → EpHandshake */
  GHashTable              *seen_ephemerals;    /* GBytes → expiry, of finished handshakes */
  guint                    n_pending;          /* responder handshakes */
  guint                    load_threshold;
  guint                    max_pending;

  EpSessionTiming          timing;
  EpSessionManagerCounters counters;

  EpSessionRelayFunc       relay_func;
  gpointer                 relay_data;
};

typedef struct
{
  EpSession   *session;
  EpHandshake *handshake;
} EpIndexEntry;

/* ep-session-handshake.c: the handshake messages and the cookie. */
void       ep_keypair_free                  (EpKeypair        *keypair);
void       ep_handshake_free                (EpHandshake      *handshake);
void       ep_session_manager_remove_handshake (EpSessionManager *self,
                                                EpHandshake      *handshake);
void       ep_session_manager_handle_init     (EpSessionManager *self,
                                               GSocketAddress   *from,
                                               const guint8     *data,
                                               gsize             len);
void       ep_session_manager_handle_response (EpSessionManager *self,
                                               GSocketAddress   *from,
                                               const guint8     *data,
                                               gsize             len);
void       ep_session_manager_handle_final    (EpSessionManager *self,
                                               GSocketAddress   *from,
                                               const guint8     *data,
                                               gsize             len);
void       ep_session_manager_handle_cookie   (EpSessionManager *self,
                                               GSocketAddress   *from,
                                               const guint8     *data,
                                               gsize             len);
void       ep_session_manager_tick_handshakes (EpSessionManager *self,
                                               gint64            now);
void       ep_session_manager_init_keys       (EpSessionManager *self);
void       ep_session_manager_set_candidates  (EpSessionManager *self,
                                               EpHandshake      *handshake,
                                               GPtrArray        *addresses);
gboolean   ep_session_manager_emit_incoming   (EpSessionManager *self,
                                               EpSession        *session);

static inline void
ep_write_u32 (guint8  *p,
              guint32  v)
{
  for (guint i = 0; i < 4; i++)
    p[i] = (guint8) (v >> (8 * i));
}

static inline guint32
ep_read_u32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static inline void
ep_write_u64 (guint8  *p,
              guint64  v)
{
  for (guint i = 0; i < 8; i++)
    p[i] = (guint8) (v >> (8 * i));
}

static inline guint64
ep_read_u64 (const guint8 *p)
{
  guint64 v = 0;

  for (guint i = 0; i < 8; i++)
    v |= (guint64) p[i] << (8 * i);
  return v;
}

G_END_DECLS
