// bench/parallel_backend.cc — te's two backends for parallel loops, side by side: its own
// thread pool (the default) and libgomp (TE_PARALLEL_BACKEND=gomp). The backend is chosen
// per process by the environment, so run_parallel_backend.sh runs this program once per
// backend, alternating, and each run prints one table row:
//   dispatch: a 4096-element parallel loop (8 chunks of 512), so the time is almost all the
//             cost of waking the workers and joining them;
//   matmul:   1024³ fp32 with the matmul template's default schedule (parallel panels);
//   conv2d:   ResNet-18 C6 with the conv2d template's default schedule (parallel tiles).
// Medians of 25 timed repeats after a warm-up.
#include <cstdio>
#include <cstdlib>

#include "te/autotune/task.h"
#include "te/ops.h"
#include "te/te.h"

namespace {

double median_seconds(te::Module& f, const std::vector<te::NDArray>& args, int number) {
  return f.time_evaluator(args, number, 25).median;
}

std::vector<te::NDArray> arrays_for(const std::vector<te::Tensor>& tensors) {
  std::vector<te::NDArray> arrays;
  for (const te::Tensor& t : tensors) {
    std::vector<int64_t> shape;
    for (const te::Expr& e : t.shape()) shape.push_back(*te::as_const_int(e));
    te::NDArray a = te::NDArray::empty(shape);
    float* p = a.data_as<float>();
    for (int64_t i = 0; i < a.numel(); ++i) p[i] = float(i % 7) * 0.25f - 0.5f;
    arrays.push_back(a);
  }
  return arrays;
}

double template_gflops(const std::string& op, const std::vector<int64_t>& args) {
  te::autotune::Task task = te::autotune::create_task(op, args, "llvm");
  te::autotune::Instance inst = task.instantiate(task.space);  // every knob at its default
  te::Module f = te::build(inst.schedule, inst.args, "llvm", op);
  return task.flop / median_seconds(f, arrays_for(inst.args), 1) / 1e9;
}

}  // namespace

int main() {
  try {
    te::ops::register_builtin_templates();
    te::Tensor a = te::placeholder({4096}, te::DataType::float32(), "A");
    te::Tensor c = te::compute({4096}, [&](const std::vector<te::Var>& i) { return a(i[0]) * 3.0f; }, "C");
    te::Schedule s = te::create_schedule({c.op()});
    auto [outer, inner] = s[c].split(s[c]->leaf_iter_vars[0], 512);
    auto [rows, lanes] = s[c].split(inner, 16);
    s[c].parallel(outer);
    s[c].vectorize(lanes);
    te::Module scale = te::build(s, {a, c}, "llvm", "scale");
    const double dispatch_us = median_seconds(scale, arrays_for({a, c}), 1000) * 1e6;
    const double matmul = template_gflops("matmul", {1024, 1024, 1024});
    const double conv = template_gflops("conv2d", {1, 128, 28, 28, 128, 3, 3, 1, 1});
    const char* backend = std::getenv("TE_PARALLEL_BACKEND");
    const char* threads = std::getenv("TE_NUM_THREADS");
    std::printf("| %s | %s | %.2f | %.1f | %.1f |\n", backend ? backend : "pool", threads ? threads : "all",
                dispatch_us, matmul, conv);
    return 0;
  } catch (const te::Error& e) {
    std::fprintf(stderr, "bench_parallel_backend: %s\n", e.what());
    return 1;
  }
}
