// Bound inference (TVM's InferBound, simplified): the range of every IterVar of every stage.
//
// Root and output stages compute their op's full domain. A compute_at stage P attached at
// leaf `iv` of stage C computes what C reads of it during one iteration of `iv`: C's leaves
// up to and including iv are fixed to their loop variables, the ones inside are relaxed over
// their ranges, the root indices are passed up from the leaves, and C's read indices of P
// are evaluated as interval sets. Derived axes then get their ranges by passing down.
// Refinements: loops bound to threads that share P's storage are relaxed too (TVM's rule, so
// a "shared" stage holds what the whole block reads); a region at least as large as P's
// domain becomes the domain; a region whose extent varies with the loops is widened to its
// largest extent (constant-size storage), with schedule_ops guarding points past the domain.
// Root IterVars map to their region (min may be non-zero); derived IterVars start at 0.
#include <algorithm>
#include <unordered_set>

#include "schedule/int_set.h"
#include "schedule/message_passing.h"
#include "schedule/schedule_ops_inline.h"
#include "te/expr_ops.h"
#include "te/ir_functor.h"

namespace te {

namespace {

// TVM's storage and thread ranks: memory of rank r is shared by all threads of rank >= r
// (global by every block and thread, shared by the threads of one block, local by none).
int storage_rank(const std::string& scope) {
  if (scope == "shared") return 1;
  if (scope == "warp") return 2;
  if (scope == "local" || is_wmma_scope(scope)) return 3;  // a fragment: per warp, no thread axis inside
  return 0;
}
int thread_rank(const std::string& tag) {
  if (tag.rfind("blockIdx", 0) == 0) return 0;
  if (tag.rfind("threadIdx", 0) == 0 || tag.rfind("vthread", 0) == 0) return 1;
  return -1;
}

class BoundInference {
 public:
  explicit BoundInference(const Schedule& sch) : sch_(sch), graph_(build_schedule_graph(sch)) {}

  BoundMap run() {
    // Consumers first, so a compute_at stage usually finds its parent done; infer() recurses
    // for the other cases (and for nested compute_at).
    for (auto it = sch_.stages().rbegin(); it != sch_.stages().rend(); ++it) infer(it->get());
    return bounds_;
  }

 private:
  void infer(StageNode* stage) {
    if (done_.count(stage)) return;
    if (in_progress_.count(stage))
      fail("compute_at: stage ", stage->op->name, " is attached (directly or through other stages) inside itself");
    in_progress_.insert(stage);
    if (const auto* compute = stage->op.as<ComputeOpNode>()) {
      if (stage->attach_type == AttachType::kScope && !stage->is_output) {
        infer_attached_roots(stage, compute);
      } else {
        if (stage->attach_type == AttachType::kScope)
          fail("compute_at: stage ", stage->op->name, " is an output of the schedule; outputs are computed at root");
        for (const IterVar& iv : compute->axis) bounds_[iv.get()] = iv->dom;
      }
      for (const IterVar& iv : compute->reduce_axis) bounds_[iv.get()] = iv->dom;
      pass_down_domain(*stage, &bounds_);
      bind_thread_ranges(stage);
    }
    in_progress_.erase(stage);
    done_.insert(stage);
  }

  // A thread IterVar bound to a leaf takes the leaf's range when it has none of its own.
  void bind_thread_ranges(StageNode* stage) {
    for (const IterVar& leaf : stage->leaf_iter_vars) {
      auto attr = stage->iter_var_attrs.find(leaf.get());
      if (attr == stage->iter_var_attrs.end() || !attr->second.bound_thread.defined()) continue;
      const IterVar& thread = attr->second.bound_thread;
      if (bounds_.count(thread.get())) continue;
      bounds_[thread.get()] = thread->dom.extent.defined() ? thread->dom : bound_of(bounds_, leaf, *stage);
    }
  }

  // A loop outside the attach point but bound to threads that share stage's storage (e.g.
  // threadIdx for "shared"): the storage must hold what all those threads read.
  static bool shared_across_thread(const StageNode* stage, const StageNode* parent, const IterVar& leaf) {
    auto attr = parent->iter_var_attrs.find(leaf.get());
    if (attr == parent->iter_var_attrs.end() || !attr->second.bound_thread.defined()) return false;
    int rank = thread_rank(attr->second.bound_thread->thread_tag);
    return rank >= 0 && storage_rank(stage->scope) <= rank;
  }

  // Ranges of the loop variables of the stages that enclose parent's loops (compute_at
  // ancestors), for simplification.
  VarRangeMap enclosing_loop_ranges(const StageNode* parent) {
    VarRangeMap ranges;
    for (const StageNode* s = parent; s && s->attach_type == AttachType::kScope; ) {
      s = s->attach_stage;
      if (!s) break;
      for (const IterVar& leaf : s->leaf_iter_vars) {
        auto it = bounds_.find(leaf.get());
        if (it != bounds_.end()) ranges[leaf->var.get()] = Range(make_zero(it->second.extent.dtype()), it->second.extent);
      }
    }
    return ranges;
  }

  // A region whose extent varies with the enclosing loops (e.g. rows of a fused, split
  // consumer) is widened to its largest extent, so storage and loops have a constant size;
  // points past the domain are guarded off by schedule_ops. When even that is no smaller
  // than the domain, the domain itself is the region.
  static Range constant_extent(const Range& region, const Range& domain, const VarRangeMap& ranges) {
    const int64_t* domain_extent = as_const_int(domain.extent);
    if (const int64_t* extent = as_const_int(region.extent)) {
      // Guarded consumers only read inside the domain: a region at least as large as the
      // domain (tails of several splits add up) is the domain itself.
      return domain_extent && *extent >= *domain_extent ? domain : region;
    }
    ConstBound widest = enumerated_max(region.extent, ranges);
    if (!widest.has_max) widest = const_bound(region.extent, ranges);
    if (domain_extent && (!widest.has_max || widest.max >= *domain_extent)) return domain;
    if (!widest.has_max) return region;
    return Range(region.min, make_const(region.extent.dtype(), double(std::max<int64_t>(widest.max, 1))));
  }

  // The largest value of e when it depends on a single loop variable of small constant
  // range: interval arithmetic is too loose for differences of floordivs (fused axes).
  static ConstBound enumerated_max(const Expr& e, const VarRangeMap& ranges) {
    ConstBound result;
    const VarNode* only = nullptr;
    bool single = true;
    post_order_visit(e, [&](const Expr& x) {
      if (const auto* v = x.as<VarNode>()) {
        if (only && only != v) single = false;
        only = v;
      }
    });
    if (!only || !single) return result;
    auto it = ranges.find(only);
    if (it == ranges.end()) return result;
    const int64_t* lo = as_const_int(it->second.min);
    const int64_t* extent = as_const_int(it->second.extent);
    constexpr int64_t kMaxEnumerated = 256;
    if (!lo || !extent || *extent > kMaxEnumerated) return result;
    for (int64_t x = *lo; x < *lo + *extent; ++x) {
      Expr value = simplify(substitute(e, {{only, make_const(only->dtype, double(x))}}));
      const int64_t* c = as_const_int(value);
      if (!c) return ConstBound();
      result.max = result.has_max ? std::max(result.max, *c) : *c;
      result.has_max = true;
    }
    return result;
  }

  void infer_attached_roots(StageNode* stage, const ComputeOpNode* compute) {
    StageNode* parent = stage->attach_stage;
    const std::string& name = stage->op->name;
    TE_ICHECK(parent != nullptr, "stage ", name, " is compute_at without an attach stage");
    if (!parent->op.as<ComputeOpNode>() || parent->attach_type == AttachType::kInline)
      fail("compute_at: stage ", name, " is attached to stage ", parent->op->name,
           ", which has no loops (a placeholder or an inlined stage)");
    infer(parent);

    const std::vector<IterVar>& leaves = parent->leaf_iter_vars;
    size_t attach_pos = leaves.size();
    for (size_t j = 0; j < leaves.size(); ++j)
      if (leaves[j].same_as(stage->attach_ivar)) attach_pos = j;
    if (attach_pos == leaves.size())
      fail("compute_at: stage ", name, " is attached at axis ",
           stage->attach_ivar.defined() ? stage->attach_ivar->var.name() : std::string("<none>"),
           ", which is not a loop (leaf axis) of stage ", parent->op->name);

    // Leaves up to the attach point stay symbolic; the ones inside are relaxed.
    IterVarValueMap leaf_offsets;
    IntSetMap relaxed;
    VarRangeMap ranges = enclosing_loop_ranges(parent);
    for (size_t j = 0; j < leaves.size(); ++j) {
      const Range& r = bound_of(bounds_, leaves[j], *parent);
      leaf_offsets[leaves[j].get()] = leaves[j]->var;
      ranges[leaves[j]->var.get()] = Range(make_zero(r.extent.dtype()), r.extent);
      if (j > attach_pos || shared_across_thread(stage, parent, leaves[j]))
        relaxed[leaves[j]->var.get()] = IntSet::from_range(Range(make_zero(r.extent.dtype()), r.extent));
    }
    // Thread loops of the stages parent is itself attached in (e.g. the threadIdx loops
    // around a "local" accumulator that a "shared" tile is attached to) are shared too.
    for (const StageNode* s = parent; s->attach_type == AttachType::kScope && s->attach_stage; s = s->attach_stage)
      for (const IterVar& leaf : s->attach_stage->leaf_iter_vars) {
        auto it = bounds_.find(leaf.get());
        if (it != bounds_.end() && shared_across_thread(stage, s->attach_stage, leaf))
          relaxed[leaf->var.get()] = IntSet::from_range(Range(make_zero(it->second.extent.dtype()), it->second.extent));
      }
    IterVarValueMap root_index = pass_up_index(*parent, bounds_, leaf_offsets, ranges);
    IntSetMap root_sets;
    for (const auto& [root, index] : root_index) root_sets[root->var.get()] = eval_set(index, relaxed);

    const OperationNode* storage = stage_storage_op(*stage).get();
    // parent may read it only through stages computed inside it (a shared tile copied into
    // wmma fragments at an inner loop); the other-consumer rule below covers those reads.
    std::vector<const TensorReadNode*> reads = reads_of(graph_.bodies.at(parent), storage);
    // Other consumers must themselves be computed inside parent, at or inside the attach point
    // (so the storage exists where they read it, and the stage, their producer, comes first):
    // e.g. softmax's exp at the output's row, also read by the row sum attached there. Their
    // reads count with their own loops (and those of the stages between) relaxed.
    std::vector<std::pair<const TensorReadNode*, IntSetMap>> other_reads;
    for (StageNode* consumer : graph_.consumers[stage]) {
      if (consumer == parent) continue;
      IntSetMap consumer_sets;
      if (!nested_root_sets(consumer, parent, attach_pos, relaxed, &consumer_sets))
        fail("compute_at: stage ", name, " is also read by stage ", consumer->op->name, "; attached at stage ",
             parent->op->name, " it would not exist where ", consumer->op->name,
             " reads it (compute it at root or inline instead, or compute ", consumer->op->name,
             " inside the same loop of ", parent->op->name, ")");
      for (const TensorReadNode* read : reads_of(graph_.bodies.at(consumer), storage))
        other_reads.push_back({read, consumer_sets});
    }
    if (reads.empty() && other_reads.empty())
      fail("compute_at: stage ", name, " is attached to stage ", parent->op->name,
           ", which does not read it; attach a stage inside one of its consumers");
    for (size_t d = 0; d < compute->axis.size(); ++d) {
      std::vector<IntSet> sets;
      for (const TensorReadNode* read : reads) sets.push_back(eval_set(read->indices.at(d), root_sets));
      for (const auto& [read, consumer_sets] : other_reads) sets.push_back(eval_set(read->indices.at(d), consumer_sets));
      IntSet region = union_set(sets);
      const IterVar& axis = compute->axis[d];
      // Non-affine accesses give no bound: compute the whole dimension.
      bounds_[axis.get()] = region.is_bounded() ? constant_extent(region.to_range(ranges), axis->dom, ranges) : axis->dom;
    }
  }

  // The values the root axes of `consumer` take during one iteration of parent's leaf
  // attach_pos, when consumer is computed inside parent there or deeper, directly or through
  // other attached stages: consumer's axes over their inferred ranges, with the loops of the
  // stages in between, parent's leaves inside attach_pos and the thread loops that share the
  // storage (parent_relaxed) relaxed. False when consumer is computed elsewhere.
  bool nested_root_sets(StageNode* consumer, StageNode* parent, size_t attach_pos, const IntSetMap& parent_relaxed,
                        IntSetMap* sets) {
    std::vector<StageNode*> between;
    StageNode* s = consumer;
    while (s->attach_type == AttachType::kScope && !s->is_output && s->attach_stage && s->attach_stage != parent) {
      s = s->attach_stage;
      between.push_back(s);
    }
    if (s->attach_type != AttachType::kScope || s->is_output || s->attach_stage != parent) return false;
    const std::vector<IterVar>& leaves = parent->leaf_iter_vars;
    size_t pos = leaves.size();
    for (size_t j = 0; j < leaves.size(); ++j)
      if (leaves[j].same_as(s->attach_ivar)) pos = j;
    if (pos == leaves.size() || pos < attach_pos) return false;
    infer(consumer);
    IntSetMap relaxed = parent_relaxed;  // parent's inner leaves and the thread loops sharing the storage
    auto relax = [&](const IterVar& leaf) {
      auto it = bounds_.find(leaf.get());
      if (it != bounds_.end())
        relaxed[leaf->var.get()] = IntSet::from_range(Range(make_zero(it->second.extent.dtype()), it->second.extent));
    };
    for (size_t j = attach_pos + 1; j < leaves.size(); ++j) relax(leaves[j]);
    for (StageNode* b : between)
      for (const IterVar& leaf : b->leaf_iter_vars) relax(leaf);
    const auto* compute = consumer->op.as<ComputeOpNode>();
    for (const IterVar& axis : compute->axis) {
      const Range& r = bound_of(bounds_, axis, *consumer);
      IntSet lo = eval_set(r.min, relaxed), hi = eval_set(r.min + r.extent - make_const(r.extent.dtype(), 1), relaxed);
      (*sets)[axis->var.get()] = IntSet::interval(lo.min, hi.max);
    }
    for (const IterVar& axis : compute->reduce_axis) (*sets)[axis->var.get()] = IntSet::from_range(axis->dom);
    return true;
  }

  const Schedule& sch_;
  ScheduleGraph graph_;
  BoundMap bounds_;
  std::unordered_set<const StageNode*> done_, in_progress_;
};

}  // namespace

BoundMap infer_bound(const Schedule& sch) {
  if (!sch.defined()) fail("infer_bound: the schedule is undefined");
  return BoundInference(sch).run();
}

}  // namespace te
