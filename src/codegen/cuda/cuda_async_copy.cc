// The CUDA C of asynchronous copies (see cuda_async_copy.h).
#include "codegen/cuda/cuda_async_copy.h"

namespace te {

// cp.async writes shared memory straight from L2 (16 bytes: .cg, not kept in L1; 4 and 8:
// .ca, the only form those sizes have). A source size of 0 reads nothing and zero-fills the
// destination: padding. The address of an invalid source is the buffer's start, never read.
const char* const kCudaAsyncCopyHelpers = R"(template <int kBytes>
__device__ __forceinline__ void te_cp_async(void* dst, const void* src, bool valid) {
#if __CUDA_ARCH__ >= 800
  const unsigned shared_dst = (unsigned)__cvta_generic_to_shared(dst);
  if (kBytes == 16)
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"(shared_dst), "l"(src), "r"(valid ? 16 : 0) : "memory");
  else
    asm volatile("cp.async.ca.shared.global [%0], [%1], %2, %3;\n" :: "r"(shared_dst), "l"(src), "n"(kBytes), "r"(valid ? kBytes : 0) : "memory");
#else
  struct __align__(kBytes) Chunk { unsigned char bytes[kBytes]; };
  *(Chunk*)dst = valid ? *(const Chunk*)src : Chunk{};
#endif
}
__device__ __forceinline__ void te_cp_async_commit() {
#if __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#endif
}
template <int kGroups>
__device__ __forceinline__ void te_cp_async_wait() {
#if __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" :: "n"(kGroups) : "memory");
#endif
}
)";

std::string print_cuda_async_copy(const CallNode* op, CudaStmtPrinter& printer,
                                  const std::function<std::string(const Expr&)>& print) {
  if (op->op == Intrinsic::kCpAsyncCommit) return "te_cp_async_commit();";
  if (op->op == Intrinsic::kCpAsyncWait) return "te_cp_async_wait<" + print(op->args[0]) + ">();";
  TE_ICHECK(op->op == Intrinsic::kCpAsync, "codegen cuda: ", intrinsic_name(op->op), " is not an asynchronous copy");
  const auto* src = op->args[2].as<LoadNode>();
  const auto* ramp = src->index.as<RampNode>();
  const int64_t bytes = int64_t(src->dtype.lanes) * src->dtype.bytes();
  const std::string from = printer.buffer_name(src->buffer);
  std::string address = from + " + (" + print(ramp ? ramp->base : src->index) + ")";
  const bool always = is_one(op->args[3]);
  if (!always) address = "(" + print(op->args[3]) + " ? " + address + " : " + from + ")";
  return "te_cp_async<" + std::to_string(bytes) + ">(" + printer.buffer_name(Var(op->args[0].as<VarNode>())) + " + (" +
         print(op->args[1]) + "), " + address + ", " + (always ? std::string("true") : print(op->args[3])) + ");";
}

}  // namespace te
