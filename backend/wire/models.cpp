// Dispatch wire types: exact output field sets and lenient readers.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "wire/models.h"

#include <cmath>
#include <limits>

#include "wire/jsonwriter.h"

namespace dispatch::wire {

namespace {

// ---- writers ----

// Go serialises a nil slice as null and (for these models) an empty one only when a client sent []: Dispatch
// output has null for "nothing".
Json stringsOrNull(const std::vector<std::string> &v)
{
    return v.empty() ? Json(nullptr) : Json(v);
}

Json stringsOrEmptyArray(const std::vector<std::string> &v)
{
    return v.empty() ? Json::array() : Json(v);
}

Json tagsOrNull(const std::vector<Tag> &tags)
{
    return tags.empty() ? Json(nullptr) : Json(tags);
}

Json configOrNull(const std::optional<std::vector<KeyValue>> &config)
{
    if (!config)
        return nullptr;
    return Json(*config);
}

void putIfNotEmpty(Json &j, const char *key, const std::string &value)
{
    if (!value.empty())
        j[key] = value;
}

void putIfNotZero(Json &j, const char *key, int64_t value)
{
    if (value != 0)
        j[key] = value;
}

void putStatus(Json &j, Status s)
{
    if (s != Status::None)
        j["status"] = toString(s);
}

// ---- lenient readers: a missing key or a value of the wrong type leaves the default ----

// The value under `key` if it is present and not null. Looks into the underlying map directly: GCC's
// -Wnull-dereference cannot see through basic_json's iterators at -O2.
const Json *findRaw(const Json &j, const char *key)
{
    if (!j.is_object())
        return nullptr;
    const auto &object = j.get_ref<const Json::object_t &>();
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &it->second;
}

const Json *find(const Json &j, const char *key)
{
    const Json *v = findRaw(j, key);
    return v && !v->is_null() ? v : nullptr;
}

void readString(const Json &j, const char *key, std::string &out)
{
    if (const Json *v = find(j, key); v && v->is_string())
        out = v->get_ref<const std::string &>();
}

void readInt(const Json &j, const char *key, int64_t &out)
{
    const Json *v = find(j, key);
    if (!v)
        return;
    if (v->is_number_integer()) {
        if (v->is_number_unsigned()) {
            const auto u = v->get<uint64_t>();
            out = u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                      ? std::numeric_limits<int64_t>::max()
                      : static_cast<int64_t>(u);
        } else {
            out = v->get<int64_t>();
        }
    } else if (v->is_number_float()) {
        const double d = v->get<double>();
        if (std::isfinite(d) && d >= -9.2e18 && d <= 9.2e18)
            out = static_cast<int64_t>(d);
    }
}

void readBool(const Json &j, const char *key, bool &out)
{
    if (const Json *v = find(j, key); v && v->is_boolean())
        out = v->get<bool>();
}

void readStrings(const Json &j, const char *key, std::vector<std::string> &out)
{
    const Json *v = find(j, key);
    if (!v || !v->is_array())
        return;
    out.clear();
    out.reserve(v->size());
    for (const auto &item : *v) {
        if (item.is_string())
            out.push_back(item.get<std::string>());
        else if (item.is_null())
            out.emplace_back(); // Go decodes a null element of []string as ""
    }
}

template <typename T> void readObjects(const Json &j, const char *key, std::vector<T> &out)
{
    const Json *v = find(j, key);
    if (!v || !v->is_array())
        return;
    out.clear();
    out.reserve(v->size());
    for (const auto &item : *v) {
        if (item.is_object()) {
            T t;
            from_json(item, t);
            out.push_back(std::move(t));
        }
    }
}

void readStatus(const Json &j, Status &out)
{
    std::string s;
    readString(j, "status", s);
    out = statusFromString(s).value_or(Status::None);
}

void readConfig(const Json &j, std::optional<std::vector<KeyValue>> &out)
{
    const Json *v = find(j, "config");
    if (!v || !v->is_array())
        return;
    std::vector<KeyValue> config;
    readObjects(j, "config", config);
    out = std::move(config);
}

// The first key of `keys` that is present.
void readIntEither(const Json &j, const char *a, const char *b, int64_t &out)
{
    if (find(j, a))
        readInt(j, a, out);
    else
        readInt(j, b, out);
}

} // namespace

// ---------------------------------------------------------------------------------------------------------
// Status

std::string toString(Status s)
{
    switch (s) {
    case Status::None:
        return {};
    case Status::Initialized:
        return "INITIALIZED";
    case Status::Creating:
        return "CREATING";
    case Status::Ready:
        return "READY";
    case Status::Updating:
        return "UPDATING";
    case Status::Error:
        return "ERROR";
    case Status::Deleting:
        return "DELETING";
    case Status::Deleted:
        return "DELETED";
    }
    return {};
}

std::optional<Status> statusFromString(const std::string &s)
{
    if (s.empty())
        return Status::None;
    if (s == "INITIALIZED")
        return Status::Initialized;
    if (s == "CREATING")
        return Status::Creating;
    if (s == "READY")
        return Status::Ready;
    if (s == "UPDATING")
        return Status::Updating;
    if (s == "ERROR")
        return Status::Error;
    if (s == "DELETING")
        return Status::Deleting;
    if (s == "DELETED")
        return Status::Deleted;
    return std::nullopt;
}

bool isTransitional(Status s)
{
    return s == Status::Initialized || s == Status::Creating || s == Status::Updating ||
           s == Status::Deleting;
}

// ---------------------------------------------------------------------------------------------------------
// Small types

void to_json(Json &j, const Tag &t)
{
    j = Json::object();
    putIfNotEmpty(j, "key", t.key);
    putIfNotEmpty(j, "value", t.value);
}

void to_json(Json &j, const KeyValue &t)
{
    j = Json::object();
    putIfNotEmpty(j, "key", t.key);
    putIfNotEmpty(j, "value", t.value);
}

void to_json(Json &j, const InvocationError &e)
{
    j = Json{{"message", e.message}, {"stacktrace", stringsOrNull(e.stacktrace)}, {"type", e.type}};
}

void to_json(Json &j, const Logs &l)
{
    j = Json{{"stderr", stringsOrNull(l.stderrLines)}, {"stdout", stringsOrNull(l.stdoutLines)}};
}

void to_json(Json &j, const SystemPackage &p)
{
    j = Json{{"name", p.name}};
    putIfNotEmpty(j, "version", p.version);
}

void from_json(const Json &j, Tag &t)
{
    readString(j, "key", t.key);
    readString(j, "value", t.value);
}

void from_json(const Json &j, KeyValue &t)
{
    readString(j, "key", t.key);
    readString(j, "value", t.value);
}

void from_json(const Json &j, InvocationError &e)
{
    readString(j, "type", e.type);
    readString(j, "message", e.message);
    readStrings(j, "stacktrace", e.stacktrace);
    if (e.stacktrace.empty())
        readStrings(j, "stackTrace", e.stacktrace); // the clojure base image spells it this way (§4.3)
}

void from_json(const Json &j, Logs &l)
{
    readStrings(j, "stdout", l.stdoutLines);
    readStrings(j, "stderr", l.stderrLines);
}

void from_json(const Json &j, SystemPackage &p)
{
    readString(j, "name", p.name);
    readString(j, "version", p.version);
}

// ---------------------------------------------------------------------------------------------------------
// BaseImage (§3.1)

void to_json(Json &j, const BaseImage &m)
{
    j = Json{{"dockerUrl", m.dockerUrl},  {"groups", nullptr}, {"kind", "BaseImage"},
             {"language", m.language},    {"name", m.name},    {"reason", stringsOrNull(m.reason)},
             {"tags", tagsOrNull(m.tags)}};
    putIfNotZero(j, "createdTime", m.createdTime);
    putIfNotEmpty(j, "id", m.id);
    putStatus(j, m.status);
}

void from_json(const Json &j, BaseImage &m)
{
    readString(j, "name", m.name);
    readString(j, "dockerUrl", m.dockerUrl);
    readString(j, "language", m.language);
    readString(j, "id", m.id);
    readInt(j, "createdTime", m.createdTime);
    readStatus(j, m.status);
    readStrings(j, "reason", m.reason);
    readObjects(j, "tags", m.tags);
}

Json toStorageJson(const BaseImage &m)
{
    return Json(m);
}

// ---------------------------------------------------------------------------------------------------------
// Image (§3.2)

void to_json(Json &j, const Image &m)
{
    Json runtime = Json::object();
    putIfNotEmpty(runtime, "manifest", m.runtimeManifest);
    Json packages = m.systemPackages ? Json(*m.systemPackages) : Json(nullptr);
    j = Json{{"baseImageName", m.baseImageName},
             {"groups", nullptr},
             {"kind", "Image"},
             {"name", m.name},
             {"reason", stringsOrNull(m.reason)},
             {"runtimeDependencies", std::move(runtime)},
             {"systemDependencies", Json{{"packages", std::move(packages)}}},
             {"tags", tagsOrNull(m.tags)}};
    putIfNotZero(j, "createdTime", m.createdTime);
    putIfNotEmpty(j, "dockerUrl", m.dockerUrl);
    putIfNotEmpty(j, "id", m.id);
    putIfNotEmpty(j, "language", m.language);
    putStatus(j, m.status);
}

void from_json(const Json &j, Image &m)
{
    readString(j, "name", m.name);
    readString(j, "baseImageName", m.baseImageName);
    readString(j, "dockerUrl", m.dockerUrl);
    readString(j, "language", m.language);
    if (const Json *rt = find(j, "runtimeDependencies"))
        readString(*rt, "manifest", m.runtimeManifest);
    if (const Json *sd = find(j, "systemDependencies")) {
        if (const Json *p = find(*sd, "packages"); p && p->is_array()) {
            std::vector<SystemPackage> packages;
            readObjects(*sd, "packages", packages);
            m.systemPackages = std::move(packages);
        }
    }
    readString(j, "id", m.id);
    readInt(j, "createdTime", m.createdTime);
    readStatus(j, m.status);
    readStrings(j, "reason", m.reason);
    readObjects(j, "tags", m.tags);
}

Json toStorageJson(const Image &m)
{
    return Json(m);
}

// ---------------------------------------------------------------------------------------------------------
// Function (§3.3). `source`/`sourceURL`/`modifiedTime` are never returned; `schema` always is.

void to_json(Json &j, const Function &m)
{
    j = Json{{"handler", m.handler},
             {"image", m.image},
             {"kind", "Function"},
             {"name", m.name},
             {"reason", stringsOrNull(m.reason)},
             {"schema", Json{{"in", m.schemaIn}, {"out", m.schemaOut}}},
             {"secrets", stringsOrNull(m.secrets)},
             {"services", stringsOrNull(m.services)},
             {"tags", tagsOrNull(m.tags)}};
    putIfNotZero(j, "createdTime", m.createdTime);
    putIfNotEmpty(j, "faasId", m.faasId);
    putIfNotEmpty(j, "functionImageURL", m.functionImageURL);
    putIfNotEmpty(j, "id", m.id);
    putStatus(j, m.status);
    putIfNotZero(j, "timeout", m.timeout);
    putIfNotEmpty(j, "revision", m.revision); // extension
    putIfNotZero(j, "runRetention", m.runRetention); // extension
}

void from_json(const Json &j, Function &m)
{
    readString(j, "name", m.name);
    readString(j, "image", m.image);
    readString(j, "handler", m.handler);
    readString(j, "source", m.source);
    readString(j, "sourceURL", m.sourceURL);
    if (const Json *schema = find(j, "schema"); schema && schema->is_object()) {
        if (const Json *in = find(*schema, "in"))
            m.schemaIn = *in;
        if (const Json *out = find(*schema, "out"))
            m.schemaOut = *out;
    }
    readStrings(j, "secrets", m.secrets);
    readStrings(j, "services", m.services);
    readInt(j, "timeout", m.timeout);
    readInt(j, "runRetention", m.runRetention);
    readString(j, "faasId", m.faasId);
    readString(j, "functionImageURL", m.functionImageURL);
    readString(j, "id", m.id);
    readInt(j, "createdTime", m.createdTime);
    readInt(j, "modifiedTime", m.modifiedTime);
    readStatus(j, m.status);
    readStrings(j, "reason", m.reason);
    readObjects(j, "tags", m.tags);
    readString(j, "revision", m.revision);
}

Json toStorageJson(const Function &m)
{
    Json j = m;
    putIfNotZero(j, "modifiedTime", m.modifiedTime);
    putIfNotEmpty(j, "sourceURL", m.sourceURL);
    return j;
}

// ---------------------------------------------------------------------------------------------------------
// Run (§3.4)

void to_json(Json &j, const Run &m)
{
    j = Json{{"executedTime", m.executedTime},
             {"finishedTime", m.finishedTime == 0 ? kGoZeroTimeNs : m.finishedTime},
             {"reason", stringsOrNull(m.reason)},
             {"secrets", stringsOrEmptyArray(m.secrets)},
             {"services", nullptr},
             {"tags", m.tags.empty() ? Json::array() : Json(m.tags)}};
    if (m.blocking)
        j["blocking"] = true;
    if (m.error)
        j["error"] = *m.error;
    if (!m.event.is_null())
        j["event"] = m.event;
    putIfNotEmpty(j, "faasId", m.faasId);
    putIfNotEmpty(j, "functionId", m.functionId);
    putIfNotEmpty(j, "functionName", m.functionName);
    if (!m.httpContext.is_null())
        j["httpContext"] = m.httpContext;
    if (!m.input.is_null())
        j["input"] = m.input;
    if (m.logs)
        j["logs"] = *m.logs;
    putIfNotEmpty(j, "name", m.name);
    if (!m.output.is_null())
        j["output"] = m.output;
    putStatus(j, m.status);
    // Extensions: absent unless known, so a Dispatch client never sees anything unexpected.
    if (m.durationNs >= 0)
        j["durationNs"] = m.durationNs;
    if (m.coldStart)
        j["coldStart"] = true;
}

void from_json(const Json &j, Run &m)
{
    readString(j, "name", m.name);
    readString(j, "functionName", m.functionName);
    readString(j, "functionId", m.functionId);
    readString(j, "faasId", m.faasId);
    readBool(j, "blocking", m.blocking);
    if (const Json *v = find(j, "input"))
        m.input = *v;
    if (const Json *v = find(j, "output"))
        m.output = *v;
    if (const Json *v = find(j, "error"); v && v->is_object()) {
        InvocationError e;
        from_json(*v, e);
        m.error = std::move(e);
    }
    if (const Json *v = find(j, "logs"); v && v->is_object()) {
        Logs l;
        from_json(*v, l);
        m.logs = std::move(l);
    }
    if (const Json *v = find(j, "event"); v && v->is_object())
        m.event = *v;
    if (const Json *v = find(j, "httpContext"); v && v->is_object())
        m.httpContext = *v;
    readStrings(j, "secrets", m.secrets);
    readStatus(j, m.status);
    readStrings(j, "reason", m.reason);
    readInt(j, "executedTime", m.executedTime);
    readInt(j, "finishedTime", m.finishedTime);
    readObjects(j, "tags", m.tags);
    readInt(j, "durationNs", m.durationNs);
    readBool(j, "coldStart", m.coldStart);
}

Json toStorageJson(const Run &m)
{
    return Json(m);
}

// ---------------------------------------------------------------------------------------------------------
// Secret (§3.5)

void to_json(Json &j, const Secret &m)
{
    j = Json{{"kind", "Secret"}, {"name", m.name}, {"tags", tagsOrNull(m.tags)}};
    putIfNotEmpty(j, "id", m.id);
    if (!m.secrets.empty())
        j["secrets"] = m.secrets;
}

void from_json(const Json &j, Secret &m)
{
    readString(j, "name", m.name);
    if (const Json *v = find(j, "secrets"); v && v->is_object()) {
        m.secrets.clear();
        for (const auto &[key, value] : v->items()) {
            if (value.is_string())
                m.secrets[key] = value.get<std::string>();
        }
    }
    readString(j, "id", m.id);
    readObjects(j, "tags", m.tags);
}

Json toStorageJson(const Secret &m)
{
    return Json(m);
}

// ---------------------------------------------------------------------------------------------------------
// API (§3.6). No createdTime.

void to_json(Json &j, const Api &m)
{
    j = Json{{"function", m.function},
             {"hosts", stringsOrNull(m.hosts)},
             {"kind", "API"},
             {"methods", stringsOrNull(m.methods)},
             {"name", m.name},
             {"protocols", stringsOrNull(m.protocols)},
             {"tags", tagsOrNull(m.tags)},
             {"uris", stringsOrNull(m.uris)}};
    putIfNotEmpty(j, "authentication", m.authentication);
    if (m.cors)
        j["cors"] = true;
    if (m.enabled)
        j["enabled"] = true;
    putIfNotEmpty(j, "id", m.id);
    putStatus(j, m.status);
    putIfNotEmpty(j, "tls", m.tls);
}

void from_json(const Json &j, Api &m)
{
    readString(j, "name", m.name);
    readString(j, "function", m.function);
    readStrings(j, "methods", m.methods);
    readStrings(j, "uris", m.uris);
    readStrings(j, "hosts", m.hosts);
    readStrings(j, "protocols", m.protocols);
    readString(j, "authentication", m.authentication);
    readBool(j, "enabled", m.enabled);
    readBool(j, "cors", m.cors);
    readString(j, "tls", m.tls);
    readString(j, "id", m.id);
    readStatus(j, m.status);
    readStrings(j, "reason", m.reason);
    readObjects(j, "tags", m.tags);
}

Json toStorageJson(const Api &m)
{
    Json j = m;
    if (!m.reason.empty())
        j["reason"] = m.reason; // the model has no reason field on the wire; keep it for the console's log
    return j;
}

// ---------------------------------------------------------------------------------------------------------
// EventDriverType (§3.9): kebab-case times, no `id` returned.

void to_json(Json &j, const EventDriverType &m)
{
    j = Json{{"config", configOrNull(m.config)},
             {"expose", m.expose},
             {"image", m.image},
             {"kind", "DriverType"},
             {"name", m.name},
             {"tags", tagsOrNull(m.tags)}};
    putIfNotZero(j, "created-time", m.createdTime);
    putIfNotZero(j, "modified-time", m.modifiedTime);
}

void from_json(const Json &j, EventDriverType &m)
{
    readString(j, "name", m.name);
    readString(j, "image", m.image);
    readBool(j, "expose", m.expose);
    readConfig(j, m.config);
    readString(j, "id", m.id);
    readIntEither(j, "created-time", "createdTime", m.createdTime);
    readIntEither(j, "modified-time", "modifiedTime", m.modifiedTime);
    readObjects(j, "tags", m.tags);
}

Json toStorageJson(const EventDriverType &m)
{
    Json j = m;
    putIfNotEmpty(j, "id", m.id);
    return j;
}

// ---------------------------------------------------------------------------------------------------------
// EventDriver (§3.10): kebab-case times, no `id` returned (it is the driver's ingest token).

void to_json(Json &j, const EventDriver &m)
{
    j = Json{{"config", configOrNull(m.config)},
             {"expose", m.expose},
             {"kind", "Driver"},
             {"name", m.name},
             {"reason", stringsOrNull(m.reason)},
             {"secrets", stringsOrNull(m.secrets)},
             {"tags", tagsOrNull(m.tags)},
             {"type", m.type}};
    putIfNotZero(j, "created-time", m.createdTime);
    putIfNotZero(j, "modified-time", m.modifiedTime);
    putStatus(j, m.status);
    putIfNotEmpty(j, "url", m.url);
}

void from_json(const Json &j, EventDriver &m)
{
    readString(j, "name", m.name);
    readString(j, "type", m.type);
    readConfig(j, m.config);
    readStrings(j, "secrets", m.secrets);
    readBool(j, "expose", m.expose);
    readString(j, "url", m.url);
    readString(j, "id", m.id);
    readIntEither(j, "created-time", "createdTime", m.createdTime);
    readIntEither(j, "modified-time", "modifiedTime", m.modifiedTime);
    readStatus(j, m.status);
    readStrings(j, "reason", m.reason);
    readObjects(j, "tags", m.tags);
}

Json toStorageJson(const EventDriver &m)
{
    Json j = m;
    putIfNotEmpty(j, "id", m.id);
    return j;
}

// ---------------------------------------------------------------------------------------------------------
// Subscription (§3.11): camelCase times, no `id` returned.

void to_json(Json &j, const Subscription &m)
{
    j = Json{{"eventType", m.eventType},
             {"function", m.function},
             {"kind", "Subscription"},
             {"name", m.name},
             {"secrets", stringsOrNull(m.secrets)},
             {"tags", tagsOrNull(m.tags)}};
    putIfNotZero(j, "createdTime", m.createdTime);
    putIfNotZero(j, "modifiedTime", m.modifiedTime);
    putStatus(j, m.status);
}

void from_json(const Json &j, Subscription &m)
{
    readString(j, "name", m.name);
    readString(j, "eventType", m.eventType);
    readString(j, "function", m.function);
    readStrings(j, "secrets", m.secrets);
    readString(j, "id", m.id);
    readIntEither(j, "createdTime", "created-time", m.createdTime);
    readIntEither(j, "modifiedTime", "modified-time", m.modifiedTime);
    readStatus(j, m.status);
    readStrings(j, "reason", m.reason);
    readObjects(j, "tags", m.tags);
}

Json toStorageJson(const Subscription &m)
{
    Json j = m;
    putIfNotEmpty(j, "id", m.id);
    if (!m.reason.empty())
        j["reason"] = m.reason; // not a Dispatch field; kept so an ERROR stays explainable after a restart
    return j;
}

// ---------------------------------------------------------------------------------------------------------
// CloudEvent / Emission (§3.7, §3.8)

Json eventContext(const CloudEvent &e)
{
    Json j = e;
    j.erase("data");
    j.erase("tags");
    return j;
}

void to_json(Json &j, const CloudEvent &e)
{
    j = Json{{"cloudEventsVersion", e.cloudEventsVersion},
             {"eventID", e.eventID},
             {"eventType", e.eventType},
             {"source", e.source}};
    putIfNotEmpty(j, "contentType", e.contentType);
    if (e.data)
        j["data"] = *e.data;
    putIfNotEmpty(j, "eventTime", e.eventTime);
    putIfNotEmpty(j, "eventTypeVersion", e.eventTypeVersion);
    if (e.extensions.is_object() && !e.extensions.empty())
        j["extensions"] = e.extensions;
    putIfNotEmpty(j, "schemaURL", e.schemaURL);
    if (!e.tags.empty())
        j["tags"] = e.tags;
}

void from_json(const Json &j, CloudEvent &e)
{
    readString(j, "eventType", e.eventType);
    readString(j, "eventTypeVersion", e.eventTypeVersion);
    readString(j, "cloudEventsVersion", e.cloudEventsVersion);
    readString(j, "source", e.source);
    readString(j, "eventID", e.eventID);
    readString(j, "eventTime", e.eventTime);
    readString(j, "schemaURL", e.schemaURL);
    readString(j, "contentType", e.contentType);
    if (const Json *v = find(j, "extensions"); v && v->is_object())
        e.extensions = *v;
    if (const Json *data = findRaw(j, "data"))
        e.data = *data;
    readObjects(j, "tags", e.tags);
}

// ---------------------------------------------------------------------------------------------------------

std::string dumpJson(const Json &j)
{
    std::string out;
    appendJson(out, j);
    return out;
}

} // namespace dispatch::wire
