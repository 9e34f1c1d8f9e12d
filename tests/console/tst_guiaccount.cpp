// The account widget of the status bar against a real OpenID provider (tests/oidc/idp.mjs), the real server with
// --auth oidc,serviceaccount and a real keychain (gnome-keyring in its own D-Bus session: CTest runs this through
// tests/support/with-keyring.sh): log in through the browser (played by the test), the session restored from the
// keychain, log out, the service-account dialog and login. Screenshots light and dark.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QApplication>
#include <QDialog>
#include <QDialogButtonBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QUrlQuery>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTcpServer>
#include <QTimer>
#include <QtTest>

#include "accountwidget.h"
#include "apiresult.h"
#include "permissions.h"
#include "resourcetablemodel.h"
#include "restclient.h"
#include "secretspanel.h"
#include "workspace.h"
#include "support/browserplayer.h"
#include "support/identityprovider.h"
#include "support/testserver.h"
#include "theme.h"
#include "tokenstore.h"

using namespace dispatch;
using namespace dispatch::test;
using views::AccountWidget;

namespace {

const QString kKeychain = QStringLiteral("dispatch-console-guitest");

QString snap(QWidget *widget, const QString &name)
{
    const QString theme =
        views::currentTheme() == views::Theme::Dark ? QStringLiteral("dark") : QStringLiteral("light");
    for (int i = 0; i < 3; ++i) // layout requests travel one parent per pass
        QCoreApplication::sendPostedEvents(nullptr, QEvent::LayoutRequest);
    QApplication::processEvents();
    const QString path = testOutputDir(QStringLiteral("screenshots")) + QLatin1Char('/') + name + QLatin1Char('-') +
                         theme + QStringLiteral(".png");
    widget->grab().save(path);
    return path;
}

int whoamiStatus(const QString &base, const QString &token)
{
    return httpRequest("GET", base + QStringLiteral("/v1/iam/whoami"), {},
                       {{"Authorization", "Bearer " + token.toUtf8()}, {"X-Dispatch-Org", "dispatch"}})
        .status;
}

std::optional<QByteArray> keychainEntry(const QString &context)
{
    models::TokenStore store(kKeychain);
    bool done = false;
    std::optional<QByteArray> out;
    store.load(context, [&](std::optional<QByteArray> v, QString) {
        out = v;
        done = true;
    });
    if (!QTest::qWaitFor([&] { return done; }, 30000))
        return std::nullopt;
    return out;
}

// A status-bar-like strip holding the widget, as in the main window.
struct Strip
{
    QStatusBar bar;
    AccountWidget *account = nullptr;
    Strip()
    {
        bar.setSizeGripEnabled(false);
        bar.addWidget(new QLabel(QStringLiteral("prod"), &bar));
        account = new AccountWidget(&bar);
        account->setKeychainService(kKeychain);
        bar.addPermanentWidget(account);
        bar.resize(640, bar.sizeHint().height() + 6);
        bar.show();
    }
};

} // namespace

class TestGuiAccount : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void browserLogin();
    void serviceAccount();
    void notNeededWithoutAuth();
    void forbiddenActionsAreDisabled();
    void cookieMovedToKeychain();
    void serverThatComesUpLater();

private:
    std::unique_ptr<IdentityProvider> m_idp;
    std::unique_ptr<TestServer> m_server;
};

void TestGuiAccount::initTestCase()
{
    QVERIFY2(qEnvironmentVariableIsSet("DBUS_SESSION_BUS_ADDRESS"),
             "no D-Bus session: run through tests/support/with-keyring.sh (as CTest does)");
    views::captureSystemPalette();
    m_idp = std::make_unique<IdentityProvider>();
    QString error;
    QVERIFY2(m_idp->start(&error), qPrintable(error));
    m_server = std::make_unique<TestServer>(
        QStringList{QStringLiteral("--auth"), QStringLiteral("oidc,serviceaccount"), QStringLiteral("--oidc-issuer"),
                    m_idp->issuer(), QStringLiteral("--oidc-audience"), QStringLiteral("dispatch-console"),
                    QStringLiteral("--bootstrap-admin"), QStringLiteral("alice@example.test")});
    QVERIFY2(m_server->start(&error), qPrintable(error));
}

void TestGuiAccount::browserLogin()
{
    for (auto theme : {views::Theme::Light, views::Theme::Dark}) {
        views::applyTheme(theme);
        Strip strip;
        AccountWidget *w = strip.account;
        QUrl opened;
        w->setBrowserOpener([&](const QUrl &url) { opened = url; });
        w->setContext(QStringLiteral("prod"), QUrl(m_server->apiBase()));
        QTRY_COMPARE_WITH_TIMEOUT(w->state(), AccountWidget::State::LoggedOut, 30000);
        QCOMPARE(w->button()->text(), QStringLiteral("Log in"));
        snap(&strip.bar, QStringLiteral("account-logged-out"));

        QTest::mouseClick(w->button(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(opened.isValid(), 30000);
        QCOMPARE(w->state(), AccountWidget::State::LoggingIn);
        QCOMPARE(w->statusText(), QStringLiteral("Waiting for the browser\u2026"));
        snap(&strip.bar, QStringLiteral("account-logging-in"));

        BrowserPlayer browser;
        int status = 0;
        const QUrl redirect(QUrlQuery(opened).queryItemValue(QStringLiteral("redirect_uri"), QUrl::FullyDecoded));
        const QByteArray page = browser.login(opened, redirect, &status);
        QVERIFY2(status == 200, page.constData());
        QVERIFY(page.contains("You can close this tab"));
        QTRY_COMPARE_WITH_TIMEOUT(w->state(), AccountWidget::State::LoggedIn, 30000);
        QCOMPARE(w->statusText(), QStringLiteral("Logged in as alice@example.test"));
        QCOMPARE(whoamiStatus(m_server->apiBase(), w->bearerToken()), 200);
        snap(&strip.bar, QStringLiteral("account-logged-in"));

        // The session is in the keychain (only there) and a new window picks it up without a browser.
        auto entry = keychainEntry(QStringLiteral("prod"));
        QVERIFY(entry);
        QVERIFY(entry->contains("refreshToken"));
        {
            Strip second;
            second.account->setBrowserOpener([](const QUrl &) { QFAIL("no browser for a stored session"); });
            second.account->setContext(QStringLiteral("prod"), QUrl(m_server->apiBase()));
            QTRY_COMPARE_WITH_TIMEOUT(second.account->state(), AccountWidget::State::LoggedIn, 30000);
            QCOMPARE(whoamiStatus(m_server->apiBase(), second.account->bearerToken()), 200);
        }

        // Log out clears the keychain entry.
        QSignalSpy bearer(w, &AccountWidget::bearerTokenChanged);
        w->logOut();
        QCOMPARE(w->state(), AccountWidget::State::LoggedOut);
        QVERIFY(w->bearerToken().isEmpty());
        QCOMPARE(bearer.size(), 1);
        QTRY_VERIFY_WITH_TIMEOUT(!keychainEntry(QStringLiteral("prod")), 30000);
    }
    views::applyTheme(views::Theme::Light);
}

void TestGuiAccount::serviceAccount()
{
    QTemporaryDir dir;
    const QString key = dir.filePath(QStringLiteral("ci.pem"));
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"), {QStringLiteral("genpkey"), QStringLiteral("-algorithm"),
                                              QStringLiteral("EC"), QStringLiteral("-pkeyopt"),
                                              QStringLiteral("ec_paramgen_curve:P-256"), QStringLiteral("-out"), key});
    QVERIFY(openssl.waitForFinished(60000));
    openssl.start(QStringLiteral("openssl"), {QStringLiteral("pkey"), QStringLiteral("-in"), key,
                                              QStringLiteral("-pubout")});
    QVERIFY(openssl.waitForFinished(60000));
    const QByteArray publicPem = openssl.readAllStandardOutput();
    const QByteArray admin = m_idp->sign(QStringLiteral("RS256"),
                                         Json{{"iss", m_idp->issuer().toStdString()},
                                              {"aud", "dispatch-console"},
                                              {"email", "alice@example.test"}});
    auto r = httpRequest("POST", m_server->apiBase() + QStringLiteral("/v1/iam/serviceaccount"),
                         QByteArray::fromStdString(
                             Json{{"name", "ci"}, {"publicKey", publicPem.toBase64().toStdString()}}.dump()),
                         {{"Authorization", "Bearer " + admin}, {"X-Dispatch-Org", "dispatch"},
                          {"Content-Type", "application/json"}});
    QVERIFY2(r.status == 201, r.body.constData());

    for (auto theme : {views::Theme::Light, views::Theme::Dark}) {
        views::applyTheme(theme);
        Strip strip;
        AccountWidget *w = strip.account;
        w->setContext(QStringLiteral("ci"), QUrl(m_server->apiBase()));
        QTRY_COMPARE_WITH_TIMEOUT(w->state(), AccountWidget::State::LoggedOut, 30000);
        // The dialog: a wrong key file says why and stays open; then a screenshot, then cancel.
        bool sawDialog = false;
        QTimer::singleShot(0, this, [&] {
            auto *dialog = qobject_cast<QDialog *>(QApplication::activeModalWidget());
            QVERIFY(dialog);
            const auto edits = dialog->findChildren<QLineEdit *>();
            QCOMPARE(edits.size(), 3);
            edits[1]->setText(QStringLiteral("ci"));
            edits[2]->setText(dir.filePath(QStringLiteral("missing.pem")));
            dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
            QVERIFY(dialog->isVisible());
            bool explained = false;
            for (auto *label : dialog->findChildren<QLabel *>())
                explained = explained || label->text().contains(QStringLiteral("Cannot read"));
            QVERIFY(explained);
            dialog->resize(480, dialog->sizeHint().height());
            snap(dialog, QStringLiteral("account-service-account-dialog"));
            sawDialog = true;
            dialog->reject();
        });
        w->chooseServiceAccount();
        QVERIFY(sawDialog);

        QString error;
        QVERIFY2(w->logInWithServiceAccount(QStringLiteral("dispatch"), QStringLiteral("ci"), key, &error),
                 qPrintable(error));
        QCOMPARE(w->state(), AccountWidget::State::LoggedIn);
        QCOMPARE(w->statusText(), QStringLiteral("Service account dispatch/ci"));
        QCOMPARE(whoamiStatus(m_server->apiBase(), w->bearerToken()), 200);
        snap(&strip.bar, QStringLiteral("account-service-account"));
    }
    views::applyTheme(views::Theme::Light);
}

void TestGuiAccount::notNeededWithoutAuth()
{
    TestServer plain;
    QString error;
    QVERIFY2(plain.start(&error), qPrintable(error));
    Strip strip;
    strip.account->setContext(QStringLiteral("Local"), QUrl(plain.apiBase()));
    QTRY_COMPARE_WITH_TIMEOUT(strip.account->state(), AccountWidget::State::NotNeeded, 30000);
    QVERIFY(!strip.account->button()->isVisible());
    QVERIFY(strip.account->bearerToken().isEmpty());
    QVERIFY(plain.stop());
}

void TestGuiAccount::forbiddenActionsAreDisabled()
{
    // bob may read secrets in "dispatch", nothing else.
    const auto sign = [&](const char *email) {
        return m_idp->sign(QStringLiteral("RS256"), Json{{"iss", m_idp->issuer().toStdString()},
                                                         {"aud", "dispatch-console"},
                                                         {"email", email}});
    };
    const QByteArray admin = sign("alice@example.test"), bob = sign("bob@example.test");
    auto r = httpRequest("POST", m_server->apiBase() + QStringLiteral("/v1/iam/policy"),
                         QByteArray::fromStdString(Json{{"name", "bob-reads-secrets"},
                                                        {"rules", Json::array({Json{{"subjects", {"bob@example.test"}},
                                                                                    {"resources", {"secret"}},
                                                                                    {"actions", {"get"}}}})}}
                                                       .dump()),
                         {{"Authorization", "Bearer " + admin}, {"X-Dispatch-Org", "dispatch"},
                          {"Content-Type", "application/json"}});
    QVERIFY2(r.status == 201, r.body.constData());

    for (auto theme : {views::Theme::Light, views::Theme::Dark}) {
        views::applyTheme(theme);
        views::Workspace workspace;
        models::Endpoint ep;
        ep.name = QStringLiteral("prod");
        ep.baseUrl = QUrl(m_server->apiBase());
        ep.bearerToken = QString::fromLatin1(bob);
        workspace.setEndpoint(ep);
        views::SecretsPanel panel(&workspace);
        panel.resize(720, 300);
        panel.show();
        QAction *create = panel.view()->createAction();
        QVERIFY(create->isEnabled()); // nothing known yet: nothing disabled
        bool done = false;
        models::Permissions permissions;
        workspace.client()->get(QStringLiteral("/v1/iam/whoami"), &panel, [&](const models::ApiResult &result) {
            permissions = models::Permissions::fromWhoami(result.body);
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, 30000);
        QVERIFY(permissions.known);
        QCOMPARE(permissions.subject, QStringLiteral("bob@example.test"));
        QCOMPARE(permissions.orgs, QStringList{QStringLiteral("dispatch")});
        panel.view()->setPermissions(permissions);
        QVERIFY(!create->isEnabled());
        QVERIFY2(create->toolTip().contains(QStringLiteral("bob@example.test may not create secret in organization "
                                                           "dispatch")),
                 qPrintable(create->toolTip()));
        // Reading is allowed: the list loads (empty) without an error.
        QTRY_VERIFY_WITH_TIMEOUT(panel.view()->model()->lastError().isEmpty(), 30000);
        snap(&panel, QStringLiteral("account-forbidden-create"));
        // Allowed again once the policy allows it.
        permissions.allowed[QStringLiteral("secret")].insert(QStringLiteral("create"));
        panel.view()->setPermissions(permissions);
        QVERIFY(create->isEnabled());
        QVERIFY(!create->toolTip().contains(QStringLiteral("may not")));
    }
    views::applyTheme(views::Theme::Light);
}

void TestGuiAccount::cookieMovedToKeychain()
{
    // A Dispatch-Solo-like server (auth none): the context's CLI cookie moves into the keychain and comes back
    // from there for the next window; logging out of a server with login would keep it.
    TestServer plain;
    QString error;
    QVERIFY2(plain.start(&error), qPrintable(error));
    {
        Strip strip;
        strip.account->setContext(QStringLiteral("solo"), QUrl(plain.apiBase()));
        QTRY_COMPARE_WITH_TIMEOUT(strip.account->state(), AccountWidget::State::NotNeeded, 30000);
        bool done = false;
        error = QStringLiteral("not called");
        strip.account->storeCookie(QStringLiteral("_oauth2_proxy=abc"), [&](QString e) {
            error = e;
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, 30000);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(strip.account->cookie(), QStringLiteral("_oauth2_proxy=abc"));
    }
    Strip again;
    QSignalSpy cookie(again.account, &AccountWidget::cookieChanged);
    again.account->setContext(QStringLiteral("solo"), QUrl(plain.apiBase()));
    QTRY_COMPARE_WITH_TIMEOUT(cookie.size(), 1, 30000);
    QCOMPARE(cookie.first().at(1).toString(), QStringLiteral("_oauth2_proxy=abc"));
    auto entry = keychainEntry(QStringLiteral("solo"));
    QVERIFY(entry && entry->contains("_oauth2_proxy=abc"));
    QVERIFY(plain.stop());
}

void TestGuiAccount::serverThatComesUpLater()
{
    // The context's server is down when the widget asks how to log in; once it is up (recheck(), as the main
    // window does when its client connects) the login button appears.
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
    const quint16 port = probe.serverPort();
    probe.close();
    Strip strip;
    strip.account->setContext(QStringLiteral("later"), QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)));
    QTRY_VERIFY_WITH_TIMEOUT(strip.account->statusText().isEmpty(), 30000); // "Checking sign-in…" is gone
    QCOMPARE(strip.account->state(), AccountWidget::State::Unknown);
    QVERIFY(!strip.account->button()->isVisible());
    TestServer server({QStringLiteral("--port"), QString::number(port), QStringLiteral("--auth"),
                       QStringLiteral("oidc"), QStringLiteral("--oidc-issuer"), m_idp->issuer(),
                       QStringLiteral("--oidc-audience"), QStringLiteral("dispatch-console")});
    QString error;
    QVERIFY2(server.start(&error), qPrintable(error));
    QCOMPARE(server.apiPort(), port);
    strip.account->recheck();
    QTRY_COMPARE_WITH_TIMEOUT(strip.account->state(), AccountWidget::State::LoggedOut, 30000);
    QVERIFY(strip.account->button()->isVisible());
    QVERIFY(server.stop());
}

QTEST_MAIN(TestGuiAccount)
#include "tst_guiaccount.moc"
