/* ep-cli-chat.c — `encryptedp2p-node chat`: a chat client in JSON lines
 *
 * One JSON object per line on standard input (commands) and standard
 * output (events); every command is answered by an event or an error, in
 * the order the commands came. Closing standard input quits.
 *
 *   {"cmd":"id"}                              → ready
 *   {"cmd":"add","id":CONTACT_ID,"text":T}    → contact-added (state "outgoing-pending")
 *   {"cmd":"accept","key":HEX}                → contact-added (state "accepted")
 *   {"cmd":"decline","key":HEX}               → contacts
 *   {"cmd":"send","to":HEX,"text":T}          → status (status "queued"), once in the outbox
 *   {"cmd":"contacts"}                        → contacts
 *   {"cmd":"history","with":HEX,"limit":N}    → history (the last N, oldest first)
 *   {"cmd":"typing","to":HEX,"typing":B}      → typing-sent (to, typing); send true as
 *                                               the user types (at most one frame
 *                                               per 3 s goes out), false when the
 *                                               text was emptied
 *   {"cmd":"quit"}
 *
 * Events on their own: ready (id, key, port) once started; contact-request
 * (key, name, text); contact-added (key, state "accepted") when a contact
 * accepts us; contact-declined (key); presence (key, online, and while
 * online path: "direct" or "relay"); message (from, msg_id, text, ts,
 * lamport); status (msg_id, status, to) as our messages go from queued to
 * sent to delivered; typing (key, typing) as a contact starts or stops
 * writing to us (it stops by itself ~6 s after the last refresh, and when
 * its message arrives). Times (ts) are µs since the epoch. SIGINT and
 * SIGTERM quit cleanly, like closing standard input.
 *
 * --relay KEYHEX@HOST:PORT (repeatable; what `serve --relay` prints as
 * "relay", with its host) keeps a session with that relay, publishes it in
 * our presence record, and reaches contacts through it (or through one
 * they published) when no direct session comes up within a few seconds.
 * HOST is an IP address ([…] for IPv6) or a name to look up
 * (ep_relay_spec_parse()). Such relays are for this run only; those of the
 * profile's settings (profile.json "relays") are used as well.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "ep-cli.h"
#include "ep-cli-common.h"
#include "ep-core.h"

#define HISTORY_DEFAULT 50
#define HISTORY_MAX     100000
#define MAX_LINE        (512 * 1024)

typedef struct
{
  EpNode           *node;
  GDataInputStream *input;
  GMainLoop        *loop;
  GQueue            pending;    /* JsonObject commands waiting for the one before */
  gboolean          busy;       /* a command is waiting for an async answer */
  gboolean          eof;
  int               exit_code;
} Chat;

static void next_command (Chat *chat);

static void
emit (JsonBuilder *builder)
{
  ep_cli_print_json (builder);
}

static JsonBuilder *
event_new (const char *name)
{
  JsonBuilder *builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "event");
  json_builder_add_string_value (builder, name);
  return builder;
}

static void
event_end (JsonBuilder *builder)
{
  json_builder_end_object (builder);
  emit (builder);
  g_object_unref (builder);
}

static void
emit_error (const char *message)
{
  JsonBuilder *b = event_new ("error");

  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  event_end (b);
}

static void
add_string (JsonBuilder *b,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value != NULL ? value : "");
}

static const char *
request_state_name (EpContactRequestState state)
{
  switch (state)
    {
    case EP_CONTACT_REQUEST_OUTGOING_PENDING:
      return "outgoing-pending";
    case EP_CONTACT_REQUEST_INCOMING_PENDING:
      return "incoming-pending";
    case EP_CONTACT_REQUEST_ACCEPTED:
      return "accepted";
    case EP_CONTACT_REQUEST_DECLINED:
      return "declined";
    case EP_CONTACT_REQUEST_BLOCKED:
      return "blocked";
    case EP_CONTACT_REQUEST_NONE:
    default:
      return "none";
    }
}

static void
emit_ready (Chat *chat)
{
  JsonBuilder *b = event_new ("ready");
  EpIdentity *identity = ep_node_get_identity (chat->node);

  add_string (b, "id", ep_identity_get_contact_id (identity));
  add_string (b, "key", ep_node_get_key (chat->node));
  json_builder_set_member_name (b, "port");
  json_builder_add_int_value (b, ep_node_get_port (chat->node));
  event_end (b);
}

static void
emit_contact_added (EpContact *contact)
{
  JsonBuilder *b = event_new ("contact-added");

  add_string (b, "key", ep_contact_get_key (contact));
  add_string (b, "state", request_state_name (ep_contact_get_request_state (contact)));
  event_end (b);
}

static void
emit_contacts (Chat *chat)
{
  JsonBuilder *b = event_new ("contacts");
  GListModel *model = G_LIST_MODEL (ep_node_get_contacts (chat->node));
  guint n = g_list_model_get_n_items (model);

  json_builder_set_member_name (b, "contacts");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(EpContact) contact = g_list_model_get_item (model, i);
      GDateTime *last_seen = ep_contact_get_last_seen (contact);

      json_builder_begin_object (b);
      add_string (b, "key", ep_contact_get_key (contact));
      add_string (b, "name", ep_contact_get_name (contact));
      add_string (b, "status_text", ep_contact_get_status_text (contact));
      add_string (b, "state", request_state_name (ep_contact_get_request_state (contact)));
      json_builder_set_member_name (b, "online");
      json_builder_add_boolean_value (b, ep_contact_get_presence (contact)
                                         == EP_CONTACT_PRESENCE_ONLINE);
      json_builder_set_member_name (b, "unread");
      json_builder_add_int_value (b, ep_contact_get_unread_count (contact));
      json_builder_set_member_name (b, "last_seen");
      if (last_seen != NULL)
        json_builder_add_int_value (b, g_date_time_to_unix (last_seen) * G_USEC_PER_SEC
                                       + g_date_time_get_microsecond (last_seen));
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  event_end (b);
}

/* Node signals */

static void
on_message_received (EpNode    *node,
                     EpMessage *message,
                     Chat      *chat)
{
  JsonBuilder *b = event_new ("message");

  add_string (b, "from", ep_message_get_sender_key (message));
  add_string (b, "msg_id", ep_message_get_id (message));
  add_string (b, "text", ep_message_get_text (message));
  json_builder_set_member_name (b, "ts");
  json_builder_add_int_value (b, ep_message_get_sender_time (message));
  json_builder_set_member_name (b, "lamport");
  json_builder_add_int_value (b, (gint64) ep_message_get_lamport (message));
  event_end (b);
}

static void
on_status_changed (EpNode          *node,
                   const char      *contact_key,
                   const char      *id,
                   EpMessageStatus  status,
                   Chat            *chat)
{
  JsonBuilder *b = event_new ("status");

  add_string (b, "msg_id", id);
  add_string (b, "status", ep_message_status_to_string (status));
  add_string (b, "to", contact_key);
  event_end (b);
}

static void
on_contact_request (EpNode     *node,
                    EpContact  *contact,
                    const char *text,
                    Chat       *chat)
{
  JsonBuilder *b = event_new ("contact-request");

  add_string (b, "key", ep_contact_get_key (contact));
  add_string (b, "name", ep_contact_get_name (contact));
  add_string (b, "text", text);
  event_end (b);
}

static void
on_request_answered (EpNode    *node,
                     EpContact *contact,
                     gboolean   accepted,
                     Chat      *chat)
{
  JsonBuilder *b;

  if (accepted)
    {
      emit_contact_added (contact);
      return;
    }
  b = event_new ("contact-declined");
  add_string (b, "key", ep_contact_get_key (contact));
  event_end (b);
}

static void
on_presence_changed (EpNode    *node,
                     EpContact *contact,
                     Chat      *chat)
{
  JsonBuilder *b = event_new ("presence");

  gboolean online = ep_contact_get_presence (contact) == EP_CONTACT_PRESENCE_ONLINE;

  add_string (b, "key", ep_contact_get_key (contact));
  json_builder_set_member_name (b, "online");
  json_builder_add_boolean_value (b, online);
  if (online)
    add_string (b, "path", ep_node_get_path (node, ep_contact_get_key_bytes (contact))
                           == EP_NODE_PATH_RELAY ? "relay" : "direct");
  event_end (b);
}

static void
on_contact_typing (EpContact  *contact,
                   GParamSpec *pspec,
                   Chat       *chat)
{
  JsonBuilder *b = event_new ("typing");

  add_string (b, "key", ep_contact_get_key (contact));
  json_builder_set_member_name (b, "typing");
  json_builder_add_boolean_value (b, ep_contact_get_typing (contact));
  event_end (b);
}

static void
watch_typing (Chat  *chat,
              guint  position,
              guint  n)
{
  GListModel *contacts = G_LIST_MODEL (ep_node_get_contacts (chat->node));

  for (guint i = position; i < position + n; i++)
    {
      g_autoptr(EpContact) contact = g_list_model_get_item (contacts, i);

      /* A contact that moves in the sorted list comes back as "added". */
      if (g_signal_handler_find (contact, G_SIGNAL_MATCH_FUNC | G_SIGNAL_MATCH_DATA, 0, 0,
                                 NULL, on_contact_typing, chat) == 0)
        g_signal_connect (contact, "notify::typing", G_CALLBACK (on_contact_typing), chat);
    }
}

static void
on_contacts_changed (GListModel *contacts,
                     guint       position,
                     guint       removed,
                     guint       added,
                     Chat       *chat)
{
  watch_typing (chat, position, added);
}

static void
unwatch_typing (Chat *chat)
{
  GListModel *contacts = G_LIST_MODEL (ep_node_get_contacts (chat->node));

  g_signal_handlers_disconnect_by_data (contacts, chat);
  for (guint i = 0; i < g_list_model_get_n_items (contacts); i++)
    {
      g_autoptr(EpContact) contact = g_list_model_get_item (contacts, i);

      g_signal_handlers_disconnect_by_data (contact, chat);
    }
}

/* Commands */

static const char *
get_string (JsonObject *object,
            const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gboolean
get_key (JsonObject  *object,
         const char  *member,
         guint8       key[32])
{
  const char *hex = get_string (object, member);

  if (hex == NULL || !ep_contact_key_from_hex (hex, key))
    {
      g_autofree char *message =
        g_strdup_printf (_("“%s” must be a key: 64 hexadecimal digits"), member);

      emit_error (message);
      return FALSE;
    }
  return TRUE;
}

static void
command_done (Chat *chat)
{
  chat->busy = FALSE;
  next_command (chat);
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Chat *chat = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(EpMessage) message = ep_node_send_message_finish (EP_NODE (source), result, &error);

  if (message == NULL)
    emit_error (error->message);
  else
    {
      JsonBuilder *b = event_new ("status");

      add_string (b, "msg_id", ep_message_get_id (message));
      add_string (b, "status", ep_message_status_to_string (EP_MESSAGE_STATUS_QUEUED));
      add_string (b, "to", ep_message_get_contact_key (message));
      event_end (b);
    }
  command_done (chat);
}

typedef struct
{
  Chat *chat;
  char *with;
} HistoryRequest;

static void
on_history (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  HistoryRequest *request = user_data;
  Chat *chat = request->chat;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) messages = ep_store_load_messages_finish (EP_STORE (source), result,
                                                                 &error);

  if (messages == NULL)
    emit_error (error->message);
  else
    {
      JsonBuilder *b = event_new ("history");

      add_string (b, "with", request->with);
      json_builder_set_member_name (b, "messages");
      json_builder_begin_array (b);
      for (guint i = 0; i < messages->len; i++)
        {
          EpMessage *message = g_ptr_array_index (messages, i);

          json_builder_begin_object (b);
          add_string (b, "msg_id", ep_message_get_id (message));
          add_string (b, "from", ep_message_get_sender_key (message));
          json_builder_set_member_name (b, "outgoing");
          json_builder_add_boolean_value (b, ep_message_get_outgoing (message));
          add_string (b, "text", ep_message_get_text (message));
          json_builder_set_member_name (b, "ts");
          json_builder_add_int_value (b, ep_message_get_sender_time (message));
          json_builder_set_member_name (b, "lamport");
          json_builder_add_int_value (b, (gint64) ep_message_get_lamport (message));
          add_string (b, "status", ep_message_status_to_string (ep_message_get_status (message)));
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      event_end (b);
    }
  g_free (request->with);
  g_free (request);
  command_done (chat);
}

static void
quit (Chat *chat)
{
  chat->eof = TRUE;
  g_main_loop_quit (chat->loop);
}

/* Runs one command; TRUE when it answers later (chat->busy). */
static gboolean
run_command (Chat       *chat,
             JsonObject *command)
{
  g_autoptr(GError) error = NULL;
  const char *cmd = get_string (command, "cmd");
  guint8 key[32];

  if (cmd == NULL)
    emit_error (_("A command is an object with a “cmd” member"));
  else if (g_str_equal (cmd, "id"))
    emit_ready (chat);
  else if (g_str_equal (cmd, "add"))
    {
      const char *id = get_string (command, "id");
      EpContact *contact;

      if (id == NULL)
        emit_error (_("“add” needs an “id”: the contact ID to add"));
      else if ((contact = ep_node_add_contact (chat->node, id, get_string (command, "text"),
                                               &error)) == NULL)
        emit_error (error->message);
      else
        emit_contact_added (contact);
    }
  else if (g_str_equal (cmd, "accept"))
    {
      EpContact *contact;

      if (!get_key (command, "key", key))
        return FALSE;
      contact = ep_node_accept_request (chat->node, key, &error);
      if (contact == NULL)
        emit_error (error->message);
      else
        emit_contact_added (contact);
    }
  else if (g_str_equal (cmd, "decline"))
    {
      if (!get_key (command, "key", key))
        return FALSE;
      if (!ep_node_decline_request (chat->node, key, &error))
        emit_error (error->message);
      else
        emit_contacts (chat);
    }
  else if (g_str_equal (cmd, "send"))
    {
      const char *text = get_string (command, "text");

      if (!get_key (command, "to", key))
        return FALSE;
      if (text == NULL)
        {
          emit_error (_("“send” needs a “text”"));
          return FALSE;
        }
      ep_node_send_message_async (chat->node, key, text, NULL, on_sent, chat);
      return TRUE;
    }
  else if (g_str_equal (cmd, "contacts"))
    emit_contacts (chat);
  else if (g_str_equal (cmd, "history"))
    {
      HistoryRequest *request;
      gint64 limit = HISTORY_DEFAULT;
      JsonNode *node = json_object_get_member (command, "limit");

      if (!get_key (command, "with", key))
        return FALSE;
      if (node != NULL)
        {
          if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64
              || json_node_get_int (node) < 1 || json_node_get_int (node) > HISTORY_MAX)
            {
              g_autofree char *message =
                g_strdup_printf (_("“limit” must be a number from 1 to %d"), HISTORY_MAX);

              emit_error (message);
              return FALSE;
            }
          limit = json_node_get_int (node);
        }
      request = g_new0 (HistoryRequest, 1);
      request->chat = chat;
      request->with = g_strdup (get_string (command, "with"));
      ep_store_load_messages_async (ep_node_get_store (chat->node), key, NULL, (guint) limit,
                                    NULL, on_history, request);
      return TRUE;
    }
  else if (g_str_equal (cmd, "typing"))
    {
      JsonNode *node = json_object_get_member (command, "typing");
      gboolean typing;
      JsonBuilder *b;

      if (!get_key (command, "to", key))
        return FALSE;
      if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
          || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
        {
          emit_error (_("“typing” must be true or false"));
          return FALSE;
        }
      if (ep_contact_list_lookup (ep_node_get_contacts (chat->node),
                                  get_string (command, "to")) == NULL)
        {
          emit_error (_("That key is not one of your contacts"));
          return FALSE;
        }
      typing = json_node_get_boolean (node);
      ep_node_set_typing (chat->node, key, typing);
      b = event_new ("typing-sent");
      add_string (b, "to", get_string (command, "to"));
      json_builder_set_member_name (b, "typing");
      json_builder_add_boolean_value (b, typing);
      event_end (b);
    }
  else if (g_str_equal (cmd, "quit"))
    quit (chat);
  else
    {
      g_autofree char *message = g_strdup_printf (_("Unknown command “%s”"), cmd);

      emit_error (message);
    }
  return FALSE;
}

/* Commands run one after the other so that answers come in order. */
static void
next_command (Chat *chat)
{
  while (!chat->busy && !g_queue_is_empty (&chat->pending))
    {
      JsonObject *command = g_queue_pop_head (&chat->pending);

      chat->busy = run_command (chat, command);
      json_object_unref (command);
    }
  if (!chat->busy && g_queue_is_empty (&chat->pending) && chat->eof)
    g_main_loop_quit (chat->loop);
}

static void read_next_line (Chat *chat);

static void
on_line (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Chat *chat = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  gsize len = 0;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, &len,
                                                    &error);
  if (line == NULL)
    {
      if (error != NULL)
        emit_error (error->message);
      /* End of input: quit once what came before is answered. */
      chat->eof = TRUE;
      next_command (chat);
      return;
    }

  g_strstrip (line);
  if (*line != '\0')
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonNode *root;

      if (len > MAX_LINE)
        emit_error (_("The line is too long"));
      else if (!json_parser_load_from_data (parser, line, -1, &error))
        emit_error (error->message);
      else if ((root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
        emit_error (_("A command is an object with a “cmd” member"));
      else
        {
          g_queue_push_tail (&chat->pending, json_object_ref (json_node_get_object (root)));
          next_command (chat);
        }
    }

  if (!chat->eof)
    read_next_line (chat);
}

static void
read_next_line (Chat *chat)
{
  g_data_input_stream_read_line_async (chat->input, G_PRIORITY_DEFAULT, NULL, on_line, chat);
}

/* SIGINT, SIGTERM: stop as if standard input had closed. */
static gboolean
on_signal (gpointer user_data)
{
  quit (user_data);
  return G_SOURCE_CONTINUE;
}

static void
on_started (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Chat *chat = user_data;
  g_autoptr(GError) error = NULL;

  if (!ep_node_start_finish (EP_NODE (source), result, &error))
    {
      ep_cli_print_error ("chat", error);
      chat->exit_code = EP_CLI_EXIT_FAILURE;
      g_main_loop_quit (chat->loop);
      return;
    }
  emit_ready (chat);
  read_next_line (chat);
}

int
ep_cli_chat_main (int    argc,
                  char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *profile = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *name = NULL;
  g_autofree char *passphrase_file = NULL;
  g_autoptr(EpCliPassphrase) passphrase = NULL;
  g_autoptr(GInputStream) stdin_stream = NULL;
  g_auto(GStrv) relays = NULL;
  EpCliNetOptions net = { 0 };
  gboolean no_lan = FALSE;
  EpNodeSettings *settings;
  EpNodeSettings saved = { 0 };
  Chat chat = { 0 };
  guint sigint, sigterm;
  const GOptionEntry entries[] = {
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile,
      N_("The profile directory (default: the user’s data directory)"), N_("DIR") },
    { "passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &passphrase_file,
      N_("Unlock a profile protected by a passphrase with the first line of FILE "
         "(mode 0600)"), N_("FILE") },
    { "no-lan", 0, 0, G_OPTION_ARG_NONE, &no_lan,
      N_("Do not look for contacts on the local network"), NULL },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name,
      N_("The name contacts see"), N_("NAME") },
    { "relay", 0, 0, G_OPTION_ARG_STRING_ARRAY, &relays,
      N_("Use the relay KEYHEX@HOST:PORT (from “serve --relay”) for contacts that cannot be "
         "reached directly; repeatable"), N_("KEYHEX@HOST:PORT") },
    { NULL }
  };

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                _("Chat with contacts: JSON commands on standard input, one per "
                                  "line; JSON events on standard output. Closing standard input "
                                  "quits."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  ep_cli_net_options_add (context, &net);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      ep_cli_print_error ("chat", error);
      ep_cli_net_options_clear (&net);
      return EP_CLI_EXIT_USAGE;
    }
  if (argc > 1 || net.port < 0 || net.port > G_MAXUINT16)
    {
      g_printerr ("encryptedp2p-node chat: %s\n",
                  argc > 1 ? _("No arguments are taken besides the options")
                           : _("The port must be between 0 and 65535"));
      ep_cli_net_options_clear (&net);
      return EP_CLI_EXIT_USAGE;
    }

  for (guint i = 0; relays != NULL && relays[i] != NULL; i++)
    {
      g_autoptr(GSocketAddress) address = NULL;
      guint8 key[32];

      if (!ep_relay_spec_parse (relays[i], key, &address, &error))
        {
          ep_cli_print_error ("chat", error);
          ep_cli_net_options_clear (&net);
          return EP_CLI_EXIT_USAGE;
        }
    }

  if (passphrase_file != NULL)
    passphrase = ep_cli_read_passphrase_file (passphrase_file, &error);
  if (passphrase_file == NULL || passphrase != NULL)
    dir = ep_profile_resolve_dir (profile, &error);
  if (dir != NULL)
    chat.node = ep_node_open (dir, passphrase, &error);
  if (chat.node == NULL)
    {
      if (g_error_matches (error, EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_NEEDS_PASSPHRASE))
        {
          g_autoptr(GError) hint =
            g_error_new (EP_IDENTITY_ERROR, EP_IDENTITY_ERROR_NEEDS_PASSPHRASE,
                         _("The profile’s keys are protected by a passphrase; give it "
                           "with --passphrase-file FILE"));

          g_clear_error (&error);
          error = g_steal_pointer (&hint);
        }
      ep_cli_print_error ("chat", error);
      ep_cli_net_options_clear (&net);
      return EP_CLI_EXIT_FAILURE;
    }

  for (guint i = 0; relays != NULL && relays[i] != NULL; i++)
    {
      g_autoptr(GSocketAddress) address = NULL;
      guint8 key[32];

      if (!ep_relay_spec_parse (relays[i], key, &address, &error)
          || !ep_node_add_relay (chat.node, key, address))
        {
          if (error == NULL)
            g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                         _("“%s” cannot be used as a relay: it is our own key, or there are "
                           "more than %d relays"), relays[i], EP_NODE_MAX_RELAYS);
          ep_cli_print_error ("chat", error);
          g_clear_object (&chat.node);
          ep_cli_net_options_clear (&net);
          return EP_CLI_EXIT_USAGE;
        }
    }

  /* Options win over the profile's settings for this run only. */
  settings = ep_node_get_settings (chat.node);
  saved.port = settings->port;
  saved.bind_address = g_strdup (settings->bind_address);
  saved.bootstrap = g_strdupv (settings->bootstrap);
  saved.relays = g_strdupv (settings->relays);
  saved.lan_discovery = settings->lan_discovery;
  if (net.port != 0)
    settings->port = (guint16) net.port;
  if (net.bind != NULL)
    {
      g_free (settings->bind_address);
      settings->bind_address = g_strdup (net.bind);
    }
  if (net.bootstrap != NULL && net.bootstrap[0] != NULL)
    {
      g_strfreev (settings->bootstrap);
      settings->bootstrap = g_strdupv (net.bootstrap);
    }
  else if (settings->bootstrap == NULL && !net.no_default_bootstrap)
    settings->bootstrap = g_strdupv ((char **) ep_cli_default_bootstrap ());
  if (no_lan)
    settings->lan_discovery = FALSE;
  if (name != NULL)
    ep_node_set_name (chat.node, name);
  ep_cli_net_options_clear (&net);


  g_signal_connect (chat.node, "message-received", G_CALLBACK (on_message_received), &chat);
  g_signal_connect (chat.node, "message-status-changed", G_CALLBACK (on_status_changed), &chat);
  g_signal_connect (chat.node, "contact-request", G_CALLBACK (on_contact_request), &chat);
  g_signal_connect (chat.node, "contact-request-answered", G_CALLBACK (on_request_answered),
                    &chat);
  g_signal_connect (chat.node, "contact-presence-changed", G_CALLBACK (on_presence_changed),
                    &chat);

  stdin_stream = g_unix_input_stream_new (0, FALSE);
  chat.input = g_data_input_stream_new (stdin_stream);
  g_data_input_stream_set_newline_type (chat.input, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  g_queue_init (&chat.pending);
  chat.loop = g_main_loop_new (NULL, FALSE);

  sigint = g_unix_signal_add (SIGINT, on_signal, &chat);
  sigterm = g_unix_signal_add (SIGTERM, on_signal, &chat);
  g_signal_connect (ep_node_get_contacts (chat.node), "items-changed",
                    G_CALLBACK (on_contacts_changed), &chat);

  ep_node_start_async (chat.node, NULL, on_started, &chat);
  g_main_loop_run (chat.loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);

  unwatch_typing (&chat);
  g_signal_handlers_disconnect_by_data (chat.node, &chat);
  ep_node_settings_clear (settings);
  *settings = saved;
  ep_node_stop (chat.node);
  g_queue_clear_full (&chat.pending, (GDestroyNotify) json_object_unref);
  g_clear_object (&chat.input);
  g_clear_object (&chat.node);
  g_main_loop_unref (chat.loop);
  return chat.exit_code;
}
