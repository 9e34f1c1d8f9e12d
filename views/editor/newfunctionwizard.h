// The new-function wizard: image (runtime) → template → name and handler (derived by the runtime's rules,
// editable) → secrets, timeout and input/output JSON schema → Create, then the status progression
// (INITIALIZED → CREATING → READY, or ERROR with the reason, which "Open in editor" marks on its line).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QMap>
#include <QWizard>

#include <nlohmann/json.hpp>

class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace dispatch::views {

class CodeEditor;
class StatusBadge;
class Workspace;

class NewFunctionWizard : public QWizard
{
    Q_OBJECT
public:
    enum Page { ImagePage, TemplatePage, NamePage, OptionsPage, ProgressPage };

    explicit NewFunctionWizard(Workspace *workspace, QWidget *parent = nullptr);

    QListWidget *imageList() const { return m_images; }
    QListWidget *templateList() const { return m_templates; }
    QLineEdit *nameEdit() const { return m_name; }
    QLineEdit *handlerEdit() const { return m_handler; }
    QLineEdit *secretsEdit() const { return m_secrets; }
    QSpinBox *timeoutEdit() const { return m_timeout; }
    QPlainTextEdit *schemaInEdit() const { return m_schemaIn; }
    QPlainTextEdit *schemaOutEdit() const { return m_schemaOut; }
    QPushButton *openEditorButton() const { return m_openEditor; }
    QString runtime() const { return m_runtime; }
    QString sampleInput() const { return m_sampleInput; }
    QStringList statusHistory() const { return m_history; } // statuses seen after Create, in order
    QString finalStatus() const;                              // READY / ERROR once settled, "" before
    QString createError() const { return m_createError; }

    bool selectImage(const QString &image);
    bool selectTemplate(const QString &id);

    bool validateCurrentPage() override;
    int nextId() const override;

signals:
    void created(const QString &function);
    void openEditorRequested(const QString &function, const QString &sampleInput);

private:
    void initializePage(int id) override;
    void fillImages();
    void fillTemplates();
    void create();
    void followStatus();
    void noteStatus(const nlohmann::json &function);

    Workspace *m_workspace = nullptr;
    QListWidget *m_images = nullptr;
    QLabel *m_imageNote = nullptr;
    QListWidget *m_templates = nullptr;
    QLabel *m_templateText = nullptr;
    CodeEditor *m_preview = nullptr;
    QLineEdit *m_name = nullptr;
    QLabel *m_nameError = nullptr;
    QLineEdit *m_handler = nullptr;
    QLabel *m_handlerNote = nullptr;
    QLineEdit *m_secrets = nullptr;
    QSpinBox *m_timeout = nullptr;
    QPlainTextEdit *m_schemaIn = nullptr;
    QPlainTextEdit *m_schemaOut = nullptr;
    QLabel *m_optionsError = nullptr;
    QLabel *m_progress = nullptr;
    StatusBadge *m_badge = nullptr;
    QLabel *m_reason = nullptr;
    QPushButton *m_openEditor = nullptr;

    QString m_runtime;
    QMap<QString, QString> m_files;
    QString m_sampleInput;
    QString m_createdName;
    QStringList m_history;
    QString m_createError;
    nlohmann::json m_body;
};

} // namespace dispatch::views
