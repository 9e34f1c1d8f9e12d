// SPDX-License-Identifier: GPL-3.0-or-later
#include "stats/runcounters.h"

#include <iterator>
#include <spdlog/fmt/fmt.h>

namespace dispatch::stats {

ErrorType errorTypeOf(std::string_view type)
{
    if (type == kErrorTypeNames[0])
        return ErrorType::Input;
    if (type == kErrorTypeNames[1])
        return ErrorType::Function;
    return ErrorType::System;
}

std::string_view errorTypeName(ErrorType type)
{
    return kErrorTypeNames[static_cast<std::size_t>(type)];
}

void RunCounters::add(const RunOutcome &run)
{
    ++count;
    if (run.ready) {
        ++ready;
    } else {
        ++error;
        ++errorTypes[static_cast<std::size_t>(errorTypeOf(run.errorType))];
    }
    if (run.coldStart)
        ++coldStarts;
    if (run.durationNs >= 0) {
        histogram.add(run.durationNs);
        durationSumNs += run.durationNs;
    }
}

void RunCounters::merge(const RunCounters &other)
{
    count += other.count;
    ready += other.ready;
    error += other.error;
    for (std::size_t i = 0; i < kErrorTypes; ++i)
        errorTypes[i] += other.errorTypes[i];
    coldStarts += other.coldStarts;
    durationSumNs += other.durationSumNs;
    histogram.merge(other.histogram);
}

void RunCounters::appendJson(std::string &out, std::optional<int64_t> time) const
{
    auto it = std::back_inserter(out);
    out += '{';
    if (time)
        fmt::format_to(it, "\"time\":{},", *time);
    fmt::format_to(it,
                   "\"count\":{},\"ready\":{},\"error\":{},\"errorTypes\":{{\"{}\":{},\"{}\":{},\"{}\":{}}},"
                   "\"coldStarts\":{}",
                   count, ready, error, kErrorTypeNames[0], errorTypes[0], kErrorTypeNames[1], errorTypes[1],
                   kErrorTypeNames[2], errorTypes[2], coldStarts);
    // Finite doubles in fmt's shortest round-trip form are valid JSON numbers.
    auto number = [&it](const char *name, std::optional<double> v) {
        if (v)
            fmt::format_to(it, ",\"{}\":{}", name, *v);
        else
            fmt::format_to(it, ",\"{}\":null", name);
    };
    number("p50", histogram.quantileMs(0.50));
    number("p95", histogram.quantileMs(0.95));
    number("p99", histogram.quantileMs(0.99));
    const uint64_t timed = histogram.total();
    number("meanMs", timed > 0 ? std::optional<double>(static_cast<double>(durationSumNs) /
                                                       static_cast<double>(timed) / 1e6)
                               : std::nullopt);
    out += '}';
}

nlohmann::json RunCounters::toJson() const
{
    std::string text;
    appendJson(text);
    return nlohmann::json::parse(text);
}

} // namespace dispatch::stats
