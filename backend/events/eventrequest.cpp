// SPDX-License-Identifier: GPL-3.0-or-later
#include "events/eventrequest.h"

#include <cctype>

#include "api/restapi.h"

namespace dispatch::events {

namespace {

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto &c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// "application/json; charset=utf-8" → "application/json"
std::string mediaType(std::string_view contentType)
{
    auto semi = contentType.find(';');
    std::string_view t = contentType.substr(0, semi);
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back())))
        t.remove_suffix(1);
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front())))
        t.remove_prefix(1);
    return lower(t);
}

bool isJsonMediaType(const std::string &t)
{
    return t == "application/json" || t == "text/json" || (t.size() > 5 && t.ends_with("+json"));
}

wire::ValidationError eventError(std::string detail)
{
    return wire::ValidationError::badRequest(std::string(wire::kEventErrorPrefix) + std::move(detail));
}

wire::Validated<EventRequest> parseBinaryMode(const http::Request &req)
{
    wire::Json event = wire::Json::object();
    for (const auto &field : req) {
        const std::string name = lower(field.name_string());
        if (name.size() <= 3 || name.compare(0, 3, "ce-") != 0)
            continue;
        // The HTTP binding percent-encodes what a header cannot carry.
        std::string value = api::percentDecode(field.value(), false);
        if (!isValidUtf8(value))
            return eventError("header " + name + " is not valid UTF-8");
        event[name.substr(3)] = std::move(value);
    }
    std::string type;
    if (auto ct = req.find(http::bhttp::field::content_type); ct != req.end()) {
        event["datacontenttype"] = std::string(ct->value());
        type = mediaType(ct->value());
    }
    const std::string &body = req.body();
    if (!body.empty()) {
        if (isJsonMediaType(type) || type.empty()) {
            auto data = wire::parseJsonBody(body, "body");
            if (data)
                event["data"] = std::move(*data);
            else if (!type.empty())
                return eventError("the data of a binary-mode event with Content-Type " + type +
                                  " is not valid JSON");
            else if (isValidUtf8(body))
                event["data"] = body;
            else
                event["data_base64"] = base64Encode(body);
        } else if (type.starts_with("text/") && isValidUtf8(body)) {
            event["data"] = body;
        } else {
            event["data_base64"] = base64Encode(body);
        }
    }
    auto parsed = wire::parseCloudEvent(event);
    if (!parsed)
        return parsed.error();
    EventRequest out;
    out.events.push_back(std::move(*parsed));
    return out;
}

} // namespace

wire::Validated<EventRequest> parseEventRequest(const http::Request &req, bool allowArray)
{
    if (req.find("ce-specversion") != req.end())
        return parseBinaryMode(req);
    bool batch = false;
    if (auto ct = req.find(http::bhttp::field::content_type); ct != req.end())
        batch = mediaType(ct->value()) == "application/cloudevents-batch+json";
    const std::string &body = req.body();
    auto events = wire::parseEventBody(body, allowArray || batch);
    if (!events)
        return events.error();
    EventRequest out;
    out.events = std::move(*events);
    // parseEventBody accepted an array only if one was sent.
    std::size_t i = 0;
    while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i])))
        ++i;
    out.array = (allowArray || batch) && i < body.size() && body[i] == '[';
    return out;
}

std::string base64Encode(std::string_view in)
{
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                           static_cast<unsigned char>(in[i + 2]);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (i + 1 == in.size()) {
        const uint32_t v = static_cast<unsigned char>(in[i]) << 16;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += "==";
    } else if (i + 2 == in.size()) {
        const uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

bool isValidUtf8(std::string_view s)
{
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (std::size_t k = 1; k <= n; ++k) {
            if (i + k >= s.size())
                return false;
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        // Overlong forms, surrogates and values beyond U+10FFFF are not UTF-8.
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

} // namespace dispatch::events
