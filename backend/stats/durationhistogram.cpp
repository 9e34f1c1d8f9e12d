// SPDX-License-Identifier: GPL-3.0-or-later
#include "stats/durationhistogram.h"

#include <algorithm>
#include <bit>

namespace dispatch::stats {

std::size_t DurationHistogram::bucketOf(int64_t durationNs)
{
    if (durationNs <= kFirstUpperBoundNs)
        return 0;
    // d <= B * 2^k  <=>  (d - 1) / B < 2^k  <=>  bit_width((d - 1) / B) <= k, for integer d and B.
    const auto quotient = static_cast<uint64_t>((durationNs - 1) / kFirstUpperBoundNs);
    return std::min<std::size_t>(static_cast<std::size_t>(std::bit_width(quotient)), kFiniteBuckets);
}

void DurationHistogram::merge(const DurationHistogram &other)
{
    for (std::size_t k = 0; k < kBuckets; ++k)
        m_counts[k] += other.m_counts[k];
}

uint64_t DurationHistogram::total() const
{
    uint64_t n = 0;
    for (uint64_t c : m_counts)
        n += c;
    return n;
}

std::optional<double> DurationHistogram::quantileMs(double q) const
{
    const uint64_t n = total();
    if (n == 0)
        return std::nullopt;
    const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(n);
    uint64_t below = 0; // runs in the buckets before k
    for (std::size_t k = 0; k < kBuckets; ++k) {
        const uint64_t c = m_counts[k];
        if (c == 0 || static_cast<double>(below + c) < rank) {
            below += c;
            continue;
        }
        const double lowerMs = k == 0 ? 0.0 : static_cast<double>(upperBoundNs(k - 1)) / 1e6;
        if (k == kFiniteBuckets)
            return lowerMs;
        const double upperMs = static_cast<double>(upperBoundNs(k)) / 1e6;
        const double within = std::max(0.0, rank - static_cast<double>(below)) / static_cast<double>(c);
        return lowerMs + (upperMs - lowerMs) * within;
    }
    return static_cast<double>(upperBoundNs(kFiniteBuckets - 1)) / 1e6; // not reached: rank <= n
}

} // namespace dispatch::stats
