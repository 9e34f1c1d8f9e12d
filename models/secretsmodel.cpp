// SPDX-License-Identifier: GPL-3.0-or-later
#include "secretsmodel.h"

#include "jsonvariant.h"
#include "wireformat.h"

namespace dispatch::models {

SecretsModel::SecretsModel(RestClient *client, QObject *parent) : ResourceTableModel(client, parent) {}

QList<ResourceTableModel::ColumnSpec> SecretsModel::columns() const
{
    return {{tr("Name")}, {tr("Keys"), ColumnType::List}, {tr("Tags"), ColumnType::List}};
}

Json SecretsModel::normalize(const Json &object) const
{
    // The list carries the values; the change feed only the key names. Keep the names, never the values, so
    // that a table (or its JsonRole) cannot leak a secret; and one shape whichever way the secret came.
    std::vector<std::string> keys;
    if (auto it = object.find("secrets"); it != object.end() && it->is_object())
        for (auto k = it->begin(); k != it->end(); ++k)
            keys.push_back(k.key());
    else if (auto kt = object.find("keys"); kt != object.end() && kt->is_array())
        for (const auto &k : *kt)
            if (k.is_string())
                keys.push_back(k.get<std::string>());
    std::sort(keys.begin(), keys.end());
    const auto m = object.get<wire::Secret>();
    Json tags = Json::array();
    for (const auto &t : m.tags)
        tags.push_back(t);
    return Json{{"name", m.name}, {"id", m.id}, {"kind", "Secret"}, {"tags", tags}, {"keys", keys}};
}

QVector<QVariant> SecretsModel::rawValues(const Json &object) const
{
    const auto m = object.get<wire::Secret>();
    return {qs(m.name), jsonStringList(object, "keys"), tagStrings(m.tags)};
}

} // namespace dispatch::models
