// Warm worker processes of one function revision: at least `minWorkers` are kept running, up to `maxWorkers`
// are started under load, idle ones above the minimum are reaped. One invocation at a time per worker;
// invocations wait in a bounded queue. All state lives on the pool's strand, so there are no locks.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include "engine/engine.h"
#include "engine/process.h"

namespace dispatch::engine {

struct WorkerLaunch
{
    std::vector<std::string> argv; // complete, sandbox wrapper included
    std::vector<std::string> env;
    std::filesystem::path cwd;
    std::string label; // "<org>/<function>@<revision>" for logs
};

struct PoolOptions
{
    std::size_t minWorkers = 1;
    std::size_t maxWorkers = 4;
    std::size_t maxQueue = 1024;
    std::chrono::milliseconds idleTimeout{std::chrono::minutes(5)};
    std::chrono::milliseconds startTimeout{std::chrono::seconds(30)};
};

// Why the first worker could not load the handler (the handshake error frame).
struct LoadError
{
    wire::InvocationError error;
    std::string file;
    int line = 0;
    std::string message() const; // "hello.py:3: SyntaxError: invalid syntax"
};

class Worker;

class WorkerPool : public std::enable_shared_from_this<WorkerPool>
{
public:
    WorkerPool(boost::asio::io_context &io, ChildReaper &reaper, WorkerLaunch launch, PoolOptions options);
    ~WorkerPool();

    // Starts the minimum number of workers; `ready` gets the first handshake's outcome.
    void start(std::function<void(std::optional<LoadError>)> ready);
    // Queues an invocation. Fails when the queue is full or the pool is stopping.
    VoidResult submit(Invocation invocation);
    // No new invocations; queued and running ones finish, then the workers exit.
    void drain();
    // Stops now: running invocations are failed with SystemError, workers killed.
    void stopNow(const std::string &why);

    std::size_t workerCount() const { return m_workerCount.load(); }
    std::size_t busyCount() const { return m_busyCount.load(); }
    std::size_t queued() const { return m_queuedCount.load(); }
    std::size_t coldStarts() const { return m_coldStarts.load(); }
    const std::string &label() const { return m_launch.label; }

private:
    friend class Worker;
    struct Pending
    {
        Invocation invocation;
        bool cold = false;
    };
    void spawnWorker();
    void onWorkerReady(const std::shared_ptr<Worker> &w);
    void onWorkerLoadFailed(const std::shared_ptr<Worker> &w, LoadError err);
    void onWorkerIdle(const std::shared_ptr<Worker> &w);
    void onWorkerGone(const std::shared_ptr<Worker> &w);
    void dispatchQueued();
    void scheduleIdleCheck();
    void updateCounters();

    boost::asio::io_context &m_io;
    ChildReaper &m_reaper;
    boost::asio::strand<boost::asio::io_context::executor_type> m_strand;
    WorkerLaunch m_launch;
    PoolOptions m_options;
    std::vector<std::shared_ptr<Worker>> m_workers; // all live workers (starting, idle, busy)
    std::vector<std::shared_ptr<Worker>> m_idle;    // LIFO: the warmest worker first
    std::deque<Pending> m_queue;
    std::size_t m_starting = 0;
    bool m_draining = false;
    bool m_stopped = false;
    bool m_loadFailed = false;
    std::optional<LoadError> m_loadError;
    std::function<void(std::optional<LoadError>)> m_ready;
    std::unique_ptr<boost::asio::steady_timer> m_idleTimer;
    std::atomic<std::size_t> m_workerCount{0};
    std::atomic<std::size_t> m_busyCount{0};
    std::atomic<std::size_t> m_queuedCount{0};
    std::atomic<std::size_t> m_coldStarts{0};
    std::atomic<std::size_t> m_accepting{0}; // queue length seen by submit() before it reaches the strand
    uint64_t m_nextId = 1;
};

} // namespace dispatch::engine
