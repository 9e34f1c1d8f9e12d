// dispatch-server configuration: command-line flags like Dispatch-Solo's, DISPATCH_* environment variables
// and a JSON config file (--config / DISPATCH_CONFIG). Precedence: flag > environment > file > default.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"

namespace dispatch::server {

struct ServerConfig
{
    std::string host = "127.0.0.1";
    uint16_t port = 8080;
    uint16_t gatewayPort = 8081;
    std::filesystem::path dataDir;
    std::filesystem::path readyFile;
    std::filesystem::path runtimesDir; // worker shims; found automatically when empty
    std::string logLevel = "info";
    unsigned threads = 0; // 0 = one per core
    std::string sandbox = "auto";
    std::size_t minWorkers = 1;
    std::size_t maxWorkers = 4;
    std::size_t maxQueue = 1024;
    std::chrono::milliseconds workerIdleTimeout{std::chrono::minutes(5)};
    std::chrono::milliseconds buildTimeout{std::chrono::minutes(10)};
    std::chrono::milliseconds shutdownGrace{std::chrono::seconds(10)};
    std::chrono::milliseconds baseImageSettle{400};
    std::size_t runRetention = 100000;
    std::size_t maxBodyBytes = 64ull * 1024 * 1024;
    std::map<std::string, std::string> interpreters; // python3 / nodejs / java → path
    std::string pipOptions;
    bool showVersion = false;
    bool showHelp = false;
};

// Parses argv (without argv[0]) plus the environment and the config file they name.
Result<ServerConfig> parseConfig(const std::vector<std::string> &args,
                                 const std::map<std::string, std::string> &environment);
std::string helpText();

} // namespace dispatch::server
