// Run statistics: the rollups RunStats maintains as runs finish equal a scan of the same runs (property test
// over random run sets, whether the counts sit in memory, in a flush being committed or in the tables), the
// duration buckets and percentiles, retention, the bound on error groups, concurrent recording and reading,
// and end to end against the real server: /v1/stats, /v1/stats/errors and /metrics.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/clock.h"
#include "stats/durationhistogram.h"
#include "stats/metricsexporter.h"
#include "stats/runstats.h"
#include "store/store.h"
#include "support/testserver.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <random>
#include <sqlite3.h>
#include <thread>

using namespace dispatch;
using namespace dispatch::stats;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kNs = 1'000'000'000;
constexpr int64_t kMinuteS = 60;
constexpr int64_t kHourS = 3600;
constexpr int64_t kDayS = 24 * kHourS;
// A fixed, minute-aligned start keeps failures reproducible.
constexpr int64_t kT0 = 1'700'000'040;

class FakeClock final : public Clock
{
public:
    explicit FakeClock(int64_t ns) : m_now(ns) {}
    int64_t nowNs() const override { return m_now.load(); }
    void set(int64_t ns) { m_now.store(ns); }

private:
    std::atomic<int64_t> m_now;
};

int64_t floorTo(int64_t t, int64_t step)
{
    const int64_t q = t / step;
    return (t % step != 0 && t < 0 ? q - 1 : q) * step;
}

// The scan side of the property, written independently of RunStats: a linear search for the bucket.
std::size_t scanBucket(int64_t durationNs)
{
    for (std::size_t k = 0; k < 24; ++k)
        if (durationNs <= (int64_t{100'000} << k))
            return k;
    return 24;
}

struct Scanned
{
    uint64_t count = 0, ready = 0, error = 0, input = 0, function = 0, system = 0, cold = 0;
    int64_t sumNs = 0;
    std::array<uint64_t, 25> histogram{};
    std::vector<int64_t> durations;

    void add(const RunOutcome &r)
    {
        ++count;
        if (r.ready) {
            ++ready;
        } else {
            ++error;
            if (r.errorType == "InputError")
                ++input;
            else if (r.errorType == "FunctionError")
                ++function;
            else
                ++system;
        }
        cold += r.coldStart ? 1 : 0;
        if (r.durationNs >= 0) {
            ++histogram[scanBucket(r.durationNs)];
            sumNs += r.durationNs;
            durations.push_back(r.durationNs);
        }
    }
};

std::string describe(const Scanned &e, const RunCounters &c)
{
    return "expected count/ready/error/in/fn/sys/cold " + std::to_string(e.count) + "/" +
           std::to_string(e.ready) + "/" + std::to_string(e.error) + "/" + std::to_string(e.input) + "/" +
           std::to_string(e.function) + "/" + std::to_string(e.system) + "/" + std::to_string(e.cold) +
           ", got " + c.toJson().dump();
}

bool sameCounts(const Scanned &e, const RunCounters &c)
{
    if (e.count != c.count || e.ready != c.ready || e.error != c.error || e.cold != c.coldStarts ||
        e.sumNs != c.durationSumNs)
        return false;
    if (e.input != c.errorTypes[0] || e.function != c.errorTypes[1] || e.system != c.errorTypes[2])
        return false;
    for (std::size_t k = 0; k < 25; ++k)
        if (e.histogram[k] != c.histogram.count(k))
            return false;
    return true;
}

// Percentiles: equal to those of a histogram built from the scanned durations, and the true (nearest-rank)
// percentile of those durations lies in the bucket the estimate falls in.
bool percentilesAgree(const Scanned &e, const RunCounters &c, std::string &why)
{
    DurationHistogram h;
    for (std::size_t k = 0; k < 25; ++k)
        h.addToBucket(k, e.histogram[k]);
    std::vector<int64_t> sorted = e.durations;
    std::sort(sorted.begin(), sorted.end());
    const nlohmann::json j = c.toJson();
    for (const auto &[name, q] : {std::pair{"p50", 0.50}, std::pair{"p95", 0.95}, std::pair{"p99", 0.99}}) {
        const auto fromScan = h.quantileMs(q);
        if (!fromScan) {
            if (!j[name].is_null()) {
                why = std::string(name) + " should be null";
                return false;
            }
            continue;
        }
        if (!j[name].is_number() || j[name].get<double>() != *fromScan) {
            why = std::string(name) + " " + j[name].dump() + " != " + std::to_string(*fromScan);
            return false;
        }
        const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
        const int64_t exact = sorted[std::max<std::size_t>(rank, 1) - 1];
        const std::size_t k = scanBucket(exact);
        const double lower = k == 0 ? 0.0 : static_cast<double>(int64_t{100'000} << (k - 1)) / 1e6;
        const double upper = k == 24 ? lower : static_cast<double>(int64_t{100'000} << k) / 1e6;
        if (*fromScan < lower - 1e-9 || *fromScan > upper + 1e-9) {
            why = std::string(name) + " estimate " + std::to_string(*fromScan) + " outside the bucket of " +
                  std::to_string(exact) + " ns";
            return false;
        }
    }
    if (e.durations.empty()
            ? !j["meanMs"].is_null()
            : std::abs(j["meanMs"].get<double>() -
                       static_cast<double>(e.sumNs) / static_cast<double>(e.durations.size()) / 1e6) > 1e-9) {
        why = "meanMs " + j["meanMs"].dump();
        return false;
    }
    return true;
}

struct ExpectedGroup
{
    uint64_t count = 0;
    int64_t first = 0, last = 0;
};
using GroupKey = std::tuple<std::string, std::string, std::string>; // function, type, message

// Random runs: several orgs and functions, every outcome, durations from microseconds to beyond the last
// bucket (log-uniform), some unknown, spread over five hours.
std::vector<RunOutcome> randomRuns(std::mt19937_64 &rng, std::size_t n)
{
    static const char *orgs[] = {"o1", "o2"};
    static const char *functions[] = {"f0", "f1", "f2", "f3", "f4"};
    static const char *types[] = {"InputError", "FunctionError", "SystemError", "SomethingElse", ""};
    static const std::string longMessage(2000, 'x');
    static const std::string messages[] = {"bad input", "boom", "timed out", "ünïcode ✓", "", longMessage};
    std::uniform_int_distribution<int64_t> when(0, 5 * kHourS * kNs);
    std::uniform_real_distribution<double> logDuration(3.0, 12.5); // 1 µs .. ~53 min
    std::uniform_int_distribution<int> pick(0, 99);
    std::vector<RunOutcome> runs;
    runs.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        RunOutcome r;
        r.org = orgs[pick(rng) % 2];
        r.function = functions[pick(rng) % 5];
        r.executedNs = kT0 * kNs + when(rng);
        r.ready = pick(rng) < 60;
        if (!r.ready) {
            r.errorType = types[pick(rng) % 5];
            r.errorMessage = messages[pick(rng) % 6];
        }
        const int roll = pick(rng);
        r.durationNs = roll < 8    ? -1
                       : roll < 10 ? 100'000
                                   : static_cast<int64_t>(std::pow(10.0, logDuration(rng)));
        r.finishedNs = r.executedNs + std::max<int64_t>(r.durationNs, 0);
        r.coldStart = pick(rng) < 15;
        runs.push_back(std::move(r));
    }
    return runs;
}

std::string normalizedType(const std::string &type)
{
    return type == "InputError" || type == "FunctionError" ? type : "SystemError";
}

} // namespace

class TestStats : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;

    std::unique_ptr<store::Store> openStore()
    {
        auto store = store::Store::open(std::filesystem::path(m_dir->path().toStdString()) / "dispatch.db");
        if (!store) {
            qWarning("open failed: %s", store.error().message.c_str());
            return nullptr;
        }
        return std::move(*store);
    }

    static void flushAndWait(RunStats &stats, store::Store &store)
    {
        std::atomic<bool> committed{false};
        stats.flush([&committed](bool ok) { committed = ok; });
        store.flush();
        QVERIFY(committed.load());
    }

    // Compares every bucket and the total of `stats` with a scan of `runs`, for each org, function (and the
    // org's total), resolution and window.
    static void compareWithScan(RunStats &stats, const std::vector<RunOutcome> &runs,
                                const std::vector<std::pair<int64_t, int64_t>> &windows, const char *phase)
    {
        for (const char *org : {"o1", "o2"}) {
            for (std::optional<std::string> function :
                 {std::optional<std::string>(), std::optional<std::string>("f0"),
                  std::optional<std::string>("f1"), std::optional<std::string>("f2"),
                  std::optional<std::string>("f3"), std::optional<std::string>("f4")}) {
                for (Resolution resolution : {Resolution::Minute, Resolution::Hour}) {
                    const int64_t step = resolution == Resolution::Minute ? kMinuteS : kHourS;
                    for (const auto &[from, to] : windows) {
                        std::map<int64_t, Scanned> expected;
                        Scanned expectedTotal;
                        for (const RunOutcome &r : runs) {
                            if (r.org != org || (function && r.function != *function))
                                continue;
                            const int64_t bucket = floorTo(floorTo(r.executedNs, kNs) / kNs, step);
                            if (bucket < floorTo(from, step) || bucket >= to)
                                continue;
                            expected[bucket].add(r);
                            expectedTotal.add(r);
                        }
                        StatsQuery q{org, function, from, to, resolution};
                        const StatsAnswer got = stats.query(q);
                        const std::string where = std::string(phase) + " org " + org + " function " +
                                                  function.value_or("*") + " step " + std::to_string(step) +
                                                  " window " + std::to_string(from) + ".." +
                                                  std::to_string(to);
                        QVERIFY2(got.ok, where.c_str());
                        QVERIFY2(got.buckets.size() == expected.size(),
                                 (where + ": " + std::to_string(got.buckets.size()) + " buckets, expected " +
                                  std::to_string(expected.size()))
                                     .c_str());
                        auto e = expected.begin();
                        for (const StatsBucket &b : got.buckets) {
                            QVERIFY2(b.time == e->first,
                                     (where + " bucket " + std::to_string(b.time)).c_str());
                            QVERIFY2(sameCounts(e->second, b.counters),
                                     (where + " bucket " + std::to_string(b.time) + ": " +
                                      describe(e->second, b.counters))
                                         .c_str());
                            std::string why;
                            QVERIFY2(percentilesAgree(e->second, b.counters, why),
                                     (where + ": " + why).c_str());
                            ++e;
                        }
                        QVERIFY2(sameCounts(expectedTotal, got.total),
                                 (where + " total: " + describe(expectedTotal, got.total)).c_str());
                        std::string why;
                        QVERIFY2(percentilesAgree(expectedTotal, got.total, why),
                                 (where + " total: " + why).c_str());
                    }
                }
            }
        }
    }

    static void compareErrorGroups(RunStats &stats, const std::vector<RunOutcome> &runs, const char *phase)
    {
        for (const char *org : {"o1", "o2"}) {
            std::map<GroupKey, ExpectedGroup> expected;
            for (const RunOutcome &r : runs) {
                if (r.org != org || r.ready)
                    continue;
                auto &g = expected[{r.function, normalizedType(r.errorType), r.errorMessage.substr(0, 1024)}];
                g.first = g.count == 0 ? r.executedNs : std::min(g.first, r.executedNs);
                g.last = g.count == 0 ? r.executedNs : std::max(g.last, r.executedNs);
                ++g.count;
            }
            ErrorGroupQuery q{org, std::nullopt, (kT0 - kHourS) * kNs, (kT0 + 6 * kHourS) * kNs, 1000};
            const ErrorGroupsAnswer got = stats.errorGroups(q);
            QVERIFY(got.ok);
            QCOMPARE(got.matched, expected.size());
            QCOMPARE(got.groups.size(), expected.size());
            for (std::size_t i = 1; i < got.groups.size(); ++i)
                QVERIFY2(got.groups[i - 1].count >= got.groups[i].count, "most runs first");
            for (const ErrorGroup &g : got.groups) {
                auto it = expected.find({g.function, g.type, g.message});
                QVERIFY2(it != expected.end(), (std::string(phase) + ": unexpected group " + g.function +
                                                " " + g.type + " " + g.message.substr(0, 40))
                                                   .c_str());
                QCOMPARE(g.count, it->second.count);
                QCOMPARE(g.firstNs, it->second.first);
                QCOMPARE(g.lastNs, it->second.last);
            }
        }
    }

private slots:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }
    void cleanup() { m_dir.reset(); }

    void histogramBuckets()
    {
        using H = DurationHistogram;
        QCOMPARE(H::bucketOf(-5), std::size_t(0));
        QCOMPARE(H::bucketOf(0), std::size_t(0));
        QCOMPARE(H::bucketOf(100'000), std::size_t(0));
        QCOMPARE(H::bucketOf(100'001), std::size_t(1));
        QCOMPARE(H::bucketOf(200'000), std::size_t(1));
        QCOMPARE(H::bucketOf(200'001), std::size_t(2));
        QCOMPARE(H::bucketOf(1'000'000'000), std::size_t(14)); // 1 s: (819.2 ms, 1.6384 s]
        QCOMPARE(H::bucketOf(H::upperBoundNs(23)), std::size_t(23));
        QCOMPARE(H::bucketOf(H::upperBoundNs(23) + 1), std::size_t(24));
        QCOMPARE(H::bucketOf(std::numeric_limits<int64_t>::max()), std::size_t(24));
        for (int64_t d : {int64_t(1), int64_t(99'999), int64_t(150'000), int64_t(3'000'000'000),
                          int64_t(600'000'000'000), int64_t(900'000'000'000)})
            QCOMPARE(H::bucketOf(d), scanBucket(d));

        H h;
        QVERIFY(!h.quantileMs(0.5));
        // Four runs in (0.1, 0.2] ms: the median interpolates to the middle of the bucket.
        for (int i = 0; i < 4; ++i)
            h.add(150'000);
        QCOMPARE(*h.quantileMs(0.5), 0.15);
        QCOMPARE(*h.quantileMs(1.0), 0.2);
        h.add(std::numeric_limits<int64_t>::max());
        QCOMPARE(*h.quantileMs(1.0), 838.8608 * 1000); // the overflow bucket reports its lower bound
    }

    void rollupsEqualAScanOfTheRuns_data()
    {
        QTest::addColumn<quint64>("seed");
        QTest::addColumn<int>("runs");
        for (quint64 seed : {1ull, 2ull, 3ull, 42ull, 20240601ull})
            QTest::addRow("seed %llu", seed) << seed << 2500;
        QTest::addRow("few runs") << quint64(7) << 15;
    }

    void rollupsEqualAScanOfTheRuns()
    {
        QFETCH(quint64, seed);
        QFETCH(int, runs);
        std::mt19937_64 rng(seed);
        const std::vector<RunOutcome> all = randomRuns(rng, static_cast<std::size_t>(runs));
        FakeClock clock((kT0 + 6 * kHourS) * kNs);
        auto store = openStore();
        QVERIFY(store);

        std::vector<std::pair<int64_t, int64_t>> windows = {{kT0 - kHourS, kT0 + 6 * kHourS}};
        std::uniform_int_distribution<int64_t> point(kT0 - 600, kT0 + 5 * kHourS + 600);
        for (int i = 0; i < 3; ++i) {
            int64_t a = point(rng), b = point(rng);
            if (a > b)
                std::swap(a, b);
            windows.emplace_back(a, b + 1);
        }

        {
            RunStatsOptions options;
            options.maxPendingBuckets = 64; // flushes while recording, so deltas sit in every stage
            RunStats stats(*store, clock, options);
            std::uniform_int_distribution<int> coin(0, 99);
            for (const RunOutcome &r : all) {
                stats.record(r);
                if (coin(rng) == 0)
                    stats.flush(); // not waited for: the next queries see it in flight or committed
            }
            compareWithScan(stats, all, windows, "recorded");
            compareErrorGroups(stats, all, "recorded");
            flushAndWait(stats, *store);
            compareWithScan(stats, all, windows, "flushed");
            compareErrorGroups(stats, all, "flushed");
        }
        // A new RunStats has nothing in memory: the tables alone must hold the same numbers.
        RunStats reopened(*store, clock);
        compareWithScan(reopened, all, windows, "reopened");
        compareErrorGroups(reopened, all, "reopened");

        // Recording more on top of stored rows adds to them.
        const std::vector<RunOutcome> more = randomRuns(rng, static_cast<std::size_t>(runs) / 2);
        for (const RunOutcome &r : more)
            reopened.record(r);
        std::vector<RunOutcome> both = all;
        both.insert(both.end(), more.begin(), more.end());
        compareWithScan(reopened, both, windows, "added");
        flushAndWait(reopened, *store);
        compareWithScan(reopened, both, windows, "added and flushed");
        compareErrorGroups(reopened, both, "added and flushed");
    }

    // Readers running while runs are recorded and flushed never count a run twice or miss one that was
    // recorded before the query started.
    void concurrentRecordingAndQueries()
    {
        FakeClock clock((kT0 + 6 * kHourS) * kNs);
        auto store = openStore();
        QVERIFY(store);
        RunStatsOptions options;
        options.maxPendingBuckets = 16;
        RunStats stats(*store, clock, options);
        std::mt19937_64 rng(99);
        std::vector<RunOutcome> runs = randomRuns(rng, 20000);
        for (RunOutcome &r : runs)
            r.org = "o1";

        std::atomic<uint64_t> started{0};  // record() called
        std::atomic<uint64_t> recorded{0}; // record() returned
        std::atomic<bool> finished{false};
        std::thread writer([&] {
            for (std::size_t i = 0; i < runs.size(); ++i) {
                started.fetch_add(1);
                stats.record(runs[i]);
                recorded.fetch_add(1);
                if (i % 97 == 0)
                    stats.flush();
            }
            finished = true;
        });
        std::size_t queries = 0;
        std::string failure;
        while (!finished.load() && failure.empty()) {
            const uint64_t before = recorded.load();
            const StatsAnswer a = stats.query({"o1", std::nullopt, kT0 - kHourS, kT0 + 6 * kHourS,
                                               (queries % 2) != 0 ? Resolution::Hour : Resolution::Minute});
            const uint64_t after = started.load();
            if (!a.ok || a.total.count < before || a.total.count > after)
                failure = "query " + std::to_string(queries) + " counted " + std::to_string(a.total.count) +
                          " runs; recorded " + std::to_string(before) + " before and " +
                          std::to_string(after) + " after it";
            ++queries;
        }
        writer.join();
        QVERIFY2(failure.empty(), failure.c_str());
        QVERIFY(queries > 0);
        flushAndWait(stats, *store);
        QCOMPARE(
            stats.query({"o1", std::nullopt, kT0 - kHourS, kT0 + 6 * kHourS, Resolution::Hour}).total.count,
            uint64_t(runs.size()));
    }

    void retentionDropsOldBuckets()
    {
        const int64_t now = kT0 + 200 * kDayS;
        FakeClock clock((now - 2 * kDayS) *
                        kNs); // recorded two days ago: everything below was within retention
        auto store = openStore();
        QVERIFY(store);
        RunStats stats(*store, clock); // 7 days of minutes, 90 days of hours
        auto run = [](int64_t atSeconds, bool ready) {
            RunOutcome r;
            r.org = "o1";
            r.function = "f";
            r.executedNs = atSeconds * kNs;
            r.finishedNs = r.executedNs + 1000;
            r.ready = ready;
            r.errorType = ready ? "" : "FunctionError";
            r.errorMessage = ready ? "" : "old failure";
            r.durationNs = 1'000'000;
            return r;
        };
        const int64_t eightDays = now - 8 * kDayS, twoDays = now - 2 * kDayS - 600, tenMinutes = now - 600;
        const int64_t ninetyOneDays = now - 91 * kDayS;
        for (int64_t t : {ninetyOneDays, eightDays, twoDays})
            stats.record(run(t, t != ninetyOneDays));
        flushAndWait(stats, *store);

        auto times = [&stats](Resolution r) {
            std::vector<int64_t> out;
            for (const auto &b :
                 stats.query({"o1", std::string("f"), now - 100 * kDayS, now + 60, r}).buckets)
                out.push_back(b.time);
            return out;
        };
        // The 91-day-old run was already past the minute retention when it was recorded: hours only.
        QCOMPARE(times(Resolution::Minute),
                 (std::vector<int64_t>{floorTo(eightDays, 60), floorTo(twoDays, 60)}));
        QCOMPARE(times(Resolution::Hour),
                 (std::vector<int64_t>{floorTo(ninetyOneDays, 3600), floorTo(eightDays, 3600),
                                       floorTo(twoDays, 3600)}));
        QCOMPARE(stats.errorGroups({"o1", std::nullopt, 0, now * kNs, 10}).groups.size(), std::size_t(1));

        clock.set(now * kNs);
        stats.record(run(tenMinutes, true));
        flushAndWait(stats, *store);
        std::atomic<bool> done{false};
        stats.applyRetention([&done](bool ok) { done = ok; });
        store->flush();
        QVERIFY(done.load());

        RunStats reopened(*store, clock);
        auto reopenedTimes = [&reopened](Resolution r) {
            std::vector<int64_t> out;
            for (const auto &b :
                 reopened.query({"o1", std::string("f"), now - 100 * kDayS, now + 60, r}).buckets)
                out.push_back(b.time);
            return out;
        };
        // Minutes: only the last seven days. Hours: the last ninety days.
        QCOMPARE(reopenedTimes(Resolution::Minute),
                 (std::vector<int64_t>{floorTo(twoDays, 60), floorTo(tenMinutes, 60)}));
        QCOMPARE(reopenedTimes(Resolution::Hour),
                 (std::vector<int64_t>{floorTo(eightDays, 3600), floorTo(twoDays, 3600),
                                       floorTo(tenMinutes, 3600)}));
        QCOMPARE(reopened.errorGroups({"o1", std::nullopt, 0, now * kNs, 10}).groups.size(), std::size_t(0));

        // A flush never writes rows that are already past their retention.
        stats.record(run(eightDays + 60, true));
        flushAndWait(stats, *store);
        RunStats again(*store, clock);
        QCOMPARE(again.query({"o1", std::string("f"), eightDays - 60, eightDays + 600, Resolution::Minute})
                     .buckets.size(),
                 std::size_t(0));
    }

    void errorGroupsAreBoundedPerFunction()
    {
        FakeClock clock((kT0 + kHourS) * kNs);
        auto store = openStore();
        QVERIFY(store);
        RunStatsOptions options;
        options.maxErrorGroupsPerFunction = 10;
        {
            RunStats stats(*store, clock, options);
            for (int i = 0; i < 25; ++i) {
                RunOutcome r;
                r.org = "o1";
                r.function = i % 5 == 4 ? "other" : "f";
                r.executedNs = (kT0 + i) * kNs;
                r.errorType = "InputError";
                r.errorMessage = "message " + std::to_string(i);
                stats.record(r);
                if (i % 7 == 0)
                    flushAndWait(stats, *store);
            }
            flushAndWait(stats, *store);
        }
        RunStats stats(*store, clock, options);
        const auto f = stats.errorGroups({"o1", std::string("f"), kT0 * kNs, (kT0 + kHourS) * kNs, 1000});
        QCOMPARE(f.groups.size(), std::size_t(10));
        // The ten most recently seen messages of "f" stay (i = 24 belongs to "other").
        std::vector<int64_t> seen;
        for (const auto &g : f.groups)
            seen.push_back(g.firstNs / kNs - kT0);
        std::sort(seen.begin(), seen.end());
        QCOMPARE(seen, (std::vector<int64_t>{12, 13, 15, 16, 17, 18, 20, 21, 22, 23}));
        QCOMPARE(stats.errorGroups({"o1", std::string("other"), kT0 * kNs, (kT0 + kHourS) * kNs, 1000})
                     .groups.size(),
                 std::size_t(5));
        // The whole org: both functions; `limit` cuts the list but `matched` tells how many there were.
        const auto org = stats.errorGroups({"o1", std::nullopt, kT0 * kNs, (kT0 + kHourS) * kNs, 3});
        QCOMPARE(org.matched, std::size_t(15));
        QCOMPARE(org.groups.size(), std::size_t(3));
    }

    // A version 1 database (before the statistics) gains the rollup tables and keeps its data.
    void migratesAVersion1Database()
    {
        {
            auto store = openStore();
            QVERIFY(store);
            store->putEntity({"Function", "o1", "f", R"({"name":"f"})"});
            store->flush();
        }
        {
            sqlite3 *db = nullptr;
            const auto file = std::filesystem::path(m_dir->path().toStdString()) / "dispatch.db";
            QCOMPARE(sqlite3_open(file.c_str(), &db), SQLITE_OK);
            QCOMPARE(sqlite3_exec(db,
                                  "DROP TABLE stats_minute; DROP TABLE stats_hour; DROP TABLE stats_errors; "
                                  "PRAGMA user_version = 1",
                                  nullptr, nullptr, nullptr),
                     SQLITE_OK);
            sqlite3_close(db);
        }
        auto store = openStore();
        QVERIFY(store);
        QCOMPARE(store->schemaVersion(), 2);
        QCOMPARE(store->loadEntities("Function").size(), std::size_t(1));
        FakeClock clock((kT0 + kHourS) * kNs);
        RunStats stats(*store, clock);
        RunOutcome r;
        r.org = "o1";
        r.function = "f";
        r.executedNs = kT0 * kNs;
        r.ready = true;
        r.durationNs = 5'000'000;
        stats.record(r);
        flushAndWait(stats, *store);
        RunStats reopened(*store, clock);
        QCOMPARE(reopened.query({"o1", std::string("f"), kT0, kT0 + 60, Resolution::Minute}).total.count,
                 uint64_t(1));
    }

    void prometheusLabelEscaping()
    {
        QCOMPARE(MetricsExporter::escapeLabel("plain-name_1"), std::string("plain-name_1"));
        QCOMPARE(MetricsExporter::escapeLabel("a\"b\\c\nd"), std::string("a\\\"b\\\\c\\nd"));
    }

    // The real server: ~200 runs of mixed outcomes, then the three endpoints.
    void endToEnd()
    {
        using namespace dispatch::test;
        TestServer server;
        QString error;
        QVERIFY2(server.start(&error), qPrintable(error));
        DispatchClient api(server.apiBase());
        QVERIFY2(api.seedImages(&error), qPrintable(error));
        auto hello = api.createFunction(QStringLiteral("stats-hello"), QStringLiteral("python3"),
                                        QStringLiteral("python3/hello.py"), QStringLiteral("hello.handle"));
        QCOMPARE(hello.value("status", ""), std::string("READY"));
        auto failing =
            api.createFunction(QStringLiteral("stats-fail"), QStringLiteral("python3"),
                               QStringLiteral("python3/fail_input.py"), QStringLiteral("fail_input.handle"));
        QCOMPARE(failing.value("status", ""), std::string("READY"));

        const int64_t start = QDateTime::currentSecsSinceEpoch();
        int ready = 0, inputErrors = 0, missingSecret = 0;
        for (int i = 0; i < 200; ++i) {
            Json body{{"blocking", true}, {"input", {{"name", "n" + std::to_string(i)}}}};
            QString fn = QStringLiteral("stats-hello");
            if (i % 4 == 1) {
                fn = QStringLiteral("stats-fail");
                ++inputErrors;
            } else if (i % 20 == 2) {
                body["secrets"] = Json::array({"no-such-secret"}); // fails before it reaches a worker
                ++missingSecret;
            } else {
                ++ready;
            }
            auto r = api.post(QStringLiteral("/v1/runs?functionName=") + fn, body);
            QVERIFY2(r.status == 200, r.body.constData());
        }
        const int64_t end = QDateTime::currentSecsSinceEpoch() + 1;
        const QString window = QStringLiteral("&from=%1&to=%2").arg(start - 120).arg(end + 60);

        // The org's total over both functions, at minute resolution (auto, for a short range).
        auto all = api.get(QStringLiteral("/v1/stats?x=1") + window);
        QCOMPARE(all.status, 200);
        Json j = all.json();
        QCOMPARE(j.value("org", ""), std::string("dispatch"));
        QVERIFY(j["function"].is_null());
        QCOMPARE(j.value("resolution", ""), std::string("minute"));
        QCOMPARE(j["total"].value("count", 0), 200);
        QCOMPARE(j["total"].value("ready", 0), ready);
        QCOMPARE(j["total"].value("error", 0), inputErrors + missingSecret);
        QCOMPARE(j["total"]["errorTypes"].value("InputError", 0), inputErrors + missingSecret);
        QCOMPARE(j["total"]["errorTypes"].value("FunctionError", -1), 0);
        QCOMPARE(j["total"]["errorTypes"].value("SystemError", -1), 0);
        int bucketSum = 0;
        for (const Json &b : j["buckets"]) {
            QCOMPARE(b["time"].get<int64_t>() % 60, int64_t(0));
            bucketSum += b.value("count", 0);
        }
        QCOMPARE(bucketSum, 200);

        auto one = api.get(QStringLiteral("/v1/stats?function=stats-hello&resolution=hour") + window).json();
        QCOMPARE(one.value("function", ""), std::string("stats-hello"));
        QCOMPARE(one.value("resolution", ""), std::string("hour"));
        QCOMPARE(one["total"].value("count", 0), ready + missingSecret);
        QCOMPARE(one["total"].value("ready", 0), ready);
        QVERIFY(one["total"]["p50"].is_number() && one["total"]["p99"].is_number());
        QVERIFY(one["total"]["p50"].get<double>() <= one["total"]["p95"].get<double>());
        QVERIFY(one["total"]["p95"].get<double>() <= one["total"]["p99"].get<double>());
        QVERIFY(one["total"]["meanMs"].get<double>() > 0);
        QVERIFY(one["total"].value("coldStarts", -1) >= 0);

        auto errors = api.get(QStringLiteral("/v1/stats/errors?limit=10") + window);
        QCOMPARE(errors.status, 200);
        Json e = errors.json();
        QCOMPARE(e.value("matched", 0), 2);
        QCOMPARE(e["errors"].size(), std::size_t(2));
        QCOMPARE(e["errors"][0].value("function", ""), std::string("stats-fail"));
        QCOMPARE(e["errors"][0].value("type", ""), std::string("InputError"));
        QCOMPARE(e["errors"][0].value("message", ""), std::string("bad input"));
        QCOMPARE(e["errors"][0].value("count", 0), inputErrors);
        QVERIFY(e["errors"][0].value("first", int64_t(0)) >= start);
        QVERIFY(e["errors"][0].value("last", int64_t(0)) <= end);
        QCOMPARE(e["errors"][1].value("function", ""), std::string("stats-hello"));
        QCOMPARE(e["errors"][1].value("count", 0), missingSecret);
        QVERIFY(e["errors"][1].value("message", "").find("no-such-secret") != std::string::npos);

        // Bad parameters and the usual header checks.
        QCOMPARE(api.get(QStringLiteral("/v1/stats?resolution=week")).status, 400);
        QCOMPARE(api.get(QStringLiteral("/v1/stats?from=10&to=5")).status, 400);
        QCOMPARE(api.get(QStringLiteral("/v1/stats?from=0&to=2000000000&resolution=minute")).status, 400);
        QCOMPARE(api.get(QStringLiteral("/v1/stats?function=bad%20name")).status, 400);
        QCOMPARE(httpRequest("GET", server.apiBase() + QStringLiteral("/v1/stats")).status, 422);

        // /metrics: no headers needed.
        auto m = httpRequest("GET", server.apiBase() + QStringLiteral("/metrics"));
        QCOMPARE(m.status, 200);
        QVERIFY(m.headers.value("content-type").startsWith("text/plain; version=0.0.4"));
        const QString text = QString::fromUtf8(m.body);
        auto has = [&text](const QString &line) { return text.split(QLatin1Char('\n')).contains(line); };
        QVERIFY2(has(QStringLiteral(
                         "dispatch_runs_total{org=\"dispatch\",function=\"stats-hello\",status=\"READY\"} %1")
                         .arg(ready)),
                 qPrintable(text));
        QVERIFY(has(QStringLiteral(
                        "dispatch_runs_total{org=\"dispatch\",function=\"stats-fail\",status=\"ERROR\"} %1")
                        .arg(inputErrors)));
        QVERIFY(has(QStringLiteral("# TYPE dispatch_run_duration_seconds histogram")));
        // Every run of stats-fail reached a worker, so each has a duration.
        QVERIFY(has(
            QStringLiteral("dispatch_run_duration_seconds_count{org=\"dispatch\",function=\"stats-fail\"} %1")
                .arg(inputErrors)));
        QVERIFY(has(QStringLiteral("dispatch_run_duration_seconds_bucket{org=\"dispatch\",function=\"stats-"
                                   "fail\",le=\"+Inf\"} %1")
                        .arg(inputErrors)));
        QVERIFY(text.contains(QStringLiteral("dispatch_run_duration_seconds_bucket{org=\"dispatch\",function="
                                             "\"stats-hello\",le=\"0.0001\"} ")));
        QVERIFY(text.contains(QStringLiteral("le=\"838.8608\"")));
        for (const char *gauge : {"dispatch_run_queue_depth ", "dispatch_workers ", "dispatch_workers_busy ",
                                  "dispatch_event_backlog ", "dispatch_store_queued_writes ",
                                  "dispatch_store_commits_total ", "dispatch_store_writes_total ",
                                  "dispatch_store_checkpoints_total ", "dispatch_store_wal_pages_total ",
                                  "dispatch_store_wal_pages "})
            QVERIFY2(text.contains(QRegularExpression(QStringLiteral("(^|\\n)") + QLatin1String(gauge) +
                                                      QStringLiteral("\\d+\\n"))),
                     gauge);
        QVERIFY(text.contains(QRegularExpression(QStringLiteral("\\ndispatch_workers [1-9]"))));
        // Runs were stored: at least one commit, never fewer writes than commits.
        const auto counter = [&text](const char *name) {
            const auto found = QRegularExpression(QStringLiteral("\\n%1 (\\d+)\\n").arg(QLatin1String(name)))
                               .match(text);
            return found.hasMatch() ? found.captured(1).toULongLong() : 0ULL;
        };
        QVERIFY(counter("dispatch_store_commits_total") >= 1);
        QVERIFY(counter("dispatch_store_writes_total") >= counter("dispatch_store_commits_total"));
        const QRegularExpression ok200(
            QStringLiteral("\\ndispatch_http_requests_total\\{listener=\"api\",code=\"200\"\\} (\\d+)\\n"));
        const auto match = ok200.match(text);
        QVERIFY2(match.hasMatch(), qPrintable(text));
        QVERIFY(match.captured(1).toLongLong() >= 200);
        QVERIFY(
            text.contains(QStringLiteral("dispatch_http_requests_total{listener=\"api\",code=\"422\"} 1\n")));
        QCOMPARE(httpRequest("POST", server.apiBase() + QStringLiteral("/metrics")).status, 405);

        // The rollups survive a restart (they are in the tables, not only in memory).
        QVERIFY(server.restart());
        DispatchClient again(server.apiBase());
        auto after = again.get(QStringLiteral("/v1/stats?x=1") + window).json();
        QCOMPARE(after["total"].value("count", 0), 200);
        QVERIFY(server.stop());
    }
};

QTEST_GUILESS_MAIN(TestStats)
#include "tst_stats.moc"
