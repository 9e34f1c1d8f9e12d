// Persistent state in one SQLite file (WAL). One writer thread owns the only write connection and commits
// queued operations in batched transactions (group commit); reads use a small pool of read-only connections.
// The schema carries a version (PRAGMA user_version) and is migrated inside a transaction on open.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

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

struct StoreOptions
{
    std::size_t maxBatch = 2048;  // operations per transaction
    std::size_t readConnections = 4;
    // Back-pressure: a write call blocks while this many operations wait (except on the writer thread itself,
    // i.e. from a Done callback, which never blocks).
    std::size_t maxQueuedWrites = 1 << 18;
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
    std::vector<RevisionInfo> listRevisions(const std::string &org, const std::string &function); // oldest first
    void deleteSources(std::string org, std::string function, Done done = {});

    // Key/value settings of the server itself (e.g. the event cursor).
    std::optional<std::string> getMeta(const std::string &key);
    void putMeta(std::string key, std::string value, Done done = {});

    // Blocks until everything queued so far is committed and its Done callbacks have returned (shutdown, tests).
    // Returns at once when called from a Done callback (the writer thread cannot wait for itself).
    void flush();
    std::size_t queuedWrites() const; // queued or in the transaction being committed

private:
    Store();
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace dispatch::store
