// SPDX-License-Identifier: GPL-3.0-or-later
#include "contextstore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#include <algorithm>

#include "jsonvariant.h"

namespace dispatch::models {

using Json = nlohmann::json;

namespace {

constexpr const char *kOurKey = "x-console"; // the CLI's viper ignores keys it does not know

int intValue(const Json &j, const char *key, int fallback)
{
    auto it = j.find(key);
    if (it == j.end())
        return fallback;
    if (it->is_number_integer())
        return it->get<int>();
    if (it->is_string()) {
        bool ok = false;
        const int v = QString::fromStdString(it->get<std::string>()).toInt(&ok);
        return ok ? v : fallback;
    }
    return fallback;
}

bool boolValue(const Json &j, const char *key)
{
    auto it = j.find(key);
    if (it == j.end())
        return false;
    if (it->is_boolean())
        return it->get<bool>();
    if (it->is_string())
        return it->get<std::string>() == "true";
    return false;
}

} // namespace

QUrl Context::baseUrl() const
{
    QUrl u;
    u.setScheme(scheme.isEmpty() ? QStringLiteral("https") : scheme);
    u.setHost(host);
    if (port > 0)
        u.setPort(port);
    return u;
}

QString Context::displayUrl() const
{
    QUrl u = baseUrl();
    if ((u.scheme() == QLatin1String("https") && port == 443) || (u.scheme() == QLatin1String("http") && port == 80))
        u.setPort(-1);
    return u.toString();
}

Endpoint Context::endpoint() const
{
    Endpoint e;
    e.name = name;
    e.baseUrl = baseUrl();
    e.organization = organization.isEmpty() ? QStringLiteral("dispatch") : organization;
    e.cookie = cookie;
    e.insecure = insecure;
    e.caFile = caFile;
    return e;
}

ContextStore::ContextStore(const QString &path, QObject *parent)
    : QObject(parent), m_path(path.isEmpty() ? defaultPath() : path)
{
    m_local.name = kLocalName;
    m_local.host = QStringLiteral("127.0.0.1");
    m_local.port = 0;
    m_local.scheme = QStringLiteral("http");
    m_local.organization = QStringLiteral("dispatch");
    m_local.isLocal = true;
    connect(&m_watcher, &QFileSystemWatcher::fileChanged, this, [this] {
        QFile f(m_path);
        if (f.open(QIODevice::ReadOnly) && f.readAll() == m_lastWritten)
            return watchFile(); // our own write
        reload();
        watchFile();
    });
    connect(&m_watcher, &QFileSystemWatcher::directoryChanged, this, [this] {
        if (!m_watcher.files().contains(m_path) && QFileInfo::exists(m_path)) {
            reload();
            watchFile();
        }
    });
    reload();
    watchFile();
}

ContextStore::~ContextStore() = default;

QString ContextStore::defaultPath()
{
    const QString env = qEnvironmentVariable("DISPATCH_CONFIG");
    if (!env.isEmpty())
        return env;
    return QDir::homePath() + QStringLiteral("/.dispatch/config.json");
}

void ContextStore::watchFile()
{
    // An atomic replace (ours or the CLI's) makes the watcher forget the file: add it again.
    if (QFileInfo::exists(m_path) && !m_watcher.files().contains(m_path))
        m_watcher.addPath(m_path);
    const QString dir = QFileInfo(m_path).absolutePath();
    if (QFileInfo::exists(dir) && !m_watcher.directories().contains(dir))
        m_watcher.addPath(dir);
}

bool ContextStore::reload(QString *error)
{
    QFile f(m_path);
    Json doc = Json::object();
    m_unreadable = false;
    if (f.exists()) {
        if (!f.open(QIODevice::ReadOnly)) {
            m_lastError = QStringLiteral("Cannot read %1: %2").arg(m_path, f.errorString());
            m_unreadable = true;
            if (error)
                *error = m_lastError;
            emit errorOccurred(m_lastError);
            return false;
        }
        const QByteArray bytes = f.readAll();
        if (!bytes.trimmed().isEmpty()) {
            doc = Json::parse(bytes.constBegin(), bytes.constEnd(), nullptr, false);
            if (doc.is_discarded() || !doc.is_object()) {
                m_lastError = QStringLiteral("%1 is not a JSON object; it is left untouched until fixed.").arg(m_path);
                m_unreadable = true;
                if (error)
                    *error = m_lastError;
                emit errorOccurred(m_lastError);
                return false;
            }
        }
    }
    m_lastError.clear();
    applyDocument(std::move(doc), true);
    return true;
}

Context ContextStore::fromJson(const QString &name, const Json &j)
{
    Context c;
    c.name = name;
    if (!j.is_object())
        return c;
    const QString host = jsonString(j, "host");
    if (!host.isEmpty())
        c.host = host;
    c.port = intValue(j, "port", 443);
    const QString scheme = jsonString(j, "scheme");
    if (!scheme.isEmpty())
        c.scheme = scheme;
    c.organization = jsonString(j, "organization");
    c.cookie = jsonString(j, "cookie");
    c.insecure = boolValue(j, "insecure");
    c.apiHttpsPort = intValue(j, "api-https-port", 0);
    c.apiHttpPort = intValue(j, "api-http-port", 0);
    if (auto ours = j.find(kOurKey); ours != j.end() && ours->is_object()) {
        c.color = jsonString(*ours, "color");
        c.caFile = jsonString(*ours, "caFile");
    }
    return c;
}

void ContextStore::toJson(const Context &c, Json &j)
{
    if (!j.is_object())
        j = Json::object();
    j["host"] = c.host.toStdString();
    j["port"] = c.port;
    j["scheme"] = c.scheme.toStdString();
    j["organization"] = c.organization.toStdString();
    j["cookie"] = c.cookie.toStdString();
    j["insecure"] = c.insecure;
    j["api-https-port"] = c.apiHttpsPort;
    j["api-http-port"] = c.apiHttpPort;
    Json ours = j.contains(kOurKey) && j[kOurKey].is_object() ? j[kOurKey] : Json::object();
    auto setOrErase = [&](const char *key, const QString &value) {
        if (value.isEmpty())
            ours.erase(key);
        else
            ours[key] = value.toStdString();
    };
    setOrErase("color", c.color);
    setOrErase("caFile", c.caFile);
    if (ours.empty())
        j.erase(kOurKey);
    else
        j[kOurKey] = ours;
}

void ContextStore::applyDocument(Json doc, bool emitSignals)
{
    const std::vector<Context> before = m_contexts;
    const Context localBefore = m_local;
    const QString currentBefore = m_current;
    m_doc = std::move(doc);

    m_contexts.clear();
    if (auto it = m_doc.find("contexts"); it != m_doc.end() && it->is_object()) {
        for (auto c = it->begin(); c != it->end(); ++c) {
            const QString name = QString::fromStdString(c.key());
            // "Local" is the bundled server; a file context of that name is kept in the file but not shown.
            if (name.isEmpty() || name.compare(kLocalName, Qt::CaseInsensitive) == 0)
                continue;
            m_contexts.push_back(fromJson(name, c.value()));
        }
    }
    std::sort(m_contexts.begin(), m_contexts.end(),
              [](const Context &a, const Context &b) { return a.name.localeAwareCompare(b.name) < 0; });

    const Json ours = m_doc.contains(kOurKey) && m_doc[kOurKey].is_object() ? m_doc[kOurKey] : Json::object();
    m_local.color = jsonString(ours, "localColor");
    QString current = jsonString(ours, "current");
    if (!contains(current))
        current = cliCurrent();
    if (!contains(current))
        current = kLocalName;
    m_current = current;

    if (!emitSignals)
        return;
    auto find = [](const std::vector<Context> &list, const QString &name) -> const Context * {
        for (const auto &c : list)
            if (c.name == name)
                return &c;
        return nullptr;
    };
    for (const auto &c : before)
        if (!find(m_contexts, c.name))
            emit contextRemoved(c.name);
    for (const auto &c : m_contexts) {
        const Context *old = find(before, c.name);
        if (!old)
            emit contextAdded(c.name);
        else if (!(*old == c))
            emit contextChanged(c.name);
    }
    if (!(localBefore == m_local))
        emit contextChanged(kLocalName);
    if (currentBefore != m_current)
        emit currentChanged(m_current);
}

QStringList ContextStore::names() const
{
    QStringList out{kLocalName};
    for (const auto &c : m_contexts)
        out << c.name;
    return out;
}

bool ContextStore::contains(const QString &name) const
{
    if (name == kLocalName)
        return true;
    return std::any_of(m_contexts.begin(), m_contexts.end(), [&](const Context &c) { return c.name == name; });
}

std::optional<Context> ContextStore::context(const QString &name) const
{
    if (name == kLocalName)
        return m_local;
    for (const auto &c : m_contexts)
        if (c.name == name)
            return c;
    return std::nullopt;
}

QList<Context> ContextStore::contexts() const
{
    QList<Context> out{m_local};
    for (const auto &c : m_contexts)
        out << c;
    return out;
}

void ContextStore::setLocalPorts(quint16 apiPort, quint16 gatewayPort)
{
    if (m_local.port == apiPort && m_local.apiHttpPort == gatewayPort)
        return;
    m_local.port = apiPort;
    m_local.apiHttpPort = gatewayPort;
    emit contextChanged(kLocalName);
}

Context ContextStore::currentContext() const
{
    return context(m_current).value_or(m_local);
}

QString ContextStore::cliCurrent() const
{
    return jsonString(m_doc, "current");
}

bool ContextStore::setCurrent(const QString &name, QString *error)
{
    if (!contains(name)) {
        if (error)
            *error = QStringLiteral("There is no context named %1.").arg(name);
        return false;
    }
    if (name == m_current)
        return true;
    m_current = name;
    if (!m_doc.contains(kOurKey) || !m_doc[kOurKey].is_object())
        m_doc[kOurKey] = Json::object();
    m_doc[kOurKey]["current"] = name.toStdString();
    emit currentChanged(name);
    // The choice is remembered when the file can be written (errorOccurred says when not); switching works
    // either way.
    save(nullptr);
    return true;
}

bool ContextStore::upsert(const Context &context, QString *error)
{
    auto fail = [&](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    if (context.name == kLocalName) {
        // Only our own settings of the Local context can change; they live at the top level.
        if (!m_doc.contains(kOurKey) || !m_doc[kOurKey].is_object())
            m_doc[kOurKey] = Json::object();
        if (context.color.isEmpty())
            m_doc[kOurKey].erase("localColor");
        else
            m_doc[kOurKey]["localColor"] = context.color.toStdString();
        if (!save(error))
            return false;
        if (m_local.color != context.color) {
            m_local.color = context.color;
            emit contextChanged(kLocalName);
        }
        return true;
    }
    if (context.name.trimmed().isEmpty())
        return fail(QStringLiteral("A context needs a name."));
    if (context.name.compare(kLocalName, Qt::CaseInsensitive) == 0)
        return fail(QStringLiteral("\"%1\" is the bundled server's context; choose another name.").arg(kLocalName));
    if (context.host.trimmed().isEmpty())
        return fail(QStringLiteral("A context needs a host."));
    if (context.scheme != QLatin1String("http") && context.scheme != QLatin1String("https"))
        return fail(QStringLiteral("The scheme must be http or https."));
    if (context.port <= 0 || context.port > 65535)
        return fail(QStringLiteral("The port must be between 1 and 65535."));

    const Json before = m_doc;
    if (!m_doc.contains("contexts") || !m_doc["contexts"].is_object())
        m_doc["contexts"] = Json::object();
    Json &slot = m_doc["contexts"][context.name.toStdString()];
    toJson(context, slot);
    if (!save(error)) {
        m_doc = before;
        return false;
    }
    applyDocument(m_doc, true);
    return true;
}

bool ContextStore::remove(const QString &name, QString *error)
{
    if (name == kLocalName) {
        if (error)
            *error = QStringLiteral("The Local context cannot be removed.");
        return false;
    }
    if (!contains(name)) {
        if (error)
            *error = QStringLiteral("There is no context named %1.").arg(name);
        return false;
    }
    const Json before = m_doc;
    m_doc["contexts"].erase(name.toStdString());
    if (cliCurrent() == name)
        m_doc["current"] = "";
    if (m_doc.contains(kOurKey) && m_doc[kOurKey].is_object() && jsonString(m_doc[kOurKey], "current") == name)
        m_doc[kOurKey].erase("current");
    if (!save(error)) {
        m_doc = before;
        return false;
    }
    applyDocument(m_doc, true);
    return true;
}

bool ContextStore::rename(const QString &from, const QString &to, QString *error)
{
    auto c = context(from);
    if (!c || c->isLocal) {
        if (error)
            *error = QStringLiteral("There is no context named %1 to rename.").arg(from);
        return false;
    }
    if (contains(to) || to.compare(kLocalName, Qt::CaseInsensitive) == 0 || to.trimmed().isEmpty()) {
        if (error)
            *error = QStringLiteral("A context named %1 exists already.").arg(to);
        return false;
    }
    const Json before = m_doc;
    Json moved = m_doc["contexts"][from.toStdString()];
    m_doc["contexts"].erase(from.toStdString());
    m_doc["contexts"][to.toStdString()] = std::move(moved);
    if (cliCurrent() == from)
        m_doc["current"] = to.toStdString();
    const bool wasCurrent = m_current == from;
    if (wasCurrent)
        m_doc[kOurKey]["current"] = to.toStdString();
    if (!save(error)) {
        m_doc = before;
        return false;
    }
    applyDocument(m_doc, true);
    return true;
}

bool ContextStore::save(QString *error)
{
    if (m_unreadable) {
        const QString message = QStringLiteral("%1 could not be read, so it is not overwritten: %2").arg(m_path, m_lastError);
        if (error)
            *error = message;
        emit errorOccurred(message);
        return false;
    }
    const QFileInfo info(m_path);
    QDir().mkpath(info.absolutePath());
    const bool existed = info.exists();
    const QByteArray bytes = QByteArray::fromStdString(m_doc.dump(4, ' ', false, Json::error_handler_t::replace)) + '\n';
    QSaveFile f(m_path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size() || !f.commit()) {
        const QString message = QStringLiteral("Cannot write %1: %2").arg(m_path, f.errorString());
        m_lastError = message;
        if (error)
            *error = message;
        emit errorOccurred(message);
        return false;
    }
    if (!existed) // it holds cookies: only the user may read it
        QFile::setPermissions(m_path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    m_lastWritten = bytes;
    watchFile();
    return true;
}

QString ContextStore::nameForHost(const QString &host)
{
    QString name = host.toLower();
    name.replace(QLatin1Char('.'), QLatin1Char('-'));
    return name;
}

} // namespace dispatch::models
