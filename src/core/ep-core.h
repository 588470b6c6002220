/* ep-core.h — umbrella header of libep-core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ep-bencode.h"
#include "ep-krpc.h"
#include "ep-profile.h"
#include "ep-routing-table.h"
#include "ep-udp.h"
