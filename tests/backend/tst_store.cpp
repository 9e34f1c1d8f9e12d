// Store: schema and migrations, every read and write call, newest-first paging, group commit with per-op
// failure, back-pressure and concurrent use.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/schema.h"
#include "store/store.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <QTemporaryDir>
#include <QTest>
#include <set>
#include <sqlite3.h>
#include <thread>

using namespace dispatch::store;

namespace {

// A second, plain connection to inspect or tamper with the file behind the store's back.
class RawDb
{
public:
    explicit RawDb(const std::filesystem::path &file)
    {
        if (sqlite3_open_v2(file.string().c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            nullptr) != SQLITE_OK)
            qFatal("cannot open %s", file.string().c_str());
    }
    ~RawDb() { sqlite3_close(m_db); }
    RawDb(const RawDb &) = delete;
    RawDb &operator=(const RawDb &) = delete;

    bool exec(const char *sql) { return sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }
    QString text(const char *sql)
    {
        sqlite3_stmt *stmt = nullptr;
        QString result;
        if (sqlite3_prepare_v2(m_db, sql, -1, &stmt, nullptr) == SQLITE_OK &&
            sqlite3_step(stmt) == SQLITE_ROW)
            result = QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(stmt, 0)));
        sqlite3_finalize(stmt);
        return result;
    }

private:
    sqlite3 *m_db = nullptr;
};

RunRow makeRun(const std::string &id, const std::string &org, const std::string &function, int64_t executedNs,
               const std::string &status = "succeeded", int64_t modifiedNs = 0)
{
    RunRow row;
    row.id = id;
    row.org = org;
    row.function = function;
    row.status = status;
    row.executedNs = executedNs;
    row.finishedNs = executedNs + 5;
    row.modifiedNs = modifiedNs != 0 ? modifiedNs : executedNs;
    row.json = id; // lets the tests read ids straight out of listRuns
    return row;
}

QStringList toList(const std::vector<std::string> &v)
{
    QStringList out;
    for (const auto &s : v)
        out << QString::fromStdString(s);
    return out;
}

// What listRuns must return, computed the slow obvious way. `seq` is the insertion order.
struct ModelRun
{
    RunRow row;
    int64_t seq;
};

std::vector<std::string> expectedRuns(const std::vector<ModelRun> &all, const RunQuery &q)
{
    std::vector<const ModelRun *> hits;
    std::optional<std::pair<int64_t, int64_t>> cursor;
    if (q.beforeRunId) {
        for (const auto &r : all)
            if (r.row.id == *q.beforeRunId && r.row.org == q.org)
                cursor = std::pair(r.row.executedNs, r.seq);
        if (!cursor)
            return {};
    }
    for (const auto &r : all) {
        if (r.row.org != q.org)
            continue;
        if (q.function && r.row.function != *q.function)
            continue;
        if (q.modifiedAfterNs && !(r.row.modifiedNs > *q.modifiedAfterNs))
            continue;
        if (q.status && r.row.status != *q.status)
            continue;
        if (q.executedFromNs && r.row.executedNs < *q.executedFromNs)
            continue;
        if (q.executedBeforeNs && r.row.executedNs >= *q.executedBeforeNs)
            continue;
        if (cursor && !(std::pair(r.row.executedNs, r.seq) < *cursor))
            continue;
        hits.push_back(&r);
    }
    std::sort(hits.begin(), hits.end(), [](const ModelRun *a, const ModelRun *b) {
        return std::pair(a->row.executedNs, a->seq) > std::pair(b->row.executedNs, b->seq);
    });
    std::vector<std::string> ids;
    for (const auto *r : hits) {
        if (q.limit > 0 && ids.size() == q.limit)
            break;
        ids.push_back(r->row.id);
    }
    return ids;
}

} // namespace

class TestStore : public QObject
{
    Q_OBJECT

private:
    std::filesystem::path dbPath() const
    {
        return std::filesystem::path(m_dir->path().toStdString()) / "state.db";
    }
    std::unique_ptr<Store> openStore(StoreOptions options = {})
    {
        auto store = Store::open(dbPath(), options);
        if (!store) {
            qWarning("open failed: %s", store.error().message.c_str());
            return nullptr;
        }
        return std::move(*store);
    }

    std::unique_ptr<QTemporaryDir> m_dir;

private slots:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }
    void cleanup() { m_dir.reset(); }

    void openCreatesParentDirectories()
    {
        const auto nested = std::filesystem::path(m_dir->path().toStdString()) / "a" / "b" / "c" / "state.db";
        auto store = Store::open(nested);
        QVERIFY2(store.ok(), store.ok() ? "" : store.error().message.c_str());
        QVERIFY(std::filesystem::exists(nested));
    }

    void openFailsCleanlyOnUnusablePath()
    {
        // A directory where the database file should be.
        std::filesystem::create_directories(dbPath());
        auto store = Store::open(dbPath());
        QVERIFY(!store.ok());
        QVERIFY(!store.error().message.empty());
    }

    void schemaVersionAndWalAreSet()
    {
        {
            auto store = openStore();
            QVERIFY(store);
            QCOMPARE(store->schemaVersion(), dispatch::store::kSchemaVersion);
        }
        RawDb raw(dbPath());
        QCOMPARE(raw.text("PRAGMA user_version"), QString::number(dispatch::store::kSchemaVersion));
        QCOMPARE(raw.text("PRAGMA journal_mode"), QStringLiteral("wal"));
        for (const char *table : {"entities", "runs", "sources", "meta"}) {
            const std::string sql =
                std::string("SELECT count(*) FROM sqlite_schema WHERE name = '") + table + "'";
            QCOMPARE(raw.text(sql.c_str()), QStringLiteral("1"));
        }
    }

    void tooNewSchemaIsRefused()
    {
        {
            RawDb raw(dbPath());
            QVERIFY(raw.exec("PRAGMA user_version = 99"));
        }
        auto store = Store::open(dbPath());
        QVERIFY(!store.ok());
        QCOMPARE(QString::fromStdString(store.error().message),
                 QStringLiteral("database schema version 99 is newer than this server supports (%1); "
                                "upgrade dispatch-server")
                     .arg(dispatch::store::kSchemaVersion));
        // Refusing must not have touched the file.
        RawDb raw(dbPath());
        QCOMPARE(raw.text("PRAGMA user_version"), QStringLiteral("99"));
        QCOMPARE(raw.text("SELECT count(*) FROM sqlite_schema"), QStringLiteral("0"));
        QCOMPARE(raw.text("PRAGMA journal_mode"), QStringLiteral("delete"));
    }

    void reopenKeepsData()
    {
        {
            auto store = openStore();
            QVERIFY(store);
            store->putEntity({"Function", "o1", "hello", R"({"name":"hello"})"});
            store->putRun(makeRun("r1", "o1", "hello", 100));
            store->putSource("o1", "hello", "rev1", 7, "tgz");
            store->putMeta("cursor", "42");
            // No flush: the destructor must drain the queue.
        }
        auto store = openStore();
        QVERIFY(store);
        QCOMPARE(store->schemaVersion(), dispatch::store::kSchemaVersion);
        QCOMPARE(store->loadEntities().size(), std::size_t(1));
        QCOMPARE(store->getRun("o1", "r1").value_or(""), std::string("r1"));
        QCOMPARE(store->getSource("o1", "hello", "rev1").value_or(""), std::string("tgz"));
        QCOMPARE(store->getMeta("cursor").value_or(""), std::string("42"));
    }

    void destructorDrainsManyQueuedWrites()
    {
        {
            auto store = openStore(StoreOptions{64, 2, 1 << 18});
            QVERIFY(store);
            for (int i = 0; i < 5000; ++i)
                store->putRun(makeRun("r" + std::to_string(i), "o", "f", i));
        }
        auto store = openStore();
        QVERIFY(store);
        QCOMPARE(store->countRuns(), std::size_t(5000));
    }

    void walIsCheckpointedOffTheWriterThread()
    {
        StoreOptions options;
        options.checkpointPages = 4; // a few commits fill it
        auto store = openStore(options);
        QVERIFY(store);
        const auto dbSize = [this] { return std::filesystem::file_size(dbPath()); };
        const auto sizeBefore = dbSize();
        for (int i = 0; i < 300; ++i) {
            RunRow row = makeRun("r" + std::to_string(i), "o", "f", i);
            row.json = std::string(1000, 'x');
            store->putRun(std::move(row));
            if (i % 50 == 49)
                store->flush();
        }
        store->flush();
        QVERIFY(store->commits() >= 6);
        QCOMPARE(store->committedWrites(), uint64_t(300));
        QVERIFY(store->walPagesWritten() >= 300 * 1000 / 4096);
        // The checkpoint thread copied the WAL into the database file itself.
        QTRY_VERIFY_WITH_TIMEOUT(store->checkpoints() > 0, 30000);
        QTRY_VERIFY_WITH_TIMEOUT(dbSize() > sizeBefore + 100 * 1000, 30000);
        QCOMPARE(store->countRuns(), std::size_t(300));
        // Once the checkpoints caught up, a commit starts the WAL over instead of growing it (bounded wait).
        bool startedOver = false;
        for (int i = 0; i < 2000 && !startedOver; ++i) {
            const uint64_t before = store->walPages();
            store->putRun(makeRun("more" + std::to_string(i), "o", "f", 1000 + i));
            store->flush();
            startedOver = store->walPages() < before;
            if (!startedOver)
                QTest::qWait(5);
        }
        QVERIFY(startedOver);
        const std::size_t stored = store->countRuns();
        QVERIFY(stored > 300);
        store.reset();
        store = openStore();
        QVERIFY(store);
        QCOMPARE(store->countRuns(), stored);
    }

    void entities()
    {
        auto store = openStore();
        QVERIFY(store);
        store->putEntity({"Function", "o1", "b", "fb"});
        store->putEntity({"Function", "o1", "a", "fa"});
        store->putEntity({"Secret", "o1", "s", "ss"});
        store->putEntity({"Function", "o2", "a", "o2fa"});
        store->flush();

        auto all = store->loadEntities();
        QCOMPARE(all.size(), std::size_t(4));
        auto functions = store->loadEntities("Function");
        QCOMPARE(functions.size(), std::size_t(3));
        QCOMPARE(functions[0].org + "/" + functions[0].name, std::string("o1/a"));
        QCOMPARE(functions[1].org + "/" + functions[1].name, std::string("o1/b"));
        QCOMPARE(functions[2].org + "/" + functions[2].name, std::string("o2/a"));
        QCOMPARE(functions[2].json, std::string("o2fa"));
        QCOMPARE(functions[0].kind, std::string("Function"));

        store->putEntity({"Function", "o1", "a", "fa-v2"}); // replace
        store->deleteEntity("Function", "o1", "b");
        store->deleteEntity("Function", "o1", "missing"); // deleting nothing is not an error
        store->flush();
        functions = store->loadEntities("Function");
        QCOMPARE(functions.size(), std::size_t(2));
        QCOMPARE(functions[0].json, std::string("fa-v2"));
        QCOMPARE(store->loadEntities("Secret").size(), std::size_t(1));
        QVERIFY(store->loadEntities("Nothing").empty());
    }

    void runsPutUpdateGet()
    {
        auto store = openStore();
        QVERIFY(store);
        store->putRun(makeRun("a", "o1", "f", 100));
        store->putRun(makeRun("b", "o1", "f", 100)); // same nanosecond: b was stored later, so it is newer
        store->putRun(makeRun("c", "o2", "f", 100));
        store->flush();
        QCOMPARE(store->getRun("o1", "a").value_or(""), std::string("a"));
        QVERIFY(!store->getRun("o2", "a").has_value()); // another org's run is invisible
        QVERIFY(!store->getRun("o1", "nope").has_value());
        QCOMPARE(store->countRuns(), std::size_t(3));
        QCOMPARE(store->countRuns("o1"), std::size_t(2));
        QCOMPARE(store->countRuns("o3"), std::size_t(0));

        RunQuery q;
        q.org = "o1";
        QCOMPARE(toList(store->listRuns(q)), QStringList({"b", "a"}));

        // An update keeps the run's place (its seq) among runs of the same nanosecond.
        RunRow updated = makeRun("a", "o1", "f", 100, "failed", 500);
        updated.json = "a-v2";
        store->putRun(updated);
        store->flush();
        QCOMPARE(store->getRun("o1", "a").value_or(""), std::string("a-v2"));
        QCOMPARE(toList(store->listRuns(q)), QStringList({"b", "a-v2"}));
        QCOMPARE(store->countRuns(), std::size_t(3));
        q.status = "failed";
        QCOMPARE(toList(store->listRuns(q)), QStringList({"a-v2"}));
        q.status.reset();
        q.modifiedAfterNs = 400;
        QCOMPARE(toList(store->listRuns(q)), QStringList({"a-v2"}));
    }

    // Every combination of filters, on both sides of the `since` strategy switch, against a model.
    void listRunsFiltersMatchModel()
    {
        auto store = openStore();
        QVERIFY(store);
        std::vector<ModelRun> model;
        const char *statuses[] = {"succeeded", "failed", "running"};
        for (int i = 0; i < 1500; ++i) {
            const std::string org = i % 5 == 4 ? "o2" : "o1";
            const std::string function = "f" + std::to_string(i % 3);
            const int64_t executed = 1000 + (i % 97) * 10; // many runs share a nanosecond
            const int64_t modified = executed + (i * 7919) % 2000;
            RunRow row =
                makeRun("r" + std::to_string(i), org, function, executed, statuses[(i / 3) % 3], modified);
            model.push_back({row, i + 1});
            store->putRun(std::move(row));
        }
        store->flush();
        QCOMPARE(store->countRuns("o1"), std::size_t(1200));

        RunQuery all;
        all.org = "o1";
        const auto fullOrder = expectedRuns(model, all);
        QCOMPARE(store->listRuns(all), fullOrder);
        const std::string &cursorId = fullOrder.at(300);
        // `since` values taken from the data, so that a row sits exactly on the (exclusive) bound.
        std::vector<int64_t> modifiedTimes;
        for (const auto &r : model)
            if (r.row.org == "o1")
                modifiedTimes.push_back(r.row.modifiedNs);
        std::sort(modifiedTimes.begin(), modifiedTimes.end());
        const int64_t sinceOld = modifiedTimes.at(300);                           // ~900 rows after it
        const int64_t sinceRecent = modifiedTimes.at(modifiedTimes.size() - 100); // ~100 rows after it

        int checked = 0;
        for (int fn = 0; fn < 2; ++fn)
            for (int since = 0; since < 3; ++since)
                for (int status = 0; status < 2; ++status)
                    for (int from = 0; from < 2; ++from)
                        for (int before = 0; before < 2; ++before)
                            for (int limit = 0; limit < 2; ++limit)
                                for (int cursor = 0; cursor < 4; ++cursor) {
                                    RunQuery q;
                                    q.org = "o1";
                                    if (fn)
                                        q.function = "f1";
                                    if (since == 1)
                                        q.modifiedAfterNs = sinceOld; // walks the newest-first index
                                    if (since == 2)
                                        q.modifiedAfterNs = sinceRecent; // walks the modified index
                                    if (status)
                                        q.status = "failed";
                                    if (from)
                                        q.executedFromNs = 1200;
                                    if (before)
                                        q.executedBeforeNs = 1800;
                                    if (limit)
                                        q.limit = 7;
                                    if (cursor == 1)
                                        q.beforeRunId = cursorId;
                                    if (cursor == 2)
                                        q.beforeRunId = "no-such-run";
                                    if (cursor == 3)
                                        q.beforeRunId = "r4"; // exists, but in o2
                                    const auto got = store->listRuns(q);
                                    const auto want = expectedRuns(model, q);
                                    if (got != want)
                                        qWarning(
                                            "fn %d since %d status %d from %d before %d limit %d cursor %d",
                                            fn, since, status, from, before, limit, cursor);
                                    QCOMPARE(toList(got), toList(want));
                                    ++checked;
                                }
        QCOMPARE(checked, 384);

        // The filters are not vacuous on this data.
        RunQuery q;
        q.org = "o1";
        q.modifiedAfterNs = sinceRecent;
        const auto recent = store->listRuns(q);
        QVERIFY(!recent.empty() && recent.size() < 512);
        QVERIFY(store->explainListRuns(q).front().find("runs_org_modified") != std::string::npos);
        q.modifiedAfterNs = sinceOld;
        QVERIFY(store->listRuns(q).size() > 512);
        QVERIFY(store->explainListRuns(q).front().find("runs_org_executed") != std::string::npos);
    }

    void listRunsUsesIndexSeeks()
    {
        auto store = openStore();
        QVERIFY(store);
        for (int i = 0; i < 2000; ++i)
            store->putRun(makeRun("r" + std::to_string(i), "o", "f" + std::to_string(i % 4), i, "ok", i));
        store->flush();

        auto plan = [&](RunQuery q) {
            q.org = "o";
            q.limit = 50;
            const auto lines = store->explainListRuns(q);
            return toList(lines).join(QLatin1Char('\n'));
        };
        RunQuery q;
        const QList<RunQuery> newestFirst = [] {
            QList<RunQuery> list;
            RunQuery a;
            list << a;
            a.function = "f1";
            list << a;
            a.status = "ok";
            a.executedFromNs = 10;
            a.executedBeforeNs = 1000;
            a.beforeRunId = "r500";
            list << a;
            a.modifiedAfterNs = 0; // almost everything changed since: still newest-first
            list << a;
            RunQuery b;
            b.modifiedAfterNs = 0;
            list << b;
            return list;
        }();
        for (const RunQuery &each : newestFirst) {
            const QString p = plan(each);
            QVERIFY2(p.startsWith(QLatin1String("SEARCH runs USING INDEX runs_org_")), qPrintable(p));
            QVERIFY2(!p.contains(QLatin1String("SCAN")), qPrintable(p));
            QVERIFY2(!p.contains(QLatin1String("TEMP B-TREE")), qPrintable(p));
        }
        // An incremental sync (few changed rows) seeks the modified index and sorts only those rows.
        q.modifiedAfterNs = 1990;
        const QString p = plan(q);
        QVERIFY2(
            p.contains(QLatin1String("SEARCH runs USING INDEX runs_org_modified (org=? AND modified_ns>?)")),
            qPrintable(p));
        QVERIFY2(!p.contains(QLatin1String("SCAN")), qPrintable(p));
        q.org = "o";
        QCOMPARE(store->listRuns(q).size(), std::size_t(9));
    }

    void pagingVisitsEveryRowOnce_data()
    {
        QTest::addColumn<bool>("byFunction");
        QTest::newRow("org") << false;
        QTest::newRow("function") << true;
    }

    void pagingVisitsEveryRowOnce()
    {
        QFETCH(bool, byFunction);
        auto store = openStore();
        QVERIFY(store);
        std::vector<ModelRun> model;
        for (int i = 0; i < 50; ++i) {
            // Half are f (25 rows: pages of 10, 10, 5), with only 5 distinct timestamps: ties everywhere.
            RunRow row = makeRun("r" + std::to_string(i), "o", i % 2 ? "f" : "g", 100 + (i % 5));
            model.push_back({row, i + 1});
            store->putRun(std::move(row));
        }
        store->flush();

        RunQuery q;
        q.org = "o";
        if (byFunction)
            q.function = "f";
        q.limit = 0;
        const auto expected = expectedRuns(model, q);
        QCOMPARE(expected.size(), std::size_t(byFunction ? 25 : 50));

        q.limit = byFunction ? 10 : 20;
        std::vector<std::string> seen;
        QList<int> pageSizes;
        for (int page = 0; page < 10; ++page) {
            const auto rows = store->listRuns(q);
            if (rows.empty())
                break;
            pageSizes << int(rows.size());
            seen.insert(seen.end(), rows.begin(), rows.end());
            q.beforeRunId = rows.back();
        }
        QCOMPARE(pageSizes, byFunction ? QList<int>({10, 10, 5}) : QList<int>({20, 20, 10}));
        QCOMPARE(toList(seen), toList(expected));
        QCOMPARE(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size());
    }

    void unknownCursorGivesEmptyPage()
    {
        auto store = openStore();
        QVERIFY(store);
        store->putRun(makeRun("a", "o", "f", 1));
        store->flush();
        RunQuery q;
        q.org = "o";
        q.beforeRunId = "zzz";
        QVERIFY(store->listRuns(q).empty());
        q.limit = 10;
        QVERIFY(store->listRuns(q).empty());
    }

    void trimRunsKeepsNewest()
    {
        auto store = openStore();
        QVERIFY(store);
        std::vector<ModelRun> model;
        for (int i = 0; i < 20; ++i) {
            RunRow row = makeRun("r" + std::to_string(i), "o", i < 10 ? "f" : "g", 100 + (i % 4));
            model.push_back({row, i + 1});
            store->putRun(std::move(row));
        }
        store->putRun(makeRun("other-org", "o2", "f", 1));
        std::atomic<int> doneTrue{0};
        store->trimRuns("o", "f", 3, [&](bool ok) { doneTrue += ok ? 1 : 0; });
        store->flush();
        QCOMPARE(doneTrue.load(), 1);

        RunQuery q;
        q.org = "o";
        q.function = "f";
        RunQuery qModel = q;
        qModel.limit = 3;
        QCOMPARE(toList(store->listRuns(q)), toList(expectedRuns(model, qModel)));
        q.function = "g";
        QCOMPARE(store->listRuns(q).size(), std::size_t(10));
        QCOMPARE(store->countRuns("o2"), std::size_t(1));

        store->trimRuns("o", "g", 100); // fewer than `keep`: nothing to do
        store->trimRuns("o", "f", 0);   // keep none
        store->flush();
        QCOMPARE(store->countRuns("o"), std::size_t(10));
        q.function = "f";
        QVERIFY(store->listRuns(q).empty());
    }

    // Retention counts a function's runs once, then follows its writes: inserts count, updates of a stored run
    // do not, deleting the function's runs starts over; a reopened store counts again.
    void trimFollowsInsertsUpdatesAndDeletes()
    {
        auto store = openStore();
        QVERIFY(store);
        std::vector<ModelRun> model;
        int64_t seq = 0;
        int64_t executed = 1000;
        const auto put = [&](const std::string &id) {
            RunRow row = makeRun(id, "o", "f", executed++);
            model.push_back({row, ++seq});
            store->putRun(std::move(row));
        };
        const auto newest = [&](std::size_t n) {
            RunQuery q;
            q.org = "o";
            q.function = "f";
            q.limit = n;
            return toList(expectedRuns(model, q));
        };
        const auto stored = [&] {
            RunQuery q;
            q.org = "o";
            q.function = "f";
            return toList(store->listRuns(q));
        };
        for (int i = 0; i < 10; ++i)
            put("a" + std::to_string(i));
        store->trimRuns("o", "f", 8);
        store->flush();
        QCOMPARE(stored(), newest(8));

        // Updates of stored runs (a non-blocking run finishing) are not new runs.
        for (int i = 0; i < 5; ++i)
            store->putRun(makeRun("a5", "o", "f", 1005, "READY"));
        store->trimRuns("o", "f", 8);
        store->flush();
        QCOMPARE(stored().size(), 8);

        for (int i = 0; i < 3; ++i)
            put("b" + std::to_string(i));
        store->trimRuns("o", "f", 8);
        store->flush();
        QCOMPARE(stored(), newest(8));

        store->deleteRunsOfFunction("o", "f");
        model.clear();
        put("c0");
        put("c1");
        store->trimRuns("o", "f", 1);
        store->flush();
        QCOMPARE(stored(), newest(1));

        for (int i = 0; i < 6; ++i)
            put("d" + std::to_string(i));
        store.reset();
        store = openStore();
        QVERIFY(store);
        store->trimRuns("o", "f", 3);
        store->flush();
        QCOMPARE(stored(), newest(3));

        // The DELETE walks the function's index from its oldest end: no table scan, no sort.
        const QString plan = toList(store->explainTrimRuns()).join(QLatin1Char('\n'));
        QVERIFY2(plan.contains(QLatin1String("USING COVERING INDEX runs_org_function_executed")), qPrintable(plan));
        QVERIFY2(!plan.contains(QLatin1String("TEMP B-TREE")), qPrintable(plan));
        QVERIFY2(!plan.contains(QLatin1String("SCAN runs")), qPrintable(plan));
    }

    void deleteRunsOfFunction()
    {
        auto store = openStore();
        QVERIFY(store);
        for (int i = 0; i < 10; ++i)
            store->putRun(makeRun("r" + std::to_string(i), "o", i % 2 ? "f" : "g", i));
        store->putRun(makeRun("x", "o2", "f", 1));
        store->deleteRunsOfFunction("o", "f");
        store->flush();
        QCOMPARE(store->countRuns("o"), std::size_t(5));
        QCOMPARE(store->countRuns("o2"), std::size_t(1));
        QVERIFY(!store->getRun("o", "r1").has_value());
        QVERIFY(store->getRun("o", "r0").has_value());
    }

    void sources()
    {
        auto store = openStore();
        QVERIFY(store);
        const std::string binary("\x1f\x8b\x00\x00\xff\x00tail", 10); // NUL bytes survive
        store->putSource("o", "f", "rev-b", 200, binary);
        store->putSource("o", "f", "rev-a", 100, "first");
        store->putSource("o", "f", "rev-c", 300, ""); // empty archive is still a revision
        store->putSource("o", "g", "rev-a", 50, "other function");
        store->flush();

        QCOMPARE(store->getSource("o", "f", "rev-b").value_or(""), binary);
        QCOMPARE(store->getSource("o", "f", "rev-c").value_or("missing"), std::string());
        QVERIFY(!store->getSource("o", "f", "rev-z").has_value());
        QVERIFY(!store->getSource("o2", "f", "rev-a").has_value());

        auto revisions = store->listRevisions("o", "f");
        QCOMPARE(revisions.size(), std::size_t(3));
        QCOMPARE(revisions[0].revision, std::string("rev-a"));
        QCOMPARE(revisions[0].createdNs, int64_t(100));
        QCOMPARE(revisions[1].revision, std::string("rev-b"));
        QCOMPARE(revisions[2].revision, std::string("rev-c"));

        store->putSource("o", "f", "rev-a", 400, "replaced"); // same revision: replaced in place
        store->flush();
        QCOMPARE(store->getSource("o", "f", "rev-a").value_or(""), std::string("replaced"));
        QCOMPARE(store->listRevisions("o", "f").back().revision, std::string("rev-a"));

        store->deleteSources("o", "f");
        store->flush();
        QVERIFY(store->listRevisions("o", "f").empty());
        QCOMPARE(store->listRevisions("o", "g").size(), std::size_t(1));
    }

    void meta()
    {
        auto store = openStore();
        QVERIFY(store);
        QVERIFY(!store->getMeta("k").has_value());
        store->putMeta("k", "1");
        store->putMeta("empty", "");
        store->flush();
        QCOMPARE(store->getMeta("k").value_or(""), std::string("1"));
        QCOMPARE(store->getMeta("empty").value_or("missing"), std::string());
        store->putMeta("k", "2");
        store->flush();
        QCOMPARE(store->getMeta("k").value_or(""), std::string("2"));
    }

    void doneCallbacksFireAfterCommit()
    {
        auto store = openStore(StoreOptions{16, 2, 1 << 18});
        QVERIFY(store);
        std::atomic<int> committed{0};
        std::atomic<int> failed{0};
        std::atomic<bool> visibleWhenCalled{true};
        Store *raw = store.get();
        auto done = [&](bool ok) { (ok ? committed : failed) += 1; };
        for (int i = 0; i < 1000; ++i)
            store->putRun(makeRun("r" + std::to_string(i), "o", "f", i), done);
        // Committed means visible to readers by the time the callback runs.
        store->putRun(makeRun("probe", "o", "f", 1),
                      [&, raw](bool ok) { visibleWhenCalled = ok && raw->getRun("o", "probe").has_value(); });
        store->putEntity({"K", "o", "n", "{}"}, done);
        store->deleteEntity("K", "o", "n", done);
        store->putMeta("m", "v", done);
        store->putSource("o", "f", "r", 1, "x", done);
        store->deleteSources("o", "f", done);
        store->trimRuns("o", "f", 2000, done);
        store->deleteRunsOfFunction("o", "none", done);
        store->flush();
        QCOMPARE(committed.load(), 1007);
        QCOMPARE(failed.load(), 0);
        QVERIFY(visibleWhenCalled.load());
        QCOMPARE(store->queuedWrites(), std::size_t(0));
    }

    void failingWriteDoesNotFailItsBatch()
    {
        {
            auto store = openStore();
            QVERIFY(store);
        }
        {
            RawDb raw(dbPath());
            QVERIFY(raw.exec("CREATE TRIGGER reject_bad BEFORE INSERT ON runs WHEN NEW.id = 'bad' "
                             "BEGIN SELECT RAISE(ABORT, 'rejected by test'); END"));
        }
        auto store = openStore(StoreOptions{4096, 2, 1 << 18});
        QVERIFY(store);
        std::map<std::string, bool> results;
        std::mutex mutex;
        for (int i = 0; i < 2000; ++i) {
            const std::string id = i == 1000 ? "bad" : "r" + std::to_string(i);
            store->putRun(makeRun(id, "o", "f", i), [&, id](bool ok) {
                std::lock_guard lock(mutex);
                results[id] = ok;
            });
        }
        store->flush();
        QCOMPARE(results.size(), std::size_t(2000));
        QCOMPARE(results["bad"], false);
        QCOMPARE(int(std::count_if(results.begin(), results.end(), [](const auto &p) { return p.second; })),
                 1999);
        QCOMPARE(store->countRuns(), std::size_t(1999));
        // The writer is healthy afterwards.
        bool later = false;
        store->putMeta("after", "x", [&](bool ok) { later = ok; });
        store->flush();
        QVERIFY(later);
    }

    void backPressureAndCallbacksThatWrite()
    {
        auto store = openStore(StoreOptions{8, 1, 4});
        QVERIFY(store);
        Store *raw = store.get();
        std::atomic<int> chained{0};
        for (int i = 0; i < 500; ++i) {
            // The callback queues another write on the writer thread, even while the queue is full.
            store->putRun(makeRun("r" + std::to_string(i), "o", "f", i), [raw, i, &chained](bool ok) {
                if (!ok)
                    return;
                if (i == 0)
                    raw->flush(); // must not deadlock on the writer thread
                raw->putMeta("last", std::to_string(i), [&chained](bool ok2) { chained += ok2 ? 1 : 0; });
            });
            // At most 4 waiting, a batch of 8 in flight, and the (unbounded by design) writes its callbacks
            // queued.
            QVERIFY(store->queuedWrites() <= 4 + 8 + 8);
        }
        store->flush();
        store->flush(); // the chained writes were queued before the second call
        QCOMPARE(store->countRuns(), std::size_t(500));
        QCOMPARE(chained.load(), 500);
        QCOMPARE(store->getMeta("last").value_or(""), std::string("499"));
    }

    void concurrentWritersAndReadersLoseNothing()
    {
        auto store = openStore(StoreOptions{2048, 3, 1 << 18});
        QVERIFY(store);
        constexpr int kThreads = 4;
        constexpr int kPerThread = 5000;
        std::atomic<int> committed{0};
        std::atomic<bool> writing{true};
        std::atomic<int> readerProblems{0};
        std::atomic<int> reads{0};

        // Run ids encode their executed time: "t<thread>-<i>" ran at i * kThreads + thread.
        auto executedOf = [](const std::string &id) {
            const auto dash = id.find('-');
            return std::stoll(id.substr(dash + 1)) * kThreads + std::stoll(id.substr(1, dash - 1));
        };
        std::vector<std::thread> readers;
        readers.reserve(2);
        for (int r = 0; r < 2; ++r) {
            readers.emplace_back([&] {
                std::size_t lastCount = 0;
                while (writing) {
                    RunQuery q;
                    q.org = "o";
                    q.limit = 50;
                    const auto page = store->listRuns(q);
                    if (page.size() > 50)
                        ++readerProblems;
                    for (std::size_t i = 1; i < page.size(); ++i)
                        if (executedOf(page[i - 1]) <= executedOf(page[i]))
                            ++readerProblems; // not newest first

                    const std::size_t count = store->countRuns("o");
                    if (count < lastCount) // committed rows never disappear
                        ++readerProblems;
                    lastCount = count;
                    ++reads;
                }
            });
        }
        std::vector<std::thread> writers;
        writers.reserve(kThreads);
        for (int t = 0; t < kThreads; ++t) {
            writers.emplace_back([&, t] {
                for (int i = 0; i < kPerThread; ++i) {
                    const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
                    store->putRun(makeRun(id, "o", "f" + std::to_string(t), int64_t(i) * kThreads + t),
                                  [&](bool ok) { committed += ok ? 1 : 0; });
                    if (i % 1000 == 0)
                        store->putMeta("t" + std::to_string(t), std::to_string(i));
                }
            });
        }
        for (auto &w : writers)
            w.join();
        store->flush();
        writing = false;
        for (auto &r : readers)
            r.join();

        QCOMPARE(committed.load(), kThreads * kPerThread);
        QCOMPARE(readerProblems.load(), 0);
        QVERIFY(reads.load() > 0);
        QCOMPARE(store->countRuns("o"), std::size_t(kThreads * kPerThread));
        for (int t = 0; t < kThreads; ++t) {
            RunQuery q;
            q.org = "o";
            q.function = "f" + std::to_string(t);
            const auto runs = store->listRuns(q);
            QCOMPARE(runs.size(), std::size_t(kPerThread));
            // Each thread's runs come back newest first: its own submission order reversed.
            QCOMPARE(runs.front(), "t" + std::to_string(t) + "-" + std::to_string(kPerThread - 1));
            QCOMPARE(runs.back(), "t" + std::to_string(t) + "-0");
            QCOMPARE(store->getMeta("t" + std::to_string(t)).value_or(""), std::string("4000"));
        }
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
