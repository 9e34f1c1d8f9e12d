// SPDX-License-Identifier: GPL-3.0-or-later
#include "localserver.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>

#include <nlohmann/json.hpp>

#include <algorithm>

#ifdef Q_OS_UNIX
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>
#include <cerrno>
#endif

namespace dispatch::models {

namespace {

constexpr std::chrono::milliseconds kReadyPoll{250};
constexpr std::chrono::milliseconds kAttachedCheck{2000};
constexpr std::chrono::milliseconds kFirstRestartDelay{1000};

// QProcess kills its child when destroyed. To leave the server running on purpose, the process object forgets
// the child first (its pipes close; the server logs to its file and ignores SIGPIPE).
class ServerProcess : public QProcess
{
public:
    using QProcess::QProcess;
    void release() { setProcessState(QProcess::NotRunning); }
};

bool processAlive(qint64 pid)
{
#ifdef Q_OS_UNIX
    if (pid <= 0)
        return false;
    return ::kill(pid_t(pid), 0) == 0 || errno == EPERM;
#else
    return pid > 0;
#endif
}

QString programName()
{
    return QStringLiteral("dispatch-server");
}

} // namespace

LocalServer::LocalServer(QObject *parent) : QObject(parent)
{
    qRegisterMetaType<dispatch::models::LogLine>();
    qRegisterMetaType<QList<dispatch::models::LogLine>>();
    m_readyPoll.setInterval(kReadyPoll);
    connect(&m_readyPoll, &QTimer::timeout, this, &LocalServer::checkReady);
    connect(&m_readyWatcher, &QFileSystemWatcher::directoryChanged, this, &LocalServer::checkReady);
    m_readyDeadline.setSingleShot(true);
    connect(&m_readyDeadline, &QTimer::timeout, this, [this] {
        if (m_state != State::Starting)
            return;
        m_lastError = m_attaching
                          ? QStringLiteral("Another dispatch-server holds the data dir %1 but never became ready.")
                                .arg(dataDir())
                          : QStringLiteral("dispatch-server did not become ready within %1 s.")
                                .arg(kReadyTimeout.count() / 1000);
        emit errorOccurred(m_lastError);
        if (m_process && m_process->state() != QProcess::NotRunning) {
            m_process->kill(); // onFinished turns this into Crashed (and a restart)
        } else {
            m_attaching = false;
            clearRunning(true);
            setState(State::Crashed);
            scheduleRestart();
        }
    });
    m_killTimer.setSingleShot(true);
    connect(&m_killTimer, &QTimer::timeout, this, [this] {
        if (m_process && m_process->state() != QProcess::NotRunning)
            m_process->kill();
    });
    m_restartTimer.setSingleShot(true);
    connect(&m_restartTimer, &QTimer::timeout, this, [this] {
        if (m_state != State::Crashed)
            return;
        ++m_restarts;
        launch();
    });
    m_attachedCheck.setInterval(kAttachedCheck);
    connect(&m_attachedCheck, &QTimer::timeout, this, &LocalServer::onAttachedCheck);
}

LocalServer::~LocalServer()
{
    m_restartTimer.stop();
    m_killTimer.stop();
    if (!m_process)
        return;
    disconnect(m_process, nullptr, this, nullptr);
    if (m_process->state() == QProcess::NotRunning)
        return;
    if (m_leaveRunning) {
        static_cast<ServerProcess *>(m_process)->release();
        return;
    }
    // Shutting down: the one place where waiting is right (the server finishes its runs and commits).
    m_process->terminate();
    if (!m_process->waitForFinished(int(kStopTimeout.count()))) {
        m_process->kill();
        m_process->waitForFinished(3000);
    }
}

QString LocalServer::findExecutable()
{
    const QString appDir = QCoreApplication::applicationDirPath();
    const QStringList candidates = {appDir + QLatin1Char('/') + programName(),
                                    appDir + QStringLiteral("/../libexec/dispatch-console/") + programName()};
    for (const auto &c : candidates) {
        const QFileInfo info(c);
        if (info.isFile() && info.isExecutable())
            return info.canonicalFilePath();
    }
    return {};
}

QString LocalServer::executable() const
{
    return m_executable.isEmpty() ? findExecutable() : m_executable;
}

QString LocalServer::defaultDataDir()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/server");
}

QString LocalServer::dataDir() const
{
    return m_dataDir.isEmpty() ? defaultDataDir() : m_dataDir;
}

QString LocalServer::readyFilePath() const
{
    return dataDir() + QStringLiteral("/ready.json");
}

QString LocalServer::apiBaseUrl() const
{
    return m_state == State::Running && m_apiPort ? QStringLiteral("http://127.0.0.1:%1").arg(m_apiPort) : QString();
}

void LocalServer::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    emit stateChanged(state);
}

void LocalServer::start()
{
    if (m_state == State::Running || m_state == State::Starting)
        return;
    if (m_state == State::Stopping) {
        m_restartAfterStop = true;
        return;
    }
    m_restartTimer.stop();
    m_restartDelay = kFirstRestartDelay;
    launch();
}

void LocalServer::launch()
{
    m_stopRequested = false;
    m_restartAfterStop = false;
    m_refusal.clear();
    const QString exe = executable();
    if (exe.isEmpty() || !QFileInfo(exe).isExecutable()) {
        m_lastError = exe.isEmpty()
                          ? QStringLiteral("The bundled dispatch-server was not found next to the console (%1) or in "
                                           "../libexec/dispatch-console/.")
                                .arg(QCoreApplication::applicationDirPath())
                          : QStringLiteral("%1 is not an executable file.").arg(exe);
        setState(State::Stopped);
        emit errorOccurred(m_lastError);
        return;
    }
    if (!QDir().mkpath(dataDir())) {
        m_lastError = QStringLiteral("Cannot create the server's data dir %1.").arg(dataDir());
        setState(State::Stopped);
        emit errorOccurred(m_lastError);
        return;
    }
    if (dataDirLocked()) {
        tryAttach();
        return;
    }
    QFile::remove(readyFilePath()); // a stale one from a server that was killed
    startProcess();
}

void LocalServer::startProcess()
{
    if (m_process) {
        disconnect(m_process, nullptr, this, nullptr);
        m_process->deleteLater();
    }
    m_process = new ServerProcess(this);
    m_stdoutBuffer.clear();
    m_stderrBuffer.clear();
    connect(m_process, &QProcess::readyReadStandardOutput, this, &LocalServer::onStdout);
    connect(m_process, &QProcess::readyReadStandardError, this, &LocalServer::onStderr);
    connect(m_process, &QProcess::finished, this, &LocalServer::onFinished);
    connect(m_process, &QProcess::errorOccurred, this, &LocalServer::onProcessError);
    // Once it ran, the server comes back on the same ports, so the Local context's URL (and every client, model
    // and watch stream on it) stays valid across a crash or a restart. The first start takes free ones.
    m_triedPreferredPorts = m_preferredApiPort != 0;
    QStringList args = {QStringLiteral("--data-dir"),
                        dataDir(),
                        QStringLiteral("--port"),
                        QString::number(m_preferredApiPort),
                        QStringLiteral("--gateway-port"),
                        QString::number(m_preferredGatewayPort),
                        QStringLiteral("--ready-file"),
                        readyFilePath()};
    args += m_extraArgs;
    m_attached = false;
    m_attaching = false;
    setState(State::Starting);
    watchReadyFile();
    m_process->start(executable(), args, QIODevice::ReadOnly);
}

void LocalServer::watchReadyFile()
{
    if (!m_readyWatcher.directories().contains(dataDir()))
        m_readyWatcher.addPath(dataDir());
    m_readyPoll.start();
    m_readyDeadline.start(kReadyTimeout);
}

void LocalServer::stopWatchingReadyFile()
{
    m_readyPoll.stop();
    m_readyDeadline.stop();
    if (!m_readyWatcher.directories().isEmpty())
        m_readyWatcher.removePaths(m_readyWatcher.directories());
}

bool LocalServer::readReadyFile(quint16 *api, quint16 *gateway, qint64 *pid) const
{
    QFile f(readyFilePath());
    if (!f.open(QIODevice::ReadOnly))
        return false;
    const QByteArray bytes = f.readAll();
    const auto j = nlohmann::json::parse(bytes.constBegin(), bytes.constEnd(), nullptr, false);
    if (!j.is_object())
        return false;
    auto num = [&](const char *key) -> qint64 {
        auto it = j.find(key);
        return it != j.end() && it->is_number_integer() ? it->get<qint64>() : 0;
    };
    const qint64 a = num("apiPort");
    if (a <= 0 || a > 65535)
        return false;
    *api = quint16(a);
    *gateway = quint16(std::clamp<qint64>(num("gatewayPort"), 0, 65535));
    *pid = num("pid");
    return true;
}

void LocalServer::checkReady()
{
    if (m_state != State::Starting)
        return;
    quint16 api = 0, gateway = 0;
    qint64 pid = 0;
    if (!readReadyFile(&api, &gateway, &pid))
        return;
    if (m_attaching) {
        if (!processAlive(pid))
            return; // stale: the other server has not written its own yet
        m_attaching = false;
        m_attached = true;
        m_attachedCheck.start();
        becomeRunning(api, gateway, pid);
        emit attached(pid);
        return;
    }
    if (!m_process || m_process->processId() != pid)
        return; // not ours (yet)
    becomeRunning(api, gateway, pid);
}

void LocalServer::becomeRunning(quint16 api, quint16 gateway, qint64 pid)
{
    stopWatchingReadyFile();
    m_pid = pid;
    if (!m_attached) {
        m_preferredApiPort = api;
        m_preferredGatewayPort = gateway;
    }
    const bool portsDiffer = api != m_apiPort || gateway != m_gatewayPort;
    m_apiPort = api;
    m_gatewayPort = gateway;
    m_runningFor.start();
    m_lastError.clear();
    setState(State::Running);
    if (portsDiffer)
        emit portsChanged(api, gateway);
}

void LocalServer::tryAttach()
{
    // Another dispatch-server (another console's) has the data dir: use it instead of fighting over it.
    m_attaching = true;
    m_attached = false;
    setState(State::Starting);
    watchReadyFile();
    checkReady();
}

void LocalServer::onAttachedCheck()
{
    if (!m_attached || processAlive(m_pid))
        return;
    // The server we joined is gone (its console quit, or it crashed): the data dir is free to start our own.
    m_attachedCheck.stop();
    m_attached = false;
    m_lastError = QStringLiteral("The dispatch-server (pid %1) this console was attached to has exited.").arg(m_pid);
    clearRunning(true);
    setState(State::Crashed);
    emit errorOccurred(m_lastError);
    scheduleRestart();
}

void LocalServer::clearRunning(bool forgetPorts)
{
    stopWatchingReadyFile();
    m_attachedCheck.stop();
    m_pid = 0;
    // A crashed server comes back on the same ports: keeping them spares every client a change of address.
    if (forgetPorts && (m_apiPort || m_gatewayPort)) {
        m_apiPort = 0;
        m_gatewayPort = 0;
        emit portsChanged(0, 0);
    }
}

void LocalServer::stop()
{
    m_restartAfterStop = false;
    m_restartTimer.stop();
    if (m_attached || m_attaching) {
        // Not ours to stop: another console runs it. This console just lets go.
        m_attached = false;
        m_attaching = false;
        clearRunning(true);
        setState(State::Stopped);
        return;
    }
    if (!m_process || m_process->state() == QProcess::NotRunning) {
        clearRunning(true);
        setState(State::Stopped);
        return;
    }
    m_stopRequested = true;
    setState(State::Stopping);
    m_process->terminate(); // SIGTERM: runs in flight finish, the store is flushed
    m_killTimer.start(kStopTimeout);
}

void LocalServer::restart()
{
    if (m_state == State::Running || m_state == State::Starting || m_state == State::Stopping) {
        const bool attached = m_attached || m_attaching;
        stop();
        if (attached || m_state == State::Stopped)
            start();
        else
            m_restartAfterStop = true;
        return;
    }
    start();
}

void LocalServer::onStdout()
{
    if (m_process)
        appendLog(m_stdoutBuffer, m_process->readAllStandardOutput(), false);
}

void LocalServer::onStderr()
{
    if (m_process)
        appendLog(m_stderrBuffer, m_process->readAllStandardError(), false);
}

void LocalServer::appendLog(QByteArray &buffer, const QByteArray &chunk, bool flushAll)
{
    buffer += chunk;
    QList<LogLine> lines;
    qsizetype start = 0;
    for (qsizetype nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n', start)) {
        lines << LogLine::parse(QString::fromUtf8(buffer.constData() + start, nl - start));
        start = nl + 1;
    }
    buffer.remove(0, start);
    // A line without an end: kept for the next chunk, unless it grows without bound or the process ended.
    if (flushAll || buffer.size() > 64 * 1024) {
        if (!buffer.isEmpty())
            lines << LogLine::parse(QString::fromUtf8(buffer));
        buffer.clear();
    }
    if (!lines.isEmpty())
        emitLog(lines);
}

void LocalServer::emitLog(const QList<LogLine> &lines)
{
    static const QLatin1String refusal("is already using the data dir");
    for (const auto &l : lines) {
        if (l.text.contains(refusal))
            m_refusal = l.text;
        m_log.push_back(l);
    }
    while (m_log.size() > size_t(kMaxLogLines))
        m_log.pop_front();
    emit logLines(lines);
}

void LocalServer::onProcessError(QProcess::ProcessError error)
{
    if (error != QProcess::FailedToStart)
        return; // crashes end in finished()
    // finished() is not emitted when the start fails.
    m_lastError = QStringLiteral("Cannot start %1: %2").arg(executable(), m_process ? m_process->errorString() : QString());
    clearRunning(true);
    setState(State::Stopped);
    emit errorOccurred(m_lastError);
}

void LocalServer::onFinished(int exitCode, QProcess::ExitStatus status)
{
    m_killTimer.stop();
    if (m_process) {
        appendLog(m_stdoutBuffer, m_process->readAllStandardOutput(), true);
        appendLog(m_stderrBuffer, m_process->readAllStandardError(), true);
    }
    clearRunning(m_stopRequested && !m_restartAfterStop); // a restart comes back on the same ports
    if (m_stopRequested) {
        m_stopRequested = false;
        setState(State::Stopped);
        if (m_restartAfterStop) {
            m_restartAfterStop = false;
            start();
        }
        return;
    }
    if (!m_refusal.isEmpty()) {
        tryAttach(); // another console started one on this data dir first
        return;
    }
    if (m_state == State::Starting && m_triedPreferredPorts) {
        // It died before it was ready, perhaps because its old ports are taken now: the next try picks free ones.
        m_preferredApiPort = 0;
        m_preferredGatewayPort = 0;
    }
    m_lastError = status == QProcess::CrashExit
                      ? QStringLiteral("dispatch-server crashed (killed by a signal).")
                      : QStringLiteral("dispatch-server exited unexpectedly with code %1.").arg(exitCode);
    setState(State::Crashed);
    emit errorOccurred(m_lastError);
    scheduleRestart();
}

void LocalServer::scheduleRestart()
{
    if (!m_autoRestart)
        return;
    // A server that ran for a while before it crashed starts over with the shortest delay.
    if (m_runningFor.isValid() && m_runningFor.elapsed() >= kStableRun.count())
        m_restartDelay = kFirstRestartDelay;
    m_runningFor.invalidate();
    m_restartTimer.start(m_restartDelay);
    m_restartDelay = std::min(m_restartDelay * 2, kMaxRestartDelay);
}

bool LocalServer::dataDirLocked() const
{
#ifdef Q_OS_UNIX
    const QByteArray path = QFile::encodeName(dataDir() + QStringLiteral("/server.lock"));
    const int fd = ::open(path.constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool locked = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd); // also drops our shared lock at once
    return locked;
#else
    return false;
#endif
}

} // namespace dispatch::models
