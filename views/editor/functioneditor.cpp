// SPDX-License-Identifier: GPL-3.0-or-later
#include "functioneditor.h"

#include "codeeditor.h"
#include "functionsmodel.h"
#include "functiontemplates.h"
#include "imagesmodel.h"
#include "jsontext.h"
#include "messagebar.h"
#include "restclient.h"
#include "sourcearchive.h"
#include "testpane.h"
#include "theme.h"
#include "workspace.h"

#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QRegularExpression>
#include <QSaveFile>
#include <QShortcut>
#include <QSplitter>
#include <QStandardPaths>
#include <QToolButton>
#include <QVBoxLayout>

namespace dispatch::views {

using Json = nlohmann::json;

namespace {

QString g_draftDirectory;
QList<QPointer<FunctionEditor>> g_editors;

QString encoded(const QString &name)
{
    return QString::fromUtf8(QUrl::toPercentEncoding(name));
}

FunctionEditor::Files filesFrom(const Json &source)
{
    FunctionEditor::Files files;
    if (source.is_object() && source.contains("files") && source["files"].is_array())
        for (const auto &f : source["files"])
            files.insert(jsonString(f, "path"), jsonString(f, "content"));
    return files;
}

} // namespace

void FunctionEditor::setDraftDirectory(const QString &directory)
{
    g_draftDirectory = directory;
}

QString FunctionEditor::draftDirectory()
{
    if (!g_draftDirectory.isEmpty())
        return g_draftDirectory;
    return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + QStringLiteral("/drafts");
}

FunctionEditor *FunctionEditor::find(Workspace *workspace, const QString &function)
{
    for (const auto &e : std::as_const(g_editors))
        if (e && e->m_workspace == workspace && e->m_function == function)
            return e;
    return nullptr;
}

FunctionEditor *FunctionEditor::openFor(Workspace *workspace, const QString &function, const QString &revision,
                                        QWidget *parent)
{
    FunctionEditor *editor = find(workspace, function);
    if (!editor) {
        editor = new FunctionEditor(workspace, function, parent);
        editor->setAttribute(Qt::WA_DeleteOnClose);
    }
    if (editor->m_loaded)
        editor->showRevision(revision);
    else
        editor->m_pendingRevision = revision;
    editor->show();
    editor->raise();
    editor->activateWindow();
    return editor;
}

FunctionEditor::FunctionEditor(Workspace *workspace, const QString &function, QWidget *parent)
    : QWidget(parent, Qt::Window), m_workspace(workspace), m_function(function)
{
    g_editors.append(this);
    setObjectName(QStringLiteral("functionEditor"));
    resize(1240, 780);

    // Header: name, status, revision, actions.
    auto *header = new QHBoxLayout;
    m_title = new QLabel(this);
    m_title->setObjectName(QStringLiteral("editorTitle"));
    QFont big = m_title->font();
    big.setPointSizeF(big.pointSizeF() * 1.25);
    big.setBold(true);
    m_title->setFont(big);
    m_badge = new StatusBadge(this);
    m_badge->setObjectName(QStringLiteral("editorStatus"));
    auto *revisionLabel = new QLabel(tr("Re&vision:"), this);
    m_revisionCombo = new QComboBox(this);
    m_revisionCombo->setObjectName(QStringLiteral("revisionCombo"));
    m_revisionCombo->setMinimumContentsLength(38);
    m_revisionCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    revisionLabel->setBuddy(m_revisionCombo);
    m_save = new QPushButton(tr("&Save"), this);
    m_save->setObjectName(QStringLiteral("editorSave"));
    m_save->setToolTip(tr("Upload the code as a new revision (Ctrl+S); the function rebuilds"));
    m_revert = new QPushButton(tr("Revert"), this);
    m_revert->setObjectName(QStringLiteral("editorRevert"));
    m_revert->setToolTip(tr("Drop the unsaved changes and go back to the saved code"));
    auto *findButton = new QPushButton(tr("Find\u2026"), this);
    findButton->setToolTip(tr("Find and replace (Ctrl+F)"));
    header->addWidget(m_title);
    header->addWidget(m_badge);
    header->addStretch(1);
    header->addWidget(revisionLabel);
    header->addWidget(m_revisionCombo);
    header->addWidget(findButton);
    header->addWidget(m_revert);
    header->addWidget(m_save);

    m_messages = new MessageBar(this);
    m_messages->setObjectName(QStringLiteral("editorMessages"));

    // Banner for an old revision (or a read-only source).
    m_bannerBox = new QWidget(this);
    m_bannerBox->setObjectName(QStringLiteral("revisionBanner"));
    auto *bannerRow = new QHBoxLayout(m_bannerBox);
    bannerRow->setContentsMargins(8, 4, 8, 4);
    m_banner = new QLabel(m_bannerBox);
    m_banner->setWordWrap(true);
    m_restore = new QPushButton(tr("Restore this revision"), m_bannerBox);
    m_restore->setObjectName(QStringLiteral("restoreRevision"));
    m_restore->setToolTip(tr("Save this revision's code as a new revision of the function"));
    auto *backToCurrent = new QPushButton(tr("Back to the current code"), m_bannerBox);
    backToCurrent->setObjectName(QStringLiteral("backToCurrent"));
    bannerRow->addWidget(m_banner, 1);
    bannerRow->addWidget(m_restore);
    bannerRow->addWidget(backToCurrent);
    m_bannerBox->setAutoFillBackground(true);
    m_bannerBox->hide();

    // Left: files and handler.
    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    auto *filesHeader = new QHBoxLayout;
    auto *filesLabel = new QLabel(tr("Files"), left);
    m_addFile = new QToolButton(left);
    m_addFile->setText(QStringLiteral("+"));
    m_addFile->setToolTip(tr("Add a file"));
    m_renameFile = new QToolButton(left);
    m_renameFile->setText(tr("Rename"));
    m_renameFile->setToolTip(tr("Rename the selected file"));
    m_removeFile = new QToolButton(left);
    m_removeFile->setText(QStringLiteral("\u2212"));
    m_removeFile->setToolTip(tr("Delete the selected file"));
    filesHeader->addWidget(filesLabel, 1);
    filesHeader->addWidget(m_addFile);
    filesHeader->addWidget(m_renameFile);
    filesHeader->addWidget(m_removeFile);
    m_fileList = new QListWidget(left);
    m_fileList->setObjectName(QStringLiteral("editorFiles"));
    auto *handlerLabel = new QLabel(tr("&Handler:"), left);
    m_handler = new QLineEdit(left);
    m_handler->setObjectName(QStringLiteral("editorHandler"));
    handlerLabel->setBuddy(m_handler);
    m_handlerInfo = new QLabel(left);
    m_handlerInfo->setObjectName(QStringLiteral("handlerInfo"));
    m_handlerInfo->setWordWrap(true);
    leftLayout->addLayout(filesHeader);
    leftLayout->addWidget(m_fileList, 1);
    leftLayout->addWidget(handlerLabel);
    leftLayout->addWidget(m_handler);
    leftLayout->addWidget(m_handlerInfo);

    // Centre: the editor.
    auto *centre = new QWidget(this);
    auto *centreLayout = new QVBoxLayout(centre);
    centreLayout->setContentsMargins(0, 0, 0, 0);
    m_editor = new CodeEditor(centre);
    m_editor->setObjectName(QStringLiteral("codeEditor"));
    m_findBar = new FindBar(m_editor, centre);
    centreLayout->addWidget(m_bannerBox);
    centreLayout->addWidget(m_editor, 1);
    centreLayout->addWidget(m_findBar);

    m_testPane = new TestPane(workspace, function, this);

    auto *split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(left);
    split->addWidget(centre);
    split->addWidget(m_testPane);
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 3);
    split->setStretchFactor(2, 2);
    split->setSizes({200, 620, 420});

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addWidget(m_messages);
    layout->addWidget(split, 1);

    auto *saveKey = new QShortcut(QKeySequence::Save, this);
    connect(saveKey, &QShortcut::activated, this, &FunctionEditor::save);
    auto *findKey = new QShortcut(QKeySequence::Find, this);
    connect(findKey, &QShortcut::activated, m_findBar, &FindBar::showFind);
    connect(findButton, &QPushButton::clicked, m_findBar, &FindBar::showFind);
    connect(m_save, &QPushButton::clicked, this, &FunctionEditor::save);
    connect(m_revert, &QPushButton::clicked, this, [this] {
        if (QMessageBox::question(this, tr("Revert"), tr("Drop the unsaved changes to %1?").arg(m_function))
            == QMessageBox::Yes)
            revertChanges();
    });
    connect(m_restore, &QPushButton::clicked, this, &FunctionEditor::restoreShownRevision);
    connect(backToCurrent, &QPushButton::clicked, this, [this] { showRevision({}); });
    connect(m_revisionCombo, &QComboBox::activated, this, [this](int index) {
        showRevision(m_revisionCombo->itemData(index).toString());
    });
    connect(m_fileList, &QListWidget::currentTextChanged, this, [this](const QString &path) {
        if (!path.isEmpty() && path != m_currentPath)
            showFile(path);
    });
    connect(m_addFile, &QToolButton::clicked, this, [this] {
        const QString path = askPath(tr("Add a file"), QString());
        QString error;
        if (!path.isEmpty() && !addFile(path, {}, &error))
            m_messages->showMessage(MessageBar::Kind::Error, error);
    });
    connect(m_renameFile, &QToolButton::clicked, this, [this] {
        if (m_currentPath.isEmpty())
            return;
        const QString to = askPath(tr("Rename %1").arg(m_currentPath), m_currentPath);
        QString error;
        if (!to.isEmpty() && to != m_currentPath && !renameFile(m_currentPath, to, &error))
            m_messages->showMessage(MessageBar::Kind::Error, error);
    });
    connect(m_removeFile, &QToolButton::clicked, this, [this] {
        if (m_currentPath.isEmpty())
            return;
        if (QMessageBox::question(this, tr("Delete file"),
                                  tr("Delete %1 from the function? It is gone from the next saved revision.")
                                      .arg(m_currentPath))
            == QMessageBox::Yes)
            removeFile(m_currentPath);
    });
    connect(m_editor, &QsciScintilla::textChanged, this, [this] {
        if (m_settingText || !m_oldRevision.isEmpty() || !m_sourceAvailable)
            return;
        captureEditor();
        scheduleDraft();
        updateActions();
    });
    connect(m_handler, &QLineEdit::textEdited, this, [this](const QString &text) {
        m_workHandler = text.trimmed();
        updateHandlerInfo();
        scheduleDraft();
        updateActions();
    });
    connect(m_testPane, &TestPane::jumpRequested, this, &FunctionEditor::jumpTo);

    m_draftTimer.setSingleShot(true);
    m_draftTimer.setInterval(800);
    connect(&m_draftTimer, &QTimer::timeout, this, &FunctionEditor::writeDraft);

    auto *model = workspace->functions();
    connect(model, &QAbstractItemModel::dataChanged, this, &FunctionEditor::onModelChanged);
    connect(model, &QAbstractItemModel::rowsInserted, this, &FunctionEditor::onModelChanged);
    connect(model, &QAbstractItemModel::modelReset, this, &FunctionEditor::onModelChanged);

    updateTitle();
    updateActions();
    reload();
}

FunctionEditor::~FunctionEditor()
{
    // A window that goes away without closing (the console quits or crashes) keeps its draft.
    if (m_draftTimer.isActive())
        writeDraft();
    g_editors.removeAll(QPointer<FunctionEditor>(this));
    g_editors.removeAll(QPointer<FunctionEditor>());
}

void FunctionEditor::reload()
{
    m_workspace->client()->get(QStringLiteral("/v1/function/%1").arg(encoded(m_function)), this,
                               [this](const models::ApiResult &r) {
                                   if (!r.ok()) {
                                       m_messages->showMessage(MessageBar::Kind::Error, r.errorMessage);
                                       return;
                                   }
                                   applyFunction(r.json);
                                   loadSource();
                               });
}

void FunctionEditor::loadSource()
{
    auto readOnly = [this](const QString &why) {
        m_sourceAvailable = false;
        m_loaded = true;
        m_readOnlyReason = why;
        m_settingText = true;
        m_editor->setText(QString());
        m_settingText = false;
        m_banner->setText(why);
        styleBanner();
        m_restore->hide();
        // Nothing to go back to, and the handler is the function's own (no files to derive it from).
        if (auto *back = m_bannerBox->findChild<QPushButton *>(QStringLiteral("backToCurrent")))
            back->hide();
        m_handler->setText(jsonString(m_functionJson, "handler"));
        m_handlerInfo->setText(tr("The function's handler (read-only: the server does not return the files)."));
        m_bannerBox->show();
        updateActions();
        emit sourceLoaded();
    };
    if (m_workspace->client()->serverKind() == models::RestClient::ServerKind::PlainDispatch) {
        readOnly(tr("This server is a plain Dispatch server: it cannot hand back a function's source, so the code "
                    "cannot be shown or edited here. Update the function from a file or folder with \u201cEdit\u2026\u201d "
                    "in the Functions panel; the test pane works as usual."));
        return;
    }
    m_workspace->client()->get(
        QStringLiteral("/v1/function/%1/source").arg(encoded(m_function)), this, [this, readOnly](const models::ApiResult &r) {
            if (!r.ok()) {
                readOnly(r.status == 404 || r.status == 405
                             ? tr("This server cannot hand back the function's source (%1), so the code is read-only "
                                  "here. Update the function from a file or folder with \u201cEdit\u2026\u201d in the "
                                  "Functions panel.")
                                   .arg(r.errorMessage)
                             : tr("The source could not be loaded: %1").arg(r.errorMessage));
                return;
            }
            m_sourceAvailable = true;
            m_readOnlyReason.clear();
            m_base = filesFrom(r.json);
            m_baseHandler = jsonString(r.json, "handler");
            m_currentRevision = jsonString(r.json, "revision");
            m_work = m_base;
            m_workHandler = m_baseHandler;
            m_restoredDraft = false;
            // A draft from an earlier session (crash, kill, restart) wins over the saved code.
            QFile draftFile(draftPath());
            if (draftFile.open(QIODevice::ReadOnly)) {
                const Json draft = Json::parse(draftFile.readAll().toStdString(), nullptr, false);
                Files files;
                if (draft.is_object() && draft.contains("files") && draft["files"].is_object())
                    for (auto it = draft["files"].begin(); it != draft["files"].end(); ++it)
                        if (it.value().is_string())
                            files.insert(QString::fromStdString(it.key()),
                                         QString::fromStdString(it.value().get<std::string>()));
                const QString handler = jsonString(draft, "handler");
                if (!files.isEmpty() && (files != m_base || handler != m_baseHandler)) {
                    m_work = files;
                    m_workHandler = handler;
                    m_restoredDraft = true;
                    const qint64 at = jsonInt(draft, "savedAt");
                    QString note = tr("Restored unsaved changes from %1 (the editor was not closed normally). "
                                      "Save them, or \u201cRevert\u201d to drop them.")
                                       .arg(QDateTime::fromMSecsSinceEpoch(at).toString(QStringLiteral("yyyy-MM-dd HH:mm")));
                    if (jsonString(draft, "baseRevision") != m_currentRevision)
                        note += QLatin1Char(' ')
                                + tr("The function has changed on the server since then (revision %1).")
                                      .arg(m_currentRevision.left(8));
                    m_messages->showMessage(MessageBar::Kind::Info, note);
                }
            }
            m_handler->setText(m_workHandler);
            m_loaded = true;
            m_bannerBox->hide();
            fillFileList();
            const HandlerTarget target = handlerTarget(m_runtime, m_workHandler, filePaths());
            showFile(!target.file.isEmpty() ? target.file : (m_work.isEmpty() ? QString() : m_work.firstKey()));
            updateHandlerInfo();
            markBuildError();
            updateActions();
            loadRevisions();
            emit sourceLoaded();
            if (!m_pendingRevision.isEmpty()) {
                const QString rev = m_pendingRevision;
                m_pendingRevision.clear();
                showRevision(rev);
            }
        });
}

void FunctionEditor::loadRevisions()
{
    m_workspace->client()->get(
        QStringLiteral("/v1/function/%1/revisions").arg(encoded(m_function)), this, [this](const models::ApiResult &r) {
            if (!r.ok() || !r.json.is_array())
                return;
            m_revisions.clear();
            m_revisionTimes.clear();
            m_revisionCombo->clear();
            for (auto it = r.json.rbegin(); it != r.json.rend(); ++it) {
                const QString rev = jsonString(*it, "revision");
                const qint64 created = jsonInt(*it, "createdTime");
                m_revisions << rev;
                m_revisionTimes.insert(rev, created);
                const QString when = QDateTime::fromMSecsSinceEpoch(created / 1000000).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
                QString text = QStringLiteral("%1 \u00b7 %2").arg(rev.left(8), when);
                if (rev == m_currentRevision)
                    text += tr(" (current)");
                m_revisionCombo->addItem(text, rev);
            }
            const int shown = m_revisionCombo->findData(m_oldRevision.isEmpty() ? m_currentRevision : m_oldRevision);
            m_revisionCombo->setCurrentIndex(shown);
            emit revisionsChanged();
        });
}

void FunctionEditor::onModelChanged()
{
    const Json f = m_workspace->functions()->object(m_function);
    if (f.is_object())
        applyFunction(f);
}

void FunctionEditor::applyFunction(const Json &function)
{
    if (!function.is_object())
        return;
    m_functionJson = function;
    const QString image = jsonString(function, "image");
    const Json imageJson = m_workspace->images()->object(image);
    const QString runtime = runtimeForLanguage(jsonString(imageJson, "language"));
    if (!runtime.isEmpty())
        m_runtime = runtime;
    const QString status = jsonString(function, "status");
    QStringList reason;
    if (function.contains("reason") && function["reason"].is_array())
        for (const auto &r : function["reason"])
            if (r.is_string())
                reason << QString::fromStdString(r.get<std::string>());
    const QString faasId = jsonString(function, "faasId");
    const bool revisionChanged = !faasId.isEmpty() && faasId != m_currentRevision && !m_currentRevision.isEmpty();
    const bool statusChanged = status != m_status;
    m_status = status;
    m_reason = reason;
    m_badge->setStatus(status, reason.join(QLatin1Char('\n')));
    if (revisionChanged) {
        m_currentRevision = faasId;
        loadRevisions();
    }
    const QString previous = m_shownStatus;
    m_shownStatus = status;
    if (statusChanged && m_loaded) {
        markBuildError();
        if (status == QLatin1String("READY") && (previous == QLatin1String("UPDATING") || previous == QLatin1String("ERROR")
                                                 || previous == QLatin1String("CREATING")))
            m_messages->showMessage(MessageBar::Kind::Success,
                                    tr("%1 is READY: revision %2 serves the runs.").arg(m_function, faasId.left(8)));
        if (status == QLatin1String("READY") && !m_saving)
            loadRevisions();
    }
    updateTitle();
    updateHandlerInfo();
}

void FunctionEditor::markBuildError()
{
    m_errorFile.clear();
    m_errorLine = 0;
    m_errorMessage.clear();
    if (m_status == QLatin1String("ERROR")) {
        static const QRegularExpression where(
            QStringLiteral(R"re(([\w.\-/]+\.(?:py|js|mjs|cjs|java|ps1)):(\d+)(?::\d+)?:?\s*(.*))re"));
        for (const QString &r : std::as_const(m_reason)) {
            const auto m = where.match(r);
            if (m.hasMatch() && m_work.contains(m.captured(1))) {
                m_errorFile = m.captured(1);
                m_errorLine = m.captured(2).toInt();
                m_errorMessage = r;
                break;
            }
        }
        if (!m_reason.isEmpty())
            m_messages->showMessage(MessageBar::Kind::Error,
                                    m_errorFile.isEmpty()
                                        ? tr("The function failed to build: %1").arg(m_reason.join(QLatin1Char(' ')))
                                        : tr("The function failed to build (marked in %1, line %2): %3")
                                              .arg(m_errorFile)
                                              .arg(m_errorLine)
                                              .arg(m_reason.join(QLatin1Char(' '))));
    }
    if (!m_errorFile.isEmpty() && m_oldRevision.isEmpty()) {
        if (m_currentPath != m_errorFile)
            showFile(m_errorFile); // marks it
        else
            m_editor->markError(m_errorLine, m_errorMessage);
        m_editor->goToLine(m_errorLine);
    } else {
        m_editor->clearErrors();
    }
}

void FunctionEditor::styleBanner()
{
    // A note that must not be missed: amber in both themes, text chosen for contrast.
    const bool dark = isDarkPalette(palette());
    QPalette p = m_bannerBox->palette();
    p.setColor(QPalette::Window, dark ? QColor(0x4a, 0x3b, 0x0c) : QColor(0xff, 0xf4, 0xc5));
    p.setColor(QPalette::WindowText, dark ? QColor(0xf5, 0xe6, 0xb8) : QColor(0x4d, 0x3a, 0x00));
    m_bannerBox->setPalette(p);
}

void FunctionEditor::fillFileList()
{
    const Files &files = m_oldRevision.isEmpty() ? m_work : m_oldFiles;
    m_testPane->setSourceFiles(files.keys());
    const QSignalBlocker block(m_fileList);
    m_fileList->clear();
    for (auto it = files.cbegin(); it != files.cend(); ++it)
        m_fileList->addItem(it.key());
    const auto found = m_fileList->findItems(m_currentPath, Qt::MatchExactly);
    if (!found.isEmpty())
        m_fileList->setCurrentItem(found.front());
}

void FunctionEditor::showFile(const QString &path)
{
    const Files &files = m_oldRevision.isEmpty() ? m_work : m_oldFiles;
    m_currentPath = files.contains(path) ? path : QString();
    m_settingText = true;
    m_editor->setLanguage(languageForFile(m_currentPath));
    m_editor->setText(files.value(m_currentPath));
    m_editor->setModified(false);
    m_editor->SendScintilla(QsciScintillaBase::SCI_EMPTYUNDOBUFFER);
    m_settingText = false;
    if (!m_errorFile.isEmpty() && m_errorFile == m_currentPath && m_oldRevision.isEmpty())
        m_editor->markError(m_errorLine, m_errorMessage);
    else
        m_editor->clearErrors();
    const QSignalBlocker block(m_fileList);
    const auto found = m_fileList->findItems(m_currentPath, Qt::MatchExactly);
    if (!found.isEmpty())
        m_fileList->setCurrentItem(found.front());
    updateActions();
}

void FunctionEditor::captureEditor()
{
    if (!m_currentPath.isEmpty() && m_oldRevision.isEmpty() && m_sourceAvailable)
        m_work[m_currentPath] = m_editor->text();
}

bool FunctionEditor::openFile(const QString &path)
{
    const Files &files = m_oldRevision.isEmpty() ? m_work : m_oldFiles;
    if (!files.contains(path))
        return false;
    showFile(path);
    return true;
}

QStringList FunctionEditor::filePaths() const
{
    return (m_oldRevision.isEmpty() ? m_work : m_oldFiles).keys();
}

QString FunctionEditor::fileText(const QString &path) const
{
    return (m_oldRevision.isEmpty() ? m_work : m_oldFiles).value(path);
}

QString FunctionEditor::checkPath(const QString &path, const QString &except) const
{
    if (path.isEmpty())
        return tr("Give the file a name, e.g. util.py or lib/helpers.js.");
    if (path.startsWith(QLatin1Char('/')) || path.contains(QLatin1Char('\\')))
        return tr("Use a relative path with \u201c/\u201d between folders, e.g. lib/helpers.py.");
    for (const QString &part : path.split(QLatin1Char('/')))
        if (part.isEmpty() || part == QLatin1String(".") || part == QLatin1String(".."))
            return tr("%1 is not a valid path inside the function (no empty parts, \u201c.\u201d or \u201c..\u201d).")
                .arg(path);
    if (path != except && m_work.contains(path))
        return tr("There is already a file %1.").arg(path);
    return {};
}

QString FunctionEditor::askPath(const QString &title, const QString &initial)
{
    bool ok = false;
    const QString path = QInputDialog::getText(this, title, tr("Path inside the function:"), QLineEdit::Normal,
                                               initial, &ok)
                             .trimmed();
    return ok ? path : QString();
}

bool FunctionEditor::addFile(const QString &path, const QString &content, QString *error)
{
    if (!m_sourceAvailable || !m_oldRevision.isEmpty())
        return false;
    const QString problem = checkPath(path, {});
    if (!problem.isEmpty()) {
        if (error)
            *error = problem;
        return false;
    }
    captureEditor();
    m_work.insert(path, content);
    fillFileList();
    showFile(path);
    scheduleDraft();
    updateHandlerInfo();
    return true;
}

bool FunctionEditor::renameFile(const QString &from, const QString &to, QString *error)
{
    if (!m_sourceAvailable || !m_oldRevision.isEmpty() || !m_work.contains(from))
        return false;
    const QString problem = checkPath(to, from);
    if (!problem.isEmpty()) {
        if (error)
            *error = problem;
        return false;
    }
    captureEditor();
    const QString content = m_work.take(from);
    m_work.insert(to, content);
    if (m_errorFile == from)
        m_errorFile = to;
    fillFileList();
    showFile(to);
    scheduleDraft();
    updateHandlerInfo();
    return true;
}

bool FunctionEditor::removeFile(const QString &path)
{
    if (!m_sourceAvailable || !m_oldRevision.isEmpty() || !m_work.contains(path))
        return false;
    captureEditor();
    m_work.remove(path);
    fillFileList();
    showFile(m_work.isEmpty() ? QString() : m_work.firstKey());
    scheduleDraft();
    updateHandlerInfo();
    return true;
}

bool FunctionEditor::isModified() const
{
    return m_sourceAvailable && (m_work != m_base || m_workHandler != m_baseHandler);
}

void FunctionEditor::updateHandlerInfo()
{
    if (!m_oldRevision.isEmpty()) {
        m_handlerInfo->setText(tr("Handler of this revision: %1").arg(m_oldHandler));
        return;
    }
    const QString handler = m_workHandler;
    const QString derived = defaultHandlerFor(m_runtime, m_work);
    if (handler.isEmpty()) {
        m_handler->setPlaceholderText(derived.isEmpty() ? tr("required") : derived);
        m_handlerInfo->setText(derived.isEmpty() ? tr("Set the handler: the files do not say which one to run.")
                                                 : tr("Empty: the server uses %1.").arg(derived));
        return;
    }
    const HandlerTarget t = handlerTarget(m_runtime, handler, filePaths());
    if (m_runtime.isEmpty()) {
        m_handlerInfo->clear();
    } else if (t.file.isEmpty()) {
        m_handlerInfo->setText(tr("\u26a0 No file of this function matches the handler."));
    } else if (t.symbol.isEmpty()) {
        m_handlerInfo->setText(tr("\u2192 %1 (its export)").arg(t.file));
    } else {
        m_handlerInfo->setText(tr("\u2192 %1, %2").arg(t.file, t.symbol));
    }
}

void FunctionEditor::updateActions()
{
    const bool editable = m_loaded && m_sourceAvailable && m_oldRevision.isEmpty();
    m_editor->setReadOnly(!editable);
    m_handler->setReadOnly(!editable);
    m_addFile->setEnabled(editable);
    m_renameFile->setEnabled(editable && !m_currentPath.isEmpty());
    m_removeFile->setEnabled(editable && !m_currentPath.isEmpty());
    m_save->setEnabled(editable && !m_saving && !m_work.isEmpty());
    m_revert->setEnabled(editable && isModified());
    m_revisionCombo->setEnabled(m_sourceAvailable && m_revisionCombo->count() > 0);
    updateTitle();
}

void FunctionEditor::updateTitle()
{
    const bool modified = isModified();
    QString context = m_workspace->contextName();
    m_title->setText(modified ? m_function + QStringLiteral(" \u25cf") : m_function);
    m_title->setToolTip(modified ? tr("Unsaved changes") : QString());
    setWindowTitle(tr("%1%2 \u2014 Code \u2014 %3").arg(m_function, modified ? QStringLiteral(" *") : QString(),
                                                        context.isEmpty() ? tr("Dispatch Console") : context));
}

void FunctionEditor::jumpTo(const QString &tracePath, int line)
{
    if (!m_oldRevision.isEmpty())
        showRevision({});
    QString match;
    for (const QString &f : filePaths())
        if (tracePath == f || tracePath.endsWith(QLatin1Char('/') + f))
            if (f.size() > match.size())
                match = f;
    if (match.isEmpty()) {
        m_messages->showMessage(MessageBar::Kind::Info, tr("%1 is not a file of this function.").arg(tracePath));
        return;
    }
    captureEditor();
    if (match != m_currentPath)
        showFile(match);
    m_editor->goToLine(line);
}

void FunctionEditor::save()
{
    if (!m_loaded || !m_sourceAvailable || !m_oldRevision.isEmpty() || m_saving)
        return;
    captureEditor();
    QList<models::SourceFile> files;
    for (auto it = m_work.cbegin(); it != m_work.cend(); ++it)
        files.append({it.key(), it.value().toUtf8(), false});
    QString error;
    const auto source = models::makeSourceBase64(files, &error);
    if (!source) {
        m_messages->showMessage(MessageBar::Kind::Error, tr("Cannot pack the source: %1").arg(error));
        emit saveFinished(false, error);
        return;
    }
    Json body = m_functionJson.is_object() ? m_functionJson : Json::object();
    for (const char *k : {"status", "reason", "kind", "id", "createdTime", "modifiedTime", "faasId", "functionImageURL",
                          "revision"})
        body.erase(k);
    body["name"] = m_function.toStdString();
    body["handler"] = m_workHandler.toStdString();
    body["source"] = source->toStdString();
    m_saving = true;
    updateActions();
    const Files saved = m_work;
    const QString savedHandler = m_workHandler;
    m_workspace->client()->put(
        QStringLiteral("/v1/function/%1").arg(encoded(m_function)), body, this,
        [this, saved, savedHandler](const models::ApiResult &r) {
            m_saving = false;
            if (!r.ok()) {
                m_messages->showMessage(MessageBar::Kind::Error, tr("Not saved: %1").arg(r.errorMessage));
                updateActions();
                emit saveFinished(false, r.errorMessage);
                return;
            }
            m_base = saved;
            m_baseHandler = savedHandler;
            m_restoredDraft = false;
            m_draftTimer.stop();
            if (m_work == m_base && m_workHandler == m_baseHandler)
                removeDraft();
            m_workspace->functions()->applyObject(r.json);
            applyFunction(r.json);
            m_messages->showMessage(MessageBar::Kind::Success,
                                    tr("Saved %1 as revision %2; it is being built.")
                                        .arg(m_function, jsonString(r.json, "faasId").left(8)));
            loadRevisions();
            updateActions();
            emit saveFinished(true, {});
            if (m_closeAfterSave)
                close();
        });
}

void FunctionEditor::revertChanges()
{
    if (!m_sourceAvailable)
        return;
    m_work = m_base;
    m_workHandler = m_baseHandler;
    m_restoredDraft = false;
    m_draftTimer.stop();
    removeDraft();
    m_messages->hide();
    m_handler->setText(m_workHandler);
    fillFileList();
    showFile(m_work.contains(m_currentPath) ? m_currentPath : (m_work.isEmpty() ? QString() : m_work.firstKey()));
    updateHandlerInfo();
    updateActions();
}

void FunctionEditor::showRevision(const QString &revision)
{
    if (!m_sourceAvailable)
        return;
    if (revision.isEmpty() || revision == m_currentRevision) {
        if (m_oldRevision.isEmpty())
            return;
        m_oldRevision.clear();
        m_oldFiles.clear();
        m_bannerBox->hide();
        m_handler->setText(m_workHandler);
        fillFileList();
        showFile(m_work.contains(m_currentPath) ? m_currentPath : (m_work.isEmpty() ? QString() : m_work.firstKey()));
        m_revisionCombo->setCurrentIndex(m_revisionCombo->findData(m_currentRevision));
        markBuildError();
        updateHandlerInfo();
        updateActions();
        return;
    }
    captureEditor();
    m_workspace->client()->get(
        QStringLiteral("/v1/function/%1/source/%2").arg(encoded(m_function), encoded(revision)), this,
        [this, revision](const models::ApiResult &r) {
            if (!r.ok()) {
                m_messages->showMessage(MessageBar::Kind::Error,
                                        tr("Cannot open revision %1: %2").arg(revision.left(8), r.errorMessage));
                m_revisionCombo->setCurrentIndex(m_revisionCombo->findData(m_currentRevision));
                return;
            }
            m_oldRevision = revision;
            m_oldFiles = filesFrom(r.json);
            m_oldHandler = jsonString(r.json, "handler");
            const qint64 created = m_revisionTimes.value(revision);
            const QString when = created > 0 ? QDateTime::fromMSecsSinceEpoch(created / 1000000)
                                                   .toString(QStringLiteral(" (yyyy-MM-dd HH:mm:ss)"))
                                             : QString();
            m_banner->setText(tr("<b>Revision %1</b>%2 \u2014 read-only, not the current code.").arg(revision.left(8), when));
            styleBanner();
            m_restore->show();
            m_bannerBox->show();
            m_handler->setText(m_oldHandler);
            fillFileList();
            const HandlerTarget t = handlerTarget(m_runtime, m_oldHandler, m_oldFiles.keys());
            showFile(m_oldFiles.contains(m_currentPath) ? m_currentPath
                                                         : (!t.file.isEmpty() ? t.file
                                                                              : (m_oldFiles.isEmpty() ? QString()
                                                                                                      : m_oldFiles.firstKey())));
            m_editor->clearErrors();
            const int index = m_revisionCombo->findData(revision);
            if (index >= 0)
                m_revisionCombo->setCurrentIndex(index);
            updateHandlerInfo();
            updateActions();
        });
}

void FunctionEditor::restoreShownRevision()
{
    if (m_oldRevision.isEmpty())
        return;
    m_work = m_oldFiles;
    m_workHandler = m_oldHandler;
    const QString from = m_oldRevision;
    m_oldRevision.clear();
    m_oldFiles.clear();
    m_bannerBox->hide();
    m_handler->setText(m_workHandler);
    fillFileList();
    showFile(m_work.contains(m_currentPath) ? m_currentPath : (m_work.isEmpty() ? QString() : m_work.firstKey()));
    updateActions();
    m_messages->showMessage(MessageBar::Kind::Info, tr("Restoring revision %1\u2026").arg(from.left(8)));
    save();
}

QString FunctionEditor::draftPath() const
{
    const QByteArray server = m_workspace->client()->baseUrl().toString().toUtf8();
    const QString tag = QString::fromLatin1(QCryptographicHash::hash(server, QCryptographicHash::Sha1).toHex().left(12));
    return draftDirectory() + QLatin1Char('/') + tag + QLatin1Char('-') + m_function + QStringLiteral(".json");
}

void FunctionEditor::scheduleDraft()
{
    updateTitle();
    m_draftTimer.start();
}

void FunctionEditor::writeDraft()
{
    if (!m_sourceAvailable)
        return;
    captureEditor();
    if (!isModified()) {
        removeDraft();
        return;
    }
    Json files = Json::object();
    for (auto it = m_work.cbegin(); it != m_work.cend(); ++it)
        files[it.key().toStdString()] = it.value().toStdString();
    const Json draft{{"function", m_function.toStdString()},
                     {"server", m_workspace->client()->baseUrl().toString().toStdString()},
                     {"baseRevision", m_currentRevision.toStdString()},
                     {"handler", m_workHandler.toStdString()},
                     {"savedAt", QDateTime::currentMSecsSinceEpoch()},
                     {"files", files}};
    QDir().mkpath(draftDirectory());
    QSaveFile out(draftPath());
    if (!out.open(QIODevice::WriteOnly))
        return;
    const std::string text = draft.dump(1);
    out.write(text.data(), static_cast<qint64>(text.size()));
    out.commit();
}

void FunctionEditor::removeDraft()
{
    QFile::remove(draftPath());
}

void FunctionEditor::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && m_bannerBox)
        styleBanner();
}

void FunctionEditor::closeEvent(QCloseEvent *event)
{
    captureEditor();
    if (!isModified()) {
        m_draftTimer.stop();
        removeDraft();
        event->accept();
        return;
    }
    const auto answer = QMessageBox::question(
        this, tr("Unsaved changes"), tr("%1 has unsaved changes. Save them as a new revision before closing?").arg(m_function),
        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    if (answer == QMessageBox::Save) {
        m_closeAfterSave = true;
        save();
        event->ignore();
    } else if (answer == QMessageBox::Discard) {
        m_draftTimer.stop();
        removeDraft();
        event->accept();
    } else {
        event->ignore();
    }
}

} // namespace dispatch::views
