// One use of a cached prepared statement: bind, step, read columns. The destructor resets the statement and
// clears its bindings, so a read statement never keeps a WAL snapshot open and the next use starts clean.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3_stmt;

namespace dispatch::store {

class Connection;

class Statement
{
public:
    enum class Step
    {
        Row,
        Finished,
        Error,
    };

    Statement(const Connection &connection, sqlite3_stmt *stmt); // stmt == nullptr: a failed prepare
    ~Statement();
    Statement(Statement &&other) noexcept;
    Statement(const Statement &) = delete;
    Statement &operator=(const Statement &) = delete;
    Statement &operator=(Statement &&) = delete;

    // Binds never copy: the bound text must outlive this Statement (it is unbound in the destructor).
    // A failed bind is logged and makes the following step() fail.
    Statement &bind(int index, std::string_view text);
    Statement &bind(int index, int64_t value);
    Statement &bindBlob(int index, std::string_view bytes);

    Step step();
    // Steps to the end of a statement that returns no rows; false (logged) on any error.
    bool run();

    int64_t int64(int column) const;
    std::string text(int column) const;
    std::string blob(int column) const;

private:
    bool checkBind(int rc, int index);

    const Connection *m_connection = nullptr;
    sqlite3_stmt *m_stmt = nullptr;
    bool m_ok = false;
};

} // namespace dispatch::store
