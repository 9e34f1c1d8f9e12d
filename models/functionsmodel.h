// Functions: Name · Status · Image · Handler · Timeout · Secrets · Created · Revision · Tags.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "resourcetablemodel.h"

namespace dispatch::models {

class FunctionsModel : public ResourceTableModel
{
    Q_OBJECT

public:
    enum Column { NameColumn, StatusColumn, ImageColumn, HandlerColumn, TimeoutColumn, SecretsColumn, CreatedColumn, RevisionColumn, TagsColumn, ColumnCount };
    Q_ENUM(Column)

    explicit FunctionsModel(RestClient *client, QObject *parent = nullptr);

    QString kind() const override { return QStringLiteral("Function"); }
    QString listPath() const override { return QStringLiteral("/v1/function"); }

protected:
    QList<ColumnSpec> columns() const override;
    Json normalize(const Json &object) const override;
    QVector<QVariant> rawValues(const Json &object) const override;
    QString displayText(int column, const QVariant &raw, const Json &object) const override;
};

} // namespace dispatch::models
