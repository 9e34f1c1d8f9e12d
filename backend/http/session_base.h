// The part of a connection that responders and stream writers talk to, independent of plain TCP or TLS.
// Every method here runs on the connection's strand; callers from other threads go through post/dispatch.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include "http/server.h"

namespace dispatch::http::detail {

using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
using TcpSocket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Strand>;

// Shared between a stream's writers (any thread) and its connection (strand). Outlives the connection so
// that isOpen() and write() keep answering after the client is gone.
struct StreamState
{
    explicit StreamState(std::size_t limit) : maxQueuedBytes(limit) {}
    const std::size_t maxQueuedBytes;
    std::atomic<bool> open{true};
    std::atomic<std::size_t> queuedBytes{0};
};

class SessionBase : public std::enable_shared_from_this<SessionBase>
{
public:
    explicit SessionBase(Strand strand) : m_strand(std::move(strand)) {}
    virtual ~SessionBase() = default;
    SessionBase(const SessionBase &) = delete;
    SessionBase &operator=(const SessionBase &) = delete;

    const Strand &strand() const { return m_strand; }

    // `sequence` names the request being answered; answers for anything but the current request are dropped.
    virtual void deliverResponse(std::uint64_t sequence, Response response) = 0;
    virtual void deliverStreamStart(std::uint64_t sequence, Response head,
                                    std::shared_ptr<StreamState> state) = 0;
    virtual void deliverStreamChunk(std::string chunk) = 0;
    // graceful: write what is queued and the final chunk; otherwise drop the connection at once.
    virtual void deliverStreamEnd(bool graceful) = 0;
    virtual void serverStopping() = 0;

private:
    Strand m_strand;
};

} // namespace dispatch::http::detail
