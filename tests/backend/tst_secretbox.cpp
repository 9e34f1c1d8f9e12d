// store/secretbox: the key file's life (created 0600, reused, refused when others can read it) and sealed
// values (round trip, fresh nonces, tampering and wrong keys detected). SPDX-License-Identifier:
// GPL-3.0-or-later
#include "store/secretbox.h"

#include <filesystem>
#include <fstream>
#include <QTemporaryDir>
#include <QtTest>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

using namespace dispatch;
using namespace dispatch::store;
namespace fs = std::filesystem;

namespace {

const char *const kAuthFailed = "secret value failed authentication (wrong key file or corrupted data)";

mode_t modeOf(const fs::path &path)
{
    struct stat st
    {
    };
    if (::lstat(path.c_str(), &st) != 0)
        return 0;
    return st.st_mode & 07777;
}

std::string bytesOf(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

QByteArray blobOf(const std::string &sealed)
{
    return QByteArray::fromBase64(QByteArray::fromStdString(sealed.substr(3)));
}

std::string sealedFrom(const QByteArray &blob)
{
    return "v1:" + blob.toBase64().toStdString();
}

} // namespace

class TestSecretBox : public QObject
{
    Q_OBJECT

private slots:
    void init();

    void createsKeyFileWithMode0600();
    void reusesTheKeyFile();
    void refusesKeyFileReadableByOthers_data();
    void refusesKeyFileReadableByOthers();
    void refusesBrokenKeyFiles();
    void roundTrips_data();
    void roundTrips();
    void noncesDiffer();
    void detectsTampering_data();
    void detectsTampering();
    void refusesMalformedValues_data();
    void refusesMalformedValues();
    void detectsWrongKey();
    void survivesMoves();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    fs::path keyPath(const char *name = "secret.key") const
    {
        return fs::path(m_dir->path().toStdString()) / name;
    }
    SecretBox box()
    {
        Result<SecretBox> opened = SecretBox::openOrCreate(keyPath());
        if (!opened)
            qFatal("openOrCreate: %s", opened.error().message.c_str());
        return std::move(opened.value());
    }
};

void TestSecretBox::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestSecretBox::createsKeyFileWithMode0600()
{
    // A umask that would leave the owner without read access must not matter.
    const mode_t oldMask = ::umask(0277);
    Result<SecretBox> opened = SecretBox::openOrCreate(keyPath());
    ::umask(oldMask);
    QVERIFY2(opened.ok(), opened.ok() ? "" : opened.error().message.c_str());
    QCOMPARE(modeOf(keyPath()), mode_t(0600));
    QCOMPARE(fs::file_size(keyPath()), uintmax_t(SecretBox::kKeyBytes));
    // Nothing but the key file is left in the data directory.
    QCOMPARE(std::distance(fs::directory_iterator(keyPath().parent_path()), fs::directory_iterator()), 1);

    // With the usual umask too.
    const mode_t usual = ::umask(0);
    Result<SecretBox> other = SecretBox::openOrCreate(keyPath("other.key"));
    ::umask(usual);
    QVERIFY(other.ok());
    QCOMPARE(modeOf(keyPath("other.key")), mode_t(0600));
    QVERIFY(bytesOf(keyPath()) != bytesOf(keyPath("other.key")));
}

void TestSecretBox::reusesTheKeyFile()
{
    const std::string sealed = box().seal("hunter2");
    const std::string key = bytesOf(keyPath());
    Result<SecretBox> again = SecretBox::openOrCreate(keyPath());
    QVERIFY(again.ok());
    QCOMPARE(QByteArray::fromStdString(bytesOf(keyPath())), QByteArray::fromStdString(key));
    const Result<std::string> opened = again.value().open(sealed);
    QVERIFY2(opened.ok(), opened.ok() ? "" : opened.error().message.c_str());
    QCOMPARE(QString::fromStdString(opened.value()), QStringLiteral("hunter2"));
}

void TestSecretBox::refusesKeyFileReadableByOthers_data()
{
    QTest::addColumn<int>("mode");
    QTest::addColumn<QString>("message");
    QTest::newRow("0644") << 0644 << "is readable by other users (mode 0644); chmod 600 it";
    QTest::newRow("0640") << 0640 << "is readable by other users (mode 0640); chmod 600 it";
    QTest::newRow("0604") << 0604 << "is readable by other users (mode 0604); chmod 600 it";
    QTest::newRow("0620") << 0620 << "is accessible by other users (mode 0620); chmod 600 it";
}

void TestSecretBox::refusesKeyFileReadableByOthers()
{
    QFETCH(int, mode);
    QFETCH(QString, message);
    box();
    fs::permissions(keyPath(), static_cast<fs::perms>(mode));
    const Result<SecretBox> opened = SecretBox::openOrCreate(keyPath());
    QVERIFY(!opened.ok());
    QCOMPARE(QString::fromStdString(opened.error().message),
             QString::fromStdString("key file " + keyPath().string() + " ") + message);

    // chmod 600 as told, and it works again.
    fs::permissions(keyPath(), static_cast<fs::perms>(0600));
    QVERIFY(SecretBox::openOrCreate(keyPath()).ok());
}

void TestSecretBox::refusesBrokenKeyFiles()
{
    {
        std::ofstream(keyPath(), std::ios::binary) << "too short";
        fs::permissions(keyPath(), static_cast<fs::perms>(0600));
        const Result<SecretBox> opened = SecretBox::openOrCreate(keyPath());
        QVERIFY(!opened.ok());
        QVERIFY2(opened.error().message.find("is not a valid key (9 bytes, expected 32)") !=
                     std::string::npos,
                 opened.error().message.c_str());
        // Never replaced behind the administrator's back: the secrets sealed with it would be lost.
        QCOMPARE(QByteArray::fromStdString(bytesOf(keyPath())), QByteArray("too short"));
    }
    {
        QVERIFY(SecretBox::openOrCreate(keyPath("valid.key")).ok()); // a valid key file to point at
        fs::create_symlink(keyPath("valid.key"), keyPath("link.key"));
        const Result<SecretBox> opened = SecretBox::openOrCreate(keyPath("link.key"));
        QVERIFY(!opened.ok());
        QVERIFY2(opened.error().message.find("is a symbolic link") != std::string::npos,
                 opened.error().message.c_str());
    }
    {
        fs::create_directory(keyPath("dir.key"));
        fs::permissions(keyPath("dir.key"), static_cast<fs::perms>(0700));
        QVERIFY(!SecretBox::openOrCreate(keyPath("dir.key")).ok());
    }
    {
        const Result<SecretBox> opened = SecretBox::openOrCreate(keyPath("missing-dir/secret.key"));
        QVERIFY(!opened.ok());
        QCOMPARE(opened.error().status, 500);
    }
}

void TestSecretBox::roundTrips_data()
{
    QTest::addColumn<QByteArray>("plaintext");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("password") << QByteArray("correct horse battery staple");
    QTest::newRow("json") << QByteArray(R"({"username":"admin","password":"p@ss\"word"})");
    QTest::newRow("binary with NULs") << QByteArray("\0\x01\xff\0\xfe", 5);
    QTest::newRow("utf-8") << QByteArray("gr\xc3\xbc\xc3\x9f dich");
    QTest::newRow("1 MiB") << QByteArray(1 << 20, 'k');
}

void TestSecretBox::roundTrips()
{
    QFETCH(QByteArray, plaintext);
    const SecretBox secrets = box();
    const std::string sealed = secrets.seal(std::string_view(plaintext.constData(), plaintext.size()));
    QVERIFY(sealed.starts_with("v1:"));
    // nonce (12) | ciphertext (same length as the plaintext) | tag (16)
    QCOMPARE(blobOf(sealed).size(), plaintext.size() + 12 + 16);
    if (plaintext.size() >= 8)
        QVERIFY(!QByteArray::fromStdString(sealed).contains(plaintext.left(8)));
    const Result<std::string> opened = secrets.open(sealed);
    QVERIFY2(opened.ok(), opened.ok() ? "" : opened.error().message.c_str());
    QCOMPARE(QByteArray::fromStdString(opened.value()), plaintext);
}

void TestSecretBox::noncesDiffer()
{
    const SecretBox secrets = box();
    QSet<QByteArray> nonces;
    std::set<std::string> values;
    for (int i = 0; i < 100; ++i) {
        const std::string sealed = secrets.seal("same value");
        nonces.insert(blobOf(sealed).left(12));
        values.insert(sealed);
    }
    QCOMPARE(nonces.size(), 100);
    QCOMPARE(values.size(), std::size_t(100));
}

void TestSecretBox::detectsTampering_data()
{
    QTest::addColumn<int>("offset"); // into nonce|ciphertext|tag; negative counts from the end
    QTest::newRow("nonce, first byte") << 0;
    QTest::newRow("nonce, last byte") << 11;
    QTest::newRow("ciphertext, first byte") << 12;
    QTest::newRow("ciphertext, middle") << 20;
    QTest::newRow("tag, first byte") << -16;
    QTest::newRow("tag, last byte") << -1;
}

void TestSecretBox::detectsTampering()
{
    QFETCH(int, offset);
    const SecretBox secrets = box();
    QByteArray blob = blobOf(secrets.seal("the launch code is 0000"));
    const qsizetype at = offset >= 0 ? offset : blob.size() + offset;
    blob[at] = static_cast<char>(blob[at] ^ 0x01);
    const Result<std::string> opened = secrets.open(sealedFrom(blob));
    QVERIFY(!opened.ok());
    QCOMPARE(QString::fromStdString(opened.error().message), QString::fromLatin1(kAuthFailed));
}

void TestSecretBox::refusesMalformedValues_data()
{
    QTest::addColumn<QByteArray>("sealed");
    QTest::newRow("plaintext") << QByteArray("hunter2");
    QTest::newRow("unknown version") << QByteArray("v2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    QTest::newRow("not base64") << QByteArray("v1:!!!!");
    QTest::newRow("whitespace") << QByteArray("v1:AAAA AAAA");
    QTest::newRow("too short for nonce and tag") << QByteArray("v1:") + QByteArray(27, 'x').toBase64();
    QTest::newRow("empty") << QByteArray();
}

void TestSecretBox::refusesMalformedValues()
{
    QFETCH(QByteArray, sealed);
    const Result<std::string> opened = box().open(std::string_view(sealed.constData(), sealed.size()));
    QVERIFY(!opened.ok());
    QCOMPARE(opened.error().status, 500);
}

void TestSecretBox::detectsWrongKey()
{
    const SecretBox first = box();
    Result<SecretBox> second = SecretBox::openOrCreate(keyPath("second.key"));
    QVERIFY(second.ok());
    const std::string sealed = first.seal("only for the first key");
    const Result<std::string> opened = second.value().open(sealed);
    QVERIFY(!opened.ok());
    QCOMPARE(QString::fromStdString(opened.error().message), QString::fromLatin1(kAuthFailed));

    // Truncating the tag off is tampering too.
    QByteArray blob = blobOf(sealed);
    blob.chop(1);
    QCOMPARE(QString::fromStdString(first.open(sealedFrom(blob)).error().message),
             QString::fromLatin1(kAuthFailed));
}

void TestSecretBox::survivesMoves()
{
    SecretBox original = box();
    const std::string sealed = original.seal("moved");
    SecretBox moved(std::move(original));
    QCOMPARE(QString::fromStdString(moved.open(sealed).value()), QStringLiteral("moved"));
    SecretBox assigned = box();
    assigned = std::move(moved);
    QCOMPARE(QString::fromStdString(assigned.open(sealed).value()), QStringLiteral("moved"));
}

QTEST_GUILESS_MAIN(TestSecretBox)
#include "tst_secretbox.moc"
