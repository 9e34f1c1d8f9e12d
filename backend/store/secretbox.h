// Secret values encrypted at rest: AES-256-GCM with a fresh random 96-bit nonce per value, under one 32-byte
// key kept in a key file of the data directory (created 0600; an existing one that other users can access is
// refused). A sealed value is "v1:" + base64(nonce | ciphertext | tag); the version prefix is also
// authenticated. SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "core/error.h"

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

namespace dispatch::store {

class SecretBox
{
public:
    static constexpr std::size_t kKeyBytes = 32;

    // Reads the key file, or creates it (32 random bytes, mode 0600 whatever the umask) when it does not
    // exist. Refused (500): a key file that is not a regular file, is accessible by group or others, or has
    // the wrong size.
    static Result<SecretBox> openOrCreate(const std::filesystem::path &keyFile);

    SecretBox(SecretBox &&other) noexcept;
    SecretBox &operator=(SecretBox &&other) noexcept;
    SecretBox(const SecretBox &) = delete;
    SecretBox &operator=(const SecretBox &) = delete;
    ~SecretBox(); // wipes the key

    // Never fails short of OpenSSL itself failing (no entropy, no memory); then the process aborts rather
    // than store a secret unencrypted.
    std::string seal(std::string_view plaintext) const;
    // Error (500) when the value is not a sealed value or fails authentication (wrong key file, or
    // tampering).
    Result<std::string> open(std::string_view sealed) const;

private:
    explicit SecretBox(const std::array<unsigned char, kKeyBytes> &key);

    std::array<unsigned char, kKeyBytes> m_key{};
};

} // namespace dispatch::store
