// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/localengine.h"

#include <sys/wait.h>

#include <fstream>
#include <set>
#include <sstream>
#include <regex>
#include <thread>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "engine/sourcearchive.h"

namespace dispatch::engine {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

std::string lastLines(const std::string &text, std::size_t n)
{
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        std::string l = text.substr(start, end - start);
        if (!l.empty() && l.back() == '\r')
            l.pop_back();
        if (!l.empty())
            lines.push_back(std::move(l));
        start = end + 1;
    }
    std::string out;
    const std::size_t from = lines.size() > n ? lines.size() - n : 0;
    for (std::size_t i = from; i < lines.size(); ++i) {
        if (!out.empty())
            out += "\n";
        out += lines[i];
    }
    return out;
}

std::string safeComponent(const std::string &s)
{
    std::string out;
    for (char c : s)
        out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_');
    return out.empty() ? "_" : out;
}

void removeTreeQuietly(const fs::path &p)
{
    std::error_code ec;
    fs::remove_all(p, ec);
    if (ec)
        spdlog::warn("could not remove {}: {}", p.string(), ec.message());
}

// The first javac diagnostic, relative to the source dir: "Hello.java:5: error: ';' expected".
std::string firstJavacError(const std::string &output, const fs::path &srcDir)
{
    std::string prefix = srcDir.string() + "/";
    std::size_t start = 0;
    while (start < output.size()) {
        auto end = output.find('\n', start);
        if (end == std::string::npos)
            end = output.size();
        std::string line = output.substr(start, end - start);
        if (line.find(": error:") != std::string::npos) {
            if (line.rfind(prefix, 0) == 0)
                line.erase(0, prefix.size());
            return line;
        }
        start = end + 1;
    }
    return lastLines(output, 3);
}

} // namespace

LocalEngine::LocalEngine(asio::io_context &io, LocalEngineOptions options)
    : m_io(io), m_options(std::move(options)), m_reaper(io)
{
}

LocalEngine::~LocalEngine() = default;

std::string LocalEngine::initialise()
{
    if (m_options.sandbox == SandboxMode::Off) {
        m_sandboxed = false;
        m_sandboxNote = "functions run without a sandbox (disabled by configuration)";
        return m_sandboxNote;
    }
    const fs::path bwrap = findExecutable("bwrap", m_options.runtimes.searchPath);
    std::string why;
    if (bwrap.empty()) {
        why = "bwrap (bubblewrap) is not installed";
    } else {
        // A real trial: user namespaces may be disabled even when bwrap exists.
        SpawnSpec spec;
        spec.argv = {bwrap.string(), "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink",
                     "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev",
                     "--die-with-parent", "--", "/usr/bin/true"};
        spec.env = environmentWith({});
        auto pid = spawnProcess(spec);
        if (!pid) {
            why = pid.error().message;
        } else {
            int st = 0;
            ::waitpid(*pid, &st, 0);
            if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
                why = "bwrap cannot create a sandbox here (user namespaces unavailable?)";
        }
    }
    if (why.empty()) {
        m_sandboxed = true;
        m_sandboxNote = "functions run in a bubblewrap sandbox (" + bwrap.string() + ")";
    } else if (m_options.sandbox == SandboxMode::On) {
        m_sandboxed = false;
        m_sandboxNote = "sandbox required but unavailable: " + why;
    } else {
        m_sandboxed = false;
        m_sandboxNote = "functions run WITHOUT a sandbox: " + why;
    }
    return m_sandboxNote;
}

std::string LocalEngine::describe() const
{
    return "local worker processes; " + m_sandboxNote;
}

fs::path LocalEngine::imageDir(const ImageSpec &spec) const
{
    return m_options.dataDir / "images" / safeComponent(spec.org) / (safeComponent(spec.name) + "-" + spec.id);
}

fs::path LocalEngine::functionDir(const FunctionKey &key, const std::string &revision) const
{
    return m_options.dataDir / "functions" / safeComponent(key.org) / safeComponent(key.name) /
           safeComponent(revision);
}

void LocalEngine::prepareBaseImage(const BaseImageSpec &spec, std::function<void(Result<RuntimeInfo>)> done)
{
    auto resolved = resolveBaseImage(spec.dockerUrl, spec.language);
    if (auto *reason = std::get_if<std::string>(&resolved)) {
        asio::post(m_io, [done, r = *reason] { done(ApiError::badRequest(r)); });
        return;
    }
    const RuntimeRef ref = std::get<RuntimeRef>(resolved);
    std::string whyNot;
    auto interpreter = locateInterpreter(ref, m_options.runtimes, whyNot);
    if (!interpreter) {
        asio::post(m_io, [done, whyNot] { done(ApiError::badRequest(whyNot)); });
        return;
    }
    RuntimeInfo info;
    info.runtime = ref.runtime;
    info.interpreter = *interpreter;
    if (ref.runtime == "java") {
        const fs::path javac = findExecutable(
            (interpreter->parent_path() / "javac").string(), m_options.runtimes.searchPath);
        info.compiler = javac.empty() ? findExecutable("javac", m_options.runtimes.searchPath) : javac;
        if (info.compiler.empty()) {
            asio::post(m_io, [done] {
                done(ApiError::badRequest("javac is not installed on this host (java functions are compiled "
                                          "locally; install it with: apt-get install default-jdk-headless)"));
            });
            return;
        }
        std::error_code ec;
        if (!fs::exists(m_options.runtimes.gsonJar, ec)) {
            asio::post(m_io, [done, jar = m_options.runtimes.gsonJar.string()] {
                done(ApiError::badRequest("the Gson library (" + jar +
                                          ") is missing; java functions need it: apt-get install libgoogle-gson-java"));
            });
            return;
        }
    }
    SpawnSpec probe;
    probe.argv = versionCommand(info.runtime, info.interpreter);
    probe.env = environmentWith({});
    runCommand(m_io, m_reaper, probe, std::chrono::seconds(30), 4096,
               [this, info, done](CommandResult r) mutable {
                   if (r.startFailed || r.timedOut || !r.status.success()) {
                       done(ApiError::badRequest(info.interpreter.string() + " does not run: " +
                                                 (r.timedOut ? std::string("timed out") : r.status.describe()) +
                                                 (r.output.empty() ? "" : ": " + lastLines(r.output, 2))));
                       return;
                   }
                   info.version = parseVersion(info.runtime, r.output);
                   if (info.runtime != "java") {
                       done(std::move(info));
                       return;
                   }
                   ensureJavaShim(info, [info, done](Result<fs::path> shim) mutable {
                       if (!shim)
                           done(shim.error());
                       else
                           done(std::move(info));
                   });
               });
}

void LocalEngine::ensureJavaShim(const RuntimeInfo &rt, std::function<void(Result<fs::path>)> done)
{
    {
        std::lock_guard lock(m_javaShimMutex);
        if (!m_javaShim.empty()) {
            asio::post(m_io, [done, p = m_javaShim] { done(p); });
            return;
        }
    }
    const fs::path source = m_options.runtimesDir / "java" / "DispatchWorker.java";
    std::error_code ec;
    const auto stamp = fs::last_write_time(source, ec);
    if (ec) {
        asio::post(m_io, [done, source] {
            done(ApiError::internal("the java worker shim is missing (" + source.string() + ")"));
        });
        return;
    }
    const fs::path out = m_options.dataDir / "cache" / "java-shim" /
                         std::to_string(stamp.time_since_epoch().count());
    if (fs::exists(out / "dispatch" / "worker" / "DispatchWorker.class", ec)) {
        std::lock_guard lock(m_javaShimMutex);
        m_javaShim = out;
        asio::post(m_io, [done, out] { done(out); });
        return;
    }
    fs::create_directories(out, ec);
    SpawnSpec spec;
    spec.argv = {rt.compiler.string(), "-encoding", "UTF-8", "-cp", m_options.runtimes.gsonJar.string(), "-d",
                 out.string(), source.string()};
    spec.env = environmentWith({});
    runCommand(m_io, m_reaper, spec, m_options.buildTimeout, 8192, [this, out, done](CommandResult r) {
        if (r.startFailed || r.timedOut || !r.status.success()) {
            done(ApiError::internal("cannot compile the java worker shim: " + lastLines(r.output, 5)));
            return;
        }
        std::lock_guard lock(m_javaShimMutex);
        m_javaShim = out;
        done(out);
    });
}

void LocalEngine::buildImage(const ImageSpec &spec, std::function<void(Result<ImageInfo>)> done)
{
    const fs::path dir = imageDir(spec);
    removeTreeQuietly(dir);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        asio::post(m_io, [done, dir, ec] {
            done(ApiError::internal("cannot create " + dir.string() + ": " + ec.message()));
        });
        return;
    }
    // System packages: this engine cannot install OS packages, so it only checks, through dpkg-query (the
    // package database's own interface), that the host has them installed.
    std::vector<std::string> names;
    for (const auto &pkg : spec.systemPackages)
        if (!pkg.name.empty())
            names.push_back(pkg.name);
    if (names.empty())
        return buildImageEnvironment(spec, dir, std::move(done));
    SpawnSpec query;
    query.argv = {"dpkg-query", "-W", "-f=${Package}\t${db:Status-Status}\n"};
    query.argv.insert(query.argv.end(), names.begin(), names.end());
    query.env = environmentWith({});
    runCommand(m_io, m_reaper, std::move(query), std::chrono::seconds(30), 65536,
               [this, spec, dir, done = std::move(done)](CommandResult r) mutable {
                   if (r.startFailed || r.timedOut) {
                       done(ApiError::badRequest("cannot check the image's system packages on this host: dpkg-query " +
                                                 std::string(r.timedOut ? "timed out" : "is not available")));
                       return;
                   }
                   std::set<std::string> installed;
                   std::istringstream lines(r.output);
                   for (std::string line; std::getline(lines, line);) {
                       const auto tab = line.find('\t');
                       if (tab != std::string::npos && line.compare(tab + 1, std::string::npos, "installed") == 0)
                           installed.insert(line.substr(0, tab));
                   }
                   std::string list;
                   for (const auto &pkg : spec.systemPackages)
                       if (!pkg.name.empty() && !installed.count(pkg.name))
                           list += (list.empty() ? "" : ", ") + pkg.name +
                                   (pkg.version.empty() ? "" : " (" + pkg.version + ")");
                   if (!list.empty()) {
                       done(ApiError::badRequest(
                           "system packages missing on this host: " + list +
                           " (the local engine cannot install OS packages; install them with apt-get)"));
                       return;
                   }
                   buildImageEnvironment(spec, dir, std::move(done));
               });
}

void LocalEngine::buildImageEnvironment(const ImageSpec &spec, const fs::path &dir,
                                        std::function<void(Result<ImageInfo>)> done)
{
    ImageInfo info;
    info.envDir = dir;
    auto fail = [done](std::string what, const CommandResult &r) {
        std::string detail = r.timedOut ? "timed out" : r.status.describe();
        done(ApiError::badRequest(what + " failed (" + detail + "): " + lastLines(r.output, 8)));
    };
    const std::string &rt = spec.runtime.runtime;
    if (rt == "python3") {
        const bool deps = !spec.manifest.empty();
        SpawnSpec venv;
        venv.argv = {spec.runtime.interpreter.string(), "-m", "venv", "--system-site-packages"};
        if (!deps)
            venv.argv.push_back("--without-pip");
        venv.argv.push_back((dir / "venv").string());
        venv.env = environmentWith({{"PYTHONDONTWRITEBYTECODE", "1"}});
        runCommand(m_io, m_reaper, venv, m_options.buildTimeout, 16384,
                   [this, spec, dir, info, done, fail, deps](CommandResult r) mutable {
                       if (r.startFailed || r.timedOut || !r.status.success())
                           return fail("creating the python environment", r);
                       if (!deps)
                           return done(std::move(info));
                       {
                           std::ofstream req(dir / "requirements.txt");
                           req << spec.manifest << "\n";
                       }
                       SpawnSpec pip;
                       pip.argv = {(dir / "venv" / "bin" / "python").string(), "-m", "pip", "install",
                                   "--disable-pip-version-check", "--no-input", "--retries", "1", "--timeout",
                                   "15", "-r", (dir / "requirements.txt").string()};
                       if (!m_options.pipIndexOptions.empty()) {
                           std::istringstream extra(m_options.pipIndexOptions);
                           std::string word;
                           while (extra >> word)
                               pip.argv.push_back(word);
                       }
                       pip.env = environmentWith({{"PIP_NO_CACHE_DIR", "1"}});
                       pip.cwd = dir;
                       runCommand(m_io, m_reaper, pip, m_options.buildTimeout, 16384,
                                  [info, done, fail](CommandResult r2) mutable {
                                      if (r2.startFailed || r2.timedOut || !r2.status.success())
                                          return fail("pip install -r requirements.txt", r2);
                                      info.buildLog = lastLines(r2.output, 20);
                                      done(std::move(info));
                                  });
                   });
        return;
    }
    if (rt == "nodejs") {
        if (spec.manifest.empty()) {
            asio::post(m_io, [done, info] { done(info); });
            return;
        }
        {
            std::ofstream pkg(dir / "package.json");
            pkg << spec.manifest << "\n";
        }
        fs::path npm = findExecutable((spec.runtime.interpreter.parent_path() / "npm").string(), "");
        if (npm.empty())
            npm = findExecutable("npm", m_options.runtimes.searchPath);
        if (npm.empty()) {
            asio::post(m_io, [done] {
                done(ApiError::badRequest("npm is not installed on this host (needed for runtimeDependencies; "
                                          "install it with: apt-get install npm)"));
            });
            return;
        }
        SpawnSpec install;
        install.argv = {npm.string(), "install", "--no-audit", "--no-fund", "--omit=dev"};
        install.env = environmentWith({});
        install.cwd = dir;
        runCommand(m_io, m_reaper, install, m_options.buildTimeout, 16384, [info, done, fail](CommandResult r) mutable {
            if (r.startFailed || r.timedOut || !r.status.success())
                return fail("npm install", r);
            info.buildLog = lastLines(r.output, 20);
            done(std::move(info));
        });
        return;
    }
    if (rt == "java") {
        if (spec.manifest.empty()) {
            asio::post(m_io, [done, info] { done(info); });
            return;
        }
        {
            std::ofstream pom(dir / "pom.xml");
            pom << spec.manifest << "\n";
        }
        const fs::path mvn = findExecutable("mvn", m_options.runtimes.searchPath);
        if (mvn.empty()) {
            asio::post(m_io, [done] {
                done(ApiError::badRequest("mvn (Maven) is not installed on this host (needed to resolve the "
                                          "pom.xml dependencies; install it with: apt-get install maven)"));
            });
            return;
        }
        SpawnSpec m;
        m.argv = {mvn.string(), "-B", "-q", "-f", (dir / "pom.xml").string(), "dependency:copy-dependencies",
                  "-DoutputDirectory=" + (dir / "lib").string()};
        m.env = environmentWith({});
        m.cwd = dir;
        runCommand(m_io, m_reaper, m, m_options.buildTimeout, 16384, [info, done, fail](CommandResult r) mutable {
            if (r.startFailed || r.timedOut || !r.status.success())
                return fail("resolving the Maven dependencies", r);
            info.buildLog = lastLines(r.output, 20);
            done(std::move(info));
        });
        return;
    }
    asio::post(m_io, [done, rt] { done(ApiError::badRequest("images for runtime " + rt + " are not supported")); });
}

void LocalEngine::removeImage(const ImageSpec &spec)
{
    removeTreeQuietly(imageDir(spec));
}

std::vector<std::string> LocalEngine::sandboxWrap(std::vector<std::string> argv, const std::vector<fs::path> &readOnly,
                                                  const fs::path &writable, const fs::path &chdir) const
{
    if (!m_sandboxed)
        return argv;
    std::vector<std::string> w = {findExecutable("bwrap", m_options.runtimes.searchPath).string(),
                                  "--die-with-parent",
                                  "--unshare-pid",
                                  "--unshare-ipc",
                                  "--new-session",
                                  "--ro-bind",
                                  "/usr",
                                  "/usr",
                                  "--ro-bind",
                                  "/etc",
                                  "/etc",
                                  "--proc",
                                  "/proc",
                                  "--dev",
                                  "/dev",
                                  "--tmpfs",
                                  "/tmp"};
    for (const char *top : {"/bin", "/lib", "/lib64", "/sbin", "/lib32", "/libx32"}) {
        std::error_code ec;
        if (fs::is_symlink(top, ec))
            w.insert(w.end(), {"--symlink", fs::read_symlink(top, ec).string(), top});
        else if (fs::is_directory(top, ec))
            w.insert(w.end(), {"--ro-bind", top, top});
    }
    for (const auto &p : readOnly) {
        std::error_code ec;
        if (!p.empty() && fs::exists(p, ec) && p.string().rfind("/usr/", 0) != 0)
            w.insert(w.end(), {"--ro-bind", p.string(), p.string()});
    }
    w.insert(w.end(), {"--bind", writable.string(), writable.string(), "--chdir", chdir.string(), "--"});
    w.insert(w.end(), argv.begin(), argv.end());
    return w;
}

Result<WorkerLaunch> LocalEngine::workerLaunch(const FunctionSpec &spec, const fs::path &revisionDir,
                                               const std::string &handler, const fs::path &javaShim) const
{
    WorkerLaunch l;
    const fs::path src = revisionDir / "src";
    l.cwd = src;
    l.label = spec.key.org + "/" + spec.key.name + "@" + spec.revision.substr(0, 8);
    std::map<std::string, std::string> env = {
        {"DISPATCH_FUNCTION_DIR", src.string()}, {"DISPATCH_HANDLER", handler},
        {"DISPATCH_FUNCTION_NAME", spec.key.name}, {"HOME", (revisionDir / "home").string()},
        {"TMPDIR", "/tmp"}, {"LANG", "C.UTF-8"}};
    std::error_code ec;
    fs::create_directories(revisionDir / "home", ec);
    const std::string &rt = spec.runtime.runtime;
    std::vector<fs::path> readOnly = {m_options.runtimesDir, spec.image.envDir};
    // Interpreters outside /usr (e.g. /opt) must be visible inside the sandbox.
    readOnly.push_back(fs::weakly_canonical(spec.runtime.interpreter, ec).parent_path().parent_path());
    std::vector<std::string> argv;
    if (rt == "python3") {
        fs::path python = spec.image.envDir / "venv" / "bin" / "python";
        if (!fs::exists(python, ec))
            python = spec.runtime.interpreter;
        argv = {python.string(), "-s", (m_options.runtimesDir / "python3" / "worker.py").string()};
        env["PYTHONPYCACHEPREFIX"] = (revisionDir / "pycache").string();
        env["PYTHONUNBUFFERED"] = "1";
    } else if (rt == "nodejs") {
        argv = {spec.runtime.interpreter.string(), (m_options.runtimesDir / "nodejs" / "worker.js").string()};
        if (fs::exists(spec.image.envDir / "node_modules", ec))
            env["NODE_PATH"] = (spec.image.envDir / "node_modules").string();
    } else if (rt == "java") {
        std::string cp = javaShim.string() + ":" + m_options.runtimes.gsonJar.string() + ":" +
                         (revisionDir / "classes").string() + ":" + src.string();
        if (fs::exists(spec.image.envDir / "lib", ec))
            cp += ":" + (spec.image.envDir / "lib").string() + "/*";
        argv = {spec.runtime.interpreter.string(), "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss1m",
                "-cp", cp, "dispatch.worker.DispatchWorker"};
        readOnly.push_back(javaShim);
        readOnly.push_back(m_options.runtimes.gsonJar.parent_path());
    } else {
        return ApiError::badRequest("the local engine cannot run " + rt + " functions");
    }
    l.argv = sandboxWrap(std::move(argv), readOnly, revisionDir, src);
    l.env.clear();
    // A small, explicit environment: the server's own variables (tokens, keys) never reach functions.
    std::vector<std::string> base = {"PATH=/usr/local/bin:/usr/bin:/bin"};
    for (const auto &[k, v] : env)
        base.push_back(k + "=" + v);
    l.env = std::move(base);
    return l;
}

void LocalEngine::failWaiting(const FunctionKey &key, const std::string &why)
{
    std::vector<Invocation> waiting;
    {
        std::lock_guard lock(m_mutex);
        if (auto w = m_waiting.find(key); w != m_waiting.end() && !m_deployments.count(key)) {
            waiting = std::move(w->second);
            m_waiting.erase(w);
        }
    }
    for (auto &inv : waiting) {
        InvocationResult failed;
        failed.error = wire::InvocationError{"SystemError", "the function could not be deployed: " + why, {}};
        if (inv.done)
            inv.done(std::move(failed));
    }
}

void LocalEngine::deployFunction(const FunctionSpec &spec, std::function<void(Result<DeployResult>)> userDone)
{
    // Runs waiting for this deployment fail with it (a superseded revision leaves them to the newer one).
    auto done = [this, key = spec.key, userDone = std::move(userDone)](Result<DeployResult> r) {
        if (!r && r.error().status != 503)
            failWaiting(key, r.error().message);
        userDone(std::move(r));
    };
    {
        std::lock_guard lock(m_mutex);
        if (m_shuttingDown) {
            asio::post(m_io, [done] { done(ApiError::unavailable("the server is shutting down")); });
            return;
        }
        m_pendingRevision[spec.key] = spec.revision;
    }
    // Deployment continues as a posted task: the caller (a request or a controller) never waits for the disk.
    asio::post(m_io, [this, spec, done]() mutable {
        const fs::path revisionDir = functionDir(spec.key, spec.revision);
        const fs::path src = revisionDir / "src";
        removeTreeQuietly(revisionDir);
        std::error_code ec;
        fs::create_directories(revisionDir, ec);
        auto extracted = extractSource(spec.sourceTarGz, src, ExtractLimits{});
        if (!extracted)
            return done(extracted.error());
        std::string handler = spec.handler;
        if (handler.empty()) {
            auto h = defaultHandler(spec.runtime.runtime, extracted->files, src);
            if (!h)
                return done(h.error());
            handler = h.value();
        }
        if (spec.runtime.runtime != "java")
            return startPool(spec, revisionDir, handler, {}, std::move(done));
        ensureJavaShim(spec.runtime, [this, spec, revisionDir, src, handler, files = extracted->files,
                                      done](Result<fs::path> shim) mutable {
            if (!shim)
                return done(shim.error());
            std::vector<std::string> javaFiles;
            for (const auto &f : files)
                if (f.size() > 5 && f.compare(f.size() - 5, 5, ".java") == 0)
                    javaFiles.push_back((src / f).string());
            if (javaFiles.empty())
                return startPool(spec, revisionDir, handler, shim.value(), std::move(done));
            std::error_code ec2;
            fs::create_directories(revisionDir / "classes", ec2);
            std::string cp = m_options.runtimes.gsonJar.string();
            if (fs::exists(spec.image.envDir / "lib", ec2))
                cp += ":" + (spec.image.envDir / "lib").string() + "/*";
            SpawnSpec javac;
            javac.argv = {spec.runtime.compiler.string(), "-encoding", "UTF-8", "-nowarn", "-cp", cp, "-d",
                          (revisionDir / "classes").string()};
            javac.argv.insert(javac.argv.end(), javaFiles.begin(), javaFiles.end());
            javac.env = environmentWith({});
            javac.cwd = src;
            runCommand(m_io, m_reaper, javac, m_options.buildTimeout, 16384,
                       [this, spec, revisionDir, src, handler, shimDir = shim.value(),
                        done](CommandResult r) mutable {
                           if (r.startFailed || r.timedOut || !r.status.success())
                               return done(ApiError::badRequest("javac failed: " + firstJavacError(r.output, src)));
                           startPool(spec, revisionDir, handler, shimDir, std::move(done));
                       });
        });
    });
}

void LocalEngine::startPool(const FunctionSpec &spec, fs::path revisionDir, std::string handler, fs::path javaShim,
                            std::function<void(Result<DeployResult>)> done)
{
    auto launch = workerLaunch(spec, revisionDir, handler, javaShim);
    if (!launch)
        return done(launch.error());
    auto created = std::make_shared<WorkerPool>(m_io, m_reaper, std::move(launch.value()), m_options.pool);
    {
        // The engine owns a starting pool (its start callback holds it only weakly), so shutdown can stop it.
        std::lock_guard lock(m_mutex);
        m_starting.push_back(created);
    }
    created->start([this, spec, weak = std::weak_ptr<WorkerPool>(created), handler, revisionDir,
                    done](std::optional<LoadError> err) {
        auto pool = weak.lock();
        if (!pool)
            return;
        {
            std::lock_guard lock(m_mutex);
            std::erase(m_starting, pool);
        }
        if (err) {
            pool->stopNow("the handler failed to load");
            done(ApiError::badRequest(err->message()));
            return;
        }
        std::shared_ptr<WorkerPool> old;
        std::vector<Invocation> waiting;
        {
            std::lock_guard lock(m_mutex);
            auto pending = m_pendingRevision.find(spec.key);
            if (m_shuttingDown || pending == m_pendingRevision.end() || pending->second != spec.revision) {
                // Superseded by a newer revision (or deleted) while this one was starting.
                pool->stopNow("superseded by a newer revision");
                done(ApiError::unavailable("superseded by a newer revision"));
                return;
            }
            auto &slot = m_deployments[spec.key];
            old = slot.pool;
            slot = Deployment{spec.revision, pool};
            // Forget retired pools that have finished.
            std::erase_if(m_retiring, [](const auto &p) { return p->workerCount() == 0 && p->queued() == 0; });
            if (old)
                m_retiring.push_back(old);
            if (auto w = m_waiting.find(spec.key); w != m_waiting.end()) {
                waiting = std::move(w->second);
                m_waiting.erase(w);
            }
        }
        if (old)
            old->drain(); // runs already queued on the old revision still finish there
        for (auto &inv : waiting) {
            auto cb = inv.done;
            if (auto r = pool->submit(std::move(inv)); !r && cb) {
                InvocationResult failed;
                failed.error = wire::InvocationError{"SystemError", r.error().message, {}};
                cb(std::move(failed));
            }
        }
        spdlog::info("function {}/{} revision {} is ready ({} workers min)", spec.key.org, spec.key.name,
                     spec.revision, m_options.pool.minWorkers);
        done(DeployResult{handler});
    });
}

void LocalEngine::removeFunction(const FunctionKey &key)
{
    std::shared_ptr<WorkerPool> pool;
    failWaiting(key, "the function was deleted");
    {
        std::lock_guard lock(m_mutex);
        m_pendingRevision.erase(key);
        if (auto it = m_deployments.find(key); it != m_deployments.end()) {
            pool = it->second.pool;
            m_deployments.erase(it);
        }
    }
    if (pool)
        pool->stopNow("the function was deleted");
    const fs::path dir = m_options.dataDir / "functions" / safeComponent(key.org) / safeComponent(key.name);
    removeTreeQuietly(dir);
}

bool LocalEngine::isDeployed(const FunctionKey &key) const
{
    std::lock_guard lock(m_mutex);
    return m_deployments.count(key) > 0;
}

VoidResult LocalEngine::invoke(const FunctionKey &key, Invocation invocation)
{
    std::shared_ptr<WorkerPool> pool;
    {
        std::lock_guard lock(m_mutex);
        if (m_shuttingDown)
            return ApiError::unavailable("the server is shutting down");
        auto it = m_deployments.find(key);
        if (it == m_deployments.end()) {
            if (!m_pendingRevision.count(key))
                return ApiError::notFound("function " + key.name + " is not READY");
            auto &waiting = m_waiting[key];
            if (waiting.size() >= m_options.pool.maxQueue)
                return ApiError::tooManyRequests("function " + key.name + " is starting and already has " +
                                                 std::to_string(waiting.size()) + " runs waiting; try again later");
            waiting.push_back(std::move(invocation));
            return Ok{};
        }
        pool = it->second.pool;
    }
    return pool->submit(std::move(invocation));
}

EngineStats LocalEngine::stats() const
{
    EngineStats s;
    std::lock_guard lock(m_mutex);
    for (const auto &[k, d] : m_deployments) {
        s.workers += d.pool->workerCount();
        s.busyWorkers += d.pool->busyCount();
        s.queuedInvocations += d.pool->queued();
        s.coldStarts += d.pool->coldStarts();
    }
    return s;
}

void LocalEngine::shutdown(std::chrono::milliseconds grace)
{
    std::vector<std::shared_ptr<WorkerPool>> pools;
    {
        std::lock_guard lock(m_mutex);
        m_shuttingDown = true;
        for (auto &[k, d] : m_deployments)
            pools.push_back(d.pool);
        for (auto &p : m_retiring)
            pools.push_back(p);
        for (auto &p : m_starting)
            pools.push_back(p);
        m_deployments.clear();
        m_retiring.clear();
        m_starting.clear();
    }
    for (auto &p : pools)
        p->drain();
    const auto deadline = std::chrono::steady_clock::now() + grace;
    auto busy = [&] {
        for (auto &p : pools)
            if (p->busyCount() > 0 || p->queued() > 0)
                return true;
        return false;
    };
    while (busy() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (auto &p : pools)
        p->stopNow("the server is shutting down");
}

} // namespace dispatch::engine
