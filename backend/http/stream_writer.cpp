// SPDX-License-Identifier: GPL-3.0-or-later
#include "http/stream_writer.h"

#include <boost/asio/dispatch.hpp>
#include <spdlog/spdlog.h>

#include "http/session_base.h"

namespace dispatch::http::detail {

namespace net = boost::asio;

ConnectionStreamWriter::ConnectionStreamWriter(std::weak_ptr<SessionBase> session,
                                               std::shared_ptr<StreamState> state)
    : m_session(std::move(session)), m_state(std::move(state))
{
}

ConnectionStreamWriter::~ConnectionStreamWriter()
{
    try {
        close();
    } catch (...) {
        spdlog::error("cannot end a stream whose writer went away");
    }
}

bool ConnectionStreamWriter::write(std::string chunk)
{
    if (!m_state->open.load(std::memory_order_acquire))
        return false;
    if (chunk.empty())
        return true; // an empty chunk would end a chunked body
    const std::size_t size = chunk.size();
    const std::size_t queued = m_state->queuedBytes.fetch_add(size, std::memory_order_acq_rel) + size;
    if (queued > m_state->maxQueuedBytes) {
        if (m_state->open.exchange(false, std::memory_order_acq_rel))
            end(false);
        return false;
    }
    auto session = m_session.lock();
    if (!session) {
        m_state->open.store(false, std::memory_order_release);
        return false;
    }
    net::dispatch(session->strand(), [session, chunk = std::move(chunk)]() mutable {
        session->deliverStreamChunk(std::move(chunk));
    });
    return true;
}

void ConnectionStreamWriter::close()
{
    if (m_state->open.exchange(false, std::memory_order_acq_rel))
        end(true);
}

bool ConnectionStreamWriter::isOpen() const
{
    return m_state->open.load(std::memory_order_acquire);
}

void ConnectionStreamWriter::end(bool graceful)
{
    if (auto session = m_session.lock())
        net::dispatch(session->strand(), [session, graceful] { session->deliverStreamEnd(graceful); });
}

} // namespace dispatch::http::detail
