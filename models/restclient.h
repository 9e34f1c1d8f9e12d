// Asynchronous client of the Dispatch REST API (and of our server's extensions) on QNetworkAccessManager.
// Never blocks. Every callback is tied to a context object: it is not called once that object is gone.
// It also watches whether the server is reachable (/healthz, with reconnect backoff) and whether it is ours.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>
#include <QNetworkRequest>
#include <QObject>
#include <QPair>
#include <QPointer>
#include <QString>
#include <QSslCertificate>
#include <QTimer>

#include <chrono>
#include <functional>

#include <nlohmann/json.hpp>

#include "apiresult.h"
#include "endpoint.h"

class QNetworkAccessManager;
class QNetworkReply;

namespace dispatch::models {

struct RequestOptions
{
    std::chrono::milliseconds timeout{0};        // 0 = RestClient::defaultTimeout()
    QList<QPair<QByteArray, QByteArray>> headers; // extra headers
};

class RestClient : public QObject
{
    Q_OBJECT
    Q_PROPERTY(ConnectionState connectionState READ connectionState NOTIFY connectionStateChanged)
    Q_PROPERTY(ServerKind serverKind READ serverKind NOTIFY serverKindChanged)

public:
    enum class ConnectionState { Unknown, Connected, Unreachable };
    Q_ENUM(ConnectionState)
    // Ours: our dispatch-server (runs paging, /v1/watch, revisions, sources). PlainDispatch: any other Dispatch.
    enum class ServerKind { Unknown, Ours, PlainDispatch };
    Q_ENUM(ServerKind)

    using Callback = std::function<void(const ApiResult &)>;
    using Headers = QList<QPair<QByteArray, QByteArray>>;

    static constexpr std::chrono::milliseconds kDefaultTimeout{15000};
    static constexpr std::chrono::milliseconds kBlockingRunTimeout{10 * 60 * 1000};

    using RequestOptions = dispatch::models::RequestOptions;

    explicit RestClient(QObject *parent = nullptr);
    explicit RestClient(const Endpoint &endpoint, QObject *parent = nullptr);
    ~RestClient() override;

    // A new endpoint cancels nothing in flight (answers still arrive), resets the state to Unknown and probes.
    void setEndpoint(const Endpoint &endpoint);
    const Endpoint &endpoint() const { return m_endpoint; }
    QUrl baseUrl() const { return m_endpoint.baseUrl; }

    void setDefaultTimeout(std::chrono::milliseconds timeout) { m_defaultTimeout = timeout; }
    std::chrono::milliseconds defaultTimeout() const { return m_defaultTimeout; }

    // `path` is relative to the base URL and may carry a query: "/v1/runs?functionName=hello".
    // `callback` runs on this thread only while `context` is alive (pass the panel, dialog or model).
    void get(const QString &path, QObject *context, Callback callback, RequestOptions options = {});
    void post(const QString &path, const Json &body, QObject *context, Callback callback,
              RequestOptions options = {});
    void put(const QString &path, const Json &body, QObject *context, Callback callback, RequestOptions options = {});
    void del(const QString &path, QObject *context, Callback callback, RequestOptions options = {});
    // Any method with a raw body (sent as application/json when not empty).
    void send(const QByteArray &method, const QString &path, const QByteArray &body, QObject *context,
              Callback callback, RequestOptions options = {});

    // POST /v1/runs?functionName=<name>: blocking runs get the 10 min timeout.
    void runFunction(const QString &functionName, const Json &input, bool blocking, QObject *context,
                     Callback callback, const Json &extra = Json::object());

    // A request with the endpoint's URL, headers and TLS settings (for streams such as WatchClient).
    QNetworkRequest makeRequest(const QString &path) const;
    QNetworkAccessManager *networkAccessManager() const { return m_nam; }

    ConnectionState connectionState() const { return m_state; }
    bool isConnected() const { return m_state == ConnectionState::Connected; }
    QString connectionMessage() const { return m_stateMessage; } // why it is unreachable, "" otherwise
    ServerKind serverKind() const { return m_kind; }
    bool isOurServer() const { return m_kind == ServerKind::Ours; }
    QString serverVersion() const { return m_serverVersion; } // from /healthz

    // Health monitoring: probes now and keeps probing (backoff 1 s → 30 s while unreachable, every 30 s while
    // connected). On by default; off leaves the state to what requests observe.
    void setMonitoring(bool on);
    bool isMonitoring() const { return m_monitoring; }
    void probeNow();

    // Turns a reply into an ApiResult with a readable message. Public for WatchClient and tests.
    static ApiResult resultFrom(QNetworkReply *reply, const Endpoint &endpoint, bool timedOut);
    // "Cannot reach host:port: <reason>. Is the server running?" and friends.
    static QString networkErrorMessage(int networkError, const QString &qtMessage, const Endpoint &endpoint,
                                       bool timedOut);

signals:
    void connectionStateChanged(dispatch::models::RestClient::ConnectionState state, const QString &message);
    void serverKindChanged(dispatch::models::RestClient::ServerKind kind);
    void endpointChanged();
    // Every request that failed for lack of an answer (for a status bar); `message` is the readable sentence.
    void requestFailed(const QString &path, const QString &message);
    // The server refused this endpoint's credentials (401): renew the token, or ask to log in.
    void unauthorized();

private:
    void applyTls(QNetworkRequest &request) const;
    void noteOutcome(const ApiResult &result);
    void setState(ConnectionState state, const QString &message);
    void scheduleProbe(std::chrono::milliseconds delay);
    void detectServerKind(const Json &healthz);

    QNetworkAccessManager *m_nam = nullptr;
    Endpoint m_endpoint;
    quint64 m_generation = 0; // bumped by setEndpoint: stale probe answers are ignored
    std::chrono::milliseconds m_defaultTimeout = kDefaultTimeout;
    ConnectionState m_state = ConnectionState::Unknown;
    QString m_stateMessage;
    ServerKind m_kind = ServerKind::Unknown;
    QString m_serverVersion;
    bool m_monitoring = true;
    bool m_probing = false;
    std::chrono::milliseconds m_backoff{0};
    QTimer m_probeTimer;
    QList<QSslCertificate> m_caCertificates; // from caFile, loaded by setEndpoint
    QString m_caError;                        // why caFile could not be used
};

} // namespace dispatch::models
