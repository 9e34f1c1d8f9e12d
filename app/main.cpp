// dispatch-console: the desktop console for Dispatch, with its bundled local server.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "commandline.h"
#include "consoleapplication.h"
#include "mainwindow.h"

#include <QApplication>
#include <QSocketNotifier>

#include <csignal>
#include <cstdio>

#include <sys/socket.h>
#include <unistd.h>

namespace {

// SIGTERM / SIGINT end the event loop normally, so the local server is stopped (or left running) as configured
// instead of the console vanishing mid-write. The handler only writes a byte; the loop does the rest.
int g_signalPipe[2] = {-1, -1};

void onTerminate(int)
{
    const char byte = 1;
    [[maybe_unused]] const auto written = ::write(g_signalPipe[0], &byte, 1);
}

void quitOnTerminate(QApplication &app)
{
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, g_signalPipe) != 0)
        return;
    auto *notifier = new QSocketNotifier(g_signalPipe[1], QSocketNotifier::Read, &app);
    QObject::connect(notifier, &QSocketNotifier::activated, &app, [notifier] {
        char byte = 0;
        [[maybe_unused]] const auto got = ::read(g_signalPipe[1], &byte, 1);
        notifier->setEnabled(false);
        QApplication::closeAllWindows();
        QApplication::quit();
    });
    struct sigaction sa = {};
    sa.sa_handler = onTerminate;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
}

} // namespace

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
    quitOnTerminate(app);
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
