// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/coalescingposter.h"

#include <exception>
#include <utility>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace dispatch {

CoalescingPoster::CoalescingPoster(boost::asio::io_context &io) : m_io(io) {}

void CoalescingPoster::post(std::function<void()> work)
{
    bool first = false;
    {
        std::lock_guard lock(m_state->mutex);
        first = m_state->pending.empty();
        m_state->pending.push_back(std::move(work));
    }
    if (first)
        boost::asio::post(m_io, [state = m_state] { drain(state); });
}

void CoalescingPoster::drain(const std::shared_ptr<State> &state)
{
    std::vector<std::function<void()>> items;
    {
        std::lock_guard lock(state->mutex);
        items.swap(state->pending);
    }
    for (auto &item : items) {
        try {
            item();
        } catch (const std::exception &e) {
            spdlog::error("a posted completion failed: {}", e.what());
        } catch (...) {
            spdlog::error("a posted completion failed");
        }
    }
}

} // namespace dispatch
