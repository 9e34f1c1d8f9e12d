// SPDX-License-Identifier: GPL-3.0-or-later
#include "logmodel.h"

#include "localserver.h"

namespace dispatch::models {

LogModel::LogModel(QObject *parent) : QAbstractListModel(parent)
{
    m_flushTimer.setSingleShot(true);
    connect(&m_flushTimer, &QTimer::timeout, this, &LogModel::flush);
}

void LogModel::setCapacity(int lines)
{
    m_capacity = std::max(1, lines);
    flush();
    trim();
}

void LogModel::append(const LogLine &line)
{
    m_pending.append(line);
    // Bounded even if nobody runs the event loop for a while: keep at most one capacity of pending lines.
    if (m_pending.size() > m_capacity)
        m_pending.remove(0, m_pending.size() - m_capacity);
    if (!m_flushTimer.isActive())
        m_flushTimer.start(kFlushInterval);
}

void LogModel::append(const QList<LogLine> &lines)
{
    for (const auto &l : lines)
        append(l);
}

void LogModel::flush()
{
    m_flushTimer.stop();
    if (m_pending.isEmpty())
        return;
    const QList<LogLine> lines = std::exchange(m_pending, {});
    std::vector<Entry> added;
    added.reserve(size_t(lines.size()));
    int visibleAdded = 0;
    for (const auto &l : lines) {
        Entry e{l, m_nextSeq++, matches(l)};
        if (visible(e))
            ++visibleAdded;
        added.push_back(std::move(e));
    }
    if (visibleAdded > 0) {
        const int first = int(m_visible.size());
        beginInsertRows({}, first, first + visibleAdded - 1);
    }
    for (auto &e : added) {
        if (visible(e))
            m_visible.push_back(e.seq);
        m_lines.push_back(std::move(e));
    }
    if (visibleAdded > 0)
        endInsertRows();
    trim();
    if (visibleAdded > 0)
        emit linesAppended(visibleAdded);
}

void LogModel::trim()
{
    if (int(m_lines.size()) <= m_capacity)
        return;
    const size_t drop = m_lines.size() - size_t(m_capacity);
    const qint64 firstKept = m_lines[drop].seq;
    int visibleDrop = 0;
    while (size_t(visibleDrop) < m_visible.size() && m_visible[size_t(visibleDrop)] < firstKept)
        ++visibleDrop;
    if (visibleDrop > 0)
        beginRemoveRows({}, 0, visibleDrop - 1);
    m_lines.erase(m_lines.begin(), m_lines.begin() + qsizetype(drop));
    m_visible.erase(m_visible.begin(), m_visible.begin() + visibleDrop);
    if (visibleDrop > 0)
        endRemoveRows();
}

void LogModel::clear()
{
    m_pending.clear();
    m_flushTimer.stop();
    beginResetModel();
    m_lines.clear();
    m_visible.clear();
    endResetModel();
}

void LogModel::follow(LocalServer *server)
{
    disconnect(m_followConnection);
    if (!server)
        return;
    append(server->recentLog());
    flush();
    m_followConnection = connect(server, &LocalServer::logLines, this,
                                 [this](const QList<LogLine> &lines) { append(lines); });
}

bool LogModel::visible(const Entry &e) const
{
    return e.line.level == LogLevel::Unknown || int(e.line.level) >= int(m_minLevel);
}

void LogModel::setMinimumLevel(LogLevel level)
{
    if (level == m_minLevel)
        return;
    flush();
    beginResetModel(); // another data set (a filter), so a reset is right here
    m_minLevel = level;
    m_visible.clear();
    for (const auto &e : m_lines)
        if (visible(e))
            m_visible.push_back(e.seq);
    endResetModel();
}

bool LogModel::matches(const LogLine &line) const
{
    if (m_searchText.isEmpty() || !m_searchValid)
        return false;
    return m_search.match(line.text).hasMatch();
}

void LogModel::setSearch(const QString &text, bool regularExpression, bool caseSensitive)
{
    m_searchText = text;
    const QString pattern = regularExpression ? text : QRegularExpression::escape(text);
    m_search = QRegularExpression(pattern, caseSensitive ? QRegularExpression::NoPatternOption
                                                         : QRegularExpression::CaseInsensitiveOption);
    m_searchValid = text.isEmpty() || m_search.isValid();
    for (auto &e : m_lines)
        e.match = matches(e.line);
    if (!m_visible.empty())
        emit dataChanged(index(0), index(int(m_visible.size()) - 1), {MatchRole});
}

int LogModel::matchCount() const
{
    int n = 0;
    for (qint64 seq : m_visible)
        if (m_lines[size_t(seq - m_lines.front().seq)].match)
            ++n;
    return n;
}

int LogModel::nextMatch(int fromRow) const
{
    const int n = int(m_visible.size());
    for (int i = 1; i <= n; ++i) {
        const int row = ((fromRow + i) % n + n) % n;
        if (data(index(row), MatchRole).toBool())
            return row;
    }
    return -1;
}

int LogModel::previousMatch(int fromRow) const
{
    const int n = int(m_visible.size());
    for (int i = 1; i <= n; ++i) {
        const int row = ((fromRow - i) % n + n) % n;
        if (data(index(row), MatchRole).toBool())
            return row;
    }
    return -1;
}

LogLine LogModel::lineAt(int row) const
{
    if (row < 0 || row >= int(m_visible.size()))
        return {};
    return m_lines[size_t(m_visible[size_t(row)] - m_lines.front().seq)].line;
}

QString LogModel::visibleText() const
{
    QStringList out;
    for (qint64 seq : m_visible)
        out << m_lines[size_t(seq - m_lines.front().seq)].line.text;
    return out.join(QLatin1Char('\n'));
}

QString LogModel::allText() const
{
    QStringList out;
    for (const auto &e : m_lines)
        out << e.line.text;
    return out.join(QLatin1Char('\n'));
}

int LogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_visible.size());
}

QVariant LogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    // Sequence numbers are consecutive in m_lines: the position is a subtraction.
    const Entry &e = m_lines[size_t(m_visible[size_t(index.row())] - m_lines.front().seq)];
    switch (role) {
    case Qt::DisplayRole:
        return e.line.text;
    case LevelRole:
        return int(e.line.level);
    case TimestampRole:
        return e.line.time;
    case MessageRole:
        return e.line.message;
    case MatchRole:
        return e.match;
    case SequenceRole:
        return e.seq;
    case RawRole:
        return e.line.text;
    default:
        return {};
    }
}

QHash<int, QByteArray> LogModel::roleNames() const
{
    auto names = QAbstractListModel::roleNames();
    names.insert(LevelRole, "level");
    names.insert(TimestampRole, "timestamp");
    names.insert(MessageRole, "message");
    names.insert(MatchRole, "match");
    names.insert(SequenceRole, "sequence");
    return names;
}

} // namespace dispatch::models
