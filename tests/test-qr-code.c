/* test-qr-code.c — the QR code of a contact ID: its symbol, and its pixels
 *
 * The widget is drawn through a GtkWidgetPaintable and rasterized by the
 * cairo renderer at the widget's scale factor; the test then reads the
 * symbol back from the pixels (every pixel black or white, every module a
 * whole square of pixels) and compares it with the encoder's matrix, and
 * has zbarimg scan it when zbar-tools is installed. A
 * second display opened with GDK_SCALE=2 gives the scale-2 case.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#endif

#include <glib/gstdio.h>

#include "ep-core.h"
#include "ep-qr-code.h"

/* Version 3 at level M holds 61 alphanumeric characters: exactly an ID. */
#define ID_VERSION 3
#define ID_MODULES 29

static char *
random_upper_id (guint8 key[32])
{
  g_autoptr(EpIdentity) identity = ep_identity_new_random ();

  memcpy (key, ep_identity_get_public_key (identity), 32);
  return g_ascii_strup (ep_identity_get_contact_id (identity), -1);
}

static void
test_qr_code_encodes_id (void)
{
  GtkWidget *qr = g_object_ref_sink (ep_qr_code_new ());
  guint8 key[32], parsed[32];
  guint32 nospam;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = random_upper_id (key);
  g_autofree char *lower = g_ascii_strdown (id, -1);

  g_assert_cmpint (ep_qr_code_get_version (EP_QR_CODE (qr)), ==, 0);
  g_assert_cmpint (ep_qr_code_get_n_modules (EP_QR_CODE (qr)), ==, 0);

  ep_qr_code_set_text (EP_QR_CODE (qr), id);
  g_assert_cmpstr (ep_qr_code_get_text (EP_QR_CODE (qr)), ==, id);
  g_assert_cmpint (ep_qr_code_get_version (EP_QR_CODE (qr)), ==, ID_VERSION);
  g_assert_cmpint (ep_qr_code_get_n_modules (EP_QR_CODE (qr)), ==, ID_MODULES);
  /* The three finder patterns: dark corners, a light ring, a dark centre. */
  for (int i = 0; i < 3; i++)
    {
      int x = i == 1 ? ID_MODULES - 7 : 0;
      int y = i == 2 ? ID_MODULES - 7 : 0;

      g_assert_true (ep_qr_code_get_module (EP_QR_CODE (qr), x, y));
      g_assert_true (ep_qr_code_get_module (EP_QR_CODE (qr), x + 6, y + 6));
      g_assert_false (ep_qr_code_get_module (EP_QR_CODE (qr), x + 1, y + 1));
      g_assert_true (ep_qr_code_get_module (EP_QR_CODE (qr), x + 3, y + 3));
    }
  g_assert_false (ep_qr_code_get_module (EP_QR_CODE (qr), -1, 0));
  g_assert_false (ep_qr_code_get_module (EP_QR_CODE (qr), 0, ID_MODULES));

  /* What a scanner reads is an ID the Add Contact dialog takes. */
  g_assert_true (ep_contact_id_parse (id, parsed, &nospam, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (parsed, 32, key, 32);

  /* Lower case would need byte mode and a bigger symbol. */
  ep_qr_code_set_text (EP_QR_CODE (qr), lower);
  g_assert_cmpint (ep_qr_code_get_version (EP_QR_CODE (qr)), >, ID_VERSION);

  ep_qr_code_set_text (EP_QR_CODE (qr), NULL);
  g_assert_cmpint (ep_qr_code_get_version (EP_QR_CODE (qr)), ==, 0);
  g_object_unref (qr);
}

static gboolean
drawn (gpointer data)
{
  GtkWidget *qr = data;

  return gtk_widget_get_mapped (qr) && gtk_widget_get_width (qr) > 0
         && ep_qr_code_get_module_size (EP_QR_CODE (qr)) > 0;
}

static gboolean
on_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
spin (GSourceFunc done,
      gpointer    data)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (15, on_timeout, &timed_out);

  while (!done (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return !timed_out;
}

/* Draws @qr through a paintable into device pixels, as the window would. */
static GdkTexture *
render (GtkWidget *qr,
        int        scale)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (qr);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GskRenderer) renderer = gsk_cairo_renderer_new ();
  g_autoptr(GError) error = NULL;
  int width = gtk_widget_get_width (qr);
  int height = gtk_widget_get_height (qr);
  GdkTexture *texture;

  gtk_snapshot_scale (snapshot, scale, scale);
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  g_assert_true (gsk_renderer_realize (renderer, NULL, &error));
  g_assert_no_error (error);
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width * scale,
                                                              height * scale));
  gsk_renderer_unrealize (renderer);
  return texture;
}

/* An independent reader, when one is installed (zbar-tools): the pixels
 * must scan back to the text. */
static void
check_scans (GdkTexture *texture,
             const char *text)
{
  g_autofree char *zbarimg = g_find_program_in_path ("zbarimg");
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  int status = -1;

  if (zbarimg == NULL)
    {
      g_test_message ("zbarimg is not installed: the code is not scanned");
      return;
    }
  dir = g_dir_make_tmp ("ep-qr-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "qr.png", NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  {
    const char *argv[] = { zbarimg, "--raw", "-q", path, NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                                 NULL, &out, NULL, &status, &error));
  }
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_cmpstr (g_strstrip (out), ==, text);
  g_unlink (path);
  g_rmdir (dir);
}

static void
check_pixels (GtkWidget *qr,
              int        scale)
{
  g_autoptr(GdkTexture) texture = render (qr, scale);
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  gsize stride = (gsize) width * 4;
  g_autofree guint8 *pixels = g_malloc (stride * height);
  int module = ep_qr_code_get_module_size (EP_QR_CODE (qr));
  int n = ep_qr_code_get_n_modules (EP_QR_CODE (qr));
  int total = n + 2 * EP_QR_CODE_QUIET_ZONE;
  int left = -1, top = -1, run = 0;

  g_assert_cmpint (width, ==, gtk_widget_get_width (qr) * scale);
  g_assert_cmpint (module, ==, MIN (width, height) / total);
  g_assert_cmpint (module, >=, 1);
  gdk_texture_download (texture, pixels, stride);

  /* The top-left dark pixel is the corner of the first finder pattern;
   * its top row is 7 modules of dark. */
  for (int y = 0; y < height && top < 0; y++)
    for (int x = 0; x < width; x++)
      {
        const guint8 *p = pixels + y * stride + x * 4;

        if (p[3] == 255 && p[0] == 0 && p[1] == 0 && p[2] == 0)
          {
            left = x;
            top = y;
            break;
          }
      }
  g_assert_cmpint (top, >=, 0);
  while (left + run < width && pixels[top * stride + (left + run) * 4 + 1] == 0)
    run++;
  g_assert_cmpint (run, ==, 7 * module);

  /* Every pixel of the symbol and its quiet zone is pure black or white,
   * and each module's pixels are all the encoder's colour: nothing blurs. */
  for (int my = -EP_QR_CODE_QUIET_ZONE; my < n + EP_QR_CODE_QUIET_ZONE; my++)
    for (int mx = -EP_QR_CODE_QUIET_ZONE; mx < n + EP_QR_CODE_QUIET_ZONE; mx++)
      {
        guint8 want = ep_qr_code_get_module (EP_QR_CODE (qr), mx, my) ? 0 : 255;

        for (int dy = 0; dy < module; dy++)
          for (int dx = 0; dx < module; dx++)
            {
              int x = left + mx * module + dx;
              int y = top + my * module + dy;
              const guint8 *p;

              g_assert_cmpint (x, >=, 0);
              g_assert_cmpint (y, >=, 0);
              g_assert_cmpint (x, <, width);
              g_assert_cmpint (y, <, height);
              p = pixels + y * stride + x * 4;
              if (p[0] != want || p[1] != want || p[2] != want || p[3] != 255)
                g_error ("module (%d, %d) pixel (%d, %d) is %02x%02x%02x%02x, not %02x",
                         mx, my, dx, dy, p[0], p[1], p[2], p[3], want);
            }
      }

  check_scans (texture, ep_qr_code_get_text (EP_QR_CODE (qr)));
}

static void
render_at (GdkDisplay *display,
           int         scale)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *qr = ep_qr_code_new ();
  guint8 key[32];
  g_autofree char *id = random_upper_id (key);

  gtk_window_set_display (GTK_WINDOW (window), display);
  ep_qr_code_set_text (EP_QR_CODE (qr), id);
  gtk_widget_set_halign (qr, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (qr, GTK_ALIGN_CENTER);
  gtk_window_set_child (GTK_WINDOW (window), qr);
  /* A size that is not a multiple of the symbol's: the module is rounded
   * down to whole pixels, never stretched. */
  gtk_window_set_default_size (GTK_WINDOW (window), 301, 301);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (spin (drawn, qr));
  g_assert_cmpint (gtk_widget_get_scale_factor (qr), ==, scale);
  check_pixels (qr, scale);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_qr_code_scale_1 (void)
{
  render_at (gdk_display_get_default (), 1);
}

static void
test_qr_code_scale_2 (void)
{
  GdkDisplay *display;

  /* X11 reads GDK_SCALE when a display is opened. */
#ifdef GDK_WINDOWING_X11
  if (!GDK_IS_X11_DISPLAY (gdk_display_get_default ()))
#endif
    {
      g_test_skip ("GDK_SCALE=2 needs the X11 backend");
      return;
    }
  g_setenv ("GDK_SCALE", "2", TRUE);
  display = gdk_display_open (gdk_display_get_name (gdk_display_get_default ()));
  g_unsetenv ("GDK_SCALE");
  g_assert_nonnull (display);
  render_at (display, 2);
  gdk_display_close (display);
}

int
main (int    argc,
      char **argv)
{
  gtk_disable_setlocale ();
  g_test_init (&argc, &argv, NULL);
  g_unsetenv ("GDK_SCALE");
  gtk_init ();
  adw_init ();

  g_test_add_func ("/ep/qr-code/encodes-id", test_qr_code_encodes_id);
  g_test_add_func ("/ep/qr-code/scale-1", test_qr_code_scale_1);
  g_test_add_func ("/ep/qr-code/scale-2", test_qr_code_scale_2);

  return g_test_run ();
}
