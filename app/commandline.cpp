// SPDX-License-Identifier: GPL-3.0-or-later
#include "commandline.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace dispatch::app {

QString versionText()
{
    return QStringLiteral("dispatch-console %1 (commit %2)")
        .arg(QStringLiteral(DISPATCH_VERSION_STRING), QStringLiteral(DISPATCH_GIT_COMMIT));
}

CommandLine parseCommandLine(const QStringList &arguments)
{
    CommandLine cl;
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QCoreApplication::translate("CommandLine", "Desktop console for Dispatch functions, with a bundled local "
                                                   "Dispatch server."));
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")},
                                  QCoreApplication::translate("CommandLine", "Show this help and exit."));
    const QCommandLineOption version({QStringLiteral("v"), QStringLiteral("version")},
                                     QCoreApplication::translate("CommandLine", "Show the version and exit."));
    const QCommandLineOption serverExe(
        QStringLiteral("server-exe"),
        QCoreApplication::translate("CommandLine", "Run this dispatch-server instead of the bundled one."),
        QStringLiteral("PATH"));
    const QCommandLineOption dataDir(
        QStringLiteral("data-dir"),
        QCoreApplication::translate("CommandLine",
                                    "Keep the local server's data and the console's state here (default: the XDG "
                                    "data directory)."),
        QStringLiteral("PATH"));
    parser.addOption(help);
    parser.addOption(version);
    parser.addOption(serverExe);
    parser.addOption(dataDir);
    if (!parser.parse(arguments)) {
        cl.exitNow = true;
        cl.exitCode = 2;
        cl.message = parser.errorText() + QLatin1Char('\n');
        return cl;
    }
    if (parser.isSet(help)) {
        cl.exitNow = true;
        cl.message = parser.helpText();
        return cl;
    }
    if (parser.isSet(version)) {
        cl.exitNow = true;
        cl.message = versionText() + QLatin1Char('\n');
        return cl;
    }
    if (!parser.positionalArguments().isEmpty()) {
        cl.exitNow = true;
        cl.exitCode = 2;
        cl.message = QCoreApplication::translate("CommandLine", "Unexpected argument: %1 (see --help)\n")
                         .arg(parser.positionalArguments().constFirst());
        return cl;
    }
    cl.serverExe = parser.value(serverExe);
    cl.dataDir = parser.value(dataDir);
    return cl;
}

QString findServerExecutable(const QString &explicitPath)
{
    if (!explicitPath.isEmpty())
        return QFileInfo(explicitPath).absoluteFilePath();
    const QString beside = QCoreApplication::applicationDirPath() + QStringLiteral("/dispatch-server");
    if (QFileInfo(beside).isExecutable())
        return beside;
#ifdef DISPATCH_BUILD_SERVER_EXE
    if (QFileInfo(QStringLiteral(DISPATCH_BUILD_SERVER_EXE)).isExecutable())
        return QStringLiteral(DISPATCH_BUILD_SERVER_EXE);
#endif
    return QStringLiteral("dispatch-server"); // from PATH
}

} // namespace dispatch::app
