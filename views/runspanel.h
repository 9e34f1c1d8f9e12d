// Runs: the live run history (newest first, paged lazily) with a detail pane (input, output, error, logs,
// trigger, timings). Live inserts keep the selection and the scroll anchor; away from the top, a
// "N new runs — jump to latest" button appears instead of the rows moving under the reader.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "panel.h"
#include "runsmodel.h"

#include <QPersistentModelIndex>

#include <nlohmann/json.hpp>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;
class QTableView;

namespace dispatch::views {

class FunctionChoice;

class ResourceFilterProxy;
class StatusBadge;
class Workspace;

class RunsPanel : public Panel
{
    Q_OBJECT
public:
    explicit RunsPanel(Workspace *workspace, QWidget *parent = nullptr);

    QString title() const override { return tr("Runs"); }
    QLineEdit *filterEdit() const override { return m_filter; }
    void activate() override;

    QTableView *table() const { return m_table; }
    QPushButton *newRunsButton() const { return m_newRuns; }
    int newRunsCount() const { return m_newCount; }
    QString selectedRunId() const;
    bool selectRun(const QString &runId);
    nlohmann::json shownRun() const { return m_run; }
    void showFunction(const QString &function); // filter by a function ("" = all)
    // Shows exactly these runs (function, status, start time range; e.g. one minute of the dashboard) and puts
    // `needle` in the text filter. The time range shows as a chip until cleared.
    void showRuns(const models::RunFilter &filter, const QString &needle = {});
    QPushButton *timeRangeChip() const { return m_timeRange; }

signals:
    void rerunRequested(const QString &function, const QString &inputJson);

private:
    void applyFilter();
    void loadDetail();
    void showRun(const nlohmann::json &run);
    void jumpToLatest();
    void updateEmptyState();
    void updateTimeRangeChip();

    Workspace *m_workspace = nullptr;
    ResourceFilterProxy *m_proxy = nullptr;
    QTableView *m_table = nullptr;
    QLineEdit *m_filter = nullptr;
    FunctionChoice *m_function = nullptr;
    QComboBox *m_status = nullptr;
    QPushButton *m_newRuns = nullptr;
    QPushButton *m_timeRange = nullptr;
    QLabel *m_empty = nullptr;
    QLabel *m_count = nullptr;
    int m_newCount = 0;
    bool m_wasAtTop = true;
    int m_topBefore = 0; // the first visible row before an insert

    // Detail
    QLabel *m_detailTitle = nullptr;
    StatusBadge *m_badge = nullptr;
    QLabel *m_fields = nullptr;
    QTabWidget *m_tabs = nullptr;
    QPlainTextEdit *m_input = nullptr;
    QPlainTextEdit *m_output = nullptr;
    QPlainTextEdit *m_error = nullptr;
    QPlainTextEdit *m_logs = nullptr;
    QPlainTextEdit *m_trigger = nullptr;
    QPlainTextEdit *m_json = nullptr;
    QPushButton *m_rerun = nullptr;
    QPushButton *m_openCode = nullptr; // "Open code of this run" (views/editor/functioneditor.h)
    QPushButton *m_replay = nullptr;   // "Replay" against the current code (views/editor/replaydialog.h)
    nlohmann::json m_run;
    QString m_loadingId;
};

} // namespace dispatch::views
