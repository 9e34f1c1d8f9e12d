// Identifiers: random UUIDs (v4) for entities and revisions, time-ordered UUIDs (v7) for runs.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <string>

namespace dispatch {

std::string newUuid();
// A UUID version 7 (RFC 9562): the Unix time in milliseconds, then 74 random bits. Ids made later sort
// after earlier ones (as text too), so a database index on them grows at its end instead of at random
// pages: one page per commit instead of one per run. Still a UUID for every client.
std::string newTimeOrderedUuid(long long unixNs);
// An RFC 3339 UTC timestamp with millisecond precision, e.g. 2026-11-25T18:37:23.123Z.
std::string formatRfc3339(long long unixNs);

} // namespace dispatch
