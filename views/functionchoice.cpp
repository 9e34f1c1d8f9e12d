// SPDX-License-Identifier: GPL-3.0-or-later
#include "views/functionchoice.h"

#include <QSignalBlocker>

#include <algorithm>

#include "models/functionsmodel.h"

namespace dispatch::views {

FunctionChoice::FunctionChoice(models::FunctionsModel *functions, QWidget *parent)
    : QComboBox(parent), m_functions(functions)
{
    setMinimumContentsLength(16);
    connect(functions, &QAbstractItemModel::rowsInserted, this, &FunctionChoice::refill);
    connect(functions, &QAbstractItemModel::rowsRemoved, this, &FunctionChoice::refill);
    connect(functions, &QAbstractItemModel::modelReset, this, &FunctionChoice::refill);
    refill();
}

void FunctionChoice::select(const QString &function)
{
    if (!function.isEmpty() && findData(function) < 0)
        addItem(function, function);
    setCurrentIndex(std::max(0, findData(function)));
}

void FunctionChoice::refill()
{
    const QString current = function();
    QStringList names = m_functions->names();
    names.sort();
    QSignalBlocker block(this);
    clear();
    addItem(tr("All functions"), QString());
    for (const auto &n : names)
        addItem(n, n);
    select(current);
}

} // namespace dispatch::views
