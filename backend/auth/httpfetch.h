// A small blocking HTTP(S) GET for the identity code: OpenID discovery and JWKS documents. It runs on its own
// io_context with a deadline, so a slow identity provider costs the caller at most `timeout`.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <chrono>
#include <string>

#include "core/error.h"

namespace dispatch::auth {

struct FetchedDocument
{
    int status = 0;
    std::string body;
};

// `url` is http://host[:port]/path or https://... (certificates are checked against the system store).
Result<FetchedDocument> httpGet(const std::string &url, std::chrono::milliseconds timeout);

} // namespace dispatch::auth
