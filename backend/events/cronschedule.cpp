// SPDX-License-Identifier: GPL-3.0-or-later
#include "events/cronschedule.h"

#include <array>
#include <cctype>
#include <charconv>
#include <span>
#include <string>
#include <vector>

namespace dispatch::events {

namespace {

constexpr std::array<std::string_view, 12> kMonthNames{"jan", "feb", "mar", "apr", "may", "jun",
                                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kDayNames{"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct Bounds
{
    const char *field;
    int min;
    int max;
    std::span<const std::string_view> names; // names[i] stands for nameBase + i
    int nameBase = 0;
};

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto &c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::optional<int> parseNumber(std::string_view s)
{
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size())
        return std::nullopt;
    return v;
}

std::optional<int> parseValue(std::string_view s, const Bounds &b)
{
    if (auto n = parseNumber(s))
        return n;
    const std::string l = lower(s);
    for (std::size_t i = 0; i < b.names.size(); ++i)
        if (b.names[i] == l)
            return static_cast<int>(i) + b.nameBase;
    return std::nullopt;
}

std::vector<std::string_view> split(std::string_view s, char sep)
{
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true) {
        const auto pos = s.find(sep, start);
        out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
        if (pos == std::string_view::npos)
            return out;
        start = pos + 1;
    }
}

// One comma-separated part of a field, e.g. "*/5", "1-10/2", "MON", "3/15". Returns an error or "".
std::string parseRange(std::string_view expr, const Bounds &b, uint64_t &bits, bool &star)
{
    const std::string quoted = "'" + std::string(expr) + "' in the " + b.field + " field";
    if (expr.empty())
        return "empty value in the " + std::string(b.field) + " field";
    const auto rangeAndStep = split(expr, '/');
    if (rangeAndStep.size() > 2)
        return "too many slashes in " + quoted;
    const auto lowHigh = split(rangeAndStep[0], '-');
    if (lowHigh.size() > 2)
        return "too many hyphens in " + quoted;
    int start = 0;
    int end = 0;
    bool isStar = false;
    if (rangeAndStep[0] == "*" || rangeAndStep[0] == "?") {
        start = b.min;
        end = b.max;
        isStar = true;
    } else {
        auto s = parseValue(lowHigh[0], b);
        if (!s)
            return "cannot read " + quoted;
        start = *s;
        end = start;
        if (lowHigh.size() == 2) {
            auto e = parseValue(lowHigh[1], b);
            if (!e)
                return "cannot read " + quoted;
            end = *e;
        }
    }
    int step = 1;
    if (rangeAndStep.size() == 2) {
        auto s = parseNumber(rangeAndStep[1]);
        if (!s || *s <= 0)
            return "the step must be a positive number in " + quoted;
        step = *s;
        if (!isStar && lowHigh.size() == 1)
            end = b.max; // "a/n" means a to the maximum, every n
    }
    if (start < b.min || end > b.max)
        return "value out of range (" + std::to_string(b.min) + "-" + std::to_string(b.max) + ") in " + quoted;
    if (start > end)
        return "the range start is beyond its end in " + quoted;
    for (int i = start; i <= end; i += step)
        bits |= uint64_t{1} << i;
    // "*/n" restricts the field; only a plain "*" or "?" leaves it open (matters for the day fields).
    star = star || (isStar && step == 1);
    return {};
}

std::string parseField(std::string_view field, const Bounds &b, uint64_t &bits, bool &star)
{
    bits = 0;
    star = false;
    for (auto part : split(field, ','))
        if (auto e = parseRange(part, b, bits, star); !e.empty())
            return e;
    return {};
}

// A Go duration such as "10s", "1m30s", "1.5h", "500ms"; rounded down to whole seconds, at least one.
std::optional<std::chrono::seconds> parseGoDuration(std::string_view s)
{
    if (s.empty())
        return std::nullopt;
    double total = 0;
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t j = i;
        while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.'))
            ++j;
        if (j == i)
            return std::nullopt;
        double value = 0;
        try {
            value = std::stod(std::string(s.substr(i, j - i)));
        } catch (...) {
            return std::nullopt;
        }
        std::size_t k = j;
        while (k < s.size() && std::isalpha(static_cast<unsigned char>(s[k])))
            ++k;
        const std::string_view unit = s.substr(j, k - j);
        if (unit == "h")
            total += value * 3600;
        else if (unit == "m")
            total += value * 60;
        else if (unit == "s")
            total += value;
        else if (unit == "ms")
            total += value / 1000;
        else if (unit == "us")
            total += value / 1e6;
        else if (unit == "ns")
            total += value / 1e9;
        else
            return std::nullopt;
        i = k;
    }
    if (total > 100.0 * 365 * 86400)
        return std::nullopt;
    return std::chrono::seconds(std::max<int64_t>(1, static_cast<int64_t>(total)));
}

} // namespace

Result<CronSchedule> CronSchedule::parse(std::string_view spec)
{
    std::vector<std::string_view> fields;
    for (std::size_t i = 0; i < spec.size();) {
        while (i < spec.size() && std::isspace(static_cast<unsigned char>(spec[i])))
            ++i;
        std::size_t j = i;
        while (j < spec.size() && !std::isspace(static_cast<unsigned char>(spec[j])))
            ++j;
        if (j > i)
            fields.push_back(spec.substr(i, j - i));
        i = j;
    }
    if (fields.empty())
        return ApiError::badRequest("the cron spec is empty");

    static const std::vector<std::pair<std::string_view, std::string_view>> descriptors = {
        {"@yearly", "0 0 0 1 1 *"},   {"@annually", "0 0 0 1 1 *"}, {"@monthly", "0 0 0 1 * *"},
        {"@weekly", "0 0 0 * * 0"},   {"@daily", "0 0 0 * * *"},    {"@midnight", "0 0 0 * * *"},
        {"@hourly", "0 0 * * * *"},
    };
    if (fields[0].front() == '@') {
        const std::string d = lower(fields[0]);
        if (d == "@every") {
            auto every = fields.size() == 2 ? parseGoDuration(fields[1]) : std::nullopt;
            if (!every)
                return ApiError::badRequest("cannot read the duration of '" + std::string(spec) +
                                            "' (e.g. @every 10s, @every 1h30m)");
            CronSchedule s;
            s.m_every = *every;
            return s;
        }
        for (const auto &[name, expansion] : descriptors)
            if (name == d && fields.size() == 1)
                return parse(expansion);
        return ApiError::badRequest("unknown cron descriptor '" + std::string(spec) + "'");
    }
    if (fields.size() != 5 && fields.size() != 6)
        return ApiError::badRequest("expected 5 or 6 fields (sec min hour dom month [dow]), found " +
                                    std::to_string(fields.size()) + " in '" + std::string(spec) + "'");

    CronSchedule s;
    bool ignored = false;
    const Bounds seconds{"seconds", 0, 59, {}};
    const Bounds minutes{"minutes", 0, 59, {}};
    const Bounds hours{"hours", 0, 23, {}};
    const Bounds dom{"day of month", 1, 31, {}};
    const Bounds months{"month", 1, 12, kMonthNames, 1};
    const Bounds dow{"day of week", 0, 7, kDayNames, 0};
    std::string err;
    if (err = parseField(fields[0], seconds, s.m_seconds, ignored); !err.empty())
        return ApiError::badRequest(err);
    if (err = parseField(fields[1], minutes, s.m_minutes, ignored); !err.empty())
        return ApiError::badRequest(err);
    if (err = parseField(fields[2], hours, s.m_hours, ignored); !err.empty())
        return ApiError::badRequest(err);
    if (err = parseField(fields[3], dom, s.m_daysOfMonth, s.m_domStar); !err.empty())
        return ApiError::badRequest(err);
    if (err = parseField(fields[4], months, s.m_months, ignored); !err.empty())
        return ApiError::badRequest(err);
    if (fields.size() == 6) {
        if (err = parseField(fields[5], dow, s.m_daysOfWeek, s.m_dowStar); !err.empty())
            return ApiError::badRequest(err);
        if (s.m_daysOfWeek & (uint64_t{1} << 7)) // 7 is Sunday too
            s.m_daysOfWeek = (s.m_daysOfWeek & ~(uint64_t{1} << 7)) | 1;
    } else {
        s.m_daysOfWeek = 0x7f;
        s.m_dowStar = true;
    }
    return s;
}

bool CronSchedule::dayMatches(int dayOfMonth, int dayOfWeek) const
{
    const bool domMatch = (m_daysOfMonth >> dayOfMonth) & 1;
    const bool dowMatch = (m_daysOfWeek >> dayOfWeek) & 1;
    if (m_domStar || m_dowStar)
        return domMatch && dowMatch;
    return domMatch || dowMatch;
}

bool CronSchedule::matches(const std::tm &t) const
{
    return ((m_seconds >> t.tm_sec) & 1) && ((m_minutes >> t.tm_min) & 1) && ((m_hours >> t.tm_hour) & 1) &&
           ((m_months >> (t.tm_mon + 1)) & 1) && dayMatches(t.tm_mday, t.tm_wday);
}

std::optional<CronSchedule::TimePoint> CronSchedule::next(TimePoint after) const
{
    if (m_every)
        return after + *m_every;
    const std::time_t start =
        std::chrono::duration_cast<std::chrono::seconds>(after.time_since_epoch()).count() + 1;
    std::tm first{};
    if (!localtime_r(&start, &first))
        return std::nullopt;
    constexpr int kDaysSearched = 5 * 366 + 1;
    for (int offset = 0; offset < kDaysSearched; ++offset) {
        // Noon of the day: never inside a DST gap, so mktime normalises the date without surprises.
        std::tm day = first;
        day.tm_mday += offset;
        day.tm_hour = 12;
        day.tm_min = 0;
        day.tm_sec = 0;
        day.tm_isdst = -1;
        if (std::mktime(&day) == -1)
            continue;
        if (!((m_months >> (day.tm_mon + 1)) & 1) || !dayMatches(day.tm_mday, day.tm_wday))
            continue;
        const bool today = offset == 0;
        for (int h = 0; h < 24; ++h) {
            if (!((m_hours >> h) & 1) || (today && h < first.tm_hour))
                continue;
            const bool sameHour = today && h == first.tm_hour;
            for (int m = 0; m < 60; ++m) {
                if (!((m_minutes >> m) & 1) || (sameHour && m < first.tm_min))
                    continue;
                const bool sameMinute = sameHour && m == first.tm_min;
                for (int s = 0; s < 60; ++s) {
                    if (!((m_seconds >> s) & 1) || (sameMinute && s < first.tm_sec))
                        continue;
                    std::tm c{};
                    c.tm_year = day.tm_year;
                    c.tm_mon = day.tm_mon;
                    c.tm_mday = day.tm_mday;
                    c.tm_hour = h;
                    c.tm_min = m;
                    c.tm_sec = s;
                    c.tm_isdst = -1;
                    const std::time_t t = std::mktime(&c);
                    // A local time inside a DST gap does not exist: mktime moves it, and it is skipped.
                    if (t == -1 || c.tm_hour != h || c.tm_min != m || c.tm_mday != day.tm_mday || t < start)
                        continue;
                    return std::chrono::system_clock::from_time_t(t);
                }
            }
        }
    }
    return std::nullopt;
}

} // namespace dispatch::events
