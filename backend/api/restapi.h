// The Dispatch REST API on top of Service: the all-in-one router of Dispatch-Solo (path.Clean, the service
// chosen by the second path component), the header checks in Dispatch's order (X-Dispatch-Org → 422/602 first,
// then Cookie/Authorization → 401), go-swagger validation of bodies and path parameters, and the mapping of
// ApiError to a response (the only place that does it).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "api/service.h"
#include "http/server.h"

namespace dispatch::api {

struct VersionInfo
{
    std::string version;
    std::string commit;
    std::string buildDate;
    Json toJson() const;
};

// Go's path.Clean: collapses slashes, resolves "." and "..", drops the trailing slash.
std::string cleanPath(std::string_view path);

struct QueryParams
{
    std::vector<std::pair<std::string, std::string>> items;
    std::optional<std::string> get(std::string_view key) const;
    std::vector<std::string> all(std::string_view key) const;
};
QueryParams parseQuery(std::string_view rawQuery);
std::string percentDecode(std::string_view s, bool plusIsSpace = true);

// Who sent a request, once the authorizer accepted it (server/README: auth modes). `kind` is "anonymous" when
// authentication is off, "user" for an OpenID subject, "serviceaccount" for a service-account token.
struct Principal
{
    std::string kind = "anonymous";
    std::string subject;
    std::string homeOrg; // a service account's own org
    bool admin = false;  // a bootstrap admin (every org, every action)
};

// A request routed to a registered service (the gateway's /v1/api, the events' /v1/event, the watch stream).
struct RouteRequest
{
    std::shared_ptr<http::RequestContext> ctx;
    http::ResponderPtr responder; // for streaming answers; normal answers go through Reply
    std::string org;              // empty on public paths
    std::vector<std::string> parts; // cleaned path components: "v1", "<service>", ...
    QueryParams query;
    Principal principal;
};
using RouteHandler = std::function<void(RouteRequest &, Reply)>;

struct RouteService
{
    RouteHandler handler;
    // Paths (by components) that need neither X-Dispatch-Org nor credentials, e.g. /v1/event/ingest.
    std::function<bool(const std::vector<std::string> &)> isPublic;
    // Paths that need credentials but no X-Dispatch-Org (IAM's /v1/iam/organization, /v1/iam/whoami).
    std::function<bool(const std::vector<std::string> &)> orgOptional;
};

// Authenticates the request and decides whether its action on the path's resource is allowed in `org`
// (empty when the path does not need the header). Errors are answered as they are (401, 403).
using Authorizer = std::function<Result<Principal>(const http::RequestContext &, const std::string &org,
                                                   const std::vector<std::string> &parts)>;

class RestApi
{
public:
    RestApi(Service &service, VersionInfo version);
    // Serves /v1/<name>/... with `service` instead of answering 501.
    void addService(const std::string &name, RouteService service);
    // Serves exactly `path` (outside /v1: no org header) with `handler`. Public: no credentials (/home checks its
    // own). Admin: with an authorizer (authentication on), only an administrator's credentials (e.g. /metrics,
    // which shows every org); without one, public.
    enum class RawAccess { Public, Admin };
    void addRawRoute(const std::string &path, http::Handler handler, RawAccess access = RawAccess::Public);
    // With an authorizer every non-public request goes through it; without one (auth mode "none") any Cookie or
    // Authorization header is accepted, as in Dispatch-Solo.
    // When `mayBlock` says a request's check could wait (a token whose provider keys may have to be fetched),
    // the authorizer runs on a thread of its own and the request continues on `loop`.
    void setAuthorizer(Authorizer authorizer, std::function<bool(const http::RequestContext &)> mayBlock = {},
                       boost::asio::io_context *loop = nullptr);
    void handle(std::shared_ptr<http::RequestContext> ctx, http::ResponderPtr responder);
    ~RestApi();

private:
    // Runs the authorizer (on its own thread when it may wait on the identity provider), then `next` on the loop;
    // a refusal is answered through `reply`.
    void authorizeThen(const std::shared_ptr<http::RequestContext> &ctx, const Reply &reply, const std::string &org,
                       const std::vector<std::string> &parts, std::function<void(Principal)> next);
    // Everything after authentication.
    void serve(const std::shared_ptr<http::RequestContext> &ctx, const http::ResponderPtr &responder,
               const Reply &reply, const std::vector<std::string> &parts, std::string_view rawQuery,
               const std::string &org, Principal principal);

    Service &m_service;
    VersionInfo m_version;
    std::map<std::string, RouteService> m_extra;
    struct RawRoute
    {
        http::Handler handler;
        RawAccess access = RawAccess::Public;
    };
    std::map<std::string, RawRoute> m_raw;
    Authorizer m_authorizer;
    std::function<bool(const http::RequestContext &)> m_authMayBlock;
    boost::asio::io_context *m_loop = nullptr;
    std::unique_ptr<boost::asio::thread_pool> m_authPool;
};

} // namespace dispatch::api
