// SPDX-License-Identifier: GPL-3.0-or-later
#include "apiresult.h"

namespace dispatch::models {

int ApiResult::errorCode() const
{
    if (json.is_object()) {
        auto it = json.find("code");
        if (it != json.end() && it->is_number_integer())
            return it->get<int>();
    }
    return 0;
}

} // namespace dispatch::models
