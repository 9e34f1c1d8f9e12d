// SPDX-License-Identifier: GPL-3.0-or-later
#include "functionsource.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace dispatch::bench {

namespace {

// Same behaviour as the fixtures: greet `name` from `place`, defaulting to Noone / Nowhere.
constexpr std::string_view kPythonHello = R"(def handle(ctx, payload):
    name = "Noone"
    place = "Nowhere"
    if isinstance(payload, dict):
        name = payload.get("name", name)
        place = payload.get("place", place)
    return {"myField": "Hello, {} from {}".format(name, place)}
)";

constexpr std::string_view kNodeHello = R"(module.exports = (ctx, payload) => {
    const input = payload || {};
    const name = input.name || 'Noone';
    const place = input.place || 'Nowhere';
    return {myField: `Hello, ${name} from ${place}`};
};
)";

la_ssize_t appendToString(struct archive *, void *clientData, const void *buffer, size_t length)
{
    static_cast<std::string *>(clientData)->append(static_cast<const char *>(buffer), length);
    return static_cast<la_ssize_t>(length);
}

} // namespace

FunctionSource loadHelloSource(std::string_view sourceDir, std::string_view runtimeDir,
                               std::string_view fileName)
{
    FunctionSource source;
    source.fileName = std::string(fileName);
    const std::filesystem::path fixture =
        std::filesystem::path(sourceDir) / "tests" / "fixtures" / "functions" / runtimeDir / fileName;
    if (std::ifstream in{fixture}) {
        std::stringstream text;
        text << in.rdbuf();
        source.text = text.str();
        source.origin = fixture.string();
        if (!source.text.empty())
            return source;
    }
    source.text = std::string(runtimeDir == "nodejs" ? kNodeHello : kPythonHello);
    source.origin = "embedded";
    return source;
}

std::string makeTarGz(const std::string &fileName, std::string_view content, std::string &error)
{
    std::string out;
    const std::unique_ptr<struct archive, decltype(&archive_write_free)> writer(archive_write_new(),
                                                                                &archive_write_free);
    const std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                                     &archive_entry_free);
    if (!writer || !entry) {
        error = "libarchive: out of memory";
        return {};
    }
    struct archive *a = writer.get();
    const auto failed = [&](const char *step) {
        error = std::string("libarchive ") + step + ": " +
                (archive_error_string(a) ? archive_error_string(a) : "?");
        return std::string();
    };
    if (archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        archive_write_set_format_pax_restricted(a) != ARCHIVE_OK)
        return failed("setup");
    // Without this libarchive pads the last block to 10 KiB; the CLI's Go tar writer does not either.
    archive_write_set_bytes_in_last_block(a, 1);
    if (archive_write_open2(a, &out, nullptr, &appendToString, nullptr, nullptr) != ARCHIVE_OK)
        return failed("open");

    const std::string entryName = "./" + fileName;
    archive_entry_set_pathname(entry.get(), entryName.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(content.size()));
    archive_entry_set_mtime(entry.get(), std::time(nullptr), 0);
    if (archive_write_header(a, entry.get()) != ARCHIVE_OK)
        return failed("header");
    if (archive_write_data(a, content.data(), content.size()) != static_cast<la_ssize_t>(content.size()))
        return failed("data");
    if (archive_write_close(a) != ARCHIVE_OK)
        return failed("close");
    return out;
}

std::string base64Encode(std::string_view bytes)
{
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                           (static_cast<uint8_t>(bytes[i + 1]) << 8) | static_cast<uint8_t>(bytes[i + 2]);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += alphabet[n & 63];
    }
    if (i + 1 == bytes.size()) {
        const uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += "==";
    } else if (i + 2 == bytes.size()) {
        const uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += '=';
    }
    return out;
}

} // namespace dispatch::bench
