// Wires the console together: settings, theme, contexts, the bundled server and its log, the workspace and the
// main window. main() and the GUI tests both build one of these, so tests run exactly what users run.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QObject>
#include <QString>

#include <memory>

#include "commandline.h"

namespace dispatch::models {
class ContextStore;
class LocalServer;
class LogModel;
} // namespace dispatch::models

namespace dispatch::views {
class MainWindow;
class Workspace;
} // namespace dispatch::views

namespace dispatch::app {

class SingleInstance;

class ConsoleApplication : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QString serverExe;     // empty = the bundled one
        QString dataDir;       // empty = XDG data dir (and the user's ~/.dispatch/config.json)
        bool singleInstance = true;
        bool startServer = true; // overrides the setting when false (tests that start it themselves)
    };

    explicit ConsoleApplication(QObject *parent = nullptr);
    ~ConsoleApplication() override;

    // Sets application names, QSettings location and the theme. Call once, after QApplication exists.
    static void setUpApplication(const QString &dataDir);

    // False when another instance took over (it was asked to raise its window): exit quietly.
    bool start(const Options &options);

    views::MainWindow *window() const { return m_window.get(); }
    views::Workspace *workspace() const { return m_workspace; }
    models::ContextStore *contexts() const { return m_contexts; }
    models::LocalServer *localServer() const { return m_server; }
    models::LogModel *log() const { return m_log; }
    QString dataDir() const { return m_dataDir; }

private:
    SingleInstance *m_instance = nullptr;
    models::ContextStore *m_contexts = nullptr;
    models::LocalServer *m_server = nullptr;
    models::LogModel *m_log = nullptr;
    views::Workspace *m_workspace = nullptr;
    std::unique_ptr<views::MainWindow> m_window;
    QString m_dataDir;
};

} // namespace dispatch::app
