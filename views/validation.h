// Client-side checks that mirror the server's rules (reference §1.5), so a form can say what is wrong before
// anything is sent. Each returns an empty string when the value is fine, else a translated message.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

#include <nlohmann/json.hpp>

#include <optional>

namespace dispatch::views {

QString checkName(const QString &name);       // ^[\w\d][\w\d\-]*$
QString checkDriverName(const QString &name); // ^[a-z0-9][a-z0-9\-]*$
QString checkEventType(const QString &type);  // ^[\w\d\-\.]+$, at most 128
QString checkDriverTypeName(const QString &name); // name rule, at most 32
QString checkUriPath(const QString &path);    // starts with '/'
// Parses JSON text; on failure `error` says where. Empty text is `null` only when `emptyIsNull`.
std::optional<nlohmann::json> parseJsonText(const QString &text, QString *error, bool emptyIsNull = true);

} // namespace dispatch::views
