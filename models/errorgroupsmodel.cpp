// SPDX-License-Identifier: GPL-3.0-or-later
#include "errorgroupsmodel.h"

#include "restclient.h"

#include <QHash>
#include <QUrl>

namespace dispatch::models {

namespace {

QString stringOf(const nlohmann::json &j, const char *key)
{
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? QString::fromStdString(it->get<std::string>()) : QString();
}

qint64 intOf(const nlohmann::json &j, const char *key)
{
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<qint64>() : 0;
}

} // namespace

ErrorGroupsModel::ErrorGroupsModel(RestClient *client, QObject *parent) : QAbstractTableModel(parent), m_client(client)
{
}

void ErrorGroupsModel::setClient(RestClient *client)
{
    m_client = client;
    reset();
}

void ErrorGroupsModel::setWindow(const QString &function, qint64 from, qint64 to)
{
    const bool other = function != m_function;
    m_function = function;
    m_from = from;
    m_to = to;
    if (other)
        reset();
}

void ErrorGroupsModel::reset()
{
    ++m_generation;
    beginResetModel();
    m_rows.clear();
    m_loaded = false;
    m_inFlight = false;
    m_again = false;
    m_matched = 0;
    m_lastError.clear();
    endResetModel();
}

void ErrorGroupsModel::refresh()
{
    if (!m_client || m_to <= m_from)
        return;
    if (m_inFlight) {
        m_again = true;
        return;
    }
    QString path = QStringLiteral("/v1/stats/errors?from=%1&to=%2&limit=%3").arg(m_from).arg(m_to).arg(kLimit);
    if (!m_function.isEmpty())
        path += QStringLiteral("&function=") + QString::fromLatin1(QUrl::toPercentEncoding(m_function));
    m_inFlight = true;
    const quint64 generation = m_generation;
    m_client->get(path, this, [this, generation](const ApiResult &result) {
        if (generation != m_generation)
            return;
        m_inFlight = false;
        if (result.ok()) {
            m_lastError.clear();
            apply(result.json);
        } else {
            m_lastError = result.status == 404
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

void ErrorGroupsModel::apply(const nlohmann::json &answer)
{
    std::vector<ErrorGroup> fresh;
    if (auto it = answer.find("errors"); it != answer.end() && it->is_array()) {
        for (const auto &j : *it) {
            ErrorGroup g;
            g.function = stringOf(j, "function");
            g.type = stringOf(j, "type");
            g.message = stringOf(j, "message");
            g.count = intOf(j, "count");
            g.first = intOf(j, "first");
            g.last = intOf(j, "last");
            fresh.push_back(std::move(g));
        }
    }
    m_matched = intOf(answer, "matched");
    QHash<QString, size_t> freshIndex;
    for (size_t i = 0; i < fresh.size(); ++i)
        freshIndex.insert(fresh[i].key(), i);

    // Remove vanished groups (from the bottom, so the rows above keep their numbers).
    for (int r = int(m_rows.size()) - 1; r >= 0; --r) {
        if (!freshIndex.contains(m_rows[size_t(r)].key())) {
            beginRemoveRows({}, r, r);
            m_rows.erase(m_rows.begin() + r);
            endRemoveRows();
        }
    }
    // Update the rest in place.
    QHash<QString, int> rowOf;
    for (int r = 0; r < int(m_rows.size()); ++r) {
        const ErrorGroup &g = fresh[freshIndex.value(m_rows[size_t(r)].key())];
        rowOf.insert(g.key(), r);
        if (!(m_rows[size_t(r)] == g)) {
            m_rows[size_t(r)] = g;
            emit dataChanged(index(r, 0), index(r, ColumnCount - 1));
        }
    }
    // Append the new ones in the server's order (most runs first).
    std::vector<ErrorGroup> added;
    for (const ErrorGroup &g : fresh)
        if (!rowOf.contains(g.key()))
            added.push_back(g);
    if (!added.empty()) {
        const int first = int(m_rows.size());
        beginInsertRows({}, first, first + int(added.size()) - 1);
        m_rows.insert(m_rows.end(), added.begin(), added.end());
        endInsertRows();
    }
    m_loaded = true;
    emit refreshed();
}

int ErrorGroupsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ErrorGroupsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ErrorGroupsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ErrorGroup &g = m_rows[size_t(index.row())];
    if (role == KeyRole)
        return g.key();
    if (role == FunctionRole)
        return g.function;
    if (role == Qt::ToolTipRole && index.column() == MessageColumn)
        return g.message;
    if (role == Qt::TextAlignmentRole)
        return index.column() == CountColumn ? QVariant(int(Qt::AlignRight | Qt::AlignVCenter)) : QVariant();
    if (role != Qt::DisplayRole && role != RawRole)
        return {};
    const bool raw = role == RawRole;
    auto timeValue = [raw](qint64 t) -> QVariant {
        const QDateTime d = QDateTime::fromSecsSinceEpoch(t, Qt::UTC);
        return raw ? QVariant(d) : QVariant(d.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")));
    };
    switch (index.column()) {
    case CountColumn:
        return g.count;
    case TypeColumn:
        return g.type;
    case MessageColumn:
        return raw ? g.message : g.message.section(QLatin1Char('\n'), 0, 0);
    case FunctionColumn:
        return g.function;
    case FirstColumn:
        return timeValue(g.first);
    case LastColumn:
        return timeValue(g.last);
    default:
        return {};
    }
}

QVariant ErrorGroupsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case CountColumn:
        return tr("Runs");
    case TypeColumn:
        return tr("Error type");
    case MessageColumn:
        return tr("Message");
    case FunctionColumn:
        return tr("Function");
    case FirstColumn:
        return tr("First seen");
    case LastColumn:
        return tr("Last seen");
    default:
        return {};
    }
}

} // namespace dispatch::models
