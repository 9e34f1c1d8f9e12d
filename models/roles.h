// Item data roles shared by every console model, so views and proxies address them by one name.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <Qt>

namespace dispatch::models {

enum ItemRole : int {
    // The unformatted value of a cell (QString, QStringList, bool, qint64, QDateTime for times, qint64 ms for
    // timeouts, qint64 ns for run durations, -1 = unknown): sort and filter on it
    // through QSortFilterProxyModel::setSortRole(RawRole); DisplayRole is only for showing.
    RawRole = Qt::UserRole + 1,
    StatusRole,       // QString: READY, ERROR, CREATING, ... ("" when the resource has no status)
    ReasonRole,       // QString: the status reason (or a run's error message), "" when none
    KeyRole,          // QString: the stable key of the row (resource name, run id)
    JsonRole,         // QVariantMap: the whole object (runs: a summary; fetch the full run by id)
    RunIdRole,        // QString: run id (RunsModel)
    TransitionalRole, // bool: the status is INITIALIZED/CREATING/UPDATING/DELETING (spinners)
    FunctionRole,     // QString: the function a row belongs to (runs, APIs, subscriptions)

    // LogModel
    LevelRole = Qt::UserRole + 64, // int: models::LogLevel
    TimestampRole,                  // QDateTime (invalid when the line had none)
    MessageRole,                    // QString: the text after the level
    MatchRole,                      // bool: the line matches the search (LogModel::setSearch)
    SequenceRole,                   // qint64: the line's number since the model was created (stable)
};

} // namespace dispatch::models
