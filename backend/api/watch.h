// GET /v1/watch: the change feed of the request's org as Server-Sent Events (an extension; Dispatch has none).
// Each change is one event `id: <seq>` / `event: <type>` / `data: {"type","kind","name","object"}`; a client resumes
// with Last-Event-ID (or ?since=) from the feed's kept history, and gets `event: reset` when it cannot (the id is
// older than the history, from another server run, or too much to replay) and must reload. `?kinds=Run,Function`
// filters by kind; `: ping` comments keep idle connections alive; a client that falls behind is dropped.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <boost/asio/io_context.hpp>

#include "api/restapi.h"
#include "core/changefeed.h"

namespace dispatch::api {

struct WatchOptions
{
    std::chrono::milliseconds heartbeat{15000};
    // Bounds for a client's ?heartbeat=<ms> (tests use short ones).
    std::chrono::milliseconds minHeartbeat{50};
    std::chrono::milliseconds maxHeartbeat{std::chrono::minutes(10)};
    // A client further behind than this is dropped (it reconnects with Last-Event-ID).
    std::size_t maxQueuedBytes = 4 * 1024 * 1024;
    // A resume whose replay would need more than this answers `reset` instead (a reload is cheaper).
    std::size_t maxReplayBytes = 2 * 1024 * 1024;
    // How long an EventSource waits before reconnecting (the SSE `retry:` field).
    std::chrono::milliseconds clientRetry{3000};
};

class WatchService
{
public:
    // `io` runs the heartbeats; `feed` must outlive every stream (it does: streams end before the feed goes).
    WatchService(boost::asio::io_context &io, ChangeFeed &feed, WatchOptions options = {});

    // For RestApi::addService("watch", ...).
    RouteService route();

    // Sent as X-Dispatch-Watch-Epoch on every stream: sequence numbers restart with the server, so a client
    // holding an id from another epoch must reload instead of resuming.
    const std::string &epoch() const { return m_epoch; }

private:
    void handle(RouteRequest &request, Reply reply);

    boost::asio::io_context &m_io;
    ChangeFeed &m_feed;
    WatchOptions m_options;
    std::string m_epoch;
};

} // namespace dispatch::api
