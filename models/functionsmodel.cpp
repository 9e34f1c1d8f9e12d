// SPDX-License-Identifier: GPL-3.0-or-later
#include "functionsmodel.h"

#include "jsonvariant.h"
#include "wireformat.h"

namespace dispatch::models {

FunctionsModel::FunctionsModel(RestClient *client, QObject *parent) : ResourceTableModel(client, parent) {}

QList<ResourceTableModel::ColumnSpec> FunctionsModel::columns() const
{
    return {{tr("Name")},
            {tr("Status"), ColumnType::Status},
            {tr("Image")},
            {tr("Handler")},
            {tr("Timeout"), ColumnType::DurationMs},
            {tr("Secrets"), ColumnType::List},
            {tr("Created"), ColumnType::Time},
            {tr("Revision")},
            {tr("Tags"), ColumnType::List}};
}

Json FunctionsModel::normalize(const Json &object) const
{
    return Json(object.get<wire::Function>());
}

QVector<QVariant> FunctionsModel::rawValues(const Json &object) const
{
    const auto f = object.get<wire::Function>();
    // Our server names the live revision; elsewhere the faasId changes with every update and serves as one.
    const QString revision = qs(f.revision.empty() ? f.faasId : f.revision);
    return {qs(f.name),
            statusString(f.status),
            qs(f.image),
            qs(f.handler),
            QVariant::fromValue<qint64>(f.timeout),
            qsl(f.secrets),
            dispatchTime(f.createdTime),
            revision,
            tagStrings(f.tags)};
}

QString FunctionsModel::displayText(int column, const QVariant &raw, const Json &object) const
{
    if (column == RevisionColumn)
        return raw.toString().left(8); // a uuid: the first group tells revisions apart
    return ResourceTableModel::displayText(column, raw, object);
}

} // namespace dispatch::models
