// SPDX-License-Identifier: GPL-3.0-or-later
#include "trivialserver.h"

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace dispatch::bench {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::string_view kReply =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";

class Session : public std::enable_shared_from_this<Session>
{
public:
    explicit Session(tcp::socket socket) : m_socket(std::move(socket)) {}

    void start()
    {
        error_code ignored;
        m_socket.set_option(tcp::no_delay(true), ignored);
        read();
    }

private:
    void read()
    {
        m_socket.async_read_some(asio::buffer(m_input),
                                 [self = shared_from_this()](error_code ec, std::size_t n) {
                                     if (!ec)
                                         self->onRead(n);
                                 });
    }

    void onRead(std::size_t n)
    {
        // Counts request heads ("\r\n\r\n") across reads, so pipelined or split requests are both answered.
        static constexpr std::string_view terminator = "\r\n\r\n";
        std::size_t heads = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const char c = m_input[i];
            if (c == terminator[m_matched])
                ++m_matched;
            else
                m_matched = c == '\r' ? 1 : 0;
            if (m_matched == terminator.size()) {
                ++heads;
                m_matched = 0;
            }
        }
        if (heads == 0) {
            read();
            return;
        }
        m_output.clear();
        for (std::size_t i = 0; i < heads; ++i)
            m_output.append(kReply);
        asio::async_write(m_socket, asio::buffer(m_output),
                          [self = shared_from_this()](error_code ec, std::size_t) {
                              if (!ec)
                                  self->read();
                          });
    }

    tcp::socket m_socket;
    std::array<char, 8192> m_input{};
    std::string m_output;
    std::size_t m_matched = 0;
};

} // namespace

struct TrivialHttpServer::Impl
{
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::vector<std::thread> threads;
    uint16_t port = 0;

    void accept()
    {
        acceptor.async_accept([this](error_code ec, tcp::socket socket) {
            if (ec)
                return;
            std::make_shared<Session>(std::move(socket))->start();
            accept();
        });
    }
};

TrivialHttpServer::TrivialHttpServer(unsigned threads) : m_impl(std::make_unique<Impl>())
{
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    m_impl->acceptor.open(endpoint.protocol());
    m_impl->acceptor.set_option(tcp::acceptor::reuse_address(true));
    m_impl->acceptor.bind(endpoint);
    m_impl->acceptor.listen(asio::socket_base::max_listen_connections);
    m_impl->port = m_impl->acceptor.local_endpoint().port();
    m_impl->accept();
    for (unsigned i = 0; i < std::max(1u, threads); ++i)
        m_impl->threads.emplace_back([this] { m_impl->ioc.run(); });
}

TrivialHttpServer::~TrivialHttpServer()
{
    stop();
}

uint16_t TrivialHttpServer::port() const
{
    return m_impl->port;
}

void TrivialHttpServer::stop()
{
    if (m_impl->threads.empty())
        return;
    m_impl->ioc.stop();
    for (auto &thread : m_impl->threads)
        thread.join();
    m_impl->threads.clear();
}

} // namespace dispatch::bench
