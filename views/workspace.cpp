// SPDX-License-Identifier: GPL-3.0-or-later
#include "workspace.h"

#include "apismodel.h"
#include "baseimagesmodel.h"
#include "driversmodel.h"
#include "drivertypesmodel.h"
#include "functionsmodel.h"
#include "imagesmodel.h"
#include "restclient.h"
#include "runsmodel.h"
#include "secretsmodel.h"
#include "subscriptionsmodel.h"
#include "watchclient.h"

namespace dispatch::views {

namespace {

QString str(const nlohmann::json &o, const char *key)
{
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? QString::fromStdString(it->get<std::string>()) : QString();
}

bool listContains(const nlohmann::json &o, const char *key, const QString &value)
{
    auto it = o.find(key);
    if (it == o.end() || !it->is_array())
        return false;
    for (const auto &v : *it)
        if (v.is_string() && QString::fromStdString(v.get<std::string>()) == value)
            return true;
    return false;
}

} // namespace

Workspace::Workspace(QObject *parent) : QObject(parent)
{
    m_client = new models::RestClient(this);
    m_watch = new models::WatchClient(m_client, this);
    m_functions = new models::FunctionsModel(m_client, this);
    m_runs = new models::RunsModel(m_client, this);
    m_apis = new models::ApisModel(m_client, this);
    m_images = new models::ImagesModel(m_client, this);
    m_baseImages = new models::BaseImagesModel(m_client, this);
    m_secrets = new models::SecretsModel(m_client, this);
    m_drivers = new models::DriversModel(m_client, this);
    m_driverTypes = new models::DriverTypesModel(m_client, this);
    m_subscriptions = new models::SubscriptionsModel(m_client, this);
    for (auto *m : resourceModels())
        m->setWatchClient(m_watch);
    m_runs->setWatchClient(m_watch);
    // Coming back from "unreachable" (a restarted server, a network that returned) reloads what was missed.
    connect(m_client, &models::RestClient::connectionStateChanged, this,
            [this](models::RestClient::ConnectionState state, const QString &) {
                if (state == models::RestClient::ConnectionState::Connected)
                    refreshAll();
            });
}

Workspace::~Workspace() = default;

QList<models::ResourceTableModel *> Workspace::resourceModels() const
{
    return {m_functions, m_apis, m_images, m_baseImages, m_secrets, m_drivers, m_driverTypes, m_subscriptions};
}

void Workspace::setEndpoint(const models::Endpoint &endpoint)
{
    m_watch->stop();
    m_client->setEndpoint(endpoint);
    for (auto *m : resourceModels())
        m->setClient(m_client);
    m_runs->setClient(m_client);
    m_watch->start();
    emit endpointChanged();
}

const models::Endpoint &Workspace::endpoint() const
{
    return m_client->endpoint();
}

void Workspace::refreshAll()
{
    for (auto *m : resourceModels())
        m->refresh();
    // Runs reload only when they never loaded or failed: a reload resets the table (and the reader's selection);
    // the watch stream's reset event covers a server that restarted.
    if (!m_runs->isLoading() && (!m_runs->hasLoaded() || !m_runs->lastError().isEmpty()))
        m_runs->reload();
    if (m_watch->state() == models::WatchClient::State::Stopped
        || m_watch->state() == models::WatchClient::State::Waiting)
        m_watch->start();
}

QStringList Workspace::usersOfFunction(const QString &name) const
{
    QStringList out;
    for (int r = 0; r < m_apis->rowCount(); ++r)
        if (str(m_apis->objectAt(r), "function") == name)
            out << tr("API %1").arg(m_apis->nameAt(r));
    for (int r = 0; r < m_subscriptions->rowCount(); ++r)
        if (str(m_subscriptions->objectAt(r), "function") == name)
            out << tr("subscription %1").arg(m_subscriptions->nameAt(r));
    return out;
}

QStringList Workspace::usersOfImage(const QString &name) const
{
    QStringList out;
    for (int r = 0; r < m_functions->rowCount(); ++r)
        if (str(m_functions->objectAt(r), "image") == name)
            out << tr("function %1").arg(m_functions->nameAt(r));
    return out;
}

QStringList Workspace::usersOfBaseImage(const QString &name) const
{
    QStringList out;
    for (int r = 0; r < m_images->rowCount(); ++r)
        if (str(m_images->objectAt(r), "baseImageName") == name)
            out << tr("image %1").arg(m_images->nameAt(r));
    return out;
}

QStringList Workspace::usersOfSecret(const QString &name) const
{
    QStringList out;
    for (int r = 0; r < m_functions->rowCount(); ++r)
        if (listContains(m_functions->objectAt(r), "secrets", name))
            out << tr("function %1").arg(m_functions->nameAt(r));
    for (int r = 0; r < m_drivers->rowCount(); ++r)
        if (listContains(m_drivers->objectAt(r), "secrets", name))
            out << tr("driver %1").arg(m_drivers->nameAt(r));
    for (int r = 0; r < m_subscriptions->rowCount(); ++r)
        if (listContains(m_subscriptions->objectAt(r), "secrets", name))
            out << tr("subscription %1").arg(m_subscriptions->nameAt(r));
    return out;
}

QStringList Workspace::usersOfDriverType(const QString &name) const
{
    QStringList out;
    for (int r = 0; r < m_drivers->rowCount(); ++r)
        if (str(m_drivers->objectAt(r), "type") == name)
            out << tr("driver %1").arg(m_drivers->nameAt(r));
    return out;
}

void Workspace::setGatewayBase(const QString &url)
{
    if (url == m_gatewayBase)
        return;
    m_gatewayBase = url;
    emit gatewayBaseChanged();
}

void Workspace::setContextInfo(const QString &name, const QColor &color)
{
    m_contextName = name;
    m_contextColor = color;
    emit contextInfoChanged();
}

} // namespace dispatch::views
