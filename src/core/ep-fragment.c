/* ep-fragment.c — frames split across session packets, and put back together
 *
 * A frame too large for one packet is cut into chunks of equal size (the
 * last one shorter), each sent with the frame's message-local id, its index
 * and the count. The assembler, one per session, keeps partial frames
 * within fixed bounds: at most max-partials at once, max-bytes buffered in
 * all, each dropped after a timeout; the oldest is evicted to make room.
 * Fragments may come in any order and more than once. A fragment that
 * disagrees with what came before (another count, another chunk size, other
 * bytes at an index) poisons its frame: the partial is dropped and the
 * fragment rejected. Duplicates of a recently completed frame are
 * recognised and dropped, so a retransmission does not start a new partial.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "ep-fragment.h"
#include "ep-frame.h"

#define RECENT_SIZE 64

typedef struct
{
  guint32   id;
  guint16   count;
  guint16   received;
  gsize     chunk_size;   /* of every chunk but the last; 0 until known */
  gsize     bytes;
  gint64    started;
  GBytes  **chunks;
} Partial;

struct _EpFragmentAssembler
{
  GObject             parent_instance;

  GPtrArray          *partials;           /* Partial, oldest first */
  guint32             recent[RECENT_SIZE];
  guint               n_recent;
  guint               recent_next;
  guint               max_partials;
  gsize               max_bytes;
  gsize               buffered;
  gint64              timeout;
  EpFragmentCounters  counters;
};

G_DEFINE_FINAL_TYPE (EpFragmentAssembler, ep_fragment_assembler, G_TYPE_OBJECT)
G_DEFINE_QUARK (ep-fragment-error-quark, ep_fragment_error)

static void
partial_free (Partial *partial)
{
  for (guint i = 0; i < partial->count; i++)
    g_clear_pointer (&partial->chunks[i], g_bytes_unref);
  g_free (partial->chunks);
  g_free (partial);
}

/**
 * ep_fragment_is_fragment:
 *
 * Returns: whether a session payload is a fragment rather than a whole frame
 */
gboolean
ep_fragment_is_fragment (const guint8 *payload,
                         gsize         len)
{
  return len > 0 && payload[0] == EP_FRAGMENT_MARKER;
}

/**
 * ep_fragment_split:
 * @frame: an encoded frame
 * @message_local_id: unique among this sender's frames in flight in the session
 * @payload_budget: the largest payload one packet may carry
 *
 * Returns: (transfer container) (element-type GBytes): @frame itself when it
 *   fits in @payload_budget, otherwise its fragments, each within it
 */
GPtrArray *
ep_fragment_split (GBytes   *frame,
                   guint32   message_local_id,
                   gsize     payload_budget,
                   GError  **error)
{
  GPtrArray *payloads = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (frame, &len);
  gsize chunk_size;
  gsize count;

  if (len <= payload_budget)
    {
      g_ptr_array_add (payloads, g_bytes_ref (frame));
      return payloads;
    }

  if (payload_budget <= EP_FRAGMENT_HEADER_SIZE)
    {
      g_ptr_array_unref (payloads);
      g_set_error_literal (error, EP_FRAGMENT_ERROR, EP_FRAGMENT_ERROR_INVALID,
                           "The payload budget leaves no room for a fragment");
      return NULL;
    }

  chunk_size = payload_budget - EP_FRAGMENT_HEADER_SIZE;
  count = (len + chunk_size - 1) / chunk_size;
  if (count > EP_FRAGMENT_MAX_COUNT || len > EP_FRAME_MAX_SIZE)
    {
      g_ptr_array_unref (payloads);
      g_set_error_literal (error, EP_FRAGMENT_ERROR, EP_FRAGMENT_ERROR_TOO_LARGE,
                           "The frame is too large to be sent");
      return NULL;
    }

  for (gsize i = 0; i < count; i++)
    {
      gsize offset = i * chunk_size;
      gsize n = MIN (chunk_size, len - offset);
      guint8 *out = g_malloc (EP_FRAGMENT_HEADER_SIZE + n);

      out[0] = EP_FRAGMENT_MARKER;
      out[1] = message_local_id >> 24;
      out[2] = message_local_id >> 16;
      out[3] = message_local_id >> 8;
      out[4] = message_local_id;
      out[5] = i >> 8;
      out[6] = i;
      out[7] = count >> 8;
      out[8] = count;
      memcpy (out + EP_FRAGMENT_HEADER_SIZE, data + offset, n);
      g_ptr_array_add (payloads, g_bytes_new_take (out, EP_FRAGMENT_HEADER_SIZE + n));
    }

  return payloads;
}

static void
drop_partial (EpFragmentAssembler *self,
              guint                index)
{
  Partial *partial = g_ptr_array_index (self->partials, index);

  self->buffered -= partial->bytes;
  g_ptr_array_remove_index (self->partials, index);
}

static gboolean
recently_completed (EpFragmentAssembler *self,
                    guint32              id)
{
  for (guint i = 0; i < self->n_recent; i++)
    if (self->recent[i] == id)
      return TRUE;
  return FALSE;
}

static EpFragmentResult
reject (EpFragmentAssembler  *self,
        GError              **error,
        int                   code,
        const char           *why)
{
  self->counters.rejected++;
  g_set_error (error, EP_FRAGMENT_ERROR, code, "Fragment rejected: %s", why);
  return EP_FRAGMENT_RESULT_REJECTED;
}

/**
 * ep_fragment_assembler_expire:
 * @now: monotonic time, µs
 *
 * Drops partial frames older than the timeout.
 *
 * Returns: how many were dropped
 */
guint
ep_fragment_assembler_expire (EpFragmentAssembler *self,
                              gint64               now)
{
  guint dropped = 0;

  g_return_val_if_fail (EP_IS_FRAGMENT_ASSEMBLER (self), 0);

  for (guint i = 0; i < self->partials->len;)
    {
      Partial *partial = g_ptr_array_index (self->partials, i);

      if (now - partial->started >= self->timeout)
        {
          drop_partial (self, i);
          dropped++;
        }
      else
        i++;
    }
  self->counters.expired += dropped;
  return dropped;
}

static GBytes *
assemble (Partial *partial)
{
  guint8 *out = g_malloc (partial->bytes);
  gsize offset = 0;

  for (guint i = 0; i < partial->count; i++)
    {
      gsize n = 0;
      const guint8 *chunk = g_bytes_get_data (partial->chunks[i], &n);

      memcpy (out + offset, chunk, n);
      offset += n;
    }
  return g_bytes_new_take (out, offset);
}

/**
 * ep_fragment_assembler_push:
 * @payload: (array length=len): one decrypted session payload that is a fragment
 * @now: monotonic time, µs
 * @frame: (out) (transfer full) (optional): the whole frame on COMPLETE
 *
 * Returns: what became of the fragment; @error is set on REJECTED
 */
EpFragmentResult
ep_fragment_assembler_push (EpFragmentAssembler  *self,
                            const guint8         *payload,
                            gsize                 len,
                            gint64                now,
                            GBytes              **frame,
                            GError              **error)
{
  Partial *partial = NULL;
  guint partial_index = 0;
  const guint8 *chunk;
  gsize chunk_len;
  guint32 id;
  guint index, count;
  gboolean last;

  g_return_val_if_fail (EP_IS_FRAGMENT_ASSEMBLER (self), EP_FRAGMENT_RESULT_REJECTED);

  if (frame != NULL)
    *frame = NULL;

  ep_fragment_assembler_expire (self, now);

  if (payload == NULL || len <= EP_FRAGMENT_HEADER_SIZE || payload[0] != EP_FRAGMENT_MARKER)
    return reject (self, error, EP_FRAGMENT_ERROR_INVALID, "bad header");

  id = (guint32) payload[1] << 24 | (guint32) payload[2] << 16 |
       (guint32) payload[3] << 8 | payload[4];
  index = (guint) payload[5] << 8 | payload[6];
  count = (guint) payload[7] << 8 | payload[8];
  chunk = payload + EP_FRAGMENT_HEADER_SIZE;
  chunk_len = len - EP_FRAGMENT_HEADER_SIZE;
  last = index + 1 == count;

  if (count < 2 || count > EP_FRAGMENT_MAX_COUNT || index >= count)
    return reject (self, error, EP_FRAGMENT_ERROR_INVALID, "bad index or count");

  if (recently_completed (self, id))
    {
      self->counters.duplicates++;
      return EP_FRAGMENT_RESULT_DUPLICATE;
    }

  for (guint i = 0; i < self->partials->len; i++)
    if (((Partial *) g_ptr_array_index (self->partials, i))->id == id)
      {
        partial = g_ptr_array_index (self->partials, i);
        partial_index = i;
        break;
      }

  if (partial != NULL)
    {
      const char *why = NULL;

      if (partial->count != count)
        why = "count differs";
      else if (partial->chunks[index] != NULL)
        {
          gsize n = 0;
          const guint8 *seen = g_bytes_get_data (partial->chunks[index], &n);

          if (n == chunk_len && memcmp (seen, chunk, n) == 0)
            {
              self->counters.duplicates++;
              return EP_FRAGMENT_RESULT_DUPLICATE;
            }
          why = "overlaps other bytes";
        }
      else if (partial->chunk_size != 0 &&
               (last ? chunk_len > partial->chunk_size : chunk_len != partial->chunk_size))
        why = "chunk size differs";
      else if (!last && partial->chunks[count - 1] != NULL &&
               g_bytes_get_size (partial->chunks[count - 1]) > chunk_len)
        why = "chunk size differs";

      if (why != NULL)
        {
          drop_partial (self, partial_index);
          return reject (self, error, EP_FRAGMENT_ERROR_INCONSISTENT, why);
        }
    }

  /* Bounds: no frame beyond the largest; no more than max-bytes held. */
  if (!last && (gsize) (count - 1) * chunk_len > EP_FRAME_MAX_SIZE)
    {
      if (partial != NULL)
        drop_partial (self, partial_index);
      return reject (self, error, EP_FRAGMENT_ERROR_TOO_LARGE, "frame too large");
    }
  if ((partial != NULL ? partial->bytes : 0) + chunk_len > MIN (self->max_bytes, EP_FRAME_MAX_SIZE))
    {
      if (partial != NULL)
        drop_partial (self, partial_index);
      return reject (self, error, EP_FRAGMENT_ERROR_TOO_LARGE, "frame too large");
    }

  while (self->buffered + chunk_len > self->max_bytes ||
         (partial == NULL && self->partials->len >= self->max_partials))
    {
      /* Evict the oldest other partial. */
      guint victim = (partial != NULL && partial_index == 0) ? 1 : 0;

      if (victim >= self->partials->len)
        break;
      if (partial != NULL && victim < partial_index)
        partial_index--;
      drop_partial (self, victim);
      self->counters.evicted++;
    }
  if (self->buffered + chunk_len > self->max_bytes)
    {
      if (partial != NULL)
        drop_partial (self, partial_index);
      return reject (self, error, EP_FRAGMENT_ERROR_TOO_LARGE, "over the memory limit");
    }

  if (partial == NULL)
    {
      partial = g_new0 (Partial, 1);
      partial->id = id;
      partial->count = count;
      partial->started = now;
      partial->chunks = g_new0 (GBytes *, count);
      g_ptr_array_add (self->partials, partial);
      partial_index = self->partials->len - 1;
    }

  partial->chunks[index] = g_bytes_new (chunk, chunk_len);
  if (!last)
    partial->chunk_size = chunk_len;
  partial->received++;
  partial->bytes += chunk_len;
  self->buffered += chunk_len;

  if (partial->received < partial->count)
    return EP_FRAGMENT_RESULT_PENDING;

  if (frame != NULL)
    *frame = assemble (partial);
  self->recent[self->recent_next] = id;
  self->recent_next = (self->recent_next + 1) % RECENT_SIZE;
  self->n_recent = MIN (self->n_recent + 1, RECENT_SIZE);
  drop_partial (self, partial_index);
  self->counters.completed++;
  return EP_FRAGMENT_RESULT_COMPLETE;
}

guint
ep_fragment_assembler_get_n_partials (EpFragmentAssembler *self)
{
  g_return_val_if_fail (EP_IS_FRAGMENT_ASSEMBLER (self), 0);
  return self->partials->len;
}

/** ep_fragment_assembler_get_buffered: Returns: bytes held in partial frames */
gsize
ep_fragment_assembler_get_buffered (EpFragmentAssembler *self)
{
  g_return_val_if_fail (EP_IS_FRAGMENT_ASSEMBLER (self), 0);
  return self->buffered;
}

const EpFragmentCounters *
ep_fragment_assembler_get_counters (EpFragmentAssembler *self)
{
  g_return_val_if_fail (EP_IS_FRAGMENT_ASSEMBLER (self), NULL);
  return &self->counters;
}

static void
ep_fragment_assembler_finalize (GObject *object)
{
  EpFragmentAssembler *self = EP_FRAGMENT_ASSEMBLER (object);

  g_clear_pointer (&self->partials, g_ptr_array_unref);

  G_OBJECT_CLASS (ep_fragment_assembler_parent_class)->finalize (object);
}

static void
ep_fragment_assembler_class_init (EpFragmentAssemblerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ep_fragment_assembler_finalize;
}

static void
ep_fragment_assembler_init (EpFragmentAssembler *self)
{
  self->partials = g_ptr_array_new_with_free_func ((GDestroyNotify) partial_free);
}

/**
 * ep_fragment_assembler_new:
 * @max_partials: frames in reassembly at once, 0 for the default (8)
 * @max_bytes: bytes held in all of them, 0 for the default (1 MiB)
 * @timeout: µs a partial frame may wait for its last fragment, 0 for 30 s
 *
 * Returns: (transfer full): an assembler, for one session
 */
EpFragmentAssembler *
ep_fragment_assembler_new (guint  max_partials,
                           gsize  max_bytes,
                           gint64 timeout)
{
  EpFragmentAssembler *self = g_object_new (EP_TYPE_FRAGMENT_ASSEMBLER, NULL);

  self->max_partials = max_partials > 0 ? max_partials : EP_FRAGMENT_DEFAULT_MAX_PARTIALS;
  self->max_bytes = max_bytes > 0 ? max_bytes : EP_FRAGMENT_DEFAULT_MAX_BYTES;
  self->timeout = timeout > 0 ? timeout : EP_FRAGMENT_DEFAULT_TIMEOUT;
  return self;
}
