// The derived (template-free) space: for several computes, random configs drawn from the
// space (fixed seeds) must mostly be legal, and every legal one must build and give the
// reference interpreter's numbers (outputs poisoned before each run). conv2d+bias+relu must
// become one loop nest. For "cuda", some configs are lowered, printed as CUDA C and compiled
// by NVRTC (run and checked where a GPU exists).
#include <cstdio>
#include <random>

#include "ir/interpreter.h"
#include "test_util.h"
#include "te/autotune/task.h"

namespace te::testing {
namespace {

using autotune::Config;
using autotune::Instance;

struct Compute {
  std::string name;
  std::vector<Tensor> placeholders;
  std::vector<Tensor> outputs;
  std::vector<Tensor> args() const {
    std::vector<Tensor> all = placeholders;
    all.insert(all.end(), outputs.begin(), outputs.end());
    return all;
  }
};

Compute matmul(int n, int m, int k_extent) {
  Tensor A = placeholder({n, k_extent}, DataType::float32(), "A");
  Tensor B = placeholder({k_extent, m}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, k_extent), "k");
  Tensor C = compute({n, m}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
  return {"matmul", {A, B}, {C}};
}

// conv2d NCHW (stride 1, padding 1) with the padding as its own stage, then bias and relu.
Compute conv2d_bias_relu() {
  const int N = 1, C = 3, H = 7, W = 6, K = 4, R = 3, S = 3, pad = 1;
  const int OH = H + 2 * pad - R + 1, OW = W + 2 * pad - S + 1;
  Tensor data = placeholder({N, C, H, W}, DataType::float32(), "data");
  Tensor weight = placeholder({K, C, R, S}, DataType::float32(), "weight");
  Tensor bias = placeholder({K}, DataType::float32(), "bias");
  Tensor padded = compute({N, C, H + 2 * pad, W + 2 * pad}, [&](const std::vector<Var>& i) {
    Expr inside = i[2] >= pad && i[2] < H + pad && i[3] >= pad && i[3] < W + pad;
    return if_then_else(inside, data(i[0], i[1], i[2] - pad, i[3] - pad), constant(0.0));
  }, "pad");
  IterVar rc = reduce_axis(Range(0, C), "rc"), ry = reduce_axis(Range(0, R), "ry"), rx = reduce_axis(Range(0, S), "rx");
  Tensor conv = compute({N, K, OH, OW}, [&](const std::vector<Var>& i) {
    return sum(padded(i[0], rc, i[2] + ry, i[3] + rx) * weight(i[1], rc, ry, rx), {rc, ry, rx});
  }, "conv");
  Tensor biased = compute({N, K, OH, OW}, [&](const std::vector<Var>& i) {
    return conv(i[0], i[1], i[2], i[3]) + bias(i[1]);
  }, "bias_add");
  Tensor relu = compute({N, K, OH, OW}, [&](const std::vector<Var>& i) {
    return te::max(biased(i[0], i[1], i[2], i[3]), constant(0.0));
  }, "relu");
  return {"conv2d_bias_relu", {data, weight, bias}, {relu}};
}

// Two reductions: the row max, then the sum of exponentials; the exponentials are an
// element-wise stage read by both the sum and the output.
Compute softmax() {
  const int N = 6, M = 13;
  Tensor A = placeholder({N, M}, DataType::float32(), "A");
  IterVar k1 = reduce_axis(Range(0, M), "k1"), k2 = reduce_axis(Range(0, M), "k2");
  Tensor mx = compute({N}, [&](const std::vector<Var>& i) {
    return te::max(A(i[0], k1), std::vector<IterVar>{k1});
  }, "row_max");
  Tensor e = compute({N, M}, [&](const std::vector<Var>& i) { return exp(A(i[0], i[1]) - mx(i[0])); }, "exp");
  Tensor s = compute({N}, [&](const std::vector<Var>& i) { return sum(e(i[0], k2), {k2}); }, "row_sum");
  Tensor out = compute({N, M}, [&](const std::vector<Var>& i) { return e(i[0], i[1]) / s(i[0]); }, "softmax");
  return {"softmax", {A}, {out}};
}

// out = relu(A + b) * 2 with b broadcast along the rows.
Compute broadcast_add() {
  const int N = 9, M = 70;
  Tensor A = placeholder({N, M}, DataType::float32(), "A");
  Tensor b = placeholder({M}, DataType::float32(), "b");
  Tensor added = compute({N, M}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) + b(i[1]); }, "add");
  Tensor out = compute({N, M}, [&](const std::vector<Var>& i) {
    return te::max(added(i[0], i[1]), constant(0.0)) * constant(2.0);
  }, "out");
  return {"broadcast_add", {A, b}, {out}};
}

// A config of space with a uniformly random choice per knob.
Config random_config(const Config& space, std::mt19937_64& rng) {
  std::vector<int64_t> choices;
  for (const autotune::Knob& knob : space.knobs())
    choices.push_back(std::uniform_int_distribution<int64_t>(0, int64_t(knob.choices.size()) - 1)(rng));
  return space.with_choices(choices);
}

Config make_space(const Compute& c, const std::string& target) {
  Config space;
  autotune::derived_schedule(space, c.args(), Target::parse(target));
  std::printf("[derived] %s on %s: %zu knobs, space size %lld\n", c.name.c_str(), target.c_str(),
              space.knobs().size(), static_cast<long long>(space.space_size()));
  return space;
}

// Draws `count` configs; each legal one must build for llvm and match the reference.
void check_llvm_space(const Compute& c, uint64_t seed, int count) {
  Config space = make_space(c, "llvm");
  ASSERT_GT(space.space_size(), 1) << c.name;
  std::vector<NDArray> inputs;
  for (size_t p = 0; p < c.placeholders.size(); ++p)
    inputs.push_back(random_array(const_shape(c.placeholders[p]), c.placeholders[p].dtype(), 100 + p));
  std::vector<NDArray> expected = evaluate_reference(c.placeholders, inputs, c.outputs);
  std::mt19937_64 rng(seed);
  int legal = 0, failures = 0;
  std::vector<std::string> illegal_reasons;
  for (int n = 0; n < count; ++n) {
    Config cfg = random_config(space, rng);
    Module module;
    Instance inst;
    try {
      inst = autotune::derived_schedule(cfg, c.args(), Target::parse("llvm"));
      module = build(inst.schedule, inst.args, "llvm", "derived");
    } catch (const Error& e) {
      if (illegal_reasons.size() < 3) illegal_reasons.push_back(cfg.to_string() + ": " + e.what());
      continue;
    }
    ++legal;
    std::vector<NDArray> call = inputs, outs;
    for (const NDArray& e : expected) {
      outs.push_back(NDArray::empty(e.shape(), e.dtype()));
      outs.back().fill_poison();
      call.push_back(outs.back());
    }
    module(call);
    for (size_t o = 0; o < outs.size(); ++o) {
      std::string diff = compare_arrays(outs[o], expected[o], 1e-4, 1e-4);
      if (!diff.empty() && failures++ < 3)
        ADD_FAILURE() << "[" << c.name << "] config " << cfg.to_string() << ": " << diff << "\n"
                      << inst.schedule.steps_python() << "\n"
                      << to_string(lower(inst.schedule, inst.args, "derived"));
    }
  }
  std::printf("[derived] %s: %d of %d configs legal\n", c.name.c_str(), legal, count);
  for (const std::string& r : illegal_reasons) std::printf("  illegal: %s\n", r.c_str());
  EXPECT_GE(legal * 5, count * 4) << c.name << ": fewer than 80% of the configs are legal";
  EXPECT_EQ(failures, 0);
}

TEST(AutotuneDerived, MatmulPrimeSizes) { check_llvm_space(matmul(37, 29, 19), 1, 40); }
TEST(AutotuneDerived, MatmulFactorSizes) { check_llvm_space(matmul(24, 32, 16), 2, 40); }
TEST(AutotuneDerived, Conv2dBiasRelu) { check_llvm_space(conv2d_bias_relu(), 3, 40); }
TEST(AutotuneDerived, SoftmaxTwoReductions) { check_llvm_space(softmax(), 4, 40); }
TEST(AutotuneDerived, BroadcastAdd) { check_llvm_space(broadcast_add(), 5, 40); }

// Number of loop nests at the top of a lowered body (allocations/attributes looked through).
int top_level_nests(const Stmt& s) {
  if (!s.defined()) return 0;
  if (const auto* a = s.as<AllocateNode>()) return top_level_nests(a->body);
  if (const auto* a = s.as<AttrStmtNode>()) return top_level_nests(a->body);
  if (const auto* l = s.as<LetStmtNode>()) return top_level_nests(l->body);
  if (const auto* seq = s.as<SeqNode>()) {
    int n = 0;
    for (const Stmt& x : seq->seq) n += top_level_nests(x);
    return n;
  }
  return 1;
}

const Stage& stage_named(const Schedule& s, const std::string& name) {
  for (const Stage& st : s.stages())
    if (st->op->name == name) return st;
  throw InternalError("no stage " + name);
}

TEST(AutotuneDerived, Conv2dBiasReluIsOneLoopNest) {
  Compute c = conv2d_bias_relu();
  Config space = make_space(c, "llvm");
  std::mt19937_64 rng(7);
  int checked = 0;
  for (int n = 0; n < 10; ++n) {
    Config cfg = random_config(space, rng);
    Instance inst;
    try {
      inst = autotune::derived_schedule(cfg, c.args(), Target::parse("llvm"));
    } catch (const Error&) {
      continue;
    }
    ++checked;
    EXPECT_EQ(stage_named(inst.schedule, "pad")->attach_type, AttachType::kInline);
    EXPECT_EQ(stage_named(inst.schedule, "bias_add")->attach_type, AttachType::kInline);
    const Stage& conv = stage_named(inst.schedule, "conv");
    EXPECT_EQ(conv->attach_type, AttachType::kScope);
    EXPECT_EQ(conv->attach_stage, stage_named(inst.schedule, "relu").get());
    LowerOptions schedule_loops;  // the schedule's loops, not partitioned into main and tail
    schedule_loops.simple_mode = true;
    LoweredFunc f = lower(inst.schedule, inst.args, "fused", schedule_loops);
    EXPECT_EQ(top_level_nests(f.body), 1) << cfg.to_string() << "\n" << to_string(f);
  }
  EXPECT_GT(checked, 5);
}

// Knobs depend on the compute only; a config's schedule replays from its steps (as a tuning
// record does) to the same lowered code.
TEST(AutotuneDerived, DeterministicKnobsAndReplayableSteps) {
  Compute c = matmul(37, 29, 19);
  Config a = make_space(c, "llvm"), b = make_space(c, "llvm");
  ASSERT_EQ(a.knobs().size(), b.knobs().size());
  for (size_t i = 0; i < a.knobs().size(); ++i) {
    EXPECT_EQ(a.knobs()[i].name, b.knobs()[i].name);
    EXPECT_EQ(a.knobs()[i].choices, b.knobs()[i].choices);
  }
  std::mt19937_64 rng(11);
  int replayed = 0;
  for (int n = 0; n < 5; ++n) {
    Config cfg = random_config(a, rng);
    Instance inst = autotune::derived_schedule(cfg, c.args(), Target::parse("llvm"));
    Schedule again = Schedule::replay({c.outputs[0].op()}, inst.schedule.steps());
    EXPECT_EQ(to_string(lower(inst.schedule, inst.args, "f")), to_string(lower(again, inst.args, "f")));
    ++replayed;
  }
  EXPECT_EQ(replayed, 5);
}

TEST(AutotuneDerived, Errors) {
  Var n = var("n");
  Tensor A = placeholder({n, 4}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 4), "k");
  Tensor S = compute({n}, [&](const std::vector<Var>& i) { return sum(A(i[0], k), {k}); }, "S");
  Config space;
  EXPECT_TE_ERROR(autotune::derived_schedule(space, {A, S}, Target::parse("llvm")), "derived space", "symbolic");
  Config only_inputs;
  EXPECT_TE_ERROR(autotune::derived_schedule(only_inputs, {A}, Target::parse("llvm")), "no computed tensor");
  Compute sm = softmax();
  Config gpu;
  EXPECT_TE_ERROR(autotune::derived_schedule(gpu, sm.args(), Target::parse("cuda")), "cuda", "several kernels");
}

// ---------------------------------------------------------------- cuda: NVRTC compiles
bool cuda_unavailable(const Error& e) {
  std::string m = e.what();
  return m.find("built without CUDA") != std::string::npos || m.find("NVRTC not found") != std::string::npos;
}

void check_cuda_space(const Compute& c, uint64_t seed, int count) {
  Config space = make_space(c, "cuda");
  std::vector<NDArray> inputs;
  for (size_t p = 0; p < c.placeholders.size(); ++p)
    inputs.push_back(random_array(const_shape(c.placeholders[p]), c.placeholders[p].dtype(), 100 + p));
  std::vector<NDArray> expected = evaluate_reference(c.placeholders, inputs, c.outputs);
  std::mt19937_64 rng(seed);
  int legal = 0;
  for (int n = 0; n < count; ++n) {
    Config cfg = random_config(space, rng);
    if (n == 0) cfg = space.with_choices(std::vector<int64_t>(space.knobs().size(), 0));
    Module module;
    std::string ptx;
    try {
      Instance inst = autotune::derived_schedule(cfg, c.args(), Target::parse("cuda"));
      module = build(inst.schedule, inst.args, "cuda", "derived");
      ptx = module.get_source("ptx");
    } catch (const Error& e) {
      if (cuda_unavailable(e)) GTEST_SKIP() << e.what();
      std::printf("  illegal: %s: %s\n", cfg.to_string().c_str(), e.what());
      continue;
    }
    ++legal;
    EXPECT_NE(ptx.find(".entry derived_kernel("), std::string::npos) << cfg.to_string();
    std::vector<NDArray> call = inputs;
    NDArray out = NDArray::empty(expected[0].shape(), expected[0].dtype());
    out.fill_poison();
    call.push_back(out);
    // The CUDA emulator first (every machine: GPU semantics, races and bounds checked), then
    // the GPU where there is one.
    try {
      cuda_emulate(module, call);
      EXPECT_EQ(compare_arrays(out, expected[0], 1e-4, 1e-4), "") << "emulated " << c.name << " " << cfg.to_string();
    } catch (const Error& e) {
      ADD_FAILURE() << "emulated " << c.name << " " << cfg.to_string() << ": " << e.what();
    }
    out.fill_poison();
    try {
      module(call);
    } catch (const Error& e) {
      if (std::string(e.what()).find("no CUDA device available") != std::string::npos) continue;
      ADD_FAILURE() << c.name << " " << cfg.to_string() << ": " << e.what();
      continue;
    }
    EXPECT_EQ(compare_arrays(out, expected[0], 1e-4, 1e-4), "") << c.name << " " << cfg.to_string() << "\n"
                                                                 << module.get_source("cuda");
  }
  std::printf("[derived] %s on cuda: %d of %d configs compiled\n", c.name.c_str(), legal, count);
  EXPECT_GE(legal * 5, count * 4) << c.name;
}

TEST(AutotuneDerivedCuda, Matmul) { check_cuda_space(matmul(37, 29, 19), 21, 6); }

// The vthread knob (strided per-thread tiles): configs with vthread 2, with and without
// staged inputs, lowered for cuda and run through the IR interpreter (thread loops serially)
// against the reference, and compiled by NVRTC; they differ from vthread 1 where an axis's
// inner2 is even.
TEST(AutotuneDerivedCuda, VthreadKnobMatchesTheReference) {
  Compute c = matmul(37, 29, 19);
  Config space = make_space(c, "cuda");
  size_t vthread_knob = space.knobs().size(), stage_knob = vthread_knob, double_buffer_knob = vthread_knob;
  for (size_t k = 0; k < space.knobs().size(); ++k) {
    if (space.knobs()[k].name.find(".vthread") != std::string::npos) vthread_knob = k;
    if (space.knobs()[k].name.find(".stage_inputs") != std::string::npos) stage_knob = k;
    if (space.knobs()[k].name.find(".double_buffer") != std::string::npos) double_buffer_knob = k;
  }
  ASSERT_LT(double_buffer_knob, space.knobs().size());
  ASSERT_LT(vthread_knob, space.knobs().size());
  ASSERT_LT(stage_knob, space.knobs().size());
  std::vector<NDArray> inputs = {random_array({37, 19}, DataType::float32(), 1), random_array({19, 29}, DataType::float32(), 2)};
  std::vector<NDArray> expected = evaluate_reference(c.placeholders, inputs, c.outputs);
  std::mt19937_64 rng(31);
  int differed = 0, checked = 0;
  for (int n = 0; n < 8; ++n) {
    std::vector<int64_t> choices = random_config(space, rng).choices();
    choices[stage_knob] = n % 2;
    choices[double_buffer_knob] = 0;  // the sequential interpreter cannot model per-thread staging
    auto lowered = [&](int64_t v) {
      choices[vthread_knob] = v;
      Config cfg = space.with_choices(choices);
      Instance inst = autotune::derived_schedule(cfg, c.args(), Target::parse("cuda"));
      LowerOptions opt;
      opt.target = Target::parse("cuda");
      return std::make_pair(lower(inst.schedule, inst.args, "derived", opt), inst);
    };
    LoweredFunc plain, strided;
    Instance inst;
    try {
      plain = lowered(0).first;
      std::tie(strided, inst) = lowered(1);
    } catch (const Error& e) {
      std::printf("  illegal: %s\n", e.what());
      continue;
    }
    ++checked;
    differed += to_string(plain.body) != to_string(strided.body);
    NDArray out = NDArray::empty({37, 29}, DataType::float32());
    out.fill_poison();
    std::vector<NDArray> arrays = {inputs[0], inputs[1], out};
    Interpreter interp;
    for (size_t i = 0; i < strided.args.size(); ++i)
      interp.bind_buffer(strided.args[i].data, InterpBuffer{arrays[i].data(), DataType::float32(), arrays[i].numel()});
    interp.run(strided.body);
    EXPECT_EQ(compare_arrays(out, expected[0], 1e-4, 1e-4), "") << to_string(strided.body);
    try {
      std::string ptx = build(inst.schedule, inst.args, "cuda", "derived").get_source("ptx");
      EXPECT_NE(ptx.find(".entry derived_kernel("), std::string::npos);
    } catch (const Error& e) {
      if (!cuda_unavailable(e)) ADD_FAILURE() << e.what();
    }
  }
  EXPECT_GE(checked, 6);
  EXPECT_GE(differed, 1);
}
// The double_buffer knob: configs with staged inputs double-buffered copy the next r0 step by
// cp.async (sm_80 and newer; "te_cp_async" in the CUDA C) or stage it in registers (sm_75;
// "<input>.shared.reg") and match the reference in the CUDA emulator; double_buffer without
// staged inputs is an invalid config.
TEST(AutotuneDerivedCuda, DoubleBufferKnobMatchesInTheEmulator) {
  Compute c = matmul(37, 29, 19);
  Config space = make_space(c, "cuda");
  size_t stage_knob = space.knobs().size(), double_buffer_knob = stage_knob;
  for (size_t k = 0; k < space.knobs().size(); ++k) {
    if (space.knobs()[k].name.find(".stage_inputs") != std::string::npos) stage_knob = k;
    if (space.knobs()[k].name.find(".double_buffer") != std::string::npos) double_buffer_knob = k;
  }
  ASSERT_LT(stage_knob, space.knobs().size());
  ASSERT_LT(double_buffer_knob, space.knobs().size());
  std::vector<NDArray> inputs = {random_array({37, 19}, DataType::float32(), 1),
                                 random_array({19, 29}, DataType::float32(), 2)};
  std::vector<NDArray> expected = evaluate_reference(c.placeholders, inputs, c.outputs);
  std::mt19937_64 rng(41);
  int checked = 0;
  for (int n = 0; n < 40 && checked < 3; ++n) {
    std::vector<int64_t> choices = random_config(space, rng).choices();
    choices[double_buffer_knob] = 1;
    choices[stage_knob] = 1;  // the choice index of stage_inputs = 0
    Config unstaged = space.with_choices(choices);
    EXPECT_TE_ERROR(autotune::derived_schedule(unstaged, c.args(), Target::parse("cuda")),
                    "double_buffer applies to staged inputs");
    choices[stage_knob] = 0;  // stage_inputs = 1
    Config cfg = space.with_choices(choices);
    Instance inst;
    try {
      inst = autotune::derived_schedule(cfg, c.args(), Target::parse("cuda"));
    } catch (const Error& e) {
      std::printf("  illegal: %s\n", e.what());
      continue;
    }
    for (const char* target : {"cuda", "cuda -arch=sm_75"}) {
      Module module;
      try {
        module = build(inst.schedule, inst.args, target, "derived");
      } catch (const Error& e) {
        if (cuda_unavailable(e)) GTEST_SKIP() << e.what();
        throw;
      }
      const std::string cu = module.get_source("cuda");
      EXPECT_NE(cu.find(std::string(target) == "cuda" ? "te_cp_async<" : "_shared_reg["), std::string::npos) << cu;
      NDArray out = NDArray::empty({37, 29}, DataType::float32());
      out.fill_poison();
      cuda_emulate(module, {inputs[0], inputs[1], out});
      EXPECT_EQ(compare_arrays(out, expected[0], 1e-4, 1e-4), "") << cfg.to_string() << " " << target;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(AutotuneDerivedCuda, Conv2dBiasRelu) { check_cuda_space(conv2d_bias_relu(), 22, 6); }
TEST(AutotuneDerivedCuda, BroadcastAdd) { check_cuda_space(broadcast_add(), 23, 4); }

// A reduction to a scalar: one block whose threads reduce together (a cross-thread reduction).
Compute sum_of_squares() {
  Compute c;
  c.name = "sum_of_squares";
  Tensor A = placeholder({37, 45}, DataType::float32(), "A");
  IterVar i = reduce_axis(Range(0, 37), "i"), j = reduce_axis(Range(0, 45), "j");
  c.placeholders = {A};
  c.outputs = {compute({}, [&](const std::vector<Var>&) { return sum(A(i, j) * A(i, j), {i, j}); }, "ss")};
  return c;
}
TEST(AutotuneDerivedCuda, ScalarReduction) {
  Config space = make_space(sum_of_squares(), "cuda");
  ASSERT_EQ(space.knobs().size(), 1u);  // ss.threads: 32 .. 1024 (37 * 45 = 1665 elements)
  EXPECT_EQ(space.space_size(), 6);
  check_cuda_space(sum_of_squares(), 24, 6);
}

}  // namespace
}  // namespace te::testing
