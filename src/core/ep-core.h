/* ep-core.h — umbrella header of libep-core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ep-bencode.h"
#include "ep-bep42.h"
#include "ep-bep44.h"
#include "ep-dht-storage.h"
#include "ep-dht-tokens.h"
#include "ep-dht.h"
#include "ep-krpc.h"
#include "ep-profile.h"
#include "ep-rate-limit.h"
#include "ep-routing-table.h"
#include "ep-udp.h"
