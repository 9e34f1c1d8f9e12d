// SPDX-License-Identifier: GPL-3.0-or-later
#include "authsession.h"

#include <QDateTime>

namespace dispatch::models {

AuthSession::AuthSession(LoginInfo info, QNetworkAccessManager *network, QObject *parent)
    : QObject(parent), m_info(std::move(info)), m_network(network)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &AuthSession::refreshNow);
}

void AuthSession::setTokens(const TokenSet &tokens)
{
    m_tokens = tokens;
    m_loginRequired = false;
    schedule();
}

void AuthSession::clear()
{
    m_timer.stop();
    m_tokens = {};
    m_loginRequired = false;
}

void AuthSession::setRefreshMarginSeconds(int seconds)
{
    m_margin = seconds;
    schedule();
}

void AuthSession::schedule()
{
    m_timer.stop();
    if (m_tokens.refreshToken.isEmpty() || !m_tokens.expiresAt.isValid())
        return;
    const qint64 ms = QDateTime::currentDateTimeUtc().msecsTo(m_tokens.expiresAt) - qint64(m_margin) * 1000;
    m_timer.start(int(std::clamp<qint64>(ms, 0, 24LL * 3600 * 1000)));
}

void AuthSession::unauthorized()
{
    refreshNow();
}

void AuthSession::refreshNow()
{
    if (m_refreshing || m_loginRequired)
        return;
    if (m_tokens.refreshToken.isEmpty() || !m_network) {
        m_loginRequired = true;
        emit loginRequired(tr("The session ended; log in again."));
        return;
    }
    m_refreshing = true;
    const QString subject = m_tokens.subject;
    OidcLogin::refresh(m_info, m_tokens.refreshToken, m_network, this,
                       [this, subject](std::optional<TokenSet> fresh, QString error) {
                           m_refreshing = false;
                           if (!fresh) {
                               m_timer.stop();
                               m_loginRequired = true;
                               emit loginRequired(tr("Could not renew the session (%1); log in again.").arg(error));
                               return;
                           }
                           if (fresh->subject.isEmpty())
                               fresh->subject = subject;
                           m_tokens = *fresh;
                           schedule();
                           emit tokensChanged(m_tokens);
                       });
}

} // namespace dispatch::models
