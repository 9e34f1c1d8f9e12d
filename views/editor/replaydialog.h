// "Replay": runs an earlier run's input again against the function's current code and shows both outcomes side by
// side (revision, status, output or error, duration).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>

#include <nlohmann/json.hpp>

class QLabel;
class QPlainTextEdit;

namespace dispatch::views {

class StatusBadge;
class Workspace;

class ReplayDialog : public QDialog
{
    Q_OBJECT
public:
    ReplayDialog(Workspace *workspace, const nlohmann::json &run, QWidget *parent = nullptr);

    nlohmann::json replayRun() const { return m_replay; } // null until it finished
    bool isFinished() const { return m_finished; }
    QPlainTextEdit *thenView() const { return m_thenText; }
    QPlainTextEdit *nowView() const { return m_nowText; }

signals:
    void finished(const nlohmann::json &replay);

private:
    void start();
    static QString outcome(const nlohmann::json &run);

    Workspace *m_workspace = nullptr;
    nlohmann::json m_run;
    nlohmann::json m_replay;
    bool m_finished = false;
    QLabel *m_thenTitle = nullptr;
    QLabel *m_nowTitle = nullptr;
    StatusBadge *m_thenBadge = nullptr;
    StatusBadge *m_nowBadge = nullptr;
    QPlainTextEdit *m_thenText = nullptr;
    QPlainTextEdit *m_nowText = nullptr;
};

} // namespace dispatch::views
