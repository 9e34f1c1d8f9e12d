// SPDX-License-Identifier: GPL-3.0-or-later
#include "driversmodel.h"

#include "jsonvariant.h"
#include "wireformat.h"

namespace dispatch::models {

DriversModel::DriversModel(RestClient *client, QObject *parent) : ResourceTableModel(client, parent) {}

QList<ResourceTableModel::ColumnSpec> DriversModel::columns() const
{
    return {{tr("Name")},
            {tr("Status"), ColumnType::Status},
            {tr("Type")},
            {tr("Config"), ColumnType::List},
            {tr("Secrets"), ColumnType::List},
            {tr("Expose"), ColumnType::Bool},
            {tr("URL")},
            {tr("Created"), ColumnType::Time},
            {tr("Tags"), ColumnType::List}};
}

Json DriversModel::normalize(const Json &object) const
{
    return Json(object.get<wire::EventDriver>());
}

QVector<QVariant> DriversModel::rawValues(const Json &object) const
{
    const auto m = object.get<wire::EventDriver>();
    return {qs(m.name),     statusString(m.status), qs(m.type), configStrings(m.config), qsl(m.secrets),
            m.expose,       qs(m.url),              dispatchTime(m.createdTime),         tagStrings(m.tags)};
}

} // namespace dispatch::models
