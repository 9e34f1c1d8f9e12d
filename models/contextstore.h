// The console's contexts: the Dispatch CLI's ~/.dispatch/config.json (§7.1) read and written back without losing
// any key we do not know, plus the always-present "Local" context (the bundled server, not stored in the file).
// Our own settings per context (colour, CA file) live under "x-console", a key the CLI ignores.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QFileSystemWatcher>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "endpoint.h"

namespace dispatch::models {

struct Context
{
    QString name;
    QString host = QStringLiteral("localhost");
    int port = 443;
    QString scheme = QStringLiteral("https");
    QString organization = QStringLiteral("dispatch");
    QString cookie; // read and written back, never shown
    bool insecure = false;
    int apiHttpsPort = 0; // gateway ports, for showing API URLs (0 = the CLI's defaults 8444 / 8081)
    int apiHttpPort = 0;
    // Ours ("x-console" in the context):
    QString color;  // "#d33"; empty = none
    QString caFile; // extra CA certificate (PEM)
    bool isLocal = false; // the bundled server (never written to config.json)

    QUrl baseUrl() const;        // scheme://host:port
    QString displayUrl() const;  // "https://dispatch.example.com" (default ports left out)
    Endpoint endpoint() const;   // for RestClient
    friend bool operator==(const Context &, const Context &) = default;
};

class ContextStore : public QObject
{
    Q_OBJECT

public:
    static inline const QString kLocalName = QStringLiteral("Local");

    // `path` empty: $DISPATCH_CONFIG, else ~/.dispatch/config.json. Loads at once (a missing file is empty).
    explicit ContextStore(const QString &path = {}, QObject *parent = nullptr);
    ~ContextStore() override;

    static QString defaultPath();
    QString path() const { return m_path; }

    // Reads the file again and emits what changed (also done automatically when another program writes it).
    bool reload(QString *error = nullptr);
    QString lastError() const { return m_lastError; }

    QStringList names() const; // "Local" first, then the file's contexts by name
    bool contains(const QString &name) const;
    std::optional<Context> context(const QString &name) const;
    Context local() const { return m_local; }
    QList<Context> contexts() const; // in names() order

    // The bundled server's address once it runs (0 = not running).
    void setLocalPorts(quint16 apiPort, quint16 gatewayPort);

    // The console's current context (kept as "x-console": {"current"} at the top level; the CLI's own
    // "current" is left alone). Default: the CLI's current context, else Local.
    QString current() const { return m_current; }
    Context currentContext() const;
    bool setCurrent(const QString &name, QString *error = nullptr);
    QString cliCurrent() const; // the CLI's "current"

    // Adds or replaces a context (written at once). "Local" cannot be stored. A changed cookie is kept as given;
    // pass the one from context() to keep it.
    bool upsert(const Context &context, QString *error = nullptr);
    bool remove(const QString &name, QString *error = nullptr);
    bool rename(const QString &from, const QString &to, QString *error = nullptr);

    // The name the CLI gives a new context for a host: dots → dashes, lower case.
    static QString nameForHost(const QString &host);

signals:
    void contextAdded(const QString &name);
    void contextChanged(const QString &name);
    void contextRemoved(const QString &name);
    void currentChanged(const QString &name);
    void errorOccurred(const QString &message); // a read or write failed (the file is left as it was)

private:
    bool save(QString *error);
    void applyDocument(nlohmann::json doc, bool emitSignals);
    static Context fromJson(const QString &name, const nlohmann::json &j);
    static void toJson(const Context &c, nlohmann::json &j); // updates j in place, keeping unknown keys
    void watchFile();

    QString m_path;
    nlohmann::json m_doc = nlohmann::json::object(); // the whole file as read: unknown keys survive a write
    std::vector<Context> m_contexts;                 // the file's contexts, by name
    Context m_local;
    QString m_current;
    QString m_lastError;
    QByteArray m_lastWritten; // what we wrote last: our own write is not a change from outside
    bool m_unreadable = false; // the file exists but could not be parsed: never overwrite it
    QFileSystemWatcher m_watcher;
};

} // namespace dispatch::models
