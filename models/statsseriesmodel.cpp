// SPDX-License-Identifier: GPL-3.0-or-later
#include "statsseriesmodel.h"

#include "restclient.h"
#include "watchclient.h"

#include <QLocale>
#include <QUrl>

#include <algorithm>

namespace dispatch::models {

namespace {

qint64 intOf(const nlohmann::json &j, const char *key)
{
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<qint64>() : 0;
}

double msOf(const nlohmann::json &j, const char *key)
{
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : std::nan("");
}

bool sameDouble(double a, double b)
{
    return (std::isnan(a) && std::isnan(b)) || a == b;
}

} // namespace

StatsBucket StatsBucket::fromJson(const nlohmann::json &j)
{
    StatsBucket b;
    if (!j.is_object())
        return b;
    b.time = intOf(j, "time");
    b.count = intOf(j, "count");
    b.ready = intOf(j, "ready");
    b.error = intOf(j, "error");
    if (auto it = j.find("errorTypes"); it != j.end() && it->is_object()) {
        b.inputErrors = intOf(*it, "InputError");
        b.functionErrors = intOf(*it, "FunctionError");
        b.systemErrors = intOf(*it, "SystemError");
    }
    b.coldStarts = intOf(j, "coldStarts");
    b.p50 = msOf(j, "p50");
    b.p95 = msOf(j, "p95");
    b.p99 = msOf(j, "p99");
    b.meanMs = msOf(j, "meanMs");
    return b;
}

bool StatsBucket::operator==(const StatsBucket &o) const
{
    return time == o.time && count == o.count && ready == o.ready && error == o.error
           && inputErrors == o.inputErrors && functionErrors == o.functionErrors && systemErrors == o.systemErrors
           && coldStarts == o.coldStarts && sameDouble(p50, o.p50) && sameDouble(p95, o.p95)
           && sameDouble(p99, o.p99) && sameDouble(meanMs, o.meanMs);
}

StatsSeriesModel::StatsSeriesModel(RestClient *client, QObject *parent)
    : QAbstractTableModel(parent), m_client(client), m_now([] { return QDateTime::currentSecsSinceEpoch(); })
{
    m_throttle.setSingleShot(true);
    m_throttle.setInterval(kLiveThrottle);
    connect(&m_throttle, &QTimer::timeout, this, &StatsSeriesModel::refresh);
    m_slide.setInterval(kSlideInterval);
    connect(&m_slide, &QTimer::timeout, this, &StatsSeriesModel::scheduleLive);
    m_slide.start();
}

StatsSeriesModel::~StatsSeriesModel() = default;

void StatsSeriesModel::setClient(RestClient *client)
{
    m_client = client;
    resetRows();
}

void StatsSeriesModel::setWatchClient(WatchClient *watch)
{
    if (m_watch == watch)
        return;
    disconnect(m_watchConnection);
    m_watch = watch;
    if (watch)
        m_watchConnection = connect(watch, &WatchClient::change, this,
                                    [this](const QString &type, const QString &kind, const QString &,
                                           const nlohmann::json &object) { onChange(type, kind, object); });
}

void StatsSeriesModel::setFunction(const QString &function)
{
    if (function == m_function)
        return;
    m_function = function;
    resetRows();
}

void StatsSeriesModel::setRange(Range range)
{
    if (range == m_range)
        return;
    m_range = range;
    resetRows();
}

void StatsSeriesModel::setActive(bool active)
{
    m_active = active;
    if (active && (m_dirty || !m_loaded)) {
        m_dirty = false;
        refresh();
    }
}

void StatsSeriesModel::setClock(std::function<qint64()> nowSeconds)
{
    m_now = std::move(nowSeconds);
}

qint64 StatsSeriesModel::bucketSecondsOf(Range range)
{
    return range == Range::FifteenMinutes || range == Range::OneHour ? 60 : 3600;
}

int StatsSeriesModel::bucketCountOf(Range range)
{
    switch (range) {
    case Range::FifteenMinutes:
        return 15;
    case Range::OneHour:
        return 60;
    case Range::OneDay:
        return 24;
    case Range::SevenDays:
        return 7 * 24;
    }
    return 60;
}

QString StatsSeriesModel::rangeLabel(Range range)
{
    switch (range) {
    case Range::FifteenMinutes:
        return tr("15 min");
    case Range::OneHour:
        return tr("1 h");
    case Range::OneDay:
        return tr("24 h");
    case Range::SevenDays:
        return tr("7 d");
    }
    return {};
}

void StatsSeriesModel::resetRows()
{
    ++m_generation;
    beginResetModel();
    m_rows.clear();
    m_total = {};
    m_from = 0;
    m_loaded = false;
    m_inFlight = false;
    m_again = false;
    m_unsupported = false;
    m_lastError.clear();
    endResetModel();
    if (m_active)
        refresh();
    else
        m_dirty = true;
}

void StatsSeriesModel::onChange(const QString &type, const QString &kind, const nlohmann::json &run)
{
    // A run counts once it finishes. A blocking run is published once, finished, as run.created; a
    // non-blocking one is created (INITIALIZED, nothing to show yet) and later updated.
    if (kind != QLatin1String("Run"))
        return;
    if (type == QLatin1String("run.created")) {
        const auto status = run.is_object() ? run.find("status") : run.end();
        if (status == run.end() || !status->is_string()
            || (status->get<std::string>() != "READY" && status->get<std::string>() != "ERROR"))
            return;
    }
    scheduleLive();
}

void StatsSeriesModel::scheduleLive()
{
    if (!m_active) {
        m_dirty = true;
        return;
    }
    if (!m_throttle.isActive())
        m_throttle.start();
}

void StatsSeriesModel::refresh()
{
    if (!m_client)
        return;
    if (m_inFlight) {
        m_again = true;
        return;
    }
    const qint64 step = bucketSeconds();
    const qint64 now = m_now();
    const qint64 end = (now / step + 1) * step; // the current, partial bucket is the last row
    const qint64 from = end - qint64(bucketCountOf(m_range)) * step;
    QString path = QStringLiteral("/v1/stats?from=%1&to=%2&resolution=%3")
                       .arg(from)
                       .arg(end)
                       .arg(step == 60 ? QStringLiteral("minute") : QStringLiteral("hour"));
    if (!m_function.isEmpty())
        path += QStringLiteral("&function=") + QString::fromLatin1(QUrl::toPercentEncoding(m_function));
    m_inFlight = true;
    const quint64 generation = m_generation;
    m_client->get(path, this, [this, generation, from](const ApiResult &result) {
        if (generation != m_generation)
            return;
        m_inFlight = false;
        if (result.ok()) {
            m_lastError.clear();
            m_unsupported = false;
            apply(from, result.json);
        } else {
            m_unsupported = result.status == 404;
            m_lastError = m_unsupported
                              ? tr("This server keeps no run statistics (it is not the bundled Dispatch server).")
                              : result.errorMessage;
            emit loadFailed(m_lastError);
        }
        if (m_again) {
            m_again = false;
            refresh();
        }
    });
}

void StatsSeriesModel::apply(qint64 from, const nlohmann::json &answer)
{
    const qint64 step = bucketSeconds();
    const int count = bucketCountOf(m_range);
    std::vector<StatsBucket> fresh(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i)
        fresh[size_t(i)].time = from + qint64(i) * step;
    if (auto it = answer.find("buckets"); it != answer.end() && it->is_array()) {
        for (const auto &j : *it) {
            StatsBucket b = StatsBucket::fromJson(j);
            const qint64 slot = (b.time - from) / step;
            if (b.time >= from && slot < count)
                fresh[size_t(slot)] = b;
        }
    }
    m_total = StatsBucket::fromJson(answer.value("total", nlohmann::json::object()));

    if (m_rows.empty()) {
        beginInsertRows({}, 0, count - 1);
        m_rows = std::move(fresh);
        m_from = from;
        endInsertRows();
    } else {
        // The window slid forward by `gone` buckets (backwards only if the clock did: then start over).
        const qint64 gone = (from - m_from) / step;
        if (gone < 0 || gone >= count) {
            beginRemoveRows({}, 0, int(m_rows.size()) - 1);
            m_rows.clear();
            endRemoveRows();
            beginInsertRows({}, 0, count - 1);
            m_rows = std::move(fresh);
            endInsertRows();
        } else {
            if (gone > 0) {
                beginRemoveRows({}, 0, int(gone) - 1);
                m_rows.erase(m_rows.begin(), m_rows.begin() + gone);
                endRemoveRows();
            }
            // Update what is still there, in runs of changed rows.
            const int kept = int(m_rows.size());
            int first = -1;
            for (int r = 0; r <= kept; ++r) {
                const bool changed = r < kept && !(m_rows[size_t(r)] == fresh[size_t(r)]);
                if (changed) {
                    m_rows[size_t(r)] = fresh[size_t(r)];
                    if (first < 0)
                        first = r;
                } else if (first >= 0) {
                    emit dataChanged(index(first, 0), index(r - 1, ColumnCount - 1));
                    first = -1;
                }
            }
            if (kept < count) {
                beginInsertRows({}, kept, count - 1);
                m_rows.insert(m_rows.end(), fresh.begin() + kept, fresh.end());
                endInsertRows();
            }
        }
        m_from = from;
    }
    m_loaded = true;
    ++m_refreshes;
    emit refreshed();
}

int StatsSeriesModel::rowOfTime(qint64 unixSeconds) const
{
    if (m_rows.empty() || unixSeconds < m_from)
        return -1;
    const qint64 row = (unixSeconds - m_from) / bucketSeconds();
    return row < qint64(m_rows.size()) ? int(row) : -1;
}

qint64 StatsSeriesModel::maxCount() const
{
    qint64 out = 0;
    for (const auto &b : m_rows)
        out = std::max(out, b.count);
    return out;
}

int StatsSeriesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int StatsSeriesModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString StatsSeriesModel::formatMs(double ms)
{
    if (std::isnan(ms))
        return QStringLiteral("\u2014");
    const QLocale locale;
    if (ms >= 1000.0)
        return tr("%1 s").arg(locale.toString(ms / 1000.0, 'f', ms >= 10000.0 ? 1 : 2));
    if (ms >= 100.0)
        return tr("%1 ms").arg(locale.toString(ms, 'f', 0));
    if (ms >= 1.0)
        return tr("%1 ms").arg(locale.toString(ms, 'f', 1));
    return tr("%1 ms").arg(locale.toString(ms, 'f', 2));
}

QVariant StatsSeriesModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const StatsBucket &b = m_rows[size_t(index.row())];
    const bool raw = role == RawRole;
    if (!raw && role != Qt::DisplayRole && role != Qt::TextAlignmentRole)
        return {};
    if (role == Qt::TextAlignmentRole)
        return index.column() == TimeColumn ? QVariant() : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
    switch (index.column()) {
    case TimeColumn: {
        const QDateTime t = QDateTime::fromSecsSinceEpoch(b.time, Qt::UTC);
        if (raw)
            return t;
        return t.toLocalTime().toString(bucketSeconds() == 60 ? QStringLiteral("HH:mm")
                                                              : QStringLiteral("ddd HH:mm"));
    }
    case CountColumn:
        return b.count;
    case ReadyColumn:
        return b.ready;
    case ErrorColumn:
        return b.error;
    case InputErrorColumn:
        return b.inputErrors;
    case FunctionErrorColumn:
        return b.functionErrors;
    case SystemErrorColumn:
        return b.systemErrors;
    case ErrorRateColumn:
        return raw ? QVariant(b.errorRate())
                   : QVariant(QStringLiteral("%1 %").arg(QLocale().toString(b.errorRate() * 100.0, 'f', 1)));
    case ColdStartColumn:
        return b.coldStarts;
    case P50Column:
        return raw ? QVariant(b.p50) : QVariant(formatMs(b.p50));
    case P95Column:
        return raw ? QVariant(b.p95) : QVariant(formatMs(b.p95));
    case P99Column:
        return raw ? QVariant(b.p99) : QVariant(formatMs(b.p99));
    case MeanColumn:
        return raw ? QVariant(b.meanMs) : QVariant(formatMs(b.meanMs));
    default:
        return {};
    }
}

QVariant StatsSeriesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case CountColumn:
        return tr("Runs");
    case ReadyColumn:
        return tr("Succeeded");
    case ErrorColumn:
        return tr("Failed");
    case InputErrorColumn:
        return tr("Input errors");
    case FunctionErrorColumn:
        return tr("Function errors");
    case SystemErrorColumn:
        return tr("System errors");
    case ErrorRateColumn:
        return tr("Error rate");
    case ColdStartColumn:
        return tr("Cold starts");
    case P50Column:
        return tr("p50");
    case P95Column:
        return tr("p95");
    case P99Column:
        return tr("p99");
    case MeanColumn:
        return tr("Mean");
    default:
        return {};
    }
}

} // namespace dispatch::models
