/* ep-presence.c — publishing our presence record, resolving our contacts'
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <string.h>

#include "ep-presence.h"

enum {
  SIGNAL_PUBLISHED,
  SIGNAL_RESOLVED,
  SIGNAL_FOUND,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

struct _EpPresence
{
  GObject                parent_instance;

  EpDht                 *dht;
  EpIdentity            *identity;
  char                  *seq_path;
  EpHlc                  hlc;
  EpHlcClockFunc         clock;
  gpointer               clock_data;
  gint64                 last_published;
  gint64                 lifetime;
  guint                  n_paths;
  guint                  republish_seconds;

  GPtrArray             *endpoints;         /* GInetSocketAddress */
  GPtrArray             *relays;            /* EpPresenceRelay */
  EpPresenceReachability reachability;
  gboolean               started;
  gboolean               publishing;
  gboolean               republish_pending;
  GSource               *republish_timer;
  GSource               *republish_soon;    /* changes made together publish once */
  GCancellable          *cancellable;       /* of the automatic publishes */

  GHashTable            *last_seqs;         /* GBytes key → gint64* */
  EpPresenceCounters     counters;
};

G_DEFINE_TYPE (EpPresence, ep_presence, G_TYPE_OBJECT)

G_DEFINE_QUARK (ep-presence-error-quark, ep_presence_error)

static void republish (EpPresence *self);

static gint64
now_us (EpPresence *self)
{
  return self->clock != NULL ? self->clock (self->clock_data) : g_get_real_time ();
}

static GBytes *
salt_bytes (void)
{
  return g_bytes_new_static (EP_PRESENCE_SALT, EP_PRESENCE_SALT_LEN);
}

/* The seq file ------------------------------------------------------------ */

static gboolean
read_seq_file (const char  *path,
               gint64      *out,
               GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local = NULL;
  gsize len = 0;
  char *end = NULL;
  gint64 value;

  *out = 0;
  if (!g_file_get_contents (path, &contents, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, EP_PRESENCE_ERROR, EP_PRESENCE_ERROR_SEQ_FILE,
                   _("Cannot read the presence sequence file: %s"), local->message);
      return FALSE;
    }
  g_strchomp (contents);
  errno = 0;
  value = g_ascii_strtoll (contents, &end, 10);
  if (len == 0 || len > 32 || errno != 0 || end == contents || *end != '\0' || value < 0)
    {
      g_set_error (error, EP_PRESENCE_ERROR, EP_PRESENCE_ERROR_SEQ_FILE,
                   _("The presence sequence file “%s” is damaged; it must hold one "
                     "non-negative number"), path);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

static gboolean
write_seq_file (const char  *path,
                gint64       value,
                GError     **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT "\n", value);

  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local))
    {
      g_set_error (error, EP_PRESENCE_ERROR, EP_PRESENCE_ERROR_SEQ_FILE,
                   _("Cannot write the presence sequence file: %s"), local->message);
      return FALSE;
    }
  return TRUE;
}

/* GObject ---------------------------------------------------------------- */

static void
ep_presence_dispose (GObject *object)
{
  EpPresence *self = EP_PRESENCE (object);

  ep_presence_stop (self);
  g_clear_object (&self->dht);
  g_clear_object (&self->identity);

  G_OBJECT_CLASS (ep_presence_parent_class)->dispose (object);
}

static void
ep_presence_finalize (GObject *object)
{
  EpPresence *self = EP_PRESENCE (object);

  g_clear_pointer (&self->seq_path, g_free);
  g_clear_pointer (&self->endpoints, g_ptr_array_unref);
  g_clear_pointer (&self->relays, g_ptr_array_unref);
  g_clear_pointer (&self->last_seqs, g_hash_table_unref);

  G_OBJECT_CLASS (ep_presence_parent_class)->finalize (object);
}

static void
ep_presence_class_init (EpPresenceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ep_presence_dispose;
  object_class->finalize = ep_presence_finalize;

  /**
   * EpPresence::published:
   * @seq: the seq of the record now stored
   * @n_stored: on how many nodes it was seen stored
   *
   * One of our records was published (by any publish, automatic or not).
   */
  signals[SIGNAL_PUBLISHED] =
    g_signal_new ("published", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_UINT);

  /**
   * EpPresence::resolved:
   * @key: (type GLib.Bytes): the contact's identity key
   * @seq: the record's seq, now the contact's last accepted one
   * @record: (type gpointer): the const EpPresenceRecord, valid during the emission
   *
   * A contact's record was resolved.
   */
  signals[SIGNAL_RESOLVED] =
    g_signal_new ("resolved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 3, G_TYPE_BYTES, G_TYPE_INT64, G_TYPE_POINTER);

  /**
   * EpPresence::found:
   * @key: (type GLib.Bytes): the contact's identity key
   * @record: (type gpointer): the const EpPresenceRecord, valid during the emission
   *
   * While a resolution goes on: a valid record newer than any this lookup
   * saw before has come in. A lookup ends only when its paths did, which
   * can take seconds when nodes are gone; a caller in a hurry (calling a
   * contact) may use the record now. ::resolved still tells the newest.
   */
  signals[SIGNAL_FOUND] =
    g_signal_new ("found", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_BYTES, G_TYPE_POINTER);
}

static void
ep_presence_init (EpPresence *self)
{
  self->lifetime = EP_PRESENCE_DEFAULT_LIFETIME;
  self->n_paths = EP_DHT_DEFAULT_PATHS;
  self->republish_seconds = EP_PRESENCE_REPUBLISH_SECONDS;
  self->endpoints = g_ptr_array_new_with_free_func (g_object_unref);
  self->relays = g_ptr_array_new_with_free_func ((GDestroyNotify) ep_presence_relay_free);
  self->last_seqs = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                           (GDestroyNotify) g_bytes_unref, g_free);
}

/**
 * ep_presence_new:
 * @dht: the node to publish and look up through
 * @identity: (nullable): whose record we publish; without one, EpPresence
 *   only resolves
 * @seq_path: (nullable): the seq file (EP_PRESENCE_SEQ_FILE_NAME in the
 *   profile, say)
 *
 * Returns: (transfer full): a new EpPresence, or %NULL if the seq file is
 *   damaged or unreadable
 */
EpPresence *
ep_presence_new (EpDht       *dht,
                 EpIdentity  *identity,
                 const char  *seq_path,
                 GError     **error)
{
  g_autoptr(EpPresence) self = NULL;
  gint64 last = 0;

  g_return_val_if_fail (EP_IS_DHT (dht), NULL);
  g_return_val_if_fail (identity == NULL || EP_IS_IDENTITY (identity), NULL);

  if (seq_path != NULL && !read_seq_file (seq_path, &last, error))
    return NULL;

  self = g_object_new (EP_TYPE_PRESENCE, NULL);
  self->dht = g_object_ref (dht);
  self->identity = identity != NULL ? g_object_ref (identity) : NULL;
  self->seq_path = g_strdup (seq_path);
  self->last_published = last;
  ep_hlc_init (&self->hlc, last, NULL, NULL);
  return g_steal_pointer (&self);
}

EpDht *
ep_presence_get_dht (EpPresence *self)
{
  g_return_val_if_fail (EP_IS_PRESENCE (self), NULL);
  return self->dht;
}

EpIdentity *
ep_presence_get_identity (EpPresence *self)
{
  g_return_val_if_fail (EP_IS_PRESENCE (self), NULL);
  return self->identity;
}

void
ep_presence_set_paths (EpPresence *self,
                       guint       n_paths)
{
  g_return_if_fail (EP_IS_PRESENCE (self));
  self->n_paths = CLAMP (n_paths, 1, 8);
}

/* Takes effect at the next ep_presence_start(). */
void
ep_presence_set_republish_interval (EpPresence *self,
                                    guint       seconds)
{
  g_return_if_fail (EP_IS_PRESENCE (self));
  g_return_if_fail (seconds > 0);
  self->republish_seconds = seconds;
}

void
ep_presence_set_lifetime (EpPresence *self,
                          gint64      seconds)
{
  g_return_if_fail (EP_IS_PRESENCE (self));
  g_return_if_fail (seconds > 0 && seconds <= EP_PRESENCE_MAX_LIFETIME);
  self->lifetime = seconds;
}

void
ep_presence_set_clock (EpPresence     *self,
                       EpHlcClockFunc  clock,
                       gpointer        clock_data)
{
  g_return_if_fail (EP_IS_PRESENCE (self));
  self->clock = clock;
  self->clock_data = clock_data;
  self->hlc.clock = clock;
  self->hlc.clock_data = clock_data;
}

gint64
ep_presence_get_last_published_seq (EpPresence *self)
{
  g_return_val_if_fail (EP_IS_PRESENCE (self), 0);
  return self->last_published;
}

const EpPresenceCounters *
ep_presence_get_counters (EpPresence *self)
{
  g_return_val_if_fail (EP_IS_PRESENCE (self), NULL);
  return &self->counters;
}

/* Publishing -------------------------------------------------------------- */

typedef struct
{
  EpPresenceRecord *record;
  guint             n_stored;
} PublishData;

static void
publish_data_free (PublishData *data)
{
  g_clear_pointer (&data->record, ep_presence_record_free);
  g_free (data);
}

static void
on_put_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EpPresence *self = g_task_get_source_object (task);
  PublishData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!ep_dht_put_signed_finish (EP_DHT (source), result, &data->n_stored, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  self->last_published = MAX (self->last_published, data->record->seq);
  g_signal_emit (self, signals[SIGNAL_PUBLISHED], 0, data->record->seq, data->n_stored);
  g_task_return_pointer (task, g_steal_pointer (&data->record),
                         (GDestroyNotify) ep_presence_record_free);
}

/**
 * ep_presence_publish_async:
 *
 * Signs a new record with the current endpoints (the seq file is updated
 * first) and stores it.
 */
void
ep_presence_publish_async (EpPresence          *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) salt = salt_bytes ();
  PublishData *data;
  EpDhtSignedPut put = { 0 };

  g_return_if_fail (EP_IS_PRESENCE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ep_presence_publish_async);
  data = g_new0 (PublishData, 1);
  g_task_set_task_data (task, data, (GDestroyNotify) publish_data_free);

  if (self->identity == NULL)
    {
      g_task_return_new_error (task, EP_PRESENCE_ERROR, EP_PRESENCE_ERROR_FAILED,
                               _("There is no identity to publish a presence record for"));
      return;
    }
  if (self->endpoints->len == 0)
    {
      g_task_return_new_error (task, EP_PRESENCE_ERROR, EP_PRESENCE_ERROR_NO_ENDPOINTS,
                               _("There is no endpoint to publish yet"));
      return;
    }

  data->record = ep_presence_record_new_signed_full (self->identity, &self->hlc,
                                                     self->endpoints, self->relays,
                                                     self->reachability,
                                                     now_us (self) / G_USEC_PER_SEC,
                                                     self->lifetime, &error);
  if (data->record == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* Kept before it leaves: a seq is never signed twice. */
  if (self->seq_path != NULL && !write_seq_file (self->seq_path, ep_hlc_get_last (&self->hlc),
                                                 &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  put.v = data->record->v;
  put.k = data->record->key;
  put.sig = data->record->signature;
  put.salt = salt;
  put.seq = data->record->seq;
  put.has_cas = self->last_published > 0;
  put.cas = self->last_published;
  put.n_paths = self->n_paths;
  ep_dht_put_signed_async (self->dht, &put, cancellable, on_put_done, g_steal_pointer (&task));
}

EpPresenceRecord *
ep_presence_publish_finish (EpPresence    *self,
                            GAsyncResult  *result,
                            guint         *n_stored,
                            GError       **error)
{
  PublishData *data;
  EpPresenceRecord *record;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ep_presence_publish_async,
                        NULL);

  data = g_task_get_task_data (G_TASK (result));
  record = g_task_propagate_pointer (G_TASK (result), error);
  if (record != NULL && n_stored != NULL)
    *n_stored = data->n_stored;
  return record;
}

static void
on_republished (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(EpPresence) self = user_data;
  g_autoptr(EpPresenceRecord) record = NULL;
  g_autoptr(GError) error = NULL;
  guint n = 0;

  record = ep_presence_publish_finish (self, result, &n, &error);
  if (record == NULL)
    g_debug ("publishing our presence record failed: %s", error->message);
  else
    g_debug ("presence record seq %" G_GINT64_FORMAT " stored on %u nodes", record->seq, n);

  self->publishing = FALSE;
  if (self->republish_pending && self->started)
    republish (self);
}

static void
republish (EpPresence *self)
{
  if (self->publishing)
    {
      self->republish_pending = TRUE;
      return;
    }
  self->republish_pending = FALSE;
  if (self->endpoints->len == 0 || self->identity == NULL)
    return;
  self->publishing = TRUE;
  ep_presence_publish_async (self, self->cancellable, on_republished, g_object_ref (self));
}

static gboolean
on_republish_soon (gpointer user_data)
{
  EpPresence *self = user_data;

  g_clear_pointer (&self->republish_soon, g_source_unref);
  republish (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_republish (EpPresence *self)
{
  if (!self->started || self->republish_soon != NULL)
    return;
  self->republish_soon = g_idle_source_new ();
  g_source_set_callback (self->republish_soon, on_republish_soon, self, NULL);
  g_source_set_static_name (self->republish_soon, "[ep-presence] republish");
  g_source_attach (self->republish_soon, g_main_context_get_thread_default ());
}

static gboolean
on_republish_timer (gpointer user_data)
{
  republish (user_data);
  return G_SOURCE_CONTINUE;
}

void
ep_presence_start (EpPresence *self)
{
  g_return_if_fail (EP_IS_PRESENCE (self));

  if (self->started)
    return;
  self->started = TRUE;
  self->cancellable = g_cancellable_new ();
  self->republish_timer = g_timeout_source_new_seconds (self->republish_seconds);
  g_source_set_callback (self->republish_timer, on_republish_timer, self, NULL);
  g_source_attach (self->republish_timer, g_main_context_get_thread_default ());
  republish (self);
}

void
ep_presence_stop (EpPresence *self)
{
  g_return_if_fail (EP_IS_PRESENCE (self));

  self->started = FALSE;
  self->republish_pending = FALSE;
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->republish_timer != NULL)
    {
      g_source_destroy (self->republish_timer);
      g_clear_pointer (&self->republish_timer, g_source_unref);
    }
  if (self->republish_soon != NULL)
    {
      g_source_destroy (self->republish_soon);
      g_clear_pointer (&self->republish_soon, g_source_unref);
    }
}

static gboolean
same_endpoints (GPtrArray *a,
                GPtrArray *b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    {
      GInetSocketAddress *x = a->pdata[i], *y = b->pdata[i];

      if (g_inet_socket_address_get_port (x) != g_inet_socket_address_get_port (y)
          || !g_inet_address_equal (g_inet_socket_address_get_address (x),
                                    g_inet_socket_address_get_address (y)))
        return FALSE;
    }
  return TRUE;
}

void
ep_presence_set_endpoints (EpPresence *self,
                           GPtrArray  *endpoints)
{
  g_autoptr(GPtrArray) copy = NULL;

  g_return_if_fail (EP_IS_PRESENCE (self));
  g_return_if_fail (endpoints != NULL);

  copy = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < endpoints->len; i++)
    {
      g_return_if_fail (G_IS_INET_SOCKET_ADDRESS (endpoints->pdata[i]));
      g_ptr_array_add (copy, g_object_ref (endpoints->pdata[i]));
    }
  if (same_endpoints (copy, self->endpoints))
    return;
  g_ptr_array_unref (self->endpoints);
  self->endpoints = g_steal_pointer (&copy);
  schedule_republish (self);
}

/**
 * ep_presence_set_reachability:
 *
 * What we know of our own reachability, published with the endpoints;
 * republishes at once when started and it changed.
 */
void
ep_presence_set_reachability (EpPresence             *self,
                              EpPresenceReachability  reachability)
{
  g_return_if_fail (EP_IS_PRESENCE (self));

  if (self->reachability == reachability)
    return;
  self->reachability = reachability;
  schedule_republish (self);
}

EpPresenceReachability
ep_presence_get_reachability (EpPresence *self)
{
  g_return_val_if_fail (EP_IS_PRESENCE (self), EP_PRESENCE_REACHABILITY_UNKNOWN);

  return self->reachability;
}

/**
 * ep_presence_republish:
 *
 * Publishes again now (once the one under way is done) when started: after
 * a network change the nodes holding our record may be out of reach, or
 * the record may have been lost.
 */
void
ep_presence_republish (EpPresence *self)
{
  g_return_if_fail (EP_IS_PRESENCE (self));

  schedule_republish (self);
}

/**
 * ep_presence_set_relays:
 * @relays: (element-type EpPresenceRelay): the relays we keep a session
 *   with; the first %EP_PRESENCE_MAX_RELAYS are published
 *
 * Republishes at once when started and they changed.
 */
void
ep_presence_set_relays (EpPresence *self,
                        GPtrArray  *relays)
{
  g_autoptr(GPtrArray) copy = NULL;
  gboolean same;

  g_return_if_fail (EP_IS_PRESENCE (self));
  g_return_if_fail (relays != NULL);

  copy = g_ptr_array_new_with_free_func ((GDestroyNotify) ep_presence_relay_free);
  for (guint i = 0; i < relays->len && i < EP_PRESENCE_MAX_RELAYS; i++)
    {
      EpPresenceRelay *relay = relays->pdata[i];

      g_ptr_array_add (copy, ep_presence_relay_new (relay->key, relay->address));
    }
  same = copy->len == self->relays->len;
  for (guint i = 0; same && i < copy->len; i++)
    {
      EpPresenceRelay *x = copy->pdata[i], *y = self->relays->pdata[i];

      same = memcmp (x->key, y->key, 32) == 0
             && g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (x->address))
                == g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (y->address))
             && g_inet_address_equal (
                  g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (x->address)),
                  g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (y->address)));
    }
  if (same)
    return;
  g_ptr_array_unref (self->relays);
  self->relays = g_steal_pointer (&copy);
  schedule_republish (self);
}

/* Resolving -------------------------------------------------------------- */

gint64
ep_presence_get_last_seq (EpPresence   *self,
                          const guint8  key[32])
{
  g_autoptr(GBytes) k = NULL;
  gint64 *seq;

  g_return_val_if_fail (EP_IS_PRESENCE (self), 0);

  k = g_bytes_new (key, 32);
  seq = g_hash_table_lookup (self->last_seqs, k);
  return seq != NULL ? *seq : 0;
}

/* Only ever raises it: a contact's seq never goes back. */
void
ep_presence_set_last_seq (EpPresence   *self,
                          const guint8  key[32],
                          gint64        seq)
{
  g_return_if_fail (EP_IS_PRESENCE (self));

  if (seq <= ep_presence_get_last_seq (self, key))
    return;
  g_hash_table_replace (self->last_seqs, g_bytes_new (key, 32), g_memdup2 (&seq, sizeof seq));
}

typedef struct
{
  EpPresence         *presence;       /* unowned: the task holds it */
  guint8              key[32];
  EpPresenceChooser  *chooser;
  EpPresenceCounters  counters;
  gint64              found_seq;      /* the newest ::found so far */
} ResolveData;

static void
resolve_data_free (ResolveData *data)
{
  g_clear_pointer (&data->chooser, ep_presence_chooser_free);
  g_free (data);
}

static EpDhtItemVerdict
on_item (EpDht               *dht,
         const EpDhtValue    *value,
         const EpDhtNodeInfo *from,
         gpointer             user_data)
{
  ResolveData *data = user_data;
  EpPresenceItem item = { 0 };
  gsize salt_len = 0;

  item.k = value->k;
  item.k_len = 32;
  item.salt = value->salt != NULL ? g_bytes_get_data (value->salt, &salt_len) : NULL;
  item.salt_len = salt_len;
  item.seq = value->seq;
  item.sig = value->sig;
  item.sig_len = 64;
  item.v = g_bytes_get_data (value->v, &item.v_len);

  switch (ep_presence_chooser_offer (data->chooser, &item))
    {
    case EP_PRESENCE_REJECT_NONE:
      {
        const EpPresenceRecord *best = ep_presence_chooser_get_best (data->chooser);

        if (best != NULL && best->seq == item.seq && best->seq > data->found_seq)
          {
            g_autoptr(GBytes) key = g_bytes_new (data->key, 32);

            data->found_seq = best->seq;
            g_signal_emit (data->presence, signals[SIGNAL_FOUND], 0, key, best);
          }
      }
      return EP_DHT_ITEM_VALID;
    /* No honest node hands these out: it checks signatures, stores under
     * SHA-1 (k ‖ salt), and omits items below the seq we asked for. */
    case EP_PRESENCE_REJECT_BAD_SIGNATURE:
    case EP_PRESENCE_REJECT_WRONG_TARGET:
    case EP_PRESENCE_REJECT_ROLLBACK:
      return EP_DHT_ITEM_FORGED;
    /* Signed by the contact: an honest node may well hold it. */
    case EP_PRESENCE_REJECT_EXPIRED:
    case EP_PRESENCE_REJECT_FROM_THE_FUTURE:
    case EP_PRESENCE_REJECT_MALFORMED:
    case EP_PRESENCE_N_REJECTIONS:
    default:
      return EP_DHT_ITEM_STALE;
    }
}

static char *
describe_rejections (const EpPresenceCounters *counters)
{
  GString *s = g_string_new (NULL);
  guint total = 0;

  for (guint r = 1; r < EP_PRESENCE_N_REJECTIONS; r++)
    {
      if (counters->rejected[r] == 0)
        continue;
      total += counters->rejected[r];
      g_string_append_printf (s, "%s%s: %u", s->len > 0 ? ", " : "",
                              ep_presence_rejection_to_string (r), counters->rejected[r]);
    }
  {
    g_autofree char *list = g_string_free (s, FALSE);

    return g_strdup_printf (ngettext ("The %u record found was rejected (%s)",
                                      "All %u records found were rejected (%s)", total),
                            total, list);
  }
}

static void
on_get_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EpPresence *self = g_task_get_source_object (task);
  ResolveData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpPresenceRecord) best = NULL;

  data->counters = *ep_presence_chooser_get_counters (data->chooser);
  ep_presence_counters_add (&self->counters, &data->counters);

  if (!ep_dht_get_mutable_finish (EP_DHT (source), result, NULL, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  best = ep_presence_chooser_steal_best (data->chooser);
  if (best == NULL)
    {
      if (data->counters.offered == 0)
        g_task_return_new_error (task, EP_PRESENCE_ERROR, EP_PRESENCE_ERROR_NOT_FOUND,
                                 _("No presence record was found for this contact; "
                                   "they may not have been online lately"));
      else
        {
          g_autofree char *message = describe_rejections (&data->counters);

          g_task_return_new_error (task, EP_PRESENCE_ERROR, EP_PRESENCE_ERROR_ALL_REJECTED,
                                   "%s", message);
        }
      return;
    }

  ep_presence_set_last_seq (self, data->key, best->seq);
  {
    g_autoptr(GBytes) key = g_bytes_new (data->key, 32);

    g_signal_emit (self, signals[SIGNAL_RESOLVED], 0, key, best->seq, best);
  }
  g_task_return_pointer (task, g_steal_pointer (&best), (GDestroyNotify) ep_presence_record_free);
}

/**
 * ep_presence_resolve_async:
 * @key: the contact's Ed25519 identity key
 *
 * Looks up the contact's record over the disjoint paths and keeps the
 * newest valid one at or above the last seq accepted for them.
 */
void
ep_presence_resolve_async (EpPresence          *self,
                           const guint8         key[32],
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GBytes) salt = salt_bytes ();
  ResolveData *data;
  guint8 target[20];
  gint64 min_seq;

  g_return_if_fail (EP_IS_PRESENCE (self));
  g_return_if_fail (key != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ep_presence_resolve_async);
  data = g_new0 (ResolveData, 1);
  data->presence = self;
  memcpy (data->key, key, 32);
  g_task_set_task_data (task, data, (GDestroyNotify) resolve_data_free);

  ep_presence_target (key, target);
  min_seq = ep_presence_get_last_seq (self, key);
  data->chooser = ep_presence_chooser_new (target, min_seq, now_us (self) / G_USEC_PER_SEC);
  ep_dht_get_mutable_async (self->dht, target, salt, min_seq, self->n_paths, on_item, data,
                            NULL, cancellable, on_get_done, g_steal_pointer (&task));
}

EpPresenceRecord *
ep_presence_resolve_finish (EpPresence          *self,
                            GAsyncResult        *result,
                            EpPresenceCounters  *counters,
                            GError             **error)
{
  ResolveData *data;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ep_presence_resolve_async,
                        NULL);

  data = g_task_get_task_data (G_TASK (result));
  if (counters != NULL)
    *counters = data->counters;
  return g_task_propagate_pointer (G_TASK (result), error);
}
