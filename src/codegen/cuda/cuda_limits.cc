// Build-time checks of a CUDA kernel against the per-block limits of the device it will run
// on (or the sm_90 defaults without one), so an oversized tile is a te::Error at te.build with
// the stage named, not a launch failure later.
#include "codegen/cuda/cuda_limits.h"

#include <algorithm>
#include <vector>

#include "codegen/cuda/codegen_cuda.h"
#include "codegen/cuda/cuda_driver.h"
#include "lower/gpu_allreduce.h"
#include "te/ir_functor.h"

namespace te {
namespace {

struct SharedBuffer {
  std::string name;
  int64_t bytes;
};

std::vector<SharedBuffer> shared_buffers(const LoweredFunc& func) {
  std::vector<SharedBuffer> out;
  post_order_visit(
      func.body, [](const Expr&) {},
      [&](const Stmt& st) {
        const auto* alloc = st.as<AllocateNode>();
        if (!alloc || alloc->scope != "shared") return;
        int64_t elements = 1;
        for (const Expr& e : alloc->extents) {
          const int64_t* c = as_const_int(e);
          if (!c)
            fail("kernel ", func.name, ": shared buffer ", alloc->buffer.name(), " has a symbolic size (",
                 to_string(e), "); shared memory must have a constant size: split the axes it is computed "
                 "at by constant factors");
          elements *= *c;
        }
        out.push_back({alloc->buffer.name(), elements * int64_t(alloc->dtype.bytes()) * alloc->dtype.lanes});
      });
  std::reverse(out.begin(), out.end());  // outer buffers first, codegen_cuda's layout order
  return out;
}

std::string kib(int64_t bytes) {
  return detail::cat(bytes, " bytes (", double(bytes) / 1024.0, " KiB)");
}

// Each buffer starts 16-byte aligned, as codegen_cuda lays them out (static __align__(16)
// arrays, or slices of the dynamic shared array at aligned offsets).
int64_t aligned_total(const std::vector<SharedBuffer>& buffers) {
  int64_t total = 0;
  for (const SharedBuffer& b : buffers) total = (total + 15) / 16 * 16 + b.bytes;
  return total;
}

}  // namespace

CudaLimits cuda_limits(const Target& target) {
  CudaLimits limits;
  if (cuda_device_count() > 0) {
    CudaDeviceInfo info = cuda_device_info(0);
    limits.max_threads_per_block = info.max_threads_per_block;
    // The opt-in maximum: kernels above the 48 KiB static limit use dynamic shared memory.
    limits.max_shared_memory_per_block = std::max(info.max_shared_memory_per_block_optin, info.max_shared_memory_per_block);
    limits.source = "device cuda(0), " + info.name + " (" + info.arch() + ")";
  }
  if (target.max_threads_per_block || target.max_shared_memory_per_block) {
    if (target.max_threads_per_block) limits.max_threads_per_block = target.max_threads_per_block;
    if (target.max_shared_memory_per_block) limits.max_shared_memory_per_block = target.max_shared_memory_per_block;
    limits.source = "target '" + target.str() + "'";
  }
  return limits;
}


int64_t shared_memory_bytes(const LoweredFunc& func) { return aligned_total(shared_buffers(func)); }

void check_cuda_limits(const LoweredFunc& func, const GpuLaunchConfig& launch, const CudaLimits& limits) {
  int64_t threads = launch.threads_per_block();
  if (threads > limits.max_threads_per_block)
    fail("kernel ", func.name, ": ", threads, " threads per block (", launch.block[0], " x ", launch.block[1], " x ",
         launch.block[2], "), ", threads - limits.max_threads_per_block, " over the limit of ",
         limits.max_threads_per_block, " (", limits.source, "); split the loops bound to threadIdx by smaller "
         "factors (and bind the outer parts to blockIdx, or loop over them in each thread)");
  std::vector<SharedBuffer> buffers = shared_buffers(func);
  // The cross-thread reductions' own slots: static __shared__ arrays next to the kernel's
  // buffers (counted 16-byte aligned like them: an upper bound of their natural alignment).
  std::vector<SharedBuffer> slots;
  for (const GpuAllreduceSharedArray& a : gpu_allreduce_shared_arrays(func.body, launch))
    slots.push_back({a.stage + " (cross-thread reduction slots)", a.bytes()});
  const int64_t slot_bytes = aligned_total(slots);
  if (slot_bytes > kCudaStaticSharedBytes)
    fail("kernel ", func.name, ": its cross-thread reductions declare ", kib(slot_bytes),
         " of static shared memory for their slots, over the ", kib(kCudaStaticSharedBytes),
         " a kernel may declare statically; reduce fewer values per kernel, or over fewer threads (the slots "
         "take one element per thread when a reduced threadIdx dimension lies inside a data-parallel one)");
  buffers.insert(buffers.end(), slots.begin(), slots.end());
  int64_t total = aligned_total(buffers);
  if (total <= limits.max_shared_memory_per_block) return;
  std::sort(buffers.begin(), buffers.end(), [](const SharedBuffer& a, const SharedBuffer& b) { return a.bytes > b.bytes; });
  std::string stages;
  for (const SharedBuffer& b : buffers) stages += detail::cat(stages.empty() ? "" : ", ", "stage ", b.name, ": ", b.bytes, " bytes");
  fail("kernel ", func.name, ": uses ", kib(total), " of shared memory per block (", stages, "), ",
       total - limits.max_shared_memory_per_block, " bytes over the limit of ", kib(limits.max_shared_memory_per_block),
       " (", limits.source, "; above ", kib(kCudaStaticSharedBytes), " a kernel already uses dynamic shared "
       "memory, so this is the opt-in maximum); use smaller tiles: split the axes the shared caches are computed at "
       "by smaller factors, or cache fewer tensors in \"shared\"");
}

}  // namespace te
