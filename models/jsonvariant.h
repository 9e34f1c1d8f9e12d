// nlohmann::json ↔ QVariant for the JsonRole of the models and for views that show raw documents.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QStringList>
#include <QVariant>

#include <nlohmann/json.hpp>

namespace dispatch::models {

QVariant toVariant(const nlohmann::json &j); // objects → QVariantMap, arrays → QVariantList
nlohmann::json fromVariant(const QVariant &v);
QByteArray toJsonBytes(const nlohmann::json &j, int indent = -1); // never throws (bad UTF-8 → U+FFFD)

// Small lenient readers for untrusted documents.
QString jsonString(const nlohmann::json &j, const char *key);
QStringList jsonStringList(const nlohmann::json &j, const char *key);
// A Dispatch time (Unix seconds, or nanoseconds when > 1e14) as a UTC QDateTime; invalid when <= 0.
QDateTime dispatchTime(qint64 value);

} // namespace dispatch::models
