// The embedded FaaS engine: functions run in warm local worker processes (no container engine).
// Base images map to host runtimes, images are isolated environments (python venv, node_modules, java lib dir),
// function revisions are extracted, validated and served by a WorkerPool each, optionally inside bubblewrap.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include <boost/asio/io_context.hpp>

#include "engine/engine.h"
#include "engine/process.h"
#include "engine/runtimes.h"
#include "engine/workerpool.h"

namespace dispatch::engine {

enum class SandboxMode { Auto, On, Off };

struct LocalEngineOptions
{
    std::filesystem::path dataDir;     // images/, functions/, cache/ live below it
    std::filesystem::path runtimesDir; // the worker shims (resources/runtimes)
    RuntimeConfig runtimes;
    SandboxMode sandbox = SandboxMode::Auto;
    PoolOptions pool;
    std::chrono::milliseconds buildTimeout{std::chrono::minutes(10)};
    std::string pipIndexOptions; // extra pip arguments, e.g. "--index-url http://mirror/simple"
};

class LocalEngine final : public Engine
{
public:
    LocalEngine(boost::asio::io_context &io, LocalEngineOptions options);
    ~LocalEngine() override;

    // Checks the sandbox (bwrap) once; call before use. Returns a sentence for the log.
    std::string initialise();

    std::string describe() const override;
    void prepareBaseImage(const BaseImageSpec &spec, std::function<void(Result<RuntimeInfo>)> done) override;
    void buildImage(const ImageSpec &spec, std::function<void(Result<ImageInfo>)> done) override;
    void removeImage(const ImageSpec &spec) override;
    void deployFunction(const FunctionSpec &spec, std::function<void(Result<DeployResult>)> done) override;
    void removeFunction(const FunctionKey &key) override;
    bool isDeployed(const FunctionKey &key) const override;
    VoidResult invoke(const FunctionKey &key, Invocation invocation) override;
    EngineStats stats() const override;
    void shutdown(std::chrono::milliseconds grace) override;

    bool sandboxed() const { return m_sandboxed; }
    ChildReaper &reaper() { return m_reaper; }

private:
    // buildImage after the system-package check: the language environment (venv, npm, maven).
    void buildImageEnvironment(const ImageSpec &spec, const std::filesystem::path &dir,
                               std::function<void(Result<ImageInfo>)> done);
    struct Deployment
    {
        std::string revision;
        std::shared_ptr<WorkerPool> pool;
    };
    std::filesystem::path imageDir(const ImageSpec &spec) const;
    std::filesystem::path functionDir(const FunctionKey &key, const std::string &revision) const;
    void ensureJavaShim(const RuntimeInfo &rt, std::function<void(Result<std::filesystem::path>)> done);
    Result<WorkerLaunch> workerLaunch(const FunctionSpec &spec, const std::filesystem::path &revisionDir,
                                      const std::string &handler, const std::filesystem::path &javaShim) const;
    std::vector<std::string> sandboxWrap(std::vector<std::string> argv,
                                         const std::vector<std::filesystem::path> &readOnly,
                                         const std::filesystem::path &writable,
                                         const std::filesystem::path &chdir) const;
    void failWaiting(const FunctionKey &key, const std::string &why);
    void startPool(const FunctionSpec &spec, std::filesystem::path revisionDir, std::string handler,
                   std::filesystem::path javaShim, std::function<void(Result<DeployResult>)> done);

    boost::asio::io_context &m_io;
    LocalEngineOptions m_options;
    ChildReaper m_reaper;
    bool m_sandboxed = false;
    std::string m_sandboxNote;
    mutable std::mutex m_mutex;
    std::map<FunctionKey, Deployment> m_deployments;
    std::map<FunctionKey, std::string> m_pendingRevision; // the newest revision being deployed per function
    std::vector<std::shared_ptr<WorkerPool>> m_retiring;   // old revisions finishing their queued runs
    std::vector<std::shared_ptr<WorkerPool>> m_starting;   // revisions whose first worker is not ready yet
    // Runs for a function whose first revision is still being deployed (e.g. right after a restart): they wait
    // for the pool instead of failing, up to the queue limit.
    std::map<FunctionKey, std::vector<Invocation>> m_waiting;
    std::mutex m_javaShimMutex;
    std::filesystem::path m_javaShim;
    bool m_shuttingDown = false;
};

} // namespace dispatch::engine
