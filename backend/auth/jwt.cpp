// SPDX-License-Identifier: GPL-3.0-or-later
#include "auth/jwt.h"

#include <openssl/evp.h>
#include <rhonabwy.h>

#include <spdlog/spdlog.h>

#include "auth/httpfetch.h"

namespace dispatch::auth {

namespace {

// rhonabwy objects with their free functions.
struct JwtPtr
{
    jwt_t *p = nullptr;
    JwtPtr() { r_jwt_init(&p); }
    ~JwtPtr() { r_jwt_free(p); }
    JwtPtr(const JwtPtr &) = delete;
    JwtPtr &operator=(const JwtPtr &) = delete;
};
struct JwkPtr
{
    jwk_t *p = nullptr;
    JwkPtr() = default;
    explicit JwkPtr(jwk_t *k) : p(k) {}
    ~JwkPtr() { r_jwk_free(p); }
    JwkPtr(const JwkPtr &) = delete;
    JwkPtr &operator=(const JwkPtr &) = delete;
};

void initOnce()
{
    static std::once_flag once;
    std::call_once(once, [] { r_global_init(); });
}

ApiError unauthorized(std::string why)
{
    return ApiError::unauthorized(std::move(why));
}

// Parses the compact JWS and refuses every algorithm but RS256 and ES256 before any key is involved.
Result<jwa_alg> parseSigned(JwtPtr &jwt, const std::string &token)
{
    initOnce();
    if (std::count(token.begin(), token.end(), '.') != 2)
        return unauthorized("the bearer token is not a signed JWT");
    if (r_jwt_parse(jwt.p, token.c_str(), 0) != RHN_OK)
        return unauthorized("the bearer token is not a valid JWT");
    const jwa_alg alg = r_jwt_get_sign_alg(jwt.p);
    if (alg != R_JWA_ALG_RS256 && alg != R_JWA_ALG_ES256) {
        const char *name = r_jwt_get_header_str_value(jwt.p, "alg");
        return unauthorized(std::string("the token's algorithm ") + (name ? name : "(none)") +
                            " is not accepted (RS256 or ES256)");
    }
    return alg;
}

bool keyFits(jwk_t *key, jwa_alg alg)
{
    unsigned int bits = 0;
    const int type = r_jwk_key_type(key, &bits, 0);
    if (!(type & R_KEY_TYPE_PUBLIC))
        return false;
    return alg == R_JWA_ALG_RS256 ? (type & R_KEY_TYPE_RSA) && bits >= 2048 : (type & R_KEY_TYPE_EC) != 0;
}

Result<Json> claimsOf(JwtPtr &jwt)
{
    char *text = r_jwt_get_full_claims_str(jwt.p);
    if (!text)
        return unauthorized("the token has no claims");
    Json claims = Json::parse(text, nullptr, false);
    r_free(text);
    if (!claims.is_object())
        return unauthorized("the token's claims are not a JSON object");
    return claims;
}

std::optional<ApiError> checkTimes(const Json &claims, std::chrono::seconds leeway)
{
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    auto number = [&](const char *name) -> std::optional<int64_t> {
        auto it = claims.find(name);
        if (it == claims.end() || !it->is_number())
            return std::nullopt;
        return it->get<int64_t>();
    };
    const auto exp = number("exp");
    if (!exp)
        return unauthorized("the token has no expiry (exp)");
    if (*exp + leeway.count() < now)
        return unauthorized("the token expired");
    if (auto nbf = number("nbf"); nbf && *nbf - leeway.count() > now)
        return unauthorized("the token is not valid yet (nbf)");
    if (auto iat = number("iat"); iat && *iat - leeway.count() > now)
        return unauthorized("the token was issued in the future (iat)");
    return std::nullopt;
}

std::string sha256(const std::string &data)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
    return std::string(reinterpret_cast<const char *>(digest), len);
}

int64_t unixNow()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

Result<Json> peekClaims(const std::string &token)
{
    JwtPtr jwt;
    auto alg = parseSigned(jwt, token);
    if (!alg)
        return alg.error();
    return claimsOf(jwt);
}

bool isUsablePublicKey(const std::string &pem)
{
    initOnce();
    JwkPtr key;
    r_jwk_init(&key.p);
    if (r_jwk_import_from_pem_der(key.p, R_X509_TYPE_PUBKEY, R_FORMAT_PEM,
                                  reinterpret_cast<const unsigned char *>(pem.data()), pem.size()) != RHN_OK)
        return false;
    return keyFits(key.p, R_JWA_ALG_RS256) || keyFits(key.p, R_JWA_ALG_ES256);
}

Result<Json> verifyWithPublicKey(const std::string &token, const std::string &pem, std::chrono::seconds leeway)
{
    JwtPtr jwt;
    auto alg = parseSigned(jwt, token);
    if (!alg)
        return alg.error();
    JwkPtr key;
    r_jwk_init(&key.p);
    if (r_jwk_import_from_pem_der(key.p, R_X509_TYPE_PUBKEY, R_FORMAT_PEM,
                                  reinterpret_cast<const unsigned char *>(pem.data()), pem.size()) != RHN_OK)
        return unauthorized("the registered public key cannot be read");
    if (!keyFits(key.p, *alg))
        return unauthorized("the token's algorithm does not match the registered key");
    if (r_jwt_verify_signature(jwt.p, key.p, 0) != RHN_OK)
        return unauthorized("the token's signature does not verify");
    auto claims = claimsOf(jwt);
    if (!claims)
        return claims;
    if (auto e = checkTimes(*claims, leeway))
        return *e;
    return claims;
}

OidcVerifier::OidcVerifier(OidcOptions options) : m_options(std::move(options))
{
    initOnce();
    while (!m_options.issuer.empty() && m_options.issuer.back() == '/' && m_options.issuer.size() > 8)
        m_options.issuer.pop_back(); // discovery is issuer + "/.well-known/..."; `iss` is compared as given
}

OidcVerifier::~OidcVerifier()
{
    r_jwks_free(static_cast<jwks_t *>(m_jwks));
}

std::optional<ApiError> OidcVerifier::discover()
{
    std::lock_guard lock(m_mutex);
    return discoverLocked();
}

std::optional<ApiError> OidcVerifier::discoverLocked()
{
    const std::string url = m_options.issuer + "/.well-known/openid-configuration";
    m_lastFetch = std::chrono::steady_clock::now();
    m_fetchedOnce = true;
    auto doc = httpGet(url, m_options.fetchTimeout);
    if (!doc)
        return ApiError::unavailable("OpenID discovery at " + url + " failed: " + doc.error().message);
    if (doc->status != 200)
        return ApiError::unavailable("OpenID discovery at " + url + " answered " + std::to_string(doc->status));
    Json d = Json::parse(doc->body, nullptr, false);
    if (!d.is_object() || !d.contains("jwks_uri") || !d["jwks_uri"].is_string())
        return ApiError::unavailable("OpenID discovery at " + url + " has no jwks_uri");
    // The provider must name itself as configured (OpenID Connect Discovery §4.3).
    std::string issuer = d.value("issuer", "");
    while (issuer.size() > 8 && issuer.back() == '/')
        issuer.pop_back();
    if (issuer != m_options.issuer)
        return ApiError::unavailable("OpenID discovery at " + url + " names the issuer '" + d.value("issuer", "") +
                                     "', not '" + m_options.issuer + "'");
    m_discovery = std::move(d);
    return fetchJwksLocked();
}

std::optional<ApiError> OidcVerifier::fetchJwksLocked()
{
    const std::string url = m_discovery["jwks_uri"].get<std::string>();
    m_lastFetch = std::chrono::steady_clock::now();
    m_fetchedOnce = true;
    auto doc = httpGet(url, m_options.fetchTimeout);
    if (!doc)
        return ApiError::unavailable("fetching the JWKS at " + url + " failed: " + doc.error().message);
    if (doc->status != 200)
        return ApiError::unavailable("fetching the JWKS at " + url + " answered " + std::to_string(doc->status));
    jwks_t *fresh = nullptr;
    r_jwks_init(&fresh);
    const int rc = r_jwks_import_from_json_str(fresh, doc->body.c_str());
    if ((rc != RHN_OK && rc != RHN_ERROR_PARAM) || r_jwks_size(fresh) == 0) {
        r_jwks_free(fresh);
        return ApiError::unavailable("the JWKS at " + url + " holds no usable key");
    }
    r_jwks_free(static_cast<jwks_t *>(m_jwks));
    m_jwks = fresh;
    spdlog::info("oidc: {} keys from {}", r_jwks_size(fresh), url);
    return std::nullopt;
}

std::optional<std::string> OidcVerifier::cached(const std::string &token)
{
    const std::string key = sha256(token);
    std::lock_guard lock(m_cacheMutex);
    if (auto it = m_cache.find(key); it != m_cache.end()) {
        if (it->second.exp + m_options.leeway.count() >= unixNow())
            return it->second.subject;
        m_cache.erase(it);
    }
    return std::nullopt;
}

Result<std::string> OidcVerifier::verify(const std::string &token)
{
    if (auto subject = cached(token))
        return *subject;
    const std::string key = sha256(token);
    auto subject = verifyUncached(token);
    if (subject) {
        auto claims = peekClaims(token);
        std::lock_guard lock(m_cacheMutex);
        if (m_cache.size() >= 4096)
            m_cache.clear(); // simple bound: the next requests verify again
        if (claims && (*claims)["exp"].is_number())
            m_cache[key] = Verified{*subject, (*claims)["exp"].get<int64_t>()};
    }
    return subject;
}

Result<std::string> OidcVerifier::verifyUncached(const std::string &token)
{
    JwtPtr jwt;
    auto alg = parseSigned(jwt, token);
    if (!alg)
        return alg.error();
    const char *kidText = r_jwt_get_header_str_value(jwt.p, "kid");
    const std::string kid = kidText ? kidText : "";

    // Pick the key (a copy, so the signature is checked outside the lock).
    std::vector<std::unique_ptr<JwkPtr>> candidates;
    {
        std::lock_guard lock(m_mutex);
        auto collect = [&] {
            candidates.clear();
            auto *jwks = static_cast<jwks_t *>(m_jwks);
            if (!jwks)
                return;
            if (!kid.empty()) {
                if (jwk_t *k = r_jwks_get_by_kid(jwks, kid.c_str()))
                    candidates.push_back(std::make_unique<JwkPtr>(k));
                return;
            }
            for (size_t i = 0; i < r_jwks_size(jwks); ++i)
                candidates.push_back(std::make_unique<JwkPtr>(r_jwks_get_at(jwks, i)));
        };
        if (m_discovery.is_null()) {
            if (m_fetchedOnce && std::chrono::steady_clock::now() - m_lastFetch < m_options.minJwksRefresh)
                return ApiError::unauthorized("the identity provider is not reachable yet");
            if (auto e = discoverLocked())
                return ApiError::unauthorized("the identity provider is not reachable: " + e->message);
        }
        collect();
        if (candidates.empty() && std::chrono::steady_clock::now() - m_lastFetch >= m_options.minJwksRefresh) {
            // A key we have not seen: the provider may have rotated its keys.
            if (auto e = fetchJwksLocked())
                spdlog::warn("oidc: {}", e->message);
            collect();
        }
    }
    if (candidates.empty())
        return unauthorized(kid.empty() ? "no key of the identity provider fits the token"
                                        : "the token's key id '" + kid + "' is not one of the identity provider's");
    bool verified = false, fitting = false;
    for (auto &k : candidates) {
        if (!keyFits(k->p, *alg))
            continue;
        fitting = true;
        if (r_jwt_verify_signature(jwt.p, k->p, 0) == RHN_OK) {
            verified = true;
            break;
        }
    }
    if (!fitting)
        return unauthorized("the token's algorithm does not match the identity provider's key");
    if (!verified)
        return unauthorized("the token's signature does not verify");
    auto claims = claimsOf(jwt);
    if (!claims)
        return claims.error();
    const std::string iss = (*claims)["iss"].is_string() ? (*claims)["iss"].get<std::string>() : std::string();
    if (iss != m_options.issuer && iss != m_options.issuer + "/")
        return unauthorized("the token was issued by '" + iss + "', not by the configured issuer");
    const auto &aud = (*claims)["aud"];
    bool audOk = aud.is_string() && aud.get<std::string>() == m_options.audience;
    if (aud.is_array())
        for (const auto &a : aud)
            audOk = audOk || (a.is_string() && a.get<std::string>() == m_options.audience);
    if (!audOk)
        return unauthorized("the token is not meant for this server (audience)");
    if (auto e = checkTimes(*claims, m_options.leeway))
        return *e;
    auto subject = claims->find(m_options.subjectClaim);
    if (subject == claims->end() || !subject->is_string() || subject->get<std::string>().empty())
        return unauthorized("the token has no '" + m_options.subjectClaim + "' claim");
    return subject->get<std::string>();
}

Json OidcVerifier::loginInfo()
{
    std::lock_guard lock(m_mutex);
    if (m_discovery.is_null() &&
        (!m_fetchedOnce || std::chrono::steady_clock::now() - m_lastFetch >= m_options.minJwksRefresh))
        discoverLocked();
    Json info{{"issuer", m_options.issuer}, {"clientId", m_options.audience}, {"scopes", m_options.scopes}};
    if (m_discovery.is_object()) {
        for (const char *k : {"authorization_endpoint", "token_endpoint", "end_session_endpoint"})
            if (m_discovery.contains(k) && m_discovery[k].is_string())
                info[k == std::string("authorization_endpoint") ? "authorizationEndpoint"
                     : k == std::string("token_endpoint")       ? "tokenEndpoint"
                                                                : "endSessionEndpoint"] = m_discovery[k];
    }
    return info;
}

} // namespace dispatch::auth
