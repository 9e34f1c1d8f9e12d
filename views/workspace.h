// Everything a window shows for the current context: one RestClient, its watch stream and a model per resource.
// Switching context points them all at the new endpoint (each model resets once and reloads).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QColor>
#include <QObject>
#include <QString>
#include <QStringList>

#include "endpoint.h"

namespace dispatch::models {
class RestClient;
class WatchClient;
class ResourceTableModel;
class FunctionsModel;
class RunsModel;
class ApisModel;
class ImagesModel;
class BaseImagesModel;
class SecretsModel;
class DriversModel;
class DriverTypesModel;
class SubscriptionsModel;
} // namespace dispatch::models

namespace dispatch::views {

class Workspace : public QObject
{
    Q_OBJECT
public:
    explicit Workspace(QObject *parent = nullptr);
    ~Workspace() override;

    void setEndpoint(const models::Endpoint &endpoint);
    const models::Endpoint &endpoint() const;
    void refreshAll();

    models::RestClient *client() const { return m_client; }
    models::WatchClient *watch() const { return m_watch; }
    models::FunctionsModel *functions() const { return m_functions; }
    models::RunsModel *runs() const { return m_runs; }
    models::ApisModel *apis() const { return m_apis; }
    models::ImagesModel *images() const { return m_images; }
    models::BaseImagesModel *baseImages() const { return m_baseImages; }
    models::SecretsModel *secrets() const { return m_secrets; }
    models::DriversModel *drivers() const { return m_drivers; }
    models::DriverTypesModel *driverTypes() const { return m_driverTypes; }
    models::SubscriptionsModel *subscriptions() const { return m_subscriptions; }
    QList<models::ResourceTableModel *> resourceModels() const;

    // What uses an item, as "API api-hello", "subscription cron-sub", "function hello" (for delete dialogs and
    // "used by" lists). From the models' last known state.
    QStringList usersOfFunction(const QString &name) const;
    QStringList usersOfImage(const QString &name) const;
    QStringList usersOfBaseImage(const QString &name) const;
    QStringList usersOfSecret(const QString &name) const;
    QStringList usersOfDriverType(const QString &name) const;

    // The gateway base URL (same host as the API, the gateway port) for the APIs panel. Set by the owner: for the
    // local server it is known exactly, for a remote context it comes from the context's api-http-port.
    void setGatewayBase(const QString &url);
    // The context's display name and colour (dialogs and strips show them so nobody acts on the wrong server).
    void setContextInfo(const QString &name, const QColor &color);
    QString contextName() const { return m_contextName; }
    QColor contextColor() const { return m_contextColor; }
    QString gatewayBase() const { return m_gatewayBase; }

signals:
    void endpointChanged();
    void gatewayBaseChanged();
    void contextInfoChanged();

private:
    models::RestClient *m_client = nullptr;
    models::WatchClient *m_watch = nullptr;
    models::FunctionsModel *m_functions = nullptr;
    models::RunsModel *m_runs = nullptr;
    models::ApisModel *m_apis = nullptr;
    models::ImagesModel *m_images = nullptr;
    models::BaseImagesModel *m_baseImages = nullptr;
    models::SecretsModel *m_secrets = nullptr;
    models::DriversModel *m_drivers = nullptr;
    models::DriverTypesModel *m_driverTypes = nullptr;
    models::SubscriptionsModel *m_subscriptions = nullptr;
    QString m_gatewayBase;
    QString m_contextName;
    QColor m_contextColor;
};

} // namespace dispatch::views
