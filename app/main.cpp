// dispatch-console: the desktop console for Dispatch, with its bundled local server.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "commandline.h"
#include "consoleapplication.h"
#include "mainwindow.h"

#include <QApplication>

#include <cstdio>

int main(int argc, char *argv[])
{
    // --version and --help answer without a display.
    QStringList args;
    for (int i = 0; i < argc; ++i)
        args << QString::fromLocal8Bit(argv[i]);
    {
        QCoreApplication probe(argc, argv);
        const dispatch::app::CommandLine cl = dispatch::app::parseCommandLine(args);
        if (cl.exitNow) {
            std::fputs(cl.message.toLocal8Bit().constData(), cl.exitCode == 0 ? stdout : stderr);
            return cl.exitCode;
        }
    }
    QApplication app(argc, argv);
    const dispatch::app::CommandLine cl = dispatch::app::parseCommandLine(args);
    dispatch::app::ConsoleApplication::setUpApplication(cl.dataDir);
    dispatch::app::ConsoleApplication console;
    dispatch::app::ConsoleApplication::Options options;
    options.serverExe = cl.serverExe;
    options.dataDir = cl.dataDir;
    if (!console.start(options))
        return 0; // the running console raised its window
    console.window()->show();
    return app.exec();
}
