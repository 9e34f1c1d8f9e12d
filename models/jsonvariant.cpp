// SPDX-License-Identifier: GPL-3.0-or-later
#include "jsonvariant.h"

#include <QVariantList>
#include <QVariantMap>

namespace dispatch::models {

using Json = nlohmann::json;

QVariant toVariant(const Json &j)
{
    switch (j.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
        return {};
    case Json::value_t::boolean:
        return j.get<bool>();
    case Json::value_t::number_integer:
        return QVariant::fromValue<qlonglong>(j.get<qlonglong>());
    case Json::value_t::number_unsigned:
        return QVariant::fromValue<qulonglong>(j.get<qulonglong>());
    case Json::value_t::number_float:
        return j.get<double>();
    case Json::value_t::string:
        return QString::fromStdString(j.get<std::string>());
    case Json::value_t::array: {
        QVariantList list;
        list.reserve(qsizetype(j.size()));
        for (const auto &e : j)
            list.append(toVariant(e));
        return list;
    }
    case Json::value_t::object: {
        QVariantMap map;
        for (auto it = j.begin(); it != j.end(); ++it)
            map.insert(QString::fromStdString(it.key()), toVariant(it.value()));
        return map;
    }
    case Json::value_t::binary:
        return {};
    }
    return {};
}

Json fromVariant(const QVariant &v)
{
    switch (v.typeId()) {
    case QMetaType::UnknownType:
    case QMetaType::Nullptr:
        return nullptr;
    case QMetaType::Bool:
        return v.toBool();
    case QMetaType::Int:
    case QMetaType::LongLong:
        return v.toLongLong();
    case QMetaType::UInt:
    case QMetaType::ULongLong:
        return v.toULongLong();
    case QMetaType::Double:
    case QMetaType::Float:
        return v.toDouble();
    case QMetaType::QVariantList:
    case QMetaType::QStringList: {
        Json a = Json::array();
        for (const auto &e : v.toList())
            a.push_back(fromVariant(e));
        return a;
    }
    case QMetaType::QVariantMap: {
        Json o = Json::object();
        const QVariantMap map = v.toMap();
        for (auto it = map.begin(); it != map.end(); ++it)
            o[it.key().toStdString()] = fromVariant(it.value());
        return o;
    }
    default:
        return v.toString().toStdString();
    }
}

QByteArray toJsonBytes(const Json &j, int indent)
{
    return QByteArray::fromStdString(j.dump(indent, ' ', false, Json::error_handler_t::replace));
}

QString jsonString(const Json &j, const char *key)
{
    if (!j.is_object())
        return {};
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? QString::fromStdString(it->get<std::string>()) : QString();
}

QStringList jsonStringList(const Json &j, const char *key)
{
    QStringList out;
    if (!j.is_object())
        return out;
    auto it = j.find(key);
    if (it == j.end() || !it->is_array())
        return out;
    for (const auto &e : *it)
        if (e.is_string())
            out << QString::fromStdString(e.get<std::string>());
    return out;
}

QDateTime dispatchTime(qint64 value)
{
    if (value <= 0)
        return {};
    const qint64 ms = value > 100'000'000'000'000LL ? value / 1'000'000 : value * 1000;
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
}

} // namespace dispatch::models
