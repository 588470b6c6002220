#!/usr/bin/python3
# fake-notifications.py — org.freedesktop.Notifications on the test's bus
#
# Prints one JSON object per line on stdout: {"event": "ready"} once the name
# is owned, {"event": "notify", …} per Notify call, {"event": "close", "id": N}
# per CloseNotification. Reads "invoke ID ACTION" lines on stdin and emits
# ActionInvoked for them. Ends when stdin closes.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import json
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

IFACE = 'org.freedesktop.Notifications'


def out(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


class Notifications(dbus.service.Object):
    def __init__(self, bus):
        super().__init__(bus, '/org/freedesktop/Notifications')
        self.next_id = 1

    @dbus.service.method(IFACE, in_signature='susssasa{sv}i', out_signature='u')
    def Notify(self, app_name, replaces_id, app_icon, summary, body, actions, hints, timeout):
        nid = int(replaces_id)
        if nid == 0:
            nid = self.next_id
            self.next_id += 1
        out({'event': 'notify', 'id': nid, 'app_name': str(app_name),
             'summary': str(summary), 'body': str(body),
             'actions': [str(a) for a in actions],
             'desktop_entry': str(hints.get('desktop-entry', ''))})
        return dbus.UInt32(nid)

    @dbus.service.method(IFACE, in_signature='u')
    def CloseNotification(self, nid):
        out({'event': 'close', 'id': int(nid)})
        self.NotificationClosed(nid, dbus.UInt32(3))

    @dbus.service.method(IFACE, out_signature='as')
    def GetCapabilities(self):
        return ['actions', 'body']

    @dbus.service.method(IFACE, out_signature='ssss')
    def GetServerInformation(self):
        return ('fake-notifications', 'EncryptedP2P tests', '1', '1.2')

    @dbus.service.signal(IFACE, signature='us')
    def ActionInvoked(self, nid, action):
        pass

    @dbus.service.signal(IFACE, signature='uu')
    def NotificationClosed(self, nid, reason):
        pass


def main():
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    server = Notifications(bus)
    name = dbus.service.BusName(IFACE, bus, do_not_queue=True)
    loop = GLib.MainLoop()

    def on_stdin(channel, condition):
        line = sys.stdin.readline()
        if not line:
            loop.quit()
            return False
        words = line.split()
        if len(words) == 3 and words[0] == 'invoke':
            server.ActionInvoked(dbus.UInt32(int(words[1])), words[2])
        return True

    GLib.io_add_watch(sys.stdin, GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP, on_stdin)
    out({'event': 'ready'})
    loop.run()
    del name


if __name__ == '__main__':
    main()
