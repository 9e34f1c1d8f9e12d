// Runs a function: JSON input (checked before sending), blocking or asynchronous, extra secrets; shows the run's
// status, output, error (type, message, stack trace), logs and duration.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>
#include <QTimer>

#include <nlohmann/json.hpp>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;

namespace dispatch::views {

class StatusBadge;
class Workspace;

class ExecDialog : public QDialog
{
    Q_OBJECT
public:
    ExecDialog(Workspace *workspace, const QString &function, const QString &input = {}, QWidget *parent = nullptr);

    QString runId() const { return m_runId; }
    QString runStatus() const;
    nlohmann::json lastRun() const { return m_run; }
    QPlainTextEdit *inputEdit() const { return m_input; }
    QPushButton *runButton() const { return m_runButton; }

public slots:
    void runNow();

signals:
    void runFinished(const nlohmann::json &run);

private:
    void showRun(const nlohmann::json &run);
    void poll();

    Workspace *m_workspace = nullptr;
    QComboBox *m_function = nullptr;
    QPlainTextEdit *m_input = nullptr;
    QLabel *m_inputError = nullptr;
    QCheckBox *m_blocking = nullptr;
    QLineEdit *m_secrets = nullptr;
    QPushButton *m_runButton = nullptr;
    StatusBadge *m_status = nullptr;
    QLabel *m_summary = nullptr;
    QTabWidget *m_tabs = nullptr;
    QPlainTextEdit *m_output = nullptr;
    QPlainTextEdit *m_error = nullptr;
    QPlainTextEdit *m_logs = nullptr;
    QString m_runId;
    nlohmann::json m_run;
    QTimer m_poll;
    int m_polls = 0;
};

// Text of a run's error block and logs block (shared with the Runs detail pane).
QString runErrorText(const nlohmann::json &run);
QString runLogsText(const nlohmann::json &run);

} // namespace dispatch::views
