// The APIs of the gateway (/v1/api, dispatch-api.md §2.5, §3.6): an org-scoped registry persisted as store
// entities of kind "API", with Dispatch's status machine (POST → CREATING, PUT → UPDATING, then READY once
// the route is live; DELETE answers DELETING and the API is gone). Every change is committed to the store
// before the request is answered and is published on the change feed (api.updated / api.deleted).
// The gateway reads routes() — an immutable snapshot swapped atomically on each change — without a lock.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "api/restapi.h"
#include "core/changefeed.h"
#include "gateway/routetable.h"
#include "store/store.h"
#include "wire/models.h"

namespace dispatch::gateway {

class ApiManager
{
public:
    ApiManager(boost::asio::io_context &io, store::Store &store, ChangeFeed &feed);
    ~ApiManager();
    ApiManager(const ApiManager &) = delete;
    ApiManager &operator=(const ApiManager &) = delete;

    // Reads the stored APIs; those caught mid-transition are completed (CREATING/UPDATING → READY,
    // DELETING → removed).
    void load();

    // The /v1/api routes for RestApi::addService("api", ...).
    api::RouteService routeService();

    void list(const std::string &org, const std::optional<std::string> &function, api::Reply reply);
    void get(const std::string &org, const std::string &name, api::Reply reply);
    void create(const std::string &org, wire::Api m, api::Reply reply);
    void update(const std::string &org, const std::string &name, wire::Api m, api::Reply reply);
    void remove(const std::string &org, const std::string &name, api::Reply reply);

    // The routing snapshot: READY, enabled APIs. Never null.
    std::shared_ptr<const RouteTable> routes() const { return m_routes.load(std::memory_order_acquire); }

    // Dispatch's URI rewrite (§2.5): with no hosts, "/hello" becomes "/<org>/hello". An existing "/<org>/"
    // prefix is stripped first when `stripExisting` (PUT), so a GET-then-PUT never prefixes twice.
    static void normalize(const std::string &org, wire::Api &m, bool stripExisting);

private:
    using Key = std::pair<std::string, std::string>; // org, name
    struct Entry
    {
        wire::Api m;                  // what GET shows
        std::optional<wire::Api> live; // the definition the gateway serves (the previous one while UPDATING)
        uint64_t generation = 0;
    };

    void handle(api::RouteRequest &request, api::Reply reply);
    // Completes CREATING/UPDATING of `key` if nothing changed it since `generation`. Posted, never inline.
    void activate(const Key &key, uint64_t generation);
    // Writes the entry and publishes it; `done` runs on the store's writer thread after the commit.
    void persistLocked(const Key &key, const Entry &entry, store::Done done = {});
    void rebuildRoutesLocked();
    store::Done replyAfterCommit(api::Reply reply, api::Answer answer, std::function<void()> then = {});

    boost::asio::io_context &m_io;
    store::Store &m_store;
    ChangeFeed &m_feed;

    mutable std::mutex m_mutex;
    std::map<Key, Entry> m_entries;
    uint64_t m_nextGeneration = 1;
    std::atomic<std::shared_ptr<const RouteTable>> m_routes;
};

} // namespace dispatch::gateway
