// Child processes, written once: argument vectors (never a shell string), an explicit environment, explicit
// descriptor mapping with every other descriptor closed, death with the server (PR_SET_PDEATHSIG), and a
// completion callback that fires on every outcome, including a failed start.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "core/error.h"

namespace dispatch::engine {

struct SpawnSpec
{
    std::vector<std::string> argv; // argv[0] is an absolute path or is looked up in PATH of `env`
    std::vector<std::string> env;  // the complete environment, "KEY=value"
    std::filesystem::path cwd;
    std::vector<std::pair<int, int>> fds; // (child fd, parent fd); fd 0 is /dev/null unless mapped
};

// Creates a pipe whose both ends are close-on-exec. {read end, write end}.
Result<std::pair<int, int>> makePipe();

// Starts the process. The caller owns the parent ends of any pipes it mapped.
Result<pid_t> spawnProcess(const SpawnSpec &spec);

// How a process ended: exit code, or the signal that killed it.
struct ExitStatus
{
    int exitCode = -1; // -1 when killed by a signal or never started
    int signal = 0;
    std::string describe() const; // "exit code 1", "killed by signal 9 (SIGKILL)"
    bool success() const { return exitCode == 0; }
};

// Reaps children on SIGCHLD and calls the callback registered for each pid (on the io_context).
class ChildReaper
{
public:
    explicit ChildReaper(boost::asio::io_context &io);
    ~ChildReaper();
    void watch(pid_t pid, std::function<void(ExitStatus)> onExit);

private:
    void arm();
    void reap();
    boost::asio::io_context &m_io;
    boost::asio::signal_set m_signals;
    std::mutex m_mutex;
    std::map<pid_t, std::function<void(ExitStatus)>> m_watched;
};

// Runs a command to completion, collecting its merged stdout+stderr (the last `maxOutputBytes`).
// On timeout the process group is killed and the result says so. Always calls `done` exactly once.
struct CommandResult
{
    ExitStatus status;
    bool timedOut = false;
    bool startFailed = false;
    std::string output; // tail of the merged output
};
void runCommand(boost::asio::io_context &io, ChildReaper &reaper, SpawnSpec spec, std::chrono::milliseconds timeout,
                std::size_t maxOutputBytes, std::function<void(CommandResult)> done);

// Looks up an executable: absolute/relative paths are checked as given; bare names are searched in `path`
// (a PATH-style list). Empty when not found or not executable.
std::filesystem::path findExecutable(const std::string &name, const std::string &path);

// The environment of this process as "KEY=value" strings, with `overrides` applied (an empty value removes).
std::vector<std::string> environmentWith(const std::map<std::string, std::string> &overrides);

} // namespace dispatch::engine
