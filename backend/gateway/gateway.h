// The API gateway listener's handler (Dispatch-Solo's "local" gateway, dispatch-api.md §5.4): finds the API
// for `/<org>/<path>` (or a host-bound path) in the ApiManager's snapshot, maps the request to a run input and
// runs the function through Service::createRun, so every call is recorded as a run with its httpContext.
// Errors are Dispatch gateway bodies {"message": ...}. Beyond Solo: a failed run answers 502 with the error,
// a function that is missing or not READY 503, and the protocol check answers once.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <memory>

#include "api/service.h"
#include "gateway/apimanager.h"
#include "http/server.h"

namespace dispatch::gateway {

class Gateway
{
public:
    Gateway(ApiManager &apis, api::Service &service);
    // The http::Handler of the gateway listener. Request bodies are bounded by the listener's bodyLimit
    // (--gateway-max-body), which answers 413 before the handler runs.
    void handle(std::shared_ptr<http::RequestContext> ctx, http::ResponderPtr responder);

private:
    ApiManager &m_apis;
    api::Service &m_service;
};

} // namespace dispatch::gateway
