// GUI: the seed walkthrough through the widgets (seed images → create hello from a file → run → the run in Runs
// with its output), and a screenshot of every panel and dialog in the light and the dark theme.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QAction>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include "apispanel.h"
#include "apismodel.h"
#include "contextswitcher.h"
#include "deletedialog.h"
#include "demo.h"
#include "eventspanel.h"
#include "execdialog.h"
#include "formdialog.h"
#include "functionsmodel.h"
#include "functionspanel.h"
#include "imagesmodel.h"
#include "imagespanel.h"
#include "runsmodel.h"
#include "runspanel.h"
#include "secretsmodel.h"
#include "subscriptionsmodel.h"
#include "secretspanel.h"
#include "serverpanel.h"
#include "settingsdialog.h"
#include "shortcutsdialog.h"
#include "contextbanner.h"
#include "commandpalette.h"
#include "statscharts.h"
#include "statsseriesmodel.h"
#include <QListView>
#include "tst_guisupport.h"

using namespace dispatch;
using namespace dispatch::test;

class TestGui : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void navigationAndShortcuts();
    void validationBeforeSending();
    void seedWalkthrough();
    void commandPalette();
    void apiTryIt();
    void secretsHiddenUntilRevealed();
    void deleteListsDependants();
    void screenshots();

private:
    views::MainWindow *window() const { return m_console->window(); }
    views::Workspace *ws() const { return m_console->workspace(); }
    void snapAll(const QString &suffix);

    QTemporaryDir m_dir;
    std::unique_ptr<app::ConsoleApplication> m_console;
    QString m_runId;
};

void TestGui::initTestCase()
{
    QVERIFY(m_dir.isValid());
    app::ConsoleApplication::setUpApplication(m_dir.path());
    m_console = std::make_unique<app::ConsoleApplication>();
    QString error;
    QVERIFY2(startConsole(*m_console, m_dir.path() + QStringLiteral("/console"), &error), qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(ws()->functions()->hasLoaded(), kGuiWaitMs);
}

void TestGui::cleanupTestCase()
{
    m_console.reset();
}

void TestGui::navigationAndShortcuts()
{
    auto *w = window();
    for (int i = 0; i < views::MainWindow::PageCount; ++i) {
        QTest::keyClick(w, static_cast<Qt::Key>(Qt::Key_1 + i), Qt::ControlModifier);
        QCOMPARE(int(w->currentPage()), i);
    }
    QTest::keyClick(w, Qt::Key_1, Qt::ControlModifier);
    // "/" focuses the panel's filter.
    w->functionsPanel()->view()->table()->setFocus();
    QTest::keyClick(w->functionsPanel()->view()->table(), Qt::Key_Slash);
    QTRY_VERIFY(w->functionsPanel()->filterEdit()->hasFocus());
    // The strip and the status bar name the context.
    QVERIFY(w->contextStrip()->text().contains(QStringLiteral("Local")));
    QVERIFY(w->localServerText().contains(QStringLiteral("running")));
    QVERIFY(w->connectionText().contains(QStringLiteral("Connected")));
    // Every shortcut of the cheat sheet is listed once.
    QVERIFY(w->shortcuts().size() >= 10);
}

void TestGui::validationBeforeSending()
{
    auto *view = window()->functionsPanel()->view();
    view->createAction()->trigger();
    QTRY_VERIFY(view->formDialog());
    views::FormDialog *form = view->formDialog();
    form->findChild<QLineEdit *>(QStringLiteral("name"))->setText(QStringLiteral("bad name!"));
    QVERIFY(!form->validate());
    auto *error = form->findChild<QLabel *>(QStringLiteral("nameError"));
    QVERIFY(error && error->isVisible() && !error->text().isEmpty());
    snap(form, QStringLiteral("dialog-function-invalid"));
    form->reject();
    QTRY_VERIFY(!view->formDialog());
}

void TestGui::seedWalkthrough()
{
    auto *w = window();
    w->showPage(views::MainWindow::FunctionsPage);
    auto *view = w->functionsPanel()->view();

    // 1. Seed images in one click.
    view->seedAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(ws()->images()->rowOf(QStringLiteral("python3")) >= 0, kGuiWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(
        ws()->images()->index(ws()->images()->rowOf(QStringLiteral("python3")), 0).data(models::StatusRole).toString(),
        QStringLiteral("READY"), kGuiWaitMs);

    // 2. Create the hello function from a file through the form.
    view->createAction()->trigger();
    QTRY_VERIFY(view->formDialog());
    views::FormDialog *form = view->formDialog();
    form->findChild<QLineEdit *>(QStringLiteral("name"))->setText(QStringLiteral("hello"));
    form->findChild<QLineEdit *>(QStringLiteral("source"))
        ->setText(QStringLiteral(DISPATCH_SOURCE_DIR "/tests/fixtures/functions/python3/hello.py"));
    QCOMPARE(form->value(QStringLiteral("handler")), QStringLiteral("hello.handle")); // suggested from the file
    form->findChild<QComboBox *>(QStringLiteral("image"))->setCurrentText(QStringLiteral("python3"));
    snap(form, QStringLiteral("dialog-function-create"));
    form->accept();
    QTRY_VERIFY_WITH_TIMEOUT(!view->formDialog(), kGuiWaitMs);
    QTRY_VERIFY(ws()->functions()->rowOf(QStringLiteral("hello")) >= 0);
    QTRY_COMPARE_WITH_TIMEOUT(ws()->functions()
                                  ->index(ws()->functions()->rowOf(QStringLiteral("hello")), 0)
                                  .data(models::StatusRole)
                                  .toString(),
                              QStringLiteral("READY"), kGuiWaitMs);

    // 3. Run it from the exec dialog.
    QVERIFY(view->selectName(QStringLiteral("hello")));
    view->execAction()->trigger();
    QTRY_VERIFY(view->execDialog());
    views::ExecDialog *exec = view->execDialog();
    exec->inputEdit()->setPlainText(QStringLiteral("{\"name\": \"Jon\", \"place\": \"Winterfell\"}"));
    QTest::mouseClick(exec->runButton(), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(exec->runStatus(), QStringLiteral("READY"), kGuiWaitMs);
    auto *output = exec->findChild<QPlainTextEdit *>(QStringLiteral("execOutput"));
    QVERIFY(output->toPlainText().contains(QStringLiteral("Hello, Jon from Winterfell")));
    m_runId = exec->runId();
    QVERIFY(!m_runId.isEmpty());
    snap(exec, QStringLiteral("dialog-exec-result"));

    // Invalid JSON is refused before anything is sent.
    exec->inputEdit()->setPlainText(QStringLiteral("{\"name\": "));
    QTest::mouseClick(exec->runButton(), Qt::LeftButton);
    auto *inputError = exec->findChild<QLabel *>(QStringLiteral("execInputError"));
    QVERIFY(inputError->isVisible());
    QVERIFY(inputError->text().contains(QStringLiteral("line")));
    snap(exec, QStringLiteral("dialog-exec-invalid-json"));
    exec->close();

    // 4. The run is in Runs with its output.
    w->showPage(views::MainWindow::RunsPage);
    auto *runs = w->runsPanel();
    QTRY_VERIFY_WITH_TIMEOUT(ws()->runs()->rowOfRun(m_runId) >= 0, kGuiWaitMs);
    QVERIFY(runs->selectRun(m_runId));
    auto *runOutput = runs->findChild<QPlainTextEdit *>(QStringLiteral("runOutput"));
    QTRY_VERIFY_WITH_TIMEOUT(runOutput->toPlainText().contains(QStringLiteral("Hello, Jon from Winterfell")), kGuiWaitMs);
    auto *runInput = runs->findChild<QPlainTextEdit *>(QStringLiteral("runInput"));
    QVERIFY(runInput->toPlainText().contains(QStringLiteral("Winterfell")));
}

void TestGui::apiTryIt()
{
    auto *w = window();
    w->showPage(views::MainWindow::ApisPage);
    auto *view = w->apisPanel()->view();
    view->createAction()->trigger();
    QTRY_VERIFY(view->formDialog());
    views::FormDialog *form = view->formDialog();
    form->findChild<QLineEdit *>(QStringLiteral("name"))->setText(QStringLiteral("api-hello"));
    form->findChild<QComboBox *>(QStringLiteral("function"))->setCurrentText(QStringLiteral("hello"));
    form->findChild<QLineEdit *>(QStringLiteral("uris"))->setText(QStringLiteral("/hello"));
    snap(form, QStringLiteral("dialog-api-create"));
    form->accept();
    QTRY_VERIFY_WITH_TIMEOUT(!view->formDialog(), kGuiWaitMs);
    QTRY_VERIFY(view->selectName(QStringLiteral("api-hello")));
    QTRY_COMPARE_WITH_TIMEOUT(
        ws()->apis()->index(ws()->apis()->rowOf(QStringLiteral("api-hello")), 0).data(models::StatusRole).toString(),
        QStringLiteral("READY"), kGuiWaitMs);
    QVERIFY(view->gatewayUrl(view->currentObject()).endsWith(QStringLiteral("/dispatch/hello")));
    QVERIFY(view->tryPath()->text().endsWith(QStringLiteral("/hello")));
    QTest::mouseClick(view->sendButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(view->responseStatus()->text().contains(QStringLiteral("200")), kGuiWaitMs);
    QVERIFY(view->responseBody()->toPlainText().contains(QStringLiteral("Hello, Jon from Winterfell")));
}

void TestGui::secretsHiddenUntilRevealed()
{
    auto *w = window();
    w->showPage(views::MainWindow::SecretsPage);
    auto *view = w->secretsPanel()->view();
    view->createAction()->trigger();
    QTRY_VERIFY(view->formDialog());
    views::FormDialog *form = view->formDialog();
    form->findChild<QLineEdit *>(QStringLiteral("name"))->setText(QStringLiteral("open-sesame"));
    auto *kv = form->findChild<views::KeyValueEditor *>(QStringLiteral("values"));
    kv->setPairs({{QStringLiteral("password"), QStringLiteral("OpenSesame")}});
    snap(form, QStringLiteral("dialog-secret-create"));
    form->accept();
    QTRY_VERIFY_WITH_TIMEOUT(!view->formDialog(), kGuiWaitMs);
    QTRY_VERIFY(view->selectName(QStringLiteral("open-sesame")));
    auto *table = view->valuesTable();
    QTRY_COMPARE(table->rowCount(), 1);
    QVERIFY(!table->item(0, 1)->text().contains(QStringLiteral("OpenSesame")));
    QVERIFY(!view->findChild<QPlainTextEdit *>(QStringLiteral("detailJson"))->toPlainText().contains(QStringLiteral("OpenSesame")));
    view->reveal();
    QTRY_VERIFY_WITH_TIMEOUT(view->isRevealed(), kGuiWaitMs);
    QCOMPARE(table->item(0, 1)->text(), QStringLiteral("OpenSesame"));
    view->hideValues();
    QVERIFY(!table->item(0, 1)->text().contains(QStringLiteral("OpenSesame")));
}

void TestGui::deleteListsDependants()
{
    // The function is used by api-hello: the confirmation says so.
    views::DeleteDialog dialog(QStringLiteral("function"), {QStringLiteral("hello")},
                               {{QStringLiteral("hello"), ws()->usersOfFunction(QStringLiteral("hello"))}},
                               ws()->contextName(), window());
    QVERIFY(ws()->usersOfFunction(QStringLiteral("hello")).contains(QStringLiteral("API api-hello")));
    auto *warning = dialog.findChild<QLabel *>(QStringLiteral("dependantsWarning"));
    QVERIFY(warning);
    dialog.show();
    snap(&dialog, QStringLiteral("dialog-delete-with-dependants"));
    dialog.reject();
}

void TestGui::snapAll(const QString &suffix)
{
    Q_UNUSED(suffix)
    auto *w = window();
    const char *names[] = {"panel-functions", "panel-runs", "panel-apis", "panel-events", "panel-images",
                           "panel-secrets", "panel-server", "panel-dashboard-walkthrough"};
    static_assert(std::size(names) == views::MainWindow::PageCount, "a screenshot name per page");
    // The log with a search, so the highlight shows.
    w->serverPanel()->filterEdit()->setText(QStringLiteral("READY"));
    for (int i = 0; i < views::MainWindow::PageCount; ++i) {
        w->showPage(static_cast<views::MainWindow::Page>(i));
        QTest::qWait(50);
        snap(w, QLatin1String(names[i]));
    }
    w->serverPanel()->findNext();
    w->showPage(views::MainWindow::ServerPage);
    snap(w, QStringLiteral("panel-server-search-next"));
    w->serverPanel()->filterEdit()->clear();
    // Tabs of the multi-view panels.
    w->showPage(views::MainWindow::EventsPage);
    for (int t = 1; t < 3; ++t) {
        w->eventsPanel()->showView(t);
        snap(w, QStringLiteral("panel-events-tab%1").arg(t));
    }
    w->eventsPanel()->showView(0);
    w->showPage(views::MainWindow::ImagesPage);
    w->imagesPanel()->showView(1);
    snap(w, QStringLiteral("panel-images-base"));
    w->imagesPanel()->showView(0);

    // Dialogs.
    {
        views::SettingsDialog d(w);
        d.show();
        snap(&d, QStringLiteral("dialog-settings"));
    }
    {
        views::ShortcutsDialog d(w->shortcuts(), w);
        d.show();
        snap(&d, QStringLiteral("dialog-shortcuts"));
    }
    {
        views::ContextSwitcher d(m_console->contexts(), w);
        d.show();
        snap(&d, QStringLiteral("dialog-context-switcher"));
    }
    w->showPage(views::MainWindow::FunctionsPage);
    w->showCommandPalette();
    QTest::keyClicks(w->commandPalette()->searchEdit(), QStringLiteral("hel"));
    snap(w->commandPalette(), QStringLiteral("dialog-command-palette"));
    w->commandPalette()->reject();
    auto *fv = w->functionsPanel()->view();
    fv->selectName(QStringLiteral("hello"));
    views::ExecDialog *exec = fv->openExec(QStringLiteral("hello"));
    snap(exec, QStringLiteral("dialog-exec"));
    exec->close();
    fv->editAction()->trigger();
    QTRY_VERIFY(fv->formDialog());
    snap(fv->formDialog(), QStringLiteral("dialog-function-edit"));
    fv->formDialog()->reject();
    w->showPage(views::MainWindow::EventsPage);
    w->eventsPanel()->openEmitDialog();
    QTRY_VERIFY(w->eventsPanel()->emitDialog());
    snap(w->eventsPanel()->emitDialog(), QStringLiteral("dialog-emit-event"));
    w->eventsPanel()->emitDialog()->reject();
    for (auto *v : {w->eventsPanel()->subscriptionsView(), w->eventsPanel()->driversView(), w->eventsPanel()->driverTypesView()}) {
        v->createItem();
        QTRY_VERIFY(v->formDialog());
        snap(v->formDialog(), QStringLiteral("dialog-create-") + v->property("tabTitle").toString().toLower().replace(QLatin1Char(' '), QLatin1Char('-')));
        v->formDialog()->reject();
        QTRY_VERIFY(!v->formDialog());
    }
    w->showPage(views::MainWindow::ImagesPage);
    auto *iv = w->imagesPanel()->imagesView();
    iv->createItem();
    QTRY_VERIFY(iv->formDialog());
    snap(iv->formDialog(), QStringLiteral("dialog-create-image"));
    iv->formDialog()->reject();
    QTRY_VERIFY(!iv->formDialog());
    auto *bv = w->imagesPanel()->baseImagesView();
    bv->createItem();
    QTRY_VERIFY(bv->formDialog());
    snap(bv->formDialog(), QStringLiteral("dialog-create-base-image"));
    bv->formDialog()->reject();
    QTRY_VERIFY(!bv->formDialog());
}

void TestGui::commandPalette()
{
    auto *w = window();
    w->showPage(views::MainWindow::ServerPage);
    // From inside a line edit (on X11 desktops Ctrl+K is also its "delete to the end of the line"; the offscreen
    // platform has no such binding, so this checks the focus case, not the override): the palette opens.
    w->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(w));
    w->serverPanel()->filterEdit()->setFocus();
    QTest::keyClick(w->serverPanel()->filterEdit(), Qt::Key_K, Qt::ControlModifier);
    QTRY_VERIFY(w->commandPalette() && w->commandPalette()->isVisible());
    views::CommandPalette *palette = w->commandPalette();
    // Menu actions, pages, functions (open and runs of) and contexts are all there.
    QVERIFY(palette->entryCount() >= 10);
    // Words match in any order: "hello function" finds the function entry, not the "Runs of" one.
    QTest::keyClicks(palette->searchEdit(), QStringLiteral("hello function"));
    QCOMPARE(palette->visibleCount(), 1);
    QTest::keyClick(palette->searchEdit(), Qt::Key_Return);
    QVERIFY(!palette->isVisible());
    QCOMPARE(w->currentPage(), views::MainWindow::FunctionsPage);
    QCOMPARE(w->functionsPanel()->view()->selectedNames(), QStringList{QStringLiteral("hello")});

    // A menu action by a word of its text; arrows move the highlight; nothing matching runs nothing.
    w->showCommandPalette();
    QTest::keyClicks(palette->searchEdit(), QStringLiteral("runs hello"));
    QCOMPARE(palette->visibleCount(), 1);
    QTest::keyClick(palette->searchEdit(), Qt::Key_Enter);
    QCOMPARE(w->currentPage(), views::MainWindow::RunsPage);
    // Entries whose own text starts with the word come before those that only contain it in their section
    // ("hel" → the function "hello" before "Help: ...").
    w->showCommandPalette();
    QTest::keyClicks(palette->searchEdit(), QStringLiteral("hel"));
    QVERIFY(palette->visibleCount() >= 3);
    QCOMPARE(palette->list()->model()->index(0, 0).data().toString(), QStringLiteral("Function: hello"));
    QVERIFY(palette->list()->model()->index(palette->visibleCount() - 1, 0).data().toString().startsWith(
        QStringLiteral("Help: ")));
    palette->reject();
    w->showCommandPalette();
    QTest::keyClicks(palette->searchEdit(), QStringLiteral("no such command anywhere"));
    QCOMPARE(palette->visibleCount(), 0);
    QVERIFY(!palette->runCurrent());
    QTest::keyClick(palette->searchEdit(), Qt::Key_Escape);
    QVERIFY(!palette->isVisible());
}

void TestGui::screenshots()
{
    auto *w = window();
    // Something selected in every table, so the detail panes show content.
    w->functionsPanel()->view()->selectName(QStringLiteral("hello"));
    // The function's run statistics in its detail pane: loaded before the pictures (they show its runs).
    w->showPage(views::MainWindow::FunctionsPage);
    auto *stats = w->functionsPanel()->findChild<views::StatsCharts *>(QStringLiteral("functionStats"));
    QVERIFY(stats);
    // The runs of the walkthrough were blocking execs (published once, finished, as run.created): the
    // charts count them live.
    const auto runsShown = [stats] {
        qint64 total = 0;
        for (int row = 0; row < stats->model()->rowCount(); ++row)
            total += stats->model()->index(row, models::StatsSeriesModel::CountColumn).data(models::RawRole).toLongLong();
        return total;
    };
    QTRY_VERIFY_WITH_TIMEOUT(stats->model()->function() == QLatin1String("hello") && runsShown() > 0, kGuiWaitMs);
    w->apisPanel()->view()->selectName(QStringLiteral("api-hello"));
    w->secretsPanel()->view()->selectName(QStringLiteral("open-sesame"));
    w->imagesPanel()->imagesView()->selectName(QStringLiteral("python3"));
    w->imagesPanel()->baseImagesView()->selectName(QStringLiteral("python3-base"));
    if (!m_runId.isEmpty())
        w->runsPanel()->selectRun(m_runId);
    // The walkthrough's events, so the Events panel is not empty.
    views::Demo *demo = w->demo();
    bool finished = false;
    connect(demo, &views::Demo::finished, this, [&finished] { finished = true; });
    demo->setUp();
    QTRY_VERIFY_WITH_TIMEOUT(finished, kGuiWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(ws()->subscriptions()->rowCount() > 0, kGuiWaitMs);
    w->eventsPanel()->subscriptionsView()->selectName(QLatin1String(views::Demo::kSubscription));
    w->eventsPanel()->driversView()->selectName(QLatin1String(views::Demo::kDriver));
    w->eventsPanel()->driverTypesView()->selectName(QLatin1String(views::Demo::kDriverType));

    views::applyTheme(views::Theme::Light);
    snapAll(QStringLiteral("light"));
    views::applyTheme(views::Theme::Dark);
    snapAll(QStringLiteral("dark"));
    views::applyTheme(views::Theme::Light);

    // Removing the walkthrough again leaves none of it.
    finished = false;
    demo->tearDown();
    QTRY_VERIFY_WITH_TIMEOUT(finished, kGuiWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(ws()->subscriptions()->rowOf(QLatin1String(views::Demo::kSubscription)), -1, kGuiWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(ws()->functions()->rowOf(QLatin1String(views::Demo::kFunction)), -1, kGuiWaitMs);
}

int main(int argc, char *argv[])
{
    // Building images and functions on a loaded machine can outlast Qt Test's 5-minute default per function;
    // every wait inside is bounded anyway.
    if (qEnvironmentVariableIsEmpty("QTEST_FUNCTION_TIMEOUT"))
        qputenv("QTEST_FUNCTION_TIMEOUT", "1200000");
    QApplication app(argc, argv);
    QTEST_SET_MAIN_SOURCE_PATH
    TestGui test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_gui.moc"
