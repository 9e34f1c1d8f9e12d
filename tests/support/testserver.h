// Test support: the real dispatch-server as a child process on loopback port 0 with a throw-away data dir,
// and a small synchronous HTTP client for test code (tests may wait; the product never does).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QMap>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <QUrl>

#include <chrono>
#include <functional>
#include <memory>

#include <nlohmann/json.hpp>

namespace dispatch::test {

using Json = nlohmann::json;

class TestServer
{
public:
    // `dataDir` empty = a new temporary directory owned by this object (kept across restart()).
    explicit TestServer(QStringList extraArgs = {}, QString dataDir = {});
    ~TestServer();

    bool start(QString *error = nullptr);
    bool stop();    // SIGTERM, then waits for a clean exit; returns whether it exited 0
    void kill();    // SIGKILL (a crash)
    bool restart(); // stop() + start() on the same data dir and ports chosen anew

    QString dataDir() const { return m_dataDir; }
    quint16 apiPort() const { return m_apiPort; }
    quint16 gatewayPort() const { return m_gatewayPort; }
    qint64 pid() const { return m_process ? m_process->processId() : 0; }
    QString apiBase() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_apiPort); }
    QString gatewayBase() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_gatewayPort); }
    // With --enable-tls (0 otherwise); with --disable-http apiPort()/gatewayPort() are 0.
    quint16 apiTlsPort() const { return m_apiTlsPort; }
    quint16 gatewayTlsPort() const { return m_gatewayTlsPort; }
    QByteArray output() const; // what the server printed so far (stderr and stdout)
    int exitCode() const { return m_lastExitCode; }

private:
    QStringList m_extraArgs;
    std::unique_ptr<QTemporaryDir> m_tmp;
    QString m_dataDir;
    std::unique_ptr<QProcess> m_process;
    QByteArray m_output;
    quint16 m_apiPort = 0;
    quint16 m_gatewayPort = 0;
    quint16 m_apiTlsPort = 0;
    quint16 m_gatewayTlsPort = 0;
    int m_lastExitCode = -1;
};

struct HttpResult
{
    int status = 0; // 0 = no HTTP answer (network error)
    QByteArray body;
    QMap<QByteArray, QByteArray> headers; // lower-case names
    QString networkError;
    Json json() const; // parsed body (null when not JSON)
};

// Sends one request and waits for the answer (at most `timeout`).
HttpResult httpRequest(const QByteArray &method, const QString &url, const QByteArray &body = {},
                       const QMap<QByteArray, QByteArray> &headers = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A Dispatch API client with the CLI's headers (X-Dispatch-Org, Cookie).
class DispatchClient
{
public:
    DispatchClient(QString base, QString org = QStringLiteral("dispatch"));
    void setOrg(const QString &org) { m_org = org; }
    HttpResult get(const QString &path);
    HttpResult post(const QString &path, const Json &body);
    HttpResult put(const QString &path, const Json &body);
    HttpResult del(const QString &path);
    HttpResult raw(const QByteArray &method, const QString &path, const QByteArray &body,
                   QMap<QByteArray, QByteArray> headers = {});

    // Polls GET `path` until `.status` is one of `wanted` (or ERROR / READY when `wanted` is empty) or the
    // timeout passes; returns the last document.
    Json waitForStatus(const QString &path, const QStringList &wanted = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(120));

    // The Dispatch seed images of §5.3 for the runtimes this host has (python3, nodejs, java).
    bool seedImages(QString *error = nullptr);

    // base64 tar.gz of a fixture directory or single file under tests/fixtures/functions/.
    static QByteArray fixtureSource(const QString &relativePath);
    // base64 tar.gz of files given in memory: {"hello.py": "..."}.
    static QByteArray sourceOf(const std::map<std::string, std::string> &files);

    // Creates a function from a fixture and waits for READY (or ERROR); returns the final document.
    Json createFunction(const QString &name, const QString &image, const QString &fixture, const QString &handler,
                        Json extra = Json::object());

private:
    QString m_base;
    QString m_org;
};

// Where GUI and server tests save their artefacts (screenshots, logs): <build>/test-output/<name>.
QString testOutputDir(const QString &name);

} // namespace dispatch::test
