// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/runtimes.h"

#include <unistd.h>

#include <fstream>
#include <regex>
#include <set>

#include "engine/process.h"

namespace dispatch::engine {

namespace fs = std::filesystem;

namespace {

const std::set<std::string> kDispatchLanguages = {"python3", "nodejs", "java", "powershell", "clojure"};

std::string containerEngineReason(const std::string &url)
{
    return "container image " + url +
           " needs a container engine; this server runs functions as local processes "
           "(use local:<runtime> or a dispatchframework base image)";
}

// A runtime name from an interpreter's file name: python3.11 → python3, node → nodejs, pwsh → powershell.
std::string runtimeFromInterpreter(const fs::path &p)
{
    const std::string base = p.filename().string();
    if (base.rfind("python3", 0) == 0 || base == "python")
        return "python3";
    if (base == "node" || base == "nodejs" || base.rfind("node", 0) == 0)
        return "nodejs";
    if (base == "java")
        return "java";
    if (base == "pwsh" || base.rfind("pwsh", 0) == 0)
        return "powershell";
    return {};
}

std::string installHint(const std::string &runtime)
{
    if (runtime == "python3")
        return "python3 is not installed on this host (install it with: apt-get install python3 python3-venv)";
    if (runtime == "nodejs")
        return "node is not installed on this host (install it with: apt-get install nodejs npm)";
    if (runtime == "java")
        return "java is not installed on this host (install it with: apt-get install default-jdk-headless "
               "libgoogle-gson-java)";
    if (runtime == "powershell")
        return "pwsh is not installed on this host (install PowerShell 7 for Linux, e.g. the powershell .deb from "
               "Microsoft's package repository, so that `pwsh` is on PATH)";
    return runtime + " is not installed on this host";
}

} // namespace

std::variant<RuntimeRef, std::string> resolveBaseImage(const std::string &dockerUrl, const std::string &language)
{
    (void)language; // the language field never turns an image READY on its own
    static const std::regex dispatchImage(R"(^(?:docker\.io/)?dispatchframework/([a-z0-9]+)-base(?::[\w][\w.\-]*)?$)");
    std::smatch m;
    if (std::regex_match(dockerUrl, m, dispatchImage)) {
        const std::string lang = m[1].str();
        if (kDispatchLanguages.count(lang))
            return RuntimeRef{lang, {}};
        return containerEngineReason(dockerUrl);
    }
    if (dockerUrl.rfind("local:", 0) == 0) {
        const std::string rest = dockerUrl.substr(6);
        if (rest.empty())
            return "base image " + dockerUrl + " names no runtime (use local:python3, local:nodejs, local:java, "
                   "local:powershell or local:/path/to/interpreter)";
        if (rest[0] == '/') {
            const std::string rt = runtimeFromInterpreter(rest);
            if (rt.empty())
                return "cannot tell which language " + rest +
                       " runs; name an interpreter called python3*, node*, java or pwsh";
            return RuntimeRef{rt, fs::path(rest)};
        }
        if (kDispatchLanguages.count(rest))
            return RuntimeRef{rest, {}};
        if (rest == "python" || rest == "node")
            return RuntimeRef{rest == "python" ? "python3" : "nodejs", {}};
        return "unknown local runtime '" + rest + "' (use python3, nodejs, java or powershell)";
    }
    return containerEngineReason(dockerUrl);
}

std::optional<fs::path> locateInterpreter(const RuntimeRef &ref, const RuntimeConfig &config, std::string &whyNot)
{
    auto executable = [](const fs::path &p) {
        std::error_code ec;
        return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
    };
    if (ref.runtime == "clojure") {
        whyNot = "clojure functions are not supported by the local engine yet (it has no clojure worker); use "
                 "python3, nodejs or java";
        return std::nullopt;
    }
    if (!ref.explicitInterpreter.empty()) {
        if (executable(ref.explicitInterpreter))
            return ref.explicitInterpreter;
        whyNot = ref.explicitInterpreter.string() + " does not exist or is not executable on this host";
        return std::nullopt;
    }
    if (auto it = config.interpreters.find(ref.runtime); it != config.interpreters.end() && !it->second.empty()) {
        if (auto p = findExecutable(it->second, config.searchPath); !p.empty())
            return p;
        whyNot = "the configured " + ref.runtime + " interpreter " + it->second + " was not found";
        return std::nullopt;
    }
    std::vector<std::string> candidates;
    if (ref.runtime == "python3")
        candidates = {"/usr/bin/python3", "python3"};
    else if (ref.runtime == "nodejs")
        candidates = {"/usr/bin/node", "/usr/bin/nodejs", "node", "nodejs"};
    else if (ref.runtime == "java")
        candidates = {"/usr/bin/java", "java"};
    else if (ref.runtime == "powershell")
        candidates = {"pwsh", "/usr/bin/pwsh", "/opt/microsoft/powershell/7/pwsh"};
    for (const auto &c : candidates) {
        if (auto p = findExecutable(c, config.searchPath); !p.empty())
            return p;
    }
    whyNot = installHint(ref.runtime);
    return std::nullopt;
}

std::vector<std::string> versionCommand(const std::string &runtime, const fs::path &interpreter)
{
    if (runtime == "python3")
        return {interpreter.string(), "-I", "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"};
    if (runtime == "java")
        return {interpreter.string(), "-version"};
    return {interpreter.string(), "--version"};
}

std::string parseVersion(const std::string &runtime, const std::string &output)
{
    std::smatch m;
    static const std::regex anyVersion(R"((\d+)\.(\d+)(?:\.(\d+))?)");
    if (runtime == "java") {
        static const std::regex javaVersion(R"(version \"([^\"]+)\")");
        if (std::regex_search(output, m, javaVersion))
            return m[1].str();
    }
    if (std::regex_search(output, m, anyVersion))
        return m[0].str();
    return {};
}

Result<std::string> defaultHandler(const std::string &runtime, const std::vector<std::string> &files,
                                   const fs::path &sourceDir)
{
    auto withExt = [&](const std::string &ext) {
        std::vector<std::string> out;
        for (const auto &f : files)
            if (f.size() > ext.size() && f.compare(f.size() - ext.size(), ext.size(), ext) == 0)
                out.push_back(f);
        return out;
    };
    auto single = [&](const std::string &ext) -> Result<std::string> {
        auto matches = withExt(ext);
        if (matches.size() == 1)
            return matches.front();
        if (matches.empty())
            return ApiError::badRequest("the handler is empty and the source has no " + ext +
                                        " file; set the handler");
        return ApiError::badRequest("the handler is empty and the source has " + std::to_string(matches.size()) +
                                    " " + ext + " files; set the handler to say which one to run");
    };
    if (runtime == "python3") {
        auto f = single(".py");
        if (!f)
            return f.error();
        std::string mod = f.value().substr(0, f.value().size() - 3);
        for (auto &c : mod)
            if (c == '/')
                c = '.';
        return mod + ".handle";
    }
    if (runtime == "nodejs")
        return single(".js");
    if (runtime == "powershell") {
        auto f = single(".ps1");
        if (!f)
            return f.error();
        return f.value() + "::handle";
    }
    if (runtime == "java") {
        auto f = single(".java");
        if (!f)
            return f.error();
        std::ifstream in(sourceDir / f.value());
        std::string line, pkg;
        static const std::regex packageLine(R"(^\s*package\s+([\w.]+)\s*;)");
        while (std::getline(in, line)) {
            std::smatch m;
            if (std::regex_search(line, m, packageLine)) {
                pkg = m[1].str();
                break;
            }
        }
        const std::string cls = fs::path(f.value()).stem().string();
        return pkg.empty() ? cls : pkg + "." + cls;
    }
    return ApiError::badRequest("no default handler rule for runtime " + runtime);
}

} // namespace dispatch::engine
