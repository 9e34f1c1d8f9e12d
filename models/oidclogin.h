// Logging in to a Dispatch server that uses an OpenID provider (RFC 8252, native apps): the authorization code
// flow with PKCE (S256), `state` and `nonce` checked, the redirect received on a loopback listener bound to
// 127.0.0.1 only on a random port. Qt 6.4's NetworkAuth has neither PKCE nor a loopback-only reply handler,
// so this is done here with QTcpServer and QNetworkAccessManager.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDateTime>
#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QTcpServer>
#include <QTimer>
#include <QUrl>

#include <functional>
#include <optional>

#include <QNetworkAccessManager>
class QTcpSocket;

namespace dispatch::models {

// What GET /v1/iam/login-info of our server says (backend/README.md, "Identity").
struct LoginInfo
{
    QStringList authModes; // "none", "oidc", "serviceaccount"
    QString issuer;
    QString clientId;
    QStringList scopes;
    QUrl authorizationEndpoint;
    QUrl tokenEndpoint;
    static std::optional<LoginInfo> fromJson(const QByteArray &json);
    bool hasOidc() const { return authModes.contains(QStringLiteral("oidc")) && authorizationEndpoint.isValid(); }
};

// Tokens of one login. `subject` is the ID token's email (else its sub), for "logged in as".
struct TokenSet
{
    QString accessToken;
    QString refreshToken;
    QString idToken;
    QDateTime expiresAt; // of the access token (UTC)
    QString subject;
    QString cookie; // a Dispatch CLI cookie the user moved out of config.json
    QByteArray toJson() const; // for the keychain
    static std::optional<TokenSet> fromJson(const QByteArray &json);
    bool accessTokenValid(int marginSeconds = 60) const;
};

class OidcLogin : public QObject
{
    Q_OBJECT

public:
    OidcLogin(LoginInfo info, QNetworkAccessManager *network, QObject *parent = nullptr);
    ~OidcLogin() override;

    // Listens on 127.0.0.1:<random> and returns the authorization URL to open in the system browser
    // (invalid, with `error` set, when the listener cannot start).
    QUrl start(QString *error = nullptr);
    QUrl redirectUri() const;
    QHostAddress listenAddress() const { return m_server.serverAddress(); }
    void cancel(); // stops listening; no signal
    // How long the browser may take (default 5 minutes), then failed("...timed out").
    void setTimeout(int ms) { m_timeout.setInterval(ms); }

    // grant_type=refresh_token; `done` runs in `context`'s thread, not at all if it is gone.
    static void refresh(const LoginInfo &info, const QString &refreshToken, QNetworkAccessManager *network,
                        QObject *context, std::function<void(std::optional<TokenSet>, QString error)> done);

signals:
    void succeeded(const dispatch::models::TokenSet &tokens);
    void failed(const QString &message);

private:
    void onConnection();
    void onCallback(QTcpSocket *socket, const QByteArray &target);
    void exchange(const QString &code);
    void fail(const QString &message);
    static void answer(QTcpSocket *socket, int status, const QString &title, const QString &text);

    LoginInfo m_info;
    QPointer<QNetworkAccessManager> m_network;
    QTcpServer m_server;
    QTimer m_timeout;
    QUrl m_redirectUri;
    QByteArray m_verifier;
    QString m_state;
    QString m_nonce;
    bool m_done = false;
};

// Parses the token endpoint's JSON answer (and, when `nonce` is given, checks the ID token's nonce, issuer and
// audience). Exposed for tests.
std::optional<TokenSet> parseTokenResponse(const QByteArray &json, const LoginInfo &info, const QString &nonce,
                                           QString *error);

} // namespace dispatch::models

Q_DECLARE_METATYPE(dispatch::models::TokenSet)
