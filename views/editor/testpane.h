// The test pane of the function editor: named test inputs kept on the server (GET/PUT
// /v1/function/{name}/testinputs, shared by the team; exportable to a file), a blocking Run with output, error
// and stack trace (a trace line into the handler jumps to it), logs and duration, and the last 50 runs.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

#include <nlohmann/json.hpp>

class QComboBox;
class QLabel;
class QListWidget;
class QListWidgetItem;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;

namespace dispatch::views {

class CodeEditor;
class StatusBadge;
class Workspace;

// "File \"/x/hello.py\", line 3" / "at f (/x/hello.js:3:5)" / "at Hello.apply(Hello.java:7)": the path and line
// a stack-trace line points to ({"", 0} when none).
struct TraceLocation
{
    QString path;
    int line = 0;
};
TraceLocation traceLocation(const QString &traceLine);

class TestPane : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kHistorySize = 50;

    TestPane(Workspace *workspace, const QString &function, QWidget *parent = nullptr);

    CodeEditor *inputEditor() const { return m_input; }
    QComboBox *savedInputs() const { return m_saved; }
    QPushButton *runButton() const { return m_run; }
    QListWidget *history() const { return m_history; }
    QListWidget *errorTrace() const { return m_trace; }
    QPlainTextEdit *outputView() const { return m_output; }
    QPlainTextEdit *logsView() const { return m_logs; }
    nlohmann::json lastRun() const { return m_lastRun; }
    bool savedInputsShared() const { return m_shared; } // kept on the server (false: on this computer)
    bool savedInputsLoaded() const { return m_loaded; }

    void setInput(const QString &json);
    void runNow();
    // Saved inputs (the buttons call these; tests too).
    void saveInput(const QString &name);
    bool loadInput(const QString &name);
    void deleteInput(const QString &name);
    bool exportInputs(const QString &file, QString *error = nullptr) const;
    QStringList savedNames() const;
    void reload(); // saved inputs and recent runs from the server
    // The function's files: stack-trace paths that end in one of them are shown relative ("hello.py").
    void setSourceFiles(const QStringList &files) { m_files = files; }

signals:
    void jumpRequested(const QString &path, int line);
    void runFinished(const nlohmann::json &run);

private:
    void showRun(const nlohmann::json &run);
    void addToHistory(const nlohmann::json &run);
    void storeInputs();
    void fillSavedCombo();
    QString localKey() const;

    Workspace *m_workspace = nullptr;
    QString m_function;
    CodeEditor *m_input = nullptr;
    QComboBox *m_saved = nullptr;
    QPushButton *m_run = nullptr;
    StatusBadge *m_badge = nullptr;
    QLabel *m_summary = nullptr;
    QLabel *m_inputError = nullptr;
    QLabel *m_savedNote = nullptr;
    QTabWidget *m_tabs = nullptr;
    QPlainTextEdit *m_output = nullptr;
    QListWidget *m_trace = nullptr;
    QPlainTextEdit *m_logs = nullptr;
    QListWidget *m_history = nullptr;
    nlohmann::json m_inputs = nlohmann::json::array(); // [{"name","input"}]
    nlohmann::json m_lastRun;
    QStringList m_files;
    bool m_shared = true;
    bool m_loaded = false;
    bool m_storing = false;
    bool m_storeAgain = false;
};

} // namespace dispatch::views
