// dispatch-console-bench: the console's figures (issue 4), printed, never asserted.
//   start   console start → a usable window with the local server READY and the client connected (fresh data
//           dir, then the same data dir again: the second start is what a user sees every morning)
//   fill    100,000 runs through the real API (blocking execs of a python hello, 16 in flight)
//   paint   a new console on that data dir: Runs page → first page painted; then a scroll through every run
//           (fetchMore pages) with the longest GUI-thread stall
//   live    500 new runs/s for 10 s arriving over the watch stream while the Runs page is shown: the longest
//           GUI-thread stall (target ≤ 50 ms) and the console's RSS (target ≤ 250 MB)
// Usage: dispatch-console-bench [--runs N] [--rate R] [--seconds S] [--keep DIR]
// Runs on the offscreen platform unless QT_QPA_PLATFORM says otherwise.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QScrollBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>

#include "consoleapplication.h"
#include "localserver.h"
#include "mainwindow.h"
#include "restclient.h"
#include "runsmodel.h"
#include "runspanel.h"
#include "support/testserver.h"
#include "workspace.h"

using namespace dispatch;
using namespace std::chrono_literals;

namespace {

constexpr int kWaitMs = 300000;

qint64 rssKiB(qint64 pid = 0)
{
    QFile f(pid ? QStringLiteral("/proc/%1/status").arg(pid) : QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    return -1;
}

// Measures the longest gap between ticks of a 1 ms timer on the GUI thread: how long the event loop was
// busy with one thing (a layout, a model flush, a paint) and could not answer the user.
class StallMeter : public QObject
{
public:
    StallMeter()
    {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(1);
        connect(&m_timer, &QTimer::timeout, this, [this] {
            const qint64 now = m_clock.nsecsElapsed();
            if (m_last >= 0)
                m_longest = std::max(m_longest, now - m_last);
            m_last = now;
        });
    }
    void start()
    {
        m_longest = 0;
        m_last = -1;
        m_clock.start();
        m_timer.start();
    }
    double stop()
    {
        m_timer.stop();
        // The stretch since the last tick (or since start, when the loop never ran) counts too.
        const qint64 now = m_clock.nsecsElapsed();
        m_longest = std::max(m_longest, now - std::max<qint64>(m_last, 0));
        return double(m_longest) / 1e6;
    }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_last = -1;
    qint64 m_longest = 0;
};

// Sends runs on its own thread (its own event loop and network manager), so the load never runs on the GUI
// thread being measured. Either as fast as `inFlight` allows (fill) or paced at `rate` per second (live).
class RunSender : public QObject
{
public:
    RunSender(QUrl base, bool blocking) : m_base(std::move(base)), m_blocking(blocking) {}

    // Thread-safe results.
    std::atomic<int> sent{0};
    std::atomic<int> ok{0};
    std::atomic<int> refused{0}; // 429: the server's queue was full
    std::atomic<int> failed{0};
    std::atomic<bool> done{false};

    void fill(int total, int inFlight)
    {
        m_total = total;
        m_nam = new QNetworkAccessManager(this);
        for (int i = 0; i < inFlight; ++i)
            sendNext();
    }

    void pace(int rate, int seconds)
    {
        m_total = rate * seconds;
        m_nam = new QNetworkAccessManager(this);
        auto *timer = new QTimer(this);
        timer->setTimerType(Qt::PreciseTimer);
        auto *clock = new QElapsedTimer;
        clock->start();
        connect(timer, &QTimer::timeout, this, [this, timer, clock, rate] {
            const qint64 due = std::min<qint64>(m_total, clock->elapsed() * rate / 1000);
            while (m_issued < due)
                sendNext();
            if (m_issued >= m_total) {
                timer->stop();
                delete clock;
            }
        });
        timer->start(5);
    }

private:
    void sendNext()
    {
        if (m_issued >= m_total)
            return;
        const int n = m_issued++;
        QUrl url = m_base;
        url.setPath(QStringLiteral("/v1/runs"));
        url.setQuery(QStringLiteral("functionName=echo"));
        QNetworkRequest req(url);
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        req.setRawHeader("X-Dispatch-Org", "dispatch");
        req.setRawHeader("Cookie", "cookie"); // like the Dispatch CLI: any cookie (no auth on the local server)
        const QByteArray body = QByteArrayLiteral("{\"blocking\":") + (m_blocking ? "true" : "false")
                                + QByteArrayLiteral(",\"input\":{\"name\":\"Jon\",\"place\":\"Winterfell\",\"n\":")
                                + QByteArray::number(n) + QByteArrayLiteral("}}");
        ++sent;
        QNetworkReply *reply = m_nam->post(req, body);
        connect(reply, &QNetworkReply::finished, this, [this, reply] {
            const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            if (status == 200 || status == 202)
                ++ok;
            else if (status == 429)
                ++refused;
            else if (++failed == 1)
                std::fprintf(stderr, "first failed request: HTTP %d %s %s\n", status, qPrintable(reply->errorString()),
                             reply->readAll().left(300).constData());
            reply->deleteLater();
            ++m_answered;
            if (m_answered >= m_total)
                done = true;
            else if (m_blocking) // fill: one answer, one more request
                sendNext();
        });
    }

    QUrl m_base;
    bool m_blocking;
    QNetworkAccessManager *m_nam = nullptr;
    int m_total = 0;
    int m_issued = 0;
    int m_answered = 0;
};

bool waitFor(const std::function<bool()> &cond, int ms = kWaitMs)
{
    QElapsedTimer t;
    t.start();
    while (!cond()) {
        if (t.elapsed() > ms)
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    }
    return true;
}

struct StartFigures
{
    double windowShownMs = -1;
    double readyMs = -1;
};

// Starts a console as a user would (bundled server, the given data dir) and times it.
std::unique_ptr<app::ConsoleApplication> startConsole(const QString &dataDir, StartFigures *f)
{
    QElapsedTimer t;
    t.start();
    auto console = std::make_unique<app::ConsoleApplication>();
    app::ConsoleApplication::Options options;
    options.serverExe = QStringLiteral(DISPATCH_SERVER_EXE);
    options.dataDir = dataDir;
    options.singleInstance = false;
    if (!console->start(options))
        return nullptr;
    console->window()->resize(1280, 800);
    console->window()->show();
    QCoreApplication::processEvents();
    f->windowShownMs = double(t.nsecsElapsed()) / 1e6;
    const bool up = waitFor([&] {
        return console->localServer()->isRunning()
               && console->workspace()->client()->connectionState() == models::RestClient::ConnectionState::Connected;
    });
    if (!up)
        return nullptr;
    QCoreApplication::processEvents();
    f->readyMs = double(t.nsecsElapsed()) / 1e6;
    return console;
}

void line(const char *what, double value, const char *unit, const char *target = "")
{
    std::printf("  %-58s %12.1f %-6s %s\n", what, value, unit, target);
    std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication qapp(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Dispatch Console benchmark (prints figures)"));
    parser.addHelpOption();
    QCommandLineOption runsOpt(QStringLiteral("runs"), QStringLiteral("runs stored for the paint test"),
                               QStringLiteral("N"), QStringLiteral("100000"));
    QCommandLineOption rateOpt(QStringLiteral("rate"), QStringLiteral("live runs per second"), QStringLiteral("R"),
                               QStringLiteral("500"));
    QCommandLineOption secondsOpt(QStringLiteral("seconds"), QStringLiteral("live test length"), QStringLiteral("S"),
                                  QStringLiteral("10"));
    QCommandLineOption keepOpt(QStringLiteral("keep"),
                               QStringLiteral("use (and keep) this data dir; an existing one skips the fill"),
                               QStringLiteral("DIR"));
    parser.addOptions({runsOpt, rateOpt, secondsOpt, keepOpt});
    parser.process(qapp);
    const int runs = parser.value(runsOpt).toInt();
    const int rate = parser.value(rateOpt).toInt();
    const int seconds = parser.value(secondsOpt).toInt();

    QTemporaryDir tmp;
    const QString dataDir = parser.isSet(keepOpt) ? parser.value(keepOpt) : tmp.path() + QStringLiteral("/console");
    const bool reuse = parser.isSet(keepOpt) && QFileInfo::exists(dataDir + QStringLiteral("/server"));
    app::ConsoleApplication::setUpApplication(tmp.path());

    std::printf("dispatch-console-bench (platform %s, %d cores)\n", qPrintable(QGuiApplication::platformName()),
                QThread::idealThreadCount());
    std::printf("\n[start] console start → window usable, local server READY, client connected\n");
    StartFigures first;
    auto console = startConsole(dataDir, &first);
    if (!console) {
        std::fprintf(stderr, "the console or its server did not start\n");
        return 1;
    }
    line(reuse ? "existing data dir: window shown" : "fresh data dir: window shown", first.windowShownMs, "ms");
    line(reuse ? "existing data dir: server READY + connected" : "fresh data dir: server READY + connected",
         first.readyMs, "ms", "(target ≤ 1500 ms)");

    const QUrl api(console->localServer()->apiBaseUrl());
    if (!reuse) {
        std::printf("\n[fill] %d runs of a python hello through the API\n", runs);
        test::DispatchClient client(api.toString(QUrl::RemoveUserInfo));
        QString error;
        if (!client.seedImages(&error)) {
            std::fprintf(stderr, "seed images failed: %s\n", qPrintable(error));
            return 1;
        }
        if (client.waitForStatus(QStringLiteral("/v1/image/python3"), {}, 5min).value("status", "") != "READY") {
            std::fprintf(stderr, "the python3 image did not become READY\n");
            return 1;
        }
        const auto fn = client.createFunction(QStringLiteral("echo"), QStringLiteral("python3"),
                                              QStringLiteral("python3/hello.py"), QStringLiteral("hello.handle"));
        if (fn.value("status", "") != "READY") {
            std::fprintf(stderr, "the function did not become READY: %s\n", fn.dump().c_str());
            return 1;
        }
        QThread thread;
        RunSender sender(api, true);
        sender.moveToThread(&thread);
        thread.start();
        QElapsedTimer t;
        t.start();
        QMetaObject::invokeMethod(&sender, [&] { sender.fill(runs, 16); });
        waitFor([&] { return sender.done.load(); }, 3600000);
        const double s = double(t.nsecsElapsed()) / 1e9;
        QMetaObject::invokeMethod(&sender, [&] { thread.quit(); });
        thread.wait();
        line("runs stored", sender.ok.load(), "runs");
        line("fill rate (console open on Functions)", sender.ok.load() / s, "runs/s");
        if (sender.failed.load())
            line("failed requests", sender.failed.load(), "");
    }

    // A fresh console on the data dir that now holds the runs.
    console.reset();
    std::printf("\n[start] again, on the data dir with the runs\n");
    StartFigures second;
    console = startConsole(dataDir, &second);
    if (!console) {
        std::fprintf(stderr, "the console did not start again\n");
        return 1;
    }
    line("window shown", second.windowShownMs, "ms");
    line("server READY + connected", second.readyMs, "ms", "(target ≤ 1500 ms)");

    std::printf("\n[paint] Runs page with the stored runs\n");
    auto *window = console->window();
    auto *panel = window->runsPanel();
    auto *model = console->workspace()->runs();
    StallMeter meter;
    QElapsedTimer t;
    meter.start();
    t.start();
    window->showPage(views::MainWindow::RunsPage);
    if (!waitFor([&] { return model->hasLoaded() && model->rowCount() > 0; })) {
        std::fprintf(stderr, "the runs did not load: %s\n", qPrintable(model->lastError()));
        return 1;
    }
    panel->table()->viewport()->repaint();
    line("Runs page → first page painted", double(t.nsecsElapsed()) / 1e6, "ms");
    line("longest GUI stall meanwhile", meter.stop(), "ms");

    // Scroll through everything: to the bottom, which asks the model for the next page, until complete.
    meter.start();
    t.restart();
    auto *bar = panel->table()->verticalScrollBar();
    int steps = 0;
    while (!model->isComplete() && t.elapsed() < 600000) {
        bar->setValue(bar->maximum());
        panel->table()->viewport()->repaint();
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        ++steps;
    }
    const double scrollMs = double(t.nsecsElapsed()) / 1e6;
    line("scroll to the last run (rows loaded)", model->rowCount(), "rows");
    line("scroll through every page", scrollMs, "ms");
    line("longest GUI stall while scrolling", meter.stop(), "ms", "(target ≤ 50 ms)");
    // Page up through a stretch in the middle, as a reader would.
    meter.start();
    t.restart();
    for (int i = 0; i < 200; ++i) {
        bar->setValue(bar->value() - bar->pageStep());
        panel->table()->viewport()->repaint();
        QCoreApplication::processEvents();
    }
    line("200 page-ups with repaint (ms each)", double(t.nsecsElapsed()) / 1e6 / 200, "ms");
    line("longest GUI stall while paging", meter.stop(), "ms");
    line("console RSS with every run loaded", double(rssKiB()) / 1024, "MiB", "(target ≤ 250 MiB)");

    const QUrl liveApi(console->localServer()->apiBaseUrl()); // the restarted server has new ports
    std::printf("\n[live] %d new runs/s for %d s while the Runs page shows the newest\n", rate, seconds);
    bar->setValue(0);
    QCoreApplication::processEvents();
    const int before = model->rowCount();
    QThread thread;
    RunSender sender(liveApi, false);
    sender.moveToThread(&thread);
    thread.start();
    meter.start();
    t.restart();
    qint64 peakRss = rssKiB();
    QMetaObject::invokeMethod(&sender, [&] { sender.pace(rate, seconds); });
    while (!sender.done.load() && t.elapsed() < qint64(seconds) * 1000 + 60000) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        peakRss = std::max(peakRss, rssKiB());
    }
    // Until the console shows every accepted run.
    const int accepted = sender.ok.load();
    waitFor([&] { return model->rowCount() >= before + accepted; }, 120000);
    const double liveStall = meter.stop();
    const double liveS = double(t.nsecsElapsed()) / 1e9;
    QMetaObject::invokeMethod(&sender, [&] { thread.quit(); });
    thread.wait();
    line("runs accepted (202)", accepted, "runs");
    if (sender.refused.load())
        line("refused with 429 (server queue full)", sender.refused.load(), "runs");
    line("rows added to the Runs table", model->rowCount() - before, "rows");
    line("seconds until the table showed them all", liveS, "s");
    line("longest GUI-thread stall", liveStall, "ms", "(target ≤ 50 ms)");
    line("console peak RSS", double(peakRss) / 1024, "MiB", "(target ≤ 250 MiB)");
    const qint64 serverPid = console->localServer()->pid();
    if (serverPid > 0)
        line("dispatch-server RSS", double(rssKiB(serverPid)) / 1024, "MiB");
    console.reset();
    return 0;
}
