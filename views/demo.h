// One-click set-ups on the current server: the seed images of the Dispatch CLI (reference §5.3), and the
// walkthrough (hello-world, api-hello, a cron driver every 10 s and a subscription, so runs start arriving),
// and removing the walkthrough again. Every step is a normal API request; "already exists" counts as done.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>

#include <nlohmann/json.hpp>

namespace dispatch::views {

class Workspace;

class Demo : public QObject
{
    Q_OBJECT
public:
    explicit Demo(Workspace *workspace, QObject *parent = nullptr);

    static constexpr const char *kFunction = "hello-world";
    static constexpr const char *kApi = "api-hello";
    static constexpr const char *kDriverType = "cron";
    static constexpr const char *kDriver = "every-10-seconds";
    static constexpr const char *kSubscription = "hello-cron";
    static QString helloSource(); // the python3 handler of the walkthrough

    bool isBusy() const { return m_busy; }

public slots:
    void seedImages();
    void setUp();
    void tearDown();

signals:
    void progress(const QString &message);
    void finished(bool ok, const QString &message);

private:
    using Step = std::function<void(std::function<void(bool ok, const QString &error)>)>;
    void run(const QString &what, QList<Step> steps);
    Step post(const QString &path, const nlohmann::json &body, const QString &label);
    Step del(const QString &path, const QString &label);
    QList<Step> seedSteps();

    Workspace *m_workspace = nullptr;
    bool m_busy = false;
};

} // namespace dispatch::views
