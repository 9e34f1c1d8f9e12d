// Run statistics maintained as runs finish (never by scanning the run table): per (org, function, minute) and
// per (org, minute) over every function, counts by status and error type, cold starts and a duration
// histogram; plus failed runs grouped by (function, error type, message). Finished runs are added to
// in-memory deltas; flush() hands the changed buckets to the store's writer, which adds them to the minute
// and hour rollup tables in one transaction. Queries read the tables and add the deltas the snapshot they
// read does not hold yet, so an answer counts every run recorded before it, without waiting for a commit.
// The periodic flush and retention run on a timer (start()); the tables keep minute rows for
// minuteRetention and hour rows and error groups for hourRetention.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "core/clock.h"
#include "stats/runcounters.h"
#include "store/store.h"
#include "wire/models.h"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dispatch::stats {

struct RunStatsOptions
{
    std::chrono::seconds minuteRetention{std::chrono::hours(24 * 7)};
    std::chrono::seconds hourRetention{std::chrono::hours(24 * 90)};
    std::size_t maxErrorGroupsPerFunction = 1000; // the least recently seen groups are evicted
    std::size_t maxMessageBytes = 1024;           // longer error messages are cut (at a UTF-8 boundary)
    // Buckets (or error groups) changed since the last flush that make record() flush at once.
    std::size_t maxPendingBuckets = 4096;
    std::size_t maxSeries = 10000; // (org, function) pairs on /metrics; further ones share one series
    std::chrono::milliseconds flushInterval{1000};
    std::chrono::seconds retentionInterval{60};
};

enum class Resolution
{
    Minute,
    Hour,
};
int64_t resolutionSeconds(Resolution resolution);

struct StatsQuery
{
    std::string org;
    std::optional<std::string> function; // nullopt: every function of the org
    int64_t fromSeconds = 0;             // buckets overlapping [from, to)
    int64_t toSeconds = 0;
    Resolution resolution = Resolution::Minute;
};

struct StatsBucket
{
    int64_t time = 0; // Unix seconds at the start of the bucket
    RunCounters counters;
};

struct StatsAnswer
{
    bool ok = false;                  // false: the store could not be read
    std::vector<StatsBucket> buckets; // oldest first; buckets without runs are left out
    RunCounters total;
};

struct ErrorGroupQuery
{
    std::string org;
    std::optional<std::string> function;
    int64_t fromNs = 0; // groups seen in [from, to)
    int64_t toNs = 0;
    std::size_t limit = 100;
};

struct ErrorGroup
{
    std::string function;
    std::string type;
    std::string message;
    uint64_t count = 0;
    int64_t firstNs = 0; // executedTime of the first and the last run seen
    int64_t lastNs = 0;
};

struct ErrorGroupsAnswer
{
    bool ok = false;
    std::size_t matched = 0;        // groups in the window, before `limit`
    std::vector<ErrorGroup> groups; // most runs first, then most recently seen
};

// Counts since the server started, for /metrics.
struct Series
{
    std::string org;
    std::string function;
    RunCounters counters;
};

class RunStats
{
public:
    RunStats(store::Store &store, const Clock &clock, RunStatsOptions options = {});
    ~RunStats(); // stops the timer and hands what is pending to the store
    RunStats(const RunStats &) = delete;
    RunStats &operator=(const RunStats &) = delete;

    const RunStatsOptions &options() const;

    // Thread-safe; cheap (two map updates), except when the pending deltas reach their limit and are flushed.
    void record(const RunOutcome &run);
    // A run as Service finishes it (status READY or ERROR).
    void recordRun(const std::string &org, const wire::Run &run);

    // Hands the pending deltas to the store; `done` runs on the writer thread once they are committed (or
    // failed). Without `done`, nothing pending means nothing to do.
    void flush(store::Done done = {});
    // Deletes what is older than the retention periods (by the injected clock).
    void applyRetention(store::Done done = {});

    StatsAnswer query(const StatsQuery &query);
    ErrorGroupsAnswer errorGroups(const ErrorGroupQuery &query);
    std::vector<Series> series() const;

    // Flushes every flushInterval and applies the retention every retentionInterval on `io` until stop().
    void start(boost::asio::io_context &io);
    void stop();

private:
    struct State;
    struct Ticker;
    std::shared_ptr<State> m_state; // shared with the store's completion callbacks
    std::shared_ptr<Ticker> m_ticker;
};

} // namespace dispatch::stats
