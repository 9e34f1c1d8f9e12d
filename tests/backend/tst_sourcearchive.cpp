// engine/sourcearchive: the function source format of the Dispatch CLI (base64 of a gzip'd tar), and what an
// untrusted archive may not do. The archives are built here with libarchive's write API, evil ones included.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/sourcearchive.h"

#include <archive.h>
#include <archive_entry.h>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <QTemporaryDir>
#include <QtTest>
#include <random>
#include <sstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

using namespace dispatch;
using namespace dispatch::engine;
namespace fs = std::filesystem;

namespace {

la_ssize_t appendToString(struct archive *, void *clientData, const void *buffer, size_t length)
{
    static_cast<std::string *>(clientData)->append(static_cast<const char *>(buffer), length);
    return static_cast<la_ssize_t>(length);
}

// Writes a tar (gzip'd or plain) entry by entry, the way an attacker could.
class TarBuilder
{
public:
    explicit TarBuilder(bool gzip = true)
        : m_archive(archive_write_new(), &archive_write_free),
          m_entry(archive_entry_new(), &archive_entry_free)
    {
        struct archive *a = m_archive.get();
        archive_write_set_format_pax_restricted(a);
        if (gzip)
            archive_write_add_filter_gzip(a);
        else
            archive_write_add_filter_none(a);
        archive_write_set_bytes_in_last_block(a, 1);
        if (archive_write_open2(a, &m_out, nullptr, appendToString, nullptr, nullptr) != ARCHIVE_OK)
            qFatal("archive_write_open2: %s", archive_error_string(a));
    }

    TarBuilder &file(const std::string &name, std::string_view content, int perm = 0644)
    {
        start(name, AE_IFREG, perm);
        archive_entry_set_size(m_entry.get(), static_cast<la_int64_t>(content.size()));
        header();
        if (!content.empty() && archive_write_data(m_archive.get(), content.data(), content.size()) !=
                                    static_cast<la_ssize_t>(content.size()))
            qFatal("archive_write_data: %s", archive_error_string(m_archive.get()));
        return *this;
    }

    // A file of zeros, streamed: a bomb never exists in memory.
    TarBuilder &zeroFile(const std::string &name, uint64_t size)
    {
        static const std::string zeros(1 << 20, '\0');
        start(name, AE_IFREG, 0644);
        archive_entry_set_size(m_entry.get(), static_cast<la_int64_t>(size));
        header();
        for (uint64_t done = 0; done < size;) {
            const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(zeros.size(), size - done));
            if (archive_write_data(m_archive.get(), zeros.data(), n) != static_cast<la_ssize_t>(n))
                qFatal("archive_write_data: %s", archive_error_string(m_archive.get()));
            done += n;
        }
        return *this;
    }

    TarBuilder &dir(const std::string &name, int perm = 0755)
    {
        start(name, AE_IFDIR, perm);
        header();
        return *this;
    }

    TarBuilder &symlink(const std::string &name, const std::string &target)
    {
        start(name, AE_IFLNK, 0777);
        archive_entry_set_symlink(m_entry.get(), target.c_str());
        header();
        return *this;
    }

    TarBuilder &hardlink(const std::string &name, const std::string &target)
    {
        start(name, AE_IFREG, 0644);
        archive_entry_set_hardlink(m_entry.get(), target.c_str());
        header();
        return *this;
    }

    TarBuilder &special(const std::string &name, unsigned type)
    {
        start(name, type, 0644);
        if (type == AE_IFCHR || type == AE_IFBLK)
            archive_entry_set_rdev(m_entry.get(), makedev(1, 3));
        header();
        return *this;
    }

    QByteArray finish()
    {
        if (archive_write_close(m_archive.get()) != ARCHIVE_OK)
            qFatal("archive_write_close: %s", archive_error_string(m_archive.get()));
        return QByteArray::fromStdString(m_out);
    }

private:
    void start(const std::string &name, unsigned type, int perm)
    {
        archive_entry_clear(m_entry.get());
        archive_entry_copy_pathname(m_entry.get(), name.c_str());
        archive_entry_set_filetype(m_entry.get(), type);
        archive_entry_set_perm(m_entry.get(), static_cast<mode_t>(perm));
        archive_entry_set_mtime(m_entry.get(), 1700000000, 0);
    }
    void header()
    {
        if (archive_write_header(m_archive.get(), m_entry.get()) < ARCHIVE_WARN)
            qFatal("archive_write_header: %s", archive_error_string(m_archive.get()));
    }

    std::string m_out;
    std::unique_ptr<struct archive, decltype(&archive_write_free)> m_archive;
    std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> m_entry;
};

QByteArray gzipBytes(const QByteArray &raw)
{
    std::string out;
    std::unique_ptr<struct archive, decltype(&archive_write_free)> a(archive_write_new(),
                                                                     &archive_write_free);
    std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(),
                                                                           &archive_entry_free);
    archive_write_set_format_raw(a.get());
    archive_write_add_filter_gzip(a.get());
    archive_write_set_bytes_in_last_block(a.get(), 1);
    archive_write_open2(a.get(), &out, nullptr, appendToString, nullptr, nullptr);
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_write_header(a.get(), e.get());
    archive_write_data(a.get(), raw.constData(), static_cast<size_t>(raw.size()));
    if (archive_write_close(a.get()) != ARCHIVE_OK)
        qFatal("gzip: %s", archive_error_string(a.get()));
    return QByteArray::fromStdString(out);
}

// What the Dispatch CLI sends: the tar ends after its last entry, without the two zero blocks.
QByteArray stripEndOfArchive(QByteArray tar)
{
    const QByteArray zeroBlock(512, '\0');
    while (tar.size() >= 512 && tar.endsWith(zeroBlock))
        tar.chop(512);
    return tar;
}

std::string readFile(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void writeFile(const fs::path &path, std::string_view content, mode_t mode = 0644)
{
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary).write(content.data(), static_cast<std::streamsize>(content.size()));
    fs::permissions(path, static_cast<fs::perms>(mode));
}

mode_t modeOf(const fs::path &path)
{
    struct stat st
    {
    };
    if (::lstat(path.c_str(), &st) != 0)
        return 0;
    return st.st_mode & 07777;
}

std::string randomBytes(std::size_t size, unsigned seed)
{
    std::mt19937 gen(seed);
    std::string out(size, '\0');
    for (char &c : out)
        c = static_cast<char>(gen() & 0xFF);
    return out;
}

std::string_view view(const QByteArray &bytes)
{
    return {bytes.constData(), static_cast<std::size_t>(bytes.size())};
}

QByteArray qbytes(std::string_view s)
{
    return QByteArray(s.data(), static_cast<qsizetype>(s.size()));
}

constexpr std::string_view kHello = "def handle(ctx, payload):\n    return {'myField': 'Hello'}\n";
// More than one block, and not a multiple of 512: the last entry has padding.
constexpr std::string_view kHelper = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                     "end\n";
static_assert(kHelper.size() > 512 && kHelper.size() % 512 != 0);

// 300 MiB of zeros in a ~300 KiB archive; built once.
const QByteArray &zeroBomb()
{
    static const QByteArray bomb = TarBuilder().zeroFile("./zeros", 300ULL << 20).finish();
    return bomb;
}

ExtractLimits makeLimits(uint64_t total, uint64_t file, double ratio, uint64_t entries = 10000)
{
    ExtractLimits l;
    l.maxTotalBytes = total;
    l.maxFileBytes = file;
    l.maxCompressionRatio = ratio;
    l.maxEntries = entries;
    return l;
}

} // namespace

Q_DECLARE_METATYPE(dispatch::engine::ExtractLimits)

class TestSourceArchive : public QObject
{
    Q_OBJECT

private slots:
    void base64KnownVectors_data();
    void base64KnownVectors();
    void base64RoundTripsBinary();
    void base64ToleratesWhitespaceAndMissingPadding();
    void base64RefusesInvalid_data();
    void base64RefusesInvalid();

    void acceptsCliArchives_data();
    void acceptsCliArchives();
    void refusesEvilArchives_data();
    void refusesEvilArchives();
    void refusesBombs_data();
    void refusesBombs();
    void refusesTruncatedGzip_data();
    void refusesTruncatedGzip();
    void refusesNonArchives_data();
    void refusesNonArchives();

    void keepsOnlyTheExecutableBit();
    void keepsLinksInsideTheTree();
    void summaryIsSortedWithTotals();
    void extractsIntoAnEmptyExistingDirectory();
    void cleansUpAfterAWriteFailure_data();
    void cleansUpAfterAWriteFailure();
    void refusesNonEmptyDestination();
    void createTarGzRoundTrip();
    void listTarGzReadsWithoutDisk();

private:
    QTemporaryDir m_tmp;
    int m_counter = 0;
    fs::path freshDest()
    {
        return fs::path(m_tmp.path().toStdString()) / ("dest" + std::to_string(++m_counter));
    }
};

void TestSourceArchive::base64KnownVectors_data()
{
    QTest::addColumn<QByteArray>("plain");
    QTest::addColumn<QByteArray>("encoded");
    // RFC 4648 section 10.
    QTest::newRow("empty") << QByteArray() << QByteArray();
    QTest::newRow("f") << QByteArray("f") << QByteArray("Zg==");
    QTest::newRow("fo") << QByteArray("fo") << QByteArray("Zm8=");
    QTest::newRow("foo") << QByteArray("foo") << QByteArray("Zm9v");
    QTest::newRow("foob") << QByteArray("foob") << QByteArray("Zm9vYg==");
    QTest::newRow("fooba") << QByteArray("fooba") << QByteArray("Zm9vYmE=");
    QTest::newRow("foobar") << QByteArray("foobar") << QByteArray("Zm9vYmFy");
    QTest::newRow("high bits") << QByteArray("\xff\xfe\xfd", 3) << QByteArray("//79");
}

void TestSourceArchive::base64KnownVectors()
{
    QFETCH(QByteArray, plain);
    QFETCH(QByteArray, encoded);
    QCOMPARE(qbytes(encodeBase64(view(plain))), encoded);
    const Result<std::string> decoded = decodeBase64(view(encoded));
    QVERIFY(decoded.ok());
    QCOMPARE(qbytes(decoded.value()), plain);
}

void TestSourceArchive::base64RoundTripsBinary()
{
    for (std::size_t size : {0, 1, 2, 3, 255, 256, 257, 100000}) {
        const std::string bytes = randomBytes(size, static_cast<unsigned>(size));
        const std::string encoded = encodeBase64(bytes);
        QCOMPARE(qbytes(encoded), qbytes(bytes).toBase64());
        const Result<std::string> decoded = decodeBase64(encoded);
        QVERIFY(decoded.ok());
        QVERIFY(decoded.value() == bytes);
    }
}

void TestSourceArchive::base64ToleratesWhitespaceAndMissingPadding()
{
    const std::string bytes = randomBytes(1000, 7);
    // Wrapped at 76 columns with CRLF, like MIME, plus stray blanks.
    std::string wrapped;
    const std::string encoded = encodeBase64(bytes);
    for (std::size_t i = 0; i < encoded.size(); i += 76)
        wrapped += encoded.substr(i, 76) + "\r\n";
    wrapped = "  \t" + wrapped + " \n";
    Result<std::string> decoded = decodeBase64(wrapped);
    QVERIFY(decoded.ok());
    QVERIFY(decoded.value() == bytes);

    decoded = decodeBase64("Zm9vYg");
    QVERIFY(decoded.ok());
    QCOMPARE(qbytes(decoded.value()), QByteArray("foob"));
}

void TestSourceArchive::base64RefusesInvalid_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("foreign character") << QByteArray("Zm9v$mFy");
    QTest::newRow("url-safe alphabet") << QByteArray("-_-_");
    QTest::newRow("padding in the middle") << QByteArray("Zg==Zm8=");
    QTest::newRow("lone symbol") << QByteArray("Zm9vY");
    QTest::newRow("three pads") << QByteArray("Zg===");
    QTest::newRow("only padding") << QByteArray("====");
    QTest::newRow("padding after a whole group") << QByteArray("Zm9v=");
    QTest::newRow("NUL byte") << QByteArray("Zm9v\0Zm9v", 9);
}

void TestSourceArchive::base64RefusesInvalid()
{
    QFETCH(QByteArray, text);
    const Result<std::string> decoded = decodeBase64(view(text));
    QVERIFY(!decoded.ok());
    QCOMPARE(decoded.error().status, 400);
    QCOMPARE(QString::fromStdString(decoded.error().message), QStringLiteral("source is not valid base64"));
}

void TestSourceArchive::acceptsCliArchives_data()
{
    QTest::addColumn<QByteArray>("archive");
    QTest::addColumn<bool>("withHelper");

    QTest::newRow("single file, complete gzip tar")
        << TarBuilder().file("./hello.py", kHello).finish() << false;

    const QByteArray tar = TarBuilder(false)
                               .dir("./")
                               .file("./hello.py", kHello)
                               .dir("./lib/")
                               .file("./lib/helper.txt", kHelper)
                               .finish();
    const QByteArray withoutEnd = stripEndOfArchive(tar);
    QVERIFY(withoutEnd.size() < tar.size());
    QTest::newRow("complete gzip tar") << gzipBytes(tar) << true;
    QTest::newRow("no end-of-archive blocks (the Dispatch CLI)") << gzipBytes(withoutEnd) << true;
    // A writer that is never closed also leaves out the padding after the last entry's data.
    const int padding = static_cast<int>((512 - kHelper.size() % 512) % 512);
    QTest::newRow("no end blocks, no final padding") << gzipBytes(withoutEnd.chopped(padding)) << true;
    QTest::newRow("plain tar") << tar << true;
    QTest::newRow("plain tar without end blocks") << withoutEnd << true;
}

void TestSourceArchive::acceptsCliArchives()
{
    QFETCH(QByteArray, archive);
    QFETCH(bool, withHelper);

    // Through the wire format too, as the server receives it.
    const Result<std::string> decoded = decodeBase64(encodeBase64(view(archive)));
    QVERIFY(decoded.ok());

    const fs::path dest = freshDest();
    const Result<ExtractSummary> summary = extractSource(decoded.value(), dest, {});
    QVERIFY2(summary.ok(), summary.ok() ? "" : summary.error().message.c_str());
    std::vector<std::string> expected{"hello.py"};
    if (withHelper)
        expected.push_back("lib/helper.txt");
    QVERIFY(summary.value().files == expected);
    QCOMPARE(qbytes(readFile(dest / "hello.py")), qbytes(kHello));
    if (withHelper)
        QCOMPARE(qbytes(readFile(dest / "lib/helper.txt")), qbytes(kHelper));

    const auto listed = listTarGz(decoded.value(), {});
    QVERIFY2(listed.ok(), listed.ok() ? "" : listed.error().message.c_str());
    QCOMPARE(listed.value().size(), expected.size());
    QCOMPARE(qbytes(listed.value().front().first), QByteArray("hello.py"));
    QCOMPARE(qbytes(listed.value().front().second), qbytes(kHello));
}

void TestSourceArchive::refusesEvilArchives_data()
{
    QTest::addColumn<QByteArray>("archive");
    QTest::addColumn<QString>("message");

    QTest::newRow("absolute path") << TarBuilder().file("/etc/evil", "x").finish()
                                   << R"(entry "/etc/evil" has an absolute path)";
    QTest::newRow("parent directory")
        << TarBuilder().file("../x", "x").finish() << R"(entry "../x" has a '..' path component)";
    QTest::newRow("parent hidden in the middle")
        << TarBuilder().file("./ok", "x").file("a/../../x", "x").finish()
        << R"(entry "a/../../x" has a '..' path component)";
    QTest::newRow("symlink to /etc/passwd")
        << TarBuilder().symlink("./passwd", "/etc/passwd").finish()
        << R"(entry "./passwd" is a symbolic link to an absolute path (/etc/passwd))";
    QTest::newRow("symlink a -> ../..")
        << TarBuilder().symlink("a", "../..").finish()
        << R"(entry "a" is a symbolic link that leads out of the source tree (../..))";
    QTest::newRow("nested symlink climbing out")
        << TarBuilder().dir("./d").symlink("./d/l", "../../x").finish()
        << R"("./d/l" is a symbolic link that leads out of the source tree)";
    QTest::newRow("symlink chain leading out")
        << TarBuilder().dir("./a").symlink("./a/b", "..").symlink("./c", "a/b/..").finish()
        << R"("./c" is a symbolic link that leads out of the source tree through other links)";
    QTest::newRow("symlink chain leading out, link first")
        << TarBuilder().symlink("./c", "a/b/..").dir("./a").symlink("./a/b", "..").finish()
        << R"("./c" is a symbolic link that leads out of the source tree through other links)";
    QTest::newRow("symlink loop") << TarBuilder().symlink("./x", "y").symlink("./y", "x").finish()
                                  << "is a symbolic link that loops";
    QTest::newRow("writing through a symlink")
        << TarBuilder().dir("./sub").symlink("./d", "sub").file("./d/x", "x").finish()
        << R"(entry "./d/x" is inside "d", which is a symbolic link)";
    QTest::newRow("hardlink outside")
        << TarBuilder().hardlink("./h", "../../etc/passwd").finish()
        << R"(entry "./h" is a hard link whose target has a '..' path component)";
    QTest::newRow("hardlink to an absolute path")
        << TarBuilder().hardlink("./h", "/etc/passwd").finish()
        << R"(entry "./h" is a hard link whose target has an absolute path)";
    QTest::newRow("hardlink to nothing") << TarBuilder().hardlink("./h", "./missing").finish()
                                         << "which is not a regular file earlier in the archive";
    QTest::newRow("hardlink to a symlink") << TarBuilder().symlink("./s", "t").hardlink("./h", "./s").finish()
                                           << "which is not a regular file earlier in the archive";
    QTest::newRow("fifo") << TarBuilder().special("./pipe", AE_IFIFO).finish()
                          << R"(entry "./pipe" is a fifo)";
    QTest::newRow("character device")
        << TarBuilder().special("./null", AE_IFCHR).finish() << R"(entry "./null" is a character device)";
    QTest::newRow("block device") << TarBuilder().special("./sda", AE_IFBLK).finish()
                                  << R"(entry "./sda" is a block device)";
    QTest::newRow("duplicate file") << TarBuilder().file("./a", "1").file("a", "2").finish()
                                    << R"(entry "a" appears twice in the archive)";
    QTest::newRow("file below a file") << TarBuilder().file("./a", "1").file("./a/b", "2").finish()
                                       << R"(entry "./a/b" is inside "a", which is a file)";
    QTest::newRow("name not UTF-8") << TarBuilder().file("./caf\xe9.py", "x").finish()
                                    << R"(entry "./caf\xe9.py" has a name that is not valid UTF-8)";

    TarBuilder many;
    for (int i = 0; i < 10001; ++i)
        many.file("./f" + std::to_string(i), "");
    QTest::newRow("10001 entries") << many.finish() << "source archive has more than 10000 entries";
}

void TestSourceArchive::refusesEvilArchives()
{
    QFETCH(QByteArray, archive);
    QFETCH(QString, message);

    const fs::path dest = freshDest();
    const Result<ExtractSummary> summary = extractSource(view(archive), dest, {});
    QVERIFY(!summary.ok());
    QCOMPARE(summary.error().status, 400);
    QVERIFY2(QString::fromStdString(summary.error().message).contains(message),
             summary.error().message.c_str());
    QVERIFY2(!fs::exists(dest), "a refused extraction must leave nothing behind");
    QVERIFY(!fs::exists(fs::path(m_tmp.path().toStdString()) / "x"));

    const auto listed = listTarGz(view(archive), {});
    QVERIFY(!listed.ok());
    QCOMPARE(listed.error().status, 400);
    QVERIFY2(QString::fromStdString(listed.error().message).contains(message),
             listed.error().message.c_str());
}

void TestSourceArchive::refusesBombs_data()
{
    QTest::addColumn<ExtractLimits>("limits");
    QTest::addColumn<QString>("message");

    QTest::newRow("default limits: the file is too large")
        << ExtractLimits{} << R"(entry "./zeros" is larger than 128 MiB)";
    QTest::newRow("large files allowed: the compression ratio")
        << makeLimits(1ULL << 30, 1ULL << 30, 200)
        << "source archive expands more than 200 times its compressed size";
    QTest::newRow("ratio off: the total size")
        << makeLimits(256ULL << 20, 1ULL << 30, 0) << "source archive expands to more than 256 MiB";
}

void TestSourceArchive::refusesBombs()
{
    QFETCH(ExtractLimits, limits);
    QFETCH(QString, message);

    const QByteArray &bomb = zeroBomb();
    QVERIFY(bomb.size() < (2 << 20));
    const fs::path dest = freshDest();
    const Result<ExtractSummary> summary = extractSource(view(bomb), dest, limits);
    QVERIFY(!summary.ok());
    QCOMPARE(summary.error().status, 400);
    QVERIFY2(QString::fromStdString(summary.error().message).contains(message),
             summary.error().message.c_str());
    QVERIFY(!fs::exists(dest));
}

void TestSourceArchive::refusesTruncatedGzip_data()
{
    QTest::addColumn<QByteArray>("archive");
    // Incompressible content, so that any cut lands inside real data.
    const QByteArray full = TarBuilder()
                                .file("./a.bin", randomBytes(40000, 1))
                                .file("./b.bin", randomBytes(30000, 2))
                                .file("./c.txt", "tail")
                                .finish();
    QTest::newRow("last 100 bytes cut") << full.chopped(100);
    QTest::newRow("gzip trailer missing") << full.chopped(8);
    QTest::newRow("last byte cut") << full.chopped(1);
    QTest::newRow("cut in half") << full.left(full.size() / 2);
    // Without end blocks as well: the tolerance for a short tar must not hide a cut gzip stream.
    const QByteArray tar =
        TarBuilder(false).file("./a.bin", randomBytes(40000, 3)).file("./b.txt", kHelper).finish();
    const QByteArray shortTar = stripEndOfArchive(tar);
    const int padding = static_cast<int>((512 - kHelper.size() % 512) % 512);
    QTest::newRow("no end blocks, last 100 bytes cut") << gzipBytes(shortTar).chopped(100);
    QTest::newRow("no padding, gzip trailer missing") << gzipBytes(shortTar.chopped(padding)).chopped(8);
    QTest::newRow("no padding, last 4 bytes cut") << gzipBytes(shortTar.chopped(padding)).chopped(4);
    QTest::newRow("plain tar cut inside data") << tar.left(20000);
    QTest::newRow("plain tar cut inside a header") << tar.left(40960 + 100);
}

void TestSourceArchive::refusesTruncatedGzip()
{
    QFETCH(QByteArray, archive);
    const fs::path dest = freshDest();
    const Result<ExtractSummary> summary = extractSource(view(archive), dest, {});
    QVERIFY(!summary.ok());
    QCOMPARE(summary.error().status, 400);
    QVERIFY2(summary.error().message.starts_with("source archive is truncated or corrupt: "),
             summary.error().message.c_str());
    QVERIFY(!fs::exists(dest));

    const auto listed = listTarGz(view(archive), {});
    QVERIFY(!listed.ok());
    QVERIFY2(listed.error().message.starts_with("source archive is truncated or corrupt: "),
             listed.error().message.c_str());
}

void TestSourceArchive::refusesNonArchives_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("garbage") << QByteArray("this is not an archive, just some text that goes on for a while");
    QTest::newRow("gzip of text") << gzipBytes(QByteArray("print('hello')\n").repeated(10));
    QTest::newRow("random bytes") << qbytes(randomBytes(4096, 9));
    QTest::newRow("zip magic") << QByteArray("PK\x03\x04", 4) + QByteArray(600, '\0');
}

void TestSourceArchive::refusesNonArchives()
{
    QFETCH(QByteArray, data);
    const fs::path dest = freshDest();
    const Result<ExtractSummary> summary = extractSource(view(data), dest, {});
    QVERIFY(!summary.ok());
    QCOMPARE(summary.error().status, 400);
    QCOMPARE(QString::fromStdString(summary.error().message),
             QStringLiteral("source is not a gzip-compressed tar archive"));
    QVERIFY(!fs::exists(dest));
}

void TestSourceArchive::keepsOnlyTheExecutableBit()
{
    const QByteArray archive = TarBuilder()
                                   .dir("./private", 0700)
                                   .file("./private/run.sh", "#!/bin/sh\n", 04755)
                                   .file("./secret.txt", "s", 0600)
                                   .file("./tool", "t", 0700)
                                   .file("./sticky", "t", 01666)
                                   .file("./group-exec", "g", 02650)
                                   .finish();
    // The modes must not depend on the server's umask.
    const mode_t oldMask = ::umask(077);
    const fs::path dest = freshDest();
    const Result<ExtractSummary> summary = extractSource(view(archive), dest, {});
    ::umask(oldMask);
    QVERIFY2(summary.ok(), summary.ok() ? "" : summary.error().message.c_str());
    QCOMPARE(modeOf(dest / "private"), mode_t(0755));
    QCOMPARE(modeOf(dest / "private/run.sh"), mode_t(0755));
    QCOMPARE(modeOf(dest / "secret.txt"), mode_t(0644));
    QCOMPARE(modeOf(dest / "tool"), mode_t(0755));
    QCOMPARE(modeOf(dest / "sticky"), mode_t(0644));
    QCOMPARE(modeOf(dest / "group-exec"), mode_t(0755));
}

void TestSourceArchive::keepsLinksInsideTheTree()
{
    const QByteArray archive = TarBuilder()
                                   .file("./node_modules/pkg/bin/cli.js", "cli", 0755)
                                   .symlink("./node_modules/.bin/cli", "../pkg/bin/cli.js")
                                   .symlink("./self", ".")
                                   .file("./data.txt", "shared")
                                   .hardlink("./copy.txt", "./data.txt")
                                   .finish();
    const fs::path dest = freshDest();
    const Result<ExtractSummary> summary = extractSource(view(archive), dest, {});
    QVERIFY2(summary.ok(), summary.ok() ? "" : summary.error().message.c_str());
    QVERIFY(fs::is_symlink(dest / "node_modules/.bin/cli"));
    QCOMPARE(QString::fromStdString(fs::read_symlink(dest / "node_modules/.bin/cli").string()),
             QStringLiteral("../pkg/bin/cli.js"));
    QCOMPARE(qbytes(readFile(dest / "node_modules/.bin/cli")), QByteArray("cli"));
    QVERIFY(fs::is_symlink(dest / "self"));
    QVERIFY(fs::equivalent(dest / "copy.txt", dest / "data.txt"));
    QCOMPARE(qbytes(readFile(dest / "copy.txt")), QByteArray("shared"));
    QVERIFY((summary.value().files ==
             std::vector<std::string>{"copy.txt", "data.txt", "node_modules/pkg/bin/cli.js"}));
}

void TestSourceArchive::summaryIsSortedWithTotals()
{
    const QByteArray archive =
        TarBuilder().file("./z.txt", "12345").file("./a/b.txt", "123").file("./m.txt", "").finish();
    const Result<ExtractSummary> summary = extractSource(view(archive), freshDest(), {});
    QVERIFY(summary.ok());
    QVERIFY((summary.value().files == std::vector<std::string>{"a/b.txt", "m.txt", "z.txt"}));
    QCOMPARE(summary.value().totalBytes, uint64_t(8));
}

void TestSourceArchive::extractsIntoAnEmptyExistingDirectory()
{
    const fs::path dest = freshDest();
    fs::create_directories(dest);
    QVERIFY(extractSource(view(TarBuilder().file("./a", "1").finish()), dest, {}).ok());
    QCOMPARE(qbytes(readFile(dest / "a")), QByteArray("1"));

    // A refused archive does not touch it.
    const fs::path other = freshDest();
    fs::create_directories(other);
    const QByteArray evil = TarBuilder().file("./fine", "1").file("./dir/ok", "2").file("../x", "x").finish();
    QVERIFY(!extractSource(view(evil), other, {}).ok());
    QVERIFY(fs::is_directory(other));
    QVERIFY(fs::is_empty(other));
}

void TestSourceArchive::cleansUpAfterAWriteFailure_data()
{
    QTest::addColumn<bool>("destExists");
    QTest::newRow("new destination") << false;
    QTest::newRow("empty existing destination") << true;
}

void TestSourceArchive::cleansUpAfterAWriteFailure()
{
    QFETCH(bool, destExists);
    // A valid archive whose second file the disk refuses (a file size limit stands in for a full disk).
    const QByteArray archive = TarBuilder()
                                   .file("./first.txt", "written")
                                   .dir("./sub")
                                   .file("./sub/big.bin", randomBytes(std::size_t{256} << 10, 3))
                                   .finish();
    const fs::path dest = freshDest();
    if (destExists)
        fs::create_directories(dest);

    struct rlimit saved
    {
    };
    QCOMPARE(::getrlimit(RLIMIT_FSIZE, &saved), 0);
    struct rlimit small = saved;
    small.rlim_cur = rlim_t{64} << 10;
    const auto oldHandler = ::signal(SIGXFSZ, SIG_IGN);
    QCOMPARE(::setrlimit(RLIMIT_FSIZE, &small), 0);
    const Result<ExtractSummary> summary = extractSource(view(archive), dest, {});
    ::setrlimit(RLIMIT_FSIZE, &saved);
    ::signal(SIGXFSZ, oldHandler);

    QVERIFY(!summary.ok());
    QCOMPARE(summary.error().status, 500);
    QVERIFY2(summary.error().message.find("sub/big.bin") != std::string::npos,
             summary.error().message.c_str());
    if (destExists) {
        QVERIFY(fs::is_directory(dest));
        QVERIFY(fs::is_empty(dest));
    } else {
        QVERIFY(!fs::exists(dest));
    }
}

void TestSourceArchive::refusesNonEmptyDestination()
{
    const fs::path dest = freshDest();
    writeFile(dest / "existing", "keep me");
    const Result<ExtractSummary> summary =
        extractSource(view(TarBuilder().file("./a", "1").finish()), dest, {});
    QVERIFY(!summary.ok());
    QCOMPARE(summary.error().status, 500);
    QCOMPARE(qbytes(readFile(dest / "existing")), QByteArray("keep me"));
    QVERIFY(!fs::exists(dest / "a"));
}

void TestSourceArchive::createTarGzRoundTrip()
{
    const fs::path src = freshDest();
    const std::string binary = randomBytes(200000, 5);
    writeFile(src / "handler.py", kHello);
    writeFile(src / "run.sh", "#!/bin/sh\necho hi\n", 0755);
    writeFile(src / "empty", "");
    writeFile(src / "lib/deep/data.bin", binary);
    writeFile(src / "caf\xc3\xa9.txt", "utf-8 name");
    fs::create_directories(src / "emptydir");
    fs::create_symlink("handler.py", src / "link-is-skipped");

    const Result<std::string> tarGz = createTarGz(src);
    QVERIFY2(tarGz.ok(), tarGz.ok() ? "" : tarGz.error().message.c_str());
    QVERIFY(tarGz.value().starts_with("\x1f\x8b"));

    // Entries are named "./<path>", directories before their content.
    std::vector<std::string> names;
    {
        std::unique_ptr<struct archive, decltype(&archive_read_free)> a(archive_read_new(),
                                                                        &archive_read_free);
        archive_read_support_filter_gzip(a.get());
        archive_read_support_format_tar(a.get());
        QCOMPARE(archive_read_open_memory(a.get(), tarGz.value().data(), tarGz.value().size()), ARCHIVE_OK);
        struct archive_entry *e = nullptr;
        int r = ARCHIVE_OK;
        while ((r = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
            names.emplace_back(archive_entry_pathname(e));
        QCOMPARE(r, ARCHIVE_EOF);
    }
    const std::vector<std::string> expectedNames{"./caf\xc3\xa9.txt",   "./empty", "./emptydir/",
                                                 "./handler.py",        "./lib/",  "./lib/deep/",
                                                 "./lib/deep/data.bin", "./run.sh"};
    QVERIFY2(names == expectedNames, qPrintable(QString::fromStdString([&] {
                 std::string all;
                 for (const auto &n : names)
                     all += n + " ";
                 return all;
             }())));

    // The whole way a source travels: console -> base64 JSON -> server.
    const Result<std::string> decoded = decodeBase64(encodeBase64(tarGz.value()));
    QVERIFY(decoded.ok());
    const fs::path dest = freshDest();
    const Result<ExtractSummary> summary = extractSource(decoded.value(), dest, {});
    QVERIFY2(summary.ok(), summary.ok() ? "" : summary.error().message.c_str());
    QVERIFY((summary.value().files == std::vector<std::string>{"caf\xc3\xa9.txt", "empty", "handler.py",
                                                               "lib/deep/data.bin", "run.sh"}));
    QCOMPARE(summary.value().totalBytes, uint64_t(kHello.size() + 18 + binary.size() + 10));
    QCOMPARE(qbytes(readFile(dest / "handler.py")), qbytes(kHello));
    QVERIFY(readFile(dest / "lib/deep/data.bin") == binary);
    QCOMPARE(qbytes(readFile(dest / "caf\xc3\xa9.txt")), QByteArray("utf-8 name"));
    QCOMPARE(modeOf(dest / "run.sh"), mode_t(0755));
    QCOMPARE(modeOf(dest / "handler.py"), mode_t(0644));
    QVERIFY(fs::is_directory(dest / "emptydir"));
    QVERIFY(!fs::exists(dest / "link-is-skipped"));

    QVERIFY(!createTarGz(src / "handler.py").ok());
    QVERIFY(!createTarGz(src / "missing").ok());
}

void TestSourceArchive::listTarGzReadsWithoutDisk()
{
    const std::string binary = randomBytes(5000, 11);
    const QByteArray archive = TarBuilder()
                                   .dir("./")
                                   .file("./b.py", "bee")
                                   .dir("./pkg")
                                   .file("./pkg/a.bin", binary)
                                   .symlink("./pkg/link", "a.bin")
                                   .hardlink("./pkg/again.bin", "./pkg/a.bin")
                                   .file("./empty", "")
                                   .finish();
    const auto listed = listTarGz(view(archive), {});
    QVERIFY2(listed.ok(), listed.ok() ? "" : listed.error().message.c_str());
    const std::vector<std::pair<std::string, std::string>> expected{
        {"b.py", "bee"}, {"pkg/a.bin", binary}, {"pkg/again.bin", binary}, {"empty", ""}};
    QVERIFY(listed.value() == expected);

    // Hard links count as content: they cannot multiply one file past the total limit.
    TarBuilder copies;
    copies.file("./big", std::string(1000, 'b'));
    for (int i = 0; i < 20; ++i)
        copies.hardlink("./copy" + std::to_string(i), "./big");
    const auto refused = listTarGz(view(copies.finish()), makeLimits(10000, 10000, 200));
    QVERIFY(!refused.ok());
    QVERIFY2(refused.error().message.find("expands to more than 10000 bytes") != std::string::npos,
             refused.error().message.c_str());
}

QTEST_GUILESS_MAIN(TestSourceArchive)
#include "tst_sourcearchive.moc"
