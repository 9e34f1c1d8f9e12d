// The built-in editor of one function: its source files (file list with add/rename/delete), the handler and what
// it points to, Save (PUT with a new tarball, UPDATING → READY), build errors marked on their line, the revisions
// (an old one opens read-only with "Restore this revision"), local drafts that survive a crash, and the test pane.
// Against a server that cannot return sources (plain Dispatch) it opens read-only and says why.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QMap>
#include <QPointer>
#include <QTimer>
#include <QWidget>

#include <nlohmann/json.hpp>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QToolButton;

namespace dispatch::views {

class CodeEditor;
class FindBar;
class MessageBar;
class StatusBadge;
class TestPane;
class Workspace;

class FunctionEditor : public QWidget
{
    Q_OBJECT
public:
    using Files = QMap<QString, QString>; // path → content

    FunctionEditor(Workspace *workspace, const QString &function, QWidget *parent = nullptr);
    ~FunctionEditor() override;

    // The open editor window of `function` (a new one when none), raised; `revision` ("" = the current code)
    // is shown once the source has loaded.
    static FunctionEditor *openFor(Workspace *workspace, const QString &function, const QString &revision,
                                   QWidget *parent);
    static FunctionEditor *find(Workspace *workspace, const QString &function);
    // Where drafts are kept (default: <AppLocalDataLocation>/drafts).
    static void setDraftDirectory(const QString &directory);
    static QString draftDirectory();

    QString functionName() const { return m_function; }
    QString runtime() const { return m_runtime; }
    bool isLoaded() const { return m_loaded; }
    bool isSourceAvailable() const { return m_sourceAvailable; } // false: read-only (plain Dispatch, no source)
    QString readOnlyReason() const { return m_readOnlyReason; }
    bool isModified() const;
    bool restoredDraft() const { return m_restoredDraft; }
    QString status() const { return m_status; }
    QString currentRevision() const { return m_currentRevision; } // the function's live faasId
    QString shownRevision() const { return m_oldRevision; }       // "" = the working copy
    QStringList revisions() const { return m_revisions; }          // newest first
    QStringList filePaths() const;
    QString currentFile() const { return m_currentPath; }
    QString fileText(const QString &path) const;

    CodeEditor *editor() const { return m_editor; }
    FindBar *findBar() const { return m_findBar; }
    QListWidget *fileList() const { return m_fileList; }
    QLineEdit *handlerEdit() const { return m_handler; }
    QLabel *handlerInfo() const { return m_handlerInfo; }
    QComboBox *revisionCombo() const { return m_revisionCombo; }
    QPushButton *saveButton() const { return m_save; }
    QPushButton *restoreButton() const { return m_restore; }
    StatusBadge *statusBadge() const { return m_badge; }
    MessageBar *messageBar() const { return m_messages; }
    TestPane *testPane() const { return m_testPane; }

    bool openFile(const QString &path);
    bool addFile(const QString &path, const QString &content = {}, QString *error = nullptr);
    bool renameFile(const QString &from, const QString &to, QString *error = nullptr);
    bool removeFile(const QString &path);
    void save();
    void revertChanges(); // back to the saved code (drops the draft)
    void showRevision(const QString &revision); // "" or the current one = the working copy
    void restoreShownRevision();                // saves the shown old revision as a new one
    void reload();

signals:
    void sourceLoaded();
    void saveFinished(bool ok, const QString &message);
    void revisionsChanged();

protected:
    void closeEvent(QCloseEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void loadSource();
    void loadRevisions();
    void applyFunction(const nlohmann::json &function);
    void onModelChanged();
    void fillFileList();
    void styleBanner();
    void showFile(const QString &path);
    void captureEditor();
    void updateHandlerInfo();
    void updateActions();
    void updateTitle();
    void markBuildError();
    void jumpTo(const QString &tracePath, int line);
    void scheduleDraft();
    void writeDraft();
    void removeDraft();
    QString draftPath() const;
    QString askPath(const QString &title, const QString &initial);
    QString checkPath(const QString &path, const QString &except) const;

    Workspace *m_workspace = nullptr;
    QString m_function;
    QString m_runtime;
    nlohmann::json m_functionJson; // the last known function document
    QString m_status;
    QString m_shownStatus; // the status last reported to the user (for "now READY" messages)
    QStringList m_reason;
    QString m_currentRevision;
    QStringList m_revisions;
    QMap<QString, qint64> m_revisionTimes;

    Files m_base;        // the saved code of the current revision
    QString m_baseHandler;
    Files m_work;        // what the editor holds (the working copy)
    QString m_currentPath;
    QString m_oldRevision; // shown read-only when not empty
    Files m_oldFiles;
    QString m_oldHandler;
    QString m_workHandler;

    bool m_loaded = false;
    bool m_sourceAvailable = false;
    bool m_restoredDraft = false;
    bool m_saving = false;
    bool m_closeAfterSave = false;
    bool m_settingText = false;
    QString m_pendingRevision;
    QString m_readOnlyReason;
    QString m_errorFile;
    int m_errorLine = 0;
    QString m_errorMessage;
    QTimer m_draftTimer;

    QLabel *m_title = nullptr;
    StatusBadge *m_badge = nullptr;
    QComboBox *m_revisionCombo = nullptr;
    QPushButton *m_save = nullptr;
    QPushButton *m_revert = nullptr;
    QPushButton *m_restore = nullptr;
    QLabel *m_banner = nullptr;
    QWidget *m_bannerBox = nullptr;
    MessageBar *m_messages = nullptr;
    QListWidget *m_fileList = nullptr;
    QToolButton *m_addFile = nullptr;
    QToolButton *m_renameFile = nullptr;
    QToolButton *m_removeFile = nullptr;
    QLineEdit *m_handler = nullptr;
    QLabel *m_handlerInfo = nullptr;
    CodeEditor *m_editor = nullptr;
    FindBar *m_findBar = nullptr;
    TestPane *m_testPane = nullptr;
};

} // namespace dispatch::views
