// SPDX-License-Identifier: GPL-3.0-or-later
#include "events/eventmanager.h"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "engine/process.h"
#include "events/cronschedule.h"
#include "events/driverrunner.h"
#include "events/eventrequest.h"
#include "events/processdriver.h"
#include "events/timerdriver.h"
#include "wire/validation.h"

namespace dispatch::events {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using api::Answer;
using api::Reply;
using wire::Json;
using wire::Status;
using namespace std::chrono_literals;

namespace {

using Key = std::pair<std::string, std::string>; // org, name

// Kinds as stored (the Dispatch entity type names) and as published on the change feed.
constexpr const char *kSubscription = "Subscription";
constexpr const char *kDriver = "Driver";
constexpr const char *kDriverType = "DriverType";
constexpr const char *kPendingDelivery = "PendingDelivery";

Answer ok(Json body, int status = 200)
{
    return Answer{status, std::move(body), false};
}

ApiError fromValidation(const wire::ValidationError &v)
{
    return ApiError{v.httpStatus, v.code, v.message};
}

// A driver's id is its ingest credential: drawn from the kernel's CSPRNG, not the id generator for names.
std::string newToken()
{
    unsigned char b[16];
    std::size_t got = 0;
    while (got < sizeof b) {
        const ssize_t n = ::getrandom(b + got, sizeof b - got, 0);
        if (n > 0)
            got += static_cast<std::size_t>(n);
        else if (errno != EINTR)
            return newUuid(); // cannot happen on Linux ≥ 3.17; a uuid is still a valid id
    }
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    char out[37];
    std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                  b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return out;
}

std::string safeComponent(const std::string &s)
{
    std::string out;
    for (char c : s)
        out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '_');
    return out.empty() ? std::string("_") : out;
}

// DRIVER_KEY from a secret key "driver-key" (§6.2).
std::string envName(const std::string &key)
{
    std::string out;
    for (char c : key)
        out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    return out;
}

Json subscriptionView(const wire::Subscription &m)
{
    Json j = m;
    if (!m.reason.empty())
        j["reason"] = m.reason; // extension: why a subscription is in ERROR
    return j;
}

std::optional<std::string> configValue(const wire::EventDriver &d, const std::string &key)
{
    std::optional<std::string> v;
    if (d.config)
        for (const auto &kv : *d.config)
            if (kv.key == key)
                v = kv.value;
    return v;
}

std::string lowerKind(const std::string &kind)
{
    std::string out;
    for (char c : kind)
        out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return out;
}

} // namespace

struct EventManager::Impl : std::enable_shared_from_this<EventManager::Impl>
{
    struct SubscriptionEntry
    {
        wire::Subscription m;
        uint64_t checkTicket = 0;  // reconciliations handed out
        uint64_t appliedTicket = 0; // the newest one whose outcome was applied
    };
    struct DriverTypeEntry
    {
        wire::EventDriverType m;
    };
    struct DriverEntry
    {
        wire::EventDriver m;
        std::string image;  // copied from the type (Dispatch keeps it on the driver; the model does not show it)
        std::string source; // the fixed default `source` of its events
        uint64_t generation = 0;
        std::shared_ptr<DriverRunner> runner;
    };
    struct Delivery
    {
        std::string id;
        std::string org;
        std::string subscription;
        std::string function;
        Json event; // the whole CloudEvent, data included
        std::vector<std::string> secrets;
        bool inFlight = false;
        bool parked = false;
        int attempts = 0;
        std::chrono::steady_clock::time_point retryAt;
    };

    Impl(asio::io_context &ioContext, store::Store &db, api::Service &svc, engine::Engine &eng, ChangeFeed &changes,
         const Clock &clk, EventManagerOptions opts)
        : io(ioContext), store(db), service(svc), engine(eng), feed(changes), clock(clk), options(std::move(opts)),
          reaper(ioContext), retryTimer(ioContext)
    {
    }

    asio::io_context &io;
    store::Store &store;
    api::Service &service;
    engine::Engine &engine;
    ChangeFeed &feed;
    const Clock &clock;
    EventManagerOptions options;
    engine::ChildReaper reaper;

    std::mutex mutex; // guards everything below; never held while calling the Service
    std::map<Key, SubscriptionEntry> subscriptions;
    std::map<Key, DriverTypeEntry> driverTypes;
    std::map<Key, DriverEntry> drivers;
    std::map<std::string, Key> tokens; // driver id → driver
    std::map<std::string, Delivery> pending;
    asio::steady_timer retryTimer;
    bool retryArmed = false;
    bool started = false;
    bool stopping = false;
    std::string apiHost = "127.0.0.1";
    uint16_t apiPort = 0;
    uint64_t nextGeneration = 1;
    uint64_t dropped = 0;

    // --- persistence -------------------------------------------------------------------------------------
    void persist(const char *kind, const std::string &org, const std::string &name, const Json &stored,
                 Json view, store::Done done = {})
    {
        store.putEntity(store::EntityRow{kind, org, name, wire::dumpJson(stored)}, std::move(done));
        feed.publish(org, lowerKind(kind) + ".updated", kind, name, std::move(view));
    }
    void erase(const char *kind, const std::string &org, const std::string &name, Json view, store::Done done = {})
    {
        store.deleteEntity(kind, org, name, std::move(done));
        feed.publish(org, lowerKind(kind) + ".deleted", kind, name, std::move(view));
    }
    // Answers once the write is committed (or 500 when the store failed).
    store::Done replyAfterCommit(Reply reply, Answer answer)
    {
        return [io = &io, reply = std::move(reply), answer = std::move(answer)](bool committed) mutable {
            asio::post(*io, [reply = std::move(reply), answer = std::move(answer), committed]() mutable {
                if (committed)
                    reply(std::move(answer));
                else
                    reply(ApiError::internal("the server could not store the change (see the server log)"));
            });
        };
    }
    Json storedDriver(const DriverEntry &e)
    {
        Json j = wire::toStorageJson(e.m);
        j["_image"] = e.image;
        j["_source"] = e.source;
        return j;
    }
    Json storedDelivery(const Delivery &d)
    {
        return Json{{"org", d.org},         {"subscription", d.subscription}, {"function", d.function},
                    {"event", d.event},     {"secrets", d.secrets},           {"acceptedNs", clock.nowNs()}};
    }
    template <typename F>
    void post(F f)
    {
        asio::post(io, [weak = weak_from_this(), f = std::move(f)]() mutable {
            if (auto self = weak.lock())
                f(*self);
        });
    }

    // --- load / start / stop -----------------------------------------------------------------------------
    void load()
    {
        {
            std::lock_guard lock(mutex);
            for (auto &r : store.loadEntities(kDriverType)) {
                Json j = Json::parse(r.json, nullptr, false);
                if (j.is_discarded())
                    continue;
                DriverTypeEntry e;
                wire::from_json(j, e.m);
                driverTypes[{r.org, r.name}] = std::move(e);
            }
            for (auto &r : store.loadEntities(kDriver)) {
                Json j = Json::parse(r.json, nullptr, false);
                if (j.is_discarded())
                    continue;
                DriverEntry e;
                wire::from_json(j, e.m);
                e.image = j.value("_image", "");
                if (auto type = driverTypes.find({r.org, e.m.type}); e.image.empty() && type != driverTypes.end())
                    e.image = type->second.m.image; // a document written without the copied image
                e.source = j.value("_source", "");
                if (e.source.empty())
                    e.source = newUuid();
                if (e.m.id.empty())
                    e.m.id = newToken();
                e.generation = nextGeneration++;
                tokens[e.m.id] = {r.org, r.name};
                drivers[{r.org, r.name}] = std::move(e);
            }
            for (auto &r : store.loadEntities(kSubscription)) {
                Json j = Json::parse(r.json, nullptr, false);
                if (j.is_discarded())
                    continue;
                SubscriptionEntry e;
                wire::from_json(j, e.m);
                subscriptions[{r.org, r.name}] = std::move(e);
            }
            for (auto &r : store.loadEntities(kPendingDelivery)) {
                Json j = Json::parse(r.json, nullptr, false);
                if (j.is_discarded() || !j.is_object())
                    continue;
                Delivery d;
                d.id = r.name;
                d.org = j.value("org", r.org);
                d.subscription = j.value("subscription", "");
                d.function = j.value("function", "");
                d.event = j.value("event", Json::object());
                if (auto s = j.find("secrets"); s != j.end() && s->is_array())
                    for (const auto &n : *s)
                        if (n.is_string())
                            d.secrets.push_back(n.get<std::string>());
                pending[d.id] = std::move(d);
            }
            spdlog::info("events: {} driver types, {} drivers, {} subscriptions, {} deliveries pending",
                         driverTypes.size(), drivers.size(), subscriptions.size(), pending.size());
        }
        // The listener runs with the Service's lock held: only post from it.
        service.onFunctionChanged([weak = weak_from_this()](const std::string &org, const std::string &name) {
            if (auto self = weak.lock())
                self->post([org, name](Impl &d) { d.functionChanged(org, name); });
        });
    }

    void start()
    {
        std::vector<std::pair<Key, uint64_t>> deploy, finishDelete;
        std::vector<Key> subs, subsDeleting;
        std::vector<std::string> deliveries;
        {
            std::lock_guard lock(mutex);
            if (started || stopping)
                return;
            started = true;
            for (auto &[k, e] : drivers)
                (e.m.status == Status::Deleting ? finishDelete : deploy).emplace_back(k, e.generation);
            for (auto &[k, e] : subscriptions)
                (e.m.status == Status::Deleting ? subsDeleting : subs).push_back(k);
            for (auto &[id, d] : pending)
                if (!d.inFlight)
                    deliveries.push_back(id);
        }
        for (auto &[k, gen] : finishDelete)
            finishDriverDelete(k, gen);
        for (auto &[k, gen] : deploy)
            deployDriver(k, gen);
        for (auto &k : subsDeleting)
            finishSubscriptionDelete(k);
        for (auto &k : subs)
            reconcileSubscription(k);
        for (auto &id : deliveries)
            scheduleDelivery(id);
    }

    void stop()
    {
        std::vector<std::shared_ptr<DriverRunner>> runners;
        {
            std::lock_guard lock(mutex);
            if (stopping)
                return;
            stopping = true;
            for (auto &[k, e] : drivers)
                if (e.runner)
                    runners.push_back(e.runner);
            retryTimer.cancel();
        }
        for (auto &r : runners)
            r->stop(true);
        spdlog::info("events: stopped {} drivers; {} deliveries stay pending for the next start", runners.size(),
                     pendingCount());
    }

    std::size_t pendingCount()
    {
        std::lock_guard lock(mutex);
        return pending.size();
    }

    // --- accepting events ----------------------------------------------------------------------------------
    // Stores one PendingDelivery per matching subscription, then answers (`reply` may be empty: driver events).
    void accept(const std::string &org, std::vector<wire::CloudEvent> events, Reply reply, Answer answer)
    {
        auto answerWith = [&reply](Result<Answer> r) {
            if (reply)
                reply(std::move(r));
        };
        std::vector<Delivery> rows;
        {
            std::lock_guard lock(mutex);
            if (stopping)
                return answerWith(ApiError::unavailable("the server is shutting down"));
            for (const auto &e : events) {
                Json full = e;
                full.erase("tags");
                std::size_t matched = 0;
                for (auto it = subscriptions.lower_bound({org, ""});
                     it != subscriptions.end() && it->first.first == org; ++it) {
                    const auto &s = it->second.m;
                    if (s.eventType != e.eventType || s.status == Status::Deleting)
                        continue;
                    if (s.status == Status::Error) {
                        spdlog::warn("event {} ({}) is not delivered to subscription {}/{}: it is in ERROR ({})",
                                     e.eventID, e.eventType, org, s.name,
                                     s.reason.empty() ? std::string("no reason") : s.reason.front());
                        continue;
                    }
                    Delivery d;
                    d.id = newUuid();
                    d.org = org;
                    d.subscription = s.name;
                    d.function = s.function;
                    d.event = full;
                    d.secrets = s.secrets;
                    d.inFlight = true; // nothing touches it before it is committed
                    rows.push_back(std::move(d));
                    ++matched;
                }
                if (matched == 0) {
                    ++dropped;
                    spdlog::debug("event {} ({}) in org {} matches no subscription: dropped ({} so far)", e.eventID,
                                  e.eventType, org, dropped);
                }
            }
            if (pending.size() + rows.size() > options.maxPendingDeliveries) {
                spdlog::warn("events: {} deliveries are pending; refusing {} more", pending.size(), rows.size());
                return answerWith(ApiError::tooManyRequests("too many events are waiting for delivery; try again later"));
            }
            for (const auto &d : rows)
                pending[d.id] = d;
        }
        if (rows.empty())
            return answerWith(std::move(answer));

        struct Batch
        {
            std::atomic<std::size_t> remaining;
            std::vector<char> committed;
            Reply reply;
            Answer answer;
            std::vector<std::string> ids;
        };
        auto batch = std::make_shared<Batch>();
        batch->remaining = rows.size();
        batch->committed.assign(rows.size(), 0);
        batch->reply = std::move(reply);
        batch->answer = std::move(answer);
        for (const auto &d : rows)
            batch->ids.push_back(d.id);
        for (std::size_t i = 0; i < rows.size(); ++i) {
            store.putEntity(store::EntityRow{kPendingDelivery, org, rows[i].id, wire::dumpJson(storedDelivery(rows[i]))},
                            [weak = weak_from_this(), io = &io, batch, i](bool committed) {
                                batch->committed[i] = committed ? 1 : 0;
                                if (batch->remaining.fetch_sub(1) != 1)
                                    return;
                                // Done callbacks run on the store's writer thread: continue on the I/O threads.
                                asio::post(*io, [weak, batch] {
                                    const bool all = std::all_of(batch->committed.begin(), batch->committed.end(),
                                                                 [](char c) { return c != 0; });
                                    if (auto self = weak.lock())
                                        self->committedDeliveries(batch->ids, batch->committed);
                                    if (batch->reply) {
                                        if (all)
                                            batch->reply(std::move(batch->answer));
                                        else
                                            batch->reply(ApiError::internal(
                                                "the server could not store the event (see the server log)"));
                                    }
                                });
                            });
        }
    }

    void committedDeliveries(const std::vector<std::string> &ids, const std::vector<char> &committed)
    {
        std::vector<std::string> ready;
        {
            std::lock_guard lock(mutex);
            for (std::size_t i = 0; i < ids.size(); ++i) {
                auto it = pending.find(ids[i]);
                if (it == pending.end())
                    continue;
                if (!committed[i]) {
                    pending.erase(it);
                    continue;
                }
                it->second.inFlight = false;
                ready.push_back(ids[i]);
            }
        }
        for (const auto &id : ready)
            scheduleDelivery(id);
    }

    void scheduleDelivery(const std::string &id)
    {
        if (options.deliveryDelay.count() > 0) {
            auto timer = std::make_shared<asio::steady_timer>(io, options.deliveryDelay);
            timer->async_wait([weak = weak_from_this(), id, timer](const boost::system::error_code &ec) {
                if (ec)
                    return;
                if (auto self = weak.lock())
                    self->deliver(id);
            });
            return;
        }
        post([id](Impl &d) { d.deliver(id); });
    }

    // --- delivering ----------------------------------------------------------------------------------------
    void deliver(const std::string &id)
    {
        Delivery d;
        {
            std::lock_guard lock(mutex);
            if (!started || stopping)
                return;
            auto it = pending.find(id);
            if (it == pending.end() || it->second.inFlight)
                return;
            it->second.inFlight = true;
            it->second.parked = false;
            d = it->second;
        }
        auto state = service.functionState(d.org, d.function);
        // After a restart a READY function is redeployed before it can run: wait for it.
        if (state == api::Service::FunctionState::Ready && !engine.isDeployed({d.org, d.function}))
            state = api::Service::FunctionState::NotReady;
        if (state == api::Service::FunctionState::Missing)
            return drop(id, "function " + d.function + " does not exist");
        if (state == api::Service::FunctionState::NotReady) {
            // Building or redeploying: wait. In ERROR: Dispatch would have failed the run; drop it.
            service.getFunction(d.org, d.function, [weak = weak_from_this(), id, fn = d.function](Result<Answer> r) {
                std::string why;
                if (!r.ok())
                    why = "function " + fn + " does not exist";
                else if (r.value().body.is_object() && r.value().body.value("status", "") == "ERROR")
                    why = "function " + fn + " is in ERROR";
                if (auto self = weak.lock())
                    self->post([id, why](Impl &s) {
                        if (why.empty())
                            s.park(id);
                        else
                            s.drop(id, why);
                    });
            });
            return;
        }
        wire::CloudEvent event;
        wire::from_json(d.event, event);
        wire::Run run;
        run.blocking = false;
        run.input = event.data ? *event.data : Json(nullptr);
        run.event = wire::eventContext(event);
        run.secrets = d.secrets;
        // The reply may come synchronously with the Service's lock held: only post from it.
        service.createRun(d.org, d.function, std::move(run), [weak = weak_from_this(), id](Result<Answer> r) {
            if (auto self = weak.lock())
                self->post([id, r = std::move(r)](Impl &s) { s.runStarted(id, r); });
        });
    }

    void runStarted(const std::string &id, const Result<Answer> &r)
    {
        if (r.ok()) {
            Delivery d;
            {
                std::lock_guard lock(mutex);
                auto it = pending.find(id);
                if (it == pending.end())
                    return;
                d = std::move(it->second);
                pending.erase(it);
            }
            // The run is durable now; the delivery is done.
            store.deleteEntity(kPendingDelivery, d.org, id);
            if (spdlog::should_log(spdlog::level::debug)) {
                const Answer &accepted = r.value();
                const Json run = accepted.rawBody.empty() ? accepted.body : Json::parse(accepted.rawBody, nullptr, false);
                spdlog::debug("event {} delivered to subscription {}/{}: run {}", d.event.value("eventID", ""), d.org,
                              d.subscription, run.is_object() ? run.value("name", "") : std::string());
            }
            return;
        }
        const auto &e = r.error();
        if (e.status == 404 && e.message.ends_with("not found"))
            return drop(id, e.message);
        if (e.status == 503) { // shutting down: the row stays for the next start
            std::lock_guard lock(mutex);
            if (auto it = pending.find(id); it != pending.end())
                it->second.inFlight = false;
            return;
        }
        spdlog::debug("delivery {} waits: {}", id, e.message);
        park(id);
    }

    void drop(const std::string &id, const std::string &why)
    {
        Delivery d;
        {
            std::lock_guard lock(mutex);
            auto it = pending.find(id);
            if (it == pending.end())
                return;
            d = std::move(it->second);
            pending.erase(it);
        }
        store.deleteEntity(kPendingDelivery, d.org, id);
        spdlog::warn("event {} ({}) for subscription {}/{} dropped: {}", d.event.value("eventID", ""),
                     d.event.value("eventType", ""), d.org, d.subscription, why);
    }

    // Waits for the function: retried with a backoff, and at once when the function changes.
    void park(const std::string &id)
    {
        std::lock_guard lock(mutex);
        auto it = pending.find(id);
        if (it == pending.end())
            return;
        auto &d = it->second;
        d.inFlight = false;
        d.parked = true;
        d.attempts = std::min(d.attempts + 1, 16);
        const auto wait = std::min<std::chrono::milliseconds>(250ms * (1 << std::min(d.attempts, 8)), 30s);
        d.retryAt = std::chrono::steady_clock::now() + wait;
        armRetryLocked();
    }

    void armRetryLocked()
    {
        if (retryArmed || stopping)
            return;
        retryArmed = true;
        retryTimer.expires_after(500ms);
        retryTimer.async_wait([weak = weak_from_this()](const boost::system::error_code &ec) {
            if (ec)
                return;
            if (auto self = weak.lock())
                self->retryDue();
        });
    }

    void retryDue()
    {
        std::vector<std::string> due;
        {
            std::lock_guard lock(mutex);
            retryArmed = false;
            const auto now = std::chrono::steady_clock::now();
            bool more = false;
            for (auto &[id, d] : pending) {
                if (!d.parked || d.inFlight)
                    continue;
                if (d.retryAt <= now)
                    due.push_back(id);
                else
                    more = true;
            }
            if (more)
                armRetryLocked();
        }
        for (const auto &id : due)
            deliver(id);
    }

    // --- functions -----------------------------------------------------------------------------------------
    void functionChanged(const std::string &org, const std::string &name)
    {
        std::vector<Key> subs;
        std::vector<std::string> waiting;
        {
            std::lock_guard lock(mutex);
            if (stopping)
                return;
            for (auto it = subscriptions.lower_bound({org, ""}); it != subscriptions.end() && it->first.first == org;
                 ++it)
                if (it->second.m.function == name && it->second.m.status != Status::Deleting)
                    subs.push_back(it->first);
            for (auto &[id, d] : pending)
                if (d.parked && !d.inFlight && d.org == org && d.function == name)
                    waiting.push_back(id);
        }
        for (const auto &k : subs)
            reconcileSubscription(k);
        for (const auto &id : waiting)
            deliver(id);
    }

    // --- subscriptions -------------------------------------------------------------------------------------
    // READY when the function exists (it may still be building), ERROR with a reason when it does not.
    void reconcileSubscription(const Key &key)
    {
        std::string function;
        uint64_t ticket = 0;
        {
            std::lock_guard lock(mutex);
            auto it = subscriptions.find(key);
            if (it == subscriptions.end() || it->second.m.status == Status::Deleting || !started)
                return;
            function = it->second.m.function;
            ticket = ++it->second.checkTicket;
        }
        const bool exists = service.functionState(key.first, function) != api::Service::FunctionState::Missing;
        std::lock_guard lock(mutex);
        auto it = subscriptions.find(key);
        if (it == subscriptions.end())
            return;
        auto &e = it->second;
        // A newer check was applied meanwhile, or the subscription changed: that one decides.
        if (ticket <= e.appliedTicket || e.m.function != function || e.m.status == Status::Deleting)
            return;
        e.appliedTicket = ticket;
        const Status status = exists ? Status::Ready : Status::Error;
        std::vector<std::string> reason;
        if (!exists)
            reason.push_back("function " + function + " does not exist");
        if (e.m.status == status && e.m.reason == reason)
            return;
        if (status == Status::Error)
            spdlog::warn("subscription {}/{} is in ERROR: {}", key.first, key.second, reason.front());
        else if (e.m.status == Status::Error)
            spdlog::info("subscription {}/{} is READY again: function {} exists", key.first, key.second, function);
        e.m.status = status;
        e.m.reason = std::move(reason);
        e.m.modifiedTime = clock.nowSeconds();
        persist(kSubscription, key.first, key.second, wire::toStorageJson(e.m), subscriptionView(e.m));
    }

    void finishSubscriptionDelete(const Key &key)
    {
        Json view;
        {
            std::lock_guard lock(mutex);
            auto it = subscriptions.find(key);
            if (it == subscriptions.end() || it->second.m.status != Status::Deleting)
                return;
            view = subscriptionView(it->second.m);
            subscriptions.erase(it);
        }
        erase(kSubscription, key.first, key.second, std::move(view));
    }

    void listSubscriptions(const std::string &org, Reply reply)
    {
        Json out = Json::array();
        {
            std::lock_guard lock(mutex);
            for (auto it = subscriptions.lower_bound({org, ""}); it != subscriptions.end() && it->first.first == org;
                 ++it)
                out.push_back(subscriptionView(it->second.m));
        }
        reply(ok(std::move(out)));
    }

    void getSubscription(const std::string &org, const std::string &name, Reply reply)
    {
        Json view;
        {
            std::lock_guard lock(mutex);
            auto it = subscriptions.find({org, name});
            if (it != subscriptions.end())
                view = subscriptionView(it->second.m);
        }
        if (view.is_null())
            return reply(ApiError::notFound("subscription " + name + " not found"));
        reply(ok(std::move(view)));
    }

    void createSubscription(const std::string &org, wire::Subscription m, Reply reply)
    {
        const Key key{org, m.name};
        {
            std::lock_guard lock(mutex);
            if (stopping)
                return reply(ApiError::unavailable("the server is shutting down"));
            if (subscriptions.count(key))
                return reply(ApiError::conflict("subscription " + m.name + " already exists"));
            m.id = newUuid();
            m.createdTime = m.modifiedTime = clock.nowSeconds();
            m.status = Status::Creating;
            m.reason.clear();
            Json view = subscriptionView(m);
            persist(kSubscription, org, m.name, wire::toStorageJson(m), view,
                    replyAfterCommit(std::move(reply), ok(view, 201)));
            subscriptions[key].m = std::move(m);
        }
        post([key](Impl &d) { d.reconcileSubscription(key); });
    }

    void updateSubscription(const std::string &org, const std::string &name, wire::Subscription m, Reply reply)
    {
        const Key key{org, name};
        {
            std::lock_guard lock(mutex);
            if (stopping)
                return reply(ApiError::unavailable("the server is shutting down"));
            auto it = subscriptions.find(key);
            if (it == subscriptions.end())
                return reply(ApiError::notFound("subscription " + name + " not found"));
            auto &s = it->second.m;
            if (s.status == Status::Updating || s.status == Status::Deleting)
                return reply(ApiError::badRequest("bad request when processing subscription " + name +
                                                  ": subscription is already " + wire::toString(s.status)));
            s.eventType = std::move(m.eventType);
            s.function = std::move(m.function);
            s.secrets = std::move(m.secrets);
            s.tags = std::move(m.tags);
            s.status = Status::Updating;
            s.reason.clear();
            s.modifiedTime = clock.nowSeconds();
            Json view = subscriptionView(s);
            persist(kSubscription, org, name, wire::toStorageJson(s), view,
                    replyAfterCommit(std::move(reply), ok(view)));
        }
        post([key](Impl &d) { d.reconcileSubscription(key); });
    }

    void deleteSubscription(const std::string &org, const std::string &name, Reply reply)
    {
        const Key key{org, name};
        {
            std::lock_guard lock(mutex);
            if (stopping)
                return reply(ApiError::unavailable("the server is shutting down"));
            auto it = subscriptions.find(key);
            if (it == subscriptions.end())
                return reply(ApiError::notFound("subscription " + name + " not found"));
            auto &s = it->second.m;
            if (s.status == Status::Deleting)
                return reply(ApiError::badRequest("bad request when processing subscription " + name +
                                                  ": subscription is already DELETING"));
            s.status = Status::Deleting;
            s.modifiedTime = clock.nowSeconds();
            Json view = subscriptionView(s);
            persist(kSubscription, org, name, wire::toStorageJson(s), view,
                    replyAfterCommit(std::move(reply), ok(view)));
        }
        post([key](Impl &d) { d.finishSubscriptionDelete(key); });
    }

    // --- driver types --------------------------------------------------------------------------------------
    void listDriverTypes(const std::string &org, Reply reply)
    {
        Json out = Json::array();
        {
            std::lock_guard lock(mutex);
            for (auto it = driverTypes.lower_bound({org, ""}); it != driverTypes.end() && it->first.first == org; ++it)
                out.push_back(it->second.m);
        }
        reply(ok(std::move(out)));
    }

    void getDriverType(const std::string &org, const std::string &name, Reply reply)
    {
        Json view;
        {
            std::lock_guard lock(mutex);
            auto it = driverTypes.find({org, name});
            if (it != driverTypes.end())
                view = it->second.m;
        }
        if (view.is_null())
            return reply(ApiError::notFound("event driver type " + name + " not found"));
        reply(ok(std::move(view)));
    }

    void createDriverType(const std::string &org, wire::EventDriverType m, Reply reply)
    {
        std::lock_guard lock(mutex);
        if (stopping)
            return reply(ApiError::unavailable("the server is shutting down"));
        const Key key{org, m.name};
        if (driverTypes.count(key))
            return reply(ApiError::conflict("event driver type " + m.name + " already exists"));
        m.id = newUuid();
        m.createdTime = m.modifiedTime = clock.nowSeconds();
        Json view = m;
        persist(kDriverType, org, m.name, wire::toStorageJson(m), view,
                replyAfterCommit(std::move(reply), ok(view, 201)));
        driverTypes[key].m = std::move(m);
    }

    void updateDriverType(const std::string &org, const std::string &name, wire::EventDriverType m, Reply reply)
    {
        std::lock_guard lock(mutex);
        if (stopping)
            return reply(ApiError::unavailable("the server is shutting down"));
        auto it = driverTypes.find({org, name});
        if (it == driverTypes.end())
            return reply(ApiError::notFound("event driver type " + name + " not found"));
        auto &t = it->second.m;
        t.image = std::move(m.image);
        t.expose = m.expose;
        t.config = std::move(m.config);
        t.tags = std::move(m.tags);
        t.modifiedTime = clock.nowSeconds();
        Json view = t;
        persist(kDriverType, org, name, wire::toStorageJson(t), view, replyAfterCommit(std::move(reply), ok(view)));
    }

    void deleteDriverType(const std::string &org, const std::string &name, Reply reply)
    {
        std::lock_guard lock(mutex);
        if (stopping)
            return reply(ApiError::unavailable("the server is shutting down"));
        auto it = driverTypes.find({org, name});
        if (it == driverTypes.end())
            return reply(ApiError::notFound("event driver type " + name + " not found"));
        Json view = it->second.m;
        driverTypes.erase(it);
        erase(kDriverType, org, name, view, replyAfterCommit(std::move(reply), ok(view)));
    }

    // --- drivers -------------------------------------------------------------------------------------------
    void listDrivers(const std::string &org, Reply reply)
    {
        Json out = Json::array();
        {
            std::lock_guard lock(mutex);
            for (auto it = drivers.lower_bound({org, ""}); it != drivers.end() && it->first.first == org; ++it)
                out.push_back(it->second.m);
        }
        reply(ok(std::move(out)));
    }

    void getDriver(const std::string &org, const std::string &name, Reply reply)
    {
        Json view;
        {
            std::lock_guard lock(mutex);
            auto it = drivers.find({org, name});
            if (it != drivers.end())
                view = it->second.m;
        }
        if (view.is_null())
            return reply(ApiError::notFound("event driver " + name + " not found"));
        reply(ok(std::move(view)));
    }

    void createDriver(const std::string &org, wire::EventDriver m, Reply reply)
    {
        const Key key{org, m.name};
        uint64_t gen = 0;
        {
            std::lock_guard lock(mutex);
            if (stopping)
                return reply(ApiError::unavailable("the server is shutting down"));
            if (drivers.count(key))
                return reply(ApiError::conflict("event driver " + m.name + " already exists"));
            auto type = driverTypes.find({org, m.type});
            if (type == driverTypes.end())
                return reply(ApiError::badRequest("bad request when processing event driver " + m.name +
                                                  ": driver type " + m.type + " does not exist"));
            DriverEntry e;
            e.image = type->second.m.image;
            e.source = newUuid();
            m.expose = type->second.m.expose;
            m.id = newToken();
            m.url.clear();
            m.createdTime = m.modifiedTime = clock.nowSeconds();
            m.status = Status::Creating;
            m.reason.clear();
            e.m = std::move(m);
            e.generation = gen = nextGeneration++;
            Json view = e.m;
            persist(kDriver, org, key.second, storedDriver(e), view, replyAfterCommit(std::move(reply), ok(view, 201)));
            tokens[e.m.id] = key;
            drivers[key] = std::move(e);
        }
        scheduleDeploy(key, gen);
    }

    void updateDriver(const std::string &org, const std::string &name, wire::EventDriver m, Reply reply)
    {
        const Key key{org, name};
        uint64_t gen = 0;
        {
            std::lock_guard lock(mutex);
            if (stopping)
                return reply(ApiError::unavailable("the server is shutting down"));
            auto it = drivers.find(key);
            if (it == drivers.end())
                return reply(ApiError::notFound("event driver " + name + " not found"));
            auto &e = it->second;
            if (e.m.status == Status::Updating || e.m.status == Status::Deleting)
                return reply(ApiError::badRequest("bad request when processing event driver " + name +
                                                  ": event driver is already " + wire::toString(e.m.status)));
            auto type = driverTypes.find({org, m.type});
            if (type == driverTypes.end())
                return reply(ApiError::badRequest("bad request when processing event driver " + name +
                                                  ": driver type " + m.type + " does not exist"));
            e.image = type->second.m.image;
            e.m.type = std::move(m.type);
            e.m.config = std::move(m.config);
            e.m.secrets = std::move(m.secrets);
            e.m.tags = std::move(m.tags);
            e.m.expose = type->second.m.expose;
            e.m.status = Status::Updating;
            e.m.reason.clear();
            e.m.modifiedTime = clock.nowSeconds();
            e.generation = gen = nextGeneration++;
            Json view = e.m;
            persist(kDriver, org, name, storedDriver(e), view, replyAfterCommit(std::move(reply), ok(view)));
        }
        scheduleDeploy(key, gen);
    }

    void deleteDriver(const std::string &org, const std::string &name, Reply reply)
    {
        const Key key{org, name};
        uint64_t gen = 0;
        std::shared_ptr<DriverRunner> runner;
        {
            std::lock_guard lock(mutex);
            if (stopping)
                return reply(ApiError::unavailable("the server is shutting down"));
            auto it = drivers.find(key);
            if (it == drivers.end())
                return reply(ApiError::notFound("event driver " + name + " not found"));
            auto &e = it->second;
            if (e.m.status == Status::Deleting)
                return reply(ApiError::badRequest("bad request when processing event driver " + name +
                                                  ": event driver is already DELETING"));
            e.m.status = Status::Deleting;
            e.m.reason.clear();
            e.m.modifiedTime = clock.nowSeconds();
            e.generation = gen = nextGeneration++;
            runner = std::move(e.runner);
            Json view = e.m;
            persist(kDriver, org, name, storedDriver(e), view, replyAfterCommit(std::move(reply), ok(view)));
        }
        if (runner)
            runner->stop(false);
        post([key, gen](Impl &d) { d.finishDriverDelete(key, gen); });
    }

    void finishDriverDelete(const Key &key, uint64_t gen)
    {
        Json view;
        std::shared_ptr<DriverRunner> runner;
        {
            std::lock_guard lock(mutex);
            auto it = drivers.find(key);
            if (it == drivers.end() || it->second.generation != gen)
                return;
            runner = std::move(it->second.runner);
            view = it->second.m;
            tokens.erase(it->second.m.id);
            drivers.erase(it);
        }
        if (runner)
            runner->stop(false);
        erase(kDriver, key.first, key.second, std::move(view));
        spdlog::info("event driver {}/{} deleted", key.first, key.second);
    }

    // A new or updated driver stays CREATING/UPDATING for a moment so that clients see the state.
    void scheduleDeploy(const Key &key, uint64_t gen)
    {
        auto timer = std::make_shared<asio::steady_timer>(io, options.driverSettle);
        timer->async_wait([weak = weak_from_this(), key, gen, timer](const boost::system::error_code &ec) {
            if (ec)
                return;
            if (auto self = weak.lock())
                self->deployDriver(key, gen);
        });
    }

    std::string localEndpoint()
    {
        const bool any = apiHost.empty() || apiHost == "0.0.0.0" || apiHost == "::" || apiHost == "[::]";
        std::string host = any ? std::string("127.0.0.1") : apiHost;
        if (host.find(':') != std::string::npos && host.front() != '[')
            host = "[" + host + "]";
        return host + ":" + std::to_string(apiPort);
    }
    std::string publicBase()
    {
        std::string host = apiHost.empty() ? std::string("127.0.0.1") : apiHost;
        if (host.find(':') != std::string::npos && host.front() != '[')
            host = "[" + host + "]";
        return "http://" + host + ":" + std::to_string(apiPort);
    }

    void deployDriver(const Key &key, uint64_t gen)
    {
        std::shared_ptr<DriverRunner> old;
        wire::EventDriver m;
        std::string image, source;
        {
            std::lock_guard lock(mutex);
            if (!started || stopping)
                return; // start() deploys every driver
            auto it = drivers.find(key);
            if (it == drivers.end() || it->second.generation != gen || it->second.m.status == Status::Deleting)
                return;
            old = std::move(it->second.runner);
            m = it->second.m;
            image = it->second.image;
            source = it->second.source;
        }
        if (old)
            old->stop(false);
        const DriverChoice choice = chooseDriverImplementation(image);
        source = configValue(m, "source").value_or(source);
        switch (choice.implementation) {
        case DriverImplementation::Unsupported:
            return setDriverStatus(key, gen, Status::Error, choice.reason);
        case DriverImplementation::Push: {
            const std::string url = publicBase() + "/v1/event/ingest?authToken=" + m.id;
            return setDriverStatus(key, gen, Status::Ready, {}, url);
        }
        case DriverImplementation::Cron: {
            auto spec = configValue(m, "cron");
            if (!spec || spec->empty())
                return setDriverStatus(key, gen, Status::Error,
                                       "config cron is required: a cron spec whose first field is seconds, e.g. "
                                       "*/10 * * * * *");
            auto schedule = CronSchedule::parse(*spec);
            if (!schedule)
                return setDriverStatus(key, gen, Status::Error,
                                       "invalid cron spec '" + *spec + "': " + schedule.error().message);
            return install(key, gen, TimerDriver::cron(io, std::move(*schedule), source, emitter(key, gen)), true);
        }
        case DriverImplementation::Ticker: {
            auto seconds = configValue(m, "seconds");
            long long n = 0;
            if (seconds) {
                try {
                    std::size_t used = 0;
                    n = std::stoll(*seconds, &used);
                    if (used != seconds->size())
                        n = 0;
                } catch (...) {
                    n = 0;
                }
            }
            if (n <= 0 || n > 365LL * 86400)
                return setDriverStatus(key, gen, Status::Error,
                                       "config seconds must be a whole number of seconds (at least 1), got '" +
                                           seconds.value_or("") + "'");
            return install(key, gen,
                           TimerDriver::ticker(io, std::chrono::seconds(n), "ticker.tick", source, emitter(key, gen)),
                           true);
        }
        case DriverImplementation::Process:
            if (::access(choice.executable.c_str(), X_OK) != 0 || !std::filesystem::is_regular_file(choice.executable))
                return setDriverStatus(key, gen, Status::Error,
                                       "the driver executable " + choice.executable.string() +
                                           " does not exist or is not executable");
            return gatherSecrets(key.first, m.secrets,
                                 [key, gen, exe = choice.executable](
                                     Impl &d, Result<std::map<std::string, std::string>> secrets) {
                                     if (!secrets)
                                         return d.setDriverStatus(key, gen, Status::Error, secrets.error().message);
                                     d.launchProcess(key, gen, exe, *secrets);
                                 });
        }
    }

    EmitEvent emitter(const Key &key, uint64_t gen)
    {
        return [weak = weak_from_this(), key, gen](wire::CloudEvent e) {
            auto self = weak.lock();
            if (!self)
                return;
            {
                std::lock_guard lock(self->mutex);
                auto it = self->drivers.find(key);
                if (it == self->drivers.end() || it->second.generation != gen || self->stopping)
                    return; // a stopped runner's last tick
            }
            std::vector<wire::CloudEvent> events;
            events.push_back(std::move(e));
            self->accept(key.first, std::move(events), {}, {});
        };
    }

    void install(const Key &key, uint64_t gen, std::shared_ptr<DriverRunner> runner, bool readyNow)
    {
        {
            std::lock_guard lock(mutex);
            auto it = drivers.find(key);
            if (stopping || it == drivers.end() || it->second.generation != gen ||
                it->second.m.status == Status::Deleting) {
                runner->stop(true);
                return;
            }
            it->second.runner = runner;
        }
        runner->start();
        if (readyNow)
            setDriverStatus(key, gen, Status::Ready, {});
    }

    // Looks up the driver's secrets in the Service; `done` runs on an I/O thread.
    void gatherSecrets(const std::string &org, const std::vector<std::string> &names,
                       std::function<void(Impl &, Result<std::map<std::string, std::string>>)> done)
    {
        struct State
        {
            std::mutex mutex;
            std::size_t remaining = 0;
            std::map<std::string, std::string> values;
            std::optional<ApiError> error;
            std::function<void(Impl &, Result<std::map<std::string, std::string>>)> done;
        };
        auto state = std::make_shared<State>();
        state->remaining = names.size();
        state->done = std::move(done);
        if (names.empty()) {
            post([state](Impl &d) { state->done(d, std::map<std::string, std::string>{}); });
            return;
        }
        for (const auto &n : names) {
            // Answered with the Service's lock held: only collect here, continue on the I/O threads.
            service.getSecret(org, n, [weak = weak_from_this(), state, n](Result<Answer> r) {
                std::lock_guard lock(state->mutex);
                if (!r.ok()) {
                    if (!state->error)
                        state->error = ApiError::badRequest("secret " + n + " not found");
                } else if (const Json &body = r.value().body; body.is_object() && body.contains("secrets") &&
                                                                 body["secrets"].is_object()) {
                    for (const auto &[k, v] : body["secrets"].items())
                        if (v.is_string())
                            state->values[k] = v.get<std::string>();
                }
                if (--state->remaining != 0)
                    return;
                if (auto self = weak.lock())
                    self->post([state](Impl &d) {
                        if (state->error)
                            state->done(d, *state->error);
                        else
                            state->done(d, state->values);
                    });
            });
        }
    }

    void launchProcess(const Key &key, uint64_t gen, const std::filesystem::path &exe,
                       const std::map<std::string, std::string> &secrets)
    {
        ProcessDriverSpec spec;
        {
            std::lock_guard lock(mutex);
            auto it = drivers.find(key);
            if (stopping || it == drivers.end() || it->second.generation != gen ||
                it->second.m.status == Status::Deleting)
                return;
            const auto &m = it->second.m;
            const std::string endpoint = localEndpoint();
            spec.argv.push_back(exe.string());
            if (m.config)
                for (const auto &kv : *m.config)
                    spec.argv.push_back("--" + kv.key + (kv.value.empty() ? std::string() : "=" + kv.value));
            spec.argv.push_back("--dispatch-api-endpoint=" + endpoint);
            std::map<std::string, std::string> env;
            for (const auto &kv : engine::environmentWith({})) {
                auto eq = kv.find('=');
                if (eq != std::string::npos)
                    env[kv.substr(0, eq)] = kv.substr(eq + 1);
            }
            for (const auto &[k, v] : secrets)
                env[envName(k)] = v;
            env["AUTH_TOKEN"] = m.id;
            env["DISPATCH_API_ENDPOINT"] = endpoint;
            for (const auto &[k, v] : env)
                spec.env.push_back(k + "=" + v);
            spec.logFile = options.dataDir / "logs" / "drivers" /
                           (safeComponent(key.first) + "-" + safeComponent(key.second) + ".log");
            spec.label = key.first + "/" + key.second;
            spec.readyAfter = options.driverReadyAfter;
            spec.backoffMin = options.driverBackoffMin;
            spec.backoffMax = options.driverBackoffMax;
        }
        auto report = [weak = weak_from_this(), key, gen](Status status, std::string reason) {
            if (auto self = weak.lock())
                self->post([key, gen, status, reason = std::move(reason)](Impl &d) {
                    d.setDriverStatus(key, gen, status, reason);
                });
        };
        install(key, gen, std::make_shared<ProcessDriver>(io, reaper, std::move(spec), std::move(report)), false);
    }

    void setDriverStatus(const Key &key, uint64_t gen, Status status, const std::string &reason,
                         std::optional<std::string> url = std::nullopt)
    {
        std::lock_guard lock(mutex);
        auto it = drivers.find(key);
        if (it == drivers.end() || it->second.generation != gen || it->second.m.status == Status::Deleting ||
            stopping)
            return;
        auto &m = it->second.m;
        std::vector<std::string> reasons;
        if (!reason.empty())
            reasons.push_back(reason);
        const std::string newUrl = url.value_or(std::string());
        const bool expose = url.has_value() || m.expose;
        if (m.status == status && m.reason == reasons && m.url == newUrl && m.expose == expose)
            return;
        if (status == Status::Error)
            spdlog::warn("event driver {}/{} is in ERROR: {}", key.first, key.second, reason);
        else if (status == Status::Ready && m.status != Status::Ready)
            spdlog::info("event driver {}/{} is READY", key.first, key.second);
        m.status = status;
        m.reason = std::move(reasons);
        m.url = newUrl;
        m.expose = expose;
        m.modifiedTime = clock.nowSeconds();
        persist(kDriver, key.first, key.second, storedDriver(it->second), Json(m));
    }

    // --- routing -------------------------------------------------------------------------------------------
    void route(api::RouteRequest &rr, Reply reply)
    {
        const auto &req = rr.ctx->request;
        const auto method = req.method();
        const auto &parts = rr.parts;
        const std::string &org = rr.org;
        auto notAllowed = [&](const char *allowed) {
            reply(ApiError{405, 405, "method " + std::string(req.method_string()) + " is not allowed, but [" +
                                         allowed + "] are"});
        };
        auto checkName = [&](const char *param, const std::string &value) {
            if (wire::isValidPathName(value))
                return true;
            reply(ApiError::validation(605, std::string(param) + " in path should match '^[\\w\\d\\-]+$'"));
            return false;
        };

        if (parts.size() == 2) {
            if (method != bhttp::verb::post)
                return notAllowed("POST");
            return emit(org, req, std::move(reply));
        }
        const std::string &resource = parts[2];
        if (resource == "ingest" && parts.size() == 3) {
            if (method != bhttp::verb::post)
                return notAllowed("POST");
            return ingest(rr, std::move(reply));
        }
        if (parts.size() > 4)
            return reply(ApiError::notFound("resource does not exist"));

        // Subscriptions, driver types and drivers share one shape: /<resource> (GET list, POST create) and
        // /<resource>/<name> (GET, PUT, DELETE); only the parser, the path parameter and the handlers differ.
        const auto crud = [&](const char *nameParam, auto parse, auto listFn, auto createFn, auto getFn, auto updateFn,
                              auto deleteFn) {
            if (parts.size() == 3) {
                if (method == bhttp::verb::get)
                    return (this->*listFn)(org, std::move(reply));
                if (method == bhttp::verb::post) {
                    auto m = parse(req.body());
                    if (!m)
                        return reply(fromValidation(m.error()));
                    return (this->*createFn)(org, std::move(*m), std::move(reply));
                }
                return notAllowed("GET POST");
            }
            if (!checkName(nameParam, parts[3]))
                return;
            if (method == bhttp::verb::get)
                return (this->*getFn)(org, parts[3], std::move(reply));
            if (method == bhttp::verb::put) {
                auto m = parse(req.body());
                if (!m)
                    return reply(fromValidation(m.error()));
                return (this->*updateFn)(org, parts[3], std::move(*m), std::move(reply));
            }
            if (method == bhttp::verb::delete_)
                return (this->*deleteFn)(org, parts[3], std::move(reply));
            return notAllowed("DELETE GET PUT");
        };
        if (resource == "subscriptions")
            return crud("subscriptionName", wire::parseSubscription, &Impl::listSubscriptions,
                        &Impl::createSubscription, &Impl::getSubscription, &Impl::updateSubscription,
                        &Impl::deleteSubscription);
        if (resource == "drivertypes")
            return crud("driverTypeName", wire::parseEventDriverType, &Impl::listDriverTypes, &Impl::createDriverType,
                        &Impl::getDriverType, &Impl::updateDriverType, &Impl::deleteDriverType);
        if (resource == "drivers")
            return crud("driverName", wire::parseEventDriver, &Impl::listDrivers, &Impl::createDriver,
                        &Impl::getDriver, &Impl::updateDriver, &Impl::deleteDriver);
        reply(ApiError::notFound("resource does not exist"));
    }

    static Json echoOf(const EventRequest &r)
    {
        if (!r.array)
            return Json(r.events.front());
        Json out = Json::array();
        for (const auto &e : r.events)
            out.push_back(e);
        return out;
    }

    void emit(const std::string &org, const http::Request &req, Reply reply)
    {
        auto parsed = parseEventRequest(req, false);
        if (!parsed)
            return reply(fromValidation(parsed.error()));
        Json echo = echoOf(*parsed);
        accept(org, std::move(parsed->events), std::move(reply), ok(std::move(echo)));
    }

    void ingest(api::RouteRequest &rr, Reply reply)
    {
        auto token = rr.query.get("authToken");
        if (!token || token->empty())
            return reply(ApiError::validation(602, "authToken in query is required"));
        std::string org;
        {
            std::lock_guard lock(mutex);
            auto it = tokens.find(*token);
            if (it != tokens.end())
                org = it->second.first;
        }
        if (org.empty())
            return reply(ApiError::unauthorized("token not recognized"));
        auto parsed = parseEventRequest(rr.ctx->request, true);
        if (!parsed)
            return reply(fromValidation(parsed.error()));
        if (parsed->events.empty())
            return reply(ok(Json::array()));
        Json echo = echoOf(*parsed);
        accept(org, std::move(parsed->events), std::move(reply), ok(std::move(echo)));
    }
};

EventManager::EventManager(asio::io_context &io, store::Store &store, api::Service &service, engine::Engine &engine,
                           ChangeFeed &feed, const Clock &clock, EventManagerOptions options)
    : m_impl(std::make_shared<Impl>(io, store, service, engine, feed, clock, std::move(options)))
{
}

EventManager::~EventManager()
{
    m_impl->stop();
}

void EventManager::load()
{
    m_impl->load();
}

void EventManager::registerRoutes(api::RestApi &rest)
{
    api::RouteService routes;
    routes.handler = [weak = std::weak_ptr<Impl>(m_impl)](api::RouteRequest &rr, Reply reply) {
        auto self = weak.lock();
        if (!self)
            return reply(ApiError::unavailable("the server is shutting down"));
        self->route(rr, std::move(reply));
    };
    // The driver's token is the only credential of ingest (Solo wrongly demanded the org header and a cookie).
    routes.isPublic = [](const std::vector<std::string> &parts) { return parts.size() == 3 && parts[2] == "ingest"; };
    rest.addService("event", routes);
    rest.addService("events", routes);
}

void EventManager::setApiEndpoint(std::string host, uint16_t port)
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->apiHost = std::move(host);
    m_impl->apiPort = port;
}

void EventManager::start()
{
    m_impl->start();
}

void EventManager::stop()
{
    m_impl->stop();
}

} // namespace dispatch::events
