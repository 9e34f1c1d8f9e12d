// SPDX-License-Identifier: GPL-3.0-or-later
#include "stats/metricsexporter.h"

#include <spdlog/fmt/fmt.h>

namespace dispatch::stats {

namespace {

namespace bhttp = boost::beast::http;

constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// The `le` label of bucket k: 0.1 ms * 2^k in seconds, exactly (2^k / 10000), without trailing zeros.
std::string upperBoundLabel(std::size_t k)
{
    const uint64_t tenThousandths = uint64_t{1} << k;
    std::string s = fmt::format("{}.{:04}", tenThousandths / 10000, tenThousandths % 10000);
    while (s.back() == '0')
        s.pop_back();
    if (s.back() == '.')
        s.pop_back();
    return s;
}

void header(std::string &out, std::string_view name, std::string_view type, std::string_view help)
{
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

} // namespace

MetricsExporter::MetricsExporter(const RunStats &stats, const engine::Engine &engine,
                                 const store::Store &store)
    : m_stats(stats), m_engine(engine), m_store(store)
{
}

std::string MetricsExporter::escapeLabel(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '"':
            out += "\\\"";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::function<void(unsigned)> MetricsExporter::httpCounter(const std::string &name)
{
    auto listener = std::make_shared<Listener>(name);
    {
        std::lock_guard lock(m_listenersMutex);
        m_listeners.push_back(listener);
    }
    // The counters are shared with the hook: a connection may answer after its server object is gone.
    return [listener](unsigned status) {
        listener->codes[status < listener->codes.size() ? status : 0].fetch_add(1, std::memory_order_relaxed);
    };
}

std::string MetricsExporter::render() const
{
    std::string out;
    out.reserve(16 * 1024);
    auto it = std::back_inserter(out);
    const std::vector<Series> series = m_stats.series();
    std::vector<std::string> labels; // org="…",function="…" per series
    labels.reserve(series.size());
    for (const Series &s : series)
        labels.push_back(
            fmt::format("org=\"{}\",function=\"{}\"", escapeLabel(s.org), escapeLabel(s.function)));

    header(out, "dispatch_runs_total", "counter", "Runs finished since the server started, by status.");
    for (std::size_t i = 0; i < series.size(); ++i) {
        fmt::format_to(it, "dispatch_runs_total{{{},status=\"READY\"}} {}\n", labels[i],
                       series[i].counters.ready);
        fmt::format_to(it, "dispatch_runs_total{{{},status=\"ERROR\"}} {}\n", labels[i],
                       series[i].counters.error);
    }
    header(out, "dispatch_run_errors_total", "counter",
           "Failed runs since the server started, by error type.");
    for (std::size_t i = 0; i < series.size(); ++i)
        for (std::size_t t = 0; t < kErrorTypes; ++t)
            fmt::format_to(it, "dispatch_run_errors_total{{{},type=\"{}\"}} {}\n", labels[i],
                           kErrorTypeNames[t], series[i].counters.errorTypes[t]);
    header(out, "dispatch_run_cold_starts_total", "counter", "Runs that had to start a worker.");
    for (std::size_t i = 0; i < series.size(); ++i)
        fmt::format_to(it, "dispatch_run_cold_starts_total{{{}}} {}\n", labels[i],
                       series[i].counters.coldStarts);

    header(out, "dispatch_run_duration_seconds", "histogram",
           "Time in the function handler, for runs whose duration is known.");
    for (std::size_t i = 0; i < series.size(); ++i) {
        const DurationHistogram &h = series[i].counters.histogram;
        uint64_t cumulative = 0;
        for (std::size_t k = 0; k < DurationHistogram::kFiniteBuckets; ++k) {
            cumulative += h.count(k);
            fmt::format_to(it, "dispatch_run_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels[i],
                           upperBoundLabel(k), cumulative);
        }
        cumulative += h.count(DurationHistogram::kFiniteBuckets);
        fmt::format_to(it, "dispatch_run_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels[i],
                       cumulative);
        fmt::format_to(it, "dispatch_run_duration_seconds_sum{{{}}} {}\n", labels[i],
                       static_cast<double>(series[i].counters.durationSumNs) / 1e9);
        fmt::format_to(it, "dispatch_run_duration_seconds_count{{{}}} {}\n", labels[i], cumulative);
    }

    const engine::EngineStats engine = m_engine.stats();
    header(out, "dispatch_run_queue_depth", "gauge", "Runs waiting for a worker.");
    fmt::format_to(it, "dispatch_run_queue_depth {}\n", engine.queuedInvocations);
    header(out, "dispatch_workers", "gauge", "Worker processes running.");
    fmt::format_to(it, "dispatch_workers {}\n", engine.workers);
    header(out, "dispatch_workers_busy", "gauge", "Worker processes running a function.");
    fmt::format_to(it, "dispatch_workers_busy {}\n", engine.busyWorkers);
    header(out, "dispatch_event_backlog", "gauge", "Events accepted but not delivered yet.");
    fmt::format_to(it, "dispatch_event_backlog {}\n", m_eventBacklog.load(std::memory_order_relaxed));

    header(out, "dispatch_http_requests_total", "counter", "HTTP answers by listener and status code.");
    {
        std::lock_guard lock(m_listenersMutex);
        for (const auto &listener : m_listeners) {
            const std::string name = escapeLabel(listener->name);
            for (std::size_t code = 0; code < listener->codes.size(); ++code)
                if (const uint64_t n = listener->codes[code].load(std::memory_order_relaxed); n > 0)
                    fmt::format_to(it, "dispatch_http_requests_total{{listener=\"{}\",code=\"{}\"}} {}\n",
                                   name, code, n);
        }
    }
    // One unlabelled sample per series.
    const auto single = [&](const char *name, const char *type, const char *help, uint64_t value) {
        header(out, name, type, help);
        fmt::format_to(it, "{} {}\n", name, value);
    };
    single("dispatch_store_queued_writes", "gauge", "Database writes queued or being committed.",
           m_store.queuedWrites());
    single("dispatch_store_commits_total", "counter", "Database transactions committed.", m_store.commits());
    single("dispatch_store_writes_total", "counter",
           "Database writes committed (writes per commit is the group-commit batch size).", m_store.committedWrites());
    single("dispatch_store_checkpoints_total", "counter", "Write-ahead log checkpoints run.", m_store.checkpoints());
    single("dispatch_store_wal_pages_total", "counter", "Pages appended to the write-ahead log by commits.",
           m_store.walPagesWritten());
    single("dispatch_store_wal_pages", "gauge",
           "Pages in the write-ahead log after the last commit (bounded: it starts over after checkpoints).",
           m_store.walPages());
    return out;
}

void MetricsExporter::handle(const std::shared_ptr<http::RequestContext> &ctx,
                             const http::ResponderPtr &responder) const
{
    const auto &req = ctx->request;
    http::Response res;
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
        res = http::makeError(405,
                              "method " + std::string(req.method_string()) + " is not allowed, but [GET] are",
                              req.version());
        res.set(bhttp::field::allow, "GET, HEAD");
    } else {
        res.version(req.version());
        res.result(200);
        res.set(bhttp::field::content_type, kContentType);
        res.body() = render();
    }
    res.keep_alive(req.keep_alive());
    responder->send(std::move(res));
}

} // namespace dispatch::stats
