// TLS as in Dispatch-Solo (§5.1–5.2) against the real dispatch-server: the TLS options, the self-signed
// certificate generated once into the data dir (and reused), HTTPS on the API and gateway TLS ports verified
// against that very certificate, --disable-http, a certificate given by the user, and a key that does not match.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCryptographicHash>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QProcess>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

#include "server/config.h"
#include "support/testserver.h"

using namespace dispatch::test;

namespace {

constexpr int kWaitMs = 60000;

struct TlsResult
{
    HttpResult http;
    QSslCertificate peer;
    QList<QSslError> sslErrors;
};

// One HTTPS request that trusts exactly `trusted` (not the system store) and verifies the peer.
TlsResult httpsGet(const QString &url, const QList<QSslCertificate> &trusted, QMap<QByteArray, QByteArray> headers = {})
{
    QNetworkAccessManager nam;
    QNetworkRequest req{QUrl(url)};
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setCaCertificates(trusted);
    tls.setPeerVerifyMode(QSslSocket::VerifyPeer);
    req.setSslConfiguration(tls);
    for (auto it = headers.begin(); it != headers.end(); ++it)
        req.setRawHeader(it.key(), it.value());
    req.setTransferTimeout(kWaitMs);
    QNetworkReply *reply = nam.get(req);
    TlsResult r;
    QObject::connect(reply, &QNetworkReply::sslErrors, reply,
                     [&](const QList<QSslError> &errors) { r.sslErrors += errors; });
    if (!QTest::qWaitFor([&] { return reply->isFinished(); }, kWaitMs))
        reply->abort();
    r.http.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.http.body = reply->readAll();
    if (reply->error() != QNetworkReply::NoError)
        r.http.networkError = reply->errorString();
    r.peer = reply->sslConfiguration().peerCertificate();
    delete reply;
    return r;
}

QSslCertificate certificateFrom(const QString &path)
{
    const auto certs = QSslCertificate::fromPath(path);
    return certs.isEmpty() ? QSslCertificate() : certs.first();
}

QByteArray fileBytes(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// A key and self-signed certificate made by the openssl command line (independent of the server's generator).
bool makeCertificate(const QString &dir, const QString &name, const QString &commonName, QString *error)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral("openssl"),
            {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("rsa:2048"),
             QStringLiteral("-nodes"), QStringLiteral("-keyout"), dir + QLatin1Char('/') + name + QStringLiteral(".key"),
             QStringLiteral("-out"), dir + QLatin1Char('/') + name + QStringLiteral(".crt"), QStringLiteral("-days"),
             QStringLiteral("2"), QStringLiteral("-subj"), QStringLiteral("/CN=") + commonName,
             QStringLiteral("-addext"), QStringLiteral("subjectAltName=DNS:localhost,IP:127.0.0.1")});
    if (!p.waitForStarted(10000)) {
        *error = QStringLiteral("cannot run openssl: ") + p.errorString();
        return false;
    }
    p.waitForFinished(60000);
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        *error = QStringLiteral("openssl failed: ") + QString::fromUtf8(p.readAll());
        return false;
    }
    return true;
}

const QStringList kTlsArgs = {QStringLiteral("--enable-tls"), QStringLiteral("--tls-port"), QStringLiteral("0"),
                              QStringLiteral("--gateway-tls-port"), QStringLiteral("0")};

} // namespace

class TestTls : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        if (!QSslSocket::supportsSsl())
            QSKIP("Qt has no TLS backend here");
    }

    void configOptions()
    {
        using dispatch::server::parseConfig;
        auto defaults = parseConfig({}, {});
        QVERIFY(defaults.ok());
        QVERIFY(!defaults->enableTls);
        QVERIFY(!defaults->disableHttp);
        QCOMPARE(defaults->tlsPort, uint16_t(8443));
        QCOMPARE(defaults->gatewayTlsPort, uint16_t(8444));

        auto flags = parseConfig({"--enable-tls", "--tls-port", "0", "--gateway-tls-port=9444", "--tls-certificate",
                                  "/etc/a.crt", "--tls-certificate-key", "/etc/a.key", "--disable-http",
                                  "--watch-history", "5"},
                                 {});
        QVERIFY2(flags.ok(), flags.ok() ? "" : flags.error().message.c_str());
        QVERIFY(flags->enableTls);
        QVERIFY(flags->disableHttp);
        QCOMPARE(flags->tlsPort, uint16_t(0));
        QCOMPARE(flags->gatewayTlsPort, uint16_t(9444));
        QCOMPARE(flags->tlsCertificate.string(), std::string("/etc/a.crt"));
        QCOMPARE(flags->tlsCertificateKey.string(), std::string("/etc/a.key"));
        QCOMPARE(flags->watchHistory, std::size_t(5));

        auto env = parseConfig({}, {{"DISPATCH_ENABLE_TLS", "true"}, {"DISPATCH_TLS_PORT", "9443"},
                                    {"DISPATCH_DISABLE_HTTP", "1"}});
        QVERIFY(env.ok());
        QVERIFY(env->enableTls && env->disableHttp);
        QCOMPARE(env->tlsPort, uint16_t(9443));
        auto off = parseConfig({"--enable-tls=false"}, {{"DISPATCH_ENABLE_TLS", "true"}});
        QVERIFY(off.ok() && !off->enableTls); // a flag beats the environment

        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("config.json"));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"enable-tls": true, "tls-port": 8555, "local": {"gateway-tls-port": 443}})");
        f.close();
        auto fromFile = parseConfig({"--config", file.toStdString()}, {});
        QVERIFY(fromFile.ok());
        QVERIFY(fromFile->enableTls);
        QCOMPARE(fromFile->tlsPort, uint16_t(8555));
        QCOMPARE(fromFile->gatewayTlsPort, uint16_t(443));

        QVERIFY(!parseConfig({"--disable-http"}, {}).ok()); // no listener at all
        QVERIFY(!parseConfig({"--enable-tls", "--tls-certificate", "/etc/a.crt"}, {}).ok());
        QVERIFY(!parseConfig({"--enable-tls=maybe"}, {}).ok());
        QVERIFY(!parseConfig({"--watch-history", "0"}, {}).ok());

        const std::string help = dispatch::server::helpText();
        for (const char *flag : {"--enable-tls", "--tls-certificate ", "--tls-certificate-key", "--tls-port",
                                 "--gateway-tls-port", "--disable-http"})
            QVERIFY2(help.find(flag) != std::string::npos, flag);
        QVERIFY(help.find("watch-history") == std::string::npos); // hidden
    }

    void generatedCertificate()
    {
        TestServer server(kTlsArgs);
        QString error;
        QVERIFY2(server.start(&error), qPrintable(error));
        QVERIFY(server.apiPort() != 0 && server.gatewayPort() != 0);
        QVERIFY(server.apiTlsPort() != 0 && server.gatewayTlsPort() != 0);

        const QString crtPath = server.dataDir() + QStringLiteral("/tls/server.crt");
        const QString keyPath = server.dataDir() + QStringLiteral("/tls/server.key");
        struct stat st{};
        QCOMPARE(::stat(QFile::encodeName(keyPath).constData(), &st), 0);
        QCOMPARE(st.st_mode & 0777, mode_t(0600));
        const QSslCertificate cert = certificateFrom(crtPath);
        QVERIFY(!cert.isNull());
        QVERIFY(cert.isSelfSigned());
        const auto names = cert.subjectAlternativeNames();
        QVERIFY(names.values(QSsl::DnsEntry).contains(QStringLiteral("localhost")));
        QVERIFY(names.values(QSsl::IpAddressEntry).contains(QStringLiteral("127.0.0.1")));
        const auto days = cert.effectiveDate().daysTo(cert.expiryDate());
        QVERIFY2(days >= 365 && days <= 366, qPrintable(QString::number(days)));
        QFile keyFile(keyPath);
        QVERIFY(keyFile.open(QIODevice::ReadOnly));
        const QSslKey key(&keyFile, QSsl::Ec);
        QVERIFY(!key.isNull());
        QCOMPARE(key.length(), 256);

        const QByteArray fingerprint = cert.digest(QCryptographicHash::Sha256).toHex(':').toUpper();
        QVERIFY2(server.output().contains(fingerprint), "the fingerprint is logged");

        // HTTPS that trusts only this certificate, by address and by name; the peer is the file's certificate.
        for (const QString &host : {QStringLiteral("127.0.0.1"), QStringLiteral("localhost")}) {
            auto r = httpsGet(QStringLiteral("https://%1:%2/healthz").arg(host).arg(server.apiTlsPort()), {cert});
            QVERIFY2(r.http.status == 200, qPrintable(r.http.networkError));
            QVERIFY(r.sslErrors.isEmpty());
            QCOMPARE(r.peer, cert);
            QVERIFY(r.http.json()["version"].is_object());
        }
        // The Dispatch API over TLS, with its headers.
        auto functions = httpsGet(QStringLiteral("https://127.0.0.1:%1/v1/function").arg(server.apiTlsPort()), {cert},
                                  {{"X-Dispatch-Org", "dispatch"}, {"Cookie", "cookie"}});
        QCOMPARE(functions.http.status, 200);
        QVERIFY(functions.http.json().is_array());
        // The gateway answers over TLS too (no API defined: its not-found answer).
        auto gateway = httpsGet(QStringLiteral("https://127.0.0.1:%1/nothing").arg(server.gatewayTlsPort()), {cert});
        QVERIFY2(gateway.http.status >= 200, qPrintable(gateway.http.networkError));
        QCOMPARE(gateway.peer, cert);
        // Verification is real: trusting nothing fails.
        auto untrusted = httpsGet(QStringLiteral("https://127.0.0.1:%1/healthz").arg(server.apiTlsPort()), {});
        QCOMPARE(untrusted.http.status, 0);
        QVERIFY(!untrusted.sslErrors.isEmpty());
        // Plain HTTP stays on.
        QCOMPARE(httpRequest("GET", server.apiBase() + QStringLiteral("/healthz")).status, 200);

        // The watch stream works over TLS.
        {
            QNetworkAccessManager nam;
            QNetworkRequest req(QUrl(QStringLiteral("https://127.0.0.1:%1/v1/watch").arg(server.apiTlsPort())));
            QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
            tls.setCaCertificates({cert});
            req.setSslConfiguration(tls);
            req.setRawHeader("X-Dispatch-Org", "dispatch");
            req.setRawHeader("Cookie", "cookie");
            QNetworkReply *reply = nam.get(req);
            QByteArray got;
            QObject::connect(reply, &QNetworkReply::readyRead, reply, [&] { got += reply->readAll(); });
            QVERIFY(QTest::qWaitFor([&] { return got.contains("retry:") || reply->isFinished(); }, kWaitMs));
            QVERIFY(got.contains("retry:"));
            reply->abort();
            delete reply;
        }

        // Restarted, the server reuses the pair.
        const QByteArray certBytes = fileBytes(crtPath);
        const QByteArray keyBytes = fileBytes(keyPath);
        QVERIFY(server.restart());
        QVERIFY(server.apiTlsPort() != 0);
        QCOMPARE(fileBytes(crtPath), certBytes);
        QCOMPARE(fileBytes(keyPath), keyBytes);
        QVERIFY(server.output().contains("reusing the self-signed certificate"));
        auto again = httpsGet(QStringLiteral("https://127.0.0.1:%1/healthz").arg(server.apiTlsPort()), {cert});
        QCOMPARE(again.http.status, 200);
        QVERIFY(server.stop());
    }

    void disableHttp()
    {
        TestServer server(kTlsArgs + QStringList{QStringLiteral("--disable-http")});
        QString error;
        QVERIFY2(server.start(&error), qPrintable(error));
        QCOMPARE(server.apiPort(), quint16(0));
        QCOMPARE(server.gatewayPort(), quint16(0));
        QVERIFY(server.apiTlsPort() != 0 && server.gatewayTlsPort() != 0);
        const QSslCertificate cert = certificateFrom(server.dataDir() + QStringLiteral("/tls/server.crt"));
        auto r = httpsGet(QStringLiteral("https://127.0.0.1:%1/healthz").arg(server.apiTlsPort()), {cert});
        QCOMPARE(r.http.status, 200);
        const QByteArray out = server.output();
        QVERIFY(out.contains("[api-tls] listening"));
        QVERIFY(out.contains("[gateway-tls] listening"));
        QVERIFY(!out.contains("[api] listening"));
        QVERIFY(!out.contains("[gateway] listening"));
        // The TLS port does not speak plain HTTP.
        QVERIFY(httpRequest("GET", QStringLiteral("http://127.0.0.1:%1/healthz").arg(server.apiTlsPort()), {}, {},
                            std::chrono::seconds(20))
                    .status != 200);
        QVERIFY(server.stop());
    }

    void providedCertificate()
    {
        QTemporaryDir dir;
        QString error;
        if (!makeCertificate(dir.path(), QStringLiteral("provided"), QStringLiteral("provided.example"), &error))
            QSKIP(qPrintable(error));
        const QString crt = dir.filePath(QStringLiteral("provided.crt"));
        const QString key = dir.filePath(QStringLiteral("provided.key"));
        TestServer server(kTlsArgs + QStringList{QStringLiteral("--tls-certificate"), crt,
                                                 QStringLiteral("--tls-certificate-key"), key});
        QVERIFY2(server.start(&error), qPrintable(error));
        const QSslCertificate cert = certificateFrom(crt);
        QCOMPARE(cert.subjectInfo(QSslCertificate::CommonName), QStringList{QStringLiteral("provided.example")});
        auto r = httpsGet(QStringLiteral("https://127.0.0.1:%1/healthz").arg(server.apiTlsPort()), {cert});
        QVERIFY2(r.http.status == 200, qPrintable(r.http.networkError));
        QCOMPARE(r.peer, cert);
        QVERIFY(!QFile::exists(server.dataDir() + QStringLiteral("/tls/server.crt"))); // nothing generated
        QVERIFY(server.output().contains(cert.digest(QCryptographicHash::Sha256).toHex(':').toUpper()));
        QVERIFY(server.stop());
    }

    void mismatchedKeyRefusesToStart()
    {
        QTemporaryDir dir;
        QString error;
        if (!makeCertificate(dir.path(), QStringLiteral("a"), QStringLiteral("a.example"), &error) ||
            !makeCertificate(dir.path(), QStringLiteral("b"), QStringLiteral("b.example"), &error))
            QSKIP(qPrintable(error));
        TestServer server(kTlsArgs + QStringList{QStringLiteral("--tls-certificate"), dir.filePath(QStringLiteral("a.crt")),
                                                 QStringLiteral("--tls-certificate-key"),
                                                 dir.filePath(QStringLiteral("b.key"))});
        QVERIFY(!server.start(&error));
        QVERIFY2(error.contains(QStringLiteral("does not belong")) || error.contains(QStringLiteral("cannot load")),
                 qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestTls)
#include "tst_tls.moc"
