// Features of a lowered function: a fixed-length, named vector the cost model learns from.
//
// One walk over the flat IR (LoweredFunc::body) collects a Summary: every memory access with
// the loop nest around it and the stride of its index along each loop, arithmetic counts
// weighted by how often they run, loop kinds, allocations and GPU launch extents. emit()
// turns a Summary into the vector; feature_names() runs emit() on an empty Summary, so names
// and values come from the same code and cannot drift apart.
//
// Scaling: counts, extents and bytes are log2(1 + x) (tree models split on them anyway, and
// the log keeps 1e9-flop kernels and 1e3-flop kernels on one scale); flags are 0/1; depths
// and positions are raw. Bump kFeatureVersion (features.h) whenever this list changes.
#include "te/autotune/features.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "te/ir_functor.h"

namespace te::autotune {
namespace {

constexpr int kInnerLoops = 4;        // innermost loop extents recorded for the main nest
constexpr int kOuterLoops = 2;        // outermost loop extents recorded for the main nest
constexpr int kBuffers = 5;           // buffers described one by one (largest traffic first)
constexpr int kFootprintLevels = 4;   // footprints of the innermost 1..4 loops (+ whole nest)
constexpr double kUnknownExtent = 1;  // a loop whose extent has no constant bound counts once

double log_scale(double x) { return std::log2(1.0 + std::max(0.0, x)); }

// A constant upper bound of an extent: tails of non-divisible splits are min(c, expr).
bool const_upper_bound(const Expr& e, double* out) {
  if (const int64_t* v = as_const_int(e)) {
    *out = double(*v);
    return true;
  }
  BinaryOperands ops = binary_operands(e);
  if (!ops.a) return false;
  double a = 0, b = 0;
  bool ka = const_upper_bound(*ops.a, &a), kb = const_upper_bound(*ops.b, &b);
  switch (e->kind) {
    case ExprKind::Min:
      if (ka && kb) *out = std::min(a, b);
      else if (ka || kb) *out = ka ? a : b;
      return ka || kb;
    case ExprKind::Max: *out = std::max(a, b); return ka && kb;
    case ExprKind::Add: *out = a + b; return ka && kb;
    case ExprKind::Mul: *out = a * b; return ka && kb;
    default: return false;
  }
}

struct Loop {
  const VarNode* var = nullptr;  // nullptr: the lanes of a vector access
  double extent = 1;
  ForKind kind = ForKind::kSerial;
  int id = -1;  // which For node (several accesses share it)
};

// Coefficients of an index expression in each variable: index ≈ Σ coef[v] * v + const.
// floordiv/floormod and non-constant products are approximated (dependence is what matters).
using Coefficients = std::unordered_map<const VarNode*, double>;
using LetValues = std::unordered_map<const VarNode*, Expr>;

void add_scaled(Coefficients& into, const Coefficients& from, double scale) {
  for (const auto& [var, c] : from) into[var] += c * scale;
}

Coefficients coefficients(const Expr& e, const LetValues& lets, int depth = 0) {
  Coefficients out;
  if (!e.defined() || depth > 64) return out;
  if (const auto* v = e.as<VarNode>()) {
    auto it = lets.find(v);
    if (it != lets.end()) return coefficients(it->second, lets, depth + 1);
    out[v] = 1;
    return out;
  }
  if (const auto* c = e.as<CastNode>()) return coefficients(c->value, lets, depth + 1);
  if (const auto* b = e.as<BroadcastNode>()) return coefficients(b->value, lets, depth + 1);
  BinaryOperands ops = binary_operands(e);
  if (ops.a) {
    Coefficients a = coefficients(*ops.a, lets, depth + 1), b = coefficients(*ops.b, lets, depth + 1);
    const int64_t* cb = as_const_int(*ops.b);
    const int64_t* ca = as_const_int(*ops.a);
    switch (e->kind) {
      case ExprKind::Add: add_scaled(a, b, 1); return a;
      case ExprKind::Sub: add_scaled(a, b, -1); return a;
      case ExprKind::Mul:
        if (cb) return (add_scaled(out, a, double(*cb)), out);
        if (ca) return (add_scaled(out, b, double(*ca)), out);
        break;
      case ExprKind::Div:
      case ExprKind::FloorDiv:
        if (cb && *cb != 0) return (add_scaled(out, a, 1.0 / double(*cb)), out);
        break;
      case ExprKind::Mod:
      case ExprKind::FloorMod:
        if (cb) return a;  // stride kept; the wrap-around is ignored
        break;
      default: break;
    }
    // Anything else: the index depends on both sides with unknown strides (take 1).
    for (const auto& [var, c] : b) a[var] = a.count(var) ? a[var] : c;
    return a;
  }
  // Loads (indirect indexing), selects, calls: dependence only, unit stride.
  post_order_visit(e, [&](const Expr& x) {
    if (const auto* v = x.as<VarNode>(); v && !lets.count(v)) out.emplace(v, 1.0);
  });
  return out;
}

struct Access {
  const VarNode* buffer = nullptr;
  int element_bytes = 4;
  bool is_store = false;
  std::vector<Loop> loops;      // outermost first; a vector access ends with its lanes
  std::vector<double> strides;  // elements per iteration of each loop
  double trips = 1;             // how many elements the access touches in total
  bool accumulates = false;     // a store whose value reads the same buffer
};

// Distinct elements the access touches while the innermost `levels` loops run.
double footprint_elements(const Access& a, size_t levels) {
  size_t first = a.loops.size() > levels ? a.loops.size() - levels : 0;
  double product = 1, span = 1;
  for (size_t i = first; i < a.loops.size(); ++i) {
    if (a.strides[i] == 0) continue;
    product *= a.loops[i].extent;
    span += std::abs(a.strides[i]) * (a.loops[i].extent - 1);
  }
  return std::max(1.0, std::min(product, span));
}

struct BufferInfo {
  std::string name;
  int first_seen = 0;
  double size_bytes = 0;  // allocation or argument size
  int scope = 0;          // 0 global (argument), 1 local, 2 shared
};

// Everything the walk learns; emit() turns it into features.
struct Summary {
  std::vector<Access> accesses;
  std::unordered_map<const VarNode*, BufferInfo> buffers;
  int loop_count = 0, max_depth = 0, symbolic_extents = 0;
  double loops_of_kind[5] = {0, 0, 0, 0, 0};  // indexed by ForKind
  double vector_stores = 0, max_lanes = 1, max_seq_in_loop = 0;
  double guards = 0, guard_trips = 0, barriers = 0;
  // Arithmetic, trip-weighted and lane-weighted (scalar operations executed).
  double float_add = 0, float_mul = 0, float_fma = 0, float_div = 0, float_math = 0,
         float_cmp = 0, int_add = 0, int_mul = 0, int_divmod = 0, int_cmp = 0, selects = 0,
         casts = 0;
  double alloc_count = 0, local_bytes = 0, shared_bytes = 0, global_alloc_bytes = 0;
  std::unordered_map<std::string, double> thread_extents;  // "threadIdx.x" → extent
  std::unordered_map<int, int> stores_per_loop;             // innermost For id → stores in it
  bool is_gpu = false;
  double num_threads = 0;
};

class Collector : public IRVisitor {
 public:
  explicit Collector(Summary* out) : out_(out) {}
  using IRVisitor::visit;

  void visit(const Expr& e) override {
    if (!e.defined()) return;
    count_arithmetic(e);
    IRVisitor::visit(e);
  }

 protected:
  void visit_node(const ForNode* op) override {
    visit(op->min);
    visit(op->extent);
    double extent = kUnknownExtent;
    if (!const_upper_bound(op->extent, &extent)) ++out_->symbolic_extents;
    extent = std::max(0.0, extent);
    ++out_->loop_count;
    out_->loops_of_kind[int(op->for_kind)] += 1;
    if (op->for_kind == ForKind::kThreadBinding) {
      double& seen = out_->thread_extents[op->thread_tag];
      seen = std::max(seen, extent);
    }
    loops_.push_back(Loop{op->loop_var.get(), extent, op->for_kind, next_loop_id_++});
    double outer_trips = trips_;
    trips_ *= extent;
    out_->max_depth = std::max(out_->max_depth, int(loops_.size()));
    visit(op->body);
    trips_ = outer_trips;
    loops_.pop_back();
  }
  void visit_node(const LetStmtNode* op) override {
    visit(op->value);
    lets_[op->var.get()] = op->value;
    visit(op->body);
  }
  void visit_node(const LetNode* op) override {
    visit(op->value);
    lets_[op->var.get()] = op->value;
    visit(op->body);
  }
  void visit_node(const AttrStmtNode* op) override {
    if (op->key == "gpu_barrier") out_->barriers += trips_;
    IRVisitor::visit_node(op);
  }
  void visit_node(const IfThenElseNode* op) override {
    ++out_->guards;
    out_->guard_trips += trips_;
    IRVisitor::visit_node(op);
  }
  void visit_node(const SeqNode* op) override {
    if (!loops_.empty()) out_->max_seq_in_loop = std::max(out_->max_seq_in_loop, double(op->seq.size()));
    IRVisitor::visit_node(op);
  }
  void visit_node(const AllocateNode* op) override {
    double elements = 1;
    for (const Expr& e : op->extents) {
      double v = kUnknownExtent;
      const_upper_bound(e, &v);
      elements *= v;
    }
    double bytes = elements * op->dtype.bytes() * op->dtype.lanes;
    int scope = op->scope == "shared" ? 2 : op->scope == "local" ? 1 : 0;
    out_->buffers[op->buffer.get()] = BufferInfo{op->buffer.name(), int(out_->buffers.size()), bytes, scope};
    ++out_->alloc_count;
    (scope == 2 ? out_->shared_bytes : scope == 1 ? out_->local_bytes : out_->global_alloc_bytes) += bytes;
    IRVisitor::visit_node(op);
  }
  void visit_node(const LoadNode* op) override {
    record_access(op->buffer, op->dtype, op->index, false, false);
    IRVisitor::visit_node(op);
  }
  void visit_node(const StoreNode* op) override {
    bool accumulates = false;
    post_order_visit(op->value, [&](const Expr& x) {
      if (const auto* load = x.as<LoadNode>(); load && load->buffer.same_as(op->buffer)) accumulates = true;
    });
    DataType t = op->value.dtype();
    if (t.lanes > 1) out_->vector_stores += 1;
    record_access(op->buffer, t, op->index, true, accumulates);
    int innermost = loops_.empty() ? -1 : loops_.back().id;
    ++out_->stores_per_loop[innermost];
    IRVisitor::visit_node(op);
  }

 private:
  void record_access(const Var& buffer, DataType t, const Expr& index, bool is_store, bool accumulates) {
    Access a;
    a.buffer = buffer.get();
    a.element_bytes = t.bytes();
    a.is_store = is_store;
    a.accumulates = accumulates;
    a.loops = loops_;
    Expr base = index;
    double lane_stride = 0;
    if (const auto* ramp = index.as<RampNode>()) {
      base = ramp->base;
      const int64_t* s = as_const_int(ramp->stride);
      lane_stride = s ? double(*s) : 1;
    } else if (const auto* bc = index.as<BroadcastNode>()) {
      base = bc->value;
    }
    Coefficients coef = coefficients(base, lets_);
    for (const Loop& l : loops_) {
      auto it = coef.find(l.var);
      a.strides.push_back(it == coef.end() ? 0.0 : it->second);
    }
    if (t.lanes > 1) {
      a.loops.push_back(Loop{nullptr, double(t.lanes), ForKind::kVectorized, -1});
      a.strides.push_back(lane_stride);
      out_->max_lanes = std::max(out_->max_lanes, double(t.lanes));
    }
    a.trips = trips_ * t.lanes;
    if (!out_->buffers.count(a.buffer))
      out_->buffers[a.buffer] = BufferInfo{buffer.name(), int(out_->buffers.size()), 0, 0};
    out_->accesses.push_back(std::move(a));
  }

  void count_arithmetic(const Expr& e) {
    double w = trips_ * e.dtype().lanes;
    bool f = e.dtype().is_float();
    switch (e->kind) {
      case ExprKind::Add:
      case ExprKind::Sub: {
        if (!f) {
          out_->int_add += w;
          break;
        }
        // a*b + c is one fused multiply-add for LLVM and NVCC (fp-contract): count it once.
        BinaryOperands ops = binary_operands(e);
        const Expr* mul = (*ops.a)->kind == ExprKind::Mul ? ops.a : (*ops.b)->kind == ExprKind::Mul ? ops.b : nullptr;
        if (mul) {
          out_->float_fma += w;
          fused_.insert(mul->get());
        } else {
          out_->float_add += w;
        }
        break;
      }
      case ExprKind::Mul:
        if (!f) out_->int_mul += w;
        else if (!fused_.count(e.get())) out_->float_mul += w;
        break;
      case ExprKind::Div:
      case ExprKind::Mod:
      case ExprKind::FloorDiv:
      case ExprKind::FloorMod: (f ? out_->float_div : out_->int_divmod) += w; break;
      case ExprKind::Min:
      case ExprKind::Max:
      case ExprKind::EQ:
      case ExprKind::NE:
      case ExprKind::LT:
      case ExprKind::LE:
      case ExprKind::GT:
      case ExprKind::GE: {
        bool float_operands = (*binary_operands(e).a).dtype().is_float();
        (float_operands ? out_->float_cmp : out_->int_cmp) += w;
        break;
      }
      case ExprKind::Select: out_->selects += w; break;
      case ExprKind::Cast: out_->casts += w; break;
      case ExprKind::Call: {
        Intrinsic op = e.as<CallNode>()->op;
        if (op == Intrinsic::kFma) out_->float_fma += w;
        else if (op == Intrinsic::kWmmaMma) out_->float_fma += w * 16 * 16 * 16;  // one 16x16x16 tile
        else if (is_wmma(op) || is_async_copy(op)) break;  // a cp_async's source Load counts as a read
        else if (op == Intrinsic::kIfThenElse) out_->selects += w;
        else if (op != Intrinsic::kLikely && op != Intrinsic::kPrefetch) out_->float_math += w;
        break;
      }
      default: break;
    }
  }

  Summary* out_;
  std::vector<Loop> loops_;
  double trips_ = 1;
  int next_loop_id_ = 0;
  LetValues lets_;
  std::unordered_set<const ExprNode*> fused_;
};

// Writes features in order; the names-only pass and the values pass share emit().
struct Writer {
  std::vector<std::string>* names = nullptr;
  std::vector<float>* values = nullptr;
  void add(const std::string& name, double value) {
    if (names) names->push_back(name);
    if (values) values->push_back(float(value));
  }
  void add_log(const std::string& name, double value) { add(name, log_scale(value)); }
};

// Per-buffer aggregate over its accesses.
struct BufferFeatures {
  const VarNode* buffer = nullptr;
  BufferInfo info;
  double bytes = 0, accesses = 0;
  double footprint[kFootprintLevels + 1] = {};
  const Access* dominant = nullptr;  // the access touching the most elements
  bool read = false, written = false;
};

std::vector<BufferFeatures> rank_buffers(const Summary& s) {
  std::unordered_map<const VarNode*, BufferFeatures> by_buffer;
  for (const Access& a : s.accesses) {
    BufferFeatures& b = by_buffer[a.buffer];
    b.buffer = a.buffer;
    b.info = s.buffers.at(a.buffer);
    b.bytes += a.trips * a.element_bytes;
    b.accesses += 1;
    (a.is_store ? b.written : b.read) = true;
    for (int l = 0; l <= kFootprintLevels; ++l) {
      size_t levels = l < kFootprintLevels ? size_t(l + 1) : a.loops.size();
      b.footprint[l] = std::max(b.footprint[l], footprint_elements(a, levels) * a.element_bytes);
    }
    if (!b.dominant || a.trips > b.dominant->trips) b.dominant = &a;
  }
  std::vector<BufferFeatures> ranked;
  for (auto& [buffer, b] : by_buffer) ranked.push_back(b);
  std::sort(ranked.begin(), ranked.end(), [](const BufferFeatures& x, const BufferFeatures& y) {
    return x.bytes != y.bytes ? x.bytes > y.bytes : x.info.first_seen < y.info.first_seen;
  });
  return ranked;
}

// The store executed most often (first on ties): its loop nest is "the main nest".
const Access* main_store(const Summary& s) {
  const Access* best = nullptr;
  for (const Access& a : s.accesses)
    if (a.is_store && (!best || a.trips > best->trips)) best = &a;
  return best;
}

void emit(const Summary& s, Writer& w) {
  // --- target: which machine the kernel is for.
  w.add("target.is_gpu", s.is_gpu ? 1 : 0);
  w.add_log("target.num_threads", s.num_threads);

  // --- loop structure: how many loops of which kind, how deep, and the main nest's shape
  // (extents of its innermost and outermost loops; a vector access's lanes count as its
  // innermost loop), parallel extent, vector width, unrolling (unrolled loops are copied
  // into sequences by lowering: their trace is the longest sequence inside a loop and the
  // number of stores in the innermost loop body).
  const Access* main = main_store(s);
  std::vector<Loop> nest = main ? main->loops : std::vector<Loop>{};
  w.add_log("loop.count", s.loop_count);
  w.add("loop.max_depth", s.max_depth);
  w.add_log("loop.num_serial", s.loops_of_kind[int(ForKind::kSerial)]);
  w.add_log("loop.num_parallel", s.loops_of_kind[int(ForKind::kParallel)]);
  w.add_log("loop.num_vectorized", s.loops_of_kind[int(ForKind::kVectorized)] + s.vector_stores);
  w.add_log("loop.num_unrolled", s.loops_of_kind[int(ForKind::kUnrolled)]);
  w.add_log("loop.num_thread_bound", s.loops_of_kind[int(ForKind::kThreadBinding)]);
  w.add_log("loop.symbolic_extents", s.symbolic_extents);
  w.add_log("loop.max_seq_in_loop", s.max_seq_in_loop);
  w.add("main.depth", double(nest.size()));
  w.add_log("main.trips", main ? main->trips : 0);
  for (int i = 0; i < kInnerLoops; ++i) {
    bool have = i < int(nest.size());
    w.add_log("main.inner_extent_" + std::to_string(i + 1), have ? nest[nest.size() - 1 - i].extent : 0);
  }
  for (int i = 0; i < kOuterLoops; ++i)
    w.add_log("main.outer_extent_" + std::to_string(i + 1), i < int(nest.size()) ? nest[i].extent : 0);
  double parallel = 1, unrolled = 1, position_of_parallel = 0;
  bool has_parallel = false;
  for (size_t i = 0; i < nest.size(); ++i) {
    if (nest[i].kind == ForKind::kParallel) {
      if (!has_parallel) position_of_parallel = double(i);
      has_parallel = true;
      parallel *= nest[i].extent;
    }
    if (nest[i].kind == ForKind::kUnrolled) unrolled *= nest[i].extent;
  }
  w.add_log("main.parallel_extent", has_parallel ? parallel : 0);
  w.add("main.parallel_position", position_of_parallel);
  double lanes = (!nest.empty() && nest.back().var == nullptr) ? nest.back().extent : 1;
  w.add_log("main.vector_width", lanes);
  w.add_log("loop.max_vector_width", s.max_lanes);
  w.add_log("main.unrolled_extent", unrolled);
  int innermost_id = -1;
  for (auto it = nest.rbegin(); it != nest.rend(); ++it)
    if (it->var) {
      innermost_id = it->id;
      break;
    }
  auto stores = s.stores_per_loop.find(innermost_id);
  w.add_log("main.stores_in_innermost_body", main && stores != s.stores_per_loop.end() ? stores->second : 0);
  w.add("main.accumulates", main && main->accumulates ? 1 : 0);
  w.add("main.accumulates_locally", main && main->accumulates && s.buffers.at(main->buffer).scope != 0 ? 1 : 0);

  // --- control flow: guards of non-divisible splits, trip-weighted; GPU barriers.
  w.add_log("cond.guards", s.guards);
  w.add_log("cond.guard_trips", s.guard_trips);
  w.add_log("cond.barrier_trips", s.barriers);

  // --- arithmetic: scalar operations executed (trip count × lanes); a*b+c counts as one fma.
  w.add_log("arith.float_add", s.float_add);
  w.add_log("arith.float_mul", s.float_mul);
  w.add_log("arith.float_fma", s.float_fma);
  w.add_log("arith.float_div", s.float_div);
  w.add_log("arith.float_math", s.float_math);
  w.add_log("arith.float_cmp", s.float_cmp);
  w.add_log("arith.int_add", s.int_add);
  w.add_log("arith.int_mul", s.int_mul);
  w.add_log("arith.int_divmod", s.int_divmod);
  w.add_log("arith.int_cmp", s.int_cmp);
  w.add_log("arith.select", s.selects);
  w.add_log("arith.cast", s.casts);

  // --- memory totals and arithmetic intensity (flops per byte moved by loads and stores).
  double loaded = 0, stored = 0, vector_accesses = 0;
  for (const Access& a : s.accesses) {
    (a.is_store ? stored : loaded) += a.trips * a.element_bytes;
    if (!a.loops.empty() && a.loops.back().var == nullptr) vector_accesses += a.trips / a.loops.back().extent;
  }
  double flops = s.float_add + s.float_mul + 2 * s.float_fma + s.float_div + s.float_math;
  w.add_log("mem.load_bytes", loaded);
  w.add_log("mem.store_bytes", stored);
  w.add_log("mem.vector_accesses", vector_accesses);
  w.add_log("mem.flops_per_byte", flops / std::max(1.0, loaded + stored));

  // --- allocations inside the kernel: count and bytes by scope.
  w.add_log("alloc.count", s.alloc_count);
  w.add_log("alloc.local_bytes", s.local_bytes);
  w.add_log("alloc.shared_bytes", s.shared_bytes);
  w.add_log("alloc.global_bytes", s.global_alloc_bytes);

  // --- per buffer, the kBuffers with most traffic, largest first, zeros when fewer:
  // traffic; footprint (distinct bytes touched) while the innermost 1..4 loops run and over
  // the whole nest; reuse (accesses per distinct element); stride along the innermost loop
  // (0: invariant there, kept in a register) and whether the innermost loop that moves the
  // address moves it contiguously; read/written; scope; size.
  std::vector<BufferFeatures> ranked = rank_buffers(s);
  for (int i = 0; i < kBuffers; ++i) {
    std::string p = "buf" + std::to_string(i) + ".";
    bool have = i < int(ranked.size());
    BufferFeatures b = have ? ranked[i] : BufferFeatures{};
    const Access* d = b.dominant;
    w.add_log(p + "bytes", b.bytes);
    w.add_log(p + "accesses", b.accesses);
    for (int l = 0; l < kFootprintLevels; ++l) w.add_log(p + "footprint_inner_" + std::to_string(l + 1), b.footprint[l]);
    w.add_log(p + "footprint_nest", b.footprint[kFootprintLevels]);
    double distinct = d ? footprint_elements(*d, d->loops.size()) : 0;
    w.add_log(p + "reuse", d ? d->trips / distinct : 0);
    double inner_stride = d && !d->strides.empty() ? std::abs(d->strides.back()) : 0;
    double moving = 0;
    if (d)
      for (size_t k = d->strides.size(); k-- > 0;)
        if (d->strides[k] != 0 && d->loops[k].extent > 1) {
          moving = std::abs(d->strides[k]);
          break;
        }
    w.add_log(p + "inner_stride", inner_stride);
    w.add(p + "contiguous", moving == 1 ? 1 : 0);
    w.add(p + "read", b.read ? 1 : 0);
    w.add(p + "written", b.written ? 1 : 0);
    w.add(p + "scope_local", b.info.scope == 1 ? 1 : 0);
    w.add(p + "scope_shared", b.info.scope == 2 ? 1 : 0);
    w.add_log(p + "size_bytes", b.info.size_bytes);
  }

  // --- GPU launch: extents bound to each block/thread axis, block size and grid size.
  double threads = 1, blocks = 1;
  bool any_thread = false;
  for (const char* tag : {"blockIdx.x", "blockIdx.y", "blockIdx.z", "threadIdx.x", "threadIdx.y", "threadIdx.z",
                          "vthread"}) {
    auto it = s.thread_extents.find(tag);
    double extent = it == s.thread_extents.end() ? 0 : it->second;
    w.add_log(std::string("gpu.") + tag, extent);
    if (extent > 0 && tag[0] == 't') threads *= extent;
    if (extent > 0 && tag[0] == 'b') blocks *= extent;
    any_thread = any_thread || extent > 0;
  }
  w.add_log("gpu.threads_per_block", any_thread ? threads : 0);
  w.add_log("gpu.blocks", any_thread ? blocks : 0);
  w.add_log("gpu.shared_bytes_per_block", s.shared_bytes);
}

}  // namespace

const std::vector<std::string>& feature_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    Writer w{&out, nullptr};
    emit(Summary{}, w);
    return out;
  }();
  return names;
}

std::vector<float> extract_features(const LoweredFunc& func, const Target& target) {
  Summary s;
  s.is_gpu = target.kind == "cuda";
  s.num_threads = target.num_threads;
  for (const BufferArg& arg : func.args) {
    double elements = 1;
    for (const Expr& e : arg.shape) {
      double v = kUnknownExtent;
      const_upper_bound(e, &v);
      elements *= v;
    }
    s.buffers[arg.data.get()] = BufferInfo{arg.name, int(s.buffers.size()), elements * arg.dtype.bytes(), 0};
  }
  if (func.body.defined()) Collector(&s).visit(func.body);
  std::vector<float> values;
  Writer w{nullptr, &values};
  emit(s, w);
  TE_ICHECK(values.size() == feature_names().size(), "feature count ", values.size(), " != names ",
            feature_names().size());
  for (float& v : values)
    if (!std::isfinite(v)) v = 0;  // a model must never see NaN/inf from a degenerate loop
  return values;
}

}  // namespace te::autotune
