// Dashboard: run analytics for the whole org or one function (charts from the server's rollups, live) and the
// failed runs grouped by error type and message. A click on a bucket or an error group opens the Runs panel
// filtered to those runs.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "panel.h"
#include "runsmodel.h"

class QComboBox;
class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace dispatch::models {
class ErrorGroupsModel;
}

namespace dispatch::views {

class FunctionChoice;

class StatsCharts;
class Workspace;

class DashboardPanel : public Panel
{
    Q_OBJECT
public:
    explicit DashboardPanel(Workspace *workspace, QWidget *parent = nullptr);

    QString title() const override { return tr("Dashboard"); }
    void activate() override;

    // The page's parts (made on first use).
    StatsCharts *charts();
    models::ErrorGroupsModel *errorGroups();
    QTableView *errorTable();
    void showFunction(const QString &function); // "" = every function

protected:
    void showEvent(QShowEvent *event) override;

signals:
    void runsRequested(const dispatch::models::RunFilter &filter, const QString &needle);

private:
    void ensureBuilt();
    void refreshErrors();
    void openErrorGroup(const QModelIndex &proxyIndex);
    void updateErrorState();

    Workspace *m_workspace = nullptr;
    FunctionChoice *m_function = nullptr;
    StatsCharts *m_charts = nullptr;
    models::ErrorGroupsModel *m_errors = nullptr;
    QSortFilterProxyModel *m_errorProxy = nullptr;
    QTableView *m_errorTable = nullptr;
    QLabel *m_errorTitle = nullptr;
    QLabel *m_errorEmpty = nullptr;
};

} // namespace dispatch::views
