// SPDX-License-Identifier: GPL-3.0-or-later
#include "imagesmodel.h"

#include "jsonvariant.h"
#include "wireformat.h"

namespace dispatch::models {

ImagesModel::ImagesModel(RestClient *client, QObject *parent) : ResourceTableModel(client, parent) {}

QList<ResourceTableModel::ColumnSpec> ImagesModel::columns() const
{
    return {{tr("Name")},     {tr("Status"), ColumnType::Status}, {tr("Base image")},
            {tr("Language")}, {tr("Docker URL")},                 {tr("Created"), ColumnType::Time},
            {tr("Tags"), ColumnType::List}};
}

Json ImagesModel::normalize(const Json &object) const
{
    return Json(object.get<wire::Image>());
}

QVector<QVariant> ImagesModel::rawValues(const Json &object) const
{
    const auto m = object.get<wire::Image>();
    return {qs(m.name),      statusString(m.status),       qs(m.baseImageName), qs(m.language),
            qs(m.dockerUrl), dispatchTime(m.createdTime), tagStrings(m.tags)};
}

} // namespace dispatch::models
