// Server: the bundled local server (state, ports, data dir, version, Start/Stop/Restart), the current context's
// connection, and the server log (level filter, search with highlight and next/previous, copy all, follow the
// tail only while pinned to the bottom).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "panel.h"

#include <QPointer>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QPushButton;

namespace dispatch::models {
class LocalServer;
class LogModel;
} // namespace dispatch::models

namespace dispatch::views {

class StatusBadge;
class Workspace;

class ServerPanel : public Panel
{
    Q_OBJECT
public:
    ServerPanel(Workspace *workspace, models::LocalServer *server, models::LogModel *log, QWidget *parent = nullptr);

    QString title() const override { return tr("Server"); }
    QLineEdit *filterEdit() const override { return m_search; }

    QListView *logView() const { return m_logView; }
    QLabel *stateLabel() const { return m_state; }
    QString stateText() const;
    bool isFollowing() const { return m_pinned; }
    QPushButton *startButton() const { return m_start; }
    QPushButton *stopButton() const { return m_stop; }
    QPushButton *restartButton() const { return m_restart; }

public slots:
    void findNext();
    void findPrevious();
    void copyAll();

private:
    void updateState();
    void updateConnection();
    void updateMatches();

    Workspace *m_workspace = nullptr;
    QPointer<models::LocalServer> m_server;
    models::LogModel *m_log = nullptr;
    StatusBadge *m_badge = nullptr;
    QLabel *m_state = nullptr;
    QLabel *m_details = nullptr;
    QLabel *m_connection = nullptr;
    QPushButton *m_start = nullptr;
    QPushButton *m_stop = nullptr;
    QPushButton *m_restart = nullptr;
    QComboBox *m_level = nullptr;
    QLineEdit *m_search = nullptr;
    QCheckBox *m_regex = nullptr;
    QLabel *m_matches = nullptr;
    QListView *m_logView = nullptr;
    QLabel *m_follow = nullptr;
    bool m_pinned = true;
    int m_currentMatch = -1;
};

} // namespace dispatch::views
