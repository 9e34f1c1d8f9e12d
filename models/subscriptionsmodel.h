// Event subscriptions: Name · Status · Event type · Function · Secrets · Created · Tags.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "resourcetablemodel.h"

namespace dispatch::models {

class SubscriptionsModel : public ResourceTableModel
{
    Q_OBJECT

public:
    enum Column { NameColumn, StatusColumn, EventTypeColumn, FunctionColumn, SecretsColumn, CreatedColumn, TagsColumn, ColumnCount };
    Q_ENUM(Column)

    explicit SubscriptionsModel(RestClient *client, QObject *parent = nullptr);

    QString kind() const override { return QStringLiteral("Subscription"); }
    QString listPath() const override { return QStringLiteral("/v1/event/subscriptions"); }

protected:
    QList<ColumnSpec> columns() const override;
    Json normalize(const Json &object) const override;
    QVector<QVariant> rawValues(const Json &object) const override;
    QString functionOf(const Json &object) const override;
};

} // namespace dispatch::models
