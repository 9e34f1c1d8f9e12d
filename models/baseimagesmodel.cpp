// SPDX-License-Identifier: GPL-3.0-or-later
#include "baseimagesmodel.h"

#include "jsonvariant.h"
#include "wireformat.h"

namespace dispatch::models {

BaseImagesModel::BaseImagesModel(RestClient *client, QObject *parent) : ResourceTableModel(client, parent) {}

QList<ResourceTableModel::ColumnSpec> BaseImagesModel::columns() const
{
    return {{tr("Name")},     {tr("Status"), ColumnType::Status}, {tr("Docker URL")},
            {tr("Language")}, {tr("Created"), ColumnType::Time},   {tr("Tags"), ColumnType::List}};
}

Json BaseImagesModel::normalize(const Json &object) const
{
    return Json(object.get<wire::BaseImage>());
}

QVector<QVariant> BaseImagesModel::rawValues(const Json &object) const
{
    const auto m = object.get<wire::BaseImage>();
    return {qs(m.name),     statusString(m.status),       qs(m.dockerUrl),
            qs(m.language), dispatchTime(m.createdTime), tagStrings(m.tags)};
}

} // namespace dispatch::models
