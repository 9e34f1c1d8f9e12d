// SPDX-License-Identifier: GPL-3.0-or-later
#include "newfunctionwizard.h"

#include "codeeditor.h"
#include "functionsmodel.h"
#include "functiontemplates.h"
#include "imagesmodel.h"
#include "jsontext.h"
#include "messagebar.h"
#include "restclient.h"
#include "secretsmodel.h"
#include "sourcearchive.h"
#include "validation.h"
#include "workspace.h"

#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <QWizardPage>

#include <tuple>

namespace dispatch::views {

using Json = nlohmann::json;

namespace {

QLabel *errorLabel(QWidget *parent, const QString &objectName)
{
    auto *l = new QLabel(parent);
    l->setObjectName(objectName);
    l->setWordWrap(true);
    l->setStyleSheet(QStringLiteral("color: #d1242f;"));
    l->hide();
    return l;
}

} // namespace

NewFunctionWizard::NewFunctionWizard(Workspace *workspace, QWidget *parent) : QWizard(parent), m_workspace(workspace)
{
    setObjectName(QStringLiteral("newFunctionWizard"));
    setWindowTitle(tr("New function"));
    setWizardStyle(QWizard::ClassicStyle);
    setOption(QWizard::NoBackButtonOnLastPage);
    setOption(QWizard::NoCancelButtonOnLastPage);

    // 1. Image
    auto *imagePage = new QWizardPage(this);
    imagePage->setTitle(tr("Image"));
    imagePage->setSubTitle(tr("The image decides the language and runtime the function runs on."));
    auto *imageLayout = new QVBoxLayout(imagePage);
    m_images = new QListWidget(imagePage);
    m_images->setObjectName(QStringLiteral("wizardImages"));
    m_imageNote = errorLabel(imagePage, QStringLiteral("wizardImageNote"));
    imageLayout->addWidget(m_images, 1);
    imageLayout->addWidget(m_imageNote);
    setPage(ImagePage, imagePage);

    // 2. Template
    auto *templatePage = new QWizardPage(this);
    templatePage->setTitle(tr("Template"));
    templatePage->setSubTitle(tr("A starting point; everything can be changed in the editor afterwards."));
    auto *templateLayout = new QHBoxLayout(templatePage);
    m_templates = new QListWidget(templatePage);
    m_templates->setObjectName(QStringLiteral("wizardTemplates"));
    m_templates->setMaximumWidth(220);
    auto *previewBox = new QVBoxLayout;
    m_templateText = new QLabel(templatePage);
    m_templateText->setWordWrap(true);
    m_preview = new CodeEditor(templatePage);
    m_preview->setObjectName(QStringLiteral("wizardPreview"));
    m_preview->setReadOnly(true);
    m_preview->setFolding(QsciScintilla::NoFoldStyle);
    previewBox->addWidget(m_templateText);
    previewBox->addWidget(m_preview, 1);
    templateLayout->addWidget(m_templates);
    templateLayout->addLayout(previewBox, 1);
    setPage(TemplatePage, templatePage);

    // 3. Name and handler
    auto *namePage = new QWizardPage(this);
    namePage->setTitle(tr("Name and handler"));
    namePage->setSubTitle(tr("Names use letters, digits, \u201c_\u201d and \u201c-\u201d. The handler says what to run."));
    auto *nameForm = new QFormLayout(namePage);
    m_name = new QLineEdit(namePage);
    m_name->setObjectName(QStringLiteral("wizardName"));
    m_name->setPlaceholderText(tr("e.g. hello-world"));
    m_nameError = errorLabel(namePage, QStringLiteral("wizardNameError"));
    m_handler = new QLineEdit(namePage);
    m_handler->setObjectName(QStringLiteral("wizardHandler"));
    m_handlerNote = new QLabel(namePage);
    m_handlerNote->setWordWrap(true);
    nameForm->addRow(tr("&Name:"), m_name);
    nameForm->addRow(QString(), m_nameError);
    nameForm->addRow(tr("&Handler:"), m_handler);
    nameForm->addRow(QString(), m_handlerNote);
    setPage(NamePage, namePage);

    // 4. Options
    auto *optionsPage = new QWizardPage(this);
    optionsPage->setTitle(tr("Secrets, timeout and schema"));
    optionsPage->setSubTitle(tr("All optional. A schema makes the server reject input (InputError) or output "
                                "(FunctionError) that does not match it."));
    optionsPage->setCommitPage(true);
    optionsPage->setButtonText(QWizard::CommitButton, tr("&Create"));
    auto *optionsForm = new QFormLayout(optionsPage);
    m_secrets = new QLineEdit(optionsPage);
    m_secrets->setObjectName(QStringLiteral("wizardSecrets"));
    m_secrets->setPlaceholderText(tr("comma-separated secret names"));
    m_timeout = new QSpinBox(optionsPage);
    m_timeout->setObjectName(QStringLiteral("wizardTimeout"));
    m_timeout->setRange(0, 3600000);
    m_timeout->setSingleStep(1000);
    m_timeout->setSuffix(tr(" ms"));
    m_timeout->setSpecialValueText(tr("no timeout"));
    m_schemaIn = makeCodeView(optionsPage, QStringLiteral("wizardSchemaIn"));
    m_schemaIn->setReadOnly(false);
    m_schemaIn->setPlaceholderText(tr("empty = no input schema; e.g. {\"type\": \"object\", \"required\": [\"name\"]}"));
    m_schemaOut = makeCodeView(optionsPage, QStringLiteral("wizardSchemaOut"));
    m_schemaOut->setReadOnly(false);
    m_schemaOut->setPlaceholderText(tr("empty = no output schema"));
    m_optionsError = errorLabel(optionsPage, QStringLiteral("wizardOptionsError"));
    optionsForm->addRow(tr("S&ecrets:"), m_secrets);
    optionsForm->addRow(tr("&Timeout:"), m_timeout);
    optionsForm->addRow(tr("&Input schema:"), m_schemaIn);
    optionsForm->addRow(tr("&Output schema:"), m_schemaOut);
    optionsForm->addRow(QString(), m_optionsError);
    setPage(OptionsPage, optionsPage);

    // 5. Progress
    auto *progressPage = new QWizardPage(this);
    progressPage->setTitle(tr("Creating"));
    progressPage->setFinalPage(true);
    auto *progressLayout = new QVBoxLayout(progressPage);
    auto *statusRow = new QHBoxLayout;
    m_badge = new StatusBadge(progressPage);
    m_progress = new QLabel(progressPage);
    m_progress->setObjectName(QStringLiteral("wizardProgress"));
    statusRow->addWidget(m_badge);
    statusRow->addWidget(m_progress, 1);
    m_reason = new QLabel(progressPage);
    m_reason->setObjectName(QStringLiteral("wizardReason"));
    m_reason->setWordWrap(true);
    m_reason->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_openEditor = new QPushButton(tr("Open in the &editor"), progressPage);
    m_openEditor->setObjectName(QStringLiteral("wizardOpenEditor"));
    m_openEditor->setEnabled(false);
    progressLayout->addLayout(statusRow);
    progressLayout->addWidget(m_reason);
    progressLayout->addStretch(1);
    progressLayout->addWidget(m_openEditor, 0, Qt::AlignLeft);
    setPage(ProgressPage, progressPage);

    connect(m_images, &QListWidget::currentRowChanged, this, [this] {
        m_imageNote->hide();
        const auto *item = m_images->currentItem();
        m_runtime = item ? item->data(Qt::UserRole).toString() : QString();
    });
    connect(m_templates, &QListWidget::currentRowChanged, this, [this](int row) {
        const auto templates = templatesFor(m_runtime);
        if (row < 0 || row >= templates.size())
            return;
        const FunctionTemplate &t = templates.at(row);
        m_files = t.files;
        m_sampleInput = t.sampleInput;
        m_templateText->setText(t.description);
        const QString first = t.files.isEmpty() ? QString() : t.files.firstKey();
        m_preview->setLanguage(languageForFile(first));
        m_preview->setText(t.files.value(first));
        m_handler->setText(defaultHandlerFor(m_runtime, m_files));
    });
    connect(m_name, &QLineEdit::textEdited, m_nameError, &QWidget::hide);
    connect(m_schemaIn, &QPlainTextEdit::textChanged, m_optionsError, &QWidget::hide);
    connect(m_schemaOut, &QPlainTextEdit::textChanged, m_optionsError, &QWidget::hide);
    connect(m_secrets, &QLineEdit::textEdited, m_optionsError, &QWidget::hide);
    connect(m_handler, &QLineEdit::textChanged, this, [this](const QString &h) {
        const HandlerTarget t = handlerTarget(m_runtime, h, m_files.keys());
        if (h.trimmed().isEmpty())
            m_handlerNote->setText(tr("Empty: the server derives it from the files."));
        else if (t.file.isEmpty())
            m_handlerNote->setText(tr("\u26a0 No file of the template matches this handler."));
        else
            m_handlerNote->setText(t.symbol.isEmpty() ? tr("\u2192 %1").arg(t.file) : tr("\u2192 %1, %2").arg(t.file, t.symbol));
    });
    connect(m_openEditor, &QPushButton::clicked, this, [this] {
        emit openEditorRequested(m_createdName, m_sampleInput);
        accept();
    });
    auto *model = workspace->functions();
    connect(model, &QAbstractItemModel::dataChanged, this, &NewFunctionWizard::followStatus);
    connect(model, &QAbstractItemModel::rowsInserted, this, &NewFunctionWizard::followStatus);
    resize(760, 560);
}

void NewFunctionWizard::initializePage(int id)
{
    if (id == ImagePage)
        fillImages();
    else if (id == TemplatePage)
        fillTemplates();
    else if (id == ProgressPage)
        create();
    QWizard::initializePage(id);
}

int NewFunctionWizard::nextId() const
{
    return currentId() == ProgressPage ? -1 : currentId() + 1;
}

void NewFunctionWizard::fillImages()
{
    const QString current = m_images->currentItem() ? m_images->currentItem()->data(Qt::UserRole + 1).toString() : QString();
    m_images->clear();
    const auto *images = m_workspace->images();
    for (const QString &name : images->names()) {
        const Json image = images->object(name);
        const QString language = jsonString(image, "language");
        const QString runtime = runtimeForLanguage(language);
        const QString status = jsonString(image, "status");
        auto *item = new QListWidgetItem(tr("%1 \u2014 %2 (%3)").arg(name, language.isEmpty() ? tr("unknown language") : language,
                                                                     status),
                                         m_images);
        item->setData(Qt::UserRole, runtime);
        item->setData(Qt::UserRole + 1, name);
        if (runtime.isEmpty())
            item->setFlags(item->flags() & ~Qt::ItemIsEnabled);
    }
    if (m_images->count() == 0) {
        m_imageNote->setText(tr("There are no images yet: \u201cSeed images\u201d in the Functions panel creates the standard ones."));
        m_imageNote->show();
    }
    if (!current.isEmpty())
        selectImage(current);
    else if (!selectImage(QStringLiteral("python3")) && m_images->count() > 0)
        m_images->setCurrentRow(0);
}

bool NewFunctionWizard::selectImage(const QString &image)
{
    for (int i = 0; i < m_images->count(); ++i)
        if (m_images->item(i)->data(Qt::UserRole + 1).toString() == image && (m_images->item(i)->flags() & Qt::ItemIsEnabled)) {
            m_images->setCurrentRow(i);
            return true;
        }
    return false;
}

void NewFunctionWizard::fillTemplates()
{
    m_templates->clear();
    for (const FunctionTemplate &t : templatesFor(m_runtime)) {
        auto *item = new QListWidgetItem(t.title, m_templates);
        item->setData(Qt::UserRole, t.id);
        item->setToolTip(t.description);
    }
    if (m_templates->count() > 0)
        m_templates->setCurrentRow(0);
}

bool NewFunctionWizard::selectTemplate(const QString &id)
{
    for (int i = 0; i < m_templates->count(); ++i)
        if (m_templates->item(i)->data(Qt::UserRole).toString() == id) {
            m_templates->setCurrentRow(i);
            return true;
        }
    return false;
}

bool NewFunctionWizard::validateCurrentPage()
{
    switch (currentId()) {
    case ImagePage:
        if (m_runtime.isEmpty()) {
            m_imageNote->setText(tr("Choose an image with a language this console has templates for."));
            m_imageNote->show();
            return false;
        }
        return true;
    case TemplatePage:
        return !m_files.isEmpty();
    case NamePage: {
        const QString name = m_name->text().trimmed();
        QString problem = checkName(name);
        if (problem.isEmpty() && m_workspace->functions()->rowOf(name) >= 0)
            problem = tr("There is already a function %1.").arg(name);
        if (!problem.isEmpty()) {
            m_nameError->setText(problem);
            m_nameError->show();
            m_name->setFocus();
            return false;
        }
        return true;
    }
    case OptionsPage: {
        QStringList missing;
        Json secrets = Json::array();
        for (const QString &s : m_secrets->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            const QString n = s.trimmed();
            if (n.isEmpty())
                continue;
            if (m_workspace->secrets()->rowOf(n) < 0)
                missing << n;
            secrets.push_back(n.toStdString());
        }
        if (!missing.isEmpty()) {
            m_optionsError->setText(tr("No such secret: %1").arg(missing.join(QStringLiteral(", "))));
            m_optionsError->show();
            return false;
        }
        Json schema = Json::object();
        for (auto [edit, key, label] : {std::tuple{m_schemaIn, "in", tr("input schema")},
                                        std::tuple{m_schemaOut, "out", tr("output schema")}}) {
            QString error;
            const auto parsed = parseJsonText(edit->toPlainText(), &error);
            if (!parsed || !(parsed->is_null() || parsed->is_object())) {
                m_optionsError->setText(tr("The %1 must be a JSON object (a JSON Schema) or empty. %2").arg(label, error));
                m_optionsError->show();
                edit->setFocus();
                return false;
            }
            if (parsed->is_object())
                schema[key] = *parsed;
        }
        QList<models::SourceFile> files;
        for (auto it = m_files.cbegin(); it != m_files.cend(); ++it)
            files.append({it.key(), it.value().toUtf8(), false});
        QString error;
        const auto source = models::makeSourceBase64(files, &error);
        if (!source) {
            m_optionsError->setText(error);
            m_optionsError->show();
            return false;
        }
        m_optionsError->hide();
        m_body = Json{{"name", m_name->text().trimmed().toStdString()},
                      {"image", m_images->currentItem()->data(Qt::UserRole + 1).toString().toStdString()},
                      {"handler", m_handler->text().trimmed().toStdString()},
                      {"source", source->toStdString()},
                      {"secrets", secrets},
                      {"timeout", m_timeout->value()},
                      {"tags", Json::array()}};
        if (!schema.empty())
            m_body["schema"] = schema;
        return true;
    }
    default:
        return true;
    }
}

void NewFunctionWizard::create()
{
    m_createdName = QString::fromStdString(m_body.value("name", std::string()));
    m_history.clear();
    m_createError.clear();
    m_progress->setText(tr("Creating %1\u2026").arg(m_createdName));
    page(ProgressPage)->setTitle(tr("Creating"));
    m_badge->setStatus(QStringLiteral("INITIALIZED"));
    m_workspace->client()->post(QStringLiteral("/v1/function"), m_body, this, [this](const models::ApiResult &r) {
        if (!r.ok()) {
            m_createError = r.errorMessage;
            m_badge->setStatus(QStringLiteral("ERROR"), r.errorMessage);
            m_progress->setText(tr("Not created."));
            page(ProgressPage)->setTitle(tr("Not created"));
            m_reason->setText(r.errorMessage);
            return;
        }
        m_workspace->functions()->applyObject(r.json);
        noteStatus(r.json);
        m_openEditor->setEnabled(true);
        emit created(m_createdName);
        followStatus();
    });
}

void NewFunctionWizard::followStatus()
{
    if (m_createdName.isEmpty() || !m_createError.isEmpty())
        return;
    const Json f = m_workspace->functions()->object(m_createdName);
    if (f.is_object())
        noteStatus(f);
}

void NewFunctionWizard::noteStatus(const Json &function)
{
    // Answers and the change feed can arrive out of order (the POST's INITIALIZED after the feed's CREATING):
    // the progression only moves forward.
    auto rank = [](const QString &st) {
        if (st == QLatin1String("INITIALIZED"))
            return 0;
        if (st == QLatin1String("CREATING") || st == QLatin1String("UPDATING"))
            return 1;
        return 2;
    };
    const QString status = jsonString(function, "status");
    if (status.isEmpty() || (!m_history.isEmpty() && rank(status) <= rank(m_history.last())))
        return;
    m_history << status;
    QStringList reason;
    if (function.contains("reason") && function["reason"].is_array())
        for (const auto &r : function["reason"])
            if (r.is_string())
                reason << QString::fromStdString(r.get<std::string>());
    m_badge->setStatus(status, reason.join(QLatin1Char('\n')));
    m_progress->setText(m_history.join(QStringLiteral(" \u2192 ")));
    if (rank(status) == 2)
        page(ProgressPage)->setTitle(status == QLatin1String("READY") ? tr("Created") : tr("Created, but the build failed"));
    if (status == QLatin1String("READY"))
        m_reason->setText(tr("%1 is ready. Open it in the editor to change and test it.").arg(m_createdName));
    else if (status == QLatin1String("ERROR"))
        m_reason->setText(tr("The build failed: %1\nThe editor marks the line.").arg(reason.join(QLatin1Char(' '))));
}

QString NewFunctionWizard::finalStatus() const
{
    if (!m_createError.isEmpty())
        return QStringLiteral("ERROR");
    if (!m_history.isEmpty() && (m_history.last() == QLatin1String("READY") || m_history.last() == QLatin1String("ERROR")))
        return m_history.last();
    return {};
}

} // namespace dispatch::views
