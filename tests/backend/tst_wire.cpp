// Wire types: exact Dispatch JSON per model, round trips, lenient readers, go-swagger validation codes and
// messages, CloudEvents 0.1 validation and 1.0 normalisation.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/ids.h"
#include "wire/jsonwriter.h"
#include "wire/models.h"
#include "wire/validation.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <QtTest>
#include <string>

using namespace dispatch::wire;

namespace {

Json parse(const QByteArray &text)
{
    return Json::parse(text.toStdString());
}

QByteArray dump(const Json &j)
{
    return QByteArray::fromStdString(dumpJson(j));
}

QString describe(const Json &actual, const Json &expected)
{
    return QStringLiteral("\n   actual:   %1\n   expected: %2")
        .arg(QString::fromStdString(dumpJson(actual)), QString::fromStdString(dumpJson(expected)));
}

#define COMPARE_JSON(actual, expected)                                                                       \
    do {                                                                                                     \
        const Json a_ = (actual);                                                                            \
        const Json e_ = (expected);                                                                          \
        QVERIFY2(a_ == e_, qPrintable(describe(a_, e_)));                                                    \
    } while (false)

const char *kUuid1 = "6b2f0d1e-3f7c-4a57-9f0e-1f3d3c1b9a11";
const char *kUuid2 = "18d394a9-c960-415b-ba91-6cb2c82e5714";
const char *kUuid3 = "6a41c89c-0ce8-41ed-8109-229528be8e06";
const char *kRunId = "69005585-2446-439a-9715-d6ac62a59c22";

// --- reference examples (dispatch-api.md §3), "…" placeholders replaced by concrete values ---

const QByteArray kBaseImageExample =
    R"({"createdTime":1543275522,"dockerUrl":"dispatchframework/python3-base:0.0.13","groups":null,
 "id":"6b2f0d1e-3f7c-4a57-9f0e-1f3d3c1b9a11","kind":"BaseImage","language":"python3",
 "name":"python3-base","reason":null,"status":"READY","tags":null})";

const QByteArray kImageExample =
    R"({"baseImageName":"python3-base","createdTime":1543275522,"dockerUrl":"dispatch/0f3c9a77-1a2b-4c3d-8e9f-001122334455:latest","groups":null,
 "id":"0f3c9a77-1a2b-4c3d-8e9f-001122334455","kind":"Image","language":"python3","name":"python3","reason":null,
 "runtimeDependencies":{"manifest":"requests"},"status":"READY","systemDependencies":{"packages":null},"tags":null})";

const QByteArray kFunctionExample =
    R"({"createdTime":1543281860,"faasId":"18d394a9-c960-415b-ba91-6cb2c82e5714",
 "functionImageURL":"dispatch/func-18d394a9-c960-415b-ba91-6cb2c82e5714:latest","handler":"hello.handle",
 "id":"6a41c89c-0ce8-41ed-8109-229528be8e06","image":"python3","kind":"Function","name":"hello-py",
 "reason":null,"schema":{"in":null,"out":null},"secrets":null,"services":null,"status":"READY","tags":null})";

const QByteArray kRunExample =
    R"({"blocking":true,"executedTime":1543281864123456000,"faasId":"18d394a9-c960-415b-ba91-6cb2c82e5714","finishedTime":1543281864923456000,
 "functionId":"6a41c89c-0ce8-41ed-8109-229528be8e06","functionName":"hello-py","input":{"name":"Jon","place":"Winterfell"},
 "logs":{"stderr":null,"stdout":null},"name":"69005585-2446-439a-9715-d6ac62a59c22",
 "output":{"myField":"Hello, Jon from Winterfell"},"reason":null,"secrets":[],"services":null,"status":"READY","tags":[]})";

const QByteArray kSecretExample =
    R"({"id":"3c1e4f2a-9b8c-4d7e-a6f5-0e1d2c3b4a59","kind":"Secret","name":"open-sesame","secrets":{"password":"OpenSesame"},"tags":null})";

const QByteArray kApiExample =
    R"({"authentication":"public","enabled":true,"function":"func-nodejs","hosts":null,"id":"7d5e1c3a-2b4f-4e6d-8a9b-0c1d2e3f4a5b","kind":"API",
 "methods":["POST"],"name":"api-test-http","protocols":["http","https"],"status":"READY","tags":null,
 "uris":["/dispatch-server/http"]})";

const QByteArray kDriverTypeExample =
    R"({"config":null,"created-time":1543281000,"expose":false,"image":"dispatchframework/dispatch-events-cron:0.0.1",
 "kind":"DriverType","modified-time":1543281000,"name":"cron","tags":null})";

const QByteArray kDriverExample =
    R"({"config":[{"key":"cron","value":"0/10 * * * *"}],"created-time":1543281100,"expose":false,"kind":"Driver",
 "modified-time":1543281105,"name":"every-10-seconds","reason":null,"secrets":null,"status":"READY",
 "tags":null,"type":"cron"})";

const QByteArray kSubscriptionExample =
    R"({"createdTime":1543281200,"eventType":"cron.trigger","function":"hello-py","kind":"Subscription",
 "modifiedTime":1543281201,"name":"cron-sub","secrets":null,"status":"READY","tags":null})";

const QByteArray kEmissionExample =
    R"({"cloudEventsVersion":"0.1","contentType":"application/json","data":{"name":"Jon","place":"Winterfell"},
 "eventID":"b4620ea5-8e9d-42d5-a566-6ad2f7873d63","eventTime":"2018-11-26T16:35:50.000Z",
 "eventType":"test.event.123","source":"dispatch"})";

// Wire JSON of `kind` read with the lenient reader and written back.
Json rewrite(const QString &kind, const Json &j)
{
    if (kind == QLatin1String("baseimage"))
        return Json(j.get<BaseImage>());
    if (kind == QLatin1String("image"))
        return Json(j.get<Image>());
    if (kind == QLatin1String("function"))
        return Json(j.get<Function>());
    if (kind == QLatin1String("run"))
        return Json(j.get<Run>());
    if (kind == QLatin1String("secret"))
        return Json(j.get<Secret>());
    if (kind == QLatin1String("api"))
        return Json(j.get<Api>());
    if (kind == QLatin1String("drivertype"))
        return Json(j.get<EventDriverType>());
    if (kind == QLatin1String("driver"))
        return Json(j.get<EventDriver>());
    if (kind == QLatin1String("subscription"))
        return Json(j.get<Subscription>());
    if (kind == QLatin1String("event"))
        return Json(j.get<CloudEvent>());
    return nullptr;
}

// Storage document of `kind` read back and stored again.
Json restore(const QString &kind, const Json &j)
{
    if (kind == QLatin1String("baseimage"))
        return toStorageJson(j.get<BaseImage>());
    if (kind == QLatin1String("image"))
        return toStorageJson(j.get<Image>());
    if (kind == QLatin1String("function"))
        return toStorageJson(j.get<Function>());
    if (kind == QLatin1String("run"))
        return toStorageJson(j.get<Run>());
    if (kind == QLatin1String("secret"))
        return toStorageJson(j.get<Secret>());
    if (kind == QLatin1String("api"))
        return toStorageJson(j.get<Api>());
    if (kind == QLatin1String("drivertype"))
        return toStorageJson(j.get<EventDriverType>());
    if (kind == QLatin1String("driver"))
        return toStorageJson(j.get<EventDriver>());
    if (kind == QLatin1String("subscription"))
        return toStorageJson(j.get<Subscription>());
    return nullptr;
}

// Validates `body` as `kind`; nullopt when it is accepted.
std::optional<ValidationError> validateAs(const QString &kind, const std::string &body)
{
    auto result = [](const auto &v) -> std::optional<ValidationError> {
        if (v)
            return std::nullopt;
        return v.error();
    };
    if (kind == QLatin1String("baseimage"))
        return result(parseBaseImage(body));
    if (kind == QLatin1String("image"))
        return result(parseImage(body));
    if (kind == QLatin1String("function"))
        return result(parseFunction(body));
    if (kind == QLatin1String("run"))
        return result(parseRun(body));
    if (kind == QLatin1String("secret"))
        return result(parseSecret(body));
    if (kind == QLatin1String("api"))
        return result(parseApi(body));
    if (kind == QLatin1String("drivertype"))
        return result(parseEventDriverType(body));
    if (kind == QLatin1String("driver"))
        return result(parseEventDriver(body));
    if (kind == QLatin1String("subscription"))
        return result(parseSubscription(body));
    return ValidationError{0, 0, "unknown kind"};
}

} // namespace

class TestWire : public QObject
{
    Q_OBJECT

private slots:
    void toJson_data();
    void toJson();
    void hiddenFields_data();
    void hiddenFields();
    void roundTrip_data();
    void roundTrip();
    void storageRoundTrip_data();
    void storageRoundTrip();
    void lenientReaders();
    void runTimes();
    void runIdsAreTimeOrderedUuids();
    void jsonWriterMatchesNlohmann();
    void runJsonMatchesToJson();
    void status_data();
    void status();

    void validation_data();
    void validation();
    void parsedModels();
    void jsonBody_data();
    void jsonBody();
    void names_data();
    void names();

    void cloudEvent_data();
    void cloudEvent();
    void cloudEvent10_data();
    void cloudEvent10();
    void eventBody();
    void eventContext();
    void dateTime_data();
    void dateTime();
    void dumpInvalidUtf8();
};

// ---------------------------------------------------------------------------------------------------------
// Output shapes

void TestWire::toJson_data()
{
    QTest::addColumn<QByteArray>("actual");
    QTest::addColumn<QByteArray>("expected");

    {
        BaseImage m;
        m.name = "python3-base";
        m.dockerUrl = "dispatchframework/python3-base:0.0.13";
        m.language = "python3";
        m.id = kUuid1;
        m.createdTime = 1543275522;
        m.status = Status::Ready;
        QTest::newRow("baseimage: reference") << dump(m) << kBaseImageExample;
    }
    {
        BaseImage m; // just created: no id/createdTime/status yet → left out; reason/groups/tags null
        m.name = "b";
        m.dockerUrl = "x/y:1";
        QTest::newRow("baseimage: omitempty")
            << dump(m)
            << QByteArray(
                   R"({"dockerUrl":"x/y:1","groups":null,"kind":"BaseImage","language":"","name":"b","reason":null,"tags":null})");
    }
    {
        BaseImage m;
        m.name = "b";
        m.dockerUrl = "missing/image:latest";
        m.language = "nodejs";
        m.status = Status::Error;
        m.reason = {"error when pulling image missing/image:latest"};
        m.tags = {{"role", "test"}, {"k", ""}};
        QTest::newRow("baseimage: error, tags")
            << dump(m)
            << QByteArray(
                   R"({"dockerUrl":"missing/image:latest","groups":null,"kind":"BaseImage","language":"nodejs",
                "name":"b","reason":["error when pulling image missing/image:latest"],"status":"ERROR",
                "tags":[{"key":"role","value":"test"},{"key":"k"}]})");
    }
    {
        Image m;
        m.name = "python3";
        m.baseImageName = "python3-base";
        m.dockerUrl = "dispatch/0f3c9a77-1a2b-4c3d-8e9f-001122334455:latest";
        m.language = "python3";
        m.runtimeManifest = "requests";
        m.id = "0f3c9a77-1a2b-4c3d-8e9f-001122334455";
        m.createdTime = 1543275522;
        m.status = Status::Ready;
        QTest::newRow("image: reference") << dump(m) << kImageExample;
    }
    {
        Image m;
        m.name = "i";
        m.baseImageName = "b";
        m.status = Status::Initialized;
        QTest::newRow("image: empty dependencies")
            << dump(m)
            << QByteArray(R"({"baseImageName":"b","groups":null,"kind":"Image","name":"i","reason":null,
                "runtimeDependencies":{},"status":"INITIALIZED","systemDependencies":{"packages":null},"tags":null})");
    }
    {
        Image m;
        m.name = "i";
        m.baseImageName = "b";
        m.systemPackages = std::vector<SystemPackage>{{"curl", "7.61"}, {"git", ""}};
        QTest::newRow("image: system packages")
            << dump(m)
            << QByteArray(R"({"baseImageName":"b","groups":null,"kind":"Image","name":"i","reason":null,
                "runtimeDependencies":{},"systemDependencies":{"packages":[{"name":"curl","version":"7.61"},{"name":"git"}]},"tags":null})");
    }
    {
        Function m;
        m.name = "hello-py";
        m.image = "python3";
        m.handler = "hello.handle";
        m.source = "H4sIAAAAAAAA/+x=";      // input only: never returned
        m.sourceURL = "es://source-entity"; // never returned
        m.modifiedTime = 1543281999;        // declared, not returned
        m.faasId = kUuid2;
        m.functionImageURL = std::string("dispatch/func-") + kUuid2 + ":latest";
        m.id = kUuid3;
        m.createdTime = 1543281860;
        m.status = Status::Ready;
        QTest::newRow("function: reference") << dump(m) << kFunctionExample;
    }
    {
        Function m;
        m.name = "f";
        m.image = "nodejs";
        m.schemaIn = Json{{"type", "object"}, {"required", {"name"}}};
        m.secrets = {"open-sesame"};
        m.services = {"db"};
        m.timeout = 5000;
        m.revision = "rev-1";
        m.tags = {{"update", "tags"}};
        m.status = Status::Initialized;
        QTest::newRow("function: schema, timeout, revision extension")
            << dump(m)
            << QByteArray(R"({"handler":"","image":"nodejs","kind":"Function","name":"f","reason":null,
                "revision":"rev-1","schema":{"in":{"required":["name"],"type":"object"},"out":null},
                "secrets":["open-sesame"],"services":["db"],"status":"INITIALIZED","tags":[{"key":"update","value":"tags"}],
                "timeout":5000})");
    }
    {
        Run m;
        m.name = kRunId;
        m.functionName = "hello-py";
        m.functionId = kUuid3;
        m.faasId = kUuid2;
        m.blocking = true;
        m.input = Json{{"name", "Jon"}, {"place", "Winterfell"}};
        m.output = Json{{"myField", "Hello, Jon from Winterfell"}};
        m.logs = Logs{};
        m.status = Status::Ready;
        m.executedTime = 1543281864123456000;
        m.finishedTime = 1543281864923456000;
        QTest::newRow("run: blocking success (reference)") << dump(m) << kRunExample;
    }
    {
        Run m; // 202: INITIALIZED, not finished, no output/logs
        m.name = kRunId;
        m.functionName = "hello-py";
        m.functionId = kUuid3;
        m.faasId = kUuid2;
        m.input = Json::object();
        m.secrets = {"open-sesame"};
        m.status = Status::Initialized;
        m.executedTime = 1543281864123456000;
        QTest::newRow("run: non-blocking")
            << dump(m)
            << QByteArray(
                   R"({"executedTime":1543281864123456000,"faasId":"18d394a9-c960-415b-ba91-6cb2c82e5714",
                "finishedTime":-6795364578871345152,"functionId":"6a41c89c-0ce8-41ed-8109-229528be8e06",
                "functionName":"hello-py","input":{},"name":"69005585-2446-439a-9715-d6ac62a59c22","reason":null,
                "secrets":["open-sesame"],"services":null,"status":"INITIALIZED","tags":[]})");
    }
    {
        Run m; // failed run: error present, output null left out
        m.name = kRunId;
        m.functionName = "div";
        m.blocking = true;
        m.input = 0; // a falsy input is still an input
        m.error = InvocationError{
            "FunctionError", "division by zero", {"Traceback (most recent call last):", "ZeroDivisionError"}};
        m.logs = Logs{{"dividing"}, {}};
        m.status = Status::Error;
        m.reason = {"error running function: div: division by zero"};
        m.executedTime = 1;
        m.finishedTime = 2;
        m.tags = {{"a", "b"}};
        QTest::newRow("run: failed") << dump(m)
                                     << QByteArray(R"({"blocking":true,"error":{"message":"division by zero",
                "stacktrace":["Traceback (most recent call last):","ZeroDivisionError"],"type":"FunctionError"},
                "executedTime":1,"finishedTime":2,"functionName":"div","input":0,"logs":{"stderr":null,"stdout":["dividing"]},
                "name":"69005585-2446-439a-9715-d6ac62a59c22","reason":["error running function: div: division by zero"],
                "secrets":[],"services":null,"status":"ERROR","tags":[{"key":"a","value":"b"}]})");
    }
    {
        Run m; // event / gateway context, extensions
        m.name = kRunId;
        m.event = Json{{"eventType", "test.event"}, {"cloudEventsVersion", "0.1"}};
        m.httpContext = Json{{"method", "PUT"}};
        m.input = "text";
        m.output = "";
        m.durationNs = 0;
        m.coldStart = true;
        m.executedTime = 10;
        QTest::newRow("run: event, httpContext, extensions")
            << dump(m)
            << QByteArray(
                   R"({"coldStart":true,"durationNs":0,"event":{"cloudEventsVersion":"0.1","eventType":"test.event"},
                "executedTime":10,"finishedTime":-6795364578871345152,"httpContext":{"method":"PUT"},"input":"text",
                "name":"69005585-2446-439a-9715-d6ac62a59c22","output":"","reason":null,"secrets":[],"services":null,"tags":[]})");
    }
    {
        Secret m;
        m.name = "open-sesame";
        m.id = "3c1e4f2a-9b8c-4d7e-a6f5-0e1d2c3b4a59";
        m.secrets = {{"password", "OpenSesame"}};
        QTest::newRow("secret: reference") << dump(m) << kSecretExample;
    }
    {
        Secret m;
        m.name = "empty";
        QTest::newRow("secret: no values")
            << dump(m) << QByteArray(R"({"kind":"Secret","name":"empty","tags":null})");
    }
    {
        Api m;
        m.name = "api-test-http";
        m.function = "func-nodejs";
        m.methods = {"POST"};
        m.uris = {"/dispatch-server/http"};
        m.protocols = {"http", "https"};
        m.authentication = "public";
        m.enabled = true;
        m.id = "7d5e1c3a-2b4f-4e6d-8a9b-0c1d2e3f4a5b";
        m.status = Status::Ready;
        QTest::newRow("api: reference") << dump(m) << kApiExample;
    }
    {
        Api m; // enabled/cors false and empty strings are omitempty; lists are null
        m.name = "a";
        m.function = "f";
        m.hosts = {"example.com"};
        m.cors = true;
        m.tls = "tls-secret";
        m.reason = {"not a Dispatch field"};
        QTest::newRow("api: disabled, cors")
            << dump(m)
            << QByteArray(
                   R"({"cors":true,"function":"f","hosts":["example.com"],"kind":"API","methods":null,"name":"a",
                "protocols":null,"tags":null,"tls":"tls-secret","uris":null})");
    }
    {
        EventDriverType m;
        m.name = "cron";
        m.image = "dispatchframework/dispatch-events-cron:0.0.1";
        m.id = kUuid1; // never returned
        m.createdTime = 1543281000;
        m.modifiedTime = 1543281000;
        QTest::newRow("drivertype: reference") << dump(m) << kDriverTypeExample;
    }
    {
        EventDriverType m;
        m.name = "push";
        m.image = "x";
        m.expose = true;
        m.config = std::vector<KeyValue>{{"port", "80"}};
        QTest::newRow("drivertype: exposed, config")
            << dump(m)
            << QByteArray(
                   R"({"config":[{"key":"port","value":"80"}],"expose":true,"image":"x","kind":"DriverType",
                "name":"push","tags":null})");
    }
    {
        EventDriver m;
        m.name = "every-10-seconds";
        m.type = "cron";
        m.config = std::vector<KeyValue>{{"cron", "0/10 * * * *"}};
        m.id = kUuid2; // the ingest token: never returned
        m.createdTime = 1543281100;
        m.modifiedTime = 1543281105;
        m.status = Status::Ready;
        QTest::newRow("driver: reference") << dump(m) << kDriverExample;
    }
    {
        EventDriver m;
        m.name = "hook";
        m.type = "cloudevents";
        m.expose = true;
        m.url = "http://0.0.0.0:32768";
        m.secrets = {"creds"};
        m.config = std::vector<KeyValue>{{"verbose", ""}};
        m.status = Status::Creating;
        QTest::newRow("driver: exposed")
            << dump(m)
            << QByteArray(
                   R"({"config":[{"key":"verbose"}],"expose":true,"kind":"Driver","name":"hook","reason":null,
                "secrets":["creds"],"status":"CREATING","tags":null,"type":"cloudevents","url":"http://0.0.0.0:32768"})");
    }
    {
        Subscription m;
        m.name = "cron-sub";
        m.eventType = "cron.trigger";
        m.function = "hello-py";
        m.id = kUuid3; // never returned
        m.createdTime = 1543281200;
        m.modifiedTime = 1543281201;
        m.status = Status::Ready;
        QTest::newRow("subscription: reference") << dump(m) << kSubscriptionExample;
    }
    {
        CloudEvent e;
        e.eventType = "test.event.123";
        e.source = "dispatch";
        e.eventID = "b4620ea5-8e9d-42d5-a566-6ad2f7873d63";
        e.eventTime = "2018-11-26T16:35:50.000Z";
        e.contentType = "application/json";
        e.data = Json{{"name", "Jon"}, {"place", "Winterfell"}};
        QTest::newRow("emission: reference") << dump(e) << kEmissionExample;
    }
    {
        CloudEvent e; // explicit null data is kept; extensions/tags when set
        e.eventType = "cron.trigger";
        e.source = "s";
        e.eventID = "1";
        e.data = Json(nullptr);
        e.extensions = Json{{"traceid", "abc"}};
        e.tags = {{"k", "v"}};
        QTest::newRow("emission: null data, extensions, tags")
            << dump(e)
            << QByteArray(R"({"cloudEventsVersion":"0.1","data":null,"eventID":"1","eventType":"cron.trigger",
                "extensions":{"traceid":"abc"},"source":"s","tags":[{"key":"k","value":"v"}]})");
    }
    {
        InvocationError e;
        e.type = "InputError";
        e.message = "Input invalid against schema";
        QTest::newRow("invocation error: no stacktrace")
            << dump(e)
            << QByteArray(
                   R"({"message":"Input invalid against schema","stacktrace":null,"type":"InputError"})");
    }
    QTest::newRow("tag: empty") << dump(Tag{}) << QByteArray("{}");
}

void TestWire::toJson()
{
    QFETCH(QByteArray, actual);
    QFETCH(QByteArray, expected);
    COMPARE_JSON(parse(actual), parse(expected));
}

void TestWire::hiddenFields_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("key");

    Function f;
    f.name = "f";
    f.source = "abc";
    f.sourceURL = "es://x";
    f.modifiedTime = 5;
    QTest::newRow("function source") << dump(f) << "source";
    QTest::newRow("function sourceURL") << dump(f) << "sourceURL";
    QTest::newRow("function modifiedTime") << dump(f) << "modifiedTime";
    QTest::newRow("function timeout 0") << dump(f) << "timeout";
    QTest::newRow("function revision empty") << dump(f) << "revision";

    EventDriverType t;
    t.id = kUuid1;
    QTest::newRow("drivertype id") << dump(t) << "id";
    QTest::newRow("drivertype createdTime") << dump(t) << "createdTime";
    EventDriver d;
    d.id = kUuid1;
    d.createdTime = 1;
    QTest::newRow("driver id") << dump(d) << "id";
    QTest::newRow("driver createdTime camelCase") << dump(d) << "createdTime";
    Subscription s;
    s.id = kUuid1;
    s.createdTime = 1;
    QTest::newRow("subscription id") << dump(s) << "id";
    QTest::newRow("subscription created-time kebab") << dump(s) << "created-time";
    Api a;
    a.id = kUuid1;
    QTest::newRow("api createdTime") << dump(a) << "createdTime";
    QTest::newRow("api reason") << dump(a) << "reason";
    Run r;
    QTest::newRow("run error when none") << dump(r) << "error";
    QTest::newRow("run input when null") << dump(r) << "input";
    QTest::newRow("run output when null") << dump(r) << "output";
    QTest::newRow("run logs when none") << dump(r) << "logs";
    QTest::newRow("run durationNs unknown") << dump(r) << "durationNs";
    QTest::newRow("run coldStart false") << dump(r) << "coldStart";
    QTest::newRow("run blocking false") << dump(r) << "blocking";
    QTest::newRow("run kind") << dump(r) << "kind";
    Secret sec;
    QTest::newRow("secret id empty") << dump(sec) << "id";
}

void TestWire::hiddenFields()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, key);
    const Json j = parse(json);
    QVERIFY2(!j.contains(key.toStdString()), json.constData());
}

void TestWire::roundTrip_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QByteArray>("json");

    QTest::newRow("baseimage") << "baseimage" << kBaseImageExample;
    QTest::newRow("image") << "image" << kImageExample;
    QTest::newRow("function") << "function" << kFunctionExample;
    QTest::newRow("run") << "run" << kRunExample;
    QTest::newRow("secret") << "secret" << kSecretExample;
    QTest::newRow("api") << "api" << kApiExample;
    QTest::newRow("drivertype") << "drivertype" << kDriverTypeExample;
    QTest::newRow("driver") << "driver" << kDriverExample;
    QTest::newRow("subscription") << "subscription" << kSubscriptionExample;
    QTest::newRow("event") << "event" << kEmissionExample;
    QTest::newRow("run: failed, extensions")
        << "run"
        << QByteArray(
               R"({"blocking":true,"coldStart":true,"durationNs":1500000,"error":{"message":"boom","stacktrace":["a"],"type":"SystemError"},
            "event":{"cloudEventsVersion":"0.1","eventID":"1","eventType":"t","source":"s"},"executedTime":5,
            "finishedTime":-6795364578871345152,"functionName":"f","httpContext":{"method":"GET"},"input":[1,2],
            "logs":{"stderr":["e"],"stdout":null},"reason":["error running function: f: boom"],"secrets":["s1"],
            "services":null,"status":"ERROR","tags":[{"key":"k","value":"v"}]})");
    QTest::newRow("function: extensions")
        << "function"
        << QByteArray(
               R"({"handler":"","image":"i","kind":"Function","name":"f","reason":["x"],"revision":"r2",
            "schema":{"in":{"type":"object"},"out":{"type":"string"}},"secrets":["a"],"services":null,"status":"ERROR",
            "tags":[{"key":"k"}],"timeout":100})");
    QTest::newRow("image: packages")
        << "image"
        << QByteArray(
               R"({"baseImageName":"b","groups":null,"kind":"Image","name":"i","reason":null,"runtimeDependencies":{},
            "systemDependencies":{"packages":[{"name":"curl","version":"1"}]},"tags":null})");
}

void TestWire::roundTrip()
{
    QFETCH(QString, kind);
    QFETCH(QByteArray, json);
    const Json original = parse(json);
    COMPARE_JSON(rewrite(kind, original), original);
}

void TestWire::storageRoundTrip_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QStringList>("mustKeep");

    EventDriver d;
    d.name = "ticker";
    d.type = "ticker";
    d.id = kUuid1;
    d.createdTime = 10;
    QTest::newRow("driver keeps its token") << "driver" << dump(toStorageJson(d)) << QStringList{"id"};
    EventDriverType t;
    t.name = "ticker";
    t.image = "img";
    t.id = kUuid2;
    QTest::newRow("drivertype keeps id") << "drivertype" << dump(toStorageJson(t)) << QStringList{"id"};
    Subscription s;
    s.name = "s";
    s.eventType = "e";
    s.function = "f";
    s.id = kUuid3;
    s.reason = {"function f not found"};
    QTest::newRow("subscription keeps id, reason")
        << "subscription" << dump(toStorageJson(s)) << QStringList{"id", "reason"};
    Function f;
    f.name = "f";
    f.image = "i";
    f.modifiedTime = 99;
    f.sourceURL = "es://abc";
    f.source = "not stored";
    f.revision = "r";
    QTest::newRow("function keeps modifiedTime, sourceURL")
        << "function" << dump(toStorageJson(f)) << QStringList{"modifiedTime", "sourceURL", "revision"};
    Api a;
    a.name = "a";
    a.function = "f";
    a.reason = {"r"};
    QTest::newRow("api keeps reason") << "api" << dump(toStorageJson(a)) << QStringList{"reason"};
    Run r;
    r.name = kRunId;
    r.durationNs = 7;
    QTest::newRow("run") << "run" << dump(toStorageJson(r)) << QStringList{"durationNs"};
    QTest::newRow("baseimage") << "baseimage" << kBaseImageExample << QStringList{"id"};
    QTest::newRow("secret") << "secret" << kSecretExample << QStringList{"secrets"};
    QTest::newRow("image") << "image" << kImageExample << QStringList{"id"};
}

void TestWire::storageRoundTrip()
{
    QFETCH(QString, kind);
    QFETCH(QByteArray, json);
    QFETCH(QStringList, mustKeep);
    const Json stored = parse(json);
    for (const auto &key : mustKeep)
        QVERIFY2(stored.contains(key.toStdString()), qPrintable(key));
    QVERIFY(!stored.contains("source"));
    COMPARE_JSON(restore(kind, stored), stored);
}

void TestWire::lenientReaders()
{
    // Wrong types are ignored, missing fields give defaults, never a throw.
    const Json messy = parse(R"({"name":5,"dockerUrl":"d","language":null,"createdTime":"x","status":"BOGUS",
        "reason":"no","tags":[{"key":"k","value":1},7,null],"groups":[1]})");
    BaseImage b;
    QVERIFY(b.language.empty());
    from_json(messy, b);
    QCOMPARE(b.name, std::string());
    QCOMPARE(b.dockerUrl, std::string("d"));
    QCOMPARE(b.createdTime, int64_t(0));
    QCOMPARE(int(b.status), int(Status::None));
    QVERIFY(b.reason.empty());
    QCOMPARE(b.tags.size(), std::size_t(1));
    QCOMPARE(b.tags[0].key, std::string("k"));
    QCOMPARE(b.tags[0].value, std::string());

    // Not even an object.
    Function f;
    from_json(Json::array(), f);
    from_json(Json("text"), f);
    QVERIFY(f.name.empty());
    QVERIFY(f.schemaIn.is_null());

    // Input fields of a function, and the CLI's {"schema":{}}.
    from_json(parse(R"({"name":"f","source":"H4sI","sourceURL":"es://x","schema":{},"timeout":1500.0,
        "secrets":["a",null,3]})"),
              f);
    QCOMPARE(f.source, std::string("H4sI"));
    QCOMPARE(f.sourceURL, std::string("es://x"));
    QVERIFY(f.schemaIn.is_null());
    QCOMPARE(f.timeout, int64_t(1500));
    QCOMPARE(f.secrets, (std::vector<std::string>{"a", ""}));

    // Drivers/driver types accept both spellings of the times; subscriptions too.
    EventDriver d;
    from_json(parse(R"({"createdTime":11,"modified-time":12,"config":null})"), d);
    QCOMPARE(d.createdTime, int64_t(11));
    QCOMPARE(d.modifiedTime, int64_t(12));
    QVERIFY(!d.config.has_value());
    from_json(parse(R"({"config":[]})"), d);
    QVERIFY(d.config.has_value());
    QVERIFY(d.config->empty());
    Subscription s;
    from_json(parse(R"({"created-time":3,"modifiedTime":4})"), s);
    QCOMPARE(s.createdTime, int64_t(3));
    QCOMPARE(s.modifiedTime, int64_t(4));

    // Secrets: non-string values are dropped.
    Secret sec;
    from_json(parse(R"({"name":"s","secrets":{"a":"1","b":2,"c":null}})"), sec);
    QCOMPARE(sec.secrets.size(), std::size_t(1));
    QCOMPARE(sec.secrets.at("a"), std::string("1"));

    // The clojure runtime's camelCase stackTrace.
    InvocationError e;
    from_json(parse(R"({"message":"m","stackTrace":["x"]})"), e);
    QCOMPARE(e.stacktrace, std::vector<std::string>{"x"});

    // Huge unsigned numbers saturate instead of wrapping.
    Run r;
    from_json(parse(R"({"executedTime":18446744073709551615})"), r);
    QCOMPARE(r.executedTime, std::numeric_limits<int64_t>::max());

    // Images: a missing systemDependencies stays "absent".
    Image img;
    from_json(
        parse(R"({"systemDependencies":{"packages":null},"runtimeDependencies":{"manifest":"requests"}})"),
        img);
    QVERIFY(!img.systemPackages.has_value());
    QCOMPARE(img.runtimeManifest, std::string("requests"));

    // CloudEvent: a present data null is kept, an absent one is not.
    CloudEvent ev;
    from_json(parse(R"({"eventType":"t","data":null})"), ev);
    QVERIFY(ev.data.has_value());
    QVERIFY(ev.data->is_null());
    CloudEvent ev2;
    from_json(parse(R"({"eventType":"t"})"), ev2);
    QVERIFY(!ev2.data.has_value());
}

void TestWire::runIdsAreTimeOrderedUuids()
{
    const QRegularExpression v7(QStringLiteral("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"));
    const QRegularExpression v4(QStringLiteral("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"));
    QVERIFY(v4.match(QString::fromStdString(dispatch::newUuid())).hasMatch());
    // 2026-11-25T18:37:23.123Z: the first 48 bits are the milliseconds, big-endian.
    const long long ns = 1'795'631'843'123'456'789LL;
    const std::string id = dispatch::newTimeOrderedUuid(ns);
    QVERIFY2(v7.match(QString::fromStdString(id)).hasMatch(), id.c_str());
    QCOMPARE(QString::fromStdString(id.substr(0, 8) + id.substr(9, 4)),
             QString::number(1'795'631'843'123LL, 16).rightJustified(12, QLatin1Char('0')));
    // Later milliseconds sort after earlier ones as text; ids of one millisecond still differ.
    QString previous;
    for (long long ms = 0; ms < 2000; ms += 7) {
        const QString next = QString::fromStdString(dispatch::newTimeOrderedUuid(ns + ms * 1'000'000));
        QVERIFY2(previous < next, qPrintable(previous + QLatin1String(" >= ") + next));
        previous = next;
    }
    QVERIFY(dispatch::newTimeOrderedUuid(ns) != dispatch::newTimeOrderedUuid(ns));
}

namespace {

std::string nlohmannDump(const Json &j)
{
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// A random document: every byte value in strings (so invalid UTF-8 and every control character), integers
// at the edges, floats, nesting.
Json randomJson(std::mt19937_64 &gen, int depth)
{
    const auto pick = [&gen](uint64_t n) { return gen() % n; };
    const auto randomString = [&] {
        std::string s;
        const auto n = pick(12);
        for (uint64_t i = 0; i < n; ++i) {
            switch (pick(4)) {
            case 0: s.push_back(static_cast<char>(pick(256))); break;  // anything
            case 1: s.push_back(static_cast<char>(pick(32))); break;   // control
            case 2: s += pick(2) ? "\xc3\xa9" : "\"\\"; break;     // é, quote and backslash
            default: s.push_back(static_cast<char>('a' + pick(26))); break;
            }
        }
        return s;
    };
    switch (depth > 3 ? pick(6) : pick(8)) {
    case 0: return nullptr;
    case 1: return pick(2) == 0;
    case 2: {
        static const int64_t edges[] = {0, -1, 1, INT64_MIN, INT64_MAX, 1'795'631'843'123'456'789LL};
        return pick(2) ? Json(edges[pick(6)]) : Json(static_cast<int64_t>(gen()));
    }
    case 3: return pick(2) ? Json(gen()) : Json(UINT64_MAX);
    case 4: {
        static const double floats[] = {0.0, -0.0, 0.1, 1.0, 1e300, -2.5e-300, 123456.789, 1e21,
                                        std::numeric_limits<double>::quiet_NaN(),
                                        std::numeric_limits<double>::infinity()};
        return floats[pick(10)];
    }
    case 5: return randomString();
    case 6: {
        Json a = Json::array();
        for (uint64_t i = 0, n = pick(5); i < n; ++i)
            a.push_back(randomJson(gen, depth + 1));
        return a;
    }
    default: {
        Json o = Json::object();
        for (uint64_t i = 0, n = pick(5); i < n; ++i)
            o[randomString()] = randomJson(gen, depth + 1);
        return o;
    }
    }
}

} // namespace

void TestWire::jsonWriterMatchesNlohmann()
{
    const Json fixed[] = {Json(), Json::object(), Json::array(), Json(""), Json("plain ascii ~\x7f"),
                          Json("tab\tnew\nline\r\b\f\x01\x1f"), Json("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"),
                          Json("bad \xff\xfe utf-8 \xc3"), Json::parse(R"({"b":[1,2.5,"x",null,true],"a":{"":{}}})")};
    for (const Json &j : fixed) {
        std::string out = "prefix:";
        dispatch::wire::appendJson(out, j);
        QCOMPARE(QString::fromStdString(out), QString::fromStdString("prefix:" + nlohmannDump(j)));
    }
    std::mt19937_64 gen(20261126);
    for (int i = 0; i < 5000; ++i) {
        const Json j = randomJson(gen, 0);
        const std::string expected = nlohmannDump(j);
        const std::string actual = dispatch::wire::dumpJson(j);
        if (actual != expected)
            QFAIL(qPrintable(QStringLiteral("document %1:\n%2\n%3").arg(i).arg(QString::fromStdString(expected),
                                                                              QString::fromStdString(actual))));
    }
}

void TestWire::runJsonMatchesToJson()
{
    using dispatch::wire::Run;
    std::vector<Run> runs;
    Run r; // a bare one: only the always-present fields
    runs.push_back(r);
    r.name = dispatch::newTimeOrderedUuid(1'795'631'843'123'456'789LL);
    r.functionName = "hello-py";
    r.functionId = "f-id";
    r.faasId = "faas \"id\"";
    r.blocking = true;
    r.input = Json{{"name", "Jon"}, {"place", "Winterfell"}};
    r.output = Json{{"myField", "Hello, Jon from Winterfell"}};
    r.httpContext = Json{{"method", "POST"}, {"uri", "/dispatch/hello"}};
    r.secrets = {"open-sesame", "other"};
    r.status = dispatch::wire::Status::Ready;
    r.executedTime = 1'795'631'843'123'456'789LL;
    r.finishedTime = r.executedTime + 5000;
    r.durationNs = 4200;
    r.coldStart = true;
    r.logs = dispatch::wire::Logs{{"err line", "caf\xc3\xa9"}, {"out \t line"}};
    r.tags = {{"k", "v"}, {"only-key", ""}};
    runs.push_back(r);
    r.error = dispatch::wire::InvocationError{"FunctionError", "boom\n", {"Traceback", "  line 1"}};
    r.output = nullptr;
    r.status = dispatch::wire::Status::Error;
    r.reason = {"error running function: hello-py: boom"};
    r.event = Json{{"eventType", "cron.trigger"}, {"eventID", "e1"}};
    runs.push_back(r);
    r.error = dispatch::wire::InvocationError{"SystemError", "", {}};
    r.logs = dispatch::wire::Logs{};
    r.finishedTime = 0;
    r.durationNs = -1;
    r.blocking = false;
    r.coldStart = false;
    r.input = "a string input";
    runs.push_back(r);
    for (const Run &run : runs)
        QCOMPARE(QString::fromStdString(dispatch::wire::runJson(run)), QString::fromStdString(nlohmannDump(Json(run))));
}

void TestWire::runTimes()
{
    // A run that has not finished shows Go's zero time on the wire, whether the model holds 0 or the
    // constant.
    Run r;
    QCOMPARE(Json(r)["finishedTime"].get<int64_t>(), kGoZeroTimeNs);
    QCOMPARE(Json(r).get<Run>().finishedTime, kGoZeroTimeNs);
    r.finishedTime = kGoZeroTimeNs;
    QCOMPARE(Json(r)["finishedTime"].get<int64_t>(), kGoZeroTimeNs);
    // v0.1.x servers report the zero time in seconds: read as is.
    QCOMPARE(parse(R"({"finishedTime":-62135596800})").get<Run>().finishedTime, kGoZeroTimeSeconds);
    r.finishedTime = 1543281864923456000;
    QCOMPARE(Json(r).get<Run>().finishedTime, r.finishedTime);
    QCOMPARE(Json(r)["executedTime"].get<int64_t>(), int64_t(0)); // always present
}

void TestWire::status_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("status");
    QTest::addColumn<bool>("transitional");
    QTest::newRow("empty") << "" << int(Status::None) << false;
    QTest::newRow("INITIALIZED") << "INITIALIZED" << int(Status::Initialized) << true;
    QTest::newRow("CREATING") << "CREATING" << int(Status::Creating) << true;
    QTest::newRow("READY") << "READY" << int(Status::Ready) << false;
    QTest::newRow("UPDATING") << "UPDATING" << int(Status::Updating) << true;
    QTest::newRow("ERROR") << "ERROR" << int(Status::Error) << false;
    QTest::newRow("DELETING") << "DELETING" << int(Status::Deleting) << true;
    QTest::newRow("DELETED") << "DELETED" << int(Status::Deleted) << false;
}

void TestWire::status()
{
    QFETCH(QString, text);
    QFETCH(int, status);
    QFETCH(bool, transitional);
    const auto s = static_cast<Status>(status);
    QCOMPARE(toString(s), text.toStdString());
    QVERIFY(statusFromString(text.toStdString()) == std::optional<Status>(s));
    QCOMPARE(isTransitional(s), transitional);
    QVERIFY(!statusFromString("ready").has_value());
}

// ---------------------------------------------------------------------------------------------------------
// Request validation

void TestWire::validation_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("httpStatus"); // 0 = accepted
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message"); // a trailing '*' matches a prefix

    const QString nameMsg = "name should start with letter or number and may only contain letters, numbers, "
                            "underscores and dashes";
    const QByteArray bi = R"("dockerUrl":"x/y:1","language":"python3")";
    auto row = [](const char *name, const char *kind, const QByteArray &body, int status = 0, int code = 0,
                  const QString &message = {}) {
        QTest::newRow(name) << kind << body << status << code << message;
    };

    // --- base images ---
    row("bi: valid", "baseimage", "{" + bi + R"(,"name":"python3-base"})");
    row("bi: language may be empty", "baseimage", R"({"name":"n","dockerUrl":"d","language":""})");
    row("bi: read-only fields sent back", "baseimage",
        "{" + bi +
            R"(,"name":"n","id":"6b2f0d1e-3f7c-4a57-9f0e-1f3d3c1b9a11","kind":"BaseImage","createdTime":5,
            "status":"READY","reason":null,"groups":null,"tags":[]})");
    row("bi: underscore first", "baseimage", "{" + bi + R"(,"name":"_ok-1"})");
    row("bi: unknown fields ignored", "baseimage", "{" + bi + R"(,"name":"n","foo":{"bar":1}})");
    row("bi: empty body", "baseimage", "", 422, 602, "body in body is required");
    row("bi: whitespace body", "baseimage", " \n\t", 422, 602, "body in body is required");
    row("bi: not JSON", "baseimage", "{bad", 400, 400, "request body is not valid JSON: parse error*");
    row("bi: trailing garbage", "baseimage", "{} x", 400, 400, "request body is not valid JSON: *");
    row("bi: array body", "baseimage", "[]", 422, 601, R"(body in body must be of type object: "array")");
    row("bi: string body", "baseimage", R"("x")", 422, 601,
        R"(body in body must be of type object: "string")");
    row("bi: null body is {}", "baseimage", "null", 422, 602, "dockerUrl in body is required");
    row("bi: {} → first required", "baseimage", "{}", 422, 602, "dockerUrl in body is required");
    row("bi: missing language", "baseimage", R"({"dockerUrl":"d","name":"n"})", 422, 602,
        "language in body is required");
    row("bi: missing name", "baseimage", "{" + bi + "}", 422, 602, "name in body is required");
    row("bi: null name", "baseimage", "{" + bi + R"(,"name":null})", 422, 602, "name in body is required");
    row("bi: empty name", "baseimage", "{" + bi + R"(,"name":""})", 422, 605, nameMsg);
    row("bi: name starts with dash", "baseimage", "{" + bi + R"(,"name":"-bad"})", 422, 605, nameMsg);
    row("bi: name with dot", "baseimage", "{" + bi + R"(,"name":"a.b"})", 422, 605, nameMsg);
    row("bi: name with space", "baseimage", "{" + bi + R"(,"name":"a b"})", 422, 605, nameMsg);
    row("bi: name non-ASCII", "baseimage", "{" + bi + R"(,"name":"caf\u00e9"})", 422, 605, nameMsg);
    row("bi: name trailing newline", "baseimage", "{" + bi + R"(,"name":"ok\n"})", 422, 605, nameMsg);
    row("bi: name wrong type", "baseimage", "{" + bi + R"(,"name":5})", 422, 601,
        R"(name in body must be of type string: "number")");
    row("bi: types before validation", "baseimage", R"({"name":"-bad","dockerUrl":true})", 422, 601,
        R"(dockerUrl in body must be of type string: "boolean")");
    row("bi: status DELETED", "baseimage", "{" + bi + R"(,"name":"n","status":"DELETED"})", 422, 606,
        "status in body should be one of [INITIALIZED CREATING READY UPDATING ERROR DELETING]");
    row("bi: status lower case", "baseimage", "{" + bi + R"(,"name":"n","status":"ready"})", 422, 606,
        "status in body should be one of [INITIALIZED CREATING READY UPDATING ERROR DELETING]");
    row("bi: status empty", "baseimage", "{" + bi + R"(,"name":"n","status":""})");
    row("bi: createdTime string", "baseimage", "{" + bi + R"(,"name":"n","createdTime":"1"})", 422, 601,
        R"(createdTime in body must be of type integer: "string")");
    row("bi: createdTime float", "baseimage", "{" + bi + R"(,"name":"n","createdTime":1.5})", 422, 601,
        R"(createdTime in body must be of type integer: "number")");
    row("bi: createdTime too big", "baseimage",
        "{" + bi + R"(,"name":"n","createdTime":18446744073709551615})", 422, 601,
        R"(createdTime in body must be of type integer: "number")");
    row("bi: tags not array", "baseimage", "{" + bi + R"(,"name":"n","tags":"x"})", 422, 601,
        R"(tags in body must be of type array: "string")");
    row("bi: tag element not object", "baseimage", "{" + bi + R"(,"name":"n","tags":[{"key":"a"},3]})", 422,
        601, R"(tags.1 in body must be of type object: "number")");
    row("bi: tag key wrong type", "baseimage", "{" + bi + R"(,"name":"n","tags":[{"key":1}]})", 422, 601,
        R"(tags.0.key in body must be of type string: "number")");
    row("bi: null tag element", "baseimage", "{" + bi + R"(,"name":"n","tags":[null]})");
    row("bi: id not uuid", "baseimage", "{" + bi + R"(,"name":"n","id":"abc"})", 422, 601,
        R"(id in body must be of type uuid: "abc")");
    row("bi: id uuid without dashes", "baseimage",
        "{" + bi + R"(,"name":"n","id":"6B2F0D1E3F7C4A579F0E1F3D3C1B9A11"})");
    row("bi: kind pattern", "baseimage", "{" + bi + R"(,"name":"n","kind":"Base Image"})", 422, 605,
        R"(kind in body should match '^[\w\d\-]+$')");
    row("bi: reason element wrong type", "baseimage", "{" + bi + R"(,"name":"n","reason":[1]})", 422, 601,
        R"(reason.0 in body must be of type string: "number")");

    // --- images ---
    row("image: valid", "image", R"({"name":"python3","baseImageName":"python3-base"})");
    row("image: deps", "image",
        R"({"name":"i","baseImageName":"b","runtimeDependencies":{"manifest":"requests"},
            "systemDependencies":{"packages":[{"name":"curl","version":"1"}]}})");
    row("image: missing base image", "image", R"({"name":"i"})", 422, 602,
        "baseImageName in body is required");
    row("image: bad base image name", "image", R"({"name":"i","baseImageName":"b c"})", 422, 605,
        "baseImageName should start with letter or number and may only contain letters, numbers, underscores "
        "and dashes");
    row("image: missing name", "image", R"({"baseImageName":"b"})", 422, 602, "name in body is required");
    row("image: runtime deps not object", "image",
        R"({"name":"i","baseImageName":"b","runtimeDependencies":"x"})", 422, 601,
        R"(runtimeDependencies in body must be of type object: "string")");
    row("image: manifest wrong type", "image",
        R"({"name":"i","baseImageName":"b","runtimeDependencies":{"manifest":[]}})", 422, 601,
        R"(runtimeDependencies.manifest in body must be of type string: "array")");
    row("image: package without name", "image",
        R"({"name":"i","baseImageName":"b","systemDependencies":{"packages":[{"version":"1"}]}})", 422, 602,
        "systemDependencies.packages.0.name in body is required");

    // --- functions ---
    row("fn: valid", "function", R"({"name":"f","image":"i","handler":"hello.handle"})");
    row("fn: handler may be empty", "function", R"({"name":"f","image":"i","handler":""})");
    row("fn: CLI create request", "function",
        R"({"name":"hello-py","image":"python3","handler":"hello.handle","source":"H4sIAAAAAAAA/+x=",
            "secrets":[],"services":[],"timeout":0,"tags":[],"schema":{}})");
    row("fn: CLI sends nulls back", "function",
        R"({"name":"f","image":"i","handler":"h","reason":null,"schema":{"in":null,"out":null},"secrets":null})");
    row("fn: missing handler", "function", R"({"name":"f","image":"i"})", 422, 602,
        "handler in body is required");
    row("fn: missing image", "function", R"({"name":"f","handler":"h"})", 422, 602,
        "image in body is required");
    row("fn: missing name", "function", R"({"image":"i","handler":"h"})", 422, 602,
        "name in body is required");
    row("fn: bad name", "function", R"({"name":"f!","image":"i","handler":"h"})", 422, 605, nameMsg);
    row("fn: timeout string", "function", R"({"name":"f","image":"i","handler":"h","timeout":"5"})", 422, 601,
        R"(timeout in body must be of type integer: "string")");
    row("fn: schema not object", "function", R"({"name":"f","image":"i","handler":"h","schema":[]})", 422,
        601, R"(schema in body must be of type object: "array")");
    row("fn: schema.in not object", "function",
        R"({"name":"f","image":"i","handler":"h","schema":{"in":"x"}})", 422, 601,
        R"(schema.in in body must be of type object: "string")");
    row("fn: secret not string", "function", R"({"name":"f","image":"i","handler":"h","secrets":["a",1]})",
        422, 601, R"(secrets.1 in body must be of type string: "number")");
    row("fn: source not string", "function", R"({"name":"f","image":"i","handler":"h","source":{}})", 422,
        601, R"(source in body must be of type string: "object")");
    row("fn: faasId not uuid", "function", R"({"name":"f","image":"i","handler":"h","faasId":"zzz"})", 422,
        601, R"(faasId in body must be of type uuid: "zzz")");
    row("fn: status enum", "function", R"({"name":"f","image":"i","handler":"h","status":"bogus"})", 422, 606,
        "status in body should be one of [INITIALIZED CREATING READY UPDATING ERROR DELETING]");

    // --- runs ---
    row("run: CLI exec", "run", R"({"blocking":true,"input":{"name":"Jon"},"secrets":[]})");
    row("run: nothing required", "run", "{}");
    row("run: null body", "run", "null");
    row("run: literal input", "run", R"({"input":42})");
    row("run: empty body", "run", "", 422, 602, "body in body is required");
    row("run: blocking string", "run", R"({"blocking":"yes"})", 422, 601,
        R"(blocking in body must be of type boolean: "string")");
    row("run: name not uuid", "run", R"({"name":"run-1"})", 422, 601,
        R"(name in body must be of type uuid: "run-1")");
    row("run: httpContext not object", "run", R"({"httpContext":[]})", 422, 601,
        R"(httpContext in body must be of type object: "array")");
    row("run: logs element", "run", R"({"logs":{"stdout":[1]}})", 422, 601,
        R"(logs.stdout.0 in body must be of type string: "number")");

    // --- secrets (the body parameter is called "secret") ---
    row("secret: valid", "secret", R"({"name":"open-sesame","secrets":{"password":"OpenSesame"}})");
    row("secret: no values", "secret", R"({"name":"s"})");
    row("secret: empty body", "secret", "", 422, 602, "secret in body is required");
    row("secret: array body", "secret", "[1]", 422, 601, R"(secret in body must be of type object: "array")");
    row("secret: missing name", "secret", R"({"secrets":{}})", 422, 602, "name in body is required");
    row("secret: bad name", "secret", R"({"name":"a/b"})", 422, 605, nameMsg);
    row("secret: non-string value", "secret", R"({"name":"s","secrets":{"password":1}})", 400, 400,
        R"(secrets.password in body must be of type string: "number")");
    row("secret: object value", "secret", R"({"name":"s","secrets":{"a":"x","b":{"c":1}}})", 400, 400,
        R"(secrets.b in body must be of type string: "object")");
    row("secret: secrets not object", "secret", R"({"name":"s","secrets":[]})", 422, 601,
        R"(secrets in body must be of type object: "array")");

    // --- APIs ---
    row("api: CLI create", "api",
        R"({"name":"post-hello","function":"hello-py","methods":["POST"],"uris":["/hello"],"protocols":["http","https"],
            "authentication":"public","enabled":true,"cors":false,"hosts":null,"tags":[]})");
    row("api: missing function", "api", R"({"name":"a"})", 422, 602, "function in body is required");
    row("api: missing name", "api", R"({"function":"f"})", 422, 602, "name in body is required");
    row("api: bad name", "api", R"({"name":"a.b","function":"f"})", 422, 605, nameMsg);
    row("api: enabled string", "api", R"({"name":"a","function":"f","enabled":"true"})", 422, 601,
        R"(enabled in body must be of type boolean: "string")");
    row("api: methods not array", "api", R"({"name":"a","function":"f","methods":"GET"})", 422, 601,
        R"(methods in body must be of type array: "string")");

    // --- event driver types ---
    row("drivertype: valid", "drivertype", R"({"name":"ticker","image":"dispatchframework/ticker:0.0.2"})");
    row("drivertype: upper case allowed", "drivertype", R"({"name":"My_Type","image":"x","expose":true})");
    row("drivertype: 32 chars", "drivertype", R"({"name":"abcdefghijklmnopqrstuvwxyz012345","image":"x"})");
    row("drivertype: missing image", "drivertype", R"({"name":"t"})", 422, 602, "image in body is required");
    row("drivertype: missing name", "drivertype", R"({"image":"x"})", 422, 602, "name in body is required");
    row("drivertype: 33 chars", "drivertype", R"({"name":"abcdefghijklmnopqrstuvwxyz0123456","image":"x"})",
        422, 603, "name in body should be at most 32 chars long");
    row("drivertype: length counts code points", "drivertype",
        R"({"name":"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9","image":"x"})",
        422, 605, nameMsg);
    row("drivertype: bad name", "drivertype", R"({"name":"-t","image":"x"})", 422, 605, nameMsg);
    row("drivertype: expose string", "drivertype", R"({"name":"t","image":"x","expose":"no"})", 422, 601,
        R"(expose in body must be of type boolean: "string")");
    row("drivertype: config item", "drivertype",
        R"({"name":"t","image":"x","config":[{"key":"a","value":2}]})", 422, 601,
        R"(config.0.value in body must be of type string: "number")");

    // --- event drivers ---
    const QString driverMsg = R"(name in body should match '^[a-z0-9][a-z0-9\-]*$')";
    row("driver: valid", "driver",
        R"({"name":"every-10-seconds","type":"cron","config":[{"key":"cron","value":"0/10 * * * *"}],"secrets":[]})");
    row("driver: digit first", "driver", R"({"name":"1-driver","type":"ticker"})");
    row("driver: upper case", "driver", R"({"name":"testDriver-1","type":"ticker"})", 422, 605, driverMsg);
    row("driver: underscore", "driver", R"({"name":"test_driver-1","type":"ticker"})", 422, 605, driverMsg);
    row("driver: dash first", "driver", R"({"name":"-d","type":"ticker"})", 422, 605, driverMsg);
    row("driver: empty name", "driver", R"({"name":"","type":"ticker"})", 422, 605, driverMsg);
    row("driver: missing name", "driver", R"({"type":"ticker"})", 422, 602, "name in body is required");
    row("driver: missing type", "driver", R"({"name":"d"})", 422, 602, "type in body is required");
    row("driver: type 33 chars", "driver", R"({"name":"d","type":"abcdefghijklmnopqrstuvwxyz0123456"})", 422,
        603, "type in body should be at most 32 chars long");
    row("driver: config not array", "driver", R"({"name":"d","type":"t","config":{"a":"b"}})", 422, 601,
        R"(config in body must be of type array: "object")");
    row("driver: config key", "driver", R"({"name":"d","type":"t","config":[{"key":1}]})", 422, 601,
        R"(config.0.key in body must be of type string: "number")");
    row("driver: status DELETED", "driver", R"({"name":"d","type":"t","status":"DELETED"})", 422, 606,
        "status in body should be one of [INITIALIZED CREATING READY UPDATING ERROR DELETING]");

    // --- subscriptions ---
    const QByteArray long129(129, 'a');
    const QByteArray long128(128, 'a');
    row("sub: valid", "subscription",
        R"({"name":"cron-sub","eventType":"cron.trigger","function":"hello-py"})");
    row("sub: eventType 128", "subscription",
        R"({"name":"s","eventType":")" + long128 +
            R"(","function":"f","secrets":null,"tags":[{"label":"update"}]})");
    row("sub: missing eventType", "subscription", R"({"name":"s","function":"f"})", 422, 602,
        "eventType in body is required");
    row("sub: eventType 129", "subscription",
        R"({"name":"s","eventType":")" + long129 + R"(","function":"f"})", 422, 603,
        "eventType in body should be at most 128 chars long");
    row("sub: eventType pattern", "subscription", R"({"name":"s","eventType":"a b","function":"f"})", 422,
        605, R"(eventType in body should match '^[\w\d\-\.]+$')");
    row("sub: eventType empty", "subscription", R"({"name":"s","eventType":"","function":"f"})", 422, 605,
        R"(eventType in body should match '^[\w\d\-\.]+$')");
    row("sub: missing function", "subscription", R"({"name":"s","eventType":"e"})", 422, 602,
        "function in body is required");
    row("sub: function pattern", "subscription", R"({"name":"s","eventType":"e","function":"a.b"})", 422, 605,
        R"(function in body should match '^[\w\d\-]+$')");
    row("sub: function may start with dash", "subscription",
        R"({"name":"s","eventType":"e","function":"-f"})");
    row("sub: missing name", "subscription", R"({"eventType":"e","function":"f"})", 422, 602,
        "name in body is required");
    row("sub: bad name", "subscription", R"({"name":"a.b","eventType":"e","function":"f"})", 422, 605,
        nameMsg);
    row("sub: first failure wins", "subscription", R"({"name":"a.b","eventType":"a b"})", 422, 605,
        R"(eventType in body should match '^[\w\d\-\.]+$')");
}

void TestWire::validation()
{
    QFETCH(QString, kind);
    QFETCH(QByteArray, body);
    QFETCH(int, httpStatus);
    QFETCH(int, code);
    QFETCH(QString, message);

    const auto error = validateAs(kind, body.toStdString());
    if (httpStatus == 0) {
        QVERIFY2(!error, error ? error->message.c_str() : "");
        return;
    }
    QVERIFY2(error.has_value(), "accepted");
    QCOMPARE(error->httpStatus, httpStatus);
    QCOMPARE(error->code, int64_t(code));
    const QString actual = QString::fromStdString(error->message);
    if (message.endsWith(QLatin1Char('*')))
        QVERIFY2(actual.startsWith(message.chopped(1)), qPrintable(actual));
    else
        QCOMPARE(actual, message);
    COMPARE_JSON(error->toJson(), (Json{{"code", code}, {"message", error->message}}));
}

void TestWire::parsedModels()
{
    auto fn =
        parseFunction(R"({"name":"hello-py","image":"python3","handler":"","source":"H4sI","timeout":100,
        "schema":{"in":{"type":"object"}},"secrets":["s"],"tags":[{"key":"k","value":"v"}]})");
    QVERIFY(fn);
    QCOMPARE(fn->name, std::string("hello-py"));
    QCOMPARE(fn->handler, std::string());
    QCOMPARE(fn->source, std::string("H4sI"));
    QCOMPARE(fn->timeout, int64_t(100));
    COMPARE_JSON(fn->schemaIn, (Json{{"type", "object"}}));
    QVERIFY(fn->schemaOut.is_null());
    QCOMPARE(fn->tags, (std::vector<Tag>{{"k", "v"}}));

    auto run = parseRun(R"({"blocking":true,"input":{"name":"Jon"},"secrets":["a"]})");
    QVERIFY(run);
    QVERIFY(run->blocking);
    COMPARE_JSON(run->input, (Json{{"name", "Jon"}}));
    QCOMPARE(run->secrets, std::vector<std::string>{"a"});
    auto noInput = parseRun("{}");
    QVERIFY(noInput);
    QVERIFY(noInput->input.is_null());
    auto falsy = parseRun(R"({"input":false})");
    QVERIFY(falsy);
    COMPARE_JSON(falsy->input, Json(false));

    auto secret = parseSecret(R"({"name":"s","secrets":{"a":"1","b":null}})");
    QVERIFY(secret);
    QCOMPARE(secret->secrets.size(), std::size_t(1));

    auto driver = parseEventDriver(R"({"name":"d","type":"cron","config":[{"key":"cron","value":"* * *"}]})");
    QVERIFY(driver);
    QVERIFY(driver->config.has_value());
    QCOMPARE(driver->config->at(0), (KeyValue{"cron", "* * *"}));

    auto sub = parseSubscription(R"({"name":"s","eventType":"ticker.tick","function":"f","status":"READY"})");
    QVERIFY(sub);
    QCOMPARE(sub->eventType, std::string("ticker.tick"));
    QCOMPARE(int(sub->status), int(Status::Ready));

    auto image = parseImage(R"({"name":"i","baseImageName":"b","systemDependencies":{"packages":[]}})");
    QVERIFY(image);
    QVERIFY(image->systemPackages.has_value());

    auto bi = validateBaseImage(Json{{"name", "n"}, {"dockerUrl", "d"}, {"language", "l"}});
    QVERIFY(bi);
    QCOMPARE(bi->language, std::string("l"));
}

void TestWire::jsonBody_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("httpStatus");
    QTest::addColumn<QString>("message");

    QTest::newRow("object") << QByteArray(R"({"a":[1,{"b":null}]})") << 0 << QString();
    QTest::newRow("scalar") << QByteArray("42") << 0 << QString();
    QTest::newRow("empty") << QByteArray() << 422 << "body in body is required";
    QTest::newRow("truncated") << QByteArray(R"({"a":)") << 400
                               << "request body is not valid JSON: parse error at line 1, column 6*";
    QTest::newRow("invalid UTF-8") << QByteArray("{\"a\":\"\xff\"}") << 400
                                   << "request body is not valid JSON: *";
    QTest::newRow("control byte") << QByteArray("{\"a\":\"\x01\"}") << 400
                                  << "request body is not valid JSON: *";
    QTest::newRow("512 levels") << (QByteArray(512, '[') + QByteArray(512, ']')) << 0 << QString();
    QTest::newRow("513 levels") << (QByteArray(513, '[') + QByteArray(513, ']')) << 400
                                << "request body is not valid JSON: nesting deeper than 512 levels";
    QTest::newRow("brackets in strings do not count")
        << (QByteArray("[\"") + QByteArray(2000, '[') + QByteArray("\\\"\"]")) << 0 << QString();
}

void TestWire::jsonBody()
{
    QFETCH(QByteArray, body);
    QFETCH(int, httpStatus);
    QFETCH(QString, message);
    const auto parsed = parseJsonBody(body.toStdString());
    if (httpStatus == 0) {
        QVERIFY2(parsed.ok(), parsed.ok() ? "" : parsed.error().message.c_str());
        return;
    }
    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().httpStatus, httpStatus);
    const QString actual = QString::fromStdString(parsed.error().message);
    if (message.endsWith(QLatin1Char('*')))
        QVERIFY2(actual.startsWith(message.chopped(1)), qPrintable(actual));
    else
        QCOMPARE(actual, message);
    // The error body can always be serialised, whatever bytes the request had.
    try {
        (void)parsed.error().toJson().dump();
    } catch (...) {
        QFAIL("the error message is not valid UTF-8");
    }

    // parseJsonObjectBody: null → {}, non-object → 601.
    auto obj = parseJsonObjectBody("null", "secret");
    QVERIFY(obj);
    QVERIFY(obj->is_object());
    auto arr = parseJsonObjectBody("[]", "secret");
    QVERIFY(!arr);
    QCOMPARE(arr.error().message, std::string(R"(secret in body must be of type object: "array")"));
}

void TestWire::names_data()
{
    QTest::addColumn<QString>("which");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<bool>("valid");

    QTest::newRow("name: simple") << "name" << QByteArray("hello-py") << true;
    QTest::newRow("name: underscore") << "name" << QByteArray("_x") << true;
    QTest::newRow("name: single char") << "name" << QByteArray("a") << true;
    QTest::newRow("name: upper") << "name" << QByteArray("Hello_World-2") << true;
    QTest::newRow("name: empty") << "name" << QByteArray() << false;
    QTest::newRow("name: dash first") << "name" << QByteArray("-a") << false;
    QTest::newRow("name: dot") << "name" << QByteArray("a.b") << false;
    QTest::newRow("name: slash") << "name" << QByteArray("a/b") << false;
    QTest::newRow("name: non-ASCII") << "name" << QByteArray("\xc3\xa9") << false;
    QTest::newRow("name: NUL") << "name" << QByteArray("a\0b", 3) << false;
    QTest::newRow("driver: lower") << "driver" << QByteArray("every-10-seconds") << true;
    QTest::newRow("driver: digit first") << "driver" << QByteArray("1a") << true;
    QTest::newRow("driver: upper") << "driver" << QByteArray("testDriver") << false;
    QTest::newRow("driver: underscore") << "driver" << QByteArray("a_b") << false;
    QTest::newRow("driver: dash first") << "driver" << QByteArray("-a") << false;
    QTest::newRow("driver: empty") << "driver" << QByteArray() << false;
    QTest::newRow("path: dash first") << "path" << QByteArray("-a") << true;
    QTest::newRow("path: uuid") << "path" << QByteArray(kRunId) << true;
    QTest::newRow("path: empty") << "path" << QByteArray() << false;
    QTest::newRow("path: dot") << "path" << QByteArray("a.b") << false;
    QTest::newRow("path: space") << "path" << QByteArray("a b") << false;
    QTest::newRow("eventType: dotted") << "eventType" << QByteArray("vm.being.created") << true;
    QTest::newRow("eventType: dot first") << "eventType" << QByteArray(".x") << true;
    QTest::newRow("eventType: 128") << "eventType" << QByteArray(128, 'e') << true;
    QTest::newRow("eventType: 129") << "eventType" << QByteArray(129, 'e') << false;
    QTest::newRow("eventType: slash") << "eventType" << QByteArray("a/b") << false;
    QTest::newRow("eventType: empty") << "eventType" << QByteArray() << false;
    QTest::newRow("uuid: canonical") << "uuid" << QByteArray(kUuid1) << true;
    QTest::newRow("uuid: upper, no dashes")
        << "uuid" << QByteArray("6B2F0D1E3F7C4A579F0E1F3D3C1B9A11") << true;
    QTest::newRow("uuid: short") << "uuid" << QByteArray("6b2f0d1e-3f7c-4a57-9f0e-1f3d3c1b9a1") << false;
    QTest::newRow("uuid: long") << "uuid" << QByteArray("6b2f0d1e-3f7c-4a57-9f0e-1f3d3c1b9a111") << false;
    QTest::newRow("uuid: not hex") << "uuid" << QByteArray("6b2f0d1e-3f7c-4a57-9f0e-1f3d3c1b9a1g") << false;
    QTest::newRow("uuid: double dash")
        << "uuid" << QByteArray("6b2f0d1e--3f7c-4a57-9f0e-1f3d3c1b9a11") << false;
    QTest::newRow("uri: absolute") << "uri" << QByteArray("http://some.url.com/file") << true;
    QTest::newRow("uri: path") << "uri" << QByteArray("/schemas/a.json") << true;
    QTest::newRow("uri: opaque") << "uri" << QByteArray("urn:example:a") << true;
    QTest::newRow("uri: relative") << "uri" << QByteArray("schemas/a.json") << false;
    QTest::newRow("uri: space") << "uri" << QByteArray("http://a b") << false;
    QTest::newRow("uri: bad escape") << "uri" << QByteArray("http://a/%zz") << false;
    QTest::newRow("uri: empty scheme") << "uri" << QByteArray(":x") << false;
    QTest::newRow("uri: digit scheme") << "uri" << QByteArray("1http://a") << false;
}

void TestWire::names()
{
    QFETCH(QString, which);
    QFETCH(QByteArray, input);
    QFETCH(bool, valid);
    const std::string_view s(input.constData(), static_cast<std::size_t>(input.size()));
    bool actual = false;
    if (which == QLatin1String("name"))
        actual = isValidName(s);
    else if (which == QLatin1String("driver"))
        actual = isValidDriverName(s);
    else if (which == QLatin1String("path"))
        actual = isValidPathName(s);
    else if (which == QLatin1String("eventType"))
        actual = isValidEventType(s);
    else if (which == QLatin1String("uuid"))
        actual = isUuid(s);
    else if (which == QLatin1String("uri"))
        actual = isRequestUri(s);
    else
        QFAIL("unknown check");
    QCOMPARE(actual, valid);
}

// ---------------------------------------------------------------------------------------------------------
// CloudEvents

void TestWire::cloudEvent_data()
{
    QTest::addColumn<QByteArray>("event");
    QTest::addColumn<QString>("problem"); // "" = valid
    QTest::addColumn<QByteArray>("echo"); // expected to_json of the parsed event (valid rows)

    const QByteArray ok = R"("cloudEventsVersion":"0.1","eventID":"1","source":"dispatch")";
    QTest::newRow("reference emission") << kEmissionExample << QString() << kEmissionExample;
    QTest::newRow("ticker driver event")
        << QByteArray(
               R"({"eventType":"cron.trigger","cloudEventsVersion":"0.1","source":"5b1c","eventID":"8d2e",
            "eventTime":"2018-11-26T16:35:50.0001Z","data":null})")
        << QString()
        << QByteArray(
               R"({"cloudEventsVersion":"0.1","data":null,"eventID":"8d2e","eventTime":"2018-11-26T16:35:50.000Z",
            "eventType":"cron.trigger","source":"5b1c"})");
    QTest::newRow("unknown fields dropped from the echo")
        << QByteArray("{" + ok +
                      R"(,"eventType":"t","foo":1,"eventTypeVersion":"v1","schemaURL":"http://x/s.json",
            "extensions":{"a":1},"tags":[{"key":"k","value":"v"}]})")
        << QString()
        << QByteArray("{" + ok + R"(,"eventType":"t","eventTypeVersion":"v1","schemaURL":"http://x/s.json",
            "extensions":{"a":1},"tags":[{"key":"k","value":"v"}]})");
    QTest::newRow("binary data as base64 string")
        << QByteArray("{" + ok + R"(,"eventType":"t","data":"aGVsbG8="})") << QString()
        << QByteArray("{" + ok + R"(,"eventType":"t","data":"aGVsbG8="})");
    QTest::newRow("version missing") << QByteArray(R"({"eventType":"t","eventID":"1","source":"s"})")
                                     << "cloudEventsVersion in body is required" << QByteArray();
    QTest::newRow("version 0.2")
        << QByteArray(R"({"cloudEventsVersion":"0.2","eventType":"t","eventID":"1","source":"s"})")
        << "cloudEventsVersion in body should be one of [0.1]" << QByteArray();
    QTest::newRow("eventID missing") << QByteArray(
                                            R"({"cloudEventsVersion":"0.1","eventType":"t","source":"s"})")
                                     << "eventID in body is required" << QByteArray();
    QTest::newRow("eventID empty")
        << QByteArray(R"({"cloudEventsVersion":"0.1","eventType":"t","source":"s","eventID":""})")
        << "eventID in body is required" << QByteArray();
    QTest::newRow("eventTime invalid")
        << QByteArray("{" + ok + R"(,"eventType":"t","eventTime":"yesterday"})")
        << R"(eventTime in body must be of type date-time: "yesterday")" << QByteArray();
    QTest::newRow("eventType missing")
        << QByteArray("{" + ok + "}") << "eventType in body is required" << QByteArray();
    QTest::newRow("eventType pattern") << QByteArray("{" + ok + R"(,"eventType":"a b"})")
                                       << R"(eventType in body should match '^[\w\d\-\.]+$')" << QByteArray();
    QTest::newRow("eventType too long")
        << QByteArray("{" + ok + R"(,"eventType":")" + QByteArray(129, 'x') + "\"}")
        << "eventType in body should be at most 128 chars long" << QByteArray();
    QTest::newRow("eventType wrong type")
        << QByteArray("{" + ok + R"(,"eventType":5})")
        << R"(eventType in body must be of type string: "number")" << QByteArray();
    QTest::newRow("source missing") << QByteArray(
                                           R"({"cloudEventsVersion":"0.1","eventType":"t","eventID":"1"})")
                                    << "source in body is required" << QByteArray();
    QTest::newRow("schemaURL relative")
        << QByteArray("{" + ok + R"(,"eventType":"t","schemaURL":"not a uri"})")
        << R"(schemaURL in body must be of type uri: "not a uri")" << QByteArray();
    QTest::newRow("extensions not object")
        << QByteArray("{" + ok + R"(,"eventType":"t","extensions":"x"})")
        << R"(extensions in body must be of type object: "string")" << QByteArray();
    QTest::newRow("emission id not uuid") << QByteArray("{" + ok + R"(,"eventType":"t","id":"x"})")
                                          << R"(id in body must be of type uuid: "x")" << QByteArray();
    QTest::newRow("not an object") << QByteArray("[1]") << R"(body in body must be of type object: "array")"
                                   << QByteArray();
}

void TestWire::cloudEvent()
{
    QFETCH(QByteArray, event);
    QFETCH(QString, problem);
    QFETCH(QByteArray, echo);

    const Json j = parse(event);
    QCOMPARE(QString::fromStdString(cloudEventProblem(j)), problem);
    const auto parsed = parseCloudEvent(j);
    const auto viaBody = parseEventBody(event.toStdString(), false);
    if (problem.isEmpty()) {
        QVERIFY(parsed);
        COMPARE_JSON(Json(*parsed), parse(echo));
        QVERIFY(viaBody);
        QCOMPARE(viaBody->size(), std::size_t(1));
        COMPARE_JSON(Json(viaBody->front()), parse(echo));
        return;
    }
    QVERIFY(!parsed);
    QCOMPARE(parsed.error().httpStatus, 400);
    QCOMPARE(parsed.error().code, int64_t(400));
    QCOMPARE(QString::fromStdString(parsed.error().message), "Error validating event: " + problem);
    QVERIFY(!viaBody);
    QCOMPARE(viaBody.error(), parsed.error());
}

void TestWire::cloudEvent10_data()
{
    QTest::addColumn<QByteArray>("event");
    QTest::addColumn<QString>("problem");
    QTest::addColumn<QByteArray>("normalized"); // the parsed event, 0.1 shape

    QTest::newRow("spec example")
        << QByteArray(
               R"({"specversion":"1.0","type":"com.example.someevent","source":"/mycontext","subject":"larger-context",
            "id":"A234-1234-1234","time":"2018-04-05T17:31:00Z","comexampleextension1":"value",
            "datacontenttype":"application/json","dataschema":"https://example.com/schema.json","data":{"appinfoA":"abc"}})")
        << QString()
        << QByteArray(
               R"({"cloudEventsVersion":"0.1","contentType":"application/json","data":{"appinfoA":"abc"},
            "eventID":"A234-1234-1234","eventTime":"2018-04-05T17:31:00.000Z","eventType":"com.example.someevent",
            "extensions":{"comexampleextension1":"value","subject":"larger-context"},
            "schemaURL":"https://example.com/schema.json","source":"/mycontext"})");
    QTest::newRow("minimal, no data")
        << QByteArray(R"({"specversion":"1.0","type":"ticker.tick","source":"ticker","id":"1"})") << QString()
        << QByteArray(
               R"({"cloudEventsVersion":"0.1","eventID":"1","eventType":"ticker.tick","source":"ticker"})");
    QTest::newRow("data_base64")
        << QByteArray(R"({"specversion":"1.0","type":"t","source":"s","id":"1","datacontenttype":"image/png",
            "data_base64":"iVBORw0KGgo="})")
        << QString()
        << QByteArray(
               R"({"cloudEventsVersion":"0.1","contentType":"image/png","data":"iVBORw0KGgo=","eventID":"1",
            "eventType":"t","source":"s"})");
    QTest::newRow("explicit null data kept")
        << QByteArray(R"({"specversion":"1.0","type":"t","source":"s","id":"1","data":null})") << QString()
        << QByteArray(
               R"({"cloudEventsVersion":"0.1","data":null,"eventID":"1","eventType":"t","source":"s"})");
    QTest::newRow("emission tags kept")
        << QByteArray(
               R"({"specversion":"1.0","type":"t","source":"s","id":"1","tags":[{"key":"k","value":"v"}]})")
        << QString() << QByteArray(R"({"cloudEventsVersion":"0.1","eventID":"1","eventType":"t","source":"s",
            "tags":[{"key":"k","value":"v"}]})");
    QTest::newRow("specversion 0.3") << QByteArray(
                                            R"({"specversion":"0.3","type":"t","source":"s","id":"1"})")
                                     << "specversion in body should be one of [1.0]" << QByteArray();
    QTest::newRow("specversion number")
        << QByteArray(R"({"specversion":1.0,"type":"t","source":"s","id":"1"})")
        << R"(specversion in body must be of type string: "number")" << QByteArray();
    QTest::newRow("id missing") << QByteArray(R"({"specversion":"1.0","type":"t","source":"s"})")
                                << "id in body is required" << QByteArray();
    QTest::newRow("id wrong type") << QByteArray(R"({"specversion":"1.0","type":"t","source":"s","id":7})")
                                   << R"(id in body must be of type string: "number")" << QByteArray();
    QTest::newRow("type missing") << QByteArray(R"({"specversion":"1.0","source":"s","id":"1"})")
                                  << "type in body is required" << QByteArray();
    QTest::newRow("type pattern") << QByteArray(
                                         R"({"specversion":"1.0","type":"com/x","source":"s","id":"1"})")
                                  << R"(type in body should match '^[\w\d\-\.]+$')" << QByteArray();
    QTest::newRow("source missing") << QByteArray(R"({"specversion":"1.0","type":"t","id":"1"})")
                                    << "source in body is required" << QByteArray();
    QTest::newRow("time invalid")
        << QByteArray(R"({"specversion":"1.0","type":"t","source":"s","id":"1","time":"x"})")
        << R"(time in body must be of type date-time: "x")" << QByteArray();
    QTest::newRow("dataschema invalid")
        << QByteArray(R"({"specversion":"1.0","type":"t","source":"s","id":"1","dataschema":"a b"})")
        << R"(dataschema in body must be of type uri: "a b")" << QByteArray();
    QTest::newRow("data and data_base64")
        << QByteArray(
               R"({"specversion":"1.0","type":"t","source":"s","id":"1","data":1,"data_base64":"AA=="})")
        << "data and data_base64 must not both be set" << QByteArray();
}

void TestWire::cloudEvent10()
{
    QFETCH(QByteArray, event);
    QFETCH(QString, problem);
    QFETCH(QByteArray, normalized);

    const Json j = parse(event);
    const auto parsed = parseCloudEvent(j);
    if (problem.isEmpty()) {
        QVERIFY2(parsed, parsed ? "" : parsed.error().message.c_str());
        COMPARE_JSON(Json(*parsed), parse(normalized));
        // The plain conversion is a 0.1 event that passes the 0.1 checks.
        const auto converted = normalizeCloudEvent(j);
        QVERIFY(converted);
        QCOMPARE(cloudEventProblem(*converted), std::string());
        return;
    }
    QVERIFY(!parsed);
    QCOMPARE(parsed.error().httpStatus, 400);
    QCOMPARE(QString::fromStdString(parsed.error().message), "Error validating event: " + problem);
}

void TestWire::eventBody()
{
    // /ingest accepts an array (driverclient Send), emit only one object.
    const std::string two = R"([{"cloudEventsVersion":"0.1","eventType":"a","source":"s","eventID":"1"},
        {"specversion":"1.0","type":"b","source":"s","id":"2"}])";
    auto many = parseEventBody(two, true);
    QVERIFY(many);
    QCOMPARE(many->size(), std::size_t(2));
    QCOMPARE(many->at(0).eventType, std::string("a"));
    QCOMPARE(many->at(1).eventType, std::string("b"));
    QCOMPARE(many->at(1).cloudEventsVersion, std::string("0.1"));

    auto single = parseEventBody(two, false);
    QVERIFY(!single);
    QCOMPARE(single.error().message,
             std::string(R"(Error validating event: body in body must be of type object: "array")"));

    auto bad = parseEventBody(R"([{"cloudEventsVersion":"0.1","eventType":"a","source":"s","eventID":"1"},
        {"cloudEventsVersion":"0.1","eventType":"a","eventID":"1"}])",
                              true);
    QVERIFY(!bad);
    QCOMPARE(bad.error().httpStatus, 400);
    QCOMPARE(bad.error().message, std::string("Error validating event: event 1: source in body is required"));

    auto empty = parseEventBody("[]", true);
    QVERIFY(empty);
    QVERIFY(empty->empty());

    auto none = parseEventBody("", true);
    QVERIFY(!none);
    QCOMPARE(none.error().httpStatus, 422);
    QCOMPARE(none.error().code, int64_t(602));

    auto notJson = parseEventBody("{", false);
    QVERIFY(!notJson);
    QCOMPARE(notJson.error().httpStatus, 400);
    QVERIFY(notJson.error().message.starts_with("request body is not valid JSON: "));
}

void TestWire::eventContext()
{
    auto e = parseCloudEvent(parse(kEmissionExample));
    QVERIFY(e);
    e->tags = {{"k", "v"}};
    const Json ctx = dispatch::wire::eventContext(*e);
    COMPARE_JSON(ctx, parse(R"({"cloudEventsVersion":"0.1","contentType":"application/json",
        "eventID":"b4620ea5-8e9d-42d5-a566-6ad2f7873d63","eventTime":"2018-11-26T16:35:50.000Z",
        "eventType":"test.event.123","source":"dispatch"})"));
}

void TestWire::dateTime_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("output"); // "" = invalid

    QTest::newRow("Z, no fraction") << "2018-11-26T16:35:50Z"
                                    << "2018-11-26T16:35:50.000Z";
    QTest::newRow("millis") << "2018-11-26T16:35:50.000Z"
                            << "2018-11-26T16:35:50.000Z";
    QTest::newRow("nanos truncated") << "2018-11-26T16:35:50.123987654+02:00"
                                     << "2018-11-26T16:35:50.123+02:00";
    QTest::newRow("one digit, lower case") << "2018-11-26t16:35:50.1z"
                                           << "2018-11-26T16:35:50.100Z";
    QTest::newRow("no zone = UTC") << "2018-11-26T16:35:50"
                                   << "2018-11-26T16:35:50.000Z";
    QTest::newRow("+00:00 = Z") << "2018-11-26T16:35:50+00:00"
                                << "2018-11-26T16:35:50.000Z";
    QTest::newRow("offset without colon") << "2018-11-26T16:35:50-0530"
                                          << "2018-11-26T16:35:50.000-05:30";
    QTest::newRow("space separator") << "2018-11-26 16:35:50Z"
                                     << "2018-11-26T16:35:50.000Z";
    QTest::newRow("leap day") << "2016-02-29T00:00:00Z"
                              << "2016-02-29T00:00:00.000Z";
    QTest::newRow("2000 leap day") << "2000-02-29T00:00:00Z"
                                   << "2000-02-29T00:00:00.000Z";
    QTest::newRow("1900 not leap") << "1900-02-29T00:00:00Z"
                                   << "";
    QTest::newRow("Feb 30") << "2018-02-30T00:00:00Z"
                            << "";
    QTest::newRow("date only") << "2018-11-26"
                               << "";
    QTest::newRow("hour 24") << "2018-11-26T24:00:00Z"
                             << "";
    QTest::newRow("second 60") << "2018-11-26T23:59:60Z"
                               << "";
    QTest::newRow("month 13") << "2018-13-01T00:00:00Z"
                              << "";
    QTest::newRow("empty fraction") << "2018-11-26T16:35:50.Z"
                                    << "";
    QTest::newRow("trailing junk") << "2018-11-26T16:35:50Zjunk"
                                   << "";
    QTest::newRow("bad offset") << "2018-11-26T16:35:50+2:00"
                                << "";
    QTest::newRow("empty") << ""
                           << "";
}

void TestWire::dateTime()
{
    QFETCH(QString, input);
    QFETCH(QString, output);
    const std::string in = input.toStdString();
    QCOMPARE(QString::fromStdString(normalizeDateTime(in)), output);
    QCOMPARE(isRfc3339DateTime(in), !output.isEmpty());
}

void TestWire::dumpInvalidUtf8()
{
    Run r;
    r.logs = Logs{{std::string("bad \xff byte")}, {}};
    std::string text;
    try {
        text = dumpJson(Json(r));
    } catch (...) {
        QFAIL("dumpJson threw on invalid UTF-8");
    }
    QVERIFY(text.find("bad \xef\xbf\xbd byte") != std::string::npos);
}

QTEST_GUILESS_MAIN(TestWire)
#include "tst_wire.moc"
