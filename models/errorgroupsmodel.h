// Failed runs grouped by function, error type and message (our server's GET /v1/stats/errors): counts and the
// first and last time each group was seen. A refresh diffs by (function, type, message): changed groups emit
// dataChanged, new ones are inserted at the end, vanished ones removed; sort through a proxy on RawRole.
// Only another window (function, time range) or server resets.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractTableModel>
#include <QDateTime>
#include <QPointer>
#include <QString>

#include <vector>

#include <nlohmann/json.hpp>

#include "roles.h"

namespace dispatch::models {

class RestClient;

struct ErrorGroup
{
    QString function;
    QString type;    // InputError, FunctionError, SystemError
    QString message; // cut to 1024 bytes by the server
    qint64 count = 0;
    qint64 first = 0; // Unix seconds
    qint64 last = 0;
    QString key() const { return function + QChar(0) + type + QChar(0) + message; }
    bool operator==(const ErrorGroup &) const = default;
};

class ErrorGroupsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        CountColumn,    // raw qint64
        TypeColumn,     // raw QString
        MessageColumn,  // raw QString; display the first line
        FunctionColumn, // raw QString
        FirstColumn,    // raw QDateTime (UTC); display local time
        LastColumn,     // raw QDateTime (UTC)
        ColumnCount
    };
    Q_ENUM(Column)

    static constexpr int kLimit = 200;

    explicit ErrorGroupsModel(RestClient *client, QObject *parent = nullptr);

    void setClient(RestClient *client); // resets
    // The groups seen in [from, to) (Unix seconds) of one function ("" = all): resets when the function changes;
    // a window that only slid keeps the rows and diffs them on the next refresh.
    void setWindow(const QString &function, qint64 from, qint64 to);
    QString function() const { return m_function; }
    void refresh();
    bool hasLoaded() const { return m_loaded; }
    QString lastError() const { return m_lastError; }
    qint64 matched() const { return m_matched; } // groups before the limit
    const ErrorGroup &groupAt(int row) const { return m_rows[size_t(row)]; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

signals:
    void refreshed();
    void loadFailed(const QString &message);

private:
    void reset();
    void apply(const nlohmann::json &answer);

    QPointer<RestClient> m_client;
    QString m_function;
    qint64 m_from = 0;
    qint64 m_to = 0;
    std::vector<ErrorGroup> m_rows;
    quint64 m_generation = 0;
    bool m_inFlight = false;
    bool m_again = false;
    bool m_loaded = false;
    qint64 m_matched = 0;
    QString m_lastError;
};

} // namespace dispatch::models
