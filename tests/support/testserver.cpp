// SPDX-License-Identifier: GPL-3.0-or-later
#include "support/testserver.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <signal.h>

#include <archive.h>
#include <archive_entry.h>

namespace dispatch::test {

TestServer::TestServer(QStringList extraArgs, QString dataDir) : m_extraArgs(std::move(extraArgs))
{
    if (dataDir.isEmpty()) {
        m_tmp = std::make_unique<QTemporaryDir>();
        m_dataDir = m_tmp->path() + QStringLiteral("/data");
    } else {
        m_dataDir = dataDir;
    }
}

TestServer::~TestServer()
{
    if (m_process && m_process->state() != QProcess::NotRunning)
        stop();
}

bool TestServer::start(QString *error)
{
    const QString ready = m_dataDir + QStringLiteral(".ready.json");
    QFile::remove(ready);
    QDir().mkpath(m_dataDir);
    m_process = std::make_unique<QProcess>();
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    QObject::connect(m_process.get(), &QProcess::readyRead, m_process.get(),
                     [this] { m_output += m_process->readAll(); });
    QStringList args = {QStringLiteral("--data-dir"), m_dataDir, QStringLiteral("--port"), QStringLiteral("0"),
                        QStringLiteral("--gateway-port"), QStringLiteral("0"), QStringLiteral("--ready-file"), ready};
    args += m_extraArgs;
    m_process->start(QStringLiteral(DISPATCH_SERVER_EXE), args);
    if (!m_process->waitForStarted(10000)) {
        if (error)
            *error = QStringLiteral("dispatch-server did not start: ") + m_process->errorString();
        return false;
    }
    const bool ok = QTest::qWaitFor(
        [&] { return QFile::exists(ready) || m_process->state() == QProcess::NotRunning; }, 60000);
    if (!ok || !QFile::exists(ready)) {
        m_output += m_process->readAll();
        if (error)
            *error = QStringLiteral("dispatch-server did not become ready:\n") + QString::fromUtf8(m_output);
        return false;
    }
    QFile f(ready);
    f.open(QIODevice::ReadOnly);
    auto j = Json::parse(f.readAll().toStdString(), nullptr, false);
    m_apiPort = static_cast<quint16>(j.value("apiPort", 0));
    m_gatewayPort = static_cast<quint16>(j.value("gatewayPort", 0));
    m_apiTlsPort = static_cast<quint16>(j.value("apiTlsPort", 0));
    m_gatewayTlsPort = static_cast<quint16>(j.value("gatewayTlsPort", 0));
    return m_apiPort != 0 || m_apiTlsPort != 0;
}

bool TestServer::stop()
{
    if (!m_process || m_process->state() == QProcess::NotRunning)
        return true;
    ::kill(static_cast<pid_t>(m_process->processId()), SIGTERM);
    if (!m_process->waitForFinished(60000)) {
        m_process->kill();
        m_process->waitForFinished(5000);
        m_output += m_process->readAll();
        m_lastExitCode = -1;
        qWarning("dispatch-server did not stop within 60 s of SIGTERM; the end of its output:\n%s",
                 m_output.right(20000).constData());
        return false;
    }
    m_output += m_process->readAll();
    m_lastExitCode = m_process->exitStatus() == QProcess::NormalExit ? m_process->exitCode() : -1;
    if (m_lastExitCode != 0) // say why: the end of what the server printed (sanitizer reports included)
        qWarning("dispatch-server exited with %d; the end of its output:\n%s", m_lastExitCode,
                 m_output.right(20000).constData());
    return m_lastExitCode == 0;
}

void TestServer::kill()
{
    if (!m_process)
        return;
    ::kill(static_cast<pid_t>(m_process->processId()), SIGKILL);
    m_process->waitForFinished(10000);
    m_output += m_process->readAll();
    m_lastExitCode = -1;
}

bool TestServer::restart()
{
    stop();
    return start();
}

QByteArray TestServer::output() const
{
    return m_output;
}

Json HttpResult::json() const
{
    return Json::parse(body.toStdString(), nullptr, false);
}

HttpResult httpRequest(const QByteArray &method, const QString &url, const QByteArray &body,
                       const QMap<QByteArray, QByteArray> &headers, std::chrono::milliseconds timeout)
{
    static QNetworkAccessManager *nam = nullptr;
    if (!nam)
        nam = new QNetworkAccessManager(QCoreApplication::instance());
    QNetworkRequest req{QUrl(url)};
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    for (auto it = headers.begin(); it != headers.end(); ++it)
        req.setRawHeader(it.key(), it.value());
    req.setTransferTimeout(static_cast<int>(timeout.count()));
    QNetworkReply *reply = nam->sendCustomRequest(req, method, body);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    if (!reply->isFinished())
        loop.exec();
    HttpResult r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    for (const auto &pair : reply->rawHeaderPairs())
        r.headers.insert(pair.first.toLower(), pair.second);
    if (reply->error() != QNetworkReply::NoError && r.status == 0)
        r.networkError = reply->errorString();
    reply->deleteLater();
    return r;
}

DispatchClient::DispatchClient(QString base, QString org) : m_base(std::move(base)), m_org(std::move(org)) {}

HttpResult DispatchClient::raw(const QByteArray &method, const QString &path, const QByteArray &body,
                               QMap<QByteArray, QByteArray> headers)
{
    if (!headers.contains("X-Dispatch-Org") && !m_org.isEmpty())
        headers.insert("X-Dispatch-Org", m_org.toUtf8());
    if (!headers.contains("Cookie"))
        headers.insert("Cookie", "cookie");
    if (!body.isEmpty() && !headers.contains("Content-Type"))
        headers.insert("Content-Type", "application/json");
    return httpRequest(method, m_base + path, body, headers);
}

HttpResult DispatchClient::get(const QString &path)
{
    return raw("GET", path, {});
}
HttpResult DispatchClient::post(const QString &path, const Json &body)
{
    return raw("POST", path, QByteArray::fromStdString(body.dump()));
}
HttpResult DispatchClient::put(const QString &path, const Json &body)
{
    return raw("PUT", path, QByteArray::fromStdString(body.dump()));
}
HttpResult DispatchClient::del(const QString &path)
{
    return raw("DELETE", path, {});
}

Json DispatchClient::waitForStatus(const QString &path, const QStringList &wanted, std::chrono::milliseconds timeout)
{
    const QStringList targets = wanted.isEmpty() ? QStringList{QStringLiteral("READY"), QStringLiteral("ERROR")} : wanted;
    QElapsedTimer t;
    t.start();
    Json last;
    int delay = 5;
    while (true) {
        last = get(path).json();
        if (last.is_object() && targets.contains(QString::fromStdString(last.value("status", ""))))
            return last;
        if (t.elapsed() > timeout.count())
            return last;
        QTest::qWait(delay);
        delay = std::min(delay * 2, 200);
    }
}

bool DispatchClient::seedImages(QString *error)
{
    struct Seed
    {
        const char *base, *url, *lang, *image, *manifest;
    };
    const Seed seeds[] = {
        {"python3-base", "dispatchframework/python3-base:0.0.13", "python3", "python3", "requests"},
        {"nodejs-base", "dispatchframework/nodejs-base:0.0.12", "nodejs", "nodejs", ""},
        {"java-base", "dispatchframework/java-base:0.0.13", "java", "java", ""},
    };
    for (const auto &s : seeds) {
        auto r = post(QStringLiteral("/v1/baseimage"), {{"name", s.base}, {"dockerUrl", s.url}, {"language", s.lang}});
        if (r.status != 201 && r.status != 409) {
            if (error)
                *error = QStringLiteral("base image %1: %2 %3").arg(s.base).arg(r.status).arg(QString::fromUtf8(r.body));
            return false;
        }
        Json img = {{"name", s.image}, {"baseImageName", s.base}};
        if (*s.manifest)
            img["runtimeDependencies"] = {{"manifest", s.manifest}};
        r = post(QStringLiteral("/v1/image"), img);
        if (r.status != 201 && r.status != 409) {
            if (error)
                *error = QStringLiteral("image %1: %2 %3").arg(s.image).arg(r.status).arg(QString::fromUtf8(r.body));
            return false;
        }
    }
    for (const auto &s : seeds) {
        auto j = waitForStatus(QStringLiteral("/v1/image/") + s.image, {}, std::chrono::minutes(5));
        if (j.value("status", "") != "READY") {
            if (error)
                *error = QStringLiteral("image %1 is not READY: %2").arg(s.image, QString::fromStdString(j.dump()));
            return false;
        }
    }
    return true;
}

namespace {

QByteArray tarGz(const std::vector<std::pair<std::string, std::string>> &files)
{
    QByteArray out;
    archive *a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    archive_write_open(
        a, &out, nullptr,
        [](archive *, void *ctx, const void *buf, size_t n) -> la_ssize_t {
            static_cast<QByteArray *>(ctx)->append(static_cast<const char *>(buf), static_cast<qsizetype>(n));
            return static_cast<la_ssize_t>(n);
        },
        nullptr);
    for (const auto &[name, content] : files) {
        archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, ("./" + name).c_str());
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
        archive_write_header(a, e);
        archive_write_data(a, content.data(), content.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out.toBase64();
}

} // namespace

QByteArray DispatchClient::sourceOf(const std::map<std::string, std::string> &files)
{
    return tarGz({files.begin(), files.end()});
}

QByteArray DispatchClient::fixtureSource(const QString &relativePath)
{
    const QString root = QStringLiteral(DISPATCH_SOURCE_DIR "/tests/fixtures/functions/") + relativePath;
    QFileInfo info(root);
    std::vector<std::pair<std::string, std::string>> files;
    auto add = [&](const QString &abs, const QString &rel) {
        QFile f(abs);
        f.open(QIODevice::ReadOnly);
        files.emplace_back(rel.toStdString(), f.readAll().toStdString());
    };
    if (info.isFile()) {
        add(root, info.fileName());
    } else {
        QDir dir(root);
        QStringList stack = {QString()};
        while (!stack.isEmpty()) {
            const QString sub = stack.takeLast();
            QDir d(root + QLatin1Char('/') + sub);
            for (const auto &e : d.entryInfoList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
                const QString rel = sub.isEmpty() ? e.fileName() : sub + QLatin1Char('/') + e.fileName();
                if (e.isDir())
                    stack.append(rel);
                else
                    add(e.absoluteFilePath(), rel);
            }
        }
    }
    return tarGz(files);
}

Json DispatchClient::createFunction(const QString &name, const QString &image, const QString &fixture,
                                    const QString &handler, Json extra)
{
    Json body = {{"name", name.toStdString()},
                 {"image", image.toStdString()},
                 {"handler", handler.toStdString()},
                 {"source", fixtureSource(fixture).toStdString()}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
        body[it.key()] = it.value();
    auto r = post(QStringLiteral("/v1/function"), body);
    if (r.status != 201)
        return r.json();
    return waitForStatus(QStringLiteral("/v1/function/") + name);
}

QString testOutputDir(const QString &name)
{
    const QString dir = QStringLiteral(DISPATCH_TEST_OUTPUT_DIR "/") + name;
    QDir().mkpath(dir);
    return dir;
}

} // namespace dispatch::test
