// The resource table models against the real dispatch-server, each under QAbstractItemModelTester (Fatal):
// real creates, updates and deletes arrive through the watch stream (or polling), are applied as row
// inserts / dataChanged / removes, and never as a reset.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include <functional>
#include <memory>

#include "models/apismodel.h"
#include "models/baseimagesmodel.h"
#include "models/driversmodel.h"
#include "models/drivertypesmodel.h"
#include "models/subscriptionsmodel.h"
#include "models/functionsmodel.h"
#include "models/imagesmodel.h"
#include "models/restclient.h"
#include "models/secretsmodel.h"
#include "models/watchclient.h"
#include "tst_modelssupport.h"

using namespace dispatch::test;
using namespace dispatch::models;

namespace {

// Counts the structural signals of a model, to prove that a refresh is a diff and not a reset.
struct ModelSignals
{
    explicit ModelSignals(QAbstractItemModel *m)
        : resets(m, &QAbstractItemModel::modelReset), inserts(m, &QAbstractItemModel::rowsInserted),
          removes(m, &QAbstractItemModel::rowsRemoved), changes(m, &QAbstractItemModel::dataChanged)
    {
    }
    QSignalSpy resets, inserts, removes, changes;
};

QString cell(const QAbstractItemModel &m, int row, int column, int role = Qt::DisplayRole)
{
    return m.data(m.index(row, column), role).toString();
}

} // namespace

class TestModels : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestServer> server;
    std::unique_ptr<DispatchClient> api;
    std::unique_ptr<RestClient> client;
    std::unique_ptr<WatchClient> watch;

private slots:
    void initTestCase()
    {
        server = std::make_unique<TestServer>();
        QString error;
        QVERIFY2(server->start(&error), qPrintable(error));
        api = std::make_unique<DispatchClient>(server->apiBase());
        QVERIFY2(seedPython(*api, &error), qPrintable(error));
        client = std::make_unique<RestClient>(endpointOf(*server));
        QTRY_VERIFY_WITH_TIMEOUT(client->isConnected(), kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(client->serverKind(), RestClient::ServerKind::Ours, kWaitMs);
        watch = std::make_unique<WatchClient>(client.get());
        watch->start();
        QTRY_VERIFY_WITH_TIMEOUT(watch->isStreaming(), kWaitMs);
    }

    void cleanupTestCase()
    {
        watch.reset();
        client.reset();
        if (server)
            QVERIFY(server->stop());
    }

    // Functions: live through the watch stream, the columns of ux.md, raw values for sorting.
    void functionsLive()
    {
        FunctionsModel model(client.get());
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setWatchClient(watch.get());
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        ModelSignals spy(&model);
        QCOMPARE(model.columnCount(), int(FunctionsModel::ColumnCount));
        QCOMPARE(model.headerData(FunctionsModel::RevisionColumn, Qt::Horizontal).toString(), QStringLiteral("Revision"));

        const auto created = api->post(QStringLiteral("/v1/function"),
                                       {{"name", "live-fn"},
                                        {"image", "python3"},
                                        {"handler", "hello.handle"},
                                        {"timeout", 2500},
                                        {"tags", {{{"key", "team"}, {"value", "ops"}}}},
                                        {"source", DispatchClient::fixtureSource("python3/hello.py").toStdString()}});
        QCOMPARE(created.status, 201);
        QTRY_VERIFY_WITH_TIMEOUT(model.rowOf(QStringLiteral("live-fn")) >= 0, kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(model.data(model.index(model.rowOf(QStringLiteral("live-fn")), 0), StatusRole).toString(),
                                  QStringLiteral("READY"), kWaitMs);
        int row = model.rowOf(QStringLiteral("live-fn"));
        QCOMPARE(cell(model, row, FunctionsModel::NameColumn), QStringLiteral("live-fn"));
        QCOMPARE(cell(model, row, FunctionsModel::ImageColumn), QStringLiteral("python3"));
        QCOMPARE(cell(model, row, FunctionsModel::HandlerColumn), QStringLiteral("hello.handle"));
        QCOMPARE(model.data(model.index(row, FunctionsModel::TimeoutColumn), RawRole).toLongLong(), 2500);
        QCOMPARE(cell(model, row, FunctionsModel::TimeoutColumn), QStringLiteral("2.5 s"));
        QCOMPARE(cell(model, row, FunctionsModel::TagsColumn), QStringLiteral("team=ops"));
        QVERIFY(model.data(model.index(row, FunctionsModel::CreatedColumn), RawRole).toDateTime().isValid());
        QCOMPARE(cell(model, row, 0, KeyRole), QStringLiteral("live-fn"));
        QCOMPARE(model.data(model.index(row, 0), JsonRole).toMap().value(QStringLiteral("name")).toString(),
                 QStringLiteral("live-fn"));
        const QString revision = model.data(model.index(row, FunctionsModel::RevisionColumn), RawRole).toString();
        QVERIFY(!revision.isEmpty());
        QCOMPARE(cell(model, row, FunctionsModel::RevisionColumn), revision.left(8));
        QPersistentModelIndex selected(model.index(row, FunctionsModel::NameColumn));

        // An update: a new revision arrives as dataChanged on the same row.
        auto doc = api->get(QStringLiteral("/v1/function/live-fn")).json();
        doc["source"] = DispatchClient::fixtureSource("python3/echo.py").toStdString();
        doc["handler"] = "echo.handle";
        QCOMPARE(api->put(QStringLiteral("/v1/function/live-fn"), doc).status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(cell(model, model.rowOf(QStringLiteral("live-fn")), FunctionsModel::HandlerColumn),
                                  QStringLiteral("echo.handle"), kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(cell(model, model.rowOf(QStringLiteral("live-fn")), 0, StatusRole),
                                  QStringLiteral("READY"), kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(model.data(model.index(model.rowOf(QStringLiteral("live-fn")),
                                                        FunctionsModel::RevisionColumn), RawRole).toString() != revision,
                                 kWaitMs);
        QVERIFY(selected.isValid());
        QCOMPARE(selected.data().toString(), QStringLiteral("live-fn"));

        // A refresh with nothing new changes nothing.
        const int changesBefore = int(spy.changes.count());
        QSignalSpy refreshed(&model, &ResourceTableModel::refreshed);
        const Json beforeRefresh = model.object(QStringLiteral("live-fn"));
        model.refresh();
        QVERIFY(refreshed.wait(kWaitMs));
        QVERIFY2(int(spy.changes.count()) == changesBefore,
                 (beforeRefresh.dump() + "\n" + model.object(QStringLiteral("live-fn")).dump()).c_str());

        // A delete removes the row.
        QCOMPARE(api->del(QStringLiteral("/v1/function/live-fn")).status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(model.rowOf(QStringLiteral("live-fn")), -1, kWaitMs);
        QVERIFY(!selected.isValid());
        QCOMPARE(spy.resets.count(), 0);
        QVERIFY(spy.inserts.count() >= 1);
        QVERIFY(spy.removes.count() >= 1);
    }

    // Secrets without a watch stream: polling picks the changes up; values never reach the model.
    void secretsPolling()
    {
        SecretsModel model(client.get());
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setPollIntervals(std::chrono::milliseconds(100), std::chrono::milliseconds(200));
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        ModelSignals spy(&model);

        QCOMPARE(api->post(QStringLiteral("/v1/secret"), {{"name", "db"}, {"secrets", {{"user", "u"}, {"password", "hunter2"}}}}).status,
                 201);
        QTRY_VERIFY_WITH_TIMEOUT(model.rowOf(QStringLiteral("db")) >= 0, kWaitMs);
        const int row = model.rowOf(QStringLiteral("db"));
        QCOMPARE(cell(model, row, SecretsModel::KeysColumn), QStringLiteral("password, user"));
        const QByteArray json = QByteArray::fromStdString(model.objectAt(row).dump());
        QVERIFY2(!json.contains("hunter2"), json.constData());
        QVERIFY(!model.data(model.index(row, 0), JsonRole).toMap().contains(QStringLiteral("secrets")));

        QCOMPARE(api->put(QStringLiteral("/v1/secret/db"), {{"name", "db"}, {"secrets", {{"token", "t"}}}}).status, 201);
        QTRY_COMPARE_WITH_TIMEOUT(cell(model, model.rowOf(QStringLiteral("db")), SecretsModel::KeysColumn),
                                  QStringLiteral("token"), kWaitMs);
        QCOMPARE(api->del(QStringLiteral("/v1/secret/db")).status, 204);
        QTRY_COMPARE_WITH_TIMEOUT(model.rowOf(QStringLiteral("db")), -1, kWaitMs);
        QCOMPARE(spy.resets.count(), 0);
    }

    // Every other resource kind: created, seen, deleted, live, under the tester.
    void eachKind_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("base images") << QStringLiteral("BaseImage");
        QTest::newRow("images") << QStringLiteral("Image");
        QTest::newRow("apis") << QStringLiteral("API");
        QTest::newRow("driver types") << QStringLiteral("DriverType");
        QTest::newRow("drivers") << QStringLiteral("Driver");
        QTest::newRow("subscriptions") << QStringLiteral("Subscription");
    }

    void eachKind()
    {
        QFETCH(QString, kind);
        if (kind == QLatin1String("API") || kind == QLatin1String("Subscription")) {
            auto f = api->get(QStringLiteral("/v1/function/kinds-fn"));
            if (f.status == 404)
                QCOMPARE(createHello(*api, QStringLiteral("kinds-fn")).value("status", ""), std::string("READY"));
        }
        if (kind == QLatin1String("Driver")) {
            auto t = api->post(QStringLiteral("/v1/event/drivertypes"), {{"name", "webhook"}, {"image", "webhook"}});
            QVERIFY(t.status == 201 || t.status == 409);
        }

        std::unique_ptr<ResourceTableModel> model;
        QString name;
        std::function<HttpResult()> create;
        if (kind == QLatin1String("BaseImage")) {
            model = std::make_unique<BaseImagesModel>(client.get());
            name = QStringLiteral("extra-base");
            create = [&] {
                return api->post(QStringLiteral("/v1/baseimage"), {{"name", "extra-base"},
                                                                  {"dockerUrl", "dispatchframework/python3-base:0.0.13"},
                                                                  {"language", "python3"}});
            };
        } else if (kind == QLatin1String("Image")) {
            model = std::make_unique<ImagesModel>(client.get());
            name = QStringLiteral("extra-image");
            create = [&] {
                return api->post(QStringLiteral("/v1/image"), {{"name", "extra-image"}, {"baseImageName", "python3-base"}});
            };
        } else if (kind == QLatin1String("API")) {
            model = std::make_unique<ApisModel>(client.get());
            name = QStringLiteral("extra-api");
            create = [&] {
                return api->post(QStringLiteral("/v1/api"), {{"name", "extra-api"},
                                                            {"function", "kinds-fn"},
                                                            {"methods", {"GET"}},
                                                            {"uris", {"/extra"}},
                                                            {"protocols", {"http"}},
                                                            {"enabled", true}});
            };
        } else if (kind == QLatin1String("DriverType")) {
            model = std::make_unique<DriverTypesModel>(client.get());
            name = QStringLiteral("extra-type");
            create = [&] {
                return api->post(QStringLiteral("/v1/event/drivertypes"), {{"name", "extra-type"}, {"image", "webhook"}});
            };
        } else if (kind == QLatin1String("Driver")) {
            model = std::make_unique<DriversModel>(client.get());
            name = QStringLiteral("extra-driver");
            create = [&] {
                return api->post(QStringLiteral("/v1/event/drivers"), {{"name", "extra-driver"}, {"type", "webhook"}});
            };
        } else {
            model = std::make_unique<SubscriptionsModel>(client.get());
            name = QStringLiteral("extra-sub");
            create = [&] {
                return api->post(QStringLiteral("/v1/event/subscriptions"),
                                 {{"name", "extra-sub"}, {"eventType", "extra.event"}, {"function", "kinds-fn"}});
            };
        }
        QAbstractItemModelTester tester(model.get(), QAbstractItemModelTester::FailureReportingMode::Fatal);
        model->setWatchClient(watch.get());
        QTRY_VERIFY_WITH_TIMEOUT(model->hasLoaded(), kWaitMs);
        ModelSignals spy(model.get());
        QCOMPARE(model->kind(), kind);

        const auto r = create();
        QVERIFY2(r.status == 200 || r.status == 201, r.body.constData());
        QTRY_VERIFY_WITH_TIMEOUT(model->rowOf(name) >= 0, kWaitMs);
        const int row = model->rowOf(name);
        QCOMPARE(cell(*model, row, 0), name);
        QCOMPARE(cell(*model, row, 0, KeyRole), name);
        for (int c = 0; c < model->columnCount(); ++c)
            QVERIFY(!model->headerData(c, Qt::Horizontal).toString().isEmpty());
        if (kind == QLatin1String("API") || kind == QLatin1String("Subscription"))
            QCOMPARE(cell(*model, row, 0, FunctionRole), QStringLiteral("kinds-fn"));

        const QString path = model->itemPath(name);
        const auto d = api->del(path);
        QVERIFY2(d.status == 200 || d.status == 204, d.body.constData());
        QTRY_COMPARE_WITH_TIMEOUT(model->rowOf(name), -1, kWaitMs);
        QCOMPARE(spy.resets.count(), 0);
    }

    // The same client pointed at another organisation: another data set, the one place for a reset.
    void organisationChangeResets()
    {
        RestClient own(endpointOf(*server));
        FunctionsModel model(&own);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        if (model.rowOf(QStringLiteral("kinds-fn")) < 0)
            QCOMPARE(createHello(*api, QStringLiteral("kinds-fn")).value("status", ""), std::string("READY"));
        model.refresh();
        QTRY_VERIFY_WITH_TIMEOUT(model.rowOf(QStringLiteral("kinds-fn")) >= 0, kWaitMs);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        Endpoint other = own.endpoint();
        other.organization = QStringLiteral("elsewhere");
        own.setEndpoint(other);
        QCOMPARE(resets.count(), 1);
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        QCOMPARE(model.rowCount(), 0);
    }

    // A function that ends in ERROR carries its reason (tooltip of the status column, ReasonRole).
    void errorReason()
    {
        FunctionsModel model(client.get());
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setWatchClient(watch.get());
        QTRY_VERIFY_WITH_TIMEOUT(model.hasLoaded(), kWaitMs);
        const auto r = api->post(QStringLiteral("/v1/function"),
                                 {{"name", "no-image"},
                                  {"image", "missing-image"},
                                  {"handler", "hello.handle"},
                                  {"source", DispatchClient::fixtureSource("python3/hello.py").toStdString()}});
        QCOMPARE(r.status, 201);
        QTRY_COMPARE_WITH_TIMEOUT(cell(model, model.rowOf(QStringLiteral("no-image")), 0, StatusRole),
                                  QStringLiteral("ERROR"), kWaitMs);
        const int row = model.rowOf(QStringLiteral("no-image"));
        QVERIFY(!cell(model, row, 0, ReasonRole).isEmpty());
        QCOMPARE(cell(model, row, FunctionsModel::StatusColumn, Qt::ToolTipRole), cell(model, row, 0, ReasonRole));
        QCOMPARE(model.data(model.index(row, 0), TransitionalRole).toBool(), false);
        api->del(QStringLiteral("/v1/function/no-image"));
        QTRY_COMPARE_WITH_TIMEOUT(model.rowOf(QStringLiteral("no-image")), -1, kWaitMs);
    }
};

QTEST_GUILESS_MAIN(TestModels)
#include "tst_models.moc"
