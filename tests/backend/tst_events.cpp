// The event system over the real server: emit and ingest (CloudEvents 0.1, 1.0 structured and binary),
// subscriptions (status machine, secrets, a function that appears later, org isolation), driver types and
// drivers (cron, ticker, push, a custom executable, an image that needs a container engine), the error
// contract, and durable delivery across a crash. The cron matcher is also tested on its own.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QTest>
#include <QUuid>

#include <cstdlib>
#include <ctime>
#include <functional>

#include "events/cronschedule.h"
#include "support/testserver.h"

using namespace dispatch::test;
using namespace std::chrono_literals;

// QCOMPARE cannot take nlohmann::json (QTest's overloads make it ambiguous): compare the serialisations.
#define QCOMPARE_JSON(actual, expected) \
    QCOMPARE(QString::fromStdString(Json(actual).dump()), QString::fromStdString(Json(expected).dump()))

namespace {

std::string newId()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces).toStdString();
}

Json event01(const std::string &type, const std::string &id, Json data)
{
    return Json{{"eventType", type},   {"cloudEventsVersion", "0.1"},         {"source", "dispatch"},
                {"eventID", id},       {"contentType", "application/json"}, {"data", std::move(data)}};
}

bool finished(const Json &run)
{
    const auto s = run.value("status", "");
    return s == "READY" || s == "ERROR";
}

std::string eventIdOf(const Json &run)
{
    return run.contains("event") && run["event"].is_object() ? run["event"].value("eventID", "") : std::string();
}

std::string eventTypeOf(const Json &run)
{
    return run.contains("event") && run["event"].is_object() ? run["event"].value("eventType", "") : std::string();
}

// Finished runs of `fn` for which `pred` holds, polled until there are at least `count` (or the time is up).
Json waitForRuns(DispatchClient &client, const QString &fn, const std::function<bool(const Json &)> &pred,
                 std::size_t count = 1, std::chrono::milliseconds timeout = 90s)
{
    QElapsedTimer t;
    t.start();
    while (true) {
        Json matching = Json::array();
        auto runs = client.get(QStringLiteral("/v1/runs?functionName=") + fn).json();
        if (runs.is_array())
            for (const auto &r : runs)
                if (finished(r) && pred(r))
                    matching.push_back(r);
        if (matching.size() >= count || t.elapsed() > timeout.count())
            return matching;
        QTest::qWait(100);
    }
}

Json waitForEventRun(DispatchClient &client, const QString &fn, const std::string &eventId)
{
    auto runs = waitForRuns(client, fn, [&](const Json &r) { return eventIdOf(r) == eventId; });
    return runs.empty() ? Json() : runs[0];
}

std::size_t countRuns(DispatchClient &client, const QString &fn, const std::function<bool(const Json &)> &pred)
{
    std::size_t n = 0;
    auto runs = client.get(QStringLiteral("/v1/runs?functionName=") + fn).json();
    if (runs.is_array())
        for (const auto &r : runs)
            if (pred(r))
                ++n;
    return n;
}

// Polls GET `path` until it answers 404 (the entity is gone).
bool waitForGone(DispatchClient &client, const QString &path, std::chrono::milliseconds timeout = 30s)
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < timeout.count()) {
        if (client.get(path).status == 404)
            return true;
        QTest::qWait(50);
    }
    return false;
}

QString str(const Json &j)
{
    return QString::fromStdString(j.dump());
}

std::chrono::system_clock::time_point utc(const QString &iso)
{
    const auto dt = QDateTime::fromString(iso, Qt::ISODateWithMs);
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(dt.toMSecsSinceEpoch()));
}

} // namespace

class TestEvents : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestServer> server;
    std::unique_ptr<DispatchClient> api;

    Json createSubscription(DispatchClient &client, const std::string &name, const std::string &type,
                            const std::string &fn, Json secrets = Json::array())
    {
        auto r = client.post(QStringLiteral("/v1/event/subscriptions"),
                             {{"name", name}, {"eventType", type}, {"function", fn}, {"secrets", secrets}});
        if (r.status != 201)
            qWarning() << "subscription" << name.c_str() << r.status << r.body;
        return client.waitForStatus(QStringLiteral("/v1/event/subscriptions/") + QString::fromStdString(name), {},
                                    30s);
    }

    HttpResult emitEvent(DispatchClient &client, const Json &event)
    {
        return client.post(QStringLiteral("/v1/event/"), event);
    }

private slots:
    void initTestCase()
    {
        // The cron matcher works in local time: pin it for the table tests.
        qputenv("TZ", "UTC");
        tzset();
        server = std::make_unique<TestServer>(QStringList{QStringLiteral("--log-level"), QStringLiteral("debug")});
        QString error;
        QVERIFY2(server->start(&error), qPrintable(error));
        api = std::make_unique<DispatchClient>(server->apiBase());
        QVERIFY2(api->seedImages(&error), qPrintable(error));
        for (const char *fn : {"echo-py", "ticker-fn", "cron-fn"}) {
            auto f = api->createFunction(QString::fromLatin1(fn), QStringLiteral("python3"),
                                         QStringLiteral("python3/echo.py"), QStringLiteral("echo.handle"));
            QVERIFY2(f.value("status", "") == "READY", qPrintable(str(f)));
        }
    }

    void cleanupTestCase()
    {
        if (server) {
            QVERIFY(server->stop());
            QFile log(testOutputDir(QStringLiteral("events")) + QStringLiteral("/tst_events.log"));
            log.open(QIODevice::WriteOnly);
            log.write(server->output());
        }
    }

    // --- the cron matcher on its own ----------------------------------------------------------------------------
    void cronSchedule_data()
    {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<QString>("after");
        QTest::addColumn<QString>("expected"); // empty: no match within five years
        QTest::newRow("robfig 5 fields: first is seconds") << "0/10 * * * *" << "2024-03-05T12:00:03Z"
                                                           << "2024-03-05T12:00:10Z";
        QTest::newRow("every second") << "*/1 * * * * *" << "2024-03-05T12:00:03.500Z" << "2024-03-05T12:00:04Z";
        QTest::newRow("minute wraps") << "* * * * * *" << "2024-03-05T12:00:59Z" << "2024-03-05T12:01:00Z";
        QTest::newRow("weekday names and range") << "0 30 9 * * MON-FRI" << "2024-03-09T10:00:00Z"
                                                 << "2024-03-11T09:30:00Z";
        QTest::newRow("month name") << "0 0 0 1 JAN *" << "2024-03-05T00:00:00Z" << "2025-01-01T00:00:00Z";
        QTest::newRow("dom or dow when both restricted") << "0 0 12 13 * FRI" << "2024-03-05T00:00:00Z"
                                                         << "2024-03-08T12:00:00Z";
        QTest::newRow("question mark") << "15 * * * * ?" << "2024-03-05T12:00:20Z" << "2024-03-05T12:01:15Z";
        QTest::newRow("range with step") << "5-10/5 * * * * *" << "2024-03-05T12:00:06Z" << "2024-03-05T12:00:10Z";
        QTest::newRow("list") << "7,3,50 * * * * *" << "2024-03-05T12:00:04Z" << "2024-03-05T12:00:07Z";
        QTest::newRow("sunday as 7") << "0 0 0 * * 7" << "2024-03-05T00:00:00Z" << "2024-03-10T00:00:00Z";
        QTest::newRow("leap day") << "0 0 0 29 2 *" << "2024-03-01T00:00:00Z" << "2028-02-29T00:00:00Z";
        QTest::newRow("never") << "0 0 0 30 2 *" << "2024-03-01T00:00:00Z" << "";
        QTest::newRow("@every") << "@every 5s" << "2024-03-05T12:00:00Z" << "2024-03-05T12:00:05Z";
        QTest::newRow("@hourly") << "@hourly" << "2024-03-05T12:00:00Z" << "2024-03-05T13:00:00Z";
    }

    void cronSchedule()
    {
        QFETCH(QString, spec);
        QFETCH(QString, after);
        QFETCH(QString, expected);
        auto s = dispatch::events::CronSchedule::parse(spec.toStdString());
        QVERIFY2(s.ok(), s.ok() ? "" : s.error().message.c_str());
        auto next = s->next(utc(after));
        if (expected.isEmpty()) {
            QVERIFY(!next.has_value());
            return;
        }
        QVERIFY(next.has_value());
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next->time_since_epoch()).count();
        QCOMPARE(QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODate), expected);
    }

    void cronScheduleErrors_data()
    {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<QString>("message");
        QTest::newRow("four fields") << "* * * *" << "expected 5 or 6 fields";
        QTest::newRow("seven fields") << "59 59 23 31 12 ? 2099" << "expected 5 or 6 fields";
        QTest::newRow("second out of range") << "60 * * * * *" << "value out of range (0-59)";
        QTest::newRow("unknown name") << "* * * * FOO *" << "cannot read 'FOO'";
        QTest::newRow("zero step") << "*/0 * * * * *" << "the step must be a positive number";
        QTest::newRow("reversed range") << "5-1 * * * * *" << "the range start is beyond its end";
        QTest::newRow("empty list item") << "1,,2 * * * * *" << "empty value";
        QTest::newRow("@every without duration") << "@every" << "cannot read the duration";
        QTest::newRow("unknown descriptor") << "@sometimes" << "unknown cron descriptor";
    }

    void cronScheduleErrors()
    {
        QFETCH(QString, spec);
        QFETCH(QString, message);
        auto s = dispatch::events::CronSchedule::parse(spec.toStdString());
        QVERIFY(!s.ok());
        QVERIFY2(QString::fromStdString(s.error().message).contains(message), s.error().message.c_str());
    }

    // --- emit and subscriptions (events.bats #2) ---------------------------------------------------------------
    void emitRunsTheSubscriptionAndUpdateChangesTheEventType()
    {
        auto f = api->createFunction(QStringLiteral("node-echo-back"), QStringLiteral("nodejs"),
                                     QStringLiteral("nodejs/debug.js"), QStringLiteral("./debug.js"));
        QCOMPARE(f.value("status", ""), std::string("READY"));

        auto r = api->post(QStringLiteral("/v1/event/subscriptions"),
                           {{"name", "testsub-1"}, {"eventType", "test.event.1"}, {"function", "node-echo-back"}});
        QCOMPARE(r.status, 201);
        auto created = r.json();
        QCOMPARE(created.value("status", ""), std::string("CREATING"));
        QCOMPARE(created.value("kind", ""), std::string("Subscription"));
        QVERIFY(!created.contains("id"));
        QVERIFY(created.value("createdTime", 0LL) > 0);
        auto sub = api->waitForStatus(QStringLiteral("/v1/event/subscriptions/testsub-1"));
        QCOMPARE(sub.value("status", ""), std::string("READY"));

        const Json data = {{"name", "Jon"}, {"place", "Winterfell"}};
        const std::string id = newId();
        r = emitEvent(*api, event01("test.event.1", id, data));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value("eventID", ""), id);
        QCOMPARE_JSON(r.json()["data"], data);

        auto run = waitForEventRun(*api, QStringLiteral("node-echo-back"), id);
        QVERIFY2(run.is_object(), "the emitted event did not run the function");
        QCOMPARE(run.value("status", ""), std::string("READY"));
        QCOMPARE(run.value("functionName", ""), std::string("node-echo-back"));
        QCOMPARE(run["output"]["context"]["event"]["eventType"].get<std::string>(), std::string("test.event.1"));
        QCOMPARE_JSON(run["output"]["params"], data);
        QCOMPARE_JSON(run["input"], data);
        QVERIFY(!run["event"].contains("data")); // ctx.event is the event without data (§6.5)

        // update -f with a new event type (and tags), as the e2e test does
        r = api->put(QStringLiteral("/v1/event/subscriptions/testsub-1"),
                     {{"name", "testsub-1"},
                      {"kind", "Subscription"},
                      {"eventType", "test.event.2"},
                      {"function", "node-echo-back"},
                      {"secrets", Json::array()},
                      {"tags", {{{"key", "label"}, {"value", "update"}}}}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value("status", ""), std::string("UPDATING"));
        sub = api->waitForStatus(QStringLiteral("/v1/event/subscriptions/testsub-1"));
        QCOMPARE(sub.value("status", ""), std::string("READY"));
        QCOMPARE(sub.value("eventType", ""), std::string("test.event.2"));
        QVERIFY(sub.value("modifiedTime", 0LL) >= sub.value("createdTime", 0LL));

        const std::string oldTypeId = newId();
        QCOMPARE(emitEvent(*api, event01("test.event.1", oldTypeId, data)).status, 200); // matches nothing now
        const std::string newTypeId = newId();
        QCOMPARE(emitEvent(*api, event01("test.event.2", newTypeId, data)).status, 200);
        run = waitForEventRun(*api, QStringLiteral("node-echo-back"), newTypeId);
        QVERIFY(run.is_object());
        QCOMPARE(run["output"]["context"]["event"]["eventType"].get<std::string>(), std::string("test.event.2"));
        // An event that matched nothing was dropped when it was accepted: it can never run.
        QCOMPARE(countRuns(*api, QStringLiteral("node-echo-back"),
                           [&](const Json &x) { return eventIdOf(x) == oldTypeId; }),
                 std::size_t(0));

        r = api->del(QStringLiteral("/v1/event/subscriptions/testsub-1"));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value("status", ""), std::string("DELETING"));
        QVERIFY(waitForGone(*api, QStringLiteral("/v1/event/subscriptions/testsub-1")));
        QCOMPARE(api->del(QStringLiteral("/v1/event/subscriptions/testsub-1")).status, 404);
    }

    void subscriptionSecretsReachTheFunction()
    {
        auto r = api->post(QStringLiteral("/v1/secret"), {{"name", "sub-secret"}, {"secrets", {{"password", "OpenSesame"}}}});
        QCOMPARE(r.status, 201);
        auto sub = createSubscription(*api, "secret-sub", "secret.event", "echo-py", Json::array({"sub-secret"}));
        QCOMPARE(sub.value("status", ""), std::string("READY"));
        QCOMPARE_JSON(sub["secrets"], Json::array({"sub-secret"}));
        const std::string id = newId();
        QCOMPARE(emitEvent(*api, event01("secret.event", id, {{"n", 1}})).status, 200);
        auto run = waitForEventRun(*api, QStringLiteral("echo-py"), id);
        QVERIFY(run.is_object());
        QCOMPARE(run.value("status", ""), std::string("READY"));
        QCOMPARE(run["output"]["context"]["secrets"]["password"].get<std::string>(), std::string("OpenSesame"));
        QCOMPARE_JSON(run["output"]["payload"], Json({{"n", 1}}));
        QCOMPARE(api->del(QStringLiteral("/v1/event/subscriptions/secret-sub")).status, 200);
    }

    void subscriptionToAMissingFunctionRecoversWhenItAppears()
    {
        auto sub = createSubscription(*api, "late-sub", "late.event", "late-fn");
        QCOMPARE(sub.value("status", ""), std::string("ERROR"));
        QCOMPARE_JSON(sub["reason"], Json::array({"function late-fn does not exist"}));

        const std::string early = newId();
        QCOMPARE(emitEvent(*api, event01("late.event", early, "early")).status, 200); // not delivered: ERROR

        auto f = api->createFunction(QStringLiteral("late-fn"), QStringLiteral("python3"),
                                     QStringLiteral("python3/echo.py"), QStringLiteral("echo.handle"));
        QCOMPARE(f.value("status", ""), std::string("READY"));
        sub = api->waitForStatus(QStringLiteral("/v1/event/subscriptions/late-sub"), {QStringLiteral("READY")}, 30s);
        QCOMPARE(sub.value("status", ""), std::string("READY"));
        QVERIFY(!sub.contains("reason"));

        const std::string late = newId();
        QCOMPARE(emitEvent(*api, event01("late.event", late, "late")).status, 200);
        auto run = waitForEventRun(*api, QStringLiteral("late-fn"), late);
        QVERIFY(run.is_object());
        QCOMPARE(run["output"]["payload"].get<std::string>(), std::string("late"));
        QCOMPARE(countRuns(*api, QStringLiteral("late-fn"), [&](const Json &x) { return eventIdOf(x) == early; }),
                 std::size_t(0));

        // The function goes away: the subscription says so again.
        QCOMPARE(api->del(QStringLiteral("/v1/function/late-fn")).status, 200);
        sub = api->waitForStatus(QStringLiteral("/v1/event/subscriptions/late-sub"), {QStringLiteral("ERROR")}, 30s);
        QCOMPARE(sub.value("status", ""), std::string("ERROR"));
        QCOMPARE(api->del(QStringLiteral("/v1/event/subscriptions/late-sub")).status, 200);
    }

    // --- CloudEvents 1.0 -------------------------------------------------------------------------------------
    void cloudEvents10Structured()
    {
        QCOMPARE(createSubscription(*api, "ce1-structured", "ce1.structured", "echo-py").value("status", ""),
                 std::string("READY"));
        const std::string id = newId();
        auto r = api->raw("POST", QStringLiteral("/v1/event/"),
                          QByteArray::fromStdString(Json{{"specversion", "1.0"},
                                                         {"type", "ce1.structured"},
                                                         {"source", "/tests/structured"},
                                                         {"id", id},
                                                         {"time", "2024-01-02T03:04:05Z"},
                                                         {"subject", "thing-1"},
                                                         {"datacontenttype", "application/json"},
                                                         {"data", {{"y", 2}}}}
                                                        .dump()),
                          {{"Content-Type", "application/cloudevents+json"}});
        QCOMPARE(r.status, 200);
        auto run = waitForEventRun(*api, QStringLiteral("echo-py"), id);
        QVERIFY(run.is_object());
        const auto ctxEvent = run["output"]["context"]["event"];
        QCOMPARE(ctxEvent.value("eventType", ""), std::string("ce1.structured"));
        QCOMPARE(ctxEvent.value("source", ""), std::string("/tests/structured"));
        QCOMPARE(ctxEvent.value("contentType", ""), std::string("application/json"));
        QCOMPARE(ctxEvent["extensions"].value("subject", ""), std::string("thing-1"));
        QCOMPARE_JSON(run["output"]["payload"], Json({{"y", 2}}));
    }

    void cloudEvents10Binary()
    {
        QCOMPARE(createSubscription(*api, "ce1-binary", "ce1.binary", "echo-py").value("status", ""),
                 std::string("READY"));
        const std::string id = newId();
        auto r = api->raw("POST", QStringLiteral("/v1/event/"), QByteArray(R"({"x":1,"list":[1,2]})"),
                          {{"ce-specversion", "1.0"},
                           {"ce-type", "ce1.binary"},
                           {"ce-source", "/tests/binary"},
                           {"ce-id", QByteArray::fromStdString(id)},
                           {"ce-time", "2024-01-02T03:04:05.123Z"},
                           {"ce-subject", "thing-2"},
                           {"Content-Type", "application/json"}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value("eventType", ""), std::string("ce1.binary"));
        auto run = waitForEventRun(*api, QStringLiteral("echo-py"), id);
        QVERIFY(run.is_object());
        const auto ctxEvent = run["output"]["context"]["event"];
        QCOMPARE(ctxEvent.value("source", ""), std::string("/tests/binary"));
        QCOMPARE(ctxEvent.value("contentType", ""), std::string("application/json"));
        QCOMPARE(ctxEvent.value("eventTime", ""), std::string("2024-01-02T03:04:05.123Z"));
        QCOMPARE(ctxEvent["extensions"].value("subject", ""), std::string("thing-2"));
        QCOMPARE_JSON(run["output"]["payload"], Json::parse(R"({"x":1,"list":[1,2]})"));

        // Text data in binary mode arrives as a string.
        const std::string textId = newId();
        r = api->raw("POST", QStringLiteral("/v1/event/"), QByteArray("plain words"),
                     {{"ce-specversion", "1.0"},
                      {"ce-type", "ce1.binary"},
                      {"ce-source", "/tests/binary"},
                      {"ce-id", QByteArray::fromStdString(textId)},
                      {"Content-Type", "text/plain"}});
        QCOMPARE(r.status, 200);
        run = waitForEventRun(*api, QStringLiteral("echo-py"), textId);
        QVERIFY(run.is_object());
        QCOMPARE(run["output"]["payload"].get<std::string>(), std::string("plain words"));

        // A binary-mode event without a type is refused like any other invalid event.
        r = api->raw("POST", QStringLiteral("/v1/event/"), QByteArray("{}"),
                     {{"ce-specversion", "1.0"}, {"ce-source", "/x"}, {"ce-id", "1"}, {"Content-Type", "application/json"}});
        QCOMPARE(r.status, 400);
        QVERIFY(r.json().value("message", "").starts_with("Error validating event: "));
    }

    // --- the error contract ------------------------------------------------------------------------------------
    void errors_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("messageStart");
        QTest::newRow("cloudEventsVersion 0.2")
            << QByteArray("POST") << "/v1/event/"
            << QByteArray(R"({"eventType":"x","cloudEventsVersion":"0.2","source":"s","eventID":"1"})") << 400 << 400
            << "Error validating event: ";
        QTest::newRow("event without eventType")
            << QByteArray("POST") << "/v1/event/" << QByteArray(R"({"cloudEventsVersion":"0.1","source":"s","eventID":"1"})")
            << 400 << 400 << "Error validating event: ";
        QTest::newRow("specversion 0.3") << QByteArray("POST") << "/v1/event/"
                                         << QByteArray(R"({"specversion":"0.3","type":"x","source":"s","id":"1"})")
                                         << 400 << 400 << "Error validating event: ";
        QTest::newRow("not JSON") << QByteArray("POST") << "/v1/event/" << QByteArray("{nope") << 400 << 400
                                  << "request body is not valid JSON";
        QTest::newRow("driver name upper case") << QByteArray("POST") << "/v1/event/drivers"
                                                << QByteArray(R"({"name":"testDriver-1","type":"ticker"})") << 422
                                                << 605 << "name in body should match";
        QTest::newRow("driver name underscore") << QByteArray("POST") << "/v1/event/drivers"
                                                << QByteArray(R"({"name":"test_driver-1","type":"ticker"})") << 422
                                                << 605 << "name in body should match";
        QTest::newRow("unknown driver type")
            << QByteArray("POST") << "/v1/event/drivers" << QByteArray(R"({"name":"d-unknown","type":"nope"})") << 400
            << 400 << "bad request when processing event driver d-unknown: driver type nope does not exist";
        QTest::newRow("subscription without function")
            << QByteArray("POST") << "/v1/event/subscriptions" << QByteArray(R"({"name":"s","eventType":"a.b"})")
            << 422 << 602 << "function in body is required";
        QTest::newRow("subscription not found") << QByteArray("GET") << "/v1/event/subscriptions/nope" << QByteArray()
                                                << 404 << 404 << "subscription nope not found";
        QTest::newRow("driver not found") << QByteArray("GET") << "/v1/event/drivers/nope" << QByteArray() << 404
                                          << 404 << "event driver nope not found";
        QTest::newRow("driver type not found") << QByteArray("DELETE") << "/v1/event/drivertypes/nope" << QByteArray()
                                               << 404 << 404 << "event driver type nope not found";
        QTest::newRow("update of a missing driver")
            << QByteArray("PUT") << "/v1/event/drivers/nope" << QByteArray(R"({"name":"nope","type":"ticker"})")
            << 404 << 404 << "event driver nope not found";
        QTest::newRow("emit is POST only") << QByteArray("GET") << "/v1/event/" << QByteArray() << 405 << 405
                                           << "method GET is not allowed";
        QTest::newRow("unknown event resource") << QByteArray("GET") << "/v1/event/nothing" << QByteArray() << 404
                                                << 404 << "resource does not exist";
    }

    void errors()
    {
        QFETCH(QByteArray, method);
        QFETCH(QString, path);
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(int, code);
        QFETCH(QString, messageStart);
        auto r = api->raw(method, path, body);
        QCOMPARE(r.status, status);
        const auto j = r.json();
        QCOMPARE(j.value("code", 0), code);
        QVERIFY2(QString::fromStdString(j.value("message", "")).startsWith(messageStart), r.body.constData());
    }

    void subscriptionConflictAndHeaders()
    {
        QCOMPARE(createSubscription(*api, "dup-sub", "dup.event", "echo-py").value("status", ""), std::string("READY"));
        auto r = api->post(QStringLiteral("/v1/event/subscriptions"),
                           {{"name", "dup-sub"}, {"eventType", "dup.event"}, {"function", "echo-py"}});
        QCOMPARE(r.status, 409);
        QCOMPARE_JSON(r.json(), Json({{"code", 409}, {"message", "subscription dup-sub already exists"}}));
        // Everything but ingest needs the org header and credentials.
        r = httpRequest("GET", server->apiBase() + QStringLiteral("/v1/event/subscriptions"));
        QCOMPARE(r.status, 422);
        QCOMPARE(r.json().value("code", 0), 602);
        // Solo routes /v1/events too.
        r = api->get(QStringLiteral("/v1/events/subscriptions/dup-sub"));
        QCOMPARE(r.status, 200);
        QCOMPARE(api->del(QStringLiteral("/v1/event/subscriptions/dup-sub")).status, 200);
    }

    // --- ingest and push drivers -------------------------------------------------------------------------------
    void ingestNeedsOnlyAKnownToken()
    {
        const QByteArray body = QByteArray::fromStdString(event01("x.y", newId(), nullptr).dump());
        auto r = httpRequest("POST", server->apiBase() + QStringLiteral("/v1/event/ingest?authToken=nope"), body,
                             {{"Content-Type", "application/json"}});
        QCOMPARE(r.status, 401);
        QCOMPARE_JSON(r.json(), Json({{"code", 401}, {"message", "token not recognized"}}));
        r = httpRequest("POST", server->apiBase() + QStringLiteral("/v1/event/ingest"), body,
                        {{"Content-Type", "application/json"}});
        QCOMPARE(r.status, 422);
        QCOMPARE(r.json().value("code", 0), 602);
    }

    void pushDriverIngestsArrays()
    {
        auto r = api->post(QStringLiteral("/v1/event/drivertypes"), {{"name", "webhook"}, {"image", "webhook"}});
        QCOMPARE(r.status, 201);
        QVERIFY(!r.json().contains("id"));
        QVERIFY(r.json().value("created-time", 0LL) > 0);
        QVERIFY(r.json().value("modified-time", 0LL) > 0);
        r = api->post(QStringLiteral("/v1/event/drivers"), {{"name", "hook"}, {"type", "webhook"}});
        QCOMPARE(r.status, 201);
        QCOMPARE(r.json().value("status", ""), std::string("CREATING"));
        auto driver = api->waitForStatus(QStringLiteral("/v1/event/drivers/hook"));
        QCOMPARE(driver.value("status", ""), std::string("READY"));
        QVERIFY(!driver.contains("id"));
        QCOMPARE(driver.value("expose", false), true);
        const QString url = QString::fromStdString(driver.value("url", ""));
        QVERIFY2(url.startsWith(server->apiBase() + QStringLiteral("/v1/event/ingest?authToken=")), qPrintable(url));

        QCOMPARE(createSubscription(*api, "hook-sub", "hook.event", "echo-py").value("status", ""),
                 std::string("READY"));
        const std::string a = newId(), b = newId();
        const Json batch = Json::array({event01("hook.event", a, {{"i", 1}}), event01("hook.event", b, {{"i", 2}})});
        // No org header, no cookie: the token is the credential.
        r = httpRequest("POST", url, QByteArray::fromStdString(batch.dump()), {{"Content-Type", "application/json"}});
        QCOMPARE(r.status, 200);
        QVERIFY(r.json().is_array());
        QCOMPARE(r.json().size(), std::size_t(2));
        auto runs = waitForRuns(*api, QStringLiteral("echo-py"),
                                [&](const Json &x) { return eventIdOf(x) == a || eventIdOf(x) == b; }, 2);
        QCOMPARE(runs.size(), std::size_t(2));
        QCOMPARE(api->get(QStringLiteral("/v1/events/drivers")).json().size(), std::size_t(1));
        QCOMPARE(api->del(QStringLiteral("/v1/event/subscriptions/hook-sub")).status, 200);
    }

    // --- org isolation -------------------------------------------------------------------------------------------
    void orgsAreIsolated()
    {
        DispatchClient other(server->apiBase(), QStringLiteral("other-org"));
        QCOMPARE(createSubscription(*api, "iso-sub", "iso.event", "echo-py").value("status", ""),
                 std::string("READY"));
        QCOMPARE_JSON(other.get(QStringLiteral("/v1/event/subscriptions")).json(), Json::array());
        QCOMPARE(other.get(QStringLiteral("/v1/event/subscriptions/iso-sub")).status, 404);
        QCOMPARE(other.get(QStringLiteral("/v1/event/drivers/hook")).status, 404);
        // The same name in another org is another subscription; its function does not exist there.
        auto otherSub = createSubscription(other, "iso-sub", "iso.event", "echo-py");
        QCOMPARE(otherSub.value("status", ""), std::string("ERROR"));

        const std::string emittedInOther = newId();
        QCOMPARE(emitEvent(other, event01("iso.event", emittedInOther, "other")).status, 200);
        // A driver's events belong to the driver's org.
        QCOMPARE(other.post(QStringLiteral("/v1/event/drivertypes"), {{"name", "webhook"}, {"image", "webhook"}}).status,
                 201);
        QCOMPARE(other.post(QStringLiteral("/v1/event/drivers"), {{"name", "hook"}, {"type", "webhook"}}).status, 201);
        auto otherHook = other.waitForStatus(QStringLiteral("/v1/event/drivers/hook"));
        const std::string ingestedInOther = newId();
        auto r = httpRequest("POST", QString::fromStdString(otherHook.value("url", "")),
                             QByteArray::fromStdString(event01("iso.event", ingestedInOther, "other").dump()),
                             {{"Content-Type", "application/json"}});
        QCOMPARE(r.status, 200);

        const std::string mine = newId();
        QCOMPARE(emitEvent(*api, event01("iso.event", mine, "mine")).status, 200);
        QVERIFY(waitForEventRun(*api, QStringLiteral("echo-py"), mine).is_object());
        // The other org's events were matched (and dropped) when they were accepted, before this one.
        QCOMPARE(countRuns(*api, QStringLiteral("echo-py"),
                           [&](const Json &x) {
                               return eventIdOf(x) == emittedInOther || eventIdOf(x) == ingestedInOther;
                           }),
                 std::size_t(0));
        QCOMPARE_JSON(other.get(QStringLiteral("/v1/runs")).json(), Json::array());
        QCOMPARE(api->del(QStringLiteral("/v1/event/subscriptions/iso-sub")).status, 200);
    }

    // --- drivers -----------------------------------------------------------------------------------------------
    void tickerDriver()
    {
        auto r = api->post(QStringLiteral("/v1/event/drivertypes"),
                           {{"name", "ticker"}, {"image", "dispatchframework/ticker:0.0.2"}});
        QCOMPARE(r.status, 201);
        QCOMPARE(api->get(QStringLiteral("/v1/event/drivertypes/ticker")).status, 200);
        QCOMPARE(createSubscription(*api, "ticker-sub", "ticker.tick", "ticker-fn").value("status", ""),
                 std::string("READY"));
        r = api->post(QStringLiteral("/v1/event/drivers"),
                      {{"name", "testdriver-1"}, {"type", "ticker"}, {"config", {{{"key", "seconds"}, {"value", "1"}}}}});
        QCOMPARE(r.status, 201);
        QCOMPARE(r.json().value("status", ""), std::string("CREATING"));
        QCOMPARE(api->waitForStatus(QStringLiteral("/v1/event/drivers/testdriver-1")).value("status", ""),
                 std::string("READY"));
        auto runs = waitForRuns(*api, QStringLiteral("ticker-fn"),
                                [](const Json &x) { return eventTypeOf(x) == "ticker.tick"; }, 2);
        QVERIFY2(runs.size() >= 2, qPrintable(str(runs)));
        QCOMPARE(runs[0].value("status", ""), std::string("READY"));

        r = api->put(QStringLiteral("/v1/event/drivers/testdriver-1"),
                     {{"name", "testdriver-1"},
                      {"kind", "Driver"},
                      {"type", "ticker"},
                      {"config", {{{"key", "seconds"}, {"value", "5"}}}}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value("status", ""), std::string("UPDATING"));
        auto driver = api->waitForStatus(QStringLiteral("/v1/event/drivers/testdriver-1"));
        QCOMPARE(driver.value("status", ""), std::string("READY"));
        QCOMPARE(driver["config"][0].value("value", ""), std::string("5"));

        r = api->del(QStringLiteral("/v1/event/drivers/testdriver-1"));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value("status", ""), std::string("DELETING"));
        QVERIFY(waitForGone(*api, QStringLiteral("/v1/event/drivers/testdriver-1")));
        QCOMPARE(api->del(QStringLiteral("/v1/event/subscriptions/ticker-sub")).status, 200);
        QCOMPARE(api->del(QStringLiteral("/v1/event/drivertypes/ticker")).status, 200);
        QCOMPARE(api->get(QStringLiteral("/v1/event/drivertypes/ticker")).status, 404);
    }

    void cronDriver()
    {
        QCOMPARE(api->post(QStringLiteral("/v1/event/drivertypes"),
                           {{"name", "cron"}, {"image", "dispatchframework/dispatch-events-cron:0.0.1"}})
                     .status,
                 201);
        QCOMPARE(createSubscription(*api, "cron-sub", "cron.trigger", "cron-fn").value("status", ""),
                 std::string("READY"));
        auto r = api->post(QStringLiteral("/v1/event/drivers"), {{"name", "every-second"},
                                                                 {"type", "cron"},
                                                                 {"config", {{{"key", "cron"}, {"value", "*/1 * * * * *"}}}}});
        QCOMPARE(r.status, 201);
        QCOMPARE(api->waitForStatus(QStringLiteral("/v1/event/drivers/every-second")).value("status", ""),
                 std::string("READY"));
        auto runs = waitForRuns(*api, QStringLiteral("cron-fn"),
                                [](const Json &x) { return eventTypeOf(x) == "cron.trigger"; }, 2);
        QVERIFY2(runs.size() >= 2, qPrintable(str(runs)));
        // The source is fixed per driver; each event has its own id.
        QCOMPARE(runs[0]["event"].value("source", ""), runs[1]["event"].value("source", ""));
        QVERIFY(runs[0]["event"].value("eventID", "") != runs[1]["event"].value("eventID", ""));

        r = api->post(QStringLiteral("/v1/event/drivers"),
                      {{"name", "bad-cron"}, {"type", "cron"}, {"config", {{{"key", "cron"}, {"value", "61 * * * *"}}}}});
        QCOMPARE(r.status, 201);
        auto bad = api->waitForStatus(QStringLiteral("/v1/event/drivers/bad-cron"));
        QCOMPARE(bad.value("status", ""), std::string("ERROR"));
        QVERIFY2(bad["reason"][0].get<std::string>().starts_with("invalid cron spec '61 * * * *'"), qPrintable(str(bad)));

        QCOMPARE(api->del(QStringLiteral("/v1/event/drivers/every-second")).status, 200);
        QCOMPARE(api->del(QStringLiteral("/v1/event/drivers/bad-cron")).status, 200);
        QVERIFY(waitForGone(*api, QStringLiteral("/v1/event/drivers/every-second")));
        QVERIFY(waitForGone(*api, QStringLiteral("/v1/event/drivers/bad-cron")));
        QCOMPARE(api->del(QStringLiteral("/v1/event/subscriptions/cron-sub")).status, 200);
    }

    void driverWithUnavailableImage()
    {
        QCOMPARE(api->post(QStringLiteral("/v1/event/drivertypes"),
                           {{"name", "baddrivertype"}, {"image", "unavailable-image:latest"}})
                     .status,
                 201);
        auto r = api->post(QStringLiteral("/v1/event/drivers"), {{"name", "baddriver-1"},
                                                                 {"type", "baddrivertype"},
                                                                 {"config", {{{"key", "seconds"}, {"value", "2"}}}}});
        QCOMPARE(r.status, 201);
        QCOMPARE(r.json().value("status", ""), std::string("CREATING"));
        auto d = api->waitForStatus(QStringLiteral("/v1/event/drivers/baddriver-1"));
        QCOMPARE(d.value("status", ""), std::string("ERROR"));
        QCOMPARE(d["reason"].size(), std::size_t(1)); // Solo repeated every reason
        QVERIFY2(d["reason"][0].get<std::string>().starts_with(
                     "event driver image unavailable-image:latest needs a container engine"),
                 qPrintable(str(d)));
        QCOMPARE(api->del(QStringLiteral("/v1/event/drivers/baddriver-1")).status, 200);
        QVERIFY(waitForGone(*api, QStringLiteral("/v1/event/drivers/baddriver-1"))); // Solo left it in ERROR
        QCOMPARE(api->del(QStringLiteral("/v1/event/drivertypes/baddrivertype")).status, 200);
    }

    void customExecutableDriver()
    {
        const std::string exe = DISPATCH_SOURCE_DIR "/tests/fixtures/drivers/emit_once.py";
        QCOMPARE(api->post(QStringLiteral("/v1/secret"),
                           {{"name", "driver-secret"}, {"secrets", {{"driver-greeting", "hello from a secret"}}}})
                     .status,
                 201);
        QCOMPARE(api->post(QStringLiteral("/v1/event/drivertypes"), {{"name", "emit-once"}, {"image", "exec:" + exe}})
                     .status,
                 201);
        // The driver sends its event as soon as it starts: subscribe first.
        QCOMPARE(createSubscription(*api, "custom-sub", "custom.event", "echo-py").value("status", ""),
                 std::string("READY"));
        auto r = api->post(QStringLiteral("/v1/event/drivers"),
                           {{"name", "custom-1"},
                            {"type", "emit-once"},
                            {"secrets", {"driver-secret"}},
                            {"config",
                             {{{"key", "event-type"}, {"value", "custom.event"}},
                              {{"key", "message"}, {"value", "hi"}},
                              {{"key", "verbose"}, {"value", ""}}}}});
        QCOMPARE(r.status, 201);
        auto d = api->waitForStatus(QStringLiteral("/v1/event/drivers/custom-1"));
        QVERIFY2(d.value("status", "") == "READY", qPrintable(str(d)));

        auto runs = waitForRuns(*api, QStringLiteral("echo-py"),
                                [](const Json &x) { return eventTypeOf(x) == "custom.event"; });
        QCOMPARE(runs.size(), std::size_t(1));
        const auto payload = runs[0]["output"]["payload"];
        QCOMPARE(payload.value("message", ""), std::string("hi"));
        QCOMPARE(payload.value("greeting", ""), std::string("hello from a secret"));
        QCOMPARE(payload.value("sameEndpoint", false), true);
        QVERIFY(payload["flags"].is_array());
        const auto flags = payload["flags"].get<std::vector<std::string>>();
        QVERIFY(std::find(flags.begin(), flags.end(), "verbose") != flags.end());
        QVERIFY(std::find(flags.begin(), flags.end(), "dispatch-api-endpoint") != flags.end());

        // Its output is the driver's log.
        QFile log(server->dataDir() + QStringLiteral("/logs/drivers/dispatch-custom-1.log"));
        QElapsedTimer t;
        t.start();
        QByteArray text;
        while (t.elapsed() < 30000) {
            if (log.open(QIODevice::ReadOnly)) {
                text = log.readAll();
                log.close();
            }
            if (text.contains("ingest answered 200"))
                break;
            QTest::qWait(50);
        }
        QVERIFY2(text.contains("ingest answered 200"), text.constData());

        QCOMPARE(api->del(QStringLiteral("/v1/event/drivers/custom-1")).status, 200);
        QVERIFY(waitForGone(*api, QStringLiteral("/v1/event/drivers/custom-1")));
        QCOMPARE(api->del(QStringLiteral("/v1/event/subscriptions/custom-sub")).status, 200);
    }

    void crashingExecutableDriverShowsItsLog()
    {
        auto r = api->post(QStringLiteral("/v1/event/drivers"),
                           {{"name", "crashy"},
                            {"type", "emit-once"},
                            {"config", {{{"key", "exit-code"}, {"value", "3"}}, {{"key", "say"}, {"value", "boom: out of cheese"}}}}});
        QCOMPARE(r.status, 201);
        auto d = api->waitForStatus(QStringLiteral("/v1/event/drivers/crashy"), {QStringLiteral("ERROR")}, 30s);
        QCOMPARE(d.value("status", ""), std::string("ERROR"));
        const QString reason = QString::fromStdString(d["reason"][0].get<std::string>());
        QVERIFY2(reason.contains(QStringLiteral("exit code 3")), qPrintable(reason));
        QVERIFY2(reason.contains(QStringLiteral("boom: out of cheese")), qPrintable(reason));
        QCOMPARE(api->del(QStringLiteral("/v1/event/drivers/crashy")).status, 200);
        QVERIFY(waitForGone(*api, QStringLiteral("/v1/event/drivers/crashy")));
    }

    // --- durability ----------------------------------------------------------------------------------------------
    void acceptedEventSurvivesACrash()
    {
        // Deliveries wait an hour on the first server, so the event has certainly not run when it is killed;
        // the second server on the same data dir delivers without delay.
        TestServer first({QStringLiteral("--event-delivery-delay"), QStringLiteral("3600000")});
        QString error;
        QVERIFY2(first.start(&error), qPrintable(error));
        DispatchClient c(first.apiBase());
        QCOMPARE(c.post(QStringLiteral("/v1/baseimage"),
                        {{"name", "python3-base"},
                         {"dockerUrl", "dispatchframework/python3-base:0.0.13"},
                         {"language", "python3"}})
                     .status,
                 201);
        QCOMPARE(c.post(QStringLiteral("/v1/image"), {{"name", "python3"}, {"baseImageName", "python3-base"}}).status,
                 201);
        QCOMPARE(c.waitForStatus(QStringLiteral("/v1/image/python3"), {}, 300s).value("status", ""),
                 std::string("READY"));
        auto f = c.createFunction(QStringLiteral("durable"), QStringLiteral("python3"),
                                  QStringLiteral("python3/echo.py"), QStringLiteral("echo.handle"));
        QCOMPARE(f.value("status", ""), std::string("READY"));
        QCOMPARE(createSubscription(c, "durable-sub", "durable.event", "durable").value("status", ""),
                 std::string("READY"));
        const std::string id = newId();
        QCOMPARE(emitEvent(c, event01("durable.event", id, {{"kept", true}})).status, 200);
        first.kill();

        TestServer second({}, first.dataDir());
        QVERIFY2(second.start(&error), qPrintable(error));
        DispatchClient c2(second.apiBase());
        auto run = waitForEventRun(c2, QStringLiteral("durable"), id);
        QVERIFY2(run.is_object(), second.output().constData());
        QCOMPARE(run.value("status", ""), std::string("READY"));
        QCOMPARE_JSON(run["output"]["payload"], Json({{"kept", true}}));
        QVERIFY(second.stop());
    }
};

QTEST_GUILESS_MAIN(TestEvents)
#include "tst_events.moc"
