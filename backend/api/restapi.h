// The Dispatch REST API on top of Service: the all-in-one router of Dispatch-Solo (path.Clean, the service
// chosen by the second path component), the header checks in Dispatch's order (X-Dispatch-Org → 422/602 first,
// then Cookie/Authorization → 401), go-swagger validation of bodies and path parameters, and the mapping of
// ApiError to a response (the only place that does it).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <string>

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

class RestApi
{
public:
    RestApi(Service &service, VersionInfo version);
    void handle(std::shared_ptr<http::RequestContext> ctx, http::ResponderPtr responder);

private:
    Service &m_service;
    VersionInfo m_version;
};

} // namespace dispatch::api
