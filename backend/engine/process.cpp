// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

extern char **environ;

namespace dispatch::engine {

namespace asio = boost::asio;

Result<std::pair<int, int>> makePipe()
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return ApiError::internal(std::string("cannot create a pipe: ") + std::strerror(errno));
    return std::pair<int, int>{fds[0], fds[1]};
}

Result<pid_t> spawnProcess(const SpawnSpec &spec)
{
    if (spec.argv.empty())
        return ApiError::internal("spawn: empty argument vector");
    // Everything the child needs is prepared before fork: between fork and exec only async-signal-safe calls.
    std::vector<char *> argv;
    for (const auto &a : spec.argv)
        argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char *> envp;
    for (const auto &e : spec.env)
        envp.push_back(const_cast<char *>(e.c_str()));
    envp.push_back(nullptr);
    const std::string cwd = spec.cwd.string();
    int errPipe[2];
    if (::pipe2(errPipe, O_CLOEXEC) != 0)
        return ApiError::internal(std::string("cannot create a pipe: ") + std::strerror(errno));
    const int devNull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    const pid_t parent = ::getpid();

    const pid_t pid = ::fork();
    if (pid < 0) {
        const int e = errno;
        ::close(errPipe[0]);
        ::close(errPipe[1]);
        if (devNull >= 0)
            ::close(devNull);
        return ApiError::internal(std::string("cannot start a process: ") + std::strerror(e));
    }
    if (pid == 0) {
        auto fail = [&](int code) {
            const int e = errno;
            [[maybe_unused]] auto n = ::write(errPipe[1], &e, sizeof e);
            _exit(code);
        };
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent)
            _exit(127);
        ::setpgid(0, 0); // its own process group, so a timeout can kill the whole tree
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int s = 1; s < NSIG; ++s)
            ::signal(s, SIG_DFL);
        // Move the sources out of the way first: a source fd may equal another mapping's target.
        int moved[64];
        const size_t n = spec.fds.size() < 64 ? spec.fds.size() : 64;
        for (size_t i = 0; i < n; ++i) {
            moved[i] = ::fcntl(spec.fds[i].second, F_DUPFD_CLOEXEC, 100);
            if (moved[i] < 0)
                fail(126);
        }
        bool mapped0 = false;
        for (size_t i = 0; i < n; ++i) {
            if (::dup2(moved[i], spec.fds[i].first) < 0)
                fail(126);
            mapped0 = mapped0 || spec.fds[i].first == 0;
        }
        if (!mapped0 && devNull >= 0)
            ::dup2(devNull, 0);
        int maxChildFd = 2;
        for (size_t i = 0; i < n; ++i)
            maxChildFd = spec.fds[i].first > maxChildFd ? spec.fds[i].first : maxChildFd;
        // Close everything above the mapped descriptors except the exec-error pipe (close-on-exec anyway).
        for (int fd = maxChildFd + 1; fd < 1024; ++fd)
            if (fd != errPipe[1])
                ::close(fd);
        ::close_range(1024, ~0U, 0);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0)
            fail(126);
        if (spec.argv[0].find('/') != std::string::npos)
            ::execve(argv[0], argv.data(), envp.data());
        else {
            environ = envp.data();
            ::execvp(argv[0], argv.data());
        }
        fail(127);
    }
    ::close(errPipe[1]);
    if (devNull >= 0)
        ::close(devNull);
    int childErr = 0;
    ssize_t r;
    do {
        r = ::read(errPipe[0], &childErr, sizeof childErr);
    } while (r < 0 && errno == EINTR);
    ::close(errPipe[0]);
    if (r == static_cast<ssize_t>(sizeof childErr)) {
        int st = 0;
        ::waitpid(pid, &st, 0);
        return ApiError::internal("cannot start " + spec.argv[0] + ": " + std::strerror(childErr));
    }
    return pid;
}

std::string ExitStatus::describe() const
{
    if (signal != 0) {
        const char *name = sigabbrev_np(signal);
        return "killed by signal " + std::to_string(signal) + (name ? std::string(" (SIG") + name + ")" : "");
    }
    return "exit code " + std::to_string(exitCode);
}

ChildReaper::ChildReaper(asio::io_context &io) : m_io(io), m_signals(io, SIGCHLD)
{
    arm();
}

ChildReaper::~ChildReaper()
{
    boost::system::error_code ec;
    m_signals.cancel(ec);
}

void ChildReaper::arm()
{
    m_signals.async_wait([this](const boost::system::error_code &ec, int) {
        if (ec)
            return;
        reap();
        arm();
    });
}

static bool tryReap(pid_t pid, ExitStatus &out)
{
    int st = 0;
    pid_t r;
    do {
        r = ::waitpid(pid, &st, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0)
        return false;
    if (r < 0) { // already reaped elsewhere: report as unknown exit
        out.exitCode = -1;
        return true;
    }
    if (WIFEXITED(st))
        out.exitCode = WEXITSTATUS(st);
    else if (WIFSIGNALED(st))
        out.signal = WTERMSIG(st);
    return true;
}

void ChildReaper::watch(pid_t pid, std::function<void(ExitStatus)> onExit)
{
    {
        std::lock_guard lock(m_mutex);
        m_watched[pid] = std::move(onExit);
    }
    // The child may have exited before it was registered (its SIGCHLD already handled): check now.
    asio::post(m_io, [this] { reap(); });
}

void ChildReaper::reap()
{
    std::vector<std::pair<std::function<void(ExitStatus)>, ExitStatus>> done;
    {
        std::lock_guard lock(m_mutex);
        for (auto it = m_watched.begin(); it != m_watched.end();) {
            ExitStatus st;
            if (tryReap(it->first, st)) {
                done.emplace_back(std::move(it->second), st);
                it = m_watched.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto &[cb, st] : done) // never call out while holding the lock
        cb(st);
}

namespace {

struct CommandRun : std::enable_shared_from_this<CommandRun>
{
    CommandRun(asio::io_context &io) : pipe(io), timer(io) {}
    asio::posix::stream_descriptor pipe;
    asio::steady_timer timer;
    pid_t pid = -1;
    std::size_t maxOutput = 0;
    std::string output;
    std::array<char, 8192> buf{};
    bool eof = false;
    bool exited = false;
    bool timedOut = false;
    ExitStatus status;
    std::function<void(CommandResult)> done;
    std::mutex mutex;

    void read()
    {
        auto self = shared_from_this();
        pipe.async_read_some(asio::buffer(buf), [self](const boost::system::error_code &ec, std::size_t n) {
            std::lock_guard lock(self->mutex);
            if (n > 0) {
                self->output.append(self->buf.data(), n);
                if (self->output.size() > self->maxOutput * 2)
                    self->output.erase(0, self->output.size() - self->maxOutput);
            }
            if (ec) {
                self->eof = true;
                self->finishLocked();
                return;
            }
            self->read();
        });
    }
    void finishLocked()
    {
        if (!eof || !exited || !done)
            return;
        timer.cancel();
        CommandResult r;
        r.status = status;
        r.timedOut = timedOut;
        if (output.size() > maxOutput)
            output.erase(0, output.size() - maxOutput);
        r.output = std::move(output);
        auto cb = std::move(done);
        done = nullptr;
        asio::post(pipe.get_executor(), [cb = std::move(cb), r = std::move(r)]() mutable { cb(std::move(r)); });
    }
};

} // namespace

void runCommand(asio::io_context &io, ChildReaper &reaper, SpawnSpec spec, std::chrono::milliseconds timeout,
                std::size_t maxOutputBytes, std::function<void(CommandResult)> done)
{
    auto p = makePipe();
    if (!p) {
        CommandResult r;
        r.startFailed = true;
        r.output = p.error().message;
        asio::post(io, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
        return;
    }
    auto [rd, wr] = *p;
    spec.fds.push_back({1, wr});
    spec.fds.push_back({2, wr});
    auto pid = spawnProcess(spec);
    ::close(wr);
    if (!pid) {
        ::close(rd);
        CommandResult r;
        r.startFailed = true;
        r.output = pid.error().message;
        asio::post(io, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
        return;
    }
    auto run = std::make_shared<CommandRun>(io);
    run->pipe.assign(rd);
    run->pid = *pid;
    run->maxOutput = maxOutputBytes;
    run->done = std::move(done);
    run->timer.expires_after(timeout);
    run->timer.async_wait([run](const boost::system::error_code &ec) {
        if (ec)
            return;
        std::lock_guard lock(run->mutex);
        if (!run->exited) {
            run->timedOut = true;
            ::kill(-run->pid, SIGKILL); // the whole process group: pip, npm and javac start helpers
            ::kill(run->pid, SIGKILL);
        }
    });
    reaper.watch(*pid, [run](ExitStatus st) {
        std::lock_guard lock(run->mutex);
        run->exited = true;
        run->status = st;
        // Helpers started by the command may still hold the pipe open: stop reading once the command exited.
        ::kill(-run->pid, SIGKILL);
        run->finishLocked();
    });
    run->read();
}

std::filesystem::path findExecutable(const std::string &name, const std::string &path)
{
    namespace fs = std::filesystem;
    if (name.empty())
        return {};
    auto ok = [](const fs::path &p) {
        std::error_code ec;
        return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
    };
    if (name.find('/') != std::string::npos)
        return ok(name) ? fs::path(name) : fs::path();
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find(':', start);
        if (end == std::string::npos)
            end = path.size();
        const std::string dir = path.substr(start, end - start);
        if (!dir.empty()) {
            fs::path candidate = fs::path(dir) / name;
            if (ok(candidate))
                return candidate;
        }
        start = end + 1;
    }
    return {};
}

std::vector<std::string> environmentWith(const std::map<std::string, std::string> &overrides)
{
    std::map<std::string, std::string> env;
    for (char **e = environ; e && *e; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string::npos)
            env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto &[k, v] : overrides) {
        if (v.empty())
            env.erase(k);
        else
            env[k] = v;
    }
    std::vector<std::string> out;
    out.reserve(env.size());
    for (const auto &[k, v] : env)
        out.push_back(k + "=" + v);
    return out;
}

} // namespace dispatch::engine
