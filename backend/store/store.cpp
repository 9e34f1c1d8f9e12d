// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/store.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#if defined(__linux__)
#include <pthread.h>
#endif

#include "store/connection.h"
#include "store/schema.h"
#include "store/statement.h"

namespace dispatch::store {

namespace {

constexpr int kBusyTimeoutMs = 5000;

// listRuns with `since`: when fewer rows than this changed after `since` (the usual incremental sync), the
// query walks runs_org_modified and sorts that handful; otherwise it walks the newest-first index and
// filters, which needs no sort and stops after `limit` rows.
constexpr int64_t kSinceProbeRows = 512;

constexpr std::string_view kPutEntity = "INSERT INTO entities(kind, org, name, json) VALUES(?1, ?2, ?3, ?4) "
                                        "ON CONFLICT(kind, org, name) DO UPDATE SET json = excluded.json";
constexpr std::string_view kDeleteEntity = "DELETE FROM entities WHERE kind = ?1 AND org = ?2 AND name = ?3";
constexpr std::string_view kLoadEntities =
    "SELECT kind, org, name, json FROM entities ORDER BY kind, org, name";
constexpr std::string_view kLoadEntitiesOfKind =
    "SELECT kind, org, name, json FROM entities WHERE kind = ?1 ORDER BY org, name";

// DO UPDATE (not INSERT OR REPLACE) keeps the row and so its seq: an updated run keeps its paging position.
constexpr std::string_view kPutRun =
    "INSERT INTO runs(id, org, function, status, executed_ns, finished_ns, modified_ns, json) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT(id) DO UPDATE SET org = excluded.org, function = excluded.function, status = "
    "excluded.status, "
    "executed_ns = excluded.executed_ns, finished_ns = excluded.finished_ns, modified_ns = "
    "excluded.modified_ns, "
    "json = excluded.json";
constexpr std::string_view kDeleteRunsOfFunction = "DELETE FROM runs WHERE org = ?1 AND function = ?2";
// Retention deletes the oldest `?3` runs: the index is walked from its old end for just those entries.
constexpr std::string_view kTrimOldestRuns =
    "DELETE FROM runs WHERE seq IN (SELECT seq FROM runs INDEXED BY runs_org_function_executed "
    "WHERE org = ?1 AND function = ?2 ORDER BY executed_ns ASC, seq ASC LIMIT ?3)";
constexpr std::string_view kCountRunsOfFunction = "SELECT count(*) FROM runs WHERE org = ?1 AND function = ?2";
constexpr std::string_view kGetRun = "SELECT json FROM runs WHERE id = ?1 AND org = ?2";
constexpr std::string_view kRunPosition = "SELECT executed_ns, seq FROM runs WHERE id = ?1 AND org = ?2";
constexpr std::string_view kCountRuns = "SELECT count(*) FROM runs";
constexpr std::string_view kCountRunsOfOrg = "SELECT count(*) FROM runs WHERE org = ?1";
constexpr std::string_view kSinceProbe =
    "SELECT count(*) FROM (SELECT 1 FROM runs INDEXED BY runs_org_modified "
    "WHERE org = ?1 AND modified_ns > ?2 LIMIT ?3)";

constexpr std::string_view kPutSource =
    "INSERT INTO sources(org, function, revision, created_ns, targz) VALUES(?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT(org, function, revision) DO UPDATE SET created_ns = excluded.created_ns, targz = "
    "excluded.targz";
constexpr std::string_view kGetSource =
    "SELECT targz FROM sources WHERE org = ?1 AND function = ?2 AND revision = ?3";
constexpr std::string_view kListRevisions =
    "SELECT revision, created_ns FROM sources WHERE org = ?1 AND function = ?2 ORDER BY created_ns, revision";
constexpr std::string_view kDeleteSources = "DELETE FROM sources WHERE org = ?1 AND function = ?2";

constexpr std::string_view kGetMeta = "SELECT value FROM meta WHERE key = ?1";
constexpr std::string_view kPutMeta =
    "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value";

// Run statistics. The rollup tables differ only in their name and time column; their statements are built
// once from the column list so the histogram columns cannot drift between the writes and the reads.
constexpr std::string_view kStatsCounterColumns[] = {
    "count", "ready", "error", "input_errors", "function_errors", "system_errors", "cold_starts", "duration_sum_ns",
};
constexpr int kStatsFixedColumns = 3; // org, function, time

struct StatsSql
{
    std::string upsert;
    std::string select;
    std::string deleteBefore;
};

StatsSql buildStatsSql(std::string_view table, std::string_view timeColumn)
{
    std::vector<std::string> counters(std::begin(kStatsCounterColumns), std::end(kStatsCounterColumns));
    for (std::size_t i = 0; i < kStatsHistogramColumns; ++i)
        counters.push_back(std::string("h").append(std::to_string(i)));
    std::string columns, values, updates;
    int parameter = kStatsFixedColumns;
    for (const std::string &c : counters) {
        columns += ", " + c;
        values += ", ?" + std::to_string(++parameter);
        updates += (updates.empty() ? "" : ", ") + c + " = " + c + " + excluded." + c;
    }
    const std::string t(table), time(timeColumn);
    StatsSql sql;
    sql.upsert = "INSERT INTO " + t + "(org, function, " + time + columns + ") VALUES(?1, ?2, ?3" + values +
                 ") ON CONFLICT(org, function, " + time + ") DO UPDATE SET " + updates;
    sql.select = "SELECT " + time + columns + " FROM " + t + " WHERE org = ?1 AND function = ?2 AND " + time +
                 " >= ?3 AND " + time + " < ?4 ORDER BY " + time;
    sql.deleteBefore = "DELETE FROM " + t + " WHERE " + time + " < ?1";
    return sql;
}

const StatsSql &statsSql(StatsTable table)
{
    static const StatsSql minute = buildStatsSql("stats_minute", "minute");
    static const StatsSql hour = buildStatsSql("stats_hour", "hour");
    return table == StatsTable::Minute ? minute : hour;
}

constexpr std::string_view kStatsEpochKey = "stats.epoch";
constexpr std::string_view kAddErrorGroup =
    "INSERT INTO stats_errors(org, function, error_type, message_hash, message, count, first_ns, last_ns) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT(org, function, error_type, message_hash) DO UPDATE SET count = count + excluded.count, "
    "first_ns = min(first_ns, excluded.first_ns), last_ns = max(last_ns, excluded.last_ns)";
// Keeps the most recently seen groups of a function.
constexpr std::string_view kTrimErrorGroups =
    "DELETE FROM stats_errors WHERE rowid IN (SELECT rowid FROM stats_errors INDEXED BY "
    "stats_errors_function_last WHERE org = ?1 AND function = ?2 ORDER BY last_ns DESC LIMIT -1 OFFSET ?3)";
constexpr std::string_view kDeleteErrorGroupsBefore = "DELETE FROM stats_errors WHERE last_ns < ?1";
constexpr std::string_view kErrorGroupColumns =
    "SELECT org, function, error_type, message_hash, message, count, first_ns, last_ns FROM stats_errors ";
const std::string kReadErrorGroupsOfOrg =
    std::string(kErrorGroupColumns) + "WHERE org = ?1 AND last_ns >= ?3 AND first_ns < ?4";
const std::string kReadErrorGroupsOfFunction =
    std::string(kErrorGroupColumns) + "WHERE org = ?1 AND function = ?2 AND last_ns >= ?3 AND first_ns < ?4";

bool bindStatsRow(Statement &stmt, const StatsRow &row)
{
    stmt.bind(1, row.org).bind(2, row.function).bind(3, row.time);
    const int64_t counters[] = {row.count,          row.ready,        row.error,      row.inputErrors,
                                row.functionErrors, row.systemErrors, row.coldStarts, row.durationSumNs};
    int parameter = kStatsFixedColumns;
    for (int64_t v : counters)
        stmt.bind(++parameter, v);
    for (int64_t v : row.histogram)
        stmt.bind(++parameter, v);
    return stmt.run();
}

StatsRow readStatsRow(const Statement &stmt, const std::string &org, const std::string &function)
{
    StatsRow row;
    row.org = org;
    row.function = function;
    int column = 0;
    row.time = stmt.int64(column++);
    for (int64_t *v : {&row.count, &row.ready, &row.error, &row.inputErrors, &row.functionErrors,
                       &row.systemErrors, &row.coldStarts, &row.durationSumNs})
        *v = stmt.int64(column++);
    for (int64_t &v : row.histogram)
        v = stmt.int64(column++);
    return row;
}

// The epoch as stored by putMeta (text); 0 before the first batch.
uint64_t parseEpoch(const std::string &text)
{
    uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return 0;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
}

int64_t toInt64(std::size_t n)
{
    constexpr auto max = static_cast<std::size_t>(std::numeric_limits<int64_t>::max());
    return static_cast<int64_t>(std::min(n, max));
}

// One queued write: statements run on the writer connection inside the batch transaction.
struct WriteOp
{
    std::function<bool(Connection &)> apply;
    Done done;
};

void callDone(const Done &done, bool committed) noexcept
{
    if (!done)
        return;
    try {
        done(committed);
    } catch (const std::exception &e) {
        spdlog::error("store: a write completion callback threw: {}", e.what());
    } catch (...) {
        spdlog::error("store: a write completion callback threw");
    }
}

// The statement listRuns runs for a query, with the parameters it uses (fixed numbers, see buildRunListSql).
struct RunListPlan
{
    std::string sql;
    bool viaModifiedIndex = false;
};

std::string buildRunListSql(const RunQuery &query, bool viaModifiedIndex)
{
    std::string sql = "SELECT json FROM runs INDEXED BY ";
    if (viaModifiedIndex)
        sql += "runs_org_modified";
    else
        sql += query.function ? "runs_org_function_executed" : "runs_org_executed";
    sql += " WHERE org = ?1";
    if (query.function)
        sql += " AND function = ?2";
    if (query.modifiedAfterNs)
        sql += " AND modified_ns > ?3";
    if (query.status)
        sql += " AND status = ?4";
    if (query.executedFromNs)
        sql += " AND executed_ns >= ?5";
    if (query.executedBeforeNs)
        sql += " AND executed_ns < ?6";
    // Strictly after the cursor in newest-first order; seq breaks ties between runs of the same nanosecond.
    if (query.beforeRunId)
        sql += " AND (executed_ns, seq) < (?7, ?8)";
    sql += " ORDER BY executed_ns DESC, seq DESC";
    if (query.limit > 0)
        sql += " LIMIT ?9";
    return sql;
}

void bindRunListParameters(Statement &stmt, const RunQuery &query, int64_t cursorExecutedNs,
                           int64_t cursorSeq)
{
    stmt.bind(1, query.org);
    if (query.function)
        stmt.bind(2, *query.function);
    if (query.modifiedAfterNs)
        stmt.bind(3, *query.modifiedAfterNs);
    if (query.status)
        stmt.bind(4, *query.status);
    if (query.executedFromNs)
        stmt.bind(5, *query.executedFromNs);
    if (query.executedBeforeNs)
        stmt.bind(6, *query.executedBeforeNs);
    if (query.beforeRunId)
        stmt.bind(7, cursorExecutedNs).bind(8, cursorSeq);
    if (query.limit > 0)
        stmt.bind(9, toInt64(query.limit));
}

} // namespace

struct Store::Impl
{
    ~Impl()
    {
        stopWriter();
        stopCheckpointer();
    }

    StoreOptions options;
    int schemaVersion = 0;
    std::unique_ptr<Connection> writer;

    // Read pool: a connection is leased to one thread at a time, so each keeps its own statement cache.
    std::mutex readersMutex;
    std::condition_variable readerReturned;
    std::vector<std::unique_ptr<Connection>> readers;
    std::vector<Connection *> freeReaders;

    // Write queue.
    mutable std::mutex queueMutex;
    std::condition_variable queueNotEmpty;
    std::condition_variable queueNotFull;
    std::condition_variable progress; // `completed` advanced
    std::deque<WriteOp> queue;
    uint64_t enqueued = 0;  // ever queued
    uint64_t completed = 0; // ever committed or failed, callbacks returned
    bool stopping = false;
    bool broken = false; // the writer loop died; writes fail at once instead of waiting forever
    std::atomic<uint64_t> commitCount{0};
    std::atomic<uint64_t> writeCount{0};

    // Writer thread only: the number of stored runs per (org, function), for retention. A function's count
    // is taken once (count(*) inside the writer's transaction, so exact) when it is first trimmed, then kept
    // up to date by the writes themselves; a rolled-back transaction forgets every count.
    std::unordered_map<std::string, int64_t> runCounts;

    // The map key of (org, function), built in a buffer the writer reuses: no allocation per stored run.
    std::string runCountKeyBuffer;
    const std::string &runCountKey(const std::string &org, const std::string &function)
    {
        runCountKeyBuffer.assign(org).push_back('\0');
        runCountKeyBuffer.append(function);
        return runCountKeyBuffer;
    }

    // Checkpoints run on their own thread and connection, so a commit never waits for the WAL to be copied
    // into the database file (SQLite's automatic checkpoint would run inside the commit that crosses the
    // threshold). The writer's WAL hook asks for one once the WAL holds `checkpointPages` pages; a larger WAL
    // also means a page rewritten by many commits (the end of an index) is copied once, not once per commit.
    std::unique_ptr<Connection> checkpointer;
    std::thread checkpointThread;
    std::mutex checkpointMutex;
    std::condition_variable checkpointWanted;
    bool checkpointRequested = false;
    bool checkpointStopping = false;
    std::atomic<uint64_t> checkpointCount{0};
    std::atomic<bool> residualCheckpointWanted{false};

    // Writer thread: the WAL's size after each commit. It shrinks when a commit started the WAL over.
    int walPagesAfterLastCommit = 0;
    int64_t nextCheckpointAt = 0;
    std::atomic<uint64_t> walFrames{0};
    std::atomic<uint64_t> walPagesNow{0};

    static int onWalCommit(void *self, sqlite3 *, const char *, int pages)
    {
        auto &impl = *static_cast<Impl *>(self);
        const int before = pages >= impl.walPagesAfterLastCommit ? impl.walPagesAfterLastCommit : 0;
        impl.walFrames.fetch_add(static_cast<uint64_t>(pages - before), std::memory_order_relaxed);
        if (pages < impl.walPagesAfterLastCommit)
            impl.nextCheckpointAt = 0; // started over
        impl.walPagesAfterLastCommit = pages;
        impl.walPagesNow.store(static_cast<uint64_t>(pages), std::memory_order_relaxed);
        const auto threshold = static_cast<int64_t>(impl.options.checkpointPages);
        // Once per `threshold` new pages, not after every commit while the WAL is large; not while the writer
        // is to finish the last pass (the two would only get in each other's way).
        if (pages >= std::max(impl.nextCheckpointAt, threshold) &&
            !impl.residualCheckpointWanted.load(std::memory_order_acquire)) {
            impl.nextCheckpointAt = pages + threshold;
            {
                std::lock_guard lock(impl.checkpointMutex);
                impl.checkpointRequested = true;
            }
            impl.checkpointWanted.notify_one();
        }
        return SQLITE_OK;
    }

    void checkpointLoop()
    {
#if defined(__linux__)
        (void)pthread_setname_np(pthread_self(), "store-ckpt");
#endif
        for (;;) {
            {
                std::unique_lock lock(checkpointMutex);
                checkpointWanted.wait(lock, [this] { return checkpointRequested || checkpointStopping; });
                if (checkpointStopping)
                    return;
                checkpointRequested = false;
            }
            // PASSIVE: copies what no reader still needs, never blocks the writer or the readers. The next
            // write transaction after a complete checkpoint starts the WAL over from its beginning.
            int walPages = 0;
            int copied = 0;
            const int rc = sqlite3_wal_checkpoint_v2(checkpointer->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                                     &walPages, &copied);
            if (rc != SQLITE_OK && rc != SQLITE_BUSY)
                spdlog::warn("store: checkpoint failed: {}", checkpointer->errorMessage());
            else
                spdlog::trace("store: checkpoint copied {} of {} WAL pages", copied, walPages);
            checkpointCount.fetch_add(1, std::memory_order_relaxed);
            // The writer kept appending meanwhile, so this pass cannot have caught up: the WAL only starts
            // over once a checkpoint copied every frame before the next write. The writer copies the few
            // frames appended since, between two transactions (see finishCheckpoint).
            residualCheckpointWanted.store(true, std::memory_order_release);
        }
    }

    // Writer thread, between transactions: completes the checkpoint thread's pass with the frames appended
    // since, so the next transaction starts the WAL over and it never grows past about twice
    // `checkpointPages` (unless a reader keeps an old snapshot open meanwhile).
    void finishCheckpoint()
    {
        if (!residualCheckpointWanted.exchange(false, std::memory_order_acq_rel))
            return;
        int walPages = 0;
        int copied = 0;
        const int rc =
            sqlite3_wal_checkpoint_v2(writer->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &walPages, &copied);
        if (rc == SQLITE_BUSY) { // the checkpoint thread is still copying: after the next transaction then
            residualCheckpointWanted.store(true, std::memory_order_release);
            return;
        }
        if (rc != SQLITE_OK)
            spdlog::warn("store: checkpoint failed: {}", writer->errorMessage());
        checkpointCount.fetch_add(1, std::memory_order_relaxed);
    }

    void stopCheckpointer()
    {
        if (!checkpointThread.joinable())
            return;
        {
            std::lock_guard lock(checkpointMutex);
            checkpointStopping = true;
        }
        checkpointWanted.notify_one();
        checkpointThread.join();
        checkpointer.reset();
    }
    std::thread thread;

    class ReaderLease
    {
    public:
        explicit ReaderLease(Impl &impl) : m_impl(impl)
        {
            std::unique_lock lock(m_impl.readersMutex);
            m_impl.readerReturned.wait(lock, [this] { return !m_impl.freeReaders.empty(); });
            m_connection = m_impl.freeReaders.back();
            m_impl.freeReaders.pop_back();
        }
        ~ReaderLease()
        {
            {
                std::lock_guard lock(m_impl.readersMutex);
                m_impl.freeReaders.push_back(m_connection);
            }
            m_impl.readerReturned.notify_one();
        }
        ReaderLease(const ReaderLease &) = delete;
        ReaderLease &operator=(const ReaderLease &) = delete;
        Connection &operator*() const { return *m_connection; }
        Connection *operator->() const { return m_connection; }

    private:
        Impl &m_impl;
        Connection *m_connection = nullptr;
    };

    bool onWriterThread() const { return std::this_thread::get_id() == thread.get_id(); }

    void enqueue(std::function<bool(Connection &)> apply, Done done)
    {
        {
            std::unique_lock lock(queueMutex);
            // A Done callback runs on the writer thread: waiting there for queue space would wait for itself.
            if (!onWriterThread())
                queueNotFull.wait(lock, [this] { return queue.size() < options.maxQueuedWrites || broken; });
            if (!broken) {
                queue.push_back(WriteOp{std::move(apply), std::move(done)});
                ++enqueued;
                lock.unlock();
                queueNotEmpty.notify_one();
                return;
            }
        }
        callDone(done, false);
    }

    void flush()
    {
        if (onWriterThread()) {
            spdlog::warn("store: flush() called from a write callback; not waiting");
            return;
        }
        std::unique_lock lock(queueMutex);
        const uint64_t target = enqueued;
        progress.wait(lock, [&] { return completed >= target; });
    }

    std::size_t queuedWrites() const
    {
        std::lock_guard lock(queueMutex);
        return static_cast<std::size_t>(enqueued - completed);
    }

    void stopWriter()
    {
        if (!thread.joinable())
            return;
        {
            std::lock_guard lock(queueMutex);
            stopping = true;
        }
        queueNotEmpty.notify_all();
        thread.join();
        // After the last commit; closing the writer connection then checkpoints what is left.
        stopCheckpointer();
    }

    // Transaction control through cached statements: a batch costs no SQL compilation at all.
    bool begin() { return writer->prepare("BEGIN IMMEDIATE").run(); }
    bool commit() { return writer->prepare("COMMIT").run(); }
    void rollback()
    {
        // Some errors (disk full, I/O) end the transaction themselves; a second ROLLBACK would only fail.
        if (writer->inTransaction() && !writer->prepare("ROLLBACK").run())
            spdlog::error("store: rollback failed");
        runCounts.clear();
    }

    bool apply(WriteOp &op) noexcept
    {
        try {
            return op.apply(*writer);
        } catch (const std::exception &e) {
            spdlog::error("store: a write operation threw: {}", e.what());
        } catch (...) {
            spdlog::error("store: a write operation threw");
        }
        return false;
    }

    // Group commit: all of `ops` in one transaction; if anything fails, each op again in its own transaction
    // so that one bad write fails alone.
    void commitBatch(std::vector<WriteOp> &ops, std::vector<char> &committed)
    {
        committed.assign(ops.size(), 0);
        if (begin()) {
            bool good = true;
            for (WriteOp &op : ops) {
                if (!apply(op)) {
                    good = false;
                    break;
                }
            }
            if (good && commit()) {
                std::fill(committed.begin(), committed.end(), 1);
                commitCount.fetch_add(1, std::memory_order_relaxed);
                writeCount.fetch_add(ops.size(), std::memory_order_relaxed);
                return;
            }
            rollback();
        }
        if (ops.size() == 1)
            return;
        spdlog::warn("store: a batch of {} writes failed; retrying them one per transaction", ops.size());
        for (std::size_t i = 0; i < ops.size(); ++i) {
            if (!begin())
                continue;
            if (apply(ops[i]) && commit()) {
                committed[i] = 1;
                commitCount.fetch_add(1, std::memory_order_relaxed);
                writeCount.fetch_add(1, std::memory_order_relaxed);
            }
            else
                rollback();
        }
    }

    void writerLoop()
    {
        std::vector<WriteOp> batch;
        std::vector<char> committed;
        batch.reserve(options.maxBatch);
        committed.reserve(options.maxBatch);
        for (;;) {
            {
                std::unique_lock lock(queueMutex);
                queueNotEmpty.wait(lock, [this] { return !queue.empty() || stopping; });
                if (queue.empty())
                    return; // stopping, and everything queued before has been written
                const std::size_t n = std::min(queue.size(), options.maxBatch);
                for (std::size_t i = 0; i < n; ++i) {
                    batch.push_back(std::move(queue.front()));
                    queue.pop_front();
                }
            }
            queueNotFull.notify_all();

            commitBatch(batch, committed);
            // Outside every lock: a callback may queue more writes.
            for (std::size_t i = 0; i < batch.size(); ++i)
                callDone(batch[i].done, committed[i] != 0);
            {
                std::lock_guard lock(queueMutex);
                completed += batch.size();
            }
            progress.notify_all();
            batch.clear();
            finishCheckpoint();
        }
    }

    void threadMain() noexcept
    {
#if defined(__linux__)
        (void)pthread_setname_np(pthread_self(), "store-writer"); // cosmetic: names the thread in debuggers
#endif
        try {
            writerLoop();
            return;
        } catch (const std::exception &e) {
            spdlog::critical("store: the writer thread failed: {}; further writes fail", e.what());
        } catch (...) {
            spdlog::critical("store: the writer thread failed; further writes fail");
        }
        // Fail what is still queued rather than leave flush() and back-pressured callers waiting forever.
        // Ops that were in the failed batch are lost without a callback; this path means memory ran out.
        std::deque<WriteOp> orphans;
        {
            std::lock_guard lock(queueMutex);
            broken = true;
            orphans.swap(queue);
            completed = enqueued;
        }
        queueNotFull.notify_all();
        progress.notify_all();
        for (WriteOp &op : orphans)
            callDone(op.done, false);
    }

    // Decides how listRuns reaches the rows (see kSinceProbeRows).
    RunListPlan planRunList(Connection &db, const RunQuery &query)
    {
        RunListPlan plan;
        if (query.modifiedAfterNs) {
            auto probe = db.prepare(kSinceProbe);
            probe.bind(1, query.org).bind(2, *query.modifiedAfterNs).bind(3, kSinceProbeRows);
            plan.viaModifiedIndex = probe.step() == Statement::Step::Row && probe.int64(0) < kSinceProbeRows;
        }
        plan.sql = buildRunListSql(query, plan.viaModifiedIndex);
        return plan;
    }
};

Store::Store() : m_impl(std::make_unique<Impl>()) {}

Store::~Store()
{
    // Drains the queue (every queued write is committed and called back), then closes the connections.
    if (m_impl)
        m_impl->stopWriter();
}

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path &file, StoreOptions options)
{
    options.maxBatch = std::max<std::size_t>(options.maxBatch, 1);
    options.readConnections = std::max<std::size_t>(options.readConnections, 1);
    options.maxQueuedWrites = std::max<std::size_t>(options.maxQueuedWrites, 1);

    if (file.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(file.parent_path(), ec);
        if (ec)
            return ApiError::internal("cannot create the directory " + file.parent_path().string() + ": " +
                                      ec.message());
    }

    auto writer = Connection::open(file, Connection::Mode::ReadWrite);
    if (!writer)
        return writer.error();
    Connection &db = **writer;

    int rc = sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs);
    if (rc != SQLITE_OK)
        return ApiError::internal("cannot set the busy timeout of " + file.string() + ": " +
                                  db.errorMessage());
    // Migrate (or refuse a too-new file) before switching the journal mode, so that a refused file is left as
    // it was found.
    auto version = migrate(db);
    if (!version)
        return version.error();

    {
        auto mode = db.prepare("PRAGMA journal_mode = WAL");
        if (mode.step() != Statement::Step::Row)
            return ApiError::internal("cannot open " + file.string() + ": " + db.errorMessage());
        // Some file systems (network shares) cannot do WAL; SQLite then keeps the old mode. Readers still
        // work, they just wait for the writer more often.
        if (const std::string journal = mode.text(0); journal != "wal")
            spdlog::warn("store: {} stays in journal mode '{}' (WAL unavailable)", file.string(), journal);
    }
    std::string error;
    // synchronous=NORMAL in WAL mode: commits are not synced one by one, so a power loss may drop the last
    // commits but never corrupts the file. journal_size_limit shrinks the WAL again after a burst.
    // secure_delete (on in some distribution builds) would rewrite every freed byte, which only slows
    // trimming down.
    if (!db.exec(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = 67108864; "
            "PRAGMA secure_delete = OFF; PRAGMA cache_size = -32768",
            error))
        return ApiError::internal("cannot configure " + file.string() + ": " + error);

    std::unique_ptr<Store> store(new Store());
    Impl &impl = *store->m_impl;
    impl.options = options;
    impl.schemaVersion = *version;
    impl.writer = std::move(*writer);

    for (std::size_t i = 0; i < options.readConnections; ++i) {
        auto reader = Connection::open(file, Connection::Mode::ReadOnly);
        if (!reader)
            return reader.error();
        Connection &r = **reader;
        rc = sqlite3_busy_timeout(r.handle(), kBusyTimeoutMs);
        if (rc != SQLITE_OK)
            return ApiError::internal("cannot set the busy timeout of " + file.string() + ": " +
                                      r.errorMessage());
        if (!r.exec("PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384", error))
            return ApiError::internal("cannot configure a reader of " + file.string() + ": " + error);
        impl.freeReaders.push_back(reader->get());
        impl.readers.push_back(std::move(*reader));
    }

    auto checkpointer = Connection::open(file, Connection::Mode::ReadWrite);
    if (!checkpointer)
        return checkpointer.error();
    rc = sqlite3_busy_timeout((*checkpointer)->handle(), kBusyTimeoutMs);
    if (rc != SQLITE_OK)
        return ApiError::internal("cannot set the busy timeout of " + file.string() + ": " +
                                  (*checkpointer)->errorMessage());
    // A connection opens the WAL only with its first transaction; until then a checkpoint would do nothing.
    if (!(*checkpointer)->exec("PRAGMA cache_size = -1024; SELECT count(*) FROM sqlite_schema", error))
        return ApiError::internal("cannot open the checkpoint connection of " + file.string() + ": " + error);
    impl.checkpointer = std::move(*checkpointer);
    // Replaces SQLite's automatic checkpoint (which shares this hook) on the writer connection.
    sqlite3_wal_hook(impl.writer->handle(), &Impl::onWalCommit, &impl);

    try {
        impl.checkpointThread = std::thread([&impl] { impl.checkpointLoop(); });
        impl.thread = std::thread([&impl] { impl.threadMain(); });
    } catch (const std::system_error &e) {
        return ApiError::internal(std::string("cannot start the database writer thread: ") + e.what());
    }
    return store;
}

int Store::schemaVersion() const
{
    return m_impl->schemaVersion;
}

// ---- entities ----

std::vector<EntityRow> Store::loadEntities(const std::string &kind)
{
    Impl::ReaderLease db(*m_impl);
    auto stmt = db->prepare(kind.empty() ? kLoadEntities : kLoadEntitiesOfKind);
    if (!kind.empty())
        stmt.bind(1, kind);
    std::vector<EntityRow> rows;
    for (;;) {
        switch (stmt.step()) {
        case Statement::Step::Row:
            rows.push_back(EntityRow{stmt.text(0), stmt.text(1), stmt.text(2), stmt.text(3)});
            continue;
        case Statement::Step::Finished:
            return rows;
        case Statement::Step::Error:
            return {};
        }
    }
}

void Store::putEntity(EntityRow row, Done done)
{
    m_impl->enqueue(
        [row = std::move(row)](Connection &db) {
            return db.prepare(kPutEntity)
                .bind(1, row.kind)
                .bind(2, row.org)
                .bind(3, row.name)
                .bind(4, row.json)
                .run();
        },
        std::move(done));
}

void Store::deleteEntity(std::string kind, std::string org, std::string name, Done done)
{
    m_impl->enqueue(
        [kind = std::move(kind), org = std::move(org), name = std::move(name)](Connection &db) {
            return db.prepare(kDeleteEntity).bind(1, kind).bind(2, org).bind(3, name).run();
        },
        std::move(done));
}

// ---- runs ----

void Store::putRun(RunRow row, Done done)
{
    m_impl->enqueue(
        [impl = m_impl.get(), row = std::move(row)](Connection &db) {
            // An upsert that updates leaves last_insert_rowid alone; an insert always takes a new seq.
            const sqlite3_int64 lastSeq = sqlite3_last_insert_rowid(db.handle());
            const bool ok = db.prepare(kPutRun)
                                .bind(1, row.id)
                                .bind(2, row.org)
                                .bind(3, row.function)
                                .bind(4, row.status)
                                .bind(5, row.executedNs)
                                .bind(6, row.finishedNs)
                                .bind(7, row.modifiedNs)
                                .bind(8, row.json)
                                .run();
            if (ok && sqlite3_last_insert_rowid(db.handle()) != lastSeq && !impl->runCounts.empty())
                if (auto it = impl->runCounts.find(impl->runCountKey(row.org, row.function));
                    it != impl->runCounts.end())
                    ++it->second;
            return ok;
        },
        std::move(done));
}

void Store::deleteRunsOfFunction(std::string org, std::string function, Done done)
{
    m_impl->enqueue(
        [impl = m_impl.get(), org = std::move(org), function = std::move(function)](Connection &db) {
            impl->runCounts.erase(impl->runCountKey(org, function));
            return db.prepare(kDeleteRunsOfFunction).bind(1, org).bind(2, function).run();
        },
        std::move(done));
}

void Store::trimRuns(std::string org, std::string function, std::size_t keep, Done done)
{
    m_impl->enqueue(
        [impl = m_impl.get(), org = std::move(org), function = std::move(function), keep](Connection &db) {
            const std::string key = impl->runCountKey(org, function);
            auto it = impl->runCounts.find(key);
            if (it == impl->runCounts.end()) {
                auto count = db.prepare(kCountRunsOfFunction);
                count.bind(1, org).bind(2, function);
                if (count.step() != Statement::Step::Row)
                    return false;
                it = impl->runCounts.emplace(key, count.int64(0)).first;
            }
            const int64_t excess = it->second - toInt64(keep);
            if (excess <= 0)
                return true;
            if (!db.prepare(kTrimOldestRuns).bind(1, org).bind(2, function).bind(3, excess).run())
                return false;
            it->second -= sqlite3_changes(db.handle());
            return true;
        },
        std::move(done));
}

std::vector<std::string> Store::listRuns(const RunQuery &query)
{
    Impl::ReaderLease db(*m_impl);

    int64_t cursorExecutedNs = 0;
    int64_t cursorSeq = 0;
    if (query.beforeRunId) {
        auto position = db->prepare(kRunPosition);
        position.bind(1, *query.beforeRunId).bind(2, query.org);
        if (position.step() != Statement::Step::Row)
            return {}; // an unknown cursor names no position: nothing is "after" it
        cursorExecutedNs = position.int64(0);
        cursorSeq = position.int64(1);
    }

    const RunListPlan plan = m_impl->planRunList(*db, query);
    auto stmt = db->prepare(plan.sql);
    bindRunListParameters(stmt, query, cursorExecutedNs, cursorSeq);
    std::vector<std::string> runs;
    if (query.limit > 0)
        runs.reserve(std::min<std::size_t>(query.limit, 1024));
    for (;;) {
        switch (stmt.step()) {
        case Statement::Step::Row:
            runs.push_back(stmt.text(0));
            continue;
        case Statement::Step::Finished:
            return runs;
        case Statement::Step::Error:
            return {};
        }
    }
}

std::vector<std::string> Store::explainListRuns(const RunQuery &query)
{
    Impl::ReaderLease db(*m_impl);
    const RunListPlan plan = m_impl->planRunList(*db, query);
    auto stmt = db->prepare("EXPLAIN QUERY PLAN " + plan.sql);
    std::vector<std::string> lines;
    while (stmt.step() == Statement::Step::Row)
        lines.push_back(stmt.text(3));
    return lines;
}

std::vector<std::string> Store::explainTrimRuns()
{
    Impl::ReaderLease db(*m_impl);
    std::string sql = "EXPLAIN QUERY PLAN ";
    sql.append(kTrimOldestRuns);
    auto stmt = db->prepare(sql);
    stmt.bind(1, std::string_view("o")).bind(2, std::string_view("f")).bind(3, int64_t{1});
    std::vector<std::string> lines;
    while (stmt.step() == Statement::Step::Row)
        lines.push_back(stmt.text(3));
    return lines;
}

std::optional<std::string> Store::getRun(const std::string &org, const std::string &id)
{
    Impl::ReaderLease db(*m_impl);
    auto stmt = db->prepare(kGetRun);
    stmt.bind(1, id).bind(2, org);
    if (stmt.step() != Statement::Step::Row)
        return std::nullopt;
    return stmt.text(0);
}

std::size_t Store::countRuns(const std::string &org)
{
    Impl::ReaderLease db(*m_impl);
    auto stmt = db->prepare(org.empty() ? kCountRuns : kCountRunsOfOrg);
    if (!org.empty())
        stmt.bind(1, org);
    if (stmt.step() != Statement::Step::Row)
        return 0;
    return static_cast<std::size_t>(stmt.int64(0));
}

// ---- sources ----

void Store::putSource(std::string org, std::string function, std::string revision, int64_t createdNs,
                      std::string tarGz, Done done)
{
    m_impl->enqueue(
        [org = std::move(org), function = std::move(function), revision = std::move(revision), createdNs,
         tarGz = std::move(tarGz)](Connection &db) {
            return db.prepare(kPutSource)
                .bind(1, org)
                .bind(2, function)
                .bind(3, revision)
                .bind(4, createdNs)
                .bindBlob(5, tarGz)
                .run();
        },
        std::move(done));
}

std::optional<std::string> Store::getSource(const std::string &org, const std::string &function,
                                            const std::string &revision)
{
    Impl::ReaderLease db(*m_impl);
    auto stmt = db->prepare(kGetSource);
    stmt.bind(1, org).bind(2, function).bind(3, revision);
    if (stmt.step() != Statement::Step::Row)
        return std::nullopt;
    return stmt.blob(0);
}

std::vector<Store::RevisionInfo> Store::listRevisions(const std::string &org, const std::string &function)
{
    Impl::ReaderLease db(*m_impl);
    auto stmt = db->prepare(kListRevisions);
    stmt.bind(1, org).bind(2, function);
    std::vector<RevisionInfo> revisions;
    for (;;) {
        switch (stmt.step()) {
        case Statement::Step::Row:
            revisions.push_back(RevisionInfo{stmt.text(0), stmt.int64(1)});
            continue;
        case Statement::Step::Finished:
            return revisions;
        case Statement::Step::Error:
            return {};
        }
    }
}

void Store::deleteSources(std::string org, std::string function, Done done)
{
    m_impl->enqueue(
        [org = std::move(org), function = std::move(function)](Connection &db) {
            return db.prepare(kDeleteSources).bind(1, org).bind(2, function).run();
        },
        std::move(done));
}

// ---- meta ----

std::optional<std::string> Store::getMeta(const std::string &key)
{
    Impl::ReaderLease db(*m_impl);
    auto stmt = db->prepare(kGetMeta);
    stmt.bind(1, key);
    if (stmt.step() != Statement::Step::Row)
        return std::nullopt;
    return stmt.text(0);
}

void Store::putMeta(std::string key, std::string value, Done done)
{
    m_impl->enqueue([key = std::move(key), value = std::move(value)](
                        Connection &db) { return db.prepare(kPutMeta).bind(1, key).bind(2, value).run(); },
                    std::move(done));
}

// ---- run statistics ----

void Store::addStats(StatsBatch batch, Done done)
{
    m_impl->enqueue(
        [batch = std::move(batch)](Connection &db) {
            for (const StatsRow &row : batch.minutes) {
                auto stmt = db.prepare(statsSql(StatsTable::Minute).upsert);
                if (!bindStatsRow(stmt, row))
                    return false;
            }
            for (const StatsRow &row : batch.hours) {
                auto stmt = db.prepare(statsSql(StatsTable::Hour).upsert);
                if (!bindStatsRow(stmt, row))
                    return false;
            }
            std::vector<std::pair<std::string_view, std::string_view>> touched;
            for (const ErrorGroupRow &g : batch.errors) {
                if (!db.prepare(kAddErrorGroup)
                         .bind(1, g.org)
                         .bind(2, g.function)
                         .bind(3, g.type)
                         .bind(4, static_cast<int64_t>(g.messageHash))
                         .bind(5, g.message)
                         .bind(6, g.count)
                         .bind(7, g.firstNs)
                         .bind(8, g.lastNs)
                         .run())
                    return false;
                touched.emplace_back(g.org, g.function);
            }
            std::sort(touched.begin(), touched.end());
            touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
            for (const auto &[org, function] : touched) {
                if (!db.prepare(kTrimErrorGroups)
                         .bind(1, org)
                         .bind(2, function)
                         .bind(3, toInt64(batch.maxErrorGroupsPerFunction))
                         .run())
                    return false;
            }
            const std::string epoch = std::to_string(batch.epoch);
            return db.prepare(kPutMeta).bind(1, kStatsEpochKey).bind(2, epoch).run();
        },
        std::move(done));
}

void Store::deleteStatsBefore(int64_t minuteBefore, int64_t hourBefore, int64_t errorsBeforeNs, Done done)
{
    m_impl->enqueue(
        [minuteBefore, hourBefore, errorsBeforeNs](Connection &db) {
            return db.prepare(statsSql(StatsTable::Minute).deleteBefore).bind(1, minuteBefore).run() &&
                   db.prepare(statsSql(StatsTable::Hour).deleteBefore).bind(1, hourBefore).run() &&
                   db.prepare(kDeleteErrorGroupsBefore).bind(1, errorsBeforeNs).run();
        },
        std::move(done));
}

namespace {

// One read transaction on a leased reader: the statements inside see one snapshot.
class ReadTransaction
{
public:
    explicit ReadTransaction(Connection &db) : m_db(db), m_open(db.prepare("BEGIN").run()) {}
    ~ReadTransaction()
    {
        if (m_open && !m_db.prepare("COMMIT").run())
            spdlog::error("store: ending a read transaction failed");
    }
    ReadTransaction(const ReadTransaction &) = delete;
    ReadTransaction &operator=(const ReadTransaction &) = delete;
    bool open() const { return m_open; }

private:
    Connection &m_db;
    bool m_open;
};

bool readEpoch(Connection &db, uint64_t &epoch)
{
    auto stmt = db.prepare(kGetMeta);
    stmt.bind(1, kStatsEpochKey);
    switch (stmt.step()) {
    case Statement::Step::Row:
        epoch = parseEpoch(stmt.text(0));
        return true;
    case Statement::Step::Finished:
        epoch = 0;
        return true;
    case Statement::Step::Error:
        break;
    }
    return false;
}

} // namespace

StatsRead Store::readStats(StatsTable table, const std::string &org, const std::string &function,
                           int64_t fromSeconds, int64_t toSeconds)
{
    Impl::ReaderLease db(*m_impl);
    ReadTransaction transaction(*db);
    StatsRead out;
    if (!transaction.open() || !readEpoch(*db, out.epoch))
        return out;
    auto stmt = db->prepare(statsSql(table).select);
    stmt.bind(1, org).bind(2, function).bind(3, fromSeconds).bind(4, toSeconds);
    for (;;) {
        switch (stmt.step()) {
        case Statement::Step::Row:
            out.rows.push_back(readStatsRow(stmt, org, function));
            continue;
        case Statement::Step::Finished:
            out.ok = true;
            return out;
        case Statement::Step::Error:
            out.rows.clear();
            return out;
        }
    }
}

ErrorGroupsRead Store::readErrorGroups(const std::string &org, const std::optional<std::string> &function,
                                       int64_t fromNs, int64_t toNs)
{
    Impl::ReaderLease db(*m_impl);
    ReadTransaction transaction(*db);
    ErrorGroupsRead out;
    if (!transaction.open() || !readEpoch(*db, out.epoch))
        return out;
    auto stmt = db->prepare(function ? kReadErrorGroupsOfFunction : kReadErrorGroupsOfOrg);
    stmt.bind(1, org).bind(3, fromNs).bind(4, toNs);
    if (function)
        stmt.bind(2, *function);
    for (;;) {
        switch (stmt.step()) {
        case Statement::Step::Row:
            out.rows.push_back(ErrorGroupRow{stmt.text(0), stmt.text(1), stmt.text(2),
                                             static_cast<uint64_t>(stmt.int64(3)), stmt.text(4), stmt.int64(5),
                                             stmt.int64(6), stmt.int64(7)});
            continue;
        case Statement::Step::Finished:
            out.ok = true;
            return out;
        case Statement::Step::Error:
            out.rows.clear();
            return out;
        }
    }
}

uint64_t Store::statsEpoch()
{
    Impl::ReaderLease db(*m_impl);
    uint64_t epoch = 0;
    return readEpoch(*db, epoch) ? epoch : 0;
}

void Store::flush()
{
    m_impl->flush();
}

std::size_t Store::queuedWrites() const
{
    return m_impl->queuedWrites();
}

uint64_t Store::commits() const
{
    return m_impl->commitCount.load(std::memory_order_relaxed);
}

uint64_t Store::committedWrites() const
{
    return m_impl->writeCount.load(std::memory_order_relaxed);
}

uint64_t Store::checkpoints() const
{
    return m_impl->checkpointCount.load(std::memory_order_relaxed);
}

uint64_t Store::walPagesWritten() const
{
    return m_impl->walFrames.load(std::memory_order_relaxed);
}

uint64_t Store::walPages() const
{
    return m_impl->walPagesNow.load(std::memory_order_relaxed);
}

} // namespace dispatch::store
