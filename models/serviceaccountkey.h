// Service-account login as the Dispatch CLI does it (§7.2): the console signs a short-lived JWT with the account's
// private key, iss = "<org>/<account>", RS256 for an RSA key and ES256 for an EC P-256 key (librhonabwy).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QString>

namespace dispatch::models {

// A signed token valid for `lifetimeSeconds` (iat one minute back, for clock skew); empty with `error` set when
// the key cannot be used.
QString signServiceAccountToken(const QString &org, const QString &account, const QByteArray &privateKeyPem,
                                int lifetimeSeconds, QString *error);

} // namespace dispatch::models
