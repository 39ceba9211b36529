// src/codegen/cuda/cuda_async_copy.h — internal to the CUDA backend: how the asynchronous copies
// of double-buffered stages (Intrinsic::kCpAsync, kCpAsyncCommit, kCpAsyncWait; made by
// src/lower/inject_double_buffer.h) print as CUDA C.
#pragma once

#include <functional>
#include <string>

#include "codegen/cuda/cuda_allreduce.h"
#include "te/ir.h"

namespace te {

// The device functions the statements call, printed once before the kernels of a module that
// has any: cp.async / cp.async.commit_group / cp.async.wait_group in inline PTX on sm_80 and
// newer, a plain copy (and nothing to commit or wait for) below it.
extern const char* const kCudaAsyncCopyHelpers;

// The statement one of the three intrinsics prints as; `print` renders an index or condition.
std::string print_cuda_async_copy(const CallNode* op, CudaStmtPrinter& printer,
                                  const std::function<std::string(const Expr&)>& print);

}  // namespace te
