// SPDX-License-Identifier: GPL-3.0-or-later
#include "http/responder.h"

#include <cassert>

#include <boost/asio/dispatch.hpp>
#include <spdlog/spdlog.h>

#include "http/session_base.h"
#include "http/stream_writer.h"

namespace dispatch::http::detail {

namespace net = boost::asio;

ConnectionResponder::ConnectionResponder(std::shared_ptr<SessionBase> session, std::uint64_t sequence)
    : m_session(std::move(session)), m_sequence(sequence)
{
}

ConnectionResponder::~ConnectionResponder()
{
    if (m_used.load(std::memory_order_acquire) || !m_session)
        return;
    try {
        auto session = std::move(m_session);
        net::dispatch(session->strand(), [session, sequence = m_sequence] {
            session->deliverResponse(sequence, makeError(500, "internal error: no response"));
        });
    } catch (const std::exception &e) {
        spdlog::error("cannot answer an abandoned request: {}", e.what());
    } catch (...) {
        spdlog::error("cannot answer an abandoned request");
    }
}

bool ConnectionResponder::claim(const char *what)
{
    if (!m_used.exchange(true, std::memory_order_acq_rel))
        return true;
    spdlog::error("Responder::{} called after the request was already answered; ignored", what);
    assert(!"Responder answered twice");
    return false;
}

void ConnectionResponder::send(Response response)
{
    if (!claim("send"))
        return;
    auto session = std::move(m_session);
    // Inline when the handler answers on the connection's own strand (the common case), queued otherwise.
    net::dispatch(session->strand(),
                  [session, sequence = m_sequence, response = std::move(response)]() mutable {
                      session->deliverResponse(sequence, std::move(response));
                  });
}

std::shared_ptr<StreamWriter> ConnectionResponder::startStream(Response head, std::size_t maxQueuedBytes)
{
    auto state = std::make_shared<StreamState>(maxQueuedBytes);
    if (!claim("startStream")) {
        state->open.store(false);
        return std::make_shared<ConnectionStreamWriter>(std::weak_ptr<SessionBase>{}, std::move(state));
    }
    auto session = std::move(m_session);
    auto writer = std::make_shared<ConnectionStreamWriter>(session, state);
    net::dispatch(session->strand(), [session, sequence = m_sequence, head = std::move(head),
                                      state = std::move(state)]() mutable {
        session->deliverStreamStart(sequence, std::move(head), std::move(state));
    });
    return writer;
}

} // namespace dispatch::http::detail
