// SPDX-License-Identifier: GPL-3.0-or-later
#include "http/server_state.h"

#include <exception>

#include <spdlog/spdlog.h>

#include "http/session_base.h"

namespace dispatch::http::detail {

namespace {
// Which server's handler this thread is inside, so closeHandlers() called from a handler does not wait for
// itself.
thread_local const ServerState *t_insideHandlerOf = nullptr;
} // namespace

ServerState::ServerState(ServerOptions options, Handler handler)
    : m_options(std::move(options)), m_handler(std::move(handler))
{
}

bool ServerState::callHandler(std::shared_ptr<RequestContext> &context, ResponderPtr &responder)
{
    {
        std::lock_guard lock(m_handlerMutex);
        if (m_handlersClosed)
            return false;
        ++m_activeHandlerCalls;
    }
    const ServerState *outer = t_insideHandlerOf;
    t_insideHandlerOf = this;
    try {
        m_handler(std::move(context), std::move(responder));
    } catch (const std::exception &e) {
        spdlog::error("[{}] request handler threw: {}", m_options.name, e.what());
    } catch (...) {
        spdlog::error("[{}] request handler threw a non-standard exception", m_options.name);
    }
    t_insideHandlerOf = outer;
    {
        std::lock_guard lock(m_handlerMutex);
        --m_activeHandlerCalls;
    }
    m_handlerIdle.notify_all();
    return true;
}

void ServerState::closeHandlers()
{
    std::unique_lock lock(m_handlerMutex);
    m_handlersClosed = true;
    const int own = t_insideHandlerOf == this ? 1 : 0;
    m_handlerIdle.wait(lock, [&] { return m_activeHandlerCalls <= own; });
}

bool ServerState::addSession(const std::shared_ptr<SessionBase> &session)
{
    std::lock_guard lock(m_sessionsMutex);
    if (m_stopping.load(std::memory_order_relaxed))
        return false;
    m_sessions.emplace(session.get(), session);
    return true;
}

void ServerState::removeSession(const SessionBase *session)
{
    std::lock_guard lock(m_sessionsMutex);
    m_sessions.erase(session);
}

std::vector<std::shared_ptr<SessionBase>> ServerState::beginStop()
{
    std::vector<std::shared_ptr<SessionBase>> live;
    std::lock_guard lock(m_sessionsMutex);
    m_stopping.store(true, std::memory_order_release);
    live.reserve(m_sessions.size());
    for (const auto &[key, weak] : m_sessions) {
        if (auto session = weak.lock())
            live.push_back(std::move(session));
    }
    return live;
}

} // namespace dispatch::http::detail
