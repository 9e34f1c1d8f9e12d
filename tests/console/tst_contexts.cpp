// ContextStore: the Dispatch CLI's config.json read and written back without losing a key, our own settings under
// "x-console", the Local context, signals, refusal to overwrite a file it could not read, and outside changes.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include "models/contextstore.h"

using namespace dispatch::models;
using Json = nlohmann::json;

namespace {

constexpr int kWaitMs = 30000;

const char *kCliConfig = R"({
    "current": "solo",
    "telemetry": {"enabled": false},
    "contexts": {
        "solo": {
            "host": "10.64.237.69",
            "port": 8080,
            "scheme": "http",
            "organization": "dispatch",
            "cookie": "cookie",
            "insecure": true,
            "api-https-port": 443,
            "api-http-port": 8081,
            "namespace": "dispatch",
            "serviceaccount": "org/name",
            "jwtprivatekey": "/path/key.pem",
            "future-key": {"nested": [1, 2, 3]}
        },
        "prod-example-com": {
            "host": "prod.example.com",
            "port": 443,
            "scheme": "https",
            "organization": "acme",
            "cookie": "_oauth2_proxy=secret",
            "insecure": false,
            "api-https-port": 0,
            "api-http-port": 0
        }
    }
})";

void write(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(bytes);
}

Json readJson(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return Json::parse(f.readAll().toStdString(), nullptr, false);
}

} // namespace

class TestContexts : public QObject
{
    Q_OBJECT

private slots:
    void readsTheCliConfig()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("config.json"));
        write(path, kCliConfig);
        ContextStore store(path);
        QCOMPARE(store.names(), (QStringList{QStringLiteral("Local"), QStringLiteral("prod-example-com"), QStringLiteral("solo")}));
        const auto solo = store.context(QStringLiteral("solo"));
        QVERIFY(solo);
        QCOMPARE(solo->host, QStringLiteral("10.64.237.69"));
        QCOMPARE(solo->port, 8080);
        QCOMPARE(solo->scheme, QStringLiteral("http"));
        QCOMPARE(solo->organization, QStringLiteral("dispatch"));
        QCOMPARE(solo->cookie, QStringLiteral("cookie"));
        QVERIFY(solo->insecure);
        QCOMPARE(solo->apiHttpsPort, 443);
        QCOMPARE(solo->apiHttpPort, 8081);
        QCOMPARE(solo->baseUrl(), QUrl(QStringLiteral("http://10.64.237.69:8080")));
        QCOMPARE(store.context(QStringLiteral("prod-example-com"))->displayUrl(), QStringLiteral("https://prod.example.com"));
        const Endpoint e = solo->endpoint();
        QCOMPARE(e.cookie, QStringLiteral("cookie"));
        QCOMPARE(e.organization, QStringLiteral("dispatch"));
        QVERIFY(e.insecure);
        // The console starts where the CLI is.
        QCOMPARE(store.current(), QStringLiteral("solo"));
        QCOMPARE(store.cliCurrent(), QStringLiteral("solo"));
    }

    // Everything we do not know survives our writes, at the top level and inside contexts.
    void roundTripKeepsUnknownKeys()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("config.json"));
        write(path, kCliConfig);
        const Json before = readJson(path);
        {
            ContextStore store(path);
            Context solo = *store.context(QStringLiteral("solo"));
            solo.color = QStringLiteral("#d33");
            solo.caFile = QStringLiteral("/etc/ssl/solo.pem");
            solo.port = 9090;
            QString error;
            QVERIFY2(store.upsert(solo, &error), qPrintable(error));
            Context added;
            added.name = ContextStore::nameForHost(QStringLiteral("Dispatch.Example.org"));
            added.host = QStringLiteral("dispatch.example.org");
            added.port = 443;
            QVERIFY2(store.upsert(added, &error), qPrintable(error));
            QVERIFY(store.setCurrent(QStringLiteral("prod-example-com")));
        }
        const Json after = readJson(path);
        QVERIFY(after.is_object());
        QVERIFY(after["telemetry"] == before["telemetry"]);
        QVERIFY(after["current"] == before["current"]); // the CLI's own current context is left alone
        const Json &solo = after["contexts"]["solo"];
        for (const char *key : {"namespace", "serviceaccount", "jwtprivatekey", "future-key", "cookie", "insecure",
                                "api-https-port", "api-http-port", "host", "scheme", "organization"})
            QVERIFY2(solo[key] == before["contexts"]["solo"][key], key);
        QCOMPARE(solo["port"].get<int>(), 9090);
        QCOMPARE(solo["x-console"]["color"].get<std::string>(), std::string("#d33"));
        QCOMPARE(solo["x-console"]["caFile"].get<std::string>(), std::string("/etc/ssl/solo.pem"));
        QVERIFY(after["contexts"]["prod-example-com"] == before["contexts"]["prod-example-com"]);
        QVERIFY(after["contexts"].contains("dispatch-example-org"));
        QVERIFY(!after["contexts"].contains("Local")); // never written

        // Read back by a new store.
        ContextStore again(path);
        QCOMPARE(again.context(QStringLiteral("solo"))->color, QStringLiteral("#d33"));
        QCOMPARE(again.context(QStringLiteral("solo"))->caFile, QStringLiteral("/etc/ssl/solo.pem"));
        QCOMPARE(again.context(QStringLiteral("solo"))->endpoint().caFile, QStringLiteral("/etc/ssl/solo.pem"));
        QCOMPARE(again.current(), QStringLiteral("prod-example-com"));
        QCOMPARE(again.context(QStringLiteral("dispatch-example-org"))->scheme, QStringLiteral("https"));
    }

    void localIsAlwaysThere()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("sub/config.json")); // neither file nor folder exist
        ContextStore store(path);
        QCOMPARE(store.names(), QStringList{QStringLiteral("Local")});
        QCOMPARE(store.current(), QStringLiteral("Local"));
        QVERIFY(store.currentContext().isLocal);
        QSignalSpy changed(&store, &ContextStore::contextChanged);
        store.setLocalPorts(41234, 41235);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(store.local().baseUrl(), QUrl(QStringLiteral("http://127.0.0.1:41234")));
        QString error;
        QVERIFY(!store.remove(QStringLiteral("Local"), &error));
        QVERIFY(!error.isEmpty());
        Context fake;
        fake.name = QStringLiteral("local");
        fake.host = QStringLiteral("x");
        QVERIFY(!store.upsert(fake, &error)); // reserved, whatever the case
        // Its colour is ours to keep.
        Context local = store.local();
        local.color = QStringLiteral("#2a2");
        QVERIFY2(store.upsert(local, &error), qPrintable(error));
        QCOMPARE(ContextStore(path).local().color, QStringLiteral("#2a2"));
        QCOMPARE(QFile(path).permissions() & (QFileDevice::ReadOther | QFileDevice::ReadGroup), QFileDevice::Permissions());
    }

    void signalsAndValidation()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("config.json"));
        ContextStore store(path);
        QSignalSpy added(&store, &ContextStore::contextAdded);
        QSignalSpy changed(&store, &ContextStore::contextChanged);
        QSignalSpy removed(&store, &ContextStore::contextRemoved);
        QSignalSpy current(&store, &ContextStore::currentChanged);
        Context c;
        c.name = QStringLiteral("staging");
        c.host = QStringLiteral("staging.local");
        c.port = 8080;
        c.scheme = QStringLiteral("http");
        QString error;
        QVERIFY(store.upsert(c, &error));
        QCOMPARE(added.count(), 1);
        QCOMPARE(added.first().at(0).toString(), QStringLiteral("staging"));
        c.organization = QStringLiteral("qa");
        QVERIFY(store.upsert(c, &error));
        QCOMPARE(changed.count(), 1);
        QVERIFY(store.upsert(c, &error)); // nothing changed: no signal
        QCOMPARE(changed.count(), 1);
        QVERIFY(store.setCurrent(QStringLiteral("staging")));
        QCOMPARE(current.count(), 1);
        QVERIFY(!store.setCurrent(QStringLiteral("nope"), &error));
        QVERIFY(store.rename(QStringLiteral("staging"), QStringLiteral("qa"), &error));
        QCOMPARE(store.current(), QStringLiteral("qa"));
        QVERIFY(store.remove(QStringLiteral("qa"), &error));
        QCOMPARE(removed.count(), 2); // the rename, then the remove
        QCOMPARE(store.current(), QStringLiteral("Local"));

        Context bad = c;
        bad.name = QStringLiteral("bad");
        bad.scheme = QStringLiteral("ftp");
        QVERIFY(!store.upsert(bad, &error));
        QVERIFY(error.contains(QStringLiteral("scheme")));
        bad.scheme = QStringLiteral("https");
        bad.host.clear();
        QVERIFY(!store.upsert(bad, &error));
    }

    // A file we cannot parse is never overwritten.
    void brokenFileIsLeftAlone()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("config.json"));
        write(path, "{ this is not json");
        ContextStore store(path);
        QVERIFY(!store.lastError().isEmpty());
        QCOMPARE(store.names(), QStringList{QStringLiteral("Local")});
        Context c;
        c.name = QStringLiteral("x");
        c.host = QStringLiteral("x.example");
        QString error;
        QVERIFY(!store.upsert(c, &error));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("{ this is not json"));
    }

    // The CLI (or an editor) changes the file: the store follows.
    void outsideChangesAreSeen()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("config.json"));
        write(path, kCliConfig);
        ContextStore store(path);
        QSignalSpy added(&store, &ContextStore::contextAdded);
        QSignalSpy removed(&store, &ContextStore::contextRemoved);
        Json doc = readJson(path);
        doc["contexts"].erase("solo");
        doc["contexts"]["new-one"] = {{"host", "n.example"}, {"port", 443}, {"scheme", "https"}, {"organization", "o"}};
        write(path, QByteArray::fromStdString(doc.dump(4)));
        QTRY_COMPARE_WITH_TIMEOUT(added.count(), 1, kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(removed.count(), 1, kWaitMs);
        QVERIFY(store.contains(QStringLiteral("new-one")));
        QVERIFY(!store.contains(QStringLiteral("solo")));
    }

    void pathFromEnvironment()
    {
        qputenv("DISPATCH_CONFIG", "/tmp/somewhere/config.json");
        QCOMPARE(ContextStore::defaultPath(), QStringLiteral("/tmp/somewhere/config.json"));
        qunsetenv("DISPATCH_CONFIG");
        QVERIFY(ContextStore::defaultPath().endsWith(QStringLiteral("/.dispatch/config.json")));
    }
};

QTEST_GUILESS_MAIN(TestContexts)
#include "tst_contexts.moc"
