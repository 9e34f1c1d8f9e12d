// SPDX-License-Identifier: GPL-3.0-or-later
#include "subscriptionsmodel.h"

#include "jsonvariant.h"
#include "wireformat.h"

namespace dispatch::models {

SubscriptionsModel::SubscriptionsModel(RestClient *client, QObject *parent) : ResourceTableModel(client, parent) {}

QList<ResourceTableModel::ColumnSpec> SubscriptionsModel::columns() const
{
    return {{tr("Name")},
            {tr("Status"), ColumnType::Status},
            {tr("Event type")},
            {tr("Function")},
            {tr("Secrets"), ColumnType::List},
            {tr("Created"), ColumnType::Time},
            {tr("Tags"), ColumnType::List}};
}

Json SubscriptionsModel::normalize(const Json &object) const
{
    return Json(object.get<wire::Subscription>());
}

QVector<QVariant> SubscriptionsModel::rawValues(const Json &object) const
{
    const auto m = object.get<wire::Subscription>();
    return {qs(m.name),     statusString(m.status),       qs(m.eventType), qs(m.function),
            qsl(m.secrets), dispatchTime(m.createdTime), tagStrings(m.tags)};
}

QString SubscriptionsModel::functionOf(const Json &object) const
{
    return jsonString(object, "function");
}

} // namespace dispatch::models
