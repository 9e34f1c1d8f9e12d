// Which container image names the local engine can honour (issue 9), how each language runtime is found and
// probed on this host, the default handler rules of Dispatch (§4.3), and how a worker is launched.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <variant>
#include <string>
#include <vector>

#include "core/error.h"

namespace dispatch::engine {

struct RuntimeRef
{
    std::string runtime;                    // python3 | nodejs | java | powershell | clojure
    std::filesystem::path explicitInterpreter; // from local:/path/to/interpreter
};

// Maps a base image's dockerUrl to a local runtime, or explains why it cannot run here:
//   dispatchframework/<lang>-base:<tag>  → <lang>
//   local:<runtime> | local:/abs/path     → that runtime / interpreter
//   anything else                          → error (needs a container engine)
// On error the string is the complete `reason`.
std::variant<RuntimeRef, std::string> resolveBaseImage(const std::string &dockerUrl, const std::string &language);

struct RuntimeConfig
{
    // Explicit interpreter per runtime ("python3" → "/usr/bin/python3"); empty = search.
    std::map<std::string, std::string> interpreters;
    std::string searchPath; // PATH used for the search
    std::filesystem::path gsonJar = "/usr/share/java/gson.jar";
};

// Where the runtime's interpreter is, without running it. Debian's /usr/bin interpreters are preferred over
// PATH because version-manager shims (pyenv) cost ~170 ms per start and do not see Debian's python3-* packages.
std::optional<std::filesystem::path> locateInterpreter(const RuntimeRef &ref, const RuntimeConfig &config,
                                                       std::string &whyNot);
// The argument vector that prints the runtime's version (probe).
std::vector<std::string> versionCommand(const std::string &runtime, const std::filesystem::path &interpreter);
std::string parseVersion(const std::string &runtime, const std::string &output);

// Dispatch's default handler when `handler` is empty (§4.3), from the extracted source files.
Result<std::string> defaultHandler(const std::string &runtime, const std::vector<std::string> &files,
                                   const std::filesystem::path &sourceDir);

} // namespace dispatch::engine
