// GUI, the Dashboard with real data: a few hundred runs of a python function that fails for some inputs (and
// times out for others) on the console's own local server, then the dashboard page and the function detail
// pane: the charts hold what the server counted, update live as more runs finish (no model reset), a click on
// a bar and on an error group opens the Runs panel filtered to those runs; screenshots light and dark.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QBarSet>
#include <QChartView>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QStackedBarSeries>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include "dashboardpanel.h"
#include "errorgroupsmodel.h"
#include "functionspanel.h"
#include "runsmodel.h"
#include "runspanel.h"
#include "statscharts.h"
#include "statsseriesmodel.h"
#include "tst_guisupport.h"
#include "tst_modelssupport.h"

#include <QPushButton>
#include <QScrollArea>

using namespace dispatch;
using namespace dispatch::test;

namespace {

qint64 sumCount(const models::StatsSeriesModel &m)
{
    qint64 s = 0;
    for (int r = 0; r < m.rowCount(); ++r)
        s += m.bucketAt(r).count;
    return s;
}

} // namespace

class TestGuiDashboard : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void dashboardShowsRealRuns();
    void clickOpensRunsOfThatMinute();
    void errorGroupOpensItsRuns();
    void functionDetailPane();

private:
    views::MainWindow *window() const { return m_console->window(); }
    views::Workspace *ws() const { return m_console->workspace(); }
    int sendRuns(const QString &function, int from, int count);

    QTemporaryDir m_dir;
    std::unique_ptr<app::ConsoleApplication> m_console;
    int m_sent = 0;
};

int TestGuiDashboard::sendRuns(const QString &function, int from, int count)
{
    // Non-blocking, a few at a time in flight on the server (it answers 429 when its queue is full: retried).
    DispatchClient api = localClient(*m_console);
    int sent = 0;
    int attempts = 0;
    while (sent < count && attempts < 100 * count) {
        ++attempts;
        auto r = api.post(QStringLiteral("/v1/runs?functionName=") + function,
                          {{"blocking", false}, {"input", {{"n", from + sent}, {"name", "dash"}}}});
        if (r.status == 202)
            ++sent;
        else if (r.status == 429)
            QTest::qWait(20);
        else
            qWarning() << "run refused" << r.status << r.body;
    }
    return sent;
}

void TestGuiDashboard::initTestCase()
{
    QVERIFY(m_dir.isValid());
    app::ConsoleApplication::setUpApplication(m_dir.path());
    m_console = std::make_unique<app::ConsoleApplication>();
    QString error;
    QVERIFY2(startConsole(*m_console, m_dir.path() + QStringLiteral("/console"), &error), qPrintable(error));

    DispatchClient api = localClient(*m_console);
    QVERIFY2(seedPython(api, &error), qPrintable(error)); // python3-base and python3, READY
    QCOMPARE(api.createFunction(QStringLiteral("flaky"), QStringLiteral("python3"), QStringLiteral("python3/flaky.py"),
                                QStringLiteral("flaky.handle"), Json{{"timeout", 400}})
                 .value("status", ""),
             std::string("READY"));
    QCOMPARE(api.createFunction(QStringLiteral("hello"), QStringLiteral("python3"), QStringLiteral("python3/hello.py"),
                                QStringLiteral("hello.handle"))
                 .value("status", ""),
             std::string("READY"));

    // A few hundred runs with mixed outcomes, spread over two functions.
    m_sent += sendRuns(QStringLiteral("flaky"), 1, 300);
    m_sent += sendRuns(QStringLiteral("hello"), 1, 80);
    QCOMPARE(m_sent, 380);
}

void TestGuiDashboard::cleanupTestCase()
{
    views::applyTheme(views::Theme::Light);
    m_console.reset();
}

void TestGuiDashboard::dashboardShowsRealRuns()
{
    auto *w = window();
    w->showPage(views::MainWindow::DashboardPage);
    auto *panel = w->dashboardPanel();
    auto *charts = panel->charts();
    auto *model = charts->model();
    QVERIFY(charts->isVisible());
    // The page never makes the window taller than a small laptop screen (1366x768) allows.
    QVERIFY2(w->minimumSizeHint().height() <= 700, qPrintable(QString::number(w->minimumSizeHint().height())));
    QTRY_COMPARE_WITH_TIMEOUT(sumCount(*model), qint64(m_sent), kGuiWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(model->total().count, qint64(m_sent), kGuiWaitMs);
    QVERIFY(model->total().error > 0);
    QVERIFY(model->total().coldStarts > 0);
    QVERIFY(charts->summaryLabel()->text().contains(QLocale().toString(m_sent)));

    // The stacked bars hold the model's numbers.
    auto *bars = qobject_cast<QStackedBarSeries *>(charts->invocationsView()->chart()->series().first());
    QVERIFY(bars);
    QTRY_COMPARE_WITH_TIMEOUT(bars->barSets().first()->count(), model->rowCount(), kGuiWaitMs);
    qreal stacked = 0;
    for (QBarSet *set : bars->barSets())
        stacked += set->sum();
    QCOMPARE(qint64(stacked), qint64(m_sent));

    // Failed runs grouped by error.
    QTRY_COMPARE_WITH_TIMEOUT(panel->errorGroups()->rowCount(), 3, kGuiWaitMs);

    // Hovering a bucket tells its exact numbers.
    int busiest = 0;
    for (int r = 0; r < model->rowCount(); ++r)
        if (model->bucketAt(r).count > model->bucketAt(busiest).count)
            busiest = r;
    const QString tip = charts->bucketText(busiest);
    QVERIFY2(tip.contains(QStringLiteral("%1 runs").arg(QLocale().toString(model->bucketAt(busiest).count))), qPrintable(tip));

    // The two plots share the time axis: the same left and right edges, so a minute sits at the same x.
    auto aligned = [charts] {
        const QRectF a = charts->invocationsView()->chart()->plotArea();
        const QRectF b = charts->durationView()->chart()->plotArea();
        return qAbs(a.left() - b.left()) < 0.5 && qAbs(a.right() - b.right()) < 0.5;
    };
    QTRY_VERIFY2_WITH_TIMEOUT(aligned(), qPrintable(QStringLiteral("%1 %2 / %3 %4").arg(charts->invocationsView()->chart()->plotArea().left()).arg(charts->invocationsView()->chart()->plotArea().right()).arg(charts->durationView()->chart()->plotArea().left()).arg(charts->durationView()->chart()->plotArea().right())), 10000);
    views::applyTheme(views::Theme::Light);
    snap(w, QStringLiteral("panel-dashboard"));
    views::applyTheme(views::Theme::Dark);
    snap(w, QStringLiteral("panel-dashboard"));
    QVERIFY(aligned()); // also right after a theme change (the labels were laid out again)
    views::applyTheme(views::Theme::Light);

    // Live: more runs finish while the page is shown; the charts follow without a model reset.
    QSignalSpy resets(model, &QAbstractItemModel::modelReset);
    m_sent += sendRuns(QStringLiteral("flaky"), 1000, 40);
    QTRY_COMPARE_WITH_TIMEOUT(sumCount(*model), qint64(m_sent), kGuiWaitMs);
    QCOMPARE(resets.count(), 0);

    // Other ranges.
    charts->setRange(models::StatsSeriesModel::Range::SevenDays);
    QTRY_COMPARE_WITH_TIMEOUT(sumCount(*model), qint64(m_sent), kGuiWaitMs);
    QCOMPARE(model->rowCount(), 168);
    snap(w, QStringLiteral("panel-dashboard-7d"));
    charts->setRange(models::StatsSeriesModel::Range::FifteenMinutes);
    QTRY_COMPARE_WITH_TIMEOUT(sumCount(*model), qint64(m_sent), kGuiWaitMs);
    QCOMPARE(model->rowCount(), 15);
}

void TestGuiDashboard::clickOpensRunsOfThatMinute()
{
    auto *w = window();
    w->showPage(views::MainWindow::DashboardPage);
    auto *charts = w->dashboardPanel()->charts();
    auto *model = charts->model();
    QTRY_VERIFY_WITH_TIMEOUT(model->hasLoaded() && sumCount(*model) == m_sent, kGuiWaitMs);
    int row = -1;
    for (int r = 0; r < model->rowCount(); ++r)
        if (model->bucketAt(r).ready > 0 && (row < 0 || model->bucketAt(r).ready > model->bucketAt(row).ready))
            row = r;
    QVERIFY(row >= 0);
    QTest::qWait(50); // let the chart lay out the bars it was given
    QTest::mouseClick(charts->invocationsView()->viewport(), Qt::LeftButton, {}, charts->invocationsPoint(row));
    QTRY_COMPARE_WITH_TIMEOUT(w->currentPage(), views::MainWindow::RunsPage, kGuiWaitMs);

    const models::RunFilter f = ws()->runs()->filter();
    const qint64 start = model->bucketAt(row).time;
    QCOMPARE(f.status, QStringLiteral("READY"));
    QVERIFY(f.functionName.isEmpty());
    QCOMPARE(f.from.toSecsSinceEpoch(), start);
    QCOMPARE(f.to.toSecsSinceEpoch(), start + 60);
    QVERIFY(w->runsPanel()->timeRangeChip()->isVisible());
    auto *runs = ws()->runs();
    QTRY_VERIFY_WITH_TIMEOUT(runs->hasLoaded() && !runs->isLoading(), kGuiWaitMs);
    while (runs->canFetchMore({})) {
        runs->fetchMore({});
        QTRY_VERIFY_WITH_TIMEOUT(!runs->isLoading(), kGuiWaitMs);
    }
    QCOMPARE(qint64(runs->rowCount()), model->bucketAt(row).ready);
    for (int r = 0; r < runs->rowCount(); ++r) {
        const QDateTime t = runs->data(runs->index(r, models::RunsModel::StartedColumn), models::RawRole).toDateTime();
        QVERIFY(t.toSecsSinceEpoch() >= start && t.toSecsSinceEpoch() < start + 60);
    }
    snap(w, QStringLiteral("panel-runs-from-dashboard"));

    // The chip clears the time range.
    w->runsPanel()->timeRangeChip()->click();
    QVERIFY(!ws()->runs()->filter().from.isValid());
    QVERIFY(!w->runsPanel()->timeRangeChip()->isVisible());
}

void TestGuiDashboard::errorGroupOpensItsRuns()
{
    auto *w = window();
    w->showPage(views::MainWindow::DashboardPage);
    auto *panel = w->dashboardPanel();
    QTRY_VERIFY_WITH_TIMEOUT(panel->errorGroups()->rowCount() == 3, kGuiWaitMs);
    auto *table = panel->errorTable();
    // The InputError group.
    int row = -1;
    for (int r = 0; r < table->model()->rowCount(); ++r)
        if (table->model()->index(r, models::ErrorGroupsModel::TypeColumn).data().toString()
            == QLatin1String("InputError"))
            row = r;
    QVERIFY(row >= 0);
    const qint64 count = table->model()->index(row, models::ErrorGroupsModel::CountColumn).data(models::RawRole).toLongLong();
    QVERIFY(count > 0);
    const QRect cell = table->visualRect(table->model()->index(row, models::ErrorGroupsModel::MessageColumn));
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, cell.center());
    QTRY_COMPARE_WITH_TIMEOUT(w->currentPage(), views::MainWindow::RunsPage, kGuiWaitMs);
    const models::RunFilter f = ws()->runs()->filter();
    QCOMPARE(f.functionName, QStringLiteral("flaky"));
    QCOMPARE(f.status, QStringLiteral("ERROR"));
    QVERIFY(f.from.isValid() && f.to.isValid());
    QCOMPARE(w->runsPanel()->filterEdit()->text(), QStringLiteral("InputError"));
    auto *runs = ws()->runs();
    QTRY_VERIFY_WITH_TIMEOUT(runs->hasLoaded() && !runs->isLoading(), kGuiWaitMs);
    while (runs->canFetchMore({})) {
        runs->fetchMore({});
        QTRY_VERIFY_WITH_TIMEOUT(!runs->isLoading(), kGuiWaitMs);
    }
    int inputErrors = 0;
    for (int r = 0; r < runs->rowCount(); ++r)
        if (runs->data(runs->index(r, models::RunsModel::ErrorTypeColumn), models::RawRole).toString()
            == QLatin1String("InputError"))
            ++inputErrors;
    QCOMPARE(qint64(inputErrors), count);
    // "Show runs of this function" afterwards means all of its runs: the time range goes.
    w->runsPanel()->filterEdit()->clear();
    w->runsPanel()->showFunction(QStringLiteral("flaky"));
    QVERIFY(!ws()->runs()->filter().from.isValid() && !ws()->runs()->filter().to.isValid());
    QVERIFY(!w->runsPanel()->timeRangeChip()->isVisible());
    w->runsPanel()->showFunction({});
}

void TestGuiDashboard::functionDetailPane()
{
    auto *w = window();
    w->showPage(views::MainWindow::FunctionsPage);
    auto *view = w->functionsPanel()->view();
    QTRY_VERIFY_WITH_TIMEOUT(view->selectName(QStringLiteral("flaky")), kGuiWaitMs);
    auto *charts = view->statsCharts();
    QTRY_VERIFY_WITH_TIMEOUT(charts->isVisible(), kGuiWaitMs);
    QCOMPARE(charts->model()->function(), QStringLiteral("flaky"));
    DispatchClient api = localClient(*m_console);
    const qint64 flakyRuns = qint64(api.get(QStringLiteral("/v1/runs?functionName=flaky")).json().size());
    QTRY_COMPARE_WITH_TIMEOUT(sumCount(*charts->model()), flakyRuns, kGuiWaitMs);
    views::applyTheme(views::Theme::Light);
    snap(w, QStringLiteral("panel-function-stats"));
    views::applyTheme(views::Theme::Dark);
    snap(w, QStringLiteral("panel-function-stats"));
    views::applyTheme(views::Theme::Light);

    // Another function: the pane follows the selection.
    QVERIFY(view->selectName(QStringLiteral("hello")));
    QTRY_COMPARE_WITH_TIMEOUT(charts->model()->function(), QStringLiteral("hello"), kGuiWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(sumCount(*charts->model()), qint64(80), kGuiWaitMs);

    // A click on a duration point opens that minute's runs of the function.
    auto *model = charts->model();
    int row = -1;
    for (int r = 0; r < model->rowCount(); ++r)
        if (!std::isnan(model->bucketAt(r).p50))
            row = r;
    QVERIFY(row >= 0);
    // The detail pane scrolls: bring the chart into view, as a user would, before clicking it.
    for (QWidget *p = charts->parentWidget(); p; p = p->parentWidget())
        if (auto *scroll = qobject_cast<QScrollArea *>(p)) {
            scroll->ensureWidgetVisible(charts->durationView());
            break;
        }
    QTest::qWait(50);
    QTest::mouseClick(charts->durationView()->viewport(), Qt::LeftButton, {}, charts->durationPoint(row));
    QTRY_COMPARE_WITH_TIMEOUT(w->currentPage(), views::MainWindow::RunsPage, kGuiWaitMs);
    QCOMPARE(ws()->runs()->filter().functionName, QStringLiteral("hello"));
    QCOMPARE(ws()->runs()->filter().from.toSecsSinceEpoch(), model->bucketAt(row).time);
}

QTEST_MAIN(TestGuiDashboard)
#include "tst_guidashboard.moc"
