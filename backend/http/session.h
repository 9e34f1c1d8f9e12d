// One HTTP connection, plain or TLS: reads a request, hands it to the handler, writes the answer, repeats.
// Everything runs on the connection's strand. One request is in flight at a time; pipelined requests wait
// in the read buffer and are answered in order.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "http/session_base.h"

namespace dispatch::http::detail {

class ServerState;

using TlsStream = boost::asio::ssl::stream<TcpSocket>;

template <typename Stream> class Session final : public SessionBase
{
public:
    static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

    // Counts itself in the server's open connections until it closes.
    Session(TcpSocket socket, std::shared_ptr<ServerState> server);
    ~Session() override;

    // Starts the connection (TLS handshake first, when TLS). Call on the strand, once registered.
    void run();

    void deliverResponse(std::uint64_t sequence, Response response) override;
    void deliverStreamStart(std::uint64_t sequence, Response head,
                            std::shared_ptr<StreamState> state) override;
    void deliverStreamChunk(std::string chunk) override;
    void deliverStreamEnd(bool graceful) override;
    void serverStopping() override;

private:
    using Clock = std::chrono::steady_clock;
    using Timer = boost::asio::basic_waitable_timer<Clock, boost::asio::wait_traits<Clock>, Strand>;
    using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;
    using HeadSerializer = boost::beast::http::response_serializer<boost::beast::http::string_body>;

    enum class Phase
    {
        Handshake,
        Reading,
        Handling,
        Writing,
        Streaming,
        Closing,
        Closed
    };

    std::shared_ptr<Session> self();
    TcpSocket &socket();
    // Runs `fn`; an exception is logged and drops the connection, so none reaches Asio.
    template <typename Fn> void guarded(const char *where, Fn &&fn) noexcept;

    void onHandshake(const boost::system::error_code &ec);

    void startRequest();
    void parseBuffered();
    void readRequestBytes();
    void onRequestBytes(const boost::system::error_code &ec, std::size_t bytes);
    void sendContinue();
    void rejectRequest(const boost::system::error_code &ec);
    void dispatchRequest();

    // Sets keep-alive, version, Server and Content-Length; returns whether the connection stays open.
    bool finalize(Response &response);
    void writeResponse(Response response, bool keepAlive);
    void onResponseWritten(const boost::system::error_code &ec);

    void pumpStream();
    void onStreamWritten(const boost::system::error_code &ec);

    // Reads and throws away input: notices a streaming client leaving, and lets a closing connection
    // take what the client still sends so that our last response is not lost to a reset.
    void startDiscardRead();
    void onDiscarded(const boost::system::error_code &ec, std::size_t bytes);

    // Ends the connection after the last response: close_notify (TLS) or a half-close, then waits a little
    // for the client to finish. `drain` is for clients that may still be sending (a rejected request body).
    void gracefulClose(bool drain);
    void hardClose();

    // One timer per connection, re-armed lazily: moving a deadline later costs no timer operation.
    void setDeadline(Clock::time_point deadline);
    void setDeadlineAfter(std::chrono::seconds timeout);
    void clearDeadline();
    void onTimer(const boost::system::error_code &ec, Clock::time_point armedFor);
    void onTimeout();

    const std::string &name() const;

    Stream m_stream;
    Timer m_timer;
    std::shared_ptr<ServerState> m_server;
    std::string m_remoteAddress;
    std::uint16_t m_localPort = 0;
    bool m_counted = true;

    Phase m_phase = Phase::Reading;
    boost::beast::flat_buffer m_buffer;
    std::optional<RequestParser> m_parser;
    bool m_requestStarted = false;
    bool m_continueSent = false;
    std::uint64_t m_sequence = 0;
    unsigned m_requestVersion = 11;
    bool m_requestKeepAlive = true;
    bool m_headRequest = false;

    std::optional<Response> m_response;
    bool m_keepAlive = false;
    bool m_drainOnClose = false;

    Clock::time_point m_deadline = Clock::time_point::max();
    Clock::time_point m_timerExpiry = Clock::time_point::max();
    bool m_timerArmed = false;

    std::shared_ptr<StreamState> m_streamState;
    std::optional<Response> m_streamHead;
    std::optional<HeadSerializer> m_headSerializer;
    std::deque<std::string> m_streamQueue;
    std::vector<std::string> m_streamInFlight;
    std::vector<std::array<char, 20>> m_chunkHeaders;
    std::vector<boost::asio::const_buffer> m_writeBuffers;
    bool m_streamChunked = true;
    bool m_streamWriting = false;
    bool m_streamEndRequested = false;
    bool m_finalChunkQueued = false;

    bool m_discardReading = false;
    std::size_t m_discardedBytes = 0;
};

extern template class Session<TcpSocket>;
extern template class Session<TlsStream>;

} // namespace dispatch::http::detail
