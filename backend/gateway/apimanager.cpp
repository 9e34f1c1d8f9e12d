// SPDX-License-Identifier: GPL-3.0-or-later
#include "gateway/apimanager.h"

#include <cctype>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "wire/validation.h"

namespace dispatch::gateway {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using api::Answer;
using wire::Json;
using api::Reply;
using wire::Status;

namespace {

constexpr const char *kKind = "API";

ApiError notFound(const std::string &name)
{
    return ApiError::notFound("api " + name + " not found");
}

ApiError fromValidation(const wire::ValidationError &v)
{
    return ApiError{v.httpStatus, v.code, v.message};
}

} // namespace

ApiManager::ApiManager(asio::io_context &io, store::Store &store, ChangeFeed &feed)
    : m_io(io), m_store(store), m_feed(feed)
{
    auto empty = std::make_shared<RouteTable>();
    empty->finish();
    m_routes.store(std::move(empty));
}

ApiManager::~ApiManager() = default;

void ApiManager::normalize(const std::string &org, wire::Api &m, bool stripExisting)
{
    for (auto &method : m.methods)
        for (auto &c : method)
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!m.hosts.empty())
        return; // with hosts, URIs are used as given
    const std::string prefix = "/" + org + "/";
    for (auto &uri : m.uris) {
        std::string_view rest = uri;
        if (stripExisting && rest.substr(0, prefix.size()) == prefix)
            rest.remove_prefix(prefix.size());
        else if (!rest.empty() && rest.front() == '/')
            rest.remove_prefix(1);
        uri = prefix + std::string(rest);
    }
}

void ApiManager::load()
{
    std::vector<std::pair<Key, uint64_t>> pending;
    std::size_t count = 0;
    {
        std::lock_guard lock(m_mutex);
        for (auto &row : m_store.loadEntities(kKind)) {
            const Json j = Json::parse(row.json, nullptr, false);
            if (j.is_discarded()) {
                spdlog::error("api {}/{}: the stored document is not JSON; ignored", row.org, row.name);
                continue;
            }
            Entry e;
            wire::from_json(j, e.m);
            e.generation = m_nextGeneration++;
            const Key key{row.org, row.name};
            switch (e.m.status) {
            case Status::Deleting:
                m_store.deleteEntity(kKind, row.org, row.name);
                continue;
            case Status::Ready:
                e.live = e.m;
                break;
            case Status::Error:
                break;
            default: // caught mid-creation or mid-update
                pending.emplace_back(key, e.generation);
                break;
            }
            m_entries[key] = std::move(e);
        }
        rebuildRoutesLocked();
        count = m_entries.size();
    }
    for (const auto &[key, generation] : pending)
        asio::post(m_io, [this, key = key, generation = generation] { activate(key, generation); });
    spdlog::info("gateway: {} APIs loaded", count);
}

api::RouteService ApiManager::routeService()
{
    api::RouteService s;
    s.handler = [this](api::RouteRequest &request, Reply reply) { handle(request, std::move(reply)); };
    return s;
}

void ApiManager::handle(api::RouteRequest &request, Reply reply)
{
    const auto &req = request.ctx->request;
    const auto method = req.method();
    const auto &parts = request.parts;
    auto notAllowed = [&](const char *allowed) {
        reply(ApiError{405, 405, "method " + std::string(req.method_string()) + " is not allowed, but [" +
                                     allowed + "] are"});
    };
    if (parts.size() == 2) {
        if (method == bhttp::verb::get) {
            auto function = request.query.get("function");
            if (function && function->empty())
                function.reset();
            return list(request.org, function, std::move(reply));
        }
        if (method == bhttp::verb::post) {
            auto m = wire::parseApi(req.body());
            if (!m)
                return reply(fromValidation(m.error()));
            return create(request.org, std::move(*m), std::move(reply));
        }
        return notAllowed("GET POST");
    }
    if (parts.size() != 3)
        return reply(ApiError::notFound("resource does not exist"));
    const std::string &name = parts[2];
    if (!wire::isValidPathName(name))
        return reply(ApiError::validation(605, "api in path should match '^[\\w\\d\\-]+$'"));
    if (method == bhttp::verb::get)
        return get(request.org, name, std::move(reply));
    if (method == bhttp::verb::put) {
        auto m = wire::parseApi(req.body());
        if (!m)
            return reply(fromValidation(m.error()));
        return update(request.org, name, std::move(*m), std::move(reply));
    }
    if (method == bhttp::verb::delete_)
        return remove(request.org, name, std::move(reply));
    notAllowed("DELETE GET PUT");
}

void ApiManager::list(const std::string &org, const std::optional<std::string> &function, Reply reply)
{
    Json out = Json::array();
    {
        std::lock_guard lock(m_mutex);
        for (auto it = m_entries.lower_bound({org, ""}); it != m_entries.end() && it->first.first == org; ++it)
            if (!function || it->second.m.function == *function)
                out.push_back(it->second.m);
    }
    reply(Answer{200, std::move(out), false});
}

void ApiManager::get(const std::string &org, const std::string &name, Reply reply)
{
    Json body;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_entries.find({org, name});
        if (it == m_entries.end())
            return reply(notFound(name));
        body = it->second.m;
    }
    reply(Answer{200, std::move(body), false});
}

void ApiManager::create(const std::string &org, wire::Api m, Reply reply)
{
    std::lock_guard lock(m_mutex);
    const Key key{org, m.name};
    if (m_entries.count(key))
        return reply(ApiError::conflict("api " + m.name + " already exists"));
    normalize(org, m, false);
    m.id = newUuid();
    m.status = Status::Creating;
    m.reason.clear();
    Entry e;
    e.m = std::move(m);
    e.generation = m_nextGeneration++;
    const uint64_t generation = e.generation;
    persistLocked(key, e,
                  replyAfterCommit(std::move(reply), Answer{200, Json(e.m), false},
                                   [this, key, generation] { activate(key, generation); }));
    m_entries[key] = std::move(e);
}

void ApiManager::update(const std::string &org, const std::string &name, wire::Api m, Reply reply)
{
    std::lock_guard lock(m_mutex);
    const Key key{org, name};
    auto it = m_entries.find(key);
    if (it == m_entries.end())
        return reply(notFound(name));
    Entry &e = it->second;
    normalize(org, m, true);
    m.name = name; // the path names the API; a different name in the body does not rename it
    m.id = e.m.id;
    m.status = Status::Updating;
    m.reason.clear();
    e.m = std::move(m);
    e.generation = m_nextGeneration++;
    const uint64_t generation = e.generation;
    persistLocked(key, e,
                  replyAfterCommit(std::move(reply), Answer{200, Json(e.m), false},
                                   [this, key, generation] { activate(key, generation); }));
}

void ApiManager::remove(const std::string &org, const std::string &name, Reply reply)
{
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find({org, name});
    if (it == m_entries.end())
        return reply(notFound(name));
    it->second.m.status = Status::Deleting;
    Json body = it->second.m;
    // The route goes first, so that once the answer is out no request reaches the function through it.
    m_entries.erase(it);
    rebuildRoutesLocked();
    m_feed.publish(org, "api.updated", kKind, name, body);
    m_feed.publish(org, "api.deleted", kKind, name, Json{{"name", name}});
    m_store.deleteEntity(kKind, org, name, replyAfterCommit(std::move(reply), Answer{200, std::move(body), false}));
}

void ApiManager::activate(const Key &key, uint64_t generation)
{
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(key);
    if (it == m_entries.end() || it->second.generation != generation)
        return; // deleted or changed again since; the newer change activates itself
    Entry &e = it->second;
    if (e.m.status != Status::Creating && e.m.status != Status::Updating && e.m.status != Status::None &&
        e.m.status != Status::Initialized)
        return;
    e.m.status = Status::Ready;
    e.live = e.m;
    rebuildRoutesLocked();
    persistLocked(key, e);
    spdlog::debug("gateway: api {}/{} is READY ({} {})", key.first, key.second,
                  e.m.enabled ? "serving" : "disabled, not serving",
                  e.m.uris.empty() ? std::string("every path") : e.m.uris.front());
}

void ApiManager::persistLocked(const Key &key, const Entry &entry, store::Done done)
{
    m_store.putEntity(store::EntityRow{kKind, key.first, key.second, wire::toStorageJson(entry.m).dump()},
                      std::move(done));
    m_feed.publish(key.first, "api.updated", kKind, key.second, Json(entry.m));
}

void ApiManager::rebuildRoutesLocked()
{
    auto table = std::make_shared<RouteTable>();
    for (const auto &[key, e] : m_entries)
        if (e.live && e.live->enabled)
            table->add(key.first, *e.live);
    table->finish();
    m_routes.store(std::move(table), std::memory_order_release);
}

store::Done ApiManager::replyAfterCommit(Reply reply, Answer answer, std::function<void()> then)
{
    return [this, reply = std::move(reply), answer = std::move(answer),
            then = std::move(then)](bool committed) mutable {
        // The writer thread must not wait on our lock or run handlers: continue on the I/O threads.
        asio::post(m_io, [reply = std::move(reply), answer = std::move(answer), then = std::move(then),
                          committed]() mutable {
            if (!committed) {
                reply(ApiError::internal("the server could not store the change (see the server log)"));
                return;
            }
            reply(std::move(answer));
            if (then)
                then();
        });
    };
}

} // namespace dispatch::gateway
