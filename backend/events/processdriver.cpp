// SPDX-License-Identifier: GPL-3.0-or-later
#include "events/processdriver.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "core/ids.h"

namespace dispatch::events {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

int openLog(const fs::path &file, bool truncate, std::size_t &size)
{
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND), 0600);
    struct stat st{};
    size = fd >= 0 && ::fstat(fd, &st) == 0 ? static_cast<std::size_t>(st.st_size) : 0;
    if (fd < 0)
        spdlog::warn("cannot open the driver log {}: {}", file.string(), std::strerror(errno));
    return fd;
}

// The last lines of a log, short enough for a status reason.
std::string lastLines(const std::string &tail, std::size_t maxBytes)
{
    std::string_view t = tail;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' '))
        t.remove_suffix(1);
    if (t.size() > maxBytes) {
        t = t.substr(t.size() - maxBytes);
        if (auto nl = t.find('\n'); nl != std::string_view::npos && nl + 1 < t.size())
            t = t.substr(nl + 1);
        while (!t.empty() && (static_cast<unsigned char>(t.front()) & 0xC0) == 0x80)
            t.remove_prefix(1); // never start inside a UTF-8 sequence
    }
    // One line: a reason is shown in tables and the server log is one line per message.
    std::string out;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '\r')
            continue;
        if (t[i] == '\n')
            out += " | ";
        else
            out.push_back(t[i]);
    }
    return out;
}

std::string secondsText(std::chrono::milliseconds d)
{
    return std::to_string((d.count() + 999) / 1000) + "s";
}

} // namespace

ProcessDriver::ProcessDriver(asio::io_context &io, engine::ChildReaper &reaper, ProcessDriverSpec spec,
                             ReportStatus report)
    : m_io(io), m_reaper(reaper), m_spec(std::move(spec)), m_report(std::move(report)), m_backoff(m_spec.backoffMin),
      m_buffer(std::make_shared<std::array<char, 8192>>()), m_readyTimer(io), m_restartTimer(io)
{
    m_logFd = openLog(m_spec.logFile, false, m_logSize);
}

ProcessDriver::~ProcessDriver()
{
    if (m_running && !m_exited && m_pid > 0)
        ::kill(-m_pid, SIGKILL);
    if (m_logFd >= 0)
        ::close(m_logFd);
}

std::string ProcessDriver::logTail() const
{
    std::lock_guard lock(m_mutex);
    return m_tail;
}

void ProcessDriver::start()
{
    launch();
}

void ProcessDriver::launch()
{
    std::vector<std::pair<wire::Status, std::string>> reports;
    {
        std::lock_guard lock(m_mutex);
        if (m_stopped || m_running)
            return;
        auto pipe = engine::makePipe();
        if (!pipe) {
            reports.emplace_back(wire::Status::Error, pipe.error().message + "; retrying in " +
                                                          secondsText(m_backoff));
            scheduleRestartLocked();
        } else {
            auto [rd, wr] = *pipe;
            engine::SpawnSpec spawn;
            spawn.argv = m_spec.argv;
            spawn.env = m_spec.env;
            spawn.cwd = m_spec.logFile.parent_path();
            spawn.fds = {{1, wr}, {2, wr}};
            auto pid = engine::spawnProcess(spawn);
            ::close(wr);
            if (!pid) {
                ::close(rd);
                appendOutputLocked(pid.error().message + "\n");
                reports.emplace_back(wire::Status::Error, "cannot start the driver: " + pid.error().message +
                                                              "; retrying in " + secondsText(m_backoff));
                scheduleRestartLocked();
            } else {
                const uint64_t run = ++m_run;
                m_pid = *pid;
                m_running = true;
                m_exited = false;
                m_eof = false;
                m_startedAt = std::chrono::steady_clock::now();
                m_runTail.clear();
                appendMarkerLocked("--- " + formatRfc3339(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                              std::chrono::system_clock::now().time_since_epoch())
                                                              .count()) +
                                   " driver started (pid " + std::to_string(m_pid) + ") ---\n");
                spdlog::info("event driver {}: started {} (pid {})", m_spec.label, m_spec.argv.front(), m_pid);
                m_pipe = std::make_unique<asio::posix::stream_descriptor>(m_io, rd);
                readLocked(run);
                m_readyTimer.expires_after(m_spec.readyAfter);
                m_readyTimer.async_wait([weak = weak_from_this(), run](const boost::system::error_code &ec) {
                    auto self = weak.lock();
                    if (ec || !self)
                        return;
                    {
                        std::lock_guard guard(self->m_mutex);
                        if (self->m_stopped || run != self->m_run || !self->m_running || self->m_exited)
                            return;
                    }
                    self->m_report(wire::Status::Ready, {});
                });
                m_reaper.watch(m_pid, [weak = weak_from_this(), run](engine::ExitStatus st) {
                    if (auto self = weak.lock())
                        self->onExit(run, st);
                });
            }
        }
    }
    for (auto &[status, reason] : reports)
        m_report(status, std::move(reason));
}

void ProcessDriver::readLocked(uint64_t run)
{
    if (!m_pipe)
        return;
    m_pipe->async_read_some(
        asio::buffer(*m_buffer),
        [weak = weak_from_this(), run, buffer = m_buffer](const boost::system::error_code &ec, std::size_t n) {
            auto self = weak.lock();
            if (!self)
                return;
            std::vector<std::pair<wire::Status, std::string>> reports;
            {
                std::lock_guard lock(self->m_mutex);
                if (run != self->m_run || !self->m_pipe)
                    return;
                if (n > 0)
                    self->appendOutputLocked(std::string_view(buffer->data(), n));
                if (ec) {
                    self->m_eof = true;
                    self->m_pipe.reset();
                    if (self->m_exited)
                        self->finishRunLocked(reports);
                } else {
                    self->readLocked(run);
                }
            }
            for (auto &[status, reason] : reports)
                self->m_report(status, std::move(reason));
        });
}

void ProcessDriver::onExit(uint64_t run, engine::ExitStatus status)
{
    std::vector<std::pair<wire::Status, std::string>> reports;
    {
        std::lock_guard lock(m_mutex);
        if (run != m_run || !m_running)
            return;
        m_exited = true;
        m_exit = status;
        ::kill(-m_pid, SIGKILL); // helpers it left behind in its process group
        m_readyTimer.cancel();
        if (m_eof) {
            finishRunLocked(reports);
        } else {
            // Its last words may still be in the pipe: read them, but do not wait for long.
            m_readyTimer.expires_after(500ms);
            m_readyTimer.async_wait([weak = weak_from_this(), run](const boost::system::error_code &ec) {
                auto self = weak.lock();
                if (ec || !self)
                    return;
                std::vector<std::pair<wire::Status, std::string>> late;
                {
                    std::lock_guard guard(self->m_mutex);
                    if (run != self->m_run)
                        return;
                    self->finishRunLocked(late);
                }
                for (auto &[st, reason] : late)
                    self->m_report(st, std::move(reason));
            });
        }
    }
    for (auto &[st, reason] : reports)
        m_report(st, std::move(reason));
}

void ProcessDriver::finishRunLocked(std::vector<std::pair<wire::Status, std::string>> &reports)
{
    if (!m_running)
        return;
    m_running = false;
    m_pipe.reset();
    m_readyTimer.cancel();
    appendMarkerLocked("--- driver exited: " + m_exit.describe() + " ---\n");
    if (m_stopped) {
        m_restartTimer.cancel(); // the SIGKILL deadline of stop() is moot
        return;
    }
    if (std::chrono::steady_clock::now() - m_startedAt >= m_spec.backoffMax)
        m_backoff = m_spec.backoffMin; // it ran fine for a long time: start the backoff over
    std::string reason = "driver process " + m_exit.describe() + "; restarting in " + secondsText(m_backoff);
    if (auto last = lastLines(m_runTail, 800); !last.empty())
        reason += "; last output: " + last;
    spdlog::warn("event driver {}: {}", m_spec.label, reason);
    reports.emplace_back(wire::Status::Error, std::move(reason));
    scheduleRestartLocked();
}

void ProcessDriver::scheduleRestartLocked()
{
    m_restartTimer.expires_after(m_backoff);
    m_backoff = std::min(m_backoff * 2, m_spec.backoffMax);
    m_restartTimer.async_wait([weak = weak_from_this()](const boost::system::error_code &ec) {
        if (ec)
            return;
        if (auto self = weak.lock())
            self->launch();
    });
}

void ProcessDriver::stop(bool immediately)
{
    std::lock_guard lock(m_mutex);
    if (m_stopped)
        return;
    m_stopped = true;
    m_readyTimer.cancel();
    m_restartTimer.cancel();
    if (!m_running || m_exited || m_pid <= 0)
        return;
    spdlog::info("event driver {}: stopping (pid {})", m_spec.label, m_pid);
    if (immediately) {
        ::kill(-m_pid, SIGKILL);
        return;
    }
    ::kill(-m_pid, SIGTERM);
    // The deadline holds a strong reference: the driver object outlives its removal until the process is gone.
    m_restartTimer.expires_after(m_spec.stopGrace);
    m_restartTimer.async_wait([self = shared_from_this(), run = m_run](const boost::system::error_code &ec) {
        if (ec)
            return;
        std::lock_guard guard(self->m_mutex);
        if (self->m_running && !self->m_exited && run == self->m_run) {
            spdlog::warn("event driver {}: did not stop within {} ms; killing it", self->m_spec.label,
                         self->m_spec.stopGrace.count());
            ::kill(-self->m_pid, SIGKILL);
        }
    });
}

void ProcessDriver::appendMarkerLocked(const std::string &line)
{
    if (!m_tail.empty() && m_tail.back() != '\n')
        appendOutputLocked("\n");
    const std::string runTail = m_runTail; // markers are for the log, not for the ERROR reason
    appendOutputLocked(line);
    m_runTail = runTail;
}

void ProcessDriver::appendOutputLocked(std::string_view chunk)
{
    m_runTail.append(chunk);
    if (m_runTail.size() > m_spec.tailBytes * 2)
        m_runTail.erase(0, m_runTail.size() - m_spec.tailBytes);
    m_tail.append(chunk);
    if (m_tail.size() > m_spec.tailBytes * 2)
        m_tail.erase(0, m_tail.size() - m_spec.tailBytes);
    if (m_logFd < 0)
        return;
    std::size_t off = 0;
    while (off < chunk.size()) {
        const ssize_t w = ::write(m_logFd, chunk.data() + off, chunk.size() - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        off += static_cast<std::size_t>(w);
    }
    m_logSize += off;
    if (m_logSize > m_spec.maxLogFileBytes) {
        ::close(m_logFd);
        std::error_code ec;
        fs::rename(m_spec.logFile, m_spec.logFile.string() + ".1", ec);
        m_logFd = openLog(m_spec.logFile, true, m_logSize);
    }
}

} // namespace dispatch::events
