// src/lower/check_target.h — rejects loop kinds the target cannot run (a thread binding on a
// CPU target), naming the stage, the axis and the thread tag.
#pragma once

#include "te/lower.h"

namespace te {

// Returns s unchanged, or throws te::Error. Runs before storage_flatten (TensorStores are
// still there, so the stage of a bound loop can be named).
Stmt check_target(const Stmt& s, const Target& target);

}  // namespace te
