/* ep-message-text.c — message text as label markup, with its web and mail links
 *
 * Message text comes from the network: all of it is escaped, and only
 * http://, https:// and mailto: links become links, shown as they are
 * written (the visible text is the URL itself, so a link cannot pretend to
 * go somewhere else). Control characters other than line breaks and tabs
 * are shown as U+FFFD, so the markup always parses.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "ep-message-text.h"

static const char * const schemes[] = { "https://", "http://", "mailto:" };

/* The length of the scheme that starts at @p, 0 for none of ours. */
static gsize
scheme_at (const char *p)
{
  for (guint i = 0; i < G_N_ELEMENTS (schemes); i++)
    if (g_ascii_strncasecmp (p, schemes[i], strlen (schemes[i])) == 0)
      return strlen (schemes[i]);
  return 0;
}

/**
 * ep_message_text_is_link:
 * @uri: a URI
 *
 * Returns: whether @uri is of a scheme that messages may link to
 */
gboolean
ep_message_text_is_link (const char *uri)
{
  g_return_val_if_fail (uri != NULL, FALSE);

  return scheme_at (uri) > 0;
}

static gboolean
url_char (gunichar c)
{
  return !g_unichar_isspace (c) && !g_unichar_iscntrl (c)
         && c != '<' && c != '>' && c != '"' && c != '`'
         && c != 0x200B && c != 0xFEFF && c != 0xFFFD;
}

static gboolean
trailing_punctuation (char c)
{
  return strchr (".,;:!?'*", c) != NULL;
}

/* How many bytes of a URL start at @p (with its scheme), 0 when it is not
 * one: a lone scheme, a web link without a host, mail without an address. */
static gsize
link_length (const char *p)
{
  gsize scheme = scheme_at (p);
  const char *end = p;
  const char *rest;
  gsize len;
  int parens = 0;
  int brackets = 0;

  if (scheme == 0)
    return 0;
  while (*end != '\0' && url_char (g_utf8_get_char (end)))
    end = g_utf8_next_char (end);
  len = end - p;

  /* Punctuation that ends a sentence, and closing brackets that were
   * opened before the link, belong to the text around it. */
  for (gsize i = 0; i < len; i++)
    {
      parens += p[i] == '(' ? 1 : p[i] == ')' ? -1 : 0;
      brackets += p[i] == '[' ? 1 : p[i] == ']' ? -1 : 0;
    }
  while (len > scheme)
    {
      char last = p[len - 1];

      if (trailing_punctuation (last) || last == '}')
        len--;
      else if (last == ')' && parens < 0)
        {
          len--;
          parens++;
        }
      else if (last == ']' && brackets < 0)
        {
          len--;
          brackets++;
        }
      else
        break;
    }

  if (len <= scheme)
    return 0;
  rest = p + scheme;
  if (g_ascii_strncasecmp (p, "mailto:", scheme) == 0)
    {
      const char *at = memchr (rest, '@', len - scheme);

      if (at == NULL || at == rest || at + 1 == p + len)
        return 0;
    }
  else if (!g_ascii_isalnum (rest[0]) && rest[0] != '[')
    return 0;
  return len;
}

static void
append_escaped (GString    *out,
                const char *text,
                gsize       len)
{
  const char *p = text;
  const char *end = text + len;

  while (p < end)
    {
      gunichar c = g_utf8_get_char (p);
      const char *next = g_utf8_next_char (p);

      if (c == '&')
        g_string_append (out, "&amp;");
      else if (c == '<')
        g_string_append (out, "&lt;");
      else if (c == '>')
        g_string_append (out, "&gt;");
      else if (c == '"')
        g_string_append (out, "&quot;");
      else if (c == '\'')
        g_string_append (out, "&apos;");
      else if (g_unichar_iscntrl (c) && c != '\n' && c != '\t')
        g_string_append_unichar (out, 0xFFFD);
      else
        g_string_append_len (out, p, next - p);
      p = next;
    }
}

/**
 * ep_message_text_to_markup:
 * @text: valid UTF-8, as a message carries it
 * @n_links: (out) (optional): how many links it has
 *
 * Returns: (transfer full): markup for gtk_label_set_markup(): @text
 *   escaped, each web or mail URL in it an `<a href>` to itself
 */
char *
ep_message_text_to_markup (const char *text,
                           guint      *n_links)
{
  GString *out;
  const char *p;
  const char *plain;
  gboolean word_start = TRUE;
  guint links = 0;

  g_return_val_if_fail (text != NULL, NULL);

  out = g_string_sized_new (strlen (text) + 16);
  p = plain = text;
  while (*p != '\0')
    {
      gunichar c = g_utf8_get_char (p);
      gsize len = word_start ? link_length (p) : 0;

      if (len > 0)
        {
          append_escaped (out, plain, p - plain);
          g_string_append (out, "<a href=\"");
          append_escaped (out, p, len);
          g_string_append (out, "\">");
          append_escaped (out, p, len);
          g_string_append (out, "</a>");
          links++;
          p += len;
          plain = p;
          word_start = FALSE;
          continue;
        }
      /* A link starts a word: "xhttp://" is not one. */
      word_start = !g_unichar_isalnum (c) && c != '_' && c != '-' && c != '/' && c != '.';
      p = g_utf8_next_char (p);
    }
  append_escaped (out, plain, p - plain);

  if (n_links != NULL)
    *n_links = links;
  return g_string_free (out, FALSE);
}
