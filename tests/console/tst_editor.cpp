// The point-and-click function workflow with the real bundled server: the new-function wizard (python hello
// template), the editor's test pane and its saved inputs, save → UPDATING → READY, a syntax error marked on its
// line, revisions, a stack-trace line that jumps into the code, the code of an old run, replay, file operations,
// find/replace and drafts that survive the window going away without closing. Screenshots light and dark.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QComboBox>
#include <QDir>
#include <QLabel>
#include <QSignalSpy>
#include <QFile>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSpinBox>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/types.h>
#include <unistd.h>

#include "codeeditor.h"
#include "functioneditor.h"
#include "functionsmodel.h"
#include "functionspanel.h"
#include "functiontemplates.h"
#include "imagesmodel.h"
#include "jsontext.h"
#include "messagebar.h"
#include "newfunctionwizard.h"
#include "replaydialog.h"
#include "runsmodel.h"
#include "runspanel.h"
#include "testpane.h"
#include "tst_guisupport.h"
#include "tst_modelssupport.h"

using namespace dispatch;
using namespace dispatch::test;

namespace {

const QString kFunction = QStringLiteral("hello-editor");

// The window and one part of it from a single grab (the part cut out of the window's picture).
void snapWithPart(QWidget *window, QWidget *part, const QString &name, const QString &partName)
{
    const QString theme = views::currentTheme() == views::Theme::Dark ? QStringLiteral("dark") : QStringLiteral("light");
    QApplication::processEvents();
    const QString dir = testOutputDir(QStringLiteral("screenshots")) + QLatin1Char('/');
    const QPixmap all = window->grab();
    all.save(dir + name + QLatin1Char('-') + theme + QStringLiteral(".png"));
    const QRect rect(part->mapTo(window, QPoint(0, 0)), part->size());
    all.copy(rect).save(dir + partName + QLatin1Char('-') + theme + QStringLiteral(".png"));
}

} // namespace

class TestEditor : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void handlerRules();
    void wizardCreatesHelloFromTemplate();
    void testPaneRunsAndKeepsInputs();
    void syntaxErrorIsMarkedThenFixed();
    void stackTraceJumpsIntoTheCode();
    void filesFindAndReplace();
    void draftSurvivesTheWindowGoingAway();
    void draftSurvivesAKilledConsole();
    void plainDispatchOpensReadOnly();
    void inputSchemaGivesInputError();
    // Before the screenshots on purpose: a run's detail request that was still pending when the Runs panel was
    // destroyed used to call back into the half-destroyed panel and corrupt the heap (RestClient fix; see
    // console.modelsrest callbackNeedsLiveContext), which showed only when something ran after this test.
    void runOpensItsCodeAndReplays();
    void screenshotsLightAndDark();

private:
    views::MainWindow *window() const { return m_console->window(); }
    views::Workspace *ws() const { return m_console->workspace(); }
    views::FunctionEditor *editor() const { return views::FunctionEditor::find(ws(), kFunction); }
    views::FunctionEditor *openEditor();
    bool saveAndWait(views::FunctionEditor *e, const QString &status);

    QTemporaryDir m_dir;
    std::unique_ptr<app::ConsoleApplication> m_console;
    QString m_firstRunId;
    QString m_firstRevision;
};

void TestEditor::initTestCase()
{
    QVERIFY(m_dir.isValid());
    app::ConsoleApplication::setUpApplication(m_dir.path());
    views::FunctionEditor::setDraftDirectory(m_dir.path() + QStringLiteral("/drafts"));
    m_console = std::make_unique<app::ConsoleApplication>();
    QString error;
    QVERIFY2(startConsole(*m_console, m_dir.path() + QStringLiteral("/console"), &error), qPrintable(error));
    DispatchClient api = localClient(*m_console);
    QVERIFY2(seedPython(api, &error), qPrintable(error)); // python3-base and python3, READY
    QTRY_VERIFY_WITH_TIMEOUT(views::jsonString(ws()->images()->object(QStringLiteral("python3")), "status")
                                 == QLatin1String("READY"),
                             kGuiWaitMs);
}

void TestEditor::cleanupTestCase()
{
    if (auto *e = editor())
        delete e;
    m_console.reset();
}

views::FunctionEditor *TestEditor::openEditor()
{
    auto *fv = window()->functionsPanel()->view();
    fv->selectName(kFunction);
    auto *e = fv->openCode(kFunction);
    return e;
}

bool TestEditor::saveAndWait(views::FunctionEditor *e, const QString &status)
{
    QSignalSpy saved(e, &views::FunctionEditor::saveFinished);
    e->save();
    if (!saved.wait(kGuiWaitMs) || !saved.first().at(0).toBool())
        return false;
    return QTest::qWaitFor([&] { return e->status() == status; }, kGuiWaitMs);
}

void TestEditor::handlerRules()
{
    using views::defaultHandlerFor;
    using views::handlerTarget;
    QCOMPARE(defaultHandlerFor(QStringLiteral("python3"), {{QStringLiteral("lib/hello.py"), {}}}),
             QStringLiteral("lib.hello.handle"));
    QCOMPARE(defaultHandlerFor(QStringLiteral("python3"), {{QStringLiteral("a.py"), {}}, {QStringLiteral("b.py"), {}}}),
             QString()); // two candidates: the server asks for a handler too
    QCOMPARE(defaultHandlerFor(QStringLiteral("nodejs"), {{QStringLiteral("hello.js"), {}}}), QStringLiteral("hello.js"));
    QCOMPARE(defaultHandlerFor(QStringLiteral("java"),
                               {{QStringLiteral("src/Hello.java"), QStringLiteral("package io.x;\nclass Hello {}")}}),
             QStringLiteral("io.x.Hello"));
    const auto t = handlerTarget(QStringLiteral("python3"), QStringLiteral("lib.hello.handle"),
                                 {QStringLiteral("lib/hello.py")});
    QCOMPARE(t.file, QStringLiteral("lib/hello.py"));
    QCOMPARE(t.symbol, QStringLiteral("handle"));
    QCOMPARE(handlerTarget(QStringLiteral("nodejs"), QStringLiteral("./hello.js"), {QStringLiteral("hello.js")}).file,
             QStringLiteral("hello.js"));
    QCOMPARE(handlerTarget(QStringLiteral("python3"), QStringLiteral("nope.handle"), {QStringLiteral("hello.py")}).file,
             QString());
    // Stack-trace lines of the three runtimes.
    QCOMPARE(views::traceLocation(QStringLiteral("  File \"/data/functions/x/hello.py\", line 7, in handle")).line, 7);
    QCOMPARE(views::traceLocation(QStringLiteral("    at module.exports (/x/src/hello.js:12:9)")).path,
             QStringLiteral("/x/src/hello.js"));
    QCOMPARE(views::traceLocation(QStringLiteral("\tat Hello.apply(Hello.java:5)")).line, 5);
    QCOMPARE(views::traceLocation(QStringLiteral("ValueError: boom")).line, 0);
}

void TestEditor::wizardCreatesHelloFromTemplate()
{
    window()->showPage(views::MainWindow::FunctionsPage);
    auto *fv = window()->functionsPanel()->view();
    views::NewFunctionWizard *wizard = fv->openWizard();
    QVERIFY(wizard);
    QTRY_VERIFY(wizard->imageList()->count() > 0);
    QVERIFY(wizard->selectImage(QStringLiteral("python3")));
    QCOMPARE(wizard->runtime(), QStringLiteral("python3"));
    snap(wizard, QStringLiteral("wizard-image"));
    wizard->next();
    QCOMPARE(wizard->currentId(), int(views::NewFunctionWizard::TemplatePage));
    QCOMPARE(wizard->templateList()->count(), 4);
    QVERIFY(wizard->selectTemplate(QStringLiteral("hello")));
    snap(wizard, QStringLiteral("wizard-template"));
    wizard->next();
    QCOMPARE(wizard->currentId(), int(views::NewFunctionWizard::NamePage));
    // The handler follows the runtime's default rule for the template's files.
    QCOMPARE(wizard->handlerEdit()->text(), QStringLiteral("hello.handle"));
    // Names are validated as the server does.
    wizard->nameEdit()->setText(QStringLiteral("bad name!"));
    wizard->next();
    QCOMPARE(wizard->currentId(), int(views::NewFunctionWizard::NamePage));
    snap(wizard, QStringLiteral("wizard-name-invalid"));
    wizard->nameEdit()->setText(kFunction);
    wizard->next();
    QCOMPARE(wizard->currentId(), int(views::NewFunctionWizard::OptionsPage));
    // A schema that is not an object is refused before anything is sent.
    wizard->schemaInEdit()->setPlainText(QStringLiteral("[1, 2"));
    wizard->next();
    QCOMPARE(wizard->currentId(), int(views::NewFunctionWizard::OptionsPage));
    wizard->schemaInEdit()->clear();
    wizard->timeoutEdit()->setValue(20000);
    snap(wizard, QStringLiteral("wizard-options"));
    wizard->next(); // Create
    QCOMPARE(wizard->currentId(), int(views::NewFunctionWizard::ProgressPage));
    QTRY_COMPARE_WITH_TIMEOUT(wizard->finalStatus(), QStringLiteral("READY"), kGuiWaitMs);
    QCOMPARE(wizard->statusHistory().first(), QStringLiteral("INITIALIZED"));
    // Only forward: INITIALIZED → (CREATING →) READY, whatever order the answer and the feed arrive in.
    QVERIFY(wizard->statusHistory().size() <= 3);
    QCOMPARE(wizard->statusHistory().count(QStringLiteral("INITIALIZED")), 1);
    snap(wizard, QStringLiteral("wizard-ready"));
    QVERIFY(wizard->openEditorButton()->isEnabled());
    QTest::mouseClick(wizard->openEditorButton(), Qt::LeftButton);
    QTRY_VERIFY(editor());
    auto *e = editor();
    QTRY_VERIFY_WITH_TIMEOUT(e->isLoaded(), kGuiWaitMs);
    QVERIFY(e->isSourceAvailable());
    QCOMPARE(e->filePaths(), QStringList{QStringLiteral("hello.py")});
    QCOMPARE(e->currentFile(), QStringLiteral("hello.py"));
    QCOMPARE(e->editor()->language(), QStringLiteral("python"));
    QVERIFY(e->editor()->text().contains(QStringLiteral("def handle(ctx, payload):")));
    QCOMPARE(e->handlerEdit()->text(), QStringLiteral("hello.handle"));
    QVERIFY(e->handlerInfo()->text().contains(QStringLiteral("hello.py, handle")));
    QVERIFY(e->testPane()->inputEditor()->text().contains(QStringLiteral("Winterfell")));
    QTRY_COMPARE_WITH_TIMEOUT(e->revisions().size(), 1, kGuiWaitMs);
    m_firstRevision = e->currentRevision();
    QVERIFY(!m_firstRevision.isEmpty());
    QCOMPARE(views::jsonInt(ws()->functions()->object(kFunction), "timeout"), 20000);
}

void TestEditor::testPaneRunsAndKeepsInputs()
{
    auto *e = editor();
    QVERIFY(e);
    auto *pane = e->testPane();
    QTRY_VERIFY(pane->savedInputsLoaded());
    QVERIFY(pane->savedInputsShared());
    QTest::mouseClick(pane->runButton(), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(views::jsonString(pane->lastRun(), "status"), QStringLiteral("READY"), kGuiWaitMs);
    QVERIFY2(pane->outputView()->toPlainText().contains(QStringLiteral("Hello, Jon from Winterfell")),
             qPrintable(pane->outputView()->toPlainText()));
    m_firstRunId = views::jsonString(pane->lastRun(), "name");
    QCOMPARE(views::jsonString(pane->lastRun(), "faasId"), m_firstRevision);
    QTRY_VERIFY(pane->history()->count() >= 1);

    // Saved inputs are kept on the server (shared) and exported to a file.
    pane->saveInput(QStringLiteral("jon"));
    pane->setInput(QStringLiteral("{\"name\": \"Arya\", \"place\": \"Braavos\"}"));
    pane->saveInput(QStringLiteral("arya"));
    DispatchClient api = localClient(*m_console);
    QTRY_VERIFY_WITH_TIMEOUT(api.get(QStringLiteral("/v1/function/%1/testinputs").arg(kFunction)).json().size() == 2,
                             kGuiWaitMs);
    const Json stored = api.get(QStringLiteral("/v1/function/%1/testinputs").arg(kFunction)).json();
    QCOMPARE(stored[0].value("name", ""), std::string("jon"));
    QCOMPARE(stored[0]["input"].value("place", ""), std::string("Winterfell"));
    QVERIFY(pane->loadInput(QStringLiteral("jon")));
    QVERIFY(pane->inputEditor()->text().contains(QStringLiteral("Winterfell")));
    const QString exported = m_dir.path() + QStringLiteral("/inputs.json");
    QVERIFY(pane->exportInputs(exported));
    QFile f(exported);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const Json file = Json::parse(f.readAll().toStdString());
    QCOMPARE(file.size(), std::size_t(2));
    QCOMPARE(file[1].value("name", ""), std::string("arya"));
    // A bad document is refused with the server's message.
    auto bad = api.put(QStringLiteral("/v1/function/%1/testinputs").arg(kFunction), Json{{"name", "x"}});
    QCOMPARE(bad.status, 400);
    bad = api.put(QStringLiteral("/v1/function/%1/testinputs").arg(kFunction),
                  Json::array({{{"name", "a"}}, {{"name", "a"}}}));
    QCOMPARE(bad.status, 400);
    QVERIFY(bad.body.contains("appears twice"));
    QCOMPARE(api.get(QStringLiteral("/v1/function/nope/testinputs")).status, 404);
    // A bad input is refused in place.
    pane->setInput(QStringLiteral("{\"name\": "));
    pane->runNow();
    QVERIFY(pane->findChild<QLabel *>(QStringLiteral("testInputError"))->isVisibleTo(pane));
    QVERIFY(pane->loadInput(QStringLiteral("jon")));
}

void TestEditor::syntaxErrorIsMarkedThenFixed()
{
    auto *e = editor();
    QVERIFY(e);
    const QString good = e->editor()->text();
    QStringList lines = good.split(QLatin1Char('\n'));
    lines[3] = QStringLiteral("    if payload   # a colon is missing");
    e->editor()->setText(lines.join(QLatin1Char('\n')));
    QVERIFY(e->isModified());
    QVERIFY(e->windowTitle().contains(QLatin1Char('*')));
    QVERIFY(saveAndWait(e, QStringLiteral("ERROR")));
    QTRY_COMPARE_WITH_TIMEOUT(e->editor()->errorLine(), 4, kGuiWaitMs);
    QVERIFY2(e->editor()->errorMessage().contains(QStringLiteral("hello.py:4")), qPrintable(e->editor()->errorMessage()));
    QVERIFY(e->editor()->errorMessage().contains(QStringLiteral("SyntaxError")));
    int line = 0, index = 0;
    e->editor()->getCursorPosition(&line, &index);
    QCOMPARE(line, 3);
    snap(e, QStringLiteral("editor-build-error"));

    e->editor()->setText(good);
    QVERIFY(saveAndWait(e, QStringLiteral("READY")));
    QCOMPARE(e->editor()->errorLine(), 0);
    QVERIFY(!e->isModified());
    QTRY_VERIFY_WITH_TIMEOUT(e->revisions().size() >= 3, kGuiWaitMs);
    QCOMPARE(e->revisions().first(), e->currentRevision());
    QVERIFY(e->currentRevision() != m_firstRevision);
}

void TestEditor::stackTraceJumpsIntoTheCode()
{
    auto *e = editor();
    QVERIFY(e);
    const QString good = e->editor()->text();
    e->editor()->setText(QStringLiteral("def helper(payload):\n"
                                        "    return payload[\"missing\"]\n"
                                        "\n"
                                        "def handle(ctx, payload):\n"
                                        "    return helper(payload)\n"));
    QVERIFY(saveAndWait(e, QStringLiteral("READY")));
    auto *pane = e->testPane();
    pane->setInput(QStringLiteral("{}"));
    pane->runNow();
    QTRY_COMPARE_WITH_TIMEOUT(views::jsonString(pane->lastRun(), "status"), QStringLiteral("ERROR"), kGuiWaitMs);
    QListWidgetItem *target = nullptr;
    for (int i = 0; i < pane->errorTrace()->count(); ++i) {
        const auto loc = views::traceLocation(pane->errorTrace()->item(i)->text());
        if (loc.path.endsWith(QStringLiteral("hello.py")) && loc.line == 2)
            target = pane->errorTrace()->item(i);
    }
    QVERIFY2(target, "no trace line points at hello.py line 2");
    e->editor()->setCursorPosition(0, 0);
    emit pane->errorTrace()->itemActivated(target);
    int line = 0, index = 0;
    e->editor()->getCursorPosition(&line, &index);
    QCOMPARE(line, 1);
    snap(e, QStringLiteral("editor-function-error"));
    e->editor()->setText(good);
    QVERIFY(pane->loadInput(QStringLiteral("jon")));
    QVERIFY(saveAndWait(e, QStringLiteral("READY")));
}

void TestEditor::runOpensItsCodeAndReplays()
{
    auto *e = editor();
    QVERIFY(e);
    // Change the output so the replay differs from the original.
    QString changed = e->editor()->text();
    changed.replace(QStringLiteral("\"Hello, %s from %s\""), QStringLiteral("\"Greetings, %s of %s\""));
    e->editor()->setText(changed);
    QVERIFY(saveAndWait(e, QStringLiteral("READY")));
    const QString current = e->currentRevision();

    window()->showPage(views::MainWindow::RunsPage);
    auto *runs = window()->runsPanel();
    QTRY_VERIFY_WITH_TIMEOUT(ws()->runs()->rowOfRun(m_firstRunId) >= 0, kGuiWaitMs);
    QVERIFY(runs->selectRun(m_firstRunId));
    QTRY_COMPARE_WITH_TIMEOUT(views::jsonString(runs->shownRun(), "faasId"), m_firstRevision, kGuiWaitMs);
    auto *open = runs->findChild<QPushButton *>(QStringLiteral("openRunCodeButton"));
    QVERIFY(open && open->isEnabled());
    QTest::mouseClick(open, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(e->shownRevision(), m_firstRevision, kGuiWaitMs);
    QVERIFY(e->editor()->isReadOnly());
    QVERIFY(e->editor()->text().contains(QStringLiteral("Hello, %s from %s")));
    QVERIFY(e->restoreButton()->isVisible());
    snap(e, QStringLiteral("editor-old-revision"));
    // Back to the current code, still editable.
    e->showRevision({});
    QVERIFY(!e->editor()->isReadOnly());
    QVERIFY(e->editor()->text().contains(QStringLiteral("Greetings")));

    // Replay: the old input against the current code, side by side.
    auto *replay = runs->findChild<QPushButton *>(QStringLiteral("replayButton"));
    QVERIFY(replay && replay->isEnabled());
    QTest::mouseClick(replay, Qt::LeftButton);
    views::ReplayDialog *dialog = nullptr;
    QTRY_VERIFY((dialog = runs->findChild<views::ReplayDialog *>()) != nullptr);
    QTRY_VERIFY_WITH_TIMEOUT(dialog->isFinished(), kGuiWaitMs);
    QCOMPARE(views::jsonString(dialog->replayRun(), "faasId"), current);
    QVERIFY(dialog->thenView()->toPlainText().contains(QStringLiteral("Hello, Jon from Winterfell")));
    QVERIFY2(dialog->nowView()->toPlainText().contains(QStringLiteral("Greetings, Jon of Winterfell")),
             qPrintable(dialog->nowView()->toPlainText()));
    snap(dialog, QStringLiteral("dialog-replay"));
    dialog->close();

    // Restore the first revision: its code becomes a new revision.
    e->showRevision(m_firstRevision);
    QTRY_COMPARE_WITH_TIMEOUT(e->shownRevision(), m_firstRevision, kGuiWaitMs);
    QSignalSpy saved(e, &views::FunctionEditor::saveFinished);
    QTest::mouseClick(e->restoreButton(), Qt::LeftButton);
    QVERIFY(saved.wait(kGuiWaitMs));
    QTRY_COMPARE_WITH_TIMEOUT(e->status(), QStringLiteral("READY"), kGuiWaitMs);
    QVERIFY(e->shownRevision().isEmpty());
    QVERIFY(e->editor()->text().contains(QStringLiteral("Hello, %s from %s")));
    QVERIFY(e->currentRevision() != current);
    window()->showPage(views::MainWindow::FunctionsPage);
}

void TestEditor::filesFindAndReplace()
{
    auto *e = editor();
    QVERIFY(e);
    QString error;
    QVERIFY(!e->addFile(QStringLiteral("../escape.py"), {}, &error));
    QVERIFY(error.contains(QStringLiteral("not a valid path")));
    QVERIFY(!e->addFile(QStringLiteral("hello.py"), {}, &error));
    QVERIFY(error.contains(QStringLiteral("already")));
    QVERIFY(e->addFile(QStringLiteral("lib/greeting.py"), QStringLiteral("WORD = 'Hello'\n")));
    QCOMPARE(e->currentFile(), QStringLiteral("lib/greeting.py"));
    QVERIFY(e->renameFile(QStringLiteral("lib/greeting.py"), QStringLiteral("greeting.py")));
    QCOMPARE(e->filePaths(), (QStringList{QStringLiteral("greeting.py"), QStringLiteral("hello.py")}));
    // Two python files: the handler still names its file and symbol.
    QVERIFY(e->handlerInfo()->text().contains(QStringLiteral("hello.py, handle")));
    QVERIFY(e->removeFile(QStringLiteral("greeting.py")));
    QCOMPARE(e->filePaths(), QStringList{QStringLiteral("hello.py")});

    // Find and replace, undone in one step.
    const QString before = e->editor()->text();
    e->findBar()->showFind();
    e->findBar()->findEdit()->setText(QStringLiteral("place"));
    e->findBar()->replaceEdit()->setText(QStringLiteral("town"));
    QVERIFY(e->findBar()->findNext());
    QCOMPARE(e->findBar()->replaceAll(), 5);
    QVERIFY(!e->editor()->text().contains(QStringLiteral("place")));
    snap(e, QStringLiteral("editor-find-replace"));
    e->editor()->undo();
    QCOMPARE(e->editor()->text(), before);
    e->findBar()->hide();
    QTRY_VERIFY(!e->isModified());
}

void TestEditor::draftSurvivesTheWindowGoingAway()
{
    auto *e = editor();
    QVERIFY(e);
    const QString dir = views::FunctionEditor::draftDirectory();
    e->editor()->append(QStringLiteral("# not saved yet\n"));
    QVERIFY(e->isModified());
    QTRY_VERIFY_WITH_TIMEOUT(!QDir(dir).entryList(QDir::Files).isEmpty(), kGuiWaitMs);
    // The window goes away without closing (as when the console is killed): no question, nothing saved.
    delete e;
    QVERIFY(!editor());
    auto *again = openEditor();
    QVERIFY(again);
    QTRY_VERIFY_WITH_TIMEOUT(again->isLoaded(), kGuiWaitMs);
    QVERIFY(again->restoredDraft());
    QVERIFY(again->isModified());
    QVERIFY(again->editor()->text().contains(QStringLiteral("# not saved yet")));
    QVERIFY(again->messageBar()->text().contains(QStringLiteral("Restored unsaved changes")));
    snap(again, QStringLiteral("editor-draft-restored"));
    again->revertChanges();
    QVERIFY(!again->isModified());
    QVERIFY(QDir(dir).entryList(QDir::Files).isEmpty());
}

// The real thing: another console process (this executable in its child mode, attached to this console's
// server) edits the function, autosaves, and is killed with SIGKILL; opening the function here restores the text.
void TestEditor::draftSurvivesAKilledConsole()
{
    if (auto *e = editor())
        delete e; // this console's editor: the draft must come from the killed one
    const QString dir = views::FunctionEditor::draftDirectory();
    QVERIFY(QDir(dir).entryList(QDir::Files).isEmpty());
    QProcess child;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    child.setProcessEnvironment(env);
    child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    child.start(QCoreApplication::applicationFilePath(), {QStringLiteral("--draft-child"), m_dir.path()});
    QVERIFY(child.waitForStarted());
    QVERIFY(child.waitForFinished(kGuiWaitMs));
    QCOMPARE(child.exitStatus(), QProcess::CrashExit); // it died by SIGKILL, after its autosave
    QVERIFY(!QDir(dir).entryList(QDir::Files).isEmpty());
    auto *again = openEditor();
    QVERIFY(again);
    QTRY_VERIFY_WITH_TIMEOUT(again->isLoaded(), kGuiWaitMs);
    QVERIFY(again->restoredDraft());
    QVERIFY(again->editor()->text().contains(QStringLiteral("# typed in the console that was killed")));
    again->revertChanges();
    QVERIFY(QDir(dir).entryList(QDir::Files).isEmpty());
}

// Against a plain Dispatch server (a stand-in answering as Solo does: its /healthz, 404 for our extensions)
// the editor opens read-only and says why; nothing can be saved from it.
void TestEditor::plainDispatchOpensReadOnly()
{
    const QByteArray function = R"({"name":"solo-fn","image":"python3","handler":"hello.handle","status":"READY",)"
                                R"("faasId":"6f1c3a2e-1111-4222-8333-444455556666","kind":"Function"})";
    FakeHttpServer solo([&](const QByteArray &, const QByteArray &target) -> std::pair<int, QByteArray> {
        if (target.startsWith("/healthz"))
            return {200, R"({"version":{"version":"v0.1.19","commit":"x","buildDate":"","goVersion":"go1.10.3","compiler":"gc","platform":"linux/amd64"}})"};
        if (target == "/v1/function/solo-fn")
            return {200, function};
        return {404, R"({"code":404,"message":"resource does not exist"})"};
    });
    views::Workspace remote;
    models::Endpoint endpoint;
    endpoint.baseUrl = QUrl(solo.base());
    remote.setEndpoint(endpoint);
    views::FunctionEditor *e = views::FunctionEditor::openFor(&remote, QStringLiteral("solo-fn"), {}, nullptr);
    QVERIFY(e);
    QTRY_VERIFY_WITH_TIMEOUT(e->isLoaded(), kGuiWaitMs);
    QVERIFY(!e->isSourceAvailable());
    QVERIFY2(e->readOnlyReason().contains(QStringLiteral("Edit\u2026")), qPrintable(e->readOnlyReason()));
    QVERIFY(e->editor()->isReadOnly());
    QVERIFY(!e->saveButton()->isEnabled());
    // The function's handler is shown (not "required"), and no revision button offers a way back.
    QCOMPARE(e->findChild<QLineEdit *>(QStringLiteral("editorHandler"))->text(), QStringLiteral("hello.handle"));
    QVERIFY(!e->findChild<QPushButton *>(QStringLiteral("backToCurrent"))->isVisible());
    snap(e, QStringLiteral("editor-plain-dispatch"));
    delete e;
}

void TestEditor::inputSchemaGivesInputError()
{
    auto *fv = window()->functionsPanel()->view();
    views::NewFunctionWizard *wizard = fv->openWizard();
    QTRY_VERIFY(wizard->imageList()->count() > 0);
    QVERIFY(wizard->selectImage(QStringLiteral("python3")));
    wizard->next();
    QVERIFY(wizard->selectTemplate(QStringLiteral("hello")));
    wizard->next();
    wizard->nameEdit()->setText(QStringLiteral("hello-schema"));
    wizard->next();
    wizard->schemaInEdit()->setPlainText(QStringLiteral("{\"type\": \"object\", \"required\": [\"name\"]}"));
    wizard->next();
    QTRY_COMPARE_WITH_TIMEOUT(wizard->finalStatus(), QStringLiteral("READY"), kGuiWaitMs);
    QTest::mouseClick(wizard->openEditorButton(), Qt::LeftButton);
    views::FunctionEditor *e = nullptr;
    QTRY_VERIFY((e = views::FunctionEditor::find(ws(), QStringLiteral("hello-schema"))) != nullptr);
    QTRY_VERIFY_WITH_TIMEOUT(e->isLoaded(), kGuiWaitMs);
    auto *pane = e->testPane();
    pane->setInput(QStringLiteral("{\"place\": \"Winterfell\"}"));
    pane->runNow();
    QTRY_COMPARE_WITH_TIMEOUT(views::jsonString(pane->lastRun(), "status"), QStringLiteral("ERROR"), kGuiWaitMs);
    const Json error = pane->lastRun()["error"];
    QCOMPARE(error.value("type", ""), std::string("InputError"));
    QCOMPARE(error.value("message", ""), std::string("Input invalid against schema: name: is required"));
    QVERIFY(pane->errorTrace()->item(0)->text().startsWith(QStringLiteral("InputError: Input invalid against schema")));
    snapWithPart(e, e->testPane(), QStringLiteral("editor-schema"), QStringLiteral("editor-test-pane-input-error"));
    pane->setInput(QStringLiteral("{\"name\": \"Jon\", \"place\": \"Winterfell\"}"));
    pane->runNow();
    QTRY_COMPARE_WITH_TIMEOUT(views::jsonString(pane->lastRun(), "status"), QStringLiteral("READY"), kGuiWaitMs);
    delete e;
}

void TestEditor::screenshotsLightAndDark()
{
    auto *e = editor();
    QVERIFY(e);
    auto *fv = window()->functionsPanel()->view();
    for (views::Theme theme : {views::Theme::Light, views::Theme::Dark}) {
        views::applyTheme(theme);
        QTest::qWait(50);
        QVERIFY(e->testPane()->loadInput(QStringLiteral("jon")));
        e->testPane()->runNow();
        QVERIFY(!e->testPane()->runButton()->isEnabled()); // running
        QTRY_VERIFY_WITH_TIMEOUT(e->testPane()->runButton()->isEnabled(), kGuiWaitMs);
        QCOMPARE(views::jsonString(e->testPane()->lastRun(), "status"), QStringLiteral("READY"));
        QVERIFY(e->testPane()->outputView()->toPlainText().contains(QStringLiteral("Hello, Jon from Winterfell")));
        snapWithPart(e, e->testPane(), QStringLiteral("editor"), QStringLiteral("editor-test-pane"));
        auto *wizard = fv->openWizard();
        QTRY_VERIFY(wizard->imageList()->count() > 0);
        wizard->next();
        snap(wizard, QStringLiteral("wizard-template"));
        wizard->reject();
    }
    views::applyTheme(views::Theme::Light);
}

// Child mode for draftSurvivesAKilledConsole: a second console on the test's data dir (it attaches to the
// running server), opens the function, types, waits for the autosave, and kills itself without any clean-up.
static int runDraftChild(const QString &base)
{
    app::ConsoleApplication::setUpApplication(base);
    views::FunctionEditor::setDraftDirectory(base + QStringLiteral("/drafts"));
    app::ConsoleApplication console;
    QString error;
    if (!startConsole(console, base + QStringLiteral("/console"), &error)) {
        qCritical("draft child: %s", qPrintable(error));
        return 2;
    }
    if (!QTest::qWaitFor([&] { return console.workspace()->functions()->rowOf(kFunction) >= 0; }, kGuiWaitMs))
        return 3;
    auto *fv = console.window()->functionsPanel()->view();
    fv->selectName(kFunction);
    views::FunctionEditor *e = fv->openCode(kFunction);
    if (!e || !QTest::qWaitFor([&] { return e->isLoaded(); }, kGuiWaitMs))
        return 4;
    e->editor()->append(QStringLiteral("# typed in the console that was killed\n"));
    const QString dir = views::FunctionEditor::draftDirectory();
    if (!QTest::qWaitFor([&] { return !QDir(dir).entryList(QDir::Files).isEmpty(); }, kGuiWaitMs))
        return 5;
    ::kill(::getpid(), SIGKILL);
    return 6;
}

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    const QStringList args = QCoreApplication::arguments();
    if (args.size() >= 3 && args.at(1) == QLatin1String("--draft-child"))
        return runDraftChild(args.at(2));
    QTEST_SET_MAIN_SOURCE_PATH
    TestEditor test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_editor.moc"
