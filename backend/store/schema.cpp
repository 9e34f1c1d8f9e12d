// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/schema.h"

#include "store/connection.h"

#include <iterator>
#include <spdlog/spdlog.h>
#include <string>

namespace dispatch::store {

namespace {

struct Migration
{
    int version;
    const char *sql;
};

// Append only: a released migration never changes, a schema change is a new entry.
//
// runs: `seq` gives every run a stable position among runs executed in the same nanosecond, so newest-first
// paging is a total order. The two "executed" indexes carry status and modified_ns so that filters on them
// are decided inside the index; the table row is only read for rows that are returned.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE entities(
    kind TEXT NOT NULL,
    org  TEXT NOT NULL,
    name TEXT NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY(kind, org, name)
) WITHOUT ROWID, STRICT;

CREATE TABLE runs(
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT UNIQUE NOT NULL,
    org         TEXT NOT NULL,
    function    TEXT NOT NULL,
    status      TEXT NOT NULL,
    executed_ns INTEGER NOT NULL,
    finished_ns INTEGER NOT NULL,
    modified_ns INTEGER NOT NULL,
    json        TEXT NOT NULL
) STRICT;
CREATE INDEX runs_org_executed ON runs(org, executed_ns DESC, seq DESC, status, modified_ns);
CREATE INDEX runs_org_function_executed ON runs(org, function, executed_ns DESC, seq DESC, status, modified_ns);
CREATE INDEX runs_org_modified ON runs(org, modified_ns);

CREATE TABLE sources(
    org        TEXT NOT NULL,
    function   TEXT NOT NULL,
    revision   TEXT NOT NULL,
    created_ns INTEGER NOT NULL,
    targz      BLOB NOT NULL,
    PRIMARY KEY(org, function, revision)
) STRICT;

CREATE TABLE meta(
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID, STRICT;
)sql"},
    // Run statistics (backend/stats/): rollups per (org, function, minute|hour), kept up to date as runs
    // finish. `function` '' holds the org's total over every function. `minute`/`hour` is the Unix second the
    // bucket starts at. h0..h24 are the duration histogram (stats/durationhistogram.h: h<k> counts durations
    // up to 0.1 ms * 2^k, h24 the longer ones). stats_errors groups failed runs by (type, message).
    {2, R"sql(
CREATE TABLE stats_minute(
    org             TEXT NOT NULL,
    function        TEXT NOT NULL,
    minute          INTEGER NOT NULL,
    count           INTEGER NOT NULL,
    ready           INTEGER NOT NULL,
    error           INTEGER NOT NULL,
    input_errors    INTEGER NOT NULL,
    function_errors INTEGER NOT NULL,
    system_errors   INTEGER NOT NULL,
    cold_starts     INTEGER NOT NULL,
    duration_sum_ns INTEGER NOT NULL,
    h0 INTEGER NOT NULL DEFAULT 0, h1 INTEGER NOT NULL DEFAULT 0, h2 INTEGER NOT NULL DEFAULT 0,
    h3 INTEGER NOT NULL DEFAULT 0, h4 INTEGER NOT NULL DEFAULT 0, h5 INTEGER NOT NULL DEFAULT 0,
    h6 INTEGER NOT NULL DEFAULT 0, h7 INTEGER NOT NULL DEFAULT 0, h8 INTEGER NOT NULL DEFAULT 0,
    h9 INTEGER NOT NULL DEFAULT 0, h10 INTEGER NOT NULL DEFAULT 0, h11 INTEGER NOT NULL DEFAULT 0,
    h12 INTEGER NOT NULL DEFAULT 0, h13 INTEGER NOT NULL DEFAULT 0, h14 INTEGER NOT NULL DEFAULT 0,
    h15 INTEGER NOT NULL DEFAULT 0, h16 INTEGER NOT NULL DEFAULT 0, h17 INTEGER NOT NULL DEFAULT 0,
    h18 INTEGER NOT NULL DEFAULT 0, h19 INTEGER NOT NULL DEFAULT 0, h20 INTEGER NOT NULL DEFAULT 0,
    h21 INTEGER NOT NULL DEFAULT 0, h22 INTEGER NOT NULL DEFAULT 0, h23 INTEGER NOT NULL DEFAULT 0,
    h24 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY(org, function, minute)
) WITHOUT ROWID, STRICT;
CREATE INDEX stats_minute_time ON stats_minute(minute);

CREATE TABLE stats_hour(
    org             TEXT NOT NULL,
    function        TEXT NOT NULL,
    hour            INTEGER NOT NULL,
    count           INTEGER NOT NULL,
    ready           INTEGER NOT NULL,
    error           INTEGER NOT NULL,
    input_errors    INTEGER NOT NULL,
    function_errors INTEGER NOT NULL,
    system_errors   INTEGER NOT NULL,
    cold_starts     INTEGER NOT NULL,
    duration_sum_ns INTEGER NOT NULL,
    h0 INTEGER NOT NULL DEFAULT 0, h1 INTEGER NOT NULL DEFAULT 0, h2 INTEGER NOT NULL DEFAULT 0,
    h3 INTEGER NOT NULL DEFAULT 0, h4 INTEGER NOT NULL DEFAULT 0, h5 INTEGER NOT NULL DEFAULT 0,
    h6 INTEGER NOT NULL DEFAULT 0, h7 INTEGER NOT NULL DEFAULT 0, h8 INTEGER NOT NULL DEFAULT 0,
    h9 INTEGER NOT NULL DEFAULT 0, h10 INTEGER NOT NULL DEFAULT 0, h11 INTEGER NOT NULL DEFAULT 0,
    h12 INTEGER NOT NULL DEFAULT 0, h13 INTEGER NOT NULL DEFAULT 0, h14 INTEGER NOT NULL DEFAULT 0,
    h15 INTEGER NOT NULL DEFAULT 0, h16 INTEGER NOT NULL DEFAULT 0, h17 INTEGER NOT NULL DEFAULT 0,
    h18 INTEGER NOT NULL DEFAULT 0, h19 INTEGER NOT NULL DEFAULT 0, h20 INTEGER NOT NULL DEFAULT 0,
    h21 INTEGER NOT NULL DEFAULT 0, h22 INTEGER NOT NULL DEFAULT 0, h23 INTEGER NOT NULL DEFAULT 0,
    h24 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY(org, function, hour)
) WITHOUT ROWID, STRICT;
CREATE INDEX stats_hour_time ON stats_hour(hour);

CREATE TABLE stats_errors(
    org          TEXT NOT NULL,
    function     TEXT NOT NULL,
    error_type   TEXT NOT NULL,
    message_hash INTEGER NOT NULL,
    message      TEXT NOT NULL,
    count        INTEGER NOT NULL,
    first_ns     INTEGER NOT NULL,
    last_ns      INTEGER NOT NULL,
    PRIMARY KEY(org, function, error_type, message_hash)
) STRICT;
CREATE INDEX stats_errors_function_last ON stats_errors(org, function, last_ns);
CREATE INDEX stats_errors_last ON stats_errors(last_ns);
)sql"},
};

static_assert(std::size(kMigrations) > 0 && std::end(kMigrations)[-1].version == kSchemaVersion,
              "the last migration must produce kSchemaVersion");

Result<int> userVersion(Connection &db)
{
    auto stmt = db.prepare("PRAGMA user_version");
    if (stmt.step() != Statement::Step::Row)
        return ApiError::internal("cannot read the database schema version: " + db.errorMessage());
    return static_cast<int>(stmt.int64(0));
}

ApiError tooNew(int version)
{
    return ApiError::internal("database schema version " + std::to_string(version) +
                              " is newer than this server supports (" + std::to_string(kSchemaVersion) +
                              "); upgrade dispatch-server");
}

void rollback(Connection &db)
{
    // A failed statement may already have ended the transaction; ROLLBACK would then fail for no reason.
    if (!db.inTransaction())
        return;
    std::string error;
    if (!db.exec("ROLLBACK", error))
        spdlog::warn("store: rollback of a failed migration failed: {}", error);
}

} // namespace

Result<int> migrate(Connection &db)
{
    auto initial = userVersion(db);
    if (!initial)
        return initial.error();
    if (*initial > kSchemaVersion)
        return tooNew(*initial);

    for (const Migration &migration : kMigrations) {
        if (migration.version <= *initial)
            continue;
        std::string error;
        // IMMEDIATE takes the write lock first, so a second process migrating at the same time waits and then
        // sees our version instead of applying the same migration twice.
        if (!db.exec("BEGIN IMMEDIATE", error))
            return ApiError::internal("cannot start the schema migration: " + error);
        auto current = userVersion(db);
        if (!current) {
            rollback(db);
            return current.error();
        }
        if (*current > kSchemaVersion) {
            rollback(db);
            return tooNew(*current);
        }
        if (*current >= migration.version) {
            rollback(db);
            continue;
        }
        const std::string setVersion = "PRAGMA user_version = " + std::to_string(migration.version);
        if (!db.exec(migration.sql, error) || !db.exec(setVersion.c_str(), error)) {
            rollback(db);
            return ApiError::internal("migrating the database schema to version " +
                                      std::to_string(migration.version) + " failed: " + error);
        }
        if (!db.exec("COMMIT", error)) {
            rollback(db);
            return ApiError::internal("committing the database schema version " +
                                      std::to_string(migration.version) + " failed: " + error);
        }
        spdlog::info("store: database schema migrated to version {}", migration.version);
    }

    auto result = userVersion(db);
    if (!result)
        return result.error();
    return *result;
}

} // namespace dispatch::store
