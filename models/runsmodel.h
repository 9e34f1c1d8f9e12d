// The run history, newest first, for 100,000+ runs: rows are compact structs formatted lazily in data().
// Lazy paging (canFetchMore/fetchMore: GET /v1/runs?limit=200&before=<last id>) on our server, one full load on a
// plain Dispatch server. Live: run.created/run.updated from the WatchClient, queued and flushed at most every
// 50 ms as one insert at row 0; without a watch stream it polls GET /v1/runs?since=. A filter change reloads.
// The first page loads by itself once the event loop runs.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractTableModel>
#include <QDateTime>
#include <QHash>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <chrono>
#include <deque>
#include <vector>

#include <nlohmann/json.hpp>

#include "restclient.h"
#include "roles.h"
#include "watchclient.h"

namespace dispatch::models {

using Json = nlohmann::json;

// Which runs the model shows. The function, status and time range go to the server where it can filter them
// (our server: all of them; a plain Dispatch server: the function) and are applied again to live changes.
struct RunFilter
{
    QString functionName; // empty = every function
    QString status;       // "READY", "ERROR", ... empty = any
    QDateTime from;       // on the run's start (executedTime); invalid = open
    QDateTime to;
    bool isEmpty() const { return functionName.isEmpty() && status.isEmpty() && !from.isValid() && !to.isValid(); }
    friend bool operator==(const RunFilter &, const RunFilter &) = default;
};

class RunsModel : public QAbstractTableModel
{
    Q_OBJECT
    Q_PROPERTY(bool loading READ isLoading NOTIFY loadingChanged)

public:
    enum Column {
        IdColumn,        // raw QString run id
        FunctionColumn,  // raw QString
        StatusColumn,    // raw QString (READY, ERROR, INITIALIZED, CREATING)
        ErrorTypeColumn, // raw QString (InputError, FunctionError, SystemError, "")
        StartedColumn,   // raw QDateTime (UTC); display local time with milliseconds
        DurationColumn,  // raw qint64 nanoseconds, -1 = not finished / unknown
        TriggerColumn,   // raw QString: "api", "event" or "manual"; display "GET /dispatch/hello", "event ticker.tick"
        TagsColumn,      // raw QString "k=v, k2=v2"
        ColumnCount
    };
    Q_ENUM(Column)

    enum class Trigger : quint8 { Manual, Api, Event };

    static constexpr int kDefaultPageSize = 200;
    static constexpr std::chrono::milliseconds kFlushInterval{50};
    static constexpr std::chrono::milliseconds kPollInterval{2000};
    static constexpr int kPollLimit = 5000; // changes fetched per poll / catch-up

    explicit RunsModel(RestClient *client, QObject *parent = nullptr);
    ~RunsModel() override;

    // Another context: reset and reload.
    void setClient(RestClient *client);
    RestClient *client() const { return m_client; }
    void setWatchClient(WatchClient *watch); // not owned; nullptr = polling
    WatchClient *watchClient() const { return m_watch; }

    void setFilter(const RunFilter &filter); // resets and reloads when it differs
    RunFilter filter() const { return m_filter; }
    void setPageSize(int rows) { m_pageSize = rows > 0 ? rows : kDefaultPageSize; }
    int pageSize() const { return m_pageSize; }
    void setPollingEnabled(bool enabled);

    void reload(); // reset, then the first page
    bool isLoading() const { return m_loading; }
    bool hasLoaded() const { return m_loaded; }
    bool isComplete() const { return m_complete; } // every run of the filter is loaded (no more pages)
    QString lastError() const { return m_lastError; }
    int pendingCount() const { return int(m_pending.size()); } // live runs queued for the next flush

    int rowOfRun(const QString &runId) const; // -1 when not loaded
    QString runIdAt(int row) const;
    // The stored summary of a row (what JsonRole returns). The full run (input, output, logs) is
    // GET /v1/runs/<id> (RestClient).
    Json summaryAt(int row) const;

    // Applies one run document now (e.g. the answer of an exec from this console).
    void applyRun(const Json &run);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

    static QString formatDuration(qint64 ns); // "12 ms", "1.4 s", "2 min 3 s"; "—" for -1
    static qint64 toNanoseconds(qint64 time); // Dispatch times: > 1e14 are ns, else seconds (v0.1.x)

signals:
    void loadingChanged(bool loading);
    void loadFailed(const QString &message);
    void pageLoaded(int rows);       // a page (or the full load) was appended
    void runsInserted(int count);    // live runs inserted at the top (for "N new runs" hints)

private:
    struct RunRow
    {
        QString id;
        QString trigger; // API path or event type
        QString tags;
        QString error;   // first line of the error message or reason
        qint64 executedNs = 0;
        qint64 finishedNs = 0; // <= 0: not finished
        qint64 durationNs = -1;
        quint32 function = 0; // index into m_functionNames
        quint8 status = 0;    // wire::Status
        quint8 errorType = 0; // 0 none, 1 InputError, 2 FunctionError, 3 SystemError, 4 other
        Trigger triggerKind = Trigger::Manual;
        bool coldStart = false;
    };

    void connectClient();
    RunRow makeRow(const Json &run);
    bool matchesFilter(const RunRow &row) const;
    QString functionName(const RunRow &row) const;
    QString statusText(const RunRow &row) const;
    QString errorTypeText(const RunRow &row) const;
    int rowOfKey(qint64 key) const { return int(key - m_frontKey); }
    void requestPage();
    void applyPage(const Json &list, bool fullLoad);
    void onChange(const QString &type, const QString &kind, const QString &name, const Json &object);
    void queueLive(RunRow row);
    void flush();
    void poll();
    void updateExisting(int row, const RunRow &fresh);
    void updateLiveMode();
    void setLoading(bool loading);
    QString listQuery(bool paging) const;

    QPointer<RestClient> m_client;
    QPointer<WatchClient> m_watch;
    QList<QMetaObject::Connection> m_watchConnections;
    RunFilter m_filter;
    int m_pageSize = kDefaultPageSize;

    // Row r is m_rows[r]; live runs are pushed at the front, older pages at the back. A run's key (its position
    // when it was added, counted from the first row ever) stays valid while rows are added at either end.
    std::deque<RunRow> m_rows;
    QHash<QString, qint64> m_keyOf; // run id → key; row = key - m_frontKey
    qint64 m_frontKey = 0;
    QStringList m_functionNames;
    QHash<QString, quint32> m_functionIndex;

    std::vector<RunRow> m_pending;     // live runs waiting for the flush
    QHash<QString, size_t> m_pendingIndex;
    std::vector<qint64> m_changedRows;  // keys of rows updated since the last flush
    QTimer m_flushTimer;
    QTimer m_pollTimer;
    bool m_pollingEnabled = true;
    bool m_pollInFlight = false;
    qint64 m_newestSeenNs = 0; // the newest executed/finished time seen: where polling resumes
    QString m_lastPageId;      // the oldest run of the last page: `before` of the next

    quint64 m_generation = 0;
    bool m_loading = false;
    bool m_loaded = false;
    bool m_complete = false;
    bool m_paging = false; // the server pages (ours); else one full load
    QString m_lastError;
};

} // namespace dispatch::models
