// Fast compact JSON text for the hot paths (every run is serialised for the store, the worker and the answer).
// The output is byte for byte what nlohmann's dump(-1, ' ', false, replace) gives, which the tests check on
// generated documents; nlohmann still does what is rare and subtle (floating point numbers, non-ASCII text
// and its validation), this writer only takes the common cases (ASCII strings, integers, containers) without
// nlohmann's per-character state machine.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <string>
#include <string_view>

#include "wire/models.h"

namespace dispatch::wire {

// Appends `j` as compact JSON; invalid UTF-8 becomes U+FFFD (as dumpJson).
void appendJson(std::string &out, const Json &j);
// Appends `s` as a JSON string literal (quotes included).
void appendJsonString(std::string &out, std::string_view s);

// A Run as to_json(Run) + dumpJson would write it, without building the JSON tree (input, output and the
// HTTP context are not copied).
std::string runJson(const Run &run);

} // namespace dispatch::wire
