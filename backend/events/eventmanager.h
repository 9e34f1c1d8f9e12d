// The Dispatch event manager (/v1/event, §2.6, §6): emit and ingest of CloudEvents, subscriptions, event driver
// types and event drivers, each scoped to its organization and persisted in the store's entities table.
//
// Delivery is durable and at least once: an accepted event is written as one "PendingDelivery" row per
// matching subscription before the request is answered; each row starts a non-blocking run of the
// subscription's function and is deleted once Service::createRun has accepted that run (the run is durable from
// then on). Rows left by a crash are delivered on the next start. A row whose function is not invocable yet
// waits (and is retried when the function changes); one whose function is gone or in ERROR is dropped with a
// warning. Events that match no subscription are dropped, as in Dispatch.
//
// Drivers run as built-in implementations chosen by their type's image (see driverrunner.h).
// Lifecycle: construct and load() after Service::load(), registerRoutes() before the listeners start,
// setApiEndpoint() and start() once the API port is bound, stop() before Service::shutdown().
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "api/restapi.h"
#include "api/service.h"
#include "core/changefeed.h"
#include "core/clock.h"
#include "engine/engine.h"
#include "store/store.h"

namespace dispatch::events {

struct EventManagerOptions
{
    std::filesystem::path dataDir; // driver logs go to <dataDir>/logs/drivers/<org>-<name>.log
    // Test hook (--event-delivery-delay): every delivery waits this long after its event was accepted.
    std::chrono::milliseconds deliveryDelay{0};
    // A new or updated driver stays CREATING/UPDATING at least this long, so that the first GET after the POST
    // sees it (the Dispatch e2e suite checks CREATING).
    std::chrono::milliseconds driverSettle{300};
    // Events accepted but not yet handed to a run; beyond this, emit and ingest answer 429.
    std::size_t maxPendingDeliveries = 100000;
    // Custom (exec:) drivers.
    std::chrono::milliseconds driverReadyAfter{1000};
    std::chrono::milliseconds driverBackoffMin{1000};
    std::chrono::milliseconds driverBackoffMax{60000};
};

class EventManager
{
public:
    EventManager(boost::asio::io_context &io, store::Store &store, api::Service &service, engine::Engine &engine,
                 ChangeFeed &feed, const Clock &clock, EventManagerOptions options);
    ~EventManager();
    EventManager(const EventManager &) = delete;
    EventManager &operator=(const EventManager &) = delete;

    // Reads driver types, drivers, subscriptions and pending deliveries from the store.
    void load();
    // Serves /v1/event/... and /v1/events/... (Solo routes both); /v1/event/ingest needs only the driver token.
    void registerRoutes(api::RestApi &rest);
    // Where drivers reach the API: push drivers' url, --dispatch-api-endpoint of process drivers.
    void setApiEndpoint(std::string host, uint16_t port);
    // Starts the drivers and delivers what was pending. Requests served before start() are kept and acted on.
    void start();
    // Stops the drivers (their process groups are killed) and deliveries; later requests answer 503.
    void stop();

private:
    struct Impl;
    std::shared_ptr<Impl> m_impl;
};

} // namespace dispatch::events
