// te/ir.h — the loop IR: expressions and statements as immutable nodes with a checked
// make(). One X-macro list of node kinds (TE_EXPR_NODES / TE_STMT_NODES) generates the
// visitor, the mutator, the printer and structural equality (see te/ir_functor.h).
//
// Integer arithmetic semantics (documented once, relied on everywhere):
//   Div / Mod        truncate toward zero, as in C (7 / -2 == -3, -7 % 2 == -1)
//   FloorDiv/FloorMod round toward negative infinity (floordiv(-7, 2) == -4, floormod(-7, 2) == 1)
//   Division by a constant zero is a user error (te::Error) at construction. A zero divisor
//   that only appears at run time gives 0 for all four (x / 0 == x % 0 == 0), and the
//   overflowing INT_MIN / -1 wraps to INT_MIN, so no input value can trap a kernel.
// Type promotion for binary operators (applied by the operator overloads, not by make()):
//   bool < int8 < int16 < int32 < int64 < float16 < float32 < float64, uint8 between int8
//   and int16; mixing two types gives the larger one; an int and a float gives the float;
//   a C++/Python scalar constant adapts to the other operand's type (x_f16 + 1.0 is float16,
//   i_int32 * 2 is int32), except that an integer expression with a floating constant gives
//   float32 (i * 0.5 is float32). make() itself never promotes: operands must already agree.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "te/base.h"

namespace te {

#define TE_EXPR_NODES(X) \
  X(IntImm)              \
  X(FloatImm)            \
  X(Var)                 \
  X(Add)                 \
  X(Sub)                 \
  X(Mul)                 \
  X(Div)                 \
  X(Mod)                 \
  X(FloorDiv)            \
  X(FloorMod)            \
  X(Min)                 \
  X(Max)                 \
  X(EQ)                  \
  X(NE)                  \
  X(LT)                  \
  X(LE)                  \
  X(GT)                  \
  X(GE)                  \
  X(And)                 \
  X(Or)                  \
  X(Not)                 \
  X(Select)              \
  X(Cast)                \
  X(Call)                \
  X(Load)                \
  X(Ramp)                \
  X(Broadcast)           \
  X(Let)                 \
  X(TensorRead)          \
  X(Reduce)

#define TE_STMT_NODES(X) \
  X(LetStmt)             \
  X(AttrStmt)            \
  X(For)                 \
  X(Store)               \
  X(TensorStore)         \
  X(Realize)             \
  X(Allocate)            \
  X(Seq)                 \
  X(IfThenElse)          \
  X(Evaluate)

enum class ExprKind : uint8_t {
#define TE_X(name) name,
  TE_EXPR_NODES(TE_X)
#undef TE_X
};
enum class StmtKind : uint8_t {
#define TE_X(name) name,
  TE_STMT_NODES(TE_X)
#undef TE_X
};
const char* kind_name(ExprKind k);
const char* kind_name(StmtKind k);

struct ExprNode : Node {
  ExprKind kind;
  DataType dtype;
  ExprNode(ExprKind k, DataType t) : kind(k), dtype(t) {}
};
struct StmtNode : Node {
  StmtKind kind;
  explicit StmtNode(StmtKind k) : kind(k) {}
};

// Handle to an immutable expression. Arithmetic operators are declared in te/expr_ops.h.
class Expr : public Ref<const ExprNode> {
 public:
  using Ref<const ExprNode>::Ref;
  Expr() = default;
  Expr(int v);      // NOLINT: int32 constant
  Expr(int64_t v);  // NOLINT: int64 constant
  Expr(float v);    // NOLINT: float32 constant
  Expr(double v);   // NOLINT: float32 constant (TVM's convention for Python floats)
  DataType dtype() const { return get()->dtype; }
  // Checked downcast: nullptr when the node is of another kind.
  template <typename T>
  const T* as() const {
    return (get() && get()->kind == T::kKind) ? static_cast<const T*>(get()) : nullptr;
  }
};

class Stmt : public Ref<const StmtNode> {
 public:
  using Ref<const StmtNode>::Ref;
  Stmt() = default;
  template <typename T>
  const T* as() const {
    return (get() && get()->kind == T::kKind) ? static_cast<const T*>(get()) : nullptr;
  }
};

// ---------------------------------------------------------------- leaves
struct IntImmNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::IntImm;
  int64_t value;
  IntImmNode(DataType t, int64_t v) : ExprNode(kKind, t), value(v) {}
  static Expr make(DataType t, int64_t value);  // t integer or bool; value wrapped to t's bits
};
struct FloatImmNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::FloatImm;
  double value;
  FloatImmNode(DataType t, double v) : ExprNode(kKind, t), value(v) {}
  static Expr make(DataType t, double value);  // t float
};
struct VarNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Var;
  std::string name;  // for printing only; identity is the node's address
  VarNode(DataType t, std::string n) : ExprNode(kKind, t), name(std::move(n)) {}
};

// A variable: loop index, symbolic size, let binding, or buffer pointer (handle dtype).
class Var : public Expr {
 public:
  Var() = default;
  explicit Var(const std::string& name, DataType t = DataType::int32());
  explicit Var(const VarNode* n) : Expr(n) {}
  const VarNode* get() const { return static_cast<const VarNode*>(Expr::get()); }
  const VarNode* operator->() const { return get(); }
  const std::string& name() const { return get()->name; }
};

// ---------------------------------------------------------------- operators
// make() checks operand dtypes are equal (no implicit promotion here; see expr_ops.h).
template <ExprKind K>
struct BinaryNode : ExprNode {
  static constexpr ExprKind kKind = K;
  Expr a, b;
  BinaryNode(DataType t, Expr a_, Expr b_) : ExprNode(K, t), a(std::move(a_)), b(std::move(b_)) {}
  static Expr make(Expr a, Expr b);
};
using AddNode = BinaryNode<ExprKind::Add>;
using SubNode = BinaryNode<ExprKind::Sub>;
using MulNode = BinaryNode<ExprKind::Mul>;
using DivNode = BinaryNode<ExprKind::Div>;
using ModNode = BinaryNode<ExprKind::Mod>;
using FloorDivNode = BinaryNode<ExprKind::FloorDiv>;
using FloorModNode = BinaryNode<ExprKind::FloorMod>;
using MinNode = BinaryNode<ExprKind::Min>;
using MaxNode = BinaryNode<ExprKind::Max>;
// Comparisons: operands of equal dtype; result bool with the operands' lanes.
using EQNode = BinaryNode<ExprKind::EQ>;
using NENode = BinaryNode<ExprKind::NE>;
using LTNode = BinaryNode<ExprKind::LT>;
using LENode = BinaryNode<ExprKind::LE>;
using GTNode = BinaryNode<ExprKind::GT>;
using GENode = BinaryNode<ExprKind::GE>;
// Logical: bool operands.
using AndNode = BinaryNode<ExprKind::And>;
using OrNode = BinaryNode<ExprKind::Or>;

// The two operands of any BinaryNode kind (nullptr pair for other kinds), for code that treats
// all binary operators alike (printer, interpreter) without a cast to the wrong node type.
struct BinaryOperands {
  const Expr* a = nullptr;
  const Expr* b = nullptr;
};
inline BinaryOperands binary_operands(const Expr& e) {
  switch (e->kind) {
#define TE_BINARY_CASE(name)                                              \
  case ExprKind::name: {                                                  \
    const auto* n = static_cast<const BinaryNode<ExprKind::name>*>(e.get()); \
    return {&n->a, &n->b};                                                \
  }
    TE_BINARY_CASE(Add) TE_BINARY_CASE(Sub) TE_BINARY_CASE(Mul) TE_BINARY_CASE(Div)
    TE_BINARY_CASE(Mod) TE_BINARY_CASE(FloorDiv) TE_BINARY_CASE(FloorMod) TE_BINARY_CASE(Min)
    TE_BINARY_CASE(Max) TE_BINARY_CASE(EQ) TE_BINARY_CASE(NE) TE_BINARY_CASE(LT)
    TE_BINARY_CASE(LE) TE_BINARY_CASE(GT) TE_BINARY_CASE(GE) TE_BINARY_CASE(And)
    TE_BINARY_CASE(Or)
#undef TE_BINARY_CASE
    default: return {};
  }
}

struct NotNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Not;
  Expr a;
  NotNode(DataType t, Expr a_) : ExprNode(kKind, t), a(std::move(a_)) {}
  static Expr make(Expr a);
};
// Both branches may be evaluated (no side effects, no out-of-bounds reads): use
// Call(if_then_else) when a branch must not be evaluated, e.g. padding.
struct SelectNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Select;
  Expr condition, true_value, false_value;
  SelectNode(DataType t, Expr c, Expr tv, Expr fv)
      : ExprNode(kKind, t), condition(std::move(c)), true_value(std::move(tv)), false_value(std::move(fv)) {}
  static Expr make(Expr condition, Expr true_value, Expr false_value);
};
struct CastNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Cast;
  Expr value;
  CastNode(DataType t, Expr v) : ExprNode(kKind, t), value(std::move(v)) {}
  static Expr make(DataType t, Expr value);  // lanes of t must match value's
};

// Pure intrinsic calls. An enum, not a string: the call graph stays visible.
enum class Intrinsic : uint8_t {
  kExp, kLog, kSqrt, kRsqrt, kTanh, kSigmoid, kErf, kPow, kAbs, kFloor, kCeil, kRound, kFma,
  kIfThenElse,  // (cond, a, b): only the taken branch is evaluated
  kLikely,      // (cond): a hint that cond is usually true (non-divisible split guards)
  // (v): the lanes of vector v combined into a scalar of v's element type by +, min or max,
  // in a fixed tree order (reduce_lanes_order below). Made only by vectorize_loops for a
  // vectorized reduction axis on the LLVM target: the schedule asked for the reduction's lanes
  // to be reassociated, as rfactor does.
  kReduceAdd, kReduceMin, kReduceMax,
  // (read): a hint to bring the cache line holding the element `read` names (a TensorRead, a
  // scalar Load after storage flattening) into the cache; its value is never used. The one
  // intrinsic with an effect: it appears only as Evaluate(prefetch(...)), made by
  // Stage::prefetch, with an index clamped inside the buffer; llvm.prefetch in the LLVM backend,
  // removed for other targets (strip_prefetch in lower()).
  kPrefetch,
  // Tensor-core (WMMA, m16n16k16) operations on warp fragments, made only by tensorize_wmma
  // (src/lower/tensorize_wmma.h) and printed as nvcuda::wmma calls; each appears as
  // Evaluate(call) returning int32 0 and is run by all 32 lanes of a warp with the same
  // arguments. A fragment operand is (buffer, fragment number): a buffer of scope
  // wmma.matrix_a / wmma.matrix_b / wmma.accumulator holds numel / 256 fragments, fragment f
  // its elements [256 f, 256 f + 256) as a row-major 16 x 16 tile. A memory operand is
  // (buffer, element offset, leading dimension, col_major 0/1).
  kWmmaFill,   // (frag, f, value): every element of the accumulator fragment = value
  kWmmaLoad,   // (frag, f, src, offset, ld, col_major): fragment tile (r, c) = src[offset + r*ld + c] (row-major)
  kWmmaMma,    // (d, fd, a, fa, b, fb, c, fc): d = a x b + c, float16 products summed in float32
  kWmmaStore,  // (dst, offset, ld, col_major, frag, f, zero): dst[offset + r*ld + c] = accumulator tile (r, c),
               // rounded to zero's dtype (float32, or float16: the fragment converted in registers)
  // Asynchronous global-to-shared copies (sm_80's cp.async), made only by inject_double_buffer
  // for double-buffered stages (src/lower/inject_double_buffer.h has the protocol); each appears
  // as Evaluate(call) returning int32 0 and is run by one thread.
  kCpAsync,        // (dst, dst_offset, src, valid): starts copying src — a Load of global memory, one
                   // element or a contiguous vector, 4, 8 or 16 bytes, both sides aligned to that
                   // size — to dst[dst_offset, dst_offset + lanes), dst a shared buffer; zeros
                   // instead (src not read) when valid is false
  kCpAsyncCommit,  // (): the copies this thread started since its last commit become one group
  kCpAsyncWait,    // (n): returns once at most n of this thread's groups are still in flight (the
                   // newest); the others' copies are then in shared memory, for other threads
                   // after the next barrier
};
inline bool is_wmma(Intrinsic op) {
  return op == Intrinsic::kWmmaFill || op == Intrinsic::kWmmaLoad || op == Intrinsic::kWmmaMma ||
         op == Intrinsic::kWmmaStore;
}
inline bool is_async_copy(Intrinsic op) {
  return op == Intrinsic::kCpAsync || op == Intrinsic::kCpAsyncCommit || op == Intrinsic::kCpAsyncWait;
}
// The storage scopes of warp fragments (Stage scopes "wmma.matrix_a", "wmma.matrix_b",
// "wmma.accumulator"): each warp holds one copy, spread over its lanes' registers.
inline bool is_wmma_scope(const std::string& scope) { return scope.rfind("wmma.", 0) == 0; }
// The order in which kReduce* combine n lanes, shared by the interpreter and the code
// generators so all give the same rounding: each step combines lane i with lane i + half for
// i < half (a shuffle tree, log2(n) steps); when a step has an odd number of lanes, the last is
// set aside first; the set-aside lanes are combined into lane 0's result last, in the order
// they were set aside. Returns the steps as (lanes before the step, half) pairs; *odd_lanes
// gets the set-aside lane indices.
std::vector<std::pair<int, int>> reduce_lanes_order(int lanes, std::vector<int>* odd_lanes);
inline bool is_lane_reduction(Intrinsic op) {
  return op == Intrinsic::kReduceAdd || op == Intrinsic::kReduceMin || op == Intrinsic::kReduceMax;
}
const char* intrinsic_name(Intrinsic op);
struct CallNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Call;
  Intrinsic op;
  std::vector<Expr> args;
  CallNode(DataType t, Intrinsic o, std::vector<Expr> a) : ExprNode(kKind, t), op(o), args(std::move(a)) {}
  static Expr make(DataType t, Intrinsic op, std::vector<Expr> args);  // checks arity
};

// Flat memory access, after storage flattening. buffer is a handle Var; index is in elements
// of dtype's element type; a vector index (Ramp) loads dtype.lanes elements.
struct LoadNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Load;
  Var buffer;
  Expr index;
  LoadNode(DataType t, Var b, Expr i) : ExprNode(kKind, t), buffer(std::move(b)), index(std::move(i)) {}
  static Expr make(DataType t, Var buffer, Expr index);
};
// Vector of base + i*stride, i in [0, lanes).
struct RampNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Ramp;
  Expr base, stride;
  int lanes;
  RampNode(DataType t, Expr b, Expr s, int l) : ExprNode(kKind, t), base(std::move(b)), stride(std::move(s)), lanes(l) {}
  static Expr make(Expr base, Expr stride, int lanes);
};
struct BroadcastNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Broadcast;
  Expr value;
  int lanes;
  BroadcastNode(DataType t, Expr v, int l) : ExprNode(kKind, t), value(std::move(v)), lanes(l) {}
  static Expr make(Expr value, int lanes);
};
struct LetNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Let;
  Var var;
  Expr value, body;
  LetNode(DataType t, Var v, Expr val, Expr b) : ExprNode(kKind, t), var(std::move(v)), value(std::move(val)), body(std::move(b)) {}
  static Expr make(Var var, Expr value, Expr body);
};

// ---------------------------------------------------------------- tensor-level nodes
// These exist before storage flattening only.
class Tensor;
class Operation;
class IterVar;

struct Range {
  Expr min, extent;
  Range() = default;
  Range(Expr m, Expr e) : min(std::move(m)), extent(std::move(e)) {}
  // [begin, end): extent = end - begin.
  static Range from_min_extent(Expr min, Expr extent) { return Range(std::move(min), std::move(extent)); }
};

enum class IterVarType : uint8_t {
  kDataPar,      // spatial axis of a compute
  kCommReduce,   // reduction axis
  kThreadIndex,  // blockIdx/threadIdx/vthread (from te::thread_axis)
  kOpaque,       // created by schedule relations, type decided by its parent(s)
};
struct IterVarNode : Node {
  Var var;
  Range dom;  // may be undefined for axes made by split/fuse until bound inference
  IterVarType type;
  std::string thread_tag;  // "threadIdx.x", ... for kThreadIndex
  IterVarNode(Var v, Range d, IterVarType t, std::string tag)
      : var(std::move(v)), dom(std::move(d)), type(t), thread_tag(std::move(tag)) {}
};
class IterVar : public Ref<IterVarNode> {
 public:
  using Ref<IterVarNode>::Ref;
  IterVar() = default;
  IterVar(Range dom, Var var, IterVarType type, std::string thread_tag = "");
  const Var& var() const { return get()->var; }
  const Range& dom() const { return get()->dom; }
  IterVarType type() const { return get()->type; }
  operator Expr() const { return get()->var; }  // NOLINT: use an axis as an index
};

// A commutative, associative reducer: result(lhs, rhs) with identity elements. Multi-valued
// reducers (argmax: (index, value)) have several lhs/rhs/result/identity entries.
struct CommReducerNode : Node {
  std::vector<Var> lhs, rhs;
  std::vector<Expr> result, identity;
};
class CommReducer : public Ref<const CommReducerNode> {
 public:
  using Ref<const CommReducerNode>::Ref;
  CommReducer() = default;
  static CommReducer make(std::vector<Var> lhs, std::vector<Var> rhs, std::vector<Expr> result,
                          std::vector<Expr> identity);
  // Substitutes a and b for lhs and rhs.
  std::vector<Expr> operator()(const std::vector<Expr>& a, const std::vector<Expr>& b) const;
};

// combiner over source[i] for the reduction axes; this node yields output value_index.
struct ReduceNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Reduce;
  CommReducer combiner;
  std::vector<Expr> source;
  std::vector<IterVar> axis;
  Expr condition;  // bool; only iterations where it holds are combined
  int value_index;
  ReduceNode(DataType t, CommReducer c, std::vector<Expr> s, std::vector<IterVar> a, Expr cond, int vi)
      : ExprNode(kKind, t), combiner(std::move(c)), source(std::move(s)), axis(std::move(a)),
        condition(std::move(cond)), value_index(vi) {}
  static Expr make(CommReducer combiner, std::vector<Expr> source, std::vector<IterVar> axis,
                   Expr condition, int value_index);
};

// Abstract operation: produces num_outputs() tensors. Placeholder and Compute live in
// te/operation.h.
enum class OpKind : uint8_t { kPlaceholder, kCompute };
struct OperationNode : Node {
  std::string name;
  std::string tag;
  virtual OpKind op_kind() const = 0;
  virtual int num_outputs() const = 0;
  virtual DataType output_dtype(int i) const = 0;
  virtual std::vector<Expr> output_shape(int i) const = 0;
  virtual std::vector<Tensor> input_tensors() const = 0;
};
class Operation : public Ref<const OperationNode> {
 public:
  using Ref<const OperationNode>::Ref;
  Operation() = default;
  Tensor output(int i) const;
  template <typename T>
  const T* as() const {
    return (get() && get()->op_kind() == T::kOpKind) ? static_cast<const T*>(get()) : nullptr;
  }
};

// Output value_index of op. Two handles to the same (op, value_index) compare equal.
struct TensorNode : Node {
  Operation op;
  int value_index;
  std::vector<Expr> shape;
  DataType dtype;
  TensorNode(Operation o, int vi, std::vector<Expr> s, DataType t)
      : op(std::move(o)), value_index(vi), shape(std::move(s)), dtype(t) {}
};
class Tensor : public Ref<const TensorNode> {
 public:
  using Ref<const TensorNode>::Ref;
  Tensor() = default;
  const Operation& op() const { return get()->op; }
  const std::vector<Expr>& shape() const { return get()->shape; }
  DataType dtype() const { return get()->dtype; }
  int ndim() const { return int(get()->shape.size()); }
  const std::string& name() const { return get()->op->name; }
  // A[i, j] in a compute body. Checks the number of indices (te::Error).
  Expr operator()(std::vector<Expr> indices) const;
  template <typename... Args>
  Expr operator()(Args... idx) const {
    return (*this)(std::vector<Expr>{Expr(idx)...});
  }
  bool operator==(const Tensor& o) const {
    return get() == o.get() || (get() && o.get() && op().get() == o.op().get() &&
                                get()->value_index == o.get()->value_index);
  }
  bool operator!=(const Tensor& o) const { return !(*this == o); }
};
struct TensorHash {
  size_t operator()(const Tensor& t) const {
    return std::hash<const void*>()(t.op().get()) * 31 + size_t(t->value_index);
  }
};

struct TensorReadNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::TensorRead;
  Tensor tensor;
  std::vector<Expr> indices;
  TensorReadNode(DataType t, Tensor ten, std::vector<Expr> idx)
      : ExprNode(kKind, t), tensor(std::move(ten)), indices(std::move(idx)) {}
  static Expr make(Tensor tensor, std::vector<Expr> indices);
};

// ---------------------------------------------------------------- statements
struct LetStmtNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::LetStmt;
  Var var;
  Expr value;
  Stmt body;
  LetStmtNode(Var v, Expr val, Stmt b) : StmtNode(kKind), var(std::move(v)), value(std::move(val)), body(std::move(b)) {}
  static Stmt make(Var var, Expr value, Stmt body);
};
// Annotation around a statement: key "pragma_<name>", "storage_scope", "thread_extent"...
struct AttrStmtNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::AttrStmt;
  std::string key;
  Expr value;
  Stmt body;
  AttrStmtNode(std::string k, Expr v, Stmt b) : StmtNode(kKind), key(std::move(k)), value(std::move(v)), body(std::move(b)) {}
  static Stmt make(std::string key, Expr value, Stmt body);
};
// A cross-thread reduction (a reduce axis bound to threadIdx), made by schedule_ops and
// expanded by the CUDA backend into warp shuffles and shared memory; every other backend
// refuses it. Shape:
//   AttrStmt(kGpuAllreduceAttr, value = bit d set when threadIdx.{x,y,z}[d] is reduced, Seq{
//     AttrStmt(kGpuAllreduceBuffers, 0, Seq{ Store(other_v, Load(red_v, 0), 0) per value v }),
//     AttrStmt(kGpuAllreducePartial, 0, <each thread's partial into red_v[0]>),
//     AttrStmt(kGpuAllreduceCombine, 0, <red_v[0] = combine(red_v[0], other_v[0])>),
//     AttrStmt(kGpuAllreduceResult, 0, <the outputs stored from red_v[0]>) })
// red_v/other_v are one-element "local" buffers allocated around it. Every thread of the block
// executes it (uniform control flow) and every thread of a group ends with the group's value.
inline constexpr const char* kGpuAllreduceAttr = "gpu_allreduce";
// Stage::double_buffer's and Stage::pipeline's mark (schedule_ops): AttrStmt(kDoubleBufferScopeAttr,
// buffers (2 for double_buffer), Realize of the stage's buffer, whose body is Seq{the stage's copy
// nest, its readers...}); consumed by src/lower/inject_double_buffer.h.
inline constexpr const char* kDoubleBufferScopeAttr = "double_buffer_scope";
// Stage::tensorize(iv, "wmma"): wraps the loop of iv; tensorize_wmma replaces the tile nest
// inside with one tensor-core operation.
inline constexpr const char* kTensorizeWmmaAttr = "tensorize_wmma";
// inject_double_buffer's mark on a copy store to be issued asynchronously: AttrStmt(kAsyncCopyAttr,
// 0, Store of the stage's buffer), vectorized like any store, then made a kCpAsync call by
// lower_async_copies (or left a plain store where the copy cannot be one).
inline constexpr const char* kAsyncCopyAttr = "async_copy";
inline constexpr const char* kGpuAllreduceBuffers = "gpu_allreduce_buffers";
inline constexpr const char* kGpuAllreducePartial = "gpu_allreduce_partial";
inline constexpr const char* kGpuAllreduceCombine = "gpu_allreduce_combine";
inline constexpr const char* kGpuAllreduceResult = "gpu_allreduce_result";
// Stage::pragma(axis, "nontemporal") wraps the axis's loop in AttrStmt(kNontemporalPragma): on
// x86 CPUs its vector stores to the kernel's argument buffers become streaming stores (no
// read-for-ownership of lines not in cache; for outputs far larger than the caches that are
// not read again soon). Other targets ignore it.
inline constexpr const char* kNontemporalPragma = "pragma_nontemporal";
enum class ForKind : uint8_t { kSerial, kParallel, kVectorized, kUnrolled, kThreadBinding };
const char* for_kind_name(ForKind k);
struct ForNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::For;
  Var loop_var;
  Expr min, extent;
  ForKind for_kind;
  std::string thread_tag;  // kThreadBinding only
  Stmt body;
  ForNode(Var v, Expr m, Expr e, ForKind k, std::string tag, Stmt b)
      : StmtNode(kKind), loop_var(std::move(v)), min(std::move(m)), extent(std::move(e)), for_kind(k),
        thread_tag(std::move(tag)), body(std::move(b)) {}
  static Stmt make(Var loop_var, Expr min, Expr extent, ForKind kind, Stmt body, std::string thread_tag = "");
};
struct StoreNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Store;
  Var buffer;
  Expr value, index;
  StoreNode(Var b, Expr v, Expr i) : StmtNode(kKind), buffer(std::move(b)), value(std::move(v)), index(std::move(i)) {}
  static Stmt make(Var buffer, Expr value, Expr index);
};
struct TensorStoreNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::TensorStore;
  Tensor tensor;
  Expr value;
  std::vector<Expr> indices;
  TensorStoreNode(Tensor t, Expr v, std::vector<Expr> i)
      : StmtNode(kKind), tensor(std::move(t)), value(std::move(v)), indices(std::move(i)) {}
  static Stmt make(Tensor tensor, Expr value, std::vector<Expr> indices);
};
// Storage for tensor over bounds (one Range per dimension) is live within body.
struct RealizeNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Realize;
  Tensor tensor;
  std::vector<Range> bounds;
  std::string scope;  // "global", "local", "shared"
  Stmt body;
  RealizeNode(Tensor t, std::vector<Range> b, std::string s, Stmt bd)
      : StmtNode(kKind), tensor(std::move(t)), bounds(std::move(b)), scope(std::move(s)), body(std::move(bd)) {}
  static Stmt make(Tensor tensor, std::vector<Range> bounds, std::string scope, Stmt body);
};
// buffer (a handle Var) points at prod(extents) elements of dtype, live within body.
struct AllocateNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Allocate;
  Var buffer;
  DataType dtype;
  std::vector<Expr> extents;
  std::string scope;
  Stmt body;
  AllocateNode(Var b, DataType t, std::vector<Expr> e, std::string s, Stmt bd)
      : StmtNode(kKind), buffer(std::move(b)), dtype(t), extents(std::move(e)), scope(std::move(s)), body(std::move(bd)) {}
  static Stmt make(Var buffer, DataType dtype, std::vector<Expr> extents, std::string scope, Stmt body);
};
struct SeqNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Seq;
  std::vector<Stmt> seq;
  explicit SeqNode(std::vector<Stmt> s) : StmtNode(kKind), seq(std::move(s)) {}
  // Flattens nested Seqs, drops undefined entries; a single statement is returned as is.
  static Stmt make(std::vector<Stmt> seq);
};
struct IfThenElseNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::IfThenElse;
  Expr condition;
  Stmt then_case, else_case;  // else_case may be undefined
  IfThenElseNode(Expr c, Stmt t, Stmt e) : StmtNode(kKind), condition(std::move(c)), then_case(std::move(t)), else_case(std::move(e)) {}
  static Stmt make(Expr condition, Stmt then_case, Stmt else_case = Stmt());
};
struct EvaluateNode : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Evaluate;
  Expr value;
  explicit EvaluateNode(Expr v) : StmtNode(kKind), value(std::move(v)) {}
  static Stmt make(Expr value);
};

// ---------------------------------------------------------------- utilities (src/ir)
// Readable text of an expression or statement (the format of te.lower()).
std::string to_string(const Expr& e);
std::string to_string(const Stmt& s);
std::ostream& operator<<(std::ostream& os, const Expr& e);
std::ostream& operator<<(std::ostream& os, const Stmt& s);

// Structural equality and hash (variables compared by identity unless map_free_vars).
bool structural_equal(const Expr& a, const Expr& b, bool map_free_vars = false);
bool structural_equal(const Stmt& a, const Stmt& b, bool map_free_vars = false);
size_t structural_hash(const Expr& e);
size_t structural_hash(const Stmt& s);

// Constant helpers.
const int64_t* as_const_int(const Expr& e);  // nullptr unless an IntImm
bool is_const_int(const Expr& e, int64_t value);
bool is_zero(const Expr& e);
bool is_one(const Expr& e);
Expr make_const(DataType t, double value);  // IntImm or FloatImm (or Broadcast for lanes>1)
Expr make_zero(DataType t);

}  // namespace te
