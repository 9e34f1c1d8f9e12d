// SPDX-License-Identifier: GPL-3.0-or-later
#include "http/server.h"

#include <mutex>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "http/server_state.h"
#include "http/session.h"
#include "wire/models.h"

namespace dispatch::http {

namespace net = boost::asio;
using boost::system::error_code;
using tcp = net::ip::tcp;

namespace {

// Accept errors that mean "out of descriptors or memory": retrying at once would spin.
bool isResourceExhaustion(const error_code &ec)
{
    return ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
           ec == net::error::no_memory || ec == boost::system::errc::too_many_files_open_in_system;
}

Result<tcp::endpoint> resolveEndpoint(net::io_context &io, std::string host, uint16_t port)
{
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    error_code ec;
    const auto address = net::ip::make_address(host, ec);
    if (!ec)
        return tcp::endpoint(address, port);
    tcp::resolver resolver(io);
    const auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
    if (ec || results.empty())
        return ApiError::internal(fmt::format("cannot resolve listen address '{}': {}", host,
                                              ec ? ec.message() : std::string("no address")));
    return results.begin()->endpoint();
}

} // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl>
{
    Impl(net::io_context &context, ServerOptions options, Handler handler)
        : io(context), state(std::make_shared<detail::ServerState>(std::move(options), std::move(handler))),
          acceptor(context), retryTimer(context)
    {
    }

    const std::string &name() const { return state->options().name; }

    // Both need acceptorMutex held: stop() closes the acceptor from any thread.
    void accept();
    void acceptLater();

    void onAccept(const error_code &ec, detail::TcpSocket socket);
    template <typename Stream> void startSession(detail::TcpSocket socket);

    net::io_context &io;
    std::shared_ptr<detail::ServerState> state;
    std::mutex acceptorMutex;
    tcp::acceptor acceptor;
    net::steady_timer retryTimer;
    bool started = false;
    std::atomic<uint16_t> port{0};
    // Only touched by the accept completion; one accept is outstanding at a time.
    bool limitWarned = false;
};

void Server::Impl::accept()
{
    if (!acceptor.is_open())
        return;
    acceptor.async_accept(net::make_strand(io),
                          [self = shared_from_this()](const error_code &ec, detail::TcpSocket socket) {
                              self->onAccept(ec, std::move(socket));
                          });
}

void Server::Impl::acceptLater()
{
    retryTimer.expires_after(std::chrono::milliseconds(100));
    retryTimer.async_wait([self = shared_from_this()](const error_code &ec) {
        if (ec)
            return;
        std::lock_guard lock(self->acceptorMutex);
        try {
            self->accept();
        } catch (const std::exception &e) {
            spdlog::error("[{}] cannot accept connections: {}", self->name(), e.what());
        }
    });
}

void Server::Impl::onAccept(const error_code &ec, detail::TcpSocket socket)
{
    try {
        if (ec == net::error::operation_aborted || state->stopping())
            return;
        std::lock_guard lock(acceptorMutex);
        if (ec) {
            spdlog::warn("[{}] accept failed: {}", name(), ec.message());
            if (isResourceExhaustion(ec))
                acceptLater();
            else
                accept();
            return;
        }
        if (state->openConnections.load(std::memory_order_relaxed) >= state->options().maxConnections) {
            if (!limitWarned) {
                spdlog::warn("[{}] {} connections open (the limit); closing new connections until some end",
                             name(), state->options().maxConnections);
                limitWarned = true;
            }
            error_code ignored;
            socket.close(ignored);
        } else {
            limitWarned = false;
            if (state->options().tls)
                startSession<detail::TlsStream>(std::move(socket));
            else
                startSession<detail::TcpSocket>(std::move(socket));
        }
        accept();
    } catch (const std::exception &e) {
        spdlog::error("[{}] accepting a connection failed: {}", name(), e.what());
        std::lock_guard lock(acceptorMutex);
        try {
            acceptLater();
        } catch (...) {
            spdlog::error("[{}] cannot accept connections any more", name());
        }
    }
}

template <typename Stream> void Server::Impl::startSession(detail::TcpSocket socket)
{
    error_code ec;
    // Without it a keep-alive response waits on the client's delayed ACK (~40 ms).
    socket.set_option(tcp::no_delay(true), ec);
    auto session = std::make_shared<detail::Session<Stream>>(std::move(socket), state);
    if (!state->addSession(session))
        return; // stopping: the connection closes with the session
    net::post(session->strand(), [session] { session->run(); });
}

Server::Server(net::io_context &io, ServerOptions options, Handler handler)
    : m_impl(std::make_shared<Impl>(io, std::move(options), std::move(handler)))
{
}

Server::~Server()
{
    stop();
    m_impl->state->closeHandlers();
}

Result<uint16_t> Server::start()
{
    const ServerOptions &options = m_impl->state->options();
    std::lock_guard lock(m_impl->acceptorMutex);
    if (m_impl->started)
        return ApiError::internal("the server was already started");
    if (m_impl->state->stopping())
        return ApiError::internal("the server was stopped");
    if (!m_impl->state->hasHandler())
        return ApiError::internal("the server has no request handler");

    auto endpoint = resolveEndpoint(m_impl->io, options.host, options.port);
    if (!endpoint)
        return endpoint.error();

    auto &acceptor = m_impl->acceptor;
    error_code ec;
    const auto fail = [&](const char *step) -> Result<uint16_t> {
        error_code ignored;
        acceptor.close(ignored);
        return ApiError::internal(
            fmt::format("cannot listen on {}:{} ({}): {}", options.host, options.port, step, ec.message()));
    };
    acceptor.open(endpoint->protocol(), ec);
    if (ec)
        return fail("open");
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (ec)
        return fail("SO_REUSEADDR");
    acceptor.bind(*endpoint, ec);
    if (ec)
        return fail("bind");
    acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
        return fail("listen");
    const auto local = acceptor.local_endpoint(ec);
    if (ec)
        return fail("local address");

    m_impl->port.store(local.port());
    m_impl->started = true;
    spdlog::info("[{}] listening on {}{}", options.name,
                 fmt::format("{}:{}", local.address().to_string(), local.port()),
                 options.tls ? " (TLS)" : "");
    m_impl->accept();
    return local.port();
}

void Server::stop()
{
    const bool wasStopping = m_impl->state->stopping();
    bool wasListening = false;
    {
        std::lock_guard lock(m_impl->acceptorMutex);
        wasListening = m_impl->acceptor.is_open();
        error_code ignored;
        m_impl->acceptor.close(ignored);
        m_impl->retryTimer.cancel();
    }
    const auto sessions = m_impl->state->beginStop();
    for (const auto &session : sessions)
        net::post(session->strand(), [session] { session->serverStopping(); });
    if (!wasStopping && wasListening)
        spdlog::info("[{}] stopped accepting; {} connection(s) finishing", m_impl->name(), sessions.size());
}

uint16_t Server::port() const
{
    return m_impl->port.load();
}

std::size_t Server::openConnections() const
{
    return m_impl->state->openConnections.load(std::memory_order_relaxed);
}

Response makeJson(int status, const std::string &body, unsigned version)
{
    Response response{static_cast<bhttp::status>(status), version};
    response.set(bhttp::field::content_type, "application/json");
    response.body() = body;
    if (status / 100 != 1 && status != 204 && status != 304)
        response.content_length(body.size());
    return response;
}

Response makeEmpty(int status, unsigned version)
{
    return makeJson(status, std::string(), version);
}

Response makeError(int status, const std::string &message, unsigned version)
{
    const nlohmann::json body{{"code", status}, {"message", message}};
    return makeJson(status, wire::dumpJson(body), version);
}

} // namespace dispatch::http
