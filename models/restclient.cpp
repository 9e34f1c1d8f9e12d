// SPDX-License-Identifier: GPL-3.0-or-later
#include "restclient.h"

#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSslConfiguration>
#include <QSslError>
#include <QUrlQuery>

#include <algorithm>

namespace dispatch::models {

namespace {

constexpr std::chrono::milliseconds kProbeTimeout{5000};
constexpr std::chrono::milliseconds kFirstBackoff{1000};
constexpr std::chrono::milliseconds kMaxBackoff{30000};
constexpr std::chrono::milliseconds kConnectedProbeInterval{30000};
constexpr const char *kTimedOutProperty = "dispatchTimedOut";
constexpr const char *kSslErrorsProperty = "dispatchSslErrors";

QString withStatus(QString message, int status)
{
    message = message.trimmed();
    while (message.endsWith(QLatin1Char('.')))
        message.chop(1);
    return QStringLiteral("%1 (%2)").arg(message).arg(status);
}

} // namespace

RestClient::RestClient(QObject *parent) : RestClient(Endpoint{}, parent) {}

RestClient::RestClient(const Endpoint &endpoint, QObject *parent)
    : QObject(parent), m_nam(new QNetworkAccessManager(this))
{
    m_nam->setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
    m_probeTimer.setSingleShot(true);
    connect(&m_probeTimer, &QTimer::timeout, this, &RestClient::probeNow);
    setEndpoint(endpoint);
}

RestClient::~RestClient() = default;

void RestClient::setEndpoint(const Endpoint &endpoint)
{
    const bool changed = !(endpoint == m_endpoint) || m_generation == 0;
    if (!changed)
        return; // the same server: keep the state, the models and the watch stream as they are
    m_endpoint = endpoint;
    ++m_generation;
    m_caCertificates.clear();
    m_caError.clear();
    if (!m_endpoint.caFile.isEmpty()) {
        QFile f(m_endpoint.caFile);
        if (!f.open(QIODevice::ReadOnly))
            m_caError = QStringLiteral("Cannot read the CA file %1: %2").arg(m_endpoint.caFile, f.errorString());
        else
            m_caCertificates = QSslCertificate::fromData(f.readAll(), QSsl::Pem);
        if (m_caError.isEmpty() && m_caCertificates.isEmpty())
            m_caError = QStringLiteral("The CA file %1 holds no PEM certificate").arg(m_endpoint.caFile);
    }
    m_backoff = std::chrono::milliseconds(0);
    m_probing = false;
    m_probeTimer.stop();
    if (m_kind != ServerKind::Unknown) {
        m_kind = ServerKind::Unknown;
        emit serverKindChanged(m_kind);
    }
    m_serverVersion.clear();
    setState(ConnectionState::Unknown, {});
    emit endpointChanged();
    if (m_monitoring && m_endpoint.isValid())
        probeNow();
}

QNetworkRequest RestClient::makeRequest(const QString &path) const
{
    QString base = m_endpoint.baseUrl.toString(QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment);
    QString p = path;
    if (!p.startsWith(QLatin1Char('/')))
        p.prepend(QLatin1Char('/'));
    QNetworkRequest request(QUrl(base + p, QUrl::TolerantMode));
    request.setRawHeader("X-Dispatch-Org", m_endpoint.organization.toUtf8());
    if (!m_endpoint.bearerToken.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + m_endpoint.bearerToken.toUtf8());
    else
        request.setRawHeader("Cookie", m_endpoint.cookie.isEmpty() ? QByteArray("unset") : m_endpoint.cookie.toUtf8());
    request.setRawHeader("Accept", "application/json");
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    applyTls(request);
    return request;
}

void RestClient::applyTls(QNetworkRequest &request) const
{
    if (request.url().scheme() != QLatin1String("https"))
        return;
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    if (m_endpoint.insecure)
        tls.setPeerVerifyMode(QSslSocket::VerifyNone);
    if (!m_caCertificates.isEmpty())
        tls.addCaCertificates(m_caCertificates);
    request.setSslConfiguration(tls);
}

void RestClient::get(const QString &path, QObject *context, Callback callback, RequestOptions options)
{
    send("GET", path, {}, context, std::move(callback), std::move(options));
}

void RestClient::post(const QString &path, const Json &body, QObject *context, Callback callback,
                      RequestOptions options)
{
    send("POST", path, QByteArray::fromStdString(body.dump(-1, ' ', false, Json::error_handler_t::replace)), context,
         std::move(callback), std::move(options));
}

void RestClient::put(const QString &path, const Json &body, QObject *context, Callback callback,
                     RequestOptions options)
{
    send("PUT", path, QByteArray::fromStdString(body.dump(-1, ' ', false, Json::error_handler_t::replace)), context,
         std::move(callback), std::move(options));
}

void RestClient::del(const QString &path, QObject *context, Callback callback, RequestOptions options)
{
    send("DELETE", path, {}, context, std::move(callback), std::move(options));
}

void RestClient::runFunction(const QString &functionName, const Json &input, bool blocking, QObject *context,
                             Callback callback, const Json &extra)
{
    Json body = extra.is_object() ? extra : Json::object();
    body["blocking"] = blocking;
    if (!input.is_null())
        body["input"] = input;
    if (!body.contains("secrets"))
        body["secrets"] = Json::array();
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("functionName"), functionName);
    RequestOptions options;
    if (blocking)
        options.timeout = kBlockingRunTimeout;
    post(QStringLiteral("/v1/runs?") + q.toString(QUrl::FullyEncoded), body, context, std::move(callback), options);
}

void RestClient::send(const QByteArray &method, const QString &path, const QByteArray &body, QObject *context,
                      Callback callback, RequestOptions options)
{
    const bool hasContext = context != nullptr;
    QPointer<QObject> guard(context);
    if (!m_endpoint.isValid() || !m_caError.isEmpty()) {
        // Answer asynchronously, like a real request, so callers never see a callback inside their call.
        ApiResult r;
        r.networkFailure = true;
        r.errorMessage = !m_caError.isEmpty() ? m_caError + QLatin1Char('.')
                                              : QStringLiteral("No server address is set for this context.");
        QTimer::singleShot(0, this, [guard, hasContext, callback = std::move(callback), r] {
            if (callback && (!hasContext || guard))
                callback(r);
        });
        return;
    }
    QNetworkRequest request = makeRequest(path);
    if (!body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    for (const auto &[name, value] : options.headers)
        request.setRawHeader(name, value);
    QNetworkReply *reply = m_nam->sendCustomRequest(request, method, body);
    const auto timeout = options.timeout.count() > 0 ? options.timeout : m_defaultTimeout;
    auto *timer = new QTimer(reply);
    timer->setSingleShot(true);
    connect(timer, &QTimer::timeout, reply, [reply] {
        reply->setProperty(kTimedOutProperty, true);
        reply->abort();
    });
    timer->start(timeout);
    connect(reply, &QNetworkReply::sslErrors, reply, [reply](const QList<QSslError> &errors) {
        QStringList reasons;
        for (const auto &e : errors)
            reasons << e.errorString();
        reply->setProperty(kSslErrorsProperty, reasons);
    });
    // The caller is gone: nobody wants the answer any more. `destroyed` comes from ~QWidget/~QObject while the
    // guard still points at the half-destroyed object, and the abort finishes the reply synchronously, so the
    // flag (not the guard) is what keeps the callback from running on it.
    auto cancelled = std::make_shared<bool>(false);
    if (context)
        connect(context, &QObject::destroyed, reply, [reply, cancelled] {
            *cancelled = true;
            reply->abort();
        });
    const quint64 generation = m_generation;
    connect(reply, &QNetworkReply::finished, this,
            [this, reply, guard, hasContext, cancelled, generation, path, callback = std::move(callback)] {
                reply->deleteLater();
                const ApiResult result = resultFrom(reply, m_endpoint, reply->property(kTimedOutProperty).toBool());
                if (generation == m_generation)
                    noteOutcome(result);
                if (generation == m_generation && result.status == 401)
                    emit unauthorized();
                const bool wanted = !*cancelled && (!hasContext || guard);
                if (result.networkFailure && wanted)
                    emit requestFailed(path, result.errorMessage);
                if (callback && wanted)
                    callback(result);
            });
}

ApiResult RestClient::resultFrom(QNetworkReply *reply, const Endpoint &endpoint, bool timedOut)
{
    ApiResult r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (reply->isOpen()) // an aborted reply (timeout, cancel) is closed
        r.body = reply->readAll();
    if (!r.body.isEmpty())
        r.json = Json::parse(r.body.constBegin(), r.body.constEnd(), nullptr, false);
    if (r.json.is_discarded())
        r.json = Json();
    if (r.status == 0) {
        r.networkFailure = true;
        r.timedOut = timedOut;
        QString qtMessage = reply->errorString();
        const QStringList ssl = reply->property(kSslErrorsProperty).toStringList();
        if (!ssl.isEmpty())
            qtMessage = ssl.join(QStringLiteral("; "));
        r.errorMessage = networkErrorMessage(reply->error(), qtMessage, endpoint, timedOut);
        return r;
    }
    if (r.status >= 200 && r.status < 300)
        return r;
    QString message;
    if (r.json.is_object()) {
        auto it = r.json.find("message");
        if (it != r.json.end() && it->is_string())
            message = QString::fromStdString(it->get<std::string>());
    }
    if (message.isEmpty()) {
        const QString phrase = reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString();
        if (r.status == 401 || r.status == 403)
            message = QStringLiteral("%1 refused the credentials of this context; sign in again")
                          .arg(endpoint.hostAndPort());
        else if (r.status >= 300 && r.status < 400)
            message = QStringLiteral("%1 redirected the request (%2); check the scheme and port of this context")
                          .arg(endpoint.hostAndPort(),
                               reply->attribute(QNetworkRequest::RedirectionTargetAttribute).toUrl().toString());
        else
            message = QStringLiteral("%1 answered %2").arg(endpoint.hostAndPort(),
                                                             phrase.isEmpty() ? QStringLiteral("an error") : phrase);
    }
    r.errorMessage = withStatus(message, r.status);
    return r;
}

QString RestClient::networkErrorMessage(int networkError, const QString &qtMessage, const Endpoint &endpoint,
                                        bool timedOut)
{
    const QString where = endpoint.hostAndPort();
    if (timedOut)
        return QStringLiteral("No answer from %1 in time. The server may be busy or the network down; try again.")
            .arg(where);
    switch (static_cast<QNetworkReply::NetworkError>(networkError)) {
    case QNetworkReply::ConnectionRefusedError:
        return QStringLiteral("Cannot reach %1: connection refused. Is the server running?").arg(where);
    case QNetworkReply::HostNotFoundError:
        return QStringLiteral("Cannot reach %1: host %2 not found. Check the host name of this context.")
            .arg(where, endpoint.baseUrl.host());
    case QNetworkReply::TimeoutError:
        return QStringLiteral("Cannot reach %1: the connection timed out. Check the address and the network.")
            .arg(where);
    case QNetworkReply::RemoteHostClosedError:
        return QStringLiteral("Cannot reach %1: the server closed the connection. Is the scheme (http or https) "
                              "right?")
            .arg(where);
    case QNetworkReply::SslHandshakeFailedError:
        return QStringLiteral("TLS error with %1: %2. Set a CA file for this context or allow insecure "
                              "connections if you trust it.")
            .arg(where, qtMessage);
    case QNetworkReply::OperationCanceledError:
        return QStringLiteral("The request to %1 was cancelled.").arg(where);
    case QNetworkReply::NetworkSessionFailedError:
    case QNetworkReply::TemporaryNetworkFailureError:
        return QStringLiteral("Cannot reach %1: the network is down.").arg(where);
    default:
        return QStringLiteral("Cannot reach %1: %2.").arg(where, qtMessage);
    }
}

void RestClient::noteOutcome(const ApiResult &result)
{
    if (!result.networkFailure) {
        if (m_state != ConnectionState::Connected) {
            setState(ConnectionState::Connected, {});
            if (m_monitoring)
                probeNow(); // learn the server kind and version
        }
        return;
    }
    // A slow answer says nothing about reachability, and a cancel is ours.
    if (result.timedOut || result.errorMessage.startsWith(QStringLiteral("The request to")))
        return;
    if (m_state != ConnectionState::Unreachable) {
        setState(ConnectionState::Unreachable, result.errorMessage);
        m_backoff = std::chrono::milliseconds(0);
        if (m_monitoring)
            scheduleProbe(kFirstBackoff);
    }
}

void RestClient::setState(ConnectionState state, const QString &message)
{
    if (m_state == state && m_stateMessage == message)
        return;
    m_state = state;
    m_stateMessage = message;
    emit connectionStateChanged(state, message);
}

void RestClient::setMonitoring(bool on)
{
    if (m_monitoring == on)
        return;
    m_monitoring = on;
    if (!on)
        m_probeTimer.stop();
    else if (m_endpoint.isValid())
        probeNow();
}

void RestClient::scheduleProbe(std::chrono::milliseconds delay)
{
    if (!m_monitoring)
        return;
    m_probeTimer.start(delay);
}

void RestClient::probeNow()
{
    if (!m_endpoint.isValid() || m_probing)
        return;
    m_probeTimer.stop();
    m_probing = true;
    const quint64 generation = m_generation;
    RequestOptions options;
    options.timeout = kProbeTimeout;
    get(QStringLiteral("/healthz"), this, [this, generation](const ApiResult &r) {
        if (generation != m_generation)
            return;
        m_probing = false;
        if (r.status != 0) { // any HTTP answer: something listens there
            setState(ConnectionState::Connected, {});
            m_backoff = std::chrono::milliseconds(0);
            if (r.ok())
                detectServerKind(r.json);
            scheduleProbe(kConnectedProbeInterval);
            return;
        }
        setState(ConnectionState::Unreachable, r.errorMessage);
        m_backoff = m_backoff.count() == 0 ? kFirstBackoff : std::min(m_backoff * 2, kMaxBackoff);
        scheduleProbe(m_backoff);
    }, options);
}

void RestClient::detectServerKind(const Json &healthz)
{
    const Json version = healthz.is_object() ? healthz.value("version", Json()) : Json();
    auto str = [&](const char *key) {
        if (!version.is_object())
            return QString();
        auto it = version.find(key);
        return it != version.end() && it->is_string() ? QString::fromStdString(it->get<std::string>()) : QString();
    };
    m_serverVersion = str("version");
    // Ours reports the C++ compiler and no Go version; Dispatch (Solo, v0.1.x) reports "gc" and its Go version.
    const QString compiler = str("compiler");
    const bool ours = version.is_object() && str("goVersion").isEmpty() && !compiler.isEmpty() &&
                      compiler != QLatin1String("gc");
    auto decide = [this](ServerKind kind) {
        if (m_kind == kind)
            return;
        m_kind = kind;
        emit serverKindChanged(kind);
    };
    if (ours || m_kind != ServerKind::Unknown) {
        if (ours)
            decide(ServerKind::Ours);
        return;
    }
    // Not conclusive: ours answers GET /v1/version and has /v1/watch (which refuses anything but GET with 405;
    // elsewhere "watch" is an unknown service: 404).
    const quint64 generation = m_generation;
    get(QStringLiteral("/v1/version"), this, [this, generation, decide](const ApiResult &v) {
        if (generation != m_generation || v.networkFailure)
            return;
        if (!v.ok())
            return decide(ServerKind::PlainDispatch);
        send("OPTIONS", QStringLiteral("/v1/watch"), {}, this, [this, generation, decide](const ApiResult &w) {
            if (generation != m_generation || w.networkFailure)
                return;
            decide(w.status == 405 || w.ok() ? ServerKind::Ours : ServerKind::PlainDispatch);
        });
    });
}

} // namespace dispatch::models
