// APIs (HTTP endpoints of functions): Name · Status · Function · Methods · URIs · Hosts · Protocols · Enabled · CORS · Tags.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "resourcetablemodel.h"

namespace dispatch::models {

class ApisModel : public ResourceTableModel
{
    Q_OBJECT

public:
    enum Column { NameColumn, StatusColumn, FunctionColumn, MethodsColumn, UrisColumn, HostsColumn, ProtocolsColumn, EnabledColumn, CorsColumn, TagsColumn, ColumnCount };
    Q_ENUM(Column)

    explicit ApisModel(RestClient *client, QObject *parent = nullptr);

    QString kind() const override { return QStringLiteral("API"); }
    QString listPath() const override { return QStringLiteral("/v1/api"); }

protected:
    QList<ColumnSpec> columns() const override;
    Json normalize(const Json &object) const override;
    QVector<QVariant> rawValues(const Json &object) const override;
    QString functionOf(const Json &object) const override;
};

} // namespace dispatch::models
