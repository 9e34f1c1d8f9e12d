// SPDX-License-Identifier: GPL-3.0-or-later
#include "validation.h"

#include <QCoreApplication>
#include <QRegularExpression>

namespace dispatch::views {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("Validation", text);
}

} // namespace

QString checkName(const QString &name)
{
    static const QRegularExpression re(QStringLiteral("^[\\w\\d][\\w\\d\\-]*$"),
                                       QRegularExpression::UseUnicodePropertiesOption);
    if (name.isEmpty())
        return tr("A name is required.");
    if (!re.match(name).hasMatch())
        return tr("Names start with a letter or digit and may contain only letters, digits, underscores and dashes.");
    return {};
}

QString checkDriverName(const QString &name)
{
    static const QRegularExpression re(QStringLiteral("^[a-z0-9][a-z0-9\\-]*$"));
    if (name.isEmpty())
        return tr("A name is required.");
    if (!re.match(name).hasMatch())
        return tr("Driver names use lower-case letters, digits and dashes only, and start with a letter or digit.");
    return {};
}

QString checkEventType(const QString &type)
{
    static const QRegularExpression re(QStringLiteral("^[\\w\\d\\-\\.]+$"));
    if (type.isEmpty())
        return tr("An event type is required.");
    if (type.size() > 128)
        return tr("Event types are at most 128 characters long.");
    if (!re.match(type).hasMatch())
        return tr("Event types may contain only letters, digits, underscores, dashes and dots.");
    return {};
}

QString checkDriverTypeName(const QString &name)
{
    if (QString e = checkName(name); !e.isEmpty())
        return e;
    if (name.size() > 32)
        return tr("Driver type names are at most 32 characters long.");
    return {};
}

QString checkUriPath(const QString &path)
{
    if (path.isEmpty())
        return tr("A path is required.");
    if (!path.startsWith(QLatin1Char('/')))
        return tr("Paths start with \"/\".");
    if (path.contains(QLatin1Char(' ')))
        return tr("Paths may not contain spaces.");
    return {};
}

std::optional<nlohmann::json> parseJsonText(const QString &text, QString *error, bool emptyIsNull)
{
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty()) {
        if (emptyIsNull)
            return nlohmann::json();
        if (error)
            *error = tr("JSON is required.");
        return std::nullopt;
    }
    try {
        return nlohmann::json::parse(trimmed.toStdString());
    } catch (const nlohmann::json::parse_error &e) {
        if (error) {
            // nlohmann reports a byte offset; turn it into a line and column the user can find.
            const QByteArray utf8 = trimmed.toUtf8();
            const qsizetype offset = std::min<qsizetype>(static_cast<qsizetype>(e.byte), utf8.size());
            const QByteArray before = utf8.left(offset > 0 ? offset - 1 : 0);
            const int line = before.count('\n') + 1;
            const int column = static_cast<int>(before.size() - (before.lastIndexOf('\n') + 1)) + 1;
            *error = tr("Invalid JSON at line %1, column %2.").arg(line).arg(column);
        }
        return std::nullopt;
    }
}

} // namespace dispatch::views
