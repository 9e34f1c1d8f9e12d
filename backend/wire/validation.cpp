// Request-body validation reproducing go-swagger's codes and messages; CloudEvent checks and conversion.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "wire/validation.h"

#include <array>
#include <cstdio>
#include <limits>
#include <optional>

namespace dispatch::wire {

namespace {

using Check = std::optional<ValidationError>;

// ---------------------------------------------------------------------------------------------------------
// Character classes (no std::regex: these run on every request)

constexpr bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}
constexpr bool isAlpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool isWord(char c) // Go RE2 \w
{
    return isAlpha(c) || isDigit(c) || c == '_';
}
constexpr bool isLowerAlnum(char c)
{
    return (c >= 'a' && c <= 'z') || isDigit(c);
}
constexpr bool isHex(char c)
{
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr bool isEventTypeChar(char c)
{
    return isWord(c) || c == '-' || c == '.';
}
constexpr bool isJsonSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

template <typename First, typename Rest>
bool matches(std::string_view s, First first, Rest rest, bool allowEmpty = false)
{
    if (s.empty())
        return allowEmpty;
    if (!first(s.front()))
        return false;
    for (std::size_t i = 1; i < s.size(); ++i) {
        if (!rest(s[i]))
            return false;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------------------
// Messages (go-openapi errors/schema.go wording)

std::string quoted(std::string_view s)
{
    // Go's %q for the printable ASCII we put in these messages.
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('"');
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (u < 0x20 || u == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
    return out;
}

std::string typeMessage(std::string_view path, std::string_view expected, std::string_view actual)
{
    return std::string(path) + " in body must be of type " + std::string(expected) + ": " + quoted(actual);
}

ValidationError invalidType(std::string_view path, std::string_view expected, std::string_view actual)
{
    return ValidationError::validation(code::InvalidType, typeMessage(path, expected, actual));
}

std::string requiredMessage(std::string_view path)
{
    return std::string(path) + " in body is required";
}

std::string tooLongMessage(std::string_view path, std::size_t max)
{
    return std::string(path) + " in body should be at most " + std::to_string(max) + " chars long";
}

std::string patternMessage(std::string_view path, std::string_view pattern)
{
    return std::string(path) + " in body should match '" + std::string(pattern) + "'";
}

constexpr std::string_view kNamePattern = R"(^[\w\d][\w\d\-]*$)";
constexpr std::string_view kDriverNamePattern = R"(^[a-z0-9][a-z0-9\-]*$)";
constexpr std::string_view kPathNamePattern = R"(^[\w\d\-]+$)";
constexpr std::string_view kEventTypePattern = R"(^[\w\d\-\.]+$)";
constexpr std::string_view kStatusEnum = "[INITIALIZED CREATING READY UPDATING ERROR DELETING]";
constexpr std::size_t kEventTypeMaxLength = 128;
constexpr std::size_t kDriverTypeNameMaxLength = 32;
constexpr std::size_t kDriverTypeMaxLength = 32;

// ---------------------------------------------------------------------------------------------------------
// Type pass: what Go's decoder would reject, reported the go-openapi way (422/601).

enum class Kind
{
    Any,
    String,
    Integer,
    Boolean,
    Object,    // with `fields`: checked recursively; without: any object
    Array,     // elements of kind `items` (null elements are fine, as in Go)
    StringMap, // Secret.secrets: an object of strings; a wrong value is a 400 (§12)
};

struct Field
{
    std::string_view name;
    Kind kind = Kind::Any;
    Kind items = Kind::Any;
    const std::vector<Field> *fields = nullptr; // Object, or Array of Object
};

std::string_view expectedName(Kind k)
{
    switch (k) {
    case Kind::String:
        return "string";
    case Kind::Integer:
        return "integer";
    case Kind::Boolean:
        return "boolean";
    case Kind::Object:
    case Kind::StringMap:
        return "object";
    case Kind::Array:
        return "array";
    case Kind::Any:
        break;
    }
    return "any";
}

bool hasKind(const Json &v, Kind k)
{
    switch (k) {
    case Kind::Any:
        return true;
    case Kind::String:
        return v.is_string();
    case Kind::Integer:
        if (v.is_number_unsigned())
            return v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
        return v.is_number_integer();
    case Kind::Boolean:
        return v.is_boolean();
    case Kind::Object:
    case Kind::StringMap:
        return v.is_object();
    case Kind::Array:
        return v.is_array();
    }
    return false;
}

const Field *findField(const std::vector<Field> &fields, std::string_view name)
{
    for (const auto &f : fields) {
        if (f.name == name)
            return &f;
    }
    return nullptr;
}

Check checkTypes(const Json &obj, const std::vector<Field> &fields, const std::string &prefix);

Check checkValue(const Json &v, Kind kind, const std::vector<Field> *sub, Kind items, const std::string &path)
{
    if (v.is_null())
        return std::nullopt;
    if (!hasKind(v, kind))
        return invalidType(path, expectedName(kind), jsonTypeName(v));
    if (kind == Kind::Object && sub)
        return checkTypes(v, *sub, path + ".");
    if (kind == Kind::StringMap) {
        for (const auto &[key, value] : v.items()) {
            if (!value.is_null() && !value.is_string()) {
                std::string itemPath = path;
                itemPath += '.';
                itemPath += key;
                return ValidationError::badRequest(typeMessage(itemPath, "string", jsonTypeName(value)));
            }
        }
    }
    if (kind == Kind::Array) {
        std::size_t i = 0;
        for (const auto &item : v) {
            // The element path is only built when it is needed (an error, or nested fields to check).
            if (!item.is_null() && (!hasKind(item, items) || (items == Kind::Object && sub))) {
                std::string itemPath = path;
                itemPath += '.';
                itemPath += std::to_string(i);
                if (auto e = checkValue(item, items, sub, Kind::Any, itemPath))
                    return e;
            }
            ++i;
        }
    }
    return std::nullopt;
}

Check checkTypes(const Json &obj, const std::vector<Field> &fields, const std::string &prefix)
{
    for (const auto &[key, value] : obj.items()) {
        const Field *f = findField(fields, key);
        if (!f)
            continue; // unknown fields are ignored, like Go's decoder does
        if (auto e = checkValue(value, f->kind, f->fields, f->items, prefix + key))
            return e;
    }
    return std::nullopt;
}

// Field tables (function-local statics: no static-initialisation order issues).
const std::vector<Field> &tagFields()
{
    static const std::vector<Field> f{{"key", Kind::String}, {"value", Kind::String}};
    return f;
}

Field tagsField()
{
    return {"tags", Kind::Array, Kind::Object, &tagFields()};
}

Field stringArray(std::string_view name)
{
    return {name, Kind::Array, Kind::String};
}

const std::vector<Field> &baseImageFields()
{
    static const std::vector<Field> f{{"createdTime", Kind::Integer},
                                      {"dockerUrl", Kind::String},
                                      stringArray("groups"),
                                      {"id", Kind::String},
                                      {"kind", Kind::String},
                                      {"language", Kind::String},
                                      {"name", Kind::String},
                                      stringArray("reason"),
                                      {"spec", Kind::String},
                                      {"status", Kind::String},
                                      tagsField()};
    return f;
}

const std::vector<Field> &imageFields()
{
    static const std::vector<Field> runtime{{"manifest", Kind::String}};
    static const std::vector<Field> package{{"name", Kind::String}, {"version", Kind::String}};
    static const std::vector<Field> system{{"packages", Kind::Array, Kind::Object, &package}};
    static const std::vector<Field> f{{"baseImageName", Kind::String},
                                      {"createdTime", Kind::Integer},
                                      {"dockerUrl", Kind::String},
                                      stringArray("groups"),
                                      {"id", Kind::String},
                                      {"kind", Kind::String},
                                      {"language", Kind::String},
                                      {"name", Kind::String},
                                      stringArray("reason"),
                                      {"runtimeDependencies", Kind::Object, Kind::Any, &runtime},
                                      {"spec", Kind::String},
                                      {"status", Kind::String},
                                      {"systemDependencies", Kind::Object, Kind::Any, &system},
                                      tagsField()};
    return f;
}

const std::vector<Field> &functionFields()
{
    // go-openapi spec.Schema is a struct: a schema must be an object.
    static const std::vector<Field> schema{{"in", Kind::Object}, {"out", Kind::Object}};
    static const std::vector<Field> f{{"createdTime", Kind::Integer},
                                      {"faasId", Kind::String},
                                      {"functionImageURL", Kind::String},
                                      {"handler", Kind::String},
                                      {"id", Kind::String},
                                      {"image", Kind::String},
                                      {"kind", Kind::String},
                                      {"modifiedTime", Kind::Integer},
                                      {"name", Kind::String},
                                      stringArray("reason"),
                                      {"revision", Kind::String},
                                      {"runRetention", Kind::Integer},
                                      {"schema", Kind::Object, Kind::Any, &schema},
                                      stringArray("secrets"),
                                      stringArray("services"),
                                      {"source", Kind::String},
                                      {"sourcePath", Kind::String},
                                      {"sourceURL", Kind::String},
                                      {"status", Kind::String},
                                      tagsField(),
                                      {"timeout", Kind::Integer}};
    return f;
}

const std::vector<Field> &runFields()
{
    static const std::vector<Field> error{
        {"message", Kind::String}, stringArray("stacktrace"), {"type", Kind::String}};
    static const std::vector<Field> logs{stringArray("stderr"), stringArray("stdout")};
    static const std::vector<Field> f{{"blocking", Kind::Boolean},
                                      {"coldStart", Kind::Boolean},
                                      {"durationNs", Kind::Integer},
                                      {"error", Kind::Object, Kind::Any, &error},
                                      {"event", Kind::Object},
                                      {"executedTime", Kind::Integer},
                                      {"faasId", Kind::String},
                                      {"finishedTime", Kind::Integer},
                                      {"functionId", Kind::String},
                                      {"functionName", Kind::String},
                                      {"httpContext", Kind::Object},
                                      {"input", Kind::Any},
                                      {"logs", Kind::Object, Kind::Any, &logs},
                                      {"name", Kind::String},
                                      {"output", Kind::Any},
                                      stringArray("reason"),
                                      stringArray("secrets"),
                                      stringArray("services"),
                                      {"status", Kind::String},
                                      tagsField()};
    return f;
}

const std::vector<Field> &secretFields()
{
    static const std::vector<Field> f{{"id", Kind::String},
                                      {"kind", Kind::String},
                                      {"name", Kind::String},
                                      {"secrets", Kind::StringMap},
                                      tagsField()};
    return f;
}

const std::vector<Field> &apiFields()
{
    static const std::vector<Field> f{{"authentication", Kind::String},
                                      {"cors", Kind::Boolean},
                                      {"enabled", Kind::Boolean},
                                      {"function", Kind::String},
                                      stringArray("hosts"),
                                      {"id", Kind::String},
                                      {"kind", Kind::String},
                                      stringArray("methods"),
                                      {"name", Kind::String},
                                      stringArray("protocols"),
                                      {"status", Kind::String},
                                      tagsField(),
                                      {"tls", Kind::String},
                                      stringArray("uris")};
    return f;
}

const std::vector<Field> &configItemFields()
{
    static const std::vector<Field> f{{"key", Kind::String}, {"value", Kind::String}};
    return f;
}

const std::vector<Field> &driverTypeFields()
{
    static const std::vector<Field> f{{"built-in", Kind::Boolean},
                                      {"config", Kind::Array, Kind::Object, &configItemFields()},
                                      {"created-time", Kind::Integer},
                                      {"expose", Kind::Boolean},
                                      {"id", Kind::String},
                                      {"image", Kind::String},
                                      {"kind", Kind::String},
                                      {"modified-time", Kind::Integer},
                                      {"name", Kind::String},
                                      tagsField()};
    return f;
}

const std::vector<Field> &driverFields()
{
    static const std::vector<Field> f{{"config", Kind::Array, Kind::Object, &configItemFields()},
                                      {"created-time", Kind::Integer},
                                      {"expose", Kind::Boolean},
                                      {"id", Kind::String},
                                      {"kind", Kind::String},
                                      {"modified-time", Kind::Integer},
                                      {"name", Kind::String},
                                      stringArray("reason"),
                                      stringArray("secrets"),
                                      {"status", Kind::String},
                                      tagsField(),
                                      {"type", Kind::String},
                                      {"url", Kind::String}};
    return f;
}

const std::vector<Field> &subscriptionFields()
{
    static const std::vector<Field> f{{"createdTime", Kind::Integer},
                                      {"eventType", Kind::String},
                                      {"function", Kind::String},
                                      {"id", Kind::String},
                                      {"kind", Kind::String},
                                      {"modifiedTime", Kind::Integer},
                                      {"name", Kind::String},
                                      stringArray("reason"),
                                      stringArray("secrets"),
                                      {"status", Kind::String},
                                      tagsField()};
    return f;
}

const std::vector<Field> &emissionFields()
{
    static const std::vector<Field> f{{"cloudEventsVersion", Kind::String},
                                      {"contentType", Kind::String},
                                      {"data", Kind::Any},
                                      {"emitted-time", Kind::Integer},
                                      {"eventID", Kind::String},
                                      {"eventTime", Kind::String},
                                      {"eventType", Kind::String},
                                      {"eventTypeVersion", Kind::String},
                                      {"extensions", Kind::Object},
                                      {"id", Kind::String},
                                      {"schemaURL", Kind::String},
                                      {"source", Kind::String},
                                      tagsField()};
    return f;
}

// ---------------------------------------------------------------------------------------------------------
// Validate() pass. Types are already right when these run.

const Json &emptyObject()
{
    static const Json empty = Json::object();
    return empty;
}

// Present and not null.
const Json *present(const Json &j, std::string_view key)
{
    if (!j.is_object())
        return nullptr;
    // The underlying map, not basic_json's iterators: GCC's -Wnull-dereference cannot see through those at
    // -O2.
    const auto &object = j.get_ref<const Json::object_t &>();
    const auto it = object.find(key);
    return it == object.end() || it->second.is_null() ? nullptr : &it->second;
}

// The string value of a present field, or nullptr.
const std::string *stringField(const Json &j, std::string_view key)
{
    const Json *v = present(j, key);
    return v && v->is_string() ? &v->get_ref<const std::string &>() : nullptr;
}

Check requireField(const Json &j, std::string_view key)
{
    if (!present(j, key))
        return ValidationError::validation(code::Required, requiredMessage(key));
    return std::nullopt;
}

// validate.Required + FieldPatternName: the custom message.
Check requiredName(const Json &j, std::string_view key)
{
    if (auto e = requireField(j, key))
        return e;
    if (!isValidName(*stringField(j, key)))
        return ValidationError::validation(code::Pattern, namePatternMessage(key));
    return std::nullopt;
}

Check maxLength(const Json &j, std::string_view key, std::size_t max)
{
    if (const std::string *s = stringField(j, key); s && utf8Length(*s) > max)
        return ValidationError::validation(code::TooLong, tooLongMessage(key, max));
    return std::nullopt;
}

template <typename Pred>
Check pattern(const Json &j, std::string_view key, Pred pred, std::string_view patternText)
{
    if (const std::string *s = stringField(j, key); s && !pred(*s))
        return ValidationError::validation(code::Pattern, patternMessage(key, patternText));
    return std::nullopt;
}

// Not-required fields are skipped when zero ("" in Go), as the generated validators do.
Check uuidFormat(const Json &j, std::string_view key)
{
    if (const std::string *s = stringField(j, key); s && !s->empty() && !isUuid(*s))
        return invalidType(key, "uuid", *s);
    return std::nullopt;
}

// An integer field that must not be negative (go-openapi "minimum: 0").
Check nonNegative(const Json &j, const char *key)
{
    if (auto it = j.find(key); it != j.end() && it->is_number_integer() && it->get<int64_t>() < 0)
        return ValidationError::validation(code::Minimum,
                                           std::string(key) + " in body should be greater than or equal to 0");
    return std::nullopt;
}

Check kindPattern(const Json &j)
{
    if (const std::string *s = stringField(j, "kind"); s && !s->empty() && !isValidPathName(*s))
        return ValidationError::validation(code::Pattern, patternMessage("kind", kPathNamePattern));
    return std::nullopt;
}

Check statusEnum(const Json &j)
{
    const std::string *s = stringField(j, "status");
    if (!s || s->empty())
        return std::nullopt;
    const auto st = statusFromString(*s);
    if (!st || *st == Status::Deleted) // DELETED is output-only: the swagger enum leaves it out
        return ValidationError::validation(code::Enum,
                                           "status in body should be one of " + std::string(kStatusEnum));
    return std::nullopt;
}

// The object to validate (null counts as {}), or the 601 for a non-object body.
Validated<const Json *> bodyObject(const Json &body, std::string_view param, const std::vector<Field> &fields)
{
    if (body.is_null())
        return &emptyObject();
    if (!body.is_object())
        return invalidType(param, "object", jsonTypeName(body));
    if (auto e = checkTypes(body, fields, {}))
        return *e;
    return &body;
}

template <typename T> Validated<T> build(const Json &j)
{
    T m;
    from_json(j, m);
    return m;
}

// Runs the checks in order; the first failure wins.
template <typename... Checks> Check firstFailure(Checks &&...checks)
{
    Check result;
    ((result = result ? result : checks()), ...);
    return result;
}

// ---------------------------------------------------------------------------------------------------------
// Depth pre-scan: cheap, and keeps recursive code (ours, nlohmann's dump) away from hostile nesting.

bool nestingWithin(std::string_view text, std::size_t limit)
{
    std::size_t depth = 0;
    bool inString = false;
    bool escaped = false;
    for (char c : text) {
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
            continue;
        }
        if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit)
                return false;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return true;
}

std::string parseErrorDetail(const std::string &what)
{
    // "[json.exception.parse_error.101] parse error at line 1, column 2: …" → "parse error at line 1, …"
    std::string detail = what;
    if (!detail.empty() && detail.front() == '[') {
        if (auto close = detail.find("] "); close != std::string::npos)
            detail.erase(0, close + 2);
    }
    // The "last read" excerpt echoes raw request bytes: keep the message printable ASCII so that it can
    // always be serialised (an invalid UTF-8 byte would make the error body itself unencodable).
    for (char &c : detail) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f)
            c = '?';
    }
    return detail;
}

// ---------------------------------------------------------------------------------------------------------
// Dates (strfmt.DateTime)

struct DateTime
{
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    std::string_view fraction; // digits only
    bool hasOffset = false;
    int offsetMinutes = 0; // signed
};

bool digits(std::string_view s, std::size_t pos, std::size_t n, int &out)
{
    if (pos + n > s.size())
        return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (!isDigit(s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

int daysIn(int year, int month)
{
    static constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return 29;
    return days[static_cast<std::size_t>(month - 1)];
}

std::optional<DateTime> parseDateTime(std::string_view s)
{
    DateTime t;
    // YYYY-MM-DD[Tt ]HH:MM:SS
    if (s.size() < 19 || !digits(s, 0, 4, t.year) || s[4] != '-' || !digits(s, 5, 2, t.month) ||
        s[7] != '-' || !digits(s, 8, 2, t.day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s, 11, 2, t.hour) || s[13] != ':' || !digits(s, 14, 2, t.minute) || s[16] != ':' ||
        !digits(s, 17, 2, t.second))
        return std::nullopt;
    if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > daysIn(t.year, t.month) || t.hour > 23 ||
        t.minute > 59 || t.second > 59)
        return std::nullopt;
    std::size_t pos = 19;
    if (pos < s.size() && s[pos] == '.') {
        const std::size_t start = ++pos;
        while (pos < s.size() && isDigit(s[pos]))
            ++pos;
        if (pos == start)
            return std::nullopt;
        t.fraction = s.substr(start, pos - start);
    }
    if (pos == s.size())
        return t; // no zone: Go's ISO8601LocalTime layout, read as UTC
    if (s[pos] == 'Z' || s[pos] == 'z') {
        t.hasOffset = true;
        return pos + 1 == s.size() ? std::optional<DateTime>(t) : std::nullopt;
    }
    if (s[pos] != '+' && s[pos] != '-')
        return std::nullopt;
    const int sign = s[pos] == '-' ? -1 : 1;
    int oh = 0;
    int om = 0;
    if (!digits(s, pos + 1, 2, oh))
        return std::nullopt;
    std::size_t mpos = pos + 3;
    if (mpos < s.size() && s[mpos] == ':')
        ++mpos;
    if (!digits(s, mpos, 2, om) || mpos + 2 != s.size() || oh > 23 || om > 59)
        return std::nullopt;
    t.hasOffset = true;
    t.offsetMinutes = sign * (oh * 60 + om);
    return t;
}

// ---------------------------------------------------------------------------------------------------------
// CloudEvents

// Display names of the 0.1 fields, so that errors about a 1.0 event name the attributes the client sent.
struct EventNames
{
    std::string_view cloudEventsVersion = "cloudEventsVersion";
    std::string_view eventID = "eventID";
    std::string_view eventTime = "eventTime";
    std::string_view eventType = "eventType";
    std::string_view source = "source";
    std::string_view schemaURL = "schemaURL";
    std::string_view contentType = "contentType";
};

constexpr EventNames kNames01{};
constexpr EventNames kNames10{"specversion", "id", "time", "type", "source", "dataschema", "datacontenttype"};

std::string eventProblem(const Json &event, const EventNames &n)
{
    if (!event.is_object())
        return typeMessage("body", "object", jsonTypeName(event));
    // Types first (Go's decoder runs before any Validate()).
    if (auto e = checkTypes(event, emissionFields(), {})) {
        std::string msg = e->message;
        // Report 1.0 names for the renamed fields.
        auto rename = [&msg](std::string_view from, std::string_view to) {
            if (from != to && msg.compare(0, from.size(), from) == 0 && msg.size() > from.size() &&
                (msg[from.size()] == ' ' || msg[from.size()] == '.'))
                msg = std::string(to) + msg.substr(from.size());
        };
        rename("eventID", n.eventID);
        rename("eventTime", n.eventTime);
        rename("eventType", n.eventType);
        rename("schemaURL", n.schemaURL);
        rename("contentType", n.contentType);
        return msg;
    }
    auto str = [&event](std::string_view key) -> std::string_view {
        const std::string *s = stringField(event, key);
        return s ? std::string_view(*s) : std::string_view();
    };
    const std::string_view version = str("cloudEventsVersion");
    if (version.empty())
        return requiredMessage(n.cloudEventsVersion);
    if (version != "0.1")
        return std::string(n.cloudEventsVersion) + " in body should be one of [0.1]";
    if (str("eventID").empty())
        return requiredMessage(n.eventID);
    if (const std::string_view time = str("eventTime"); !time.empty() && !isRfc3339DateTime(time))
        return typeMessage(n.eventTime, "date-time", time);
    const std::string_view type = str("eventType");
    if (type.empty())
        return requiredMessage(n.eventType);
    if (utf8Length(type) > kEventTypeMaxLength)
        return tooLongMessage(n.eventType, kEventTypeMaxLength);
    if (!matches(type, isEventTypeChar, isEventTypeChar))
        return patternMessage(n.eventType, kEventTypePattern);
    if (str("source").empty())
        return requiredMessage(n.source);
    if (const std::string_view url = str("schemaURL"); !url.empty() && !isRequestUri(url))
        return typeMessage(n.schemaURL, "uri", url);
    if (const std::string_view id = str("id"); !id.empty() && !isUuid(id))
        return typeMessage("id", "uuid", id);
    return {};
}

ValidationError eventError(std::string_view detail)
{
    return ValidationError::badRequest(std::string(kEventErrorPrefix) + std::string(detail));
}

bool isV1Event(const Json &event)
{
    return event.is_object() && event.contains("specversion");
}

} // namespace

// ---------------------------------------------------------------------------------------------------------
// Public helpers

bool isValidName(std::string_view s)
{
    return matches(s, isWord, [](char c) { return isWord(c) || c == '-'; });
}

bool isValidDriverName(std::string_view s)
{
    return matches(s, isLowerAlnum, [](char c) { return isLowerAlnum(c) || c == '-'; });
}

bool isValidPathName(std::string_view s)
{
    auto pathChar = [](char c) { return isWord(c) || c == '-'; };
    return matches(s, pathChar, pathChar);
}

bool isValidEventType(std::string_view s)
{
    return s.size() <= kEventTypeMaxLength && matches(s, isEventTypeChar, isEventTypeChar);
}

bool isUuid(std::string_view s)
{
    // (?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$
    static constexpr std::array<std::size_t, 5> groups{8, 4, 4, 4, 12};
    std::size_t pos = 0;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        if (g > 0 && pos < s.size() && s[pos] == '-')
            ++pos;
        for (std::size_t i = 0; i < groups[g]; ++i, ++pos) {
            if (pos >= s.size() || !isHex(s[pos]))
                return false;
        }
    }
    return pos == s.size();
}

bool isRfc3339DateTime(std::string_view s)
{
    return parseDateTime(s).has_value();
}

bool isRequestUri(std::string_view s)
{
    if (s.empty())
        return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto u = static_cast<unsigned char>(s[i]);
        if (u <= 0x20 || u == 0x7f)
            return false;
        if (s[i] == '%' && (i + 2 >= s.size() || !isHex(s[i + 1]) || !isHex(s[i + 2])))
            return false;
    }
    if (s.front() == '/')
        return true;
    // scheme ":" rest — scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    const auto colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0)
        return false;
    return matches(s.substr(0, colon), isAlpha,
                   [](char c) { return isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.'; });
}

std::size_t utf8Length(std::string_view s)
{
    std::size_t n = 0;
    for (char c : s) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
            ++n;
    }
    return n;
}

std::string namePatternMessage(std::string_view field)
{
    return std::string(field) + " should start with letter or number and may only contain letters, numbers, "
                                "underscores and dashes";
}

std::string_view jsonTypeName(const Json &j)
{
    switch (j.type()) {
    case Json::value_t::null:
        return "null";
    case Json::value_t::boolean:
        return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
        return "number";
    case Json::value_t::string:
        return "string";
    case Json::value_t::array:
        return "array";
    case Json::value_t::object:
        return "object";
    case Json::value_t::binary:
        return "binary";
    case Json::value_t::discarded:
        break;
    }
    return "invalid";
}

std::string normalizeDateTime(std::string_view s)
{
    const auto t = parseDateTime(s);
    if (!t)
        return {};
    // Go's strfmt.DateTime MarshalFormat "2006-01-02T15:04:05.000Z07:00": fraction truncated to
    // milliseconds, the original offset kept, "Z" when it is zero.
    std::array<char, 3> ms{'0', '0', '0'};
    for (std::size_t i = 0; i < 3 && i < t->fraction.size(); ++i)
        ms[i] = t->fraction[i];
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%c%c%c", t->year, t->month, t->day, t->hour,
                  t->minute, t->second, ms[0], ms[1], ms[2]);
    std::string out = buf;
    if (t->offsetMinutes == 0) {
        out += 'Z';
    } else {
        const int abs = t->offsetMinutes < 0 ? -t->offsetMinutes : t->offsetMinutes;
        std::snprintf(buf, sizeof buf, "%c%02d:%02d", t->offsetMinutes < 0 ? '-' : '+', abs / 60, abs % 60);
        out += buf;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------
// Bodies

Validated<Json> parseJsonBody(std::string_view body, std::string_view param)
{
    std::size_t first = 0;
    while (first < body.size() && isJsonSpace(body[first]))
        ++first;
    if (first == body.size())
        return ValidationError::validation(code::Required, requiredMessage(param));
    if (!nestingWithin(body, kMaxJsonDepth))
        return ValidationError::badRequest("request body is not valid JSON: nesting deeper than " +
                                           std::to_string(kMaxJsonDepth) + " levels");
    try {
        return Json::parse(body);
    } catch (const Json::parse_error &e) {
        return ValidationError::badRequest("request body is not valid JSON: " + parseErrorDetail(e.what()));
    }
}

Validated<Json> parseJsonObjectBody(std::string_view body, std::string_view param)
{
    auto parsed = parseJsonBody(body, param);
    if (!parsed)
        return parsed;
    if (parsed->is_null())
        return Json::object();
    if (!parsed->is_object())
        return invalidType(param, "object", jsonTypeName(*parsed));
    return parsed;
}

// BaseImage: dockerUrl, id, kind, language, name, status (alphabetical, as the generated Validate()).
Validated<BaseImage> validateBaseImage(const Json &body)
{
    auto obj = bodyObject(body, "body", baseImageFields());
    if (!obj)
        return obj.error();
    const Json &j = **obj;
    if (auto e =
            firstFailure([&] { return requireField(j, "dockerUrl"); }, [&] { return uuidFormat(j, "id"); },
                         [&] { return kindPattern(j); }, [&] { return requireField(j, "language"); },
                         [&] { return requiredName(j, "name"); }, [&] { return statusEnum(j); }))
        return *e;
    return build<BaseImage>(j);
}

// Image: baseImageName, id, kind, name, status, systemDependencies.packages[].name.
Validated<Image> validateImage(const Json &body)
{
    auto obj = bodyObject(body, "body", imageFields());
    if (!obj)
        return obj.error();
    const Json &j = **obj;
    auto packages = [&]() -> Check {
        const Json *sd = present(j, "systemDependencies");
        const Json *list = sd ? present(*sd, "packages") : nullptr;
        if (!list)
            return std::nullopt;
        std::size_t i = 0;
        for (const auto &p : *list) {
            if (p.is_object() && !present(p, "name"))
                return ValidationError::validation(
                    code::Required,
                    requiredMessage("systemDependencies.packages." + std::to_string(i) + ".name"));
            ++i;
        }
        return std::nullopt;
    };
    if (auto e =
            firstFailure([&] { return requiredName(j, "baseImageName"); },
                         [&] { return uuidFormat(j, "id"); }, [&] { return kindPattern(j); },
                         [&] { return requiredName(j, "name"); }, [&] { return statusEnum(j); }, packages))
        return *e;
    return build<Image>(j);
}

// Function: faasId, handler, id, image, kind, name, status. `handler` may be "".
Validated<Function> validateFunction(const Json &body)
{
    auto obj = bodyObject(body, "body", functionFields());
    if (!obj)
        return obj.error();
    const Json &j = **obj;
    if (auto e = firstFailure([&] { return uuidFormat(j, "faasId"); },
                              [&] { return requireField(j, "handler"); }, [&] { return uuidFormat(j, "id"); },
                              [&] { return requireField(j, "image"); }, [&] { return kindPattern(j); },
                              [&] { return requiredName(j, "name"); }, [&] { return statusEnum(j); },
                              [&] { return nonNegative(j, "runRetention"); }))
        return *e;
    return build<Function>(j);
}

// Run: nothing required; faasId and name are uuids, status an enum value.
Validated<Run> validateRun(const Json &body)
{
    auto obj = bodyObject(body, "body", runFields());
    if (!obj)
        return obj.error();
    const Json &j = **obj;
    if (auto e = firstFailure([&] { return uuidFormat(j, "faasId"); }, [&] { return uuidFormat(j, "name"); },
                              [&] { return statusEnum(j); }))
        return *e;
    return build<Run>(j);
}

// Secret: id, kind, name. The body parameter is called "secret".
Validated<Secret> validateSecret(const Json &body)
{
    auto obj = bodyObject(body, "secret", secretFields());
    if (!obj)
        return obj.error();
    const Json &j = **obj;
    if (auto e = firstFailure([&] { return uuidFormat(j, "id"); }, [&] { return kindPattern(j); },
                              [&] { return requiredName(j, "name"); }))
        return *e;
    return build<Secret>(j);
}

// API: function, id, kind, name, status.
Validated<Api> validateApi(const Json &body)
{
    auto obj = bodyObject(body, "body", apiFields());
    if (!obj)
        return obj.error();
    const Json &j = **obj;
    if (auto e = firstFailure([&] { return requireField(j, "function"); },
                              [&] { return uuidFormat(j, "id"); }, [&] { return kindPattern(j); },
                              [&] { return requiredName(j, "name"); }, [&] { return statusEnum(j); }))
        return *e;
    return build<Api>(j);
}

// EventDriverType: id, image, kind, name (required, max 32, pattern).
Validated<EventDriverType> validateEventDriverType(const Json &body)
{
    auto obj = bodyObject(body, "body", driverTypeFields());
    if (!obj)
        return obj.error();
    const Json &j = **obj;
    if (auto e = firstFailure([&] { return uuidFormat(j, "id"); }, [&] { return requireField(j, "image"); },
                              [&] { return kindPattern(j); }, [&] { return requireField(j, "name"); },
                              [&] { return maxLength(j, "name", kDriverTypeNameMaxLength); },
                              [&] { return requiredName(j, "name"); }))
        return *e;
    return build<EventDriverType>(j);
}

// EventDriver: id, kind, name (required, lower-case pattern), status, type (required, max 32).
Validated<EventDriver> validateEventDriver(const Json &body)
{
    auto obj = bodyObject(body, "body", driverFields());
    if (!obj)
        return obj.error();
    const Json &j = **obj;
    if (auto e = firstFailure([&] { return uuidFormat(j, "id"); }, [&] { return kindPattern(j); },
                              [&] { return requireField(j, "name"); },
                              [&] { return pattern(j, "name", isValidDriverName, kDriverNamePattern); },
                              [&] { return statusEnum(j); }, [&] { return requireField(j, "type"); },
                              [&] { return maxLength(j, "type", kDriverTypeMaxLength); }))
        return *e;
    return build<EventDriver>(j);
}

// Subscription: eventType (required, max 128, pattern), function (required, path pattern), id, kind, name,
// status.
Validated<Subscription> validateSubscription(const Json &body)
{
    auto obj = bodyObject(body, "body", subscriptionFields());
    if (!obj)
        return obj.error();
    const Json &j = **obj;
    auto eventTypePattern = [](std::string_view s) { return matches(s, isEventTypeChar, isEventTypeChar); };
    if (auto e = firstFailure([&] { return requireField(j, "eventType"); },
                              [&] { return maxLength(j, "eventType", kEventTypeMaxLength); },
                              [&] { return pattern(j, "eventType", eventTypePattern, kEventTypePattern); },
                              [&] { return requireField(j, "function"); },
                              [&] { return pattern(j, "function", isValidPathName, kPathNamePattern); },
                              [&] { return uuidFormat(j, "id"); }, [&] { return kindPattern(j); },
                              [&] { return requiredName(j, "name"); }, [&] { return statusEnum(j); }))
        return *e;
    return build<Subscription>(j);
}

namespace {

template <typename T>
Validated<T> parseWith(std::string_view body, std::string_view param, Validated<T> (*validate)(const Json &))
{
    auto parsed = parseJsonBody(body, param);
    if (!parsed)
        return parsed.error();
    return validate(*parsed);
}

} // namespace

Validated<BaseImage> parseBaseImage(std::string_view body)
{
    return parseWith(body, "body", &validateBaseImage);
}
Validated<Image> parseImage(std::string_view body)
{
    return parseWith(body, "body", &validateImage);
}
Validated<Function> parseFunction(std::string_view body)
{
    return parseWith(body, "body", &validateFunction);
}
Validated<Run> parseRun(std::string_view body)
{
    return parseWith(body, "body", &validateRun);
}
Validated<Secret> parseSecret(std::string_view body)
{
    return parseWith(body, "secret", &validateSecret);
}
Validated<Api> parseApi(std::string_view body)
{
    return parseWith(body, "body", &validateApi);
}
Validated<EventDriverType> parseEventDriverType(std::string_view body)
{
    return parseWith(body, "body", &validateEventDriverType);
}
Validated<EventDriver> parseEventDriver(std::string_view body)
{
    return parseWith(body, "body", &validateEventDriver);
}
Validated<Subscription> parseSubscription(std::string_view body)
{
    return parseWith(body, "body", &validateSubscription);
}

// ---------------------------------------------------------------------------------------------------------
// Events

std::string cloudEventProblem(const Json &event)
{
    return eventProblem(event, kNames01);
}

Validated<Json> normalizeCloudEvent(const Json &event)
{
    if (!isV1Event(event))
        return event;
    // CloudEvents 1.0, JSON structured mode.
    const Json &version = event["specversion"];
    if (!version.is_string())
        return eventError(typeMessage("specversion", "string", jsonTypeName(version)));
    if (version.get_ref<const std::string &>() != "1.0")
        return eventError("specversion in body should be one of [1.0]");
    static constexpr std::array<std::string_view, 7> stringAttributes{
        "datacontenttype", "data_base64", "dataschema", "id", "source", "subject", "time"};
    for (auto name : stringAttributes) {
        if (const Json *v = present(event, name); v && !v->is_string())
            return eventError(typeMessage(name, "string", jsonTypeName(*v)));
    }
    if (const Json *v = present(event, "type"); v && !v->is_string())
        return eventError(typeMessage("type", "string", jsonTypeName(*v)));
    if (present(event, "data") && present(event, "data_base64"))
        return eventError("data and data_base64 must not both be set");

    Json out = Json::object();
    out["cloudEventsVersion"] = "0.1";
    Json extensions = Json::object();
    for (const auto &[key, value] : event.items()) {
        if (key == "specversion")
            continue;
        if (key == "type")
            out["eventType"] = value;
        else if (key == "id")
            out["eventID"] = value;
        else if (key == "source")
            out["source"] = value;
        else if (key == "time")
            out["eventTime"] = value;
        else if (key == "datacontenttype")
            out["contentType"] = value;
        else if (key == "dataschema")
            out["schemaURL"] = value;
        else if (key == "data")
            out["data"] = value;
        else if (key == "data_base64") {
            if (!value.is_null())
                out["data"] = value; // 0.1 carries binary payloads as base64 strings
        } else if (key == "tags" && value.is_array())
            out["tags"] = value; // Emission tags
        else if (key == "extensions" && value.is_object())
            extensions.update(value);
        else if (!value.is_null())
            extensions[key] = value; // subject and extension attributes
    }
    if (!extensions.empty())
        out["extensions"] = std::move(extensions);
    return out;
}

Validated<CloudEvent> parseCloudEvent(const Json &event)
{
    const bool v1 = isV1Event(event);
    auto normalized = normalizeCloudEvent(event);
    if (!normalized)
        return normalized.error();
    const Json &j = *normalized;
    if (std::string problem = eventProblem(j, v1 ? kNames10 : kNames01); !problem.empty())
        return eventError(problem);
    CloudEvent e;
    from_json(j, e);
    if (!e.eventTime.empty())
        e.eventTime = normalizeDateTime(e.eventTime);
    return e;
}

Validated<std::vector<CloudEvent>> parseEventBody(std::string_view body, bool allowArray)
{
    auto parsed = parseJsonBody(body, "body");
    if (!parsed)
        return parsed.error();
    std::vector<CloudEvent> events;
    if (parsed->is_array() && allowArray) {
        events.reserve(parsed->size());
        std::size_t i = 0;
        for (const auto &item : *parsed) {
            auto e = parseCloudEvent(item);
            if (!e) {
                std::string detail = e.error().message.substr(kEventErrorPrefix.size());
                return eventError("event " + std::to_string(i) + ": " + detail);
            }
            events.push_back(std::move(*e));
            ++i;
        }
        return events;
    }
    const Json &event = parsed->is_null() ? emptyObject() : *parsed;
    auto e = parseCloudEvent(event);
    if (!e)
        return e.error();
    events.push_back(std::move(*e));
    return events;
}

} // namespace dispatch::wire
