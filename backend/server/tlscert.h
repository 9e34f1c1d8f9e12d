// TLS material for --enable-tls: a self-signed certificate generated once into the data dir when none is given
// (like Dispatch-Solo, PR #556), its SHA-256 fingerprint for the log, and the server's SSL context.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "core/error.h"

namespace dispatch::server {

struct PemCertificate
{
    std::string certificate; // PEM
    std::string privateKey;  // PEM, PKCS#8, unencrypted
};

// A P-256 key and a self-signed certificate for CN=localhost with SAN DNS:localhost, IP:127.0.0.1 and IP:::1,
// valid for one year (from an hour ago, for clock skew); serverAuth, not a CA.
Result<PemCertificate> generateSelfSignedCertificate();

struct TlsFiles
{
    std::filesystem::path certificate;
    std::filesystem::path privateKey;
    bool generated = false; // made by this call (not reused)
};

// Reuses <dir>/server.crt and <dir>/server.key when they are a valid, matching pair that is not about to expire;
// otherwise generates a new pair there (the directory 0700, the key 0600, both written atomically).
Result<TlsFiles> ensureSelfSignedCertificate(const std::filesystem::path &dir);

// The SHA-256 fingerprint of the first certificate in a PEM file: "AB:CD:...".
Result<std::string> certificateFingerprint(const std::filesystem::path &certificateFile);

// A TLS 1.2+ server context with the certificate chain and key from PEM files (checked to match).
Result<std::shared_ptr<boost::asio::ssl::context>> makeServerTlsContext(const std::filesystem::path &certificateFile,
                                                                       const std::filesystem::path &privateKeyFile);

} // namespace dispatch::server
