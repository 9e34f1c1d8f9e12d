// An event driver as this server runs it. Dispatch runs every driver as a container of its type's image; this
// server has no container engine, so the type's image selects a built-in implementation instead:
//   dispatchframework/dispatch-events-cron:*          → cron, in-process (config `cron`, `source`)
//   dispatchframework/ticker:*, kars7e/timer:*         → ticker, in-process (config `seconds`)
//   webhook, cloudevent, dispatchframework/dispatch-events-cloudevent:* → a push driver: external systems POST
//                                                        CloudEvents to its url (the ingest endpoint)
//   exec:/absolute/path                                → a supervised local process with the Dispatch driver
//                                                        contract (flags, secrets as environment, AUTH_TOKEN)
// Anything else cannot run here and ends in ERROR with a reason that says so.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "wire/models.h"

namespace dispatch::events {

enum class DriverImplementation { Cron, Ticker, Push, Process, Unsupported };

struct DriverChoice
{
    DriverImplementation implementation = DriverImplementation::Unsupported;
    std::filesystem::path executable; // Process only
    std::string reason;               // Unsupported only: the driver's ERROR reason
};

DriverChoice chooseDriverImplementation(std::string_view image);

// Callbacks a running driver uses; they may be called from any I/O thread, never with a lock of the runner held.
using EmitEvent = std::function<void(wire::CloudEvent)>;
using ReportStatus = std::function<void(wire::Status status, std::string reason)>;

class DriverRunner
{
public:
    virtual ~DriverRunner() = default;
    virtual void start() = 0;
    // Stops producing events. `immediately` (server shutdown): no grace period for a child process.
    // A callback already running may still arrive afterwards: the owner ignores callbacks of a stopped runner.
    virtual void stop(bool immediately) = 0;
};

// A new CloudEvent (0.1) as the Dispatch cron and ticker drivers send it: a fresh eventID, eventTime now,
// data null.
wire::CloudEvent makeDriverEvent(std::string eventType, std::string source);

} // namespace dispatch::events
