// LocalServer with the real dispatch-server: start on free ports through the ready file, a crash (SIGKILL) that
// ends in Crashed and a restart, a second console that attaches instead of starting a second server, a graceful
// stop, leaving the server running; the log lines it keeps and LogModel over them.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QAbstractItemModelTester>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/types.h>
#include <sys/wait.h>

#include "models/localserver.h"
#include "models/logmodel.h"
#include "support/testserver.h"

using namespace dispatch::models;
using namespace dispatch::test;

namespace {

constexpr int kWaitMs = 120000;

bool alive(qint64 pid)
{
    return pid > 0 && ::kill(pid_t(pid), 0) == 0;
}

bool healthy(const LocalServer &s)
{
    return httpRequest("GET", s.apiBaseUrl() + QStringLiteral("/healthz")).status == 200;
}

QList<LocalServer::State> statesOf(const QSignalSpy &spy)
{
    QList<LocalServer::State> out;
    for (const auto &args : spy)
        out << args.at(0).value<LocalServer::State>();
    return out;
}

} // namespace

class TestLocalServer : public QObject
{
    Q_OBJECT

private slots:
    void startCrashRestartStop()
    {
        QTemporaryDir dir;
        LocalServer server;
        server.setExecutable(QStringLiteral(DISPATCH_SERVER_EXE));
        server.setDataDir(dir.filePath(QStringLiteral("server")));
        QSignalSpy states(&server, &LocalServer::stateChanged);
        QSignalSpy ports(&server, &LocalServer::portsChanged);
        QSignalSpy logs(&server, &LocalServer::logLines);
        server.start();
        QCOMPARE(server.state(), LocalServer::State::Starting); // never blocks: the answer comes later
        QTRY_COMPARE_WITH_TIMEOUT(server.state(), LocalServer::State::Running, kWaitMs);
        QVERIFY(server.apiPort() > 0);
        QVERIFY(server.gatewayPort() > 0);
        QVERIFY(!server.isAttached());
        QCOMPARE(ports.count(), 1);
        QVERIFY(healthy(server));
        QVERIFY(QFile::exists(server.readyFilePath()));

        // Its log: our spdlog lines with their level.
        QTRY_VERIFY_WITH_TIMEOUT(!server.recentLog().isEmpty(), kWaitMs);
        const auto log = server.recentLog();
        QVERIFY(std::any_of(log.begin(), log.end(), [](const LogLine &l) {
            return l.level == LogLevel::Info && l.message.contains(QStringLiteral("starting")) && l.time.isValid();
        }));
        QVERIFY(!logs.isEmpty());

        // A crash: Crashed, then a restart after the first backoff step, on the same ports (clients keep working).
        const qint64 firstPid = server.pid();
        const quint16 apiPort = server.apiPort();
        const quint16 gatewayPort = server.gatewayPort();
        QVERIFY(alive(firstPid));
        states.clear();
        ::kill(pid_t(firstPid), SIGKILL);
        QTRY_VERIFY_WITH_TIMEOUT(statesOf(states).contains(LocalServer::State::Crashed), kWaitMs);
        QVERIFY(!server.lastError().isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(server.state(), LocalServer::State::Running, kWaitMs);
        QCOMPARE(server.restartCount(), 1);
        QVERIFY(server.pid() != firstPid);
        QVERIFY(healthy(server));
        QCOMPARE(statesOf(states),
                 (QList<LocalServer::State>{LocalServer::State::Crashed, LocalServer::State::Starting,
                                            LocalServer::State::Running}));
        QCOMPARE(server.nextRestartDelay(), std::chrono::milliseconds(2000)); // 1 s was used; 2 s next
        QCOMPARE(server.apiPort(), apiPort);
        QCOMPARE(server.gatewayPort(), gatewayPort);
        QCOMPARE(ports.count(), 1); // never announced a change of address

        // restart(): stop, then start again, on the same ports.
        states.clear();
        server.restart();
        QTRY_VERIFY_WITH_TIMEOUT(statesOf(states).contains(LocalServer::State::Stopped), kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(server.state(), LocalServer::State::Running, kWaitMs);
        QCOMPARE(server.apiPort(), apiPort);
        QCOMPARE(ports.count(), 1);
        QVERIFY(healthy(server));

        // A graceful stop: SIGTERM, the server removes its ready file.
        states.clear();
        const qint64 pid = server.pid();
        server.stop();
        QCOMPARE(server.state(), LocalServer::State::Stopping);
        QTRY_COMPARE_WITH_TIMEOUT(server.state(), LocalServer::State::Stopped, kWaitMs);
        QVERIFY(!alive(pid));
        QVERIFY(!QFile::exists(server.readyFilePath()));
        QCOMPARE(server.apiPort(), quint16(0));
        QCOMPARE(server.apiBaseUrl(), QString());
    }

    // A second console on the same data dir joins the running server instead of starting another.
    void secondConsoleAttaches()
    {
        QTemporaryDir dir;
        const QString data = dir.filePath(QStringLiteral("server"));
        LocalServer first;
        first.setExecutable(QStringLiteral(DISPATCH_SERVER_EXE));
        first.setDataDir(data);
        first.start();
        QTRY_COMPARE_WITH_TIMEOUT(first.state(), LocalServer::State::Running, kWaitMs);

        {
            LocalServer second;
            second.setExecutable(QStringLiteral(DISPATCH_SERVER_EXE));
            second.setDataDir(data);
            QSignalSpy attached(&second, &LocalServer::attached);
            second.start();
            QTRY_COMPARE_WITH_TIMEOUT(second.state(), LocalServer::State::Running, kWaitMs);
            QVERIFY(second.isAttached());
            QCOMPARE(attached.count(), 1);
            QCOMPARE(second.apiPort(), first.apiPort());
            QCOMPARE(second.pid(), first.pid());
            // Letting go does not stop the other console's server.
            second.stop();
            QCOMPARE(second.state(), LocalServer::State::Stopped);
        }
        QVERIFY(alive(first.pid()));
        QVERIFY(healthy(first));
        first.stop();
        QTRY_COMPARE_WITH_TIMEOUT(first.state(), LocalServer::State::Stopped, kWaitMs);
    }

    // On destruction the server stops, unless asked to keep running (another console then attaches to it).
    void leaveRunning()
    {
        QTemporaryDir dir;
        const QString data = dir.filePath(QStringLiteral("server"));
        qint64 pid = 0;
        quint16 port = 0;
        {
            LocalServer server;
            server.setExecutable(QStringLiteral(DISPATCH_SERVER_EXE));
            server.setDataDir(data);
            server.start();
            QTRY_COMPARE_WITH_TIMEOUT(server.state(), LocalServer::State::Running, kWaitMs);
            pid = server.pid();
            port = server.apiPort();
            server.setLeaveRunning(true);
        }
        QVERIFY(alive(pid));
        QCOMPARE(httpRequest("GET", QStringLiteral("http://127.0.0.1:%1/healthz").arg(port)).status, 200);

        LocalServer next;
        next.setExecutable(QStringLiteral(DISPATCH_SERVER_EXE));
        next.setDataDir(data);
        next.start();
        QTRY_COMPARE_WITH_TIMEOUT(next.state(), LocalServer::State::Running, kWaitMs);
        QVERIFY(next.isAttached());
        QCOMPARE(next.pid(), pid);

        // The server it joined goes away: it starts its own on the now free data dir.
        ::kill(pid_t(pid), SIGTERM);
        QTRY_VERIFY_WITH_TIMEOUT(::waitpid(pid_t(pid), nullptr, WNOHANG) != 0 || !alive(pid), kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(next.state() == LocalServer::State::Running && !next.isAttached(), kWaitMs);
        QVERIFY(next.pid() != pid);
        QVERIFY(healthy(next));
        // Destroying `next` stops its own server.
        const qint64 own = next.pid();
        next.stop();
        QTRY_COMPARE_WITH_TIMEOUT(next.state(), LocalServer::State::Stopped, kWaitMs);
        QVERIFY(!alive(own));
    }

    void missingExecutable()
    {
        LocalServer server;
        server.setExecutable(QStringLiteral("/nonexistent/dispatch-server"));
        QTemporaryDir dir;
        server.setDataDir(dir.path());
        QSignalSpy errors(&server, &LocalServer::errorOccurred);
        server.start();
        QCOMPARE(server.state(), LocalServer::State::Stopped);
        QCOMPARE(errors.count(), 1);
        QVERIFY(server.lastError().contains(QStringLiteral("/nonexistent/dispatch-server")));
    }

    void parseLogLines_data()
    {
        QTest::addColumn<QString>("line");
        QTest::addColumn<int>("level");
        QTest::addColumn<QString>("message");
        QTest::addColumn<bool>("hasTime");
        QTest::newRow("stderr info") << QStringLiteral("2026-11-25T19:26:13.131 info API on http://127.0.0.1:8080")
                                     << int(LogLevel::Info) << QStringLiteral("API on http://127.0.0.1:8080") << true;
        QTest::newRow("stderr warning") << QStringLiteral("2026-11-25T19:26:13.131 warning disk almost full")
                                        << int(LogLevel::Warning) << QStringLiteral("disk almost full") << true;
        QTest::newRow("stderr error, coloured")
            << QStringLiteral("2026-11-25T19:26:13.131 \x1b[31merror\x1b[m cannot bind") << int(LogLevel::Error)
            << QStringLiteral("cannot bind") << true;
        QTest::newRow("logfmt") << QStringLiteral("time=2026-11-25T19:26:13.131Z level=debug pid=7 thread=9 msg=\"said \\\"hi\\\"\"")
                                << int(LogLevel::Debug) << QStringLiteral("said \"hi\"") << true;
        QTest::newRow("continuation") << QStringLiteral("  at frame 3") << int(LogLevel::Unknown)
                                      << QStringLiteral("  at frame 3") << false;
        QTest::newRow("refusal") << QStringLiteral("dispatch-server: another dispatch-server (pid 12) is already using the data dir /x")
                                 << int(LogLevel::Unknown)
                                 << QStringLiteral("dispatch-server: another dispatch-server (pid 12) is already using the data dir /x")
                                 << false;
    }

    void parseLogLines()
    {
        QFETCH(QString, line);
        QFETCH(int, level);
        QFETCH(QString, message);
        QFETCH(bool, hasTime);
        const LogLine l = LogLine::parse(line);
        QCOMPARE(int(l.level), level);
        QCOMPARE(l.message, message);
        QCOMPARE(l.time.isValid(), hasTime);
    }

    // A capped ring buffer: old lines drop off the top as new ones are appended in batches.
    void logModelRingBuffer()
    {
        LogModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setCapacity(100);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        for (int i = 0; i < 250; ++i)
            model.append(LogLine::parse(QStringLiteral("2026-11-25T19:26:13.131 %1 line %2")
                                            .arg(i % 10 == 0 ? QStringLiteral("error") : QStringLiteral("info"))
                                            .arg(i)));
        QCOMPARE(model.rowCount(), 0); // batched: nothing until the flush
        QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 100, kWaitMs);
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(resets.count(), 0);
        QCOMPARE(model.data(model.index(0), MessageRole).toString(), QStringLiteral("line 150"));
        QCOMPARE(model.data(model.index(99), MessageRole).toString(), QStringLiteral("line 249"));
        QCOMPARE(model.data(model.index(0), LevelRole).toInt(), int(LogLevel::Error));
        model.append(LogLine::parse(QStringLiteral("2026-11-25T19:26:13.131 info line 250")));
        model.flush();
        QCOMPARE(model.rowCount(), 100);
        QCOMPARE(removed.count(), 1);
        QCOMPARE(model.data(model.index(0), MessageRole).toString(), QStringLiteral("line 151"));

        // Level filter: a new view of the same lines (the one reset).
        model.setMinimumLevel(LogLevel::Error);
        QCOMPARE(resets.count(), 1);
        QCOMPARE(model.rowCount(), 9); // 160, 170, ..., 240 (250 came as info)
        QCOMPARE(model.totalLines(), 100);
        model.setMinimumLevel(LogLevel::Trace);
        QCOMPARE(model.rowCount(), 100);

        // Search marks, it does not hide.
        model.setSearch(QStringLiteral("line 2[0-9]0"), true);
        QVERIFY(model.isSearchValid());
        QCOMPARE(model.rowCount(), 100);
        QCOMPARE(model.matchCount(), 6); // 200 ... 250
        const int first = model.nextMatch(-1);
        QCOMPARE(model.data(model.index(first), MessageRole).toString(), QStringLiteral("line 200"));
        QCOMPARE(model.data(model.index(model.nextMatch(first)), MessageRole).toString(), QStringLiteral("line 210"));
        QCOMPARE(model.data(model.index(model.previousMatch(first)), MessageRole).toString(), QStringLiteral("line 250"));
        model.setSearch(QStringLiteral("("), true);
        QVERIFY(!model.isSearchValid());
        QCOMPARE(model.matchCount(), 0);
    }

    // LogModel following a real server.
    void logModelFollowsServer()
    {
        QTemporaryDir dir;
        LocalServer server;
        server.setExecutable(QStringLiteral(DISPATCH_SERVER_EXE));
        server.setDataDir(dir.filePath(QStringLiteral("server")));
        server.setExtraArguments({QStringLiteral("--log-level"), QStringLiteral("debug")});
        LogModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.follow(&server);
        server.start();
        QTRY_COMPARE_WITH_TIMEOUT(server.state(), LocalServer::State::Running, kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(model.rowCount() > 0, kWaitMs);
        model.setSearch(QStringLiteral("starting"));
        QTRY_VERIFY_WITH_TIMEOUT(model.matchCount() >= 1, kWaitMs);
        server.stop();
        QTRY_COMPARE_WITH_TIMEOUT(server.state(), LocalServer::State::Stopped, kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(model.allText().contains(QStringLiteral("stopped")), kWaitMs);
    }
};

QTEST_GUILESS_MAIN(TestLocalServer)
#include "tst_localserver.moc"
