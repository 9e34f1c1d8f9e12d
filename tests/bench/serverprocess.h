// Runs the real dispatch-server as a child process for the benchmarks: a throw-away data dir, ports chosen by
// the server (port 0), readiness taken from its ready file, stopped with SIGTERM (then SIGKILL after a grace
// period). Also reads a process's resident memory from /proc.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace dispatch::bench {

struct ServerOptions
{
    std::string executable;
    std::vector<std::string> extraArguments;
    std::chrono::milliseconds readyTimeout{30000};
    std::chrono::milliseconds stopTimeout{10000};
    bool keepDataDir = false; // leave the temp dir (data, ready file, server.log) for inspection
};

struct StopResult
{
    bool wasRunning = false;
    bool killed = false; // did not exit within stopTimeout after SIGTERM
    int exitStatus = -1; // exit code, or 128 + signal
    double millis = 0;   // SIGTERM to reaped
};

class ServerProcess
{
public:
    ServerProcess() = default;
    ~ServerProcess();
    ServerProcess(const ServerProcess &) = delete;
    ServerProcess &operator=(const ServerProcess &) = delete;

    // Spawns the server and waits for its ready file. On failure returns false with `error` set (including
    // the tail of the server's log) and leaves nothing running.
    bool start(const ServerOptions &options, std::string &error);
    StopResult stop();

    bool running() const { return m_pid > 0; }
    pid_t pid() const { return m_reportedPid > 0 ? m_reportedPid : m_pid; }
    uint16_t apiPort() const { return m_apiPort; }
    uint16_t gatewayPort() const { return m_gatewayPort; }
    double startMillis() const { return m_startMillis; } // spawn to ready file
    const std::filesystem::path &workDir() const { return m_workDir; }
    std::filesystem::path logFile() const { return m_workDir / "server.log"; }
    std::string logTail(std::size_t maxLines = 20) const;

private:
    void removeWorkDir();

    ServerOptions m_options;
    std::filesystem::path m_workDir;
    pid_t m_pid = -1;
    pid_t m_reportedPid = -1;
    uint16_t m_apiPort = 0;
    uint16_t m_gatewayPort = 0;
    double m_startMillis = 0;
};

struct MemoryFigures
{
    uint64_t rssKiB = 0; // VmRSS
    uint64_t hwmKiB = 0; // VmHWM, the peak RSS
};

// Reads /proc/<pid>/status; nullopt if the process is gone or not readable.
std::optional<MemoryFigures> processMemory(pid_t pid);

struct CpuFigures
{
    double processSeconds = 0;     // user + system time of the process (all its threads)
    double descendantsSeconds = 0; // the same, summed over its live descendants (function workers)
};

// Reads /proc/<pid>/stat and, recursively, the stat of every child listed in /proc/<pid>/task/*/children;
// nullopt if the process is gone. Descendants that exited between two samples are not counted.
std::optional<CpuFigures> processTreeCpu(pid_t pid);

// Best effort: the pid of the process listening on 127.0.0.1/0.0.0.0:`port` (from /proc/net/tcp{,6} and
// /proc/*/fd). Only finds processes whose fds this user may read.
std::optional<pid_t> findListeningProcess(uint16_t port);

} // namespace dispatch::bench
