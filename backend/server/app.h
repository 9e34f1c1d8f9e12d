// Wires one dispatch-server: data dir lock, logging, store, secret box, engine, service, HTTP listeners,
// the ready file, and an orderly stop. main() only parses the configuration and calls run().
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/config.h"

namespace dispatch::server {

// Runs until SIGTERM/SIGINT; returns the process exit code.
int run(const ServerConfig &config);

} // namespace dispatch::server
