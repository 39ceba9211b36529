// src/lower/storage_flatten.h — multi-dimensional tensors to flat memory:
// Realize/TensorStore/TensorRead become Allocate/Store/Load.
#pragma once

#include <unordered_map>
#include <vector>

#include "te/lower.h"
#include "te/schedule.h"

namespace te {

// Argument tensors are not allocated: their Realize is dropped and they are addressed through
// their BufferArg's data Var, row-major over the declared shape with min 0. Any other tensor
// gets an Allocate of its realize extents around the Realize body, addressed row-major with
// the realize mins subtracted. te::Error for a tensor that is read or written but is neither
// realized nor an argument. aligns (by the realized tensor's op) pads strides: dimension d's
// stride is rounded up to the next value with stride % factor == offset (Stage::storage_align),
// and the buffer is then allocated as one flat extent covering the padding.
using StorageAlignMap = std::unordered_map<const OperationNode*, std::vector<StorageAlign>>;
Stmt storage_flatten(const Stmt& s, const std::vector<BufferArg>& args, const StorageAlignMap& aligns = {});

}  // namespace te
