/* ep-impair.c — loss and delay for the NAT lab, without netem
 *
 * The lab's kernel has no sch_netem, so this takes the packets an iptables
 * rule hands to an NFQUEUE queue (`-j NFQUEUE --queue-num N`), drops each
 * with probability --loss percent and lets the rest go after --delay-ms ±
 * --jitter-ms (uniform; jitter reorders, as netem's does). Only verdicts
 * are given: the payload is never copied to user space.
 *
 * Memory is bounded: at most --max-queued packets wait here (more are
 * dropped and counted), and the kernel queue holds as many. SIGTERM or
 * SIGINT lets every waiting packet go, prints the counts on stderr and
 * exits 0. Started, it prints one line "ready" on stdout once the queue is
 * bound, so that a caller knows the rule may be added.
 *
 *   ep-impair --queue 0 --loss 20 --delay-ms 100 --jitter-ms 50
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define DEFAULT_MAX_QUEUED 4096
#define RECV_BUFFER        (64 * 1024)

typedef struct
{
  gint64  due;      /* monotonic µs */
  guint32 id;       /* the kernel's packet id */
} Held;

typedef struct
{
  struct nfq_handle   *handle;
  struct nfq_q_handle *queue;
  GMainLoop           *loop;
  GRand               *rand;
  GArray              *heap;      /* Held, a min-heap on due */
  GSource             *timer;
  double               loss;      /* 0 … 1 */
  gint64               delay_us;
  gint64               jitter_us;
  guint                max_queued;
  guint64              received;
  guint64              dropped_loss;
  guint64              dropped_full;
  guint64              released;
  guint64              recv_errors;
} Impair;

static void arm_timer (Impair *self);

/* Min-heap on due ------------------------------------------------------- */

static void
heap_push (GArray *heap,
           Held    held)
{
  guint i;

  g_array_append_val (heap, held);
  i = heap->len - 1;
  while (i > 0)
    {
      guint parent = (i - 1) / 2;
      Held *a = &g_array_index (heap, Held, parent);
      Held *b = &g_array_index (heap, Held, i);
      Held tmp;

      if (a->due <= b->due)
        break;
      tmp = *a;
      *a = *b;
      *b = tmp;
      i = parent;
    }
}

static Held
heap_pop (GArray *heap)
{
  Held top = g_array_index (heap, Held, 0);
  guint i = 0;

  g_array_index (heap, Held, 0) = g_array_index (heap, Held, heap->len - 1);
  g_array_set_size (heap, heap->len - 1);
  for (;;)
    {
      guint l = 2 * i + 1, r = l + 1, least = i;
      Held tmp;

      if (l < heap->len
          && g_array_index (heap, Held, l).due < g_array_index (heap, Held, least).due)
        least = l;
      if (r < heap->len
          && g_array_index (heap, Held, r).due < g_array_index (heap, Held, least).due)
        least = r;
      if (least == i)
        break;
      tmp = g_array_index (heap, Held, i);
      g_array_index (heap, Held, i) = g_array_index (heap, Held, least);
      g_array_index (heap, Held, least) = tmp;
      i = least;
    }
  return top;
}

/* Verdicts -------------------------------------------------------------- */

static void
verdict (Impair  *self,
         guint32  id,
         guint32  what)
{
  if (nfq_set_verdict (self->queue, id, what, 0, NULL) < 0)
    g_printerr ("ep-impair: verdict on packet %u failed: %s\n", id, g_strerror (errno));
}

static void
release_due (Impair *self,
             gint64  now)
{
  while (self->heap->len > 0 && g_array_index (self->heap, Held, 0).due <= now)
    {
      Held held = heap_pop (self->heap);

      verdict (self, held.id, NF_ACCEPT);
      self->released++;
    }
}

static gboolean
on_timer (gpointer user_data)
{
  Impair *self = user_data;

  g_clear_pointer (&self->timer, g_source_unref);
  release_due (self, g_get_monotonic_time ());
  arm_timer (self);
  return G_SOURCE_REMOVE;
}

/* The one timer fires when the earliest held packet is due. */
static void
arm_timer (Impair *self)
{
  gint64 wait_us;

  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }
  if (self->heap->len == 0)
    return;
  wait_us = g_array_index (self->heap, Held, 0).due - g_get_monotonic_time ();
  self->timer = g_timeout_source_new ((guint) CLAMP ((wait_us + 999) / 1000, 0, G_MAXINT));
  g_source_set_callback (self->timer, on_timer, self, NULL);
  g_source_attach (self->timer, NULL);
}

static int
on_packet (struct nfq_q_handle *queue,
           struct nfgenmsg     *message,
           struct nfq_data     *data,
           void                *user_data)
{
  Impair *self = user_data;
  struct nfqnl_msg_packet_hdr *header = nfq_get_msg_packet_hdr (data);
  Held held;
  gint64 jitter = 0;

  if (header == NULL)
    return 0;
  held.id = ntohl (header->packet_id);
  self->received++;

  if (self->loss > 0 && g_rand_double (self->rand) < self->loss)
    {
      self->dropped_loss++;
      verdict (self, held.id, NF_DROP);
      return 0;
    }
  if (self->delay_us == 0 && self->jitter_us == 0)
    {
      verdict (self, held.id, NF_ACCEPT);
      self->released++;
      return 0;
    }
  if (self->heap->len >= self->max_queued)
    {
      self->dropped_full++;
      verdict (self, held.id, NF_DROP);
      return 0;
    }
  if (self->jitter_us > 0)
    jitter = g_rand_int_range (self->rand, (gint32) -self->jitter_us, (gint32) self->jitter_us + 1);
  held.due = g_get_monotonic_time () + MAX (self->delay_us + jitter, 0);
  heap_push (self->heap, held);
  return 0;
}

static gboolean
on_readable (int          fd,
             GIOCondition condition,
             gpointer     user_data)
{
  Impair *self = user_data;
  char buffer[RECV_BUFFER] __attribute__ ((aligned));

  /* Drain what is there; the socket is non-blocking. */
  for (;;)
    {
      ssize_t n = recv (fd, buffer, sizeof buffer, MSG_DONTWAIT);

      if (n < 0)
        {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            break;
          /* ENOBUFS: the kernel dropped messages for us; go on. */
          self->recv_errors++;
          if (errno != ENOBUFS)
            {
              g_printerr ("ep-impair: recv: %s\n", g_strerror (errno));
              g_main_loop_quit (self->loop);
              return G_SOURCE_REMOVE;
            }
          continue;
        }
      if (n == 0)
        break;
      nfq_handle_packet (self->handle, buffer, (int) n);
    }
  release_due (self, g_get_monotonic_time ());
  arm_timer (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_quit_signal (gpointer user_data)
{
  g_main_loop_quit (((Impair *) user_data)->loop);
  return G_SOURCE_CONTINUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  Impair self = { 0 };
  int queue_num = 0, delay_ms = 0, jitter_ms = 0, max_queued = DEFAULT_MAX_QUEUED;
  gint64 seed = 0;
  double loss = 0;
  guint sigterm, sigint, watch;
  const GOptionEntry entries[] = {
    { "queue", 'q', 0, G_OPTION_ARG_INT, &queue_num, "NFQUEUE queue number (default 0)", "N" },
    { "loss", 'l', 0, G_OPTION_ARG_DOUBLE, &loss, "Drop this percentage of packets", "PERCENT" },
    { "delay-ms", 'd', 0, G_OPTION_ARG_INT, &delay_ms, "Hold each packet this long", "MS" },
    { "jitter-ms", 'j', 0, G_OPTION_ARG_INT, &jitter_ms, "… plus or minus up to this", "MS" },
    { "max-queued", 0, 0, G_OPTION_ARG_INT, &max_queued,
      "Hold at most this many packets; drop (and count) the rest", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed (default: from the clock)", "N" },
    { NULL }
  };

  g_option_context_set_summary (context, "Drop and delay the packets of an NFQUEUE queue.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("ep-impair: %s\n", error->message);
      return 2;
    }
  if (argc > 1 || queue_num < 0 || queue_num > G_MAXUINT16 || loss < 0 || loss > 100
      || delay_ms < 0 || delay_ms > 60000 || jitter_ms < 0 || jitter_ms > 60000
      || max_queued < 1 || max_queued > 1000000)
    {
      g_printerr ("ep-impair: bad arguments (queue 0–65535, loss 0–100, delay and jitter "
                  "0–60000 ms, max-queued 1–1000000)\n");
      return 2;
    }

  self.loss = loss / 100.0;
  self.delay_us = (gint64) delay_ms * 1000;
  self.jitter_us = (gint64) jitter_ms * 1000;
  self.max_queued = (guint) max_queued;
  self.rand = seed != 0 ? g_rand_new_with_seed ((guint32) seed) : g_rand_new ();
  self.heap = g_array_sized_new (FALSE, FALSE, sizeof (Held), 256);

  self.handle = nfq_open ();
  if (self.handle == NULL)
    {
      g_printerr ("ep-impair: cannot open netfilter queue: %s\n", g_strerror (errno));
      return 1;
    }
  self.queue = nfq_create_queue (self.handle, (guint16) queue_num, on_packet, &self);
  if (self.queue == NULL)
    {
      g_printerr ("ep-impair: cannot bind queue %d: %s\n", queue_num, g_strerror (errno));
      nfq_close (self.handle);
      return 1;
    }
  if (nfq_set_mode (self.queue, NFQNL_COPY_META, 0) < 0
      || nfq_set_queue_maxlen (self.queue, (guint32) max_queued) < 0)
    {
      g_printerr ("ep-impair: cannot set up queue %d: %s\n", queue_num, g_strerror (errno));
      nfq_destroy_queue (self.queue);
      nfq_close (self.handle);
      return 1;
    }

  self.loop = g_main_loop_new (NULL, FALSE);
  watch = g_unix_fd_add (nfq_fd (self.handle), G_IO_IN, on_readable, &self);
  sigterm = g_unix_signal_add (SIGTERM, on_quit_signal, &self);
  sigint = g_unix_signal_add (SIGINT, on_quit_signal, &self);
  printf ("ready\n");
  fflush (stdout);

  g_main_loop_run (self.loop);

  g_source_remove (watch);
  g_source_remove (sigterm);
  g_source_remove (sigint);
  if (self.timer != NULL)
    {
      g_source_destroy (self.timer);
      g_clear_pointer (&self.timer, g_source_unref);
    }
  /* Nothing stays stuck in the kernel after us. */
  while (self.heap->len > 0)
    {
      Held held = heap_pop (self.heap);

      verdict (&self, held.id, NF_ACCEPT);
      self.released++;
    }
  g_printerr ("ep-impair: queue %d: %" G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT
              " dropped (loss), %" G_GUINT64_FORMAT " dropped (full), %" G_GUINT64_FORMAT
              " let through, %" G_GUINT64_FORMAT " receive errors\n",
              queue_num, self.received, self.dropped_loss, self.dropped_full, self.released,
              self.recv_errors);

  nfq_destroy_queue (self.queue);
  nfq_close (self.handle);
  g_array_unref (self.heap);
  g_rand_free (self.rand);
  g_main_loop_unref (self.loop);
  return 0;
}
