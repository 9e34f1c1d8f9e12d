// A deliberately trivial in-process HTTP/1.1 server: one canned 200 reply per request head. It exists to
// measure the load generator's own ceiling (the generator must never be what limits a figure). Requests must
// not carry a body. SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>
#include <memory>

namespace dispatch::bench {

class TrivialHttpServer
{
public:
    // Listens on 127.0.0.1 with an ephemeral port and serves on `threads` threads until stop() or
    // destruction.
    explicit TrivialHttpServer(unsigned threads = 1);
    ~TrivialHttpServer();
    TrivialHttpServer(const TrivialHttpServer &) = delete;
    TrivialHttpServer &operator=(const TrivialHttpServer &) = delete;

    uint16_t port() const;
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace dispatch::bench
