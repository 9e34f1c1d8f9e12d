// Run statistics charts (Qt Charts) for the whole org or one function: invocations per bucket stacked by
// outcome with the error rate on a second axis, and p50/p95/p99 duration with cold-start markers. A range
// switch (15 min / 1 h / 24 h / 7 d), a one-line summary, hover tooltips with the bucket's exact values, and a
// click on a bar or point asks for the Runs panel filtered to that bucket. Follows the light and dark palettes.
// Used by the Dashboard page and, compact, by the function detail pane.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

#include "runsmodel.h"
#include "statsseriesmodel.h"

class QButtonGroup;
class QLabel;
class QTimer;

QT_BEGIN_NAMESPACE
class QBarSet;
class QCategoryAxis;
class QChart;
class QChartView;
class QLineSeries;
class QScatterSeries;
class QStackedBarSeries;
class QValueAxis;
QT_END_NAMESPACE

namespace dispatch::views {

class Workspace;

class StatsCharts : public QWidget
{
    Q_OBJECT
public:
    // `compact`: smaller charts for a detail pane.
    StatsCharts(Workspace *workspace, bool compact, QWidget *parent = nullptr);

    models::StatsSeriesModel *model() const { return m_model; }
    void setFunction(const QString &function);
    void setRange(models::StatsSeriesModel::Range range);

    QChartView *invocationsView() const { return m_invocationsView; }
    QChartView *durationView() const { return m_durationView; }
    QLabel *summaryLabel() const { return m_summary; }
    // What hovering a bucket shows (exact values).
    QString bucketText(int row) const;
    // Where bucket `row` is drawn in a chart view's viewport (tests click there): the middle of the
    // succeeded bar (invocations) or the p50 point (duration).
    QPoint invocationsPoint(int row) const;
    QPoint durationPoint(int row) const;
    // The Runs filter of one bucket ("" status = every outcome).
    models::RunFilter filterFor(int row, const QString &status) const;

signals:
    void runsRequested(const dispatch::models::RunFilter &filter, const QString &needle);

protected:
    void changeEvent(QEvent *event) override;
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void scheduleRebuild();
    void rebuild();
    void applyColors();
    void updateSummary();
    void showTip(int row);
    int durationRowAt(const QPoint &viewportPos) const; // -1 outside the plot
    void unalignPlots();
    void alignPlots();

    Workspace *m_workspace = nullptr;
    models::StatsSeriesModel *m_model = nullptr;
    bool m_compact = false;
    QTimer *m_rebuildTimer = nullptr;
    QButtonGroup *m_ranges = nullptr;
    QLabel *m_summary = nullptr;
    QLabel *m_state = nullptr;

    QChart *m_invocations = nullptr;
    QChartView *m_invocationsView = nullptr;
    QStackedBarSeries *m_bars = nullptr;
    QBarSet *m_ready = nullptr;
    QBarSet *m_inputErrors = nullptr;
    QBarSet *m_functionErrors = nullptr;
    QBarSet *m_systemErrors = nullptr;
    QLineSeries *m_errorRate = nullptr;
    QCategoryAxis *m_invocationsX = nullptr;
    QValueAxis *m_countAxis = nullptr;
    QValueAxis *m_rateAxis = nullptr;

    QChart *m_duration = nullptr;
    QChartView *m_durationView = nullptr;
    QLineSeries *m_p50 = nullptr;
    QLineSeries *m_p95 = nullptr;
    QLineSeries *m_p99 = nullptr;
    QScatterSeries *m_coldStarts = nullptr;
    QCategoryAxis *m_durationX = nullptr;
    QValueAxis *m_msAxis = nullptr;
    QValueAxis *m_coldAxis = nullptr;
    QTimer *m_alignTimer = nullptr;
    bool m_plotsFixed = false; // the plot areas are set by alignPlots (same left and right edges)
    QLabel *m_legend = nullptr; // compact: a legend that wraps (the charts' own legends are hidden)
};

} // namespace dispatch::views
