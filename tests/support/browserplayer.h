// Test support: plays the system browser for a login against tests/oidc/idp.mjs: follows the authorization URL
// through the provider's own login ("alice") and consent pages, keeping cookies, and finally loads the redirect
// URI (the console's loopback listener) like a browser would.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QNetworkAccessManager>
#include <QUrl>

#include <tuple>

namespace dispatch::test {

class BrowserPlayer
{
public:
    BrowserPlayer();
    // Returns the page the redirect URI answered (status in `*status`), or what went wrong.
    QByteArray login(const QUrl &start, const QUrl &redirect, int *status, const QByteArray &user = "alice");

private:
    std::tuple<int, QUrl, QByteArray> send(const QByteArray &method, const QUrl &url, const QByteArray &form = {});
    QNetworkAccessManager m_nam;
};

} // namespace dispatch::test
