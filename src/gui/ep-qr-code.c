/* ep-qr-code.c — a QR code drawn crisp, dark on light
 *
 * The symbol is encoded with libqrencode at error correction level M. Each
 * module is a whole number of device pixels at the widget's scale factor,
 * so the code never blurs, and it is black on white in dark mode too:
 * phone cameras read that best.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <qrencode.h>
#include <string.h>

#include "ep-qr-code.h"

/* Logical pixels per module asked for; the widget may get less or more. */
#define MIN_MODULE_PX     2
#define NATURAL_MODULE_PX 6

enum {
  PROP_0,
  PROP_TEXT,
  N_PROPS
};

struct _EpQrCode
{
  GtkWidget  parent_instance;

  char      *text;
  QRcode    *code;         /* NULL without text or when it does not fit */
  int        module_size;  /* device pixels, as last drawn */
};

G_DEFINE_FINAL_TYPE (EpQrCode, ep_qr_code, GTK_TYPE_WIDGET)

static GParamSpec *properties[N_PROPS];

static int
total_modules (EpQrCode *self)
{
  return self->code != NULL ? self->code->width + 2 * EP_QR_CODE_QUIET_ZONE : 0;
}

static void
ep_qr_code_measure (GtkWidget      *widget,
                    GtkOrientation  orientation,
                    int             for_size,
                    int            *minimum,
                    int            *natural,
                    int            *minimum_baseline,
                    int            *natural_baseline)
{
  EpQrCode *self = EP_QR_CODE (widget);
  int total = total_modules (self);

  *minimum = total * MIN_MODULE_PX;
  *natural = total * NATURAL_MODULE_PX;
}

static void
append_rect (GtkSnapshot   *snapshot,
             const GdkRGBA *color,
             int            x,
             int            y,
             int            width,
             int            height)
{
  gtk_snapshot_append_color (snapshot, color, &GRAPHENE_RECT_INIT (x, y, width, height));
}

static void
ep_qr_code_snapshot (GtkWidget   *widget,
                     GtkSnapshot *snapshot)
{
  static const GdkRGBA dark = { 0, 0, 0, 1 };
  static const GdkRGBA light = { 1, 1, 1, 1 };
  EpQrCode *self = EP_QR_CODE (widget);
  int scale = gtk_widget_get_scale_factor (widget);
  int width = gtk_widget_get_width (widget) * scale;
  int height = gtk_widget_get_height (widget) * scale;
  int total = total_modules (self);
  int module, side, x0, y0, n;

  if (self->code == NULL)
    return;

  /* Whole device pixels per module, the symbol centred on a whole pixel. */
  module = MAX (1, MIN (width, height) / total);
  side = module * total;
  x0 = (width - side) / 2;
  y0 = (height - side) / 2;
  self->module_size = module;
  n = self->code->width;

  gtk_snapshot_save (snapshot);
  gtk_snapshot_scale (snapshot, 1.0f / scale, 1.0f / scale);
  append_rect (snapshot, &light, x0, y0, side, side);
  x0 += EP_QR_CODE_QUIET_ZONE * module;
  y0 += EP_QR_CODE_QUIET_ZONE * module;
  /* One rectangle per run of dark modules in a row. */
  for (int y = 0; y < n; y++)
    {
      const unsigned char *row = self->code->data + (gsize) y * n;

      for (int x = 0; x < n;)
        {
          int run = 0;

          while (x + run < n && (row[x + run] & 1) != 0)
            run++;
          if (run > 0)
            append_rect (snapshot, &dark, x0 + x * module, y0 + y * module, run * module, module);
          x += MAX (run, 1);
        }
    }
  gtk_snapshot_restore (snapshot);
}

static void
ep_qr_code_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  EpQrCode *self = EP_QR_CODE (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      g_value_set_string (value, self->text);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ep_qr_code_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  EpQrCode *self = EP_QR_CODE (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      ep_qr_code_set_text (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ep_qr_code_finalize (GObject *object)
{
  EpQrCode *self = EP_QR_CODE (object);

  g_clear_pointer (&self->text, g_free);
  g_clear_pointer (&self->code, QRcode_free);

  G_OBJECT_CLASS (ep_qr_code_parent_class)->finalize (object);
}

static void
ep_qr_code_class_init (EpQrCodeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = ep_qr_code_get_property;
  object_class->set_property = ep_qr_code_set_property;
  object_class->finalize = ep_qr_code_finalize;
  widget_class->measure = ep_qr_code_measure;
  widget_class->snapshot = ep_qr_code_snapshot;

  properties[PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "qrcode");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
ep_qr_code_init (EpQrCode *self)
{
}

GtkWidget *
ep_qr_code_new (void)
{
  return g_object_new (EP_TYPE_QR_CODE, NULL);
}

/**
 * ep_qr_code_set_text:
 * @self: an #EpQrCode
 * @text: (nullable): what the code says
 *
 * Text of digits, upper-case letters and a few symbols only is encoded in
 * the compact alphanumeric mode; anything else as bytes.
 */
void
ep_qr_code_set_text (EpQrCode   *self,
                     const char *text)
{
  g_return_if_fail (EP_IS_QR_CODE (self));

  if (g_strcmp0 (self->text, text) == 0)
    return;
  g_free (self->text);
  self->text = g_strdup (text);
  g_clear_pointer (&self->code, QRcode_free);
  if (text != NULL && *text != '\0')
    {
      /* Version 0: the smallest that holds the text. */
      self->code = QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
      if (self->code == NULL)
        g_warning ("A QR code cannot hold %" G_GSIZE_FORMAT " bytes of text", strlen (text));
    }
  self->module_size = 0;
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
}

const char *
ep_qr_code_get_text (EpQrCode *self)
{
  g_return_val_if_fail (EP_IS_QR_CODE (self), NULL);

  return self->text;
}

/**
 * ep_qr_code_get_version:
 * @self: an #EpQrCode
 *
 * Returns: the QR version (1 to 40), 0 without a code
 */
int
ep_qr_code_get_version (EpQrCode *self)
{
  g_return_val_if_fail (EP_IS_QR_CODE (self), 0);

  return self->code != NULL ? self->code->version : 0;
}

/**
 * ep_qr_code_get_n_modules:
 * @self: an #EpQrCode
 *
 * Returns: modules per side of the symbol, without the quiet zone; 0
 *   without a code
 */
int
ep_qr_code_get_n_modules (EpQrCode *self)
{
  g_return_val_if_fail (EP_IS_QR_CODE (self), 0);

  return self->code != NULL ? self->code->width : 0;
}

/**
 * ep_qr_code_get_module:
 * @self: an #EpQrCode
 * @x: column, from 0 at the left of the symbol
 * @y: row, from 0 at the top
 *
 * Returns: whether the module is dark
 */
gboolean
ep_qr_code_get_module (EpQrCode *self,
                       int       x,
                       int       y)
{
  g_return_val_if_fail (EP_IS_QR_CODE (self), FALSE);

  if (self->code == NULL || x < 0 || y < 0 || x >= self->code->width || y >= self->code->width)
    return FALSE;
  return (self->code->data[(gsize) y * self->code->width + x] & 1) != 0;
}

/**
 * ep_qr_code_get_module_size:
 * @self: an #EpQrCode
 *
 * Returns: device pixels per module when last drawn, 0 before
 */
int
ep_qr_code_get_module_size (EpQrCode *self)
{
  g_return_val_if_fail (EP_IS_QR_CODE (self), 0);

  return self->module_size;
}
