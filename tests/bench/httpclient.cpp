// SPDX-License-Identifier: GPL-3.0-or-later
#include "httpclient.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>

namespace dispatch::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

struct HttpClient::Impl
{
    asio::io_context ioc;
    beast::tcp_stream stream{ioc};
    beast::flat_buffer buffer;
    tcp::resolver::results_type endpoints;
    bool connected = false;
    std::string org;

    // Runs one asynchronous operation to completion on our private io_context: the async form is used only
    // because tcp_stream's timeouts work for asynchronous operations.
    template <class Start> error_code await(Start &&start)
    {
        error_code result = asio::error::would_block;
        start([&result](error_code ec, auto &&...) { result = ec; });
        ioc.restart();
        ioc.run();
        return result;
    }

    void close()
    {
        error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream.close();
        buffer.clear();
        connected = false;
    }
};

HttpClient::HttpClient(std::string host, uint16_t port, std::string org)
    : m_impl(std::make_unique<Impl>()), m_host(std::move(host)), m_port(port)
{
    m_impl->org = std::move(org);
}

HttpClient::~HttpClient() = default;

HttpReply HttpClient::request(std::string_view method, std::string_view target, std::string_view body,
                              std::chrono::milliseconds timeout)
{
    HttpReply reply;
    const auto start = Clock::now();
    const bhttp::verb verb = bhttp::string_to_verb(method);
    if (verb == bhttp::verb::unknown) {
        reply.error = "unknown method " + std::string(method);
        return reply;
    }
    Impl &impl = *m_impl;
    for (int attempt = 0; attempt < 2; ++attempt) {
        const bool reused = impl.connected;
        if (!impl.connected) {
            if (impl.endpoints.empty()) {
                tcp::resolver resolver(impl.ioc);
                error_code ec;
                impl.endpoints = resolver.resolve(m_host, std::to_string(m_port), ec);
                if (ec) {
                    reply.error = "resolve " + m_host + ": " + ec.message();
                    return reply;
                }
            }
            impl.stream.expires_after(timeout);
            const error_code ec = impl.await(
                [&](auto handler) { impl.stream.async_connect(impl.endpoints, std::move(handler)); });
            if (ec) {
                impl.close();
                reply.error = "connect: " + ec.message();
                return reply;
            }
            error_code ignored;
            impl.stream.socket().set_option(tcp::no_delay(true), ignored);
            impl.connected = true;
        }

        bhttp::request<bhttp::string_body> req{verb, target, 11};
        req.set(bhttp::field::host, m_host + ':' + std::to_string(m_port));
        req.set(bhttp::field::user_agent, "dispatch-bench");
        req.set("X-Dispatch-Org", impl.org);
        req.set(bhttp::field::cookie, "cookie");
        if (!body.empty())
            req.set(bhttp::field::content_type, "application/json");
        req.body() = std::string(body);
        req.prepare_payload();

        impl.stream.expires_after(timeout);
        error_code ec =
            impl.await([&](auto handler) { bhttp::async_write(impl.stream, req, std::move(handler)); });
        std::optional<bhttp::response_parser<bhttp::string_body>> parser;
        if (!ec) {
            parser.emplace();
            parser->body_limit(1024ull * 1024ull * 1024ull);
            ec = impl.await([&](auto handler) {
                bhttp::async_read(impl.stream, impl.buffer, *parser, std::move(handler));
            });
        }
        if (!ec) {
            auto &res = parser->get();
            reply.status = res.result_int();
            reply.body = std::move(res.body());
            if (!res.keep_alive())
                impl.close();
            reply.millis = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
            return reply;
        }
        impl.close();
        // A kept-alive connection the server already closed fails before any reply byte: retry once, fresh.
        const bool staleConnection = reused && (!parser || !parser->got_some()) &&
                                     (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
                                      ec == asio::error::connection_reset || ec == asio::error::broken_pipe);
        if (staleConnection && attempt == 0)
            continue;
        reply.error = (ec == beast::error::timeout ? std::string("timed out") : ec.message());
        break;
    }
    reply.millis = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    return reply;
}

} // namespace dispatch::bench
