// One line of the bundled server's log, with the level read from it.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDateTime>
#include <QMetaType>
#include <QString>

namespace dispatch::models {

enum class LogLevel : int { Trace, Debug, Info, Warning, Error, Critical, Unknown };

struct LogLine
{
    QDateTime time;   // invalid when the line had no timestamp
    LogLevel level = LogLevel::Unknown;
    QString message;  // the text after the level
    QString text;     // the whole line as printed

    // Parses "2026-11-25T19:26:13.131 info message" (our server's stderr), the logfmt lines of
    // logs/server.log ("time=... level=info ... msg=\"...\""), and anything else as Unknown.
    static LogLine parse(const QString &line);
};

QString toString(LogLevel level); // "info", "warning", ...
LogLevel logLevelFromString(const QString &name);

} // namespace dispatch::models

Q_DECLARE_METATYPE(dispatch::models::LogLine)
