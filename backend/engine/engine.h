// The FaaS engine interface (Dispatch's "pluggable FaaS engine"). The API layer only talks to this interface;
// the embedded default is LocalEngine (warm local worker processes). A container engine or a remote
// Knative/OpenFaaS engine can implement the same interface without touching the API layer.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "wire/models.h"

namespace dispatch::engine {

// What a base image resolved to on this host.
struct RuntimeInfo
{
    std::string runtime; // python3 | nodejs | java | powershell
    std::filesystem::path interpreter;
    std::string version;
    std::filesystem::path compiler; // javac for java
};

struct BaseImageSpec
{
    std::string org;
    std::string name;
    std::string dockerUrl;
    std::string language;
};

struct ImageSpec
{
    std::string org;
    std::string name;
    std::string id; // stable per build
    RuntimeInfo runtime;
    std::string manifest;
    std::vector<wire::SystemPackage> systemPackages;
};

struct ImageInfo
{
    std::filesystem::path envDir; // venv, node_modules root or java lib dir (may be empty)
    std::string buildLog;         // tail of the build output
};

struct FunctionKey
{
    std::string org;
    std::string name;
    friend bool operator<(const FunctionKey &a, const FunctionKey &b)
    {
        return a.org != b.org ? a.org < b.org : a.name < b.name;
    }
    friend bool operator==(const FunctionKey &, const FunctionKey &) = default;
};

struct FunctionSpec
{
    FunctionKey key;
    std::string revision; // faasId
    RuntimeInfo runtime;
    ImageInfo image;
    std::string handler; // may be empty: the runtime's default rule applies
    std::string sourceTarGz;
    int64_t timeoutMs = 0;
};

struct DeployResult
{
    std::string handler; // the effective handler (after the default rule)
};

struct InvocationResult
{
    wire::Json output;
    std::optional<wire::InvocationError> error;
    wire::Logs logs;
    int64_t durationNs = -1;
    bool coldStart = false;
};

struct Invocation
{
    wire::Json context; // ctx: secrets, event, httpContext, deadline
    wire::Json payload;
    std::chrono::milliseconds timeout{0}; // 0 = none
    std::function<void(InvocationResult)> done; // called exactly once, on an engine thread
};

struct EngineStats
{
    std::size_t workers = 0;
    std::size_t busyWorkers = 0;
    std::size_t queuedInvocations = 0;
    std::size_t coldStarts = 0;
};

class Engine
{
public:
    virtual ~Engine() = default;
    virtual std::string describe() const = 0; // for logs: mode, sandbox

    virtual void prepareBaseImage(const BaseImageSpec &spec, std::function<void(Result<RuntimeInfo>)> done) = 0;
    virtual void buildImage(const ImageSpec &spec, std::function<void(Result<ImageInfo>)> done) = 0;
    virtual void removeImage(const ImageSpec &spec) = 0;

    // Extracts, builds and validates the revision and starts its warm workers; done(ok) means invocable.
    // A new revision of a deployed function replaces the old one once it is ready; invocations already
    // queued on the old revision finish there.
    virtual void deployFunction(const FunctionSpec &spec, std::function<void(Result<DeployResult>)> done) = 0;
    virtual void removeFunction(const FunctionKey &key) = 0;
    virtual bool isDeployed(const FunctionKey &key) const = 0;

    // Fails fast (ApiError 429/503) when the function's queue is full or it is not deployed.
    virtual VoidResult invoke(const FunctionKey &key, Invocation invocation) = 0;

    virtual EngineStats stats() const = 0;
    // Stops accepting, lets running invocations finish (queued ones fail), stops every worker.
    virtual void shutdown(std::chrono::milliseconds grace) = 0;
};

} // namespace dispatch::engine
