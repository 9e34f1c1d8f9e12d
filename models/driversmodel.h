// Event drivers: Name · Status · Type · Config · Secrets · Expose · URL · Created · Tags.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "resourcetablemodel.h"

namespace dispatch::models {

class DriversModel : public ResourceTableModel
{
    Q_OBJECT

public:
    enum Column { NameColumn, StatusColumn, TypeColumn, ConfigColumn, SecretsColumn, ExposeColumn, UrlColumn, CreatedColumn, TagsColumn, ColumnCount };
    Q_ENUM(Column)

    explicit DriversModel(RestClient *client, QObject *parent = nullptr);

    QString kind() const override { return QStringLiteral("Driver"); }
    QString listPath() const override { return QStringLiteral("/v1/event/drivers"); }

protected:
    QList<ColumnSpec> columns() const override;
    Json normalize(const Json &object) const override;
    QVector<QVariant> rawValues(const Json &object) const override;
};

} // namespace dispatch::models
