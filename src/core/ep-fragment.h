/* ep-fragment.h — frames split across session packets, and put back together
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* A fragment is marker (1) ‖ message-local id (4, BE) ‖ index (2, BE) ‖
 * count (2, BE) ‖ chunk. Whole frames are JSON and start with '{'. */
#define EP_FRAGMENT_MARKER       0x01
#define EP_FRAGMENT_HEADER_SIZE  9
#define EP_FRAGMENT_MAX_COUNT    1024

#define EP_FRAGMENT_DEFAULT_MAX_PARTIALS 8
#define EP_FRAGMENT_DEFAULT_MAX_BYTES    (1024 * 1024)
#define EP_FRAGMENT_DEFAULT_TIMEOUT      (30 * G_USEC_PER_SEC)

#define EP_FRAGMENT_ERROR (ep_fragment_error_quark ())

typedef enum
{
  EP_FRAGMENT_ERROR_INVALID,       /* bad header, index, count or size */
  EP_FRAGMENT_ERROR_INCONSISTENT,  /* disagrees with fragments seen before */
  EP_FRAGMENT_ERROR_TOO_LARGE,
} EpFragmentError;

GQuark ep_fragment_error_quark (void);

typedef enum
{
  EP_FRAGMENT_RESULT_COMPLETE,    /* a whole frame is ready */
  EP_FRAGMENT_RESULT_PENDING,     /* kept; more fragments are needed */
  EP_FRAGMENT_RESULT_DUPLICATE,   /* seen before; nothing changed */
  EP_FRAGMENT_RESULT_REJECTED,    /* hostile or broken; count it */
} EpFragmentResult;

typedef struct
{
  guint64 completed;
  guint64 duplicates;
  guint64 rejected;
  guint64 expired;    /* partials dropped for age */
  guint64 evicted;    /* partials dropped to stay within the limits */
} EpFragmentCounters;

gboolean   ep_fragment_is_fragment (const guint8 *payload,
                                    gsize         len);
GPtrArray *ep_fragment_split       (GBytes       *frame,
                                    guint32       message_local_id,
                                    gsize         payload_budget,
                                    GError      **error);

#define EP_TYPE_FRAGMENT_ASSEMBLER (ep_fragment_assembler_get_type ())

G_DECLARE_FINAL_TYPE (EpFragmentAssembler, ep_fragment_assembler, EP, FRAGMENT_ASSEMBLER, GObject)

EpFragmentAssembler      *ep_fragment_assembler_new            (guint                max_partials,
                                                                gsize                max_bytes,
                                                                gint64               timeout);
EpFragmentResult          ep_fragment_assembler_push           (EpFragmentAssembler *self,
                                                                const guint8        *payload,
                                                                gsize                len,
                                                                gint64               now,
                                                                GBytes             **frame,
                                                                GError             **error);
guint                     ep_fragment_assembler_expire         (EpFragmentAssembler *self,
                                                                gint64               now);
guint                     ep_fragment_assembler_get_n_partials (EpFragmentAssembler *self);
gsize                     ep_fragment_assembler_get_buffered   (EpFragmentAssembler *self);
const EpFragmentCounters *ep_fragment_assembler_get_counters   (EpFragmentAssembler *self);

G_END_DECLS
