// dispatch-bench: end-to-end figures for dispatch-server (memory, image seeding, function deployment, run
// throughput, gateway throughput), measured from outside the process over real HTTP. Nothing is asserted;
// the exit status is non-zero only if a scenario could not be run.
// SPDX-License-Identifier: GPL-3.0-or-later

#include "functionsource.h"
#include "httpclient.h"
#include "loadgen.h"
#include "serverprocess.h"
#include "trivialserver.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#ifndef DISPATCH_SERVER_EXE
#define DISPATCH_SERVER_EXE ""
#endif
#ifndef DISPATCH_SOURCE_DIR
#define DISPATCH_SOURCE_DIR "."
#endif

namespace {

using namespace dispatch::bench;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kExpectedGreeting = "Hello, Jon from Winterfell";
constexpr std::string_view kRunBody = R"({"blocking":true,"input":{"name":"Jon","place":"Winterfell"}})";
constexpr std::string_view kGatewayBody = R"({"name":"Jon","place":"Winterfell"})";

// Function-local statics: built on first use, so no exception can escape before main().
const std::vector<std::string> &allScenarios()
{
    static const std::vector<std::string> scenarios = {"ceiling", "rss", "seed", "create", "exec", "gateway"};
    return scenarios;
}

std::set<std::string> defaultScenarios()
{
    return {"ceiling", "rss", "seed", "create", "exec"};
}

struct Language
{
    std::string key;          // as given to --languages
    std::string functionName; // the benchmark's function
    std::string image;        // Dispatch image it is built on
    std::string handler;
    std::string runtimeDir; // fixture folder
    std::string fileName;
};

const std::vector<Language> &dispatchLanguages()
{
    static const std::vector<Language> list = {
        {"python", "hello-py", "python3", "hello.handle", "python3", "hello.py"},
        {"nodejs", "hello-js", "nodejs", "hello.js", "nodejs", "hello.js"},
    };
    return list;
}

struct SeedEntity
{
    std::string collection; // "baseimage" or "image"
    std::string name;
    json body;
};

std::vector<SeedEntity> seedEntities()
{
    return {
        {"baseimage",
         "python3-base",
         {{"name", "python3-base"},
          {"dockerUrl", "dispatchframework/python3-base:0.0.13"},
          {"language", "python3"},
          {"tags", json::array()}}},
        {"baseimage",
         "nodejs-base",
         {{"name", "nodejs-base"},
          {"dockerUrl", "dispatchframework/nodejs-base:0.0.12"},
          {"language", "nodejs"},
          {"tags", json::array()}}},
        {"image",
         "python3",
         {{"name", "python3"},
          {"baseImageName", "python3-base"},
          {"runtimeDependencies", {{"manifest", ""}}},
          {"tags", json::array()}}},
        {"image",
         "nodejs",
         {{"name", "nodejs"},
          {"baseImageName", "nodejs-base"},
          {"runtimeDependencies", {{"manifest", ""}}},
          {"tags", json::array()}}},
    };
}

struct Config
{
    std::set<std::string> scenarios = defaultScenarios();
    milliseconds duration{5000};
    milliseconds warmup{500};
    uint64_t requests = 0;
    std::vector<unsigned> execConcurrency{1, 16};
    std::vector<unsigned> gatewayConcurrency{16, 64};
    unsigned ceilingConcurrency = 64;
    unsigned threads = 1;
    std::vector<const Language *> languages{&dispatchLanguages()[0], &dispatchLanguages()[1]};
    std::string serverExe = DISPATCH_SERVER_EXE;
    std::vector<std::string> serverArgs;
    std::string reuseUrl;
    uint16_t reuseGatewayPort = 0;
    std::string org = "bench";
    milliseconds readyTimeout{180000};
    bool keepData = false;
    bool helpRequested = false;
};

// ---- formatting -------------------------------------------------------------------------------------------

std::string format(const char *fmt, auto... args)
{
    char buffer[512];
    std::snprintf(buffer, sizeof buffer, fmt, args...);
    return buffer;
}

std::string latencyText(uint64_t micros)
{
    if (micros < 1000)
        return format("%lluus", static_cast<unsigned long long>(micros));
    if (micros < 1'000'000)
        return format("%.2fms", static_cast<double>(micros) / 1000.0);
    return format("%.2fs", static_cast<double>(micros) / 1e6);
}

std::string millisText(double millis)
{
    return millis < 100 ? format("%.1f ms", millis) : format("%.0f ms", millis);
}
std::string mibText(uint64_t kib)
{
    return format("%.1f MiB", static_cast<double>(kib) / 1024.0);
}
std::string rateText(double rate)
{
    return rate < 100 ? format("%.1f", rate) : format("%.0f", rate);
}

struct SummaryRow
{
    std::string item;
    std::string value;
};

void printLoadHeader()
{
    std::printf("  %-30s %5s %9s %9s %9s %9s %9s %9s %7s  %s\n", "load", "conc", "replies", "req/s", "p50",
                "p90", "p99", "max", "errors", "notes");
}

std::string loadNotes(const LoadResult &r)
{
    // The generator's share of a core tells whether it, rather than the server, could be the limit.
    std::string notes = format("gen cpu %.0f%%", r.cpuPercent());
    if (r.abandoned > 0)
        notes += format("; %llu still running at the end (abandoned)",
                        static_cast<unsigned long long>(r.abandoned));
    if (r.non2xx() > 0)
        notes += "; status " + r.statusSummary();
    if (r.rejected > 0)
        notes += format("; %llu bad bodies", static_cast<unsigned long long>(r.rejected));
    if (r.transportErrors > 0)
        notes += format("; %llu transport errors (first: %s)",
                        static_cast<unsigned long long>(r.transportErrors), r.firstError.c_str());
    return notes;
}

void printLoadLine(const std::string &label, unsigned connections, const LoadResult &r,
                   std::string notes = {})
{
    if (notes.empty())
        notes = loadNotes(r);
    std::printf("  %-30s %5u %9llu %9s %9s %9s %9s %9s %7llu  %s\n", label.c_str(), connections,
                static_cast<unsigned long long>(r.completed), rateText(r.rps).c_str(),
                latencyText(r.latency.percentile(50)).c_str(), latencyText(r.latency.percentile(90)).c_str(),
                latencyText(r.latency.percentile(99)).c_str(), latencyText(r.latency.max()).c_str(),
                static_cast<unsigned long long>(r.errors()), notes.c_str());
    std::fflush(stdout);
}

std::string loadSummary(const LoadResult &r)
{
    return format("%s req/s  p50 %s  p99 %s  errors %llu", rateText(r.rps).c_str(),
                  latencyText(r.latency.percentile(50)).c_str(),
                  latencyText(r.latency.percentile(99)).c_str(), static_cast<unsigned long long>(r.errors()));
}

void section(const std::string &title)
{
    std::printf("\n== %s\n", title.c_str());
    std::fflush(stdout);
}

// ---- the benchmark --------------------------------------------------------------------------------------

std::atomic<pid_t> g_serverPid{-1};
char g_interruptNote[512] = "";

void onInterrupt(int signal)
{
    // Only async-signal-safe calls: stop the server and wait for it (so no server outlives us), say where its
    // files are, then die of the same signal.
    const pid_t pid = g_serverPid.load();
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, nullptr, 0);
    }
    if (g_interruptNote[0] != '\0')
        (void)!write(STDERR_FILENO, g_interruptNote, strlen(g_interruptNote));
    ::signal(signal, SIG_DFL);
    raise(signal);
}

std::string reasonText(const json &entity)
{
    const auto it = entity.find("reason");
    if (it == entity.end() || !it->is_array() || it->empty())
        return "no reason given";
    std::string text;
    for (const auto &line : *it)
        text += (text.empty() ? "" : "; ") + (line.is_string() ? line.get<std::string>() : line.dump());
    return text;
}

bool isGreeting(const json &value)
{
    return value.is_object() && value.contains("myField") && value["myField"].is_string() &&
           value["myField"].get<std::string>() == kExpectedGreeting;
}

class Bench
{
public:
    explicit Bench(Config config) : m_config(std::move(config)) {}

    int run()
    {
        if (selected("ceiling"))
            scenarioCeiling();

        const bool needsServer = std::any_of(m_config.scenarios.begin(), m_config.scenarios.end(),
                                             [](const std::string &s) { return s != "ceiling"; });
        if (needsServer) {
            if (!connectServer()) {
                printSummary();
                return 1;
            }
            if (selected("rss"))
                reportMemory("idle after start");
            if (selected("seed") || selected("rss")) {
                if (ensureSeeded(true) && selected("rss"))
                    reportMemory("idle after seeding");
            }
            if (selected("create"))
                scenarioCreate();
            if (selected("exec"))
                scenarioExec();
            if (selected("gateway"))
                scenarioGateway();
            if (selected("exec") || selected("gateway"))
                reportMemory("after load");
            stopServer();
        }
        printSummary();
        return m_failures == 0 ? 0 : 1;
    }

private:
    bool selected(const std::string &scenario) const { return m_config.scenarios.count(scenario) > 0; }

    void fail(const std::string &what)
    {
        ++m_failures;
        std::printf("  FAILED: %s\n", what.c_str());
        std::fflush(stdout);
        m_summary.push_back({"failure", what.substr(0, what.find('\n'))});
    }

    LoadOptions loadOptions(uint16_t port, unsigned connections) const
    {
        LoadOptions options;
        options.host = m_host;
        options.port = port;
        options.connections = connections;
        options.threads = m_config.threads;
        options.duration = m_config.duration;
        options.warmup = m_config.warmup;
        options.requestCount = m_config.requests;
        return options;
    }

    // -- scenario: the generator's own ceiling against a server that does nothing --

    void scenarioCeiling()
    {
        section("load generator ceiling (in-process trivial HTTP server, 1 server thread)");
        TrivialHttpServer trivial(1);
        LoadOptions options;
        options.port = trivial.port();
        options.connections = m_config.ceilingConcurrency;
        options.threads = m_config.threads;
        options.duration = std::min(m_config.duration, milliseconds(3000));
        options.warmup = std::min(m_config.warmup, milliseconds(300));
        printLoadHeader();
        HttpRequestSpec request;
        request.target = "/ceiling";
        const LoadResult r = runLoad(options, request);
        printLoadLine("GET /ceiling (trivial)", options.connections, r,
                      format("gen cpu %.0f%%, %.1fus/req", r.cpuPercent(), r.cpuMicrosPerRequest()));
        const double perThread = r.cpuMicrosPerRequest() > 0 ? 1e6 / r.cpuMicrosPerRequest() : 0;
        std::printf(
            "  generator: %u thread(s), %.2f CPU s in %.2f s, %.1f us CPU per request -> about %s req/s "
            "per generator thread with a core to itself\n",
            options.threads, r.cpuSeconds, r.wallSeconds, r.cpuMicrosPerRequest(),
            rateText(perThread).c_str());
        m_summary.push_back({"generator ceiling (c=" + std::to_string(options.connections) + ")",
                             rateText(r.rps) + format(" req/s, %.1f us CPU/req (~%s req/s per thread)",
                                                      r.cpuMicrosPerRequest(), rateText(perThread).c_str())});
    }

    // -- server lifecycle --

    bool connectServer()
    {
        if (!m_config.reuseUrl.empty())
            return reuseServer();
        section("server");
        if (m_config.serverExe.empty() || access(m_config.serverExe.c_str(), X_OK) != 0) {
            fail("dispatch-server not found or not executable: '" + m_config.serverExe +
                 "' (use --server-exe)");
            return false;
        }
        ServerOptions options;
        options.executable = m_config.serverExe;
        options.extraArguments = m_config.serverArgs;
        options.keepDataDir = m_config.keepData;
        std::string error;
        if (!m_server.start(options, error)) {
            fail(error);
            return false;
        }
        g_serverPid = m_server.pid();
        std::snprintf(g_interruptNote, sizeof g_interruptNote,
                      "\ndispatch-bench: interrupted; dispatch-server stopped, its files are in %s\n",
                      m_server.workDir().c_str());
        m_host = "127.0.0.1";
        m_apiPort = m_server.apiPort();
        m_gatewayPort = m_server.gatewayPort();
        m_serverPid = m_server.pid();
        std::printf("  %s\n  pid %d, api port %u, gateway port %u, ready file after %s; work dir %s%s\n",
                    m_config.serverExe.c_str(), m_server.pid(), m_apiPort, m_gatewayPort,
                    millisText(m_server.startMillis()).c_str(), m_server.workDir().c_str(),
                    m_config.keepData ? " (kept)" : "");
        m_summary.push_back({"server spawn -> ready file", millisText(m_server.startMillis())});
        m_api = std::make_unique<HttpClient>(m_host, m_apiPort, m_config.org);
        return true;
    }

    bool reuseServer()
    {
        section("server (reused)");
        std::string rest = m_config.reuseUrl;
        if (rest.rfind("http://", 0) == 0)
            rest = rest.substr(7);
        else if (rest.find("://") != std::string::npos) {
            fail("--reuse supports plain http:// URLs only: " + m_config.reuseUrl);
            return false;
        }
        rest = rest.substr(0, rest.find('/'));
        const auto colon = rest.rfind(':');
        m_host = colon == std::string::npos ? rest : rest.substr(0, colon);
        if (!m_host.empty() && m_host.front() == '[' && m_host.back() == ']')
            m_host = m_host.substr(1, m_host.size() - 2);
        unsigned port = 80;
        if (colon != std::string::npos) {
            const auto text = rest.substr(colon + 1);
            if (std::from_chars(text.data(), text.data() + text.size(), port).ec != std::errc{} ||
                port == 0 || port > 65535) {
                fail("bad port in --reuse " + m_config.reuseUrl);
                return false;
            }
        }
        m_apiPort = static_cast<uint16_t>(port);
        m_gatewayPort = m_config.reuseGatewayPort;
        m_api = std::make_unique<HttpClient>(m_host, m_apiPort, m_config.org);
        const HttpReply probe = m_api->get("/v1/baseimage");
        if (!probe.ok()) {
            fail("cannot reach " + m_config.reuseUrl + ": " + probe.error);
            return false;
        }
        if (m_host == "127.0.0.1" || m_host == "localhost")
            m_serverPid = findListeningProcess(m_apiPort);
        std::printf("  %s:%u (GET /v1/baseimage -> %u in %s), gateway port %s, server pid %s, org '%s'\n",
                    m_host.c_str(), m_apiPort, probe.status, millisText(probe.millis).c_str(),
                    m_gatewayPort ? std::to_string(m_gatewayPort).c_str() : "unknown (--gateway-port)",
                    m_serverPid ? std::to_string(*m_serverPid).c_str() : "unknown (no RSS figures)",
                    m_config.org.c_str());
        return true;
    }

    void stopServer()
    {
        if (!m_server.running())
            return;
        m_api.reset();
        g_serverPid = -1;
        g_interruptNote[0] = '\0';
        const StopResult stopped = m_server.stop();
        section("server stop");
        std::printf("  SIGTERM -> exit status %d after %s%s\n", stopped.exitStatus,
                    millisText(stopped.millis).c_str(),
                    stopped.killed ? " (did not stop in time: SIGKILLed)" : "");
        m_summary.push_back({"server SIGTERM -> exit",
                             millisText(stopped.millis) + format(" (status %d%s)", stopped.exitStatus,
                                                                 stopped.killed ? ", killed" : "")});
    }

    void reportMemory(const std::string &when)
    {
        if (!m_serverPid) {
            std::printf("  RSS %s: unknown (no server pid)\n", when.c_str());
            return;
        }
        if (when.rfind("idle", 0) == 0)
            std::this_thread::sleep_for(milliseconds(200)); // let start-up or seeding work settle
        const auto memory = processMemory(*m_serverPid);
        if (!memory) {
            fail("cannot read /proc/" + std::to_string(*m_serverPid) + "/status");
            return;
        }
        section("server memory " + when);
        std::printf("  VmRSS %s (peak VmHWM %s)\n", mibText(memory->rssKiB).c_str(),
                    mibText(memory->hwmKiB).c_str());
        m_summary.push_back(
            {"RSS " + when, mibText(memory->rssKiB) + " (peak " + mibText(memory->hwmKiB) + ")"});
    }

    // -- polling helpers --

    struct ReadyWait
    {
        bool ready = false;
        std::string error;
        unsigned polls = 0;
    };

    // Polls GET `target` every `interval` until its "status" is READY (or ERROR, or the deadline).
    ReadyWait waitReady(const std::string &target, milliseconds interval, Clock::time_point deadline)
    {
        ReadyWait wait;
        std::string last = "no reply";
        while (Clock::now() < deadline) {
            ++wait.polls;
            const HttpReply reply = m_api->get(target);
            if (!reply.ok()) {
                last = reply.error;
            } else if (reply.status == 200) {
                const json entity = json::parse(reply.body, nullptr, false);
                const std::string status =
                    entity.is_object() && entity.contains("status") && entity["status"].is_string()
                        ? entity["status"].get<std::string>()
                        : "";
                if (status == "READY") {
                    wait.ready = true;
                    return wait;
                }
                if (status == "ERROR") {
                    wait.error = "status ERROR: " + reasonText(entity);
                    return wait;
                }
                last = "status " + (status.empty() ? std::string("(none)") : status);
            } else {
                last = "HTTP " + std::to_string(reply.status) + " " + reply.body.substr(0, 200);
            }
            std::this_thread::sleep_for(interval);
        }
        wait.error = "not READY before the timeout; last: " + last;
        return wait;
    }

    // -- scenario: seed images --

    bool ensureSeeded(bool report)
    {
        if (m_seeded)
            return true;
        if (report)
            section("seed images (2 base images, 2 images; poll every 10 ms until READY)");
        const auto start = Clock::now();
        std::vector<SeedEntity> pending = seedEntities();
        for (const auto &entity : pending) {
            const HttpReply reply = m_api->post("/v1/" + entity.collection, entity.body.dump());
            if (!reply.ok() || (reply.status != 200 && reply.status != 201 && reply.status != 409)) {
                fail("POST /v1/" + entity.collection + " " + entity.name + ": " +
                     (reply.ok() ? "HTTP " + std::to_string(reply.status) + " " + reply.body : reply.error));
                return false;
            }
            if (report)
                std::printf("  POST /v1/%-9s %-13s -> %u in %s%s\n", entity.collection.c_str(),
                            entity.name.c_str(), reply.status, millisText(reply.millis).c_str(),
                            reply.status == 409 ? " (already there)" : "");
        }
        const auto deadline = start + m_config.readyTimeout;
        while (!pending.empty()) {
            for (auto it = pending.begin(); it != pending.end();) {
                const ReadyWait wait = waitReady("/v1/" + it->collection + "/" + it->name, milliseconds(0),
                                                 std::min(deadline, Clock::now() + milliseconds(1)));
                if (wait.ready) {
                    const double millis =
                        std::chrono::duration<double, std::milli>(Clock::now() - start).count();
                    if (report)
                        std::printf("  %-9s %-13s READY after %s\n", it->collection.c_str(), it->name.c_str(),
                                    millisText(millis).c_str());
                    it = pending.erase(it);
                } else if (!wait.error.empty() && wait.error.rfind("status ERROR", 0) == 0) {
                    fail(it->collection + " " + it->name + ": " + wait.error);
                    return false;
                } else {
                    ++it;
                }
            }
            if (pending.empty())
                break;
            if (Clock::now() >= deadline) {
                fail(format("%zu seed image(s) not READY within %lld s (first: %s)", pending.size(),
                            static_cast<long long>(m_config.readyTimeout.count() / 1000),
                            pending.front().name.c_str()));
                return false;
            }
            std::this_thread::sleep_for(milliseconds(10));
        }
        const double total = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        if (report) {
            std::printf("  all READY after %s\n", millisText(total).c_str());
            m_summary.push_back({"seed images: all READY", millisText(total)});
        }
        m_seeded = true;
        return true;
    }

    // -- scenario: function create -> READY -> first result --

    std::optional<std::string> functionSourceBase64(const Language &language)
    {
        const FunctionSource source =
            loadHelloSource(DISPATCH_SOURCE_DIR, language.runtimeDir, language.fileName);
        std::string error;
        const std::string archive = makeTarGz(source.fileName, source.text, error);
        if (archive.empty()) {
            fail("packing " + source.fileName + ": " + error);
            return std::nullopt;
        }
        m_sourceOrigin[language.key] = source.origin;
        return base64Encode(archive);
    }

    // Creates the language's function; with `report`, prints and records the timings.
    bool createFunction(const Language &language, bool report)
    {
        const std::string target = "/v1/function/" + language.functionName;
        const HttpReply existing = m_api->get(target);
        if (existing.ok() && existing.status == 200) {
            // A reused server may still have it from an earlier run: start from nothing so the timing is
            // honest.
            const HttpReply removed = m_api->del(target);
            const auto deadline = Clock::now() + m_config.readyTimeout;
            while (Clock::now() < deadline && m_api->get(target).status != 404)
                std::this_thread::sleep_for(milliseconds(10));
            if (report)
                std::printf("  (%s existed: deleted it first, DELETE -> %u)\n", language.functionName.c_str(),
                            removed.status);
        }
        const auto source = functionSourceBase64(language);
        if (!source)
            return false;
        const json body = {{"name", language.functionName},
                           {"image", language.image},
                           {"handler", language.handler},
                           {"source", *source},
                           {"secrets", json::array()},
                           {"services", json::array()},
                           {"timeout", 0},
                           {"tags", json::array()},
                           {"schema", json::object()}};
        const std::string payload = body.dump();

        const auto start = Clock::now();
        const HttpReply created = m_api->post("/v1/function", payload);
        if (!created.ok() || (created.status != 201 && created.status != 200)) {
            fail("POST /v1/function " + language.functionName + ": " +
                 (created.ok() ? "HTTP " + std::to_string(created.status) + " " + created.body
                               : created.error));
            return false;
        }
        const ReadyWait wait = waitReady(target, milliseconds(2), start + m_config.readyTimeout);
        const double readyMillis = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        if (!wait.ready) {
            fail("function " + language.functionName + ": " + wait.error);
            return false;
        }
        const HttpReply run = m_api->post("/v1/runs?functionName=" + language.functionName, kRunBody);
        const double firstMillis = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        const json runEntity = run.ok() ? json::parse(run.body, nullptr, false) : json();
        const bool good = run.ok() && run.status == 200 && runEntity.is_object() &&
                          runEntity.value("status", "") == "READY" && runEntity.contains("output") &&
                          isGreeting(runEntity["output"]);
        if (!good) {
            fail("first run of " + language.functionName + ": " +
                 (run.ok() ? "HTTP " + std::to_string(run.status) + " " + run.body.substr(0, 400)
                           : run.error));
            return false;
        }
        m_readyFunctions.insert(language.functionName);
        if (report) {
            std::printf("  %-10s %10s %14s %16s %12s %7u  %s\n", language.functionName.c_str(),
                        millisText(created.millis).c_str(), millisText(readyMillis).c_str(),
                        millisText(firstMillis).c_str(), millisText(run.millis).c_str(), wait.polls,
                        m_sourceOrigin[language.key].c_str());
            m_summary.push_back({"create->READY " + language.functionName, millisText(readyMillis)});
            m_summary.push_back({"create->first result " + language.functionName, millisText(firstMillis)});
        }
        return true;
    }

    bool ensureFunction(const Language &language)
    {
        if (m_readyFunctions.count(language.functionName))
            return true;
        if (!ensureSeeded(false))
            return false;
        const std::string target = "/v1/function/" + language.functionName;
        const HttpReply existing = m_api->get(target);
        if (existing.ok() && existing.status == 200) {
            const ReadyWait wait = waitReady(target, milliseconds(10), Clock::now() + m_config.readyTimeout);
            if (!wait.ready) {
                fail("function " + language.functionName + ": " + wait.error);
                return false;
            }
            m_readyFunctions.insert(language.functionName);
            return true;
        }
        return createFunction(language, false);
    }

    void scenarioCreate()
    {
        section("function create -> READY -> first result (poll GET every 2 ms)");
        if (!ensureSeeded(false))
            return;
        std::printf("  %-10s %10s %14s %16s %12s %7s  %s\n", "function", "POST", "create->READY",
                    "create->result", "first run", "polls", "source");
        for (const Language *language : m_config.languages)
            createFunction(*language, true);
    }

    // -- what the server spent on a load level: CPU per reply (its own threads and its function workers) and
    // the store's group-commit batch size (from /metrics; absent on a plain Dispatch server) --

    struct ServerSample
    {
        std::optional<CpuFigures> cpu;
        std::optional<double> commits;
        std::optional<double> writes;
    };

    static std::optional<double> metricValue(const std::string &text, const std::string &name)
    {
        const std::string key = "\n" + name + " ";
        const auto at = text.find(key);
        if (at == std::string::npos)
            return std::nullopt;
        return std::strtod(text.c_str() + at + key.size(), nullptr);
    }

    ServerSample sampleServer()
    {
        ServerSample sample;
        if (m_serverPid)
            sample.cpu = processTreeCpu(*m_serverPid);
        const HttpReply metrics = m_api->get("/metrics");
        if (metrics.ok() && metrics.status == 200) {
            const std::string text = "\n" + metrics.body;
            sample.commits = metricValue(text, "dispatch_store_commits_total");
            sample.writes = metricValue(text, "dispatch_store_writes_total");
        }
        return sample;
    }

    // Replies counted with the warm-up: the server did that work too.
    static std::string serverNotes(const ServerSample &before, const ServerSample &after, const LoadResult &r)
    {
        std::string notes;
        const double replies = static_cast<double>(r.completed + r.warmup2xx);
        if (before.cpu && after.cpu && replies > 0) {
            notes += format("; server %.0f us/req, workers %.0f us/req",
                            (after.cpu->processSeconds - before.cpu->processSeconds) * 1e6 / replies,
                            (after.cpu->descendantsSeconds - before.cpu->descendantsSeconds) * 1e6 / replies);
        }
        if (before.commits && after.commits && before.writes && after.writes && *after.commits > *before.commits)
            notes += format("; %.1f writes/commit",
                            (*after.writes - *before.writes) / (*after.commits - *before.commits));
        return notes;
    }

    LoadResult measuredLoad(const LoadOptions &options, const HttpRequestSpec &request, std::string &notes)
    {
        const ServerSample before = sampleServer();
        LoadResult r = runLoad(options, request);
        notes = loadNotes(r) + serverNotes(before, sampleServer(), r);
        return r;
    }

    // -- scenario: blocking run throughput and persistence --

    struct RunCount
    {
        std::optional<std::size_t> count;
        double millis = 0;
        std::size_t bytes = 0;
        std::string error;
    };

    RunCount countRuns(const std::string &query)
    {
        RunCount result;
        const HttpReply reply = m_api->request("GET", "/v1/runs?" + query, {}, std::chrono::seconds(120));
        result.millis = reply.millis;
        result.bytes = reply.body.size();
        if (!reply.ok() || reply.status != 200) {
            result.error = reply.ok() ? "HTTP " + std::to_string(reply.status) : reply.error;
            return result;
        }
        const json list = json::parse(reply.body, nullptr, false);
        if (!list.is_array()) {
            result.error = "reply is not a JSON array";
            return result;
        }
        result.count = list.size();
        return result;
    }

    // The server may write runs behind the replies: poll until the count reaches `expected` or stops moving.
    // The server's --run-retention (its default unless given with --server-arg); unknown for --reuse.
    std::optional<std::size_t> runRetention() const
    {
        if (!m_config.reuseUrl.empty())
            return std::nullopt;
        std::size_t retention = 100000;
        const auto &args = m_config.serverArgs;
        for (std::size_t i = 0; i < args.size(); ++i) {
            if (args[i].rfind("--run-retention=", 0) == 0)
                retention = std::strtoull(args[i].c_str() + 16, nullptr, 10);
            else if (args[i] == "--run-retention" && i + 1 < args.size())
                retention = std::strtoull(args[i + 1].c_str(), nullptr, 10);
        }
        return retention;
    }

    void reportPersisted(const std::string &function, std::size_t before, uint64_t replies,
                         uint64_t abandoned)
    {
        const auto start = Clock::now();
        RunCount last;
        std::optional<std::size_t> previous;
        auto stableSince = Clock::now();
        for (;;) {
            last = countRuns("functionName=" + function);
            if (!last.count)
                break;
            const std::size_t persisted = *last.count >= before ? *last.count - before : 0;
            if (persisted >= replies)
                break;
            if (previous != last.count) {
                previous = last.count;
                stableSince = Clock::now();
            }
            if (Clock::now() - stableSince > milliseconds(1000) || Clock::now() - start > milliseconds(10000))
                break;
            std::this_thread::sleep_for(milliseconds(100));
        }
        if (!last.count) {
            std::printf("  persisted: unknown (GET /v1/runs?functionName=%s: %s)\n", function.c_str(),
                        last.error.c_str());
            return;
        }
        const std::size_t persisted = *last.count >= before ? *last.count - before : 0;
        const double waited = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        // Past the server's run retention the oldest runs are deleted as new ones arrive: the list then holds the
        // retention, and "persisted" can only be told by that.
        const std::optional<std::size_t> retention = runRetention();
        if (retention && *last.count >= *retention && persisted < replies) {
            // Retention is enforced every 64 finished runs, so up to 63 more may be listed until the next one.
            std::printf("  persisted: the function's list is at its retention (%zu): %zu runs, the newest (%llu 2xx "
                        "replies in this level; list in %s)\n",
                        *retention, *last.count, static_cast<unsigned long long>(replies),
                        millisText(last.millis).c_str());
            m_summary.push_back({"runs persisted " + function,
                                 format("%zu kept, at --run-retention %zu (oldest deleted)", *last.count, *retention)});
            m_summary.push_back({"GET /v1/runs list " + function,
                                 format("%zu runs in ", *last.count) + millisText(last.millis)});
            return;
        }
        std::printf(
            "  persisted: %zu of %llu 2xx replies%s (list of %zu runs, %.1f MB, in %s; settled after %s)\n",
            persisted, static_cast<unsigned long long>(replies),
            abandoned ? format(" + up to %llu abandoned", static_cast<unsigned long long>(abandoned)).c_str()
                      : "",
            *last.count, static_cast<double>(last.bytes) / 1e6, millisText(last.millis).c_str(),
            millisText(waited).c_str());
        m_summary.push_back({"runs persisted " + function,
                             format("%zu of %llu", persisted, static_cast<unsigned long long>(replies))});
        m_summary.push_back(
            {"GET /v1/runs list " + function, format("%zu runs in ", *last.count) + millisText(last.millis)});
    }

    void scenarioExec()
    {
        section(
            "blocking runs: POST /v1/runs?functionName=<fn> {\"blocking\":true,...}" +
            format(
                " (%s per level%s)",
                m_config.requests
                    ? format("%llu requests", static_cast<unsigned long long>(m_config.requests)).c_str()
                    : millisText(static_cast<double>(m_config.duration.count())).c_str(),
                m_config.requests
                    ? ""
                    : format(", %lld ms warm-up", static_cast<long long>(m_config.warmup.count())).c_str()));
        for (const Language *language : m_config.languages) {
            if (!ensureFunction(*language))
                continue;
            const std::string &function = language->functionName;
            const RunCount initial = countRuns("functionName=" + function);
            std::size_t before = initial.count.value_or(0);
            printLoadHeader();
            for (const unsigned connections : m_config.execConcurrency) {
                HttpRequestSpec request;
                request.method = "POST";
                request.target = "/v1/runs?functionName=" + function;
                request.body = std::string(kRunBody);
                request.headers = {{"X-Dispatch-Org", m_config.org}, {"Cookie", "cookie"}};
                LoadOptions options = loadOptions(m_apiPort, connections);
                options.check = [](unsigned, std::string_view body) {
                    const json run = json::parse(body, nullptr, false);
                    return run.is_object() && run.value("status", "") == "READY" && run.contains("output") &&
                           isGreeting(run["output"]);
                };
                std::string notes;
                const LoadResult r = measuredLoad(options, request, notes);
                printLoadLine(function, connections, r, notes);
                m_summary.push_back({format("exec %s c=%u", function.c_str(), connections), loadSummary(r)});
                if (initial.count) {
                    reportPersisted(function, before, r.ok2xx + r.warmup2xx,
                                    r.abandoned); // warm-up runs are stored too
                    const RunCount now = countRuns("functionName=" + function);
                    before = now.count.value_or(before);
                }
            }
            const RunCount limited = countRuns("functionName=" + function + "&limit=1");
            if (limited.count)
                std::printf("  GET /v1/runs?functionName=%s&limit=1: %zu run(s) in %s (%s)\n",
                            function.c_str(), *limited.count, millisText(limited.millis).c_str(),
                            *limited.count <= 1 ? "limit honoured" : "limit ignored");
            else
                std::printf("  GET /v1/runs?functionName=%s&limit=1: %s\n", function.c_str(),
                            limited.error.c_str());
        }
    }

    // -- scenario: API gateway (placeholder until the server has one) --

    void scenarioGateway()
    {
        section("API gateway: POST http://127.0.0.1:<gateway>/<org>/hello-<language> -> hello-py / hello-js");
        if (m_gatewayPort == 0) {
            std::printf("  skipped: gateway port unknown\n");
            m_summary.push_back({"gateway", "skipped (no gateway port)"});
            return;
        }
        bool header = false;
        for (const Language *language : m_config.languages) {
            if (!ensureFunction(*language))
                continue;
            const std::string apiName = "bench-" + language->functionName;
            const std::string uri = "/" + language->functionName;
            const json api = {{"name", apiName},         {"function", language->functionName},
                              {"methods", {"POST"}},     {"protocols", {"http"}},
                              {"uris", {uri}},           {"enabled", true},
                              {"cors", false},           {"tags", json::array()}};
            const HttpReply created = m_api->post("/v1/api", api.dump());
            if (!created.ok() || (created.status != 200 && created.status != 201 && created.status != 409)) {
                std::printf("  skipped: POST /v1/api -> %s\n",
                            created.ok() ? ("HTTP " + std::to_string(created.status)).c_str()
                                         : created.error.c_str());
                m_summary.push_back({"gateway", "skipped (POST /v1/api not supported)"});
                return;
            }
            const ReadyWait wait =
                waitReady("/v1/api/" + apiName, milliseconds(10), Clock::now() + milliseconds(10000));
            if (!wait.ready)
                std::printf("  note: API %s not reported READY (%s); trying anyway\n", apiName.c_str(),
                            wait.error.c_str());

            const std::string path = "/" + m_config.org + uri;
            HttpClient gateway(m_host, m_gatewayPort, m_config.org);
            const HttpReply probe = gateway.post(path, kGatewayBody);
            const json output = probe.ok() ? json::parse(probe.body, nullptr, false) : json();
            if (!probe.ok() || probe.status != 200 || !isGreeting(output)) {
                std::printf(
                    "  skipped: probe POST %s -> %s\n", path.c_str(),
                    probe.ok()
                        ? ("HTTP " + std::to_string(probe.status) + " " + probe.body.substr(0, 200)).c_str()
                        : probe.error.c_str());
                m_summary.push_back({"gateway " + language->functionName, "skipped (probe failed)"});
                continue;
            }
            if (!header) {
                printLoadHeader();
                header = true;
            }
            for (const unsigned connections : m_config.gatewayConcurrency) {
                HttpRequestSpec request;
                request.method = "POST";
                request.target = path;
                request.body = std::string(kGatewayBody);
                LoadOptions options = loadOptions(m_gatewayPort, connections);
                options.check = [](unsigned, std::string_view body) {
                    return isGreeting(json::parse(body, nullptr, false));
                };
                std::string notes;
                const LoadResult r = measuredLoad(options, request, notes);
                printLoadLine("gateway " + path, connections, r, notes);
                m_summary.push_back(
                    {format("gateway %s c=%u", language->functionName.c_str(), connections), loadSummary(r)});
            }
        }
    }

    void printSummary() const
    {
        section("summary");
        std::size_t width = 0;
        for (const auto &row : m_summary)
            width = std::max(width, row.item.size());
        for (const auto &row : m_summary)
            std::printf("  %-*s  %s\n", static_cast<int>(width), row.item.c_str(), row.value.c_str());
        std::fflush(stdout);
    }

    Config m_config;
    ServerProcess m_server;
    std::unique_ptr<HttpClient> m_api;
    std::string m_host = "127.0.0.1";
    uint16_t m_apiPort = 0;
    uint16_t m_gatewayPort = 0;
    std::optional<pid_t> m_serverPid;
    bool m_seeded = false;
    std::set<std::string> m_readyFunctions;
    std::map<std::string, std::string> m_sourceOrigin;
    std::vector<SummaryRow> m_summary;
    int m_failures = 0;
};

// ---- command line ---------------------------------------------------------------------------------------

void printUsage()
{
    std::printf(R"(usage: dispatch-bench [options]

Starts dispatch-server on a temporary data dir (ports chosen by the server) and prints figures.

scenarios (--scenarios, comma-separated; default ceiling,rss,seed,create,exec):
  ceiling   load generator ceiling against an in-process trivial HTTP server
  rss       server VmRSS after start and after seeding images (and after the load)
  seed      POST the python3/nodejs base images and images, time until all READY
  create    POST /v1/function hello-py / hello-js, time to READY and to the first run result
  exec      blocking POST /v1/runs throughput per language and concurrency, and persisted run counts
  gateway   POST through the API gateway per language (off by default; skipped if the server has no /v1/api)

options:
  --scenarios LIST        scenarios to run ("all" = every one)
  --gateway               add the gateway scenario
  --duration SEC          length of each load level (default 5)
  --warmup SEC            unmeasured start of each load level (default 0.5)
  --requests N            run N requests per load level instead of a duration
  -c, --concurrency LIST  connections per exec level (default 1,16)
  --gateway-concurrency LIST  (default 16,64)
  --ceiling-concurrency N (default 64)
  --threads N             load generator threads (default 1)
  --languages LIST        python,nodejs (default both)
  --org NAME              X-Dispatch-Org of every request (default bench)
  --ready-timeout SEC     wait at most this long for images/functions to be READY (default 180)
  --server-exe PATH       dispatch-server to start (default: the one built with this tree)
  --server-arg ARG        extra argument for dispatch-server (repeatable)
  --keep-data             keep the server's temporary dir (data, ready file, server.log)
  --reuse URL             bench an already running server, e.g. http://127.0.0.1:8080
  --gateway-port N        gateway port of the --reuse server
  -h, --help
)");
}

std::optional<double> parseNumber(const std::string &text)
{
    char *end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || value < 0)
        return std::nullopt;
    return value;
}

std::vector<std::string> splitList(const std::string &text)
{
    std::vector<std::string> items;
    std::stringstream stream(text);
    for (std::string item; std::getline(stream, item, ',');)
        if (!item.empty())
            items.push_back(item);
    return items;
}

std::optional<std::vector<unsigned>> parseCounts(const std::string &text)
{
    std::vector<unsigned> counts;
    for (const auto &item : splitList(text)) {
        const auto value = parseNumber(item);
        if (!value || *value < 1 || *value > 100000)
            return std::nullopt;
        counts.push_back(static_cast<unsigned>(*value));
    }
    if (counts.empty())
        return std::nullopt;
    return counts;
}

const Language *findLanguage(const std::string &name)
{
    if (name == "python" || name == "python3" || name == "py")
        return &dispatchLanguages()[0];
    if (name == "nodejs" || name == "node" || name == "js")
        return &dispatchLanguages()[1];
    return nullptr;
}

std::optional<Config> parseArguments(int argc, char **argv)
{
    Config config;
    const std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string &arg = args[i];
        const auto value = [&]() -> std::optional<std::string> {
            if (i + 1 >= args.size()) {
                std::fprintf(stderr, "dispatch-bench: %s needs a value\n", arg.c_str());
                return std::nullopt;
            }
            return args[++i];
        };
        const auto bad = [&](const std::string &text) {
            std::fprintf(stderr, "dispatch-bench: bad value for %s: '%s'\n", arg.c_str(), text.c_str());
            return std::nullopt;
        };
        const auto seconds = [&](milliseconds &target) -> bool {
            const auto text = value();
            if (!text)
                return false;
            const auto number = parseNumber(*text);
            if (!number) {
                bad(*text);
                return false;
            }
            target = milliseconds(static_cast<int64_t>(*number * 1000.0));
            return true;
        };
        if (arg == "-h" || arg == "--help") {
            config.helpRequested = true;
            return config;
        } else if (arg == "--scenarios") {
            const auto text = value();
            if (!text)
                return std::nullopt;
            config.scenarios.clear();
            for (const auto &item : splitList(*text)) {
                if (item == "all") {
                    config.scenarios.insert(allScenarios().begin(), allScenarios().end());
                } else if (std::find(allScenarios().begin(), allScenarios().end(), item) !=
                           allScenarios().end()) {
                    config.scenarios.insert(item);
                } else {
                    return bad(item);
                }
            }
        } else if (arg == "--gateway") {
            config.scenarios.insert("gateway");
        } else if (arg == "--duration") {
            if (!seconds(config.duration))
                return std::nullopt;
        } else if (arg == "--warmup") {
            if (!seconds(config.warmup))
                return std::nullopt;
        } else if (arg == "--ready-timeout") {
            if (!seconds(config.readyTimeout))
                return std::nullopt;
        } else if (arg == "--requests") {
            const auto text = value();
            if (!text)
                return std::nullopt;
            const auto number = parseNumber(*text);
            if (!number || *number < 1)
                return bad(*text);
            config.requests = static_cast<uint64_t>(*number);
        } else if (arg == "-c" || arg == "--concurrency" || arg == "--gateway-concurrency" ||
                   arg == "--ceiling-concurrency") {
            const auto text = value();
            if (!text)
                return std::nullopt;
            const auto counts = parseCounts(*text);
            if (!counts)
                return bad(*text);
            if (arg == "--gateway-concurrency")
                config.gatewayConcurrency = *counts;
            else if (arg == "--ceiling-concurrency")
                config.ceilingConcurrency = counts->front();
            else
                config.execConcurrency = *counts;
        } else if (arg == "--threads") {
            const auto text = value();
            if (!text)
                return std::nullopt;
            const auto number = parseNumber(*text);
            if (!number || *number < 1 || *number > 256)
                return bad(*text);
            config.threads = static_cast<unsigned>(*number);
        } else if (arg == "--languages") {
            const auto text = value();
            if (!text)
                return std::nullopt;
            config.languages.clear();
            for (const auto &item : splitList(*text)) {
                const Language *language = findLanguage(item);
                if (!language)
                    return bad(item);
                if (std::find(config.languages.begin(), config.languages.end(), language) ==
                    config.languages.end())
                    config.languages.push_back(language);
            }
            if (config.languages.empty())
                return bad(*text);
        } else if (arg == "--org") {
            const auto text = value();
            if (!text || text->empty())
                return std::nullopt;
            config.org = *text;
        } else if (arg == "--server-exe") {
            const auto text = value();
            if (!text)
                return std::nullopt;
            config.serverExe = *text;
        } else if (arg == "--server-arg") {
            const auto text = value();
            if (!text)
                return std::nullopt;
            config.serverArgs.push_back(*text);
        } else if (arg == "--keep-data") {
            config.keepData = true;
        } else if (arg == "--reuse") {
            const auto text = value();
            if (!text)
                return std::nullopt;
            config.reuseUrl = *text;
        } else if (arg == "--gateway-port") {
            const auto text = value();
            if (!text)
                return std::nullopt;
            const auto number = parseNumber(*text);
            if (!number || *number < 1 || *number > 65535)
                return bad(*text);
            config.reuseGatewayPort = static_cast<uint16_t>(*number);
        } else {
            std::fprintf(stderr, "dispatch-bench: unknown option %s (see --help)\n", arg.c_str());
            return std::nullopt;
        }
    }
    return config;
}

} // namespace

int main(int argc, char **argv)
{
    auto config = parseArguments(argc, argv);
    if (!config)
        return 2;
    if (config->helpRequested) {
        printUsage();
        return 0;
    }
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGINT, onInterrupt);
    ::signal(SIGTERM, onInterrupt);
    std::printf("dispatch-bench: %u CPU(s), generator threads %u, scenarios:",
                std::thread::hardware_concurrency(), config->threads);
    for (const auto &scenario : allScenarios())
        if (config->scenarios.count(scenario))
            std::printf(" %s", scenario.c_str());
    std::printf("\n");
    Bench bench(std::move(*config));
    return bench.run();
}
