// The bundled dispatch-server: found next to the application, started on free ports with a ready file, watched,
// restarted with backoff when it crashes (on the same ports while they are free), stopped gracefully. Never
// blocks. If another console already runs a server on the same data dir (its server.lock is held), this attaches
// to it through its ready file instead.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QElapsedTimer>
#include <QFileSystemWatcher>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <chrono>
#include <deque>

#include "logline.h"

namespace dispatch::models {

class LocalServer : public QObject
{
    Q_OBJECT
    Q_PROPERTY(State state READ state NOTIFY stateChanged)

public:
    enum class State { Stopped, Starting, Running, Crashed, Stopping };
    Q_ENUM(State)

    static constexpr int kMaxLogLines = 5000;
    static constexpr std::chrono::milliseconds kStopTimeout{10000};   // SIGTERM, then kill
    static constexpr std::chrono::milliseconds kReadyTimeout{60000};  // no ready file by then: failed start
    static constexpr std::chrono::milliseconds kMaxRestartDelay{30000};
    static constexpr std::chrono::milliseconds kStableRun{60000};     // ran this long: the backoff starts over

    explicit LocalServer(QObject *parent = nullptr);
    // Stops a server this object started unless setLeaveRunning(true); an attached one is left alone.
    ~LocalServer() override;

    // Next to the application, then ../libexec/dispatch-console/; empty when not found.
    static QString findExecutable();
    void setExecutable(const QString &path) { m_executable = path; }
    QString executable() const; // the explicit one, else findExecutable()
    // <AppDataLocation>/server by default.
    static QString defaultDataDir();
    void setDataDir(const QString &dir) { m_dataDir = dir; }
    QString dataDir() const;
    QString readyFilePath() const; // <dataDir>/ready.json
    void setExtraArguments(const QStringList &args) { m_extraArgs = args; }
    void setLeaveRunning(bool leave) { m_leaveRunning = leave; }
    bool leaveRunning() const { return m_leaveRunning; }
    void setAutoRestart(bool on) { m_autoRestart = on; }

    State state() const { return m_state; }
    bool isRunning() const { return m_state == State::Running; }
    bool isAttached() const { return m_attached; } // running, but started by another process
    // The ports of the running server; kept while a crashed server restarts (it comes back on them), 0 once stopped.
    quint16 apiPort() const { return m_apiPort; }
    quint16 gatewayPort() const { return m_gatewayPort; }
    QString apiBaseUrl() const; // "http://127.0.0.1:<port>", empty when not running
    qint64 pid() const { return m_pid; }
    QString lastError() const { return m_lastError; }
    int restartCount() const { return m_restarts; }
    std::chrono::milliseconds nextRestartDelay() const { return m_restartDelay; }

    QList<LogLine> recentLog() const { return {m_log.begin(), m_log.end()}; } // at most kMaxLogLines

public slots:
    void start();
    void stop();    // SIGTERM, kill after kStopTimeout
    void restart(); // stop, then start

signals:
    void stateChanged(dispatch::models::LocalServer::State state);
    void portsChanged(quint16 apiPort, quint16 gatewayPort);
    void logLines(const QList<dispatch::models::LogLine> &lines); // in batches, as read
    void errorOccurred(const QString &message);
    void attached(qint64 pid); // joined a server started elsewhere

private:
    void setState(State state);
    void launch();       // start now (start() and the restart timer)
    void startProcess();
    void watchReadyFile();
    void stopWatchingReadyFile();
    void onStdout();
    void onStderr();
    void onFinished(int exitCode, QProcess::ExitStatus status);
    void onProcessError(QProcess::ProcessError error);
    void checkReady();
    bool readReadyFile(quint16 *api, quint16 *gateway, qint64 *pid) const;
    void becomeRunning(quint16 api, quint16 gateway, qint64 pid);
    void tryAttach();
    void onAttachedCheck();
    void scheduleRestart();
    void appendLog(QByteArray &buffer, const QByteArray &chunk, bool flushAll);
    void emitLog(const QList<LogLine> &lines);
    void clearRunning(bool forgetPorts);
    bool dataDirLocked() const; // another process holds <dataDir>/server.lock

    QString m_executable;
    QString m_dataDir;
    QStringList m_extraArgs;
    bool m_leaveRunning = false;
    bool m_autoRestart = true;
    State m_state = State::Stopped;
    bool m_attached = false;
    bool m_attaching = false; // waiting for another process's server to be ready
    bool m_stopRequested = false;
    bool m_restartAfterStop = false;
    QProcess *m_process = nullptr; // owned (child QObject); replaced on every start
    quint16 m_apiPort = 0;
    quint16 m_gatewayPort = 0;
    quint16 m_preferredApiPort = 0; // the ports of the last run: a restart reuses them
    quint16 m_preferredGatewayPort = 0;
    bool m_triedPreferredPorts = false;
    qint64 m_pid = 0;
    QString m_lastError;
    int m_restarts = 0;
    std::chrono::milliseconds m_restartDelay{1000};
    QElapsedTimer m_runningFor;
    QByteArray m_stdoutBuffer;
    QByteArray m_stderrBuffer;
    QString m_refusal; // "another dispatch-server (pid N) is already using the data dir"
    std::deque<LogLine> m_log;
    QFileSystemWatcher m_readyWatcher;
    QTimer m_readyPoll;     // the watcher can miss a rename; a slow timer is the safety net
    QTimer m_readyDeadline;
    QTimer m_killTimer;
    QTimer m_restartTimer;
    QTimer m_attachedCheck; // an attached server is not our child: check that its pid lives
};

} // namespace dispatch::models
