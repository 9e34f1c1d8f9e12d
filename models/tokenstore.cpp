// SPDX-License-Identifier: GPL-3.0-or-later
#include "tokenstore.h"

#include <qt6keychain/keychain.h>

namespace dispatch::models {

namespace {

QString describe(QKeychain::Job *job)
{
    return QStringLiteral("the keychain refused (%1): %2").arg(int(job->error())).arg(job->errorString());
}

} // namespace

// The jobs have no parent and delete themselves once finished: QtKeychain's Secret Service backend calls back
// into a job when libsecret answers, so a job must never be destroyed before that (closing a window while the
// keychain works). The answer reaches `done` only while this store exists (the connection's context).

TokenStore::TokenStore(QString service, QObject *parent) : QObject(parent), m_service(std::move(service)) {}

void TokenStore::save(const QString &context, const QByteArray &secret, std::function<void(QString)> done)
{
    auto *job = new QKeychain::WritePasswordJob(m_service);
    job->setAutoDelete(true);
    job->setInsecureFallback(false); // never a plain-text file when no keychain answers
    job->setKey(context);
    job->setBinaryData(secret);
    connect(job, &QKeychain::Job::finished, this, [done = std::move(done)](QKeychain::Job *j) {
        done(j->error() == QKeychain::NoError ? QString() : describe(j));
    });
    job->start();
}

void TokenStore::load(const QString &context, std::function<void(std::optional<QByteArray>, QString)> done)
{
    auto *job = new QKeychain::ReadPasswordJob(m_service);
    job->setAutoDelete(true);
    job->setKey(context);
    connect(job, &QKeychain::Job::finished, this, [done = std::move(done)](QKeychain::Job *j) {
        auto *read = static_cast<QKeychain::ReadPasswordJob *>(j);
        if (j->error() == QKeychain::EntryNotFound)
            return done(std::nullopt, QString());
        if (j->error() != QKeychain::NoError)
            return done(std::nullopt, describe(j));
        done(read->binaryData(), QString());
    });
    job->start();
}

void TokenStore::remove(const QString &context, std::function<void(QString)> done)
{
    auto *job = new QKeychain::DeletePasswordJob(m_service);
    job->setAutoDelete(true);
    job->setKey(context);
    connect(job, &QKeychain::Job::finished, this, [done = std::move(done)](QKeychain::Job *j) {
        done(j->error() == QKeychain::NoError || j->error() == QKeychain::EntryNotFound ? QString() : describe(j));
    });
    job->start();
}

} // namespace dispatch::models
