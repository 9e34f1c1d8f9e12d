// Run durations in fixed log-scale buckets, the same for every function, minute and hour, so that any two
// histograms merge by adding their counts and a percentile over hours of data costs 25 additions per row.
//
// Bucket k (0..23) counts the durations d with 0.1 ms * 2^(k-1) < d <= 0.1 ms * 2^k (bucket 0: d <= 0.1 ms);
// bucket 24 counts what is longer than 0.1 ms * 2^23 = 838.8608 s (~14 min). The upper bounds are
// 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6, 819.2 ms,
// 1.6384, 3.2768, 6.5536, 13.1072, 26.2144, 52.4288, 104.8576, 209.7152, 419.4304, 838.8608 s.
// They are also the `le` labels of dispatch_run_duration_seconds and the columns h0..h24 of the rollup
// tables, so they never change. SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace dispatch::stats {

class DurationHistogram
{
public:
    static constexpr std::size_t kFiniteBuckets = 24;
    static constexpr std::size_t kBuckets = kFiniteBuckets + 1; // + the overflow bucket
    static constexpr int64_t kFirstUpperBoundNs = 100'000;      // 0.1 ms

    // Inclusive upper bound of bucket k < kFiniteBuckets.
    static constexpr int64_t upperBoundNs(std::size_t k) { return kFirstUpperBoundNs << k; }
    static std::size_t bucketOf(int64_t durationNs); // negative durations count as 0

    void add(int64_t durationNs) { ++m_counts[bucketOf(durationNs)]; }
    void addToBucket(std::size_t bucket, uint64_t n) { m_counts[bucket] += n; }
    void merge(const DurationHistogram &other);

    uint64_t count(std::size_t bucket) const { return m_counts[bucket]; }
    uint64_t total() const;
    const std::array<uint64_t, kBuckets> &counts() const { return m_counts; }

    // The q-quantile (0 < q <= 1) in milliseconds, or nullopt when empty. The rank q * total() falls in one
    // bucket; the value is interpolated linearly between that bucket's bounds by the rank's position among
    // the bucket's counts (the lower bound of bucket 0 is 0). Ranks in the overflow bucket give its lower
    // bound. The true q-quantile of the durations lies in the same bucket as this estimate.
    std::optional<double> quantileMs(double q) const;

    friend bool operator==(const DurationHistogram &, const DurationHistogram &) = default;

private:
    std::array<uint64_t, kBuckets> m_counts{};
};

} // namespace dispatch::stats
