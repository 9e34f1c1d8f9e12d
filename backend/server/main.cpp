// dispatch-server: a Dispatch-Solo-compatible server whose functions run as warm local worker processes.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <csignal>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "server/app.h"
#include "server/config.h"

extern char **environ;

int main(int argc, char **argv)
{
    // SIGTERM/SIGINT are taken with sigwait by the main thread: block them before any thread starts.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    std::vector<std::string> args(argv + 1, argv + argc);
    std::map<std::string, std::string> env;
    for (char **e = environ; e && *e; ++e) {
        std::string kv(*e);
        if (auto eq = kv.find('='); eq != std::string::npos)
            env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    auto config = dispatch::server::parseConfig(args, env);
    if (!config) {
        std::fprintf(stderr, "dispatch-server: %s\n", config.error().message.c_str());
        return 2;
    }
    if (config->showHelp) {
        std::fputs(dispatch::server::helpText().c_str(), stdout);
        return 0;
    }
    if (config->showVersion) {
        std::printf("dispatch-server %s (commit %s)\n", DISPATCH_VERSION, DISPATCH_GIT_COMMIT);
        return 0;
    }
    return dispatch::server::run(config.value());
}
