// SPDX-License-Identifier: GPL-3.0-or-later
#include "stats/statsapi.h"

#include "wire/validation.h"

#include <charconv>

namespace dispatch::stats {

namespace {

namespace bhttp = boost::beast::http;

// Unix seconds; the bound keeps every later conversion to nanoseconds inside int64.
constexpr int64_t kMaxSeconds = 9'000'000'000;

struct Window
{
    std::optional<std::string> function;
    int64_t from = 0;
    int64_t to = 0;
};

Result<int64_t> parseSeconds(const api::QueryParams &query, const char *name, int64_t fallback)
{
    const auto text = query.get(name);
    if (!text || text->empty())
        return fallback;
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc() || end != text->data() + text->size() || v < -kMaxSeconds || v > kMaxSeconds)
        return ApiError::badRequest(std::string(name) + " must be a Unix time in seconds, got '" + *text +
                                    "'");
    return v;
}

Result<Window> parseWindow(const api::QueryParams &query, int64_t nowSeconds)
{
    Window w;
    if (auto fn = query.get("function"); fn && !fn->empty()) {
        if (!wire::isValidPathName(*fn))
            return ApiError::badRequest("function should match '^[\\w\\d\\-]+$'");
        w.function = *fn;
    }
    // The current second is inside the default window.
    auto to = parseSeconds(query, "to", nowSeconds + 1);
    if (!to)
        return to.error();
    auto from = parseSeconds(query, "from", *to - 3600);
    if (!from)
        return from.error();
    if (*from >= *to)
        return ApiError::badRequest("from must be before to");
    w.from = *from;
    w.to = *to;
    return w;
}

// A JSON string; invalid UTF-8 (an org header can hold anything) is replaced, never thrown about.
std::string jsonString(const std::string &s)
{
    return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json functionJson(const std::optional<std::string> &function)
{
    return function ? nlohmann::json(*function) : nlohmann::json(nullptr);
}

} // namespace

StatsApi::StatsApi(RunStats &stats, const Clock &clock) : m_stats(stats), m_clock(clock) {}

api::RouteService StatsApi::route()
{
    return api::RouteService{[this](api::RouteRequest &request, api::Reply reply) { handle(request, reply); },
                             nullptr, nullptr};
}

void StatsApi::handle(const api::RouteRequest &request, const api::Reply &reply)
{
    const auto method = request.ctx->request.method();
    if (method != bhttp::verb::get)
        return reply(ApiError{405, 405,
                              "method " + std::string(request.ctx->request.method_string()) +
                                  " is not allowed, but [GET] are"});
    if (request.parts.size() == 2)
        return stats(request, reply);
    if (request.parts.size() == 3 && request.parts[2] == "errors")
        return errors(request, reply);
    reply(ApiError::notFound("resource does not exist"));
}

void StatsApi::stats(const api::RouteRequest &request, const api::Reply &reply)
{
    const int64_t now = m_clock.nowSeconds();
    auto window = parseWindow(request.query, now);
    if (!window)
        return reply(window.error());
    const std::string resolutionText = request.query.get("resolution").value_or("auto");
    Resolution resolution = Resolution::Minute;
    if (resolutionText == "hour") {
        resolution = Resolution::Hour;
    } else if (resolutionText == "auto" || resolutionText.empty()) {
        const bool minutesCover = window->from >= now - m_stats.options().minuteRetention.count();
        const bool shortRange = window->to - window->from <= kAutoMinuteRangeSeconds;
        resolution = minutesCover && shortRange ? Resolution::Minute : Resolution::Hour;
    } else if (resolutionText != "minute") {
        return reply(
            ApiError::badRequest("resolution must be minute, hour or auto, got '" + resolutionText + "'"));
    }
    const int64_t step = resolutionSeconds(resolution);
    if ((window->to - window->from) / step + 1 > kMaxBuckets)
        return reply(ApiError::badRequest("the range holds more than " + std::to_string(kMaxBuckets) + " " +
                                          (resolution == Resolution::Minute ? "minutes" : "hours") +
                                          "; ask for a shorter range or a coarser resolution"));

    StatsQuery q;
    q.org = request.org;
    q.function = window->function;
    q.fromSeconds = window->from;
    q.toSeconds = window->to;
    q.resolution = resolution;
    const StatsAnswer answer = m_stats.query(q);
    if (!answer.ok)
        return reply(ApiError::internal("the run statistics could not be read"));

    // Written directly (not through a JSON tree): the buckets are most of the answer and all numbers.
    api::Answer out;
    std::string &body = out.rawBody;
    body.reserve(256 + answer.buckets.size() * 240);
    body += "{\"org\":" + jsonString(request.org) +
            ",\"function\":" + (window->function ? jsonString(*window->function) : std::string("null")) +
            ",\"resolution\":\"" + (resolution == Resolution::Minute ? "minute" : "hour") +
            "\",\"from\":" + std::to_string(window->from) + ",\"to\":" + std::to_string(window->to) +
            ",\"buckets\":[";
    for (std::size_t i = 0; i < answer.buckets.size(); ++i) {
        if (i > 0)
            body += ',';
        answer.buckets[i].counters.appendJson(body, answer.buckets[i].time);
    }
    body += "],\"total\":";
    answer.total.appendJson(body);
    body += '}';
    reply(std::move(out));
}

void StatsApi::errors(const api::RouteRequest &request, const api::Reply &reply)
{
    auto window = parseWindow(request.query, m_clock.nowSeconds());
    if (!window)
        return reply(window.error());
    std::size_t limit = 100;
    if (auto text = request.query.get("limit"); text && !text->empty()) {
        std::size_t v = 0;
        auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
        if (ec != std::errc() || end != text->data() + text->size() || v == 0 || v > kMaxErrorGroups)
            return reply(
                ApiError::badRequest("limit must be between 1 and " + std::to_string(kMaxErrorGroups)));
        limit = v;
    }

    ErrorGroupQuery q;
    q.org = request.org;
    q.function = window->function;
    q.fromNs = window->from * 1'000'000'000;
    q.toNs = window->to * 1'000'000'000;
    q.limit = limit;
    const ErrorGroupsAnswer answer = m_stats.errorGroups(q);
    if (!answer.ok)
        return reply(ApiError::internal("the error groups could not be read"));

    nlohmann::json groups = nlohmann::json::array();
    for (const ErrorGroup &g : answer.groups)
        groups.push_back({{"function", g.function},
                          {"type", g.type},
                          {"message", g.message},
                          {"count", g.count},
                          {"first", g.firstNs / 1'000'000'000},
                          {"last", g.lastNs / 1'000'000'000}});
    reply(api::Answer{200,
                      {{"org", request.org},
                       {"function", functionJson(window->function)},
                       {"from", window->from},
                       {"to", window->to},
                       {"matched", answer.matched},
                       {"errors", std::move(groups)}},
                      false});
}

} // namespace dispatch::stats
