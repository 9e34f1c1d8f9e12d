// Ctrl+Shift+L: pick a context (type to filter, Enter to switch), or add a remote one. Each context shows its
// colour and address.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>

class QLineEdit;
class QListWidget;

namespace dispatch::models {
class ContextStore;
}

namespace dispatch::views {

class ContextSwitcher : public QDialog
{
    Q_OBJECT
public:
    explicit ContextSwitcher(models::ContextStore *store, QWidget *parent = nullptr);
    QString selectedName() const;
    QListWidget *list() const { return m_list; }

public slots:
    void addContext();

private:
    void fill();
    models::ContextStore *m_store;
    QLineEdit *m_filter = nullptr;
    QListWidget *m_list = nullptr;
};

// A small square in a context's colour (lists, menus).
QIcon contextSwatch(const QColor &color);

} // namespace dispatch::views
