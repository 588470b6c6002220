/* ep-lan-channel.h — one multicast socket of LAN discovery (one family)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _EpLanChannel EpLanChannel;

/* @data is only valid during the call, which may free the channel. */
typedef void (*EpLanChannelReceiveFunc) (GSocketAddress *from,
                                         const guint8   *data,
                                         gsize           len,
                                         gpointer        user_data);

EpLanChannel *ep_lan_channel_open      (GSocketFamily             family,
                                        const char               *group,
                                        guint16                   port,
                                        const char               *interface,
                                        GMainContext             *context,
                                        EpLanChannelReceiveFunc   receive,
                                        gpointer                  user_data,
                                        GError                  **error);
void          ep_lan_channel_refresh   (EpLanChannel             *channel);
guint         ep_lan_channel_send      (EpLanChannel             *channel,
                                        const guint8             *data,
                                        gsize                     len,
                                        guint                    *n_errors);
GSocketFamily ep_lan_channel_get_family (EpLanChannel            *channel);
void          ep_lan_channel_free      (EpLanChannel             *channel);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpLanChannel, ep_lan_channel_free)

G_END_DECLS
