/* ep-bencode.c — strict bencode codec
 *
 * One pass over the input with an explicit stack (no recursion, so nesting
 * cannot overflow the C stack). Values are nodes in one growing array;
 * the children of every list and dictionary are contiguous runs of node
 * indices in a second array, so lookups are O(1) by position and
 * O(log n) by key in a sorted dictionary.
 *
 * Limits given as 0 mean "use the default".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "ep-bencode.h"

#define DEFAULT_MAX_DEPTH  32
#define DEFAULT_MAX_VALUES 4096
#define DEFAULT_MAX_INPUT  65536

G_DEFINE_QUARK (ep-bencode-error-quark, ep_bencode_error)

struct _EpBenc
{
  const EpBencDoc *doc;
  EpBencType       type;
  gboolean         sorted;    /* dictionaries: keys strictly ascending */
  gsize            raw_off;
  gsize            raw_len;
  union
  {
    gint64 i;
    struct
    {
      gsize off;              /* first content byte in doc->data */
      gsize len;
    } bytes;
    struct
    {
      guint first;            /* index into doc->kids */
      guint count;            /* list items, or dictionary entries */
    } kids;
  } u;
};

struct _EpBencDoc
{
  guint8 *data;               /* copy of the input */
  gsize   len;
  /* Same size as data. The content of every byte string is copied here one
   * byte earlier (over its ':'), which leaves room for a NUL right after it
   * without touching any other value: get_string returns it in place. */
  char   *text;
  EpBenc *nodes;
  guint   n_nodes;
  guint  *kids;               /* dictionaries: key, value, key, value… */
  guint   n_kids;
};

typedef struct
{
  guint node;                 /* index of the open list or dictionary */
  guint kids_start;           /* where its children begin on the pending stack */
} Frame;

typedef struct
{
  EpBencDoc          *doc;
  const EpBencLimits *limits;
  gsize               pos;
  guint               nodes_cap;
  guint               kids_cap;
  guint              *pending;   /* children of the open containers */
  guint               n_pending;
  guint               pending_cap;
  Frame              *frames;
  guint               n_frames;
  guint               frames_cap;
} Parser;

static gboolean
fail (GError         **error,
      EpBencodeError   code,
      gsize            pos,
      const char      *what)
{
  g_set_error (error, EP_BENCODE_ERROR, code, "Invalid bencode at byte %" G_GSIZE_FORMAT ": %s",
               pos, what);
  return FALSE;
}

/* Grows an array to hold one more element; the caller has bounded the total. */
static gpointer
grow (gpointer  array,
      guint    *cap,
      guint     needed,
      gsize     elem_size)
{
  if (needed <= *cap)
    return array;
  *cap = MAX (MAX (*cap * 2, needed), 16);
  return g_realloc_n (array, *cap, elem_size);
}

static EpBenc *
new_node (Parser      *p,
          EpBencType   type,
          gsize        raw_off,
          GError     **error,
          guint       *index)
{
  EpBencDoc *doc = p->doc;
  EpBenc *node;

  if (doc->n_nodes >= p->limits->max_values)
    {
      fail (error, EP_BENCODE_ERROR_TOO_LARGE, raw_off, "too many values");
      return NULL;
    }

  doc->nodes = grow (doc->nodes, &p->nodes_cap, doc->n_nodes + 1, sizeof (EpBenc));
  *index = doc->n_nodes++;
  node = &doc->nodes[*index];
  memset (node, 0, sizeof *node);
  node->doc = doc;
  node->type = type;
  node->raw_off = raw_off;
  return node;
}

/* Decimal digits of a length or an integer magnitude, without leading zeros. */
static gboolean
read_digits (Parser   *p,
             guint8    stop,
             guint64   max,
             guint64  *out,
             GError  **error)
{
  const guint8 *data = p->doc->data;
  gsize len = p->doc->len;
  gsize start = p->pos;
  guint64 value = 0;

  while (p->pos < len && data[p->pos] >= '0' && data[p->pos] <= '9')
    {
      guint digit = data[p->pos] - '0';

      if (p->pos > start && value == 0)
        return fail (error, EP_BENCODE_ERROR_SYNTAX, start, "leading zero");
      if (value > (max - digit) / 10)
        return fail (error, EP_BENCODE_ERROR_OVERFLOW, start, "number too large");
      value = value * 10 + digit;
      p->pos++;
    }

  if (p->pos >= len)
    return fail (error, EP_BENCODE_ERROR_TRUNCATED, p->pos, "input ends inside a number");
  if (p->pos == start)
    return fail (error, EP_BENCODE_ERROR_SYNTAX, p->pos, "digit expected");
  if (data[p->pos] != stop)
    return fail (error, EP_BENCODE_ERROR_SYNTAX, p->pos,
                 stop == ':' ? "':' expected after a length" : "'e' expected after an integer");
  p->pos++;

  *out = value;
  return TRUE;
}

static gboolean
parse_int (Parser  *p,
           EpBenc  *node,
           GError **error)
{
  const guint8 *data = p->doc->data;
  gboolean negative = FALSE;
  guint64 magnitude;

  p->pos++;  /* 'i' */
  if (p->pos < p->doc->len && data[p->pos] == '-')
    {
      negative = TRUE;
      p->pos++;
    }

  if (!read_digits (p, 'e', negative ? (guint64) G_MAXINT64 + 1 : (guint64) G_MAXINT64,
                    &magnitude, error))
    return FALSE;

  if (negative && magnitude == 0)
    return fail (error, EP_BENCODE_ERROR_SYNTAX, node->raw_off, "negative zero");

  if (!negative)
    node->u.i = (gint64) magnitude;
  else if (magnitude == (guint64) G_MAXINT64 + 1)
    node->u.i = G_MININT64;
  else
    node->u.i = -(gint64) magnitude;

  return TRUE;
}

static gboolean
parse_bytes (Parser  *p,
             EpBenc  *node,
             GError **error)
{
  EpBencDoc *doc = p->doc;
  guint64 length;

  if (!read_digits (p, ':', G_MAXUINT64, &length, error))
    return FALSE;

  /* Compared with what is left, never used to allocate. */
  if (length > doc->len - p->pos)
    return fail (error, EP_BENCODE_ERROR_TRUNCATED, node->raw_off,
                 "byte string longer than the input");

  node->u.bytes.off = p->pos;
  node->u.bytes.len = (gsize) length;
  memcpy (doc->text + p->pos - 1, doc->data + p->pos, (gsize) length);
  doc->text[p->pos - 1 + length] = '\0';
  p->pos += (gsize) length;
  return TRUE;
}

static int
compare_keys (const EpBencDoc *doc,
              guint            a,
              guint            b)
{
  const EpBenc *ka = &doc->nodes[a];
  const EpBenc *kb = &doc->nodes[b];
  gsize n = MIN (ka->u.bytes.len, kb->u.bytes.len);
  int cmp = memcmp (doc->data + ka->u.bytes.off, doc->data + kb->u.bytes.off, n);

  if (cmp != 0)
    return cmp;
  return (ka->u.bytes.len > kb->u.bytes.len) - (ka->u.bytes.len < kb->u.bytes.len);
}

static int
compare_key_indices (gconstpointer a,
                     gconstpointer b,
                     gpointer      user_data)
{
  return compare_keys (user_data, *(const guint *) a, *(const guint *) b);
}

/* Only for dictionaries accepted out of order: repeated keys are still refused. */
static gboolean
has_repeated_key (const EpBencDoc *doc,
                  const guint     *kids,
                  guint            n_entries)
{
  g_autofree guint *keys = g_new (guint, MAX (n_entries, 1));
  gboolean repeated = FALSE;

  for (guint i = 0; i < n_entries; i++)
    keys[i] = kids[2 * i];
  g_qsort_with_data (keys, n_entries, sizeof (guint), compare_key_indices, (gpointer) doc);
  for (guint i = 1; i < n_entries && !repeated; i++)
    repeated = compare_keys (doc, keys[i - 1], keys[i]) == 0;

  return repeated;
}

/* A value was completed: it becomes a child of the innermost open container. */
static gboolean
add_child (Parser  *p,
           guint    index,
           GError **error)
{
  EpBencDoc *doc = p->doc;
  Frame *frame;
  EpBenc *parent;
  guint position;

  if (p->n_frames == 0)
    return TRUE;

  frame = &p->frames[p->n_frames - 1];
  parent = &doc->nodes[frame->node];
  position = p->n_pending - frame->kids_start;

  if (parent->type == EP_BENC_DICT && position % 2 == 0)
    {
      if (doc->nodes[index].type != EP_BENC_BYTES)
        return fail (error, EP_BENCODE_ERROR_SYNTAX, doc->nodes[index].raw_off,
                     "dictionary key is not a byte string");
      if (position >= 2)
        {
          int cmp = compare_keys (doc, p->pending[p->n_pending - 2], index);

          if (cmp == 0)
            return fail (error, EP_BENCODE_ERROR_KEY_ORDER, doc->nodes[index].raw_off,
                         "repeated dictionary key");
          if (cmp > 0)
            {
              if (!p->limits->allow_unsorted_keys)
                return fail (error, EP_BENCODE_ERROR_KEY_ORDER, doc->nodes[index].raw_off,
                             "dictionary keys out of order");
              parent->sorted = FALSE;
            }
        }
    }

  p->pending = grow (p->pending, &p->pending_cap, p->n_pending + 1, sizeof (guint));
  p->pending[p->n_pending++] = index;
  return TRUE;
}

static gboolean
close_container (Parser  *p,
                 GError **error)
{
  EpBencDoc *doc = p->doc;
  Frame *frame = &p->frames[p->n_frames - 1];
  EpBenc *node = &doc->nodes[frame->node];
  guint n = p->n_pending - frame->kids_start;
  guint index = frame->node;

  if (node->type == EP_BENC_DICT)
    {
      if (n % 2 != 0)
        return fail (error, EP_BENCODE_ERROR_SYNTAX, p->pos, "dictionary key without a value");
      if (!node->sorted && has_repeated_key (doc, p->pending + frame->kids_start, n / 2))
        return fail (error, EP_BENCODE_ERROR_KEY_ORDER, node->raw_off, "repeated dictionary key");
      node->u.kids.count = n / 2;
    }
  else
    node->u.kids.count = n;

  p->pos++;  /* 'e' */
  node->raw_len = p->pos - node->raw_off;

  doc->kids = grow (doc->kids, &p->kids_cap, doc->n_kids + n, sizeof (guint));
  node->u.kids.first = doc->n_kids;
  if (n > 0)
    memcpy (doc->kids + doc->n_kids, p->pending + frame->kids_start, n * sizeof (guint));
  doc->n_kids += n;

  p->n_pending = frame->kids_start;
  p->n_frames--;
  return add_child (p, index, error);
}

static gboolean
parse_value (Parser  *p,
             GError **error)
{
  EpBencDoc *doc = p->doc;
  guint8 c = doc->data[p->pos];
  gsize start = p->pos;
  EpBenc *node;
  guint index;

  if (c == 'l' || c == 'd')
    {
      if (p->n_frames >= p->limits->max_depth)
        return fail (error, EP_BENCODE_ERROR_TOO_DEEP, start, "nested too deep");
      node = new_node (p, c == 'l' ? EP_BENC_LIST : EP_BENC_DICT, start, error, &index);
      if (node == NULL)
        return FALSE;
      node->sorted = TRUE;
      p->frames = grow (p->frames, &p->frames_cap, p->n_frames + 1, sizeof (Frame));
      p->frames[p->n_frames].node = index;
      p->frames[p->n_frames].kids_start = p->n_pending;
      p->n_frames++;
      p->pos++;
      return TRUE;
    }

  if (c == 'i')
    {
      node = new_node (p, EP_BENC_INT, start, error, &index);
      if (node == NULL || !parse_int (p, node, error))
        return FALSE;
    }
  else if (c >= '0' && c <= '9')
    {
      node = new_node (p, EP_BENC_BYTES, start, error, &index);
      if (node == NULL || !parse_bytes (p, node, error))
        return FALSE;
    }
  else
    return fail (error, EP_BENCODE_ERROR_SYNTAX, start, "unexpected byte");

  /* new_node may have moved the array: look the node up again. */
  doc->nodes[index].raw_len = p->pos - start;
  return add_child (p, index, error);
}

/**
 * ep_benc_doc_parse:
 * @data: (array length=len): the encoded bytes, from the network
 * @len: their length
 * @limits: (nullable): limits, %NULL (or 0 in a field) for the defaults
 * @error: return location for an #EpBencodeError
 *
 * Decodes exactly one value that must span the whole input.
 *
 * Returns: (transfer full) (nullable): the document
 */
EpBencDoc *
ep_benc_doc_parse (const guint8        *data,
                   gsize                len,
                   const EpBencLimits  *limits,
                   GError             **error)
{
  g_autoptr(EpBencDoc) doc = NULL;
  EpBencLimits effective = { DEFAULT_MAX_DEPTH, DEFAULT_MAX_VALUES, DEFAULT_MAX_INPUT, FALSE };
  Parser p = { 0 };
  gboolean ok = TRUE;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (limits != NULL)
    {
      if (limits->max_depth > 0)
        effective.max_depth = limits->max_depth;
      if (limits->max_values > 0)
        effective.max_values = MIN (limits->max_values, G_MAXUINT / 2);
      if (limits->max_input > 0)
        effective.max_input = limits->max_input;
      effective.allow_unsorted_keys = limits->allow_unsorted_keys;
    }

  if (len > effective.max_input)
    {
      fail (error, EP_BENCODE_ERROR_TOO_LARGE, effective.max_input, "input too long");
      return NULL;
    }
  if (len == 0)
    {
      fail (error, EP_BENCODE_ERROR_TRUNCATED, 0, "empty input");
      return NULL;
    }

  doc = g_new0 (EpBencDoc, 1);
  doc->len = len;
  doc->data = g_malloc (len * 2);
  doc->text = (char *) doc->data + len;
  memcpy (doc->data, data, len);

  p.doc = doc;
  p.limits = &effective;

  do
    {
      if (p.pos >= len)
        ok = fail (error, EP_BENCODE_ERROR_TRUNCATED, p.pos, "input ends inside a list or dictionary");
      else if (doc->data[p.pos] == 'e' && p.n_frames > 0)
        ok = close_container (&p, error);
      else
        ok = parse_value (&p, error);
    }
  while (ok && p.n_frames > 0);

  if (ok && p.pos != len)
    ok = fail (error, EP_BENCODE_ERROR_TRAILING, p.pos, "bytes after the value");

  g_free (p.pending);
  g_free (p.frames);

  if (!ok)
    return NULL;

  return g_steal_pointer (&doc);
}

void
ep_benc_doc_free (EpBencDoc *doc)
{
  if (doc == NULL)
    return;
  g_free (doc->data);
  g_free (doc->nodes);
  g_free (doc->kids);
  g_free (doc);
}

const EpBenc *
ep_benc_doc_root (const EpBencDoc *doc)
{
  g_return_val_if_fail (doc != NULL, NULL);
  return &doc->nodes[0];
}

EpBencType
ep_benc_type (const EpBenc *value)
{
  g_return_val_if_fail (value != NULL, EP_BENC_INT);
  return value->type;
}

const guint8 *
ep_benc_raw (const EpBenc *value,
             gsize        *len)
{
  if (value == NULL)
    {
      if (len != NULL)
        *len = 0;
      return NULL;
    }
  if (len != NULL)
    *len = value->raw_len;
  return value->doc->data + value->raw_off;
}

gboolean
ep_benc_get_int (const EpBenc *value,
                 gint64       *out)
{
  if (value == NULL || value->type != EP_BENC_INT)
    return FALSE;
  if (out != NULL)
    *out = value->u.i;
  return TRUE;
}

const guint8 *
ep_benc_get_bytes (const EpBenc *value,
                   gsize        *len)
{
  if (value == NULL || value->type != EP_BENC_BYTES)
    {
      if (len != NULL)
        *len = 0;
      return NULL;
    }
  if (len != NULL)
    *len = value->u.bytes.len;
  return value->doc->data + value->u.bytes.off;
}

const char *
ep_benc_get_string (const EpBenc *value)
{
  const char *text;

  if (value == NULL || value->type != EP_BENC_BYTES)
    return NULL;
  text = value->doc->text + value->u.bytes.off - 1;
  if (memchr (text, '\0', value->u.bytes.len) != NULL)
    return NULL;
  return text;
}

guint
ep_benc_list_length (const EpBenc *value)
{
  if (value == NULL || value->type != EP_BENC_LIST)
    return 0;
  return value->u.kids.count;
}

const EpBenc *
ep_benc_list_nth (const EpBenc *value,
                  guint         index)
{
  if (value == NULL || value->type != EP_BENC_LIST || index >= value->u.kids.count)
    return NULL;
  return &value->doc->nodes[value->doc->kids[value->u.kids.first + index]];
}

guint
ep_benc_dict_size (const EpBenc *value)
{
  if (value == NULL || value->type != EP_BENC_DICT)
    return 0;
  return value->u.kids.count;
}

static int
compare_key_with (const EpBencDoc *doc,
                  guint            node,
                  const guint8    *key,
                  gsize            key_len)
{
  const EpBenc *k = &doc->nodes[node];
  gsize n = MIN (k->u.bytes.len, key_len);
  int cmp = n > 0 ? memcmp (doc->data + k->u.bytes.off, key, n) : 0;

  if (cmp != 0)
    return cmp;
  return (k->u.bytes.len > key_len) - (k->u.bytes.len < key_len);
}

const EpBenc *
ep_benc_dict_lookup_len (const EpBenc *value,
                         const guint8 *key,
                         gsize         key_len)
{
  const EpBencDoc *doc;
  const guint *entries;

  if (value == NULL || value->type != EP_BENC_DICT || (key == NULL && key_len > 0))
    return NULL;
  /* An empty dict may have no kids table at all: no pointer arithmetic on NULL. */
  if (value->u.kids.count == 0)
    return NULL;

  doc = value->doc;
  entries = doc->kids + value->u.kids.first;

  if (value->sorted)
    {
      guint lo = 0, hi = value->u.kids.count;

      while (lo < hi)
        {
          guint mid = lo + (hi - lo) / 2;
          int cmp = compare_key_with (doc, entries[2 * mid], key, key_len);

          if (cmp == 0)
            return &doc->nodes[entries[2 * mid + 1]];
          if (cmp < 0)
            lo = mid + 1;
          else
            hi = mid;
        }
      return NULL;
    }

  for (guint i = 0; i < value->u.kids.count; i++)
    if (compare_key_with (doc, entries[2 * i], key, key_len) == 0)
      return &doc->nodes[entries[2 * i + 1]];
  return NULL;
}

const EpBenc *
ep_benc_dict_lookup (const EpBenc *value,
                     const char   *key)
{
  if (key == NULL)
    return NULL;
  return ep_benc_dict_lookup_len (value, (const guint8 *) key, strlen (key));
}

const EpBenc *
ep_benc_dict_nth (const EpBenc   *value,
                  guint           index,
                  const guint8  **key,
                  gsize          *key_len)
{
  const EpBencDoc *doc;
  const EpBenc *k;

  if (value == NULL || value->type != EP_BENC_DICT || index >= value->u.kids.count)
    {
      if (key != NULL)
        *key = NULL;
      if (key_len != NULL)
        *key_len = 0;
      return NULL;
    }

  doc = value->doc;
  k = &doc->nodes[doc->kids[value->u.kids.first + 2 * index]];
  if (key != NULL)
    *key = doc->data + k->u.bytes.off;
  if (key_len != NULL)
    *key_len = k->u.bytes.len;
  return &doc->nodes[doc->kids[value->u.kids.first + 2 * index + 1]];
}

const guint8 *
ep_benc_dict_get_bytes (const EpBenc *dict,
                        const char   *key,
                        gsize        *len)
{
  return ep_benc_get_bytes (ep_benc_dict_lookup (dict, key), len);
}

gboolean
ep_benc_dict_get_int (const EpBenc *dict,
                      const char   *key,
                      gint64       *out)
{
  return ep_benc_get_int (ep_benc_dict_lookup (dict, key), out);
}

void
ep_benc_put_int (GByteArray *out,
                 gint64      value)
{
  char buf[32];
  int n = g_snprintf (buf, sizeof buf, "i%" G_GINT64_FORMAT "e", value);

  g_byte_array_append (out, (const guint8 *) buf, n);
}

void
ep_benc_put_bytes (GByteArray *out,
                   const void *data,
                   gsize       len)
{
  char buf[32];
  int n = g_snprintf (buf, sizeof buf, "%" G_GSIZE_FORMAT ":", len);

  g_return_if_fail (data != NULL || len == 0);
  g_return_if_fail (len <= G_MAXUINT);

  g_byte_array_append (out, (const guint8 *) buf, n);
  if (len > 0)
    g_byte_array_append (out, data, len);
}

void
ep_benc_put_string (GByteArray *out,
                    const char *str)
{
  g_return_if_fail (str != NULL);
  ep_benc_put_bytes (out, str, strlen (str));
}

void
ep_benc_put_list_begin (GByteArray *out)
{
  g_byte_array_append (out, (const guint8 *) "l", 1);
}

void
ep_benc_put_dict_begin (GByteArray *out)
{
  g_byte_array_append (out, (const guint8 *) "d", 1);
}

void
ep_benc_put_end (GByteArray *out)
{
  g_byte_array_append (out, (const guint8 *) "e", 1);
}

void
ep_benc_put_raw (GByteArray *out,
                 const void *data,
                 gsize       len)
{
  g_return_if_fail (data != NULL || len == 0);
  g_return_if_fail (len <= G_MAXUINT);
  if (len > 0)
    g_byte_array_append (out, data, len);
}
