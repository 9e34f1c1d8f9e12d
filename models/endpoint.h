// Where and how to talk to one Dispatch server: base URL, organisation, credentials and TLS settings.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QUrl>

namespace dispatch::models {

struct Endpoint
{
    QString name;         // the context name (for messages), may be empty
    QUrl baseUrl;         // scheme://host:port, no path
    QString organization = QStringLiteral("dispatch"); // sent as X-Dispatch-Org
    QString cookie;       // sent as Cookie; "unset" when empty (what the Dispatch CLI sends)
    QString bearerToken;  // when set, "Authorization: Bearer <token>" replaces the cookie
    bool insecure = false; // skip TLS certificate verification
    QString caFile;       // extra CA certificate(s) (PEM) trusted for this endpoint

    bool isValid() const { return baseUrl.isValid() && !baseUrl.host().isEmpty(); }
    QString hostAndPort() const; // "127.0.0.1:8080", for messages
    friend bool operator==(const Endpoint &, const Endpoint &) = default;
};

} // namespace dispatch::models
