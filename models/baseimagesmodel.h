// Base images: Name · Status · Docker URL · Language · Created · Tags.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "resourcetablemodel.h"

namespace dispatch::models {

class BaseImagesModel : public ResourceTableModel
{
    Q_OBJECT

public:
    enum Column { NameColumn, StatusColumn, DockerUrlColumn, LanguageColumn, CreatedColumn, TagsColumn, ColumnCount };
    Q_ENUM(Column)

    explicit BaseImagesModel(RestClient *client, QObject *parent = nullptr);

    QString kind() const override { return QStringLiteral("BaseImage"); }
    QString listPath() const override { return QStringLiteral("/v1/baseimage"); }

protected:
    QList<ColumnSpec> columns() const override;
    Json normalize(const Json &object) const override;
    QVector<QVariant> rawValues(const Json &object) const override;
};

} // namespace dispatch::models
