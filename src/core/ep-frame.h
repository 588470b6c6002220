/* ep-frame.h — what peers say to each other inside a session
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define EP_FRAME_ERROR (ep_frame_error_quark ())

typedef enum
{
  EP_FRAME_ERROR_MALFORMED,
  EP_FRAME_ERROR_TOO_LARGE,
} EpFrameError;

GQuark ep_frame_error_quark (void);

#define EP_FRAME_ID_SIZE          16
#define EP_FRAME_MAX_TEXT         65536   /* bytes of UTF-8 in a chat message */
#define EP_FRAME_MAX_NAME         128
#define EP_FRAME_MAX_STATUS       256
#define EP_FRAME_MAX_REQUEST_TEXT 1024
#define EP_FRAME_MAX_RECEIPT_IDS  64
/* JSON may spell each byte of text as \u00XX: six times, plus the rest. */
#define EP_FRAME_MAX_SIZE         (EP_FRAME_MAX_TEXT * 6 + 4096)

/* A session packet is type (1) ‖ receiver index (4) ‖ counter (8) ‖
 * ciphertext ‖ tag (16); datagrams stay under 1200 bytes. */
#define EP_FRAME_SESSION_OVERHEAD 29
#define EP_FRAME_DEFAULT_PAYLOAD  (1200 - 32)

typedef enum
{
  EP_FRAME_MESSAGE,
  EP_FRAME_ACK,
  EP_FRAME_RECEIPT,
  EP_FRAME_TYPING,
  EP_FRAME_PROFILE,
  EP_FRAME_REQUEST,
  EP_FRAME_REQUEST_ACCEPTED,
  EP_FRAME_REQUEST_DECLINED,
  EP_FRAME_KEEPALIVE,
} EpFrameType;

typedef enum
{
  EP_FRAME_PARSE_OK,
  EP_FRAME_PARSE_IGNORED,     /* well-formed, of a type we do not know */
  EP_FRAME_PARSE_MALFORMED,   /* drop it and count it */
} EpFrameParseResult;

typedef struct
{
  EpFrameType type;
  guint8      id[EP_FRAME_ID_SIZE];   /* MESSAGE, ACK */
  gint64      timestamp;              /* MESSAGE: sender time, µs since the epoch */
  guint64     lamport;                /* MESSAGE */
  char       *text;                   /* MESSAGE, REQUEST */
  char       *name;                   /* PROFILE, REQUEST */
  char       *status_text;            /* PROFILE */
  guint32     nospam;                 /* REQUEST */
  gboolean    active;                 /* TYPING: started or stopped */
  guint8     *receipt_ids;            /* RECEIPT: n_receipt_ids × 16 bytes */
  guint       n_receipt_ids;
} EpFrame;

#define EP_TYPE_FRAME (ep_frame_get_type ())
GType ep_frame_get_type (void);

EpFrame            *ep_frame_new          (EpFrameType   type);
EpFrame            *ep_frame_new_message  (const guint8  id[EP_FRAME_ID_SIZE],
                                           gint64        timestamp,
                                           guint64       lamport,
                                           const char   *text);
EpFrame            *ep_frame_new_ack      (const guint8  id[EP_FRAME_ID_SIZE]);
EpFrame            *ep_frame_copy         (const EpFrame *frame);
void                ep_frame_free         (EpFrame       *frame);
const char         *ep_frame_type_to_string (EpFrameType  type);
GBytes             *ep_frame_encode       (const EpFrame *frame,
                                           GError       **error);
EpFrameParseResult  ep_frame_parse        (const guint8  *data,
                                           gsize          len,
                                           EpFrame      **frame,
                                           GError       **error);
GPtrArray          *ep_frame_to_payloads  (const EpFrame *frame,
                                           guint32        message_local_id,
                                           gsize          payload_budget,
                                           GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpFrame, ep_frame_free)

G_END_DECLS
