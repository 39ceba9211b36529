// src/ir/nodes.cc — the checked constructors (make) of every IR node, plus the handle
// constructors (Expr from a C++ number, Var, IterVar, Tensor reads, Operation::output).
// Checks that only a te pass can violate are TE_ICHECKs; checks a user can trip (tensor
// indices, division by a constant zero, reducers, reduction axes) throw te::Error.
#include "te/ir_functor.h"

namespace te {

namespace {

std::string describe(const Expr& e) {
  return e.defined() ? to_string(e) + " (" + e.dtype().str() + ")" : std::string("<undefined>");
}

// Value truncated to the bits of t, as the hardware would hold it.
int64_t wrap_to_dtype(DataType t, int64_t v) {
  if (t.is_bool()) return v != 0;
  if (t.bits >= 64) return v;
  uint64_t mask = (uint64_t(1) << t.bits) - 1;
  uint64_t u = uint64_t(v) & mask;
  if (t.is_int() && (u >> (t.bits - 1)) & 1) u |= ~mask;  // sign-extend
  return int64_t(u);
}

bool is_const_zero_divisor(const Expr& b) {
  if (!b.dtype().is_integer()) return false;
  if (const auto* imm = b.as<IntImmNode>()) return imm->value == 0;
  if (const auto* bc = b.as<BroadcastNode>())
    if (const auto* imm = bc->value.as<IntImmNode>()) return imm->value == 0;
  return false;
}

constexpr bool is_comparison(ExprKind k) {
  return k == ExprKind::EQ || k == ExprKind::NE || k == ExprKind::LT || k == ExprKind::LE ||
         k == ExprKind::GT || k == ExprKind::GE;
}
constexpr bool is_logical(ExprKind k) { return k == ExprKind::And || k == ExprKind::Or; }
constexpr bool is_division(ExprKind k) {
  return k == ExprKind::Div || k == ExprKind::Mod || k == ExprKind::FloorDiv || k == ExprKind::FloorMod;
}

}  // namespace

// ---------------------------------------------------------------- handles
Expr::Expr(int v) : Expr(IntImmNode::make(DataType::int32(), v)) {}
Expr::Expr(int64_t v) : Expr(IntImmNode::make(DataType::int64(), v)) {}
Expr::Expr(float v) : Expr(FloatImmNode::make(DataType::float32(), v)) {}
Expr::Expr(double v) : Expr(FloatImmNode::make(DataType::float32(), v)) {}

Var::Var(const std::string& name, DataType t) : Expr(new VarNode(t, name)) {}

IterVar::IterVar(Range dom, Var var, IterVarType type, std::string thread_tag)
    : Ref<IterVarNode>(new IterVarNode(std::move(var), std::move(dom), type, std::move(thread_tag))) {
  TE_ICHECK(get()->var.defined(), "IterVar needs a variable");
}

// ---------------------------------------------------------------- leaves
Expr IntImmNode::make(DataType t, int64_t value) {
  TE_ICHECK(t.is_integer() || t.is_bool(), "IntImm of dtype ", t.str());
  TE_ICHECK(t.is_scalar(), "IntImm must be scalar, got ", t.str(), " (use Broadcast)");
  return Expr(new IntImmNode(t, wrap_to_dtype(t, value)));
}

Expr FloatImmNode::make(DataType t, double value) {
  TE_ICHECK(t.is_float(), "FloatImm of dtype ", t.str());
  TE_ICHECK(t.is_scalar(), "FloatImm must be scalar, got ", t.str(), " (use Broadcast)");
  // float32/float16 constants hold exactly what the hardware would (float16 approximated).
  if (t.bits <= 32) value = double(float(value));
  return Expr(new FloatImmNode(t, value));
}

// ---------------------------------------------------------------- operators
template <ExprKind K>
Expr BinaryNode<K>::make(Expr a, Expr b) {
  TE_ICHECK(a.defined() && b.defined(), kind_name(K), " with an undefined operand");
  TE_ICHECK(a.dtype() == b.dtype(), kind_name(K), " operands differ in dtype: ", describe(a), " vs ",
            describe(b));
  DataType t = a.dtype();
  TE_ICHECK(!t.is_handle(), kind_name(K), " on handle operands");
  if constexpr (is_logical(K)) {
    TE_ICHECK(t.is_bool(), kind_name(K), " needs bool operands, got ", t.str());
  }
  if constexpr (is_division(K)) {
    if (is_const_zero_divisor(b))
      fail("division by constant zero in ", kind_name(K), "(", to_string(a), ", ", to_string(b), ")");
  }
  if constexpr (is_comparison(K)) t = DataType::boolean().with_lanes(t.lanes);
  return Expr(new BinaryNode<K>(t, std::move(a), std::move(b)));
}

#define TE_INSTANTIATE(kind) template struct BinaryNode<ExprKind::kind>;
TE_INSTANTIATE(Add)
TE_INSTANTIATE(Sub)
TE_INSTANTIATE(Mul)
TE_INSTANTIATE(Div)
TE_INSTANTIATE(Mod)
TE_INSTANTIATE(FloorDiv)
TE_INSTANTIATE(FloorMod)
TE_INSTANTIATE(Min)
TE_INSTANTIATE(Max)
TE_INSTANTIATE(EQ)
TE_INSTANTIATE(NE)
TE_INSTANTIATE(LT)
TE_INSTANTIATE(LE)
TE_INSTANTIATE(GT)
TE_INSTANTIATE(GE)
TE_INSTANTIATE(And)
TE_INSTANTIATE(Or)
#undef TE_INSTANTIATE

Expr NotNode::make(Expr a) {
  TE_ICHECK(a.defined() && a.dtype().is_bool(), "Not needs a bool operand, got ", describe(a));
  DataType t = a.dtype();
  return Expr(new NotNode(t, std::move(a)));
}

Expr SelectNode::make(Expr condition, Expr true_value, Expr false_value) {
  TE_ICHECK(condition.defined() && true_value.defined() && false_value.defined(), "Select with an undefined operand");
  TE_ICHECK(condition.dtype().is_bool(), "Select condition must be bool, got ", describe(condition));
  TE_ICHECK(true_value.dtype() == false_value.dtype(), "Select branches differ in dtype: ", describe(true_value),
            " vs ", describe(false_value));
  DataType t = true_value.dtype();
  TE_ICHECK(condition.dtype().lanes == 1 || condition.dtype().lanes == t.lanes,
            "Select condition lanes ", condition.dtype().lanes, " vs value lanes ", t.lanes);
  return Expr(new SelectNode(t, std::move(condition), std::move(true_value), std::move(false_value)));
}

Expr CastNode::make(DataType t, Expr value) {
  TE_ICHECK(value.defined(), "Cast of an undefined value");
  TE_ICHECK(t.lanes == value.dtype().lanes, "Cast to ", t.str(), " changes the lanes of ", describe(value));
  return Expr(new CastNode(t, std::move(value)));
}

Expr CallNode::make(DataType t, Intrinsic op, std::vector<Expr> args) {
  size_t arity = 1;
  if (op == Intrinsic::kPow) arity = 2;
  if (op == Intrinsic::kFma || op == Intrinsic::kIfThenElse) arity = 3;
  if (op == Intrinsic::kWmmaFill) arity = 3;
  if (op == Intrinsic::kWmmaLoad) arity = 6;
  if (op == Intrinsic::kWmmaStore) arity = 7;
  if (op == Intrinsic::kWmmaMma) arity = 8;
  if (op == Intrinsic::kCpAsync) arity = 4;
  if (op == Intrinsic::kCpAsyncCommit) arity = 0;
  TE_ICHECK(args.size() == arity, intrinsic_name(op), " takes ", arity, " arguments, got ", args.size());
  for (const Expr& a : args) TE_ICHECK(a.defined(), intrinsic_name(op), " with an undefined argument");
  if (op == Intrinsic::kIfThenElse) {
    TE_ICHECK(args[0].dtype().is_bool(), "if_then_else condition must be bool, got ", describe(args[0]));
    TE_ICHECK(args[1].dtype() == t && args[2].dtype() == t, "if_then_else branches must be ", t.str(), ", got ",
              describe(args[1]), " and ", describe(args[2]));
    TE_ICHECK(args[0].dtype().lanes == 1 || args[0].dtype().lanes == t.lanes, "if_then_else condition lanes");
  } else if (is_lane_reduction(op)) {
    TE_ICHECK(args[0].dtype().is_vector() && t == args[0].dtype().element_of(), intrinsic_name(op),
              " takes a vector and returns its element type, got ", describe(args[0]), " -> ", t.str());
    TE_ICHECK(!t.is_bool() && !t.is_handle(), intrinsic_name(op), " of ", t.str());
  } else if (op == Intrinsic::kPrefetch) {
    TE_ICHECK(t == DataType::int32() && (args[0].as<TensorReadNode>() || args[0].as<LoadNode>()) &&
                  args[0].dtype().lanes == 1,
              "prefetch takes one scalar element read and returns int32, got ", describe(args[0]));
  } else if (is_wmma(op)) {
    TE_ICHECK(t == DataType::int32(), intrinsic_name(op), " returns int32, got ", t.str());
    // Fragment and memory operands are buffer handles at fixed positions.
    std::vector<size_t> handles = {0};
    if (op == Intrinsic::kWmmaLoad) handles = {0, 2};
    if (op == Intrinsic::kWmmaMma) handles = {0, 2, 4, 6};
    if (op == Intrinsic::kWmmaStore) handles = {0, 4};
    for (size_t h : handles)
      TE_ICHECK(args[h].as<VarNode>() && args[h].dtype().is_handle(), intrinsic_name(op), " argument ", h,
                " must be a buffer, got ", describe(args[h]));
  } else if (is_async_copy(op)) {
    TE_ICHECK(t == DataType::int32(), intrinsic_name(op), " returns int32, got ", t.str());
    if (op == Intrinsic::kCpAsync) {
      const auto* src = args[2].as<LoadNode>();
      TE_ICHECK(args[0].as<VarNode>() && args[0].dtype().is_handle(), "cp_async: dst must be a buffer, got ",
                describe(args[0]));
      TE_ICHECK(args[1].dtype().is_int() && args[1].dtype().lanes == 1, "cp_async: dst offset ", describe(args[1]));
      TE_ICHECK(src, "cp_async: src must be a Load, got ", describe(args[2]));
      const int64_t bytes = int64_t(src->dtype.lanes) * src->dtype.bytes();
      TE_ICHECK(bytes == 4 || bytes == 8 || bytes == 16, "cp_async copies 4, 8 or 16 bytes, got ", describe(args[2]));
      TE_ICHECK(args[3].dtype() == DataType::boolean(), "cp_async: valid must be a scalar bool, got ", describe(args[3]));
    }
    if (op == Intrinsic::kCpAsyncWait)
      TE_ICHECK(as_const_int(args[0]) && *as_const_int(args[0]) >= 0, "cp_async_wait takes a constant count, got ",
                describe(args[0]));
  } else if (op == Intrinsic::kLikely) {
    TE_ICHECK(args[0].dtype().is_bool() && t == args[0].dtype(), "likely takes and returns bool, got ",
              describe(args[0]));
  } else {
    for (const Expr& a : args)
      TE_ICHECK(a.dtype() == t, intrinsic_name(op), " argument ", describe(a), " does not match result ", t.str());
    TE_ICHECK(t.is_float() || (op == Intrinsic::kAbs && t.is_integer()), intrinsic_name(op),
              " needs float arguments, got ", t.str());
  }
  return Expr(new CallNode(t, op, std::move(args)));
}

Expr LoadNode::make(DataType t, Var buffer, Expr index) {
  TE_ICHECK(buffer.defined() && buffer.dtype().is_handle(), "Load buffer must be a handle variable");
  TE_ICHECK(index.defined() && index.dtype().is_integer(), "Load index must be an integer, got ", describe(index));
  TE_ICHECK(t.lanes == index.dtype().lanes, "Load of ", t.str(), " with index ", describe(index),
            ": lanes must match");
  return Expr(new LoadNode(t, std::move(buffer), std::move(index)));
}

Expr RampNode::make(Expr base, Expr stride, int lanes) {
  TE_ICHECK(base.defined() && stride.defined(), "Ramp with an undefined operand");
  TE_ICHECK(base.dtype().is_scalar() && base.dtype() == stride.dtype(), "Ramp base ", describe(base),
            " and stride ", describe(stride), " must be scalars of one dtype");
  TE_ICHECK(base.dtype().is_integer(), "Ramp of non-integer ", describe(base));
  TE_ICHECK(lanes >= 2, "Ramp needs lanes >= 2, got ", lanes);
  DataType t = base.dtype().with_lanes(lanes);
  return Expr(new RampNode(t, std::move(base), std::move(stride), lanes));
}

Expr BroadcastNode::make(Expr value, int lanes) {
  TE_ICHECK(value.defined() && value.dtype().is_scalar(), "Broadcast of non-scalar ", describe(value));
  TE_ICHECK(lanes >= 2, "Broadcast needs lanes >= 2, got ", lanes);
  DataType t = value.dtype().with_lanes(lanes);
  return Expr(new BroadcastNode(t, std::move(value), lanes));
}

Expr LetNode::make(Var var, Expr value, Expr body) {
  TE_ICHECK(var.defined() && value.defined() && body.defined(), "Let with an undefined part");
  TE_ICHECK(var.dtype() == value.dtype(), "Let ", var.name(), " (", var.dtype().str(), ") bound to ", describe(value));
  DataType t = body.dtype();
  return Expr(new LetNode(t, std::move(var), std::move(value), std::move(body)));
}

// ---------------------------------------------------------------- tensor level
CommReducer CommReducer::make(std::vector<Var> lhs, std::vector<Var> rhs, std::vector<Expr> result,
                              std::vector<Expr> identity) {
  size_t n = lhs.size();
  if (n == 0) fail("reducer: needs at least one value");
  if (rhs.size() != n || result.size() != n || identity.size() != n)
    fail("reducer: lhs/rhs/result/identity must have the same number of values, got ", lhs.size(), "/",
         rhs.size(), "/", result.size(), "/", identity.size());
  for (size_t i = 0; i < n; ++i) {
    if (!result[i].defined() || !identity[i].defined())
      fail("reducer: value ", i, " has an undefined combine result or identity");
    DataType t = lhs[i].dtype();
    if (rhs[i].dtype() != t || result[i].dtype() != t || identity[i].dtype() != t)
      fail("reducer: value ", i, " must have one dtype throughout; lhs ", t.str(), ", rhs ", rhs[i].dtype().str(),
           ", combine result ", result[i].dtype().str(), ", identity ", identity[i].dtype().str());
  }
  auto* node = new CommReducerNode();
  node->lhs = std::move(lhs);
  node->rhs = std::move(rhs);
  node->result = std::move(result);
  node->identity = std::move(identity);
  return CommReducer(node);
}

std::vector<Expr> CommReducer::operator()(const std::vector<Expr>& a, const std::vector<Expr>& b) const {
  const CommReducerNode* r = get();
  TE_ICHECK(r, "undefined reducer");
  TE_ICHECK(a.size() == r->lhs.size() && b.size() == r->rhs.size(), "reducer applied to ", a.size(), "/",
            b.size(), " values, expects ", r->lhs.size());
  std::unordered_map<const VarNode*, Expr> vmap;
  for (size_t i = 0; i < a.size(); ++i) {
    vmap[r->lhs[i].get()] = a[i];
    vmap[r->rhs[i].get()] = b[i];
  }
  std::vector<Expr> out;
  for (const Expr& e : r->result) out.push_back(substitute(e, vmap));
  return out;
}

Expr ReduceNode::make(CommReducer combiner, std::vector<Expr> source, std::vector<IterVar> axis, Expr condition,
                      int value_index) {
  TE_ICHECK(combiner.defined(), "Reduce without a combiner");
  if (source.size() != combiner->lhs.size())
    fail("reduction: the reducer combines ", combiner->lhs.size(), " values but ", source.size(),
         " sources were given");
  if (value_index < 0 || size_t(value_index) >= source.size())
    fail("reduction: value_index ", value_index, " out of range [0, ", source.size(), ")");
  for (size_t i = 0; i < source.size(); ++i) {
    if (!source[i].defined()) fail("reduction: source ", i, " is undefined");
    if (source[i].dtype() != combiner->lhs[i].dtype())
      fail("reduction: source ", i, " has dtype ", source[i].dtype().str(), " but the reducer expects ",
           combiner->lhs[i].dtype().str());
  }
  if (axis.empty()) fail("reduction: needs at least one reduction axis");
  for (const IterVar& iv : axis) {
    if (!iv.defined()) fail("reduction: undefined reduction axis");
    if (iv.type() != IterVarType::kCommReduce)
      fail("reduction: axis ", iv.var().name(), " is not a reduction axis (create it with te::reduce_axis)");
    if (!iv.dom().min.defined() || !iv.dom().extent.defined())
      fail("reduction: axis ", iv.var().name(), " has no range");
  }
  if (!condition.defined()) condition = make_const(DataType::boolean(), 1);
  if (!condition.dtype().is_bool() || !condition.dtype().is_scalar())
    fail("reduction: condition must be a scalar bool, got ", describe(condition));
  DataType t = source[value_index].dtype();
  return Expr(new ReduceNode(t, std::move(combiner), std::move(source), std::move(axis), std::move(condition),
                             value_index));
}

Tensor Operation::output(int i) const {
  TE_ICHECK(get(), "output of an undefined operation");
  if (i < 0 || i >= get()->num_outputs())
    fail("operation ", get()->name, " has ", get()->num_outputs(), " outputs; output(", i, ") does not exist");
  return Tensor(new TensorNode(*this, i, get()->output_shape(i), get()->output_dtype(i)));
}

Expr TensorReadNode::make(Tensor tensor, std::vector<Expr> indices) {
  TE_ICHECK(tensor.defined(), "read of an undefined tensor");
  if (int(indices.size()) != tensor.ndim())
    fail("tensor ", tensor.name(), " has ", tensor.ndim(), " dimension(s) but was indexed with ", indices.size(),
         " index(es)");
  int lanes = 1;
  for (size_t k = 0; k < indices.size(); ++k) {
    const Expr& idx = indices[k];
    if (!idx.defined()) fail("tensor ", tensor.name(), ": index ", k, " is undefined");
    if (!idx.dtype().is_integer())
      fail("tensor ", tensor.name(), ": index ", k, " must be an integer expression, got ", describe(idx));
    int l = idx.dtype().lanes;
    if (l > 1) {
      TE_ICHECK(lanes == 1 || lanes == l, "tensor ", tensor.name(), " read with indices of different lanes");
      lanes = l;
    }
  }
  DataType t = tensor.dtype().with_lanes(lanes);
  return Expr(new TensorReadNode(t, std::move(tensor), std::move(indices)));
}

Expr Tensor::operator()(std::vector<Expr> indices) const {
  if (!get()) fail("indexing an undefined tensor");
  return TensorReadNode::make(*this, std::move(indices));
}

// ---------------------------------------------------------------- statements
Stmt LetStmtNode::make(Var var, Expr value, Stmt body) {
  TE_ICHECK(var.defined() && value.defined() && body.defined(), "LetStmt with an undefined part");
  TE_ICHECK(var.dtype() == value.dtype(), "LetStmt ", var.name(), " (", var.dtype().str(), ") bound to ",
            describe(value));
  return Stmt(new LetStmtNode(std::move(var), std::move(value), std::move(body)));
}

Stmt AttrStmtNode::make(std::string key, Expr value, Stmt body) {
  TE_ICHECK(!key.empty(), "AttrStmt needs a key");
  TE_ICHECK(body.defined(), "AttrStmt ", key, " without a body");
  return Stmt(new AttrStmtNode(std::move(key), std::move(value), std::move(body)));
}

Stmt ForNode::make(Var loop_var, Expr min, Expr extent, ForKind kind, Stmt body, std::string thread_tag) {
  TE_ICHECK(loop_var.defined() && min.defined() && extent.defined() && body.defined(), "For with an undefined part");
  TE_ICHECK(loop_var.dtype().is_integer() && loop_var.dtype().is_scalar(), "For variable ", loop_var.name(),
            " must be a scalar integer");
  TE_ICHECK(min.dtype().is_integer() && min.dtype().is_scalar(), "For ", loop_var.name(), " min ", describe(min));
  TE_ICHECK(extent.dtype().is_integer() && extent.dtype().is_scalar(), "For ", loop_var.name(), " extent ",
            describe(extent));
  TE_ICHECK(kind != ForKind::kThreadBinding || !thread_tag.empty(), "thread-bound loop ", loop_var.name(),
            " needs a thread tag");
  return Stmt(new ForNode(std::move(loop_var), std::move(min), std::move(extent), kind, std::move(thread_tag),
                          std::move(body)));
}

Stmt StoreNode::make(Var buffer, Expr value, Expr index) {
  TE_ICHECK(buffer.defined() && buffer.dtype().is_handle(), "Store buffer must be a handle variable");
  TE_ICHECK(value.defined() && index.defined(), "Store with an undefined part");
  TE_ICHECK(index.dtype().is_integer(), "Store index must be an integer, got ", describe(index));
  TE_ICHECK(value.dtype().lanes == index.dtype().lanes, "Store of ", describe(value), " at ", describe(index),
            ": lanes must match");
  return Stmt(new StoreNode(std::move(buffer), std::move(value), std::move(index)));
}

Stmt TensorStoreNode::make(Tensor tensor, Expr value, std::vector<Expr> indices) {
  TE_ICHECK(tensor.defined() && value.defined(), "TensorStore with an undefined part");
  TE_ICHECK(int(indices.size()) == tensor.ndim(), "TensorStore to ", tensor.name(), " with ", indices.size(),
            " indices, expects ", tensor.ndim());
  for (const Expr& idx : indices)
    TE_ICHECK(idx.defined() && idx.dtype().is_integer(), "TensorStore to ", tensor.name(), " index ", describe(idx));
  return Stmt(new TensorStoreNode(std::move(tensor), std::move(value), std::move(indices)));
}

Stmt RealizeNode::make(Tensor tensor, std::vector<Range> bounds, std::string scope, Stmt body) {
  TE_ICHECK(tensor.defined() && body.defined(), "Realize with an undefined part");
  TE_ICHECK(int(bounds.size()) == tensor.ndim(), "Realize of ", tensor.name(), " with ", bounds.size(),
            " bounds, expects ", tensor.ndim());
  for (const Range& r : bounds)
    TE_ICHECK(r.min.defined() && r.extent.defined(), "Realize of ", tensor.name(), " with an undefined bound");
  return Stmt(new RealizeNode(std::move(tensor), std::move(bounds), std::move(scope), std::move(body)));
}

Stmt AllocateNode::make(Var buffer, DataType dtype, std::vector<Expr> extents, std::string scope, Stmt body) {
  TE_ICHECK(buffer.defined() && buffer.dtype().is_handle(), "Allocate buffer must be a handle variable");
  TE_ICHECK(body.defined(), "Allocate ", buffer.name(), " without a body");
  for (const Expr& e : extents)
    TE_ICHECK(e.defined() && e.dtype().is_integer() && e.dtype().is_scalar(), "Allocate ", buffer.name(),
              " extent ", describe(e));
  return Stmt(new AllocateNode(std::move(buffer), dtype, std::move(extents), std::move(scope), std::move(body)));
}

Stmt SeqNode::make(std::vector<Stmt> seq) {
  std::vector<Stmt> flat;
  for (Stmt& s : seq) {
    if (!s.defined()) continue;
    if (const auto* inner = s.as<SeqNode>()) {
      for (const Stmt& t : inner->seq) flat.push_back(t);  // inner Seqs are flat already
    } else {
      flat.push_back(std::move(s));
    }
  }
  // Nothing left: a no-op statement rather than an undefined handle every pass would trip on.
  if (flat.empty()) return EvaluateNode::make(make_zero(DataType::int32()));
  if (flat.size() == 1) return flat[0];
  return Stmt(new SeqNode(std::move(flat)));
}

Stmt IfThenElseNode::make(Expr condition, Stmt then_case, Stmt else_case) {
  TE_ICHECK(condition.defined() && then_case.defined(), "IfThenElse with an undefined part");
  TE_ICHECK(condition.dtype().is_bool() && condition.dtype().is_scalar(), "IfThenElse condition ",
            describe(condition), " must be a scalar bool");
  return Stmt(new IfThenElseNode(std::move(condition), std::move(then_case), std::move(else_case)));
}

Stmt EvaluateNode::make(Expr value) {
  TE_ICHECK(value.defined(), "Evaluate of an undefined expression");
  return Stmt(new EvaluateNode(std::move(value)));
}

// ---------------------------------------------------------------- constants
const int64_t* as_const_int(const Expr& e) {
  const auto* imm = e.as<IntImmNode>();
  return imm ? &imm->value : nullptr;
}

namespace {
// The scalar constant e holds (a Broadcast of a constant counts), as a double.
bool const_value(const Expr& e, double* out) {
  if (const auto* bc = e.as<BroadcastNode>()) return const_value(bc->value, out);
  if (const auto* i = e.as<IntImmNode>()) {
    *out = double(i->value);
    return true;
  }
  if (const auto* f = e.as<FloatImmNode>()) {
    *out = f->value;
    return true;
  }
  return false;
}
}  // namespace

bool is_const_int(const Expr& e, int64_t value) {
  if (const auto* bc = e.as<BroadcastNode>()) return is_const_int(bc->value, value);
  const int64_t* v = as_const_int(e);
  return v && *v == value;
}

bool is_zero(const Expr& e) {
  double v;
  return const_value(e, &v) && v == 0;
}

bool is_one(const Expr& e) {
  double v;
  return const_value(e, &v) && v == 1;
}

Expr make_const(DataType t, double value) {
  if (t.lanes > 1) return BroadcastNode::make(make_const(t.element_of(), value), t.lanes);
  if (t.is_float()) return FloatImmNode::make(t, value);
  TE_ICHECK(t.is_integer() || t.is_bool(), "no constant of dtype ", t.str());
  if (t.is_bool()) return IntImmNode::make(t, value != 0);
  if (t.is_uint() && t.bits == 64 && value >= 9223372036854775808.0) return IntImmNode::make(t, int64_t(uint64_t(value)));
  return IntImmNode::make(t, int64_t(value));
}

Expr make_zero(DataType t) { return make_const(t, 0); }

}  // namespace te
