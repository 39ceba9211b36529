// src/lower/storage_flatten.h — multi-dimensional tensors to flat memory:
// Realize/TensorStore/TensorRead become Allocate/Store/Load.
#pragma once

#include <vector>

#include "te/lower.h"

namespace te {

// Argument tensors are not allocated: their Realize is dropped and they are addressed through
// their BufferArg's data Var, row-major over the declared shape with min 0. Any other tensor
// gets an Allocate of its realize extents around the Realize body, addressed row-major with
// the realize mins subtracted. te::Error for a tensor that is read or written but is neither
// realized nor an argument.
Stmt storage_flatten(const Stmt& s, const std::vector<BufferArg>& args);

}  // namespace te
