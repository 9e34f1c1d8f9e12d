// The outcome of one Dispatch API request: status, body, parsed JSON and, on failure, a sentence a person can act on.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QString>

#include <nlohmann/json.hpp>

namespace dispatch::models {

using Json = nlohmann::json;

struct ApiResult
{
    int status = 0;      // HTTP status; 0 = no HTTP answer (network error, timeout, TLS failure, cancelled)
    QByteArray body;     // the raw body
    Json json;           // the parsed body; null when empty or not JSON
    QString errorMessage; // empty on success, else e.g. "function hello not found (404)" or
                          // "Cannot reach 127.0.0.1:8080: connection refused. Is the server running?"
    bool networkFailure = false; // no HTTP answer at all (the server is unreachable or timed out)
    bool timedOut = false;

    bool ok() const { return status >= 200 && status < 300 && errorMessage.isEmpty(); }
    // The server's {"code": ...} (the go-openapi code for 422s), or 0.
    int errorCode() const;
};

} // namespace dispatch::models
