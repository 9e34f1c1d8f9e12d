// SPDX-License-Identifier: GPL-3.0-or-later
#include "events/driverrunner.h"

#include <chrono>

#include "core/ids.h"

namespace dispatch::events {

namespace {

// "docker.io/dispatchframework/ticker:0.0.2" → "dispatchframework/ticker" (a registry port is not a tag).
std::string repository(std::string_view image)
{
    std::string_view repo = image;
    if (auto at = repo.find('@'); at != std::string_view::npos)
        repo = repo.substr(0, at);
    const auto slash = repo.rfind('/');
    const auto colon = repo.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash))
        repo = repo.substr(0, colon);
    for (std::string_view prefix : {"docker.io/library/", "docker.io/", "index.docker.io/"})
        if (repo.starts_with(prefix)) {
            repo.remove_prefix(prefix.size());
            break;
        }
    return std::string(repo);
}

} // namespace

DriverChoice chooseDriverImplementation(std::string_view image)
{
    DriverChoice c;
    if (image.starts_with("exec:")) {
        const std::filesystem::path exe(image.substr(5));
        if (!exe.is_absolute()) {
            c.reason = "event driver image " + std::string(image) +
                       ": exec: needs an absolute path to the driver executable";
            return c;
        }
        c.implementation = DriverImplementation::Process;
        c.executable = exe;
        return c;
    }
    const std::string repo = repository(image);
    if (repo == "dispatchframework/dispatch-events-cron") {
        c.implementation = DriverImplementation::Cron;
    } else if (repo == "dispatchframework/ticker" || repo == "kars7e/timer") {
        c.implementation = DriverImplementation::Ticker;
    } else if (image == "webhook" || image == "cloudevent" ||
               repo == "dispatchframework/dispatch-events-cloudevent") {
        c.implementation = DriverImplementation::Push;
    } else {
        c.reason = "event driver image " + std::string(image) +
                   " needs a container engine; this server runs drivers as local processes (use "
                   "dispatchframework/dispatch-events-cron, dispatchframework/ticker, webhook or "
                   "exec:/path/to/driver)";
    }
    return c;
}

wire::CloudEvent makeDriverEvent(std::string eventType, std::string source)
{
    wire::CloudEvent e;
    e.eventType = std::move(eventType);
    e.cloudEventsVersion = "0.1";
    e.source = std::move(source);
    e.eventID = newUuid();
    e.eventTime = formatRfc3339(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
    e.data = wire::Json(nullptr);
    return e;
}

} // namespace dispatch::events
