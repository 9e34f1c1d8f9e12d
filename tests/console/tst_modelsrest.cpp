// RestClient, WatchClient and the source archive: connection state and reconnect (a dead port that comes to
// life), readable error messages, callbacks tied to their context, timeouts, server detection, the watch stream's
// resume and reset across a server restart, and function sources the server accepts.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QSignalSpy>
#include <QTest>

#include <memory>

#include "models/restclient.h"
#include "models/sourcearchive.h"
#include "models/watchclient.h"
#include "tst_modelssupport.h"

using namespace dispatch::test;
using namespace dispatch::models;

// Emits destroyed() from its own destructor, before ~QObject, as ~QWidget does.
class EmitsDestroyedEarly : public QObject
{
public:
    ~EmitsDestroyedEarly() override { emit destroyed(this); }
};

class TestModelsRest : public QObject
{
    Q_OBJECT

private slots:
    // Nothing listens: Unreachable with a sentence a person can act on; a server comes up on that port later:
    // Connected, without anyone asking again.
    void unreachableThenConnected()
    {
        const quint16 port = freePort();
        QVERIFY(port != 0);
        Endpoint e;
        e.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port));
        RestClient client(e);
        QSignalSpy states(&client, &RestClient::connectionStateChanged);
        QTRY_COMPARE_WITH_TIMEOUT(client.connectionState(), RestClient::ConnectionState::Unreachable, kWaitMs);
        const QString expected =
            QStringLiteral("Cannot reach 127.0.0.1:%1: connection refused. Is the server running?").arg(port);
        QCOMPARE(client.connectionMessage(), expected);

        bool answered = false;
        ApiResult result;
        client.get(QStringLiteral("/v1/function"), this, [&](const ApiResult &r) {
            answered = true;
            result = r;
        });
        QTRY_VERIFY_WITH_TIMEOUT(answered, kWaitMs);
        QVERIFY(!result.ok());
        QCOMPARE(result.status, 0);
        QVERIFY(result.networkFailure);
        QCOMPARE(result.errorMessage, expected);

        // TestServer passes --port 0 first; our flag comes later and wins.
        TestServer server({QStringLiteral("--port"), QString::number(port)});
        QString error;
        QVERIFY2(server.start(&error), qPrintable(error));
        QCOMPARE(server.apiPort(), port);
        QTRY_COMPARE_WITH_TIMEOUT(client.connectionState(), RestClient::ConnectionState::Connected, kWaitMs);
        QCOMPARE(client.connectionMessage(), QString());
        QTRY_COMPARE_WITH_TIMEOUT(client.serverKind(), RestClient::ServerKind::Ours, kWaitMs);
        QVERIFY(!states.isEmpty());
        QCOMPARE(states.last().at(0).value<RestClient::ConnectionState>(), RestClient::ConnectionState::Connected);

        // And down again.
        QVERIFY(server.stop());
        QTRY_COMPARE_WITH_TIMEOUT(client.connectionState(), RestClient::ConnectionState::Unreachable,
                                  kWaitMs * 2); // the connected-state probe runs every 30 s
    }

    // The server's {code, message} becomes "<message> (<status>)"; headers are the CLI's.
    void serverErrors()
    {
        TestServer server;
        QString error;
        QVERIFY2(server.start(&error), qPrintable(error));
        RestClient client(endpointOf(server));

        ApiResult r;
        bool done = false;
        client.get(QStringLiteral("/v1/function/nope"), this, [&](const ApiResult &a) {
            r = a;
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, kWaitMs);
        QCOMPARE(r.status, 404);
        QCOMPARE(r.errorMessage, QStringLiteral("function nope not found (404)"));
        QCOMPARE(r.errorCode(), 404);

        done = false;
        client.post(QStringLiteral("/v1/secret"), Json{{"name", "twice"}, {"secrets", {{"a", "b"}}}}, this,
                    [&](const ApiResult &a) {
                        r = a;
                        done = true;
                    });
        QTRY_VERIFY_WITH_TIMEOUT(done, kWaitMs);
        QVERIFY2(r.ok(), qPrintable(r.errorMessage));
        QCOMPARE(r.status, 201);
        QCOMPARE(r.json.value("name", ""), std::string("twice"));
        done = false;
        client.post(QStringLiteral("/v1/secret"), Json{{"name", "twice"}, {"secrets", {{"a", "b"}}}}, this,
                    [&](const ApiResult &a) {
                        r = a;
                        done = true;
                    });
        QTRY_VERIFY_WITH_TIMEOUT(done, kWaitMs);
        QCOMPARE(r.status, 409);
        QVERIFY2(r.errorMessage.endsWith(QStringLiteral("already exists (409)")), qPrintable(r.errorMessage));

        // A validation error keeps the go-openapi code.
        done = false;
        client.post(QStringLiteral("/v1/secret"), Json{{"name", "bad name!"}}, this, [&](const ApiResult &a) {
            r = a;
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, kWaitMs);
        QCOMPARE(r.status, 422);
        QVERIFY(r.errorCode() >= 600);
        QVERIFY(r.errorMessage.endsWith(QStringLiteral("(422)")));

        // Deleting: 204 without a body is fine.
        done = false;
        client.del(QStringLiteral("/v1/secret/twice"), this, [&](const ApiResult &a) {
            r = a;
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, kWaitMs);
        QVERIFY(r.ok());
        QCOMPARE(r.status, 204);
        QVERIFY(server.stop());
    }

    // A callback whose context is gone is never called (and its request is abandoned).
    void callbackNeedsLiveContext()
    {
        TestServer server;
        QString error;
        QVERIFY2(server.start(&error), qPrintable(error));
        RestClient client(endpointOf(server));
        auto *context = new QObject;
        bool deadCalled = false;
        client.get(QStringLiteral("/v1/function"), context, [&](const ApiResult &) { deadCalled = true; });
        delete context;
        // A widget emits destroyed() from ~QWidget, while a QPointer to it is still set (a plain QObject clears
        // its pointers first): the aborted request must not call back into the half-destroyed object.
        auto *widgetLike = new EmitsDestroyedEarly;
        bool halfDeadCalled = false;
        client.get(QStringLiteral("/v1/function"), widgetLike, [&](const ApiResult &) { halfDeadCalled = true; });
        delete widgetLike;
        QVERIFY(!halfDeadCalled);
        bool liveCalled = false;
        client.get(QStringLiteral("/v1/function"), this, [&](const ApiResult &) { liveCalled = true; });
        QTRY_VERIFY_WITH_TIMEOUT(liveCalled, kWaitMs);
        QVERIFY(!deadCalled);
        QVERIFY(!halfDeadCalled);

        // With no context at all the callback always runs.
        bool plainCalled = false;
        client.get(QStringLiteral("/healthz"), nullptr, [&](const ApiResult &r) { plainCalled = r.ok(); });
        QTRY_VERIFY_WITH_TIMEOUT(plainCalled, kWaitMs);
        QVERIFY(server.stop());
    }

    // A server that accepts and never answers: a timeout with its own message; reachability is not judged on it.
    void timeout()
    {
        FakeHttpServer silent([](const QByteArray &, const QByteArray &) { return std::pair<int, QByteArray>{0, {}}; });
        Endpoint e;
        e.baseUrl = QUrl(silent.base());
        RestClient client(e);
        client.setMonitoring(false);
        ApiResult r;
        bool done = false;
        RequestOptions options;
        options.timeout = std::chrono::milliseconds(300);
        client.get(QStringLiteral("/v1/function"), this, [&](const ApiResult &a) {
            r = a;
            done = true;
        }, options);
        QTRY_VERIFY_WITH_TIMEOUT(done, kWaitMs);
        QVERIFY(r.timedOut);
        QCOMPARE(r.status, 0);
        QCOMPARE(r.errorMessage,
                 QStringLiteral("No answer from 127.0.0.1:%1 in time. The server may be busy or the network down; "
                                "try again.")
                     .arg(silent.port()));
        QCOMPARE(client.connectionState(), RestClient::ConnectionState::Unknown);
        QCOMPARE(RestClient::kBlockingRunTimeout, std::chrono::milliseconds(600000));
        QCOMPARE(client.defaultTimeout(), std::chrono::milliseconds(15000));
    }

    // Dispatch's headers: X-Dispatch-Org, and Cookie "unset" (like the CLI) or a bearer token.
    void headers()
    {
        QList<QByteArray> seen;
        Endpoint e;
        e.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:1"));
        e.organization = QStringLiteral("acme");
        RestClient client(e);
        client.setMonitoring(false);
        QNetworkRequest req = client.makeRequest(QStringLiteral("/v1/runs?functionName=a%20b"));
        QCOMPARE(req.rawHeader("X-Dispatch-Org"), QByteArray("acme"));
        QCOMPARE(req.rawHeader("Cookie"), QByteArray("unset"));
        QVERIFY(!req.hasRawHeader("Authorization"));
        QCOMPARE(req.url().toString(QUrl::FullyEncoded), QStringLiteral("http://127.0.0.1:1/v1/runs?functionName=a%20b"));
        e.bearerToken = QStringLiteral("tok");
        client.setEndpoint(e);
        req = client.makeRequest(QStringLiteral("/v1/function"));
        QCOMPARE(req.rawHeader("Authorization"), QByteArray("Bearer tok"));
        QVERIFY(!req.hasRawHeader("Cookie"));
        e.bearerToken.clear();
        e.cookie = QStringLiteral("_oauth2_proxy=x");
        client.setEndpoint(e);
        QCOMPARE(client.makeRequest(QStringLiteral("/")).rawHeader("Cookie"), QByteArray("_oauth2_proxy=x"));
        // A CA file that is not there: every request says so instead of failing obscurely.
        e.caFile = QStringLiteral("/nonexistent/ca.pem");
        client.setEndpoint(e);
        ApiResult r;
        bool done = false;
        client.get(QStringLiteral("/v1/function"), this, [&](const ApiResult &a) {
            r = a;
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, kWaitMs);
        QVERIFY(r.errorMessage.startsWith(QStringLiteral("Cannot read the CA file /nonexistent/ca.pem")));
    }

    // HTTPS per endpoint: an untrusted certificate is a TLS error with its reason; "insecure" or the server's
    // certificate as the context's CA file make it work.
    void tls()
    {
        TestServer server({QStringLiteral("--enable-tls"), QStringLiteral("--tls-port"), QStringLiteral("0"),
                           QStringLiteral("--gateway-tls-port"), QStringLiteral("0")});
        QString error;
        QVERIFY2(server.start(&error), qPrintable(error));
        QVERIFY(server.apiTlsPort() != 0);
        Endpoint e;
        e.baseUrl = QUrl(QStringLiteral("https://127.0.0.1:%1").arg(server.apiTlsPort()));
        auto fetch = [&](const Endpoint &endpoint) {
            RestClient client(endpoint);
            client.setMonitoring(false);
            ApiResult r;
            bool done = false;
            client.get(QStringLiteral("/v1/function"), this, [&](const ApiResult &a) {
                r = a;
                done = true;
            });
            [&] { QTRY_VERIFY_WITH_TIMEOUT(done, kWaitMs); }();
            return r;
        };
        ApiResult r = fetch(e);
        QVERIFY(!r.ok());
        QVERIFY2(r.errorMessage.startsWith(QStringLiteral("TLS error with 127.0.0.1:%1: ").arg(server.apiTlsPort())),
                 qPrintable(r.errorMessage));
        QVERIFY2(r.errorMessage.contains(QStringLiteral("CA file")), qPrintable(r.errorMessage));
        qInfo("%s", qPrintable(r.errorMessage));

        Endpoint insecure = e;
        insecure.insecure = true;
        r = fetch(insecure);
        QVERIFY2(r.ok(), qPrintable(r.errorMessage));

        Endpoint trusted = e;
        trusted.caFile = server.dataDir() + QStringLiteral("/tls/server.crt");
        r = fetch(trusted);
        QVERIFY2(r.ok(), qPrintable(r.errorMessage));
        QVERIFY(server.stop());
    }

    // A plain Dispatch server (Go version in /healthz, no /v1/version).
    void plainDispatchDetected()
    {
        FakeHttpServer solo([](const QByteArray &, const QByteArray &target) -> std::pair<int, QByteArray> {
            if (target.startsWith("/healthz"))
                return {200, R"({"version":{"version":"v0.0.5-solo","goVersion":"go1.10.3","compiler":"gc"}})"};
            return {404, R"({"code":404,"message":"resource does not exist"})"};
        });
        Endpoint e;
        e.baseUrl = QUrl(solo.base());
        RestClient client(e);
        QTRY_COMPARE_WITH_TIMEOUT(client.serverKind(), RestClient::ServerKind::PlainDispatch, kWaitMs);
        QCOMPARE(client.serverVersion(), QStringLiteral("v0.0.5-solo"));
        QVERIFY(client.isConnected());
    }

    // The watch stream: changes as they happen, a resume after a disconnect, and a reset when the server restarted
    // (its event ids mean nothing any more).
    void watchResumeAndReset()
    {
        const quint16 port = freePort();
        TestServer server({QStringLiteral("--port"), QString::number(port)});
        QString error;
        QVERIFY2(server.start(&error), qPrintable(error));
        DispatchClient api(server.apiBase());
        RestClient client(endpointOf(server));
        WatchClient watch(&client);
        watch.setHeartbeat(std::chrono::milliseconds(500));
        QSignalSpy changes(&watch, &WatchClient::change);
        QSignalSpy resets(&watch, &WatchClient::resetRequired);
        watch.start();
        QTRY_VERIFY_WITH_TIMEOUT(watch.isStreaming(), kWaitMs);

        QCOMPARE(api.post(QStringLiteral("/v1/secret"), {{"name", "s1"}, {"secrets", {{"k", "v"}}}}).status, 201);
        QTRY_VERIFY_WITH_TIMEOUT(!changes.isEmpty(), kWaitMs);
        QCOMPARE(changes.first().at(0).toString(), QStringLiteral("secret.updated"));
        QCOMPARE(changes.first().at(1).toString(), QStringLiteral("Secret"));
        QCOMPARE(changes.first().at(2).toString(), QStringLiteral("s1"));
        const auto object = changes.first().at(3).value<nlohmann::json>();
        QVERIFY(!object.contains("secrets")); // the feed never carries values
        QVERIFY(watch.lastEventId() > 0);

        // The server goes away and comes back on the same port: the client reconnects by itself, and since the
        // new server cannot resume the old ids it asks the models to reload.
        QVERIFY(server.stop());
        QTRY_VERIFY_WITH_TIMEOUT(!watch.isStreaming(), kWaitMs);
        QVERIFY2(server.start(&error), qPrintable(error));
        QTRY_VERIFY_WITH_TIMEOUT(watch.isStreaming(), kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(resets.count() >= 1, kWaitMs);
        changes.clear();
        QCOMPARE(api.del(QStringLiteral("/v1/secret/s1")).status, 204);
        QTRY_VERIFY_WITH_TIMEOUT(!changes.isEmpty(), kWaitMs);
        QCOMPARE(changes.last().at(0).toString(), QStringLiteral("secret.deleted"));
        watch.stop();
        QCOMPARE(watch.state(), WatchClient::State::Stopped);
        QVERIFY(server.stop());
    }

    // Sources: tar.gz with ./<path> entries, which the server unpacks into the function it builds.
    void sourceArchive()
    {
        const QList<SourceFile> files = {{QStringLiteral("hello.py"), "def handle(ctx, payload):\n    return {'ok': 1}\n"},
                                         {QStringLiteral("lib/util.py"), "X = 1\n"}};
        QString error;
        const auto archive = makeSourceArchive(files, &error);
        QVERIFY2(archive, qPrintable(error));
        QVERIFY(archive->startsWith("\x1f\x8b"));
        const auto back = extractSourceArchive(*archive, &error);
        QVERIFY2(back, qPrintable(error));
        QCOMPARE(*back, files);
        QVERIFY(!makeSourceArchive({{QStringLiteral("../escape.py"), "x"}}, &error));
        QVERIFY(error.contains(QStringLiteral("../escape.py")));
        QVERIFY(!makeSourceArchive({{QStringLiteral("/abs.py"), "x"}}, &error));

        const auto fromDisk = readSourceFiles(QStringLiteral(DISPATCH_SOURCE_DIR "/tests/fixtures/functions/python3/hello.py"), &error);
        QVERIFY2(fromDisk, qPrintable(error));
        QCOMPARE(fromDisk->size(), 1);
        QCOMPARE(fromDisk->first().path, QStringLiteral("hello.py"));

        TestServer server;
        QVERIFY2(server.start(&error), qPrintable(error));
        DispatchClient api(server.apiBase());
        QVERIFY2(seedPython(api, &error), qPrintable(error));
        const auto source = makeSourceBase64(files, &error);
        QVERIFY(source);
        RestClient client(endpointOf(server));
        bool done = false;
        ApiResult r;
        client.post(QStringLiteral("/v1/function"),
                    Json{{"name", "archived"}, {"image", "python3"}, {"handler", "hello.handle"}, {"source", source->toStdString()}},
                    this, [&](const ApiResult &a) {
                        r = a;
                        done = true;
                    });
        QTRY_VERIFY_WITH_TIMEOUT(done, kWaitMs);
        QVERIFY2(r.ok(), qPrintable(r.errorMessage));
        QCOMPARE(api.waitForStatus(QStringLiteral("/v1/function/archived")).value("status", ""), std::string("READY"));
        done = false;
        client.runFunction(QStringLiteral("archived"), Json::object(), true, this, [&](const ApiResult &a) {
            r = a;
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, kWaitMs);
        QVERIFY2(r.ok(), qPrintable(r.errorMessage));
        QCOMPARE(r.json["output"]["ok"].get<int>(), 1);
        const auto src = api.get(QStringLiteral("/v1/function/archived/source")).json();
        QCOMPARE(src["files"].size(), std::size_t(2));
        QVERIFY(server.stop());
    }
};

QTEST_GUILESS_MAIN(TestModelsRest)
#include "tst_modelsrest.moc"
