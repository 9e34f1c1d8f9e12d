// SPDX-License-Identifier: GPL-3.0-or-later
#include "wire/jsonwriter.h"

#include <array>
#include <charconv>

namespace dispatch::wire {

namespace {

void appendInteger(std::string &out, auto value)
{
    std::array<char, 24> buf{};
    const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
    out.append(buf.data(), ec == std::errc() ? static_cast<std::size_t>(end - buf.data()) : 0);
}

// nlohmann's spelling of what JSON must escape below 0x20: the short forms, else \u00xx in lower case.
void appendEscapedControl(std::string &out, unsigned char c)
{
    switch (c) {
    case '\b': out += "\\b"; return;
    case '\t': out += "\\t"; return;
    case '\n': out += "\\n"; return;
    case '\f': out += "\\f"; return;
    case '\r': out += "\\r"; return;
    default: break;
    }
    static constexpr char hex[] = "0123456789abcdef";
    out += "\\u00";
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 0xF]);
}

void appendStrings(std::string &out, const std::vector<std::string> &v)
{
    out.push_back('[');
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i > 0)
            out.push_back(',');
        appendJsonString(out, v[i]);
    }
    out.push_back(']');
}

// Object members in the order the caller writes them (which must be nlohmann's: sorted by key).
class ObjectWriter
{
public:
    explicit ObjectWriter(std::string &out) : m_out(out) { m_out.push_back('{'); }
    ~ObjectWriter() { m_out.push_back('}'); }
    ObjectWriter(const ObjectWriter &) = delete;
    ObjectWriter &operator=(const ObjectWriter &) = delete;

    std::string &key(std::string_view k)
    {
        if (!m_first)
            m_out.push_back(',');
        m_first = false;
        m_out.push_back('"');
        m_out.append(k); // the keys below are plain ASCII
        m_out += "\":";
        return m_out;
    }
    void string(std::string_view k, std::string_view v) { appendJsonString(key(k), v); }
    void stringIfNotEmpty(std::string_view k, std::string_view v)
    {
        if (!v.empty())
            string(k, v);
    }
    void json(std::string_view k, const Json &v) { appendJson(key(k), v); }
    void integer(std::string_view k, int64_t v) { appendInteger(key(k), v); }
    void literal(std::string_view k, std::string_view text) { key(k).append(text); }
    void stringsOrNull(std::string_view k, const std::vector<std::string> &v)
    {
        if (v.empty())
            literal(k, "null");
        else
            appendStrings(key(k), v);
    }

private:
    std::string &m_out;
    bool m_first = true;
};

void appendTag(std::string &out, const Tag &t)
{
    ObjectWriter o(out);
    o.stringIfNotEmpty("key", t.key);
    o.stringIfNotEmpty("value", t.value);
}

} // namespace

void appendJsonString(std::string &out, std::string_view s)
{
    const std::size_t start = out.size();
    out.push_back('"');
    std::size_t plainFrom = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80)
            continue;
        if (c >= 0x80) {
            // Non-ASCII: nlohmann validates the UTF-8 and replaces bad bytes. Rare on the hot paths.
            out.resize(start);
            out += Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
            return;
        }
        out.append(s.data() + plainFrom, i - plainFrom);
        plainFrom = i + 1;
        if (c == '"')
            out += "\\\"";
        else if (c == '\\')
            out += "\\\\";
        else
            appendEscapedControl(out, c);
    }
    out.append(s.data() + plainFrom, s.size() - plainFrom);
    out.push_back('"');
}

void appendJson(std::string &out, const Json &j)
{
    switch (j.type()) {
    case Json::value_t::null:
        out += "null";
        return;
    case Json::value_t::boolean:
        out += j.get<bool>() ? "true" : "false";
        return;
    case Json::value_t::number_integer:
        appendInteger(out, j.get<int64_t>());
        return;
    case Json::value_t::number_unsigned:
        appendInteger(out, j.get<uint64_t>());
        return;
    case Json::value_t::string:
        appendJsonString(out, j.get_ref<const std::string &>());
        return;
    case Json::value_t::array: {
        out.push_back('[');
        bool first = true;
        for (const Json &e : j) {
            if (!first)
                out.push_back(',');
            first = false;
            appendJson(out, e);
        }
        out.push_back(']');
        return;
    }
    case Json::value_t::object: {
        out.push_back('{');
        bool first = true;
        for (const auto &[k, v] : j.get_ref<const Json::object_t &>()) {
            if (!first)
                out.push_back(',');
            first = false;
            appendJsonString(out, k);
            out.push_back(':');
            appendJson(out, v);
        }
        out.push_back('}');
        return;
    }
    case Json::value_t::number_float: // nlohmann's shortest round-trip spelling ("1.0", "1e+20", null for NaN)
    case Json::value_t::binary:
    case Json::value_t::discarded:
        out += j.dump(-1, ' ', false, Json::error_handler_t::replace);
        return;
    }
}

std::string runJson(const Run &m)
{
    // to_json(Run) in models.cpp is the reference; the keys here are in its (sorted) order.
    std::string out;
    out.reserve(512);
    {
        ObjectWriter o(out);
        if (m.blocking)
            o.literal("blocking", "true");
        if (m.coldStart)
            o.literal("coldStart", "true");
        if (m.durationNs >= 0)
            o.integer("durationNs", m.durationNs);
        if (m.error) {
            ObjectWriter e(o.key("error"));
            e.string("message", m.error->message);
            e.stringsOrNull("stacktrace", m.error->stacktrace);
            e.string("type", m.error->type);
        }
        if (!m.event.is_null())
            o.json("event", m.event);
        o.integer("executedTime", m.executedTime);
        o.stringIfNotEmpty("faasId", m.faasId);
        o.integer("finishedTime", m.finishedTime == 0 ? kGoZeroTimeNs : m.finishedTime);
        o.stringIfNotEmpty("functionId", m.functionId);
        o.stringIfNotEmpty("functionName", m.functionName);
        if (!m.httpContext.is_null())
            o.json("httpContext", m.httpContext);
        if (!m.input.is_null())
            o.json("input", m.input);
        if (m.logs) {
            ObjectWriter l(o.key("logs"));
            l.stringsOrNull("stderr", m.logs->stderrLines);
            l.stringsOrNull("stdout", m.logs->stdoutLines);
        }
        o.stringIfNotEmpty("name", m.name);
        if (!m.output.is_null())
            o.json("output", m.output);
        o.stringsOrNull("reason", m.reason);
        appendStrings(o.key("secrets"), m.secrets);
        o.literal("services", "null");
        if (m.status != Status::None)
            o.string("status", toString(m.status));
        std::string &tags = o.key("tags");
        tags.push_back('[');
        for (std::size_t i = 0; i < m.tags.size(); ++i) {
            if (i > 0)
                tags.push_back(',');
            appendTag(tags, m.tags[i]);
        }
        tags.push_back(']');
    }
    return out;
}

} // namespace dispatch::wire
