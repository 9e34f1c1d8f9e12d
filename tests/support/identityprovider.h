// Test support: the identity tests' real OpenID provider (tests/oidc/idp.mjs, npm oidc-provider) as a child
// process on a free loopback port. See the top of idp.mjs for its clients, users and test hooks.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QProcess>
#include <QString>
#include <QStringList>

#include "support/testserver.h"

namespace dispatch::test {

class IdentityProvider
{
public:
    explicit IdentityProvider(QStringList args = {}) : m_args(std::move(args)) {}
    ~IdentityProvider();
    bool start(QString *error);
    QString issuer() const { return m_issuer; }
    // A token signed by the provider's own keys (or as an attacker would for "none"/"HS256-public-key").
    QByteArray sign(const QString &alg, Json claims, const QString &kid = {}) const;

private:
    QStringList m_args;
    QProcess m_process;
    QString m_issuer;
};

} // namespace dispatch::test
