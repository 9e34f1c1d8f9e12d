// The server's change feed: every run created/finished and every status transition of a resource is published
// here with a sequence number. The watch stream (GET /v1/watch) and the console read it; a bounded history
// lets a client resume from the last sequence it saw (Last-Event-ID). Each change is one immutable shared object
// (history and subscribers share it; a run document is never copied). Subscribers are called without the lock
// held (copy, unlock, call), and must not block.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dispatch {

struct Change
{
    uint64_t seq = 0;
    std::string org;
    std::string type;   // "run.created", "run.updated", "function.updated", "function.deleted", ...
    std::string kind;   // "Run", "Function", "Image", "BaseImage", "Secret", "API", "Driver", ...
    std::string name;   // resource name or run id
    std::string object; // the resource as the API returns it (secrets: names only), as compact JSON text
};

class ChangeFeed
{
public:
    explicit ChangeFeed(std::size_t history = 2000) : m_historyLimit(history) {}

    uint64_t publish(std::string org, std::string type, std::string kind, std::string name,
                     const nlohmann::json &object);
    // The same with the object already serialised (a run's stored document): nothing is copied or re-encoded.
    uint64_t publishSerialized(std::string org, std::string type, std::string kind, std::string name,
                               std::string objectJson);

    using Subscriber = std::function<void(const Change &)>;
    // Registers a subscriber; first replays the kept history after `afterSeq` for `org` (all orgs when empty).
    // `resumed` is false when `afterSeq` is older than the kept history (the client must reload).
    uint64_t subscribe(const std::string &org, uint64_t afterSeq, Subscriber subscriber, bool *resumed = nullptr);
    void unsubscribe(uint64_t id);
    uint64_t lastSeq() const;
    std::size_t subscriberCount() const;

private:
    struct Sub
    {
        std::string org;
        Subscriber fn;
    };
    mutable std::mutex m_mutex;
    std::mutex m_deliver; // held across seq assignment and delivery: subscribers see changes in order
    std::deque<std::shared_ptr<const Change>> m_history;
    std::size_t m_historyLimit;
    uint64_t m_seq = 0;
    uint64_t m_nextSub = 1;
    std::map<uint64_t, std::shared_ptr<Sub>> m_subs;
};

} // namespace dispatch
