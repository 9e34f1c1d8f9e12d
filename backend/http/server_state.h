// What a server shares with its connections. Connections keep it alive, so a connection that finishes a
// response after ~Server still has its options, its counters and a registry to leave.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "http/server.h"

namespace dispatch::http::detail {

class SessionBase;

class ServerState
{
public:
    ServerState(ServerOptions options, Handler handler);

    const ServerOptions &options() const { return m_options; }
    bool stopping() const { return m_stopping.load(std::memory_order_acquire); }
    bool hasHandler() const { return static_cast<bool>(m_handler); }

    // Calls the handler, unless the server is gone: then returns false and leaves both arguments alone.
    // Never throws.
    bool callHandler(std::shared_ptr<RequestContext> &context, ResponderPtr &responder);
    // No handler call starts after this returns, and none is still running (except the caller's own, when
    // called from inside a handler).
    void closeHandlers();

    // Registration fails once the server is stopping, so stop() reaches every connection it must.
    bool addSession(const std::shared_ptr<SessionBase> &session);
    void removeSession(const SessionBase *session);
    // Marks the server stopping and returns the live connections to tell.
    std::vector<std::shared_ptr<SessionBase>> beginStop();

    std::atomic<std::size_t> openConnections{0};

private:
    const ServerOptions m_options;
    const Handler m_handler;

    std::atomic<bool> m_stopping{false};
    std::mutex m_sessionsMutex;
    std::unordered_map<const SessionBase *, std::weak_ptr<SessionBase>> m_sessions;

    std::mutex m_handlerMutex;
    std::condition_variable m_handlerIdle;
    int m_activeHandlerCalls = 0;
    bool m_handlersClosed = false;
};

} // namespace dispatch::http::detail
