/* test-ui.c — every .ui file in the GResource loads on this GTK/libadwaita
 *
 * A property newer than the installed GTK only fails at run time, so this
 * builds every template and every plain builder file found in the resource.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>

#include "ep-add-contact-window.h"
#include "ep-application.h"
#include "ep-chat-view.h"
#include "ep-contact-window.h"
#include "ep-my-id-window.h"
#include "ep-passphrase-window.h"
#include "ep-preferences-window.h"
#include "ep-window.h"

static void
ensure_types (void)
{
  g_type_ensure (EP_TYPE_ADD_CONTACT_WINDOW);
  g_type_ensure (EP_TYPE_APPLICATION);
  g_type_ensure (EP_TYPE_CHAT_VIEW);
  g_type_ensure (EP_TYPE_CONTACT_WINDOW);
  g_type_ensure (EP_TYPE_MY_ID_WINDOW);
  g_type_ensure (EP_TYPE_PASSPHRASE_WINDOW);
  g_type_ensure (EP_TYPE_PREFERENCES_WINDOW);
  g_type_ensure (EP_TYPE_WINDOW);
}

static void
collect_ui_files (const char *path,
                  GPtrArray  *out)
{
  g_auto(GStrv) children = g_resources_enumerate_children (path, 0, NULL);

  for (guint i = 0; children != NULL && children[i] != NULL; i++)
    {
      g_autofree char *child = g_strconcat (path, children[i], NULL);

      if (g_str_has_suffix (children[i], "/"))
        collect_ui_files (child, out);
      else if (g_str_has_suffix (children[i], ".ui"))
        g_ptr_array_add (out, g_steal_pointer (&child));
    }
}

/* The class named by <template class="…">, or NULL for a plain builder file. */
static char *
template_class (GBytes *bytes)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  g_autofree char *text = g_strndup (data, len);
  const char *p = strstr (text, "<template class=\"");
  const char *end;

  if (p == NULL)
    return NULL;
  p += strlen ("<template class=\"");
  end = strchr (p, '"');
  g_assert_nonnull (end);
  return g_strndup (p, end - p);
}

static void
test_ui_loads (gconstpointer data)
{
  const char *path = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_resources_lookup_data (path, 0, &error);
  g_autofree char *klass = NULL;

  g_assert_no_error (error);
  klass = template_class (bytes);

  if (klass != NULL)
    {
      GType type = g_type_from_name (klass);
      GObject *object;

      /* A template whose type is unknown here must be added to ensure_types. */
      g_assert_true (type != G_TYPE_INVALID);
      g_assert_true (g_type_is_a (type, GTK_TYPE_WIDGET));

      object = g_object_new (type, NULL);
      g_assert_true (GTK_IS_WIDGET (object));
      if (GTK_IS_WINDOW (object))
        gtk_window_destroy (GTK_WINDOW (object));
      else
        g_object_unref (g_object_ref_sink (object));
    }
  else
    {
      g_autoptr(GtkBuilder) builder = gtk_builder_new ();
      g_autoptr(GSList) objects = NULL;

      g_assert_true (gtk_builder_add_from_resource (builder, path, &error));
      g_assert_no_error (error);
      objects = gtk_builder_get_objects (builder);
      g_assert_nonnull (objects);
      for (GSList *l = objects; l != NULL; l = l->next)
        if (GTK_IS_WINDOW (l->data))
          gtk_window_destroy (l->data);
    }
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);

  gtk_disable_setlocale ();
  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();
  ensure_types ();

  collect_ui_files (RESOURCE_BASE "/", files);
  g_assert_cmpuint (files->len, >=, 2);

  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *name = g_strconcat ("/ep/ui/loads", (char *) files->pdata[i]
                                           + strlen (RESOURCE_BASE), NULL);
      g_test_add_data_func (name, files->pdata[i], test_ui_loads);
    }

  return g_test_run ();
}
