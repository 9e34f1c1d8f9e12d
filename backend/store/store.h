// Persistent state in one SQLite file (WAL). One writer thread owns the only write connection and commits
// queued operations in batched transactions (group commit); reads use a small pool of read-only connections.
// The schema carries a version (PRAGMA user_version) and is migrated inside a transaction on open.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace dispatch::store {

// Called on the writer thread after the batch holding the operation committed (true) or failed (false).
// Keep it short: post real work elsewhere.
using Done = std::function<void(bool committed)>;

struct EntityRow
{
    std::string kind; // "BaseImage", "Image", "Function", "Secret", "API", "DriverType", "Driver", "Subscription", ...
    std::string org;
    std::string name;
    std::string json; // the stored document
};

struct RunRow
{
    std::string id; // uuid
    std::string org;
    std::string function;
    std::string status;
    int64_t executedNs = 0;
    int64_t finishedNs = 0;
    int64_t modifiedNs = 0; // last change; `since` filters on it
    std::string json;       // the whole Run document
};

struct RunQuery
{
    std::string org;
    std::optional<std::string> function;
    std::optional<int64_t> modifiedAfterNs; // Dispatch `since`
    std::optional<std::string> status;
    std::optional<int64_t> executedFromNs;   // inclusive
    std::optional<int64_t> executedBeforeNs; // exclusive
    // Newest first paging (extension): at most `limit` rows (0 = no limit) strictly older than the
    // cursor (the run id of the last row of the previous page; its (executed, seq) position is used).
    std::size_t limit = 0;
    std::optional<std::string> beforeRunId;
};

// Run statistics rows: the counts of one bucket (a delta when written, the stored value when read).
inline constexpr std::size_t kStatsHistogramColumns = 25; // h0..h24

enum class StatsTable
{
    Minute,
    Hour,
};

struct StatsRow
{
    std::string org;
    std::string function; // "" = every function of the org
    int64_t time = 0;     // Unix seconds at the start of the minute or hour
    int64_t count = 0;
    int64_t ready = 0;
    int64_t error = 0;
    int64_t inputErrors = 0;
    int64_t functionErrors = 0;
    int64_t systemErrors = 0;
    int64_t coldStarts = 0;
    int64_t durationSumNs = 0;
    std::array<int64_t, kStatsHistogramColumns> histogram{};
};

struct ErrorGroupRow
{
    std::string org;
    std::string function;
    std::string type;
    uint64_t messageHash = 0;
    std::string message;
    int64_t count = 0;
    int64_t firstNs = 0;
    int64_t lastNs = 0;
};

struct StatsBatch
{
    uint64_t epoch = 0; // increases with every batch; readers learn which batches a snapshot holds
    std::vector<StatsRow> minutes;
    std::vector<StatsRow> hours;
    std::vector<ErrorGroupRow> errors;
    std::size_t maxErrorGroupsPerFunction = 1000;
};

struct StatsRead
{
    bool ok = false;
    uint64_t epoch = 0;
    std::vector<StatsRow> rows;
};

struct ErrorGroupsRead
{
    bool ok = false;
    uint64_t epoch = 0;
    std::vector<ErrorGroupRow> rows;
};

struct StoreOptions
{
    std::size_t maxBatch = 2048;  // operations per transaction
    std::size_t readConnections = 4;
    // Back-pressure: a write call blocks while this many operations wait (except on the writer thread itself,
    // i.e. from a Done callback, which never blocks).
    std::size_t maxQueuedWrites = 1 << 18;
    // The WAL size (4 KiB pages) at which the checkpoint thread copies it into the database file.
    std::size_t checkpointPages = 8192;
};

class Store
{
public:
    static Result<std::unique_ptr<Store>> open(const std::filesystem::path &file, StoreOptions options = {});
    ~Store(); // drains the writer queue, then closes
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    int schemaVersion() const;

    // Entities (synchronous read of everything at start-up; writes are queued).
    std::vector<EntityRow> loadEntities(const std::string &kind = {});
    void putEntity(EntityRow row, Done done = {});
    void deleteEntity(std::string kind, std::string org, std::string name, Done done = {});

    // Runs.
    void putRun(RunRow row, Done done = {}); // insert or replace by id
    void deleteRunsOfFunction(std::string org, std::string function, Done done = {});
    // Keeps the newest `keep` runs of a function; older ones are deleted (retention).
    void trimRuns(std::string org, std::string function, std::size_t keep, Done done = {});
    std::vector<std::string> listRuns(const RunQuery &query); // JSON documents, newest first
    // Diagnostics and tests: the EXPLAIN QUERY PLAN lines of the statement listRuns would run for `query`.
    std::vector<std::string> explainListRuns(const RunQuery &query);
    // The query plan of the DELETE that trimRuns uses (tests check it walks the index, not the table).
    std::vector<std::string> explainTrimRuns();
    std::optional<std::string> getRun(const std::string &org, const std::string &id);
    std::size_t countRuns(const std::string &org = {});

    // Function source revisions (the tar.gz as uploaded).
    void putSource(std::string org, std::string function, std::string revision, int64_t createdNs,
                   std::string tarGz, Done done = {});
    std::optional<std::string> getSource(const std::string &org, const std::string &function,
                                         const std::string &revision);
    struct RevisionInfo
    {
        std::string revision;
        int64_t createdNs = 0;
    };
    // Oldest first (by createdNs, then revision).
    std::vector<RevisionInfo> listRevisions(const std::string &org, const std::string &function);
    void deleteSources(std::string org, std::string function, Done done = {});

    // Key/value settings of the server itself (e.g. the event cursor).
    std::optional<std::string> getMeta(const std::string &key);
    void putMeta(std::string key, std::string value, Done done = {});

    // Run statistics (the rollups of backend/stats/; their meaning is documented there).
    // Adds every row of `batch` to the stored rows (creating missing ones) and records batch.epoch, all in
    // one transaction; then trims each touched function to the newest maxErrorGroupsPerFunction groups.
    void addStats(StatsBatch batch, Done done = {});
    // Deletes minute rows older than `minuteBefore`, hour rows older than `hourBefore` (Unix s) and error
    // groups last seen before `errorsBeforeNs`.
    void deleteStatsBefore(int64_t minuteBefore, int64_t hourBefore, int64_t errorsBeforeNs, Done done = {});
    // Rows of one (org, function) with fromSeconds <= time < toSeconds, oldest first, read in one snapshot
    // together with the epoch of the last batch that snapshot holds.
    StatsRead readStats(StatsTable table, const std::string &org, const std::string &function,
                        int64_t fromSeconds, int64_t toSeconds);
    // Error groups of the org (or of one function) seen between fromNs (inclusive) and toNs (exclusive).
    ErrorGroupsRead readErrorGroups(const std::string &org, const std::optional<std::string> &function,
                                    int64_t fromNs, int64_t toNs);
    uint64_t statsEpoch();

    // Blocks until everything queued so far is committed and its Done callbacks have returned (shutdown,
    // tests). Returns at once when called from a Done callback (the writer thread cannot wait for itself).
    void flush();
    std::size_t queuedWrites() const; // queued or in the transaction being committed
    // Counters since open: transactions committed by the writer and the writes they held (writes per commit is
    // the group-commit batch size).
    uint64_t commits() const;
    uint64_t committedWrites() const;
    uint64_t checkpoints() const;     // WAL checkpoints run (by the checkpoint thread)
    uint64_t walPagesWritten() const; // pages appended to the WAL by commits (4 KiB each)
    uint64_t walPages() const;        // pages in the WAL after the last commit (it starts over after checkpoints)

private:
    Store();
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace dispatch::store
