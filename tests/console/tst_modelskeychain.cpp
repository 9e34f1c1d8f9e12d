// TokenStore against a real Secret Service: gnome-keyring in its own D-Bus session (CTest runs this test through
// tests/support/with-keyring.sh). One entry per context; save, read back, replace, remove.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QSignalSpy>
#include <QtTest>

#include "oidclogin.h"
#include "tokenstore.h"

using namespace dispatch::models;

class TestModelsKeychain : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QVERIFY2(qEnvironmentVariableIsSet("DBUS_SESSION_BUS_ADDRESS"),
                 "no D-Bus session: run through tests/support/with-keyring.sh (as CTest does)");
    }

    void roundTrip()
    {
        TokenStore store(QStringLiteral("dispatch-console-test"));
        auto wait = [](bool &flag) { QTRY_VERIFY_WITH_TIMEOUT(flag, 30000); };
        TokenSet t;
        t.accessToken = QStringLiteral("access");
        t.refreshToken = QStringLiteral("refresh-1");
        t.expiresAt = QDateTime::fromSecsSinceEpoch(2000000000, Qt::UTC);
        t.subject = QStringLiteral("alice@example.test");

        bool done = false;
        QString error = QStringLiteral("not called");
        store.save(QStringLiteral("prod"), t.toJson(), [&](QString e) { error = e; done = true; });
        wait(done);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        store.save(QStringLiteral("staging"), "cookie=abc", [&](QString e) { error = e; });

        done = false;
        std::optional<QByteArray> read;
        store.load(QStringLiteral("prod"), [&](std::optional<QByteArray> v, QString e) {
            read = v;
            error = e;
            done = true;
        });
        wait(done);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(read);
        auto back = TokenSet::fromJson(*read);
        QVERIFY(back);
        QCOMPARE(back->refreshToken, QStringLiteral("refresh-1"));
        QCOMPARE(back->subject, t.subject);

        // Replacing keeps one entry per context; the other context is untouched.
        t.refreshToken = QStringLiteral("refresh-2");
        done = false;
        store.save(QStringLiteral("prod"), t.toJson(), [&](QString e) { error = e; done = true; });
        wait(done);
        done = false;
        store.load(QStringLiteral("prod"), [&](std::optional<QByteArray> v, QString) { read = v; done = true; });
        wait(done);
        QCOMPARE(TokenSet::fromJson(*read)->refreshToken, QStringLiteral("refresh-2"));
        done = false;
        store.load(QStringLiteral("staging"), [&](std::optional<QByteArray> v, QString) { read = v; done = true; });
        wait(done);
        QCOMPARE(*read, QByteArray("cookie=abc"));

        // Log out: the entry is gone; reading it is "no entry", not an error.
        done = false;
        store.remove(QStringLiteral("prod"), [&](QString e) { error = e; done = true; });
        wait(done);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        done = false;
        store.load(QStringLiteral("prod"), [&](std::optional<QByteArray> v, QString e) {
            read = v;
            error = e;
            done = true;
        });
        wait(done);
        QVERIFY(!read);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        done = false;
        store.remove(QStringLiteral("staging"), [&](QString) { done = true; });
        wait(done);
    }
};

QTEST_GUILESS_MAIN(TestModelsKeychain)
#include "tst_modelskeychain.moc"
