// SPDX-License-Identifier: GPL-3.0-or-later
#include "events/timerdriver.h"

#include <spdlog/spdlog.h>

namespace dispatch::events {

namespace asio = boost::asio;
using namespace std::chrono_literals;

TimerDriver::TimerDriver(asio::io_context &io, std::string eventType, std::string source, EmitEvent emit)
    : m_timer(io), m_eventType(std::move(eventType)), m_source(std::move(source)), m_emit(std::move(emit))
{
}

std::shared_ptr<TimerDriver> TimerDriver::cron(asio::io_context &io, CronSchedule schedule, std::string source,
                                               EmitEvent emit)
{
    auto d = std::make_shared<TimerDriver>(io, "cron.trigger", std::move(source), std::move(emit));
    if (auto every = schedule.every())
        d->m_interval = *every;
    else
        d->m_schedule = std::move(schedule);
    return d;
}

std::shared_ptr<TimerDriver> TimerDriver::ticker(asio::io_context &io, std::chrono::seconds interval,
                                                 std::string eventType, std::string source, EmitEvent emit)
{
    auto d = std::make_shared<TimerDriver>(io, std::move(eventType), std::move(source), std::move(emit));
    d->m_interval = interval;
    return d;
}

void TimerDriver::start()
{
    std::lock_guard lock(m_mutex);
    m_nextTick = std::chrono::steady_clock::now();
    m_target = std::chrono::system_clock::now();
    armLocked();
}

void TimerDriver::stop(bool)
{
    std::lock_guard lock(m_mutex);
    m_stopped = true;
    m_timer.cancel();
}

void TimerDriver::armLocked()
{
    if (m_stopped)
        return;
    if (m_schedule) {
        // Never fire twice for one second, and skip the seconds missed while the clock jumped forward.
        const auto now = std::chrono::system_clock::now();
        auto next = m_schedule->next(std::max(m_target, now - 1s));
        if (!next) {
            spdlog::info("cron driver: the schedule has no match within five years; it stays idle");
            return;
        }
        m_target = *next;
        m_timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(m_target - now));
    } else {
        m_nextTick += m_interval;
        const auto now = std::chrono::steady_clock::now();
        if (m_nextTick < now) // a long stall: continue from now rather than firing a burst
            m_nextTick = now + m_interval;
        m_timer.expires_at(m_nextTick);
    }
    m_timer.async_wait([weak = weak_from_this()](const boost::system::error_code &ec) {
        if (ec)
            return;
        if (auto self = weak.lock())
            self->fired();
    });
}

void TimerDriver::fired()
{
    bool emit = true;
    {
        std::lock_guard lock(m_mutex);
        if (m_stopped)
            return;
        // The steady clock waited the computed time; if the system clock was set back meanwhile the second has
        // not come yet: wait again for what is left.
        if (m_schedule && std::chrono::system_clock::now() + 5ms < m_target) {
            const auto left = m_target - std::chrono::system_clock::now();
            m_timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(left));
            m_timer.async_wait([weak = weak_from_this()](const boost::system::error_code &ec) {
                if (ec)
                    return;
                if (auto self = weak.lock())
                    self->fired();
            });
            emit = false;
        } else {
            armLocked();
        }
    }
    if (emit)
        m_emit(makeDriverEvent(m_eventType, m_source));
}

} // namespace dispatch::events
