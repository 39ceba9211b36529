// src/lower/stage_name.h — names the stage a loop belongs to, for error messages.
#pragma once

#include <string>

#include "te/ir.h"

namespace te {

// The tensor (before storage_flatten) or buffer (after) first written inside s; "" if none.
std::string stage_of(const Stmt& s);

}  // namespace te
