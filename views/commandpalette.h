// The command palette (Ctrl+K): one search box over every menu action, every page, every function and every
// context. Words match in any order, case-insensitively; Enter runs the highlighted entry, Esc closes.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>

#include <functional>
#include <vector>

class QLineEdit;
class QListView;
class QSortFilterProxyModel;
class QStandardItemModel;

namespace dispatch::views {

class CommandPalette : public QDialog
{
    Q_OBJECT
public:
    explicit CommandPalette(QWidget *parent = nullptr);

    // `section` is shown before the text ("Go", "Function", ...); `shortcut` on the right when not empty.
    void addEntry(const QString &section, const QString &text, const QString &shortcut, std::function<void()> run);
    void clearEntries();
    int entryCount() const { return int(m_entries.size()); }

    QLineEdit *searchEdit() const { return m_search; }
    QListView *list() const { return m_list; }
    int visibleCount() const;
    // Runs the highlighted entry (or the first one shown) and closes; false when nothing matches.
    bool runCurrent();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void applyFilter(const QString &text);

    QLineEdit *m_search = nullptr;
    QListView *m_list = nullptr;
    QStandardItemModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    std::vector<std::function<void()>> m_entries;
};

} // namespace dispatch::views
