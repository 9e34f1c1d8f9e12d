// SPDX-License-Identifier: GPL-3.0-or-later
#include "auth/iam.h"

#include <openssl/evp.h>

#include <algorithm>
#include <regex>

#include <spdlog/spdlog.h>

#include "core/ids.h"

namespace dispatch::auth {

namespace bhttp = boost::beast::http;
using api::Answer;
using api::Principal;
using api::Reply;

namespace {

constexpr const char *kOrgKind = "IamOrganization";
constexpr const char *kPolicyKind = "IamPolicy";
constexpr const char *kAccountKind = "IamServiceAccount";
// The resources whoami reports permissions for (the second path component of the API's routes).
const std::vector<std::string> kResources = {"baseimage", "image", "function", "runs",  "secret",
                                             "api",       "event", "stats",    "watch", "iam"};
const std::vector<std::string> kActions = {"get", "create", "update", "delete"};

int64_t nowSeconds()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::optional<std::string> base64Decode(const std::string &in)
{
    std::string clean;
    for (char c : in)
        if (!std::isspace(static_cast<unsigned char>(c)))
            clean.push_back(c);
    if (clean.empty() || clean.size() % 4 != 0)
        return std::nullopt;
    std::string out(clean.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                  reinterpret_cast<const unsigned char *>(clean.data()), static_cast<int>(clean.size()));
    if (n < 0)
        return std::nullopt;
    std::size_t len = static_cast<std::size_t>(n);
    if (clean.size() >= 1 && clean[clean.size() - 1] == '=')
        --len;
    if (clean.size() >= 2 && clean[clean.size() - 2] == '=')
        --len;
    out.resize(len);
    return out;
}

bool contains(const Json &list, const std::string &value)
{
    if (!list.is_array())
        return false;
    for (const auto &v : list)
        if (v.is_string() && v.get<std::string>() == value)
            return true;
    return false;
}

ApiError required(const std::string &field)
{
    return ApiError::validation(602, field + " in body is required");
}

} // namespace

std::string actionOf(bhttp::verb method)
{
    switch (method) {
    case bhttp::verb::get:
    case bhttp::verb::head:
        return "get";
    case bhttp::verb::post:
        return "create";
    case bhttp::verb::put:
    case bhttp::verb::patch:
        return "update";
    case bhttp::verb::delete_:
        return "delete";
    default:
        return "unknown";
    }
}

struct Iam::Impl
{
    store::Store &store;
    IamOptions options;
    std::unique_ptr<OidcVerifier> oidc;

    std::mutex mutex;
    std::map<std::string, Json> orgs;
    std::map<std::pair<std::string, std::string>, Json> policies;
    std::map<std::pair<std::string, std::string>, Json> accounts;
    std::map<std::pair<std::string, std::string>, std::string> accountPem;

    std::mutex auditMutex;
    std::ofstream audit;

    Impl(store::Store &s, IamOptions o) : store(s), options(std::move(o))
    {
        if (options.oidc)
            oidc = std::make_unique<OidcVerifier>(options.oidcOptions);
    }

    // ---- audit ----
    void auditEvent(const char *event, const http::RequestContext &ctx, const std::string &org,
                    const std::string &subject, const std::string &reason)
    {
        const auto &req = ctx.request;
        std::string_view target = req.target();
        target = target.substr(0, target.find('?')); // a query might carry a secret
        Json line{{"time", nowSeconds()},
                  {"event", event},
                  {"remote", ctx.remoteAddress},
                  {"method", std::string(req.method_string())},
                  {"path", std::string(target)},
                  {"org", org},
                  {"subject", subject},
                  {"reason", reason}};
        spdlog::warn("auth: {} {} {} from {}: {}", event, line["method"].get<std::string>(),
                     line["path"].get<std::string>(), ctx.remoteAddress, reason);
        std::lock_guard lock(auditMutex);
        if (!audit.is_open() && !options.auditLog.empty()) {
            std::error_code ec;
            std::filesystem::create_directories(options.auditLog.parent_path(), ec);
            audit.open(options.auditLog, std::ios::app);
        }
        if (audit.is_open())
            audit << line.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n' << std::flush;
    }

    // ---- authentication ----
    // Whether checking this request may wait on the network: an OpenID bearer token not verified before (its
    // check may have to fetch the provider's discovery document or keys).
    bool mayBlock(const http::RequestContext &ctx)
    {
        if (!oidc)
            return false;
        auto it = ctx.request.find(bhttp::field::authorization);
        if (it == ctx.request.end() || it->value().size() <= 7)
            return false;
        const std::string token(it->value().substr(7));
        if (oidc->cached(token))
            return false;
        auto claims = peekClaims(token);
        if (!claims)
            return false;
        const auto issIt = claims->find("iss");
        const std::string iss = issIt != claims->end() && issIt->is_string() ? issIt->get<std::string>() : "";
        return iss == oidc->options().issuer || iss == oidc->options().issuer + "/";
    }

    Result<Principal> authenticate(const http::RequestContext &ctx)
    {
        const auto &req = ctx.request;
        auto it = req.find(bhttp::field::authorization);
        if (it == req.end())
            return ApiError::unauthorized("this server needs 'Authorization: Bearer <token>': log in first");
        std::string value(it->value());
        if (value.size() < 7 || !std::equal(value.begin(), value.begin() + 7, "bearer ",
                                            [](char a, char b) { return std::tolower(a) == b; }))
            return ApiError::unauthorized("the Authorization header is not a bearer token");
        const std::string token = value.substr(7);
        if (oidc) {
            if (auto subject = oidc->cached(token)) { // seen and verified before: no parsing again
                Principal p;
                p.kind = "user";
                p.subject = *subject;
                p.admin = options.bootstrapAdmins.count(*subject) > 0;
                return p;
            }
        }
        auto claims = peekClaims(token);
        if (!claims)
            return claims.error();
        const auto issIt = claims->find("iss");
        const std::string iss = issIt != claims->end() && issIt->is_string() ? issIt->get<std::string>() : "";
        if (oidc && (iss == oidc->options().issuer || iss == oidc->options().issuer + "/")) {
            auto subject = oidc->verify(token);
            if (!subject)
                return subject.error();
            Principal p;
            p.kind = "user";
            p.subject = *subject;
            p.admin = options.bootstrapAdmins.count(*subject) > 0;
            return p;
        }
        const auto slash = iss.find('/');
        if (options.serviceAccounts && slash != std::string::npos && slash > 0 && slash + 1 < iss.size()) {
            const std::string org = iss.substr(0, slash), account = iss.substr(slash + 1);
            std::string pem;
            {
                std::lock_guard lock(mutex);
                auto k = accountPem.find({org, account});
                if (k == accountPem.end())
                    return ApiError::unauthorized("service account " + account + " of org " + org +
                                                  " is not registered");
                pem = k->second;
            }
            auto verified = verifyWithPublicKey(token, pem, options.leeway);
            if (!verified)
                return verified.error();
            Principal p;
            p.kind = "serviceaccount";
            p.subject = account;
            p.homeOrg = org;
            p.admin = options.bootstrapAdmins.count(iss) > 0;
            return p;
        }
        return ApiError::unauthorized(iss.empty() ? "the token has no issuer (iss)"
                                                  : "tokens issued by '" + iss + "' are not accepted here");
    }

    // ---- policy decision (casbin model of Dispatch's identity manager); call with `mutex` held ----
    bool allowedLocked(const Principal &p, const std::string &org, const std::string &resource,
                       const std::string &action, bool globalOnly = false) const
    {
        if (p.admin)
            return true;
        if (p.kind == "serviceaccount" && org != p.homeOrg)
            return false; // a service account acts in its own org only
        for (const auto &[key, policy] : policies) {
            const bool global = policy.value("global", false);
            if (!(global || (!globalOnly && key.first == org)))
                continue;
            if (p.kind == "serviceaccount" && key.first != p.homeOrg)
                continue; // only the account's own org's policies name it
            for (const auto &rule : policy.value("rules", Json::array())) {
                if (!contains(rule.value("subjects", Json::array()), p.subject))
                    continue;
                const Json resources = rule.value("resources", Json::array());
                const Json actions = rule.value("actions", Json::array());
                if ((contains(resources, resource) || contains(resources, "*")) &&
                    (contains(actions, action) || contains(actions, "*")))
                    return true;
            }
        }
        return false;
    }

    std::vector<std::string> visibleOrgsLocked(const Principal &p) const
    {
        std::set<std::string> out;
        if (p.admin || p.kind == "anonymous") {
            for (const auto &[name, doc] : orgs)
                out.insert(name);
        } else if (p.kind == "serviceaccount") {
            out.insert(p.homeOrg);
        } else {
            for (const auto &[key, policy] : policies) {
                bool names = false;
                for (const auto &rule : policy.value("rules", Json::array()))
                    names = names || contains(rule.value("subjects", Json::array()), p.subject);
                if (!names)
                    continue;
                if (policy.value("global", false)) {
                    for (const auto &[name, doc] : orgs)
                        out.insert(name);
                }
                out.insert(key.first);
            }
        }
        return {out.begin(), out.end()};
    }

    Result<Principal> authorize(const http::RequestContext &ctx, const std::string &org,
                                const std::vector<std::string> &parts)
    {
        auto who = authenticate(ctx);
        if (!who) {
            auditEvent("authentication-failed", ctx, org, "", who.error().message);
            return ApiError::unauthorized("unauthenticated: " + who.error().message);
        }
        const std::string resource = parts.size() > 1 ? parts[1] : "";
        const std::string action = actionOf(ctx.request.method());
        if (parts.size() < 2)
            return who; // non-resource paths: any authenticated user
        if (resource == "iam" && parts.size() == 3 && parts[2] == "whoami")
            return who;
        std::lock_guard lock(mutex);
        bool ok = false;
        if (org.empty()) {
            // Only /v1/iam/organization comes here without an org: listing shows what the caller may see,
            // creating needs an admin or a global policy.
            ok = action == "get" || allowedLocked(*who, org, resource, action, true);
        } else {
            ok = allowedLocked(*who, org, resource, action);
        }
        if (!ok) {
            const std::string why = who->subject + " may not " + action + " " + resource +
                                    (org.empty() ? std::string(" (no organization given)") : " in org " + org);
            auditEvent("denied", ctx, org, who->subject, why);
            return ApiError::forbidden("forbidden: " + why);
        }
        return who;
    }

    // ---- IAM resources ----
    void persist(const char *kind, const std::string &org, const std::string &name, const Json &doc, int status,
                 Reply reply)
    {
        store.putEntity(store::EntityRow{kind, org, name, doc.dump()}, [reply, doc, status](bool committed) {
            if (committed)
                reply(Answer{status, doc});
            else
                reply(ApiError::internal("internal error when processing " + doc.value("name", std::string())));
        });
    }

    void remove(const char *kind, const std::string &org, const std::string &name, const Json &doc, Reply reply)
    {
        store.deleteEntity(kind, org, name, [reply, doc](bool committed) {
            if (committed)
                reply(Answer{200, doc});
            else
                reply(ApiError::internal("internal error when deleting " + doc.value("name", std::string())));
        });
    }

    Json stamp(Json doc, const char *kind, const Json *previous)
    {
        const int64_t now = nowSeconds();
        doc["kind"] = kind;
        doc["id"] = previous ? previous->value("id", newUuid()) : newUuid();
        doc["createdTime"] = previous ? previous->value("createdTime", now) : now;
        doc["modifiedTime"] = now;
        doc["status"] = "READY";
        return doc;
    }

    Result<Json> parseBody(const std::string &body)
    {
        Json j = Json::parse(body, nullptr, false);
        if (j.is_discarded() || !j.is_object())
            return ApiError::badRequest("the request body is not a JSON object");
        if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty())
            return required("name");
        return j;
    }

    std::optional<ApiError> checkPolicy(Json &j)
    {
        if (!j.contains("rules") || !j["rules"].is_array())
            return required("rules");
        for (auto &rule : j["rules"]) {
            if (!rule.is_object())
                return ApiError::validation(601, "rules in body must be of type array of objects");
            for (const char *field : {"subjects", "resources", "actions"}) {
                if (!rule.contains(field) || !rule[field].is_array())
                    return required(std::string("rules.") + field);
                for (const auto &v : rule[field])
                    if (!v.is_string() || v.get<std::string>().empty())
                        return ApiError::validation(601, std::string("rules.") + field +
                                                             " in body must be an array of non-empty strings");
            }
            for (const auto &a : rule["actions"]) {
                const auto s = a.get<std::string>();
                if (s != "*" && std::find(kActions.begin(), kActions.end(), s) == kActions.end())
                    return ApiError::validation(606, "rules.actions in body should be one of "
                                                     "[get create update delete *], got '" + s + "'");
            }
        }
        if (j.contains("global") && !j["global"].is_boolean())
            return ApiError::validation(601, "global in body must be of type boolean");
        return std::nullopt;
    }

    void handle(api::RouteRequest &rr, Reply reply)
    {
        const auto &parts = rr.parts;
        const auto method = rr.ctx->request.method();
        const std::string what = parts.size() > 2 ? parts[2] : "";
        const std::string &body = rr.ctx->request.body();
        auto notAllowed = [&](const char *allowed) {
            reply(ApiError{405, 405, "method " + std::string(rr.ctx->request.method_string()) +
                                         " is not allowed, but [" + allowed + "] are"});
        };

        if (what == "login-info" && parts.size() == 3) {
            if (method != bhttp::verb::get)
                return notAllowed("GET");
            Json modes = Json::array();
            if (!options.enabled())
                modes.push_back("none");
            if (options.oidc)
                modes.push_back("oidc");
            if (options.serviceAccounts)
                modes.push_back("serviceaccount");
            Json info{{"authModes", modes}};
            if (oidc)
                info["oidc"] = oidc->loginInfo();
            return reply(Answer{200, info});
        }
        if (what == "whoami" && parts.size() == 3) {
            if (method != bhttp::verb::get)
                return notAllowed("GET");
            Principal p = rr.principal;
            std::string org = rr.org.empty() ? p.homeOrg : rr.org;
            Json permissions = Json::object();
            std::lock_guard lock(mutex);
            for (const auto &res : kResources) {
                Json acts = Json::array();
                for (const auto &a : kActions)
                    if (!options.enabled() || (!org.empty() && allowedLocked(p, org, res, a)))
                        acts.push_back(a);
                permissions[res] = acts;
            }
            return reply(Answer{200, Json{{"subject", p.subject},
                                          {"kind", p.kind},
                                          {"org", org},
                                          {"admin", p.admin},
                                          {"orgs", visibleOrgsLocked(p)},
                                          {"permissions", permissions}}});
        }
        if (!options.enabled())
            return reply(ApiError::notImplemented("Endpoint is not implemented in this version of Dispatch"));

        if (what == "organization") {
            if (parts.size() == 3) {
                if (method == bhttp::verb::get) {
                    std::lock_guard lock(mutex);
                    Json list = Json::array();
                    for (const auto &name : visibleOrgsLocked(rr.principal))
                        if (auto o = orgs.find(name); o != orgs.end())
                            list.push_back(o->second);
                    return reply(Answer{200, list});
                }
                if (method != bhttp::verb::post)
                    return notAllowed("GET POST");
                auto j = parseBody(body);
                if (!j)
                    return reply(j.error());
                const std::string name = (*j)["name"];
                static const std::regex pattern(R"(^[\w\d\-]+$)");
                if (!std::regex_match(name, pattern))
                    return reply(ApiError::validation(605, "name in body should match '^[\\w\\d\\-]+$'"));
                Json doc;
                {
                    std::lock_guard lock(mutex);
                    if (orgs.count(name))
                        return reply(ApiError::conflict("organization " + name + " already exists"));
                    doc = stamp(Json{{"name", name}}, "Organization", nullptr);
                    orgs[name] = doc;
                }
                return persist(kOrgKind, "", name, doc, 201, reply);
            }
            if (parts.size() != 4)
                return reply(ApiError::notFound("resource does not exist"));
            const std::string name = parts[3];
            // The policy check was made in the header's org: another org is an admin's business only.
            if (name != rr.org && !rr.principal.admin)
                return reply(ApiError::forbidden("forbidden: " + rr.principal.subject + " may only manage the "
                                                 "organization it works in (" + rr.org + ")"));
            std::lock_guard lock(mutex);
            auto it = orgs.find(name);
            if (it == orgs.end())
                return reply(ApiError::notFound("organization " + name + " not found"));
            if (method == bhttp::verb::get)
                return reply(Answer{200, it->second});
            if (method == bhttp::verb::put) {
                auto j = parseBody(body);
                if (!j)
                    return reply(j.error());
                if ((*j)["name"] != name)
                    return reply(ApiError::badRequest("bad request when processing organization " + name +
                                                      ": the name cannot change"));
                Json doc = stamp(Json{{"name", name}}, "Organization", &it->second);
                it->second = doc;
                return persist(kOrgKind, "", name, doc, 200, reply);
            }
            if (method == bhttp::verb::delete_) {
                Json doc = it->second;
                orgs.erase(it);
                return remove(kOrgKind, "", name, doc, reply);
            }
            return notAllowed("DELETE GET PUT");
        }

        const bool isPolicy = what == "policy", isAccount = what == "serviceaccount";
        if (!isPolicy && !isAccount)
            return reply(ApiError::notFound("resource does not exist"));
        const char *kind = isPolicy ? kPolicyKind : kAccountKind;
        const char *modelKind = isPolicy ? "Policy" : "ServiceAccount";
        auto &table = isPolicy ? policies : accounts;
        const std::string org = rr.org;
        auto validate = [&](Json &j) -> std::optional<ApiError> {
            const std::string name = j["name"];
            // A global policy reaches every org: only an admin may grant one (org isolation).
            if (isPolicy && j.contains("global") && j["global"] == true && !rr.principal.admin)
                return ApiError::forbidden("forbidden: only an administrator may create or change a global policy");
            if (isPolicy) {
                static const std::regex pattern(R"(^[\w\d\-]+$)");
                if (!std::regex_match(name, pattern))
                    return ApiError::validation(605, "name in body should match '^[\\w\\d\\-]+$'");
                return checkPolicy(j);
            }
            static const std::regex pattern(R"(^[\w\d\-\.]+$)");
            if (!std::regex_match(name, pattern))
                return ApiError::validation(605, "name in body should match '^[\\w\\d\\-\\.]+$'");
            if (!j.contains("publicKey") || !j["publicKey"].is_string() || j["publicKey"].get<std::string>().empty())
                return required("publicKey");
            auto pem = base64Decode(j["publicKey"]);
            if (!pem || !isUsablePublicKey(*pem))
                return ApiError::badRequest("bad request when processing serviceaccount " + name +
                                            ": publicKey must be the base64 of a PEM RSA (2048 bits or more) "
                                            "or EC P-256 public key");
            return std::nullopt;
        };
        auto keep = [&](Json doc) {
            Json out = Json::object();
            for (const char *f : {"name", "rules", "global", "publicKey", "domain"})
                if (doc.contains(f))
                    out[f] = doc[f];
            if (isPolicy && !out.contains("global"))
                out["global"] = false;
            return out;
        };
        auto remember = [&](const std::string &name, const Json &doc) {
            table[{org, name}] = doc;
            if (isAccount)
                accountPem[{org, name}] = *base64Decode(doc["publicKey"]);
        };

        if (parts.size() == 3) {
            if (method == bhttp::verb::get) {
                std::lock_guard lock(mutex);
                Json list = Json::array();
                for (const auto &[key, doc] : table)
                    if (key.first == org)
                        list.push_back(doc);
                return reply(Answer{200, list});
            }
            if (method != bhttp::verb::post)
                return notAllowed("GET POST");
            auto j = parseBody(body);
            if (!j)
                return reply(j.error());
            if (auto e = validate(*j))
                return reply(*e);
            const std::string name = (*j)["name"];
            Json doc;
            {
                std::lock_guard lock(mutex);
                if (table.count({org, name}))
                    return reply(ApiError::conflict(std::string(isPolicy ? "policy " : "serviceaccount ") + name +
                                                    " already exists"));
                doc = stamp(keep(*j), modelKind, nullptr);
                remember(name, doc);
            }
            return persist(kind, org, name, doc, 201, reply);
        }
        if (parts.size() != 4)
            return reply(ApiError::notFound("resource does not exist"));
        const std::string name = parts[3];
        Json body2;
        if (method == bhttp::verb::put) {
            auto j = parseBody(body);
            if (!j)
                return reply(j.error());
            if ((*j)["name"] != name)
                return reply(ApiError::badRequest(std::string("bad request when processing ") +
                                                  (isPolicy ? "policy " : "serviceaccount ") + name +
                                                  ": the name in the body differs from the path"));
            if (auto e = validate(*j))
                return reply(*e);
            body2 = std::move(*j);
        }
        std::lock_guard lock(mutex);
        auto it = table.find({org, name});
        if (it == table.end())
            return reply(ApiError::notFound(std::string(isPolicy ? "policy " : "serviceaccount ") + name +
                                            " not found"));
        if (method == bhttp::verb::get)
            return reply(Answer{200, it->second});
        if (method == bhttp::verb::put) {
            Json doc = stamp(keep(body2), modelKind, &it->second);
            remember(name, doc);
            return persist(kind, org, name, doc, 200, reply);
        }
        if (method == bhttp::verb::delete_) {
            Json doc = it->second;
            table.erase(it);
            accountPem.erase({org, name});
            return remove(kind, org, name, doc, reply);
        }
        return notAllowed("DELETE GET PUT");
    }
};

Iam::Iam(store::Store &store, IamOptions options)
    : m_impl(std::make_shared<Impl>(store, options)), m_options(std::move(options))
{
}

Iam::~Iam() = default;

void Iam::load()
{
    std::lock_guard lock(m_impl->mutex);
    for (const char *kind : {kOrgKind, kPolicyKind, kAccountKind}) {
        for (auto &row : m_impl->store.loadEntities(kind)) {
            Json j = Json::parse(row.json, nullptr, false);
            if (!j.is_object()) {
                spdlog::warn("iam: skipping an unreadable {} {}/{}", kind, row.org, row.name);
                continue;
            }
            if (kind == std::string(kOrgKind)) {
                m_impl->orgs[row.name] = j;
            } else if (kind == std::string(kPolicyKind)) {
                m_impl->policies[{row.org, row.name}] = j;
            } else {
                auto pem = base64Decode(j.value("publicKey", ""));
                if (pem)
                    m_impl->accountPem[{row.org, row.name}] = *pem;
                m_impl->accounts[{row.org, row.name}] = j;
            }
        }
    }
    spdlog::info("iam: {} organizations, {} policies, {} service accounts", m_impl->orgs.size(),
                 m_impl->policies.size(), m_impl->accounts.size());
}

void Iam::start()
{
    if (m_impl->oidc) {
        if (auto e = m_impl->oidc->discover())
            spdlog::warn("oidc: {} (tried again when a token arrives)", e->message);
    }
}

api::Authorizer Iam::authorizer()
{
    return [impl = m_impl](const http::RequestContext &ctx, const std::string &org,
                           const std::vector<std::string> &parts) -> Result<Principal> {
        try {
            return impl->authorize(ctx, org, parts);
        } catch (const std::exception &e) { // a malformed token must never cost the request its answer
            impl->auditEvent("authentication-failed", ctx, org, "", std::string("malformed credentials: ") + e.what());
            return ApiError::unauthorized("unauthenticated: the credentials are malformed");
        }
    };
}

std::function<bool(const http::RequestContext &)> Iam::authorizerMayBlock()
{
    return [impl = m_impl](const http::RequestContext &ctx) {
        try {
            return impl->mayBlock(ctx);
        } catch (const std::exception &) { // malformed: the authorizer itself answers it, at once
            return false;
        }
    };
}

http::Handler Iam::homeHandler()
{
    return [impl = m_impl](std::shared_ptr<http::RequestContext> ctx, http::ResponderPtr responder) {
        const unsigned version = ctx->request.version();
        auto send = [&](int status, const Json &body) {
            auto res = http::makeJson(status, body.dump(), version);
            res.keep_alive(ctx->request.keep_alive());
            responder->send(std::move(res));
        };
        if (ctx->request.method() != bhttp::verb::get)
            return send(405, Json{{"code", 405}, {"message", "method " + std::string(ctx->request.method_string()) +
                                                                 " is not allowed, but [GET] are"}});
        if (impl->options.enabled()) {
            auto who = impl->authenticate(*ctx);
            if (!who) {
                impl->auditEvent("authentication-failed", *ctx, "", "", who.error().message);
                return send(401, Json{{"code", 401}, {"message", "unauthenticated: " + who.error().message}});
            }
        }
        send(200, Json{{"message", "Home Page, You have already logged in"}});
    };
}

api::RouteService Iam::routeService()
{
    api::RouteService s;
    s.handler = [impl = m_impl](api::RouteRequest &rr, Reply reply) {
        try {
            impl->handle(rr, reply);
        } catch (const std::exception &e) {
            reply(ApiError::badRequest(std::string("bad request when processing iam: ") + e.what()));
        }
    };
    s.isPublic = [](const std::vector<std::string> &parts) { return parts.size() == 3 && parts[2] == "login-info"; };
    s.orgOptional = [](const std::vector<std::string> &parts) {
        return parts.size() == 3 && (parts[2] == "organization" || parts[2] == "whoami");
    };
    return s;
}

} // namespace dispatch::auth
