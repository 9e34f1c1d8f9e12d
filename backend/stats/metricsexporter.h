// GET /metrics in the Prometheus text exposition format (version 0.0.4): run counts and duration histograms
// per (org, function) since the server started, the engine's queue and workers, the event backlog, HTTP
// answers per listener and status code, and the store's queued writes. No org header, no credentials:
// it is meant for a scraper on the local machine (the API listens on loopback by default).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "engine/engine.h"
#include "http/server.h"
#include "stats/runstats.h"
#include "store/store.h"

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace dispatch::stats {

class MetricsExporter
{
public:
    MetricsExporter(const RunStats &stats, const engine::Engine &engine, const store::Store &store);

    // A hook for http::ServerOptions::onResponse that counts the answers of listener `name`
    // (dispatch_http_requests_total{listener=name, code}). Call before the listener starts.
    std::function<void(unsigned status)> httpCounter(const std::string &name);
    // dispatch_event_backlog: events accepted but not delivered yet (set by the events module; 0 otherwise).
    void setEventBacklog(std::size_t events) { m_eventBacklog.store(events, std::memory_order_relaxed); }

    std::string render() const;
    // Serves GET/HEAD /metrics (any other method: 405).
    void handle(const std::shared_ptr<http::RequestContext> &ctx, const http::ResponderPtr &responder) const;

    // A Prometheus label value: backslash, double quote and line feed escaped.
    static std::string escapeLabel(std::string_view value);

private:
    struct Listener
    {
        explicit Listener(std::string n) : name(std::move(n)) {}
        const std::string name;
        std::array<std::atomic<uint64_t>, 600> codes{}; // by status code; anything out of range at 0
    };

    const RunStats &m_stats;
    const engine::Engine &m_engine;
    const store::Store &m_store;
    std::atomic<std::size_t> m_eventBacklog{0};
    mutable std::mutex m_listenersMutex;
    std::vector<std::shared_ptr<Listener>> m_listeners;
};

} // namespace dispatch::stats
