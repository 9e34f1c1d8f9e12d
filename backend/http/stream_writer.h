// The StreamWriter behind Responder::startStream. It holds the connection weakly: a client that went away
// frees its connection even while the application still holds the writer.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <memory>
#include <string>

#include "http/server.h"

namespace dispatch::http::detail {

class SessionBase;
struct StreamState;

class ConnectionStreamWriter final : public StreamWriter
{
public:
    ConnectionStreamWriter(std::weak_ptr<SessionBase> session, std::shared_ptr<StreamState> state);
    // Ends the stream when the last reference goes away, so a forgotten writer does not pin a connection.
    ~ConnectionStreamWriter() override;

    bool write(std::string chunk) override;
    void close() override;
    bool isOpen() const override;

private:
    void end(bool graceful);

    std::weak_ptr<SessionBase> m_session;
    std::shared_ptr<StreamState> m_state;
};

} // namespace dispatch::http::detail
