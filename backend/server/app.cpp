// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/app.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "api/restapi.h"
#include "api/service.h"
#include "core/clock.h"
#include "engine/localengine.h"
#include "http/server.h"
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

bool writeReadyFile(const fs::path &file, uint16_t api, uint16_t gateway)
{
    const fs::path tmp = file.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out)
            return false;
        out << nlohmann::json{{"apiPort", api}, {"gatewayPort", gateway}, {"pid", ::getpid()}}.dump() << "\n";
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
    api::ServiceOptions so;
    so.baseImageSettle = c.baseImageSettle;
    so.defaultRunRetention = c.runRetention;
    so.version = DISPATCH_VERSION;
    api::Service service(io, *store.value(), box.value(), engine, clock, so);
    service.load();

    api::RestApi rest(service, api::VersionInfo{DISPATCH_VERSION, DISPATCH_GIT_COMMIT, DISPATCH_BUILD_DATE});
    http::ServerOptions apiOpts;
    apiOpts.name = "api";
    apiOpts.host = c.host;
    apiOpts.port = c.port;
    apiOpts.bodyLimit = c.maxBodyBytes;
    http::Server apiServer(io, apiOpts, [&rest](auto ctx, auto responder) { rest.handle(std::move(ctx), std::move(responder)); });

    // The gateway listener exists so that ports are stable for clients; routing comes with the gateway issue.
    http::ServerOptions gwOpts = apiOpts;
    gwOpts.name = "gateway";
    gwOpts.port = c.gatewayPort;
    http::Server gatewayServer(io, gwOpts, [](auto ctx, http::ResponderPtr responder) {
        auto res = http::makeJson(404, R"({"message":"no API found with those values"})", ctx->request.version());
        res.keep_alive(ctx->request.keep_alive());
        responder->send(std::move(res));
    });

    auto apiPort = apiServer.start();
    if (!apiPort) {
        spdlog::critical("cannot listen on {}:{}: {}", c.host, c.port, apiPort.error().message);
        return 1;
    }
    auto gwPort = gatewayServer.start();
    if (!gwPort) {
        spdlog::critical("cannot listen on {}:{} (gateway): {}", c.host, c.gatewayPort, gwPort.error().message);
        return 1;
    }

    const unsigned threads = c.threads ? c.threads : std::max(2u, std::thread::hardware_concurrency());
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

    spdlog::info("API on http://{}:{}, gateway on http://{}:{} ({} I/O threads)", c.host, *apiPort, c.host, *gwPort,
                 threads);
    if (!c.readyFile.empty() && !writeReadyFile(c.readyFile, *apiPort, *gwPort))
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
    service.shutdown(c.shutdownGrace);
    // Let the last answers (and their store commits) go out.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (service.runsInFlight() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    store.value()->flush();
    work.reset();
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
