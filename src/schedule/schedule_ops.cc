// Loop-nest building (TVM's ScheduleOps, simplified): the whole program of a schedule as
// Realize/For/TensorStore/IfThenElse statements, before storage flattening.
//
// Shape of the result: root stages one after another at the top level, each one's storage
// (Realize) live over itself and everything after it; a compute_at stage is built the same
// way inside its parent's loop, right before the parent's computation at that level. One For
// per leaf (from 0), root indices passed up from the leaves and substituted into the body;
// reductions get an init nest right before their outermost reduction loop. Storage and
// stores are named by each stage's origin op (the tensors the user holds), even after
// cache_write/rfactor replaced the stage's op (see stage_storage_op).
#include <algorithm>
#include <unordered_set>

#include "ir/simplify.h"
#include "schedule/message_passing.h"
#include "schedule/prefetch.h"
#include "schedule/schedule_ops_inline.h"
#include "te/expr_ops.h"
#include "te/ir_functor.h"

namespace te {

namespace {

using AttachMap = std::unordered_map<const IterVarNode*, std::vector<StageNode*>>;

Expr likely(const Expr& cond) { return CallNode::make(DataType::boolean(), Intrinsic::kLikely, {cond}); }

Stmt guard(const std::vector<Expr>& conds, const Stmt& body) {
  if (conds.empty()) return body;
  Expr all_conds = conds[0];
  for (size_t i = 1; i < conds.size(); ++i) all_conds = all_conds && conds[i];
  return IfThenElseNode::make(all_conds, body);
}

class LoopNestBuilder {
 public:
  LoopNestBuilder(const Schedule& sch, const BoundMap& bounds)
      : sch_(sch), bounds_(bounds), graph_(build_schedule_graph(sch)) {}

  Stmt build() {
    std::vector<StageNode*> roots;
    for (const Stage& stage : sch_.stages()) {
      if (!stage->op.as<ComputeOpNode>() || stage->attach_type == AttachType::kInline) continue;
      if (stage->attach_type == AttachType::kScope && !stage->is_output) {
        TE_ICHECK(stage->attach_stage != nullptr, "stage ", stage->op->name, " is compute_at without an attach stage");
        attached_[stage->attach_stage][stage->attach_ivar.get()].push_back(stage.get());
      } else {
        roots.push_back(stage.get());
      }
    }
    Stmt program = realize_chain(roots, Stmt(), {});
    for (const Stage& stage : sch_.stages())
      if (stage->attach_type == AttachType::kScope && !stage->is_output && !placed_.count(stage.get()))
        fail("compute_at: stage ", stage->op->name, " is attached at axis ",
             stage->attach_ivar.defined() ? stage->attach_ivar->var.name() : std::string("<none>"),
             ", which is not a loop of stage ", stage->attach_stage->op->name, " (or that stage is not computed)");
    if (!program.defined()) program = EvaluateNode::make(make_zero(DataType::int32()));
    return program;
  }

 private:
  // stages computed one after another, each one's storage live over the ones after it and
  // over rest.
  Stmt realize_chain(const std::vector<StageNode*>& stages, Stmt rest, const VarRangeMap& ranges) {
    for (auto it = stages.rbegin(); it != stages.rend(); ++it) {
      StageNode* stage = *it;
      placed_.insert(stage);
      Stmt body = SeqNode::make({make_stage(stage, ranges), rest});
      const auto* compute = stage->op.as<ComputeOpNode>();
      std::vector<Range> region;
      for (const IterVar& axis : compute->axis) region.push_back(bound_of(bounds_, axis, *stage));
      for (int k = compute->num_outputs() - 1; k >= 0; --k)
        body = RealizeNode::make(stage_storage_op(*stage).output(k), region, stage->scope, body);
      if (stage->double_buffer)
        body = AttrStmtNode::make(kDoubleBufferScopeAttr, make_const(DataType::int32(), double(stage->pipeline_stages)),
                                  body);
      rest = body;
    }
    return rest;
  }

  // Everything one stage computes, inside the loops that enclose it (outer_ranges).
  Stmt make_stage(StageNode* stage, const VarRangeMap& outer_ranges) {
    StageBuild b{stage, stage->op.as<ComputeOpNode>(), graph_.bodies.at(stage), outer_ranges, 0};
    const std::vector<IterVar>& leaves = stage->leaf_iter_vars;
    for (const IterVar& leaf : leaves) {
      const Range& r = bound_of(bounds_, leaf, *stage);
      b.ranges[leaf->var.get()] = Range(make_zero(r.extent.dtype()), r.extent);
    }
    size_t num_reduce = 0;
    for (const Expr& e : b.body) num_reduce += e.as<ReduceNode>() ? 1 : 0;
    if (num_reduce != 0 && num_reduce != b.body.size())
      fail("stage ", stage->op->name, ": a reduction must be the whole body of every output");
    bool is_reduction = num_reduce != 0;

    // The first leaf that iterates over a reduction axis: the init goes right before it.
    b.reduce_pos = leaves.size();
    RootSourceMap sources = root_sources(*stage);
    std::vector<bool> leaf_reduce(leaves.size(), false);
    int thread_mask = 0;  // bit d: a reduce leaf is bound to threadIdx.{x,y,z}[d]
    for (size_t j = 0; j < leaves.size(); ++j) {
      bool reduce = false, spatial = false;
      for (const IterVarNode* root : sources[leaves[j].get()])
        (is_reduce_root(*stage, root) ? reduce : spatial) = true;
      if (reduce && spatial)
        fail("stage ", stage->op->name, ": axis ", leaves[j]->var.name(),
             " fuses a reduction axis with a data-parallel axis; fuse axes of the same kind only");
      if (reduce && b.reduce_pos == leaves.size()) b.reduce_pos = j;
      leaf_reduce[j] = reduce;
      if (reduce) thread_mask |= reduce_thread_bit(*stage, leaves[j]);
    }
    if (thread_mask != 0) return make_cross_thread(b, leaf_reduce, thread_mask);

    IterVarValueMap leaf_offsets;
    for (const IterVar& leaf : leaves) leaf_offsets[leaf.get()] = leaf->var;
    IterVarValueMap root_index = pass_up_index(*stage, bounds_, leaf_offsets, b.ranges);
    IterVarValueMap offsets = pass_up_offsets(*stage, bounds_, leaf_offsets);
    Stmt compute = is_reduction ? make_update(b, root_index, offsets) : make_store(b, root_index, offsets);
    Stmt init = is_reduction ? make_init(b) : Stmt();
    return nest(b, 0, init, compute);
  }

  struct StageBuild {
    StageNode* stage;
    const ComputeOpNode* op;
    const std::vector<Expr>& body;
    VarRangeMap ranges;  // enclosing loops and this stage's leaves
    size_t reduce_pos = 0;
  };

  // The statement at loop level j (inside leaf j-1): stages attached there, the reduction
  // init if it belongs here, then leaf j's loop (or the computation, innermost).
  Stmt nest(const StageBuild& b, size_t j, const Stmt& init, const Stmt& compute) {
    const std::vector<IterVar>& leaves = b.stage->leaf_iter_vars;
    std::vector<Stmt> parts;
    if (init.defined() && j == b.reduce_pos) parts.push_back(init);
    if (j == leaves.size()) parts.push_back(compute);
    else parts.push_back(make_loop(*b.stage, leaves[j], leaves[j]->var, nest(b, j + 1, init, compute), true));
    Stmt level = SeqNode::make(parts);
    if (j == 0) return level;
    auto stage_attach = attached_.find(b.stage);
    if (stage_attach == attached_.end()) return level;
    auto here = stage_attach->second.find(leaves[j - 1].get());
    if (here == stage_attach->second.end()) return level;
    return realize_chain(here->second, level, b.ranges);
  }

  Stmt make_loop(const StageNode& stage, const IterVar& leaf, const Var& loop_var, Stmt body, bool with_pragmas) {
    const Range& range = bound_of(bounds_, leaf, stage);
    ForKind kind = ForKind::kSerial;
    std::string thread_tag;
    const IterVarAttr* attr = nullptr;
    auto it = stage.iter_var_attrs.find(leaf.get());
    if (it != stage.iter_var_attrs.end()) {
      attr = &it->second;
      kind = attr->for_kind;
      if (attr->bound_thread.defined()) {
        kind = ForKind::kThreadBinding;
        thread_tag = attr->bound_thread->thread_tag;
      }
    }
    if (attr && with_pragmas && !attr->prefetches.empty()) {
      if (kind == ForKind::kVectorized)
        fail("prefetch: axis ", leaf->var.name(), " of stage ", stage.op->name,
             " is vectorized; prefetch at an axis outside the vectorized one");
      std::vector<Stmt> parts;
      for (const IterVarAttr::Prefetch& request : attr->prefetches) {
        if (request.spread) {
          body = spread_prefetch(stage, graph_.bodies.at(&stage), leaf, request, body,
                                 spread_loops(stage, leaf, request.spread));
          continue;
        }
        if (Stmt prefetch = make_prefetch(stage, graph_.bodies.at(&stage), leaf, request, body); prefetch.defined())
          parts.push_back(prefetch);
      }
      parts.push_back(body);
      body = SeqNode::make(parts);
    }
    Stmt loop = ForNode::make(loop_var, make_zero(range.extent.dtype()), range.extent, kind, body, thread_tag);
    // Not a hint: the reduction's init nest (made without pragmas) is tensorized too.
    if (attr && attr->tensorize_wmma) loop = AttrStmtNode::make(kTensorizeWmmaAttr, Expr(1), loop);
    if (attr && with_pragmas)
      for (auto p = attr->pragmas.rbegin(); p != attr->pragmas.rend(); ++p)
        loop = AttrStmtNode::make("pragma_" + p->first, p->second.defined() ? p->second : Expr(1), loop);
    return loop;
  }

  // The leaves from just inside `outer` down to `spread` with their extents (a spread prefetch's
  // loops); te::Error when spread is no longer a leaf inside outer (split, fused or reordered
  // after the prefetch was asked for) or a loop among them is vectorized.
  std::vector<std::pair<IterVar, Expr>> spread_loops(const StageNode& stage, const IterVar& outer,
                                                     const IterVarNode* spread) {
    const std::vector<IterVar>& leaves = stage.leaf_iter_vars;
    size_t first = 0;
    while (first < leaves.size() && leaves[first].get() != outer.get()) ++first;
    std::vector<std::pair<IterVar, Expr>> loops;
    for (size_t j = first + 1; j < leaves.size(); ++j) {
      auto it = stage.iter_var_attrs.find(leaves[j].get());
      if (it != stage.iter_var_attrs.end() && it->second.for_kind == ForKind::kVectorized)
        fail("prefetch: stage ", stage.op->name, ", axis ", outer->var.name(), ": the loops it is spread over (down to ",
             spread->var.name(), ") include the vectorized ", leaves[j]->var.name(),
             "; spread over loops outside the vectorized one");
      loops.emplace_back(leaves[j], bound_of(bounds_, leaves[j], stage).extent);
      if (leaves[j].get() == spread) return loops;
    }
    fail("prefetch: stage ", stage.op->name, ", axis ", outer->var.name(), ": the loop to spread it over, ",
         spread->var.name(), ", is no longer a leaf inside ", outer->var.name(),
         " (split, fused or reordered after the prefetch); spread over one of its inner leaves");
  }

  // The threadIdx bit of a reduction leaf bound to a thread (0 when unbound); binding a
  // reduction to blockIdx or vthread is refused here, with the way out.
  static int reduce_thread_bit(const StageNode& stage, const IterVar& leaf) {
    auto it = stage.iter_var_attrs.find(leaf.get());
    if (it == stage.iter_var_attrs.end() || !it->second.bound_thread.defined()) return 0;
    const std::string& tag = it->second.bound_thread->thread_tag;
    if (tag.rfind("threadIdx.", 0) == 0 && tag.size() == 11 && tag[10] >= 'x' && tag[10] <= 'z')
      return 1 << (tag[10] - 'x');
    if (tag.rfind("blockIdx.", 0) == 0)
      fail("stage ", stage.op->name, ": reduction axis ", leaf->var.name(), " is bound to ", tag,
           "; thread blocks cannot combine their partial results inside one kernel. Bind it to threadIdx "
           "(a cross-thread reduction), or rfactor it first (rf = s.rfactor(", stage.op->name, ", ",
           leaf->var.name(), ")) and bind the rfactor stage's data-parallel copy of the axis instead");
    fail("stage ", stage.op->name, ": reduction axis ", leaf->var.name(), " is bound to ", tag,
         "; a reduction can only be bound to threadIdx.x/y/z (a cross-thread reduction)");
  }

  // red[v][0] = combine(red[v][0], rhs[v]) for every value v of the reducer, all values
  // combined before any store (multi-valued reducers such as argmax read the old pair).
  static Stmt combine_into(const CommReducer& combiner, const std::vector<Var>& red, const std::vector<Expr>& rhs) {
    std::vector<Expr> acc;
    for (size_t v = 0; v < red.size(); ++v) acc.push_back(LoadNode::make(combiner->lhs[v].dtype(), red[v], Expr(0)));
    std::vector<Expr> combined = combiner(acc, rhs);
    if (red.size() == 1) return StoreNode::make(red[0], combined[0], Expr(0));
    std::vector<Var> temps;
    std::vector<Stmt> stores;
    for (size_t v = 0; v < red.size(); ++v) {
      temps.emplace_back(red[v].name() + ".new", combined[v].dtype());
      stores.push_back(StoreNode::make(red[v], temps.back(), Expr(0)));
    }
    Stmt s = SeqNode::make(stores);
    for (size_t v = red.size(); v-- > 0;) s = LetStmtNode::make(temps[v], combined[v], s);
    return s;
  }

  // A reduction with reduce leaves bound to threadIdx (TVM's cross-thread reduction). Inside
  // the data-parallel leaves (in leaf order), every thread folds its share into one-element
  // local buffers (serial reduce leaves innermost), then a kGpuAllreduceAttr statement
  // combines them across the bound threads and stores the outputs (see te/ir.h).
  Stmt make_cross_thread(StageBuild& b, const std::vector<bool>& leaf_reduce, int thread_mask) {
    const std::vector<IterVar>& leaves = b.stage->leaf_iter_vars;
    const std::string& name = b.op->name;
    // New loop order: data-parallel leaves, then thread-bound reduce leaves, then serial ones.
    std::vector<size_t> common, reduce_order;
    for (size_t j = 0; j < leaves.size(); ++j)
      if (!leaf_reduce[j]) common.push_back(j);
    for (bool bound_pass : {true, false})
      for (size_t j = 0; j < leaves.size(); ++j)
        if (leaf_reduce[j] && (reduce_thread_bit(*b.stage, leaves[j]) != 0) == bound_pass) reduce_order.push_back(j);
    // A stage attached at a leaf had its region inferred with the leaves up to it fixed; they
    // must still enclose it in the new order.
    std::vector<size_t> order = common;
    order.insert(order.end(), reduce_order.begin(), reduce_order.end());
    auto stage_attach = attached_.find(b.stage);
    if (stage_attach != attached_.end())
      for (size_t p = 0; p < order.size(); ++p) {
        if (!stage_attach->second.count(leaves[order[p]].get())) continue;
        for (size_t j = 0; j <= order[p]; ++j)
          if (std::find(order.begin(), order.begin() + p + 1, j) == order.begin() + p + 1)
            fail("compute_at: a stage is attached at axis ", leaves[order[p]]->var.name(), " of stage ", name,
                 ", whose reduction is bound to threadIdx (a cross-thread reduction). Its loops run as data-parallel "
                 "axes first, then thread-bound reduction axes, then serial reduction axes, so axis ",
                 leaves[j]->var.name(), " no longer encloses the attach point; reorder the stage that way or "
                 "attach elsewhere");
      }
    IterVarValueMap leaf_offsets;
    for (const IterVar& leaf : leaves) leaf_offsets[leaf.get()] = leaf->var;
    IterVarValueMap root_index = pass_up_index(*b.stage, bounds_, leaf_offsets, b.ranges);
    IterVarValueMap offsets = pass_up_offsets(*b.stage, bounds_, leaf_offsets);
    auto values = root_values(b, root_index);
    const auto* reduce = b.body[0].as<ReduceNode>();
    const CommReducer& combiner = reduce->combiner;
    size_t num_values = combiner->lhs.size();
    std::vector<Var> red, other;
    std::vector<Stmt> pairs, inits;
    std::vector<Expr> sources, other_loads;
    for (size_t v = 0; v < num_values; ++v) {
      DataType t = combiner->lhs[v].dtype();
      std::string suffix = num_values == 1 ? "" : std::to_string(v);
      red.emplace_back(name + ".red" + suffix, DataType::handle());
      other.emplace_back(name + ".other" + suffix, DataType::handle());
      pairs.push_back(StoreNode::make(other[v], LoadNode::make(t, red[v], Expr(0)), Expr(0)));
      inits.push_back(StoreNode::make(red[v], combiner->identity[v], Expr(0)));
      sources.push_back(simplify(substitute(reduce->source[v], values), b.ranges));
      other_loads.push_back(LoadNode::make(t, other[v], Expr(0)));
    }
    // Each thread's partial: the thread-bound reduce leaves, then the serial ones.
    Stmt update = combine_into(combiner, red, sources);
    if (reduce->condition.defined() && !is_one(reduce->condition)) {
      Expr cond = simplify(substitute(reduce->condition, values), b.ranges);
      if (!is_one(cond)) update = IfThenElseNode::make(cond, update);
    }
    update = guard(guards(b, root_index, offsets, b.ranges, true), update);
    Stmt partial = SeqNode::make({SeqNode::make(inits), nest_order(b, reduce_order, 0, update)});
    // The outputs, from the combined value every thread now holds.
    IterVarValueMap dp_offsets;
    for (size_t j = 0; j < leaves.size(); ++j)
      if (!leaf_reduce[j]) dp_offsets[leaves[j].get()] = leaves[j]->var;
    IterVarValueMap dp_index = pass_up_index(*b.stage, bounds_, dp_offsets, b.ranges);
    IterVarValueMap dp_off = pass_up_offsets(*b.stage, bounds_, dp_offsets);
    std::vector<Expr> indices = output_indices(b, dp_index);
    std::vector<Stmt> stores;
    for (size_t k = 0; k < b.body.size(); ++k) {
      int v = b.body[k].as<ReduceNode>()->value_index;
      stores.push_back(TensorStoreNode::make(stage_storage_op(*b.stage).output(int(k)),
                                             LoadNode::make(combiner->lhs[v].dtype(), red[v], Expr(0)), indices));
    }
    Stmt result = guard(guards(b, dp_index, dp_off, b.ranges, false), SeqNode::make(stores));
    Stmt allreduce = AttrStmtNode::make(
        kGpuAllreduceAttr, Expr(thread_mask),
        SeqNode::make({AttrStmtNode::make(kGpuAllreduceBuffers, Expr(0), SeqNode::make(pairs)),
                       AttrStmtNode::make(kGpuAllreducePartial, Expr(0), partial),
                       AttrStmtNode::make(kGpuAllreduceCombine, Expr(0), combine_into(combiner, red, other_loads)),
                       AttrStmtNode::make(kGpuAllreduceResult, Expr(0), result)}));
    for (size_t v = num_values; v-- > 0;) {
      DataType t = combiner->lhs[v].dtype();
      allreduce = AllocateNode::make(other[v], t, {Expr(1)}, "local", allreduce);
      allreduce = AllocateNode::make(red[v], t, {Expr(1)}, "local", allreduce);
    }
    return nest_order(b, common, 0, allreduce);
  }

  // nest() over the leaves listed in order, with the stages attached at them.
  Stmt nest_order(const StageBuild& b, const std::vector<size_t>& order, size_t p, const Stmt& inner) {
    const std::vector<IterVar>& leaves = b.stage->leaf_iter_vars;
    Stmt level = p == order.size()
                     ? inner
                     : make_loop(*b.stage, leaves[order[p]], leaves[order[p]]->var, nest_order(b, order, p + 1, inner), true);
    if (p == 0) return level;
    auto stage_attach = attached_.find(b.stage);
    if (stage_attach == attached_.end()) return level;
    auto here = stage_attach->second.find(leaves[order[p - 1]].get());
    if (here == stage_attach->second.end()) return level;
    return realize_chain(here->second, level, b.ranges);
  }

  // Conditions that keep tail iterations of non-dividing splits, and points of a
  // compute_at region outside the op's domain, from executing.
  std::vector<Expr> guards(const StageBuild& b, const IterVarValueMap& root_index, const IterVarValueMap& offsets,
                           const VarRangeMap& ranges, bool include_reduce) {
    std::vector<Expr> conds;
    auto add = [&](const Expr& c) {
      Expr simple = simplify(c, ranges);
      if (is_one(simple) || can_prove(simple, ranges)) return;
      conds.push_back(likely(simple));
    };
    for (const Expr& tail : split_tail_conditions(*b.stage, bounds_, offsets, include_reduce)) add(tail);
    for (const IterVar& root : root_iter_vars(*b.stage)) {
      bool reduce = is_reduce_root(*b.stage, root.get());
      auto idx = root_index.find(root.get());
      if (idx == root_index.end()) continue;
      if (!reduce && b.stage->attach_type == AttachType::kScope) {
        add(idx->second >= root->dom.min);
        add(idx->second < root->dom.min + root->dom.extent);
      }
    }
    return conds;
  }

  std::unordered_map<const VarNode*, Expr> root_values(const StageBuild& b, const IterVarValueMap& root_index) {
    std::unordered_map<const VarNode*, Expr> values;
    for (const auto& [root, index] : root_index) values[root->var.get()] = index;
    return values;
  }

  std::vector<Expr> output_indices(const StageBuild& b, const IterVarValueMap& root_index) {
    std::vector<Expr> indices;
    for (const IterVar& axis : b.op->axis) {
      auto it = root_index.find(axis.get());
      TE_ICHECK(it != root_index.end(), "stage ", b.op->name, ": no index for axis ", axis->var.name());
      indices.push_back(it->second);
    }
    return indices;
  }

  Stmt make_store(const StageBuild& b, const IterVarValueMap& root_index, const IterVarValueMap& offsets) {
    std::vector<Expr> indices = output_indices(b, root_index);
    auto values = root_values(b, root_index);
    std::vector<Stmt> stores;
    for (size_t k = 0; k < b.body.size(); ++k)
      stores.push_back(TensorStoreNode::make(stage_storage_op(*b.stage).output(int(k)),
                                             simplify(substitute(b.body[k], values), b.ranges), indices));
    return guard(guards(b, root_index, offsets, b.ranges, false), SeqNode::make(stores));
  }

  Stmt make_update(const StageBuild& b, const IterVarValueMap& root_index, const IterVarValueMap& offsets) {
    std::vector<Expr> indices = output_indices(b, root_index);
    auto values = root_values(b, root_index);
    const auto* reduce = b.body[0].as<ReduceNode>();
    size_t num_values = reduce->combiner->lhs.size();
    TE_ICHECK(reduce->source.size() == num_values, "stage ", b.op->name, ": reducer arity mismatch");
    std::vector<Expr> accumulated, sources;
    for (size_t v = 0; v < num_values; ++v) {
      // Output k holds value body[k].value_index; find the output holding value v.
      int holder = -1;
      for (size_t k = 0; k < b.body.size(); ++k)
        if (b.body[k].as<ReduceNode>()->value_index == int(v)) holder = int(k);
      TE_ICHECK(holder >= 0, "stage ", b.op->name, ": no output holds reduction value ", v);
      accumulated.push_back(TensorReadNode::make(stage_storage_op(*b.stage).output(holder), indices));
      sources.push_back(simplify(substitute(reduce->source[v], values), b.ranges));
    }
    std::vector<Expr> combined = reduce->combiner(accumulated, sources);
    Stmt update;
    if (b.body.size() == 1) {
      update = TensorStoreNode::make(stage_storage_op(*b.stage).output(0), combined.at(reduce->value_index), indices);
    } else {
      // All combined values first, so every store sees the old accumulators.
      std::vector<Var> temps;
      std::vector<Stmt> stores;
      for (size_t k = 0; k < b.body.size(); ++k) {
        int v = b.body[k].as<ReduceNode>()->value_index;
        temps.emplace_back(b.op->name + ".v" + std::to_string(k), combined.at(v).dtype());
        stores.push_back(TensorStoreNode::make(stage_storage_op(*b.stage).output(int(k)), temps.back(), indices));
      }
      update = SeqNode::make(stores);
      for (size_t k = b.body.size(); k-- > 0;)
        update = LetStmtNode::make(temps[k], combined.at(b.body[k].as<ReduceNode>()->value_index), update);
    }
    if (reduce->condition.defined() && !is_one(reduce->condition)) {
      Expr cond = simplify(substitute(reduce->condition, values), b.ranges);
      if (!is_one(cond)) update = IfThenElseNode::make(cond, update);
    }
    return guard(guards(b, root_index, offsets, b.ranges, true), update);
  }

  // identity stores over the data-parallel leaves inside the first reduction leaf, with
  // fresh loop variables (the update nest keeps the leaves' own).
  Stmt make_init(const StageBuild& b) {
    const std::vector<IterVar>& leaves = b.stage->leaf_iter_vars;
    RootSourceMap sources = root_sources(*b.stage);
    IterVarValueMap leaf_offsets;
    VarRangeMap ranges = b.ranges;
    std::vector<std::pair<IterVar, Var>> init_loops;
    for (size_t j = 0; j < leaves.size(); ++j) {
      const IterVar& leaf = leaves[j];
      bool reduce = false;
      for (const IterVarNode* root : sources[leaf.get()]) reduce = reduce || is_reduce_root(*b.stage, root);
      if (reduce) continue;
      if (j < b.reduce_pos) {
        leaf_offsets[leaf.get()] = leaf->var;
        continue;
      }
      Var fresh(leaf->var.name() + ".init", leaf->var.dtype());
      const Range& r = bound_of(bounds_, leaf, *b.stage);
      ranges[fresh.get()] = Range(make_zero(r.extent.dtype()), r.extent);
      leaf_offsets[leaf.get()] = fresh;
      init_loops.emplace_back(leaf, fresh);
    }
    IterVarValueMap root_index = pass_up_index(*b.stage, bounds_, leaf_offsets, ranges);
    IterVarValueMap offsets = pass_up_offsets(*b.stage, bounds_, leaf_offsets);
    std::vector<Expr> indices = output_indices(b, root_index);
    const auto* reduce = b.body[0].as<ReduceNode>();
    std::vector<Stmt> stores;
    for (size_t k = 0; k < b.body.size(); ++k) {
      int v = b.body[k].as<ReduceNode>()->value_index;
      stores.push_back(TensorStoreNode::make(stage_storage_op(*b.stage).output(int(k)), reduce->combiner->identity.at(v), indices));
    }
    Stmt init = guard(guards(b, root_index, offsets, ranges, false), SeqNode::make(stores));
    for (auto it = init_loops.rbegin(); it != init_loops.rend(); ++it)
      init = make_loop(*b.stage, it->first, it->second, init, false);
    return init;
  }

  const Schedule& sch_;
  const BoundMap& bounds_;
  ScheduleGraph graph_;
  std::unordered_map<const StageNode*, AttachMap> attached_;
  std::unordered_set<const StageNode*> placed_;
};

}  // namespace

Stmt schedule_ops(const Schedule& sch, const BoundMap& bounds) {
  if (!sch.defined()) fail("schedule_ops: the schedule is undefined");
  return LoopNestBuilder(sch, bounds).build();
}

}  // namespace te
