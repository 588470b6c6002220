/* ep-bencode.h — strict bencode codec
 *
 * Decoding never trusts a length: every value is checked against the input
 * end, integers against overflow, nesting against a depth limit and the
 * number of values against a count limit. Every decoded value keeps the raw
 * byte span it was read from, so signatures (BEP 44) can be checked over the
 * exact bytes a peer sent.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EP_BENCODE_ERROR (ep_bencode_error_quark ())

typedef enum
{
  EP_BENCODE_ERROR_TRUNCATED,      /* input ends inside a value */
  EP_BENCODE_ERROR_SYNTAX,         /* bad byte, leading zero, "-0", missing ':' … */
  EP_BENCODE_ERROR_OVERFLOW,       /* integer or length does not fit */
  EP_BENCODE_ERROR_TOO_DEEP,       /* nesting past the depth limit */
  EP_BENCODE_ERROR_TOO_LARGE,      /* more values than the count limit, or input too long */
  EP_BENCODE_ERROR_TRAILING,       /* bytes after the top-level value */
  EP_BENCODE_ERROR_KEY_ORDER,      /* dictionary keys unsorted or repeated */
} EpBencodeError;

GQuark ep_bencode_error_quark (void);

typedef enum
{
  EP_BENC_INT,
  EP_BENC_BYTES,
  EP_BENC_LIST,
  EP_BENC_DICT,
} EpBencType;

typedef struct
{
  guint max_depth;     /* default 32 */
  guint max_values;    /* default 4096 */
  gsize max_input;     /* default 65536 */
  gboolean allow_unsorted_keys; /* default FALSE; repeated keys are always refused */
} EpBencLimits;

/* A decoded document owns a copy of the input and every value in it. */
typedef struct _EpBencDoc EpBencDoc;
typedef struct _EpBenc    EpBenc;

EpBencDoc     *ep_benc_doc_parse        (const guint8        *data,
                                         gsize                len,
                                         const EpBencLimits  *limits,   /* nullable: defaults */
                                         GError             **error);
void           ep_benc_doc_free         (EpBencDoc           *doc);
const EpBenc  *ep_benc_doc_root         (const EpBencDoc     *doc);

EpBencType     ep_benc_type             (const EpBenc        *value);
/* The exact bytes this value was decoded from, prefix and terminator included. */
const guint8  *ep_benc_raw              (const EpBenc        *value,
                                         gsize               *len);

/* Typed accessors return FALSE/NULL/0 when @value is NULL or of another type. */
gboolean       ep_benc_get_int          (const EpBenc        *value,
                                         gint64              *out);
const guint8  *ep_benc_get_bytes        (const EpBenc        *value,
                                         gsize               *len);
/* Bytes as a NUL-terminated string, or NULL if they contain a NUL; borrowed. */
const char    *ep_benc_get_string       (const EpBenc        *value);
guint          ep_benc_list_length      (const EpBenc        *value);
const EpBenc  *ep_benc_list_nth         (const EpBenc        *value,
                                         guint                index);
guint          ep_benc_dict_size        (const EpBenc        *value);
const EpBenc  *ep_benc_dict_lookup      (const EpBenc        *value,
                                         const char          *key);
const EpBenc  *ep_benc_dict_lookup_len  (const EpBenc        *value,
                                         const guint8        *key,
                                         gsize                key_len);
/* Iteration in wire order: key bytes and value of entry @index. */
const EpBenc  *ep_benc_dict_nth         (const EpBenc        *value,
                                         guint                index,
                                         const guint8       **key,
                                         gsize               *key_len);

/* Convenience: dict entry typed; NULL / FALSE when missing or of another type. */
const guint8  *ep_benc_dict_get_bytes   (const EpBenc        *dict,
                                         const char          *key,
                                         gsize               *len);
gboolean       ep_benc_dict_get_int     (const EpBenc        *dict,
                                         const char          *key,
                                         gint64              *out);

/* Encoding: append to a GByteArray. The caller writes dictionary keys in
 * sorted order (bencode requires it). */
void           ep_benc_put_int          (GByteArray          *out,
                                         gint64               value);
void           ep_benc_put_bytes        (GByteArray          *out,
                                         const void          *data,
                                         gsize                len);
void           ep_benc_put_string       (GByteArray          *out,
                                         const char          *str);
void           ep_benc_put_list_begin   (GByteArray          *out);
void           ep_benc_put_dict_begin   (GByteArray          *out);
void           ep_benc_put_end          (GByteArray          *out);
/* Already-encoded bytes, e.g. a value copied verbatim from a peer. */
void           ep_benc_put_raw          (GByteArray          *out,
                                         const void          *data,
                                         gsize                len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpBencDoc, ep_benc_doc_free)

G_END_DECLS
