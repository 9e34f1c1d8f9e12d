// A small HTTP/1.1 server on Boost.Beast: keep-alive, TCP_NODELAY, bounded bodies and connections, optional TLS.
// Handlers answer asynchronously through a Responder that may be called from any thread, exactly once.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http.hpp>

#include "core/error.h"

namespace dispatch::http {

namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

// A server-sent-events style stream a handler can take over a connection with (the watch extension).
// write() queues a chunk; it returns false once the client is gone or its queue exceeded the limit
// (slow clients are dropped, never buffered without bound).
class StreamWriter
{
public:
    virtual ~StreamWriter() = default;
    virtual bool write(std::string chunk) = 0;
    virtual void close() = 0;
    virtual bool isOpen() const = 0;
};

struct RequestContext
{
    Request request;
    std::string remoteAddress;
    uint16_t localPort = 0;
    bool tls = false;
};

class Responder
{
public:
    virtual ~Responder() = default;
    // Sends the response (keep-alive and Content-Length are set by the server). Call exactly once.
    virtual void send(Response response) = 0;
    // Sends `head` (status and headers, chunked) and hands the connection to the returned writer.
    // The connection closes when the stream ends: on close(), when the last writer reference goes away,
    // when the client disconnects or falls behind by more than maxQueuedBytes, or when the server stops.
    virtual std::shared_ptr<StreamWriter> startStream(Response head, std::size_t maxQueuedBytes) = 0;
};
using ResponderPtr = std::shared_ptr<Responder>;
using Handler = std::function<void(std::shared_ptr<RequestContext>, ResponderPtr)>;

struct ServerOptions
{
    std::string name = "api"; // for logs
    std::string host = "127.0.0.1";
    uint16_t port = 0; // 0 = pick a free port
    std::size_t bodyLimit = std::size_t{64} * 1024 * 1024;
    std::size_t headerLimit = std::size_t{64} * 1024;
    std::size_t maxConnections = 10000;
    std::chrono::seconds idleTimeout{120};
    std::shared_ptr<boost::asio::ssl::context> tls; // TLS when set
    // From the first byte of a request to its last; a client that trickles a request is dropped.
    std::chrono::seconds requestTimeout{60};
    // A response (or one batch of stream chunks) must be written within this, or the client is dropped.
    std::chrono::seconds writeTimeout{120};
    std::chrono::seconds tlsHandshakeTimeout{10};
    // Called with the status of every answer as it starts going out (metrics); must be cheap and thread-safe.
    std::function<void(unsigned status)> onResponse;
};

class Server
{
public:
    Server(boost::asio::io_context &io, ServerOptions options, Handler handler);
    ~Server();
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    // Binds and starts accepting. Returns the bound port (useful with port 0).
    Result<uint16_t> start();
    // Stops accepting; idle keep-alive connections are closed, in-flight requests finish (their connections
    // close after the response), open streams are ended. Safe from any thread, idempotent.
    // The destructor stops too, and waits for handler calls in progress on other threads to return.
    void stop();
    uint16_t port() const;
    std::size_t openConnections() const;

private:
    struct Impl;
    std::shared_ptr<Impl> m_impl;
};

// Helpers used by every handler (Content-Type: application/json).
Response makeJson(int status, const std::string &body, unsigned version = 11);
Response makeEmpty(int status, unsigned version = 11);
// The Dispatch error body {"code":status,"message":message} as a response.
Response makeError(int status, const std::string &message, unsigned version = 11);

} // namespace dispatch::http
