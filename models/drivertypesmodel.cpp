// SPDX-License-Identifier: GPL-3.0-or-later
#include "drivertypesmodel.h"

#include "jsonvariant.h"
#include "wireformat.h"

namespace dispatch::models {

DriverTypesModel::DriverTypesModel(RestClient *client, QObject *parent) : ResourceTableModel(client, parent) {}

QList<ResourceTableModel::ColumnSpec> DriverTypesModel::columns() const
{
    return {{tr("Name")},
            {tr("Image")},
            {tr("Expose"), ColumnType::Bool},
            {tr("Config"), ColumnType::List},
            {tr("Created"), ColumnType::Time},
            {tr("Tags"), ColumnType::List}};
}

Json DriverTypesModel::normalize(const Json &object) const
{
    return Json(object.get<wire::EventDriverType>());
}

QVector<QVariant> DriverTypesModel::rawValues(const Json &object) const
{
    const auto m = object.get<wire::EventDriverType>();
    return {qs(m.name), qs(m.image), m.expose, configStrings(m.config), dispatchTime(m.createdTime),
            tagStrings(m.tags)};
}

} // namespace dispatch::models
