/* ep-core.h — umbrella header of libep-core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ep-contact-id.h"
#include "ep-hlc.h"
#include "ep-identity.h"
#include "ep-profile.h"
#include "ep-udp.h"
