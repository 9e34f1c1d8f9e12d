// SPDX-License-Identifier: GPL-3.0-or-later
#include "endpoint.h"

namespace dispatch::models {

QString Endpoint::hostAndPort() const
{
    const QString host = baseUrl.host();
    const int port = baseUrl.port(baseUrl.scheme() == QLatin1String("https") ? 443 : 80);
    if (host.contains(QLatin1Char(':'))) // IPv6 literal
        return QStringLiteral("[%1]:%2").arg(host).arg(port);
    return QStringLiteral("%1:%2").arg(host).arg(port);
}

} // namespace dispatch::models
