// SPDX-License-Identifier: GPL-3.0-or-later
#include "statscharts.h"

#include "restclient.h"
#include "theme.h"
#include "watchclient.h"
#include "workspace.h"

#include <QBarSet>
#include <QButtonGroup>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QCursor>
#include <QEvent>
#include <QGraphicsLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLocale>
#include <QMouseEvent>
#include <QScatterSeries>
#include <QStackedBarSeries>
#include <QTimer>
#include <QToolButton>
#include <QToolTip>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace dispatch::views {

using models::StatsBucket;
using models::StatsSeriesModel;
using Range = models::StatsSeriesModel::Range;

namespace {

// A "nice" upper bound for an axis: 1, 2, 5 × 10^n at or above `v` (at least `floor`).
double niceCeiling(double v, double floor)
{
    v = std::max(v, floor);
    const double magnitude = std::pow(10.0, std::floor(std::log10(v)));
    for (double step : {1.0, 2.0, 5.0, 10.0})
        if (step * magnitude >= v)
            return step * magnitude;
    return 10.0 * magnitude;
}

int labelEvery(Range range)
{
    switch (range) {
    case Range::FifteenMinutes:
        return 3;
    case Range::OneHour:
        return 10;
    case Range::OneDay:
        return 3;
    case Range::SevenDays:
        return 24;
    }
    return 10;
}

QChartView *makeView(QChart *chart, QWidget *parent, int minHeight)
{
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->setBackgroundRoundness(0);
    chart->legend()->setAlignment(Qt::AlignTop);
    chart->setAnimationOptions(QChart::NoAnimation); // live data: animations would lag behind the numbers
    auto *view = new QChartView(chart, parent);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(minHeight);
    view->setFrameShape(QFrame::NoFrame);
    return view;
}

} // namespace

StatsCharts::StatsCharts(Workspace *workspace, bool compact, QWidget *parent)
    : QWidget(parent), m_workspace(workspace), m_compact(compact)
{
    m_model = new StatsSeriesModel(workspace->client(), this);
    m_model->setActive(false); // until shown
    m_model->setWatchClient(workspace->watch());
    connect(workspace, &Workspace::endpointChanged, this, [this] { m_model->setClient(m_workspace->client()); });

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);

    auto *bar = new QHBoxLayout;
    bar->setSpacing(2);
    m_ranges = new QButtonGroup(this);
    m_ranges->setExclusive(true);
    const Range ranges[] = {Range::FifteenMinutes, Range::OneHour, Range::OneDay, Range::SevenDays};
    for (Range r : ranges) {
        auto *b = new QToolButton(this);
        b->setText(StatsSeriesModel::rangeLabel(r));
        b->setCheckable(true);
        b->setAutoRaise(true);
        b->setObjectName(QStringLiteral("range%1").arg(int(r)));
        b->setAccessibleName(tr("Show the last %1").arg(StatsSeriesModel::rangeLabel(r)));
        b->setToolTip(b->accessibleName());
        m_ranges->addButton(b, int(r));
        bar->addWidget(b);
    }
    m_ranges->button(int(m_model->range()))->setChecked(true);
    connect(m_ranges, &QButtonGroup::idClicked, this, [this](int id) { setRange(static_cast<Range>(id)); });
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("statsSummary"));
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    if (compact) {
        // A detail pane is narrow: the summary gets its own, wrapping line.
        bar->addStretch(1);
        layout->addLayout(bar);
        m_summary->setWordWrap(true);
        layout->addWidget(m_summary);
    } else {
        bar->addSpacing(12);
        bar->addWidget(m_summary, 1);
        layout->addLayout(bar);
    }

    m_state = new QLabel(this);
    m_state->setObjectName(QStringLiteral("statsState"));
    m_state->setWordWrap(true);
    m_state->hide();
    layout->addWidget(m_state);

    // Invocations, stacked by outcome, and the error rate on the right axis.
    m_invocations = new QChart;
    m_invocations->setTitle(compact ? QString() : tr("Invocations"));
    m_bars = new QStackedBarSeries(m_invocations);
    m_bars->setBarWidth(0.8);
    m_ready = new QBarSet(tr("Succeeded"), m_bars);
    m_inputErrors = new QBarSet(tr("Input error"), m_bars);
    m_functionErrors = new QBarSet(tr("Function error"), m_bars);
    m_systemErrors = new QBarSet(tr("System error"), m_bars);
    m_bars->append({m_ready, m_inputErrors, m_functionErrors, m_systemErrors});
    m_invocations->addSeries(m_bars);
    m_errorRate = new QLineSeries(m_invocations);
    m_errorRate->setName(tr("Error rate"));
    m_errorRate->setPointsVisible(true);
    m_invocations->addSeries(m_errorRate);
    m_invocationsX = new QCategoryAxis(m_invocations);
    m_invocationsX->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    m_countAxis = new QValueAxis(m_invocations);
    m_countAxis->setLabelFormat(QStringLiteral("%d"));
    m_countAxis->setTitleText(compact ? QString() : tr("runs"));
    m_rateAxis = new QValueAxis(m_invocations);
    m_rateAxis->setRange(0, 100);
    m_rateAxis->setLabelFormat(QStringLiteral("%d %%"));
    m_rateAxis->setTitleText(compact ? QString() : tr("failed"));
    m_invocations->addAxis(m_invocationsX, Qt::AlignBottom);
    m_invocations->addAxis(m_countAxis, Qt::AlignLeft);
    m_invocations->addAxis(m_rateAxis, Qt::AlignRight);
    m_bars->attachAxis(m_invocationsX);
    m_bars->attachAxis(m_countAxis);
    m_errorRate->attachAxis(m_invocationsX);
    m_errorRate->attachAxis(m_rateAxis);
    m_invocationsView = makeView(m_invocations, this, compact ? 170 : 150);
    m_invocationsView->setObjectName(QStringLiteral("invocationsChart"));
    m_invocationsView->setAccessibleName(tr("Invocations per bucket by outcome, and the error rate"));
    layout->addWidget(m_invocationsView, 1);

    // Duration percentiles with cold-start markers.
    m_duration = new QChart;
    m_duration->setTitle(compact ? QString() : tr("Duration"));
    m_p50 = new QLineSeries(m_duration);
    m_p50->setName(tr("p50"));
    m_p95 = new QLineSeries(m_duration);
    m_p95->setName(tr("p95"));
    m_p99 = new QLineSeries(m_duration);
    m_p99->setName(tr("p99"));
    m_coldStarts = new QScatterSeries(m_duration);
    m_coldStarts->setName(tr("Cold start"));
    m_coldStarts->setMarkerShape(QScatterSeries::MarkerShapeTriangle);
    m_coldStarts->setMarkerSize(11);
    m_durationX = new QCategoryAxis(m_duration);
    m_durationX->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    m_msAxis = new QValueAxis(m_duration);
    m_msAxis->setTitleText(compact ? QString() : tr("ms"));
    m_msAxis->setLabelFormat(QStringLiteral("%g"));
    // Cold starts on their own axis (how many in the bucket), which also lines the plot up with the one above.
    m_coldAxis = new QValueAxis(m_duration);
    m_coldAxis->setTitleText(compact ? QString() : tr("cold starts"));
    m_coldAxis->setLabelFormat(QStringLiteral("%d"));
    m_coldAxis->setGridLineVisible(false);
    m_duration->addAxis(m_durationX, Qt::AlignBottom);
    m_duration->addAxis(m_msAxis, Qt::AlignLeft);
    m_duration->addAxis(m_coldAxis, Qt::AlignRight);
    for (QXYSeries *s : {static_cast<QXYSeries *>(m_p50), static_cast<QXYSeries *>(m_p95),
                         static_cast<QXYSeries *>(m_p99), static_cast<QXYSeries *>(m_coldStarts)}) {
        s->setPointsVisible(true);
        m_duration->addSeries(s);
        s->attachAxis(m_durationX);
        s->attachAxis(s == m_coldStarts ? m_coldAxis : m_msAxis);
    }
    m_durationView = makeView(m_duration, this, compact ? 170 : 150);
    m_durationView->setObjectName(QStringLiteral("durationChart"));
    m_durationView->setAccessibleName(tr("Duration percentiles p50, p95, p99 with cold starts"));
    layout->addWidget(m_durationView, 1);
    if (compact) {
        m_invocations->legend()->hide();
        m_duration->legend()->hide();
        m_legend = new QLabel(this);
        m_legend->setObjectName(QStringLiteral("statsLegend"));
        m_legend->setWordWrap(true);
        layout->addWidget(m_legend);
    }
    for (QChartView *v : {m_invocationsView, m_durationView}) {
        v->setMinimumWidth(120); // a narrow pane squeezes the plot, never scrolls sideways
        v->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Expanding);
    }

    // Hover: the exact values of the bucket; click: its runs.
    connect(m_bars, &QStackedBarSeries::hovered, this, [this](bool on, int index, QBarSet *) {
        if (on)
            showTip(index);
        else
            QToolTip::hideText();
    });
    connect(m_bars, &QStackedBarSeries::clicked, this, [this](int index, QBarSet *set) {
        emit runsRequested(filterFor(index, set == m_ready ? QStringLiteral("READY") : QStringLiteral("ERROR")),
                           set == m_inputErrors      ? QStringLiteral("InputError")
                           : set == m_functionErrors ? QStringLiteral("FunctionError")
                           : set == m_systemErrors   ? QStringLiteral("SystemError")
                                                     : QString());
    });
    connect(m_errorRate, &QXYSeries::hovered, this, [this](const QPointF &p, bool on) {
        if (on)
            showTip(qRound(p.x()));
        else
            QToolTip::hideText();
    });
    connect(m_errorRate, &QXYSeries::clicked, this,
            [this](const QPointF &p) { emit runsRequested(filterFor(qRound(p.x()), QStringLiteral("ERROR")), {}); });
    // The duration chart answers for the whole column of a bucket, not only on its few points and lines
    // (a bucket with runs in one minute only has a lone point that is hard to hit).
    m_durationView->viewport()->setMouseTracking(true);
    m_durationView->viewport()->installEventFilter(this);

    // The two plots share the time axis: their plot areas get the same left and right edges (each chart lays
    // out its own axis labels, which differ in width), so a bucket sits at the same x in both.
    m_alignTimer = new QTimer(this);
    m_alignTimer->setSingleShot(true);
    m_alignTimer->setInterval(0);
    connect(m_alignTimer, &QTimer::timeout, this, &StatsCharts::alignPlots);
    for (QChart *chart : {m_invocations, m_duration})
        connect(chart, &QChart::plotAreaChanged, this, [this] {
            if (!m_plotsFixed)
                m_alignTimer->start();
        });
    m_invocationsView->installEventFilter(this);
    m_durationView->installEventFilter(this);

    m_rebuildTimer = new QTimer(this);
    m_rebuildTimer->setSingleShot(true);
    m_rebuildTimer->setInterval(0);
    connect(m_rebuildTimer, &QTimer::timeout, this, &StatsCharts::rebuild);
    connect(m_model, &QAbstractItemModel::modelReset, this, &StatsCharts::scheduleRebuild);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &StatsCharts::scheduleRebuild);
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, &StatsCharts::scheduleRebuild);
    connect(m_model, &QAbstractItemModel::dataChanged, this, &StatsCharts::scheduleRebuild);
    connect(m_model, &StatsSeriesModel::refreshed, this, &StatsCharts::updateSummary);
    connect(m_model, &StatsSeriesModel::loadFailed, this, &StatsCharts::updateSummary);

    applyColors();
    rebuild();
    updateSummary();
}

void StatsCharts::setFunction(const QString &function)
{
    m_model->setFunction(function);
    updateSummary();
}

void StatsCharts::setRange(Range range)
{
    if (auto *b = m_ranges->button(int(range)))
        b->setChecked(true);
    m_model->setRange(range);
    updateSummary();
}

void StatsCharts::scheduleRebuild()
{
    if (!m_rebuildTimer->isActive())
        m_rebuildTimer->start();
}

void StatsCharts::rebuild()
{
    const int n = m_model->rowCount();
    QList<qreal> ready, input, function, system;
    QList<QPointF> rate, p50, p95, p99, cold;
    ready.reserve(n);
    double maxMs = 0;
    qint64 maxCold = 0;
    for (int r = 0; r < n; ++r) {
        const StatsBucket &b = m_model->bucketAt(r);
        ready << qreal(b.ready);
        input << qreal(b.inputErrors);
        function << qreal(b.functionErrors);
        system << qreal(b.systemErrors);
        if (b.count > 0)
            rate << QPointF(r, b.errorRate() * 100.0);
        if (!std::isnan(b.p50))
            p50 << QPointF(r, b.p50);
        if (!std::isnan(b.p95))
            p95 << QPointF(r, b.p95);
        if (!std::isnan(b.p99)) {
            p99 << QPointF(r, b.p99);
            maxMs = std::max(maxMs, b.p99);
        }
        if (b.coldStarts > 0)
            cold << QPointF(r, qreal(b.coldStarts));
        maxCold = std::max(maxCold, b.coldStarts);
    }
    // Replace the values in place: the series, axes and legend stay, nothing flickers.
    auto fill = [n](QBarSet *set, const QList<qreal> &values) {
        if (set->count() == n) {
            for (int i = 0; i < n; ++i)
                if (set->at(i) != values[i])
                    set->replace(i, values[i]);
        } else {
            set->remove(0, set->count());
            set->append(values);
        }
    };
    fill(m_ready, ready);
    fill(m_inputErrors, input);
    fill(m_functionErrors, function);
    fill(m_systemErrors, system);
    m_errorRate->replace(rate);
    m_p50->replace(p50);
    m_p95->replace(p95);
    m_p99->replace(p99);
    m_coldStarts->replace(cold);

    // Axes: the bucket index on x (labels every few buckets, local time), nice bounds on y.
    for (QCategoryAxis *axis : {m_invocationsX, m_durationX}) {
        for (const QString &label : axis->categoriesLabels())
            axis->remove(label);
        const int every = labelEvery(m_model->range());
        for (int r = 0; r < n; ++r) {
            const qint64 t = m_model->bucketAt(r).time;
            const QDateTime local = QDateTime::fromSecsSinceEpoch(t, Qt::UTC).toLocalTime();
            // Label on the bucket's round times (minute 0, 10, 20 …), so the labels stay put as the window slides.
            const qint64 ordinal = t / m_model->bucketSeconds() + local.offsetFromUtc() / m_model->bucketSeconds();
            if (ordinal % every != 0)
                continue;
            axis->append(local.toString(m_model->range() == Range::SevenDays ? QStringLiteral("ddd d")
                                                                             : QStringLiteral("HH:mm")),
                         r);
        }
        axis->setRange(-0.5, std::max(0, n - 1) + 0.5);
        axis->setStartValue(-0.5);
    }
    m_countAxis->setRange(0, niceCeiling(double(m_model->maxCount()), 5.0));
    m_countAxis->applyNiceNumbers();
    const int ticks = m_compact ? 4 : 6;
    m_countAxis->setTickCount(ticks);
    m_msAxis->setRange(0, niceCeiling(maxMs * 1.1, 1.0));
    m_msAxis->setTickCount(ticks);
    m_msAxis->applyNiceNumbers();
    m_coldAxis->setRange(0, niceCeiling(double(maxCold) * 1.15, 5.0));
    m_coldAxis->setTickCount(ticks);
    m_coldAxis->applyNiceNumbers();
    unalignPlots(); // the labels may have another width now
}

void StatsCharts::updateSummary()
{
    const QString what = m_model->function().isEmpty() ? tr("all functions") : m_model->function();
    if (!m_model->lastError().isEmpty()) {
        m_state->setText(tr("\u2715 Cannot load the statistics of %1: %2").arg(what, m_model->lastError()));
        m_state->show();
    } else {
        m_state->hide();
    }
    if (!m_model->hasLoaded()) {
        m_summary->setText(m_model->lastError().isEmpty() ? tr("Loading\u2026") : QString());
        return;
    }
    const StatsBucket t = m_model->total();
    const QLocale locale;
    const QString unit = m_model->bucketSeconds() == 60 ? tr("minute") : tr("hour");
    if (t.count == 0) {
        m_summary->setText(tr("No runs in the last %1 (per %2).")
                               .arg(StatsSeriesModel::rangeLabel(m_model->range()), unit));
        return;
    }
    m_summary->setText(
        tr("<b>%1</b> runs in the last %2 (per %3) \u00b7 <b>%4 %</b> failed \u00b7 p50 <b>%5</b> \u00b7 p95 "
           "<b>%6</b> \u00b7 p99 <b>%7</b> \u00b7 %8 cold starts")
            .arg(locale.toString(t.count), StatsSeriesModel::rangeLabel(m_model->range()), unit,
                 locale.toString(t.errorRate() * 100.0, 'f', 1), StatsSeriesModel::formatMs(t.p50),
                 StatsSeriesModel::formatMs(t.p95), StatsSeriesModel::formatMs(t.p99),
                 locale.toString(t.coldStarts)));
}

QString StatsCharts::bucketText(int row) const
{
    if (row < 0 || row >= m_model->rowCount())
        return {};
    const StatsBucket &b = m_model->bucketAt(row);
    const QDateTime start = QDateTime::fromSecsSinceEpoch(b.time, Qt::UTC).toLocalTime();
    const QDateTime end = start.addSecs(m_model->bucketSeconds());
    const QLocale locale;
    QString text = tr("<b>%1 \u2013 %2</b>")
                       .arg(start.toString(m_model->bucketSeconds() == 60 ? QStringLiteral("HH:mm")
                                                                          : QStringLiteral("ddd d MMM HH:mm")),
                            end.toString(QStringLiteral("HH:mm")));
    text += tr("<br>%1 runs: %2 succeeded, %3 failed (%4 %)")
                .arg(locale.toString(b.count), locale.toString(b.ready), locale.toString(b.error),
                     locale.toString(b.errorRate() * 100.0, 'f', 1));
    if (b.error > 0)
        text += tr("<br>Input errors %1 \u00b7 function errors %2 \u00b7 system errors %3")
                    .arg(locale.toString(b.inputErrors), locale.toString(b.functionErrors),
                         locale.toString(b.systemErrors));
    if (!std::isnan(b.p50))
        text += tr("<br>p50 %1 \u00b7 p95 %2 \u00b7 p99 %3 \u00b7 mean %4")
                    .arg(StatsSeriesModel::formatMs(b.p50), StatsSeriesModel::formatMs(b.p95),
                         StatsSeriesModel::formatMs(b.p99), StatsSeriesModel::formatMs(b.meanMs));
    text += tr("<br>Cold starts: %1").arg(locale.toString(b.coldStarts));
    if (b.count > 0)
        text += tr("<br><i>Click to open these runs</i>");
    return text;
}

void StatsCharts::showTip(int row)
{
    const QString text = bucketText(row);
    if (!text.isEmpty())
        QToolTip::showText(QCursor::pos(), text, this);
}

models::RunFilter StatsCharts::filterFor(int row, const QString &status) const
{
    models::RunFilter f;
    f.functionName = m_model->function();
    f.status = status;
    if (row >= 0 && row < m_model->rowCount()) {
        const qint64 t = m_model->bucketAt(row).time;
        f.from = QDateTime::fromSecsSinceEpoch(t, Qt::UTC);
        f.to = QDateTime::fromSecsSinceEpoch(t + m_model->bucketSeconds(), Qt::UTC);
    }
    return f;
}

QPoint StatsCharts::invocationsPoint(int row) const
{
    const StatsBucket &b = m_model->bucketAt(row);
    const QPointF scene = m_invocations->mapToPosition(QPointF(row, qreal(b.ready) / 2.0), m_bars);
    return m_invocationsView->mapFromScene(scene);
}

QPoint StatsCharts::durationPoint(int row) const
{
    const StatsBucket &b = m_model->bucketAt(row);
    const QPointF scene = m_duration->mapToPosition(QPointF(row, std::isnan(b.p50) ? 0.0 : b.p50), m_p50);
    return m_durationView->mapFromScene(scene);
}

void StatsCharts::applyColors()
{
    const QPalette pal = palette();
    const bool dark = isDarkPalette(pal);
    const QColor text = pal.color(QPalette::WindowText);
    const QColor base = pal.color(QPalette::Base);
    QColor grid = text;
    grid.setAlphaF(dark ? 0.18f : 0.14f);
    QColor minor = text;
    minor.setAlphaF(0.6f);

    for (QChart *chart : {m_invocations, m_duration}) {
        chart->setBackgroundBrush(base);
        chart->setBackgroundPen(Qt::NoPen);
        chart->setPlotAreaBackgroundVisible(false);
        chart->setTitleBrush(text);
        QFont title = font();
        title.setBold(true);
        chart->setTitleFont(title);
        chart->legend()->setLabelColor(text);
        chart->legend()->setFont(font());
        for (QAbstractAxis *axis : chart->axes()) {
            axis->setLabelsColor(text);
            axis->setLabelsFont(font());
            axis->setTitleBrush(minor);
            axis->setGridLineColor(grid);
            axis->setLinePenColor(grid);
            axis->setShadesVisible(false);
            axis->setMinorGridLineVisible(false);
        }
    }
    // Outcome colours that stay apart for the common colour-vision deficiencies (green/amber/red/violet differ
    // in lightness too), and a legend that names each one.
    const QColor ok = dark ? QColor(0x5c, 0xb8, 0x5f) : QColor(0x38, 0x8e, 0x3c);
    const QColor input = dark ? QColor(0xff, 0xca, 0x28) : QColor(0xf5, 0xa6, 0x23);
    const QColor function = dark ? QColor(0xef, 0x5a, 0x50) : QColor(0xd3, 0x2f, 0x2f);
    const QColor system = dark ? QColor(0xc0, 0x84, 0xfc) : QColor(0x7b, 0x1f, 0xa2);
    for (auto [set, color] : {std::pair{m_ready, ok}, std::pair{m_inputErrors, input},
                              std::pair{m_functionErrors, function}, std::pair{m_systemErrors, system}}) {
        set->setColor(color);
        set->setBorderColor(color);
        set->setLabelColor(text);
    }
    QPen ratePen(dark ? QColor(0xe0, 0xe0, 0xe0) : QColor(0x33, 0x33, 0x33), 2.0, Qt::DashLine);
    m_errorRate->setPen(ratePen);
    m_errorRate->setColor(ratePen.color());

    const QColor c50 = dark ? QColor(0x64, 0xb5, 0xf6) : QColor(0x15, 0x65, 0xc0);
    const QColor c95 = dark ? QColor(0xff, 0xb7, 0x4d) : QColor(0xef, 0x6c, 0x00);
    const QColor c99 = dark ? QColor(0xef, 0x5a, 0x50) : QColor(0xc6, 0x28, 0x28);
    for (auto [series, color] : {std::pair{m_p50, c50}, std::pair{m_p95, c95}, std::pair{m_p99, c99}})
        series->setPen(QPen(color, 2.0));
    const QColor coldColor = dark ? QColor(0x4d, 0xd0, 0xe1) : QColor(0x00, 0x83, 0x8f);
    m_coldStarts->setColor(coldColor);
    m_coldStarts->setBorderColor(base);

    if (m_legend) {
        auto key = [](const QColor &c, const QString &glyph, const QString &label) {
            return QStringLiteral("<span style=\"color:%1\">%2</span>&nbsp;%3").arg(c.name(), glyph, label.toHtmlEscaped());
        };
        const QString square = QStringLiteral("\u25a0");
        m_legend->setText(QStringList{key(ok, square, tr("succeeded")), key(input, square, tr("input error")),
                                      key(function, square, tr("function error")),
                                      key(system, square, tr("system error")),
                                      key(ratePen.color(), QStringLiteral("\u2504"), tr("error rate")),
                                      key(c50, QStringLiteral("\u2501"), tr("p50")),
                                      key(c95, QStringLiteral("\u2501"), tr("p95")),
                                      key(c99, QStringLiteral("\u2501"), tr("p99")),
                                      key(coldColor, QStringLiteral("\u25b2"), tr("cold starts"))}
                              .join(QStringLiteral(" &nbsp; ")));
    }

    QPalette statePal = m_state->palette();
    statePal.setColor(QPalette::WindowText, dark ? QColor(0xff, 0x8a, 0x80) : QColor(0xb0, 0x1c, 0x1c));
    m_state->setPalette(statePal);
}

int StatsCharts::durationRowAt(const QPoint &viewportPos) const
{
    const QPointF scene = m_durationView->mapToScene(viewportPos);
    if (!m_duration->plotArea().contains(scene))
        return -1;
    const int row = qRound(m_duration->mapToValue(scene, m_p50).x());
    return row >= 0 && row < m_model->rowCount() ? row : -1;
}

void StatsCharts::unalignPlots()
{
    // Back to each chart's own layout; plotAreaChanged then aligns them again.
    if (!m_alignTimer)
        return;
    m_plotsFixed = false;
    m_invocations->setPlotArea(QRectF());
    m_duration->setPlotArea(QRectF());
    // Lay both out now, so the plots never show unaligned (the timer is the fallback while hidden).
    for (QChart *chart : {m_invocations, m_duration})
        if (QGraphicsLayout *l = chart->layout())
            l->activate();
    alignPlots();
    if (!m_plotsFixed)
        m_alignTimer->start();
}

void StatsCharts::alignPlots()
{
    const QRectF a = m_invocations->plotArea();
    const QRectF b = m_duration->plotArea();
    if (m_plotsFixed || a.isEmpty() || b.isEmpty())
        return;
    const qreal left = std::max(a.left(), b.left());
    const qreal right = std::min(a.right(), b.right());
    if (right - left < 20)
        return;
    m_plotsFixed = true;
    m_invocations->setPlotArea(QRectF(left, a.top(), right - left, a.height()));
    m_duration->setPlotArea(QRectF(left, b.top(), right - left, b.height()));
}

bool StatsCharts::eventFilter(QObject *watched, QEvent *event)
{
    if ((watched == m_invocationsView || watched == m_durationView) && event->type() == QEvent::Resize)
        unalignPlots();
    if (watched == m_durationView->viewport()) {
        if (event->type() == QEvent::MouseMove) {
            const int row = durationRowAt(static_cast<QMouseEvent *>(event)->position().toPoint());
            if (row >= 0 && m_model->bucketAt(row).count > 0)
                showTip(row);
            else
                QToolTip::hideText();
        } else if (event->type() == QEvent::MouseButtonRelease
                   && static_cast<QMouseEvent *>(event)->button() == Qt::LeftButton) {
            const int row = durationRowAt(static_cast<QMouseEvent *>(event)->position().toPoint());
            if (row >= 0 && m_model->bucketAt(row).count > 0)
                emit runsRequested(filterFor(row, {}), {});
        }
    }
    return QWidget::eventFilter(watched, event);
}

void StatsCharts::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::ApplicationPaletteChange
        || event->type() == QEvent::FontChange) {
        applyColors();
        unalignPlots();
    }
}

void StatsCharts::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    m_model->setActive(true);
    unalignPlots();
}

void StatsCharts::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_model->setActive(false);
}

} // namespace dispatch::views
