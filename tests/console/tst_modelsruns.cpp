// RunsModel against the real dispatch-server: lazy paging through 1,000 runs, live inserts from the watch stream
// that keep a selected row's persistent index on its run, a burst of 2,000 runs, filters, a plain Dispatch
// server (one full load, polling), and 100,000 rows. Every model runs under QAbstractItemModelTester (Fatal).
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QAbstractItemModelTester>
#include <QSet>
#include <QSignalSpy>
#include <QTest>
#include <QUrlQuery>

#include <memory>

#include "models/restclient.h"
#include "models/runsmodel.h"
#include "models/watchclient.h"
#include "tst_modelssupport.h"

using namespace dispatch::test;
using namespace dispatch::models;

namespace {

bool newestFirst(const RunsModel &m)
{
    for (int r = 1; r < m.rowCount(); ++r) {
        const auto a = m.data(m.index(r - 1, RunsModel::StartedColumn), RawRole).toDateTime();
        const auto b = m.data(m.index(r, RunsModel::StartedColumn), RawRole).toDateTime();
        if (a < b)
            return false;
    }
    return true;
}

bool consistent(const RunsModel &m)
{
    QSet<QString> ids;
    for (int r = 0; r < m.rowCount(); ++r) {
        const QString id = m.data(m.index(r, 0), RunIdRole).toString();
        if (id.isEmpty() || ids.contains(id) || m.rowOfRun(id) != r || m.runIdAt(r) != id)
            return false;
        ids.insert(id);
    }
    return true;
}

Json runDoc(const QString &id, const std::string &function, int64_t executedNs, const std::string &status)
{
    return Json{{"name", id.toStdString()},
                {"functionName", function},
                {"status", status},
                {"executedTime", executedNs},
                {"finishedTime", executedNs + 1'000'000},
                {"tags", Json::array()}};
}

} // namespace

class TestModelsRuns : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestServer> server;
    std::unique_ptr<DispatchClient> api;
    std::unique_ptr<RestClient> client;
    std::unique_ptr<WatchClient> watch;

    void makeFunction(const QString &name)
    {
        QCOMPARE(createHello(*api, name).value("status", ""), std::string("READY"));
    }
    QStringList execMany(const QString &function, int n)
    {
        QStringList ids;
        for (int i = 0; i < n; ++i) {
            const QString id = execAsync(*api, function, i);
            if (!id.isEmpty())
                ids << id;
        }
        return ids;
    }

private slots:
    void initTestCase()
    {
        server = std::make_unique<TestServer>(QStringList{QStringLiteral("--max-queue"), QStringLiteral("100000")});
        QString error;
        QVERIFY2(server->start(&error), qPrintable(error));
        api = std::make_unique<DispatchClient>(server->apiBase());
        QVERIFY2(seedPython(*api, &error), qPrintable(error));
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

    // 1,000 real runs, fetched 200 at a time as the view asks for more.
    void pagingThrough1000Runs()
    {
        makeFunction(QStringLiteral("pager"));
        const QStringList created = execMany(QStringLiteral("pager"), 1000);
        QCOMPARE(created.size(), 1000);

        // Page by page, as a view scrolls (the tester below asks for more on every insert, like an eager view).
        RunsModel model(client.get());
        model.setPollingEnabled(false);
        QSignalSpy pages(&model, &RunsModel::pageLoaded);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        model.setFilter({QStringLiteral("pager"), {}, {}, {}});
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        QCOMPARE(model.rowCount(), RunsModel::kDefaultPageSize);
        QVERIFY(model.canFetchMore({}));
        int fetches = 0;
        while (model.canFetchMore({})) {
            const int before = model.rowCount();
            const auto pagesBefore = pages.count();
            model.fetchMore({});
            QTRY_VERIFY_WITH_TIMEOUT(pages.count() > pagesBefore, kWaitMs);
            QVERIFY(model.rowCount() >= before);
            QVERIFY(++fetches < 20);
        }
        QVERIFY(model.isComplete());
        QCOMPARE(model.rowCount(), 1000);
        QCOMPARE(fetches, 5); // 4 more full pages, then an empty one that says "no more"
        QCOMPARE(resets.count(), 1); // the filter change only
        QVERIFY(consistent(model));
        QVERIFY(newestFirst(model));
        QSet<QString> ids;
        for (int r = 0; r < model.rowCount(); ++r)
            ids.insert(model.runIdAt(r));
        QCOMPARE(ids, QSet<QString>(created.begin(), created.end()));
        // The pages went to the server as ?limit=200&before=<last id>.
        QCOMPARE(model.data(model.index(0, RunsModel::FunctionColumn)).toString(), QStringLiteral("pager"));
        QCOMPARE(model.data(model.index(0, RunsModel::TriggerColumn), RawRole).toString(), QStringLiteral("manual"));
        QCOMPARE(model.data(model.index(0, RunsModel::TriggerColumn)).toString(), QStringLiteral("manual"));

        // The same under QAbstractItemModelTester, which calls fetchMore() after every change.
        RunsModel tested(client.get());
        QAbstractItemModelTester tester(&tested, QAbstractItemModelTester::FailureReportingMode::Fatal);
        tested.setPollingEnabled(false);
        tested.setFilter({QStringLiteral("pager"), {}, {}, {}});
        QTRY_VERIFY_WITH_TIMEOUT(tested.isComplete() && !tested.isLoading(), kWaitMs);
        QCOMPARE(tested.rowCount(), 1000);
        QVERIFY(consistent(tested));
        for (int r = 0; r < 1000; ++r)
            QCOMPARE(tested.runIdAt(r), model.runIdAt(r));
    }

    // Live inserts arrive at the top in batches; the persistent index of a selected run follows it down.
    void liveInsertsKeepPersistentIndex()
    {
        makeFunction(QStringLiteral("live"));
        RunsModel model(client.get());
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setWatchClient(watch.get());
        model.setFilter({QStringLiteral("live"), {}, {}, {}});
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        const QString first = execAsync(*api, QStringLiteral("live"), 0);
        QTRY_VERIFY_WITH_TIMEOUT(model.rowOfRun(first) >= 0, kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(model.data(model.index(model.rowOfRun(first), 0), StatusRole).toString(),
                                  QStringLiteral("READY"), kWaitMs);
        const QPersistentModelIndex selected(model.index(model.rowOfRun(first), RunsModel::StatusColumn));

        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        const QStringList more = execMany(QStringLiteral("live"), 500);
        QCOMPARE(more.size(), 500);
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(more.begin(), more.end(), [&](const QString &id) { return model.rowOfRun(id) >= 0; }),
                                 kWaitMs);
        QCOMPARE(model.rowCount(), 501);
        QVERIFY(selected.isValid());
        QCOMPARE(selected.data(RunIdRole).toString(), first);
        QCOMPARE(selected.row(), model.rowOfRun(first));
        QCOMPARE(selected.row(), 500); // the oldest: everything new went above it
        for (const auto &args : inserted)
            QCOMPARE(args.at(1).toInt(), 0); // always at the top
        QVERIFY(inserted.count() <= 500);
        QCOMPARE(resets.count(), 0);
        // Their completions arrive as updates of the rows in place.
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(more.begin(), more.end(), [&](const QString &id) {
                                     return model.data(model.index(model.rowOfRun(id), 0), StatusRole).toString() ==
                                            QLatin1String("READY");
                                 }),
                                 kWaitMs);
        QVERIFY(consistent(model));
        QCOMPARE(model.data(model.index(0, RunsModel::DurationColumn), RawRole).toLongLong() >= 0, true);
    }

    // 2,000 runs as fast as the server takes them: the model stays consistent.
    void burstOf2000()
    {
        makeFunction(QStringLiteral("burst"));
        RunsModel model(client.get());
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setWatchClient(watch.get());
        model.setFilter({QStringLiteral("burst"), {}, {}, {}});
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        const QStringList ids = execMany(QStringLiteral("burst"), 2000);
        QCOMPARE(ids.size(), 2000);
        QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 2000, kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(ids.begin(), ids.end(), [&](const QString &id) {
                                     const int r = model.rowOfRun(id);
                                     return r >= 0 && model.data(model.index(r, 0), StatusRole).toString() ==
                                                          QLatin1String("READY");
                                 }),
                                 kWaitMs);
        QCOMPARE(model.pendingCount(), 0);
        QCOMPARE(resets.count(), 0);
        QVERIFY(consistent(model));
        // A reload from scratch shows the same runs (the live view missed nothing and invented nothing).
        RunsModel fresh(client.get());
        fresh.setPollingEnabled(false);
        fresh.setPageSize(5000);
        fresh.setFilter({QStringLiteral("burst"), {}, {}, {}});
        QTRY_VERIFY_WITH_TIMEOUT(fresh.hasLoaded(), kWaitMs);
        QCOMPARE(fresh.rowCount(), 2000);
        for (int r = 0; r < fresh.rowCount(); ++r)
            QVERIFY(model.rowOfRun(fresh.runIdAt(r)) >= 0);
    }

    // Filters go to the server; a filter change is a new data set (one reset).
    void filters()
    {
        RunsModel model(client.get());
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setPollingEnabled(false);
        model.setPageSize(5000);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        model.setFilter({QStringLiteral("live"), QStringLiteral("READY"), {}, {}});
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        QCOMPARE(resets.count(), 1);
        QCOMPARE(model.rowCount(), 501);
        for (int r = 0; r < model.rowCount(); ++r) {
            QCOMPARE(model.data(model.index(r, RunsModel::FunctionColumn)).toString(), QStringLiteral("live"));
            QCOMPARE(model.data(model.index(r, RunsModel::StatusColumn)).toString(), QStringLiteral("READY"));
        }
        model.setFilter({QStringLiteral("live"), QStringLiteral("ERROR"), {}, {}});
        QCOMPARE(resets.count(), 2);
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        QCOMPARE(model.rowCount(), 0);
        // A time range in the future has nothing.
        model.setFilter({{}, {}, QDateTime::currentDateTimeUtc().addDays(1), {}});
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        QCOMPARE(model.rowCount(), 0);
        QVERIFY(model.isComplete());
    }

    // A plain Dispatch server: no paging (every run in one answer), no watch stream (polling with ?since=).
    void plainDispatchServer()
    {
        const int64_t base = 1'700'000'000'000'000'000LL;
        std::vector<Json> runs;
        for (int i = 0; i < 450; ++i) // more than a page: the answer ignores limit
            runs.push_back(runDoc(QStringLiteral("00000000-0000-0000-0000-%1").arg(i, 12, 10, QLatin1Char('0')),
                                  "solo-fn", base + int64_t(i) * 1'000'000'000LL, "READY"));
        FakeHttpServer fake([&](const QByteArray &, const QByteArray &target) -> std::pair<int, QByteArray> {
            if (target.startsWith("/healthz"))
                return {200, R"({"version":{"version":"v0.0.5-solo","commit":"x","buildDate":"","goVersion":"go1.10.3","compiler":"gc","platform":"linux/amd64"}})"};
            if (target.startsWith("/v1/watch") || target.startsWith("/v1/version"))
                return {404, R"({"code":404,"message":"resource does not exist"})"};
            if (target.startsWith("/v1/runs")) {
                Json list = Json::array();
                for (auto it = runs.rbegin(); it != runs.rend(); ++it) // Solo: not in any particular order
                    list.push_back(*it);
                std::reverse(list.begin(), list.end());
                return {200, QByteArray::fromStdString(list.dump())};
            }
            return {404, R"({"code":404,"message":"resource does not exist"})"};
        });
        Endpoint e;
        e.baseUrl = QUrl(fake.base());
        RestClient solo(e);
        WatchClient soloWatch(&solo);
        soloWatch.start();
        QTRY_COMPARE_WITH_TIMEOUT(soloWatch.state(), WatchClient::State::Unsupported, kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(solo.serverKind(), RestClient::ServerKind::PlainDispatch, kWaitMs);

        RunsModel model(&solo);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setWatchClient(&soloWatch);
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        QCOMPARE(model.rowCount(), 450);
        QVERIFY(model.isComplete());
        QVERIFY(!model.canFetchMore({}));
        QVERIFY(newestFirst(model));
        QCOMPARE(model.runIdAt(0), QStringLiteral("00000000-0000-0000-0000-000000000449"));

        // A new run shows up through polling with ?since= (the server's own time, a little before the newest).
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        runs.push_back(runDoc(QStringLiteral("00000000-0000-0000-0000-999999999999"), "solo-fn",
                              base + 500 * 1'000'000'000LL, "INITIALIZED"));
        QTRY_VERIFY_WITH_TIMEOUT(model.rowOfRun(QStringLiteral("00000000-0000-0000-0000-999999999999")) == 0, kWaitMs);
        runs.back()["status"] = "READY";
        QTRY_COMPARE_WITH_TIMEOUT(model.data(model.index(0, 0), StatusRole).toString(), QStringLiteral("READY"), kWaitMs);
        QCOMPARE(resets.count(), 0);
        QCOMPARE(model.rowCount(), 451);
        bool sawSince = false;
        for (const auto &r : fake.requests)
            sawSince = sawSince || (r.startsWith("GET /v1/runs?") && r.contains("since="));
        QVERIFY(sawSince);
    }

    // 100,000 rows: compact rows, formatted lazily; live batches of 10,000 at the top.
    void hundredThousandRuns()
    {
        RunsModel model(client.get());
        model.setWatchClient(watch.get());
        model.setFilter({QStringLiteral("synthetic"), {}, {}, {}});
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        QVERIFY(model.isComplete());
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        const int64_t base = QDateTime::currentMSecsSinceEpoch() * 1'000'000LL;
        for (int batch = 0; batch < 10; ++batch) {
            for (int i = 0; i < 10000; ++i) {
                const int n = batch * 10000 + i;
                model.applyRun(runDoc(QStringLiteral("synthetic-%1").arg(n), "synthetic", base + n, "READY"));
            }
            QTRY_COMPARE_WITH_TIMEOUT(model.pendingCount(), 0, kWaitMs);
        }
        QCOMPARE(model.rowCount(), 100000);
        QCOMPARE(inserted.count(), 10); // one insert per flushed batch
        QCOMPARE(model.runIdAt(0), QStringLiteral("synthetic-99999"));
        QCOMPARE(model.rowOfRun(QStringLiteral("synthetic-0")), 99999);
        QCOMPARE(model.data(model.index(50000, RunsModel::DurationColumn)).toString(), QStringLiteral("1.0 ms"));
        // An update of a run deep down is a dataChanged of that row only.
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.applyRun(runDoc(QStringLiteral("synthetic-10"), "synthetic", base + 10, "ERROR"));
        QTRY_COMPARE_WITH_TIMEOUT(changed.count(), 1, kWaitMs);
        QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 99989);
        QCOMPARE(model.data(model.index(99989, RunsModel::StatusColumn)).toString(), QStringLiteral("ERROR"));
    }
};

QTEST_GUILESS_MAIN(TestModelsRuns)
#include "tst_modelsruns.moc"
