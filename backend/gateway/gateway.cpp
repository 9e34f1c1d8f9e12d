// SPDX-License-Identifier: GPL-3.0-or-later
#include "gateway/gateway.h"

#include <cctype>

#include "api/restapi.h"
#include "gateway/requestinput.h"
#include "wire/models.h"

namespace dispatch::gateway {

namespace bhttp = boost::beast::http;
using wire::Json;

namespace {

bool iequals(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

// The Host header without its port, lower-case ("[::1]:8081" → "[::1]").
std::string requestHost(const http::Request &req)
{
    auto it = req.find(bhttp::field::host);
    if (it == req.end())
        return {};
    std::string_view host = it->value();
    if (!host.empty() && host.front() == '[') {
        if (auto close = host.find(']'); close != std::string_view::npos)
            host = host.substr(0, close + 1);
    } else {
        host = host.substr(0, host.find(':'));
    }
    std::string out(host);
    for (auto &c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

void addCors(http::Response &res)
{
    res.set(bhttp::field::access_control_allow_origin, "*");
    res.set(bhttp::field::access_control_allow_methods, "*");
    res.set(bhttp::field::access_control_allow_headers, "*");
}

// Gateway errors are {"message": ...} only (no "code"), as Solo's gateway writes them.
http::Response message(int status, const std::string &text, unsigned version, bool cors)
{
    auto res = http::makeJson(status, wire::dumpJson(Json{{"message", text}}), version);
    if (cors)
        addCors(res);
    return res;
}

http::Response empty(unsigned version, bool cors)
{
    auto res = http::makeEmpty(200, version);
    if (cors)
        addCors(res);
    return res;
}

// The top-level status, output and error of a serialised run.
Json parseRunOutcome(const std::string &document)
{
    static const Json::parser_callback_t keep = [](int depth, Json::parse_event_t event, Json &parsed) {
        if (depth != 1 || event != Json::parse_event_t::key)
            return true;
        const auto &key = parsed.get_ref<const std::string &>();
        return key == "status" || key == "output" || key == "error";
    };
    return Json::parse(document, keep, false);
}

// 502 for a failed run: its error message and type.
http::Response failedRun(const std::string &text, const std::string &type, unsigned version, bool cors)
{
    auto res = http::makeJson(502, wire::dumpJson(Json{{"message", text}, {"type", type.empty() ? "SystemError" : type}}),
                              version);
    if (cors)
        addCors(res);
    return res;
}

// 200 with the run's output as the body (empty for no output).
http::Response outputOf(const Json &out, unsigned version, bool cors)
{
    if (out.is_null() || (out.is_string() && out.get_ref<const std::string &>().empty()))
        return empty(version, cors);
    auto res = http::makeJson(200, wire::dumpJson(out), version);
    if (cors)
        addCors(res);
    return res;
}

// The answer to a gateway call from the run (or the error createRun gave).
http::Response runResponse(const Result<api::Answer> &r, bool blocking, unsigned version, bool cors)
{
    if (!r.ok()) {
        const ApiError &e = r.error();
        // createRun's 404 means the function is missing or not READY: the API exists, the backend does not
        // serve (yet), which is what 503 says.
        return message(e.status == 404 ? 503 : e.status, e.message, version, cors);
    }
    const api::Answer &answer = r.value();
    if (!blocking || answer.status == 202)
        return empty(version, cors);
    if (answer.run) { // the finished run itself: nothing to parse
        const wire::Run &run = *answer.run;
        if (run.status == wire::Status::Error)
            return run.error ? failedRun(run.error->message, run.error->type, version, cors)
                             : failedRun("the function failed", "SystemError", version, cors);
        return outputOf(run.output, version, cors);
    }
    // Otherwise a serialised run: read back only status, output and error.
    const Json run = answer.rawBody.empty() ? answer.body : parseRunOutcome(answer.rawBody);
    if (!run.is_object())
        return empty(version, cors);
    if (auto st = run.find("status"); st != run.end() && st->is_string() && st->get_ref<const std::string &>() == "ERROR") {
        std::string text = "the function failed";
        std::string type = "SystemError";
        if (auto err = run.find("error"); err != run.end() && err->is_object()) {
            if (auto m = err->find("message"); m != err->end() && m->is_string())
                text = m->get<std::string>();
            if (auto t = err->find("type"); t != err->end() && t->is_string())
                type = t->get<std::string>();
        }
        return failedRun(text, type, version, cors);
    }
    auto out = run.find("output");
    return outputOf(out == run.end() ? Json() : *out, version, cors);
}

} // namespace

Gateway::Gateway(ApiManager &apis, api::Service &service) : m_apis(apis), m_service(service) {}

void Gateway::handle(std::shared_ptr<http::RequestContext> ctx, http::ResponderPtr responder)
{
    const http::Request &req = ctx->request;
    const unsigned version = req.version();
    const std::string_view target = req.target();
    std::string_view rawPath = target;
    std::string_view rawQuery;
    if (auto q = target.find('?'); q != std::string_view::npos) {
        rawPath = target.substr(0, q);
        rawQuery = target.substr(q + 1);
    }
    std::string decoded;
    std::string_view path = rawPath;
    if (rawPath.find('%') != std::string_view::npos) {
        decoded = api::percentDecode(rawPath, false);
        path = decoded;
    }

    const auto routes = m_apis.routes();
    const std::string host = routes->hasHostRoutes() ? requestHost(req) : std::string();
    const std::string_view method = req.method_string();
    const Route *route = routes->find(path, method, host, ctx->tls);
    if (!route && !routes->empty()) {
        // "//dispatch/hello/" and friends name the same resource; only a miss pays for cleaning.
        const std::string clean = api::cleanPath(path);
        if (clean != path)
            route = routes->find(clean, method, host, ctx->tls);
    }
    if (!route)
        return responder->send(message(404, "no API found with those values", version, false));

    const bool cors = route->cors;
    if (!route->allows(ctx->tls))
        return responder->send(message(400, "Please use " + route->requiredProtocol() + " protocol", version, cors));
    if (cors && req.method() == bhttp::verb::options)
        return responder->send(empty(version, true));

    std::optional<std::string_view> contentType;
    if (auto ct = req.find(bhttp::field::content_type); ct != req.end())
        contentType = ct->value();
    auto input = requestInput({method, rawQuery, contentType, req.body()});
    if (!input)
        return responder->send(message(input.error().status, input.error().message, version, cors));

    wire::Run run;
    run.blocking = true;
    if (auto b = req.find("x-dispatch-blocking"); b != req.end())
        run.blocking = !(iequals(b->value(), "false") || b->value() == "0");
    run.input = std::move(*input);
    const std::string targetString(target);
    run.httpContext = Json{{"args", rawQuery},
                           {"method", method},
                           {"request", targetString},
                           {"request_uri", targetString},
                           {"scheme", ctx->tls ? "https" : "http"},
                           {"server_protocol", version == 10 ? "HTTP/1.0" : "HTTP/1.1"},
                           {"upstream_uri", route->function},
                           {"uri", targetString}};
    const bool blocking = run.blocking;
    m_service.createRun(route->org, route->function, std::move(run),
                        [responder = std::move(responder), blocking, version, cors](Result<api::Answer> r) {
                            responder->send(runResponse(r, blocking, version, cors));
                        });
}

} // namespace dispatch::gateway
