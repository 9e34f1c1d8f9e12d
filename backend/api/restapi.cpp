// SPDX-License-Identifier: GPL-3.0-or-later
#include "api/restapi.h"

#include <charconv>
#include <vector>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "wire/validation.h"

namespace dispatch::api {

namespace asio = boost::asio;

namespace bhttp = boost::beast::http;

Json VersionInfo::toJson() const
{
    return {{"version", version}, {"commit", commit},         {"buildDate", buildDate},
            {"goVersion", ""},    {"compiler", "g++ (C++20)"}, {"platform", "linux/amd64"}};
}

std::string cleanPath(std::string_view path)
{
    std::vector<std::string_view> parts;
    std::size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/')
            ++i;
        std::size_t j = i;
        while (j < path.size() && path[j] != '/')
            ++j;
        std::string_view seg = path.substr(i, j - i);
        if (seg.empty() || seg == ".") {
        } else if (seg == "..") {
            if (!parts.empty())
                parts.pop_back();
        } else {
            parts.push_back(seg);
        }
        i = j;
    }
    std::string out;
    for (auto p : parts) {
        out += "/";
        out += p;
    }
    return out.empty() ? "/" : out;
}

std::optional<std::string> QueryParams::get(std::string_view key) const
{
    for (const auto &[k, v] : items)
        if (k == key)
            return v;
    return std::nullopt;
}

std::vector<std::string> QueryParams::all(std::string_view key) const
{
    std::vector<std::string> out;
    for (const auto &[k, v] : items)
        if (k == key)
            out.push_back(v);
    return out;
}

std::string percentDecode(std::string_view s, bool plusIsSpace)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+' && plusIsSpace) {
            out.push_back(' ');
        } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
                   std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

QueryParams parseQuery(std::string_view q)
{
    QueryParams out;
    std::size_t i = 0;
    while (i < q.size()) {
        std::size_t amp = q.find('&', i);
        if (amp == std::string_view::npos)
            amp = q.size();
        auto item = q.substr(i, amp - i);
        if (!item.empty()) {
            auto eq = item.find('=');
            if (eq == std::string_view::npos)
                out.items.emplace_back(percentDecode(item), "");
            else
                out.items.emplace_back(percentDecode(item.substr(0, eq)), percentDecode(item.substr(eq + 1)));
        }
        i = amp + 1;
    }
    return out;
}

namespace {

// Dispatch areas this server answers 501 for (as Solo), unless a service registered itself for them.
const std::vector<std::string> notImplemented = {"iam",           "eventdrivers", "application", "serviceclass",
                                                 "serviceinstance", "api",        "event",       "events"};

http::Response answerToResponse(const Result<Answer> &r, unsigned version, bool keepAlive)
{
    http::Response res;
    if (!r.ok()) {
        const auto &e = r.error();
        res = http::makeJson(e.status, Json{{"code", e.code}, {"message", e.message}}.dump(), version);
    } else if (r.value().empty) {
        res = http::makeEmpty(r.value().status, version);
    } else if (!r.value().rawBody.empty()) {
        res = http::makeJson(r.value().status, r.value().rawBody, version);
    } else {
        res = http::makeJson(r.value().status, wire::dumpJson(r.value().body), version);
    }
    res.keep_alive(keepAlive);
    return res;
}

ApiError fromValidation(const wire::ValidationError &v)
{
    return ApiError{v.httpStatus, v.code, v.message};
}

std::optional<int64_t> parseInt(const std::string &s)
{
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size())
        return std::nullopt;
    return v;
}

} // namespace

RestApi::RestApi(Service &service, VersionInfo version) : m_service(service), m_version(std::move(version)) {}

void RestApi::addService(const std::string &name, RouteService service)
{
    m_extra[name] = std::move(service);
}

void RestApi::addRawRoute(const std::string &path, http::Handler handler, RawAccess access)
{
    m_raw[path] = RawRoute{std::move(handler), access};
}

void RestApi::handle(std::shared_ptr<http::RequestContext> ctx, http::ResponderPtr responder)
{
    const auto &req = ctx->request;
    const unsigned version = req.version();
    const bool keepAlive = req.keep_alive();
    Reply reply = [responder, version, keepAlive](Result<Answer> r) {
        responder->send(answerToResponse(r, version, keepAlive));
    };
    std::string_view target = req.target();
    std::string_view rawPath = target;
    std::string_view rawQuery;
    if (auto q = target.find('?'); q != std::string_view::npos) {
        rawPath = target.substr(0, q);
        rawQuery = target.substr(q + 1);
    }
    const std::string path = cleanPath(percentDecode(rawPath, false));
    const auto method = req.method();

    if (auto raw = m_raw.find(path); raw != m_raw.end()) {
        const RawRoute &route = raw->second;
        if (route.access == RawAccess::Public || !m_authorizer)
            return route.handler(std::move(ctx), std::move(responder));
        // Server-wide data (every org's functions): only an admin's credentials, checked like any request's.
        const std::vector<std::string> parts{path.substr(1)};
        return authorizeThen(ctx, reply, std::string(), parts,
                             [ctx, responder, reply, handler = route.handler](Principal who) mutable {
                                 if (!who.admin)
                                     return reply(ApiError::forbidden("forbidden: " + who.subject +
                                                                      " is not an administrator"));
                                 handler(std::move(ctx), std::move(responder));
                             });
    }

    // Health: any method, any sub-path, no headers needed.
    if (path == "/healthz" || path.rfind("/healthz/", 0) == 0)
        return reply(Answer{200, Json{{"version", m_version.toJson()}}, false});

    std::vector<std::string> parts;
    for (std::size_t i = 1; i < path.size();) {
        auto j = path.find('/', i);
        if (j == std::string::npos)
            j = path.size();
        parts.emplace_back(path.substr(i, j - i));
        i = j + 1;
    }
    if (parts.empty() || parts[0] != "v1" || parts.size() < 2)
        return reply(ApiError::notFound("resource does not exist"));
    const std::string &service = parts[1];

    if (service == "version" && parts.size() == 2) {
        if (method != bhttp::verb::get)
            return reply(ApiError{405, 405, "method " + std::string(req.method_string()) +
                                                " is not allowed, but [GET] are"});
        return reply(Answer{200, m_version.toJson(), false});
    }

    auto extra = m_extra.find(service);
    const bool known = service == "function" || service == "runs" || service == "secret" || service == "image" ||
                       service == "baseimage" || extra != m_extra.end() ||
                       std::find(notImplemented.begin(), notImplemented.end(), service) != notImplemented.end();
    if (!known)
        return reply(ApiError::notFound("resource does not exist"));
    if (extra != m_extra.end() && extra->second.isPublic && extra->second.isPublic(parts)) {
        RouteRequest rr{ctx, responder, std::string(), parts, parseQuery(rawQuery), Principal{}};
        return extra->second.handler(rr, reply);
    }

    // Dispatch checks the org header first, then authentication.
    const auto orgIt = req.find("X-Dispatch-Org");
    const std::string org = orgIt == req.end() ? std::string() : std::string(orgIt->value());
    const bool orgOptional = extra != m_extra.end() && extra->second.orgOptional && extra->second.orgOptional(parts);
    if (org.empty() && !orgOptional)
        return reply(ApiError::validation(602, "X-Dispatch-Org in header is required"));
    if (req.find(bhttp::field::cookie) == req.end() && req.find(bhttp::field::authorization) == req.end())
        return reply(ApiError::unauthorized("unauthenticated for invalid credentials"));
    if (!m_authorizer)
        return serve(ctx, responder, reply, parts, rawQuery, org, Principal{});
    authorizeThen(ctx, reply, org, parts, [this, ctx, responder, reply, parts, rawQuery, org](Principal who) {
        serve(ctx, responder, reply, parts, rawQuery, org, std::move(who));
    });
}

void RestApi::authorizeThen(const std::shared_ptr<http::RequestContext> &ctx, const Reply &reply,
                            const std::string &org, const std::vector<std::string> &parts,
                            std::function<void(Principal)> next)
{
    if (m_authMayBlock && m_authMayBlock(*ctx)) {
        // Verifying this token may fetch the identity provider's keys (up to its timeout): not on the event loop,
        // which the gateway and every other client share. The request continues on the loop.
        asio::post(*m_authPool, [this, ctx, reply, org, parts, next = std::move(next)]() mutable {
            auto who = m_authorizer(*ctx, org, parts);
            asio::post(*m_loop, [reply = std::move(reply), next = std::move(next), who = std::move(who)]() mutable {
                if (!who)
                    return reply(who.error());
                next(std::move(*who));
            });
        });
        return;
    }
    auto who = m_authorizer(*ctx, org, parts);
    if (!who)
        return reply(who.error());
    next(std::move(*who));
}

void RestApi::setAuthorizer(Authorizer authorizer, std::function<bool(const http::RequestContext &)> mayBlock,
                            boost::asio::io_context *loop)
{
    m_authorizer = std::move(authorizer);
    if (mayBlock && loop) {
        m_authMayBlock = std::move(mayBlock);
        m_loop = loop;
        m_authPool = std::make_unique<asio::thread_pool>(1);
    }
}

RestApi::~RestApi()
{
    if (m_authPool)
        m_authPool->join();
}

void RestApi::serve(const std::shared_ptr<http::RequestContext> &ctx, const http::ResponderPtr &responder,
                    const Reply &reply, const std::vector<std::string> &parts, std::string_view rawQuery,
                    const std::string &org, Principal principal)
{
    const auto &req = ctx->request;
    const auto method = req.method();
    const std::string &service = parts[1];
    const auto extra = m_extra.find(service);
    if (extra != m_extra.end()) {
        RouteRequest rr{ctx, responder, org, parts, parseQuery(rawQuery), std::move(principal)};
        return extra->second.handler(rr, reply);
    }
    if (std::find(notImplemented.begin(), notImplemented.end(), service) != notImplemented.end())
        return reply(ApiError::notImplemented("Endpoint is not implemented in this version of Dispatch"));

    const QueryParams query = parseQuery(rawQuery);
    const std::string &body = req.body();
    auto notAllowed = [&](const char *allowed) {
        reply(ApiError{405, 405, "method " + std::string(req.method_string()) + " is not allowed, but [" +
                                     allowed + "] are"});
    };
    auto checkName = [&](const std::string &param, const std::string &value) -> bool {
        if (wire::isValidPathName(value))
            return true;
        reply(ApiError::validation(605, param + " in path should match '^[\\w\\d\\-]+$'"));
        return false;
    };

    // /v1/baseimage[/{name}]
    if (service == "baseimage") {
        if (parts.size() == 2) {
            if (method == bhttp::verb::get)
                return m_service.listBaseImages(org, reply);
            if (method == bhttp::verb::post) {
                auto m = wire::parseBaseImage(body);
                if (!m)
                    return reply(fromValidation(m.error()));
                return m_service.createBaseImage(org, std::move(*m), reply);
            }
            return notAllowed("GET POST");
        }
        if (parts.size() != 3 || !checkName("baseImageName", parts[2]))
            return parts.size() != 3 ? reply(ApiError::notFound("resource does not exist")) : void();
        if (method == bhttp::verb::get)
            return m_service.getBaseImage(org, parts[2], reply);
        if (method == bhttp::verb::put) {
            auto m = wire::parseBaseImage(body);
            if (!m)
                return reply(fromValidation(m.error()));
            return m_service.updateBaseImage(org, parts[2], std::move(*m), reply);
        }
        if (method == bhttp::verb::delete_)
            return m_service.deleteBaseImage(org, parts[2], reply);
        return notAllowed("DELETE GET PUT");
    }

    if (service == "image") {
        if (parts.size() == 2) {
            if (method == bhttp::verb::get)
                return m_service.listImages(org, reply);
            if (method == bhttp::verb::post) {
                auto m = wire::parseImage(body);
                if (!m)
                    return reply(fromValidation(m.error()));
                return m_service.createImage(org, std::move(*m), reply);
            }
            return notAllowed("GET POST");
        }
        if (parts.size() != 3 || !checkName("imageName", parts[2]))
            return parts.size() != 3 ? reply(ApiError::notFound("resource does not exist")) : void();
        if (method == bhttp::verb::get)
            return m_service.getImage(org, parts[2], reply);
        if (method == bhttp::verb::put) {
            auto m = wire::parseImage(body);
            if (!m)
                return reply(fromValidation(m.error()));
            return m_service.updateImage(org, parts[2], std::move(*m), reply);
        }
        if (method == bhttp::verb::delete_)
            return m_service.deleteImage(org, parts[2], reply);
        return notAllowed("DELETE GET PUT");
    }

    if (service == "function") {
        if (parts.size() == 2) {
            if (method == bhttp::verb::get)
                return m_service.listFunctions(org, reply);
            if (method == bhttp::verb::post) {
                auto m = wire::parseFunction(body);
                if (!m)
                    return reply(fromValidation(m.error()));
                return m_service.createFunction(org, std::move(*m), reply);
            }
            return notAllowed("GET POST");
        }
        if (!checkName("functionName", parts[2]))
            return;
        // Extensions: /v1/function/{name}/revisions, /v1/function/{name}/source[/{revision}] and
        // /v1/function/{name}/testinputs (GET, PUT)
        if (parts.size() == 4 && parts[3] == "testinputs") {
            if (method == bhttp::verb::get)
                return m_service.getTestInputs(org, parts[2], reply);
            if (method == bhttp::verb::put)
                return m_service.putTestInputs(org, parts[2], body, reply);
            return notAllowed("GET PUT");
        }
        if (parts.size() >= 4) {
            if (method != bhttp::verb::get)
                return notAllowed("GET");
            if (parts[3] == "revisions" && parts.size() == 4)
                return m_service.listRevisions(org, parts[2], reply);
            if (parts[3] == "source" && parts.size() <= 5)
                return m_service.getSourceFiles(org, parts[2], parts.size() == 5 ? parts[4] : std::string(),
                                                reply);
            return reply(ApiError::notFound("resource does not exist"));
        }
        if (method == bhttp::verb::get)
            return m_service.getFunction(org, parts[2], reply);
        if (method == bhttp::verb::put) {
            auto m = wire::parseFunction(body);
            if (!m)
                return reply(fromValidation(m.error()));
            return m_service.updateFunction(org, parts[2], std::move(*m), reply);
        }
        if (method == bhttp::verb::delete_)
            return m_service.deleteFunction(org, parts[2], reply);
        return notAllowed("DELETE GET PUT");
    }

    if (service == "runs") {
        if (parts.size() == 2) {
            if (method == bhttp::verb::post) {
                auto fn = query.get("functionName");
                if (!fn || fn->empty())
                    return reply(ApiError::badRequest("Bad Request: No function specified"));
                auto run = wire::parseRun(body);
                if (!run) {
                    auto e = fromValidation(run.error());
                    if (e.status == 400)
                        e.message = "Bad Request: Invalid Payload";
                    return reply(e);
                }
                return m_service.createRun(org, *fn, std::move(*run), reply);
            }
            if (method == bhttp::verb::get) {
                RunListQuery q;
                q.functionName = query.get("functionName");
                if (q.functionName && q.functionName->empty())
                    q.functionName.reset();
                if (auto s = query.get("since"); s && !s->empty()) {
                    auto v = parseInt(*s);
                    if (!v)
                        return reply(ApiError::validation(601, "since in query must be of type int64: \"" + *s +
                                                                   "\""));
                    q.sinceSeconds = v;
                }
                if (auto s = query.get("limit"); s && !s->empty()) {
                    auto v = parseInt(*s);
                    if (!v || *v < 0)
                        return reply(ApiError::validation(601, "limit in query must be a non-negative integer"));
                    q.limit = static_cast<std::size_t>(std::min<int64_t>(*v, 100000));
                }
                q.before = query.get("before");
                if (q.before && q.before->empty())
                    q.before.reset();
                q.status = query.get("status");
                if (q.status && q.status->empty())
                    q.status.reset();
                if (auto s = query.get("from"); s && !s->empty())
                    q.fromNs = parseInt(*s);
                if (auto s = query.get("to"); s && !s->empty())
                    q.toNs = parseInt(*s);
                return m_service.listRuns(org, q, reply);
            }
            return notAllowed("GET POST");
        }
        if (parts.size() != 3 || !checkName("runName", parts[2]))
            return parts.size() != 3 ? reply(ApiError::notFound("resource does not exist")) : void();
        if (method != bhttp::verb::get)
            return notAllowed("GET");
        return m_service.getRun(org, parts[2], query.get("functionName"), reply);
    }

    if (service == "secret") {
        if (parts.size() == 2) {
            if (method == bhttp::verb::get)
                return m_service.listSecrets(org, reply);
            if (method == bhttp::verb::post) {
                auto m = wire::parseSecret(body);
                if (!m)
                    return reply(fromValidation(m.error()));
                return m_service.createSecret(org, std::move(*m), reply);
            }
            return notAllowed("GET POST");
        }
        if (parts.size() != 3 || !checkName("secretName", parts[2]))
            return parts.size() != 3 ? reply(ApiError::notFound("resource does not exist")) : void();
        if (method == bhttp::verb::get)
            return m_service.getSecret(org, parts[2], reply);
        if (method == bhttp::verb::put) {
            auto m = wire::parseSecret(body);
            if (!m)
                return reply(fromValidation(m.error()));
            return m_service.updateSecret(org, parts[2], std::move(*m), reply);
        }
        if (method == bhttp::verb::delete_)
            return m_service.deleteSecret(org, parts[2], reply);
        return notAllowed("DELETE GET PUT");
    }
    reply(ApiError::notFound("resource does not exist"));
}

} // namespace dispatch::api
