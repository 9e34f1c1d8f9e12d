// JSON shown to people: indented, keys sorted as the server sent them, monospace.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QVariant>

#include <nlohmann/json.hpp>

class QPlainTextEdit;

namespace dispatch::views {

QString prettyJson(const nlohmann::json &json);
QString prettyJson(const QVariant &value); // QVariantMap / QVariantList / scalar
nlohmann::json toJson(const QVariant &value);
QVariant toVariant(const nlohmann::json &json);
// Never-throwing readers: a missing key, null or another type gives the default (nlohmann's value() throws
// on null documents and on null values, and no exception may cross the event loop).
QString jsonString(const nlohmann::json &object, const char *key);
qint64 jsonInt(const nlohmann::json &object, const char *key, qint64 fallback = 0);
bool jsonBool(const nlohmann::json &object, const char *key, bool fallback = false);
// A read-only, monospace text view for JSON and logs.
QPlainTextEdit *makeCodeView(QWidget *parent, const QString &objectName);
// Human-readable durations and times.
QString formatDurationNs(qint64 ns);
QString formatUnixNs(qint64 ns);
QString formatUnixSeconds(qint64 s);

} // namespace dispatch::views
