// tensorize_wmma (see tensorize_wmma.h): each marked 16 x 16 (x 16) nest is matched against
// the four WMMA operations by the scopes of the buffers it stores and loads, its indices are
// split into base + coefficient * loop variable, and the nest becomes one Evaluate(call).
#include "lower/tensorize_wmma.h"

#include <cstdlib>
#include <optional>
#include <unordered_map>

#include "ir/simplify.h"
#include "lower/stage_name.h"
#include "te/expr_ops.h"
#include "te/ir_functor.h"

namespace te {
namespace {

constexpr int64_t kTile = 16;  // m = n = k = 16: the one WMMA shape with float16 inputs on every sm_70+ GPU

struct Fragment {
  std::string name, scope;
  int64_t numel = 0;
  int64_t row = 0;  // W: elements per row of the flat storage, 0 until the first tile is seen
};

// index = base + sum(coeff[v] * vars[v]), the coefficients constant.
struct Affine {
  Expr base;
  std::vector<int64_t> coeff;
};

std::optional<Affine> affine(const Expr& index, const std::vector<Var>& vars, const VarRangeMap& ranges) {
  std::unordered_map<const VarNode*, Expr> at;
  for (const Var& v : vars) at[v.get()] = make_zero(v.dtype());
  Affine a;
  a.base = simplify(substitute(index, at), ranges);
  Expr rebuilt = a.base;
  for (const Var& v : vars) {
    at[v.get()] = make_const(v.dtype(), 1);
    std::optional<int64_t> c = simplify_to_const(substitute(index, at) - a.base, ranges);
    at[v.get()] = make_zero(v.dtype());
    if (!c) return std::nullopt;
    a.coeff.push_back(*c);
    rebuilt = rebuilt + make_const(index.dtype(), double(*c)) * cast(index.dtype(), v);
  }
  std::optional<int64_t> rest = simplify_to_const(index - rebuilt, ranges);
  if (!rest || *rest != 0) return std::nullopt;
  return a;
}

DataType element_type(const LoadNode& load) { return load.dtype; }
DataType element_type(const StoreNode& store) { return store.value.dtype(); }

// The marked nest: loops of extent 16 (extent-1 loops substituted away) around one Store.
struct TileNest {
  std::vector<Var> loops;  // the extent-16 ones, outermost first
  Stmt store;              // the Store, extent-1 loop variables replaced by 0
};

class TensorizeWmma : public IRMutator {
 public:
  // Orientations: a matrix_a / matrix_b buffer whose storage rows are its fragments' columns
  // (B cached as [n, k] from a transposed B), found by a scan of the mma nests first (scan =
  // true: nothing is rewritten), since the loads, which come first, depend on it.
  TensorizeWmma(std::string target_kind, std::unordered_map<const VarNode*, bool>* transposed, bool scan)
      : target_(std::move(target_kind)), transposed_(*transposed), scan_(scan) {}

 protected:
  Stmt mutate_node(const AllocateNode* op, const Stmt& self) override {
    if (!is_wmma_scope(op->scope)) return IRMutator::mutate_node(op, self);
    const std::string name = op->buffer.name();
    if (target_ != "cuda")
      fail("stage ", name, " has storage scope '", op->scope, "', which exists only on target cuda (tensor cores); ",
           "got target ", target_);
    DataType want;
    if (op->scope == "wmma.matrix_a" || op->scope == "wmma.matrix_b")
      want = DataType::float16();
    else if (op->scope == "wmma.accumulator")
      want = DataType::float32();
    else
      fail("stage ", name, ": unknown storage scope '", op->scope,
           "'; the fragment scopes are wmma.matrix_a, wmma.matrix_b and wmma.accumulator");
    if (op->dtype != want)
      fail("stage ", name, " (scope ", op->scope, ") is ", op->dtype.str(),
           "; tensor-core fragments of this scope hold ", want.str(), " (float16 inputs, float32 accumulation)");
    int64_t numel = 1;
    for (const Expr& e : op->extents) {
      const int64_t* n = as_const_int(e);
      if (!n) fail("stage ", name, " (scope ", op->scope, ") has a size that is not constant; fragments need one");
      numel *= *n;
    }
    fragments_[op->buffer.get()] = Fragment{name, op->scope, numel, 0};
    Stmt body = mutate(op->body);
    const Fragment& f = fragments_.at(op->buffer.get());
    if (!scan_ && f.row && numel % (kTile * f.row) != 0)
      fail("stage ", name, " holds ", numel, " elements in rows of ", f.row, ", not a whole number of 16-row blocks");
    return AllocateNode::make(op->buffer, op->dtype, op->extents, op->scope, body);
  }

  Stmt mutate_node(const ForNode* op, const Stmt& self) override {
    ranges_[op->loop_var.get()] = Range(op->min, op->extent);
    Stmt out = IRMutator::mutate_node(op, self);
    ranges_.erase(op->loop_var.get());
    return out;
  }

  Stmt mutate_node(const AttrStmtNode* op, const Stmt& self) override {
    if (op->key != kTensorizeWmmaAttr) return IRMutator::mutate_node(op, self);
    if (target_ != "cuda")
      fail("tensorize: stage ", stage_of(op->body),
           " is tensorized with \"wmma\", which needs target cuda; got target ", target_);
    std::vector<Stmt> nests = split_init(op->body);
    if (scan_) {
      for (const Stmt& n : nests) {
        TileNest nest = parse_nest(n);
        if (nest.loops.size() == 3) mma(nest, stage_of(n));
      }
      return self;
    }
    std::vector<Stmt> calls;
    for (const Stmt& n : nests) calls.push_back(tensorize(n));
    return SeqNode::make(calls);
  }

  // A reduction whose loops are all inside the tensorized axis has its init inside too:
  // for i, j { C = 0; for k { C += A * B } } is two nests, the fill and the mma (each element's
  // init still precedes its updates).
  static std::vector<Stmt> split_init(const Stmt& body) {
    std::vector<const ForNode*> loops;
    Stmt s = body;
    while (const auto* loop = s.as<ForNode>()) loops.push_back(loop), s = loop->body;
    const auto* seq = s.as<SeqNode>();
    if (!seq || seq->seq.size() != 2 || !seq->seq[0].as<StoreNode>() || !seq->seq[1].as<ForNode>()) return {body};
    std::vector<Stmt> nests;
    for (Stmt part : seq->seq) {
      for (auto it = loops.rbegin(); it != loops.rend(); ++it)
        part = ForNode::make((*it)->loop_var, (*it)->min, (*it)->extent, (*it)->for_kind, part, (*it)->thread_tag);
      nests.push_back(part);
    }
    return nests;
  }

  Stmt mutate_node(const StoreNode* op, const Stmt& self) override {
    if (!scan_ && fragments_.count(op->buffer.get())) outside(op->buffer.get(), "written");
    return IRMutator::mutate_node(op, self);
  }
  Expr mutate_node(const LoadNode* op, const Expr& self) override {
    if (!scan_ && fragments_.count(op->buffer.get())) outside(op->buffer.get(), "read");
    return IRMutator::mutate_node(op, self);
  }

 private:
  [[noreturn]] void outside(const VarNode* buffer, const char* how) {
    const Fragment& f = fragments_.at(buffer);
    fail(
        "stage ", f.name, " (scope ", f.scope, ") is ", how, " outside a tensorized tile; a fragment is spread over ",
        "a warp's registers and only wmma operations reach it: tensorize(axis, \"wmma\") the 16 x 16 tile of every ",
        "stage that writes or reads it (the accumulator's reduction, its init included, and the stage copying it out)");
  }

  TileNest parse_nest(const Stmt& body) {
    TileNest nest;
    std::unordered_map<const VarNode*, Expr> unit;
    Stmt s = body;
    while (const auto* loop = s.as<ForNode>()) {
      const int64_t* lo = as_const_int(loop->min);
      const int64_t* n = as_const_int(loop->extent);
      if (!lo || *lo != 0 || !n || (*n != 1 && *n != kTile) || loop->for_kind == ForKind::kThreadBinding ||
          loop->for_kind == ForKind::kVectorized)
        fail("tensorize: stage ", stage_of(body), ": loop ", loop->loop_var.name(), " inside the tensorized axis runs ",
             to_string(loop->extent), " times", loop->for_kind == ForKind::kSerial ? "" : " and is not serial",
             "; a wmma tile is serial loops of extent 16 (split the axes by 16 and tensorize the outer of the "
             "16-wide ones)");
      if (*n == 1)
        unit[loop->loop_var.get()] = make_zero(loop->loop_var.dtype());
      else
        nest.loops.push_back(loop->loop_var);
      s = loop->body;
    }
    if (!s.as<StoreNode>())
      fail("tensorize: stage ", stage_of(body), ": the tensorized tile is not loops around one store (found ",
           s.as<IfThenElseNode>() ? "a boundary guard: a split that does not divide the extent, or a shape that is "
                                    "not a multiple of 16"
                                  : "other statements",
           "); wmma tiles must be whole 16 x 16 blocks");
    nest.store = unit.empty() ? s : substitute(s, unit);
    return nest;
  }

  Stmt tensorize(const Stmt& body) {
    TileNest nest = parse_nest(body);
    const auto* store = nest.store.as<StoreNode>();
    auto dst = fragments_.find(store->buffer.get());
    const std::string stage = stage_of(body);
    if (nest.loops.size() == 3) return mma(nest, stage);
    if (nest.loops.size() != 2)
      fail("tensorize: stage ", stage, ": the tensorized tile has ", nest.loops.size(),
           " loops of extent 16; a wmma copy or init has 2, a multiply-accumulate 3");
    if (dst != fragments_.end()) {
      Fragment& f = dst->second;
      if (f.scope == "wmma.accumulator") {
        if (!is_const(store->value))
          fail("tensorize: stage ", stage, ": a 16 x 16 accumulator tile can only be set to a constant (the ",
               "reduction's init); found ", to_string(store->value), ". A multiply-accumulate needs its 16-long ",
               "reduction loop inside the tensorized axis too (order the loops i, j, k innermost)");
        Expr frag = fragment_number(f, *store, nest.loops, stage);
        return call(Intrinsic::kWmmaFill, {store->buffer, frag, cast(DataType::float32(), store->value)});
      }
      const auto* src = store->value.as<LoadNode>();
      if (!src || fragments_.count(src->buffer.get()))
        fail("tensorize: stage ", stage, " (scope ", f.scope, "): the tile must copy a float16 buffer in shared or ",
             "global memory, found ", to_string(store->value));
      std::vector<Var> rc = fragment_axes(f, *store, nest.loops, stage);
      Expr frag = fragment_number(f, *store, rc, stage);
      auto [offset, ld, col_major] = memory_side(*src, rc, DataType::float16(), stage);
      // The layout of the fragment's rows, not the storage's: flipped for a transposed buffer.
      if (transposed_[store->buffer.get()]) col_major = !col_major;
      return call(Intrinsic::kWmmaLoad, {store->buffer, frag, src->buffer, offset, ld, Expr(col_major ? 1 : 0)});
    }
    // The accumulator tile itself, or rounded to float16 (the fragment converted in registers).
    const auto* src = store->value.as<LoadNode>();
    const auto* rounded = store->value.as<CastNode>();
    if (rounded && rounded->dtype == DataType::float16()) src = rounded->value.as<LoadNode>();
    auto from = src ? fragments_.find(src->buffer.get()) : fragments_.end();
    if (from == fragments_.end() || from->second.scope != "wmma.accumulator")
      fail("tensorize: stage ", stage, ": a tensorized tile that writes memory must copy a wmma.accumulator tile ",
           "unchanged or cast to float16 (found ", to_string(store->value), "); add other epilogues in a later stage");
    Fragment& f = from->second;
    std::vector<Var> rc = fragment_axes(f, *src, nest.loops, stage);
    Expr frag = fragment_number(f, *src, rc, stage);
    const DataType out = store->value.dtype();
    auto [offset, ld, col_major] = memory_side(*store, rc, out, stage);
    return call(Intrinsic::kWmmaStore,
                {store->buffer, offset, ld, Expr(col_major ? 1 : 0), src->buffer, frag, make_zero(out)});
  }

  static bool is_const(const Expr& e) { return e.as<IntImmNode>() || e.as<FloatImmNode>(); }

  static Stmt call(Intrinsic op, std::vector<Expr> args) {
    return EvaluateNode::make(CallNode::make(DataType::int32(), op, std::move(args)));
  }

  template <typename Access>
  Affine affine_of(const Access& access, const std::vector<Var>& vars, const std::string& stage) {
    std::optional<Affine> a = affine(access.index, vars, ranges_);
    if (!a)
      fail("tensorize: stage ", stage, ": the index ", to_string(access.index), " of ", access.buffer.name(),
           " is not affine in the tile's loop variables");
    return *a;
  }

  // The tile's (row, column) loop variables from the fragment side: the column moves by 1.
  template <typename Access>
  std::vector<Var> fragment_axes(const Fragment& f, const Access& access, const std::vector<Var>& loops,
                                 const std::string& stage) {
    Affine a = affine_of(access, loops, stage);
    if (a.coeff[1] == 1) return {loops[0], loops[1]};
    if (a.coeff[0] == 1) return {loops[1], loops[0]};
    fail("tensorize: stage ", stage, ": ", f.name, "'s tile (index ", to_string(access.index),
         ") has no loop over consecutive elements; a fragment tile is 16 rows of 16 consecutive elements");
  }

  // The fragment number of the 16 x 16 block that access covers as rc = (row, column) runs.
  template <typename Access>
  Expr fragment_number(Fragment& f, const Access& access, const std::vector<Var>& rc, const std::string& stage) {
    Affine a = affine_of(access, rc, stage);
    const int64_t row = a.coeff[0];
    if (a.coeff[1] != 1 || row < kTile || row % kTile != 0)
      fail("tensorize: stage ", stage, ": ", f.name, "'s tile (index ", to_string(access.index), ") is not 16 rows of ",
           "16 consecutive elements with a row length that is a multiple of 16 (row step ", row, ", column step ",
           a.coeff[1], ")");
    if (f.row && f.row != row)
      fail("tensorize: stage ", stage, ": ", f.name, " is accessed with rows of ", f.row, " and of ", row,
           " elements; every tile of a fragment buffer must use the same layout");
    f.row = row;
    Expr base = a.base, w = make_const(base.dtype(), double(row)), t = make_const(base.dtype(), double(kTile));
    if (!can_prove(floormod(base, t) == make_zero(base.dtype()), ranges_) ||
        !can_prove(floormod(floordiv(base, w), t) == make_zero(base.dtype()), ranges_))
      fail("tensorize: stage ", stage, ": ", f.name, "'s tile starting at element ", to_string(base),
           " is not provably a 16 x 16 block (row and column multiples of 16); split the axes by 16");
    return simplify(
        floordiv(base, t * w) * make_const(base.dtype(), double(row / kTile)) + floordiv(floormod(base, w), t),
        ranges_);
  }

  struct MemorySide {
    Expr offset, ld;
    bool col_major;
  };
  // The memory operand of a load or store: rc's steps give the layout and leading dimension.
  template <typename Access>
  MemorySide memory_side(const Access& access, const std::vector<Var>& rc, DataType dtype, const std::string& stage) {
    if (fragments_.count(access.buffer.get()) || element_type(access) != dtype)
      fail("tensorize: stage ", stage, ": the memory side of the tile, ", access.buffer.name(), ", must be a ",
           dtype.str(), " buffer in shared or global memory (matrix_a/matrix_b tiles load float16, accumulator tiles ",
           "store float32 or float16)");
    Affine a = affine_of(access, rc, stage);
    bool col_major = a.coeff[1] != 1;
    int64_t ld = col_major ? a.coeff[1] : a.coeff[0];
    if ((col_major && a.coeff[0] != 1) || ld < kTile)
      fail("tensorize: stage ", stage, ": the tile of ", access.buffer.name(), " (index ", to_string(access.index),
           ") is neither row- nor column-major 16 x 16 (steps ", a.coeff[0], ", ", a.coeff[1], ")");
    const int64_t elems_16_bytes = 16 / dtype.bytes(), elems_32_bytes = 32 / dtype.bytes();
    if (ld % elems_16_bytes != 0)
      fail("tensorize: stage ", stage, ": the leading dimension of ", access.buffer.name(), " is ", ld,
           " elements; wmma needs a multiple of 16 bytes (", elems_16_bytes, " elements of ", dtype.str(), ")");
    Expr base = a.base;
    if (!can_prove(floormod(base, make_const(base.dtype(), double(elems_32_bytes))) == make_zero(base.dtype()),
                   ranges_))
      fail("tensorize: stage ", stage, ": the tile of ", access.buffer.name(), " starts at element ", to_string(base),
           ", not provably 32-byte aligned (a multiple of ", elems_32_bytes, " elements) as wmma needs");
    return {base, make_const(base.dtype(), double(ld)), col_major};
  }

  // C[i, j] = C[i, j] + float32(A[i, k]) * float32(B[k, j]), the three loops in any order.
  Stmt mma(const TileNest& nest, const std::string& stage) {
    const auto* store = nest.store.as<StoreNode>();
    auto c = fragments_.find(store->buffer.get());
    const LoadNode *acc = nullptr, *a = nullptr, *b = nullptr;
    if (const auto* add = store->value.as<AddNode>()) {
      for (auto [x, y] : {std::pair{add->a, add->b}, std::pair{add->b, add->a}}) {
        const auto* l = x.as<LoadNode>();
        const auto* mul = y.as<MulNode>();
        if (!l || !mul || !l->buffer.same_as(store->buffer)) continue;
        acc = l;
        for (auto [p, q] : {std::pair{mul->a, mul->b}, std::pair{mul->b, mul->a}}) {
          const auto* pc = p.as<CastNode>();
          const auto* qc = q.as<CastNode>();
          const LoadNode* pl = pc ? pc->value.as<LoadNode>() : nullptr;
          const LoadNode* ql = qc ? qc->value.as<LoadNode>() : nullptr;
          auto pf = pl ? fragments_.find(pl->buffer.get()) : fragments_.end();
          auto qf = ql ? fragments_.find(ql->buffer.get()) : fragments_.end();
          if (pf != fragments_.end() && qf != fragments_.end() && pf->second.scope == "wmma.matrix_a" &&
              qf->second.scope == "wmma.matrix_b")
            a = pl, b = ql;
        }
      }
    }
    if (c == fragments_.end() || c->second.scope != "wmma.accumulator" || !acc || !a || !b)
      fail("tensorize: stage ", stage, ": the 16 x 16 x 16 tile must be C = C + float32(A) * float32(B) with C in ",
           "wmma.accumulator, A in wmma.matrix_a and B in wmma.matrix_b (float16 inputs, cache_read into those ",
           "scopes); found ", store->buffer.name(), "[...] = ", to_string(store->value));
    // Which loop is i, j, k: j steps C by 1, i steps C by its row, k leaves C alone.
    Affine ca = affine_of(*store, nest.loops, stage);
    int i = -1, j = -1, k = -1;
    for (int v = 0; v < 3; ++v) {
      if (ca.coeff[size_t(v)] == 0)
        k = v;
      else if (ca.coeff[size_t(v)] == 1)
        j = v;
      else
        i = v;
    }
    if (i < 0 || j < 0 || k < 0)
      fail("tensorize: stage ", stage, ": the accumulator's index ", to_string(store->index),
           " does not step by rows over one loop, by 1 over another and not at all over the reduction loop");
    const std::vector<Var>& l = nest.loops;
    if (!structural_equal(acc->index, store->index))
      fail("tensorize: stage ", stage, ": the accumulator is read at ", to_string(acc->index), " but written at ",
           to_string(store->index));
    Expr fc = fragment_number(c->second, *store, {l[size_t(i)], l[size_t(j)]}, stage);
    Affine aa = affine_of(*a, {l[size_t(j)]}, stage), ba = affine_of(*b, {l[size_t(i)]}, stage);
    if (aa.coeff[0] != 0 || ba.coeff[0] != 0)
      fail("tensorize: stage ", stage, ": A's tile must not move with j nor B's with i (found ", to_string(a->index),
           " and ", to_string(b->index), ")");
    // A's fragment rows are i and B's are k, each stored as rows or (transposed) as columns.
    const Var &vi = l[size_t(i)], &vj = l[size_t(j)], &vk = l[size_t(k)];
    const bool ta = orient(*a, vi, vk, stage), tb = orient(*b, vk, vj, stage);
    Expr fa = fragment_number(fragments_.at(a->buffer.get()), *a,
                              ta ? std::vector<Var>{vk, vi} : std::vector<Var>{vi, vk}, stage);
    Expr fb = fragment_number(fragments_.at(b->buffer.get()), *b,
                              tb ? std::vector<Var>{vj, vk} : std::vector<Var>{vk, vj}, stage);
    return call(Intrinsic::kWmmaMma, {store->buffer, fc, a->buffer, fa, b->buffer, fb, store->buffer, fc});
  }

  // Whether the fragment (row, col) of read are its storage's (col, row); recorded for the loads.
  bool orient(const LoadNode& read, const Var& row, const Var& col, const std::string& stage) {
    Affine a = affine_of(read, {row, col}, stage);
    const bool transposed = a.coeff[1] != 1 && a.coeff[0] == 1;
    auto [it, fresh] = transposed_.emplace(read.buffer.get(), transposed);
    if (!fresh && it->second != transposed)
      fail("tensorize: stage ", stage, ": ", read.buffer.name(), " is read as rows in one multiply-accumulate and ",
           "as columns in another; a fragment buffer has one orientation");
    return transposed;
  }

  std::string target_;
  std::unordered_map<const VarNode*, bool>& transposed_;
  bool scan_;
  std::unordered_map<const VarNode*, Fragment> fragments_;
  VarRangeMap ranges_;
};

// Whether s has a tensorize mark or a fragment buffer.
bool uses_wmma(const Stmt& s) {
  bool found = false;
  post_order_visit(
      s, [](const Expr&) {},
      [&](const Stmt& st) {
        if (const auto* attr = st.as<AttrStmtNode>()) found = found || attr->key == kTensorizeWmmaAttr;
        if (const auto* alloc = st.as<AllocateNode>()) found = found || is_wmma_scope(alloc->scope);
      });
  return found;
}

}  // namespace

Stmt tensorize_wmma(const Stmt& s, const Target& target) {
  if (!uses_wmma(s)) return s;  // most kernels
  // An arch left to the device is the device's or sm_90: tensor cores.
  const int arch = target.cuda_arch_number();
  if (target.kind == "cuda" && arch != 0 && arch < 70)
    fail("tensorize: tensor cores (wmma) need sm_70 or newer; the target's -arch is ",
         target.arch.empty() ? std::string("sm_") + std::to_string(arch) + " ($TE_CUDA_ARCH)" : target.arch);
  std::unordered_map<const VarNode*, bool> transposed;
  TensorizeWmma(target.kind, &transposed, /*scan=*/true).mutate(s);
  return TensorizeWmma(target.kind, &transposed, /*scan=*/false).mutate(s);
}

}  // namespace te
