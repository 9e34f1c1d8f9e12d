// SPDX-License-Identifier: GPL-3.0-or-later
#include "functionspanel.h"

#include "demo.h"
#include "execdialog.h"
#include "formdialog.h"
#include "functioneditor.h"
#include "functionsmodel.h"
#include "newfunctionwizard.h"
#include "imagesmodel.h"
#include "messagebar.h"
#include "resourcetablemodel.h"
#include "restclient.h"
#include "secretsmodel.h"
#include "sourcearchive.h"
#include "testpane.h"
#include "statscharts.h"
#include "validation.h"
#include "workspace.h"

#include "jsontext.h"

#include <QAction>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QToolBar>
#include <QVBoxLayout>

namespace dispatch::views {

namespace {

QStringList strings(const nlohmann::json &j)
{
    QStringList out;
    if (j.is_array())
        for (const auto &v : j)
            if (v.is_string())
                out << QString::fromStdString(v.get<std::string>());
    return out;
}

nlohmann::json jsonList(const QString &commaSeparated)
{
    nlohmann::json out = nlohmann::json::array();
    for (const QString &s : commaSeparated.split(QLatin1Char(','), Qt::SkipEmptyParts))
        if (!s.trimmed().isEmpty())
            out.push_back(s.trimmed().toStdString());
    return out;
}

// A default handler from the file name: "hello.py" → "hello.handle" (python's module.function).
QString suggestedHandler(const QString &path)
{
    const QFileInfo info(path);
    if (info.isFile() && info.suffix() == QLatin1String("py"))
        return info.completeBaseName() + QStringLiteral(".handle");
    return {};
}

} // namespace

FunctionsView::FunctionsView(Workspace *workspace, Demo *demo, QWidget *parent)
    : ResourceView(workspace, workspace->functions(), tr("function"), tr("functions"), parent), m_demo(demo)
{
    m_exec = new QAction(tr("&Run\u2026"), this);
    m_exec->setObjectName(QStringLiteral("execAction"));
    m_exec->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_exec->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_exec->setToolTip(tr("Run the selected function with a JSON input (Ctrl+R)"));
    toolBar()->insertAction(editAction(), m_exec);
    addAction(m_exec);
    toolBar()->addSeparator();
    m_seed = toolBar()->addAction(tr("Seed &images"));
    m_seed->setObjectName(QStringLiteral("seedImagesButton"));
    m_seed->setToolTip(tr("Create the standard base images and images (nodejs, python3, powershell, java)"));
    connect(m_seed, &QAction::triggered, demo, &Demo::seedImages);
    connect(demo, &Demo::finished, this, [this](bool ok, const QString &message) {
        if (ok)
            showInfo(message);
        else
            showError(message);
    });
    connect(m_exec, &QAction::triggered, this, [this] { openExec(currentName()); });

    m_code = new QAction(tr("&Code\u2026"), this);
    m_code->setObjectName(QStringLiteral("codeAction"));
    m_code->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
    m_code->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_code->setToolTip(tr("Open the selected function's code in the editor, with its test pane (Ctrl+Shift+E)"));
    toolBar()->insertAction(editAction(), m_code);
    addAction(m_code);
    connect(m_code, &QAction::triggered, this, [this] { openCode(currentName()); });
    m_wizard = new QAction(tr("From &template\u2026"), this);
    m_wizard->setObjectName(QStringLiteral("wizardAction"));
    m_wizard->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N));
    m_wizard->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_wizard->setToolTip(tr("Create a function from a template, step by step (Ctrl+Shift+N)"));
    toolBar()->insertAction(m_exec, m_wizard);
    addAction(m_wizard);
    connect(m_wizard, &QAction::triggered, this, &FunctionsView::openWizard);

    m_showRuns = new QPushButton(tr("Show runs of this function"), this);
    m_showRuns->setObjectName(QStringLiteral("showRunsButton"));
    connect(m_showRuns, &QPushButton::clicked, this, [this] { emit showRunsRequested(currentName()); });
    auto *row = new QHBoxLayout;
    auto *run = new QPushButton(tr("Run\u2026"), this);
    connect(run, &QPushButton::clicked, m_exec, &QAction::trigger);
    row->addWidget(run);
    auto *code = new QPushButton(tr("Code\u2026"), this);
    code->setObjectName(QStringLiteral("codeButton"));
    connect(code, &QPushButton::clicked, m_code, &QAction::trigger);
    row->addWidget(code);
    row->addWidget(m_showRuns);
    row->addStretch(1);
    detailExtras()->addLayout(row);
    m_showRuns->setEnabled(false);
    m_code->setEnabled(false);
    m_stats = new StatsCharts(workspace, true, this);
    m_stats->setObjectName(QStringLiteral("functionStats"));
    m_stats->hide();
    detailExtras()->addWidget(m_stats);
    connect(m_stats, &StatsCharts::runsRequested, this, &FunctionsView::runsFilterRequested);
}

QString FunctionsView::emptyText() const
{
    return tr("No functions yet.\nCreate one from a file or folder with \u201cNew function\u2026\u201d (Ctrl+N).\n"
              "Functions need an image: \u201cSeed images\u201d creates the standard ones in one click.");
}

QList<QPair<QString, QString>> FunctionsView::keyFields(const Json &o) const
{
    const qint64 timeout = jsonInt(o, "timeout", 0);
    const QStringList users = workspace()->usersOfFunction(jsonString(o, "name"));
    return {
        {tr("Image:"), jsonString(o, "image")},
        {tr("Handler:"), jsonString(o, "handler")},
        {tr("Timeout:"), timeout > 0 ? tr("%1 ms").arg(timeout) : tr("none")},
        {tr("Secrets:"), strings(o.value("secrets", Json())).join(QStringLiteral(", "))},
        {tr("Revision:"), jsonString(o, "faasId").left(8)},
        {tr("Used by:"), users.isEmpty() ? tr("no APIs or subscriptions") : users.join(QStringLiteral(", "))},
    };
}

QStringList FunctionsView::dependantsOf(const QString &name) const
{
    return workspace()->usersOfFunction(name);
}

void FunctionsView::currentChanged(const Json &object)
{
    m_showRuns->setEnabled(object.is_object());
    m_exec->setEnabled(object.is_object());
    m_code->setEnabled(object.is_object());
    if (object.is_object())
        m_stats->setFunction(jsonString(object, "name"));
    m_stats->setVisible(object.is_object());
}

FunctionEditor *FunctionsView::openCode(const QString &function, const QString &revision)
{
    if (function.isEmpty())
        return nullptr;
    return FunctionEditor::openFor(workspace(), function, revision, window());
}

NewFunctionWizard *FunctionsView::openWizard()
{
    auto *wizard = new NewFunctionWizard(workspace(), this);
    wizard->setAttribute(Qt::WA_DeleteOnClose);
    connect(wizard, &NewFunctionWizard::created, this, [this](const QString &name) { selectName(name); });
    connect(wizard, &NewFunctionWizard::openEditorRequested, this, [this](const QString &name, const QString &input) {
        if (FunctionEditor *editor = openCode(name))
            editor->testPane()->setInput(input);
    });
    wizard->open();
    return wizard;
}

ExecDialog *FunctionsView::openExec(const QString &function, const QString &input)
{
    auto *dialog = new ExecDialog(workspace(), function, input, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_execDialog = dialog;
    dialog->open();
    return dialog;
}

void FunctionsView::openForm(const Json &existingIn)
{
    // Reading a null document throws in nlohmann::json: a new item starts from an empty object.
    const Json existing = existingIn.is_object() ? existingIn : Json::object();
    const bool editing = existingIn.is_object();
    const QString name = editing ? jsonString(existing, "name") : QString();
    auto *form = new FormDialog(editing ? tr("Edit function %1").arg(name) : tr("New function"), workspace(), this);
    form->setObjectName(QStringLiteral("functionForm"));
    form->setAttribute(Qt::WA_DeleteOnClose);
    auto *nameEdit = form->addLine(QStringLiteral("name"), tr("&Name:"), name, checkName, tr("e.g. hello-world"));
    nameEdit->setReadOnly(editing);

    // Source: a file or a folder, tarred by the models' helper.
    auto *sourceBox = new QWidget(form);
    auto *sourceRow = new QHBoxLayout(sourceBox);
    sourceRow->setContentsMargins(0, 0, 0, 0);
    auto *source = new QLineEdit(sourceBox);
    source->setObjectName(QStringLiteral("source"));
    source->setPlaceholderText(editing ? tr("leave empty to keep the current source") : tr("a file or a folder"));
    source->setAccessibleName(tr("Source file or folder"));
    auto *pickFile = new QPushButton(tr("File\u2026"), sourceBox);
    auto *pickDir = new QPushButton(tr("Folder\u2026"), sourceBox);
    sourceRow->addWidget(source, 1);
    sourceRow->addWidget(pickFile);
    sourceRow->addWidget(pickDir);
    const bool ours = workspace()->client()->isOurServer();
    form->addWidgetRow(
        tr("&Source:"), sourceBox, QStringLiteral("sourceBox"),
        [editing, ours](const QString &path) -> QString {
            if (path.isEmpty())
                return editing && ours ? QString() : tr("Choose the file or folder with the function's code.");
            if (!QFileInfo::exists(path))
                return tr("%1 does not exist.").arg(path);
            return {};
        },
        [source] { return source->text().trimmed(); });

    QStringList images = workspace()->images()->names();
    const QString currentImage = editing ? jsonString(existing, "image")
                                         : (images.contains(QStringLiteral("python3")) ? QStringLiteral("python3") : QString());
    form->addCombo(QStringLiteral("image"), tr("&Image:"), images, currentImage, true, [this](const QString &v) {
        if (v.isEmpty())
            return tr("Choose an image (\u201cSeed images\u201d creates the standard ones).");
        if (workspace()->images()->rowOf(v) < 0)
            return tr("There is no image %1 on this server.").arg(v);
        return QString();
    });
    auto *handler = form->addLine(QStringLiteral("handler"), tr("&Handler:"),
                                  editing ? jsonString(existing, "handler") : QString(),
                                  {}, tr("python: module.function, e.g. hello.handle"));
    form->addLine(QStringLiteral("timeout"), tr("&Timeout (ms):"),
                  editing && jsonInt(existing, "timeout") > 0 ? QString::number(jsonInt(existing, "timeout")) : QString(),
                  [](const QString &v) {
                      bool ok = true;
                      if (!v.trimmed().isEmpty() && (v.toLongLong(&ok) < 0 || !ok))
                          return tr("A whole number of milliseconds (empty = no timeout).");
                      return QString();
                  },
                  tr("empty = no timeout"));
    form->addLine(QStringLiteral("secrets"), tr("S&ecrets:"),
                  editing ? strings(existing.value("secrets", Json())).join(QStringLiteral(", ")) : QString(),
                  [this](const QString &v) {
                      QStringList missing;
                      for (const QString &s : v.split(QLatin1Char(','), Qt::SkipEmptyParts))
                          if (workspace()->secrets()->rowOf(s.trimmed()) < 0)
                              missing << s.trimmed();
                      return missing.isEmpty() ? QString() : tr("No such secret: %1").arg(missing.join(QStringLiteral(", ")));
                  },
                  tr("comma-separated secret names"));

    connect(pickFile, &QPushButton::clicked, form, [form, source, handler] {
        const QString f = QFileDialog::getOpenFileName(form, tr("Function source file"));
        if (f.isEmpty())
            return;
        source->setText(f);
        if (handler->text().isEmpty())
            handler->setText(suggestedHandler(f));
    });
    connect(pickDir, &QPushButton::clicked, form, [form, source] {
        const QString d = QFileDialog::getExistingDirectory(form, tr("Function source folder"));
        if (!d.isEmpty())
            source->setText(d);
    });
    connect(source, &QLineEdit::textChanged, form, [handler](const QString &path) {
        if (handler->text().isEmpty())
            handler->setText(suggestedHandler(path));
    });

    form->setSubmit([this, editing, name, existing](FormDialog *f) {
        Json body = editing ? existing : Json::object();
        for (const char *k : {"status", "reason", "kind", "id", "createdTime", "modifiedTime", "faasId",
                              "functionImageURL", "revision"})
            body.erase(k);
        body["name"] = f->value(QStringLiteral("name")).trimmed().toStdString();
        body["image"] = f->value(QStringLiteral("image")).trimmed().toStdString();
        body["handler"] = f->value(QStringLiteral("handler")).trimmed().toStdString();
        body["timeout"] = f->value(QStringLiteral("timeout")).trimmed().toLongLong();
        body["secrets"] = jsonList(f->value(QStringLiteral("secrets")));
        if (!body.contains("tags"))
            body["tags"] = Json::array();
        const QString path = f->value(QStringLiteral("sourceBox"));
        auto send = [this, f, editing, name](Json b) {
            QPointer<FormDialog> guard(f);
            auto done = [this, guard](const models::ApiResult &r) {
                if (!guard)
                    return;
                if (!r.ok()) {
                    guard->fail(r.errorMessage);
                    return;
                }
                applyAndSelect(r.json);
                showInfo(tr("Saved function %1; it is being built.")
                             .arg(jsonString(r.json, "name")));
                guard->succeed();
            };
            if (editing)
                workspace()->client()->put(QStringLiteral("/v1/function/%1").arg(name), b, f, done);
            else
                workspace()->client()->post(QStringLiteral("/v1/function"), b, f, done);
        };
        if (!path.isEmpty()) {
            QString error;
            const auto files = models::readSourceFiles(path, &error);
            const auto encoded = files ? models::makeSourceBase64(*files, &error) : std::nullopt;
            if (!encoded) {
                f->fail(tr("Cannot read the source: %1").arg(error));
                return;
            }
            body["source"] = encoded->toStdString();
            send(body);
            return;
        }
        // Editing without a new source: our server hands back the current files, which are sent again.
        QPointer<FormDialog> guard(f);
        workspace()->client()->get(QStringLiteral("/v1/function/%1/source").arg(name), f,
                                   [guard, body, send](const models::ApiResult &r) mutable {
                                       if (!guard)
                                           return;
                                       if (!r.ok() || !r.json.is_object() || !r.json.contains("files") || !r.json["files"].is_array()) {
                                           guard->fail(tr("Cannot fetch the current source (%1); choose a file or folder.")
                                                           .arg(r.errorMessage));
                                           return;
                                       }
                                       QList<models::SourceFile> files;
                                       for (const auto &file : r.json["files"])
                                           files.append({jsonString(file, "path"), jsonString(file, "content").toUtf8(),
                                                         false});
                                       QString error;
                                       const auto encoded = models::makeSourceBase64(files, &error);
                                       if (!encoded) {
                                           guard->fail(error);
                                           return;
                                       }
                                       body["source"] = encoded->toStdString();
                                       send(body);
                                   });
    });
    m_form = form;
    form->open();
}

FunctionsPanel::FunctionsPanel(Workspace *workspace, Demo *demo, QWidget *parent)
    : ResourcePanel(tr("Functions"), tr("Code that runs on the server, from a file or folder, on an image."), workspace,
                    parent)
{
    m_view = new FunctionsView(workspace, demo, this);
    addView(m_view, tr("Functions"));
    connect(m_view, &FunctionsView::showRunsRequested, this, &FunctionsPanel::showRunsRequested);
    connect(m_view, &FunctionsView::runsFilterRequested, this, &FunctionsPanel::runsFilterRequested);
}

void FunctionsPanel::execFunction(const QString &function, const QString &input)
{
    m_view->selectName(function);
    m_view->openExec(function, input);
}

} // namespace dispatch::views
