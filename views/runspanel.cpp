// SPDX-License-Identifier: GPL-3.0-or-later
#include "runspanel.h"

#include "execdialog.h"
#include "functioneditor.h"
#include "functionchoice.h"
#include "functionsmodel.h"
#include "jsontext.h"
#include "messagebar.h"
#include "replaydialog.h"
#include "resourcepanel.h"
#include "resourceview.h"
#include "restclient.h"
#include "roles.h"
#include "runsmodel.h"
#include "statusdelegate.h"
#include "workspace.h"

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace dispatch::views {

using Json = nlohmann::json;
using models::RunsModel;

namespace {

class EmptyOverlayFilter : public QObject
{
public:
    EmptyOverlayFilter(QWidget *viewport, QLabel *label) : QObject(label), m_viewport(viewport), m_label(label) {}
    bool eventFilter(QObject *o, QEvent *e) override
    {
        if (o == m_viewport && e->type() == QEvent::Resize)
            m_label->setGeometry(m_viewport->rect().adjusted(20, 20, -20, -20));
        return false;
    }

private:
    QWidget *m_viewport;
    QLabel *m_label;
};

} // namespace

RunsPanel::RunsPanel(Workspace *workspace, QWidget *parent) : Panel(parent), m_workspace(workspace)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(12, 10, 12, 8);
    layout->addWidget(makePanelHeading(tr("Runs"), tr("Every run of every function, newest first, as it happens."), this));

    auto *bar = new QHBoxLayout;
    m_function = new FunctionChoice(workspace->functions(), this);
    m_function->setObjectName(QStringLiteral("runsFunctionFilter"));
    m_function->setAccessibleName(tr("Function filter"));
    m_status = new QComboBox(this);
    m_status->setObjectName(QStringLiteral("runsStatusFilter"));
    m_status->setAccessibleName(tr("Status filter"));
    m_status->addItem(tr("Any status"), QString());
    m_status->addItem(tr("Succeeded (READY)"), QStringLiteral("READY"));
    m_status->addItem(tr("Failed (ERROR)"), QStringLiteral("ERROR"));
    m_status->addItem(tr("Running"), QStringLiteral("CREATING"));
    bar->addWidget(new QLabel(tr("Function:"), this));
    bar->addWidget(m_function);
    bar->addWidget(new QLabel(tr("Status:"), this));
    bar->addWidget(m_status);
    m_timeRange = new QPushButton(this);
    m_timeRange->setObjectName(QStringLiteral("runsTimeRange"));
    m_timeRange->setFlat(true);
    m_timeRange->setToolTip(tr("Only runs started in this time range; click to show every time"));
    m_timeRange->hide();
    bar->addWidget(m_timeRange);
    m_count = new QLabel(this);
    m_count->setObjectName(QStringLiteral("runsCount"));
    m_count->setForegroundRole(QPalette::PlaceholderText);
    bar->addWidget(m_count);
    bar->addStretch(1);
    m_filter = new QLineEdit(this);
    m_filter->setObjectName(QStringLiteral("filterEdit"));
    m_filter->setPlaceholderText(tr("Filter loaded runs  ( / )"));
    m_filter->setAccessibleName(tr("Filter runs"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setMinimumWidth(220);
    bar->addWidget(m_filter);
    layout->addLayout(bar);

    m_newRuns = new QPushButton(this);
    m_newRuns->setObjectName(QStringLiteral("newRunsButton"));
    m_newRuns->hide();
    layout->addWidget(m_newRuns);

    auto *split = new QSplitter(Qt::Horizontal, this);
    split->setChildrenCollapsible(false);
    m_proxy = new ResourceFilterProxy(this);
    m_proxy->setSourceModel(workspace->runs());
    m_proxy->setDynamicSortFilter(false); // newest first as the model keeps them; no reordering
    m_table = new QTableView(split);
    m_table->setObjectName(QStringLiteral("runsTable"));
    m_table->setAccessibleName(tr("Runs table"));
    m_table->setModel(m_proxy);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setVerticalScrollMode(QAbstractItemView::ScrollPerItem);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    // Run ids are time-ordered UUIDs: runs of the same moment share their beginning and differ at the end, so a
    // narrow column must keep the end visible.
    m_table->setTextElideMode(Qt::ElideMiddle);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 10);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setItemDelegateForColumn(RunsModel::StatusColumn,
                                      new StatusDelegate(m_table, [](const QModelIndex &i) {
                                          return i.data(models::ReasonRole).toString();
                                      }));
    const QFontMetrics fm = m_table->fontMetrics();
    m_table->setColumnWidth(RunsModel::IdColumn, fm.horizontalAdvance(QStringLiteral("00000000-000\u2026")) + 12);
    m_table->setColumnWidth(RunsModel::FunctionColumn, fm.horizontalAdvance(QStringLiteral("hello-world-fn")) + 12);
    m_table->setColumnWidth(RunsModel::StatusColumn, fm.horizontalAdvance(QStringLiteral("INITIALIZED")) + 40);
    m_table->setColumnWidth(RunsModel::ErrorTypeColumn, fm.horizontalAdvance(QStringLiteral("FunctionError")) + 12);
    m_table->setColumnWidth(RunsModel::StartedColumn, fm.horizontalAdvance(QStringLiteral("2026-01-01 00:00:00.000")) + 12);
    m_table->setColumnWidth(RunsModel::DurationColumn, fm.horizontalAdvance(QStringLiteral("2 min 30 s")) + 12);
    m_table->setColumnWidth(RunsModel::TriggerColumn, fm.horizontalAdvance(QStringLiteral("POST /dispatch/hello")) + 12);
    m_empty = new QLabel(m_table->viewport());
    m_empty->setObjectName(QStringLiteral("emptyState"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setForegroundRole(QPalette::PlaceholderText);
    m_table->viewport()->installEventFilter(new EmptyOverlayFilter(m_table->viewport(), m_empty));

    // Detail pane.
    auto *detail = new QWidget(split);
    detail->setObjectName(QStringLiteral("runDetail"));
    auto *d = new QVBoxLayout(detail);
    d->setContentsMargins(10, 0, 0, 0);
    auto *titleRow = new QHBoxLayout;
    m_detailTitle = new QLabel(tr("Select a run to see its input, output, error and logs."), detail);
    m_detailTitle->setObjectName(QStringLiteral("runTitle"));
    m_detailTitle->setWordWrap(true);
    m_detailTitle->setTextInteractionFlags(Qt::TextSelectableByMouse);
    titleRow->addWidget(m_detailTitle, 1);
    m_badge = new StatusBadge(detail);
    titleRow->addWidget(m_badge);
    d->addLayout(titleRow);
    m_fields = new QLabel(detail);
    m_fields->setObjectName(QStringLiteral("runFields"));
    m_fields->setTextFormat(Qt::RichText);
    m_fields->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_fields->setWordWrap(true);
    d->addWidget(m_fields);
    m_rerun = new QPushButton(tr("Run &again with this input\u2026"), detail);
    m_rerun->setObjectName(QStringLiteral("rerunButton"));
    m_rerun->setEnabled(false);
    auto *rerunRow = new QHBoxLayout;
    rerunRow->addWidget(m_rerun);
    m_openCode = new QPushButton(tr("Open &code of this run"), detail);
    m_openCode->setObjectName(QStringLiteral("openRunCodeButton"));
    m_openCode->setToolTip(tr("Open the revision of the function that produced this run in the editor"));
    m_openCode->setEnabled(false);
    m_replay = new QPushButton(tr("Re&play"), detail);
    m_replay->setObjectName(QStringLiteral("replayButton"));
    m_replay->setToolTip(tr("Run this input against the current code and compare both outcomes"));
    m_replay->setEnabled(false);
    rerunRow->addWidget(m_openCode);
    rerunRow->addWidget(m_replay);
    rerunRow->addStretch(1);
    d->addLayout(rerunRow);
    m_tabs = new QTabWidget(detail);
    m_tabs->setObjectName(QStringLiteral("runTabs"));
    m_input = makeCodeView(m_tabs, QStringLiteral("runInput"));
    m_output = makeCodeView(m_tabs, QStringLiteral("runOutput"));
    m_error = makeCodeView(m_tabs, QStringLiteral("runError"));
    m_logs = makeCodeView(m_tabs, QStringLiteral("runLogs"));
    m_trigger = makeCodeView(m_tabs, QStringLiteral("runTrigger"));
    m_json = makeCodeView(m_tabs, QStringLiteral("runJson"));
    m_tabs->addTab(m_input, tr("Input"));
    m_tabs->addTab(m_output, tr("Output"));
    m_tabs->addTab(m_error, tr("Error"));
    m_tabs->addTab(m_logs, tr("Logs"));
    m_tabs->addTab(m_trigger, tr("Trigger"));
    m_tabs->addTab(m_json, tr("JSON"));
    d->addWidget(m_tabs, 1);
    split->addWidget(m_table);
    split->addWidget(detail);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setSizes({760, 380});
    layout->addWidget(split, 1);

    auto *runs = workspace->runs();
    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString &t) {
        m_proxy->setNeedle(t);
        updateEmptyState();
    });
    connect(m_function, &QComboBox::currentIndexChanged, this, &RunsPanel::applyFilter);
    connect(m_status, &QComboBox::currentIndexChanged, this, &RunsPanel::applyFilter);
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, &RunsPanel::loadDetail);
    connect(m_newRuns, &QPushButton::clicked, this, &RunsPanel::jumpToLatest);
    connect(m_timeRange, &QPushButton::clicked, this, [this] {
        models::RunFilter f = m_workspace->runs()->filter();
        f.from = {};
        f.to = {};
        m_workspace->runs()->setFilter(f);
        updateTimeRangeChip();
    });
    connect(m_rerun, &QPushButton::clicked, this, [this] {
        if (!m_run.is_object())
            return;
        emit rerunRequested(jsonString(m_run, "functionName"),
                            m_run.contains("input") ? prettyJson(m_run["input"]) : QStringLiteral("{}"));
    });

    connect(m_openCode, &QPushButton::clicked, this, [this] {
        if (m_run.is_object())
            FunctionEditor::openFor(m_workspace, jsonString(m_run, "functionName"), jsonString(m_run, "faasId"), window());
    });
    connect(m_replay, &QPushButton::clicked, this, [this] {
        if (!m_run.is_object())
            return;
        auto *dialog = new ReplayDialog(m_workspace, m_run, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->open();
    });

    // The scroll anchor: rows inserted above the viewport push the scroll value by as many rows, so what the
    // reader looks at stays put; the count goes to the "N new runs" button. Live runs arrive at row 0 and pages
    // at the end; any insert at or above the first visible row moves the view, so the rule holds whatever the
    // model's insert position.
    connect(m_proxy, &QAbstractItemModel::rowsAboutToBeInserted, this, [this](const QModelIndex &, int first, int) {
        m_topBefore = m_table->verticalScrollBar()->value(); // per-item scrolling: the first visible row
        m_wasAtTop = m_topBefore == 0 && m_newCount == 0;
        Q_UNUSED(first)
    });
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, [this](const QModelIndex &, int first, int last) {
        updateEmptyState();
        const int count = last - first + 1;
        const bool selected = m_table->selectionModel()->hasSelection();
        if (m_wasAtTop && !selected)
            return; // at the top and reading nothing in particular: the newest simply appear
        if (first > m_topBefore)
            return; // below the first visible row (a page at the end, or a run among those on screen)
        QScrollBar *sb = m_table->verticalScrollBar();
        const int value = sb->value();
        sb->setMaximum(sb->maximum() + count);
        sb->setValue(value + count);
        m_topBefore += count; // several ranges of one change arrive one after the other
        m_newCount += count;
        m_newRuns->setText(m_newCount == 1 ? tr("\u2191 1 new run \u2014 jump to latest")
                                           : tr("\u2191 %1 new runs \u2014 jump to latest").arg(m_newCount));
        m_newRuns->show();
    });
    connect(m_table->verticalScrollBar(), &QScrollBar::valueChanged, this, [this](int v) {
        if (v == 0 && m_newCount > 0) {
            m_newCount = 0;
            m_newRuns->hide();
        }
    });
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &RunsPanel::updateEmptyState);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, [this] {
        m_newCount = 0;
        m_newRuns->hide();
        updateEmptyState();
    });
    connect(runs, &RunsModel::loadingChanged, this, &RunsPanel::updateEmptyState);
    connect(runs, &RunsModel::loadFailed, this, &RunsPanel::updateEmptyState);
    connect(runs, &RunsModel::dataChanged, this, [this](const QModelIndex &tl, const QModelIndex &br) {
        const QString id = selectedRunId();
        if (id.isEmpty() || id == m_loadingId)
            return;
        const int row = m_workspace->runs()->rowOfRun(id);
        if (row >= tl.row() && row <= br.row()) {
            const QString status = m_workspace->runs()->index(row, RunsModel::StatusColumn).data(models::RawRole).toString();
            if (status != jsonString(m_run, "status"))
                loadDetail(); // it finished: fetch output and logs
        }
    });
    updateEmptyState();
}

void RunsPanel::activate()
{
    auto *runs = m_workspace->runs();
    if (!runs->hasLoaded() && !runs->isLoading())
        runs->reload();
}

void RunsPanel::showFunction(const QString &function)
{
    // "The runs of this function" means all of them: a time range left from a chart click goes.
    models::RunFilter f = m_workspace->runs()->filter();
    if (f.from.isValid() || f.to.isValid()) {
        f.from = {};
        f.to = {};
        f.functionName = function;
        m_workspace->runs()->setFilter(f);
        updateTimeRangeChip();
    }
    m_function->select(function);
}

void RunsPanel::showRuns(const models::RunFilter &filter, const QString &needle)
{
    {
        QSignalBlocker blockFunction(m_function);
        QSignalBlocker blockStatus(m_status);
        m_function->select(filter.functionName);
        m_status->setCurrentIndex(std::max(0, m_status->findData(filter.status)));
    }
    m_workspace->runs()->setFilter(filter);
    m_filter->setText(needle);
    updateTimeRangeChip();
}

void RunsPanel::updateTimeRangeChip()
{
    const models::RunFilter f = m_workspace->runs()->filter();
    if (!f.from.isValid() && !f.to.isValid()) {
        m_timeRange->hide();
        return;
    }
    const QDateTime from = f.from.toLocalTime();
    const QDateTime to = f.to.toLocalTime();
    const bool sameDay = from.isValid() && to.isValid() && from.date() == to.addSecs(-1).date();
    const QString fmt = QStringLiteral("yyyy-MM-dd HH:mm:ss");
    const QString text = sameDay ? tr("%1 %2 \u2013 %3").arg(from.toString(QStringLiteral("yyyy-MM-dd")),
                                                           from.toString(QStringLiteral("HH:mm:ss")),
                                                           to.toString(QStringLiteral("HH:mm:ss")))
                                 : tr("%1 \u2013 %2").arg(from.isValid() ? from.toString(fmt) : tr("any time"),
                                                         to.isValid() ? to.toString(fmt) : tr("now"));
    m_timeRange->setText(tr("Started %1  \u2715").arg(text));
    m_timeRange->setAccessibleName(tr("Time range %1; activate to show every time").arg(text));
    m_timeRange->show();
}

void RunsPanel::applyFilter()
{
    models::RunFilter f = m_workspace->runs()->filter();
    f.functionName = m_function->function();
    f.status = m_status->currentData().toString();
    m_workspace->runs()->setFilter(f);
}

void RunsPanel::jumpToLatest()
{
    m_newCount = 0;
    m_newRuns->hide();
    m_table->scrollToTop();
}

void RunsPanel::updateEmptyState()
{
    auto *runs = m_workspace->runs();
    const int loaded = runs->rowCount();
    const QString count = loaded == 1 ? tr("1 run") : tr("%1 runs").arg(loaded);
    m_count->setText(runs->isComplete() ? count : tr("%1 loaded").arg(count));
    if (m_proxy->rowCount() > 0) {
        m_empty->hide();
        return;
    }
    QString text;
    if (loaded > 0)
        text = tr("No loaded run matches \u201c%1\u201d.").arg(m_filter->text());
    else if (!runs->lastError().isEmpty() && !runs->isLoading())
        text = tr("Cannot load runs.\n%1").arg(runs->lastError());
    else if (runs->isLoading() || !runs->hasLoaded())
        text = tr("Loading runs\u2026");
    else
        text = tr("No runs yet.\nRun a function from the Functions page (Ctrl+R), call one of its APIs, or set up the "
                  "walkthrough (Demo menu) to see runs arrive here live.");
    m_empty->setGeometry(m_table->viewport()->rect().adjusted(20, 20, -20, -20));
    m_empty->setText(text);
    m_empty->show();
    m_empty->raise();
}

QString RunsPanel::selectedRunId() const
{
    const auto rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : rows.first().data(models::RunIdRole).toString();
}

bool RunsPanel::selectRun(const QString &runId)
{
    const int row = m_workspace->runs()->rowOfRun(runId);
    if (row < 0)
        return false;
    const QModelIndex i = m_proxy->mapFromSource(m_workspace->runs()->index(row, 0));
    if (!i.isValid())
        return false;
    m_table->selectionModel()->setCurrentIndex(i, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_table->scrollTo(i);
    return true;
}

void RunsPanel::loadDetail()
{
    const QString id = selectedRunId();
    if (id.isEmpty()) {
        showRun(Json());
        return;
    }
    const int row = m_workspace->runs()->rowOfRun(id);
    const Json summary = m_workspace->runs()->summaryAt(row);
    if (!m_run.is_object() || jsonString(m_run, "name") != id)
        showRun(summary);
    const QString fn = jsonString(summary, "functionName");
    m_loadingId = id;
    m_workspace->client()->get(QStringLiteral("/v1/runs/%1?functionName=%2").arg(id, fn), this,
                               [this, id](const models::ApiResult &r) {
                                   m_loadingId.clear();
                                   if (selectedRunId() != id)
                                       return;
                                   if (r.ok())
                                       showRun(r.json);
                                   else
                                       m_error->setPlainText(tr("Cannot load the run: %1").arg(r.errorMessage));
                               });
}

void RunsPanel::showRun(const Json &run)
{
    m_run = run;
    const bool has = run.is_object();
    m_rerun->setEnabled(has);
    m_openCode->setEnabled(has && !jsonString(run, "faasId").isEmpty());
    m_replay->setEnabled(has);
    if (!has) {
        m_detailTitle->setText(tr("Select a run to see its input, output, error and logs."));
        m_badge->setStatus({});
        m_fields->clear();
        for (auto *v : {m_input, m_output, m_error, m_logs, m_trigger, m_json})
            v->clear();
        return;
    }
    const QString id = jsonString(run, "name");
    const QString fn = jsonString(run, "functionName");
    m_detailTitle->setText(tr("<b>%1</b> \u00b7 run %2").arg(fn.toHtmlEscaped(), id.toHtmlEscaped()));
    const QString errorText = runErrorText(run);
    m_badge->setStatus(jsonString(run, "status"), errorText);
    const qint64 executed = RunsModel::toNanoseconds(jsonInt(run, "executedTime", 0));
    const qint64 finished = RunsModel::toNanoseconds(jsonInt(run, "finishedTime", 0));
    qint64 duration = jsonInt(run, "durationNs", -1);
    const qint64 wall = finished > 0 && executed > 0 ? finished - executed : -1;
    if (duration < 0)
        duration = wall;
    QString trigger = tr("manual");
    if (run.contains("httpContext") && run["httpContext"].is_object())
        trigger = tr("API %1 %2").arg(jsonString(run["httpContext"], "method"),
                                      jsonString(run["httpContext"], "path"));
    else if (run.contains("event") && run["event"].is_object())
        trigger = tr("event %1").arg(jsonString(run["event"], "eventType"));
    const auto row = [](const QString &k, const QString &v) {
        return QStringLiteral("<tr><td style='padding-right:10px'><b>%1</b></td><td>%2</td></tr>").arg(k, v.toHtmlEscaped());
    };
    QString html = QStringLiteral("<table>");
    html += row(tr("Started"), formatUnixNs(executed));
    html += row(tr("Finished"), formatUnixNs(finished));
    html += row(tr("Duration"), RunsModel::formatDuration(duration)
                                    + (wall >= 0 && wall != duration ? tr(" (wall %1)").arg(RunsModel::formatDuration(wall))
                                                                     : QString()));
    if (jsonBool(run, "coldStart", false))
        html += row(tr("Cold start"), tr("yes \u2014 a worker had to start"));
    html += row(tr("Trigger"), trigger);
    html += QStringLiteral("</table>");
    m_fields->setText(html);
    m_input->setPlainText(run.contains("input") ? prettyJson(run["input"]) : tr("(no input)"));
    m_output->setPlainText(run.contains("output") ? prettyJson(run["output"]) : QString());
    m_error->setPlainText(errorText);
    const QString logs = runLogsText(run);
    m_logs->setPlainText(logs.isEmpty() ? tr("(nothing printed)") : logs);
    QString triggerText;
    if (run.contains("event") && !run["event"].is_null())
        triggerText += tr("Event:\n") + prettyJson(run["event"]) + QStringLiteral("\n\n");
    if (run.contains("httpContext") && !run["httpContext"].is_null())
        triggerText += tr("HTTP context:\n") + prettyJson(run["httpContext"]);
    m_trigger->setPlainText(triggerText.isEmpty() ? tr("Run manually (no event, no HTTP request).") : triggerText);
    m_json->setPlainText(prettyJson(run));
    m_tabs->setTabText(2, errorText.isEmpty() ? tr("Error") : tr("Error \u26a0"));
}

} // namespace dispatch::views
