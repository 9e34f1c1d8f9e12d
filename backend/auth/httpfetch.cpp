// SPDX-License-Identifier: GPL-3.0-or-later
#include "auth/httpfetch.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace dispatch::auth {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

namespace {

struct Url
{
    bool tls = false;
    std::string host;
    std::string port;
    std::string target;
};

Result<Url> parseUrl(const std::string &url)
{
    Url u;
    std::string rest;
    if (url.rfind("https://", 0) == 0) {
        u.tls = true;
        rest = url.substr(8);
    } else if (url.rfind("http://", 0) == 0) {
        rest = url.substr(7);
    } else {
        return ApiError::badRequest("'" + url + "' is not an http:// or https:// URL");
    }
    const auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    u.target = slash == std::string::npos ? "/" : rest.substr(slash);
    if (!authority.empty() && authority.front() == '[') { // [::1]:port
        const auto close = authority.find(']');
        if (close == std::string::npos)
            return ApiError::badRequest("'" + url + "' has a malformed host");
        u.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size() && authority[close + 1] == ':')
            u.port = authority.substr(close + 2);
    } else if (const auto colon = authority.rfind(':'); colon != std::string::npos) {
        u.host = authority.substr(0, colon);
        u.port = authority.substr(colon + 1);
    } else {
        u.host = authority;
    }
    if (u.host.empty())
        return ApiError::badRequest("'" + url + "' has no host");
    if (u.port.empty())
        u.port = u.tls ? "443" : "80";
    return u;
}

template <class Stream>
Result<FetchedDocument> exchange(Stream &stream, const Url &u, asio::io_context &io, std::chrono::milliseconds timeout)
{
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, u.target, 11};
    const bool defaultPort = u.port == (u.tls ? "443" : "80");
    const std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    req.set(bhttp::field::host, defaultPort ? host : host + ":" + u.port);
    req.set(bhttp::field::accept, "application/json");
    req.set(bhttp::field::user_agent, "dispatch-server");
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(4 * 1024 * 1024);
    beast::error_code result = asio::error::timed_out;
    beast::get_lowest_layer(stream).expires_after(timeout);
    bhttp::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
        if (ec) {
            result = ec;
            return;
        }
        bhttp::async_read(stream, buffer, parser, [&](beast::error_code ec2, std::size_t) { result = ec2; });
    });
    io.restart();
    io.run();
    if (result)
        return ApiError::unavailable("GET " + u.target + " failed: " + result.message());
    return FetchedDocument{static_cast<int>(parser.get().result_int()), parser.get().body()};
}

} // namespace

Result<FetchedDocument> httpGet(const std::string &url, std::chrono::milliseconds timeout)
{
    auto u = parseUrl(url);
    if (!u)
        return u.error();
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    beast::error_code ec;
    auto endpoints = resolver.resolve(u->host, u->port, ec);
    if (ec)
        return ApiError::unavailable("cannot resolve " + u->host + ": " + ec.message());
    beast::tcp_stream tcp(io);
    tcp.expires_after(timeout);
    beast::error_code connectResult = asio::error::timed_out;
    tcp.async_connect(endpoints, [&](beast::error_code e, const auto &) { connectResult = e; });
    io.run();
    if (connectResult)
        return ApiError::unavailable("cannot connect to " + u->host + ":" + u->port + ": " + connectResult.message());
    if (!u->tls)
        return exchange(tcp, *u, io, timeout);

    asio::ssl::context ssl(asio::ssl::context::tls_client);
    ssl.set_default_verify_paths();
    ssl.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), ssl);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), u->host.c_str()))
        return ApiError::unavailable("cannot set the TLS server name for " + u->host);
    stream.set_verify_callback(asio::ssl::host_name_verification(u->host));
    beast::error_code handshake = asio::error::timed_out;
    beast::get_lowest_layer(stream).expires_after(timeout);
    stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { handshake = e; });
    io.restart();
    io.run();
    if (handshake)
        return ApiError::unavailable("TLS handshake with " + u->host + " failed: " + handshake.message());
    return exchange(stream, *u, io, timeout);
}

} // namespace dispatch::auth
