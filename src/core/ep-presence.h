/* ep-presence.h — publishing our presence record, resolving our contacts'
 *
 * Publishing: our record (the endpoints the caller gives, our X25519 static
 * key) is signed with the identity key and stored on the k closest nodes of
 * EP_DHT_DEFAULT_PATHS disjoint lookups, with `cas` against the seq we last
 * wrote (ep_dht_put_signed_async: nodes that drop it are penalised and
 * passed). Once started, it is published again whenever the endpoints
 * change and every EP_PRESENCE_REPUBLISH_SECONDS.
 *
 * The seq comes from an EpHlc whose last value lives in the seq file (a
 * decimal number and a newline, mode 0600, replaced atomically) given at
 * construction: it is written before the record leaves, so a restart never
 * reuses a seq. Without a seq file the clock starts from the wall clock and
 * is not kept.
 *
 * Resolving: a collect-all get over d disjoint paths hands every record
 * offered to an EpPresenceChooser; forged records (bad signature, another
 * key) and records below the seq we asked for get their node penalised.
 * The lowest acceptable seq per contact is the last one accepted: EpPresence
 * remembers it in memory (ep_presence_get_last_seq); callers persist it
 * (say from the `resolved` signal) and give it back with
 * ep_presence_set_last_seq() on the next start.
 *
 * Signals: `published` (seq, n_stored) after each successful publish;
 * `resolved` (key, seq, record) after each successful resolution; `found`
 * (key, record) during one, as soon as a newer valid record comes in.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "ep-dht.h"
#include "ep-identity.h"
#include "ep-presence-record.h"

G_BEGIN_DECLS

#define EP_PRESENCE_REPUBLISH_SECONDS (30 * 60)
#define EP_PRESENCE_SEQ_FILE_NAME     "presence-seq"

#define EP_PRESENCE_ERROR (ep_presence_error_quark ())

typedef enum
{
  EP_PRESENCE_ERROR_NOT_FOUND,       /* no node offered a record */
  EP_PRESENCE_ERROR_ALL_REJECTED,    /* records were offered, none valid: counts in the message */
  EP_PRESENCE_ERROR_NO_ENDPOINTS,    /* publishing with no endpoint to publish */
  EP_PRESENCE_ERROR_SEQ_FILE,        /* the seq file cannot be read or written */
  EP_PRESENCE_ERROR_FAILED,
} EpPresenceError;

#define EP_TYPE_PRESENCE (ep_presence_get_type ())

G_DECLARE_FINAL_TYPE (EpPresence, ep_presence, EP, PRESENCE, GObject)

GQuark              ep_presence_error_quark      (void);

/* @identity: (nullable): without one only resolving works.
 * @seq_path: (nullable): the seq file; read here, an absent file is seq 0. */
EpPresence         *ep_presence_new              (EpDht                *dht,
                                                  EpIdentity           *identity,
                                                  const char           *seq_path,
                                                  GError              **error);

EpDht              *ep_presence_get_dht          (EpPresence           *self);
EpIdentity         *ep_presence_get_identity     (EpPresence           *self);
/* Disjoint paths for lookups and puts (default EP_DHT_DEFAULT_PATHS). */
void                ep_presence_set_paths        (EpPresence           *self,
                                                  guint                 n_paths);
/* Default EP_PRESENCE_REPUBLISH_SECONDS; for tests. */
void                ep_presence_set_republish_interval (EpPresence     *self,
                                                  guint                 seconds);
void                ep_presence_set_lifetime     (EpPresence           *self,
                                                  gint64                seconds);
/* The clock for timestamps, expiry checks and the HLC (tests); %NULL for
 * the wall clock. Returns µs since the Unix epoch. */
void                ep_presence_set_clock        (EpPresence           *self,
                                                  EpHlcClockFunc        clock,
                                                  gpointer              clock_data);

/* (element-type GInetSocketAddress): our endpoints; copied. Republishes at
 * once when started and they changed. */
void                ep_presence_set_endpoints    (EpPresence           *self,
                                                  GPtrArray            *endpoints);
/* (element-type EpPresenceRelay): the relays we use (at most
 * EP_PRESENCE_MAX_RELAYS are published); copied. Republishes at once when
 * started and they changed. */
void                ep_presence_set_relays       (EpPresence           *self,
                                                  GPtrArray            *relays);
void                ep_presence_set_reachability (EpPresence           *self,
                                                  EpPresenceReachability reachability);
EpPresenceReachability ep_presence_get_reachability (EpPresence        *self);
void                ep_presence_republish        (EpPresence           *self);
/* Publishes now, then on endpoint changes and every 30 minutes. */
void                ep_presence_start            (EpPresence           *self);
void                ep_presence_stop             (EpPresence           *self);
gint64              ep_presence_get_last_published_seq (EpPresence     *self);

void                ep_presence_publish_async    (EpPresence           *self,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
/* Returns: (transfer full): the record published; @n_stored: (optional). */
EpPresenceRecord   *ep_presence_publish_finish   (EpPresence           *self,
                                                  GAsyncResult         *result,
                                                  guint                *n_stored,
                                                  GError              **error);

gint64              ep_presence_get_last_seq     (EpPresence           *self,
                                                  const guint8          key[32]);
void                ep_presence_set_last_seq     (EpPresence           *self,
                                                  const guint8          key[32],
                                                  gint64                seq);

void                ep_presence_resolve_async    (EpPresence           *self,
                                                  const guint8          key[32],
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
/* Returns: (transfer full): the newest valid record; @counters: (optional)
 * what the lookup saw, also on failure. */
EpPresenceRecord   *ep_presence_resolve_finish   (EpPresence           *self,
                                                  GAsyncResult         *result,
                                                  EpPresenceCounters   *counters,
                                                  GError              **error);

/* Totals over every resolution so far. */
const EpPresenceCounters *ep_presence_get_counters (EpPresence         *self);

G_END_DECLS
