// The JSON Schema checks of a function's `schema.in` / `schema.out` (§3.3; Dispatch validated with go-openapi,
// draft 4). Supported keywords: type (one or a list; "integer" = a number without fraction), enum, required,
// properties, additionalProperties (bool or schema), items (schema), minItems/maxItems, minLength/maxLength
// (code points), pattern (ECMAScript regex), minimum/maximum (+ draft-4 exclusiveMinimum/exclusiveMaximum
// booleans), multipleOf, allOf/anyOf/oneOf/not. Unknown keywords are ignored, as the specification asks.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace dispatch::wire {

// The first problem as "<path>: <what>" ("name: is required", ".age: must be >= 0"), or nullopt when `value`
// satisfies `schema`. A null or non-object schema accepts everything.
std::optional<std::string> validateJsonSchema(const nlohmann::json &schema, const nlohmann::json &value);

} // namespace dispatch::wire
