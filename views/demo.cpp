// SPDX-License-Identifier: GPL-3.0-or-later
#include "demo.h"

#include "restclient.h"
#include "sourcearchive.h"
#include "workspace.h"

namespace dispatch::views {

using Json = nlohmann::json;

Demo::Demo(Workspace *workspace, QObject *parent) : QObject(parent), m_workspace(workspace) {}

QString Demo::helloSource()
{
    return QStringLiteral("def handle(ctx, payload):\n"
                          "    if not isinstance(payload, dict):\n"
                          "        payload = {}\n"
                          "    name = payload.get(\"name\", \"Noone\")\n"
                          "    place = payload.get(\"place\", \"Nowhere\")\n"
                          "    return {\"myField\": \"Hello, %s from %s\" % (name, place)}\n");
}

Demo::Step Demo::post(const QString &path, const Json &body, const QString &label)
{
    return [this, path, body, label](std::function<void(bool, const QString &)> next) {
        emit progress(tr("Creating %1\u2026").arg(label));
        m_workspace->client()->post(path, body, this, [label, next](const models::ApiResult &r) {
            // 409: it is already there, which is what we want.
            if (r.ok() || r.status == 409)
                next(true, {});
            else
                next(false, tr("%1: %2").arg(label, r.errorMessage));
        });
    };
}

Demo::Step Demo::del(const QString &path, const QString &label)
{
    return [this, path, label](std::function<void(bool, const QString &)> next) {
        emit progress(tr("Removing %1\u2026").arg(label));
        m_workspace->client()->del(path, this, [label, next](const models::ApiResult &r) {
            if (r.ok() || r.status == 404)
                next(true, {});
            else
                next(false, tr("%1: %2").arg(label, r.errorMessage));
        });
    };
}

QList<Demo::Step> Demo::seedSteps()
{
    struct Seed
    {
        const char *base, *url, *language, *image, *manifest;
    };
    static const Seed seeds[] = {
        {"nodejs-base", "dispatchframework/nodejs-base:0.0.12", "nodejs", "nodejs", ""},
        {"python3-base", "dispatchframework/python3-base:0.0.13", "python3", "python3", "requests"},
        {"powershell-base", "dispatchframework/powershell-base:0.0.13", "powershell", "powershell", ""},
        {"java-base", "dispatchframework/java-base:0.0.13", "java", "java", ""},
    };
    QList<Step> steps;
    for (const auto &s : seeds)
        steps << post(QStringLiteral("/v1/baseimage"), {{"name", s.base}, {"dockerUrl", s.url}, {"language", s.language}},
                      tr("base image %1").arg(QLatin1String(s.base)));
    for (const auto &s : seeds) {
        Json image = {{"name", s.image}, {"baseImageName", s.base}};
        if (*s.manifest)
            image["runtimeDependencies"] = {{"manifest", s.manifest}};
        steps << post(QStringLiteral("/v1/image"), image, tr("image %1").arg(QLatin1String(s.image)));
    }
    return steps;
}

void Demo::run(const QString &what, QList<Step> steps)
{
    if (m_busy) {
        emit finished(false, tr("Another set-up is still running."));
        return;
    }
    m_busy = true;
    struct State
    {
        QList<Step> steps;
        int index = 0;
        QStringList errors;
    };
    auto state = std::make_shared<State>();
    state->steps = std::move(steps);
    auto advance = std::make_shared<std::function<void()>>();
    *advance = [this, state, what, advance] {
        if (state->index >= state->steps.size()) {
            m_busy = false;
            m_workspace->refreshAll();
            const bool ok = state->errors.isEmpty();
            const QString message = ok ? tr("%1: done.").arg(what)
                                       : tr("%1 finished with errors: %2").arg(what, state->errors.join(QStringLiteral("; ")));
            emit progress(message);
            emit finished(ok, message);
            *advance = nullptr; // break the self-reference
            return;
        }
        Step step = state->steps[state->index++];
        step([state, advance](bool ok, const QString &error) {
            if (!ok)
                state->errors << error;
            if (*advance)
                (*advance)();
        });
    };
    (*advance)();
}

void Demo::seedImages()
{
    run(tr("Seed images"), seedSteps());
}

void Demo::setUp()
{
    QList<Step> steps = seedSteps();
    QString error;
    const auto source = models::makeSourceBase64({{QStringLiteral("hello.py"), helloSource().toUtf8(), false}}, &error);
    steps << post(QStringLiteral("/v1/function"),
                  {{"name", kFunction},
                   {"image", "python3"},
                   {"handler", "hello.handle"},
                   {"source", source ? source->toStdString() : std::string()},
                   {"secrets", Json::array()},
                   {"tags", Json::array()}},
                  tr("function %1").arg(QLatin1String(kFunction)));
    steps << post(QStringLiteral("/v1/api"),
                  {{"name", kApi},
                   {"function", kFunction},
                   {"methods", {"POST"}},
                   {"uris", {"/hello"}},
                   {"protocols", {"http", "https"}},
                   {"enabled", true}},
                  tr("API %1").arg(QLatin1String(kApi)));
    steps << post(QStringLiteral("/v1/event/drivertypes"),
                  {{"name", kDriverType}, {"image", "dispatchframework/dispatch-events-cron:0.0.1"}},
                  tr("driver type %1").arg(QLatin1String(kDriverType)));
    steps << post(QStringLiteral("/v1/event/drivers"),
                  {{"name", kDriver}, {"type", kDriverType}, {"config", {{{"key", "cron"}, {"value", "0/10 * * * *"}}}}},
                  tr("driver %1").arg(QLatin1String(kDriver)));
    steps << post(QStringLiteral("/v1/event/subscriptions"),
                  {{"name", kSubscription}, {"eventType", "cron.trigger"}, {"function", kFunction}},
                  tr("subscription %1").arg(QLatin1String(kSubscription)));
    run(tr("Walkthrough set-up"), std::move(steps));
}

void Demo::tearDown()
{
    const QString k = QLatin1String(kSubscription);
    run(tr("Walkthrough removal"),
        {del(QStringLiteral("/v1/event/subscriptions/%1").arg(k), tr("subscription %1").arg(k)),
         del(QStringLiteral("/v1/event/drivers/%1").arg(QLatin1String(kDriver)),
             tr("driver %1").arg(QLatin1String(kDriver))),
         del(QStringLiteral("/v1/event/drivertypes/%1").arg(QLatin1String(kDriverType)),
             tr("driver type %1").arg(QLatin1String(kDriverType))),
         del(QStringLiteral("/v1/api/%1").arg(QLatin1String(kApi)), tr("API %1").arg(QLatin1String(kApi))),
         del(QStringLiteral("/v1/function/%1").arg(QLatin1String(kFunction)),
             tr("function %1").arg(QLatin1String(kFunction)))});
}

} // namespace dispatch::views
