/* ep-core.h — umbrella header of libep-core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ep-bencode.h"
#include "ep-bep42.h"
#include "ep-bep44.h"
#include "ep-contact-id.h"
#include "ep-contact-list.h"
#include "ep-contact.h"
#include "ep-conversation.h"
#include "ep-dht-storage.h"
#include "ep-dht-tokens.h"
#include "ep-dht.h"
#include "ep-fragment.h"
#include "ep-frame.h"
#include "ep-hlc.h"
#include "ep-identity.h"
#include "ep-krpc.h"
#include "ep-lamport.h"
#include "ep-lan-beacon.h"
#include "ep-lan-discovery.h"
#include "ep-message.h"
#include "ep-noise.h"
#include "ep-presence-record.h"
#include "ep-presence.h"
#include "ep-profile.h"
#include "ep-rate-limit.h"
#include "ep-replay-window.h"
#include "ep-routing-table.h"
#include "ep-session-manager.h"
#include "ep-session.h"
#include "ep-store.h"
#include "ep-udp.h"
