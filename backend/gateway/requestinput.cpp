// SPDX-License-Identifier: GPL-3.0-or-later
#include "gateway/requestinput.h"

#include <array>
#include <cctype>

#include "api/restapi.h"
#include "wire/validation.h"

namespace dispatch::gateway {

namespace {

// Far more than any form has; keeps a hostile body from building a huge document out of empty parts.
constexpr std::size_t kMaxMultipartParts = 10000;

char lower(char c)
{
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool iequals(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

// The `; name=value` parameters after the first ';' of a header value (Content-Type, Content-Disposition).
// Values may be quoted strings with backslash escapes.
std::vector<std::pair<std::string, std::string>> headerParameters(std::string_view value)
{
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t i = value.find(';');
    while (i != std::string_view::npos && i < value.size()) {
        ++i; // past ';'
        while (i < value.size() && (value[i] == ' ' || value[i] == '\t'))
            ++i;
        const std::size_t nameStart = i;
        while (i < value.size() && value[i] != '=' && value[i] != ';')
            ++i;
        std::string name;
        for (char c : trim(value.substr(nameStart, i - nameStart)))
            name.push_back(lower(c));
        std::string val;
        if (i < value.size() && value[i] == '=') {
            ++i;
            while (i < value.size() && (value[i] == ' ' || value[i] == '\t'))
                ++i;
            if (i < value.size() && value[i] == '"') {
                ++i;
                while (i < value.size() && value[i] != '"') {
                    if (value[i] == '\\' && i + 1 < value.size())
                        ++i;
                    val.push_back(value[i++]);
                }
                if (i < value.size())
                    ++i; // closing quote
                while (i < value.size() && value[i] != ';')
                    ++i;
            } else {
                const std::size_t valueStart = i;
                while (i < value.size() && value[i] != ';')
                    ++i;
                val = std::string(trim(value.substr(valueStart, i - valueStart)));
            }
        }
        if (!name.empty())
            out.emplace_back(std::move(name), std::move(val));
        if (i >= value.size())
            break;
        if (value[i] != ';')
            i = value.find(';', i);
    }
    return out;
}

ApiError multipartError(const std::string &detail)
{
    return ApiError::badRequest("request body is not valid multipart/form-data: " + detail);
}

} // namespace

std::string base64Encode(std::string_view bytes)
{
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const uint32_t v = (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                           (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                           static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(kAlphabet[(v >> 6) & 63]);
        out.push_back(kAlphabet[v & 63]);
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
        if (rest == 2)
            v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

Json fieldsToObject(const std::vector<std::pair<std::string, std::string>> &fields)
{
    Json out = Json::object();
    for (const auto &[key, value] : fields) {
        auto it = out.find(key);
        if (it == out.end()) {
            out[key] = value;
        } else if (it->is_array()) {
            it->push_back(value);
        } else {
            Json both = Json::array({std::move(*it), value});
            *it = std::move(both);
        }
    }
    return out;
}

Json queryToObject(std::string_view rawQuery)
{
    return fieldsToObject(api::parseQuery(rawQuery).items);
}

std::string mediaType(std::string_view contentType)
{
    std::string out;
    for (char c : trim(contentType.substr(0, contentType.find(';'))))
        out.push_back(lower(c));
    return out;
}

std::optional<std::string> contentTypeParameter(std::string_view contentType, std::string_view name)
{
    for (auto &[k, v] : headerParameters(contentType))
        if (iequals(k, name))
            return v;
    return std::nullopt;
}

Result<Json> parseMultipart(std::string_view body, std::string_view boundary)
{
    if (boundary.empty() || boundary.size() > 200)
        return multipartError("the content type has no usable boundary");
    const std::string delimiter = "--" + std::string(boundary);
    const std::string separator = "\r\n" + delimiter;

    // The first delimiter starts the body or a line (anything before it is preamble).
    std::size_t pos;
    if (body.substr(0, delimiter.size()) == delimiter) {
        pos = delimiter.size();
    } else {
        pos = body.find(separator);
        if (pos == std::string_view::npos)
            return multipartError("the boundary does not occur in the body");
        pos += separator.size();
    }

    std::vector<std::pair<std::string, std::string>> fields;
    for (std::size_t parts = 0;; ++parts) {
        if (body.substr(pos, 2) == "--")
            break; // the closing delimiter; the epilogue is ignored
        if (parts >= kMaxMultipartParts)
            return multipartError("more than " + std::to_string(kMaxMultipartParts) + " parts");
        while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t'))
            ++pos; // transport padding
        if (body.substr(pos, 2) != "\r\n")
            return multipartError("a boundary line is not followed by a line break");
        pos += 2;

        std::string_view headers;
        std::size_t contentStart;
        if (body.substr(pos, 2) == "\r\n") {
            contentStart = pos + 2; // a part without headers
        } else {
            const std::size_t end = body.find("\r\n\r\n", pos);
            if (end == std::string_view::npos)
                return multipartError("a part's headers do not end");
            headers = body.substr(pos, end - pos);
            contentStart = end + 4;
        }
        const std::size_t next = body.find(separator, contentStart);
        if (next == std::string_view::npos)
            return multipartError("the closing boundary is missing");
        const std::string_view content = body.substr(contentStart, next - contentStart);
        pos = next + separator.size();

        std::optional<std::string> name;
        bool isFile = false;
        std::size_t lineStart = 0;
        while (lineStart <= headers.size()) {
            std::size_t lineEnd = headers.find("\r\n", lineStart);
            if (lineEnd == std::string_view::npos)
                lineEnd = headers.size();
            const std::string_view line = headers.substr(lineStart, lineEnd - lineStart);
            lineStart = lineEnd + 2;
            const std::size_t colon = line.find(':');
            if (colon == std::string_view::npos || !iequals(trim(line.substr(0, colon)), "content-disposition"))
                continue;
            const std::string_view value = trim(line.substr(colon + 1));
            if (!iequals(mediaType(value), "form-data"))
                continue;
            for (auto &[k, v] : headerParameters(value)) {
                if (k == "name")
                    name = v;
                else if (k == "filename" || k == "filename*")
                    isFile = true;
            }
        }
        if (!name)
            continue; // Go's multipart reader skips parts without a form name as well
        fields.emplace_back(std::move(*name), isFile ? base64Encode(content) : std::string(content));
    }
    return fieldsToObject(fields);
}

Result<Json> requestInput(const RequestInputView &request)
{
    if (request.method == "GET")
        return queryToObject(request.rawQuery);
    if (request.body.empty())
        return Json::object();
    const std::string_view contentType = request.contentType ? trim(*request.contentType) : std::string_view();
    if (contentType.empty())
        return Json(base64Encode(request.body));

    const std::string type = mediaType(contentType);
    const bool isJson = type == "application/json" ||
                        (type.rfind("application/", 0) == 0 && type.size() > 17 &&
                         type.compare(type.size() - 5, 5, "+json") == 0);
    if (isJson) {
        auto parsed = wire::parseJsonBody(request.body);
        if (!parsed)
            return ApiError::badRequest("request body is not json");
        return std::move(*parsed);
    }
    if (type == "application/x-www-form-urlencoded")
        return queryToObject(request.body);
    if (type == "multipart/form-data") {
        auto boundary = contentTypeParameter(contentType, "boundary");
        return parseMultipart(request.body, boundary ? *boundary : std::string());
    }
    return ApiError::badRequest("request body type is not supported: " + std::string(contentType));
}

} // namespace dispatch::gateway
