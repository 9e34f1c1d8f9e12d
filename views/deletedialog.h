// One confirmation for a (multi-select) delete that lists, per item, what depends on it.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>
#include <QMap>
#include <QStringList>

namespace dispatch::views {

class DeleteDialog : public QDialog
{
    Q_OBJECT
public:
    // `kind` is the user-facing noun (plural form chosen by count); `dependants[name]` lists "API api-hello",
    // "subscription cron-sub", … that use the item.
    DeleteDialog(const QString &kind, const QStringList &names, const QMap<QString, QStringList> &dependants,
                 const QString &contextName, QWidget *parent = nullptr);
};

} // namespace dispatch::views
