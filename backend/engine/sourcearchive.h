// A function's source as the Dispatch CLI uploads it: standard base64 of a gzip-compressed tar whose entries
// are named "./<relative path>". The CLI often leaves out the tar end-of-archive blocks (and then possibly
// the padding of the last entry), so a tar that simply stops after its last entry is accepted; a damaged gzip
// stream is not. The archive is untrusted input: it is checked whole (names, types, links, sizes;
// ExtractLimits) before anything touches the disk, and the checks are repeated while writing.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "core/error.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dispatch::engine {

// Standard alphabet with padding. Decoding ignores ASCII whitespace (line breaks included) and accepts a
// missing final padding; anything else gives 400 "source is not valid base64".
Result<std::string> decodeBase64(std::string_view text);
std::string encodeBase64(std::string_view bytes);

struct ExtractLimits
{
    uint64_t maxTotalBytes = 256ULL << 20; // sum of the sizes of all regular files
    uint64_t maxEntries = 10000;           // tar headers, directories and links included
    uint64_t maxFileBytes = 128ULL << 20;  // one regular file
    // Decompressed tar bytes / archive bytes; checked only once more than 16 MiB came out. <= 0 disables it.
    double maxCompressionRatio = 200;
};

struct ExtractSummary
{
    std::vector<std::string>
        files;               // regular files (hard links included), relative paths without "./", sorted
    uint64_t totalBytes = 0; // their content
};

// Extracts into destDir, which is created and must be new or an empty directory. Files get 0644, or 0755 when
// the archive gives them any executable bit; directories get 0755; owners, times and special bits are
// dropped. Symbolic links and hard links are kept when they stay inside the tree. Refused with 400 (naming
// the entry and the reason): absolute paths, ".." components, links leading out of the tree, devices, fifos
// and sockets, duplicate entries, the ExtractLimits, a damaged or truncated archive, and input that is not a
// (gzip'd) tar. A refused archive creates nothing; after a failure while writing (disk full, ...) nothing
// extracted is left behind either (destDir is removed again if this call created it). A destDir that is not
// empty is a 500.
Result<ExtractSummary> extractSource(std::string_view tarGz, const std::filesystem::path &destDir,
                                     const ExtractLimits &limits = {});

// The regular files of the archive as (relative path, content), in archive order, without touching the disk.
// Same checks and limits as extractSource; a hard link is listed with its target's content.
Result<std::vector<std::pair<std::string, std::string>>> listTarGz(std::string_view tarGz,
                                                                   const ExtractLimits &limits = {});

// The inverse of extractSource: a gzip'd tar of dir with entries "./<relative path>", directories and regular
// files only (symlinks and special files are skipped), in sorted order, with the end-of-archive blocks.
Result<std::string> createTarGz(const std::filesystem::path &dir);

} // namespace dispatch::engine
