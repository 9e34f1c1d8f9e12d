// The hello functions the benchmark deploys, packed the way the dispatch CLI sends them: a gzip tar with one
// entry "./<file>", base64-encoded into Function.source.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <string>
#include <string_view>

namespace dispatch::bench {

struct FunctionSource
{
    std::string fileName; // e.g. "hello.py"
    std::string text;
    std::string origin; // the fixture path it was read from, or "embedded"
};

// Reads <sourceDir>/tests/fixtures/functions/<runtimeDir>/<fileName>, or falls back to the embedded hello
// source for "python3" / "nodejs".
FunctionSource loadHelloSource(std::string_view sourceDir, std::string_view runtimeDir,
                               std::string_view fileName);

// A gzip-compressed tar holding one regular file "./<fileName>". Returns an empty string (and sets `error`)
// if libarchive fails.
std::string makeTarGz(const std::string &fileName, std::string_view content, std::string &error);

std::string base64Encode(std::string_view bytes);

} // namespace dispatch::bench
