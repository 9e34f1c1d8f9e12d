// SPDX-License-Identifier: GPL-3.0-or-later
#include "api/service.h"

#include <algorithm>
#include <set>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "core/coalescingposter.h"
#include "core/ids.h"
#include "engine/sourcearchive.h"
#include "wire/jsonschema.h"
#include "wire/jsonwriter.h"

namespace dispatch::api {

namespace asio = boost::asio;
using wire::Status;

namespace {

using Key = std::pair<std::string, std::string>; // org, name

// Kinds as stored (the Dispatch entity type names).
constexpr const char *kBaseImage = "BaseImage";
constexpr const char *kImage = "Image";
constexpr const char *kFunction = "Function";
constexpr const char *kSecret = "Secret";

Json runtimeToJson(const engine::RuntimeInfo &rt)
{
    return {{"runtime", rt.runtime},
            {"interpreter", rt.interpreter.string()},
            {"version", rt.version},
            {"compiler", rt.compiler.string()}};
}

engine::RuntimeInfo runtimeFromJson(const Json &j)
{
    engine::RuntimeInfo rt;
    if (!j.is_object())
        return rt;
    rt.runtime = j.value("runtime", "");
    rt.interpreter = j.value("interpreter", "");
    rt.version = j.value("version", "");
    rt.compiler = j.value("compiler", "");
    return rt;
}

Answer ok(Json body, int status = 200)
{
    return Answer{status, std::move(body), false};
}

// Saved test inputs live in the store's key/value table, one JSON array per function.
std::string testInputsKey(const std::string &org, const std::string &function)
{
    return "testinputs/" + org + "/" + function;
}

constexpr std::size_t kMaxTestInputs = 200;
constexpr std::size_t kMaxTestInputNameLength = 128;
constexpr std::size_t kMaxTestInputsBytes = 1024 * 1024;

} // namespace

struct Service::Impl
{
    struct BaseImageEntry
    {
        wire::BaseImage m;
        engine::RuntimeInfo rt;
        uint64_t generation = 0;
    };
    struct ImageEntry
    {
        wire::Image m;
        engine::RuntimeInfo rt;
        engine::ImageInfo info;
        uint64_t generation = 0;
    };
    struct FunctionEntry
    {
        wire::Function m;
        std::string effectiveHandler;
        uint64_t generation = 0;
        std::size_t finishedSinceTrim = 0;
    };
    struct SecretEntry
    {
        wire::Secret m;
    };

    Impl(Service &owner, asio::io_context &io_, store::Store &store_, const store::SecretBox &box_,
         engine::Engine &engine_, const Clock &clock_, ChangeFeed &feed_, ServiceOptions options_)
        : self(owner), io(io_), completions(io_), store(store_), box(box_), engine(engine_), clock(clock_),
          feed(feed_), options(std::move(options_))
    {
    }

    Service &self;
    asio::io_context &io;
    // Commit callbacks run on the store's writer thread: answers go back to the I/O threads through this,
    // one post per commit rather than one per answer.
    CoalescingPoster completions;
    // Reads that may take long (run lists) run here, never on the event loop; joined when the service goes,
    // before the store does. Their tasks use only the store and the reply.
    asio::thread_pool slowReads{2};
    store::Store &store;
    const store::SecretBox &box;
    engine::Engine &engine;
    const Clock &clock;
    ChangeFeed &feed;
    ServiceOptions options;
    std::vector<std::function<void(const std::string &, const std::string &)>> functionListeners;

    std::mutex mutex;
    std::map<Key, BaseImageEntry> baseImages;
    std::map<Key, ImageEntry> images;
    std::map<Key, FunctionEntry> functions;
    std::map<Key, SecretEntry> secrets;
    uint64_t nextGeneration = 1;
    std::atomic<bool> stopping{false};

    // --- persistence -------------------------------------------------------------------------------------
    store::EntityRow row(const char *kind, const std::string &org, const std::string &name, const Json &doc)
    {
        return store::EntityRow{kind, org, name, wire::dumpJson(doc)};
    }
    Json docOf(const BaseImageEntry &e)
    {
        Json j = e.m;
        j["_runtime"] = runtimeToJson(e.rt);
        return j;
    }
    Json docOf(const ImageEntry &e)
    {
        Json j = e.m;
        j["_runtime"] = runtimeToJson(e.rt);
        j["_env"] = e.info.envDir.string();
        j["runtimeDependencies"] = {{"manifest", e.m.runtimeManifest}};
        return j;
    }
    Json docOf(const FunctionEntry &e)
    {
        Json j = wire::toStorageJson(e.m);
        j["handler"] = e.m.handler;
        j["_effectiveHandler"] = e.effectiveHandler;
        j["_revision"] = e.m.faasId;
        return j;
    }
    Json docOf(const SecretEntry &e)
    {
        Json sealed = Json::object();
        for (const auto &[k, v] : e.m.secrets)
            sealed[k] = box.seal(v);
        Json tags = Json::array();
        for (const auto &t : e.m.tags)
            tags.push_back(t);
        return Json{{"name", e.m.name}, {"id", e.m.id}, {"tags", tags}, {"secrets", sealed}};
    }
    void persist(const char *kind, const std::string &org, const std::string &name, const Json &doc,
                 store::Done done = {})
    {
        store.putEntity(row(kind, org, name, doc), std::move(done));
        publishChange(kind, org, name, doc, false);
    }
    // Publishes the public view of an entity (internal "_" keys dropped; secret values never leave).
    void publishChange(const std::string &kind, const std::string &org, const std::string &name, const Json &doc,
                       bool deleted)
    {
        Json pub = Json::object();
        if (doc.is_object())
            for (auto it = doc.begin(); it != doc.end(); ++it)
                if (it.key().empty() || it.key()[0] != '_')
                    pub[it.key()] = it.value();
        if (kind == kSecret && pub.contains("secrets") && pub["secrets"].is_object()) {
            Json keys = Json::array();
            for (auto it = pub["secrets"].begin(); it != pub["secrets"].end(); ++it)
                keys.push_back(it.key());
            pub.erase("secrets");
            pub["keys"] = keys;
        }
        std::string lower;
        for (char c : kind)
            lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        feed.publish(org, lower + (deleted ? ".deleted" : ".updated"), kind, name, std::move(pub));
        if (kind == kFunction)
            for (const auto &l : functionListeners)
                l(org, name);
    }
    // Replies once the write is committed (or with a 500 if the store failed).
    // `then` runs after a successful commit (e.g. start the build that reads what was just written).
    store::Done replyAfterCommit(Reply reply, Answer answer, std::function<void()> then = {})
    {
        return [this, reply = std::move(reply), answer = std::move(answer),
                then = std::move(then)](bool committed) mutable {
            completions.post([reply = std::move(reply), answer = std::move(answer), committed,
                              then = std::move(then)]() mutable {
                if (committed)
                    reply(std::move(answer));
                else
                    reply(ApiError::internal("the server could not store the change (see the server log)"));
                if (committed && then)
                    then();
            });
        };
    }

    // --- load --------------------------------------------------------------------------------------------
    void load()
    {
        std::lock_guard lock(mutex);
        for (auto &r : store.loadEntities(kBaseImage)) {
            Json j = Json::parse(r.json, nullptr, false);
            if (j.is_discarded())
                continue;
            BaseImageEntry e;
            wire::from_json(j, e.m);
            e.rt = runtimeFromJson(j.value("_runtime", Json()));
            e.generation = nextGeneration++;
            baseImages[{r.org, r.name}] = std::move(e);
        }
        for (auto &r : store.loadEntities(kImage)) {
            Json j = Json::parse(r.json, nullptr, false);
            if (j.is_discarded())
                continue;
            ImageEntry e;
            wire::from_json(j, e.m);
            e.rt = runtimeFromJson(j.value("_runtime", Json()));
            e.info.envDir = j.value("_env", "");
            e.generation = nextGeneration++;
            images[{r.org, r.name}] = std::move(e);
        }
        for (auto &r : store.loadEntities(kFunction)) {
            Json j = Json::parse(r.json, nullptr, false);
            if (j.is_discarded())
                continue;
            FunctionEntry e;
            wire::from_json(j, e.m);
            e.effectiveHandler = j.value("_effectiveHandler", "");
            if (e.m.runRetention == 0) // written before runRetention was a field
                e.m.runRetention = j.value("_retention", int64_t(0));
            e.generation = nextGeneration++;
            functions[{r.org, r.name}] = std::move(e);
        }
        for (auto &r : store.loadEntities(kSecret)) {
            Json j = Json::parse(r.json, nullptr, false);
            if (j.is_discarded())
                continue;
            SecretEntry e;
            e.m.name = j.value("name", r.name);
            e.m.id = j.value("id", "");
            if (j.contains("tags") && j["tags"].is_array())
                for (const auto &t : j["tags"])
                    e.m.tags.push_back(t.get<wire::Tag>());
            if (j.contains("secrets") && j["secrets"].is_object()) {
                for (auto it = j["secrets"].begin(); it != j["secrets"].end(); ++it) {
                    auto plain = box.open(it.value().get<std::string>());
                    if (!plain) {
                        spdlog::error("secret {}/{} key {}: {}", r.org, r.name, it.key(), plain.error().message);
                        continue;
                    }
                    e.m.secrets[it.key()] = plain.value();
                }
            }
            secrets[{r.org, r.name}] = std::move(e);
        }
        spdlog::info("loaded {} base images, {} images, {} functions, {} secrets", baseImages.size(), images.size(),
                     functions.size(), secrets.size());
        // Resume: base images are probed again (the host may have changed); images whose environment is gone
        // are rebuilt; READY functions are deployed again; anything in progress continues.
        for (auto &[k, e] : baseImages) {
            if (e.m.status == Status::Deleting) {
                scheduleDeleteBaseImage(k);
                continue;
            }
            scheduleBaseImage(k, std::chrono::milliseconds(0));
        }
        for (auto &[k, e] : functions) {
            if (e.m.status == Status::Deleting)
                asio::post(io, [this, k] { finishDeleteFunction(k); });
        }
    }

    // --- base images -------------------------------------------------------------------------------------
    void scheduleBaseImage(const Key &key, std::chrono::milliseconds delay)
    {
        auto timer = std::make_shared<asio::steady_timer>(io, delay);
        timer->async_wait([this, key, timer](const boost::system::error_code &) { reconcileBaseImage(key); });
    }

    void reconcileBaseImage(const Key &key)
    {
        engine::BaseImageSpec spec;
        uint64_t gen = 0;
        {
            std::lock_guard lock(mutex);
            auto it = baseImages.find(key);
            if (it == baseImages.end() || it->second.m.status == Status::Deleting)
                return;
            spec = {key.first, key.second, it->second.m.dockerUrl, it->second.m.language};
            gen = it->second.generation;
        }
        engine.prepareBaseImage(spec, [this, key, gen](Result<engine::RuntimeInfo> r) {
            {
                std::lock_guard lock(mutex);
                auto it = baseImages.find(key);
                if (it == baseImages.end() || it->second.generation != gen || it->second.m.status == Status::Deleting)
                    return;
                auto &e = it->second;
                if (r) {
                    e.rt = r.value();
                    e.m.status = Status::Ready;
                    e.m.reason.clear();
                    spdlog::info("base image {}/{} is READY: {} {} ({})", key.first, key.second, e.rt.runtime,
                                 e.rt.version, e.rt.interpreter.string());
                } else {
                    e.m.status = Status::Error;
                    e.m.reason = {r.error().message};
                    spdlog::warn("base image {}/{} is in ERROR: {}", key.first, key.second, r.error().message);
                }
                persist(kBaseImage, key.first, key.second, docOf(e));
            }
            // Images built on it may now proceed (or fail).
            std::vector<Key> dependants;
            {
                std::lock_guard lock(mutex);
                for (auto &[ik, ie] : images)
                    if (ik.first == key.first && ie.m.baseImageName == key.second)
                        dependants.push_back(ik);
            }
            for (const auto &ik : dependants)
                reconcileImage(ik, true);
        });
    }

    void scheduleDeleteBaseImage(const Key &key)
    {
        asio::post(io, [this, key] {
            std::lock_guard lock(mutex);
            baseImages.erase(key);
            store.deleteEntity(kBaseImage, key.first, key.second);
            publishChange(kBaseImage, key.first, key.second, Json{{"name", key.second}}, true);
        });
    }

    // --- images ------------------------------------------------------------------------------------------
    // `baseChanged`: the base image changed state; rebuild images that depend on the old runtime.
    void reconcileImage(const Key &key, bool baseChanged)
    {
        engine::ImageSpec spec;
        uint64_t gen = 0;
        {
            std::lock_guard lock(mutex);
            auto it = images.find(key);
            if (it == images.end())
                return;
            auto &e = it->second;
            if (e.m.status == Status::Deleting || e.m.status == Status::Creating)
                return;
            if (e.m.status == Status::Ready && !baseChanged) {
                std::error_code ec;
                if (e.info.envDir.empty() || std::filesystem::exists(e.info.envDir, ec))
                    return;
            }
            auto b = baseImages.find({key.first, e.m.baseImageName});
            if (b == baseImages.end()) {
                setImageError(key, e, "base image " + e.m.baseImageName + " not found");
                return;
            }
            const auto &base = b->second;
            if (base.m.status == Status::Error) {
                setImageError(key, e,
                              "base image " + e.m.baseImageName + " is in ERROR: " +
                                  (base.m.reason.empty() ? std::string("unknown reason") : base.m.reason.front()));
                return;
            }
            if (base.m.status != Status::Ready)
                return; // waits; the base image's controller calls back
            if (e.m.status == Status::Ready && e.rt.interpreter == base.rt.interpreter && !e.info.envDir.empty()) {
                std::error_code ec;
                if (std::filesystem::exists(e.info.envDir, ec))
                    return;
            }
            e.m.status = Status::Creating;
            e.m.language = base.m.language;
            e.rt = base.rt;
            e.generation = nextGeneration++;
            gen = e.generation;
            persist(kImage, key.first, key.second, docOf(e));
            spec.org = key.first;
            spec.name = key.second;
            spec.id = e.m.id;
            spec.runtime = base.rt;
            spec.manifest = e.m.runtimeManifest;
            if (e.m.systemPackages)
                spec.systemPackages = *e.m.systemPackages;
        }
        engine.buildImage(spec, [this, key, gen](Result<engine::ImageInfo> r) {
            std::vector<Key> waiting;
            {
                std::lock_guard lock(mutex);
                auto it = images.find(key);
                if (it == images.end() || it->second.generation != gen)
                    return;
                auto &e = it->second;
                if (r) {
                    e.info = r.value();
                    e.m.status = Status::Ready;
                    e.m.reason.clear();
                    e.m.dockerUrl = "dispatch/" + e.m.id + ":latest";
                    spdlog::info("image {}/{} is READY", key.first, key.second);
                } else {
                    setImageError(key, e, r.error().message);
                    return;
                }
                persist(kImage, key.first, key.second, docOf(e));
                for (auto &[fk, fe] : functions)
                    if (fk.first == key.first && fe.m.image == key.second)
                        waiting.push_back(fk);
            }
            for (const auto &fk : waiting)
                reconcileFunction(fk);
        });
    }

    void setImageError(const Key &key, ImageEntry &e, std::string reason)
    {
        spdlog::warn("image {}/{} is in ERROR: {}", key.first, key.second, reason);
        e.m.status = Status::Error;
        e.m.reason = {std::move(reason)};
        persist(kImage, key.first, key.second, docOf(e));
        std::vector<Key> waiting;
        for (auto &[fk, fe] : functions)
            if (fk.first == key.first && fe.m.image == key.second &&
                (fe.m.status == Status::Initialized || fe.m.status == Status::Updating))
                waiting.push_back(fk);
        for (const auto &fk : waiting)
            asio::post(io, [this, fk] { reconcileFunction(fk); });
    }

    // --- functions ---------------------------------------------------------------------------------------
    void reconcileFunction(const Key &key)
    {
        engine::FunctionSpec spec;
        uint64_t gen = 0;
        {
            std::lock_guard lock(mutex);
            auto it = functions.find(key);
            if (it == functions.end())
                return;
            auto &f = it->second;
            const bool pendingBuild = f.m.status == Status::Initialized || f.m.status == Status::Updating;
            const bool redeploy = f.m.status == Status::Ready && !engine.isDeployed({key.first, key.second});
            if (!pendingBuild && !redeploy)
                return;
            auto im = images.find({key.first, f.m.image});
            if (im == images.end()) {
                setFunctionError(key, f, "image " + f.m.image + " not found");
                return;
            }
            if (im->second.m.status == Status::Error) {
                setFunctionError(key, f,
                                 "image " + f.m.image + " is in ERROR: " +
                                     (im->second.m.reason.empty() ? std::string("unknown reason")
                                                                  : im->second.m.reason.front()));
                return;
            }
            if (im->second.m.status != Status::Ready)
                return; // waits for the image
            if (f.m.status == Status::Initialized) {
                f.m.status = Status::Creating;
                persist(kFunction, key.first, key.second, docOf(f));
            }
            gen = f.generation;
            spec.key = {key.first, key.second};
            spec.revision = f.m.faasId;
            spec.runtime = im->second.rt;
            spec.image = im->second.info;
            spec.handler = f.m.handler;
            spec.timeoutMs = f.m.timeout;
        }
        auto source = store.getSource(key.first, key.second, spec.revision);
        if (!source) {
            std::lock_guard lock(mutex);
            auto it = functions.find(key);
            if (it != functions.end() && it->second.generation == gen)
                setFunctionError(key, it->second, "the source of revision " + spec.revision + " is missing");
            return;
        }
        spec.sourceTarGz = std::move(*source);
        engine.deployFunction(spec, [this, key, gen](Result<engine::DeployResult> r) {
            std::lock_guard lock(mutex);
            auto it = functions.find(key);
            if (it == functions.end() || it->second.generation != gen || it->second.m.status == Status::Deleting)
                return;
            auto &f = it->second;
            if (r) {
                f.m.status = Status::Ready;
                f.m.reason.clear();
                f.effectiveHandler = r.value().handler;
                spdlog::info("function {}/{} is READY (revision {})", key.first, key.second, f.m.faasId);
                persist(kFunction, key.first, key.second, docOf(f));
            } else if (r.error().status != 503) { // 503 = superseded by a newer revision: not an error
                setFunctionError(key, f, r.error().message);
            }
        });
    }

    void setFunctionError(const Key &key, FunctionEntry &f, std::string reason)
    {
        spdlog::warn("function {}/{} is in ERROR: {}", key.first, key.second, reason);
        f.m.status = Status::Error;
        f.m.reason = {std::move(reason)};
        persist(kFunction, key.first, key.second, docOf(f));
    }

    void finishDeleteFunction(const Key &key)
    {
        engine.removeFunction({key.first, key.second});
        store.deleteRunsOfFunction(key.first, key.second);
        store.deleteSources(key.first, key.second);
        store.deleteEntity(kFunction, key.first, key.second);
        {
            std::lock_guard lock(mutex);
            auto it = functions.find(key);
            if (it != functions.end() && it->second.m.status == Status::Deleting)
                functions.erase(it);
        }
        publishChange(kFunction, key.first, key.second, Json{{"name", key.second}}, true);
    }

    // Checks the uploaded source before accepting it: decodes it and reads the archive with every safety rule,
    // without touching the disk. Returns the tar.gz bytes.
    Result<std::string> checkSource(const wire::Function &m)
    {
        if (m.source.empty()) {
            if (!m.sourceURL.empty())
                return ApiError::badRequest("sourceURL " + m.sourceURL +
                                            " cannot be fetched by this server; send the source inline");
            return ApiError::badRequest("either source or sourceURL must be specified");
        }
        auto bytes = engine::decodeBase64(m.source);
        if (!bytes)
            return bytes.error();
        auto files = engine::listTarGz(bytes.value(), engine::ExtractLimits{});
        if (!files)
            return files.error();
        if (files->empty())
            return ApiError::badRequest("the source archive contains no files");
        return bytes;
    }

    // --- runs --------------------------------------------------------------------------------------------
    void trimIfDue(const std::string &org, const std::string &fn)
    {
        std::size_t keep = 0;
        {
            std::lock_guard lock(mutex);
            auto it = functions.find({org, fn});
            if (it == functions.end())
                return;
            keep = it->second.m.runRetention > 0 ? static_cast<std::size_t>(it->second.m.runRetention)
                                                 : options.defaultRunRetention;
            // The store keeps a count per function, so a trim costs a lookup until the retention is exceeded,
            // then deletes only the oldest excess. Trimming every 64 runs (or every tenth of a small retention)
            // keeps each DELETE, which every later commit waits behind, small.
            if (++it->second.finishedSinceTrim < std::clamp<std::size_t>(keep / 10, 1, 64))
                return;
            it->second.finishedSinceTrim = 0;
        }
        store.trimRuns(org, fn, keep);
    }

    // A non-blocking run is accepted once its INITIALIZED record is stored: 202 with it, and run.created.
    void acceptRun(const std::string &org, const wire::Run &r, const Reply &reply)
    {
        std::string doc = wire::runJson(r);
        Answer accepted;
        accepted.status = 202;
        accepted.rawBody = doc;
        store.putRun(runRow(org, r, doc), replyAfterCommit(reply, std::move(accepted)));
        feed.publishSerialized(org, "run.created", "Run", r.name, std::move(doc));
    }

    store::RunRow runRow(const std::string &org, const wire::Run &r, std::string json)
    {
        store::RunRow row;
        row.id = r.name;
        row.org = org;
        row.function = r.functionName;
        row.status = wire::toString(r.status);
        row.executedNs = r.executedTime;
        row.finishedNs = r.finishedTime;
        row.modifiedNs = clock.nowNs();
        row.json = std::move(json);
        return row;
    }
};

Service::Service(asio::io_context &io, store::Store &store, const store::SecretBox &secretBox, engine::Engine &engine,
                 const Clock &clock, ChangeFeed &feed, ServiceOptions options)
    : m_impl(std::make_unique<Impl>(*this, io, store, secretBox, engine, clock, feed, std::move(options)))
{
}

Service::FunctionState Service::functionState(const std::string &org, const std::string &name) const
{
    std::lock_guard lock(m_impl->mutex);
    auto it = m_impl->functions.find({org, name});
    if (it == m_impl->functions.end() || it->second.m.status == Status::Deleting)
        return FunctionState::Missing;
    const auto st = it->second.m.status;
    if (st == Status::Ready || (st == Status::Updating && m_impl->engine.isDeployed({org, name})))
        return FunctionState::Ready;
    return FunctionState::NotReady;
}

void Service::onFunctionChanged(std::function<void(const std::string &, const std::string &)> listener)
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->functionListeners.push_back(std::move(listener));
}

Service::~Service() = default;

void Service::load()
{
    m_impl->load();
    // Functions and images need their base images probed first; those controllers cascade. Functions that
    // were READY and whose image is READY are redeployed right away.
    std::vector<Key> fns;
    {
        std::lock_guard lock(m_impl->mutex);
        for (auto &[k, f] : m_impl->functions)
            if (f.m.status != Status::Deleting)
                fns.push_back(k);
    }
    for (const auto &k : fns)
        asio::post(m_impl->io, [this, k] { m_impl->reconcileFunction(k); });
}

// ------------------------------------------------------------------------------------------- base images
void Service::listBaseImages(const std::string &org, Reply reply)
{
    Json out = Json::array();
    {
        std::lock_guard lock(m_impl->mutex);
        for (auto it = m_impl->baseImages.lower_bound({org, ""}); it != m_impl->baseImages.end() &&
                                                                   it->first.first == org;
             ++it)
            out.push_back(it->second.m);
    }
    reply(ok(std::move(out)));
}

void Service::getBaseImage(const std::string &org, const std::string &name, Reply reply)
{
    std::lock_guard lock(m_impl->mutex);
    auto it = m_impl->baseImages.find({org, name});
    if (it == m_impl->baseImages.end())
        return reply(ApiError::notFound("base image " + name + " not found"));
    reply(ok(Json(it->second.m)));
}

void Service::createBaseImage(const std::string &org, wire::BaseImage m, Reply reply)
{
    std::lock_guard lock(m_impl->mutex);
    const Key key{org, m.name};
    if (m_impl->baseImages.count(key))
        return reply(ApiError::conflict("base image " + m.name + " already exists"));
    Impl::BaseImageEntry e;
    e.m = std::move(m);
    e.m.id = newUuid();
    e.m.createdTime = m_impl->clock.nowSeconds();
    e.m.status = Status::Initialized;
    e.m.reason.clear();
    e.generation = m_impl->nextGeneration++;
    Json body = e.m;
    m_impl->persist(kBaseImage, org, key.second, m_impl->docOf(e),
                    m_impl->replyAfterCommit(std::move(reply), ok(std::move(body), 201)));
    m_impl->baseImages[key] = std::move(e);
    m_impl->scheduleBaseImage(key, m_impl->options.baseImageSettle);
}

void Service::updateBaseImage(const std::string &org, const std::string &name, wire::BaseImage m, Reply reply)
{
    std::lock_guard lock(m_impl->mutex);
    const Key key{org, name};
    auto it = m_impl->baseImages.find(key);
    if (it == m_impl->baseImages.end())
        return reply(ApiError::notFound("base image " + name + " not found"));
    auto &e = it->second;
    if (e.m.status == Status::Deleting)
        return reply(ApiError::badRequest("base image " + name + " is being deleted"));
    e.m.dockerUrl = m.dockerUrl;
    e.m.language = m.language;
    e.m.tags = m.tags;
    e.m.status = Status::Updating;
    e.m.reason.clear();
    e.generation = m_impl->nextGeneration++;
    Json body = e.m;
    m_impl->persist(kBaseImage, org, name, m_impl->docOf(e),
                    m_impl->replyAfterCommit(std::move(reply), ok(std::move(body))));
    m_impl->scheduleBaseImage(key, m_impl->options.baseImageSettle);
}

void Service::deleteBaseImage(const std::string &org, const std::string &name, Reply reply)
{
    std::lock_guard lock(m_impl->mutex);
    auto it = m_impl->baseImages.find({org, name});
    if (it == m_impl->baseImages.end())
        return reply(ApiError::notFound("base image " + name + " not found"));
    it->second.m.status = Status::Deleting;
    Json body = it->second.m;
    m_impl->baseImages.erase(it);
    m_impl->publishChange(kBaseImage, org, name, body, true);
    m_impl->store.deleteEntity(kBaseImage, org, name,
                               m_impl->replyAfterCommit(std::move(reply), ok(std::move(body))));
}

// ------------------------------------------------------------------------------------------------ images
void Service::listImages(const std::string &org, Reply reply)
{
    Json out = Json::array();
    {
        std::lock_guard lock(m_impl->mutex);
        for (auto it = m_impl->images.lower_bound({org, ""}); it != m_impl->images.end() && it->first.first == org;
             ++it)
            out.push_back(it->second.m);
    }
    reply(ok(std::move(out)));
}

void Service::getImage(const std::string &org, const std::string &name, Reply reply)
{
    std::lock_guard lock(m_impl->mutex);
    auto it = m_impl->images.find({org, name});
    if (it == m_impl->images.end())
        return reply(ApiError::notFound("image " + name + " not found"));
    reply(ok(Json(it->second.m)));
}

void Service::createImage(const std::string &org, wire::Image m, Reply reply)
{
    Key key{org, m.name};
    {
        std::lock_guard lock(m_impl->mutex);
        if (m_impl->images.count(key))
            return reply(ApiError::conflict("image " + m.name + " already exists"));
        auto b = m_impl->baseImages.find({org, m.baseImageName});
        if (b == m_impl->baseImages.end())
            return reply(ApiError::badRequest("Error fetching base image " + m.baseImageName));
        Impl::ImageEntry e;
        e.m = std::move(m);
        e.m.id = newUuid();
        e.m.createdTime = m_impl->clock.nowSeconds();
        e.m.status = Status::Initialized;
        e.m.reason.clear();
        e.m.dockerUrl.clear();
        e.m.language = b->second.m.language;
        e.generation = m_impl->nextGeneration++;
        Json body = e.m;
        m_impl->persist(kImage, org, key.second, m_impl->docOf(e),
                        m_impl->replyAfterCommit(std::move(reply), ok(std::move(body), 201)));
        m_impl->images[key] = std::move(e);
    }
    asio::post(m_impl->io, [this, key] { m_impl->reconcileImage(key, false); });
}

void Service::updateImage(const std::string &org, const std::string &name, wire::Image m, Reply reply)
{
    const Key key{org, name};
    {
        std::lock_guard lock(m_impl->mutex);
        auto it = m_impl->images.find(key);
        if (it == m_impl->images.end())
            return reply(ApiError::notFound("image " + name + " not found"));
        auto b = m_impl->baseImages.find({org, m.baseImageName});
        if (b == m_impl->baseImages.end())
            return reply(ApiError::badRequest("Error fetching base image " + m.baseImageName));
        auto &e = it->second;
        e.m.baseImageName = m.baseImageName;
        e.m.runtimeManifest = m.runtimeManifest;
        e.m.systemPackages = m.systemPackages;
        e.m.tags = m.tags;
        e.m.language = b->second.m.language;
        e.m.status = Status::Updating;
        e.m.reason.clear();
        e.generation = m_impl->nextGeneration++;
        e.info = {};
        Json body = e.m;
        m_impl->persist(kImage, org, name, m_impl->docOf(e),
                        m_impl->replyAfterCommit(std::move(reply), ok(std::move(body))));
    }
    asio::post(m_impl->io, [this, key] { m_impl->reconcileImage(key, true); });
}

void Service::deleteImage(const std::string &org, const std::string &name, Reply reply)
{
    std::lock_guard lock(m_impl->mutex);
    auto it = m_impl->images.find({org, name});
    if (it == m_impl->images.end())
        return reply(ApiError::notFound("image " + name + " not found"));
    engine::ImageSpec spec;
    spec.org = org;
    spec.name = name;
    spec.id = it->second.m.id;
    it->second.m.status = Status::Deleted;
    Json body = it->second.m;
    m_impl->images.erase(it);
    m_impl->publishChange(kImage, org, name, body, true);
    m_impl->store.deleteEntity(kImage, org, name, m_impl->replyAfterCommit(std::move(reply), ok(std::move(body))));
    asio::post(m_impl->io, [this, spec] { m_impl->engine.removeImage(spec); });
}

// --------------------------------------------------------------------------------------------- functions
void Service::listFunctions(const std::string &org, Reply reply)
{
    Json out = Json::array();
    {
        std::lock_guard lock(m_impl->mutex);
        for (auto it = m_impl->functions.lower_bound({org, ""});
             it != m_impl->functions.end() && it->first.first == org; ++it)
            out.push_back(it->second.m);
    }
    reply(ok(std::move(out)));
}

void Service::getFunction(const std::string &org, const std::string &name, Reply reply)
{
    std::lock_guard lock(m_impl->mutex);
    auto it = m_impl->functions.find({org, name});
    if (it == m_impl->functions.end())
        return reply(ApiError::notFound("function " + name + " not found"));
    reply(ok(Json(it->second.m)));
}

void Service::createFunction(const std::string &org, wire::Function m, Reply reply)
{
    const Key key{org, m.name};
    {
        std::lock_guard lock(m_impl->mutex);
        if (m_impl->functions.count(key))
            return reply(ApiError::conflict("function " + m.name + " already exists"));
    }
    auto source = m_impl->checkSource(m);
    if (!source)
        return reply(source.error());
    std::lock_guard lock(m_impl->mutex);
    if (m_impl->functions.count(key)) // a concurrent create won
        return reply(ApiError::conflict("function " + m.name + " already exists"));
    Impl::FunctionEntry f;
    f.m = std::move(m);
    f.m.source.clear();
    f.m.sourceURL.clear();
    f.m.id = newUuid();
    f.m.faasId = newUuid();
    f.m.functionImageURL = "dispatch/func-" + f.m.faasId + ":latest";
    f.m.createdTime = m_impl->clock.nowSeconds();
    f.m.modifiedTime = f.m.createdTime;
    f.m.status = Status::Initialized;
    f.m.reason.clear();
    f.generation = m_impl->nextGeneration++;
    Json body = f.m;
    m_impl->store.putSource(org, key.second, f.m.faasId, m_impl->clock.nowNs(), std::move(source.value()));
    // The build starts once the source and the entity are committed: it reads the source back from the store,
    // and a crash never leaves a build without its record.
    m_impl->persist(kFunction, org, key.second, m_impl->docOf(f),
                    m_impl->replyAfterCommit(std::move(reply), ok(std::move(body), 201),
                                             [this, key] { m_impl->reconcileFunction(key); }));
    m_impl->functions[key] = std::move(f);
}

void Service::updateFunction(const std::string &org, const std::string &name, wire::Function m, Reply reply)
{
    const Key key{org, name};
    {
        std::lock_guard lock(m_impl->mutex);
        auto it = m_impl->functions.find(key);
        if (it == m_impl->functions.end())
            return reply(ApiError::notFound("function " + name + " not found"));
        if (it->second.m.status == Status::Deleting)
            return reply(ApiError::badRequest("function " + name + " is being deleted"));
    }
    auto source = m_impl->checkSource(m);
    if (!source)
        return reply(source.error());
    std::lock_guard lock(m_impl->mutex);
    auto it = m_impl->functions.find(key);
    if (it == m_impl->functions.end())
        return reply(ApiError::notFound("function " + name + " not found"));
    auto &f = it->second;
    f.m.image = m.image;
    f.m.handler = m.handler;
    f.m.schemaIn = m.schemaIn;
    f.m.schemaOut = m.schemaOut;
    f.m.secrets = m.secrets;
    f.m.services = m.services;
    f.m.timeout = m.timeout;
    f.m.tags = m.tags;
    f.m.runRetention = m.runRetention;
    f.m.faasId = newUuid();
    f.m.functionImageURL = "dispatch/func-" + f.m.faasId + ":latest";
    f.m.modifiedTime = m_impl->clock.nowSeconds();
    f.m.status = Status::Updating;
    f.m.reason.clear();
    f.generation = m_impl->nextGeneration++;
    Json body = f.m;
    m_impl->store.putSource(org, name, f.m.faasId, m_impl->clock.nowNs(), std::move(source.value()));
    m_impl->persist(kFunction, org, name, m_impl->docOf(f),
                    m_impl->replyAfterCommit(std::move(reply), ok(std::move(body)),
                                             [this, key] { m_impl->reconcileFunction(key); }));
}

void Service::deleteFunction(const std::string &org, const std::string &name, Reply reply)
{
    const Key key{org, name};
    std::lock_guard lock(m_impl->mutex);
    auto it = m_impl->functions.find(key);
    if (it == m_impl->functions.end())
        return reply(ApiError::notFound("function " + name + " not found"));
    auto &f = it->second;
    f.m.status = Status::Deleting;
    f.generation = m_impl->nextGeneration++;
    Json body = f.m;
    m_impl->persist(kFunction, org, name, m_impl->docOf(f),
                    [this, key, reply = std::move(reply), body = std::move(body)](bool committed) mutable {
                        asio::post(m_impl->io, [this, key, reply = std::move(reply), body = std::move(body),
                                                committed]() mutable {
                            if (!committed)
                                return reply(ApiError::internal("the server could not store the change"));
                            m_impl->finishDeleteFunction(key);
                            m_impl->store.putMeta(testInputsKey(key.first, key.second), "[]");
                            // Answer once runs and sources are gone, so a list right after shows none.
                            m_impl->store.putMeta("last-delete", key.first + "/" + key.second,
                                                  m_impl->replyAfterCommit(std::move(reply), ok(std::move(body))));
                        });
                    });
}

void Service::listRevisions(const std::string &org, const std::string &name, Reply reply)
{
    std::string current;
    {
        std::lock_guard lock(m_impl->mutex);
        auto it = m_impl->functions.find({org, name});
        if (it == m_impl->functions.end())
            return reply(ApiError::notFound("function " + name + " not found"));
        current = it->second.m.faasId;
    }
    Json out = Json::array();
    for (const auto &r : m_impl->store.listRevisions(org, name))
        out.push_back({{"revision", r.revision}, {"createdTime", r.createdNs}, {"current", r.revision == current}});
    reply(ok(std::move(out)));
}

void Service::getSourceFiles(const std::string &org, const std::string &name, const std::string &revision,
                             Reply reply)
{
    std::string rev = revision;
    std::string handler;
    {
        std::lock_guard lock(m_impl->mutex);
        auto it = m_impl->functions.find({org, name});
        if (it == m_impl->functions.end())
            return reply(ApiError::notFound("function " + name + " not found"));
        if (rev.empty() || rev == "current")
            rev = it->second.m.faasId;
        handler = it->second.effectiveHandler.empty() ? it->second.m.handler : it->second.effectiveHandler;
    }
    auto tgz = m_impl->store.getSource(org, name, rev);
    if (!tgz)
        return reply(ApiError::notFound("revision " + rev + " of function " + name + " not found"));
    auto files = engine::listTarGz(*tgz, engine::ExtractLimits{});
    if (!files)
        return reply(files.error());
    Json list = Json::array();
    for (const auto &[path, content] : files.value())
        list.push_back({{"path", path}, {"content", content}});
    reply(ok(Json{{"function", name}, {"revision", rev}, {"handler", handler}, {"files", list}}));
}

void Service::getTestInputs(const std::string &org, const std::string &name, Reply reply)
{
    {
        std::lock_guard lock(m_impl->mutex);
        if (!m_impl->functions.contains({org, name}))
            return reply(ApiError::notFound("function " + name + " not found"));
    }
    Json list = Json::array();
    if (auto stored = m_impl->store.getMeta(testInputsKey(org, name))) {
        Json parsed = Json::parse(*stored, nullptr, false);
        if (parsed.is_array())
            list = std::move(parsed);
    }
    reply(ok(std::move(list)));
}

void Service::putTestInputs(const std::string &org, const std::string &name, const std::string &body, Reply reply)
{
    if (body.size() > kMaxTestInputsBytes)
        return reply(ApiError::payloadTooLarge("test inputs are limited to 1 MiB per function"));
    Json list = Json::parse(body, nullptr, false);
    if (!list.is_array())
        return reply(ApiError::badRequest("test inputs must be a JSON array of {\"name\", \"input\"} objects"));
    if (list.size() > kMaxTestInputs)
        return reply(ApiError::badRequest("at most 200 test inputs per function"));
    std::set<std::string> names;
    Json clean = Json::array();
    for (const auto &item : list) {
        if (!item.is_object() || !item.contains("name") || !item["name"].is_string())
            return reply(ApiError::badRequest("every test input needs a \"name\" (a string)"));
        const std::string n = item["name"].get<std::string>();
        if (n.empty() || n.size() > kMaxTestInputNameLength)
            return reply(ApiError::badRequest("a test input name must have 1 to 128 characters"));
        if (!names.insert(n).second)
            return reply(ApiError::badRequest("test input \"" + n + "\" appears twice"));
        clean.push_back({{"name", n}, {"input", item.contains("input") ? item["input"] : Json()}});
    }
    {
        std::lock_guard lock(m_impl->mutex);
        if (!m_impl->functions.contains({org, name}))
            return reply(ApiError::notFound("function " + name + " not found"));
    }
    std::string doc = clean.dump();
    m_impl->store.putMeta(testInputsKey(org, name), std::move(doc),
                          m_impl->replyAfterCommit(std::move(reply), ok(std::move(clean))));
}

// -------------------------------------------------------------------------------------------------- runs
void Service::createRun(const std::string &org, const std::string &functionName, wire::Run run, Reply reply)
{
    auto &d = *m_impl;
    if (d.stopping.load())
        return reply(ApiError::unavailable("the server is shutting down"));
    Json secretsCtx = Json::object();
    std::optional<std::string> missingSecret;
    int64_t timeoutMs = 0;
    Json schemaIn;
    Json schemaOut;
    {
        std::lock_guard lock(d.mutex);
        auto it = d.functions.find({org, functionName});
        if (it == d.functions.end())
            return reply(ApiError::notFound("function " + functionName + " not found"));
        const auto &f = it->second;
        const bool invocable = f.m.status == Status::Ready ||
                               (f.m.status == Status::Updating && d.engine.isDeployed({org, functionName}));
        if (!invocable)
            return reply(ApiError::notFound("function " + functionName + " is not READY"));
        run.functionId = f.m.id;
        run.faasId = f.m.faasId;
        timeoutMs = f.m.timeout;
        schemaIn = f.m.schemaIn;
        schemaOut = f.m.schemaOut;
        // Function secrets first, then the run's own: later ones win.
        std::vector<std::string> names = f.m.secrets;
        names.insert(names.end(), run.secrets.begin(), run.secrets.end());
        run.secrets = names;
        for (const auto &n : names) {
            auto s = d.secrets.find({org, n});
            if (s == d.secrets.end()) {
                missingSecret = n;
                break;
            }
            for (const auto &[k, v] : s->second.m.secrets)
                secretsCtx[k] = v;
        }
    }
    run.executedTime = d.clock.nowNs();
    run.name = newTimeOrderedUuid(run.executedTime);
    run.functionName = functionName;
    run.finishedTime = wire::kGoZeroTimeNs;
    run.status = Status::Initialized;
    run.reason.clear();
    run.output = nullptr;
    run.error.reset();
    run.logs.reset();

    auto finish = std::make_shared<std::function<void(engine::InvocationResult)>>();
    auto shared = std::make_shared<wire::Run>(std::move(run));
    const bool blocking = shared->blocking;
    m_inFlight.fetch_add(1);
    *finish = [this, org, shared, blocking, reply, schemaOut](engine::InvocationResult r) mutable {
        auto &impl = *m_impl;
        wire::Run &done = *shared;
        // The output schema (§3.3): an output that does not match it fails the run as Dispatch does.
        if (!r.error && schemaOut.is_object())
            if (auto problem = wire::validateJsonSchema(schemaOut, r.output))
                r.error = wire::InvocationError{"FunctionError", "Output invalid against schema: " + *problem, {}};
        done.finishedTime = impl.clock.nowNs();
        done.durationNs = r.durationNs;
        done.coldStart = r.coldStart;
        done.logs = std::move(r.logs);
        if (r.error) {
            done.status = Status::Error;
            done.reason = {"error running function: " + done.functionName + ": " + r.error->message};
            done.error = std::move(r.error);
            done.output = nullptr;
        } else {
            done.status = Status::Ready;
            done.output = std::move(r.output);
        }
        if (impl.options.onRunFinished)
            impl.options.onRunFinished(org, done);
        // One JSON text serves the store, the change feed and the answer.
        std::string doc = wire::runJson(done);
        auto row = impl.runRow(org, done, doc);
        const std::string fn = done.functionName;
        std::string body = blocking ? row.json : std::string();
        impl.feed.publishSerialized(org, blocking ? "run.created" : "run.updated", "Run", done.name, std::move(doc));
        if (blocking) {
            impl.store.putRun(std::move(row), [this, reply, shared, body = std::move(body)](bool committed) mutable {
                m_inFlight.fetch_sub(1);
                m_impl->completions.post([reply = std::move(reply), shared = std::move(shared), body = std::move(body),
                                          committed]() mutable {
                    if (!committed)
                        return reply(ApiError::internal("the run finished but could not be stored"));
                    Answer a;
                    a.rawBody = std::move(body);
                    a.run = std::move(shared);
                    reply(std::move(a));
                });
            });
        } else {
            impl.store.putRun(std::move(row), [this](bool) { m_inFlight.fetch_sub(1); });
        }
        impl.trimIfDue(org, fn);
    };

    std::optional<wire::InvocationError> refused;
    if (missingSecret)
        refused = wire::InvocationError{"InputError",
                                        "error when retrieving secrets from secret store: secret " + *missingSecret +
                                            " not found",
                                        {}};
    else if (schemaIn.is_object())
        if (auto problem = wire::validateJsonSchema(schemaIn, shared->input))
            refused = wire::InvocationError{"InputError", "Input invalid against schema: " + *problem, {}};
    if (refused) {
        engine::InvocationResult r;
        r.error = std::move(refused);
        if (!blocking) {
            d.acceptRun(org, *shared, reply);
        }
        (*finish)(std::move(r));
        return;
    }

    engine::Invocation inv;
    inv.context = Json{{"secrets", std::move(secretsCtx)}};
    if (!shared->event.is_null())
        inv.context["event"] = shared->event;
    if (!shared->httpContext.is_null())
        inv.context["httpContext"] = shared->httpContext;
    if (timeoutMs > 0) {
        inv.timeout = std::chrono::milliseconds(timeoutMs);
        inv.context["deadline"] = formatRfc3339(shared->executedTime + timeoutMs * 1'000'000);
    }
    inv.payload = shared->input.is_null() ? Json::object() : shared->input;
    inv.done = [finish](engine::InvocationResult r) { (*finish)(std::move(r)); };

    if (!blocking) {
        // Accepted = stored: the INITIALIZED record is queued before the invocation can finish.
        d.acceptRun(org, *shared, reply);
        reply = [](Result<Answer>) {}; // answered above; the completion must not answer again
    }
    auto submitted = d.engine.invoke({org, functionName}, std::move(inv));
    if (!submitted) {
        if (blocking) {
            m_inFlight.fetch_sub(1);
            if (d.options.onRunFinished) { // refused before a worker: no record, but the statistics count it
                shared->status = Status::Error;
                shared->finishedTime = d.clock.nowNs();
                shared->error = wire::InvocationError{"SystemError", submitted.error().message, {}};
                d.options.onRunFinished(org, *shared);
            }
            return reply(submitted.error());
        }
        engine::InvocationResult r;
        r.error = wire::InvocationError{"SystemError", submitted.error().message, {}};
        (*finish)(std::move(r));
    }
}

void Service::listRuns(const std::string &org, const RunListQuery &q, Reply reply)
{
    store::RunQuery sq;
    sq.org = org;
    sq.function = q.functionName;
    if (q.sinceSeconds)
        sq.modifiedAfterNs = *q.sinceSeconds * 1'000'000'000LL;
    sq.status = q.status;
    sq.executedFromNs = q.fromNs;
    sq.executedBeforeNs = q.toNs;
    sq.limit = q.limit > 0 ? q.limit : m_impl->options.maxListRuns;
    sq.beforeRunId = q.before;
    // A list may hold a function's whole history (hundreds of milliseconds): it is read on the slow-read
    // threads, so the event loop keeps serving runs and the gateway meanwhile.
    asio::post(m_impl->slowReads, [store = &m_impl->store, sq = std::move(sq), reply = std::move(reply)]() mutable {
        std::string out = "[";
        bool first = true;
        for (auto &doc : store->listRuns(sq)) {
            if (!first)
                out += ",";
            out += doc;
            first = false;
        }
        out += "]";
        // The documents are already JSON text: pass them through without re-serialising.
        Answer a;
        a.status = 200;
        a.rawBody = std::move(out);
        reply(std::move(a));
    });
}

void Service::getRun(const std::string &org, const std::string &id, const std::optional<std::string> &functionName,
                     Reply reply)
{
    auto doc = m_impl->store.getRun(org, id);
    if (!doc)
        return reply(ApiError::notFound("run " + id + " not found"));
    if (functionName && !functionName->empty()) {
        Json j = Json::parse(*doc, nullptr, false);
        if (!j.is_object() || j.value("functionName", "") != *functionName)
            return reply(ApiError::notFound("run " + id + " not found"));
    }
    Answer a;
    a.rawBody = std::move(*doc);
    reply(std::move(a));
}

// ----------------------------------------------------------------------------------------------- secrets
void Service::listSecrets(const std::string &org, Reply reply)
{
    Json out = Json::array();
    {
        std::lock_guard lock(m_impl->mutex);
        for (auto it = m_impl->secrets.lower_bound({org, ""}); it != m_impl->secrets.end() && it->first.first == org;
             ++it)
            out.push_back(it->second.m);
    }
    reply(ok(std::move(out)));
}

void Service::getSecret(const std::string &org, const std::string &name, Reply reply)
{
    std::lock_guard lock(m_impl->mutex);
    auto it = m_impl->secrets.find({org, name});
    if (it == m_impl->secrets.end())
        return reply(ApiError::notFound("secret " + name + " not found"));
    reply(ok(Json(it->second.m)));
}

void Service::createSecret(const std::string &org, wire::Secret m, Reply reply)
{
    std::lock_guard lock(m_impl->mutex);
    const Key key{org, m.name};
    if (m_impl->secrets.count(key))
        return reply(ApiError::conflict("secret " + m.name + " already exists"));
    Impl::SecretEntry e;
    e.m = std::move(m);
    e.m.id = newUuid();
    Json body = e.m;
    m_impl->persist(kSecret, org, key.second, m_impl->docOf(e),
                    m_impl->replyAfterCommit(std::move(reply), ok(std::move(body), 201)));
    m_impl->secrets[key] = std::move(e);
}

void Service::updateSecret(const std::string &org, const std::string &name, wire::Secret m, Reply reply)
{
    std::lock_guard lock(m_impl->mutex);
    auto it = m_impl->secrets.find({org, name});
    if (it == m_impl->secrets.end())
        return reply(ApiError::notFound("secret " + name + " not found"));
    it->second.m.secrets = std::move(m.secrets); // as Dispatch: only the values are replaced
    Json body = it->second.m;
    m_impl->persist(kSecret, org, name, m_impl->docOf(it->second),
                    m_impl->replyAfterCommit(std::move(reply), ok(std::move(body), 201)));
}

void Service::deleteSecret(const std::string &org, const std::string &name, Reply reply)
{
    std::lock_guard lock(m_impl->mutex);
    auto it = m_impl->secrets.find({org, name});
    if (it == m_impl->secrets.end())
        return reply(ApiError::notFound("secret " + name + " not found"));
    m_impl->secrets.erase(it);
    m_impl->publishChange(kSecret, org, name, Json{{"name", name}}, true);
    Answer a;
    a.status = 204;
    a.empty = true;
    m_impl->store.deleteEntity(kSecret, org, name, m_impl->replyAfterCommit(std::move(reply), std::move(a)));
}

void Service::shutdown(std::chrono::milliseconds grace)
{
    m_impl->stopping.store(true);
    m_impl->engine.shutdown(grace);
}

} // namespace dispatch::api
