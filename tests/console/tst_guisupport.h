// Shared by the GUI tests: the console as users run it (ConsoleApplication) on a throw-away data dir with the
// real bundled server, and screenshots under <build>/test-output/screenshots/.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QApplication>
#include <QDir>
#include <QTemporaryDir>
#include <QTest>
#include <QWidget>

#include "consoleapplication.h"
#include "contextstore.h"
#include "localserver.h"
#include "mainwindow.h"
#include "restclient.h"
#include "support/testserver.h"
#include "theme.h"
#include "workspace.h"

namespace dispatch::test {

constexpr int kGuiWaitMs = 180000; // bounded waits only: generous, never a timing assertion

// Starts the console on a fresh data dir and waits until its local server runs and the client is connected.
inline bool startConsole(app::ConsoleApplication &console, const QString &dataDir, QString *error)
{
    app::ConsoleApplication::Options options;
    options.serverExe = QStringLiteral(DISPATCH_SERVER_EXE);
    options.dataDir = dataDir;
    options.singleInstance = false;
    if (!console.start(options)) {
        *error = QStringLiteral("the console did not start");
        return false;
    }
    console.window()->resize(1280, 800);
    console.window()->show();
    const bool ok = QTest::qWaitFor(
        [&] {
            return console.localServer()->isRunning()
                   && console.workspace()->client()->connectionState()
                          == models::RestClient::ConnectionState::Connected;
        },
        kGuiWaitMs);
    if (!ok)
        *error = QStringLiteral("the local server did not come up: %1").arg(console.localServer()->lastError());
    return ok;
}

// Saves a widget (window or dialog) as <build>/test-output/screenshots/<name>-<theme>.png.
inline QString snap(QWidget *widget, const QString &name)
{
    const QString theme = views::currentTheme() == views::Theme::Dark ? QStringLiteral("dark") : QStringLiteral("light");
    QApplication::processEvents();
    const QString path = testOutputDir(QStringLiteral("screenshots")) + QLatin1Char('/') + name + QLatin1Char('-')
                         + theme + QStringLiteral(".png");
    widget->grab().save(path);
    return path;
}

// A client for the console's own local server (test set-up that is not what the test is about).
inline DispatchClient localClient(app::ConsoleApplication &console)
{
    return DispatchClient(console.localServer()->apiBaseUrl());
}

} // namespace dispatch::test
