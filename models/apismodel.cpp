// SPDX-License-Identifier: GPL-3.0-or-later
#include "apismodel.h"

#include "jsonvariant.h"
#include "wireformat.h"

namespace dispatch::models {

ApisModel::ApisModel(RestClient *client, QObject *parent) : ResourceTableModel(client, parent) {}

QList<ResourceTableModel::ColumnSpec> ApisModel::columns() const
{
    return {{tr("Name")},
            {tr("Status"), ColumnType::Status},
            {tr("Function")},
            {tr("Methods"), ColumnType::List},
            {tr("URIs"), ColumnType::List},
            {tr("Hosts"), ColumnType::List},
            {tr("Protocols"), ColumnType::List},
            {tr("Enabled"), ColumnType::Bool},
            {tr("CORS"), ColumnType::Bool},
            {tr("Tags"), ColumnType::List}};
}

Json ApisModel::normalize(const Json &object) const
{
    return Json(object.get<wire::Api>());
}

QVector<QVariant> ApisModel::rawValues(const Json &object) const
{
    const auto m = object.get<wire::Api>();
    return {qs(m.name),     statusString(m.status), qs(m.function), qsl(m.methods), qsl(m.uris),
            qsl(m.hosts),   qsl(m.protocols),       m.enabled,      m.cors,         tagStrings(m.tags)};
}

QString ApisModel::functionOf(const Json &object) const
{
    return jsonString(object, "function");
}

} // namespace dispatch::models
