// check_gpu_memory: sums the constant sizes of a CUDA kernel's shared and local buffers.
#include "lower/check_gpu_memory.h"

#include "te/ir_functor.h"

namespace te {
namespace {

class GpuMemory : public IRVisitor {
 public:
  int64_t shared = 0;
  std::string shared_list;
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
    if (constant && op->scope == "shared") {
      shared += bytes;
      shared_list += (shared_list.empty() ? "" : ", ") + op->buffer.name() + " " + std::to_string(bytes);
    }
    if (constant && op->scope == "local" && bytes > kMaxLocalBytesPerThread && local_error.empty())
      local_error = detail::cat("local buffer ", op->buffer.name(), " needs ", bytes, " bytes per thread, more than CUDA's ",
                                kMaxLocalBytesPerThread, " bytes of local memory per thread; use a smaller tile");
    IRVisitor::visit_node(op);
  }
};

}  // namespace

Stmt check_gpu_memory(const Stmt& s, const std::string& kernel) {
  GpuMemory m;
  m.visit(s);
  if (!m.local_error.empty()) fail("kernel ", kernel, ": ", m.local_error);
  if (m.shared > kMaxStaticSharedBytes)
    fail("kernel ", kernel, ": its shared buffers (", m.shared_list, " bytes) need ", m.shared,
         " bytes per block, more than the ", kMaxStaticSharedBytes,
         " bytes (48 KiB) of static shared memory a CUDA block can use; use smaller shared tiles");
  return s;
}

}  // namespace te
