// The in-process cron and ticker drivers: a steady timer that fires at each match of a cron schedule (the wait
// is computed from the system clock to the next matching second, so a clock change is followed) or every N
// seconds, and emits one event (cron.trigger / ticker.tick, data null) each time.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "events/cronschedule.h"
#include "events/driverrunner.h"

namespace dispatch::events {

class TimerDriver final : public DriverRunner, public std::enable_shared_from_this<TimerDriver>
{
public:
    static std::shared_ptr<TimerDriver> cron(boost::asio::io_context &io, CronSchedule schedule, std::string source,
                                             EmitEvent emit);
    static std::shared_ptr<TimerDriver> ticker(boost::asio::io_context &io, std::chrono::seconds interval,
                                               std::string eventType, std::string source, EmitEvent emit);

    void start() override;
    void stop(bool immediately) override;

    TimerDriver(boost::asio::io_context &io, std::string eventType, std::string source, EmitEvent emit);

private:
    void armLocked();
    void fired();

    boost::asio::steady_timer m_timer;
    std::mutex m_mutex; // guards the timer and the state below (handlers run on any I/O thread)
    bool m_stopped = false;
    std::optional<CronSchedule> m_schedule;  // cron
    std::chrono::seconds m_interval{0};      // ticker and "@every"
    std::chrono::steady_clock::time_point m_nextTick;
    std::chrono::system_clock::time_point m_target; // cron: the second being waited for
    std::string m_eventType;
    std::string m_source;
    EmitEvent m_emit;
};

} // namespace dispatch::events
