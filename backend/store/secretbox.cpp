// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/secretbox.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <memory>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace dispatch::store {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kNonceBytes = 12; // the GCM standard size
constexpr std::size_t kTagBytes = 16;
constexpr std::string_view kPrefix = "v1:";
// Binds the format version to the ciphertext: a value cannot be passed off as another version.
constexpr std::string_view kAssociatedData = "dispatch-secret-v1";
// EVP_* take int lengths; larger inputs go through in pieces (a multiple of 3 and of 4 where base64 needs
// it).
constexpr std::size_t kChunkBytes = std::size_t{48} << 20;

const char *const kAuthFailed = "secret value failed authentication (wrong key file or corrupted data)";
const char *const kNotSealed = "secret value is not a valid sealed value (corrupted data)";

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

std::string errnoText(int err)
{
    return std::generic_category().message(err);
}

std::string openSslError()
{
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0)
        return "unknown OpenSSL error";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

// For "cannot happen" failures of seal(): better to stop than to hand back something that is not encrypted.
[[noreturn]] void fatal(const char *what)
{
    std::fprintf(stderr, "dispatch-server: secret box: %s failed: %s\n", what, openSslError().c_str());
    std::abort();
}

class UniqueFd
{
public:
    explicit UniqueFd(int fd) : m_fd(fd) {}
    ~UniqueFd()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    UniqueFd(const UniqueFd &) = delete;
    UniqueFd &operator=(const UniqueFd &) = delete;
    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }
    int close() { return m_fd >= 0 ? ::close(std::exchange(m_fd, -1)) : 0; }

private:
    int m_fd;
};

// Clears a key-sized buffer however the function returns.
struct KeyBuffer
{
    std::array<unsigned char, SecretBox::kKeyBytes> bytes{};
    KeyBuffer() = default;
    KeyBuffer(const KeyBuffer &) = delete;
    KeyBuffer &operator=(const KeyBuffer &) = delete;
    ~KeyBuffer() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

std::string base64Encode(const unsigned char *data, std::size_t size)
{
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    std::string block;
    for (std::size_t done = 0; done < size;) {
        const std::size_t n = std::min(kChunkBytes, size - done);
        block.resize((n + 2) / 3 * 4 + 1);
        const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(block.data()), data + done,
                                            static_cast<int>(n));
        if (written < 0)
            fatal("EVP_EncodeBlock");
        out.append(block.data(), static_cast<std::size_t>(written));
        done += n;
    }
    return out;
}

// Strict: the exact output of base64Encode, nothing else (no whitespace, padding only at the very end).
bool base64Decode(std::string_view text, std::string &out)
{
    if (text.size() % 4 != 0)
        return false;
    std::size_t padding = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                              c == '+' || c == '/';
        if (c == '=') {
            if (i + 2 < text.size())
                return false;
            ++padding;
        } else if (!alphabet || padding > 0) {
            return false;
        }
    }
    out.clear();
    out.reserve(text.size() / 4 * 3);
    std::string block;
    for (std::size_t done = 0; done < text.size();) {
        const std::size_t n = std::min(kChunkBytes / 3 * 4, text.size() - done);
        block.resize(n / 4 * 3);
        const int decoded =
            EVP_DecodeBlock(reinterpret_cast<unsigned char *>(block.data()),
                            reinterpret_cast<const unsigned char *>(text.data() + done), static_cast<int>(n));
        if (decoded < 0)
            return false;
        out.append(block.data(), static_cast<std::size_t>(decoded));
        done += n;
    }
    // EVP_DecodeBlock counts the padding as zero bytes.
    out.resize(out.size() - padding);
    return true;
}

VoidResult readExactly(int fd, unsigned char *buffer, std::size_t size, const fs::path &keyFile)
{
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n = ::read(fd, buffer + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ApiError::internal("cannot read key file " + keyFile.string() + ": " + errnoText(errno));
        if (n == 0)
            return ApiError::internal("key file " + keyFile.string() + " is shorter than " +
                                      std::to_string(size) + " bytes");
        done += static_cast<std::size_t>(n);
    }
    return Ok{};
}

VoidResult readKey(int fd, const fs::path &keyFile, KeyBuffer &key)
{
    struct stat st
    {
    };
    if (::fstat(fd, &st) != 0)
        return ApiError::internal("cannot inspect key file " + keyFile.string() + ": " + errnoText(errno));
    if (!S_ISREG(st.st_mode))
        return ApiError::internal("key file " + keyFile.string() + " is not a regular file");
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        const char *access = (st.st_mode & 044) ? "readable" : "accessible";
        return ApiError::internal("key file " + keyFile.string() + " is " + access +
                                  " by other users (mode " + mode + "); chmod 600 it");
    }
    if (st.st_size != static_cast<off_t>(SecretBox::kKeyBytes))
        return ApiError::internal("key file " + keyFile.string() + " is not a valid key (" +
                                  std::to_string(st.st_size) + " bytes, expected " +
                                  std::to_string(SecretBox::kKeyBytes) + ")");
    return readExactly(fd, key.bytes.data(), key.bytes.size(), keyFile);
}

VoidResult writeAll(int fd, const unsigned char *data, std::size_t size, const fs::path &file)
{
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n = ::write(fd, data + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ApiError::internal("cannot write key file " + file.string() + ": " +
                                      errnoText(n < 0 ? errno : EIO));
        done += static_cast<std::size_t>(n);
    }
    return Ok{};
}

enum class CreateOutcome
{
    Created,
    AlreadyExists // someone else created it first: read theirs
};

// Writes a new key to a private temporary file and links it into place, so that the key file either does not
// exist or holds a whole key, even after a crash, and two servers starting at once agree on one key.
Result<CreateOutcome> createKeyFile(const fs::path &keyFile, KeyBuffer &key)
{
    unsigned char suffix[8];
    if (RAND_bytes(suffix, sizeof suffix) != 1 ||
        RAND_bytes(key.bytes.data(), static_cast<int>(key.bytes.size())) != 1)
        return ApiError::internal("cannot generate a secret key: " + openSslError());
    std::string tempName = keyFile.string() + ".tmp-";
    for (const unsigned char byte : suffix) {
        static constexpr char kHex[] = "0123456789abcdef";
        tempName += kHex[byte >> 4];
        tempName += kHex[byte & 0xF];
    }
    const fs::path temp(tempName);

    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid())
        return ApiError::internal("cannot create key file " + keyFile.string() + ": " + errnoText(errno));
    const auto fail = [&](ApiError error) -> Result<CreateOutcome> {
        ::unlink(temp.c_str());
        return error;
    };
    // The umask may have taken the owner's bits away: set exactly 0600.
    if (::fchmod(fd.get(), 0600) != 0)
        return fail(ApiError::internal("cannot set the mode of key file " + keyFile.string() + ": " +
                                       errnoText(errno)));
    if (auto written = writeAll(fd.get(), key.bytes.data(), key.bytes.size(), keyFile); !written)
        return fail(written.error());
    if (::fsync(fd.get()) != 0 || fd.close() != 0)
        return fail(
            ApiError::internal("cannot write key file " + keyFile.string() + ": " + errnoText(errno)));

    // link() never replaces an existing file, unlike rename().
    const bool linked = ::link(temp.c_str(), keyFile.c_str()) == 0;
    const int linkErrno = errno;
    ::unlink(temp.c_str());
    if (!linked) {
        if (linkErrno == EEXIST)
            return CreateOutcome::AlreadyExists;
        return ApiError::internal("cannot create key file " + keyFile.string() + ": " + errnoText(linkErrno));
    }
    // The new directory entry must survive a crash too, or the secrets sealed with this key would be lost.
    const fs::path parent = keyFile.has_parent_path() ? keyFile.parent_path() : fs::path(".");
    UniqueFd dir(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid() || ::fsync(dir.get()) != 0)
        return ApiError::internal("cannot sync directory " + parent.string() + ": " + errnoText(errno));
    return CreateOutcome::Created;
}

} // namespace

Result<SecretBox> SecretBox::openOrCreate(const std::filesystem::path &keyFile)
{
    KeyBuffer key;
    // Two rounds: if another process creates the file between our open and our create, we read theirs.
    for (int round = 0; round < 2; ++round) {
        UniqueFd fd(::open(keyFile.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (fd.valid()) {
            if (auto read = readKey(fd.get(), keyFile, key); !read)
                return read.error();
            return SecretBox(key.bytes);
        }
        if (errno == ELOOP)
            return ApiError::internal("key file " + keyFile.string() +
                                      " is a symbolic link; refusing to use it");
        if (errno != ENOENT)
            return ApiError::internal("cannot open key file " + keyFile.string() + ": " + errnoText(errno));
        Result<CreateOutcome> created = createKeyFile(keyFile, key);
        if (!created)
            return created.error();
        if (created.value() == CreateOutcome::Created)
            return SecretBox(key.bytes);
    }
    return ApiError::internal("cannot open or create key file " + keyFile.string());
}

SecretBox::SecretBox(const std::array<unsigned char, kKeyBytes> &key) : m_key(key) {}

SecretBox::SecretBox(SecretBox &&other) noexcept : m_key(other.m_key)
{
    OPENSSL_cleanse(other.m_key.data(), other.m_key.size());
}

SecretBox &SecretBox::operator=(SecretBox &&other) noexcept
{
    if (this != &other) {
        m_key = other.m_key;
        OPENSSL_cleanse(other.m_key.data(), other.m_key.size());
    }
    return *this;
}

SecretBox::~SecretBox()
{
    OPENSSL_cleanse(m_key.data(), m_key.size());
}

std::string SecretBox::seal(std::string_view plaintext) const
{
    std::string blob(kNonceBytes + plaintext.size() + kTagBytes, '\0');
    auto *nonce = reinterpret_cast<unsigned char *>(blob.data());
    auto *ciphertext = nonce + kNonceBytes;
    if (RAND_bytes(nonce, static_cast<int>(kNonceBytes)) != 1)
        fatal("RAND_bytes");

    CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    if (!ctx)
        fatal("EVP_CIPHER_CTX_new");
    if (EVP_EncryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), m_key.data(), nonce, nullptr) != 1)
        fatal("EVP_EncryptInit_ex2");
    int length = 0;
    if (EVP_EncryptUpdate(ctx.get(), nullptr, &length,
                          reinterpret_cast<const unsigned char *>(kAssociatedData.data()),
                          static_cast<int>(kAssociatedData.size())) != 1)
        fatal("EVP_EncryptUpdate (associated data)");
    std::size_t done = 0;
    while (done < plaintext.size()) {
        const std::size_t n = std::min(kChunkBytes, plaintext.size() - done);
        if (EVP_EncryptUpdate(ctx.get(), ciphertext + done, &length,
                              reinterpret_cast<const unsigned char *>(plaintext.data() + done),
                              static_cast<int>(n)) != 1 ||
            length != static_cast<int>(n)) // GCM is a stream mode: output follows input exactly
            fatal("EVP_EncryptUpdate");
        done += n;
    }
    if (EVP_EncryptFinal_ex(ctx.get(), ciphertext + done, &length) != 1 || length != 0)
        fatal("EVP_EncryptFinal_ex");
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagBytes),
                            ciphertext + done) != 1)
        fatal("EVP_CTRL_AEAD_GET_TAG");
    return std::string(kPrefix) +
           base64Encode(reinterpret_cast<const unsigned char *>(blob.data()), blob.size());
}

Result<std::string> SecretBox::open(std::string_view sealed) const
{
    if (sealed.substr(0, kPrefix.size()) != kPrefix)
        return ApiError::internal(kNotSealed);
    std::string blob;
    if (!base64Decode(sealed.substr(kPrefix.size()), blob) || blob.size() < kNonceBytes + kTagBytes)
        return ApiError::internal(kNotSealed);
    const auto *nonce = reinterpret_cast<const unsigned char *>(blob.data());
    const auto *ciphertext = nonce + kNonceBytes;
    const std::size_t ciphertextSize = blob.size() - kNonceBytes - kTagBytes;
    std::array<unsigned char, kTagBytes> tag{};
    std::copy_n(ciphertext + ciphertextSize, kTagBytes, tag.begin());

    const auto failure = [](const char *what) {
        return ApiError::internal(std::string(what) + ": " + openSslError());
    };
    CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    if (!ctx)
        return failure("EVP_CIPHER_CTX_new");
    if (EVP_DecryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), m_key.data(), nonce, nullptr) != 1)
        return failure("EVP_DecryptInit_ex2");
    int length = 0;
    if (EVP_DecryptUpdate(ctx.get(), nullptr, &length,
                          reinterpret_cast<const unsigned char *>(kAssociatedData.data()),
                          static_cast<int>(kAssociatedData.size())) != 1)
        return failure("EVP_DecryptUpdate (associated data)");
    std::string plaintext(ciphertextSize, '\0');
    auto *out = reinterpret_cast<unsigned char *>(plaintext.data());
    // Unauthenticated plaintext must not outlive a failed check.
    const auto discard = [&](ApiError error) -> Result<std::string> {
        OPENSSL_cleanse(plaintext.data(), plaintext.size());
        return error;
    };
    std::size_t done = 0;
    while (done < ciphertextSize) {
        const std::size_t n = std::min(kChunkBytes, ciphertextSize - done);
        if (EVP_DecryptUpdate(ctx.get(), out + done, &length, ciphertext + done, static_cast<int>(n)) != 1 ||
            length != static_cast<int>(n))
            return discard(failure("EVP_DecryptUpdate"));
        done += n;
    }
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagBytes), tag.data()) != 1)
        return discard(failure("EVP_CTRL_AEAD_SET_TAG"));
    if (EVP_DecryptFinal_ex(ctx.get(), out + done, &length) != 1) {
        ERR_clear_error();
        return discard(ApiError::internal(kAuthFailed));
    }
    return plaintext;
}

} // namespace dispatch::store
