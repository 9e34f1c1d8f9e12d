// Who is logged in to the current context, and the way to log in or out: "Log in" opens the system browser on
// the identity provider (models::OidcLogin), "Service account…" signs short-lived tokens with a private key
// file, "Log out" clears the context's keychain entry. Tokens live only in the OS keychain (models::TokenStore)
// and are renewed by models::AuthSession; a failed renewal shows "Session ended" once and waits for the user.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QLabel>
#include <QNetworkAccessManager>
#include <QPointer>
#include <QTimer>
#include <QToolButton>
#include <QUrl>
#include <QWidget>

#include <functional>
#include <memory>

#include "authsession.h"
#include "oidclogin.h"
#include "tokenstore.h"

namespace dispatch::views {

class AccountWidget : public QWidget
{
    Q_OBJECT

public:
    enum class State { Unknown, NotNeeded, LoggedOut, LoggingIn, LoggedIn, SessionEnded };
    Q_ENUM(State)

    explicit AccountWidget(QWidget *parent = nullptr);
    ~AccountWidget() override;

    // The context whose identity is shown; `apiBase` is scheme://host:port of its server.
    void setContext(const QString &name, const QUrl &apiBase);
    QString context() const { return m_context; }
    QString bearerToken() const { return m_bearer; }
    QString cookie() const { return m_cookie; } // the context's cookie kept in the keychain (empty: none)
    State state() const { return m_state; }
    QString subject() const { return m_subject; }
    QString statusText() const { return m_label->text(); }
    QToolButton *button() const { return m_button; }

    // How the authorization URL is opened (default: QDesktopServices::openUrl). Tests play the browser.
    void setBrowserOpener(std::function<void(const QUrl &)> opener) { m_openBrowser = std::move(opener); }
    // The keychain service name (tests use their own).
    void setKeychainService(const QString &service);

public slots:
    void logIn();
    void logOut();
    // Signs tokens for `account` of the context's org with the PEM private key in `keyFile`; false + error.
    bool logInWithServiceAccount(const QString &org, const QString &account, const QString &keyFile,
                                 QString *error = nullptr);
    void chooseServiceAccount(); // asks for the account and the key file
    void unauthorized();         // the server answered 401: renew now (or learn that it now wants a login)
    void recheck();              // the server became reachable: ask again how to log in if that was unknown
    // The organizations the identity can see (whoami); shown in the menu to switch between them.
    void setOrganizations(const QStringList &orgs, const QString &current);
    // Moves a Dispatch CLI cookie into the context's keychain entry; `done(error)` ("" on success).
    void storeCookie(const QString &cookie, std::function<void(QString error)> done);

signals:
    void bearerTokenChanged(const QString &context, const QString &token);
    void stateChanged(dispatch::views::AccountWidget::State state);
    void organizationChosen(const QString &org);
    void cookieChanged(const QString &context, const QString &cookie);

private:
    void fetchLoginInfo();
    void setState(State state, const QString &text, const QString &tooltip = {});
    void adopt(const models::TokenSet &tokens, bool store);
    void setBearer(const QString &token);
    void rebuildMenu();

    QLabel *m_label = nullptr;
    QToolButton *m_button = nullptr;
    QNetworkAccessManager m_network;
    std::unique_ptr<models::TokenStore> m_store;
    std::unique_ptr<models::AuthSession> m_session;
    QPointer<models::OidcLogin> m_login;
    std::function<void(const QUrl &)> m_openBrowser;
    QString m_context;
    QUrl m_apiBase;
    models::LoginInfo m_info;
    State m_state = State::Unknown;
    QString m_bearer;
    QString m_subject;
    QString m_cookie;
    models::TokenSet m_stored; // what the keychain entry holds (tokens and/or a cookie)
    bool m_fetching = false;
    quint64 m_generation = 0; // bumped by setContext: late answers of the previous context are dropped
    // Service-account mode: the key is re-read and a new token signed before the old one ends.
    QString m_saOrg, m_saAccount, m_saKeyFile;
    QStringList m_orgs;
    QString m_org;
    QTimer m_saTimer;
};

} // namespace dispatch::views
