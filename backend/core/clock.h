// Time source. Injected so that tests of time-dependent logic (retention, rollups) need no sleeping.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <chrono>
#include <cstdint>

namespace dispatch {

class Clock
{
public:
    virtual ~Clock() = default;
    virtual int64_t nowNs() const = 0; // Unix time in nanoseconds
    int64_t nowSeconds() const { return nowNs() / 1'000'000'000; }
};

class SystemClock final : public Clock
{
public:
    int64_t nowNs() const override
    {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

} // namespace dispatch
