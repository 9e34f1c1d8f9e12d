// A cron schedule with a SECONDS field, as the Dispatch cron driver (dispatchframework/dispatch-events-cron)
// reads it with robfig/cron: "sec min hour dom month [dow]" — with five fields the first is still seconds and
// the day of week is "*" ("0/10 * * * *" fires every ten seconds). Fields take "*", "?", "n", "a-b", "*/n",
// "a/n" (a to the maximum), "a-b/n", comma lists, and the names JAN–DEC / SUN–SAT. As in cron, when both
// day of month and day of week are restricted a day matches either; otherwise both must match.
// Descriptors: @yearly (@annually), @monthly, @weekly, @daily (@midnight), @hourly, @every <duration>.
// Times are the server's local time, like robfig/cron's default.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string_view>

#include "core/error.h"

namespace dispatch::events {

class CronSchedule
{
public:
    using TimePoint = std::chrono::system_clock::time_point;

    // A schedule, or a 400 ApiError whose message says what is wrong with the spec.
    static Result<CronSchedule> parse(std::string_view spec);

    // The first matching whole second strictly after `after`; nullopt when nothing matches within five years
    // (e.g. "0 0 0 30 2 *"). For @every: `after` plus the interval.
    std::optional<TimePoint> next(TimePoint after) const;

    // Whether the broken-down local time matches (not meaningful for @every).
    bool matches(const std::tm &local) const;

    // Set for "@every <duration>" (at least one second).
    std::optional<std::chrono::seconds> every() const { return m_every; }

private:
    bool dayMatches(int dayOfMonth, int dayOfWeek) const;

    uint64_t m_seconds = 0;
    uint64_t m_minutes = 0;
    uint64_t m_hours = 0;
    uint64_t m_daysOfMonth = 0;
    uint64_t m_months = 0;
    uint64_t m_daysOfWeek = 0;
    bool m_domStar = false;
    bool m_dowStar = false;
    std::optional<std::chrono::seconds> m_every;
};

} // namespace dispatch::events
