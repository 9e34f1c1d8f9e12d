// StatsSeriesModel and ErrorGroupsModel against the real dispatch-server and real python runs with mixed
// outcomes: the buckets add up to what the runs API lists, refreshes and live updates change rows without a
// reset, the window slides by removing and inserting rows, error groups diff in place. Every model runs under
// QAbstractItemModelTester (Fatal).
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include <memory>

#include "models/errorgroupsmodel.h"
#include "models/restclient.h"
#include "models/statsseriesmodel.h"
#include "models/watchclient.h"
#include "tst_modelssupport.h"

using namespace dispatch::test;
using namespace dispatch::models;

namespace {

// What flaky.py does with {"n": n}.
struct Expected
{
    qint64 count = 0, ready = 0, inputErrors = 0, functionErrors = 0, coldStarts = 0;
    void add(int n)
    {
        ++count;
        if (n % 23 == 0 || (n % 11 != 0 && n % 7 == 0))
            ++functionErrors;
        else if (n % 11 == 0)
            ++inputErrors;
        else
            ++ready;
    }
};

StatsBucket sumOf(const StatsSeriesModel &m)
{
    StatsBucket s;
    for (int r = 0; r < m.rowCount(); ++r) {
        const StatsBucket &b = m.bucketAt(r);
        s.count += b.count;
        s.ready += b.ready;
        s.error += b.error;
        s.inputErrors += b.inputErrors;
        s.functionErrors += b.functionErrors;
        s.systemErrors += b.systemErrors;
        s.coldStarts += b.coldStarts;
    }
    return s;
}

} // namespace

class TestModelsStats : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestServer> server;
    std::unique_ptr<DispatchClient> api;
    std::unique_ptr<RestClient> client;
    std::unique_ptr<WatchClient> watch;
    Expected flaky;
    int helloRuns = 0;
    int nextN = 1;

    void runFlaky(int runs)
    {
        for (int i = 0; i < runs; ++i, ++nextN) {
            auto r = api->post(QStringLiteral("/v1/runs?functionName=flaky"),
                               Json{{"blocking", true}, {"input", {{"n", nextN}}}});
            QVERIFY2(r.status == 200, r.body.constData());
            flaky.add(nextN);
        }
    }

    // The scan side: the finished runs the runs API lists for a function.
    Expected scan(const QString &function)
    {
        Expected e;
        auto r = api->get(QStringLiteral("/v1/runs?functionName=") + function);
        for (const auto &run : r.json()) {
            ++e.count;
            if (run.value("coldStart", false))
                ++e.coldStarts;
            const std::string status = run.value("status", "");
            const std::string type = run.contains("error") && run["error"].is_object()
                                         ? run["error"].value("type", "")
                                         : std::string();
            if (status == "READY")
                ++e.ready;
            else if (type == "InputError")
                ++e.inputErrors;
            else
                ++e.functionErrors;
        }
        return e;
    }

private slots:
    void initTestCase()
    {
        server = std::make_unique<TestServer>();
        QString error;
        QVERIFY2(server->start(&error), qPrintable(error));
        api = std::make_unique<DispatchClient>(server->apiBase());
        QVERIFY2(seedPython(*api, &error), qPrintable(error));
        QCOMPARE(api->createFunction(QStringLiteral("flaky"), QStringLiteral("python3"),
                                     QStringLiteral("python3/flaky.py"), QStringLiteral("flaky.handle"),
                                     Json{{"timeout", 400}})
                     .value("status", ""),
                 std::string("READY"));
        QCOMPARE(createHello(*api).value("status", ""), std::string("READY"));
        client = std::make_unique<RestClient>(endpointOf(*server));
        QTRY_COMPARE_WITH_TIMEOUT(client->serverKind(), RestClient::ServerKind::Ours, kWaitMs);
        watch = std::make_unique<WatchClient>(client.get());
        watch->setKinds({QStringLiteral("Run")});
        watch->start();
        QTRY_VERIFY_WITH_TIMEOUT(watch->isStreaming(), kWaitMs);
    }

    void cleanupTestCase()
    {
        watch.reset();
        client.reset();
        if (server)
            QVERIFY(server->stop());
    }

    // The buckets of one function add up to a scan of its runs; a refresh after more runs changes rows in place.
    void bucketsEqualAScanOfTheRuns()
    {
        StatsSeriesModel model(client.get());
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setRange(StatsSeriesModel::Range::FifteenMinutes);
        model.setFunction(QStringLiteral("flaky"));
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        QCOMPARE(model.rowCount(), 15);
        QCOMPARE(sumOf(model).count, 0);
        for (int r = 1; r < model.rowCount(); ++r)
            QCOMPARE(model.bucketAt(r).time - model.bucketAt(r - 1).time, 60);

        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        runFlaky(60);
        const int before = model.refreshCount();
        model.refresh();
        QTRY_VERIFY_WITH_TIMEOUT(model.refreshCount() > before, kWaitMs);

        const Expected scanned = scan(QStringLiteral("flaky"));
        QCOMPARE(scanned.count, flaky.count);
        const StatsBucket sum = sumOf(model);
        QCOMPARE(sum.count, scanned.count);
        QCOMPARE(sum.ready, scanned.ready);
        QCOMPARE(sum.error, scanned.inputErrors + scanned.functionErrors);
        QCOMPARE(sum.inputErrors, scanned.inputErrors);
        QCOMPARE(sum.functionErrors, scanned.functionErrors);
        QCOMPARE(sum.systemErrors, 0);
        QCOMPARE(sum.coldStarts, scanned.coldStarts);
        QCOMPARE(model.total().count, sum.count);
        QCOMPARE(resets.count(), 0);
        QVERIFY(changed.count() >= 1);

        // Percentiles where runs had durations, in order, and shown formatted.
        for (int r = 0; r < model.rowCount(); ++r) {
            const StatsBucket &b = model.bucketAt(r);
            if (b.ready == 0)
                continue;
            QVERIFY(!std::isnan(b.p50));
            QVERIFY(b.p50 <= b.p95 && b.p95 <= b.p99);
            QVERIFY(model.data(model.index(r, StatsSeriesModel::P50Column)).toString().endsWith(QLatin1String("ms"))
                    || model.data(model.index(r, StatsSeriesModel::P50Column)).toString().endsWith(QLatin1String("s")));
        }

        // The org's view counts every function.
        for (int i = 0; i < 5; ++i, ++helloRuns)
            QCOMPARE(api->post(QStringLiteral("/v1/runs?functionName=hello"),
                               Json{{"blocking", true}, {"input", {{"name", "x"}}}})
                         .status,
                     200);
        model.setFunction({});
        QCOMPARE(resets.count(), 1); // another function is another data set
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        QCOMPARE(sumOf(model).count, flaky.count + helloRuns);
    }

    // Runs finishing on the watch stream refresh an active model (throttled), without a reset; an inactive one
    // waits and catches up when it becomes active.
    void liveWhileRunsArrive()
    {
        StatsSeriesModel model(client.get());
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setWatchClient(watch.get());
        model.setRange(StatsSeriesModel::Range::OneHour);
        model.setFunction(QStringLiteral("flaky"));
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        QCOMPARE(model.rowCount(), 60);
        QCOMPARE(sumOf(model).count, flaky.count);

        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        runFlaky(20); // nobody calls refresh(): the watch stream does
        QTRY_COMPARE_WITH_TIMEOUT(sumOf(model).count, flaky.count, kWaitMs);
        QCOMPARE(resets.count(), 0);

        model.setActive(false);
        const int refreshes = model.refreshCount();
        runFlaky(5);
        // Inactive: the changes only mark it dirty (checked after the stream surely delivered them: the runs
        // API already lists them, and the throttle interval passed twice).
        QTest::qWait(int(2 * StatsSeriesModel::kLiveThrottle.count()) + 500);
        QCOMPARE(model.refreshCount(), refreshes);
        model.setActive(true);
        QTRY_COMPARE_WITH_TIMEOUT(sumOf(model).count, flaky.count, kWaitMs);
        QCOMPARE(resets.count(), 0);
    }

    // The clock moving on slides the window: rows leave at the top and arrive at the bottom, the buckets
    // that stay keep their values, no reset.
    void windowSlidesWithoutReset()
    {
        qint64 now = QDateTime::currentSecsSinceEpoch();
        StatsSeriesModel model(client.get());
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setClock([&now] { return now; });
        model.setRange(StatsSeriesModel::Range::FifteenMinutes);
        model.setFunction(QStringLiteral("flaky"));
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        const qint64 firstTime = model.bucketAt(0).time;
        const qint64 total = sumOf(model).count;
        QCOMPARE(total, flaky.count);
        const StatsBucket last = model.bucketAt(14);

        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        now += 120;
        const int before = model.refreshCount();
        model.refresh();
        QTRY_VERIFY_WITH_TIMEOUT(model.refreshCount() > before, kWaitMs);
        QCOMPARE(resets.count(), 0);
        QCOMPARE(removed.count(), 1);
        QCOMPARE(removed.first().at(1).toInt(), 0);
        QCOMPARE(removed.first().at(2).toInt(), 1);
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(inserted.first().at(1).toInt(), 13);
        QCOMPARE(inserted.first().at(2).toInt(), 14);
        QCOMPARE(model.rowCount(), 15);
        QCOMPARE(model.bucketAt(0).time, firstTime + 120);
        QCOMPARE(model.bucketAt(12).time, last.time);
        QCOMPARE(model.bucketAt(12).count, last.count);
        QCOMPARE(model.rowOfTime(last.time + 59), 12);
        QCOMPARE(model.rowOfTime(firstTime), -1);

        // A jump past the whole window replaces every row (still no reset).
        now += 3600;
        model.refresh();
        QTRY_VERIFY_WITH_TIMEOUT(model.refreshCount() > before + 1, kWaitMs);
        QCOMPARE(resets.count(), 0);
        QCOMPARE(model.rowCount(), 15);
        QCOMPARE(sumOf(model).count, 0);
    }

    // Failed runs grouped by type and message, with counts and first/last seen; a refresh updates in place.
    void errorGroupsDiffInPlace()
    {
        ErrorGroupsModel model(client.get());
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        model.setWindow(QStringLiteral("flaky"), now - 3600, now + 60);
        model.refresh();
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        QCOMPARE(model.rowCount(), 3);
        const Expected scanned = scan(QStringLiteral("flaky"));
        qint64 input = 0, function = 0;
        int inputRow = -1;
        for (int r = 0; r < model.rowCount(); ++r) {
            const ErrorGroup &g = model.groupAt(r);
            QCOMPARE(g.function, QStringLiteral("flaky"));
            QVERIFY(g.first <= g.last);
            QVERIFY(g.first >= now - 3600);
            if (g.type == QLatin1String("InputError")) {
                QCOMPARE(g.message, QStringLiteral("n must not be a multiple of 11"));
                input += g.count;
                inputRow = r;
            } else {
                QCOMPARE(g.type, QStringLiteral("FunctionError"));
                function += g.count;
            }
        }
        QCOMPARE(input, scanned.inputErrors);
        QCOMPARE(function, scanned.functionErrors);

        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        const qint64 inputBefore = model.groupAt(inputRow).count;
        // n = 11·k for the next multiple of 11 not a multiple of 7 or 23: one more InputError.
        int n = (nextN / 11 + 1) * 11;
        while (n % 7 == 0 || n % 23 == 0)
            n += 11;
        QCOMPARE(api->post(QStringLiteral("/v1/runs?functionName=flaky"), Json{{"blocking", true}, {"input", {{"n", n}}}})
                     .status,
                 200);
        flaky.add(n);
        model.refresh();
        QTRY_COMPARE_WITH_TIMEOUT(model.groupAt(inputRow).count, inputBefore + 1, kWaitMs);
        QCOMPARE(resets.count(), 0);
        QCOMPARE(inserted.count(), 0);
        QVERIFY(changed.count() >= 1);
        QCOMPARE(model.data(model.index(inputRow, ErrorGroupsModel::CountColumn), RawRole).toLongLong(),
                 inputBefore + 1);

        // Another function: another data set (a reset), here with no failures at all.
        model.setWindow(QStringLiteral("hello"), now - 3600, now + 60);
        QCOMPARE(resets.count(), 1);
        model.refresh();
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        QCOMPARE(model.rowCount(), 0);
    }
};

QTEST_GUILESS_MAIN(TestModelsStats)
#include "tst_modelsstats.moc"
