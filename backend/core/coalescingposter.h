// Hands work from a thread outside an io_context (the store's writer) to the io_context with one post per
// burst: the first item of a burst posts a drain, later items only join the list that drain will run. Each
// post may wake a sleeping I/O thread; a commit of twenty runs then costs one wake-up instead of twenty, and
// the items (building and sending answers) run on the I/O threads instead of the posting thread.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace dispatch {

class CoalescingPoster
{
public:
    explicit CoalescingPoster(boost::asio::io_context &io);

    // Thread-safe. Items run in the order they were posted, on one I/O thread per burst. An item that throws
    // is logged; the ones after it still run. Items still pending when the io_context stops do not run.
    void post(std::function<void()> work);

private:
    struct State
    {
        std::mutex mutex;
        std::vector<std::function<void()>> pending;
    };
    static void drain(const std::shared_ptr<State> &state);

    boost::asio::io_context &m_io;
    std::shared_ptr<State> m_state = std::make_shared<State>();
};

} // namespace dispatch
