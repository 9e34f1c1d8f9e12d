// Dispatch wire types: the JSON shapes of the Dispatch REST API (Solo line, v0.1.19+), shared by the server
// and the console so that there is exactly one definition of each model.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace dispatch::wire {

using Json = nlohmann::json;

// Status enum of pkg/api/v1/status.go. DELETED is accepted on output only.
enum class Status
{
    None,
    Initialized,
    Creating,
    Ready,
    Updating,
    Error,
    Deleting,
    Deleted
};

std::string toString(Status s);
std::optional<Status> statusFromString(const std::string &s);
bool isTransitional(Status s); // INITIALIZED, CREATING, UPDATING, DELETING

struct Tag
{
    std::string key;
    std::string value;
    friend bool operator==(const Tag &, const Tag &) = default;
};

struct KeyValue // Config {key,value} of drivers and driver types
{
    std::string key;
    std::string value;
    friend bool operator==(const KeyValue &, const KeyValue &) = default;
};

struct InvocationError
{
    std::string type; // InputError, FunctionError, SystemError
    std::string message;
    std::vector<std::string> stacktrace;
};

struct Logs
{
    std::vector<std::string> stdoutLines;
    std::vector<std::string> stderrLines;
};

struct BaseImage
{
    std::string name;
    std::string dockerUrl;
    std::string language;
    std::string id;
    int64_t createdTime = 0;
    Status status = Status::None;
    std::vector<std::string> reason;
    std::vector<Tag> tags;
};

struct SystemPackage
{
    std::string name;
    std::string version;
};

struct Image
{
    std::string name;
    std::string baseImageName;
    std::string dockerUrl;
    std::string language;
    std::string runtimeManifest; // runtimeDependencies.manifest
    // systemDependencies.packages (null when absent)
    std::optional<std::vector<SystemPackage>> systemPackages;
    std::string id;
    int64_t createdTime = 0;
    Status status = Status::None;
    std::vector<std::string> reason;
    std::vector<Tag> tags;
};

struct Function
{
    std::string name;
    std::string image;
    std::string handler;
    std::string source; // base64 tar.gz, input only
    std::string sourceURL;
    Json schemaIn;  // null when absent
    Json schemaOut; // null when absent
    std::vector<std::string> secrets;
    std::vector<std::string> services;
    int64_t timeout = 0; // milliseconds, 0 = none
    std::string faasId;
    std::string functionImageURL;
    std::string id;
    int64_t createdTime = 0;
    int64_t modifiedTime = 0;
    Status status = Status::None;
    std::vector<std::string> reason;
    std::vector<Tag> tags;
    // Extension fields (documented in backend/README.md): present only on our server.
    std::string revision; // == faasId of the revision that is live
    int64_t runRetention = 0; // runs kept for this function; 0 = the server's --run-retention
};

// Go's zero time.Time as Unix nanoseconds: what Solo reports for a run that has not finished.
inline constexpr int64_t kGoZeroTimeNs = -6795364578871345152LL;
// The same instant in Unix seconds (v0.1.x servers and the CLI's `since` default).
inline constexpr int64_t kGoZeroTimeSeconds = -62135596800LL;

struct Run
{
    std::string name; // run id (uuid)
    std::string functionName;
    std::string functionId;
    std::string faasId;
    bool blocking = false;
    Json input;  // discarded when null
    Json output; // discarded when null
    std::optional<InvocationError> error;
    std::optional<Logs> logs;
    Json event;       // CloudEvent without data, null when none
    Json httpContext; // null when none
    std::vector<std::string> secrets;
    Status status = Status::None;
    std::vector<std::string> reason;
    int64_t executedTime = 0; // Unix ns
    // Unix ns. Not finished: kGoZeroTimeNs (what Solo sends) or 0, which to_json writes as kGoZeroTimeNs;
    // readers treat any value <= 0 as "not finished".
    int64_t finishedTime = 0;
    std::vector<Tag> tags;
    // Extensions
    int64_t durationNs = -1; // time spent in the handler, -1 = unknown
    bool coldStart = false;
};

struct Secret
{
    std::string name;
    std::map<std::string, std::string> secrets;
    std::string id;
    std::vector<Tag> tags;
};

struct Api
{
    std::string name;
    std::string function;
    std::vector<std::string> methods;
    std::vector<std::string> uris;
    std::vector<std::string> hosts;
    std::vector<std::string> protocols;
    std::string authentication;
    bool enabled = false;
    bool cors = false;
    std::string tls;
    std::string id;
    Status status = Status::None;
    std::vector<std::string> reason;
    std::vector<Tag> tags;
};

struct EventDriverType
{
    std::string name;
    std::string image;
    bool expose = false;
    std::optional<std::vector<KeyValue>> config;
    std::string id;
    int64_t createdTime = 0;
    int64_t modifiedTime = 0;
    std::vector<Tag> tags;
};

struct EventDriver
{
    std::string name;
    std::string type;
    std::optional<std::vector<KeyValue>> config;
    std::vector<std::string> secrets;
    bool expose = false;
    std::string url;
    std::string id;
    int64_t createdTime = 0;
    int64_t modifiedTime = 0;
    Status status = Status::None;
    std::vector<std::string> reason;
    std::vector<Tag> tags;
};

struct Subscription
{
    std::string name;
    std::string eventType;
    std::string function;
    std::vector<std::string> secrets;
    std::string id;
    int64_t createdTime = 0;
    int64_t modifiedTime = 0;
    Status status = Status::None;
    std::vector<std::string> reason;
    std::vector<Tag> tags;
};

// CloudEvent spec 0.1 as Dispatch carries it (§3.7), plus the Emission `tags` (§3.8). CloudEvents 1.0 input
// is converted to this shape by normalizeCloudEvent() (validation.h).
struct CloudEvent
{
    std::string eventType;
    std::string eventTypeVersion;
    std::string cloudEventsVersion = "0.1";
    std::string source;
    std::string eventID;
    std::string eventTime; // RFC 3339 as Go re-serialises it (millisecond precision), "" when absent
    std::string schemaURL;
    std::string contentType;
    Json extensions;          // object, null when absent
    std::optional<Json> data; // raw JSON value; nullopt when absent (an explicit JSON null is kept)
    std::vector<Tag> tags;    // Emission only
};

// The event without `data`: what a function gets as ctx.event and what Run.event holds (§6.5).
Json eventContext(const CloudEvent &e);

// --- JSON (exact Dispatch field sets; see dispatch-api.md §3) ---
void to_json(Json &j, const Tag &t);
void to_json(Json &j, const KeyValue &t);
void to_json(Json &j, const InvocationError &e);
void to_json(Json &j, const Logs &l);
void to_json(Json &j, const BaseImage &m);
void to_json(Json &j, const Image &m);
void to_json(Json &j, const Function &m);
void to_json(Json &j, const Run &m);
void to_json(Json &j, const Secret &m);
void to_json(Json &j, const Api &m);
void to_json(Json &j, const EventDriverType &m);
void to_json(Json &j, const EventDriver &m);
void to_json(Json &j, const Subscription &m);
void to_json(Json &j, const SystemPackage &p);
void to_json(Json &j, const CloudEvent &e); // the Emission echo: known fields only, data kept as is

// Stored documents: the wire shape plus what Dispatch keeps but does not return (the `id` of drivers, driver
// types and subscriptions — a driver's id is its ingest token —, Function.modifiedTime and sourceURL).
// from_json reads both shapes.
Json toStorageJson(const BaseImage &m);
Json toStorageJson(const Image &m);
Json toStorageJson(const Function &m);
Json toStorageJson(const Run &m);
Json toStorageJson(const Secret &m);
Json toStorageJson(const Api &m);
Json toStorageJson(const EventDriverType &m);
Json toStorageJson(const EventDriver &m);
Json toStorageJson(const Subscription &m);

// Compact serialisation that never throws on invalid UTF-8 (function logs and outputs are untrusted):
// bad bytes become U+FFFD.
std::string dumpJson(const Json &j);

// Lenient readers for stored documents and for clients (the console). They never throw on a missing field;
// request validation with Dispatch's exact error codes lives in validation.h.
void from_json(const Json &j, Tag &t);
void from_json(const Json &j, KeyValue &t);
void from_json(const Json &j, InvocationError &e);
void from_json(const Json &j, Logs &l);
void from_json(const Json &j, BaseImage &m);
void from_json(const Json &j, Image &m);
void from_json(const Json &j, Function &m);
void from_json(const Json &j, Run &m);
void from_json(const Json &j, Secret &m);
void from_json(const Json &j, Api &m);
void from_json(const Json &j, EventDriverType &m);
void from_json(const Json &j, EventDriver &m);
void from_json(const Json &j, Subscription &m);
void from_json(const Json &j, SystemPackage &p);
void from_json(const Json &j, CloudEvent &e); // 0.1 shape only; see normalizeCloudEvent for 1.0

} // namespace dispatch::wire
