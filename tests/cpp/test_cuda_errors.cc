// CUDA backend: the thread checks of target cuda and NVRTC's error reporting.
#include "test_cuda_util.h"

namespace te::testing {
namespace {

struct Vadd {
  Tensor A = placeholder({4096}, DataType::float32(), "A");
  Tensor C = compute({4096}, [this](const std::vector<Var>& i) { return A(i[0]) + 1.0f; }, "C");
  IterVar axis() const { return compute_op(C)->axis[0]; }
};

TEST(CudaErrors, NoBindAtAll) {
  Vadd v;
  Schedule s = create_schedule({v.C.op()});
  EXPECT_TE_ERROR(build(s, {v.A, v.C}, "cuda", "nobind"), "kernel nobind", "no axis is bound", "blockIdx.x",
                  "threadIdx.x");
}

TEST(CudaErrors, UnboundOuterLoop) {
  Vadd v;
  Schedule s = create_schedule({v.C.op()});
  auto [xo, xi] = s[v.C].split(v.axis(), 64);
  s[v.C].bind(xi, thread_axis("threadIdx.x"));
  EXPECT_TE_ERROR(build(s, {v.A, v.C}, "cuda", "k"), "stage C: loop", xo.var().name().c_str(),
                  "is not bound to a thread; bind it to blockIdx.x or move it inside");
}

TEST(CudaErrors, TooManyThreadsPerBlock) {
  Vadd v;
  Schedule s = create_schedule({v.C.op()});
  auto [xo, xi] = s[v.C].split(v.axis(), 2048);
  s[v.C].bind(xo, thread_axis("blockIdx.x"));
  s[v.C].bind(xi, thread_axis("threadIdx.x"));
  EXPECT_TE_ERROR(build(s, {v.A, v.C}, "cuda", "big"), "kernel big", "2048 threads per block", "1024");
}

TEST(CudaErrors, ThreadExtentDiffersBetweenStages) {
  Vadd v;
  Schedule s = create_schedule({v.C.op()});
  Tensor AS = s.cache_read(v.A, "shared", {v.C.op()});
  auto [xo, xi] = s[v.C].split(v.axis(), 32);
  s[v.C].bind(xo, thread_axis("blockIdx.x"));
  s[v.C].bind(xi, thread_axis("threadIdx.x"));
  s[AS].compute_at(s[v.C], xo);
  auto [lo, li] = s[AS].split(compute_op(AS)->axis[0], 16);
  s[AS].bind(li, thread_axis("threadIdx.x"));
  {
    // 16 loading threads, 32 computing: the load is guarded, not an error.
    Module m = build(s, {v.A, v.C}, "cuda", "guarded");
    EXPECT_NE(m.get_source("cuda").find("if (threadIdx.x < 16) {"), std::string::npos) << m.get_source("cuda");
    EXPECT_EQ(codegen_cuda(m.func()).launch.block[0], 32);
    expect_ptx_entry(m);
  }
  s[AS].bind(lo, thread_axis("blockIdx.x"));  // 2 blocks for the load, 128 for the compute
  EXPECT_TE_ERROR(build(s, {v.A, v.C}, "cuda", "k"), "stage A.shared", "blockIdx.x has extent 2", "128",
                  "same extent");
}

TEST(CudaErrors, BindStillRejectedOnLlvm) {
  Vadd v;
  Schedule s = create_schedule({v.C.op()});
  s[v.C].bind(v.axis(), thread_axis("threadIdx.x"));
  EXPECT_TE_ERROR(lower(s, {v.A, v.C}, "k", LowerOptions{}), "target llvm has no threads");
}

TEST(CudaErrors, NvrtcErrorShowsSourceLinesAndLog) {
  std::string bad = "extern \"C\" __global__ void broken_kernel(float* a) {\n  a[0] = undefined_name;\n}\n";
  EXPECT_TE_ERROR(compile_cuda_to_ptx(bad), "NVRTC could not compile", "2 |   a[0] = undefined_name;",
                  "undefined_name", "NVRTC log");
}

TEST(CudaErrors, BadArchIsNamed) {
  EXPECT_TE_ERROR(compile_cuda_to_ptx("extern \"C\" __global__ void k() {}\n", "volta"), "bad architecture 'volta'");
}

TEST(CudaErrors, PtxCacheAndArchOption) {
  std::string src = "extern \"C\" __global__ void k(float* a) { a[threadIdx.x] = 1.0f; }\n";
  std::string p90 = compile_cuda_to_ptx(src, "sm_90");
  EXPECT_EQ(p90, compile_cuda_to_ptx(src, "sm_90"));
  EXPECT_NE(p90.find(".target sm_90"), std::string::npos);
  std::string p80 = compile_cuda_to_ptx(src, "sm_80");
  EXPECT_NE(p80.find(".target sm_80"), std::string::npos);
}

TEST(CudaErrors, CallWithoutGpuSaysSo) {
  if (cuda_device_available()) GTEST_SKIP() << "a GPU is present";
  Vadd v;
  Schedule s = create_schedule({v.C.op()});
  auto [xo, xi] = s[v.C].split(v.axis(), 128);
  s[v.C].bind(xo, thread_axis("blockIdx.x"));
  s[v.C].bind(xi, thread_axis("threadIdx.x"));
  Module m = build(s, {v.A, v.C}, "cuda", "nogpu");
  NDArray a = NDArray::empty({4096}), c = NDArray::empty({4096});
  EXPECT_TE_ERROR(m({a, c}), "no CUDA device available", "nogpu");
  EXPECT_TE_ERROR(m.save_object("/tmp/x.o"), "not supported for target cuda");
}

}  // namespace
}  // namespace te::testing
