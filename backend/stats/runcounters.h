// What one rollup bucket knows about the runs it holds, and the finished run it is built from.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "stats/durationhistogram.h"

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace dispatch::stats {

// The Dispatch error types; anything else (or a failure without a type) counts as a SystemError.
enum class ErrorType
{
    Input,
    Function,
    System,
};
inline constexpr std::size_t kErrorTypes = 3;
inline constexpr std::array<std::string_view, kErrorTypes> kErrorTypeNames = {"InputError", "FunctionError",
                                                                              "SystemError"};
ErrorType errorTypeOf(std::string_view type);
std::string_view errorTypeName(ErrorType type);

// A run that reached READY or ERROR (or was refused before it reached a worker: ERROR, SystemError).
struct RunOutcome
{
    std::string org;
    std::string function;
    int64_t executedNs = 0; // the run's bucket: the minute it started in (as /v1/runs from/to filter)
    int64_t finishedNs = 0;
    bool ready = false; // READY; otherwise ERROR
    std::string errorType;
    std::string errorMessage;
    int64_t durationNs =
        -1; // time in the handler; -1 = unknown (never reached a worker): not in the histogram
    bool coldStart = false;
};

struct RunCounters
{
    uint64_t count = 0;
    uint64_t ready = 0;
    uint64_t error = 0;
    std::array<uint64_t, kErrorTypes> errorTypes{};
    uint64_t coldStarts = 0;
    int64_t durationSumNs = 0; // over the runs in `histogram` (those with a known duration)
    DurationHistogram histogram;

    void add(const RunOutcome &run);
    void merge(const RunCounters &other);
    bool empty() const { return count == 0; }

    // {["time",]"count","ready","error","errorTypes":{"InputError","FunctionError","SystemError"},
    //  "coldStarts","p50","p95","p99","meanMs"}; the last four in milliseconds over the runs with a known
    // duration, null when there are none. Written straight into `out`: a week of minutes is 10080 of these.
    void appendJson(std::string &out, std::optional<int64_t> time = std::nullopt) const;
    nlohmann::json toJson() const; // the same document

    friend bool operator==(const RunCounters &, const RunCounters &) = default;
};

} // namespace dispatch::stats
