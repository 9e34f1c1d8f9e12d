// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/connection.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

namespace dispatch::store {

Result<std::unique_ptr<Connection>> Connection::open(const std::filesystem::path &file, Mode mode)
{
    // NOMUTEX: a connection is only ever used by one thread at a time (the writer, or a reader lease).
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    flags |= mode == Mode::ReadWrite ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) : SQLITE_OPEN_READONLY;

    sqlite3 *db = nullptr;
    const int rc = sqlite3_open_v2(file.string().c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string message = "cannot open database " + file.string() + ": ";
        message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        // Even a failed open may allocate a handle that must be released.
        if (db != nullptr && sqlite3_close(db) != SQLITE_OK)
            spdlog::error("store: closing the failed handle of {} failed", file.string());
        return ApiError::internal(std::move(message));
    }
    return std::unique_ptr<Connection>(new Connection(db));
}

Connection::Connection(sqlite3 *db) : m_db(db) {}

Connection::~Connection()
{
    for (auto &[sql, stmt] : m_statements) {
        // sqlite3_finalize repeats the last step's error, already reported when it happened.
        sqlite3_finalize(stmt);
    }
    m_statements.clear();
    const int rc = sqlite3_close(m_db);
    if (rc != SQLITE_OK) {
        spdlog::error("store: closing the database failed: {} ({})", sqlite3_errmsg(m_db), rc);
        // Unfinalized statements we do not know about keep the handle alive; let SQLite close it when they
        // go.
        sqlite3_close_v2(m_db);
    }
}

bool Connection::exec(const char *sql, std::string &error)
{
    char *message = nullptr;
    const int rc = sqlite3_exec(m_db, sql, nullptr, nullptr, &message);
    if (rc == SQLITE_OK)
        return true;
    error = message != nullptr ? message : sqlite3_errstr(rc);
    error += " (" + std::to_string(rc) + ")";
    sqlite3_free(message);
    return false;
}

bool Connection::exec(const char *sql)
{
    std::string error;
    if (exec(sql, error))
        return true;
    spdlog::error("store: {}: {}", sql, error);
    return false;
}

Statement Connection::prepare(std::string_view sql)
{
    if (auto it = m_statements.find(sql); it != m_statements.end())
        return Statement(*this, it->second);

    sqlite3_stmt *stmt = nullptr;
    const int rc = sqlite3_prepare_v3(m_db, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK || stmt == nullptr) {
        logError("prepare of " + std::string(sql), rc);
        sqlite3_finalize(stmt);
        return Statement(*this, nullptr);
    }
    m_statements.emplace(std::string(sql), stmt);
    return Statement(*this, stmt);
}

bool Connection::inTransaction() const
{
    return sqlite3_get_autocommit(m_db) == 0;
}

std::string Connection::errorMessage() const
{
    return std::string(sqlite3_errmsg(m_db)) + " (" + std::to_string(sqlite3_extended_errcode(m_db)) + ")";
}

void Connection::logError(std::string_view context, int rc) const
{
    spdlog::error("store: {}: {} (code {})", context, sqlite3_errmsg(m_db), rc);
}

} // namespace dispatch::store
