// SPDX-License-Identifier: GPL-3.0-or-later
#include "consoleapplication.h"

#include "contextstore.h"
#include "localserver.h"
#include "logmodel.h"
#include "mainwindow.h"
#include "settingsdialog.h"
#include "singleinstance.h"
#include "theme.h"
#include "workspace.h"

#include <QApplication>
#include <QDir>
#include <QSettings>
#include <QStandardPaths>

namespace dispatch::app {

ConsoleApplication::ConsoleApplication(QObject *parent) : QObject(parent) {}

ConsoleApplication::~ConsoleApplication()
{
    // The window goes first (it points at the models); the server stops (or stays) in LocalServer's destructor.
    m_window.reset();
}

void ConsoleApplication::setUpApplication(const QString &dataDir)
{
    QCoreApplication::setOrganizationName(QStringLiteral("Dispatch"));
    QCoreApplication::setApplicationName(QStringLiteral("dispatch-console"));
    QCoreApplication::setApplicationVersion(QStringLiteral(DISPATCH_VERSION_STRING));
    QGuiApplication::setApplicationDisplayName(QStringLiteral("Dispatch Console"));
    QGuiApplication::setDesktopFileName(QStringLiteral("dispatch-console"));
    if (!dataDir.isEmpty()) {
        // Everything of this run under one folder: tests never touch the user's settings.
        QDir().mkpath(dataDir);
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, dataDir);
    }
    views::captureSystemPalette();
    views::applyTheme(views::themeFromKey(
        QSettings().value(QLatin1String(views::ConsoleSettings::kTheme), QStringLiteral("system")).toString()));
}

bool ConsoleApplication::start(const Options &options)
{
    m_dataDir = options.dataDir.isEmpty() ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)
                                          : QDir(options.dataDir).absolutePath();
    QDir().mkpath(m_dataDir);

    if (options.singleInstance) {
        m_instance = new SingleInstance(m_dataDir, this);
        if (!m_instance->claim())
            return false;
    }

    // With --data-dir the contexts file lives there too; otherwise the Dispatch CLI's own file is shared.
    m_contexts = new models::ContextStore(options.dataDir.isEmpty() ? QString()
                                                                    : m_dataDir + QStringLiteral("/config.json"),
                                          this);
    m_server = new models::LocalServer(this);
    m_server->setExecutable(findServerExecutable(options.serverExe));
    m_server->setDataDir(options.dataDir.isEmpty() ? models::LocalServer::defaultDataDir()
                                                   : m_dataDir + QStringLiteral("/server"));
    QSettings settings;
    m_server->setLeaveRunning(settings.value(QLatin1String(views::ConsoleSettings::kKeepServerRunning), false).toBool());
    m_log = new models::LogModel(this);
    m_log->follow(m_server);
    m_workspace = new views::Workspace(this);
    connect(m_server, &models::LocalServer::portsChanged, this,
            [this](quint16 api, quint16 gateway) { m_contexts->setLocalPorts(api, gateway); });

    m_window = std::make_unique<views::MainWindow>(m_workspace, m_contexts, m_server, m_log);
    if (m_instance)
        connect(m_instance, &SingleInstance::activationRequested, m_window.get(), &views::MainWindow::raiseWindow);

    if (options.startServer && settings.value(QLatin1String(views::ConsoleSettings::kStartServer), true).toBool())
        m_server->start();
    return true;
}

} // namespace dispatch::app
