// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/app.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <optional>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "api/restapi.h"
#include "api/service.h"
#include "api/watch.h"
#include "auth/iam.h"
#include "core/changefeed.h"
#include "core/clock.h"
#include "engine/localengine.h"
#include "gateway/apimanager.h"
#include "gateway/gateway.h"
#include "events/eventmanager.h"
#include "http/server.h"
#include "server/tlscert.h"
#include "stats/metricsexporter.h"
#include "stats/runstats.h"
#include "stats/statsapi.h"
#include "store/secretbox.h"
#include "store/store.h"

namespace dispatch::server {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

void setupLogging(const ServerConfig &c)
{
    std::vector<spdlog::sink_ptr> sinks;
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    console->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    sinks.push_back(console);
    std::error_code ec;
    fs::create_directories(c.dataDir / "logs", ec);
    try {
        auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>((c.dataDir / "logs" / "server.log").string(),
                                                                           10 * 1024 * 1024, 3);
        // logfmt-style lines: easy to grep and to parse (the console's log view reads the level from them).
        file->set_formatter(std::make_unique<spdlog::pattern_formatter>(
            "time=%Y-%m-%dT%H:%M:%S.%eZ level=%l pid=%P thread=%t msg=\"%v\"", spdlog::pattern_time_type::utc));
        sinks.push_back(file);
    } catch (const std::exception &e) {
        console->log(spdlog::details::log_msg("dispatch", spdlog::level::warn,
                                              std::string("cannot open the log file: ") + e.what()));
    }
    auto logger = std::make_shared<spdlog::logger>("dispatch", sinks.begin(), sinks.end());
    logger->set_level(spdlog::level::from_str(c.logLevel));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
    spdlog::flush_every(std::chrono::seconds(1));
}

fs::path findRuntimesDir(const ServerConfig &c)
{
    if (!c.runtimesDir.empty())
        return c.runtimesDir;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    std::vector<fs::path> candidates;
    if (!ec) {
        candidates.push_back(exe.parent_path() / "runtimes");
        candidates.push_back(exe.parent_path().parent_path().parent_path() / "share/dispatch-console/runtimes");
        candidates.push_back(exe.parent_path().parent_path() / "share/dispatch-console/runtimes");
    }
    candidates.emplace_back(DISPATCH_RUNTIMES_INSTALL_DIR);
    candidates.emplace_back(DISPATCH_RUNTIMES_BUILD_DIR);
    for (const auto &p : candidates)
        if (fs::exists(p / "python3" / "worker.py", ec))
            return p;
    return DISPATCH_RUNTIMES_BUILD_DIR;
}

// One server per data dir: a second one would corrupt nothing (SQLite locks) but would fight over workers.
int lockDataDir(const fs::path &dir, std::string &error)
{
    const fs::path lockPath = dir / "server.lock";
    int fd = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        error = "cannot open " + lockPath.string() + ": " + std::strerror(errno);
        return -1;
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char buf[32] = {};
        [[maybe_unused]] auto n = ::pread(fd, buf, sizeof buf - 1, 0);
        error = "another dispatch-server (pid " + std::string(buf) + ") is already using the data dir " + dir.string();
        ::close(fd);
        return -1;
    }
    const std::string pid = std::to_string(::getpid());
    [[maybe_unused]] auto r = ::ftruncate(fd, 0);
    [[maybe_unused]] auto w = ::pwrite(fd, pid.data(), pid.size(), 0);
    return fd;
}

// The TLS ports are added only when TLS is on (0 = off).
bool writeReadyFile(const fs::path &file, uint16_t api, uint16_t gateway, uint16_t apiTls = 0, uint16_t gatewayTls = 0)
{
    const fs::path tmp = file.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out)
            return false;
        nlohmann::json ready{{"apiPort", api}, {"gatewayPort", gateway}, {"pid", ::getpid()}};
        if (apiTls) {
            ready["apiTlsPort"] = apiTls;
            ready["gatewayTlsPort"] = gatewayTls;
        }
        out << ready.dump() << "\n";
        if (!out)
            return false;
    }
    std::error_code ec;
    fs::rename(tmp, file, ec); // atomic: readers never see a half-written file
    return !ec;
}

} // namespace

int run(const ServerConfig &c)
{
    std::error_code ec;
    fs::create_directories(c.dataDir, ec);
    if (ec) {
        std::fprintf(stderr, "dispatch-server: cannot create the data dir %s: %s\n", c.dataDir.c_str(),
                     ec.message().c_str());
        return 1;
    }
    std::string lockError;
    const int lockFd = lockDataDir(c.dataDir, lockError);
    if (lockFd < 0) {
        std::fprintf(stderr, "dispatch-server: %s\n", lockError.c_str());
        return 1;
    }
    setupLogging(c);
    spdlog::info("dispatch-server {} ({}) starting; data dir {}", DISPATCH_VERSION, DISPATCH_GIT_COMMIT,
                 c.dataDir.string());

    // Worker processes are children: a broken pipe to a dead worker must be an error code, not a signal.
    std::signal(SIGPIPE, SIG_IGN);

    auto store = store::Store::open(c.dataDir / "dispatch.db");
    if (!store) {
        spdlog::critical("cannot open the database: {}", store.error().message);
        return 1;
    }
    auto box = store::SecretBox::openOrCreate(c.dataDir / "secrets.key");
    if (!box) {
        spdlog::critical("cannot open the secrets key: {}", box.error().message);
        return 1;
    }

    asio::io_context io;
    auto work = asio::make_work_guard(io);

    engine::LocalEngineOptions eo;
    eo.dataDir = c.dataDir;
    eo.runtimesDir = findRuntimesDir(c);
    const char *path = std::getenv("PATH");
    eo.runtimes.searchPath = path ? path : "/usr/local/bin:/usr/bin:/bin";
    eo.runtimes.interpreters = c.interpreters;
    eo.sandbox = c.sandbox == "on" ? engine::SandboxMode::On
                 : c.sandbox == "off" ? engine::SandboxMode::Off
                                      : engine::SandboxMode::Auto;
    eo.pool.minWorkers = c.minWorkers;
    eo.pool.maxWorkers = c.maxWorkers;
    eo.pool.maxQueue = c.maxQueue;
    eo.pool.idleTimeout = c.workerIdleTimeout;
    eo.buildTimeout = c.buildTimeout;
    eo.pipIndexOptions = c.pipOptions;
    engine::LocalEngine engine(io, eo);
    const std::string sandboxNote = engine.initialise();
    if (c.sandbox == "on" && !engine.sandboxed()) {
        spdlog::critical("{}", sandboxNote);
        return 1;
    }
    spdlog::info("engine: {}; worker shims in {}", engine.describe(), eo.runtimesDir.string());

    SystemClock clock;
    // Run statistics: rollups kept up to date as runs finish (/v1/stats, /metrics).
    stats::RunStatsOptions statsOpts;
    statsOpts.minuteRetention = std::chrono::duration_cast<std::chrono::seconds>(c.statsMinuteRetention);
    statsOpts.hourRetention = std::chrono::duration_cast<std::chrono::seconds>(c.statsHourRetention);
    stats::RunStats runStats(*store.value(), clock, statsOpts);
    api::ServiceOptions so;
    std::atomic<uint64_t> runsFinished{0}; // activity, for the idle memory trim below
    so.onRunFinished = [&runStats, &runsFinished](const std::string &org, const wire::Run &run) {
        runStats.recordRun(org, run);
        runsFinished.fetch_add(1, std::memory_order_relaxed);
    };
    so.baseImageSettle = c.baseImageSettle;
    so.defaultRunRetention = c.runRetention;
    so.version = DISPATCH_VERSION;
    ChangeFeed feed(c.watchHistory);
    api::Service service(io, *store.value(), box.value(), engine, clock, feed, so);
    service.load();

    api::RestApi rest(service, api::VersionInfo{DISPATCH_VERSION, DISPATCH_GIT_COMMIT, DISPATCH_BUILD_DATE});
    // Identity: auth modes, IAM resources and the policy check on every request (backend/auth/).
    auth::IamOptions iamOpts;
    iamOpts.oidc = c.authOidc;
    iamOpts.serviceAccounts = c.authServiceAccounts;
    iamOpts.oidcOptions.issuer = c.oidcIssuer;
    iamOpts.oidcOptions.audience = c.oidcAudience;
    iamOpts.oidcOptions.subjectClaim = c.oidcSubjectClaim;
    iamOpts.oidcOptions.minJwksRefresh = c.oidcJwksMinRefresh;
    iamOpts.oidcOptions.leeway = std::chrono::duration_cast<std::chrono::seconds>(c.authClockSkew);
    iamOpts.leeway = iamOpts.oidcOptions.leeway;
    iamOpts.oidcOptions.scopes.clear();
    for (std::size_t i = 0; i < c.oidcScopes.size();) {
        auto j = c.oidcScopes.find_first_of(" ,", i);
        if (j == std::string::npos)
            j = c.oidcScopes.size();
        if (j > i)
            iamOpts.oidcOptions.scopes.push_back(c.oidcScopes.substr(i, j - i));
        i = j + 1;
    }
    iamOpts.bootstrapAdmins.insert(c.bootstrapAdmins.begin(), c.bootstrapAdmins.end());
    iamOpts.auditLog = c.dataDir / "logs" / "audit.log";
    auth::Iam iam(*store.value(), iamOpts);
    iam.load();
    rest.addService("iam", iam.routeService());
    rest.addRawRoute("/home", iam.homeHandler());
    if (iam.enabled()) {
        rest.setAuthorizer(iam.authorizer(), iam.authorizerMayBlock(), &io);
        spdlog::info("auth: {}{}{}", c.authOidc ? "oidc (issuer " + c.oidcIssuer + ")" : std::string(),
                     c.authOidc && c.authServiceAccounts ? " and " : "",
                     c.authServiceAccounts ? "service accounts" : "");
        iam.start();
    } else if (!isLoopbackHost(c.host)) {
        spdlog::warn("auth: none while listening on {}: anyone who reaches this address can use the API", c.host);
    }
    api::WatchService watch(io, feed);
    rest.addService("watch", watch.route());
    stats::StatsApi statsApi(runStats, clock);
    rest.addService("stats", statsApi.route());
    stats::MetricsExporter metrics(runStats, engine, *store.value());
    rest.addRawRoute(
        "/metrics", [&metrics](auto ctx, auto responder) { metrics.handle(ctx, responder); },
        api::RestApi::RawAccess::Admin);
    // Events (/v1/event): loaded now, drivers and pending deliveries start once the API port is bound.
    events::EventManagerOptions eventOpts;
    eventOpts.dataDir = c.dataDir;
    eventOpts.deliveryDelay = c.eventDeliveryDelay;
    events::EventManager eventManager(io, *store.value(), service, engine, feed, clock, eventOpts);
    eventManager.load();
    eventManager.registerRoutes(rest);
    http::ServerOptions apiOpts;
    apiOpts.name = "api";
    apiOpts.host = c.host;
    apiOpts.port = c.port;
    apiOpts.bodyLimit = c.maxBodyBytes;
    apiOpts.onResponse = metrics.httpCounter(apiOpts.name);
    http::Server apiServer(io, apiOpts, [&rest](auto ctx, auto responder) { rest.handle(std::move(ctx), std::move(responder)); });

    // The API gateway: /v1/api on the API listener, function calls on its own listener.
    gateway::ApiManager apiManager(io, *store.value(), feed);
    apiManager.load();
    rest.addService("api", apiManager.routeService());
    gateway::Gateway gateway(apiManager, service);
    http::ServerOptions gwOpts = apiOpts;
    gwOpts.name = "gateway";
    gwOpts.onResponse = metrics.httpCounter(gwOpts.name);
    gwOpts.port = c.gatewayPort;
    gwOpts.bodyLimit = c.gatewayMaxBody;
    http::Server gatewayServer(io, gwOpts, [&gateway](auto ctx, auto responder) {
        gateway.handle(std::move(ctx), std::move(responder));
    });

    // HTTPS (Solo's --enable-tls): the same handlers on two more listeners.
    std::optional<http::Server> apiTlsServer, gatewayTlsServer;
    if (c.enableTls) {
        fs::path certFile = c.tlsCertificate, keyFile = c.tlsCertificateKey;
        if (certFile.empty()) {
            auto files = ensureSelfSignedCertificate(c.dataDir / "tls");
            if (!files) {
                spdlog::critical("cannot make a self-signed TLS certificate: {}", files.error().message);
                return 1;
            }
            certFile = files->certificate;
            keyFile = files->privateKey;
            spdlog::info("TLS: {} self-signed certificate {}", files->generated ? "generated the" : "reusing the",
                         certFile.string());
        }
        auto tls = makeServerTlsContext(certFile, keyFile);
        if (!tls) {
            spdlog::critical("{}", tls.error().message);
            return 1;
        }
        auto fingerprint = certificateFingerprint(certFile);
        spdlog::info("TLS certificate {} SHA-256 fingerprint {}", certFile.string(),
                     fingerprint ? *fingerprint : fingerprint.error().message);
        http::ServerOptions apiTlsOpts = apiOpts;
        apiTlsOpts.name = "api-tls";
        apiTlsOpts.onResponse = metrics.httpCounter(apiTlsOpts.name);
        apiTlsOpts.port = c.tlsPort;
        apiTlsOpts.tls = *tls;
        apiTlsServer.emplace(io, apiTlsOpts,
                             [&rest](auto ctx, auto responder) { rest.handle(std::move(ctx), std::move(responder)); });
        http::ServerOptions gatewayTlsOpts = gwOpts;
        gatewayTlsOpts.name = "gateway-tls";
        gatewayTlsOpts.onResponse = metrics.httpCounter(gatewayTlsOpts.name);
        gatewayTlsOpts.port = c.gatewayTlsPort;
        gatewayTlsOpts.tls = *tls;
        gatewayTlsServer.emplace(io, gatewayTlsOpts, [&gateway](auto ctx, auto responder) {
            gateway.handle(std::move(ctx), std::move(responder));
        });
    }

    auto apiPort = c.disableHttp ? Result<uint16_t>(uint16_t{0}) : apiServer.start();
    if (!apiPort) {
        spdlog::critical("cannot listen on {}:{}: {}", c.host, c.port, apiPort.error().message);
        return 1;
    }
    auto gwPort = c.disableHttp ? Result<uint16_t>(uint16_t{0}) : gatewayServer.start();
    if (!gwPort) {
        spdlog::critical("cannot listen on {}:{} (gateway): {}", c.host, c.gatewayPort, gwPort.error().message);
        return 1;
    }

    uint16_t apiTlsPort = 0, gatewayTlsPort = 0;
    if (apiTlsServer) {
        auto p = apiTlsServer->start();
        if (!p) {
            spdlog::critical("cannot listen on {}:{} (TLS): {}", c.host, c.tlsPort, p.error().message);
            return 1;
        }
        apiTlsPort = *p;
        p = gatewayTlsServer->start();
        if (!p) {
            spdlog::critical("cannot listen on {}:{} (gateway TLS): {}", c.host, c.gatewayTlsPort, p.error().message);
            return 1;
        }
        gatewayTlsPort = *p;
    }

    eventManager.setApiEndpoint(c.host, *apiPort != 0 ? *apiPort : apiTlsPort);
    eventManager.start();
    runStats.start(io);

    // Half the cores run the event loop; the function workers, the store's writer and the clients on the same
    // machine need the rest. More loop threads than that only hand work between threads: every post from one
    // wakes another (measured on 2 cores: gateway 16,300 req/s with one thread, 15,000 with two, 12,900
    // with three). Long reads (run lists) run on their own threads, so one loop thread is never held up.
    const unsigned threads = c.threads ? c.threads : std::max(1u, std::thread::hardware_concurrency() / 2);
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < threads; ++i)
        pool.emplace_back([&io] {
            for (;;) {
                try {
                    io.run();
                    return;
                } catch (const std::exception &e) {
                    spdlog::error("unhandled exception in an I/O thread: {}", e.what());
                }
            }
        });

    // After a burst (a load test, big run lists) the allocator keeps the freed memory (measured: 245 MiB after the
    // bench's exec load, 143 MiB after a trim). Once no run has finished for a whole minute, hand it back to the
    // system, once per quiet spell; idle by then, so the few milliseconds on the loop do not matter.
    asio::steady_timer idleTrim(io);
    uint64_t runsSeen = 0;
    bool trimmed = false; // the start (image checks, loading) leaves some to give back too
    std::function<void()> armIdleTrim = [&] {
        idleTrim.expires_after(std::chrono::minutes(1));
        idleTrim.async_wait([&](const boost::system::error_code &waitError) {
            if (waitError)
                return;
            const uint64_t runs = runsFinished.load(std::memory_order_relaxed);
            if (runs != runsSeen || service.runsInFlight() > 0) {
                runsSeen = runs;
                trimmed = false;
            } else if (!trimmed) {
                trimmed = true;
#if defined(__GLIBC__)
                malloc_trim(0);
#endif
            }
            armIdleTrim();
        });
    };
    armIdleTrim();

    if (apiTlsServer)
        spdlog::info("API on https://{}:{}, gateway on https://{}:{}", c.host, apiTlsPort, c.host, gatewayTlsPort);
    if (!c.disableHttp)
        spdlog::info("API on http://{}:{}, gateway on http://{}:{} ({} I/O threads)", c.host, *apiPort, c.host,
                     *gwPort, threads);
    if (!c.readyFile.empty() && !writeReadyFile(c.readyFile, *apiPort, *gwPort, apiTlsPort, gatewayTlsPort))
        spdlog::error("cannot write the ready file {}", c.readyFile.string());

    // Wait for SIGTERM/SIGINT on this thread.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    sigwait(&set, &sig);
    spdlog::info("received {}; stopping: no new connections, runs in flight finish (up to {} ms)",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT", c.shutdownGrace.count());

    apiServer.stop();
    gatewayServer.stop();
    if (apiTlsServer) {
        apiTlsServer->stop();
        gatewayTlsServer->stop();
    }
    eventManager.stop(); // drivers first: they would keep emitting into a stopping service
    service.shutdown(c.shutdownGrace);
    // Let the last answers (and their store commits) go out.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (service.runsInFlight() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    runStats.stop();
    runStats.flush(); // the last rollups, before the store drains
    store.value()->flush();
    work.reset();
    idleTrim.cancel();
    io.stop();
    for (auto &t : pool)
        t.join();
    store.value().reset();
    if (!c.readyFile.empty())
        fs::remove(c.readyFile, ec);
    spdlog::info("stopped");
    spdlog::shutdown();
    ::close(lockFd);
    return 0;
}

} // namespace dispatch::server
