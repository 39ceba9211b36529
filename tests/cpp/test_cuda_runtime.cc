// CUDA runtime: target cuda options, NVRTC options / cubin / cache, build-time block limits
// (against a simulated device limit), device-array argument checks, DLPack import. Runs on
// every machine; the tests that need a GPU (CudaRuntimeGpu.*) skip cleanly without one.
#include <atomic>
#include <cstdlib>
#include <thread>

#include "codegen/cuda/cuda_driver.h"
#include "codegen/cuda/cuda_limits.h"
#include "codegen/cuda/nvrtc.h"
#include "test_cuda_util.h"

namespace te::testing {
namespace {

// y[i] = exp(x[i]) / (x[i] + 3), 64 threads per block.
struct ExpKernel {
  Var n{"n", DataType::int32()};
  Tensor X = placeholder({n}, DataType::float32(), "X");
  Tensor Y = compute({n}, [this](const std::vector<Var>& i) { return exp(X(i[0])) / (X(i[0]) + 3.0f); }, "Y");
  Schedule schedule() const {
    Schedule s = create_schedule({Y.op()});
    auto [xo, xi] = s[Y].split(compute_op(Y)->axis[0], 64);
    s[Y].bind(xo, thread_axis("blockIdx.x"));
    s[Y].bind(xi, thread_axis("threadIdx.x"));
    return s;
  }
  Module build_for(const std::string& target) const { return build(schedule(), {X, Y}, target, "expdiv"); }
};

// The matmul of test_cuda_schedules with tile T: two T x KT shared tiles, T x T threads.
Module shared_matmul(int T, int KT, const std::string& target) {
  return shared_tile_matmul(4 * T, 4 * T, 2 * KT, T, KT).build(target, "mm");
}

TEST(CudaTarget, OptionsParseAndPrint) {
  Target t = Target::parse("cuda -arch=sm_80 -use_fast_math -Xnvrtc=--maxrregcount=64 -Xnvrtc=-lineinfo "
                           "-max-threads-per-block=512 -max-shared-memory-per-block=32768");
  EXPECT_EQ(t.kind, "cuda");
  EXPECT_EQ(t.arch, "sm_80");
  EXPECT_TRUE(t.fast_math);
  EXPECT_EQ(t.nvrtc_flags, (std::vector<std::string>{"--maxrregcount=64", "-lineinfo"}));
  EXPECT_EQ(t.max_threads_per_block, 512);
  EXPECT_EQ(t.max_shared_memory_per_block, 32768);
  EXPECT_EQ(Target::parse(t.str()).str(), t.str());
  EXPECT_EQ(Target::parse("cuda").str(), "cuda");
}

TEST(CudaTarget, BadOptionsNamed) {
  EXPECT_TE_ERROR(Target::parse("cuda -arch=90"), "bad -arch '90'", "sm_<NN>");
  EXPECT_TE_ERROR(Target::parse("cuda -arch=sm_"), "bad -arch");
  EXPECT_TE_ERROR(Target::parse("cuda -arch=sm_80 -arch=sm_90"), "-arch is given twice");
  EXPECT_TE_ERROR(Target::parse("cuda -use_fast_math=1"), "-use_fast_math takes no value");
  EXPECT_TE_ERROR(Target::parse("cuda -mcpu=znver4"), "'-mcpu=znver4' is for target llvm");
  EXPECT_TE_ERROR(Target::parse("cuda -max-threads-per-block=0"), "bad -max-threads-per-block value '0'");
  EXPECT_TE_ERROR(Target::parse("cuda -Xnvrtc"), "needs a value");
  EXPECT_TE_ERROR(Target::parse("llvm -arch=sm_80"), "unknown option '-arch=sm_80'");
  EXPECT_TE_ERROR(Target::parse("cuda -frobnicate"), "unknown option '-frobnicate'");
}

TEST(CudaNvrtc, ArchFastMathAndFlagsReachNvrtc) {
  ExpKernel k;
  Module plain = k.build_for("cuda -arch=sm_80");
  Module fast = k.build_for("cuda -arch=sm_80 -use_fast_math");
  std::string ptx = plain.get_source("ptx"), fast_ptx = fast.get_source("ptx");
  EXPECT_TRUE(contains(ptx, ".target sm_80")) << ptx.substr(0, 400);
  // -use_fast_math flushes denormals and uses the approximate division.
  EXPECT_FALSE(contains(ptx, "div.approx")) << ptx;
  EXPECT_TRUE(contains(fast_ptx, "div.approx") || contains(fast_ptx, "div.full")) << fast_ptx;
  EXPECT_TRUE(contains(fast_ptx, ".ftz")) << fast_ptx;

  NvrtcOptions o = nvrtc_options(Target::parse("cuda -arch=sm_86 -use_fast_math -Xnvrtc=--maxrregcount=32"));
  EXPECT_EQ(o.arch, "sm_86");
  std::vector<std::string> ptx_line = nvrtc_command_line(o, NvrtcOutput::kPtx);
  std::vector<std::string> cubin_line = nvrtc_command_line(o, NvrtcOutput::kCubin);
  EXPECT_EQ(ptx_line[0], "--gpu-architecture=compute_86");
  EXPECT_EQ(cubin_line[0], "--gpu-architecture=sm_86");
  EXPECT_NE(std::find(ptx_line.begin(), ptx_line.end(), "--use_fast_math"), ptx_line.end());
  EXPECT_EQ(ptx_line.back(), "--maxrregcount=32");

  // A flag NVRTC rejects surfaces as a te::Error with the options used.
  EXPECT_TE_ERROR(k.build_for("cuda -Xnvrtc=--maxrregcount=lots").get_source("ptx"), "NVRTC",
                  "--maxrregcount=lots");
  // Flags that name files or reach other tools never get to NVRTC (target strings are data).
  EXPECT_TE_ERROR(Target::parse("cuda -Xnvrtc=--no-such-nvrtc-flag"), "is not allowed");
  EXPECT_TE_ERROR(Target::parse("cuda -Xnvrtc=--pre-include=/etc/passwd"), "is not allowed", "never flags that name files");
  EXPECT_TE_ERROR(Target::parse("cuda -Xnvrtc=-time=out.csv"), "is not allowed");
  EXPECT_TE_ERROR(Target::parse("cuda -Xnvrtc=-Xptxas=-v"), "is not allowed");
  EXPECT_TE_ERROR(Target::parse("cuda -Xnvrtc=-Dx=$(id)"), "is not allowed");
}

TEST(CudaNvrtc, CubinForRealArchitecturesOnly) {
  ExpKernel k;
  std::string cubin = k.build_for("cuda -arch=sm_90").get_source("cubin");
  ASSERT_GT(cubin.size(), 4u);
  EXPECT_EQ(cubin.substr(0, 4), std::string("\x7f" "ELF"));  // an ELF image of sm_90 machine code
  EXPECT_TRUE(contains(cubin, "expdiv_kernel"));
  EXPECT_TE_ERROR(k.build_for("cuda -arch=compute_90").get_source("cubin"), "a cubin needs a real architecture",
                  "-arch=sm_90");
  EXPECT_TRUE(contains(k.build_for("cuda -arch=compute_90").get_source("ptx"), ".target sm_90"));
  EXPECT_TE_ERROR(k.build_for("cuda").get_source("sass"), "format 'sass'", "\"cubin\"");
}

TEST(CudaNvrtc, CacheKeyedBySourceArchAndOptions) {
  ExpKernel k;
  Module m = k.build_for("cuda -arch=sm_75");
  size_t before = nvrtc_compilations();
  std::string a = m.get_source("ptx");
  EXPECT_EQ(nvrtc_compilations(), before + 1);
  EXPECT_EQ(m.get_source("ptx"), a);  // cached
  EXPECT_EQ(k.build_for("cuda -arch=sm_75").get_source("ptx"), a);
  EXPECT_EQ(nvrtc_compilations(), before + 1);
  k.build_for("cuda -arch=sm_75 -use_fast_math").get_source("ptx");  // other options: compiled again
  EXPECT_EQ(nvrtc_compilations(), before + 2);
  k.build_for("cuda -arch=sm_75").get_source("cubin");  // other output: compiled again
  EXPECT_EQ(nvrtc_compilations(), before + 3);

  // Concurrent requests for one new key compile once, and all get the same PTX.
  Module fresh = k.build_for("cuda -arch=sm_75 -Xnvrtc=-lineinfo");
  size_t start = nvrtc_compilations();
  std::vector<std::string> results(6);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) threads.emplace_back([&, t] { results[t] = fresh.get_source("ptx"); });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(nvrtc_compilations(), start + 1);
  for (const std::string& r : results) EXPECT_EQ(r, results[0]);
}

TEST(CudaLimits, SharedMemoryOverASimulatedDeviceLimit) {
  // T=16, KT=8: two 16x8 float tiles = 2 x 512 bytes.
  Module ok = shared_matmul(16, 8, "cuda -max-shared-memory-per-block=1024");
  EXPECT_EQ(shared_memory_bytes(ok.func()), 1024);
  EXPECT_TE_ERROR(shared_matmul(16, 8, "cuda -max-shared-memory-per-block=1000"), "kernel mm", "1024 bytes",
                  "A.shared", "B.shared", "24 bytes over the limit of 1000 bytes",
                  "-max-shared-memory-per-block=1000", "use smaller tiles");
}

// Above 48 KiB the shared tiles are carved out of one extern __shared__ array (dynamic shared
// memory, opted in at load and passed to every launch); below it they stay static arrays.
TEST(CudaLimits, DynamicSharedMemoryAbove48KiB) {
  // T=32, KT=256: two 32x256 float tiles = 64 KiB > 48 KiB of static shared memory.
  Module big = shared_matmul(32, 256, "cuda");
  std::string cu = big.get_source("cuda");
  EXPECT_TRUE(contains(cu, "extern __shared__ __align__(16) unsigned char te_dynamic_shared[];")) << cu;
  EXPECT_TRUE(contains(cu, "float* const A_shared = (float*)(te_dynamic_shared + 0);")) << cu;
  EXPECT_TRUE(contains(cu, "float* const B_shared = (float*)(te_dynamic_shared + 32768);")) << cu;
  EXPECT_FALSE(contains(cu, "__shared__ __align__(16) float")) << cu;
  EXPECT_EQ(shared_memory_bytes(big.func()), 65536);
  std::string arch;
  const CudaKernelSource* src = cuda_module_source(*big.node(), &arch);
  ASSERT_NE(src, nullptr);
  ASSERT_EQ(src->kernels.size(), 1u);
  EXPECT_EQ(src->kernels[0].dynamic_shared_bytes, 65536);  // what cuLaunchKernel is given
  expect_ptx_entry(big);
  // A small kernel keeps static arrays and launches without dynamic shared memory.
  Module small = shared_matmul(16, 8, "cuda");
  std::string small_cu = small.get_source("cuda");
  EXPECT_TRUE(contains(small_cu, "__shared__ __align__(16) float A_shared[128]")) << small_cu;
  EXPECT_FALSE(contains(small_cu, "extern __shared__")) << small_cu;
  EXPECT_EQ(cuda_module_source(*small.node(), nullptr)->kernels[0].dynamic_shared_bytes, 0);
  expect_ptx_entry(small);
  // Just at 48 KiB (two 32x192 tiles) the arrays are still static.
  Module edge = shared_matmul(32, 192, "cuda");
  EXPECT_FALSE(contains(edge.get_source("cuda"), "extern __shared__"));
  EXPECT_EQ(cuda_module_source(*edge.node(), nullptr)->kernels[0].dynamic_shared_bytes, 0);
}

TEST(CudaLimits, SharedMemoryOverTheSm90OptInMaximum) {
  if (cuda_device_available()) GTEST_SKIP() << "checks the no-device default (the device's limit applies here)";
  CudaLimits defaults = cuda_limits(Target::parse("cuda"));
  EXPECT_EQ(defaults.max_shared_memory_per_block, 227 * 1024);  // sm_90's opt-in maximum
  EXPECT_EQ(defaults.max_threads_per_block, 1024);
  EXPECT_NO_THROW(shared_matmul(32, 896, "cuda"));  // 2 x 112 KiB = 224 KiB
  // T=32, KT=1024: two 32x1024 float tiles = 256 KiB.
  EXPECT_TE_ERROR(shared_matmul(32, 1024, "cuda"), "kernel mm", "262144 bytes (256 KiB)", "A.shared: 131072 bytes",
                  "29696 bytes over the limit of 232448 bytes (227 KiB)", "sm_90 defaults", "dynamic shared memory",
                  "use smaller tiles");
  // A target's limit replaces the default (e.g. a device with less shared memory).
  EXPECT_TE_ERROR(shared_matmul(32, 256, "cuda -max-shared-memory-per-block=65535"), "kernel mm",
                  "1 bytes over the limit of 65535 bytes");
}

// On a GPU: the dynamic-shared-memory matmul runs (opt-in set, bytes passed at launch).
TEST(CudaLimits, DynamicSharedMatmulRunsOrSkips) {
  SharedTileMatmul mm = shared_tile_matmul(64, 64, 512, 32, 256);
  Module m = mm.build("cuda", "mm_dynamic");
  EXPECT_TRUE(contains(m.get_source("cuda"), "extern __shared__"));
  run_or_skip(m, {mm.A, mm.B}, mm.C, {{64, 512}, {512, 64}, {64, 64}});
}

TEST(CudaLimits, ThreadsPerBlockOverASimulatedDeviceLimit) {
  EXPECT_NO_THROW(shared_matmul(16, 8, "cuda -max-threads-per-block=256"));
  EXPECT_TE_ERROR(shared_matmul(16, 8, "cuda -max-threads-per-block=128"), "kernel mm",
                  "256 threads per block (16 x 16 x 1)", "128 over the limit of 128", "-max-threads-per-block=128",
                  "split the loops bound to threadIdx");
}

// A DLTensor view on a device, for the argument checks (no memory behind it is touched).
struct FakeTensor {
  std::vector<int64_t> shape;
  DLTensor t{};
  FakeTensor(DLDevice device, int64_t n) : shape{n} {
    static float dummy[1];
    t.data = dummy;
    t.device = device;
    t.ndim = 1;
    t.dtype = to_dlpack(DataType::float32());
    t.shape = shape.data();
  }
};

TEST(CudaDeviceArgs, WrongDeviceIsAClearError) {
  ExpKernel k;
  Module gpu = k.build_for("cuda");
  FakeTensor cpu_x({kDLCPU, 0}, 100), gpu_x({kDLCUDA, 0}, 100), gpu_y({kDLCUDA, 0}, 100), gpu1_y({kDLCUDA, 1}, 100);
  FakeTensor opencl_y({kDLOpenCL, 0}, 100);
  EXPECT_TE_ERROR(gpu(std::vector<DLTensor*>{&gpu_x.t, &cpu_x.t}), "argument 1 (Y) of kernel expdiv", "lives on cpu(0)",
                  "argument 0 (X) on cuda(0)", "te.cuda(0)");
  EXPECT_TE_ERROR(gpu(std::vector<DLTensor*>{&gpu_x.t, &gpu1_y.t}), "argument 1 (Y)", "lives on cuda(1)", "on cuda(0)");
  EXPECT_TE_ERROR(gpu(std::vector<DLTensor*>{&gpu_x.t, &opencl_y.t}), "argument 1 (Y)", "device type 4", "target cuda takes CUDA arrays");
  if (backend_built("llvm")) {  // the GPU machine's te is CUDA-only (scripts/gpu_check.sh)
    Schedule s = create_schedule({k.Y.op()});
    Module cpu = build(s, {k.X, k.Y}, "llvm", "cpu_expdiv");
    EXPECT_TE_ERROR(cpu(std::vector<DLTensor*>{&cpu_x.t, &gpu_y.t}), "argument 1 (Y) of kernel cpu_expdiv",
                    "expected a CPU array", "an array on cuda(0)", "te.cpu()");
  }
  if (!cuda_device_available()) {
    // All on one CUDA device: the checks pass and only the launch needs the GPU.
    EXPECT_TE_ERROR(gpu(std::vector<DLTensor*>{&gpu_x.t, &gpu_y.t}), "no CUDA device available", "expdiv");
    EXPECT_TE_ERROR(NDArray::empty({4}, DataType::float32(), Device::cuda(0)), "no CUDA device available");
    EXPECT_EQ(cuda_device_count(), 0);
  }
  EXPECT_TE_ERROR(NDArray::empty({4}, DataType::float32(), Device{kDLOpenCL, 0}), "device type 4", "not supported");
}

struct OwnedTensor {
  std::vector<float> data{1, 2, 3, 4, 5, 6};
  std::vector<int64_t> shape{2, 3};
  std::vector<int64_t> strides{3, 1};
  DLManagedTensor managed{};
  std::atomic<int>* deleted;
  explicit OwnedTensor(std::atomic<int>* d) : deleted(d) {
    managed.dl_tensor.data = data.data();
    managed.dl_tensor.device = {kDLCPU, 0};
    managed.dl_tensor.ndim = 2;
    managed.dl_tensor.dtype = to_dlpack(DataType::float32());
    managed.dl_tensor.shape = shape.data();
    managed.dl_tensor.strides = strides.data();
    managed.manager_ctx = this;
    managed.deleter = [](DLManagedTensor* m) { ++*static_cast<OwnedTensor*>(m->manager_ctx)->deleted; };
  }
};

TEST(CudaDeviceArgs, FromDlpackSharesMemoryAndOwnsTheTensor) {
  std::atomic<int> deleted{0};
  OwnedTensor owned(&deleted);
  {
    NDArray a = NDArray::from_dlpack(&owned.managed);
    EXPECT_EQ(a.data(), owned.data.data());  // zero copy
    EXPECT_EQ(a.shape(), (std::vector<int64_t>{2, 3}));
    EXPECT_TRUE(a.device().is_cpu());
    NDArray copy = a;
    a = NDArray();
    EXPECT_EQ(deleted.load(), 0);  // copy still holds it
  }
  EXPECT_EQ(deleted.load(), 1);
  // Rejected tensors are not taken (their deleter is not run).
  owned.strides = {1, 2};
  owned.managed.dl_tensor.strides = owned.strides.data();
  EXPECT_TE_ERROR(NDArray::from_dlpack(&owned.managed), "not compact row-major", "dimension 1", "contiguous");
  owned.strides = {3, 1};
  owned.managed.dl_tensor.device = {kDLOpenCL, 0};
  EXPECT_TE_ERROR(NDArray::from_dlpack(&owned.managed), "device type 4", "kDLCUDA");
  EXPECT_EQ(deleted.load(), 1);
}

// A shared tile attached inside a per-thread "local" accumulator (itself attached at the
// threadIdx loops) holds the whole block's tile: the enclosing thread loops are relaxed too.
TEST(CudaSchedules, SharedTileUnderRegisterTile) {
  const int N = 64, K = 16;
  RegisterTileMatmul mm = register_tile_matmul(N, K, /*block=*/32, /*threads=*/8, /*kstep=*/4);
  const Tensor &A = mm.A, &B = mm.B, &C = mm.C;
  Module m = build(mm.s, {A, B, C}, "cuda", "mm_reg");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "float A_shared[128]")) << cu;  // the block's 32x4 tile, not one thread's 4x4
  EXPECT_TRUE(contains(cu, "float B_shared[128]")) << cu;
  EXPECT_TRUE(contains(cu, "float C_local[16]")) << cu;
  expect_ptx_entry(m);
  run_or_skip(m, {A, B}, C, {{N, K}, {K, N}, {N, N}});
}

// ---- on a GPU only --------------------------------------------------------------------

#define SKIP_WITHOUT_GPU() \
  if (!cuda_device_available()) GTEST_SKIP() << cuda_unavailable_reason()

TEST(CudaRuntimeGpu, DeviceArraysRoundTrip) {
  SKIP_WITHOUT_GPU();
  NDArray host = random_array({3, 5}, DataType::float32(), 3);
  NDArray dev = host.copy_to(Device::cuda(0));
  EXPECT_TRUE(dev.device().is_cuda());
  NDArray dev2 = NDArray::empty({3, 5}, DataType::float32(), Device::cuda(0));
  dev2.fill_poison();
  dev2.copy_from(dev);  // device to device
  NDArray back = dev2.copy_to(Device::cpu());
  EXPECT_EQ(compare_arrays(back, host, 0, 0), "");
  EXPECT_TE_ERROR(NDArray::empty({4}, DataType::float32(), Device::cuda(cuda_device_count())), "does not exist",
                  "te.cuda(0)");
  CudaDeviceInfo info = cuda_device_info(0);
  EXPECT_GE(info.major, 3);
  EXPECT_EQ(default_cuda_arch(), std::getenv("TE_CUDA_ARCH") ? std::getenv("TE_CUDA_ARCH") : info.arch());
}

TEST(CudaRuntimeGpu, KernelOnDeviceArraysMatchesReference) {
  SKIP_WITHOUT_GPU();
  ExpKernel k;
  for (const char* target : {"cuda", "cuda -use_fast_math", "cuda -arch=compute_70"}) {
    Module m = k.build_for(target);
    NDArray x = random_array({1000}, DataType::float32(), 5);
    NDArray y = NDArray::empty({1000}, DataType::float32(), Device::cuda(0));
    y.fill_poison();
    m({x.copy_to(Device::cuda(0)), y});
    std::vector<NDArray> expected = evaluate_reference({k.X}, {x}, {k.Y});
    EXPECT_EQ(compare_arrays(y.copy_to(Device::cpu()), expected[0], 1e-3, 1e-5), "") << target;
  }
}

TEST(CudaRuntimeGpu, SharedMatmulOnDeviceArrays) {
  SKIP_WITHOUT_GPU();
  Module m = shared_matmul(16, 8, "cuda");
  const auto& args = m.func().args;
  NDArray a = random_array({64, 16}, DataType::float32(), 1), b = random_array({16, 64}, DataType::float32(), 2);
  NDArray c = NDArray::empty({64, 64}, DataType::float32(), Device::cuda(0));
  c.fill_poison();
  m({a.copy_to(Device::cuda(0)), b.copy_to(Device::cuda(0)), c});
  std::vector<NDArray> expected = evaluate_reference({args[0].tensor, args[1].tensor}, {a, b}, {args[2].tensor});
  EXPECT_EQ(compare_arrays(c.copy_to(Device::cpu()), expected[0], 1e-4, 1e-4), "");
}

// A kernel that faults (an unmapped device address) reports it at the call's one synchronize,
// naming the function's kernels and the TE_CUDA_SYNC_EACH_LAUNCH switch; with the switch the
// launch itself synchronizes and names the kernel. Each case runs in a fresh process (a
// fault leaves the CUDA context unusable).
[[noreturn]] void run_faulting_kernel(bool each_launch, const char* part1, const char* part2) {
  if (each_launch) setenv("TE_CUDA_SYNC_EACH_LAUNCH", "1", 1);
  else unsetenv("TE_CUDA_SYNC_EACH_LAUNCH");
  ExpKernel k;
  Module m = k.build_for("cuda");
  FakeTensor x({kDLCUDA, 0}, 1 << 20), y({kDLCUDA, 0}, 1 << 20);
  x.t.data = y.t.data = reinterpret_cast<void*>(uintptr_t(1) << 40);  // no memory there
  try {
    m(std::vector<DLTensor*>{&x.t, &y.t});
  } catch (const Error& e) {
    std::string msg = e.what();
    if (contains(msg, part1) && contains(msg, part2)) std::_Exit(0);
    std::cerr << msg;
    std::_Exit(2);
  }
  std::_Exit(3);  // no error at all
}

void expect_fault_message(bool each_launch, const char* part1, const char* part2) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_faulting_kernel(each_launch, part1, part2), ::testing::ExitedWithCode(0), "");
}

TEST(CudaRuntimeGpu, AsynchronousFaultNamesTheFunctionsKernels) {
  SKIP_WITHOUT_GPU();
  expect_fault_message(false, "function expdiv (kernel expdiv_kernel) on cuda(0)", "TE_CUDA_SYNC_EACH_LAUNCH=1");
  expect_fault_message(true, "CUDA kernel expdiv_kernel: execution", "TE_CUDA_SYNC_EACH_LAUNCH=1");
}

}  // namespace
}  // namespace te::testing
