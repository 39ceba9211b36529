// Expressions of the flat loop IR → LLVM values. Integer semantics follow te/ir.h: Div/Mod
// truncate, FloorDiv/FloorMod round toward negative infinity; bool is i1 in registers and
// i8 in memory; float16 is LLVM half (math on it is done in float32).
#include <llvm/ADT/APInt.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/IntrinsicsX86.h>

#include "codegen/llvm/codegen_llvm_impl.h"
#include "codegen/llvm/target_machine.h"

namespace te::llvm_backend {

llvm::Type* CodeGenLLVM::llvm_type(DataType t) const {
  llvm::Type* elem = nullptr;
  switch (t.code) {
    case DataType::kBool: elem = llvm::Type::getInt1Ty(ctx_); break;
    case DataType::kInt:
    case DataType::kUInt: elem = llvm::Type::getIntNTy(ctx_, t.bits); break;
    case DataType::kFloat:
      if (t.bits == 16) elem = llvm::Type::getHalfTy(ctx_);
      else if (t.bits == 32) elem = llvm::Type::getFloatTy(ctx_);
      else if (t.bits == 64) elem = llvm::Type::getDoubleTy(ctx_);
      else fail("codegen_llvm: unsupported float width ", int(t.bits), " in kernel ", func_.name);
      break;
    case DataType::kHandle: elem = llvm::PointerType::getUnqual(ctx_); break;
  }
  return t.lanes > 1 ? llvm::FixedVectorType::get(elem, t.lanes) : elem;
}

llvm::Type* CodeGenLLVM::llvm_memory_type(DataType t) const {
  return t.is_bool() ? llvm_type(DataType(DataType::kInt, 8, t.lanes)) : llvm_type(t);
}

llvm::Value* CodeGenLLVM::to_register(DataType t, llvm::Value* v) {
  if (!t.is_bool()) return v;
  return builder_.CreateICmpNE(v, llvm::Constant::getNullValue(v->getType()));
}
llvm::Value* CodeGenLLVM::to_memory(DataType t, llvm::Value* v) {
  if (!t.is_bool()) return v;
  return builder_.CreateZExt(v, llvm_memory_type(t));
}

llvm::Value* CodeGenLLVM::lookup_var(const VarNode* v) const {
  auto it = state_.vars.find(v);
  if (it == state_.vars.end())
    fail("codegen_llvm: variable '", v->name, "' is used but not defined in kernel ", func_.name,
         " (not an argument, size variable, loop variable or let binding)");
  return it->second;
}

llvm::Value* CodeGenLLVM::emit(const Expr& e) {
  TE_ICHECK(e.defined(), "codegen_llvm: undefined expression");
  DataType t = e.dtype();
  switch (e->kind) {
    case ExprKind::IntImm: {
      const auto* op = e.as<IntImmNode>();
      llvm::APInt value(64, uint64_t(op->value), true);
      return llvm::ConstantInt::get(llvm_type(t), value.sextOrTrunc(t.bits));
    }
    case ExprKind::FloatImm: return llvm::ConstantFP::get(llvm_type(t), e.as<FloatImmNode>()->value);
    case ExprKind::Var: return lookup_var(e.as<VarNode>());
#define TE_BINARY(kind)                                                   \
  case ExprKind::kind: {                                                  \
    const auto* op = static_cast<const BinaryNode<ExprKind::kind>*>(e.get()); \
    if (is_int_division(ExprKind::kind, op->a.dtype()))                   \
      return emit_int_division(ExprKind::kind, op->a.dtype(), op->b, emit(op->a), emit(op->b)); \
    return emit_binary(ExprKind::kind, op->a.dtype(), emit(op->a), emit(op->b)); \
  }
      TE_BINARY(Add) TE_BINARY(Sub) TE_BINARY(Mul) TE_BINARY(Div) TE_BINARY(Mod)
      TE_BINARY(FloorDiv) TE_BINARY(FloorMod) TE_BINARY(Min) TE_BINARY(Max)
      TE_BINARY(EQ) TE_BINARY(NE) TE_BINARY(LT) TE_BINARY(LE) TE_BINARY(GT) TE_BINARY(GE)
      TE_BINARY(And) TE_BINARY(Or)
#undef TE_BINARY
    case ExprKind::Not: return builder_.CreateNot(emit(e.as<NotNode>()->a));
    case ExprKind::Select: {
      const auto* op = e.as<SelectNode>();
      llvm::Value* c = emit(op->condition);
      llvm::Value* a = emit(op->true_value);
      llvm::Value* b = emit(op->false_value);
      return builder_.CreateSelect(c, a, b);
    }
    case ExprKind::Cast: {
      const auto* op = e.as<CastNode>();
      return emit_cast(op->value.dtype(), t, emit(op->value));
    }
    case ExprKind::Call: return emit_call(e.as<CallNode>());
    case ExprKind::Load: return emit_load(e.as<LoadNode>());
    case ExprKind::Ramp: {
      const auto* op = e.as<RampNode>();
      llvm::Value* base = emit(op->base);
      llvm::Value* stride = emit(op->stride);
      DataType elem = t.element_of();
      std::vector<llvm::Constant*> offsets;
      for (int i = 0; i < op->lanes; ++i) {
        offsets.push_back(elem.is_float() ? llvm::ConstantFP::get(llvm_type(elem), double(i))
                                          : llvm::ConstantInt::get(llvm_type(elem), i));
      }
      llvm::Value* lane_index = llvm::ConstantVector::get(offsets);
      llvm::Value* base_v = builder_.CreateVectorSplat(op->lanes, base);
      llvm::Value* stride_v = builder_.CreateVectorSplat(op->lanes, stride);
      return emit_binary(ExprKind::Add, t, base_v, emit_binary(ExprKind::Mul, t, lane_index, stride_v));
    }
    case ExprKind::Broadcast: {
      const auto* op = e.as<BroadcastNode>();
      return builder_.CreateVectorSplat(op->lanes, emit(op->value));
    }
    case ExprKind::Let: {
      const auto* op = e.as<LetNode>();
      bind(op->var.get(), emit(op->value));
      llvm::Value* body = emit(op->body);
      unbind(op->var.get());
      return body;
    }
    case ExprKind::TensorRead:
    case ExprKind::Reduce:
      fail("codegen_llvm: ", kind_name(e->kind), " in kernel ", func_.name,
           " — tensor-level IR must be lowered (storage flattening) before code generation");
  }
  TE_ICHECK(false, "codegen_llvm: unknown expression kind");
}

llvm::Value* CodeGenLLVM::emit_binary(ExprKind kind, DataType t, llvm::Value* a, llvm::Value* b) {
  bool is_float = t.is_float();
  bool is_signed = t.is_int();
  const bool nsw = is_signed && index_depth_ > 0;  // see index_depth_
  switch (kind) {
    case ExprKind::Add: return is_float ? builder_.CreateFAdd(a, b) : builder_.CreateAdd(a, b, "", false, nsw);
    case ExprKind::Sub: return is_float ? builder_.CreateFSub(a, b) : builder_.CreateSub(a, b, "", false, nsw);
    case ExprKind::Mul: return is_float ? builder_.CreateFMul(a, b) : builder_.CreateMul(a, b, "", false, nsw);
    case ExprKind::Div:
      if (is_float) return builder_.CreateFDiv(a, b);
      return is_signed ? builder_.CreateSDiv(a, b) : builder_.CreateUDiv(a, b);
    case ExprKind::Mod:
      if (is_float) return builder_.CreateFRem(a, b);
      return is_signed ? builder_.CreateSRem(a, b) : builder_.CreateURem(a, b);
    case ExprKind::Min:
    case ExprKind::Max: {
      bool is_min = kind == ExprKind::Min;
      if (is_float) {
        llvm::Value* less = is_min ? builder_.CreateFCmpOLT(a, b) : builder_.CreateFCmpOGT(a, b);
        return builder_.CreateSelect(less, a, b);
      }
      llvm::Intrinsic::ID id = is_signed ? (is_min ? llvm::Intrinsic::smin : llvm::Intrinsic::smax)
                                         : (is_min ? llvm::Intrinsic::umin : llvm::Intrinsic::umax);
      return builder_.CreateBinaryIntrinsic(id, a, b);
    }
    case ExprKind::EQ: case ExprKind::NE: case ExprKind::LT:
    case ExprKind::LE: case ExprKind::GT: case ExprKind::GE:
      return emit_compare(kind, t, a, b);
    case ExprKind::And: return builder_.CreateAnd(a, b);
    case ExprKind::Or: return builder_.CreateOr(a, b);
    default: TE_ICHECK(false, "emit_binary: not a binary operator: ", kind_name(kind));
  }
  return nullptr;
}

llvm::Value* CodeGenLLVM::emit_compare(ExprKind kind, DataType t, llvm::Value* a, llvm::Value* b) {
  using P = llvm::CmpInst::Predicate;
  if (t.is_float()) {
    P p = kind == ExprKind::EQ ? P::FCMP_OEQ : kind == ExprKind::NE ? P::FCMP_UNE
        : kind == ExprKind::LT ? P::FCMP_OLT : kind == ExprKind::LE ? P::FCMP_OLE
        : kind == ExprKind::GT ? P::FCMP_OGT : P::FCMP_OGE;
    return builder_.CreateFCmp(p, a, b);
  }
  bool s = t.is_int();
  P p = kind == ExprKind::EQ ? P::ICMP_EQ : kind == ExprKind::NE ? P::ICMP_NE
      : kind == ExprKind::LT ? (s ? P::ICMP_SLT : P::ICMP_ULT) : kind == ExprKind::LE ? (s ? P::ICMP_SLE : P::ICMP_ULE)
      : kind == ExprKind::GT ? (s ? P::ICMP_SGT : P::ICMP_UGT) : (s ? P::ICMP_SGE : P::ICMP_UGE);
  return builder_.CreateICmp(p, a, b);
}

bool CodeGenLLVM::is_int_division(ExprKind kind, DataType t) {
  bool division = kind == ExprKind::Div || kind == ExprKind::Mod || kind == ExprKind::FloorDiv ||
                  kind == ExprKind::FloorMod;
  return division && !t.is_float();
}

// Integer division with the semantics of te/ir.h: x / 0 == x % 0 == 0, and INT_MIN / -1
// wraps. x86's idiv traps on both, which would kill the process over a value in the data, so
// a divisor that is not a known-safe constant is replaced by 1 where it is 0 (or -1 for
// signed types), and the result fixed up afterwards. Constant divisors (index arithmetic) cost
// nothing extra.
llvm::Value* CodeGenLLVM::emit_int_division(ExprKind kind, DataType t, const Expr& b_expr, llvm::Value* a,
                                            llvm::Value* b) {
  bool floor = kind == ExprKind::FloorDiv || kind == ExprKind::FloorMod;
  bool want_mod = kind == ExprKind::Mod || kind == ExprKind::FloorMod;
  auto divide = [&](llvm::Value* divisor) {
    if (floor) return emit_floor_div_mod(want_mod, t, b_expr, a, divisor);
    return emit_binary(kind, t, a, divisor);
  };
  const int64_t* b_const = as_const_int(b_expr);
  if (const auto* bcast = b_expr.as<BroadcastNode>(); !b_const && bcast) b_const = as_const_int(bcast->value);
  if (b_const && *b_const != 0 && *b_const != -1) return divide(b);
  llvm::Value* zero = llvm::Constant::getNullValue(b->getType());
  llvm::Value* one = llvm::ConstantInt::get(b->getType(), 1);
  llvm::Value* is_zero = builder_.CreateICmpEQ(b, zero);
  llvm::Value* is_minus_one = t.is_int() ? builder_.CreateICmpEQ(b, llvm::Constant::getAllOnesValue(b->getType()))
                                         : llvm::ConstantInt::getFalse(is_zero->getType());
  llvm::Value* safe = builder_.CreateSelect(builder_.CreateOr(is_zero, is_minus_one), one, b);
  llvm::Value* result = divide(safe);  // a / 1 == a, a % 1 == 0
  if (!want_mod) result = builder_.CreateSelect(is_minus_one, builder_.CreateSub(zero, a), result);
  return builder_.CreateSelect(is_zero, zero, result);
}

// floordiv(a, b) = q - (r != 0 && sign(r) != sign(b)), floormod(a, b) = r + (same ? b : 0),
// with q, r the truncating quotient and remainder. For a positive constant b the condition
// is just r < 0 (and LLVM turns powers of two into shifts).
llvm::Value* CodeGenLLVM::emit_floor_div_mod(bool want_mod, DataType t, const Expr& b_expr, llvm::Value* a,
                                             llvm::Value* b) {
  if (t.is_float()) {
    llvm::Value* q = emit_math(Intrinsic::kFloor, t, {builder_.CreateFDiv(a, b)});
    return want_mod ? builder_.CreateFSub(a, builder_.CreateFMul(q, b)) : q;
  }
  if (t.is_uint() || t.is_bool())
    return want_mod ? builder_.CreateURem(a, b) : builder_.CreateUDiv(a, b);
  llvm::Value* q = builder_.CreateSDiv(a, b);
  llvm::Value* r = builder_.CreateSRem(a, b);
  llvm::Value* zero = llvm::Constant::getNullValue(a->getType());
  const int64_t* b_const = as_const_int(b_expr);
  const auto* b_bcast = b_expr.as<BroadcastNode>();
  if (!b_const && b_bcast) b_const = as_const_int(b_bcast->value);
  llvm::Value* adjust;
  if (b_const && *b_const > 0) {
    adjust = builder_.CreateICmpSLT(r, zero);
  } else {
    llvm::Value* nonzero = builder_.CreateICmpNE(r, zero);
    llvm::Value* signs_differ = builder_.CreateICmpSLT(builder_.CreateXor(r, b), zero);
    adjust = builder_.CreateAnd(nonzero, signs_differ);
  }
  if (want_mod) return builder_.CreateSelect(adjust, builder_.CreateAdd(r, b), r);
  return builder_.CreateSub(q, builder_.CreateZExt(adjust, a->getType()));
}

llvm::Value* CodeGenLLVM::emit_cast(DataType from, DataType to, llvm::Value* v) {
  llvm::Type* target = llvm_type(to);
  if (from.element_of() == to.element_of()) return v;
  if (to.is_bool()) {
    if (from.is_float()) return builder_.CreateFCmpUNE(v, llvm::Constant::getNullValue(v->getType()));
    return builder_.CreateICmpNE(v, llvm::Constant::getNullValue(v->getType()));
  }
  if (from.is_float() && to.is_float()) return builder_.CreateFPCast(v, target);
  if (from.is_float()) return to.is_int() ? builder_.CreateFPToSI(v, target) : builder_.CreateFPToUI(v, target);
  if (to.is_float()) return from.is_int() ? builder_.CreateSIToFP(v, target) : builder_.CreateUIToFP(v, target);
  if (from.is_handle() || to.is_handle())
    fail("codegen_llvm: cast between ", from.str(), " and ", to.str(), " in kernel ", func_.name);
  return builder_.CreateIntCast(v, target, from.is_int());
}

// kReduce*: a shuffle tree — each step adds (min/max) the upper half of the lanes onto the
// lower half, log2(lanes) vector operations in all instead of a serial chain of lanes - 1 —
// in reduce_lanes_order's order, which the interpreter follows too. The operations are
// emit_binary's, so the rounding and NaN behaviour are those of the serial code, only
// reassociated (the schedule asked for that by vectorizing the reduction axis). LLVM's
// vector.reduce.fadd would need the reassoc flag, which leaves the order to the backend.
llvm::Value* CodeGenLLVM::emit_reduce_lanes(Intrinsic op, DataType vt, llvm::Value* v) {
  const ExprKind kind = op == Intrinsic::kReduceAdd ? ExprKind::Add
                        : op == Intrinsic::kReduceMin ? ExprKind::Min : ExprKind::Max;
  const DataType t = vt.element_of();
  std::vector<int> odd;
  const std::vector<std::pair<int, int>> steps = reduce_lanes_order(vt.lanes, &odd);
  std::vector<llvm::Value*> set_aside;
  size_t next_odd = 0;
  int lanes = vt.lanes;
  for (const auto& [n, half] : steps) {
    if (n < lanes) set_aside.push_back(builder_.CreateExtractElement(v, uint64_t(odd.at(next_odd++))));
    std::vector<int> lo(static_cast<size_t>(half)), hi(static_cast<size_t>(half));
    for (int i = 0; i < half; ++i) lo[size_t(i)] = i, hi[size_t(i)] = i + half;
    llvm::Value* a = half == 1 ? builder_.CreateExtractElement(v, uint64_t(0)) : builder_.CreateShuffleVector(v, lo);
    llvm::Value* b = half == 1 ? builder_.CreateExtractElement(v, uint64_t(1)) : builder_.CreateShuffleVector(v, hi);
    v = emit_binary(kind, t.with_lanes(half), a, b);
    lanes = half;
  }
  if (v->getType()->isVectorTy()) v = builder_.CreateExtractElement(v, uint64_t(0));  // lanes == 1 is not a vector
  for (llvm::Value* x : set_aside) v = emit_binary(kind, t, v, x);
  return v;
}

llvm::Value* CodeGenLLVM::emit_call(const CallNode* op) {
  if (op->op == Intrinsic::kIfThenElse) return emit_if_then_else(op);
  if (op->op == Intrinsic::kLikely) return emit(op->args.at(0));
  if (op->op == Intrinsic::kPrefetch) return emit_prefetch(op);
  if (is_lane_reduction(op->op)) return emit_reduce_lanes(op->op, op->args.at(0).dtype(), emit(op->args.at(0)));
  std::vector<llvm::Value*> args;
  for (const Expr& a : op->args) args.push_back(emit(a));
  DataType t = op->dtype;
  if (op->op == Intrinsic::kAbs && !t.is_float()) {
    if (!t.is_int()) return args[0];
    return builder_.CreateBinaryIntrinsic(llvm::Intrinsic::abs, args[0], builder_.getFalse());
  }
  if (!t.is_float())
    fail("codegen_llvm: ", intrinsic_name(op->op), " expects float operands, got ", t.str(), " in kernel ",
         func_.name);
  if (t.bits == 16) {  // half math is done in float32 and rounded back
    DataType wide = DataType::float32().with_lanes(t.lanes);
    for (auto& a : args) a = builder_.CreateFPExt(a, llvm_type(wide));
    return builder_.CreateFPTrunc(emit_math(op->op, wide, args), llvm_type(t));
  }
  return emit_math(op->op, t, args);
}

llvm::Value* CodeGenLLVM::emit_math(Intrinsic op, DataType t, const std::vector<llvm::Value*>& args) {
  auto unary = [&](llvm::Intrinsic::ID id) { return builder_.CreateUnaryIntrinsic(id, args.at(0)); };
  llvm::Value* one = llvm::ConstantFP::get(llvm_type(t), 1.0);
  switch (op) {
    case Intrinsic::kExp: return emit_exp(t, args.at(0));
    case Intrinsic::kLog: return unary(llvm::Intrinsic::log);
    case Intrinsic::kSqrt: return unary(llvm::Intrinsic::sqrt);
    case Intrinsic::kRsqrt: return builder_.CreateFDiv(one, unary(llvm::Intrinsic::sqrt));
    case Intrinsic::kAbs: return unary(llvm::Intrinsic::fabs);
    case Intrinsic::kFloor: return unary(llvm::Intrinsic::floor);
    case Intrinsic::kCeil: return unary(llvm::Intrinsic::ceil);
    case Intrinsic::kRound: return unary(llvm::Intrinsic::round);  // half away from zero
    case Intrinsic::kFma:
      return builder_.CreateIntrinsic(llvm::Intrinsic::fma, {llvm_type(t)}, {args.at(0), args.at(1), args.at(2)});
    case Intrinsic::kSigmoid: {
      llvm::Value* e = emit_exp(t, builder_.CreateFNeg(args.at(0)));
      return builder_.CreateFDiv(one, builder_.CreateFAdd(one, e));
    }
    case Intrinsic::kTanh: return t.bits == 32 ? emit_tanh_f32(t, args.at(0)) : emit_libm("tanhf", "tanh", t, args);
    case Intrinsic::kErf: return emit_libm("erff", "erf", t, args);
    case Intrinsic::kPow: return emit_libm("powf", "pow", t, args);
    default: break;
  }
  TE_ICHECK(false, "emit_math: unexpected intrinsic ", intrinsic_name(op));
  return nullptr;
}

// exp inline, as straight-line vector code: llvm.exp on a vector is scalarized into one libm
// call per lane (there is no vector libm to rely on), which made softmax 4-5x slower than
// oneDNN. x = n*ln2 + r with n = rint(x/ln2) and |r| <= ln2/2 (Cody-Waite: ln2_hi has few
// enough bits that n*ln2_hi is exact), e^r by a polynomial, then * 2^n. float32: degree 6,
// 1 + r + r^2*q(r) with q fitted for minimax relative error (3e-9, far below float's 6e-8
// half ulp), evaluated as 1 + r*(1 + r*q(r)) (two fmas); float64: the Taylor series to r^13
// (truncation 4e-18). x is clamped first to where the result is 0 or inf anyway (compare and
// select: one vmaxps/vminps each, NaN kept). 2^n: with AVX-512, one vscalefps (y * 2^n with a
// single rounding: denormal results round correctly, overflow gives inf); elsewhere as two
// factors 2^(n/2) * 2^(n - n/2) from exponent bits, so each factor is a normal number and the
// result rounds once too. Both give the same bits. NaN is returned unchanged; -inf -> 0,
// +inf -> inf via the clamp. float32: 13 vector operations per exp with vscalef, 23 without.
llvm::Value* CodeGenLLVM::emit_exp(DataType t, llvm::Value* x) {
  const bool f64 = t.bits == 64;
  llvm::Type* ft = llvm_type(t);
  llvm::Type* it = llvm_type(DataType::int32().with_lanes(t.lanes));
  if (f64) it = llvm_type(DataType::int64().with_lanes(t.lanes));
  auto fc = [&](double v) { return llvm::ConstantFP::get(ft, v); };
  auto ic = [&](int64_t v) { return llvm::ConstantInt::get(it, v); };
  // exp(-104) < float's smallest denormal / 2, exp(89) > FLT_MAX; -746 / 710 for double.
  // (x < lo ? lo : x) is x86's max(lo, x), which returns x when x is NaN: one instruction
  // (llvm.maxnum needs three, it returns the non-NaN operand).
  llvm::Value* lo = fc(f64 ? -746.0 : -104.0), * hi = fc(f64 ? 710.0 : 89.0);
  llvm::Value* xc = builder_.CreateSelect(builder_.CreateFCmpOLT(x, lo), lo, x);
  xc = builder_.CreateSelect(builder_.CreateFCmpOGT(xc, hi), hi, xc);
  // n = round(x/ln2) by adding and subtracting 1.5*2^mantissa_bits: unlike llvm.rint it needs
  // no SSE4.1 round instruction (generic x86-64 would scalarize rint into libm calls).
  const double magic = f64 ? 0x1.8p52 : 0x1.8p23;
  llvm::Value* n = builder_.CreateFAdd(builder_.CreateFMul(xc, fc(1.4426950408889634)), fc(magic));
  n = builder_.CreateFSub(n, fc(magic));
  // ln2_hi: 9 significant bits (float; |n| <= 150) / 31 bits (double; |n| <= 1077).
  const double ln2_hi = f64 ? 0x1.62e42fee00000p-1 : 0.693359375;
  const double ln2_lo = f64 ? 1.9082149292705877e-10 : -2.12194440054690583e-4;
  llvm::Value* r = builder_.CreateFSub(xc, builder_.CreateFMul(n, fc(ln2_hi)));
  r = builder_.CreateFSub(r, builder_.CreateFMul(n, fc(ln2_lo)));
  // q(r) such that e^r = 1 + r + r^2 q(r); coefficients highest degree first.
  static const double kQ32[] = {0.00138146104, 0.00836871006, 0.041668389, 0.166665211, 0.49999994};
  static const double kQ64[] = {1.0 / 6227020800, 1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800,
                                1.0 / 362880,     1.0 / 40320,     1.0 / 5040,     1.0 / 720,
                                1.0 / 120,        1.0 / 24,        1.0 / 6,        0.5};
  const double* q_coef = f64 ? kQ64 : kQ32;
  const int q_terms = f64 ? 12 : 5;
  llvm::Value* q = fc(q_coef[0]);
  for (int k = 1; k < q_terms; ++k) q = builder_.CreateFAdd(builder_.CreateFMul(q, r), fc(q_coef[k]));
  llvm::Value* y;
  if (f64) {
    llvm::Value* r2 = builder_.CreateFMul(r, r);
    y = builder_.CreateFAdd(fc(1.0), builder_.CreateFAdd(r, builder_.CreateFMul(r2, q)));
  } else {
    y = builder_.CreateFAdd(builder_.CreateFMul(q, r), fc(1.0));
    y = builder_.CreateFAdd(builder_.CreateFMul(y, r), fc(1.0));
  }
  if (llvm::Value* scaled = emit_scalef(t, y, n)) return scaled;  // NaN propagates through vscalef
  // 2^n as two normal factors: n1 = floor(n/2), n2 = n - n1, each biased into the exponent.
  const int mantissa_bits = f64 ? 52 : 23;
  const int bias = f64 ? 1023 : 127;
  llvm::Value* ni = builder_.CreateFPToSI(n, it);
  llvm::Value* n1 = builder_.CreateAShr(ni, ic(1));
  llvm::Value* n2 = builder_.CreateSub(ni, n1);
  auto pow2 = [&](llvm::Value* e) {
    return builder_.CreateBitCast(builder_.CreateShl(builder_.CreateAdd(e, ic(bias)), ic(mantissa_bits)), ft);
  };
  llvm::Value* result = builder_.CreateFMul(builder_.CreateFMul(y, pow2(n1)), pow2(n2));
  return builder_.CreateSelect(builder_.CreateFCmpUNO(x, x), x, result);  // fptosi of NaN is poison
}

void CodeGenLLVM::detect_avx512() {
  if (avx512f_ >= 0) return;
  avx512f_ = avx512vl_ = 0;
  for (const std::string& f : enabled_features(cpu_)) {
    if (f == "avx512f") avx512f_ = 1;
    if (f == "avx512vl") avx512vl_ = 1;
  }
}

llvm::Value* CodeGenLLVM::emit_scalef(DataType t, llvm::Value* y, llvm::Value* n) {
  detect_avx512();
  if (!avx512f_ || t.lanes < 2 || (t.bits != 32 && t.bits != 64)) return nullptr;
  const int bits = t.lanes * t.bits;
  const bool f64 = t.bits == 64;
  auto call = [&](llvm::Intrinsic::ID id, llvm::Value* a, llvm::Value* b, int mask_bits, bool rounding) {
    std::vector<llvm::Value*> args = {a, b, a, llvm::ConstantInt::get(builder_.getIntNTy(unsigned(mask_bits)), -1)};
    if (rounding) args.push_back(builder_.getInt32(4));  // _MM_FROUND_CUR_DIRECTION
    return builder_.CreateCall(llvm::Intrinsic::getDeclaration(module_.get(), id), args);
  };
  if (bits == 256 && avx512vl_)
    return call(f64 ? llvm::Intrinsic::x86_avx512_mask_scalef_pd_256 : llvm::Intrinsic::x86_avx512_mask_scalef_ps_256,
                y, n, 8, false);
  if (bits == 128 && avx512vl_)
    return call(f64 ? llvm::Intrinsic::x86_avx512_mask_scalef_pd_128 : llvm::Intrinsic::x86_avx512_mask_scalef_ps_128,
                y, n, 8, false);
  if (bits % 512 != 0) return nullptr;
  // Whole zmm registers: one vscalef per 512 bits, the pieces shuffled out and back.
  const int per = 512 / t.bits, pieces = bits / 512;
  if (pieces & (pieces - 1)) return nullptr;  // concatenated pairwise below
  const llvm::Intrinsic::ID id =
      f64 ? llvm::Intrinsic::x86_avx512_mask_scalef_pd_512 : llvm::Intrinsic::x86_avx512_mask_scalef_ps_512;
  if (pieces == 1) return call(id, y, n, per, true);
  std::vector<llvm::Value*> parts;
  for (int p = 0; p < pieces; ++p) {
    std::vector<int> lanes(static_cast<size_t>(per));
    for (int i = 0; i < per; ++i) lanes[size_t(i)] = p * per + i;
    parts.push_back(call(id, builder_.CreateShuffleVector(y, lanes), builder_.CreateShuffleVector(n, lanes), per, true));
  }
  while (parts.size() > 1) {  // concatenate pairwise (pieces is a power of two: lanes <= 64)
    std::vector<llvm::Value*> next;
    for (size_t i = 0; i + 1 < parts.size(); i += 2) {
      const int w = int(llvm::cast<llvm::FixedVectorType>(parts[i]->getType())->getNumElements());
      std::vector<int> lanes(size_t(2 * w));
      for (int k = 0; k < 2 * w; ++k) lanes[size_t(k)] = k;
      next.push_back(builder_.CreateShuffleVector(parts[i], parts[i + 1], lanes));
    }
    parts = std::move(next);
  }
  return parts[0];
}

// float32 tanh inline (vectorizes, unlike the libm call): for |x| < 0.625 the odd polynomial
// x + x^3 P(x^2), P fitted for minimax relative error (9e-9); above, 1 - 2/(e^(2|x|) + 1)
// with the sign put back, which has no cancellation there (the result is >= 0.55) and
// saturates to exactly 1 through the exp clamp. NaN goes through the exp path unchanged.
llvm::Value* CodeGenLLVM::emit_tanh_f32(DataType t, llvm::Value* x) {
  llvm::Type* ft = llvm_type(t);
  auto fc = [&](double v) { return llvm::ConstantFP::get(ft, v); };
  llvm::Value* ax = builder_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  llvm::Value* x2 = builder_.CreateFMul(x, x);
  static const double kP[] = {-0.00570499059, 0.0206390899, -0.0537397154, 0.133314416, -0.333332807};
  llvm::Value* p = fc(kP[0]);
  for (int k = 1; k < 5; ++k) p = builder_.CreateFAdd(builder_.CreateFMul(p, x2), fc(kP[k]));
  llvm::Value* small = builder_.CreateFAdd(x, builder_.CreateFMul(builder_.CreateFMul(x, x2), p));
  llvm::Value* e = emit_exp(t, builder_.CreateFMul(ax, fc(2.0)));
  llvm::Value* large = builder_.CreateFSub(fc(1.0), builder_.CreateFDiv(fc(2.0), builder_.CreateFAdd(e, fc(1.0))));
  large = builder_.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, large, x);
  return builder_.CreateSelect(builder_.CreateFCmpOLT(ax, fc(0.625)), small, large);
}

// A libm call per lane (vectors are scalarized: there is no vector libm to rely on).
llvm::Value* CodeGenLLVM::emit_libm(const char* f32_name, const char* f64_name, DataType t,
                                    const std::vector<llvm::Value*>& args) {
  DataType elem = t.element_of();
  llvm::Type* scalar = llvm_type(elem);
  std::vector<llvm::Type*> params(args.size(), scalar);
  llvm::FunctionCallee fn = module_->getOrInsertFunction(elem.bits == 64 ? f64_name : f32_name,
                                                         llvm::FunctionType::get(scalar, params, false));
  if (auto* f = llvm::dyn_cast<llvm::Function>(fn.getCallee())) {
    f->setDoesNotThrow();
    f->setOnlyAccessesInaccessibleMemory();  // errno only; lets loops around it optimize
  }
  if (t.lanes == 1) return builder_.CreateCall(fn, args);
  llvm::Value* result = llvm::PoisonValue::get(llvm_type(t));
  for (int lane = 0; lane < t.lanes; ++lane) {
    std::vector<llvm::Value*> lane_args;
    for (auto* a : args) lane_args.push_back(builder_.CreateExtractElement(a, lane));
    result = builder_.CreateInsertElement(result, builder_.CreateCall(fn, lane_args), lane);
  }
  return result;
}

// Only the taken side is evaluated (it may read out of bounds otherwise, e.g. padding).
// A vector condition has no single branch: both sides are computed, but each side's loads
// are masked by the lanes that take it (masked load/gather), then selected per lane.
llvm::Value* CodeGenLLVM::emit_if_then_else(const CallNode* op) {
  llvm::Value* cond = emit(op->args.at(0));
  if (op->args[0].dtype().lanes > 1) {
    llvm::Value* outer = load_mask_;
    auto with_outer = [&](llvm::Value* m) { return outer ? builder_.CreateAnd(outer, m) : m; };
    load_mask_ = with_outer(cond);
    llvm::Value* a = emit(op->args.at(1));
    load_mask_ = with_outer(builder_.CreateNot(cond));
    llvm::Value* b = emit(op->args.at(2));
    load_mask_ = outer;
    return builder_.CreateSelect(cond, a, b);
  }
  llvm::Function* f = state_.function;
  auto* then_bb = llvm::BasicBlock::Create(ctx_, "if_then", f);
  auto* else_bb = llvm::BasicBlock::Create(ctx_, "if_else", f);
  auto* merge_bb = llvm::BasicBlock::Create(ctx_, "if_merge", f);
  builder_.CreateCondBr(cond, then_bb, else_bb);
  builder_.SetInsertPoint(then_bb);
  llvm::Value* a = emit(op->args.at(1));
  llvm::BasicBlock* then_end = builder_.GetInsertBlock();
  builder_.CreateBr(merge_bb);
  builder_.SetInsertPoint(else_bb);
  llvm::Value* b = emit(op->args.at(2));
  llvm::BasicBlock* else_end = builder_.GetInsertBlock();
  builder_.CreateBr(merge_bb);
  builder_.SetInsertPoint(merge_bb);
  llvm::PHINode* phi = builder_.CreatePHI(a->getType(), 2);
  phi->addIncoming(a, then_end);
  phi->addIncoming(b, else_end);
  return phi;
}

llvm::Value* CodeGenLLVM::emit_address(const Var& buffer, DataType elem, const Expr& index, bool* contiguous) {
  llvm::Value* base = lookup_var(buffer.get());
  llvm::Type* elem_ty = llvm_memory_type(elem);
  *contiguous = false;
  struct IndexScope {  // index arithmetic may carry nsw (see index_depth_)
    int& depth;
    explicit IndexScope(int& d) : depth(d) { ++depth; }
    ~IndexScope() { --depth; }
  } scope(index_depth_);
  if (const auto* ramp = index.as<RampNode>()) {
    if (is_one(ramp->stride)) {
      *contiguous = true;
      return builder_.CreateInBoundsGEP(elem_ty, base, emit(ramp->base));
    }
  }
  return builder_.CreateInBoundsGEP(elem_ty, base, emit(index));  // vector index → vector of pointers
}

// llvm.prefetch(address, read, locality 3 = keep in every level, data cache): prefetcht0 on x86.
// Stage::prefetch clamps the index inside the buffer, so the in-bounds address is real.
llvm::Value* CodeGenLLVM::emit_prefetch(const CallNode* op) {
  const auto* load = op->args.at(0).as<LoadNode>();
  TE_ICHECK(load && load->dtype.lanes == 1 && load->index.dtype().lanes == 1,
            "codegen_llvm: prefetch of something other than a scalar load in kernel ", func_.name);
  bool unused = false;
  llvm::Value* addr = emit_address(load->buffer, load->dtype, load->index, &unused);
  llvm::CallInst* call = builder_.CreateIntrinsic(llvm::Intrinsic::prefetch, {addr->getType()},
                                                  {addr, builder_.getInt32(0), builder_.getInt32(3), builder_.getInt32(1)});
  // llvm.prefetch is declared to read its argument's memory; after the kernel body is inlined
  // into the parallel closure, alias analysis could no longer tell that pointer from the other
  // buffers', so a prefetch of B in a GEMM's k loop kept C's accumulators from being promoted
  // to registers (stored every iteration: three times slower). A prefetch reads nothing the
  // program sees: say so at the call site (it stays, as it still touches inaccessible memory).
  call->setMemoryEffects(llvm::MemoryEffects::inaccessibleMemOnly());
  return builder_.getInt32(0);
}

llvm::Value* CodeGenLLVM::emit_load(const LoadNode* op) {
  DataType t = op->dtype;
  DataType elem = t.element_of();
  // Lanes a small constant stride apart (stride-2 pooling and convolution windows): one load of
  // the span they cover, then a shuffle keeping every stride-th element. It reads only elements
  // between the first and the last lane's; a gather costs about a cycle per lane. Under a lane
  // mask (a padded window in an if_then_else) the span load is masked too, each lane's bit
  // placed at its element, so masked-off lanes still never touch memory. (It also keeps such
  // loads away from LLVM 19's masked gathers with 64-bit indices, whose register allocation
  // gave one AVX-512 vgatherqps the same destination and index register — an illegal
  // instruction, SIGILL at run time; FuzzRegressions.MaskedStrideTwoLoadIsNotAGather.)
  const llvm::Value* lane_mask = load_mask_;
  if (lane_mask && llvm::cast<llvm::FixedVectorType>(lane_mask->getType())->getNumElements() != unsigned(t.lanes))
    lane_mask = nullptr;
  if (const auto* ramp = op->index.as<RampNode>(); ramp && (!load_mask_ || lane_mask) && t.lanes > 1 &&
                                                   ramp->lanes == t.lanes && (elem.is_float() || elem.bits >= 8)) {
    const int64_t* stride = as_const_int(ramp->stride);
    if (stride && *stride >= 2 && *stride <= 4) {
      const int span = (t.lanes - 1) * int(*stride) + 1;
      bool unused = false;
      llvm::Value* addr = emit_address(op->buffer, elem, ramp->base, &unused);
      llvm::Type* wide = llvm::FixedVectorType::get(llvm_memory_type(elem), unsigned(span));
      llvm::Value* all;
      if (!load_mask_) {
        all = builder_.CreateAlignedLoad(wide, addr, llvm::Align(elem.bytes()));
      } else {
        // element j of the span is lane j / stride's when stride divides j, else never read
        std::vector<int> spread;
        for (int j = 0; j < span; ++j) spread.push_back(j % int(*stride) == 0 ? j / int(*stride) : t.lanes);
        llvm::Value* off = llvm::Constant::getNullValue(load_mask_->getType());
        llvm::Value* span_mask = builder_.CreateShuffleVector(load_mask_, off, spread);
        all = builder_.CreateMaskedLoad(wide, addr, llvm::Align(elem.bytes()), span_mask,
                                        llvm::Constant::getNullValue(wide));
      }
      std::vector<int> picks;
      for (int lane = 0; lane < t.lanes; ++lane) picks.push_back(lane * int(*stride));
      return to_register(t, builder_.CreateShuffleVector(all, picks));
    }
  }
  bool contiguous = false;
  llvm::Value* addr = emit_address(op->buffer, elem, op->index, &contiguous);
  llvm::Align align(elem.bytes());
  llvm::Type* mem_ty = llvm_memory_type(t);
  llvm::Value* v;
  if (load_mask_ && t.lanes == 1) {
    // A scalar load inside a vector branch: run it only when some lane takes the branch.
    return emit_guarded_scalar_load(t, mem_ty, addr, align);
  }
  if (op->index.dtype().lanes != t.lanes && !contiguous)
    fail("codegen_llvm: load of ", t.str(), " from ", op->buffer.name(), " with an index of ",
         op->index.dtype().lanes, " lanes in kernel ", func_.name);
  llvm::Value* mask = load_mask_;
  if (mask && llvm::cast<llvm::FixedVectorType>(mask->getType())->getNumElements() != unsigned(t.lanes))
    mask = nullptr;  // lane counts differ (a reshaped vector): no per-lane mask applies
  llvm::Value* zero = llvm::Constant::getNullValue(mem_ty);
  if (t.lanes == 1 || (contiguous && !mask)) v = builder_.CreateAlignedLoad(mem_ty, addr, align);
  else if (contiguous) v = builder_.CreateMaskedLoad(mem_ty, addr, align, mask, zero);
  else v = builder_.CreateMaskedGather(mem_ty, addr, align, mask, mask ? zero : nullptr);
  return to_register(t, v);
}

llvm::Value* CodeGenLLVM::emit_guarded_scalar_load(DataType t, llvm::Type* mem_ty, llvm::Value* addr, llvm::Align align) {
  llvm::Value* any = builder_.CreateOrReduce(load_mask_);
  llvm::Function* f = state_.function;
  llvm::BasicBlock* before = builder_.GetInsertBlock();
  auto* load_bb = llvm::BasicBlock::Create(ctx_, "masked_scalar_load", f);
  auto* merge_bb = llvm::BasicBlock::Create(ctx_, "masked_scalar_merge", f);
  builder_.CreateCondBr(any, load_bb, merge_bb);
  builder_.SetInsertPoint(load_bb);
  llvm::Value* loaded = builder_.CreateAlignedLoad(mem_ty, addr, align);
  builder_.CreateBr(merge_bb);
  builder_.SetInsertPoint(merge_bb);
  llvm::PHINode* phi = builder_.CreatePHI(mem_ty, 2);
  phi->addIncoming(loaded, load_bb);
  phi->addIncoming(llvm::Constant::getNullValue(mem_ty), before);
  return to_register(t, phi);
}

}  // namespace te::llvm_backend
