// Secrets: Name · Keys · Tags. Values are never kept here (the list answer carries them; they are dropped): fetch one secret by name to reveal it.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "resourcetablemodel.h"

namespace dispatch::models {

class SecretsModel : public ResourceTableModel
{
    Q_OBJECT

public:
    enum Column { NameColumn, KeysColumn, TagsColumn, ColumnCount };
    Q_ENUM(Column)

    explicit SecretsModel(RestClient *client, QObject *parent = nullptr);

    QString kind() const override { return QStringLiteral("Secret"); }
    QString listPath() const override { return QStringLiteral("/v1/secret"); }

protected:
    QList<ColumnSpec> columns() const override;
    QVector<QVariant> rawValues(const Json &object) const override;
    Json normalize(const Json &object) const override;
};

} // namespace dispatch::models
