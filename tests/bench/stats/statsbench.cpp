// dispatch-stats-bench: fills a throw-away store with the rollups of N finished runs (default 1,000,000)
// through RunStats, exactly as the server records them, then times the /v1/stats and /v1/stats/errors
// handlers in-process (query + JSON), which read only the rollup tables. Prints figures; asserts nothing.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/clock.h"
#include "stats/runstats.h"
#include "stats/statsapi.h"
#include "store/store.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

using namespace dispatch;
using Clock_ = std::chrono::steady_clock;

namespace {

class FixedClock final : public Clock
{
public:
    explicit FixedClock(int64_t ns) : m_ns(ns) {}
    int64_t nowNs() const override { return m_ns; }

private:
    int64_t m_ns;
};

struct Options
{
    std::size_t runs = 1'000'000;
    int functions = 20;
    int days = 7;
    int reps = 200;
    std::string keep; // keep the database in this directory
};

double msSince(Clock_::time_point t)
{
    return std::chrono::duration<double, std::milli>(Clock_::now() - t).count();
}

void usage()
{
    std::puts(
        "dispatch-stats-bench [--runs N] [--functions N] [--days N] [--reps N] [--keep DIR]\n"
        "Records N runs (spread over the last DAYS days) through RunStats into a fresh store, then times\n"
        "the stats handlers. Defaults: 1000000 runs, 20 functions, 7 days, 200 repetitions per query.");
}

} // namespace

int main(int argc, char **argv)
{
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage();
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--runs")
            o.runs = std::stoull(next());
        else if (a == "--functions")
            o.functions = std::max(1, std::stoi(next()));
        else if (a == "--days")
            o.days = std::max(1, std::stoi(next()));
        else if (a == "--reps")
            o.reps = std::max(1, std::stoi(next()));
        else if (a == "--keep")
            o.keep = next();
        else {
            usage();
            return a == "--help" || a == "-h" ? 0 : 2;
        }
    }

    std::filesystem::path dir;
    if (!o.keep.empty()) {
        dir = o.keep;
    } else {
        std::string tmpl = (std::filesystem::temp_directory_path() / "dispatch-stats-bench-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) {
            std::perror("mkdtemp");
            return 1;
        }
        dir = tmpl;
    }
    auto opened = store::Store::open(dir / "dispatch.db");
    if (!opened) {
        std::fprintf(stderr, "cannot open the store: %s\n", opened.error().message.c_str());
        return 1;
    }
    store::Store &store = **opened;

    const int64_t now = SystemClock().nowNs();
    FixedClock clock(now);
    stats::RunStats runStats(store, clock);

    // Runs as they would finish: random function, outcome, duration, cold start; times over the last days.
    std::mt19937_64 rng(2024);
    std::uniform_int_distribution<int64_t> when(0, int64_t(o.days) * 86400 * 1'000'000'000 - 1);
    std::uniform_int_distribution<int> fn(0, o.functions - 1);
    std::uniform_int_distribution<int> pct(0, 99);
    std::uniform_int_distribution<int> msg(0, 49);
    std::uniform_real_distribution<double> logDuration(4.0, 10.0); // 10 µs .. 10 s
    std::vector<std::string> names;
    for (int i = 0; i < o.functions; ++i)
        names.push_back("fn-" + std::to_string(i));
    const char *types[] = {"InputError", "FunctionError", "SystemError"};

    // In the order they finish, as the server sees them; its once-a-second flush becomes one per simulated
    // minute here (the deltas of a minute are what a flush carries; fewer transactions keep the fill fast).
    std::vector<int64_t> times(o.runs);
    for (int64_t &x : times)
        x = now - when(rng);
    std::sort(times.begin(), times.end());

    auto t = Clock_::now();
    int64_t lastMinute = times.empty() ? 0 : times.front() / 60'000'000'000;
    for (std::size_t i = 0; i < o.runs; ++i) {
        stats::RunOutcome r;
        r.org = "bench";
        r.function = names[static_cast<std::size_t>(fn(rng))];
        r.executedNs = times[i];
        if (r.executedNs / 60'000'000'000 != lastMinute) {
            lastMinute = r.executedNs / 60'000'000'000;
            runStats.flush();
        }
        r.durationNs = static_cast<int64_t>(std::pow(10.0, logDuration(rng)));
        r.finishedNs = r.executedNs + r.durationNs;
        r.ready = pct(rng) < 90;
        if (!r.ready) {
            r.errorType = types[pct(rng) % 3];
            r.errorMessage = "failure number " + std::to_string(msg(rng));
        }
        r.coldStart = pct(rng) < 2;
        runStats.record(r);
    }
    const double recordMs = msSince(t);
    t = Clock_::now();
    runStats.flush([](bool) {});
    store.flush();
    const double flushMs = msSince(t);
    std::printf(
        "recorded %zu runs (%d functions, %d days) in %.0f ms (%.2f µs/run); last flush + commit %.0f ms\n",
        o.runs, o.functions, o.days, recordMs, recordMs * 1000.0 / static_cast<double>(o.runs), flushMs);
    std::printf("store: %s\n", (dir / "dispatch.db").c_str());

    stats::StatsApi api(runStats, clock);
    auto time = [&](const char *label, std::vector<std::string> parts, const std::string &query) {
        api::RouteRequest request;
        request.ctx = std::make_shared<http::RequestContext>();
        request.ctx->request.method(boost::beast::http::verb::get);
        request.org = "bench";
        request.parts = std::move(parts);
        request.query = api::parseQuery(query);
        std::vector<double> samples;
        std::string body;
        int status = 0;
        for (int rep = 0; rep < o.reps; ++rep) {
            const auto start = Clock_::now();
            api.handle(request, [&](Result<api::Answer> a) {
                if (!a) {
                    status = a.error().status;
                    return;
                }
                status = a->status;
                // What RestApi sends: the raw body, or the JSON tree serialised.
                body = a->rawBody.empty() ? a->body.dump() : std::move(a->rawBody);
            });
            samples.push_back(msSince(start));
        }
        const auto parsed = nlohmann::json::parse(body, nullptr, false);
        const std::size_t bytes = body.size();
        const std::size_t buckets = parsed.contains("buckets")  ? parsed["buckets"].size()
                                    : parsed.contains("errors") ? parsed["errors"].size()
                                                                : 0;
        std::sort(samples.begin(), samples.end());
        const auto at = [&](double q) {
            return samples[std::min(samples.size() - 1,
                                    static_cast<std::size_t>(q * static_cast<double>(samples.size())))];
        };
        std::printf("%-48s status %d, %5zu rows, %7zu bytes: median %6.2f ms, p95 %6.2f ms, max %6.2f ms\n",
                    label, status, buckets, bytes, at(0.5), at(0.95), samples.back());
    };
    const int64_t nowS = now / 1'000'000'000;
    auto range = [nowS](int64_t seconds) {
        return "&from=" + std::to_string(nowS - seconds) + "&to=" + std::to_string(nowS);
    };
    time("function, last hour, minute (auto)", {"v1", "stats"}, "function=fn-3" + range(3600));
    time("function, last 24 h, minute", {"v1", "stats"}, "function=fn-3&resolution=minute" + range(86400));
    time("function, last 7 days, hour (auto)", {"v1", "stats"}, "function=fn-3" + range(7 * 86400));
    time("function, last 7 days, minute (10080 buckets)", {"v1", "stats"},
         "function=fn-3&resolution=minute" + range(7 * 86400));
    time("org total, last 6 h, minute (auto)", {"v1", "stats"}, range(6 * 3600).substr(1));
    time("org total, last 7 days, hour (auto)", {"v1", "stats"}, range(7 * 86400).substr(1));
    time("errors of a function, last 7 days", {"v1", "stats", "errors"}, "function=fn-3" + range(7 * 86400));
    time("errors of the org, last 7 days (limit 100)", {"v1", "stats", "errors"}, range(7 * 86400).substr(1));

    if (o.keep.empty()) {
        opened->reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    return 0;
}
