// Images (what functions are built on) and base images (what images are built on), as two tabs; seed images.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "resourcepanel.h"
#include "formdialog.h"
#include "resourceview.h"

#include <QPointer>

namespace dispatch::views {

class Demo;
class FormDialog;

class ImagesView : public ResourceView
{
    Q_OBJECT
public:
    ImagesView(Workspace *workspace, Demo *demo, QWidget *parent = nullptr);
    FormDialog *formDialog() const { return m_form; }

public slots:

protected:
    QList<QPair<QString, QString>> keyFields(const Json &object) const override;
    QStringList dependantsOf(const QString &name) const override;
    QString emptyText() const override;

private:
    void openForm(const Json &existing) override;
    QPointer<FormDialog> m_form;
};

class BaseImagesView : public ResourceView
{
    Q_OBJECT
public:
    BaseImagesView(Workspace *workspace, Demo *demo, QWidget *parent = nullptr);
    FormDialog *formDialog() const { return m_form; }

public slots:

protected:
    QList<QPair<QString, QString>> keyFields(const Json &object) const override;
    QStringList dependantsOf(const QString &name) const override;
    QString emptyText() const override;

private:
    void openForm(const Json &existing) override;
    QPointer<FormDialog> m_form;
};

class ImagesPanel : public ResourcePanel
{
    Q_OBJECT
public:
    ImagesPanel(Workspace *workspace, Demo *demo, QWidget *parent = nullptr);
    ImagesView *imagesView() const { return m_images; }
    BaseImagesView *baseImagesView() const { return m_baseImages; }

private:
    ImagesView *m_images = nullptr;
    BaseImagesView *m_baseImages = nullptr;
};

} // namespace dispatch::views
