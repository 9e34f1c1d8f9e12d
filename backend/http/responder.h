// The Responder a handler gets for one request: answers once, from any thread, by posting to the connection.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "http/server.h"

namespace dispatch::http::detail {

class SessionBase;

class ConnectionResponder final : public Responder
{
public:
    ConnectionResponder(std::shared_ptr<SessionBase> session, std::uint64_t sequence);
    // A handler that drops its responder unanswered gets a 500 sent on its behalf.
    ~ConnectionResponder() override;

    void send(Response response) override;
    std::shared_ptr<StreamWriter> startStream(Response head, std::size_t maxQueuedBytes) override;

private:
    // True for the first caller only.
    bool claim(const char *what);

    std::shared_ptr<SessionBase> m_session;
    const std::uint64_t m_sequence;
    std::atomic<bool> m_used{false};
};

} // namespace dispatch::http::detail
