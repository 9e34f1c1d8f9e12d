// The console's command line.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QStringList>

namespace dispatch::app {

struct CommandLine
{
    QString serverExe; // --server-exe; empty = the bundled one
    QString dataDir;   // --data-dir; empty = XDG data dir
    bool exitNow = false;
    int exitCode = 0;
    QString message; // printed on stdout (help, version) or stderr (errors)
};

QString versionText(); // "dispatch-console <ver> (commit <c>)"
CommandLine parseCommandLine(const QStringList &arguments);
// The bundled server: --server-exe, else next to the console, else the build tree's.
QString findServerExecutable(const QString &explicitPath);

} // namespace dispatch::app
