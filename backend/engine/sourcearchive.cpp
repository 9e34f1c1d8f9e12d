// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/sourcearchive.h"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <array>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <fcntl.h>
#include <functional>
#include <map>
#include <optional>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <unordered_map>

namespace dispatch::engine {
namespace {

namespace fs = std::filesystem;

// Below this much decompressed output the ratio says nothing: small sources compress very well.
constexpr uint64_t kRatioFloorBytes = 16ULL << 20;
constexpr int kMaxSymlinkFollows = 40; // the kernel's own limit
constexpr std::size_t kMaxNameBytes = 4096;
constexpr std::size_t kMaxComponentBytes = 255;
constexpr std::size_t kIoChunk = std::size_t{64} * 1024;

// ---------------------------------------------------------------------------------------------------------------
// base64

constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> makeBase64Values()
{
    std::array<int8_t, 256> values{};
    values.fill(-1);
    for (int i = 0; i < 64; ++i)
        values[static_cast<unsigned char>(kBase64Alphabet[i])] = static_cast<int8_t>(i);
    return values;
}
constexpr std::array<int8_t, 256> kBase64Values = makeBase64Values();

bool isAsciiSpace(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\v';
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

std::string errnoText(int err)
{
    return std::generic_category().message(err);
}

std::string sizeText(uint64_t bytes)
{
    if (bytes >= (1ULL << 20) && bytes % (1ULL << 20) == 0)
        return std::to_string(bytes >> 20) + " MiB";
    return std::to_string(bytes) + " bytes";
}

bool isValidUtf8(std::string_view s)
{
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > s.size())
            return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF.
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

// An entry name as it may appear in an error message: bounded, and valid printable UTF-8 (the message ends up
// in a JSON body).
std::string displayName(std::string_view name)
{
    constexpr std::size_t kMaxShown = 200;
    const bool utf8 = isValidUtf8(name);
    std::string out;
    for (std::size_t i = 0; i < name.size() && out.size() < kMaxShown; ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (c < 0x20 || c == 0x7F || (c >= 0x80 && !utf8)) {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (out.size() >= kMaxShown) {
        // Never cut a multi-byte sequence in half.
        while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
            out.pop_back();
        if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0)
            out.pop_back();
        out += "...";
    }
    return out;
}

ApiError entryError(std::string_view name, std::string_view why)
{
    return ApiError::badRequest("source archive entry \"" + displayName(name) + "\" " + std::string(why));
}

ApiError corruptError(struct archive *a)
{
    const char *detail = archive_error_string(a);
    return ApiError::badRequest(std::string("source archive is truncated or corrupt: ") +
                                (detail ? displayName(detail) : std::string("invalid compressed data")));
}

ApiError notAnArchiveError()
{
    return ApiError::badRequest("source is not a gzip-compressed tar archive");
}

std::vector<std::string> splitPath(std::string_view path)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t slash = std::min(path.find('/', start), path.size());
        parts.emplace_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    return parts;
}

std::string joinPath(const std::vector<std::string> &components, std::size_t count)
{
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
        if (i)
            out += '/';
        out += components[i];
    }
    return out;
}

std::string joinPath(const std::vector<std::string> &components)
{
    return joinPath(components, components.size());
}

// "./a//b/" -> {a, b}; "./" -> {} (the root). The reason is returned when the name is not acceptable.
std::optional<std::string> normalizeName(std::string_view name, std::vector<std::string> &components)
{
    components.clear();
    if (name.empty())
        return "has an empty name";
    if (name.size() > kMaxNameBytes)
        return "has a name longer than " + std::to_string(kMaxNameBytes) + " bytes";
    if (!isValidUtf8(name))
        return "has a name that is not valid UTF-8";
    if (name.front() == '/')
        return "has an absolute path";
    for (std::string &part : splitPath(name)) {
        if (part.empty() || part == ".")
            continue;
        if (part == "..")
            return "has a '..' path component";
        if (part.size() > kMaxComponentBytes)
            return "has a path component longer than " + std::to_string(kMaxComponentBytes) + " bytes";
        components.push_back(std::move(part));
    }
    return std::nullopt;
}

class UniqueFd
{
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : m_fd(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd &&other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    UniqueFd &operator=(UniqueFd &&other) noexcept
    {
        if (this != &other) {
            reset();
            m_fd = std::exchange(other.m_fd, -1);
        }
        return *this;
    }
    UniqueFd(const UniqueFd &) = delete;
    UniqueFd &operator=(const UniqueFd &) = delete;

    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }
    void reset()
    {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
    }
    // close() with its result: for a written file, a late write error can show up only here.
    int close()
    {
        const int fd = std::exchange(m_fd, -1);
        return fd >= 0 ? ::close(fd) : 0;
    }

private:
    int m_fd = -1;
};

// ---------------------------------------------------------------------------------------------------------------
// The tree an archive describes, built before anything is written, so that extraction and listing apply the
// same rules: nothing is written through a link, names are unique, and no link leads out of the tree.

enum class NodeKind
{
    Directory,
    File,
    Symlink
};

class TreeModel
{
public:
    struct Node
    {
        NodeKind kind = NodeKind::Directory;
        uint64_t size = 0;     // files
        std::string target;    // symlinks: the link text
        std::string entryName; // as in the archive, for messages
    };

    // Adds path (and its missing parent directories). Returns the reason when it conflicts with the tree so
    // far.
    std::optional<std::string> add(const std::vector<std::string> &components, Node node)
    {
        for (std::size_t depth = 1; depth < components.size(); ++depth) {
            const std::string parent = joinPath(components, depth);
            const auto it = m_nodes.find(parent);
            if (it == m_nodes.end()) {
                m_nodes.emplace(parent, Node{NodeKind::Directory, 0, {}, {}});
            } else if (it->second.kind != NodeKind::Directory) {
                return "is inside \"" + displayName(parent) + "\", which is " +
                       (it->second.kind == NodeKind::Symlink ? "a symbolic link" : "a file");
            }
        }
        const std::string path = joinPath(components);
        const auto it = m_nodes.find(path);
        if (it != m_nodes.end()) {
            if (it->second.kind == NodeKind::Directory && node.kind == NodeKind::Directory)
                return std::nullopt;
            return "appears twice in the archive";
        }
        m_nodes.emplace(path, std::move(node));
        return std::nullopt;
    }

    const Node *find(const std::string &path) const
    {
        const auto it = m_nodes.find(path);
        return it == m_nodes.end() ? nullptr : &it->second;
    }

    // Each symlink resolved the way the kernel would, following the other symlinks of the tree; returns the
    // first one that leads out of the tree or loops, with the reason. (Checking each link on its own is not
    // enough: "a/b -> .." is harmless alone, but turns "c -> a/b/.." into a way out.)
    std::optional<std::pair<std::string, std::string>> findEscapingSymlink() const
    {
        for (const auto &[path, node] : m_nodes) {
            if (node.kind != NodeKind::Symlink)
                continue;
            std::vector<std::string> stack = splitPath(path);
            stack.pop_back(); // relative to the directory holding the link
            std::deque<std::string> pending;
            for (std::string &part : splitPath(node.target))
                pending.push_back(std::move(part));
            int follows = 0;
            while (!pending.empty()) {
                std::string part = std::move(pending.front());
                pending.pop_front();
                if (part.empty() || part == ".")
                    continue;
                if (part == "..") {
                    if (stack.empty())
                        return std::make_pair(node.entryName,
                                              "is a symbolic link that leads out of the source "
                                              "tree through other links");
                    stack.pop_back();
                    continue;
                }
                stack.push_back(std::move(part));
                const Node *next = find(joinPath(stack));
                if (next && next->kind == NodeKind::Symlink) {
                    if (++follows > kMaxSymlinkFollows)
                        return std::make_pair(node.entryName, "is a symbolic link that loops");
                    stack.pop_back();
                    const std::vector<std::string> parts = splitPath(next->target);
                    pending.insert(pending.begin(), parts.begin(), parts.end());
                }
            }
        }
        return std::nullopt;
    }

private:
    std::map<std::string, Node> m_nodes; // ordered, so the first error reported does not depend on hashing
};

// ---------------------------------------------------------------------------------------------------------------
// Reading an untrusted archive: every rule and limit is enforced here, for extraction and listing alike.

enum class EntryKind
{
    Directory,
    File,
    Symlink,
    Hardlink
};

struct Entry
{
    std::string name; // as in the archive, for messages
    std::vector<std::string> components;
    std::string path; // normalized, relative, without "./"
    EntryKind kind = EntryKind::File;
    bool executable = false;
    uint64_t size = 0;                   // files: the declared (logical) size
    std::string linkTarget;              // symlinks: the link text
    std::vector<std::string> hardlinkTo; // hard links: the normalized target
};

using DataSink = std::function<VoidResult(uint64_t offset, std::string_view data)>;

class SourceReader
{
public:
    SourceReader(std::string_view data, const ExtractLimits &limits) : m_data(data), m_limits(limits) {}
    ~SourceReader()
    {
        if (m_archive)
            archive_read_free(m_archive);
    }
    SourceReader(const SourceReader &) = delete;
    SourceReader &operator=(const SourceReader &) = delete;

    VoidResult open()
    {
        m_archive = archive_read_new();
        if (!m_archive)
            return ApiError::internal("cannot allocate an archive reader");
        // Only gzip: support_filter_all would also run external programs (lrzip, lzop, grzip) on request
        // data. A plain tar is accepted too (libarchive always knows "no compression").
        if (archive_read_support_filter_gzip(m_archive) != ARCHIVE_OK ||
            archive_read_support_format_tar(m_archive) != ARCHIVE_OK)
            return ApiError::internal(
                std::string("cannot set up the archive reader: ") +
                (archive_error_string(m_archive) ? archive_error_string(m_archive) : ""));
        if (archive_read_open_memory(m_archive, m_data.data(), m_data.size()) != ARCHIVE_OK) {
            // libarchive reports "no format recognised" with ARCHIVE_ERRNO_FILE_FORMAT (EILSEQ on Linux);
            // anything else here is a damaged compressed stream.
            if (archive_errno(m_archive) == EILSEQ)
                return notAnArchiveError();
            return corruptError(m_archive);
        }
        return Ok{};
    }

    // The next entry, or nullopt at the end of the archive. The root directory entry ("./") is skipped.
    Result<std::optional<Entry>> next()
    {
        for (;;) {
            if (m_ended)
                return std::optional<Entry>{};
            struct archive_entry *ae = nullptr;
            const int r = archive_read_next_header(m_archive, &ae);
            if (r == ARCHIVE_EOF)
                return std::optional<Entry>{};
            // ARCHIVE_WARN is fine: libarchive says so for names it cannot convert to the current locale, and
            // then hands over the raw bytes, which is what we want.
            if (r < ARCHIVE_WARN)
                return corruptError(m_archive);
            if (++m_entryCount > m_limits.maxEntries)
                return ApiError::badRequest("source archive has more than " +
                                            std::to_string(m_limits.maxEntries) + " entries");
            if (auto ratio = checkRatio(); !ratio)
                return ratio.error();

            Result<std::optional<Entry>> entry = describe(ae);
            if (!entry || entry.value())
                return entry;
            // the root directory: nothing to do
        }
    }

    // Streams the content of the File entry just returned by next().
    VoidResult readData(const Entry &entry, const DataSink &sink)
    {
        uint64_t received = 0;
        for (;;) {
            const void *buffer = nullptr;
            size_t length = 0;
            la_int64_t offset = 0;
            const int r = archive_read_data_block(m_archive, &buffer, &length, &offset);
            if (r == ARCHIVE_EOF)
                return Ok{};
            if (r < ARCHIVE_WARN) {
                // The Dispatch CLI may stop right after the last entry's data, without its padding to the
                // next 512-byte block; libarchive then fails consuming the padding. All of the data is there,
                // so this is the end of the archive, provided the compressed stream itself is complete.
                if (received >= entry.size && compressedStreamIsComplete()) {
                    m_ended = true;
                    return Ok{};
                }
                return corruptError(m_archive);
            }
            if (offset < 0)
                return corruptError(m_archive);
            const uint64_t end = static_cast<uint64_t>(offset) + length;
            if (end > m_limits.maxFileBytes)
                return entryError(entry.name, "is larger than " + sizeText(m_limits.maxFileBytes));
            if (end > entry.size)
                return entryError(entry.name, "has more data than its declared size");
            m_dataBytes += length;
            if (m_dataBytes > m_limits.maxTotalBytes)
                return totalTooLarge();
            if (auto ratio = checkRatio(); !ratio)
                return ratio;
            received = std::max(received, end);
            if (length > 0) {
                if (auto written = sink(static_cast<uint64_t>(offset),
                                        std::string_view(static_cast<const char *>(buffer), length));
                    !written)
                    return written;
            }
        }
    }

    VoidResult finish() const
    {
        if (const auto escape = m_tree.findEscapingSymlink())
            return entryError(escape->first, escape->second);
        return Ok{};
    }

private:
    Result<std::optional<Entry>> describe(struct archive_entry *ae)
    {
        Entry entry;
        const char *rawName = archive_entry_pathname(ae);
        entry.name = rawName ? rawName : "";
        if (auto why = normalizeName(entry.name, entry.components))
            return entryError(entry.name, *why);
        entry.path = joinPath(entry.components);

        const la_int64_t declared = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
        if (declared < 0)
            return entryError(entry.name, "has a negative size");
        entry.size = static_cast<uint64_t>(declared);
        // Checked on the declared size too, so that a bomb is refused before anything is decompressed.
        if (entry.size > m_limits.maxFileBytes)
            return entryError(entry.name, "is larger than " + sizeText(m_limits.maxFileBytes));
        m_declaredBytes += entry.size;
        if (m_declaredBytes > m_limits.maxTotalBytes)
            return totalTooLarge();

        const mode_t perm = archive_entry_perm(ae);
        entry.executable = (perm & 0111) != 0;

        TreeModel::Node node;
        node.entryName = entry.name;
        if (const char *hardlink = archive_entry_hardlink(ae)) {
            entry.kind = EntryKind::Hardlink;
            if (auto why = normalizeName(hardlink, entry.hardlinkTo))
                return entryError(entry.name, "is a hard link whose target " + *why);
            const TreeModel::Node *target = m_tree.find(joinPath(entry.hardlinkTo));
            if (!target || target->kind != NodeKind::File)
                return entryError(entry.name, "is a hard link to \"" + displayName(hardlink) +
                                                  "\", which is not a regular file earlier in the archive");
            // A listing copies the content once more; count it so that links cannot multiply a large file.
            m_dataBytes += target->size;
            if (m_dataBytes > m_limits.maxTotalBytes)
                return totalTooLarge();
            entry.size = target->size;
            node.kind = NodeKind::File;
            node.size = target->size;
        } else {
            switch (archive_entry_filetype(ae)) {
            case AE_IFREG:
                entry.kind = EntryKind::File;
                node.kind = NodeKind::File;
                node.size = entry.size;
                break;
            case AE_IFDIR:
                entry.kind = EntryKind::Directory;
                node.kind = NodeKind::Directory;
                break;
            case AE_IFLNK: {
                entry.kind = EntryKind::Symlink;
                const char *target = archive_entry_symlink(ae);
                entry.linkTarget = target ? target : "";
                if (auto why = checkSymlinkTarget(entry))
                    return entryError(entry.name, *why);
                node.kind = NodeKind::Symlink;
                node.target = entry.linkTarget;
                break;
            }
            case AE_IFCHR:
                return entryError(entry.name,
                                  "is a character device; only files, directories and links are allowed");
            case AE_IFBLK:
                return entryError(entry.name,
                                  "is a block device; only files, directories and links are allowed");
            case AE_IFIFO:
                return entryError(entry.name, "is a fifo; only files, directories and links are allowed");
            case AE_IFSOCK:
                return entryError(entry.name, "is a socket; only files, directories and links are allowed");
            default:
                return entryError(entry.name,
                                  "has an unknown type; only files, directories and links are allowed");
            }
        }

        if (entry.components.empty()) {
            if (entry.kind != EntryKind::Directory)
                return entryError(entry.name, "names the archive root but is not a directory");
            return std::optional<Entry>{};
        }
        if (auto why = m_tree.add(entry.components, std::move(node)))
            return entryError(entry.name, *why);
        return std::optional<Entry>{std::move(entry)};
    }

    // The link on its own: relative, and not climbing above the root from where it sits.
    static std::optional<std::string> checkSymlinkTarget(const Entry &entry)
    {
        const std::string &target = entry.linkTarget;
        if (target.empty())
            return std::string("is a symbolic link with an empty target");
        if (target.size() > kMaxNameBytes || !isValidUtf8(target))
            return std::string("is a symbolic link with an unusable target");
        if (target.front() == '/')
            return "is a symbolic link to an absolute path (" + displayName(target) + ")";
        std::size_t depth = entry.components.empty() ? 0 : entry.components.size() - 1;
        for (const std::string &part : splitPath(target)) {
            if (part.empty() || part == ".")
                continue;
            if (part == "..") {
                if (depth == 0)
                    return "is a symbolic link that leads out of the source tree (" + displayName(target) +
                           ")";
                --depth;
            } else {
                ++depth;
            }
        }
        return std::nullopt;
    }

    VoidResult checkRatio() const
    {
        if (m_limits.maxCompressionRatio <= 0)
            return Ok{};
        // Filter 0 is the decompressor's output: every byte the tar reader consumed, skipped data included.
        const la_int64_t out = archive_filter_bytes(m_archive, 0);
        if (out <= 0 || static_cast<uint64_t>(out) <= kRatioFloorBytes)
            return Ok{};
        if (static_cast<double>(out) > m_limits.maxCompressionRatio * static_cast<double>(m_data.size())) {
            char ratio[32];
            std::snprintf(ratio, sizeof ratio, "%g", m_limits.maxCompressionRatio);
            return ApiError::badRequest(std::string("source archive expands more than ") + ratio +
                                        " times its compressed size (a compression bomb?)");
        }
        return Ok{};
    }

    ApiError totalTooLarge() const
    {
        return ApiError::badRequest("source archive expands to more than " +
                                    sizeText(m_limits.maxTotalBytes));
    }

    // Decompresses the whole input again, as raw data, to tell "the tar stops early" (acceptable) from "the
    // compressed stream is cut or damaged" (not): libarchive reports both the same way while skipping
    // padding.
    bool compressedStreamIsComplete() const
    {
        struct archive *raw = archive_read_new();
        if (!raw)
            return false;
        bool complete = archive_read_support_filter_gzip(raw) == ARCHIVE_OK &&
                        archive_read_support_format_raw(raw) == ARCHIVE_OK &&
                        archive_read_open_memory(raw, m_data.data(), m_data.size()) == ARCHIVE_OK;
        struct archive_entry *ae = nullptr;
        complete = complete && archive_read_next_header(raw, &ae) == ARCHIVE_OK;
        // The tar reader already decompressed this much; a stream that goes on much further is not
        // "complete".
        const la_int64_t seen = archive_filter_bytes(m_archive, 0);
        const uint64_t bound = static_cast<uint64_t>(std::max<la_int64_t>(seen, 0)) + (uint64_t{1} << 20);
        uint64_t total = 0;
        while (complete) {
            const void *buffer = nullptr;
            size_t length = 0;
            la_int64_t offset = 0;
            const int r = archive_read_data_block(raw, &buffer, &length, &offset);
            if (r == ARCHIVE_EOF)
                break;
            total += length;
            if (r < ARCHIVE_WARN || total > bound)
                complete = false;
        }
        archive_read_free(raw);
        return complete;
    }

    std::string_view m_data;
    const ExtractLimits &m_limits;
    struct archive *m_archive = nullptr;
    TreeModel m_tree;
    uint64_t m_entryCount = 0;
    uint64_t m_declaredBytes = 0;
    uint64_t m_dataBytes = 0;
    bool m_ended = false; // the tar stopped inside the last entry's padding
};

// ---------------------------------------------------------------------------------------------------------------
// Writing the checked entries under one directory descriptor; no path is ever resolved through a link.

class DiskWriter
{
public:
    explicit DiskWriter(int rootFd) : m_root(rootFd) {}

    VoidResult write(SourceReader &reader, const Entry &entry)
    {
        Result<UniqueFd> parent = openParent(entry);
        if (!parent)
            return parent.error();
        const int dirFd = parent.value().valid() ? parent.value().get() : m_root;
        const std::string &leaf = entry.components.back();
        switch (entry.kind) {
        case EntryKind::Directory: {
            Result<UniqueFd> made = makeDirectory(entry, dirFd, leaf);
            if (!made)
                return made.error();
            return Ok{};
        }
        case EntryKind::File:
            return writeFile(reader, entry, dirFd, leaf);
        case EntryKind::Symlink:
            if (::symlinkat(entry.linkTarget.c_str(), dirFd, leaf.c_str()) != 0)
                return fsError(entry, "cannot create the symbolic link", errno);
            return Ok{};
        case EntryKind::Hardlink:
            return makeHardlink(entry, dirFd, leaf);
        }
        return ApiError::internal("unknown entry kind");
    }

private:
    // The directory holding the entry, creating missing ones; an invalid fd means the root itself.
    Result<UniqueFd> openParent(const Entry &entry)
    {
        UniqueFd current;
        for (std::size_t i = 0; i + 1 < entry.components.size(); ++i) {
            const int at = current.valid() ? current.get() : m_root;
            Result<UniqueFd> next = makeDirectory(entry, at, entry.components[i]);
            if (!next)
                return next.error();
            current = std::move(next.value());
        }
        return current;
    }

    // mkdir (or reuse an existing real directory), then open it without following links and set 0755.
    Result<UniqueFd> makeDirectory(const Entry &entry, int at, const std::string &name)
    {
        if (::mkdirat(at, name.c_str(), 0755) != 0 && errno != EEXIST)
            return fsError(entry, "cannot create directory \"" + displayName(name) + "\"", errno);
        UniqueFd fd(::openat(at, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd.valid())
            return fsError(entry, "cannot open directory \"" + displayName(name) + "\"", errno);
        if (::fchmod(fd.get(), 0755) != 0)
            return fsError(entry, "cannot set the mode of directory \"" + displayName(name) + "\"", errno);
        return fd;
    }

    VoidResult writeFile(SourceReader &reader, const Entry &entry, int dirFd, const std::string &leaf)
    {
        UniqueFd fd(
            ::openat(dirFd, leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd.valid())
            return fsError(entry, "cannot create the file", errno);
        const int out = fd.get();
        VoidResult copied = reader.readData(entry, [&](uint64_t offset, std::string_view data) -> VoidResult {
            while (!data.empty()) {
                const ssize_t n = ::pwrite(out, data.data(), data.size(), static_cast<off_t>(offset));
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    return fsError(entry, "cannot write the file", n < 0 ? errno : EIO);
                data.remove_prefix(static_cast<std::size_t>(n));
                offset += static_cast<uint64_t>(n);
            }
            return Ok{};
        });
        if (!copied)
            return copied;
        // A sparse file may end in a hole that no data block covers.
        if (::ftruncate(out, static_cast<off_t>(entry.size)) != 0)
            return fsError(entry, "cannot set the file size", errno);
        if (::fchmod(out, entry.executable ? 0755 : 0644) != 0)
            return fsError(entry, "cannot set the file mode", errno);
        if (fd.close() != 0)
            return fsError(entry, "cannot write the file", errno);
        return Ok{};
    }

    VoidResult makeHardlink(const Entry &entry, int dirFd, const std::string &leaf)
    {
        // The target is a regular file of this archive (checked by the reader); reach it without links too.
        Entry targetEntry;
        targetEntry.name = entry.name;
        targetEntry.components = entry.hardlinkTo;
        Result<UniqueFd> targetParent = openParent(targetEntry);
        if (!targetParent)
            return targetParent.error();
        const int targetDir = targetParent.value().valid() ? targetParent.value().get() : m_root;
        if (::linkat(targetDir, entry.hardlinkTo.back().c_str(), dirFd, leaf.c_str(), 0) != 0)
            return fsError(entry, "cannot create the hard link", errno);
        return Ok{};
    }

    static ApiError fsError(const Entry &entry, const std::string &what, int err)
    {
        // A name the file system refuses is the archive's fault; anything else is ours.
        if (err == ENAMETOOLONG || err == EEXIST || err == ELOOP || err == ENOTDIR)
            return entryError(entry.name, "cannot be extracted: " + what + ": " + errnoText(err));
        return ApiError::internal("extracting source entry \"" + displayName(entry.name) + "\": " + what +
                                  ": " + errnoText(err));
    }

    int m_root;
};

// Removes what an extraction left behind; destDir itself only if this extraction created it.
void discardExtraction(const fs::path &destDir, bool createdDest)
{
    std::error_code ec;
    if (createdDest) {
        fs::remove_all(destDir, ec);
        return;
    }
    for (fs::directory_iterator it(destDir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code ignored;
        fs::remove_all(it->path(), ignored);
    }
}

// Reads the whole archive with every check, keeping nothing.
VoidResult validateArchive(std::string_view tarGz, const ExtractLimits &limits)
{
    SourceReader reader(tarGz, limits);
    if (auto opened = reader.open(); !opened)
        return opened;
    const DataSink discard = [](uint64_t, std::string_view) -> VoidResult { return Ok{}; };
    for (;;) {
        Result<std::optional<Entry>> next = reader.next();
        if (!next)
            return next.error();
        if (!next.value())
            break;
        if (next.value()->kind == EntryKind::File) {
            if (auto read = reader.readData(*next.value(), discard); !read)
                return read;
        }
    }
    return reader.finish();
}

la_ssize_t appendToString(struct archive *, void *clientData, const void *buffer, size_t length)
{
    static_cast<std::string *>(clientData)->append(static_cast<const char *>(buffer), length);
    return static_cast<la_ssize_t>(length);
}

} // namespace

// -------------------------------------------------------------------------------------------------------------------

std::string encodeBase64(std::string_view bytes)
{
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const uint32_t v = (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                           (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                           static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
        out += kBase64Alphabet[(v >> 18) & 0x3F];
        out += kBase64Alphabet[(v >> 12) & 0x3F];
        out += kBase64Alphabet[(v >> 6) & 0x3F];
        out += kBase64Alphabet[v & 0x3F];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
        if (rest == 2)
            v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
        out += kBase64Alphabet[(v >> 18) & 0x3F];
        out += kBase64Alphabet[(v >> 12) & 0x3F];
        out += rest == 2 ? kBase64Alphabet[(v >> 6) & 0x3F] : '=';
        out += '=';
    }
    return out;
}

Result<std::string> decodeBase64(std::string_view text)
{
    const auto invalid = [] { return ApiError::badRequest("source is not valid base64"); };
    std::string out;
    out.reserve(text.size() / 4 * 3);
    uint32_t bits = 0;
    int bitCount = 0;
    std::size_t symbols = 0;
    std::size_t padding = 0;
    for (const char c : text) {
        if (isAsciiSpace(c))
            continue;
        if (c == '=') {
            ++padding;
            continue;
        }
        const int8_t value = kBase64Values[static_cast<unsigned char>(c)];
        if (value < 0 || padding > 0) // unknown character, or data after the padding
            return invalid();
        ++symbols;
        bits = (bits << 6) | static_cast<uint32_t>(value);
        bitCount += 6;
        if (bitCount >= 8) {
            bitCount -= 8;
            out += static_cast<char>((bits >> bitCount) & 0xFF);
            bits &= (1U << bitCount) - 1;
        }
    }
    // A lone symbol in the last group carries no whole byte; padding, when present, must complete the group.
    if (symbols % 4 == 1 || padding > 2 || (padding > 0 && (symbols + padding) % 4 != 0))
        return invalid();
    return out;
}

Result<ExtractSummary> extractSource(std::string_view tarGz, const std::filesystem::path &destDir,
                                     const ExtractLimits &limits)
{
    std::error_code ec;
    if (fs::exists(destDir, ec)) {
        if (!fs::is_directory(destDir, ec))
            return ApiError::internal(destDir.string() + " is not a directory");
        if (!fs::is_empty(destDir, ec) || ec)
            return ApiError::internal("cannot extract a source into " + destDir.string() +
                                      ": the directory is not empty");
    }
    // A dry run first, without the disk: a refused archive never creates a single file, whatever the reason
    // (a link chain only found at the end, a bomb, the 10001st entry). Decompressing twice is cheap next to
    // that.
    if (auto checked = validateArchive(tarGz, limits); !checked)
        return checked.error();

    const bool createdDest = fs::create_directories(destDir, ec);
    if (ec)
        return ApiError::internal("cannot create " + destDir.string() + ": " + ec.message());
    UniqueFd root(::open(destDir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) {
        const int err = errno;
        discardExtraction(destDir, createdDest);
        return ApiError::internal("cannot open " + destDir.string() + ": " + errnoText(err));
    }

    // The same checks run again while writing: the dry run is an optimisation, not what makes this safe.
    const auto run = [&]() -> Result<ExtractSummary> {
        SourceReader reader(tarGz, limits);
        if (auto opened = reader.open(); !opened)
            return opened.error();
        DiskWriter writer(root.get());
        ExtractSummary summary;
        for (;;) {
            Result<std::optional<Entry>> next = reader.next();
            if (!next)
                return next.error();
            if (!next.value())
                break;
            const Entry &entry = *next.value();
            if (auto written = writer.write(reader, entry); !written)
                return written.error();
            if (entry.kind == EntryKind::File || entry.kind == EntryKind::Hardlink) {
                summary.files.push_back(entry.path);
                summary.totalBytes += entry.size;
            }
        }
        if (auto checked = reader.finish(); !checked)
            return checked.error();
        std::sort(summary.files.begin(), summary.files.end());
        return summary;
    };

    Result<ExtractSummary> result = run();
    root.reset();
    if (!result)
        discardExtraction(destDir, createdDest);
    return result;
}

Result<std::vector<std::pair<std::string, std::string>>> listTarGz(std::string_view tarGz,
                                                                   const ExtractLimits &limits)
{
    SourceReader reader(tarGz, limits);
    if (auto opened = reader.open(); !opened)
        return opened.error();
    std::vector<std::pair<std::string, std::string>> files;
    std::unordered_map<std::string, std::size_t> indexByPath;
    for (;;) {
        Result<std::optional<Entry>> next = reader.next();
        if (!next)
            return next.error();
        if (!next.value())
            break;
        const Entry &entry = *next.value();
        if (entry.kind == EntryKind::Hardlink) {
            const auto it = indexByPath.find(joinPath(entry.hardlinkTo));
            if (it == indexByPath.end()) // the reader checked it; "cannot happen"
                return ApiError::internal("hard link target missing from the listing");
            std::string content = files[it->second].second;
            indexByPath[entry.path] = files.size();
            files.emplace_back(entry.path, std::move(content));
            continue;
        }
        if (entry.kind != EntryKind::File)
            continue;
        std::string content;
        VoidResult copied = reader.readData(entry, [&](uint64_t offset, std::string_view data) -> VoidResult {
            if (offset > content.size())
                content.resize(offset, '\0'); // a hole in a sparse file
            content.replace(offset, std::min<std::size_t>(data.size(), content.size() - offset), data);
            return Ok{};
        });
        if (!copied)
            return copied.error();
        if (content.size() < entry.size)
            content.resize(entry.size, '\0');
        indexByPath[entry.path] = files.size();
        files.emplace_back(entry.path, std::move(content));
    }
    if (auto checked = reader.finish(); !checked)
        return checked.error();
    return files;
}

Result<std::string> createTarGz(const std::filesystem::path &dir)
{
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return ApiError::badRequest(dir.string() + " is not a directory");

    struct Item
    {
        std::string relative;
        bool isDirectory;
    };
    std::vector<Item> items;
    for (fs::recursive_directory_iterator it(dir, ec), end; it != end; it.increment(ec)) {
        if (ec)
            break;
        const fs::file_status status = it->symlink_status(ec);
        if (ec)
            break;
        if (status.type() != fs::file_type::directory && status.type() != fs::file_type::regular)
            continue; // links and special files are not part of a source
        items.push_back(
            {it->path().lexically_relative(dir).generic_string(), status.type() == fs::file_type::directory});
    }
    if (ec)
        return ApiError::internal("cannot read " + dir.string() + ": " + ec.message());
    // Byte order puts every directory before its content and makes the archive reproducible.
    std::sort(items.begin(), items.end(),
              [](const Item &a, const Item &b) { return a.relative < b.relative; });

    std::string out;
    struct archive *a = archive_write_new();
    if (!a)
        return ApiError::internal("cannot allocate an archive writer");
    const auto fail = [&](const std::string &what) {
        const char *detail = archive_error_string(a);
        std::string message = what + (detail ? std::string(": ") + detail : std::string());
        archive_write_free(a);
        return ApiError::internal(message);
    };
    struct archive_entry *ae = archive_entry_new();
    if (!ae)
        return fail("cannot allocate an archive entry");
    const auto failEntry = [&](const std::string &what) {
        archive_entry_free(ae);
        return fail(what);
    };
    // pax_restricted: plain ustar, with pax headers only for long or non-ASCII names.
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open2(a, &out, nullptr, appendToString, nullptr, nullptr) != ARCHIVE_OK)
        return failEntry("cannot set up the archive writer");

    std::string buffer(kIoChunk, '\0');
    for (const Item &item : items) {
        const fs::path full = dir / item.relative;
        archive_entry_clear(ae);
        // Raw bytes: archive_entry_set_pathname_utf8 crashes libarchive 3.6 in the C locale.
        archive_entry_copy_pathname(ae, ("./" + item.relative).c_str());
        UniqueFd fd;
        struct stat st
        {
        };
        if (item.isDirectory) {
            archive_entry_set_filetype(ae, AE_IFDIR);
            archive_entry_set_perm(ae, 0755);
            archive_entry_set_size(ae, 0);
        } else {
            fd = UniqueFd(::open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
            if (!fd.valid() || ::fstat(fd.get(), &st) != 0)
                return failEntry("cannot read " + full.string() + ": " + errnoText(errno));
            if (!S_ISREG(st.st_mode))
                continue;
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_perm(ae, (st.st_mode & 0111) ? 0755 : 0644);
            archive_entry_set_size(ae, st.st_size);
            archive_entry_set_mtime(ae, st.st_mtim.tv_sec, 0);
        }
        // ARCHIVE_WARN: a name that is not valid in the current locale is stored as raw bytes, which is fine.
        if (archive_write_header(a, ae) < ARCHIVE_WARN)
            return failEntry("cannot add " + full.string() + " to the archive");
        if (item.isDirectory)
            continue;
        off_t copied = 0;
        for (;;) {
            const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return failEntry("cannot read " + full.string() + ": " + errnoText(errno));
            if (n == 0)
                break;
            if (copied + n > st.st_size)
                return failEntry(full.string() + " grew while it was archived");
            if (archive_write_data(a, buffer.data(), static_cast<size_t>(n)) != n)
                return failEntry("cannot add " + full.string() + " to the archive");
            copied += n;
        }
        if (copied != st.st_size)
            return failEntry(full.string() + " shrank while it was archived");
    }
    archive_entry_free(ae);
    // close() writes the end-of-archive blocks and the gzip trailer.
    if (archive_write_close(a) != ARCHIVE_OK)
        return fail("cannot finish the archive");
    archive_write_free(a);
    return out;
}

} // namespace dispatch::engine
