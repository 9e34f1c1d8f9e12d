// SPDX-License-Identifier: GPL-3.0-or-later
#include "permissions.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace dispatch::models {

Permissions Permissions::fromWhoami(const QByteArray &json)
{
    Permissions p;
    const QJsonObject o = QJsonDocument::fromJson(json).object();
    if (!o.contains(QStringLiteral("permissions")))
        return p;
    p.known = true;
    p.subject = o.value(QStringLiteral("subject")).toString();
    p.org = o.value(QStringLiteral("org")).toString();
    for (const auto &v : o.value(QStringLiteral("orgs")).toArray())
        p.orgs << v.toString();
    const QJsonObject perms = o.value(QStringLiteral("permissions")).toObject();
    for (auto it = perms.begin(); it != perms.end(); ++it) {
        QSet<QString> actions;
        for (const auto &a : it.value().toArray())
            actions.insert(a.toString());
        p.allowed.insert(it.key(), actions);
    }
    return p;
}

bool Permissions::allows(const QString &resource, const QString &action) const
{
    if (!known)
        return true;
    auto it = allowed.find(resource);
    // A resource whoami does not list (a newer server's) is left to the server to decide.
    return it == allowed.end() || it->contains(action);
}

QString Permissions::whyNot(const QString &resource, const QString &action) const
{
    if (allows(resource, action))
        return {};
    const QString who = subject.isEmpty() ? QCoreApplication::translate("Permissions", "You") : subject;
    return QCoreApplication::translate("Permissions", "%1 may not %2 %3 in organization %4 (the server's policies "
                                                      "do not allow it; ask an administrator).")
        .arg(who, action, resource, org);
}

QString Permissions::resourceOfPath(const QString &path)
{
    const QStringList parts = path.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    return parts.size() >= 2 ? parts[1] : QString();
}

} // namespace dispatch::models
