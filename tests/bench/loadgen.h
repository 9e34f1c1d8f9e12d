// A closed-loop HTTP/1.1 keep-alive load generator on Boost.Asio/Beast.
// C connections each send the next request as soon as the previous reply arrived, for a duration or a request
// count, on their own io_context threads; latency is recorded per request in a log-linear histogram.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dispatch::bench {

// HDR-style histogram of microsecond values: exact below 256 µs, above that 128 sub-buckets per power of two
// (relative error under 0.8%) up to 2^40 µs. Fixed size, no allocation after construction, not thread-safe.
class LatencyHistogram
{
public:
    LatencyHistogram();

    void record(uint64_t micros);
    void merge(const LatencyHistogram &other);
    void clear();

    uint64_t count() const { return m_count; }
    uint64_t min() const { return m_count ? m_min : 0; }
    uint64_t max() const { return m_max; }
    double mean() const { return m_count ? static_cast<double>(m_sum) / static_cast<double>(m_count) : 0.0; }
    // The value below or at which `percent` % of the recorded values lie (highest equivalent value of its
    // bucket, never above the recorded maximum).
    uint64_t percentile(double percent) const;

private:
    static std::size_t indexOf(uint64_t value);
    static uint64_t highestEquivalentValue(std::size_t index);

    std::vector<uint64_t> m_buckets;
    uint64_t m_count = 0;
    uint64_t m_sum = 0;
    uint64_t m_min = UINT64_MAX;
    uint64_t m_max = 0;
};

struct HttpRequestSpec
{
    std::string method = "GET";
    std::string target = "/";
    std::string body;
    std::string contentType = "application/json"; // sent only when there is a body
    std::vector<std::pair<std::string, std::string>> headers;
};

// Decides whether a reply is good (e.g. a run that finished READY). Called on generator threads concurrently.
using ReplyCheck = std::function<bool(unsigned status, std::string_view body)>;

struct LoadOptions
{
    std::string host = "127.0.0.1";
    uint16_t port = 0;
    unsigned connections = 1;
    unsigned threads = 1; // io_context threads; connections are spread over them round-robin
    std::chrono::milliseconds duration{5000};
    // > 0: stop after this many requests instead of after `duration`.
    uint64_t requestCount = 0;
    // Duration mode only: requests sent during the warm-up are not in the figures.
    std::chrono::milliseconds warmup{0};
    std::chrono::milliseconds requestTimeout{60000};
    // Duration mode: how long requests still in flight at the end may take before they are abandoned (counted
    // in `abandoned`, not as errors), so one stuck request cannot stretch a 5 s level into a minute.
    std::chrono::milliseconds drainTimeout{5000};
    std::size_t maxReplyBytes = std::size_t{64} * 1024 * 1024;
    ReplyCheck check;
};

struct LoadResult
{
    uint64_t completed = 0;       // replies received, any status
    uint64_t ok2xx = 0;           // replies with a 2xx status
    uint64_t rejected = 0;        // 2xx replies that `check` refused
    uint64_t transportErrors = 0; // connect/write/read failures, timeouts, malformed replies
    uint64_t reconnects = 0;      // connections reopened because the server closed them cleanly
    uint64_t warmup2xx = 0;       // 2xx replies to warm-up requests (not in any other figure)
    uint64_t abandoned = 0;       // requests still in flight after the drain timeout
    uint64_t inWindow = 0;        // duration mode: replies that arrived between the warm-up and the deadline
    std::array<uint64_t, 600> statusCounts{};
    double seconds = 0;       // duration mode: the measured window; count mode: first send to last reply
    double rps = 0;           // duration mode: inWindow / seconds; count mode: completed / seconds
    double wallSeconds = 0;   // the whole run: start to the last thread done (warm-up and drain included)
    double cpuSeconds = 0;    // CPU time used by the generator threads (user + system) in wallSeconds
    LatencyHistogram latency; // µs, replies only (transport errors are not in it)
    std::string firstError;   // the first transport error, for diagnosis

    uint64_t non2xx() const { return completed - ok2xx; }
    uint64_t errors() const { return transportErrors + non2xx() + rejected; }
    double cpuMicrosPerRequest() const;
    // The generator's share of one core over the whole run.
    double cpuPercent() const { return wallSeconds > 0 ? 100.0 * cpuSeconds / wallSeconds : 0.0; }
    std::string statusSummary() const; // e.g. "200:1234 404:2"
};

// The exact bytes sent for `spec` (request line, Host, headers, Content-Length, body).
std::string serializeRequest(const HttpRequestSpec &spec, std::string_view host, uint16_t port);

// Runs the load on its own threads and blocks until it is over. Never throws for network problems: they are
// counted in transportErrors (a failed name resolution yields a result with firstError set and no requests).
LoadResult runLoad(const LoadOptions &options, const HttpRequestSpec &request);

} // namespace dispatch::bench
