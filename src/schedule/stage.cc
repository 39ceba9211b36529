// src/schedule/stage.cc — the Stage primitives: split, fuse, reorder, tile, annotations
// (vectorize/unroll/parallel/bind/pragma) and attachment (compute_at/inline/root). Each one
// validates everything first (so a rejected call leaves the stage untouched), edits the
// stage's IterVar relation graph, and records one Step.
#include <climits>
#include <algorithm>
#include <unordered_set>

#include "te/schedule.h"
#include "schedule/schedule_util.h"

namespace te {

using namespace schedule_detail;

namespace {

const char* type_word(IterVarType t) {
  switch (t) {
    case IterVarType::kDataPar: return "data-parallel";
    case IterVarType::kCommReduce: return "reduction";
    case IterVarType::kThreadIndex: return "thread";
    case IterVarType::kOpaque: return "opaque";
  }
  return "?";
}

// The extent of an axis when the schedule alone fixes it: a root axis of constant range, and
// the splits and fuses of such axes (an upper bound: bound inference may narrow it); -1 when
// it depends on bound inference or a symbolic shape.
int64_t static_extent(const StageNode* stage, const IterVar& iv) {
  if (iv->dom.extent.defined())
    if (const int64_t* c = as_const_int(iv->dom.extent)) return *c;
  for (const IterVarRelation& rel : stage->relations) {
    if (rel.kind == IterVarRelation::kSplit && (rel.outer.same_as(iv) || rel.inner.same_as(iv))) {
      int64_t parent = static_extent(stage, rel.parent);
      if (parent < 0) return -1;
      int64_t divisor = rel.factor > 0 ? rel.factor : rel.nparts;
      int64_t whole = std::min(divisor, parent), parts = (parent + divisor - 1) / divisor;
      bool outer = rel.outer.same_as(iv);
      return rel.factor > 0 ? (outer ? parts : whole) : (outer ? whole : parts);
    }
    if (rel.kind == IterVarRelation::kFuse && rel.fused.same_as(iv)) {
      int64_t a = static_extent(stage, rel.outer), b = static_extent(stage, rel.inner);
      if (a < 0 || b < 0) return -1;
      return b != 0 && a > INT64_MAX / b ? INT64_MAX : a * b;
    }
  }
  return -1;
}

StageNode* checked(const Stage& stage, const char* primitive) {
  if (!stage.defined()) fail(primitive, ": the stage is undefined");
  return stage.get();
}

// A derived axis: same type as its parent, dom left for bound inference.
IterVar derived_axis(const IterVar& like, const std::string& name) {
  return IterVar(Range(), Var(name, like.var().dtype()), like.type());
}

std::pair<IterVar, IterVar> apply_split(StageNode* stage, const IterVar& parent, int64_t factor,
                                        int64_t nparts) {
  int pos = find_axis(stage->leaf_iter_vars, parent);
  TE_ICHECK(pos >= 0, "apply_split on a non-leaf");
  IterVar outer = derived_axis(parent, axis_name(parent) + ".outer");
  IterVar inner = derived_axis(parent, axis_name(parent) + ".inner");
  IterVarRelation rel{IterVarRelation::kSplit, parent, outer, inner, IterVar(), factor, nparts};
  stage->relations.push_back(rel);
  stage->all_iter_vars.push_back(outer);
  stage->all_iter_vars.push_back(inner);
  stage->leaf_iter_vars[pos] = outer;
  stage->leaf_iter_vars.insert(stage->leaf_iter_vars.begin() + pos + 1, inner);
  return {outer, inner};
}

// Checks order names distinct leaves; returns their positions.
std::vector<int> check_reorder(const StageNode* stage, const std::vector<IterVar>& order) {
  std::vector<int> positions;
  for (size_t i = 0; i < order.size(); ++i) {
    positions.push_back(require_leaf(stage, order[i], "reorder"));
    for (size_t j = 0; j < i; ++j)
      if (order[j].same_as(order[i]))
        fail("reorder: axis ", axis_name(order[i]), " appears twice in the order given for stage ",
             stage->op->name, "; name each leaf axis at most once");
  }
  return positions;
}

void apply_reorder(StageNode* stage, const std::vector<IterVar>& order, std::vector<int> positions) {
  std::sort(positions.begin(), positions.end());
  for (size_t i = 0; i < order.size(); ++i) stage->leaf_iter_vars[positions[i]] = order[i];
}

void check_factor(const StageNode* stage, const IterVar& parent, int64_t value, const char* what,
                  const char* primitive) {
  if (value < 1)
    fail(primitive, ": ", what, " for axis ", axis_name(parent), " of stage ", stage->op->name,
         " must be >= 1, got ", value);
  // Loop variables are int32 (as in TVM); a larger factor would wrap in the loop bounds.
  if (value > INT32_MAX)
    fail(primitive, ": ", what, " for axis ", axis_name(parent), " of stage ", stage->op->name,
         " is ", value, "; it must be at most ", INT32_MAX, " because loop extents are 32-bit");
}

void check_not_thread_axis(const StageNode* stage, const IterVar& iv, const char* primitive) {
  if (iv.type() == IterVarType::kThreadIndex)
    fail(primitive, ": axis ", axis_name(iv), " of stage ", stage->op->name,
         " is a thread axis; it cannot be scheduled");
}

// Sets the loop kind of a leaf and records the step.
void annotate(const Stage& handle, const IterVar& iv, ForKind kind, const char* primitive) {
  StageNode* stage = checked(handle, primitive);
  int pos = require_leaf(stage, iv, primitive);
  // rfactor's combining axis may be vectorized (vectorize_loops then combines the lanes in a
  // tree); any other reduction axis would need a reassociation the schedule never asked for.
  auto attr_it = stage->iter_var_attrs.find(iv.get());
  const bool combines_lanes = attr_it != stage->iter_var_attrs.end() && attr_it->second.combines_lanes;
  if ((kind == ForKind::kParallel || (kind == ForKind::kVectorized && !combines_lanes)) &&
      iv.type() == IterVarType::kCommReduce)
    fail(primitive, ": axis ", axis_name(iv), " of stage ", stage->op->name, " is a reduction axis; ",
         primitive, " a data-parallel axis, or rfactor first");
  IterVarAttr& attr = stage->iter_var_attrs[iv.get()];
  attr.for_kind = kind;
  attr.bound_thread = IterVar();
  Step step;
  step.primitive = primitive;
  step.iters = {pos};
  record_step(stage, std::move(step));
}

// Whether consumer reads producer directly or through any chain of other ops.
bool reads_transitively(const Operation& consumer, const OperationNode* producer,
                        std::unordered_set<const OperationNode*>& visited) {
  if (!visited.insert(consumer.get()).second) return false;
  for (const Tensor& input : consumer->input_tensors())
    if (input.op().get() == producer || reads_transitively(input.op(), producer, visited)) return true;
  return false;
}

}  // namespace

std::pair<IterVar, IterVar> Stage::split(const IterVar& parent, int64_t factor) {
  StageNode* stage = checked(*this, "split");
  int pos = require_leaf(stage, parent, "split");
  check_not_thread_axis(stage, parent, "split");
  check_factor(stage, parent, factor, "factor", "split");
  auto result = apply_split(stage, parent, factor, 0);
  Step step;
  step.primitive = "split";
  step.iters = {pos};
  step.ints = {factor};
  record_step(stage, std::move(step));
  return result;
}

std::pair<IterVar, IterVar> Stage::split_nparts(const IterVar& parent, int64_t nparts) {
  StageNode* stage = checked(*this, "split_nparts");
  int pos = require_leaf(stage, parent, "split_nparts");
  check_not_thread_axis(stage, parent, "split_nparts");
  check_factor(stage, parent, nparts, "nparts", "split_nparts");
  auto result = apply_split(stage, parent, 0, nparts);
  Step step;
  step.primitive = "split_nparts";
  step.iters = {pos};
  step.ints = {nparts};
  record_step(stage, std::move(step));
  return result;
}

std::array<IterVar, 4> Stage::tile(const IterVar& x_ref, const IterVar& y_ref, int64_t x_factor,
                                   int64_t y_factor) {
  // Copies: the caller may pass references into leaf_iter_vars, which the splits rewrite.
  const IterVar x = x_ref, y = y_ref;
  StageNode* stage = checked(*this, "tile");
  int x_pos = require_leaf(stage, x, "tile");
  int y_pos = require_leaf(stage, y, "tile");
  if (x.same_as(y))
    fail("tile: x and y are the same axis ", axis_name(x), " of stage ", stage->op->name,
         "; tile needs two different leaf axes");
  check_not_thread_axis(stage, x, "tile");
  check_not_thread_axis(stage, y, "tile");
  check_factor(stage, x, x_factor, "x_factor", "tile");
  check_factor(stage, y, y_factor, "y_factor", "tile");
  auto [xo, xi] = apply_split(stage, x, x_factor, 0);
  auto [yo, yi] = apply_split(stage, y, y_factor, 0);
  std::vector<IterVar> order = {xo, yo, xi, yi};
  apply_reorder(stage, order, check_reorder(stage, order));
  Step step;
  step.primitive = "tile";
  step.iters = {x_pos, y_pos};
  step.ints = {x_factor, y_factor};
  record_step(stage, std::move(step));
  return {xo, yo, xi, yi};
}

IterVar Stage::fuse(const IterVar& outer, const IterVar& inner) {
  StageNode* stage = checked(*this, "fuse");
  int outer_pos = require_leaf(stage, outer, "fuse");
  int inner_pos = require_leaf(stage, inner, "fuse");
  if (inner_pos != outer_pos + 1)
    fail("fuse: axes ", axis_name(outer), " and ", axis_name(inner), " of stage ", stage->op->name,
         " are not adjacent leaves (outer must come immediately before inner; leaves: ",
         axis_list(stage->leaf_iter_vars), ")");
  check_not_thread_axis(stage, outer, "fuse");
  check_not_thread_axis(stage, inner, "fuse");
  if (outer.type() != inner.type())
    fail("fuse: axes ", axis_name(outer), " (", type_word(outer.type()), ") and ", axis_name(inner), " (",
         type_word(inner.type()), ") of stage ", stage->op->name,
         " have different types; a reduction axis can only be fused with another reduction axis");
  DataType t = outer.var().dtype().bits >= inner.var().dtype().bits ? outer.var().dtype() : inner.var().dtype();
  // A fused extent beyond int32 (e.g. 65536 x 65537) needs a 64-bit loop variable; the split
  // and fused axes keep their own types (message_passing.cc converts between them).
  int64_t a = static_extent(stage, outer), b = static_extent(stage, inner);
  if (t.bits < 64 && a > 0 && b > 0 && (a > INT32_MAX / b)) t = DataType::int64();
  IterVar fused(Range(), Var(axis_name(outer) + "." + axis_name(inner) + ".fused", t), outer.type());
  IterVarRelation rel{IterVarRelation::kFuse, IterVar(), outer, inner, fused, 0, 0};
  stage->relations.push_back(rel);
  stage->all_iter_vars.push_back(fused);
  stage->leaf_iter_vars[outer_pos] = fused;
  stage->leaf_iter_vars.erase(stage->leaf_iter_vars.begin() + inner_pos);
  Step step;
  step.primitive = "fuse";
  step.iters = {outer_pos, inner_pos};
  record_step(stage, std::move(step));
  return fused;
}

void Stage::reorder(const std::vector<IterVar>& order) {
  StageNode* stage = checked(*this, "reorder");
  std::vector<int> positions = check_reorder(stage, order);
  apply_reorder(stage, order, positions);
  Step step;
  step.primitive = "reorder";
  step.iters = positions;  // the given order, named by the positions before reordering
  record_step(stage, std::move(step));
}

void Stage::vectorize(const IterVar& iv) { annotate(*this, iv, ForKind::kVectorized, "vectorize"); }
void Stage::unroll(const IterVar& iv) { annotate(*this, iv, ForKind::kUnrolled, "unroll"); }
void Stage::parallel(const IterVar& iv) { annotate(*this, iv, ForKind::kParallel, "parallel"); }

void Stage::bind(const IterVar& iv, const IterVar& thread) {
  StageNode* stage = checked(*this, "bind");
  int pos = require_leaf(stage, iv, "bind");
  if (!thread.defined() || thread.type() != IterVarType::kThreadIndex)
    fail("bind: axis ", axis_name(iv), " of stage ", stage->op->name,
         " must be bound to a thread axis made by te::thread_axis (blockIdx.x, threadIdx.x, vthread...), got ",
         thread.defined() ? axis_name(thread) : std::string("an undefined axis"));
  IterVarAttr& attr = stage->iter_var_attrs[iv.get()];
  attr.for_kind = ForKind::kThreadBinding;
  attr.bound_thread = thread;
  Step step;
  step.primitive = "bind";
  step.iters = {pos};
  step.strs = {thread->thread_tag};
  if (thread.dom().extent.defined()) {
    const int64_t* extent = as_const_int(thread.dom().extent);
    if (extent) step.ints = {*extent};
  }
  record_step(stage, std::move(step));
}

void Stage::pragma(const IterVar& iv, const std::string& key, Expr value) {
  StageNode* stage = checked(*this, "pragma");
  int pos = require_leaf(stage, iv, "pragma");
  if (key.empty()) fail("pragma: empty pragma key on axis ", axis_name(iv), " of stage ", stage->op->name);
  // Steps carry integers only, so a pragma value must be a constant integer to be replayable.
  const int64_t* constant = value.defined() ? as_const_int(value) : nullptr;
  if (!constant)
    fail("pragma: value of pragma '", key, "' on axis ", axis_name(iv), " of stage ", stage->op->name,
         " must be a constant integer");
  stage->iter_var_attrs[iv.get()].pragmas.emplace_back(key, value);
  Step step;
  step.primitive = "pragma";
  step.iters = {pos};
  step.strs = {key};
  step.ints = {*constant};
  record_step(stage, std::move(step));
}

namespace {

// Whether op reads tensor directly or through the ops it reads (inlined stages read through).
bool reads_tensor(const Operation& op, const Tensor& tensor, std::unordered_set<const OperationNode*>& seen) {
  if (!seen.insert(op.get()).second) return false;
  for (const Tensor& input : op->input_tensors())
    if (input == tensor || reads_tensor(input.op(), tensor, seen)) return true;
  return false;
}

}  // namespace

void Stage::prefetch(const Tensor& tensor, const IterVar& iv, int64_t offset, const IterVar& spread) {
  StageNode* stage = checked(*this, "prefetch");
  int pos = require_leaf(stage, iv, "prefetch");
  if (!tensor.defined()) fail("prefetch: the tensor given for stage ", stage->op->name, " is undefined");
  StageNode* tensor_stage = find_stage(owner(stage), tensor.op().get());
  std::unordered_set<const OperationNode*> seen;
  if (!tensor_stage || !reads_tensor(stage->op, tensor, seen))
    fail("prefetch: stage ", stage->op->name, " does not read tensor ", tensor.op()->name,
         "; prefetch a tensor the stage's computation reads (directly or through inlined stages)");
  if (offset < 1)
    fail("prefetch: offset ", offset, " on axis ", axis_name(iv), " of stage ", stage->op->name,
         " must be >= 1 (the number of iterations ahead to prefetch)");
  int spread_pos = -1;
  if (spread.defined()) {
    spread_pos = require_leaf(stage, spread, "prefetch");
    if (spread_pos <= pos)
      fail("prefetch: the loop to spread over, ", axis_name(spread), ", is not inside ", axis_name(iv), " in stage ",
           stage->op->name, "; give a leaf that comes after ", axis_name(iv), " in the loop order");
  }
  IterVarAttr& attr = stage->iter_var_attrs[iv.get()];
  attr.prefetches.push_back({tensor_stage, tensor->value_index, offset, spread.get()});
  Step step;
  step.primitive = "prefetch";
  step.iters = {pos};
  if (spread_pos >= 0) step.iters.push_back(spread_pos);
  step.ints = {offset, tensor->value_index};
  step.target_stage = stage_index(owner(stage), tensor_stage);
  record_step(stage, std::move(step));
}

void Stage::storage_align(const IterVar& axis, int64_t factor, int64_t offset) {
  StageNode* stage = checked(*this, "storage_align");
  const auto* compute = stage->op.as<ComputeOpNode>();
  if (!compute) fail("storage_align: stage ", stage->op->name, " is not a compute stage");
  if (!axis.defined()) fail("storage_align: the axis given for stage ", stage->op->name, " is undefined");
  int dim = find_axis(compute->axis, axis);
  if (dim < 0)
    fail("storage_align: axis ", axis_name(axis), " is not a data-parallel axis of stage ", stage->op->name,
         "'s op (axes: ", axis_list(compute->axis), "); pass s[", stage->op->name, "].op.axis[i]");
  if (factor < 1) fail("storage_align: factor ", factor, " for stage ", stage->op->name, " must be >= 1");
  if (offset < 0 || offset >= factor)
    fail("storage_align: offset ", offset, " for stage ", stage->op->name, " must be in [0, factor = ", factor, ")");
  std::vector<StorageAlign>& aligns = stage->storage_aligns;
  bool replaced = false;
  for (StorageAlign& a : aligns)
    if (a.dim == dim) a = StorageAlign{dim, factor, offset}, replaced = true;
  if (!replaced) aligns.push_back(StorageAlign{dim, factor, offset});
  Step step;
  step.primitive = "storage_align";
  step.ints = {dim, factor, offset};
  record_step(stage, std::move(step));
}

namespace {

// The checks double_buffer and pipeline share; `primitive` names the call in the messages.
StageNode* buffered_stage(const Stage& s, const char* primitive) {
  StageNode* stage = checked(s, primitive);
  if (!stage->op.as<ComputeOpNode>())
    fail(primitive, ": stage ", stage->op->name, " is a placeholder; buffer its shared-memory copy, ",
         "made by s.cache_read(", stage->op->name, ", \"shared\", readers)");
  if (stage->scope != "shared")
    fail(primitive, ": stage ", stage->op->name, " has storage scope '", stage->scope,
         "'; only a shared-memory stage can be double-buffered or pipelined (make one with cache_read(tensor, ",
         "\"shared\", readers) and compute_at it at the readers' loop over k blocks)");
  return stage;
}

}  // namespace

void Stage::double_buffer() {
  StageNode* stage = buffered_stage(*this, "double_buffer");
  stage->double_buffer = true;
  stage->pipeline_stages = 2;
  Step step;
  step.primitive = "double_buffer";
  record_step(stage, std::move(step));
}

void Stage::pipeline(int64_t stages) {
  StageNode* stage = buffered_stage(*this, "pipeline");
  if (stages < 2 || stages > 8)
    fail("pipeline: stage ", stage->op->name, ": ", stages, " stages; expected 2 to 8 (the buffers of the shared tile; ",
         "each is a copy of it in shared memory)");
  stage->double_buffer = true;
  stage->pipeline_stages = stages;
  Step step;
  step.primitive = "pipeline";
  step.ints = {stages};
  record_step(stage, std::move(step));
}

void Stage::tensorize(const IterVar& iv, const std::string& intrinsic) {
  StageNode* stage = checked(*this, "tensorize");
  int pos = require_leaf(stage, iv, "tensorize");
  if (intrinsic != "wmma")
    fail("tensorize: unknown intrinsic '", intrinsic, "' for axis ", axis_name(iv), " of stage ", stage->op->name,
         "; the one built in is \"wmma\" (16 x 16 x 16 tensor-core tiles on target cuda)");
  IterVarAttr& attr = stage->iter_var_attrs[iv.get()];
  if (attr.bound_thread.defined() || attr.for_kind != ForKind::kSerial)
    fail("tensorize: axis ", axis_name(iv), " of stage ", stage->op->name,
         " is bound, vectorized, unrolled or parallel; tensorize a plain serial loop (the tile's outer axis)");
  attr.tensorize_wmma = true;
  Step step;
  step.primitive = "tensorize";
  step.iters = {pos};
  step.strs = {intrinsic};
  record_step(stage, std::move(step));
}

void Stage::compute_at(const Stage& parent, const IterVar& scope) {
  StageNode* stage = checked(*this, "compute_at");
  if (!parent.defined()) fail("compute_at: the parent stage of ", stage->op->name, " is undefined");
  ScheduleNode* sch = owner(stage);
  if (parent->schedule != sch)
    fail("compute_at: stage ", parent->op->name, " belongs to another schedule than ", stage->op->name);
  if (parent.get() == stage)
    fail("compute_at: stage ", stage->op->name, " cannot be computed at itself");
  if (stage->is_output)
    fail("compute_at: stage ", stage->op->name, " is an output; an output must keep its own loop nest");
  if (stage->op.as<PlaceholderOpNode>())
    fail("compute_at: stage ", stage->op->name, " is a placeholder; it is an input and is not computed");
  int scope_pos = require_leaf(parent.get(), scope, "compute_at");
  // A stage read through others (a shared tile copied into wmma fragments that are computed
  // inside the same consumer) may be attached at the outer consumer: bound inference then
  // checks that every reader is computed inside the attach point.
  std::unordered_set<const OperationNode*> visited;
  if (!reads_transitively(parent->op, stage->op.get(), visited))
    fail("compute_at: stage ", parent->op->name, " does not read ", stage->op->name,
         "; a stage can only be computed at one of its consumers (or at a stage whose inputs read it)");
  stage->attach_type = AttachType::kScope;
  stage->attach_stage = parent.get();
  stage->attach_ivar = scope;
  Step step;
  step.primitive = "compute_at";
  step.target_stage = stage_index(sch, parent.get());
  step.target_iter = scope_pos;
  record_step(stage, std::move(step));
}

void Stage::compute_inline() {
  StageNode* stage = checked(*this, "compute_inline");
  const auto* compute = stage->op.as<ComputeOpNode>();
  if (!compute) fail("compute_inline: stage ", stage->op->name, " is a placeholder; only computes can be inlined");
  if (stage->is_output)
    fail("compute_inline: stage ", stage->op->name, " is an output; an output cannot be inlined");
  if (!compute->reduce_axis.empty())
    fail("compute_inline: stage ", stage->op->name,
         " is a reduction; only element-wise computes can be inlined (use compute_at instead)");
  auto attached = stages_attached_to(owner(stage), stage);
  if (!attached.empty())
    fail("compute_inline: stage ", attached.front()->op->name, " is computed at an axis of ", stage->op->name,
         "; move it (compute_root/compute_at) before inlining ", stage->op->name);
  stage->attach_type = AttachType::kInline;
  stage->attach_stage = nullptr;
  stage->attach_ivar = IterVar();
  Step step;
  step.primitive = "compute_inline";
  record_step(stage, std::move(step));
}

void Stage::compute_root() {
  StageNode* stage = checked(*this, "compute_root");
  if (stage->op.as<PlaceholderOpNode>())
    fail("compute_root: stage ", stage->op->name, " is a placeholder; it is an input and is not computed");
  stage->attach_type = AttachType::kRoot;
  stage->attach_stage = nullptr;
  stage->attach_ivar = IterVar();
  Step step;
  step.primitive = "compute_root";
  record_step(stage, std::move(step));
}

}  // namespace te
