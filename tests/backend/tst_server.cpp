// The dispatch-server over its real REST API: the seed walkthrough in python, node and java, the Dispatch
// error contract, the base image rules of the local engine, runs (blocking, async, logs, errors, timeout,
// crash), secrets, hostile source archives, org isolation and a restart that loses nothing.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QFile>
#include <QTest>

#include <archive.h>
#include <archive_entry.h>

#include "support/testserver.h"

using namespace dispatch::test;

namespace {

// A gzip'd tar built entry by entry, so tests can craft what a hostile client would send.
struct RawEntry
{
    RawEntry(std::string p, std::string c, int t = AE_IFREG, std::string l = {})
        : path(std::move(p)), content(std::move(c)), type(t), link(std::move(l))
    {
    }
    std::string path;
    std::string content;
    int type;
    std::string link;
};

QByteArray rawTar(const std::vector<RawEntry> &entries, bool gzip = true)
{
    QByteArray out;
    archive *a = archive_write_new();
    if (gzip)
        archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    archive_write_open(
        a, &out, nullptr,
        [](archive *, void *ctx, const void *buf, size_t n) -> la_ssize_t {
            static_cast<QByteArray *>(ctx)->append(static_cast<const char *>(buf), static_cast<qsizetype>(n));
            return static_cast<la_ssize_t>(n);
        },
        nullptr);
    for (const auto &e : entries) {
        archive_entry *ae = archive_entry_new();
        archive_entry_set_pathname(ae, e.path.c_str());
        archive_entry_set_filetype(ae, static_cast<unsigned>(e.type));
        archive_entry_set_perm(ae, 0644);
        if (e.type == AE_IFLNK)
            archive_entry_set_symlink(ae, e.link.c_str());
        archive_entry_set_size(ae, e.type == AE_IFREG ? static_cast<la_int64_t>(e.content.size()) : 0);
        archive_write_header(a, ae);
        if (e.type == AE_IFREG)
            archive_write_data(a, e.content.data(), e.content.size());
        archive_entry_free(ae);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

QByteArray gzipRaw(const QByteArray &data)
{
    QByteArray out;
    archive *a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_raw(a);
    archive_write_open(
        a, &out, nullptr,
        [](archive *, void *ctx, const void *buf, size_t n) -> la_ssize_t {
            static_cast<QByteArray *>(ctx)->append(static_cast<const char *>(buf), static_cast<qsizetype>(n));
            return static_cast<la_ssize_t>(n);
        },
        nullptr);
    archive_entry *ae = archive_entry_new();
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_write_header(a, ae);
    archive_write_data(a, data.constData(), static_cast<size_t>(data.size()));
    archive_entry_free(ae);
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

const char *kHelloPy = "def handle(ctx, payload):\n"
                       "    name = payload.get('name', 'Noone')\n"
                       "    place = payload.get('place', 'Nowhere')\n"
                       "    return {'myField': 'Hello, %s from %s' % (name, place)}\n";

Json runBody(Json input, bool blocking = true)
{
    return Json{{"blocking", blocking}, {"input", std::move(input)}, {"secrets", Json::array()}};
}

} // namespace

class TestServer_ : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestServer> server;
    std::unique_ptr<DispatchClient> api;

    Json exec(const QString &fn, Json input, Json extra = Json::object())
    {
        Json body = runBody(std::move(input));
        for (auto it = extra.begin(); it != extra.end(); ++it)
            body[it.key()] = it.value();
        auto r = api->post(QStringLiteral("/v1/runs?functionName=") + fn, body);
        if (r.status != 200)
            qWarning() << "exec" << fn << r.status << r.body;
        return r.json();
    }

private slots:
    void initTestCase()
    {
        server = std::make_unique<TestServer>();
        QString error;
        QVERIFY2(server->start(&error), qPrintable(error));
        api = std::make_unique<DispatchClient>(server->apiBase());
    }

    void cleanupTestCase()
    {
        if (server) {
            QVERIFY(server->stop());
            QFile log(testOutputDir(QStringLiteral("server")) + QStringLiteral("/tst_server.log"));
            log.open(QIODevice::WriteOnly);
            log.write(server->output());
        }
    }

    void healthAndVersion()
    {
        auto h = httpRequest("POST", server->apiBase() + QStringLiteral("/healthz/anything"));
        QCOMPARE(h.status, 200);
        QVERIFY(h.json()["version"]["version"].is_string());
        auto v = api->get(QStringLiteral("/v1/version"));
        QCOMPARE(v.status, 200);
        QVERIFY(!v.json().value("version", "").empty());
    }

    void errorContract_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QString>("path");
        QTest::addColumn<bool>("org");
        QTest::addColumn<bool>("cookie");
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        QTest::newRow("missing org before auth") << QByteArray("GET") << "/v1/function" << false << false << 422 << 602
                                                 << "X-Dispatch-Org in header is required";
        QTest::newRow("missing auth") << QByteArray("GET") << "/v1/function" << true << false << 401 << 401
                                      << "unauthenticated for invalid credentials";
        QTest::newRow("unknown service") << QByteArray("GET") << "/v1/nothing" << true << true << 404 << 404
                                         << "resource does not exist";
        QTest::newRow("iam not implemented") << QByteArray("GET") << "/v1/iam/policy" << true << true << 501 << 501
                                             << "Endpoint is not implemented in this version of Dispatch";
        QTest::newRow("function not found") << QByteArray("GET") << "/v1/function/nope" << true << true << 404
                                            << 404 << "function nope not found";
        QTest::newRow("trailing slash and dots are cleaned") << QByteArray("GET") << "/v1//function/./nope/" << true
                                                             << true << 404 << 404 << "function nope not found";
        QTest::newRow("exec without function") << QByteArray("POST") << "/v1/runs" << true << true << 400 << 400
                                               << "Bad Request: No function specified";
        QTest::newRow("run of a missing function") << QByteArray("GET") << "/v1/runs/abc" << true << true << 404
                                                   << 404 << "run abc not found";
    }

    void errorContract()
    {
        QFETCH(QByteArray, method);
        QFETCH(QString, path);
        QFETCH(bool, org);
        QFETCH(bool, cookie);
        QFETCH(int, status);
        QFETCH(int, code);
        QFETCH(QString, message);
        QMap<QByteArray, QByteArray> headers;
        if (org)
            headers.insert("X-Dispatch-Org", "dispatch");
        if (cookie)
            headers.insert("Cookie", "cookie");
        auto r = httpRequest(method, server->apiBase() + path, method == "POST" ? QByteArray("{}") : QByteArray(),
                             headers);
        QCOMPARE(r.status, status);
        auto j = r.json();
        QCOMPARE(j.value("code", 0), code);
        QCOMPARE(QString::fromStdString(j.value("message", "")), message);
    }

    void validation_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("code");
        QTest::newRow("bad base image name") << "/v1/baseimage"
                                             << QByteArray(R"({"name":"-bad","dockerUrl":"x","language":"python3"})")
                                             << 422 << 605;
        QTest::newRow("missing dockerUrl") << "/v1/baseimage" << QByteArray(R"({"name":"ok","language":"python3"})")
                                           << 422 << 602;
        QTest::newRow("wrong type") << "/v1/baseimage" << QByteArray(R"({"name":5,"dockerUrl":"x","language":"y"})")
                                    << 422 << 601;
        QTest::newRow("not json") << "/v1/function" << QByteArray("{nope") << 400 << 400;
        QTest::newRow("bad function name") << "/v1/function"
                                           << QByteArray(R"({"name":"a b","image":"python3","handler":""})") << 422
                                           << 605;
        QTest::newRow("function without source") << "/v1/function"
                                                 << QByteArray(R"({"name":"nosrc","image":"python3","handler":""})")
                                                 << 400 << 400;
        QTest::newRow("secret value not a string") << "/v1/secret"
                                                   << QByteArray(R"({"name":"s","secrets":{"a":1}})") << 400 << 400;
        QTest::newRow("image of a missing base") << "/v1/image" << QByteArray(R"({"name":"i","baseImageName":"nope"})")
                                                 << 400 << 400;
        QTest::newRow("negative runRetention")
            << "/v1/function" << QByteArray(R"({"name":"r","image":"python3","handler":"","runRetention":-1})") << 422
            << 609;
        QTest::newRow("runRetention not a number")
            << "/v1/function" << QByteArray(R"({"name":"r","image":"python3","handler":"","runRetention":"5"})")
            << 422 << 601;
    }

    void validation()
    {
        QFETCH(QString, path);
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(int, code);
        auto r = api->raw("POST", path, body);
        QCOMPARE(r.status, status);
        QCOMPARE(r.json().value("code", 0), code);
        QVERIFY2(!r.json().value("message", "").empty(), r.body.constData());
    }

    // Issue 9: which container image names the local engine can honour.
    void baseImageRules_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("language");
        QTest::addColumn<QString>("status");
        QTest::addColumn<QString>("reason");
        QTest::newRow("python3 seed") << "dispatchframework/python3-base:0.0.13" << "python3" << "READY" << "";
        QTest::newRow("nodejs any tag") << "dispatchframework/nodejs-base:0.0.8" << "python3" << "READY" << "";
        QTest::newRow("java seed") << "dispatchframework/java-base:0.0.13" << "java" << "READY" << "";
        QTest::newRow("powershell without pwsh") << "dispatchframework/powershell-base:0.0.13" << "powershell"
                                                 << "ERROR" << "pwsh is not installed on this host";
        QTest::newRow("clojure") << "dispatchframework/clojure-base:0.0.1" << "clojure" << "ERROR" << "clojure";
        QTest::newRow("local runtime") << "local:python3" << "" << "READY" << "";
        QTest::newRow("local node") << "local:nodejs" << "" << "READY" << "";
        QTest::newRow("local interpreter path") << "local:/usr/bin/python3" << "python3" << "READY" << "";
        QTest::newRow("local missing interpreter") << "local:/opt/none/python3.99" << "python3" << "ERROR"
                                                   << "/opt/none/python3.99 does not exist";
        QTest::newRow("e2e missing image") << "missing/image:latest" << "nodejs" << "ERROR"
                                           << "container image missing/image:latest needs a container engine; this "
                                              "server runs functions as local processes (use local:<runtime> or a "
                                              "dispatchframework base image)";
        QTest::newRow("custom image") << "myorg/custom-python:1.0" << "python3" << "ERROR"
                                      << "container image myorg/custom-python:1.0 needs a container engine";
    }

    void baseImageRules()
    {
        QFETCH(QString, url);
        QFETCH(QString, language);
        QFETCH(QString, status);
        QFETCH(QString, reason);
        static int n = 0;
        const QString name = QStringLiteral("rule-%1").arg(++n);
        DispatchClient org(server->apiBase(), QStringLiteral("rules"));
        auto r = org.post(QStringLiteral("/v1/baseimage"), {{"name", name.toStdString()},
                                                             {"dockerUrl", url.toStdString()},
                                                             {"language", language.toStdString()}});
        QCOMPARE(r.status, 201);
        QCOMPARE(r.json().value("status", ""), std::string("INITIALIZED"));
        // The first GET after the POST still shows the initial state (the Dispatch e2e suite relies on it).
        QCOMPARE(org.get(QStringLiteral("/v1/baseimage/") + name).json().value("status", ""),
                 std::string("INITIALIZED"));
        auto j = org.waitForStatus(QStringLiteral("/v1/baseimage/") + name);
        QCOMPARE(QString::fromStdString(j.value("status", "")), status);
        if (status == QLatin1String("ERROR")) {
            QVERIFY(j["reason"].is_array() && j["reason"].size() == 1);
            QVERIFY2(QString::fromStdString(j["reason"][0].get<std::string>()).contains(reason),
                     j.dump().c_str());
        } else {
            QVERIFY(j["reason"].is_null());
        }
    }

    void imageOnErrorBaseImage()
    {
        DispatchClient org(server->apiBase(), QStringLiteral("rules"));
        QCOMPARE(org.post(QStringLiteral("/v1/baseimage"),
                          {{"name", "broken"}, {"dockerUrl", "missing/image:latest"}, {"language", "nodejs"}})
                     .status,
                 201);
        QCOMPARE(org.post(QStringLiteral("/v1/image"), {{"name", "on-broken"}, {"baseImageName", "broken"}}).status,
                 201);
        auto j = org.waitForStatus(QStringLiteral("/v1/image/on-broken"));
        QCOMPARE(j.value("status", ""), std::string("ERROR"));
        QVERIFY2(j["reason"][0].get<std::string>().find("base image broken") != std::string::npos, j.dump().c_str());
    }

    // An image's systemDependencies are checked against the host's package database (dpkg-query): an
    // installed package passes, a missing one ends the image in ERROR naming it.
    void imageSystemPackages()
    {
        DispatchClient org(server->apiBase(), QStringLiteral("sysdeps")); // its own org: seedImages counts
        QCOMPARE(org.post(QStringLiteral("/v1/baseimage"), {{"name", "sys-base"},
                                                             {"dockerUrl", "dispatchframework/nodejs-base:0.0.13"},
                                                             {"language", "nodejs"}})
                     .status,
                 201);
        QCOMPARE(org.waitForStatus(QStringLiteral("/v1/baseimage/sys-base")).value("status", ""), std::string("READY"));
        QCOMPARE(org.post(QStringLiteral("/v1/image"),
                           {{"name", "with-bash"},
                            {"baseImageName", "sys-base"},
                            {"systemDependencies", {{"packages", {{{"name", "bash"}}}}}}})
                     .status,
                 201);
        auto ok = org.waitForStatus(QStringLiteral("/v1/image/with-bash"));
        QVERIFY2(ok.value("status", "") == "READY", ok.dump().c_str());
        QCOMPARE(org.post(QStringLiteral("/v1/image"),
                           {{"name", "with-missing"},
                            {"baseImageName", "sys-base"},
                            {"systemDependencies",
                             {{"packages", {{{"name", "bash"}}, {{"name", "no-such-package-dc"}, {"version", "1.0"}}}}}}})
                     .status,
                 201);
        auto bad = org.waitForStatus(QStringLiteral("/v1/image/with-missing"));
        QCOMPARE(bad.value("status", ""), std::string("ERROR"));
        const std::string reason = bad["reason"][0].get<std::string>();
        QVERIFY2(reason.find("no-such-package-dc (1.0)") != std::string::npos, reason.c_str());
        QVERIFY2(reason.find("bash") == std::string::npos, reason.c_str()); // only the missing one is named
    }

    void seedImages()
    {
        QString error;
        QVERIFY2(api->seedImages(&error), qPrintable(error));
        auto py = api->get(QStringLiteral("/v1/image/python3")).json();
        QCOMPARE(py.value("status", ""), std::string("READY"));
        QCOMPARE(py["runtimeDependencies"]["manifest"].get<std::string>(), std::string("requests"));
        QCOMPARE(py.value("language", ""), std::string("python3"));
        auto list = api->get(QStringLiteral("/v1/baseimage")).json();
        QCOMPARE(list.size(), size_t(3)); // the "rules" org's base images are not listed here
    }

    void pythonWalkthrough()
    {
        auto f = api->createFunction(QStringLiteral("hello-world"), QStringLiteral("python3"),
                                     QStringLiteral("python3/hello.py"), QStringLiteral("hello.handle"));
        QCOMPARE(f.value("status", ""), std::string("READY"));
        auto run = exec(QStringLiteral("hello-world"), {{"name", "Jon"}, {"place", "Winterfell"}});
        QCOMPARE(run.value("status", ""), std::string("READY"));
        QCOMPARE(run["output"]["myField"].get<std::string>(), std::string("Hello, Jon from Winterfell"));
        QVERIFY(run.value("executedTime", int64_t(0)) > 1'000'000'000'000'000'000LL); // nanoseconds
        QVERIFY(run.value("finishedTime", int64_t(0)) >= run.value("executedTime", int64_t(0)));
        // Dispatch's exact list shape: every run of the function, newest first.
        auto runs = api->get(QStringLiteral("/v1/runs?functionName=hello-world")).json();
        QVERIFY(runs.is_array() && !runs.empty());
        QCOMPARE(runs[0].value("name", ""), run.value("name", ""));
    }

    void nodeWalkthrough()
    {
        auto f = api->createFunction(QStringLiteral("hello-node"), QStringLiteral("nodejs"),
                                     QStringLiteral("nodejs/hello.js"), QStringLiteral("./hello.js"));
        QCOMPARE(f.value("status", ""), std::string("READY"));
        auto run = exec(QStringLiteral("hello-node"), {{"name", "Jon"}, {"place", "Winterfell"}});
        QCOMPARE(run["output"]["myField"].get<std::string>(), std::string("Hello, Jon from Winterfell"));
    }

    void javaWalkthrough()
    {
        auto f = api->createFunction(QStringLiteral("hello-java"), QStringLiteral("java"), QStringLiteral("java"),
                                     QStringLiteral("io.dispatchframework.examples.Hello"));
        QCOMPARE(f.value("status", ""), std::string("READY"));
        auto run = exec(QStringLiteral("hello-java"), {{"name", "Jon"}, {"place", "Winterfell"}});
        QCOMPARE(run.value("output", Json()).dump(), Json("Hello, Jon from Winterfell").dump());
        auto f2 = api->createFunction(QStringLiteral("hello-java-classes"), QStringLiteral("java"),
                                      QStringLiteral("java"),
                                      QStringLiteral("io.dispatchframework.examples.HelloWithClasses"));
        QCOMPARE(f2.value("status", ""), std::string("READY"));
        auto run2 = exec(QStringLiteral("hello-java-classes"), {{"name", "Jon"}, {"place", "Winterfell"}});
        QCOMPARE(run2["output"]["myField"].get<std::string>(), std::string("Hello, Jon from Winterfell"));
    }

    void defaultHandler()
    {
        auto f = api->createFunction(QStringLiteral("default-handler"), QStringLiteral("python3"),
                                     QStringLiteral("python3/hello.py"), QString());
        QCOMPARE(f.value("status", ""), std::string("READY"));
        auto run = exec(QStringLiteral("default-handler"), Json::object());
        QCOMPARE(run["output"]["myField"].get<std::string>(), std::string("Hello, Noone from Nowhere"));
    }

    void asyncRunThenPoll()
    {
        auto r = api->post(QStringLiteral("/v1/runs?functionName=hello-world"),
                           runBody({{"name", "Arya"}, {"place", "Braavos"}}, false));
        QCOMPARE(r.status, 202);
        auto accepted = r.json();
        QCOMPARE(accepted.value("status", ""), std::string("INITIALIZED"));
        const QString id = QString::fromStdString(accepted.value("name", ""));
        auto done = api->waitForStatus(QStringLiteral("/v1/runs/%1?functionName=hello-world").arg(id));
        QCOMPARE(done.value("status", ""), std::string("READY"));
        QCOMPARE(done["output"]["myField"].get<std::string>(), std::string("Hello, Arya from Braavos"));
        QCOMPARE(api->get(QStringLiteral("/v1/runs/%1?functionName=other").arg(id)).status, 404);
    }

    void logsAreCaptured()
    {
        auto f = api->createFunction(QStringLiteral("logging"), QStringLiteral("python3"),
                                     QStringLiteral("python3/logging.py"), QStringLiteral("logging.handle"));
        QCOMPARE(f.value("status", ""), std::string("READY"));
        auto run = exec(QStringLiteral("logging"), Json::object());
        QCOMPARE(run["logs"]["stdout"][0].get<std::string>(), std::string("this goes to stdout"));
        QCOMPARE(run["logs"]["stderr"][0].get<std::string>(), std::string("this goes to stderr"));
    }

    void inputErrorFromValueError()
    {
        auto f = api->createFunction(QStringLiteral("fail-input"), QStringLiteral("python3"),
                                     QStringLiteral("python3/fail_input.py"), QStringLiteral("fail_input.handle"));
        QCOMPARE(f.value("status", ""), std::string("READY"));
        auto run = exec(QStringLiteral("fail-input"), Json::object());
        QCOMPARE(run.value("status", ""), std::string("ERROR"));
        QCOMPARE(run["error"]["type"].get<std::string>(), std::string("InputError"));
        QVERIFY(!run["error"]["stacktrace"].empty());
        QVERIFY(run["reason"][0].get<std::string>().rfind("error running function: fail-input: ", 0) == 0);
    }

    void timeoutKillsTheWorker()
    {
        auto f = api->createFunction(QStringLiteral("sleepy"), QStringLiteral("python3"),
                                     QStringLiteral("python3/sleep.py"), QStringLiteral("sleep.handle"),
                                     {{"timeout", 300}});
        QCOMPARE(f.value("status", ""), std::string("READY"));
        QCOMPARE(f.value("timeout", 0), 300);
        auto run = exec(QStringLiteral("sleepy"), {{"seconds", 30}});
        QCOMPARE(run.value("status", ""), std::string("ERROR"));
        QCOMPARE(run["error"]["type"].get<std::string>(), std::string("FunctionError"));
        QCOMPARE(run["error"]["message"].get<std::string>(), std::string("Function execution exceeded the timeout"));
        // A fresh worker serves the next run.
        auto quick = exec(QStringLiteral("sleepy"), {{"seconds", 0}});
        QCOMPARE(quick.value("status", ""), std::string("READY"));
    }

    void crashIsASystemErrorAndTheWorkerIsReplaced()
    {
        auto f = api->createFunction(QStringLiteral("crash"), QStringLiteral("python3"),
                                     QStringLiteral("python3/crash.py"), QStringLiteral("crash.handle"));
        QCOMPARE(f.value("status", ""), std::string("READY"));
        auto run = exec(QStringLiteral("crash"), Json::object());
        QCOMPARE(run.value("status", ""), std::string("ERROR"));
        QCOMPARE(run["error"]["type"].get<std::string>(), std::string("SystemError"));
        auto again = exec(QStringLiteral("crash"), {{"segv", true}});
        QCOMPARE(again["error"]["type"].get<std::string>(), std::string("SystemError"));
        // Other functions are unaffected.
        auto hello = exec(QStringLiteral("hello-world"), {{"name", "Jon"}, {"place", "Winterfell"}});
        QCOMPARE(hello.value("status", ""), std::string("READY"));
    }

    void invalidHandlers_data()
    {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<QString>("handler");
        QTest::addColumn<QString>("image");
        QTest::addColumn<QString>("reason");
        QTest::newRow("missing module") << "python3/hello.py" << "non_existent_file.handle" << "python3"
                                        << "non_existent_file";
        QTest::newRow("python syntax error") << "python3/syntax_error.py" << "syntax_error.handle" << "python3"
                                             << "syntax_error.py:3";
        QTest::newRow("one parameter") << "python3/one_arg.py" << "one_arg.handle" << "python3" << "exactly two";
        QTest::newRow("node syntax error") << "nodejs/syntax_error.js" << "syntax_error.js" << "nodejs"
                                           << "syntax_error.js:2";
        QTest::newRow("java class missing") << "java" << "io.dispatchframework.examples.Nope" << "java" << "Nope";
    }

    void invalidHandlers()
    {
        QFETCH(QString, fixture);
        QFETCH(QString, handler);
        QFETCH(QString, image);
        QFETCH(QString, reason);
        static int n = 0;
        auto f = api->createFunction(QStringLiteral("invalid-%1").arg(++n), image, fixture, handler);
        QCOMPARE(f.value("status", ""), std::string("ERROR"));
        QCOMPARE(f["reason"].size(), size_t(1));
        QVERIFY2(QString::fromStdString(f["reason"][0].get<std::string>()).contains(reason), f.dump().c_str());
        auto run = api->post(QStringLiteral("/v1/runs?functionName=invalid-%1").arg(n), runBody(Json::object()));
        QCOMPARE(run.status, 404);
        QCOMPARE(run.json().value("message", ""), QStringLiteral("function invalid-%1 is not READY").arg(n).toStdString());
    }

    void duplicateAndNames()
    {
        Json body = {{"name", "hello-world"}, {"image", "python3"}, {"handler", "hello.handle"},
                     {"source", DispatchClient::sourceOf({{"hello.py", kHelloPy}}).toStdString()}};
        auto dup = api->post(QStringLiteral("/v1/function"), body);
        QCOMPARE(dup.status, 409);
        QCOMPARE(dup.json().value("message", ""), std::string("function hello-world already exists"));
        body["name"] = "Bad Name";
        QCOMPARE(api->post(QStringLiteral("/v1/function"), body).status, 422);
    }

    void hostileArchives_data()
    {
        QTest::addColumn<QByteArray>("tgz");
        QTest::addColumn<QString>("message");
        QTest::newRow("parent traversal") << rawTar({{"../evil.py", "x"}}) << "..";
        QTest::newRow("absolute path") << rawTar({{"/etc/evil.py", "x"}}) << "absolute";
        QTest::newRow("symlink out of the tree") << rawTar({{"link", "", AE_IFLNK, "/etc/passwd"}}) << "link";
        std::string big = kHelloPy;
        for (int i = 0; i < 4000; ++i)
            big += "# filler line " + std::to_string(i * 7919 % 10007) + "\n";
        const QByteArray good = rawTar({{"./hello.py", big}});
        QTest::newRow("truncated") << good.left(good.size() / 2) << "truncated";
        QTest::newRow("not an archive") << QByteArray("plain text, not gzip") << "not a gzip";
    }

    void hostileArchives()
    {
        QFETCH(QByteArray, tgz);
        QFETCH(QString, message);
        auto r = api->post(QStringLiteral("/v1/function"), {{"name", "hostile"},
                                                             {"image", "python3"},
                                                             {"handler", "hello.handle"},
                                                             {"source", tgz.toBase64().toStdString()}});
        QCOMPARE(r.status, 400);
        QVERIFY2(QString::fromStdString(r.json().value("message", "")).contains(message, Qt::CaseInsensitive),
                 r.body.constData());
        QCOMPARE(api->get(QStringLiteral("/v1/function/hostile")).status, 404);
    }

    void cliStyleArchiveWithoutEndBlocks()
    {
        // The Dispatch CLI's tar ends without the two zero blocks; its gzip'd stream must still be accepted.
        QByteArray tar = rawTar({{"./hello.py", kHelloPy}}, false);
        while (tar.size() >= 512 && tar.right(512) == QByteArray(512, '\0'))
            tar.chop(512);
        auto r = api->post(QStringLiteral("/v1/function"), {{"name", "cli-style"},
                                                             {"image", "python3"},
                                                             {"handler", "hello.handle"},
                                                             {"source", gzipRaw(tar).toBase64().toStdString()}});
        QCOMPARE(r.status, 201);
        auto f = api->waitForStatus(QStringLiteral("/v1/function/cli-style"));
        QCOMPARE(f.value("status", ""), std::string("READY"));
    }

    void secrets()
    {
        auto s = api->post(QStringLiteral("/v1/secret"), {{"name", "open-sesame"}, {"secrets", {{"password", "OpenSesame"}}}});
        QCOMPARE(s.status, 201);
        QCOMPARE(api->post(QStringLiteral("/v1/secret"), {{"name", "open-sesame"}, {"secrets", Json::object()}}).status,
                 409);
        auto withSecret = api->createFunction(QStringLiteral("i-have-a-default-secret"), QStringLiteral("python3"),
                                              QStringLiteral("python3/secret.py"), QStringLiteral("secret.handle"),
                                              {{"secrets", {"open-sesame"}}});
        QCOMPARE(withSecret.value("status", ""), std::string("READY"));
        QCOMPARE(exec(QStringLiteral("i-have-a-default-secret"), Json::object())["output"]["message"].get<std::string>(),
                 std::string("The password is OpenSesame"));
        auto without = api->createFunction(QStringLiteral("i-have-a-secret"), QStringLiteral("python3"),
                                           QStringLiteral("python3/secret.py"), QStringLiteral("secret.handle"));
        QCOMPARE(exec(QStringLiteral("i-have-a-secret"), Json::object())["output"].dump(),
                 Json("I know nothing").dump());
        QCOMPARE(exec(QStringLiteral("i-have-a-secret"), Json::object(), {{"secrets", {"open-sesame"}}})["output"]["message"]
                     .get<std::string>(),
                 std::string("The password is OpenSesame"));
        auto missing = exec(QStringLiteral("i-have-a-secret"), Json::object(), {{"secrets", {"no-such-secret"}}});
        QCOMPARE(missing.value("status", ""), std::string("ERROR"));
        QCOMPARE(missing["error"]["type"].get<std::string>(), std::string("InputError"));
        // PUT answers 201 and replaces the values.
        auto upd = api->put(QStringLiteral("/v1/secret/open-sesame"),
                            {{"name", "open-sesame"}, {"secrets", {{"password", "OpenSesameStreet"}}}});
        QCOMPARE(upd.status, 201);
        QCOMPARE(api->get(QStringLiteral("/v1/secret/open-sesame")).json()["secrets"]["password"].get<std::string>(),
                 std::string("OpenSesameStreet"));
        // Encrypted at rest: the value is in no file of the data dir.
        api->post(QStringLiteral("/v1/secret"), {{"name", "canary"}, {"secrets", {{"k", "CanaryValue-4242"}}}});
        QVERIFY(QTest::qWaitFor([&] { return api->get(QStringLiteral("/v1/secret/canary")).status == 200; }));
        for (const QString &file : {QStringLiteral("/dispatch.db"), QStringLiteral("/dispatch.db-wal")}) {
            QFile f(server->dataDir() + file);
            if (f.open(QIODevice::ReadOnly))
                QVERIFY2(!f.readAll().contains("CanaryValue-4242"), qPrintable(file));
        }
        QVERIFY(!server->output().contains("CanaryValue-4242"));
        QFileInfo key(server->dataDir() + QStringLiteral("/secrets.key"));
        QCOMPARE(int(key.permissions() & (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther)),
                 0);
        auto del = api->del(QStringLiteral("/v1/secret/canary"));
        QCOMPARE(del.status, 204);
        QVERIFY(del.body.isEmpty());
    }

    void sandboxHidesTheServersFiles()
    {
        if (!server->output().contains("bubblewrap sandbox"))
            QSKIP("bubblewrap cannot create a sandbox on this host; the server runs functions unsandboxed");
        auto f = api->createFunction(QStringLiteral("probe"), QStringLiteral("python3"),
                                     QStringLiteral("python3/probe.py"), QStringLiteral("probe.handle"));
        QCOMPARE(f.value("status", ""), std::string("READY"));
        const std::string db = (server->dataDir() + QStringLiteral("/dispatch.db")).toStdString();
        const std::string key = (server->dataDir() + QStringLiteral("/secrets.key")).toStdString();
        // Another function's source (hello-world's revision directory).
        const std::string other = (server->dataDir() + QStringLiteral("/functions/dispatch/hello-world")).toStdString();
        auto run = exec(QStringLiteral("probe"), {{"read", {db, key, other + "/x", "/etc/hostname"}},
                                                  {"write", {"/usr/dispatch-probe", "/tmp/dispatch-probe", "probe-out.txt"}}});
        const auto out = run["output"];
        QVERIFY2(out.is_object(), run.dump().c_str());
        QCOMPARE(out.value(db, ""), std::string("FileNotFoundError"));
        QCOMPARE(out.value(key, ""), std::string("FileNotFoundError"));
        QCOMPARE(out.value(other + "/x", ""), std::string("FileNotFoundError"));
        QCOMPARE(out.value("/etc/hostname", ""), std::string("readable"));   // read-only system
        QVERIFY(out.value("/usr/dispatch-probe", "") != "writable");          // ... is not writable
        QCOMPARE(out.value("/tmp/dispatch-probe", ""), std::string("writable")); // private /tmp
        QCOMPARE(out.value("probe-out.txt", ""), std::string("writable"));       // its own directory
        QVERIFY(!QFile::exists(QStringLiteral("/tmp/dispatch-probe")));          // the host's /tmp is untouched
    }

    void orgIsolation()
    {
        DispatchClient other(server->apiBase(), QStringLiteral("other-org"));
        QCOMPARE(other.get(QStringLiteral("/v1/function")).json().size(), size_t(0));
        QCOMPARE(other.get(QStringLiteral("/v1/function/hello-world")).status, 404);
        QCOMPARE(other.get(QStringLiteral("/v1/secret")).json().size(), size_t(0));
        QCOMPARE(other.get(QStringLiteral("/v1/runs")).json().size(), size_t(0));
        auto anyRun = api->get(QStringLiteral("/v1/runs?functionName=hello-world&limit=1")).json();
        QCOMPARE(other.get(QStringLiteral("/v1/runs/") + QString::fromStdString(anyRun[0].value("name", ""))).status, 404);
        QCOMPARE(other.post(QStringLiteral("/v1/runs?functionName=hello-world"), runBody(Json::object())).status, 404);
        // The same names are free in another org.
        QVERIFY(other.seedImages());
        auto f = other.createFunction(QStringLiteral("hello-world"), QStringLiteral("python3"),
                                      QStringLiteral("python3/hello.py"), QStringLiteral("hello.handle"));
        QCOMPARE(f.value("status", ""), std::string("READY"));
    }

    void runPaging()
    {
        for (int i = 0; i < 25; ++i)
            exec(QStringLiteral("hello-node"), {{"name", std::to_string(i)}});
        auto all = api->get(QStringLiteral("/v1/runs?functionName=hello-node")).json();
        QVERIFY(all.size() >= 26);
        std::vector<std::string> paged;
        QString before;
        for (int page = 0; page < 10; ++page) {
            auto r = api->get(QStringLiteral("/v1/runs?functionName=hello-node&limit=10") +
                              (before.isEmpty() ? QString() : QStringLiteral("&before=") + before))
                         .json();
            for (const auto &run : r)
                paged.push_back(run.value("name", ""));
            if (r.size() < 10)
                break;
            before = QString::fromStdString(r.back().value("name", ""));
        }
        QCOMPARE(paged.size(), all.size());
        for (size_t i = 0; i < paged.size(); ++i)
            QCOMPARE(paged[i], all[i].value("name", ""));
    }

    // Extension: runRetention on a function keeps only its newest N runs (the server default otherwise); it
    // is replaced by a PUT like every other field.
    void perFunctionRunRetention()
    {
        Json fn = api->createFunction(QStringLiteral("keep-five"), QStringLiteral("python3"),
                                      QStringLiteral("python3/hello.py"), QStringLiteral("hello.handle"),
                                      Json{{"runRetention", 5}});
        QCOMPARE(fn.value("status", ""), std::string("READY"));
        QCOMPARE(api->get(QStringLiteral("/v1/function/keep-five")).json().value("runRetention", 0), 5);
        std::vector<std::string> ids;
        for (int i = 0; i < 12; ++i)
            ids.push_back(exec(QStringLiteral("keep-five"), {{"name", std::to_string(i)}}).value("name", ""));
        // Trimming runs on the store's writer after the runs are committed: wait for it, bounded.
        Json runs;
        QTRY_VERIFY_WITH_TIMEOUT((runs = api->get(QStringLiteral("/v1/runs?functionName=keep-five")).json()).size() == 5,
                                 60000);
        for (std::size_t i = 0; i < 5; ++i) // the newest five, newest first
            QCOMPARE(runs[i].value("name", ""), ids[ids.size() - 1 - i]);
        // An older run is gone for good.
        QCOMPARE(api->get(QStringLiteral("/v1/runs/") + QString::fromStdString(ids.front())).status, 404);
        // Functions without the field do not show it (a plain Dispatch client sees nothing new).
        QVERIFY(!api->get(QStringLiteral("/v1/function/hello-world")).json().contains("runRetention"));
    }

    void updateMakesANewRevision()
    {
        const auto before = api->get(QStringLiteral("/v1/function/hello-node")).json();
        Json body = {{"name", "hello-node"}, {"image", "nodejs"}, {"handler", "./hello.js"},
                     {"source", DispatchClient::sourceOf({{"hello.js", "module.exports = (ctx, p) => ({myField: "
                                                                       "'Goodbye, ' + (p.name || 'Noone')});\n"}})
                                    .toStdString()}};
        auto r = api->put(QStringLiteral("/v1/function/hello-node"), body);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value("status", ""), std::string("UPDATING"));
        QVERIFY(r.json().value("faasId", "") != before.value("faasId", ""));
        auto f = api->waitForStatus(QStringLiteral("/v1/function/hello-node"));
        QCOMPARE(f.value("status", ""), std::string("READY"));
        QCOMPARE(exec(QStringLiteral("hello-node"), Json::object())["output"]["myField"].get<std::string>(),
                 std::string("Goodbye, Noone"));
        auto revisions = api->get(QStringLiteral("/v1/function/hello-node/revisions")).json();
        QCOMPARE(revisions.size(), size_t(2));
        auto old = api->get(QStringLiteral("/v1/function/hello-node/source/") +
                            QString::fromStdString(before.value("faasId", "")))
                       .json();
        QVERIFY2(old["files"][0]["content"].get<std::string>().find("Hello") != std::string::npos, old.dump().c_str());
        QCOMPARE(api->put(QStringLiteral("/v1/function/hello-node"), {{"name", "hello-node"}, {"image", "nodejs"}, {"handler", ""}}).status,
                 400);
    }

    void restartKeepsEverything()
    {
        const auto runsBefore = api->get(QStringLiteral("/v1/runs")).json();
        const auto fnsBefore = api->get(QStringLiteral("/v1/function")).json();
        QVERIFY(server->stop());
        QVERIFY(server->start());
        api = std::make_unique<DispatchClient>(server->apiBase());
        QCOMPARE(api->get(QStringLiteral("/v1/runs")).json().size(), runsBefore.size());
        QCOMPARE(api->get(QStringLiteral("/v1/function")).json().size(), fnsBefore.size());
        QCOMPARE(api->get(QStringLiteral("/v1/secret/open-sesame")).json()["secrets"]["password"].get<std::string>(),
                 std::string("OpenSesameStreet"));
        auto f = api->waitForStatus(QStringLiteral("/v1/function/hello-world"));
        QCOMPARE(f.value("status", ""), std::string("READY"));
        auto run = exec(QStringLiteral("hello-world"), {{"name", "Jon"}, {"place", "Winterfell"}});
        QCOMPARE(run["output"]["myField"].get<std::string>(), std::string("Hello, Jon from Winterfell"));
    }

    void deleteFunctionDeletesRuns()
    {
        auto r = api->del(QStringLiteral("/v1/function/hello-node"));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value("status", ""), std::string("DELETING"));
        QCOMPARE(api->get(QStringLiteral("/v1/runs?functionName=hello-node")).json().size(), size_t(0));
        QCOMPARE(api->get(QStringLiteral("/v1/function/hello-node")).status, 404);
    }
};

QTEST_GUILESS_MAIN(TestServer_)
#include "tst_server.moc"
