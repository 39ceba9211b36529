// The IR interpreter: slow, simple and exact. It is the oracle the compiler is checked
// against, so every operation follows the semantics written in te/ir.h literally.
#include "ir/interpreter.h"

#include <cmath>
#include <cstring>
#include <memory>

#include "ir/half.h"
#include "te/ir_functor.h"

namespace te {

Value read_buffer_element(const InterpBuffer& b, int64_t i) {
  TE_ICHECK(i >= 0 && i < b.numel, "interpreter: read of element ", i, " of a buffer of ", b.numel);
  const unsigned char* p = static_cast<const unsigned char*>(b.data) + i * b.dtype.bytes();
  DataType t = b.dtype;
  if (t.is_float()) {
    if (t.bits == 32) { float v; std::memcpy(&v, p, 4); return Value::from_float(t, v); }
    if (t.bits == 64) { double v; std::memcpy(&v, p, 8); return Value::from_float(t, v); }
    if (t.bits == 16) return Value::from_float(t, detail::load_half(p, 0));
    TE_ICHECK(false, "interpreter: float", int(t.bits), " buffers are not supported");
  }
  int64_t v = 0;
  switch (t.bytes()) {
    case 1: v = t.is_int() ? int64_t(*reinterpret_cast<const int8_t*>(p)) : int64_t(*p); break;
    case 2: { int16_t x; std::memcpy(&x, p, 2); v = t.is_int() ? x : uint16_t(x); break; }
    case 4: { int32_t x; std::memcpy(&x, p, 4); v = t.is_int() ? x : uint32_t(x); break; }
    default: std::memcpy(&v, p, 8);
  }
  return Value::from_int(t, v);
}

namespace {
int64_t wrap(DataType t, int64_t v) {
  if (t.is_bool()) return v != 0;
  if (t.bits >= 64) return v;
  uint64_t mask = (uint64_t(1) << t.bits) - 1;
  uint64_t u = uint64_t(v) & mask;
  if (t.is_uint()) return int64_t(u);
  uint64_t sign = uint64_t(1) << (t.bits - 1);
  return (u & sign) ? int64_t(u | ~mask) : int64_t(u);
}
// A float value of dtype t: float16 rounds to binary16 (as a __half store or __float2half does).
double round_float(DataType t, double v) {
  if (t.bits == 16) {
    uint16_t h;
    detail::store_half(&h, 0, v);
    return detail::load_half(&h, 0);
  }
  return t.bits == 32 ? double(float(v)) : v;
}
int64_t floordiv_i(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
}  // namespace

Value Value::from_int(DataType t, int64_t v) {
  Value r;
  r.dtype = t;
  if (t.is_float()) r.f.assign(t.lanes, round_float(t, double(v)));
  else r.i.assign(t.lanes, wrap(t, v));
  return r;
}
Value Value::from_float(DataType t, double v) {
  Value r;
  r.dtype = t;
  if (t.is_float()) r.f.assign(t.lanes, round_float(t, v));
  else r.i.assign(t.lanes, wrap(t, int64_t(v)));
  return r;
}
int64_t Value::as_int(int lane) const {
  if (dtype.is_float()) return int64_t(f.at(lane));
  return i.at(lane);
}
double Value::as_float(int lane) const {
  if (dtype.is_float()) return f.at(lane);
  return double(i.at(lane));
}

void Interpreter::bind(const Var& v, Value value) { vars_[v.get()] = std::move(value); }
void Interpreter::bind_buffer(const Var& handle, InterpBuffer buffer) { buffers_[handle.get()] = buffer; }

class InterpreterImpl {
 public:
  explicit InterpreterImpl(Interpreter& in) : in_(in) {}

  Value eval(const Expr& e) {
    TE_ICHECK(e.defined(), "interpreter: undefined expression");
    switch (e->kind) {
      case ExprKind::IntImm: return Value::from_int(e.dtype(), e.as<IntImmNode>()->value);
      case ExprKind::FloatImm: return Value::from_float(e.dtype(), e.as<FloatImmNode>()->value);
      case ExprKind::Var: {
        auto it = in_.vars_.find(e.as<VarNode>());
        TE_ICHECK(it != in_.vars_.end(), "interpreter: unbound variable ", e.as<VarNode>()->name);
        return it->second;
      }
      case ExprKind::Add: case ExprKind::Sub: case ExprKind::Mul: case ExprKind::Div:
      case ExprKind::Mod: case ExprKind::FloorDiv: case ExprKind::FloorMod: case ExprKind::Min:
      case ExprKind::Max: case ExprKind::EQ: case ExprKind::NE: case ExprKind::LT:
      case ExprKind::LE: case ExprKind::GT: case ExprKind::GE: case ExprKind::And:
      case ExprKind::Or: return binary(e);
      case ExprKind::Not: {
        Value a = eval(e.as<NotNode>()->a);
        for (auto& x : a.i) x = !x;
        return a;
      }
      case ExprKind::Select: {
        const SelectNode* op = e.as<SelectNode>();
        Value c = eval(op->condition), t = eval(op->true_value), f = eval(op->false_value);
        Value r = t;
        for (int l = 0; l < e.dtype().lanes; ++l) {
          bool take = c.i.at(c.dtype.lanes == 1 ? 0 : l) != 0;
          if (!take) {
            if (r.dtype.is_float()) r.f[l] = f.f[l];
            else r.i[l] = f.i[l];
          }
        }
        return r;
      }
      case ExprKind::Cast: return cast(e.dtype(), eval(e.as<CastNode>()->value));
      case ExprKind::Call: return call(e.as<CallNode>());
      case ExprKind::Load: return load(e.as<LoadNode>());
      case ExprKind::Ramp: {
        const RampNode* op = e.as<RampNode>();
        Value base = eval(op->base), stride = eval(op->stride);
        Value r;
        r.dtype = e.dtype();
        for (int l = 0; l < op->lanes; ++l) {
          if (r.dtype.is_float()) r.f.push_back(base.f[0] + l * stride.f[0]);
          else r.i.push_back(wrap(r.dtype, base.i[0] + l * stride.i[0]));
        }
        return r;
      }
      case ExprKind::Broadcast: {
        const BroadcastNode* op = e.as<BroadcastNode>();
        Value v = eval(op->value);
        Value r;
        r.dtype = e.dtype();
        if (r.dtype.is_float()) r.f.assign(op->lanes, v.f[0]);
        else r.i.assign(op->lanes, v.i[0]);
        return r;
      }
      case ExprKind::Let: {
        const LetNode* op = e.as<LetNode>();
        ScopedBind bind(in_, op->var, eval(op->value));
        return eval(op->body);
      }
      case ExprKind::TensorRead: {
        const TensorReadNode* op = e.as<TensorReadNode>();
        TE_ICHECK(bool(in_.tensor_read), "interpreter: TensorRead of ", op->tensor.name(), " without a tensor_read callback");
        std::vector<int64_t> idx;
        for (const Expr& i : op->indices) idx.push_back(eval(i).as_int());
        return in_.tensor_read(op->tensor, idx);
      }
      case ExprKind::Reduce: return reduce(e.as<ReduceNode>());
    }
    TE_ICHECK(false, "interpreter: unknown expression kind");
  }

  void run(const Stmt& s) {
    if (!s.defined()) return;
    switch (s->kind) {
      case StmtKind::LetStmt: {
        const LetStmtNode* op = s.as<LetStmtNode>();
        ScopedBind bind(in_, op->var, eval(op->value));
        run(op->body);
        return;
      }
      case StmtKind::AttrStmt:
        if (s.as<AttrStmtNode>()->key == kGpuAllreduceAttr)
          fail("interpreter: a cross-thread reduction (a reduction axis bound to threadIdx) runs on a GPU only; "
               "interpret the schedule without binding the reduction axis");
        run(s.as<AttrStmtNode>()->body);
        return;
      case StmtKind::For: {
        const ForNode* op = s.as<ForNode>();
        int64_t lo = eval(op->min).as_int(), n = eval(op->extent).as_int();
        for (int64_t v = lo; v < lo + n; ++v) {
          ScopedBind bind(in_, op->loop_var, Value::from_int(op->loop_var.dtype(), v));
          run(op->body);
        }
        return;
      }
      case StmtKind::Store: store(s.as<StoreNode>()); return;
      case StmtKind::TensorStore: {
        const TensorStoreNode* op = s.as<TensorStoreNode>();
        TE_ICHECK(bool(in_.tensor_store), "interpreter: TensorStore without a tensor_store callback");
        std::vector<int64_t> idx;
        for (const Expr& i : op->indices) idx.push_back(eval(i).as_int());
        in_.tensor_store(op->tensor, idx, eval(op->value));
        return;
      }
      case StmtKind::Realize: run(s.as<RealizeNode>()->body); return;
      case StmtKind::Allocate: {
        const AllocateNode* op = s.as<AllocateNode>();
        int64_t n = 1;
        for (const Expr& e : op->extents) n *= eval(e).as_int();
        TE_ICHECK(n >= 0 && n < (int64_t(1) << 32), "interpreter: allocation of ", n, " elements");
        // Poison: a read of memory nobody wrote shows up as NaN / a strange integer.
        std::vector<unsigned char> storage(size_t(n) * op->dtype.bytes() + 64, 0xAB);
        if (op->dtype.is_float()) fill_nan(storage.data(), op->dtype, n);
        in_.owned_.push_back(std::move(storage));
        InterpBuffer buf{in_.owned_.back().data(), op->dtype.element_of(), n};
        auto saved = in_.buffers_.find(op->buffer.get());
        bool had = saved != in_.buffers_.end();
        InterpBuffer old = had ? saved->second : InterpBuffer{};
        in_.buffers_[op->buffer.get()] = buf;
        run(op->body);
        in_.owned_.pop_back();  // allocations nest, so this is the one made above
        if (had) in_.buffers_[op->buffer.get()] = old;
        else in_.buffers_.erase(op->buffer.get());
        return;
      }
      case StmtKind::Seq:
        for (const Stmt& x : s.as<SeqNode>()->seq) run(x);
        return;
      case StmtKind::IfThenElse: {
        const IfThenElseNode* op = s.as<IfThenElseNode>();
        if (eval(op->condition).as_bool()) run(op->then_case);
        else run(op->else_case);
        return;
      }
      case StmtKind::Evaluate: eval(s.as<EvaluateNode>()->value); return;
    }
  }

 private:
  // Binds a variable for a scope and restores the previous binding after it.
  struct ScopedBind {
    ScopedBind(Interpreter& in, const Var& v, Value value) : in_(in), var_(v.get()) {
      auto it = in_.vars_.find(var_);
      had_ = it != in_.vars_.end();
      if (had_) old_ = it->second;
      in_.vars_[var_] = std::move(value);
    }
    ~ScopedBind() {
      if (had_) in_.vars_[var_] = old_;
      else in_.vars_.erase(var_);
    }
    Interpreter& in_;
    const VarNode* var_;
    bool had_ = false;
    Value old_;
  };

  static void fill_nan(unsigned char* p, DataType t, int64_t n) {
    for (int64_t k = 0; k < n; ++k) {
      if (t.bits == 32) {
        float v = std::nanf("");
        std::memcpy(p + 4 * k, &v, 4);
      } else if (t.bits == 64) {
        double v = std::nan("");
        std::memcpy(p + 8 * k, &v, 8);
      }
    }
  }

  static Value lanes_of(Value v, int lanes) {
    if (v.dtype.lanes == lanes) return v;  // moved, not copied
    Value r = v;
    r.dtype = v.dtype.with_lanes(lanes);
    if (v.dtype.is_float()) r.f.assign(lanes, v.f[0]);
    else r.i.assign(lanes, v.i[0]);
    return r;
  }

  Value binary(const Expr& e) {
    BinaryOperands op = binary_operands(e);
    int lanes = e.dtype().lanes;
    Value a = lanes_of(eval(*op.a), lanes), b = lanes_of(eval(*op.b), lanes);  // temporaries: moved
    DataType in = op.a->dtype();
    Value r;
    r.dtype = e.dtype();
    for (int l = 0; l < lanes; ++l) {
      if (in.is_float()) {
        double x = a.f[l], y = b.f[l], v = 0;
        bool is_bool = true;
        int64_t bv = 0;
        switch (e->kind) {
          case ExprKind::Add: v = x + y; is_bool = false; break;
          case ExprKind::Sub: v = x - y; is_bool = false; break;
          case ExprKind::Mul: v = x * y; is_bool = false; break;
          case ExprKind::Div: v = x / y; is_bool = false; break;
          case ExprKind::Mod: v = std::fmod(x, y); is_bool = false; break;
          case ExprKind::FloorDiv: v = std::floor(x / y); is_bool = false; break;
          case ExprKind::FloorMod: v = x - std::floor(x / y) * y; is_bool = false; break;
          case ExprKind::Min: v = std::min(x, y); is_bool = false; break;
          case ExprKind::Max: v = std::max(x, y); is_bool = false; break;
          case ExprKind::EQ: bv = x == y; break;
          case ExprKind::NE: bv = x != y; break;
          case ExprKind::LT: bv = x < y; break;
          case ExprKind::LE: bv = x <= y; break;
          case ExprKind::GT: bv = x > y; break;
          case ExprKind::GE: bv = x >= y; break;
          default: TE_ICHECK(false, "interpreter: ", kind_name(e->kind), " on floats");
        }
        if (is_bool) r.i.push_back(bv);
        else r.f.push_back(round_float(in, v));
      } else {
        int64_t x = a.i[l], y = b.i[l], v = 0;
        bool cmp = false;
        switch (e->kind) {
          case ExprKind::Add: v = int64_t(uint64_t(x) + uint64_t(y)); break;
          case ExprKind::Sub: v = int64_t(uint64_t(x) - uint64_t(y)); break;
          case ExprKind::Mul: v = int64_t(uint64_t(x) * uint64_t(y)); break;
          // x / 0 == x % 0 == 0 (te/ir.h); y == -1 is done by negation, which wraps.
          case ExprKind::Div: v = y == 0 ? 0 : y == -1 ? int64_t(0 - uint64_t(x)) : x / y; break;
          case ExprKind::Mod: v = (y == 0 || y == -1) ? 0 : x % y; break;
          case ExprKind::FloorDiv: v = y == 0 ? 0 : y == -1 ? int64_t(0 - uint64_t(x)) : floordiv_i(x, y); break;
          case ExprKind::FloorMod: v = (y == 0 || y == -1) ? 0 : x - floordiv_i(x, y) * y; break;
          case ExprKind::Min: v = std::min(x, y); break;
          case ExprKind::Max: v = std::max(x, y); break;
          case ExprKind::EQ: v = x == y; cmp = true; break;
          case ExprKind::NE: v = x != y; cmp = true; break;
          case ExprKind::LT: v = x < y; cmp = true; break;
          case ExprKind::LE: v = x <= y; cmp = true; break;
          case ExprKind::GT: v = x > y; cmp = true; break;
          case ExprKind::GE: v = x >= y; cmp = true; break;
          case ExprKind::And: v = x && y; cmp = true; break;
          case ExprKind::Or: v = x || y; cmp = true; break;
          default: TE_ICHECK(false, "interpreter: unexpected binary node");
        }
        r.i.push_back(cmp ? v : wrap(in, v));
      }
    }
    return r;
  }

  static Value cast(DataType t, const Value& v) {
    Value r;
    r.dtype = t;
    for (int l = 0; l < t.lanes; ++l) {
      if (t.is_float()) r.f.push_back(round_float(t, v.as_float(l)));
      else if (t.is_bool()) r.i.push_back(v.dtype.is_float() ? v.f[l] != 0 : v.i[l] != 0);
      else if (v.dtype.is_float()) r.i.push_back(wrap(t, int64_t(std::trunc(v.f[l]))));
      else r.i.push_back(wrap(t, v.i[l]));
    }
    return r;
  }

  // kReduce*: the lanes combined in reduce_lanes_order's tree, as the code generators do.
  static Value reduce_lanes(Intrinsic op, const Value& v) {
    const DataType t = v.dtype.element_of();
    const ExprKind kind = op == Intrinsic::kReduceAdd ? ExprKind::Add
                          : op == Intrinsic::kReduceMin ? ExprKind::Min : ExprKind::Max;
    auto combine = [&](Value& x, int i, int j) {  // lane i = lane i op lane j
      if (t.is_float()) {
        double a = x.f[size_t(i)], b = x.f[size_t(j)];
        double r = kind == ExprKind::Add ? a + b : kind == ExprKind::Min ? std::min(a, b) : std::max(a, b);
        x.f[size_t(i)] = round_float(t, r);
      } else {
        int64_t a = x.i[size_t(i)], b = x.i[size_t(j)];
        x.i[size_t(i)] = kind == ExprKind::Add ? wrap(t, int64_t(uint64_t(a) + uint64_t(b)))
                         : kind == ExprKind::Min ? std::min(a, b) : std::max(a, b);
      }
    };
    Value x = v;
    std::vector<int> odd;
    for (const auto& [n, half] : reduce_lanes_order(v.dtype.lanes, &odd)) {
      (void)n;
      for (int i = 0; i < half; ++i) combine(x, i, i + half);
    }
    Value r;
    r.dtype = t;
    for (int lane : odd) combine(x, 0, lane);  // lanes set aside keep their values: later steps never write them
    if (t.is_float()) r.f.push_back(x.f[0]);
    else r.i.push_back(x.i[0]);
    return r;
  }

  Value call(const CallNode* op) {
    if (is_wmma(op->op))  // warp-wide: the CUDA emulator runs them (te::cuda_emulate / Module.emulate)
      fail("the IR interpreter cannot run ", intrinsic_name(op->op),
           " (a tensor-core operation of a whole warp); run the kernel with the CUDA emulator instead");
    if (is_async_copy(op->op))  // shared memory and the copy groups are the CUDA emulator's
      fail("the IR interpreter cannot run ", intrinsic_name(op->op),
           " (an asynchronous copy into GPU shared memory); run the kernel with the CUDA emulator instead");
    if (op->op == Intrinsic::kIfThenElse) {
      Value c = eval(op->args[0]);
      if (c.dtype.lanes == 1) return c.as_bool() ? eval(op->args[1]) : eval(op->args[2]);
      // Vector condition: both sides are evaluated (the vectorizer only produces this when
      // both are safe), then blended per lane.
      Value t = eval(op->args[1]), f = eval(op->args[2]);
      for (int l = 0; l < op->dtype.lanes; ++l)
        if (!c.i[l]) {
          if (t.dtype.is_float()) t.f[l] = f.f[l];
          else t.i[l] = f.i[l];
        }
      return t;
    }
    if (op->op == Intrinsic::kLikely) return eval(op->args[0]);
    if (op->op == Intrinsic::kPrefetch) {
      // A cache hint: no effect, but its element must exist (read_element checks the bounds).
      if (const auto* load = op->args[0].as<LoadNode>()) {
        eval(op->args[0]);
        if (in_.on_prefetch) in_.on_prefetch(load->buffer.get(), eval(load->index).as_int());
      }
      return Value::from_int(op->dtype, 0);
    }
    if (is_lane_reduction(op->op)) return reduce_lanes(op->op, eval(op->args[0]));
    std::vector<Value> args;
    for (const Expr& a : op->args) args.push_back(eval(a));
    Value r;
    r.dtype = op->dtype;
    for (int l = 0; l < op->dtype.lanes; ++l) {
      if (!op->dtype.is_float()) {
        TE_ICHECK(op->op == Intrinsic::kAbs, "interpreter: ", intrinsic_name(op->op), " on integers");
        r.i.push_back(wrap(op->dtype, std::llabs(args[0].i[l])));
        continue;
      }
      double x = args[0].f[l], v = 0;
      switch (op->op) {
        case Intrinsic::kExp: v = std::exp(x); break;
        case Intrinsic::kLog: v = std::log(x); break;
        case Intrinsic::kSqrt: v = std::sqrt(x); break;
        case Intrinsic::kRsqrt: v = 1.0 / std::sqrt(x); break;
        case Intrinsic::kTanh: v = std::tanh(x); break;
        case Intrinsic::kSigmoid: v = 1.0 / (1.0 + std::exp(-x)); break;
        case Intrinsic::kErf: v = std::erf(x); break;
        case Intrinsic::kPow: v = std::pow(x, args[1].f[l]); break;
        case Intrinsic::kAbs: v = std::fabs(x); break;
        case Intrinsic::kFloor: v = std::floor(x); break;
        case Intrinsic::kCeil: v = std::ceil(x); break;
        case Intrinsic::kRound: v = std::round(x); break;
        case Intrinsic::kFma: v = x * args[1].f[l] + args[2].f[l]; break;
        default: TE_ICHECK(false, "interpreter: intrinsic ", intrinsic_name(op->op));
      }
      r.f.push_back(round_float(op->dtype, v));
    }
    return r;
  }

  InterpBuffer& buffer(const Var& v) {
    auto it = in_.buffers_.find(v.get());
    TE_ICHECK(it != in_.buffers_.end(), "interpreter: buffer ", v.name(), " is not bound");
    return it->second;
  }



  static void write_element(InterpBuffer& b, int64_t i, const Value& v, int lane) {
    TE_ICHECK(i >= 0 && i < b.numel, "interpreter: write of element ", i, " of a buffer of ", b.numel);
    unsigned char* p = static_cast<unsigned char*>(b.data) + i * b.dtype.bytes();
    DataType t = b.dtype;
    if (t.is_float()) {
      double x = v.as_float(lane);
      if (t.bits == 32) { float f = float(x); std::memcpy(p, &f, 4); return; }
      if (t.bits == 16) { detail::store_half(p, 0, x); return; }
      std::memcpy(p, &x, 8);
      return;
    }
    int64_t x = wrap(t, v.as_int(lane));
    std::memcpy(p, &x, t.bytes());  // little-endian: the low bytes
  }

  Value load(const LoadNode* op) {
    InterpBuffer& b = buffer(op->buffer);
    Value idx = eval(op->index);
    Value r;
    r.dtype = op->dtype;
    for (int l = 0; l < op->dtype.lanes; ++l) {
      if (in_.on_load) in_.on_load(op->buffer.get(), idx.i[l]);
      Value x = read_buffer_element(b, idx.i[l]);
      if (r.dtype.is_float()) r.f.push_back(x.as_float());
      else r.i.push_back(x.as_int());
    }
    return r;
  }

  void store(const StoreNode* op) {
    InterpBuffer& b = buffer(op->buffer);
    Value v = eval(op->value), idx = eval(op->index);
    for (int l = 0; l < v.dtype.lanes; ++l) write_element(b, idx.i[l], v, l);
  }

  Value reduce(const ReduceNode* op) {
    const CommReducerNode* c = op->combiner.get();
    size_t n = c->lhs.size();
    std::vector<Value> acc;
    for (const Expr& id : c->identity) acc.push_back(eval(id));
    reduce_axis(op, 0, acc);
    (void)n;
    return acc[op->value_index];
  }

  void reduce_axis(const ReduceNode* op, size_t d, std::vector<Value>& acc) {
    if (d == op->axis.size()) {
      if (!eval(op->condition).as_bool()) return;
      const CommReducerNode* c = op->combiner.get();
      std::vector<Value> rhs;
      for (const Expr& s : op->source) rhs.push_back(eval(s));
      std::vector<std::unique_ptr<ScopedBind>> binds;
      for (size_t k = 0; k < c->lhs.size(); ++k) {
        binds.push_back(std::make_unique<ScopedBind>(in_, c->lhs[k], acc[k]));
        binds.push_back(std::make_unique<ScopedBind>(in_, c->rhs[k], rhs[k]));
      }
      std::vector<Value> next;
      for (const Expr& r : c->result) next.push_back(eval(r));
      binds.clear();
      acc = std::move(next);
      return;
    }
    const IterVar& iv = op->axis[d];
    int64_t lo = eval(iv->dom.min).as_int(), ext = eval(iv->dom.extent).as_int();
    for (int64_t v = lo; v < lo + ext; ++v) {
      ScopedBind bind(in_, iv->var, Value::from_int(iv->var.dtype(), v));
      reduce_axis(op, d + 1, acc);
    }
  }

  Interpreter& in_;
};

Value Interpreter::eval(const Expr& e) { return InterpreterImpl(*this).eval(e); }
void Interpreter::run(const Stmt& s) { InterpreterImpl(*this).run(s); }

}  // namespace te
