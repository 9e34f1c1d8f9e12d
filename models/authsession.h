// The tokens of one logged-in context and their upkeep: the access token is refreshed a minute before it expires
// and after the server answered 401; a failed refresh asks once to log in again (loginRequired), and nothing
// more happens until new tokens arrive (never a loop of browser tabs).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QObject>
#include <QPointer>
#include <QTimer>

#include <QNetworkAccessManager>

#include "oidclogin.h"


namespace dispatch::models {

class AuthSession : public QObject
{
    Q_OBJECT

public:
    AuthSession(LoginInfo info, QNetworkAccessManager *network, QObject *parent = nullptr);

    void setTokens(const TokenSet &tokens); // after a login or when read from the keychain
    void clear();                           // log out
    TokenSet tokens() const { return m_tokens; }
    bool isLoggedIn() const { return !m_tokens.accessToken.isEmpty() && !m_loginRequired; }
    bool isRefreshing() const { return m_refreshing; }
    int refreshMarginSeconds() const { return m_margin; }
    void setRefreshMarginSeconds(int seconds); // default 60

    // The server refused the access token: refresh now (several 401s in a row start one refresh).
    void unauthorized();
    void refreshNow();

signals:
    void tokensChanged(const dispatch::models::TokenSet &tokens); // store them, send the new access token
    void loginRequired(const QString &reason);                      // once per failed session

private:
    void schedule();

    LoginInfo m_info;
    QPointer<QNetworkAccessManager> m_network;
    TokenSet m_tokens;
    QTimer m_timer;
    int m_margin = 60;
    bool m_refreshing = false;
    bool m_loginRequired = false;
};

} // namespace dispatch::models
