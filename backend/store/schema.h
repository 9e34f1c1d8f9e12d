// The database schema and its migrations, keyed on PRAGMA user_version.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "core/error.h"

namespace dispatch::store {

class Connection;

// The newest schema version this code knows.
inline constexpr int kSchemaVersion = 2;

// Brings the database to kSchemaVersion, one migration per transaction, and returns the resulting version.
// A database newer than kSchemaVersion is refused: this server would misread it.
Result<int> migrate(Connection &db);

} // namespace dispatch::store
