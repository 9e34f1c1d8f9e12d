// GUI, live behaviour: 2,000 runs arriving while a row is selected keep the selection and the scroll anchor;
// a crashed local server restarts and the panels recover; a remote context on a dead port says so clearly.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QLabel>
#include <QPushButton>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTableView>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <signal.h>

#include "functionsmodel.h"
#include "functionspanel.h"
#include "runsmodel.h"
#include "runspanel.h"
#include "serverpanel.h"
#include "contextbanner.h"
#include "tst_guisupport.h"
#include "tst_modelssupport.h"

using namespace dispatch;
using namespace dispatch::test;

class TestGuiLive : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void runStreamKeepsSelection();
    void crashRestartRecovers();
    void deadRemoteContext();

private:
    views::MainWindow *window() const { return m_console->window(); }
    views::Workspace *ws() const { return m_console->workspace(); }

    QTemporaryDir m_dir;
    std::unique_ptr<app::ConsoleApplication> m_console;
};

void TestGuiLive::initTestCase()
{
    QVERIFY(m_dir.isValid());
    app::ConsoleApplication::setUpApplication(m_dir.path());
    m_console = std::make_unique<app::ConsoleApplication>();
    QString error;
    QVERIFY2(startConsole(*m_console, m_dir.path() + QStringLiteral("/console"), &error), qPrintable(error));

    // Set-up through the API (the walkthrough test covers doing this through the widgets).
    DispatchClient api = localClient(*m_console);
    QVERIFY2(seedPython(api, &error), qPrintable(error)); // python3-base and python3, READY
    const Json fn = api.createFunction(QStringLiteral("echo"), QStringLiteral("python3"), QStringLiteral("python3/hello.py"),
                                       QStringLiteral("hello.handle"));
    QCOMPARE(fn.value("status", ""), std::string("READY"));
}

void TestGuiLive::cleanupTestCase()
{
    m_console.reset();
}

void TestGuiLive::runStreamKeepsSelection()
{
    auto *w = window();
    w->showPage(views::MainWindow::RunsPage);
    auto *panel = w->runsPanel();
    auto *runs = ws()->runs();
    DispatchClient api = localClient(*m_console);

    // More runs than the table shows at once, to select one of. (With fewer, everything fits, the table cannot
    // scroll past its last page, and the rows that arrive on top necessarily push the selection down: how far
    // depends on the window's height, which made this test fail when a page raised the window's minimum size.)
    QString selected;
    for (int i = 0; i < 120; ++i) {
        auto r = api.post(QStringLiteral("/v1/runs?functionName=echo"), {{"blocking", true}, {"input", {{"name", i}}}});
        QCOMPARE(r.status, 200);
        if (i == 10)
            selected = QString::fromStdString(r.json().value("name", ""));
    }
    QTRY_VERIFY_WITH_TIMEOUT(runs->rowOfRun(selected) >= 0, kGuiWaitMs);
    QVERIFY(panel->selectRun(selected));
    QVERIFY2(panel->table()->verticalScrollBar()->maximum() > 0, "the table must be scrollable for this test");
    QCOMPARE(panel->selectedRunId(), selected);
    const QRect before = panel->table()->visualRect(panel->table()->selectionModel()->selectedRows().first());

    // 2,000 more arrive while it is selected (non-blocking: the server may say 429 when its queue is full;
    // those are retried).
    const int rowsBefore = runs->rowCount();
    int sent = 0;
    int attempts = 0;
    while (sent < 2000 && attempts < 20000) {
        ++attempts;
        auto r = api.post(QStringLiteral("/v1/runs?functionName=echo"), {{"blocking", false}, {"input", {{"name", sent}}}});
        if (r.status == 202)
            ++sent;
        else if (r.status == 429)
            QTest::qWait(20);
        else
            QFAIL(r.body.constData());
    }
    QCOMPARE(sent, 2000);
    QTRY_VERIFY_WITH_TIMEOUT(runs->rowCount() >= rowsBefore + 2000, kGuiWaitMs);

    // The selection is the same run, still on screen where it was, and the newcomers are announced, not
    // pushed under the reader.
    QCOMPARE(panel->selectedRunId(), selected);
    const QModelIndex idx = panel->table()->selectionModel()->selectedRows().first();
    const QRect after = panel->table()->visualRect(idx);
    QVERIFY(panel->table()->viewport()->rect().intersects(after));
    QCOMPARE(after.top(), before.top());
    QVERIFY(panel->newRunsButton()->isVisible());
    QVERIFY(panel->newRunsCount() >= 2000);
    snap(w, QStringLiteral("panel-runs-stream"));
    QTest::mouseClick(panel->newRunsButton(), Qt::LeftButton);
    QCOMPARE(panel->table()->verticalScrollBar()->value(), 0);
    QVERIFY(!panel->newRunsButton()->isVisible());
}

void TestGuiLive::crashRestartRecovers()
{
    auto *w = window();
    auto *server = m_console->localServer();
    QSignalSpy states(server, &models::LocalServer::stateChanged);
    const qint64 pid = server->pid();
    QVERIFY(pid > 0);
    ::kill(static_cast<pid_t>(pid), SIGKILL);

    // It is seen as crashed, the status bar and the Server panel say so, and it comes back by itself.
    QTRY_VERIFY_WITH_TIMEOUT(
        std::any_of(states.begin(), states.end(),
                    [](const QList<QVariant> &args) {
                        return args.at(0).value<models::LocalServer::State>() == models::LocalServer::State::Crashed;
                    }),
        kGuiWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(server->isRunning() && server->pid() != pid, kGuiWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(ws()->client()->connectionState() == models::RestClient::ConnectionState::Connected,
                             kGuiWaitMs);
    QTRY_VERIFY(w->localServerText().contains(QStringLiteral("running")));

    // The panels show the server's data again and new runs arrive live.
    w->showPage(views::MainWindow::FunctionsPage);
    QTRY_VERIFY_WITH_TIMEOUT(ws()->functions()->rowOf(QStringLiteral("echo")) >= 0, kGuiWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(ws()->functions()
                                  ->index(ws()->functions()->rowOf(QStringLiteral("echo")), 0)
                                  .data(models::StatusRole)
                                  .toString(),
                              QStringLiteral("READY"), kGuiWaitMs);
    DispatchClient api = localClient(*m_console);
    auto r = api.post(QStringLiteral("/v1/runs?functionName=echo"), {{"blocking", true}, {"input", {{"name", "again"}}}});
    QCOMPARE(r.status, 200);
    const QString id = QString::fromStdString(r.json().value("name", ""));
    QTRY_VERIFY_WITH_TIMEOUT(ws()->runs()->rowOfRun(id) >= 0, kGuiWaitMs);
    w->showPage(views::MainWindow::ServerPage);
    QTRY_VERIFY(w->serverPanel()->stateText().contains(QStringLiteral("Running")));
    snap(w, QStringLiteral("panel-server-after-restart"));
}

void TestGuiLive::deadRemoteContext()
{
    auto *w = window();
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    models::Context dead;
    dead.name = QStringLiteral("staging-dead");
    dead.host = QStringLiteral("127.0.0.1");
    dead.port = port;
    dead.scheme = QStringLiteral("http");
    dead.color = QStringLiteral("#8e24aa");
    QString error;
    QVERIFY2(m_console->contexts()->upsert(dead, &error), qPrintable(error));
    QVERIFY2(w->switchContext(dead.name, &error), qPrintable(error));

    QTRY_VERIFY_WITH_TIMEOUT(ws()->client()->connectionState() == models::RestClient::ConnectionState::Unreachable,
                             kGuiWaitMs);
    QVERIFY(w->contextStrip()->text().contains(dead.name));
    QTRY_VERIFY(w->connectionText().contains(QStringLiteral("Unreachable")));
    QVERIFY(w->connectionText().contains(QString::number(port)));
    w->showPage(views::MainWindow::FunctionsPage);
    auto *empty = w->functionsPanel()->view()->findChild<QLabel *>(QStringLiteral("emptyState"));
    QTRY_VERIFY_WITH_TIMEOUT(empty->isVisible() && empty->text().contains(QStringLiteral("Cannot load")), kGuiWaitMs);
    QCOMPARE(ws()->functions()->rowCount(), 0); // nothing of the previous context lingers
    snap(w, QStringLiteral("panel-functions-dead-context"));
    w->showPage(views::MainWindow::ServerPage);
    snap(w, QStringLiteral("panel-server-dead-context"));

    // Back to Local: everything is there again.
    QVERIFY(w->switchContext(QStringLiteral("Local"), &error));
    QTRY_VERIFY_WITH_TIMEOUT(ws()->functions()->rowOf(QStringLiteral("echo")) >= 0, kGuiWaitMs);
}

int main(int argc, char *argv[])
{
    // Building images and functions on a loaded machine can outlast Qt Test's 5-minute default per function;
    // every wait inside is bounded anyway.
    if (qEnvironmentVariableIsEmpty("QTEST_FUNCTION_TIMEOUT"))
        qputenv("QTEST_FUNCTION_TIMEOUT", "1200000");
    QApplication app(argc, argv);
    QTEST_SET_MAIN_SOURCE_PATH
    TestGuiLive test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_guilive.moc"
