// Small conversions from the wire models (backend/wire) to Qt values, shared by the table models.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDateTime>
#include <QString>
#include <QStringList>

#include <string>
#include <vector>

#include "wire/models.h"

namespace dispatch::models {

inline QString qs(const std::string &s)
{
    return QString::fromStdString(s);
}

inline QStringList qsl(const std::vector<std::string> &list)
{
    QStringList out;
    out.reserve(qsizetype(list.size()));
    for (const auto &s : list)
        out << QString::fromStdString(s);
    return out;
}

// "k=v" per tag, sorted (the server returns them in random order).
QStringList tagStrings(const std::vector<wire::Tag> &tags);
QStringList configStrings(const std::optional<std::vector<wire::KeyValue>> &config);
QString statusString(wire::Status status); // "" for None

} // namespace dispatch::models
