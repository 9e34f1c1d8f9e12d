// SPDX-License-Identifier: GPL-3.0-or-later
#include "support/identityprovider.h"

#include <QDeadlineTimer>
#include <QFile>

namespace dispatch::test {

IdentityProvider::~IdentityProvider()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.terminate();
        if (!m_process.waitForFinished(5000))
            m_process.kill();
    }
}

bool IdentityProvider::start(QString *error)
{
    const QString dir = QStringLiteral(DISPATCH_SOURCE_DIR "/tests/oidc");
    if (!QFile::exists(dir + QStringLiteral("/node_modules/oidc-provider/package.json"))) {
        *error = QStringLiteral("oidc-provider is not installed: run installers/setup.sh test (it runs npm ci in "
                                "tests/oidc)");
        return false;
    }
    m_process.setWorkingDirectory(dir);
    m_process.setProcessChannelMode(QProcess::SeparateChannels);
    m_process.start(QStringLiteral("node"), QStringList{QStringLiteral("idp.mjs")} + m_args);
    if (!m_process.waitForStarted(10000)) {
        *error = QStringLiteral("cannot start node: ") + m_process.errorString();
        return false;
    }
    QByteArray line;
    QDeadlineTimer deadline(30000);
    while (!line.contains('\n') && !deadline.hasExpired() && m_process.state() == QProcess::Running) {
        m_process.waitForReadyRead(500);
        line += m_process.readAllStandardOutput();
    }
    const Json j = Json::parse(line.toStdString(), nullptr, false);
    if (!j.is_object() || !j.contains("issuer")) {
        *error = QStringLiteral("the identity provider did not start: ") +
                 QString::fromUtf8(m_process.readAllStandardError());
        return false;
    }
    m_issuer = QString::fromStdString(j["issuer"].get<std::string>());
    return true;
}

QByteArray IdentityProvider::sign(const QString &alg, Json claims, const QString &kid) const
{
    Json body{{"alg", alg.toStdString()}, {"claims", std::move(claims)}};
    if (!kid.isEmpty())
        body["kid"] = kid.toStdString();
    auto r = httpRequest("POST", m_issuer + QStringLiteral("/__test/sign"), QByteArray::fromStdString(body.dump()));
    return QByteArray::fromStdString(r.json().value("token", ""));
}

} // namespace dispatch::test
