// The gateway's routing snapshot: every routable (READY, enabled) API, indexed by exact path. Built once per
// change of the API set and never modified afterwards, so the request path reads it without any lock: a hash
// lookup, then a short scan of the APIs sharing that path (host, method, protocol). No regular expressions.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wire/models.h"

namespace dispatch::gateway {

struct Route
{
    std::string org;
    std::string name;
    std::string function;
    std::vector<std::string> methods; // upper-case; empty = any
    std::vector<std::string> hosts;   // lower-case, no port; empty = any (then the path carries the org)
    bool http = true;                 // allowed protocols; an API listing none allows both
    bool https = true;
    bool cors = false;

    bool allows(bool tls) const { return tls ? https : http; }
    // The protocol to tell a client that used the wrong one ("HTTPS" or "HTTP").
    std::string requiredProtocol() const { return https ? "HTTPS" : "HTTP"; }
};

class RouteTable
{
public:
    // Building: add every routable API (in a stable order), then call finish() once.
    void add(const std::string &org, const wire::Api &api);
    void finish();

    // The API serving a request, or nullptr. `path` is the decoded path without the query, `host` the Host
    // header without its port, lower-case. Among matching APIs, the first whose protocols admit the request
    // wins; when none does, the first match is returned so the caller can answer "Please use HTTPS protocol".
    // Precedence: exact paths before APIs without URIs; APIs without hosts (owned by the org the path names)
    // before host-bound ones, so another org cannot take over /<org>/... by claiming a host name.
    const Route *find(std::string_view path, std::string_view method, std::string_view host, bool tls) const;

    bool empty() const { return m_routes.empty(); }
    bool hasHostRoutes() const { return m_hostRoutes; }

private:
    struct Hash
    {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    bool matches(const Route &r, std::string_view method, std::string_view host) const;

    std::vector<Route> m_routes;
    std::unordered_map<std::string, std::vector<uint32_t>, Hash, std::equal_to<>> m_byPath;
    std::vector<uint32_t> m_anyPath; // APIs without URIs: every path (of their org, or of their hosts)
    bool m_hostRoutes = false;
};

} // namespace dispatch::gateway
