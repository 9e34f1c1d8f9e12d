// SPDX-License-Identifier: GPL-3.0-or-later
#include "stats/runstats.h"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <compare>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <spdlog/spdlog.h>
#include <utility>

namespace dispatch::stats {

namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;
constexpr int64_t kMinute = 60;
constexpr int64_t kHour = 3600;
const std::string kAllFunctions; // the key of the org's totals ("" is never a function name)

int64_t floorDiv(int64_t a, int64_t b)
{
    const int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t floorTo(int64_t t, int64_t step)
{
    return floorDiv(t, step) * step;
}

struct BucketKey
{
    std::string org;
    std::string function;
    int64_t minute = 0; // Unix seconds
    auto operator<=>(const BucketKey &) const = default;
};
using BucketMap = std::map<BucketKey, RunCounters>;

struct ErrorKey
{
    std::string org;
    std::string function;
    std::string type;
    uint64_t hash = 0;
    auto operator<=>(const ErrorKey &) const = default;
};
struct ErrorDelta
{
    std::string message;
    uint64_t count = 0;
    int64_t firstNs = 0;
    int64_t lastNs = 0;
};
using ErrorMap = std::map<ErrorKey, ErrorDelta>;

// A flush handed to the store: kept until its commit is confirmed and no query may still need it.
struct Epoch
{
    uint64_t id = 0;
    bool settled = false;
    BucketMap buckets;
    ErrorMap errors;
};

// Stable across builds and restarts (stored): FNV-1a, 64 bit.
uint64_t messageHash(std::string_view message)
{
    uint64_t h = 14695981039346656037ull;
    for (unsigned char c : message) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

std::string cutMessage(std::string message, std::size_t maxBytes)
{
    if (message.size() <= maxBytes)
        return message;
    std::size_t n = maxBytes;
    while (n > 0 && (static_cast<unsigned char>(message[n]) & 0xC0) == 0x80)
        --n; // never end inside a UTF-8 sequence
    message.resize(n);
    return message;
}

store::StatsRow toRow(const std::string &org, const std::string &function, int64_t time, const RunCounters &c)
{
    store::StatsRow row;
    row.org = org;
    row.function = function;
    row.time = time;
    row.count = static_cast<int64_t>(c.count);
    row.ready = static_cast<int64_t>(c.ready);
    row.error = static_cast<int64_t>(c.error);
    row.inputErrors = static_cast<int64_t>(c.errorTypes[static_cast<std::size_t>(ErrorType::Input)]);
    row.functionErrors = static_cast<int64_t>(c.errorTypes[static_cast<std::size_t>(ErrorType::Function)]);
    row.systemErrors = static_cast<int64_t>(c.errorTypes[static_cast<std::size_t>(ErrorType::System)]);
    row.coldStarts = static_cast<int64_t>(c.coldStarts);
    row.durationSumNs = c.durationSumNs;
    for (std::size_t k = 0; k < DurationHistogram::kBuckets; ++k)
        row.histogram[k] = static_cast<int64_t>(c.histogram.count(k));
    return row;
}

RunCounters countersOf(const store::StatsRow &row)
{
    auto n = [](int64_t v) { return static_cast<uint64_t>(std::max<int64_t>(v, 0)); };
    RunCounters c;
    c.count = n(row.count);
    c.ready = n(row.ready);
    c.error = n(row.error);
    c.errorTypes[static_cast<std::size_t>(ErrorType::Input)] = n(row.inputErrors);
    c.errorTypes[static_cast<std::size_t>(ErrorType::Function)] = n(row.functionErrors);
    c.errorTypes[static_cast<std::size_t>(ErrorType::System)] = n(row.systemErrors);
    c.coldStarts = n(row.coldStarts);
    c.durationSumNs = row.durationSumNs;
    for (std::size_t k = 0; k < DurationHistogram::kBuckets; ++k)
        c.histogram.addToBucket(k, n(row.histogram[k]));
    return c;
}

static_assert(store::kStatsHistogramColumns == DurationHistogram::kBuckets,
              "the rollup tables have one column per histogram bucket");

} // namespace

int64_t resolutionSeconds(Resolution resolution)
{
    return resolution == Resolution::Minute ? kMinute : kHour;
}

struct RunStats::State : std::enable_shared_from_this<RunStats::State>
{
    State(store::Store &store_, const Clock &clock_, RunStatsOptions options_)
        : store(store_), clock(clock_), options(options_)
    {
    }

    store::Store &store;
    const Clock &clock;
    const RunStatsOptions options;

    std::mutex flushOrder; // epochs reach the store's queue in the order they are numbered
    mutable std::mutex mutex;
    BucketMap pending;
    ErrorMap pendingErrors;
    std::deque<Epoch> inFlight; // oldest first
    uint64_t lastEpoch = 0;
    int activeQueries = 0;
    std::map<std::pair<std::string, std::string>, RunCounters> series;

    struct Cutoffs
    {
        int64_t minuteBefore; // Unix s
        int64_t hourBefore;   // Unix s
        int64_t errorsBeforeNs;
    };
    Cutoffs cutoffs() const
    {
        const int64_t nowNs = clock.nowNs();
        const int64_t nowS = floorDiv(nowNs, kNsPerSecond);
        const int64_t hourRetention = options.hourRetention.count();
        return {nowS - options.minuteRetention.count(), nowS - hourRetention,
                nowNs - hourRetention * kNsPerSecond};
    }

    // With `mutex` held. Epochs settle in order, so the settled ones are a prefix.
    void purgeSettled()
    {
        if (activeQueries != 0)
            return;
        while (!inFlight.empty() && inFlight.front().settled)
            inFlight.pop_front();
    }

    void settle(uint64_t id, bool committed)
    {
        std::lock_guard lock(mutex);
        auto it = std::find_if(inFlight.begin(), inFlight.end(), [id](const Epoch &e) { return e.id == id; });
        if (it != inFlight.end()) {
            if (committed) {
                it->settled = true;
            } else {
                // Neither in the tables nor to be shown from memory: the counts of that flush are lost.
                spdlog::error("stats: {} rollup buckets could not be stored; their counts are lost",
                              it->buckets.size());
                inFlight.erase(it);
            }
        }
        purgeSettled();
    }

    // Without `done` this is opportunistic: when another flush is being queued (possibly waiting for room in
    // the store's queue), the deltas simply wait for the next one.
    void flush(store::Done done)
    {
        std::unique_lock order(flushOrder, std::defer_lock);
        if (done)
            order.lock();
        else if (!order.try_lock())
            return;
        store::StatsBatch batch;
        {
            std::lock_guard lock(mutex);
            if (pending.empty() && pendingErrors.empty() && !done)
                return;
            batch.epoch = ++lastEpoch;
            batch.maxErrorGroupsPerFunction = options.maxErrorGroupsPerFunction;
            const Cutoffs cut = cutoffs();
            BucketMap hours;
            for (const auto &[key, counters] : pending) {
                if (key.minute >= cut.minuteBefore)
                    batch.minutes.push_back(toRow(key.org, key.function, key.minute, counters));
                const int64_t hour = floorTo(key.minute, kHour);
                if (hour >= cut.hourBefore)
                    hours[BucketKey{key.org, key.function, hour}].merge(counters);
            }
            for (const auto &[key, counters] : hours)
                batch.hours.push_back(toRow(key.org, key.function, key.minute, counters));
            for (const auto &[key, g] : pendingErrors)
                if (g.lastNs >= cut.errorsBeforeNs)
                    batch.errors.push_back(store::ErrorGroupRow{key.org, key.function, key.type, key.hash,
                                                                g.message, static_cast<int64_t>(g.count),
                                                                g.firstNs, g.lastNs});
            inFlight.push_back(Epoch{batch.epoch, false, std::move(pending), std::move(pendingErrors)});
            pending.clear();
            pendingErrors.clear();
        }
        const uint64_t epoch = batch.epoch;
        store.addStats(std::move(batch), [self = shared_from_this(), epoch, done = std::move(done)](bool ok) {
            self->settle(epoch, ok);
            if (done)
                done(ok);
        });
    }

    void applyRetention(store::Done done)
    {
        const Cutoffs cut = cutoffs();
        store.deleteStatsBefore(cut.minuteBefore, cut.hourBefore, cut.errorsBeforeNs, std::move(done));
    }
};

namespace {

// Counts a query in progress: while one runs, settled epochs stay in memory, because the snapshot the query
// read may predate their commit.
class QueryScope
{
public:
    explicit QueryScope(std::mutex &mutex, int &active, std::function<void()> onLast)
        : m_mutex(mutex), m_active(active), m_onLast(std::move(onLast))
    {
        std::lock_guard lock(m_mutex);
        ++m_active;
    }
    ~QueryScope()
    {
        std::lock_guard lock(m_mutex);
        if (--m_active == 0)
            m_onLast();
    }
    QueryScope(const QueryScope &) = delete;
    QueryScope &operator=(const QueryScope &) = delete;

private:
    std::mutex &m_mutex;
    int &m_active;
    std::function<void()> m_onLast;
};

} // namespace

struct RunStats::Ticker : std::enable_shared_from_this<RunStats::Ticker>
{
    Ticker(boost::asio::io_context &io, std::shared_ptr<State> state_)
        : timer(io), state(std::move(state_)), lastRetention(std::chrono::steady_clock::now())
    {
    }

    std::mutex mutex; // the timer is touched from the I/O threads and from stop()
    bool stopped = false;
    boost::asio::steady_timer timer;
    std::shared_ptr<State> state;
    std::chrono::steady_clock::time_point lastRetention;

    // With `mutex` held.
    void schedule()
    {
        timer.expires_after(state->options.flushInterval);
        timer.async_wait([weak = weak_from_this()](const boost::system::error_code &ec) {
            if (ec)
                return;
            if (auto self = weak.lock())
                self->tick();
        });
    }

    void tick()
    {
        {
            std::lock_guard lock(mutex);
            if (stopped)
                return;
        }
        try {
            state->flush({});
            const auto now = std::chrono::steady_clock::now();
            if (now - lastRetention >= state->options.retentionInterval) {
                lastRetention = now;
                state->applyRetention({});
            }
        } catch (const std::exception &e) {
            spdlog::error("stats: the periodic flush failed: {}", e.what());
        }
        std::lock_guard lock(mutex);
        if (!stopped)
            schedule();
    }
};

RunStats::RunStats(store::Store &store, const Clock &clock, RunStatsOptions options)
    : m_state(std::make_shared<State>(store, clock, options))
{
    m_state->lastEpoch = store.statsEpoch();
}

RunStats::~RunStats()
{
    stop();
    m_state->flush({});
}

const RunStatsOptions &RunStats::options() const
{
    return m_state->options;
}

void RunStats::record(const RunOutcome &run)
{
    State &s = *m_state;
    const int64_t minute = floorTo(floorDiv(run.executedNs, kNsPerSecond), kMinute);
    bool flushNow = false;
    {
        std::lock_guard lock(s.mutex);
        s.pending[BucketKey{run.org, run.function, minute}].add(run);
        s.pending[BucketKey{run.org, kAllFunctions, minute}].add(run);
        if (!run.ready) {
            const ErrorType type = errorTypeOf(run.errorType);
            std::string message = cutMessage(run.errorMessage, s.options.maxMessageBytes);
            const ErrorKey key{run.org, run.function, std::string(errorTypeName(type)), messageHash(message)};
            auto [it, added] = s.pendingErrors.try_emplace(key);
            ErrorDelta &g = it->second;
            if (added) {
                g.message = std::move(message);
                g.firstNs = g.lastNs = run.executedNs;
            }
            ++g.count;
            g.firstNs = std::min(g.firstNs, run.executedNs);
            g.lastNs = std::max(g.lastNs, run.executedNs);
        }
        auto seriesKey = std::make_pair(run.org, run.function);
        if (s.series.size() >= s.options.maxSeries && !s.series.count(seriesKey))
            seriesKey = {"_other", "_other"};
        s.series[std::move(seriesKey)].add(run);
        flushNow = s.pending.size() >= s.options.maxPendingBuckets ||
                   s.pendingErrors.size() >= s.options.maxPendingBuckets;
    }
    if (flushNow)
        s.flush({});
}

void RunStats::recordRun(const std::string &org, const wire::Run &run)
{
    RunOutcome o;
    o.org = org;
    o.function = run.functionName;
    o.executedNs = run.executedTime;
    o.finishedNs = run.finishedTime;
    o.ready = run.status == wire::Status::Ready;
    if (!o.ready) {
        if (run.error) {
            o.errorType = run.error->type;
            o.errorMessage = run.error->message;
        } else if (!run.reason.empty()) {
            o.errorMessage = run.reason.front();
        }
    }
    o.durationNs = run.durationNs;
    o.coldStart = run.coldStart;
    record(o);
}

void RunStats::flush(store::Done done)
{
    m_state->flush(std::move(done));
}

void RunStats::applyRetention(store::Done done)
{
    m_state->applyRetention(std::move(done));
}

StatsAnswer RunStats::query(const StatsQuery &q)
{
    State &s = *m_state;
    const int64_t step = resolutionSeconds(q.resolution);
    const int64_t from = floorTo(q.fromSeconds, step);
    const std::string &function = q.function ? *q.function : kAllFunctions;
    StatsAnswer out;
    if (from >= q.toSeconds) {
        out.ok = true;
        return out;
    }

    QueryScope scope(s.mutex, s.activeQueries, [&s] { s.purgeSettled(); });
    const auto read = s.store.readStats(q.resolution == Resolution::Minute ? store::StatsTable::Minute
                                                                           : store::StatsTable::Hour,
                                        q.org, function, from, q.toSeconds);
    if (!read.ok)
        return out;
    std::map<int64_t, RunCounters> buckets;
    for (const store::StatsRow &row : read.rows)
        buckets[row.time].merge(countersOf(row));
    {
        std::lock_guard lock(s.mutex);
        const State::Cutoffs cut = s.cutoffs();
        const int64_t keepFrom = q.resolution == Resolution::Minute ? cut.minuteBefore : cut.hourBefore;
        auto mergeDeltas = [&](const BucketMap &deltas) {
            for (auto it = deltas.lower_bound(BucketKey{q.org, function, from}); it != deltas.end(); ++it) {
                const BucketKey &key = it->first;
                if (key.org != q.org || key.function != function)
                    break;
                const int64_t time = floorTo(key.minute, step);
                if (time >= q.toSeconds)
                    break;
                if (time >= keepFrom)
                    buckets[time].merge(it->second);
            }
        };
        for (const Epoch &epoch : s.inFlight)
            if (epoch.id > read.epoch)
                mergeDeltas(epoch.buckets);
        mergeDeltas(s.pending);
    }
    out.ok = true;
    out.buckets.reserve(buckets.size());
    for (auto &[time, counters] : buckets) {
        out.total.merge(counters);
        out.buckets.push_back(StatsBucket{time, std::move(counters)});
    }
    return out;
}

ErrorGroupsAnswer RunStats::errorGroups(const ErrorGroupQuery &q)
{
    State &s = *m_state;
    ErrorGroupsAnswer out;
    QueryScope scope(s.mutex, s.activeQueries, [&s] { s.purgeSettled(); });
    const auto read = s.store.readErrorGroups(q.org, q.function, q.fromNs, q.toNs);
    if (!read.ok)
        return out;

    struct Key
    {
        std::string function;
        std::string type;
        uint64_t hash;
        auto operator<=>(const Key &) const = default;
    };
    std::map<Key, ErrorGroup> groups;
    for (const store::ErrorGroupRow &row : read.rows)
        groups[Key{row.function, row.type, row.messageHash}] = ErrorGroup{
            row.function, row.type,  row.message, static_cast<uint64_t>(std::max<int64_t>(row.count, 0)),
            row.firstNs,  row.lastNs};
    {
        std::lock_guard lock(s.mutex);
        const int64_t keepFrom = s.cutoffs().errorsBeforeNs;
        auto mergeDeltas = [&](const ErrorMap &deltas) {
            const ErrorKey start{q.org, q.function.value_or(std::string()), std::string(), 0};
            for (auto it = deltas.lower_bound(start); it != deltas.end(); ++it) {
                const ErrorKey &key = it->first;
                const ErrorDelta &d = it->second;
                if (key.org != q.org || (q.function && key.function != *q.function))
                    break;
                if (d.lastNs < q.fromNs || d.firstNs >= q.toNs || d.lastNs < keepFrom)
                    continue;
                auto [g, added] = groups.try_emplace(Key{key.function, key.type, key.hash});
                if (added) {
                    g->second = ErrorGroup{key.function, key.type, d.message, d.count, d.firstNs, d.lastNs};
                    continue;
                }
                g->second.count += d.count;
                g->second.firstNs = std::min(g->second.firstNs, d.firstNs);
                g->second.lastNs = std::max(g->second.lastNs, d.lastNs);
            }
        };
        for (const Epoch &epoch : s.inFlight)
            if (epoch.id > read.epoch)
                mergeDeltas(epoch.errors);
        mergeDeltas(s.pendingErrors);
    }
    out.ok = true;
    out.groups.reserve(groups.size());
    for (auto &[key, g] : groups)
        out.groups.push_back(std::move(g));
    std::sort(out.groups.begin(), out.groups.end(), [](const ErrorGroup &a, const ErrorGroup &b) {
        return a.count != b.count ? a.count > b.count : a.lastNs > b.lastNs;
    });
    out.matched = out.groups.size();
    if (out.groups.size() > q.limit)
        out.groups.resize(q.limit);
    return out;
}

std::vector<Series> RunStats::series() const
{
    std::lock_guard lock(m_state->mutex);
    std::vector<Series> out;
    out.reserve(m_state->series.size());
    for (const auto &[key, counters] : m_state->series)
        out.push_back(Series{key.first, key.second, counters});
    return out;
}

void RunStats::start(boost::asio::io_context &io)
{
    stop();
    m_ticker = std::make_shared<Ticker>(io, m_state);
    m_state->applyRetention({});
    std::lock_guard lock(m_ticker->mutex);
    m_ticker->schedule();
}

void RunStats::stop()
{
    if (!m_ticker)
        return;
    {
        std::lock_guard lock(m_ticker->mutex);
        m_ticker->stopped = true;
        m_ticker->timer.cancel();
    }
    m_ticker.reset();
}

} // namespace dispatch::stats
