// SPDX-License-Identifier: GPL-3.0-or-later
#include "loadgen.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cmath>
#include <ctime>
#include <memory>
#include <optional>
#include <thread>

namespace dispatch::bench {

namespace {

constexpr unsigned kSubBucketBits = 7;                                // 128 sub-buckets per power of two
constexpr uint64_t kExactLimit = uint64_t{1} << (kSubBucketBits + 1); // values below are their own bucket
constexpr unsigned kMaxBits = 40;                                     // 2^40 µs is about 12.7 days
constexpr uint64_t kMaxValue = (uint64_t{1} << kMaxBits) - 1;
constexpr std::size_t kBucketCount =
    kExactLimit + (kMaxBits - kSubBucketBits - 1) * (std::size_t{1} << kSubBucketBits);

} // namespace

LatencyHistogram::LatencyHistogram() : m_buckets(kBucketCount, 0) {}

std::size_t LatencyHistogram::indexOf(uint64_t value)
{
    value = std::min(value, kMaxValue);
    if (value < kExactLimit)
        return static_cast<std::size_t>(value);
    const unsigned msb = static_cast<unsigned>(std::bit_width(value)) - 1;
    const unsigned shift = msb - kSubBucketBits;
    const uint64_t sub = value >> shift; // in [128, 256)
    return static_cast<std::size_t>(kExactLimit + (shift - 1) * (uint64_t{1} << kSubBucketBits) +
                                    (sub - (uint64_t{1} << kSubBucketBits)));
}

uint64_t LatencyHistogram::highestEquivalentValue(std::size_t index)
{
    if (index < kExactLimit)
        return index;
    const std::size_t offset = index - kExactLimit;
    const unsigned shift = static_cast<unsigned>(offset >> kSubBucketBits) + 1;
    const uint64_t sub =
        (offset & ((std::size_t{1} << kSubBucketBits) - 1)) + (uint64_t{1} << kSubBucketBits);
    return ((sub + 1) << shift) - 1;
}

void LatencyHistogram::record(uint64_t micros)
{
    ++m_buckets[indexOf(micros)];
    ++m_count;
    m_sum += micros;
    m_min = std::min(m_min, micros);
    m_max = std::max(m_max, micros);
}

void LatencyHistogram::merge(const LatencyHistogram &other)
{
    for (std::size_t i = 0; i < m_buckets.size(); ++i)
        m_buckets[i] += other.m_buckets[i];
    m_count += other.m_count;
    m_sum += other.m_sum;
    m_min = std::min(m_min, other.m_min);
    m_max = std::max(m_max, other.m_max);
}

void LatencyHistogram::clear()
{
    std::fill(m_buckets.begin(), m_buckets.end(), 0);
    m_count = 0;
    m_sum = 0;
    m_min = UINT64_MAX;
    m_max = 0;
}

uint64_t LatencyHistogram::percentile(double percent) const
{
    if (m_count == 0)
        return 0;
    const double clamped = std::clamp(percent, 0.0, 100.0);
    const auto wanted = std::max<uint64_t>(
        1, static_cast<uint64_t>(std::ceil(clamped / 100.0 * static_cast<double>(m_count))));
    uint64_t seen = 0;
    for (std::size_t i = 0; i < m_buckets.size(); ++i) {
        seen += m_buckets[i];
        if (seen >= wanted) // the last bucket also holds the clamped values above kMaxValue
            return i + 1 == m_buckets.size() ? m_max : std::min(highestEquivalentValue(i), m_max);
    }
    return m_max;
}

double LoadResult::cpuMicrosPerRequest() const
{
    const uint64_t attempts = completed + transportErrors;
    return attempts ? cpuSeconds * 1e6 / static_cast<double>(attempts) : 0.0;
}

std::string LoadResult::statusSummary() const
{
    std::string out;
    for (std::size_t code = 0; code < statusCounts.size(); ++code) {
        if (statusCounts[code] == 0)
            continue;
        if (!out.empty())
            out += ' ';
        out += (code == 0 ? std::string("other") : std::to_string(code)) + ':' +
               std::to_string(statusCounts[code]);
    }
    return out.empty() ? "-" : out;
}

std::string serializeRequest(const HttpRequestSpec &spec, std::string_view host, uint16_t port)
{
    std::string out;
    out.reserve(256 + spec.body.size());
    out.append(spec.method).append(" ").append(spec.target).append(" HTTP/1.1\r\nHost: ");
    if (host.find(':') != std::string_view::npos)
        out.append("[").append(host).append("]");
    else
        out.append(host);
    out.append(":").append(std::to_string(port)).append("\r\nUser-Agent: dispatch-bench\r\n");
    for (const auto &[name, value] : spec.headers)
        out.append(name).append(": ").append(value).append("\r\n");
    const bool sendsBody =
        !spec.body.empty() || spec.method == "POST" || spec.method == "PUT" || spec.method == "PATCH";
    if (sendsBody) {
        if (!spec.body.empty() && !spec.contentType.empty())
            out.append("Content-Type: ").append(spec.contentType).append("\r\n");
        out.append("Content-Length: ").append(std::to_string(spec.body.size())).append("\r\n");
    }
    out.append("\r\n").append(spec.body);
    return out;
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

double threadCpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Read-only description of the run shared by all workers, plus the request budget of count mode.
struct Plan
{
    const LoadOptions &options;
    std::string requestBytes;
    tcp::resolver::results_type endpoints;
    bool countMode = false;
    Clock::time_point measureFrom;
    Clock::time_point deadline;
    std::atomic<uint64_t> issued{0};

    explicit Plan(const LoadOptions &opts) : options(opts) {}

    bool claimNext()
    {
        if (countMode)
            return issued.fetch_add(1, std::memory_order_relaxed) < options.requestCount;
        return Clock::now() < deadline;
    }
};

// What one worker thread measured; merged into the LoadResult when all threads are done.
struct WorkerTotals
{
    LatencyHistogram latency;
    uint64_t completed = 0;
    uint64_t ok2xx = 0;
    uint64_t rejected = 0;
    uint64_t transportErrors = 0;
    uint64_t reconnects = 0;
    uint64_t warmup2xx = 0;
    uint64_t abandoned = 0;
    uint64_t inWindow = 0;
    std::array<uint64_t, 600> statusCounts{};
    Clock::time_point firstSend = Clock::time_point::max();
    Clock::time_point lastReply = Clock::time_point::min();
    std::string firstError;
    double cpuSeconds = 0;
};

class Worker;

// One keep-alive connection running its closed loop. Owned by its Worker; all handlers run on the worker's
// thread.
class Connection
{
public:
    Connection(Worker &worker, asio::io_context &ioc, Plan &plan, WorkerTotals &totals)
        : m_worker(worker), m_plan(plan), m_totals(totals), m_socket(ioc), m_backoff(ioc)
    {
    }

    void start() { next(); }
    void checkTimeout(Clock::time_point now);

private:
    void next();
    void connect();
    void send();
    void onReply(error_code ec);
    void countError(std::string message);
    void retryAfterError();
    void closeSocket();
    void finish();

    Worker &m_worker;
    Plan &m_plan;
    WorkerTotals &m_totals;
    tcp::socket m_socket;
    asio::steady_timer m_backoff;
    beast::flat_buffer m_buffer;
    std::optional<bhttp::response_parser<bhttp::string_body>> m_parser;
    Clock::time_point m_opStart;
    Clock::time_point m_sentAt;
    bool m_inFlight = false;
    bool m_timedOut = false;
    bool m_abandoned = false;
    error_code m_writeError;
};

class Worker
{
public:
    explicit Worker(Plan &plan) : m_ioc(1), m_plan(plan), m_watchdog(m_ioc) {}

    void addConnection()
    {
        m_connections.push_back(std::make_unique<Connection>(*this, m_ioc, m_plan, m_totals));
    }

    void run()
    {
        const double cpuStart = threadCpuSeconds();
        m_active = m_connections.size();
        for (auto &connection : m_connections)
            connection->start();
        if (m_active > 0)
            armWatchdog();
        m_ioc.run();
        m_totals.cpuSeconds = threadCpuSeconds() - cpuStart;
    }

    void connectionDone()
    {
        if (--m_active == 0)
            m_watchdog.cancel();
    }

    WorkerTotals &totals() { return m_totals; }

private:
    // One timer per thread instead of one per request: a timer per request costs more than the request itself
    // against a fast server.
    void armWatchdog()
    {
        m_watchdog.expires_after(std::chrono::milliseconds(50));
        m_watchdog.async_wait([this](error_code ec) {
            if (ec || m_active == 0)
                return;
            const auto now = Clock::now();
            for (auto &connection : m_connections)
                connection->checkTimeout(now);
            armWatchdog();
        });
    }

    asio::io_context m_ioc;
    Plan &m_plan;
    WorkerTotals m_totals;
    asio::steady_timer m_watchdog;
    std::vector<std::unique_ptr<Connection>> m_connections;
    std::size_t m_active = 0;
};

void Connection::next()
{
    if (!m_plan.claimNext()) {
        finish();
        return;
    }
    if (m_socket.is_open())
        send();
    else
        connect();
}

void Connection::connect()
{
    m_opStart = Clock::now();
    m_sentAt = m_opStart;
    m_inFlight = true;
    m_timedOut = false;
    asio::async_connect(m_socket, m_plan.endpoints, [this](error_code ec, const tcp::endpoint &) {
        if (ec && m_abandoned) {
            m_inFlight = false;
            ++m_totals.abandoned;
            finish();
            return;
        }
        if (ec) {
            m_inFlight = false;
            countError(m_timedOut ? std::string("connect: timed out") : "connect: " + ec.message());
            retryAfterError();
            return;
        }
        error_code ignored;
        m_socket.set_option(tcp::no_delay(true), ignored);
        send();
    });
}

void Connection::send()
{
    m_sentAt = Clock::now();
    m_opStart = m_sentAt;
    m_inFlight = true;
    m_timedOut = false;
    m_writeError = {};
    m_parser.emplace();
    m_parser->body_limit(m_plan.options.maxReplyBytes);
    // The read is started together with the write so that no handler round trip sits between them.
    asio::async_write(m_socket, asio::buffer(m_plan.requestBytes), [this](error_code ec, std::size_t) {
        if (ec && ec != asio::error::operation_aborted) {
            m_writeError = ec;
            closeSocket(); // the pending read fails and does the accounting
        }
    });
    bhttp::async_read(m_socket, m_buffer, *m_parser, [this](error_code ec, std::size_t) { onReply(ec); });
}

void Connection::onReply(error_code ec)
{
    const auto now = Clock::now();
    m_inFlight = false;
    if (ec && m_abandoned) {
        ++m_totals.abandoned;
        finish();
        return;
    }
    if (ec) {
        std::string message;
        if (m_timedOut)
            message = "request timed out";
        else if (m_writeError)
            message = "write: " + m_writeError.message();
        else
            message = "read: " + ec.message();
        countError(std::move(message));
        retryAfterError();
        return;
    }

    auto &reply = m_parser->get();
    if (!m_plan.countMode && now >= m_plan.measureFrom && now <= m_plan.deadline)
        ++m_totals.inWindow;
    if (m_sentAt >= m_plan.measureFrom) {
        const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - m_sentAt).count();
        m_totals.latency.record(static_cast<uint64_t>(std::max<int64_t>(0, micros)));
        ++m_totals.completed;
        const unsigned status = reply.result_int();
        ++m_totals.statusCounts[status < m_totals.statusCounts.size() ? status : 0];
        if (status >= 200 && status < 300) {
            ++m_totals.ok2xx;
            if (m_plan.options.check && !m_plan.options.check(status, reply.body()))
                ++m_totals.rejected;
        }
        m_totals.firstSend = std::min(m_totals.firstSend, m_sentAt);
        m_totals.lastReply = std::max(m_totals.lastReply, now);
    } else if (reply.result_int() >= 200 && reply.result_int() < 300) {
        ++m_totals.warmup2xx;
    }
    if (!reply.keep_alive()) {
        closeSocket();
        ++m_totals.reconnects;
    }
    next();
}

void Connection::countError(std::string message)
{
    if (m_sentAt < m_plan.measureFrom)
        return;
    ++m_totals.transportErrors;
    m_totals.firstSend = std::min(m_totals.firstSend, m_sentAt);
    m_totals.lastReply = std::max(m_totals.lastReply, Clock::now());
    if (m_totals.firstError.empty())
        m_totals.firstError = std::move(message);
}

void Connection::retryAfterError()
{
    closeSocket();
    // A refused or reset connection fails instantly; without a pause the loop would spin on a broken server
    // and turn one problem into thousands of counted errors.
    m_backoff.expires_after(std::chrono::milliseconds(10));
    m_backoff.async_wait([this](error_code) { next(); });
}

void Connection::checkTimeout(Clock::time_point now)
{
    if (!m_inFlight || m_timedOut || m_abandoned)
        return;
    if (!m_plan.countMode && now > m_plan.deadline + m_plan.options.drainTimeout) {
        m_abandoned = true;
        closeSocket(); // aborts the pending connect/read with operation_aborted
    } else if (now - m_opStart > m_plan.options.requestTimeout) {
        m_timedOut = true;
        closeSocket();
    }
}

void Connection::closeSocket()
{
    error_code ignored;
    if (m_socket.is_open()) {
        m_socket.shutdown(tcp::socket::shutdown_both, ignored);
        m_socket.close(ignored);
    }
    m_buffer.clear();
}

void Connection::finish()
{
    closeSocket();
    m_worker.connectionDone();
}

} // namespace

LoadResult runLoad(const LoadOptions &options, const HttpRequestSpec &request)
{
    LoadResult result;
    if (options.connections == 0)
        return result;

    Plan plan(options);
    {
        asio::io_context resolverContext;
        tcp::resolver resolver(resolverContext);
        error_code ec;
        plan.endpoints = resolver.resolve(options.host, std::to_string(options.port), ec);
        if (ec || plan.endpoints.empty()) {
            result.firstError = "resolve " + options.host + ": " + (ec ? ec.message() : "no address");
            return result;
        }
    }
    plan.requestBytes = serializeRequest(request, options.host, options.port);
    plan.countMode = options.requestCount > 0;

    const unsigned threadCount = std::clamp(options.threads, 1u, options.connections);
    std::vector<std::unique_ptr<Worker>> workers;
    workers.reserve(threadCount);
    for (unsigned i = 0; i < threadCount; ++i)
        workers.push_back(std::make_unique<Worker>(plan));
    for (unsigned i = 0; i < options.connections; ++i)
        workers[i % threadCount]->addConnection();

    const auto start = Clock::now();
    plan.measureFrom = plan.countMode ? start : start + options.warmup;
    plan.deadline = plan.measureFrom + options.duration;

    std::vector<std::thread> threads;
    threads.reserve(threadCount);
    for (auto &worker : workers)
        threads.emplace_back([&worker] { worker->run(); });
    for (auto &thread : threads)
        thread.join();
    result.wallSeconds = std::chrono::duration<double>(Clock::now() - start).count();

    auto firstSend = Clock::time_point::max();
    auto lastReply = Clock::time_point::min();
    for (auto &worker : workers) {
        const WorkerTotals &totals = worker->totals();
        result.latency.merge(totals.latency);
        result.completed += totals.completed;
        result.ok2xx += totals.ok2xx;
        result.rejected += totals.rejected;
        result.transportErrors += totals.transportErrors;
        result.reconnects += totals.reconnects;
        result.warmup2xx += totals.warmup2xx;
        result.abandoned += totals.abandoned;
        result.inWindow += totals.inWindow;
        for (std::size_t i = 0; i < totals.statusCounts.size(); ++i)
            result.statusCounts[i] += totals.statusCounts[i];
        result.cpuSeconds += totals.cpuSeconds;
        firstSend = std::min(firstSend, totals.firstSend);
        lastReply = std::max(lastReply, totals.lastReply);
        if (result.firstError.empty())
            result.firstError = totals.firstError;
    }
    if (!plan.countMode) {
        result.seconds = std::chrono::duration<double>(plan.deadline - plan.measureFrom).count();
        result.rps = result.seconds > 0 ? static_cast<double>(result.inWindow) / result.seconds : 0.0;
    } else {
        result.seconds = std::chrono::duration<double>(firstSend < lastReply ? lastReply - firstSend
                                                                             : Clock::now() - start)
                             .count();
        result.rps = result.seconds > 0 ? static_cast<double>(result.completed) / result.seconds : 0.0;
    }
    return result;
}

} // namespace dispatch::bench
