/* ep-core.h — umbrella header of libep-core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ep-contact-list.h"
#include "ep-contact.h"
#include "ep-conversation.h"
#include "ep-fragment.h"
#include "ep-frame.h"
#include "ep-lamport.h"
#include "ep-message.h"
#include "ep-profile.h"
#include "ep-store.h"
#include "ep-udp.h"
