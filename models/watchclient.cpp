// SPDX-License-Identifier: GPL-3.0-or-later
#include "watchclient.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QUrlQuery>

#include <algorithm>

#include "restclient.h"

namespace dispatch::models {

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{1000};
constexpr std::chrono::milliseconds kMaxBackoff{30000};
constexpr std::chrono::milliseconds kServerDefaultHeartbeat{15000};
constexpr qsizetype kMaxBuffer = 64 * 1024 * 1024; // one event bigger than this is not a Dispatch change

} // namespace

WatchClient::WatchClient(RestClient *client, QObject *parent) : QObject(parent), m_client(client)
{
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &WatchClient::connectNow);
    m_idleTimer.setSingleShot(true);
    connect(&m_idleTimer, &QTimer::timeout, this, [this] {
        m_lastError = QStringLiteral("The change stream went silent; reconnecting.");
        if (m_reply)
            m_reply->abort(); // onFinished reconnects
    });
    if (client) {
        connect(client, &RestClient::endpointChanged, this, [this] {
            // Another server: event ids and the epoch mean nothing there.
            m_haveEventId = false;
            m_lastEventId = 0;
            m_epoch.clear();
            if (m_state != State::Stopped) {
                stop();
                start();
            }
        });
        // The server came back: do not wait for the backoff.
        connect(client, &RestClient::connectionStateChanged, this, [this](RestClient::ConnectionState s) {
            if (s == RestClient::ConnectionState::Connected && m_state == State::Waiting) {
                m_reconnectTimer.stop();
                connectNow();
            }
        });
    }
}

WatchClient::~WatchClient()
{
    if (m_reply) {
        disconnect(m_reply, nullptr, this, nullptr);
        m_reply->abort();
        m_reply->deleteLater();
    }
}

void WatchClient::start()
{
    if (m_state != State::Stopped && m_state != State::Unsupported && m_state != State::Waiting)
        return;
    m_backoff = std::chrono::milliseconds(0);
    m_reconnectTimer.stop();
    connectNow();
}

void WatchClient::stop()
{
    m_reconnectTimer.stop();
    m_idleTimer.stop();
    setState(State::Stopped); // before the abort: onFinished sees Stopped and does not reconnect
    if (m_reply) {
        QNetworkReply *reply = m_reply;
        m_reply = nullptr;
        disconnect(reply, nullptr, this, nullptr);
        reply->abort();
        reply->deleteLater();
    }
    m_buffer.clear();
}

void WatchClient::connectNow()
{
    if (!m_client || !m_client->endpoint().isValid()) {
        m_lastError = QStringLiteral("No server address is set for this context.");
        setState(State::Waiting);
        return;
    }
    if (m_reply) {
        disconnect(m_reply, nullptr, this, nullptr);
        m_reply->abort();
        m_reply->deleteLater();
    }
    QUrlQuery query;
    if (!m_kinds.isEmpty())
        query.addQueryItem(QStringLiteral("kinds"), m_kinds.join(QLatin1Char(',')));
    if (m_heartbeat.count() > 0)
        query.addQueryItem(QStringLiteral("heartbeat"), QString::number(m_heartbeat.count()));
    QString path = QStringLiteral("/v1/watch");
    if (!query.isEmpty())
        path += QLatin1Char('?') + query.toString(QUrl::FullyEncoded);
    QNetworkRequest request = m_client->makeRequest(path);
    request.setRawHeader("Accept", "text/event-stream");
    request.setRawHeader("Cache-Control", "no-cache");
    if (m_haveEventId)
        request.setRawHeader("Last-Event-ID", QByteArray::number(m_lastEventId));
    if (!m_epoch.isEmpty())
        request.setRawHeader("X-Dispatch-Watch-Epoch", m_epoch);
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    m_buffer.clear();
    m_reply = m_client->networkAccessManager()->get(request);
    setState(State::Connecting);
    const auto heartbeat = m_heartbeat.count() > 0 ? m_heartbeat : kServerDefaultHeartbeat;
    m_idleTimer.start(heartbeat * 3 + std::chrono::milliseconds(5000));
    connect(m_reply, &QNetworkReply::metaDataChanged, this, [this] {
        if (!m_reply)
            return;
        const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (status == 200) {
            const QByteArray epoch = m_reply->rawHeader("X-Dispatch-Watch-Epoch");
            if (!epoch.isEmpty())
                m_epoch = epoch;
            m_backoff = std::chrono::milliseconds(0);
            m_lastError.clear();
            setState(State::Streaming);
        }
    });
    connect(m_reply, &QNetworkReply::readyRead, this, &WatchClient::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &WatchClient::onFinished);
}

void WatchClient::onReadyRead()
{
    if (!m_reply)
        return;
    const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status != 200)
        return; // an error body: read in onFinished
    const auto heartbeat = m_heartbeat.count() > 0 ? m_heartbeat : kServerDefaultHeartbeat;
    m_idleTimer.start(heartbeat * 3 + std::chrono::milliseconds(5000));
    // Only the new bytes (and the one before them) can complete a block: events may be large.
    const qsizetype from = std::max<qsizetype>(0, m_buffer.size() - 1);
    QByteArray chunk = m_reply->readAll();
    chunk.replace("\r\n", "\n");
    m_buffer += chunk;
    if (m_buffer.size() > kMaxBuffer) {
        m_lastError = QStringLiteral("The change stream sent an event larger than 64 MiB; reconnecting.");
        m_reply->abort();
        return;
    }
    qsizetype start = 0;
    qsizetype end = m_buffer.indexOf("\n\n", from);
    while (end >= 0) {
        processBlock(m_buffer.mid(start, end - start));
        if (!m_reply) // a handler stopped us
            return;
        start = end + 2;
        end = m_buffer.indexOf("\n\n", start);
    }
    if (start > 0)
        m_buffer.remove(0, start);
}

void WatchClient::processBlock(const QByteArray &block)
{
    QByteArray event;
    QByteArray data;
    bool hasData = false;
    for (const QByteArray &line : block.split('\n')) {
        if (line.isEmpty() || line.startsWith(':'))
            continue; // comments (": ping")
        const qsizetype colon = line.indexOf(':');
        const QByteArray field = colon < 0 ? line : line.left(colon);
        QByteArray value = colon < 0 ? QByteArray() : line.mid(colon + 1);
        if (value.startsWith(' '))
            value.remove(0, 1);
        if (field == "id") {
            bool ok = false;
            const quint64 id = value.toULongLong(&ok);
            if (ok) {
                m_lastEventId = id;
                m_haveEventId = true;
            }
        } else if (field == "event") {
            event = value;
        } else if (field == "data") {
            if (hasData)
                data += '\n';
            data += value;
            hasData = true;
        }
    }
    if (event == "reset") {
        emit resetRequired();
        return;
    }
    if (!hasData)
        return;
    const Json j = Json::parse(data.constBegin(), data.constEnd(), nullptr, false);
    if (!j.is_object())
        return; // untrusted input: skip what is not a change
    auto str = [&](const char *key) {
        auto it = j.find(key);
        return it != j.end() && it->is_string() ? QString::fromStdString(it->get<std::string>()) : QString();
    };
    QString type = str("type");
    if (type.isEmpty())
        type = QString::fromUtf8(event);
    const QString kind = str("kind");
    const QString name = str("name");
    if (type.isEmpty() || kind.isEmpty() || name.isEmpty())
        return;
    auto obj = j.find("object");
    emit change(type, kind, name, obj != j.end() ? *obj : Json());
}

void WatchClient::onFinished()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    m_reply = nullptr;
    reply->deleteLater();
    m_idleTimer.stop();
    if (m_state == State::Stopped)
        return;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status == 404 || status == 405 || status == 501) {
        m_lastError = QStringLiteral("This server has no change stream; the console polls instead.");
        setState(State::Unsupported);
        return;
    }
    if (status == 400 && m_haveEventId) {
        m_haveEventId = false; // an id it does not take: start over (the models reload)
        m_epoch.clear();
        emit resetRequired();
    }
    if (status != 200 && status != 0) {
        const ApiResult r = RestClient::resultFrom(reply, m_client ? m_client->endpoint() : Endpoint{}, false);
        m_lastError = r.errorMessage;
    } else if (reply->error() != QNetworkReply::NoError && reply->error() != QNetworkReply::OperationCanceledError) {
        m_lastError = RestClient::networkErrorMessage(reply->error(), reply->errorString(),
                                                      m_client ? m_client->endpoint() : Endpoint{}, false);
    } else if (m_lastError.isEmpty()) {
        m_lastError = QStringLiteral("The change stream ended; reconnecting.");
    }
    scheduleReconnect();
}

void WatchClient::scheduleReconnect()
{
    m_backoff = m_backoff.count() == 0 ? kFirstBackoff : std::min(m_backoff * 2, kMaxBackoff);
    setState(State::Waiting);
    m_reconnectTimer.start(m_backoff);
}

void WatchClient::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    emit stateChanged(state);
}

} // namespace dispatch::models
