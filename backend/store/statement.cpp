// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/statement.h"

#include "store/connection.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

namespace dispatch::store {

namespace {

// An empty view may have a null data pointer, which SQLite would bind as NULL rather than as "".
const char *nonNull(std::string_view s)
{
    return s.data() != nullptr ? s.data() : "";
}

const char *sqlOf(sqlite3_stmt *stmt)
{
    const char *sql = stmt != nullptr ? sqlite3_sql(stmt) : nullptr;
    return sql != nullptr ? sql : "?";
}

} // namespace

Statement::Statement(const Connection &connection, sqlite3_stmt *stmt)
    : m_connection(&connection), m_stmt(stmt), m_ok(stmt != nullptr)
{
}

Statement::Statement(Statement &&other) noexcept
    : m_connection(other.m_connection), m_stmt(other.m_stmt), m_ok(other.m_ok)
{
    other.m_stmt = nullptr;
}

Statement::~Statement()
{
    if (m_stmt == nullptr)
        return;
    // sqlite3_reset repeats the error of the last step, which step() already logged; only an error that
    // appears here for the first time is worth a line.
    const int rc = sqlite3_reset(m_stmt);
    if (rc != SQLITE_OK && m_ok)
        m_connection->logError(std::string("reset of ") + sqlOf(m_stmt), rc);
    // Always SQLITE_OK per the documentation; it drops our pointers to caller-owned text before it goes away.
    sqlite3_clear_bindings(m_stmt);
}

bool Statement::checkBind(int rc, int index)
{
    if (rc == SQLITE_OK)
        return true;
    if (m_ok)
        m_connection->logError("bind of parameter " + std::to_string(index) + " in " + sqlOf(m_stmt), rc);
    m_ok = false;
    return false;
}

Statement &Statement::bind(int index, std::string_view text)
{
    if (m_stmt != nullptr)
        checkBind(sqlite3_bind_text64(m_stmt, index, nonNull(text), text.size(), SQLITE_STATIC, SQLITE_UTF8),
                  index);
    return *this;
}

Statement &Statement::bind(int index, int64_t value)
{
    if (m_stmt != nullptr)
        checkBind(sqlite3_bind_int64(m_stmt, index, static_cast<sqlite3_int64>(value)), index);
    return *this;
}

Statement &Statement::bindBlob(int index, std::string_view bytes)
{
    if (m_stmt == nullptr)
        return *this;
    // A zero-length blob with a null pointer would become NULL; a zeroblob keeps it an empty BLOB.
    const int rc = bytes.empty()
                       ? sqlite3_bind_zeroblob(m_stmt, index, 0)
                       : sqlite3_bind_blob64(m_stmt, index, bytes.data(), bytes.size(), SQLITE_STATIC);
    checkBind(rc, index);
    return *this;
}

Statement::Step Statement::step()
{
    if (!m_ok)
        return Step::Error;
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW)
        return Step::Row;
    if (rc == SQLITE_DONE)
        return Step::Finished;
    m_connection->logError(sqlOf(m_stmt), rc);
    m_ok = false;
    return Step::Error;
}

bool Statement::run()
{
    for (;;) {
        switch (step()) {
        case Step::Row:
            continue;
        case Step::Finished:
            return true;
        case Step::Error:
            return false;
        }
    }
}

int64_t Statement::int64(int column) const
{
    return static_cast<int64_t>(sqlite3_column_int64(m_stmt, column));
}

std::string Statement::text(int column) const
{
    const auto *data = reinterpret_cast<const char *>(sqlite3_column_text(m_stmt, column));
    const int size = sqlite3_column_bytes(m_stmt, column);
    if (data == nullptr || size <= 0)
        return {};
    return std::string(data, static_cast<std::size_t>(size));
}

std::string Statement::blob(int column) const
{
    const auto *data = static_cast<const char *>(sqlite3_column_blob(m_stmt, column));
    const int size = sqlite3_column_bytes(m_stmt, column);
    if (data == nullptr || size <= 0)
        return {};
    return std::string(data, static_cast<std::size_t>(size));
}

} // namespace dispatch::store
