// Images: Name · Status · Base image · Language · Docker URL · Created · Tags.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "resourcetablemodel.h"

namespace dispatch::models {

class ImagesModel : public ResourceTableModel
{
    Q_OBJECT

public:
    enum Column { NameColumn, StatusColumn, BaseImageColumn, LanguageColumn, DockerUrlColumn, CreatedColumn, TagsColumn, ColumnCount };
    Q_ENUM(Column)

    explicit ImagesModel(RestClient *client, QObject *parent = nullptr);

    QString kind() const override { return QStringLiteral("Image"); }
    QString listPath() const override { return QStringLiteral("/v1/image"); }

protected:
    QList<ColumnSpec> columns() const override;
    Json normalize(const Json &object) const override;
    QVector<QVariant> rawValues(const Json &object) const override;
};

} // namespace dispatch::models
