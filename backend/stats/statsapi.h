// The statistics extension of the API, on top of RunStats (registered as RestApi::addService("stats", …)):
//   GET /v1/stats?function=&from=&to=&resolution=minute|hour|auto   rollup buckets and their total
//   GET /v1/stats/errors?function=&from=&to=&limit=                 failed runs grouped by (type, message)
// from/to are Unix seconds ([from, to), default: the last hour); the org comes from X-Dispatch-Org. The
// shapes are documented in stats/README.md.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "api/restapi.h"
#include "core/clock.h"
#include "stats/runstats.h"

namespace dispatch::stats {

class StatsApi
{
public:
    // Answers over this many buckets are refused (400): ask for hour resolution instead.
    static constexpr int64_t kMaxBuckets = 20000;
    static constexpr std::size_t kMaxErrorGroups = 1000;
    // `auto` picks minutes for ranges up to this long that the minute rows still cover, hours otherwise.
    static constexpr int64_t kAutoMinuteRangeSeconds = 6 * 3600;

    StatsApi(RunStats &stats, const Clock &clock);
    api::RouteService route();

    void handle(const api::RouteRequest &request, const api::Reply &reply);

private:
    void stats(const api::RouteRequest &request, const api::Reply &reply);
    void errors(const api::RouteRequest &request, const api::Reply &reply);

    RunStats &m_stats;
    const Clock &m_clock;
};

} // namespace dispatch::stats
