// SPDX-License-Identifier: GPL-3.0-or-later
#include "wire/jsonschema.h"

#include <cmath>
#include <regex>

namespace dispatch::wire {

namespace {

using Json = nlohmann::json;

bool hasType(const Json &value, const std::string &type)
{
    if (type == "object")
        return value.is_object();
    if (type == "array")
        return value.is_array();
    if (type == "string")
        return value.is_string();
    if (type == "boolean")
        return value.is_boolean();
    if (type == "null")
        return value.is_null();
    if (type == "number")
        return value.is_number();
    if (type == "integer")
        return value.is_number_integer() || (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>());
    return true; // an unknown type name constrains nothing
}

std::size_t codePoints(const std::string &s)
{
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80)
            ++n;
    return n;
}

std::string where(const std::string &path)
{
    return path.empty() ? "input" : path;
}

std::string fmt(double v)
{
    Json j = v;
    if (std::floor(v) == v && std::abs(v) < 1e15)
        j = static_cast<int64_t>(v);
    return j.dump();
}

std::optional<std::string> check(const Json &schema, const Json &value, const std::string &path, int depth)
{
    if (!schema.is_object())
        return std::nullopt;
    if (depth > 64)
        return where(path) + ": the schema nests too deeply";
    if (auto t = schema.find("type"); t != schema.end()) {
        bool ok = false;
        std::string names;
        if (t->is_string()) {
            ok = hasType(value, t->get<std::string>());
            names = t->get<std::string>();
        } else if (t->is_array()) {
            for (const auto &one : *t)
                if (one.is_string()) {
                    ok = ok || hasType(value, one.get<std::string>());
                    names += (names.empty() ? "" : " or ") + one.get<std::string>();
                }
        } else {
            ok = true;
        }
        if (!ok)
            return where(path) + ": must be of type " + names;
    }
    if (auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
        bool found = false;
        for (const auto &one : *e)
            found = found || one == value;
        if (!found)
            return where(path) + ": must be one of " + e->dump();
    }
    if (value.is_object()) {
        if (auto r = schema.find("required"); r != schema.end() && r->is_array())
            for (const auto &name : *r)
                if (name.is_string() && !value.contains(name.get<std::string>()))
                    return (path.empty() ? "" : path + ".") + name.get<std::string>() + ": is required";
        const Json *props = nullptr;
        if (auto p = schema.find("properties"); p != schema.end() && p->is_object())
            props = &*p;
        for (auto it = value.begin(); it != value.end(); ++it) {
            const std::string child = path.empty() ? it.key() : path + "." + it.key();
            if (props && props->contains(it.key())) {
                if (auto problem = check((*props)[it.key()], it.value(), child, depth + 1))
                    return problem;
                continue;
            }
            if (auto a = schema.find("additionalProperties"); a != schema.end()) {
                if (a->is_boolean() && !a->get<bool>())
                    return child + ": is not allowed (no additional properties)";
                if (auto problem = check(*a, it.value(), child, depth + 1))
                    return problem;
            }
        }
    }
    if (value.is_array()) {
        if (auto m = schema.find("minItems"); m != schema.end() && m->is_number() && value.size() < m->get<double>())
            return where(path) + ": must have at least " + fmt(m->get<double>()) + " items";
        if (auto m = schema.find("maxItems"); m != schema.end() && m->is_number() && value.size() > m->get<double>())
            return where(path) + ": must have at most " + fmt(m->get<double>()) + " items";
        if (auto items = schema.find("items"); items != schema.end() && items->is_object())
            for (std::size_t i = 0; i < value.size(); ++i)
                if (auto problem = check(*items, value[i], path + "[" + std::to_string(i) + "]", depth + 1))
                    return problem;
    }
    if (value.is_string()) {
        const std::string s = value.get<std::string>();
        const double n = static_cast<double>(codePoints(s));
        if (auto m = schema.find("minLength"); m != schema.end() && m->is_number() && n < m->get<double>())
            return where(path) + ": must be at least " + fmt(m->get<double>()) + " characters long";
        if (auto m = schema.find("maxLength"); m != schema.end() && m->is_number() && n > m->get<double>())
            return where(path) + ": must be at most " + fmt(m->get<double>()) + " characters long";
        if (auto p = schema.find("pattern"); p != schema.end() && p->is_string()) {
            try {
                if (!std::regex_search(s, std::regex(p->get<std::string>(), std::regex::ECMAScript)))
                    return where(path) + ": must match the pattern " + p->get<std::string>();
            } catch (const std::regex_error &) {
                return where(path) + ": the schema's pattern " + p->get<std::string>() + " is not a valid regex";
            }
        }
    }
    if (value.is_number()) {
        const double v = value.get<double>();
        const bool exMin = schema.value("exclusiveMinimum", Json(false)) == Json(true);
        const bool exMax = schema.value("exclusiveMaximum", Json(false)) == Json(true);
        if (auto m = schema.find("minimum"); m != schema.end() && m->is_number()) {
            const double lim = m->get<double>();
            if (exMin ? v <= lim : v < lim)
                return where(path) + ": must be " + (exMin ? "> " : ">= ") + fmt(lim);
        }
        if (auto m = schema.find("maximum"); m != schema.end() && m->is_number()) {
            const double lim = m->get<double>();
            if (exMax ? v >= lim : v > lim)
                return where(path) + ": must be " + (exMax ? "< " : "<= ") + fmt(lim);
        }
        if (auto m = schema.find("multipleOf"); m != schema.end() && m->is_number() && m->get<double>() > 0) {
            const double q = v / m->get<double>();
            if (std::abs(q - std::round(q)) > 1e-9)
                return where(path) + ": must be a multiple of " + fmt(m->get<double>());
        }
    }
    if (auto all = schema.find("allOf"); all != schema.end() && all->is_array())
        for (const auto &sub : *all)
            if (auto problem = check(sub, value, path, depth + 1))
                return problem;
    if (auto any = schema.find("anyOf"); any != schema.end() && any->is_array() && !any->empty()) {
        bool matched = false;
        for (const auto &sub : *any)
            matched = matched || !check(sub, value, path, depth + 1);
        if (!matched)
            return where(path) + ": matches none of the schemas in anyOf";
    }
    if (auto one = schema.find("oneOf"); one != schema.end() && one->is_array() && !one->empty()) {
        int matched = 0;
        for (const auto &sub : *one)
            matched += check(sub, value, path, depth + 1) ? 0 : 1;
        if (matched != 1)
            return where(path) + ": must match exactly one schema in oneOf (matches " + std::to_string(matched) + ")";
    }
    if (auto no = schema.find("not"); no != schema.end() && no->is_object() && !check(*no, value, path, depth + 1))
        return where(path) + ": must not match the schema in not";
    return std::nullopt;
}

} // namespace

std::optional<std::string> validateJsonSchema(const nlohmann::json &schema, const nlohmann::json &value)
{
    return check(schema, value, {}, 0);
}

} // namespace dispatch::wire
