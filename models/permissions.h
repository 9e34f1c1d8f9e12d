// What the server's policies allow the current identity (GET /v1/iam/whoami of our server): per resource
// ("function", "secret", ...) the actions get/create/update/delete, and the organizations it can see. A server
// that does not answer whoami (Dispatch-Solo, an older server) allows everything as far as the console knows.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QHash>
#include <QSet>
#include <QString>
#include <QStringList>

namespace dispatch::models {

struct Permissions
{
    bool known = false; // false: nothing learned, everything allowed
    QString subject;
    QString org;
    QStringList orgs;
    QHash<QString, QSet<QString>> allowed;

    static Permissions fromWhoami(const QByteArray &json);
    bool allows(const QString &resource, const QString &action) const;
    // Why an action is disabled, for its tooltip ("" when allowed).
    QString whyNot(const QString &resource, const QString &action) const;
    // "/v1/function" → "function"
    static QString resourceOfPath(const QString &path);
};

} // namespace dispatch::models
