// SPDX-License-Identifier: GPL-3.0-or-later
#include "accountwidget.h"

#include <QDesktopServices>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QMenu>
#include <QNetworkReply>
#include <QPushButton>

#include "serviceaccountkey.h"
#include "theme.h"

namespace dispatch::views {

namespace {
constexpr int kServiceAccountTokenSeconds = 5 * 60;
}

AccountWidget::AccountWidget(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("accountWidget"));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(6);
    m_label = new QLabel(this);
    m_label->setObjectName(QStringLiteral("accountLabel"));
    m_button = new QToolButton(this);
    m_button->setObjectName(QStringLiteral("accountButton"));
    m_button->setPopupMode(QToolButton::MenuButtonPopup);
    m_button->setToolButtonStyle(Qt::ToolButtonTextOnly);
    layout->addWidget(m_label);
    layout->addWidget(m_button);
    m_store = std::make_unique<models::TokenStore>(QStringLiteral("dispatch-console"));
    m_openBrowser = [](const QUrl &url) { QDesktopServices::openUrl(url); };
    m_saTimer.setSingleShot(false);
    m_saTimer.setInterval((kServiceAccountTokenSeconds - 60) * 1000);
    connect(&m_saTimer, &QTimer::timeout, this, [this] {
        QString error;
        if (!logInWithServiceAccount(m_saOrg, m_saAccount, m_saKeyFile, &error))
            setState(State::SessionEnded, tr("Session ended"), error);
    });
    connect(m_button, &QToolButton::clicked, this, [this] {
        if (m_state == State::LoggedOut || m_state == State::SessionEnded)
            logIn();
        else if (m_state == State::LoggingIn && m_login) {
            m_login->cancel();
            setState(State::LoggedOut, tr("Not logged in"));
        } else
            m_button->showMenu();
    });
    setState(State::Unknown, QString());
}

AccountWidget::~AccountWidget() = default;

void AccountWidget::setKeychainService(const QString &service)
{
    m_store = std::make_unique<models::TokenStore>(service);
}

void AccountWidget::setContext(const QString &name, const QUrl &apiBase)
{
    if (name == m_context && apiBase == m_apiBase)
        return;
    ++m_generation;
    if (m_login)
        m_login->cancel();
    m_saTimer.stop();
    m_session.reset();
    m_context = name;
    m_apiBase = apiBase;
    m_info = {};
    m_subject.clear();
    m_bearer.clear();
    m_cookie.clear();
    m_stored = {};
    m_fetching = false;
    setState(State::Unknown, tr("Checking sign-in\u2026"));
    fetchLoginInfo();
}

void AccountWidget::recheck()
{
    if (m_state == State::Unknown)
        fetchLoginInfo();
}

void AccountWidget::fetchLoginInfo()
{
    if (!m_apiBase.isValid()) {
        setState(State::Unknown, QString());
        return;
    }
    QNetworkRequest req(m_apiBase.resolved(QUrl(QStringLiteral("/v1/iam/login-info"))));
    req.setTransferTimeout(15000);
    if (m_fetching)
        return;
    m_fetching = true;
    QNetworkReply *reply = m_network.get(req);
    const quint64 generation = m_generation;
    connect(reply, &QNetworkReply::finished, this, [this, reply, generation] {
        reply->deleteLater();
        m_fetching = false;
        if (generation != m_generation)
            return;
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (status == 0) {
            // Not reachable (yet): recheck() asks again once the connection works.
            setState(State::Unknown, QString());
            return;
        }
        auto info = status == 200 ? models::LoginInfo::fromJson(reply->readAll()) : std::nullopt;
        if (!info || info->authModes.contains(QStringLiteral("none"))) {
            // Dispatch-Solo, an older server of ours, or auth off: the context's cookie is all there is (from
            // config.json, or from the keychain if the user moved it there).
            setState(State::NotNeeded, QString(), tr("This server does not ask anyone to log in."));
            m_store->load(m_context, [this, generation](std::optional<QByteArray> secret, QString) {
                if (generation != m_generation || !secret)
                    return;
                if (auto stored = models::TokenSet::fromJson(*secret)) {
                    m_stored = *stored;
                    if (!stored->cookie.isEmpty()) {
                        m_cookie = stored->cookie;
                        emit cookieChanged(m_context, m_cookie);
                    }
                }
            });
            return;
        }
        m_info = *info;
        m_session = std::make_unique<models::AuthSession>(m_info, &m_network);
        connect(m_session.get(), &models::AuthSession::tokensChanged, this,
                [this](const models::TokenSet &t) { adopt(t, true); });
        connect(m_session.get(), &models::AuthSession::loginRequired, this, [this](const QString &why) {
            setBearer(QString());
            setState(State::SessionEnded, tr("Session ended"), why);
        });
        setState(State::LoggedOut, tr("Not logged in"));
        // Tokens of an earlier login, from the keychain.
        m_store->load(m_context, [this, generation](std::optional<QByteArray> secret, QString error) {
            if (generation != m_generation || !secret)
                return;
            Q_UNUSED(error);
            auto tokens = models::TokenSet::fromJson(*secret);
            if (!tokens)
                return;
            m_stored = *tokens;
            if (!tokens->cookie.isEmpty()) {
                m_cookie = tokens->cookie;
                emit cookieChanged(m_context, m_cookie);
            }
            if (tokens->refreshToken.isEmpty())
                return;
            adopt(*tokens, false);
            if (!tokens->accessTokenValid())
                m_session->refreshNow();
        });
    });
}

void AccountWidget::logIn()
{
    if (!m_info.hasOidc()) {
        if (m_info.authModes.contains(QStringLiteral("serviceaccount")))
            chooseServiceAccount();
        return;
    }
    if (m_login)
        m_login->cancel();
    auto *login = new models::OidcLogin(m_info, &m_network, this);
    m_login = login;
    QString error;
    const QUrl url = login->start(&error);
    if (!url.isValid()) {
        login->deleteLater();
        setState(State::LoggedOut, tr("Not logged in"), error);
        return;
    }
    connect(login, &models::OidcLogin::succeeded, this, [this, login](const models::TokenSet &tokens) {
        login->deleteLater();
        adopt(tokens, true);
    });
    connect(login, &models::OidcLogin::failed, this, [this, login](const QString &message) {
        login->deleteLater();
        setState(State::LoggedOut, tr("Login failed"), message);
    });
    setState(State::LoggingIn, tr("Waiting for the browser\u2026"),
             tr("The browser shows %1's login page; the console waits for it on %2.")
                 .arg(m_info.issuer, login->redirectUri().authority()));
    m_openBrowser(url);
}

void AccountWidget::adopt(const models::TokenSet &tokens, bool store)
{
    if (m_session)
        m_session->setTokens(tokens);
    m_subject = tokens.subject;
    if (store) {
        // Refresh token and access token: the keychain only (never config.json or QSettings).
        const QString cookie = m_stored.cookie;
        m_stored = tokens;
        m_stored.cookie = cookie;
        m_store->save(m_context, m_stored.toJson(), [this](QString error) {
            if (!error.isEmpty())
                m_label->setToolTip(tr("Logged in, but the keychain did not keep the session: %1").arg(error));
        });
    }
    setBearer(tokens.accessToken);
    setState(State::LoggedIn, tr("Logged in as %1").arg(m_subject),
             tr("Logged in to %1 through %2.").arg(m_context, m_info.issuer));
}

bool AccountWidget::logInWithServiceAccount(const QString &org, const QString &account, const QString &keyFile,
                                            QString *error)
{
    QFile file(keyFile);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = tr("Cannot read %1: %2").arg(keyFile, file.errorString());
        return false;
    }
    QString why;
    const QString token =
        models::signServiceAccountToken(org, account, file.readAll(), kServiceAccountTokenSeconds, &why);
    if (token.isEmpty()) {
        if (error)
            *error = tr("%1: %2").arg(keyFile, why);
        return false;
    }
    m_saOrg = org;
    m_saAccount = account;
    m_saKeyFile = keyFile;
    m_saTimer.start();
    m_subject = org + QLatin1Char('/') + account;
    setBearer(token);
    setState(State::LoggedIn, tr("Service account %1").arg(m_subject),
             tr("Signed with %1; a new token every few minutes.").arg(keyFile));
    return true;
}

void AccountWidget::chooseServiceAccount()
{
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Log in with a service account"));
    auto *form = new QFormLayout(&dialog);
    auto *org = new QLineEdit(QStringLiteral("dispatch"), &dialog);
    auto *account = new QLineEdit(&dialog);
    account->setPlaceholderText(tr("the name registered with the server"));
    auto *keyRow = new QWidget(&dialog);
    auto *keyLayout = new QHBoxLayout(keyRow);
    keyLayout->setContentsMargins(0, 0, 0, 0);
    auto *key = new QLineEdit(keyRow);
    key->setPlaceholderText(tr("PEM private key (RSA or EC P-256)"));
    auto *browse = new QPushButton(tr("Browse\u2026"), keyRow);
    keyLayout->addWidget(key, 1);
    keyLayout->addWidget(browse);
    connect(browse, &QPushButton::clicked, &dialog, [&] {
        const QString file = QFileDialog::getOpenFileName(&dialog, tr("Private key"), QString(),
                                                          tr("PEM keys (*.pem *.key);;All files (*)"));
        if (!file.isEmpty())
            key->setText(file);
    });
    auto *error = new QLabel(&dialog);
    error->setObjectName(QStringLiteral("serviceAccountError"));
    error->setWordWrap(true);
    error->setVisible(false);
    const QColor fill = badgeFill(StatusTone::Bad, dialog.palette());
    const QColor text = badgeText(StatusTone::Bad, dialog.palette());
    error->setStyleSheet(QStringLiteral("QLabel { background: %1; color: %2; padding: 4px 6px; border-radius: 3px; }")
                             .arg(fill.name(), text.name()));
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Log in"));
    form->addRow(tr("Organization:"), org);
    form->addRow(tr("Account:"), account);
    form->addRow(tr("Key file:"), keyRow);
    form->addRow(error);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    connect(buttons, &QDialogButtonBox::accepted, &dialog, [&] {
        QString why;
        if (account->text().trimmed().isEmpty())
            why = tr("Name the service account.");
        else if (logInWithServiceAccount(org->text().trimmed(), account->text().trimmed(), key->text(), &why))
            return dialog.accept();
        error->setText(why);
        error->setVisible(true);
    });
    dialog.exec();
}

void AccountWidget::logOut()
{
    if (m_login)
        m_login->cancel();
    m_saTimer.stop();
    if (m_session)
        m_session->clear();
    m_subject.clear();
    if (m_stored.cookie.isEmpty()) {
        m_store->remove(m_context, [](QString) {});
    } else { // keep the moved cookie, drop the tokens
        models::TokenSet keep;
        keep.cookie = m_stored.cookie;
        m_stored = keep;
        m_store->save(m_context, keep.toJson(), [](QString) {});
    }
    setBearer(QString());
    setState(State::LoggedOut, tr("Not logged in"));
}

void AccountWidget::unauthorized()
{
    if (m_state == State::Unknown || m_state == State::NotNeeded) {
        fetchLoginInfo(); // the server wants credentials after all (it was down, or its auth mode changed)
        return;
    }
    if (m_state != State::LoggedIn)
        return; // not logged in (yet): the login button is already there
    if (!m_saKeyFile.isEmpty()) {
        QString error;
        if (!logInWithServiceAccount(m_saOrg, m_saAccount, m_saKeyFile, &error))
            setState(State::SessionEnded, tr("Session ended"), error);
        return;
    }
    if (m_session)
        m_session->unauthorized();
}

void AccountWidget::storeCookie(const QString &cookie, std::function<void(QString)> done)
{
    models::TokenSet entry = m_stored;
    entry.cookie = cookie;
    const QString context = m_context;
    m_store->save(context, entry.toJson(), [this, context, entry, cookie, done = std::move(done)](QString error) {
        if (error.isEmpty() && context == m_context) {
            m_stored = entry;
            m_cookie = cookie;
            emit cookieChanged(context, cookie);
        }
        done(error);
    });
}

void AccountWidget::setOrganizations(const QStringList &orgs, const QString &current)
{
    m_orgs = orgs;
    m_org = current;
    rebuildMenu();
}

void AccountWidget::setBearer(const QString &token)
{
    if (token == m_bearer)
        return;
    m_bearer = token;
    emit bearerTokenChanged(m_context, token);
}

void AccountWidget::setState(State state, const QString &text, const QString &tooltip)
{
    m_state = state;
    m_label->setText(text);
    m_label->setToolTip(tooltip);
    m_label->setMinimumWidth(m_label->sizeHint().width()); // never clipped by the status bar
    const bool visible = state != State::Unknown && state != State::NotNeeded;
    m_button->setVisible(visible);
    switch (state) {
    case State::LoggedOut:
        m_button->setText(tr("Log in"));
        m_button->setToolTip(m_info.hasOidc() ? tr("Opens %1 in your browser").arg(m_info.issuer)
                                              : tr("Log in with a service account"));
        break;
    case State::SessionEnded:
        m_button->setText(tr("Log in again"));
        m_button->setToolTip(tooltip);
        break;
    case State::LoggingIn:
        m_button->setText(tr("Cancel"));
        m_button->setToolTip(tr("Stop waiting for the browser"));
        break;
    case State::LoggedIn:
        m_button->setText(tr("Account"));
        m_button->setToolTip(tooltip);
        break;
    default:
        break;
    }
    rebuildMenu();
    emit stateChanged(state);
}

void AccountWidget::rebuildMenu()
{
    auto *menu = m_button->menu();
    if (!menu) {
        menu = new QMenu(m_button);
        m_button->setMenu(menu);
    }
    menu->clear();
    if (m_info.hasOidc())
        menu->addAction(tr("Log in with the browser\u2026"), this, &AccountWidget::logIn);
    if (m_info.authModes.contains(QStringLiteral("serviceaccount")))
        menu->addAction(tr("Log in with a service account\u2026"), this, &AccountWidget::chooseServiceAccount);
    if (m_state == State::LoggedIn && !m_orgs.isEmpty()) {
        menu->addSection(tr("Organization"));
        for (const QString &org : m_orgs) {
            QAction *a = menu->addAction(org, this, [this, org] { emit organizationChosen(org); });
            a->setCheckable(true);
            a->setChecked(org == m_org);
        }
    }
    if (m_state == State::LoggedIn) {
        menu->addSeparator();
        menu->addAction(tr("Log out of %1").arg(m_context), this, &AccountWidget::logOut);
    }
}

} // namespace dispatch::views
