// One console per user: the first instance listens on a per-user local socket; a later launch connects, asks it
// to raise its window and exits.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QObject>
#include <QString>

class QLocalServer;

namespace dispatch::app {

class SingleInstance : public QObject
{
    Q_OBJECT
public:
    // `key` distinguishes independent setups (tests pass their data dir); the user name is always part of it.
    explicit SingleInstance(const QString &key = {}, QObject *parent = nullptr);
    ~SingleInstance() override;

    // True when this process is the first instance and now listens. False when another instance answered
    // (it was asked to raise its window).
    bool claim();
    QString serverName() const { return m_name; }

signals:
    void activationRequested(); // another launch wants the window in front

private:
    QString m_name;
    QLocalServer *m_server = nullptr;
};

} // namespace dispatch::app
