// The server log as a list: capped ring buffer (oldest lines drop off the top), appends batched into one insert,
// a minimum-level filter, and search as roles (MatchRole) with next/previous match so views highlight instead
// of hiding.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractListModel>
#include <QList>
#include <QRegularExpression>
#include <QString>
#include <QTimer>

#include <chrono>
#include <deque>

#include "logline.h"
#include "roles.h"

namespace dispatch::models {

class LocalServer;

class LogModel : public QAbstractListModel
{
    Q_OBJECT

public:
    static constexpr int kDefaultCapacity = 5000;
    static constexpr std::chrono::milliseconds kFlushInterval{50};

    explicit LogModel(QObject *parent = nullptr);

    void setCapacity(int lines); // trims at once
    int capacity() const { return m_capacity; }

    // Queued; inserted in one batch at most every kFlushInterval (flush() to do it now).
    void append(const LogLine &line);
    void append(const QList<LogLine> &lines);
    void flush();
    void clear();
    // Follows a server: takes its recent log, then every new line.
    void follow(LocalServer *server);

    // Only lines at this level or above (Unknown lines — continuations — are always shown). Resets the view.
    void setMinimumLevel(LogLevel level);
    LogLevel minimumLevel() const { return m_minLevel; }

    // Search: sets MatchRole; does not hide lines. Empty = no search.
    void setSearch(const QString &text, bool regularExpression = false, bool caseSensitive = false);
    QString searchText() const { return m_searchText; }
    bool isSearchValid() const { return m_searchValid; } // false for a broken regular expression
    int nextMatch(int fromRow) const;     // first matching row after fromRow (wraps); -1 when none
    int previousMatch(int fromRow) const; // last matching row before fromRow (wraps); -1 when none
    int matchCount() const;

    int totalLines() const { return int(m_lines.size()); } // kept, before the level filter
    LogLine lineAt(int row) const;
    QString visibleText() const; // every visible line, newline-separated (copy / save)
    QString allText() const;     // every kept line

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

signals:
    void linesAppended(int count); // visible rows inserted by a flush

private:
    struct Entry
    {
        LogLine line;
        qint64 seq = 0;
        bool match = false;
    };
    bool visible(const Entry &e) const;
    bool matches(const LogLine &line) const;
    void trim();

    int m_capacity = kDefaultCapacity;
    std::deque<Entry> m_lines;    // every kept line, oldest first
    std::deque<qint64> m_visible; // seqs of visible lines, oldest first
    qint64 m_nextSeq = 0;
    QList<LogLine> m_pending;
    QTimer m_flushTimer;
    LogLevel m_minLevel = LogLevel::Trace;
    QString m_searchText;
    QRegularExpression m_search;
    bool m_searchValid = true;
    QMetaObject::Connection m_followConnection;
};

} // namespace dispatch::models
