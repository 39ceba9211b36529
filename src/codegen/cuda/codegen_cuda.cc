// CUDA C printer: one `extern "C" __global__` kernel per lowered function, or one per root
// stage of a function split by split_gpu_kernels. Thread-bound loops
// become reads of blockIdx/threadIdx (their extents are the launch configuration, checked by
// infer_gpu_launch), shared buffers `__shared__` arrays, local/intermediate buffers per-thread
// arrays, barriers `__syncthreads()`. float16 is `__half` (cuda_fp16.h) with its math done in
// float. Vector statements are printed lane by lane, except that float32x4 accesses at a
// provably 4-aligned (2-aligned) contiguous index become single float4 (float2) loads/stores.
#include "codegen/cuda/codegen_cuda.h"
#include "codegen/cuda/cuda_allreduce.h"
#include "codegen/cuda/cuda_async_copy.h"

#include <cmath>
#include <cctype>
#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "ir/simplify.h"
#include "lower/stage_name.h"
#include "te/ir_functor.h"

namespace te {

std::string cuda_c_type(DataType t) {
  DataType e = t.element_of();
  if (e.is_float()) {
    if (e.bits == 16) return "__half";
    if (e.bits == 32) return "float";
    if (e.bits == 64) return "double";
  } else if (e.is_bool()) {
    return "bool";
  } else if (e.is_int()) {
    if (e.bits == 8) return "signed char";
    if (e.bits == 16) return "short";
    if (e.bits == 32) return "int";
    if (e.bits == 64) return "long long";
  } else if (e.is_uint()) {
    if (e.bits == 8) return "unsigned char";
    if (e.bits == 16) return "unsigned short";
    if (e.bits == 32) return "unsigned int";
    if (e.bits == 64) return "unsigned long long";
  }
  fail("codegen cuda: data type ", t.str(), " is not supported on target cuda");
}

namespace {

bool is_half(DataType t) { return t.is_float() && t.bits == 16; }

// True when e is provably a multiple of k (k a power of two), from its syntax alone.
bool divisible_by(const Expr& e, int64_t k) {
  if (const int64_t* c = as_const_int(e)) return *c % k == 0;
  if (const auto* mul = e.as<MulNode>()) return divisible_by(mul->a, k) || divisible_by(mul->b, k);
  if (const auto* add = e.as<AddNode>()) return divisible_by(add->a, k) && divisible_by(add->b, k);
  if (const auto* sub = e.as<SubNode>()) return divisible_by(sub->a, k) && divisible_by(sub->b, k);
  return false;
}

// A contiguous float32x4 / float32x2 access at an element index aligned to its size (16 / 8
// bytes; buffers are at least 16-byte aligned): one float4 / float2 access, else nullptr.
const char* vector_access_type(DataType t, const Expr& index) {
  const auto* ramp = index.as<RampNode>();
  if (!ramp || !is_one(ramp->stride)) return nullptr;
  if (t == DataType::float32().with_lanes(4) && divisible_by(ramp->base, 4)) return "float4";
  if (t == DataType::float32().with_lanes(2) && divisible_by(ramp->base, 2)) return "float2";
  return nullptr;
}

class CudaPrinter : public CudaStmtPrinter {
 public:
  explicit CudaPrinter(const LoweredFunc& func) : func_(func) { used_.insert(kDynamicShared); }

  // The kernel's `extern "C" __global__` function: func_'s body, one parameter per buffer
  // argument then per size variable, in func_'s order.
  std::string print_function(const std::string& kernel_name, const GpuLaunchConfig& launch) {
    launch_ = launch;
    std::unordered_set<const VarNode*> written;
    post_order_visit(
        func_.body, [](const Expr&) {},
        [&](const Stmt& s) {
          if (const auto* st = s.as<StoreNode>()) written.insert(st->buffer.get());
          const auto* eval = s.as<EvaluateNode>();
          const auto* call = eval ? eval->value.as<CallNode>() : nullptr;
          if (call && call->op == Intrinsic::kWmmaStore) written.insert(call->args[0].as<VarNode>());
        });
    std::ostringstream params;
    for (size_t i = 0; i < func_.args.size(); ++i) {
      const BufferArg& arg = func_.args[i];
      if (i) params << ", ";
      params << (written.count(arg.data.get()) ? "" : "const ") << cuda_c_type(arg.dtype) << "* __restrict__ "
             << name_of(arg.data, arg.name);
    }
    for (const Var& v : func_.size_vars)
      params << (params.tellp() > 0 ? ", " : "") << cuda_c_type(v.dtype()) << " " << name_of(v, v.name());
    wmma_scratch_bytes_ = wmma_scratch_bytes(func_.body, launch);
    plan_dynamic_shared();
    std::string body_text = print_block(func_.body, 1);
    std::ostringstream out;
    out << "extern \"C\" __global__ void __launch_bounds__(" << launch.threads_per_block() << ") "
        << kernel_name << "(" << params.str() << ") {\n";
    if (dynamic_shared_bytes_ > 0)
      out << "  extern __shared__ __align__(" << dynamic_align_ << ") unsigned char " << kDynamicShared << "[];  // "
          << dynamic_shared_bytes_ << " bytes of dynamic shared memory, set at launch\n";
    if (wmma_scratch_bytes_ > 0)
      out << "  __shared__ __align__(32) float te_wmma_scratch[" << wmma_scratch_bytes_ / 4
          << "];  // a 16 x 16 slot per warp: float16 stores of wmma accumulators\n";
    out << body_text << "}\n";
    return out.str();
  }
  bool uses_half() const { return uses_half_; }
  bool uses_wmma() const { return uses_wmma_; }
  bool uses_async_copy() const { return uses_async_copy_; }
  int64_t dynamic_shared_bytes() const { return dynamic_shared_bytes_; }
  static std::string prologue(const std::string& comment, bool uses_half, bool uses_wmma, bool uses_async_copy) {
    std::ostringstream out;
    out << "// Generated by te for target cuda: " << comment << "\n";
    if (uses_half || uses_wmma) out << "#include <cuda_fp16.h>\n";
    if (uses_wmma) out << "#include <mma.h>\n";
    out << kHelpers << (uses_async_copy ? kCudaAsyncCopyHelpers : "") << "\n";
    return out.str();
  }

 private:
  static constexpr const char* kHelpers =
      "__device__ __forceinline__ int te_floordiv(int a, int b) { int q = a / b; return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q; }\n"
      "__device__ __forceinline__ long long te_floordiv(long long a, long long b) { long long q = a / b; return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q; }\n"
      "__device__ __forceinline__ int te_floormod(int a, int b) { int r = a % b; return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r; }\n"
      "__device__ __forceinline__ long long te_floormod(long long a, long long b) { long long r = a % b; return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r; }\n";

  // ------------------------------------------------------------ dynamic shared memory
  static constexpr const char* kDynamicShared = "te_dynamic_shared";
  // When the kernel's shared buffers (every shared Allocate; they coexist), with its
  // cross-thread reductions' slots, exceed the 48 KiB a kernel may declare statically, the
  // buffers (not the slots) become slices of one extern __shared__ array at 16-byte aligned
  // offsets — the alignment a static `__shared__ __align__(16)` array has, so storage_align's
  // padded rows fall on the same banks either way; 32-byte in a tensor-core kernel, as its
  // static wmma operands are (wmma needs it). Below the limit they stay static arrays
  // (readable, and no launch-time opt-in needed).
  void plan_dynamic_shared() {
    std::vector<std::pair<const VarNode*, int64_t>> buffers;
    int64_t total = 0;
    post_order_visit(
        func_.body, [](const Expr&) {},
        [&](const Stmt& st) {
          const auto* alloc = st.as<AllocateNode>();
          if (!alloc || alloc->scope != "shared") return;
          int64_t bytes = int64_t(alloc->dtype.bytes()) * alloc->dtype.lanes;
          for (const Expr& e : alloc->extents) {
            const std::optional<int64_t> c = simplify_to_const(e);
            if (!c) return;  // print_allocate reports it
            bytes *= *c;
          }
          buffers.emplace_back(alloc->buffer.get(), bytes);
        });
    std::reverse(buffers.begin(), buffers.end());  // outer (earlier) buffers first
    std::unordered_map<const VarNode*, int64_t> offsets;
    const int64_t align = contains_wmma(func_.body) ? 32 : 16;
    for (const auto& [buffer, bytes] : buffers) {  // the layout shared_memory_bytes counts too
      total = (total + align - 1) / align * align;
      offsets[buffer] = total;
      total += bytes;
    }
    // The cross-thread reductions' slots are static arrays either way: with them the static
    // total must stay within 48 KiB too (check_cuda_limits refuses slots alone above it).
    int64_t with_slots = total;
    for (const GpuAllreduceSharedArray& a : gpu_allreduce_shared_arrays(func_.body, launch_))
      with_slots = (with_slots + 15) / 16 * 16 + a.bytes();
    with_slots += wmma_scratch_bytes_;  // static as well
    if (with_slots <= kCudaStaticSharedBytes) return;
    dynamic_align_ = align;
    dynamic_offsets_ = std::move(offsets);
    dynamic_shared_bytes_ = total;
  }

  // ------------------------------------------------------------ names
  std::string name_of(const Var& v, const std::string& hint = "") {
    auto it = names_.find(v.get());
    if (it != names_.end()) return it->second;
    std::string base = hint.empty() ? v.name() : hint;
    std::string clean;
    for (char c : base) clean += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
    if (clean.empty() || std::isdigit(static_cast<unsigned char>(clean[0]))) clean = "v_" + clean;
    std::string name = clean;
    for (int k = 1; used_.count(name); ++k) name = clean + "_" + std::to_string(k);
    used_.insert(name);
    names_.emplace(v.get(), name);
    return name;
  }

  // ------------------------------------------------------------ expressions
  std::string float_literal(DataType t, double v) {
    char buf[64];
    if (t.bits == 64) {
      if (std::isnan(v)) return "__longlong_as_double(0x7ff8000000000000LL)";
      if (std::isinf(v)) return v > 0 ? "__longlong_as_double(0x7ff0000000000000LL)" : "__longlong_as_double(0xfff0000000000000LL)";
      std::snprintf(buf, sizeof(buf), "%.17g", v);
    } else {
      if (std::isnan(v)) return is_half(t) ? "__float2half(__int_as_float(0x7fc00000))" : "__int_as_float(0x7fc00000)";
      if (std::isinf(v)) {
        std::string f = v > 0 ? "__int_as_float(0x7f800000)" : "__int_as_float(0xff800000)";
        return is_half(t) ? "__float2half(" + f + ")" : f;
      }
      std::snprintf(buf, sizeof(buf), "%.9g", v);
    }
    std::string s = buf;
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    if (t.bits == 64) return s;
    s += "f";
    return is_half(t) ? "__float2half(" + s + ")" : s;
  }

  std::string int_literal(DataType t, int64_t v) {
    if (t.is_bool()) return v ? "true" : "false";
    if (t.bits == 64) return v == INT64_MIN ? "(-9223372036854775807LL - 1)" : std::to_string(v) + "LL";
    if (t.is_int() && t.bits == 32 && v == INT32_MIN) return "(-2147483647 - 1)";
    std::string s = std::to_string(v);
    if (t.is_uint()) s += "u";
    return t.bits == 32 ? s : "((" + cuda_c_type(t) + ")" + s + ")";
  }

  // A float expression `x` of dtype t as float arithmetic (half is widened).
  std::string as_float(DataType t, const std::string& x) { return is_half(t) ? "__half2float(" + x + ")" : x; }
  std::string from_float(DataType t, const std::string& x) { return is_half(t) ? "__float2half(" + x + ")" : x; }

  std::string math_call(DataType t, const char* f32_name, const std::vector<std::string>& args) {
    std::string name = f32_name;
    if (t.bits == 64) name.pop_back();  // expf → exp
    std::string call = name + "(";
    for (size_t i = 0; i < args.size(); ++i) call += (i ? ", " : "") + as_float(t, args[i]);
    return from_float(t, call + ")");
  }

  std::string print_call(const CallNode* op, int lane) {
    DataType t = op->dtype.element_of();
    // vectorize_loops makes lane reductions for the llvm target only (the CUDA backend's vector
    // code is printed lane by lane, where a serial reduction costs the same).
    TE_ICHECK(!is_lane_reduction(op->op) && op->op != Intrinsic::kPrefetch, "codegen cuda: ",
              intrinsic_name(op->op), " is made for llvm only");
    std::vector<std::string> a;
    if (op->op != Intrinsic::kIfThenElse)
      for (const Expr& arg : op->args) a.push_back(print(arg, lane));
    switch (op->op) {
      case Intrinsic::kIfThenElse:
        return "(" + print(op->args[0], lane) + " ? " + print(op->args[1], lane) + " : " + print(op->args[2], lane) + ")";
      case Intrinsic::kLikely: return "(" + a[0] + ")";
      case Intrinsic::kReduceAdd: case Intrinsic::kReduceMin: case Intrinsic::kReduceMax: break;
      case Intrinsic::kPrefetch: break;  // strip_prefetch removed it
      case Intrinsic::kWmmaFill: case Intrinsic::kWmmaLoad: case Intrinsic::kWmmaMma: case Intrinsic::kWmmaStore:
        break;  // statements (print_wmma)
      case Intrinsic::kCpAsync: case Intrinsic::kCpAsyncCommit: case Intrinsic::kCpAsyncWait:
        break;  // statements (print_cuda_async_copy)
      case Intrinsic::kExp: return math_call(t, "expf", a);
      case Intrinsic::kLog: return math_call(t, "logf", a);
      case Intrinsic::kSqrt: return math_call(t, "sqrtf", a);
      case Intrinsic::kRsqrt: return math_call(t, "rsqrtf", a);
      case Intrinsic::kTanh: return math_call(t, "tanhf", a);
      case Intrinsic::kErf: return math_call(t, "erff", a);
      case Intrinsic::kPow: return math_call(t, "powf", a);
      case Intrinsic::kFloor: return math_call(t, "floorf", a);
      case Intrinsic::kCeil: return math_call(t, "ceilf", a);
      case Intrinsic::kRound: return math_call(t, "roundf", a);
      case Intrinsic::kFma: return math_call(t, "fmaf", a);
      case Intrinsic::kAbs:
        if (!t.is_float()) return (t.bits == 64 ? "llabs(" : "abs(") + a[0] + ")";
        return math_call(t, "fabsf", a);
      case Intrinsic::kSigmoid: {
        std::string x = as_float(t, a[0]);
        std::string one = t.bits == 64 ? "1.0" : "1.0f";
        std::string e = t.bits == 64 ? "exp" : "expf";
        return from_float(t, "(" + one + " / (" + one + " + " + e + "(-(" + x + "))))");
      }
    }
    TE_ICHECK(false, "codegen cuda: unknown intrinsic");
    return "";
  }

  std::string print_binary(const Expr& e, int lane) {
    BinaryOperands ops = binary_operands(e);
    DataType t = ops.a->dtype().element_of();
    std::string a = print(*ops.a, lane), b = print(*ops.b, lane);
    auto infix = [&](const char* op) { return "(" + a + " " + op + " " + b + ")"; };
    switch (e->kind) {
      case ExprKind::Add: return infix("+");
      case ExprKind::Sub: return infix("-");
      case ExprKind::Mul: return infix("*");
      case ExprKind::Div: return infix("/");
      case ExprKind::Mod:
        if (t.is_float()) return math_call(t, "fmodf", {a, b});
        return infix("%");
      case ExprKind::FloorDiv:
        if (t.is_float()) return from_float(t, (t.bits == 64 ? "floor(" : "floorf(") + as_float(t, a) + " / " + as_float(t, b) + ")");
        return "te_floordiv(" + a + ", " + b + ")";
      case ExprKind::FloorMod:
        if (t.is_float()) {
          std::string fa = as_float(t, a), fb = as_float(t, b);
          return from_float(t, "(" + fa + " - " + (t.bits == 64 ? "floor(" : "floorf(") + fa + " / " + fb + ") * " + fb + ")");
        }
        return "te_floormod(" + a + ", " + b + ")";
      case ExprKind::Min:
      case ExprKind::Max: {
        bool is_min = e->kind == ExprKind::Min;
        if (is_half(t)) return std::string(is_min ? "__hmin(" : "__hmax(") + a + ", " + b + ")";
        if (t.is_float()) return std::string(is_min ? "fmin" : "fmax") + (t.bits == 64 ? "(" : "f(") + a + ", " + b + ")";
        return std::string(is_min ? "min(" : "max(") + a + ", " + b + ")";
      }
      case ExprKind::EQ: return infix("==");
      case ExprKind::NE: return infix("!=");
      case ExprKind::LT: return infix("<");
      case ExprKind::LE: return infix("<=");
      case ExprKind::GT: return infix(">");
      case ExprKind::GE: return infix(">=");
      case ExprKind::And: return infix("&&");
      case ExprKind::Or: return infix("||");
      default: break;
    }
    TE_ICHECK(false, "codegen cuda: not a binary node");
    return "";
  }

  std::string print_cast(const CastNode* op, int lane) {
    DataType to = op->dtype.element_of(), from = op->value.dtype().element_of();
    std::string v = print(op->value, lane);
    if (to == from) return v;
    if (to.is_bool()) return "(" + (is_half(from) ? "__half2float(" + v + ")" : v) + " != 0)";
    if (is_half(to)) {
      uses_half_ = true;
      return "__float2half((float)(" + v + "))";
    }
    if (is_half(from)) return "((" + cuda_c_type(to) + ")__half2float(" + v + "))";
    return "((" + cuda_c_type(to) + ")(" + v + "))";
  }

  // Lane `lane` of e (lane -1: e is scalar).
  std::string print(const Expr& e, int lane = -1) {
    if (is_half(e.dtype())) uses_half_ = true;
    switch (e->kind) {
      case ExprKind::IntImm: return int_literal(e.dtype(), e.as<IntImmNode>()->value);
      case ExprKind::FloatImm: return float_literal(e.dtype(), e.as<FloatImmNode>()->value);
      case ExprKind::Var: return name_of(Var(e.as<VarNode>()));
      case ExprKind::Not: return "(!" + print(e.as<NotNode>()->a, lane) + ")";
      case ExprKind::Select: {
        const auto* op = e.as<SelectNode>();
        return "(" + print(op->condition, lane) + " ? " + print(op->true_value, lane) + " : " +
               print(op->false_value, lane) + ")";
      }
      case ExprKind::Cast: return print_cast(e.as<CastNode>(), lane);
      case ExprKind::Call: return print_call(e.as<CallNode>(), lane);
      case ExprKind::Load: {
        const auto* op = e.as<LoadNode>();
        if (op->dtype.is_vector()) {
          auto it = hoisted_.find(op);
          if (it != hoisted_.end()) return it->second + "." + "xyzw"[lane];
        }
        return name_of(op->buffer) + "[" + print(op->index, lane) + "]";
      }
      case ExprKind::Ramp: {
        const auto* op = e.as<RampNode>();
        TE_ICHECK(lane >= 0, "codegen cuda: a Ramp in a scalar context");
        return "(" + print(op->base) + " + " + print(op->stride) + " * " + std::to_string(lane) + ")";
      }
      case ExprKind::Broadcast: return print(e.as<BroadcastNode>()->value);
      case ExprKind::Let: {
        const auto* op = e.as<LetNode>();
        return "([&]() -> " + cuda_c_type(op->dtype) + " { " + cuda_c_type(op->var.dtype()) + " " + name_of(op->var) +
               " = " + print(op->value, lane) + "; return " + print(op->body, lane) + "; })()";
      }
      case ExprKind::TensorRead:
      case ExprKind::Reduce:
        TE_ICHECK(false, "codegen cuda: ", kind_name(e->kind), " left after lowering");
        return "";
      default: return print_binary(e, lane);
    }
  }

  // ------------------------------------------------------------ statements
  static std::string pad(int indent) { return std::string(2 * indent, ' '); }

  std::string print_block(const Stmt& s, int indent) {
    std::ostringstream out;
    print_stmt(s, indent, out);
    return out.str();
  }

  // Hoists float4 / float2 loads of a vector statement into temporaries (not under if_then_else,
  // whose untaken branch must not be read).
  void hoist_vector_loads(const Expr& value, int indent, std::ostringstream& out) {
    std::function<void(const Expr&, bool)> walk = [&](const Expr& e, bool guarded) {
      if (const auto* call = e.as<CallNode>()) {
        bool g = guarded || call->op == Intrinsic::kIfThenElse;
        for (size_t i = 0; i < call->args.size(); ++i) walk(call->args[i], g && !(call->op == Intrinsic::kIfThenElse && i == 0));
        return;
      }
      if (const auto* load = e.as<LoadNode>()) {
        const char* vtype = vector_access_type(load->dtype, load->index);
        if (!guarded && vtype && !hoisted_.count(load)) {
          std::string tmp = "v" + std::to_string(load->dtype.lanes) + "_" + std::to_string(hoisted_.size());
          out << pad(indent) << "const " << vtype << " " << tmp << " = *(const " << vtype << "*)(" << name_of(load->buffer) << " + "
              << print(load->index.as<RampNode>()->base) << ");\n";
          hoisted_.emplace(load, tmp);
        }
        return;
      }
      post_order_visit_children(e, [&](const Expr& c) { walk(c, guarded); });
    };
    walk(value, false);
  }
  static void post_order_visit_children(const Expr& e, const std::function<void(const Expr&)>& f) {
    BinaryOperands ops = binary_operands(e);
    if (ops.a) {
      f(*ops.a);
      f(*ops.b);
      return;
    }
    if (const auto* n = e.as<NotNode>()) f(n->a);
    else if (const auto* s = e.as<SelectNode>()) { f(s->condition); f(s->true_value); f(s->false_value); }
    else if (const auto* c = e.as<CastNode>()) f(c->value);
    else if (const auto* b = e.as<BroadcastNode>()) f(b->value);
    else if (const auto* r = e.as<RampNode>()) { f(r->base); f(r->stride); }
    else if (const auto* l = e.as<LetNode>()) { f(l->value); f(l->body); }
  }

  // A float16 vector copy of 8, 4 or 2 contiguous elements, both sides aligned to its size (as
  // the shared tiles of tensor-core kernels are filled): the unsigned type of its size.
  static const char* half_copy_type(const StoreNode* op) {
    const DataType t = op->value.dtype();
    const auto* load = op->value.as<LoadNode>();
    if (!load || t.element_of() != DataType::float16()) return nullptr;
    const auto* to = op->index.as<RampNode>();
    const auto* from = load->index.as<RampNode>();
    if (!to || !from || !is_one(to->stride) || !is_one(from->stride) || !divisible_by(to->base, t.lanes) ||
        !divisible_by(from->base, t.lanes))
      return nullptr;
    return t.lanes == 8 ? "uint4" : t.lanes == 4 ? "uint2" : t.lanes == 2 ? "unsigned int" : nullptr;
  }

  void print_store(const StoreNode* op, int indent, std::ostringstream& out) {
    std::string buf = name_of(op->buffer);
    DataType t = op->value.dtype();
    if (t.is_scalar()) {
      out << pad(indent) << buf << "[" << print(op->index) << "] = " << print(op->value) << ";\n";
      return;
    }
    if (const char* bits = half_copy_type(op)) {  // one 16/8/4-byte move instead of 8/4/2 __half ones
      const auto* load = op->value.as<LoadNode>();
      out << pad(indent) << "*(" << bits << "*)(" << buf << " + " << print(op->index.as<RampNode>()->base)
          << ") = *(const " << bits << "*)(" << name_of(load->buffer) << " + "
          << print(load->index.as<RampNode>()->base) << ");\n";
      return;
    }
    out << pad(indent) << "{\n";
    hoist_vector_loads(op->value, indent + 1, out);
    if (const char* vtype = vector_access_type(t, op->index)) {
      out << pad(indent + 1) << "*(" << vtype << "*)(" << buf << " + " << print(op->index.as<RampNode>()->base)
          << ") = make_" << vtype << "(";
      for (int l = 0; l < t.lanes; ++l) out << (l ? ", " : "") << print(op->value, l);
      out << ");\n";
    } else {
      for (int l = 0; l < t.lanes; ++l)
        out << pad(indent + 1) << buf << "[" << print(op->index, l) << "] = " << print(op->value, l) << ";\n";
    }
    out << pad(indent) << "}\n";
    hoisted_.clear();  // the temporaries live in this block only (a Load node may be shared)
  }

  void print_allocate(const AllocateNode* op, int indent, std::ostringstream& out) {
    int64_t size = 1;
    for (const Expr& extent : op->extents) {
      const std::optional<int64_t> c = simplify_to_const(extent);
      if (!c)
        fail("stage ", op->buffer.name(), ": its buffer (scope ", op->scope, ") has the non-constant extent ",
             to_string(extent), "; buffers inside a CUDA kernel need a constant size (split by a constant factor)");
      size *= *c;
    }
    auto dynamic = dynamic_offsets_.find(op->buffer.get());
    if (op->scope == "shared" && dynamic != dynamic_offsets_.end()) {
      out << pad(indent) << cuda_c_type(op->dtype) << "* const " << name_of(op->buffer) << " = (" << cuda_c_type(op->dtype)
          << "*)(" << kDynamicShared << " + " << dynamic->second << ");  // scope shared, " << size
          << " elements of the dynamic shared memory\n";
      print_stmt(op->body, indent, out);
      return;
    }
    if (is_wmma_scope(op->scope)) {
      print_fragments(op, size, indent, out);
      return;
    }
    std::string qualifier = op->scope == "shared" ? "__shared__ " : "";
    // A wmma load or store needs its first element 32-byte aligned.
    const int align = wmma_memory_operand(op->body, op->buffer.get()) ? 32 : 16;
    out << pad(indent) << qualifier << "__align__(" << align << ") " << cuda_c_type(op->dtype) << " "
        << name_of(op->buffer) << "[" << size << "];  // scope " << op->scope << "\n";
    print_stmt(op->body, indent, out);
  }

  // ------------------------------------------------------------ tensor cores (wmma)
  static constexpr const char* kLinearThread = "(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z))";
  // The per-warp slots float16 wmma stores round through (0 without such stores).
  static int64_t wmma_scratch_bytes(const Stmt& s, const GpuLaunchConfig& launch) {
    bool rounds = false;
    post_order_visit(s, [&](const Expr& e) {
      const auto* call = e.as<CallNode>();
      if (call && call->op == Intrinsic::kWmmaStore && call->args[6].dtype() == DataType::float16()) rounds = true;
    });
    return rounds ? (launch.threads_per_block() + 31) / 32 * 256 * 4 : 0;
  }
  static bool contains_wmma(const Stmt& s) {
    bool found = false;
    post_order_visit(s, [&](const Expr& e) {
      if (const auto* call = e.as<CallNode>(); call && is_wmma(call->op)) found = true;
    });
    return found;
  }
  // Whether buffer is the memory operand of a wmma load or store in s.
  static bool wmma_memory_operand(const Stmt& s, const VarNode* buffer) {
    bool found = false;
    post_order_visit(s, [&](const Expr& e) {
      const auto* call = e.as<CallNode>();
      if (!call) return;
      if (call->op == Intrinsic::kWmmaLoad && call->args[2].get() == buffer) found = true;
      if (call->op == Intrinsic::kWmmaStore && call->args[0].get() == buffer) found = true;
    });
    return found;
  }
  // A fragment buffer: size / 256 nvcuda::wmma fragments; matrix_a / matrix_b fragments are
  // typed with the layout their loads read (tensorize_wmma gives each one load layout).
  void print_fragments(const AllocateNode* op, int64_t size, int indent, std::ostringstream& out) {
    uses_wmma_ = true;
    std::string kind = op->scope.substr(5), layout;
    if (kind != "accumulator") {
      std::set<int64_t> layouts;
      post_order_visit(op->body, [&](const Expr& e) {
        const auto* call = e.as<CallNode>();
        if (call && call->op == Intrinsic::kWmmaLoad && call->args[0].get() == op->buffer.get())
          layouts.insert(*as_const_int(call->args[5]));
      });
      if (layouts.size() > 1)
        fail("stage ", op->buffer.name(), " is loaded both row-major and column-major; a fragment has one layout");
      layout = layouts.count(1) ? ", nvcuda::wmma::col_major" : ", nvcuda::wmma::row_major";
    }
    out << pad(indent) << "nvcuda::wmma::fragment<nvcuda::wmma::" << kind << ", 16, 16, 16, "
        << (kind == "accumulator" ? "float" : "__half") << layout << "> " << name_of(op->buffer) << "[" << size / 256
        << "];  // scope " << op->scope << ", " << size << " elements\n";
    print_stmt(op->body, indent, out);
  }
  // The statement a wmma call prints as.
  std::string print_wmma(const CallNode* op) {
    uses_wmma_ = true;
    auto a = [&](size_t i) { return print(op->args[i]); };
    auto fragment = [&](size_t i) { return a(i) + "[" + a(i + 1) + "]"; };
    switch (op->op) {
      case Intrinsic::kWmmaFill: return "nvcuda::wmma::fill_fragment(" + fragment(0) + ", " + a(2) + ");";
      case Intrinsic::kWmmaLoad:
        return "nvcuda::wmma::load_matrix_sync(" + fragment(0) + ", &" + a(2) + "[" + a(3) + "], " + a(4) + ");";
      case Intrinsic::kWmmaMma:
        return "nvcuda::wmma::mma_sync(" + fragment(0) + ", " + fragment(2) + ", " + fragment(4) + ", " + fragment(6) +
               ");";
      default: {
        std::string layout = *as_const_int(op->args[3]) ? "nvcuda::wmma::mem_col_major" : "nvcuda::wmma::mem_row_major";
        std::string store = "nvcuda::wmma::store_matrix_sync(&" + a(0) + "[" + a(1) + "], ";
        if (!is_half(op->args[6].dtype())) return store + fragment(4) + ", " + a(2) + ", " + layout + ");";
        // Rounded to float16: which lane holds which element of a fragment is unspecified (and
        // may differ between float and half fragments), so the tile goes through the warp's
        // 16 x 16 float slot of shared memory, laid out as the destination (row- or
        // column-major), and lane l rounds the slot's elements 8l .. 8l + 7 — half a row (column)
        // — and stores them as one 16-byte move: the destination's first element is 32-byte
        // aligned and its leading dimension a multiple of 16 bytes (tensorize_wmma proves both).
        return std::string("{ float* te_slot = te_wmma_scratch + ") + kLinearThread + " / 32 * 256; " +
               "nvcuda::wmma::store_matrix_sync(te_slot, " + fragment(4) + ", 16, " + layout + "); __syncwarp(); " +
               "const int te_l = " + kLinearThread + " % 32; __align__(16) __half2 te_h[4]; " +
               "for (int te_e = 0; te_e < 4; ++te_e) te_h[te_e] = __floats2half2_rn(te_slot[te_l * 8 + 2 * te_e], " +
               "te_slot[te_l * 8 + 2 * te_e + 1]); *(uint4*)(" + a(0) + " + (" + a(1) + ") + te_l / 2 * (" + a(2) +
               ") + te_l % 2 * 8) = *(const uint4*)te_h; __syncwarp(); }";
      }
    }
  }

  void print_for(const ForNode* op, int indent, std::ostringstream& out) {
    std::string var = name_of(op->loop_var);
    std::string type = cuda_c_type(op->loop_var.dtype());
    TE_ICHECK(op->thread_tag != "vthread", "codegen cuda: a vthread loop left after inject_virtual_thread");
    if (op->for_kind == ForKind::kThreadBinding) {
      bool is_block = false;
      int dim = 0;
      parse_thread_tag(op->thread_tag, &is_block, &dim);
      const std::optional<int64_t> extent = simplify_to_const(op->extent);
      if (!is_block && extent && *extent < launch_.block[dim]) {  // this stage uses fewer threads
        out << pad(indent) << "if (" << op->thread_tag << " < " << *extent << ") {\n";
        print_thread_var(op, indent + 1, out);
        out << pad(indent) << "}\n";
        return;
      }
      print_thread_var(op, indent, out);
      return;
    }
    if (op->for_kind == ForKind::kUnrolled) out << pad(indent) << "#pragma unroll\n";
    std::string min = print(op->min);
    out << pad(indent) << "for (" << type << " " << var << " = " << min << "; " << var << " < " << min << " + "
        << print(op->extent) << "; ++" << var << ") {\n";
    print_stmt(op->body, indent + 1, out);
    out << pad(indent) << "}\n";
  }

  void print_thread_var(const ForNode* op, int indent, std::ostringstream& out) {
    std::string var = name_of(op->loop_var);
    std::string type = cuda_c_type(op->loop_var.dtype());
    {
      out << pad(indent) << "{\n" << pad(indent + 1) << type << " " << var << " = (" << type << ")" << op->thread_tag;
      if (!is_zero(op->min)) out << " + " << print(op->min);
      out << ";\n";
      print_stmt(op->body, indent + 1, out);
      out << pad(indent) << "}\n";
    }
  }

  // ------------------------------------------------------------ CudaStmtPrinter (cuda_allreduce.cc)
  std::string buffer_name(const Var& v) override { return name_of(v); }

  // A kernel-unique C name not bound to any IR variable.
  std::string fresh(const std::string& hint) override {
    std::string name = hint;
    for (int k = 1; used_.count(name); ++k) name = hint + "_" + std::to_string(k);
    used_.insert(name);
    return name;
  }

  void print_stmt(const Stmt& s, int indent, std::ostringstream& out) override {
    if (!s.defined()) return;
    switch (s->kind) {
      case StmtKind::LetStmt: {
        const auto* op = s.as<LetStmtNode>();
        out << pad(indent) << "{\n" << pad(indent + 1) << cuda_c_type(op->var.dtype()) << " " << name_of(op->var)
            << " = " << print(op->value) << ";\n";
        print_stmt(op->body, indent + 1, out);
        out << pad(indent) << "}\n";
        return;
      }
      case StmtKind::AttrStmt: {
        const auto* op = s.as<AttrStmtNode>();
        if (op->key == kGpuBarrierAttr) {
          out << pad(indent) << "__syncthreads();\n";
          return;
        }
        if (op->key == kGpuAllreduceAttr) {
          print_cuda_allreduce(op, launch_, *this, indent, out);
          return;
        }
        print_stmt(op->body, indent, out);
        return;
      }
      case StmtKind::For: print_for(s.as<ForNode>(), indent, out); return;
      case StmtKind::Store: print_store(s.as<StoreNode>(), indent, out); return;
      case StmtKind::Allocate: print_allocate(s.as<AllocateNode>(), indent, out); return;
      case StmtKind::Seq:
        for (const Stmt& c : s.as<SeqNode>()->seq) print_stmt(c, indent, out);
        return;
      case StmtKind::IfThenElse: {
        const auto* op = s.as<IfThenElseNode>();
        out << pad(indent) << "if (" << print(op->condition) << ") {\n";
        print_stmt(op->then_case, indent + 1, out);
        if (op->else_case.defined()) {
          out << pad(indent) << "} else {\n";
          print_stmt(op->else_case, indent + 1, out);
        }
        out << pad(indent) << "}\n";
        return;
      }
      case StmtKind::Evaluate: {
        const Expr& v = s.as<EvaluateNode>()->value;
        const auto* call = v.as<CallNode>();
        if (call && is_wmma(call->op)) {
          out << pad(indent) << print_wmma(call) << "\n";
        } else if (call && is_async_copy(call->op)) {
          uses_async_copy_ = true;
          out << pad(indent) << print_cuda_async_copy(call, *this, [this](const Expr& e) { return print(e); }) << "\n";
        } else if (!as_const_int(v)) {
          out << pad(indent) << "(void)(" << print(v) << ");\n";
        }
        return;
      }
      case StmtKind::TensorStore:
      case StmtKind::Realize:
        TE_ICHECK(false, "codegen cuda: ", kind_name(s->kind), " left after lowering");
        return;
    }
  }

  const LoweredFunc& func_;
  std::unordered_map<const VarNode*, std::string> names_;
  std::unordered_set<std::string> used_;
  std::unordered_map<const LoadNode*, std::string> hoisted_;
  bool uses_half_ = false;
  bool uses_wmma_ = false;
  bool uses_async_copy_ = false;
  int64_t wmma_scratch_bytes_ = 0;  // te_wmma_scratch's size (float16 wmma stores), set per kernel
  GpuLaunchConfig launch_;
  std::unordered_map<const VarNode*, int64_t> dynamic_offsets_;  // shared buffer → byte offset
  int64_t dynamic_shared_bytes_ = 0;
  int64_t dynamic_align_ = 16;  // of the dynamic shared array and its slices
};

}  // namespace

namespace {

// The buffers (func's arguments, then the intermediates) and size variables `body` uses, in
// func's order: the parameters of one kernel of a split function.
LoweredFunc kernel_func(const LoweredFunc& func, const GpuKernelSplit& split, CudaKernelInfo* info) {
  std::unordered_set<const VarNode*> used;
  post_order_visit(
      info->body,
      [&](const Expr& e) {
        if (const auto* v = e.as<VarNode>()) used.insert(v);
        if (const auto* load = e.as<LoadNode>()) used.insert(load->buffer.get());
      },
      [&](const Stmt& s) {
        if (const auto* st = s.as<StoreNode>()) used.insert(st->buffer.get());
      });
  LoweredFunc kf;
  kf.name = func.name;
  kf.body = info->body;
  for (size_t i = 0; i < func.args.size(); ++i)
    if (used.count(func.args[i].data.get())) {
      kf.args.push_back(func.args[i]);
      info->buffers.push_back(int(i));
    }
  for (size_t i = 0; i < split.intermediates.size(); ++i) {
    const GpuIntermediate& im = split.intermediates[i];
    if (!used.count(im.buffer.get())) continue;
    BufferArg arg;
    arg.name = im.buffer.name();
    arg.data = im.buffer;
    arg.dtype = im.dtype;
    arg.shape = im.extents;
    kf.args.push_back(arg);
    info->buffers.push_back(-1 - int(i));
  }
  for (size_t i = 0; i < func.size_vars.size(); ++i)
    if (used.count(func.size_vars[i].get())) {
      kf.size_vars.push_back(func.size_vars[i]);
      info->size_vars.push_back(int(i));
    }
  return kf;
}

}  // namespace

CudaKernelSource codegen_cuda(const LoweredFunc& func) {
  for (char c : func.name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      fail("codegen cuda: kernel name '", func.name, "' must be a C identifier (letters, digits, _)");
  GpuKernelSplit split = split_gpu_kernels(func.body, func.name);
  CudaKernelSource source;
  source.intermediates = split.intermediates;
  if (split.single()) {
    // One kernel taking every argument and size variable (the output single-kernel users know).
    CudaKernelInfo info;
    info.name = func.name + "_kernel";
    info.launch = split.kernels[0].launch;
    info.body = func.body;
    for (size_t i = 0; i < func.args.size(); ++i) info.buffers.push_back(int(i));
    for (size_t i = 0; i < func.size_vars.size(); ++i) info.size_vars.push_back(int(i));
    CudaPrinter printer(func);
    std::string function = printer.print_function(info.name, info.launch);
    info.dynamic_shared_bytes = printer.dynamic_shared_bytes();
    source.code = CudaPrinter::prologue("kernel " + func.name, printer.uses_half(), printer.uses_wmma(),
                                        printer.uses_async_copy()) +
                  function;
    source.kernels.push_back(info);
  } else {
    std::string functions;
    bool uses_half = false, uses_wmma = false, uses_async_copy = false;
    for (size_t k = 0; k < split.kernels.size(); ++k) {
      CudaKernelInfo info;
      info.name = func.name + "_kernel" + std::to_string(k);
      info.launch = split.kernels[k].launch;
      info.body = split.kernels[k].body;
      info.stage = split.kernels[k].stage;
      LoweredFunc kf = kernel_func(func, split, &info);
      CudaPrinter printer(kf);
      functions += detail::cat(k ? "\n" : "", "// launch ", k, ": stage ", info.stage, "\n") +
                   printer.print_function(info.name, info.launch);
      info.dynamic_shared_bytes = printer.dynamic_shared_bytes();
      uses_half = uses_half || printer.uses_half();
      uses_wmma = uses_wmma || printer.uses_wmma();
      uses_async_copy = uses_async_copy || printer.uses_async_copy();
      source.kernels.push_back(info);
    }
    std::string comment = detail::cat("function ", func.name, " as ", split.kernels.size(),
                                      " kernels launched in order");
    if (!split.intermediates.empty()) {
      comment += "; the host allocates the intermediate";
      comment += split.intermediates.size() > 1 ? "s" : "";
      for (size_t i = 0; i < split.intermediates.size(); ++i)
        comment += (i ? ", " : " ") + split.intermediates[i].buffer.name();
      comment += " on the device";
    }
    source.code = CudaPrinter::prologue(comment, uses_half, uses_wmma, uses_async_copy) + functions;
  }
  source.kernel_name = source.kernels[0].name;
  source.launch = source.kernels[0].launch;
  return source;
}

}  // namespace te
