// The body (and headers) of POST /v1/event/ and /v1/event/ingest as CloudEvents in the 0.1 shape Dispatch
// carries: structured mode (a 0.1 event as Dispatch sends it, or a CloudEvents 1.0 event with "specversion";
// a JSON array of them where allowed) and the CloudEvents 1.0 HTTP binary mode (the ce-* headers are the
// attributes, Content-Type is the data content type, the body is the data).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/server.h"
#include "wire/validation.h"

namespace dispatch::events {

struct EventRequest
{
    std::vector<wire::CloudEvent> events;
    bool array = false; // the body was a JSON array (the echo is an array too)
};

// `allowArray`: a JSON array of events is accepted (ingest, §6.3). A body with the Content-Type
// application/cloudevents-batch+json is always read as an array. Errors are the 400/422 answers of §6.
wire::Validated<EventRequest> parseEventRequest(const http::Request &request, bool allowArray);

// Standard base64 with padding (binary data of a binary-mode event becomes a base64 string, as in 0.1).
std::string base64Encode(std::string_view bytes);

bool isValidUtf8(std::string_view s);

} // namespace dispatch::events
