// Events: driver types, drivers and subscriptions as tabs, and "Emit event" (type, source, JSON data).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "resourcepanel.h"
#include "formdialog.h"
#include "resourceview.h"

#include <QPointer>

namespace dispatch::views {

class FormDialog;

// One view class for the three event resources; `Kind` selects the form and the detail fields.
class EventResourceView : public ResourceView
{
    Q_OBJECT
public:
    enum class Kind
    {
        DriverType,
        Driver,
        Subscription
    };
    EventResourceView(Kind kind, Workspace *workspace, QWidget *parent = nullptr);
    FormDialog *formDialog() const { return m_form; }
    Kind kind() const { return m_kind; }

public slots:

protected:
    QList<QPair<QString, QString>> keyFields(const Json &object) const override;
    QStringList dependantsOf(const QString &name) const override;
    QString emptyText() const override;

private:
    void openForm(const Json &existing) override;
    Kind m_kind;
    QPointer<FormDialog> m_form;
};

class EventsPanel : public ResourcePanel
{
    Q_OBJECT
public:
    explicit EventsPanel(Workspace *workspace, QWidget *parent = nullptr);
    EventResourceView *driverTypesView() const { return m_types; }
    EventResourceView *driversView() const { return m_drivers; }
    EventResourceView *subscriptionsView() const { return m_subscriptions; }
    FormDialog *emitDialog() const { return m_emit; }

public slots:
    void openEmitDialog();

private:
    EventResourceView *m_types = nullptr;
    EventResourceView *m_drivers = nullptr;
    EventResourceView *m_subscriptions = nullptr;
    QPointer<FormDialog> m_emit;
};

} // namespace dispatch::views
