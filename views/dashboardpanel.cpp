// SPDX-License-Identifier: GPL-3.0-or-later
#include "dashboardpanel.h"

#include "errorgroupsmodel.h"
#include "functionchoice.h"
#include "functionsmodel.h"
#include "resourcepanel.h"
#include "statscharts.h"
#include "workspace.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

namespace dispatch::views {

DashboardPanel::DashboardPanel(Workspace *workspace, QWidget *parent) : Panel(parent), m_workspace(workspace)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(12, 10, 12, 8);
    layout->addWidget(makePanelHeading(
        tr("Dashboard"), tr("Invocations, errors and latency from the server's rollups, live as runs finish."), this));

    auto *bar = new QHBoxLayout;
    m_function = new FunctionChoice(workspace->functions(), this);
    m_function->setObjectName(QStringLiteral("dashboardFunction"));
    m_function->setAccessibleName(tr("Function"));
    bar->addWidget(new QLabel(tr("Function:"), this));
    bar->addWidget(m_function);
    bar->addStretch(1);
    layout->addLayout(bar);

    connect(m_function, &QComboBox::currentIndexChanged, this, [this] {
        if (m_charts)
            m_charts->setFunction(m_function->function());
    });
}

void DashboardPanel::ensureBuilt()
{
    // The charts and the error table are made the first time the page is needed: a console that never opens
    // the Dashboard pays nothing for it.
    if (m_charts)
        return;
    auto *layout = static_cast<QVBoxLayout *>(this->layout());
    Workspace *workspace = m_workspace;
    auto *split = new QSplitter(Qt::Vertical, this);
    split->setChildrenCollapsible(false);
    m_charts = new StatsCharts(workspace, false, split);
    m_charts->setObjectName(QStringLiteral("dashboardCharts"));

    auto *errorsBox = new QWidget(split);
    auto *errorsLayout = new QVBoxLayout(errorsBox);
    errorsLayout->setContentsMargins(0, 6, 0, 0);
    m_errorTitle = new QLabel(tr("<b>Failed runs by error</b>"), errorsBox);
    errorsLayout->addWidget(m_errorTitle);
    m_errors = new models::ErrorGroupsModel(workspace->client(), this);
    m_errorProxy = new QSortFilterProxyModel(this);
    m_errorProxy->setSourceModel(m_errors);
    m_errorProxy->setSortRole(models::RawRole);
    m_errorTable = new QTableView(errorsBox);
    m_errorTable->setObjectName(QStringLiteral("errorGroupsTable"));
    m_errorTable->setAccessibleName(tr("Failed runs grouped by error type and message"));
    m_errorTable->setModel(m_errorProxy);
    m_errorTable->setSortingEnabled(true);
    m_errorTable->sortByColumn(models::ErrorGroupsModel::CountColumn, Qt::DescendingOrder);
    m_errorTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_errorTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_errorTable->setAlternatingRowColors(true);
    m_errorTable->setWordWrap(false);
    m_errorTable->verticalHeader()->hide();
    m_errorTable->setCursor(Qt::PointingHandCursor);
    m_errorTable->setToolTip(tr("Click a group to open its runs"));
    auto *header = m_errorTable->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::ResizeToContents);
    header->setSectionResizeMode(models::ErrorGroupsModel::MessageColumn, QHeaderView::Stretch);
    errorsLayout->addWidget(m_errorTable, 1);
    m_errorEmpty = new QLabel(errorsBox);
    m_errorEmpty->setObjectName(QStringLiteral("errorGroupsEmpty"));
    m_errorEmpty->setForegroundRole(QPalette::PlaceholderText);
    m_errorEmpty->setWordWrap(true);
    errorsLayout->addWidget(m_errorEmpty);
    split->addWidget(m_charts);
    split->addWidget(errorsBox);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    errorsBox->setMinimumHeight(100);
    split->setSizes({470, 190});
    layout->addWidget(split, 1);
    if (isVisible())
        split->show();

    m_charts->setFunction(m_function->function());
    connect(workspace, &Workspace::endpointChanged, this, [this] { m_errors->setClient(m_workspace->client()); });
    // The error groups follow the charts: same function and window, refreshed when the charts are.
    connect(m_charts->model(), &models::StatsSeriesModel::refreshed, this, &DashboardPanel::refreshErrors);
    connect(m_charts->model(), &QAbstractItemModel::modelReset, this, &DashboardPanel::refreshErrors);
    connect(m_errors, &models::ErrorGroupsModel::refreshed, this, &DashboardPanel::updateErrorState);
    connect(m_errors, &models::ErrorGroupsModel::loadFailed, this, &DashboardPanel::updateErrorState);
    connect(m_errorTable, &QTableView::clicked, this, &DashboardPanel::openErrorGroup);
    connect(m_errorTable, &QTableView::activated, this, &DashboardPanel::openErrorGroup);
    connect(m_charts, &StatsCharts::runsRequested, this, &DashboardPanel::runsRequested);
    updateErrorState();
}

StatsCharts *DashboardPanel::charts()
{
    ensureBuilt();
    return m_charts;
}

models::ErrorGroupsModel *DashboardPanel::errorGroups()
{
    ensureBuilt();
    return m_errors;
}

QTableView *DashboardPanel::errorTable()
{
    ensureBuilt();
    return m_errorTable;
}

void DashboardPanel::showEvent(QShowEvent *event)
{
    Panel::showEvent(event);
    ensureBuilt();
}

void DashboardPanel::activate()
{
    if (!isVisible())
        return;
    ensureBuilt();
    m_charts->model()->setActive(true);
}

void DashboardPanel::showFunction(const QString &function)
{
    m_function->select(function);
}

void DashboardPanel::refreshErrors()
{
    const auto *series = m_charts->model();
    if (!series->hasLoaded())
        return;
    m_errors->setWindow(series->function(), series->windowFrom(), series->windowTo());
    m_errors->refresh();
}

void DashboardPanel::updateErrorState()
{
    if (!m_errorTable)
        return;
    m_errorTable->setColumnHidden(models::ErrorGroupsModel::FunctionColumn, !m_errors->function().isEmpty());
    QString text;
    if (!m_errors->lastError().isEmpty())
        text = tr("Cannot load the error groups: %1").arg(m_errors->lastError());
    else if (m_errors->hasLoaded() && m_errors->rowCount() == 0)
        text = tr("No failed runs in this time range.");
    else if (m_errors->matched() > m_errors->rowCount())
        text = tr("Showing the %1 largest of %2 groups.").arg(m_errors->rowCount()).arg(m_errors->matched());
    m_errorEmpty->setText(text);
    m_errorEmpty->setVisible(!text.isEmpty());
}

void DashboardPanel::openErrorGroup(const QModelIndex &proxyIndex)
{
    if (!proxyIndex.isValid())
        return;
    const models::ErrorGroup &g = m_errors->groupAt(m_errorProxy->mapToSource(proxyIndex).row());
    models::RunFilter f;
    f.functionName = g.function;
    f.status = QStringLiteral("ERROR");
    f.from = QDateTime::fromSecsSinceEpoch(g.first, Qt::UTC);
    f.to = QDateTime::fromSecsSinceEpoch(g.last + 1, Qt::UTC);
    emit runsRequested(f, g.type);
}

} // namespace dispatch::views
