// Event driver types: Name · Image · Expose · Config · Created · Tags (driver types have no status).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "resourcetablemodel.h"

namespace dispatch::models {

class DriverTypesModel : public ResourceTableModel
{
    Q_OBJECT

public:
    enum Column { NameColumn, ImageColumn, ExposeColumn, ConfigColumn, CreatedColumn, TagsColumn, ColumnCount };
    Q_ENUM(Column)

    explicit DriverTypesModel(RestClient *client, QObject *parent = nullptr);

    QString kind() const override { return QStringLiteral("DriverType"); }
    QString listPath() const override { return QStringLiteral("/v1/event/drivertypes"); }

protected:
    QList<ColumnSpec> columns() const override;
    Json normalize(const Json &object) const override;
    QVector<QVariant> rawValues(const Json &object) const override;
};

} // namespace dispatch::models
