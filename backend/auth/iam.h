// Identity and access: the auth modes (none, oidc, serviceaccount; oidc and serviceaccount combine), the IAM API
// of Dispatch v0.1.x (/v1/iam/organization, /v1/iam/policy, /v1/iam/serviceaccount) with its casbin policy
// semantics enforced on every request, bootstrap admins from the configuration, the login-info and whoami
// extensions, and the audit log of refused requests (logs/audit.log, one JSON object a line, never a token).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "api/restapi.h"
#include "auth/jwt.h"
#include "store/store.h"

namespace dispatch::auth {

struct IamOptions
{
    bool oidc = false;
    bool serviceAccounts = false;
    OidcOptions oidcOptions;
    std::set<std::string> bootstrapAdmins; // subjects (OpenID claim values, or "<org>/<account>")
    std::filesystem::path auditLog;
    std::chrono::seconds leeway{30};
    bool enabled() const { return oidc || serviceAccounts; }
};

// The Dispatch action of an HTTP method: GET→get, POST→create, PUT/PATCH→update, DELETE→delete.
std::string actionOf(boost::beast::http::verb method);

class Iam
{
public:
    Iam(store::Store &store, IamOptions options);
    ~Iam();
    void load();          // organizations, policies and service accounts from the store
    void start();         // first OpenID discovery (a failure is retried when a token arrives)
    bool enabled() const { return m_options.enabled(); }
    api::Authorizer authorizer();
    // True for requests whose check may wait on the identity provider (RestApi runs those off the event loop).
    std::function<bool(const http::RequestContext &)> authorizerMayBlock();
    api::RouteService routeService();
    // GET /home of Dispatch v0.1.x (what `dispatch login` with a service account calls): 200 once the credentials
    // verify, 401 otherwise; with auth off any request gets the 200.
    http::Handler homeHandler();

private:
    struct Impl;
    std::shared_ptr<Impl> m_impl;
    IamOptions m_options;
};

} // namespace dispatch::auth
