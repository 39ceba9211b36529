// src/autotune/derived_space.cc — the derived (template-free) space: Ansor's sketch rules
// expressed as knobs of a Config, so every search algorithm works on them.
//
// Rules, applied to any compute (outputs are the compute tensors among args):
//   1. Element-wise (no reduction), single-output stages that are not outputs are inlined
//      (padding of conv2d, bias add before relu...).
//   2. The anchor is the LAST reduction stage in topological order (the one nearest to the
//      outputs). It gets multi-level tiling: CPU in derived_cpu.cc, GPU in derived_gpu.cc.
//      When it reaches an output through single-consumer element-wise stages and that output
//      has its shape, it is fused: computed at the output's tile loop (one loop nest, one
//      kernel: conv2d+bias+relu, matmul+bias+gelu).
//   3. Other reductions (e.g. the max of a softmax when the sum is the anchor) keep their own
//      root loop nest with a simple schedule: CPU fuses their spatial axes and has a
//      parallel knob; the GPU rejects such computes (they need two kernels, which the CUDA
//      backend does not generate yet).
//   4. Element-wise outputs (and element-wise multi-output stages, which cannot be inlined):
//      CPU tiles every axis in two levels, fuses the outer ones (knob) and runs them in
//      parallel, and vectorizes the innermost (knob); GPU fuses, splits by a thread-count
//      knob and binds blockIdx.x/threadIdx.x.
// Knob names are "<stage>.<knob>" ("C.tile_i", "C.parallel"); stage names are made unique.
// A config that turns out illegal throws te::Error from a schedule primitive or from the
// checks in derived_gpu.cc; the search skips it.
#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "autotune/derived_space.h"

namespace te::autotune {
namespace derived {
namespace {

const ComputeOpNode* compute_of(const Operation& op) { return op.as<ComputeOpNode>(); }

bool is_reduction(const Operation& op) {
  const ComputeOpNode* c = compute_of(op);
  return c && !c->reduce_axis.empty();
}

bool is_elementwise(const Operation& op) {
  const ComputeOpNode* c = compute_of(op);
  return c && c->reduce_axis.empty();
}

std::vector<int64_t> const_shape(const Operation& op) {
  std::vector<int64_t> shape;
  for (const Expr& e : op->output_shape(0)) {
    const int64_t* v = as_const_int(e);
    if (!v)
      fail("derived space: stage ", op->name, " has a symbolic shape (", to_string(e),
           "); the derived space needs constant shapes, so build the compute with constant sizes");
    shape.push_back(*v);
  }
  return shape;
}

// The knob prefix of each compute stage: its name, with "#k" added when another stage
// already uses it (knob names must be unique and stable from run to run).
void name_stages(Plan& plan, const std::vector<Operation>& ops) {
  std::set<std::string> used;
  for (const Operation& op : ops) {
    if (!compute_of(op)) continue;
    std::string name = op->name;
    for (int k = 2; used.count(name); ++k) name = op->name + "#" + std::to_string(k);
    used.insert(name);
    plan.knob_prefix[plan.schedule[op].get()] = name;
  }
}

// Two-level tiling, fusion of the outer loops, parallel and vectorize, on the CPU.
void schedule_elementwise_cpu(Config& cfg, Plan& plan, Stage stage) {
  const ComputeOpNode* op = compute_of(stage->op);
  std::vector<IterVar> axes = op->axis;
  const std::string& p = prefix(plan, stage);
  std::vector<std::vector<int64_t>> sizes;
  std::vector<int64_t> parallel_choices;
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t extent = const_extent(axes[i], stage->op->name);
    SplitOptions options;
    options.policy = SplitPolicy::kPowerOfTwo;
    options.max_factor = 64;  // the innermost inner part may be vectorized (at most 64 lanes)
    sizes.push_back(cfg.define_split(axis_knob(plan, stage, "tile", axes[i], i), extent, 2, options));
  }
  for (int64_t k = 0; k <= int64_t(std::min<size_t>(axes.size(), 3)); ++k) parallel_choices.push_back(k);
  int64_t parallel = cfg.define_knob(p + ".parallel", parallel_choices);
  int64_t vectorize = axes.empty() ? 0 : cfg.define_knob(p + ".vectorize", {0, 1});
  if (axes.empty()) return;

  std::vector<IterVar> outer, inner;
  for (size_t i = 0; i < axes.size(); ++i) {
    std::vector<IterVar> parts = split_by_sizes(stage, axes[i], sizes[i]);
    outer.push_back(parts[0]);
    inner.push_back(parts[1]);
  }
  std::vector<IterVar> order = outer;
  order.insert(order.end(), inner.begin(), inner.end());
  stage.reorder(order);
  if (parallel > 0) {
    std::vector<IterVar> fused(outer.begin(), outer.begin() + parallel);
    stage.parallel(fuse_all(stage, fused));
  }
  if (vectorize && sizes.back()[1] > 1) stage.vectorize(inner.back());
}

// A reduction that is not the anchor: its spatial axes fused, optionally parallel.
void schedule_secondary_reduction_cpu(Config& cfg, Plan& plan, Stage stage) {
  const ComputeOpNode* op = compute_of(stage->op);
  if (op->axis.empty()) return;
  for (size_t i = 0; i < op->axis.size(); ++i) const_extent(op->axis[i], stage->op->name);
  int64_t parallel = cfg.define_knob(prefix(plan, stage) + ".parallel", {0, 1});
  IterVar fused = fuse_all(stage, op->axis);
  if (parallel) stage.parallel(fused);
}

}  // namespace

int64_t const_extent(const IterVar& axis, const std::string& stage) {
  const int64_t* extent = axis.dom().extent.defined() ? as_const_int(axis.dom().extent) : nullptr;
  if (!extent)
    fail("derived space: axis ", axis.var().name(), " of stage ", stage,
         " has a symbolic extent; the derived space needs constant shapes, so build the compute with constant sizes");
  return *extent;
}

const std::string& prefix(const Plan& plan, const Stage& stage) {
  auto it = plan.knob_prefix.find(stage.get());
  TE_ICHECK(it != plan.knob_prefix.end(), "derived space: no knob prefix for stage ", stage->op->name);
  return it->second;
}

std::string axis_knob(const Plan& plan, const Stage& stage, const std::string& what, const IterVar& axis,
                      size_t index) {
  // Axis names may repeat inside a stage (e.g. two reduce axes both called "k"): the index
  // then tells them apart.
  const ComputeOpNode* op = compute_of(stage->op);
  int same_name = 0;
  for (const auto* list : {&op->axis, &op->reduce_axis})
    for (const IterVar& other : *list) same_name += other.var().name() == axis.var().name();
  std::string name = prefix(plan, stage) + "." + what + "_" + axis.var().name();
  if (same_name > 1) name += "#" + std::to_string(index);
  return name;
}

std::vector<IterVar> split_by_sizes(Stage stage, const IterVar& axis, const std::vector<int64_t>& sizes) {
  TE_ICHECK(!sizes.empty(), "split_by_sizes: empty sizes");
  std::vector<IterVar> parts(sizes.size());
  IterVar rest = axis;
  for (size_t k = sizes.size() - 1; k >= 1; --k) {
    auto [outer, inner] = stage.split(rest, sizes[k]);
    parts[k] = inner;
    rest = outer;
  }
  parts[0] = rest;
  return parts;
}

IterVar fuse_all(Stage stage, const std::vector<IterVar>& leaves) {
  TE_ICHECK(!leaves.empty(), "fuse_all: no leaves");
  IterVar fused = leaves[0];
  for (size_t i = 1; i < leaves.size(); ++i) fused = stage.fuse(fused, leaves[i]);
  return fused;
}

void unroll_innermost(Stage stage, const std::vector<IterVar>& leaves, const std::vector<int64_t>& extents,
                      int64_t max_product) {
  int64_t product = 1;
  for (size_t k = leaves.size(); k-- > 0;) {
    product *= std::max<int64_t>(extents[k], 1);
    if (product > max_product) return;
    stage.unroll(leaves[k]);
  }
}

int64_t next_pow2(int64_t n) {
  int64_t p = 1;
  while (p < n) p *= 2;
  return p;
}

Plan analyze(const std::vector<Tensor>& args, const Target& target) {
  Plan plan;
  plan.target = target;
  std::vector<Operation> outputs;
  for (const Tensor& t : args) {
    if (!t.defined()) fail("derived space: an argument tensor is undefined");
    if (!compute_of(t.op())) continue;
    bool seen = false;
    for (const Operation& op : outputs) seen = seen || op.same_as(t.op());
    if (!seen) outputs.push_back(t.op());
  }
  if (outputs.empty())
    fail("derived space: no computed tensor among the arguments; pass the placeholders and then the outputs");
  plan.schedule = create_schedule(outputs);
  std::vector<Operation> ops = post_dfs_order(outputs);
  name_stages(plan, ops);

  std::unordered_set<const OperationNode*> output_set;
  for (const Operation& op : outputs) output_set.insert(op.get());
  std::unordered_map<const OperationNode*, std::vector<Operation>> readers;
  for (const Operation& op : ops)
    for (const Tensor& input : op->input_tensors()) {
      auto& list = readers[input.op().get()];
      if (list.empty() || !list.back().same_as(op)) list.push_back(op);
    }
  for (const Operation& op : ops) {
    if (!compute_of(op)) continue;
    const_shape(op);  // symbolic shapes are rejected up front, naming the stage
    if (is_reduction(op)) plan.anchor = plan.schedule[op];
  }

  // Fusion: follow single readers through element-wise stages to an output of the same shape.
  Operation fused;
  if (plan.anchor.defined() && !output_set.count(plan.anchor->op.get()) && plan.anchor->op->num_outputs() == 1) {
    Operation current = plan.anchor->op;
    while (true) {
      const std::vector<Operation>& next = readers[current.get()];
      if (next.size() != 1 || !is_elementwise(next[0]) || next[0]->num_outputs() != 1) break;
      if (output_set.count(next[0].get())) {
        if (const_shape(next[0]) == const_shape(plan.anchor->op)) fused = next[0];
        break;
      }
      current = next[0];
    }
  }
  if (fused.defined()) plan.fused_consumer = plan.schedule[fused];

  for (const Operation& op : ops) {
    if (!compute_of(op)) continue;
    Stage stage = plan.schedule[op];
    bool is_output = output_set.count(op.get()) > 0;
    if (is_reduction(op)) {
      if (!stage.same_as(plan.anchor)) plan.secondary_reductions.push_back(stage);
    } else if (!is_output && op->num_outputs() == 1) {
      plan.inlined.push_back(stage);
    } else if (!stage.same_as(plan.fused_consumer)) {
      plan.elementwise_roots.push_back(stage);
    }
  }
  return plan;
}

}  // namespace derived

Instance derived_schedule(Config& cfg, const std::vector<Tensor>& args, const Target& target) {
  derived::Plan plan = derived::analyze(args, target);
  const bool gpu = target.kind == "cuda";
  if (target.kind != "llvm" && !gpu)
    fail("derived space: unknown target kind '", target.kind, "'; expected llvm or cuda");
  if (gpu) {
    // One kernel per compute: every stage must live in the anchor's (or the single
    // element-wise output's) loop nest.
    size_t roots = plan.elementwise_roots.size() + plan.secondary_reductions.size() + (plan.anchor.defined() ? 1 : 0);
    if (!plan.secondary_reductions.empty() || roots != 1 ||
        (plan.anchor.defined() && !plan.anchor->is_output && !plan.fused_consumer.defined()))
      fail("derived space for cuda: the compute needs several kernels (",
           plan.secondary_reductions.size() + (plan.anchor.defined() ? 1 : 0), " reduction stage(s), ",
           plan.elementwise_roots.size(),
           " element-wise stage(s) with their own loop nest); the CUDA backend generates one kernel, so "
           "tune it for llvm or write a template with a hand-made GPU schedule");
  }
  // Inline first: compute_at of the anchor into its consumer looks through inlined stages.
  for (Stage& stage : plan.inlined) stage.compute_inline();
  if (plan.anchor.defined()) {
    if (gpu)
      derived::schedule_anchor_gpu(cfg, plan);
    else
      derived::schedule_anchor_cpu(cfg, plan);
  }
  for (Stage& stage : plan.secondary_reductions) derived::schedule_secondary_reduction_cpu(cfg, plan, stage);
  for (Stage& stage : plan.elementwise_roots) {
    if (gpu)
      derived::schedule_elementwise_gpu(cfg, plan, stage);
    else
      derived::schedule_elementwise_cpu(cfg, plan, stage);
  }
  return Instance{plan.schedule, args};
}

}  // namespace te::autotune
