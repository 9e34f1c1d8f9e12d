// How the gateway turns an HTTP request into a run's input (dispatch-api.md §5.4, Solo's getInput): the query
// string of a GET, form fields, multipart fields (file parts as base64), JSON, or the raw bytes as base64.
// Pure functions on views of the request, so they are cheap to test and never touch the network.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "wire/models.h"

namespace dispatch::gateway {

using wire::Json;

// Standard base64 (RFC 4648, with padding), what Go's encoding/json writes for a []byte.
std::string base64Encode(std::string_view bytes);

// Fields as Go's url.Values flattened: a key seen once → its string, a key seen more often → an array of
// strings in order of appearance.
Json fieldsToObject(const std::vector<std::pair<std::string, std::string>> &fields);

// `?a=1&b=2&a=3` (without the '?') → {"a":["1","3"],"b":"2"}; '+' is a space, %XX is decoded.
Json queryToObject(std::string_view rawQuery);

// The media type of a Content-Type value, lower-case and without parameters ("" when there is none).
std::string mediaType(std::string_view contentType);
// A parameter of a Content-Type value (case-insensitive name; quoted values are unquoted).
std::optional<std::string> contentTypeParameter(std::string_view contentType, std::string_view name);

// multipart/form-data (RFC 7578): each part named by its Content-Disposition `name` becomes a field; parts
// with a `filename` carry bytes and become base64 strings. Repeated names become arrays, as for forms.
Result<Json> parseMultipart(std::string_view body, std::string_view boundary);

struct RequestInputView
{
    std::string_view method;   // as sent, e.g. "GET"
    std::string_view rawQuery; // without the '?'
    std::optional<std::string_view> contentType; // nullopt when the header is absent
    std::string_view body;
};

// The run input for a request, or the 400 to answer (messages as Solo's, e.g. "request body is not json").
Result<Json> requestInput(const RequestInputView &request);

} // namespace dispatch::gateway
