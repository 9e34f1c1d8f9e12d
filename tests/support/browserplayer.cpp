// SPDX-License-Identifier: GPL-3.0-or-later
#include "support/browserplayer.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QNetworkReply>

namespace dispatch::test {

BrowserPlayer::BrowserPlayer()
{
    m_nam.setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
}

QByteArray BrowserPlayer::login(const QUrl &start, const QUrl &redirect, int *status, const QByteArray &user)
{
    QUrl url = start;
    for (int step = 0; step < 12; ++step) {
        auto [code, location, page] = send("GET", url);
        if (url.toString().startsWith(redirect.toString())) {
            *status = code;
            return page;
        }
        if (location.isEmpty()) {
            const QByteArray form = page.contains("name=\"login\"") ? "prompt=login&login=" + user + "&password=x"
                                                                     : QByteArray("prompt=consent");
            location = std::get<1>(send("POST", url, form));
            if (location.isEmpty())
                return "the provider's page did not move on: " + page.left(300);
        }
        url = location;
    }
    return "too many redirects";
}

std::tuple<int, QUrl, QByteArray> BrowserPlayer::send(const QByteArray &method, const QUrl &url, const QByteArray &form)
{
    QNetworkRequest req(url);
    if (!form.isEmpty())
        req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/x-www-form-urlencoded"));
    QNetworkReply *reply = m_nam.sendCustomRequest(req, method, form);
    QDeadlineTimer deadline(30000);
    while (!reply->isFinished() && !deadline.hasExpired())
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    const QByteArray raw = reply->rawHeader("Location");
    const QUrl location = raw.isEmpty() ? QUrl() : url.resolved(QUrl::fromEncoded(raw));
    const int code = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = reply->readAll();
    reply->deleteLater();
    return {code, location, body};
}

} // namespace dispatch::test
