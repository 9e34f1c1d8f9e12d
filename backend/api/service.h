// The Dispatch resources of one server: base images, images, functions, runs and secrets, each scoped to its
// organization. Holds the in-memory registry (the store is the durable copy), drives the asynchronous status
// machines (INITIALIZED/CREATING → READY | ERROR, UPDATING, DELETING) on the engine, and records runs.
// Every write is committed to the store before the request is answered, so nothing accepted is lost.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "core/changefeed.h"
#include "core/clock.h"
#include "core/error.h"
#include "engine/engine.h"
#include "store/secretbox.h"
#include "store/store.h"
#include "wire/models.h"

namespace dispatch::api {

using wire::Json;

// A response body and status; `body` null with `empty` = no body (204, empty 200).
struct Answer
{
    Answer() = default;
    Answer(int status_, Json body_, bool empty_ = false) : status(status_), body(std::move(body_)), empty(empty_) {}
    int status = 200;
    Json body;
    bool empty = false;
    std::string rawBody; // already serialised JSON (sent as is when not empty)
    // The finished run of a blocking createRun, for in-process callers (the gateway) that need its outcome
    // without parsing rawBody again.
    std::shared_ptr<const wire::Run> run;
};
using Reply = std::function<void(Result<Answer>)>;

struct ServiceOptions
{
    // A base image stays INITIALIZED at least this long, so that a client's first GET after the POST sees the
    // initial state (the Dispatch e2e suite checks it) even though probing a local runtime is fast.
    std::chrono::milliseconds baseImageSettle{400};
    std::size_t defaultRunRetention = 100000; // runs kept per function (extension; per function: runRetention)
    std::size_t maxListRuns = 100000;         // a list without `limit` returns at most this many
    std::string version;                      // for logs
    // Called once per run as it ends READY or ERROR (before it is stored), and for a blocking run refused
    // before it reached a worker (ERROR, SystemError; such a run has no record). Must be cheap, thread-safe.
    std::function<void(const std::string &org, const wire::Run &run)> onRunFinished;
};

struct RunListQuery
{
    std::optional<std::string> functionName;
    std::optional<int64_t> sinceSeconds;
    std::optional<std::string> status;
    std::size_t limit = 0;
    std::optional<std::string> before;
    std::optional<int64_t> fromNs;
    std::optional<int64_t> toNs;
};

class Service
{
public:
    Service(boost::asio::io_context &io, store::Store &store, const store::SecretBox &secretBox,
            engine::Engine &engine, const Clock &clock, ChangeFeed &feed, ServiceOptions options);
    ~Service();

    // Loads every entity and resumes what was in progress (restarts builds, redeploys READY functions).
    void load();

    // Base images
    void listBaseImages(const std::string &org, Reply reply);
    void getBaseImage(const std::string &org, const std::string &name, Reply reply);
    void createBaseImage(const std::string &org, wire::BaseImage m, Reply reply);
    void updateBaseImage(const std::string &org, const std::string &name, wire::BaseImage m, Reply reply);
    void deleteBaseImage(const std::string &org, const std::string &name, Reply reply);
    // Images
    void listImages(const std::string &org, Reply reply);
    void getImage(const std::string &org, const std::string &name, Reply reply);
    void createImage(const std::string &org, wire::Image m, Reply reply);
    void updateImage(const std::string &org, const std::string &name, wire::Image m, Reply reply);
    void deleteImage(const std::string &org, const std::string &name, Reply reply);
    // Functions
    void listFunctions(const std::string &org, Reply reply);
    void getFunction(const std::string &org, const std::string &name, Reply reply);
    void createFunction(const std::string &org, wire::Function m, Reply reply);
    void updateFunction(const std::string &org, const std::string &name, wire::Function m, Reply reply);
    void deleteFunction(const std::string &org, const std::string &name, Reply reply);
    // Extensions: a function's revisions and the source files of one of them.
    void listRevisions(const std::string &org, const std::string &name, Reply reply);
    void getSourceFiles(const std::string &org, const std::string &name, const std::string &revision, Reply reply);
    // Extension: a function's saved test inputs, [{"name","input"}], shared by everyone using the server.
    void getTestInputs(const std::string &org, const std::string &name, Reply reply);
    void putTestInputs(const std::string &org, const std::string &name, const std::string &body, Reply reply);
    // Runs
    void createRun(const std::string &org, const std::string &functionName, wire::Run run, Reply reply);
    void listRuns(const std::string &org, const RunListQuery &query, Reply reply);
    void getRun(const std::string &org, const std::string &id, const std::optional<std::string> &functionName,
                Reply reply);
    // Secrets
    void listSecrets(const std::string &org, Reply reply);
    void getSecret(const std::string &org, const std::string &name, Reply reply);
    void createSecret(const std::string &org, wire::Secret m, Reply reply);
    void updateSecret(const std::string &org, const std::string &name, wire::Secret m, Reply reply);
    void deleteSecret(const std::string &org, const std::string &name, Reply reply);

    // For the gateway and the event subscriptions: does the function exist / can it run now?
    enum class FunctionState { Missing, NotReady, Ready };
    FunctionState functionState(const std::string &org, const std::string &name) const;
    // Calls `listener` (with the service's lock held: post work elsewhere, never call back into the Service
    // synchronously) whenever a function appears, changes state or
    // disappears, so dependants (subscriptions) can follow.
    void onFunctionChanged(std::function<void(const std::string &org, const std::string &name)> listener);

    // Stops accepting runs and waits (up to `grace`) for runs in flight; their results are stored.
    void shutdown(std::chrono::milliseconds grace);
    std::size_t runsInFlight() const { return m_inFlight.load(); }

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    std::atomic<std::size_t> m_inFlight{0};
};

} // namespace dispatch::api
