// SPDX-License-Identifier: GPL-3.0-or-later
#include "resourcetablemodel.h"

#include <QLocale>
#include <QUrl>

#include <algorithm>

#include "jsonvariant.h"
#include "restclient.h"
#include "watchclient.h"
#include "wire/models.h"

namespace dispatch::models {

namespace {

const QList<int> kChangedRoles = {Qt::DisplayRole, Qt::ToolTipRole, RawRole,          StatusRole,
                                  ReasonRole,      JsonRole,        TransitionalRole, FunctionRole};

bool isTransitionalStatus(const QString &status)
{
    auto s = wire::statusFromString(status.toStdString());
    return s && wire::isTransitional(*s);
}

} // namespace

ResourceTableModel::ResourceTableModel(RestClient *client, QObject *parent) : QAbstractTableModel(parent)
{
    m_pollTimer.setSingleShot(true);
    connect(&m_pollTimer, &QTimer::timeout, this, &ResourceTableModel::refresh);
    m_client = client;
    connectClient();
    // The first list once the event loop runs (kind() and listPath() are not callable in a constructor).
    QTimer::singleShot(0, this, [this] {
        if (!m_loaded && !m_loading)
            refresh();
    });
}

ResourceTableModel::~ResourceTableModel() = default;

QString ResourceTableModel::itemPath(const QString &name) const
{
    return listPath() + QLatin1Char('/') + QString::fromUtf8(QUrl::toPercentEncoding(name));
}

void ResourceTableModel::connectClient()
{
    for (const auto &c : std::as_const(m_clientConnections))
        disconnect(c);
    m_clientConnections.clear();
    if (!m_client)
        return;
    // The same client pointed at another server or organisation: another data set.
    m_clientConnections << connect(m_client, &RestClient::endpointChanged, this, [this] {
        clear();
        refresh();
    });
    // Back from unreachable: catch up at once instead of waiting for the next poll.
    m_clientConnections << connect(m_client, &RestClient::connectionStateChanged, this,
                                   [this](RestClient::ConnectionState s) {
                                       if (s == RestClient::ConnectionState::Connected && !m_lastError.isEmpty())
                                           refresh();
                                   });
}

void ResourceTableModel::setClient(RestClient *client)
{
    if (m_client == client)
        return;
    m_client = client;
    connectClient();
    clear();
    refresh();
}

void ResourceTableModel::setWatchClient(WatchClient *watch)
{
    if (m_watch == watch)
        return;
    for (const auto &c : std::as_const(m_watchConnections))
        disconnect(c);
    m_watchConnections.clear();
    m_watch = watch;
    if (watch) {
        m_watchConnections << connect(watch, &WatchClient::change, this, &ResourceTableModel::onChange);
        m_watchConnections << connect(watch, &WatchClient::resetRequired, this, &ResourceTableModel::refresh);
        m_watchConnections << connect(watch, &WatchClient::stateChanged, this, [this](WatchClient::State s) {
            if (s == WatchClient::State::Streaming)
                refresh(); // whatever changed before the stream opened
            updatePolling();
        });
    }
    updatePolling();
}

void ResourceTableModel::refresh()
{
    if (!m_client)
        return;
    if (m_loading) {
        m_refreshAgain = true;
        return;
    }
    m_pollTimer.stop();
    m_touched.clear();
    setLoading(true);
    const quint64 generation = m_generation;
    m_client->get(listPath(), this, [this, generation](const ApiResult &r) {
        if (generation != m_generation)
            return;
        setLoading(false);
        if (r.ok() && r.json.is_array()) {
            applyList(r.json);
            m_loaded = true;
            m_lastError.clear();
            emit refreshed();
        } else {
            m_lastError = r.ok() ? QStringLiteral("The server sent something that is not a list (%1).").arg(listPath())
                                 : r.errorMessage;
            emit refreshFailed(m_lastError);
        }
        m_touched.clear();
        if (m_refreshAgain) {
            m_refreshAgain = false;
            refresh();
            return;
        }
        updatePolling();
    });
}

void ResourceTableModel::clear()
{
    ++m_generation; // answers for the old data set are dropped
    m_refreshAgain = false;
    setLoading(false);
    beginResetModel();
    m_rows.clear();
    m_index.clear();
    m_loaded = false;
    m_lastError.clear();
    endResetModel();
}

void ResourceTableModel::setPollingEnabled(bool enabled)
{
    m_pollingEnabled = enabled;
    updatePolling();
}

void ResourceTableModel::setPollIntervals(std::chrono::milliseconds fast, std::chrono::milliseconds slow)
{
    m_fastPoll = fast;
    m_slowPoll = slow;
    if (m_pollTimer.isActive())
        m_pollTimer.start(hasTransitional() ? m_fastPoll : m_slowPoll);
}

bool ResourceTableModel::hasTransitional() const
{
    return std::any_of(m_rows.begin(), m_rows.end(), [](const Row &r) { return isTransitionalStatus(r.status); });
}

void ResourceTableModel::updatePolling()
{
    const bool live = m_watch && m_watch->isStreaming();
    if (!m_pollingEnabled || live || !m_client) {
        m_pollTimer.stop();
        return;
    }
    if (m_loading)
        return; // re-armed when the answer arrives
    const auto interval = hasTransitional() ? m_fastPoll : m_slowPoll;
    if (!m_pollTimer.isActive() || m_pollTimer.remainingTime() > interval.count())
        m_pollTimer.start(interval);
}

void ResourceTableModel::setLoading(bool loading)
{
    if (m_loading == loading)
        return;
    m_loading = loading;
    emit loadingChanged(loading);
}

void ResourceTableModel::ensureColumns() const
{
    if (m_columnsReady)
        return;
    m_columns = columns();
    m_columnsReady = true;
}

ResourceTableModel::Row ResourceTableModel::makeRow(const Json &object) const
{
    Row row;
    try {
        row.object = normalize(object);
    } catch (const std::exception &) {
        row.object = object; // not the shape we know: keep it as it came
    }
    row.name = jsonString(row.object, "name");
    try {
        row.raw = rawValues(row.object);
    } catch (const std::exception &) {
        row.raw.clear(); // a document of the wrong shape: show its name and nothing else
    }
    ensureColumns();
    row.raw.resize(m_columns.size());
    row.status = statusOf(row.object);
    row.reason = reasonOf(row.object);
    return row;
}

void ResourceTableModel::applyList(const Json &list)
{
    QHash<QString, const Json *> fresh;
    QStringList order;
    for (const auto &item : list) {
        const QString name = jsonString(item, "name");
        if (name.isEmpty() || fresh.contains(name))
            continue;
        fresh.insert(name, &item);
        order << name;
    }
    // Removed: rows the list lacks (unless the watch touched them meanwhile: the list is older than that).
    std::vector<int> gone;
    for (int r = 0; r < int(m_rows.size()); ++r)
        if (!fresh.contains(m_rows[size_t(r)].name) && !m_touched.contains(m_rows[size_t(r)].name))
            gone.push_back(r);
    removeRows(std::move(gone));
    // Changed, in place.
    std::vector<Row> added;
    for (const QString &name : std::as_const(order)) {
        if (m_touched.contains(name))
            continue;
        Row row = makeRow(*fresh.value(name));
        if (m_index.contains(name))
            upsert(std::move(row));
        else
            added.push_back(std::move(row));
    }
    // Added: one insert at the end.
    if (!added.empty()) {
        const int first = int(m_rows.size());
        beginInsertRows({}, first, first + int(added.size()) - 1);
        for (auto &row : added) {
            m_index.insert(row.name, int(m_rows.size()));
            m_rows.push_back(std::move(row));
        }
        endInsertRows();
    }
}

void ResourceTableModel::upsert(Row row)
{
    if (row.name.isEmpty())
        return;
    auto it = m_index.constFind(row.name);
    if (it == m_index.constEnd()) {
        const int at = int(m_rows.size());
        beginInsertRows({}, at, at);
        m_index.insert(row.name, at);
        m_rows.push_back(std::move(row));
        endInsertRows();
        return;
    }
    const int r = it.value();
    Row &current = m_rows[size_t(r)];
    if (current.object == row.object)
        return;
    current = std::move(row);
    ensureColumns();
    emit dataChanged(index(r, 0), index(r, int(m_columns.size()) - 1), kChangedRoles);
}

void ResourceTableModel::removeRows(std::vector<int> rows)
{
    if (rows.empty())
        return;
    std::sort(rows.begin(), rows.end(), std::greater<>());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    size_t i = 0;
    while (i < rows.size()) {
        // A run of consecutive rows (descending): one remove.
        const int last = rows[i];
        int first = last;
        while (i + 1 < rows.size() && rows[i + 1] == first - 1) {
            ++i;
            --first;
        }
        ++i;
        beginRemoveRows({}, first, last);
        for (int r = first; r <= last; ++r)
            m_index.remove(m_rows[size_t(r)].name);
        m_rows.erase(m_rows.begin() + first, m_rows.begin() + last + 1);
        rebuildIndex(first);
        endRemoveRows();
    }
}

void ResourceTableModel::rebuildIndex(int fromRow)
{
    for (int r = fromRow; r < int(m_rows.size()); ++r)
        m_index.insert(m_rows[size_t(r)].name, r);
}

void ResourceTableModel::applyObject(const Json &object)
{
    if (!object.is_object())
        return;
    upsert(makeRow(object));
    updatePolling();
}

void ResourceTableModel::applyDeleted(const QString &name)
{
    const int r = rowOf(name);
    if (r >= 0)
        removeRows({r});
}

void ResourceTableModel::onChange(const QString &type, const QString &kind, const QString &name, const Json &object)
{
    if (kind.compare(this->kind(), Qt::CaseInsensitive) != 0)
        return;
    if (m_loading)
        m_touched.insert(name);
    if (type.endsWith(QLatin1String(".deleted"))) {
        applyDeleted(name);
        return;
    }
    if (!object.is_object())
        return;
    Json copy = object;
    if (!copy.contains("name"))
        copy["name"] = name.toStdString();
    upsert(makeRow(copy));
    updatePolling();
}

int ResourceTableModel::rowOf(const QString &name) const
{
    return m_index.value(name, -1);
}

QString ResourceTableModel::nameAt(int row) const
{
    return row >= 0 && row < int(m_rows.size()) ? m_rows[size_t(row)].name : QString();
}

Json ResourceTableModel::objectAt(int row) const
{
    return row >= 0 && row < int(m_rows.size()) ? m_rows[size_t(row)].object : Json();
}

Json ResourceTableModel::object(const QString &name) const
{
    return objectAt(rowOf(name));
}

QStringList ResourceTableModel::names() const
{
    QStringList out;
    out.reserve(qsizetype(m_rows.size()));
    for (const auto &r : m_rows)
        out << r.name;
    return out;
}

int ResourceTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ResourceTableModel::columnCount(const QModelIndex &parent) const
{
    if (parent.isValid())
        return 0;
    ensureColumns();
    return int(m_columns.size());
}

QVariant ResourceTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = m_rows[size_t(index.row())];
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        return displayText(column, row.raw.value(column), row.object);
    case Qt::ToolTipRole:
        if (!row.reason.isEmpty() && m_columns.value(column).type == ColumnType::Status)
            return row.reason;
        return {};
    case RawRole:
        return row.raw.value(column);
    case StatusRole:
        return row.status;
    case ReasonRole:
        return row.reason;
    case KeyRole:
        return row.name;
    case JsonRole:
        return toVariant(row.object);
    case TransitionalRole:
        return isTransitionalStatus(row.status);
    case FunctionRole:
        return functionOf(row.object);
    default:
        return {};
    }
}

QVariant ResourceTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    ensureColumns();
    if (section < 0 || section >= m_columns.size())
        return {};
    return m_columns[section].title;
}

QHash<int, QByteArray> ResourceTableModel::roleNames() const
{
    auto names = QAbstractTableModel::roleNames();
    names.insert(RawRole, "raw");
    names.insert(StatusRole, "status");
    names.insert(ReasonRole, "reason");
    names.insert(KeyRole, "key");
    names.insert(JsonRole, "json");
    names.insert(TransitionalRole, "transitional");
    names.insert(FunctionRole, "function");
    return names;
}

QString ResourceTableModel::displayText(int column, const QVariant &raw, const Json &) const
{
    ensureColumns();
    return formatValue(m_columns.value(column).type, raw);
}

QString ResourceTableModel::statusOf(const Json &object) const
{
    return jsonString(object, "status");
}

QString ResourceTableModel::reasonOf(const Json &object) const
{
    return jsonStringList(object, "reason").join(QLatin1Char('\n'));
}

QString ResourceTableModel::functionOf(const Json &) const
{
    return {};
}

QString ResourceTableModel::formatValue(ColumnType type, const QVariant &raw)
{
    if (!raw.isValid())
        return {};
    switch (type) {
    case ColumnType::Text:
    case ColumnType::Status:
        return raw.toString();
    case ColumnType::List:
        return raw.toStringList().join(QStringLiteral(", "));
    case ColumnType::Time: {
        const QDateTime t = raw.toDateTime();
        return t.isValid() ? t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) : QString();
    }
    case ColumnType::DurationMs: {
        const qint64 ms = raw.toLongLong();
        if (ms <= 0)
            return QString(QChar(0x2014)); // em dash: none
        if (ms < 1000)
            return QStringLiteral("%1 ms").arg(ms);
        if (ms < 60000)
            return QStringLiteral("%1 s").arg(QLocale().toString(double(ms) / 1000.0, 'g', 3));
        return QStringLiteral("%1 min %2 s").arg(ms / 60000).arg((ms % 60000) / 1000);
    }
    case ColumnType::Bool:
        return raw.toBool() ? QStringLiteral("yes") : QStringLiteral("no");
    case ColumnType::Count:
        return QLocale().toString(raw.toLongLong());
    }
    return raw.toString();
}

} // namespace dispatch::models
