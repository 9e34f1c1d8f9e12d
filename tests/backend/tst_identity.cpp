// Identity end to end: a real OpenID provider (tests/oidc/idp.mjs, npm oidc-provider) on loopback and the real
// dispatch-server with --auth oidc,serviceaccount. Bearer-token verification (every rejection case), JWKS
// refresh on an unknown key, IAM policies, org isolation, service-account login and a complete authorization
// code + PKCE login followed by a refresh after the access token expired.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCryptographicHash>
#include <QDateTime>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkCookieJar>
#include <QNetworkReply>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QUrlQuery>
#include <QtTest>

#include "support/identityprovider.h"
#include "support/testserver.h"

using namespace dispatch::test;

namespace {

Json claimsFor(const QString &issuer, const QString &email, qint64 expIn = 300)
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    return Json{{"iss", issuer.toStdString()},
                {"aud", "dispatch-console"},
                {"sub", "x"},
                {"email", email.toStdString()},
                {"iat", now},
                {"exp", now + expIn}};
}

HttpResult call(const QString &base, const QByteArray &method, const QString &path, const QByteArray &token,
                const QString &org = QStringLiteral("orga"), const Json &body = nullptr)
{
    QMap<QByteArray, QByteArray> headers;
    if (!token.isEmpty())
        headers["Authorization"] = "Bearer " + token;
    if (!org.isEmpty())
        headers["X-Dispatch-Org"] = org.toUtf8();
    if (!body.is_null())
        headers["Content-Type"] = "application/json";
    return httpRequest(method, base + path, body.is_null() ? QByteArray() : QByteArray::fromStdString(body.dump()),
                       headers);
}

QByteArray readAudit(const TestServer &server)
{
    QFile f(server.dataDir() + "/logs/audit.log");
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// The openssl command line: key pairs and RS256 signatures for service-account tokens.
QByteArray openssl(const QStringList &args, const QByteArray &input = {})
{
    QProcess p;
    p.start(QStringLiteral("openssl"), args);
    p.waitForStarted();
    p.write(input);
    p.closeWriteChannel();
    p.waitForFinished(60000);
    return p.readAllStandardOutput();
}

QByteArray b64url(const QByteArray &in)
{
    return in.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray serviceAccountToken(const QString &keyFile, const QString &iss, qint64 expIn = 3600)
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const QByteArray input = b64url(R"({"alg":"RS256","typ":"JWT"})") + "." +
                             b64url(QByteArray::fromStdString(
                                 Json{{"iss", iss.toStdString()}, {"iat", now - 60}, {"exp", now + expIn}}.dump()));
    const QByteArray signature = openssl({"dgst", "-sha256", "-sign", keyFile}, input);
    return input + "." + b64url(signature);
}

} // namespace

class TestIdentity : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void refusesRemoteBindWithoutAuth();
    void loginInfo();
    void providerIssuedTokenIsAccepted();
    void rejectedTokens_data();
    void rejectedTokens();
    void auditLogHasNoTokens();
    void jwksRefreshOnUnknownKid();
    void policiesAllowAndDeny();
    void globalPolicy();
    void orgIsolation();
    void serviceAccounts();
    void pkceLoginAndRefreshAfterExpiry();
    void slowProviderHoldsUpNoOtherRequest();
    void metricsNeedAnAdministrator();

private:
    QByteArray tokenFor(const QString &email) { return m_idp->sign("RS256", claimsFor(m_idp->issuer(), email)); }
    std::unique_ptr<IdentityProvider> m_idp;
    std::unique_ptr<TestServer> m_server;
    QByteArray m_admin;
};

void TestIdentity::initTestCase()
{
    m_idp = std::make_unique<IdentityProvider>();
    QString error;
    QVERIFY2(m_idp->start(&error), qPrintable(error));
    m_server = std::make_unique<TestServer>(QStringList{
        "--auth", "oidc,serviceaccount", "--oidc-issuer", m_idp->issuer(), "--oidc-audience", "dispatch-console",
        "--bootstrap-admin", "admin@example.test", "--oidc-jwks-min-refresh", "0", "--auth-clock-skew", "0"});
    QVERIFY2(m_server->start(&error), qPrintable(error));
    m_admin = tokenFor("admin@example.test");
    for (const char *org : {"orga", "orgb"}) {
        auto r = call(m_server->apiBase(), "POST", "/v1/iam/organization", m_admin, {}, Json{{"name", org}});
        QVERIFY2(r.status == 201, r.body.constData());
    }
}

void TestIdentity::cleanupTestCase()
{
    if (m_server)
        QVERIFY(m_server->stop());
}

void TestIdentity::refusesRemoteBindWithoutAuth()
{
    TestServer open({"--host", "0.0.0.0"});
    QString error;
    QVERIFY(!open.start(&error));
    QVERIFY2(open.output().contains("refusing to listen on 0.0.0.0 without authentication"), open.output());
    TestServer noIssuer({"--auth", "oidc"});
    QVERIFY(!noIssuer.start(&error));
    QVERIFY2(noIssuer.output().contains("--oidc-issuer"), noIssuer.output());
    TestServer forced({"--host", "0.0.0.0", "--allow-unauthenticated-remote"});
    QVERIFY2(forced.start(&error), qPrintable(error));
    QVERIFY(forced.stop());
}

void TestIdentity::loginInfo()
{
    auto r = httpRequest("GET", m_server->apiBase() + "/v1/iam/login-info");
    QCOMPARE(r.status, 200);
    const Json j = r.json();
    QCOMPARE(j["authModes"], (Json{"oidc", "serviceaccount"}));
    QCOMPARE(QString::fromStdString(j["oidc"]["issuer"]), m_idp->issuer());
    QCOMPARE(j["oidc"]["clientId"], "dispatch-console");
    QVERIFY(j["oidc"]["scopes"].size() >= 2);
    QCOMPARE(QString::fromStdString(j["oidc"]["authorizationEndpoint"]), m_idp->issuer() + "/auth");
    QCOMPARE(QString::fromStdString(j["oidc"]["tokenEndpoint"]), m_idp->issuer() + "/token");

    // A server without auth says so (and keeps Solo's 501 on the IAM resources).
    TestServer plain;
    QString error;
    QVERIFY2(plain.start(&error), qPrintable(error));
    r = httpRequest("GET", plain.apiBase() + "/v1/iam/login-info");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json()["authModes"], (Json{"none"}));
    DispatchClient client(plain.apiBase());
    QCOMPARE(client.get("/v1/iam/policy").status, 501);
    r = client.get("/v1/iam/whoami");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json()["kind"], "anonymous");
    QCOMPARE(r.json()["permissions"]["function"].size(), 4u);
    QVERIFY(plain.stop());
}

void TestIdentity::providerIssuedTokenIsAccepted()
{
    // A token the provider itself issued (client credentials), not one of the test hook's.
    QMap<QByteArray, QByteArray> headers{{"Content-Type", "application/x-www-form-urlencoded"},
                                         {"Authorization", "Basic " + QByteArray("dispatch-ci:ci-secret").toBase64()}};
    auto t = httpRequest("POST", m_idp->issuer() + "/token", "grant_type=client_credentials&scope=dispatch", headers);
    QCOMPARE(t.status, 200);
    const QByteArray token = QByteArray::fromStdString(t.json()["access_token"]);
    auto r = call(m_server->apiBase(), "GET", "/v1/iam/whoami", token);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json()["subject"], "ci@example.test");
    QCOMPARE(r.json()["kind"], "user");
    QCOMPARE(r.json()["permissions"]["function"].size(), 0u);
    // Authenticated, but no policy names it.
    r = call(m_server->apiBase(), "GET", "/v1/function", token);
    QCOMPARE(r.status, 403);
}

void TestIdentity::rejectedTokens_data()
{
    QTest::addColumn<QString>("alg");
    QTest::addColumn<QString>("kid");
    QTest::addColumn<int>("claimsCase");
    QTest::addColumn<int>("status");
    // claimsCase: 0 valid, 1 wrong issuer, 2 wrong audience, 3 expired, 4 not yet valid, 5 no email claim,
    //             6 audience in a list, 7 issued in the future, 8 issuer not a string, 9 exp not a number
    QTest::newRow("RS256 valid") << "RS256" << "" << 0 << 200;
    QTest::newRow("ES256 valid") << "ES256" << "" << 0 << 200;
    QTest::newRow("audience in a list") << "RS256" << "" << 6 << 200;
    QTest::newRow("alg none") << "none" << "" << 0 << 401;
    QTest::newRow("HMAC with the public key") << "HS256-public-key" << "" << 0 << 401;
    QTest::newRow("wrong issuer") << "RS256" << "" << 1 << 401;
    QTest::newRow("wrong audience") << "RS256" << "" << 2 << 401;
    QTest::newRow("expired") << "RS256" << "" << 3 << 401;
    QTest::newRow("not yet valid") << "RS256" << "" << 4 << 401;
    QTest::newRow("no subject claim") << "ES256" << "" << 5 << 401;
    QTest::newRow("issued in the future") << "RS256" << "" << 7 << 401;
    QTest::newRow("unknown kid") << "RS256" << "not-a-key" << 0 << 401;
    QTest::newRow("issuer not a string") << "RS256" << "" << 8 << 401;
    QTest::newRow("exp not a number") << "RS256" << "" << 9 << 401;
}

void TestIdentity::rejectedTokens()
{
    QFETCH(QString, alg);
    QFETCH(QString, kid);
    QFETCH(int, claimsCase);
    QFETCH(int, status);
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    Json claims = claimsFor(m_idp->issuer(), "someone@example.test");
    switch (claimsCase) {
    case 1: claims["iss"] = "http://127.0.0.1:1/evil"; break;
    case 2: claims["aud"] = "another-client"; break;
    case 3: claims["iat"] = now - 1200; claims["exp"] = now - 600; break;
    case 4: claims["nbf"] = now + 600; break;
    case 5: claims.erase("email"); break;
    case 6: claims["aud"] = Json{"other", "dispatch-console"}; break;
    case 7: claims["iat"] = now + 600; break;
    case 8: claims["iss"] = 42; break;
    case 9: claims["exp"] = "tomorrow"; break;
    default: break;
    }
    const QByteArray token = m_idp->sign(alg, claims, kid);
    QVERIFY(!token.isEmpty());
    auto r = call(m_server->apiBase(), "GET", "/v1/iam/whoami", token);
    QCOMPARE(r.status, status);
    if (status == 401) {
        QVERIFY2(r.json().value("message", "").rfind("unauthenticated: ", 0) == 0, r.body.constData());
    } else {
        QCOMPARE(r.json()["subject"], "someone@example.test");
    }
    // A tampered payload never verifies.
    if (status == 200) {
        QList<QByteArray> segments = token.split('.');
        Json changed = claims;
        changed["email"] = "admin@example.test";
        segments[1] = b64url(QByteArray::fromStdString(changed.dump()));
        r = call(m_server->apiBase(), "GET", "/v1/iam/whoami", segments.join('.'));
        QCOMPARE(r.status, 401);
    }
}

void TestIdentity::auditLogHasNoTokens()
{
    const QByteArray token = m_idp->sign("RS256", claimsFor("http://127.0.0.1:1/evil", "x@example.test"));
    QCOMPARE(call(m_server->apiBase(), "GET", "/v1/function?token=secret-query", token).status, 401);
    QCOMPARE(call(m_server->apiBase(), "GET", "/v1/function", tokenFor("nobody@example.test")).status, 403);
    QCOMPARE(httpRequest("GET", m_server->apiBase() + "/v1/function",
                         {}, {{"X-Dispatch-Org", "orga"}, {"Cookie", "unset"}})
                 .status,
             401);
    const QByteArray audit = readAudit(*m_server);
    QVERIFY(audit.contains("\"event\":\"authentication-failed\""));
    QVERIFY(audit.contains("\"event\":\"denied\""));
    QVERIFY(audit.contains("nobody@example.test may not get function in org orga"));
    QVERIFY(!audit.contains(token.left(40)));
    QVERIFY(!audit.contains("secret-query"));
    for (const QByteArray &line : audit.trimmed().split('\n'))
        QVERIFY2(!line.contains("eyJ"), line.constData()); // no JWT ever
}

void TestIdentity::jwksRefreshOnUnknownKid()
{
    auto rotated = httpRequest("POST", m_idp->issuer() + "/__test/rotate");
    QCOMPARE(rotated.status, 200);
    const QString kid = QString::fromStdString(rotated.json()["kid"]);
    const QByteArray token = m_idp->sign("RS256", claimsFor(m_idp->issuer(), "rotated@example.test"), kid);
    auto r = call(m_server->apiBase(), "GET", "/v1/iam/whoami", token);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json()["subject"], "rotated@example.test");
    // The old keys are still published and still verify.
    QCOMPARE(call(m_server->apiBase(), "GET", "/v1/iam/whoami", tokenFor("old@example.test")).status, 200);
}

void TestIdentity::policiesAllowAndDeny()
{
    const QString api = m_server->apiBase();
    Json policy{{"name", "alice-reads-functions"},
                {"rules", Json::array({Json{{"subjects", {"alice@example.test"}},
                                            {"resources", {"function"}},
                                            {"actions", {"get"}}},
                                       Json{{"subjects", {"alice@example.test"}},
                                            {"resources", {"secret"}},
                                            {"actions", {"*"}}}})}};
    QCOMPARE(call(api, "POST", "/v1/iam/policy", m_admin, "orga", policy).status, 201);
    QCOMPARE(call(api, "POST", "/v1/iam/policy", m_admin, "orga", policy).status, 409);
    // Validation: the action enum and required fields.
    Json bad = policy;
    bad["name"] = "bad";
    bad["rules"][0]["actions"] = {"read"};
    auto r = call(api, "POST", "/v1/iam/policy", m_admin, "orga", bad);
    QCOMPARE(r.status, 422);
    QCOMPARE(r.json()["code"], 606);
    QCOMPARE(call(api, "POST", "/v1/iam/policy", m_admin, "orga", Json{{"name", "x"}}).status, 422);

    const QByteArray alice = tokenFor("alice@example.test");
    QCOMPARE(call(api, "GET", "/v1/function", alice).status, 200);
    QCOMPARE(call(api, "GET", "/v1/function/none", alice).status, 404); // allowed, then not found
    r = call(api, "POST", "/v1/function", alice, "orga", Json{{"name", "f"}, {"image", "i"}});
    QCOMPARE(r.status, 403);
    QVERIFY2(r.json().value("message", "").find("alice@example.test may not create function in org orga") !=
                 std::string::npos,
             r.body.constData());
    QCOMPARE(call(api, "DELETE", "/v1/function/f", alice).status, 403);
    QCOMPARE(call(api, "GET", "/v1/image", alice).status, 403);
    QCOMPARE(call(api, "GET", "/v1/iam/policy", alice).status, 403); // iam is a resource too
    QCOMPARE(call(api, "POST", "/v1/secret", alice, "orga", Json{{"name", "s"}, {"secrets", {{"k", "v"}}}}).status,
             201);
    QCOMPARE(call(api, "DELETE", "/v1/secret/s", alice).status, 204);
    // The same subject has nothing in orgb.
    QCOMPARE(call(api, "GET", "/v1/function", alice, "orgb").status, 403);

    // whoami reports what the policies allow; the org list shows the orgs a policy names alice in.
    r = call(api, "GET", "/v1/iam/whoami", alice);
    QCOMPARE(r.json()["permissions"]["function"], (Json{"get"}));
    QCOMPARE(r.json()["permissions"]["secret"], (Json{"get", "create", "update", "delete"}));
    QCOMPARE(r.json()["permissions"]["image"].size(), 0u);
    r = call(api, "GET", "/v1/iam/organization", alice, {});
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().size(), 1u);
    QCOMPARE(r.json()[0]["name"], "orga");
    QCOMPARE(call(api, "POST", "/v1/iam/organization", alice, {}, Json{{"name", "mine"}}).status, 403);
    // Changing the policy takes effect at once; deleting it takes the permission away.
    policy["rules"][0]["actions"] = {"get", "create"};
    QCOMPARE(call(api, "PUT", "/v1/iam/policy/alice-reads-functions", m_admin, "orga", policy).status, 200);
    QCOMPARE(call(api, "GET", "/v1/iam/whoami", alice).json()["permissions"]["function"], (Json{"get", "create"}));
    QCOMPARE(call(api, "DELETE", "/v1/iam/policy/alice-reads-functions", m_admin, "orga").status, 200);
    QCOMPARE(call(api, "GET", "/v1/function", alice).status, 403);
}

void TestIdentity::globalPolicy()
{
    const QString api = m_server->apiBase();
    Json policy{{"name", "carol-everywhere"},
                {"global", true},
                {"rules", Json::array({Json{{"subjects", {"carol@example.test"}},
                                            {"resources", {"runs"}},
                                            {"actions", {"get"}}}})}};
    QCOMPARE(call(api, "POST", "/v1/iam/policy", m_admin, "orga", policy).status, 201);
    const QByteArray carol = tokenFor("carol@example.test");
    QCOMPARE(call(api, "GET", "/v1/runs", carol, "orga").status, 200);
    QCOMPARE(call(api, "GET", "/v1/runs", carol, "orgb").status, 200);
    QCOMPARE(call(api, "GET", "/v1/function", carol, "orgb").status, 403);
    QCOMPARE(call(api, "DELETE", "/v1/iam/policy/carol-everywhere", m_admin, "orga").status, 200);
}

void TestIdentity::orgIsolation()
{
    const QString api = m_server->apiBase();
    auto everything = [](const char *name, const char *who) {
        return Json{{"name", name},
                    {"rules", Json::array({Json{{"subjects", {who}}, {"resources", {"*"}}, {"actions", {"*"}}}})}};
    };
    QCOMPARE(call(api, "POST", "/v1/iam/policy", m_admin, "orga", everything("dana-all", "dana@example.test")).status,
             201);
    QCOMPARE(call(api, "POST", "/v1/iam/policy", m_admin, "orgb", everything("erin-all", "erin@example.test")).status,
             201);
    const QByteArray dana = tokenFor("dana@example.test"), erin = tokenFor("erin@example.test");

    // Org A's resources: a function (its image does not exist, so it stays unbuilt), a secret, an API.
    QCOMPARE(call(api, "POST", "/v1/function", dana, "orga",
                  Json{{"name", "fa"}, {"image", "missing"}, {"handler", "h.handle"},
                       {"source", DispatchClient::sourceOf({{"h.py", "def handle(ctx, payload):\n    return 1\n"}})
                                      .toStdString()}})
                 .status,
             201);
    QCOMPARE(call(api, "POST", "/v1/secret", dana, "orga", Json{{"name", "sa"}, {"secrets", {{"k", "v"}}}}).status, 201);
    QCOMPARE(call(api, "POST", "/v1/api", dana, "orga",
                  Json{{"name", "apia"}, {"function", "fa"}, {"methods", {"GET"}}, {"protocols", {"http"}},
                       {"uris", {"/hello"}}, {"enabled", true}})
                 .status,
             200);

    // Org B's user can neither read, change nor invoke them: naming org A is forbidden, naming org B finds nothing.
    struct Case
    {
        QByteArray method;
        QString path;
        Json body;
    };
    const std::vector<Case> cases = {
        {"GET", "/v1/function/fa", nullptr},
        {"PUT", "/v1/function/fa", Json{{"name", "fa"}, {"image", "x"}}},
        {"DELETE", "/v1/function/fa", nullptr},
        {"POST", "/v1/runs?functionName=fa", Json::object()},
        {"GET", "/v1/runs?functionName=fa", nullptr},
        {"GET", "/v1/secret/sa", nullptr},
        {"PUT", "/v1/secret/sa", Json{{"name", "sa"}, {"secrets", {{"k", "stolen"}}}}},
        {"DELETE", "/v1/secret/sa", nullptr},
        {"GET", "/v1/api/apia", nullptr},
        {"DELETE", "/v1/api/apia", nullptr},
        {"POST", "/v1/event", Json{{"topic", "t"}, {"payload", {{"a", 1}}}}},
        {"GET", "/v1/event/subscriptions", nullptr},
    };
    for (const auto &c : cases) {
        auto r = call(api, c.method, c.path, erin, "orga", c.body);
        QVERIFY2(r.status == 403, qPrintable(c.method + " " + c.path + " as orgb's user in orga: " +
                                             QString::number(r.status)));
    }
    // An org's own IAM rights never reach another org: no global policy, no other org's organization object.
    QCOMPARE(call(api, "POST", "/v1/iam/policy", erin, "orgb",
                  Json{{"name", "grab"},
                       {"global", true},
                       {"rules", Json::array({Json{{"subjects", {"erin@example.test"}},
                                                   {"resources", {"*"}},
                                                   {"actions", {"*"}}}})}})
                 .status,
             403);
    QCOMPARE(call(api, "DELETE", "/v1/iam/organization/orga", erin, "orgb").status, 403);
    QCOMPARE(call(api, "GET", "/v1/iam/organization/orga", m_admin, "orgb").status, 200);
    QCOMPARE(call(api, "GET", "/v1/iam/organization/orgb", erin, "orgb").status, 200);
    QCOMPARE(call(api, "GET", "/v1/function/fa", erin, "orgb").status, 404);
    QCOMPARE(call(api, "GET", "/v1/secret/sa", erin, "orgb").status, 404);
    QCOMPARE(call(api, "GET", "/v1/api/apia", erin, "orgb").status, 404);
    QCOMPARE(call(api, "GET", "/v1/function", erin, "orgb").json().size(), 0u);
    // Still intact for org A.
    auto secret = call(api, "GET", "/v1/secret/sa", dana, "orga");
    QCOMPARE(secret.status, 200);
    QCOMPARE(secret.json()["secrets"]["k"], "v");

    // The gateway: org A's API is served under /orga only; /orgb/hello is not org A's API, and org B cannot
    // take /orga/hello by binding a host.
    QCOMPARE(call(api, "POST", "/v1/api", erin, "orgb",
                  Json{{"name", "steal"}, {"function", "fb"}, {"methods", {"GET"}}, {"protocols", {"http"}},
                       {"uris", {"/orga/hello"}}, {"hosts", {"127.0.0.1"}}, {"enabled", true}})
                 .status,
             200);
    auto viaA = httpRequest("GET", m_server->gatewayBase() + "/orga/hello");
    QCOMPARE(viaA.status, 503); // org A's API, whose function is not READY (never org B's "steal")
    QVERIFY2(viaA.body.contains("function fa"), viaA.body.constData());
    auto viaB = httpRequest("GET", m_server->gatewayBase() + "/orgb/hello");
    QCOMPARE(viaB.status, 404);

    // Org B's service account cannot act in org A even when it names org A.
    QCOMPARE(call(api, "DELETE", "/v1/iam/policy/dana-all", m_admin, "orga").status, 200);
    QCOMPARE(call(api, "DELETE", "/v1/iam/policy/erin-all", m_admin, "orgb").status, 200);
}

void TestIdentity::serviceAccounts()
{
    const QString api = m_server->apiBase();
    QTemporaryDir dir;
    const QString key = dir.filePath("ci.pem"), otherKey = dir.filePath("other.pem");
    openssl({"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key});
    openssl({"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", otherKey});
    const QByteArray publicPem = openssl({"pkey", "-in", key, "-pubout"});
    QVERIFY(publicPem.startsWith("-----BEGIN PUBLIC KEY-----"));

    auto r = call(api, "POST", "/v1/iam/serviceaccount", m_admin, "orga",
                  Json{{"name", "ci"}, {"publicKey", "bm90IGEga2V5"}});
    QCOMPARE(r.status, 400);
    QVERIFY2(r.json().value("message", "").find("publicKey") != std::string::npos, r.body.constData());
    QCOMPARE(call(api, "POST", "/v1/iam/serviceaccount", m_admin, "orga", Json{{"name", "ci"}}).status, 422);
    r = call(api, "POST", "/v1/iam/serviceaccount", m_admin, "orga",
             Json{{"name", "ci"}, {"publicKey", publicPem.toBase64().toStdString()}});
    QCOMPARE(r.status, 201);
    QCOMPARE(r.json()["kind"], "ServiceAccount");
    QCOMPARE(call(api, "POST", "/v1/iam/policy", m_admin, "orga",
                  Json{{"name", "ci-functions"},
                       {"rules", Json::array({Json{{"subjects", {"ci"}},
                                                   {"resources", {"function"}},
                                                   {"actions", {"get"}}}})}})
                 .status,
             201);

    const QByteArray token = serviceAccountToken(key, "orga/ci");
    r = call(api, "GET", "/v1/iam/whoami", token, "orga");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json()["kind"], "serviceaccount");
    QCOMPARE(r.json()["subject"], "ci");
    QCOMPARE(r.json()["orgs"], (Json{"orga"}));
    QCOMPARE(call(api, "GET", "/v1/function", token, "orga").status, 200);
    QCOMPARE(call(api, "GET", "/v1/secret", token, "orga").status, 403);
    // `dispatch login` with a service account calls GET /home (Dispatch v0.1.x).
    r = call(api, "GET", "/home", token, {});
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json()["message"], "Home Page, You have already logged in");
    QCOMPARE(call(api, "GET", "/home", serviceAccountToken(otherKey, "orga/ci"), {}).status, 401);
    QCOMPARE(call(api, "GET", "/v1/function", token, "orgb").status, 403); // its own org only
    // A service account of the same name in another org, a wrong key, an expired token.
    QCOMPARE(call(api, "GET", "/v1/function", serviceAccountToken(key, "orgb/ci"), "orgb").status, 401);
    QCOMPARE(call(api, "GET", "/v1/function", serviceAccountToken(otherKey, "orga/ci"), "orga").status, 401);
    QCOMPARE(call(api, "GET", "/v1/function", serviceAccountToken(key, "orga/ci", -600), "orga").status, 401);
    // Dispatch's `dispatch login` with a service account calls a non-resource path... here /v1/iam/whoami; after
    // the account is deleted its tokens stop working.
    QCOMPARE(call(api, "DELETE", "/v1/iam/serviceaccount/ci", m_admin, "orga").status, 200);
    QCOMPARE(call(api, "GET", "/v1/function", token, "orga").status, 401);

    // The IAM objects survive a restart.
    QVERIFY(m_server->restart());
    QCOMPARE(call(m_server->apiBase(), "GET", "/v1/iam/organization/orga", m_admin, "orga").status, 200);
    QCOMPARE(call(m_server->apiBase(), "GET", "/v1/iam/policy/ci-functions", m_admin, "orga").status, 200);
}

void TestIdentity::pkceLoginAndRefreshAfterExpiry()
{
    // Its own provider with short-lived access tokens, and its own server.
    IdentityProvider idp({"--access-token-ttl", "2"});
    QString error;
    QVERIFY2(idp.start(&error), qPrintable(error));
    TestServer server({"--auth", "oidc", "--oidc-issuer", idp.issuer(), "--oidc-audience", "dispatch-console",
                       "--auth-clock-skew", "0"});
    QVERIFY2(server.start(&error), qPrintable(error));

    // Authorization code + PKCE S256 through the provider's login and consent pages, cookies kept.
    const QByteArray verifier = b64url(QByteArray::number(QRandomGenerator::global()->generate64()) +
                                       QByteArray::number(QRandomGenerator::global()->generate64()) + "pkce-verifier");
    const QByteArray challenge = b64url(QCryptographicHash::hash(verifier, QCryptographicHash::Sha256));
    const QString redirect = QStringLiteral("http://127.0.0.1:45678/callback");
    QUrl auth(idp.issuer() + "/auth");
    QUrlQuery q;
    q.addQueryItem("client_id", "dispatch-console");
    q.addQueryItem("response_type", "code");
    q.addQueryItem("redirect_uri", redirect);
    q.addQueryItem("scope", "openid email offline_access");
    q.addQueryItem("code_challenge", QString::fromLatin1(challenge));
    q.addQueryItem("code_challenge_method", "S256");
    q.addQueryItem("state", "state-123");
    q.addQueryItem("nonce", "nonce-456");
    q.addQueryItem("prompt", "consent");
    auth.setQuery(q);

    QNetworkAccessManager nam;
    nam.setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
    auto send = [&](const QByteArray &method, const QUrl &url, const QByteArray &form = {}) {
        QNetworkRequest req(url);
        if (!form.isEmpty())
            req.setHeader(QNetworkRequest::ContentTypeHeader, "application/x-www-form-urlencoded");
        QNetworkReply *reply = nam.sendCustomRequest(req, method, form);
        QDeadlineTimer deadline(30000);
        while (!reply->isFinished() && !deadline.hasExpired())
            QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        const QByteArray raw = reply->rawHeader("Location");
        const QUrl location = raw.isEmpty() ? QUrl() : url.resolved(QUrl::fromEncoded(raw));
        const QByteArray body = reply->readAll();
        reply->deleteLater();
        return std::make_pair(location, body);
    };
    QUrl url = auth;
    QByteArray body;
    QUrl callback;
    for (int step = 0; step < 12 && callback.isEmpty(); ++step) {
        auto [location, page] = send("GET", url);
        if (location.isEmpty()) {
            // An interaction page: log in as alice, or consent.
            const QString prompt = page.contains("name=\"login\"") ? "login" : "consent";
            const QString form = prompt == "login" ? "prompt=login&login=alice&password=anything" : "prompt=consent";
            auto [next, ignored] = send("POST", url, form.toUtf8());
            Q_UNUSED(ignored);
            QVERIFY2(!next.isEmpty(), page.left(400).constData());
            location = next;
        }
        if (location.toString().startsWith(redirect))
            callback = location;
        else
            url = location;
    }
    QVERIFY2(!callback.isEmpty(), "the login did not reach the redirect URI");
    const QUrlQuery back(callback);
    QCOMPARE(back.queryItemValue("state"), QStringLiteral("state-123"));
    const QString code = back.queryItemValue("code");
    QVERIFY(!code.isEmpty());

    QMap<QByteArray, QByteArray> form{{"Content-Type", "application/x-www-form-urlencoded"}};
    auto exchange = httpRequest("POST", idp.issuer() + "/token",
                                "grant_type=authorization_code&client_id=dispatch-console&code=" +
                                    QUrl::toPercentEncoding(code) + "&redirect_uri=" +
                                    QUrl::toPercentEncoding(redirect) + "&code_verifier=" + verifier,
                                form);
    QCOMPARE(exchange.status, 200);
    const Json tokens = exchange.json();
    QVERIFY(tokens.contains("refresh_token"));
    QVERIFY(tokens.contains("id_token"));
    // The ID token carries the nonce.
    const QByteArray idPayload = QByteArray::fromBase64(
        QByteArray::fromStdString(tokens["id_token"]).split('.')[1], QByteArray::Base64UrlEncoding);
    QCOMPARE(Json::parse(idPayload.toStdString())["nonce"], "nonce-456");
    // Without the verifier the code would not have been exchanged (PKCE is required by the provider).
    QByteArray access = QByteArray::fromStdString(tokens["access_token"]);
    auto who = call(server.apiBase(), "GET", "/v1/iam/whoami", access, "dispatch");
    QCOMPARE(who.status, 200);
    QCOMPARE(who.json()["subject"], "alice@example.test");

    // After expiry the server refuses the token; the refresh token gets a new one that works.
    QTRY_COMPARE_WITH_TIMEOUT(call(server.apiBase(), "GET", "/v1/iam/whoami", access, "dispatch").status, 401, 30000);
    auto refreshed = httpRequest("POST", idp.issuer() + "/token",
                                 "grant_type=refresh_token&client_id=dispatch-console&refresh_token=" +
                                     QUrl::toPercentEncoding(QString::fromStdString(tokens["refresh_token"])),
                                 form);
    QCOMPARE(refreshed.status, 200);
    access = QByteArray::fromStdString(refreshed.json()["access_token"]);
    who = call(server.apiBase(), "GET", "/v1/iam/whoami", access, "dispatch");
    QCOMPARE(who.status, 200);
    QCOMPARE(who.json()["subject"], "alice@example.test");
    QVERIFY(server.stop());
}


// A provider that does not answer must not hold up the server: verifying a token waits for the provider's
// discovery document off the event loop, while other requests (here /healthz and an unauthenticated 401) are
// answered. The "provider" is a loopback socket that answers the server's first fetch (at start) with 503 and
// holds every later one until the test lets go; nothing here depends on how long anything takes.
void TestIdentity::slowProviderHoldsUpNoOtherRequest()
{
    QTcpServer provider;
    QVERIFY(provider.listen(QHostAddress::LocalHost));
    const QString issuer = QStringLiteral("http://127.0.0.1:%1").arg(provider.serverPort());
    QList<QTcpSocket *> held;
    bool holding = false;
    QObject::connect(&provider, &QTcpServer::newConnection, &provider, [&] {
        while (QTcpSocket *socket = provider.nextPendingConnection()) {
            if (holding) {
                held << socket;
                continue;
            }
            QObject::connect(socket, &QTcpSocket::readyRead, socket, [socket] {
                socket->readAll();
                socket->write("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                socket->disconnectFromHost();
            });
        }
    });
    TestServer server({"--auth", "oidc", "--oidc-issuer", issuer, "--oidc-audience", "dispatch-console",
                       "--oidc-jwks-min-refresh", "0"});
    QString error;
    QVERIFY2(server.start(&error), qPrintable(error));
    holding = true;

    // A token of that issuer (never checked to the end: the provider does not answer).
    const QByteArray token = b64url(R"({"alg":"RS256","typ":"JWT","kid":"k1"})") + "." +
                             b64url(QByteArray::fromStdString(claimsFor(issuer, "someone@example.test").dump())) +
                             "." + b64url("signature");
    QNetworkAccessManager nam;
    QNetworkRequest request(QUrl(server.apiBase() + "/v1/function"));
    request.setRawHeader("Authorization", "Bearer " + token);
    request.setRawHeader("X-Dispatch-Org", "orga");
    QNetworkReply *waiting = nam.get(request);
    QTRY_VERIFY_WITH_TIMEOUT(!held.isEmpty(), 30000); // the server is fetching from the provider now

    QCOMPARE(call(server.apiBase(), "GET", "/healthz", {}).status, 200);
    QCOMPARE(call(server.apiBase(), "GET", "/v1/function", {}).status, 401);
    QVERIFY(!waiting->isFinished());

    for (QTcpSocket *socket : held) {
        socket->write("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        socket->disconnectFromHost();
    }
    holding = false;
    QTRY_VERIFY_WITH_TIMEOUT(waiting->isFinished(), 30000);
    const int status = waiting->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    QVERIFY2(status == 401 || status == 503, QByteArray::number(status) + " " + waiting->readAll());
    waiting->deleteLater();
    QVERIFY(server.stop());
}

// /metrics shows every org's functions: with authentication on, only an administrator may read it.
void TestIdentity::metricsNeedAnAdministrator()
{
    const auto metrics = [this](const QByteArray &token) { return call(m_server->apiBase(), "GET", "/metrics", token, {}); };
    const auto anonymous = metrics({});
    QCOMPARE(anonymous.status, 401);
    QVERIFY2(anonymous.body.contains("Bearer"), anonymous.body.constData());
    const auto user = metrics(tokenFor("someone@example.test"));
    QCOMPARE(user.status, 403);
    QVERIFY2(user.body.contains("not an administrator"), user.body.constData());
    QCOMPARE(metrics("not-a-token").status, 401);
    const auto admin = metrics(m_admin);
    QCOMPARE(admin.status, 200);
    QVERIFY(admin.body.contains("dispatch_http_requests_total"));
}

QTEST_GUILESS_MAIN(TestIdentity)
#include "tst_identity.moc"
