// Checked constructors of every IR node. A check that user input can trip (wrong number of
// indices, a non-integer index, a division by constant zero) throws te::Error; one that only
// a te pass could trip is TE_ICHECK (an internal error).
#include <cmath>
#include <limits>

#include "te/ir.h"
#include "te/ir_functor.h"

namespace te {

// ---------------------------------------------------------------- constants
namespace {
int64_t wrap_to_bits(DataType t, int64_t v) {
  if (t.is_bool()) return v != 0;
  if (t.bits >= 64) return v;
  uint64_t mask = (uint64_t(1) << t.bits) - 1;
  uint64_t u = uint64_t(v) & mask;
  if (t.is_uint()) return int64_t(u);
  uint64_t sign = uint64_t(1) << (t.bits - 1);
  return (u & sign) ? int64_t(u | ~mask) : int64_t(u);
}
}  // namespace

Expr IntImmNode::make(DataType t, int64_t value) {
  TE_ICHECK(t.is_scalar() && (t.is_integer() || t.is_bool()), "IntImm of dtype ", t.str());
  return Expr(new IntImmNode(t, wrap_to_bits(t, value)));
}

Expr FloatImmNode::make(DataType t, double value) {
  TE_ICHECK(t.is_scalar() && t.is_float(), "FloatImm of dtype ", t.str());
  if (t.bits == 32) value = double(float(value));
  return Expr(new FloatImmNode(t, value));
}

Expr::Expr(int v) : Expr(IntImmNode::make(DataType::int32(), v)) {}
Expr::Expr(int64_t v) : Expr(IntImmNode::make(DataType::int64(), v)) {}
Expr::Expr(float v) : Expr(FloatImmNode::make(DataType::float32(), v)) {}
Expr::Expr(double v) : Expr(FloatImmNode::make(DataType::float32(), v)) {}

Var::Var(const std::string& name, DataType t) : Expr(new VarNode(t, name)) {}

const int64_t* as_const_int(const Expr& e) {
  const IntImmNode* imm = e.as<IntImmNode>();
  return imm ? &imm->value : nullptr;
}
bool is_const_int(const Expr& e, int64_t value) {
  const int64_t* v = as_const_int(e);
  if (v) return *v == value;
  if (const BroadcastNode* b = e.as<BroadcastNode>()) return is_const_int(b->value, value);
  return false;
}
bool is_zero(const Expr& e) { return is_const_int(e, 0); }
bool is_one(const Expr& e) { return is_const_int(e, 1); }

Expr make_const(DataType t, double value) {
  if (t.is_vector()) return BroadcastNode::make(make_const(t.element_of(), value), t.lanes);
  if (t.is_float()) return FloatImmNode::make(t, value);
  TE_ICHECK(t.is_integer() || t.is_bool(), "make_const of dtype ", t.str());
  return IntImmNode::make(t, int64_t(value));
}
Expr make_zero(DataType t) { return make_const(t, 0); }

// ---------------------------------------------------------------- operators
namespace {
constexpr bool is_arith(ExprKind k) {
  switch (k) {
    case ExprKind::Add: case ExprKind::Sub: case ExprKind::Mul: case ExprKind::Div:
    case ExprKind::Mod: case ExprKind::FloorDiv: case ExprKind::FloorMod: case ExprKind::Min:
    case ExprKind::Max: return true;
    default: return false;
  }
}
constexpr bool is_compare(ExprKind k) {
  switch (k) {
    case ExprKind::EQ: case ExprKind::NE: case ExprKind::LT: case ExprKind::LE:
    case ExprKind::GT: case ExprKind::GE: return true;
    default: return false;
  }
}
}  // namespace

template <ExprKind K>
Expr BinaryNode<K>::make(Expr a, Expr b) {
  TE_ICHECK(a.defined() && b.defined(), kind_name(K), " with an undefined operand");
  TE_ICHECK(a.dtype() == b.dtype(), kind_name(K), " operands differ: ", a.dtype().str(), " vs ",
            b.dtype().str());
  DataType t = a.dtype();
  if constexpr (is_arith(K)) {
    TE_ICHECK(!t.is_handle(), kind_name(K), " on handles");
    if (K == ExprKind::Div || K == ExprKind::Mod || K == ExprKind::FloorDiv || K == ExprKind::FloorMod) {
      if (t.is_integer() && is_zero(b)) fail("integer division by zero in ", kind_name(K));
    }
    return Expr(new BinaryNode<K>(t, std::move(a), std::move(b)));
  } else if constexpr (is_compare(K)) {
    return Expr(new BinaryNode<K>(DataType::boolean().with_lanes(t.lanes), std::move(a), std::move(b)));
  } else {
    TE_ICHECK(t.element_of().is_bool(), kind_name(K), " needs bool operands, got ", t.str());
    return Expr(new BinaryNode<K>(t, std::move(a), std::move(b)));
  }
}

#define TE_INSTANTIATE(name) template struct BinaryNode<ExprKind::name>;
TE_INSTANTIATE(Add) TE_INSTANTIATE(Sub) TE_INSTANTIATE(Mul) TE_INSTANTIATE(Div) TE_INSTANTIATE(Mod)
TE_INSTANTIATE(FloorDiv) TE_INSTANTIATE(FloorMod) TE_INSTANTIATE(Min) TE_INSTANTIATE(Max)
TE_INSTANTIATE(EQ) TE_INSTANTIATE(NE) TE_INSTANTIATE(LT) TE_INSTANTIATE(LE) TE_INSTANTIATE(GT)
TE_INSTANTIATE(GE) TE_INSTANTIATE(And) TE_INSTANTIATE(Or)
#undef TE_INSTANTIATE

Expr NotNode::make(Expr a) {
  TE_ICHECK(a.defined() && a.dtype().element_of().is_bool(), "Not needs a bool operand");
  DataType t = a.dtype();
  return Expr(new NotNode(t, std::move(a)));
}

Expr SelectNode::make(Expr condition, Expr true_value, Expr false_value) {
  TE_ICHECK(condition.defined() && true_value.defined() && false_value.defined(), "Select with undefined operand");
  TE_ICHECK(condition.dtype().element_of().is_bool(), "Select condition must be bool, got ",
            condition.dtype().str());
  TE_ICHECK(true_value.dtype() == false_value.dtype(), "Select branches differ: ",
            true_value.dtype().str(), " vs ", false_value.dtype().str());
  TE_ICHECK(condition.dtype().lanes == 1 || condition.dtype().lanes == true_value.dtype().lanes,
            "Select condition lanes");
  DataType t = true_value.dtype();
  return Expr(new SelectNode(t, std::move(condition), std::move(true_value), std::move(false_value)));
}

Expr CastNode::make(DataType t, Expr value) {
  TE_ICHECK(value.defined(), "Cast of undefined value");
  TE_ICHECK(t.lanes == value.dtype().lanes, "Cast changes lanes: ", value.dtype().str(), " to ", t.str());
  return Expr(new CastNode(t, std::move(value)));
}

Expr CallNode::make(DataType t, Intrinsic op, std::vector<Expr> args) {
  size_t arity = 1;
  switch (op) {
    case Intrinsic::kPow: arity = 2; break;
    case Intrinsic::kFma: case Intrinsic::kIfThenElse: arity = 3; break;
    default: break;
  }
  TE_ICHECK(args.size() == arity, intrinsic_name(op), " takes ", arity, " arguments, got ", args.size());
  for (const Expr& a : args) TE_ICHECK(a.defined(), intrinsic_name(op), " with an undefined argument");
  if (op == Intrinsic::kIfThenElse) {
    TE_ICHECK(args[0].dtype().element_of().is_bool(), "if_then_else condition must be bool");
    TE_ICHECK(args[1].dtype() == args[2].dtype() && args[1].dtype() == t, "if_then_else branch types");
  } else if (op == Intrinsic::kLikely) {
    TE_ICHECK(args[0].dtype().element_of().is_bool() && t == args[0].dtype(), "likely takes a bool");
  } else {
    for (const Expr& a : args) TE_ICHECK(a.dtype() == t, intrinsic_name(op), " argument of dtype ", a.dtype().str(), " for result ", t.str());
  }
  return Expr(new CallNode(t, op, std::move(args)));
}

Expr LoadNode::make(DataType t, Var buffer, Expr index) {
  TE_ICHECK(buffer.defined() && buffer.dtype().is_handle(), "Load from a non-handle variable");
  TE_ICHECK(index.defined() && index.dtype().element_of().is_int(), "Load index must be an int");
  TE_ICHECK(t.lanes == index.dtype().lanes, "Load of ", t.str(), " with index of ", index.dtype().str());
  return Expr(new LoadNode(t, std::move(buffer), std::move(index)));
}

Expr RampNode::make(Expr base, Expr stride, int lanes) {
  TE_ICHECK(base.defined() && stride.defined(), "Ramp with undefined operand");
  TE_ICHECK(base.dtype().is_scalar() && base.dtype() == stride.dtype(), "Ramp base/stride dtypes");
  TE_ICHECK(lanes >= 2, "Ramp with ", lanes, " lanes");
  DataType t = base.dtype().with_lanes(lanes);
  return Expr(new RampNode(t, std::move(base), std::move(stride), lanes));
}

Expr BroadcastNode::make(Expr value, int lanes) {
  TE_ICHECK(value.defined() && value.dtype().is_scalar(), "Broadcast of a non-scalar");
  TE_ICHECK(lanes >= 2, "Broadcast with ", lanes, " lanes");
  DataType t = value.dtype().with_lanes(lanes);
  return Expr(new BroadcastNode(t, std::move(value), lanes));
}

Expr LetNode::make(Var var, Expr value, Expr body) {
  TE_ICHECK(var.defined() && value.defined() && body.defined(), "Let with undefined operand");
  TE_ICHECK(var.dtype() == value.dtype(), "Let binds ", var.dtype().str(), " to ", value.dtype().str());
  DataType t = body.dtype();
  return Expr(new LetNode(t, std::move(var), std::move(value), std::move(body)));
}

// ---------------------------------------------------------------- tensor level
IterVar::IterVar(Range dom, Var var, IterVarType type, std::string thread_tag)
    : Ref<IterVarNode>(new IterVarNode(std::move(var), std::move(dom), type, std::move(thread_tag))) {}

CommReducer CommReducer::make(std::vector<Var> lhs, std::vector<Var> rhs, std::vector<Expr> result,
                              std::vector<Expr> identity) {
  size_t n = lhs.size();
  if (n == 0 || rhs.size() != n || result.size() != n || identity.size() != n)
    fail("comm_reducer: lhs, rhs, result and identity must have the same non-zero length (got ",
         lhs.size(), ", ", rhs.size(), ", ", result.size(), ", ", identity.size(), ")");
  for (size_t i = 0; i < n; ++i) {
    if (!result[i].defined() || !identity[i].defined())
      fail("comm_reducer: value ", i, " has an undefined result or identity");
    if (result[i].dtype() != lhs[i].dtype() || identity[i].dtype() != lhs[i].dtype())
      fail("comm_reducer: value ", i, " combines ", lhs[i].dtype().str(), " but its result is ",
           result[i].dtype().str(), " and its identity ", identity[i].dtype().str());
  }
  auto* node = new CommReducerNode();
  node->lhs = std::move(lhs);
  node->rhs = std::move(rhs);
  node->result = std::move(result);
  node->identity = std::move(identity);
  return CommReducer(node);
}

std::vector<Expr> CommReducer::operator()(const std::vector<Expr>& a, const std::vector<Expr>& b) const {
  const CommReducerNode* n = get();
  TE_ICHECK(a.size() == n->lhs.size() && b.size() == n->rhs.size(), "reducer applied to wrong arity");
  std::unordered_map<const VarNode*, Expr> vmap;
  for (size_t i = 0; i < a.size(); ++i) {
    vmap[n->lhs[i].get()] = a[i];
    vmap[n->rhs[i].get()] = b[i];
  }
  std::vector<Expr> out;
  for (const Expr& r : n->result) out.push_back(substitute(r, vmap));
  return out;
}

Expr ReduceNode::make(CommReducer combiner, std::vector<Expr> source, std::vector<IterVar> axis,
                      Expr condition, int value_index) {
  TE_ICHECK(combiner.defined(), "Reduce without a combiner");
  if (source.size() != combiner->lhs.size())
    fail("reduction: the reducer combines ", combiner->lhs.size(), " values but ", source.size(),
         " sources were given");
  for (size_t i = 0; i < source.size(); ++i) {
    if (!source[i].defined()) fail("reduction: source ", i, " is undefined");
    if (source[i].dtype() != combiner->lhs[i].dtype())
      fail("reduction: source ", i, " has dtype ", source[i].dtype().str(), " but the reducer expects ",
           combiner->lhs[i].dtype().str());
  }
  if (axis.empty()) fail("reduction: no reduction axis given; create one with reduce_axis");
  for (const IterVar& iv : axis)
    if (!iv.defined() || iv->type != IterVarType::kCommReduce)
      fail("reduction: axis ", iv.defined() ? iv->var.name() : "<undefined>",
           " is not a reduction axis; create it with reduce_axis");
  if (!condition.defined()) condition = IntImmNode::make(DataType::boolean(), 1);
  if (!condition.dtype().is_bool()) fail("reduction: the where-condition must be bool, got ", condition.dtype().str());
  TE_ICHECK(value_index >= 0 && size_t(value_index) < source.size(), "Reduce value_index");
  DataType t = source[value_index].dtype();
  return Expr(new ReduceNode(t, std::move(combiner), std::move(source), std::move(axis),
                             std::move(condition), value_index));
}

Tensor Operation::output(int i) const {
  TE_ICHECK(defined(), "output of an undefined operation");
  if (i < 0 || i >= get()->num_outputs())
    fail("operation ", get()->name, " has ", get()->num_outputs(), " outputs; output ", i, " does not exist");
  return Tensor(new TensorNode(*this, i, get()->output_shape(i), get()->output_dtype(i)));
}

Expr TensorReadNode::make(Tensor tensor, std::vector<Expr> indices) {
  TE_ICHECK(tensor.defined(), "read of an undefined tensor");
  if (indices.size() != tensor.shape().size())
    fail("tensor ", tensor.name(), " has ", tensor.shape().size(), " dimensions but was indexed with ",
         indices.size(), " indices");
  for (size_t d = 0; d < indices.size(); ++d) {
    if (!indices[d].defined()) fail("tensor ", tensor.name(), ": index ", d, " is undefined");
    DataType t = indices[d].dtype();
    if (!t.is_scalar() || !t.is_integer())
      fail("tensor ", tensor.name(), ": index ", d, " must be an integer, got ", t.str());
  }
  DataType t = tensor.dtype();
  return Expr(new TensorReadNode(t, std::move(tensor), std::move(indices)));
}

Expr Tensor::operator()(std::vector<Expr> indices) const {
  if (!defined()) fail("indexing an undefined tensor");
  return TensorReadNode::make(*this, std::move(indices));
}

// ---------------------------------------------------------------- statements
Stmt LetStmtNode::make(Var var, Expr value, Stmt body) {
  TE_ICHECK(var.defined() && value.defined() && body.defined(), "LetStmt with undefined operand");
  TE_ICHECK(var.dtype() == value.dtype(), "LetStmt binds ", var.dtype().str(), " to ", value.dtype().str());
  return Stmt(new LetStmtNode(std::move(var), std::move(value), std::move(body)));
}

Stmt AttrStmtNode::make(std::string key, Expr value, Stmt body) {
  TE_ICHECK(body.defined(), "AttrStmt without a body");
  return Stmt(new AttrStmtNode(std::move(key), std::move(value), std::move(body)));
}

Stmt ForNode::make(Var loop_var, Expr min, Expr extent, ForKind kind, Stmt body, std::string thread_tag) {
  TE_ICHECK(loop_var.defined() && min.defined() && extent.defined() && body.defined(), "For with undefined operand");
  TE_ICHECK(min.dtype().is_scalar() && min.dtype().is_integer() && extent.dtype() == min.dtype() &&
                loop_var.dtype() == min.dtype(),
            "For ", loop_var.name(), ": var/min/extent dtypes ", loop_var.dtype().str(), "/",
            min.dtype().str(), "/", extent.dtype().str());
  return Stmt(new ForNode(std::move(loop_var), std::move(min), std::move(extent), kind,
                          std::move(thread_tag), std::move(body)));
}

Stmt StoreNode::make(Var buffer, Expr value, Expr index) {
  TE_ICHECK(buffer.defined() && buffer.dtype().is_handle(), "Store to a non-handle variable");
  TE_ICHECK(value.defined() && index.defined(), "Store with undefined operand");
  TE_ICHECK(index.dtype().element_of().is_int() && index.dtype().lanes == value.dtype().lanes,
            "Store of ", value.dtype().str(), " with index ", index.dtype().str());
  return Stmt(new StoreNode(std::move(buffer), std::move(value), std::move(index)));
}

Stmt TensorStoreNode::make(Tensor tensor, Expr value, std::vector<Expr> indices) {
  TE_ICHECK(tensor.defined() && value.defined(), "TensorStore with undefined operand");
  TE_ICHECK(indices.size() == tensor.shape().size(), "TensorStore to ", tensor.name(), " with ",
            indices.size(), " indices");
  TE_ICHECK(value.dtype() == tensor.dtype(), "TensorStore of ", value.dtype().str(), " into ",
            tensor.name(), " of ", tensor.dtype().str());
  return Stmt(new TensorStoreNode(std::move(tensor), std::move(value), std::move(indices)));
}

Stmt RealizeNode::make(Tensor tensor, std::vector<Range> bounds, std::string scope, Stmt body) {
  TE_ICHECK(tensor.defined() && body.defined(), "Realize with undefined operand");
  TE_ICHECK(bounds.size() == tensor.shape().size(), "Realize of ", tensor.name(), " with ", bounds.size(), " bounds");
  return Stmt(new RealizeNode(std::move(tensor), std::move(bounds), std::move(scope), std::move(body)));
}

Stmt AllocateNode::make(Var buffer, DataType dtype, std::vector<Expr> extents, std::string scope, Stmt body) {
  TE_ICHECK(buffer.defined() && buffer.dtype().is_handle(), "Allocate of a non-handle variable");
  TE_ICHECK(body.defined(), "Allocate without a body");
  for (const Expr& e : extents) TE_ICHECK(e.defined() && e.dtype().is_integer(), "Allocate extent");
  return Stmt(new AllocateNode(std::move(buffer), dtype, std::move(extents), std::move(scope), std::move(body)));
}

Stmt SeqNode::make(std::vector<Stmt> seq) {
  std::vector<Stmt> flat;
  for (Stmt& s : seq) {
    if (!s.defined()) continue;
    if (const SeqNode* inner = s.as<SeqNode>()) {
      flat.insert(flat.end(), inner->seq.begin(), inner->seq.end());
    } else {
      flat.push_back(std::move(s));
    }
  }
  if (flat.empty()) return EvaluateNode::make(IntImmNode::make(DataType::int32(), 0));
  if (flat.size() == 1) return flat[0];
  return Stmt(new SeqNode(std::move(flat)));
}

Stmt IfThenElseNode::make(Expr condition, Stmt then_case, Stmt else_case) {
  TE_ICHECK(condition.defined() && condition.dtype().is_bool(), "IfThenElse condition must be a scalar bool");
  TE_ICHECK(then_case.defined(), "IfThenElse without a then branch");
  return Stmt(new IfThenElseNode(std::move(condition), std::move(then_case), std::move(else_case)));
}

Stmt EvaluateNode::make(Expr value) {
  TE_ICHECK(value.defined(), "Evaluate of an undefined expression");
  return Stmt(new EvaluateNode(std::move(value)));
}

}  // namespace te
