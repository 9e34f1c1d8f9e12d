// Function sources as Dispatch wants them: a gzip'd tar whose entries are "./<path>", base64 in "source".
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

namespace dispatch::models {

struct SourceFile
{
    QString path;       // relative, "/" separated: "hello.py", "lib/util.py"
    QByteArray content;
    bool executable = false;
    friend bool operator==(const SourceFile &, const SourceFile &) = default;
};

// tar.gz bytes; nullopt (with `error`) when a path is absolute, escapes with "..", or libarchive fails.
std::optional<QByteArray> makeSourceArchive(const QList<SourceFile> &files, QString *error = nullptr);
// The same, base64: the value of a Function's "source".
std::optional<QByteArray> makeSourceBase64(const QList<SourceFile> &files, QString *error = nullptr);
// A file or a directory (recursively, hidden entries skipped) from disk; paths relative to it.
std::optional<QList<SourceFile>> readSourceFiles(const QString &fileOrDirectory, QString *error = nullptr);
// Reads a tar.gz (or base64 of one) back into files (e.g. to show what was uploaded); "./" is dropped.
std::optional<QList<SourceFile>> extractSourceArchive(const QByteArray &archive, QString *error = nullptr);

} // namespace dispatch::models
