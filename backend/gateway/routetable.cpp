// SPDX-License-Identifier: GPL-3.0-or-later
#include "gateway/routetable.h"

#include <algorithm>
#include <cctype>

namespace dispatch::gateway {

namespace {

std::string lowerCase(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (char c : s)
        out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return out;
}

// Host entries may carry a port (Kong accepted "example.com:8081"); the comparison is on the name only.
std::string hostName(std::string_view host)
{
    if (!host.empty() && host.front() == '[') {
        const auto close = host.find(']');
        return lowerCase(close == std::string_view::npos ? host : host.substr(0, close + 1));
    }
    return lowerCase(host.substr(0, host.find(':')));
}

// Whether `path` lies under "/<org>" (the only paths an API without hosts may serve).
bool underOrg(std::string_view path, const std::string &org)
{
    return path.size() > org.size() && path[0] == '/' && path.compare(1, org.size(), org) == 0 &&
           (path.size() == org.size() + 1 || path[org.size() + 1] == '/');
}

} // namespace

void RouteTable::add(const std::string &org, const wire::Api &api)
{
    Route r;
    r.org = org;
    r.name = api.name;
    r.function = api.function;
    r.methods = api.methods;
    for (const auto &h : api.hosts)
        if (!h.empty())
            r.hosts.push_back(hostName(h));
    if (!api.protocols.empty()) {
        const auto has = [&](const char *p) {
            return std::any_of(api.protocols.begin(), api.protocols.end(),
                               [&](const std::string &s) { return lowerCase(s) == p; });
        };
        // Unknown names are ignored; an API listing no known protocol serves both.
        const bool http = has("http"), https = has("https");
        if (http || https) {
            r.http = http;
            r.https = https;
        }
    }
    r.cors = api.cors;
    m_hostRoutes = m_hostRoutes || !r.hosts.empty();

    const auto index = static_cast<uint32_t>(m_routes.size());
    m_routes.push_back(std::move(r));
    if (api.uris.empty()) {
        m_anyPath.push_back(index);
        return;
    }
    for (const auto &uri : api.uris) {
        auto &list = m_byPath[uri];
        if (list.empty() || list.back() != index)
            list.push_back(index);
    }
}

void RouteTable::finish()
{
    // APIs are added in (org, name) order; this keeps that order within each class.
    const auto hostBound = [this](uint32_t a, uint32_t b) {
        return m_routes[a].hosts.empty() > m_routes[b].hosts.empty();
    };
    for (auto &[path, list] : m_byPath)
        std::stable_sort(list.begin(), list.end(), hostBound);
    std::stable_sort(m_anyPath.begin(), m_anyPath.end(), hostBound);
}

bool RouteTable::matches(const Route &r, std::string_view method, std::string_view host) const
{
    if (!r.hosts.empty() && std::find(r.hosts.begin(), r.hosts.end(), host) == r.hosts.end())
        return false;
    if (r.methods.empty() || method == "OPTIONS")
        return true;
    return std::find(r.methods.begin(), r.methods.end(), method) != r.methods.end();
}

const Route *RouteTable::find(std::string_view path, std::string_view method, std::string_view host, bool tls) const
{
    const Route *fallback = nullptr;
    const auto consider = [&](const Route &r) -> bool {
        if (!matches(r, method, host))
            return false;
        if (r.allows(tls))
            return true;
        if (!fallback)
            fallback = &r;
        return false;
    };
    if (auto it = m_byPath.find(path); it != m_byPath.end())
        for (uint32_t i : it->second)
            if (consider(m_routes[i]))
                return &m_routes[i];
    for (uint32_t i : m_anyPath) {
        const Route &r = m_routes[i];
        if (r.hosts.empty() && !underOrg(path, r.org))
            continue;
        if (consider(r))
            return &r;
    }
    return fallback;
}

} // namespace dispatch::gateway
