// The API gateway against the real dispatch-server: /v1/api (Dispatch's status machine, URI prefixing, errors,
// org scoping, restart), and the gateway listener with every rule of the Dispatch e2e suite (apis.bats, §8.4 of
// the reference): transforms, query/form/multipart/JSON/raw inputs, blocking, the ignored org header, CORS,
// updates, protocols, plus what this server adds (502 on a failed run, 413, 503 for a function that cannot run,
// org isolation, host-bound APIs, keep-alive). Every call must show up as a run with its httpContext.
// Waits are bounded polls, never sleeps.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QElapsedTimer>
#include <QFile>
#include <QHostAddress>
#include <QTcpSocket>
#include <QTest>

#include "gateway/requestinput.h"
#include "gateway/routetable.h"
#include "support/testserver.h"

using namespace dispatch::test;

// QCOMPARE would try nlohmann's implicit conversions; compare documents and print both on failure.
#define QCOMPARE_JSON(actual, expected)                                                                        \
    do {                                                                                                       \
        const Json actual_ = (actual);                                                                         \
        const Json expected_ = (expected);                                                                     \
        QVERIFY2(actual_ == expected_, qPrintable(QString::fromStdString(actual_.dump() + " != " +             \
                                                                         expected_.dump())));                  \
    } while (false)

namespace {

constexpr qint64 kGatewayMaxBody = 65536; // given to the server, so the 413 test needs no huge body

struct RawResponse
{
    int status = 0;
    QMap<QByteArray, QByteArray> headers; // lower-case names
    QByteArray body;
    Json json() const { return Json::parse(body.toStdString(), nullptr, false); }
};

// One HTTP/1.1 request as bytes, so tests control every header (QNetworkAccessManager adds a Content-Type to
// bodies and picks Host itself).
QByteArray rawRequest(const QByteArray &method, const QByteArray &target, const QByteArray &body = {},
                      const QList<QPair<QByteArray, QByteArray>> &headers = {},
                      const QByteArray &host = "127.0.0.1")
{
    QByteArray out = method + ' ' + target + " HTTP/1.1\r\nHost: " + host + "\r\n";
    for (const auto &[name, value] : headers)
        out += name + ": " + value + "\r\n";
    if (!body.isEmpty())
        out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    out += "\r\n" + body;
    return out;
}

// Writes `bytes` on one connection and reads `count` responses (Content-Length framed), waiting at most 60 s.
QList<RawResponse> rawExchange(quint16 port, const QByteArray &bytes, int count = 1)
{
    QList<RawResponse> out;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(10000))
        return out;
    socket.write(bytes);
    QByteArray buffer;
    QElapsedTimer timer;
    timer.start();
    while (out.size() < count && timer.elapsed() < 60000) {
        for (;;) {
            const qsizetype end = buffer.indexOf("\r\n\r\n");
            if (end < 0)
                break;
            RawResponse r;
            const QList<QByteArray> lines = buffer.left(end).split('\n');
            r.status = lines.value(0).split(' ').value(1).toInt();
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const qsizetype colon = lines[i].indexOf(':');
                if (colon > 0)
                    r.headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
            }
            const qsizetype length = r.headers.value("content-length", "0").toLongLong();
            if (buffer.size() < end + 4 + length)
                break;
            r.body = buffer.mid(end + 4, length);
            buffer.remove(0, end + 4 + length);
            out.append(r);
        }
        if (out.size() >= count)
            break;
        if (socket.state() != QAbstractSocket::ConnectedState && socket.bytesAvailable() == 0)
            break;
        socket.waitForReadyRead(500);
        buffer += socket.readAll();
    }
    return out;
}

RawResponse rawCall(quint16 port, const QByteArray &request)
{
    const auto all = rawExchange(port, request, 1);
    return all.isEmpty() ? RawResponse{} : all.first();
}

std::string myField(const Json &j)
{
    return j.is_object() && j.contains("myField") && j["myField"].is_string() ? j["myField"].get<std::string>()
                                                                               : "<" + j.dump() + ">";
}

} // namespace

class TestGateway : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestServer> server;
    std::unique_ptr<DispatchClient> api;

    QString gw(const QString &path) const { return server->gatewayBase() + path; }

    // POST /v1/api, checks the immediate answer and waits for READY; returns the READY document.
    Json createApi(const Json &body, DispatchClient *client = nullptr)
    {
        DispatchClient &c = client ? *client : *api;
        auto r = c.post(QStringLiteral("/v1/api"), body);
        if (r.status != 200) {
            qWarning() << "create api" << r.status << r.body;
            return r.json();
        }
        return c.waitForStatus(QStringLiteral("/v1/api/") + QString::fromStdString(body["name"].get<std::string>()),
                               {QStringLiteral("READY")}, std::chrono::seconds(30));
    }

    // Polls GET /v1/runs?functionName= until a run satisfies `pred` (bounded).
    Json waitForRun(const QString &function, const std::function<bool(const Json &)> &pred)
    {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 30000) {
            auto runs = api->get(QStringLiteral("/v1/runs?functionName=") + function).json();
            if (runs.is_array())
                for (const auto &r : runs)
                    if (pred(r))
                        return r;
            QTest::qWait(20);
        }
        return Json();
    }

private slots:
    void initTestCase()
    {
        server = std::make_unique<TestServer>(
            QStringList{QStringLiteral("--gateway-max-body"), QString::number(kGatewayMaxBody)});
        QString error;
        QVERIFY2(server->start(&error), qPrintable(error));
        api = std::make_unique<DispatchClient>(server->apiBase());

        // The two runtimes the e2e gateway suite uses, without dependencies (no network needed).
        for (const char *lang : {"python3", "nodejs"}) {
            const std::string base = std::string(lang) + "-base";
            auto r = api->post(QStringLiteral("/v1/baseimage"),
                               {{"name", base}, {"dockerUrl", "dispatchframework/" + base + ":0.0.13"}, {"language", lang}});
            QCOMPARE(r.status, 201);
            r = api->post(QStringLiteral("/v1/image"), {{"name", lang}, {"baseImageName", base}});
            QCOMPARE(r.status, 201);
        }
        for (const char *lang : {"python3", "nodejs"}) {
            auto img = api->waitForStatus(QStringLiteral("/v1/image/") + lang, {}, std::chrono::minutes(3));
            QVERIFY2(img.value("status", "") == "READY", img.dump().c_str());
        }
        struct Fn
        {
            const char *name, *image, *fixture, *handler;
        };
        const Fn functions[] = {
            {"hello-world", "python3", "python3/hello.py", "hello.handle"},
            {"func-nodejs", "nodejs", "nodejs/hello.js", "./hello.js"},
            {"node-echo-back", "nodejs", "nodejs/debug.js", "./debug.js"},
            {"py-echo", "python3", "python3/echo.py", "echo.handle"},
            {"node-fail", "nodejs", "nodejs/fail.js", "./fail.js"},
        };
        for (const auto &f : functions) {
            auto j = api->createFunction(QString::fromLatin1(f.name), QString::fromLatin1(f.image),
                                         QString::fromLatin1(f.fixture), QString::fromLatin1(f.handler));
            QVERIFY2(j.value("status", "") == "READY", j.dump().c_str());
        }
    }

    void cleanupTestCase()
    {
        if (server) {
            QFile log(testOutputDir(QStringLiteral("server")) + QStringLiteral("/tst_gateway.log"));
            if (log.open(QIODevice::WriteOnly))
                log.write(server->output());
            QVERIFY(server->stop());
        }
    }

    // ---- in-process checks of the pieces the hot path is made of ----

    void base64Vectors()
    {
        using dispatch::gateway::base64Encode;
        // RFC 4648, section 10
        QCOMPARE(base64Encode(""), std::string(""));
        QCOMPARE(base64Encode("f"), std::string("Zg=="));
        QCOMPARE(base64Encode("fo"), std::string("Zm8="));
        QCOMPARE(base64Encode("foo"), std::string("Zm9v"));
        QCOMPARE(base64Encode("foob"), std::string("Zm9vYg=="));
        QCOMPARE(base64Encode("fooba"), std::string("Zm9vYmE="));
        QCOMPARE(base64Encode("foobar"), std::string("Zm9vYmFy"));
        const std::string all = [] {
            std::string s;
            for (int i = 0; i < 256; ++i)
                s.push_back(static_cast<char>(i));
            return s;
        }();
        QCOMPARE(QByteArray::fromStdString(base64Encode(all)), QByteArray::fromStdString(all).toBase64());
    }

    void requestInputRules()
    {
        using dispatch::gateway::requestInput;
        auto input = [](std::string_view method, std::string_view query, std::optional<std::string_view> type,
                        std::string_view body) { return requestInput({method, query, type, body}); };
        QCOMPARE_JSON(*input("GET", "a=1", "application/json", "{\"ignored\":1}"), Json({{"a", "1"}}));
        QCOMPARE_JSON(*input("POST", "", "Application/JSON", "{\"k\":1}"), Json({{"k", 1}}));
        QCOMPARE_JSON(*input("POST", "", "application/problem+json", "null"), Json());
        QCOMPARE(input("POST", "", "application/+json", "{}").error().message,
                 std::string("request body type is not supported: application/+json"));
        QCOMPARE_JSON(*input("DELETE", "", std::nullopt, ""), Json::object());
        QCOMPARE_JSON(*input("POST", "", "", "abc"), Json("YWJj")); // an empty Content-Type is no Content-Type
        // Deeply nested JSON is refused as "not json" rather than recursed into.
        const std::string deep = std::string(100000, '[') + std::string(100000, ']');
        auto d = input("POST", "", "application/json", deep);
        QVERIFY(!d.ok());
        QCOMPARE(d.error().status, 400);
        QCOMPARE(d.error().message, std::string("request body is not json"));
    }

    void multipartNeverCrashes()
    {
        using dispatch::gateway::parseMultipart;
        const std::string body = "preamble\r\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
                                 "--b\r\nContent-Type: text/plain\r\n\r\nno name: skipped\r\n"
                                 "--b\r\n\r\nno headers at all\r\n"
                                 "--b\r\ncontent-disposition: form-data; filename=\"x;y.txt\"; name=\"f\"\r\n\r\nhi\r\n"
                                 "--b--\r\nepilogue";
        auto ok = parseMultipart(body, "b");
        QVERIFY(ok.ok());
        QCOMPARE_JSON(*ok, Json({{"a", "1"}, {"f", "aGk="}}));
        // Every truncation and a few thousand random bodies: an answer, never a crash or a hang.
        for (std::size_t n = 0; n < body.size(); ++n) {
            auto r = parseMultipart(std::string_view(body).substr(0, n), "b");
            QVERIFY(r.ok() || r.error().status == 400);
        }
        std::srand(42);
        const char alphabet[] = "-b\r\n:;=\"a";
        for (int i = 0; i < 3000; ++i) {
            std::string random;
            const int len = std::rand() % 80;
            for (int k = 0; k < len; ++k)
                random.push_back(alphabet[std::rand() % (sizeof alphabet - 1)]);
            auto r = parseMultipart(random, "b");
            QVERIFY(r.ok() || r.error().status == 400);
        }
    }

    void routePrecedence()
    {
        using dispatch::gateway::RouteTable;
        dispatch::wire::Api orgApi, hostApi, anyPath, httpsOnly, httpOnly;
        orgApi.name = "org-api";
        orgApi.function = "f-org";
        orgApi.uris = {"/a/x"};
        orgApi.methods = {"GET"};
        hostApi.name = "host-api";
        hostApi.function = "f-host";
        hostApi.uris = {"/a/x"};
        hostApi.hosts = {"Example.test:8081"};
        anyPath.name = "any";
        anyPath.function = "f-any";
        httpsOnly.name = "s";
        httpsOnly.function = "f-s";
        httpsOnly.uris = {"/a/p"};
        httpsOnly.protocols = {"https"};
        httpOnly.name = "t";
        httpOnly.function = "f-t";
        httpOnly.uris = {"/a/p"};
        httpOnly.protocols = {"HTTP"};
        RouteTable t;
        t.add("b", hostApi); // added first: precedence must not depend on the order
        t.add("a", orgApi);
        t.add("a", anyPath);
        t.add("a", httpsOnly);
        t.add("a", httpOnly);
        t.finish();
        QVERIFY(t.hasHostRoutes());
        auto fn = [&](std::string_view path, std::string_view method, std::string_view host, bool tls = false) {
            auto r = t.find(path, method, host, tls);
            return r ? r->function : std::string("-");
        };
        QCOMPARE(fn("/a/x", "GET", "example.test"), std::string("f-org"));   // the org's own API first
        QCOMPARE(fn("/a/x", "POST", "example.test"), std::string("f-host")); // then the host-bound one
        QCOMPARE(fn("/a/x", "POST", "other.test"), std::string("f-any"));   // then the org's catch-all
        QCOMPARE(fn("/a/x", "OPTIONS", "other.test"), std::string("f-org")); // OPTIONS always matches
        QCOMPARE(fn("/a", "GET", ""), std::string("f-any"));
        QCOMPARE(fn("/a/deep/path", "PATCH", ""), std::string("f-any"));
        QCOMPARE(fn("/ab/x", "GET", ""), std::string("-")); // a catch-all never leaves its org
        QCOMPARE(fn("/b/x", "GET", ""), std::string("-"));
        // The API whose protocol fits wins; with none fitting, the mismatch is reported.
        QCOMPARE(fn("/a/p", "GET", "", false), std::string("f-t"));
        QCOMPARE(fn("/a/p", "GET", "", true), std::string("f-s"));
        RouteTable onlyHttps;
        onlyHttps.add("a", httpsOnly);
        onlyHttps.finish();
        auto r = onlyHttps.find("/a/p", "GET", "", false);
        QVERIFY(r && !r->allows(false));
        QCOMPARE(r->requiredProtocol(), std::string("HTTPS"));
    }

    // ---- the real server ----

    // The Dispatch walkthrough: create an API for hello-world and call it through the gateway.
    void seedWalkthrough()
    {
        const Json body = {{"name", "api-hello"},          {"function", "hello-world"},
                           {"methods", {"POST"}},          {"uris", {"/hello"}},
                           {"enabled", true},              {"protocols", {"http", "https"}},
                           {"authentication", "public"}};
        auto r = api->post(QStringLiteral("/v1/api"), body);
        QCOMPARE(r.status, 200); // Dispatch answers 200, not 201
        auto created = r.json();
        QCOMPARE(created.value("status", ""), std::string("CREATING")); // READY comes asynchronously
        QCOMPARE(created.value("kind", ""), std::string("API"));
        QCOMPARE_JSON(created["uris"], Json({"/dispatch/hello"}));
        QVERIFY(!created.value("id", "").empty());

        auto ready = api->waitForStatus(QStringLiteral("/v1/api/api-hello"), {QStringLiteral("READY")},
                                        std::chrono::seconds(30));
        QCOMPARE(ready.value("status", ""), std::string("READY"));
        QCOMPARE(ready.value("id", ""), created.value("id", ""));

        auto call = httpRequest("POST", gw(QStringLiteral("/dispatch/hello")), "{\"name\":\"Motonori\",\"place\":\"Tokyo\"}",
                                {{"Content-Type", "application/json"}});
        QCOMPARE(call.status, 200);
        QCOMPARE(call.headers.value("content-type"), QByteArray("application/json"));
        QCOMPARE_JSON(call.json(), Json({{"myField", "Hello, Motonori from Tokyo"}}));
    }

    void crudContract()
    {
        // Methods are upper-cased; the URI gets the org prefix; hosts/tags come back null as in Dispatch.
        auto r = api->post(QStringLiteral("/v1/api"),
                           {{"name", "api-crud"}, {"function", "hello-world"}, {"methods", {"get", "Post"}},
                            {"uris", {"crud"}}, {"enabled", true}});
        QCOMPARE(r.status, 200);
        QCOMPARE_JSON(r.json()["methods"], Json({"GET", "POST"}));
        QCOMPARE_JSON(r.json()["uris"], Json({"/dispatch/crud"}));
        QVERIFY(r.json()["hosts"].is_null());

        auto dup = api->post(QStringLiteral("/v1/api"), {{"name", "api-crud"}, {"function", "hello-world"}});
        QCOMPARE(dup.status, 409);
        QCOMPARE_JSON(dup.json(), Json({{"code", 409}, {"message", "api api-crud already exists"}}));

        auto missing = api->get(QStringLiteral("/v1/api/nope"));
        QCOMPARE(missing.status, 404);
        QCOMPARE_JSON(missing.json(), Json({{"code", 404}, {"message", "api nope not found"}}));
        QCOMPARE(api->put(QStringLiteral("/v1/api/nope"), {{"name", "nope"}, {"function", "x"}}).status, 404);
        QCOMPARE(api->del(QStringLiteral("/v1/api/nope")).json().value("message", ""), std::string("api nope not found"));

        // go-swagger validation
        auto noFunction = api->post(QStringLiteral("/v1/api"), {{"name", "x"}});
        QCOMPARE(noFunction.status, 422);
        QCOMPARE(noFunction.json().value("code", 0), 602);
        auto badName = api->post(QStringLiteral("/v1/api"), {{"name", "bad name"}, {"function", "f"}});
        QCOMPARE(badName.status, 422);
        QCOMPARE(badName.json().value("code", 0), 605);
        auto notJson = api->raw("POST", QStringLiteral("/v1/api"), "{nope", {{"Content-Type", "application/json"}});
        QCOMPARE(notJson.status, 400);
        QCOMPARE(api->raw("PATCH", QStringLiteral("/v1/api/api-crud"), {}).status, 405);
        // The Dispatch header rules apply here as everywhere.
        auto noOrg = httpRequest("GET", server->apiBase() + QStringLiteral("/v1/api"), {}, {{"Cookie", "c"}});
        QCOMPARE(noOrg.status, 422);

        auto ready = api->waitForStatus(QStringLiteral("/v1/api/api-crud"), {QStringLiteral("READY")},
                                        std::chrono::seconds(30));
        QCOMPARE(ready.value("status", ""), std::string("READY"));
        auto list = api->get(QStringLiteral("/v1/api")).json();
        QVERIFY(list.is_array());
        bool found = false;
        for (const auto &a : list)
            found = found || a.value("name", "") == "api-crud";
        QVERIFY(found);
        // ?function= filters (Solo ignores it; a plain client never sends it by accident).
        auto filtered = api->get(QStringLiteral("/v1/api?function=node-echo-back")).json();
        QVERIFY(filtered.is_array());
        for (const auto &a : filtered)
            QCOMPARE(a.value("function", ""), std::string("node-echo-back"));

        // Both methods route, others do not.
        QCOMPARE_JSON(httpRequest("GET", gw(QStringLiteral("/dispatch/crud?name=A"))).json(),
                 Json({{"myField", "Hello, A from Nowhere"}}));
        QCOMPARE(httpRequest("PUT", gw(QStringLiteral("/dispatch/crud")), "{}", {{"Content-Type", "application/json"}})
                     .status,
                 404);

        auto del = api->del(QStringLiteral("/v1/api/api-crud"));
        QCOMPARE(del.status, 200);
        QCOMPARE(del.json().value("status", ""), std::string("DELETING"));
        QCOMPARE(api->get(QStringLiteral("/v1/api/api-crud")).status, 404); // gone once the answer is out
        auto after = httpRequest("GET", gw(QStringLiteral("/dispatch/crud")));
        QCOMPARE(after.status, 404);
        QCOMPARE_JSON(after.json(), Json({{"message", "no API found with those values"}}));
    }

    // apis.bats 1 (the HTTP half; HTTPS is covered by the TLS suite).
    void httpProtocol()
    {
        auto a = createApi({{"name", "api-test-http"}, {"function", "func-nodejs"}, {"methods", {"POST"}},
                            {"uris", {"/http"}}, {"authentication", "public"}, {"enabled", true},
                            {"protocols", {"http", "https"}}});
        QCOMPARE(a.value("status", ""), std::string("READY"));
        auto r = httpRequest("POST", gw(QStringLiteral("/dispatch/http")), "{\"name\":\"VMware\",\"place\":\"HTTP\"}",
                             {{"Content-Type", "application/json"}});
        QCOMPARE(myField(r.json()), std::string("Hello, VMware from HTTP"));
    }

    // apis.bats 2: an https-only API called over plain HTTP gets one 400 document (Solo wrote a second one).
    void httpsOnlyOverHttp()
    {
        createApi({{"name", "api-test-https-only"}, {"function", "func-nodejs"}, {"methods", {"POST"}},
                   {"uris", {"/https-only"}}, {"enabled", true}, {"protocols", {"https"}}});
        auto r = rawCall(server->gatewayPort(),
                         rawRequest("POST", "/dispatch/https-only", "{\"name\":\"VMware\"}",
                                    {{"Content-Type", "application/json"}}));
        QCOMPARE(r.status, 400);
        QCOMPARE(r.body, QByteArray("{\"message\":\"Please use HTTPS protocol\"}"));
        // An http-only API over HTTP is fine.
        createApi({{"name", "api-http-only"}, {"function", "func-nodejs"}, {"methods", {"POST"}},
                   {"uris", {"/http-only"}}, {"enabled", true}, {"protocols", {"http"}}});
        auto ok = httpRequest("POST", gw(QStringLiteral("/dispatch/http-only")), "{}", {{"Content-Type", "application/json"}});
        QCOMPARE(myField(ok.json()), std::string("Hello, Noone from Nowhere"));
    }

    // apis.bats 3: the gateway transforms.
    void transforms()
    {
        createApi({{"name", "api-test"}, {"function", "func-nodejs"}, {"methods", {"GET", "DELETE", "POST", "PUT"}},
                   {"uris", {"/transforms"}}, {"enabled", true}, {"protocols", {"http", "https"}}});
        createApi({{"name", "api-echo"}, {"function", "node-echo-back"}, {"methods", {"GET", "DELETE", "POST", "PUT"}},
                   {"uris", {"/echo"}}, {"enabled", true}, {"protocols", {"http", "https"}}});
        const QString url = gw(QStringLiteral("/dispatch/transforms"));
        const QMap<QByteArray, QByteArray> json = {{"Content-Type", "application/json"}};

        auto put = httpRequest("PUT", url, "{\"name\":\"VMware\",\"place\":\"Palo Alto\"}", json);
        QCOMPARE(put.status, 200);
        QCOMPARE(myField(put.json()), std::string("Hello, VMware from Palo Alto"));

        auto async = httpRequest("PUT", url, "{\"name\":\"Async\",\"place\":\"Later\"}",
                                 {{"Content-Type", "application/json"}, {"x-dispatch-blocking", "false"}});
        QCOMPARE(async.status, 200);
        QVERIFY(async.body.isEmpty());
        // ... but it ran, as a non-blocking run.
        auto asyncRun = waitForRun(QStringLiteral("func-nodejs"), [](const Json &r) {
            return r.value("input", Json()).value("name", "") == "Async" && r.value("status", "") == "READY";
        });
        QVERIFY2(asyncRun.is_object(), "the async gateway run never finished");
        QVERIFY(!asyncRun.value("blocking", false)); // omitempty: a non-blocking run leaves it out
        QCOMPARE(myField(asyncRun["output"]), std::string("Hello, Async from Later"));

        auto otherOrg = httpRequest("PUT", url, "{\"name\":\"VMware\",\"place\":\"Palo Alto\"}",
                                    {{"Content-Type", "application/json"}, {"x-dispatch-org", "invalid"}});
        QCOMPARE(myField(otherOrg.json()), std::string("Hello, VMware from Palo Alto"));

        // No body and no Content-Type (curl -X PUT).
        auto empty = rawCall(server->gatewayPort(), rawRequest("PUT", "/dispatch/transforms"));
        QCOMPARE(empty.status, 200);
        QCOMPARE(myField(empty.json()), std::string("Hello, Noone from Nowhere"));

        auto notJson = httpRequest("POST", url, "not a json payload", json);
        QCOMPARE(notJson.status, 400);
        QCOMPARE_JSON(notJson.json(), Json({{"message", "request body is not json"}}));

        auto form = httpRequest("POST", url, "name=VMware&place=Palo Alto",
                                {{"Content-Type", "application/x-www-form-urlencoded"}});
        QCOMPARE(myField(form.json()), std::string("Hello, VMware from Palo Alto"));
        auto formEncoded = httpRequest("POST", url, "name=VM%20ware&place=Palo+Alto",
                                       {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}});
        QCOMPARE(myField(formEncoded.json()), std::string("Hello, VM ware from Palo Alto"));

        auto unsupported = httpRequest("POST", url, "xyz", {{"Content-Type", "unsupported-content-type"}});
        QCOMPARE(unsupported.status, 400);
        QCOMPARE_JSON(unsupported.json(), Json({{"message", "request body type is not supported: unsupported-content-type"}}));

        QCOMPARE(myField(httpRequest("GET", url + QStringLiteral("?name=vmware&place=PaloAlto")).json()),
                 std::string("Hello, vmware from PaloAlto"));
        QCOMPARE(myField(httpRequest("GET", url).json()), std::string("Hello, Noone from Nowhere"));

        auto echo = httpRequest("PUT", gw(QStringLiteral("/dispatch/echo")));
        QCOMPARE(echo.status, 200);
        const Json ctx = echo.json()["context"]["httpContext"];
        QCOMPARE(ctx.value("method", ""), std::string("PUT"));
        QCOMPARE_JSON(ctx, Json({{"args", ""},
                            {"method", "PUT"},
                            {"request", "/dispatch/echo"},
                            {"request_uri", "/dispatch/echo"},
                            {"scheme", "http"},
                            {"server_protocol", "HTTP/1.1"},
                            {"upstream_uri", "node-echo-back"},
                            {"uri", "/dispatch/echo"}}));
        QCOMPARE_JSON(echo.json()["params"], Json::object());
    }

    // The input mapping rules one by one, seen from a function that echoes its payload.
    void inputMapping()
    {
        createApi({{"name", "api-py-echo"}, {"function", "py-echo"}, {"uris", {"/py-echo"}}, {"enabled", true}});
        const QString url = gw(QStringLiteral("/dispatch/py-echo"));
        auto payload = [](const auto &r) { return r.json()["payload"]; };

        // GET: the query as an object, repeated keys as arrays, values always strings.
        auto get = httpRequest("GET", url + QStringLiteral("?a=1&b=x%20y&a=2&flag"));
        QCOMPARE_JSON(payload(get), Json({{"a", {"1", "2"}}, {"b", "x y"}, {"flag", ""}}));
        QCOMPARE(get.json()["context"]["httpContext"].value("args", ""), std::string("a=1&b=x%20y&a=2&flag"));
        QCOMPARE(get.json()["context"]["httpContext"].value("uri", ""), std::string("/dispatch/py-echo?a=1&b=x%20y&a=2&flag"));

        // JSON of any shape, including application/*+json.
        QCOMPARE_JSON(payload(httpRequest("POST", url, "[1,2,3]", {{"Content-Type", "application/json"}})), Json({1, 2, 3}));
        QCOMPARE_JSON(payload(httpRequest("POST", url, "{\"k\":\"v\"}", {{"Content-Type", "application/vnd.api+json"}})),
                 Json({{"k", "v"}}));
        QCOMPARE_JSON(payload(httpRequest("POST", url, "\"text\"", {{"Content-Type", "application/json; charset=utf-8"}})),
                 Json("text"));

        // An empty body is {} whatever its type.
        auto emptyJson = rawCall(server->gatewayPort(),
                                 rawRequest("POST", "/dispatch/py-echo", {}, {{"Content-Type", "application/json"}}));
        QCOMPARE(emptyJson.status, 200);
        QCOMPARE_JSON(emptyJson.json()["payload"], Json::object());

        // No Content-Type: the raw bytes as base64.
        const QByteArray bytes("\x00\x01" "binary" "\xff", 9);
        auto raw = rawCall(server->gatewayPort(), rawRequest("POST", "/dispatch/py-echo", bytes));
        QCOMPARE(raw.status, 200);
        QCOMPARE_JSON(raw.json()["payload"], Json(bytes.toBase64().toStdString()));

        // multipart/form-data: fields by name, file parts as base64, repeated names as arrays.
        const QByteArray boundary = "----dispatch-boundary-42";
        QByteArray multipart;
        auto part = [&](const QByteArray &disposition, const QByteArray &content, const QByteArray &type = {}) {
            multipart += "--" + boundary + "\r\nContent-Disposition: form-data; " + disposition + "\r\n";
            if (!type.isEmpty())
                multipart += "Content-Type: " + type + "\r\n";
            multipart += "\r\n" + content + "\r\n";
        };
        part("name=\"name\"", "VMware");
        part("name=\"place\"", "Palo Alto");
        part("name=\"tag\"", "a");
        part("name=\"tag\"", "b");
        const QByteArray file("line one\r\n--not-the-boundary\r\n\x00\x7f", 32);
        part("name=\"upload\"; filename=\"data.bin\"", file, "application/octet-stream");
        multipart += "--" + boundary + "--\r\n";
        auto mp = httpRequest("POST", url, multipart, {{"Content-Type", "multipart/form-data; boundary=" + boundary}});
        QCOMPARE(mp.status, 200);
        QCOMPARE_JSON(payload(mp), Json({{"name", "VMware"},
                                    {"place", "Palo Alto"},
                                    {"tag", {"a", "b"}},
                                    {"upload", file.toBase64().toStdString()}}));
        // The hello function reads the same fields.
        createApi({{"name", "api-multipart"}, {"function", "hello-world"}, {"uris", {"/multipart"}}, {"enabled", true}});
        auto hello = httpRequest("POST", gw(QStringLiteral("/dispatch/multipart")), multipart,
                                 {{"Content-Type", "multipart/form-data; boundary=\"" + boundary + "\""}});
        QCOMPARE(myField(hello.json()), std::string("Hello, VMware from Palo Alto"));

        auto broken = httpRequest("POST", url, "--" + boundary + "\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nno end",
                                  {{"Content-Type", "multipart/form-data; boundary=" + boundary}});
        QCOMPARE(broken.status, 400);
        QVERIFY(broken.json().value("message", "").find("multipart/form-data") != std::string::npos);
        auto noBoundary = httpRequest("POST", url, "x", {{"Content-Type", "multipart/form-data"}});
        QCOMPARE(noBoundary.status, 400);

        // text/plain is not a type Dispatch maps.
        auto text = httpRequest("POST", url, "hello", {{"Content-Type", "text/plain"}});
        QCOMPARE(text.status, 400);
        QCOMPARE_JSON(text.json(), Json({{"message", "request body type is not supported: text/plain"}}));
    }

    // apis.bats 4
    void cors()
    {
        createApi({{"name", "api-test-cors"}, {"function", "func-nodejs"}, {"methods", {"POST", "PUT"}},
                   {"uris", {"/cors"}}, {"enabled", true}, {"cors", true}});
        auto r = httpRequest("POST", gw(QStringLiteral("/dispatch/cors")), "{\"name\":\"VMware\",\"place\":\"CORS\"}",
                             {{"Content-Type", "application/json"}});
        QCOMPARE(myField(r.json()), std::string("Hello, VMware from CORS"));
        QCOMPARE(r.headers.value("access-control-allow-origin"), QByteArray("*"));
        QCOMPARE(r.headers.value("access-control-allow-methods"), QByteArray("*"));
        QCOMPARE(r.headers.value("access-control-allow-headers"), QByteArray("*"));

        // A preflight matches whatever the methods and answers empty, without running the function.
        auto preflight = httpRequest("OPTIONS", gw(QStringLiteral("/dispatch/cors")), {},
                                     {{"Origin", "http://example.com"}, {"Access-Control-Request-Method", "PUT"}});
        QCOMPARE(preflight.status, 200);
        QVERIFY(preflight.body.isEmpty());
        QCOMPARE(preflight.headers.value("access-control-allow-origin"), QByteArray("*"));

        // Errors of a CORS API carry the headers too (browsers need them to read the error).
        auto bad = httpRequest("POST", gw(QStringLiteral("/dispatch/cors")), "nope", {{"Content-Type", "application/json"}});
        QCOMPARE(bad.status, 400);
        QCOMPARE(bad.headers.value("access-control-allow-origin"), QByteArray("*"));

        // Without cors, no such headers.
        auto plain = httpRequest("POST", gw(QStringLiteral("/dispatch/http")), "{}", {{"Content-Type", "application/json"}});
        QCOMPARE(plain.status, 200);
        QVERIFY(!plain.headers.contains("access-control-allow-origin"));
    }

    // apis.bats 5, and Solo's double prefix on PUT not copied.
    void update()
    {
        createApi({{"name", "api-test-update"}, {"function", "func-nodejs"}, {"methods", {"GET"}},
                   {"uris", {"/hello-update"}}, {"enabled", true}, {"protocols", {"http", "https"}}});
        QCOMPARE(myField(httpRequest("GET", gw(QStringLiteral("/dispatch/hello-update"))).json()),
                 std::string("Hello, Noone from Nowhere"));

        // The CLI's update sends the un-prefixed URIs.
        auto r = api->put(QStringLiteral("/v1/api/api-test-update"),
                          {{"name", "api-test-update"}, {"function", "func-nodejs"}, {"methods", {"GET"}},
                           {"uris", {"/goodbye"}}, {"enabled", true}, {"protocols", {"http", "https"}}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value("status", ""), std::string("UPDATING"));
        QCOMPARE_JSON(r.json()["uris"], Json({"/dispatch/goodbye"}));
        auto ready = api->waitForStatus(QStringLiteral("/v1/api/api-test-update"), {QStringLiteral("READY")},
                                        std::chrono::seconds(30));
        QCOMPARE(ready.value("status", ""), std::string("READY"));
        QCOMPARE(myField(httpRequest("GET", gw(QStringLiteral("/dispatch/goodbye"))).json()),
                 std::string("Hello, Noone from Nowhere"));
        QCOMPARE(httpRequest("GET", gw(QStringLiteral("/dispatch/hello-update"))).status, 404);

        // GET then PUT of the same document: the prefix is not added twice.
        auto same = api->put(QStringLiteral("/v1/api/api-test-update"), ready);
        QCOMPARE(same.status, 200);
        QCOMPARE_JSON(same.json()["uris"], Json({"/dispatch/goodbye"}));
        QCOMPARE(same.json().value("id", ""), ready.value("id", ""));
        ready = api->waitForStatus(QStringLiteral("/v1/api/api-test-update"), {QStringLiteral("READY")},
                                   std::chrono::seconds(30));
        QCOMPARE_JSON(ready["uris"], Json({"/dispatch/goodbye"}));

        // The e2e update file (https only): Solo served it over HTTP only because of its protocol bug.
        auto httpsOnly = ready;
        httpsOnly["protocols"] = {"https"};
        QCOMPARE(api->put(QStringLiteral("/v1/api/api-test-update"), httpsOnly).status, 200);
        api->waitForStatus(QStringLiteral("/v1/api/api-test-update"), {QStringLiteral("READY")}, std::chrono::seconds(30));
        auto refused = httpRequest("GET", gw(QStringLiteral("/dispatch/goodbye")));
        QCOMPARE(refused.status, 400);
        QCOMPARE_JSON(refused.json(), Json({{"message", "Please use HTTPS protocol"}}));

        // Disabling takes the route away; the API stays READY.
        auto disabled = ready;
        disabled.erase("enabled");
        QCOMPARE(api->put(QStringLiteral("/v1/api/api-test-update"), disabled).status, 200);
        api->waitForStatus(QStringLiteral("/v1/api/api-test-update"), {QStringLiteral("READY")}, std::chrono::seconds(30));
        QCOMPARE(httpRequest("GET", gw(QStringLiteral("/dispatch/goodbye"))).status, 404);
    }

    void notFound()
    {
        auto none = httpRequest("GET", gw(QStringLiteral("/dispatch/no-such-path")));
        QCOMPARE(none.status, 404);
        QCOMPARE(none.body, QByteArray("{\"message\":\"no API found with those values\"}"));
        // Exact paths: no prefix matching, and the method must be listed.
        QCOMPARE(httpRequest("POST", gw(QStringLiteral("/dispatch/hello/more")), "{}", {{"Content-Type", "application/json"}})
                     .status,
                 404);
        QCOMPARE(httpRequest("DELETE", gw(QStringLiteral("/dispatch/hello"))).status, 404);
        // An API created without "enabled": true is never routed (the CLI always sends it).
        createApi({{"name", "api-disabled"}, {"function", "hello-world"}, {"uris", {"/disabled"}}});
        QCOMPARE(httpRequest("GET", gw(QStringLiteral("/dispatch/disabled"))).status, 404);
        // A trailing or doubled slash names the same path.
        QCOMPARE(httpRequest("POST", gw(QStringLiteral("/dispatch/hello/")), "{}", {{"Content-Type", "application/json"}})
                     .status,
                 200);
    }

    // Beyond Solo: a failed run answers 502 with the error (Solo: an empty 200).
    void failedRun()
    {
        createApi({{"name", "api-fail"}, {"function", "node-fail"}, {"uris", {"/fail"}}, {"enabled", true}});
        auto r = httpRequest("POST", gw(QStringLiteral("/dispatch/fail")), "{}", {{"Content-Type", "application/json"}});
        QCOMPARE(r.status, 502);
        QCOMPARE(r.json().value("type", ""), std::string("FunctionError"));
        QVERIFY2(r.json().value("message", "").find("something went wrong") != std::string::npos, r.body.constData());
        QVERIFY(!r.json().contains("code"));
        auto run = waitForRun(QStringLiteral("node-fail"), [](const Json &j) { return j.value("status", "") == "ERROR"; });
        QVERIFY(run.is_object());
        QCOMPARE(run["httpContext"].value("upstream_uri", ""), std::string("node-fail"));
    }

    // Beyond Solo: the body limit is configurable (--gateway-max-body) and answered with 413.
    void bodyLimit()
    {
        createApi({{"name", "api-big"}, {"function", "py-echo"}, {"uris", {"/big"}}, {"enabled", true}});
        // Exactly at the limit: accepted.
        const std::string prefix = "{\"data\":\"", suffix = "\"}";
        const std::string fits = prefix + std::string(kGatewayMaxBody - prefix.size() - suffix.size(), 'x') + suffix;
        QCOMPARE(qint64(fits.size()), kGatewayMaxBody);
        auto ok = rawCall(server->gatewayPort(), rawRequest("POST", "/dispatch/big", QByteArray::fromStdString(fits),
                                                            {{"Content-Type", "application/json"}}));
        QCOMPARE(ok.status, 200);
        QCOMPARE(ok.json()["payload"]["data"].get<std::string>().size(), fits.size() - prefix.size() - suffix.size());
        // One byte more: refused before the function runs.
        const QByteArray tooBig = QByteArray::fromStdString(fits) + " ";
        auto refused = rawCall(server->gatewayPort(),
                               rawRequest("POST", "/dispatch/big", tooBig, {{"Content-Type", "application/json"}}));
        QCOMPARE(refused.status, 413);
        QVERIFY(refused.json().value("message", "").find(std::to_string(kGatewayMaxBody)) != std::string::npos);
    }

    // Beyond Solo: an API whose function is missing or not READY is READY itself (as in Dispatch), and a call
    // answers 503 saying why (Solo passed the function manager's 404 through).
    void functionNotReady()
    {
        auto ghost = createApi({{"name", "api-ghost"}, {"function", "ghost"}, {"uris", {"/ghost"}}, {"enabled", true}});
        QCOMPARE(ghost.value("status", ""), std::string("READY"));
        auto r = httpRequest("GET", gw(QStringLiteral("/dispatch/ghost")));
        QCOMPARE(r.status, 503);
        QCOMPARE_JSON(r.json(), Json({{"message", "function ghost not found"}}));

        auto broken = api->createFunction(QStringLiteral("broken"), QStringLiteral("no-such-image"),
                                          QStringLiteral("python3/hello.py"), QStringLiteral("hello.handle"));
        QCOMPARE(broken.value("status", ""), std::string("ERROR"));
        createApi({{"name", "api-broken"}, {"function", "broken"}, {"uris", {"/broken"}}, {"enabled", true}});
        auto b = httpRequest("GET", gw(QStringLiteral("/dispatch/broken")));
        QCOMPARE(b.status, 503);
        QCOMPARE_JSON(b.json(), Json({{"message", "function broken is not READY"}}));
    }

    // Every list is org-scoped, and an API of one org is never served under another org's path.
    void orgIsolation()
    {
        DispatchClient orgB(server->apiBase(), QStringLiteral("orgb"));
        DispatchClient orgA(server->apiBase(), QStringLiteral("orga"));
        auto b = createApi({{"name", "iso"}, {"function", "hello-world"}, {"uris", {"/iso"}}, {"enabled", true}}, &orgB);
        QCOMPARE_JSON(b["uris"], Json({"/orgb/iso"}));
        // The same name in another org is another API.
        auto a = createApi({{"name", "iso"}, {"function", "hello-world"}, {"uris", {"/orgb/iso"}}, {"enabled", true}}, &orgA);
        QCOMPARE_JSON(a["uris"], Json({"/orga/orgb/iso"}));

        auto listB = orgB.get(QStringLiteral("/v1/api")).json();
        QCOMPARE(listB.size(), std::size_t(1));
        QCOMPARE(listB[0].value("name", ""), std::string("iso"));
        for (const auto &x : api->get(QStringLiteral("/v1/api")).json())
            QVERIFY(x.value("name", "") != "iso");

        // /orgb/iso runs in org orgb, which has no hello-world: the org came from the API, not the request
        // (the header is ignored) nor org A's lookalike URI.
        auto viaB = httpRequest("GET", gw(QStringLiteral("/orgb/iso")), {}, {{"X-Dispatch-Org", "dispatch"}});
        QCOMPARE(viaB.status, 503);
        QCOMPARE_JSON(viaB.json(), Json({{"message", "function hello-world not found"}}));
        QCOMPARE(httpRequest("GET", gw(QStringLiteral("/dispatch/iso"))).status, 404);
        QCOMPARE(httpRequest("GET", gw(QStringLiteral("/orga/iso"))).status, 404);
        QCOMPARE(orgB.get(QStringLiteral("/v1/api/api-hello")).status, 404);
    }

    // With hosts, the URI is used as given and the Host header (port ignored) must match.
    void hostBound()
    {
        auto h = createApi({{"name", "api-host"}, {"function", "func-nodejs"}, {"uris", {"/hosted"}},
                            {"hosts", {"Example.test"}}, {"enabled", true}});
        QCOMPARE_JSON(h["uris"], Json({"/hosted"}));
        auto ok = rawCall(server->gatewayPort(), rawRequest("GET", "/hosted?name=Host", {}, {}, "example.test:8081"));
        QCOMPARE(ok.status, 200);
        QCOMPARE(myField(ok.json()), std::string("Hello, Host from Nowhere"));
        QCOMPARE(rawCall(server->gatewayPort(), rawRequest("GET", "/hosted", {}, {}, "other.test")).status, 404);
        QCOMPARE(rawCall(server->gatewayPort(), rawRequest("GET", "/dispatch/hosted", {}, {}, "example.test")).status, 404);
    }

    // Each gateway call is a run like any other, with its httpContext.
    void callsAreRuns()
    {
        auto r = httpRequest("POST", gw(QStringLiteral("/dispatch/hello?trace=runs")), "{\"name\":\"Run\",\"place\":\"List\"}",
                             {{"Content-Type", "application/json"}});
        QCOMPARE(r.status, 200);
        auto runs = api->get(QStringLiteral("/v1/runs?functionName=hello-world")).json();
        QVERIFY(runs.is_array() && !runs.empty());
        const Json &run = runs[0]; // newest first; the call was answered after its run was stored
        QCOMPARE(run.value("status", ""), std::string("READY"));
        QCOMPARE_JSON(run["input"], Json({{"name", "Run"}, {"place", "List"}}));
        QCOMPARE_JSON(run["output"], Json({{"myField", "Hello, Run from List"}}));
        QCOMPARE(run.value("blocking", false), true);
        QCOMPARE_JSON(run["httpContext"], Json({{"args", "trace=runs"},
                                            {"method", "POST"},
                                            {"request", "/dispatch/hello?trace=runs"},
                                            {"request_uri", "/dispatch/hello?trace=runs"},
                                            {"scheme", "http"},
                                            {"server_protocol", "HTTP/1.1"},
                                            {"upstream_uri", "hello-world"},
                                            {"uri", "/dispatch/hello?trace=runs"}}));
    }

    // Keep-alive with pipelined requests, each framed by a correct Content-Length.
    void keepAlive()
    {
        const QByteArray one = rawRequest("POST", "/dispatch/hello", "{\"name\":\"A\"}", {{"Content-Type", "application/json"}});
        const QByteArray missing = rawRequest("GET", "/dispatch/missing");
        const QByteArray empty = rawRequest("PUT", "/dispatch/transforms", {}, {{"x-dispatch-blocking", "false"}});
        auto all = rawExchange(server->gatewayPort(), one + missing + empty + one, 4);
        QCOMPARE(all.size(), 4);
        QCOMPARE(all[0].status, 200);
        QCOMPARE(myField(all[0].json()), std::string("Hello, A from Nowhere"));
        QCOMPARE(all[1].status, 404);
        QCOMPARE(all[2].status, 200);
        QCOMPARE(all[2].headers.value("content-length"), QByteArray("0"));
        QCOMPARE(all[3].body, all[0].body);
        for (const auto &r : all) {
            QCOMPARE(qsizetype(r.headers.value("content-length").toLongLong()), r.body.size());
            QVERIFY(r.headers.value("connection").toLower() != "close");
        }
    }

    // APIs are stored: after a restart they are READY and routed again.
    void survivesRestart()
    {
        QVERIFY(server->restart());
        api = std::make_unique<DispatchClient>(server->apiBase());
        auto a = api->waitForStatus(QStringLiteral("/v1/api/api-hello"), {QStringLiteral("READY")}, std::chrono::seconds(30));
        QCOMPARE(a.value("status", ""), std::string("READY"));
        QCOMPARE_JSON(a["uris"], Json({"/dispatch/hello"}));
        QCOMPARE(api->get(QStringLiteral("/v1/api/api-crud")).status, 404); // deletions stay deleted
        // The function's worker is redeployed after the restart: poll until the call goes through.
        QElapsedTimer t;
        t.start();
        HttpResult r;
        do {
            r = httpRequest("POST", gw(QStringLiteral("/dispatch/hello")), "{\"name\":\"Again\"}",
                            {{"Content-Type", "application/json"}});
            if (r.status == 200)
                break;
            QTest::qWait(50);
        } while (t.elapsed() < 60000);
        QCOMPARE(r.status, 200);
        QCOMPARE(myField(r.json()), std::string("Hello, Again from Nowhere"));
    }
};

QTEST_GUILESS_MAIN(TestGateway)
#include "tst_gateway.moc"
