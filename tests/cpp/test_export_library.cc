// Kernel libraries (te/export.h): several kernels with symbolic shapes exported into one .so,
// loaded with dlopen (no te in the call path) and checked against the reference interpreter;
// the manifest and header; every ABI check returning an error code with a message; a library
// built for a CPU feature this machine lacks refusing to run; export from a committed tuning log.
#include <dlfcn.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#ifdef TE_WITH_CUDA
#include "codegen/cuda/codegen_cuda.h"
#include "test_cuda_util.h"
#endif
#include "codegen/runtime/c_abi.h"
#include "te/autotune/log.h"
#include "te/export.h"
#include "test_util.h"

namespace te::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Entry = int32_t (*)(DLTensor**, int32_t);
using Text = const char* (*)();

fs::path temp_dir() {
  static int serial = 0;
  fs::path dir = fs::temp_directory_path() / ("te_test_export_" + std::to_string(::getpid()) + "_" + std::to_string(serial++));
  fs::create_directories(dir);
  return dir;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path source_dir() { return fs::path(__FILE__).parent_path().parent_path().parent_path(); }

// C[i, j] = A[i, j] * 2 + B[j] over [n, 4] (parallel rows), and a matmul with symbolic m.
std::vector<Module> symbolic_kernels(const std::string& target = "llvm") {
  Var n = var("n"), m = var("m");
  Tensor A = placeholder({n, Expr(4)}, DataType::float32(), "A");
  Tensor B = placeholder({Expr(4)}, DataType::float32(), "B");
  Tensor C = compute({n, Expr(4)}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) * 2.0f + B(i[1]); }, "C");
  Schedule s1 = create_schedule({C.op()});
  s1[C].parallel(s1[C]->leaf_iter_vars[0]);
  Tensor X = placeholder({m, Expr(16)}, DataType::float32(), "X");
  Tensor Y = placeholder({Expr(16), Expr(8)}, DataType::float32(), "Y");
  IterVar k = reduce_axis(Range(0, 16), "k");
  Tensor Z = compute({m, Expr(8)}, [&](const std::vector<Var>& i) { return sum(X(i[0], k) * Y(k, i[1]), {k}); }, "Z");
  Schedule s2 = create_schedule({Z.op()});
  s2[Z].vectorize(s2[Z]->leaf_iter_vars[1]);
  return {build(s1, {A, B, C}, target, "scale_add"), build(s2, {X, Y, Z}, target, "small_mm")};
}

struct Loaded {
  void* handle = nullptr;
  explicit Loaded(const std::string& path) : handle(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {}
  template <typename F>
  F sym(const std::string& name) const {
    return reinterpret_cast<F>(dlsym(handle, name.c_str()));
  }
};

TEST(ExportLibrary, SymbolicShapesRoundTripThroughDlopen) {
  fs::path dir = temp_dir();
  std::vector<Module> mods = symbolic_kernels();
  ExportResult r = export_library({{mods[0]}, {mods[1]}}, (dir / "libsym.so").string());
  EXPECT_EQ(r.header, (dir / "libsym.h").string());
  EXPECT_EQ(r.manifest, (dir / "libsym.json").string());
  EXPECT_EQ(r.kernels, (std::vector<std::string>{"scale_add", "small_mm"}));

  json manifest = json::parse(read_text(r.manifest));
  EXPECT_EQ(manifest["format"], "te-kernel-library");
  EXPECT_EQ(manifest["prefix"], "sym");
  ASSERT_EQ(manifest["kernels"].size(), 2u);
  const json& k0 = manifest["kernels"][0];
  EXPECT_EQ(k0["name"], "scale_add");
  EXPECT_EQ(k0["size_vars"], json::array({"n"}));
  EXPECT_EQ(k0["args"][0]["shape"], json::array({"n", 4}));
  EXPECT_EQ(k0["args"][0]["dtype"], "float32");
  EXPECT_EQ(k0["args"][0]["role"], "input");
  EXPECT_EQ(k0["args"][2]["role"], "output");
  EXPECT_EQ(k0["target"], "llvm");
  EXPECT_TRUE(k0["workload_key"].is_null());
  std::vector<std::string> host = host_cpu_features();
  for (const auto& f : manifest["cpu"]["features"])  // built for this host: every feature is here
    EXPECT_NE(std::find(host.begin(), host.end(), f.get<std::string>()), host.end()) << f;
#if defined(__x86_64__)
  EXPECT_NE(manifest["cpu"]["features"].dump().find("\"sse2\""), std::string::npos);
#endif

  std::string header = read_text(r.header);
  EXPECT_NE(header.find("int32_t scale_add(DLTensor** args, int32_t num_args);"), std::string::npos);
  EXPECT_NE(header.find("const char* sym_load_error(void);"), std::string::npos);
  EXPECT_NE(header.find("args[0] A: float32 [n, 4] (input)"), std::string::npos) << header;

  Loaded lib(r.library);
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  ASSERT_EQ(lib.sym<Text>("sym_load_error")(), nullptr);
  EXPECT_EQ(json::parse(lib.sym<Text>("sym_manifest")()), manifest);
  // Only the API is exported: the kernels' internal entries stay hidden.
  EXPECT_EQ(lib.sym<void*>("scale_add_kernel"), nullptr);
  auto scale_add = lib.sym<Entry>("scale_add");
  auto small_mm = lib.sym<Entry>("small_mm");
  auto last_error = lib.sym<Text>("sym_last_error");
  ASSERT_TRUE(scale_add && small_mm && last_error);
  for (int64_t n : {1, 7, 300}) {
    NDArray a = random_array({n, 4}, DataType::float32(), 1), b = random_array({4}, DataType::float32(), 2);
    NDArray c = NDArray::empty({n, 4});
    c.fill_poison();
    DLTensor* args[] = {a.dltensor(), b.dltensor(), c.dltensor()};
    ASSERT_EQ(scale_add(args, 3), 0) << last_error();
    EXPECT_EQ(std::string(last_error()), "");
    const LoweredFunc& f = mods[0].func();
    NDArray want = evaluate_reference({f.args[0].tensor, f.args[1].tensor}, {a, b}, {f.args[2].tensor})[0];
    EXPECT_EQ(compare_arrays(c, want), "") << "n = " << n;

    NDArray x = random_array({n, 16}, DataType::float32(), 3), y = random_array({16, 8}, DataType::float32(), 4);
    NDArray z = NDArray::empty({n, 8});
    z.fill_poison();
    DLTensor* mm_args[] = {x.dltensor(), y.dltensor(), z.dltensor()};
    ASSERT_EQ(small_mm(mm_args, 3), 0) << last_error();
    const LoweredFunc& g = mods[1].func();
    NDArray want_z = evaluate_reference({g.args[0].tensor, g.args[1].tensor}, {x, y}, {g.args[2].tensor})[0];
    EXPECT_EQ(compare_arrays(z, want_z), "") << "m = " << n;
  }
  fs::remove_all(dir);
}

TEST(ExportLibrary, EveryWrongCallReturnsAnErrorWithAMessage) {
  fs::path dir = temp_dir();
  std::vector<Module> mods = symbolic_kernels();
  ExportResult r = export_library({{mods[0]}}, (dir / "libabi.so").string());
  Loaded lib(r.library);
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  auto entry = lib.sym<Entry>("scale_add");
  auto last_error = lib.sym<Text>("scale_add_last_error");
  NDArray a = random_array({6, 4}, DataType::float32(), 1), b = random_array({4}, DataType::float32(), 2);
  NDArray c = NDArray::empty({6, 4});
  auto expect_refused = [&](std::vector<DLTensor*> args, int32_t n, const std::string& fragment) {
    int32_t rc = entry(args.empty() ? nullptr : args.data(), n);
    EXPECT_EQ(rc, c_abi::kErrorArgument) << fragment;
    EXPECT_NE(std::string(last_error()).find(fragment), std::string::npos)
        << "message '" << last_error() << "' lacks '" << fragment << "'";
  };
  expect_refused({a.dltensor(), b.dltensor()}, 2, "kernel scale_add: expected 3 arguments, got 2");
  expect_refused({}, 3, "null argument array");
  expect_refused({a.dltensor(), nullptr, c.dltensor()}, 3, "argument 1 (B) of kernel scale_add: got a null DLTensor pointer");

  DLTensor gpu = *a.dltensor();
  gpu.device = {kDLCUDA, 0};
  expect_refused({&gpu, b.dltensor(), c.dltensor()}, 3, "argument 0 (A) of kernel scale_add: expected a CPU array");
  NDArray b_int = NDArray::empty({4}, DataType::int32());
  expect_refused({a.dltensor(), b_int.dltensor(), c.dltensor()}, 3, "expected dtype float32, got DLDataType(code=0, bits=32");
  NDArray a3 = NDArray::empty({6, 4, 1});
  expect_refused({a3.dltensor(), b.dltensor(), c.dltensor()}, 3, "expected 2 dimensions [n, 4], got 3 dimensions [6, 4, 1]");
  NDArray a5 = NDArray::empty({6, 5});
  expect_refused({a5.dltensor(), b.dltensor(), c.dltensor()}, 3, "expected shape [n, 4], got [6, 5]");
  NDArray c7 = NDArray::empty({7, 4});
  expect_refused({a.dltensor(), b.dltensor(), c7.dltensor()}, 3, "expected shape [n, 4] with n = 6 (bound by argument 0 (A) dimension 0), got [7, 4]");
  // Strides: a transposed view is refused; explicit compact strides are accepted.
  DLTensor strided = *a.dltensor();
  int64_t shape_t[] = {6, 4}, strides_t[] = {1, 6};
  strided.shape = shape_t;
  strided.strides = strides_t;
  expect_refused({&strided, b.dltensor(), c.dltensor()}, 3, "expected a compact row-major array; dimension 1 has stride 6, expected 1");
  int64_t strides_ok[] = {4, 1};
  strided.strides = strides_ok;
  DLTensor* good[] = {&strided, b.dltensor(), c.dltensor()};
  EXPECT_EQ(entry(good, 3), 0) << last_error();
  DLTensor null_data = *a.dltensor();
  null_data.data = nullptr;
  expect_refused({&null_data, b.dltensor(), c.dltensor()}, 3, "got a null data pointer");
  DLTensor null_shape = *a.dltensor();
  null_shape.shape = nullptr;
  expect_refused({&null_shape, b.dltensor(), c.dltensor()}, 3, "null shape pointer");
  DLTensor misaligned = *b.dltensor();
  misaligned.byte_offset = 2;
  expect_refused({a.dltensor(), &misaligned, c.dltensor()}, 3, "is not aligned to the 4-byte elements of float32");
  DLTensor negative = *a.dltensor();
  int64_t shape_neg[] = {-6, 4};
  negative.shape = shape_neg;
  expect_refused({&negative, b.dltensor(), c.dltensor()}, 3, "negative size");
  fs::remove_all(dir);
}

TEST(ExportLibrary, HeaderCompilesAsCAndCxxAndLinks) {
  fs::path dir = temp_dir();
  std::vector<Module> mods = symbolic_kernels();
  ExportResult r = export_library({{mods[0]}, {mods[1]}}, (dir / "libhdr.so").string());
  std::ofstream(dir / "use.c") << "#include \"libhdr.h\"\n#include <stdio.h>\n"
                                  "int main(void) { const char* e = hdr_load_error(); printf(\"%s\\n\", e ? e : \"ok\");\n"
                                  "  return e != 0 || scale_add(0, 0) != TE_ERROR_ARGUMENT || small_mm_NUM_ARGS != 3; }\n";
  std::ofstream(dir / "use.cc") << "#include \"libhdr.h\"\nint main() { return small_mm(nullptr, 3) == TE_ERROR_ARGUMENT ? 0 : 1; }\n";
  std::string d = dir.string();
  std::string cc = "cc -std=c99 -Wall -Wextra -Werror -pedantic " + d + "/use.c -I" + d + " -L" + d +
                   " -lhdr -Wl,-rpath," + d + " -o " + d + "/use_c 2>&1 && " + d + "/use_c";
  EXPECT_EQ(std::system(cc.c_str()), 0) << cc;
  std::string cxx = "c++ -std=c++17 -Wall -Wextra -Werror " + d + "/use.cc -I" + d + " -L" + d + " -lhdr -Wl,-rpath," +
                    d + " -o " + d + "/use_cxx 2>&1 && " + d + "/use_cxx";
  EXPECT_EQ(std::system(cxx.c_str()), 0) << cxx;
  fs::remove_all(dir);
}

// A feature this machine's CPU lacks that the load-time check knows the CPUID bit of.
std::string missing_feature() {
  std::vector<std::string> host = host_cpu_features();
  for (const char* f : {"avx512vp2intersect", "amx-fp16", "avxifma", "avxvnniint8", "sha512", "sm4", "amx-complex",
                        "usermsr", "xop", "fma4", "tbm", "sse4a"})
    if (std::find(host.begin(), host.end(), f) == host.end()) return f;
  return "";
}

TEST(ExportLibrary, RefusesToRunOnACpuWithoutItsFeatures) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "the load-time CPU check is x86 only";
#endif
  std::string feature = missing_feature();
  if (feature.empty()) GTEST_SKIP() << "this CPU has every candidate feature";
  fs::path dir = temp_dir();
  std::vector<Module> mods = symbolic_kernels("llvm -mattr=+" + feature);
  ExportResult r = export_library({{mods[0]}}, (dir / "libfuture.so").string());
  json manifest = json::parse(read_text(r.manifest));
  EXPECT_NE(manifest["cpu"]["features"].dump().find("\"" + feature + "\""), std::string::npos);
  Loaded lib(r.library);  // loading runs only the baseline-ISA check, never kernel code
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  const char* why = lib.sym<Text>("future_load_error")();
  ASSERT_NE(why, nullptr);
  EXPECT_NE(std::string(why).find("needs CPU features this machine lacks: " + feature), std::string::npos) << why;
  EXPECT_NE(std::string(why).find("export it again for this CPU"), std::string::npos) << why;
  NDArray a = NDArray::empty({2, 4}), b = NDArray::empty({4}), c = NDArray::empty({2, 4});
  DLTensor* args[] = {a.dltensor(), b.dltensor(), c.dltensor()};
  EXPECT_EQ(lib.sym<Entry>("scale_add")(args, 3), c_abi::kErrorCpu);
  EXPECT_NE(std::string(lib.sym<Text>("future_last_error")()).find(feature), std::string::npos);
  fs::remove_all(dir);
}

TEST(ExportLibrary, UserMistakesAreErrors) {
  fs::path dir = temp_dir();
  std::vector<Module> mods = symbolic_kernels();
  EXPECT_TE_ERROR(export_library({}, (dir / "libx.so").string()), "no kernels given");
  EXPECT_TE_ERROR(export_library({{mods[0]}}, (dir / "libx.dylib").string()), "should end in .so");
  EXPECT_TE_ERROR(export_library({{mods[0]}, {mods[0]}}, (dir / "liby.so").string()), "scale_add would be defined twice");
  ExportOptions bad_prefix;
  bad_prefix.prefix = "9lives";
  EXPECT_TE_ERROR(export_library({{mods[0]}}, (dir / "libz.so").string(), bad_prefix), "'9lives' cannot be a C symbol");
  std::vector<Module> other_cpu = symbolic_kernels("llvm -mcpu=x86-64");
  EXPECT_TE_ERROR(export_library({{mods[0]}, {other_cpu[1]}}, (dir / "libw.so").string()), "same target");
  EXPECT_TE_ERROR(export_library({{mods[0]}}, "/nonexistent_dir/libv.so"), "libv.so");
  fs::remove_all(dir);
}

#ifdef TE_WITH_CUDA
// A CUDA kernel: its PTX is embedded and launched through libcuda.so.1 (dlopen'ed on the first
// call). Without a driver or GPU (this project's CI) a call returns TE_ERROR_DEVICE.
TEST(ExportLibrary, CudaKernelEmbedsPtxAndSaysWhenThereIsNoDevice) {
  fs::path dir = temp_dir();
  Var n = var("n");
  Tensor A = placeholder({n}, DataType::float32(), "A");
  Tensor C = compute({n}, [&](const std::vector<Var>& i) { return A(i[0]) * 2.0f; }, "C");
  Schedule s = create_schedule({C.op()});
  auto [bx, tx] = s[C].split(s[C]->leaf_iter_vars[0], 32);
  s[C].bind(bx, thread_axis("blockIdx.x"));
  s[C].bind(tx, thread_axis("threadIdx.x"));
  Module gpu = build(s, {A, C}, "cuda", "gpu_double");
  std::vector<Module> cpu = symbolic_kernels();
  ExportResult r = export_library({{gpu}, {cpu[0]}}, (dir / "libmixed.so").string());
  json manifest = json::parse(read_text(r.manifest));
  const json& k = manifest["kernels"][0];
  EXPECT_EQ(k["target"], "cuda");
  EXPECT_EQ(k["device"], "cuda");
  EXPECT_EQ(k["cuda"]["entry"], "gpu_double_kernel");
  EXPECT_EQ(k["cuda"]["block"], json::array({32, 1, 1}));
  EXPECT_NE(k["cuda"]["grid"][0].get<std::string>().find("n"), std::string::npos) << k["cuda"]["grid"];
  EXPECT_GT(k["cuda"]["ptx_bytes"].get<int64_t>(), 100);
  EXPECT_EQ(manifest["kernels"][1]["device"], "cpu");
  EXPECT_NE(read_text(r.header).find("TE_ERROR_DEVICE"), std::string::npos);

  Loaded lib(r.library);
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  auto entry = lib.sym<Entry>("gpu_double");
  auto last_error = lib.sym<Text>("gpu_double_last_error");
  NDArray a = NDArray::empty({100}), c = NDArray::empty({100});
  DLTensor* host_args[] = {a.dltensor(), c.dltensor()};
  EXPECT_EQ(entry(host_args, 2), c_abi::kErrorArgument);
  EXPECT_NE(std::string(last_error()).find("expected a CUDA array (device type 2), got device type 1"),
            std::string::npos) << last_error();
  DLTensor da = *a.dltensor(), dc = *c.dltensor();
  da.device = dc.device = {kDLCUDA, 0};
  DLTensor* device_args[] = {&da, &dc};
  dc.device.device_id = 1;
  EXPECT_EQ(entry(device_args, 2), c_abi::kErrorArgument);
  EXPECT_NE(std::string(last_error()).find("is on device 1 but argument 0 is on device 0"), std::string::npos)
      << last_error();
  dc.device.device_id = 0;
  if (cuda_device_available()) {
    GTEST_SKIP() << "a GPU is present: the no-device path is not reachable (host pointers are not device memory)";
  }
  EXPECT_EQ(entry(device_args, 2), c_abi::kErrorDevice);
  EXPECT_NE(std::string(last_error()).find("no CUDA device"), std::string::npos) << last_error();
  fs::remove_all(dir);
}

// The library embeds the module's own PTX (its -arch, not the default) and launch metadata,
// including the dynamic shared memory of a kernel above 48 KiB; a split function is refused.
TEST(ExportLibrary, CudaKernelTakesTheModulesPtxAndDynamicSharedMemory) {
  fs::path dir = temp_dir();
  const int T = 32;  // two 32x256 float tiles: 64 KiB of shared memory
  Module gpu = shared_tile_matmul(64, 64, 512, T, 256).build("cuda -arch=sm_80", "mm_big");
  ExportResult r = export_library({{gpu}}, (dir / "libbig.so").string());
  json manifest = json::parse(read_text(r.manifest));
  const json& info = manifest["kernels"][0]["cuda"];
  EXPECT_EQ(info["arch"], "sm_80");
  EXPECT_EQ(info["dynamic_shared_bytes"], 65536);
  EXPECT_EQ(info["ptx_bytes"].get<size_t>(), gpu.get_source("ptx").size());

  // The launcher opts in once per device and passes the bytes to every launch.
  c_abi::Kernel ck;
  ck.func = gpu.func();
  ck.ptx = gpu.get_source("ptx");
  ck.cuda_entry = "mm_big_kernel";
  for (int d = 0; d < 3; ++d) ck.grid[d] = Expr(d < 2 ? 2 : 1);
  ck.block[0] = ck.block[1] = T;
  ck.dynamic_shared_bytes = 65536;
  c_abi::Library lib;
  lib.prefix = "big";
  lib.kernels.push_back(ck);
  std::string wrapper = c_abi::library_source(lib);
  EXPECT_NE(wrapper.find("te_cu.func_set_attribute(function, 8, shared)"), std::string::npos);
  EXPECT_NE(wrapper.find("device_id, 65536, mm_big_functions, &fn)"), std::string::npos) << wrapper;
  EXPECT_NE(wrapper.find("32u, 32u, 1u, 65536u, 0, params, 0)"), std::string::npos) << wrapper;

  // A function split into two kernels with a device intermediate is refused, with the fix.
  Tensor X = placeholder({1024}, DataType::float32(), "X");
  Tensor Y = compute({1024}, [&](const std::vector<Var>& i) { return X(i[0]) * 2.0f; }, "Y");
  Tensor Z = compute({1024}, [&](const std::vector<Var>& i) { return Y(i[0]) + 1.0f; }, "Z");
  Schedule s2 = create_schedule({Z.op()});
  for (const Tensor& t : {Y, Z}) {
    auto [bx, tx] = s2[t].split(t.op().as<ComputeOpNode>()->axis[0], 64);
    s2[t].bind(bx, thread_axis("blockIdx.x"));
    s2[t].bind(tx, thread_axis("threadIdx.x"));
  }
  Module split = build(s2, {X, Z}, "cuda", "chain");
  EXPECT_TE_ERROR(export_library({{split}}, (dir / "libsplit.so").string()), "function chain is split into 2 CUDA kernels",
                  "1 device intermediate", "launches one kernel");
  fs::remove_all(dir);
}
#endif

TEST(ExportTuningLog, BestMatmulRecordsOfACommittedLog) {
  fs::path dir = temp_dir();
  fs::path log = source_dir() / "tuning_logs" / "bert_gemm_llvm.jsonl";
  LogExportOptions options;
  options.ops = {"matmul"};
  ExportResult r = export_tuning_log(log.string(), (dir / "libgemm.so").string(), options);
  EXPECT_EQ(r.kernels, (std::vector<std::string>{"matmul_128_768_768", "matmul_128_3072_768", "matmul_128_768_3072"}));
  json manifest = json::parse(read_text(r.manifest));
  const json& k = manifest["kernels"][0];
  EXPECT_EQ(k["workload_key"], "matmul(128,768,768)");
  EXPECT_EQ(k["op"], "matmul");
  EXPECT_EQ(k["op_args"], (json{{"m", 128}, {"n", 768}, {"k", 768}}));
  std::optional<autotune::Record> best =
      autotune::best_record(autotune::read_log(log.string()).records, "matmul(128,768,768)", "llvm");
  ASSERT_TRUE(best);
  EXPECT_EQ(k["record"]["config_index"], best->config_index);
  EXPECT_EQ(k["tuned_on"], best->hardware);

  Loaded lib(r.library);
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  auto entry = lib.sym<Entry>("matmul_128_768_768");
  NDArray a = random_array({128, 768}, DataType::float32(), 5), b = random_array({768, 768}, DataType::float32(), 6);
  NDArray c = NDArray::empty({128, 768});
  c.fill_poison();
  DLTensor* args[] = {a.dltensor(), b.dltensor(), c.dltensor()};
  ASSERT_EQ(entry(args, 3), 0) << lib.sym<Text>("gemm_last_error")();
  NDArray want = NDArray::empty({128, 768});
  for (int i = 0; i < 128; ++i)
    for (int j = 0; j < 768; ++j) {
      double acc = 0;
      for (int q = 0; q < 768; ++q) acc += double(a.data_as<float>()[i * 768 + q]) * b.data_as<float>()[q * 768 + j];
      want.data_as<float>()[i * 768 + j] = float(acc);
    }
  EXPECT_EQ(compare_arrays(c, want, 1e-4, 1e-4), "");

  options.ops = {"no_such_op"};
  EXPECT_TE_ERROR(export_tuning_log(log.string(), (dir / "libn.so").string(), options), "'no_such_op' is not a registered");
  options.ops = {"conv2d"};
  EXPECT_TE_ERROR(export_tuning_log(log.string(), (dir / "libn.so").string(), options), "no valid tuning record");
  EXPECT_TE_ERROR(export_tuning_log((dir / "missing.jsonl").string(), (dir / "libn.so").string()), "does not exist");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace te::testing
