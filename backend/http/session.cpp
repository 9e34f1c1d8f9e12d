// SPDX-License-Identifier: GPL-3.0-or-later
#include "http/session.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <limits>
#include <string_view>

#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "http/responder.h"
#include "http/server_state.h"

namespace dispatch::http::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

namespace {

constexpr std::string_view kServerName = "dispatch-server";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

constexpr std::size_t kSmallRead = std::size_t{8} * 1024;
constexpr std::size_t kLargeRead = std::size_t{64} * 1024;
constexpr std::size_t kDiscardRead = std::size_t{4} * 1024;
// A closing connection waits this long, and takes this much, for the client to finish sending.
constexpr std::chrono::seconds kLingerTimeout{3};
constexpr std::size_t kMaxLingerBytes = std::size_t{1024} * 1024;

std::string addressText(const net::ip::address &address)
{
    // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; report them as IPv4.
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6()).to_string();
    return address.to_string();
}

bool isQuietDisconnect(const error_code &ec)
{
    return ec == net::error::eof || ec == net::error::connection_reset || ec == net::error::broken_pipe ||
           ec == net::error::operation_aborted || ec == net::ssl::error::stream_truncated;
}

bool expectsContinue(const Request &request)
{
    if (request.version() < 11)
        return false;
    const auto it = request.find(bhttp::field::expect);
    return it != request.end() && beast::iequals(it->value(), "100-continue");
}

bool asksToClose(const Response &response)
{
    const auto it = response.find(bhttp::field::connection);
    return it != response.end() && bhttp::token_list{it->value()}.exists("close");
}

template <typename Stream> Stream openStream(TcpSocket socket, const ServerState &server)
{
    if constexpr (std::is_same_v<Stream, TlsStream>)
        return Stream(std::move(socket), *server.options().tls);
    else
        return socket;
}

} // namespace

template <typename Stream>
Session<Stream>::Session(TcpSocket socket, std::shared_ptr<ServerState> server)
    : SessionBase(socket.get_executor()), m_stream(openStream<Stream>(std::move(socket), *server)),
      m_timer(strand()), m_server(std::move(server)),
      // The whole header must fit; body bytes pass through one read at a time.
      m_buffer(
          std::min(m_server->options().headerLimit, std::numeric_limits<std::size_t>::max() - kLargeRead) +
          kLargeRead)
{
    error_code ec;
    const auto remote = this->socket().remote_endpoint(ec);
    if (!ec)
        m_remoteAddress = addressText(remote.address());
    const auto local = this->socket().local_endpoint(ec);
    if (!ec)
        m_localPort = local.port();
    m_server->openConnections.fetch_add(1, std::memory_order_relaxed);
}

template <typename Stream> Session<Stream>::~Session()
{
    if (m_counted)
        m_server->openConnections.fetch_sub(1, std::memory_order_relaxed);
    m_server->removeSession(this);
}

template <typename Stream> std::shared_ptr<Session<Stream>> Session<Stream>::self()
{
    return std::static_pointer_cast<Session>(shared_from_this());
}

template <typename Stream> TcpSocket &Session<Stream>::socket()
{
    if constexpr (kTls)
        return m_stream.next_layer();
    else
        return m_stream;
}

template <typename Stream> const std::string &Session<Stream>::name() const
{
    return m_server->options().name;
}

template <typename Stream>
template <typename Fn>
void Session<Stream>::guarded(const char *where, Fn &&fn) noexcept
{
    try {
        fn();
        return;
    } catch (const std::exception &e) {
        spdlog::error("[{}] connection from {}: {} failed: {}", name(), m_remoteAddress, where, e.what());
    } catch (...) {
        spdlog::error("[{}] connection from {}: {} failed", name(), m_remoteAddress, where);
    }
    try {
        hardClose();
    } catch (...) {
        // hardClose only uses non-throwing calls; nothing more can be done here.
    }
}

// ---- start ----

template <typename Stream> void Session<Stream>::run()
{
    guarded("start", [&] {
        if (m_server->stopping()) {
            hardClose();
            return;
        }
        if constexpr (kTls) {
            m_phase = Phase::Handshake;
            setDeadlineAfter(m_server->options().tlsHandshakeTimeout);
            m_stream.async_handshake(net::ssl::stream_base::server, [self = self()](const error_code &ec) {
                self->guarded("TLS handshake", [&] { self->onHandshake(ec); });
            });
        } else {
            startRequest();
        }
    });
}

template <typename Stream> void Session<Stream>::onHandshake(const error_code &ec)
{
    if (m_phase != Phase::Handshake)
        return;
    if (ec) {
        spdlog::debug("[{}] TLS handshake with {} failed: {}", name(), m_remoteAddress, ec.message());
        hardClose();
        return;
    }
    startRequest();
}

// ---- reading a request ----

template <typename Stream> void Session<Stream>::startRequest()
{
    if (m_server->stopping()) {
        hardClose();
        return;
    }
    const ServerOptions &options = m_server->options();
    m_phase = Phase::Reading;
    m_parser.emplace();
    m_parser->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options.headerLimit, std::numeric_limits<std::uint32_t>::max())));
    m_parser->body_limit(static_cast<std::uint64_t>(options.bodyLimit));
    m_parser->eager(true);
    m_continueSent = false;
    m_requestStarted = m_buffer.size() > 0;
    setDeadlineAfter(m_requestStarted ? options.requestTimeout : options.idleTimeout);
    parseBuffered();
}

template <typename Stream> void Session<Stream>::parseBuffered()
{
    while (m_buffer.size() > 0) {
        error_code ec;
        const std::size_t used = m_parser->put(m_buffer.data(), ec);
        m_buffer.consume(used);
        if (ec == bhttp::error::need_more)
            break;
        if (ec) {
            rejectRequest(ec);
            return;
        }
        if (m_parser->is_done()) {
            dispatchRequest();
            return;
        }
        if (used == 0)
            break;
    }
    if (!m_continueSent && m_parser->is_header_done() && expectsContinue(m_parser->get())) {
        sendContinue();
        return;
    }
    readRequestBytes();
}

template <typename Stream> void Session<Stream>::readRequestBytes()
{
    const std::size_t room = m_buffer.max_size() - m_buffer.size();
    const std::size_t wanted = m_parser->is_header_done() ? kLargeRead : kSmallRead;
    const std::size_t size = std::min(std::max(wanted, m_buffer.capacity() - m_buffer.size()), room);
    if (size == 0) {
        rejectRequest(bhttp::error::header_limit);
        return;
    }
    m_stream.async_read_some(m_buffer.prepare(size),
                             [self = self()](const error_code &ec, std::size_t bytes) {
                                 self->guarded("read", [&] { self->onRequestBytes(ec, bytes); });
                             });
}

template <typename Stream> void Session<Stream>::onRequestBytes(const error_code &ec, std::size_t bytes)
{
    if (m_phase != Phase::Reading)
        return;
    if (ec) {
        if (m_requestStarted || !isQuietDisconnect(ec))
            spdlog::debug("[{}] connection from {} ended while reading a request: {}", name(),
                          m_remoteAddress, ec.message());
        hardClose();
        return;
    }
    m_buffer.commit(bytes);
    if (!m_requestStarted) {
        m_requestStarted = true;
        setDeadlineAfter(m_server->options().requestTimeout);
    }
    parseBuffered();
}

template <typename Stream> void Session<Stream>::sendContinue()
{
    m_continueSent = true;
    net::async_write(m_stream, net::buffer(kContinue.data(), kContinue.size()),
                     [self = self()](const error_code &ec, std::size_t) {
                         self->guarded("write 100-continue", [&] {
                             if (self->m_phase != Phase::Reading)
                                 return;
                             if (ec) {
                                 self->hardClose();
                                 return;
                             }
                             self->readRequestBytes();
                         });
                     });
}

template <typename Stream> void Session<Stream>::rejectRequest(const error_code &ec)
{
    const ServerOptions &options = m_server->options();
    Response response;
    if (ec == bhttp::error::body_limit) {
        response = makeError(
            413, fmt::format("request body is larger than the limit of {} bytes", options.bodyLimit));
    } else if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
        response = makeError(
            431, fmt::format("request header is larger than the limit of {} bytes", options.headerLimit));
    } else {
        response = makeError(400, "malformed HTTP request: " + ec.message());
    }
    spdlog::debug("[{}] rejected a request from {}: {} {}", name(), m_remoteAddress, response.result_int(),
                  ec.message());
    m_parser.reset();
    response.set(bhttp::field::server, kServerName);
    response.keep_alive(false);
    m_drainOnClose = true; // the client may still be sending the body we refused
    writeResponse(std::move(response), false);
}

template <typename Stream> void Session<Stream>::dispatchRequest()
{
    m_phase = Phase::Handling;
    clearDeadline(); // a handler takes as long as it needs; the write that follows is bounded again

    auto context = std::make_shared<RequestContext>();
    context->request = m_parser->release();
    m_parser.reset();
    context->remoteAddress = m_remoteAddress;
    context->localPort = m_localPort;
    context->tls = kTls;
    m_requestVersion = context->request.version();
    m_requestKeepAlive = context->request.keep_alive();
    m_headRequest = context->request.method() == bhttp::verb::head;

    const std::uint64_t sequence = ++m_sequence;
    ResponderPtr responder = std::make_shared<ConnectionResponder>(shared_from_this(), sequence);
    if (!m_server->callHandler(context, responder))
        responder->send(makeError(503, "the server is shutting down"));
}

// ---- answering ----

template <typename Stream> bool Session<Stream>::finalize(Response &response)
{
    const bool keepAlive = m_requestKeepAlive && !m_server->stopping() && !asksToClose(response);
    response.version(m_requestVersion);
    response.keep_alive(keepAlive);
    if (response.find(bhttp::field::server) == response.end())
        response.set(bhttp::field::server, kServerName);
    response.erase(bhttp::field::transfer_encoding);

    const unsigned status = response.result_int();
    if (status / 100 == 1 || status == 204 || status == 304) {
        // These never carry a body (RFC 9110, section 6.4.1).
        response.body().clear();
        if (status != 304)
            response.erase(bhttp::field::content_length);
    } else if (m_headRequest) {
        // HEAD gets the length the body would have had, without the body.
        if (!response.body().empty() || response.find(bhttp::field::content_length) == response.end())
            response.content_length(response.body().size());
        response.body().clear();
    } else {
        response.content_length(response.body().size());
    }
    return keepAlive;
}

template <typename Stream> void Session<Stream>::deliverResponse(std::uint64_t sequence, Response response)
{
    guarded("answer", [&] {
        if (m_phase != Phase::Handling || sequence != m_sequence)
            return;
        const bool keepAlive = finalize(response);
        writeResponse(std::move(response), keepAlive);
    });
}

template <typename Stream> void Session<Stream>::writeResponse(Response response, bool keepAlive)
{
    if (const auto &onResponse = m_server->options().onResponse)
        onResponse(response.result_int());
    m_phase = Phase::Writing;
    m_keepAlive = keepAlive;
    setDeadlineAfter(m_server->options().writeTimeout);
    m_response.emplace(std::move(response));
    bhttp::async_write(m_stream, *m_response, [self = self()](const error_code &ec, std::size_t) {
        self->guarded("write", [&] { self->onResponseWritten(ec); });
    });
}

template <typename Stream> void Session<Stream>::onResponseWritten(const error_code &ec)
{
    if (m_phase != Phase::Writing)
        return;
    m_response.reset();
    if (ec) {
        if (!isQuietDisconnect(ec))
            spdlog::debug("[{}] cannot write to {}: {}", name(), m_remoteAddress, ec.message());
        hardClose();
        return;
    }
    if (m_keepAlive && !m_server->stopping())
        startRequest();
    else
        gracefulClose(m_drainOnClose);
}

// ---- streaming ----

template <typename Stream>
void Session<Stream>::deliverStreamStart(std::uint64_t sequence, Response head,
                                         std::shared_ptr<StreamState> state)
{
    guarded("start stream", [&] {
        if (m_phase != Phase::Handling || sequence != m_sequence) {
            state->open.store(false);
            return;
        }
        m_phase = Phase::Streaming;
        m_streamState = std::move(state);
        if (const auto &onResponse = m_server->options().onResponse)
            onResponse(head.result_int());

        head.version(m_requestVersion);
        head.body().clear();
        head.erase(bhttp::field::content_length);
        head.erase(bhttp::field::transfer_encoding);
        // HTTP/1.0 has no chunked encoding: its stream is the rest of the connection.
        m_streamChunked = m_requestVersion >= 11;
        if (m_streamChunked)
            head.chunked(true);
        head.keep_alive(false);
        if (head.find(bhttp::field::server) == head.end())
            head.set(bhttp::field::server, kServerName);
        if (m_headRequest || m_server->stopping()) {
            m_streamState->open.store(false);
            m_streamEndRequested = true;
        }

        m_streamHead.emplace(std::move(head));
        m_headSerializer.emplace(*m_streamHead);
        m_streamWriting = true;
        setDeadlineAfter(m_server->options().writeTimeout);
        bhttp::async_write_header(m_stream, *m_headSerializer,
                                  [self = self()](const error_code &ec, std::size_t) {
                                      self->guarded("write stream head", [&] { self->onStreamWritten(ec); });
                                  });
        m_buffer.clear(); // pipelined requests after a stream are never answered
        startDiscardRead();
    });
}

template <typename Stream> void Session<Stream>::deliverStreamChunk(std::string chunk)
{
    guarded("queue stream chunk", [&] {
        if (m_phase != Phase::Streaming || m_streamEndRequested)
            return;
        m_streamQueue.push_back(std::move(chunk));
        pumpStream();
    });
}

template <typename Stream> void Session<Stream>::deliverStreamEnd(bool graceful)
{
    guarded("end stream", [&] {
        if (m_phase != Phase::Streaming)
            return;
        if (!graceful) {
            spdlog::warn("[{}] dropping stream client {}: more than {} bytes queued", name(), m_remoteAddress,
                         m_streamState->maxQueuedBytes);
            hardClose();
            return;
        }
        m_streamEndRequested = true;
        pumpStream();
    });
}

template <typename Stream> void Session<Stream>::pumpStream()
{
    if (m_phase != Phase::Streaming || m_streamWriting)
        return;
    if (m_streamQueue.empty() && !m_streamEndRequested) {
        clearDeadline(); // an idle stream may stay open as long as the client stays
        return;
    }

    m_streamInFlight.clear();
    m_writeBuffers.clear();
    m_chunkHeaders.resize(m_streamQueue.size()); // sized before buffers point into it
    std::size_t index = 0;
    while (!m_streamQueue.empty()) {
        m_streamInFlight.push_back(std::move(m_streamQueue.front()));
        m_streamQueue.pop_front();
        const std::string &chunk = m_streamInFlight.back();
        if (m_streamChunked) {
            auto &header = m_chunkHeaders[index++];
            const int length = std::snprintf(header.data(), header.size(), "%zx\r\n", chunk.size());
            m_writeBuffers.emplace_back(header.data(), static_cast<std::size_t>(length));
            m_writeBuffers.emplace_back(chunk.data(), chunk.size());
            m_writeBuffers.emplace_back(kCrlf.data(), kCrlf.size());
        } else {
            m_writeBuffers.emplace_back(chunk.data(), chunk.size());
        }
    }
    if (m_streamEndRequested) {
        m_finalChunkQueued = true;
        if (m_streamChunked && !m_headRequest)
            m_writeBuffers.emplace_back(kLastChunk.data(), kLastChunk.size());
        if (m_writeBuffers.empty()) {
            gracefulClose(true);
            return;
        }
    }

    m_streamWriting = true;
    setDeadlineAfter(m_server->options().writeTimeout);
    net::async_write(m_stream, m_writeBuffers, [self = self()](const error_code &ec, std::size_t) {
        self->guarded("write stream", [&] { self->onStreamWritten(ec); });
    });
}

template <typename Stream> void Session<Stream>::onStreamWritten(const error_code &ec)
{
    if (m_phase != Phase::Streaming)
        return;
    m_streamWriting = false;
    if (ec) {
        if (!isQuietDisconnect(ec))
            spdlog::debug("[{}] stream to {} failed: {}", name(), m_remoteAddress, ec.message());
        hardClose();
        return;
    }
    std::size_t written = 0;
    for (const auto &chunk : m_streamInFlight)
        written += chunk.size();
    m_streamInFlight.clear();
    m_streamState->queuedBytes.fetch_sub(written, std::memory_order_acq_rel);
    if (m_finalChunkQueued) {
        gracefulClose(true);
        return;
    }
    pumpStream();
}

// ---- closing ----

template <typename Stream> void Session<Stream>::startDiscardRead()
{
    if (m_discardReading)
        return;
    m_discardReading = true;
    m_buffer.clear();
    m_stream.async_read_some(m_buffer.prepare(kDiscardRead),
                             [self = self()](const error_code &ec, std::size_t n) {
                                 self->guarded("read", [&] { self->onDiscarded(ec, n); });
                             });
}

template <typename Stream> void Session<Stream>::onDiscarded(const error_code &ec, std::size_t bytes)
{
    m_discardReading = false;
    if (m_phase == Phase::Closed)
        return;
    if (ec) { // the client went away, or finished after our half-close
        hardClose();
        return;
    }
    if (m_phase == Phase::Closing) {
        m_discardedBytes += bytes;
        if (m_discardedBytes > kMaxLingerBytes) {
            hardClose();
            return;
        }
    }
    startDiscardRead();
}

template <typename Stream> void Session<Stream>::gracefulClose(bool drain)
{
    if (m_phase == Phase::Closing || m_phase == Phase::Closed)
        return;
    m_phase = Phase::Closing;
    if (m_streamState)
        m_streamState->open.store(false);
    setDeadlineAfter(kLingerTimeout);
    if constexpr (kTls) {
        if (!drain && !m_discardReading) {
            m_stream.async_shutdown([self = self()](const error_code &) {
                self->guarded("TLS shutdown", [&] { self->hardClose(); });
            });
            return;
        }
    }
    error_code ec;
    socket().shutdown(net::socket_base::shutdown_send, ec);
    if (ec) {
        hardClose();
        return;
    }
    m_discardedBytes = 0;
    startDiscardRead();
}

template <typename Stream> void Session<Stream>::hardClose()
{
    if (m_phase == Phase::Closed)
        return;
    m_phase = Phase::Closed;
    if (m_streamState)
        m_streamState->open.store(false);
    m_streamQueue.clear();
    m_timerArmed = false;
    m_timer.cancel();
    error_code ec;
    socket().shutdown(net::socket_base::shutdown_both, ec);
    socket().close(ec);
    if (m_counted) {
        m_counted = false;
        m_server->openConnections.fetch_sub(1, std::memory_order_relaxed);
    }
}

template <typename Stream> void Session<Stream>::serverStopping()
{
    guarded("stop", [&] {
        switch (m_phase) {
        case Phase::Handshake:
            hardClose();
            break;
        case Phase::Reading:
            if (!m_requestStarted)
                hardClose(); // idle keep-alive connection
            break;           // a request being read is still answered, then the connection closes
        case Phase::Streaming:
            m_streamState->open.store(false);
            m_streamEndRequested = true;
            pumpStream();
            break;
        default:
            break; // in flight: finalize() sees the server stopping and closes after the response
        }
    });
}

// ---- deadlines ----

template <typename Stream> void Session<Stream>::setDeadlineAfter(std::chrono::seconds timeout)
{
    // Zero or less, or absurdly long, means no deadline.
    if (timeout <= std::chrono::seconds::zero() || timeout > std::chrono::hours(24 * 365 * 10)) {
        clearDeadline();
        return;
    }
    setDeadline(Clock::now() + timeout);
}

template <typename Stream> void Session<Stream>::clearDeadline()
{
    m_deadline = Clock::time_point::max();
}

template <typename Stream> void Session<Stream>::setDeadline(Clock::time_point deadline)
{
    m_deadline = deadline;
    if (m_phase == Phase::Closed || (m_timerArmed && m_timerExpiry <= deadline))
        return;
    m_timerArmed = true;
    m_timerExpiry = deadline;
    m_timer.expires_at(deadline);
    m_timer.async_wait([self = self(), deadline](const error_code &ec) {
        self->guarded("timer", [&] { self->onTimer(ec, deadline); });
    });
}

template <typename Stream> void Session<Stream>::onTimer(const error_code &ec, Clock::time_point armedFor)
{
    if (!m_timerArmed || armedFor != m_timerExpiry)
        return; // superseded by an earlier deadline
    m_timerArmed = false;
    if (ec || m_phase == Phase::Closed || m_deadline == Clock::time_point::max())
        return;
    if (Clock::now() >= m_deadline) {
        onTimeout();
        return;
    }
    setDeadline(m_deadline);
}

template <typename Stream> void Session<Stream>::onTimeout()
{
    switch (m_phase) {
    case Phase::Handshake:
        spdlog::debug("[{}] TLS handshake with {} timed out", name(), m_remoteAddress);
        break;
    case Phase::Reading:
        if (m_requestStarted)
            spdlog::debug("[{}] request from {} was not received in time; closing", name(), m_remoteAddress);
        break;
    case Phase::Writing:
    case Phase::Streaming:
        spdlog::debug("[{}] client {} did not take the response in time; closing", name(), m_remoteAddress);
        break;
    default:
        break;
    }
    hardClose();
}

template class Session<TcpSocket>;
template class Session<TlsStream>;

} // namespace dispatch::http::detail
