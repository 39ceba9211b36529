// Random legal schedules for fuzz programs. CPU: rfactor, then the schedule-equivalence
// generator of tests/cpp/equivalence.h (caches, inline/compute_at/compute_root, split, fuse,
// reorder, tile, vectorize, unroll, parallel, prefetch), then storage_align and pragmas. GPU: inline,
// cache_write to local, cache_read to shared attached at a reduction's outer axis (with
// storage_align and double_buffer at times), blockIdx/threadIdx binds in one or two dimensions, and cross-thread
// reductions (a reduce axis split over threadIdx.x, one block per output element).
#include <random>

#include "equivalence.h"
#include "fuzz_program.h"

namespace te::fuzz {
namespace {

using testing::ScheduleRng;

// rfactor a reduction stage on one half of a split of its first reduce axis.
void random_rfactor(Schedule& s, ScheduleRng& rng) {
  std::vector<Stage> candidates;
  for (const Stage& st : s.stages())
    if (testing::has_reduction(st) && st->op->num_outputs() == 1) candidates.push_back(st);
  if (candidates.empty()) return;
  Stage st = rng.pick(candidates);
  const auto* op = st->op.as<ComputeOpNode>();
  IterVar k = op->reduce_axis.front();
  std::optional<int64_t> extent;
  if (const int64_t* e = as_const_int(k->dom.extent)) extent = *e;
  auto [ko, ki] = st.split(k, testing::random_split_factor(rng, extent));
  const int factor_axis = int(rng.uniform(0, int64_t(op->axis.size())));
  s.rfactor(st->op.output(0), rng.chance(0.7) ? ki : ko, factor_axis);
}

void random_pragmas(Schedule& s, ScheduleRng& rng) {
  for (const Stage& st : s.stages()) {
    if (st->attach_type == AttachType::kInline || st->leaf_iter_vars.empty() || !rng.chance(0.1)) continue;
    Stage stage = st;
    stage.pragma(rng.pick(st->leaf_iter_vars), rng.pick(std::vector<std::string>{"auto_unroll_max_step", "unroll_explicit", "fuzz"}),
                 Expr(int32_t(rng.uniform(0, 16))));
  }
}

// Pads one dimension's stride of a buffer lowering allocates (stride % factor == offset).
void random_storage_align(Stage st, ScheduleRng& rng) {
  const auto* op = st->op.as<ComputeOpNode>();
  if (!op || op->axis.empty()) return;
  const int64_t factor = rng.pick(std::vector<int64_t>{1, 2, 4, 8, 16, 32});
  st.storage_align(rng.pick(op->axis), factor, rng.uniform(0, factor - 1));
}

void cpu_schedule(Schedule& s, ScheduleRng& rng) {
  if (rng.chance(0.25)) random_rfactor(s, rng);
  testing::RandomScheduleOptions opt;
  opt.max_loop_ops = int(rng.uniform(0, 4));
  testing::random_schedule(s, rng, opt);
  for (const Stage& st : s.stages())
    if (!st->is_output && testing::is_compute_stage(st) && st->attach_type != AttachType::kInline && rng.chance(0.2))
      random_storage_align(st, rng);
  random_pragmas(s, rng);
}

// A cross-thread reduction: the data-parallel leaves fused over blockIdx.x (one block per
// output element), the first reduce axis split by `lanes` with the inner part bound to
// threadIdx.x (warp shuffles + shared memory in the CUDA backend). Returns the block axis.
IterVar bind_cross_thread_reduction(Stage& st, ScheduleRng& rng) {
  std::vector<IterVar> spatial, reduce;
  for (const IterVar& iv : st->leaf_iter_vars)
    (iv->type == IterVarType::kCommReduce ? reduce : spatial).push_back(iv);
  IterVar block = spatial[0];
  for (size_t i = 1; i < spatial.size(); ++i) block = st.fuse(block, spatial[i]);
  st.bind(block, thread_axis("blockIdx.x"));
  const int64_t lanes = rng.pick(std::vector<int64_t>{1, 7, 32, 33, 64, 100, 128});
  auto [ko, ki] = st.split(reduce[0], lanes);
  (void)ko;
  st.bind(ki, thread_axis("threadIdx.x"));
  return block;
}

// Binds the data-parallel leaves of a root stage: fused into one axis split over
// blockIdx.x/threadIdx.x, or (with two or more) tiled over blockIdx.y/x and threadIdx.y/x.
// thread_axes gets the thread-bound leaves (innermost last), x_extent threadIdx.x's extent.
void bind_stage(Stage& st, ScheduleRng& rng, std::vector<IterVar>& thread_axes, int64_t& x_extent) {
  std::vector<IterVar> spatial;
  for (const IterVar& iv : st->leaf_iter_vars)
    if (iv->type != IterVarType::kCommReduce) spatial.push_back(iv);
  if (spatial.empty()) return;
  if (spatial.size() >= 2 && rng.chance(0.4)) {
    const size_t n = spatial.size();
    const int64_t ty = rng.pick(std::vector<int64_t>{1, 2, 4, 8}), tx = rng.pick(std::vector<int64_t>{1, 8, 16, 32});
    auto t = st.tile(spatial[n - 2], spatial[n - 1], ty, tx);
    IterVar outer = t[0];
    for (size_t i = n - 2; i-- > 0;) outer = st.fuse(spatial[i], outer);
    st.bind(outer, thread_axis("blockIdx.y"));
    st.bind(t[1], thread_axis("blockIdx.x"));
    IterVar y = thread_axis("threadIdx.y"), x = thread_axis("threadIdx.x");
    st.bind(t[2], y);
    st.bind(t[3], x);
    thread_axes = {t[2], t[3]};
    x_extent = tx;
    return;
  }
  IterVar fused = spatial[0];
  for (size_t i = 1; i < spatial.size(); ++i) fused = st.fuse(fused, spatial[i]);
  const int64_t lanes = rng.pick(std::vector<int64_t>{1, 7, 32, 64, 128, 256});
  auto [bx, tx] = st.split(fused, lanes);
  x_extent = lanes;
  st.bind(bx, thread_axis("blockIdx.x"));
  st.bind(tx, thread_axis("threadIdx.x"));
  thread_axes = {tx};
}

// One CUDA kernel per build: every stage that is not an output is inlined or computed at the
// innermost thread axis of the stage that (through inlined stages) consumes it.
void gpu_schedule(Schedule& s, ScheduleRng& rng) {
  // Caches first, while the stages are unscheduled; only of outputs, which are bound below.
  std::vector<std::pair<Tensor, Stage>> local_caches;  // (cache, output reading it)
  for (const Stage& st : std::vector<Stage>(s.stages()))
    if (st->is_output && testing::is_compute_stage(st) && st->op->num_outputs() == 1 && rng.chance(0.2))
      local_caches.emplace_back(s.cache_write(st->op.output(0), "local"), st);
  std::vector<std::pair<Tensor, Stage>> shared_caches;  // (cache, output reduction reading it)
  for (const Stage& st : std::vector<Stage>(s.stages())) {
    if (!st->is_output || !testing::has_reduction(st) || !rng.chance(0.4)) continue;
    std::vector<Tensor> inputs = st->op->input_tensors();
    if (!inputs.empty()) shared_caches.emplace_back(s.cache_read(rng.pick(inputs), "shared", {st->op}), st);
  }
  // A local cache of an output is the stage that reads the output's inputs now.
  for (auto& [cache, out] : local_caches)
    for (auto& [shared, reader] : shared_caches)
      if (reader.same_as(out)) reader = s[cache];
  std::unordered_set<const OperationNode*> cache_ops, inlined;
  for (const auto& [t, reader] : local_caches) cache_ops.insert(t.op().get());
  for (const auto& [t, reader] : shared_caches) cache_ops.insert(t.op().get());
  std::unordered_map<const OperationNode*, std::pair<Stage, IterVar>> anchors;  // where producers attach

  std::vector<Stage> stages = s.stages();
  for (size_t idx = stages.size(); idx-- > 0;) {
    Stage st = stages[idx];
    if (!testing::is_compute_stage(st) || cache_ops.count(st->op.get())) continue;
    if (st->is_output) {
      bool in_cache_pair = false;
      for (const auto& [cache, out] : local_caches) in_cache_pair = in_cache_pair || out.same_as(st);
      for (const auto& [cache, reader] : shared_caches) in_cache_pair = in_cache_pair || reader.same_as(st);
      bool has_spatial = false;
      for (const IterVar& iv : st->leaf_iter_vars) has_spatial = has_spatial || iv->type != IterVarType::kCommReduce;
      if (testing::has_reduction(st) && has_spatial && !in_cache_pair && rng.chance(0.5)) {
        // Producers attach at the block axis (computed by every thread of the block) or inline.
        anchors[st->op.get()] = {st, bind_cross_thread_reduction(st, rng)};
        continue;
      }
      std::vector<IterVar> threads;
      int64_t x_extent = 1;
      bind_stage(st, rng, threads, x_extent);
      if (threads.empty()) throw Error("fuzz: output stage " + st->op->name + " has no data-parallel axis to bind");
      anchors[st->op.get()] = {st, threads.back()};
      for (const auto& [cache, out] : local_caches) {
        if (!out.same_as(st)) continue;
        Stage cs = s[cache];
        cs.compute_at(st, threads.back());
        anchors[cache.op().get()] = {st, threads.back()};
      }
      for (const auto& [cache, reader] : shared_caches) {
        if (!(reader.same_as(st) || (anchors.count(reader->op.get()) && anchors[reader->op.get()].first.same_as(st)))) continue;
        Stage rd = reader;
        IterVar k;
        for (const IterVar& iv : rd->leaf_iter_vars)
          if (iv->type == IterVarType::kCommReduce) k = iv;
        if (!k.defined()) continue;
        // A shared tile per block, loaded cooperatively by the threadIdx.x lanes.
        auto [ko, ki] = rd.split(k, rng.pick(std::vector<int64_t>{1, 2, 4, 8}));
        if (rng.chance(0.3)) rd.unroll(ki);
        Stage cs = s[cache];
        if (rng.chance(0.3)) random_storage_align(cs, rng);  // padded shared rows (bank conflicts)
        cs.compute_at(rd, ko);
        // The next k block staged in registers during this one (refused with a te::Error when a
        // thread's share is over the register limit: a clean refusal).
        if (rng.chance(0.3)) cs.double_buffer();
        anchors[cache.op().get()] = {st, threads.back()};
        std::vector<IterVar> axes = cs->leaf_iter_vars;
        IterVar fused = axes[0];
        for (size_t i = 1; i < axes.size(); ++i) fused = cs.fuse(fused, axes[i]);
        if (rng.chance(0.7)) {
          auto [rest, lane] = cs.split(fused, x_extent);
          (void)rest;
          cs.bind(lane, thread_axis("threadIdx.x"));
        }
      }
      continue;
    }
    // te attaches a stage only at a direct consumer, so a stage reading a reduction (which
    // cannot be inlined) is never inlined itself: the reduction attaches to it.
    std::vector<Stage> consumers = testing::consumers_of(s, st);
    bool reads_reduction = false;
    for (const Tensor& in : st->op->input_tensors())
      reads_reduction = reads_reduction || testing::has_reduction(s[in.op()]);
    const bool can_inline = !testing::has_reduction(st) && st->op->num_outputs() == 1 && !reads_reduction;
    const bool can_attach = consumers.size() == 1 && anchors.count(consumers[0]->op.get());
    if (can_inline && (!can_attach || rng.chance(0.6))) {
      st.compute_inline();
      inlined.insert(st->op.get());
    } else if (can_attach) {
      Stage consumer = consumers[0];
      auto anchor = anchors[consumer->op.get()];
      // At the consumer's innermost thread axis when it is bound, else at one of its own
      // loops (which run inside a thread).
      IterVar at = anchor.first.same_as(consumer) ? anchor.second : rng.pick(consumer->leaf_iter_vars);
      st.compute_at(consumer, at);
      anchors[st->op.get()] = {consumer, at};
    } else {
      throw Error("fuzz: stage " + st->op->name + " can be neither inlined nor attached in one CUDA kernel");
    }
  }
}

}  // namespace

Schedule make_schedule(const FuzzCase& c, const Program& p) {
  std::vector<Operation> ops;
  for (const Tensor& t : p.outputs) ops.push_back(t.op());
  if (!c.steps_json.empty()) return Schedule::replay(ops, Schedule::steps_from_json(c.steps_json));
  Schedule s = create_schedule(ops);
  ScheduleRng rng(c.schedule_seed);
  if (c.target == "cuda") gpu_schedule(s, rng);
  else cpu_schedule(s, rng);
  return s;
}

}  // namespace te::fuzz
