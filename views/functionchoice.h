// The "Function:" filter of the Runs and Dashboard panels: "All functions" (an empty name), then every function
// of the current context by name, kept up to date as functions come and go. A selected name that is not (or no
// longer) in the list stays selectable, so a filter never silently turns into "All functions".
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QComboBox>

namespace dispatch::models {
class FunctionsModel;
}

namespace dispatch::views {

class FunctionChoice : public QComboBox
{
    Q_OBJECT
public:
    FunctionChoice(models::FunctionsModel *functions, QWidget *parent);

    QString function() const { return currentData().toString(); } // empty = all functions
    // Selects `function` (empty = all), adding it when the list lacks it. Emits currentIndexChanged as usual.
    void select(const QString &function);

private:
    void refill(); // keeps the selection, without signals
    models::FunctionsModel *m_functions;
};

} // namespace dispatch::views
