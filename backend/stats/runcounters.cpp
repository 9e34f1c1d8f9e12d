// SPDX-License-Identifier: GPL-3.0-or-later
#include "stats/runcounters.h"

namespace dispatch::stats {

namespace {

nlohmann::json orNull(const std::optional<double> &v)
{
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

} // namespace

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

nlohmann::json RunCounters::toJson() const
{
    nlohmann::json types = nlohmann::json::object();
    for (std::size_t i = 0; i < kErrorTypes; ++i)
        types[std::string(kErrorTypeNames[i])] = errorTypes[i];
    const uint64_t timed = histogram.total();
    std::optional<double> mean;
    if (timed > 0)
        mean = static_cast<double>(durationSumNs) / static_cast<double>(timed) / 1e6;
    return {{"count", count},
            {"ready", ready},
            {"error", error},
            {"errorTypes", std::move(types)},
            {"coldStarts", coldStarts},
            {"p50", orNull(histogram.quantileMs(0.50))},
            {"p95", orNull(histogram.quantileMs(0.95))},
            {"p99", orNull(histogram.quantileMs(0.99))},
            {"meanMs", orNull(mean)}};
}

} // namespace dispatch::stats
