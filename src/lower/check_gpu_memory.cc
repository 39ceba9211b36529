// check_gpu_memory: the constant size of each local (per-thread) buffer of a CUDA kernel.
#include "lower/check_gpu_memory.h"

#include "te/ir_functor.h"

namespace te {
namespace {

class GpuMemory : public IRVisitor {
 public:
  std::string local_error;

 protected:
  void visit_node(const AllocateNode* op) override {
    int64_t bytes = int64_t(op->dtype.bytes()) * op->dtype.lanes;
    bool constant = true;
    for (const Expr& e : op->extents) {
      const int64_t* c = as_const_int(e);
      if (!c) constant = false;
      else if (*c > 0 && bytes > (int64_t(1) << 50) / *c) bytes = int64_t(1) << 50;  // saturate, still over
      else bytes *= *c;
    }
    if (constant && op->scope == "local" && bytes > kMaxLocalBytesPerThread && local_error.empty())
      local_error = detail::cat("local buffer ", op->buffer.name(), " needs ", bytes, " bytes per thread, more than CUDA's ",
                                kMaxLocalBytesPerThread, " bytes of local memory per thread; use a smaller tile");
    // A warp's fragments are spread over its 32 lanes: a lane holds bytes / 32 of them in registers.
    if (constant && is_wmma_scope(op->scope) && bytes / 32 > kMaxFragmentBytesPerLane && local_error.empty())
      local_error = detail::cat("the wmma fragments of ", op->buffer.name(), " need ", bytes / 32 / 4,
                                " registers per lane, more than the ", kMaxFragmentBytesPerLane / 4,
                                " a lane can give them without spilling; use fewer fragments per warp");
    IRVisitor::visit_node(op);
  }
};

}  // namespace

Stmt check_gpu_memory(const Stmt& s, const std::string& kernel) {
  GpuMemory m;
  m.visit(s);
  if (!m.local_error.empty()) fail("kernel ", kernel, ": ", m.local_error);
  // Shared memory per block is checked per kernel by the CUDA backend (cuda_limits.cc), against
  // the target's or the device's limit, once the function is split into kernels.
  return s;
}

}  // namespace te
