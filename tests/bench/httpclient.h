// A small blocking HTTP/1.1 client for the benchmark's setup steps and polls (not for load: see loadgen.h).
// Keeps one keep-alive connection, adds the Dispatch headers to every request, and has a per-request timeout.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace dispatch::bench {

struct HttpReply
{
    unsigned status = 0; // 0 when the request failed before a reply arrived
    std::string body;
    std::string error; // transport error, empty on success
    double millis = 0; // request to complete reply

    bool ok() const { return error.empty(); }
};

class HttpClient
{
public:
    HttpClient(std::string host, uint16_t port, std::string org);
    ~HttpClient();
    HttpClient(const HttpClient &) = delete;
    HttpClient &operator=(const HttpClient &) = delete;

    HttpReply request(std::string_view method, std::string_view target, std::string_view body = {},
                      std::chrono::milliseconds timeout = std::chrono::seconds(60));
    HttpReply get(std::string_view target) { return request("GET", target); }
    HttpReply post(std::string_view target, std::string_view body) { return request("POST", target, body); }
    HttpReply del(std::string_view target) { return request("DELETE", target); }

    const std::string &host() const { return m_host; }
    uint16_t port() const { return m_port; }

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    std::string m_host;
    uint16_t m_port;
};

} // namespace dispatch::bench
