// SPDX-License-Identifier: GPL-3.0-or-later
#include "sourcearchive.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>

#include <archive.h>
#include <archive_entry.h>

#include <memory>

namespace dispatch::models {

namespace {

constexpr qint64 kMaxTotalBytes = 256LL * 1024 * 1024; // a function source, not a disk image
constexpr int kMaxFiles = 20000;

struct ArchiveDeleter
{
    void operator()(archive *a) const { archive_write_free(a); }
};
struct ReadArchiveDeleter
{
    void operator()(archive *a) const { archive_read_free(a); }
};
struct EntryDeleter
{
    void operator()(archive_entry *e) const { archive_entry_free(e); }
};

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

// "a/b.py" is fine; "/etc/x", "../x", "a/../../x" and "" are not.
bool safeRelativePath(const QString &path)
{
    if (path.isEmpty() || path.startsWith(QLatin1Char('/')) || path.contains(QLatin1Char('\\')) ||
        path.contains(QChar(0)))
        return false;
    for (const QString &part : path.split(QLatin1Char('/'), Qt::SkipEmptyParts))
        if (part == QLatin1String(".."))
            return false;
    return true;
}

} // namespace

std::optional<QByteArray> makeSourceArchive(const QList<SourceFile> &files, QString *error)
{
    QByteArray out;
    std::unique_ptr<archive, ArchiveDeleter> a(archive_write_new());
    archive_write_add_filter_gzip(a.get());
    archive_write_set_format_pax_restricted(a.get());
    const auto writer = [](archive *, void *ctx, const void *buf, size_t n) -> la_ssize_t {
        static_cast<QByteArray *>(ctx)->append(static_cast<const char *>(buf), qsizetype(n));
        return la_ssize_t(n);
    };
    if (archive_write_open(a.get(), &out, nullptr, writer, nullptr) != ARCHIVE_OK) {
        fail(error, QStringLiteral("Cannot create the source archive: %1").arg(QString::fromUtf8(archive_error_string(a.get()))));
        return std::nullopt;
    }
    for (const auto &f : files) {
        QString path = f.path;
        while (path.startsWith(QStringLiteral("./")))
            path.remove(0, 2);
        if (!safeRelativePath(path)) {
            fail(error, QStringLiteral("\"%1\" is not a relative path inside the function source.").arg(f.path));
            return std::nullopt;
        }
        std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
        const QByteArray name = (QStringLiteral("./") + path).toUtf8();
        archive_entry_set_pathname_utf8(e.get(), name.constData());
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_perm(e.get(), f.executable ? 0755 : 0644);
        archive_entry_set_size(e.get(), la_int64_t(f.content.size()));
        if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK ||
            (f.content.size() > 0 &&
             archive_write_data(a.get(), f.content.constData(), size_t(f.content.size())) < 0)) {
            fail(error, QStringLiteral("Cannot add %1 to the source archive: %2")
                            .arg(path, QString::fromUtf8(archive_error_string(a.get()))));
            return std::nullopt;
        }
    }
    if (archive_write_close(a.get()) != ARCHIVE_OK) {
        fail(error, QStringLiteral("Cannot finish the source archive: %1").arg(QString::fromUtf8(archive_error_string(a.get()))));
        return std::nullopt;
    }
    return out;
}

std::optional<QByteArray> makeSourceBase64(const QList<SourceFile> &files, QString *error)
{
    auto archive = makeSourceArchive(files, error);
    if (!archive)
        return std::nullopt;
    return archive->toBase64();
}

std::optional<QList<SourceFile>> readSourceFiles(const QString &fileOrDirectory, QString *error)
{
    const QFileInfo root(fileOrDirectory);
    QList<SourceFile> files;
    qint64 total = 0;
    auto add = [&](const QFileInfo &info, const QString &relative) {
        QFile f(info.absoluteFilePath());
        if (!f.open(QIODevice::ReadOnly))
            return fail(error, QStringLiteral("Cannot read %1: %2").arg(info.absoluteFilePath(), f.errorString()));
        total += info.size();
        if (total > kMaxTotalBytes || files.size() >= kMaxFiles)
            return fail(error, QStringLiteral("%1 is too large for a function source (at most 256 MiB and %2 files).")
                                   .arg(fileOrDirectory)
                                   .arg(kMaxFiles));
        files.append({relative, f.readAll(), info.isExecutable()});
        return true;
    };
    if (root.isFile()) {
        if (!add(root, root.fileName()))
            return std::nullopt;
        return files;
    }
    if (!root.isDir()) {
        fail(error, QStringLiteral("%1 does not exist.").arg(fileOrDirectory));
        return std::nullopt;
    }
    const QDir base(root.absoluteFilePath());
    QDirIterator it(base.absolutePath(), QDir::Files | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    QStringList paths;
    while (it.hasNext()) {
        it.next();
        const QString relative = base.relativeFilePath(it.filePath());
        // Hidden files and folders (.git, .venv, editor droppings) are not part of a function.
        if (relative.startsWith(QLatin1Char('.')) || relative.contains(QStringLiteral("/.")))
            continue;
        paths << relative;
    }
    paths.sort(); // the same archive for the same tree
    for (const auto &relative : std::as_const(paths))
        if (!add(QFileInfo(base.absoluteFilePath(relative)), relative))
            return std::nullopt;
    return files;
}

std::optional<QList<SourceFile>> extractSourceArchive(const QByteArray &input, QString *error)
{
    QByteArray bytes = input;
    if (!bytes.startsWith("\x1f\x8b")) {
        auto decoded = QByteArray::fromBase64Encoding(bytes.trimmed());
        if (!decoded)
            bytes.clear();
        else
            bytes = *decoded;
    }
    std::unique_ptr<archive, ReadArchiveDeleter> a(archive_read_new());
    archive_read_support_filter_gzip(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open_memory(a.get(), bytes.constData(), size_t(bytes.size())) != ARCHIVE_OK) {
        fail(error, QStringLiteral("The source is not a tar.gz archive: %1").arg(QString::fromUtf8(archive_error_string(a.get()))));
        return std::nullopt;
    }
    QList<SourceFile> files;
    qint64 total = 0;
    archive_entry *e = nullptr;
    int rc = ARCHIVE_OK;
    while ((rc = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK) {
        if (archive_entry_filetype(e) != AE_IFREG)
            continue;
        const char *utf8 = archive_entry_pathname_utf8(e);
        QString path = QString::fromUtf8(utf8 ? utf8 : archive_entry_pathname(e));
        while (path.startsWith(QStringLiteral("./")))
            path.remove(0, 2);
        if (!safeRelativePath(path)) {
            fail(error, QStringLiteral("The archive holds an unsafe path: %1").arg(path));
            return std::nullopt;
        }
        SourceFile f{path, {}, (archive_entry_perm(e) & 0111) != 0};
        char buffer[64 * 1024];
        for (;;) {
            const la_ssize_t n = archive_read_data(a.get(), buffer, sizeof buffer);
            if (n < 0) {
                fail(error, QStringLiteral("Cannot read %1 from the archive: %2")
                                .arg(path, QString::fromUtf8(archive_error_string(a.get()))));
                return std::nullopt;
            }
            if (n == 0)
                break;
            total += n;
            if (total > kMaxTotalBytes) {
                fail(error, QStringLiteral("The archive unpacks to more than 256 MiB."));
                return std::nullopt;
            }
            f.content.append(buffer, qsizetype(n));
        }
        files.append(std::move(f));
    }
    // The Dispatch CLI writes archives without the end-of-archive blocks: a clean EOF or a truncation both end here.
    if (rc == ARCHIVE_FATAL && files.isEmpty()) {
        fail(error, QStringLiteral("The source is not a tar.gz archive: %1").arg(QString::fromUtf8(archive_error_string(a.get()))));
        return std::nullopt;
    }
    return files;
}

} // namespace dispatch::models
