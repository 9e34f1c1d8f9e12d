// The console's login against a real OpenID provider (tests/oidc/idp.mjs) and the real server with
// --auth oidc,serviceaccount: authorization code + PKCE through the provider's own login and consent pages (the
// test plays the browser), the loopback listener (127.0.0.1 only, state checked), token refresh before expiry and
// after a 401, one login prompt when the refresh fails, and service-account tokens signed by the console.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QNetworkAccessManager>
#include <QNetworkInterface>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QUrlQuery>
#include <QtTest>

#include "authsession.h"
#include "oidclogin.h"
#include "serviceaccountkey.h"
#include "support/browserplayer.h"
#include "support/identityprovider.h"
#include "support/testserver.h"

using namespace dispatch::models;
using namespace dispatch::test;

namespace {

HttpResult whoami(const QString &base, const QString &token, const QString &org = QStringLiteral("dispatch"))
{
    return httpRequest("GET", base + QStringLiteral("/v1/iam/whoami"), {},
                       {{"Authorization", "Bearer " + token.toUtf8()}, {"X-Dispatch-Org", org.toUtf8()}});
}

QByteArray openssl(const QStringList &args)
{
    QProcess p;
    p.start(QStringLiteral("openssl"), args);
    p.waitForFinished(60000);
    return p.readAllStandardOutput();
}

} // namespace

class TestModelsAuth : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void loginInfo();
    void pkceLogin();
    void wrongStateIsRefused();
    void listenerIsLoopbackOnly();
    void refreshBeforeExpiry();
    void failedRefreshAsksOnce();
    void serviceAccountTokens();

private:
    TokenSet loginAsAlice();
    std::unique_ptr<IdentityProvider> m_idp;
    std::unique_ptr<TestServer> m_server;
    LoginInfo m_info;
    QNetworkAccessManager m_network;
};

void TestModelsAuth::initTestCase()
{
    qRegisterMetaType<TokenSet>();
    m_idp = std::make_unique<IdentityProvider>(QStringList{QStringLiteral("--access-token-ttl"), QStringLiteral("4")});
    QString error;
    QVERIFY2(m_idp->start(&error), qPrintable(error));
    m_server = std::make_unique<TestServer>(
        QStringList{QStringLiteral("--auth"), QStringLiteral("oidc,serviceaccount"), QStringLiteral("--oidc-issuer"),
                    m_idp->issuer(), QStringLiteral("--oidc-audience"), QStringLiteral("dispatch-console"),
                    QStringLiteral("--bootstrap-admin"), QStringLiteral("alice@example.test"),
                    QStringLiteral("--auth-clock-skew"), QStringLiteral("0")});
    QVERIFY2(m_server->start(&error), qPrintable(error));
}

void TestModelsAuth::loginInfo()
{
    auto r = httpRequest("GET", m_server->apiBase() + QStringLiteral("/v1/iam/login-info"));
    QCOMPARE(r.status, 200);
    auto info = LoginInfo::fromJson(r.body);
    QVERIFY(info);
    m_info = *info;
    QVERIFY(m_info.hasOidc());
    QCOMPARE(m_info.clientId, QStringLiteral("dispatch-console"));
    QCOMPARE(m_info.issuer, m_idp->issuer());
    QVERIFY(m_info.scopes.contains(QStringLiteral("offline_access")));
    QVERIFY(m_info.authModes.contains(QStringLiteral("serviceaccount")));
}

TokenSet TestModelsAuth::loginAsAlice()
{
    OidcLogin login(m_info, &m_network);
    QSignalSpy ok(&login, &OidcLogin::succeeded);
    QSignalSpy failed(&login, &OidcLogin::failed);
    QString error;
    const QUrl url = login.start(&error);
    if (!url.isValid())
        qWarning() << error;
    BrowserPlayer browser;
    int status = 0;
    const QByteArray page = browser.login(url, login.redirectUri(), &status);
    if (status != 200)
        qWarning() << "browser:" << page.left(300);
    if (!QTest::qWaitFor([&] { return !ok.isEmpty() || !failed.isEmpty(); }, 30000))
        qWarning() << "the login did not finish within 30 s";
    if (!failed.isEmpty())
        qWarning() << failed.first().first().toString();
    return ok.isEmpty() ? TokenSet{} : ok.first().first().value<TokenSet>();
}

void TestModelsAuth::pkceLogin()
{
    OidcLogin login(m_info, &m_network);
    QString error;
    const QUrl url = login.start(&error);
    QVERIFY2(url.isValid(), qPrintable(error));
    const QUrlQuery q(url);
    QCOMPARE(q.queryItemValue(QStringLiteral("code_challenge_method")), QStringLiteral("S256"));
    QCOMPARE(q.queryItemValue(QStringLiteral("code_challenge")).size(), 43);
    QVERIFY(q.queryItemValue(QStringLiteral("state")).size() >= 32);
    QVERIFY(q.queryItemValue(QStringLiteral("nonce")).size() >= 32);
    QCOMPARE(QUrl(q.queryItemValue(QStringLiteral("redirect_uri"), QUrl::FullyDecoded)).host(),
             QStringLiteral("127.0.0.1"));
    login.cancel();

    const TokenSet tokens = loginAsAlice();
    QVERIFY(!tokens.accessToken.isEmpty());
    QVERIFY(!tokens.refreshToken.isEmpty());
    QCOMPARE(tokens.subject, QStringLiteral("alice@example.test"));
    QVERIFY(tokens.expiresAt > QDateTime::currentDateTimeUtc());
    auto r = whoami(m_server->apiBase(), tokens.accessToken);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json()["subject"], "alice@example.test");
    // The keychain form of the tokens reads back the same.
    auto back = TokenSet::fromJson(tokens.toJson());
    QVERIFY(back);
    QCOMPARE(back->refreshToken, tokens.refreshToken);
    QCOMPARE(back->expiresAt.toSecsSinceEpoch(), tokens.expiresAt.toSecsSinceEpoch());
}

void TestModelsAuth::wrongStateIsRefused()
{
    OidcLogin login(m_info, &m_network);
    QSignalSpy ok(&login, &OidcLogin::succeeded);
    QSignalSpy failed(&login, &OidcLogin::failed);
    QVERIFY(login.start().isValid());
    QUrl forged = login.redirectUri();
    forged.setQuery(QStringLiteral("code=stolen&state=not-ours"));
    auto r = httpRequest("GET", forged.toString());
    QCOMPARE(r.status, 400);
    QVERIFY(r.body.contains("does not belong to the login"));
    // The login keeps waiting for the real answer; an error answer with the right state ends it.
    QVERIFY(ok.isEmpty() && failed.isEmpty());
    auto other = httpRequest("GET", login.redirectUri().toString().replace(QStringLiteral("/callback"),
                                                                           QStringLiteral("/elsewhere")));
    QCOMPARE(other.status, 404);
    QVERIFY(ok.isEmpty() && failed.isEmpty());
}

void TestModelsAuth::listenerIsLoopbackOnly()
{
    OidcLogin login(m_info, &m_network);
    QVERIFY(login.start().isValid());
    QCOMPARE(login.listenAddress(), QHostAddress(QHostAddress::LocalHost));
    const quint16 port = quint16(login.redirectUri().port());
    QHostAddress external;
    for (const auto &a : QNetworkInterface::allAddresses())
        if (a.protocol() == QAbstractSocket::IPv4Protocol && !a.isLoopback())
            external = a;
    if (external.isNull())
        QSKIP("this machine has no non-loopback IPv4 address to try");
    QTcpSocket socket;
    socket.connectToHost(external, port);
    QVERIFY(!socket.waitForConnected(3000)); // refused: nothing listens there
}

void TestModelsAuth::refreshBeforeExpiry()
{
    const TokenSet first = loginAsAlice();
    QVERIFY(!first.refreshToken.isEmpty());
    AuthSession session(m_info, &m_network);
    session.setRefreshMarginSeconds(2); // tokens live 4 s here: refreshed about 2 s after the login
    QSignalSpy changed(&session, &AuthSession::tokensChanged);
    QSignalSpy required(&session, &AuthSession::loginRequired);
    session.setTokens(first);
    QTRY_VERIFY_WITH_TIMEOUT(!changed.isEmpty(), 30000);
    QVERIFY(required.isEmpty());
    const TokenSet second = changed.first().first().value<TokenSet>();
    QVERIFY(second.accessToken != first.accessToken);
    QCOMPARE(second.subject, QStringLiteral("alice@example.test"));
    QCOMPARE(whoami(m_server->apiBase(), second.accessToken).status, 200);

    // After the old access token expired the server says 401; unauthorized() gets a working one.
    QTRY_COMPARE_WITH_TIMEOUT(whoami(m_server->apiBase(), first.accessToken).status, 401, 30000);
    session.setRefreshMarginSeconds(0);
    const int before = int(changed.size());
    session.unauthorized();
    session.unauthorized(); // coalesced into the same refresh
    QTRY_VERIFY_WITH_TIMEOUT(changed.size() > before && !session.isRefreshing(), 30000);
    QCOMPARE(whoami(m_server->apiBase(), session.tokens().accessToken).status, 200);
    QVERIFY(required.isEmpty());
}

void TestModelsAuth::failedRefreshAsksOnce()
{
    AuthSession session(m_info, &m_network);
    QSignalSpy required(&session, &AuthSession::loginRequired);
    TokenSet bogus;
    bogus.accessToken = QStringLiteral("expired");
    bogus.refreshToken = QStringLiteral("not-a-refresh-token");
    bogus.expiresAt = QDateTime::currentDateTimeUtc().addSecs(3600);
    session.setTokens(bogus);
    session.unauthorized();
    QTRY_COMPARE_WITH_TIMEOUT(required.size(), 1, 30000);
    QVERIFY2(required.first().first().toString().contains(QStringLiteral("log in again")),
             qPrintable(required.first().first().toString()));
    // More 401s do not ask again (no loop of browser tabs) until new tokens arrive.
    session.unauthorized();
    session.refreshNow();
    QVERIFY(!session.isRefreshing());
    QCOMPARE(required.size(), 1);
    QVERIFY(!session.isLoggedIn());
}

void TestModelsAuth::serviceAccountTokens()
{
    QTemporaryDir dir;
    const QString rsa = dir.filePath(QStringLiteral("rsa.pem")), ec = dir.filePath(QStringLiteral("ec.pem"));
    openssl({QStringLiteral("genpkey"), QStringLiteral("-algorithm"), QStringLiteral("RSA"), QStringLiteral("-pkeyopt"),
             QStringLiteral("rsa_keygen_bits:2048"), QStringLiteral("-out"), rsa});
    openssl({QStringLiteral("genpkey"), QStringLiteral("-algorithm"), QStringLiteral("EC"), QStringLiteral("-pkeyopt"),
             QStringLiteral("ec_paramgen_curve:P-256"), QStringLiteral("-out"), ec});
    const TokenSet admin = loginAsAlice(); // alice is the bootstrap admin here
    QVERIFY(!admin.accessToken.isEmpty());
    for (const auto &[name, file] : {std::pair{QStringLiteral("ci-rsa"), rsa}, std::pair{QStringLiteral("ci-ec"), ec}}) {
        const QByteArray publicPem = openssl({QStringLiteral("pkey"), QStringLiteral("-in"), file, QStringLiteral("-pubout")});
        auto r = httpRequest("POST", m_server->apiBase() + QStringLiteral("/v1/iam/serviceaccount"),
                             QByteArray::fromStdString(
                                 Json{{"name", name.toStdString()}, {"publicKey", publicPem.toBase64().toStdString()}}
                                     .dump()),
                             {{"Authorization", "Bearer " + admin.accessToken.toUtf8()},
                              {"X-Dispatch-Org", "dispatch"},
                              {"Content-Type", "application/json"}});
        QVERIFY2(r.status == 201, r.body.constData());
        QFile key(file);
        QVERIFY(key.open(QIODevice::ReadOnly));
        QString error;
        const QString token = signServiceAccountToken(QStringLiteral("dispatch"), name, key.readAll(), 300, &error);
        QVERIFY2(!token.isEmpty(), qPrintable(error));
        r = whoami(m_server->apiBase(), token);
        QVERIFY2(r.status == 200, r.body.constData());
        QCOMPARE(r.json()["kind"], "serviceaccount");
        QCOMPARE(QString::fromStdString(r.json()["subject"]), name);
    }
    QString error;
    QVERIFY(signServiceAccountToken(QStringLiteral("dispatch"), QStringLiteral("x"), "not a key", 300, &error).isEmpty());
    QVERIFY(error.contains(QStringLiteral("PEM private key")));
}

QTEST_GUILESS_MAIN(TestModelsAuth)
#include "tst_modelsauth.moc"
