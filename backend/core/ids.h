// Random identifiers (UUID v4) for entities, runs and revisions.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <string>

namespace dispatch {

std::string newUuid();
// An RFC 3339 UTC timestamp with millisecond precision, e.g. 2026-11-25T18:37:23.123Z.
std::string formatRfc3339(long long unixNs);

} // namespace dispatch
