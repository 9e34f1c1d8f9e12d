// Shared by the models tests: a real dispatch-server with the python3 image and a fast hello function.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <functional>
#include <memory>

#include "models/endpoint.h"
#include "support/testserver.h"

namespace dispatch::test {

constexpr int kWaitMs = 120000; // bounded waits only: generous, never a timing assertion

// The python3 base image and image (no pip dependencies), READY.
inline bool seedPython(DispatchClient &api, QString *error)
{
    auto r = api.post(QStringLiteral("/v1/baseimage"), {{"name", "python3-base"},
                                                        {"dockerUrl", "dispatchframework/python3-base:0.0.13"},
                                                        {"language", "python3"}});
    if (r.status != 201 && r.status != 409) {
        *error = QStringLiteral("base image: %1 %2").arg(r.status).arg(QString::fromUtf8(r.body));
        return false;
    }
    r = api.post(QStringLiteral("/v1/image"), {{"name", "python3"}, {"baseImageName", "python3-base"}});
    if (r.status != 201 && r.status != 409) {
        *error = QStringLiteral("image: %1 %2").arg(r.status).arg(QString::fromUtf8(r.body));
        return false;
    }
    const auto img = api.waitForStatus(QStringLiteral("/v1/image/python3"), {}, std::chrono::minutes(5));
    if (img.value("status", "") != "READY") {
        *error = QStringLiteral("image not READY: ") + QString::fromStdString(img.dump());
        return false;
    }
    return true;
}

inline Json createHello(DispatchClient &api, const QString &name = QStringLiteral("hello"))
{
    return api.createFunction(name, QStringLiteral("python3"), QStringLiteral("python3/hello.py"),
                              QStringLiteral("hello.handle"));
}

// A non-blocking run: the 202 answer's run id, or "" (with a warning) when it was refused.
inline QString execAsync(DispatchClient &api, const QString &function, int i)
{
    auto r = api.post(QStringLiteral("/v1/runs?functionName=") + function,
                      Json{{"blocking", false}, {"input", {{"name", "run" + std::to_string(i)}}}});
    if (r.status != 202) {
        qWarning() << "exec" << r.status << r.body;
        return {};
    }
    return QString::fromStdString(r.json().value("name", ""));
}

inline models::Endpoint endpointOf(const TestServer &server)
{
    models::Endpoint e;
    e.name = QStringLiteral("test");
    e.baseUrl = QUrl(server.apiBase());
    e.organization = QStringLiteral("dispatch");
    e.cookie = QStringLiteral("cookie");
    return e;
}

// A port nobody listens on right now (bound, then released).
inline quint16 freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = probe.serverPort();
    probe.close();
    return port;
}

// A minimal HTTP/1.1 server standing in for servers we cannot run here (a plain Dispatch server, one that never
// answers). Each request gets `handler(method, target)` → {status, body}; a status of 0 means "never answer".
class FakeHttpServer : public QObject
{
public:
    using Handler = std::function<std::pair<int, QByteArray>(const QByteArray &method, const QByteArray &target)>;
    explicit FakeHttpServer(Handler handler) : m_handler(std::move(handler))
    {
        m_server.listen(QHostAddress::LocalHost, 0);
        QObject::connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection()) {
                s->setParent(this);
                QObject::connect(s, &QTcpSocket::readyRead, s, [this, s] { onData(s); });
            }
        });
    }
    quint16 port() const { return m_server.serverPort(); }
    QString base() const { return QStringLiteral("http://127.0.0.1:%1").arg(port()); }
    QList<QByteArray> requests; // "GET /v1/runs?..." in arrival order

private:
    void onData(QTcpSocket *s)
    {
        QByteArray &buffer = m_buffers[s];
        buffer += s->readAll();
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        const QByteArray head = buffer.left(end);
        buffer.clear();
        const QList<QByteArray> requestLine = head.left(head.indexOf("\r\n")).split(' ');
        if (requestLine.size() < 2)
            return;
        requests << requestLine[0] + ' ' + requestLine[1];
        const auto [status, body] = m_handler(requestLine[0], requestLine[1]);
        if (status == 0)
            return; // hang
        QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + " X\r\nContent-Type: application/json\r\n" +
                              "Content-Length: " + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        s->write(response);
        s->disconnectFromHost();
    }

    Handler m_handler;
    QTcpServer m_server;
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

} // namespace dispatch::test
