// SPDX-License-Identifier: GPL-3.0-or-later
#include "runsmodel.h"

#include <QLocale>
#include <QUrlQuery>
#include <QVariantMap>

#include <algorithm>

#include "jsonvariant.h"
#include "restclient.h"
#include "watchclient.h"
#include "wireformat.h"

namespace dispatch::models {

namespace {

const QList<int> kChangedRoles = {Qt::DisplayRole, Qt::ToolTipRole, RawRole, StatusRole,
                                  ReasonRole,      JsonRole,        TransitionalRole};

quint8 errorTypeCode(const std::string &type)
{
    if (type.empty())
        return 0;
    if (type == "InputError")
        return 1;
    if (type == "FunctionError")
        return 2;
    if (type == "SystemError")
        return 3;
    return 4;
}

QString firstLine(const std::string &s)
{
    QString out = QString::fromStdString(s);
    const qsizetype nl = out.indexOf(QLatin1Char('\n'));
    if (nl >= 0)
        out.truncate(nl);
    if (out.size() > 300)
        out = out.left(300) + QChar(0x2026);
    return out;
}

} // namespace

RunsModel::RunsModel(RestClient *client, QObject *parent) : QAbstractTableModel(parent)
{
    m_flushTimer.setSingleShot(true);
    connect(&m_flushTimer, &QTimer::timeout, this, &RunsModel::flush);
    m_pollTimer.setInterval(kPollInterval);
    connect(&m_pollTimer, &QTimer::timeout, this, &RunsModel::poll);
    m_client = client;
    connectClient();
    QTimer::singleShot(0, this, [this] {
        if (!m_loaded && !m_loading)
            reload();
    });
}

RunsModel::~RunsModel() = default;

void RunsModel::setClient(RestClient *client)
{
    if (m_client == client)
        return;
    if (m_client)
        disconnect(m_client, nullptr, this, nullptr);
    m_client = client;
    connectClient();
    reload();
}

void RunsModel::connectClient()
{
    if (!m_client)
        return;
    // The same client pointed at another server or organisation: another data set.
    connect(m_client, &RestClient::endpointChanged, this, &RunsModel::reload);
    connect(m_client, &RestClient::connectionStateChanged, this, [this](RestClient::ConnectionState s) {
        if (s != RestClient::ConnectionState::Connected)
            return;
        if (!m_loaded && !m_loading)
            reload();
        else if (m_loaded)
            poll(); // catch up on what happened while it was unreachable
    });
}

void RunsModel::setWatchClient(WatchClient *watch)
{
    if (m_watch == watch)
        return;
    for (const auto &c : std::as_const(m_watchConnections))
        disconnect(c);
    m_watchConnections.clear();
    m_watch = watch;
    if (watch) {
        m_watchConnections << connect(watch, &WatchClient::change, this, &RunsModel::onChange);
        // The feed could not replay what was missed: fetch what changed since the newest run we know (a diff,
        // not a reset, so the selection and scroll position survive).
        m_watchConnections << connect(watch, &WatchClient::resetRequired, this, &RunsModel::poll);
        m_watchConnections << connect(watch, &WatchClient::stateChanged, this, [this](WatchClient::State s) {
            if (s == WatchClient::State::Streaming && m_loaded)
                poll(); // whatever happened before the stream opened
            updateLiveMode();
        });
    }
    updateLiveMode();
}

void RunsModel::setFilter(const RunFilter &filter)
{
    if (filter == m_filter)
        return;
    m_filter = filter;
    reload();
}

void RunsModel::setPollingEnabled(bool enabled)
{
    m_pollingEnabled = enabled;
    updateLiveMode();
}

void RunsModel::updateLiveMode()
{
    const bool live = m_watch && m_watch->isStreaming();
    if (live || !m_pollingEnabled || !m_loaded || !m_client)
        m_pollTimer.stop();
    else if (!m_pollTimer.isActive())
        m_pollTimer.start();
}

void RunsModel::setLoading(bool loading)
{
    if (m_loading == loading)
        return;
    m_loading = loading;
    emit loadingChanged(loading);
}

void RunsModel::reload()
{
    ++m_generation;
    m_flushTimer.stop();
    m_pollTimer.stop();
    beginResetModel();
    m_rows.clear();
    m_keyOf.clear();
    m_frontKey = 0;
    m_functionNames.clear();
    m_functionIndex.clear();
    m_pending.clear();
    m_pendingIndex.clear();
    m_changedRows.clear();
    m_loaded = false;
    m_complete = false;
    m_lastPageId.clear();
    m_newestSeenNs = 0;
    m_pollInFlight = false;
    m_lastError.clear();
    endResetModel();
    setLoading(false);
    if (m_client)
        requestPage();
}

QString RunsModel::listQuery(bool paging) const
{
    QUrlQuery q;
    if (!m_filter.functionName.isEmpty())
        q.addQueryItem(QStringLiteral("functionName"), m_filter.functionName);
    if (!m_filter.status.isEmpty())
        q.addQueryItem(QStringLiteral("status"), m_filter.status);
    if (m_filter.from.isValid())
        q.addQueryItem(QStringLiteral("from"), QString::number(m_filter.from.toMSecsSinceEpoch() * 1'000'000LL));
    if (m_filter.to.isValid())
        q.addQueryItem(QStringLiteral("to"), QString::number(m_filter.to.toMSecsSinceEpoch() * 1'000'000LL));
    if (paging) {
        q.addQueryItem(QStringLiteral("limit"), QString::number(m_pageSize));
        if (!m_lastPageId.isEmpty())
            q.addQueryItem(QStringLiteral("before"), m_lastPageId);
    }
    return q.toString(QUrl::FullyEncoded);
}

void RunsModel::requestPage()
{
    if (!m_client || m_loading || m_complete)
        return;
    setLoading(true);
    const quint64 generation = m_generation;
    // Always ask for a page: our server pages; a plain Dispatch server ignores limit/before and answers every
    // run, which applyPage recognises (more rows than asked for, or nothing new).
    m_client->get(QStringLiteral("/v1/runs?") + listQuery(true), this, [this, generation](const ApiResult &r) {
        if (generation != m_generation)
            return;
        setLoading(false);
        if (!r.ok() || !r.json.is_array()) {
            m_lastError = r.ok() ? QStringLiteral("The server sent something that is not a list of runs.")
                                 : r.errorMessage;
            emit loadFailed(m_lastError);
            return;
        }
        m_lastError.clear();
        applyPage(r.json, false);
    });
}

bool RunsModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && m_client && m_loaded && !m_complete && !m_loading;
}

void RunsModel::fetchMore(const QModelIndex &parent)
{
    if (!parent.isValid())
        requestPage();
}

RunsModel::RunRow RunsModel::makeRow(const Json &json)
{
    RunRow row;
    wire::Run run;
    try {
        run = json.get<wire::Run>();
    } catch (const std::exception &) {
        run = wire::Run{};
        run.name = jsonString(json, "name").toStdString();
    }
    row.id = qs(run.name);
    const QString fn = qs(run.functionName);
    auto it = m_functionIndex.constFind(fn);
    if (it == m_functionIndex.constEnd()) {
        it = m_functionIndex.insert(fn, quint32(m_functionNames.size()));
        m_functionNames << fn;
    }
    row.function = it.value();
    row.status = quint8(run.status);
    row.executedNs = run.executedTime > 0 ? toNanoseconds(run.executedTime) : 0;
    row.finishedNs = run.finishedTime > 0 ? toNanoseconds(run.finishedTime) : 0;
    row.durationNs = run.durationNs >= 0 ? run.durationNs
                     : (row.finishedNs > 0 && row.executedNs > 0 && row.finishedNs >= row.executedNs)
                         ? row.finishedNs - row.executedNs
                         : -1;
    row.coldStart = run.coldStart;
    if (run.error) {
        row.errorType = errorTypeCode(run.error->type);
        row.error = firstLine(run.error->message);
    }
    if (row.error.isEmpty() && !run.reason.empty())
        row.error = firstLine(run.reason.front());
    if (run.httpContext.is_object()) {
        row.triggerKind = Trigger::Api;
        const QString method = jsonString(run.httpContext, "method");
        QString uri = jsonString(run.httpContext, "uri");
        if (uri.isEmpty())
            uri = jsonString(run.httpContext, "request_uri");
        row.trigger = (method + QLatin1Char(' ') + uri).trimmed();
    } else if (run.event.is_object()) {
        row.triggerKind = Trigger::Event;
        row.trigger = jsonString(run.event, "eventType");
    }
    row.tags = tagStrings(run.tags).join(QStringLiteral(", "));
    m_newestSeenNs = std::max({m_newestSeenNs, row.executedNs, row.finishedNs});
    return row;
}

bool RunsModel::matchesFilter(const RunRow &row) const
{
    if (!m_filter.functionName.isEmpty() && functionName(row) != m_filter.functionName)
        return false;
    if (!m_filter.status.isEmpty() && statusText(row) != m_filter.status)
        return false;
    if (m_filter.from.isValid() && row.executedNs < m_filter.from.toMSecsSinceEpoch() * 1'000'000LL)
        return false;
    if (m_filter.to.isValid() && row.executedNs >= m_filter.to.toMSecsSinceEpoch() * 1'000'000LL)
        return false;
    return true;
}

QString RunsModel::functionName(const RunRow &row) const
{
    return m_functionNames.value(qsizetype(row.function));
}

QString RunsModel::statusText(const RunRow &row) const
{
    return statusString(static_cast<wire::Status>(row.status));
}

QString RunsModel::errorTypeText(const RunRow &row) const
{
    switch (row.errorType) {
    case 1:
        return QStringLiteral("InputError");
    case 2:
        return QStringLiteral("FunctionError");
    case 3:
        return QStringLiteral("SystemError");
    case 4:
        return QStringLiteral("Error");
    default:
        return {};
    }
}

void RunsModel::applyPage(const Json &list, bool)
{
    const int asked = m_pageSize;
    const int received = int(list.size());
    std::vector<RunRow> fresh;
    fresh.reserve(list.size());
    int unseen = 0;
    for (const auto &item : list) {
        RunRow row = makeRow(item);
        if (row.id.isEmpty())
            continue;
        if (auto k = m_keyOf.constFind(row.id); k != m_keyOf.constEnd()) {
            updateExisting(rowOfKey(k.value()), row);
            continue;
        }
        if (auto p = m_pendingIndex.constFind(row.id); p != m_pendingIndex.constEnd()) {
            m_pending[p.value()] = row; // the page is as new as the queued change; it lands at the top anyway
            continue;
        }
        ++unseen;
        if (matchesFilter(row))
            fresh.push_back(std::move(row));
    }
    const bool fullList = received > asked; // a server without paging answered everything
    if (fullList) {
        std::stable_sort(fresh.begin(), fresh.end(),
                         [](const RunRow &a, const RunRow &b) { return a.executedNs > b.executedNs; });
    }
    if (!list.empty())
        m_lastPageId = jsonString(list.back(), "name");
    // The end: a short page, a full list, or a page of runs we all had (a server ignoring `before`). Known before
    // the insert, so a view that asks for more as soon as rows arrive does not ask in vain.
    if (fullList || received < asked || unseen == 0)
        m_complete = true;
    const bool firstPage = !m_loaded;
    m_loaded = true;
    if (!fresh.empty()) {
        const int at = int(m_rows.size());
        beginInsertRows({}, at, at + int(fresh.size()) - 1);
        for (auto &row : fresh) {
            m_keyOf.insert(row.id, m_frontKey + qint64(m_rows.size()));
            m_rows.push_back(std::move(row));
        }
        endInsertRows();
    }
    emit pageLoaded(int(fresh.size()));
    if (firstPage) {
        flush(); // live runs that arrived while the first page was on its way
        updateLiveMode();
    }
}

void RunsModel::updateExisting(int row, const RunRow &fresh)
{
    if (row < 0 || row >= int(m_rows.size()))
        return;
    RunRow &current = m_rows[size_t(row)];
    const bool same = current.status == fresh.status && current.finishedNs == fresh.finishedNs &&
                      current.durationNs == fresh.durationNs && current.errorType == fresh.errorType &&
                      current.error == fresh.error && current.tags == fresh.tags && current.trigger == fresh.trigger;
    if (same)
        return;
    current = fresh;
    m_changedRows.push_back(m_keyOf.value(current.id)); // the key: turned into a row at flush
    if (!m_flushTimer.isActive())
        m_flushTimer.start(kFlushInterval);
}

void RunsModel::applyRun(const Json &run)
{
    onChange(QStringLiteral("run.updated"), QStringLiteral("Run"), jsonString(run, "name"), run);
}

void RunsModel::onChange(const QString &, const QString &kind, const QString &name, const Json &object)
{
    if (kind != QLatin1String("Run") || !object.is_object())
        return;
    RunRow row = makeRow(object);
    if (row.id.isEmpty())
        row.id = name;
    if (row.id.isEmpty())
        return;
    if (auto k = m_keyOf.constFind(row.id); k != m_keyOf.constEnd()) {
        updateExisting(rowOfKey(k.value()), row);
        return;
    }
    if (!matchesFilter(row))
        return;
    // A run older than the loaded pages is fetched by paging when the user gets there.
    if (m_loaded && !m_complete && !m_rows.empty() && row.executedNs < m_rows.back().executedNs)
        return;
    queueLive(std::move(row));
}

void RunsModel::queueLive(RunRow row)
{
    if (auto p = m_pendingIndex.constFind(row.id); p != m_pendingIndex.constEnd()) {
        m_pending[p.value()] = std::move(row);
        return;
    }
    m_pendingIndex.insert(row.id, m_pending.size());
    m_pending.push_back(std::move(row));
    if (!m_flushTimer.isActive())
        m_flushTimer.start(kFlushInterval);
}

void RunsModel::flush()
{
    m_flushTimer.stop();
    if (!m_loaded)
        return; // the first page decides what is already there; it calls flush()
    std::vector<RunRow> batch;
    batch.reserve(m_pending.size());
    for (auto &row : m_pending) {
        if (auto k = m_keyOf.constFind(row.id); k != m_keyOf.constEnd())
            updateExisting(rowOfKey(k.value()), row); // a page brought it meanwhile
        else
            batch.push_back(std::move(row));
    }
    m_pending.clear();
    m_pendingIndex.clear();
    if (!batch.empty()) {
        std::stable_sort(batch.begin(), batch.end(),
                         [](const RunRow &a, const RunRow &b) { return a.executedNs > b.executedNs; });
        beginInsertRows({}, 0, int(batch.size()) - 1);
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
            --m_frontKey;
            m_keyOf.insert(it->id, m_frontKey);
            m_rows.push_front(std::move(*it));
        }
        endInsertRows();
        emit runsInserted(int(batch.size()));
    }
    if (!m_changedRows.empty()) {
        // m_changedRows holds keys: rows moved down with the insert above.
        std::vector<int> rows;
        rows.reserve(m_changedRows.size());
        for (qint64 key : m_changedRows)
            rows.push_back(rowOfKey(key));
        m_changedRows.clear();
        std::sort(rows.begin(), rows.end());
        rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
        size_t i = 0;
        while (i < rows.size()) {
            size_t j = i;
            while (j + 1 < rows.size() && rows[j + 1] == rows[j] + 1)
                ++j;
            if (rows[i] >= 0 && rows[j] < int(m_rows.size()))
                emit dataChanged(index(rows[i], 0), index(rows[j], ColumnCount - 1), kChangedRoles);
            i = j + 1;
        }
    }
}

void RunsModel::poll()
{
    if (!m_client || !m_loaded || m_pollInFlight)
        return;
    m_pollInFlight = true;
    const quint64 generation = m_generation;
    // Runs modified since a little before the newest time we have seen (server time: no clock skew).
    const qint64 sinceSeconds = m_newestSeenNs > 0 ? m_newestSeenNs / 1'000'000'000LL - 2 : 0;
    QUrlQuery q(listQuery(false));
    if (sinceSeconds > 0)
        q.addQueryItem(QStringLiteral("since"), QString::number(sinceSeconds));
    // Bounded: a server that pages answers at most kPollLimit changes; more than that and a reload is cheaper
    // (and exact). A plain Dispatch server ignores the limit.
    q.addQueryItem(QStringLiteral("limit"), QString::number(kPollLimit));
    m_client->get(QStringLiteral("/v1/runs?") + q.toString(QUrl::FullyEncoded), this,
                  [this, generation](const ApiResult &r) {
                      if (generation != m_generation)
                          return;
                      m_pollInFlight = false;
                      if (!r.ok() || !r.json.is_array())
                          return;
                      if (r.json.size() == size_t(kPollLimit) && m_client && m_client->isOurServer())
                          return reload();
                      for (const auto &item : r.json)
                          onChange(QStringLiteral("run.updated"), QStringLiteral("Run"), QString(), item);
                  });
}

int RunsModel::rowOfRun(const QString &runId) const
{
    auto k = m_keyOf.constFind(runId);
    return k == m_keyOf.constEnd() ? -1 : rowOfKey(k.value());
}

QString RunsModel::runIdAt(int row) const
{
    return row >= 0 && row < int(m_rows.size()) ? m_rows[size_t(row)].id : QString();
}

Json RunsModel::summaryAt(int row) const
{
    if (row < 0 || row >= int(m_rows.size()))
        return {};
    const RunRow &r = m_rows[size_t(row)];
    Json j = {{"name", r.id.toStdString()},
              {"functionName", functionName(r).toStdString()},
              {"status", statusText(r).toStdString()},
              {"executedTime", r.executedNs},
              {"finishedTime", r.finishedNs},
              {"durationNs", r.durationNs},
              {"coldStart", r.coldStart},
              {"trigger", r.triggerKind == Trigger::Api     ? "api"
                          : r.triggerKind == Trigger::Event ? "event"
                                                            : "manual"},
              {"triggerDetail", r.trigger.toStdString()},
              {"tags", r.tags.toStdString()}};
    if (r.errorType != 0)
        j["error"] = {{"type", errorTypeText(r).toStdString()}, {"message", r.error.toStdString()}};
    else if (!r.error.isEmpty())
        j["reason"] = Json::array({r.error.toStdString()});
    return j;
}

int RunsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RunsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RunsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const RunRow &r = m_rows[size_t(index.row())];
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case IdColumn:
            return r.id;
        case FunctionColumn:
            return functionName(r);
        case StatusColumn:
            return statusText(r);
        case ErrorTypeColumn:
            return errorTypeText(r);
        case StartedColumn:
            return r.executedNs > 0 ? QDateTime::fromMSecsSinceEpoch(r.executedNs / 1'000'000, Qt::UTC)
                                          .toLocalTime()
                                          .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"))
                                    : QString();
        case DurationColumn:
            return formatDuration(r.durationNs);
        case TriggerColumn:
            switch (r.triggerKind) {
            case Trigger::Api:
                return r.trigger;
            case Trigger::Event:
                return tr("event %1").arg(r.trigger);
            case Trigger::Manual:
                return tr("manual");
            }
            return {};
        case TagsColumn:
            return r.tags;
        }
        return {};
    case RawRole:
        switch (column) {
        case IdColumn:
            return r.id;
        case FunctionColumn:
            return functionName(r);
        case StatusColumn:
            return statusText(r);
        case ErrorTypeColumn:
            return errorTypeText(r);
        case StartedColumn:
            return r.executedNs > 0 ? QDateTime::fromMSecsSinceEpoch(r.executedNs / 1'000'000, Qt::UTC)
                                    : QDateTime();
        case DurationColumn:
            return QVariant::fromValue<qint64>(r.durationNs);
        case TriggerColumn:
            return r.triggerKind == Trigger::Api     ? QStringLiteral("api")
                   : r.triggerKind == Trigger::Event ? QStringLiteral("event")
                                                     : QStringLiteral("manual");
        case TagsColumn:
            return r.tags;
        }
        return {};
    case Qt::ToolTipRole:
        if ((column == StatusColumn || column == ErrorTypeColumn) && !r.error.isEmpty())
            return r.error;
        if (column == TriggerColumn && r.triggerKind != Trigger::Manual)
            return r.trigger;
        if (column == DurationColumn && r.coldStart)
            return tr("Cold start: a worker had to start for this run");
        return {};
    case StatusRole:
        return statusText(r);
    case ReasonRole:
        return r.error;
    case KeyRole:
    case RunIdRole:
        return r.id;
    case FunctionRole:
        return functionName(r);
    case TransitionalRole:
        return wire::isTransitional(static_cast<wire::Status>(r.status));
    case JsonRole:
        return toVariant(summaryAt(index.row()));
    default:
        return {};
    }
}

QVariant RunsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case IdColumn:
        return tr("Run id");
    case FunctionColumn:
        return tr("Function");
    case StatusColumn:
        return tr("Status");
    case ErrorTypeColumn:
        return tr("Error type");
    case StartedColumn:
        return tr("Started");
    case DurationColumn:
        return tr("Duration");
    case TriggerColumn:
        return tr("Trigger");
    case TagsColumn:
        return tr("Tags");
    default:
        return {};
    }
}

QHash<int, QByteArray> RunsModel::roleNames() const
{
    auto names = QAbstractTableModel::roleNames();
    names.insert(RawRole, "raw");
    names.insert(StatusRole, "status");
    names.insert(ReasonRole, "reason");
    names.insert(KeyRole, "key");
    names.insert(JsonRole, "json");
    names.insert(RunIdRole, "runId");
    names.insert(TransitionalRole, "transitional");
    names.insert(FunctionRole, "function");
    return names;
}

QString RunsModel::formatDuration(qint64 ns)
{
    if (ns < 0)
        return QString(QChar(0x2014));
    if (ns < 1'000'000)
        return QStringLiteral("%1 µs").arg(ns / 1000);
    const double ms = double(ns) / 1e6;
    if (ms < 1000)
        return QStringLiteral("%1 ms").arg(QLocale().toString(ms, 'f', ms < 10 ? 1 : 0));
    const double s = ms / 1000.0;
    if (s < 60)
        return QStringLiteral("%1 s").arg(QLocale().toString(s, 'f', s < 10 ? 2 : 1));
    const qint64 total = qint64(s);
    return QStringLiteral("%1 min %2 s").arg(total / 60).arg(total % 60);
}

qint64 RunsModel::toNanoseconds(qint64 time)
{
    if (time <= 0)
        return time;
    return time > 100'000'000'000'000LL ? time : time * 1'000'000'000LL;
}

} // namespace dispatch::models
