// Reads our server's change feed, GET /v1/watch (Server-Sent Events), and hands each change to the models.
// Resumes with Last-Event-ID after a disconnect; `event: reset` (history lost, server restarted) asks the models
// to reload. Reconnects with backoff. Plain Dispatch servers have no watch: state() becomes Unsupported and the
// models poll instead.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <chrono>

#include <nlohmann/json.hpp>

class QNetworkReply;

namespace dispatch::models {

class RestClient;

class WatchClient : public QObject
{
    Q_OBJECT
    Q_PROPERTY(State state READ state NOTIFY stateChanged)

public:
    enum class State {
        Stopped,     // start() not called, or stop()
        Connecting,  // request sent, no answer yet
        Streaming,   // the stream is open: changes arrive live
        Waiting,     // disconnected; reconnecting after a backoff delay
        Unsupported, // the server has no /v1/watch (a plain Dispatch server); retried when the endpoint changes
    };
    Q_ENUM(State)

    explicit WatchClient(RestClient *client, QObject *parent = nullptr);
    ~WatchClient() override;

    // Only these kinds (e.g. {"Run"}); empty = every kind. Takes effect on the next connection.
    void setKinds(const QStringList &kinds) { m_kinds = kinds; }
    // Server heartbeat interval to ask for (?heartbeat=ms); 0 = the server's default.
    void setHeartbeat(std::chrono::milliseconds heartbeat) { m_heartbeat = heartbeat; }

    void start(); // connects (again); resumes from lastEventId() when there is one
    void stop();
    State state() const { return m_state; }
    bool isStreaming() const { return m_state == State::Streaming; }
    quint64 lastEventId() const { return m_lastEventId; }
    QString lastError() const { return m_lastError; }
    RestClient *client() const { return m_client; }

signals:
    void stateChanged(dispatch::models::WatchClient::State state);
    // type: "run.created", "run.updated", "function.updated", "function.deleted", ...; kind: "Run", "Function",
    // "Image", "BaseImage", "Secret", "API", "Driver", "DriverType", "Subscription"; name: resource name or run id;
    // object: the resource as the API returns it (secrets: names of the keys only, as "keys").
    void change(const QString &type, const QString &kind, const QString &name, const nlohmann::json &object);
    // The server could not replay what was missed: reload everything (the stream goes on from here).
    void resetRequired();

private:
    void connectNow();
    void onReadyRead();
    void onFinished();
    void processBlock(const QByteArray &block);
    void setState(State state);
    void scheduleReconnect();

    QPointer<RestClient> m_client;
    QPointer<QNetworkReply> m_reply;
    QStringList m_kinds;
    std::chrono::milliseconds m_heartbeat{0};
    State m_state = State::Stopped;
    QByteArray m_buffer;
    quint64 m_lastEventId = 0;
    bool m_haveEventId = false;
    QByteArray m_epoch; // X-Dispatch-Watch-Epoch: ids from another server run cannot be resumed
    QString m_lastError;
    std::chrono::milliseconds m_backoff{0};
    QTimer m_reconnectTimer;
    QTimer m_idleTimer; // no byte (not even a ping) for too long: the connection is dead
};

} // namespace dispatch::models
