// SPDX-License-Identifier: GPL-3.0-or-later
#include "oidclogin.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QTcpSocket>
#include <QUrlQuery>

namespace dispatch::models {

namespace {

QByteArray base64Url(const QByteArray &in)
{
    return in.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray randomBytes(int n)
{
    QByteArray out(n, Qt::Uninitialized);
    QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(out.data()),
                                         reinterpret_cast<quint32 *>(out.data()) + n / 4);
    return out;
}

QString randomToken()
{
    return QString::fromLatin1(base64Url(randomBytes(32)));
}

QJsonObject jwtPayload(const QString &jwt)
{
    const auto parts = jwt.split(QLatin1Char('.'));
    if (parts.size() != 3)
        return {};
    return QJsonDocument::fromJson(QByteArray::fromBase64(parts[1].toLatin1(), QByteArray::Base64UrlEncoding))
        .object();
}

// application/x-www-form-urlencoded (also used for the authorization URL's query): every value percent-encoded.
QByteArray form(const QList<QPair<QString, QString>> &items)
{
    QByteArray out;
    for (const auto &[k, v] : items) {
        if (!out.isEmpty())
            out += '&';
        out += QUrl::toPercentEncoding(k) + '=' + QUrl::toPercentEncoding(v);
    }
    return out;
}

void postForm(QNetworkAccessManager *network, const QUrl &url, const QByteArray &body, QObject *context,
              std::function<void(int status, QByteArray body, QString error)> done)
{
    QNetworkRequest req(url);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/x-www-form-urlencoded"));
    req.setRawHeader("Accept", "application/json");
    req.setTransferTimeout(30000);
    QNetworkReply *reply = network->post(req, body);
    QObject::connect(reply, &QNetworkReply::finished, context, [reply, done = std::move(done)] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        done(status, reply->readAll(), status == 0 ? reply->errorString() : QString());
    });
}

QString tokenError(int status, const QByteArray &body, const QString &networkError)
{
    if (status == 0)
        return QStringLiteral("the identity provider is not reachable: %1").arg(networkError);
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    const QString description = o.value(QStringLiteral("error_description")).toString();
    const QString code = o.value(QStringLiteral("error")).toString();
    return QStringLiteral("the identity provider refused (%1): %2")
        .arg(code.isEmpty() ? QString::number(status) : code, description.isEmpty() ? QStringLiteral("no reason given")
                                                                                     : description);
}

} // namespace

std::optional<LoginInfo> LoginInfo::fromJson(const QByteArray &json)
{
    const QJsonObject o = QJsonDocument::fromJson(json).object();
    if (!o.contains(QStringLiteral("authModes")))
        return std::nullopt;
    LoginInfo info;
    for (const auto &m : o.value(QStringLiteral("authModes")).toArray())
        info.authModes << m.toString();
    const QJsonObject oidc = o.value(QStringLiteral("oidc")).toObject();
    info.issuer = oidc.value(QStringLiteral("issuer")).toString();
    info.clientId = oidc.value(QStringLiteral("clientId")).toString();
    for (const auto &s : oidc.value(QStringLiteral("scopes")).toArray())
        info.scopes << s.toString();
    info.authorizationEndpoint = QUrl(oidc.value(QStringLiteral("authorizationEndpoint")).toString());
    info.tokenEndpoint = QUrl(oidc.value(QStringLiteral("tokenEndpoint")).toString());
    return info;
}

QByteArray TokenSet::toJson() const
{
    QJsonObject o{{QStringLiteral("accessToken"), accessToken},
                  {QStringLiteral("refreshToken"), refreshToken},
                  {QStringLiteral("idToken"), idToken},
                  {QStringLiteral("expiresAt"), expiresAt.toSecsSinceEpoch()},
                  {QStringLiteral("subject"), subject}};
    if (!cookie.isEmpty())
        o.insert(QStringLiteral("cookie"), cookie);
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

std::optional<TokenSet> TokenSet::fromJson(const QByteArray &json)
{
    const QJsonObject o = QJsonDocument::fromJson(json).object();
    if (o.isEmpty())
        return std::nullopt;
    TokenSet t;
    t.accessToken = o.value(QStringLiteral("accessToken")).toString();
    t.refreshToken = o.value(QStringLiteral("refreshToken")).toString();
    t.idToken = o.value(QStringLiteral("idToken")).toString();
    t.expiresAt = QDateTime::fromSecsSinceEpoch(o.value(QStringLiteral("expiresAt")).toInteger(), Qt::UTC);
    t.subject = o.value(QStringLiteral("subject")).toString();
    t.cookie = o.value(QStringLiteral("cookie")).toString();
    return t;
}

bool TokenSet::accessTokenValid(int marginSeconds) const
{
    return !accessToken.isEmpty() && expiresAt.isValid() &&
           QDateTime::currentDateTimeUtc().addSecs(marginSeconds) < expiresAt;
}

std::optional<TokenSet> parseTokenResponse(const QByteArray &json, const LoginInfo &info, const QString &nonce,
                                           QString *error)
{
    const QJsonObject o = QJsonDocument::fromJson(json).object();
    TokenSet t;
    t.accessToken = o.value(QStringLiteral("access_token")).toString();
    if (t.accessToken.isEmpty()) {
        *error = QStringLiteral("the identity provider's answer has no access token");
        return std::nullopt;
    }
    t.refreshToken = o.value(QStringLiteral("refresh_token")).toString();
    t.idToken = o.value(QStringLiteral("id_token")).toString();
    const int expiresIn = o.value(QStringLiteral("expires_in")).toInt(300);
    t.expiresAt = QDateTime::currentDateTimeUtc().addSecs(expiresIn);
    if (!t.idToken.isEmpty()) {
        // The ID token came straight from the token endpoint (OpenID Connect Core §3.1.3.7: the TLS connection
        // stands in for its signature); its nonce, issuer and audience still have to be ours.
        const QJsonObject id = jwtPayload(t.idToken);
        if (!nonce.isEmpty() && id.value(QStringLiteral("nonce")).toString() != nonce) {
            *error = QStringLiteral("the ID token's nonce does not match this login (a replayed answer?)");
            return std::nullopt;
        }
        const QString iss = id.value(QStringLiteral("iss")).toString();
        if (!info.issuer.isEmpty() && iss != info.issuer && iss != info.issuer + QLatin1Char('/')) {
            *error = QStringLiteral("the ID token was issued by %1, not by %2").arg(iss, info.issuer);
            return std::nullopt;
        }
        const QJsonValue aud = id.value(QStringLiteral("aud"));
        const bool audOk = aud.isString() ? aud.toString() == info.clientId
                                          : aud.toArray().contains(QJsonValue(info.clientId));
        if (!audOk) {
            *error = QStringLiteral("the ID token is not meant for this console (audience)");
            return std::nullopt;
        }
        t.subject = id.value(QStringLiteral("email")).toString();
        if (t.subject.isEmpty())
            t.subject = id.value(QStringLiteral("sub")).toString();
    }
    return t;
}

OidcLogin::OidcLogin(LoginInfo info, QNetworkAccessManager *network, QObject *parent)
    : QObject(parent), m_info(std::move(info)), m_network(network)
{
    connect(&m_server, &QTcpServer::newConnection, this, &OidcLogin::onConnection);
    m_timeout.setSingleShot(true);
    m_timeout.setInterval(5 * 60 * 1000);
    connect(&m_timeout, &QTimer::timeout, this,
            [this] { fail(QStringLiteral("the login timed out: the browser did not come back")); });
}

OidcLogin::~OidcLogin() = default;

QUrl OidcLogin::start(QString *error)
{
    if (!m_info.hasOidc()) {
        if (error)
            *error = QStringLiteral("this server does not offer an OpenID login");
        return {};
    }
    // RFC 8252 §7.3 and §8.3: the loopback IP literal, never "localhost", and never another interface.
    if (!m_server.listen(QHostAddress::LocalHost, 0)) {
        if (error)
            *error = QStringLiteral("cannot listen on 127.0.0.1: %1").arg(m_server.errorString());
        return {};
    }
    // Kept: the listener closes once the answer came, the token request repeats the same URI.
    m_redirectUri = QUrl(QStringLiteral("http://127.0.0.1:%1/callback").arg(m_server.serverPort()));
    m_verifier = base64Url(randomBytes(32)); // 43 characters of [A-Za-z0-9-_] (RFC 7636 §4.1)
    m_state = randomToken();
    m_nonce = randomToken();
    m_done = false;
    QList<QPair<QString, QString>> items = {
        {QStringLiteral("response_type"), QStringLiteral("code")},
        {QStringLiteral("client_id"), m_info.clientId},
        {QStringLiteral("redirect_uri"), redirectUri().toString()},
        {QStringLiteral("scope"),
         m_info.scopes.isEmpty() ? QStringLiteral("openid email") : m_info.scopes.join(QLatin1Char(' '))},
        {QStringLiteral("code_challenge"),
         QString::fromLatin1(base64Url(QCryptographicHash::hash(m_verifier, QCryptographicHash::Sha256)))},
        {QStringLiteral("code_challenge_method"), QStringLiteral("S256")},
        {QStringLiteral("state"), m_state},
        {QStringLiteral("nonce"), m_nonce}};
    if (m_info.scopes.contains(QStringLiteral("offline_access")))
        items.append({QStringLiteral("prompt"), QStringLiteral("consent")}); // OpenID Core §11: offline_access
    QUrl url = m_info.authorizationEndpoint;
    QByteArray query = url.query(QUrl::FullyEncoded).toLatin1();
    if (!query.isEmpty())
        query += '&';
    url.setQuery(QString::fromLatin1(query + form(items)), QUrl::StrictMode);
    m_timeout.start();
    return url;
}

QUrl OidcLogin::redirectUri() const
{
    return m_redirectUri;
}

void OidcLogin::cancel()
{
    m_done = true;
    m_timeout.stop();
    m_server.close();
}

void OidcLogin::fail(const QString &message)
{
    if (m_done)
        return;
    cancel();
    emit failed(message);
}

void OidcLogin::onConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        auto buffer = std::make_shared<QByteArray>();
        connect(socket, &QTcpSocket::readyRead, this, [this, socket, buffer] {
            buffer->append(socket->readAll());
            if (buffer->size() > 16384) {
                socket->abort();
                return;
            }
            const int end = buffer->indexOf("\r\n\r\n");
            if (end < 0)
                return;
            const QList<QByteArray> line = buffer->left(buffer->indexOf("\r\n")).split(' ');
            socket->disconnect(this);
            if (line.size() != 3 || line[0] != "GET")
                return answer(socket, 405, QStringLiteral("Not here"), QStringLiteral("Only the login comes here."));
            onCallback(socket, line[1]);
        });
    }
}

void OidcLogin::answer(QTcpSocket *socket, int status, const QString &title, const QString &text)
{
    const QByteArray html = QStringLiteral("<!doctype html><html><head><meta charset=\"utf-8\"><title>%1</title>"
                                           "</head><body style=\"font-family:sans-serif;margin:3em\"><h2>%1</h2>"
                                           "<p>%2</p></body></html>")
                                .arg(title.toHtmlEscaped(), text.toHtmlEscaped())
                                .toUtf8();
    QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + (status == 200 ? " OK" : " Error") +
                      "\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\nConnection: close"
                      "\r\nContent-Length: " +
                      QByteArray::number(html.size()) + "\r\n\r\n";
    socket->write(head + html);
    socket->disconnectFromHost();
}

void OidcLogin::onCallback(QTcpSocket *socket, const QByteArray &target)
{
    const QUrl url(QString::fromLatin1(target));
    if (url.path() != QStringLiteral("/callback") || m_done)
        return answer(socket, 404, QStringLiteral("Not found"), QStringLiteral("This is not a login in progress."));
    const QUrlQuery q(url);
    if (q.queryItemValue(QStringLiteral("state"), QUrl::FullyDecoded) != m_state) {
        // Not the answer to our request (RFC 6749 §10.12): refuse it and keep waiting for the real one.
        return answer(socket, 400, QStringLiteral("Login refused"),
                      QStringLiteral("This answer does not belong to the login the console started."));
    }
    if (q.hasQueryItem(QStringLiteral("error"))) {
        const QString why = q.queryItemValue(QStringLiteral("error_description"), QUrl::FullyDecoded);
        const QString code = q.queryItemValue(QStringLiteral("error"), QUrl::FullyDecoded);
        answer(socket, 400, QStringLiteral("Login failed"), why.isEmpty() ? code : why);
        return fail(QStringLiteral("the identity provider refused the login (%1)%2")
                        .arg(code, why.isEmpty() ? QString() : QStringLiteral(": ") + why));
    }
    const QString code = q.queryItemValue(QStringLiteral("code"), QUrl::FullyDecoded);
    if (code.isEmpty()) {
        answer(socket, 400, QStringLiteral("Login failed"), QStringLiteral("The answer has no code."));
        return fail(QStringLiteral("the identity provider's answer has no authorization code"));
    }
    answer(socket, 200, QStringLiteral("Logged in"),
           QStringLiteral("You can close this tab and go back to Dispatch Console."));
    m_server.close(); // one answer per login
    exchange(code);
}

void OidcLogin::exchange(const QString &code)
{
    if (!m_network)
        return fail(QStringLiteral("the console is shutting down"));
    const QByteArray body = form({{QStringLiteral("grant_type"), QStringLiteral("authorization_code")},
                                  {QStringLiteral("code"), code},
                                  {QStringLiteral("redirect_uri"), redirectUri().toString()},
                                  {QStringLiteral("client_id"), m_info.clientId},
                                  {QStringLiteral("code_verifier"), QString::fromLatin1(m_verifier)}});
    postForm(m_network, m_info.tokenEndpoint, body, this, [this](int status, QByteArray reply, QString networkError) {
        if (status != 200)
            return fail(tokenError(status, reply, networkError));
        QString error;
        auto tokens = parseTokenResponse(reply, m_info, m_nonce, &error);
        if (!tokens)
            return fail(error);
        m_done = true;
        m_timeout.stop();
        emit succeeded(*tokens);
    });
}

void OidcLogin::refresh(const LoginInfo &info, const QString &refreshToken, QNetworkAccessManager *network,
                        QObject *context, std::function<void(std::optional<TokenSet>, QString)> done)
{
    const QByteArray body = form({{QStringLiteral("grant_type"), QStringLiteral("refresh_token")},
                                  {QStringLiteral("refresh_token"), refreshToken},
                                  {QStringLiteral("client_id"), info.clientId}});
    postForm(network, info.tokenEndpoint, body, context,
             [info, refreshToken, done = std::move(done)](int status, QByteArray reply, QString networkError) {
                 if (status != 200)
                     return done(std::nullopt, tokenError(status, reply, networkError));
                 QString error;
                 auto tokens = parseTokenResponse(reply, info, QString(), &error);
                 if (tokens && tokens->refreshToken.isEmpty())
                     tokens->refreshToken = refreshToken; // the provider kept the old one
                 done(tokens, error);
             });
}

} // namespace dispatch::models
