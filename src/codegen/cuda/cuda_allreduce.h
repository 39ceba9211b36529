// src/codegen/cuda/cuda_allreduce.h — internal to the CUDA backend: the printer of cross-thread
// reductions (cuda_allreduce.cc), apart from the kernel printer (codegen_cuda.cc) it serves.
#pragma once

#include <sstream>
#include <string>

#include "lower/cuda_threads.h"
#include "lower/gpu_allreduce.h"
#include "te/ir.h"

namespace te {

// The C spelling of a scalar type (float16 → __half); te::Error for a type CUDA C lacks.
std::string cuda_c_type(DataType t);

// What the reduction printer needs of the kernel printer (CudaPrinter in codegen_cuda.cc).
class CudaStmtPrinter {
 public:
  virtual ~CudaStmtPrinter() = default;
  virtual std::string buffer_name(const Var& buffer) = 0;  // the C name of an IR buffer
  virtual std::string fresh(const std::string& hint) = 0;  // a kernel-unique C name, bound to nothing
  virtual void print_stmt(const Stmt& s, int indent, std::ostringstream& out) = 0;
};

// Prints a kGpuAllreduceAttr statement of a kernel launched with `launch` (every thread of the
// block runs it): each thread's partial, the combine by plan_gpu_allreduce's way, the result.
void print_cuda_allreduce(const AttrStmtNode* op, const GpuLaunchConfig& launch, CudaStmtPrinter& printer, int indent,
                          std::ostringstream& out);

}  // namespace te
