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
    unsigned threads = 0; // 0 = half the cores, at least one
    std::string sandbox = "auto";
    std::size_t minWorkers = 1;
    std::size_t maxWorkers = 4;
    std::size_t maxQueue = 1024;
    std::chrono::milliseconds workerIdleTimeout{std::chrono::minutes(5)};
    std::chrono::milliseconds buildTimeout{std::chrono::minutes(10)};
    std::chrono::milliseconds shutdownGrace{std::chrono::seconds(10)};
    std::chrono::milliseconds baseImageSettle{400};
    std::size_t runRetention = 100000;
    // Run statistics (backend/stats/): how long the minute and the hour rollups are kept.
    std::chrono::milliseconds statsMinuteRetention{std::chrono::hours(24 * 7)};
    std::chrono::milliseconds statsHourRetention{std::chrono::hours(24 * 90)};
    std::size_t maxBodyBytes = 64ull * 1024 * 1024;
    std::size_t gatewayMaxBody = 6ull * 1024 * 1024; // request bodies through the gateway (413 above)
    std::map<std::string, std::string> interpreters; // python3 / nodejs / java → path
    std::string pipOptions;
    // TLS as in Dispatch-Solo: extra HTTPS listeners for the API and the gateway; without a certificate and key
    // a self-signed pair is generated once into <data dir>/tls/.
    bool enableTls = false;
    std::filesystem::path tlsCertificate;
    std::filesystem::path tlsCertificateKey;
    uint16_t tlsPort = 8443;
    uint16_t gatewayTlsPort = 8444;
    bool disableHttp = false;             // only the TLS listeners (needs enableTls)
    std::size_t watchHistory = 2000;      // changes kept for /v1/watch resumes (hidden flag, for tests)
    // Hidden test hook: every event delivery waits this long after the event was accepted (default 0).
    std::chrono::milliseconds eventDeliveryDelay{0};
    // Identity (backend/auth/): "none" (loopback only unless allowUnauthenticatedRemote), "oidc",
    // "serviceaccount"; the last two combine ("oidc,serviceaccount").
    bool authOidc = false;
    bool authServiceAccounts = false;
    bool allowUnauthenticatedRemote = false;
    std::string oidcIssuer;
    std::string oidcAudience;
    std::string oidcSubjectClaim = "email";
    std::string oidcScopes = "openid email profile offline_access";
    std::vector<std::string> bootstrapAdmins;
    std::chrono::milliseconds oidcJwksMinRefresh{std::chrono::seconds(10)}; // hidden flag, for tests
    std::chrono::milliseconds authClockSkew{std::chrono::seconds(30)};      // hidden: leeway on exp/nbf/iat
    bool showVersion = false;
    bool showHelp = false;
};

// Parses argv (without argv[0]) plus the environment and the config file they name.
Result<ServerConfig> parseConfig(const std::vector<std::string> &args,
                                 const std::map<std::string, std::string> &environment);
std::string helpText();
bool isLoopbackHost(const std::string &host);

} // namespace dispatch::server
