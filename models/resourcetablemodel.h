// The base of the resource tables (functions, images, APIs, ...): one row per resource, keyed by name.
// refresh() lists the resources and applies the difference (insert / dataChanged / remove), never a reset, so
// selection and scroll position survive. Live: applies the WatchClient's changes of its kind as they come;
// without a watch stream it polls (every 2 s while something is in a transitional state, else every 10 s).
// The first refresh happens by itself once the event loop runs; refresh() forces one.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractTableModel>
#include <QHash>
#include <QList>
#include <QPointer>
#include <QSet>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <QVariant>
#include <QVector>

#include <chrono>
#include <vector>

#include <nlohmann/json.hpp>

#include "restclient.h"
#include "roles.h"
#include "watchclient.h"

namespace dispatch::models {

using Json = nlohmann::json;

class ResourceTableModel : public QAbstractTableModel
{
    Q_OBJECT
    Q_PROPERTY(bool loading READ isLoading NOTIFY loadingChanged)

public:
    // How a column's raw value is shown in DisplayRole.
    enum class ColumnType {
        Text,       // QString
        List,       // QStringList, shown comma-separated
        Time,       // QDateTime (from Unix seconds), shown local "yyyy-MM-dd HH:mm:ss"
        DurationMs, // qint64 milliseconds, 0 = none ("—")
        Bool,       // bool, "yes"/"no"
        Count,      // qint64
        Status,     // QString status (DisplayRole adds nothing; views draw a badge)
    };
    struct ColumnSpec
    {
        QString title;
        ColumnType type = ColumnType::Text;
    };

    static constexpr std::chrono::milliseconds kFastPoll{2000};  // something is transitional
    static constexpr std::chrono::milliseconds kSlowPoll{10000};

    explicit ResourceTableModel(RestClient *client, QObject *parent = nullptr);
    ~ResourceTableModel() override;

    // The watch kind ("Function", "Image", "BaseImage", "API", "DriverType", "Driver", "Subscription", "Secret")
    // and the list path ("/v1/function").
    virtual QString kind() const = 0;
    virtual QString listPath() const = 0;
    // The path of one resource ("/v1/function/hello").
    virtual QString itemPath(const QString &name) const;

    // Another context (or organisation): the rows belong to another data set, so this resets and refreshes.
    void setClient(RestClient *client);
    RestClient *client() const { return m_client; }
    // Live changes; nullptr = polling only. Not owned.
    void setWatchClient(WatchClient *watch);
    WatchClient *watchClient() const { return m_watch; }

    void refresh(); // GET listPath() and diff into the rows; a refresh already in flight is reused
    void clear();   // no rows (reset)
    bool isLoading() const { return m_loading; }
    bool hasLoaded() const { return m_loaded; }
    QString lastError() const { return m_lastError; }

    // Polling while the watch stream is not live. On by default.
    void setPollingEnabled(bool enabled);
    bool isPollingEnabled() const { return m_pollingEnabled; }
    void setPollIntervals(std::chrono::milliseconds fast, std::chrono::milliseconds slow);
    bool hasTransitional() const; // some row is INITIALIZED/CREATING/UPDATING/DELETING

    // Apply one object or deletion now (e.g. the answer of a create or delete request, before the feed says so).
    void applyObject(const Json &object);
    void applyDeleted(const QString &name);

    int rowOf(const QString &name) const; // -1 when absent
    QString nameAt(int row) const;
    Json objectAt(int row) const; // null when out of range
    Json object(const QString &name) const;
    QStringList names() const;
    QList<ColumnSpec> columnList() const { ensureColumns(); return m_columns; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    // Formats a raw value of a column type (shared with views that show the same values elsewhere).
    static QString formatValue(ColumnType type, const QVariant &raw);

signals:
    void loadingChanged(bool loading);
    void refreshed();                          // a list was applied
    void refreshFailed(const QString &message); // the list request failed (rows are kept: last known state)

protected:
    virtual QList<ColumnSpec> columns() const = 0;
    // The raw value of every column (parse the object once, with the wire models).
    virtual QVector<QVariant> rawValues(const Json &object) const = 0;
    // The object as kept: the wire model's shape (one shape whether it came from a list, a single GET or the
    // change feed, whose stored documents carry extra fields), secrets without values. May throw (wrong types);
    // the object is then kept as it came. Default: unchanged.
    virtual Json normalize(const Json &object) const { return object; }
    // DisplayRole of a cell; default formatValue(columns()[column].type, raw).
    virtual QString displayText(int column, const QVariant &raw, const Json &object) const;
    virtual QString statusOf(const Json &object) const;
    virtual QString reasonOf(const Json &object) const;
    virtual QString functionOf(const Json &object) const;

private:
    struct Row
    {
        QString name;
        Json object;
        QVector<QVariant> raw; // one per column, computed when the object changes
        QString status;
        QString reason;
    };

    void ensureColumns() const;
    Row makeRow(const Json &object) const;
    void applyList(const Json &list);
    void upsert(Row row);
    void removeRows(std::vector<int> rows); // any order
    void onChange(const QString &type, const QString &kind, const QString &name, const Json &object);
    void connectClient();
    void setLoading(bool loading);
    void updatePolling();
    void rebuildIndex(int fromRow);

    QPointer<RestClient> m_client;
    QList<QMetaObject::Connection> m_clientConnections;
    QSet<QString> m_touched; // names changed by the watch while a list was in flight: the list is older
    QPointer<WatchClient> m_watch;
    QList<QMetaObject::Connection> m_watchConnections;
    std::vector<Row> m_rows;
    QHash<QString, int> m_index; // name → row
    mutable QList<ColumnSpec> m_columns;
    mutable bool m_columnsReady = false;
    bool m_loading = false;
    bool m_loaded = false;
    bool m_refreshAgain = false; // a refresh was asked for while one was in flight
    quint64 m_generation = 0;   // bumped on setClient/clear: late answers of the old data set are dropped
    QString m_lastError;
    bool m_pollingEnabled = true;
    std::chrono::milliseconds m_fastPoll = kFastPoll;
    std::chrono::milliseconds m_slowPoll = kSlowPoll;
    QTimer m_pollTimer;
};

} // namespace dispatch::models
