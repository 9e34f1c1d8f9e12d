// Request-body validation with go-swagger's behaviour and error codes (dispatch-api.md §1.3), the CloudEvent
// checks of the event manager (§3.7, §6.3), CloudEvents 1.0 → 0.1 conversion, and the name patterns (§1.5).
//
// Order of checks, as in Dispatch: the body must be JSON (400), then every known field must have the right
// JSON type (422/601, the first one in key order), then the model's Validate() runs field by field in
// alphabetical order: required (602), max length (603), pattern (605), enum (606), uuid format (601). Only
// the first failure is reported (go-openapi serves the first error of a composite). Unknown fields are
// ignored and a JSON null is the same as an absent field. Required means present and not null: "" satisfies
// it (Function.handler may be "").
//
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "wire/models.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace dispatch::wire {

// go-openapi validation codes (vendor/github.com/go-openapi/errors/schema.go).
namespace code {
inline constexpr int64_t InvalidType = 601;
inline constexpr int64_t Required = 602;
inline constexpr int64_t TooLong = 603;
inline constexpr int64_t TooShort = 604;
inline constexpr int64_t Pattern = 605;
inline constexpr int64_t Enum = 606;
inline constexpr int64_t Minimum = 609; // go-openapi MinFailCode
} // namespace code

// An HTTP status plus the Dispatch error body {"code", "message"}. Maps 1:1 onto dispatch::ApiError.
struct ValidationError
{
    int httpStatus = 422;
    int64_t code = 0;
    std::string message;

    static ValidationError badRequest(std::string msg) { return {400, 400, std::move(msg)}; }
    static ValidationError validation(int64_t openApiCode, std::string msg)
    {
        return {422, openApiCode, std::move(msg)};
    }
    Json toJson() const { return Json{{"code", code}, {"message", message}}; }
    friend bool operator==(const ValidationError &, const ValidationError &) = default;
};

// A parsed value or the error to answer with.
template <typename T> class Validated
{
public:
    Validated(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    Validated(ValidationError error) : m_v(std::in_place_index<1>, std::move(error)) {}
    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }
    T &value() { return std::get<0>(m_v); }
    const T &value() const { return std::get<0>(m_v); }
    T &operator*() { return value(); }
    const T &operator*() const { return value(); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    const ValidationError &error() const { return std::get<1>(m_v); }

private:
    std::variant<T, ValidationError> m_v;
};

// --- names (Go's \w is ASCII [0-9A-Za-z_]) ---
bool isValidName(std::string_view s);       // ^[\w\d][\w\d\-]*$   (most resources)
bool isValidDriverName(std::string_view s); // ^[a-z0-9][a-z0-9\-]*$ (event drivers)
bool isValidPathName(std::string_view s);   // ^[\w\d\-]+$         (path parameters, Subscription.function)
bool isValidEventType(std::string_view s);  // ^[\w\d\-\.]+$ and at most 128 characters
bool isUuid(std::string_view s);            // strfmt "uuid": 8-4-4-4-12 hex, dashes optional, any case
bool isRfc3339DateTime(std::string_view s); // strfmt "date-time" (fraction and zone optional)
bool isRequestUri(std::string_view s);      // Go url.ParseRequestURI: absolute URI or absolute path

// Length in Unicode code points, as go-openapi's MaxLength counts it.
std::size_t utf8Length(std::string_view s);

// The custom message of the name pattern (pkg/api/v1/field_patterns.go), e.g. for field "name":
// "name should start with letter or number and may only contain letters, numbers, underscores and dashes".
std::string namePatternMessage(std::string_view field);

// JSON type name as go-openapi reports it: string, number, boolean, object, array, null.
std::string_view jsonTypeName(const Json &j);

// Nesting deeper than this is refused (400) before anything recursive touches the document.
inline constexpr std::size_t kMaxJsonDepth = 512;

// --- request bodies ---
// `param` is the swagger name of the body parameter: "body" everywhere except POST/PUT /v1/secret ("secret").
// Empty (whitespace only) body → 422/602 "<param> in body is required"; not JSON → 400 "request body is not
// valid JSON: <detail>"; a body that is not an object → 422/601 "<param> in body must be of type object: …".
// A JSON null body counts as {} (Go decodes it into an empty struct).
Validated<Json> parseJsonBody(std::string_view body, std::string_view param = "body");
Validated<Json> parseJsonObjectBody(std::string_view body, std::string_view param = "body");

Validated<BaseImage> parseBaseImage(std::string_view body);
Validated<Image> parseImage(std::string_view body);
Validated<Function> parseFunction(std::string_view body);
Validated<Run> parseRun(std::string_view body);
Validated<Secret> parseSecret(std::string_view body); // a non-string secret value → 400
Validated<Api> parseApi(std::string_view body);
Validated<EventDriverType> parseEventDriverType(std::string_view body);
Validated<EventDriver> parseEventDriver(std::string_view body);
Validated<Subscription> parseSubscription(std::string_view body);

// The same on an already parsed document (it must be an object or null).
Validated<BaseImage> validateBaseImage(const Json &body);
Validated<Image> validateImage(const Json &body);
Validated<Function> validateFunction(const Json &body);
Validated<Run> validateRun(const Json &body);
Validated<Secret> validateSecret(const Json &body);
Validated<Api> validateApi(const Json &body);
Validated<EventDriverType> validateEventDriverType(const Json &body);
Validated<EventDriver> validateEventDriver(const Json &body);
Validated<Subscription> validateSubscription(const Json &body);

// --- events ---
// "Error validating event: " — the prefix of every event error (400, code 400).
inline constexpr std::string_view kEventErrorPrefix = "Error validating event: ";

// Checks a 0.1-shaped event (Emission): field types, cloudEventsVersion == "0.1", eventID, eventTime
// (date-time), eventType (required, ≤ 128, ^[\w\d\-\.]+$), source, schemaURL (URI). Returns the problem
// (without the prefix), or "" when the event is valid.
std::string cloudEventProblem(const Json &event);

// Returns a 0.1-shaped event: a 0.1 event is returned unchanged; a CloudEvents 1.0 structured event
// ("specversion":"1.0") is converted: type→eventType, id→eventID, time→eventTime,
// datacontenttype→contentType, dataschema→schemaURL, data→data, data_base64→data (the base64 string, as 0.1
// carries binary), every other attribute (subject, extensions) → extensions, and cloudEventsVersion "0.1".
// Errors (400) name the 1.0 fields. The result is not yet checked by cloudEventProblem().
Validated<Json> normalizeCloudEvent(const Json &event);

// normalizeCloudEvent + cloudEventProblem + conversion; eventTime is re-serialised like Go's strfmt.DateTime
// (millisecond precision, original offset, "Z" for UTC). Errors are 400 "Error validating event: …".
Validated<CloudEvent> parseCloudEvent(const Json &event);

// A request body of POST /v1/event/ (one event) or /v1/event/ingest (one event or, with allowArray, a JSON
// array of events, §6.3). JSON errors are reported like parseJsonBody; event errors like parseCloudEvent
// (for arrays the message names the index: "event 2: …").
Validated<std::vector<CloudEvent>> parseEventBody(std::string_view body, bool allowArray);

// Go strfmt.DateTime re-serialisation of a valid date-time ("" if it is not one).
std::string normalizeDateTime(std::string_view s);

} // namespace dispatch::wire
