// src/autotune/derived_space.h — internals of the derived (template-free) space shared by
// derived_space.cc (analysis, entry point, non-anchor stages), derived_cpu.cc (the anchor's
// CPU structure) and derived_gpu.cc (the GPU structures). The public entry point is
// te::autotune::derived_schedule in include/te/autotune/task.h.
//
// Every knob is defined from the compute's structure and extents only, never from another
// knob's choice, so that space mode and apply mode define the same knobs in the same order.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "te/autotune/task.h"

namespace te::autotune::derived {

// What the derived space found in the compute (stages of `schedule`, before any primitive).
struct Plan {
  Schedule schedule;
  Target target;
  // The reduction stage that gets multi-level tiling: the last reduction in topological
  // order. Undefined for computes without reductions.
  Stage anchor;
  // The output the anchor is fused into: reached from the anchor through single-consumer
  // element-wise stages (all inlined), same shape as the anchor. Undefined when none.
  Stage fused_consumer;
  std::vector<Stage> inlined;               // element-wise, single-output, not outputs
  std::vector<Stage> secondary_reductions;  // reductions other than the anchor (own loop nest)
  std::vector<Stage> elementwise_roots;     // element-wise stages with their own loop nest
  std::map<const StageNode*, std::string> knob_prefix;  // unique per stage
};

// Builds the schedule and classifies its stages. te::Error for computes the derived space
// cannot handle (symbolic shapes, no outputs).
Plan analyze(const std::vector<Tensor>& args, const Target& target);

// Constant extent of a root axis; te::Error naming the stage when symbolic.
int64_t const_extent(const IterVar& axis, const std::string& stage);
// The knob name for one axis of a stage: "<prefix>.<what>_<axis name>" (made unique).
std::string axis_knob(const Plan& plan, const Stage& stage, const std::string& what, const IterVar& axis,
                      size_t index);
const std::string& prefix(const Plan& plan, const Stage& stage);

// Splits axis by sizes (outermost first; sizes[0] is ignored: the outermost loop takes the
// rest, so non-dividing sizes work). Returns the sizes.size() leaves, outermost first.
std::vector<IterVar> split_by_sizes(Stage stage, const IterVar& axis, const std::vector<int64_t>& sizes);
// Fuses adjacent leaves (outermost first) into one; the single leaf when there is one.
IterVar fuse_all(Stage stage, const std::vector<IterVar>& leaves);
// Unrolls leaves from the innermost (last) outwards while the product of their extents stays
// within max_product (0: nothing).
void unroll_innermost(Stage stage, const std::vector<IterVar>& leaves, const std::vector<int64_t>& extents,
                      int64_t max_product);
// The smallest power of two >= n (n >= 1).
int64_t next_pow2(int64_t n);

// The anchor on the CPU: SSRSRS tiling, optional write cache, parallel/vectorize/unroll.
void schedule_anchor_cpu(Config& cfg, Plan& plan);
// The anchor on the GPU: block/thread tiling, local write cache, shared input caches.
void schedule_anchor_gpu(Config& cfg, Plan& plan);
// An element-wise root stage on the GPU: fused, split by a thread-count knob, bound.
void schedule_elementwise_gpu(Config& cfg, Plan& plan, Stage stage);

}  // namespace te::autotune::derived
