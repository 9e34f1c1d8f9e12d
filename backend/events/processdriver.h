// A custom event driver as a supervised child process (image "exec:/path/to/driver"), with the Dispatch driver
// contract of §6.2: the config as --key=value flags, the secrets and AUTH_TOKEN in the environment, and
// --dispatch-api-endpoint. Its merged stdout/stderr is the driver's log: a tail is kept in memory and all of it
// goes to a log file (rotated once at a size limit). The process gets its own process group; a driver that
// exits is reported as ERROR (with the tail of its log) and restarted after an exponential backoff; it is
// reported READY once it has been running for a second.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "engine/process.h"
#include "events/driverrunner.h"

namespace dispatch::events {

struct ProcessDriverSpec
{
    std::vector<std::string> argv; // argv[0] = the absolute path of the executable
    std::vector<std::string> env;  // the complete environment
    std::filesystem::path logFile;
    std::string label; // "<org>/<name>", for the server log
    std::chrono::milliseconds readyAfter{1000};
    std::chrono::milliseconds backoffMin{1000};
    std::chrono::milliseconds backoffMax{60000};
    std::chrono::milliseconds stopGrace{2000}; // SIGTERM → SIGKILL on update/delete
    std::size_t tailBytes = 16 * 1024;
    std::size_t maxLogFileBytes = 8 * 1024 * 1024;
};

class ProcessDriver final : public DriverRunner, public std::enable_shared_from_this<ProcessDriver>
{
public:
    ProcessDriver(boost::asio::io_context &io, engine::ChildReaper &reaper, ProcessDriverSpec spec,
                  ReportStatus report);
    ~ProcessDriver() override;

    void start() override;
    void stop(bool immediately) override;
    std::string logTail() const;

private:
    void launch();
    void readLocked(uint64_t run);
    void onExit(uint64_t run, engine::ExitStatus status);
    void finishRunLocked(std::vector<std::pair<wire::Status, std::string>> &reports);
    void appendOutputLocked(std::string_view chunk);
    void appendMarkerLocked(const std::string &line); // a line of our own in the log (start, exit)
    void scheduleRestartLocked();

    boost::asio::io_context &m_io;
    engine::ChildReaper &m_reaper;
    ProcessDriverSpec m_spec;
    ReportStatus m_report;

    mutable std::mutex m_mutex; // guards everything below; handlers run on any I/O thread
    bool m_stopped = false;
    uint64_t m_run = 0; // launch counter: callbacks of an earlier process are ignored
    pid_t m_pid = -1;
    bool m_running = false;
    bool m_exited = false;
    bool m_eof = false;
    engine::ExitStatus m_exit;
    std::chrono::steady_clock::time_point m_startedAt;
    std::chrono::milliseconds m_backoff;
    std::unique_ptr<boost::asio::posix::stream_descriptor> m_pipe;
    std::shared_ptr<std::array<char, 8192>> m_buffer;
    boost::asio::steady_timer m_readyTimer;   // READY after a second; after an exit, waits for the last output
    boost::asio::steady_timer m_restartTimer; // the backoff; after stop(), the SIGKILL deadline
    std::string m_tail;    // the log's tail, across restarts
    std::string m_runTail; // what the current (or last) process printed: the ERROR reason shows it
    int m_logFd = -1;
    std::size_t m_logSize = 0;
};

} // namespace dispatch::events
