// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/workerpool.h"

#include <signal.h>
#include <unistd.h>

#include <array>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "wire/jsonwriter.h"

namespace dispatch::engine {

namespace asio = boost::asio;
using wire::Json;

namespace {

constexpr uint32_t kMaxFrame = 64u * 1024u * 1024u;
constexpr std::size_t kOutputTail = 4096;

int64_t steadyNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string frame(const Json &j)
{
    std::string out(4, '\0'); // the length, big-endian, once the body is written after it
    out.reserve(256);
    wire::appendJson(out, j);
    const auto n = static_cast<uint32_t>(out.size() - 4);
    out[0] = static_cast<char>((n >> 24) & 0xFF);
    out[1] = static_cast<char>((n >> 16) & 0xFF);
    out[2] = static_cast<char>((n >> 8) & 0xFF);
    out[3] = static_cast<char>(n & 0xFF);
    return out;
}

std::vector<std::string> tailLines(const std::string &text, std::size_t maxLines)
{
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        if (end > start)
            lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    if (lines.size() > maxLines)
        lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(maxLines));
    return lines;
}

wire::InvocationError systemError(std::string message, std::vector<std::string> trace = {})
{
    return wire::InvocationError{"SystemError", std::move(message), std::move(trace)};
}

} // namespace

std::string LoadError::message() const
{
    std::string where;
    if (!file.empty())
        where = file + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": ";
    // The shim's message may already start with the location.
    if (!where.empty() && error.message.rfind(where, 0) == 0)
        return error.message;
    return where + error.message;
}

// One worker process. Lives on the pool's strand.
class Worker : public std::enable_shared_from_this<Worker>
{
public:
    enum class State { Starting, Idle, Busy, Stopping, Dead };

    Worker(WorkerPool &pool)
        : m_pool(pool.weak_from_this()), m_strand(pool.m_strand), m_requests(pool.m_io), m_replies(pool.m_io),
          m_output(pool.m_io), m_timer(pool.m_io)
    {
    }

    VoidResult start(const WorkerLaunch &launch, ChildReaper &reaper, std::chrono::milliseconds startTimeout)
    {
        auto req = makePipe();
        auto rep = makePipe();
        auto out = makePipe();
        if (!req || !rep || !out)
            return ApiError::internal("cannot create worker pipes");
        SpawnSpec spec;
        spec.argv = launch.argv;
        spec.env = launch.env;
        spec.cwd = launch.cwd;
        spec.fds = {{3, req->first}, {4, rep->second}, {1, out->second}, {2, out->second}};
        auto pid = spawnProcess(spec);
        ::close(req->first);
        ::close(rep->second);
        ::close(out->second);
        if (!pid) {
            ::close(req->second);
            ::close(rep->first);
            ::close(out->first);
            return pid.error();
        }
        m_pid = *pid;
        m_label = launch.label;
        m_requests.assign(req->second);
        m_replies.assign(rep->first);
        m_output.assign(out->first);
        auto self = shared_from_this();
        reaper.watch(m_pid, [self](ExitStatus st) {
            asio::post(self->m_strand, [self, st] { self->onExit(st); });
        });
        readHeader();
        readOutput();
        m_timer.expires_after(startTimeout);
        m_timer.async_wait(asio::bind_executor(m_strand, [self](const boost::system::error_code &ec) {
            if (ec || self->m_state != State::Starting)
                return;
            self->m_startTimedOut = true;
            self->kill();
        }));
        return Ok{};
    }

    State state() const { return m_state; }
    pid_t pid() const { return m_pid; }
    std::chrono::steady_clock::time_point idleSince() const { return m_idleSince; }

    void invoke(uint64_t id, WorkerPool::Pending pending)
    {
        m_state = State::Busy;
        m_current = std::move(pending);
        m_currentId = id;
        m_startNs = steadyNs();
        Json req = {{"type", "invoke"},
                    {"id", id},
                    {"context", std::move(m_current->invocation.context)},
                    {"payload", std::move(m_current->invocation.payload)}};
        auto buf = std::make_shared<std::string>(frame(req));
        auto self = shared_from_this();
        asio::async_write(m_requests, asio::buffer(*buf),
                          asio::bind_executor(m_strand, [self, buf](const boost::system::error_code &ec, std::size_t) {
                              if (ec)
                                  self->kill(); // the exit path fails the invocation
                          }));
        if (m_current->invocation.timeout.count() > 0) {
            m_timer.expires_after(m_current->invocation.timeout);
            m_timer.async_wait(asio::bind_executor(m_strand, [self, id](const boost::system::error_code &ec) {
                if (ec || self->m_state != State::Busy || self->m_currentId != id)
                    return;
                InvocationResult r;
                r.error = wire::InvocationError{"FunctionError", "Function execution exceeded the timeout", {}};
                r.durationNs = steadyNs() - self->m_startNs;
                r.coldStart = self->m_current->cold;
                self->complete(std::move(r));
                self->kill();
            }));
        }
    }

    // Asks the worker to exit after its current invocation (closes its request pipe).
    void stopGracefully()
    {
        if (m_state == State::Dead)
            return;
        m_state = State::Stopping;
        boost::system::error_code ec;
        m_requests.close(ec);
    }

    void kill()
    {
        if (m_pid > 0 && !m_exited) {
            ::kill(-m_pid, SIGKILL);
            ::kill(m_pid, SIGKILL);
        }
        if (m_state != State::Dead)
            m_state = State::Stopping;
    }

    // Fails the running invocation (if any) with `err`.
    void failCurrent(wire::InvocationError err)
    {
        if (!m_current)
            return;
        InvocationResult r;
        r.error = std::move(err);
        r.durationNs = steadyNs() - m_startNs;
        r.coldStart = m_current->cold;
        complete(std::move(r));
    }

private:
    void complete(InvocationResult r)
    {
        if (!m_current)
            return;
        auto done = std::move(m_current->invocation.done);
        m_current.reset();
        boost::system::error_code ec;
        m_timer.cancel();
        if (done)
            done(std::move(r));
    }

    void readHeader()
    {
        auto self = shared_from_this();
        asio::async_read(m_replies, asio::buffer(m_header),
                         asio::bind_executor(m_strand, [self](const boost::system::error_code &ec, std::size_t) {
                             if (ec)
                                 return self->onRepliesClosed();
                             const uint32_t n = (uint32_t(self->m_header[0]) << 24) |
                                                (uint32_t(self->m_header[1]) << 16) |
                                                (uint32_t(self->m_header[2]) << 8) | uint32_t(self->m_header[3]);
                             if (n > kMaxFrame) {
                                 self->m_protocolError = "worker sent an oversized frame (" + std::to_string(n) +
                                                         " bytes)";
                                 self->kill();
                                 return;
                             }
                             self->m_body.resize(n);
                             self->readBody();
                         }));
    }

    void readBody()
    {
        auto self = shared_from_this();
        asio::async_read(m_replies, asio::buffer(m_body),
                         asio::bind_executor(m_strand, [self](const boost::system::error_code &ec, std::size_t) {
                             if (ec)
                                 return self->onRepliesClosed();
                             self->onFrame();
                             if (self->m_state != State::Dead)
                                 self->readHeader();
                         }));
    }

    void readOutput()
    {
        auto self = shared_from_this();
        m_output.async_read_some(asio::buffer(m_outBuf),
                                 asio::bind_executor(m_strand, [self](const boost::system::error_code &ec,
                                                                      std::size_t n) {
                                     if (n > 0) {
                                         self->m_outputTail.append(self->m_outBuf.data(), n);
                                         if (self->m_outputTail.size() > 2 * kOutputTail)
                                             self->m_outputTail.erase(0, self->m_outputTail.size() - kOutputTail);
                                         spdlog::debug("worker {} [{}] output: {}", self->m_label, self->m_pid,
                                                       std::string_view(self->m_outBuf.data(), n));
                                     }
                                     if (!ec)
                                         self->readOutput();
                                 }));
    }

    void onFrame()
    {
        Json msg = Json::parse(m_body, nullptr, false);
        if (msg.is_discarded() || !msg.is_object()) {
            m_protocolError = "worker sent a frame that is not a JSON object";
            kill();
            return;
        }
        const std::string type = msg.value("type", "");
        auto pool = m_pool.lock();
        if (type == "ready" && m_state == State::Starting) {
            m_timer.cancel();
            m_state = State::Idle;
            m_idleSince = std::chrono::steady_clock::now();
            if (pool)
                pool->onWorkerReady(shared_from_this());
            return;
        }
        if (type == "error" && m_state == State::Starting) {
            m_timer.cancel();
            LoadError err;
            if (auto e = msg.find("error"); e != msg.end() && e->is_object())
                wire::from_json(*e, err.error);
            if (err.error.type.empty())
                err.error.type = "FunctionError";
            err.file = msg.value("file", "");
            err.line = msg.contains("line") && msg["line"].is_number_integer() ? msg["line"].get<int>() : 0;
            m_loadReported = true;
            m_state = State::Stopping;
            if (pool)
                pool->onWorkerLoadFailed(shared_from_this(), std::move(err));
            return;
        }
        if (type == "result" && m_state == State::Busy && msg.value("id", uint64_t(0)) == m_currentId) {
            InvocationResult r;
            if (auto p = msg.find("payload"); p != msg.end())
                r.output = std::move(*p);
            if (auto e = msg.find("error"); e != msg.end() && e->is_object()) {
                wire::InvocationError err;
                wire::from_json(*e, err);
                if (err.type.empty())
                    err.type = "FunctionError";
                r.error = std::move(err);
            }
            if (auto l = msg.find("logs"); l != msg.end() && l->is_object())
                wire::from_json(*l, r.logs);
            r.durationNs = msg.contains("durationNs") && msg["durationNs"].is_number_integer()
                               ? msg["durationNs"].get<int64_t>()
                               : steadyNs() - m_startNs;
            r.coldStart = m_current && m_current->cold;
            m_state = State::Idle;
            m_idleSince = std::chrono::steady_clock::now();
            complete(std::move(r));
            if (pool && m_state == State::Idle)
                pool->onWorkerIdle(shared_from_this());
            return;
        }
        m_protocolError = "worker sent an unexpected '" + type + "' frame";
        kill();
    }

    void onRepliesClosed()
    {
        m_repliesClosed = true;
        maybeDead();
    }

    void onExit(ExitStatus st)
    {
        m_exited = true;
        m_exit = st;
        // Let the reply pipe drain (a last result may still be in it); give up waiting after a moment.
        if (!m_repliesClosed) {
            auto self = shared_from_this();
            m_deathTimer = std::make_unique<asio::steady_timer>(m_replies.get_executor());
            m_deathTimer->expires_after(std::chrono::seconds(2));
            m_deathTimer->async_wait(asio::bind_executor(m_strand, [self](const boost::system::error_code &ec) {
                if (ec)
                    return;
                self->m_repliesClosed = true;
                self->maybeDead();
            }));
        }
        maybeDead();
    }

    void maybeDead()
    {
        if (!m_exited || !m_repliesClosed || m_state == State::Dead)
            return;
        const State was = m_state;
        m_state = State::Dead;
        boost::system::error_code ec;
        m_timer.cancel();
        m_requests.close(ec);
        m_replies.close(ec);
        m_output.close(ec);
        auto pool = m_pool.lock();
        std::string why = m_protocolError.empty() ? "function worker exited unexpectedly (" + m_exit.describe() + ")"
                                                  : m_protocolError;
        if (m_current)
            failCurrent(systemError(why, tailLines(m_outputTail, 20)));
        if (was == State::Starting && !m_loadReported && pool) {
            LoadError err;
            err.error = m_startTimedOut
                            ? systemError("the function worker did not start within the start timeout")
                            : systemError("the function worker exited before loading the handler (" +
                                              m_exit.describe() + ")",
                                          tailLines(m_outputTail, 20));
            if (!m_outputTail.empty())
                err.error.message += ": " + tailLines(m_outputTail, 1).back();
            m_loadReported = true;
            pool->onWorkerLoadFailed(shared_from_this(), std::move(err));
        }
        if (pool)
            pool->onWorkerGone(shared_from_this());
    }

    std::weak_ptr<WorkerPool> m_pool;
    asio::strand<asio::io_context::executor_type> m_strand;
    asio::posix::stream_descriptor m_requests;
    asio::posix::stream_descriptor m_replies;
    asio::posix::stream_descriptor m_output;
    asio::steady_timer m_timer;
    std::unique_ptr<asio::steady_timer> m_deathTimer;
    pid_t m_pid = -1;
    std::string m_label;
    State m_state = State::Starting;
    std::array<unsigned char, 4> m_header{};
    std::string m_body;
    std::array<char, 4096> m_outBuf{};
    std::string m_outputTail;
    std::optional<WorkerPool::Pending> m_current;
    uint64_t m_currentId = 0;
    int64_t m_startNs = 0;
    bool m_exited = false;
    bool m_repliesClosed = false;
    bool m_loadReported = false;
    bool m_startTimedOut = false;
    ExitStatus m_exit;
    std::string m_protocolError;
    std::chrono::steady_clock::time_point m_idleSince;
};

WorkerPool::WorkerPool(asio::io_context &io, ChildReaper &reaper, WorkerLaunch launch, PoolOptions options)
    : m_io(io), m_reaper(reaper), m_strand(asio::make_strand(io)), m_launch(std::move(launch)),
      m_options(options)
{
    if (m_options.maxWorkers < 1)
        m_options.maxWorkers = 1;
    if (m_options.minWorkers > m_options.maxWorkers)
        m_options.minWorkers = m_options.maxWorkers;
}

WorkerPool::~WorkerPool() = default;

void WorkerPool::start(std::function<void(std::optional<LoadError>)> ready)
{
    auto self = shared_from_this();
    asio::post(m_strand, [self, ready = std::move(ready)]() mutable {
        self->m_ready = std::move(ready);
        const std::size_t n = std::max<std::size_t>(1, self->m_options.minWorkers);
        for (std::size_t i = 0; i < n; ++i)
            self->spawnWorker();
        self->scheduleIdleCheck();
    });
}

VoidResult WorkerPool::submit(Invocation invocation)
{
    if (m_draining || m_stopped)
        return ApiError::unavailable("function " + m_launch.label + " is being replaced or stopped; try again");
    if (m_accepting.fetch_add(1) >= m_options.maxQueue + m_options.maxWorkers) {
        m_accepting.fetch_sub(1);
        return ApiError::tooManyRequests("function " + m_launch.label + " already has " +
                                         std::to_string(m_options.maxQueue) +
                                         " runs waiting (the queue limit); try again later or raise max-queue");
    }
    auto self = shared_from_this();
    // The queue bound counts a run from submit until its result, wherever it ends.
    invocation.done = [self, userDone = std::move(invocation.done)](InvocationResult r) mutable {
        self->m_accepting.fetch_sub(1);
        if (userDone)
            userDone(std::move(r));
    };
    asio::post(m_strand, [self, inv = std::move(invocation)]() mutable {
        if (self->m_stopped || self->m_loadFailed) {
            InvocationResult r;
            r.error = systemError(self->m_loadFailed && self->m_loadError
                                      ? "the function cannot load its handler: " + self->m_loadError->message()
                                      : "the function was stopped before the run started");
            if (inv.done)
                inv.done(std::move(r));
            return;
        }
        self->m_queue.push_back(Pending{std::move(inv), false});
        self->dispatchQueued();
    });
    return Ok{};
}

void WorkerPool::spawnWorker()
{
    auto w = std::make_shared<Worker>(*this);
    auto started = w->start(m_launch, m_reaper, m_options.startTimeout);
    if (!started) {
        spdlog::error("cannot start a worker for {}: {}", m_launch.label, started.error().message);
        LoadError err;
        err.error = systemError(started.error().message);
        m_loadFailed = true;
        m_loadError = err;
        if (m_ready) {
            auto cb = std::move(m_ready);
            m_ready = nullptr;
            cb(err);
        }
        return;
    }
    ++m_starting;
    m_workers.push_back(w);
    updateCounters();
}

void WorkerPool::onWorkerReady(const std::shared_ptr<Worker> &w)
{
    if (m_starting > 0)
        --m_starting;
    if (m_ready) {
        auto cb = std::move(m_ready);
        m_ready = nullptr;
        cb(std::nullopt);
    }
    if (m_stopped) {
        w->stopGracefully();
        return;
    }
    m_idle.push_back(w);
    dispatchQueued();
}

void WorkerPool::onWorkerLoadFailed(const std::shared_ptr<Worker> &w, LoadError err)
{
    (void)w;
    if (m_starting > 0)
        --m_starting;
    spdlog::warn("worker for {} cannot load the handler: {}", m_launch.label, err.message());
    m_loadFailed = true;
    m_loadError = err;
    if (m_ready) {
        auto cb = std::move(m_ready);
        m_ready = nullptr;
        cb(err);
    }
    while (!m_queue.empty()) {
        auto p = std::move(m_queue.front());
        m_queue.pop_front();
        InvocationResult r;
        r.error = systemError("the function cannot load its handler: " + err.message());
        if (p.invocation.done)
            p.invocation.done(std::move(r));
    }
    updateCounters();
}

void WorkerPool::onWorkerIdle(const std::shared_ptr<Worker> &w)
{
    if (m_stopped || (m_draining && m_queue.empty())) {
        w->stopGracefully();
        updateCounters();
        return;
    }
    m_idle.push_back(w);
    dispatchQueued();
}

void WorkerPool::onWorkerGone(const std::shared_ptr<Worker> &w)
{
    if (auto it = std::find(m_workers.begin(), m_workers.end(), w); it != m_workers.end())
        m_workers.erase(it);
    if (auto it = std::find(m_idle.begin(), m_idle.end(), w); it != m_idle.end())
        m_idle.erase(it);
    if (!m_stopped && !m_draining && !m_loadFailed && m_workers.size() < m_options.minWorkers) {
        spdlog::info("replacing a worker of {}", m_launch.label);
        spawnWorker();
    }
    dispatchQueued();
    updateCounters();
}

void WorkerPool::dispatchQueued()
{
    while (!m_queue.empty() && !m_idle.empty()) {
        auto w = m_idle.back();
        m_idle.pop_back();
        if (w->state() != Worker::State::Idle)
            continue;
        auto p = std::move(m_queue.front());
        m_queue.pop_front();
        w->invoke(m_nextId++, std::move(p));
    }
    if (!m_queue.empty() && !m_stopped && !m_loadFailed) {
        // Start workers for the runs that would otherwise wait, up to the maximum; those runs are cold starts.
        std::size_t index = m_starting;
        while (m_starting < m_queue.size() && m_workers.size() < m_options.maxWorkers) {
            if (index < m_queue.size())
                m_queue[index++].cold = true;
            m_coldStarts.fetch_add(1);
            spawnWorker();
        }
    }
    updateCounters();
}

void WorkerPool::scheduleIdleCheck()
{
    if (!m_idleTimer)
        m_idleTimer = std::make_unique<asio::steady_timer>(m_io);
    m_idleTimer->expires_after(std::max(m_options.idleTimeout / 2, std::chrono::milliseconds(100)));
    std::weak_ptr<WorkerPool> weak = weak_from_this();
    m_idleTimer->async_wait(asio::bind_executor(m_strand, [weak](const boost::system::error_code &ec) {
        auto self = weak.lock();
        if (ec || !self || self->m_stopped)
            return;
        const auto now = std::chrono::steady_clock::now();
        // Reap the coldest idle workers (front of the LIFO) above the minimum.
        while (self->m_workers.size() > self->m_options.minWorkers && !self->m_idle.empty() &&
               now - self->m_idle.front()->idleSince() > self->m_options.idleTimeout) {
            auto w = self->m_idle.front();
            self->m_idle.erase(self->m_idle.begin());
            w->stopGracefully();
        }
        self->scheduleIdleCheck();
    }));
}

void WorkerPool::drain()
{
    auto self = shared_from_this();
    m_draining = true;
    asio::post(m_strand, [self] {
        if (self->m_queue.empty()) {
            for (auto &w : self->m_idle)
                w->stopGracefully();
            self->m_idle.clear();
        }
        if (self->m_idleTimer)
            self->m_idleTimer->cancel();
    });
}

void WorkerPool::stopNow(const std::string &why)
{
    auto self = shared_from_this();
    m_stopped = true;
    asio::post(m_strand, [self, why] {
        while (!self->m_queue.empty()) {
            auto p = std::move(self->m_queue.front());
            self->m_queue.pop_front();
            InvocationResult r;
            r.error = systemError(why);
            if (p.invocation.done)
                p.invocation.done(std::move(r));
        }
        for (auto &w : self->m_workers) {
            w->failCurrent(systemError(why));
            w->kill();
        }
        self->m_idle.clear();
        if (self->m_idleTimer)
            self->m_idleTimer->cancel();
        // Stopped before its first worker was ready: nobody is told any more (the deployer stopped it), and the
        // callback (which holds the pool) must not keep the pool alive forever.
        self->m_ready = nullptr;
        self->updateCounters();
    });
}

void WorkerPool::updateCounters()
{
    std::size_t busy = 0;
    for (const auto &w : m_workers)
        if (w->state() == Worker::State::Busy)
            ++busy;
    m_workerCount.store(m_workers.size());
    m_busyCount.store(busy);
    m_queuedCount.store(m_queue.size());
}

} // namespace dispatch::engine
