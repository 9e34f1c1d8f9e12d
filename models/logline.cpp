// SPDX-License-Identifier: GPL-3.0-or-later
#include "logline.h"

#include <QRegularExpression>

namespace dispatch::models {

QString toString(LogLevel level)
{
    switch (level) {
    case LogLevel::Trace:
        return QStringLiteral("trace");
    case LogLevel::Debug:
        return QStringLiteral("debug");
    case LogLevel::Info:
        return QStringLiteral("info");
    case LogLevel::Warning:
        return QStringLiteral("warning");
    case LogLevel::Error:
        return QStringLiteral("error");
    case LogLevel::Critical:
        return QStringLiteral("critical");
    case LogLevel::Unknown:
        break;
    }
    return {};
}

LogLevel logLevelFromString(const QString &name)
{
    const QString n = name.toLower();
    if (n == QLatin1String("trace"))
        return LogLevel::Trace;
    if (n == QLatin1String("debug"))
        return LogLevel::Debug;
    if (n == QLatin1String("info"))
        return LogLevel::Info;
    if (n == QLatin1String("warning") || n == QLatin1String("warn"))
        return LogLevel::Warning;
    if (n == QLatin1String("error") || n == QLatin1String("err"))
        return LogLevel::Error;
    if (n == QLatin1String("critical") || n == QLatin1String("fatal"))
        return LogLevel::Critical;
    return LogLevel::Unknown;
}

LogLine LogLine::parse(const QString &raw)
{
    static const QRegularExpression ansi(QStringLiteral("\x1b\\[[0-9;]*m"));
    // spdlog on stderr: "%Y-%m-%dT%H:%M:%S.%e %l %v" (local time)
    static const QRegularExpression plain(
        QStringLiteral("^(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,6})?)\\s+([a-z]+)\\s(.*)$"));
    // logs/server.log: time=...Z level=info pid=... thread=... msg="..."
    static const QRegularExpression logfmt(
        QStringLiteral("^time=(\\S+)\\s+level=(\\S+)(?:\\s+\\S+=\\S+)*?\\s+msg=\"(.*)\"\\s*$"));

    LogLine line;
    line.text = raw;
    line.text.remove(ansi);
    while (line.text.endsWith(QLatin1Char('\r')))
        line.text.chop(1);
    line.message = line.text;
    if (auto m = plain.match(line.text); m.hasMatch()) {
        const LogLevel level = logLevelFromString(m.captured(2));
        if (level != LogLevel::Unknown) {
            line.time = QDateTime::fromString(m.captured(1), Qt::ISODateWithMs);
            line.level = level;
            line.message = m.captured(3);
        }
        return line;
    }
    if (auto m = logfmt.match(line.text); m.hasMatch()) {
        line.time = QDateTime::fromString(m.captured(1), Qt::ISODateWithMs);
        line.level = logLevelFromString(m.captured(2));
        line.message = m.captured(3).replace(QStringLiteral("\\\""), QStringLiteral("\""));
    }
    return line;
}

} // namespace dispatch::models
