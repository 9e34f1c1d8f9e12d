// SPDX-License-Identifier: GPL-3.0-or-later
#include "api/watch.h"

#include "wire/jsonwriter.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

namespace dispatch::api {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::optional<uint64_t> parseUnsigned(std::string_view s)
{
    s = trim(s);
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size())
        return std::nullopt;
    return v;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string formatChange(const Change &c)
{
    std::string out = "id: " + std::to_string(c.seq) + "\nevent: " + c.type + "\ndata: ";
    // {"kind","name","object","type"} on one line: compact JSON escapes every newline, so the payload is always
    // a single `data:` line.
    out.reserve(out.size() + c.object.size() + c.kind.size() + c.name.size() + c.type.size() + 48);
    out += "{\"kind\":";
    wire::appendJsonString(out, c.kind);
    out += ",\"name\":";
    wire::appendJsonString(out, c.name);
    out += ",\"object\":";
    out += c.object.empty() ? std::string_view("null") : std::string_view(c.object);
    out += ",\"type\":";
    wire::appendJsonString(out, c.type);
    out += "}\n\n";
    return out;
}

std::string formatReset(const std::string &reason, uint64_t resumeFrom)
{
    // The id is where the live events that follow start: a client that reconnects before the next event
    // resumes from there instead of resetting again.
    return "id: " + std::to_string(resumeFrom) + "\nevent: reset\ndata: " + Json{{"reason", reason}}.dump() + "\n\n";
}

struct StreamRequest
{
    std::string org;
    std::optional<uint64_t> since; // absent: a new client (live changes only)
    std::optional<std::string> epoch;
    std::vector<std::string> kinds; // empty: every kind
    std::chrono::milliseconds heartbeat{};
};

// One open watch stream. Lives while the feed or the heartbeat timer holds it; everything but the feed callback
// runs on its strand, so start, heartbeat and close never overlap.
class WatchStream : public std::enable_shared_from_this<WatchStream>
{
public:
    WatchStream(asio::io_context &io, ChangeFeed &feed, std::shared_ptr<http::StreamWriter> writer,
                StreamRequest request, const WatchOptions &options, std::string epoch)
        : m_strand(asio::make_strand(io)), m_timer(m_strand), m_feed(feed), m_writer(std::move(writer)),
          m_request(std::move(request)), m_options(options), m_epoch(std::move(epoch))
    {
    }

    void start()
    {
        asio::post(m_strand, [self = shared_from_this()] { self->onStart(); });
    }

private:
    void onStart()
    {
        const uint64_t position = m_feed.lastSeq();
        std::optional<std::string> resetReason;
        uint64_t afterSeq = position;
        if (m_request.since) {
            if (m_request.epoch && *m_request.epoch != m_epoch)
                resetReason = "server restarted";
            else if (*m_request.since > position)
                resetReason = "unknown event id"; // from another server run: sequence numbers restarted
            else if (*m_request.since == 0 && position > 0)
                resetReason = "history expired"; // the feed replays only after a change it has seen
            else
                afterSeq = *m_request.since;
        }
        {
            std::lock_guard lock(m_startMutex);
            m_starting = true;
            m_startThread = std::this_thread::get_id();
        }
        bool resumed = true;
        m_subscription = m_feed.subscribe(
            m_request.org, afterSeq, [self = shared_from_this()](const Change &c) { self->onChange(c); }, &resumed);

        std::string head = "retry: " + std::to_string(m_options.clientRetry.count()) + "\n\n";
        bool ok = true;
        {
            std::lock_guard lock(m_startMutex);
            if (m_request.since && !resetReason) {
                std::optional<std::string> lateReset;
                if (!resumed)
                    lateReset = "history expired";
                else if (m_replay.size() > m_options.maxReplayBytes)
                    lateReset = "too far behind";
                if (lateReset) {
                    // The client reloads everything; replaying part of the history on top of that is noise.
                    m_replay.clear();
                    m_replayProgress = {};
                    afterSeq = position;
                    resetReason = std::move(lateReset);
                }
            }
            // Live changes come after the replay, so the newest of each kind of id is the larger one.
            m_lastSeen.store(std::max({afterSeq, m_replayProgress.handled, m_liveProgress.handled}));
            m_lastIdSent.store(std::max({afterSeq, m_replayProgress.sent, m_liveProgress.sent}));
            if (resetReason) {
                head += formatReset(*resetReason, position);
                spdlog::debug("watch for org {}: reset ({}), resuming at {}", m_request.org, *resetReason, position);
            } else if (!m_request.since) {
                // No data, only an id: sets an EventSource's last event id, so that even a client that saw no
                // event yet resumes without a gap.
                head += "id: " + std::to_string(position) + "\n\n";
            }
            // Flushed under the lock: live changes waiting for it are queued behind the replay.
            m_starting = false;
            ok = m_writer->write(std::move(head));
            if (ok && !m_replay.empty())
                ok = m_writer->write(std::exchange(m_replay, {}));
            if (ok && !m_live.empty())
                ok = m_writer->write(std::exchange(m_live, {}));
        }
        if (!ok)
            return close();
        armHeartbeat();
    }

    // Runs on the publisher's thread with the feed's delivery lock held (or inside subscribe for the replay):
    // format and queue only.
    void onChange(const Change &c)
    {
        const bool wanted = m_request.kinds.empty() ||
                            std::any_of(m_request.kinds.begin(), m_request.kinds.end(),
                                        [&](const std::string &k) { return equalsIgnoreCase(k, c.kind); });
        std::string text = wanted ? formatChange(c) : std::string();
        {
            std::lock_guard lock(m_startMutex);
            if (m_starting) {
                // The replay comes synchronously from subscribe() on the starting thread; live changes that
                // arrive before the stream head is written come from other threads and wait behind it.
                const bool replay = std::this_thread::get_id() == m_startThread;
                Progress &progress = replay ? m_replayProgress : m_liveProgress;
                progress.handled = c.seq;
                if (wanted) {
                    (replay ? m_replay : m_live) += text;
                    progress.sent = c.seq;
                }
                return;
            }
        }
        if (wanted) {
            if (!m_writer->write(std::move(text))) {
                requestClose();
                return;
            }
            m_lastIdSent.store(c.seq);
        }
        m_lastSeen.store(c.seq);
    }

    void armHeartbeat()
    {
        m_timer.expires_after(m_request.heartbeat);
        m_timer.async_wait(asio::bind_executor(m_strand, [self = shared_from_this()](boost::system::error_code ec) {
            if (!ec)
                self->onHeartbeat();
        }));
    }

    void onHeartbeat()
    {
        if (m_closed)
            return;
        if (!m_writer->isOpen())
            return close(); // the client went away, or the server is stopping
        std::string ping = ": ping\n\n";
        // When only filtered-out changes passed, move the client's last id along so that a resume does not
        // reach back past them (and into a reset once the history moved on).
        const uint64_t seen = m_lastSeen.load();
        if (seen > m_lastIdSent.load()) {
            ping = "id: " + std::to_string(seen) + "\n" + ping;
            m_lastIdSent.store(seen);
        }
        if (!m_writer->write(std::move(ping)))
            return close();
        armHeartbeat();
    }

    void requestClose()
    {
        asio::post(m_strand, [self = shared_from_this()] { self->close(); });
    }

    void close()
    {
        if (m_closed)
            return;
        m_closed = true;
        if (m_subscription)
            m_feed.unsubscribe(m_subscription);
        m_timer.cancel();
        m_writer->close();
        spdlog::debug("watch for org {} closed", m_request.org);
    }

    asio::strand<asio::io_context::executor_type> m_strand;
    asio::steady_timer m_timer;
    ChangeFeed &m_feed;
    std::shared_ptr<http::StreamWriter> m_writer;
    const StreamRequest m_request;
    const WatchOptions m_options;
    const std::string m_epoch;
    uint64_t m_subscription = 0;
    bool m_closed = false; // strand only

    // Ids for the heartbeat: the newest change handled (sent or filtered out) and the newest id the client got.
    std::atomic<uint64_t> m_lastSeen{0};
    std::atomic<uint64_t> m_lastIdSent{0};

    std::mutex m_startMutex; // held only to append to or flush the buffers below
    bool m_starting = false;
    std::thread::id m_startThread;
    std::string m_replay;
    std::string m_live;
    struct Progress
    {
        uint64_t handled = 0; // the newest change seen, sent or filtered out
        uint64_t sent = 0;    // the newest change buffered for the client
    };
    Progress m_replayProgress;
    Progress m_liveProgress;
};

} // namespace

WatchService::WatchService(asio::io_context &io, ChangeFeed &feed, WatchOptions options)
    : m_io(io), m_feed(feed), m_options(options),
      m_epoch(std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count()))
{
}

RouteService WatchService::route()
{
    return RouteService{[this](RouteRequest &r, Reply reply) { handle(r, std::move(reply)); }, {}, {}};
}

void WatchService::handle(RouteRequest &r, Reply reply)
{
    const auto &req = r.ctx->request;
    if (r.parts.size() != 2)
        return reply(ApiError::notFound("resource does not exist"));
    if (req.method() != bhttp::verb::get)
        return reply(ApiError{405, 405, "method " + std::string(req.method_string()) + " is not allowed, but [GET] are"});

    StreamRequest sr;
    sr.org = r.org;
    // Last-Event-ID (an EventSource reconnecting) wins over ?since (the position the client started from).
    std::optional<std::string> since;
    if (auto h = req.find("Last-Event-ID"); h != req.end() && !trim(h->value()).empty())
        since = std::string(h->value());
    else if (auto q = r.query.get("since"); q && !q->empty())
        since = *q;
    if (since) {
        sr.since = parseUnsigned(*since);
        if (!sr.since)
            return reply(ApiError::badRequest("invalid event id '" + *since + "': expected a sequence number"));
    }
    if (auto h = req.find("X-Dispatch-Watch-Epoch"); h != req.end() && !trim(h->value()).empty())
        sr.epoch = std::string(trim(h->value()));
    else if (auto q = r.query.get("epoch"); q && !q->empty())
        sr.epoch = *q;

    for (const auto &value : r.query.all("kinds")) {
        std::string_view rest = value;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const auto item = trim(rest.substr(0, comma));
            if (!item.empty())
                sr.kinds.emplace_back(item);
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        }
    }

    sr.heartbeat = m_options.heartbeat;
    if (auto q = r.query.get("heartbeat")) {
        auto ms = parseUnsigned(*q);
        if (!ms)
            return reply(ApiError::badRequest("invalid heartbeat '" + *q + "': expected milliseconds"));
        sr.heartbeat = std::clamp(std::chrono::milliseconds(static_cast<int64_t>(std::min<uint64_t>(*ms, 1ull << 40))),
                                  m_options.minHeartbeat, m_options.maxHeartbeat);
    }

    http::Response head{bhttp::status::ok, req.version()};
    head.set(bhttp::field::content_type, "text/event-stream");
    head.set(bhttp::field::cache_control, "no-cache");
    head.set("X-Accel-Buffering", "no"); // a proxy in front must not hold events back
    head.set("X-Dispatch-Watch-Epoch", m_epoch);
    auto writer = r.responder->startStream(std::move(head), m_options.maxQueuedBytes);
    if (!writer)
        return;
    std::make_shared<WatchStream>(m_io, m_feed, std::move(writer), std::move(sr), m_options, m_epoch)->start();
}

} // namespace dispatch::api
