// SPDX-License-Identifier: GPL-3.0-or-later
#include "serverprocess.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>

extern char **environ; // NOLINT(readability-redundant-declaration): POSIX leaves it undeclared

namespace dispatch::bench {

namespace {

using Clock = std::chrono::steady_clock;

double millisSince(Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

int decodeWaitStatus(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

// Reaps `pid` if it has exited; returns its decoded status.
std::optional<int> tryReap(pid_t pid)
{
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
        return decodeWaitStatus(status);
    if (r < 0 && errno == ECHILD)
        return -1;
    return std::nullopt;
}

struct ReadyInfo
{
    uint16_t apiPort = 0;
    uint16_t gatewayPort = 0;
    pid_t pid = -1;
};

// The server may still be writing the file when we look: anything that does not parse is "not yet".
std::optional<ReadyInfo> readReadyFile(const std::filesystem::path &path)
{
    std::ifstream in(path);
    if (!in)
        return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    const auto json = nlohmann::json::parse(text.str(), nullptr, false);
    if (json.is_discarded() || !json.is_object())
        return std::nullopt;
    const auto number = [&json](const char *key) -> int64_t {
        const auto it = json.find(key);
        return it != json.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
    };
    ReadyInfo info;
    const int64_t api = number("apiPort");
    if (api <= 0 || api > 65535)
        return std::nullopt;
    info.apiPort = static_cast<uint16_t>(api);
    const int64_t gateway = number("gatewayPort");
    info.gatewayPort = gateway > 0 && gateway <= 65535 ? static_cast<uint16_t>(gateway) : 0;
    info.pid = static_cast<pid_t>(number("pid"));
    return info;
}

} // namespace

ServerProcess::~ServerProcess()
{
    stop();
    removeWorkDir();
}

bool ServerProcess::start(const ServerOptions &options, std::string &error)
{
    stop();
    removeWorkDir();
    m_options = options;

    std::string pattern = (std::filesystem::temp_directory_path() / "dispatch-bench-XXXXXX").string();
    if (!mkdtemp(pattern.data())) {
        error = "mkdtemp: " + std::generic_category().message(errno);
        return false;
    }
    m_workDir = pattern;
    const auto dataDir = m_workDir / "data";
    const auto readyFile = m_workDir / "ready.json";
    std::filesystem::create_directories(dataDir);

    std::vector<std::string> args = {
        options.executable, "--data-dir", dataDir.string(), "--port",          "0",
        "--gateway-port",   "0",          "--ready-file",   readyFile.string()};
    args.insert(args.end(), options.extraArguments.begin(), options.extraArguments.end());
    std::vector<char *> argv;
    argv.reserve(args.size() + 1);
    for (auto &arg : args)
        argv.push_back(arg.data());
    argv.push_back(nullptr);

    // stdout/stderr go to a log file so the benchmark's own output stays a clean table; no other descriptor
    // of ours (sockets of the load generator) leaks into the server.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    const std::string logPath = logFile().string();
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
#endif
    // The benchmark ignores SIGPIPE; the server must start with default dispositions and an empty mask.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    sigset_t emptyMask;
    sigemptyset(&emptyMask);
    posix_spawnattr_setsigmask(&attributes, &emptyMask);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    const auto spawnedAt = Clock::now();
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, options.executable.c_str(), &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0) {
        error = "cannot start " + options.executable + ": " + std::generic_category().message(rc);
        return false;
    }
    m_pid = pid;

    const auto deadline = spawnedAt + options.readyTimeout;
    while (Clock::now() < deadline) {
        if (const auto exited = tryReap(m_pid)) {
            m_pid = -1;
            error = "dispatch-server exited with status " + std::to_string(*exited) + " before it was ready";
            const std::string tail = logTail();
            if (!tail.empty())
                error += "; last log lines:\n" + tail;
            return false;
        }
        if (const auto ready = readReadyFile(readyFile)) {
            m_apiPort = ready->apiPort;
            m_gatewayPort = ready->gatewayPort;
            m_reportedPid = ready->pid;
            m_startMillis = millisSince(spawnedAt);
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    error = "dispatch-server did not write " + readyFile.string() + " within " +
            std::to_string(options.readyTimeout.count()) + " ms";
    const std::string tail = logTail();
    if (!tail.empty())
        error += "; last log lines:\n" + tail;
    stop();
    return false;
}

StopResult ServerProcess::stop()
{
    StopResult result;
    if (m_pid <= 0)
        return result;
    result.wasRunning = true;
    const auto start = Clock::now();
    kill(m_pid, SIGTERM);
    const auto deadline = start + m_options.stopTimeout;
    std::optional<int> status;
    while (!(status = tryReap(m_pid)) && Clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (!status) {
        result.killed = true;
        kill(m_pid, SIGKILL);
        int raw = 0;
        status = waitpid(m_pid, &raw, 0) == m_pid ? decodeWaitStatus(raw) : -1;
    }
    result.exitStatus = *status;
    result.millis = millisSince(start);
    m_pid = -1;
    m_reportedPid = -1;
    return result;
}

std::string ServerProcess::logTail(std::size_t maxLines) const
{
    std::ifstream in(logFile());
    std::deque<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(std::move(line));
        if (lines.size() > maxLines)
            lines.pop_front();
    }
    std::string out;
    for (const auto &line : lines)
        out += "  | " + line + '\n';
    return out;
}

void ServerProcess::removeWorkDir()
{
    if (m_workDir.empty())
        return;
    if (!m_options.keepDataDir) {
        std::error_code ignored;
        std::filesystem::remove_all(m_workDir, ignored);
    }
    m_workDir.clear();
}

std::optional<MemoryFigures> processMemory(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    if (!in)
        return std::nullopt;
    MemoryFigures figures;
    bool found = false;
    for (std::string line; std::getline(in, line);) {
        const auto value = [&line] { return std::strtoull(line.c_str() + line.find(':') + 1, nullptr, 10); };
        if (line.rfind("VmRSS:", 0) == 0) {
            figures.rssKiB = value();
            found = true;
        } else if (line.rfind("VmHWM:", 0) == 0) {
            figures.hwmKiB = value();
        }
    }
    return found ? std::optional(figures) : std::nullopt;
}

namespace {

// utime + stime in seconds from /proc/<pid>/stat (fields 14 and 15; the command name may hold spaces and
// parentheses, so fields are counted after the last ')').
std::optional<double> cpuSeconds(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!in || !std::getline(in, stat))
        return std::nullopt;
    const auto close = stat.rfind(')');
    if (close == std::string::npos)
        return std::nullopt;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14)
            utime = std::strtoull(field.c_str(), nullptr, 10);
        else if (i == 15)
            stime = std::strtoull(field.c_str(), nullptr, 10);
    }
    static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    return static_cast<double>(utime + stime) / ticks;
}

void addDescendants(pid_t pid, double &seconds, int depth)
{
    if (depth > 8)
        return;
    std::error_code ec;
    for (const auto &task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::ifstream in(task.path() / "children");
        for (pid_t child = 0; in >> child;) {
            if (const auto s = cpuSeconds(child))
                seconds += *s;
            addDescendants(child, seconds, depth + 1);
        }
    }
}

} // namespace

std::optional<CpuFigures> processTreeCpu(pid_t pid)
{
    const auto own = cpuSeconds(pid);
    if (!own)
        return std::nullopt;
    CpuFigures figures;
    figures.processSeconds = *own;
    addDescendants(pid, figures.descendantsSeconds, 0);
    return figures;
}

std::optional<pid_t> findListeningProcess(uint16_t port)
{
    // /proc/net/tcp: "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode"; LISTEN is
    // 0A.
    std::string inode;
    for (const char *table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line); // header
        while (inode.empty() && std::getline(in, line)) {
            std::istringstream fields(line);
            std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, node;
            fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >>
                node;
            const auto colon = local.rfind(':');
            if (state != "0A" || colon == std::string::npos)
                continue;
            if (std::strtoul(local.c_str() + colon + 1, nullptr, 16) == port)
                inode = node;
        }
        if (!inode.empty())
            break;
    }
    if (inode.empty())
        return std::nullopt;
    const std::string wanted = "socket:[" + inode + "]";
    std::error_code ec;
    for (const auto &process : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = process.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        std::error_code fdError;
        for (const auto &fd : std::filesystem::directory_iterator(process.path() / "fd", fdError)) {
            std::error_code linkError;
            if (std::filesystem::read_symlink(fd.path(), linkError).string() == wanted)
                return static_cast<pid_t>(std::stol(name));
        }
    }
    return std::nullopt;
}

} // namespace dispatch::bench
