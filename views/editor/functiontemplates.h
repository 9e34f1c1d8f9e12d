// Starting points for new functions (per runtime) and the handler rules of each runtime: the default handler the
// server derives from the files, and which file and symbol a handler string points to.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

namespace dispatch::views {

struct FunctionTemplate
{
    QString id;          // "hello", "http-echo", "event", "secrets"
    QString title;       // "Hello world"
    QString description; // one sentence
    QMap<QString, QString> files; // path → content
    QString sampleInput;          // JSON text for the test pane
};

// The runtime of an image's language ("python3", "nodejs", "java", "powershell"), "" when unknown.
QString runtimeForLanguage(const QString &language);
QList<FunctionTemplate> templatesFor(const QString &runtime);

// The handler the server derives when none is given (backend/engine/runtimes.cpp defaultHandler), or "" when the
// files do not decide it (none or several candidates).
QString defaultHandlerFor(const QString &runtime, const QMap<QString, QString> &files);

struct HandlerTarget
{
    QString file;   // the source file the handler lives in ("" when not found among `files`)
    QString symbol; // function/class/method name ("" when the file itself is the handler, as in nodejs)
};
HandlerTarget handlerTarget(const QString &runtime, const QString &handler, const QStringList &files);

} // namespace dispatch::views
