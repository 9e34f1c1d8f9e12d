// Errors as values inside the server. An ApiError carries the HTTP status and the Dispatch error body
// ({"code","message"}); it is mapped to a response in exactly one place (http/router.cpp).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace dispatch {

struct ApiError
{
    int status = 500;  // HTTP status
    long long code = 0; // body "code": the HTTP status, or a go-openapi validation code (601, 602, 605, 606)
    std::string message;

    static ApiError badRequest(std::string msg) { return {400, 400, std::move(msg)}; }
    static ApiError unauthorized(std::string msg) { return {401, 401, std::move(msg)}; }
    static ApiError forbidden(std::string msg) { return {403, 403, std::move(msg)}; }
    static ApiError notFound(std::string msg) { return {404, 404, std::move(msg)}; }
    static ApiError conflict(std::string msg) { return {409, 409, std::move(msg)}; }
    static ApiError payloadTooLarge(std::string msg) { return {413, 413, std::move(msg)}; }
    static ApiError tooManyRequests(std::string msg) { return {429, 429, std::move(msg)}; }
    static ApiError internal(std::string msg) { return {500, 500, std::move(msg)}; }
    static ApiError notImplemented(std::string msg) { return {501, 501, std::move(msg)}; }
    static ApiError unavailable(std::string msg) { return {503, 503, std::move(msg)}; }
    // go-openapi validation failure: HTTP 422 with the go-openapi code in the body.
    static ApiError validation(long long openApiCode, std::string msg) { return {422, openApiCode, std::move(msg)}; }
};

// A value or an ApiError (std::expected is C++23; this is the small subset we need).
template <typename T>
class Result
{
public:
    Result(T value) : m_v(std::move(value)) {}
    Result(ApiError err) : m_v(std::move(err)) {}
    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }
    T &value() { return std::get<0>(m_v); }
    const T &value() const { return std::get<0>(m_v); }
    T &operator*() { return value(); }
    T *operator->() { return &value(); }
    const ApiError &error() const { return std::get<1>(m_v); }

private:
    std::variant<T, ApiError> m_v;
};

struct Ok
{
};
using VoidResult = Result<Ok>;

} // namespace dispatch
