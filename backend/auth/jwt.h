// JWT verification with librhonabwy: the bearer tokens of an OpenID provider (discovery, a cached JWKS that is
// fetched again when a token names an unknown key) and the tokens service accounts sign with their registered
// key (Dispatch v0.1.x: iss = "<org>/<account>"). Only RS256 and ES256 are accepted: "none", the HMAC family
// (a public key used as an HMAC secret) and everything else are refused before any key is looked at.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace dispatch::auth {

using Json = nlohmann::json;

// The claims of a token, read without checking anything (to choose the verifier by `iss`).
Result<Json> peekClaims(const std::string &token);

// Verifies the signature with `publicKeyPem` (an RSA or EC public key) and the time claims (`exp` required).
Result<Json> verifyWithPublicKey(const std::string &token, const std::string &publicKeyPem,
                                 std::chrono::seconds leeway);

// A PEM public key is usable for RS256/ES256 (service-account registration checks it up front).
bool isUsablePublicKey(const std::string &publicKeyPem);

struct OidcOptions
{
    std::string issuer;
    std::string audience; // the client id the tokens must be issued to
    std::string subjectClaim = "email";
    std::vector<std::string> scopes = {"openid", "email", "profile", "offline_access"};
    std::chrono::milliseconds fetchTimeout{std::chrono::seconds(5)};
    std::chrono::milliseconds minJwksRefresh{std::chrono::seconds(10)}; // unknown kid: fetch at most this often
    std::chrono::seconds leeway{30};
};

class OidcVerifier
{
public:
    explicit OidcVerifier(OidcOptions options);
    ~OidcVerifier();
    OidcVerifier(const OidcVerifier &) = delete;
    OidcVerifier &operator=(const OidcVerifier &) = delete;

    // Fetches the discovery document and the JWKS (called at start; verify() retries it when it failed).
    std::optional<ApiError> discover();
    // Verifies a bearer token; returns the subject (the configured claim). Errors are 401s with a reason fit
    // for the audit log (never the token).
    Result<std::string> verify(const std::string &token);
    // The subject of a token verified before and not expired (no parsing at all), else nothing.
    std::optional<std::string> cached(const std::string &token);
    // What a client needs to log in: issuer, client id, scopes and the provider's endpoints (when discovered).
    Json loginInfo();
    const OidcOptions &options() const { return m_options; }

private:
    Result<std::string> verifyUncached(const std::string &token);
    std::optional<ApiError> discoverLocked();
    std::optional<ApiError> fetchJwksLocked();

    OidcOptions m_options;
    std::mutex m_mutex;
    Json m_discovery;
    void *m_jwks = nullptr; // rhonabwy's jwks_t of the last good JWKS document (under m_mutex)
    // Tokens already verified (SHA-256 of the token → subject and expiry): a client sends the same access token
    // many times, the signature is checked once. Bounded; entries end with the token.
    struct Verified
    {
        std::string subject;
        int64_t exp = 0;
    };
    std::mutex m_cacheMutex;
    std::unordered_map<std::string, Verified> m_cache;
    std::chrono::steady_clock::time_point m_lastFetch{};
    bool m_fetchedOnce = false;
};

} // namespace dispatch::auth
