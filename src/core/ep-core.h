/* ep-core.h — umbrella header of libep-core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ep-noise.h"
#include "ep-profile.h"
#include "ep-replay-window.h"
#include "ep-session.h"
#include "ep-session-manager.h"
#include "ep-udp.h"
