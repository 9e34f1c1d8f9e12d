// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/ids.h"

#include <array>
#include <cstdio>
#include <ctime>
#include <random>

namespace dispatch {

namespace {

// A per-thread generator seeded from the OS: uuids are identifiers, not secrets.
std::mt19937_64 &generator()
{
    thread_local std::mt19937_64 gen{[] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }()};
    return gen;
}

std::array<unsigned char, 16> randomBytes()
{
    std::array<unsigned char, 16> b{};
    for (int i = 0; i < 2; ++i) {
        const uint64_t v = generator()();
        for (int k = 0; k < 8; ++k)
            b[static_cast<size_t>(i * 8 + k)] = static_cast<unsigned char>(v >> (k * 8));
    }
    return b;
}

std::string format(std::array<unsigned char, 16> b, unsigned version)
{
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | (version << 4));
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80); // RFC 9562 variant
    static const char *hex = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out.push_back('-');
        out.push_back(hex[b[i] >> 4]);
        out.push_back(hex[b[i] & 0xF]);
    }
    return out;
}

} // namespace

std::string newUuid()
{
    return format(randomBytes(), 4);
}

std::string newTimeOrderedUuid(long long unixNs)
{
    auto b = randomBytes();
    const auto ms = static_cast<uint64_t>(unixNs < 0 ? 0 : unixNs / 1'000'000);
    for (int i = 0; i < 6; ++i) // 48-bit big-endian milliseconds
        b[static_cast<size_t>(i)] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
    return format(b, 7);
}

std::string formatRfc3339(long long unixNs)
{
    const time_t secs = static_cast<time_t>(unixNs / 1'000'000'000LL);
    const long long ms = (unixNs / 1'000'000LL) % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
}

} // namespace dispatch
