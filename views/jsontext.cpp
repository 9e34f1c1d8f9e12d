// SPDX-License-Identifier: GPL-3.0-or-later
#include "jsontext.h"

#include <QDateTime>
#include <QFontDatabase>
#include <QJsonDocument>
#include <QPlainTextEdit>

namespace dispatch::views {

QString prettyJson(const nlohmann::json &json)
{
    if (json.is_null())
        return QStringLiteral("null");
    return QString::fromStdString(json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

nlohmann::json toJson(const QVariant &value)
{
    const QJsonDocument doc = QJsonDocument::fromVariant(value);
    if (!doc.isNull())
        return nlohmann::json::parse(doc.toJson(QJsonDocument::Compact).toStdString(), nullptr, false);
    // Scalars: QJsonDocument only wraps objects and arrays.
    switch (value.typeId()) {
    case QMetaType::Bool:
        return value.toBool();
    case QMetaType::Int:
    case QMetaType::LongLong:
        return value.toLongLong();
    case QMetaType::UInt:
    case QMetaType::ULongLong:
        return value.toULongLong();
    case QMetaType::Double:
    case QMetaType::Float:
        return value.toDouble();
    case QMetaType::QString:
        return value.toString().toStdString();
    default:
        break;
    }
    if (!value.isValid() || value.isNull())
        return nullptr;
    return value.toString().toStdString();
}

QVariant toVariant(const nlohmann::json &json)
{
    if (json.is_object() || json.is_array())
        return QJsonDocument::fromJson(QByteArray::fromStdString(json.dump())).toVariant();
    if (json.is_boolean())
        return json.get<bool>();
    if (json.is_number_integer())
        return QVariant::fromValue(json.get<qint64>());
    if (json.is_number())
        return json.get<double>();
    if (json.is_string())
        return QString::fromStdString(json.get<std::string>());
    return {};
}

QString prettyJson(const QVariant &value)
{
    return prettyJson(toJson(value));
}

QString jsonString(const nlohmann::json &object, const char *key)
{
    if (!object.is_object())
        return {};
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? QString::fromStdString(it->get<std::string>()) : QString();
}

qint64 jsonInt(const nlohmann::json &object, const char *key, qint64 fallback)
{
    if (!object.is_object())
        return fallback;
    const auto it = object.find(key);
    if (it == object.end() || !it->is_number())
        return fallback;
    return it->is_number_float() ? static_cast<qint64>(it->get<double>()) : it->get<qint64>();
}

bool jsonBool(const nlohmann::json &object, const char *key, bool fallback)
{
    if (!object.is_object())
        return fallback;
    const auto it = object.find(key);
    return it != object.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

QPlainTextEdit *makeCodeView(QWidget *parent, const QString &objectName)
{
    auto *view = new QPlainTextEdit(parent);
    view->setObjectName(objectName);
    view->setReadOnly(true);
    view->setLineWrapMode(QPlainTextEdit::NoWrap);
    view->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    view->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    return view;
}

QString formatDurationNs(qint64 ns)
{
    if (ns < 0)
        return QStringLiteral("\u2013");
    if (ns < 1'000'000)
        return QStringLiteral("%1 \u00b5s").arg(ns / 1000.0, 0, 'f', ns < 10'000 ? 1 : 0);
    if (ns < 1'000'000'000)
        return QStringLiteral("%1 ms").arg(ns / 1e6, 0, 'f', ns < 10'000'000 ? 1 : 0);
    if (ns < 60'000'000'000LL)
        return QStringLiteral("%1 s").arg(ns / 1e9, 0, 'f', 2);
    return QStringLiteral("%1 min").arg(ns / 6e10, 0, 'f', 1);
}

QString formatUnixNs(qint64 ns)
{
    if (ns <= 0)
        return QStringLiteral("\u2013");
    return QDateTime::fromMSecsSinceEpoch(ns / 1'000'000).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
}

QString formatUnixSeconds(qint64 s)
{
    if (s <= 0)
        return QStringLiteral("\u2013");
    return QDateTime::fromSecsSinceEpoch(s).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

} // namespace dispatch::views
