// GET /v1/watch against the real dispatch-server: run events in sequence order, resuming with Last-Event-ID
// and ?since, the reset when an id cannot be resumed, org and kind filtering, heartbeats, dropping a client that
// does not read, the end of a stream when its client goes away, and the request errors.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTcpSocket>
#include <QTest>

#include <functional>
#include <set>

#include "support/testserver.h"

using namespace dispatch::test;

namespace {

constexpr int kWaitMs = 120000; // bounded waits only: generous, never a timing assertion

struct SseEvent
{
    uint64_t id = 0;
    QByteArray type;
    QByteArray data;
    std::string resourceName; // data's "name", parsed once
    Json json() const { return Json::parse(data.toStdString(), nullptr, false); }
    const std::string &name() const { return resourceName; }
};

// An EventSource-like reader over QNetworkAccessManager: parses the stream as it arrives.
class SseClient
{
public:
    SseClient(quint16 port, const QString &org, const QString &query = {}, QMap<QByteArray, QByteArray> headers = {})
    {
        QNetworkRequest req(QUrl(QStringLiteral("http://127.0.0.1:%1/v1/watch%2")
                                     .arg(port)
                                     .arg(query.isEmpty() ? QString() : QLatin1Char('?') + query)));
        req.setRawHeader("Accept", "text/event-stream");
        req.setRawHeader("X-Dispatch-Org", org.toUtf8());
        req.setRawHeader("Cookie", "cookie");
        for (auto it = headers.begin(); it != headers.end(); ++it)
            req.setRawHeader(it.key(), it.value());
        m_reply = m_nam.get(req);
        QObject::connect(m_reply, &QNetworkReply::readyRead, m_reply, [this] { onData(); });
    }
    ~SseClient() { close(); }

    // Waits for the first block (retry/id): the subscription exists once it arrived.
    bool waitOpen() { return QTest::qWaitFor([&] { return m_blocks > 0 || m_reply->isFinished(); }, kWaitMs) && m_blocks > 0; }
    bool waitFor(const std::function<bool()> &done) { return QTest::qWaitFor(done, kWaitMs); }
    void close()
    {
        if (m_reply && !m_reply->isFinished())
            m_reply->abort();
    }

    int status() const { return m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(); }
    QByteArray header(const QByteArray &name) const { return m_reply->rawHeader(name); }
    bool finished() const { return m_reply->isFinished(); }

    QList<SseEvent> events;
    int pings = 0;
    uint64_t lastId = 0; // the last id: field seen (events, the opening id, heartbeat ids)
    bool sawRetry = false;

    QList<SseEvent> ofType(const QByteArray &type) const
    {
        QList<SseEvent> out;
        for (const auto &e : events)
            if (e.type == type)
                out.append(e);
        return out;
    }
    const SseEvent *find(const QByteArray &type, const std::string &name) const
    {
        for (const auto &e : events)
            if (e.type == type && e.name() == name)
                return &e;
        return nullptr;
    }
    bool hasAll(const QStringList &runs) const
    {
        for (const auto &r : runs)
            if (!find("run.created", r.toStdString()) || !find("run.updated", r.toStdString()))
                return false;
        return true;
    }

private:
    void onData()
    {
        // Searches only the new bytes (and the one before them): events may be megabytes long.
        const qsizetype from = std::max<qsizetype>(0, m_buffer.size() - 1);
        m_buffer += m_reply->readAll();
        qsizetype end = m_buffer.indexOf("\n\n", from);
        for (; end >= 0; end = m_buffer.indexOf("\n\n")) {
            const QByteArray block = m_buffer.left(end);
            m_buffer.remove(0, end + 2);
            ++m_blocks;
            SseEvent e;
            bool hasEvent = false;
            for (const QByteArray &line : block.split('\n')) {
                if (line.startsWith(':')) {
                    if (line == ": ping")
                        ++pings;
                    continue;
                }
                const qsizetype colon = line.indexOf(':');
                const QByteArray field = colon < 0 ? line : line.left(colon);
                QByteArray value = colon < 0 ? QByteArray() : line.mid(colon + 1);
                if (value.startsWith(' '))
                    value.remove(0, 1);
                if (field == "id") {
                    e.id = value.toULongLong();
                    lastId = e.id;
                } else if (field == "event") {
                    e.type = value;
                    hasEvent = true;
                } else if (field == "data") {
                    e.data += e.data.isEmpty() ? value : '\n' + value;
                    hasEvent = true;
                } else if (field == "retry") {
                    sawRetry = true;
                }
            }
            if (hasEvent) {
                const Json j = e.json();
                if (j.is_object())
                    e.resourceName = j.value("name", "");
                events.append(e);
            }
        }
    }

    QNetworkAccessManager m_nam;
    QNetworkReply *m_reply = nullptr;
    QByteArray m_buffer;
    int m_blocks = 0;
};

} // namespace

class TestWatch : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestServer> server;
    std::unique_ptr<DispatchClient> api;
    static constexpr int kHistory = 64;

    // A non-blocking run of the hello function; returns its name (the run id).
    QString execAsync(int i)
    {
        auto r = api->post(QStringLiteral("/v1/runs?functionName=hello"),
                           Json{{"blocking", false}, {"input", {{"name", "run" + std::to_string(i)}}}});
        if (r.status != 202) {
            qWarning() << "exec" << r.status << r.body;
            return {};
        }
        return QString::fromStdString(r.json().value("name", ""));
    }
    QStringList execMany(int n)
    {
        QStringList names;
        for (int i = 0; i < n; ++i)
            names << execAsync(i);
        return names;
    }

private slots:
    void initTestCase()
    {
        server = std::make_unique<TestServer>(
            QStringList{QStringLiteral("--watch-history"), QString::number(kHistory), QStringLiteral("--log-level"),
                        QStringLiteral("debug")});
        QString error;
        QVERIFY2(server->start(&error), qPrintable(error));
        api = std::make_unique<DispatchClient>(server->apiBase());
        QVERIFY2(api->seedImages(&error), qPrintable(error));
        auto f = api->createFunction(QStringLiteral("hello"), QStringLiteral("python3"),
                                     QStringLiteral("python3/hello.py"), QStringLiteral("hello.handle"));
        QCOMPARE(f.value("status", ""), std::string("READY"));
    }

    void cleanupTestCase()
    {
        if (server)
            QVERIFY(server->stop());
    }

    void requestErrors()
    {
        QCOMPARE(api->raw("POST", QStringLiteral("/v1/watch"), "{}").status, 405);
        QCOMPARE(api->get(QStringLiteral("/v1/watch/more")).status, 404);
        QCOMPARE(api->get(QStringLiteral("/v1/watch?since=abc")).status, 400);
        QCOMPARE(api->raw("GET", QStringLiteral("/v1/watch"), {}, {{"Last-Event-ID", "-1"}}).status, 400);
        QCOMPARE(api->get(QStringLiteral("/v1/watch?heartbeat=soon")).status, 400);
        auto noOrg = httpRequest("GET", server->apiBase() + QStringLiteral("/v1/watch"), {}, {{"Cookie", "cookie"}});
        QCOMPARE(noOrg.status, 422);
        QCOMPARE(noOrg.json().value("code", 0), 602);
    }

    void heartbeatArrives()
    {
        SseClient s(server->apiPort(), QStringLiteral("dispatch"), QStringLiteral("heartbeat=50"));
        QVERIFY(s.waitOpen());
        QCOMPARE(s.status(), 200);
        QVERIFY(s.header("Content-Type").startsWith("text/event-stream"));
        QCOMPARE(s.header("Cache-Control"), QByteArray("no-cache"));
        QVERIFY(!s.header("X-Dispatch-Watch-Epoch").isEmpty());
        QVERIFY(s.sawRetry);
        QVERIFY(s.waitFor([&] { return s.pings >= 3 || s.finished(); }));
        QVERIFY(s.pings >= 3);
        QVERIFY(s.events.isEmpty());
    }

    void deliversRunEventsInOrder()
    {
        SseClient s(server->apiPort(), QStringLiteral("dispatch"));
        QVERIFY(s.waitOpen());
        const uint64_t start = s.lastId; // the opening id: where this client's stream begins
        const QStringList runs = execMany(20);
        QVERIFY(!runs.contains(QString()));
        QVERIFY2(s.waitFor([&] { return s.hasAll(runs) || s.finished(); }), "not every run event arrived");
        QVERIFY(s.hasAll(runs));

        uint64_t previous = start;
        for (const auto &e : s.events) {
            QVERIFY2(e.id > previous, "ids must increase");
            previous = e.id;
            const Json j = e.json();
            QCOMPARE(QByteArray::fromStdString(j.value("type", "")), e.type);
            QCOMPARE(j.value("kind", ""), std::string("Run"));
            QCOMPARE(j["object"].value("name", ""), j.value("name", ""));
            QCOMPARE(j["object"].value("functionName", ""), std::string("hello"));
        }
        // Created in the order the runs were made (each POST answered before the next), updated after created.
        const auto created = s.ofType("run.created");
        QCOMPARE(created.size(), runs.size());
        for (int i = 0; i < runs.size(); ++i) {
            QCOMPARE(QString::fromStdString(created[i].name()), runs[i]);
            const SseEvent *updated = s.find("run.updated", runs[i].toStdString());
            QVERIFY(updated->id > created[i].id);
            const Json run = updated->json()["object"];
            QCOMPARE(run.value("status", ""), std::string("READY"));
            QCOMPARE(run["output"].value("myField", ""), "Hello, run" + std::to_string(i) + " from Nowhere");
        }
    }

    void resumesFromLastEventId()
    {
        SseClient keeper(server->apiPort(), QStringLiteral("dispatch")); // stays connected throughout
        QVERIFY(keeper.waitOpen());
        SseClient first(server->apiPort(), QStringLiteral("dispatch"));
        QVERIFY(first.waitOpen());
        const QStringList before = execMany(3);
        QVERIFY(first.waitFor([&] { return first.hasAll(before) || first.finished(); }));
        QVERIFY(first.hasAll(before));
        QVERIFY(keeper.waitFor([&] { return keeper.hasAll(before); }));
        const uint64_t lastSeen = first.events.last().id;
        QCOMPARE(keeper.events.last().id, lastSeen); // nothing else happened in between
        first.close();

        const QStringList missed = execMany(5);
        QVERIFY(keeper.waitFor([&] { return keeper.hasAll(missed) || keeper.finished(); }));
        QVERIFY(keeper.hasAll(missed));
        QList<SseEvent> expected;
        for (const auto &e : keeper.events)
            if (e.id > lastSeen)
                expected.append(e);
        QCOMPARE(expected.size(), 10);

        const QString id = QString::number(lastSeen);
        SseClient byHeader(server->apiPort(), QStringLiteral("dispatch"), QStringLiteral("heartbeat=50"),
                           {{"Last-Event-ID", id.toUtf8()}});
        SseClient byQuery(server->apiPort(), QStringLiteral("dispatch"), QStringLiteral("heartbeat=50&since=") + id);
        for (SseClient *c : {&byHeader, &byQuery}) {
            QVERIFY(c->waitOpen());
            // The replay is written before the first heartbeat: after a ping the replay is complete.
            QVERIFY(c->waitFor([&] { return c->pings >= 1 || c->finished(); }));
            QCOMPARE(c->events.size(), expected.size());
            for (int i = 0; i < expected.size(); ++i) {
                QCOMPARE(c->events[i].id, expected[i].id);
                QCOMPARE(c->events[i].type, expected[i].type);
                QCOMPARE(c->events[i].data, expected[i].data);
            }
        }
    }

    void resetWhenTheIdCannotBeResumed()
    {
        SseClient live(server->apiPort(), QStringLiteral("dispatch"));
        QVERIFY(live.waitOpen());
        // Push the feed past its history, so that the first ids are gone.
        if (live.lastId < uint64_t(kHistory) + 8) {
            const QStringList runs = execMany(int(kHistory + 8 - live.lastId) / 2 + 1);
            QVERIFY(live.waitFor([&] { return live.hasAll(runs) || live.finished(); }));
            QVERIFY(live.hasAll(runs));
        }
        const QByteArray epoch = live.header("X-Dispatch-Watch-Epoch");

        SseClient old(server->apiPort(), QStringLiteral("dispatch"), QStringLiteral("heartbeat=50"),
                      {{"Last-Event-ID", "1"}});
        QVERIFY(old.waitOpen());
        QVERIFY(old.waitFor([&] { return old.pings >= 1 || old.finished(); }));
        QCOMPARE(old.events.size(), 1); // the reset, and no partial replay
        QCOMPARE(old.events[0].type, QByteArray("reset"));
        QVERIFY(old.events[0].json() == Json({{"reason", "history expired"}}));
        const uint64_t resetId = old.events[0].id;
        QVERIFY(resetId >= uint64_t(kHistory));

        // The stream goes on with live changes after the reset.
        const QStringList after = execMany(1);
        QVERIFY(old.waitFor([&] { return old.hasAll(after) || old.finished(); }));
        QVERIFY(old.hasAll(after));
        QVERIFY(old.events[1].id > resetId);

        // The reset's id resumes cleanly.
        SseClient again(server->apiPort(), QStringLiteral("dispatch"), QStringLiteral("heartbeat=50"),
                        {{"Last-Event-ID", QByteArray::number(qulonglong(resetId))}, {"X-Dispatch-Watch-Epoch", epoch}});
        QVERIFY(again.waitOpen());
        QVERIFY(again.waitFor([&] { return again.pings >= 1 || again.finished(); }));
        QVERIFY(again.ofType("reset").isEmpty());
        QVERIFY(again.hasAll(after));

        // An id this server never issued (a previous run of it), and an id from another epoch.
        SseClient future(server->apiPort(), QStringLiteral("dispatch"), QStringLiteral("heartbeat=50"),
                         {{"Last-Event-ID", "999999999"}});
        SseClient otherEpoch(server->apiPort(), QStringLiteral("dispatch"), QStringLiteral("heartbeat=50"),
                             {{"Last-Event-ID", QByteArray::number(qulonglong(resetId))},
                              {"X-Dispatch-Watch-Epoch", "1"}});
        for (SseClient *c : {&future, &otherEpoch}) {
            QVERIFY(c->waitOpen());
            QVERIFY(c->waitFor([&] { return c->pings >= 1 || c->finished(); }));
            QVERIFY(!c->events.isEmpty());
            QCOMPARE(c->events[0].type, QByteArray("reset"));
        }
        QCOMPARE(future.events[0].json().value("reason", ""), std::string("unknown event id"));
        QCOMPARE(otherEpoch.events[0].json().value("reason", ""), std::string("server restarted"));
    }

    void filtersByOrg()
    {
        SseClient mine(server->apiPort(), QStringLiteral("dispatch"));
        SseClient other(server->apiPort(), QStringLiteral("other-org"));
        QVERIFY(mine.waitOpen());
        QVERIFY(other.waitOpen());
        const QStringList runs = execMany(2);
        QVERIFY(mine.waitFor([&] { return mine.hasAll(runs) || mine.finished(); }));
        QVERIFY(mine.hasAll(runs));

        DispatchClient otherApi(server->apiBase(), QStringLiteral("other-org"));
        auto r = otherApi.post(QStringLiteral("/v1/secret"),
                               Json{{"name", "watched"}, {"secrets", {{"password", "s3cr3t-value"}}}});
        QCOMPARE(r.status, 201);
        // Delivery is in sequence order: once the secret is here, any run of "dispatch" would have been too.
        QVERIFY(other.waitFor([&] { return other.find("secret.updated", "watched") || other.finished(); }));
        QCOMPARE(other.events.size(), 1);
        QCOMPARE(other.events[0].json().value("kind", ""), std::string("Secret"));
        QVERIFY(!other.events[0].data.contains("s3cr3t-value")); // names only, never values

        SseClient probe(server->apiPort(), QStringLiteral("dispatch"), QStringLiteral("heartbeat=50"),
                        {{"Last-Event-ID", QByteArray::number(qulonglong(mine.lastId))}});
        QVERIFY(probe.waitOpen());
        QVERIFY(probe.waitFor([&] { return probe.pings >= 1 || probe.finished(); }));
        QVERIFY(probe.events.isEmpty()); // the other org's secret is not replayed to "dispatch"
        QVERIFY(!mine.find("secret.updated", "watched"));
    }

    void filtersByKind()
    {
        SseClient all(server->apiPort(), QStringLiteral("dispatch"));
        SseClient secrets(server->apiPort(), QStringLiteral("dispatch"), QStringLiteral("kinds=Secret&heartbeat=50"));
        SseClient several(server->apiPort(), QStringLiteral("dispatch"), QStringLiteral("kinds=secret,%20Run"));
        QVERIFY(all.waitOpen());
        QVERIFY(secrets.waitOpen());
        QVERIFY(several.waitOpen());
        const QStringList runs = execMany(2);
        QVERIFY(all.waitFor([&] { return all.hasAll(runs) || all.finished(); }));
        QVERIFY(all.hasAll(runs));
        QVERIFY(several.waitFor([&] { return several.hasAll(runs) || several.finished(); }));
        // Filtered-out changes still move the client's last id along (on a heartbeat), so a resume later
        // does not reach back before them.
        const uint64_t newest = all.events.last().id;
        QVERIFY(secrets.waitFor([&] { return secrets.lastId >= newest || secrets.finished(); }));
        QCOMPARE(secrets.lastId, newest);

        QCOMPARE(api->post(QStringLiteral("/v1/secret"), Json{{"name", "kinds"}, {"secrets", {{"k", "v"}}}}).status,
                 201);
        QVERIFY(secrets.waitFor([&] { return secrets.find("secret.updated", "kinds") || secrets.finished(); }));
        QVERIFY(several.waitFor([&] { return several.find("secret.updated", "kinds") || several.finished(); }));
        QCOMPARE(secrets.events.size(), 1);
        for (const auto &e : several.events)
            QVERIFY(e.type.startsWith("run.") || e.type.startsWith("secret."));
    }

    void slowClientIsDropped()
    {
        // A client that stops reading: Qt keeps at most 1 KiB for it and the kernel buffers fill up.
        QTcpSocket slow;
        slow.setReadBufferSize(1024);
        slow.connectToHost(QStringLiteral("127.0.0.1"), server->apiPort());
        QVERIFY(slow.waitForConnected(kWaitMs));
        slow.write("GET /v1/watch HTTP/1.1\r\nHost: localhost\r\nX-Dispatch-Org: dispatch\r\nCookie: c\r\n\r\n");
        QVERIFY(QTest::qWaitFor([&] { return slow.bytesAvailable() > 0; }, kWaitMs));
        QVERIFY(slow.peek(64).startsWith("HTTP/1.1 200"));

        // Runs with a 1 MiB input: each of their events carries it (the output too), far beyond the 4 MiB bound.
        SseClient fast(server->apiPort(), QStringLiteral("dispatch"));
        QVERIFY(fast.waitOpen());
        const uint64_t beforeBigRuns = fast.lastId;
        const std::string big(1 << 20, 'x');
        QStringList runs;
        for (int i = 0; i < 6; ++i) {
            auto r = api->post(QStringLiteral("/v1/runs?functionName=hello"),
                               Json{{"blocking", false}, {"input", {{"name", big}}}});
            QCOMPARE(r.status, 202);
            runs << QString::fromStdString(r.json().value("name", ""));
        }
        // A client that keeps up is not affected.
        QVERIFY(fast.waitFor([&] { return fast.hasAll(runs) || fast.finished(); }));
        QVERIFY(fast.hasAll(runs));
        QVERIFY2(QTest::qWaitFor([&] { return server->output().contains("dropping stream client"); }, kWaitMs),
                 "the slow client was not dropped");
        // Reading again, the slow client gets what was already sent, then finds its connection closed.
        slow.setReadBufferSize(0);
        QVERIFY(slow.state() == QAbstractSocket::UnconnectedState || slow.waitForDisconnected(kWaitMs));

        // Resuming from before those runs would replay more than a reload costs: a reset instead.
        SseClient behind(server->apiPort(), QStringLiteral("dispatch"), QStringLiteral("heartbeat=50"),
                         {{"Last-Event-ID", QByteArray::number(qulonglong(beforeBigRuns))}});
        QVERIFY(behind.waitOpen());
        QVERIFY(behind.waitFor([&] { return behind.pings >= 1 || behind.finished(); }));
        QCOMPARE(behind.events.size(), 1);
        QCOMPARE(behind.events[0].type, QByteArray("reset"));
        QCOMPARE(behind.events[0].json().value("reason", ""), std::string("too far behind"));
        QVERIFY(behind.events[0].id >= fast.events.last().id);
        QCOMPARE(behind.lastId, behind.events[0].id); // the dropped replay does not move the client's id
    }

    void endsWhenTheClientGoesAway()
    {
        const QString org = QStringLiteral("leaving-org");
        auto s = std::make_unique<SseClient>(server->apiPort(), org, QStringLiteral("heartbeat=50"));
        QVERIFY(s->waitOpen());
        QVERIFY(s->waitFor([&] { return s->pings >= 1; }));
        s.reset(); // aborts the connection
        // The heartbeat notices the closed connection and removes the subscription (logged at debug level).
        const QByteArray closed = "watch for org " + org.toUtf8() + " closed";
        QVERIFY2(QTest::qWaitFor([&] { return server->output().contains(closed); }, kWaitMs),
                 "the watch stream was not closed after its client left");
    }
};

QTEST_GUILESS_MAIN(TestWatch)
#include "tst_watch.moc"
