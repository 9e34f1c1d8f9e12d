// Secrets of the contexts in the OS keychain (QtKeychain: Secret Service, macOS Keychain, Windows Credential
// Manager): one entry per context holding its tokens (refresh token, access token while valid) or a moved
// Dispatch CLI cookie. Never written to config.json or QSettings.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QObject>
#include <QString>

#include <functional>
#include <optional>

namespace dispatch::models {

class TokenStore : public QObject
{
    Q_OBJECT

public:
    // `service`: the keychain's service name (tests use their own).
    explicit TokenStore(QString service = QStringLiteral("dispatch-console"), QObject *parent = nullptr);

    // Each call answers once, asynchronously, in this object's thread (not at all once it is destroyed).
    // load: nullopt and an empty error = no entry.
    void save(const QString &context, const QByteArray &secret, std::function<void(QString error)> done);
    void load(const QString &context, std::function<void(std::optional<QByteArray>, QString error)> done);
    void remove(const QString &context, std::function<void(QString error)> done);

private:
    QString m_service;
};

} // namespace dispatch::models
