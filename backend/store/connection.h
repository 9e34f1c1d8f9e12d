// One SQLite connection owned by one thread at a time, with its prepared statements cached by SQL text so a
// statement is compiled once per connection and reused for every later call.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "core/error.h"
#include "store/statement.h"

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace dispatch::store {

class Connection
{
public:
    enum class Mode
    {
        ReadWrite, // creates the file if missing
        ReadOnly,
    };

    static Result<std::unique_ptr<Connection>> open(const std::filesystem::path &file, Mode mode);
    ~Connection(); // finalizes the cached statements, then closes
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    sqlite3 *handle() const { return m_db; }
    bool inTransaction() const;

    // Runs one or more statements that return no rows we need. Logs and returns false on failure.
    bool exec(const char *sql);
    // Like exec, but reports the failure as a message instead of logging it (used while opening).
    bool exec(const char *sql, std::string &error);

    // The cached statement for `sql`, prepared on first use. The returned Statement resets it when it goes
    // away. On a prepare failure the Statement is invalid (its step() fails) and the error is logged.
    Statement prepare(std::string_view sql);

    // sqlite3_errmsg with the extended result code, for messages.
    std::string errorMessage() const;
    void logError(std::string_view context, int rc) const;

private:
    explicit Connection(sqlite3 *db);

    struct StringHash
    {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };

    sqlite3 *m_db = nullptr;
    std::unordered_map<std::string, sqlite3_stmt *, StringHash, std::equal_to<>> m_statements;
};

} // namespace dispatch::store
