// Server side of the console's function editor: input/output JSON schema validation of runs (InputError /
// FunctionError as Dispatch), the saved test inputs extension (/v1/function/{name}/testinputs) and the revisions
// a run records.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QTest>

#include "support/testserver.h"
#include "wire/jsonschema.h"

using namespace dispatch::test;
using dispatch::wire::validateJsonSchema;

class TestFunctionTools : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestServer> server;
    std::unique_ptr<DispatchClient> api;

private slots:
    void initTestCase()
    {
        server = std::make_unique<TestServer>();
        QString error;
        QVERIFY2(server->start(&error), qPrintable(error));
        api = std::make_unique<DispatchClient>(server->apiBase());
        QVERIFY2(api->seedImages(&error), qPrintable(error));
    }

    void cleanupTestCase()
    {
        if (server)
            QVERIFY(server->stop());
    }

    void schemaKeywords()
    {
        const Json person = Json::parse(R"({"type":"object","required":["name"],
            "properties":{"name":{"type":"string","minLength":1,"maxLength":5,"pattern":"^[A-Z]"},
                          "age":{"type":"integer","minimum":0,"maximum":150},
                          "tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":2}},
            "additionalProperties":false})");
        QVERIFY(!validateJsonSchema(person, Json::parse(R"({"name":"Jon","age":30,"tags":["a"]})")));
        QCOMPARE(*validateJsonSchema(person, Json::parse(R"({"age":3})")), std::string("name: is required"));
        QCOMPARE(*validateJsonSchema(person, Json::parse(R"({"name":"jon"})")),
                 std::string("name: must match the pattern ^[A-Z]"));
        QCOMPARE(*validateJsonSchema(person, Json::parse(R"({"name":"Jonathan"})")),
                 std::string("name: must be at most 5 characters long"));
        QCOMPARE(*validateJsonSchema(person, Json::parse(R"({"name":"Jon","age":2.5})")),
                 std::string("age: must be of type integer"));
        QCOMPARE(*validateJsonSchema(person, Json::parse(R"({"name":"Jon","age":-1})")),
                 std::string("age: must be >= 0"));
        QCOMPARE(*validateJsonSchema(person, Json::parse(R"({"name":"Jon","tags":["c"]})")),
                 std::string("tags[0]: must be one of [\"a\",\"b\"]"));
        QCOMPARE(*validateJsonSchema(person, Json::parse(R"({"name":"Jon","x":1})")),
                 std::string("x: is not allowed (no additional properties)"));
        QCOMPARE(*validateJsonSchema(person, Json::parse(R"("Jon")")), std::string("input: must be of type object"));
        QVERIFY(!validateJsonSchema(Json(), Json::parse(R"({"anything":true})")));
        QVERIFY(!validateJsonSchema(Json::parse(R"({"type":["string","null"]})"), Json()));
        QVERIFY(validateJsonSchema(Json::parse(R"({"anyOf":[{"type":"string"},{"type":"number"}]})"), Json::array()));
        QVERIFY(!validateJsonSchema(Json::parse(R"({"minimum":1,"exclusiveMinimum":true})"), 2));
        QVERIFY(validateJsonSchema(Json::parse(R"({"minimum":1,"exclusiveMinimum":true})"), 1));
        const Json badPattern{{"pattern", std::string(1, '(')}};
        QVERIFY(validateJsonSchema(badPattern, "x")->find("not a valid regex") != std::string::npos);
    }

    void runsAreValidatedAgainstTheSchema()
    {
        const Json in = Json::parse(R"({"type":"object","required":["name"]})");
        const Json fn = api->createFunction(QStringLiteral("schema-hello"), QStringLiteral("python3"),
                                            QStringLiteral("python3/hello.py"), QStringLiteral("hello.handle"),
                                            Json{{"schema", {{"in", in}}}});
        QCOMPARE(fn.value("status", ""), std::string("READY"));
        QVERIFY(fn["schema"]["in"] == in);
        auto r = api->post(QStringLiteral("/v1/runs?functionName=schema-hello"),
                           {{"blocking", true}, {"input", {{"place", "Winterfell"}}}});
        QCOMPARE(r.status, 200);
        Json run = r.json();
        QCOMPARE(run.value("status", ""), std::string("ERROR"));
        QCOMPARE(run["error"].value("type", ""), std::string("InputError"));
        QCOMPARE(run["error"].value("message", ""), std::string("Input invalid against schema: name: is required"));
        r = api->post(QStringLiteral("/v1/runs?functionName=schema-hello"),
                      {{"blocking", true}, {"input", {{"name", "Jon"}, {"place", "Winterfell"}}}});
        QCOMPARE(r.json().value("status", ""), std::string("READY"));

        // The output schema fails a run whose output does not match it (FunctionError).
        const Json out = Json::parse(R"({"type":"object","required":["answer"]})");
        Json update = api->get(QStringLiteral("/v1/function/schema-hello")).json();
        update["schema"] = {{"out", out}};
        update["source"] = DispatchClient::fixtureSource(QStringLiteral("python3/hello.py")).toStdString();
        for (const char *k : {"status", "reason", "id", "createdTime", "modifiedTime", "faasId", "kind", "revision"})
            update.erase(k);
        QCOMPARE(api->put(QStringLiteral("/v1/function/schema-hello"), update).status, 200);
        QCOMPARE(api->waitForStatus(QStringLiteral("/v1/function/schema-hello"), {QStringLiteral("READY")})
                     .value("status", ""),
                 std::string("READY"));
        r = api->post(QStringLiteral("/v1/runs?functionName=schema-hello"), {{"blocking", true}, {"input", Json::object()}});
        run = r.json();
        QCOMPARE(run["error"].value("type", ""), std::string("FunctionError"));
        QCOMPARE(run["error"].value("message", ""),
                 std::string("Output invalid against schema: answer: is required"));
    }

    void testInputsAreKeptPerFunction()
    {
        const QString path = QStringLiteral("/v1/function/schema-hello/testinputs");
        QVERIFY(api->get(path).json() == Json::array());
        const Json inputs = Json::array({{{"name", "jon"}, {"input", {{"name", "Jon"}}}}, {{"name", "empty"}}});
        auto r = api->put(path, inputs);
        QCOMPARE(r.status, 200);
        const Json stored = api->get(path).json();
        QCOMPARE(stored.size(), std::size_t(2));
        QCOMPARE(stored[0]["input"].value("name", ""), std::string("Jon"));
        QVERIFY(stored[1]["input"].is_null());
        // Other orgs do not see them; bad documents and unknown functions are refused.
        DispatchClient other(server->apiBase(), QStringLiteral("other-org"));
        QCOMPARE(other.get(path).status, 404);
        QCOMPARE(api->put(path, Json::array({{{"input", 1}}})).status, 400);
        QCOMPARE(api->put(path, Json::array({{{"name", std::string(129, 'x')}}})).status, 400);
        QCOMPARE(api->put(path, Json::object()).status, 400);
        QCOMPARE(api->get(QStringLiteral("/v1/function/missing/testinputs")).status, 404);
        QCOMPARE(api->del(path).status, 405);
        // They survive a restart and go with the function.
        QVERIFY(server->restart());
        api = std::make_unique<DispatchClient>(server->apiBase());
        QCOMPARE(api->get(path).json().size(), std::size_t(2));
        QCOMPARE(api->del(QStringLiteral("/v1/function/schema-hello")).status, 200);
        const Json fn = api->createFunction(QStringLiteral("schema-hello"), QStringLiteral("python3"),
                                            QStringLiteral("python3/hello.py"), QStringLiteral("hello.handle"));
        QCOMPARE(fn.value("status", ""), std::string("READY"));
        QVERIFY(api->get(path).json() == Json::array());
    }
};

QTEST_GUILESS_MAIN(TestFunctionTools)
#include "tst_functiontools.moc"
