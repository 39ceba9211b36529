// src/autotune/derived_cpu.cc — the anchor's CPU structure in the derived space (Ansor's
// "SSRSRS" multi-level tiling for CPUs).
//
// Knobs (prefix = the anchor's name):
//   tile_<axis>  spatial axes: define_split with 4 outputs S0 S1 S2 S3; reduction axes: 2
//                outputs R0 R1. Policy kFactors when the extent has at least two divisors
//                besides 1 and itself (no tails), else kPowerOfTwo (tails are guarded); inner
//                sizes at most 64 so the innermost part can be vectorized.
//   cache_write  0/1: compute the reduction into a "local" cache computed at the S1 loop of
//                the copy-out stage (only when the anchor is not fused: a fused consumer
//                already plays the write cache's role).
//   parallel     0: serial; k: the S0 loops of the first k spatial axes fused and parallel.
//   vectorize    0/1: vectorize the innermost S3 loop (of the last spatial axis).
//   unroll       0/16/64: unroll the innermost S3/R1 loops while the product of their extents
//                stays within the value (a vectorized loop counts as one).
//
// Loop nests:
//   plain       anchor: S0.. S1.. R0.. S2.. R1.. S3..
//   with outer  outer (fused consumer or cache copy): S0.. S1.. S2.. S3..; the anchor is
//               computed at the last S1 loop, its own loops R0.. S2.. R1.. S3.. over the tile.
#include "autotune/derived_space.h"

namespace te::autotune::derived {
namespace {

SplitOptions cpu_split_options(int64_t extent) {
  int divisors = 0;
  for (int64_t d = 2; d * d <= extent && divisors < 2; ++d)
    if (extent % d == 0) divisors += (d * d == extent) ? 1 : 2;
  SplitOptions options;
  options.policy = divisors >= 2 ? SplitPolicy::kFactors : SplitPolicy::kPowerOfTwo;
  options.max_factor = 64;
  return options;
}

std::vector<int64_t> range_choices(int64_t last) {
  std::vector<int64_t> values;
  for (int64_t k = 0; k <= last; ++k) values.push_back(k);
  return values;
}

}  // namespace

void schedule_anchor_cpu(Config& cfg, Plan& plan) {
  Stage anchor = plan.anchor;
  const std::string& p = prefix(plan, anchor);
  const std::string name = anchor->op->name;
  const auto* op = anchor->op.as<ComputeOpNode>();
  const size_t num_spatial = op->axis.size(), num_reduce = op->reduce_axis.size();

  // ---- knobs (from the structure and extents only)
  std::vector<std::vector<int64_t>> spatial_sizes, reduce_sizes;
  for (size_t i = 0; i < num_spatial; ++i) {
    int64_t extent = const_extent(op->axis[i], name);
    spatial_sizes.push_back(
        cfg.define_split(axis_knob(plan, anchor, "tile", op->axis[i], i), extent, 4, cpu_split_options(extent)));
  }
  for (size_t r = 0; r < num_reduce; ++r) {
    int64_t extent = const_extent(op->reduce_axis[r], name);
    reduce_sizes.push_back(cfg.define_split(axis_knob(plan, anchor, "tile", op->reduce_axis[r], num_spatial + r),
                                            extent, 2, cpu_split_options(extent)));
  }
  const bool fused = plan.fused_consumer.defined();
  const bool use_cache = !fused && num_spatial > 0 && cfg.define_knob(p + ".cache_write", {0, 1}) != 0;
  const int64_t parallel =
      num_spatial > 0 ? cfg.define_knob(p + ".parallel", range_choices(int64_t(std::min<size_t>(num_spatial, 3)))) : 0;
  const bool vectorize = num_spatial > 0 && cfg.define_knob(p + ".vectorize", {0, 1}) != 0;
  const int64_t unroll = cfg.define_knob(p + ".unroll", {0, 16, 64});

  // ---- the outer stage holding S0/S1 when the anchor is attached
  Stage compute = anchor;  // the stage that runs the reduction
  Stage outer;
  if (fused) {
    outer = plan.fused_consumer;
  } else if (use_cache) {
    Tensor cache = plan.schedule.cache_write(anchor->op.output(0), "local");
    compute = plan.schedule[cache];
    outer = anchor;  // now the copy out of the cache
  }

  std::vector<IterVar> s0, s1, s2, s3, r0, r1;
  std::vector<int64_t> s3_extent, r1_extent;
  for (size_t i = 0; i < num_spatial; ++i) s3_extent.push_back(spatial_sizes[i][3]);
  for (size_t r = 0; r < num_reduce; ++r) r1_extent.push_back(reduce_sizes[r][1]);
  const auto* compute_op = compute->op.as<ComputeOpNode>();
  for (size_t r = 0; r < num_reduce; ++r) {
    std::vector<IterVar> parts = split_by_sizes(compute, compute_op->reduce_axis[r], reduce_sizes[r]);
    r0.push_back(parts[0]);
    r1.push_back(parts[1]);
  }

  Stage parallel_stage = compute;
  if (!outer.defined()) {
    for (size_t i = 0; i < num_spatial; ++i) {
      std::vector<IterVar> parts = split_by_sizes(compute, compute_op->axis[i], spatial_sizes[i]);
      s0.push_back(parts[0]);
      s1.push_back(parts[1]);
      s2.push_back(parts[2]);
      s3.push_back(parts[3]);
    }
    std::vector<IterVar> order = s0;
    for (const auto* level : {&s1, &r0, &s2, &r1, &s3}) order.insert(order.end(), level->begin(), level->end());
    compute.reorder(order);
  } else {
    // The outer stage's loops carry the S0/S1 tiles; its inner S2/S3 loops copy (or finish,
    // for a fused consumer) one tile.
    const auto* outer_op = outer->op.as<ComputeOpNode>();
    TE_ICHECK(outer_op->axis.size() == num_spatial, "derived space: fused consumer of ", name, " has another rank");
    std::vector<IterVar> o0, o1, o2, o3;
    for (size_t i = 0; i < num_spatial; ++i) {
      std::vector<IterVar> parts = split_by_sizes(outer, outer_op->axis[i], spatial_sizes[i]);
      o0.push_back(parts[0]);
      o1.push_back(parts[1]);
      o2.push_back(parts[2]);
      o3.push_back(parts[3]);
    }
    std::vector<IterVar> order = o0;
    for (const auto* level : {&o1, &o2, &o3}) order.insert(order.end(), level->begin(), level->end());
    outer.reorder(order);
    compute.compute_at(outer, o1.back());
    // The anchor's spatial extent here is one S2*S3 tile.
    for (size_t i = 0; i < num_spatial; ++i) {
      auto [tile_outer, tile_inner] = compute.split(compute_op->axis[i], spatial_sizes[i][3]);
      s2.push_back(tile_outer);
      s3.push_back(tile_inner);
    }
    std::vector<IterVar> inner_order = r0;
    for (const auto* level : {&s2, &r1, &s3}) inner_order.insert(inner_order.end(), level->begin(), level->end());
    compute.reorder(inner_order);
    if (vectorize && spatial_sizes.back()[3] > 1) outer.vectorize(o3.back());
    s0 = o0;
    parallel_stage = outer;
  }

  if (parallel > 0) {
    std::vector<IterVar> fused_outer(s0.begin(), s0.begin() + parallel);
    parallel_stage.parallel(fuse_all(parallel_stage, fused_outer));
  }
  // Unroll candidates, outermost first: R1 loops, then S3 loops (the innermost).
  std::vector<IterVar> unroll_leaves = r1;
  std::vector<int64_t> unroll_extents = r1_extent;
  unroll_leaves.insert(unroll_leaves.end(), s3.begin(), s3.end());
  unroll_extents.insert(unroll_extents.end(), s3_extent.begin(), s3_extent.end());
  if (vectorize && num_spatial > 0 && spatial_sizes.back()[3] > 1) {
    compute.vectorize(s3.back());
    unroll_leaves.pop_back();  // the vector loop is one instruction wide
    unroll_extents.pop_back();
  }
  if (unroll > 0) unroll_innermost(compute, unroll_leaves, unroll_extents, unroll);
}

}  // namespace te::autotune::derived
