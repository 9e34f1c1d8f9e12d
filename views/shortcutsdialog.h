// The "?" cheat sheet: every keyboard shortcut of the window, grouped.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>
#include <QKeySequence>
#include <QList>
#include <QString>

namespace dispatch::views {

struct ShortcutEntry
{
    QString group;
    QKeySequence keys;
    QString what;
};

class ShortcutsDialog : public QDialog
{
    Q_OBJECT
public:
    explicit ShortcutsDialog(const QList<ShortcutEntry> &entries, QWidget *parent = nullptr);
};

} // namespace dispatch::views
