// Run statistics over a time window for the dashboard charts: one row per minute or hour bucket, oldest first,
// from our server's GET /v1/stats (an extension: a plain Dispatch server answers 404 and the model says so).
// The rows are dense (a bucket without runs is a row of zeros) so a chart has a point for every minute.
// Live: a finished run (a Run change on the WatchClient) schedules a refresh, at most one per kLiveThrottle;
// a slower timer slides the window when no runs arrive. A refresh never resets: the window sliding by k buckets
// removes k rows at the top and inserts k at the bottom, changed buckets emit dataChanged. Only another
// function, range or server resets.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractTableModel>
#include <QDateTime>
#include <QPointer>
#include <QString>
#include <QTimer>

#include <chrono>
#include <cmath>
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "roles.h"

namespace dispatch::models {

class RestClient;
class WatchClient;

// What one bucket of GET /v1/stats holds. Percentiles and the mean are milliseconds, NaN when no run of the
// bucket has a known duration.
struct StatsBucket
{
    qint64 time = 0; // Unix seconds, the start of the bucket
    qint64 count = 0;
    qint64 ready = 0;
    qint64 error = 0;
    qint64 inputErrors = 0;
    qint64 functionErrors = 0;
    qint64 systemErrors = 0;
    qint64 coldStarts = 0;
    double p50 = std::nan("");
    double p95 = std::nan("");
    double p99 = std::nan("");
    double meanMs = std::nan("");

    double errorRate() const { return count > 0 ? double(error) / double(count) : 0.0; } // 0..1
    static StatsBucket fromJson(const nlohmann::json &j);
    bool operator==(const StatsBucket &o) const;
};

class StatsSeriesModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        TimeColumn,          // raw QDateTime (UTC), display local "HH:mm" (or "ddd HH:mm" for hours)
        CountColumn,         // raw qint64
        ReadyColumn,         // raw qint64
        ErrorColumn,         // raw qint64
        InputErrorColumn,    // raw qint64
        FunctionErrorColumn, // raw qint64
        SystemErrorColumn,   // raw qint64
        ErrorRateColumn,     // raw double 0..1, display "12.5 %"
        ColdStartColumn,     // raw qint64
        P50Column,           // raw double ms (NaN = unknown), display "3.1 ms"
        P95Column,
        P99Column,
        MeanColumn,
        ColumnCount
    };
    Q_ENUM(Column)

    enum class Range { FifteenMinutes, OneHour, OneDay, SevenDays };
    Q_ENUM(Range)

    static constexpr std::chrono::milliseconds kLiveThrottle{1000};
    static constexpr std::chrono::milliseconds kSlideInterval{15000};

    explicit StatsSeriesModel(RestClient *client, QObject *parent = nullptr);
    ~StatsSeriesModel() override;

    void setClient(RestClient *client); // resets
    void setWatchClient(WatchClient *watch); // not owned; nullptr = the slide timer only
    void setFunction(const QString &function); // "" = the whole org; resets when it differs
    QString function() const { return m_function; }
    void setRange(Range range); // resets when it differs
    Range range() const { return m_range; }
    // Live refreshes (run changes, the slide timer) only while active: a hidden chart asks for nothing and
    // refreshes once when it becomes active again.
    void setActive(bool active);
    bool isActive() const { return m_active; }
    // The clock (tests move it); default QDateTime::currentSecsSinceEpoch.
    void setClock(std::function<qint64()> nowSeconds);

    static qint64 bucketSecondsOf(Range range); // 60 or 3600
    static int bucketCountOf(Range range);      // 15, 60, 24, 168
    static QString rangeLabel(Range range);     // "15 min", "1 h", "24 h", "7 d"
    qint64 bucketSeconds() const { return bucketSecondsOf(m_range); }
    qint64 windowFrom() const { return m_from; } // Unix seconds of the first row (once loaded)
    qint64 windowTo() const { return m_from + qint64(m_rows.size()) * bucketSeconds(); }

    void refresh(); // asks the server now (a refresh in flight: once more after it)
    bool hasLoaded() const { return m_loaded; }
    bool isLoading() const { return m_inFlight; }
    QString lastError() const { return m_lastError; }
    bool isUnsupported() const { return m_unsupported; } // the server has no /v1/stats (not ours)
    int refreshCount() const { return m_refreshes; }     // answers applied (tests)

    const StatsBucket &bucketAt(int row) const { return m_rows[size_t(row)]; }
    int rowOfTime(qint64 unixSeconds) const; // the row whose bucket holds the time, -1 outside the window
    StatsBucket total() const { return m_total; } // the server's total over the window
    qint64 maxCount() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static QString formatMs(double ms); // "0.42 ms", "3.1 ms", "120 ms", "1.2 s"; "—" for NaN

signals:
    void refreshed(); // an answer was applied (rows and total are current)
    void loadFailed(const QString &message);

private:
    void onChange(const QString &type, const QString &kind, const nlohmann::json &run);
    void apply(qint64 from, const nlohmann::json &answer);
    void resetRows();
    void scheduleLive();

    QPointer<RestClient> m_client;
    QPointer<WatchClient> m_watch;
    QMetaObject::Connection m_watchConnection;
    QString m_function;
    Range m_range = Range::OneHour;
    std::function<qint64()> m_now;
    std::vector<StatsBucket> m_rows;
    StatsBucket m_total;
    qint64 m_from = 0;
    quint64 m_generation = 0; // bumped by every reset: answers to older questions are dropped
    bool m_active = true;
    bool m_dirty = false; // something changed while inactive
    bool m_inFlight = false;
    bool m_again = false;
    bool m_loaded = false;
    bool m_unsupported = false;
    int m_refreshes = 0;
    QString m_lastError;
    QTimer m_throttle;
    QTimer m_slide;
};

} // namespace dispatch::models
