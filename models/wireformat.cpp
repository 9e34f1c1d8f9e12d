// SPDX-License-Identifier: GPL-3.0-or-later
#include "wireformat.h"

namespace dispatch::models {

QStringList tagStrings(const std::vector<wire::Tag> &tags)
{
    QStringList out;
    for (const auto &t : tags)
        out << (t.value.empty() ? qs(t.key) : qs(t.key) + QLatin1Char('=') + qs(t.value));
    out.sort();
    return out;
}

QStringList configStrings(const std::optional<std::vector<wire::KeyValue>> &config)
{
    QStringList out;
    if (config)
        for (const auto &kv : *config)
            out << (kv.value.empty() ? qs(kv.key) : qs(kv.key) + QLatin1Char('=') + qs(kv.value));
    return out;
}

QString statusString(wire::Status status)
{
    return status == wire::Status::None ? QString() : qs(wire::toString(status));
}

} // namespace dispatch::models
