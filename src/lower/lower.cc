// lower(): THE ordered pass list, from a schedule to a flat loop program. Read this file
// top to bottom to see every step a kernel goes through before code generation.
//
// With TE_DEBUG_LOWER=1 in the environment, the IR is printed to stderr after each pass that
// changed it, headed by the pass name.
#include <cctype>
#include <cstdlib>
#include <iostream>

#include "ir/simplify.h"
#include "lower/arguments.h"
#include "lower/check_gpu_memory.h"
#include "lower/check_target.h"
#include "lower/cuda_threads.h"
#include "lower/inject_double_buffer.h"
#include "lower/inject_virtual_thread.h"
#include "lower/narrow_indices.h"
#include "lower/partition_loops.h"
#include "lower/remove_no_op.h"
#include "lower/storage_flatten.h"
#include "lower/tensorize_wmma.h"
#include "lower/unroll_loops.h"
#include "lower/vectorize_loops.h"
#include "te/lower.h"

namespace te {
namespace {

bool debug_lower_enabled() {
  const char* flag = std::getenv("TE_DEBUG_LOWER");
  return flag && *flag && std::string(flag) != "0";
}

// Prints the IR after a pass when it changed (Halide's Lower.cpp logger).
class PassLog {
 public:
  explicit PassLog(const std::string& func_name) : func_name_(func_name), enabled_(debug_lower_enabled()) {}

  Stmt after(const char* pass, const Stmt& before, const Stmt& after) const {
    if (enabled_ && !after.same_as(before) && !(before.defined() && structural_equal(before, after)))
      std::cerr << "--- " << func_name_ << ": after " << pass << " ---\n" << to_string(after) << "\n";
    return after;
  }

 private:
  std::string func_name_;
  bool enabled_;
};

}  // namespace

LoweredFunc lower(const Schedule& sch, const std::vector<Tensor>& args, const std::string& name,
                  const LowerOptions& options) {
  if (!sch.defined()) fail("lower: the schedule is undefined; create it with create_schedule");
  // The name becomes a symbol in JIT code, object files and exported C headers.
  bool identifier = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
  for (char c : name) identifier = identifier && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!identifier)
    fail("lower: function name '", name, "' is not a C identifier; use letters, digits and _ only, not starting with a digit");
  LoweredFunc func;
  func.name = name;
  func.args = make_buffer_args(args);
  func.size_vars = collect_size_vars(func.args);

  PassLog log(name);
  BoundMap bounds = infer_bound(sch);
  Stmt s = log.after("schedule_ops", Stmt(), schedule_ops(sch, bounds));
  if (!options.simple_mode) s = log.after("check_target", s, check_target(s, options.target));
  // Stage::prefetch hints become llvm.prefetch; other code generators have none.
  if (options.target.kind != "llvm") s = log.after("strip_prefetch", s, strip_prefetch(s));
  StorageAlignMap aligns;  // by the op a stage's storage is named after (its origin op)
  for (const Stage& stage : sch.stages())
    if (!stage->storage_aligns.empty())
      aligns[(stage->origin_op.defined() ? stage->origin_op : stage->op).get()] = stage->storage_aligns;
  s = log.after("storage_flatten", s, storage_flatten(s, func.args, aligns));
  if (options.target.kind == "cuda") s = log.after("inject_virtual_thread", s, inject_virtual_thread(s));
  // Stage::double_buffer: cuda loads the next block during the current one (cp.async on sm_80
  // and newer, else staged in registers); other targets drop it.
  if (options.target.kind == "cuda")
    s = log.after("inject_double_buffer", s, inject_double_buffer(s, cuda_async_copies(options.target)));
  else s = log.after("strip_double_buffer", s, strip_double_buffer(s));
  // Stage::tensorize(iv, "wmma"): 16 x 16 (x 16) tiles become tensor-core operations (cuda).
  s = log.after("tensorize_wmma", s, tensorize_wmma(s, options.target));
  s = log.after("simplify", s, simplify(s));
  // CPU: the tails of non-dividing splits peeled off their loops, so the main iterations run
  // without guards (GPU threads keep their guards: a thread's loop is short).
  if (!options.simple_mode && options.target.kind == "llvm") s = log.after("partition_loops", s, partition_loops(s));
  // Unroll before vectorize: an unrolled loop inside a vectorized one becomes straight-line
  // code the vectorizer can widen, and a vectorized loop inside an unrolled one is copied
  // first and then widened copy by copy.
  s = log.after("unroll_loops", s, unroll_loops(s));
  // The LLVM backend masks the loads of each side of a vector if_then_else (padding reads).
  s = log.after("vectorize_loops", s, vectorize_loops(s, options.target.kind == "llvm", options.target.kind == "llvm"));
  s = log.after("simplify", s, simplify(s));
  s = log.after("remove_no_op", s, remove_no_op(s));
  // The vectorized copies double_buffer marked as asynchronous become cp.async calls.
  if (options.target.kind == "cuda") s = log.after("lower_async_copies", s, lower_async_copies(s));
  if (!options.simple_mode && options.target.kind == "cuda") {
    // Thread checks of each kernel (a root-level stage nest is its own kernel); the CUDA
    // backend splits the body the same way again when it prints and launches it.
    split_gpu_kernels(s, name);
    check_gpu_memory(s, name);  // static shared memory per block, local memory per thread
    s = log.after("insert_shared_barriers", s, insert_shared_barriers(s));
  }
  // CUDA: int64 index arithmetic (the operator library's shapes are int64) as int32 where it
  // provably fits — 64-bit integer multiplies and divisions are slow on GPUs.
  if (options.target.kind == "cuda")
    s = log.after("narrow_indices", s, narrow_indices(s, !func.size_vars.empty()));
  check_free_vars(s, func.args, func.size_vars);
  func.body = s;
  return func;
}

std::string to_string(const LoweredFunc& f) {
  std::string out = "func " + f.name + "(";
  for (size_t i = 0; i < f.args.size(); ++i) {
    const BufferArg& arg = f.args[i];
    if (i) out += ", ";
    out += arg.name + ": " + arg.dtype.str() + "[";
    for (size_t d = 0; d < arg.shape.size(); ++d) out += (d ? ", " : "") + to_string(arg.shape[d]);
    out += "]";
  }
  out += ")\n";
  if (f.body.defined()) out += to_string(f.body);
  return out;
}

}  // namespace te
